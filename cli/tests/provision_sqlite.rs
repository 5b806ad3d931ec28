//! A brand-new SQLite install is complete on disk as soon as `provision_install` returns: the same
//! process can open it and read the whole region back, and no build file is left behind.

use std::path::Path;

use m110::provision::{InstallOptions, open_install, provision_install};

#[tokio::test]
async fn new_sqlite_install_is_complete_in_the_same_process() {
    let dir = tempfile::tempdir().unwrap();
    let install = dir.path().join("350781");
    let profile = Path::new(env!("CARGO_MANIFEST_DIR")).join("../profiles/shaowu.yaml");
    let done = provision_install(&InstallOptions {
        profile: &profile,
        install_dir: &install,
        database: None,
        admin_name: "admin",
    })
    .await
    .expect("provision");
    assert_eq!(done.region_code, "350781");

    for leftover in [
        "m110.db.tmp",
        "m110.db.tmp-wal",
        "m110.db.tmp-shm",
        "m110.db-wal",
    ] {
        let p = install.join(leftover);
        let size = std::fs::metadata(&p).map(|m| m.len()).unwrap_or(0);
        assert_eq!(
            size,
            0,
            "{} should not hold data after provisioning",
            p.display()
        );
    }

    let store = open_install(&install, None).await.expect("open install");
    let region = store.load_region().await.expect("region reads back");
    assert_eq!(region.info.code, "350781");
    assert!(region.grid_units.len() > 100, "grid units were provisioned");
    store.close().await;
}
