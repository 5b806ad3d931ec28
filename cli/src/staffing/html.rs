/*!
The week as an HTML page: a 7 × 24 heat map of call-takers needed (inline SVG), the roster and the
FTE. One self-contained file — no script, no stylesheet or font from elsewhere — so it opens from a
USB stick on a county office PC and prints as it shows. zh-CN first, English alongside.
*/

use std::fmt::Write as _;

use super::Staffing;
use super::roster::WeekPlan;
use super::week::{DAY_NAMES, DAYS, HOURS};

/// The Blues sequential scale (ColorBrewer), light to dark.
const STOPS: [(u8, u8, u8); 5] = [
    (0xf7, 0xfb, 0xff),
    (0xc6, 0xdb, 0xef),
    (0x6b, 0xae, 0xd6),
    (0x21, 0x71, 0xb5),
    (0x08, 0x30, 0x6b),
];

const CELL_W: usize = 40;
const CELL_H: usize = 34;
const LEFT: usize = 86;
const TOP: usize = 34;

/// Colour for `t` in [0, 1], interpolated between the scale's stops.
fn colour(t: f64) -> String {
    let t = t.clamp(0.0, 1.0) * (STOPS.len() - 1) as f64;
    let i = (t.floor() as usize).min(STOPS.len() - 2);
    let f = t - i as f64;
    let (a, b) = (STOPS[i], STOPS[i + 1]);
    let mix = |x: u8, y: u8| (f64::from(x) + (f64::from(y) - f64::from(x)) * f).round() as u8;
    format!(
        "#{:02x}{:02x}{:02x}",
        mix(a.0, b.0),
        mix(a.1, b.1),
        mix(a.2, b.2)
    )
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The heat map of on-phone agents per hour (inline SVG).
fn heatmap(p: &WeekPlan) -> String {
    let w = &p.week;
    let max = w.agents.iter().flatten().copied().max().unwrap_or(1);
    let min = w.agents.iter().flatten().copied().min().unwrap_or(0);
    let span = f64::from(max.saturating_sub(min).max(1));
    let width = LEFT + HOURS * CELL_W + 10;
    let height = TOP + DAYS * CELL_H + 62;
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" aria-labelledby="hm-title">"#
    );
    let _ = writeln!(
        s,
        r#"<title id="hm-title">每小时所需在线坐席 Call-takers on the phones per hour</title>"#
    );
    for h in 0..HOURS {
        let x = LEFT + h * CELL_W + CELL_W / 2;
        let _ = writeln!(
            s,
            r#"<text x="{x}" y="{}" class="axis" text-anchor="middle">{h:02}</text>"#,
            TOP - 10
        );
    }
    for (d, (zh, en)) in DAY_NAMES.iter().enumerate() {
        let y = TOP + d * CELL_H + CELL_H / 2 + 5;
        let _ = writeln!(
            s,
            r#"<text x="{}" y="{y}" class="axis" text-anchor="end">周{zh} {en}</text>"#,
            LEFT - 8
        );
        for h in 0..HOURS {
            let n = w.agents[d][h];
            let t = f64::from(n - min) / span;
            let (x, y) = (LEFT + h * CELL_W, TOP + d * CELL_H);
            let ink = if t > 0.55 { "#ffffff" } else { "#0b2545" };
            let _ = writeln!(
                s,
                r##"<g><title>周{zh} {en} {h:02}:00–{:02}:00 — 来电 {:.1} calls, 在线坐席 {n} agents, 排班 {} call-takers rostered</title><rect x="{x}" y="{y}" width="{}" height="{}" fill="{}" stroke="#ffffff"/><text x="{}" y="{}" fill="{ink}" text-anchor="middle" class="cell">{n}</text></g>"##,
                h + 1,
                w.calls[d][h],
                w.scheduled.call_takers[d][h],
                CELL_W,
                CELL_H,
                colour(t),
                x + CELL_W / 2,
                y + CELL_H / 2 + 5,
            );
        }
    }
    // Legend: one swatch per agent count from the week's least to its most.
    let ly = TOP + DAYS * CELL_H + 22;
    let _ = writeln!(
        s,
        r#"<text x="{}" y="{}" class="axis" text-anchor="end">坐席 Agents</text>"#,
        LEFT - 8,
        ly + 15
    );
    for (k, n) in (min..=max).enumerate().take(HOURS) {
        let x = LEFT + k * CELL_W;
        let t = f64::from(n - min) / span;
        let ink = if t > 0.55 { "#ffffff" } else { "#0b2545" };
        let _ = writeln!(
            s,
            r##"<rect x="{x}" y="{ly}" width="{CELL_W}" height="22" fill="{}" stroke="#ffffff"/><text x="{}" y="{}" fill="{ink}" text-anchor="middle" class="cell">{n}</text>"##,
            colour(t),
            x + CELL_W / 2,
            ly + 16
        );
    }
    s.push_str("</svg>\n");
    s
}

fn roster_table(p: &WeekPlan) -> String {
    let r = &p.roster;
    let mut s = String::from("<table>\n<thead><tr><th>班次 Shift</th><th>岗位 Role</th>");
    for (zh, en) in DAY_NAMES {
        let _ = write!(s, "<th>周{zh}<br>{en}</th>");
    }
    s.push_str("</tr></thead>\n<tbody>\n");
    let roles = super::roster::SHIFT_ROLES;
    for (i, shift) in r.shifts.iter().enumerate() {
        for (k, (label, get)) in roles.iter().enumerate() {
            let class = if k == roles.len() - 1 {
                " class=\"total\""
            } else {
                ""
            };
            let _ = write!(s, "<tr{class}>");
            if k == 0 {
                let _ = write!(
                    s,
                    "<th rowspan=\"{}\">{} {}<br>{:02}:00–{:02}:00</th>",
                    roles.len(),
                    shift.name,
                    shift.name_en,
                    shift.start,
                    (shift.start + shift.hours) % HOURS
                );
            }
            let _ = write!(s, "<td class=\"role\">{label}</td>");
            for day in &r.heads {
                let _ = write!(s, "<td>{}</td>", get(&day[i]));
            }
            s.push_str("</tr>\n");
        }
    }
    let _ = write!(
        s,
        "<tr><th>回访班 Follow-up<br>{}</th><td class=\"role\">回访 Follow-up</td>",
        super::roster::windows_label(&r.followup.hours_of_day)
    );
    for n in &r.followup.heads {
        let _ = write!(s, "<td>{n}</td>");
    }
    s.push_str("</tr>\n</tbody>\n</table>\n");
    s
}

fn fte_table(p: &WeekPlan) -> String {
    let r = &p.roster;
    let (h, f) = (&r.paid_hours, &r.fte);
    let mut s = String::from(
        "<table class=\"fte\">\n<thead><tr><th>岗位 Role</th><th>每周工时 Paid h/week</th><th>FTE (40 h/week)</th></tr></thead>\n<tbody>\n",
    );
    for (label, hours, fte) in [
        ("接线 Call-takers", h.call_takers, f.call_takers),
        ("回访 Follow-up", h.followup, f.followup),
        ("派单/督办 Dispatch", h.dispatchers, f.dispatchers),
        ("值班长 Supervisors", h.supervisors, f.supervisors),
    ] {
        let _ = writeln!(
            s,
            "<tr><td class=\"role\">{label}</td><td>{hours}</td><td>{fte:.2}</td></tr>"
        );
    }
    let _ = writeln!(
        s,
        "<tr class=\"total\"><td class=\"role\">合计 Total</td><td>{}</td><td>{:.2}</td></tr>",
        h.total, f.total
    );
    s.push_str("</tbody>\n</table>\n");
    s
}

/// The whole page for region `name (code)`.
pub fn page(name: &str, code: &str, peak: &Staffing, p: &WeekPlan) -> String {
    let w = &p.week;
    let r = &p.roster;
    let (pzh, pen) = DAY_NAMES[w.peak.day];
    let title = format!("{} ({}) 坐席排班 Staffing", esc(name), esc(code));
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body {{ font-family: "Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC", sans-serif; margin: 24px; color: #0b2545; }}
h1 {{ font-size: 22px; margin: 0 0 6px; }}
h2 {{ font-size: 17px; margin: 22px 0 8px; }}
p {{ margin: 4px 0; font-size: 14px; }}
.axis {{ font-size: 13px; fill: #334e68; }}
.cell {{ font-size: 14px; font-weight: 600; }}
table {{ border-collapse: collapse; font-size: 13px; margin-top: 4px; }}
th, td {{ border: 1px solid #c6dbef; padding: 3px 8px; text-align: right; }}
th {{ background: #eef5fb; text-align: center; }}
td.role {{ text-align: left; }}
tr.total td {{ font-weight: 700; background: #f7fbff; }}
.note {{ color: #486581; font-size: 12px; }}
</style>
</head>
<body>
<h1>{title}</h1>
<p>年预计来电 Calls/year: {:.0} · 每周 per week: {:.0} · 最忙时段 Busiest hour: 周{pzh} {pen} {:02}:00（{:.1} 件 calls，{} 坐席 agents）</p>
<p>服务水平 Service level {:.0}% / {:.0} s · 平均处理时长 AHT {:.0} s · 损耗 Shrinkage {:.0}% · 占用率上限 Max occupancy {:.0}%</p>
<p><strong>排班 {} 制 Roster {}: FTE {:.2}</strong>（{} h/week）· 对比 {}: FTE {:.2} · 设计高峰小时 Design peak hour (peak_hour_share): {} agents</p>
<h2>每小时所需在线坐席 Call-takers on the phones, by hour of the week</h2>
"#,
        w.yearly_calls,
        w.weekly_calls,
        w.peak.hour,
        w.peak.calls,
        w.peak.agents,
        peak.service_level_target * 100.0,
        peak.service_level_seconds,
        peak.aht_seconds,
        peak.shrinkage * 100.0,
        peak.max_occupancy * 100.0,
        r.pattern,
        r.pattern,
        r.fte.total,
        r.paid_hours.total,
        p.other_pattern.pattern,
        p.other_pattern.fte,
        peak.agents,
    );
    s.push_str(&heatmap(p));
    let _ = write!(
        s,
        "<p class=\"note\">Erlang C，每小时来电 = 年来电 / 52 × 星期占比 × 时段占比；排班人数另计损耗。Erlang C per hour; calls = yearly / 52 × weekday share × hour share; rostered heads add shrinkage.</p>\n<h2>排班 Roster ({}) — 每班人数 heads per shift</h2>\n",
        r.pattern
    );
    s.push_str(&roster_table(p));
    s.push_str("<h2>人力 FTE (40 h/week)</h2>\n");
    s.push_str(&fte_table(p));
    s.push_str(
        "<p class=\"note\">方法与默认值见 docs/staffing.md. Method and defaults: docs/staffing.md.</p>\n</body>\n</html>\n",
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page_of(population: u64) -> String {
        let i = crate::profile::compile::default_staffing();
        let peak = super::super::plan(population, &i).unwrap();
        let p = super::super::roster::plan(population, &i).unwrap();
        page("邵武市 <test>", "350781", &peak, &p)
    }

    #[test]
    fn one_labelled_cell_per_hour_and_nothing_external() {
        let html = page_of(650_000);
        assert_eq!(
            html.matches("<rect ").count() - html.matches("height=\"22\"").count(),
            168
        );
        assert!(html.contains("周一 Mon 10:00–11:00"));
        assert!(html.contains("邵武市 &lt;test&gt;"));
        for external in ["<script", "http://", "https://", "<link"] {
            let hits: Vec<_> = html
                .match_indices(external)
                .filter(|(i, _)| !html[*i..].starts_with("http://www.w3.org/2000/svg"))
                .collect();
            assert!(hits.is_empty(), "{external} in the page");
        }
        assert!(html.contains("排班 3x8 制"));
    }

    #[test]
    fn colours_run_light_to_dark() {
        assert_eq!(colour(0.0), "#f7fbff");
        assert_eq!(colour(1.0), "#08306b");
        assert_eq!(colour(0.5), "#6baed6");
        // A flat week (every hour one agent) still renders.
        assert!(page_of(0).contains("<svg"));
    }
}
