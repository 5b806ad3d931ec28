/*!
The routing job: every tick, put the routing rules in the database in force when another
`m110d` sharing it changed them (an admin's live edit bumps the `routing_version` setting) — a
one-row read unless there is something new. The instance that made the edit reloads at once
([`reload`]); this job brings the others along within a tick.
*/

use std::sync::{Arc, Mutex};

use super::{Counts, Job};
use crate::engine::region::RegionIndex;
use crate::model::RoutingRule;
use crate::store::{Store, StoreError};

/// Reads the rules from the store and puts them in force in `region`.
pub async fn reload(store: &Store, region: &RegionIndex) -> Result<(), StoreError> {
    let (rows, fallback) = store.routing_rules().await?;
    let rules: Vec<RoutingRule> = rows
        .into_iter()
        .map(|r| RoutingRule {
            category: r.category,
            scope: r.scope,
            unit: r.unit,
        })
        .collect();
    region.set_rules(&rules, fallback);
    Ok(())
}

pub struct RoutingReload {
    pub store: Store,
    pub region: Arc<RegionIndex>,
    /// The version last put in force (`None` at start: the first tick only records it, the
    /// table built at start-up being the database's already).
    pub seen: Mutex<Option<Option<String>>>,
}

impl Job for RoutingReload {
    fn name(&self) -> &'static str {
        "routing_reload"
    }

    async fn run(&self, _now: i64) -> Result<Counts, StoreError> {
        let version = self.store.routing_version().await?;
        let changed = {
            let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
            let changed = seen.as_ref().is_some_and(|s| *s != version);
            *seen = Some(version);
            changed
        };
        if changed {
            reload(&self.store, &self.region).await?;
        }
        Ok(vec![("tables_loaded", u64::from(changed))])
    }
}
