/*!
Attachments on the case page (附件): the thumbnails of the case's photos (a click opens the
picture), its documents, and the upload form for the roles that may add files
([`crate::engine::attachments`] decides; the pictures themselves come from the JSON API's
`/api/v1/attachments/{id}` and `/thumb`, which check the session and audit each read). A unit
handler's upload is part of its reply (stage `reply` by default), a grid worker's of its patrol
report.
*/

use axum::extract::multipart::{Multipart, MultipartRejection};

use super::*;
use crate::engine::attachments::{self, Stage};

/// What `case_attachments.html` shows for `row` (which `user` sees already).
pub(super) async fn attachments_view(
    state: &AppState,
    user: &ConsoleUser,
    row: &CaseRow,
) -> Result<serde_json::Value, Response> {
    let p = &user.principal;
    let items = state
        .store
        .case_attachments(row.id)
        .await
        .map_err(|e| store_error_page(user, e))?;
    let items: Vec<_> = items
        .iter()
        .map(|a| {
            json!({
                "id": a.id,
                "filename": a.filename,
                "kind": a.kind,
                "stage": a.stage,
                "size_kb": (a.size + 1023) / 1024,
                "uploaded_by": a.uploaded_by_name.clone().unwrap_or_default(),
                "created": a.created_at,
                "has_thumb": a.thumb_sha256.is_some(),
            })
        })
        .collect();
    let default_stage = Stage::default_for(p.role);
    Ok(json!({
        "items": items,
        "may_upload": attachments::may_attach(p) && row.status != Status::Closed.as_str(),
        "max_mb": state.attachments.max_bytes.div_ceil(1024 * 1024),
        "stages": Stage::ALL.iter().map(|s| json!({
            "value": s.as_str(), "selected": *s == default_stage,
        })).collect::<Vec<_>>(),
    }))
}

/// `POST /console/cases/{id}/attachments` (multipart: `csrf`, `stage`, `file`): 上传附件. Back
/// to the case page, or the page again with the reason when the file is refused.
pub async fn case_attach(
    State(state): State<AppState>,
    user: ConsoleUser,
    Path(id): Path<String>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    let Ok(mut mp) = multipart else {
        return csrf_rejected(user.lang);
    };
    let max = state.attachments.max_bytes;
    let mut csrf = String::new();
    let mut stage = None;
    let mut file: Option<(String, Vec<u8>)> = None;
    let mut too_large = false;
    while let Ok(Some(mut field)) = mp.next_field().await {
        let name = field.name().unwrap_or("").to_string();
        let filename = field.file_name().unwrap_or("").to_string();
        // The CSRF token and the stage are short; the file stops at the limit.
        let limit = if name == "file" { max } else { 256 };
        let mut buf = Vec::new();
        let mut over = false;
        while let Ok(Some(chunk)) = field.chunk().await {
            if buf.len() + chunk.len() > limit {
                over = true;
                // Read the rest and drop it, so the browser gets the page, not a reset.
                let mut dropped = buf.len() + chunk.len();
                while dropped < attachments::DRAIN_LIMIT
                    && let Ok(Some(more)) = field.chunk().await
                {
                    dropped += more.len();
                }
                break;
            }
            buf.extend_from_slice(&chunk);
        }
        match name.as_str() {
            "csrf" => csrf = String::from_utf8_lossy(&buf).into_owned(),
            "stage" => stage = Stage::parse(String::from_utf8_lossy(&buf).trim()),
            "file" if over => too_large = true,
            "file" => file = Some((filename, buf)),
            _ => {}
        }
        if over {
            break;
        }
    }
    if !user.csrf_ok(&csrf) {
        return csrf_rejected(user.lang);
    }
    let result = if too_large {
        Err(attachments::too_large(max))
    } else {
        let (name, bytes) = file.unwrap_or_default();
        attachments::attach_to(
            &state.store,
            &state.region,
            &state.attachments,
            &user.principal,
            &id,
            &name,
            &bytes,
            stage,
        )
        .await
        .map(|_| ())
    };
    match result {
        Ok(()) => Redirect::to(&format!(
            "/console/cases/{}?notice=attached#attachments",
            url_encode(&id)
        ))
        .into_response(),
        Err(e) if matches!(e.kind, ErrorKind::Invalid | ErrorKind::Conflict) => {
            let status = if e.key == "attachment_too_large" {
                StatusCode::PAYLOAD_TOO_LARGE
            } else {
                status_of(&e)
            };
            render_case(&state, &user, &id, status, Some(flash_error(&user, &e))).await
        }
        Err(e) => errors::error_response(&user, e),
    }
}
