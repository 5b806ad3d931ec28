/*!
The SQL of provisioning: the statements that load a [`Region`] into an empty, migrated database.
Each `write_*` takes the open [`WriteTx`] of the provisioning engine (`engine::provision`), which
decides the order, the idempotency check and the single commit.

Provisioning inserts ([`WriteMode::Insert`]: a duplicate code is an error). `engine::upgrade`
writes a changed region with the same functions as upserts keyed on the region's stable codes
([`WriteMode::Upsert`]): an entry the new region keeps is updated in place (and un-retired);
contacts, scopes, rules and chains are rewritten whole; what the new region drops is retired by
`store::upgrade`, never deleted.
*/

use sqlx::AnyConnection;

use super::region::{integration_target, keys};
use super::{Engine, StoreError, WriteTx, set_setting_in};
use crate::model::time::now_ms;
use crate::model::{Category, Region};

/// PostgreSQL advisory lock key held while provisioning ("M110PROV" in ASCII).
const PROVISION_LOCK_KEY: i64 = 0x4d31_3130_5052_4f56;

/// Serialises concurrent provisions of one PostgreSQL database, so the second sees the first's
/// region and reports it unchanged instead of failing on a duplicate key (SQLite's
/// `BEGIN IMMEDIATE` already serialises writers). Released at commit or rollback.
pub async fn lock_provisioning(tx: &mut WriteTx) -> Result<(), StoreError> {
    if tx.engine() == Engine::Postgres {
        let _: (i64,) =
            sqlx::query_as("SELECT 1 FROM (SELECT pg_advisory_xact_lock($1)) AS locked")
                .bind(PROVISION_LOCK_KEY)
                .fetch_one(&mut **tx)
                .await?;
    }
    Ok(())
}

/// The region already in the database, if any: code, name and the stored model SHA-256.
pub async fn installed_region(
    tx: &mut AnyConnection,
) -> Result<Option<(String, String, String)>, StoreError> {
    let existing: Option<(String, String)> = sqlx::query_as("SELECT code, name FROM region")
        .fetch_optional(&mut *tx)
        .await?;
    let Some((code, name)) = existing else {
        return Ok(None);
    };
    let sha: Option<(String,)> = sqlx::query_as("SELECT value FROM settings WHERE key = $1")
        .bind(super::region::keys::REGION_SHA256)
        .fetch_optional(&mut *tx)
        .await?;
    Ok(Some((code, name, sha.map(|(s,)| s).unwrap_or_default())))
}

fn json(v: &impl serde::Serialize) -> Result<String, StoreError> {
    Ok(serde_json::to_string(v)?)
}

/// Provisioning inserts (a duplicate is an error); an upgrade upserts on the stable codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteMode {
    Insert,
    Upsert,
}

/// `sql` with its `ON CONFLICT …` clause when upserting, without it when inserting.
fn statement(mode: WriteMode, insert: &str, on_conflict: &str) -> String {
    match mode {
        WriteMode::Insert => insert.to_string(),
        WriteMode::Upsert => format!("{insert} {on_conflict}"),
    }
}

pub async fn write_region(
    tx: &mut AnyConnection,
    region: &Region,
    mode: WriteMode,
) -> Result<(), StoreError> {
    let info = &region.info;
    let sc = &region.service_center;
    sqlx::query(&statement(
        mode,
        "INSERT INTO region (code, name, parents, population, area_km2, archetype, \
         division_edition, service_number, service_hours, languages, staffing, appraisal, \
         early_warning, fallback_unit_id, provisioned_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
        "ON CONFLICT (code) DO UPDATE SET name = excluded.name, parents = excluded.parents, \
         population = excluded.population, area_km2 = excluded.area_km2, \
         archetype = excluded.archetype, division_edition = excluded.division_edition, \
         service_number = excluded.service_number, service_hours = excluded.service_hours, \
         languages = excluded.languages, staffing = excluded.staffing, \
         appraisal = excluded.appraisal, early_warning = excluded.early_warning, \
         fallback_unit_id = excluded.fallback_unit_id",
    ))
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
    set_setting_in(tx, keys::CENTER_RULES, &json(&sc.rules)?).await?;
    Ok(())
}

fn opt_i64(v: Option<u64>) -> Option<i64> {
    v.map(|n| i64::try_from(n).unwrap_or(i64::MAX))
}

pub async fn write_grid(
    tx: &mut AnyConnection,
    region: &Region,
    mode: WriteMode,
) -> Result<(), StoreError> {
    for t in &region.tiers {
        sqlx::query(&statement(
            mode,
            "INSERT INTO grid_tiers (level, key, name) VALUES ($1, $2, $3)",
            "ON CONFLICT (level) DO UPDATE SET key = excluded.key, name = excluded.name",
        ))
        .bind(i64::from(t.level))
        .bind(&t.key)
        .bind(&t.name)
        .execute(&mut *tx)
        .await?;
    }
    for (pos, g) in region.grid_units.iter().enumerate() {
        sqlx::query(&statement(
            mode,
            "INSERT INTO grid_units (code, name, parent_code, tier, population, households, \
             lat, lon, generated, position) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            "ON CONFLICT (code) DO UPDATE SET name = excluded.name, \
             parent_code = excluded.parent_code, tier = excluded.tier, \
             population = excluded.population, households = excluded.households, \
             lat = excluded.lat, lon = excluded.lon, generated = excluded.generated, \
             position = excluded.position, retired_at = NULL",
        ))
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

pub async fn write_units(
    tx: &mut AnyConnection,
    region: &Region,
    mode: WriteMode,
) -> Result<(), StoreError> {
    for (pos, u) in region.units.iter().enumerate() {
        sqlx::query(&statement(
            mode,
            "INSERT INTO units (id, kind, name, hotline, functions, service_categories, \
             qualification, address, active, position, platform_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1, $9, $10)",
            "ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, name = excluded.name, \
             hotline = excluded.hotline, functions = excluded.functions, \
             service_categories = excluded.service_categories, \
             qualification = excluded.qualification, address = excluded.address, active = 1, \
             position = excluded.position, platform_id = excluded.platform_id, \
             retired_at = NULL",
        ))
        .bind(&u.id)
        .bind(u.kind.as_str())
        .bind(&u.name)
        .bind(u.hotline.as_deref())
        .bind(json(&u.functions)?)
        .bind(json(&u.service_categories)?)
        .bind(u.qualification.as_deref())
        .bind(u.address.as_deref())
        .bind(pos as i64)
        .bind(u.platform.as_deref())
        .execute(&mut *tx)
        .await
        .map_err(|e| context(e, &format!("unit {}", u.id)))?;
        // An upgrade rewrites a unit's contacts and scope whole (nothing refers to their rows).
        for table in ["unit_contacts", "unit_scope"] {
            sqlx::query(&format!("DELETE FROM {table} WHERE unit_id = $1"))
                .bind(&u.id)
                .execute(&mut *tx)
                .await?;
        }
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

pub async fn write_categories(
    tx: &mut AnyConnection,
    categories: &[Category],
    mode: WriteMode,
) -> Result<(), StoreError> {
    for (pos, c) in parent_first(categories) {
        sqlx::query(&statement(
            mode,
            "INSERT INTO categories (code, name_zh, name_en, parent_code, priority, police, \
             sign_minutes, close_hours, keywords, position, matchable) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            "ON CONFLICT (code) DO UPDATE SET name_zh = excluded.name_zh, \
             name_en = excluded.name_en, parent_code = excluded.parent_code, \
             priority = excluded.priority, police = excluded.police, \
             sign_minutes = excluded.sign_minutes, close_hours = excluded.close_hours, \
             keywords = excluded.keywords, position = excluded.position, retired_at = NULL, \
             matchable = excluded.matchable",
        ))
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
        .bind(i64::from(c.matchable))
        .execute(&mut *tx)
        .await
        .map_err(|e| context(e, &format!("category {}", c.code)))?;
    }
    Ok(())
}

pub async fn write_routing(tx: &mut AnyConnection, region: &Region) -> Result<(), StoreError> {
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
    // Rules and chains are written whole (an upgrade replaces them; nothing refers to them).
    for table in ["routing_rules", "escalation_steps"] {
        sqlx::query(&format!("DELETE FROM {table}"))
            .execute(&mut *tx)
            .await?;
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
    if empty.is_empty() {
        sqlx::query("DELETE FROM settings WHERE key = $1")
            .bind(keys::EMPTY_ESCALATION_CHAINS)
            .execute(&mut *tx)
            .await?;
    } else {
        set_setting_in(tx, keys::EMPTY_ESCALATION_CHAINS, &json(&empty)?).await?;
    }
    Ok(())
}

pub async fn write_platforms(
    tx: &mut AnyConnection,
    region: &Region,
    mode: WriteMode,
) -> Result<(), StoreError> {
    for (pos, p) in region.platforms.iter().enumerate() {
        sqlx::query(&statement(
            mode,
            "INSERT INTO platforms (id, kind, name, integration_kind, integration_target, \
             cameras, position, secret_env) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            "ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, name = excluded.name, \
             integration_kind = excluded.integration_kind, \
             integration_target = excluded.integration_target, cameras = excluded.cameras, \
             position = excluded.position, secret_env = excluded.secret_env",
        ))
        .bind(&p.id)
        .bind(p.kind.as_str())
        .bind(&p.name)
        .bind(p.integration.kind_str())
        .bind(integration_target(&p.integration))
        .bind(p.cameras.map(i64::from))
        .bind(pos as i64)
        .bind(match &p.integration {
            crate::model::Integration::Webhook { secret_env, .. }
            | crate::model::Integration::Open311 { secret_env, .. } => secret_env.clone(),
            _ => None,
        })
        .execute(&mut *tx)
        .await
        .map_err(|e| context(e, &format!("platform {}", p.id)))?;
    }
    Ok(())
}

pub async fn write_directory(tx: &mut AnyConnection, region: &Region) -> Result<(), StoreError> {
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

pub async fn write_households(tx: &mut AnyConnection, region: &Region) -> Result<(), StoreError> {
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
