/*!
The locator: which grid unit a request is about. A grid code given by the caller wins; else the
longest, most specific place name found in the address or text (lower tiers preferred, a
village whose township is also named beats a namesake elsewhere); else the nearest grid-unit
centroid to lat/lon; else unlocated (the case routes region-wide and the form says 未识别地点).
*/

use std::collections::HashMap;

use aho_corasick::AhoCorasick;
use jieba_rs::Jieba;
use serde::Serialize;

use crate::model::{GridUnit, LatLon};

/// Farthest a lat/lon may be from a grid-unit centroid to be located by it.
const MAX_NEAREST_KM: f64 = 50.0;

/// How a case was located.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "via", rename_all = "snake_case")]
pub enum Location {
    /// The caller or grid worker gave the grid code.
    GridCode { grid: String },
    /// A place name found in the address or text.
    PlaceName { grid: String, name: String },
    /// Nearest grid-unit centroid to the given coordinates.
    Nearest { grid: String, km: f64 },
    /// Nothing to go on: routed region-wide.
    Unlocated,
}

impl Location {
    pub fn grid(&self) -> Option<&str> {
        match self {
            Location::GridCode { grid }
            | Location::PlaceName { grid, .. }
            | Location::Nearest { grid, .. } => Some(grid),
            Location::Unlocated => None,
        }
    }

    pub fn via(&self) -> &'static str {
        match self {
            Location::GridCode { .. } => "grid_code",
            Location::PlaceName { .. } => "place_name",
            Location::Nearest { .. } => "nearest",
            Location::Unlocated => "unlocated",
        }
    }
}

struct Place {
    unit: usize,
    alias: String,
}

struct Unit {
    code: String,
    parent: Option<usize>,
    tier: u8,
    centroid: Option<LatLon>,
}

/// Place names and centroids of the region's grid units.
pub(super) struct Locator {
    units: Vec<Unit>,
    by_code: HashMap<String, usize>,
    places: Vec<Place>,
    /// One automaton over every place alias: a single pass over the text finds them all.
    place_matcher: Option<AhoCorasick>,
}

impl std::fmt::Debug for Locator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Locator")
            .field("units", &self.units.len())
            .field("places", &self.places.len())
            .finish()
    }
}

impl Locator {
    /// Indexes the grid units; their place names join `jieba`'s dictionary so that segmentation
    /// keeps them whole (公太社区 is not split, 火烧坪村 holds no 火烧).
    pub(super) fn new(grid_units: &[GridUnit], jieba: &mut Jieba) -> Locator {
        let by_code: HashMap<String, usize> = grid_units
            .iter()
            .enumerate()
            .map(|(i, u)| (u.code.clone(), i))
            .collect();
        let units: Vec<Unit> = grid_units
            .iter()
            .map(|u| Unit {
                code: u.code.clone(),
                parent: u.parent.as_ref().and_then(|p| by_code.get(p).copied()),
                tier: u.tier,
                centroid: u.centroid,
            })
            .collect();
        let mut places = Vec::new();
        for (i, u) in grid_units.iter().enumerate() {
            for alias in place_aliases(&u.name) {
                jieba.add_word(&alias, None, Some("ns"));
                places.push(Place { unit: i, alias });
            }
        }
        let place_matcher = AhoCorasick::new(places.iter().map(|p| p.alias.as_str())).ok();
        Locator {
            units,
            by_code,
            places,
            place_matcher,
        }
    }

    /// True when `code` is a grid unit of this region.
    pub(super) fn has_grid(&self, code: &str) -> bool {
        self.by_code.contains_key(code)
    }

    /// True when grid unit `code` is `ancestor` or lies below it.
    pub(super) fn grid_within(&self, code: &str, ancestor: &str) -> bool {
        let mut cur = self.by_code.get(code).copied();
        let mut guard = 0;
        while let Some(i) = cur {
            if self.units[i].code == ancestor {
                return true;
            }
            cur = self.units[i].parent;
            guard += 1;
            if guard > 64 {
                break;
            }
        }
        false
    }

    /// Locates a request: grid code, else place names in `texts` (address first), else the
    /// nearest centroid, else unlocated. An unknown grid code is the caller's error and is
    /// reported by intake before calling this; here it is ignored.
    pub(super) fn locate(
        &self,
        grid_code: Option<&str>,
        texts: &[&str],
        point: Option<LatLon>,
    ) -> Location {
        if let Some(code) = grid_code.filter(|c| self.has_grid(c)) {
            return Location::GridCode {
                grid: code.to_string(),
            };
        }
        for text in texts.iter().filter(|t| !t.trim().is_empty()) {
            if let Some((unit, name)) = self.find_place(text) {
                return Location::PlaceName {
                    grid: self.units[unit].code.clone(),
                    name,
                };
            }
        }
        if let Some(p) = point
            && let Some((unit, km)) = self.nearest(p)
        {
            return Location::Nearest {
                grid: self.units[unit].code.clone(),
                km: round3(km),
            };
        }
        Location::Unlocated
    }

    fn find_place(&self, text: &str) -> Option<(usize, String)> {
        let mut found: Vec<&Place> = match &self.place_matcher {
            Some(ac) => ac
                .find_overlapping_iter(text)
                .map(|m| &self.places[m.pattern().as_usize()])
                .collect(),
            None => self
                .places
                .iter()
                .filter(|p| text.contains(p.alias.as_str()))
                .collect(),
        };
        found.sort_by_key(|p| (p.unit, p.alias.len()));
        found.dedup_by(|a, b| a.unit == b.unit && a.alias == b.alias);
        if found.is_empty() {
            return None;
        }
        let named: Vec<usize> = found.iter().map(|p| p.unit).collect();
        let ancestors_named = |unit: usize| {
            let mut n = 0;
            let mut cur = self.units[unit].parent;
            while let Some(i) = cur {
                if named.contains(&i) {
                    n += 1;
                }
                cur = self.units[i].parent;
            }
            n
        };
        found
            .iter()
            .max_by_key(|p| {
                (
                    ancestors_named(p.unit),
                    self.units[p.unit].tier,
                    p.alias.chars().count(),
                    std::cmp::Reverse(p.unit),
                )
            })
            .map(|p| (p.unit, p.alias.clone()))
    }

    fn nearest(&self, p: LatLon) -> Option<(usize, f64)> {
        // Prefer the lowest tier that has centroids: it is the most specific answer.
        let tier = self
            .units
            .iter()
            .filter(|u| u.centroid.is_some())
            .map(|u| u.tier)
            .max()?;
        self.units
            .iter()
            .enumerate()
            .filter(|(_, u)| u.tier == tier)
            .filter_map(|(i, u)| u.centroid.map(|c| (i, distance_km(p, c))))
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .filter(|(_, km)| *km <= MAX_NEAREST_KM)
    }
}

/// Names a caller may use for a grid unit: the official name, the name without the committee
/// suffix (公太社区居委会 → 公太社区), and the bare name when at least two characters remain
/// (公太社区 → 公太, 昭阳街道 → 昭阳).
fn place_aliases(name: &str) -> Vec<String> {
    let name = name.trim();
    let mut out = vec![name.to_string()];
    let mut short = name.to_string();
    for suffix in [
        "社区居民委员会",
        "社区居委会",
        "居民委员会",
        "村民委员会",
        "村委会",
        "居委会",
    ] {
        if let Some(stem) = name.strip_suffix(suffix) {
            short = match suffix {
                "村民委员会" | "村委会" => format!("{stem}村"),
                "社区居民委员会" | "社区居委会" => format!("{stem}社区"),
                _ => stem.to_string(),
            };
            break;
        }
    }
    if short != name && short.chars().count() >= 2 {
        out.push(short.clone());
    }
    for suffix in ["社区", "街道", "村", "镇", "乡"] {
        if let Some(stem) = short.strip_suffix(suffix) {
            if stem.chars().count() >= 2 && stem != short {
                out.push(stem.to_string());
            }
            break;
        }
    }
    out.dedup();
    out
}

/// Great-circle distance (haversine), km.
pub fn distance_km(a: LatLon, b: LatLon) -> f64 {
    let r = 6371.0;
    let (la1, la2) = (a.lat.to_radians(), b.lat.to_radians());
    let dlat = la2 - la1;
    let dlon = (b.lon - a.lon).to_radians();
    let h = (dlat / 2.0).sin().powi(2) + la1.cos() * la2.cos() * (dlon / 2.0).sin().powi(2);
    2.0 * r * h.sqrt().asin()
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(
        code: &str,
        name: &str,
        parent: Option<&str>,
        tier: u8,
        c: Option<(f64, f64)>,
    ) -> GridUnit {
        GridUnit {
            code: code.into(),
            name: name.into(),
            parent: parent.map(Into::into),
            tier,
            population: None,
            households: None,
            centroid: c.map(|(lat, lon)| LatLon { lat, lon }),
            generated: false,
        }
    }

    fn triage() -> Locator {
        Locator::new(
            &[
                unit("350781001", "昭阳街道", None, 1, Some((27.34, 117.48))),
                unit(
                    "350781001001",
                    "公太社区居委会",
                    Some("350781001"),
                    2,
                    Some((27.341, 117.481)),
                ),
                unit("350781002", "通泰街道", None, 1, Some((27.36, 117.50))),
                unit(
                    "350781002201",
                    "新建村委会",
                    Some("350781002"),
                    2,
                    Some((27.40, 117.55)),
                ),
                unit(
                    "350781001202",
                    "新建村委会",
                    Some("350781001"),
                    2,
                    Some((27.30, 117.45)),
                ),
            ],
            &mut Jieba::new(),
        )
    }

    #[test]
    fn locates_by_code_name_and_point() {
        let t = triage();
        assert_eq!(
            t.locate(Some("350781002"), &["公太社区"], None).grid(),
            Some("350781002")
        );
        // Unknown codes fall through to the text.
        let l = t.locate(Some("999"), &["昭阳街道公太社区门口"], None);
        assert_eq!(l.grid(), Some("350781001001"));
        assert_eq!(l.via(), "place_name");
        // The bare village name is found too.
        assert_eq!(
            t.locate(None, &["公太那边路灯坏了"], None).grid(),
            Some("350781001001")
        );
        // A namesake village is disambiguated by its township.
        assert_eq!(
            t.locate(None, &["通泰街道新建村"], None).grid(),
            Some("350781002201")
        );
        assert_eq!(
            t.locate(None, &["昭阳新建村"], None).grid(),
            Some("350781001202")
        );
        let near = t.locate(
            None,
            &["不知道哪里"],
            Some(LatLon {
                lat: 27.401,
                lon: 117.551,
            }),
        );
        assert_eq!(near.grid(), Some("350781002201"));
        assert_eq!(near.via(), "nearest");
        let far = t.locate(
            None,
            &[],
            Some(LatLon {
                lat: 39.9,
                lon: 116.4,
            }),
        );
        assert_eq!(far, Location::Unlocated);
        assert!(t.grid_within("350781001001", "350781001"));
        assert!(!t.grid_within("350781001001", "350781002"));
    }

    #[test]
    fn aliases() {
        assert_eq!(
            place_aliases("公太社区居委会"),
            vec!["公太社区居委会", "公太社区", "公太"]
        );
        assert_eq!(
            place_aliases("新建村委会"),
            vec!["新建村委会", "新建村", "新建"]
        );
        assert_eq!(place_aliases("昭阳街道"), vec!["昭阳街道", "昭阳"]);
        assert_eq!(place_aliases("和平镇"), vec!["和平镇", "和平"]);
    }
}
