/*!
Backup and restore of an install's database.

- **SQLite**: `VACUUM INTO` a new file — one consistent snapshot while `m110d` keeps serving
  (WAL readers do not block the writer). The copy is checked (`integrity_check`) before it is
  reported.
- **PostgreSQL**: `pg_dump --format=custom` (the server keeps serving; the dump is one
  snapshot). Without `pg_dump` on the PATH the error says what to install.

A backup is the database itself, so it carries what the install knows about itself: the region,
the kit version and the region model hash (`settings`), which [`backup`] also prints. It holds
the same personal data, so it is created owner-only (0600, a new `backups/` directory 0700)
before a byte is written, and a restored database is made owner-only again.

[`restore`] writes a backup into an install: it refuses an install that already holds a
region unless forced; a SQLite restore is built beside the target and renamed over it only once
it is complete and migrated, so an interrupted restore leaves the install as it was; a backup
made by an older kit is brought up to this kit's migrations on the way in.
*/

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};
use m110_runtime::store::region::keys;
use m110_runtime::store::{ConnectOptions, Engine, Store, sqlite_path};

use crate::generate::create_private_dir;
use crate::provision::{create_private_file, install_database_url, set_private};

/// What a backup or restore holds.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Summary {
    pub file: PathBuf,
    pub engine: &'static str,
    pub region: Option<String>,
    pub kit_version: Option<String>,
    pub region_sha256: Option<String>,
    pub counts: Vec<(&'static str, i64)>,
}

impl Summary {
    /// One line for the terminal.
    pub fn line(&self) -> String {
        let counts: Vec<String> = self
            .counts
            .iter()
            .map(|(t, n)| format!("{t} {n}"))
            .collect();
        format!(
            "{} [{}] region {} · kit {} · model {} · {}",
            self.file.display(),
            self.engine,
            self.region.as_deref().unwrap_or("?"),
            self.kit_version.as_deref().unwrap_or("?"),
            self.region_sha256
                .as_deref()
                .map(|s| &s[..s.len().min(12)])
                .unwrap_or("?"),
            counts.join(", ")
        )
    }
}

async fn summary(store: &Store, file: &Path) -> anyhow::Result<Summary> {
    let state = store.provision_state().await?;
    Ok(Summary {
        file: file.to_path_buf(),
        engine: store.engine().as_str(),
        region: state
            .as_ref()
            .map(|s| format!("{} {}", s.region_code, s.region_name)),
        kit_version: store.setting(keys::KIT_VERSION).await?,
        region_sha256: store.setting(keys::REGION_SHA256).await?,
        counts: store.table_counts().await?,
    })
}

fn no_migrate() -> ConnectOptions {
    ConnectOptions {
        migrate: false,
        ..ConnectOptions::default()
    }
}

/// The default backup file: `DIR/backups/m110-<region>-<UTC time>.<db|pgdump>`.
fn default_file(install: &Path, engine: Engine, region: &str) -> PathBuf {
    let stamp = file_stamp();
    let ext = match engine {
        Engine::Sqlite => "db",
        Engine::Postgres => "pgdump",
    };
    install
        .join("backups")
        .join(format!("m110-{region}-{stamp}.{ext}"))
}

/// `YYYYMMDD-HHMMSS`, Beijing time (the time the county's staff read on the file name).
fn file_stamp() -> String {
    m110_runtime::model::time::shanghai(m110_runtime::model::time::now_ms())
        .format("%Y%m%d-%H%M%S")
        .to_string()
}

/// Backs the install's database up to `out` (default under `DIR/backups/`).
pub async fn backup(
    install: &Path,
    database: Option<&str>,
    out: Option<&Path>,
) -> anyhow::Result<Summary> {
    let url = install_database_url(install, database)?;
    let store = Store::connect_with(&url, &no_migrate())
        .await
        .with_context(|| format!("opening the database of {}", install.display()))?;
    let region = store
        .provision_state()
        .await?
        .map(|s| s.region_code)
        .ok_or_else(|| anyhow::anyhow!("{} holds no provisioned region", install.display()))?;
    let file = match out {
        Some(f) => f.to_path_buf(),
        None => {
            // Two backups in one second (a retried upgrade) get their own files.
            let first = default_file(install, store.engine(), &region);
            let mut f = first.clone();
            let mut n = 1;
            while f.exists() {
                n += 1;
                let stem = first.file_stem().unwrap_or_default().to_string_lossy();
                let ext = first.extension().unwrap_or_default().to_string_lossy();
                f = first.with_file_name(format!("{stem}-{n}.{ext}"));
            }
            f
        }
    };
    if file.exists() {
        bail!("{} exists; choose another file (-o)", file.display());
    }
    if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
        create_private_dir(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    // Owner-only before anything is written; VACUUM INTO accepts an empty file, pg_dump
    // truncates it, and both keep its mode.
    create_private_file(&file).with_context(|| format!("creating {}", file.display()))?;
    let result = write_backup(store, &file, &url).await;
    if result.is_err() {
        let _ = std::fs::remove_file(&file);
    }
    result
}

async fn write_backup(store: Store, file: &Path, url: &str) -> anyhow::Result<Summary> {
    match store.engine() {
        Engine::Sqlite => {
            let path = std::path::absolute(file)?;
            store
                .sqlite_copy_into(&path.to_string_lossy())
                .await
                .context("VACUUM INTO")?;
            store.close().await;
            // The copy must be sound before anyone relies on it.
            let copy = open_sqlite(&path, false).await?;
            let problems = copy.integrity_problems().await?;
            if !problems.is_empty() {
                bail!("the backup copy is damaged: {}", problems.join("; "));
            }
            let s = summary(&copy, file).await?;
            copy.close().await;
            Ok(s)
        }
        Engine::Postgres => {
            let s = summary(&store, file).await?;
            store.close().await;
            run_tool(
                Command::new("pg_dump")
                    .args(["--format=custom", "--no-owner", "--no-privileges", "--file"])
                    .arg(file)
                    .arg(url),
                "pg_dump",
            )?;
            Ok(s)
        }
    }
}

async fn open_sqlite(path: &Path, migrate: bool) -> anyhow::Result<Store> {
    let url = format!("sqlite://{}", path.display());
    Ok(Store::connect_with(
        &url,
        &ConnectOptions {
            migrate,
            max_connections: Some(1),
            ..ConnectOptions::default()
        },
    )
    .await?)
}

/// Runs a PostgreSQL client tool; a missing tool is an error saying what to install.
fn run_tool(cmd: &mut Command, name: &str) -> anyhow::Result<()> {
    let out = match cmd.output() {
        Ok(o) => o,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => bail!(
            "{name} not found on PATH: install the PostgreSQL client tools of the server's major \
             version (Debian/Ubuntu: apt-get install postgresql-client)"
        ),
        Err(e) => return Err(e).with_context(|| format!("running {name}")),
    };
    if !out.status.success() {
        bail!(
            "{name} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

/// Restores `file` into the install (see the module docs).
pub async fn restore(
    file: &Path,
    install: &Path,
    database: Option<&str>,
    force: bool,
) -> anyhow::Result<Summary> {
    if !file.is_file() {
        bail!("{}: no such backup file", file.display());
    }
    std::fs::create_dir_all(install).with_context(|| format!("creating {}", install.display()))?;
    let url = install_database_url(install, database)?;
    match Engine::from_url(&url).map_err(|e| anyhow::anyhow!("database: {e}"))? {
        Engine::Sqlite => {
            let target = PathBuf::from(
                sqlite_path(&url).ok_or_else(|| anyhow::anyhow!("no SQLite file in {url}"))?,
            );
            if target.exists() && !force {
                let existing = open_sqlite(&target, false).await?;
                let state = existing.provision_state().await.ok().flatten();
                existing.close().await;
                if let Some(s) = state {
                    bail!(
                        "{} already holds region {} {}; restore into a new install, or pass \
                         --force to replace it (stop m110d first)",
                        target.display(),
                        s.region_code,
                        s.region_name
                    );
                }
            }
            // Built beside the target and renamed over it only when complete and migrated.
            let tmp = target.with_extension("db.restore");
            let _ = std::fs::remove_file(&tmp);
            std::fs::copy(file, &tmp)
                .with_context(|| format!("copying {} to {}", file.display(), tmp.display()))?;
            // `copy` carries the backup's mode over; the live database is owner-only whatever
            // it was.
            set_private(&tmp, false).with_context(|| format!("restricting {}", tmp.display()))?;
            let store = match open_sqlite(&tmp, true).await {
                Ok(s) => s,
                Err(e) => {
                    let _ = std::fs::remove_file(&tmp);
                    return Err(e.context(format!("{} is not an m110 backup", file.display())));
                }
            };
            let problems = store.integrity_problems().await?;
            let s = summary(&store, file).await?;
            store.close().await;
            if !problems.is_empty() {
                let _ = std::fs::remove_file(&tmp);
                bail!("{} is damaged: {}", file.display(), problems.join("; "));
            }
            if s.region.is_none() {
                let _ = std::fs::remove_file(&tmp);
                bail!("{} holds no provisioned region", file.display());
            }
            for ext in ["db-wal", "db-shm"] {
                let _ = std::fs::remove_file(target.with_extension(ext));
            }
            std::fs::rename(&tmp, &target)
                .with_context(|| format!("moving the restored database to {}", target.display()))?;
            Ok(s)
        }
        Engine::Postgres => {
            let existing = Store::connect_with(&url, &no_migrate()).await?;
            let state = existing.provision_state().await.ok().flatten();
            existing.close().await;
            if let Some(s) = &state
                && !force
            {
                bail!(
                    "the database already holds region {} {}; restore into an empty database, \
                     or pass --force to replace it (stop m110d first)",
                    s.region_code,
                    s.region_name
                );
            }
            let mut cmd = Command::new("pg_restore");
            cmd.args(["--no-owner", "--no-privileges", "--exit-on-error"]);
            if state.is_some() {
                cmd.args(["--clean", "--if-exists"]);
            }
            // One transaction: a failed or killed restore changes nothing.
            cmd.arg("--single-transaction")
                .arg("--dbname")
                .arg(&url)
                .arg(file);
            run_tool(&mut cmd, "pg_restore")?;
            let store = Store::connect_with(&url, &ConnectOptions::default()).await?;
            let s = summary(&store, file).await?;
            store.close().await;
            Ok(s)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_sort_as_times() {
        let s = file_stamp();
        assert_eq!(s.len(), 15, "{s}");
        assert_eq!(&s[8..9], "-");
        assert!(s.starts_with("20") && s.replace('-', "").chars().all(|c| c.is_ascii_digit()));
    }
}
