/*!
Intake (受理): the one service that creates a case, shared by the JSON API, Open311 and the
console.

[`create_case`] validates the request ([`validate`]), triages it (police first, then classify and
locate), routes it, and writes the caller upsert, the case, its first events and — for a police
transfer — the outbox message in ONE transaction. A request either becomes a complete case or
changes nothing.

- An emergency (the emergency stage's line, confirmed or changed by the operator; or a police
  category) becomes `transferred_police` with its `emergency_line` and an `emergency.transfer`
  outbox message for that line's platform.
- A case dispatched to a unit reached through another platform also gets its forward
  ([`super::forward`]); a caller with a mobile number gets the case number by text when the
  region has an SMS gateway ([`super::sms`]). An operator's override of a detection needs a reason
  and is written to the audit log; a hand-off to a line without an integration needs the
  incident number (警情编号) of the phone transfer.
- Otherwise the category is the caller's (operator override) or the classifier's best guess; the
  routing table picks the unit for the category × located grid unit. A matching rule dispatches
  at once (`dispatched`, 签收/办结 deadlines from the category); the fallback leaves the case
  `received` in the center's queue for a dispatcher, as does an unclassified request.
- The center user who takes the case becomes its responsible operator until it closes.
- A grid worker's patrol report ([`Patrol`], from the field pages) may carry the phone's
  idempotency key — stored with the case in the same transaction, so a report sent twice makes
  one case ([`Error`] `duplicate_report` names it) — and what the worker did on the spot
  (就地解决): the case is then received and closed at once (`solved_on_spot`), never routed.
*/

mod input;
mod validate;
mod write;

pub use input::{
    CallerInput, CaseInput, EmergencyInput, LocationInput, MAX_CONTENT_CHARS, normalize_phone,
};

/// Outbox topic of every hand-off to an emergency line (the payload names the line and platform).
pub const TRANSFER_TOPIC: &str = "emergency.transfer";
/// A hand-off waiting for the line's acknowledgement (待确认).
pub const HANDOFF_AWAITING: &str = "awaiting";
/// The line acknowledged it (an incident number).
pub const HANDOFF_ACKNOWLEDGED: &str = "acknowledged";
/// The line handed it back (转警退回).
pub const HANDOFF_RETURNED: &str = "returned";

use serde_json::json;

use super::error::{Error, Result};
use super::forward::{self, FORWARD_TOPIC};
use super::region::RegionIndex;
use super::routing::RouteVia;
use super::sms;
use super::triage::{Classification, Location};
use crate::model::time::{now_ms, render_time};
use crate::model::{
    Category, Channel, EmergencyLine, LatLon, Principal, Priority, Status, UnitKind,
};
use crate::store::Store;
use crate::store::cases::{CaseRow, NewCase, NewEvent};

/// What a grid worker's patrol report adds to a case (the field pages set it; JSON never does).
#[derive(Debug, Clone, Default)]
pub struct Patrol {
    /// The phone's idempotency key of the report.
    pub report_key: Option<String>,
    /// 就地解决: what was done on the spot; the case closes at once.
    pub solved_on_spot: Option<String>,
}

/// What intake did.
#[derive(Debug, Clone)]
pub struct Created {
    pub case: CaseRow,
    pub classification: Classification,
    pub location: Location,
    /// How the unit was chosen (`None`: police transfer or unclassified).
    pub route: Option<RouteVia>,
}

/// Triage only (no case): the emergency stage and the classifier over the content (never the
/// address), and the locator over address and content.
pub fn triage(
    region: &RegionIndex,
    content: &str,
    location: &LocationInput,
) -> (Classification, Location) {
    let address = location.address.as_deref().unwrap_or("");
    let class = region.triage.classify(content);
    let point = match (location.lat, location.lon) {
        (Some(lat), Some(lon)) => Some(LatLon { lat, lon }),
        _ => None,
    };
    let loc = region
        .triage
        .locate(location.grid_code.as_deref(), &[address, content], point);
    (class, loc)
}

/// What the emergency stage and the operator decided together.
struct Handoff {
    line: EmergencyLine,
    /// `phone` (电话转接, with the incident number), `integration` (the delivery worker sends
    /// it), or `phone_pending` (detected without an operator: someone must phone it through).
    via: &'static str,
    incident_number: Option<String>,
}

/// The line a request goes to, from the detector and the operator's decision.
fn decide_emergency(
    region: &RegionIndex,
    checked: &validate::Checked<'_>,
    class: &Classification,
) -> Result<(Option<Handoff>, bool)> {
    let detected = class.emergency.as_ref().map(|e| e.line);
    let chosen_police = checked.chosen.is_some_and(|c| c.police);
    let (line, overridden) = match &checked.emergency {
        Some(d) => {
            if d.line.is_none() && chosen_police {
                return Err(Error::invalid(
                    "emergency.line",
                    "police_category_needs_line",
                    "a police category is handed to 110: choose another category or confirm the transfer",
                ));
            }
            let line = d.line.or(chosen_police.then_some(EmergencyLine::Police));
            let overridden = detected.is_some() && detected != line;
            if overridden && line.is_none() && d.reason.is_none() {
                return Err(Error::invalid(
                    "emergency.reason",
                    "emergency_override_reason",
                    "say why this is not an emergency (the override is audited)",
                ));
            }
            (line, overridden)
        }
        None => {
            // No operator: the detector decides; a police category (the operator's, or the
            // classifier's when it is sure) goes to 110 as well.
            let suggested_police = checked.chosen.is_none()
                && class
                    .category
                    .as_deref()
                    .and_then(|c| region.category(c))
                    .is_some_and(|c| c.police);
            let line =
                detected.or((chosen_police || suggested_police).then_some(EmergencyLine::Police));
            (line, false)
        }
    };
    let Some(line) = line else {
        return Ok((None, overridden));
    };
    let by_phone = region.handoff_by_phone(line);
    let incident = checked
        .emergency
        .as_ref()
        .and_then(|d| d.incident_number.clone());
    let via = match (&checked.emergency, by_phone) {
        (Some(_), true) if incident.is_none() => {
            return Err(Error::invalid(
                "emergency.incident_number",
                "incident_number_required",
                format!(
                    "{} has no integration: transfer the call by phone (电话转接) and enter the incident number (警情编号) it gives",
                    line.as_str()
                ),
            )
            .arg("line", line.as_str()));
        }
        (Some(_), true) => "phone",
        (None, true) => "phone_pending",
        (_, false) => "integration",
    };
    Ok((
        Some(Handoff {
            line,
            via,
            incident_number: incident,
        }),
        overridden,
    ))
}

/// Creates a case: validate, triage, route, write — one transaction.
pub async fn create_case(
    store: &Store,
    region: &RegionIndex,
    principal: &Principal,
    input: CaseInput,
) -> Result<Created> {
    create_case_with(store, region, principal, input, Patrol::default()).await
}

/// [`create_case`] for a grid worker's patrol report.
pub async fn create_case_with(
    store: &Store,
    region: &RegionIndex,
    principal: &Principal,
    input: CaseInput,
    patrol: Patrol,
) -> Result<Created> {
    let mut checked = validate::check(region, principal, input)?;
    let on_spot = patrol
        .solved_on_spot
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    if on_spot.is_some() && checked.channel != Channel::Grid {
        return Err(Error::invalid(
            "solved_on_spot",
            "on_spot_not_grid",
            "only a grid worker's patrol report is settled on the spot",
        ));
    }

    // --- triage: emergency stage, then category ---------------------------------------------
    let (classification, location) = triage(region, &checked.content, &checked.location);
    let (handoff, overridden) = decide_emergency(region, &checked, &classification)?;
    let category: Option<&Category> = match checked.chosen {
        Some(c) => Some(c),
        None if handoff
            .as_ref()
            .is_some_and(|h| matches!(h.line, EmergencyLine::Police | EmergencyLine::Traffic)) =>
        {
            region.categories.iter().find(|c| c.police)
        }
        None if handoff.is_some() => None,
        // Not handed off: a police category from the classifier would be a transfer by the back
        // door (the operator has just said it is not an emergency), so a person chooses.
        None => classification
            .category
            .as_deref()
            .and_then(|c| region.category(c))
            .filter(|c| !c.police),
    };
    let priority = if handoff.is_some() {
        Priority::Urgent
    } else {
        checked
            .priority
            .or(category.map(|c| c.priority))
            .unwrap_or(Priority::Normal)
    };
    let grid = location.grid().map(str::to_string);
    let now = now_ms();
    let operator_id = principal.role.is_center().then_some(principal.user_id);
    let decision = checked.emergency.as_ref().map(|d| {
        json!({
            "line": d.line.map(EmergencyLine::as_str),
            "reason": d.reason,
            "incident_number": d.incident_number,
            "overrides_detector": overridden,
        })
    });

    // --- route ----------------------------------------------------------------------------
    let mut events = vec![NewEvent {
        kind: "received".into(),
        from_status: None,
        to_status: Some(Status::Received.as_str().into()),
        actor_id: Some(principal.user_id),
        unit_id: None,
        note: None,
        detail: Some(json!({
            "channel": checked.channel.as_str(),
            "classification": classification,
            "category_source": if checked.chosen.is_some() { "operator" } else { "classifier" },
            "emergency_decision": decision,
            "location": location,
        })),
    }];
    let mut case = NewCase {
        channel: checked.channel.as_str().into(),
        caller_id: None,
        content: checked.content.clone(),
        category_code: category.map(|c| c.code.clone()),
        grid_code: grid.clone(),
        address: checked.location.address.clone(),
        lat: checked.location.lat,
        lon: checked.location.lon,
        priority: priority.as_str().into(),
        status: Status::Received.as_str().into(),
        operator_id,
        unit_id: None,
        sign_due: None,
        close_due: None,
        dispatched_at: None,
        open311_token: checked.open311_token.take(),
        external_id: checked.external_id.take(),
        emergency_line: handoff.as_ref().map(|h| h.line.as_str().to_string()),
        // A phone transfer's incident number is the line's acknowledgement.
        handoff_state: handoff.as_ref().map(|h| {
            if h.incident_number.is_some() {
                HANDOFF_ACKNOWLEDGED.to_string()
            } else {
                HANDOFF_AWAITING.to_string()
            }
        }),
        handoff_ref: handoff.as_ref().and_then(|h| h.incident_number.clone()),
        created_at: now,
    };
    let mut route = None;
    let mut transfer_payload = None;
    if let Some(done) = &on_spot {
        if let Some(h) = &handoff {
            return Err(Error::invalid(
                "solved_on_spot",
                "on_spot_emergency",
                format!(
                    "the report reads as an emergency for {}: it goes to that line, it is not \
                     closed on the spot",
                    h.line.as_str()
                ),
            )
            .arg("line", h.line.as_str()));
        }
        // 就地解决: received and closed in one step; counted apart in analytics.
        case.status = Status::Closed.as_str().into();
        events.push(NewEvent {
            kind: "solved_on_spot".into(),
            from_status: Some(Status::Received.as_str().into()),
            to_status: Some(Status::Closed.as_str().into()),
            actor_id: Some(principal.user_id),
            unit_id: None,
            note: Some(done.clone()),
            detail: None,
        });
    } else if let Some(h) = &handoff {
        let platform = region.emergency_platform(h.line);
        case.status = Status::TransferredPolice.as_str().into();
        let evidence = classification
            .emergency
            .as_ref()
            .filter(|e| e.line == h.line)
            .map(|e| e.evidence.clone());
        events.push(NewEvent {
            kind: "transferred_police".into(),
            from_status: Some(Status::Received.as_str().into()),
            to_status: Some(Status::TransferredPolice.as_str().into()),
            actor_id: Some(principal.user_id),
            unit_id: region.police_unit().map(|u| u.id.clone()),
            note: None,
            detail: Some(json!({
                "line": h.line.as_str(),
                "evidence": evidence,
                "auto": checked.emergency.is_none(),
                "handoff": h.via,
                "incident_number": h.incident_number,
                "platform": platform.map(|p| p.id.clone()),
            })),
        });
        transfer_payload = Some(json!({
            "line": h.line.as_str(),
            "platform": platform.map(|p| p.id.clone()),
            "handoff": h.via,
            "incident_number": h.incident_number,
            "content": checked.content,
            "address": checked.location.address,
            "grid_code": grid,
            "lat": checked.location.lat,
            "lon": checked.location.lon,
            "caller_phone": checked.caller.phone,
            "evidence": evidence,
            "at": render_time(now),
        }));
    } else if let Some(cat) = category {
        let r = region.routing().resolve(&cat.code, grid.as_deref());
        // A rule naming the center itself means "the center handles it": it stays received.
        let handling_unit = region
            .unit(&r.unit)
            .is_some_and(|u| !matches!(u.kind, UnitKind::Center | UnitKind::Police));
        // A matchable category waits in the queue for the offer job (engine::offers).
        let offered = crate::engine::offers::matchable(region, Some(&cat.code));
        if matches!(r.via, RouteVia::Rule { .. }) && handling_unit && !offered {
            case.status = Status::Dispatched.as_str().into();
            case.unit_id = Some(r.unit.clone());
            case.dispatched_at = Some(now);
            case.sign_due = Some(now + i64::from(cat.sign_minutes) * 60_000);
            case.close_due = Some(now + i64::from(cat.close_hours) * 3_600_000);
            let (rule_cat, scope) = match &r.via {
                RouteVia::Rule { category, scope } => (category.clone(), scope.clone()),
                RouteVia::Fallback => (cat.code.clone(), None),
            };
            events.push(NewEvent {
                kind: "dispatched".into(),
                from_status: Some(Status::Received.as_str().into()),
                to_status: Some(Status::Dispatched.as_str().into()),
                actor_id: Some(principal.user_id),
                unit_id: Some(r.unit.clone()),
                note: None,
                detail: Some(json!({
                    "auto": true,
                    "rule": {"category": rule_cat, "scope": scope},
                    "sign_due": case.sign_due.map(render_time),
                    "close_due": case.close_due.map(render_time),
                })),
            });
        }
        route = Some(r.via);
    }

    // --- write: prepared here, run in a group-commit batch ---------------------------------
    let mut outbox = Vec::new();
    if let Some(payload) = transfer_payload {
        let (platform, state) = match &handoff {
            Some(h) => region.transfer_route(h.line),
            None => (None, "unrouted"),
        };
        outbox.push(write::Outbox {
            topic: TRANSFER_TOPIC,
            payload,
            platform: platform.map(str::to_string),
            state,
        });
    }
    if let Some(unit) = case.unit_id.as_deref()
        && let Some((platform, state)) = region.forward_route(unit)
    {
        let facts = forward::Facts {
            // Filled in with the public id inside the transaction.
            case: "",
            category: case.category_code.as_deref(),
            content: &case.content,
            address: case.address.as_deref(),
            grid_code: case.grid_code.as_deref(),
            lat: case.lat,
            lon: case.lon,
            caller_phone: checked.caller.phone.as_deref(),
            caller_name: checked.caller.name.as_deref(),
            unit,
            close_due: case.close_due,
        };
        outbox.push(write::Outbox {
            topic: FORWARD_TOPIC,
            payload: forward::payload(region, &facts, now),
            platform: Some(platform.to_string()),
            state,
        });
    }
    // The citizen gets the case number by text (not for an emergency: the line calls back; not
    // for a grid worker's report, whose phone may be a neighbour's).
    let receipt = match (region.sms_gateway(), checked.caller.phone.as_deref()) {
        (Some(gateway), Some(phone))
            if handoff.is_none() && checked.channel != Channel::Grid && sms::is_mobile(phone) =>
        {
            Some(write::Receipt {
                phone: phone.to_string(),
                gateway: gateway.id.clone(),
                template: sms::receipt_text(region, write::CASE_MARK),
            })
        }
        _ => None,
    };
    let plan = write::Plan {
        region_code: region.code.clone(),
        caller: checked.caller.clone(),
        case: case.clone(),
        events,
        on_spot: on_spot.is_some(),
        report_key: patrol.report_key.map(|k| (k, principal.user_id)),
        outbox,
        receipt,
        overridden: overridden.then(|| write::Override {
            actor_id: principal.user_id,
            actor_name: principal.name.clone(),
            detail: json!({
                "detected": classification.emergency,
                "decision": decision,
            }),
        }),
    };
    let (id, public_id, caller_id) = write::commit(store, plan).await?;
    case.caller_id = caller_id;

    let row = CaseRow {
        id,
        public_id,
        channel: case.channel,
        caller_id: case.caller_id,
        content: case.content,
        category_code: case.category_code,
        grid_code: case.grid_code,
        address: case.address,
        lat: case.lat,
        lon: case.lon,
        priority: case.priority,
        status: case.status,
        operator_id: case.operator_id,
        unit_id: case.unit_id,
        sign_due: case.sign_due,
        close_due: case.close_due,
        dispatched_at: case.dispatched_at,
        signed_at: None,
        replied_at: on_spot.as_ref().map(|_| now),
        closed_at: on_spot.as_ref().map(|_| now),
        extension_requested: 0,
        supervised: 0,
        overdue_sign: 0,
        overdue_close: 0,
        escalation_step: 0,
        redo_count: 0,
        satisfaction: None,
        open311_token: case.open311_token,
        external_id: case.external_id,
        emergency_line: case.emergency_line,
        handoff_at: case.handoff_state.as_ref().map(|_| now),
        handoff_state: case.handoff_state,
        handoff_ref: case.handoff_ref,
        forward_ref: None,
        forward_at: None,
        grid_task: None,
        created_at: now,
        updated_at: now,
        version: 1,
        caller_phone: checked.caller.phone,
        caller_name: checked.caller.name,
        caller_gender: checked.caller.gender,
        caller_age_band: checked.caller.age_band,
        caller_occupation: checked.caller.occupation,
    };
    Ok(Created {
        case: row,
        classification,
        location,
        route,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_are_checked() {
        assert_eq!(
            normalize_phone("138-0013-8000").as_deref(),
            Some("13800138000")
        );
        assert_eq!(
            normalize_phone("+86 138 0013 8000").as_deref(),
            Some("13800138000")
        );
        assert_eq!(normalize_phone("110").as_deref(), Some("110"));
        assert_eq!(normalize_phone("12"), None);
        assert_eq!(normalize_phone("abc12345"), None);
    }
}
