/*!
The vulnerable-household engine (困难群体): the checks and the masked view of the registry,
shared by the JSON API and the console. Who sees what is [`crate::policy::access`]
(`household_access`, `household_view`, `household_scope`); every read is audited by the store
before anything is returned, and so is every refused one ([`refuse`]).

A masked view (operators, dispatchers) is what routing a request needs — that the household is
on the registry, its kind and grid cell — and no more: the name and numbers masked, no address,
no member count, no notes (survey notes often carry health details). Such a view may not search
by the fields it hides either (the store refuses it).
*/

use serde::{Deserialize, Serialize};

use super::directories::{opt_phone, opt_text};
use super::error::{Error, Result};
use super::intake::normalize_phone;
use crate::model::time::render_time;
use crate::model::{HouseholdKind, Principal, Role};
use crate::policy::access::{HouseholdView, household_view};
use crate::policy::masking::{mask_id_number, mask_name, mask_phone};
use crate::store::Store;
use crate::store::households::{HouseholdInput, HouseholdRecord};

/// A household as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HouseholdEntry {
    pub id: i64,
    pub head_name: String,
    pub kind: String,
    pub grid: Option<String>,
    pub phone: Option<String>,
    pub id_number: Option<String>,
    /// Omitted from masked views (with the address and notes).
    pub members: Option<i64>,
    pub address: Option<String>,
    pub notes: Option<String>,
    pub masked: bool,
    pub created_at: String,
    pub updated_at: String,
    pub version: i64,
}

impl HouseholdEntry {
    pub fn new(r: HouseholdRecord, view: HouseholdView) -> HouseholdEntry {
        let masked = view != HouseholdView::Full;
        HouseholdEntry {
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
            members: if masked { None } else { r.members },
            address: if masked { None } else { r.address },
            notes: if masked { None } else { r.notes },
            masked,
            created_at: render_time(r.created_at),
            updated_at: render_time(r.updated_at),
            version: r.version,
        }
    }
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
pub fn validate(body: &HouseholdBody) -> Result<HouseholdInput> {
    let head_name = opt_text("head_name", &Some(body.head_name.clone()), 50)?.ok_or_else(|| {
        Error::invalid(
            "head_name",
            "head_name_required",
            "户主姓名不能为空 / head_name is required",
        )
    })?;
    let kind = HouseholdKind::parse(body.kind.trim()).ok_or_else(|| {
        let all: Vec<&str> = HouseholdKind::ALL.iter().map(|k| k.as_str()).collect();
        Error::invalid(
            "kind",
            "household_kind_invalid",
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
        return Err(Error::invalid(
            "id_number",
            "id_number_invalid",
            "身份证号码无效（18 位含校验位，或 15 位）/ not a valid resident ID number",
        ));
    }
    if let Some(m) = body.members
        && !(1..=50).contains(&m)
    {
        return Err(Error::invalid(
            "members",
            "members_range",
            "家庭人口 1..50 / members must be 1..50",
        ));
    }
    Ok(HouseholdInput {
        head_name,
        kind,
        grid_code: opt_text("grid", &body.grid, 32)?,
        // Stored normalized, so the screen pop finds it however either side typed it.
        phone: match opt_phone("phone", &body.phone)? {
            None => None,
            Some(p) => Some(normalize_phone(&p).ok_or_else(|| {
                Error::invalid(
                    "phone",
                    "phone_chars",
                    "号码格式不正确（3–20 位数字）/ not a phone number (3–20 digits)",
                )
            })?),
        },
        id_number,
        members: body.members,
        address: opt_text("address", &body.address, 200)?,
        notes: opt_text("notes", &body.notes, 1000)?,
    })
}

pub fn denied(principal: &Principal, what: &str) -> Error {
    Error::forbidden(
        "households_denied",
        format!(
            "角色 {} 不能{what}困难群体记录 / role {} may not {} vulnerable-household records",
            principal.role.name_zh(),
            principal.role.as_str(),
            if what == "查看" { "read" } else { "change" }
        ),
    )
}

/// The view for reading records; counts-only and denied roles get a 403.
pub fn record_view(principal: &Principal) -> Result<HouseholdView> {
    match household_view(principal.role) {
        v @ (HouseholdView::Full | HouseholdView::Masked) => Ok(v),
        HouseholdView::CountsOnly => Err(Error::forbidden(
            "households_denied",
            format!(
                "角色 {} 只能查看统计数 /api/v1/households/counts / role {} may only read counts",
                principal.role.name_zh(),
                principal.role.as_str()
            ),
        )),
        HouseholdView::Denied => Err(denied(principal, "查看")),
    }
}

/// Refuses a read of the registry: the refusal is audited first (`action`: `household.read_denied`
/// or `household.search_denied`; the household id if one was asked for, the search text hashed),
/// then `err` is what the front-end answers.
pub async fn refuse(
    store: &Store,
    principal: &Principal,
    action: &str,
    id: Option<i64>,
    key: Option<&str>,
    err: Error,
) -> Error {
    let view = household_view(principal.role).as_str();
    match store
        .household_refused(principal, action, id, key, view)
        .await
    {
        Ok(()) => err,
        // Unaudited, the refusal still stands; the store's error says why it was not logged.
        Err(e) => e.into(),
    }
}

/// Checks the grid of a write: it must exist, and a grid worker may only write in their grid.
pub async fn check_grid(store: &Store, principal: &Principal, grid: Option<&str>) -> Result<()> {
    if let Some(g) = grid
        && !store.grid_unit_exists(g).await?
    {
        return Err(Error::invalid(
            "grid",
            "unknown_grid",
            format!("未知网格 / unknown grid unit {g:?}"),
        ));
    }
    if principal.role == Role::GridWorker {
        let Some(g) = grid else {
            return Err(Error::invalid(
                "grid",
                "grid_required",
                "网格员登记时必须注明网格 / a grid worker must give the grid unit",
            ));
        };
        let own = store.grid_subtree(&principal.grid_codes).await?;
        if !own.iter().any(|c| c == g) {
            return Err(Error::forbidden(
                "households_denied",
                format!("网格 {g} 不在您负责的网格内 / grid unit {g} is not one of yours"),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let m = HouseholdEntry::new(rec.clone(), HouseholdView::Masked);
        assert_eq!(m.head_name, "张*");
        assert_eq!(m.phone.as_deref(), Some("1******5678"));
        assert_eq!(m.id_number.as_deref(), Some("350781*********234"));
        assert_eq!((m.notes, m.address, m.members), (None, None, None));
        assert_eq!(m.grid.as_deref(), Some("350781001001"));
        assert!(m.masked);
        let f = HouseholdEntry::new(rec, HouseholdView::Full);
        assert_eq!(f.head_name, "张三");
        assert_eq!(f.id_number.as_deref(), Some("350781199001011234"));
        assert_eq!(
            (f.members, f.address.as_deref()),
            (Some(3), Some("水北街 1 号"))
        );
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
        let typed = HouseholdBody {
            phone: Some("+86 138-0000-1234".into()),
            ..base.clone()
        };
        assert_eq!(
            validate(&typed).unwrap().phone.as_deref(),
            Some("13800001234")
        );
        let field = |b: HouseholdBody| validate(&b).unwrap_err().field.clone().unwrap();
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
