/*!
The grid worker's landing page (我的网格), made for a phone: what the center asked of them first
(网格任务 still open while the center holds the case), then their cells, each with the open cases
located in it, newest first — what they walk today — and the two things they do on the walk:
巡查上报 (`field.rs`) and 走访. Same scope rule as the queue's `mine` view for a grid worker (their
own reports and the cases handed to the grid, within their cells).
*/

use super::*;

/// Longest content excerpt a phone row shows.
const EXCERPT_CHARS: usize = 40;

/// `GET /console/grid`.
pub async fn grid_home(
    State(state): State<AppState>,
    user: ConsoleUser,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
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
    // A 网格任务 waits while the center holds the case: among the open cases already read.
    let tasks: Vec<&CaseRow> = cases
        .iter()
        .filter(|c| {
            c.grid_task.as_deref() == Some("open")
                && matches!(c.status.as_str(), "received" | "returned")
        })
        .collect();
    let row = |c: &CaseRow| {
        json!({
            "public_id": c.public_id,
            "href": format!("/console/cases/{}", url_encode(&c.public_id)),
            "content": c.content.chars().take(EXCERPT_CHARS).collect::<String>(),
            "status": c.status,
            "category": category_name(&state, lang, c.category_code.as_deref()),
            "grid": grid_name(&state, c.grid_code.as_deref()),
            "address": c.address,
            "created": c.created_at,
        })
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
                .map(row)
                .collect();
            let g = state.region.grid(code);
            json!({
                "code": code,
                "path": state.region.grid_path(code),
                "population": g.and_then(|g| g.population),
                "households": g.and_then(|g| g.households),
                "open": mine.len(),
                "cases": mine,
                // The cell's cameras (雪亮工程), linked into their platform.
                "cameras": super::cameras::grid_cameras(&state, lang, code),
            })
        })
        .collect();
    // After a report: its number, and whether it was new or a repeat of one already received.
    let flash = q.get("reported").map(|id| {
        let key = if q.contains_key("again") {
            "patrol.reported_again"
        } else {
            "patrol.reported"
        };
        json!({"kind": "ok", "text": lang.t(key).replace("{case}", id)})
    });
    page_response(
        &state,
        &user,
        StatusCode::OK,
        "grid.html",
        "grid",
        Value::from_serialize(json!({
            "cells": cells,
            "tasks": tasks.iter().map(|c| row(c)).collect::<Vec<_>>(),
            "flash": flash,
        })),
    )
}
