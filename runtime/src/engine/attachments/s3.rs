/*!
An S3-compatible [`BlobStore`] (AWS S3, MinIO, Ceph RGW, Alibaba OSS, Tencent COS in S3 mode),
for installs where several `m110d` share the attachments.

Only three requests are needed — PUT, GET and HEAD of one object, path-style
(`{endpoint}/{bucket}/{prefix}ab/cdef…`) — so they are signed here with AWS Signature Version 4
over the HTTP client and HMAC-SHA256 the runtime already has. The S3 SDKs (aws-sdk-s3 with its
smithy runtime, or rust-s3) would add about a hundred crates for these three calls. The signer is
checked against the example in AWS's documentation ([`tests`]).
*/

use std::io;
use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use super::blob::{BlobStore, BoxFuture, key_path, valid_key};

/// Where the bucket is and how to sign for it.
#[derive(Debug, Clone)]
pub struct S3Config {
    /// `https://oss-cn-hangzhou.aliyuncs.com`, `http://127.0.0.1:9000` …
    pub endpoint: String,
    pub bucket: String,
    /// Signing region (`us-east-1` for MinIO unless it was set otherwise).
    pub region: String,
    /// Prepended to every object key (e.g. `m110/350781/`).
    pub prefix: String,
    pub access_key_id: String,
    pub secret_access_key: String,
}

/// The S3-compatible store.
pub struct S3 {
    config: S3Config,
    http: reqwest::Client,
}

impl S3 {
    pub fn new(config: S3Config) -> S3 {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            // Building fails only when the TLS backend cannot start; the default client then
            // reports the same failure on the first request, where it is logged.
            .unwrap_or_default();
        S3 { config, http }
    }

    /// The object path of a key: `/bucket/prefix/ab/cdef…`, URI-encoded as SigV4 wants it.
    fn object_path(&self, key: &str) -> String {
        let full = format!("{}{}", self.config.prefix, key_path(key));
        let mut path = format!("/{}", uri_encode(&self.config.bucket));
        for seg in full.split('/').filter(|s| !s.is_empty()) {
            path.push('/');
            path.push_str(&uri_encode(seg));
        }
        path
    }

    async fn send(
        &self,
        method: reqwest::Method,
        key: &str,
        body: Option<(&[u8], &str)>,
    ) -> io::Result<reqwest::Response> {
        if !valid_key(key) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "not a SHA-256 key",
            ));
        }
        let url = reqwest::Url::parse(&self.config.endpoint).map_err(io::Error::other)?;
        let host = match url.port() {
            Some(p) => format!("{}:{p}", url.host_str().unwrap_or_default()),
            None => url.host_str().unwrap_or_default().to_string(),
        };
        let path = self.object_path(key);
        let payload_hash = hex::encode(Sha256::digest(body.map(|b| b.0).unwrap_or_default()));
        let amz_date = chrono::Utc::now().format("%Y%m%dT%H%M%SZ").to_string();
        let mut headers = vec![
            ("host".to_string(), host),
            ("x-amz-content-sha256".to_string(), payload_hash.clone()),
            ("x-amz-date".to_string(), amz_date.clone()),
        ];
        if let Some((_, ct)) = body {
            headers.push(("content-type".to_string(), ct.to_string()));
        }
        let auth = authorization(
            &self.config,
            method.as_str(),
            &path,
            &mut headers,
            &payload_hash,
            &amz_date,
        );
        let base = self.config.endpoint.trim_end_matches('/');
        let mut req = self
            .http
            .request(method, format!("{base}{path}"))
            .header("authorization", auth);
        for (k, v) in headers.iter().filter(|(k, _)| k != "host") {
            req = req.header(k.as_str(), v.as_str());
        }
        if let Some((b, _)) = body {
            req = req.body(b.to_vec());
        }
        req.send().await.map_err(io::Error::other)
    }
}

fn status_error(what: &str, status: reqwest::StatusCode) -> io::Error {
    io::Error::other(format!("S3 {what}: HTTP {status}"))
}

impl BlobStore for S3 {
    fn put<'a>(
        &'a self,
        key: &'a str,
        bytes: &'a [u8],
        content_type: &'a str,
    ) -> BoxFuture<'a, io::Result<()>> {
        Box::pin(async move {
            // Content-addressed: an object already there holds these bytes.
            let head = self.send(reqwest::Method::HEAD, key, None).await?;
            if head.status().is_success() {
                return Ok(());
            }
            let resp = self
                .send(reqwest::Method::PUT, key, Some((bytes, content_type)))
                .await?;
            if !resp.status().is_success() {
                return Err(status_error("PUT", resp.status()));
            }
            Ok(())
        })
    }

    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, io::Result<Option<Vec<u8>>>> {
        Box::pin(async move {
            let resp = self.send(reqwest::Method::GET, key, None).await?;
            match resp.status() {
                s if s.is_success() => {
                    Ok(Some(resp.bytes().await.map_err(io::Error::other)?.to_vec()))
                }
                reqwest::StatusCode::NOT_FOUND => Ok(None),
                s => Err(status_error("GET", s)),
            }
        })
    }

    fn describe(&self) -> String {
        format!(
            "S3 bucket {} at {} (prefix {:?})",
            self.config.bucket, self.config.endpoint, self.config.prefix
        )
    }
}

/// RFC 3986 encoding as SigV4 wants it: everything but `A-Z a-z 0-9 - . _ ~`.
fn uri_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn hmac(key: &[u8], data: &str) -> Vec<u8> {
    let mut m = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    m.update(data.as_bytes());
    m.finalize().into_bytes().to_vec()
}

/// The `Authorization` header of a request without a query string (SigV4). `headers` are
/// lower-cased names with their values; they are sorted here, as the signature needs.
fn authorization(
    c: &S3Config,
    method: &str,
    path: &str,
    headers: &mut [(String, String)],
    payload_hash: &str,
    amz_date: &str,
) -> String {
    headers.sort_by(|a, b| a.0.cmp(&b.0));
    let canonical_headers: String = headers
        .iter()
        .map(|(k, v)| format!("{k}:{}\n", v.trim()))
        .collect();
    let signed: Vec<&str> = headers.iter().map(|(k, _)| k.as_str()).collect();
    let signed = signed.join(";");
    let canonical = format!("{method}\n{path}\n\n{canonical_headers}\n{signed}\n{payload_hash}");
    let day = &amz_date[..8];
    let scope = format!("{day}/{}/s3/aws4_request", c.region);
    let to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
        hex::encode(Sha256::digest(canonical.as_bytes()))
    );
    let k_date = hmac(format!("AWS4{}", c.secret_access_key).as_bytes(), day);
    let k_region = hmac(&k_date, &c.region);
    let k_service = hmac(&k_region, "s3");
    let k_signing = hmac(&k_service, "aws4_request");
    let signature = hex::encode(hmac(&k_signing, &to_sign));
    format!(
        "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={signed}, Signature={signature}",
        c.access_key_id
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The "GET Object" example of AWS's "Signature Calculations for the Authorization Header"
    /// (Amazon S3 API reference, sigv4-header-based-auth): the same request must give the
    /// signature printed there.
    #[test]
    fn signature_matches_the_aws_example() {
        let c = S3Config {
            endpoint: "https://examplebucket.s3.amazonaws.com".into(),
            bucket: "examplebucket".into(),
            region: "us-east-1".into(),
            prefix: String::new(),
            access_key_id: "AKIAIOSFODNN7EXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into(),
        };
        let empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        let mut headers = vec![
            ("x-amz-date".to_string(), "20130524T000000Z".to_string()),
            ("range".to_string(), "bytes=0-9".to_string()),
            (
                "host".to_string(),
                "examplebucket.s3.amazonaws.com".to_string(),
            ),
            ("x-amz-content-sha256".to_string(), empty.to_string()),
        ];
        let auth = authorization(
            &c,
            "GET",
            "/test.txt",
            &mut headers,
            empty,
            "20130524T000000Z",
        );
        assert_eq!(
            auth,
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, \
             SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, \
             Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
        );
    }

    #[test]
    fn object_paths_are_path_style_and_encoded() {
        let s3 = S3::new(S3Config {
            endpoint: "http://127.0.0.1:9000".into(),
            bucket: "m110".into(),
            region: "us-east-1".into(),
            prefix: "县 350781/".into(),
            access_key_id: "a".into(),
            secret_access_key: "b".into(),
        });
        let key = "ab".to_string() + &"0".repeat(62);
        assert_eq!(
            s3.object_path(&key),
            format!("/m110/%E5%8E%BF%20350781/ab/{}", "0".repeat(62))
        );
    }
}
