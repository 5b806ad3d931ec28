/*!
What people do with an early-warning alert (预警处置), for the API and the console alike:

- `acknowledge` (new → acknowledged): someone at the center has seen it;
- `dispatch` (new or acknowledged → dispatched): a **proactive case** (主动治理) is taken for it —
  its category, its area, the figures in its words — and routed and dispatched like any case, to
  the unit responsible for that category there (or the unit named);
- `resolve` (acknowledged or dispatched → resolved): the problem is over;
- `dismiss` (new or acknowledged → dismissed), with a reason: noise. Dismissals are kept, so
  each method's precision can be measured.

Admins, supervisors and dispatchers act on alerts; every action is audited with the alert.
*/

use serde::Deserialize;
use serde_json::json;

use super::error::{Error, Result};
use super::intake::{CaseInput, EmergencyInput, LocationInput, create_case};
use super::region::RegionIndex;
use crate::model::time::now_ms;
use crate::model::{Channel, Principal, Role};
use crate::store::Store;
use crate::store::alerts::{Alert, set_state};
use crate::store::audit::{NewAudit, record_audit};

/// Roles that act on alerts.
pub const ALERT_ACTORS: &[Role] = &[Role::Admin, Role::Supervisor, Role::Dispatcher];
/// Longest dismissal reason.
const MAX_REASON_CHARS: usize = 500;

/// The action on an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertAction {
    Acknowledge,
    Dispatch,
    Resolve,
    Dismiss,
}

impl AlertAction {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertAction::Acknowledge => "acknowledge",
            AlertAction::Dispatch => "dispatch",
            AlertAction::Resolve => "resolve",
            AlertAction::Dismiss => "dismiss",
        }
    }

    /// The states it starts from and the state it leads to.
    fn transition(self) -> (&'static [&'static str], &'static str) {
        match self {
            AlertAction::Acknowledge => (&["new"], "acknowledged"),
            AlertAction::Dispatch => (&["new", "acknowledged"], "dispatched"),
            AlertAction::Resolve => (&["acknowledged", "dispatched"], "resolved"),
            AlertAction::Dismiss => (&["new", "acknowledged"], "dismissed"),
        }
    }

    pub fn parse(s: &str) -> Option<AlertAction> {
        [
            AlertAction::Acknowledge,
            AlertAction::Dispatch,
            AlertAction::Resolve,
            AlertAction::Dismiss,
        ]
        .into_iter()
        .find(|a| a.as_str() == s)
    }
}

/// `POST /api/v1/alerts/{id}/actions` body (and the console's forms).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertActionInput {
    pub action: AlertAction,
    /// Why it is dismissed (required for `dismiss`).
    #[serde(default)]
    pub reason: Option<String>,
}

/// The actions `state` allows.
pub fn allowed(state: &str) -> Vec<&'static str> {
    [
        AlertAction::Acknowledge,
        AlertAction::Dispatch,
        AlertAction::Resolve,
        AlertAction::Dismiss,
    ]
    .into_iter()
    .filter(|a| a.transition().0.contains(&state))
    .map(AlertAction::as_str)
    .collect()
}

/// The words of the proactive case an alert becomes.
pub fn case_text(region: &RegionIndex, a: &Alert) -> String {
    let what = a
        .alert
        .category_code
        .as_deref()
        .and_then(|c| region.category(c))
        .map(|c| c.name_zh.clone())
        .unwrap_or_else(|| "诉求".into());
    let place = a
        .alert
        .area_code
        .as_deref()
        .map(|g| region.grid_path(g))
        .unwrap_or_else(|| region.name.clone());
    format!(
        "【主动治理】预警 #{}：{} 自 {} 至 {} 有 {} 件“{}”诉求（按以往规律约 {:.1} 件），请核查原因并处置。",
        a.id, place, a.alert.start_day, a.alert.end_day, a.alert.observed, what, a.alert.expected
    )
}

/// Applies `input` to alert `id` as `principal`; returns the alert as it is afterwards.
pub async fn act(
    store: &Store,
    region: &RegionIndex,
    principal: &Principal,
    id: i64,
    input: AlertActionInput,
) -> Result<Alert> {
    if !ALERT_ACTORS.contains(&principal.role) {
        return Err(Error::forbidden(
            "action_forbidden",
            format!("role {} may not act on alerts", principal.role.as_str()),
        ));
    }
    let reason = input
        .reason
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(String::from);
    if reason
        .as_deref()
        .is_some_and(|r| r.chars().count() > MAX_REASON_CHARS)
    {
        return Err(Error::invalid(
            "reason",
            "too_long",
            format!("longer than {MAX_REASON_CHARS} characters"),
        ));
    }
    if input.action == AlertAction::Dismiss && reason.is_none() {
        return Err(Error::invalid(
            "reason",
            "missing_field",
            "a dismissal needs a reason (why it is noise)",
        ));
    }
    let alert = store
        .alert(id)
        .await?
        .ok_or_else(|| Error::not_found("record_not_found", format!("alert {id}")))?;
    let (from, to) = input.action.transition();
    if !from.contains(&alert.state.as_str()) {
        return Err(illegal(&alert, input.action));
    }
    // A dispatch takes its case first (routing, deadlines and dispatch as any intake).
    let case_id = if input.action == AlertAction::Dispatch {
        let case = create_case(
            store,
            region,
            principal,
            CaseInput {
                // The center itself reports it; see docs/early-warning.md on the channel.
                channel: Channel::Web,
                caller: None,
                content: case_text(region, &alert),
                category: alert.alert.category_code.clone(),
                location: alert.alert.area_code.clone().map(|g| LocationInput {
                    grid_code: Some(g),
                    ..LocationInput::default()
                }),
                priority: None,
                external_id: Some(format!("alert:{id}")),
                emergency: Some(EmergencyInput::default()),
                open311_token: None,
            },
        )
        .await?;
        Some(case.case.id)
    } else {
        None
    };
    let now = now_ms();
    let mut tx = store.write().await?;
    if !set_state(
        &mut tx,
        id,
        from,
        to,
        reason.as_deref(),
        case_id,
        principal.user_id,
        now,
    )
    .await?
    {
        // Someone decided first; the case taken for it stays (it names the alert).
        drop(tx);
        let now_alert = store.alert(id).await?.unwrap_or(alert);
        return Err(illegal(&now_alert, input.action));
    }
    let target = format!("alert:{id}");
    let action = format!("alert.{}", input.action.as_str());
    record_audit(
        &mut tx,
        &NewAudit::by(principal, &action, Some(&target)).with_detail(json!({
            "from": alert.state, "to": to, "reason": reason, "case_id": case_id,
        })),
    )
    .await?;
    tx.commit().await?;
    store
        .alert(id)
        .await?
        .ok_or_else(|| Error::not_found("record_not_found", format!("alert {id}")))
}

fn illegal(alert: &Alert, action: AlertAction) -> Error {
    Error::conflict(
        "illegal_transition",
        format!(
            "cannot {} an alert that is {}; allowed now: {}",
            action.as_str(),
            alert.state,
            allowed(&alert.state).join(", ")
        ),
    )
    .arg("action", action.as_str())
    .arg("status", &alert.state)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lifecycle_allows_what_it_says() {
        assert_eq!(allowed("new"), ["acknowledge", "dispatch", "dismiss"]);
        assert_eq!(allowed("acknowledged"), ["dispatch", "resolve", "dismiss"]);
        assert_eq!(allowed("dispatched"), ["resolve"]);
        assert!(allowed("resolved").is_empty() && allowed("dismissed").is_empty());
        assert_eq!(AlertAction::parse("dismiss"), Some(AlertAction::Dismiss));
        assert_eq!(AlertAction::parse("merge"), None);
    }
}
