/*!
The early-warning job: every tick (`warning_seconds`, default 15 minutes) it runs the detectors
over the day so far and over the day that closed last (`engine::warning::run::tick`), raising
new alerts and refreshing the figures of those still new. Alerts are keyed, so several `m110d`
on one database raise each alert once.
*/

use std::sync::Arc;

use super::{Counts, Job};
use crate::engine::region::RegionIndex;
use crate::store::{Store, StoreError};

pub struct Warning {
    pub store: Store,
    pub region: Arc<RegionIndex>,
}

impl Job for Warning {
    fn name(&self) -> &'static str {
        "early_warning"
    }

    async fn run(&self, now: i64) -> Result<Counts, StoreError> {
        let (checked, raised) =
            crate::engine::warning::run::tick(&self.store, &self.region, now).await?;
        Ok(vec![
            ("alerts_checked", checked as u64),
            ("alerts_raised", raised as u64),
        ])
    }
}
