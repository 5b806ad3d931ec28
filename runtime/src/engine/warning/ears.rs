/*!
CDC EARS C1, C2 and C3 (Hutwagner et al. 2003, "The bioterrorism preparedness and response Early
Aberration Reporting System (EARS)", J Urban Health 80; definitions as in Fricker 2008).

For day `t` of a daily count series `x`:

- **C1**: baseline `x_{t−7} … x_{t−1}`, mean μ, sample standard deviation σ (n − 1):
  `C1_t = (x_t − μ) / max(σ, σ_min)`; signal when `C1_t > 3`.
- **C2**: the same with baseline `x_{t−9} … x_{t−3}`: the two guard days keep a rise that began
  yesterday out of its own baseline.
- **C3**: `C3_t = Σ_{i = t−2 … t} max(0, C2_i − 1)`; signal when `C3_t > 2` — three days of
  moderate excess that no single day's C2 flags.

Two guards make it usable on a service center's small counts:

- **σ floor** ([`EarsParams::sigma_floor`], default 0.5): a flat baseline (seven days of 0, or of
  2) has σ = 0 and any rise would be an infinite statistic. 0.5 is half a case: with a zero
  baseline, 2 requests give C1 = 4, so the floor alone does not silence small counts, which is
  what the next guard is for.
- **minimum count** ([`EarsParams::min_cases`], default 3): C1/C2 signal only when `x_t ≥ 3`
  (C3: when the three days together have ≥ 3): one or two requests about anything are not an
  outbreak, whatever the statistic says.

**Weekday adjustment** ([`evaluate`]): request volume has a strong weekly rhythm (Mondays high,
Sundays low), which plain EARS reads as alerts every Monday. Each day gets a factor
`f_w = mean count on day class w / overall mean` estimated over the previous 28–56 days
([`weekday_factors`]; clamped to [0.2, 5]; 1.0 with less than 28 days of history), holidays
counting as Sundays and make-up working days as an average working day ([`Calendar::class`]).
The baseline is deseasonalised, `z_i = x_i / f_i`, and
`C_t = (x_t − f_t·μ_z) / max(f_t·σ_z, σ_min)`: the expected count is `f_t·μ_z`. With all
factors 1 this is plain EARS.
*/

use super::Method;
use super::calendar::{Calendar, WORKDAY_CLASS};

/// Parameters of the EARS detectors.
#[derive(Debug, Clone, PartialEq)]
pub struct EarsParams {
    /// Fewest cases on the day (C3: over the three days) that may signal.
    pub min_cases: u32,
    /// Smallest σ used in the denominator (cases).
    pub sigma_floor: f64,
    /// C1 and C2 signal above this (CDC: 3).
    pub threshold_c1_c2: f64,
    /// C3 signals above this (CDC: 2).
    pub threshold_c3: f64,
    /// Fewest days of history for weekday factors; fewer → all factors 1.
    pub factor_min_days: usize,
    /// Most days of history for weekday factors (the most recent ones: the rhythm drifts).
    pub factor_max_days: usize,
}

impl Default for EarsParams {
    fn default() -> EarsParams {
        EarsParams {
            min_cases: 3,
            sigma_floor: 0.5,
            threshold_c1_c2: 3.0,
            threshold_c3: 2.0,
            // Four of each weekday at least; eight weeks at most.
            factor_min_days: 28,
            factor_max_days: 56,
        }
    }
}

/// Baseline length (days) of C1 and C2.
const BASELINE: usize = 7;
/// Guard band of C2 (days between the baseline and `t`).
const GUARD_C2: usize = 2;
/// Clamp of the weekday factors: a class seen empty four times is not "never".
const FACTOR_MIN: f64 = 0.2;
/// See [`FACTOR_MIN`].
const FACTOR_MAX: f64 = 5.0;

/// The result of EARS on one day.
#[derive(Debug, Clone, PartialEq)]
pub struct EarsResult {
    /// C1 statistic (`None`: fewer than 7 days of history).
    pub c1: Option<f64>,
    /// C2 statistic (`None`: fewer than 9 days of history).
    pub c2: Option<f64>,
    /// C3 statistic (`None`: fewer than 11 days of history).
    pub c3: Option<f64>,
    /// The expected count of day `t` (C1 baseline, weekday-adjusted); `None` without history.
    pub expected: Option<f64>,
    /// The count of day `t`.
    pub observed: u32,
    /// The first of C1, C2, C3 that signals (C1 the most recent evidence), if any.
    pub signal: Option<Method>,
}

/// One EARS statistic: baseline `[t − guard − 7, t − guard)`, deseasonalised by `f`.
/// Returns `(statistic, expected)`.
fn statistic(x: &[f64], f: &[f64], t: usize, guard: usize, floor: f64) -> Option<(f64, f64)> {
    if t >= x.len() || t >= f.len() || t < guard + BASELINE {
        return None;
    }
    let base = t - guard - BASELINE..t - guard;
    let z: Vec<f64> = base.map(|i| x[i] / f[i]).collect();
    let n = z.len() as f64;
    let mean = z.iter().sum::<f64>() / n;
    let var = z.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    let expected = f[t] * mean;
    let sd = (f[t] * var.sqrt()).max(floor);
    Some(((x[t] - expected) / sd, expected))
}

/// C3 from C2 statistics of days `t−2 ..= t` under factors `f`.
fn c3_with(x: &[f64], f: &[f64], t: usize, floor: f64) -> Option<f64> {
    if t < 2 {
        return None;
    }
    let mut sum = 0.0;
    for i in t - 2..=t {
        let (c2, _) = statistic(x, f, i, GUARD_C2, floor)?;
        sum += (c2 - 1.0).max(0.0);
    }
    Some(sum)
}

/// Plain EARS C1 of day `t` (no weekday adjustment). `None` when `t < 7` or out of range.
pub fn c1(series: &[f64], t: usize, p: &EarsParams) -> Option<f64> {
    let ones = vec![1.0; series.len()];
    statistic(series, &ones, t, 0, p.sigma_floor).map(|(c, _)| c)
}

/// Plain EARS C2 of day `t`. `None` when `t < 9` or out of range.
pub fn c2(series: &[f64], t: usize, p: &EarsParams) -> Option<f64> {
    let ones = vec![1.0; series.len()];
    statistic(series, &ones, t, GUARD_C2, p.sigma_floor).map(|(c, _)| c)
}

/// Plain EARS C3 of day `t`. `None` when `t < 11` or out of range.
pub fn c3(series: &[f64], t: usize, p: &EarsParams) -> Option<f64> {
    let ones = vec![1.0; series.len()];
    c3_with(series, &ones, t, p.sigma_floor)
}

/// The day-class factors (index = [`Calendar::class`]: 0 Monday ..= 6 Sunday/holiday, 7 make-up
/// working day) estimated from the days `[upto − max_days, upto)` of `series` (`series[i]` is
/// day `day0 + i`). All 1.0 with fewer than `min_days` days or no cases; a class not seen in the
/// history gets 1.0; make-up working days get the mean of the Monday–Friday factors.
pub fn weekday_factors(
    series: &[u32],
    day0: i64,
    cal: &Calendar,
    upto: usize,
    min_days: usize,
    max_days: usize,
) -> [f64; 8] {
    let mut factors = [1.0; 8];
    let upto = upto.min(series.len());
    if upto < min_days.max(1) {
        return factors;
    }
    let from = upto.saturating_sub(max_days);
    let mut sums = [0.0f64; 8];
    let mut days = [0u32; 8];
    for (i, &x) in series.iter().enumerate().take(upto).skip(from) {
        let class = cal.class(day0 + i as i64);
        sums[class] += f64::from(x);
        days[class] += 1;
    }
    let overall = sums.iter().sum::<f64>() / f64::from(days.iter().sum::<u32>());
    if overall.is_nan() || overall <= 0.0 {
        return factors;
    }
    for w in 0..WORKDAY_CLASS {
        if days[w] > 0 {
            factors[w] = (sums[w] / f64::from(days[w]) / overall).clamp(FACTOR_MIN, FACTOR_MAX);
        }
    }
    factors[WORKDAY_CLASS] = factors[..5].iter().sum::<f64>() / 5.0;
    factors
}

/// Weekday-adjusted EARS C1, C2 and C3 of day `t` of `series` (`series[i]` is day `day0 + i`).
/// The factors come from the history before `t − 2`, so the three days C3 looks at — an
/// outbreak in progress — do not teach the model that their weekday is a busy one.
pub fn evaluate(series: &[u32], day0: i64, cal: &Calendar, t: usize, p: &EarsParams) -> EarsResult {
    let observed = series.get(t).copied().unwrap_or(0);
    let upto = t.saturating_sub(2);
    let factors = weekday_factors(
        series,
        day0,
        cal,
        upto,
        p.factor_min_days,
        p.factor_max_days,
    );
    let f: Vec<f64> = (0..series.len())
        .map(|i| factors[cal.class(day0 + i as i64)])
        .collect();
    let x: Vec<f64> = series.iter().map(|&v| f64::from(v)).collect();
    let r1 = statistic(&x, &f, t, 0, p.sigma_floor);
    let c2 = statistic(&x, &f, t, GUARD_C2, p.sigma_floor).map(|(c, _)| c);
    let c3 = c3_with(&x, &f, t, p.sigma_floor);
    let c1 = r1.map(|(c, _)| c);
    let last3: u32 = (t.saturating_sub(2)..=t)
        .filter_map(|i| series.get(i))
        .sum();
    let enough = observed >= p.min_cases;
    let signal = if enough && c1.is_some_and(|c| c > p.threshold_c1_c2) {
        Some(Method::EarsC1)
    } else if enough && c2.is_some_and(|c| c > p.threshold_c1_c2) {
        Some(Method::EarsC2)
    } else if last3 >= p.min_cases && c3.is_some_and(|c| c > p.threshold_c3) {
        Some(Method::EarsC3)
    } else {
        None
    };
    EarsResult {
        c1,
        c2,
        c3,
        expected: r1.map(|(_, e)| e),
        observed,
        signal,
    }
}

#[cfg(test)]
mod tests {
    use super::super::calendar::parse_date;
    use super::*;

    fn p() -> EarsParams {
        EarsParams::default()
    }

    #[test]
    fn c1_by_hand() {
        // Baseline 1..=7: μ = 4, Σ(x−μ)² = 9+4+1+0+1+4+9 = 28, σ = √(28/6) = 2.160247;
        // x_t = 12 → C1 = 8 / 2.160247 = 3.703280.
        let s = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 12.0];
        let c = c1(&s, 7, &p()).unwrap();
        assert!((c - 8.0 / (28.0f64 / 6.0).sqrt()).abs() < 1e-12);
        assert!((c - 3.703_280).abs() < 1e-6);
        assert_eq!(c1(&s, 6, &p()), None);
        assert_eq!(c2(&s, 7, &p()), None);
        assert_eq!(c1(&s, 8, &p()), None);
    }

    #[test]
    fn sigma_floor_and_min_cases_guard_small_counts() {
        let cal = Calendar::default();
        let mut s = vec![0u32; 20];
        s[19] = 2;
        let r = evaluate(&s, 0, &cal, 19, &p());
        // σ = 0 → floor 0.5: C1 = 2 / 0.5 = 4, above 3, but 2 < min_cases.
        assert!((r.c1.unwrap() - 4.0).abs() < 1e-12);
        assert_eq!(r.signal, None);
        s[19] = 3;
        let r = evaluate(&s, 0, &cal, 19, &p());
        assert_eq!(r.signal, Some(Method::EarsC1));
        assert_eq!(r.expected, Some(0.0));
        assert_eq!(r.observed, 3);
    }

    #[test]
    fn c2_guard_band_sees_a_rise_that_began_yesterday() {
        // Yesterday's 9 is in C1's baseline (inflating σ) but not in C2's.
        let s = [4.0, 5.0, 4.0, 5.0, 4.0, 5.0, 4.0, 5.0, 4.0, 5.0, 9.0, 10.0];
        let c1v = c1(&s, 11, &p()).unwrap();
        let c2v = c2(&s, 11, &p()).unwrap();
        assert!(c1v < 3.0, "{c1v}");
        assert!(c2v > 3.0, "{c2v}");
    }

    #[test]
    fn c3_flags_a_sustained_moderate_rise() {
        // Baseline alternates 4/6 (μ = 5, σ ≈ 1.07); three days at 7 → C2 ≈ 1.9 each (no C1/C2
        // signal), C3 ≈ 3 × 0.9 > 2.
        let mut s: Vec<u32> = (0..14).map(|i| if i % 2 == 0 { 4 } else { 6 }).collect();
        s.extend([7, 7, 7]);
        let cal = Calendar::default();
        let r = evaluate(&s, 0, &cal, 16, &p());
        assert!(r.c1.unwrap() < 3.0 && r.c2.unwrap() < 3.0, "{r:?}");
        assert!(r.c3.unwrap() > 2.0, "{r:?}");
        assert_eq!(r.signal, Some(Method::EarsC3));
        let plain: Vec<f64> = s.iter().map(|&v| f64::from(v)).collect();
        assert!((c3(&plain, 16, &p()).unwrap() - r.c3.unwrap()).abs() < 1e-12);
    }

    /// Eight weeks of a weekly rhythm (Monday 20, Tuesday–Saturday 8, Sunday 2), starting on a
    /// Monday.
    fn weekly(weeks: usize) -> (Vec<u32>, i64) {
        let day0 = parse_date("2025-03-03").unwrap(); // a Monday, no holiday for 8 weeks before May
        let s = (0..weeks * 7)
            .map(|i| match i % 7 {
                0 => 20,
                6 => 2,
                _ => 8,
            })
            .collect();
        (s, day0)
    }

    #[test]
    fn weekday_adjustment_sees_a_busy_sunday_and_keeps_mondays_quiet() {
        let (mut s, day0) = weekly(8);
        let cal = Calendar::default();
        // Day 56, a Monday like every Monday: expected 20, no signal.
        s.push(20);
        let r = evaluate(&s, day0, &cal, 56, &p());
        assert_eq!(r.signal, None, "{r:?}");
        assert!((r.expected.unwrap() - 20.0).abs() < 1e-9, "{r:?}");
        // A Monday outbreak is still one.
        s[56] = 45;
        assert_eq!(
            evaluate(&s, day0, &cal, 56, &p()).signal,
            Some(Method::EarsC1)
        );
        s[56] = 20;
        // Day 62, a Sunday with 8 requests instead of 2: plain EARS hides it in a baseline whose
        // σ is the weekly rhythm (C1 ≈ 0.2); adjusted, the baseline is flat and 8 is 4× normal.
        s.extend([8, 8, 8, 8, 8, 8]);
        let plain: Vec<f64> = s.iter().map(|&v| f64::from(v)).collect();
        assert!(c1(&plain, 62, &p()).unwrap() < 1.0);
        let r = evaluate(&s, day0, &cal, 62, &p());
        assert!((r.expected.unwrap() - 2.0).abs() < 1e-9, "{r:?}");
        assert_eq!(r.signal, Some(Method::EarsC1), "{r:?}");
    }

    #[test]
    fn holidays_count_as_sundays() {
        let (mut s, day0) = weekly(8);
        let t = s.len();
        s.push(2); // day 56 is a Monday; make it a holiday with a Sunday's volume
        let mut cal = Calendar::default();
        let r = evaluate(&s, day0, &cal, t, &p());
        assert!(
            r.expected.unwrap() > 15.0,
            "an ordinary Monday expects ~20: {r:?}"
        );
        cal.holidays.insert(day0 + t as i64);
        let r = evaluate(&s, day0, &cal, t, &p());
        assert!(
            r.expected.unwrap() < 3.0,
            "a holiday expects a Sunday's ~2: {r:?}"
        );
        let f = weekday_factors(&s, day0, &cal, t, 28, 56);
        // Overall mean 62/7 a day: Monday 20/(62/7), Sunday 2/(62/7), make-up day 52/5/(62/7).
        let overall = 62.0 / 7.0;
        assert!((f[0] - 20.0 / overall).abs() < 1e-9, "{f:?}");
        assert!((f[6] - 2.0 / overall).abs() < 1e-9, "{f:?}");
        assert!(
            (f[WORKDAY_CLASS] - 52.0 / 5.0 / overall).abs() < 1e-9,
            "{f:?}"
        );
    }

    #[test]
    fn short_history_means_plain_ears_and_no_baseline_means_none() {
        let cal = Calendar::default();
        let s = vec![5u32; 20];
        assert_eq!(weekday_factors(&s, 0, &cal, 20, 28, 56), [1.0; 8]);
        let r = evaluate(&s[..5], 0, &cal, 4, &p());
        assert_eq!(
            (r.c1, r.c2, r.c3, r.expected, r.signal),
            (None, None, None, None, None)
        );
        let r = evaluate(&s, 0, &cal, 25, &p());
        assert_eq!((r.c1, r.observed), (None, 0));
    }
}
