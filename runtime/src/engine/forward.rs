/*!
Forwarding (转办) to another platform: a handling unit the profile marks with `platform` (e.g.
the prefecture's 12345) is not a desk here but a platform elsewhere. A case dispatched to it —
by a routing rule at intake, by a dispatcher, or again after an unsatisfied follow-up — gets a
`case.forwarded` outbox message for that platform, which the delivery worker sends:

- **open311**: `POST {endpoint}/requests.json` (form: `api_key` from the variable the profile
  names in `secret_env`, `service_code` = our category code, `description` with our case number,
  `lat`/`long`, `address_string`, `phone`, `first_name`). The answer's `service_request_id` is
  stored on the case (`forward_ref`) and signs it (签收 by the platform). A refusal (a 4xx other
  than 408 / 429, e.g. an unknown service code) is permanent: the message is dead at once, with
  the platform's own description as the error, visible on the 对接平台 page.
- **webhook**: the event document as for every message; an `external_id` in the answer is
  stored and signs the case the same way.

The **status pull** ([`pull`], a job on every `m110d`) asks each open311 platform about the
cases it has taken (`GET {endpoint}/requests.json?service_request_id=a,b,…`, 50 at a time);
one the platform reports `closed` is replied (with its `status_notes`) and closed here.

Delivery is at least once: a crash after the platform took the request and before the
worker recorded it sends it again, and Open311 has no idempotency key. The description names
our case number so the platform's staff can spot a repeat.
*/

use serde_json::{Value, json};

use super::region::RegionIndex;
use crate::model::Integration;
use crate::model::time::render_time;
use crate::store::{Store, StoreError};

/// Outbox topic of a case forwarded to a platform.
pub const FORWARD_TOPIC: &str = "case.forwarded";
/// Cases asked about in one status request.
const PULL_BATCH: usize = 50;

/// The case as the platform needs it to handle it (it calls the citizen back: the phone goes).
#[derive(Debug, Clone, Default)]
pub struct Facts<'a> {
    pub case: &'a str,
    pub category: Option<&'a str>,
    pub content: &'a str,
    pub address: Option<&'a str>,
    pub grid_code: Option<&'a str>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub caller_phone: Option<&'a str>,
    pub caller_name: Option<&'a str>,
    pub unit: &'a str,
    pub close_due: Option<i64>,
}

/// The `case.forwarded` payload.
pub fn payload(region: &RegionIndex, f: &Facts<'_>, now: i64) -> Value {
    json!({
        "case": f.case,
        "center": region.name,
        "category": f.category,
        "category_name": f.category.and_then(|c| region.category(c)).map(|c| c.name_zh.clone()),
        "content": f.content,
        "address": f.address,
        "grid_code": f.grid_code,
        "grid_name": f.grid_code.and_then(|g| region.grid(g)).map(|g| g.name.clone()),
        "lat": f.lat,
        "lon": f.lon,
        "caller_phone": f.caller_phone,
        "caller_name": f.caller_name,
        "unit": f.unit,
        "close_due": f.close_due.map(render_time),
        "at": render_time(now),
    })
}

/// The Open311 form of a forwarded case (`api_key` added by the sender).
pub fn open311_form(payload: &Value) -> Vec<(&'static str, String)> {
    let s = |k: &str| {
        payload[k]
            .as_str()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    };
    let mut form = Vec::new();
    if let Some(c) = s("category") {
        form.push(("service_code", c));
    }
    let content = s("content").unwrap_or_default();
    let case = s("case").unwrap_or_default();
    let center = s("center").unwrap_or_default();
    form.push((
        "description",
        format!("{content}\n（{center}民生110转办，原案件编号 {case}）"),
    ));
    if let (Some(lat), Some(lon)) = (payload["lat"].as_f64(), payload["lon"].as_f64()) {
        form.push(("lat", lat.to_string()));
        form.push(("long", lon.to_string()));
    }
    let place = match (s("address"), s("grid_name")) {
        (Some(a), Some(g)) if !a.contains(&g) => Some(format!("{g} {a}")),
        (Some(a), _) => Some(a),
        (None, g) => g,
    };
    // Open311 platforms require a place; a call that named none still happened in the region.
    let place = place.unwrap_or_else(|| format!("{center}（来电未说明具体地点）"));
    form.push(("address_string", place));
    if let Some(p) = s("caller_phone") {
        form.push(("phone", p));
    }
    if let Some(n) = s("caller_name") {
        form.push(("first_name", n));
    }
    form
}

/// What an Open311 `POST requests` answered: the new id, or why it refused.
pub fn open311_created(body: &str) -> Result<Option<String>, String> {
    let v: Value = serde_json::from_str(body).map_err(|_| "answer is not JSON".to_string())?;
    let first = match &v {
        Value::Array(a) => a.first().cloned().unwrap_or(Value::Null),
        other => other.clone(),
    };
    if let Some(id) = first["service_request_id"]
        .as_str()
        .map(str::to_string)
        .or_else(|| first["service_request_id"].as_i64().map(|n| n.to_string()))
    {
        return Ok(Some(id));
    }
    if first["token"].is_string() {
        // The platform files it later; without an id there is nothing to pull.
        return Ok(None);
    }
    Err(open311_error(body).unwrap_or_else(|| "answer has no service_request_id".into()))
}

/// The description of an Open311 error document (`[{"code":400,"description":"…"}]`).
pub fn open311_error(body: &str) -> Option<String> {
    let v: Value = serde_json::from_str(body).ok()?;
    let first = match &v {
        Value::Array(a) => a.first()?.clone(),
        other => other.clone(),
    };
    first["description"].as_str().map(|d| {
        let d: String = d.chars().take(300).collect();
        match first["code"].as_i64() {
            Some(c) => format!("{c}: {d}"),
            None => d,
        }
    })
}

/// What one status pull did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Pulled {
    pub asked: u64,
    pub closed: u64,
    pub failed_platforms: u64,
}

/// Asks every open311 platform about the open cases it took; closes here what it closed.
pub async fn pull(
    store: &Store,
    region: &RegionIndex,
    client: &reqwest::Client,
    now: i64,
) -> Result<Pulled, StoreError> {
    let mut out = Pulled::default();
    for p in &region.platforms {
        let Integration::Open311 { endpoint, .. } = &p.integration else {
            continue;
        };
        let units: Vec<String> = region
            .units
            .iter()
            .filter(|u| u.platform.as_deref() == Some(p.id.as_str()))
            .map(|u| u.id.clone())
            .collect();
        if units.is_empty() {
            continue;
        }
        let open = store.open_forwarded(&units, 500).await?;
        for chunk in open.chunks(PULL_BATCH) {
            out.asked += chunk.len() as u64;
            let ids: Vec<&str> = chunk.iter().map(|c| c.forward_ref.as_str()).collect();
            let url = format!("{}/requests.json", endpoint.trim_end_matches('/'));
            let answer = client
                .get(&url)
                .query(&[("service_request_id", ids.join(","))])
                .send()
                .await;
            let list: Vec<Value> = match answer {
                Ok(r) if r.status().is_success() => r.json().await.unwrap_or_default(),
                Ok(r) => {
                    tracing::warn!(platform = %p.id, status = %r.status(), "status pull refused");
                    out.failed_platforms += 1;
                    break;
                }
                Err(e) => {
                    tracing::warn!(platform = %p.id, error = %e.without_url(), "status pull failed");
                    out.failed_platforms += 1;
                    break;
                }
            };
            for r in list {
                if r["status"].as_str() != Some("closed") {
                    continue;
                }
                let Some(rid) = r["service_request_id"].as_str() else {
                    continue;
                };
                let Some(case) = chunk.iter().find(|c| c.forward_ref == rid) else {
                    continue;
                };
                let notes = r["status_notes"].as_str();
                if store.close_forwarded(case.id, &p.id, notes, now).await? {
                    out.closed += 1;
                }
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open311_answers_give_the_id_or_the_reason() {
        assert_eq!(
            open311_created(r#"[{"service_request_id":"350700-12","service_notice":"ok"}]"#),
            Ok(Some("350700-12".into()))
        );
        assert_eq!(
            open311_created(r#"[{"service_request_id":77}]"#),
            Ok(Some("77".into()))
        );
        assert_eq!(open311_created(r#"[{"token":"abc"}]"#), Ok(None));
        assert_eq!(
            open311_created(r#"[{"code":400,"description":"service_code 未知"}]"#),
            Err("400: service_code 未知".into())
        );
        assert!(open311_created("<html>").is_err());
    }

    #[test]
    fn the_form_names_our_case_and_keeps_the_phone() {
        let p = json!({"case": "MS350781-2026-000001", "center": "邵武市", "category": "road",
            "content": "路灯坏了", "address": "公太社区门口", "grid_name": "公太社区",
            "lat": 27.3, "lon": 117.5, "caller_phone": "13905990001"});
        let form = open311_form(&p);
        let get = |k: &str| form.iter().find(|(n, _)| *n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("service_code"), Some("road"));
        assert!(get("description").unwrap().contains("MS350781-2026-000001"));
        assert_eq!(get("address_string"), Some("公太社区门口"));
        assert_eq!(get("lat"), Some("27.3"));
        assert_eq!(get("phone"), Some("13905990001"));
        assert_eq!(get("first_name"), None);
    }
}
