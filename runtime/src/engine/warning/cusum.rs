/*!
Poisson CUSUM (Lucas 1985, "Counted data CUSUM's", Technometrics 27): a persistent shift of the
daily level that no single day makes obvious.

For an in-control mean μ0 and the out-of-control mean μ1 it should detect, the optimal reference
value of a Poisson CUSUM is

  `k = (μ1 − μ0) / (ln μ1 − ln μ0)`,  `S_t = max(0, S_{t−1} + x_t − k)`,  signal when `S_t > h`.

Here `μ1 = k_ratio · μ0` ([`CusumParams::k_ratio`], default 2: a doubling is what a hotspot
looks like on a category-in-area series), and μ0 is per day: a baseline level times the day's
weekday factor ([`super::ears::weekday_factors`], holidays as Sundays), so `k` follows the weekly
rhythm.

**Stateless.** [`evaluate`] recomputes `S` over the last [`CusumParams::run_days`] days from 0
instead of keeping `S` between runs: the result of a day depends only on the counts, a missed
or repeated run changes nothing, and a signal fades out on its own when the excess stops. The
baseline level is the mean deseasonalised count of the [`CusumParams::baseline_days`] days before
that window, so the excess being accumulated is not in its own baseline.

**The decision interval h.** The in-control average run length (ARL0, days between false
alarms) depends on μ0, k and h. [`DEFAULT_H`] = 4 is the cheap choice. Simulated with
[`average_run_length`] (20 000 runs, seed 1, `k_ratio` 2; ARL1 = days to signal a doubling):

| μ0 / day | 0.2 | 0.5 | 1   | 2   | 5   | 10  |
|----------|-----|-----|-----|-----|-----|-----|
| ARL0     | 336 | 173 | 115 | 83  | 95  | 111 |
| ARL1     | 30  | 13  | 7.4 | 4.2 | 2.3 | 1.5 |

So h = 4 means about one false alarm per series per quarter: fine for a handful of series,
too many for every category × area of a county. There, [`estimate_h`] finds h for a target
ARL0 by simulation (seeded: the same h every time), e.g. 365 × the number of series divided by
the false alarms a week the center accepts.
*/

use rand::SeedableRng;
use rand::rngs::StdRng;

use super::calendar::Calendar;
use super::ears::weekday_factors;
use super::poisson;

/// The documented default decision interval (see the module docs for its ARL0).
pub const DEFAULT_H: f64 = 4.0;

/// Parameters of the Poisson CUSUM.
#[derive(Debug, Clone, PartialEq)]
pub struct CusumParams {
    /// μ1 = `k_ratio` · μ0 (must be > 1).
    pub k_ratio: f64,
    /// Decision interval: signal when `S_t > h`.
    pub h: f64,
    /// Smallest μ0 (a category never seen in the baseline still has a small chance a day;
    /// `ln 0` has no reference value).
    pub mu0_floor: f64,
    /// Days of baseline before the CUSUM window.
    pub baseline_days: usize,
    /// Fewest baseline days for a result.
    pub min_baseline_days: usize,
    /// Days the CUSUM accumulates over, ending on the evaluated day.
    pub run_days: usize,
    /// Fewest days of history for weekday factors (fewer → factors 1).
    pub factor_min_days: usize,
    /// Most days of history for weekday factors.
    pub factor_max_days: usize,
}

impl Default for CusumParams {
    fn default() -> CusumParams {
        CusumParams {
            k_ratio: 2.0,
            h: DEFAULT_H,
            // One request in five days: below it, k tends to μ0 and single requests signal.
            mu0_floor: 0.2,
            baseline_days: 28,
            min_baseline_days: 7,
            // Two weeks: long enough for a slow rise, short enough that an old one fades.
            run_days: 14,
            factor_min_days: 28,
            factor_max_days: 56,
        }
    }
}

/// The CUSUM of one day.
#[derive(Debug, Clone, PartialEq)]
pub struct CusumResult {
    /// `S_t` on the evaluated day.
    pub s: f64,
    /// The in-control mean μ0 of the evaluated day (weekday-adjusted).
    pub mu0: f64,
    /// The reference value k of the evaluated day.
    pub k: f64,
    /// Index of the first day of the current excursion (`S > 0` since then); `t` when `S = 0`.
    pub since: usize,
    /// Observed cases over the excursion (`since ..= t`).
    pub observed: u64,
    /// Expected cases (Σ μ0) over the excursion.
    pub expected: f64,
    /// `S_t > h`.
    pub signal: bool,
}

/// The Poisson CUSUM reference value `k = (μ1 − μ0) / (ln μ1 − ln μ0)` for `0 < μ0 < μ1`
/// (its limit μ0 when μ1 → μ0; `None` for non-positive or non-finite means).
pub fn reference_value(mu0: f64, mu1: f64) -> Option<f64> {
    if !(mu0 > 0.0 && mu1 > 0.0 && mu0.is_finite() && mu1.is_finite()) {
        return None;
    }
    if (mu1 - mu0).abs() < 1e-12 * mu0 {
        return Some(mu0);
    }
    Some((mu1 - mu0) / (mu1.ln() - mu0.ln()))
}

/// One CUSUM step: `max(0, s + x − k)`.
pub fn step(s: f64, x: f64, k: f64) -> f64 {
    (s + x - k).max(0.0)
}

/// The CUSUM path `S_0 … S_{n−1}` from `S_{−1} = 0` for counts `x` and reference values `k`
/// (one per day; the shorter slice decides the length).
pub fn path(x: &[f64], k: &[f64]) -> Vec<f64> {
    let mut s = 0.0;
    x.iter()
        .zip(k)
        .map(|(&x, &k)| {
            s = step(s, x, k);
            s
        })
        .collect()
}

/// The weekday-adjusted Poisson CUSUM of day `t` of `series` (`series[i]` is day `day0 + i`),
/// accumulated over the last `run_days` days. `None` with fewer than `min_baseline_days` days
/// before the window, or `t` out of range.
pub fn evaluate(
    series: &[u32],
    day0: i64,
    cal: &Calendar,
    t: usize,
    p: &CusumParams,
) -> Option<CusumResult> {
    if t >= series.len() || p.run_days == 0 || p.k_ratio.is_nan() || p.k_ratio <= 1.0 {
        return None;
    }
    // The window starts run_days back, but never so early that the baseline is too short.
    let start = (t + 1).saturating_sub(p.run_days).max(p.min_baseline_days);
    if start > t {
        return None;
    }
    let factors = weekday_factors(
        series,
        day0,
        cal,
        start,
        p.factor_min_days,
        p.factor_max_days,
    );
    let f = |i: usize| factors[cal.class(day0 + i as i64)];
    let base = start.saturating_sub(p.baseline_days)..start;
    let n = base.len() as f64;
    let level = base.map(|i| f64::from(series[i]) / f(i)).sum::<f64>() / n;
    let mut s = 0.0;
    let mut since = start;
    let (mut observed, mut expected) = (0u64, 0.0);
    let (mut mu0_t, mut k_t) = (0.0, 0.0);
    for (i, &count) in series.iter().enumerate().take(t + 1).skip(start) {
        let mu0 = (level * f(i)).max(p.mu0_floor);
        let k = reference_value(mu0, mu0 * p.k_ratio)?;
        if s == 0.0 {
            since = i;
            observed = 0;
            expected = 0.0;
        }
        s = step(s, f64::from(count), k);
        observed += u64::from(count);
        expected += mu0;
        (mu0_t, k_t) = (mu0, k);
    }
    if s == 0.0 {
        (since, observed, expected) = (t, 0, 0.0);
    }
    Some(CusumResult {
        s,
        mu0: mu0_t,
        k: k_t,
        since,
        observed,
        expected,
        signal: s > p.h,
    })
}

/// Seed of run `r` of a simulation: each run its own stream, so a run's counts do not depend
/// on how long the previous runs were — the same runs for every h (common random numbers),
/// which makes the simulated ARL monotone in h and the bisection in [`estimate_h`] stable.
fn run_seed(seed: u64, r: usize) -> u64 {
    super::splitmix64(seed ^ (r as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15))
}

/// The simulated in-control average run length (days to the first `S > h`) of a Poisson CUSUM
/// with constant μ0 and `μ1 = k_ratio · μ0`, over `runs` runs each cut at `cap` days (so the
/// estimate is a lower bound when the ARL approaches `cap`).
pub fn average_run_length(
    mu0: f64,
    k_ratio: f64,
    h: f64,
    runs: usize,
    cap: usize,
    seed: u64,
) -> f64 {
    let Some(k) = reference_value(mu0, mu0 * k_ratio) else {
        return 0.0;
    };
    if runs == 0 {
        return 0.0;
    }
    let mut total = 0usize;
    for r in 0..runs {
        let mut rng = StdRng::seed_from_u64(run_seed(seed, r));
        let mut s = 0.0;
        let mut len = cap;
        for day in 1..=cap {
            s = step(s, f64::from(poisson(&mut rng, mu0)), k);
            if s > h {
                len = day;
                break;
            }
        }
        total += len;
    }
    total as f64 / runs as f64
}

/// The decision interval h whose simulated in-control ARL (constant μ0, `μ1 = k_ratio · μ0`) is
/// closest to `target_arl` days, by bisection over h with 2 000 runs cut at 10 × the target.
/// Deterministic for a seed. `None` for a non-positive μ0, `k_ratio ≤ 1` or a target below 1.
pub fn estimate_h(mu0: f64, k_ratio: f64, target_arl: f64, seed: u64) -> Option<f64> {
    const RUNS: usize = 2_000;
    reference_value(mu0, mu0 * k_ratio)?;
    if !(k_ratio > 1.0 && target_arl >= 1.0 && target_arl.is_finite()) {
        return None;
    }
    let cap = (target_arl * 10.0).ceil() as usize;
    let arl = |h: f64| average_run_length(mu0, k_ratio, h, RUNS, cap, seed);
    let (mut lo, mut hi) = (0.0, 1.0);
    // Grow the bracket: ARL grows roughly exponentially in h, so a few doublings suffice.
    while arl(hi) < target_arl {
        lo = hi;
        hi *= 2.0;
        if hi > 1e4 {
            return Some(hi);
        }
    }
    // S moves in steps of whole counts minus k, so ARL is a step function of h: 30 halvings
    // are far below its resolution.
    for _ in 0..30 {
        let mid = 0.5 * (lo + hi);
        if arl(mid) < target_arl {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Some(hi)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_value_by_hand() {
        // μ0 = 1, μ1 = 2: k = 1 / ln 2 = 1.442695.
        assert!((reference_value(1.0, 2.0).unwrap() - 1.0 / 2f64.ln()).abs() < 1e-12);
        // μ0 = 2, μ1 = 3: k = 1 / ln 1.5 = 2.466303.
        assert!((reference_value(2.0, 3.0).unwrap() - 2.466_303).abs() < 1e-6);
        assert_eq!(reference_value(2.0, 2.0), Some(2.0));
        assert_eq!(reference_value(0.0, 2.0), None);
    }

    #[test]
    fn path_by_hand() {
        // k = 1.5: 0 → max(0, 0+3−1.5) = 1.5 → 1.5+0−1.5 = 0 → 0+1−1.5 < 0 → 0 → 0+4−1.5 = 2.5.
        let s = path(&[3.0, 0.0, 1.0, 4.0], &[1.5; 4]);
        assert_eq!(s, vec![1.5, 0.0, 0.0, 2.5]);
    }

    #[test]
    fn a_doubling_is_signalled_and_a_stable_level_is_not() {
        let cal = Calendar::default();
        let p = CusumParams::default();
        // Six weeks at exactly 3 a day, then 6 a day: μ0 = 3, k = 3/ln 2 = 4.328, each day of 6
        // adds 1.672, so S > 4 on the third day of the shift.
        let mut s = vec![3u32; 42];
        let r = evaluate(&s, 0, &cal, 41, &p).unwrap();
        assert_eq!((r.s, r.signal, r.since, r.observed), (0.0, false, 41, 0));
        s.extend([6, 6]);
        assert!(!evaluate(&s, 0, &cal, 43, &p).unwrap().signal);
        s.push(6);
        let r = evaluate(&s, 0, &cal, 44, &p).unwrap();
        assert!(r.signal, "{r:?}");
        assert!((r.mu0 - 3.0).abs() < 1e-9 && (r.k - 3.0 / 2f64.ln()).abs() < 1e-9);
        assert!((r.s - 3.0 * (6.0 - 3.0 / 2f64.ln())).abs() < 1e-9);
        assert_eq!((r.since, r.observed), (42, 18));
        assert!((r.expected - 9.0).abs() < 1e-9);
    }

    #[test]
    fn short_history_gives_none_and_zero_baseline_uses_the_floor() {
        let cal = Calendar::default();
        let p = CusumParams::default();
        assert_eq!(evaluate(&[1, 2, 3], 0, &cal, 2, &p), None);
        assert_eq!(evaluate(&[1, 2, 3], 0, &cal, 9, &p), None);
        let mut s = vec![0u32; 20];
        s[19] = 1;
        let r = evaluate(&s, 0, &cal, 19, &p).unwrap();
        assert!((r.mu0 - 0.2).abs() < 1e-12 && !r.signal, "{r:?}");
        s[19] = 5;
        assert!(evaluate(&s, 0, &cal, 19, &p).unwrap().signal);
    }

    #[test]
    fn default_h_has_a_useful_in_control_arl() {
        for mu0 in [0.5, 1.0, 2.0, 5.0] {
            let arl = average_run_length(mu0, 2.0, DEFAULT_H, 4_000, 5_000, 1);
            assert!((60.0..400.0).contains(&arl), "μ0 {mu0}: ARL0 {arl}");
        }
    }

    #[test]
    fn estimated_h_hits_its_target_and_grows_with_it() {
        let h100 = estimate_h(2.0, 2.0, 100.0, 3).unwrap();
        let h400 = estimate_h(2.0, 2.0, 400.0, 3).unwrap();
        assert!(h100 < h400, "{h100} {h400}");
        assert_eq!(estimate_h(2.0, 2.0, 100.0, 3), Some(h100), "deterministic");
        // An independent simulation (another seed) at the estimated h lands near the target.
        let arl = average_run_length(2.0, 2.0, h400, 4_000, 4_000, 99);
        assert!((300.0..530.0).contains(&arl), "h {h400}: ARL0 {arl}");
        assert_eq!(estimate_h(0.0, 2.0, 100.0, 3), None);
        assert_eq!(estimate_h(1.0, 1.0, 100.0, 3), None);
    }

    #[test]
    #[ignore = "prints the ARL0 table behind the module docs"]
    fn print_arl_table() {
        for mu0 in [0.2, 0.5, 1.0, 2.0, 5.0, 10.0] {
            let arl = average_run_length(mu0, 2.0, DEFAULT_H, 20_000, 20_000, 1);
            let mut rng = 0.0;
            // Out-of-control ARL at μ1 = 2μ0 (same k): the detection delay.
            if let Some(k) = reference_value(mu0, 2.0 * mu0) {
                let mut total = 0;
                for r in 0..5_000 {
                    let mut g = StdRng::seed_from_u64(run_seed(7, r));
                    let mut s = 0.0;
                    for day in 1..=1_000 {
                        s = step(s, f64::from(poisson(&mut g, 2.0 * mu0)), k);
                        if s > DEFAULT_H {
                            total += day;
                            break;
                        }
                    }
                }
                rng = f64::from(total) / 5_000.0;
            }
            println!("mu0 {mu0}: ARL0 {arl:.0}, ARL1 (doubling) {rng:.1}");
        }
    }
}
