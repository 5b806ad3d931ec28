/*!
The dashboard: today's figures, SVG charts and the grid density map.
*/

use super::*;
use crate::engine::delivery::platform_health;

/// `GET /console/dashboard`: today's numbers and the charts, all drawn by the server.
pub async fn dashboard(State(state): State<AppState>, user: ConsoleUser) -> Response {
    let lang = user.lang;
    if !matches!(
        user.principal.role,
        Role::Admin | Role::Supervisor | Role::Operator | Role::Dispatcher | Role::Analyst
    ) {
        return error_page(
            lang,
            Some(&user),
            StatusCode::FORBIDDEN,
            lang.t("error.forbidden"),
        );
    }
    let now = now_ms();
    let today = i18n::day_start(now);
    let since = today - 29 * 86_400_000;
    let store = &state.store;
    let (headline, by_cat, by_grid, daily) = match tokio::try_join!(
        store.console_headline(today),
        store.console_by_category(since),
        store.console_by_grid(since),
        store.console_daily(since),
    ) {
        Ok(v) => v,
        Err(e) => return store_error_page(&user, e),
    };
    let empty = lang.t("common.empty");

    let cat_bars: Vec<svg::Bar> = by_cat
        .iter()
        .take(12)
        .map(|(code, n)| svg::Bar {
            label: category_name(&state, lang, code.as_deref()),
            value: *n as f64,
            href: code
                .as_ref()
                .map(|c| format!("/console/queue?view=overdue&category={}", url_encode(c))),
        })
        .collect();

    // Fold grid codes into their township (tier 1).
    let mut town_cases: HashMap<String, i64> = HashMap::new();
    for (code, n) in &by_grid {
        if let Some(t) = code.as_deref().and_then(|c| township_of(&state, c)) {
            *town_cases.entry(t).or_default() += n;
        }
    }
    let towns: Vec<_> = state
        .region
        .grid_units
        .iter()
        .filter(|g| g.tier == 1)
        .collect();
    let mut town_bars: Vec<svg::Bar> = towns
        .iter()
        .map(|t| {
            svg::Bar::new(
                t.name.clone(),
                *town_cases.get(&t.code).unwrap_or(&0) as f64,
            )
        })
        .collect();
    town_bars.sort_by(|a, b| b.value.total_cmp(&a.value));
    town_bars.truncate(12);

    let map_units = township_map(&state, &town_cases);

    let by_day: HashMap<i64, i64> = daily.into_iter().collect();
    let first_day = crate::store::console::shanghai_day(since);
    let points: Vec<svg::Point> = (0..30)
        .map(|i| {
            let day = first_day + i;
            svg::Point {
                label: i18n::format_day(day * 86_400_000),
                value: *by_day.get(&day).unwrap_or(&0) as f64,
            }
        })
        .collect();

    let satisfaction = if headline.followed_up > 0 {
        format!(
            "{:.1}%",
            headline.satisfied as f64 * 100.0 / headline.followed_up as f64
        )
    } else {
        "—".into()
    };
    // A platform whose messages are dead or failing shows here (readyz stays green: the center
    // works, but what it hands on does not arrive).
    let failing: Vec<String> = match platform_health(store, &state.region).await {
        Ok(list) => list
            .into_iter()
            .filter(|p| p.failing)
            .map(|p| p.name)
            .collect(),
        Err(e) => return store_error_page(&user, e),
    };
    let ack_minutes = state.config.handoff_ack_minutes;
    let unacknowledged = match store.overdue_handoffs(now - ack_minutes * 60_000).await {
        // What the hand-off alert job marked red, said where the center looks first.
        Ok(0) => None,
        Ok(n) => Some(
            lang.t("dash.unacknowledged")
                .replace("{n}", &n.to_string())
                .replace("{m}", &ack_minutes.to_string()),
        ),
        Err(e) => return store_error_page(&user, e),
    };
    // New early-warning alerts, for the roles that read them.
    let new_alerts = if matches!(
        user.principal.role,
        Role::Admin | Role::Supervisor | Role::Dispatcher | Role::Analyst
    ) {
        match store.alert_counts().await {
            Ok(counts) => counts
                .into_iter()
                .find(|(s, _)| s == "new")
                .map(|(_, n)| n)
                .filter(|n| *n > 0),
            Err(e) => return store_error_page(&user, e),
        }
    } else {
        None
    };
    let kpis = json!([
        {"id": "today", "key": "dash.today", "value": headline.received_today, "alert": false},
        {"id": "closed", "key": "dash.closed_today", "value": headline.closed_today, "alert": false},
        {"id": "open", "key": "dash.open", "value": headline.open, "alert": false},
        {"id": "overdue", "key": "dash.overdue", "value": headline.overdue, "alert": headline.overdue > 0},
        {"id": "satisfaction", "key": "dash.satisfaction", "value": satisfaction, "alert": false},
    ]);
    let data = merge_maps([
        minijinja::context! {
            trend => templates::safe(svg::trend_line(lang.t("dash.trend"), &points, empty)),
            map => templates::safe(svg::grid_map(lang.t("dash.map"), &map_units, lang.t("dash.map_legend"), lang.t("dash.map_legend_count"), empty)),
            by_category => templates::safe(svg::bar_chart(lang.t("dash.by_category"), &cat_bars, empty)),
            by_township => templates::safe(svg::bar_chart(lang.t("dash.by_township"), &town_bars, empty)),
        },
        Value::from_serialize(json!({"kpis": kpis, "now": now, "failing": failing,
            "unacknowledged": unacknowledged, "new_alerts": new_alerts})),
    ]);
    page_response(
        &state,
        &user,
        StatusCode::OK,
        "dashboard.html",
        "dashboard",
        data,
    )
}

/// The tier-1 ancestor of a grid code.
pub(super) fn township_of(state: &AppState, code: &str) -> Option<String> {
    let mut cur = state.region.grid(code)?;
    for _ in 0..8 {
        if cur.tier <= 1 {
            return Some(cur.code.clone());
        }
        cur = state.region.grid(cur.parent.as_deref()?)?;
    }
    None
}

/// The townships (tier 1) as map units with their case counts from `cases` (township code →
/// count) and their population (their own figure, else the sum of their children's).
pub(super) fn township_map(state: &AppState, cases: &HashMap<String, i64>) -> Vec<svg::MapUnit> {
    let grid = &state.region.grid_units;
    grid.iter()
        .filter(|g| g.tier == 1)
        .map(|t| {
            let pop = t.population.map(|p| p as f64).or_else(|| {
                let s: u64 = grid
                    .iter()
                    .filter(|g| g.parent.as_deref() == Some(t.code.as_str()))
                    .filter_map(|g| g.population)
                    .sum();
                (s > 0).then_some(s as f64)
            });
            svg::MapUnit {
                code: t.code.clone(),
                name: t.name.clone(),
                lat: t.centroid.map(|c| c.lat),
                lon: t.centroid.map(|c| c.lon),
                cases: *cases.get(&t.code).unwrap_or(&0) as f64,
                population: pop,
            }
        })
        .collect()
}
