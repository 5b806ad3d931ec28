/*!
Export of a queue search (导出): the cases the current view and filters find — the same scope
rules as the queue — as CSV or XLSX, up to [`MAX_ROWS`], newest first. The caller's name and
phone are masked unless the role needs them; every export is audited (`case.export`, with the
view, the filters, the format, the row count and whether caller data was revealed) before the
file is sent. The file's cells are text only (see [`crate::engine::export`]).
*/

use super::*;
use crate::engine::export::{MAX_ROWS, Sheet, to_csv, to_xlsx};

/// Rows read per keyset page while collecting an export.
const BATCH: i64 = 500;

/// `GET /console/queue/export?format=csv|xlsx&view=…` (+ the queue's filters).
pub async fn queue_export(
    State(state): State<AppState>,
    user: ConsoleUser,
    Query(q): Query<QueueQuery>,
    Query(fmt): Query<ExportFormat>,
) -> Response {
    let p = &user.principal;
    let lang = user.lang;
    let Some(view) = pick_view(p.role, q.view.as_deref()) else {
        return error_page(
            lang,
            Some(&user),
            StatusCode::FORBIDDEN,
            lang.t("error.forbidden"),
        );
    };
    let format = match fmt.format.as_deref() {
        Some("xlsx") => "xlsx",
        Some("csv") | None => "csv",
        Some(_) => {
            return error_page(
                lang,
                Some(&user),
                StatusCode::UNPROCESSABLE_ENTITY,
                lang.t("export.bad_format"),
            );
        }
    };
    let Some(mut f) = view_filter(&state, p, view) else {
        return error_page(
            lang,
            Some(&user),
            StatusCode::FORBIDDEN,
            lang.t("error.forbidden"),
        );
    };
    let text =
        q.q.clone()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty());
    f.q_phone = text
        .as_deref()
        .and_then(crate::engine::intake::normalize_phone);
    f.q = text.clone();
    f.category = q
        .category
        .clone()
        .filter(|c| state.region.category(c).is_some());
    let search = Search::read(&q, &state, p.role);
    search.apply(&mut f, &state);
    f.before_id = None;
    f.limit = BATCH;
    let mut rows: Vec<CaseRow> = Vec::new();
    while rows.len() < MAX_ROWS {
        match state.store.list_cases(&f).await {
            Ok((page, _)) => {
                let done = (page.len() as i64) < BATCH;
                f.before_id = page.last().map(|r| r.id);
                rows.extend(page);
                if done {
                    break;
                }
            }
            Err(e) => return store_error_page(&user, e),
        }
    }
    rows.truncate(MAX_ROWS);
    let reveal = sees_caller_phone(p.role);
    let detail = json!({
        "view": view, "q": f.q, "category": f.category, "filters": search.query_string(),
        "format": format, "rows": rows.len(), "caller_revealed": reveal,
    });
    if let Err(e) = state
        .store
        .audit(&NewAudit::by(p, "case.export", None).with_detail(detail))
        .await
    {
        return store_error_page(&user, e);
    }
    let t = |k: &str| lang.t(k).to_string();
    let headers = vec![
        t("case.id"),
        t("case.created"),
        t("case.channel"),
        t("case.category"),
        t("case.grid"),
        t("case.address"),
        t("case.content"),
        t("case.unit"),
        t("case.status"),
        t("case.sign_due"),
        t("case.close_due"),
        t("case.caller"),
        t("case.phone"),
        t("case.satisfaction"),
    ];
    let time = |ms: Option<i64>| ms.map(i18n::format_time).unwrap_or_default();
    let table: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            let phone = r.caller_phone.as_deref().map(|ph| {
                if reveal {
                    display_phone(ph)
                } else {
                    mask_display_phone(ph)
                }
            });
            let name = r
                .caller_name
                .as_deref()
                .map(|n| if reveal { n.to_string() } else { mask_name(n) });
            vec![
                r.public_id.clone(),
                time(Some(r.created_at)),
                lang.t(&format!("channel.{}", r.channel)).to_string(),
                category_name(&state, lang, r.category_code.as_deref()),
                r.grid_code
                    .as_deref()
                    .map(|g| state.region.grid_path(g))
                    .unwrap_or_default(),
                r.address.clone().unwrap_or_default(),
                r.content.clone(),
                r.unit_id
                    .as_deref()
                    .map(|u| unit_name(&state, Some(u)))
                    .unwrap_or_default(),
                lang.t(&format!("status.{}", r.status)).to_string(),
                time(r.sign_due),
                time(r.close_due),
                name.unwrap_or_default(),
                phone.unwrap_or_default(),
                r.satisfaction
                    .as_deref()
                    .map(|s| lang.t(&format!("satisfaction.{s}")).to_string())
                    .unwrap_or_default(),
            ]
        })
        .collect();
    let sheet = Sheet {
        name: lang.t(view_key(view)).to_string(),
        headers,
        rows: table,
    };
    let (bytes, mime) = match format {
        "xlsx" => (
            to_xlsx(&sheet),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
        _ => (to_csv(&sheet), "text/csv; charset=utf-8"),
    };
    let bytes = match bytes {
        Ok(b) => b,
        Err(e) => return errors::error_response(&user, e),
    };
    let day = crate::model::time::shanghai(now_ms()).format("%Y%m%d");
    let file = format!("m110-{view}-{day}.{format}");
    let mut resp = (StatusCode::OK, bytes).into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{file}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    resp
}

#[derive(Deserialize, Default)]
pub struct ExportFormat {
    #[serde(default)]
    format: Option<String>,
}
