/*!
Triage: what a request is about and where it happened, in three stages.

1. [`emergency`]: is this for an emergency line (110 police, 119 fire, 120 medical, 122 traffic)?
   Patterns over the segmented **content** with negation and scope — never over the address.
2. [`classifier`]: which category, as calibrated probabilities with evidence words; below a
   threshold the operator chooses (`manual`). Trained from the taxonomy's keywords, the kit's
   labelled bank ([`bank`]) and — after `m110 triage retrain` — the install's closed cases.
3. [`locator`]: the grid unit, from a grid code, place names, or coordinates.

[`Triage`] is built once per process from the region data and shared read-only by every request;
only the classifier's model is swapped when a retrained one is loaded.
*/

pub mod bank;
pub mod classifier;
mod cues;
pub mod emergency;
mod locator;
pub mod training;

use std::sync::{Arc, RwLock};

use jieba_rs::Jieba;
use serde::Serialize;

pub use classifier::{Example, MANUAL_BELOW, Model, Suggestion, TrainStats};
pub use emergency::Emergency;
pub use locator::{Location, distance_km};

use crate::model::{Category, GridUnit, LatLon};

/// Triage's verdict on a request text.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Classification {
    /// The category to use: the best suggestion when it is sure enough, else `None`.
    pub category: Option<String>,
    /// Probability of the best suggestion (0..1; 0 when there is none).
    pub confidence: f64,
    /// True when the classifier is not sure: the operator must choose (请人工选择).
    pub manual: bool,
    /// The top three categories with their calibrated probabilities and evidence words.
    pub suggestions: Vec<Suggestion>,
    /// An emergency for one of the linked lines, found in the content (never the address).
    pub emergency: Option<Emergency>,
}

/// Emergency detector, classifier and locator for one region, built once.
pub struct Triage {
    jieba: Jieba,
    detector: emergency::Detector,
    /// The classifier's classes: the 大类 (categories without a parent).
    classes: Vec<String>,
    /// `(大类, keyword)`: a sub-category's keywords count for its 大类.
    keywords: Vec<(String, String)>,
    matcher: classifier::Keywords,
    /// Category code → its 大类.
    roots: std::collections::HashMap<String, String>,
    /// Sub-categories with the words that pick them once their 大类 is known, deepest first.
    refiners: Vec<Refiner>,
    model: RwLock<Arc<ModelInForce>>,
    locator: locator::Locator,
}

/// The model in use and where it came from.
#[derive(Debug)]
pub struct ModelInForce {
    pub model: Model,
    /// Row id in `triage_models`, `None` for the one trained at start from the kit's bank.
    pub id: Option<i64>,
}

impl std::fmt::Debug for Triage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Triage")
            .field("classes", &self.classes.len())
            .field("keywords", &self.keywords.len())
            .field("locator", &self.locator)
            .finish()
    }
}

impl Triage {
    /// Builds the three stages and trains the classifier on the taxonomy and the kit's bank
    /// (loads jieba's dictionary: call once per process).
    pub fn new(categories: &[Category], grid_units: &[GridUnit]) -> Triage {
        let mut jieba = Jieba::new();
        let roots = roots_of(categories);
        let mut keywords = Vec::new();
        for c in categories {
            for kw in words_of(c) {
                jieba.add_word(kw, None, Some("n"));
                keywords.push((roots[&c.code].clone(), kw.to_string()));
            }
        }
        let locator = locator::Locator::new(grid_units, &mut jieba);
        let classes: Vec<String> = categories
            .iter()
            .filter(|c| c.parent.is_none())
            .map(|c| c.code.clone())
            .collect();
        let matcher = classifier::Keywords::new(keywords.iter().map(|(_, k)| k.clone()));
        let base = classifier::train(
            &jieba,
            Some(&matcher),
            &classes,
            &keywords,
            &to_roots(bank::examples(), &roots),
            0,
            0,
        );
        let refiners = refiners(categories, &roots);
        Triage {
            jieba,
            detector: emergency::Detector::new(),
            classes,
            keywords,
            matcher,
            roots,
            refiners,
            model: RwLock::new(Arc::new(ModelInForce {
                model: base,
                id: None,
            })),
            locator,
        }
    }

    /// The classifier's classes (the 大类), in taxonomy order.
    pub fn classes(&self) -> &[String] {
        &self.classes
    }

    /// The most specific category under `category` whose words occur in `content`, else
    /// `category` itself: a deeper category beats a shallower one, a longer word a shorter.
    pub fn refine(&self, category: &str, content: &str) -> String {
        self.refiners
            .iter()
            .filter(|r| r.ancestors.iter().any(|a| a == category))
            .filter_map(|r| {
                let len = r
                    .words
                    .iter()
                    .filter(|w| content.contains(w.as_str()))
                    .map(|w| w.chars().count())
                    .max()?;
                Some((r.ancestors.len(), len, &r.code))
            })
            // max_by_key keeps the last of equals; reversed so the taxonomy's first one wins.
            .rev()
            .max_by_key(|(depth, len, _)| (*depth, *len))
            .map_or_else(|| category.to_string(), |(_, _, code)| code.to_string())
    }

    /// Trains a model on the taxonomy, the bank and `cases` (the install's labelled cases).
    pub fn train(&self, cases: &[Example], n_cases: usize, corrected: usize) -> Model {
        let mut labelled = bank::examples();
        labelled.extend_from_slice(cases);
        let labelled = to_roots(labelled, &self.roots);
        classifier::train(
            &self.jieba,
            Some(&self.matcher),
            &self.classes,
            &self.keywords,
            &labelled,
            n_cases,
            corrected,
        )
    }

    /// Puts a (retrained) model in force for every request from now on.
    pub fn set_model(&self, model: Model, id: Option<i64>) {
        let mut slot = self.model.write().unwrap_or_else(|e| e.into_inner());
        *slot = Arc::new(ModelInForce { model, id });
    }

    /// The model in force.
    pub fn model(&self) -> Arc<ModelInForce> {
        self.model.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Emergency stage over the content only.
    pub fn emergency(&self, content: &str) -> Option<Emergency> {
        let tokens = self.jieba.cut(content, false);
        self.detector.detect(content, &tokens)
    }

    /// The terms a text is searched by (the knowledge base): the words of this region's
    /// segmenter — its category keywords and place names included — and Han character pairs,
    /// the classifier's features.
    pub fn search_terms(&self, text: &str) -> Vec<String> {
        classifier::features(&self.jieba, Some(&self.matcher), text)
    }

    /// Both stages over a request's content (the address is never looked at).
    pub fn classify(&self, content: &str) -> Classification {
        let emergency = self.emergency(content);
        let feats = classifier::features(&self.jieba, Some(&self.matcher), content);
        let model = self.model();
        let suggestions = model.model.suggest(&feats, 3);
        let confidence = suggestions.first().map_or(0.0, |s| s.probability);
        let sure = confidence >= MANUAL_BELOW;
        Classification {
            category: suggestions
                .first()
                .filter(|_| sure)
                .map(|s| self.refine(&s.category, content)),
            confidence,
            manual: !sure,
            suggestions,
            emergency,
        }
    }

    /// True when `code` is a grid unit of this region.
    pub fn has_grid(&self, code: &str) -> bool {
        self.locator.has_grid(code)
    }

    /// True when grid unit `code` is `ancestor` or lies below it.
    pub fn grid_within(&self, code: &str, ancestor: &str) -> bool {
        self.locator.grid_within(code, ancestor)
    }

    /// Locates a request: grid code, else place names in `texts` (address first), else the
    /// nearest centroid, else unlocated.
    pub fn locate(
        &self,
        grid_code: Option<&str>,
        texts: &[&str],
        point: Option<LatLon>,
    ) -> Location {
        self.locator.locate(grid_code, texts, point)
    }
}

/// A sub-category, the categories above it (parent first) and its words.
#[derive(Debug, Clone)]
struct Refiner {
    code: String,
    ancestors: Vec<String>,
    words: Vec<String>,
}

/// A category's keywords and its Chinese name, trimmed, blanks left out.
fn words_of(c: &Category) -> impl Iterator<Item = &str> {
    c.keywords
        .iter()
        .map(|k| k.trim())
        .chain(std::iter::once(c.name_zh.trim()))
        .filter(|k| !k.is_empty())
}

/// Every category's 大类 (its topmost ancestor; itself for a 大类). A parent missing from the
/// list (validation refuses that) or a cycle stops the walk where it is.
fn roots_of(categories: &[Category]) -> std::collections::HashMap<String, String> {
    let parent: std::collections::HashMap<&str, &str> = categories
        .iter()
        .filter_map(|c| c.parent.as_deref().map(|p| (c.code.as_str(), p)))
        .collect();
    let known: std::collections::HashSet<&str> =
        categories.iter().map(|c| c.code.as_str()).collect();
    categories
        .iter()
        .map(|c| {
            let mut cur = c.code.as_str();
            for _ in 0..16 {
                match parent.get(cur) {
                    Some(p) if known.contains(p) => cur = p,
                    _ => break,
                }
            }
            (c.code.clone(), cur.to_string())
        })
        .collect()
}

fn refiners(
    categories: &[Category],
    roots: &std::collections::HashMap<String, String>,
) -> Vec<Refiner> {
    let parent: std::collections::HashMap<&str, &str> = categories
        .iter()
        .filter_map(|c| c.parent.as_deref().map(|p| (c.code.as_str(), p)))
        .collect();
    categories
        .iter()
        .filter(|c| c.parent.is_some() && !c.police)
        .map(|c| {
            let mut ancestors = Vec::new();
            let mut cur = c.code.as_str();
            while let Some(p) = parent.get(cur) {
                ancestors.push(p.to_string());
                if *p == roots[&c.code] || ancestors.len() > 16 {
                    break;
                }
                cur = p;
            }
            Refiner {
                code: c.code.clone(),
                ancestors,
                words: words_of(c).map(str::to_string).collect(),
            }
        })
        .collect()
}

/// Labelled examples as the classifier learns them: each under its category's 大类 (a case
/// closed as 停电 teaches 公共设施); examples of categories no longer in the taxonomy stay as
/// they are and the classifier ignores them.
fn to_roots(
    examples: Vec<Example>,
    roots: &std::collections::HashMap<String, String>,
) -> Vec<Example> {
    examples
        .into_iter()
        .map(|mut e| {
            if let Some(r) = roots.get(&e.category) {
                e.category = r.clone();
            }
            e
        })
        .collect()
}

#[cfg(test)]
mod refine_tests {
    use super::*;
    use crate::model::Priority;

    fn cat(code: &str, parent: Option<&str>, zh: &str, keywords: &[&str]) -> Category {
        Category {
            code: code.into(),
            name_zh: zh.into(),
            name_en: code.into(),
            parent: parent.map(Into::into),
            priority: Priority::Normal,
            police: false,
            sign_minutes: 30,
            close_hours: 72,
            keywords: keywords.iter().map(|k| k.to_string()).collect(),
            matchable: false,
        }
    }

    fn triage() -> Triage {
        Triage::new(
            &[
                cat(
                    "public_facilities",
                    None,
                    "公共设施",
                    &["公园", "路灯", "井盖"],
                ),
                cat(
                    "public_facilities.utilities",
                    Some("public_facilities"),
                    "水电气",
                    &["抄表"],
                ),
                cat(
                    "public_facilities.utilities.power",
                    Some("public_facilities.utilities"),
                    "停电",
                    &["停电", "断电"],
                ),
                cat(
                    "public_facilities.utilities.water",
                    Some("public_facilities.utilities"),
                    "停水",
                    &["停水", "没水"],
                ),
                cat("roads", None, "道路交通", &["道路", "坑洼", "红绿灯"]),
            ],
            &[],
        )
    }

    #[test]
    fn the_classifier_learns_the_top_level_and_the_words_pick_the_leaf() {
        let t = triage();
        assert_eq!(t.classes(), ["public_facilities", "roads"]);
        let c = t.classify("我们小区从昨天晚上开始停电，到现在还没来电");
        assert_eq!(c.suggestions[0].category, "public_facilities");
        assert_eq!(
            c.category.as_deref(),
            Some("public_facilities.utilities.power")
        );
        // No leaf word: the 大类 stays.
        let c = t.classify("公园里的路灯坏了好几个");
        assert_eq!(c.category.as_deref(), Some("public_facilities"));
    }

    #[test]
    fn refine_prefers_the_deepest_then_the_longest_word_and_stays_in_its_branch() {
        let t = triage();
        assert_eq!(
            t.refine("public_facilities", "抄表员说要停水"),
            "public_facilities.utilities.water"
        );
        assert_eq!(
            t.refine("public_facilities", "抄表的事"),
            "public_facilities.utilities"
        );
        // Words of another 大类's leaves never move a case across branches.
        assert_eq!(t.refine("roads", "路上停电了"), "roads");
    }
}
