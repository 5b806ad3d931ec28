/*!
SMS: texts to citizens and from them, through the region's SMS gateway (an `existing_platforms`
entry of kind `sms_gateway` with a webhook integration).

Out (the delivery worker sends `sms.send` messages like any other, signed, retried, leased):
- at intake, the case number (受理回执) to a caller with a mobile number — not for emergencies
  (the line calls back) nor grid reports;
- when the unit replies, the 回访 question: 1 满意, 2 基本满意, 3 不满意.

The gateway's URL may hold `{to}` and `{text}`, filled in (percent-encoded) for gateways that
take the message in the query string; the body is always the event document, whose `data` has
`to`, `text`, `case` and `purpose`.

In (`POST /api/v1/sms/inbound` with the gateway's `sms_gateway`-scoped token; body
`{"from": "13800000000", "text": "…", "id": "<gateway message id>"}`), see [`inbound`]:
1. a text already received under the same gateway id changes nothing (the gateway retried);
2. from a phone whose case awaits a 回访 answer, a satisfaction answer records the follow-up
   (an unsatisfied one sends the case back to the unit: 重办, as a phone follow-up does);
3. from a phone with an open case texted in the last 30 days, anything else is added to that
   case's timeline (补充);
4. anything else becomes a new case with channel `sms`.
*/

use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::AnyConnection;

use super::actions::{self, ActionInput};
use super::error::{Error, Result};
use super::intake::{self, CallerInput, CaseInput, normalize_phone};
use super::region::RegionIndex;
use crate::model::time::now_ms;
use crate::model::{Action, Channel, Principal, Satisfaction};
use crate::store::Store;
use crate::store::cases::enqueue_to;
use crate::store::sms::{NewSms, record_sms};

/// Outbox topic of a text to send.
pub const SMS_TOPIC: &str = "sms.send";
/// Purpose of the case-number text.
pub const RECEIPT: &str = "receipt";
/// Purpose of the 回访 question.
pub const SURVEY: &str = "survey";
/// How far back a text from a phone is threaded onto its open case.
const THREAD_WINDOW_MS: i64 = 30 * 24 * 3_600_000;
/// Longest inbound text kept (a case's content has its own bound).
const MAX_TEXT_CHARS: usize = 1_000;

/// A mobile number (only those receive texts): 11 digits starting 1[3-9].
pub fn is_mobile(phone: &str) -> bool {
    phone.len() == 11
        && phone.starts_with('1')
        && phone.as_bytes()[1].is_ascii_digit()
        && phone.as_bytes()[1] >= b'3'
        && phone.bytes().all(|b| b.is_ascii_digit())
}

fn signature(region: &RegionIndex) -> String {
    format!("【{}民生110】", region.name)
}

/// The case-number text.
pub fn receipt_text(region: &RegionIndex, case: &str) -> String {
    format!(
        "{}您的诉求已受理，编号 {case}。如需补充情况，可直接回复本短信。",
        signature(region)
    )
}

/// The 回访 question, with the unit's answer (shortened).
pub fn survey_text(region: &RegionIndex, case: &str, answer: Option<&str>) -> String {
    let answer: String = answer.unwrap_or("").trim().chars().take(60).collect();
    let answer = if answer.is_empty() {
        String::new()
    } else {
        format!("：{answer}")
    };
    format!(
        "{}您反映的问题（{case}）已办理{answer}。请回复数字评价：1 满意，2 基本满意，3 不满意。",
        signature(region)
    )
}

/// A satisfaction answer: `1`/`2`/`3` or the words (full-width digits too), nothing else.
pub fn parse_satisfaction(text: &str) -> Option<Satisfaction> {
    let t: String = text
        .trim()
        .trim_end_matches(['。', '.', '!', '！'])
        .chars()
        .map(|c| match c {
            '１' => '1',
            '２' => '2',
            '３' => '3',
            other => other,
        })
        .filter(|c| !c.is_whitespace())
        .collect();
    match t.as_str() {
        "1" | "满意" | "非常满意" => Some(Satisfaction::Satisfied),
        "2" | "基本满意" => Some(Satisfaction::MostlySatisfied),
        "3" | "不满意" | "不满意！" => Some(Satisfaction::Unsatisfied),
        _ => None,
    }
}

/// Queues a text to `phone` about a case, in the caller's transaction — when the region has a
/// gateway and the phone is a mobile; otherwise nothing.
pub async fn queue(
    conn: &mut AnyConnection,
    region: &RegionIndex,
    phone: &str,
    case_id: i64,
    purpose: &'static str,
    text: &str,
    now: i64,
) -> Result<()> {
    let Some(gateway) = region.sms_gateway() else {
        return Ok(());
    };
    if !is_mobile(phone) {
        return Ok(());
    }
    queue_to(conn, &gateway.id, phone, case_id, purpose, text, now).await
}

/// Records an outbound text about a case and queues it for `gateway` (the gateway and the
/// number already chosen: [`queue`] decides them, an intake decides them before its batch).
pub async fn queue_to(
    conn: &mut AnyConnection,
    gateway: &str,
    phone: &str,
    case_id: i64,
    purpose: &'static str,
    text: &str,
    now: i64,
) -> Result<()> {
    let case = record_sms(
        conn,
        &NewSms {
            direction: "out",
            phone,
            body: text,
            case_id: Some(case_id),
            purpose,
            gateway_id: None,
            at: now,
        },
    )
    .await?;
    let payload = json!({"to": phone, "text": text, "purpose": purpose, "sms": case});
    enqueue_to(conn, SMS_TOPIC, &payload, Some(gateway), "pending", now).await?;
    Ok(())
}

/// An inbound text as the gateway posts it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Inbound {
    pub from: String,
    pub text: String,
    /// The gateway's message id (retries carry the same one).
    #[serde(default)]
    pub id: Option<String>,
}

/// What became of an inbound text.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Received {
    /// `new_case`, `thread`, `survey_reply` or `duplicate`.
    pub outcome: String,
    pub case: Option<String>,
}

/// Files an inbound text (see the module comment).
pub async fn inbound(
    store: &Store,
    region: &RegionIndex,
    principal: &Principal,
    msg: Inbound,
) -> Result<Received> {
    let phone = normalize_phone(&msg.from).ok_or_else(|| {
        Error::invalid(
            "from",
            "phone_invalid",
            format!("`{}` is not a phone number", msg.from),
        )
    })?;
    let text = msg.text.trim();
    if text.is_empty() {
        return Err(Error::invalid("text", "content_empty", "the text is empty"));
    }
    if text.chars().count() > MAX_TEXT_CHARS || text.contains('\0') {
        return Err(Error::invalid(
            "text",
            "too_long",
            format!("longer than {MAX_TEXT_CHARS} characters"),
        )
        .arg("max", MAX_TEXT_CHARS));
    }
    let gateway_id = msg
        .id
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty() && !s.contains('\0'));
    if let Some(gid) = gateway_id {
        if let Some((_, case)) = store.sms_by_gateway_id(gid).await? {
            return Ok(Received {
                outcome: "duplicate".into(),
                case,
            });
        }
        if let Some(case) = store.case_by_external_id(&format!("sms:{gid}")).await? {
            return Ok(Received {
                outcome: "duplicate".into(),
                case: Some(case),
            });
        }
    }
    let now = now_ms();
    let record = |case_id: Option<i64>, purpose: &'static str| NewSms {
        direction: "in",
        phone: &phone,
        body: text,
        case_id,
        purpose,
        gateway_id,
        at: now,
    };
    if let Some(open) = store.sms_thread(&phone, now - THREAD_WINDOW_MS).await? {
        if open.survey_open != 0
            && let Some(s) = parse_satisfaction(text)
        {
            let input = ActionInput {
                satisfaction: Some(s),
                note: Some(format!("短信回访：{text}")),
                expected_version: Some(open.version),
                ..ActionInput::new(Action::FollowUp)
            };
            match actions::perform(store, region, principal, &open.public_id, input).await {
                Ok(_) => {
                    store
                        .record_inbound_sms(&record(Some(open.id), "survey_reply"), None)
                        .await?;
                    return Ok(Received {
                        outcome: "survey_reply".into(),
                        case: Some(open.public_id),
                    });
                }
                // Someone recorded the follow-up by phone meanwhile: the text joins the timeline.
                Err(e) if e.kind == super::ErrorKind::Conflict => {}
                Err(e) => return Err(e),
            }
        }
        store
            .record_inbound_sms(&record(Some(open.id), "thread"), Some(open.id))
            .await?;
        return Ok(Received {
            outcome: "thread".into(),
            case: Some(open.public_id),
        });
    }
    let input = CaseInput {
        channel: Channel::Sms,
        caller: Some(CallerInput {
            phone: Some(phone.clone()),
            ..CallerInput::default()
        }),
        content: text.to_string(),
        category: None,
        location: None,
        priority: None,
        external_id: gateway_id.map(|g| format!("sms:{g}")),
        emergency: None,
        open311_token: None,
    };
    let created = intake::create_case(store, region, principal, input).await?;
    // The case is committed (its external id stops a retry from filing it twice); the text's
    // own row is bookkeeping.
    if let Err(e) = store
        .record_inbound_sms(&record(Some(created.case.id), "new_case"), None)
        .await
    {
        tracing::error!(case = %created.case.public_id, error = %e, "inbound text not recorded");
    }
    Ok(Received {
        outcome: "new_case".into(),
        case: Some(created.case.public_id),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn satisfaction_answers() {
        assert_eq!(parse_satisfaction("1"), Some(Satisfaction::Satisfied));
        assert_eq!(
            parse_satisfaction(" ２ "),
            Some(Satisfaction::MostlySatisfied)
        );
        assert_eq!(
            parse_satisfaction("不满意。"),
            Some(Satisfaction::Unsatisfied)
        );
        assert_eq!(parse_satisfaction("满意"), Some(Satisfaction::Satisfied));
        assert_eq!(parse_satisfaction("12"), None);
        assert_eq!(parse_satisfaction("路灯还是不亮"), None);
    }

    #[test]
    fn only_mobiles_get_texts() {
        assert!(is_mobile("13905990001"));
        assert!(!is_mobile("05996331234"));
        assert!(!is_mobile("12905990001"));
        assert!(!is_mobile("1390599000"));
    }
}
