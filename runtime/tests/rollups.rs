//! The write-time rollups equal a full recount: randomized streams of intakes and lifecycle
//! actions (fixed seeds, so a failure replays; the seed and the operations are printed) through
//! the real engines, on both databases; then `rebuild` and `sync` give the same rows.

use std::collections::BTreeMap;

use m110_runtime::engine::actions::{ActionInput, allowed_for, perform};
use m110_runtime::engine::analytics::{self, By, Query};
use m110_runtime::engine::intake::{CaseInput, create_case};
use m110_runtime::engine::region::RegionIndex;
use m110_runtime::model::{Principal, Role};
use m110_runtime::per_engine;
use m110_runtime::store::rollups::{Dim, RollupFilter};
use m110_runtime::store::testdb::{TestDb, fixture_region, principal};
use m110_runtime::store::{Engine, Store};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde_json::json;

const SEEDS: [u64; 3] = [7, 110, 12345];
const OPS: usize = 160;

/// Phones with a fixed profile each: a caller's profile never changes in the stream, so the
/// recount may read it from `callers`.
const CALLERS: [(&str, &str, &str, &str); 4] = [
    ("13800000001", "female", "30-39", "教师"),
    ("13800000002", "male", "60+", "退休"),
    ("13800000003", "male", "18-29", "个体户"),
    ("13800000004", "other", "40-49", "农民"),
];

const ACTIONS: [&str; 14] = [
    "dispatch",
    "sign",
    "start",
    "reply",
    "return",
    "request_extension",
    "grant_extension",
    "follow_up",
    "close",
    "redispatch",
    "reopen",
    "urge",
    "answer",
    "supervise",
];

async fn stream(store: &Store, region: &RegionIndex, seed: u64) -> Vec<String> {
    let mut rng = StdRng::seed_from_u64(seed);
    let fixture = fixture_region();
    let categories: Vec<String> = fixture
        .categories
        .iter()
        .filter(|c| !c.police)
        .map(|c| c.code.clone())
        .collect();
    let grids: Vec<String> = fixture.grid_units.iter().map(|g| g.code.clone()).collect();
    let units: Vec<String> = region
        .units
        .iter()
        .filter(|u| {
            !matches!(
                u.kind,
                m110_runtime::model::UnitKind::Center | m110_runtime::model::UnitKind::Police
            )
        })
        .map(|u| u.id.clone())
        .collect();
    let operator = principal(store, "op", Role::Operator, None).await;
    let supervisor = principal(store, "sup", Role::Supervisor, None).await;
    let mut handlers = BTreeMap::new();
    for u in &units {
        let p = principal(store, &format!("h-{u}"), Role::UnitHandler, Some(u)).await;
        handlers.insert(u.clone(), p);
    }
    let mut cases: Vec<String> = Vec::new();
    let mut log = Vec::new();
    for _ in 0..OPS {
        if cases.is_empty() || rng.gen_bool(0.35) {
            let caller = CALLERS.choose(&mut rng).unwrap();
            let channel = ["phone", "web", "sms"][rng.gen_range(0..3)];
            let mut body = json!({
                "channel": channel,
                "content": "路灯坏了，晚上很黑，请尽快处理",
            });
            if rng.gen_bool(0.7) {
                body["category"] = json!(categories.choose(&mut rng).unwrap());
            }
            if rng.gen_bool(0.7) {
                body["location"] = json!({"grid_code": grids.choose(&mut rng).unwrap()});
            }
            if rng.gen_bool(0.8) {
                body["caller"] = json!({"phone": caller.0, "gender": caller.1,
                    "age_band": caller.2, "occupation": caller.3});
            }
            body["emergency"] = json!({"line": null});
            let input: CaseInput = serde_json::from_value(body.clone()).unwrap();
            match create_case(store, region, &operator, input).await {
                Ok(c) => {
                    log.push(format!("intake {body} -> {}", c.case.public_id));
                    cases.push(c.case.public_id.clone());
                }
                Err(e) => log.push(format!("intake {body} refused: {e}")),
            }
            continue;
        }
        let id = cases.choose(&mut rng).unwrap().clone();
        let row = store.case_by_public_id(&id).await.unwrap();
        // Whoever may act on the case now, and what they may do: one of those, at random.
        let mut people = vec![operator.clone(), supervisor.clone()];
        if let Some(h) = row.unit_id.as_ref().and_then(|u| handlers.get(u)) {
            people.push(h.clone());
        }
        let mut candidates: Vec<(&'static str, Principal)> = Vec::new();
        for p in &people {
            for a in allowed_for(p, &row, &region.center) {
                if ACTIONS.contains(&a) {
                    candidates.push((a, p.clone()));
                }
            }
        }
        let Some((action, who)) = candidates.choose(&mut rng).cloned() else {
            continue;
        };
        let mut body = json!({"action": action, "note": "随机"});
        match action {
            "dispatch" | "redispatch" => {
                body["unit"] = json!(units.choose(&mut rng).unwrap());
                if rng.gen_bool(0.3) {
                    // The operator corrects the classifier: every fact of the case moves.
                    body["category"] = json!(categories.choose(&mut rng).unwrap());
                }
                body["reason"] = json!("改派测试");
            }
            "follow_up" => {
                let s = ["satisfied", "mostly_satisfied", "unsatisfied"][rng.gen_range(0..3)];
                body["satisfaction"] = json!(s);
            }
            "request_extension" => {
                body["hours"] = json!(24);
                body["reason"] = json!("需要协调");
            }
            "return" | "reopen" => body["reason"] = json!("不属于本单位"),
            _ => {}
        }
        let input: ActionInput = serde_json::from_value(body.clone()).unwrap();
        let outcome = perform(store, region, &who, &id, input).await;
        log.push(format!(
            "{id} {body} by {:?}: {}",
            who.role,
            match outcome {
                Ok(r) => format!("ok -> {}", r.status),
                Err(e) => format!("refused ({e})"),
            }
        ));
    }
    log
}

/// What the rollups say, summed by `dims`, for one metric: key → count.
async fn rolled(store: &Store, dims: &[Dim], metric: &str) -> BTreeMap<Vec<String>, i64> {
    let all = RollupFilter {
        from_day: 0,
        to_day: i64::MAX / 2,
        ..Default::default()
    };
    store
        .rollup_sums(&all, dims)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.metric == metric)
        .map(|r| (r.keys, r.n))
        .collect()
}

/// A recount straight from the cases and their timelines.
async fn recount(store: &Store, sql: &str) -> BTreeMap<Vec<String>, i64> {
    let rows: Vec<(String, String, i64)> =
        sqlx::query_as(sql).fetch_all(store.pool()).await.unwrap();
    rows.into_iter().map(|(a, b, n)| (vec![a, b], n)).collect()
}

async fn rollups_equal_a_full_recount(engine: Engine) {
    for seed in SEEDS {
        let db = TestDb::provisioned(engine).await;
        let store = &db.store;
        let region = RegionIndex::load(store).await.unwrap();
        let log = stream(store, &region, seed).await;
        let context = || format!("{engine:?} seed {seed}:\n{}", log.join("\n"));
        // The stream is not vacuous: actions of most kinds went through.
        let done: std::collections::BTreeSet<&str> = log
            .iter()
            .filter(|l| l.contains(": ok"))
            .filter_map(|l| l.split("\"action\":\"").nth(1))
            .filter_map(|l| l.split('"').next())
            .collect();
        eprintln!(
            "seed {seed}: {} operations, actions done: {done:?}",
            log.len()
        );
        assert!(done.len() >= 10, "{}", context());
        let c = "COALESCE(c.category_code, '')";
        for (dims, metric, sql) in [
            (
                vec![Dim::Category, Dim::Channel],
                "received",
                format!("SELECT {c}, c.channel, COUNT(*) FROM cases c GROUP BY {c}, c.channel"),
            ),
            (
                vec![Dim::Grid, Dim::Gender],
                "received",
                "SELECT COALESCE(c.grid_code, ''), COALESCE(p.gender, ''), COUNT(*) FROM cases c \
                 LEFT JOIN callers p ON p.id = c.caller_id \
                 GROUP BY COALESCE(c.grid_code, ''), COALESCE(p.gender, '')"
                    .to_string(),
            ),
            (
                vec![Dim::Category, Dim::Unit],
                "dispatched",
                format!(
                    "SELECT {c}, e.unit_id, COUNT(*) FROM case_events e \
                     JOIN cases c ON c.id = e.case_id \
                     WHERE e.kind IN ('dispatched', 'redispatched', 'rerouted') \
                     AND e.unit_id IS NOT NULL GROUP BY {c}, e.unit_id"
                ),
            ),
            (
                vec![Dim::Category, Dim::Channel],
                "closed",
                format!(
                    "SELECT {c}, c.channel, COUNT(*) FROM case_events e \
                     JOIN cases c ON c.id = e.case_id WHERE e.kind = 'closed' \
                     GROUP BY {c}, c.channel"
                ),
            ),
            (
                vec![Dim::Category, Dim::Channel],
                "followed_up",
                format!(
                    "SELECT {c}, c.channel, COUNT(*) FROM case_events e \
                     JOIN cases c ON c.id = e.case_id WHERE e.kind IN ('followed_up', 'redo') \
                     GROUP BY {c}, c.channel"
                ),
            ),
            (
                vec![Dim::Category, Dim::Channel],
                "returned",
                format!(
                    "SELECT {c}, c.channel, COUNT(*) FROM case_events e \
                     JOIN cases c ON c.id = e.case_id WHERE e.kind = 'returned' \
                     GROUP BY {c}, c.channel"
                ),
            ),
        ] {
            assert_eq!(
                rolled(store, &dims, metric).await,
                recount(store, &sql).await,
                "{metric} by {dims:?} — {}",
                context()
            );
        }
        // Signs: the rollups' count and their duration histogram agree with the timeline.
        let (signed,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM case_events WHERE kind = 'signed'")
                .fetch_one(store.pool())
                .await
                .unwrap();
        let rolled_signed: i64 = rolled(store, &[], "signed").await.values().sum();
        let rolled_hist: i64 = rolled(store, &[], "sign_time").await.values().sum();
        assert!(rolled_signed <= signed, "{}", context());
        assert_eq!(rolled_signed, rolled_hist, "{}", context());

        // The analytics read the same figures.
        let q = Query {
            from: 0,
            to: i64::MAX / 4,
            ..Default::default()
        };
        let totals = analytics::totals(store, &region, &q).await.unwrap();
        let (cases,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM cases")
            .fetch_one(store.pool())
            .await
            .unwrap();
        assert_eq!(totals.received, cases, "{}", context());
        let by_channel = analytics::breakdown(store, &region, &q, By::Channel)
            .await
            .unwrap();
        let sum: i64 = by_channel
            .iter()
            .filter_map(|r| r.figures.as_ref())
            .map(|f| f.counts.received)
            .sum();
        assert_eq!(sum, cases, "{}", context());

        // A rebuild from scratch, and a sync of an install that never had rollups, agree.
        let incremental = store.rollup_rows().await.unwrap();
        assert!(!incremental.is_empty());
        let (n, _) = store.rebuild_rollups().await.unwrap();
        assert_eq!(n as i64, cases);
        assert_eq!(
            store.rollup_rows().await.unwrap(),
            incremental,
            "rebuild — {}",
            context()
        );
        sqlx::query("DELETE FROM rollups")
            .execute(store.pool())
            .await
            .unwrap();
        sqlx::query("DELETE FROM case_facts")
            .execute(store.pool())
            .await
            .unwrap();
        assert_eq!(store.sync_rollups().await.unwrap() as i64, cases);
        assert_eq!(
            store.rollup_rows().await.unwrap(),
            incremental,
            "sync — {}",
            context()
        );
        assert_eq!(
            store.sync_rollups().await.unwrap(),
            0,
            "nothing left to sync"
        );
    }
}

per_engine!(rollups_equal_a_full_recount);
