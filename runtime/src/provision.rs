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
use sqlx::AnyConnection;

use crate::auth::Role;
use crate::model::{Category, MODEL_VERSION, Region};
use crate::store::audit::{NewAudit, record_audit};
use crate::store::region::{integration_target, keys};
use crate::store::users::{NewUser, insert_user};
use crate::store::{Engine, Store, StoreError, now_ms, set_setting_in};

/// PostgreSQL advisory lock key held while provisioning ("M110PROV" in ASCII).
const PROVISION_LOCK_KEY: i64 = 0x4d31_3130_5052_4f56;

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

fn json(v: &impl serde::Serialize) -> Result<String, StoreError> {
    Ok(serde_json::to_string(v)?)
}

/// Loads `region` into the store in one transaction (see the module docs).
pub async fn provision(
    store: &Store,
    region: &Region,
    meta: &ProvisionMeta,
) -> Result<ProvisionOutcome, ProvisionError> {
    let sha = region_sha256(region);
    let mut tx = store.begin().await?;
    if store.engine() == Engine::Postgres {
        // Serialise concurrent provisions of one database, so the second sees the first's
        // region and reports Unchanged instead of failing on a duplicate key. (SQLite's
        // BEGIN IMMEDIATE already serialises writers.) Released at commit or rollback.
        let _: (i64,) =
            sqlx::query_as("SELECT 1 FROM (SELECT pg_advisory_xact_lock($1)) AS locked")
                .bind(PROVISION_LOCK_KEY)
                .fetch_one(&mut *tx)
                .await?;
    }
    let existing: Option<(String, String)> = sqlx::query_as("SELECT code, name FROM region")
        .fetch_optional(&mut *tx)
        .await?;
    if let Some((installed, installed_name)) = existing {
        if installed != region.info.code {
            return Err(ProvisionError::OtherRegion {
                installed,
                installed_name,
                requested: region.info.code.clone(),
            });
        }
        let installed_sha: Option<(String,)> =
            sqlx::query_as("SELECT value FROM settings WHERE key = $1")
                .bind(keys::REGION_SHA256)
                .fetch_optional(&mut *tx)
                .await?;
        let installed_sha = installed_sha.map(|(s,)| s).unwrap_or_default();
        if installed_sha == sha {
            return Ok(ProvisionOutcome::Unchanged);
        }
        return Err(ProvisionError::Differs {
            code: installed,
            installed_sha,
            requested_sha: sha,
        });
    }

    write_region(&mut tx, region).await?;
    crash_point("region");
    write_grid(&mut tx, region).await?;
    crash_point("grid");
    write_units(&mut tx, region).await?;
    crash_point("units");
    write_categories(&mut tx, &region.categories).await?;
    crash_point("categories");
    write_routing(&mut tx, region).await?;
    crash_point("routing");
    write_platforms(&mut tx, region).await?;
    crash_point("platforms");
    write_directory(&mut tx, region).await?;
    crash_point("directory");
    write_households(&mut tx, region).await?;
    crash_point("households");

    set_setting_in(&mut tx, keys::MODEL_VERSION, &MODEL_VERSION.to_string()).await?;
    set_setting_in(&mut tx, keys::REGION_SHA256, &sha).await?;
    set_setting_in(&mut tx, keys::PROFILE_SHA256, &meta.profile_sha256).await?;
    set_setting_in(&mut tx, keys::KIT_VERSION, &meta.kit_version).await?;
    set_setting_in(&mut tx, keys::PROVISIONED_AT, &now_ms().to_string()).await?;
    crash_point("settings");

    if let Some(admin) = &meta.bootstrap_admin {
        insert_user(
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

async fn write_region(tx: &mut AnyConnection, region: &Region) -> Result<(), StoreError> {
    let info = &region.info;
    let sc = &region.service_center;
    sqlx::query(
        "INSERT INTO region (code, name, parents, population, area_km2, archetype, \
         division_edition, service_number, service_hours, languages, staffing, appraisal, \
         early_warning, fallback_unit_id, provisioned_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
    )
    .bind(&info.code)
    .bind(&info.name)
    .bind(json(&info.parents)?)
    .bind(i64::try_from(info.population).unwrap_or(i64::MAX))
    .bind(info.area_km2)
    .bind(info.archetype.as_str())
    .bind(&info.division_edition)
    .bind(&sc.number)
    .bind(&sc.hours)
    .bind(json(&sc.languages)?)
    .bind(json(&sc.staffing)?)
    .bind(json(&region.appraisal)?)
    .bind(json(&region.early_warning)?)
    .bind(&region.routing.fallback_unit)
    .bind(now_ms())
    .execute(&mut *tx)
    .await?;
    Ok(())
}

fn opt_i64(v: Option<u64>) -> Option<i64> {
    v.map(|n| i64::try_from(n).unwrap_or(i64::MAX))
}

async fn write_grid(tx: &mut AnyConnection, region: &Region) -> Result<(), StoreError> {
    for t in &region.tiers {
        sqlx::query("INSERT INTO grid_tiers (level, key, name) VALUES ($1, $2, $3)")
            .bind(i64::from(t.level))
            .bind(&t.key)
            .bind(&t.name)
            .execute(&mut *tx)
            .await?;
    }
    for (pos, g) in region.grid_units.iter().enumerate() {
        sqlx::query(
            "INSERT INTO grid_units (code, name, parent_code, tier, population, households, \
             lat, lon, generated, position) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&g.code)
        .bind(&g.name)
        .bind(g.parent.as_deref())
        .bind(i64::from(g.tier))
        .bind(opt_i64(g.population))
        .bind(opt_i64(g.households))
        .bind(g.centroid.map(|c| c.lat))
        .bind(g.centroid.map(|c| c.lon))
        .bind(i64::from(g.generated))
        .bind(pos as i64)
        .execute(&mut *tx)
        .await
        .map_err(|e| context(e, &format!("grid unit {}", g.code)))?;
    }
    Ok(())
}

/// Names the offending record in constraint errors, keeping the error kind.
fn context(e: sqlx::Error, what: &str) -> StoreError {
    match StoreError::from(e) {
        StoreError::Conflict(m) => StoreError::Conflict(format!("{what}: {m}")),
        StoreError::Invalid(m) => StoreError::Invalid(format!("{what}: {m}")),
        other => other,
    }
}

async fn write_units(tx: &mut AnyConnection, region: &Region) -> Result<(), StoreError> {
    for (pos, u) in region.units.iter().enumerate() {
        sqlx::query(
            "INSERT INTO units (id, kind, name, hotline, functions, service_categories, \
             qualification, address, active, position) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1, $9)",
        )
        .bind(&u.id)
        .bind(u.kind.as_str())
        .bind(&u.name)
        .bind(u.hotline.as_deref())
        .bind(json(&u.functions)?)
        .bind(json(&u.service_categories)?)
        .bind(u.qualification.as_deref())
        .bind(u.address.as_deref())
        .bind(pos as i64)
        .execute(&mut *tx)
        .await
        .map_err(|e| context(e, &format!("unit {}", u.id)))?;
        for (i, c) in u.contacts.iter().enumerate() {
            sqlx::query(
                "INSERT INTO unit_contacts (unit_id, position, name, role, phone) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(&u.id)
            .bind(i as i64)
            .bind(&c.name)
            .bind(c.role.as_deref())
            .bind(c.phone.as_deref())
            .execute(&mut *tx)
            .await?;
        }
        for (i, code) in u.scope.iter().enumerate() {
            sqlx::query(
                "INSERT INTO unit_scope (unit_id, grid_code, position) VALUES ($1, $2, $3)",
            )
            .bind(&u.id)
            .bind(code)
            .bind(i as i64)
            .execute(&mut *tx)
            .await
            .map_err(|e| context(e, &format!("scope of unit {}", u.id)))?;
        }
    }
    Ok(())
}

/// Categories in an order where every parent precedes its children (the foreign key is checked
/// per statement), each keeping its profile position.
fn parent_first(categories: &[Category]) -> Vec<(usize, &Category)> {
    let mut placed: std::collections::HashSet<&str> = std::collections::HashSet::new();
    let mut out = Vec::with_capacity(categories.len());
    let mut pending: Vec<(usize, &Category)> = categories.iter().enumerate().collect();
    while !pending.is_empty() {
        let before = pending.len();
        pending.retain(|(pos, c)| {
            let ready = c
                .parent
                .as_deref()
                .is_none_or(|p| placed.contains(p) || !categories.iter().any(|x| x.code == p));
            if ready {
                placed.insert(&c.code);
                out.push((*pos, *c));
            }
            !ready
        });
        if pending.len() == before {
            // A cycle: insert the rest as is and let the foreign key report it.
            out.append(&mut pending);
        }
    }
    out
}

async fn write_categories(
    tx: &mut AnyConnection,
    categories: &[Category],
) -> Result<(), StoreError> {
    for (pos, c) in parent_first(categories) {
        sqlx::query(
            "INSERT INTO categories (code, name_zh, name_en, parent_code, priority, police, \
             sign_minutes, close_hours, keywords, position) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&c.code)
        .bind(&c.name_zh)
        .bind(&c.name_en)
        .bind(c.parent.as_deref())
        .bind(c.priority.as_str())
        .bind(i64::from(c.police))
        .bind(i64::from(c.sign_minutes))
        .bind(i64::from(c.close_hours))
        .bind(json(&c.keywords)?)
        .bind(pos as i64)
        .execute(&mut *tx)
        .await
        .map_err(|e| context(e, &format!("category {}", c.code)))?;
    }
    Ok(())
}

async fn write_routing(tx: &mut AnyConnection, region: &Region) -> Result<(), StoreError> {
    let (fallback,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM units WHERE id = $1")
        .bind(&region.routing.fallback_unit)
        .fetch_one(&mut *tx)
        .await?;
    if fallback == 0 {
        return Err(StoreError::Invalid(format!(
            "routing fallback unit {:?} is not a handling unit",
            region.routing.fallback_unit
        )));
    }
    for (pos, r) in region.routing.rules.iter().enumerate() {
        sqlx::query(
            "INSERT INTO routing_rules (category_code, scope_code, unit_id, position) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(&r.category)
        .bind(r.scope.as_deref())
        .bind(&r.unit)
        .bind(pos as i64)
        .execute(&mut *tx)
        .await
        .map_err(|e| context(e, &format!("routing rule {} -> {}", r.category, r.unit)))?;
    }
    let mut empty: Vec<(i64, Option<String>)> = Vec::new();
    for (chain, c) in region.routing.escalation.iter().enumerate() {
        if c.steps.is_empty() {
            empty.push((chain as i64, c.category.clone()));
        }
        for (step, s) in c.steps.iter().enumerate() {
            sqlx::query(
                "INSERT INTO escalation_steps (chain, category_code, step, unit_id, after_minutes) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(chain as i64)
            .bind(c.category.as_deref())
            .bind(step as i64)
            .bind(&s.unit)
            .bind(i64::from(s.after_minutes))
            .execute(&mut *tx)
            .await
            .map_err(|e| context(e, &format!("escalation step {} of chain {chain}", step + 1)))?;
        }
    }
    if !empty.is_empty() {
        set_setting_in(tx, keys::EMPTY_ESCALATION_CHAINS, &json(&empty)?).await?;
    }
    Ok(())
}

async fn write_platforms(tx: &mut AnyConnection, region: &Region) -> Result<(), StoreError> {
    for (pos, p) in region.platforms.iter().enumerate() {
        sqlx::query(
            "INSERT INTO platforms (id, kind, name, integration_kind, integration_target, \
             cameras, position) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&p.id)
        .bind(p.kind.as_str())
        .bind(&p.name)
        .bind(p.integration.kind_str())
        .bind(integration_target(&p.integration))
        .bind(p.cameras.map(i64::from))
        .bind(pos as i64)
        .execute(&mut *tx)
        .await
        .map_err(|e| context(e, &format!("platform {}", p.id)))?;
    }
    Ok(())
}

async fn write_directory(tx: &mut AnyConnection, region: &Region) -> Result<(), StoreError> {
    let now = now_ms();
    for d in &region.directory {
        sqlx::query(
            "INSERT INTO directory_entries (system, name, category, phone, address, grid_code, \
             description, qualification, status, unit_id, created_at, updated_at, version) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'active', $9, $10, $10, 1)",
        )
        .bind(d.system.as_str())
        .bind(&d.name)
        .bind(d.category.as_deref())
        .bind(d.phone.as_deref())
        .bind(d.address.as_deref())
        .bind(d.grid.as_deref())
        .bind(d.description.as_deref())
        .bind(d.qualification.as_deref())
        .bind(d.unit.as_deref())
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(|e| context(e, &format!("directory entry {}", d.name)))?;
    }
    Ok(())
}

async fn write_households(tx: &mut AnyConnection, region: &Region) -> Result<(), StoreError> {
    let now = now_ms();
    for (i, h) in region.households.iter().enumerate() {
        sqlx::query(
            "INSERT INTO households (head_name, kind, grid_code, phone, id_number, members, \
             address, notes, created_at, updated_at, version) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, 1)",
        )
        .bind(&h.head_name)
        .bind(h.kind.as_str())
        .bind(h.grid.as_deref())
        .bind(h.phone.as_deref())
        .bind(h.id_number.as_deref())
        .bind(h.members.map(i64::from))
        .bind(h.address.as_deref())
        .bind(h.notes.as_deref())
        .bind(now)
        .execute(&mut *tx)
        .await
        // Row number, not the name: household data is personal.
        .map_err(|e| context(e, &format!("household row {}", i + 1)))?;
    }
    Ok(())
}
