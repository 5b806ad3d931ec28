use super::batch::{assign, greedy, offered, total_cost};
use super::*;
use crate::model::{LatLon, UnitKind};

const NOW: i64 = 1_800_000_000_000;
const DAY: i64 = 86_400_000;

fn at(lat: f64, lon: f64) -> Option<LatLon> {
    Some(LatLon { lat, lon })
}

fn provider(unit: &str, cats: &[&str], location: Option<LatLon>) -> Provider {
    Provider {
        unit: unit.into(),
        kind: UnitKind::MarketProvider,
        categories: cats.iter().map(|c| c.to_string()).collect(),
        scope: Vec::new(),
        location,
        admission: Some(Admission {
            valid_from_ms: NOW - 30 * DAY,
            valid_until_ms: Some(NOW + 365 * DAY),
        }),
        suspended: false,
        rating: None,
        ratings: 0,
        load: 0,
        last_offer_ms: None,
    }
}

fn need(cats: &[&str], grid: &[&str], location: Option<LatLon>) -> Need {
    Need {
        case_id: "c".into(),
        categories: cats.iter().map(|c| c.to_string()).collect(),
        grid: grid.iter().map(|c| c.to_string()).collect(),
        location,
        exclude: Vec::new(),
    }
}

/// Distance only: the other terms off, so expectations read as geometry.
fn by_distance(k: usize) -> Rules {
    Rules {
        k,
        per_rating_point: 0.0,
        per_open_case: 0.0,
        fairness: 0.0,
        ..Rules::default()
    }
}

fn units(v: &[Candidate]) -> Vec<&str> {
    v.iter().map(|c| c.unit.as_str()).collect()
}

#[test]
fn filter_keeps_only_fitting_admitted_providers() {
    let n = need(
        &["home.repair", "home"],
        &["cell-1", "village-1", "town-1"],
        at(27.30, 117.50),
    );
    let r = Rules::default();
    let ok = provider("ok", &["home"], at(27.3, 117.5));
    assert_eq!(eligibility(&ok, &n, &r, NOW), Ok(()));
    let cases: Vec<(Provider, Ineligible)> = vec![
        (
            Provider {
                kind: UnitKind::Department,
                ..ok.clone()
            },
            Ineligible::Kind,
        ),
        (provider("x", &["roads"], None), Ineligible::Category),
        (
            Provider {
                scope: vec!["town-2".into()],
                ..ok.clone()
            },
            Ineligible::Area,
        ),
        (
            Provider {
                admission: None,
                ..ok.clone()
            },
            Ineligible::NotAdmitted,
        ),
        (
            Provider {
                admission: Some(Admission {
                    valid_from_ms: NOW + 1,
                    valid_until_ms: None,
                }),
                ..ok.clone()
            },
            Ineligible::NotYetValid,
        ),
        (
            Provider {
                admission: Some(Admission {
                    valid_from_ms: NOW - DAY,
                    valid_until_ms: Some(NOW),
                }),
                ..ok.clone()
            },
            Ineligible::Expired,
        ),
        (
            Provider {
                suspended: true,
                ..ok.clone()
            },
            Ineligible::Suspended,
        ),
        (
            Provider {
                rating: Some(2.9),
                ratings: 3,
                ..ok.clone()
            },
            Ineligible::BelowRatingFloor,
        ),
    ];
    for (p, why) in &cases {
        assert_eq!(eligibility(p, &n, &r, NOW), Err(*why), "{p:?}");
    }
    // A scope on an ancestor of the case's cell fits; a low rating from two citizens does not
    // bar a newcomer yet.
    let fits = [
        Provider {
            scope: vec!["village-1".into()],
            ..ok.clone()
        },
        Provider {
            rating: Some(1.0),
            ratings: 2,
            ..ok.clone()
        },
        Provider {
            kind: UnitKind::VolunteerTeam,
            ..ok.clone()
        },
    ];
    for p in &fits {
        assert_eq!(eligibility(p, &n, &r, NOW), Ok(()), "{p:?}");
    }
    let mut again = n.clone();
    again.exclude = vec!["ok".into()];
    assert_eq!(
        eligibility(&ok, &again, &r, NOW),
        Err(Ineligible::AlreadyOffered)
    );
}

#[test]
fn top_k_is_the_nearest_fitting_providers() {
    // Providers along a meridian, 0.01° of latitude ≈ 1.1 km apart.
    let ps = vec![
        provider("far", &["home"], at(27.35, 117.5)),
        provider("near", &["home"], at(27.301, 117.5)),
        provider("mid", &["home"], at(27.32, 117.5)),
        provider("nearest-wrong-category", &["roads"], at(27.30, 117.5)),
        provider("close", &["home"], at(27.31, 117.5)),
        Provider {
            suspended: true,
            ..provider("suspended-next-door", &["home"], at(27.30, 117.5))
        },
    ];
    let n = need(&["home"], &["cell-1"], at(27.30, 117.5));
    let top = top_k(&n, &ps, &by_distance(3), NOW, &Haversine);
    assert_eq!(units(&top), ["near", "close", "mid"]);
    assert!((top[1].distance_km - 1.112).abs() < 0.01, "{:?}", top[1]);
}

#[test]
fn rating_load_and_fairness_move_the_ranking() {
    let n = need(&["home"], &["cell-1"], at(27.30, 117.5));
    let a = provider("a", &["home"], at(27.31, 117.5));
    let b = provider("b", &["home"], at(27.31, 117.5));
    let r = Rules::default();
    let rank2 = |a: &Provider, b: &Provider| {
        units(&rank(&n, &[a.clone(), b.clone()], &r, NOW, &Haversine))
            .into_iter()
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    // Same place, same everything: ties by id.
    assert_eq!(rank2(&a, &b), ["a", "b"]);
    let rated = |p: &Provider, x: f64| Provider {
        rating: Some(x),
        ratings: 10,
        ..p.clone()
    };
    assert_eq!(rank2(&rated(&a, 3.5), &rated(&b, 4.8)), ["b", "a"]);
    let busy = Provider {
        load: 2,
        ..a.clone()
    };
    assert_eq!(rank2(&busy, &b), ["b", "a"]);
    // Offered an hour ago: the one who waited goes first.
    let recent = Provider {
        last_offer_ms: Some(NOW - 3_600_000),
        ..a.clone()
    };
    assert_eq!(rank2(&recent, &b), ["b", "a"]);
    // 2.2 km nearer outweighs a rating point less (2 km-equivalent).
    let near_worse = Provider {
        location: at(27.30, 117.5),
        ..rated(&a, 3.9)
    };
    let far_better = Provider {
        location: at(27.32, 117.5),
        ..rated(&b, 4.9)
    };
    assert_eq!(rank2(&near_worse, &far_better), ["a", "b"]);
}

#[test]
fn batch_beats_greedy_on_a_case_built_for_it() {
    // P1 sits between the two cases; P2 beyond case A. Greedy serves A first with P1 (1.1 km)
    // and leaves B the long way to P2 (4.4 km); the batch gives A P2 (2.2 km) and B P1 (1.1 km).
    let ps = vec![
        provider("p1", &["home"], at(27.30, 117.5)),
        provider("p2", &["home"], at(27.33, 117.5)),
    ];
    let mut a = need(&["home"], &["cell-1"], at(27.31, 117.5));
    a.case_id = "A".into();
    let mut b = need(&["home"], &["cell-1"], at(27.29, 117.5));
    b.case_id = "B".into();
    let needs = [a, b];
    let r = by_distance(1);
    let g = greedy(&needs, &ps, &r, NOW, &Haversine);
    let h = assign(&needs, &ps, &r, NOW, &Haversine);
    assert_eq!(units(&g[0]), ["p1"]);
    assert_eq!(units(&g[1]), ["p2"]);
    assert_eq!(units(&h[0]), ["p2"]);
    assert_eq!(units(&h[1]), ["p1"]);
    let (gc, hc) = (total_cost(&g), total_cost(&h));
    assert!(
        (gc - 5.56).abs() < 0.02 && (hc - 3.34).abs() < 0.02,
        "{gc} {hc}"
    );
}

#[test]
fn batch_offers_as_many_as_fit_never_a_misfit_nor_twice() {
    let ps = vec![
        provider("h1", &["home"], at(27.30, 117.5)),
        provider("h2", &["home"], at(27.31, 117.5)),
        provider("r1", &["roads"], at(27.30, 117.5)),
        provider("e1", &["elder", "home"], at(27.40, 117.5)),
    ];
    let needs = [
        need(&["home"], &["cell-1"], at(27.30, 117.5)),
        need(&["elder"], &["cell-1"], at(27.30, 117.5)),
        need(&["home"], &["cell-1"], at(27.30, 117.5)),
        need(&["water"], &["cell-1"], at(27.30, 117.5)),
    ];
    let h = assign(&needs, &ps, &by_distance(2), NOW, &Haversine);
    // The elder case has one possible provider, e1; it gets it though e1 also does home
    // repairs, and the two home cases share h1 and h2; nobody does water.
    assert_eq!(units(&h[1]), ["e1"]);
    assert_eq!(offered(&h[..1]) + offered(&h[2..3]), 2);
    assert!(h[3].is_empty());
    let mut all: Vec<&str> = h.iter().flat_map(|v| units(v)).collect();
    all.sort();
    assert_eq!(all, ["e1", "h1", "h2"]);
    assert!(assign(&[], &ps, &by_distance(2), NOW, &Haversine).is_empty());
    assert_eq!(
        assign(&needs[3..], &ps, &by_distance(2), NOW, &Haversine),
        vec![Vec::new()]
    );
}

/// A small exhaustive check: on random small instances the batch's total cost is the minimum
/// over every assignment (k = 1) and never above greedy's with as many offers.
#[test]
fn batch_is_optimal_on_small_random_instances() {
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};
    let mut rng = StdRng::seed_from_u64(10);
    for _ in 0..200 {
        let np = rng.gen_range(1..=5);
        let nn = rng.gen_range(1..=4);
        let ps: Vec<Provider> = (0..np)
            .map(|i| {
                let cat = if rng.gen_bool(0.8) { "home" } else { "roads" };
                provider(
                    &format!("p{i}"),
                    &[cat],
                    at(
                        27.3 + rng.gen_range(0.0..0.1),
                        117.5 + rng.gen_range(0.0..0.1),
                    ),
                )
            })
            .collect();
        let needs: Vec<Need> = (0..nn)
            .map(|_| {
                need(
                    &["home"],
                    &["cell-1"],
                    at(
                        27.3 + rng.gen_range(0.0..0.1),
                        117.5 + rng.gen_range(0.0..0.1),
                    ),
                )
            })
            .collect();
        let r = by_distance(1);
        let h = assign(&needs, &ps, &r, NOW, &Haversine);
        let g = greedy(&needs, &ps, &r, NOW, &Haversine);
        let best = brute(&needs, &ps, &r);
        assert_eq!(offered(&h), best.0);
        assert!((total_cost(&h) - best.1).abs() < 0.01, "{h:?} {best:?}");
        if offered(&g) == offered(&h) {
            assert!(total_cost(&h) <= total_cost(&g) + 0.01);
        }
    }
}

/// Most offers, then least cost, over every injective assignment of needs to providers.
fn brute(needs: &[Need], ps: &[Provider], r: &Rules) -> (usize, f64) {
    fn go(
        i: usize,
        needs: &[Need],
        ps: &[Provider],
        r: &Rules,
        used: &mut Vec<bool>,
        acc: (usize, f64),
        best: &mut (usize, f64),
    ) {
        if i == needs.len() {
            if acc.0 > best.0 || (acc.0 == best.0 && acc.1 < best.1) {
                *best = acc;
            }
            return;
        }
        go(i + 1, needs, ps, r, used, acc, best);
        for c in rank(&needs[i], ps, r, NOW, &Haversine) {
            if !used[c.index] {
                used[c.index] = true;
                go(i + 1, needs, ps, r, used, (acc.0 + 1, acc.1 + c.cost), best);
                used[c.index] = false;
            }
        }
    }
    let mut best = (0, f64::INFINITY);
    go(
        0,
        needs,
        ps,
        r,
        &mut vec![false; ps.len()],
        (0, 0.0),
        &mut best,
    );
    if best.0 == 0 {
        best.1 = 0.0;
    }
    best
}
