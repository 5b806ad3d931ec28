/*!
The one way the suite makes an install: a temporary directory plus, on PostgreSQL, a fresh
database from the runtime's test kit ([`TestDb`]); `m110 provision` run on them; users and
API tokens added with the real `m110 user add` / `m110 token add`; `m110d` started on the result
([`Install::serve`]); and the install's database opened directly ([`Install::store`]) to check
what the binaries wrote.

Only `m110 provision` is told the database (`--database` on PostgreSQL); every later command
finds it in the install's `m110d.yaml`, as an operator's would.
*/

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use m110_runtime::store::testdb::TestDb;
use m110_runtime::store::{ConnectOptions, Engine, Store};

use crate::server::{Server, clean_env};
use crate::{bin, engine_name, output_text, workspace_root};

/// Password given to every [`STAFF`] user (and the other users tests add, unless they test
/// passwords).
pub const PASSWORD: &str = "e2e-password-123";

/// One user per role, added by [`Install::add_staff`]: (name, role, unit, grid).
pub const STAFF: &[(&str, &str, Option<&str>, Option<&str>)] = &[
    ("op", "operator", None, None),
    ("disp", "dispatcher", None, None),
    ("sup", "supervisor", None, None),
    ("urban", "unit_handler", Some("urban-management"), None),
    ("justice", "unit_handler", Some("justice"), None),
    ("gw", "grid_worker", None, Some("350781001001")),
    ("analyst", "analyst", None, None),
    ("auditor", "auditor", None, None),
];

/// An install on one engine; its directory and database go away on drop.
pub struct Install {
    pub engine: Engine,
    dir: tempfile::TempDir,
    /// PostgreSQL only: the test kit's fresh database (SQLite lives in the install directory).
    pg: Option<TestDb>,
    admin_password: Option<String>,
}

/// `profiles/NAME.yaml` of the workspace.
pub fn profile(name: &str) -> PathBuf {
    workspace_root()
        .join("profiles")
        .join(format!("{name}.yaml"))
}

impl Install {
    /// A target for `m110 provision`: an empty directory and, on PostgreSQL, an empty database.
    /// Nothing is provisioned yet (see [`Install::provision_cmd`]).
    pub async fn empty(engine: Engine) -> Install {
        let pg = match engine {
            Engine::Sqlite => None,
            // Empty: `m110 provision` applies the migrations itself.
            Engine::Postgres => Some(TestDb::empty(Engine::Postgres).await),
        };
        Install {
            engine,
            dir: tempfile::tempdir().expect("temp dir"),
            pg,
            admin_password: None,
        }
    }

    /// Provisions `profiles/<name>.yaml` with the real `m110 provision`, keeping the one-time
    /// admin password it prints.
    pub async fn provision(engine: Engine, name: &str) -> Install {
        let mut install = Install::empty(engine).await;
        let out = install.provision_cmd(&profile(name)).output().unwrap();
        assert!(
            out.status.success(),
            "{}: m110 provision {name}: {}",
            engine_name(engine),
            output_text(&out)
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        install.admin_password = Some(
            one_time_password(&stdout)
                .unwrap_or_else(|| panic!("no one-time password in:\n{stdout}")),
        );
        install
    }

    /// Provisions a copy of `profiles/shaowu.yaml` (with its CSV files) changed by `edit` — a
    /// platform or a unit added, a rule changed — for tests of what a county configures.
    pub async fn provision_shaowu_with(
        engine: Engine,
        edit: impl FnOnce(String) -> String,
    ) -> Install {
        let install = Install::empty(engine).await;
        let dir = install.scratch().join("profiles");
        copy_dir(&workspace_root().join("profiles"), &dir);
        let yaml = std::fs::read_to_string(dir.join("shaowu.yaml")).unwrap();
        std::fs::write(dir.join("shaowu.yaml"), edit(yaml)).unwrap();
        let out = install
            .provision_cmd(&dir.join("shaowu.yaml"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}: m110 provision (edited shaowu): {}",
            engine_name(engine),
            output_text(&out)
        );
        install
    }

    /// The install directory (inside a private temporary directory).
    pub fn path(&self) -> PathBuf {
        self.dir.path().join("install")
    }

    /// The private temporary directory holding the install, for sibling files in a test.
    pub fn scratch(&self) -> &Path {
        self.dir.path()
    }

    /// The admin password `m110 provision` printed once.
    pub fn admin_password(&self) -> &str {
        self.admin_password
            .as_deref()
            .expect("provisioned by Install::provision")
    }

    /// URL of the install's database.
    pub fn database_url(&self) -> String {
        match &self.pg {
            Some(pg) => pg.url.clone(),
            None => format!("sqlite://{}", self.path().join("m110.db").display()),
        }
    }

    /// `--database URL` on PostgreSQL, nothing on SQLite (the install's own file).
    pub fn database_args(&self) -> Vec<String> {
        match &self.pg {
            Some(pg) => vec!["--database".into(), pg.url.clone()],
            None => Vec::new(),
        }
    }

    /// `m110 provision PROFILE --install DIR [--database URL]` (stdin closed, `M110_*` cleared).
    pub fn provision_cmd(&self, profile: &Path) -> Command {
        let mut cmd = Command::new(bin("m110"));
        clean_env(&mut cmd)
            .arg("provision")
            .arg(profile)
            .arg("--install")
            .arg(self.path())
            .args(self.database_args())
            .stdin(Stdio::null());
        cmd
    }

    /// `m110 ARGS… --install DIR` (stdin closed, `M110_*` cleared).
    pub fn m110(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(bin("m110"));
        clean_env(&mut cmd)
            .args(args)
            .arg("--install")
            .arg(self.path())
            .stdin(Stdio::null());
        cmd
    }

    /// `m110 user add --name NAME --role ROLE --password-stdin EXTRA…`, whatever its outcome.
    pub fn try_user(&self, name: &str, role: &str, extra: &[&str], password: &str) -> Output {
        let mut cmd = self.m110(&["user", "add"]);
        cmd.args(["--name", name, "--role", role, "--password-stdin"])
            .args(extra);
        with_stdin(cmd, &format!("{password}\n"))
    }

    /// Adds a user (extra flags: `--grid CODE`, `--unit ID`); fails the test if refused.
    pub fn user(&self, name: &str, role: &str, extra: &[&str], password: &str) {
        let out = self.try_user(name, role, extra, password);
        assert!(
            out.status.success(),
            "{}: m110 user add {name}: {}",
            engine_name(self.engine),
            output_text(&out)
        );
    }

    /// `m110 token add`: a new API token acting as user NAME with ROLE (created as a service
    /// user when missing). Returns the token's id and the token.
    pub fn token_with_id(&self, name: &str, role: &str) -> (i64, String) {
        let out = self
            .m110(&["token", "add", "--name", name, "--role", role])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}: m110 token add {name}: {}",
            engine_name(self.engine),
            output_text(&out)
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        // "… token created: id=7 name=… — shown once …" then the token alone on the last line.
        let id = stdout
            .split("id=")
            .nth(1)
            .and_then(|r| r.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no token id in:\n{stdout}"));
        let token = stdout.lines().last().unwrap_or_default().trim().to_string();
        assert!(token.starts_with("m110_"), "no token in:\n{stdout}");
        (id, token)
    }

    /// [`Install::token_with_id`] without the id.
    pub fn token(&self, name: &str, role: &str) -> String {
        self.token_with_id(name, role).1
    }

    /// Adds [`STAFF`] (password [`PASSWORD`]) with an API token each; returns name → token.
    pub fn add_staff(&self) -> HashMap<String, String> {
        let mut tokens = HashMap::new();
        for (name, role, unit, grid) in STAFF {
            let mut extra = Vec::new();
            if let Some(u) = unit {
                extra.extend(["--unit", u]);
            }
            if let Some(g) = grid {
                extra.extend(["--grid", g]);
            }
            self.user(name, role, &extra, PASSWORD);
            tokens.insert(name.to_string(), self.token(name, role));
        }
        tokens
    }

    /// Starts `m110d serve` on this install (on a port the system picks).
    pub fn serve(&self, extra_args: &[&str]) -> Server {
        Server::start(&self.path(), extra_args)
    }

    /// The install's database (no migrations run), for checking or arranging what the server
    /// reads and writes.
    pub async fn store(&self) -> Store {
        Store::connect_with(
            &self.database_url(),
            &ConnectOptions {
                migrate: false,
                ..ConnectOptions::default()
            },
        )
        .await
        .unwrap_or_else(|e| {
            panic!(
                "{}: open the install's database: {e}",
                engine_name(self.engine)
            )
        })
    }
}

/// The password on the `… one-time password …: PASSWORD` line `m110 provision` prints.
pub fn one_time_password(stdout: &str) -> Option<String> {
    stdout
        .lines()
        .find(|l| l.contains("one-time password"))
        .and_then(|l| l.rsplit(' ').next())
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
}

/// Runs `cmd` with `input` on its stdin and returns its output.
pub fn with_stdin(mut cmd: Command, input: &str) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
    // A command refused before it reads stdin (e.g. `--role root`, a usage error) exits and
    // closes the pipe; that is its answer, not a test failure: the caller checks its output.
    if let Err(e) = child
        .stdin
        .take()
        .expect("piped stdin")
        .write_all(input.as_bytes())
        && e.kind() != std::io::ErrorKind::BrokenPipe
    {
        panic!("write stdin: {e}");
    }
    child.wait_with_output().expect("wait")
}

/// A client with a cookie store, logged in as NAME through `POST /api/v1/login` (a session, as
/// the console uses).
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

/// Copies the directory tree `from` to `to`.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}
