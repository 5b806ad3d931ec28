/*!
The category classifier: a multinomial naive Bayes model over binarized word and character-bigram
features, with its probabilities calibrated by temperature scaling.

- **Features** of a text: the words jieba finds (the region's category keywords and place names
  are in its dictionary; function words and punctuation dropped) as `w:词`, and every pair of
  adjacent Han characters as `b:字字` — bigrams carry colloquial and misspelt phrasings the
  dictionary does not know (路灯不亮 / 路登不亮 share 不亮). Each feature counts once per text
  (binarized NB is the stronger variant for short texts: Wang & Manning 2012).
- **Training** ([`train`]): the taxonomy's keywords and names (each a tiny document, weighted
  [`KEYWORD_WEIGHT`]), the kit's labelled bank (`runtime/data/triage/bank.csv`) and, when
  retrained, the install's closed cases — a case whose final category differs from the one the
  classifier suggested at intake (an operator's correction) weighs [`CORRECTED_WEIGHT`].
  Laplace smoothing `alpha`; class priors uniform, because a new hotline's mix is unknown and the
  bank's mix is not the callers'.
- **Calibration**: NB log-likelihoods add up correlated evidence and are far too sure of
  themselves. The logits are divided by a temperature `T` fitted by k-fold cross-validation on the
  labelled documents (minimum negative log-likelihood over a grid), so that "0.8" means right about
  eight times in ten. Below [`MANUAL_BELOW`] the form asks the operator to choose (请人工选择).
- **Evidence**: the words that favour a category most (their log-likelihood ratio against the
  average category), shown with each of the top three suggestions.

Training is counting: thousands of documents take milliseconds, so a process can train at start.
*/

use std::collections::HashMap;

use jieba_rs::Jieba;
use serde::{Deserialize, Serialize};

/// Weight of a taxonomy keyword as a training document.
pub const KEYWORD_WEIGHT: f64 = 2.0;
/// Weight of an install's case whose category an operator corrected.
pub const CORRECTED_WEIGHT: f64 = 3.0;
/// Below this calibrated probability the classifier does not guess.
pub const MANUAL_BELOW: f64 = 0.45;
const ALPHA: f64 = 0.1;
const FOLDS: usize = 5;
const TEMPERATURES: &[f64] = &[
    0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0, 12.0, 16.0, 20.0, 24.0,
    32.0,
];

/// Function words that say nothing about the category.
const STOPWORDS: &[&str] = &[
    "的", "了", "我", "你", "他", "她", "它", "们", "是", "在", "有", "就", "也", "都", "还", "又",
    "和", "跟", "吧", "啊", "呢", "吗", "嘛", "哦", "喂", "呀", "啦", "哈", "嗯", "那个", "这个",
    "一下", "一个", "我们", "你们", "他们", "请", "您", "好", "你好", "我家", "这", "那", "就是",
    "说", "给", "把", "被", "让", "很", "太", "要", "想", "能", "会", "个", "人", "里", "上", "下",
    "什么", "怎么", "现在", "今天", "已经", "一直", "没有", "不", "没", "来", "去", "到", "对",
    "着", "过", "得", "地", "麻烦", "谢谢", "帮", "帮忙", "看看", "一点", "那边", "这边",
];

/// One labelled training document.
#[derive(Debug, Clone)]
pub struct Example {
    pub text: String,
    pub category: String,
    pub weight: f64,
}

/// A trained classifier (also what is stored in `triage_models`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Model {
    pub classes: Vec<String>,
    pub alpha: f64,
    pub temperature: f64,
    /// Feature → per-class weighted document counts, sparse: `[(class, count)]`.
    pub counts: HashMap<String, Vec<(u16, f64)>>,
    /// Per class: total feature count.
    pub totals: Vec<f64>,
    /// Size of the vocabulary (for smoothing).
    pub vocabulary: usize,
    pub stats: TrainStats,
}

/// What a training run saw and how well it did (cross-validated on the labelled documents).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TrainStats {
    /// Labelled documents (bank plus cases), keywords not counted.
    pub examples: usize,
    /// Of which install cases.
    pub cases: usize,
    /// Of which corrected by an operator.
    pub corrected: usize,
    /// k-fold cross-validated top-1 accuracy over the labelled documents.
    pub cv_accuracy: f64,
    /// Mean negative log-likelihood after calibration (cross-validated).
    pub cv_nll: f64,
}

/// A category suggestion.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Suggestion {
    pub category: String,
    /// Calibrated probability (0..1).
    pub probability: f64,
    /// Words of the text that favour this category most.
    pub evidence: Vec<String>,
}

/// The taxonomy's keywords, found as substrings: the dictionary sometimes segments a keyword
/// away (路灯不亮 → 路 / 灯不亮), and a keyword the caller said must count as that word.
pub struct Keywords {
    matcher: Option<aho_corasick::AhoCorasick>,
    words: Vec<String>,
}

impl Keywords {
    pub fn new(words: impl IntoIterator<Item = String>) -> Keywords {
        let mut words: Vec<String> = words.into_iter().filter(|w| !w.is_empty()).collect();
        words.sort();
        words.dedup();
        Keywords {
            matcher: aho_corasick::AhoCorasick::new(&words).ok(),
            words,
        }
    }
}

/// The features of a text (deduplicated).
pub fn features(jieba: &Jieba, keywords: Option<&Keywords>, text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    if let Some(k) = keywords
        && let Some(m) = &k.matcher
    {
        for hit in m.find_overlapping_iter(text) {
            let f = format!("w:{}", k.words[hit.pattern().as_usize()]);
            if !out.contains(&f) {
                out.push(f);
            }
        }
    }
    for tok in jieba.cut(text, false) {
        let tok = tok.trim();
        if tok.is_empty()
            || STOPWORDS.contains(&tok)
            || !tok.chars().any(|c| c.is_alphabetic())
            || (tok.chars().count() == 1 && !is_han(tok.chars().next().unwrap_or(' ')))
        {
            continue;
        }
        let f = format!("w:{tok}");
        if !out.contains(&f) {
            out.push(f);
        }
    }
    let chars: Vec<char> = text.chars().collect();
    for w in chars.windows(2) {
        if is_han(w[0]) && is_han(w[1]) {
            let f = format!("b:{}{}", w[0], w[1]);
            if !out.contains(&f) {
                out.push(f);
            }
        }
    }
    out
}

fn is_han(c: char) -> bool {
    matches!(c, '\u{4e00}'..='\u{9fff}' | '\u{3400}'..='\u{4dbf}')
}

/// Counts documents into a model (no calibration yet).
fn count(classes: &[String], docs: &[(Vec<String>, usize, f64)]) -> Model {
    let mut counts: HashMap<String, Vec<(u16, f64)>> = HashMap::new();
    let mut totals = vec![0.0; classes.len()];
    for (feats, class, weight) in docs {
        for f in feats {
            let entry = counts.entry(f.clone()).or_default();
            match entry.iter_mut().find(|(c, _)| usize::from(*c) == *class) {
                Some((_, n)) => *n += weight,
                None => entry.push((*class as u16, *weight)),
            }
            totals[*class] += weight;
        }
    }
    let vocabulary = counts.len();
    Model {
        classes: classes.to_vec(),
        alpha: ALPHA,
        temperature: 1.0,
        counts,
        totals,
        vocabulary,
        stats: TrainStats::default(),
    }
}

/// Trains a model. `keywords` are `(category, keyword)` pairs of the taxonomy; `labelled` the bank
/// and the install's cases. Examples naming a category outside `classes` are skipped.
pub fn train(
    jieba: &Jieba,
    kw: Option<&Keywords>,
    classes: &[String],
    keywords: &[(String, String)],
    labelled: &[Example],
    cases: usize,
    corrected: usize,
) -> Model {
    let index: HashMap<&str, usize> = classes
        .iter()
        .enumerate()
        .map(|(i, c)| (c.as_str(), i))
        .collect();
    let kw_docs: Vec<(Vec<String>, usize, f64)> = keywords
        .iter()
        .filter_map(|(c, k)| {
            index
                .get(c.as_str())
                .map(|i| (features(jieba, kw, k), *i, KEYWORD_WEIGHT))
        })
        .collect();
    let docs: Vec<(Vec<String>, usize, f64)> = labelled
        .iter()
        .filter_map(|e| {
            index
                .get(e.category.as_str())
                .map(|i| (features(jieba, kw, &e.text), *i, e.weight))
        })
        .collect();

    // Cross-validation: logits of each labelled document from a model that never saw it.
    let mut held_out: Vec<(Vec<f64>, usize)> = Vec::new();
    if docs.len() >= FOLDS * 2 {
        for fold in 0..FOLDS {
            let mut train_docs = kw_docs.clone();
            train_docs.extend(
                docs.iter()
                    .enumerate()
                    .filter(|(i, _)| i % FOLDS != fold)
                    .map(|(_, d)| d.clone()),
            );
            let m = count(classes, &train_docs);
            for (_, d) in docs.iter().enumerate().filter(|(i, _)| i % FOLDS == fold) {
                held_out.push((m.logits(&d.0), d.1));
            }
        }
    }
    let (temperature, cv_nll) = fit_temperature(&held_out);
    let cv_accuracy = if held_out.is_empty() {
        0.0
    } else {
        let right = held_out
            .iter()
            .filter(|(l, y)| argmax(l) == Some(*y))
            .count();
        right as f64 / held_out.len() as f64
    };

    let mut all = kw_docs;
    all.extend(docs);
    let mut model = count(classes, &all);
    model.temperature = temperature;
    model.stats = TrainStats {
        examples: labelled.len(),
        cases,
        corrected,
        cv_accuracy: round3(cv_accuracy),
        cv_nll: round3(cv_nll),
    };
    model
}

fn fit_temperature(held_out: &[(Vec<f64>, usize)]) -> (f64, f64) {
    if held_out.is_empty() {
        return (8.0, 0.0);
    }
    TEMPERATURES
        .iter()
        .map(|t| {
            let nll: f64 = held_out
                .iter()
                .map(|(l, y)| -softmax(l, *t)[*y].max(1e-12).ln())
                .sum::<f64>()
                / held_out.len() as f64;
            (*t, nll)
        })
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .unwrap_or((1.0, 0.0))
}

fn softmax(logits: &[f64], t: f64) -> Vec<f64> {
    let max = logits.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let exps: Vec<f64> = logits.iter().map(|l| ((l - max) / t).exp()).collect();
    let sum: f64 = exps.iter().sum();
    exps.iter().map(|e| e / sum).collect()
}

fn argmax(v: &[f64]) -> Option<usize> {
    v.iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1).then(b.0.cmp(&a.0)))
        .map(|(i, _)| i)
}

impl Model {
    fn log_p(&self, count: f64, class: usize) -> f64 {
        ((count + self.alpha) / (self.totals[class] + self.alpha * self.vocabulary as f64)).ln()
    }

    /// Log-likelihood of the known features, per class (uniform priors).
    fn logits(&self, feats: &[String]) -> Vec<f64> {
        let mut out = vec![0.0; self.classes.len()];
        for f in feats {
            let Some(hits) = self.counts.get(f) else {
                continue;
            };
            for (c, slot) in out.iter_mut().enumerate() {
                let n = hits
                    .iter()
                    .find(|(k, _)| usize::from(*k) == c)
                    .map_or(0.0, |(_, n)| *n);
                *slot += self.log_p(n, c);
            }
        }
        out
    }

    /// Calibrated probabilities per class for the features of a text; `None` when the text has
    /// no feature the model knows.
    pub fn predict(&self, feats: &[String]) -> Option<Vec<f64>> {
        if self.classes.is_empty() || !feats.iter().any(|f| self.counts.contains_key(f)) {
            return None;
        }
        Some(softmax(&self.logits(feats), self.temperature))
    }

    /// The best `n` suggestions with their evidence words.
    pub fn suggest(&self, feats: &[String], n: usize) -> Vec<Suggestion> {
        let Some(probs) = self.predict(feats) else {
            return Vec::new();
        };
        let mut ranked: Vec<(usize, f64)> = probs.iter().copied().enumerate().collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        ranked
            .into_iter()
            .take(n)
            .map(|(c, p)| Suggestion {
                category: self.classes[c].clone(),
                probability: round3(p),
                evidence: self.evidence(feats, c),
            })
            .collect()
    }

    /// Up to three words of the text that favour class `c` most over the average class.
    fn evidence(&self, feats: &[String], c: usize) -> Vec<String> {
        let k = self.classes.len() as f64;
        let mut scored: Vec<(&str, f64)> = feats
            .iter()
            .filter_map(|f| {
                let word = f.strip_prefix("w:")?;
                let hits = self.counts.get(f)?;
                let n = |class: usize| {
                    hits.iter()
                        .find(|(x, _)| usize::from(*x) == class)
                        .map_or(0.0, |(_, n)| *n)
                };
                let mine = self.log_p(n(c), c);
                let mean = (0..self.classes.len())
                    .map(|x| self.log_p(n(x), x))
                    .sum::<f64>()
                    / k;
                let lift = mine - mean;
                (lift > 0.5).then_some((word, lift))
            })
            .collect();
        scored.sort_by(|a, b| b.1.total_cmp(&a.1));
        scored
            .into_iter()
            .take(3)
            .map(|(w, _)| w.to_string())
            .collect()
    }
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ex(text: &str, category: &str) -> Example {
        Example {
            text: text.into(),
            category: category.into(),
            weight: 1.0,
        }
    }

    #[test]
    fn learns_from_examples_and_calibrates() {
        let mut jieba = Jieba::new();
        jieba.add_word("路灯", None, None);
        jieba.add_word("停水", None, None);
        let classes = vec!["roads".to_string(), "water".to_string()];
        let keywords = vec![
            ("roads".to_string(), "路灯".to_string()),
            ("water".to_string(), "停水".to_string()),
        ];
        let mut labelled = Vec::new();
        for i in 0..10 {
            labelled.push(ex(&format!("第{i}条马路上的路灯坏了晚上很黑"), "roads"));
            labelled.push(ex(&format!("第{i}栋楼又停水了没水洗澡"), "water"));
        }
        let m = train(&jieba, None, &classes, &keywords, &labelled, 0, 0);
        assert_eq!(m.stats.examples, 20);
        assert!(m.stats.cv_accuracy > 0.9, "{:?}", m.stats);
        let s = m.suggest(&features(&jieba, None, "路灯不亮"), 3);
        assert_eq!(s[0].category, "roads");
        assert!(s[0].probability > 0.5, "{s:?}");
        let s = m.suggest(&features(&jieba, None, "停水了"), 3);
        assert_eq!(s[0].category, "water", "{s:?}");
        let sum: f64 = s.iter().map(|x| x.probability).sum();
        assert!((sum - 1.0).abs() < 0.01);
        // Nothing known: no suggestion at all rather than a guess.
        assert!(m.suggest(&features(&jieba, None, "qqq"), 3).is_empty());
    }

    #[test]
    fn features_drop_function_words_and_keep_bigrams() {
        let mut jieba = Jieba::new();
        jieba.add_word("路灯", None, None);
        let f = features(&jieba, None, "我家的路灯不亮了");
        assert!(f.contains(&"b:路灯".to_string()), "{f:?}");
        assert!(f.contains(&"b:不亮".to_string()), "{f:?}");
        assert!(!f.contains(&"w:的".to_string()));
    }
}
