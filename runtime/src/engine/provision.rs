/*!
Provisioning: load a whole [`Region`] into an empty, migrated database in ONE transaction.

Either every row of the region (tiers, grid, units, categories, routing, escalation, platforms,
directory, households, settings and the bootstrap admin) commits, or none does: a constraint
failure or a killed process leaves the region tables empty. Re-provisioning the same region
(same canonical SHA-256 of the model) changes nothing and reports [`ProvisionOutcome::Unchanged`];
a different region or a changed model is refused (changing a live install is `m110 upgrade`, a
later feature).

The file-level half of atomicity for a new SQLite install (build `m110.db.tmp`, rename on
success) is the caller's job (`m110 provision`), since only it knows the final path.

Test hook (feature `fault-injection`, enabled only by the test crates): when
`M110_TEST_CRASH_AFTER=<stage>` is set, the process aborts right after that
stage's rows are written and before commit. Stages: `region`, `grid`, `units`, `categories`,
`routing`, `platforms`, `directory`, `households`, `settings`, `admin`. Used by the end-to-end
test that proves a killed provision leaves nothing half-made.
*/

use sha2::{Digest, Sha256};

use crate::model::time::now_ms;
use crate::model::{MODEL_VERSION, Region, Role};
use crate::store::audit::{NewAudit, record_audit};
use crate::store::provision::{
    WriteMode, installed_region, lock_provisioning, write_categories, write_directory, write_grid,
    write_households, write_platforms, write_region, write_routing, write_units,
};
use crate::store::region::keys;
use crate::store::users::{NewUser, insert_user};
use crate::store::{Store, StoreError, set_setting_in};

/// Environment variable of the crash test hook (see the module docs).
#[cfg_attr(not(feature = "fault-injection"), allow(dead_code))]
pub const CRASH_ENV: &str = "M110_TEST_CRASH_AFTER";

/// What the caller knows about where the region came from.
#[derive(Debug, Clone)]
pub struct ProvisionMeta {
    /// SHA-256 of the profile file.
    pub profile_sha256: String,
    /// Kit version doing the provisioning.
    pub kit_version: String,
    /// Admin to create with the region (same transaction), when provisioning a new install.
    pub bootstrap_admin: Option<BootstrapAdmin>,
}

/// The first admin: name and argon2 hash of its one-time password.
#[derive(Debug, Clone)]
pub struct BootstrapAdmin {
    pub name: String,
    pub password_hash: String,
}

/// What [`provision`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProvisionOutcome {
    /// The region was loaded into an empty database.
    Created,
    /// The database already holds exactly this region; nothing was written.
    Unchanged,
}

/// Why provisioning refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum ProvisionError {
    #[error(
        "the database already holds region {installed} ({installed_name}), not {requested}; \
         use a new install directory or database"
    )]
    OtherRegion {
        installed: String,
        installed_name: String,
        requested: String,
    },
    #[error(
        "profile differs from install (region {code} was provisioned from model {installed_sha}, \
         this profile compiles to {requested_sha}); run `m110 upgrade` to change a live install"
    )]
    Differs {
        code: String,
        installed_sha: String,
        requested_sha: String,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for ProvisionError {
    fn from(e: sqlx::Error) -> Self {
        ProvisionError::Store(e.into())
    }
}

/// SHA-256 hex of the region model's canonical JSON: the identity of "the same region".
pub fn region_sha256(region: &Region) -> String {
    // Serialising a model of plain data cannot fail (no maps with non-string keys); if it ever
    // did, hashing the error text would still differ from any real model.
    let bytes = serde_json::to_vec(region).unwrap_or_else(|e| e.to_string().into_bytes());
    hex::encode(Sha256::digest(bytes))
}

#[cfg(not(feature = "fault-injection"))]
fn crash_point(_stage: &str) {}

#[cfg(feature = "fault-injection")]
fn crash_point(stage: &str) {
    if std::env::var(CRASH_ENV).is_ok_and(|s| s == stage) {
        eprintln!("{CRASH_ENV}={stage}: aborting mid-transaction (test hook)");
        std::process::abort();
    }
}

/// Loads `region` into the store in one transaction (see the module docs).
pub async fn provision(
    store: &Store,
    region: &Region,
    meta: &ProvisionMeta,
) -> Result<ProvisionOutcome, ProvisionError> {
    let sha = region_sha256(region);
    let mut tx = store.write().await?;
    lock_provisioning(&mut tx).await?;
    if let Some((installed, installed_name, installed_sha)) = installed_region(&mut tx).await? {
        if installed != region.info.code {
            return Err(ProvisionError::OtherRegion {
                installed,
                installed_name,
                requested: region.info.code.clone(),
            });
        }
        if installed_sha == sha {
            return Ok(ProvisionOutcome::Unchanged);
        }
        return Err(ProvisionError::Differs {
            code: installed,
            installed_sha,
            requested_sha: sha,
        });
    }

    write_region(&mut tx, region, WriteMode::Insert).await?;
    crash_point("region");
    write_grid(&mut tx, region, WriteMode::Insert).await?;
    crash_point("grid");
    write_units(&mut tx, region, WriteMode::Insert).await?;
    crash_point("units");
    write_categories(&mut tx, &region.categories, WriteMode::Insert).await?;
    crash_point("categories");
    write_routing(&mut tx, region).await?;
    crash_point("routing");
    write_platforms(&mut tx, region, WriteMode::Insert).await?;
    crate::store::cameras::write_cameras(&mut tx, region, WriteMode::Insert).await?;
    crash_point("platforms");
    write_directory(&mut tx, region).await?;
    crash_point("directory");
    write_households(&mut tx, region).await?;
    crash_point("households");

    set_setting_in(&mut tx, keys::MODEL_VERSION, &MODEL_VERSION.to_string()).await?;
    set_setting_in(&mut tx, keys::REGION_SHA256, &sha).await?;
    set_setting_in(
        &mut tx,
        keys::REGION_MODEL,
        &super::regiondiff::recorded_model(region),
    )
    .await?;
    set_setting_in(&mut tx, keys::PROFILE_SHA256, &meta.profile_sha256).await?;
    set_setting_in(&mut tx, keys::KIT_VERSION, &meta.kit_version).await?;
    set_setting_in(&mut tx, keys::PROVISIONED_AT, &now_ms().to_string()).await?;
    crash_point("settings");

    if let Some(admin) = &meta.bootstrap_admin {
        let id = insert_user(
            &mut tx,
            &NewUser {
                name: admin.name.clone(),
                role: Role::Admin,
                unit_id: None,
                grid_codes: vec![],
                password_hash: Some(admin.password_hash.clone()),
            },
        )
        .await?;
        // The printed password is a one-time password: its admin sets their own first.
        crate::store::accounts::set_profile_in(&mut tx, id, None, None, true).await?;
    }
    let target = format!("region:{}", region.info.code);
    record_audit(
        &mut tx,
        &NewAudit::system("m110 provision", "region.provision", Some(&target)).with_detail(
            serde_json::json!({
                "region_sha256": sha,
                "profile_sha256": meta.profile_sha256,
                "kit_version": meta.kit_version,
                "grid_units": region.grid_units.len(),
                "units": region.units.len(),
                "categories": region.categories.len(),
            }),
        ),
    )
    .await?;
    crash_point("admin");
    tx.commit().await?;
    Ok(ProvisionOutcome::Created)
}
