//! Shared by the Open311 and directories suites: provision an example profile with the real
//! `m110` on one engine, add users and API tokens with `m110 user add` / `m110 token add`, start
//! the real `m110d`, and open the install's database to check audit rows.

#![allow(dead_code)]

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use m110_e2e::{Engine, PgDatabase, Server, bin, workspace_root};
use m110_runtime::store::{ConnectOptions, Store};

/// A provisioned install on one engine; the server (when started) and the database go away on
/// drop.
pub struct Install {
    pub engine: Engine,
    dir: tempfile::TempDir,
    pg: Option<PgDatabase>,
    pub server: Option<Server>,
}

fn text(out: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

impl Install {
    /// Provisions `profiles/<profile>.yaml`.
    pub async fn provision(engine: Engine, profile: &str) -> Install {
        let pg = match engine {
            Engine::Sqlite => None,
            Engine::Postgres => Some(PgDatabase::create().await),
        };
        let install = Install {
            engine,
            dir: tempfile::tempdir().unwrap(),
            pg,
            server: None,
        };
        let profile = workspace_root()
            .join("profiles")
            .join(format!("{profile}.yaml"));
        let mut cmd = install.m110(&["provision"]);
        cmd.arg(&profile).arg("--install").arg(install.path());
        install.with_db(&mut cmd);
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "provision failed: {}", text(&out));
        install
    }

    pub fn path(&self) -> PathBuf {
        self.dir.path().join("install")
    }

    fn m110(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(bin("m110"));
        cmd.args(args)
            .env_remove("M110_DATABASE_URL")
            .env_remove("M110_LISTEN")
            .stdin(Stdio::null());
        cmd
    }

    fn with_db(&self, cmd: &mut Command) {
        if let Some(pg) = &self.pg {
            cmd.arg("--database").arg(&pg.url);
        }
    }

    /// `m110 token add`: a new API token acting as a new user NAME with ROLE.
    pub fn token(&self, name: &str, role: &str) -> String {
        let mut cmd = self.m110(&["token", "add", "--install"]);
        cmd.arg(self.path());
        self.with_db(&mut cmd);
        cmd.args(["--name", name, "--role", role]);
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "token add: {}", text(&out));
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .last()
            .unwrap()
            .trim()
            .to_string()
    }

    /// `m110 user add … --password-stdin` with extra flags (`--grid CODE`, `--unit ID`).
    pub fn user(&self, name: &str, role: &str, extra: &[&str], password: &str) {
        let mut cmd = self.m110(&["user", "add", "--install"]);
        cmd.arg(self.path());
        self.with_db(&mut cmd);
        cmd.args(["--name", name, "--role", role, "--password-stdin"])
            .args(extra)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(format!("{password}\n").as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "user add: {}", text(&out));
    }

    /// Starts `m110d serve` on a free port; returns its base URL.
    pub fn serve(&mut self) -> String {
        let mut args: Vec<String> = Vec::new();
        if let Some(pg) = &self.pg {
            args.push("--database".into());
            args.push(pg.url.clone());
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let server = Server::start(&self.path(), &args);
        let base = server.base.clone();
        self.server = Some(server);
        base
    }

    /// The install's database (no migrations run), for checking what the server wrote.
    pub async fn store(&self) -> Store {
        let url = match &self.pg {
            Some(pg) => pg.url.clone(),
            None => format!("sqlite://{}", self.path().join("m110.db").display()),
        };
        Store::connect_with(
            &url,
            &ConnectOptions {
                migrate: false,
                ..ConnectOptions::default()
            },
        )
        .await
        .unwrap()
    }
}

impl Drop for Install {
    fn drop(&mut self) {
        // Stop the server before the database it uses is dropped.
        self.server.take();
    }
}

/// A client with a cookie store, logged in as NAME (a session, as the console uses).
pub async fn login(base: &str, name: &str, password: &str) -> reqwest::Client {
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let resp = client
        .post(format!("{base}/api/v1/login"))
        .json(&serde_json::json!({"name": name, "password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.status(),
        200,
        "login {name}: {}",
        resp.text().await.unwrap()
    );
    client
}
