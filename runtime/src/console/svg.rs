/*!
Server-side SVG charts for the console dashboard: horizontal bar charts (by category, by
township), a daily trend line and a map of grid units shaded by case density.

Why SVG from the server: the binary carries every asset (no CDN, no JS chart library), the charts
are ordinary text the browser renders and a screen reader can read (`<title>` on every mark), and
they are pure functions of their input, so they are unit-tested like any other string.

Every label is XML-escaped here; callers pass raw text. Output is a complete `<svg>` element
with a `viewBox`, so the stylesheet scales it to its container.
*/

use std::fmt::Write as _;

/// Escapes text for XML element content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Control characters are not allowed in XML 1.0 at all; drop them.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

/// One bar: a label and a non-negative value.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    pub label: String,
    pub value: f64,
    /// Optional link target (e.g. the queue filtered by this category).
    pub href: Option<String>,
}

impl Bar {
    pub fn new(label: impl Into<String>, value: f64) -> Bar {
        Bar {
            label: label.into(),
            value,
            href: None,
        }
    }
}

/// Palette shared by the charts (matches `console.css`).
const ACCENT: &str = "#1f5fa8";
pub(crate) const GRID: &str = "#d9dee5";
pub(crate) const INK: &str = "#2b3440";
pub(crate) const MUTED: &str = "#6b7683";

/// Formats a value without a trailing `.0` for whole numbers.
fn num(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v:.1}")
    }
}

/// Values that are NaN, infinite or negative are drawn as zero.
fn clean(v: f64) -> f64 {
    if v.is_finite() && v > 0.0 { v } else { 0.0 }
}

/// A "nice" axis maximum (1, 2 or 5 × 10^n) at or above `max`.
fn nice_max(max: f64) -> f64 {
    if max <= 0.0 {
        return 1.0;
    }
    let exp = max.log10().floor();
    let base = 10f64.powf(exp);
    for m in [1.0, 2.0, 5.0, 10.0] {
        if m * base >= max {
            return m * base;
        }
    }
    10.0 * base
}

/// Display width of a label in em units: CJK characters count as one, others as about half.
fn label_em(s: &str) -> f64 {
    s.chars()
        .map(|c| if (c as u32) < 0x2E80 { 0.55 } else { 1.0 })
        .sum()
}

/// Cuts a label to at most `max_em` display width, adding an ellipsis when cut.
fn truncate_label(s: &str, max_em: f64) -> String {
    if label_em(s) <= max_em {
        return s.to_string();
    }
    let mut out = String::new();
    let mut w = 0.0;
    for c in s.chars() {
        let cw = if (c as u32) < 0x2E80 { 0.55 } else { 1.0 };
        if w + cw > max_em - 1.0 {
            break;
        }
        w += cw;
        out.push(c);
    }
    out.push('…');
    out
}

/// A horizontal bar chart, one row per bar in the given order. `title` becomes the accessible
/// name of the chart. An empty input draws the `empty` message instead of bars.
pub fn bar_chart(title: &str, bars: &[Bar], empty: &str) -> String {
    const ROW: f64 = 26.0;
    const WIDTH: f64 = 560.0;
    const FONT: f64 = 13.0;
    let label_w = bars
        .iter()
        .map(|b| label_em(&b.label).min(9.0))
        .fold(4.0, f64::max)
        * FONT
        + 12.0;
    let value_w = 48.0;
    let plot_w = WIDTH - label_w - value_w;
    let height = (bars.len().max(1) as f64) * ROW + 30.0;
    let max = nice_max(bars.iter().map(|b| clean(b.value)).fold(0.0, f64::max));

    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="chart chart-bar" viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{t}" font-size="{FONT}"><title>{t}</title>"#,
        t = escape(title)
    );
    if bars.is_empty() {
        let _ = write!(
            s,
            r#"<text x="{x}" y="{y}" text-anchor="middle" fill="{MUTED}">{}</text></svg>"#,
            escape(empty),
            x = WIDTH / 2.0,
            y = height / 2.0
        );
        return s;
    }
    // Vertical guides at 0, ¼, ½, ¾ and the maximum.
    for i in 0..=4 {
        let x = label_w + plot_w * (i as f64) / 4.0;
        let _ = write!(
            s,
            r#"<line x1="{x:.1}" y1="4" x2="{x:.1}" y2="{y2:.1}" stroke="{GRID}" stroke-width="1"/><text x="{x:.1}" y="{ty:.1}" text-anchor="middle" fill="{MUTED}" font-size="11">{v}</text>"#,
            y2 = height - 22.0,
            ty = height - 8.0,
            v = num(max * (i as f64) / 4.0)
        );
    }
    for (i, b) in bars.iter().enumerate() {
        let y = 6.0 + i as f64 * ROW;
        let v = clean(b.value);
        let w = (plot_w * v / max).max(if v > 0.0 { 2.0 } else { 0.0 });
        let label = escape(&truncate_label(&b.label, 9.0));
        let full = escape(&b.label);
        let open = match &b.href {
            Some(h) => format!(r#"<a href="{}">"#, escape(h)),
            None => String::new(),
        };
        let close = if b.href.is_some() { "</a>" } else { "" };
        let _ = write!(
            s,
            r#"{open}<g class="bar"><title>{full}: {vn}</title><text x="{lx:.1}" y="{ty:.1}" text-anchor="end" fill="{INK}">{label}</text><rect x="{label_w:.1}" y="{y:.1}" width="{w:.1}" height="{h:.1}" rx="2" fill="{ACCENT}"/><text x="{vx:.1}" y="{ty:.1}" fill="{INK}">{vn}</text></g>{close}"#,
            lx = label_w - 8.0,
            ty = y + ROW * 0.55,
            h = ROW - 8.0,
            vx = label_w + w + 6.0,
            vn = num(v),
        );
    }
    s.push_str("</svg>");
    s
}

/// A daily series for [`trend_line`]: one point per day, oldest first.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    /// Short x-axis label, e.g. "11-29".
    pub label: String,
    pub value: f64,
}

/// A line chart with a filled area, one point per day (e.g. the last 30 days of intake).
/// Every fifth label is printed; each point carries its exact value as a tooltip.
pub fn trend_line(title: &str, points: &[Point], empty: &str) -> String {
    const WIDTH: f64 = 640.0;
    const HEIGHT: f64 = 220.0;
    const LEFT: f64 = 44.0;
    const RIGHT: f64 = 14.0;
    const TOP: f64 = 12.0;
    const BOTTOM: f64 = 30.0;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="chart chart-trend" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{t}" font-size="11"><title>{t}</title>"#,
        t = escape(title)
    );
    if points.is_empty() {
        let _ = write!(
            s,
            r#"<text x="{x}" y="{y}" text-anchor="middle" fill="{MUTED}" font-size="13">{}</text></svg>"#,
            escape(empty),
            x = WIDTH / 2.0,
            y = HEIGHT / 2.0
        );
        return s;
    }
    let max = nice_max(points.iter().map(|p| clean(p.value)).fold(0.0, f64::max));
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let step = if points.len() > 1 {
        plot_w / (points.len() - 1) as f64
    } else {
        0.0
    };
    let xy = |i: usize, v: f64| -> (f64, f64) {
        let x = if points.len() > 1 {
            LEFT + step * i as f64
        } else {
            LEFT + plot_w / 2.0
        };
        (x, TOP + plot_h - plot_h * clean(v) / max)
    };
    for i in 0..=4 {
        let y = TOP + plot_h - plot_h * (i as f64) / 4.0;
        let _ = write!(
            s,
            r#"<line x1="{LEFT}" y1="{y:.1}" x2="{x2:.1}" y2="{y:.1}" stroke="{GRID}"/><text x="{tx:.1}" y="{ty:.1}" text-anchor="end" fill="{MUTED}">{v}</text>"#,
            x2 = WIDTH - RIGHT,
            tx = LEFT - 6.0,
            ty = y + 4.0,
            v = num(max * (i as f64) / 4.0)
        );
    }
    let mut line = String::new();
    for (i, p) in points.iter().enumerate() {
        let (x, y) = xy(i, p.value);
        let _ = write!(line, "{}{x:.1},{y:.1}", if i == 0 { "M" } else { " L" });
    }
    let (x0, _) = xy(0, 0.0);
    let (xn, _) = xy(points.len() - 1, 0.0);
    let base = TOP + plot_h;
    let _ = write!(
        s,
        r##"<path d="{line} L{xn:.1},{base:.1} L{x0:.1},{base:.1} Z" fill="{ACCENT}" fill-opacity="0.12" stroke="none"/><path d="{line}" fill="none" stroke="{ACCENT}" stroke-width="2" stroke-linejoin="round"/>"##
    );
    let label_every = points.len().div_ceil(6).max(1);
    for (i, p) in points.iter().enumerate() {
        let (x, y) = xy(i, p.value);
        let _ = write!(
            s,
            r#"<circle cx="{x:.1}" cy="{y:.1}" r="3" fill="white" stroke="{ACCENT}" stroke-width="1.5"><title>{l}: {v}</title></circle>"#,
            l = escape(&p.label),
            v = num(clean(p.value))
        );
        if i % label_every == 0 || i == points.len() - 1 {
            let _ = write!(
                s,
                r#"<text x="{x:.1}" y="{ty:.1}" text-anchor="middle" fill="{MUTED}">{}</text>"#,
                escape(&p.label),
                ty = HEIGHT - 10.0
            );
        }
    }
    s.push_str("</svg>");
    s
}

/// One grid unit on the density map.
#[derive(Debug, Clone, PartialEq)]
pub struct MapUnit {
    pub code: String,
    pub name: String,
    /// Centroid, when the profile gives one; units without one go to the treemap fallback.
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    /// Cases in the period.
    pub cases: f64,
    /// Residents, used for the density (cases per 10,000 residents) when known.
    pub population: Option<f64>,
}

impl MapUnit {
    /// Cases per 10,000 residents, or the raw count when the population is unknown.
    pub fn density(&self) -> f64 {
        match self.population {
            Some(p) if p > 0.0 => clean(self.cases) * 10_000.0 / p,
            _ => clean(self.cases),
        }
    }
}

/// Sequential colour ramp from pale to deep blue for `t` in 0..=1.
pub fn ramp(t: f64) -> String {
    let t = if t.is_finite() {
        t.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let from = (0xe8u8, 0xf0u8, 0xf8u8);
    let to = (0x0bu8, 0x3d, 0x7a);
    let mix = |a: u8, b: u8| (a as f64 + (b as f64 - a as f64) * t).round() as u8;
    format!(
        "#{:02x}{:02x}{:02x}",
        mix(from.0, to.0),
        mix(from.1, to.1),
        mix(from.2, to.2)
    )
}

/// A map of grid units shaded by case density.
///
/// With centroids for at least 80 % of the units, each unit is a circle at its projected
/// centroid (equirectangular, x scaled by cos(latitude) so the county keeps its shape), radius
/// by population; otherwise a slice-and-dice treemap. The colour is cases per 10,000 residents
/// when every unit has a population (labelled `legend`, e.g. "每万人诉求数"), else the case
/// count (labelled `legend_count`).
pub fn grid_map(
    title: &str,
    units: &[MapUnit],
    legend: &str,
    legend_count: &str,
    empty: &str,
) -> String {
    const WIDTH: f64 = 640.0;
    const HEIGHT: f64 = 420.0;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="chart chart-map" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{t}" font-size="11"><title>{t}</title>"#,
        t = escape(title)
    );
    if units.is_empty() {
        let _ = write!(
            s,
            r#"<text x="{x}" y="{y}" text-anchor="middle" fill="{MUTED}" font-size="13">{}</text></svg>"#,
            escape(empty),
            x = WIDTH / 2.0,
            y = HEIGHT / 2.0
        );
        return s;
    }
    // Per 10,000 residents only when every unit has a population; otherwise raw counts, so
    // one map never mixes two scales.
    let per_capita = units
        .iter()
        .all(|u| u.population.is_some_and(|p| clean(p) > 0.0));
    let value = |u: &MapUnit| {
        if per_capita {
            u.density()
        } else {
            clean(u.cases)
        }
    };
    let legend = if per_capita { legend } else { legend_count };
    let max_d = units.iter().map(value).fold(0.0, f64::max);
    let shade = |u: &MapUnit| ramp(if max_d > 0.0 { value(u) / max_d } else { 0.0 });
    let placed: Vec<(&MapUnit, f64, f64)> = units
        .iter()
        .filter_map(|u| match (u.lat, u.lon) {
            (Some(la), Some(lo)) if la.is_finite() && lo.is_finite() => Some((u, la, lo)),
            _ => None,
        })
        .collect();
    let plot = (10.0, 10.0, WIDTH - 20.0, HEIGHT - 60.0);
    // A map with most units missing would mislead: below 80 % coverage draw the treemap.
    if (placed.len() as f64) < 0.8 * units.len() as f64 {
        treemap(&mut s, units, plot, &shade);
    } else {
        circles(&mut s, &placed, plot, &shade);
    }
    // Legend: a five-step ramp from 0 to the maximum density.
    let ly = HEIGHT - 36.0;
    let _ = write!(
        s,
        r#"<text x="10" y="{ty:.1}" fill="{INK}">{}</text>"#,
        escape(legend),
        ty = ly + 13.0
    );
    let lx = 10.0 + label_em(legend) * 11.0 + 10.0;
    for i in 0..5 {
        let t = i as f64 / 4.0;
        let _ = write!(
            s,
            r#"<rect x="{x:.1}" y="{ly:.1}" width="36" height="16" fill="{c}" stroke="{GRID}"/><text x="{tx:.1}" y="{ty:.1}" text-anchor="middle" fill="{MUTED}">{v}</text>"#,
            x = lx + i as f64 * 38.0,
            c = ramp(t),
            tx = lx + i as f64 * 38.0 + 18.0,
            ty = ly + 30.0,
            v = num((max_d * t * 10.0).round() / 10.0)
        );
    }
    s.push_str("</svg>");
    s
}

fn circles(
    s: &mut String,
    placed: &[(&MapUnit, f64, f64)],
    (px, py, pw, ph): (f64, f64, f64, f64),
    shade: &dyn Fn(&MapUnit) -> String,
) {
    let (mut min_lat, mut max_lat, mut min_lon, mut max_lon) =
        (90.0f64, -90.0f64, 180.0f64, -180.0f64);
    for (_, la, lo) in placed {
        min_lat = min_lat.min(*la);
        max_lat = max_lat.max(*la);
        min_lon = min_lon.min(*lo);
        max_lon = max_lon.max(*lo);
    }
    let k = ((min_lat + max_lat) / 2.0).to_radians().cos().max(0.1);
    let span_x = ((max_lon - min_lon) * k).max(1e-6);
    let span_y = (max_lat - min_lat).max(1e-6);
    let max_pop = placed
        .iter()
        .filter_map(|(u, _, _)| u.population)
        .fold(0.0, f64::max);
    let r_max = (pw.min(ph) / (placed.len() as f64).sqrt() / 2.2).clamp(6.0, 40.0);
    let margin = r_max + 2.0;
    let scale = ((pw - 2.0 * margin) / span_x).min((ph - 2.0 * margin) / span_y);
    let ox = px + (pw - span_x * scale) / 2.0;
    let oy = py + (ph - span_y * scale) / 2.0;
    for (u, la, lo) in placed {
        let x = ox + (lo - min_lon) * k * scale;
        let y = oy + (max_lat - la) * scale;
        let r = match u.population {
            Some(p) if max_pop > 0.0 && p > 0.0 => (r_max * (p / max_pop).sqrt()).max(r_max * 0.35),
            _ => r_max * 0.6,
        };
        let _ = write!(
            s,
            r#"<g class="unit" data-code="{code}"><title>{name}: {cases} ({d})</title><circle cx="{x:.1}" cy="{y:.1}" r="{r:.1}" fill="{c}" stroke="white" stroke-width="1.5"/>"#,
            code = escape(&u.code),
            name = escape(&u.name),
            cases = num(clean(u.cases)),
            d = num((u.density() * 10.0).round() / 10.0),
            c = shade(u),
        );
        if r >= 14.0 {
            let _ = write!(
                s,
                r#"<text x="{x:.1}" y="{ty:.1}" text-anchor="middle" fill="{INK}" paint-order="stroke" stroke="white" stroke-width="3">{}</text>"#,
                escape(&truncate_label(&u.name, 5.0)),
                ty = y + r + 12.0
            );
        }
        s.push_str("</g>");
    }
}

/// Slice-and-dice treemap: alternate horizontal and vertical cuts, areas proportional to the
/// population when every unit has one, else to the case count.
fn treemap(
    s: &mut String,
    units: &[MapUnit],
    rect: (f64, f64, f64, f64),
    shade: &dyn Fn(&MapUnit) -> String,
) {
    // Mixing population and case counts as areas would mislead: population only when every
    // unit has one, otherwise case volume (at least 1 so empty units stay visible).
    let by_population = units
        .iter()
        .all(|u| u.population.is_some_and(|p| clean(p) > 0.0));
    let weights: Vec<f64> = units
        .iter()
        .map(|u| match u.population {
            Some(p) if by_population => clean(p),
            _ => clean(u.cases).max(1.0),
        })
        .collect();
    let mut order: Vec<usize> = (0..units.len()).collect();
    order.sort_by(|&a, &b| weights[b].total_cmp(&weights[a]));
    layout(s, units, &weights, &order, rect, true, shade);
}

fn layout(
    s: &mut String,
    units: &[MapUnit],
    weights: &[f64],
    items: &[usize],
    (x, y, w, h): (f64, f64, f64, f64),
    horizontal: bool,
    shade: &dyn Fn(&MapUnit) -> String,
) {
    match items {
        [] => {}
        [i] => {
            let u = &units[*i];
            let _ = write!(
                s,
                r#"<g class="unit" data-code="{code}"><title>{name}: {cases} ({d})</title><rect x="{x:.1}" y="{y:.1}" width="{w:.1}" height="{h:.1}" fill="{c}" stroke="white" stroke-width="2"/>"#,
                code = escape(&u.code),
                name = escape(&u.name),
                cases = num(clean(u.cases)),
                d = num((u.density() * 10.0).round() / 10.0),
                c = shade(u),
            );
            if w > 50.0 && h > 20.0 {
                let _ = write!(
                    s,
                    r#"<text x="{tx:.1}" y="{ty:.1}" fill="{INK}" paint-order="stroke" stroke="white" stroke-width="3">{}</text>"#,
                    escape(&truncate_label(&u.name, w / 12.0)),
                    tx = x + 5.0,
                    ty = y + 15.0
                );
            }
            s.push_str("</g>");
        }
        _ => {
            // Split into two halves of roughly equal weight.
            let total: f64 = items.iter().map(|&i| weights[i]).sum();
            let mut acc = 0.0;
            let mut cut = 1;
            for (k, &i) in items.iter().enumerate() {
                acc += weights[i];
                if acc >= total / 2.0 {
                    cut = (k + 1).clamp(1, items.len() - 1);
                    break;
                }
            }
            let first: f64 = items[..cut].iter().map(|&i| weights[i]).sum();
            let f = if total > 0.0 { first / total } else { 0.5 };
            let (a, b) = if horizontal {
                ((x, y, w * f, h), (x + w * f, y, w * (1.0 - f), h))
            } else {
                ((x, y, w, h * f), (x, y + h * f, w, h * (1.0 - f)))
            };
            layout(s, units, weights, &items[..cut], a, !horizontal, shade);
            layout(s, units, weights, &items[cut..], b, !horizontal, shade);
        }
    }
}

/// A small line of a unit's monthly scores (0–100), oldest first, for a table cell; a month
/// without a score leaves a gap. Each point is titled with its month and score.
pub fn sparkline(title: &str, points: &[(String, Option<f64>)]) -> String {
    const W: f64 = 120.0;
    const H: f64 = 28.0;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="spark" viewBox="0 0 {W} {H}" width="{W}" height="{H}" role="img" aria-label="{t}"><title>{t}</title>"#,
        t = escape(title)
    );
    let step = if points.len() > 1 {
        (W - 8.0) / (points.len() - 1) as f64
    } else {
        0.0
    };
    let at = |i: usize, v: f64| {
        (
            4.0 + step * i as f64,
            H - 4.0 - (H - 8.0) * v.clamp(0.0, 100.0) / 100.0,
        )
    };
    let mut path = String::new();
    let mut pen_down = false;
    for (i, (_, v)) in points.iter().enumerate() {
        match v {
            Some(v) if v.is_finite() => {
                let (x, y) = at(i, *v);
                let _ = write!(path, "{}{x:.1} {y:.1} ", if pen_down { "L" } else { "M" });
                pen_down = true;
            }
            _ => pen_down = false,
        }
    }
    if !path.is_empty() {
        let _ = write!(
            s,
            r#"<path d="{}" fill="none" stroke="{ACCENT}" stroke-width="1.5"/>"#,
            path.trim_end()
        );
    }
    for (i, (month, v)) in points.iter().enumerate() {
        if let Some(v) = v.filter(|v| v.is_finite()) {
            let (x, y) = at(i, v);
            let _ = write!(
                s,
                r#"<circle cx="{x:.1}" cy="{y:.1}" r="2" fill="{ACCENT}"><title>{} {}</title></circle>"#,
                escape(month),
                num(v)
            );
        }
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A small XML well-formedness check: balanced tags, quoted attributes, no stray `&` or
    /// `<`. Enough to prove the generator never emits broken markup.
    pub(crate) fn assert_well_formed(xml: &str) {
        let mut stack: Vec<String> = Vec::new();
        let b = xml.as_bytes();
        let mut i = 0;
        while i < b.len() {
            match b[i] {
                b'<' => {
                    let end = xml[i..].find('>').map(|e| i + e).expect("unclosed tag");
                    let tag = &xml[i + 1..end];
                    assert!(!tag.contains('<'), "'<' inside tag: {tag}");
                    if let Some(name) = tag.strip_prefix('/') {
                        let open = stack.pop().unwrap_or_else(|| panic!("stray </{name}>"));
                        assert_eq!(open, name.trim(), "mismatched close tag");
                    } else {
                        let self_closing = tag.ends_with('/');
                        let body = tag.trim_end_matches('/');
                        let name = body.split_whitespace().next().expect("tag name");
                        // Attribute values must be double-quoted and contain no raw quotes.
                        assert_eq!(body.matches('"').count() % 2, 0, "unbalanced quotes: {tag}");
                        if !self_closing {
                            stack.push(name.to_string());
                        }
                    }
                    check_entities(tag);
                    i = end + 1;
                }
                b'>' => panic!("raw '>' in text at {i}"),
                _ => {
                    let end = xml[i..].find('<').map(|e| i + e).unwrap_or(b.len());
                    check_entities(&xml[i..end]);
                    i = end;
                }
            }
        }
        assert!(stack.is_empty(), "unclosed elements: {stack:?}");
    }

    fn check_entities(text: &str) {
        for (pos, _) in text.match_indices('&') {
            let rest = &text[pos..];
            let ok = ["&amp;", "&lt;", "&gt;", "&quot;", "&#39;"]
                .iter()
                .any(|e| rest.starts_with(e));
            assert!(ok, "bare '&' in {text:?}");
        }
    }

    #[test]
    fn escape_covers_markup_and_controls() {
        assert_eq!(
            escape(r#"<a href="x">&'"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
        assert_eq!(escape("a\u{1}b\nc"), "ab\nc");
    }

    #[test]
    fn bar_chart_is_well_formed_and_escapes_labels() {
        let bars = vec![
            Bar::new("道路<维修>", 12.0),
            Bar {
                label: "A & B \"quoted\"".into(),
                value: 3.0,
                href: Some("/console/queue?category=a&b=1".into()),
            },
            Bar::new("零", 0.0),
        ];
        let svg = bar_chart("按类别 <统计>", &bars, "无数据");
        assert_well_formed(&svg);
        assert!(svg.contains("道路&lt;维修&gt;"));
        assert!(svg.contains("A &amp; B &quot;quoted&quot;"));
        assert!(svg.contains(r#"href="/console/queue?category=a&amp;b=1""#));
        assert!(!svg.contains("<维修>"));
        assert_eq!(svg.matches("<g class=\"bar\">").count(), 3);
        // The longest bar fills the plot proportionally to the nice maximum (20 for 12).
        assert!(svg.contains(">12</text>"));
    }

    #[test]
    fn bar_widths_are_proportional() {
        let svg = bar_chart("t", &[Bar::new("a", 10.0), Bar::new("b", 5.0)], "");
        let widths: Vec<f64> = svg
            .match_indices(" width=\"")
            .map(|(p, _)| {
                let rest = &svg[p + 8..];
                rest[..rest.find('"').unwrap()].parse().unwrap()
            })
            .collect();
        assert_eq!(widths.len(), 2);
        assert!((widths[0] / widths[1] - 2.0).abs() < 0.01, "{widths:?}");
    }

    #[test]
    fn empty_and_hostile_values_do_not_break_the_chart() {
        let svg = bar_chart("t", &[], "暂无 <数据>");
        assert_well_formed(&svg);
        assert!(svg.contains("暂无 &lt;数据&gt;"));
        let svg = bar_chart(
            "t",
            &[
                Bar::new("nan", f64::NAN),
                Bar::new("neg", -4.0),
                Bar::new("inf", f64::INFINITY),
            ],
            "",
        );
        assert_well_formed(&svg);
        assert!(!svg.contains("NaN") && !svg.contains("inf\""));
    }

    #[test]
    fn trend_line_has_one_point_per_day() {
        let pts: Vec<Point> = (1..=30)
            .map(|d| Point {
                label: format!("11-{d:02}"),
                value: (d % 7) as f64,
            })
            .collect();
        let svg = trend_line("近30天 & 趋势", &pts, "");
        assert_well_formed(&svg);
        assert_eq!(svg.matches("<circle").count(), 30);
        assert!(svg.contains("11-30: 2"));
        assert!(svg.contains("近30天 &amp; 趋势"));
        let one = trend_line("t", &pts[..1], "");
        assert_well_formed(&one);
        assert!(trend_line("t", &[], "none").contains(">none<"));
    }

    fn unit(code: &str, lat: Option<f64>, cases: f64, pop: Option<f64>) -> MapUnit {
        MapUnit {
            code: code.into(),
            name: format!("{code}<镇>"),
            lat,
            lon: lat.map(|l| 117.0 + (l - 27.0)),
            cases,
            population: pop,
        }
    }

    #[test]
    fn map_with_centroids_draws_circles_shaded_by_density() {
        let units = vec![
            unit("a", Some(27.3), 100.0, Some(10_000.0)),
            unit("b", Some(27.5), 10.0, Some(10_000.0)),
            unit("c", Some(27.1), 0.0, None),
        ];
        let svg = grid_map("地图", &units, "每万人", "诉求数", "");
        assert_well_formed(&svg);
        assert_eq!(svg.matches("<circle").count(), 3);
        // The densest unit gets the deepest colour, the empty one the palest.
        assert!(svg.contains(&format!("fill=\"{}\"", ramp(1.0))));
        assert!(svg.contains(&format!("fill=\"{}\"", ramp(0.0))));
        assert!(svg.contains("a&lt;镇&gt;: 100 (100)"));
        // All circles inside the view box.
        for (p, _) in svg.match_indices("cx=\"") {
            let rest = &svg[p + 4..];
            let x: f64 = rest[..rest.find('"').unwrap()].parse().unwrap();
            assert!((0.0..=640.0).contains(&x));
        }
    }

    #[test]
    fn map_without_centroids_falls_back_to_a_treemap() {
        let units: Vec<MapUnit> = (0..7)
            .map(|i| {
                unit(
                    &format!("u{i}"),
                    None,
                    i as f64,
                    Some(1000.0 * (i + 1) as f64),
                )
            })
            .collect();
        let svg = grid_map("地图", &units, "每万人", "诉求数", "");
        assert_well_formed(&svg);
        assert_eq!(svg.matches("<g class=\"unit\"").count(), 7);
        assert_eq!(svg.matches("<circle").count(), 0);
        // Rectangles tile the plot: their areas sum to its area.
        let area: f64 = svg
            .split("<g class=\"unit\"")
            .skip(1)
            .map(|g| {
                let attr = |k: &str| -> f64 {
                    let p = g.find(&format!(" {k}=\"")).unwrap() + k.len() + 3;
                    g[p..p + g[p..].find('"').unwrap()].parse().unwrap()
                };
                attr("width") * attr("height")
            })
            .sum();
        assert!((area - 620.0 * 360.0).abs() < 20.0, "area {area}");
        assert!(grid_map("t", &[], "", "", "空").contains(">空<"));
    }

    #[test]
    fn sparse_centroids_fall_back_to_the_treemap() {
        let mut units: Vec<MapUnit> = (0..5)
            .map(|i| unit(&format!("u{i}"), None, 1.0, Some(1000.0)))
            .collect();
        units[0] = unit("u0", Some(27.3), 1.0, Some(1000.0));
        let svg = grid_map("t", &units, "l", "n", "");
        assert_eq!(svg.matches("<circle").count(), 0);
        assert_eq!(svg.matches("<g class=\"unit\"").count(), 5);
    }

    #[test]
    fn ramp_endpoints_and_clamping() {
        assert_eq!(ramp(0.0), "#e8f0f8");
        assert_eq!(ramp(1.0), "#0b3d7a");
        assert_eq!(ramp(7.0), ramp(1.0));
        assert_eq!(ramp(f64::NAN), ramp(0.0));
    }

    #[test]
    fn sparkline_leaves_gaps_for_months_without_a_score() {
        let points = vec![
            ("2026-09".to_string(), Some(80.0)),
            ("2026-10".to_string(), None),
            ("2026-11".to_string(), Some(72.5)),
            ("2026-12".to_string(), Some(90.0)),
        ];
        let svg = sparkline("交通 <趋势>", &points);
        assert_well_formed(&svg);
        assert_eq!(svg.matches("<circle").count(), 3);
        // Two pieces: the lone September point, then November to December.
        let d = &svg[svg.find(" d=\"").unwrap() + 4..];
        assert_eq!(d[..d.find('"').unwrap()].matches('M').count(), 2);
        assert!(svg.contains("2026-11 72.5"));
        assert!(sparkline("t", &[]).ends_with("</svg>"));
    }

    #[test]
    fn nice_max_rounds_up() {
        assert_eq!(nice_max(12.0), 20.0);
        assert_eq!(nice_max(0.0), 1.0);
        assert_eq!(nice_max(100.0), 100.0);
        assert_eq!(nice_max(101.0), 200.0);
        assert_eq!(nice_max(3.0), 5.0);
    }
}
