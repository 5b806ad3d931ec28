/*!
The margins job: builds the per-day margins of the rollups ([`crate::store::margins`]) for days
that are over — each night's new day, a day whose rollups changed (a reclassified old case, an
imported history), and, once, the whole history of an install that predates them.

A pass builds at most [`DAYS_PER_PASS`] days, one write transaction each, so a large backlog
(three years of a city's history after an upgrade) is worked off over a few minutes in short
steps: no long hold of the SQLite writer, no long wait at shutdown. On several `m110d` sharing
one PostgreSQL database two servers may build the same day at once; the build's advisory lock
makes them take turns and the second writes the same sums again.
*/

use tokio::sync::Mutex;

use super::{Counts, Job};
use crate::store::margins::DayCache;
use crate::store::{Store, StoreError};

/// Days built per pass at most.
pub const DAYS_PER_PASS: u64 = 20;

pub struct Margins {
    pub store: Store,
    /// The days with rollups, so a pass does not probe three years of them again.
    pub days: Mutex<DayCache>,
}

impl Margins {
    pub fn new(store: Store) -> Margins {
        Margins {
            store,
            days: Mutex::new(DayCache::default()),
        }
    }
}

impl Job for Margins {
    fn name(&self) -> &'static str {
        "margins"
    }

    async fn run(&self, now: i64) -> Result<Counts, StoreError> {
        let mut days = self.days.lock().await;
        let built = self
            .store
            .build_margins_with(now, DAYS_PER_PASS, &mut days)
            .await?;
        Ok(vec![("days_built", built)])
    }
}
