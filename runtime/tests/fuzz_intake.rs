//! Fuzzing intake (issue 14, item 7): the `POST /api/v1/cases` body as the API reads it
//! (`http::error::parse_json::<CaseInput>`), triage over it, and the intake engine
//! (`engine::intake::create_case`: validation, then the write) on the fixture region.
//!
//! Two generators: real bodies mutated byte-wise (flips, truncation, inserted JSON fragments,
//! huge numbers, NUL, invalid UTF-8, deep nesting) and bodies built field by field (known
//! fields with values of any type and size, unknown fields, missing ones).
//!
//! The properties: nothing panics; a body the API cannot read is a 400/422; a body it reads is
//! either a case whose text is the submitted text trimmed, or a refusal that is not a 500 (a 503
//! "busy" is allowed: it is a bounded wait, not a bug). One test per engine: SQLite always,
//! PostgreSQL when `M110_TEST_PG_URL` is set (PostgreSQL refuses what SQLite stores, e.g. NUL).
//!
//! Corpus: `tests/fuzz-corpus/intake/` (`*.json`; saved failures `crash-*.json`). Bounded by
//! `PROPTEST_CASES` (default 256), seeded; see `fuzzkit/mod.rs`.

mod fuzzkit;

use std::collections::BTreeMap;
use std::sync::Mutex;

use axum::http::StatusCode;
use m110_runtime::engine::intake::{CaseInput, create_case, triage};
use m110_runtime::engine::region::RegionIndex;
use m110_runtime::http::error::{ApiError, parse_json};
use m110_runtime::model::{Principal, Role};
use m110_runtime::store::Engine;
use m110_runtime::store::audit::NewAudit;
use m110_runtime::store::testdb::{TestDb, postgres_enabled, principal};
use m110_runtime::store::users::NewUser;
use proptest::prelude::*;
use serde_json::{Map, Value, json};
use tokio::runtime::Runtime;

use fuzzkit::Shape;

const SHAPE: Shape = Shape {
    record: b',',
    value_sep: b":",
    fragments: &[
        b"null",
        b"true",
        b"[]",
        b"{}",
        b"\"\"",
        b"\" \"",
        b"\"\\u0000\"",
        b"\"\\ud800\"",
        b"\"\\udc00\\ud800\"",
        b"\"\\uD83D\\uDE00\"",
        b"\"\\\"",
        b"1e308",
        b"-1e-400",
        b"123456789012345678901234567890",
        b"-0.0",
        b"1.7976931348623157e309",
        b"\"open311\"",
        b"\"grid\"",
        b"\"110\"",
        b"\"119\"",
        b"\"350781001001\"",
        b"\"350781999\"",
        b"\"police.emergency\"",
        b"\"roads.streetlight\"",
        b"\"+86138000012341234\"",
        b"\"--++--\"",
        b",\"extra\":1",
        b",\"content\":\"dup\"",
        b",\"open311_token\":\"t\"",
        b"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
        b"{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":",
        b"\"\\t\\n\\r\\f\\b\"",
        "\"路灯不亮 打架 报警 停水\"".as_bytes(),
        b"}",
        b"]",
        b":",
        b"'",
    ],
};

/// What a check needs: a runtime, a provisioned fixture region, principals of several roles.
struct Target {
    rt: Runtime,
    /// `Option` so that `Drop` can close it inside the runtime (the pool needs one to close).
    db: Option<TestDb>,
    region: RegionIndex,
    principals: Vec<Principal>,
    /// What the inputs became (for the log and the note): outcome → count.
    outcomes: Mutex<BTreeMap<String, u64>>,
}

impl Drop for Target {
    fn drop(&mut self) {
        let _inside = self.rt.enter();
        drop(self.db.take());
    }
}

impl Target {
    fn new(engine: Engine) -> Target {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let (db, region, principals) = rt.block_on(async {
            let db = TestDb::provisioned(engine).await;
            let region = RegionIndex::load(&db.store).await.expect("region index");
            let operator = principal(&db.store, "op", Role::Operator, None).await;
            let dispatcher = principal(&db.store, "disp", Role::Dispatcher, None).await;
            let handler =
                principal(&db.store, "unit", Role::UnitHandler, Some("housing-bureau")).await;
            let grid_codes = vec!["350781002001".to_string()];
            let id = db
                .store
                .create_user(
                    &NewUser {
                        name: "grid".into(),
                        role: Role::GridWorker,
                        unit_id: None,
                        grid_codes: grid_codes.clone(),
                        password_hash: None,
                    },
                    &NewAudit::system("test", "user.create", None),
                )
                .await
                .expect("grid worker");
            let grid = Principal {
                user_id: id,
                name: "grid".into(),
                role: Role::GridWorker,
                unit_id: None,
                grid_codes,
                scope: None,
            };
            (db, region, vec![operator, dispatcher, handler, grid])
        });
        Target {
            rt,
            db: Some(db),
            region,
            principals,
            outcomes: Mutex::default(),
        }
    }

    fn tally(&self, outcome: String) {
        *self
            .outcomes
            .lock()
            .expect("tally")
            .entry(outcome)
            .or_default() += 1;
    }

    /// Prints and resets the tally.
    fn report(&self, what: &str) {
        let tally = std::mem::take(&mut *self.outcomes.lock().expect("tally"));
        eprintln!("fuzz intake {what}: {tally:?}");
    }

    /// Reads `body` as the API does and, when it reads, submits it as every principal.
    fn check(&self, body: &[u8]) -> Result<(), String> {
        let input: CaseInput = match parse_json(body) {
            Ok(input) => input,
            Err(e) => {
                let status = e.status();
                self.tally(format!("unreadable {}", status.as_u16()));
                return if matches!(
                    status,
                    StatusCode::BAD_REQUEST | StatusCode::UNPROCESSABLE_ENTITY
                ) {
                    Ok(())
                } else {
                    Err(format!("unreadable body answered {status}: {e}"))
                };
            }
        };
        let location = input.location.clone().unwrap_or_default();
        let _ = triage(&self.region, &input.content, &location);
        let store = &self.db.as_ref().expect("open until drop").store;
        for who in &self.principals {
            let outcome = self
                .rt
                .block_on(create_case(store, &self.region, who, input.clone()));
            match outcome {
                Ok(created) => {
                    self.tally("created".into());
                    if created.case.content != input.content.trim() {
                        return Err(format!(
                            "{:?} stored {:?} for {:?}",
                            who.role, created.case.content, input.content
                        ));
                    }
                }
                Err(e) => {
                    let shown = e.to_string();
                    let status = ApiError::from(e).status();
                    self.tally(format!("refused {}", status.as_u16()));
                    if status.is_server_error() && status != StatusCode::SERVICE_UNAVAILABLE {
                        return Err(format!("{:?}: {status} {shown}", who.role));
                    }
                }
            }
        }
        Ok(())
    }
}

/// Any JSON value, nested a few levels.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        text().prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
            prop::collection::btree_map("\\PC{0,8}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Strings intake cares about: free Unicode, phone-ish, codes, whitespace, the limits ± 1.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "\\PC{0,60}",
        "[+0-9 ()-]{0,26}",
        "[ \t\n\u{3000}\u{a0}]{0,4}",
        prop::sample::select(vec![
            "phone",
            "web",
            "grid",
            "sms",
            "open311",
            "110",
            "119",
            "120",
            "122",
            "male",
            "female",
            "other",
            "urgent",
            "high",
            "normal",
            "low",
            "350781001001",
            "350781002001",
            "350781001",
            "roads",
            "roads.streetlight",
            "water",
            "police.emergency",
            "housekeeping",
            "路灯不亮",
            "有人打架，快报警",
            "停水",
        ])
        .prop_map(str::to_string),
        (
            prop::sample::select(vec![
                99usize, 100, 101, 199, 200, 201, 499, 500, 501, 3999, 4000, 4001
            ]),
            prop::sample::select(vec!["路", "a", " ", "𠮷"])
        )
            .prop_map(|(n, s)| s.repeat(n)),
    ]
}

/// A value for a field: usually a string, sometimes anything.
fn field_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        8 => text().prop_map(Value::from),
        1 => Just(Value::Null),
        1 => any_json(),
    ]
}

/// An object with some of `fields` and, now and then, a field the type does not know.
fn object(fields: &'static [&'static str]) -> impl Strategy<Value = Value> {
    (
        prop::collection::vec(
            (prop::sample::select(fields), field_value()),
            0..fields.len() + 1,
        ),
        prop::option::weighted(0.05, ("\\PC{0,10}", any_json())),
    )
        .prop_map(|(kv, odd)| {
            let mut m: Map<String, Value> =
                kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
            if let Some((k, v)) = odd {
                m.insert(k, v);
            }
            Value::Object(m)
        })
}

/// Mostly one of `valid`, sometimes anything.
fn mostly(valid: &'static [&'static str]) -> impl Strategy<Value = Value> {
    prop_oneof![
        8 => prop::sample::select(valid).prop_map(Value::from),
        1 => field_value(),
    ]
}

/// Bodies built field by field around `CaseInput`'s shape, biased towards bodies that read, so
/// most reach validation and many become cases.
fn structured_body() -> impl Strategy<Value = Vec<u8>> {
    let caller = object(&["phone", "name", "gender", "age_band", "occupation"]);
    let location = (
        object(&["grid_code", "address"]),
        prop::option::of((-200.0f64..200.0, -400.0f64..400.0)),
    )
        .prop_map(|(mut o, ll)| {
            if let (Some((lat, lon)), Value::Object(m)) = (ll, &mut o) {
                m.insert("lat".into(), json!(lat));
                m.insert("lon".into(), json!(lon));
            }
            o
        });
    let emergency = (
        prop::option::of(mostly(&["110", "119", "120", "122"])),
        object(&["reason", "incident_number"]),
    )
        .prop_map(|(line, mut o)| {
            if let Value::Object(m) = &mut o {
                m.insert("line".into(), line.unwrap_or(Value::Null));
            }
            o
        });
    (
        prop::option::weighted(0.95, mostly(&["phone", "web", "grid", "sms", "open311"])),
        prop::option::weighted(0.95, field_value()),
        prop::option::of(prop_oneof![9 => caller, 1 => any_json()]),
        prop::option::of(prop_oneof![9 => location, 1 => any_json()]),
        prop::option::of(prop_oneof![9 => emergency, 1 => any_json()]),
        prop::option::of(mostly(&["urgent", "high", "normal", "low"])),
        object(&["category", "external_id"]),
    )
        .prop_map(
            |(channel, content, caller, location, emergency, priority, rest)| {
                let mut m = match rest {
                    Value::Object(m) => m,
                    _ => Map::new(),
                };
                for (k, v) in [
                    ("channel", channel),
                    ("content", content),
                    ("caller", caller),
                    ("location", location),
                    ("emergency", emergency),
                    ("priority", priority),
                ] {
                    if let Some(v) = v {
                        m.insert(k.into(), v);
                    }
                }
                serde_json::to_vec(&Value::Object(m)).expect("serialize")
            },
        )
}

fn seeds() -> Vec<Vec<u8>> {
    fuzzkit::corpus("intake")
        .into_iter()
        .map(|(_, b)| b)
        .collect()
}

fn replay(engine: Engine) {
    let t = Target::new(engine);
    let n = fuzzkit::replay("intake", &|b| t.check(b));
    t.report("corpus");
    eprintln!("fuzz intake ({engine:?}): {n} corpus files replayed");
}

fn generate(engine: Engine, cases: u32) {
    let t = Target::new(engine);
    fuzzkit::run(
        "intake",
        "json",
        cases,
        fuzzkit::mutated(seeds(), SHAPE),
        &|b| t.check(b),
    );
    t.report("mutated seeds");
    fuzzkit::run("intake", "json", cases, structured_body(), &|b| t.check(b));
    t.report("structured bodies");
}

#[test]
fn corpus_replays_clean_sqlite() {
    replay(Engine::Sqlite);
}

#[test]
fn corpus_replays_clean_postgres() {
    if postgres_enabled() {
        replay(Engine::Postgres);
    } else {
        eprintln!("note: M110_TEST_PG_URL unset, PostgreSQL variant skipped");
    }
}

#[test]
fn generated_bodies_sqlite() {
    generate(Engine::Sqlite, fuzzkit::DEFAULT_CASES * 4);
}

#[test]
fn generated_bodies_postgres() {
    if postgres_enabled() {
        generate(Engine::Postgres, fuzzkit::DEFAULT_CASES * 4);
    } else {
        eprintln!("note: M110_TEST_PG_URL unset, PostgreSQL variant skipped");
    }
}
