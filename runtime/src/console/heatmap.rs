/*!
The hour-of-day × weekday heat map (来电时段热力图) of the analytics page and the monthly report:
seven rows (Monday first), twenty-four columns, each cell shaded on the shared colour ramp by its
share of the busiest cell and titled with its exact count, so the chart reads without colour too.
*/

use std::fmt::Write as _;

use super::svg::{INK, MUTED, escape, ramp};

/// Draws `cells[weekday][hour]`; `rows` are the weekday labels, Monday first.
pub fn heat_map(title: &str, rows: &[&str; 7], cells: &[[i64; 24]; 7], empty: &str) -> String {
    const LEFT: f64 = 44.0;
    const TOP: f64 = 8.0;
    const CELL_W: f64 = 24.0;
    const CELL_H: f64 = 22.0;
    let width = LEFT + 24.0 * CELL_W + 8.0;
    let height = TOP + 7.0 * CELL_H + 24.0;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="chart chart-heat" viewBox="0 0 {width} {height}" role="img" aria-label="{t}" font-size="11"><title>{t}</title>"#,
        t = escape(title)
    );
    let max = cells.iter().flatten().copied().max().unwrap_or(0);
    if max <= 0 {
        let _ = write!(
            s,
            r#"<text x="{x}" y="{y}" text-anchor="middle" fill="{MUTED}">{}</text></svg>"#,
            escape(empty),
            x = width / 2.0,
            y = height / 2.0
        );
        return s;
    }
    for (d, label) in rows.iter().enumerate() {
        let y = TOP + d as f64 * CELL_H;
        let _ = write!(
            s,
            r#"<text x="{x:.1}" y="{ty:.1}" text-anchor="end" fill="{INK}">{}</text>"#,
            escape(label),
            x = LEFT - 6.0,
            ty = y + CELL_H * 0.65
        );
        for (h, &n) in cells[d].iter().enumerate() {
            let x = LEFT + h as f64 * CELL_W;
            let _ = write!(
                s,
                r#"<rect class="cell" x="{x:.1}" y="{y:.1}" width="{w:.1}" height="{hh:.1}" fill="{fill}"><title>{day} {h:02}:00–{h:02}:59 {n}</title></rect>"#,
                w = CELL_W - 2.0,
                hh = CELL_H - 2.0,
                fill = ramp(n as f64 / max as f64),
                day = escape(label),
            );
        }
    }
    for h in (0..24).step_by(3) {
        let _ = write!(
            s,
            r#"<text x="{x:.1}" y="{y:.1}" text-anchor="middle" fill="{MUTED}">{h:02}</text>"#,
            x = LEFT + h as f64 * CELL_W + CELL_W / 2.0,
            y = TOP + 7.0 * CELL_H + 14.0
        );
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::svg::tests::assert_well_formed;

    const DAYS: [&str; 7] = ["周一", "周二", "周三", "周四", "周五", "周六", "周日"];

    #[test]
    fn every_cell_is_drawn_with_its_count() {
        let mut cells = [[0i64; 24]; 7];
        cells[0][9] = 12;
        cells[6][23] = 3;
        let svg = heat_map("来电 <时段>", &DAYS, &cells, "无");
        assert_well_formed(&svg);
        assert_eq!(svg.matches("<rect class=\"cell\"").count(), 7 * 24);
        assert!(svg.contains("周一 09:00–09:59 12"));
        assert!(svg.contains("周日 23:00–23:59 3"));
        assert!(svg.contains("来电 &lt;时段&gt;"));
        // The busiest cell has the deepest colour.
        assert!(svg.contains(&format!("fill=\"{}\"><title>周一 09", ramp(1.0))));
    }

    #[test]
    fn an_empty_period_says_so() {
        let svg = heat_map("t", &DAYS, &[[0; 24]; 7], "暂无数据");
        assert_well_formed(&svg);
        assert!(svg.contains(">暂无数据<"));
    }
}
