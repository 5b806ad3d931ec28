/*!
Intake's checks: every field of a [`CaseInput`] is validated (and trimmed) before anything is
triaged or written, and each failure names its field. Grid workers may report only on the grid
channel and inside their own grid units.
*/

use super::input::{
    CaseInput, EmergencyInput, GENDERS, LocationInput, MAX_CONTENT_CHARS, clean, normalize_phone,
};
use crate::engine::error::{Error, Result};
use crate::engine::region::RegionIndex;
use crate::model::{Category, Channel, Principal, Priority, Role};
use crate::store::cases::CallerData;

/// Longest caller name, age band or occupation.
const MAX_CALLER_FIELD_CHARS: usize = 100;
/// Longest address.
const MAX_ADDRESS_CHARS: usize = 500;
/// Longest external id.
const MAX_EXTERNAL_ID_CHARS: usize = 200;

/// A request that passed every check.
#[derive(Debug)]
pub(super) struct Checked<'r> {
    pub channel: Channel,
    pub content: String,
    pub caller: CallerData,
    pub location: LocationInput,
    /// The operator's category, if given.
    pub chosen: Option<&'r Category>,
    pub priority: Option<Priority>,
    pub external_id: Option<String>,
    pub open311_token: Option<String>,
    /// The operator's emergency decision, reason and incident number trimmed.
    pub emergency: Option<EmergencyInput>,
}

/// Longest override reason or incident number.
const MAX_REASON_CHARS: usize = 500;

fn too_long(field: &str, max: usize) -> Error {
    Error::invalid(field, "too_long", format!("longer than {max} characters")).arg("max", max)
}

/// Checks `input` as `principal` would submit it.
pub(super) fn check<'r>(
    region: &'r RegionIndex,
    principal: &Principal,
    input: CaseInput,
) -> Result<Checked<'r>> {
    let content = input.content.trim().to_string();
    if content.is_empty() {
        return Err(Error::invalid(
            "content",
            "content_empty",
            "the request text is empty",
        ));
    }
    if content.chars().count() > MAX_CONTENT_CHARS {
        return Err(too_long("content", MAX_CONTENT_CHARS));
    }
    // Channels only another front-end may set: Open311 submissions carry the token the Open311
    // front-end hands out; grid reports come from grid workers.
    if input.channel == Channel::Open311 && input.open311_token.is_none() {
        return Err(Error::invalid(
            "channel",
            "channel_reserved",
            "channel open311 is set by the Open311 endpoint (/open311/v2), not by this API",
        )
        .arg("channel", "open311"));
    }
    if input.channel == Channel::Grid && principal.role != Role::GridWorker {
        return Err(Error::invalid(
            "channel",
            "channel_reserved",
            "channel grid is for grid workers' reports",
        )
        .arg("channel", "grid"));
    }
    let caller = check_caller(input.caller.unwrap_or_default())?;
    let location = check_location(region, input.location.unwrap_or_default())?;
    let chosen = match clean(&input.category) {
        Some(code) => Some(region.category(&code).ok_or_else(|| {
            Error::invalid(
                "category",
                "unknown_category",
                format!("unknown category {code}"),
            )
            .arg("code", &code)
        })?),
        None => None,
    };
    if input
        .external_id
        .as_deref()
        .is_some_and(|s| s.chars().count() > MAX_EXTERNAL_ID_CHARS)
    {
        return Err(too_long("external_id", MAX_EXTERNAL_ID_CHARS));
    }
    let emergency = match input.emergency {
        Some(e) => {
            for (field, v) in [
                ("emergency.reason", &e.reason),
                ("emergency.incident_number", &e.incident_number),
            ] {
                if v.as_deref()
                    .is_some_and(|s| s.chars().count() > MAX_REASON_CHARS)
                {
                    return Err(too_long(field, MAX_REASON_CHARS));
                }
            }
            if !principal.role.is_center() {
                return Err(Error::forbidden(
                    "emergency_decision_center_only",
                    "only the center's staff confirm or override the emergency stage",
                ));
            }
            Some(EmergencyInput {
                line: e.line,
                reason: clean(&e.reason),
                incident_number: clean(&e.incident_number),
            })
        }
        None => None,
    };
    let mut checked = Checked {
        channel: input.channel,
        content,
        caller,
        location,
        chosen,
        priority: input.priority,
        external_id: clean(&input.external_id),
        open311_token: input.open311_token,
        emergency,
    };
    if principal.role == Role::GridWorker {
        check_grid_worker(region, principal, &mut checked)?;
    }
    Ok(checked)
}

fn check_caller(caller: super::input::CallerInput) -> Result<CallerData> {
    let phone = match clean(&caller.phone) {
        Some(p) => Some(normalize_phone(&p).ok_or_else(|| {
            Error::invalid(
                "caller.phone",
                "phone_invalid",
                "not a phone number (3–20 digits, optional +)",
            )
        })?),
        None => None,
    };
    let gender = clean(&caller.gender);
    if let Some(g) = &gender
        && !GENDERS.contains(&g.as_str())
    {
        return Err(Error::invalid(
            "caller.gender",
            "gender_invalid",
            "one of male, female, other",
        ));
    }
    for (field, v) in [
        ("caller.name", &caller.name),
        ("caller.age_band", &caller.age_band),
        ("caller.occupation", &caller.occupation),
    ] {
        if v.as_deref()
            .is_some_and(|s| s.chars().count() > MAX_CALLER_FIELD_CHARS)
        {
            return Err(too_long(field, MAX_CALLER_FIELD_CHARS));
        }
    }
    Ok(CallerData {
        phone,
        name: clean(&caller.name),
        gender,
        age_band: clean(&caller.age_band),
        occupation: clean(&caller.occupation),
    })
}

fn check_location(region: &RegionIndex, mut loc: LocationInput) -> Result<LocationInput> {
    loc.grid_code = clean(&loc.grid_code);
    loc.address = clean(&loc.address);
    if let Some(code) = &loc.grid_code
        && region.grid(code).is_none()
    {
        return Err(Error::invalid(
            "location.grid_code",
            "unknown_grid",
            format!("{code} is not a grid unit of region {}", region.code),
        )
        .arg("code", code));
    }
    if loc
        .address
        .as_deref()
        .is_some_and(|a| a.chars().count() > MAX_ADDRESS_CHARS)
    {
        return Err(too_long("location.address", MAX_ADDRESS_CHARS));
    }
    match (loc.lat, loc.lon) {
        (Some(lat), Some(lon)) => {
            if !(-90.0..=90.0).contains(&lat) || !lat.is_finite() {
                return Err(Error::invalid(
                    "location.lat",
                    "lat_range",
                    "latitude must be -90..90",
                ));
            }
            if !(-180.0..=180.0).contains(&lon) || !lon.is_finite() {
                return Err(Error::invalid(
                    "location.lon",
                    "lon_range",
                    "longitude must be -180..180",
                ));
            }
        }
        (Some(_), None) => {
            return Err(Error::invalid(
                "location.lon",
                "lat_without_lon",
                "lat given without lon",
            ));
        }
        (None, Some(_)) => {
            return Err(Error::invalid(
                "location.lat",
                "lon_without_lat",
                "lon given without lat",
            ));
        }
        (None, None) => {}
    }
    Ok(loc)
}

/// Grid workers report on the grid channel, inside their own grid units.
fn check_grid_worker(
    region: &RegionIndex,
    principal: &Principal,
    checked: &mut Checked<'_>,
) -> Result<()> {
    if checked.channel != Channel::Grid {
        return Err(Error::forbidden(
            "grid_channel_only",
            "grid workers create cases on the grid channel only",
        ));
    }
    match &checked.location.grid_code {
        Some(code) => {
            if !principal
                .grid_codes
                .iter()
                .any(|mine| region.triage.grid_within(code, mine))
            {
                return Err(Error::forbidden(
                    "grid_outside_scope",
                    format!("grid unit {code} is outside your grid units"),
                )
                .arg("code", code));
            }
        }
        None if principal.grid_codes.len() == 1 => {
            checked.location.grid_code = Some(principal.grid_codes[0].clone());
        }
        None => {
            return Err(Error::invalid(
                "location.grid_code",
                "grid_required",
                "grid workers name the grid unit of the report",
            ));
        }
    }
    Ok(())
}
