/*!
Administration of routing rules (admin only): which unit takes a category in an area (the whole
region, a township, a village). A save puts the rules in force at once on this `m110d` (the
others within a tick, `jobs::routing`), is audited, and is a live edit that `m110 doctor` lists
and `m110 pull` writes back into the profile.
*/

use super::*;

#[derive(Deserialize, Default)]
pub struct RoutingQuery {
    #[serde(default)]
    saved: Option<String>,
    #[serde(default)]
    category: Option<String>,
}

async fn routing_page(
    state: &AppState,
    user: &ConsoleUser,
    status: StatusCode,
    only: Option<&str>,
    flash: Option<serde_json::Value>,
) -> Response {
    let lang = user.lang;
    let (rules, fallback) = match state.store.routing_rules().await {
        Ok(r) => r,
        Err(e) => return store_error_page(user, e),
    };
    let rows: Vec<_> = rules
        .iter()
        .filter(|r| only.is_none_or(|c| r.category == c))
        .map(|r| {
            json!({
                "id": r.id,
                "category": category_name(state, lang, Some(&r.category)),
                "category_code": r.category,
                "scope": r.scope.as_deref().map(|g| state.region.grid_path(g)),
                "unit": unit_name(state, Some(&r.unit)),
                // A police category is a transfer to its line: shown, not edited here.
                "police": state.region.category(&r.category).is_some_and(|c| c.police),
            })
        })
        .collect();
    page_response(
        state,
        user,
        status,
        "admin_routing.html",
        "admin_routing",
        Value::from_serialize(json!({
            "rules": rows,
            "fallback": unit_name(state, Some(&fallback)),
            "only": only.unwrap_or(""),
            "categories": super::category_choices(&state.region.categories, lang)
                .into_iter()
                .filter(|c| c["police"] != true)
                .collect::<Vec<_>>(),
            "scopes": state.region.grid_units.iter().filter(|g| g.tier <= 2)
                .map(|g| json!({"code": g.code, "path": state.region.grid_path(&g.code)}))
                .collect::<Vec<_>>(),
            "units": state.region.units.iter()
                .filter(|u| u.kind != crate::model::UnitKind::Police)
                .map(|u| json!({"id": u.id, "name": u.name})).collect::<Vec<_>>(),
            "flash": flash,
        })),
    )
}

/// `GET /console/admin/routing` (`?category=` shows one category's rules).
pub async fn admin_routing(
    State(state): State<AppState>,
    user: ConsoleUser,
    Query(q): Query<RoutingQuery>,
) -> Response {
    if let Some(r) = admin_only(&user) {
        return r;
    }
    let flash = q
        .saved
        .as_ref()
        .map(|_| json!({"kind": "ok", "text": user.lang.t("admin.routing_saved")}));
    let only = q.category.as_deref().filter(|c| !c.is_empty());
    routing_page(&state, &user, StatusCode::OK, only, flash).await
}

fn field<'a>(form: &'a [(String, String)], k: &str) -> Option<&'a str> {
    form.iter()
        .find(|(key, _)| key == k)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}

/// Puts the saved rules in force here now; a failure leaves the job to bring them in.
async fn put_in_force(state: &AppState) {
    if let Err(e) = crate::jobs::routing::reload(&state.store, &state.region).await {
        tracing::warn!(error = %e, "routing table not reloaded; the routing job will retry");
    }
}

/// `POST /console/admin/routing`: route a category in an area to a unit.
pub async fn admin_routing_save(
    State(state): State<AppState>,
    user: ConsoleUser,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    if let Some(r) = admin_only(&user) {
        return r;
    }
    if !user.csrf_ok(field(&form, "csrf").unwrap_or("")) {
        return csrf_rejected(user.lang);
    }
    let (Some(category), Some(unit)) = (field(&form, "category"), field(&form, "unit_id")) else {
        let flash = json!({"kind": "error", "text": user.lang.t("admin.routing_incomplete")});
        return routing_page(
            &state,
            &user,
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
            Some(flash),
        )
        .await;
    };
    let scope = field(&form, "scope");
    match state
        .store
        .put_routing_rule(
            category,
            scope,
            unit,
            &NewAudit::by(&user.principal, "routing.update", None),
        )
        .await
    {
        Ok(()) => {
            put_in_force(&state).await;
            Redirect::to("/console/admin/routing?saved=1").into_response()
        }
        Err(StoreError::Invalid(m)) => {
            let flash = json!({"kind": "error", "text": m});
            routing_page(
                &state,
                &user,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                Some(flash),
            )
            .await
        }
        Err(e) => store_error_page(&user, e),
    }
}

/// `POST /console/admin/routing/{id}/delete` (with the confirmation box ticked).
pub async fn admin_routing_delete(
    State(state): State<AppState>,
    user: ConsoleUser,
    Path(id): Path<i64>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    if let Some(r) = admin_only(&user) {
        return r;
    }
    if !user.csrf_ok(field(&form, "csrf").unwrap_or("")) {
        return csrf_rejected(user.lang);
    }
    if field(&form, "confirm").is_none() {
        let flash = json!({"kind": "error", "text": user.lang.t("err.confirm_required")});
        return routing_page(
            &state,
            &user,
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
            Some(flash),
        )
        .await;
    }
    match state
        .store
        .delete_routing_rule(id, &NewAudit::by(&user.principal, "routing.delete", None))
        .await
    {
        Ok(()) => {
            put_in_force(&state).await;
            Redirect::to("/console/admin/routing?saved=1").into_response()
        }
        Err(StoreError::Invalid(m)) => {
            let flash = json!({"kind": "error", "text": m});
            routing_page(
                &state,
                &user,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                Some(flash),
            )
            .await
        }
        Err(e) => store_error_page(&user, e),
    }
}
