/*!
The `grid` section: tiers (keys, names, at most eight), listed grid units (codes, region prefix,
duplicates, tiers, parent chains one tier up without cycles, population, households,
coordinates) and the generated-cell rule (its bounds and the codes it would generate).
Returns every unit's tier level and the full set of grid codes, listed and generated.
*/

use std::collections::{HashMap, HashSet};

use super::Ctx;
use super::region::region_prefix;
use crate::profile::compile::{MAX_GRID_UNITS, TierError, cell_code, plan_cells, resolve_tiers};
use crate::profile::formats::{is_digits, is_grid_code, is_tier_key};
use crate::profile::raw::RawProfile;

pub(super) fn check_grid(
    c: &mut Ctx<'_>,
    raw: &RawProfile,
) -> (Vec<Result<u8, TierError>>, HashSet<String>) {
    let g = &raw.grid;
    if g.tiers.is_empty() {
        c.err(
            "grid.tiers",
            "needs at least one tier",
            "e.g. township (乡镇/街道), village (村/社区), cell (网格)",
        );
    }
    if g.tiers.len() > 8 {
        c.err("grid.tiers", "more than 8 tiers", "merge tiers");
    }
    let mut tiers: HashMap<&str, u8> = HashMap::new();
    for (i, t) in g.tiers.iter().enumerate() {
        let path = format!("grid.tiers[{i}].key");
        if !is_tier_key(&t.key) {
            c.err(
                &path,
                format!("`{}` is not a tier key", t.key),
                "lowercase letters, digits and _, e.g. township",
            );
        }
        if tiers.insert(t.key.as_str(), (i + 1) as u8).is_some() {
            c.err(
                &path,
                format!("duplicate tier key `{}`", t.key),
                "give each tier its own key",
            );
        }
        c.non_empty(&format!("grid.tiers[{i}].name"), &t.name);
    }
    let levels = resolve_tiers(&tiers, &g.units);
    let prefix = region_prefix(&raw.region.code).to_string();
    let mut first: HashMap<&str, usize> = HashMap::with_capacity(g.units.len());
    for (i, u) in g.units.iter().enumerate() {
        if let Some(&j) = first.get(u.code.as_str()) {
            let line = c.index.locate(&format!("grid.units[{j}].code")).0;
            c.err(
                &format!("grid.units[{i}].code"),
                format!("duplicate grid code `{}` (first at line {line})", u.code),
                "each grid unit needs its own code",
            );
        } else {
            first.insert(u.code.as_str(), i);
        }
    }
    for (i, u) in g.units.iter().enumerate() {
        let p = format!("grid.units[{i}]");
        if !is_grid_code(&u.code) {
            c.err(
                &format!("{p}.code"),
                format!("`{}` is not a grid code", u.code),
                "use the 9/12-digit statistical code or letters, digits and '-' (quoted)",
            );
        } else if u.code.bytes().all(|b| b.is_ascii_digit())
            && is_digits(&raw.region.code, 6)
            && !u.code.starts_with(&prefix)
        {
            c.err(
                &format!("{p}.code"),
                format!("code `{}` lies outside region {}", u.code, raw.region.code),
                format!("statistical codes of this region start with {prefix}"),
            );
        }
        c.non_empty(&format!("{p}.name"), &u.name);
        if let Some(t) = &u.tier
            && !tiers.contains_key(t.as_str())
        {
            c.err(
                &format!("{p}.tier"),
                format!("unknown tier `{t}`"),
                format!(
                    "use one of the keys in grid.tiers: {}",
                    g.tiers
                        .iter()
                        .map(|t| t.key.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
        }
        let own = levels[i].clone();
        match &u.parent {
            Some(parent) => {
                match first.get(parent.as_str()) {
                    None => c.err(
                        &format!("{p}.parent"),
                        format!("parent `{parent}` is not a listed grid unit"),
                        "use the code of a unit in grid.units one tier up",
                    ),
                    Some(&pi) => {
                        if levels[i] == Err(TierError::Cycle) {
                            c.err(
                                &format!("{p}.parent"),
                                format!("parent chain of `{}` loops back to itself", u.code),
                                "follow the parent codes and break the cycle",
                            );
                        } else if let (Ok(l), Ok(pl)) = (&own, &levels[pi])
                            && *pl + 1 != *l
                        {
                            c.err(
                                &format!("{p}.parent"),
                                format!(
                                    "parent `{parent}` is on tier {pl}, not one tier above tier {l}"
                                ),
                                "a unit's parent must sit exactly one tier up",
                            );
                        } else if parent.bytes().all(|b| b.is_ascii_digit())
                            && u.code.bytes().all(|b| b.is_ascii_digit())
                            && !u.code.starts_with(parent.as_str())
                        {
                            c.err(
                            &format!("{p}.code"),
                            format!("code `{}` does not start with its parent's code `{parent}`", u.code),
                            "statistical codes nest: a village code starts with its township code",
                        );
                        }
                    }
                }
            }
            None => {
                if let Ok(l) = own
                    && l != 1
                {
                    c.err(
                        &format!("{p}.parent"),
                        format!("a tier-{l} unit needs a parent"),
                        "add `parent:` with the code of the unit one tier up",
                    );
                }
            }
        }
        if let Ok(l) = own
            && usize::from(l) > g.tiers.len()
            && u.tier.is_none()
            && !g.tiers.is_empty()
        {
            c.err(
                &format!("{p}.parent"),
                format!("this unit would sit on tier {l}, below the lowest tier"),
                "add a tier to grid.tiers or attach the unit higher up",
            );
        }
        if let Some(pop) = &u.population {
            c.positive_u64(&format!("{p}.population"), pop);
        }
        if let Some(h) = &u.households {
            c.positive_u64(&format!("{p}.households"), h);
        }
        match (u.lat, u.lon) {
            (Some(lat), Some(lon)) => {
                if !(-90.0..=90.0).contains(&lat) {
                    c.err(
                        &format!("{p}.lat"),
                        "latitude out of range",
                        "-90..90 (WGS84 degrees)",
                    );
                }
                if !(-180.0..=180.0).contains(&lon) {
                    c.err(
                        &format!("{p}.lon"),
                        "longitude out of range",
                        "-180..180 (WGS84 degrees)",
                    );
                }
            }
            (None, None) => {}
            _ => c.err(
                &format!("{p}.lat"),
                "lat and lon go together",
                "give both or neither",
            ),
        }
    }

    let mut codes: HashSet<String> = g.units.iter().map(|u| u.code.clone()).collect();
    if let Some(rule) = &g.cells {
        if rule.per_households == Some(0) {
            c.err("grid.cells.per_households", "must be positive", "e.g. 300");
        }
        if rule.per_unit == Some(0) {
            c.err("grid.cells.per_unit", "must be positive", "e.g. 2");
        }
        if rule.per_households.is_none() && rule.per_unit.is_none() {
            c.err(
                "grid.cells",
                "the cell rule needs per_households or per_unit",
                "e.g. cells: {per_households: 300, per_unit: 2}",
            );
        }
        if g.tiers.len() < 2 {
            c.err(
                "grid.cells",
                "generating cells needs at least two tiers",
                "add the cell tier to grid.tiers",
            );
        }
        let plans = plan_cells(Some(rule), g.tiers.len(), &g.units, &levels);
        let total: u64 = plans.iter().map(|p| p.count).fold(0, u64::saturating_add);
        if total.saturating_add(g.units.len() as u64) > MAX_GRID_UNITS as u64 {
            c.err(
                "grid.cells",
                format!("the rule would generate {total} cells"),
                format!("a region has at most {MAX_GRID_UNITS} grid units; raise per_households"),
            );
        } else {
            for plan in plans {
                let parent = &g.units[plan.parent];
                for n in 1..=plan.count {
                    let code = cell_code(&parent.code, n, plan.count);
                    if !codes.insert(code.clone()) {
                        c.err(
                            &format!("grid.units[{}].code", plan.parent),
                            format!("generated cell code `{code}` collides with a listed unit"),
                            "list this unit's cells yourself or change the colliding code",
                        );
                    }
                }
            }
        }
    }
    (levels, codes)
}
