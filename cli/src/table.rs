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

/// Widest line [`Table::text`] writes, in display columns: a terminal, a mail client or a
/// printout of the report still shows it unbroken.
pub const TEXT_WIDTH: usize = 120;
/// Widest a label or region column gets when the table has to be paged (cells wrap inside it).
const MAX_LABEL: usize = 36;
const MAX_CELL: usize = 40;
/// Spaces between columns.
const GAP: usize = 2;

impl Table {
    /// Aligned text, at most [`TEXT_WIDTH`] display columns wide (CJK counts double). When the
    /// regions side by side would be wider, the columns are paged: as many regions as fit per
    /// block, each cell wrapped inside its column, the labels repeated in every block.
    pub fn text(&self) -> String {
        self.text_within(TEXT_WIDTH)
    }

    /// [`Table::text`] for a given width (at least 40 columns).
    pub fn text_within(&self, max: usize) -> String {
        let max = max.max(40);
        let rows = &self.rows;
        let label_w = rows.iter().map(|r| width(&r.label)).max().unwrap_or(0);
        let col_w: Vec<usize> = (0..self.keys.len())
            .map(|i| rows.iter().map(|r| width(&r.cells[i])).max().unwrap_or(0))
            .collect();
        let full = label_w + col_w.iter().map(|w| GAP + w).sum::<usize>();
        if full <= max {
            return self.block(label_w, &(0..col_w.len()).collect::<Vec<_>>(), &col_w);
        }
        let label_w = label_w.min(MAX_LABEL).min(max / 3);
        let avail = max - label_w;
        let cap = MAX_CELL.min(avail - GAP);
        let widths: Vec<usize> = col_w.iter().map(|w| (*w).clamp(1, cap)).collect();
        // Greedy pages: as many columns as fit, at least one.
        let mut pages: Vec<Vec<usize>> = Vec::new();
        let mut used = 0;
        for (i, w) in widths.iter().enumerate() {
            match pages.last_mut() {
                Some(p) if used + GAP + w <= avail => {
                    p.push(i);
                    used += GAP + w;
                }
                _ => {
                    pages.push(vec![i]);
                    used = GAP + w;
                }
            }
        }
        pages
            .iter()
            .map(|p| self.block(label_w, p, &widths))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// The rows with the columns `cols`, labels and cells wrapped to their widths.
    fn block(&self, label_w: usize, cols: &[usize], widths: &[usize]) -> String {
        let mut o = String::new();
        for r in &self.rows {
            let label = wrap(&r.label, label_w);
            let cells: Vec<Vec<String>> =
                cols.iter().map(|&i| wrap(&r.cells[i], widths[i])).collect();
            let height = cells.iter().map(Vec::len).chain([label.len()]).max();
            for line in 0..height.unwrap_or(1) {
                let mut l = String::new();
                pad(&mut l, label.get(line).map_or("", String::as_str), label_w);
                for (k, &i) in cols.iter().enumerate() {
                    l.push_str(&" ".repeat(GAP));
                    pad(
                        &mut l,
                        cells[k].get(line).map_or("", String::as_str),
                        widths[i],
                    );
                }
                o.push_str(l.trim_end());
                o.push('\n');
            }
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

    /// CSV: `key,metric,<column keys>…`, UTF-8 with a byte-order mark so Excel and WPS read
    /// the Chinese labels as Chinese (the runtime's exports do the same, `engine::export`).
    pub fn csv(&self) -> String {
        let mut w = csv::WriterBuilder::new()
            .terminator(csv::Terminator::Any(b'\n'))
            .from_writer(Vec::from(BOM.as_bytes()));
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

/// What a CSV file for people starts with: the UTF-8 byte-order mark.
pub const BOM: &str = "\u{feff}";

/// Display width in a terminal (UAX #11: CJK and full-width characters take two columns,
/// combining marks none).
pub fn width(s: &str) -> usize {
    unicode_width::UnicodeWidthStr::width(s)
}

/// `s` in lines of at most `w` display columns: broken at spaces where possible, inside a word
/// (or a run of CJK, which has no spaces) where not; an indent is kept on every line. Always at
/// least one line.
pub fn wrap(s: &str, w: usize) -> Vec<String> {
    use unicode_width::UnicodeWidthChar;
    let w = w.max(2);
    if !s.contains('\n') && width(s) <= w {
        return vec![s.to_string()];
    }
    let body = s.trim_start_matches(' ');
    let indent = &s[..s.len() - body.len()];
    let indent = if indent.len() + 2 <= w { indent } else { "" };
    let w = w - indent.len();
    let mut lines: Vec<String> = Vec::new();
    let mut cur = String::new();
    let mut cur_w = 0;
    for word in body.split([' ', '\n']).filter(|x| !x.is_empty()) {
        let ww = width(word);
        if cur_w > 0 && cur_w + 1 + ww <= w {
            cur.push(' ');
            cur.push_str(word);
            cur_w += 1 + ww;
            continue;
        }
        let cjk = word.chars().next().and_then(|c| c.width()) == Some(2);
        if cjk && ww > w && cur_w > 0 && cur_w + 3 <= w {
            // A run of CJK is broken anyway (between any two characters, as Chinese text is):
            // start it on this line rather than leave a stub (`✗`) alone.
            cur.push(' ');
            cur_w += 1;
        } else if cur_w > 0 {
            lines.push(std::mem::take(&mut cur));
            cur_w = 0;
        }
        for c in word.chars() {
            let cw = c.width().unwrap_or(0);
            if cur_w + cw > w {
                lines.push(std::mem::take(&mut cur));
                cur_w = 0;
            }
            cur.push(c);
            cur_w += cw;
        }
    }
    lines.push(cur);
    lines.into_iter().map(|l| format!("{indent}{l}")).collect()
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
        // CJK Extension B (in some village names) and a combining mark.
        assert_eq!(width("𠮷"), 2);
        assert_eq!(width("e\u{301}"), 1);
    }

    #[test]
    fn wrap_breaks_at_spaces_then_inside_cjk() {
        assert_eq!(wrap("short", 10), ["short"]);
        assert_eq!(wrap("aa bb cc", 5), ["aa bb", "cc"]);
        assert_eq!(wrap("网格缺中心点坐标", 6), ["网格缺", "中心点", "坐标"]);
        assert_eq!(
            wrap("✗ 网格缺中心点坐标", 6),
            ["✗ 网格", "缺中心", "点坐标"]
        );
        assert_eq!(
            wrap("  服务中心 service_center", 12),
            ["  服务中心", "  service_ce", "  nter"]
        );
        for l in wrap(
            "号码 12345 且未对接公安110 / number is 12345 and police",
            11,
        ) {
            assert!(width(&l) <= 11, "{l}");
        }
    }

    fn table(n: usize) -> Table {
        let long =
            "✗ 号码 12345 且未对接公安110 / number is 12345 and police dispatch is not integrated";
        Table {
            titles: (0..n).map(|i| format!("区域{i}")).collect(),
            keys: (0..n).map(|i| i.to_string()).collect(),
            rows: vec![
                Row {
                    key: "region".into(),
                    label: "区域 Region".into(),
                    cells: (0..n).map(|i| format!("某某县{i} (35078{i})")).collect(),
                },
                Row {
                    key: "one_number".into(),
                    label: "一号通 One number".into(),
                    cells: (0..n).map(|_| long.to_string()).collect(),
                },
            ],
        }
    }

    #[test]
    fn narrow_tables_stay_side_by_side() {
        let t = Table {
            rows: vec![table(2).rows.remove(0)],
            ..table(2)
        };
        let out = t.text();
        assert_eq!(out.lines().count(), 1);
        assert_eq!(out, "区域 Region  某某县0 (350780)  某某县1 (350781)\n");
    }

    #[test]
    fn wide_tables_are_paged_within_the_width() {
        let out = table(5).text();
        for l in out.lines() {
            assert!(width(l) <= TEXT_WIDTH, "{} columns: {l}", width(l));
        }
        // Every region is there, each page starts with the region row, nothing is lost.
        let pages: Vec<&str> = out.split("\n\n").collect();
        assert!(pages.len() > 1, "{out}");
        assert!(pages.iter().all(|p| p.starts_with("区域 Region")));
        for i in 0..5 {
            assert!(out.contains(&format!("某某县{i} (35078{i})")), "{out}");
        }
        assert_eq!(out.matches("dispatch is").count(), 5, "{out}");
    }
}
