//! Cameras through provisioning and upgrades, on both engines: the fixture's cameras read back;
//! an upgrade to a region that adds a camera, moves one and drops one plans those changes
//! (`cameras[id]…`) and applies them, and the install then reads back the new region.

use m110_runtime::engine::provision::{ProvisionMeta, provision};
use m110_runtime::engine::regiondiff::ChangeKind;
use m110_runtime::engine::upgrade::{UpgradeMeta, upgrade};
use m110_runtime::model::{Camera, LatLon};
use m110_runtime::store::Engine;
use m110_runtime::store::testdb::{TestDb, fixture_region};

async fn an_upgrade_adds_moves_and_drops_cameras(engine: Engine) {
    let db = TestDb::new(engine).await;
    let s = &db.store;
    let region = fixture_region();
    let meta = ProvisionMeta {
        profile_sha256: "0".repeat(64),
        kit_version: "test".into(),
        bootstrap_admin: None,
    };
    provision(s, &region, &meta).await.unwrap();
    assert_eq!(s.load_region().await.unwrap().cameras, region.cameras);

    let mut target = region.clone();
    target.cameras.remove(1);
    target.cameras[0].location = Some(LatLon {
        lat: 27.3410,
        lon: 117.4840,
    });
    target.cameras.push(Camera {
        id: "35078100001310000003".into(),
        name: "熙春公园东门".into(),
        kind: "public_security".into(),
        grid: Some("350781001002".into()),
        location: Some(LatLon {
            lat: 27.3381,
            lon: 117.4795,
        }),
        platform: Some("xueliang".into()),
        link: Some("https://vms.example/live?camera=35078100001310000003".into()),
    });
    let um = UpgradeMeta {
        profile_sha256: "1".repeat(64),
        kit_version: "test".into(),
    };
    let plan = upgrade(s, &target, &[], &um, false, None, false)
        .await
        .unwrap();
    let camera_changes: Vec<(String, ChangeKind)> = plan
        .changes
        .iter()
        .filter(|c| c.section() == "cameras")
        .map(|c| (c.entry().unwrap_or("").to_string(), c.kind))
        .collect();
    assert!(
        camera_changes.contains(&("35078100001310000003".into(), ChangeKind::Added)),
        "{engine:?}: {camera_changes:?}"
    );
    assert!(
        camera_changes.contains(&("35078100001310000002".into(), ChangeKind::Removed)),
        "{engine:?}: {camera_changes:?}"
    );
    assert!(
        camera_changes.contains(&("35078100001310000001".into(), ChangeKind::Changed)),
        "{engine:?}: {camera_changes:?}"
    );
    // The plan alone changes nothing.
    assert_eq!(s.load_region().await.unwrap().cameras, region.cameras);
    let done = upgrade(s, &target, &[], &um, true, Some(&plan.hash), false)
        .await
        .unwrap();
    assert!(done.applied);
    assert_eq!(
        s.load_region().await.unwrap(),
        target,
        "{engine:?}: the upgraded install reads back the new region"
    );
}

m110_runtime::per_engine!(an_upgrade_adds_moves_and_drops_cameras);
