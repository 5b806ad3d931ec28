/*!
A generated history for the analytics tests: [`HISTORY`] cases of October and November 2026 over
an install's villages (every seventh in one hot village), most closed with a follow-up outcome,
as the CSV `m110 import cases` reads. Deterministic: the same install gets the same file.
*/

use std::fmt::Write as _;

use crate::Install;

/// Rows of the generated history.
pub const HISTORY: usize = 2400;

/// A small deterministic generator (the test must not depend on a random seed source).
pub struct Lcg(pub u64);

impl Lcg {
    pub fn next(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}

/// The codes of the install's finest grid units (its villages or cells), in profile order.
pub async fn villages(install: &Install) -> Vec<String> {
    let store = install.store().await;
    let region = store.load_region().await.unwrap();
    store.close().await;
    let max_tier = region.grid_units.iter().map(|g| g.tier).max().unwrap();
    region
        .grid_units
        .iter()
        .filter(|g| g.tier == max_tier)
        .map(|g| g.code.clone())
        .collect()
}

/// The history CSV: received in Oct–Nov 2026 over the region's villages (every seventh in one
/// hot village), most of them closed with an outcome. Returns the CSV and the number received
/// in November and the hot village.
pub async fn history(install: &Install) -> (String, usize, String) {
    let store = install.store().await;
    let region = store.load_region().await.unwrap();
    let cats: Vec<String> = region
        .categories
        .iter()
        .filter(|c| !c.police)
        .map(|c| c.code.clone())
        .collect();
    store.close().await;
    let villages = villages(install).await;
    let mut rng = Lcg(110);
    let mut csv = String::from(
        "received_at,channel,category,grid_code,content,external_id,status,closed_at,satisfaction\n",
    );
    let mut november = 0;
    for i in 0..HISTORY {
        let day = rng.next(61);
        let (month, dom) = if day < 31 {
            (10, day + 1)
        } else {
            (11, day - 30)
        };
        if month == 11 {
            november += 1;
        }
        let hour = [8, 9, 9, 10, 10, 11, 14, 15, 16, 20][rng.next(10) as usize];
        let at = format!(
            "2026-{month:02}-{dom:02}T{hour:02}:{:02}:00+08:00",
            rng.next(60)
        );
        let grid = if i % 7 == 0 {
            &villages[0]
        } else {
            &villages[rng.next(villages.len() as u64) as usize]
        };
        let closed = rng.next(10) < 8;
        let (closed_at, sat) = if closed {
            // Closed a few hours later the same day (never before it was received).
            let h = hour + 1 + rng.next(3);
            let sat = ["satisfied", "mostly_satisfied", "unsatisfied", ""][rng.next(4) as usize];
            (format!("2026-{month:02}-{dom:02}T{h:02}:30:00+08:00"), sat)
        } else {
            (String::new(), "")
        };
        let channel = ["phone", "phone", "web", "sms"][rng.next(4) as usize];
        let cat = &cats[rng.next(cats.len() as u64) as usize];
        let _ = writeln!(
            csv,
            "{at},{channel},{cat},{grid},路灯不亮已经三天 {i},HIST-{i},{},{closed_at},{sat}",
            if closed { "closed" } else { "open" }
        );
    }
    (csv, november, villages[0].clone())
}
