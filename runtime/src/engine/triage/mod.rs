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
    classes: Vec<String>,
    keywords: Vec<(String, String)>,
    matcher: classifier::Keywords,
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
        let mut keywords = Vec::new();
        for c in categories {
            let words = c
                .keywords
                .iter()
                .map(|k| k.trim())
                .chain(std::iter::once(c.name_zh.trim()))
                .filter(|k| !k.is_empty());
            for kw in words {
                jieba.add_word(kw, None, Some("n"));
                keywords.push((c.code.clone(), kw.to_string()));
            }
        }
        let locator = locator::Locator::new(grid_units, &mut jieba);
        let classes: Vec<String> = categories.iter().map(|c| c.code.clone()).collect();
        let matcher = classifier::Keywords::new(keywords.iter().map(|(_, k)| k.clone()));
        let base = classifier::train(
            &jieba,
            Some(&matcher),
            &classes,
            &keywords,
            &bank::examples(),
            0,
            0,
        );
        Triage {
            jieba,
            detector: emergency::Detector::new(),
            classes,
            keywords,
            matcher,
            model: RwLock::new(Arc::new(ModelInForce {
                model: base,
                id: None,
            })),
            locator,
        }
    }

    /// Trains a model on the taxonomy, the bank and `cases` (the install's labelled cases).
    pub fn train(&self, cases: &[Example], n_cases: usize, corrected: usize) -> Model {
        let mut labelled = bank::examples();
        labelled.extend_from_slice(cases);
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
                .map(|s| s.category.clone()),
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
