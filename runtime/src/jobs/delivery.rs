/*!
The delivery job: every tick, send the outbox messages that are due ([`engine::delivery`]). On
every `m110d`; leases keep two servers from sending one message at the same time.

[`engine::delivery`]: crate::engine::delivery
*/

use std::sync::Arc;

use super::{Counts, Job};
use crate::engine::delivery::Deliverer;
use crate::engine::region::RegionIndex;
use crate::store::{Store, StoreError};

pub struct Delivery {
    pub store: Store,
    pub region: Arc<RegionIndex>,
    pub deliverer: Deliverer,
}

impl Job for Delivery {
    fn name(&self) -> &'static str {
        "delivery"
    }

    async fn run(&self, now: i64) -> Result<Counts, StoreError> {
        let t = self.deliverer.tick(&self.store, &self.region, now).await?;
        Ok(vec![
            ("delivered", t.delivered),
            ("failed", t.failed),
            ("dead", t.dead),
            ("skipped", t.skipped),
            ("acknowledged", t.acknowledged),
        ])
    }
}
