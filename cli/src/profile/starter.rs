/*!
Starter profiles for `m110 init`: a complete profile for any county, district or prefecture-level
city from the embedded division codes.

What it writes: the region with its parents; tiers 乡镇/街道 → 村/社区 → 网格 (two tiers plus cells
when no village data is available; a prefecture-level city gets 区县 on top); every township and,
where known, every village; a cell rule; the default taxonomy (implicit); police dispatch, the
typical departments and one handling unit per tier-1 unit, with routing rules so that no
category × tier-1 pair falls through to the fallback. What a person must look up (population,
area, hotlines) is written as `FILL_IN`, which `m110 validate` reports until it is replaced.

The output is YAML text built line by line (not serialised) so it keeps comments, flow-style
grid rows and a stable order; strings are emitted as JSON strings, which are valid YAML.
*/

use std::collections::HashMap;
use std::fmt::Write;

use crate::divisions::{Division, Divisions, EDITION};

use super::compile::derive_archetype;
use super::raw::FILL_IN;

/// Why no starter profile can be written.
#[derive(Debug, thiserror::Error)]
pub enum StarterError {
    #[error(
        "unknown division code `{0}`: expected a 6-digit county/district code (e.g. 350781), a prefecture-level city code ending in 00 (e.g. 350200) or a province code ending in 0000 (e.g. 350000)"
    )]
    UnknownCode(String),
    #[error("division `{0}` has no townships/streets in the embedded data")]
    NoTownships(String),
}

/// Villages by township code (from the embedded Fujian data or a user CSV).
pub type Villages = HashMap<String, Vec<Division>>;

fn q(s: &str) -> String {
    serde_json::to_string(s).expect("strings serialise")
}

/// A department every region has, and the categories routed to it region-wide.
struct Dept {
    id: &'static str,
    suffix: &'static str,
    functions: &'static [&'static str],
    categories: &'static [&'static str],
    hotline: Option<&'static str>,
}

const DEPARTMENTS: &[Dept] = &[
    Dept {
        id: "urban-management",
        suffix: "城市管理局",
        functions: &["市政设施", "路灯", "市容环境卫生", "占道经营"],
        categories: &["public_facilities"],
        hotline: None,
    },
    Dept {
        id: "ecology-environment",
        suffix: "生态环境局",
        functions: &["污染防治", "噪声", "油烟", "水质"],
        categories: &["environment"],
        hotline: None,
    },
    Dept {
        id: "transport",
        suffix: "交通运输局",
        functions: &["公路养护", "客运", "公交", "出租车"],
        categories: &["roads"],
        hotline: None,
    },
    Dept {
        id: "housing-construction",
        suffix: "住房和城乡建设局",
        functions: &["物业监管", "危房", "保障性住房", "违法建设"],
        categories: &["housing"],
        hotline: None,
    },
    Dept {
        id: "civil-affairs",
        suffix: "民政局",
        functions: &["低保", "特困供养", "临时救助", "养老服务", "儿童福利"],
        categories: &["assistance"],
        hotline: None,
    },
    Dept {
        id: "justice",
        suffix: "司法局",
        functions: &["人民调解", "法律援助"],
        categories: &["disputes"],
        hotline: None,
    },
    Dept {
        id: "human-resources",
        suffix: "人力资源和社会保障局",
        functions: &["社保", "就业", "劳动监察", "欠薪"],
        categories: &[],
        hotline: None,
    },
    Dept {
        id: "market-regulation",
        suffix: "市场监督管理局",
        functions: &["消费投诉", "食品安全", "价格"],
        categories: &[],
        hotline: None,
    },
    Dept {
        id: "health",
        suffix: "卫生健康局",
        functions: &["医疗服务", "公共卫生"],
        categories: &[],
        hotline: None,
    },
    Dept {
        id: "efficiency-office",
        suffix: "机关效能建设办公室",
        functions: &["政务服务投诉", "作风效能督查"],
        categories: &["gov_complaint"],
        hotline: None,
    },
    Dept {
        id: "power-supply",
        suffix: "供电公司",
        functions: &["停电", "电力抢修"],
        categories: &[],
        hotline: Some("95598"),
    },
    Dept {
        id: "water-supply",
        suffix: "自来水公司",
        functions: &["停水", "供水抢修", "水费"],
        categories: &[],
        hotline: None,
    },
];

/// Categories the center handles itself (answering from the directories, dispatching vetted
/// market providers) rather than sending to a department.
const CENTER_CATEGORIES: &[&str] = &["housekeeping", "repairs", "consultation"];

/// Categories routed to the local tier-1 unit (township / district government) by scope.
const LOCAL_CATEGORIES: &[&str] = &["disputes", "other"];

/// A tier-1 unit of the starter grid with its children.
struct Top {
    code: String,
    name: String,
    /// Townships under a district (city profiles) or villages under a township.
    children: Vec<(Division, Vec<Division>)>,
}

/// Writes a starter profile for `code`. `villages` supplies the village tier (grouped by
/// township code); without it the grid has townships plus generated cells.
pub fn starter(code: &str, villages: Option<&Villages>) -> Result<String, StarterError> {
    let d = Divisions::embedded();
    let (name, parents, tops, is_city) = if let Some(area) = d.areas.get(code) {
        let towns = d.streets_of(code);
        if towns.is_empty() {
            return Err(StarterError::NoTownships(code.to_string()));
        }
        let tops = towns
            .iter()
            .map(|t| Top {
                code: t.code.clone(),
                name: t.name.clone(),
                children: villages
                    .and_then(|v| v.get(&t.code))
                    .map(|vs| {
                        vs.iter()
                            .map(|v| (v.clone(), Vec::new()))
                            .collect::<Vec<_>>()
                    })
                    .unwrap_or_default(),
            })
            .collect::<Vec<_>>();
        (area.name.clone(), d.area_parents(area), tops, false)
    } else if let Some((region_name, areas)) = wide_region(d, code) {
        let tops: Vec<Top> = areas
            .iter()
            .map(|a| Top {
                code: a.code.clone(),
                name: a.name.clone(),
                children: d
                    .streets_of(&a.code)
                    .iter()
                    .map(|t| {
                        (
                            t.clone(),
                            villages
                                .and_then(|v| v.get(&t.code))
                                .cloned()
                                .unwrap_or_default(),
                        )
                    })
                    .collect(),
            })
            .filter(|t| !t.children.is_empty())
            .collect();
        if tops.is_empty() {
            return Err(StarterError::NoTownships(code.to_string()));
        }
        let parents = if code.ends_with("0000") {
            Vec::new()
        } else {
            d.provinces
                .get(&code[..2])
                .map(|p| vec![p.name.clone()])
                .unwrap_or_default()
        };
        (region_name, parents, tops, true)
    } else {
        return Err(StarterError::UnknownCode(code.to_string()));
    };

    let archetype = derive_archetype(code, &name);
    let has_villages = if is_city {
        tops.iter()
            .any(|t| t.children.iter().any(|(_, v)| !v.is_empty()))
    } else {
        tops.iter().any(|t| !t.children.is_empty())
    };
    let mut o = String::new();
    let w = &mut o;
    let _ = writeln!(
        w,
        "# yaml-language-server: $schema=profile.schema.json\n\
         # Region profile for {name} ({code}), written by `m110 init` from the embedded\n\
         # division codes: {EDITION}.\n\
         # Replace every {FILL_IN} with the real value; `m110 validate` lists the ones left.\n\
         # Write the schema next to this file for editor completion: m110 schema > profile.schema.json\n\
         # Field reference: docs/profile.md."
    );
    let _ = writeln!(w, "version: 1");
    let _ = writeln!(w, "division_edition: {}", q(EDITION));
    let _ = writeln!(w, "\nregion:");
    let _ = writeln!(w, "  code: {}", q(code));
    let _ = writeln!(w, "  name: {}", q(&name));
    let _ = writeln!(
        w,
        "  parents: [{}]",
        parents.iter().map(|p| q(p)).collect::<Vec<_>>().join(", ")
    );
    let _ = writeln!(
        w,
        "  population: {FILL_IN}   # residents (census / statistical yearbook)"
    );
    let _ = writeln!(w, "  area_km2: {FILL_IN}     # land area in km²");
    let _ = writeln!(w, "  archetype: {}", archetype.as_str());

    let _ = writeln!(
        w,
        "\nservice_center:\n  number: \"110\"\n  hours: \"24/7\"\n  languages: [zh-CN, en]\n  staffing:\n    calls_per_1000_per_year: 150\n    peak_hour_share: 0.12\n    aht_seconds: 180\n    service_level_target: 0.8\n    service_level_seconds: 20\n    shrinkage: 0.3\n    max_occupancy: 0.85"
    );

    // Grid.
    let _ = writeln!(w, "\ngrid:\n  tiers:");
    if is_city {
        let _ = writeln!(w, "    - {{key: district, name: 区/县}}");
    }
    let _ = writeln!(w, "    - {{key: township, name: 乡镇/街道}}");
    if has_villages {
        let _ = writeln!(w, "    - {{key: village, name: 村/社区}}");
    }
    let _ = writeln!(w, "    - {{key: cell, name: 网格}}");
    let _ = writeln!(w, "  units:");
    for t in &tops {
        let _ = writeln!(w, "    - {{code: {}, name: {}}}", q(&t.code), q(&t.name));
        for (c, grandchildren) in &t.children {
            let _ = writeln!(
                w,
                "    - {{code: {}, name: {}, parent: {}}}",
                q(&c.code),
                q(&c.name),
                q(&t.code)
            );
            for g in grandchildren {
                let _ = writeln!(
                    w,
                    "    - {{code: {}, name: {}, parent: {}}}",
                    q(&g.code),
                    q(&g.name),
                    q(&c.code)
                );
            }
        }
    }
    let per_unit = if has_villages { 3 } else { 10 };
    let _ = writeln!(
        w,
        "  # One cell per 300 households where `households` is given on a unit of the tier above,\n  # else {per_unit} cells per unit. Cell codes: parent code + 2-digit number.\n  cells: {{per_households: 300, per_unit: {per_unit}}}"
    );

    // Handling units.
    let _ = writeln!(w, "\nunits:");
    let _ = writeln!(
        w,
        "  - {{id: police-110, kind: police, name: {}, hotline: \"110\", functions: [警情处置]}}",
        q(&format!("{name}公安局110指挥中心"))
    );
    for dept in DEPARTMENTS {
        let hotline = dept.hotline.map_or_else(|| FILL_IN.to_string(), q);
        let _ = writeln!(
            w,
            "  - id: {}\n    kind: department\n    name: {}\n    hotline: {hotline}\n    functions: [{}]\n    contacts: [{{name: {FILL_IN}, role: 联络员, phone: {FILL_IN}}}]",
            dept.id,
            q(&format!("{name}{}", dept.suffix)),
            dept.functions.join(", "),
        );
    }
    for t in &tops {
        let (kind, office) = if is_city {
            ("department", format!("{}人民政府", t.name))
        } else if t.name.ends_with("街道") {
            ("township", format!("{}办事处", t.name))
        } else {
            ("township", format!("{}人民政府", t.name))
        };
        let _ = writeln!(
            w,
            "  - {{id: {}, kind: {kind}, name: {}, hotline: {FILL_IN}, scope: [{}]}}",
            top_unit_id(&t.code),
            q(&office),
            q(&t.code)
        );
    }

    // Routing.
    let _ = writeln!(w, "\nrouting:\n  fallback: center\n  rules:");
    let _ = writeln!(w, "    - {{category: police, unit: police-110}}");
    for dept in DEPARTMENTS {
        if !dept.categories.is_empty() {
            let _ = writeln!(
                w,
                "    - {{category: [{}], unit: {}}}",
                dept.categories.join(", "),
                dept.id
            );
        }
    }
    let _ = writeln!(
        w,
        "    - {{category: [{}], unit: center}}",
        CENTER_CATEGORIES.join(", ")
    );
    for t in &tops {
        let _ = writeln!(
            w,
            "    - {{category: [{}], scope: {}, unit: {}}}",
            LOCAL_CATEGORIES.join(", "),
            q(&t.code),
            top_unit_id(&t.code)
        );
    }
    let _ = writeln!(
        w,
        "  escalation:\n    - steps: [{{unit: center, after_minutes: 30}}, {{unit: efficiency-office, after_minutes: 240}}]"
    );
    let _ = writeln!(
        w,
        "\nexisting_platforms:\n  - {{id: police-dispatch, kind: police_dispatch, name: {}, integration: {{type: none}}}}",
        q(&format!("{name}公安局110接处警系统"))
    );
    Ok(o)
}

/// A prefecture-level city (`350200`) or a whole province (`350000`): its name and the
/// counties/districts that become tier 1.
fn wide_region<'a>(d: &'a Divisions, code: &str) -> Option<(String, Vec<&'a Division>)> {
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if let Some(rest) = code.strip_suffix("0000") {
        let p = d.provinces.get(rest)?;
        let areas = d
            .area_list
            .iter()
            .filter(|a| a.code.starts_with(rest))
            .collect();
        return Some((p.name.clone(), areas));
    }
    let city = d.cities.get(code.strip_suffix("00")?)?;
    let areas = d
        .areas_by_city
        .get(&city.code)
        .map(|v| v.iter().collect())
        .unwrap_or_default();
    Some((city.name.clone(), areas))
}

fn top_unit_id(code: &str) -> String {
    format!("gov-{code}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_codes_are_refused() {
        assert!(matches!(
            starter("999999", None),
            Err(StarterError::UnknownCode(_))
        ));
        assert!(matches!(
            starter("35", None),
            Err(StarterError::UnknownCode(_))
        ));
    }
}
