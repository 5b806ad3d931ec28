use super::*;

fn d() -> &'static Divisions {
    Divisions::embedded()
}

fn code(q: &str) -> String {
    resolve(d(), q).unwrap_or_else(|e| panic!("{q}: {e}")).code
}

#[test]
fn names_with_and_without_parents_and_suffixes() {
    for q in [
        "兰考县",
        "兰考",
        "开封市兰考县",
        "开封兰考",
        "河南省开封市兰考县",
        "河南兰考县",
        "河南省 / 开封市 / 兰考县",
        " 410225 ",
    ] {
        assert_eq!(code(q), "410225", "{q}");
    }
    assert_eq!(code("开封市"), "410200");
    assert_eq!(code("河南省"), "410000");
    assert_eq!(code("41"), "410000");
    assert_eq!(code("4102"), "410200");
    assert_eq!(code("广西壮族自治区"), "450000");
    assert_eq!(code("广西"), "450000");
    assert_eq!(code("新疆"), "650000");
    assert_eq!(code("内蒙古"), "150000");
    assert_eq!(code("长阳"), "420528");
    assert_eq!(code("黔西南"), "522300");
    assert_eq!(code("邵武"), "350781");
    // Municipalities: no prefecture in the path.
    assert_eq!(code("北京市朝阳区"), "110105");
    assert_eq!(code("北京朝阳"), "110105");
    // The full name wins over a short form: 吉林市 is the city, not the province.
    assert_eq!(code("吉林市"), "220200");
    let f = resolve(d(), "兰考").unwrap();
    assert_eq!(f.level, Level::County);
    assert_eq!(f.path, ["河南省", "开封市", "兰考县"]);
    assert_eq!(f.to_string(), "410225 河南省开封市兰考县 (hn kf lk)");
}

#[test]
fn ambiguous_names_list_every_candidate_with_code_path_and_initials() {
    let Err(ResolveError::Ambiguous { candidates, .. }) = resolve(d(), "朝阳区") else {
        panic!("朝阳区 is ambiguous")
    };
    let lines: Vec<String> = candidates.iter().map(ToString::to_string).collect();
    assert_eq!(
        lines,
        [
            "110105 北京市朝阳区 (bj cy)",
            "220104 吉林省长春市朝阳区 (jl cc cy)"
        ]
    );
    let e = resolve(d(), "鼓楼区").unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("pass the code or the fuller name"), "{msg}");
    for c in ["320106", "350102", "410204", "320302"] {
        assert!(msg.contains(c), "{c} in {msg}");
    }
    // Two levels share a short name: both listed, the province first.
    let Err(ResolveError::Ambiguous { candidates, .. }) = resolve(d(), "吉林") else {
        panic!("吉林 is ambiguous")
    };
    let codes: Vec<&str> = candidates.iter().map(|c| c.code.as_str()).collect();
    assert_eq!(codes, ["220000", "220200"]);
}

#[test]
fn unknown_names_and_codes_say_so_with_suggestions() {
    let e = resolve(d(), "不存在县").unwrap_err();
    assert!(matches!(e, ResolveError::Unknown { .. }));
    assert!(
        e.to_string().starts_with(
            "no county/district, prefecture-level city or province is named `不存在县`"
        )
    );
    // One character off: suggested.
    let Err(ResolveError::Unknown { suggestions, .. }) = resolve(d(), "兰烤县") else {
        panic!()
    };
    assert_eq!(suggestions[0].code, "410225");
    // A township: init takes its county.
    let Err(ResolveError::Unknown { lower, .. }) = resolve(d(), "晒口街道") else {
        panic!()
    };
    assert_eq!(lower[0].level, Level::Township);
    assert!(lower[0].code.starts_with("350781"));
    assert!(
        resolve(d(), "晒口街道")
            .unwrap_err()
            .to_string()
            .contains("m110 init --division 350781")
    );
    assert!(matches!(
        resolve(d(), "999999"),
        Err(ResolveError::UnknownCode(_))
    ));
    assert!(matches!(
        resolve(d(), "12345"),
        Err(ResolveError::UnknownCode(_))
    ));
    let e = resolve(d(), &d().streets_of("410225")[0].code).unwrap_err();
    assert!(matches!(e, ResolveError::BelowCounty { .. }));
    assert!(e.to_string().contains("use 410225"), "{e}");
}

#[test]
fn short_names_leave_off_the_level_and_ethnic_groups() {
    assert_eq!(short_name("兰考县", Level::County), Some("兰考"));
    assert_eq!(short_name("城区", Level::County), None);
    assert_eq!(short_name("浦东新区", Level::County), Some("浦东"));
    assert_eq!(short_name("龙胜各族自治县", Level::County), Some("龙胜"));
    assert_eq!(
        short_name("阿坝藏族羌族自治州", Level::Prefecture),
        Some("阿坝")
    );
    assert_eq!(
        short_name("博尔塔拉蒙古自治州", Level::Prefecture),
        Some("博尔塔拉")
    );
    assert_eq!(short_name("西藏自治区", Level::Province), Some("西藏"));
    assert_eq!(short_name("顺河回族区", Level::County), Some("顺河"));
    assert_eq!(short_name("宁夏回族自治区", Level::Province), Some("宁夏"));
    assert_eq!(short_name("石家庄高新技术产业开发区", Level::County), None);
}

#[test]
fn pinyin_initials_use_every_reading_for_matching() {
    assert_eq!(initials("兰考"), "lk");
    assert_eq!(initials("北京"), "bj");
    assert_eq!(initials("长春"), "cc");
    assert_eq!(initials("重庆"), "cq");
    assert_eq!(initials("厦门"), "xm");
    // 重 reads zhòng first; chóng (重庆) still matches.
    let hits = search(d(), "cq", false).unwrap();
    assert_eq!(hits[0].code, "500000", "{:?}", &hits[..3]);
    let hits = search(d(), "lk", false).unwrap();
    assert!(hits.iter().take(20).any(|h| h.code == "410225"));
    let hits = search(d(), "kf lk", false).unwrap();
    assert_eq!(hits[0].code, "410225");
}

#[test]
fn search_by_name_code_prefix_and_level() {
    let hits = search(d(), "兰考", false).unwrap();
    assert_eq!(hits[0].code, "410225");
    assert_eq!(hits[0].level, Level::County);
    let hits = search(d(), "朝阳区", false).unwrap();
    let codes: Vec<&str> = hits.iter().map(|h| h.code.as_str()).collect();
    assert_eq!(codes[..2], ["110105", "220104"]);
    // Code prefix: the county, then its townships in code order.
    let hits = search(d(), "410225", false).unwrap();
    assert_eq!(hits[0].code, "410225");
    assert_eq!(hits.len(), 1 + d().streets_of("410225").len());
    assert!(hits[1..].iter().all(|h| h.level == Level::Township));
    let hits = search(d(), "410200", false).unwrap();
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].name, "开封市");
    // Townships carry their whole path.
    let hits = search(d(), "晒口街道", false).unwrap();
    assert_eq!(hits[0].path, ["福建省", "南平市", "邵武市", "晒口街道"]);
    assert!(search(d(), "  ", false).unwrap().is_empty());
}

#[test]
fn search_reaches_villages_when_asked() {
    let town = d().streets_of("350781")[0].code.clone();
    let v = crate::divisions::embedded_villages("350781").unwrap();
    let village = &v[&town][0];
    assert!(
        search(d(), &village.code, false)
            .unwrap()
            .iter()
            .all(|h| h.level != Level::Village)
    );
    let hits = search(d(), &village.code, true).unwrap();
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].level, Level::Village);
    assert_eq!(hits[0].path.last(), Some(&village.name));
    assert_eq!(hits[0].path.len(), 5);
}
