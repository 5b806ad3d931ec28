/*!
The KPI document (`m110 kpi`) and the province's live comparison (`m110 compare --kpi`).

A region's KPI document is one month of its figures, with no personal data, in a documented,
versioned JSON shape ([`KPI_VERSION`], `docs/kpi.md`): calls per 1,000 residents, the 三率
(响应率, 解决率, 满意率) and the other 12345 rates, the median and 90th-percentile time to close, the
top categories, the channels, and the staffing the profile planned (Erlang C, peak hour) beside
the calls the center actually took in each hour of the day. A coordinator collects one file per
county and `m110 compare --kpi` puts them side by side, beside their plans.
*/

use m110_runtime::engine::analytics::{self, By, Query};
use m110_runtime::engine::region::RegionIndex;
use m110_runtime::model::Region;
use m110_runtime::model::time::{now_ms, render_time, shanghai};
use m110_runtime::store::{Store, StoreError};
use serde::{Deserialize, Serialize};

use crate::staffing;
use crate::table::{Row, Table};

/// The document's version: a reader refuses versions it does not know.
pub const KPI_VERSION: u32 = 1;
/// How many categories `top_categories` lists.
pub const TOP: usize = 5;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KpiRegion {
    pub code: String,
    pub name: String,
    pub population: u64,
    pub archetype: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KpiPeriod {
    pub month: String,
    pub from: String,
    pub to: String,
    pub days: u32,
}

/// The 三率 of 接诉即办, as the kit measures them (docs/kpi.md).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThreeRates {
    /// 响应率: dispatches signed by their deadline ÷ dispatches signed.
    pub response_rate: Option<f64>,
    /// 解决率: cases closed or answered ÷ cases received (police transfers left out).
    pub resolution_rate: Option<f64>,
    /// 满意率: satisfied and mostly satisfied ÷ follow-ups with an outcome.
    pub satisfaction_rate: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KpiRates {
    pub sign_on_time_rate: Option<f64>,
    pub reply_on_time_rate: Option<f64>,
    pub follow_up_rate: Option<f64>,
    pub return_rate: Option<f64>,
    pub redo_rate: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KpiCategory {
    pub code: String,
    pub name: String,
    pub received: i64,
    pub share: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KpiStaffing {
    /// The profile's inputs: calls per 1,000 residents a year.
    pub planned_calls_per_1000_per_year: f64,
    /// The plan's busiest hour (Erlang C), `None` when the inputs do not give a plan.
    pub planned_peak_calls_per_hour: Option<f64>,
    pub planned_agents: Option<u32>,
    pub planned_scheduled_staff: Option<u32>,
    /// Phone calls taken per hour of day (0–23), averaged over the period's days.
    pub actual_calls_per_hour: Vec<f64>,
    /// The busiest of those hours.
    pub actual_peak_calls_per_hour: f64,
    pub actual_peak_hour: u32,
}

/// A region's KPI document for one month.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Kpi {
    pub kpi_version: u32,
    pub kit_version: String,
    pub region: KpiRegion,
    pub period: KpiPeriod,
    pub generated_at: String,
    pub received: i64,
    pub closed: i64,
    pub answered: i64,
    pub transferred: i64,
    /// Cases received in the period per 1,000 residents.
    pub calls_per_1000_residents: Option<f64>,
    /// The same, as a yearly rate (× 365 / days) — comparable with the profile's plan.
    pub calls_per_1000_per_year: Option<f64>,
    pub three_rates: ThreeRates,
    pub rates: KpiRates,
    pub median_close_minutes: Option<i64>,
    pub p90_close_minutes: Option<i64>,
    pub top_categories: Vec<KpiCategory>,
    /// Cases received per channel.
    pub channels: Vec<(String, i64)>,
    pub staffing: KpiStaffing,
}

/// Builds the KPI document of `month` (`YYYY-MM`); `None` when it is not a month.
pub async fn build(store: &Store, region: &Region, month: &str) -> Result<Option<Kpi>, StoreError> {
    let Some((from, to)) = analytics::month_bounds(month) else {
        return Ok(None);
    };
    let index = RegionIndex::from_region(region);
    let q = Query {
        from,
        to,
        ..Query::default()
    };
    let totals = analytics::totals(store, &index, &q).await?;
    let f = totals.figures();
    let days = ((to - from) / 86_400_000).max(1) as u32;
    let population = region.info.population;
    let per_1000 = (population > 0).then(|| totals.received as f64 * 1000.0 / population as f64);
    let cats = analytics::breakdown(store, &index, &q, By::Category).await?;
    let top_categories = cats
        .iter()
        .filter(|r| !r.key.is_empty())
        .take(TOP)
        .filter_map(|r| {
            let n = r.figures.as_ref()?.counts.received;
            Some(KpiCategory {
                code: r.key.clone(),
                name: r.label.clone(),
                received: n,
                share: if totals.received > 0 {
                    n as f64 / totals.received as f64
                } else {
                    0.0
                },
            })
        })
        .collect();
    let channels = analytics::breakdown(store, &index, &q, By::Channel)
        .await?
        .into_iter()
        .filter_map(|r| Some((r.key, r.figures?.counts.received)))
        .collect();
    let phone = Query {
        channel: Some("phone".into()),
        ..q.clone()
    };
    let hours = analytics::breakdown(store, &index, &phone, By::Hour).await?;
    let per_hour: Vec<f64> = (0..24)
        .map(|h| {
            hours
                .iter()
                .find(|r| r.key == format!("{h:02}"))
                .and_then(|r| r.figures.as_ref())
                .map(|x| x.counts.received as f64 / f64::from(days))
                .unwrap_or(0.0)
        })
        .collect();
    let (peak_hour, peak) =
        per_hour.iter().enumerate().fold(
            (0, 0.0),
            |best, (h, v)| if *v > best.1 { (h, *v) } else { best },
        );
    let inputs = &region.service_center.staffing;
    let plan = staffing::plan(population, inputs).ok();
    let resolved = totals.closed + totals.answered + totals.solved_on_spot;
    let base = totals.received - totals.transferred;
    Ok(Some(Kpi {
        kpi_version: KPI_VERSION,
        kit_version: m110_runtime::VERSION.to_string(),
        region: KpiRegion {
            code: region.info.code.clone(),
            name: region.info.name.clone(),
            population,
            archetype: region.info.archetype.as_str().to_string(),
        },
        period: KpiPeriod {
            month: month.trim().to_string(),
            from: shanghai(from).format("%Y-%m-%d").to_string(),
            to: shanghai(to - 1).format("%Y-%m-%d").to_string(),
            days,
        },
        generated_at: render_time(now_ms()),
        received: totals.received,
        closed: totals.closed,
        answered: totals.answered,
        transferred: totals.transferred,
        calls_per_1000_residents: per_1000,
        calls_per_1000_per_year: per_1000.map(|v| v * 365.0 / f64::from(days)),
        three_rates: ThreeRates {
            response_rate: f.sign_on_time_rate,
            resolution_rate: (base > 0).then(|| (resolved as f64 / base as f64).min(1.0)),
            satisfaction_rate: f.satisfaction_rate,
        },
        rates: KpiRates {
            sign_on_time_rate: f.sign_on_time_rate,
            reply_on_time_rate: f.reply_on_time_rate,
            follow_up_rate: f.follow_up_rate,
            return_rate: f.return_rate,
            redo_rate: f.redo_rate,
        },
        median_close_minutes: f.close_minutes_median,
        p90_close_minutes: f.close_minutes_p90,
        top_categories,
        channels,
        staffing: KpiStaffing {
            planned_calls_per_1000_per_year: inputs.calls_per_1000_per_year,
            planned_peak_calls_per_hour: plan.as_ref().map(|p| p.peak_calls_per_hour),
            planned_agents: plan.as_ref().map(|p| p.agents),
            planned_scheduled_staff: plan.as_ref().map(|p| p.scheduled_staff),
            actual_calls_per_hour: per_hour
                .iter()
                .map(|v| (v * 100.0).round() / 100.0)
                .collect(),
            actual_peak_calls_per_hour: (peak * 100.0).round() / 100.0,
            actual_peak_hour: peak_hour as u32,
        },
    }))
}

/// Reads a KPI document, refusing a version this kit does not know.
pub fn parse(name: &str, text: &str) -> Result<Kpi, String> {
    let v: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("{name}: not JSON: {e}"))?;
    match v["kpi_version"].as_u64() {
        Some(n) if n == u64::from(KPI_VERSION) => {}
        Some(n) => {
            return Err(format!(
                "{name}: kpi_version {n}; this kit reads version {KPI_VERSION} (use the kit that wrote it, or a newer one)"
            ));
        }
        None => {
            return Err(format!(
                "{name}: no kpi_version: not a KPI document from `m110 kpi`"
            ));
        }
    }
    serde_path_to_error::deserialize(v).map_err(|e| format!("{name}: {}: {}", e.path(), e.inner()))
}

fn pct(v: Option<f64>) -> String {
    v.map(|v| format!("{:.1}%", v * 100.0))
        .unwrap_or_else(|| "-".into())
}

fn num(v: Option<f64>, digits: usize) -> String {
    v.map(|v| format!("{v:.digits$}"))
        .unwrap_or_else(|| "-".into())
}

/// The regions side by side: a row per figure, a column per KPI document.
pub fn table(kpis: &[Kpi]) -> Table {
    let mut rows = Vec::new();
    let mut row = |key: &str, label: &str, f: &dyn Fn(&Kpi) -> String| {
        rows.push(Row {
            key: key.to_string(),
            label: label.to_string(),
            cells: kpis.iter().map(f).collect(),
        });
    };
    row("region", "区域 Region", &|k| {
        format!("{} ({})", k.region.name, k.region.code)
    });
    row("period", "月份 Month", &|k| k.period.month.clone());
    row("population", "人口 Population", &|k| {
        k.region.population.to_string()
    });
    row("received", "受理 Received", &|k| k.received.to_string());
    row(
        "calls_per_1000",
        "每千人诉求 Per 1,000 residents",
        &|k| num(k.calls_per_1000_residents, 2),
    );
    row(
        "calls_per_1000_per_year",
        "折合年每千人 Per 1,000 a year",
        &|k| {
            format!(
                "{} (规划 plan {:.0})",
                num(k.calls_per_1000_per_year, 0),
                k.staffing.planned_calls_per_1000_per_year
            )
        },
    );
    row("response_rate", "响应率 Response", &|k| {
        pct(k.three_rates.response_rate)
    });
    row("resolution_rate", "解决率 Resolution", &|k| {
        pct(k.three_rates.resolution_rate)
    });
    row("satisfaction_rate", "满意率 Satisfaction", &|k| {
        pct(k.three_rates.satisfaction_rate)
    });
    row(
        "reply_on_time_rate",
        "按时答复率 Replied on time",
        &|k| pct(k.rates.reply_on_time_rate),
    );
    row("return_rate", "退单率 Returned", &|k| {
        pct(k.rates.return_rate)
    });
    row(
        "median_close_minutes",
        "办结用时中位数(分) Median close, min",
        &|k| {
            k.median_close_minutes
                .map(|m| format!("≤{m}"))
                .unwrap_or_else(|| "-".into())
        },
    );
    row("top_category", "首位诉求 Top category", &|k| {
        k.top_categories
            .first()
            .map(|c| format!("{} {:.0}%", c.name, c.share * 100.0))
            .unwrap_or_else(|| "-".into())
    });
    row(
        "peak_calls",
        "高峰小时来电 Peak calls/h (实际/规划)",
        &|k| {
            format!(
                "{:.1} @{:02}时 / {}",
                k.staffing.actual_peak_calls_per_hour,
                k.staffing.actual_peak_hour,
                num(k.staffing.planned_peak_calls_per_hour, 1)
            )
        },
    );
    row("planned_agents", "规划坐席 Planned agents", &|k| {
        k.staffing
            .planned_agents
            .map(|a| a.to_string())
            .unwrap_or_else(|| "-".into())
    });
    Table {
        titles: kpis
            .iter()
            .map(|k| format!("{} ({}) {}", k.region.name, k.region.code, k.period.month))
            .collect(),
        keys: kpis.iter().map(|k| k.region.code.clone()).collect(),
        rows,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_versions_are_refused_by_name() {
        let err = parse("a.json", r#"{"kpi_version": 9}"#).unwrap_err();
        assert!(
            err.contains("a.json") && err.contains("kpi_version 9"),
            "{err}"
        );
        let err = parse("b.json", r#"{"x": 1}"#).unwrap_err();
        assert!(err.contains("no kpi_version"), "{err}");
        let err = parse("c.json", r#"{"kpi_version": 1, "region": 3}"#).unwrap_err();
        assert!(err.starts_with("c.json: "), "{err}");
    }
}
