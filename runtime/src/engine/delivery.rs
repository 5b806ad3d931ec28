/*!
Delivery: the outbox messages sent to the platforms they are for.

Every `m110d` runs the delivery job; each tick claims due messages under a lease (so several
servers on one PostgreSQL never send one at the same time) and sends each to its platform:

- **webhook**: `POST` of the event document (below) as JSON, with headers `X-M110-Event-Id`
  (receivers deduplicate on it), `X-M110-Event-Type`, and — when the platform's secret is set in
  the environment variable the profile names (`integration.secret_env`; else
  `M110_SECRET_<PLATFORM ID>`, upper case, `-` → `_`) —
  `X-M110-Signature: sha256=<hex HMAC-SHA256 of the body>`. A profile naming a variable that is
  not set makes every attempt fail with that name in the error (never a silent unsigned send). A 2xx marks the message delivered;
  a JSON answer with `incident_number` (or `external_id`) acknowledges a hand-off on the case.
- anything else (a timeout, a refused connection, a non-2xx) is retried with exponential
  backoff and jitter (`5 s × 2ⁿ`, at most an hour, × 0.5–1.0), until `max_attempts`, then the
  message is **dead** (kept, visible, to be replayed). Every attempt is recorded with its time,
  status code, error and duration.
- a per-platform **circuit breaker**: after 5 failures in a row the platform is skipped for a
  minute (its messages keep their place), so one dead receiver does not eat the worker's time.

The event document, version 1:

```json
{"version": 1, "event_id": "350781-42", "type": "emergency.transfer",
 "occurred_at": "2026-12-03T10:00:00+08:00", "platform": "police-dispatch", "data": { … }}
```

`data` is the message payload: for `emergency.transfer` the case number, line, content, place,
caller phone (the dispatcher calls back), evidence and hand-off mode.
*/

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use rand::Rng;
use serde_json::{Value, json};
use sha2::Sha256;

use super::forward::{self, FORWARD_TOPIC};
use super::region::RegionIndex;
use super::sms::SMS_TOPIC;
use crate::model::Integration;
use crate::model::time::render_time;
use crate::store::delivery::{AttemptOutcome, OutboxMessage};
use crate::store::{Store, StoreError};

/// Version of the event document.
pub const EVENT_VERSION: u32 = 1;
/// Attempts before a message is dead (unless the config says otherwise).
pub const DEFAULT_MAX_ATTEMPTS: i64 = 12;
/// First retry delay unless the config says otherwise.
pub const DEFAULT_BACKOFF_MS: i64 = 5_000;
const MAX_BACKOFF_MS: i64 = 3_600_000;
const LEASE_MS: i64 = 60_000;
const BATCH: i64 = 20;
const BREAKER_FAILURES: u32 = 5;
const BREAKER_OPEN_MS: i64 = 60_000;
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// What one tick did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Tick {
    pub delivered: u64,
    pub failed: u64,
    pub dead: u64,
    pub skipped: u64,
    pub acknowledged: u64,
}

#[derive(Default)]
struct Breaker {
    failures: u32,
    open_until: i64,
}

/// The delivery worker of one process.
pub struct Deliverer {
    client: reqwest::Client,
    /// Who holds leases (host, process, random): another process never finishes our attempt.
    holder: String,
    max_attempts: i64,
    backoff_ms: i64,
    breakers: Mutex<HashMap<String, Breaker>>,
}

impl Deliverer {
    pub fn new(max_attempts: i64, backoff_ms: i64) -> Deliverer {
        let client = http_client();
        let holder = format!(
            "{}-{}",
            std::process::id(),
            crate::policy::credentials::random_hex(6)
        );
        Deliverer {
            client,
            holder,
            max_attempts: max_attempts.max(1),
            backoff_ms: backoff_ms.max(1),
            breakers: Mutex::new(HashMap::new()),
        }
    }

    /// Claims and sends what is due.
    pub async fn tick(
        &self,
        store: &Store,
        region: &RegionIndex,
        now: i64,
    ) -> Result<Tick, StoreError> {
        let mut t = Tick::default();
        let batch = store
            .claim_outbox(&self.holder, now, LEASE_MS, BATCH)
            .await?;
        for msg in batch {
            let platform_id = msg.platform_id.clone().unwrap_or_default();
            if self.circuit_open(&platform_id, now) {
                store
                    .release_outbox(msg.id, &self.holder, now + BREAKER_OPEN_MS)
                    .await?;
                t.skipped += 1;
                continue;
            }
            let platform = region.platforms.iter().find(|p| p.id == platform_id);
            let id = event_id(&region.code, msg.id);
            let sent = match platform.map(|p| &p.integration) {
                Some(Integration::Webhook { url, secret_env }) => {
                    let env = secret_of(&platform_id, secret_env);
                    let body = event_document(&id, &msg);
                    let url = if msg.topic == SMS_TOPIC {
                        fill_url(url, &msg.payload)
                    } else {
                        url.clone()
                    };
                    self.send_webhook(&url, &env, &id, &msg.topic, &body).await
                }
                Some(Integration::Open311 {
                    endpoint,
                    secret_env,
                }) if msg.topic == FORWARD_TOPIC => {
                    let env = secret_of(&platform_id, secret_env);
                    self.send_open311(endpoint, &env, &msg.payload).await
                }
                _ => {
                    // The profile changed under the message: nothing can send it any more.
                    let o = AttemptOutcome {
                        at: now,
                        status_code: None,
                        error: Some(format!(
                            "platform {platform_id} cannot take {} messages",
                            msg.topic
                        )),
                        duration_ms: 0,
                        state: "dead",
                        next_attempt_at: now,
                    };
                    store.finish_attempt(msg.id, &self.holder, &o).await?;
                    t.dead += 1;
                    continue;
                }
            };
            let answer = sent.answer;
            let o = AttemptOutcome {
                at: now,
                status_code: sent.status_code,
                error: sent.error,
                duration_ms: sent.duration_ms,
                state: if sent.ok {
                    "delivered"
                } else if sent.permanent || msg.attempts + 1 >= self.max_attempts {
                    "dead"
                } else {
                    "pending"
                },
                next_attempt_at: now
                    + backoff(
                        self.backoff_ms,
                        msg.attempts,
                        rand::thread_rng().r#gen::<f64>(),
                    ),
            };
            if !store.finish_attempt(msg.id, &self.holder, &o).await? {
                continue;
            }
            match o.state {
                "delivered" => {
                    t.delivered += 1;
                    self.record(&platform_id, true, now);
                    let case = serde_json::from_str::<Value>(&msg.payload)
                        .ok()
                        .and_then(|p| p["case"].as_str().map(str::to_string));
                    if let (Some(reference), Some(case)) = (answer, case) {
                        let taken = match msg.topic.as_str() {
                            super::intake::TRANSFER_TOPIC => {
                                store
                                    .acknowledge_handoff(&case, &reference, &platform_id, now)
                                    .await?
                            }
                            FORWARD_TOPIC => {
                                store
                                    .accept_forward(&case, &platform_id, &reference, now)
                                    .await?
                            }
                            _ => false,
                        };
                        if taken {
                            t.acknowledged += 1;
                        }
                    }
                }
                "dead" => {
                    t.dead += 1;
                    self.record(&platform_id, false, now);
                    tracing::warn!(
                        message = msg.id,
                        platform = %platform_id,
                        error = ?o.error,
                        "outbox message dead after {} attempts",
                        msg.attempts + 1
                    );
                }
                _ => {
                    t.failed += 1;
                    self.record(&platform_id, false, now);
                }
            }
        }
        Ok(t)
    }

    async fn send_webhook(
        &self,
        url: &str,
        (secret_env, required): &(String, bool),
        event_id: &str,
        topic: &str,
        body: &str,
    ) -> Sent {
        let started = Instant::now();
        let failed = Sent::failed;
        let mut req = self
            .client
            .post(url)
            .header("content-type", "application/json")
            .header("x-m110-event-id", event_id)
            .header("x-m110-event-type", topic);
        match secret_from(secret_env, *required) {
            Ok(Some(secret)) => {
                req = req.header(
                    "x-m110-signature",
                    format!("sha256={}", sign(&secret, body)),
                );
            }
            Ok(None) => {}
            Err(e) => return failed(None, e, 0),
        }
        let result = req.body(body.to_string()).send().await;
        let ms = started.elapsed().as_millis() as i64;
        match result {
            Ok(resp) => {
                let code = i64::from(resp.status().as_u16());
                if resp.status().is_success() {
                    let answer = resp.json::<Value>().await.ok().and_then(|v| {
                        v.get("incident_number")
                            .or_else(|| v.get("external_id"))
                            .and_then(|x| x.as_str())
                            .map(str::trim)
                            .filter(|s| !s.is_empty())
                            .map(str::to_string)
                    });
                    Sent::ok(code, ms, answer)
                } else {
                    failed(Some(code), format!("HTTP {code}"), ms)
                }
            }
            // The error text names the URL and the cause, never the secret.
            Err(e) => failed(None, error_text(e), ms),
        }
    }

    /// `POST {endpoint}/requests.json` of a forwarded case (see [`super::forward`]).
    async fn send_open311(
        &self,
        endpoint: &str,
        (key_env, required): &(String, bool),
        payload: &str,
    ) -> Sent {
        let started = Instant::now();
        let p: Value = serde_json::from_str(payload).unwrap_or(Value::Null);
        let mut form = forward::open311_form(&p);
        match secret_from(key_env, *required) {
            Ok(Some(key)) => form.push(("api_key", key)),
            Ok(None) => {}
            Err(e) => return Sent::failed(None, e, 0),
        }
        let url = format!("{}/requests.json", endpoint.trim_end_matches('/'));
        let result = self.client.post(&url).form(&form).send().await;
        let ms = started.elapsed().as_millis() as i64;
        let resp = match result {
            Ok(r) => r,
            Err(e) => return Sent::failed(None, error_text(e), ms),
        };
        let status = resp.status();
        let code = i64::from(status.as_u16());
        let text = resp.text().await.unwrap_or_default();
        if status.is_success() {
            return match forward::open311_created(&text) {
                Ok(id) => Sent::ok(code, ms, id),
                Err(why) => Sent::failed(Some(code), why, ms),
            };
        }
        let why = forward::open311_error(&text).unwrap_or_else(|| format!("HTTP {code}"));
        let mut sent = Sent::failed(Some(code), why, ms);
        sent.permanent = is_permanent(code);
        sent
    }

    fn circuit_open(&self, platform: &str, now: i64) -> bool {
        let b = self.breakers.lock().unwrap_or_else(|e| e.into_inner());
        b.get(platform).is_some_and(|b| b.open_until > now)
    }

    fn record(&self, platform: &str, ok: bool, now: i64) {
        let mut b = self.breakers.lock().unwrap_or_else(|e| e.into_inner());
        let e = b.entry(platform.to_string()).or_default();
        if ok {
            *e = Breaker::default();
        } else {
            e.failures += 1;
            if e.failures >= BREAKER_FAILURES {
                e.open_until = now + BREAKER_OPEN_MS;
                e.failures = 0;
            }
        }
    }
}

/// The client every outbound integration uses (delivery, the status pull): bounded timeouts,
/// no redirects (a receiver is the URL the profile names), our user agent.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .connect_timeout(Duration::from_secs(5))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("m110d/", env!("CARGO_PKG_VERSION")))
        .build()
        .unwrap_or_else(|_| reqwest::Client::new())
}

/// What one request came to.
struct Sent {
    /// The receiver answered 2xx.
    ok: bool,
    status_code: Option<i64>,
    error: Option<String>,
    duration_ms: i64,
    /// The incident number (or external id) the receiver answered with.
    answer: Option<String>,
    /// The receiver refused the message itself (retrying cannot help): dead at once.
    permanent: bool,
}

impl Sent {
    fn ok(status_code: i64, duration_ms: i64, answer: Option<String>) -> Sent {
        Sent {
            ok: true,
            status_code: Some(status_code),
            error: None,
            duration_ms,
            answer,
            permanent: false,
        }
    }

    fn failed(status_code: Option<i64>, error: String, duration_ms: i64) -> Sent {
        Sent {
            ok: false,
            status_code,
            error: Some(error),
            duration_ms,
            answer: None,
            permanent: false,
        }
    }
}

/// A 4xx other than 408 (timeout) and 429 (slow down): the request is wrong, not the moment.
fn is_permanent(code: i64) -> bool {
    (400..500).contains(&code) && code != 408 && code != 429
}

/// The secret variable of a platform: the one the profile names (required), else the default.
fn secret_of(platform_id: &str, named: &Option<String>) -> (String, bool) {
    match named {
        Some(name) => (name.clone(), true),
        None => (secret_env_default(platform_id), false),
    }
}

/// An SMS gateway URL with `{to}` and `{text}` filled in (percent-encoded) from the payload.
fn fill_url(template: &str, payload: &str) -> String {
    if !template.contains('{') {
        return template.to_string();
    }
    let p: Value = serde_json::from_str(payload).unwrap_or(Value::Null);
    let enc = |k: &str| {
        url::form_urlencoded::byte_serialize(p[k].as_str().unwrap_or("").as_bytes())
            .collect::<String>()
    };
    template
        .replace("{to}", &enc("to"))
        .replace("{text}", &enc("text"))
}

fn error_text(e: reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timeout"
    } else if e.is_connect() {
        "connection refused or unreachable"
    } else {
        "request failed"
    };
    format!("{kind}: {}", e.without_url())
}

/// How one platform's deliveries stand (the console's 对接平台 page and dashboard banner).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PlatformHealth {
    pub id: String,
    pub name: String,
    pub integration: &'static str,
    pub pending: i64,
    pub delivered: i64,
    pub dead: i64,
    pub manual: i64,
    pub last_error: Option<String>,
    pub last_error_at: Option<i64>,
    /// Dead messages, or pending ones after an error: what it is sent does not arrive.
    pub failing: bool,
}

/// Every platform of the region with its message counts and last error.
pub async fn platform_health(
    store: &Store,
    region: &RegionIndex,
) -> Result<Vec<PlatformHealth>, StoreError> {
    let (counts, errors) = tokio::try_join!(store.outbox_counts(), store.platform_last_errors())?;
    Ok(region
        .platforms
        .iter()
        .map(|p| {
            let n = |s: &str| {
                counts
                    .iter()
                    .find(|c| c.platform_id.as_deref() == Some(p.id.as_str()) && c.state == s)
                    .map_or(0, |c| c.n)
            };
            let last = errors.iter().find(|(id, _, _)| *id == p.id);
            PlatformHealth {
                id: p.id.clone(),
                name: p.name.clone(),
                integration: p.integration.kind_str(),
                pending: n("pending"),
                delivered: n("delivered"),
                dead: n("dead"),
                manual: n("manual"),
                last_error: last.map(|(_, e, _)| e.clone()),
                last_error_at: last.map(|(_, _, at)| *at),
                failing: n("dead") > 0 || (n("pending") > 0 && last.is_some()),
            }
        })
        .collect())
}

/// The event id receivers deduplicate on: the region and the message id.
pub fn event_id(region: &str, message_id: i64) -> String {
    format!("{region}-{message_id}")
}

/// The versioned event document of a message, under its event id.
pub fn event_document(event_id: &str, msg: &OutboxMessage) -> String {
    let data: Value = serde_json::from_str(&msg.payload).unwrap_or(Value::Null);
    json!({
        "version": EVENT_VERSION,
        "event_id": event_id,
        "type": msg.topic,
        "occurred_at": render_time(msg.created_at),
        "platform": msg.platform_id,
        "data": data,
    })
    .to_string()
}

/// `hex(HMAC-SHA256(secret, body))`.
pub fn sign(secret: &str, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(body.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// The environment variable holding a platform's signing secret when the profile names none
/// (`integration.secret_env`): `M110_SECRET_<PLATFORM ID>`.
pub fn secret_env_default(platform_id: &str) -> String {
    let id: String = platform_id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("M110_SECRET_{id}")
}

/// The secret in `name`; a variable the profile names (`required`) must be set.
fn secret_from(name: &str, required: bool) -> Result<Option<String>, String> {
    match std::env::var(name) {
        Ok(s) if !s.is_empty() => Ok(Some(s)),
        Ok(_) => Err(format!("{name} is empty")),
        Err(std::env::VarError::NotPresent) if required => {
            Err(format!("{name} is not set (the profile's secret_env)"))
        }
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => Err(format!("{name} is not UTF-8")),
    }
}

/// Wait before the next attempt after `attempts` failures, from a first delay of `base` ms;
/// `jitter` in 0..1 spreads retries of many messages apart.
pub fn backoff(base: i64, attempts: i64, jitter: f64) -> i64 {
    let exp = base.saturating_mul(1i64 << attempts.clamp(0, 20));
    let capped = exp.min(MAX_BACKOFF_MS) as f64;
    (capped * (0.5 + 0.5 * jitter.clamp(0.0, 1.0))) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        let b = DEFAULT_BACKOFF_MS;
        assert_eq!(backoff(b, 0, 1.0), 5_000);
        assert_eq!(backoff(b, 1, 1.0), 10_000);
        assert_eq!(backoff(b, 3, 0.0), 20_000);
        assert_eq!(backoff(b, 30, 1.0), MAX_BACKOFF_MS);
        assert!(backoff(b, 2, 0.5) >= 10_000 && backoff(b, 2, 0.5) <= 20_000);
    }

    #[test]
    fn signature_is_hmac_sha256_hex() {
        // RFC 4231 test case 2.
        assert_eq!(
            sign("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(
            secret_env_default("police-dispatch"),
            "M110_SECRET_POLICE_DISPATCH"
        );
    }

    #[test]
    fn event_documents_are_versioned() {
        let msg = OutboxMessage {
            id: 42,
            topic: "emergency.transfer".into(),
            payload: r#"{"case":"MS1","line":"110"}"#.into(),
            platform_id: Some("police-dispatch".into()),
            attempts: 0,
            created_at: 0,
        };
        let v: Value =
            serde_json::from_str(&event_document(&event_id("350781", msg.id), &msg)).unwrap();
        assert_eq!(v["version"], 1);
        assert_eq!(v["event_id"], "350781-42");
        assert_eq!(v["data"]["line"], "110");
    }
}
