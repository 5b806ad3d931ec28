/*!
The `routing` section: the fallback unit, rules (categories, scopes and units that exist, one
rule per category and scope) and escalation chains (categories and step units that exist), and
that police categories have a police unit or `police_dispatch` platform to be transferred to.
*/

use std::collections::{HashMap, HashSet};

use super::Ctx;
use crate::profile::compile::CENTER_ID;
use crate::profile::raw::{OneOrMany, RawProfile};

pub(super) fn check_routing(
    c: &mut Ctx<'_>,
    raw: &RawProfile,
    grid: &HashSet<String>,
    units: &HashSet<String>,
    cats: &HashMap<String, bool>,
) {
    let unit_hint = "use the id of a unit in `units` (or center)";
    let routing = raw.routing.clone().unwrap_or_default();
    let fallback = routing.fallback.as_deref().unwrap_or(CENTER_ID);
    if !units.contains(fallback) {
        let tops = raw.grid.units.iter().filter(|u| u.parent.is_none()).count();
        let open = cats.values().filter(|police| !**police).count();
        c.err(
            "routing.fallback",
            format!(
                "fallback unit `{fallback}` does not exist, so categories without a rule \
                 ({open} categories × {tops} tier-1 units) cannot be routed"
            ),
            unit_hint,
        );
    }
    let mut seen: HashMap<(String, Option<String>), usize> = HashMap::new();
    for (i, rule) in routing.rules.iter().enumerate() {
        let p = format!("routing.rules[{i}]");
        let items = rule.category.items();
        if items.is_empty() {
            c.err(
                &format!("{p}.category"),
                "names no category",
                "give at least one code",
            );
        }
        for (j, cat) in items.iter().enumerate() {
            let cp = match &rule.category {
                OneOrMany::One(_) => format!("{p}.category"),
                OneOrMany::Many(_) => format!("{p}.category[{j}]"),
            };
            if !cats.contains_key(*cat) {
                c.err(
                    &cp,
                    format!("category `{cat}` does not exist"),
                    "use a default category code or one defined in categories",
                );
            }
            let key = (cat.to_string(), rule.scope.clone());
            if let Some(&k) = seen.get(&key) {
                let line = c.index.locate(&format!("routing.rules[{k}]")).0;
                c.err(
                    &cp,
                    format!("a rule for `{cat}` in this scope already exists (line {line})",),
                    "keep one rule per category and scope",
                );
            } else {
                seen.insert(key, i);
            }
        }
        if let Some(s) = &rule.scope
            && !grid.contains(s)
        {
            c.err(
                &format!("{p}.scope"),
                format!("grid unit `{s}` does not exist"),
                "use a code from grid.units or leave scope out for the whole region",
            );
        }
        if !units.contains(&rule.unit) {
            c.err(
                &format!("{p}.unit"),
                format!("unit `{}` does not exist", rule.unit),
                unit_hint,
            );
        }
    }
    for (i, e) in routing.escalation.iter().enumerate() {
        let p = format!("routing.escalation[{i}]");
        if let Some(cat) = &e.category
            && !cats.contains_key(cat)
        {
            c.err(
                &format!("{p}.category"),
                format!("category `{cat}` does not exist"),
                "use a category code or leave category out for the default chain",
            );
        }
        if e.steps.is_empty() {
            c.err(
                &format!("{p}.steps"),
                "needs at least one step",
                "e.g. - {unit: center, after_minutes: 30}",
            );
        }
        for (j, s) in e.steps.iter().enumerate() {
            if !units.contains(&s.unit) {
                c.err(
                    &format!("{p}.steps[{j}].unit"),
                    format!("unit `{}` does not exist", s.unit),
                    unit_hint,
                );
            }
        }
    }
    // Police categories are transferred (转警): something must receive them.
    let has_police_target = raw.units.iter().any(|u| u.kind == "police")
        || raw
            .existing_platforms
            .iter()
            .any(|p| p.kind == "police_dispatch");
    if cats.values().any(|p| *p) && !has_police_target {
        c.err(
            "units",
            "police categories exist but there is no police unit or police_dispatch platform to transfer to",
            "add a unit with kind: police (e.g. the county public security 110 command center)",
        );
    }
}
