/*!
The scorecards page (考核排名): every handling unit's card for a month, ranked, with the 红榜 and
黑榜 (top and bottom three) — the same computation as `GET /api/v1/scorecards`
([`crate::engine::scorecards`]), aggregates only.
*/

use super::*;
use crate::engine::scorecards::{for_period, trend};
use crate::model::time::day_start_ms;

/// Roles that see the scorecards (as the API).
const ROLES: &[Role] = &[
    Role::Admin,
    Role::Supervisor,
    Role::Dispatcher,
    Role::Analyst,
];
/// How many units the red and black lists name.
const LIST: usize = 3;
/// Months of each unit's trend (this month and the ones before).
const TREND_MONTHS: u32 = 6;

#[derive(Deserialize, Default)]
pub struct MonthQuery {
    #[serde(default)]
    month: Option<String>,
}

/// `[start, end)` of a `YYYY-MM` month in Asia/Shanghai.
fn month_bounds(month: &str) -> Option<(i64, i64)> {
    let (y, m) = month.split_once('-')?;
    let (y, m): (i32, u32) = (y.parse().ok()?, m.parse().ok()?);
    if !(1..=12).contains(&m) {
        return None;
    }
    let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    Some((
        day_start_ms(&format!("{y:04}-{m:02}-01"))?,
        day_start_ms(&format!("{ny:04}-{nm:02}-01"))?,
    ))
}

/// `GET /console/scorecards?month=YYYY-MM` (this month by default).
pub async fn scorecards_page(
    State(state): State<AppState>,
    user: ConsoleUser,
    Query(q): Query<MonthQuery>,
) -> Response {
    let lang = user.lang;
    if !ROLES.contains(&user.principal.role) {
        return error_page(
            lang,
            Some(&user),
            StatusCode::FORBIDDEN,
            lang.t("error.forbidden"),
        );
    }
    let this_month = crate::model::time::shanghai(now_ms())
        .format("%Y-%m")
        .to_string();
    let month = q
        .month
        .filter(|m| month_bounds(m).is_some())
        .unwrap_or(this_month);
    let Some((from, to)) = month_bounds(&month) else {
        return error_page(
            lang,
            Some(&user),
            StatusCode::UNPROCESSABLE_ENTITY,
            lang.t("error.title"),
        );
    };
    let (cards, trends) = match tokio::try_join!(
        for_period(&state.store, &state.region, from, to),
        trend(&state.store, &state.region, &month, TREND_MONTHS),
    ) {
        Ok((c, t)) => (c, t.unwrap_or_default()),
        Err(e) => return store_error_page(&user, e),
    };
    let pct = |r: Option<f64>| {
        r.map(|r| format!("{:.1}%", r * 100.0))
            .unwrap_or_else(|| "—".into())
    };
    let rows: Vec<_> = cards
        .iter()
        .map(|c| {
            json!({
                "unit_id": c.unit_id,
                "unit": unit_name(&state, Some(&c.unit_id)),
                "assigned": c.counts.assigned,
                "sign": pct(c.sign_on_time_rate),
                "close": pct(c.close_on_time_rate),
                "return": pct(c.return_rate),
                "follow_up": pct(c.follow_up_rate),
                "satisfaction": pct(c.satisfaction_rate),
                "redo": pct(c.redo_rate),
                "score": c.score.map(|s| format!("{s:.1}")).unwrap_or_else(|| "—".into()),
                "rank": c.rank,
                // Server-drawn SVG (every label escaped by `svg`); the template marks it safe.
                "trend": svg::sparkline(
                    &format!("{} {}", unit_name(&state, Some(&c.unit_id)), lang.t("score.trend")),
                    &trends
                        .get(&c.unit_id)
                        .map(|points| {
                            points
                                .iter()
                                .map(|p| (p.month.clone(), p.score))
                                .collect::<Vec<_>>()
                        })
                        .unwrap_or_default(),
                ),
            })
        })
        .collect();
    let ranked: Vec<_> = rows
        .iter()
        .filter(|r| !r["rank"].is_null())
        .cloned()
        .collect();
    let red: Vec<_> = ranked.iter().take(LIST).cloned().collect();
    let black: Vec<_> = if ranked.len() > LIST {
        ranked.iter().rev().take(LIST).cloned().collect()
    } else {
        Vec::new()
    };
    page_response(
        &state,
        &user,
        StatusCode::OK,
        "scorecards.html",
        "scorecards",
        Value::from_serialize(json!({
            "month": month, "rows": rows, "red": red, "black": black,
        })),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_run_from_the_first_to_the_next_first() {
        let (a, b) = month_bounds("2026-12").unwrap();
        assert_eq!(b - a, 31 * 86_400_000);
        let (a, b) = month_bounds("2024-02").unwrap();
        assert_eq!(b - a, 29 * 86_400_000);
        assert!(month_bounds("2026-13").is_none() && month_bounds("soon").is_none());
    }
}
