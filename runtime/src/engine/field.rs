/*!
The grid worker's field work (网格员): patrol reports (巡查上报) and household visits (走访).

A patrol report becomes a case on the `grid` channel through intake, with:
- the phone's **idempotency key**: the phone makes one per report and sends it with every try
  (the console's offline queue resends after a lost answer). A key seen before answers with the
  case it made — never a second case — and a key another user sent is refused;
- the **place**: the cell the worker picked, else the phone's position placed in the nearest of
  the worker's own cells (by centroid — the worker reports where they walk), else their only cell;
- **就地解决**: what the worker did on the spot; the case is received and closed at once and
  counted apart (`solved_on_spot`).

A visit records what the worker found (stable, needs help, absent, moved) and may correct the
household's members, phone and notes, audited with the fields that changed.
*/

use super::error::{Error, Result};
use super::intake::{self, CaseInput, LocationInput, Patrol};
use super::region::RegionIndex;
use super::triage::distance_km;
use crate::model::time::now_ms;
use crate::model::{Channel, LatLon, Principal, Role};
use crate::policy::access::household_scope;
use crate::store::cases::CaseRow;
use crate::store::field::{NewVisit, Situation};
use crate::store::households::HouseholdRecord;
use crate::store::{Store, StoreError};

/// Longest idempotency key accepted (a UUID is 36).
pub const MAX_KEY_CHARS: usize = 64;
/// Longest free text of a visit.
pub const MAX_VISIT_CHARS: usize = 2000;

/// A patrol report as the phone sends it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PatrolReport {
    /// The phone's idempotency key (letters, digits, `-`, `_`; 8–64).
    pub key: String,
    pub category: Option<String>,
    pub content: String,
    /// The phone's position, when it gave one.
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    /// The cell picked on the form (the fallback without a position).
    pub cell: Option<String>,
    pub address: Option<String>,
    /// 就地解决: what was done on the spot.
    pub solved_on_spot: Option<String>,
}

/// What a report came to.
#[derive(Debug, Clone)]
pub struct Reported {
    pub case: CaseRow,
    /// `false`: the key was seen before and this is the case it made then.
    pub created: bool,
}

/// Checks an idempotency key's shape.
pub fn check_key(key: &str) -> Result<()> {
    let ok = (8..=MAX_KEY_CHARS).contains(&key.len())
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            "key",
            "report_key_invalid",
            format!("the report key is 8–{MAX_KEY_CHARS} letters, digits, '-' or '_'"),
        ))
    }
}

/// The worker's own cell (or a unit below it) nearest to `at` by centroid, if any has one.
pub fn nearest_cell(region: &RegionIndex, principal: &Principal, at: LatLon) -> Option<String> {
    region
        .grid_reach(&principal.grid_codes)
        .into_iter()
        .filter_map(|code| {
            let c = region.grid(&code)?.centroid?;
            Some((distance_km(at, c), code))
        })
        .min_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, code)| code)
}

/// Files a patrol report: a new case, or the one its key made before.
pub async fn report(
    store: &Store,
    region: &RegionIndex,
    principal: &Principal,
    r: PatrolReport,
) -> Result<Reported> {
    if principal.role != Role::GridWorker {
        return Err(Error::forbidden(
            "grid_worker_only",
            "patrol reports are filed by grid workers",
        ));
    }
    let key = r.key.trim().to_string();
    check_key(&key)?;
    if let Some(found) = seen(store, region, principal, &key).await? {
        return Ok(found);
    }
    let position = match (r.lat, r.lon) {
        (Some(lat), Some(lon)) => Some(LatLon { lat, lon }),
        (None, None) => None,
        _ => {
            return Err(Error::invalid(
                "lat",
                "position_incomplete",
                "a position has both lat and lon",
            ));
        }
    };
    let cell = r
        .cell
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_string)
        .or_else(|| position.and_then(|p| nearest_cell(region, principal, p)));
    let input = CaseInput {
        channel: Channel::Grid,
        caller: None,
        content: r.content,
        category: r.category.filter(|c| !c.trim().is_empty()),
        location: Some(LocationInput {
            grid_code: cell,
            address: r.address.filter(|a| !a.trim().is_empty()),
            lat: position.map(|p| p.lat),
            lon: position.map(|p| p.lon),
        }),
        priority: None,
        external_id: None,
        emergency: None,
        open311_token: None,
    };
    let patrol = Patrol {
        report_key: Some(key.clone()),
        solved_on_spot: r.solved_on_spot,
    };
    match intake::create_case_with(store, region, principal, input, patrol).await {
        Ok(created) => Ok(Reported {
            case: created.case,
            created: true,
        }),
        // Sent twice at once: the other send made the case.
        Err(e) if e.key == "duplicate_report" => seen(store, region, principal, &key)
            .await?
            .ok_or_else(|| Error::internal("a duplicate report key without its case")),
        Err(e) => Err(e),
    }
}

/// The case `key` made before, if any; a key another user sent is refused.
async fn seen(
    store: &Store,
    region: &RegionIndex,
    principal: &Principal,
    key: &str,
) -> Result<Option<Reported>> {
    let Some((user, public_id)) = store.report_key_case(key).await? else {
        return Ok(None);
    };
    if user != principal.user_id {
        return Err(Error::conflict(
            "report_key_taken",
            "this report key was used by another user: the phone makes a new one per report",
        ));
    }
    let case = store.case_by_public_id(&public_id).await?;
    debug_assert!(super::actions::can_see(principal, region, &case));
    Ok(Some(Reported {
        case,
        created: false,
    }))
}

/// A visit as the form gives it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VisitInput {
    pub situation: String,
    pub notes: Option<String>,
    pub members: Option<String>,
    pub phone: Option<String>,
    pub household_notes: Option<String>,
}

/// Records a visit to household `id` by a grid worker of its cell (or the center's admin or
/// supervisor); returns the household as it is now and the visit's id.
pub async fn visit(
    store: &Store,
    principal: &Principal,
    id: i64,
    input: VisitInput,
) -> Result<(HouseholdRecord, i64)> {
    if !matches!(
        principal.role,
        Role::GridWorker | Role::Admin | Role::Supervisor
    ) {
        return Err(Error::forbidden(
            "visit_forbidden",
            "household visits are recorded by grid workers",
        ));
    }
    let situation = Situation::parse(input.situation.trim()).ok_or_else(|| {
        Error::invalid(
            "situation",
            "situation_invalid",
            "one of stable, needs_help, absent, moved",
        )
    })?;
    let text = |field: &'static str, v: Option<String>| -> Result<Option<String>> {
        let v = v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
        if v.as_deref()
            .is_some_and(|s| s.chars().count() > MAX_VISIT_CHARS)
        {
            return Err(Error::invalid(
                field,
                "too_long",
                format!("longer than {MAX_VISIT_CHARS} characters"),
            )
            .arg("max", MAX_VISIT_CHARS));
        }
        Ok(v)
    };
    let members = match text("members", input.members)? {
        Some(m) => Some(
            m.parse::<i64>()
                .ok()
                .filter(|n| (1..=99).contains(n))
                .ok_or_else(|| {
                    Error::invalid("members", "members_invalid", "a number from 1 to 99")
                })?,
        ),
        None => None,
    };
    let phone = match text("phone", input.phone)? {
        Some(p) => Some(intake::normalize_phone(&p).ok_or_else(|| {
            Error::invalid(
                "phone",
                "phone_invalid",
                "not a phone number (3–20 digits, optional +)",
            )
        })?),
        None => None,
    };
    let visit = NewVisit {
        situation,
        notes: text("notes", input.notes)?,
        members,
        phone,
        household_notes: text("household_notes", input.household_notes)?,
        case_id: None,
    };
    let scope = household_scope(principal);
    match store
        .household_visit(id, &visit, &scope, principal, now_ms())
        .await
    {
        Ok(v) => Ok(v),
        Err(StoreError::NotFound) => Err(Error::not_found(
            "household_not_found",
            format!("household {id}"),
        )),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_checked() {
        assert!(check_key("0b7c1e9a-5f3d-4c7e-9a51-2f0e8d6b4c11").is_ok());
        assert!(check_key("r-20261207_01").is_ok());
        for bad in [
            "short",
            "has space in it",
            "中文键中文键中文键",
            &"x".repeat(65),
        ] {
            let e = check_key(bad).unwrap_err();
            assert_eq!(e.field.as_deref(), Some("key"), "{bad}");
        }
    }
}
