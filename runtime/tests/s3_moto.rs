//! The S3-compatible attachment store against a real S3 server: moto's (`moto_server`, from
//! PyPI's `moto[server]`), started on a free local port. Put, head (a second put of the same key
//! is skipped), get, a missing key, and the objects where path-style keys put them. Skipped with
//! a note when `moto_server` is not on the PATH. moto accepts the requests without checking their
//! signatures; the signer itself is checked against AWS's worked example in `s3.rs`.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use std::collections::HashMap;

use m110_runtime::config::{Config, Overrides};
use m110_runtime::engine::attachments::blob::BlobStore;
use m110_runtime::engine::attachments::s3::{S3, S3Config};
use m110_runtime::engine::attachments::{self, Variant};
use m110_runtime::engine::intake::{CaseInput, create_case};
use m110_runtime::engine::region::RegionIndex;
use m110_runtime::model::{Principal, Role};
use m110_runtime::store::Engine;
use m110_runtime::store::audit::NewAudit;
use m110_runtime::store::testdb::TestDb;
use m110_runtime::store::users::NewUser;
use serde_json::json;
use sha2::{Digest, Sha256};

/// A moto server; stopped when dropped.
struct Moto {
    child: Child,
    endpoint: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn moto() -> Option<Moto> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .ok()?
        .local_addr()
        .ok()?
        .port();
    let child = Command::new("moto_server")
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let moto = Moto {
        child,
        endpoint: format!("http://127.0.0.1:{port}"),
    };
    // Wait for it to answer (a condition, not a fixed sleep).
    let http = reqwest::Client::new();
    let start = Instant::now();
    loop {
        if http.get(&moto.endpoint).send().await.is_ok() {
            return Some(moto);
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "moto_server did not answer on {}",
            moto.endpoint
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn s3_store_round_trip_against_moto() {
    let has_moto = Command::new("moto_server")
        .arg("--help")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !has_moto {
        eprintln!("note: moto_server not on the PATH (pip install 'moto[server]'); skipped");
        return;
    }
    let moto = moto().await.expect("start moto_server");
    let http = reqwest::Client::new();
    let resp = http
        .put(format!("{}/m110-test", moto.endpoint))
        // Readable without a signature, so the test can look at where the objects went.
        .header("x-amz-acl", "public-read")
        .send()
        .await
        .unwrap();
    assert!(
        resp.status().is_success(),
        "create bucket: {}",
        resp.status()
    );
    let s3 = S3::new(S3Config {
        endpoint: moto.endpoint.clone(),
        bucket: "m110-test".into(),
        region: "us-east-1".into(),
        prefix: "350781/".into(),
        access_key_id: "test".into(),
        secret_access_key: "test".into(),
    });
    let bytes = b"%PDF-1.4\n%%EOF\n".to_vec();
    let key = hex::encode(Sha256::digest(&bytes));
    assert_eq!(s3.get(&key).await.unwrap(), None, "missing before the put");
    s3.put(&key, &bytes, "application/pdf").await.unwrap();
    s3.put(&key, &bytes, "application/pdf").await.unwrap();
    assert_eq!(s3.get(&key).await.unwrap(), Some(bytes.clone()));
    // Path-style, under the prefix, split like the local directory.
    let raw = http
        .get(format!(
            "{}/m110-test/350781/{}/{}",
            moto.endpoint,
            &key[..2],
            &key[2..]
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status().as_u16(), 200);
    assert_eq!(
        raw.headers()["content-type"].to_str().unwrap(),
        "application/pdf"
    );
    assert_eq!(raw.bytes().await.unwrap().to_vec(), bytes);
    // A bucket that does not exist is an error, not "no bytes".
    let lost = S3::new(S3Config {
        endpoint: moto.endpoint.clone(),
        bucket: "no-such-bucket".into(),
        region: "us-east-1".into(),
        prefix: String::new(),
        access_key_id: "test".into(),
        secret_access_key: "test".into(),
    });
    assert!(lost.put(&key, &bytes, "application/pdf").await.is_err());
}

/// `attachments.s3` in `m110d.yaml` with the keys in the environment gives the server an S3
/// store: a case's PDF attached through the engine lands in the bucket and reads back.
#[tokio::test]
async fn the_configured_s3_store_takes_attachments() {
    if Command::new("moto_server")
        .arg("--help")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map_or(true, |s| !s.success())
    {
        eprintln!("note: moto_server not on the PATH (pip install 'moto[server]'); skipped");
        return;
    }
    let moto = moto().await.expect("start moto_server");
    let http = reqwest::Client::new();
    let resp = http
        .put(format!("{}/m110-files", moto.endpoint))
        .header("x-amz-acl", "public-read")
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success());
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("m110d.yaml"),
        format!(
            "attachments:\n  s3:\n    endpoint: \"{}\"\n    bucket: m110-files\n",
            moto.endpoint
        ),
    )
    .unwrap();
    let env: HashMap<String, String> = [
        ("M110_S3_ACCESS_KEY_ID", "test"),
        ("M110_S3_SECRET_ACCESS_KEY", "test"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let config = Config::load_with_env(dir.path(), Overrides::default(), &env).unwrap();
    let files = m110_runtime::http::attachments::blob_store(&config);
    assert!(
        files.blobs.describe().contains("m110-files"),
        "{}",
        files.blobs.describe()
    );

    let db = TestDb::provisioned(Engine::Sqlite).await;
    let store = &db.store;
    let region = RegionIndex::load(store).await.unwrap();
    let id = store
        .create_user(
            &NewUser {
                name: "op".into(),
                role: Role::Operator,
                unit_id: None,
                grid_codes: vec![],
                password_hash: None,
            },
            &NewAudit::system("test", "user.create", None),
        )
        .await
        .unwrap();
    let op = Principal {
        user_id: id,
        name: "op".into(),
        role: Role::Operator,
        unit_id: None,
        grid_codes: vec![],
        scope: None,
    };
    let input: CaseInput = serde_json::from_value(json!({
        "channel": "phone", "content": "来信反映楼道积水", "category": "roads",
        "emergency": {"line": null},
    }))
    .unwrap();
    let case = create_case(store, &region, &op, input).await.unwrap().case;
    let pdf = b"%PDF-1.4\n% letter\n%%EOF\n";
    let a = attachments::attach(store, &region, &files, &op, case.id, "信.pdf", pdf, None)
        .await
        .unwrap();
    let raw = http
        .get(format!(
            "{}/m110-files/{}/{}",
            moto.endpoint,
            &a.sha256[..2],
            &a.sha256[2..]
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status().as_u16(), 200);
    assert_eq!(raw.bytes().await.unwrap().to_vec(), pdf.to_vec());
    let c = attachments::content(store, &region, &files, &op, a.id, Variant::File)
        .await
        .unwrap();
    assert_eq!(c.bytes, pdf.to_vec());
    // Nothing was written to the install directory.
    assert!(!dir.path().join("attachments").exists());
}
