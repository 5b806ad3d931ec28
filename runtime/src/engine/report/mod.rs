/*!
The monthly report (月度分析报告): one month of a region in the figures decision makers and the
12345 appraisal use — the headline with 环比 and 同比, the daily trend, the top categories and
places, the hot spots (the finest grid units with most requests, and how they moved on the
previous month), the hours and weekdays calls come in, the channels, the caller profile (cells
under 5 withheld), the unit scorecard with its red and black lists, and the cases to watch (open
past a deadline, and the units that returned most).

[`build`] gathers it from the rollups and the scorecards; [`markdown`] and [`xlsx`] render it
here, the console renders the printable HTML with its SVG charts. No case content, location or
caller data is in it: the watch list names cases by their public id, category, unit and how late
they are, and [`Report::without_cases`] drops even that for the analyst role.
*/

pub mod markdown;
pub mod xlsx;

use serde::Serialize;

use super::analytics::{self, By, Query, Row, Summary};
use super::region::RegionIndex;
use super::scorecards::{self, Scorecard};
use crate::model::time::{now_ms, render_time, shanghai};
use crate::store::{Store, StoreError};

/// How many rows the top lists keep, and how many units the red and black lists name.
pub const TOP: usize = 10;
pub const LIST: usize = 3;
/// Most cases the watch list names.
pub const WATCH: i64 = 20;

/// A case open past a deadline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Watched {
    pub public_id: String,
    pub category: String,
    pub unit: String,
    pub status: String,
    /// Hours past the deadline that is missed (签收 or 办结).
    pub hours_late: i64,
    pub deadline: &'static str,
}

/// A hot spot: a finest-tier grid unit with its requests this month and the month before.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HotSpot {
    pub code: String,
    pub place: String,
    pub received: i64,
    pub previous: i64,
}

/// An early-warning alert of the month, named.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlertRow {
    pub id: i64,
    pub method: String,
    pub category: String,
    pub area: String,
    pub start_day: String,
    pub end_day: String,
    pub observed: i64,
    pub expected: f64,
    pub recurrence_days: Option<f64>,
    pub state: String,
}

/// One scorecard row with names.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CardRow {
    pub unit_name: String,
    #[serde(flatten)]
    pub card: Scorecard,
}

/// The month's report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub region_code: String,
    pub region_name: String,
    /// `YYYY-MM`.
    pub month: String,
    pub from: String,
    pub to: String,
    pub generated_at: String,
    pub summary: Summary,
    pub daily: Vec<Row>,
    pub categories: Vec<Row>,
    pub areas: Vec<Row>,
    pub hot_spots: Vec<HotSpot>,
    pub units: Vec<Row>,
    pub channels: Vec<Row>,
    pub hours: Vec<Row>,
    pub weekdays: Vec<Row>,
    pub heatmap: [[i64; 24]; 7],
    pub gender: Vec<Row>,
    pub age_band: Vec<Row>,
    pub occupation: Vec<Row>,
    pub scorecards: Vec<CardRow>,
    pub red: Vec<CardRow>,
    pub black: Vec<CardRow>,
    pub watch: Vec<Watched>,
    /// The early-warning alerts detected in the month.
    pub alerts: Vec<AlertRow>,
    /// False when the watch list was dropped for the reader's role.
    pub with_cases: bool,
}

impl Report {
    /// The report without the watch list's case ids (for the analyst: aggregates only).
    pub fn without_cases(mut self) -> Report {
        self.watch.clear();
        self.with_cases = false;
        self
    }
}

/// Builds the report of `month` (`YYYY-MM`); `None` when the month is not one.
pub async fn build(
    store: &Store,
    region: &RegionIndex,
    month: &str,
) -> Result<Option<Report>, StoreError> {
    let Some((from, to)) = analytics::month_bounds(month) else {
        return Ok(None);
    };
    let q = Query {
        from,
        to,
        ..Query::default()
    };
    let summary = analytics::summary(store, region, &q).await?;
    let by = |b: By| analytics::breakdown(store, region, &q, b);
    let daily = by(By::Day).await?;
    let mut categories = by(By::Category).await?;
    categories.truncate(TOP);
    let mut areas = by(By::Area(1)).await?;
    areas.truncate(TOP);
    let units = by(By::Unit).await?;
    let channels = by(By::Channel).await?;
    let hours = by(By::Hour).await?;
    let weekdays = by(By::Weekday).await?;
    let heatmap = analytics::heatmap(store, region, &q).await?;
    let gender = by(By::Gender).await?;
    let age_band = by(By::AgeBand).await?;
    let occupation = by(By::Occupation).await?;

    // Hot spots: the finest tier, this month against the previous one.
    let finest = region.grid_units.iter().map(|g| g.tier).max().unwrap_or(1);
    let now_cells = analytics::breakdown(store, region, &q, By::Area(finest)).await?;
    let prev_q = Query {
        from: analytics::previous_start(from, to),
        to: from,
        ..Query::default()
    };
    let prev_cells = analytics::breakdown(store, region, &prev_q, By::Area(finest)).await?;
    let received = |r: &Row| r.figures.as_ref().map(|f| f.counts.received).unwrap_or(0);
    let mut hot_spots: Vec<HotSpot> = now_cells
        .iter()
        .filter(|r| !r.key.is_empty() && received(r) > 0)
        .map(|r| HotSpot {
            code: r.key.clone(),
            place: r.label.clone(),
            received: received(r),
            previous: prev_cells
                .iter()
                .find(|p| p.key == r.key)
                .map(received)
                .unwrap_or(0),
        })
        .collect();
    hot_spots.sort_by(|a, b| {
        b.received
            .cmp(&a.received)
            .then_with(|| a.code.cmp(&b.code))
    });
    hot_spots.truncate(TOP);

    // The scorecards of the month (the same computation as the scorecards page).
    let cards = scorecards::for_period(store, region, from, to).await?;
    let named: Vec<CardRow> = cards
        .into_iter()
        .map(|card| CardRow {
            unit_name: region
                .unit(&card.unit_id)
                .map(|u| u.name.clone())
                .unwrap_or_else(|| card.unit_id.clone()),
            card,
        })
        .collect();
    let ranked: Vec<&CardRow> = named.iter().filter(|c| c.card.rank.is_some()).collect();
    let red: Vec<CardRow> = ranked.iter().take(LIST).map(|c| (*c).clone()).collect();
    let black: Vec<CardRow> = if ranked.len() > LIST {
        ranked
            .iter()
            .rev()
            .take(LIST)
            .map(|c| (*c).clone())
            .collect()
    } else {
        Vec::new()
    };

    let now = now_ms();
    let watch = store
        .overdue_watch(WATCH)
        .await?
        .into_iter()
        .map(|w| {
            let (deadline, due) = if w.overdue_close {
                ("办结", w.close_due)
            } else {
                ("签收", w.sign_due)
            };
            Watched {
                category: w
                    .category
                    .as_deref()
                    .and_then(|c| region.category(c))
                    .map(|c| c.name_zh.clone())
                    .unwrap_or_else(|| "未分类".into()),
                unit: w
                    .unit
                    .as_deref()
                    .and_then(|u| region.unit(u))
                    .map(|u| u.name.clone())
                    .unwrap_or_else(|| "—".into()),
                public_id: w.public_id,
                status: w.status,
                hours_late: due.map(|d| (now - d).max(0) / 3_600_000).unwrap_or(0),
                deadline,
            }
        })
        .collect();

    let alerts = store
        .alerts(&crate::store::alerts::AlertFilter {
            from_day: Some(shanghai(from).format("%Y-%m-%d").to_string()),
            to_day: Some(shanghai(to - 1).format("%Y-%m-%d").to_string()),
            limit: 200,
            ..Default::default()
        })
        .await?
        .into_iter()
        .map(|a| AlertRow {
            id: a.id,
            method: method_name(&a.alert.method).to_string(),
            category: a
                .alert
                .category_code
                .as_deref()
                .and_then(|c| region.category(c))
                .map(|c| c.name_zh.clone())
                .unwrap_or_else(|| "—".into()),
            area: a
                .alert
                .area_code
                .as_deref()
                .map(|g| region.grid_path(g))
                .unwrap_or_else(|| region.name.clone()),
            start_day: a.alert.start_day,
            end_day: a.alert.end_day,
            observed: a.alert.observed,
            expected: a.alert.expected,
            recurrence_days: a.alert.recurrence_days,
            state: state_name(&a.state).to_string(),
        })
        .collect();

    Ok(Some(Report {
        region_code: region.code.clone(),
        region_name: region.name.clone(),
        month: month.trim().to_string(),
        from: shanghai(from).format("%Y-%m-%d").to_string(),
        to: shanghai(to - 1).format("%Y-%m-%d").to_string(),
        generated_at: render_time(now),
        summary,
        daily,
        categories,
        areas,
        hot_spots,
        units,
        channels,
        hours,
        weekdays,
        heatmap,
        gender,
        age_band,
        occupation,
        scorecards: named,
        red,
        black,
        watch,
        alerts,
        with_cases: true,
    }))
}

/// A detector's name in the report.
pub fn method_name(m: &str) -> &'static str {
    match m {
        "ears_c1" => "EARS C1 突增",
        "ears_c2" => "EARS C2 突增",
        "ears_c3" => "EARS C3 持续上升",
        "cusum" => "CUSUM 累积偏移",
        "scan" => "时空聚集",
        _ => "其他",
    }
}

/// An alert state's name in the report.
pub fn state_name(s: &str) -> &'static str {
    match s {
        "new" => "新预警",
        "acknowledged" => "已确认",
        "dispatched" => "已派单",
        "resolved" => "已解决",
        "dismissed" => "已排除",
        _ => "—",
    }
}

/// A recurrence interval as people read it.
pub fn recurrence(r: Option<f64>) -> String {
    match r {
        None => "—".into(),
        Some(r) if r >= 36_500.0 => "≥100 年".into(),
        Some(r) if r >= 365.0 => format!("{:.1} 年", r / 365.0),
        Some(r) => format!("{r:.0} 天"),
    }
}

/// A rate as a percentage with one decimal, `—` without a denominator.
pub fn pct(r: Option<f64>) -> String {
    r.map(|r| format!("{:.1}%", r * 100.0))
        .unwrap_or_else(|| "—".into())
}

/// A change as a signed percentage (`+12.5%`), `—` without a base.
pub fn change(r: Option<f64>) -> String {
    r.map(|r| format!("{:+.1}%", r * 100.0))
        .unwrap_or_else(|| "—".into())
}

/// Minutes as people read them: `45 分钟`, `3 小时`, `2 天` (bucket bounds are round).
pub fn minutes(m: Option<i64>) -> String {
    match m {
        None => "—".into(),
        Some(m) if m < 60 => format!("≤{m} 分钟"),
        Some(m) if m < 1440 || m % 1440 != 0 => format!("≤{} 小时", m / 60),
        Some(m) => format!("≤{} 天", m / 1440),
    }
}

/// The headline lines: (indicator, this month, previous month, 环比, a year ago, 同比).
pub fn headline(s: &Summary) -> Vec<[String; 6]> {
    let (p, b, y) = (&s.period, &s.previous, &s.year_ago);
    let n = |v: i64| v.to_string();
    vec![
        [
            "受理量".into(),
            n(p.counts.received),
            n(b.counts.received),
            change(s.received_mom),
            n(y.counts.received),
            change(s.received_yoy),
        ],
        [
            "办结量".into(),
            n(p.counts.closed),
            n(b.counts.closed),
            change(s.closed_mom),
            n(y.counts.closed),
            change(s.closed_yoy),
        ],
        rate_line(
            "按时签收率",
            p.sign_on_time_rate,
            b.sign_on_time_rate,
            y.sign_on_time_rate,
        ),
        rate_line(
            "按时答复率",
            p.reply_on_time_rate,
            b.reply_on_time_rate,
            y.reply_on_time_rate,
        ),
        rate_line(
            "回访率",
            p.follow_up_rate,
            b.follow_up_rate,
            y.follow_up_rate,
        ),
        rate_line(
            "满意率",
            p.satisfaction_rate,
            b.satisfaction_rate,
            y.satisfaction_rate,
        ),
        rate_line("退单率", p.return_rate, b.return_rate, y.return_rate),
        rate_line("重办率", p.redo_rate, b.redo_rate, y.redo_rate),
        [
            "签收用时中位数".into(),
            minutes(p.sign_minutes_median),
            minutes(b.sign_minutes_median),
            String::new(),
            minutes(y.sign_minutes_median),
            String::new(),
        ],
        [
            "办结用时中位数".into(),
            minutes(p.close_minutes_median),
            minutes(b.close_minutes_median),
            String::new(),
            minutes(y.close_minutes_median),
            String::new(),
        ],
        [
            "办结用时 P90".into(),
            minutes(p.close_minutes_p90),
            minutes(b.close_minutes_p90),
            String::new(),
            minutes(y.close_minutes_p90),
            String::new(),
        ],
    ]
}

/// A rate's headline line; the change of a rate is in percentage points.
fn rate_line(name: &str, now: Option<f64>, before: Option<f64>, year: Option<f64>) -> [String; 6] {
    let pp = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(a), Some(b)) => format!("{:+.1} 个百分点", (a - b) * 100.0),
        _ => "—".into(),
    };
    [
        name.into(),
        pct(now),
        pct(before),
        pp(now, before),
        pct(year),
        pp(now, year),
    ]
}

/// The headers of the scorecard table (XLSX and Markdown).
pub const SCORE_HEADERS: [&str; 10] = [
    "排名",
    "单位",
    "派单",
    "按时签收率",
    "按时办结率",
    "退单率",
    "回访率",
    "满意率",
    "重办率",
    "得分",
];

/// The headers of [`headline`].
pub const HEADLINE_HEADERS: [&str; 6] = ["指标", "本月", "上月", "环比", "去年同期", "同比"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_read_as_people_read_them() {
        assert_eq!(pct(Some(0.9234)), "92.3%");
        assert_eq!(pct(None), "—");
        assert_eq!(change(Some(0.125)), "+12.5%");
        assert_eq!(change(Some(-0.5)), "-50.0%");
        assert_eq!(minutes(Some(30)), "≤30 分钟");
        assert_eq!(minutes(Some(180)), "≤3 小时");
        assert_eq!(minutes(Some(2880)), "≤2 天");
        assert_eq!(minutes(None), "—");
        let line = rate_line("满意率", Some(0.9), Some(0.8), None);
        assert_eq!(line[3], "+10.0 个百分点");
        assert_eq!(line[5], "—");
    }
}
