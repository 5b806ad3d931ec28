/*!
Who is acting: the [`Role`]s of the service center and the authenticated [`Principal`]. What each
role may see and do is `policy`; how a principal is authenticated is `policy::credentials` and
the front-ends.
*/

use serde::{Deserialize, Serialize};

/// The roles of the service center.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Configures the center: users, tokens, directories.
    Admin,
    /// Oversees operators and units: supervision (督办), extensions, escalations.
    Supervisor,
    /// Takes calls and requests (受理), follows up (回访).
    Operator,
    /// Dispatches cases to handling units (派单).
    Dispatcher,
    /// Works cases of one handling unit (bound to `unit_id`).
    UnitHandler,
    /// Reports and works cases in their grid units (bound to `grid_codes`).
    GridWorker,
    /// Reads statistics and scorecards, no personal data.
    Analyst,
    /// Reads the audit log.
    Auditor,
}

impl Role {
    pub const ALL: [Role; 8] = [
        Role::Admin,
        Role::Supervisor,
        Role::Operator,
        Role::Dispatcher,
        Role::UnitHandler,
        Role::GridWorker,
        Role::Analyst,
        Role::Auditor,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Supervisor => "supervisor",
            Role::Operator => "operator",
            Role::Dispatcher => "dispatcher",
            Role::UnitHandler => "unit_handler",
            Role::GridWorker => "grid_worker",
            Role::Analyst => "analyst",
            Role::Auditor => "auditor",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            Role::Admin => "管理员",
            Role::Supervisor => "督办员",
            Role::Operator => "受理员",
            Role::Dispatcher => "派单员",
            Role::UnitHandler => "承办人员",
            Role::GridWorker => "网格员",
            Role::Analyst => "分析员",
            Role::Auditor => "审计员",
        }
    }

    /// Roles whose users must be bound to a handling unit.
    /// The service center's own staff (who take, dispatch and follow up cases).
    pub fn is_center(self) -> bool {
        matches!(
            self,
            Role::Admin | Role::Supervisor | Role::Operator | Role::Dispatcher
        )
    }

    pub fn needs_unit(self) -> bool {
        self == Role::UnitHandler
    }

    /// Roles whose users must be bound to at least one grid unit.
    pub fn needs_grid(self) -> bool {
        self == Role::GridWorker
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Role, String> {
        Role::parse(s).ok_or_else(|| {
            let all: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
            format!("unknown role {s:?}; one of {}", all.join(", "))
        })
    }
}

/// What an API token is limited to, beyond its user's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenScope {
    /// An Open311 client's `api_key`: accepted by Open311 (submit and read requests), refused by
    /// `/api/v1` (which shows callers' data).
    Open311Client,
    /// An emergency line's bridge: reads the cases handed to it and acknowledges or returns them
    /// (`police_ack`, `police_return`), nothing else.
    PoliceBridge,
    /// An SMS gateway's inbound callback (`POST /api/v1/sms/inbound`), nothing else.
    SmsGateway,
}

impl TokenScope {
    pub const ALL: [TokenScope; 3] = [
        TokenScope::Open311Client,
        TokenScope::PoliceBridge,
        TokenScope::SmsGateway,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TokenScope::Open311Client => "open311_client",
            TokenScope::PoliceBridge => "police_bridge",
            TokenScope::SmsGateway => "sms_gateway",
        }
    }

    pub fn parse(s: &str) -> Option<TokenScope> {
        TokenScope::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

/// An authenticated caller of the API or console (a user, or an API token acting as its user).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    pub user_id: i64,
    pub name: String,
    pub role: Role,
    /// Handling unit of a `unit_handler`.
    pub unit_id: Option<String>,
    /// Grid units of a `grid_worker`.
    pub grid_codes: Vec<String>,
    /// The token's scope, when it is a scoped API token.
    #[serde(default)]
    pub scope: Option<TokenScope>,
}

impl Principal {
    pub fn has_role(&self, roles: &[Role]) -> bool {
        roles.contains(&self.role)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
            assert_eq!(r.as_str().parse::<Role>(), Ok(r));
        }
        assert_eq!(Role::parse("root"), None);
        assert!("root".parse::<Role>().unwrap_err().contains("unit_handler"));
    }
}
