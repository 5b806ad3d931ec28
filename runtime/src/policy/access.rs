/*!
Who may see what — each rule once, shared by the JSON API, Open311, the console and exports.

- Callers' phone numbers: [`sees_caller_phone`].
- Cases: [`can_see_case`] (a unit handler sees its unit's cases, a grid worker the grid reports
  of their grid units, an auditor none).
- The vulnerable-household registry (困难群体): [`household_access`] for records,
  [`household_view`] adding counts-only access for analysts and auditors, [`may_write_households`],
  [`household_scope`] (grid workers: their own grid units).
- Directories: [`may_write_directories`].
*/

use crate::model::{Action, Principal, Role, TokenScope};

/// Whether `role` sees callers' phone numbers in full: the people who call citizens back or
/// must reach them on the ground.
pub fn sees_caller_phone(role: Role) -> bool {
    matches!(
        role,
        Role::Admin
            | Role::Supervisor
            | Role::Operator
            | Role::Dispatcher
            | Role::UnitHandler
            | Role::GridWorker
    )
}

/// How a role may see the vulnerable-household registry (困难群体).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HouseholdAccess {
    /// Not at all.
    None,
    /// Records with phone and ID numbers masked.
    Masked,
    /// Full records (still audited).
    Full,
}

/// Household access per role — the one policy the API and the console both apply: grid workers
/// and supervisors care for these households, admins maintain the registry; operators and
/// dispatchers see masked records to route requests. Handling units get the case, not the
/// registry: the center tells them what they need in the dispatch note.
pub fn household_access(role: Role) -> HouseholdAccess {
    match role {
        Role::Admin | Role::Supervisor | Role::GridWorker => HouseholdAccess::Full,
        Role::Operator | Role::Dispatcher => HouseholdAccess::Masked,
        Role::UnitHandler | Role::Analyst | Role::Auditor => HouseholdAccess::None,
    }
}

/// What a role may see of the household registry: records (full or masked), only aggregate
/// counts, or nothing. Records follow [`household_access`]; analysts and auditors, who may not
/// see records, still get the counts their reports need.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HouseholdView {
    Full,
    Masked,
    CountsOnly,
    Denied,
}

impl HouseholdView {
    pub fn as_str(self) -> &'static str {
        match self {
            HouseholdView::Full => "full",
            HouseholdView::Masked => "masked",
            HouseholdView::CountsOnly => "counts_only",
            HouseholdView::Denied => "denied",
        }
    }
}

/// The household view of `role`.
pub fn household_view(role: Role) -> HouseholdView {
    match household_access(role) {
        HouseholdAccess::Full => HouseholdView::Full,
        HouseholdAccess::Masked => HouseholdView::Masked,
        HouseholdAccess::None if matches!(role, Role::Analyst | Role::Auditor) => {
            HouseholdView::CountsOnly
        }
        HouseholdAccess::None => HouseholdView::Denied,
    }
}

/// Roles that create and update households.
pub fn may_write_households(role: Role) -> bool {
    matches!(role, Role::Admin | Role::Supervisor | Role::GridWorker)
}

/// Which part of the registry a read may see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GridScope {
    /// The whole region.
    All,
    /// These grid units and every unit below them (may be empty: sees nothing).
    Within(Vec<String>),
}

/// The part of the registry a principal may see: grid workers their own grid units.
pub fn household_scope(principal: &Principal) -> GridScope {
    if principal.role == Role::GridWorker {
        GridScope::Within(principal.grid_codes.clone())
    } else {
        GridScope::All
    }
}

/// Roles that edit the four directories (government services, social organizations, providers,
/// community centers).
pub const DIRECTORY_WRITERS: [Role; 2] = [Role::Admin, Role::Supervisor];

/// Whether `role` sees directory phone numbers (organisations' service numbers) in full: everyone
/// who routes or handles cases dials them; analysts and auditors never call anyone.
pub fn sees_directory_phone(role: Role) -> bool {
    !matches!(role, Role::Analyst | Role::Auditor)
}

/// Whether `role` may change directory entries.
pub fn may_write_directories(role: Role) -> bool {
    DIRECTORY_WRITERS.contains(&role)
}

/// What the case scope rule needs to know about a case.
#[derive(Debug, Clone, Copy)]
pub struct CaseScope<'a> {
    pub channel: &'a str,
    pub grid_code: Option<&'a str>,
    pub unit_id: Option<&'a str>,
    /// Set when the case was handed to an emergency line (`awaiting`, `acknowledged` …).
    pub handoff_state: Option<&'a str>,
    /// The case was handed to its cell's grid workers (网格任务), whatever its channel.
    pub grid_task: bool,
}

/// Whether `p` may see a case at all — the scope rule shared by every read path.
/// `grid_within(code, ancestor)` answers whether grid unit `code` lies in `ancestor`'s subtree.
pub fn can_see_case(
    p: &Principal,
    case: CaseScope<'_>,
    grid_within: impl Fn(&str, &str) -> bool,
) -> bool {
    match p.scope {
        // An emergency line's bridge sees only what was handed to a line; an Open311 client's
        // token reads through Open311, never here.
        Some(TokenScope::PoliceBridge) => return case.handoff_state.is_some(),
        Some(TokenScope::Open311Client) => return false,
        // The gateway's token acts on the case a citizen's text belongs to, as its user.
        Some(TokenScope::SmsGateway) | None => {}
    }
    match p.role {
        Role::UnitHandler => p.unit_id.is_some() && case.unit_id == p.unit_id.as_deref(),
        Role::GridWorker => {
            (case.channel == "grid" || case.grid_task)
                && case
                    .grid_code
                    .is_some_and(|g| p.grid_codes.iter().any(|mine| grid_within(g, mine)))
        }
        // Aggregates only: the auditor reads the log, the analyst the figures.
        Role::Auditor | Role::Analyst => false,
        _ => true,
    }
}

/// Whether a scoped token may take `action` at all (the role decides the rest).
pub fn scope_allows_action(p: &Principal, action: Action) -> bool {
    match p.scope {
        Some(TokenScope::PoliceBridge) => {
            matches!(action, Action::PoliceAck | Action::PoliceReturn)
        }
        Some(TokenScope::Open311Client) => false,
        // A citizen's reply to the 回访 text records the follow-up.
        Some(TokenScope::SmsGateway) => action == Action::FollowUp,
        None => true,
    }
}

/// Whether a scoped token may use the JSON API route `method path` (Open311 clients never; a
/// bridge only reads cases and acts on them).
pub fn scope_allows_route(p: &Principal, method: &str, path: &str) -> bool {
    match p.scope {
        None => true,
        Some(TokenScope::Open311Client) => false,
        Some(TokenScope::SmsGateway) => method == "POST" && path == "/api/v1/sms/inbound",
        Some(TokenScope::PoliceBridge) => {
            path == "/api/v1/me"
                || (path.starts_with("/api/v1/cases/")
                    && ((method == "GET" && path.matches('/').count() == 4)
                        || (method == "POST" && path.ends_with("/actions"))))
        }
    }
}

/// Whether `p` may merge a case into another or dismiss a suggested duplicate (一事多诉): the
/// center's own staff, signed in or with an unscoped token — not a unit, not a reader, not a
/// platform's token.
pub fn may_merge(p: &Principal) -> bool {
    p.scope.is_none() && p.role.is_center()
}

/// Whether `p` may act on a case held by `unit_id`: a unit handler only on its own unit's cases.
pub fn may_act_on_unit(p: &Principal, unit_id: Option<&str>) -> bool {
    p.role != Role::UnitHandler || unit_id == p.unit_id.as_deref()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(role: Role) -> Principal {
        Principal {
            scope: None,
            user_id: 1,
            name: "t".into(),
            role,
            unit_id: (role == Role::UnitHandler).then(|| "u1".into()),
            grid_codes: if role == Role::GridWorker {
                vec!["g1".into()]
            } else {
                Vec::new()
            },
        }
    }

    #[test]
    fn access_policy() {
        assert!(sees_caller_phone(Role::Operator));
        assert!(!sees_caller_phone(Role::Analyst));
        assert_eq!(household_access(Role::GridWorker), HouseholdAccess::Full);
        assert_eq!(household_access(Role::Operator), HouseholdAccess::Masked);
        assert_eq!(household_access(Role::Auditor), HouseholdAccess::None);
        assert_eq!(household_access(Role::UnitHandler), HouseholdAccess::None);
        assert_eq!(household_view(Role::Analyst), HouseholdView::CountsOnly);
        assert_eq!(household_view(Role::UnitHandler), HouseholdView::Denied);
        assert!(may_write_directories(Role::Supervisor));
        assert!(!may_write_directories(Role::Operator));
    }

    #[test]
    fn case_scope() {
        let within = |g: &str, a: &str| g.starts_with(a);
        let grid_case = CaseScope {
            channel: "grid",
            grid_code: Some("g1x"),
            unit_id: Some("u2"),
            handoff_state: None,
            grid_task: false,
        };
        assert!(can_see_case(
            &principal(Role::GridWorker),
            grid_case,
            within
        ));
        assert!(!can_see_case(
            &principal(Role::UnitHandler),
            grid_case,
            within
        ));
        assert!(!can_see_case(&principal(Role::Auditor), grid_case, within));
        assert!(can_see_case(&principal(Role::Operator), grid_case, within));
        let phone_case = CaseScope {
            channel: "phone",
            ..grid_case
        };
        assert!(!can_see_case(
            &principal(Role::GridWorker),
            phone_case,
            within
        ));
        // A phone case handed to the grid (网格任务) is the cell's grid workers' to see.
        let tasked = CaseScope {
            grid_task: true,
            ..phone_case
        };
        assert!(can_see_case(&principal(Role::GridWorker), tasked, within));
        let elsewhere = CaseScope {
            grid_code: Some("g2"),
            ..tasked
        };
        assert!(!can_see_case(
            &principal(Role::GridWorker),
            elsewhere,
            within
        ));
        assert!(may_act_on_unit(&principal(Role::UnitHandler), Some("u1")));
        assert!(!may_act_on_unit(&principal(Role::UnitHandler), Some("u2")));
        assert!(may_act_on_unit(&principal(Role::Dispatcher), Some("u2")));
        // Scoped tokens.
        let bridge = Principal {
            scope: Some(TokenScope::PoliceBridge),
            ..principal(Role::Dispatcher)
        };
        assert!(!can_see_case(&bridge, phone_case, within));
        let handed = CaseScope {
            handoff_state: Some("awaiting"),
            ..phone_case
        };
        assert!(can_see_case(&bridge, handed, within));
        assert!(scope_allows_action(&bridge, Action::PoliceAck));
        assert!(!scope_allows_action(&bridge, Action::Dispatch));
        assert!(scope_allows_route(&bridge, "GET", "/api/v1/cases/MS1"));
        assert!(scope_allows_route(
            &bridge,
            "POST",
            "/api/v1/cases/MS1/actions"
        ));
        assert!(!scope_allows_route(&bridge, "GET", "/api/v1/cases"));
        assert!(!scope_allows_route(&bridge, "POST", "/api/v1/cases"));
        let client = Principal {
            scope: Some(TokenScope::Open311Client),
            ..principal(Role::Operator)
        };
        assert!(!scope_allows_route(&client, "GET", "/api/v1/me"));
        assert!(!can_see_case(&client, handed, within));
    }

    #[test]
    fn matrix_matches_the_documented_table() {
        let expect = [
            (Role::Admin, HouseholdView::Full, true),
            (Role::Supervisor, HouseholdView::Full, true),
            (Role::GridWorker, HouseholdView::Full, true),
            (Role::Operator, HouseholdView::Masked, false),
            (Role::Dispatcher, HouseholdView::Masked, false),
            (Role::Analyst, HouseholdView::CountsOnly, false),
            (Role::Auditor, HouseholdView::CountsOnly, false),
            (Role::UnitHandler, HouseholdView::Denied, false),
        ];
        for (role, view, write) in expect {
            assert_eq!(household_view(role), view, "{role:?}");
            assert_eq!(may_write_households(role), write, "{role:?}");
        }
    }
}
