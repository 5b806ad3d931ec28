/*!
Integrations (对接平台): per existing platform, how its messages stand — pending, delivered, dead,
handed over by phone — with the last error, and the dead messages with a replay button (audited).
For the center's supervisors, dispatchers and admins.
*/

use super::*;
use crate::engine::delivery::platform_health;

/// Roles that see the integrations page and may replay a dead message.
const INTEGRATION_ROLES: &[Role] = &[Role::Admin, Role::Supervisor, Role::Dispatcher];

/// `GET /console/integrations`.
pub async fn integrations(State(state): State<AppState>, user: ConsoleUser) -> Response {
    let lang = user.lang;
    if !INTEGRATION_ROLES.contains(&user.principal.role) {
        return error_page(
            lang,
            Some(&user),
            StatusCode::FORBIDDEN,
            lang.t("error.forbidden"),
        );
    }
    let store = &state.store;
    let (platforms, dead) = match tokio::try_join!(
        platform_health(store, &state.region),
        store.dead_messages(50),
    ) {
        Ok(v) => v,
        Err(e) => return store_error_page(&user, e),
    };
    let dead: Vec<_> = dead
        .iter()
        .map(|(id, topic, platform, attempts, error)| {
            json!({"id": id, "topic": topic, "platform": platform, "attempts": attempts, "error": error})
        })
        .collect();
    page_response(
        &state,
        &user,
        StatusCode::OK,
        "integrations.html",
        "integrations",
        Value::from_serialize(json!({"platforms": platforms, "dead": dead})),
    )
}

/// `POST /console/integrations/replay/{id}`: a dead message goes back in the queue (audited).
pub async fn replay(
    State(state): State<AppState>,
    user: ConsoleUser,
    Path(id): Path<i64>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    if !user.csrf_ok(form.get("csrf").map(String::as_str).unwrap_or("")) {
        return csrf_rejected(user.lang);
    }
    let lang = user.lang;
    if !INTEGRATION_ROLES.contains(&user.principal.role) {
        return error_page(
            lang,
            Some(&user),
            StatusCode::FORBIDDEN,
            lang.t("error.forbidden"),
        );
    }
    match state.store.replay_outbox(id, now_ms()).await {
        Ok(true) => {}
        Ok(false) => {
            return error_page(
                lang,
                Some(&user),
                StatusCode::NOT_FOUND,
                lang.t("error.not_found"),
            );
        }
        Err(e) => return store_error_page(&user, e),
    }
    let target = format!("outbox:{id}");
    if let Err(e) = state
        .store
        .audit(&NewAudit::by(
            &user.principal,
            "outbox.replay",
            Some(&target),
        ))
        .await
    {
        return store_error_page(&user, e);
    }
    Redirect::to("/console/integrations").into_response()
}
