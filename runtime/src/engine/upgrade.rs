/*!
Upgrading a live install: the kit's new migrations and a changed region, planned, then applied
exactly as planned in ONE transaction.

[`upgrade`] opens the write transaction, applies the kit migrations the install lacks *inside
it*, reads the installed region, and plans: the region diff ([`super::regiondiff`]), what the
new profile retires, where each open case of a retired unit goes, and each change's effect on
live data. Without `apply` the transaction is rolled back — nothing changes, not even the
schema. With `apply` it refuses when the plan differs from the one the maintainer saw
(`expect`: the plan hash), writes the region with provisioning's upserts, retires, re-routes,
records the new model hash and commits. A failure or a kill before the commit leaves the
install exactly as it was (SQLite and PostgreSQL DDL are transactional).

Rules for live data: nothing with a case, event, follow-up or audit row is deleted. Units, grid
units and categories the new profile drops are **retired** (`retired_at`: kept for history,
gone from the region m110d loads, so from intake, routing and the console). Open cases of a
retired unit are routed again by the new rules — to the unit a rule names, with fresh
deadlines — or put back in the center's queue, each with a `rerouted` event. Renames keep codes:
a grid unit or unit whose name changes keeps its cases.

Test hook (feature `fault-injection`): `M110_TEST_CRASH_AFTER=upgrade-migrations` or
`upgrade-region` aborts the process at that point, before the commit.
*/

use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};

use super::provision::region_sha256;
use super::region::RegionIndex;
use super::regiondiff::{self, Change, ChangeKind};
use super::routing::RouteVia;
use crate::model::time::now_ms;
use crate::model::{MODEL_VERSION, Region, UnitKind};
use crate::store::audit::{NewAudit, record_audit};
use crate::store::maintenance::kit_migrations;
use crate::store::provision::{
    WriteMode, lock_provisioning, write_categories, write_grid, write_platforms, write_region,
    write_routing, write_units,
};
use crate::store::region::{keys, load_region_in};
use crate::store::upgrade::{
    HeldCase, Move, applied_versions, apply_migration, cases_naming, drop_platform,
    move_references, open_cases_of_units, reroute_case, retire,
};
use crate::store::{Store, StoreError, set_setting_in, setting_in as setting};

/// What the maintainer's command knows about the new profile.
#[derive(Debug, Clone)]
pub struct UpgradeMeta {
    pub profile_sha256: String,
    pub kit_version: String,
}

/// A code change the profile declares (`renamed_from`): the entry `from` is now `to`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rename {
    /// `units`, `grid_units` or `categories`.
    pub kind: &'static str,
    pub from: String,
    pub to: String,
}

/// A kit migration the install lacks.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlannedMigration {
    pub version: i64,
    pub description: String,
}

/// What the new profile drops.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Retired {
    pub units: Vec<String>,
    pub grid_units: Vec<String>,
    pub categories: Vec<String>,
    pub platforms: Vec<String>,
}

/// Where an open case of a retired unit goes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reroute {
    pub case: String,
    pub from: String,
    /// The new unit; `None`: the center's queue.
    pub to: Option<String>,
}

/// The plan: what applying would do.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plan {
    pub region: String,
    pub installed_model: Option<String>,
    pub target_model: String,
    pub migrations: Vec<PlannedMigration>,
    pub changes: Vec<Change>,
    pub retired: Retired,
    /// Code changes the profile declares that apply to this install (the old entry exists).
    pub renames: Vec<Rename>,
    pub reroutes: Vec<Reroute>,
    /// Each change's effect on live data, one sentence each.
    pub effects: Vec<String>,
    /// Changes made to the live install since it was last provisioned or upgraded (the console,
    /// or by hand) that this upgrade would overwrite: `--apply` refuses them unless told.
    pub live_edits: Vec<Change>,
    /// Identity of this plan: `--plan-hash` makes `--apply` refuse any other.
    pub hash: String,
    /// Whether it was applied (committed).
    pub applied: bool,
}

impl Plan {
    /// Nothing to do: same schema, same region model.
    pub fn is_empty(&self) -> bool {
        self.migrations.is_empty()
            && self.changes.is_empty()
            && self.installed_model.as_deref() == Some(self.target_model.as_str())
    }
}

/// Why an upgrade refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum UpgradeError {
    #[error("the install holds region {installed}, the profile is for {requested}")]
    OtherRegion {
        installed: String,
        requested: String,
    },
    #[error(
        "the install changed since the plan was made (plan {expected}, now {actual}); look at \
         the new plan and apply that"
    )]
    Stale { expected: String, actual: String },
    #[error(
        "migration {version} ({description}) was applied with another checksum than this kit's: \
         released migrations are never edited; use the kit release that made this install"
    )]
    MigrationChanged { version: i64, description: String },
    #[error(
        "the install has migration {version}, which this kit does not know: it was made or \
         upgraded by a newer kit; use that one"
    )]
    NewerKit { version: i64 },
    #[error(
        "the upgrade would overwrite {0} live edit(s) made in the install since it was last \
         provisioned or upgraded ({1}); write them into the profile with `m110 pull`, or pass \
         --overwrite-live-edits"
    )]
    LiveEdits(usize, String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[cfg(not(feature = "fault-injection"))]
fn crash_point(_stage: &str) {}

#[cfg(feature = "fault-injection")]
fn crash_point(stage: &str) {
    if std::env::var(super::provision::CRASH_ENV).is_ok_and(|s| s == stage) {
        eprintln!(
            "{}={stage}: aborting mid-transaction (test hook)",
            super::provision::CRASH_ENV
        );
        std::process::abort();
    }
}

/// Plans the upgrade of the install in `store` to `target`, and applies it when `apply` (see
/// the module docs).
pub async fn upgrade(
    store: &Store,
    target: &Region,
    renames: &[Rename],
    meta: &UpgradeMeta,
    apply: bool,
    expect: Option<&str>,
    overwrite_live_edits: bool,
) -> Result<Plan, UpgradeError> {
    let engine = store.engine();
    let mut tx = store.write().await?;
    lock_provisioning(&mut tx).await?;

    // Kit migrations first, inside the transaction: the plan reads the region in today's
    // schema, and a rolled-back plan leaves the old schema as it was.
    let applied = applied_versions(&mut tx).await?;
    let kit = kit_migrations(engine);
    // Checksummed: a migration the kit changed, or one it does not know, is never papered over.
    for (version, checksum) in &applied {
        match kit.iter().find(|m| m.version == *version) {
            Some(m) if &m.checksum != checksum => {
                return Err(UpgradeError::MigrationChanged {
                    version: *version,
                    description: m.description.clone(),
                });
            }
            Some(_) => {}
            None => return Err(UpgradeError::NewerKit { version: *version }),
        }
    }
    let mut migrations = Vec::new();
    for m in kit {
        if applied.iter().any(|(v, _)| *v == m.version) {
            continue;
        }
        apply_migration(
            &mut tx,
            engine,
            m.version,
            &m.description,
            &m.sql,
            &m.checksum,
        )
        .await?;
        migrations.push(PlannedMigration {
            version: m.version,
            description: m.description,
        });
    }
    crash_point("upgrade-migrations");

    let installed = load_region_in(&mut tx).await?;
    if installed.info.code != target.info.code {
        return Err(UpgradeError::OtherRegion {
            installed: format!("{} {}", installed.info.code, installed.info.name),
            requested: format!("{} {}", target.info.code, target.info.name),
        });
    }
    let installed_model = setting(&mut tx, keys::REGION_SHA256).await?;
    let target_model = region_sha256(target);
    let changes = regiondiff::diff(&installed, target);
    // A live edit is a change from the recorded model to the database; it is at risk when the
    // upgrade changes the same path again.
    let live_edits: Vec<Change> = match setting(&mut tx, keys::REGION_MODEL)
        .await?
        .as_deref()
        .and_then(regiondiff::parse_recorded)
    {
        Some(recorded) => regiondiff::diff(&recorded, &installed)
            .into_iter()
            .filter(|e| changes.iter().any(|c| c.path == e.path))
            .collect(),
        None => Vec::new(),
    };
    let retired = Retired {
        units: gone(&installed.units, &target.units, |u| &u.id),
        grid_units: gone(&installed.grid_units, &target.grid_units, |g| &g.code),
        categories: gone(&installed.categories, &target.categories, |c| &c.code),
        platforms: gone(&installed.platforms, &target.platforms, |p| &p.id),
    };
    // A declared rename applies when the old entry is here and the new one is not yet.
    let renames: Vec<Rename> = renames
        .iter()
        .filter(|r| {
            let has = |k: &str| match r.kind {
                "units" => installed.units.iter().any(|u| u.id == k),
                "grid_units" => installed.grid_units.iter().any(|g| g.code == k),
                _ => installed.categories.iter().any(|c| c.code == k),
            };
            has(&r.from) && !has(&r.to)
        })
        .cloned()
        .collect();
    // A renamed unit's cases move with it; only the others are routed again.
    let moving: Vec<String> = retired
        .units
        .iter()
        .filter(|u| !renames.iter().any(|r| r.kind == "units" && &r.from == *u))
        .cloned()
        .collect();
    let held = open_cases_of_units(&mut tx, &moving).await?;
    let index = RegionIndex::from_region(target);
    let now = now_ms();
    let moves: Vec<(HeldCase, Move)> = held
        .into_iter()
        .map(|c| {
            let m = destination(&index, &c, now);
            (c, m)
        })
        .collect();
    let reroutes: Vec<Reroute> = moves
        .iter()
        .map(|(c, m)| Reroute {
            case: c.public_id.clone(),
            from: c.unit_id.clone(),
            to: m.to_unit.clone(),
        })
        .collect();
    let mut effects = Vec::new();
    for r in &renames {
        let column = match r.kind {
            "units" => "unit_id",
            "grid_units" => "grid_code",
            _ => "category_code",
        };
        let (all, open) = cases_naming(&mut tx, column, &r.from).await?;
        effects.push(format!(
            "编码变更 / {} {} → {} (renamed_from): {all} case(s) ({open} open) and every record \
             naming it move to the new code; the old entry is retired",
            r.kind, r.from, r.to
        ));
    }
    let retired_effects = Retired {
        units: moving.clone(),
        ..retired.clone()
    };
    effects.extend(
        effects_of(
            &mut tx,
            &installed,
            target,
            &changes,
            &retired_effects,
            &reroutes,
        )
        .await?,
    );
    let hash = {
        let identity = json!([
            installed_model,
            target_model,
            migrations,
            changes,
            renames,
            reroutes
        ]);
        hex::encode(Sha256::digest(identity.to_string().as_bytes()))[..16].to_string()
    };
    let mut plan = Plan {
        region: format!("{} {}", target.info.code, target.info.name),
        installed_model,
        target_model,
        migrations,
        changes,
        retired,
        renames,
        reroutes,
        effects,
        live_edits,
        hash,
        applied: false,
    };
    if !apply || plan.is_empty() {
        // Dropping the transaction rolls the migrations back too: a plan changes nothing.
        return Ok(plan);
    }
    if let Some(expected) = expect
        && expected != plan.hash
    {
        return Err(UpgradeError::Stale {
            expected: expected.to_string(),
            actual: plan.hash,
        });
    }

    if !plan.live_edits.is_empty() && !overwrite_live_edits {
        let paths: Vec<&str> = plan.live_edits.iter().map(|c| c.path.as_str()).collect();
        return Err(UpgradeError::LiveEdits(paths.len(), paths.join(", ")));
    }

    // --- apply: provisioning's upserts, then what the new profile drops -------------------
    write_region(&mut tx, target, WriteMode::Upsert).await?;
    write_grid(&mut tx, target, WriteMode::Upsert).await?;
    write_units(&mut tx, target, WriteMode::Upsert).await?;
    write_categories(&mut tx, &target.categories, WriteMode::Upsert).await?;
    write_routing(&mut tx, target).await?;
    write_platforms(&mut tx, target, WriteMode::Upsert).await?;
    // Cameras follow the profile (added, changed, dropped) before a dropped platform goes.
    crate::store::cameras::write_cameras(&mut tx, target, WriteMode::Upsert).await?;
    for r in &plan.renames {
        move_references(&mut tx, r.kind, &r.from, &r.to).await?;
    }
    for u in &plan.retired.units {
        retire(&mut tx, "units", u, now).await?;
    }
    for g in &plan.retired.grid_units {
        retire(&mut tx, "grid_units", g, now).await?;
    }
    for c in &plan.retired.categories {
        retire(&mut tx, "categories", c, now).await?;
    }
    for p in &plan.retired.platforms {
        drop_platform(&mut tx, p).await?;
    }
    for (case, to) in &moves {
        let detail = json!({
            "reason": "unit_retired",
            "from": case.unit_id,
            "to": to.to_unit,
            "model": plan.target_model,
        });
        reroute_case(&mut tx, case, to, detail, now).await?;
    }
    // Renamed codes moved cases without a timeline event; an older install has no rollups yet.
    crate::store::rollups::sync(&mut tx, engine).await?;
    crash_point("upgrade-region");
    for (k, v) in [
        (keys::REGION_SHA256, plan.target_model.as_str()),
        (keys::PROFILE_SHA256, meta.profile_sha256.as_str()),
        (keys::KIT_VERSION, meta.kit_version.as_str()),
        (keys::MODEL_VERSION, &MODEL_VERSION.to_string()),
        (keys::REGION_MODEL, &regiondiff::recorded_model(target)),
    ] {
        set_setting_in(&mut tx, k, v).await?;
    }
    let target_ref = format!("region:{}", target.info.code);
    let audit =
        NewAudit::system("m110 upgrade", "region.upgrade", Some(&target_ref)).with_detail(json!({
            "from": plan.installed_model,
            "to": plan.target_model,
            "plan": plan.hash,
            "migrations": plan.migrations.iter().map(|m| m.version).collect::<Vec<_>>(),
            "changes": plan.changes.len(),
            "retired": plan.retired,
            "rerouted": plan.reroutes.len(),
        }));
    record_audit(&mut tx, &audit).await?;
    tx.commit().await?;
    plan.applied = true;
    Ok(plan)
}

/// Keys of `before` that `after` no longer has.
fn gone<T>(before: &[T], after: &[T], key: impl Fn(&T) -> &String) -> Vec<String> {
    before
        .iter()
        .map(&key)
        .filter(|k| !after.iter().any(|a| key(a) == *k))
        .cloned()
        .collect()
}

/// The new rules' unit for a held case (a handling unit, not the center), else the center.
fn destination(index: &RegionIndex, case: &HeldCase, now: i64) -> Move {
    let center = Move {
        to_unit: None,
        sign_due: None,
        close_due: None,
    };
    let Some(cat) = case
        .category_code
        .as_deref()
        .and_then(|c| index.category(c))
    else {
        return center;
    };
    let r = index
        .routing()
        .resolve(&cat.code, case.grid_code.as_deref());
    let handling = index
        .unit(&r.unit)
        .is_some_and(|u| !matches!(u.kind, UnitKind::Center | UnitKind::Police));
    if matches!(r.via, RouteVia::Rule { .. }) && handling {
        Move {
            to_unit: Some(r.unit),
            sign_due: Some(now + i64::from(cat.sign_minutes) * 60_000),
            close_due: Some(now + i64::from(cat.close_hours) * 3_600_000),
        }
    } else {
        center
    }
}

/// One sentence per change that touches live data.
async fn effects_of(
    conn: &mut sqlx::AnyConnection,
    installed: &Region,
    target: &Region,
    changes: &[Change],
    retired: &Retired,
    reroutes: &[Reroute],
) -> Result<Vec<String>, StoreError> {
    let mut out = Vec::new();
    for u in &retired.units {
        let name = installed
            .units
            .iter()
            .find(|x| &x.id == u)
            .map_or("", |x| x.name.as_str());
        let mine: Vec<&Reroute> = reroutes.iter().filter(|r| &r.from == u).collect();
        let mut to: Vec<String> = Vec::new();
        for r in &mine {
            let d = r.to.clone().unwrap_or_else(|| "the center queue".into());
            if !to.contains(&d) {
                to.push(d);
            }
        }
        out.push(if mine.is_empty() {
            format!("单位撤销 / unit {u} {name} retired: no open cases")
        } else {
            format!(
                "单位撤销 / unit {u} {name} retired: {} open case(s) re-route to {} by the new rules",
                mine.len(),
                to.join(", ")
            )
        });
    }
    for g in &retired.grid_units {
        let (all, open) = cases_naming(conn, "grid_code", g).await?;
        out.push(format!(
            "网格撤销 / grid unit {g} retired: {all} case(s) ({open} open) keep their code"
        ));
    }
    for c in &retired.categories {
        let (all, open) = cases_naming(conn, "category_code", c).await?;
        out.push(format!(
            "类别撤销 / category {c} retired: {all} case(s) ({open} open) keep it; new intake can \
             no longer choose it"
        ));
    }
    for ch in changes {
        let field = ch.path.rsplit('.').next().unwrap_or("");
        match (ch.section(), ch.kind, field) {
            ("grid_units", ChangeKind::Changed, "name") => {
                let code = ch.entry().unwrap_or("");
                let (all, _) = cases_naming(conn, "grid_code", code).await?;
                out.push(format!(
                    "网格更名 / grid unit {code} renamed {} → {}: {all} case(s) keep their code",
                    show(&ch.before),
                    show(&ch.after)
                ));
            }
            ("categories", ChangeKind::Changed, "sign_minutes" | "close_hours") => {
                out.push(format!(
                    "时限调整 / {} {} → {}: applies to cases dispatched from now on",
                    ch.path,
                    show(&ch.before),
                    show(&ch.after)
                ));
            }
            ("routing", _, _) if ch.path.starts_with("routing.rules") => {
                out.push(format!(
                    "派单规则 / {}: new cases route by it; open cases stay with their unit",
                    ch.line()
                ));
            }
            ("units", ChangeKind::Added, _) => {
                let id = ch.entry().unwrap_or("");
                let name = target
                    .units
                    .iter()
                    .find(|u| u.id == id)
                    .map_or("", |u| u.name.as_str());
                out.push(format!("新增单位 / unit {id} {name} added"));
            }
            _ => {}
        }
    }
    Ok(out)
}

fn show(v: &Option<serde_json::Value>) -> String {
    match v {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(v) => v.to_string(),
        None => "—".into(),
    }
}
