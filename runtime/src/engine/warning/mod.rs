/*!
Early warning (预警): the pure detection algorithms, plain numbers in, findings out.

Each detector answers one question about the daily request counts of a category in an area
(day numbers are days since 1970-01-01, Asia/Shanghai dates):

- [`ears`] — *is today unusual?* CDC EARS C1/C2/C3 (Hutwagner et al. 2003): today's count
  against the mean μ and sample standard deviation σ of a 7-day baseline,
  `C = (x_t − μ) / max(σ, σ_min)`; C1 uses days t−7..t−1, C2 days t−9..t−3 (a 2-day guard band,
  so a rise that began yesterday does not hide in its own baseline), C3 = Σ_{i=t−2..t}
  max(0, C2_i − 1) for a rise sustained over three days. C1/C2 signal above 3, C3 above 2. EARS
  needs only 7–11 days of history, which is why it is the first detector a new center runs.
  The weekday-adjusted form divides each day by its weekday factor (holidays count as Sundays)
  so that Mondays are not alerts.
- [`cusum`] — *has the level shifted?* A Poisson CUSUM (Lucas 1985):
  `S_t = max(0, S_{t−1} + x_t − k)`, `k = (μ1 − μ0) / (ln μ1 − ln μ0)`, signal when `S_t > h`.
  It accumulates small persistent excesses that EARS, which looks at one day, misses.
- [`scan`] — *where and since when?* The prospective space-time permutation scan statistic
  (Kulldorff et al. 2005): cylinders (a circle of grid units × the last 1..7 days) scored by the
  Poisson likelihood ratio against `μ_zd = C_z · C_d / C`, significance by Monte Carlo
  permutation of the case dates. It needs no population and adjusts for each place's normal
  share and each day's normal volume — only their interaction is news — which suits a service
  center whose counts depend on publicity and staffing as much as on problems.
- [`dedup`] — *is this the same problem again?* MinHash/Jaccard over words and character
  bigrams, near in place and time (一事多诉): many callers about one street light are one case.
- [`calendar`] — the statutory holidays and make-up working days the detectors adjust for.

Determinism: every random draw comes from a `rand::rngs::StdRng` seeded by the caller, so a run
can be reproduced exactly (same inputs, same seed, same rand version → same p-values).
*/

#[cfg(test)]
mod bench;
pub mod calendar;
pub mod cusum;
pub mod dedup;
pub mod ears;
pub mod run;
#[cfg(test)]
mod satscan;
pub mod scan;

use rand::Rng;
use rand::rngs::StdRng;

/// The weekday of a day number, Monday = 0 ..= Sunday = 6 (1970-01-01 was a Thursday).
pub fn weekday(day: i64) -> usize {
    // rem_euclid is in 0..7 for every day number, negative ones included.
    (day + 3).rem_euclid(7) as usize
}

/// Which detector raised a signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// EARS C1 (baseline t−7..t−1).
    EarsC1,
    /// EARS C2 (baseline t−9..t−3).
    EarsC2,
    /// EARS C3 (three days of C2 excess).
    EarsC3,
    /// Poisson CUSUM.
    Cusum,
    /// Space-time permutation scan.
    Scan,
}

impl Method {
    /// The stable name stored with an alert (`alerts.method`).
    pub fn as_str(self) -> &'static str {
        match self {
            Method::EarsC1 => "ears_c1",
            Method::EarsC2 => "ears_c2",
            Method::EarsC3 => "ears_c3",
            Method::Cusum => "cusum",
            Method::Scan => "scan",
        }
    }
}

/// SplitMix64 (Steele, Lea, Flood 2014): a fast, well-mixed 64-bit bijection. The module's one
/// hash family: MinHash functions and per-run seeds are `splitmix64(x ^ seed_i)`.
pub fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A Poisson(μ) draw. Inversion by sequential search for μ ≤ 30 (exact, a few dozen steps);
/// larger means are split into a sum of Poisson(μ/n) parts, which is Poisson(μ) exactly, so no
/// normal approximation and no `exp(−μ)` underflow.
pub fn poisson(rng: &mut StdRng, mu: f64) -> u32 {
    if !mu.is_finite() || mu <= 0.0 {
        return 0;
    }
    if mu > 30.0 {
        let parts = (mu / 30.0).ceil();
        let part = mu / parts;
        return (0..parts as u32).map(|_| poisson(rng, part)).sum();
    }
    let u: f64 = rng.r#gen();
    let mut p = (-mu).exp();
    let mut cdf = p;
    let mut k = 0u32;
    // The bound stops a pathological u ≈ 1 from looping on rounding (P(X > 200 | μ ≤ 30) ≈ 0).
    while u > cdf && k < 200 {
        k += 1;
        p *= mu / f64::from(k);
        cdf += p;
    }
    k
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn weekdays_follow_the_epoch() {
        assert_eq!(weekday(0), 3); // 1970-01-01, Thursday
        assert_eq!(weekday(4), 0); // 1970-01-05, Monday
        assert_eq!(weekday(-1), 2); // 1969-12-31, Wednesday
    }

    #[test]
    fn poisson_draws_have_the_right_mean() {
        let mut rng = StdRng::seed_from_u64(7);
        for mu in [0.3, 4.0, 75.0] {
            let n = 20_000;
            let sum: u64 = (0..n).map(|_| u64::from(poisson(&mut rng, mu))).sum();
            let mean = sum as f64 / f64::from(n);
            assert!(
                (mean - mu).abs() < 4.0 * (mu / f64::from(n)).sqrt() + 1e-9,
                "{mu}: {mean}"
            );
        }
        assert_eq!(poisson(&mut rng, 0.0), 0);
        assert_eq!(poisson(&mut rng, f64::NAN), 0);
    }

    #[test]
    fn no_file_is_longer_than_the_limit() {
        // The architecture test enforces this for the crate; here it fails at the module's own
        // tests, before a reviewer has to ask.
        let mut dirs =
            vec![std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/engine/warning")];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                    continue;
                }
                let lines = std::fs::read_to_string(&path).unwrap().lines().count();
                assert!(lines <= 1000, "{} has {lines} lines", path.display());
            }
        }
    }
}
