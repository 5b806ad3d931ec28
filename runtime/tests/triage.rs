//! Triage through intake on both engines: an operator's override of a detected emergency sticks
//! and is audited, a hand-off names its line and needs the incident number of a phone transfer
//! where the line has no integration, an address never triggers an emergency, and retraining on
//! corrected cases moves a misclassified phrasing to the right category.

use m110_runtime::engine::ErrorKind;
use m110_runtime::engine::intake::{self, CaseInput, EmergencyInput, LocationInput};
use m110_runtime::engine::region::RegionIndex;
use m110_runtime::engine::triage::training;
use m110_runtime::model::{Channel, EmergencyLine, Principal, Role};
use m110_runtime::store::Engine;
use m110_runtime::store::audit::{AuditFilter, NewAudit};
use m110_runtime::store::testdb::TestDb;
use m110_runtime::store::users::NewUser;

async fn operator(db: &TestDb) -> Principal {
    let id = db
        .store
        .create_user(
            &NewUser {
                name: "op1".into(),
                role: Role::Operator,
                unit_id: None,
                grid_codes: vec![],
                password_hash: None,
            },
            &NewAudit::system("test", "user.create", None),
        )
        .await
        .unwrap();
    Principal {
        scope: None,
        user_id: id,
        name: "op1".into(),
        role: Role::Operator,
        unit_id: None,
        grid_codes: vec![],
    }
}

fn input(content: &str, emergency: Option<EmergencyInput>) -> CaseInput {
    CaseInput {
        channel: Channel::Phone,
        caller: None,
        content: content.into(),
        category: None,
        location: None,
        priority: None,
        external_id: None,
        emergency,
        open311_token: None,
    }
}

async fn emergency_decisions(engine: Engine) {
    let db = TestDb::provisioned(engine).await;
    let region = RegionIndex::load(&db.store).await.unwrap();
    let op = operator(&db).await;
    let violent = "楼下有人拿着刀追着打人";

    // No decision: the detector hands it to 110 (the fixture's police platform has a webhook).
    let auto = intake::create_case(&db.store, &region, &op, input(violent, None))
        .await
        .unwrap();
    assert_eq!(auto.case.status, "transferred_police", "{engine:?}");
    assert_eq!(auto.case.emergency_line.as_deref(), Some("110"));
    let e = auto.classification.emergency.as_ref().unwrap();
    assert_eq!(e.line, EmergencyLine::Police);
    assert!(e.evidence.iter().any(|w| w.contains('刀')), "{e:?}");
    let outbox = db.store.outbox("emergency.transfer", 10).await.unwrap();
    assert_eq!(outbox.len(), 1, "{engine:?}");
    assert!(outbox[0].1.contains("\"line\":\"110\""), "{}", outbox[0].1);

    // Saying "not an emergency" without a reason is refused, naming the field.
    let err = intake::create_case(
        &db.store,
        &region,
        &op,
        input(
            violent,
            Some(EmergencyInput {
                line: None,
                reason: None,
                incident_number: None,
            }),
        ),
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Invalid);
    assert_eq!(err.field.as_deref(), Some("emergency.reason"));

    // With a reason the override sticks, and it is on the audit log.
    let mut over = input(
        violent,
        Some(EmergencyInput {
            line: None,
            reason: Some("来电人说明是在拍短视频，无人受伤".into()),
            incident_number: None,
        }),
    );
    over.category = Some("housekeeping".into());
    let kept = intake::create_case(&db.store, &region, &op, over)
        .await
        .unwrap();
    assert_ne!(kept.case.status, "transferred_police", "{engine:?}");
    assert_eq!(kept.case.emergency_line, None);
    assert_eq!(kept.case.category_code.as_deref(), Some("housekeeping"));
    let audits = db
        .store
        .audit_entries(&AuditFilter {
            action: Some("triage.emergency_override".into()),
            ..AuditFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(audits.len(), 1, "{engine:?}");
    assert_eq!(
        audits[0].target.as_deref(),
        Some(format!("case:{}", kept.case.public_id).as_str())
    );
    let detail = audits[0].detail.as_ref().unwrap().to_string();
    assert!(
        detail.contains("拍短视频") && detail.contains("110"),
        "{detail}"
    );

    // 119 has no platform in the fixture: a confirmed hand-off needs the phone transfer's number.
    let fire = "三楼厨房着火了，烟很大";
    let confirm = |incident: Option<&str>| {
        input(
            fire,
            Some(EmergencyInput {
                line: Some(EmergencyLine::Fire),
                reason: None,
                incident_number: incident.map(Into::into),
            }),
        )
    };
    let err = intake::create_case(&db.store, &region, &op, confirm(None))
        .await
        .unwrap_err();
    assert_eq!(err.field.as_deref(), Some("emergency.incident_number"));
    let handed = intake::create_case(&db.store, &region, &op, confirm(Some("J119-0042")))
        .await
        .unwrap();
    assert_eq!(handed.case.emergency_line.as_deref(), Some("119"));
    assert_eq!(handed.case.priority, "urgent");

    // The address is never read for emergencies, even when it is full of alarming words.
    let mut quiet = input("家门口的路灯坏了好几天", None);
    quiet.location = Some(LocationInput {
        address: Some("火烧坪村持刀巷枪杆岭着火路8号".into()),
        ..LocationInput::default()
    });
    let calm = intake::create_case(&db.store, &region, &op, quiet)
        .await
        .unwrap();
    assert!(calm.classification.emergency.is_none(), "{engine:?}");
    assert_ne!(calm.case.status, "transferred_police");
}

async fn retraining_learns_corrections(engine: Engine) {
    let db = TestDb::provisioned(engine).await;
    let region = RegionIndex::load(&db.store).await.unwrap();
    let op = operator(&db).await;
    let phrase = "楼顶那个大铁罐子一直往外冒水，淌得满楼道都是";
    let before = region.triage.classify(phrase);
    let first = before.suggestions.first().map(|s| s.category.clone());
    // The operators keep filing this phrasing under a category the classifier does not pick.
    let target = if first.as_deref() == Some("water") {
        "housekeeping"
    } else {
        "water"
    };
    for i in 0..8 {
        let mut case = input(&format!("{phrase}（第{i}次来电）"), None);
        case.category = Some(target.into());
        let created = intake::create_case(&db.store, &region, &op, case)
            .await
            .unwrap();
        // Closed by the unit: the test jumps the lifecycle, which other suites cover.
        sqlx::query("UPDATE cases SET status = 'closed' WHERE id = $1")
            .bind(created.case.id)
            .execute(db.store.pool())
            .await
            .unwrap();
    }
    let done = training::retrain(&db.store, &region).await.unwrap();
    assert_eq!(done.after.cases, 8, "{engine:?}");
    assert_eq!(done.after.corrected, 8, "{engine:?}");
    let after = region.triage.classify(phrase);
    assert_eq!(
        after.suggestions.first().map(|s| s.category.as_str()),
        Some(target),
        "{engine:?}: before {before:?}, after {after:?}"
    );
    // A second process picks the stored model up.
    let fresh = RegionIndex::load(&db.store).await.unwrap();
    assert_eq!(
        training::load_latest(&db.store, &fresh).await.unwrap(),
        Some(done.id)
    );
    assert_eq!(
        fresh.triage.classify(phrase).suggestions[0].category,
        target
    );
}

m110_runtime::per_engine!(emergency_decisions, retraining_learns_corrections);
