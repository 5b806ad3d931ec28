/*!
Vulnerable-household registry API (困难群体): `/api/v1/households`.

Access matrix (the registry is personal data collected by grid surveys):

| role | list / read | create / update | counts (`/api/v1/households/counts`) |
|---|---|---|---|
| admin, supervisor | full records, whole region | yes | yes |
| grid_worker | full records of their own grid units (and units below them) | in their own grid units | yes |
| operator, dispatcher | masked records (name `张*`, phone `1******5678`, ID `350781*********234`; no address, members or notes); no search by name, address or phone (`q`: 403) | no | yes |
| analyst, auditor | denied (403) | no | yes |
| unit_handler | denied (403) | no | denied (403) |

Every read — one record, a list, or counts — writes an audit row (actor, action, the ids read,
full or masked view) before anything is returned; so does every refused read: a role without
records (`household.read_denied`, the id asked for), a masked search (`household.search_denied`,
the search text hashed), and a grid worker asking for a household outside their grid (404,
`household.read_denied`). `q` may be a phone number typed any way: the full view finds the
household by the whole number.
*/

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use serde::{Deserialize, Serialize};

use super::AppState;
use super::directories::Page;
use super::error::{ApiError, ApiJson, ApiQuery, ApiResult};
use crate::engine::directories::opt_text;
use crate::engine::households::{
    HouseholdBody, HouseholdEntry, check_grid, denied, record_view, refuse, validate,
};
use crate::engine::intake::normalize_phone;
use crate::model::{HouseholdKind, Principal};
use crate::policy::access::{HouseholdView, household_scope, household_view, may_write_households};
use crate::store::StoreError;
use crate::store::households::{HouseholdCount, HouseholdQuery};

pub const DEFAULT_PAGE_SIZE: u32 = 50;
pub const MAX_PAGE_SIZE: u32 = 200;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/households", get(list).post(create))
        .route("/api/v1/households/counts", get(counts))
        .route("/api/v1/households/{id}", get(read).put(update))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    pub kind: Option<String>,
    pub grid: Option<String>,
    pub q: Option<String>,
    pub page: Option<u32>,
    pub page_size: Option<u32>,
}

async fn list(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(p): ApiQuery<ListParams>,
) -> ApiResult<axum::Json<Page<HouseholdEntry>>> {
    let q = opt_text("q", &p.q, 50)?;
    let view = match record_view(&principal) {
        Ok(v) => v,
        Err(e) => {
            let action = "household.read_denied";
            return Err(
                refuse(&state.store, &principal, action, None, q.as_deref(), e)
                    .await
                    .into(),
            );
        }
    };
    if view != HouseholdView::Full
        && let Some(q) = &q
    {
        let e = crate::engine::error::Error::forbidden(
            "households_search_denied",
            "掩码视图不能按姓名、地址或电话搜索 / a masked view may not search by name, address or phone",
        );
        let action = "household.search_denied";
        return Err(refuse(&state.store, &principal, action, None, Some(q), e)
            .await
            .into());
    }
    let page = p.page.unwrap_or(1);
    if page == 0 {
        return Err(ApiError::invalid(
            "page",
            "页码从 1 开始 / page starts at 1",
        ));
    }
    let page_size = p.page_size.unwrap_or(DEFAULT_PAGE_SIZE);
    if page_size == 0 || page_size > MAX_PAGE_SIZE {
        return Err(ApiError::invalid(
            "page_size",
            format!("每页 1..{MAX_PAGE_SIZE} 条 / page_size must be 1..{MAX_PAGE_SIZE}"),
        ));
    }
    let kind =
        match p.kind.as_deref().filter(|s| !s.is_empty()) {
            None => None,
            Some(k) => Some(HouseholdKind::parse(k).ok_or_else(|| {
                ApiError::invalid("kind", format!("未知类别 / unknown kind {k:?}"))
            })?),
        };
    let query = HouseholdQuery {
        kind,
        grid: opt_text("grid", &p.grid, 32)?,
        phone: q.as_deref().and_then(normalize_phone),
        q,
        limit: i64::from(page_size),
        offset: i64::from(page - 1) * i64::from(page_size),
    };
    let (rows, total) = state
        .store
        .household_list(
            &query,
            &household_scope(&principal),
            view.as_str(),
            &principal,
        )
        .await?;
    Ok(axum::Json(Page {
        items: rows
            .into_iter()
            .map(|r| HouseholdEntry::new(r, view))
            .collect(),
        total,
        page,
        page_size,
    }))
}

fn parse_id(id: &str) -> ApiResult<i64> {
    id.parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| ApiError::not_found(format!("household {id:?}")))
}

fn not_found_as(e: StoreError, id: i64) -> ApiError {
    match e {
        StoreError::NotFound => ApiError::not_found(format!("household {id}")),
        other => other.into(),
    }
}

async fn read(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<HouseholdEntry>> {
    let view = match record_view(&principal) {
        Ok(v) => v,
        Err(e) => {
            let asked = parse_id(&id).ok();
            let action = "household.read_denied";
            return Err(refuse(&state.store, &principal, action, asked, None, e)
                .await
                .into());
        }
    };
    let id = parse_id(&id)?;
    let rec = state
        .store
        .household_read(id, &household_scope(&principal), view.as_str(), &principal)
        .await
        .map_err(|e| not_found_as(e, id))?;
    Ok(axum::Json(HouseholdEntry::new(rec, view)))
}

async fn create(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(body): ApiJson<HouseholdBody>,
) -> ApiResult<(StatusCode, axum::Json<HouseholdEntry>)> {
    if !may_write_households(principal.role) {
        return Err(denied(&principal, "登记").into());
    }
    if body.version.is_some() {
        return Err(ApiError::invalid(
            "version",
            "新建记录不能指定版本 / version is only for updates",
        ));
    }
    let input = validate(&body)?;
    check_grid(&state.store, &principal, input.grid_code.as_deref()).await?;
    let rec = state.store.household_create(&input, &principal).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(HouseholdEntry::new(rec, household_view(principal.role))),
    ))
}

async fn update(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<HouseholdBody>,
) -> ApiResult<axum::Json<HouseholdEntry>> {
    if !may_write_households(principal.role) {
        return Err(denied(&principal, "修改").into());
    }
    let id = parse_id(&id)?;
    let input = validate(&body)?;
    check_grid(&state.store, &principal, input.grid_code.as_deref()).await?;
    let rec = state
        .store
        .household_update(
            id,
            &input,
            body.version,
            &household_scope(&principal),
            &principal,
        )
        .await
        .map_err(|e| not_found_as(e, id))?;
    Ok(axum::Json(HouseholdEntry::new(
        rec,
        household_view(principal.role),
    )))
}

#[derive(Debug, Serialize)]
pub struct Counts {
    pub items: Vec<HouseholdCount>,
    pub total_households: i64,
}

async fn counts(
    State(state): State<AppState>,
    principal: Principal,
) -> ApiResult<axum::Json<Counts>> {
    if household_view(principal.role) == HouseholdView::Denied {
        let e = denied(&principal, "查看");
        let action = "household.read_denied";
        return Err(refuse(&state.store, &principal, action, None, None, e)
            .await
            .into());
    }
    let items = state.store.household_counts(&principal).await?;
    let total_households = items.iter().map(|c| c.households).sum();
    Ok(axum::Json(Counts {
        items,
        total_households,
    }))
}
