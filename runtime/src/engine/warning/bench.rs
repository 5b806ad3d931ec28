/*!
The synthetic benchmark of early warning: how many known, injected clusters [`run::detect`]
finds, how fast, at how many false alarms, and how long a tick takes.

**Generator** ([`simulate`], pure, seeded [`StdRng`]). A county-like region: 20 townships
(tier 1) × 15 villages (tier 2) = 300 villages on a jittered 2.5 km grid (±0.6 km) around
27.3° N 117.5° E (a 50 × 37.5 km county), and 8 categories with fixed shares. The background is
Poisson per category × village × day with mean

  `μ = T · share_c · w_v · e_cv · weekday(day) · season(day)`,

`T` = 100 cases a working day for the county, `w_v` and `e_cv` lognormal (σ 0.7 and 0.4, each
normalised to mean 1: a few busy villages, many quiet ones), `weekday` = Monday 1.1, Tuesday to
Friday 1.0, Saturday 0.7, Sunday 0.6, a holiday of [`Calendar::china`] a Sunday and a make-up
working day a working day, `season = 1 + 0.15 · sin(2π · day / 365.25)`. About 75–105 cases a
day over the year.

Clusters: a category, a center village and its k nearest villages (k uniform 0..=3), a start
day (uniform from day 60 on), a duration of 1..=3 days and 6..=20 extra cases, each placed on
the center with probability ½ (always when k = 0), else on a neighbour, and on a uniform day
of the cluster. The truth records every injected case's cell and day.

**Benchmark** ([`early_warning_benchmark`], ignored; meant for `--release`):

```text
cargo test -p m110-runtime --release --lib warning::bench -- --ignored --nocapture
```

`M110_BENCH_REPLICAS` sets the scan's replicas (default: the profile's default in release, 199
in a debug build), `M110_BENCH_SEED` the generator's seed and `M110_BENCH_ONLY` the rows to run
(e.g. `scan,ears_c3+scan`). Each method runs alone, then two pairs (the default is ears_c3 + scan).
An alert *detects* a cluster when its category is the cluster's, one of its `grid_codes` is one
of the cluster's villages or their township, and it is raised on a day in `[start, end + 1]`.
Alerts are counted once per key (as the store raises them); a key that never detects a cluster
is a false alarm, and an *echo* when it covers an injected cluster of its category that ended
at most 14 days before (a detector still signalling on an old cluster).
*/

use std::collections::HashMap;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::calendar::{Calendar, WORKDAY_CLASS, parse_date};
use super::{poisson, run};
use crate::engine::region::{RegionData, RegionIndex};
use crate::model::{Category, EarlyWarning, GridUnit, LatLon, Priority};

/// The generator's parameters.
#[derive(Debug, Clone)]
pub struct SimParams {
    pub seed: u64,
    pub townships: usize,
    /// Villages per township (a block of `block_cols` × rows).
    pub villages_per_township: usize,
    pub block_cols: usize,
    /// Township blocks per row of the county.
    pub township_cols: usize,
    /// Distance between neighbouring villages, km.
    pub spacing_km: f64,
    /// Uniform jitter of each village, ± km.
    pub jitter_km: f64,
    pub first_day: i64,
    pub days: usize,
    /// Mean county cases on an ordinary working day, before the season.
    pub weekday_cases: f64,
    /// Lognormal σ of the villages' weights and of the category × village weights.
    pub village_sigma: f64,
    pub cell_sigma: f64,
    /// Factors Monday ..= Sunday (holidays: Sunday's; make-up working days: Tuesday's).
    pub weekday: [f64; 7],
    /// Amplitude of the yearly sine.
    pub season: f64,
    pub clusters: usize,
    /// First day index a cluster may start on.
    pub cluster_from: usize,
    pub cluster_cases: (u32, u32),
    pub cluster_days: (usize, usize),
    pub cluster_neighbours: (usize, usize),
}

impl Default for SimParams {
    fn default() -> SimParams {
        SimParams {
            seed: 110,
            townships: 20,
            villages_per_township: 15,
            block_cols: 5,
            township_cols: 4,
            spacing_km: 2.5,
            jitter_km: 0.6,
            // 2024-12-01: 425 days reach 2026-01-29, inside the built-in calendar.
            first_day: parse_date("2024-12-01").unwrap_or(20_058),
            days: 425,
            weekday_cases: 100.0,
            village_sigma: 0.7,
            cell_sigma: 0.4,
            weekday: [1.1, 1.0, 1.0, 1.0, 1.0, 0.7, 0.6],
            season: 0.15,
            clusters: 40,
            cluster_from: 60,
            cluster_cases: (6, 20),
            cluster_days: (1, 3),
            cluster_neighbours: (0, 3),
        }
    }
}

/// The categories of the synthetic county and their shares of the cases.
const CATEGORIES: [(&str, &str, f64); 8] = [
    ("roads", "道路", 0.22),
    ("water", "供水", 0.18),
    ("power", "供电", 0.15),
    ("sanitation", "环卫", 0.13),
    ("noise", "噪声", 0.10),
    ("housing", "住房", 0.09),
    ("traffic", "交通", 0.08),
    ("social", "社保", 0.05),
];

/// One injected cluster, as it was put into the counts.
#[derive(Debug, Clone, PartialEq)]
pub struct Injected {
    pub category: String,
    /// The center first, then its nearest villages.
    pub villages: Vec<String>,
    /// First and last day numbers.
    pub start: i64,
    pub end: i64,
    pub cases: u32,
    /// (village, day number, extra cases).
    pub cells: Vec<(String, i64, u32)>,
}

/// A simulated county: the region, its counts and the truth.
pub struct Sim {
    pub region: RegionIndex,
    pub calendar: Calendar,
    pub cube: run::Cube,
    pub clusters: Vec<Injected>,
    /// Background cases (without the injected ones).
    pub background: u64,
    /// Village code → township code.
    pub parent: HashMap<String, String>,
    /// Mean background μ per (category, village), cases a working day before the season.
    pub rates: HashMap<(String, String), f64>,
}

/// A standard normal draw (Box–Muller).
fn normal(rng: &mut StdRng) -> f64 {
    let u1: f64 = 1.0 - rng.r#gen::<f64>();
    let u2: f64 = rng.r#gen();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// `n` lognormal weights with the given σ, normalised to mean 1.
fn lognormal_weights(rng: &mut StdRng, n: usize, sigma: f64) -> Vec<f64> {
    let w: Vec<f64> = (0..n).map(|_| (sigma * normal(rng)).exp()).collect();
    let mean = w.iter().sum::<f64>() / n.max(1) as f64;
    w.into_iter().map(|x| x / mean).collect()
}

fn category(code: &str, zh: &str) -> Category {
    Category {
        code: code.into(),
        name_zh: zh.into(),
        name_en: code.into(),
        parent: None,
        priority: Priority::Normal,
        police: false,
        sign_minutes: 120,
        close_hours: 72,
        keywords: vec![],
        matchable: false,
    }
}

/// The factor of a day class ([`Calendar::class`]).
fn day_factor(p: &SimParams, class: usize) -> f64 {
    if class == WORKDAY_CLASS {
        p.weekday[1]
    } else {
        p.weekday[class.min(6)]
    }
}

/// Simulates the county of `p`.
pub fn simulate(p: &SimParams) -> Sim {
    let mut rng = StdRng::seed_from_u64(p.seed);
    let calendar = Calendar::china(&[]);

    // --- region ----------------------------------------------------------------------------
    let rows_per_block = p.villages_per_township.div_ceil(p.block_cols.max(1));
    let (lat0, lon0): (f64, f64) = (27.3, 117.5);
    let km_lon = 111.32 * lat0.to_radians().cos();
    let mut grid_units = Vec::new();
    let mut villages: Vec<(String, (f64, f64))> = Vec::new();
    let mut parent = HashMap::new();
    for t in 0..p.townships {
        let tcode = format!("T{:02}", t + 1);
        let (bx, by) = (t % p.township_cols, t / p.township_cols);
        let mut sum = (0.0, 0.0);
        let mut members = Vec::new();
        for v in 0..p.villages_per_township {
            let (vx, vy) = (v % p.block_cols, v / p.block_cols);
            let jitter = |rng: &mut StdRng| rng.gen_range(-p.jitter_km..=p.jitter_km);
            let x = (bx * p.block_cols + vx) as f64 * p.spacing_km + jitter(&mut rng);
            let y = (by * rows_per_block + vy) as f64 * p.spacing_km + jitter(&mut rng);
            sum = (sum.0 + x, sum.1 + y);
            let vcode = format!("{tcode}V{:02}", v + 1);
            parent.insert(vcode.clone(), tcode.clone());
            members.push((vcode, (x, y)));
        }
        let to_latlon = |(x, y): (f64, f64)| LatLon {
            lat: lat0 + y / 111.19,
            lon: lon0 + x / km_lon,
        };
        let n = members.len().max(1) as f64;
        grid_units.push(GridUnit {
            code: tcode.clone(),
            name: format!("{}镇", t + 1),
            parent: None,
            tier: 1,
            population: None,
            households: None,
            centroid: Some(to_latlon((sum.0 / n, sum.1 / n))),
            generated: false,
        });
        for (vcode, xy) in members {
            grid_units.push(GridUnit {
                code: vcode.clone(),
                name: format!("{vcode}村"),
                parent: Some(tcode.clone()),
                tier: 2,
                population: None,
                households: None,
                centroid: Some(to_latlon(xy)),
                generated: false,
            });
            villages.push((vcode, xy));
        }
    }
    let region = RegionIndex::new(RegionData {
        code: "sim".into(),
        name: "模拟县".into(),
        categories: CATEGORIES
            .iter()
            .map(|(c, zh, _)| category(c, zh))
            .collect(),
        grid_units,
        fallback: "center".into(),
        ..RegionData::default()
    });

    // --- background ------------------------------------------------------------------------
    let village_w = lognormal_weights(&mut rng, villages.len(), p.village_sigma);
    let share_sum: f64 = CATEGORIES.iter().map(|c| c.2).sum();
    let factors: Vec<f64> = (0..p.days)
        .map(|i| {
            let day = p.first_day + i as i64;
            let season = 1.0 + p.season * (std::f64::consts::TAU * day as f64 / 365.25).sin();
            day_factor(p, calendar.class(day)) * season
        })
        .collect();
    let mut series = HashMap::new();
    let mut rates = HashMap::new();
    let mut background = 0u64;
    for (cat, _, share) in CATEGORIES {
        let cell_w = lognormal_weights(&mut rng, villages.len(), p.cell_sigma);
        for (v, (vcode, _)) in villages.iter().enumerate() {
            let mu = p.weekday_cases * share / share_sum * village_w[v] / villages.len() as f64
                * cell_w[v];
            let counts: Vec<u32> = factors.iter().map(|f| poisson(&mut rng, mu * f)).collect();
            background += counts.iter().map(|c| u64::from(*c)).sum::<u64>();
            rates.insert((cat.to_string(), vcode.clone()), mu);
            series.insert((cat.to_string(), vcode.clone()), counts);
        }
    }

    // --- clusters --------------------------------------------------------------------------
    let mut clusters = Vec::new();
    let last_start = p
        .days
        .saturating_sub(p.cluster_days.1 + 1)
        .max(p.cluster_from);
    for _ in 0..p.clusters {
        let cat = CATEGORIES[rng.gen_range(0..CATEGORIES.len())].0.to_string();
        let center = rng.gen_range(0..villages.len());
        let k = rng.gen_range(p.cluster_neighbours.0..=p.cluster_neighbours.1);
        let duration = rng.gen_range(p.cluster_days.0..=p.cluster_days.1);
        let cases = rng.gen_range(p.cluster_cases.0..=p.cluster_cases.1);
        let start = rng.gen_range(p.cluster_from..=last_start);
        let c = villages[center].1;
        let mut near: Vec<(f64, usize)> = (0..villages.len())
            .filter(|v| *v != center)
            .map(|v| {
                let (x, y) = villages[v].1;
                ((x - c.0).hypot(y - c.1), v)
            })
            .collect();
        near.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        let members: Vec<usize> = std::iter::once(center)
            .chain(near.iter().take(k).map(|n| n.1))
            .collect();
        let mut cells: HashMap<(usize, usize), u32> = HashMap::new();
        for _ in 0..cases {
            let z = if k == 0 || rng.gen_bool(0.5) {
                center
            } else {
                members[rng.gen_range(1..members.len())]
            };
            let d = (start + rng.gen_range(0..duration)).min(p.days - 1);
            *cells.entry((z, d)).or_default() += 1;
        }
        let mut cells: Vec<((usize, usize), u32)> = cells.into_iter().collect();
        cells.sort_unstable();
        for ((z, d), n) in &cells {
            if let Some(s) = series.get_mut(&(cat.clone(), villages[*z].0.clone())) {
                s[*d] += n;
            }
        }
        clusters.push(Injected {
            category: cat,
            villages: members.iter().map(|z| villages[*z].0.clone()).collect(),
            start: p.first_day + start as i64,
            end: p.first_day + (start + duration - 1).min(p.days - 1) as i64,
            cases,
            cells: cells
                .into_iter()
                .map(|((z, d), n)| (villages[z].0.clone(), p.first_day + d as i64, n))
                .collect(),
        });
    }
    clusters.sort_by_key(|c| c.start);

    Sim {
        region,
        calendar,
        cube: run::Cube {
            first_day: p.first_day,
            days: p.days,
            series,
        },
        clusters,
        background,
        parent,
        rates,
    }
}

impl Sim {
    /// County cases per day (background and injected).
    pub fn daily_totals(&self) -> Vec<u64> {
        let mut out = vec![0u64; self.cube.days];
        for s in self.cube.series.values() {
            for (o, v) in out.iter_mut().zip(s) {
                *o += u64::from(*v);
            }
        }
        out
    }

    /// Whether grid unit `code` is village `v` or its township.
    fn covers(&self, code: &str, v: &str) -> bool {
        code == v || self.parent.get(v).is_some_and(|t| t == code)
    }

    /// Whether `alert` is about cluster `c`'s category and place.
    fn on_cluster(&self, alert: &crate::store::alerts::NewAlert, c: &Injected) -> bool {
        alert.category_code.as_deref() == Some(c.category.as_str())
            && alert
                .grid_codes
                .iter()
                .any(|g| c.villages.iter().any(|v| self.covers(g, v)))
    }
}

/// One method's (or combination's) figures over the evaluated days.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub label: String,
    /// First detection day per cluster (index as in [`Sim::clusters`]).
    pub first: Vec<Option<i64>>,
    /// Distinct alert keys raised.
    pub keys: usize,
    /// Keys that detect no cluster.
    pub false_alarms: usize,
    /// Of those, keys on an injected cluster that ended at most [`ECHO_DAYS`] before.
    pub echoes: usize,
    pub ticks: Vec<Duration>,
    pub total: Duration,
}

/// How long after a cluster's end an alert on it counts as an echo rather than news.
pub const ECHO_DAYS: i64 = 14;

/// Runs `detect` with `methods` on every day from `from` (a day index) to the cube's end.
pub fn evaluate(sim: &Sim, methods: &[&str], replicas: u32, from: usize) -> Outcome {
    let settings = EarlyWarning {
        methods: methods.iter().map(|m| m.to_string()).collect(),
        replicas,
        ..EarlyWarning::default()
    };
    let mut first = vec![None; sim.clusters.len()];
    // key → (detected a cluster, echo of one)
    let mut keys: HashMap<String, (bool, bool)> = HashMap::new();
    let mut ticks = Vec::new();
    let mut emitted: Vec<crate::store::alerts::NewAlert> = Vec::new();
    let all = Instant::now();
    for i in from..sim.cube.days {
        let day = sim.cube.first_day + i as i64;
        let t0 = Instant::now();
        let mut alerts = run::detect(&sim.region, &sim.cube, day, &settings, &sim.calendar);
        ticks.push(t0.elapsed());
        // As the live job: an alert continuing an earlier one keeps its key.
        run::carry_keys(&emitted, &mut alerts);
        for a in &alerts {
            match emitted.iter_mut().find(|o| o.key == a.key) {
                Some(o) => o.end_day = a.end_day.clone(),
                None => emitted.push(a.clone()),
            }
        }
        for a in &alerts {
            let mut hit = false;
            let mut echo = false;
            for (ci, c) in sim.clusters.iter().enumerate() {
                if !sim.on_cluster(a, c) {
                    continue;
                }
                if (c.start..=c.end + 1).contains(&day) {
                    hit = true;
                    if first[ci].is_none() {
                        first[ci] = Some(day);
                    }
                } else if day > c.end && day <= c.end + ECHO_DAYS {
                    echo = true;
                }
            }
            let e = keys.entry(a.key.clone()).or_insert((false, false));
            e.0 |= hit;
            e.1 |= echo;
        }
    }
    let total = all.elapsed();
    let false_alarms = keys.values().filter(|(hit, _)| !hit).count();
    let echoes = keys.values().filter(|(hit, echo)| !hit && *echo).count();
    Outcome {
        label: methods.join("+"),
        first,
        keys: keys.len(),
        false_alarms,
        echoes,
        ticks,
        total,
    }
}

fn mean(v: &[f64]) -> f64 {
    if v.is_empty() {
        f64::NAN
    } else {
        v.iter().sum::<f64>() / v.len() as f64
    }
}

fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// The table row of one outcome.
fn row(sim: &Sim, o: &Outcome, years: f64, categories: f64) -> String {
    let n = sim.clusters.len().max(1) as f64;
    let delays: Vec<f64> = sim
        .clusters
        .iter()
        .zip(&o.first)
        .filter_map(|(c, f)| f.map(|d| (d - c.start) as f64))
        .collect();
    let within_one = delays.iter().filter(|d| **d <= 1.0).count();
    let ms: Vec<f64> = o.ticks.iter().map(|d| d.as_secs_f64() * 1e3).collect();
    let max_ms = ms.iter().copied().fold(0.0, f64::max);
    let per = |x: usize| x as f64 / years / categories;
    format!(
        "{:<13} {:>5.1}% {:>6.1}% {:>5.2} {:>5.1} {:>5} {:>4} {:>7.2} {:>7.2} {:>8.1} {:>8.1} {:>7.1}",
        o.label,
        100.0 * delays.len() as f64 / n,
        100.0 * within_one as f64 / n,
        mean(&delays),
        median(&delays),
        o.keys,
        o.false_alarms,
        per(o.false_alarms),
        per(o.false_alarms - o.echoes),
        mean(&ms),
        max_ms,
        o.total.as_secs_f64(),
    )
}

/// Detected share per cluster size, per neighbours k and per duration.
fn breakdown(sim: &Sim, o: &Outcome) -> String {
    let share = |pick: &dyn Fn(&Injected) -> bool| {
        let all: Vec<usize> = (0..sim.clusters.len())
            .filter(|i| pick(&sim.clusters[*i]))
            .collect();
        let hit = all.iter().filter(|i| o.first[**i].is_some()).count();
        format!("{hit:>2}/{:<2}", all.len())
    };
    let mut cols = Vec::new();
    for (a, b) in [(6, 10), (11, 15), (16, 20)] {
        cols.push(share(&|c: &Injected| (a..=b).contains(&c.cases)));
    }
    for k in 0..=3 {
        cols.push(share(&|c: &Injected| c.villages.len() == k + 1));
    }
    for d in 1..=3 {
        cols.push(share(&|c: &Injected| c.end - c.start + 1 == d));
    }
    format!("{:<13} {}", o.label, cols.join(" "))
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[test]
#[ignore = "a benchmark: run with --release --ignored --nocapture"]
fn early_warning_benchmark() {
    let replicas: u32 = env_or("M110_BENCH_REPLICAS", EarlyWarning::default().replicas);
    let p = SimParams {
        seed: env_or("M110_BENCH_SEED", SimParams::default().seed),
        ..SimParams::default()
    };
    let t0 = Instant::now();
    let sim = simulate(&p);
    let generated = t0.elapsed();
    let totals = sim.daily_totals();
    let tot: Vec<f64> = totals.iter().map(|t| *t as f64).collect();
    let injected: u32 = sim.clusters.iter().map(|c| c.cases).sum();
    let rates: Vec<f64> = sim.rates.values().copied().collect();
    let from = p.cluster_from;
    let eval_days = p.days - from;
    let years = eval_days as f64 / 365.0;
    let categories = CATEGORIES.len() as f64;

    eprintln!(
        "\n== early-warning benchmark (profile: {}, scan replicas {replicas}, seed {}) ==",
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        },
        p.seed
    );
    eprintln!(
        "region: {} townships × {} villages = {} villages, spacing {} km ±{} km; {} categories",
        p.townships,
        p.villages_per_township,
        p.townships * p.villages_per_township,
        p.spacing_km,
        p.jitter_km,
        CATEGORIES.len()
    );
    eprintln!(
        "counts: {} days from day {} ({} series); county cases/day mean {:.1}, min {}, max {}; \
         cell μ (working day) median {:.3}, max {:.3}; background {}, injected {injected}; \
         generated in {:.2} s",
        p.days,
        p.first_day,
        sim.cube.series.len(),
        mean(&tot),
        totals.iter().min().unwrap_or(&0),
        totals.iter().max().unwrap_or(&0),
        median(&rates),
        rates.iter().copied().fold(0.0, f64::max),
        sim.background,
        generated.as_secs_f64()
    );
    eprintln!(
        "clusters: {} (cases {}..={}, days {}..={}, k {}..={}), starts from day index {from}; \
         evaluated days {from}..{} ({eval_days} days = {years:.2} y)",
        sim.clusters.len(),
        p.cluster_cases.0,
        p.cluster_cases.1,
        p.cluster_days.0,
        p.cluster_days.1,
        p.cluster_neighbours.0,
        p.cluster_neighbours.1,
        p.days
    );

    let runs: Vec<Vec<&str>> = vec![
        vec!["ears_c1"],
        vec!["ears_c2"],
        vec!["ears_c3"],
        vec!["cusum"],
        vec!["scan"],
        vec!["ears_c2", "scan"],
        vec!["ears_c3", "scan"],
    ];
    // M110_BENCH_ONLY=scan,ears_c2+scan runs only those rows.
    let only: Option<Vec<String>> = std::env::var("M110_BENCH_ONLY")
        .ok()
        .map(|v| v.split(',').map(str::to_string).collect());
    let runs: Vec<Vec<&str>> = runs
        .into_iter()
        .filter(|r| only.as_ref().is_none_or(|o| o.contains(&r.join("+"))))
        .collect();
    let mut outcomes = Vec::new();
    for methods in &runs {
        let o = evaluate(&sim, methods, replicas, from);
        eprintln!("  ran {:<13} in {:.1} s", o.label, o.total.as_secs_f64());
        outcomes.push(o);
    }

    eprintln!(
        "\n{:<13} {:>6} {:>7} {:>5} {:>5} {:>5} {:>4} {:>7} {:>7} {:>8} {:>8} {:>7}",
        "method",
        "found",
        "≤1 day",
        "mean",
        "med",
        "keys",
        "FA",
        "FA/c/y",
        "FA-echo",
        "tick ms",
        "max ms",
        "year s"
    );
    for o in &outcomes {
        eprintln!("{}", row(&sim, o, years, categories));
    }
    eprintln!(
        "(found: clusters detected on a day in [start, end+1]; ≤1 day: detected by start+1; \
         mean/med: days from start to first detection; keys: distinct alerts; FA: keys that \
         detect no cluster; FA/c/y: per category per year; FA-echo: without alerts on a cluster \
         that ended ≤{ECHO_DAYS} days before; tick: one detect call; year s: all {eval_days} ticks)"
    );
    eprintln!(
        "\ndetected by cluster: {:<20} | {:<23} | duration 1d 2d 3d",
        "cases 6-10 11-15 16-20", "villages 1 2 3 4"
    );
    for o in &outcomes {
        eprintln!("{}", breakdown(&sim, o));
    }
    eprintln!("\nclusters (category, villages, days, cases → first detection day offset):");
    for (i, c) in sim.clusters.iter().enumerate() {
        let marks: Vec<String> = outcomes
            .iter()
            .map(|o| {
                o.first[i]
                    .map(|d| format!("{}", d - c.start))
                    .unwrap_or_else(|| "-".into())
            })
            .collect();
        let base: f64 = c
            .villages
            .iter()
            .map(|v| sim.rates[&(c.category.clone(), v.clone())])
            .sum();
        eprintln!(
            "  {:>2} {:<10} {} v × {} d, {:>2} cases (bg μ {:.2}/d) → {}",
            i,
            c.category,
            c.villages.len(),
            c.end - c.start + 1,
            c.cases,
            base,
            marks.join(" ")
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> SimParams {
        SimParams {
            days: 120,
            clusters: 10,
            ..SimParams::default()
        }
    }

    #[test]
    fn the_generator_is_deterministic_and_in_range() {
        let p = small();
        let a = simulate(&p);
        let b = simulate(&p);
        assert_eq!(a.cube.series, b.cube.series);
        assert_eq!(a.clusters, b.clusters);
        let c = simulate(&SimParams {
            seed: 7,
            ..p.clone()
        });
        assert_ne!(a.cube.series, c.cube.series);

        // The region: 20 townships and 300 villages, 8 categories × 300 series.
        assert_eq!(a.region.grid_units.len(), 320);
        assert_eq!(a.cube.series.len(), 8 * 300);
        let totals = a.daily_totals();
        let m = totals.iter().sum::<u64>() as f64 / totals.len() as f64;
        assert!((60.0..=150.0).contains(&m), "{m} cases a day");
        // Weekends are quieter than working days.
        let by = |weekend: bool| {
            let v: Vec<f64> = (0..p.days)
                .filter(|i| matches!(a.calendar.class(p.first_day + *i as i64), 5 | 6) == weekend)
                .map(|i| totals[i] as f64)
                .collect();
            mean(&v)
        };
        assert!(by(true) < 0.8 * by(false), "{} vs {}", by(true), by(false));

        // The injected cases are in the counts, on the recorded cells and days.
        let injected: u64 = a.clusters.iter().map(|c| u64::from(c.cases)).sum();
        assert_eq!(totals.iter().sum::<u64>(), a.background + injected);
        for c in &a.clusters {
            assert_eq!(c.cells.iter().map(|x| x.2).sum::<u32>(), c.cases);
            assert!((6..=20).contains(&c.cases));
            assert!((1..=4).contains(&c.villages.len()));
            assert!(c.start >= p.first_day + 60 && c.end < p.first_day + p.days as i64);
            for (v, day, n) in &c.cells {
                assert!(c.villages.contains(v) && (c.start..=c.end).contains(day));
                let s = &a.cube.series[&(c.category.clone(), v.clone())];
                assert!(s[(day - p.first_day) as usize] >= *n);
            }
            // The neighbours are the center's nearest: within a few grid steps.
            let at = |code: &str| a.region.grid(code).and_then(|g| g.centroid).unwrap();
            let c0 = at(&c.villages[0]);
            for v in &c.villages[1..] {
                let q = at(v);
                let km = ((q.lat - c0.lat) * 111.19).hypot((q.lon - c0.lon) * 98.9);
                assert!(km < 5.5, "{v} is {km} km from the center");
            }
        }
    }

    #[test]
    fn a_cluster_is_matched_by_its_village_or_township() {
        let sim = simulate(&small());
        let c = &sim.clusters[0];
        let township = sim.parent[&c.villages[0]].clone();
        let alert = |cat: &str, code: &str| crate::store::alerts::NewAlert {
            key: "k".into(),
            method: "ears_c2".into(),
            category_code: Some(cat.into()),
            area_code: Some(code.into()),
            grid_codes: vec![code.into()],
            start_day: String::new(),
            end_day: String::new(),
            detected_on: String::new(),
            observed: 0,
            expected: 0.0,
            statistic: 0.0,
            p_value: None,
            recurrence_days: None,
            curve: serde_json::Value::Null,
            deliver_to: None,
        };
        assert!(sim.on_cluster(&alert(&c.category, &c.villages[0]), c));
        assert!(sim.on_cluster(&alert(&c.category, &township), c));
        let other = if c.category == "roads" {
            "water"
        } else {
            "roads"
        };
        assert!(!sim.on_cluster(&alert(other, &c.villages[0]), c));
        let far = sim
            .parent
            .iter()
            .find(|(v, t)| **t != township && !c.villages.contains(v))
            .map(|(v, _)| v.clone())
            .unwrap();
        assert!(!sim.on_cluster(&alert(&c.category, &far), c));
    }
}
