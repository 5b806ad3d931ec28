/*!
The prospective space-time permutation scan statistic (Kulldorff, Heffernan, Hartman, Assunção,
Mostashari 2005, "A space–time permutation scan statistic for disease outbreak detection", PLoS
Medicine 2(3): e59) — the method of SaTScan's prospective surveillance.

**Data.** Case counts `c_zd` per location z (grid unit) and day d of a study window of D days
whose last day is today. `C_z = Σ_d c_zd`, `C_d = Σ_z c_zd`, `C = Σ c_zd`.

**Null model.** Where cases happen and when they happen are independent: the expected count of
a cell is `μ_zd = C_z · C_d / C`. Neither a population nor a baseline is needed, and a place's
usual share and a day's usual volume (a publicity campaign, a holiday) are both conditioned
away; only their interaction — *more than usual here, lately* — is news.

**Cylinders.** A base (a zone of locations) × a time interval. Prospective: every interval
ends today and lasts 1 ..= [`ScanParams::max_days`] days (so an alert is about now, not about a
cluster that ended last week). Zones:

- circles: each location with coordinates is a center; its zone grows by adding the nearest
  located locations one at a time (ties by index) while the zone holds at most
  [`ScanParams::max_share`] of the window's cases (SaTScan's "maximum spatial cluster size in %
  of cases", default 50%) and, if set, lies within [`ScanParams::max_radius_km`];
- adjacency fallback, when some locations have no coordinates: each such location alone, and
  each *family* (all locations with the same parent grid unit) as one zone.

**Score.** For a cylinder A with observed `c_A` and expected `μ_A = Σ_{cells} μ_zd`, the Poisson
generalized likelihood ratio
`LLR = c_A ln(c_A/μ_A) + (C − c_A) ln((C − c_A)/(C − μ_A))` when `c_A > μ_A`, else 0.
The most likely cluster maximises it. Since `μ_zd` factorises,
`μ_A = (Σ_{z∈Z} C_z) · (Σ_{d∈W} C_d) / C`.

**Significance.** Monte Carlo: the case dates are shuffled among the cases (each location keeps
its total, each day keeps its total — the null's sufficient statistics), the maximum LLR is
recomputed for each of R replicas (default 999), and
`p = (1 + #{replicas with max LLR ≥ observed}) / (R + 1)`.
**Recurrence interval** (SaTScan's measure for repeated analyses): with `N` analyses a day,
`RI = 1 / (p · N)` days — how often a cluster this strong would appear by chance under daily
surveillance. Secondary clusters are the next best cylinders not overlapping a reported one in
space, with p-values against the same replica maxima (as SaTScan).

**Efficiency.** Zones are chains: a circle's zones are the prefixes of its center's neighbor
order, so one pass over a chain adds one location at a time and updates the observed counts of
all durations (per-location suffix sums over the last days): O(1) per location per duration.
`μ_A` depends only on location and day totals, which the permutation keeps, so it is the same
in every replica; a replica's counts can only matter where the observed count reaches the
smallest count that could beat the weakest reported LLR, which is precomputed per cylinder as an
integer threshold (binary search, LLR increases with `c_A` above `μ_A`). A replica is then
integer additions and comparisons, and stops early once it has beaten the primary cluster.
Only the cases of the last `max_days` days need new dates: a partial Fisher–Yates shuffle draws
their cases (uniform, so exactly the permutation's distribution of those cells).

Measured (ignored test `timing_of_a_county`: 300 random locations in 60 × 60 km, 30 days,
Poisson 0.5 per cell ≈ 4 500 cases, 44 880 zones, 7 durations, 999 replicas, one thread, a
2-core build machine): 0.44 s with optimisations (release), 7.9 s in the unoptimised test
profile. One thread on purpose: the daily run shares two cores with the server.
*/

use std::collections::BTreeMap;
use std::fmt;

use rand::Rng;
use rand::SeedableRng;
use rand::rngs::StdRng;

/// A location (grid unit) of the scan.
#[derive(Debug, Clone, PartialEq)]
pub struct Location {
    /// Planar coordinates in km ([`project`] turns latitude/longitude into them); `None` when
    /// the unit has no position, which puts the scan in the adjacency fallback for it.
    pub xy: Option<(f64, f64)>,
    /// The parent unit's key (any id), for the adjacency fallback's families.
    pub parent: Option<i64>,
}

/// Parameters of the scan.
#[derive(Debug, Clone, PartialEq)]
pub struct ScanParams {
    /// Largest share of the window's cases a zone may hold (SaTScan default 50%).
    pub max_share: f64,
    /// Longest cluster duration in days (ending today).
    pub max_days: usize,
    /// Largest circle radius in km (`None`: only `max_share` limits).
    pub max_radius_km: Option<f64>,
    /// Monte Carlo replicas (999: p-values down to 0.001; SaTScan's default).
    pub replicas: usize,
    /// Seed of the permutations.
    pub seed: u64,
    /// Most clusters reported (the primary and the non-overlapping secondaries).
    pub max_clusters: usize,
    /// Analyses per day, for the recurrence interval (1: the daily run).
    pub analyses_per_day: f64,
}

impl Default for ScanParams {
    fn default() -> ScanParams {
        ScanParams {
            max_share: 0.5,
            // A week: a civic problem older than that is known, not emerging.
            max_days: 7,
            max_radius_km: None,
            replicas: 999,
            seed: 110,
            max_clusters: 3,
            analyses_per_day: 1.0,
        }
    }
}

/// A space-time cluster.
#[derive(Debug, Clone, PartialEq)]
pub struct Cluster {
    /// Indices of its locations, the center first, then nearest first (families: by index).
    pub locations: Vec<usize>,
    /// Index of the center location (a family's lowest index).
    pub center: usize,
    /// First day (index into the window).
    pub start_day: usize,
    /// Last day (index into the window: always the last day, the scan is prospective).
    pub end_day: usize,
    /// Observed cases in the cylinder.
    pub observed: u64,
    /// Expected cases in the cylinder under the null.
    pub expected: f64,
    /// Log likelihood ratio.
    pub llr: f64,
    /// Monte Carlo p-value.
    pub p_value: f64,
    /// Recurrence interval in days (`1 / (p · analyses_per_day)`).
    pub recurrence_days: f64,
}

/// Input the scan cannot run on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScanError {
    /// `counts` has a different number of rows than there are locations.
    Rows {
        /// Locations given.
        locations: usize,
        /// Count rows given.
        rows: usize,
    },
    /// A row of `counts` has a different length than the first.
    Ragged {
        /// The row (location index).
        row: usize,
        /// Its length.
        len: usize,
        /// The first row's length (the window).
        days: usize,
    },
    /// No days in the window.
    Empty,
}

impl fmt::Display for ScanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScanError::Rows { locations, rows } => {
                write!(f, "{rows} count rows for {locations} locations")
            }
            ScanError::Ragged { row, len, days } => {
                write!(f, "count row {row} has {len} days, the window {days}")
            }
            ScanError::Empty => write!(f, "the window has no days"),
        }
    }
}

impl std::error::Error for ScanError {}

/// Mean Earth radius (km, IUGG).
const EARTH_KM: f64 = 6371.0088;

/// Latitude/longitude (degrees) to planar km: equirectangular about the points' mean latitude
/// (`x = R·Δλ·cos φ̄`, `y = R·Δφ`). Within a county (≤ 100 km) the distance error is well under
/// 1%, far below what matters for "which units are nearest".
pub fn project(latlon: &[Option<(f64, f64)>]) -> Vec<Option<(f64, f64)>> {
    let known: Vec<(f64, f64)> = latlon.iter().flatten().copied().collect();
    if known.is_empty() {
        return vec![None; latlon.len()];
    }
    let n = known.len() as f64;
    let lat0 = known.iter().map(|p| p.0).sum::<f64>() / n;
    let lon0 = known.iter().map(|p| p.1).sum::<f64>() / n;
    let cos = lat0.to_radians().cos();
    latlon
        .iter()
        .map(|p| {
            p.map(|(lat, lon)| {
                (
                    EARTH_KM * (lon - lon0).to_radians() * cos,
                    EARTH_KM * (lat - lat0).to_radians(),
                )
            })
        })
        .collect()
}

/// The Poisson log likelihood ratio of a cylinder with `c` observed and `mu` expected cases out
/// of `total` (0 unless `c > mu`).
pub fn llr(c: f64, mu: f64, total: f64) -> f64 {
    if c.partial_cmp(&mu) != Some(std::cmp::Ordering::Greater) {
        return 0.0;
    }
    let rest = total - c;
    let mut v = c * (c / mu).ln();
    if rest > 0.0 {
        v += rest * (rest / (total - mu)).ln();
    }
    v
}

/// The expected counts `μ_zd = C_z · C_d / C` (all 0 when there are no cases).
pub fn expected_counts(counts: &[Vec<u32>]) -> Vec<Vec<f64>> {
    let days = counts.first().map_or(0, Vec::len);
    let rows: Vec<f64> = counts
        .iter()
        .map(|r| r.iter().map(|&c| f64::from(c)).sum())
        .collect();
    let cols: Vec<f64> = (0..days)
        .map(|d| {
            counts
                .iter()
                .map(|r| r.get(d).map_or(0.0, |&c| f64::from(c)))
                .sum()
        })
        .collect();
    let total: f64 = rows.iter().sum();
    rows.iter()
        .map(|&rz| {
            cols.iter()
                .map(|&cd| if total > 0.0 { rz * cd / total } else { 0.0 })
                .collect()
        })
        .collect()
}

/// The full date permutation of the null: every case keeps its location and gets a date drawn
/// without replacement from all case dates; location and day totals are kept. (The scan itself
/// only redraws the dates of the last days, which has the same distribution there.)
pub fn permute(counts: &[Vec<u32>], rng: &mut StdRng) -> Vec<Vec<u32>> {
    let days = counts.first().map_or(0, Vec::len);
    let mut dates: Vec<usize> = Vec::new();
    let mut locs: Vec<usize> = Vec::new();
    for (z, row) in counts.iter().enumerate() {
        for (d, &c) in row.iter().enumerate() {
            for _ in 0..c {
                dates.push(d);
                locs.push(z);
            }
        }
    }
    // Fisher–Yates.
    for i in (1..dates.len()).rev() {
        let j = rng.gen_range(0..=i);
        dates.swap(i, j);
    }
    let mut out = vec![vec![0u32; days]; counts.len()];
    for (z, d) in locs.into_iter().zip(dates) {
        out[z][d] += 1;
    }
    out
}

/// One chain of zones: the prefixes `members[..len]` for `len ≥ first` are zones.
#[derive(Debug, Clone)]
struct Chain {
    center: usize,
    members: Vec<u32>,
    first: usize,
}

/// The zones of the scan (fixed for the study: location totals are kept by the permutation).
fn zones(locations: &[Location], loc_totals: &[u64], total: u64, p: &ScanParams) -> Vec<Chain> {
    let limit = p.max_share * total as f64;
    let fits = |cases: u64| cases as f64 <= limit;
    let located: Vec<(usize, (f64, f64))> = locations
        .iter()
        .enumerate()
        .filter_map(|(i, l)| {
            l.xy.filter(|(x, y)| x.is_finite() && y.is_finite())
                .map(|xy| (i, xy))
        })
        .collect();
    let mut chains = Vec::new();
    let max_r2 = p.max_radius_km.map(|r| r * r);
    for &(c, (cx, cy)) in &located {
        let mut order: Vec<(f64, usize)> = located
            .iter()
            .map(|&(i, (x, y))| ((x - cx).powi(2) + (y - cy).powi(2), i))
            .collect();
        // Distances are finite: total order; ties by index keep the zones reproducible, and the
        // center comes first even when another unit shares its coordinates.
        order.sort_by(|a, b| {
            a.0.total_cmp(&b.0)
                .then((a.1 != c).cmp(&(b.1 != c)))
                .then(a.1.cmp(&b.1))
        });
        let mut members = Vec::new();
        let mut cases = 0u64;
        for (d2, i) in order {
            if max_r2.is_some_and(|r2| d2 > r2) || !fits(cases + loc_totals[i]) {
                break;
            }
            cases += loc_totals[i];
            members.push(i as u32);
        }
        if !members.is_empty() {
            chains.push(Chain {
                center: c,
                members,
                first: 1,
            });
        }
    }
    if located.len() < locations.len() {
        for (i, l) in locations.iter().enumerate() {
            if l.xy.is_none_or(|(x, y)| !x.is_finite() || !y.is_finite()) && fits(loc_totals[i]) {
                chains.push(Chain {
                    center: i,
                    members: vec![i as u32],
                    first: 1,
                });
            }
        }
        let mut families: BTreeMap<i64, Vec<u32>> = BTreeMap::new();
        for (i, l) in locations.iter().enumerate() {
            if let Some(parent) = l.parent {
                families.entry(parent).or_default().push(i as u32);
            }
        }
        for members in families.into_values() {
            let cases: u64 = members.iter().map(|&i| loc_totals[i as usize]).sum();
            if members.len() >= 2 && fits(cases) {
                let first = members.len();
                chains.push(Chain {
                    center: members[0] as usize,
                    members,
                    first,
                });
            }
        }
    }
    chains
}

/// The scan's fixed data: shape, totals, zones.
struct Study<'a> {
    n: usize,
    /// Days in the window.
    days: usize,
    /// Durations considered: 1 ..= w_max.
    w_max: usize,
    total: u64,
    loc_totals: Vec<u64>,
    /// `recent_totals[w − 1]` = cases of the last w days.
    recent_totals: Vec<u64>,
    /// The dates (offset, 0 = today) of the cases of the last `w_max` days, one per case.
    recent_dates: Vec<u32>,
    chains: Vec<Chain>,
    p: &'a ScanParams,
}

impl<'a> Study<'a> {
    /// Checks the shape and builds the fixed data; `None` when there is nothing to scan (no
    /// cases, no clusters wanted).
    fn new(
        locations: &[Location],
        counts: &[Vec<u32>],
        p: &'a ScanParams,
    ) -> Result<Option<Study<'a>>, ScanError> {
        if counts.len() != locations.len() {
            return Err(ScanError::Rows {
                locations: locations.len(),
                rows: counts.len(),
            });
        }
        let days = counts.first().map_or(0, Vec::len);
        if days == 0 {
            return Err(ScanError::Empty);
        }
        if let Some((row, r)) = counts.iter().enumerate().find(|(_, r)| r.len() != days) {
            return Err(ScanError::Ragged {
                row,
                len: r.len(),
                days,
            });
        }
        let w_max = p.max_days.clamp(1, days);
        let loc_totals: Vec<u64> = counts
            .iter()
            .map(|r| r.iter().map(|&c| u64::from(c)).sum())
            .collect();
        let total: u64 = loc_totals.iter().sum();
        if total == 0 || p.max_clusters == 0 {
            return Ok(None);
        }
        let mut recent_dates: Vec<u32> = Vec::new();
        let mut recent_totals = vec![0u64; w_max];
        let mut acc = 0u64;
        for (o, t) in recent_totals.iter_mut().enumerate() {
            let day_total: u64 = counts.iter().map(|r| u64::from(r[days - 1 - o])).sum();
            recent_dates.extend(std::iter::repeat_n(o as u32, day_total as usize));
            acc += day_total;
            *t = acc;
        }
        let chains = zones(locations, &loc_totals, total, p);
        Ok(Some(Study {
            n: locations.len(),
            days,
            w_max,
            total,
            loc_totals,
            recent_totals,
            recent_dates,
            chains,
            p,
        }))
    }

    /// The observed suffix counts (see [`Study::suffix`]).
    fn observed_suffix(&self, counts: &[Vec<u32>]) -> Vec<u64> {
        let mut recent = vec![0u64; self.n * self.w_max];
        for (z, r) in counts.iter().enumerate() {
            for o in 0..self.w_max {
                recent[z * self.w_max + o] = u64::from(r[self.days - 1 - o]);
            }
        }
        let mut out = vec![0u64; self.n * self.w_max];
        self.suffix(&recent, &mut out);
        out
    }

    /// `suffix[z · w_max + w − 1]` = cases at z in the last w days, from per-day counts of the
    /// last days (`recent[z · w_max + o]`, o = 0 today).
    fn suffix(&self, recent: &[u64], out: &mut [u64]) {
        for z in 0..self.n {
            let mut acc = 0;
            for o in 0..self.w_max {
                acc += recent[z * self.w_max + o];
                out[z * self.w_max + o] = acc;
            }
        }
    }

    /// μ of zone cases `spatial` over the last `w` days.
    fn mu(&self, spatial: u64, w: usize) -> f64 {
        spatial as f64 * self.recent_totals[w - 1] as f64 / self.total as f64
    }

    /// Every zone's best duration on the observed data: `(llr, chain, len, w, observed)`.
    fn observed_zones(&self, suffix: &[u64]) -> Vec<(f64, usize, usize, usize, u64)> {
        let wm = self.w_max;
        let mut out = Vec::new();
        let mut acc = vec![0u64; wm];
        for (ci, chain) in self.chains.iter().enumerate() {
            acc.fill(0);
            let mut spatial = 0;
            for (m, &z) in chain.members.iter().enumerate() {
                let z = z as usize;
                spatial += self.loc_totals[z];
                for (a, s) in acc.iter_mut().zip(&suffix[z * wm..(z + 1) * wm]) {
                    *a += s;
                }
                if m + 1 < chain.first {
                    continue;
                }
                let mut best = (0.0, 0, 0);
                for (w, &c) in (1..=wm).zip(acc.iter()) {
                    let v = llr(c as f64, self.mu(spatial, w), self.total as f64);
                    if v > best.0 {
                        best = (v, w, c);
                    }
                }
                if best.0 > 0.0 {
                    out.push((best.0, ci, m + 1, best.1, best.2));
                }
            }
        }
        out
    }

    /// Per cylinder (chain order, prefix, duration) the smallest observed count whose LLR could
    /// reach `target` (`u64::MAX`: none can, the count is bounded by the zone's and the days'
    /// totals).
    fn thresholds(&self, target: f64) -> Vec<u64> {
        // Slightly below the target: a threshold must never skip a cylinder that ties it.
        let target = target - 1e-9 * target.abs().max(1.0);
        let total = self.total as f64;
        let mut out = Vec::new();
        for chain in &self.chains {
            let mut spatial = 0;
            for (m, &z) in chain.members.iter().enumerate() {
                spatial += self.loc_totals[z as usize];
                if m + 1 < chain.first {
                    continue;
                }
                for w in 1..=self.w_max {
                    let mu = self.mu(spatial, w);
                    let hi = spatial.min(self.recent_totals[w - 1]);
                    if llr(hi as f64, mu, total) < target {
                        out.push(u64::MAX);
                        continue;
                    }
                    // Smallest c in [floor(μ), hi] with llr ≥ target (llr increases above μ).
                    let (mut lo, mut up) = ((mu.floor() as u64).min(hi), hi);
                    while lo < up {
                        let mid = lo + (up - lo) / 2;
                        if llr(mid as f64, mu, total) >= target {
                            up = mid;
                        } else {
                            lo = mid + 1;
                        }
                    }
                    out.push(up);
                }
            }
        }
        out
    }

    /// The maximum LLR of one replica's suffix counts, counting only cylinders at or above
    /// their thresholds (others cannot reach the weakest reported cluster); stops once `stop`
    /// is reached. 0 when no cylinder passes.
    fn replica_max(&self, suffix: &[u64], thresholds: &[u64], stop: f64, acc: &mut [u64]) -> f64 {
        let wm = self.w_max;
        let total = self.total as f64;
        let mut best = 0.0f64;
        let mut idx = 0;
        for chain in &self.chains {
            acc.fill(0);
            let mut spatial = 0;
            for (m, &z) in chain.members.iter().enumerate() {
                let z = z as usize;
                spatial += self.loc_totals[z];
                for (a, s) in acc.iter_mut().zip(&suffix[z * wm..(z + 1) * wm]) {
                    *a += s;
                }
                if m + 1 < chain.first {
                    continue;
                }
                for (w, (&c, &thr)) in (1..=wm).zip(acc.iter().zip(&thresholds[idx..idx + wm])) {
                    if c >= thr {
                        best = best.max(llr(c as f64, self.mu(spatial, w), total));
                    }
                }
                idx += wm;
            }
            if best >= stop {
                return best;
            }
        }
        best
    }
}

/// Runs the prospective space-time permutation scan over `counts[z][d]` (location z of
/// `locations`, day d of the window; the last day is today). Returns the most likely cluster
/// and up to `max_clusters − 1` secondary clusters not overlapping it or each other in space,
/// strongest first; empty when no cylinder has more cases than expected.
pub fn scan(
    locations: &[Location],
    counts: &[Vec<u32>],
    p: &ScanParams,
) -> Result<Vec<Cluster>, ScanError> {
    let Some(study) = Study::new(locations, counts, p)? else {
        return Ok(Vec::new());
    };
    let (n, days) = (study.n, study.days);
    let suffix = study.observed_suffix(counts);
    let mut found = study.observed_zones(&suffix);
    // Strongest first; ties in a fixed order (chain, length, duration) for reproducibility.
    found.sort_by(|a, b| {
        b.0.total_cmp(&a.0)
            .then((a.1, a.2, a.3).cmp(&(b.1, b.2, b.3)))
    });
    let mut taken = vec![false; n];
    let mut picked = Vec::new();
    for &(v, ci, len, w, c) in &found {
        let members = &study.chains[ci].members[..len];
        if members.iter().any(|&z| taken[z as usize]) {
            continue;
        }
        for &z in members {
            taken[z as usize] = true;
        }
        picked.push((v, ci, len, w, c));
        if picked.len() == p.max_clusters {
            break;
        }
    }
    let Some(&(top, ..)) = picked.first() else {
        return Ok(Vec::new());
    };
    let weakest = picked.last().map_or(top, |c| c.0);
    let maxima = monte_carlo(&study, weakest, top);
    Ok(picked
        .into_iter()
        .map(|(v, ci, len, w, c)| {
            let chain = &study.chains[ci];
            let spatial: u64 = chain.members[..len]
                .iter()
                .map(|&z| study.loc_totals[z as usize])
                .sum();
            let beaten = maxima.iter().filter(|&&m| m >= v).count();
            let p_value = (1 + beaten) as f64 / (maxima.len() + 1) as f64;
            Cluster {
                locations: chain.members[..len].iter().map(|&z| z as usize).collect(),
                center: chain.center,
                start_day: days - w,
                end_day: days - 1,
                observed: c,
                expected: study.mu(spatial, w),
                llr: v,
                p_value,
                recurrence_days: 1.0 / (p_value * study.p.analyses_per_day.max(f64::MIN_POSITIVE)),
            }
        })
        .collect())
}

/// Gives the dates of the last days to cases drawn at random: a partial Fisher–Yates shuffle
/// of `cases` (each case's location; any order — the draw is uniform whatever it is) picks an
/// ordered sample for `dates`, which is the full permutation's distribution of those cells.
/// Writes `recent[z · w_max + o]`.
fn redate(cases: &mut [u32], dates: &[u32], w_max: usize, rng: &mut StdRng, recent: &mut [u64]) {
    recent.fill(0);
    let n_cases = cases.len();
    for (i, &o) in dates.iter().enumerate() {
        let j = rng.gen_range(i..n_cases);
        cases.swap(i, j);
        recent[cases[i] as usize * w_max + o as usize] += 1;
    }
}

/// The replicas' maximum LLRs (exact when ≥ `weakest`, else a smaller value; a replica stops
/// at `top`, which is all the p-values need).
fn monte_carlo(study: &Study<'_>, weakest: f64, top: f64) -> Vec<f64> {
    let p = study.p;
    let w_max = study.w_max;
    let thresholds = study.thresholds(weakest);
    let mut cases: Vec<u32> = Vec::with_capacity(study.total as usize);
    for (z, &t) in study.loc_totals.iter().enumerate() {
        cases.extend(std::iter::repeat_n(z as u32, t as usize));
    }
    let mut rng = StdRng::seed_from_u64(p.seed);
    let mut recent = vec![0u64; study.n * w_max];
    let mut suffix = vec![0u64; study.n * w_max];
    let mut acc = vec![0u64; w_max];
    let mut maxima = Vec::with_capacity(p.replicas);
    for _ in 0..p.replicas {
        redate(
            &mut cases,
            &study.recent_dates,
            w_max,
            &mut rng,
            &mut recent,
        );
        study.suffix(&recent, &mut suffix);
        maxima.push(study.replica_max(&suffix, &thresholds, top, &mut acc));
    }
    maxima
}

#[cfg(test)]
mod tests {
    use super::super::poisson;
    use super::*;

    fn at(x: f64, y: f64) -> Location {
        Location {
            xy: Some((x, y)),
            parent: None,
        }
    }

    /// A `side × side` grid of locations 1 km apart, `days` days of Poisson(`lambda`) counts.
    fn background(
        side: usize,
        days: usize,
        lambda: f64,
        seed: u64,
    ) -> (Vec<Location>, Vec<Vec<u32>>) {
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
        let (locs, counts) = background(6, 20, 1.5, 21);
        let p = ScanParams::default();
        let study = Study::new(&locs, &counts, &p).unwrap().unwrap();
        let none = vec![0u64; study.thresholds(1.0).len()];
        let mut rng = StdRng::seed_from_u64(2);
        let mut acc = vec![0u64; study.w_max];
        for weakest in [0.5, 2.0, 4.0, 6.0] {
            let thr = study.thresholds(weakest);
            for _ in 0..50 {
                let m = permute(&counts, &mut rng);
                let suffix = study.observed_suffix(&m);
                let exact = study.replica_max(&suffix, &none, f64::INFINITY, &mut acc);
                let pruned = study.replica_max(&suffix, &thr, f64::INFINITY, &mut acc);
                if exact >= weakest {
                    assert_eq!(pruned, exact);
                } else {
                    assert!(pruned < weakest);
                }
            }
        }
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
}
