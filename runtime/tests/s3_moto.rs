//! The S3-compatible attachment store against a real S3 server: moto's (`moto_server`, from
//! PyPI's `moto[server]`), started on a free local port. Put, head (a second put of the same key
//! is skipped), get, a missing key, and the objects where path-style keys put them. Skipped with
//! a note when `moto_server` is not on the PATH. moto accepts the requests without checking their
//! signatures; the signer itself is checked against AWS's worked example in `s3.rs`.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use m110_runtime::engine::attachments::blob::BlobStore;
use m110_runtime::engine::attachments::s3::{S3, S3Config};
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
