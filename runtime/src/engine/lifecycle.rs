/*!
The case lifecycle (the GB/T 33358 ticket) as a pure state machine: status × action × role → the
next status and its effects, or a precise error saying why not.

```text
received ──dispatch──▶ dispatched ──sign──▶ signed ──start──▶ in_progress ──reply──▶ replied
   │  ▲                  │  ▲                 │                   │                    │
   │  └──dispatch── returned ◀──return────────┴───────────────────┘             follow_up
   │                     │                                                           │
   └─transfer_police─▶ transferred_police ◀─transfer_police─┘      (unsatisfied: redo ─▶ dispatched)
                                                                                      ▼
                                                          closed ◀──close── followed_up
```

Side flags that do not change the status: 延期 (`request_extension` → pending, then
`grant_extension` moves the 办结 deadline or `deny_extension` clears it) and 督办 (`supervise`).

Closing without a follow-up: the center (admin, supervisor, dispatcher) may close a `replied` case
when the citizen declined or could not be reached for the follow-up; a `reason` is then required
and recorded on the event. Operators close only after a follow-up.

This module knows nothing about storage or HTTP: the service layer loads the case, asks
[`decide`] what to do, applies the [`Effect`]s and writes the event in one transaction. Unit
scoping (a unit handler acts only on its own unit's cases) is checked by the service layer, which
knows the case's unit; this module checks the role × action matrix and the status.
*/

use serde_json::json;

use super::error::Error;
use crate::model::{Action, Role, Satisfaction, Status};

/// What the state machine needs to know about a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Snapshot {
    pub status: Status,
    /// A 延期 request is waiting for the center's decision.
    pub extension_pending: bool,
    /// A 网格任务 is waiting for the grid workers' answer.
    pub grid_task_open: bool,
}

/// The user's request, already parsed from JSON or a form.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Request {
    pub note: Option<String>,
    pub unit: Option<String>,
    pub reason: Option<String>,
    pub satisfaction: Option<Satisfaction>,
    /// Extension length for `request_extension`.
    pub hours: Option<u32>,
    /// The line's incident number for `police_ack`.
    pub reference: Option<String>,
}

/// The longest extension one request may ask for (30 days).
pub const MAX_EXTENSION_HOURS: u32 = 720;

/// A change the service layer applies together with the status change and the event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Assign the case to this unit.
    AssignUnit(String),
    /// The case goes back to the center's queue (no unit holds it).
    ClearUnit,
    /// Start fresh 签收/办结 deadlines from the category's durations, counted from now.
    StartDeadlines,
    /// Stop the deadlines (the case left the units).
    ClearDeadlines,
    /// Mark a 延期 request pending (`true`) or settled (`false`).
    ExtensionPending(bool),
    /// Move the 办结 deadline later by this many hours.
    ExtendCloseDue(u32),
    /// Set the 督办 flag.
    Supervised,
    /// Record a follow-up with this outcome.
    RecordFollowUp(Satisfaction),
    /// 重办: the redo counter goes up.
    Redo,
    /// Hand the case to police dispatch through the outbox.
    NotifyPolice,
    /// Answered on the call: replied and closed now.
    AnsweredOnCall,
    /// Reopened: no longer replied or closed (the history stays in the timeline).
    Reopened,
    /// A 催办 reminder to the unit (through the outbox).
    NotifyUnit,
    /// Open (`true`) or answer (`false`) the case's 网格任务.
    GridTask(bool),
}

/// The decision for one action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    pub action: Action,
    pub from: Status,
    pub to: Status,
    /// Timeline event kind.
    pub event: &'static str,
    pub effects: Vec<Effect>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LifecycleError {
    #[error("role {role} may not {action}", role = .role.as_str(), action = .action.as_str())]
    Forbidden { role: Role, action: Action },
    #[error("cannot {action} a case that is {status}: {why}; allowed now: {allowed}",
        action = .action.as_str(), status = .status.as_str(), allowed = list(.allowed))]
    Illegal {
        status: Status,
        action: Action,
        why: String,
        allowed: Vec<Action>,
    },
    #[error("{field}: {message}")]
    Missing {
        field: &'static str,
        message: &'static str,
    },
}

fn list(actions: &[Action]) -> String {
    if actions.is_empty() {
        return "none".into();
    }
    actions
        .iter()
        .map(|a| a.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Actions `role` may take on a case in `snap` right now (for 409 messages and the console).
pub fn allowed_actions(snap: Snapshot, role: Role) -> Vec<Action> {
    // Asked of `decide` itself with every input filled in, so what the console offers can never
    // disagree with what the service accepts (it once offered 办结 to operators on a replied
    // case, which `decide` refuses: operators close only after a follow-up).
    let complete = Request {
        note: Some("-".into()),
        unit: Some("-".into()),
        reason: Some("-".into()),
        satisfaction: Some(Satisfaction::Satisfied),
        hours: Some(1),
        reference: Some("-".into()),
    };
    Action::ALL
        .into_iter()
        .filter(|a| judge(snap, role, *a, &complete, false).is_ok())
        .collect()
}

/// Checks status and flags only; `Err` carries the reason.
fn status_allows(action: Action, snap: Snapshot) -> Result<(), String> {
    if !action.from_statuses().contains(&snap.status) {
        let from = action
            .from_statuses()
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(" or ");
        return Err(format!("{} needs a case that is {from}", action.as_str()));
    }
    match action {
        Action::RequestExtension if snap.extension_pending => {
            Err("an extension request is already pending".into())
        }
        Action::GrantExtension | Action::DenyExtension if !snap.extension_pending => {
            Err("no extension request is pending".into())
        }
        Action::GridAssign if snap.grid_task_open => {
            Err("the grid workers have not answered the last task yet".into())
        }
        Action::GridReply if !snap.grid_task_open => {
            Err("no grid task is open on this case".into())
        }
        // Nothing else waits for the grid: the center may dispatch, answer or transfer a case
        // before its grid workers answered; the task then lapses (a task is listed only while
        // the center holds the case).
        _ => Ok(()),
    }
}

/// Decides what `role` asking for `action` with `req` does to a case in `snap`.
pub fn decide(
    snap: Snapshot,
    role: Role,
    action: Action,
    req: &Request,
) -> Result<Transition, LifecycleError> {
    judge(snap, role, action, req, true)
}

/// [`decide`]; `list_allowed` fills an illegal transition's `allowed` list (off when
/// [`allowed_actions`] itself asks, which would otherwise recurse).
fn judge(
    snap: Snapshot,
    role: Role,
    action: Action,
    req: &Request,
    list_allowed: bool,
) -> Result<Transition, LifecycleError> {
    let allowed = || {
        if list_allowed {
            allowed_actions(snap, role)
        } else {
            Vec::new()
        }
    };
    if !action.roles().contains(&role) {
        return Err(LifecycleError::Forbidden { role, action });
    }
    if let Err(why) = status_allows(action, snap) {
        return Err(LifecycleError::Illegal {
            status: snap.status,
            action,
            why,
            allowed: allowed(),
        });
    }
    let from = snap.status;
    let mut event = action.event_kind();
    let (to, effects) = match action {
        Action::Dispatch => {
            let unit = nonblank(&req.unit).ok_or(LifecycleError::Missing {
                field: "unit",
                message: "dispatch needs the handling unit id",
            })?;
            (
                Status::Dispatched,
                vec![Effect::AssignUnit(unit.to_string()), Effect::StartDeadlines],
            )
        }
        Action::Sign => (Status::Signed, vec![]),
        Action::Start => (Status::InProgress, vec![]),
        Action::Reply => {
            nonblank(&req.note).ok_or(LifecycleError::Missing {
                field: "note",
                message: "a reply needs the result (note)",
            })?;
            (Status::Replied, vec![Effect::ExtensionPending(false)])
        }
        Action::Return => {
            nonblank(&req.reason).ok_or(LifecycleError::Missing {
                field: "reason",
                message: "退单 needs a reason",
            })?;
            (
                Status::Returned,
                vec![
                    Effect::ClearUnit,
                    Effect::ClearDeadlines,
                    Effect::ExtensionPending(false),
                ],
            )
        }
        Action::RequestExtension => {
            match req.hours {
                Some(h) if (1..=MAX_EXTENSION_HOURS).contains(&h) => {}
                _ => {
                    return Err(LifecycleError::Missing {
                        field: "hours",
                        message: "延期 needs hours between 1 and 720",
                    });
                }
            }
            nonblank(&req.reason).ok_or(LifecycleError::Missing {
                field: "reason",
                message: "延期 needs a reason",
            })?;
            (from, vec![Effect::ExtensionPending(true)])
        }
        Action::GrantExtension => (
            from,
            vec![
                Effect::ExtensionPending(false),
                // The hours come from the pending request; the service layer reads them.
                Effect::ExtendCloseDue(0),
            ],
        ),
        Action::DenyExtension => (from, vec![Effect::ExtensionPending(false)]),
        Action::Supervise => (from, vec![Effect::Supervised]),
        Action::FollowUp => {
            let s = req.satisfaction.ok_or(LifecycleError::Missing {
                field: "satisfaction",
                message: "回访 needs satisfied, mostly_satisfied or unsatisfied",
            })?;
            if s == Satisfaction::Unsatisfied {
                // 重办: back to the same unit with fresh deadlines.
                event = "redo";
                (
                    Status::Dispatched,
                    vec![
                        Effect::RecordFollowUp(s),
                        Effect::Redo,
                        Effect::StartDeadlines,
                    ],
                )
            } else {
                (Status::FollowedUp, vec![Effect::RecordFollowUp(s)])
            }
        }
        Action::Close => {
            if from == Status::Replied {
                if role == Role::Operator {
                    return Err(LifecycleError::Illegal {
                        status: from,
                        action,
                        why: "an operator closes only after a follow-up (回访); the center \
                              (dispatcher, supervisor) may close a replied case when the \
                              citizen declined the follow-up"
                            .into(),
                        allowed: allowed(),
                    });
                }
                nonblank(&req.reason).ok_or(LifecycleError::Missing {
                    field: "reason",
                    message: "closing without a follow-up needs a reason (e.g. citizen declined)",
                })?;
            }
            // Deadlines stay: the scorecard compares closed_at with close_due.
            (Status::Closed, vec![])
        }
        Action::TransferPolice => (
            Status::TransferredPolice,
            vec![
                Effect::ClearUnit,
                Effect::ClearDeadlines,
                Effect::NotifyPolice,
            ],
        ),
        Action::PoliceAck => {
            nonblank(&req.reference).ok_or(LifecycleError::Missing {
                field: "reference",
                message: "the line's incident number (警情编号) acknowledges the hand-off",
            })?;
            (Status::TransferredPolice, vec![])
        }
        Action::PoliceReturn => {
            nonblank(&req.reason).ok_or(LifecycleError::Missing {
                field: "reason",
                message: "say why the line handed the case back (转警退回)",
            })?;
            (Status::Received, vec![])
        }
        Action::Answer => {
            nonblank(&req.note).ok_or(LifecycleError::Missing {
                field: "note",
                message: "当场答复 needs the answer given to the caller (note)",
            })?;
            (
                Status::Closed,
                vec![Effect::ClearDeadlines, Effect::AnsweredOnCall],
            )
        }
        Action::Redispatch => {
            let unit = nonblank(&req.unit).ok_or(LifecycleError::Missing {
                field: "unit",
                message: "改派 needs the new handling unit",
            })?;
            nonblank(&req.reason).ok_or(LifecycleError::Missing {
                field: "reason",
                message: "改派 needs a reason (e.g. not signed in time, wrong unit)",
            })?;
            (
                Status::Dispatched,
                vec![
                    Effect::AssignUnit(unit.to_string()),
                    Effect::StartDeadlines,
                    Effect::ExtensionPending(false),
                ],
            )
        }
        Action::Reopen => {
            nonblank(&req.reason).ok_or(LifecycleError::Missing {
                field: "reason",
                message: "重新打开 needs a reason",
            })?;
            (
                Status::Received,
                vec![Effect::ClearUnit, Effect::ClearDeadlines, Effect::Reopened],
            )
        }
        Action::Urge => (from, vec![Effect::NotifyUnit]),
        Action::GridAssign => (from, vec![Effect::GridTask(true)]),
        Action::GridReply => {
            nonblank(&req.note).ok_or(LifecycleError::Missing {
                field: "note",
                message: "网格反馈 needs what was found or done on site (note)",
            })?;
            (from, vec![Effect::GridTask(false)])
        }
    };
    Ok(Transition {
        action,
        from,
        to,
        event,
        effects,
    })
}

fn nonblank(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

impl From<LifecycleError> for Error {
    fn from(err: LifecycleError) -> Error {
        let message = err.to_string();
        match err {
            LifecycleError::Forbidden { role, action } => {
                Error::forbidden("action_forbidden", message)
                    .arg("role", role.name_zh())
                    .arg("action", action.name_zh())
            }
            LifecycleError::Illegal {
                status,
                action,
                allowed,
                ..
            } => Error::conflict("illegal_transition", message)
                .arg("status", status.name_zh())
                .arg("action", action.name_zh())
                .with_detail(json!({
                    "status": status.as_str(),
                    "allowed_actions": allowed.iter().map(|a| a.as_str()).collect::<Vec<_>>(),
                })),
            LifecycleError::Missing { field, message } => {
                Error::invalid(field, "missing_field", message)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snap(status: Status) -> Snapshot {
        Snapshot {
            status,
            extension_pending: false,
            grid_task_open: false,
        }
    }

    fn req() -> Request {
        Request::default()
    }

    #[test]
    fn happy_path_walks_every_status() {
        let d = decide(
            snap(Status::Received),
            Role::Dispatcher,
            Action::Dispatch,
            &Request {
                unit: Some("housing".into()),
                ..req()
            },
        )
        .unwrap();
        assert_eq!(d.to, Status::Dispatched);
        assert!(d.effects.contains(&Effect::AssignUnit("housing".into())));
        assert!(d.effects.contains(&Effect::StartDeadlines));
        let s = decide(snap(d.to), Role::UnitHandler, Action::Sign, &req()).unwrap();
        assert_eq!(s.to, Status::Signed);
        let p = decide(snap(s.to), Role::UnitHandler, Action::Start, &req()).unwrap();
        assert_eq!(p.to, Status::InProgress);
        let r = decide(
            snap(p.to),
            Role::UnitHandler,
            Action::Reply,
            &Request {
                note: Some("fixed".into()),
                ..req()
            },
        )
        .unwrap();
        assert_eq!(r.to, Status::Replied);
        let f = decide(
            snap(r.to),
            Role::Operator,
            Action::FollowUp,
            &Request {
                satisfaction: Some(Satisfaction::Satisfied),
                ..req()
            },
        )
        .unwrap();
        assert_eq!(f.to, Status::FollowedUp);
        let c = decide(snap(f.to), Role::Operator, Action::Close, &req()).unwrap();
        assert_eq!(c.to, Status::Closed);
        // A closed case can only be reopened (by a supervisor or an admin).
        assert_eq!(
            allowed_actions(snap(Status::Closed), Role::Admin),
            vec![Action::Reopen]
        );
        assert!(allowed_actions(snap(Status::Closed), Role::Operator).is_empty());
    }

    #[test]
    fn unsatisfied_follow_up_is_a_redo_to_the_same_unit() {
        let d = decide(
            snap(Status::Replied),
            Role::Operator,
            Action::FollowUp,
            &Request {
                satisfaction: Some(Satisfaction::Unsatisfied),
                ..req()
            },
        )
        .unwrap();
        assert_eq!(d.to, Status::Dispatched);
        assert_eq!(d.event, "redo");
        assert!(d.effects.contains(&Effect::Redo));
        assert!(d.effects.contains(&Effect::StartDeadlines));
        assert!(!d.effects.iter().any(|e| matches!(e, Effect::AssignUnit(_))));
    }

    #[test]
    fn illegal_transition_says_why_and_what_is_allowed() {
        let err = decide(
            snap(Status::Received),
            Role::UnitHandler,
            Action::Sign,
            &req(),
        );
        match err {
            Err(LifecycleError::Illegal { why, allowed, .. }) => {
                assert!(why.contains("dispatched"), "{why}");
                assert!(allowed.is_empty());
            }
            other => panic!("{other:?}"),
        }
        let err = decide(
            snap(Status::Closed),
            Role::Dispatcher,
            Action::Dispatch,
            &req(),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("closed"), "{err}");
        let err = decide(
            snap(Status::Received),
            Role::Dispatcher,
            Action::Reply,
            &req(),
        )
        .unwrap_err();
        assert!(matches!(err, LifecycleError::Forbidden { .. }));
        let allowed = allowed_actions(snap(Status::Received), Role::Dispatcher);
        assert_eq!(
            allowed,
            vec![
                Action::Dispatch,
                Action::TransferPolice,
                Action::Answer,
                Action::GridAssign
            ]
        );
    }

    #[test]
    fn return_needs_a_reason_and_goes_back_to_the_center() {
        let e = decide(
            snap(Status::Signed),
            Role::UnitHandler,
            Action::Return,
            &req(),
        );
        assert!(matches!(
            e,
            Err(LifecycleError::Missing {
                field: "reason",
                ..
            })
        ));
        let d = decide(
            snap(Status::Signed),
            Role::UnitHandler,
            Action::Return,
            &Request {
                reason: Some("not our area".into()),
                ..req()
            },
        )
        .unwrap();
        assert_eq!(d.to, Status::Returned);
        assert!(d.effects.contains(&Effect::ClearUnit));
        let again = decide(
            snap(Status::Returned),
            Role::Dispatcher,
            Action::Dispatch,
            &Request {
                unit: Some("town-2".into()),
                ..req()
            },
        )
        .unwrap();
        assert_eq!(again.to, Status::Dispatched);
    }

    #[test]
    fn extension_request_then_grant_or_deny() {
        let bad = decide(
            snap(Status::InProgress),
            Role::UnitHandler,
            Action::RequestExtension,
            &Request {
                hours: Some(0),
                reason: Some("parts".into()),
                ..req()
            },
        );
        assert!(matches!(
            bad,
            Err(LifecycleError::Missing { field: "hours", .. })
        ));
        let r = decide(
            snap(Status::InProgress),
            Role::UnitHandler,
            Action::RequestExtension,
            &Request {
                hours: Some(48),
                reason: Some("parts".into()),
                ..req()
            },
        )
        .unwrap();
        assert_eq!(r.to, Status::InProgress);
        assert!(r.effects.contains(&Effect::ExtensionPending(true)));
        let pending = Snapshot {
            status: Status::InProgress,
            extension_pending: true,
            grid_task_open: false,
        };
        assert!(
            decide(
                pending,
                Role::UnitHandler,
                Action::RequestExtension,
                &Request {
                    hours: Some(1),
                    reason: Some("x".into()),
                    ..req()
                }
            )
            .is_err()
        );
        let g = decide(pending, Role::Supervisor, Action::GrantExtension, &req()).unwrap();
        assert!(
            g.effects
                .iter()
                .any(|e| matches!(e, Effect::ExtendCloseDue(_)))
        );
        assert!(
            decide(
                snap(Status::InProgress),
                Role::Supervisor,
                Action::GrantExtension,
                &req()
            )
            .is_err()
        );
        assert!(decide(pending, Role::UnitHandler, Action::GrantExtension, &req()).is_err());
    }

    #[test]
    fn closing_a_replied_case_without_follow_up() {
        let replied = snap(Status::Replied);
        assert!(matches!(
            decide(replied, Role::Operator, Action::Close, &req()),
            Err(LifecycleError::Illegal { .. })
        ));
        assert!(matches!(
            decide(replied, Role::Dispatcher, Action::Close, &req()),
            Err(LifecycleError::Missing {
                field: "reason",
                ..
            })
        ));
        let ok = decide(
            replied,
            Role::Dispatcher,
            Action::Close,
            &Request {
                reason: Some("市民拒绝回访".into()),
                ..req()
            },
        )
        .unwrap();
        assert_eq!(ok.to, Status::Closed);
    }

    #[test]
    fn police_transfer_and_readonly_roles() {
        let t = decide(
            snap(Status::Received),
            Role::Operator,
            Action::TransferPolice,
            &req(),
        )
        .unwrap();
        assert_eq!(t.to, Status::TransferredPolice);
        assert!(t.effects.contains(&Effect::NotifyPolice));
        for role in [Role::Analyst, Role::Auditor, Role::GridWorker] {
            for status in Status::ALL {
                assert!(allowed_actions(snap(status), role).is_empty());
            }
        }
    }

    #[test]
    fn names_round_trip() {
        for s in Status::ALL {
            assert_eq!(Status::parse(s.as_str()), Some(s));
        }
        for a in Action::ALL {
            assert_eq!(Action::parse(a.as_str()), Some(a));
        }
    }

    /// 网格任务: the center opens it, only a grid worker answers it (with what they found), and
    /// only once; it does not move the case.
    #[test]
    fn grid_task_opens_and_is_answered_once() {
        let open = decide(
            snap(Status::Received),
            Role::Dispatcher,
            Action::GridAssign,
            &req(),
        )
        .unwrap();
        assert_eq!(open.to, Status::Received);
        assert_eq!(open.effects, vec![Effect::GridTask(true)]);
        let waiting = Snapshot {
            grid_task_open: true,
            ..snap(Status::Received)
        };
        assert!(matches!(
            decide(waiting, Role::Operator, Action::GridAssign, &req()),
            Err(LifecycleError::Illegal { .. })
        ));
        assert!(matches!(
            decide(waiting, Role::GridWorker, Action::GridReply, &req()),
            Err(LifecycleError::Missing { field: "note", .. })
        ));
        assert!(matches!(
            decide(waiting, Role::UnitHandler, Action::GridReply, &req()),
            Err(LifecycleError::Forbidden { .. })
        ));
        let note = Request {
            note: Some("已上门核实，路灯确已损坏".into()),
            ..req()
        };
        let answered = decide(waiting, Role::GridWorker, Action::GridReply, &note).unwrap();
        assert_eq!(answered.effects, vec![Effect::GridTask(false)]);
        assert!(
            decide(
                snap(Status::Received),
                Role::GridWorker,
                Action::GridReply,
                &note
            )
            .is_err()
        );
        // The center is not held up by the grid.
        assert!(
            decide(
                waiting,
                Role::Dispatcher,
                Action::Dispatch,
                &Request {
                    unit: Some("u1".into()),
                    ..req()
                }
            )
            .is_ok()
        );
    }

    /// The whole status × action × role matrix, as users and reviewers read it: for every
    /// status (and the 延期-pending flag where it matters) and role, what `decide` allows — and a
    /// check that `allowed_actions` (what the console offers) says exactly the same.
    #[test]
    fn lifecycle_matrix_snapshot() {
        let full = Request {
            note: Some("n".into()),
            unit: Some("u1".into()),
            reason: Some("r".into()),
            satisfaction: Some(Satisfaction::Satisfied),
            hours: Some(24),
            reference: Some("J110-1".into()),
        };
        let mut out = String::from("status | role | allowed actions (by decide)\n");
        for status in Status::ALL {
            // (延期 pending, 网格任务 open) where each matters.
            let flags: &[(bool, bool)] = match status {
                Status::Signed | Status::InProgress => &[(false, false), (true, false)],
                Status::Received | Status::Returned => &[(false, false), (false, true)],
                _ => &[(false, false)],
            };
            for &(extension_pending, grid_task_open) in flags {
                let snap = Snapshot {
                    status,
                    extension_pending,
                    grid_task_open,
                };
                for role in Role::ALL {
                    let allowed: Vec<&str> = Action::ALL
                        .into_iter()
                        .filter(|a| decide(snap, role, *a, &full).is_ok())
                        .map(|a| a.as_str())
                        .collect();
                    let offered: Vec<&str> = allowed_actions(snap, role)
                        .into_iter()
                        .map(|a| a.as_str())
                        .collect();
                    assert_eq!(
                        allowed, offered,
                        "{status:?} {role:?} pending={extension_pending}"
                    );
                    let label = match (extension_pending, grid_task_open) {
                        (true, _) => format!("{} (延期 pending)", status.as_str()),
                        (_, true) => format!("{} (网格任务 open)", status.as_str()),
                        _ => status.as_str().to_string(),
                    };
                    out.push_str(&format!(
                        "{label} | {} | {}\n",
                        role.as_str(),
                        if allowed.is_empty() {
                            "—".to_string()
                        } else {
                            allowed.join(", ")
                        }
                    ));
                }
            }
        }
        insta::assert_snapshot!("lifecycle_matrix", out);
    }
}
