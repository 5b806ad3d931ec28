//! Shared by `lifecycle.rs` and `auth.rs`: a provisioned Shaowu install on one engine with a
//! user (and API token) per role, a running real `m110d`, and a small JSON client.

#![allow(dead_code)]

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use m110_e2e::{Engine, PgDatabase, Server, bin, workspace_root};
use serde_json::Value;

/// Password given to every user the tests create.
pub const PASSWORD: &str = "e2e-password-123";

/// One install + server.
pub struct Install {
    pub dir: tempfile::TempDir,
    pub pg: Option<PgDatabase>,
    pub server: Server,
    pub admin_password: String,
    /// user name → API token
    pub tokens: HashMap<String, String>,
    pub http: reqwest::Client,
}

fn m110(args: &[&str], stdin: Option<&str>) -> (bool, String, String) {
    let mut child = Command::new(bin("m110"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn m110");
    if let Some(s) = stdin {
        child.stdin.take().unwrap().write_all(s.as_bytes()).unwrap();
    } else {
        drop(child.stdin.take());
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Users created in every install: (name, role, unit, grid).
pub const USERS: &[(&str, &str, Option<&str>, Option<&str>)] = &[
    ("op", "operator", None, None),
    ("disp", "dispatcher", None, None),
    ("sup", "supervisor", None, None),
    ("urban", "unit_handler", Some("urban-management"), None),
    ("justice", "unit_handler", Some("justice"), None),
    ("gw", "grid_worker", None, Some("350781001001")),
    ("analyst", "analyst", None, None),
    ("auditor", "auditor", None, None),
];

impl Install {
    /// Provisions `profiles/shaowu.yaml` on `engine`, adds [`USERS`] and starts `m110d`.
    pub async fn start(engine: Engine, extra_args: &[&str]) -> Install {
        let dir = tempfile::tempdir().unwrap();
        let install = dir.path().join("install");
        let pg = match engine {
            Engine::Sqlite => None,
            Engine::Postgres => Some(PgDatabase::create().await),
        };
        let profile = workspace_root().join("profiles/shaowu.yaml");
        let inst = install.to_str().unwrap();
        let mut args = vec!["provision", profile.to_str().unwrap(), "--install", inst];
        if let Some(db) = &pg {
            args.push("--database");
            args.push(&db.url);
        }
        let (ok, out, err) = m110(&args, None);
        assert!(ok, "provision failed: {out}\n{err}");
        let admin_password = out
            .lines()
            .find_map(|l| l.split("(shown once): ").nth(1))
            .unwrap_or_else(|| panic!("no one-time password in:\n{out}"))
            .trim()
            .to_string();
        let mut tokens = HashMap::new();
        for (name, role, unit, grid) in USERS {
            let mut a = vec![
                "user",
                "add",
                "--install",
                inst,
                "--name",
                name,
                "--role",
                role,
                "--password-stdin",
            ];
            if let Some(u) = unit {
                a.push("--unit");
                a.push(u);
            }
            if let Some(g) = grid {
                a.push("--grid");
                a.push(g);
            }
            let (ok, out, err) = m110(&a, Some(&format!("{PASSWORD}\n")));
            assert!(ok, "user add {name}: {out}\n{err}");
            let (ok, out, err) = m110(
                &[
                    "token",
                    "add",
                    "--install",
                    inst,
                    "--name",
                    name,
                    "--role",
                    role,
                ],
                None,
            );
            assert!(ok, "token add {name}: {out}\n{err}");
            let token = out.lines().last().unwrap().trim().to_string();
            assert!(token.starts_with("m110_"), "{out}");
            tokens.insert(name.to_string(), token);
        }
        let server = Server::start(&install, extra_args);
        Install {
            dir,
            pg,
            server,
            admin_password,
            tokens,
            http: reqwest::Client::new(),
        }
    }

    pub fn install_dir(&self) -> PathBuf {
        self.dir.path().join("install")
    }

    /// A direct connection to the install's database (for setting up deadlines in tests).
    pub async fn db(&self) -> sqlx::AnyPool {
        sqlx::any::install_default_drivers();
        let url = match &self.pg {
            Some(pg) => pg.url.clone(),
            None => format!("sqlite://{}", self.install_dir().join("m110.db").display()),
        };
        sqlx::AnyPool::connect(&url).await.unwrap()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.server.base, path)
    }

    /// A request as `who` (a user name from [`USERS`], or "" for none).
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

pub fn sqlite_path(dir: &Path) -> PathBuf {
    dir.join("m110.db")
}
