/*!
The analytics page (数据分析) and the monthly report's downloads: a month (or a period) filtered
by category, area, unit and channel — the headline with 环比 and 同比, the daily trend, the
hour × weekday heat map, bars by category, township and unit, the township map, channels and the
caller profile (cells under 5 withheld) — all from [`crate::engine::analytics`], aggregates only,
so the analyst role reads it whole. `/console/analytics/report?month=&format=xlsx|html|md`
downloads the month's report ([`crate::engine::report`]); reading it is audited.
*/

use super::dashboard::township_map;
use super::*;
use crate::console::heatmap::heat_map;
use crate::console::report::{WEEKDAYS, bars_chart, figure_rows, trend_chart};
use crate::engine::analytics::{self, By, Invalid, Params, Row};
use crate::engine::report::{self, change, minutes, pct};

/// Roles that see the analytics (as the API).
pub const ANALYTICS_ROLES: &[Role] = &[
    Role::Admin,
    Role::Supervisor,
    Role::Dispatcher,
    Role::Analyst,
];

fn this_month() -> String {
    crate::model::time::shanghai(now_ms())
        .format("%Y-%m")
        .to_string()
}

fn forbidden(user: &ConsoleUser) -> Option<Response> {
    (!ANALYTICS_ROLES.contains(&user.principal.role)).then(|| {
        error_page(
            user.lang,
            Some(user),
            StatusCode::FORBIDDEN,
            user.lang.t("error.forbidden"),
        )
    })
}

/// The options of a filter select: (value, label, selected).
fn options(items: Vec<(String, String)>, selected: &Option<String>) -> Vec<serde_json::Value> {
    items
        .into_iter()
        .map(|(v, l)| json!({"value": v, "label": l, "selected": selected.as_deref() == Some(v.as_str())}))
        .collect()
}

/// `GET /console/analytics`: the page.
pub async fn analytics_page(
    State(state): State<AppState>,
    user: ConsoleUser,
    Query(p): Query<Params>,
) -> Response {
    if let Some(r) = forbidden(&user) {
        return r;
    }
    let lang = user.lang;
    let region = &state.region;
    let q = match p.query(region, &this_month()) {
        Ok(q) => q,
        Err(Invalid { field, message }) => {
            return error_page(
                lang,
                Some(&user),
                StatusCode::UNPROCESSABLE_ENTITY,
                &format!("{field}: {message}"),
            );
        }
    };
    let store = &state.store;
    let by = |b: By| analytics::breakdown(store, region, &q, b);
    let (summary, daily, cats, towns, units, channels, heat) = match tokio::try_join!(
        analytics::summary(store, region, &q),
        by(By::Day),
        by(By::Category),
        by(By::Area(1)),
        by(By::Unit),
        by(By::Channel),
        analytics::heatmap(store, region, &q),
    ) {
        Ok(v) => v,
        Err(e) => return store_error_page(&user, e),
    };
    let (gender, age, occupation) =
        match tokio::try_join!(by(By::Gender), by(By::AgeBand), by(By::Occupation)) {
            Ok(v) => v,
            Err(e) => return store_error_page(&user, e),
        };
    let empty = lang.t("common.empty");
    let f = &summary.period;
    let cards = json!([
        {"id": "received", "label": lang.t("ana.received"), "value": f.counts.received,
         "mom": change(summary.received_mom), "yoy": change(summary.received_yoy)},
        {"id": "closed", "label": lang.t("ana.closed"), "value": f.counts.closed,
         "mom": change(summary.closed_mom), "yoy": change(summary.closed_yoy)},
        // Settled without a unit: answered on the call (直接办结) and on the spot (就地解决).
        {"id": "answered", "label": lang.t("ana.answered"), "value": f.counts.answered,
         "mom": "", "yoy": ""},
        {"id": "solved_on_spot", "label": lang.t("ana.solved_on_spot"),
         "value": f.counts.solved_on_spot, "mom": "", "yoy": ""},
        {"id": "sign", "label": lang.t("score.sign"), "value": pct(f.sign_on_time_rate),
         "mom": "", "yoy": ""},
        {"id": "reply", "label": lang.t("ana.reply_on_time"), "value": pct(f.reply_on_time_rate),
         "mom": "", "yoy": ""},
        {"id": "satisfaction", "label": lang.t("score.satisfaction"),
         "value": pct(f.satisfaction_rate), "mom": "", "yoy": ""},
        {"id": "follow_up", "label": lang.t("score.follow_up"), "value": pct(f.follow_up_rate),
         "mom": "", "yoy": ""},
        {"id": "return", "label": lang.t("score.return"), "value": pct(f.return_rate),
         "mom": "", "yoy": ""},
        {"id": "sign_time", "label": lang.t("ana.sign_time"),
         "value": format!("{} / {}", minutes(f.sign_minutes_median), minutes(f.sign_minutes_p90)),
         "mom": "", "yoy": ""},
        {"id": "close_time", "label": lang.t("ana.close_time"),
         "value": format!("{} / {}", minutes(f.close_minutes_median), minutes(f.close_minutes_p90)),
         "mom": "", "yoy": ""},
    ]);
    let town_counts: HashMap<String, i64> = towns
        .iter()
        .filter_map(|r: &Row| Some((r.key.clone(), r.figures.as_ref()?.counts.received)))
        .collect();
    let map = svg::grid_map(
        lang.t("dash.map"),
        &township_map(&state, &town_counts),
        lang.t("dash.map_legend"),
        lang.t("dash.map_legend_count"),
        empty,
    );
    let mut top_cats = cats.clone();
    top_cats.truncate(12);
    let mut top_units = units.clone();
    top_units.truncate(12);

    let categories: Vec<(String, String)> = region
        .categories
        .iter()
        .map(|c| {
            let label = match &c.parent {
                Some(p) => format!(
                    "{} / {}",
                    region.category(p).map(|x| x.name_zh.as_str()).unwrap_or(p),
                    c.name_zh
                ),
                None => c.name_zh.clone(),
            };
            (c.code.clone(), label)
        })
        .collect();
    let areas: Vec<(String, String)> = region
        .grid_units
        .iter()
        .filter(|g| g.tier <= 2)
        .map(|g| (g.code.clone(), region.grid_path(&g.code)))
        .collect();
    let unit_opts: Vec<(String, String)> = region
        .units
        .iter()
        .map(|u| (u.id.clone(), u.name.clone()))
        .collect();
    let channel_opts: Vec<(String, String)> = Channel::ALL
        .iter()
        .map(|c| {
            (
                c.as_str().to_string(),
                lang.t(&format!("channel.{}", c.as_str())).to_string(),
            )
        })
        .collect();
    // The query string of the period and filters, for the download and breakdown links.
    let mut qs = vec![format!(
        "from={}&to={}",
        crate::model::time::shanghai(q.from).format("%Y-%m-%d"),
        crate::model::time::shanghai(q.to - 1).format("%Y-%m-%d")
    )];
    for (k, v) in [
        ("category", &q.category),
        ("area", &q.area),
        ("unit", &q.unit),
        ("channel", &q.channel),
    ] {
        if let Some(v) = v {
            qs.push(format!("{k}={}", url_encode(v)));
        }
    }
    let month = p
        .month
        .clone()
        .filter(|m| analytics::month_bounds(m).is_some())
        .unwrap_or_else(|| {
            crate::model::time::shanghai(q.from)
                .format("%Y-%m")
                .to_string()
        });
    let data = merge_maps([Value::from_serialize(json!({
        "month": month,
        "from": crate::model::time::shanghai(q.from).format("%Y-%m-%d").to_string(),
        "to": crate::model::time::shanghai(q.to - 1).format("%Y-%m-%d").to_string(),
        "custom": p.month.is_none() && (p.from.is_some() || p.to.is_some()),
        "cards": cards,
        "categories": options(categories, &q.category),
        "areas": options(areas, &q.area),
        "units": options(unit_opts, &q.unit),
        "channels": options(channel_opts, &q.channel),
        "qs": qs.join("&"),
        "channel_rows": figure_rows(&channels),
        "gender": figure_rows(&gender),
        "age_band": figure_rows(&age),
        "occupation": figure_rows(&occupation),
        "min_cell": analytics::MIN_CELL,
    }))]);
    let svgs = [
        ("trend", trend_chart(lang.t("ana.trend"), &daily, empty)),
        (
            "heat",
            heat_map(lang.t("ana.heat"), &WEEKDAYS, &heat, empty),
        ),
        (
            "by_category",
            bars_chart(lang.t("dash.by_category"), &top_cats, empty),
        ),
        (
            "by_township",
            bars_chart(lang.t("dash.by_township"), &towns, empty),
        ),
        (
            "by_unit",
            bars_chart(lang.t("ana.by_unit"), &top_units, empty),
        ),
        ("map", map),
    ];
    let svgs: std::collections::BTreeMap<&str, Value> = svgs
        .into_iter()
        .map(|(k, v)| (k, templates::safe(v)))
        .collect();
    page_response(
        &state,
        &user,
        StatusCode::OK,
        "analytics.html",
        "analytics",
        merge_maps([data, Value::from_serialize(svgs)]),
    )
}

#[derive(Deserialize, Default)]
pub struct ReportQuery {
    #[serde(default)]
    month: Option<String>,
    #[serde(default)]
    format: Option<String>,
}

/// `GET /console/analytics/report?month=YYYY-MM&format=xlsx|html|md`: the month's report as a
/// file (the watch list's case numbers left out for the analyst). Audited as `report.download`.
pub async fn report_download(
    State(state): State<AppState>,
    user: ConsoleUser,
    Query(q): Query<ReportQuery>,
) -> Response {
    if let Some(r) = forbidden(&user) {
        return r;
    }
    let lang = user.lang;
    let month = q.month.unwrap_or_else(this_month);
    let format = q.format.unwrap_or_else(|| "xlsx".into());
    if !matches!(format.as_str(), "xlsx" | "html" | "md") {
        return error_page(
            lang,
            Some(&user),
            StatusCode::UNPROCESSABLE_ENTITY,
            "format: xlsx, html or md",
        );
    }
    let built = match report::build(&state.store, &state.region, &month).await {
        Ok(Some(r)) => r,
        Ok(None) => {
            return error_page(
                lang,
                Some(&user),
                StatusCode::UNPROCESSABLE_ENTITY,
                "month: YYYY-MM",
            );
        }
        Err(e) => return store_error_page(&user, e),
    };
    let built = if user.principal.role == Role::Analyst {
        built.without_cases()
    } else {
        built
    };
    let audit = NewAudit::by(&user.principal, "report.download", None).with_detail(json!({
        "month": month, "format": format,
    }));
    if let Err(e) = state.store.audit(&audit).await {
        return store_error_page(&user, e);
    }
    let (bytes, ctype) = match format.as_str() {
        "xlsx" => match report::xlsx::render(&built) {
            Ok(b) => (
                b,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            ),
            Err(e) => return errors::error_response(&user, e),
        },
        "md" => (
            report::markdown::render(&built).into_bytes(),
            "text/markdown; charset=utf-8",
        ),
        _ => match crate::console::report::html(&built) {
            Ok(h) => (h.into_bytes(), "text/html; charset=utf-8"),
            Err(e) => {
                tracing::error!(error = %e, "report template failed");
                return (StatusCode::INTERNAL_SERVER_ERROR, "template error").into_response();
            }
        },
    };
    let mut resp = bytes.into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(ctype));
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename=\"m110-report-{}-{month}.{format}\"",
        state.region.code
    )) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // The HTML report carries its own stylesheet and no script.
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'; img-src data:"),
    );
    resp
}
