/*!
The kit's labelled bank of example requests (`runtime/data/triage/bank.csv`), carried in the
binary: at least 40 colloquial requests per default category, emergencies of the four lines and
hard negatives (emergency words that are not emergencies), written for training and labelled by
`docs/triage-labelling.md`. The held-out evaluation set (`tests/data/triage-eval.csv`) shares no
request with it.
*/

use super::classifier::Example;

const BANK: &str = include_str!("../../../data/triage/bank.csv");

/// One row of a labelled file: text, category (may be empty), emergency line (may be empty).
#[derive(Debug, Clone, PartialEq)]
pub struct Labelled {
    pub text: String,
    pub category: Option<String>,
    pub emergency: Option<String>,
}

/// Parses a labelled CSV (`text,category,emergency`, UTF-8, BOM allowed). Errors name the line.
pub fn parse(data: &str) -> Result<Vec<Labelled>, String> {
    let data = data.strip_prefix('\u{feff}').unwrap_or(data);
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(false)
        .from_reader(data.as_bytes());
    let headers = rdr.headers().map_err(|e| format!("line 1: {e}"))?.clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h.trim() == name)
            .ok_or_else(|| format!("line 1: no `{name}` column (want text,category,emergency)"))
    };
    let (t, c, e) = (col("text")?, col("category")?, col("emergency")?);
    let mut out = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|err| {
            let line = err.position().map_or(0, |p| p.line());
            format!("line {line}: {err}")
        })?;
        let line = rec.position().map_or(0, |p| p.line());
        let get = |i: usize| {
            rec.get(i)
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        let Some(text) = get(t) else {
            return Err(format!("line {line}: empty text"));
        };
        out.push(Labelled {
            text,
            category: get(c),
            emergency: get(e),
        });
    }
    Ok(out)
}

/// The bank's category-labelled requests as training examples (weight 1).
pub fn examples() -> Vec<Example> {
    rows()
        .into_iter()
        .filter_map(|r| {
            r.category.map(|category| Example {
                text: r.text,
                category,
                weight: 1.0,
            })
        })
        .collect()
}

/// Every row of the bank (tests and the evaluation harness use the emergencies too).
pub fn rows() -> Vec<Labelled> {
    parse(BANK).expect("the kit's bank.csv is checked by a unit test")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bank_parses_and_is_big_enough() {
        let rows = rows();
        let mut per: std::collections::BTreeMap<String, usize> = Default::default();
        for r in &rows {
            assert!(
                r.category.is_some() != r.emergency.is_some(),
                "exactly one label: {r:?}"
            );
            let key = r
                .category
                .clone()
                .or(r.emergency.clone())
                .unwrap_or_default();
            *per.entry(key).or_default() += 1;
        }
        for (k, n) in &per {
            assert!(*n >= 30, "{k}: {n} examples");
        }
        assert!(per.len() >= 16, "{per:?}");
    }

    #[test]
    fn parse_errors_name_the_line() {
        let err = parse("text,category,emergency\n\"unterminated,roads,\n").unwrap_err();
        assert!(err.starts_with("line "), "{err}");
        let err = parse("words,label\nx,y\n").unwrap_err();
        assert!(err.contains("text"), "{err}");
    }
}
