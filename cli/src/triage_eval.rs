/*!
The triage evaluation harness: runs the emergency stage and the classifier over a labelled CSV
(`text,category,emergency`, see `docs/triage-labelling.md`) and reports what a call-taker lives
with — category accuracy and macro-F1 with a confusion matrix, how often the classifier asks a
person instead (coverage), how well its probabilities are calibrated, and emergency recall and
precision per line. `triage-eval FILE.csv` prints it; a test holds the kit's evaluation set to the
issue's floors.
*/

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Instant;

use m110_runtime::engine::triage::Triage;
use m110_runtime::engine::triage::bank::Labelled;
use m110_runtime::model::EmergencyLine;
use serde::Serialize;

/// Per-line emergency figures.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LineScore {
    /// Requests labelled with this line.
    pub expected: usize,
    /// Of them, handed to this line.
    pub found: usize,
    /// Handed to this line in all.
    pub predicted: usize,
    pub recall: f64,
    pub precision: f64,
}

/// A wrong answer, for reading.
#[derive(Debug, Clone, Serialize)]
pub struct Miss {
    pub text: String,
    pub expected: String,
    pub got: String,
}

/// What an evaluation found.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    pub rows: usize,
    /// Rows labelled with a category.
    pub categorised: usize,
    /// Top-1 accuracy over them.
    pub accuracy: f64,
    pub macro_f1: f64,
    /// Share of categorised rows where the classifier was sure enough to propose (not 请人工选择).
    pub coverage: f64,
    /// Accuracy over the rows where it was sure.
    pub accuracy_when_sure: f64,
    /// Expected calibration error of the top probability (10 bins).
    pub calibration_error: f64,
    /// Emergencies found on any line / labelled emergencies.
    pub emergency_recall: f64,
    /// Requests handed to a line that are labelled emergencies / requests handed to a line.
    pub emergency_precision: f64,
    pub lines: BTreeMap<String, LineScore>,
    /// expected → got → count (categorised rows).
    pub confusion: BTreeMap<String, BTreeMap<String, usize>>,
    pub misses: Vec<Miss>,
    /// Mean time to triage one request (both stages), microseconds.
    pub micros_per_request: f64,
}

/// Runs both stages over `rows`.
pub fn evaluate(triage: &Triage, rows: &[Labelled]) -> Report {
    let mut r = Report {
        rows: rows.len(),
        ..Report::default()
    };
    let mut right = 0usize;
    let mut sure = 0usize;
    let mut sure_right = 0usize;
    let mut bins = vec![(0usize, 0.0f64, 0usize); 10];
    let mut em_expected = 0usize;
    let mut em_found = 0usize;
    let mut em_predicted = 0usize;
    let mut em_predicted_true = 0usize;
    for l in EmergencyLine::ALL {
        r.lines.insert(l.as_str().to_string(), LineScore::default());
    }
    let started = Instant::now();
    let verdicts: Vec<_> = rows.iter().map(|row| triage.classify(&row.text)).collect();
    let elapsed = started.elapsed();
    r.micros_per_request = if rows.is_empty() {
        0.0
    } else {
        round1(elapsed.as_secs_f64() * 1e6 / rows.len() as f64)
    };
    for (row, v) in rows.iter().zip(&verdicts) {
        let got_line = v.emergency.as_ref().map(|e| e.line.as_str().to_string());
        let got_shown = v
            .emergency
            .as_ref()
            .map(|e| format!("{} [{}]", e.line.as_str(), e.evidence.join(" ")));
        if let Some(g) = &got_line {
            em_predicted += 1;
            r.lines.entry(g.clone()).or_default().predicted += 1;
            if row.emergency.is_some() {
                em_predicted_true += 1;
            }
        }
        if let Some(want) = &row.emergency {
            em_expected += 1;
            let s = r.lines.entry(want.clone()).or_default();
            s.expected += 1;
            if got_line.is_some() {
                em_found += 1;
            }
            if got_line.as_deref() == Some(want.as_str()) {
                s.found += 1;
            } else {
                r.misses.push(Miss {
                    text: row.text.clone(),
                    expected: want.clone(),
                    got: got_shown.clone().unwrap_or_else(|| "—".into()),
                });
            }
        } else if let Some(g) = &got_line {
            r.misses.push(Miss {
                text: row.text.clone(),
                expected: row.category.clone().unwrap_or_default(),
                got: got_shown.clone().unwrap_or_else(|| g.clone()),
            });
        }
        if let Some(want) = &row.category {
            r.categorised += 1;
            let top = v.suggestions.first();
            let got = top.map_or("—".to_string(), |s| s.category.clone());
            *r.confusion
                .entry(want.clone())
                .or_default()
                .entry(got.clone())
                .or_default() += 1;
            let ok = &got == want;
            if ok {
                right += 1;
            } else {
                r.misses.push(Miss {
                    text: row.text.clone(),
                    expected: want.clone(),
                    got: got.clone(),
                });
            }
            if !v.manual {
                sure += 1;
                if ok {
                    sure_right += 1;
                }
            }
            if let Some(t) = top {
                let b = ((t.probability * 10.0) as usize).min(9);
                bins[b].0 += 1;
                bins[b].1 += t.probability;
                bins[b].2 += usize::from(ok);
            }
        }
    }
    let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    r.accuracy = round3(ratio(right, r.categorised));
    r.coverage = round3(ratio(sure, r.categorised));
    r.accuracy_when_sure = round3(ratio(sure_right, sure));
    r.emergency_recall = round3(ratio(em_found, em_expected));
    r.emergency_precision = round3(ratio(em_predicted_true, em_predicted));
    for s in r.lines.values_mut() {
        s.recall = round3(ratio(s.found, s.expected));
        s.precision = round3(ratio(s.found, s.predicted));
    }
    let total: usize = bins.iter().map(|b| b.0).sum();
    r.calibration_error = round3(
        bins.iter()
            .filter(|b| b.0 > 0)
            .map(|(n, p, ok)| {
                let n_f = *n as f64;
                (n_f / total.max(1) as f64) * ((p / n_f) - (*ok as f64 / n_f)).abs()
            })
            .sum(),
    );
    r.macro_f1 = round3(macro_f1(&r.confusion));
    r
}

fn macro_f1(confusion: &BTreeMap<String, BTreeMap<String, usize>>) -> f64 {
    let classes: Vec<&String> = confusion.keys().collect();
    if classes.is_empty() {
        return 0.0;
    }
    let mut sum = 0.0;
    for c in &classes {
        let tp = confusion[*c].get(*c).copied().unwrap_or(0) as f64;
        let actual: usize = confusion[*c].values().sum();
        let predicted: usize = confusion
            .values()
            .map(|row| row.get(*c).copied().unwrap_or(0))
            .sum();
        let p = if predicted == 0 {
            0.0
        } else {
            tp / predicted as f64
        };
        let r = if actual == 0 { 0.0 } else { tp / actual as f64 };
        sum += if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        };
    }
    sum / classes.len() as f64
}

impl Report {
    /// A plain-text report (zh-CN labels with English).
    pub fn render(&self, show_misses: bool) -> String {
        let mut o = String::new();
        let _ = writeln!(o, "requests 条数                {}", self.rows);
        let _ = writeln!(
            o,
            "category accuracy 分类准确率 {:.3}  macro-F1 {:.3}  (over {} categorised)",
            self.accuracy, self.macro_f1, self.categorised
        );
        let _ = writeln!(
            o,
            "coverage 自动建议占比        {:.3}  accuracy when sure {:.3}  calibration error (ECE) {:.3}",
            self.coverage, self.accuracy_when_sure, self.calibration_error
        );
        let _ = writeln!(
            o,
            "emergency recall 紧急召回率  {:.3}  precision 精确率 {:.3}",
            self.emergency_recall, self.emergency_precision
        );
        for (line, s) in &self.lines {
            let _ = writeln!(
                o,
                "  {line}: recall {:.3} ({}/{})  precision {:.3} ({}/{})",
                s.recall, s.found, s.expected, s.precision, s.found, s.predicted
            );
        }
        let _ = writeln!(
            o,
            "time per request 每条耗时    {:.1} µs",
            self.micros_per_request
        );
        let _ = writeln!(o, "\nconfusion (rows expected, columns got):");
        let mut cols: Vec<&String> = self.confusion.values().flat_map(|r| r.keys()).collect();
        cols.sort();
        cols.dedup();
        let _ = write!(o, "{:>18}", "");
        for (i, _) in cols.iter().enumerate() {
            let _ = write!(o, "{:>4}", i + 1);
        }
        let _ = writeln!(o);
        for (want, row) in &self.confusion {
            let _ = write!(o, "{want:>18}");
            for c in &cols {
                let n = row.get(*c).copied().unwrap_or(0);
                if n == 0 {
                    let _ = write!(o, "{:>4}", ".");
                } else {
                    let _ = write!(o, "{n:>4}");
                }
            }
            let _ = writeln!(o);
        }
        for (i, c) in cols.iter().enumerate() {
            let _ = writeln!(o, "  {:>2} = {c}", i + 1);
        }
        if show_misses && !self.misses.is_empty() {
            let _ = writeln!(o, "\nmisses 错例 (expected → got):");
            for m in &self.misses {
                let _ = writeln!(o, "  {} → {}  {}", m.expected, m.got, m.text);
            }
        }
        o
    }
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}
