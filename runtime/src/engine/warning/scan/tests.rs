//! The scan's tests: hand-worked cases, brute force, the Gumbel fit, timing.
use super::super::poisson;
use super::*;

fn at(x: f64, y: f64) -> Location {
    Location {
        xy: Some((x, y)),
        parent: None,
    }
}

/// A `side × side` grid of locations 1 km apart, `days` days of Poisson(`lambda`) counts.
fn background(side: usize, days: usize, lambda: f64, seed: u64) -> (Vec<Location>, Vec<Vec<u32>>) {
    let mut rng = StdRng::seed_from_u64(seed);
    let locs = (0..side * side)
        .map(|i| at((i % side) as f64, (i / side) as f64))
        .collect();
    let counts = (0..side * side)
        .map(|_| (0..days).map(|_| poisson(&mut rng, lambda)).collect())
        .collect();
    (locs, counts)
}

#[test]
fn hand_computed_three_locations_three_days() {
    // Three locations in a row (x = 0, 1, 2), three days:
    //   loc 0: 2 1 1   C_0 = 4
    //   loc 1: 1 1 6   C_1 = 8
    //   loc 2: 1 2 1   C_2 = 4
    //   C_d:   4 4 8   C = 16
    // μ_zd = C_z·C_d/C: loc 0: 4·4/16 = 1, 1, 4·8/16 = 2; loc 1: 2, 2, 4; loc 2: 1, 1, 2.
    let locs = vec![at(0.0, 0.0), at(1.0, 0.0), at(2.0, 0.0)];
    let counts = vec![vec![2, 1, 1], vec![1, 1, 6], vec![1, 2, 1]];
    let mu = expected_counts(&counts);
    let hand = [[1.0, 1.0, 2.0], [2.0, 2.0, 4.0], [1.0, 1.0, 2.0]];
    for z in 0..3 {
        for d in 0..3 {
            assert!(
                (mu[z][d] - hand[z][d]).abs() < 1e-9,
                "μ[{z}][{d}] = {}",
                mu[z][d]
            );
        }
    }
    // Cylinder {loc 1} × {day 2}: c = 6, μ = 4:
    // LLR = 6 ln(6/4) + (16−6) ln((16−6)/(16−4)) = 6·0.405465108 − 10·0.182321557
    //     = 2.432790649 − 1.823215568 = 0.609575081.
    let hand_llr = 0.609_575_080_709;
    assert!((llr(6.0, 4.0, 16.0) - hand_llr).abs() < 1e-9);
    // {loc 1} × {days 1, 2}: c = 7, μ = 2 + 4 = 6:
    // LLR = 7 ln(7/6) + 9 ln(9/10) = 1.079054759 − 0.948244641 = 0.130810118.
    assert!((llr(7.0, 6.0, 16.0) - 0.130_810_117_870).abs() < 1e-9);
    // Zones with max share 50%: {0} (4/16), {1} (8/16), {2}; adding a neighbor exceeds 50%.
    // {0} and {2} never exceed their μ on a window ending today (1 < 2, 2 < 3; 1 < 2, 3 = 3),
    // so the most likely cluster is {loc 1} × day 2.
    let p = ScanParams {
        max_days: 3,
        replicas: 99,
        ..ScanParams::default()
    };
    let found = scan(&locs, &counts, &p).unwrap();
    let top = &found[0];
    assert_eq!((top.locations.clone(), top.center), (vec![1], 1));
    assert_eq!((top.start_day, top.end_day, top.observed), (2, 2, 6));
    assert!((top.expected - 4.0).abs() < 1e-9);
    assert!((top.llr - hand_llr).abs() < 1e-9);
    // 16 cases cannot make a significant cluster: permutations often do as well.
    assert!(top.p_value > 0.1, "{top:?}");
    assert!((top.recurrence_days - 1.0 / top.p_value).abs() < 1e-9);
    // With no share limit, {1, 0} (center 1, nearest by index on a tie) × day 2 has c = 7,
    // μ = (8 + 4)·8/16 = 6: the same 0.130810118 as above.
    let study_p = ScanParams {
        max_share: 1.0,
        max_days: 3,
        ..ScanParams::default()
    };
    let study = Study::new(&locs, &counts, &study_p).unwrap().unwrap();
    let suffix = study.observed_suffix(&counts);
    let zones = study.observed_zones(&suffix);
    let pair = zones
        .iter()
        .find(|z| study.chains[z.1].center == 1 && z.2 == 2)
        .unwrap();
    assert_eq!(&study.chains[pair.1].members[..2], &[1, 0]);
    assert_eq!((pair.3, pair.4), (1, 7));
    assert!((pair.0 - 0.130_810_117_870).abs() < 1e-9);
}

#[test]
fn a_strong_injected_cluster_is_found() {
    let (locs, mut counts) = background(10, 30, 1.0, 5);
    // Six extra cases a day at three adjacent units over the last three days.
    let hot = [44, 45, 54];
    for &z in &hot {
        for cell in &mut counts[z][27..30] {
            *cell += 6;
        }
    }
    let found = scan(&locs, &counts, &ScanParams::default()).unwrap();
    let top = &found[0];
    assert!(top.p_value < 0.01, "{top:?}");
    assert!(hot.iter().all(|z| top.locations.contains(z)), "{top:?}");
    assert!(top.locations.len() <= 6, "{top:?}");
    assert_eq!((top.start_day, top.end_day), (27, 29), "{top:?}");
    assert!(top.observed as f64 > 2.0 * top.expected, "{top:?}");
    assert!(top.recurrence_days > 100.0);
    // Secondaries do not overlap it, and are weaker.
    for c in &found[1..] {
        assert!(c.locations.iter().all(|z| !top.locations.contains(z)));
        assert!(c.llr <= top.llr && c.p_value >= top.p_value);
    }
    // Deterministic for a seed.
    assert_eq!(scan(&locs, &counts, &ScanParams::default()).unwrap(), found);
}

#[test]
fn with_no_cluster_the_p_value_is_not_small() {
    let (locs, counts) = background(8, 30, 1.0, 11);
    let p = ScanParams {
        replicas: 199,
        ..ScanParams::default()
    };
    let found = scan(&locs, &counts, &p).unwrap();
    assert!(found[0].p_value > 0.05, "{:?}", found[0]);
}

#[test]
fn permutations_keep_row_and_column_totals() {
    let (_, counts) = background(5, 10, 2.0, 3);
    let mut rng = StdRng::seed_from_u64(1);
    let permuted = permute(&counts, &mut rng);
    assert_ne!(permuted, counts);
    let rows = |m: &[Vec<u32>]| m.iter().map(|r| r.iter().sum::<u32>()).collect::<Vec<_>>();
    let cols = |m: &[Vec<u32>]| {
        (0..10)
            .map(|d| m.iter().map(|r| r[d]).sum::<u32>())
            .collect::<Vec<_>>()
    };
    assert_eq!(rows(&permuted), rows(&counts));
    assert_eq!(cols(&permuted), cols(&counts));
    // The scan's partial redating: each recent day keeps its total, no location exceeds its
    // own, and on average a cell gets μ_zd.
    let p = ScanParams::default();
    let study = Study::new(&vec![at(0.0, 0.0); 25], &counts, &p)
        .unwrap()
        .unwrap();
    let mut cases: Vec<u32> = (0..25u32)
        .flat_map(|z| std::iter::repeat_n(z, study.loc_totals[z as usize] as usize))
        .collect();
    let mut recent = vec![0u64; 25 * study.w_max];
    let mut mean = vec![0.0; 25 * study.w_max];
    let reps = 4_000;
    for _ in 0..reps {
        redate(
            &mut cases,
            &study.recent_dates,
            study.w_max,
            &mut rng,
            &mut recent,
        );
        for o in 0..study.w_max {
            let day: u64 = (0..25).map(|z| recent[z * study.w_max + o]).sum();
            assert_eq!(day, u64::from(cols(&counts)[9 - o]));
        }
        for z in 0..25 {
            let sum: u64 = recent[z * study.w_max..(z + 1) * study.w_max].iter().sum();
            assert!(sum <= study.loc_totals[z]);
        }
        for (m, &r) in mean.iter_mut().zip(&recent) {
            *m += r as f64 / f64::from(reps);
        }
    }
    let mu = expected_counts(&counts);
    for z in 0..25 {
        for o in 0..study.w_max {
            let (got, want) = (mean[z * study.w_max + o], mu[z][9 - o]);
            assert!(
                (got - want).abs() < 0.1 + 0.05 * want,
                "z {z} o {o}: {got} vs {want}"
            );
        }
    }
}

#[test]
fn pruned_replica_maxima_equal_the_brute_force_ones() {
    // Brute force: every zone and duration scored (observed_zones), no thresholds, no
    // skipping of inactive members. Sparse data (most locations without recent cases) and
    // dense data both, circles and families (no coordinates) both.
    for (lambda, seed, located) in [(1.5, 21, true), (0.1, 22, true), (0.2, 23, false)] {
        let (mut locs, counts) = background(6, 20, lambda, seed);
        if !located {
            for (i, l) in locs.iter_mut().enumerate() {
                *l = Location {
                    xy: None,
                    parent: Some(i as i64 / 6),
                };
            }
        }
        let p = ScanParams {
            max_share: 0.6,
            ..ScanParams::default()
        };
        let study = Study::new(&locs, &counts, &p).unwrap().unwrap();
        let none = Cut::new(vec![MIN_CASES; study.cylinders], study.w_max);
        let mut rng = StdRng::seed_from_u64(2);
        let mut scratch = study.scratch();
        for level in [0.5, 2.0, 4.0, 6.0] {
            let thr = Cut::new(study.thresholds(level), study.w_max);
            assert_eq!(thr.cylinder.len(), study.cylinders);
            for _ in 0..50 {
                let m = permute(&counts, &mut rng);
                let suffix = study.observed_suffix(&m);
                let brute = study
                    .observed_zones(&suffix)
                    .iter()
                    .map(|z| z.0)
                    .fold(0.0, f64::max);
                let exact = study.replica_max(&suffix, &none, &mut scratch);
                let pruned = study.replica_max(&suffix, &thr, &mut scratch);
                assert_eq!(exact, brute, "{lambda} {located}");
                if brute >= level {
                    assert_eq!(pruned, brute);
                } else {
                    assert!(pruned < level);
                }
            }
        }
    }
}

#[test]
fn thresholds_are_the_smallest_counts_that_reach_the_level() {
    let (locs, counts) = background(5, 20, 0.8, 9);
    let p = ScanParams::default();
    let study = Study::new(&locs, &counts, &p).unwrap().unwrap();
    let total = study.total as f64;
    for level in [0.3, 3.0, 9.0] {
        let thr = study.thresholds(level);
        let mut idx = 0;
        for chain in &study.chains {
            let mut spatial = 0;
            for (m, &z) in chain.members.iter().enumerate() {
                spatial += study.loc_totals[z as usize];
                if m + 1 < chain.first {
                    continue;
                }
                for w in 1..=study.w_max {
                    let mu = study.mu(spatial, w);
                    let hi = spatial.min(study.recent_totals[w - 1]);
                    let by_hand = (MIN_CASES..=hi).find(|&c| llr(c as f64, mu, total) >= level);
                    match by_hand {
                        None => assert_eq!(thr[idx], u64::MAX),
                        // One below is allowed (a conservative threshold), never above.
                        Some(c) => assert!(thr[idx] == c || thr[idx] + 1 == c),
                    }
                    idx += 1;
                }
            }
        }
    }
}

#[test]
fn gumbel_by_hand() {
    // Maxima 1, 2, 3: mean 2, s = 1 → β = √6/π = 0.779697, μ = 2 − γβ = 1.5499468.
    let g = Gumbel::fit(&[1.0, 2.0, 3.0]).unwrap();
    assert!((g.beta - 0.779_696_801_233).abs() < 1e-9, "{g:?}");
    assert!((g.mu - 1.549_946_792_454).abs() < 1e-9, "{g:?}");
    // P(max ≥ μ) = 1 − e^−1; far in the tail p ≈ e^{−z}; floored at 1e-17.
    assert!((g.p_value(g.mu) - (1.0 - (-1.0f64).exp())).abs() < 1e-12);
    let x = g.mu + 20.0 * g.beta;
    assert!((g.p_value(x) / (-20.0f64).exp() - 1.0).abs() < 1e-8);
    assert_eq!(g.p_value(g.mu + 100.0 * g.beta), P_FLOOR);
    assert_eq!(Gumbel::fit(&[2.0, 2.0]), None);
    assert_eq!(Gumbel::fit(&[2.0]), None);
}

#[test]
fn families_are_the_fallback_without_coordinates() {
    // Six units without positions, in two families (parents 1 and 2); a rise in family 2
    // (3 → 15 a day) over the last two days.
    let locs: Vec<Location> = (0..6)
        .map(|i| Location {
            xy: None,
            parent: Some(1 + i / 3),
        })
        .collect();
    let mut counts = vec![vec![3u32; 30]; 6];
    for row in &mut counts[3..] {
        row[28] = 15;
        row[29] = 15;
    }
    let p = ScanParams {
        max_share: 0.6,
        replicas: 199,
        ..ScanParams::default()
    };
    let found = scan(&locs, &counts, &p).unwrap();
    let top = &found[0];
    assert_eq!(
        (top.locations.clone(), top.center),
        (vec![3, 4, 5], 3),
        "{top:?}"
    );
    assert_eq!((top.start_day, top.end_day, top.observed), (28, 29, 90));
    assert!(top.p_value < 0.05, "{top:?}");
}

#[test]
fn bad_shapes_are_errors_and_no_cases_no_clusters() {
    let locs = vec![at(0.0, 0.0), at(1.0, 0.0)];
    let p = ScanParams::default();
    assert_eq!(
        scan(&locs, &[vec![1]], &p),
        Err(ScanError::Rows {
            locations: 2,
            rows: 1
        })
    );
    assert_eq!(
        scan(&locs, &[vec![1, 2], vec![1]], &p),
        Err(ScanError::Ragged {
            row: 1,
            len: 1,
            days: 2
        })
    );
    assert_eq!(scan(&locs, &[vec![], vec![]], &p), Err(ScanError::Empty));
    assert_eq!(scan(&locs, &[vec![0, 0], vec![0, 0]], &p), Ok(vec![]));
}

#[test]
fn projection_is_in_km() {
    // One degree of latitude ≈ 111.19 km; one of longitude at 27° N ≈ 99.07 km (Shaowu).
    let xy = project(&[
        Some((27.0, 117.0)),
        Some((28.0, 117.0)),
        None,
        Some((27.5, 118.0)),
    ]);
    let (a, b, d) = (xy[0].unwrap(), xy[1].unwrap(), xy[3].unwrap());
    assert!(((b.1 - a.1) - 111.19).abs() < 0.01);
    assert!(((d.0 - a.0) - 111.19 * 27.5f64.to_radians().cos()).abs() < 0.01);
    assert_eq!(xy[2], None);
}

#[test]
#[ignore = "timing: cargo test -p m110-runtime --release --lib warning::scan -- --ignored --nocapture"]
fn timing_of_a_county() {
    // Measured on the 2-core build machine: 0.44 s (release), 7.9 s (test profile), with
    // 44 880 zones; the top cluster of this null data has p ≈ 0.26, as it should.
    let mut rng = StdRng::seed_from_u64(300);
    let locs: Vec<Location> = (0..300)
        .map(|_| at(rng.gen_range(0.0..60.0), rng.gen_range(0.0..60.0)))
        .collect();
    let counts: Vec<Vec<u32>> = (0..300)
        .map(|_| (0..30).map(|_| poisson(&mut rng, 0.5)).collect())
        .collect();
    let started = std::time::Instant::now();
    let found = scan(&locs, &counts, &ScanParams::default()).unwrap();
    let elapsed = started.elapsed();
    let zones: usize = Study::new(&locs, &counts, &ScanParams::default())
        .unwrap()
        .unwrap()
        .chains
        .iter()
        .map(|c| c.members.len())
        .sum();
    println!("300 locations × 30 days, 999 replicas, {zones} zones: {elapsed:?}; {found:?}");
}

#[test]
fn ties_go_to_the_fewest_locations_and_one_case_is_no_cluster() {
    // Five villages on a line (x = 0, 10, 11, 12, 30 km); villages 1 and 3 never have a case.
    // Village 2 has 6 cases today: {2}, {1, 2} (the circle around village 1, which comes first),
    // {2, 3} … have the same c and μ, so the same LLR — the cluster is the one village that has
    // the cases (as SaTScan reports), not the lowest-numbered circle.
    let locs: Vec<Location> = [0.0, 10.0, 11.0, 12.0, 30.0]
        .iter()
        .map(|&x| at(x, 0.0))
        .collect();
    let mut counts = vec![
        vec![1u32; 20],
        vec![0; 20],
        vec![1; 20],
        vec![0; 20],
        vec![1; 20],
    ];
    counts[2][19] = 6;
    let p = ScanParams {
        max_share: 0.9,
        replicas: 99,
        ..ScanParams::default()
    };
    let top = &scan(&locs, &counts, &p).unwrap()[0];
    assert_eq!(top.locations, vec![2], "{top:?}");
    assert_eq!((top.start_day, top.observed), (19, 6), "{top:?}");
    // A single case in a quiet village is not a cluster (SaTScan's minimum of 2).
    let mut counts = vec![vec![3u32; 20]; 4];
    counts.push(vec![0; 20]);
    counts[4][19] = 1;
    let locs: Vec<Location> = (0..5).map(|i| at(i as f64 * 10.0, 0.0)).collect();
    let found = scan(&locs, &counts, &p).unwrap();
    assert!(found.iter().all(|c| c.observed >= MIN_CASES), "{found:?}");
}
