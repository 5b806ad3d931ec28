/*!
Detection over the store: the detectors of this module's siblings run on the daily counts the
analytics rollups keep (cases received per day × category × grid unit), so a tick reads a few
thousand summed rows, never the cases.

- [`detect`]: the alerts of one day, seeing only the counts up to that day's end — the same
  function serves the live tick and the backtest, so a replay is what live detection would have
  said;
- [`tick`]: the job's pass — the day that closed last and the day so far — raising alerts
  (idempotent by key) in the store;
- [`replay`]: `m110 alerts --replay FROM TO`, nothing written.

Surges are looked for per category in every grid unit of every tier (the finest unit that
signals wins: a parent's alert on the same category and day is dropped when one of its children
signals); clusters per category over the finest tier.
*/

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::{Value, json};

use super::calendar::Calendar;
use super::cusum::{self, CusumParams};
use super::ears::{self, EarsParams};
use super::scan::{self, Location, ScanParams};
use crate::engine::region::RegionIndex;
use crate::model::time::shanghai;
use crate::model::{EarlyWarning, Integration};
use crate::store::alerts::NewAlert;
use crate::store::rollups::{Dim, RollupFilter};
use crate::store::{Store, StoreError};

/// A surge as the alert records it.
struct Surge {
    /// Index of the first day of the signalling run (the alert's start).
    start: usize,
    observed: u32,
    expected: f64,
    statistic: f64,
    /// The expected count of each day of the series (for the curve).
    expected_by_day: Vec<Option<f64>>,
}

/// Whether `method` (an EARS variant) signals on day `t` of `series`, and its figures.
fn ears_statistic(method: &str, r: &ears::EarsResult, p: &EarsParams) -> Option<f64> {
    let (stat, threshold) = match method {
        "ears_c1" => (r.c1?, p.threshold_c1_c2),
        "ears_c2" => (r.c2?, p.threshold_c1_c2),
        "ears_c3" => (r.c3?, p.threshold_c3),
        _ => return None,
    };
    (stat > threshold).then_some(stat)
}

/// The surge `method` finds on day `t`: signalling that day with enough cases; its start is
/// the first day of the run of signalling days that ends there (at most a week back).
fn surge(
    method: &str,
    series: &[u32],
    first_day: i64,
    cal: &Calendar,
    t: usize,
    p: &EarsParams,
) -> Option<Surge> {
    if method == "cusum" {
        let c = cusum::evaluate(series, first_day, cal, t, &CusumParams::default())?;
        if !c.signal || c.observed < u64::from(p.min_cases) {
            return None;
        }
        return Some(Surge {
            start: c.since,
            observed: u32::try_from(c.observed).unwrap_or(u32::MAX),
            expected: c.expected,
            statistic: c.s,
            expected_by_day: vec![None; series.len()],
        });
    }
    let at = |i: usize| ears::evaluate(series, first_day, cal, i, p);
    let r = at(t);
    let statistic = ears_statistic(method, &r, p)?;
    let enough = if method == "ears_c3" {
        (t.saturating_sub(2)..=t).map(|i| series[i]).sum::<u32>() >= p.min_cases
    } else {
        r.observed >= p.min_cases
    };
    if !enough {
        return None;
    }
    let mut start = t;
    while start > 0 && t - start < 6 && ears_statistic(method, &at(start - 1), p).is_some() {
        start -= 1;
    }
    let expected_by_day = (0..series.len()).map(|i| at(i).expected).collect();
    Some(Surge {
        start,
        observed: r.observed,
        expected: r.expected.unwrap_or(0.0),
        statistic,
        expected_by_day,
    })
}

/// Smallest expected count a surge's improbability is judged against (an area that never had a
/// case of the category is not infinitely surprised by one).
const MU_FLOOR: f64 = 0.2;

/// P(X ≥ x) for X ~ Poisson(μ): the chance of a count at least this high on an ordinary day.
pub fn poisson_sf(x: u64, mu: f64) -> f64 {
    if x == 0 {
        return 1.0;
    }
    let ln_term = |k: u64| -> f64 {
        // ln(e^−μ μ^k / k!) = −μ + k ln μ − ln k!
        let ln_fact: f64 = (2..=k).map(|i| (i as f64).ln()).sum();
        -mu + k as f64 * mu.ln() - ln_fact
    };
    if x as f64 > mu {
        // Far in the tail 1 − CDF would lose every digit: sum the (falling) terms from x on.
        let mut term = ln_term(x).exp();
        let mut sum = 0.0;
        let mut k = x;
        while term > sum * 1e-17 && k < x + 1000 {
            sum += term;
            k += 1;
            term *= mu / k as f64;
        }
        sum.min(1.0)
    } else {
        let mut term = (-mu).exp();
        let mut cdf = 0.0;
        for k in 0..x {
            if k > 0 {
                term *= mu / k as f64;
            }
            cdf += term;
        }
        (1.0 - cdf).clamp(0.0, 1.0)
    }
}

/// Days of history a detection reads before its day (the surge baselines and the scan window).
pub const HISTORY_DAYS: i64 = 56;
/// The scan's study window, in days, ending on the day looked at.
pub const SCAN_WINDOW_DAYS: usize = 28;

/// Received cases per day × category × finest grid unit over a range of days.
#[derive(Debug, Clone, Default)]
pub struct Cube {
    /// First day number of the series.
    pub first_day: i64,
    pub days: usize,
    /// (category, grid) → count per day.
    pub series: HashMap<(String, String), Vec<u32>>,
}

impl Cube {
    /// Reads `[first_day, last_day]` from the rollups.
    pub async fn load(store: &Store, first_day: i64, last_day: i64) -> Result<Cube, StoreError> {
        let rows = store
            .rollup_sums(
                &RollupFilter {
                    from_day: first_day,
                    to_day: last_day + 1,
                    metrics: Some(vec!["received".into()]),
                    ..RollupFilter::default()
                },
                &[Dim::Day, Dim::Category, Dim::Grid],
            )
            .await?;
        let days = (last_day - first_day + 1).max(0) as usize;
        let mut series: HashMap<(String, String), Vec<u32>> = HashMap::new();
        for r in rows.into_iter().filter(|r| r.metric == "received") {
            // Uncategorized or unlocated cases cannot be an area's surge of a category.
            if r.keys[1].is_empty() || r.keys[2].is_empty() {
                continue;
            }
            let Ok(day) = r.keys[0].parse::<i64>() else {
                continue;
            };
            let i = (day - first_day) as usize;
            if i >= days {
                continue;
            }
            let s = series
                .entry((r.keys[1].clone(), r.keys[2].clone()))
                .or_insert_with(|| vec![0; days]);
            s[i] = s[i].saturating_add(u32::try_from(r.n.max(0)).unwrap_or(u32::MAX));
        }
        Ok(Cube {
            first_day,
            days,
            series,
        })
    }
}

fn date(day: i64) -> String {
    shanghai(day * 86_400_000 - 8 * 3_600_000)
        .format("%Y-%m-%d")
        .to_string()
}

/// Every grid unit of every tier with the finest units under it.
fn areas(region: &RegionIndex) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let finest = region.grid_units.iter().map(|g| g.tier).max().unwrap_or(1);
    for g in region.grid_units.iter().filter(|g| g.tier == finest) {
        let mut at = Some(g);
        let mut depth = 0;
        while let Some(u) = at {
            out.entry(u.code.clone()).or_default().push(g.code.clone());
            depth += 1;
            if depth > 8 {
                break;
            }
            at = u.parent.as_deref().and_then(|p| region.grid(p));
        }
    }
    out
}

/// The alerts of day `day` (a day number), from the counts of `cube` up to and including it.
pub fn detect(
    region: &RegionIndex,
    cube: &Cube,
    day: i64,
    settings: &EarlyWarning,
    cal: &Calendar,
) -> Vec<NewAlert> {
    let Some(t) = usize::try_from(day - cube.first_day)
        .ok()
        .filter(|t| *t < cube.days)
    else {
        return Vec::new();
    };
    let detected_on = date(day);
    let methods: HashSet<&str> = settings.methods.iter().map(String::as_str).collect();
    let mut out = Vec::new();

    // --- surges per category × area, every tier ------------------------------------------
    let surge_methods: Vec<&str> = ["ears_c1", "ears_c2", "ears_c3", "cusum"]
        .into_iter()
        .filter(|m| methods.contains(m))
        .collect();
    let categories: HashSet<&String> = cube.series.keys().map(|(c, _)| c).collect();
    if !surge_methods.is_empty() {
        let params = EarsParams {
            min_cases: settings.min_cases,
            ..EarsParams::default()
        };
        let areas = areas(region);
        let tests = areas.len().max(1) as f64;
        let mut surges: Vec<(String, String, u8, NewAlert)> = Vec::new();
        for cat in &categories {
            for (area, cells) in &areas {
                let mut series = vec![0u32; t + 1];
                let mut any = false;
                for cell in cells {
                    if let Some(s) = cube.series.get(&((*cat).clone(), cell.clone())) {
                        for (i, v) in s.iter().take(t + 1).enumerate() {
                            series[i] += v;
                        }
                        any = true;
                    }
                }
                if !any || series[t] < settings.min_cases {
                    continue;
                }
                for method in &surge_methods {
                    let Some(signal) = surge(method, &series, cube.first_day, cal, t, &params)
                    else {
                        continue;
                    };
                    // The surge must also be rare across every area looked at: with p the
                    // chance of such a count on an ordinary day and n areas tested daily, one
                    // like it turns up by chance every 1 / (p · n) days.
                    let (obs, exp) = if *method == "ears_c3" {
                        let days = t.saturating_sub(2)..=t;
                        (
                            days.clone().map(|i| u64::from(series[i])).sum::<u64>(),
                            days.map(|i| signal.expected_by_day[i].unwrap_or(signal.expected))
                                .sum::<f64>(),
                        )
                    } else {
                        (u64::from(signal.observed), signal.expected)
                    };
                    let p = poisson_sf(obs, exp.max(MU_FLOOR));
                    let recurrence = 1.0 / (p * tests).max(f64::MIN_POSITIVE);
                    if recurrence < settings.recurrence_days {
                        continue;
                    }
                    let tier = region.grid(area).map(|g| g.tier).unwrap_or(1);
                    let curve: Vec<Value> = (t.saturating_sub(27)..=t)
                        .map(|i| {
                            json!([
                                date(cube.first_day + i as i64),
                                series[i],
                                signal.expected_by_day[i].map(|e| (e * 10.0).round() / 10.0)
                            ])
                        })
                        .collect();
                    let start = cube.first_day + signal.start as i64;
                    surges.push((
                        (*cat).clone(),
                        area.clone(),
                        tier,
                        NewAlert {
                            key: format!("{method}|{cat}|{area}|{}", date(start)),
                            method: (*method).to_string(),
                            category_code: Some((*cat).clone()),
                            area_code: Some(area.clone()),
                            grid_codes: vec![area.clone()],
                            start_day: date(start),
                            end_day: detected_on.clone(),
                            detected_on: detected_on.clone(),
                            observed: i64::from(signal.observed),
                            expected: signal.expected,
                            statistic: signal.statistic,
                            p_value: Some(p),
                            recurrence_days: Some(recurrence),
                            curve: Value::Array(curve),
                            deliver_to: None,
                        },
                    ));
                }
            }
        }
        // The finest area that signals wins over its ancestors (same category and method).
        let signalled: HashSet<(String, String, String)> = surges
            .iter()
            .map(|(c, a, _, n)| (c.clone(), a.clone(), n.method.clone()))
            .collect();
        for (cat, area, _, alert) in surges {
            let shadowed = region
                .grid_units
                .iter()
                .filter(|g| g.parent.as_deref() == Some(area.as_str()))
                .any(|child| {
                    // Any descendant, not only children: walk down through the reach.
                    region
                        .grid_reach(std::slice::from_ref(&child.code))
                        .iter()
                        .any(|d| {
                            signalled.contains(&(cat.clone(), d.clone(), alert.method.clone()))
                        })
                });
            if !shadowed {
                out.push(alert);
            }
        }
    }

    // --- space-time clusters per category over the finest tier ---------------------------
    if methods.contains("scan") {
        let (cells, locations) = scan_locations(region);
        let window = SCAN_WINDOW_DAYS.min(t + 1);
        let first = t + 1 - window;
        for cat in &categories {
            let mut counts = vec![vec![0u32; window]; cells.len()];
            let mut total = 0u64;
            for (z, g) in cells.iter().enumerate() {
                if let Some(s) = cube.series.get(&((*cat).clone(), g.code.clone())) {
                    counts[z].copy_from_slice(&s[first..=t]);
                    total += counts[z].iter().map(|v| u64::from(*v)).sum::<u64>();
                }
            }
            if total < u64::from(settings.min_cases) {
                continue;
            }
            let params = ScanParams {
                max_days: settings.max_days as usize,
                max_share: settings.max_share,
                replicas: settings.replicas as usize,
                // Seeded by category and day: a replay gives the live run's p-values.
                seed: seed(cat, day),
                max_clusters: 1,
                ..ScanParams::default()
            };
            let Some(c) = scan::scan(&locations, &counts, &params)
                .ok()
                .and_then(|found| found.into_iter().next())
            else {
                continue;
            };
            if c.observed < u64::from(settings.min_cases)
                || c.recurrence_days < settings.recurrence_days
            {
                continue;
            }
            let grid_codes: Vec<String> =
                c.locations.iter().map(|z| cells[*z].code.clone()).collect();
            let area = common_ancestor(region, &grid_codes);
            let start = cube.first_day + (first + c.start_day) as i64;
            let curve: Vec<Value> = (0..window)
                .map(|d| {
                    let obs: u32 = c.locations.iter().map(|z| counts[*z][d]).sum();
                    json!([date(cube.first_day + (first + d) as i64), obs, Value::Null])
                })
                .collect();
            out.push(NewAlert {
                key: format!(
                    "scan|{cat}|{}|{}",
                    area.clone().unwrap_or_default(),
                    date(start)
                ),
                method: "scan".into(),
                category_code: Some((*cat).clone()),
                area_code: area,
                grid_codes,
                start_day: date(start),
                end_day: detected_on.clone(),
                detected_on: detected_on.clone(),
                observed: c.observed as i64,
                expected: c.expected,
                statistic: c.llr,
                p_value: Some(c.p_value),
                recurrence_days: Some(c.recurrence_days),
                curve: Value::Array(curve),
                deliver_to: None,
            });
        }
    }
    for a in &mut out {
        a.deliver_to = destination(region, a);
    }
    out
}

/// The scan's locations: the grid units of the finest tier in region order, with planar
/// positions from their centroids; units without one join the adjacency fallback by their
/// parent.
pub fn scan_locations(region: &RegionIndex) -> (Vec<&crate::model::GridUnit>, Vec<Location>) {
    let finest = region.grid_units.iter().map(|g| g.tier).max().unwrap_or(1);
    let cells: Vec<&crate::model::GridUnit> = region
        .grid_units
        .iter()
        .filter(|g| g.tier == finest)
        .collect();
    let xy = scan::project(
        &cells
            .iter()
            .map(|g| g.centroid.map(|c| (c.lat, c.lon)))
            .collect::<Vec<_>>(),
    );
    let mut parents: HashMap<&str, i64> = HashMap::new();
    let locations = cells
        .iter()
        .zip(xy)
        .map(|(g, xy)| Location {
            xy,
            parent: g.parent.as_deref().map(|p| {
                let next = parents.len() as i64;
                *parents.entry(p).or_insert(next)
            }),
        })
        .collect();
    (cells, locations)
}

/// Where an alert's message goes: the platform of the unit the routing rules give its category
/// in its area. A webhook platform is sent the signed `alert.raised` event by the delivery
/// worker; a platform reached another way (Open311 takes requests, not alerts; none) gets it as
/// a `manual` message the center passes on by phone, visible on the integrations page.
fn destination(region: &RegionIndex, a: &NewAlert) -> Option<(String, &'static str)> {
    let category = a.category_code.as_deref()?;
    let unit = region
        .routing()
        .resolve(category, a.area_code.as_deref())
        .unit;
    let id = region.unit(&unit)?.platform.as_deref()?;
    let platform = region.platforms.iter().find(|p| p.id == id)?;
    let state = match platform.integration {
        Integration::Webhook { .. } => "pending",
        _ => "manual",
    };
    Some((platform.id.clone(), state))
}

/// A deterministic seed from a category and a day.
fn seed(category: &str, day: i64) -> u64 {
    // FNV-1a over the category, mixed with the day.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in category.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h ^ (day as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

/// The finest grid unit all of `codes` lie in (`None`: only the region holds them all).
fn common_ancestor(region: &RegionIndex, codes: &[String]) -> Option<String> {
    let path = |code: &str| region.lineage(code);
    let mut common = path(codes.first()?);
    for c in &codes[1..] {
        let p = path(c);
        let n = common.iter().zip(&p).take_while(|(a, b)| a == b).count();
        common.truncate(n);
    }
    common.pop()
}

/// Whether `new` continues `old`, an alert raised before it: the same method and category,
/// a grid unit in common, and a start no later than the day after `old` last signalled. A
/// cluster seen on consecutive days shifts its best cylinder (one more day, one more village)
/// and with it the key; it is still the one problem the center already has in hand.
pub fn continues(old: &NewAlert, new: &NewAlert) -> bool {
    let day = |d: &str| super::calendar::parse_date(d);
    old.key != new.key
        && old.method == new.method
        && old.category_code == new.category_code
        && old.grid_codes.iter().any(|g| new.grid_codes.contains(g))
        && matches!((day(&new.start_day), day(&old.end_day)), (Some(s), Some(e)) if s <= e + 1)
}

/// Gives each alert of `found` that continues one of `earlier` that alert's key, so the store
/// refreshes the alert the center has (or leaves it as decided) instead of raising another.
pub fn carry_keys(earlier: &[NewAlert], found: &mut [NewAlert]) {
    for a in found.iter_mut() {
        if let Some(old) = earlier.iter().find(|old| continues(old, a)) {
            a.key = old.key.clone();
            a.start_day = a.start_day.clone().min(old.start_day.clone());
        }
    }
}

/// The calendar the detectors adjust for: the national holidays and the profile's own.
pub fn calendar(settings: &EarlyWarning) -> Calendar {
    Calendar::china(&settings.holidays)
}

/// The job's pass at `now`: the day that closed last and the day so far. Returns (alerts
/// found, alerts newly raised). The detectors are CPU work (the scan's permutations): they run
/// on the blocking pool, off the request threads.
pub async fn tick(
    store: &Store,
    region: &std::sync::Arc<RegionIndex>,
    now: i64,
) -> Result<(usize, usize), StoreError> {
    let today = crate::store::rollups::day_hour(now).0;
    let cube = Cube::load(store, today - HISTORY_DAYS, today).await?;
    let max_days = i64::from(region.early_warning.max_days);
    let region = std::sync::Arc::clone(region);
    let found = tokio::task::spawn_blocking(move || {
        let settings = &region.early_warning;
        let cal = calendar(settings);
        let mut found = detect(&region, &cube, today - 1, settings, &cal);
        found.extend(detect(&region, &cube, today, settings, &cal));
        found
    })
    .await
    .map_err(|e| StoreError::Other(Box::new(e)))?;
    let mut found = found;
    let recent = store
        .alerts(&crate::store::alerts::AlertFilter {
            from_day: Some(date(today - max_days - 1)),
            limit: 10_000,
            ..Default::default()
        })
        .await?;
    let earlier: Vec<NewAlert> = recent.into_iter().map(|a| a.alert).collect();
    carry_keys(&earlier, &mut found);
    let raised = store.raise_alerts(&found, now).await?;
    Ok((found.len(), raised.len()))
}

/// What detection would have raised on each day of `[from, to]` (day numbers), seeing only the
/// counts up to each day's end. Alerts of one run (the same key on consecutive days, or one
/// that [`continues`] it) are listed once, as first detected, with the last day it signalled.
pub async fn replay(
    store: &Store,
    region: &RegionIndex,
    from: i64,
    to: i64,
) -> Result<Vec<NewAlert>, StoreError> {
    let settings = &region.early_warning;
    let cube = Cube::load(store, from - HISTORY_DAYS, to).await?;
    let cal = calendar(settings);
    let mut out: Vec<NewAlert> = Vec::new();
    for day in from..=to {
        let mut found = detect(region, &cube, day, settings, &cal);
        carry_keys(&out, &mut found);
        for a in found {
            match out.iter_mut().find(|o| o.key == a.key) {
                // Still signalling: the alert's run goes on to this day.
                Some(o) => o.end_day = a.end_day,
                None => out.push(a),
            }
        }
    }
    Ok(out)
}

/// A replayed alert as `m110 alerts --format json` prints it.
pub fn replay_json(a: &NewAlert) -> Value {
    json!({
        "category": a.category_code,
        "grid_codes": a.grid_codes,
        "area": a.area_code,
        "start": a.start_day,
        "end": a.end_day,
        "detected_on": a.detected_on,
        "method": a.method,
        "observed": a.observed,
        "expected": (a.expected * 100.0).round() / 100.0,
        "statistic": (a.statistic * 1000.0).round() / 1000.0,
        "recurrence_days": a.recurrence_days.map(|r| r.round()),
        "p_value": a.p_value,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poisson_tails_by_hand() {
        // P(X ≥ 1 | 2) = 1 − e^−2 = 0.864665; P(X ≥ 3 | 1) = 1 − e^−1 (1 + 1 + 1/2) = 0.080301.
        assert!((poisson_sf(1, 2.0) - (1.0 - (-2.0f64).exp())).abs() < 1e-12);
        assert!((poisson_sf(3, 1.0) - 0.080_301_397).abs() < 1e-8);
        assert_eq!(poisson_sf(0, 5.0), 1.0);
        assert!(poisson_sf(60, 1.0) < 1e-60);
    }

    fn alert(key: &str, method: &str, grid: &[&str], start: &str, end: &str) -> NewAlert {
        NewAlert {
            key: key.into(),
            method: method.into(),
            category_code: Some("roads".into()),
            area_code: grid.first().map(|g| g.to_string()),
            grid_codes: grid.iter().map(|g| g.to_string()).collect(),
            start_day: start.into(),
            end_day: end.into(),
            detected_on: end.into(),
            observed: 9,
            expected: 1.0,
            statistic: 10.0,
            p_value: None,
            recurrence_days: None,
            curve: Value::Null,
            deliver_to: None,
        }
    }

    #[test]
    fn a_cluster_seen_again_keeps_its_alert() {
        let old = alert(
            "scan|roads|a|2026-11-02",
            "scan",
            &["v1", "v2"],
            "2026-11-02",
            "2026-11-03",
        );
        // The next day the cylinder grew by a village and a day: the same alert.
        let mut found = vec![
            alert(
                "scan|roads|b|2026-11-01",
                "scan",
                &["v2", "v3"],
                "2026-11-01",
                "2026-11-04",
            ),
            // Elsewhere, another method, or after a gap: new alerts.
            alert(
                "scan|roads|c|2026-11-04",
                "scan",
                &["v9"],
                "2026-11-04",
                "2026-11-04",
            ),
            alert(
                "ears_c2|roads|v1|2026-11-04",
                "ears_c2",
                &["v1"],
                "2026-11-04",
                "2026-11-04",
            ),
            alert(
                "scan|roads|d|2026-11-05",
                "scan",
                &["v1"],
                "2026-11-05",
                "2026-11-05",
            ),
        ];
        carry_keys(std::slice::from_ref(&old), &mut found);
        assert_eq!(found[0].key, old.key);
        assert_eq!(found[0].start_day, "2026-11-01");
        assert_eq!(found[1].key, "scan|roads|c|2026-11-04");
        assert_eq!(found[2].key, "ears_c2|roads|v1|2026-11-04");
        assert_eq!(found[3].key, "scan|roads|d|2026-11-05");
    }

    #[test]
    fn seeds_differ_by_category_and_day() {
        assert_ne!(seed("roads", 1), seed("roads", 2));
        assert_ne!(seed("roads", 1), seed("water", 1));
        assert_eq!(seed("roads", 1), seed("roads", 1));
    }
}
