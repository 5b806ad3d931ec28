/*!
The triage-model job: every tick, put the newest model in `triage_models` in force when another
process (`m110 triage retrain`, another `m110d`) stored one — a cheap `SELECT id … LIMIT 1`
unless there is something new. Retraining itself is the explicit `m110 triage retrain`, run by the
maintainers' schedule (cron / systemd timer, see `docs/triage.md`), so that a model changes when
someone asked for it.
*/

use std::sync::Arc;

use super::{Counts, Job};
use crate::engine::region::RegionIndex;
use crate::engine::triage::training;
use crate::store::{Store, StoreError};

pub struct TriageModelReload {
    pub store: Store,
    pub region: Arc<RegionIndex>,
}

impl Job for TriageModelReload {
    fn name(&self) -> &'static str {
        "triage_model_reload"
    }

    async fn run(&self, _now: i64) -> Result<Counts, StoreError> {
        let before = self.region.triage.model().id;
        match training::load_latest(&self.store, &self.region).await {
            Ok(now) => Ok(vec![("models_loaded", u64::from(now != before))]),
            Err(e) => {
                tracing::warn!(error = %e, "triage model not reloaded");
                Ok(vec![("models_loaded", 0)])
            }
        }
    }
}
