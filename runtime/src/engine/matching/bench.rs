/*!
The matching benchmark: 1,000 providers × 100 open offers assigned in one batch, as the issue
asks, against greedy. Ignored; meant for `--release`:

```text
cargo test -p m110-runtime --release --lib matching::bench -- --ignored --nocapture
```

The county: providers and cases uniform over a 50 × 40 km box around 27.3° N 117.5° E, 8
categories, each provider serving 1–3 of them with a 1-in-3 chance of a scope limited to one of
20 townships, 5 % suspended, 5 % expired, ratings, loads and last offers spread; each case in one
category and township. `M110_BENCH_SEED` sets the seed. Figures in docs/matching.md.
*/

use std::time::Instant;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::batch::{assign, greedy, offered, total_cost};
use super::{Admission, Haversine, Need, Provider, Rules, rank};
use crate::model::{LatLon, UnitKind};

const NOW: i64 = 1_800_000_000_000;
const DAY: i64 = 86_400_000;

fn county(seed: u64, providers: usize, needs: usize) -> (Vec<Provider>, Vec<Need>) {
    let mut rng = StdRng::seed_from_u64(seed);
    let cats: Vec<String> = (0..8).map(|i| format!("cat{i}")).collect();
    let place = |rng: &mut StdRng| LatLon {
        lat: 27.1 + rng.gen_range(0.0..0.36),
        lon: 117.25 + rng.gen_range(0.0..0.5),
    };
    // Townships are 5 × 4 blocks of the box.
    let town = |p: LatLon| {
        let c = (((p.lon - 117.25) / 0.1) as usize).min(4);
        let r = (((p.lat - 27.1) / 0.09) as usize).min(3);
        format!("town-{}", r * 5 + c)
    };
    let ps = (0..providers)
        .map(|i| {
            let loc = place(&mut rng);
            let n = rng.gen_range(1..=3);
            let categories = (0..n).map(|_| cats[rng.gen_range(0..8)].clone()).collect();
            let expired = rng.gen_bool(0.05);
            Provider {
                unit: format!("p{i:04}"),
                kind: UnitKind::MarketProvider,
                categories,
                scope: if rng.gen_bool(1.0 / 3.0) {
                    vec![town(loc)]
                } else {
                    Vec::new()
                },
                location: Some(loc),
                admission: Some(Admission {
                    valid_from_ms: NOW - 100 * DAY,
                    valid_until_ms: Some(if expired { NOW - DAY } else { NOW + 300 * DAY }),
                }),
                suspended: rng.gen_bool(0.05),
                rating: Some(rng.gen_range(3.0..5.0)),
                ratings: rng.gen_range(0..40),
                load: rng.gen_range(0..4),
                last_offer_ms: Some(NOW - rng.gen_range(0..10 * DAY)),
            }
        })
        .collect();
    let ns = (0..needs)
        .map(|i| {
            let loc = place(&mut rng);
            Need {
                case_id: format!("c{i}"),
                categories: vec![cats[rng.gen_range(0..8)].clone()],
                grid: vec![format!("cell-{i}"), town(loc)],
                location: Some(loc),
                exclude: Vec::new(),
            }
        })
        .collect();
    (ps, ns)
}

#[test]
#[ignore = "benchmark: run with --release --ignored --nocapture"]
fn matching_benchmark() {
    let seed = std::env::var("M110_BENCH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(110);
    let (ps, ns) = county(seed, 1000, 100);
    println!("matching benchmark: 1000 providers × 100 open offers, seed {seed}");
    println!(
        "| k | rank one case | greedy | batch (Hungarian) | offers greedy / batch | cost greedy / batch |"
    );
    println!("|---|---|---|---|---|---|");
    for k in [1, 3] {
        let r = Rules {
            k,
            ..Rules::default()
        };
        let runs = 5;
        let t = Instant::now();
        for _ in 0..runs {
            std::hint::black_box(rank(&ns[0], &ps, &r, NOW, &Haversine));
        }
        let one = t.elapsed() / runs;
        let t = Instant::now();
        let mut g = Vec::new();
        for _ in 0..runs {
            g = greedy(&ns, &ps, &r, NOW, &Haversine);
        }
        let tg = t.elapsed() / runs;
        let t = Instant::now();
        let mut h = Vec::new();
        for _ in 0..runs {
            h = assign(&ns, &ps, &r, NOW, &Haversine);
        }
        let th = t.elapsed() / runs;
        println!(
            "| {k} | {one:.2?} | {tg:.2?} | {th:.2?} | {} / {} | {:.1} / {:.1} km-eq |",
            offered(&g),
            offered(&h),
            total_cost(&g),
            total_cost(&h),
        );
        assert!(offered(&h) >= offered(&g));
        if offered(&h) == offered(&g) {
            assert!(total_cost(&h) <= total_cost(&g) + 1e-6);
        }
    }
}
