/*!
一事多诉 decided: the center **merges** a suggested near-duplicate into the case it repeats, or
**dismisses** the suggestion. Suggestions themselves are [`super::duplicates`].

The model (no new case status — a link, `case_links`, and timeline events):

- **Merge** `child` into `parent` ([`merge`]): both open and visible, different; the child not
  yet replied to (a replied case is followed up and closed on its own) nor forwarded to another
  platform (12345 holds it); the parent not itself a child (refused with a 409 naming the case it was
  merged into: merge into that one); a child already merged is refused too. The child's own
  children move to the new parent (the tree stays one level deep). Events: `merged` on the child
  (and on every moved child), `merged_in` on the parent, one per child; an audit row
  `case.merge`; all in ONE write transaction. A child a unit holds (intake dispatches most
  requests at once) leaves the unit: the merge takes it back to 已受理 (unit and deadlines
  cleared; the `merged` event records the status and unit it left), like a 退单 that counts
  against nobody — the unit works the parent.
- **Meanwhile** a merged child is 已受理 (or 已退单) and *parked*: no action applies to it while
  its parent is open ([`parked_in`]; `actions::perform` refuses with `merged_child`), the queue's
  new and returned views hide it, and it is no longer suggested nor listed as similar.
- **The child follows the parent** (`actions::perform` calls [`children_reply`] and
  [`children_close`] in the parent's transaction): when the unit replies to the parent, every
  parked child becomes 已反馈 too, with its own `replied` event (`detail.with_parent`) and the
  回访 text to its caller; its caller is then followed up on the child with the ordinary
  `follow_up` action (its own event, its own satisfaction in the analytics). When the parent
  closes, every child that follows it closes with it, each with its own `closed` event
  (`detail.with_parent`) — under the same rule as a case of its own: a replied child whose caller
  has not been followed up closes only with a reason from a role that may close without a
  follow-up, otherwise the parent's close is refused naming the child. An unsatisfied 回访 of a
  child is 重办 of the child itself, sent to the unit that handled the parent; from then on it is
  worked on its own and no longer closes with the parent. A parent handed to an emergency line
  releases its parked children (they show in the queue again).
- **Dismiss** ([`dismiss`]): the pair is recorded as not the same problem and never suggested
  again, either way round (`case.dismiss_duplicate` audited). Merging the pair later replaces the
  dismissal.
*/

use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::AnyConnection;

use super::actions::{MAX_NOTE_CHARS, can_see};
use super::error::{Error, Result};
use super::lifecycle::{self, Snapshot};
use super::region::RegionIndex;
use super::sms;
use crate::model::time::now_ms;
use crate::model::{Action, Principal, Status};
use crate::policy::access::may_merge;
use crate::store::audit::{NewAudit, record_audit};
use crate::store::cases::{CaseRow, NewEvent, append_events, lock_case, update_case};
use crate::store::duplicates::{
    self as links, LinkKind, ParentRef, close_children, insert_link, lock_following, move_children,
    parent_of,
};
use crate::store::{Engine, Store, StoreError};

/// Longest case id accepted in `into` (public ids are about 25 characters).
const MAX_ID_CHARS: usize = 64;

/// `POST /api/v1/cases/{id}/merge` body.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MergeInput {
    /// The public id of the case this one repeats.
    pub into: String,
    #[serde(default)]
    pub note: Option<String>,
}

/// `POST /api/v1/cases/{id}/similar/{other}/dismiss` body (optional).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DismissInput {
    #[serde(default)]
    pub note: Option<String>,
}

/// What a merge did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Merged {
    pub child: String,
    pub parent: String,
    /// The child's own children, moved to the parent with it.
    pub moved: Vec<String>,
    /// The children that became 已反馈 at once because the parent already was.
    pub replied: Vec<String>,
}

/// What the merge rules need to know about one side.
#[derive(Debug, Clone, PartialEq)]
pub struct Side<'a> {
    pub public_id: &'a str,
    pub status: &'a str,
    /// The case this one is merged into, if any.
    pub merged_into: Option<&'a str>,
}

fn is_open(status: &str) -> bool {
    Status::parse(status).is_some_and(Status::is_open)
}

/// Whether a child in `status` is still with the center (and so may be merged, and is parked
/// while merged): 已受理 or 已退单.
pub fn with_center(status: &str) -> bool {
    matches!(status, "received" | "returned")
}

/// Whether a child in `status` is with a unit that has not replied yet: the merge takes it back.
fn with_unit(status: &str) -> bool {
    matches!(status, "dispatched" | "signed" | "in_progress")
}

/// Whether a case in `status` may join another (not yet replied to; the rest is [`check`]'s).
pub fn may_join(status: &str) -> bool {
    with_center(status) || with_unit(status)
}

/// The merge rules over the two sides (pure; the transaction reads the sides).
pub fn check(child: &Side<'_>, parent: &Side<'_>) -> Result<()> {
    if child.public_id == parent.public_id {
        return Err(Error::conflict(
            "merge_self",
            format!("case {} cannot be merged into itself", child.public_id),
        )
        .arg("case", child.public_id));
    }
    for side in [child, parent] {
        if !is_open(side.status) {
            return Err(Error::conflict(
                "merge_closed",
                format!(
                    "case {} is {}: only open cases are merged",
                    side.public_id, side.status
                ),
            )
            .arg("case", side.public_id));
        }
    }
    if let Some(p) = child.merged_into {
        return Err(Error::conflict(
            "merge_already",
            format!("case {} is already merged into {p}", child.public_id),
        )
        .arg("case", child.public_id)
        .arg("parent", p));
    }
    if let Some(root) = parent.merged_into {
        return Err(Error::conflict(
            "merge_into_child",
            format!(
                "case {} is itself merged into {root}: merge into {root}",
                parent.public_id
            ),
        )
        .arg("case", parent.public_id)
        .arg("root", root)
        .with_detail(json!({"root": root})));
    }
    if !with_center(child.status) && !with_unit(child.status) {
        return Err(Error::conflict(
            "merge_child_replied",
            format!(
                "case {} is {}: follow its caller up and close it on its own",
                child.public_id, child.status
            ),
        )
        .arg("case", child.public_id));
    }
    Ok(())
}

fn check_note(note: Option<&str>) -> Result<Option<String>> {
    let note = note.map(str::trim).filter(|n| !n.is_empty());
    if note.is_some_and(|n| n.chars().count() > MAX_NOTE_CHARS) {
        return Err(Error::invalid(
            "note",
            "too_long",
            format!("longer than {MAX_NOTE_CHARS} characters"),
        )
        .arg("max", MAX_NOTE_CHARS));
    }
    Ok(note.map(str::to_string))
}

fn refuse_role(p: &Principal) -> Result<()> {
    if may_merge(p) {
        return Ok(());
    }
    Err(Error::forbidden(
        "merge_forbidden",
        "only the service center merges cases or dismisses suggestions",
    ))
}

fn not_found(id: &str) -> Error {
    Error::not_found("case_not_found", format!("case {}", id.replace('\0', "")))
}

/// The child as the merge leaves it, and its `merged` event (actor, note, detail to fill in): a
/// case a unit holds comes back to 已受理 without unit, deadlines or pending extension.
fn withdraw(child: &CaseRow) -> (CaseRow, NewEvent) {
    let mut back = child.clone();
    let mut event = NewEvent {
        kind: "merged".into(),
        ..NewEvent::default()
    };
    if with_unit(&child.status) {
        back.status = Status::Received.as_str().into();
        back.unit_id = None;
        back.sign_due = None;
        back.close_due = None;
        back.extension_requested = 0;
        back.overdue_sign = 0;
        back.overdue_close = 0;
        back.escalation_step = 0;
        event.from_status = Some(child.status.clone());
        event.to_status = Some(back.status.clone());
        event.unit_id = child.unit_id.clone();
    }
    (back, event)
}

async fn lock_opt(conn: &mut AnyConnection, engine: Engine, id: &str) -> Result<Option<CaseRow>> {
    match lock_case(conn, engine, id).await {
        Ok(r) => Ok(Some(r)),
        Err(StoreError::NotFound) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Locks the cases `a` and `b` (in one order, so two merges never deadlock); `None` for one that
/// does not exist.
async fn lock_pair(
    conn: &mut AnyConnection,
    engine: Engine,
    a: &str,
    b: &str,
) -> Result<(Option<CaseRow>, Option<CaseRow>)> {
    if a <= b {
        let ra = lock_opt(conn, engine, a).await?;
        Ok((ra, lock_opt(conn, engine, b).await?))
    } else {
        let rb = lock_opt(conn, engine, b).await?;
        Ok((lock_opt(conn, engine, a).await?, rb))
    }
}

/// Merges case `child_id` into `input.into` as `principal` (see the module docs).
pub async fn merge(
    store: &Store,
    region: &RegionIndex,
    principal: &Principal,
    child_id: &str,
    input: &MergeInput,
) -> Result<Merged> {
    refuse_role(principal)?;
    let note = check_note(input.note.as_deref())?;
    let into = input.into.trim();
    if into.is_empty() {
        return Err(Error::invalid(
            "into",
            "into_missing",
            "name the case this one repeats (into)",
        ));
    }
    let unknown = || {
        Error::invalid(
            "into",
            "into_unknown",
            format!("no case {into} you may see"),
        )
        .arg("case", into.replace('\0', ""))
    };
    if into.contains('\0') || into.chars().count() > MAX_ID_CHARS {
        return Err(unknown());
    }
    if child_id.contains('\0') {
        return Err(not_found(child_id));
    }
    let mut tx = store.write().await?;
    let engine = tx.engine();
    let (child, parent) = lock_pair(&mut tx, engine, child_id, into).await?;
    let child = child
        .filter(|c| can_see(principal, region, c))
        .ok_or_else(|| not_found(child_id))?;
    let parent = parent
        .filter(|p| can_see(principal, region, p))
        .ok_or_else(unknown)?;
    let child_parent = parent_of(&mut tx, child.id).await?;
    let parent_parent = parent_of(&mut tx, parent.id).await?;
    check(
        &Side {
            public_id: &child.public_id,
            status: &child.status,
            merged_into: child_parent.as_ref().map(|p| p.public_id.as_str()),
        },
        &Side {
            public_id: &parent.public_id,
            status: &parent.status,
            merged_into: parent_parent.as_ref().map(|p| p.public_id.as_str()),
        },
    )?;
    if let Some(unit) = child.unit_id.as_deref()
        && region.forward_route(unit).is_some()
    {
        return Err(Error::conflict(
            "merge_child_forwarded",
            format!(
                "case {} went to {unit} on another platform: it is closed there",
                child.public_id
            ),
        )
        .arg("case", &child.public_id));
    }
    let now = now_ms();
    insert_link(
        &mut tx,
        child.id,
        parent.id,
        LinkKind::Merged,
        Some(principal.user_id),
        note.as_deref(),
        now,
    )
    .await?;
    let moved_ids = move_children(&mut tx, child.id, parent.id).await?;
    // The child changed (a form loaded before the merge is stale); one a unit holds comes back.
    let (back, mut first) = withdraw(&child);
    update_case(&mut tx, &back, now).await?;
    let merged_event = |detail: serde_json::Value| NewEvent {
        kind: "merged".into(),
        actor_id: Some(principal.user_id),
        note: note.clone(),
        detail: Some(detail),
        ..NewEvent::default()
    };
    first.actor_id = Some(principal.user_id);
    first.note = note.clone();
    first.detail = Some(json!({"parent": parent.public_id, "previous_unit": child.unit_id}));
    append_events(&mut tx, child.id, &[first], now, None).await?;
    let mut moved = Vec::new();
    for id in &moved_ids {
        let public_id = links::public_id(&mut tx, *id).await?;
        append_events(
            &mut tx,
            *id,
            &[merged_event(
                json!({"parent": parent.public_id, "from": child.public_id}),
            )],
            now,
            None,
        )
        .await?;
        moved.push(public_id);
    }
    let parent_events: Vec<NewEvent> = std::iter::once(&child.public_id)
        .chain(&moved)
        .map(|c| NewEvent {
            kind: "merged_in".into(),
            actor_id: Some(principal.user_id),
            note: note.clone(),
            detail: Some(if *c == child.public_id {
                json!({"child": c})
            } else {
                json!({"child": c, "via": child.public_id})
            }),
            ..NewEvent::default()
        })
        .collect();
    append_events(&mut tx, parent.id, &parent_events, now, None).await?;
    // A parent already replied: the new children are replied with it (their callers are owed
    // the follow-up too).
    let replied = if matches!(parent.status.as_str(), "replied" | "followed_up") {
        let answer = links::last_note(&mut tx, parent.id, "replied").await?;
        children_reply(
            &mut tx,
            engine,
            region,
            principal,
            &parent,
            answer.as_deref(),
            now,
        )
        .await?
    } else {
        Vec::new()
    };
    let target = format!("case:{}", child.public_id);
    record_audit(
        &mut tx,
        &NewAudit::by(principal, "case.merge", Some(&target)).with_detail(json!({
            "into": parent.public_id, "moved": moved, "note": note,
        })),
    )
    .await?;
    tx.commit().await?;
    Ok(Merged {
        child: child.public_id,
        parent: parent.public_id,
        moved,
        replied,
    })
}

/// Records that `case_id` and `other_id` are not the same problem (see the module docs).
/// Idempotent: dismissing a dismissed pair again changes nothing.
pub async fn dismiss(
    store: &Store,
    region: &RegionIndex,
    principal: &Principal,
    case_id: &str,
    other_id: &str,
    input: &DismissInput,
) -> Result<()> {
    refuse_role(principal)?;
    let note = check_note(input.note.as_deref())?;
    for id in [case_id, other_id] {
        if id.contains('\0') || id.chars().count() > MAX_ID_CHARS {
            return Err(not_found(id));
        }
    }
    let mut tx = store.write().await?;
    let engine = tx.engine();
    let (a, b) = lock_pair(&mut tx, engine, case_id, other_id).await?;
    let a = a
        .filter(|c| can_see(principal, region, c))
        .ok_or_else(|| not_found(case_id))?;
    let b = b
        .filter(|c| can_see(principal, region, c))
        .ok_or_else(|| not_found(other_id))?;
    if a.id == b.id {
        return Err(Error::conflict(
            "merge_self",
            format!("case {case_id} is itself, not a duplicate"),
        )
        .arg("case", case_id));
    }
    let pa = parent_of(&mut tx, a.id).await?;
    let pb = parent_of(&mut tx, b.id).await?;
    if pa.as_ref().is_some_and(|p| p.id == b.id) || pb.as_ref().is_some_and(|p| p.id == a.id) {
        return Err(Error::conflict(
            "dismiss_merged",
            format!("{case_id} and {other_id} are merged: they are one problem"),
        )
        .arg("case", case_id)
        .arg("other", other_id));
    }
    if links::dismissed(&mut tx, a.id, b.id).await? {
        return Ok(());
    }
    let now = now_ms();
    insert_link(
        &mut tx,
        a.id,
        b.id,
        LinkKind::Dismissed,
        Some(principal.user_id),
        note.as_deref(),
        now,
    )
    .await?;
    let target = format!("case:{}", a.public_id);
    record_audit(
        &mut tx,
        &NewAudit::by(principal, "case.dismiss_duplicate", Some(&target))
            .with_detail(json!({"other": b.public_id, "note": note})),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The parent a merged child waits for while it is parked (still with the center, its parent
/// open): no action applies to it then, and the queues leave it out.
pub async fn parked_in(store: &Store, row: &CaseRow) -> Result<Option<String>, StoreError> {
    if !with_center(&row.status) {
        return Ok(None);
    }
    Ok(store
        .merged_into(row.id)
        .await?
        .filter(parks)
        .map(|p| p.public_id))
}

/// Whether a parent in this state parks its children (open and not with an emergency line).
fn parks(p: &ParentRef) -> bool {
    is_open(&p.status)
}

/// For `actions::perform`, in its transaction: refuses any action on a parked child.
pub(super) async fn refuse_parked(conn: &mut AnyConnection, row: &CaseRow) -> Result<()> {
    if !with_center(&row.status) {
        return Ok(());
    }
    if let Some(p) = parent_of(conn, row.id).await?.filter(parks) {
        return Err(Error::conflict(
            "merged_child",
            format!(
                "case {} is merged into {}: it is handled with {}",
                row.public_id, p.public_id, p.public_id
            ),
        )
        .arg("case", &row.public_id)
        .arg("parent", &p.public_id)
        .with_detail(json!({"parent": p.public_id})));
    }
    Ok(())
}

/// For `actions::perform`: the unit an unsatisfied 回访 of a merged child is redone by (the unit
/// that handled its parent), when the child has none of its own.
pub(super) async fn redo_unit(conn: &mut AnyConnection, row: &CaseRow) -> Result<Option<String>> {
    if row.unit_id.is_some() {
        return Ok(None);
    }
    Ok(parent_of(conn, row.id).await?.and_then(|p| p.unit_id))
}

/// The parent was replied to: its parked children become 已反馈 with it, each with its own
/// event and the 回访 text to its caller. Returns their public ids.
pub(super) async fn children_reply(
    conn: &mut AnyConnection,
    engine: Engine,
    region: &RegionIndex,
    principal: &Principal,
    parent: &CaseRow,
    answer: Option<&str>,
    now: i64,
) -> Result<Vec<String>> {
    let children = lock_following(conn, engine, parent.id).await?;
    let mut out = Vec::new();
    for child in children.into_iter().filter(|c| with_center(&c.status)) {
        let mut next = child.clone();
        next.status = Status::Replied.as_str().into();
        next.replied_at = Some(now);
        update_case(conn, &next, now).await?;
        let event = NewEvent {
            kind: Action::Reply.event_kind().into(),
            from_status: Some(child.status.clone()),
            to_status: Some(next.status.clone()),
            actor_id: Some(principal.user_id),
            unit_id: parent.unit_id.clone(),
            note: answer.map(str::to_string),
            detail: Some(json!({"with_parent": parent.public_id})),
        };
        append_events(conn, child.id, &[event], now, None).await?;
        if let Some(phone) = child.caller_phone.as_deref() {
            let text = sms::survey_text(region, &child.public_id, answer);
            sms::queue(conn, region, phone, child.id, sms::SURVEY, &text, now).await?;
        }
        out.push(child.public_id);
    }
    Ok(out)
}

/// The parent closed: every child following it closes with it (see the module docs); a replied
/// child not followed up needs what closing it on its own would need. Returns their public ids.
pub(super) async fn children_close(
    conn: &mut AnyConnection,
    engine: Engine,
    principal: &Principal,
    parent: &CaseRow,
    reason: Option<&str>,
    note: Option<&str>,
    now: i64,
) -> Result<Vec<String>> {
    let children = lock_following(conn, engine, parent.id).await?;
    for child in &children {
        let Some(status) = Status::parse(&child.status) else {
            continue;
        };
        if with_center(&child.status) {
            continue;
        }
        let req = lifecycle::Request {
            reason: reason.map(str::to_string),
            ..lifecycle::Request::default()
        };
        let snap = Snapshot {
            status,
            extension_pending: false,
            grid_task_open: false,
        };
        if lifecycle::decide(snap, principal.role, Action::Close, &req).is_err() {
            return Err(Error::conflict(
                "merge_child_not_followed_up",
                format!(
                    "case {} (merged into {}) has not been followed up: follow its caller up \
                     first, or close with a reason",
                    child.public_id, parent.public_id
                ),
            )
            .arg("case", &child.public_id)
            .with_detail(json!({"child": child.public_id})));
        }
    }
    let text = note.or(reason);
    Ok(close_children(
        conn,
        engine,
        parent.id,
        &parent.public_id,
        Some(principal.user_id),
        text,
        now,
    )
    .await?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::ErrorKind;

    fn side<'a>(id: &'a str, status: &'a str, into: Option<&'a str>) -> Side<'a> {
        Side {
            public_id: id,
            status,
            merged_into: into,
        }
    }

    fn key(r: Result<()>) -> (ErrorKind, &'static str) {
        let e = r.unwrap_err();
        (e.kind, e.key)
    }

    #[test]
    fn a_new_request_merges_into_an_open_case() {
        for parent in [
            "received",
            "dispatched",
            "in_progress",
            "replied",
            "followed_up",
        ] {
            assert!(check(&side("B", "received", None), &side("A", parent, None)).is_ok());
        }
        assert!(check(&side("B", "returned", None), &side("A", "signed", None)).is_ok());
        // Intake dispatched the repeat at once: the merge takes it back from the unit.
        for s in ["dispatched", "signed", "in_progress"] {
            assert!(check(&side("B", s, None), &side("A", "dispatched", None)).is_ok());
        }
    }

    #[test]
    fn the_rules_refuse_with_a_conflict_naming_why() {
        let c = ErrorKind::Conflict;
        assert_eq!(
            key(check(
                &side("A", "received", None),
                &side("A", "received", None)
            )),
            (c, "merge_self")
        );
        assert_eq!(
            key(check(
                &side("B", "received", None),
                &side("A", "closed", None)
            )),
            (c, "merge_closed")
        );
        assert_eq!(
            key(check(
                &side("B", "transferred_police", None),
                &side("A", "received", None)
            )),
            (c, "merge_closed")
        );
        assert_eq!(
            key(check(
                &side("B", "received", Some("C")),
                &side("A", "received", None)
            )),
            (c, "merge_already")
        );
        // Into a child: refused, naming the root to merge into.
        let e = check(
            &side("B", "received", None),
            &side("A", "received", Some("R")),
        )
        .unwrap_err();
        assert_eq!((e.kind, e.key), (c, "merge_into_child"));
        assert_eq!(e.detail, Some(json!({"root": "R"})));
        // A case replied to is followed up and closed on its own.
        for s in ["replied", "followed_up"] {
            assert_eq!(
                key(check(&side("B", s, None), &side("A", "received", None))),
                (c, "merge_child_replied"),
                "{s}"
            );
        }
    }

    #[test]
    fn only_the_center_merges() {
        use crate::model::Role;
        let p = |role: Role| Principal {
            user_id: 1,
            name: "u".into(),
            role,
            unit_id: None,
            grid_codes: Vec::new(),
            scope: None,
        };
        for role in [
            Role::Admin,
            Role::Supervisor,
            Role::Operator,
            Role::Dispatcher,
        ] {
            assert!(refuse_role(&p(role)).is_ok(), "{role:?}");
        }
        for role in [
            Role::UnitHandler,
            Role::GridWorker,
            Role::Analyst,
            Role::Auditor,
        ] {
            assert_eq!(
                refuse_role(&p(role)).unwrap_err().kind,
                ErrorKind::Forbidden,
                "{role:?}"
            );
        }
    }

    #[test]
    fn a_long_note_names_the_field() {
        let long = "字".repeat(MAX_NOTE_CHARS + 1);
        let e = check_note(Some(&long)).unwrap_err();
        assert_eq!(
            (e.kind, e.field.as_deref()),
            (ErrorKind::Invalid, Some("note"))
        );
        assert_eq!(check_note(Some("  ")).unwrap(), None);
    }
}
