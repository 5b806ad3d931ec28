/*!
The directories engine: the checks and views of the four directory data systems (government
services, welfare facilities, social organizations / volunteers, market providers), shared by the
JSON API and the console.

[`validate`] checks a body's shape (lengths, formats, per-system required fields: a market
provider needs its service category and qualification); [`check_references`] its grid unit and
handling unit against the region. [`EntryView`] is an entry as a role may see it: directory
phone numbers are the service numbers of organisations, which everyone who routes or handles
cases must dial; roles that never call anyone see them masked
([`crate::policy::access::sees_directory_phone`]). Who may write is
[`crate::policy::access::may_write_directories`].
*/

use serde::{Deserialize, Serialize};

use super::error::{Error, Result};
use crate::model::DirectorySystem;
use crate::model::Role;
use crate::model::time::render_time;
use crate::policy::access::sees_directory_phone;
use crate::policy::masking::mask_phone;
use crate::store::Store;
use crate::store::directory::{DirectoryInput, DirectoryRecord, STATUSES};

/// A directory entry as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EntryView {
    pub id: i64,
    pub system: String,
    pub name: String,
    pub category: Option<String>,
    pub phone: Option<String>,
    pub address: Option<String>,
    pub grid: Option<String>,
    pub description: Option<String>,
    pub qualification: Option<String>,
    pub status: String,
    pub unit: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub version: i64,
}

impl EntryView {
    pub fn new(r: DirectoryRecord, role: Role) -> EntryView {
        let phone = if sees_directory_phone(role) {
            r.phone
        } else {
            r.phone.as_deref().map(mask_phone)
        };
        EntryView {
            id: r.id,
            system: r.system,
            name: r.name,
            category: r.category,
            phone,
            address: r.address,
            grid: r.grid_code,
            description: r.description,
            qualification: r.qualification,
            status: r.status,
            unit: r.unit_id,
            created_at: render_time(r.created_at),
            updated_at: render_time(r.updated_at),
            version: r.version,
        }
    }
}

/// Request body of create and update. `version` (update only) makes the update conditional.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntryBody {
    pub name: String,
    pub category: Option<String>,
    pub phone: Option<String>,
    pub address: Option<String>,
    pub grid: Option<String>,
    pub description: Option<String>,
    pub qualification: Option<String>,
    pub status: Option<String>,
    pub unit: Option<String>,
    pub version: Option<i64>,
}

/// Trims an optional text field, treats empty as absent and bounds its length.
pub fn opt_text(field: &str, v: &Option<String>, max: usize) -> Result<Option<String>> {
    match v.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) if s.chars().count() > max => Err(Error::invalid(
            field,
            "too_long",
            format!("不超过 {max} 字 / at most {max} characters"),
        )
        .arg("max", max)),
        Some(s) if s.chars().any(char::is_control) => Err(Error::invalid(
            field,
            "control_chars",
            "不能包含控制字符 / must not contain control characters",
        )),
        Some(s) => Ok(Some(s.to_string())),
    }
}

/// A phone number: digits plus `+ - ( )` and spaces, at least 3 digits, at most 32 characters.
pub fn opt_phone(field: &str, v: &Option<String>) -> Result<Option<String>> {
    let Some(p) = opt_text(field, v, 32)? else {
        return Ok(None);
    };
    let digits = p.chars().filter(char::is_ascii_digit).count();
    let allowed = p
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | ' ' | '(' | ')'));
    if digits < 3 || !allowed {
        return Err(Error::invalid(
            field,
            "phone_chars",
            "电话号码只能包含数字、空格和 + - ( ) / a phone number has digits, spaces and + - ( ) only",
        ));
    }
    Ok(Some(p))
}

/// Checks a body's shape (no database access): lengths, formats, per-system required fields.
pub fn validate(system: DirectorySystem, body: &EntryBody) -> Result<DirectoryInput> {
    let name = opt_text("name", &Some(body.name.clone()), 200)?.ok_or_else(|| {
        Error::invalid("name", "name_required", "名称不能为空 / name is required")
    })?;
    let category = opt_text("category", &body.category, 64)?;
    let qualification = opt_text("qualification", &body.qualification, 500)?;
    if system == DirectorySystem::MarketProviders {
        if category.is_none() {
            return Err(Error::invalid(
                "category",
                "provider_category_required",
                "市场化服务队伍必须注明服务类别 / a market provider needs its service category",
            ));
        }
        if qualification.is_none() {
            return Err(Error::invalid(
                "qualification",
                "provider_qualification_required",
                "市场化服务队伍必须注明资质 / a market provider needs its qualification",
            ));
        }
    }
    let status = match opt_text("status", &body.status, 16)? {
        None => "active".to_string(),
        Some(s) if STATUSES.contains(&s.as_str()) => s,
        Some(s) => {
            return Err(Error::invalid(
                "status",
                "entry_status_invalid",
                format!(
                    "状态只能是 active 或 suspended / status must be active or suspended, got {s:?}"
                ),
            ));
        }
    };
    Ok(DirectoryInput {
        name,
        category,
        phone: opt_phone("phone", &body.phone)?,
        address: opt_text("address", &body.address, 200)?,
        grid_code: opt_text("grid", &body.grid, 32)?,
        description: opt_text("description", &body.description, 2000)?,
        qualification,
        status,
        unit_id: opt_text("unit", &body.unit, 64)?,
    })
}

/// Checks the references of a validated input against the region.
pub async fn check_references(store: &Store, input: &DirectoryInput) -> Result<()> {
    if let Some(g) = &input.grid_code
        && !store.grid_unit_exists(g).await?
    {
        return Err(Error::invalid(
            "grid",
            "unknown_grid",
            format!("未知网格 / unknown grid unit {g:?}"),
        )
        .arg("code", g));
    }
    if let Some(u) = &input.unit_id
        && !store.unit_exists(u).await?
    {
        return Err(Error::invalid(
            "unit",
            "unknown_unit",
            format!("未知承办单位 / unknown handling unit {u:?}"),
        )
        .arg("unit", u));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(name: &str) -> EntryBody {
        EntryBody {
            name: name.into(),
            ..EntryBody::default()
        }
    }

    fn field(e: Error) -> String {
        e.field.clone().expect("an invalid-field error")
    }

    #[test]
    fn validates_names_lengths_and_phones() {
        let ok = validate(DirectorySystem::GovernmentServices, &body("  民政局 ")).unwrap();
        assert_eq!(ok.name, "民政局");
        assert_eq!(ok.status, "active");
        assert_eq!(
            field(validate(DirectorySystem::GovernmentServices, &body(" ")).unwrap_err()),
            "name"
        );
        let mut b = body("x");
        b.phone = Some("call me".into());
        assert_eq!(
            field(validate(DirectorySystem::GovernmentServices, &b).unwrap_err()),
            "phone"
        );
        b.phone = Some("0599-6321234".into());
        b.description = Some("长".repeat(2001));
        assert_eq!(
            field(validate(DirectorySystem::GovernmentServices, &b).unwrap_err()),
            "description"
        );
        b.description = None;
        b.status = Some("closed".into());
        assert_eq!(
            field(validate(DirectorySystem::WelfareFacilities, &b).unwrap_err()),
            "status"
        );
    }

    #[test]
    fn market_providers_need_category_and_qualification() {
        let mut b = body("好帮手家政");
        assert_eq!(
            field(validate(DirectorySystem::MarketProviders, &b).unwrap_err()),
            "category"
        );
        b.category = Some("housekeeping".into());
        assert_eq!(
            field(validate(DirectorySystem::MarketProviders, &b).unwrap_err()),
            "qualification"
        );
        b.qualification = Some("营业执照 91350781MA00000000".into());
        b.status = Some("suspended".into());
        let ok = validate(DirectorySystem::MarketProviders, &b).unwrap();
        assert_eq!(ok.status, "suspended");
    }

    #[test]
    fn only_analysts_and_auditors_see_masked_phones() {
        let rec = DirectoryRecord {
            id: 1,
            system: "market_providers".into(),
            name: "x".into(),
            category: None,
            phone: Some("13812345678".into()),
            address: None,
            grid_code: None,
            description: None,
            qualification: None,
            status: "active".into(),
            unit_id: None,
            created_at: 0,
            updated_at: 0,
            version: 1,
        };
        for role in Role::ALL {
            let v = EntryView::new(rec.clone(), role);
            let expect = if matches!(role, Role::Analyst | Role::Auditor) {
                "1******5678"
            } else {
                "13812345678"
            };
            assert_eq!(v.phone.as_deref(), Some(expect), "{role:?}");
        }
    }
}
