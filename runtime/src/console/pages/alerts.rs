/*!
The early-warning pages (预警): `/console/alerts` lists the alerts by state (new first), and
`/console/alerts/{id}` shows one — its figures, its time curve, the grid units concerned on the
map — with the actions its state allows (acknowledge, dispatch a proactive case, resolve,
dismiss with a reason), the same [`crate::engine::alerts::act`] the API calls. Admins,
supervisors and dispatchers act; the analyst reads.
*/

use super::*;
use crate::engine::alerts::{ALERT_ACTORS, AlertAction, AlertActionInput, act, allowed};
use crate::store::alerts::{Alert, AlertFilter};

/// Roles that see the alerts.
const READERS: &[Role] = &[
    Role::Admin,
    Role::Supervisor,
    Role::Dispatcher,
    Role::Analyst,
];
/// The state tabs, in order.
const TABS: [&str; 5] = ["new", "acknowledged", "dispatched", "resolved", "dismissed"];

/// A form field, trimmed; `None` when absent or blank.
fn form_field<'a>(form: &'a [(String, String)], k: &str) -> Option<&'a str> {
    form.iter()
        .find(|(key, _)| key == k)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}

fn forbidden(user: &ConsoleUser) -> Option<Response> {
    (!READERS.contains(&user.principal.role)).then(|| {
        error_page(
            user.lang,
            Some(user),
            StatusCode::FORBIDDEN,
            user.lang.t("error.forbidden"),
        )
    })
}

/// An alert as the pages show it.
fn alert_view(state: &AppState, lang: Lang, a: &Alert) -> serde_json::Value {
    json!({
        "id": a.id,
        "method": lang.t(&format!("alert.method.{}", a.alert.method)),
        "method_key": a.alert.method,
        "category": category_name(state, lang, a.alert.category_code.as_deref()),
        "area": a.alert.area_code.as_deref().map(|g| state.region.grid_path(g))
            .unwrap_or_else(|| state.region.name.clone()),
        "period": if a.alert.start_day == a.alert.end_day {
            a.alert.start_day.clone()
        } else {
            format!("{} – {}", a.alert.start_day, a.alert.end_day)
        },
        "detected_on": a.alert.detected_on,
        "observed": a.alert.observed,
        "expected": format!("{:.1}", a.alert.expected),
        "recurrence": crate::engine::report::recurrence(a.alert.recurrence_days),
        "p_value": a.alert.p_value.map(p_text),
        "state": a.state,
        "state_label": lang.t(&format!("alert.state.{}", a.state)),
        "reason": a.reason,
        "case": a.case_public_id,
        "grid_count": a.alert.grid_codes.len(),
    })
}

#[derive(Deserialize, Default)]
pub struct AlertsQuery {
    #[serde(default)]
    state: Option<String>,
}

/// `GET /console/alerts?state=new`: the alerts of one state.
pub async fn alerts_page(
    State(state): State<AppState>,
    user: ConsoleUser,
    Query(q): Query<AlertsQuery>,
) -> Response {
    if let Some(r) = forbidden(&user) {
        return r;
    }
    let lang = user.lang;
    let tab = q
        .state
        .filter(|s| TABS.contains(&s.as_str()))
        .unwrap_or_else(|| "new".into());
    let filter = AlertFilter {
        state: Some(tab.clone()),
        limit: 200,
        ..AlertFilter::default()
    };
    let (items, counts) =
        match tokio::try_join!(state.store.alerts(&filter), state.store.alert_counts(),) {
            Ok(v) => v,
            Err(e) => return store_error_page(&user, e),
        };
    let tabs: Vec<_> = TABS
        .iter()
        .map(|t| {
            json!({
                "key": t, "label": lang.t(&format!("alert.state.{t}")),
                "count": counts.iter().find(|(s, _)| s == t).map(|c| c.1).unwrap_or(0),
                "active": *t == tab,
            })
        })
        .collect();
    let rows: Vec<_> = items.iter().map(|a| alert_view(&state, lang, a)).collect();
    page_response(
        &state,
        &user,
        StatusCode::OK,
        "alerts.html",
        "alerts",
        Value::from_serialize(json!({"tabs": tabs, "rows": rows, "tab": tab})),
    )
}

/// `GET /console/alerts/{id}`: one alert.
pub async fn alert_page(
    State(state): State<AppState>,
    user: ConsoleUser,
    Path(id): Path<i64>,
) -> Response {
    if let Some(r) = forbidden(&user) {
        return r;
    }
    alert_detail(&state, &user, id, StatusCode::OK, None).await
}

async fn alert_detail(
    state: &AppState,
    user: &ConsoleUser,
    id: i64,
    status: StatusCode,
    flash: Option<serde_json::Value>,
) -> Response {
    let lang = user.lang;
    let a = match state.store.alert(id).await {
        Ok(Some(a)) => a,
        Ok(None) => {
            return error_page(
                lang,
                Some(user),
                StatusCode::NOT_FOUND,
                lang.t("error.not_found"),
            );
        }
        Err(e) => return store_error_page(user, e),
    };
    let empty = lang.t("common.empty");
    // The time curve: observed per day, the expected level in the point titles.
    let points: Vec<svg::Point> = a
        .alert
        .curve
        .as_array()
        .map(|days| {
            days.iter()
                .map(|d| svg::Point {
                    label: d[0]
                        .as_str()
                        .map(|s| s.get(5..).unwrap_or(s).to_string())
                        .unwrap_or_default(),
                    value: d[1].as_f64().unwrap_or(0.0),
                })
                .collect()
        })
        .unwrap_or_default();
    let curve = svg::trend_line(lang.t("alert.curve"), &points, empty);
    // The map: the grid units of the alert's township(s), the alert's own shaded.
    let region = &state.region;
    let mut towns: Vec<String> = a
        .alert
        .grid_codes
        .iter()
        .filter_map(|g| {
            let mut at = region.grid(g)?;
            while let Some(p) = at.parent.as_deref().and_then(|p| region.grid(p)) {
                at = p;
            }
            Some(at.code.clone())
        })
        .collect();
    towns.sort();
    towns.dedup();
    let finest = a
        .alert
        .grid_codes
        .iter()
        .filter_map(|g| region.grid(g).map(|u| u.tier))
        .max()
        .unwrap_or(1);
    let units: Vec<svg::MapUnit> = region
        .grid_reach(&towns)
        .iter()
        .filter_map(|code| region.grid(code))
        .filter(|g| g.tier == finest)
        .map(|g| svg::MapUnit {
            code: g.code.clone(),
            name: g.name.clone(),
            lat: g.centroid.map(|c| c.lat),
            lon: g.centroid.map(|c| c.lon),
            cases: if a.alert.grid_codes.contains(&g.code) {
                1.0
            } else {
                0.0
            },
            population: None,
        })
        .collect();
    let map = svg::grid_map(
        lang.t("alert.map"),
        &units,
        lang.t("alert.map_legend"),
        lang.t("alert.map_legend"),
        empty,
    );
    let can_act = ALERT_ACTORS.contains(&user.principal.role);
    let actions: Vec<_> = if can_act {
        allowed(&a.state)
            .into_iter()
            .map(|k| json!({"key": k, "label": lang.t(&format!("alert.action.{k}"))}))
            .collect()
    } else {
        Vec::new()
    };
    let places: Vec<String> = a
        .alert
        .grid_codes
        .iter()
        .map(|g| region.grid_path(g))
        .collect();
    let data = merge_maps([
        Value::from_serialize(json!({
            "a": alert_view(state, lang, &a),
            "actions": actions,
            "places": places,
            "flash": flash,
        })),
        Value::from_serialize(std::collections::BTreeMap::from([
            ("curve", templates::safe(curve)),
            ("map", templates::safe(map)),
        ])),
    ]);
    page_response(state, user, status, "alert.html", "alerts", data)
}

/// `POST /console/alerts/{id}/action`: act on an alert, then show it again.
pub async fn alert_action(
    State(state): State<AppState>,
    user: ConsoleUser,
    Path(id): Path<i64>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    if let Some(r) = forbidden(&user) {
        return r;
    }
    if !user.csrf_ok(form_field(&form, "csrf").unwrap_or("")) {
        return csrf_rejected(user.lang);
    }
    let Some(action) = form_field(&form, "action").and_then(AlertAction::parse) else {
        let flash = json!({"kind": "error", "text": user.lang.t("err.missing_field")});
        return alert_detail(
            &state,
            &user,
            id,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(flash),
        )
        .await;
    };
    let input = AlertActionInput {
        action,
        reason: form_field(&form, "reason").map(String::from),
    };
    match act(&state.store, &state.region, &user.principal, id, input).await {
        Ok(_) => Redirect::to(&format!("/console/alerts/{id}")).into_response(),
        Err(e) => {
            let status = errors::status_of(&e);
            let flash = json!({"kind": "error", "text": errors::message(user.lang, &e)});
            alert_detail(&state, &user, id, status, Some(flash)).await
        }
    }
}

/// A p-value as a person reads it: four decimals, or "< 0.0001" with its power of ten for the
/// Gumbel tail's tiny values (1.2e-9 would print as 0.0000, which reads as "certain").
fn p_text(p: f64) -> String {
    if p >= 0.0001 {
        format!("{p:.4}")
    } else {
        format!("< 0.0001 ({p:.1e})")
    }
}

#[cfg(test)]
mod tests {
    use super::p_text;

    #[test]
    fn tiny_p_values_do_not_read_as_zero() {
        assert_eq!(p_text(0.0123), "0.0123");
        assert_eq!(p_text(0.0001), "0.0001");
        assert_eq!(p_text(1.2e-9), "< 0.0001 (1.2e-9)");
    }
}
