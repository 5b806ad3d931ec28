/*!
The offer job (docs/matching.md): every second, new cases of matchable categories waiting in the
center's queue are put out to offer (all at once, one batch), and open offers past their answer
time expire, each case left without an open offer going to its next round of candidates
([`engine::offers::expire_due`]). On every `m110d`: an expiry is a conditional update
(`state = 'offered'`), so two servers never expire one offer twice; two servers putting out one
case at the same tick rank the same providers first, so the second's offers collide on the
unique (case, unit) and its transaction rolls back (the next tick finds the case offered).

[`engine::offers::expire_due`]: crate::engine::offers::expire_due
*/

use std::sync::Arc;

use super::{Counts, Job};
use crate::engine::offers::{expire_due, put_out_new};
use crate::engine::region::RegionIndex;
use crate::store::{Store, StoreError};

pub struct OfferTimeouts {
    pub store: Store,
    pub region: Arc<RegionIndex>,
}

impl Job for OfferTimeouts {
    fn name(&self) -> &'static str {
        "offer_timeouts"
    }

    async fn run(&self, _now: i64) -> Result<Counts, StoreError> {
        let new = match put_out_new(&self.store, &self.region).await {
            Ok(n) => n as u64,
            Err(e) => {
                tracing::warn!(error = %e, "offer job: putting out new cases failed");
                0
            }
        };
        match expire_due(&self.store, &self.region).await {
            Ok(n) => Ok(vec![("put_out", new), ("expired", n as u64)]),
            // A failed next round is retried at the next tick (the offer stays expired, the
            // case without an open offer, which the next pass does not see): log it loudly.
            Err(e) => {
                tracing::warn!(error = %e, "offer timeouts: next round failed");
                Ok(vec![("failed", 1)])
            }
        }
    }
}
