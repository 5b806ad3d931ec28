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
recomputed for each of R replicas (999 here, 199 in a profile's default), and
`p_MC = (1 + #{replicas with max LLR ≥ observed}) / (R + 1)`. A Monte Carlo p cannot go below
`1 / (R + 1)`, so on its own it cannot tell a once-a-year cluster from a once-a-century one.
**Gumbel approximation** (as SaTScan, Abrams, Kleinman, Kulldorff 2006): the replica maxima are
fitted by moments with a Gumbel distribution (`β = s·√6/π`, `μ = m − γβ`) and
`p_G = 1 − exp(−exp(−(LLR − μ)/β))`. The reported p-value is `p_G` when the cluster's rank
(1 + replicas at least as strong) is below 10, `p_MC` otherwise — SaTScan's default p-value.
**Recurrence interval** (SaTScan's measure for repeated analyses): with `N` analyses a day,
`RI = 1 / (p · N)` days — how often a cluster this strong would appear by chance under daily
surveillance. Secondary clusters are the next best cylinders not overlapping a reported one in
space, with p-values against the same replica maxima (as SaTScan).

**Efficiency.** Zones are chains: a circle's zones are the prefixes of its center's neighbor
order, so one pass over a chain adds one location at a time and updates the observed counts of
all durations (per-location suffix sums over the last days): O(1) per location per duration.
`μ_A` depends only on location and day totals, which the permutation keeps, so it is the same
in every replica. Within a chain, a location without cases in the last days leaves the counts
as they were and raises μ, which lowers every LLR: only zones ending on a location with recent
cases can hold a replica's maximum, and a county's week of one category touches few villages.
A cylinder's count matters only from the smallest count that reaches half of the smallest
maximum seen so far, precomputed per cylinder (an integer threshold); a replica is then mostly
integer additions and comparisons, and exact (a replica below that level is rescanned in full).
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
    /// The p-value reported: the Gumbel approximation's when the cluster beats all but at most
    /// [`GUMBEL_RANK`] − 2 replicas (as SaTScan's default), else the Monte Carlo one.
    pub p_value: f64,
    /// Monte Carlo p-value `(1 + #{replica maxima ≥ LLR}) / (R + 1)`.
    pub p_monte_carlo: f64,
    /// Gumbel-approximation p-value (`None`: the replica maxima have no spread to fit).
    pub p_gumbel: Option<f64>,
    /// Recurrence interval in days (`1 / (p · analyses_per_day)`, p the reported p-value).
    pub recurrence_days: f64,
}

/// Fewest cases a cluster may hold: SaTScan's `MinimumCasesInHighRateClusters`, which it does not
/// take below 2 — one case in a quiet village is not a cluster, however unlikely its μ.
pub const MIN_CASES: u64 = 2;

/// A cluster whose Monte Carlo rank (1 + replicas at least as strong) is below this reports
/// the Gumbel p-value: SaTScan's `MIN_RANK_RPT_GUMBEL` in its default p-value reporting.
pub const GUMBEL_RANK: usize = 10;

/// The smallest p-value reported (SaTScan's floor, `0.1 / 10^(digits10 + 1)`): a cluster so
/// strong that the Gumbel tail underflows is "p < 1e-17".
pub const P_FLOOR: f64 = 1e-17;

/// The Gumbel (type I extreme value) distribution fitted by moments to the replicas' maximum
/// LLRs, as SaTScan does: `β = s·√6/π`, `μ = m − γ·β` (m, s the sample mean and standard
/// deviation, γ Euler's constant). The maximum of many weakly dependent cylinder statistics is
/// close to Gumbel, so its upper tail gives p-values far below the `1 / (R + 1)` a Monte Carlo
/// count can reach (Abrams, Kleinman, Kulldorff 2006).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Gumbel {
    pub mu: f64,
    pub beta: f64,
}

impl Gumbel {
    /// The fit to `maxima` (`None` with fewer than two values or no spread).
    pub fn fit(maxima: &[f64]) -> Option<Gumbel> {
        let n = maxima.len();
        if n < 2 {
            return None;
        }
        let mean = maxima.iter().sum::<f64>() / n as f64;
        let var = maxima.iter().map(|m| (m - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
        let beta = var.sqrt() * 6f64.sqrt() / std::f64::consts::PI;
        (beta.is_finite() && beta > 0.0).then_some(Gumbel {
            mu: mean - EULER_GAMMA * beta,
            beta,
        })
    }

    /// `P(max ≥ x) = 1 − exp(−exp(−(x − μ)/β))`, computed without cancellation
    /// (`−expm1(−e^{−z})`) and floored at [`P_FLOOR`].
    pub fn p_value(&self, x: f64) -> f64 {
        let z = (x - self.mu) / self.beta;
        (-(-(-z).exp()).exp_m1()).clamp(P_FLOOR, 1.0)
    }
}

/// Euler–Mascheroni constant γ (the Gumbel mean is μ + γβ).
const EULER_GAMMA: f64 = 0.577_215_664_901_532_9;

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
    /// Cylinders of the study: Σ over chains of its zones × `w_max`.
    cylinders: usize,
    /// Per chain: the index of its first cylinder in a thresholds vector.
    chain_offsets: Vec<usize>,
    /// Per chain: the cases of each prefix (`prefix_cases[chain][m]` = members `..=m`).
    prefix_cases: Vec<Vec<u64>>,
    /// Per location: the chains it is in and its rank there (its postings).
    postings: Vec<Vec<(u32, u32)>>,
    /// Per chain: where its words start in [`Scratch::bits`] (one more entry: the end).
    word_offsets: Vec<usize>,
    p: &'a ScanParams,
}

/// Per cylinder the smallest count that can reach a level (see [`Study::thresholds`]), and per
/// zone the smallest of its durations' — the count over all `w_max` days is the largest of a
/// zone's counts, so a zone whose count is below its minimum has no cylinder to score.
struct Cut {
    cylinder: Vec<u64>,
    zone: Vec<u64>,
}

impl Cut {
    fn new(cylinder: Vec<u64>, w_max: usize) -> Cut {
        let zone = cylinder
            .chunks(w_max)
            .map(|c| c.iter().copied().min().unwrap_or(u64::MAX))
            .collect();
        Cut { cylinder, zone }
    }
}

/// A replica's working memory, kept across replicas (no allocation per replica).
struct Scratch {
    /// Locations with cases in the last `w_max` days.
    active: Vec<u32>,
    /// Per chain: a bit per rank, set for its active members (cleared after each replica);
    /// chain `c`'s words are `bits[word_offsets[c]..word_offsets[c + 1]]`. Walking set bits
    /// gives the ranks in order without sorting.
    bits: Vec<u64>,
    /// Chains with an active member, and a flag per chain for it.
    touched: Vec<u32>,
    seen: Vec<bool>,
    /// Running counts per duration.
    acc: Vec<u64>,
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
        let mut chain_offsets = Vec::with_capacity(chains.len());
        let mut cylinders = 0;
        let mut prefix_cases = Vec::with_capacity(chains.len());
        let mut postings: Vec<Vec<(u32, u32)>> = vec![Vec::new(); locations.len()];
        for (ci, c) in chains.iter().enumerate() {
            chain_offsets.push(cylinders);
            cylinders += (c.members.len() + 1 - c.first) * w_max;
            let mut acc = 0;
            prefix_cases.push(
                c.members
                    .iter()
                    .map(|&z| {
                        acc += loc_totals[z as usize];
                        acc
                    })
                    .collect(),
            );
            for (rank, &z) in c.members.iter().enumerate() {
                postings[z as usize].push((ci as u32, rank as u32));
            }
        }
        let mut word_offsets = vec![0];
        for c in &chains {
            word_offsets.push(word_offsets[word_offsets.len() - 1] + c.members.len().div_ceil(64));
        }
        Ok(Some(Study {
            n: locations.len(),
            days,
            w_max,
            total,
            loc_totals,
            recent_totals,
            recent_dates,
            chains,
            cylinders,
            chain_offsets,
            prefix_cases,
            postings,
            word_offsets,
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
                for (w, &c) in (1..=wm).zip(acc.iter()).filter(|(_, c)| **c >= MIN_CASES) {
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
    ///
    /// For a count c the LLR falls as μ grows (∂LLR/∂μ = −c/μ + (C − c)/(C − μ) < 0 for c > μ),
    /// so each c has a largest μ at which it still reaches the target, `μ_max(c)`, increasing in
    /// c. One bisection per possible count (at most the window's recent cases) builds that
    /// table; a cylinder's threshold is then the first c with `μ_max(c) ≥ μ` — a binary search
    /// of floats, no logarithm per cylinder.
    fn thresholds(&self, target: f64) -> Vec<u64> {
        let total = self.total as f64;
        let max_c = self.recent_totals[self.w_max - 1];
        // μ_max[c] for c = 0..=max_c; 0 where c cannot reach the target at any μ > 0.
        let mu_max: Vec<f64> = (0..=max_c)
            .map(|c| {
                let c = c as f64;
                let reaches = |mu: f64| llr(c, mu, total) >= target;
                let (mut lo, mut hi) = (0.0f64, c);
                if !reaches(lo.max(f64::MIN_POSITIVE)) {
                    return 0.0;
                }
                for _ in 0..80 {
                    let mid = 0.5 * (lo + hi);
                    if reaches(mid) {
                        lo = mid;
                    } else {
                        hi = mid;
                    }
                }
                // The bracket's upper end, widened a hair: a threshold may be one too low
                // (one more exact evaluation), never one too high (a cylinder skipped).
                hi * (1.0 + 1e-9) + 1e-12
            })
            .collect();
        let mut out = Vec::with_capacity(self.cylinders);
        for chain in &self.chains {
            let mut spatial = 0;
            for (m, &z) in chain.members.iter().enumerate() {
                spatial += self.loc_totals[z as usize];
                if m + 1 < chain.first {
                    continue;
                }
                for w in 1..=self.w_max {
                    let mu = self.mu(spatial, w);
                    let hi = spatial.min(self.recent_totals[w - 1]) as usize;
                    let c = mu_max[..=hi]
                        .partition_point(|&m| m < mu)
                        .max(MIN_CASES as usize);
                    out.push(if c > hi { u64::MAX } else { c as u64 });
                }
            }
        }
        out
    }

    /// Working memory for [`Study::replica_max`].
    fn scratch(&self) -> Scratch {
        Scratch {
            active: Vec::with_capacity(self.n),
            bits: vec![0; *self.word_offsets.last().unwrap_or(&0)],
            touched: Vec::with_capacity(self.chains.len()),
            seen: vec![false; self.chains.len()],
            acc: vec![0; self.w_max],
        }
    }

    /// The maximum LLR of one replica's suffix counts, counting only cylinders at or above
    /// their thresholds (see [`Study::thresholds`]; others cannot reach the level they were
    /// made for): exact when it reaches that level, else a smaller value (0 when no cylinder
    /// passes).
    ///
    /// Along a chain a member without recent cases leaves the counts as they were and only adds
    /// to μ, which lowers every LLR: only the zones that end on a member with recent cases can
    /// hold the chain's maximum, and a chain without one has no cylinder above μ at all. So a
    /// replica starts from its locations with recent cases and their postings (chain, rank),
    /// marks those ranks in a bitset per chain, and walks each chain they touch over the set
    /// bits only, in rank order. In a county most villages have no case of a category in a
    /// week: a replica touches a small part of the zones.
    fn replica_max(&self, suffix: &[u64], cut: &Cut, s: &mut Scratch) -> f64 {
        let wm = self.w_max;
        let total = self.total as f64;
        s.active.clear();
        s.active
            .extend((0..self.n as u32).filter(|&z| suffix[z as usize * wm + wm - 1] > 0));
        for &z in &s.active {
            for &(ci, rank) in &self.postings[z as usize] {
                if !std::mem::replace(&mut s.seen[ci as usize], true) {
                    s.touched.push(ci);
                }
                s.bits[self.word_offsets[ci as usize] + rank as usize / 64] |= 1 << (rank % 64);
            }
        }
        let mut best = 0.0f64;
        for &ci in &s.touched {
            let ci = ci as usize;
            s.seen[ci] = false;
            let chain = &self.chains[ci];
            s.acc.fill(0);
            let mut score = |m: usize, acc: &[u64]| {
                let zone = self.chain_offsets[ci] / wm + m + 1 - chain.first;
                if acc[wm - 1] < cut.zone[zone] {
                    return;
                }
                let spatial = self.prefix_cases[ci][m];
                let idx = zone * wm;
                for (w, (&c, &thr)) in (1..=wm).zip(acc.iter().zip(&cut.cylinder[idx..idx + wm])) {
                    if c >= thr {
                        best = best.max(llr(c as f64, self.mu(spatial, w), total));
                    }
                }
            };
            let mut last = None;
            for (wi, word) in s.bits[self.word_offsets[ci]..self.word_offsets[ci + 1]]
                .iter_mut()
                .enumerate()
            {
                let mut bits = std::mem::take(word);
                while bits != 0 {
                    let rank = wi * 64 + bits.trailing_zeros() as usize;
                    bits &= bits - 1;
                    let z = chain.members[rank] as usize;
                    for (a, v) in s.acc.iter_mut().zip(&suffix[z * wm..(z + 1) * wm]) {
                        *a += v;
                    }
                    if rank + 1 >= chain.first {
                        score(rank, &s.acc);
                    }
                    last = Some(rank);
                }
            }
            // A family is one zone, the whole of it, whatever rank its last active member has.
            if last.is_some_and(|r| r + 1 < chain.first) {
                score(chain.first - 1, &s.acc);
            }
        }
        s.touched.clear();
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
    // Strongest first; among equal LLRs the fewest locations (as SaTScan): a village without a
    // case in the window adds nothing to c or μ, and must not widen the alert's area. Then a
    // fixed order (chain, length, duration) for reproducibility.
    found.sort_by(|a, b| {
        b.0.total_cmp(&a.0)
            .then(a.2.cmp(&b.2))
            .then((a.1, a.3).cmp(&(b.1, b.3)))
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
    if picked.is_empty() {
        return Ok(Vec::new());
    }
    let maxima = monte_carlo(&study);
    let gumbel = Gumbel::fit(&maxima);
    Ok(picked
        .into_iter()
        .map(|(v, ci, len, w, c)| {
            let chain = &study.chains[ci];
            let spatial: u64 = chain.members[..len]
                .iter()
                .map(|&z| study.loc_totals[z as usize])
                .sum();
            let beaten = maxima.iter().filter(|&&m| m >= v).count();
            let p_monte_carlo = (1 + beaten) as f64 / (maxima.len() + 1) as f64;
            let p_gumbel = gumbel.map(|g| g.p_value(v));
            let p_value = match p_gumbel {
                Some(g) if 1 + beaten < GUMBEL_RANK => g,
                _ => p_monte_carlo,
            };
            Cluster {
                locations: chain.members[..len].iter().map(|&z| z as usize).collect(),
                center: chain.center,
                start_day: days - w,
                end_day: days - 1,
                observed: c,
                expected: study.mu(spatial, w),
                llr: v,
                p_value,
                p_monte_carlo,
                p_gumbel,
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

/// The replicas' maximum LLRs, every one exact (the Gumbel fit needs the whole distribution,
/// not only the replicas that beat the observed cluster).
///
/// The first replica is scanned in full. The next ones only score cylinders that can reach
/// half of the smallest maximum seen so far (the thresholds): exact for every replica whose
/// maximum reaches that level — nearly all, as the maxima's spread is small beside their size
/// — and a replica that falls below it is scanned again in full (and lowers the level).
fn monte_carlo(study: &Study<'_>) -> Vec<f64> {
    let p = study.p;
    let w_max = study.w_max;
    let mut cases: Vec<u32> = Vec::with_capacity(study.total as usize);
    for (z, &t) in study.loc_totals.iter().enumerate() {
        cases.extend(std::iter::repeat_n(z as u32, t as usize));
    }
    let mut rng = StdRng::seed_from_u64(p.seed);
    let mut recent = vec![0u64; study.n * w_max];
    let mut suffix = vec![0u64; study.n * w_max];
    let mut scratch = study.scratch();
    let every = Cut::new(vec![MIN_CASES; study.cylinders], w_max);
    let mut level: Option<(f64, Cut)> = None;
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
        let pruned = level
            .as_ref()
            .map(|(l, thr)| (*l, study.replica_max(&suffix, thr, &mut scratch)));
        let m = match pruned {
            Some((l, m)) if m >= l => m,
            _ => study.replica_max(&suffix, &every, &mut scratch),
        };
        // Rebuilt only when the level must fall by a fifth or more: a rebuild costs a
        // threshold per cylinder, a few replicas' worth.
        let low = 0.5 * m;
        if m > 0.0 && level.as_ref().is_none_or(|(l, _)| m < *l || low < 0.8 * *l) {
            level = Some((low, Cut::new(study.thresholds(low), w_max)));
        }
        maxima.push(m);
    }
    maxima
}

#[cfg(test)]
mod tests;
