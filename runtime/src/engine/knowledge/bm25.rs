/*!
Okapi BM25 over token lists — the knowledge base's ranking, pure (no I/O, no segmenter: the
caller passes tokens, so it is tested with hand-made ones).

A document is an entry's question and answer; the question's tokens count [`QUESTION_WEIGHT`]
times, because a caller's words resemble the question asked more than the answer given. Scores
use the usual parameters (k1 = 1.2, b = 0.75) and the non-negative IDF
`ln(1 + (N − n + 0.5) / (n + 0.5))`, so a token in every entry still counts a little and a score
is never negative.
*/

use std::collections::HashMap;

/// Term-frequency saturation.
const K1: f64 = 1.2;
/// Length normalization.
const B: f64 = 0.75;
/// How many times a question's token counts against an answer's.
pub const QUESTION_WEIGHT: f64 = 2.0;

/// One document to index: its id, the tokens of its question and of its answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Doc {
    pub id: i64,
    pub question: Vec<String>,
    pub answer: Vec<String>,
}

/// An index over a fixed set of documents.
#[derive(Debug, Clone, Default)]
pub struct Bm25 {
    ids: Vec<i64>,
    /// Weighted term frequencies per document.
    tf: Vec<HashMap<String, f64>>,
    /// Weighted length per document.
    len: Vec<f64>,
    avg_len: f64,
    /// Documents containing each term.
    df: HashMap<String, usize>,
}

impl Bm25 {
    pub fn new(docs: &[Doc]) -> Bm25 {
        let mut index = Bm25::default();
        for d in docs {
            let mut tf: HashMap<String, f64> = HashMap::new();
            for (tokens, w) in [(&d.question, QUESTION_WEIGHT), (&d.answer, 1.0)] {
                for t in tokens {
                    *tf.entry(t.clone()).or_default() += w;
                }
            }
            for t in tf.keys() {
                *index.df.entry(t.clone()).or_default() += 1;
            }
            index.len.push(tf.values().sum());
            index.tf.push(tf);
            index.ids.push(d.id);
        }
        let n = index.len.len();
        index.avg_len = if n == 0 {
            0.0
        } else {
            index.len.iter().sum::<f64>() / n as f64
        };
        index
    }

    /// How many documents it holds.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    fn idf(&self, term: &str) -> f64 {
        let n = self.ids.len() as f64;
        let df = self.df.get(term).copied().unwrap_or(0) as f64;
        (1.0 + (n - df + 0.5) / (df + 0.5)).ln()
    }

    /// Every document with a positive score for `query` (each distinct token counts once), best
    /// first; ties go to the lower id (the older entry) so the order is stable.
    pub fn rank(&self, query: &[String]) -> Vec<(i64, f64)> {
        let mut terms: Vec<&str> = query.iter().map(String::as_str).collect();
        terms.sort_unstable();
        terms.dedup();
        let idf: Vec<(&str, f64)> = terms
            .into_iter()
            .filter(|t| self.df.contains_key(*t))
            .map(|t| (t, self.idf(t)))
            .collect();
        let mut out: Vec<(i64, f64)> = Vec::new();
        for (i, tf) in self.tf.iter().enumerate() {
            let norm = if self.avg_len > 0.0 {
                K1 * (1.0 - B + B * self.len[i] / self.avg_len)
            } else {
                K1
            };
            let score: f64 = idf
                .iter()
                .filter_map(|(t, idf)| tf.get(*t).map(|f| idf * f * (K1 + 1.0) / (f + norm)))
                .sum();
            if score > 0.0 {
                out.push((self.ids[i], score));
            }
        }
        out.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    fn doc(id: i64, q: &str, a: &str) -> Doc {
        Doc {
            id,
            question: toks(q),
            answer: toks(a),
        }
    }

    fn corpus() -> Bm25 {
        Bm25::new(&[
            doc(1, "低保 怎么 申请", "携带 户口本 身份证 到 社区 申请 低保"),
            doc(2, "医保 报销 比例", "住院 医保 报销 比例 按 医院 等级"),
            doc(3, "停水 什么 时候 恢复", "供水 公司 抢修 后 恢复 供水"),
        ])
    }

    #[test]
    fn the_entry_sharing_the_rarest_words_wins() {
        let r = corpus().rank(&toks("我 想 办 低保 要 带 什么"));
        assert_eq!(r[0].0, 1);
        // 什么 is in entry 3's question too, but rarer words decide.
        assert!(r.iter().any(|(id, _)| *id == 3));
        assert!(r[0].1 > r[1].1);
    }

    #[test]
    fn words_in_the_question_weigh_more_than_in_the_answer() {
        let idx = Bm25::new(&[doc(1, "供水", "其他 内容"), doc(2, "其他 内容", "供水")]);
        let r = idx.rank(&toks("供水"));
        assert_eq!(r.iter().map(|x| x.0).collect::<Vec<_>>(), [1, 2]);
        assert!(r[0].1 > r[1].1);
    }

    #[test]
    fn nothing_in_common_ranks_nothing_and_repeats_count_once() {
        let idx = corpus();
        assert!(idx.rank(&toks("路灯 不亮")).is_empty());
        assert!(idx.rank(&[]).is_empty());
        assert_eq!(idx.rank(&toks("医保")), idx.rank(&toks("医保 医保 医保")));
        assert!(Bm25::new(&[]).rank(&toks("医保")).is_empty());
        assert_eq!(idx.len(), 3);
    }

    #[test]
    fn scores_are_positive_even_for_a_word_in_every_entry() {
        let idx = Bm25::new(&[doc(1, "申请", ""), doc(2, "申请", "")]);
        let r = idx.rank(&toks("申请"));
        assert_eq!(r.len(), 2);
        assert!(r.iter().all(|(_, s)| *s > 0.0));
        // Ties go to the older entry.
        assert_eq!(r[0].0, 1);
    }
}
