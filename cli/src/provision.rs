/*!
Kit-side provisioning: profile → artifacts → database, for `m110 provision` (and `m110 up`).

[`provision_install`] is the whole flow:

1. load and compile the profile (nothing is written when it has problems);
2. if the install already has a provisioned database, compare: the same region model is a
   no-op ([`ProvisionOutcome::Unchanged`], nothing rewritten), anything else is refused before a
   single file changes;
3. write the generated artifacts atomically ([`generate::write`]), `m110d.yaml` carrying the
   database URL (never its password);
4. create the database, migrate and load the region with a bootstrap admin in ONE transaction
   ([`m110_runtime::engine::provision`]). A brand-new SQLite database is built as `m110.db.tmp` and
   renamed into place only after commit, so a crash leaves no `m110.db` at all.

The admin's one-time password is returned to the caller to print once; it is never logged.

The database holds personal data, so on Unix it is created owner-only — `m110.db` 0600 (SQLite
gives its `-wal`/`-shm` files the database file's mode), the install directory 0700 — with the
mode set at creation and again explicitly, so a lax umask does not matter ([`create_private_file`]).
The generated `m110d.service` runs as the same user, for the real install directory.
*/

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use m110_runtime::engine::provision::{
    BootstrapAdmin, ProvisionError, ProvisionMeta, ProvisionOutcome, provision,
};
use m110_runtime::policy::credentials as auth;
use m110_runtime::store::{
    ConnectOptions, Engine, Store, create_postgres_database_if_missing, redact_url,
    resolve_database_url, sqlite_path,
};
use serde::Deserialize;

use crate::generate::{self, Files, KitLock, LOCK_FILE};
use crate::profile;

/// A refusal the user can fix (bad profile, wrong install directory, changed profile): the
/// command exits 1 with this message instead of reporting an internal error.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub String);

/// The install was provisioned from another version of the profile: `m110 upgrade` changes it.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ProfileChanged(pub String);

/// Whether `dir` is a live install (it has a database), which only `m110 upgrade` may change.
pub fn is_install(dir: &Path) -> bool {
    dir.join("m110.db").exists()
        || read_config(dir)
            .ok()
            .flatten()
            .and_then(|c| c.database)
            .is_some_and(|db| db != DEFAULT_DATABASE)
}

/// Name of the runtime config file in an install directory.
pub const CONFIG_FILE: &str = "m110d.yaml";
/// Database URL when neither flag nor config names one (relative to the install directory).
pub const DEFAULT_DATABASE: &str = "sqlite://m110.db";
/// Login name of the bootstrap admin unless told otherwise.
pub const DEFAULT_ADMIN: &str = "admin";

/// The keys of `m110d.yaml` the kit needs; the rest belongs to `m110d`.
#[derive(Debug, Default, Deserialize)]
struct InstallConfig {
    region: Option<String>,
    database: Option<String>,
}

fn read_config(dir: &Path) -> anyhow::Result<Option<InstallConfig>> {
    let path = dir.join(CONFIG_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let cfg: InstallConfig = serde_yaml::from_str(&text)
                .with_context(|| format!("{}: not a valid m110d config", path.display()))?;
            Ok(Some(cfg))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

/// The database URL of an install, absolute: `flag` (or `M110_DATABASE_URL`, via clap) wins,
/// then `DIR/m110d.yaml`, then `sqlite://m110.db` in DIR.
pub fn install_database_url(dir: &Path, flag: Option<&str>) -> anyhow::Result<String> {
    let url = match flag {
        Some(u) => u.to_string(),
        None => read_config(dir)?
            .and_then(|c| c.database)
            .unwrap_or_else(|| DEFAULT_DATABASE.to_string()),
    };
    Engine::from_url(&url).map_err(|e| anyhow::anyhow!("database: {e}"))?;
    Ok(resolve_database_url(&url, &absolute(dir)?))
}

fn absolute(dir: &Path) -> anyhow::Result<PathBuf> {
    if dir.is_absolute() {
        Ok(dir.to_path_buf())
    } else {
        Ok(std::env::current_dir()
            .context("current directory")?
            .join(dir))
    }
}

/// Creates an empty file readable and writable by its owner only (0600 on Unix, set after
/// creation too, whatever the umask); fails when it exists. SQLite (`VACUUM INTO`, a new
/// database) and `pg_dump` write into it and keep the mode.
pub fn create_private_file(path: &Path) -> std::io::Result<()> {
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        o.mode(0o600);
    }
    let f = o.open(path)?;
    set_private(path, false)?;
    f.sync_all()
}

/// Sets owner-only permissions: 0700 for a directory, 0600 for a file (no-op off Unix).
pub fn set_private(path: &Path, dir: bool) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = if dir { 0o700 } else { 0o600 };
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
    }
    #[cfg(not(unix))]
    let _ = (path, dir);
    Ok(())
}

/// Opens the database of an existing install (no file is created).
pub async fn open_install(dir: &Path, flag: Option<&str>) -> anyhow::Result<Store> {
    let url = install_database_url(dir, flag)?;
    Store::connect_with(&url, &ConnectOptions::default())
        .await
        .with_context(|| {
            format!(
                "opening database {} of install {} (run `m110 provision` first?)",
                redact_url(&url),
                dir.display()
            )
        })
}

/// What [`provision_install`] did.
#[derive(Debug)]
pub struct InstallOutcome {
    pub outcome: ProvisionOutcome,
    pub region_code: String,
    pub region_name: String,
    pub install_dir: PathBuf,
    /// Database URL, password redacted.
    pub database: String,
    /// The bootstrap admin's name and one-time password, when one was created. Print once.
    pub admin: Option<(String, String)>,
    /// True when the database URL had a password that was left out of `m110d.yaml`.
    pub password_withheld: bool,
}

/// Options of [`provision_install`].
#[derive(Debug, Clone)]
pub struct InstallOptions<'a> {
    pub profile: &'a Path,
    pub install_dir: &'a Path,
    /// Database URL; `None` keeps the install's (or the SQLite default).
    pub database: Option<&'a str>,
    /// Login name of the bootstrap admin.
    pub admin_name: &'a str,
}

/// Provisions an install directory from a profile (see the module docs).
pub async fn provision_install(opts: &InstallOptions<'_>) -> anyhow::Result<InstallOutcome> {
    let loaded = profile::load(opts.profile).map_err(|diags| {
        Refused(format!(
            "{} has {} problem(s) / 个问题:\n{diags}",
            opts.profile.display(),
            diags.len()
        ))
    })?;
    let region = &loaded.region;
    let dir = absolute(opts.install_dir)?;
    if dir.exists() && !dir.is_dir() {
        return Err(Refused(format!(
            "{}: 不是目录 / not a directory; --install names a directory",
            dir.display()
        ))
        .into());
    }
    let existing_cfg = read_config(&dir)?;
    if let (Some(cfg), Some(flag)) = (&existing_cfg, opts.database)
        && let Some(db) = &cfg.database
        && resolve_database_url(db, &dir) != resolve_database_url(flag, &dir)
        && strip_password(db) != strip_password(flag)
    {
        return Err(Refused(format!(
            "{} already uses database {}; refusing to switch it to {} (edit {CONFIG_FILE} \
             or use a new install directory)",
            dir.display(),
            redact_url(db),
            redact_url(flag)
        ))
        .into());
    }
    if let Some(code) = existing_cfg.as_ref().and_then(|c| c.region.as_deref())
        && code != region.info.code
    {
        return Err(Refused(format!(
            "{} is the install of region {code}, not {} ({}); use a new install directory",
            dir.display(),
            region.info.code,
            region.info.name
        ))
        .into());
    }
    let url = install_database_url(&dir, opts.database)?;
    let engine = Engine::from_url(&url)?;
    let meta = |admin| ProvisionMeta {
        profile_sha256: loaded.sha256.clone(),
        kit_version: m110_runtime::VERSION.to_string(),
        bootstrap_admin: admin,
    };

    // 2. An existing database decides first: same region → no-op, different → refuse.
    let existing_store = match engine {
        Engine::Sqlite => {
            let path = sqlite_path(&url).context("database: SQLite URL without a file path")?;
            if Path::new(&path).exists() {
                Some(Store::connect_with(&url, &ConnectOptions::default()).await?)
            } else {
                None
            }
        }
        Engine::Postgres => {
            if create_postgres_database_if_missing(&url)
                .await
                .with_context(|| format!("connecting to {}", redact_url(&url)))?
            {
                tracing::info!(database = %redact_url(&url), "created PostgreSQL database");
            }
            Some(
                Store::connect_with(&url, &ConnectOptions::default())
                    .await
                    .with_context(|| format!("connecting to {}", redact_url(&url)))?,
            )
        }
    };
    if let Some(store) = &existing_store
        && store.provision_state().await?.is_some()
    {
        // Refuses unless identical; never writes when identical.
        let outcome = provision(store, region, &meta(None)).await;
        store.close().await;
        let outcome = outcome.map_err(refusal)?;
        if !dir.join(LOCK_FILE).is_file() {
            write_artifacts(&dir, region, &loaded.sha256, &url)?;
        }
        return Ok(InstallOutcome {
            outcome,
            region_code: region.info.code.clone(),
            region_name: region.info.name.clone(),
            install_dir: dir,
            database: redact_url(&url),
            admin: None,
            password_withheld: false,
        });
    }

    // 3. Artifacts first: a directory that is not ours is refused before a database exists.
    let password_withheld = write_artifacts(&dir, region, &loaded.sha256, &url)?;
    // The database goes in here: the owner's only, also when the directory existed before.
    set_private(&dir, true).with_context(|| format!("restricting {}", dir.display()))?;

    // 4. Database and region in one transaction, with the bootstrap admin.
    let password = auth::generate_password();
    let phc = auth::hash_password(&password)?;
    let admin = BootstrapAdmin {
        name: opts.admin_name.to_string(),
        password_hash: phc,
    };
    let outcome = match (existing_store, engine) {
        (Some(store), _) => {
            let out = provision(&store, region, &meta(Some(admin))).await;
            store.close().await;
            out.map_err(refusal)?
        }
        (None, Engine::Sqlite) => {
            let path = PathBuf::from(sqlite_path(&url).context("SQLite URL without path")?);
            provision_new_sqlite(&path, region, &meta(Some(admin))).await?
        }
        (None, Engine::Postgres) => unreachable!("PostgreSQL always has a store"),
    };
    Ok(InstallOutcome {
        outcome,
        region_code: region.info.code.clone(),
        region_name: region.info.name.clone(),
        install_dir: dir,
        database: redact_url(&url),
        admin: (outcome == ProvisionOutcome::Created)
            .then(|| (opts.admin_name.to_string(), password)),
        password_withheld,
    })
}

/// Turns provisioning refusals into [`Refused`]; other errors pass through.
fn refusal(e: ProvisionError) -> anyhow::Error {
    match e {
        ProvisionError::Differs { .. } => ProfileChanged(e.to_string()).into(),
        ProvisionError::OtherRegion { .. } => Refused(e.to_string()).into(),
        other => other.into(),
    }
}

/// Builds a new SQLite database beside its final path and renames it into place on success.
async fn provision_new_sqlite(
    path: &Path,
    region: &m110_runtime::model::Region,
    meta: &ProvisionMeta,
) -> anyhow::Result<ProvisionOutcome> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    // Leftovers of a killed run are never trusted.
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut p = tmp.as_os_str().to_owned();
        p.push(suffix);
        let p = PathBuf::from(p);
        if p.exists() {
            std::fs::remove_file(&p).with_context(|| format!("removing stale {}", p.display()))?;
        }
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    // Personal data: owner-only from the first byte (SQLite keeps an existing file's mode and
    // gives its -wal/-shm files the same).
    create_private_file(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
    let url = format!("sqlite://{}", tmp.display());
    let store = Store::connect_with(
        &url,
        &ConnectOptions {
            create_if_missing: true,
            max_connections: Some(1),
            ..ConnectOptions::default()
        },
    )
    .await?;
    let mut outcome = provision(&store, region, meta)
        .await
        .map_err(anyhow::Error::from);
    if outcome.is_ok() {
        // The rename must move a complete database: nothing may stay behind in the WAL.
        if let Err(e) = store.seal_sqlite_file().await {
            outcome = Err(e.into());
        }
    }
    store.close().await;
    let outcome = match outcome {
        Ok(o) => o,
        Err(e) => {
            remove_sqlite_files(&tmp);
            return Err(e);
        }
    };
    std::fs::rename(&tmp, path)
        .with_context(|| format!("renaming {} to {}", tmp.display(), path.display()))?;
    if let Some(parent) = path.parent() {
        // Make the rename durable.
        if let Ok(d) = std::fs::File::open(parent) {
            let _ = d.sync_all();
        }
    }
    Ok(outcome)
}

fn remove_sqlite_files(db: &Path) {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut p = db.as_os_str().to_owned();
        p.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(p));
    }
}

/// The URL without its password (`postgres://u:pw@h/db` → `postgres://u@h/db`).
fn strip_password(url: &str) -> String {
    redact_url(url).replace(":***@", "@")
}

/// The kit artifacts of an install, with `m110d.yaml` naming `url` (password removed); true
/// when a password was withheld from the file.
fn install_files(
    dir: &Path,
    region: &m110_runtime::model::Region,
    profile_sha256: &str,
    url: &str,
) -> anyhow::Result<(Files, bool)> {
    let install =
        generate::Install::at(dir, None).with_context(|| format!("resolving {}", dir.display()))?;
    let mut files = generate::render_region_for(region, profile_sha256, &install)?;
    let in_dir = dir.join("m110.db");
    let default_url = resolve_database_url(DEFAULT_DATABASE, dir);
    let withheld = redact_url(url) != url;
    let file_url = if url == default_url || url == format!("sqlite://{}", in_dir.display()) {
        DEFAULT_DATABASE.to_string()
    } else {
        strip_password(url)
    };
    if file_url != DEFAULT_DATABASE {
        set_config_database(&mut files, &file_url)?;
    }
    Ok((files, withheld))
}

/// Renders and writes the kit artifacts, with `m110d.yaml` naming `url` (password removed).
/// Returns true when a password was withheld from the file.
fn write_artifacts(
    dir: &Path,
    region: &m110_runtime::model::Region,
    profile_sha256: &str,
    url: &str,
) -> anyhow::Result<bool> {
    let (files, withheld) = install_files(dir, region, profile_sha256, url)?;
    generate::write(dir, &files, false).map_err(|e| match e {
        // Someone else's directory: the user picks another, it is not an internal error.
        generate::GenerateError::NotEmpty(path) => anyhow::Error::from(Refused(format!(
            "{}: 目录非空且不是 m110 生成的（没有 kit.lock）/ not empty and not generated by m110 \
             (no kit.lock); choose a new or empty install directory",
            path.display()
        ))),
        generate::GenerateError::NotADirectory(_) => anyhow::Error::from(Refused(e.to_string())),
        other => other.into(),
    })?;
    Ok(withheld)
}

/// What re-rendering did to one generated file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Rerendered {
    pub file: String,
    /// `unchanged`, `updated`, `kept` (edited here, `--keep-local`) or `new` (edited here: the
    /// kit's version written beside it as `FILE.new`).
    pub outcome: &'static str,
}

/// Re-renders an install's generated files for a changed region (after `m110 upgrade`): a
/// file the county did not edit is replaced; one it edited is never overwritten silently — it
/// stays, and the kit's new version goes beside it as `FILE.new` (or nowhere, `keep_local`).
/// All files move into place at once.
pub fn rerender_install(
    dir: &Path,
    region: &m110_runtime::model::Region,
    profile_sha256: &str,
    url: &str,
    keep_local: bool,
) -> anyhow::Result<Vec<Rerendered>> {
    let (mut files, _) = install_files(dir, region, profile_sha256, url)?;
    let old = KitLock::read(dir).ok();
    let mut out = Vec::new();
    let names: Vec<PathBuf> = files
        .keys()
        .filter(|p| p.as_os_str() != LOCK_FILE)
        .cloned()
        .collect();
    for rel in names {
        let key = rel.to_string_lossy().replace('\\', "/");
        let on_disk = std::fs::read(dir.join(&rel)).ok();
        let new = files[&rel].clone();
        let outcome = match &on_disk {
            Some(b) if *b == new => "unchanged",
            None => "updated",
            Some(b) => {
                let generated = old
                    .as_ref()
                    .and_then(|l| l.artifacts.get(&key))
                    .is_some_and(|h| *h == generate::sha256_hex(b));
                if generated {
                    "updated"
                } else {
                    files.insert(rel.clone(), b.clone());
                    if keep_local {
                        "kept"
                    } else {
                        let mut with_new = rel.clone().into_os_string();
                        with_new.push(".new");
                        files.insert(PathBuf::from(with_new), new);
                        "new"
                    }
                }
            }
        };
        out.push(Rerendered { file: key, outcome });
    }
    // Forced: an install without kit.lock (made by hand, or a restored database) still gets
    // its files — every one already there counts as edited and is kept as it is.
    generate::write(dir, &files, true)?;
    Ok(out)
}

/// Points the generated `m110d.yaml` at another database and re-seals `kit.lock`.
fn set_config_database(files: &mut Files, url: &str) -> anyhow::Result<()> {
    let key = PathBuf::from(CONFIG_FILE);
    let text = files
        .get(&key)
        .map(|b| String::from_utf8_lossy(b).into_owned())
        .context("generate produced no m110d.yaml")?;
    let quoted = serde_json::to_string(url)?;
    let mut replaced = false;
    let lines: Vec<String> = text
        .lines()
        .map(|l| {
            if l.starts_with("database:") {
                replaced = true;
                format!("database: {quoted}")
            } else {
                l.to_string()
            }
        })
        .collect();
    if !replaced {
        bail!("generated m110d.yaml has no database line");
    }
    let mut new = lines.join("\n");
    new.push('\n');
    files.insert(key, new.into_bytes());
    let lock_key = PathBuf::from(LOCK_FILE);
    let mut lock: KitLock = serde_json::from_slice(files.get(&lock_key).context("no kit.lock")?)?;
    lock.artifacts.insert(
        CONFIG_FILE.to_string(),
        generate::sha256_hex(&files[&PathBuf::from(CONFIG_FILE)]),
    );
    let mut lock_json = serde_json::to_string_pretty(&lock)?;
    lock_json.push('\n');
    files.insert(lock_key, lock_json.into_bytes());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_passwords() {
        assert_eq!(strip_password("postgres://u:pw@h/db"), "postgres://u@h/db");
        assert_eq!(strip_password("postgres://u@h/db"), "postgres://u@h/db");
    }

    #[test]
    fn database_url_precedence() {
        let dir = std::env::temp_dir().join(m110_runtime::store::testdb::unique_name("m110_cfg"));
        std::fs::create_dir_all(&dir).unwrap();
        assert_eq!(
            install_database_url(&dir, None).unwrap(),
            format!("sqlite://{}", dir.join("m110.db").display())
        );
        std::fs::write(
            dir.join(CONFIG_FILE),
            "region: \"350781\"\ndatabase: \"postgres://u@h/db\"\nlisten: x\n",
        )
        .unwrap();
        assert_eq!(
            install_database_url(&dir, None).unwrap(),
            "postgres://u@h/db"
        );
        assert_eq!(
            install_database_url(&dir, Some("sqlite://other.db")).unwrap(),
            format!("sqlite://{}", dir.join("other.db").display())
        );
        assert!(install_database_url(&dir, Some("mysql://x")).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn config_database_is_replaced_and_lock_resealed() {
        let mut files = Files::new();
        files.insert(
            PathBuf::from(CONFIG_FILE),
            b"# c\nregion: \"1\"\ndatabase: \"sqlite://m110.db\"\n".to_vec(),
        );
        let lock = KitLock {
            kit_version: "v".into(),
            model_version: 1,
            region: "1".into(),
            profile_sha256: "p".into(),
            artifacts: [(CONFIG_FILE.to_string(), "old".to_string())]
                .into_iter()
                .collect(),
        };
        files.insert(
            PathBuf::from(LOCK_FILE),
            serde_json::to_vec_pretty(&lock).unwrap(),
        );
        set_config_database(&mut files, "postgres://u@h/db").unwrap();
        let text = String::from_utf8(files[&PathBuf::from(CONFIG_FILE)].clone()).unwrap();
        assert!(text.contains("database: \"postgres://u@h/db\"\n"), "{text}");
        let lock: KitLock = serde_json::from_slice(&files[&PathBuf::from(LOCK_FILE)]).unwrap();
        assert_eq!(
            lock.artifacts[CONFIG_FILE],
            generate::sha256_hex(text.as_bytes())
        );
    }
}
