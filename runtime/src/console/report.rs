/*!
The monthly report as a printable HTML page (A4, print CSS inline, charts as inline SVG), for the
console's download button and `m110 report --format html`. One file, nothing fetched: it opens
from a mail or a USB stick the same as from the server. zh-CN, as the report is.
*/

use minijinja::Value;
use minijinja::value::merge_maps;
use serde_json::json;

use super::heatmap::heat_map;
use super::svg::{self, Bar, Point};
use super::templates;
use crate::engine::analytics::Row;
use crate::engine::report::{HEADLINE_HEADERS, Report, headline, minutes, pct};

/// Weekday labels, Monday first.
pub const WEEKDAYS: [&str; 7] = ["周一", "周二", "周三", "周四", "周五", "周六", "周日"];

fn received(r: &Row) -> f64 {
    r.figures
        .as_ref()
        .map(|f| f.counts.received as f64)
        .unwrap_or(0.0)
}

/// The daily trend of a breakdown by day.
pub fn trend_chart(title: &str, daily: &[Row], empty: &str) -> String {
    let points: Vec<Point> = daily
        .iter()
        .map(|d| Point {
            label: d.label.clone(),
            value: received(d),
        })
        .collect();
    svg::trend_line(title, &points, empty)
}

/// Bars of a breakdown's received counts (withheld cells left out).
pub fn bars_chart(title: &str, rows: &[Row], empty: &str) -> String {
    let bars: Vec<Bar> = rows
        .iter()
        .filter(|r| r.figures.is_some())
        .map(|r| Bar::new(r.label.clone(), received(r)))
        .collect();
    svg::bar_chart(title, &bars, empty)
}

/// Table rows of a breakdown: label, received, closed, satisfaction, close median.
pub fn figure_rows(rows: &[Row]) -> Vec<serde_json::Value> {
    rows.iter()
        .map(|r| match &r.figures {
            Some(f) => json!({
                "label": r.label, "received": f.counts.received, "closed": f.counts.closed,
                "returned": f.counts.returned,
                "satisfaction": pct(f.satisfaction_rate), "sign": pct(f.sign_on_time_rate),
                "close_median": minutes(f.close_minutes_median), "suppressed": false,
            }),
            None => json!({
                "label": r.label, "received": "<5", "closed": "<5", "returned": "<5",
                "satisfaction": "<5", "sign": "<5", "close_median": "<5", "suppressed": true,
            }),
        })
        .collect()
}

/// The report as one HTML document.
pub fn html(r: &Report) -> Result<String, minijinja::Error> {
    let empty = "本月暂无数据";
    let cards: Vec<serde_json::Value> = r
        .scorecards
        .iter()
        .map(|c| {
            json!({
                "rank": c.card.rank, "unit": c.unit_name, "assigned": c.card.counts.assigned,
                "sign": pct(c.card.sign_on_time_rate), "close": pct(c.card.close_on_time_rate),
                "return": pct(c.card.return_rate), "follow_up": pct(c.card.follow_up_rate),
                "satisfaction": pct(c.card.satisfaction_rate), "redo": pct(c.card.redo_rate),
                "score": c.card.score.map(|s| format!("{s:.1}")).unwrap_or_else(|| "—".into()),
            })
        })
        .collect();
    let names = |v: &[crate::engine::report::CardRow]| -> Vec<String> {
        v.iter()
            .map(|c| format!("{}（{:.1}）", c.unit_name, c.card.score.unwrap_or(0.0)))
            .collect()
    };
    let returned: Vec<serde_json::Value> = r
        .units
        .iter()
        .filter_map(|u| {
            let f = u.figures.as_ref()?;
            (f.counts.returned > 0).then(|| {
                json!({"unit": u.label, "returned": f.counts.returned, "rate": pct(f.return_rate)})
            })
        })
        .collect();
    let ctx = json!({
        "r": {
            "region_name": r.region_name, "month": r.month, "from": r.from, "to": r.to,
            "generated_at": r.generated_at, "with_cases": r.with_cases,
        },
        "headline_headers": HEADLINE_HEADERS,
        "headline": headline(&r.summary),
        "categories": figure_rows(&r.categories),
        "areas": figure_rows(&r.areas),
        "channels": figure_rows(&r.channels),
        "gender": figure_rows(&r.gender),
        "age_band": figure_rows(&r.age_band),
        "occupation": figure_rows(&r.occupation),
        "hot_spots": r.hot_spots.iter().map(|h| json!({
            "place": h.place, "received": h.received, "previous": h.previous,
            "change": format!("{:+}", h.received - h.previous),
        })).collect::<Vec<_>>(),
        "cards": cards,
        "red": names(&r.red),
        "black": names(&r.black),
        "returned": returned,
        "watch": r.watch,
        "alerts": r.alerts.iter().map(|a| json!({
            "id": a.id, "method": a.method, "category": a.category, "area": a.area,
            "period": format!("{} – {}", a.start_day, a.end_day), "observed": a.observed,
            "expected": format!("{:.1}", a.expected),
            "recurrence": crate::engine::report::recurrence(a.recurrence_days), "state": a.state,
        })).collect::<Vec<_>>(),
    });
    let charts = [
        ("trend", trend_chart("每日受理量", &r.daily, empty)),
        (
            "by_category",
            bars_chart("诉求类别（前十）", &r.categories, empty),
        ),
        ("by_area", bars_chart("乡镇街道受理量", &r.areas, empty)),
        (
            "heat",
            heat_map("来电时段（星期 × 小时）", &WEEKDAYS, &r.heatmap, empty),
        ),
    ];
    let charts: std::collections::BTreeMap<&str, Value> = charts
        .into_iter()
        .map(|(k, v)| (k, templates::safe(v)))
        .collect();
    templates::render(
        "report.html",
        merge_maps([Value::from_serialize(ctx), Value::from_serialize(charts)]),
    )
}
