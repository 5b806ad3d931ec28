/*!
Intake (受理): the one service that creates a case, shared by the JSON API, Open311 and the
console.

[`create_case`] validates the request ([`validate`]), triages it (police first, then classify and
locate), routes it, and writes the caller upsert, the case, its first events and — for a police
transfer — the outbox message in ONE transaction. A request either becomes a complete case or
changes nothing.

- A police emergency (a police category, or an emergency keyword) becomes `transferred_police`
  with a `police.transfer` outbox message for the police-dispatch integration.
- Otherwise the category is the caller's (operator override) or the classifier's best guess; the
  routing table picks the unit for the category × located grid unit. A matching rule dispatches
  at once (`dispatched`, 签收/办结 deadlines from the category); the fallback leaves the case
  `received` in the center's queue for a dispatcher, as does an unclassified request.
- The center user who takes the case becomes its responsible operator until it closes.
*/

mod input;
mod validate;

pub use input::{CallerInput, CaseInput, LocationInput, MAX_CONTENT_CHARS, normalize_phone};

use serde_json::json;

use super::error::Result;
use super::region::RegionIndex;
use super::routing::RouteVia;
use super::triage::{Classification, Location};
use crate::model::time::{now_ms, render_time};
use crate::model::{Category, LatLon, Principal, Priority, Status, UnitKind};
use crate::store::Store;
use crate::store::cases::{
    CaseRow, NewCase, NewEvent, append_events, enqueue, insert_case, upsert_caller,
};

/// What intake did.
#[derive(Debug, Clone)]
pub struct Created {
    pub case: CaseRow,
    pub classification: Classification,
    pub location: Location,
    /// How the unit was chosen (`None`: police transfer or unclassified).
    pub route: Option<RouteVia>,
}

/// Triage only (no case): the classifier's and locator's verdict for a text, for suggestions.
pub fn triage(
    region: &RegionIndex,
    content: &str,
    location: &LocationInput,
) -> (Classification, Location) {
    let address = location.address.as_deref().unwrap_or("");
    let text = if address.is_empty() {
        content.to_string()
    } else {
        format!("{content} {address}")
    };
    let class = region.triage.classify(&text);
    let point = match (location.lat, location.lon) {
        (Some(lat), Some(lon)) => Some(LatLon { lat, lon }),
        _ => None,
    };
    let loc = region
        .triage
        .locate(location.grid_code.as_deref(), &[address, content], point);
    (class, loc)
}

/// Creates a case: validate, triage, route, write — one transaction.
pub async fn create_case(
    store: &Store,
    region: &RegionIndex,
    principal: &Principal,
    input: CaseInput,
) -> Result<Created> {
    let mut checked = validate::check(region, principal, input)?;

    // --- triage ---------------------------------------------------------------------------
    let (classification, location) = triage(region, &checked.content, &checked.location);
    let police = classification.police || checked.chosen.is_some_and(|c| c.police);
    let category: Option<&Category> = match checked.chosen {
        Some(c) => Some(c),
        None => classification
            .category
            .as_deref()
            .and_then(|c| region.category(c)),
    };
    let priority = checked
        .priority
        .or(category.map(|c| c.priority))
        .unwrap_or(Priority::Normal);
    let grid = location.grid().map(str::to_string);
    let now = now_ms();
    let operator_id = principal.role.is_center().then_some(principal.user_id);

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
        created_at: now,
    };
    let mut route = None;
    let mut police_payload = None;
    if police {
        case.status = Status::TransferredPolice.as_str().into();
        events.push(NewEvent {
            kind: "transferred_police".into(),
            from_status: Some(Status::Received.as_str().into()),
            to_status: Some(Status::TransferredPolice.as_str().into()),
            actor_id: Some(principal.user_id),
            unit_id: region.police_unit().map(|u| u.id.clone()),
            note: None,
            detail: Some(json!({"trigger": classification.police_trigger, "auto": true})),
        });
        police_payload = Some(json!({
            "content": checked.content,
            "address": checked.location.address,
            "grid_code": grid,
            "lat": checked.location.lat,
            "lon": checked.location.lon,
            "caller_phone": checked.caller.phone,
            "trigger": classification.police_trigger,
            "at": render_time(now),
        }));
    } else if let Some(cat) = category {
        let r = region.routing.resolve(&cat.code, grid.as_deref());
        // A rule naming the center itself means "the center handles it": it stays received.
        let handling_unit = region
            .unit(&r.unit)
            .is_some_and(|u| !matches!(u.kind, UnitKind::Center | UnitKind::Police));
        if matches!(r.via, RouteVia::Rule { .. }) && handling_unit {
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

    // --- write ----------------------------------------------------------------------------
    let mut tx = store.write().await?;
    case.caller_id = upsert_caller(&mut tx, &checked.caller, now).await?;
    let (id, public_id) = insert_case(&mut tx, store.engine(), &region.code, &case).await?;
    append_events(&mut tx, id, &events, now, Some(1)).await?;
    if let Some(mut payload) = police_payload {
        payload["case"] = json!(public_id);
        enqueue(&mut tx, "police.transfer", &payload, now).await?;
    }
    tx.commit().await?;

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
        replied_at: None,
        closed_at: None,
        extension_requested: 0,
        supervised: 0,
        overdue_sign: 0,
        overdue_close: 0,
        escalation_step: 0,
        redo_count: 0,
        satisfaction: None,
        open311_token: case.open311_token,
        external_id: case.external_id,
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
            Some("+8613800138000")
        );
        assert_eq!(normalize_phone("110").as_deref(), Some("110"));
        assert_eq!(normalize_phone("12"), None);
        assert_eq!(normalize_phone("abc12345"), None);
    }
}
