//! Offers through the engine on both databases (docs/matching.md): several cases put out at
//! once are assigned together, each provider at most one of them; a provider reached through a
//! webhook platform gets an `offer.made` message in the outbox, the other none (it sees the offer
//! on its page); accepting dispatches the case to it; a suspended provider is never offered.

use m110_runtime::engine::ErrorKind;
use m110_runtime::engine::intake::{CaseInput, create_case};
use m110_runtime::engine::offers::{AdmitInput, PutOutInput, accept, admit, put_out, suspend};
use m110_runtime::engine::provision::{ProvisionMeta, provision};
use m110_runtime::engine::region::RegionIndex;
use m110_runtime::model::{Integration, Platform, PlatformKind, Principal, Role};
use m110_runtime::per_engine;
use m110_runtime::store::testdb::{TestDb, fixture_region, principal};
use m110_runtime::store::{Engine, Store};
use serde_json::json;

async fn take(store: &Store, region: &RegionIndex, op: &Principal, lat: f64) -> String {
    let input: CaseInput = serde_json::from_value(json!({
        "channel": "phone", "content": "家里需要保洁", "category": "housekeeping",
        "location": {"grid_code": "350781001001", "lat": lat, "lon": 117.49},
        "emergency": {"line": null},
    }))
    .unwrap();
    let case = create_case(store, region, op, input).await.unwrap().case;
    assert_eq!(
        case.status, "received",
        "a matchable category waits for its offer"
    );
    case.public_id
}

async fn batch_assignment_and_notification(engine: Engine) {
    let db = TestDb::new(engine).await;
    let store = &db.store;
    let mut region = fixture_region();
    for c in &mut region.categories {
        if c.code == "housekeeping" {
            c.matchable = true;
        }
    }
    region.platforms.push(Platform {
        id: "provider-app".into(),
        kind: PlatformKind::Other,
        name: "家政接单平台".into(),
        integration: Integration::Webhook {
            url: "http://127.0.0.1:9/offers".into(),
            secret_env: None,
        },
        cameras: None,
    });
    for u in &mut region.units {
        match u.id.as_str() {
            "anju-housekeeping" => u.platform = Some("provider-app".into()),
            "red-cross" => u.service_categories = vec!["housekeeping".into()],
            _ => {}
        }
    }
    provision(
        store,
        &region,
        &ProvisionMeta {
            profile_sha256: "offers".into(),
            kit_version: "test".into(),
            bootstrap_admin: None,
        },
    )
    .await
    .unwrap();
    let index = RegionIndex::load(store).await.unwrap();
    let sup = principal(store, "sup", Role::Supervisor, None).await;
    let op = principal(store, "op", Role::Operator, None).await;
    let anju = principal(store, "anju", Role::UnitHandler, Some("anju-housekeeping")).await;
    let unit = principal(store, "uh", Role::UnitHandler, Some("housing-bureau")).await;
    for (id, lat) in [("anju-housekeeping", 27.30), ("red-cross", 27.40)] {
        let input = AdmitInput {
            qualification: "营业执照".into(),
            valid_from: 0,
            valid_until: None,
            lat: Some(lat),
            lon: Some(117.49),
        };
        admit(store, &index, &sup, id, input).await.unwrap();
    }
    let e = admit(
        store,
        &index,
        &op,
        "housing-bureau",
        AdmitInput {
            qualification: "x".into(),
            valid_from: 0,
            valid_until: None,
            lat: None,
            lon: None,
        },
    )
    .await
    .unwrap_err();
    assert_eq!(
        e.kind,
        ErrorKind::NotFound,
        "a department is not a provider"
    );

    // Two cases at once, k = 1, one near anju and one near red-cross: one batch, each case its
    // nearest provider, no provider twice.
    let a = take(store, &index, &op, 27.31).await;
    let b = take(store, &index, &op, 27.39).await;
    let made = put_out(
        store,
        &index,
        &sup,
        PutOutInput {
            cases: vec![a.clone(), b.clone()],
            k: Some(1),
            timeout_seconds: Some(600),
        },
    )
    .await
    .unwrap();
    let unit_of = |case: &str| {
        made.iter()
            .find(|(c, _)| c == case)
            .map(|(_, o)| o.iter().map(|x| x.unit_id.clone()).collect::<Vec<_>>())
            .unwrap()
    };
    assert_eq!(unit_of(&a), ["anju-housekeeping"], "{engine:?}");
    assert_eq!(unit_of(&b), ["red-cross"], "{engine:?}");
    let messages = store.outbox("offer.made", 10).await.unwrap();
    assert_eq!(messages.len(), 1, "{engine:?}: {messages:?}");
    let m: serde_json::Value = serde_json::from_str(&messages[0].1).unwrap();
    assert_eq!(
        (m["unit"].as_str(), m["case"].as_str()),
        (Some("anju-housekeeping"), Some(a.as_str()))
    );

    // Another unit's handler cannot take it; anju accepts: the case is dispatched to it.
    let offer = made.iter().find(|(c, _)| *c == a).unwrap().1[0].id;
    let e = accept(store, &index, &unit, offer).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotFound);
    let o = accept(store, &index, &anju, offer).await.unwrap();
    assert_eq!(o.state, "accepted");
    let row = store.case_by_public_id(&a).await.unwrap();
    assert_eq!(
        (row.status.as_str(), row.unit_id.as_deref()),
        ("dispatched", Some("anju-housekeeping"))
    );
    let e = accept(store, &index, &anju, offer).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Conflict);

    // Suspended: red-cross is never offered a new case, though nearer.
    suspend(store, &index, &sup, "red-cross", Some("投诉核查中"))
        .await
        .unwrap();
    let c = take(store, &index, &op, 27.40).await;
    let made = put_out(
        store,
        &index,
        &sup,
        PutOutInput {
            cases: vec![c.clone()],
            k: Some(3),
            timeout_seconds: None,
        },
    )
    .await
    .unwrap();
    let units: Vec<&str> = made[0].1.iter().map(|o| o.unit_id.as_str()).collect();
    assert_eq!(units, ["anju-housekeeping"], "{engine:?}");
    // Not matchable: a roads case is refused, naming the field.
    let input: CaseInput = serde_json::from_value(json!({
        "channel": "phone", "content": "路面塌陷", "category": "roads",
        "location": {"grid_code": "350781001001"}, "emergency": {"line": null},
    }))
    .unwrap();
    let roads = create_case(store, &index, &op, input).await.unwrap().case;
    let e = put_out(
        store,
        &index,
        &sup,
        PutOutInput {
            cases: vec![roads.public_id],
            k: None,
            timeout_seconds: None,
        },
    )
    .await
    .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Invalid);
}

per_engine!(batch_assignment_and_notification);
