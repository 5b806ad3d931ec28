/*!
The lifecycle service: apply one action to a case, shared by the JSON API and the console.

[`perform`] locks the case, checks scope (a unit handler acts only on its own unit's cases) and
the optimistic version, asks the pure state machine ([`super::lifecycle::decide`]) what the action
means, applies its effects, and writes the status change, the timeline event (actor, time, note),
a follow-up row and outbox messages in ONE transaction — the cases merged into it following
it to the reply and the close ([`super::merge`]) — among them the forward of a case
dispatched to a unit reached through another platform ([`super::forward`]) and the 回访 text to
the citizen when the unit replies ([`super::sms`]). An illegal action changes nothing and
comes back as a 409 saying why, with the actions allowed now.
*/

use serde::Deserialize;
use serde_json::json;

use super::error::{Error, Result};
use super::forward::{self, FORWARD_TOPIC};
use super::intake::{HANDOFF_ACKNOWLEDGED, HANDOFF_AWAITING, HANDOFF_RETURNED, TRANSFER_TOPIC};
use super::lifecycle::{self, Effect, Snapshot};
use super::region::RegionIndex;
use super::sms;
use crate::model::time::{now_ms, render_time};
use crate::model::{
    Action, CenterRules, EmergencyLine, Principal, Role, Satisfaction, Status, UnitKind,
};
use crate::policy::access::{CaseScope, can_see_case, may_act_on_unit, scope_allows_action};
use crate::store::cases::{
    CaseRow, NewEvent, append_events, enqueue, enqueue_to, insert_follow_up, last_actor, lock_case,
    pending_extension_hours, update_case,
};
use crate::store::forward::clear_forward;
use crate::store::{Store, StoreError};

/// The actions a handling unit takes on its own cases; under separation of duties an admin
/// does not take them (it administers; the unit works the case).
const UNIT_ACTIONS: [Action; 5] = [
    Action::Sign,
    Action::Start,
    Action::Reply,
    Action::Return,
    Action::RequestExtension,
];

/// Whether separation of duties bars `p` from `action` whatever the case (the admin rule).
fn barred_by_role(center: &CenterRules, p: &Principal, action: Action) -> bool {
    center.separation_of_duties && p.role == Role::Admin && UNIT_ACTIONS.contains(&action)
}

/// Whether separation of duties bars `user_id`, who replied to the case as its unit, from
/// following it up or closing it (the replier does not also judge the reply).
pub fn barred_as_replier(
    center: &CenterRules,
    action: Action,
    user_id: i64,
    replier: Option<i64>,
) -> bool {
    center.separation_of_duties
        && matches!(action, Action::FollowUp | Action::Close)
        && replier == Some(user_id)
}

/// `POST /api/v1/cases/{id}/actions` body.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionInput {
    pub action: Action,
    #[serde(default)]
    pub note: Option<String>,
    /// Target unit of `dispatch`.
    #[serde(default)]
    pub unit: Option<String>,
    /// Category override at `dispatch` (the operator corrects the classifier).
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub satisfaction: Option<Satisfaction>,
    /// Hours asked for by `request_extension`.
    #[serde(default)]
    pub hours: Option<u32>,
    /// The line's incident number (警情编号) for `police_ack`.
    #[serde(default)]
    pub reference: Option<String>,
    /// The emergency line of `transfer_police` (`110` when not given).
    #[serde(default)]
    pub line: Option<EmergencyLine>,
    /// The unit's person responsible (责任人) named at `sign`; the signer when not given.
    #[serde(default)]
    pub assignee: Option<String>,
    /// The version the client saw; a stale one is a 409.
    #[serde(default)]
    pub expected_version: Option<i64>,
    /// The knowledge-base entry an `answer` gives (`engine::knowledge`): named in the event's
    /// detail and counted on the entry.
    #[serde(default)]
    pub knowledge: Option<i64>,
}

impl ActionInput {
    /// `action` with nothing else filled in.
    pub fn new(action: Action) -> ActionInput {
        ActionInput {
            action,
            note: None,
            unit: None,
            category: None,
            reason: None,
            satisfaction: None,
            hours: None,
            reference: None,
            line: None,
            assignee: None,
            expected_version: None,
            knowledge: None,
        }
    }
}

/// Longest note, reason or comment accepted.
pub const MAX_NOTE_CHARS: usize = 2000;

/// Whether `p` may see case `row` at all — [`can_see_case`] over the region's grid tree.
pub fn can_see(p: &Principal, region: &RegionIndex, row: &CaseRow) -> bool {
    can_see_case(
        p,
        CaseScope {
            channel: &row.channel,
            grid_code: row.grid_code.as_deref(),
            unit_id: row.unit_id.as_deref(),
            handoff_state: row.handoff_state.as_deref(),
            grid_task: row.grid_task.is_some(),
        },
        |g, ancestor| region.triage.grid_within(g, ancestor),
    )
}

/// Actions `p` may take on `row` now (scope and the admin's separation of duties included; the
/// replier rule needs the timeline, see [`barred_as_replier`]).
pub fn allowed_for(p: &Principal, row: &CaseRow, center: &CenterRules) -> Vec<&'static str> {
    if !may_act_on_unit(p, row.unit_id.as_deref()) {
        return Vec::new();
    }
    let scoped = |a: &Action| scope_allows_action(p, *a);
    let Some(status) = Status::parse(&row.status) else {
        return Vec::new();
    };
    lifecycle::allowed_actions(
        Snapshot {
            status,
            extension_pending: row.extension_requested != 0,
            grid_task_open: row.grid_task.as_deref() == Some("open"),
        },
        p.role,
    )
    .into_iter()
    .filter(scoped)
    .filter(|a| !barred_by_role(center, p, *a))
    .map(|a| a.as_str())
    .collect()
}

/// Applies `input` to case `public_id` as `principal`; returns the updated case.
pub async fn perform(
    store: &Store,
    region: &RegionIndex,
    principal: &Principal,
    public_id: &str,
    input: ActionInput,
) -> Result<CaseRow> {
    for (field, v) in [
        ("note", &input.note),
        ("reason", &input.reason),
        ("assignee", &input.assignee),
    ] {
        if v.as_deref()
            .is_some_and(|s| s.chars().count() > MAX_NOTE_CHARS)
        {
            return Err(Error::invalid(
                field,
                "too_long",
                format!("longer than {MAX_NOTE_CHARS} characters"),
            )
            .arg("max", MAX_NOTE_CHARS));
        }
    }
    if public_id.contains('\0') {
        return Err(Error::not_found("case_not_found", "case"));
    }
    if !scope_allows_action(principal, input.action) {
        return Err(Error::forbidden(
            "token_scope",
            format!(
                "this token's scope does not allow {}",
                input.action.as_str()
            ),
        )
        .arg("action", input.action.name_zh()));
    }
    if barred_by_role(&region.center, principal, input.action) {
        return Err(Error::forbidden(
            "separation_of_duties",
            format!(
                "separation of duties: an admin does not {} cases (the unit does)",
                input.action.as_str()
            ),
        )
        .arg("action", input.action.name_zh()));
    }
    let mut tx = store.write().await?;
    let row = match lock_case(&mut tx, store.engine(), public_id).await {
        Ok(r) => r,
        Err(StoreError::NotFound) => {
            return Err(Error::not_found(
                "case_not_found",
                format!("case {public_id}"),
            ));
        }
        Err(e) => return Err(e.into()),
    };
    if !can_see(principal, region, &row) && principal.scope.is_some() {
        return Err(Error::forbidden(
            "token_scope",
            format!("case {public_id} is outside this token's scope"),
        ));
    }
    // A grid worker acts only on what their cells may show them (the 网格任务 of their cells).
    if principal.role == Role::GridWorker && !can_see(principal, region, &row) {
        return Err(Error::not_found(
            "case_not_found",
            format!("case {public_id}"),
        ));
    }
    if input.action == Action::GridAssign && row.grid_code.is_none() {
        return Err(Error::invalid(
            "grid",
            "grid_task_no_cell",
            format!("case {public_id} has no grid unit: locate it first, then hand it to the grid"),
        ));
    }
    if !may_act_on_unit(principal, row.unit_id.as_deref()) {
        return Err(Error::forbidden(
            "case_not_your_unit",
            format!("case {public_id} is not assigned to your unit"),
        )
        .arg("case", public_id));
    }
    // 一事多诉: a case merged into an open one is handled with it.
    super::merge::refuse_parked(&mut tx, &row).await?;
    if let Some(v) = input.expected_version
        && v != row.version
    {
        return Err(Error::conflict(
            "stale_version",
            format!(
                "case {public_id} changed since you loaded it (version {v}, now {})",
                row.version
            ),
        )
        .arg("case", public_id)
        .with_detail(json!({"version": row.version})));
    }
    let status = Status::parse(&row.status)
        .ok_or_else(|| Error::internal(format!("unknown status {}", row.status)))?;
    let snap = Snapshot {
        status,
        extension_pending: row.extension_requested != 0,
        grid_task_open: row.grid_task.as_deref() == Some("open"),
    };
    let req = lifecycle::Request {
        note: input.note.clone(),
        unit: input.unit.clone(),
        reason: input.reason.clone(),
        satisfaction: input.satisfaction,
        hours: input.hours,
        reference: input.reference.clone(),
    };
    let t = lifecycle::decide(snap, principal.role, input.action, &req)?;

    let now = now_ms();
    let mut detail_assignee: Option<String> = None;
    let window = i64::from(region.center.reopen_window_days);
    if input.action == Action::Reopen
        && row.closed_at.is_some_and(|c| now - c > window * 86_400_000)
    {
        return Err(Error::conflict(
            "reopen_window",
            format!("case {public_id} closed more than {window} days ago"),
        )
        .arg("days", window));
    }
    if matches!(input.action, Action::FollowUp | Action::Close)
        && region.center.separation_of_duties
    {
        let replier = last_actor(&mut tx, row.id, "replied").await?;
        if barred_as_replier(&region.center, input.action, principal.user_id, replier) {
            return Err(Error::forbidden(
                "separation_of_duties_replier",
                format!(
                    "separation of duties: you replied to case {public_id}, someone else follows \
                     it up and closes it"
                ),
            ));
        }
    }
    if input.action == Action::Sign {
        let who = input
            .assignee
            .as_deref()
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .map(str::to_string)
            .unwrap_or_else(|| principal.name.clone());
        detail_assignee = Some(who);
    }
    if input.action == Action::Redispatch
        && input.unit.as_deref().map(str::trim) == row.unit_id.as_deref()
    {
        return Err(Error::invalid(
            "unit",
            "same_unit",
            "改派 goes to another unit than the one holding the case",
        ));
    }
    let mut next = row.clone();
    next.status = t.to.as_str().to_string();
    let mut outbox = Vec::new();
    let mut follow_up = None;
    let mut detail = json!({});
    // 当场答复 from the knowledge base: the entry must hold now; the event names it, the entry
    // counts it (analytics count `answered` as ever, reports the share from the knowledge base).
    if let Some(k) = input.knowledge {
        if input.action != Action::Answer {
            return Err(Error::invalid(
                "knowledge",
                "knowledge_answer_only",
                "a knowledge-base entry goes with the answer action (当场答复) only",
            ));
        }
        let entry = crate::store::knowledge::entry_in(&mut tx, k).await?;
        super::knowledge::usable(entry.as_ref(), k, now)?;
        crate::store::knowledge::count_answer(&mut tx, k).await?;
        detail["knowledge_entry"] = json!(k);
    }
    if let Some(a) = detail_assignee.take() {
        detail["assignee"] = json!(a);
    }
    // An unsatisfied 回访 of a merged child is redone by the unit that handled its parent.
    if input.action == Action::FollowUp
        && input.satisfaction == Some(Satisfaction::Unsatisfied)
        && let Some(unit) = super::merge::redo_unit(&mut tx, &row).await?
    {
        detail["unit"] = json!(unit);
        next.unit_id = Some(unit);
    }
    if input.action == Action::Dispatch {
        if let Some(code) = input
            .category
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())
        {
            let cat = region.category(code).ok_or_else(|| {
                Error::invalid(
                    "category",
                    "unknown_category",
                    format!("unknown category {code}"),
                )
                .arg("code", code)
            })?;
            if cat.police {
                return Err(Error::invalid(
                    "category",
                    "police_category_dispatch",
                    "a police category is transferred (transfer_police), not dispatched",
                ));
            }
            next.category_code = Some(cat.code.clone());
            next.priority = cat.priority.as_str().to_string();
            detail["category"] = json!(cat.code);
        }
        if next.category_code.is_none() {
            return Err(Error::invalid(
                "category",
                "category_missing",
                "the case has no category yet: give one with the dispatch",
            ));
        }
    }
    match input.action {
        Action::PoliceAck => {
            next.handoff_state = Some(HANDOFF_ACKNOWLEDGED.into());
            next.handoff_ref = input.reference.as_deref().map(|r| r.trim().to_string());
            next.handoff_at = Some(now);
        }
        Action::PoliceReturn => {
            // Back to the center as a civic request; the line it went to stays on record.
            next.handoff_state = Some(HANDOFF_RETURNED.into());
            next.handoff_at = Some(now);
            next.priority = crate::model::Priority::High.as_str().into();
        }
        Action::TransferPolice => {
            next.handoff_state = Some(HANDOFF_AWAITING.into());
            next.handoff_ref = None;
            next.handoff_at = Some(now);
        }
        _ => {}
    }
    if input.action == Action::TransferPolice {
        next.emergency_line = Some(
            input
                .line
                .unwrap_or(EmergencyLine::Police)
                .as_str()
                .to_string(),
        );
        next.priority = crate::model::Priority::Urgent.as_str().into();
    }
    for effect in &t.effects {
        match effect {
            Effect::AssignUnit(unit) => {
                if input.action == Action::Redispatch {
                    // Counted against the first unit (the 12345 scorecards' 改派 rule).
                    detail["previous_unit"] = json!(row.unit_id);
                }
                let info = region.unit(unit).ok_or_else(|| {
                    Error::invalid("unit", "unknown_unit", format!("unknown unit {unit}"))
                        .arg("unit", unit)
                })?;
                if matches!(info.kind, UnitKind::Police | UnitKind::Center) {
                    return Err(Error::invalid(
                        "unit",
                        "dispatch_not_handling_unit",
                        format!(
                            "{unit} is the {}; dispatch goes to a handling unit",
                            info.kind.name_zh()
                        ),
                    ));
                }
                next.unit_id = Some(unit.clone());
                next.dispatched_at = Some(now);
                detail["unit"] = json!(unit);
            }
            Effect::ClearUnit => {
                detail["previous_unit"] = json!(row.unit_id);
                next.unit_id = None;
            }
            Effect::StartDeadlines => {
                let cat = next
                    .category_code
                    .as_deref()
                    .and_then(|c| region.category(c))
                    .ok_or_else(|| {
                        Error::invalid("category", "category_missing", "the case has no category")
                    })?;
                next.sign_due = Some(now + i64::from(cat.sign_minutes) * 60_000);
                next.close_due = Some(now + i64::from(cat.close_hours) * 3_600_000);
                next.dispatched_at = Some(now);
                next.signed_at = None;
                next.overdue_sign = 0;
                next.overdue_close = 0;
                next.escalation_step = 0;
                detail["sign_due"] = json!(next.sign_due.map(render_time));
                detail["close_due"] = json!(next.close_due.map(render_time));
            }
            Effect::ClearDeadlines => {
                next.sign_due = None;
                next.close_due = None;
            }
            Effect::ExtensionPending(b) => next.extension_requested = i64::from(*b),
            Effect::ExtendCloseDue(_) => {
                let hours = pending_extension_hours(&mut tx, row.id).await?.unwrap_or(0);
                let base = row.close_due.unwrap_or(now);
                next.close_due = Some(base + hours * 3_600_000);
                if next.close_due > Some(now) {
                    // A new deadline in the future: the overdue mark and escalation start over.
                    next.overdue_close = 0;
                    next.escalation_step = 0;
                }
                detail["hours"] = json!(hours);
                detail["close_due"] = json!(next.close_due.map(render_time));
            }
            Effect::Supervised => next.supervised = 1,
            Effect::RecordFollowUp(s) => {
                next.satisfaction = Some(s.as_str().to_string());
                follow_up = Some(*s);
                detail["satisfaction"] = json!(s.as_str());
            }
            Effect::Redo => next.redo_count += 1,
            Effect::GridTask(open) => {
                next.grid_task = Some(if *open { "open" } else { "done" }.into());
                if *open {
                    detail["grid"] = json!(row.grid_code);
                }
            }
            Effect::AnsweredOnCall => {
                next.replied_at = Some(now);
                next.closed_at = Some(now);
            }
            Effect::Reopened => {
                detail["closed_at"] = json!(row.closed_at.map(render_time));
                next.closed_at = None;
                next.replied_at = None;
                next.signed_at = None;
                next.satisfaction = None;
                next.priority = crate::model::Priority::High.as_str().into();
            }
            Effect::NotifyUnit => outbox.push((
                "case.urged",
                json!({"case": row.public_id, "unit": row.unit_id, "note": input.note, "at": render_time(now)}),
            )),
            Effect::NotifyPolice => outbox.push((
                TRANSFER_TOPIC,
                json!({
                    "case": row.public_id,
                    "line": next.emergency_line,
                    "platform": input
                        .line
                        .or(Some(EmergencyLine::Police))
                        .and_then(|l| region.emergency_platform(l))
                        .map(|p| p.id.clone()),
                    "content": row.content,
                    "address": row.address,
                    "grid_code": row.grid_code,
                    "lat": row.lat,
                    "lon": row.lon,
                    "caller_phone": row.caller_phone,
                    "note": input.note.clone().or(input.reason.clone()),
                    "at": render_time(now),
                }),
            )),
        }
    }
    match input.action {
        Action::Sign => next.signed_at = Some(now),
        Action::Reply => next.replied_at = Some(now),
        Action::Close => next.closed_at = Some(now),
        Action::RequestExtension => {
            detail["hours"] = json!(input.hours);
        }
        Action::Supervise => outbox.push((
            "case.supervised",
            json!({"case": row.public_id, "unit": row.unit_id, "note": input.note, "at": render_time(now)}),
        )),
        _ => {}
    }
    if let Some(r) = &input.reason {
        detail["reason"] = json!(r);
    }
    // The center user who takes the case is responsible for it until it closes.
    if next.operator_id.is_none() && principal.role.is_center() {
        next.operator_id = Some(principal.user_id);
    }
    update_case(&mut tx, &next, now).await?;
    let event = NewEvent {
        kind: t.event.to_string(),
        from_status: Some(t.from.as_str().to_string()),
        to_status: Some(t.to.as_str().to_string()),
        actor_id: Some(principal.user_id),
        unit_id: next.unit_id.clone().or(row.unit_id.clone()),
        note: input
            .note
            .clone()
            .or(input.reason.clone())
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty()),
        detail: Some(detail),
    };
    append_events(&mut tx, row.id, &[event], now, None).await?;
    // 一事多诉: the cases merged into this one follow it to the reply and the close.
    if input.action == Action::Reply {
        let answer = input.note.as_deref().map(str::trim);
        super::merge::children_reply(
            &mut tx,
            store.engine(),
            region,
            principal,
            &next,
            answer,
            now,
        )
        .await?;
    }
    if t.to == Status::Closed {
        super::merge::children_close(
            &mut tx,
            store.engine(),
            principal,
            &next,
            input.reason.as_deref(),
            input.note.as_deref(),
            now,
        )
        .await?;
    }
    if let Some(s) = follow_up {
        insert_follow_up(
            &mut tx,
            row.id,
            Some(principal.user_id),
            s.as_str(),
            input.note.as_deref(),
            now,
        )
        .await?;
    }
    if t.to == Status::Dispatched
        && let Some(unit) = next.unit_id.as_deref()
        && let Some((platform, state)) = region.forward_route(unit)
    {
        // A fresh forward: the platform's id of an earlier one (before a 重办) must not be
        // pulled again, or its old close would close this one.
        clear_forward(&mut tx, row.id).await?;
        let facts = forward::Facts {
            case: &row.public_id,
            category: next.category_code.as_deref(),
            content: &row.content,
            address: row.address.as_deref(),
            grid_code: row.grid_code.as_deref(),
            lat: row.lat,
            lon: row.lon,
            caller_phone: row.caller_phone.as_deref(),
            caller_name: row.caller_name.as_deref(),
            unit,
            close_due: next.close_due,
        };
        let payload = forward::payload(region, &facts, now);
        enqueue_to(&mut tx, FORWARD_TOPIC, &payload, Some(platform), state, now).await?;
    }
    if input.action == Action::Reply
        && let Some(phone) = row.caller_phone.as_deref()
    {
        let text = sms::survey_text(region, &row.public_id, input.note.as_deref());
        sms::queue(&mut tx, region, phone, row.id, sms::SURVEY, &text, now).await?;
    }
    for (topic, payload) in &outbox {
        if *topic == TRANSFER_TOPIC {
            let line = input.line.unwrap_or(EmergencyLine::Police);
            let (platform, state) = region.transfer_route(line);
            enqueue_to(&mut tx, topic, payload, platform, state, now).await?;
        } else {
            enqueue(&mut tx, topic, payload, now).await?;
        }
    }
    tx.commit().await?;
    next.version += 1;
    next.updated_at = now;
    Ok(next)
}
