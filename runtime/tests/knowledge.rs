//! The knowledge base's engine on both engines: suggestions by meaning through the region's
//! segmenter, expired and retired entries never suggested, who may write, fields named, edits
//! at a stale version refused and the index following an edit at once.

use m110_runtime::engine::knowledge::*;
use m110_runtime::engine::region::RegionIndex;
use m110_runtime::model::{Principal, Role};
use m110_runtime::per_engine;
use m110_runtime::store::Engine;
use m110_runtime::store::audit::NewAudit;
use m110_runtime::store::knowledge::KnowledgeFilter;
use m110_runtime::store::testdb::{TestDb, fixture_region};
use m110_runtime::store::users::NewUser;

fn principal(user_id: i64, role: Role) -> Principal {
    Principal {
        user_id,
        name: "kb".into(),
        role,
        unit_id: None,
        grid_codes: Vec::new(),
        scope: None,
    }
}

fn input(q: &str, a: &str, category: Option<&str>, until: Option<&str>) -> KnowledgeInput {
    KnowledgeInput {
        question: q.into(),
        answer: a.into(),
        category: category.map(Into::into),
        source_unit: Some("housing-bureau".into()),
        valid_until: until.map(Into::into),
        expected_version: None,
    }
}

per_engine!(suggests_by_meaning_skips_expired_and_retired_and_guards_edits);
async fn suggests_by_meaning_skips_expired_and_retired_and_guards_edits(engine: Engine) {
    let db = TestDb::provisioned(engine).await;
    let store = &db.store;
    let region = RegionIndex::from_region(&fixture_region());
    let audit = NewAudit::system("test", "user.create", None);
    let mut ids = Vec::new();
    for (name, role) in [("sup", Role::Supervisor), ("op", Role::Operator)] {
        let user = NewUser {
            name: name.into(),
            role,
            unit_id: None,
            grid_codes: Vec::new(),
            password_hash: None,
        };
        ids.push(store.create_user(&user, &audit).await.unwrap());
    }
    let sup = principal(ids[0], Role::Supervisor);
    let op = principal(ids[1], Role::Operator);
    let water = create(
        store,
        &region,
        &sup,
        &input(
            "停水了什么时候恢复供水？",
            "计划停水提前一天公告；突发停水请拨打供水公司抢修热线，一般4小时内恢复。",
            Some("water"),
            None,
        ),
    )
    .await
    .unwrap();
    let dibao = create(
        store,
        &region,
        &sup,
        &input(
            "低保怎么申请？",
            "持户口簿、身份证到户籍所在地社区（村）提出申请，民政部门审核后发放。",
            None,
            Some("2099-12-31"),
        ),
    )
    .await
    .unwrap();
    let expired = create(
        store,
        &region,
        &sup,
        &input(
            "医保报销比例是多少？",
            "住院报销比例按医院等级：一级90%。",
            None,
            Some("2020-01-01"),
        ),
    )
    .await
    .unwrap();
    let top = |v: Vec<Suggestion>| v.first().map(|s| s.id);
    let ask = |t: &'static str| suggest(store, &region, t, 5);
    assert_eq!(
        top(ask("小区一直没水，啥时候能来水").await.unwrap()),
        Some(water.id)
    );
    assert_eq!(
        top(ask("想给母亲办低保，要带什么材料").await.unwrap()),
        Some(dibao.id)
    );
    let medical = ask("住院医保能报销多少").await.unwrap();
    assert!(medical.iter().all(|s| s.id != expired.id), "{medical:?}");
    // An operator reads and answers; only admins and supervisors write.
    let e = create(store, &region, &op, &input("问", "答", None, None))
        .await
        .unwrap_err();
    assert_eq!(
        (e.kind, e.key),
        (
            m110_runtime::engine::ErrorKind::Forbidden,
            "knowledge_edit_forbidden"
        )
    );
    assert!(
        e.message.contains("admins and supervisors"),
        "{}",
        e.message
    );
    // Bad fields name themselves.
    let e = create(store, &region, &sup, &input("", "答", None, None))
        .await
        .unwrap_err();
    assert_eq!(e.field.as_deref(), Some("question"));
    let e = create(store, &region, &sup, &input("问", "答", Some("nope"), None))
        .await
        .unwrap_err();
    assert_eq!(e.field.as_deref(), Some("category"));
    let e = create(
        store,
        &region,
        &sup,
        &input("问", "答", None, Some("31/12/2099")),
    )
    .await
    .unwrap_err();
    assert_eq!(e.field.as_deref(), Some("valid_until"));
    // An edit at a stale version changes nothing; the index follows an edit at once.
    let mut edit = input(
        "停水了什么时候恢复供水？",
        "新的答复口径：供水公司24小时热线。",
        Some("water"),
        None,
    );
    edit.expected_version = Some(water.version + 5);
    let e = update(store, &region, &sup, water.id, &edit)
        .await
        .unwrap_err();
    assert_eq!(e.key, "knowledge_stale");
    edit.expected_version = Some(water.version);
    let edited = update(store, &region, &sup, water.id, &edit).await.unwrap();
    assert_eq!(edited.version, water.version + 1);
    let got = ask("小区一直没水，啥时候能来水").await.unwrap();
    assert!(got[0].answer.starts_with("新的答复口径"), "{got:?}");
    // A retired entry is no longer suggested, and is kept.
    retire(store, &sup, dibao.id, None).await.unwrap();
    let got = ask("想给母亲办低保，要带什么材料").await.unwrap();
    assert!(got.iter().all(|s| s.id != dibao.id), "{got:?}");
    assert!(
        !store
            .knowledge_entry(dibao.id)
            .await
            .unwrap()
            .unwrap()
            .active
    );
    let audited = store
        .knowledge_entries(&KnowledgeFilter {
            include_retired: true,
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(audited.len(), 3);
}
