/*!
`m110 pull`: writes what was changed in a live install (a unit's phone edited in the console or
by hand) back into the profile, so the next upgrade does not revert it.

Each difference between the profile and the database is a field path
([`m110_runtime::engine::regiondiff`]). A changed scalar the profile file spells out — a unit's
`hotline`, `name`, `address` or `qualification`; a listed grid unit's `name`; a listed
category's `name_zh`, `name_en`, `sign_minutes` or `close_hours` — is patched **in place**: only
that value's characters change ([`crate::profile::patch`]), so the file's comments, order and
layout stay. Anything else (a contact list, a unit added in the console, a village from the CSV)
is reported for the maintainer to write by hand. The patched file must still validate; when it then matches the
database exactly, the install records it as its profile and re-renders its generated files
(handbook, routing tables), and `m110 doctor` is clean.
*/

use std::path::Path;

use anyhow::{Context, bail};
use m110_runtime::engine::provision::region_sha256;
use m110_runtime::engine::regiondiff::{self, Change, ChangeKind, recorded_model};
use m110_runtime::store::region::keys;
use m110_runtime::store::{ConnectOptions, Store};
use serde::Serialize;
use serde_yaml::Value;

use crate::profile::patch::{self, Edit};
use crate::profile::{self, yaml};
use crate::provision::install_database_url;

/// What `pull` did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Pulled {
    /// `path: before → after` of each value written into the profile.
    pub written: Vec<String>,
    /// Differences it could not write in place (the maintainer edits those).
    pub by_hand: Vec<String>,
    /// The profile now matches the install, which records it.
    pub matched: bool,
}

/// Writes the install's live values into the profile file (see the module docs).
pub async fn pull(
    profile_path: &Path,
    install: &Path,
    database: Option<&str>,
) -> anyhow::Result<Pulled> {
    let loaded = profile::load(profile_path).map_err(|d| {
        anyhow::anyhow!(
            "{} is not valid; fix it first:\n{d}",
            profile_path.display()
        )
    })?;
    let url = install_database_url(install, database)?;
    let store = Store::connect_with(
        &url,
        &ConnectOptions {
            migrate: false,
            ..ConnectOptions::default()
        },
    )
    .await?;
    let live = store.load_region().await?;
    let text = std::fs::read_to_string(profile_path)
        .with_context(|| format!("reading {}", profile_path.display()))?;
    let (raw, index) = yaml::parse(profile_path, &text)
        .map_err(|d| anyhow::anyhow!("{}: {d}", profile_path.display()))?;
    let mut out = Pulled::default();
    let mut edits: Vec<Edit> = Vec::new();
    for c in regiondiff::diff(&loaded.region, &live) {
        match raw_path(&raw, &c).filter(|p| index.has(p)) {
            Some(p) if c.kind == ChangeKind::Changed && is_scalar(&c.after) => {
                let new = c.after.as_ref().map(yaml_scalar).unwrap_or_default();
                edits.push(patch::replace(&index, &p, new)?);
                out.written.push(c.line());
            }
            _ => out.by_hand.push(c.line()),
        }
    }
    if !edits.is_empty() {
        let patched = patch::apply(&text, &edits)?;
        let tmp = profile_path.with_extension("yaml.pull");
        std::fs::write(&tmp, &patched).with_context(|| format!("writing {}", tmp.display()))?;
        if let Err(d) = profile::load(&tmp) {
            let _ = std::fs::remove_file(&tmp);
            bail!("the patched profile does not validate, nothing written:\n{d}");
        }
        std::fs::rename(&tmp, profile_path)
            .with_context(|| format!("writing {}", profile_path.display()))?;
    }
    let now = profile::load(profile_path)
        .map_err(|d| anyhow::anyhow!("{}: {d}", profile_path.display()))?;
    if regiondiff::diff(&now.region, &live).is_empty() {
        // The database is this profile now: record it, so doctor and upgrade agree.
        let mut tx = store.write().await?;
        for (k, v) in [
            (keys::REGION_SHA256, region_sha256(&now.region)),
            (keys::PROFILE_SHA256, now.sha256.clone()),
            (keys::REGION_MODEL, recorded_model(&now.region)),
        ] {
            m110_runtime::store::set_setting_in(&mut tx, k, &v).await?;
        }
        tx.commit().await?;
        // The handbook and routing tables carry the same phones and names.
        crate::provision::rerender_install(install, &now.region, &now.sha256, &url, false)?;
        out.matched = true;
    }
    store.close().await;
    Ok(out)
}

fn is_scalar(v: &Option<serde_json::Value>) -> bool {
    matches!(
        v,
        Some(
            serde_json::Value::String(_)
                | serde_json::Value::Number(_)
                | serde_json::Value::Bool(_)
        )
    )
}

/// A JSON scalar as YAML: strings double-quoted (JSON escapes are YAML's), others as they are.
fn yaml_scalar(v: &serde_json::Value) -> String {
    v.to_string()
}

/// The path in the profile file of a model change, when the file spells the entry out.
fn raw_path(raw: &Value, c: &Change) -> Option<String> {
    let field = c.path.rsplit('.').next()?;
    let key = c.entry()?;
    let (list, id_key, fields): (&str, &str, &[&str]) = match c.section() {
        "units" => (
            "units",
            "id",
            &["hotline", "name", "address", "qualification"],
        ),
        "grid_units" => ("grid.units", "code", &["name"]),
        "categories" => (
            "categories",
            "code",
            &["name_zh", "name_en", "sign_minutes", "close_hours"],
        ),
        _ => return None,
    };
    // Only `section[key].field` (no deeper paths).
    if c.path != format!("{}[{key}].{field}", c.section()) || !fields.contains(&field) {
        return None;
    }
    let seq = list
        .split('.')
        .try_fold(raw, |v, k| v.get(k))?
        .as_sequence()?;
    let i = seq
        .iter()
        .position(|e| e.get(id_key).and_then(Value::as_str) == Some(key))?;
    Some(format!("{list}[{i}].{field}"))
}
