/*!
Starter profiles for `m110 init`: a complete profile for any county, district or prefecture-level
city from the embedded division codes.

What it writes: the region with its parents; tiers 乡镇/街道 → 村/社区 → 网格 (villages are
embedded for all China; two tiers plus cells when a region has none; a prefecture-level city gets
区县 on top); every township and village; a cell rule; the default taxonomy (implicit); police
dispatch, the starter departments of the duty list (`duties.rs`) and one handling unit per
tier-1 unit, named for what it is, with routing rules that send every category to the department
holding its duty and leave no category × tier-1 pair to the fallback; the police line and the
prefecture's 12345 hotline as existing platforms. What a person must look up (population, area,
hotlines, contacts) is written as `FILL_IN`, which `m110 validate` reports until it is replaced
(`contacts.xlsx` fills most of it).

The output is YAML text built line by line (not serialised) so it keeps comments, flow-style
grid rows and a stable order; strings are emitted as JSON strings, which are valid YAML.
*/

use std::collections::HashMap;
use std::fmt::Write;

use crate::divisions::{Division, Divisions, EDITION};

use super::compile::derive_archetype;
use super::duties::{CENTER_CATEGORIES, DEPARTMENTS, LOCAL_CATEGORIES, duty_rules};
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
        // Named for what the division is: 街道办事处, 人民政府, 管理委员会, or the farm itself.
        let kind = if is_city { "department" } else { "township" };
        let office = crate::divisions::office_name(&t.code, &t.name);
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
    // The duty list: each category to the department holding its duty (profile/duties.rs).
    for (unit, categories) in duty_rules() {
        let _ = writeln!(
            w,
            "    - {{category: [{}], unit: {unit}}}",
            categories.join(", ")
        );
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
        "  escalation:\n    - steps: [{{unit: center, after_minutes: 30}}, {{unit: supervision-office, after_minutes: 240}}]"
    );
    let _ = writeln!(
        w,
        "\nexisting_platforms:\n  - {{id: police-dispatch, kind: police_dispatch, name: {}, integration: {{type: none}}}}",
        q(&format!("{name}公安局110接处警系统"))
    );
    // Every prefecture runs a 12345 hotline (国办发〔2020〕53号); cases it hands over and cases
    // the center forwards to it go through this entry once an integration is configured.
    let prefecture = if is_city {
        name.clone()
    } else {
        parents.last().cloned().unwrap_or_else(|| name.clone())
    };
    let _ = writeln!(
        w,
        "  - {{id: hotline-12345, kind: hotline_12345, name: {}, integration: {{type: none}}}}",
        q(&format!("{prefecture}12345政务服务便民热线"))
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
