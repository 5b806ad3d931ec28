/*!
[`App`]: the Shaowu profile provisioned on one engine with [`STAFF`](crate::STAFF) (one user and
API token per role) plus a token for the provisioned `admin`, a running `m110d`, and a small JSON
client that calls as any of them.
*/

use std::collections::HashMap;

use serde_json::Value;

use crate::{Engine, Install, Server};

/// An install with staff and a server. Fields drop in order: the server stops before its
/// database goes away.
pub struct App {
    pub server: Server,
    pub install: Install,
    /// user name → API token
    pub tokens: HashMap<String, String>,
    pub http: reqwest::Client,
}

impl App {
    /// Provisions `profiles/shaowu.yaml` on `engine`, adds the staff and starts `m110d` with
    /// `extra_args`.
    pub async fn start(engine: Engine, extra_args: &[&str]) -> App {
        App::with_install(Install::provision(engine, "shaowu").await, extra_args)
    }

    /// [`App::start`] on an install provisioned by the caller (a changed profile).
    pub fn with_install(install: Install, extra_args: &[&str]) -> App {
        let mut tokens = install.add_staff();
        // The provisioned admin acts through a token too.
        tokens.insert("admin".into(), install.token("admin", "admin"));
        let server = install.serve(extra_args);
        App {
            server,
            install,
            tokens,
            http: reqwest::Client::new(),
        }
    }

    /// The ids of the open cases `id` may repeat (一事多诉), as `who` sees them.
    pub async fn similar(&self, who: &str, id: &str) -> Vec<String> {
        let (s, v) = self
            .call(who, "GET", &format!("/api/v1/cases/{id}/similar"), None)
            .await;
        assert_eq!(s, 200, "{v}");
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_str().unwrap().to_string())
            .collect()
    }

    pub fn engine(&self) -> Engine {
        self.install.engine
    }

    pub fn url(&self, path: &str) -> String {
        self.server.url(path)
    }

    /// A request as `who` (a [`STAFF`](crate::STAFF) name or `admin`; "" for no credentials); the body
    /// as JSON, or as a string when it is not JSON.
    pub async fn call(
        &self,
        who: &str,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> (u16, Value) {
        let mut rb = self.http.request(method.parse().unwrap(), self.url(path));
        if let Some(t) = self.tokens.get(who) {
            rb = rb.bearer_auth(t);
        }
        if let Some(b) = body {
            rb = rb.json(b);
        }
        let resp = rb.send().await.unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// A POST as `who` with a raw body and content type.
    pub async fn raw(
        &self,
        who: &str,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> (u16, Value) {
        let resp = self
            .http
            .post(self.url(path))
            .bearer_auth(&self.tokens[who])
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }
}
