/*!
Vulnerable-household registry API (困难群体): `/api/v1/households`.

Access matrix (the registry is personal data collected by grid surveys):

| role | list / read | create / update | counts (`/api/v1/households/counts`) |
|---|---|---|---|
| admin, supervisor | full records, whole region | yes | yes |
| grid_worker | full records of their own grid units (and units below them) | in their own grid units | yes |
| operator, dispatcher | masked records (name `张*`, phone `138****5678`, ID `350781********1234`, no notes) | no | yes |
| analyst, auditor | denied (403) | no | yes |
| unit_handler | denied (403) | no | denied (403) |

Every read — one record, a list, or counts — writes an audit row (actor, action, the ids read,
full or masked view) before anything is returned; a grid worker asking for a household outside
their grid gets 404 and the attempt is audited as `household.read_denied`.
*/

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use serde::{Deserialize, Serialize};

use super::AppState;
use super::directories::{Page, opt_phone, opt_text};
use super::error::{ApiError, ApiJson, ApiQuery, ApiResult};
use crate::auth::{Principal, Role};
use crate::model::HouseholdKind;
use crate::open311::format::datetime;
use crate::privacy::{HouseholdAccess, household_access, mask_id_number, mask_phone};
use crate::store::StoreError;
use crate::store::households::{
    GridScope, HouseholdCount, HouseholdInput, HouseholdQuery, HouseholdRecord,
};

pub const DEFAULT_PAGE_SIZE: u32 = 50;
pub const MAX_PAGE_SIZE: u32 = 200;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/households", get(list).post(create))
        .route("/api/v1/households/counts", get(counts))
        .route("/api/v1/households/{id}", get(read).put(update))
}

/// What a role may see of the registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    Full,
    Masked,
    CountsOnly,
    Denied,
}

impl View {
    pub fn as_str(self) -> &'static str {
        match self {
            View::Full => "full",
            View::Masked => "masked",
            View::CountsOnly => "counts_only",
            View::Denied => "denied",
        }
    }
}

/// The access matrix of this module's doc comment.
/// Records follow [`household_access`], the policy the console shares; analysts and auditors,
/// who may not see records, still get the aggregate counts their reports need.
pub fn view_of(role: Role) -> View {
    match household_access(role) {
        HouseholdAccess::Full => View::Full,
        HouseholdAccess::Masked => View::Masked,
        HouseholdAccess::None if matches!(role, Role::Analyst | Role::Auditor) => View::CountsOnly,
        HouseholdAccess::None => View::Denied,
    }
}

/// Roles that create and update households.
pub fn may_write(role: Role) -> bool {
    matches!(role, Role::Admin | Role::Supervisor | Role::GridWorker)
}

/// The part of the registry a principal may see: grid workers their own grid units.
pub fn scope_of(principal: &Principal) -> GridScope {
    if principal.role == Role::GridWorker {
        GridScope::Within(principal.grid_codes.clone())
    } else {
        GridScope::All
    }
}

/// `张三` → `张*`, `欧阳小明` → `欧***`: keeps the first character (the family name usually).
pub fn mask_name(name: &str) -> String {
    let mut chars = name.trim().chars();
    match chars.next() {
        None => String::new(),
        Some(first) => {
            let rest = chars.count().max(1);
            format!("{first}{}", "*".repeat(rest))
        }
    }
}

/// A household as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HouseholdView {
    pub id: i64,
    pub head_name: String,
    pub kind: String,
    pub grid: Option<String>,
    pub phone: Option<String>,
    pub id_number: Option<String>,
    pub members: Option<i64>,
    pub address: Option<String>,
    /// Omitted from masked views: survey notes often carry health details.
    pub notes: Option<String>,
    pub masked: bool,
    pub created_at: String,
    pub updated_at: String,
    pub version: i64,
}

impl HouseholdView {
    pub fn new(r: HouseholdRecord, view: View) -> HouseholdView {
        let masked = view != View::Full;
        HouseholdView {
            id: r.id,
            head_name: if masked {
                mask_name(&r.head_name)
            } else {
                r.head_name
            },
            kind: r.kind,
            grid: r.grid_code,
            phone: if masked {
                r.phone.as_deref().map(mask_phone)
            } else {
                r.phone
            },
            id_number: if masked {
                r.id_number.as_deref().map(mask_id_number)
            } else {
                r.id_number
            },
            members: r.members,
            address: r.address,
            notes: if masked { None } else { r.notes },
            masked,
            created_at: datetime(r.created_at),
            updated_at: datetime(r.updated_at),
            version: r.version,
        }
    }
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

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HouseholdBody {
    pub head_name: String,
    pub kind: String,
    pub grid: Option<String>,
    pub phone: Option<String>,
    pub id_number: Option<String>,
    pub members: Option<i64>,
    pub address: Option<String>,
    pub notes: Option<String>,
    /// Update only: the version the client read; a concurrent change is a 409.
    pub version: Option<i64>,
}

/// Checks a Chinese resident ID number: 18 characters with the GB 11643 check digit, or the
/// legacy 15-digit form.
pub fn valid_id_number(id: &str) -> bool {
    let b = id.as_bytes();
    match b.len() {
        15 => b.iter().all(u8::is_ascii_digit),
        18 => {
            if !b[..17].iter().all(u8::is_ascii_digit) {
                return false;
            }
            const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
            const CHECK: &[u8; 11] = b"10X98765432";
            let sum: u32 = b[..17]
                .iter()
                .zip(WEIGHTS)
                .map(|(d, w)| u32::from(d - b'0') * w)
                .sum();
            b[17].to_ascii_uppercase() == CHECK[(sum % 11) as usize]
        }
        _ => false,
    }
}

/// Checks a body's shape (no database access).
pub fn validate(body: &HouseholdBody) -> ApiResult<HouseholdInput> {
    let head_name = opt_text("head_name", &Some(body.head_name.clone()), 50)?.ok_or_else(|| {
        ApiError::invalid("head_name", "户主姓名不能为空 / head_name is required")
    })?;
    let kind = HouseholdKind::parse(body.kind.trim()).ok_or_else(|| {
        let all: Vec<&str> = HouseholdKind::ALL.iter().map(|k| k.as_str()).collect();
        ApiError::invalid(
            "kind",
            format!(
                "未知类别 / unknown kind {:?}; one of {}",
                body.kind,
                all.join(", ")
            ),
        )
    })?;
    let id_number = opt_text("id_number", &body.id_number, 18)?.map(|s| s.to_ascii_uppercase());
    if let Some(id) = &id_number
        && !valid_id_number(id)
    {
        return Err(ApiError::invalid(
            "id_number",
            "身份证号码无效（18 位含校验位，或 15 位）/ not a valid resident ID number",
        ));
    }
    if let Some(m) = body.members
        && !(1..=50).contains(&m)
    {
        return Err(ApiError::invalid(
            "members",
            "家庭人口 1..50 / members must be 1..50",
        ));
    }
    Ok(HouseholdInput {
        head_name,
        kind,
        grid_code: opt_text("grid", &body.grid, 32)?,
        phone: opt_phone("phone", &body.phone)?,
        id_number,
        members: body.members,
        address: opt_text("address", &body.address, 200)?,
        notes: opt_text("notes", &body.notes, 1000)?,
    })
}

fn denied(principal: &Principal, what: &str) -> ApiError {
    ApiError::forbidden(format!(
        "角色 {} 不能{what}困难群体记录 / role {} may not {} vulnerable-household records",
        principal.role.name_zh(),
        principal.role.as_str(),
        if what == "查看" { "read" } else { "change" }
    ))
}

/// The view for reading records; counts-only and denied roles get a 403.
fn record_view(principal: &Principal) -> ApiResult<View> {
    match view_of(principal.role) {
        v @ (View::Full | View::Masked) => Ok(v),
        View::CountsOnly => Err(ApiError::forbidden(format!(
            "角色 {} 只能查看统计数 /api/v1/households/counts / role {} may only read counts",
            principal.role.name_zh(),
            principal.role.as_str()
        ))),
        View::Denied => Err(denied(principal, "查看")),
    }
}

/// Checks the grid of a write: it must exist, and a grid worker may only write in their grid.
async fn check_grid(state: &AppState, principal: &Principal, grid: Option<&str>) -> ApiResult<()> {
    if let Some(g) = grid
        && !state.store.grid_unit_exists(g).await?
    {
        return Err(ApiError::invalid(
            "grid",
            format!("未知网格 / unknown grid unit {g:?}"),
        ));
    }
    if principal.role == Role::GridWorker {
        let Some(g) = grid else {
            return Err(ApiError::invalid(
                "grid",
                "网格员登记时必须注明网格 / a grid worker must give the grid unit",
            ));
        };
        let own = state.store.grid_subtree(&principal.grid_codes).await?;
        if !own.iter().any(|c| c == g) {
            return Err(ApiError::forbidden(format!(
                "网格 {g} 不在您负责的网格内 / grid unit {g} is not one of yours"
            )));
        }
    }
    Ok(())
}

async fn list(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(p): ApiQuery<ListParams>,
) -> ApiResult<axum::Json<Page<HouseholdView>>> {
    let view = record_view(&principal)?;
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
        q: opt_text("q", &p.q, 50)?,
        limit: i64::from(page_size),
        offset: i64::from(page - 1) * i64::from(page_size),
    };
    let (rows, total) = state
        .store
        .household_list(&query, &scope_of(&principal), view.as_str(), &principal)
        .await?;
    Ok(axum::Json(Page {
        items: rows
            .into_iter()
            .map(|r| HouseholdView::new(r, view))
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
) -> ApiResult<axum::Json<HouseholdView>> {
    let view = record_view(&principal)?;
    let id = parse_id(&id)?;
    let rec = state
        .store
        .household_read(id, &scope_of(&principal), view.as_str(), &principal)
        .await
        .map_err(|e| not_found_as(e, id))?;
    Ok(axum::Json(HouseholdView::new(rec, view)))
}

async fn create(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(body): ApiJson<HouseholdBody>,
) -> ApiResult<(StatusCode, axum::Json<HouseholdView>)> {
    if !may_write(principal.role) {
        return Err(denied(&principal, "登记"));
    }
    if body.version.is_some() {
        return Err(ApiError::invalid(
            "version",
            "新建记录不能指定版本 / version is only for updates",
        ));
    }
    let input = validate(&body)?;
    check_grid(&state, &principal, input.grid_code.as_deref()).await?;
    let rec = state.store.household_create(&input, &principal).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(HouseholdView::new(rec, view_of(principal.role))),
    ))
}

async fn update(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<HouseholdBody>,
) -> ApiResult<axum::Json<HouseholdView>> {
    if !may_write(principal.role) {
        return Err(denied(&principal, "修改"));
    }
    let id = parse_id(&id)?;
    let input = validate(&body)?;
    check_grid(&state, &principal, input.grid_code.as_deref()).await?;
    let rec = state
        .store
        .household_update(id, &input, body.version, &scope_of(&principal), &principal)
        .await
        .map_err(|e| not_found_as(e, id))?;
    Ok(axum::Json(HouseholdView::new(rec, view_of(principal.role))))
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
    if view_of(principal.role) == View::Denied {
        return Err(denied(&principal, "查看"));
    }
    let items = state.store.household_counts(&principal).await?;
    let total_households = items.iter().map(|c| c.households).sum();
    Ok(axum::Json(Counts {
        items,
        total_households,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_names_keeping_the_family_name() {
        assert_eq!(mask_name("张三"), "张*");
        assert_eq!(mask_name("欧阳小明"), "欧***");
        assert_eq!(mask_name("李"), "李*");
        assert_eq!(mask_name(""), "");
    }

    #[test]
    fn matrix_matches_the_documented_table() {
        let expect = [
            (Role::Admin, View::Full, true),
            (Role::Supervisor, View::Full, true),
            (Role::GridWorker, View::Full, true),
            (Role::Operator, View::Masked, false),
            (Role::Dispatcher, View::Masked, false),
            (Role::Analyst, View::CountsOnly, false),
            (Role::Auditor, View::CountsOnly, false),
            (Role::UnitHandler, View::Denied, false),
        ];
        for (role, view, write) in expect {
            assert_eq!(view_of(role), view, "{role:?}");
            assert_eq!(may_write(role), write, "{role:?}");
        }
    }

    #[test]
    fn masked_view_hides_personal_numbers_and_notes() {
        let rec = HouseholdRecord {
            id: 3,
            head_name: "张三".into(),
            kind: "dibao".into(),
            grid_code: Some("350781001001".into()),
            phone: Some("13812345678".into()),
            id_number: Some("350781199001011234".into()),
            members: Some(3),
            address: Some("水北街 1 号".into()),
            notes: Some("慢性病".into()),
            created_at: 0,
            updated_at: 0,
            version: 1,
        };
        let m = HouseholdView::new(rec.clone(), View::Masked);
        assert_eq!(m.head_name, "张*");
        assert_eq!(m.phone.as_deref(), Some("138****5678"));
        assert_eq!(m.id_number.as_deref(), Some("350781********1234"));
        assert_eq!(m.notes, None);
        assert!(m.masked);
        let f = HouseholdView::new(rec, View::Full);
        assert_eq!(f.head_name, "张三");
        assert_eq!(f.id_number.as_deref(), Some("350781199001011234"));
        assert!(!f.masked);
    }

    #[test]
    fn id_numbers_need_a_valid_check_digit() {
        // Check digit computed with GB 11643 weights.
        assert!(valid_id_number("11010519491231002X"));
        assert!(!valid_id_number("110105194912310021"));
        assert!(valid_id_number("350781900101123"));
        assert!(!valid_id_number("35078119900101"));
        assert!(!valid_id_number("3507811990010112AB"));
    }

    #[test]
    fn validation_names_the_field() {
        let base = HouseholdBody {
            head_name: "王五".into(),
            kind: "dibao".into(),
            ..HouseholdBody::default()
        };
        assert!(validate(&base).is_ok());
        let field = |b: HouseholdBody| match validate(&b).unwrap_err() {
            ApiError::Invalid { field, .. } => field,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            field(HouseholdBody {
                kind: "rich".into(),
                ..base.clone()
            }),
            "kind"
        );
        assert_eq!(
            field(HouseholdBody {
                head_name: "".into(),
                ..base.clone()
            }),
            "head_name"
        );
        assert_eq!(
            field(HouseholdBody {
                members: Some(0),
                ..base.clone()
            }),
            "members"
        );
        assert_eq!(
            field(HouseholdBody {
                id_number: Some("123".into()),
                ..base.clone()
            }),
            "id_number"
        );
        assert_eq!(
            field(HouseholdBody {
                phone: Some("abc".into()),
                ..base
            }),
            "phone"
        );
    }
}
