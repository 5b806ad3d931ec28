/*!
Routing coverage that tells the truth: what `validate` and `plan` warn about once a profile is
valid.

- **A unit that can never receive a case**: a department, township office, community center or
  police unit named by no routing rule (nor by an escalation chain, which presses units rather
  than sends them cases). Providers, volunteer teams and social organizations are left out: they
  receive offers (`engine::matching`), not routed cases.
- **A category whose only route is the catch-all**: no rule for it or any category above it, so
  every case of it lands on the fallback unit.
- **A shadowed rule**: every grid unit directly under its scope (every tier-1 unit for a
  region-wide rule) has a rule of its own for the same category, so the rule only ever takes
  cases located at its scope itself or, region-wide, cases that are not located at all. A unit
  all of whose rules are shadowed receives no located case.

Each warning points at the profile line to change: the rule, the unit or the category entry.
*/

use std::collections::{HashMap, HashSet};
use std::path::Path;

use m110_runtime::model::{Region, UnitKind};

use super::diag::Diagnostic;
use super::raw::RawProfile;
use super::yaml::PosIndex;

/// The coverage warnings of a compiled profile, in file order.
pub fn warnings(
    path: &Path,
    raw: &RawProfile,
    index: &PosIndex,
    region: &Region,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let rules: HashSet<(&str, Option<&str>)> = region
        .routing
        .rules
        .iter()
        .map(|r| (r.category.as_str(), r.scope.as_deref()))
        .collect();
    let mut children: HashMap<Option<&str>, Vec<&str>> = HashMap::new();
    for g in &region.grid_units {
        children
            .entry(g.parent.as_deref())
            .or_default()
            .push(g.code.as_str());
    }
    let name_of = |code: &str| {
        region
            .categories
            .iter()
            .find(|c| c.code == code)
            .map_or(code.to_string(), |c| format!("{}（{code}）", c.name_zh))
    };

    // Shadowed rules, and which units hold a rule that is not.
    let mut live_units: HashSet<&str> = HashSet::new();
    let mut shadowed_units: HashMap<&str, (usize, usize)> = HashMap::new();
    for (i, r) in raw.routing.iter().flat_map(|r| &r.rules).enumerate() {
        let scope = r.scope.as_deref().map(str::trim);
        for cat in r.category.items() {
            let under = children.get(&scope).map_or(&[][..], Vec::as_slice);
            let shadowed =
                !under.is_empty() && under.iter().all(|k| rules.contains(&(cat, Some(k))));
            let unit = r.unit.trim();
            if !shadowed {
                live_units.insert(unit);
                continue;
            }
            let pos = index.locate(&format!("routing.rules[{i}]"));
            shadowed_units.entry(unit).or_insert(pos);
            let (takes, below) = match scope {
                None => (
                    "只接收未定位的案件 / takes only cases that are not located".to_string(),
                    "每个一级网格".to_string(),
                ),
                Some(s) => (
                    format!("只接收定位在 {s} 本级的案件 / takes only cases located at {s} itself"),
                    format!("{s} 下的每个网格"),
                ),
            };
            out.push(Diagnostic::new(
                path,
                pos,
                format!("routing.rules[{i}]"),
                format!(
                    "规则被更具体的规则遮蔽：{below}都有 {} 的规则，{takes} / rule for `{cat}` → `{unit}` is shadowed by the rules of every grid unit under its scope",
                    name_of(cat)
                ),
                "remove this rule, or remove the more specific ones if this unit should take those cases",
            ));
        }
    }

    // Units no live rule names.
    let escalated: HashSet<&str> = region
        .routing
        .escalation
        .iter()
        .flat_map(|e| &e.steps)
        .map(|s| s.unit.as_str())
        .collect();
    for (i, u) in raw.units.iter().enumerate() {
        let Some(unit) = region.units.iter().find(|x| x.id == u.id.trim()) else {
            continue;
        };
        let routed = matches!(
            unit.kind,
            UnitKind::Department
                | UnitKind::Township
                | UnitKind::CommunityCenter
                | UnitKind::Police
        );
        if !routed
            || unit.id == region.routing.fallback_unit
            || live_units.contains(unit.id.as_str())
            || escalated.contains(unit.id.as_str())
        {
            continue;
        }
        let pos = index.locate(&format!("units[{i}]"));
        let message = if shadowed_units.contains_key(unit.id.as_str()) {
            format!(
                "单位 {} 只在被遮蔽的规则中出现，收不到已定位的案件 / unit `{}` appears only in shadowed rules: it receives no located case",
                unit.name, unit.id
            )
        } else {
            format!(
                "单位 {} 不在任何派单规则中，永远收不到案件 / unit `{}` is in no routing rule: it can never receive a case",
                unit.name, unit.id
            )
        };
        out.push(Diagnostic::new(
            path,
            pos,
            format!("units[{i}]"),
            message,
            "add a routing rule for the categories this unit handles (its functions), or remove the unit",
        ));
    }

    // Categories that reach only the catch-all.
    let parent: HashMap<&str, &str> = region
        .categories
        .iter()
        .filter_map(|c| c.parent.as_deref().map(|p| (c.code.as_str(), p)))
        .collect();
    let with_rule: HashSet<&str> = region
        .routing
        .rules
        .iter()
        .map(|r| r.category.as_str())
        .collect();
    let covered = |code: &str| {
        let mut cur = Some(code);
        for _ in 0..16 {
            let Some(c) = cur else { break };
            if with_rule.contains(c) {
                return true;
            }
            cur = parent.get(c).copied();
        }
        false
    };
    for c in region.categories.iter().filter(|c| !c.police) {
        // One warning per branch: at its top, naming how many categories it takes along.
        if covered(&c.code) || c.parent.as_deref().is_some_and(|p| !covered(p)) {
            continue;
        }
        let below = region
            .categories
            .iter()
            .filter(|d| d.code.starts_with(&format!("{}.", c.code)) && !covered(&d.code))
            .count();
        let (field, pos) = match raw
            .categories
            .iter()
            .position(|rc| rc.code.trim() == c.code)
        {
            Some(i) => (
                format!("categories[{i}]"),
                index.locate(&format!("categories[{i}]")),
            ),
            None => ("routing".to_string(), index.locate_key("routing")),
        };
        out.push(Diagnostic::new(
            path,
            pos,
            field,
            format!(
                "类别 {}{} 没有派单规则，全部落到兜底单位 {} / category `{}`{} has no rule of its own or of a parent: every case goes to the catch-all unit `{}`",
                name_of(&c.code),
                if below > 0 { format!(" 及其 {below} 个子类") } else { String::new() },
                region.routing.fallback_unit,
                c.code,
                if below > 0 { format!(" and its {below} sub-categories") } else { String::new() },
                region.routing.fallback_unit
            ),
            "add a routing rule for it (or its parent) to the unit whose functions cover it, or disable the category",
        ));
    }
    out.sort_by_key(|d| (d.line, d.col));
    out
}
