//! Tables of regions side by side (`m110 compare`, `m110 compare --kpi`): one row per metric
//! (a stable key, a bilingual label), one cell per region, rendered as aligned text (CJK counted
//! double), Markdown, CSV or an XLSX sheet.

use std::fmt::Write as _;

use m110_runtime::engine::export::Sheet;

/// A table row: stable key, bilingual label, one cell per region.
pub struct Row {
    pub key: String,
    pub label: String,
    pub cells: Vec<String>,
}

/// Rows with a column per region. The row keyed `region` names the columns.
pub struct Table {
    /// Column titles for Markdown, e.g. `邵武市 (350781)`.
    pub titles: Vec<String>,
    /// Column keys for CSV, e.g. `350781`.
    pub keys: Vec<String>,
    pub rows: Vec<Row>,
}

impl Table {
    /// Aligned text.
    pub fn text(&self) -> String {
        let rows = &self.rows;
        let label_w = rows.iter().map(|r| width(&r.label)).max().unwrap_or(0);
        let col_w: Vec<usize> = (0..self.keys.len())
            .map(|i| rows.iter().map(|r| width(&r.cells[i])).max().unwrap_or(0))
            .collect();
        let mut o = String::new();
        for r in rows {
            pad(&mut o, &r.label, label_w);
            for (i, cell) in r.cells.iter().enumerate() {
                o.push_str("  ");
                if i + 1 == r.cells.len() {
                    o.push_str(cell);
                } else {
                    pad(&mut o, cell, col_w[i]);
                }
            }
            o.push('\n');
        }
        o
    }

    /// A Markdown table (the `region` row becomes the header).
    pub fn markdown(&self) -> String {
        let cell = |s: &str| s.replace('|', "\\|");
        let mut o = String::new();
        o.push_str("| 指标 Metric |");
        for t in &self.titles {
            let _ = write!(o, " {} |", cell(t));
        }
        o.push_str("\n|---|");
        for _ in &self.titles {
            o.push_str("---|");
        }
        o.push('\n');
        for r in self.rows.iter().filter(|r| r.key != "region") {
            let _ = write!(o, "| {} |", cell(&r.label));
            for c in &r.cells {
                let _ = write!(o, " {} |", cell(c));
            }
            o.push('\n');
        }
        o
    }

    /// CSV: `key,metric,<column keys>…`.
    pub fn csv(&self) -> String {
        let mut w = csv::WriterBuilder::new()
            .terminator(csv::Terminator::Any(b'\n'))
            .from_writer(Vec::new());
        let mut header = vec!["key".to_string(), "metric".to_string()];
        header.extend(self.keys.iter().cloned());
        w.write_record(&header).expect("in-memory CSV");
        for r in &self.rows {
            let mut rec = vec![r.key.clone(), r.label.clone()];
            rec.extend(r.cells.iter().cloned());
            w.write_record(&rec).expect("in-memory CSV");
        }
        String::from_utf8(w.into_inner().expect("in-memory CSV")).expect("UTF-8 in, UTF-8 out")
    }

    /// One sheet: the metric label, then a column per region.
    pub fn sheet(&self, name: &str) -> Sheet {
        let mut headers = vec!["指标 Metric".to_string()];
        headers.extend(self.titles.iter().cloned());
        Sheet {
            name: name.to_string(),
            headers,
            rows: self
                .rows
                .iter()
                .map(|r| {
                    let mut v = vec![r.label.clone()];
                    v.extend(r.cells.iter().cloned());
                    v
                })
                .collect(),
        }
    }
}

/// Terminal width: CJK and full-width characters take two columns.
fn width(s: &str) -> usize {
    s.chars()
        .map(|c| match c as u32 {
            0x1100..=0x115F
            | 0x2E80..=0x303E
            | 0x3041..=0x33FF
            | 0x3400..=0x4DBF
            | 0x4E00..=0x9FFF
            | 0xA000..=0xA4CF
            | 0xAC00..=0xD7A3
            | 0xF900..=0xFAFF
            | 0xFE30..=0xFE4F
            | 0xFF00..=0xFF60
            | 0xFFE0..=0xFFE6 => 2,
            _ => 1,
        })
        .sum()
}

fn pad(o: &mut String, s: &str, w: usize) {
    o.push_str(s);
    for _ in width(s)..w {
        o.push(' ');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cjk_width() {
        assert_eq!(width("邵武市 (350781)"), 6 + 9);
        assert_eq!(width("✓ ok"), 4);
    }
}
