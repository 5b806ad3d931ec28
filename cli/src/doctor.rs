/*!
`m110 doctor`: compares an install with its profile and with this kit, and lists every finding.

- **migrations**: each of the kit's migrations applied and with the checksum the kit ships (a
  changed migration is an error, never re-run), none pending, none unknown to this kit;
- **region drift**: the region in the database against the compiled profile, field by field
  ([`m110_runtime::engine::regiondiff`]) — e.g. a unit's phone edited in the database;
- **live edits**: what changed in the database since the last provision or upgrade (the model
  recorded then against the database), which `m110 pull` writes back into the profile;
- **model hash**: the hash recorded at provisioning or upgrade against the profile's;
- **generated files**: each artifact in `kit.lock` present and unedited, and generated from
  this profile (`kit.lock`'s profile hash);
- **database integrity**: SQLite `integrity_check` and `foreign_key_check`;
- **orphans**: open cases, users or grid workers still on a retired unit or grid unit;
- **outbox backlog**: dead messages, and messages pending for more than an hour.

Clean: no findings (exit 0); otherwise exit 1 with each finding on its own line.
*/

use std::path::Path;

use m110_runtime::engine::provision::region_sha256;
use m110_runtime::engine::regiondiff;
use m110_runtime::model::time::now_ms;
use m110_runtime::store::maintenance::embedded_migrations;
use m110_runtime::store::region::keys;
use m110_runtime::store::{ConnectOptions, Store};
use serde::Serialize;

use crate::generate::{KitLock, sha256_hex};
use crate::profile::Loaded;
use crate::provision::install_database_url;

/// One thing that is not as it should be.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// `migrations`, `drift`, `live_edit`, `model`, `files`, `integrity`, `orphans`, `outbox`.
    pub area: &'static str,
    pub message: String,
}

impl Finding {
    fn new(area: &'static str, message: impl Into<String>) -> Finding {
        Finding {
            area,
            message: message.into(),
        }
    }
}

/// Every finding for the install in `dir` against `loaded` (empty: clean).
pub async fn doctor(
    loaded: &Loaded,
    dir: &Path,
    database: Option<&str>,
) -> anyhow::Result<Vec<Finding>> {
    let url = install_database_url(dir, database)?;
    let store = Store::connect_with(
        &url,
        &ConnectOptions {
            migrate: false,
            ..ConnectOptions::default()
        },
    )
    .await?;
    let mut out = migrations(&store).await?;
    if store.provision_state().await?.is_none() {
        out.push(Finding::new(
            "model",
            "the database holds no provisioned region",
        ));
        store.close().await;
        return Ok(out);
    }
    let installed = store.load_region().await?;
    for c in regiondiff::diff(&installed, &loaded.region) {
        out.push(Finding::new(
            "drift",
            format!("{} (database → profile)", c.line()),
        ));
    }
    if let Some(recorded) = store
        .setting(keys::REGION_MODEL)
        .await?
        .as_deref()
        .and_then(regiondiff::parse_recorded)
    {
        for c in regiondiff::diff(&recorded, &installed) {
            out.push(Finding::new(
                "live_edit",
                format!(
                    "{} — changed in the install since it was provisioned or upgraded (m110 pull \
                     writes it into the profile)",
                    c.line()
                ),
            ));
        }
    }
    let want = region_sha256(&loaded.region);
    match store.setting(keys::REGION_SHA256).await? {
        Some(h) if h == want => {}
        Some(h) => out.push(Finding::new(
            "model",
            format!(
                "the install records model {}, the profile compiles to {} (m110 upgrade)",
                short(&h),
                short(&want)
            ),
        )),
        None => out.push(Finding::new("model", "no region model hash recorded")),
    }
    out.extend(files(loaded, dir));
    for p in store.integrity_problems().await? {
        out.push(Finding::new("integrity", p));
    }
    for p in store.orphans().await? {
        out.push(Finding::new("orphans", p));
    }
    let (dead, stale) = store.outbox_backlog(now_ms() - 3_600_000).await?;
    if dead > 0 {
        out.push(Finding::new(
            "outbox",
            format!("{dead} dead message(s): see 对接平台 in the console, fix and replay"),
        ));
    }
    if stale > 0 {
        out.push(Finding::new(
            "outbox",
            format!("{stale} message(s) pending for over an hour"),
        ));
    }
    store.close().await;
    Ok(out)
}

fn short(h: &str) -> &str {
    &h[..h.len().min(12)]
}

async fn migrations(store: &Store) -> anyhow::Result<Vec<Finding>> {
    let mut out = Vec::new();
    let applied = store.applied_migrations().await?;
    let embedded = embedded_migrations(store.engine());
    for (version, desc, checksum) in &embedded {
        match applied.iter().find(|a| a.version == *version) {
            None => out.push(Finding::new(
                "migrations",
                format!("migration {version} {desc} is pending (m110 upgrade --apply)"),
            )),
            Some(a) if !a.success => out.push(Finding::new(
                "migrations",
                format!("migration {version} {desc} failed part-way"),
            )),
            Some(a) if &a.checksum != checksum => out.push(Finding::new(
                "migrations",
                format!(
                    "migration {version} {desc} was applied with another checksum: the kit's \
                     copy was edited (migrations are never edited once released)"
                ),
            )),
            Some(_) => {}
        }
    }
    for a in &applied {
        if !embedded.iter().any(|(v, _, _)| *v == a.version) {
            out.push(Finding::new(
                "migrations",
                format!(
                    "migration {} {} is unknown to this kit (made by a newer one?)",
                    a.version, a.description
                ),
            ));
        }
    }
    Ok(out)
}

fn files(loaded: &Loaded, dir: &Path) -> Vec<Finding> {
    let mut out = Vec::new();
    let lock = match KitLock::read(dir) {
        Ok(l) => l,
        Err(e) => {
            out.push(Finding::new("files", format!("kit.lock: {e}")));
            return out;
        }
    };
    if lock.profile_sha256 != loaded.sha256 {
        out.push(Finding::new(
            "files",
            format!(
                "the generated files come from another version of the profile ({} ≠ {}): \
                 m110 upgrade re-renders them",
                short(&lock.profile_sha256),
                short(&loaded.sha256)
            ),
        ));
    }
    for (path, hash) in &lock.artifacts {
        match std::fs::read(dir.join(path)) {
            Ok(bytes) if &sha256_hex(&bytes) == hash => {}
            Ok(_) => out.push(Finding::new(
                "files",
                format!("{path} was edited since it was generated"),
            )),
            Err(_) => out.push(Finding::new("files", format!("{path} is missing"))),
        }
    }
    out
}
