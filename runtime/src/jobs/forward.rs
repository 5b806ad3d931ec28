/*!
The status pull: every `status_pull_seconds`, ask each Open311 platform about the open cases it
has taken, and close here what it closed there ([`engine::forward::pull`]). On every `m110d`:
closing is conditional on the case still being open, so two servers pulling at once close a
case once.

[`engine::forward::pull`]: crate::engine::forward::pull
*/

use std::sync::Arc;

use super::{Counts, Job};
use crate::engine::forward;
use crate::engine::region::RegionIndex;
use crate::store::{Store, StoreError};

pub struct StatusPull {
    pub store: Store,
    pub region: Arc<RegionIndex>,
    pub client: reqwest::Client,
}

impl StatusPull {
    pub fn new(store: Store, region: Arc<RegionIndex>) -> StatusPull {
        StatusPull {
            store,
            region,
            client: crate::engine::delivery::http_client(),
        }
    }
}

impl Job for StatusPull {
    fn name(&self) -> &'static str {
        "status_pull"
    }

    async fn run(&self, now: i64) -> Result<Counts, StoreError> {
        let p = forward::pull(&self.store, &self.region, &self.client, now).await?;
        Ok(vec![
            ("asked", p.asked),
            ("closed", p.closed),
            ("failed_platforms", p.failed_platforms),
        ])
    }
}
