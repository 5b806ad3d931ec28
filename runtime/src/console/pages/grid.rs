/*!
The grid worker's landing page (我的网格): the cells they are bound to, each with the open cases
located in it, newest first — what they walk today. Same scope rule as the queue's `mine` view
for a grid worker (cases of the grid channel within their cells).
*/

use super::*;

/// `GET /console/grid`.
pub async fn grid_home(State(state): State<AppState>, user: ConsoleUser) -> Response {
    let p = &user.principal;
    let lang = user.lang;
    if p.role != Role::GridWorker {
        return Redirect::to(home_for(p.role)).into_response();
    }
    let cases = match view_filter(&state, p, "mine") {
        Some(mut f) => {
            f.statuses = OPEN_STATUSES.iter().map(|s| s.to_string()).collect();
            match state.store.list_cases(&f).await {
                Ok((rows, _)) => rows,
                Err(e) => return store_error_page(&user, e),
            }
        }
        None => Vec::new(),
    };
    let reach = |cell: &str| state.region.grid_reach(&[cell.to_string()]);
    let cells: Vec<_> = p
        .grid_codes
        .iter()
        .map(|code| {
            let within = reach(code);
            let mine: Vec<_> = cases
                .iter()
                .filter(|c| c.grid_code.as_ref().is_some_and(|g| within.contains(g)))
                .map(|c| {
                    json!({
                        "public_id": c.public_id,
                        "href": format!("/console/cases/{}", c.public_id),
                        "content": c.content.chars().take(40).collect::<String>(),
                        "status": c.status,
                        "category": category_name(&state, lang, c.category_code.as_deref()),
                        "created": c.created_at,
                    })
                })
                .collect();
            let g = state.region.grid(code);
            json!({
                "code": code,
                "path": state.region.grid_path(code),
                "population": g.and_then(|g| g.population),
                "households": g.and_then(|g| g.households),
                "open": mine.len(),
                "cases": mine,
            })
        })
        .collect();
    page_response(
        &state,
        &user,
        StatusCode::OK,
        "grid.html",
        "grid",
        Value::from_serialize(json!({"cells": cells})),
    )
}
