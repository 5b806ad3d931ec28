/*!
The Open311 GeoReport v2 handlers: `{base}/{resource}.{xml|json}` under `/open311/v2`.

Routing is by file name (`services.json`, `requests/MS350781-….xml`) because the format is part
of the resource name; one route per directory level splits stem and extension with
[`Format::split`]. Every failure answers in the requested format (XML when the extension itself
is unknown) with the Open311 error document and status: 404 unknown jurisdiction, service or
request; 403 missing or bad `api_key`; 400 anything else.

What the public sees: requests of every channel with status, service, handling unit and
deadlines; the description, free-text address, coordinates and media link only for requests
that were submitted through Open311 (a phone caller never agreed to publish their words or
their doorstep); never names, phone numbers or e-mail addresses. Event notes written by staff
are not shown: the notes history lists what happened (dispatched, signed, closed …), not what
was typed.
*/

use std::collections::HashMap;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::format::{
    Created, Extensions, Format, Node, Note, Open311Error, RequestUpdate, ServiceRequest, datetime,
    discovery, roots, service_definition, token_response,
};
use super::params::{MAX_ROWS, NewRequest, Params, RequestQuery, Selection, window};
use super::services;
use crate::engine::intake::{self, CallerInput, CaseInput, LocationInput};
use crate::engine::{Error as EngineError, ErrorKind};
use crate::http::AppState;
use crate::http::auth::bearer_principal;
use crate::http::error::ApiError;
use crate::model::Channel;
use crate::model::Priority;
use crate::model::Role;
use crate::store::StoreError;
use crate::store::open311::{CLOSED_STATUSES, CaseFilter, Open311Case, Open311Event, Submission};

/// Roles whose API tokens may submit requests (the center's staff and integrations acting as
/// them); a grid worker's or analyst's token is refused with 403.
pub const SUBMITTERS: [Role; 4] = [
    Role::Admin,
    Role::Supervisor,
    Role::Operator,
    Role::Dispatcher,
];

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/open311/v2/{file}", get(top_get).post(top_post))
        .route("/open311/v2/services/{file}", get(service_get))
        .route("/open311/v2/requests/{file}", get(request_get))
        .route("/open311/v2/tokens/{file}", get(token_get))
}

/// A handler's result: the document, or an error rendered in the same format.
type Reply = Result<Response, (Format, Open311Error)>;

fn finish(reply: Reply) -> Response {
    match reply {
        Ok(r) => r,
        Err((format, e)) => error_response(format, &e),
    }
}

fn document(format: Format, status: StatusCode, root: &str, node: &Node) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, format.content_type())],
        format.render(root, node),
    )
        .into_response()
}

/// The Open311 error document with the error's status.
pub fn error_response(format: Format, e: &Open311Error) -> Response {
    if e.code == 503 {
        tracing::warn!(description = %e.description, "open311: database busy");
    } else if e.code >= 500 {
        tracing::error!(description = %e.description, "open311 internal error");
    }
    let status = StatusCode::from_u16(e.code).unwrap_or(StatusCode::BAD_REQUEST);
    let mut resp = document(format, status, roots::ERRORS, &e.to_node());
    if status == StatusCode::SERVICE_UNAVAILABLE {
        resp.headers_mut().insert(
            header::RETRY_AFTER,
            header::HeaderValue::from(crate::engine::error::RETRY_AFTER_SECS),
        );
    }
    resp
}

/// Splits `name.ext`; an unknown extension is a 404 answered in XML (the mandatory format).
fn split(file: &str) -> Result<(&str, Format), (Format, Open311Error)> {
    Format::split(file).ok_or_else(|| {
        (
            Format::Xml,
            Open311Error::not_found(format!(
                "未知资源 {file}，格式须为 .xml 或 .json / unknown resource {file}: use .xml or .json"
            )),
        )
    })
}

fn query_params(raw: Option<String>) -> Result<Params, Open311Error> {
    Params::parse(raw.unwrap_or_default().as_bytes())
}

/// `jurisdiction_id` may be absent or empty, or the region's code; anything else is a 404.
fn check_jurisdiction(state: &AppState, jurisdiction: Option<&str>) -> Result<(), Open311Error> {
    match jurisdiction {
        None => Ok(()),
        Some(j) if j == state.region.code => Ok(()),
        Some(j) => Err(Open311Error::not_found(format!(
            "未知辖区 {j}，本服务的辖区为 {0} / unknown jurisdiction_id {j}; this endpoint serves {0}",
            state.region.code
        ))),
    }
}

fn internal(e: impl std::fmt::Display) -> Open311Error {
    tracing::error!(error = %e, "open311 storage error");
    Open311Error::new(500, "服务暂时不可用 / internal error")
}

fn store_err(e: StoreError) -> Open311Error {
    match e {
        StoreError::Busy(_) => busy(&EngineError::from(e).message),
        e => internal(e),
    }
}

/// 503 (with `Retry-After`, see [`error_response`]): the database was busy past the write bound.
fn busy(message: &str) -> Open311Error {
    Open311Error::new(
        503,
        format!("服务繁忙，未保存，请稍后重试 / {message} (database_busy)"),
    )
}

async fn top_get(
    State(state): State<AppState>,
    Path(file): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    finish(top_get_inner(&state, &file, raw).await)
}

async fn top_get_inner(state: &AppState, file: &str, raw: Option<String>) -> Reply {
    let (stem, format) = split(file)?;
    let fail = |e: Open311Error| (format, e);
    let params = query_params(raw).map_err(fail)?;
    check_jurisdiction(state, params.text("jurisdiction_id").map_err(fail)?).map_err(fail)?;
    match stem {
        "discovery" => Ok(get_discovery(state, format).await.map_err(fail)?),
        "services" => Ok(get_services(state, format)),
        "requests" => Ok(get_requests(state, &params, format, &base_url(state))
            .await
            .map_err(fail)?),
        "servicerequestupdates" => Ok(get_updates(state, &params, format).await.map_err(fail)?),
        other => Err(fail(Open311Error::not_found(format!(
            "未知资源 / unknown resource {other}"
        )))),
    }
}

/// The Open311 base URL: from the configured `public_url`, never from the request's `Host`
/// header (which any client sets, and which would then be published as the service's address);
/// without one, the listen address.
fn base_url(state: &AppState) -> String {
    match &state.config.public_url {
        Some(url) => format!("{url}/open311/v2"),
        None => format!("http://{}/open311/v2", state.config.listen),
    }
}

async fn get_discovery(state: &AppState, format: Format) -> Result<Response, Open311Error> {
    let base = base_url(state);
    let info = state.store.open311_region_info().await.map_err(store_err)?;
    let contact = format!(
        "{}民生服务中心，电话 {} / {} Minsheng service center, call {}",
        info.name, info.service_number, info.name, info.service_number
    );
    let node = discovery(&base, &contact, info.provisioned_at);
    Ok(document(format, StatusCode::OK, roots::DISCOVERY, &node))
}

fn get_services(state: &AppState, format: Format) -> Response {
    let list: Vec<Node> = services::services(&state.region.categories)
        .iter()
        .map(|s| s.to_node())
        .collect();
    document(format, StatusCode::OK, roots::SERVICES, &Node::List(list))
}

async fn service_get(
    State(state): State<AppState>,
    Path(file): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    finish((|| -> Reply {
        let (code, format) = split(&file)?;
        let fail = |e: Open311Error| (format, e);
        let params = query_params(raw).map_err(fail)?;
        check_jurisdiction(&state, params.text("jurisdiction_id").map_err(fail)?).map_err(fail)?;
        service_category(&state, code).map_err(fail)?;
        let node = service_definition(code, &services::attributes());
        Ok(document(
            format,
            StatusCode::OK,
            roots::SERVICE_DEFINITION,
            &node,
        ))
    })())
}

/// The category behind a service code: it exists and is not a police category.
fn service_category<'a>(
    state: &'a AppState,
    code: &str,
) -> Result<&'a crate::model::Category, Open311Error> {
    state
        .region
        .category(code)
        .filter(|c| !c.police)
        .ok_or_else(|| Open311Error::not_found(format!("未知服务 / unknown service_code {code}")))
}

async fn get_requests(
    state: &AppState,
    params: &Params,
    format: Format,
    base: &str,
) -> Result<Response, Open311Error> {
    let query = RequestQuery::from_params(params, crate::model::time::now_ms())?;
    let cases = match &query.selection {
        Selection::Ids(ids) => state
            .store
            .open311_cases_by_ids(ids)
            .await
            .map_err(store_err)?,
        Selection::Filter(f) => state
            .store
            .open311_cases(&CaseFilter {
                service_codes: f.service_codes.clone(),
                start_ms: f.start_ms,
                end_ms: f.end_ms,
                closed: f.closed,
                limit: i64::from(f.page_size),
                offset: f.offset(),
            })
            .await
            .map_err(store_err)?,
    };
    let list = public_requests(state, cases, query.extensions, base).await?;
    Ok(document(
        format,
        StatusCode::OK,
        roots::SERVICE_REQUESTS,
        &Node::List(list),
    ))
}

async fn request_get(
    State(state): State<AppState>,
    Path(file): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    finish(request_get_inner(&state, &file, &base_url(&state), raw).await)
}

async fn request_get_inner(state: &AppState, file: &str, base: &str, raw: Option<String>) -> Reply {
    let (id, format) = split(file)?;
    let fail = |e: Open311Error| (format, e);
    let params = query_params(raw).map_err(fail)?;
    check_jurisdiction(state, params.text("jurisdiction_id").map_err(fail)?).map_err(fail)?;
    let extensions = params.text("extensions").map_err(fail)? == Some("true");
    let cases = state
        .store
        .open311_cases_by_ids(&[id.to_string()])
        .await
        .map_err(|e| fail(store_err(e)))?;
    if cases.is_empty() {
        return Err(fail(Open311Error::not_found(format!(
            "未知诉求 / unknown service_request_id {id}"
        ))));
    }
    let list = public_requests(state, cases, extensions, base)
        .await
        .map_err(fail)?;
    // An array of one: clients take element 0.
    Ok(document(
        format,
        StatusCode::OK,
        roots::SERVICE_REQUESTS,
        &Node::List(list),
    ))
}

async fn token_get(
    State(state): State<AppState>,
    Path(file): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    finish(token_get_inner(&state, &file, raw).await)
}

async fn token_get_inner(state: &AppState, file: &str, raw: Option<String>) -> Reply {
    let (token, format) = split(file)?;
    let fail = |e: Open311Error| (format, e);
    let params = query_params(raw).map_err(fail)?;
    check_jurisdiction(state, params.text("jurisdiction_id").map_err(fail)?).map_err(fail)?;
    match state.store.open311_case_by_token(token).await {
        Ok(public_id) => Ok(document(
            format,
            StatusCode::OK,
            roots::SERVICE_REQUESTS,
            &token_response(&public_id, token),
        )),
        Err(StoreError::NotFound) => Err(fail(Open311Error::not_found(format!(
            "未知令牌 / unknown token {token}"
        )))),
        Err(e) => Err(fail(store_err(e))),
    }
}

async fn get_updates(
    state: &AppState,
    params: &Params,
    format: Format,
) -> Result<Response, Open311Error> {
    let (start, end) = window(params, crate::model::time::now_ms())?;
    let events = state
        .store
        .open311_updates(start, end, i64::from(MAX_ROWS))
        .await
        .map_err(store_err)?;
    let list: Vec<Node> = events
        .iter()
        .map(|e| {
            RequestUpdate {
                update_id: e.id.to_string(),
                service_request_id: e.public_id.clone(),
                closed: CLOSED_STATUSES.contains(&e.status.as_str()),
                updated_ms: e.at,
                description: event_label(e),
                media_url: None,
            }
            .to_node()
        })
        .collect();
    Ok(document(
        format,
        StatusCode::OK,
        roots::SERVICE_REQUEST_UPDATES,
        &Node::List(list),
    ))
}

/// What the public reads about an event (never the staff's free-text note).
pub fn event_label(e: &Open311Event) -> String {
    let unit = e.unit_name.as_deref().unwrap_or("承办单位");
    match e.kind.as_str() {
        "received" => "服务中心已受理 / received by the service center".into(),
        "dispatched" => format!("已派单至{unit} / dispatched to {unit}"),
        "signed" => format!("{unit}已签收 / signed by {unit}"),
        "started" | "in_progress" => "正在办理 / in progress".into(),
        "replied" => "承办单位已反馈办理结果 / the handling unit reported the result".into(),
        "returned" => "已退回服务中心重新派单 / returned to the center for re-dispatch".into(),
        "extension_requested" => "承办单位申请延期 / extension requested".into(),
        "extension_granted" => "延期已批准 / extension granted".into(),
        "extension_denied" => "延期未批准 / extension denied".into(),
        "supervised" => "服务中心督办 / under supervision by the center".into(),
        "followed_up" => "已回访 / follow-up call made".into(),
        "redo" => "回访不满意，重新办理 / reopened after follow-up".into(),
        "closed" => "已办结 / closed".into(),
        "transferred_police" => "已转公安110处理 / transferred to police dispatch".into(),
        "overdue_sign" => "签收超时 / signing overdue".into(),
        "overdue_close" => "办结超时 / closing overdue".into(),
        "escalated" => "已逐级督办 / escalated".into(),
        "sms_received" => "市民短信补充情况 / the citizen added a text".into(),
        other => other.replace('_', " "),
    }
}

/// Cases → public service requests (see the module doc for what is withheld). A request
/// without a `media_url` of its own gets its first public photo's ([`super::media`]).
async fn public_requests(
    state: &AppState,
    mut cases: Vec<Open311Case>,
    extensions: bool,
    base: &str,
) -> Result<Vec<Node>, Open311Error> {
    let ids: Vec<i64> = cases.iter().map(|c| c.id).collect();
    let photos: HashMap<i64, (String, String)> = state
        .store
        .first_public_photos(&ids)
        .await
        .map_err(store_err)?
        .into_iter()
        .map(|(case, sha, ct)| (case, (sha, ct)))
        .collect();
    for c in cases.iter_mut().filter(|c| c.media_url.is_none()) {
        if let Some((sha, ct)) = photos.get(&c.id) {
            c.media_url = Some(super::media::media_url(base, sha, ct));
        }
    }
    let events = state.store.open311_events(&ids).await.map_err(store_err)?;
    let mut by_case: HashMap<i64, Vec<&Open311Event>> = HashMap::new();
    for e in &events {
        by_case.entry(e.case_id).or_default().push(e);
    }
    Ok(cases
        .into_iter()
        .map(|c| {
            let history = by_case.remove(&c.id).unwrap_or_default();
            public_request(c, &history, extensions).to_node()
        })
        .collect())
}

/// One case as a public service request.
pub fn public_request(
    c: Open311Case,
    history: &[&Open311Event],
    extensions: bool,
) -> ServiceRequest {
    let submitted = c.channel == Channel::Open311.as_str();
    let closed = CLOSED_STATUSES.contains(&c.status.as_str());
    let ext = extensions.then(|| Extensions {
        channel: c.channel.clone(),
        attributes: if submitted {
            c.attributes.clone()
        } else {
            Vec::new()
        },
        notes: history
            .iter()
            .map(|e| Note {
                datetime_ms: e.at,
                status: e.status.clone(),
                summary: event_label(e),
            })
            .collect(),
    });
    ServiceRequest {
        service_request_id: c.public_id,
        closed,
        status_notes: history.last().map(|e| event_label(e)),
        service_name: c.category_name,
        service_code: c.category_code,
        description: submitted.then_some(c.content),
        agency_responsible: c.unit_name,
        service_notice: None,
        requested_ms: c.created_at,
        updated_ms: Some(c.updated_at),
        expected_ms: if closed { None } else { c.close_due },
        address: if submitted {
            c.address.or(c.grid_name)
        } else {
            c.grid_name
        },
        address_id: c.address_id.or(c.grid_code),
        zipcode: None,
        lat: if submitted { c.lat } else { None },
        long: if submitted { c.lon } else { None },
        media_url: if submitted { c.media_url } else { None },
        extensions: ext,
    }
}

async fn top_post(
    State(state): State<AppState>,
    Path(file): Path<String>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Response {
    finish(top_post_inner(&state, &file, &headers, raw, body).await)
}

async fn top_post_inner(
    state: &AppState,
    file: &str,
    headers: &HeaderMap,
    raw: Option<String>,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Reply {
    let (stem, format) = split(file)?;
    let fail = |e: Open311Error| (format, e);
    if stem != "requests" {
        return Err(fail(Open311Error::not_found(format!(
            "只能向 requests 提交 / only requests accepts POST, not {stem}"
        ))));
    }
    let body = body.map_err(|rej| {
        // Over the body limit is 413 (as on the JSON API), not a malformed request.
        if rej.status() == StatusCode::PAYLOAD_TOO_LARGE {
            fail(Open311Error::new(
                413,
                "请求体超过大小限制 / the request body exceeds the size limit",
            ))
        } else {
            fail(Open311Error::bad_request(format!(
                "请求体无法读取 / unreadable request body: {}",
                rej.body_text()
            )))
        }
    })?;
    let form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| {
            v.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
    if form == Some(false) && !body.is_empty() {
        return Err(fail(Open311Error::bad_request(
            "请求体须为 application/x-www-form-urlencoded / the body must be application/x-www-form-urlencoded",
        )));
    }
    // Parameters may come in the query string (as the community swagger documents) or the body.
    let mut params = query_params(raw).map_err(fail)?;
    params.extend(Params::parse(&body).map_err(fail)?);
    let created = create_request(state, &params).await.map_err(fail)?;
    Ok(document(
        format,
        StatusCode::OK,
        roots::SERVICE_REQUESTS,
        &Node::List(vec![created.to_node()]),
    ))
}

/// Validates a submission, creates the case through the shared intake and records the rest.
async fn create_request(state: &AppState, params: &Params) -> Result<Created, Open311Error> {
    let req = NewRequest::from_params(params)?;
    check_jurisdiction(state, req.jurisdiction_id.as_deref())?;
    let api_key = req.api_key.as_deref().ok_or_else(|| {
        Open311Error::forbidden("缺少 api_key / api_key is required to submit requests")
    })?;
    let principal = match bearer_principal(state, api_key).await {
        Ok(p) => p,
        Err(ApiError::Unauthenticated) => {
            return Err(Open311Error::forbidden(
                "api_key 无效或已吊销 / api_key is invalid or revoked",
            ));
        }
        Err(ApiError::Busy(message)) => return Err(busy(&message)),
        Err(e) => return Err(internal(e)),
    };
    if let Some(
        scope @ (crate::model::TokenScope::PoliceBridge | crate::model::TokenScope::SmsGateway),
    ) = principal.scope
    {
        return Err(Open311Error::forbidden(format!(
            "api_key 是专用对接令牌，不能提交诉求 / a {} key may not submit requests",
            scope.as_str()
        )));
    }
    if !principal.has_role(&SUBMITTERS) {
        return Err(Open311Error::forbidden(format!(
            "api_key 的角色 {} 不能提交诉求 / the api_key's role {} may not submit requests",
            principal.role.name_zh(),
            principal.role.as_str()
        )));
    }
    let category = service_category(state, &req.service_code)?;
    let attributes = services::validate_attributes(&services::attributes(), &req.attributes)?;
    if let Some(id) = &req.location.address_id
        && state.region.grid(id).is_none()
    {
        return Err(Open311Error::bad_request(format!(
            "address_id 不是本辖区的网格编码 / address_id {id} is not a grid unit code of {}",
            state.region.code
        )));
    }
    let priority = attributes
        .iter()
        .find(|(c, _)| c == "urgency")
        .and_then(|(_, v)| Priority::parse(v));
    let content = match &req.description {
        Some(d) => d.clone(),
        // Open311 makes the description optional; a case needs words, so say what was chosen.
        None => match &req.location.address_string {
            Some(a) => format!("{}：{a}", category.name_zh),
            None => category.name_zh.clone(),
        },
    };
    let token = crate::policy::credentials::random_hex(16);
    let input = CaseInput {
        channel: Channel::Open311,
        caller: Some(CallerInput {
            phone: req.phone.clone(),
            name: req.full_name(),
            ..CallerInput::default()
        }),
        content,
        category: Some(category.code.clone()),
        location: Some(LocationInput {
            grid_code: req.location.address_id.clone(),
            address: req.location.address_string.clone(),
            lat: req.location.lat_long.map(|(lat, _)| lat),
            lon: req.location.lat_long.map(|(_, lon)| lon),
        }),
        priority,
        external_id: None,
        emergency: None,
        open311_token: Some(token.clone()),
    };
    let created = intake::create_case(&state.store, &state.region, &principal, input)
        .await
        .map_err(intake_error)?;
    let case = &created.case;
    let submission = Submission {
        service_code: category.code.clone(),
        attributes,
        media_url: req.media_url.clone(),
        address_id: req.location.address_id.clone(),
        email: req.email.clone(),
        device_id: req.device_id.clone(),
        account_id: req.account_id.clone(),
        api_user_id: Some(principal.user_id),
    };
    // The case is committed; failing to keep the extras must not make the client retry and
    // file the request twice, so it is logged and the id is still returned.
    if let Err(e) = state
        .store
        .open311_record_submission(case.id, &submission)
        .await
    {
        tracing::error!(case = %case.public_id, error = %e, "open311 submission extras not stored");
    }
    let notice = match case.status.as_str() {
        "transferred_police" => {
            "内容涉及警情，已转公安110处理；紧急情况请直接拨打110 / this looks like a police matter and was transferred to police dispatch; in an emergency call 110".to_string()
        }
        "dispatched" => {
            let unit = case
                .unit_id
                .as_deref()
                .and_then(|u| state.region.unit(u))
                .map_or("承办单位", |u| u.name.as_str());
            let due = case.close_due.map(datetime).unwrap_or_default();
            format!(
                "已派单至{unit}，预计 {due} 前办结 / dispatched to {unit}, expected to close by {due}"
            )
        }
        _ => "服务中心已受理，将尽快派单 / received; the service center will dispatch it shortly"
            .to_string(),
    };
    Ok(Created {
        service_request_id: case.public_id.clone(),
        service_notice: Some(notice),
        account_id: req.account_id,
        token: Some(token),
    })
}

/// Engine errors in Open311 terms — the one mapping (intake names its fields the JSON way).
fn intake_error(e: EngineError) -> Open311Error {
    match e.kind {
        ErrorKind::Invalid => {
            let field = match e.field.as_deref().unwrap_or("body") {
                "caller.phone" => "phone",
                "caller.name" => "first_name/last_name",
                "content" => "description",
                "location.grid_code" => "address_id",
                "location.address" => "address_string",
                "location.lat" => "lat",
                "location.lon" => "long",
                "category" => "service_code",
                other => other,
            };
            Open311Error::bad_request(format!("{field}: {}", e.message))
        }
        ErrorKind::Forbidden => Open311Error::forbidden(e.message.clone()),
        ErrorKind::NotFound => Open311Error::not_found(e.message.clone()),
        ErrorKind::Conflict => Open311Error::bad_request(e.message.clone()),
        ErrorKind::Unavailable => busy(&e.message),
        _ => internal(format!("{e}: {:?}", e.store_error())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_busy_database_is_an_open311_503_with_retry_after() {
        let from_intake = intake_error(EngineError::from(StoreError::Busy("locked".into())));
        let from_store = store_err(StoreError::Busy("locked".into()));
        for e in [from_intake, from_store] {
            assert_eq!(e.code, 503);
            assert!(e.description.contains("database_busy"), "{e}");
            let resp = error_response(Format::Json, &e);
            assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
            assert!(resp.headers().contains_key(header::RETRY_AFTER));
        }
    }

    fn case(channel: &str, status: &str) -> Open311Case {
        Open311Case {
            id: 7,
            public_id: "MS350781-20261129-000007".into(),
            channel: channel.into(),
            status: status.into(),
            category_code: Some("roads".into()),
            category_name: Some("道路".into()),
            content: "我是张三，家门口路灯坏了 13812345678".into(),
            unit_name: Some("住建局".into()),
            created_at: 1_795_829_400_000,
            updated_at: 1_795_829_500_000,
            close_due: Some(1_796_000_000_000),
            address: Some("水北街 8 号".into()),
            grid_code: Some("350781001001".into()),
            grid_name: Some("水北村".into()),
            lat: Some(27.3),
            lon: Some(117.5),
            media_url: Some("https://x.cn/1.jpg".into()),
            attributes: vec![("urgency".into(), "high".into())],
            address_id: None,
        }
    }

    fn event(kind: &str, status: &str) -> Open311Event {
        Open311Event {
            id: 1,
            case_id: 7,
            public_id: "MS350781-20261129-000007".into(),
            kind: kind.into(),
            status: status.into(),
            at: 1_795_829_400_000,
            unit_name: Some("住建局".into()),
        }
    }

    #[test]
    fn phone_cases_withhold_words_and_doorstep() {
        let e = event("dispatched", "dispatched");
        let r = public_request(case("phone", "dispatched"), &[&e], true);
        assert_eq!(r.description, None);
        assert_eq!(r.address.as_deref(), Some("水北村"));
        assert_eq!((r.lat, r.long, r.media_url.as_deref()), (None, None, None));
        assert_eq!(r.status_str(), "open");
        assert_eq!(
            r.status_notes.as_deref(),
            Some("已派单至住建局 / dispatched to 住建局")
        );
        let ext = r.extensions.unwrap();
        assert!(ext.attributes.is_empty());
        assert_eq!(ext.channel, "phone");
        let json = Format::Json.render(
            "x",
            &public_request(case("phone", "closed"), &[], false).to_node(),
        );
        assert!(!json.contains("13812345678") && !json.contains("张三"));
    }

    #[test]
    fn open311_cases_show_what_the_submitter_published() {
        let r = public_request(case("open311", "transferred_police"), &[], true);
        assert!(r.description.as_deref().unwrap().contains("路灯"));
        assert_eq!(r.address.as_deref(), Some("水北街 8 号"));
        assert_eq!(r.address_id.as_deref(), Some("350781001001"));
        assert_eq!(r.lat, Some(27.3));
        assert_eq!(r.status_str(), "closed");
        assert_eq!(r.expected_ms, None);
        assert_eq!(r.extensions.unwrap().attributes.len(), 1);
    }

    #[test]
    fn unknown_event_kinds_still_read() {
        assert_eq!(event_label(&event("some_new_kind", "x")), "some new kind");
        assert!(event_label(&event("closed", "closed")).contains("已办结"));
    }

    #[test]
    fn intake_field_names_become_open311_names() {
        let e = intake_error(EngineError::invalid("caller.phone", "phone_invalid", "bad"));
        assert_eq!(e.code, 400);
        assert!(e.description.starts_with("phone:"));
        assert_eq!(intake_error(EngineError::forbidden("x", "no")).code, 403);
    }
}
