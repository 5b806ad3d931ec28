/*!
Triage: decide what a request is about (classifier) and where it happened (locator).

Both are built once per process from the region data in the store (categories with their keywords,
grid units with names and centroids) — region data is static after provisioning — and shared
read-only by every request, so intake never rebuilds a dictionary.

- **Police first.** Emergency keywords (火灾, 抢劫, 持刀 …) and the keywords of police categories
  (`Category.police`) mark the request for police transfer (转警) before any other scoring.
- **Classifier.** jieba-rs segments the text with the region's category keywords and place names
  added as user words (so "路灯不亮" yields `路灯`, and "公太社区" is not split); each category
  scores the keyword hits it owns, longer keywords weigh more. The best category wins; its
  confidence is its share of all hits; the runners-up are returned as alternatives so the operator
  can override.
- **Locator.** A grid code given by the caller wins; else the longest, most specific place name
  found in the address or text (lower tiers preferred, a village whose township is also named
  beats a namesake elsewhere); else the nearest grid-unit centroid to lat/lon; else unlocated (the
  case routes region-wide).
*/

use std::collections::HashMap;

use aho_corasick::AhoCorasick;
use jieba_rs::Jieba;
use serde::Serialize;

use crate::model::{Category, GridUnit, LatLon};

/// Phrases that always mean police dispatch, whatever the region's categories say.
pub const EMERGENCY_KEYWORDS: &[&str] = &[
    "火灾",
    "着火",
    "失火",
    "起火",
    "爆炸",
    "抢劫",
    "抢夺",
    "杀人",
    "行凶",
    "持刀",
    "持枪",
    "砍人",
    "打架斗殴",
    "斗殴",
    "车祸有人受伤",
    "交通事故有人受伤",
    "绑架",
    "劫持",
    "投毒",
    "强奸",
    "盗窃进行中",
    "有人跳楼",
    "溺水",
];

/// Farthest a lat/lon may be from a grid-unit centroid to be located by it.
const MAX_NEAREST_KM: f64 = 50.0;

/// The classifier's verdict.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Classification {
    /// Best category code; `None` when nothing matched.
    pub category: Option<String>,
    /// Share of the keyword evidence the best category holds (0..=1).
    pub confidence: f64,
    /// Other candidates, best first: (code, confidence).
    pub alternatives: Vec<Alternative>,
    /// The request is a police emergency (转警).
    pub police: bool,
    /// The emergency keyword or police category keyword that triggered the transfer.
    pub police_trigger: Option<String>,
    /// Keywords found in the text.
    pub matched: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Alternative {
    pub category: String,
    pub confidence: f64,
}

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

struct CategoryInfo {
    code: String,
    police: bool,
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

/// Classifier and locator for one region, built once.
pub struct Triage {
    jieba: Jieba,
    categories: Vec<CategoryInfo>,
    /// keyword → (category index, weight)
    keywords: HashMap<String, Vec<(usize, f64)>>,
    /// Keywords of police categories plus [`EMERGENCY_KEYWORDS`], matched as substrings so no
    /// segmentation choice can hide an emergency.
    police_phrases: Vec<(String, Option<usize>)>,
    units: Vec<Unit>,
    by_code: HashMap<String, usize>,
    places: Vec<Place>,
    /// One automaton over every place alias: a single pass over the text finds them all.
    place_matcher: Option<AhoCorasick>,
}

impl std::fmt::Debug for Triage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Triage")
            .field("categories", &self.categories.len())
            .field("keywords", &self.keywords.len())
            .field("units", &self.units.len())
            .field("places", &self.places.len())
            .finish()
    }
}

impl Triage {
    /// Builds the classifier and locator (loads jieba's dictionary: call once per process).
    pub fn new(categories: &[Category], grid_units: &[GridUnit]) -> Triage {
        let mut jieba = Jieba::new();
        let mut infos = Vec::new();
        let mut keywords: HashMap<String, Vec<(usize, f64)>> = HashMap::new();
        let mut police_phrases: Vec<(String, Option<usize>)> = EMERGENCY_KEYWORDS
            .iter()
            .map(|k| (k.to_string(), None))
            .collect();
        for (i, c) in categories.iter().enumerate() {
            infos.push(CategoryInfo {
                code: c.code.clone(),
                police: c.police,
            });
            let words = c
                .keywords
                .iter()
                .map(|k| k.trim())
                .chain(std::iter::once(c.name_zh.trim()))
                .filter(|k| !k.is_empty());
            for kw in words {
                if c.police {
                    police_phrases.push((kw.to_string(), Some(i)));
                    continue;
                }
                jieba.add_word(kw, None, Some("n"));
                let chars = kw.chars().count() as f64;
                let weight = 1.0 + 0.25 * (chars - 2.0).max(0.0);
                let entry = keywords.entry(kw.to_string()).or_default();
                if !entry.iter().any(|(c, _)| *c == i) {
                    entry.push((i, weight));
                }
            }
        }
        // Longest first, so the reported trigger is the most telling phrase.
        police_phrases.sort_by_key(|(p, _)| std::cmp::Reverse(p.chars().count()));

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
        Triage {
            jieba,
            categories: infos,
            keywords,
            police_phrases,
            units,
            by_code,
            places,
            place_matcher,
        }
    }

    /// Classifies a request text (content plus anything the caller said about the place).
    pub fn classify(&self, text: &str) -> Classification {
        if let Some((phrase, cat)) = self
            .police_phrases
            .iter()
            .find(|(p, _)| text.contains(p.as_str()))
        {
            let category = cat.map(|i| self.categories[i].code.clone()).or_else(|| {
                self.categories
                    .iter()
                    .find(|c| c.police)
                    .map(|c| c.code.clone())
            });
            return Classification {
                category,
                confidence: 1.0,
                alternatives: Vec::new(),
                police: true,
                police_trigger: Some(phrase.clone()),
                matched: vec![phrase.clone()],
            };
        }
        let mut scores = vec![0.0f64; self.categories.len()];
        let mut matched: Vec<String> = Vec::new();
        // No HMM: every word that matters (keywords, place names) is in the dictionary.
        for token in self.jieba.cut(text, false) {
            if let Some(hits) = self.keywords.get(token) {
                for (cat, w) in hits {
                    scores[*cat] += w;
                }
                if !matched.iter().any(|m| m == token) {
                    matched.push(token.to_string());
                }
            }
        }
        // A keyword the segmenter split differently (e.g. glued to a place name) still counts,
        // at half weight: segmentation decides ties, not whether a keyword is seen at all.
        for (kw, hits) in &self.keywords {
            if !matched.iter().any(|m| m == kw) && text.contains(kw.as_str()) {
                for (cat, w) in hits {
                    scores[*cat] += w * 0.5;
                }
                matched.push(kw.clone());
            }
        }
        let total: f64 = scores.iter().sum();
        let mut ranked: Vec<(usize, f64)> = scores
            .iter()
            .copied()
            .enumerate()
            .filter(|(_, s)| *s > 0.0)
            .collect();
        // Stable on ties: the earlier category (profile order) wins.
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        let mut it = ranked.into_iter();
        match it.next() {
            None => Classification {
                category: None,
                confidence: 0.0,
                alternatives: Vec::new(),
                police: false,
                police_trigger: None,
                matched,
            },
            Some((best, score)) => Classification {
                category: Some(self.categories[best].code.clone()),
                confidence: round3(score / total),
                alternatives: it
                    .take(3)
                    .map(|(i, s)| Alternative {
                        category: self.categories[i].code.clone(),
                        confidence: round3(s / total),
                    })
                    .collect(),
                police: false,
                police_trigger: None,
                matched,
            },
        }
    }

    /// True when `code` is a grid unit of this region.
    pub fn has_grid(&self, code: &str) -> bool {
        self.by_code.contains_key(code)
    }

    /// True when grid unit `code` is `ancestor` or lies below it.
    pub fn grid_within(&self, code: &str, ancestor: &str) -> bool {
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
    pub fn locate(
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
    use crate::model::Priority;

    fn cat(code: &str, name: &str, police: bool, kws: &[&str]) -> Category {
        Category {
            code: code.into(),
            name_zh: name.into(),
            name_en: code.into(),
            parent: None,
            priority: Priority::Normal,
            police,
            sign_minutes: 30,
            close_hours: 72,
            keywords: kws.iter().map(|s| s.to_string()).collect(),
        }
    }

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

    fn triage() -> Triage {
        Triage::new(
            &[
                cat(
                    "roads",
                    "道路交通",
                    false,
                    &["路灯", "道路", "坑洼", "红绿灯"],
                ),
                cat("water", "供水", false, &["停水", "水管", "自来水"]),
                cat("dispute", "矛盾纠纷", false, &["纠纷", "邻里"]),
                cat("police", "治安警情", true, &["报警", "小偷"]),
            ],
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
        )
    }

    #[test]
    fn classifies_by_keyword_hits_with_alternatives() {
        let t = triage();
        let c = t.classify("我家门口的路灯坏了好几天，道路也有坑洼");
        assert_eq!(c.category.as_deref(), Some("roads"));
        assert!(!c.police);
        assert!((c.confidence - 1.0).abs() < 1e-9);
        assert!(c.matched.contains(&"路灯".to_string()), "{:?}", c.matched);
        let mixed = t.classify("小区停水了，还因为水管的事跟邻里起了纠纷，路灯也不亮");
        assert_eq!(mixed.category.as_deref(), Some("water"));
        assert!(mixed.confidence < 1.0);
        let alts: Vec<&str> = mixed
            .alternatives
            .iter()
            .map(|a| a.category.as_str())
            .collect();
        assert!(
            alts.contains(&"dispute") && alts.contains(&"roads"),
            "{alts:?}"
        );
        let glued = t.classify("公太社区路灯不亮");
        assert_eq!(glued.category.as_deref(), Some("roads"), "{glued:?}");
        let none = t.classify("你好，我想咨询一下");
        assert_eq!(none.category, None);
        assert_eq!(none.confidence, 0.0);
    }

    #[test]
    fn emergencies_go_to_police() {
        let t = triage();
        let c = t.classify("楼下有人持刀打架斗殴，快来人");
        assert!(c.police);
        assert_eq!(c.category.as_deref(), Some("police"));
        assert_eq!(c.police_trigger.as_deref(), Some("打架斗殴"));
        let c = t.classify("我要报警，家里进了小偷");
        assert!(c.police);
        let c = t.classify("路灯不亮");
        assert!(!c.police);
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
