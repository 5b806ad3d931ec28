/*!
Suspicious values: what validates but is probably copied, typed wrong or left as a stand-in —
the things a provincial coordinator would otherwise only notice on a phone call.

- **shared hotline** — one number is the hotline of [`SHARED_HOTLINE_UNITS`] or more units
  (every unit "12345", a switchboard pasted everywhere): citizens and dispatchers could not reach
  the unit itself;
- **shared contact phone** — one phone for contacts with different names: a copied row, or one
  liaison standing in for several people (who is then responsible?);
- **crowded cells** — more than [`MAX_RESIDENTS_PER_CELL`] residents per lowest-tier cell on
  average, or a listed cell with more than [`MAX_HOUSEHOLDS_PER_CELL`] households or
  [`MAX_RESIDENTS_PER_CELL`] residents. Grid-management guidance across provinces sizes a cell
  at a few hundred households (often 300–500); these bounds are ten times that, where the figure
  is far more likely a typo or a missing cell tier than a real cell;
- **implausible density** — residents per km² outside [`density_bounds`] for the archetype,
  usually the area in hectares or mu, or the population in ten-thousands (万人).

Area codes (`0599-…` belonging to another prefecture) are not checked: the kit carries no table
of telephone area codes per prefecture.

Values still `FILL_IN` are never flagged (they are blanks, counted by completeness).
*/

use std::collections::{BTreeMap, BTreeSet};

use m110_runtime::model::{Archetype, Region};
use serde::Serialize;

use crate::profile::draft::BLANK_NAME;

/// Units sharing one hotline before it is flagged.
pub const SHARED_HOTLINE_UNITS: usize = 3;
/// Households in one listed cell above which it is flagged.
pub const MAX_HOUSEHOLDS_PER_CELL: u64 = 3_000;
/// Residents per cell (average, or one listed cell) above which it is flagged.
pub const MAX_RESIDENTS_PER_CELL: u64 = 10_000;
/// At most this many ids are named in one flag's message (all are in `at`).
const NAMED: usize = 5;

/// One suspicious value (or group of values) of one region.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Flag {
    /// `shared_hotline`, `shared_contact_phone`, `crowded_cells`, `density`.
    pub kind: &'static str,
    /// Bilingual description.
    pub message: String,
    /// Unit ids or grid codes concerned.
    pub at: Vec<String>,
}

/// Plausible residents per km² by archetype, (low, high). Counties reach from the emptiest
/// plateau counties (well under 1/km²) to dense county-level cities (a few thousand); urban
/// districts from suburban ones (tens) to the densest old city centres (tens of thousands).
pub fn density_bounds(a: Archetype) -> (f64, f64) {
    match a {
        Archetype::County => (0.05, 5_000.0),
        Archetype::CityDistrict => (10.0, 60_000.0),
        Archetype::City => (1.0, 15_000.0),
    }
}

fn named(ids: &[String]) -> String {
    let mut s = ids
        .iter()
        .take(NAMED)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if ids.len() > NAMED {
        s.push_str(&format!(" … (+{})", ids.len() - NAMED));
    }
    s
}

/// The suspicious values of a region; `population_known` / `area_known` are false when the
/// profile still has them as `FILL_IN` (then nothing derived from them is judged).
pub fn flags(region: &Region, population_known: bool, area_known: bool) -> Vec<Flag> {
    let mut out = Vec::new();

    let mut by_hotline: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for u in &region.units {
        if let Some(h) = u
            .hotline
            .as_deref()
            .map(str::trim)
            .filter(|h| !h.is_empty())
        {
            by_hotline.entry(h).or_default().push(u.id.clone());
        }
    }
    for (hotline, ids) in by_hotline {
        if ids.len() >= SHARED_HOTLINE_UNITS {
            out.push(Flag {
                kind: "shared_hotline",
                message: format!(
                    "{n} 个单位共用热线 {hotline} / hotline {hotline} on {n} units: {}",
                    named(&ids),
                    n = ids.len()
                ),
                at: ids,
            });
        }
    }

    // phone → (names, where)
    let mut by_phone: BTreeMap<&str, (BTreeSet<&str>, Vec<String>)> = BTreeMap::new();
    for u in &region.units {
        for c in &u.contacts {
            let Some(p) = c.phone.as_deref().map(str::trim).filter(|p| !p.is_empty()) else {
                continue;
            };
            let name = c.name.trim();
            if name.is_empty() || name == BLANK_NAME {
                continue;
            }
            let e = by_phone.entry(p).or_default();
            e.0.insert(name);
            if !e.1.contains(&u.id) {
                e.1.push(u.id.clone());
            }
        }
    }
    for (phone, (names, ids)) in by_phone {
        if names.len() >= 2 {
            out.push(Flag {
                kind: "shared_contact_phone",
                message: format!(
                    "{n} 位不同联系人共用电话 {phone} / phone {phone} for {n} different contacts ({}) in {}",
                    names.iter().copied().collect::<Vec<_>>().join(", "),
                    named(&ids),
                    n = names.len()
                ),
                at: ids,
            });
        }
    }

    let lowest = region.tiers.iter().map(|t| t.level).max();
    let cells: Vec<_> = region
        .grid_units
        .iter()
        .filter(|g| Some(g.tier) == lowest)
        .collect();
    if population_known && !cells.is_empty() {
        let per_cell = region.info.population as f64 / cells.len() as f64;
        if per_cell > MAX_RESIDENTS_PER_CELL as f64 {
            out.push(Flag {
                kind: "crowded_cells",
                message: format!(
                    "平均每格 {per_cell:.0} 人（{} 格），超过 {MAX_RESIDENTS_PER_CELL} / {per_cell:.0} residents per cell on average over {} cells, above {MAX_RESIDENTS_PER_CELL}: a cell tier or cell rule is probably missing",
                    cells.len(),
                    cells.len()
                ),
                at: Vec::new(),
            });
        }
    }
    let crowded: Vec<String> = cells
        .iter()
        .filter(|g| {
            g.households.is_some_and(|h| h > MAX_HOUSEHOLDS_PER_CELL)
                || g.population.is_some_and(|p| p > MAX_RESIDENTS_PER_CELL)
        })
        .map(|g| g.code.clone())
        .collect();
    if !crowded.is_empty() {
        out.push(Flag {
            kind: "crowded_cells",
            message: format!(
                "{n} 个网格超过 {MAX_HOUSEHOLDS_PER_CELL} 户或 {MAX_RESIDENTS_PER_CELL} 人 / {n} cells above {MAX_HOUSEHOLDS_PER_CELL} households or {MAX_RESIDENTS_PER_CELL} residents: {}",
                named(&crowded),
                n = crowded.len()
            ),
            at: crowded,
        });
    }

    let info = &region.info;
    if population_known && area_known && info.area_km2 > 0.0 {
        let density = info.population as f64 / info.area_km2;
        let (low, high) = density_bounds(info.archetype);
        if density < low || density > high {
            out.push(Flag {
                kind: "density",
                message: format!(
                    "人口密度 {density:.1} 人/km² 不合常理（{a} 应在 {low}–{high}）/ {density:.1} residents per km² is implausible for a {a} (expected {low}–{high}): check population and area units",
                    a = info.archetype.as_str()
                ),
                at: Vec::new(),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture;

    fn kinds(f: &[Flag]) -> Vec<&str> {
        f.iter().map(|f| f.kind).collect()
    }

    #[test]
    fn fixtures_are_clean_but_for_their_crowded_cells() {
        // The fixture county has 4 cells for 300,000 people: deliberately coarse.
        let r = fixture::region();
        let f = flags(&r, true, true);
        assert_eq!(kinds(&f), ["crowded_cells"], "{f:?}");
        assert!(flags(&r, false, true).is_empty());
    }

    #[test]
    fn shared_hotlines_and_contact_phones() {
        let mut r = fixture::region();
        for u in &mut r.units {
            u.hotline = Some("12345".into());
        }
        assert!(r.units.len() >= SHARED_HOTLINE_UNITS);
        let f = flags(&r, false, false);
        let shared = f.iter().find(|f| f.kind == "shared_hotline").unwrap();
        assert_eq!(shared.at.len(), r.units.len());
        assert!(shared.message.contains("12345"), "{}", shared.message);

        let mut r = fixture::region();
        let contact = |name: &str| m110_runtime::model::Contact {
            name: name.into(),
            role: None,
            phone: Some("13912345678".into()),
        };
        r.units[0].contacts = vec![contact("张三")];
        r.units[1].contacts = vec![contact("李四"), contact(BLANK_NAME)];
        let f = flags(&r, false, false);
        assert_eq!(kinds(&f), ["shared_contact_phone"]);
        assert_eq!(f[0].at, [r.units[0].id.clone(), r.units[1].id.clone()]);
        // The same person listed twice is not suspicious.
        r.units[1].contacts = vec![contact("张三")];
        assert!(flags(&r, false, false).is_empty());
    }

    #[test]
    fn density_by_archetype() {
        let mut r = fixture::region();
        r.info.population = 300_000;
        r.info.area_km2 = 28.5; // hectares read as km²: 10,526 per km²
        let f = flags(&r, true, true);
        assert!(kinds(&f).contains(&"density"), "{f:?}");
        assert!(!kinds(&flags(&r, true, false)).contains(&"density"));
        r.info.area_km2 = 2852.5;
        assert!(!kinds(&flags(&r, true, true)).contains(&"density"));
    }

    #[test]
    fn a_listed_cell_with_too_many_households() {
        let mut r = fixture::region();
        let lowest = r.tiers.iter().map(|t| t.level).max();
        let cell = r
            .grid_units
            .iter_mut()
            .find(|g| Some(g.tier) == lowest)
            .unwrap();
        cell.households = Some(MAX_HOUSEHOLDS_PER_CELL + 1);
        let code = cell.code.clone();
        let f = flags(&r, false, false);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].at, [code]);
    }
}
