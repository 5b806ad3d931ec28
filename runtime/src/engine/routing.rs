/*!
Routing: category × grid scope → handling unit.

The most specific rule wins: a rule scoped to the case's own grid unit beats one scoped to its
parent, which beats a region-wide rule. A sub-category (`roads.streetlight`) falls back to the
rules of its parent category (`roads`) before the region's fallback unit. Pure functions over the
region model, shared by the kit's plan (coverage gaps) and the runtime's dispatch.
*/

use std::collections::HashMap;

use crate::model::{Region, RoutingRule};

/// Where a case goes and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub unit: String,
    /// How the unit was found.
    pub via: RouteVia,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouteVia {
    /// A rule for `category` scoped to grid unit `scope` (`None`: region-wide).
    Rule {
        category: String,
        scope: Option<String>,
    },
    /// No rule matched: the region's fallback unit (normally the center).
    Fallback,
}

/// An index over a region's routing rules, built once and queried per case.
#[derive(Debug, Clone)]
pub struct RoutingTable {
    /// (category, scope) → unit
    rules: HashMap<(String, Option<String>), String>,
    /// grid code → parent code
    parents: HashMap<String, Option<String>>,
    /// category code → parent category code
    category_parents: HashMap<String, Option<String>>,
    fallback: String,
}

impl RoutingTable {
    pub fn new(region: &Region) -> Self {
        Self::from_parts(
            region.routing.rules.iter(),
            region
                .grid_units
                .iter()
                .map(|u| (u.code.clone(), u.parent.clone())),
            region
                .categories
                .iter()
                .map(|c| (c.code.clone(), c.parent.clone())),
            region.routing.fallback_unit.clone(),
        )
    }

    /// Builds a table from its parts (the runtime loads them from the store).
    pub fn from_parts<'a>(
        rules: impl IntoIterator<Item = &'a RoutingRule>,
        grid_parents: impl IntoIterator<Item = (String, Option<String>)>,
        category_parents: impl IntoIterator<Item = (String, Option<String>)>,
        fallback: String,
    ) -> Self {
        RoutingTable {
            rules: rules
                .into_iter()
                .map(|r| ((r.category.clone(), r.scope.clone()), r.unit.clone()))
                .collect(),
            parents: grid_parents.into_iter().collect(),
            category_parents: category_parents.into_iter().collect(),
            fallback,
        }
    }

    pub fn fallback(&self) -> &str {
        &self.fallback
    }

    /// The unit for a case of `category` located in grid unit `grid` (or unlocated).
    pub fn resolve(&self, category: &str, grid: Option<&str>) -> Route {
        let mut cat = Some(category.to_string());
        let mut seen = 0;
        while let Some(c) = cat {
            // Walk the grid from the most specific unit up to the region.
            let mut scope = grid.map(str::to_string);
            let mut depth = 0;
            loop {
                if let Some(unit) = self.rules.get(&(c.clone(), scope.clone())) {
                    return Route {
                        unit: unit.clone(),
                        via: RouteVia::Rule { category: c, scope },
                    };
                }
                match scope {
                    None => break,
                    Some(code) => {
                        scope = self.parents.get(&code).cloned().flatten();
                    }
                }
                depth += 1;
                if depth > 64 {
                    break; // defensive: a cycle would have been rejected by validation
                }
            }
            cat = self.category_parents.get(&c).cloned().flatten();
            seen += 1;
            if seen > 16 {
                break;
            }
        }
        Route {
            unit: self.fallback.clone(),
            via: RouteVia::Fallback,
        }
    }

    /// (category, tier-1 grid code) pairs that reach only the fallback unit. A sub-category
    /// whose parent has the same gap is left out: it is that gap, not another one.
    pub fn gaps(&self, region: &Region) -> Vec<(String, String)> {
        let mut gaps = Vec::new();
        for cat in region.categories.iter().filter(|c| !c.police) {
            for top in region.top_units() {
                let falls =
                    |code: &str| self.resolve(code, Some(&top.code)).via == RouteVia::Fallback;
                let parent_falls = cat
                    .parent
                    .as_deref()
                    .is_some_and(|p| region.category(p).is_some() && falls(p));
                if falls(&cat.code) && !parent_falls {
                    gaps.push((cat.code.clone(), top.code.clone()));
                }
            }
        }
        gaps
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(category: &str, scope: Option<&str>, unit: &str) -> RoutingRule {
        RoutingRule {
            category: category.into(),
            scope: scope.map(Into::into),
            unit: unit.into(),
        }
    }

    fn table() -> RoutingTable {
        let rules = [
            rule("roads", None, "transport"),
            rule("roads", Some("350781001"), "town-1"),
            rule("roads", Some("350781001201"), "village-201"),
        ];
        RoutingTable::from_parts(
            rules.iter(),
            [
                ("350781001".to_string(), None),
                ("350781001201".to_string(), Some("350781001".to_string())),
                ("350781001202".to_string(), Some("350781001".to_string())),
                ("350781002".to_string(), None),
            ],
            [
                ("roads".to_string(), None),
                ("roads.light".to_string(), Some("roads".to_string())),
                ("other".to_string(), None),
            ],
            "center".into(),
        )
    }

    #[test]
    fn most_specific_scope_wins() {
        let t = table();
        assert_eq!(t.resolve("roads", Some("350781001201")).unit, "village-201");
        assert_eq!(t.resolve("roads", Some("350781001202")).unit, "town-1");
        assert_eq!(t.resolve("roads", Some("350781002")).unit, "transport");
        assert_eq!(t.resolve("roads", None).unit, "transport");
    }

    #[test]
    fn subcategory_uses_parent_rules_then_fallback() {
        let t = table();
        assert_eq!(
            t.resolve("roads.light", Some("350781001201")).unit,
            "village-201"
        );
        let r = t.resolve("other", Some("350781001"));
        assert_eq!(r.unit, "center");
        assert_eq!(r.via, RouteVia::Fallback);
    }
}
