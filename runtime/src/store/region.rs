/*!
Reading the provisioned region back from the database.

[`Store::load_region`] rebuilds the exact [`Region`] that provisioning wrote (the `position`
columns keep the profile's order), so the server can build its routing table, classifier and
locator from the database alone, and tests can check the round trip with `==`.
[`Store::provision_state`] tells whether and with what the database was provisioned.
*/

use std::collections::HashMap;

use sqlx::AnyConnection;

use crate::model::*;

use super::{Store, StoreError};

/// Setting keys written by provisioning.
pub mod keys {
    /// Region model format version ([`crate::model::MODEL_VERSION`]).
    pub const MODEL_VERSION: &str = "model_version";
    /// SHA-256 of the region model as provisioned (canonical JSON), the re-provision check.
    pub const REGION_SHA256: &str = "region_sha256";
    /// SHA-256 of the profile file the region came from.
    pub const PROFILE_SHA256: &str = "profile_sha256";
    /// Version of the kit that provisioned the database.
    pub const KIT_VERSION: &str = "kit_version";
    /// When provisioning committed, Unix epoch ms.
    pub const PROVISIONED_AT: &str = "provisioned_at";
    /// JSON `[[chain position, category]]` of escalation chains that have no steps (and so
    /// no `escalation_steps` rows), so the region reads back exactly as provisioned.
    pub const EMPTY_ESCALATION_CHAINS: &str = "empty_escalation_chains";
    /// The region model as last provisioned or upgraded (canonical JSON, live registries left
    /// out): what tells a live edit (database ≠ this) from a profile change (profile ≠ this).
    pub const REGION_MODEL: &str = "region_model";
    /// JSON of the service center's floor rules ([`crate::model::CenterRules`]); absent on
    /// installs provisioned before these rules existed (they read as the defaults).
    pub const CENTER_RULES: &str = "center_rules";
}

/// What the database holds, from `settings` and `region`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvisionState {
    pub region_code: String,
    pub region_name: String,
    pub model_version: Option<String>,
    pub region_sha256: Option<String>,
    pub profile_sha256: Option<String>,
    pub kit_version: Option<String>,
    pub provisioned_at: i64,
}

fn enum_err(what: &str, value: &str) -> StoreError {
    StoreError::Other(format!("unknown {what} {value:?} in database").into())
}

fn json<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, StoreError> {
    Ok(serde_json::from_str(text)?)
}

fn to_u64(v: Option<i64>) -> Option<u64> {
    v.map(|n| n.max(0) as u64)
}

fn centroid(lat: Option<f64>, lon: Option<f64>) -> Option<LatLon> {
    match (lat, lon) {
        (Some(lat), Some(lon)) => Some(LatLon { lat, lon }),
        _ => None,
    }
}

fn platform_kind(s: &str) -> Result<PlatformKind, StoreError> {
    Ok(match s {
        "police_dispatch" => PlatformKind::PoliceDispatch,
        "fire_dispatch" => PlatformKind::FireDispatch,
        "medical_dispatch" => PlatformKind::MedicalDispatch,
        "hotline_12345" => PlatformKind::Hotline12345,
        "grid_app" => PlatformKind::GridApp,
        "camera_network" => PlatformKind::CameraNetwork,
        "gov_portal" => PlatformKind::GovPortal,
        "welfare_db" => PlatformKind::WelfareDb,
        "sms_gateway" => PlatformKind::SmsGateway,
        "other" => PlatformKind::Other,
        _ => return Err(enum_err("platform kind", s)),
    })
}

/// The target column of an integration: path, url or endpoint.
pub fn integration_target(i: &Integration) -> Option<&str> {
    match i {
        Integration::None => None,
        Integration::CsvImport { path } => Some(path),
        Integration::Webhook { url, .. } => Some(url),
        Integration::Open311 { endpoint, .. } => Some(endpoint),
    }
}

fn integration(
    kind: &str,
    target: Option<String>,
    secret_env: Option<String>,
) -> Result<Integration, StoreError> {
    let target = || {
        target
            .clone()
            .ok_or_else(|| StoreError::Other(format!("integration {kind} without target").into()))
    };
    Ok(match kind {
        "none" => Integration::None,
        "csv_import" => Integration::CsvImport { path: target()? },
        "webhook" => Integration::Webhook {
            url: target()?,
            secret_env,
        },
        "open311" => Integration::Open311 {
            endpoint: target()?,
            secret_env,
        },
        _ => return Err(enum_err("integration", kind)),
    })
}

impl Store {
    /// Whether the database is provisioned, and with what; `None` when it is not.
    pub async fn provision_state(&self) -> Result<Option<ProvisionState>, StoreError> {
        let row: Option<(String, String, i64)> =
            sqlx::query_as("SELECT code, name, provisioned_at FROM region")
                .fetch_optional(self.pool())
                .await?;
        let Some((region_code, region_name, provisioned_at)) = row else {
            return Ok(None);
        };
        Ok(Some(ProvisionState {
            region_code,
            region_name,
            model_version: self.setting(keys::MODEL_VERSION).await?,
            region_sha256: self.setting(keys::REGION_SHA256).await?,
            profile_sha256: self.setting(keys::PROFILE_SHA256).await?,
            kit_version: self.setting(keys::KIT_VERSION).await?,
            provisioned_at,
        }))
    }

    /// The provisioned region, exactly as it was provisioned. `NotFound` when not provisioned.
    pub async fn load_region(&self) -> Result<Region, StoreError> {
        let mut conn = self.pool().acquire().await?;
        load_region_in(&mut conn).await
    }

    /// Every handling unit with its contacts and scope, in profile order.
    pub async fn load_units(&self) -> Result<Vec<HandlingUnit>, StoreError> {
        let mut conn = self.pool().acquire().await?;
        load_units_in(&mut conn).await
    }
}

/// The provisioned region, exactly as it was provisioned. `NotFound` when not provisioned.
pub async fn load_region_in(conn: &mut AnyConnection) -> Result<Region, StoreError> {
    type RegionRow = (
        String,
        String,
        String,
        i64,
        f64,
        String,
        String,
        String,
        String,
        String,
        String,
        String,
        String,
        String,
    );
    let r: RegionRow = sqlx::query_as(
        "SELECT code, name, parents, population, area_km2, archetype, division_edition, \
         service_number, service_hours, languages, staffing, appraisal, early_warning, \
         fallback_unit_id FROM region",
    )
    .fetch_one(&mut *conn)
    .await?;
    let (
        code,
        name,
        parents,
        population,
        area_km2,
        archetype,
        division_edition,
        number,
        hours,
        languages,
        staffing,
        appraisal,
        early_warning,
        fallback_unit,
    ) = r;
    let archetype = match archetype.as_str() {
        "county" => Archetype::County,
        "city_district" => Archetype::CityDistrict,
        "city" => Archetype::City,
        other => return Err(enum_err("archetype", other)),
    };

    let tiers: Vec<(i64, String, String)> =
        sqlx::query_as("SELECT level, key, name FROM grid_tiers ORDER BY level")
            .fetch_all(&mut *conn)
            .await?;
    let tiers = tiers
        .into_iter()
        .map(|(level, key, name)| Tier {
            level: level as u8,
            key,
            name,
        })
        .collect();

    type GridRow = (
        String,
        String,
        Option<String>,
        i64,
        Option<i64>,
        Option<i64>,
        Option<f64>,
        Option<f64>,
        i64,
    );
    let grid: Vec<GridRow> = sqlx::query_as(
        "SELECT code, name, parent_code, tier, population, households, lat, lon, generated \
         FROM grid_units WHERE retired_at IS NULL ORDER BY position",
    )
    .fetch_all(&mut *conn)
    .await?;
    let grid_units = grid
        .into_iter()
        .map(
            |(code, name, parent, tier, population, households, lat, lon, generated)| GridUnit {
                code,
                name,
                parent,
                tier: tier as u8,
                population: to_u64(population),
                households: to_u64(households),
                centroid: centroid(lat, lon),
                generated: generated != 0,
            },
        )
        .collect();

    let units = load_units_in(conn).await?;

    type CategoryRow = (
        String,
        String,
        String,
        Option<String>,
        String,
        i64,
        i64,
        i64,
        String,
        i64,
    );
    let cats: Vec<CategoryRow> = sqlx::query_as(
        "SELECT code, name_zh, name_en, parent_code, priority, police, sign_minutes, \
         close_hours, keywords, matchable FROM categories WHERE retired_at IS NULL \
         ORDER BY position",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut categories = Vec::with_capacity(cats.len());
    for (code, name_zh, name_en, parent, priority, police, sign, close, keywords, matchable) in cats
    {
        categories.push(Category {
            code,
            name_zh,
            name_en,
            parent,
            priority: Priority::parse(&priority).ok_or_else(|| enum_err("priority", &priority))?,
            police: police != 0,
            sign_minutes: sign as u32,
            close_hours: close as u32,
            keywords: json(&keywords)?,
            matchable: matchable != 0,
        });
    }

    let rules: Vec<(String, Option<String>, String)> = sqlx::query_as(
        "SELECT category_code, scope_code, unit_id FROM routing_rules ORDER BY position",
    )
    .fetch_all(&mut *conn)
    .await?;
    let rules = rules
        .into_iter()
        .map(|(category, scope, unit)| RoutingRule {
            category,
            scope,
            unit,
        })
        .collect();
    let steps: Vec<(i64, Option<String>, String, i64)> = sqlx::query_as(
        "SELECT chain, category_code, unit_id, after_minutes FROM escalation_steps \
         ORDER BY chain, step",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut escalation: Vec<EscalationChain> = Vec::new();
    let mut last_chain = None;
    for (chain, category, unit, after) in steps {
        if last_chain != Some(chain) {
            escalation.push(EscalationChain {
                category,
                steps: Vec::new(),
            });
            last_chain = Some(chain);
        }
        if let Some(c) = escalation.last_mut() {
            c.steps.push(EscalationStep {
                unit,
                after_minutes: after as u32,
            });
        }
    }
    // A chain without steps has no rows; provisioning records where such chains sit.
    let empty_chains: Vec<(i64, Option<String>)> =
        match super::setting_in(conn, keys::EMPTY_ESCALATION_CHAINS).await? {
            Some(s) => json(&s)?,
            None => Vec::new(),
        };
    for (pos, category) in empty_chains {
        let at = (pos as usize).min(escalation.len());
        escalation.insert(
            at,
            EscalationChain {
                category,
                steps: Vec::new(),
            },
        );
    }

    type PlatformRow = (
        String,
        String,
        String,
        String,
        Option<String>,
        Option<i64>,
        Option<String>,
    );
    let plats: Vec<PlatformRow> = sqlx::query_as(
        "SELECT id, kind, name, integration_kind, integration_target, cameras, secret_env \
         FROM platforms ORDER BY position",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut platforms = Vec::with_capacity(plats.len());
    for (id, kind, name, ikind, target, cameras, secret_env) in plats {
        platforms.push(Platform {
            id,
            kind: platform_kind(&kind)?,
            name,
            integration: integration(&ikind, target, secret_env)?,
            cameras: cameras.map(|n| n as u32),
        });
    }

    type DirRow = (
        String,
        String,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
    );
    let dir: Vec<DirRow> = sqlx::query_as(
        "SELECT system, name, category, phone, address, grid_code, description, \
         qualification, unit_id FROM directory_entries ORDER BY id",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut directory = Vec::with_capacity(dir.len());
    for (system, name, category, phone, address, grid, description, qualification, unit) in dir {
        directory.push(DirectoryEntry {
            system: DirectorySystem::parse(&system)
                .ok_or_else(|| enum_err("directory system", &system))?,
            name,
            category,
            phone,
            address,
            grid,
            description,
            qualification,
            unit,
        });
    }

    type HouseholdRow = (
        String,
        String,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<i64>,
        Option<String>,
        Option<String>,
    );
    let hh: Vec<HouseholdRow> = sqlx::query_as(
        "SELECT head_name, kind, grid_code, phone, id_number, members, address, notes \
         FROM households ORDER BY id",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut households = Vec::with_capacity(hh.len());
    for (head_name, kind, grid, phone, id_number, members, address, notes) in hh {
        households.push(Household {
            head_name,
            kind: HouseholdKind::parse(&kind).ok_or_else(|| enum_err("household kind", &kind))?,
            grid,
            phone,
            id_number,
            members: members.map(|n| n as u32),
            address,
            notes,
        });
    }

    Ok(Region {
        info: RegionInfo {
            code,
            name,
            parents: json(&parents)?,
            population: population.max(0) as u64,
            area_km2,
            archetype,
            division_edition,
        },
        service_center: ServiceCenter {
            number,
            hours,
            languages: json(&languages)?,
            staffing: json(&staffing)?,
            rules: match super::setting_in(&mut *conn, keys::CENTER_RULES).await? {
                Some(v) => json(&v)?,
                None => Default::default(),
            },
        },
        tiers,
        grid_units,
        units,
        categories,
        routing: Routing {
            rules,
            fallback_unit,
            escalation,
        },
        platforms,
        directory,
        households,
        appraisal: json(&appraisal)?,
        early_warning: json(&early_warning)?,
        cameras: super::cameras::load_cameras(&mut *conn).await?,
    })
}

/// Every handling unit with its contacts and scope, in profile order.
pub async fn load_units_in(conn: &mut AnyConnection) -> Result<Vec<HandlingUnit>, StoreError> {
    type UnitRow = (
        String,
        String,
        String,
        Option<String>,
        String,
        String,
        Option<String>,
        Option<String>,
        Option<String>,
    );
    let rows: Vec<UnitRow> = sqlx::query_as(
        "SELECT id, kind, name, hotline, functions, service_categories, qualification, \
         address, platform_id FROM units WHERE retired_at IS NULL ORDER BY position",
    )
    .fetch_all(&mut *conn)
    .await?;
    let contacts: Vec<(String, String, Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT unit_id, name, role, phone FROM unit_contacts ORDER BY unit_id, position",
    )
    .fetch_all(&mut *conn)
    .await?;
    let scope: Vec<(String, String)> =
        sqlx::query_as("SELECT unit_id, grid_code FROM unit_scope ORDER BY unit_id, position")
            .fetch_all(&mut *conn)
            .await?;
    let mut contacts_of: HashMap<String, Vec<Contact>> = HashMap::new();
    for (unit, name, role, phone) in contacts {
        contacts_of
            .entry(unit)
            .or_default()
            .push(Contact { name, role, phone });
    }
    let mut scope_of: HashMap<String, Vec<String>> = HashMap::new();
    for (unit, grid) in scope {
        scope_of.entry(unit).or_default().push(grid);
    }
    let mut units = Vec::with_capacity(rows.len());
    for (
        id,
        kind,
        name,
        hotline,
        functions,
        service_categories,
        qualification,
        address,
        platform,
    ) in rows
    {
        units.push(HandlingUnit {
            kind: UnitKind::parse(&kind).ok_or_else(|| enum_err("unit kind", &kind))?,
            name,
            hotline,
            contacts: contacts_of.remove(&id).unwrap_or_default(),
            functions: json(&functions)?,
            service_categories: json(&service_categories)?,
            qualification,
            scope: scope_of.remove(&id).unwrap_or_default(),
            address,
            platform,
            id,
        });
    }
    Ok(units)
}
