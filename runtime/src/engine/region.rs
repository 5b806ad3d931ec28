/*!
[`RegionIndex`]: the region data the engines need, built once at start-up from the store (region
data is static after provisioning, but for the routing table, which a live edit swaps) —
classifier and locator, routing table, categories, units, grid units, escalation chains — with
lookups by code.
*/

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use serde::Serialize;

use super::routing::RoutingTable;
use super::triage::Triage;
use crate::model::{
    Appraisal, Category, CenterRules, EarlyWarning, EmergencyLine, EscalationChain, GridUnit,
    Integration, Platform, PlatformKind, Region, RoutingRule, UnitKind,
};
use crate::store::{Store, StoreError};

/// A handling unit as the services need it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UnitInfo {
    pub id: String,
    pub name: String,
    pub kind: UnitKind,
    /// The platform the unit is reached through (cases dispatched to it are forwarded).
    pub platform: Option<String>,
}

/// Region data built once per process.
#[derive(Debug)]
pub struct RegionIndex {
    pub code: String,
    pub name: String,
    pub triage: Triage,
    /// The knowledge base's search index, built on first use and when the table changes.
    pub knowledge: super::knowledge::KnowledgeBase,
    /// The region's cameras (`engine::cameras` ranks them near a place).
    pub cameras: Vec<crate::model::Camera>,
    /// Swapped whole when an admin edits a routing rule (a live edit), so intake routes by the
    /// new rules at once; readers hold the table they took for the request.
    routing: RwLock<Arc<RoutingTable>>,
    pub categories: Vec<Category>,
    pub units: Vec<UnitInfo>,
    pub grid_units: Vec<GridUnit>,
    pub escalation: Vec<EscalationChain>,
    /// The existing platforms the region links to (emergency lines, 12345, grid app …).
    pub platforms: Vec<Platform>,
    /// The floor's rules (reopen window, separation of duties).
    pub center: CenterRules,
    /// Scorecard weights (the profile's `appraisal`).
    pub appraisal: Appraisal,
    /// Early-warning settings (the profile's `early_warning`).
    pub early_warning: EarlyWarning,
    by_category: HashMap<String, usize>,
    by_unit: HashMap<String, usize>,
    by_grid: HashMap<String, usize>,
}

/// The region data an index is built from.
#[derive(Debug, Clone, Default)]
pub struct RegionData {
    pub code: String,
    pub name: String,
    pub categories: Vec<Category>,
    pub grid_units: Vec<GridUnit>,
    pub units: Vec<UnitInfo>,
    pub rules: Vec<RoutingRule>,
    /// Unit id no rule covers (normally the center).
    pub fallback: String,
    pub escalation: Vec<EscalationChain>,
    pub platforms: Vec<Platform>,
    pub center: CenterRules,
    pub appraisal: Appraisal,
    pub early_warning: EarlyWarning,
}

impl RegionIndex {
    /// Builds the index (used by [`RegionIndex::load`] and tests).
    pub fn new(data: RegionData) -> RegionIndex {
        let RegionData {
            code,
            name,
            categories,
            grid_units,
            units,
            rules,
            fallback,
            escalation,
            platforms,
            center,
            appraisal,
            early_warning,
        } = data;
        let triage = Triage::new(&categories, &grid_units);
        let routing = RoutingTable::from_parts(
            rules.iter(),
            grid_units
                .iter()
                .map(|u| (u.code.clone(), u.parent.clone())),
            categories
                .iter()
                .map(|c| (c.code.clone(), c.parent.clone())),
            fallback,
        );
        RegionIndex {
            by_category: categories
                .iter()
                .enumerate()
                .map(|(i, c)| (c.code.clone(), i))
                .collect(),
            by_unit: units
                .iter()
                .enumerate()
                .map(|(i, u)| (u.id.clone(), i))
                .collect(),
            by_grid: grid_units
                .iter()
                .enumerate()
                .map(|(i, g)| (g.code.clone(), i))
                .collect(),
            code,
            name,
            triage,
            knowledge: Default::default(),
            cameras: Vec::new(),
            routing: RwLock::new(Arc::new(routing)),
            categories,
            units,
            grid_units,
            escalation,
            platforms,
            center,
            appraisal,
            early_warning,
        }
    }

    /// Reads the provisioned region from the store and builds the index.
    pub async fn load(store: &Store) -> Result<RegionIndex, StoreError> {
        let region = store.load_region().await?;
        Ok(RegionIndex::from_region(&region))
    }

    /// Builds the index from a region model.
    pub fn from_region(region: &Region) -> RegionIndex {
        let mut index = RegionIndex::new(RegionData {
            code: region.info.code.clone(),
            name: region.info.name.clone(),
            categories: region.categories.clone(),
            grid_units: region.grid_units.clone(),
            units: region
                .units
                .iter()
                .map(|u| UnitInfo {
                    id: u.id.clone(),
                    name: u.name.clone(),
                    kind: u.kind,
                    platform: u.platform.clone(),
                })
                .collect(),
            rules: region.routing.rules.clone(),
            fallback: region.routing.fallback_unit.clone(),
            escalation: region.routing.escalation.clone(),
            center: region.service_center.rules,
            appraisal: region.appraisal.clone(),
            early_warning: region.early_warning.clone(),
            platforms: region.platforms.clone(),
        });
        index.cameras = region.cameras.clone();
        index
    }

    pub fn category(&self, code: &str) -> Option<&Category> {
        self.by_category.get(code).map(|i| &self.categories[*i])
    }

    pub fn unit(&self, id: &str) -> Option<&UnitInfo> {
        self.by_unit.get(id).map(|i| &self.units[*i])
    }

    pub fn grid(&self, code: &str) -> Option<&GridUnit> {
        self.by_grid.get(code).map(|i| &self.grid_units[*i])
    }

    /// The routing table in force.
    pub fn routing(&self) -> Arc<RoutingTable> {
        // A poisoned lock still holds a whole table (the writer only swaps an Arc).
        Arc::clone(&self.routing.read().unwrap_or_else(|e| e.into_inner()))
    }

    /// Puts routing `rules` (and the `fallback` unit) in force, over this region's grid and
    /// category trees.
    pub fn set_rules(&self, rules: &[RoutingRule], fallback: String) {
        let table = RoutingTable::from_parts(
            rules.iter(),
            self.grid_units
                .iter()
                .map(|u| (u.code.clone(), u.parent.clone())),
            self.categories
                .iter()
                .map(|c| (c.code.clone(), c.parent.clone())),
            fallback,
        );
        *self.routing.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(table);
    }

    /// A grid unit named with its tiers, top first: `城郊镇 / 和平村 / 第1网格` (the code when
    /// unknown). What a picker shows, so 243 cells read as places, not a flat list.
    pub fn grid_path(&self, code: &str) -> String {
        let mut names = Vec::new();
        let mut at = self.grid(code);
        while let Some(g) = at {
            names.push(g.name.as_str());
            // A malformed tree never loops forever: no path is deeper than the tiers.
            if names.len() > 8 {
                break;
            }
            at = g.parent.as_deref().and_then(|p| self.grid(p));
        }
        if names.is_empty() {
            return code.to_string();
        }
        names.reverse();
        names.join(" / ")
    }

    /// The codes of a grid unit and its ancestors, top tier first (empty for an unknown code).
    pub fn lineage(&self, code: &str) -> Vec<String> {
        let mut v = Vec::new();
        let mut at = self.grid(code);
        while let Some(g) = at {
            v.push(g.code.clone());
            // A malformed tree never loops forever: no path is deeper than the tiers.
            if v.len() > 8 {
                break;
            }
            at = g.parent.as_deref().and_then(|p| self.grid(p));
        }
        v.reverse();
        v
    }

    /// The police-dispatch unit, if the region lists one.
    pub fn police_unit(&self) -> Option<&UnitInfo> {
        self.units.iter().find(|u| u.kind == UnitKind::Police)
    }

    /// The platform that receives hand-offs for an emergency line, if the region links one.
    pub fn emergency_platform(&self, line: EmergencyLine) -> Option<&Platform> {
        self.platforms
            .iter()
            .find(|p| p.kind == line.platform_kind())
    }

    /// True when a hand-off to `line` can only be made by phone (电话转接): no platform, or one
    /// without an integration the delivery worker can send through.
    pub fn handoff_by_phone(&self, line: EmergencyLine) -> bool {
        self.emergency_platform(line).is_none_or(|p| {
            matches!(
                p.integration,
                Integration::None | Integration::CsvImport { .. }
            )
        })
    }

    /// Where a hand-off to `line` goes: the platform and the outbox state — `pending` when the
    /// delivery worker can send it (a webhook), `manual` when a person hands it over by phone.
    pub fn transfer_route(&self, line: EmergencyLine) -> (Option<&str>, &'static str) {
        match self.emergency_platform(line) {
            Some(p) if matches!(p.integration, Integration::Webhook { .. }) => {
                (Some(p.id.as_str()), "pending")
            }
            Some(p) => (Some(p.id.as_str()), "manual"),
            None => (None, "manual"),
        }
    }

    /// Where a case dispatched to `unit` is forwarded, when the unit is reached through another
    /// platform (`units[].platform`): the platform and the outbox state — `pending` for an
    /// open311 or webhook integration, `manual` otherwise (the profile check refuses that).
    pub fn forward_route(&self, unit: &str) -> Option<(&str, &'static str)> {
        let id = self.unit(unit)?.platform.as_deref()?;
        let p = self.platforms.iter().find(|p| p.id == id)?;
        Some(match p.integration {
            Integration::Webhook { .. } | Integration::Open311 { .. } => (p.id.as_str(), "pending"),
            _ => (p.id.as_str(), "manual"),
        })
    }

    /// The SMS gateway platform, if the region has one with a webhook integration.
    pub fn sms_gateway(&self) -> Option<&Platform> {
        self.platforms.iter().find(|p| {
            p.kind == PlatformKind::SmsGateway
                && matches!(p.integration, Integration::Webhook { .. })
        })
    }

    /// `codes` and every grid unit below them (a grid worker's reach).
    pub fn grid_reach(&self, codes: &[String]) -> Vec<String> {
        self.grid_units
            .iter()
            .filter(|g| codes.iter().any(|c| self.triage.grid_within(&g.code, c)))
            .map(|g| g.code.clone())
            .collect()
    }

    /// The escalation chain for a category: its own, a parent's, or the default chain.
    pub fn escalation_for(&self, category: Option<&str>) -> Option<&EscalationChain> {
        let mut cat = category.map(str::to_string);
        let mut guard = 0;
        while let Some(c) = cat {
            if let Some(ch) = self
                .escalation
                .iter()
                .find(|e| e.category.as_deref() == Some(c.as_str()))
            {
                return Some(ch);
            }
            cat = self.category(&c).and_then(|x| x.parent.clone());
            guard += 1;
            if guard > 16 {
                break;
            }
        }
        self.escalation.iter().find(|e| e.category.is_none())
    }

    /// The longest escalation chain (the job's upper bound of steps).
    pub fn max_escalation_steps(&self) -> i64 {
        self.escalation
            .iter()
            .map(|c| c.steps.len())
            .max()
            .unwrap_or(0) as i64
    }
}
