/*!
What the handling unit of a township or county is called, from what the division is.

The statistical codes list more than towns and streets at township level: state farms and
forest farms (农场, 林场, 牧场, 良种场 …), research farms (固阳农科所), prisons, forestry bureaus,
the XPCC's regiments (兵团一五二团), and development zones, industrial parks and scenic areas
(开发区, 工业园区, 度假区, 片区 …). Appending 人民政府 to all of them, as the starter once did,
gives offices that do not exist ("固阳农科所人民政府"). The rules, by the name's ending:

| division | office |
|---|---|
| 街道 | 街道办事处 |
| 镇, 乡 (民族乡), 苏木 (民族苏木), and 县 at township level (金门县) | + 人民政府 |
| 地区 (Beijing's 地区办事处, e.g. 马坊地区) | + 办事处 |
| a name that already is an office: 管委会, 委员会, 办事处, 管理处, 局, 中心, 公司, 集团, 监狱 … | itself |
| zones: …区 (开发区, 园区, 新区, 片区, 度假区 …), …园, …城 (新城, 工业城) | + 管理委员会 |
| 社区, 城区, 矿区, 林区 at township level | itself (no government of their own) |
| farms, forest farms, 农科所, regiments, mines, reservoirs, anything else | itself: it is its own administration |

Counties: 县, 区, 市, 旗, 自治县/旗, 特区, 林区 → 人民政府; the statistical codes whose digits
5-6 are 71-79 are development zones (石家庄高新技术产业开发区, 唐山市汉沽管理区) → 管理委员会.
Prefectures: 地区 and 盟 → 行政公署; cities and 自治州 → 人民政府.

A trailing parenthesised note stays at the end: 三星镇（叠石桥家纺产业园区） →
三星镇人民政府（叠石桥家纺产业园区）.
*/

/// Endings of names that already name an office (nothing to append).
const OFFICES: &[&str] = &[
    "委员会",
    "管委会",
    "办事处",
    "管理处",
    "局",
    "中心",
    "公司",
    "集团",
    "办公室",
    "监狱",
    "办",
    "政府",
    "公署",
];

/// Township-level endings in 区 that are not zones with a management committee.
const NOT_ZONES: &[&str] = &["社区", "城区", "矿区", "林区"];

/// The handling unit's name for the division `name` with statistical `code` (6 digits: county;
/// 9 digits: township; 4 digits: prefecture; other lengths are named as townships).
pub fn office_name(code: &str, name: &str) -> String {
    let (base, note) = split_note(name);
    let with = |suffix: &str| format!("{base}{suffix}{note}");
    if ends_with_any(base, OFFICES) {
        return name.to_string();
    }
    match code.len() {
        4 => {
            if base.ends_with("地区") || base.ends_with('盟') {
                with("行政公署")
            } else {
                with("人民政府")
            }
        }
        6 => {
            if is_zone_code(code) {
                with("管理委员会")
            } else if base.ends_with(['县', '区', '市', '旗']) {
                with("人民政府")
            } else {
                // 西沙群岛, 中沙群岛的岛礁及其海域: no county government of that name.
                name.to_string()
            }
        }
        _ => township_office(base, note, name),
    }
}

fn township_office(base: &str, note: &str, name: &str) -> String {
    let with = |suffix: &str| format!("{base}{suffix}{note}");
    if base.ends_with("街道") || base.ends_with("地区") {
        with("办事处")
    } else if base.ends_with(['镇', '乡', '县']) || base.ends_with("苏木") {
        with("人民政府")
    } else if ends_with_any(base, NOT_ZONES) {
        name.to_string()
    } else if base.ends_with(['区', '园', '城']) {
        with("管理委员会")
    } else {
        name.to_string()
    }
}

fn ends_with_any(s: &str, endings: &[&str]) -> bool {
    endings.iter().any(|e| s.ends_with(e))
}

/// Statistical county codes 71-79 (digits 5-6) are development zones and the like, run by a
/// management committee rather than a people's government.
fn is_zone_code(code: &str) -> bool {
    code.get(4..5) == Some("7")
}

/// `三星镇（叠石桥家纺产业园区）` → (`三星镇`, `（叠石桥家纺产业园区）`); no note → (name, "").
fn split_note(name: &str) -> (&str, &str) {
    if name.ends_with(['）', ')'])
        && let Some(i) = name.find(['（', '('])
        && i > 0
    {
        return name.split_at(i);
    }
    (name, "")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::divisions::Divisions;

    fn town(name: &str) -> String {
        office_name("123456789", name)
    }

    #[test]
    fn towns_streets_and_townships() {
        assert_eq!(town("晒口街道"), "晒口街道办事处");
        assert_eq!(town("和平镇"), "和平镇人民政府");
        assert_eq!(town("桂林乡"), "桂林乡人民政府");
        assert_eq!(town("金门县"), "金门县人民政府");
        assert_eq!(town("鹤峰畲族乡"), "鹤峰畲族乡人民政府");
        assert_eq!(town("乌兰苏木"), "乌兰苏木人民政府");
        assert_eq!(town("马坊地区"), "马坊地区办事处");
    }

    #[test]
    fn farms_and_other_units_are_their_own_administration() {
        for name in [
            "固阳农科所",
            "五一林场",
            "红星牧场",
            "宋埠良种场",
            "绥东镇种畜场",
            "兵团一五二团",
            "国营天西华侨农场",
            "扎赉诺尔矿区",
            "锦绣社区",
            "城区",
            "莲江口监狱",
            "天桥岭林业局",
            "巴彦淖尔市苏独隆农场有限公司",
            "麻城明山水库",
            "铅山县国营森林苗圃",
        ] {
            assert_eq!(town(name), name);
        }
    }

    #[test]
    fn zones_get_a_management_committee() {
        assert_eq!(town("嘉定工业区"), "嘉定工业区管理委员会");
        assert_eq!(town("鱼梁洲开发区"), "鱼梁洲开发区管理委员会");
        assert_eq!(town("央塔库都片区"), "央塔库都片区管理委员会");
        assert_eq!(town("枣林湾旅游度假区"), "枣林湾旅游度假区管理委员会");
        assert_eq!(town("南通苏通科技产业园"), "南通苏通科技产业园管理委员会");
        assert_eq!(town("科教新城"), "科教新城管理委员会");
        // Already named as the committee or office: kept as is.
        assert_eq!(town("城南片区管委会"), "城南片区管委会");
        assert_eq!(town("开发区管理委员会"), "开发区管理委员会");
        assert_eq!(town("芦柴湖办事处"), "芦柴湖办事处");
        // A trailing note stays at the end.
        assert_eq!(
            town("三星镇（叠石桥家纺产业园区）"),
            "三星镇人民政府（叠石桥家纺产业园区）"
        );
        assert_eq!(
            town("经济开发区（马棚街道）"),
            "经济开发区管理委员会（马棚街道）"
        );
    }

    #[test]
    fn counties_and_prefectures() {
        assert_eq!(office_name("410225", "兰考县"), "兰考县人民政府");
        assert_eq!(office_name("110105", "朝阳区"), "朝阳区人民政府");
        assert_eq!(office_name("152921", "阿拉善左旗"), "阿拉善左旗人民政府");
        assert_eq!(office_name("429021", "神农架林区"), "神农架林区人民政府");
        assert_eq!(office_name("130107", "井陉矿区"), "井陉矿区人民政府");
        assert_eq!(
            office_name("130171", "石家庄高新技术产业开发区"),
            "石家庄高新技术产业开发区管理委员会"
        );
        assert_eq!(
            office_name("130272", "唐山市汉沽管理区"),
            "唐山市汉沽管理区管理委员会"
        );
        assert_eq!(
            office_name("152571", "乌拉盖管理区管委会"),
            "乌拉盖管理区管委会"
        );
        assert_eq!(office_name("4102", "开封市"), "开封市人民政府");
        assert_eq!(office_name("2327", "大兴安岭地区"), "大兴安岭地区行政公署");
        assert_eq!(office_name("1529", "阿拉善盟"), "阿拉善盟行政公署");
    }

    /// Over the whole embedded table: every township office is either the name itself or the
    /// name with one of the known offices, and 人民政府 is never put after a farm or a zone.
    #[test]
    fn every_embedded_township_gets_a_plausible_office() {
        let d = Divisions::embedded();
        let mut itself = 0;
        for towns in d.streets.values() {
            for t in towns {
                let o = office_name(&t.code, &t.name);
                let (base, note) = split_note(&t.name);
                let suffix = o
                    .strip_prefix(base)
                    .and_then(|r| r.strip_suffix(note))
                    .unwrap_or_else(|| panic!("{} → {o}", t.name));
                assert!(
                    ["", "办事处", "人民政府", "管理委员会"].contains(&suffix),
                    "{} → {o}",
                    t.name
                );
                if suffix == "人民政府" {
                    assert!(!base.contains("农场") && !base.ends_with("区"), "{o}");
                }
                if suffix.is_empty() {
                    itself += 1;
                }
            }
        }
        // About 1,600 of the 41,352 are farms, prisons, bureaus and the like (2023 edition).
        assert!((1_000..3_000).contains(&itself), "{itself}");
    }
}
