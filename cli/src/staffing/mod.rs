/*!
Erlang C staffing of the service center's call-taking desk.

The center must answer a share of calls (the service-level target, e.g. 80 %) within a few
seconds (e.g. 20 s). Erlang C models a queue of Poisson arrivals served by `N` agents with
exponential handling times; from it we derive how many agents are needed in the peak hour, and,
after shrinkage (breaks, training, leave), how many people must be on the roster.

P(wait) is computed from the Erlang B recursion `B(k) = A·B(k−1) / (k + A·B(k−1))`, which stays
within [0, 1] for any traffic and never forms factorials or powers, so it is stable for thousands
of agents. Searching agents upward reuses the recursion, so the search is linear in `N`.

This file holds Erlang C and the single busiest hour ([`plan`], as `m110 plan` has always
reported it). The 24/7 picture is built on it: [`week`] spreads the year's calls over the 168
hours of a week and sizes every hour (inbound by Erlang C, 回访 and 派单/督办 as deterministic
workload), [`roster`] turns those hours into shifts, heads and FTE, and [`html`] draws the week
as a heat map. The method and its defaults are in docs/staffing.md.
*/

pub mod html;
pub mod roster;
pub mod text;
pub mod week;

use m110_runtime::model::StaffingInputs;
use serde::Serialize;

/// Why staffing could not be computed from the given inputs.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StaffingError {
    #[error(
        "坐席测算参数超出范围 / staffing input `{field}` = {value} is out of range ({expected})"
    )]
    OutOfRange {
        field: &'static str,
        value: f64,
        expected: &'static str,
    },
    #[error(
        "{max} 个坐席以内达不到服务水平目标 / no agent count up to {max} reaches the service-level target {target}"
    )]
    Unreachable { max: u32, target: f64 },
    #[error("坐席测算参数无效 / staffing input `{field}`: {problem}")]
    Invalid {
        field: &'static str,
        problem: String,
    },
}

/// Offered traffic in Erlangs: calls per hour × handling time in hours.
pub fn traffic_erlangs(calls_per_hour: f64, aht_seconds: f64) -> f64 {
    calls_per_hour * aht_seconds / 3600.0
}

/// Erlang B blocking probability for `n` servers and traffic `a`.
pub fn erlang_b(n: u32, a: f64) -> f64 {
    let mut b = 1.0;
    for k in 1..=n {
        b = a * b / (f64::from(k) + a * b);
    }
    b
}

/// Erlang C from Erlang B: P(wait) = N·B / (N − A·(1 − B)). 1 when the queue is unstable (N ≤ A).
fn erlang_c_from_b(n: u32, a: f64, b: f64) -> f64 {
    let n = f64::from(n);
    if n <= a {
        return 1.0;
    }
    n * b / (n - a * (1.0 - b))
}

/// Probability that a call has to wait (Erlang C) with `n` agents and traffic `a` Erlangs.
pub fn erlang_c(n: u32, a: f64) -> f64 {
    erlang_c_from_b(n, a, erlang_b(n, a))
}

/// Share of calls answered within `target_seconds`.
pub fn service_level(n: u32, a: f64, aht_seconds: f64, target_seconds: f64) -> f64 {
    sl_from_c(erlang_c(n, a), n, a, aht_seconds, target_seconds)
}

fn sl_from_c(c: f64, n: u32, a: f64, aht_seconds: f64, target_seconds: f64) -> f64 {
    let n = f64::from(n);
    if n <= a {
        return 0.0;
    }
    1.0 - c * (-(n - a) * target_seconds / aht_seconds).exp()
}

/// Average speed of answer in seconds (infinite when the queue is unstable).
pub fn average_speed_of_answer(n: u32, a: f64, aht_seconds: f64) -> f64 {
    asa_from_c(erlang_c(n, a), n, a, aht_seconds)
}

fn asa_from_c(c: f64, n: u32, a: f64, aht_seconds: f64) -> f64 {
    let n = f64::from(n);
    if n <= a {
        return f64::INFINITY;
    }
    c * aht_seconds / (n - a)
}

/// Peak-hour calls from population and the profile's staffing inputs.
pub fn peak_calls_per_hour(population: u64, inputs: &StaffingInputs) -> f64 {
    yearly_calls(population, inputs) / 365.0 * inputs.peak_hour_share
}

/// Expected calls per year.
pub fn yearly_calls(population: u64, inputs: &StaffingInputs) -> f64 {
    population as f64 * inputs.calls_per_1000_per_year / 1000.0
}

/// The staffing of the center in its busiest hour.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Staffing {
    pub peak_calls_per_hour: f64,
    pub traffic_erlangs: f64,
    pub aht_seconds: f64,
    pub service_level_target: f64,
    pub service_level_seconds: f64,
    /// Agents on the phones in the peak hour.
    pub agents: u32,
    /// People on the roster for that hour after shrinkage.
    pub scheduled_staff: u32,
    /// Expected share answered within `service_level_seconds` with `agents`.
    pub service_level: f64,
    pub asa_seconds: f64,
    pub p_wait: f64,
    pub occupancy: f64,
    pub shrinkage: f64,
    pub max_occupancy: f64,
}

fn check(
    field: &'static str,
    value: f64,
    ok: bool,
    expected: &'static str,
) -> Result<(), StaffingError> {
    if ok && value.is_finite() {
        Ok(())
    } else {
        Err(StaffingError::OutOfRange {
            field,
            value,
            expected,
        })
    }
}

/// The Erlang C inputs each within range (the ones every staffing figure reads).
fn check_inputs(i: &StaffingInputs) -> Result<(), StaffingError> {
    check(
        "calls_per_1000_per_year",
        i.calls_per_1000_per_year,
        i.calls_per_1000_per_year >= 0.0,
        ">= 0",
    )?;
    check(
        "peak_hour_share",
        i.peak_hour_share,
        i.peak_hour_share > 0.0 && i.peak_hour_share <= 1.0,
        "in (0, 1]",
    )?;
    check("aht_seconds", i.aht_seconds, i.aht_seconds > 0.0, "> 0")?;
    check(
        "service_level_target",
        i.service_level_target,
        i.service_level_target > 0.0 && i.service_level_target < 1.0,
        "in (0, 1)",
    )?;
    check(
        "service_level_seconds",
        i.service_level_seconds,
        i.service_level_seconds >= 0.0,
        ">= 0",
    )?;
    check(
        "shrinkage",
        i.shrinkage,
        i.shrinkage >= 0.0 && i.shrinkage < 1.0,
        "in [0, 1)",
    )?;
    check(
        "max_occupancy",
        i.max_occupancy,
        i.max_occupancy > 0.0 && i.max_occupancy <= 1.0,
        "in (0, 1]",
    )
}

/// Agents and scheduled staff for `population` under the profile's staffing inputs: the busiest
/// hour of an average day by `peak_hour_share` (the 24/7 roster is [`roster::plan`]).
pub fn plan(population: u64, inputs: &StaffingInputs) -> Result<Staffing, StaffingError> {
    let i = inputs;
    check_inputs(i)?;
    let calls = peak_calls_per_hour(population, i);
    let a = traffic_erlangs(calls, i.aht_seconds);
    let s = agents_for(a, i)?;
    let scheduled = scheduled_heads(f64::from(s.agents), i.shrinkage).max(1);
    Ok(Staffing {
        peak_calls_per_hour: calls,
        traffic_erlangs: a,
        aht_seconds: i.aht_seconds,
        service_level_target: i.service_level_target,
        service_level_seconds: i.service_level_seconds,
        agents: s.agents,
        scheduled_staff: scheduled,
        service_level: s.service_level,
        asa_seconds: s.asa_seconds,
        p_wait: s.p_wait,
        occupancy: if s.agents == 0 {
            0.0
        } else {
            a / f64::from(s.agents)
        },
        shrinkage: i.shrinkage,
        max_occupancy: i.max_occupancy,
    })
}

/// People to roster so that `on_duty` are available after shrinkage: `on_duty / (1 − s)` rounded
/// up, without letting float noise add a person (14 / 0.7 is 20.000000000000004).
pub fn scheduled_heads(on_duty: f64, shrinkage: f64) -> u32 {
    (on_duty / (1.0 - shrinkage) - 1e-9).ceil().max(0.0) as u32
}

struct AgentCount {
    agents: u32,
    p_wait: f64,
    service_level: f64,
    asa_seconds: f64,
}

/// Smallest N > A (and ≥ 1) meeting the service-level target and the occupancy cap.
fn agents_for(a: f64, i: &StaffingInputs) -> Result<AgentCount, StaffingError> {
    // Far above any realistic need: occupancy alone needs A / max_occupancy, and the
    // service-level tail shrinks exponentially in N − A.
    let max = ((a / i.max_occupancy) * 4.0 + 1000.0).min(f64::from(u32::MAX / 2)) as u32;
    let mut b = 1.0;
    for n in 1..=max {
        b = a * b / (f64::from(n) + a * b);
        let nf = f64::from(n);
        if nf <= a || a / nf > i.max_occupancy {
            continue;
        }
        let c = erlang_c_from_b(n, a, b);
        let sl = sl_from_c(c, n, a, i.aht_seconds, i.service_level_seconds);
        if sl >= i.service_level_target {
            return Ok(AgentCount {
                agents: n,
                p_wait: c,
                service_level: sl,
                asa_seconds: asa_from_c(c, n, a, i.aht_seconds),
            });
        }
    }
    Err(StaffingError::Unreachable {
        max,
        target: i.service_level_target,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The profile's defaults: what a county gets without a staffing section.
    fn inputs() -> StaffingInputs {
        crate::profile::compile::default_staffing()
    }

    #[test]
    fn reference_vector() {
        let (a, n, aht) = (10.0, 14, 180.0);
        assert!(
            (erlang_c(n, a) - 0.17413).abs() < 1e-5,
            "{}",
            erlang_c(n, a)
        );
        let sl = service_level(n, a, aht, 20.0);
        assert!((sl - 0.88835).abs() < 1e-5, "{sl}");
        let asa = average_speed_of_answer(n, a, aht);
        assert!((asa - 7.836).abs() < 1e-3, "{asa}");
    }

    /// The textbook table for A = 10 Erlangs (e.g. Cooper, Introduction to Queueing Theory;
    /// every Erlang C calculator reproduces it).
    #[test]
    fn published_p_wait_at_10_erlangs() {
        for (n, expect) in [(11, 0.682), (12, 0.449), (13, 0.285), (14, 0.174)] {
            let c = erlang_c(n, 10.0);
            assert!(
                (c - expect).abs() < 5e-4,
                "C({n}, 10) = {c}, published {expect}"
            );
        }
    }

    /// 100 calls an hour at 180 s (5 Erlangs) with 80 % in 20 s: 8 agents, the classic answer.
    #[test]
    fn eighty_twenty_at_100_calls_needs_8_agents() {
        let mut i = inputs();
        i.max_occupancy = 1.0;
        let a = traffic_erlangs(100.0, 180.0);
        let s = agents_for(a, &i).unwrap();
        assert_eq!(s.agents, 8);
        assert!(service_level(7, a, 180.0, 20.0) < 0.8);
    }

    #[test]
    fn traffic_from_calls() {
        assert!((traffic_erlangs(200.0, 180.0) - 10.0).abs() < 1e-12);
    }

    #[test]
    fn erlang_b_small_cases_match_closed_form() {
        // B(1, A) = A / (1 + A); B(2, A) = (A²/2) / (1 + A + A²/2).
        for a in [0.1, 0.5, 1.0, 3.0, 7.5] {
            assert!((erlang_b(1, a) - a / (1.0 + a)).abs() < 1e-12);
            let b2 = (a * a / 2.0) / (1.0 + a + a * a / 2.0);
            assert!((erlang_b(2, a) - b2).abs() < 1e-12);
        }
    }

    #[test]
    fn stable_for_large_systems() {
        // 2,000 agents on 1,900 Erlangs: factorial formulas overflow long before this.
        let c = erlang_c(2000, 1900.0);
        assert!(c.is_finite() && (0.0..=1.0).contains(&c), "{c}");
        let sl = service_level(2000, 1900.0, 180.0, 20.0);
        assert!((0.0..=1.0).contains(&sl));
    }

    /// Property sweep: more agents never make waiting likelier, service worse or answers slower.
    #[test]
    fn monotone_in_agents() {
        for a10 in 1..200 {
            let a = f64::from(a10) * 0.37;
            let mut prev: Option<(f64, f64, f64)> = None;
            for n in (a.floor() as u32 + 1)..(a.ceil() as u32 + 40) {
                let c = erlang_c(n, a);
                let sl = service_level(n, a, 180.0, 20.0);
                let asa = average_speed_of_answer(n, a, 180.0);
                assert!((0.0..=1.0).contains(&c), "C({n},{a})={c}");
                assert!((0.0..=1.0).contains(&sl), "SL({n},{a})={sl}");
                if let Some((pc, psl, pasa)) = prev {
                    assert!(c <= pc + 1e-12, "C not decreasing at n={n}, a={a}");
                    assert!(sl + 1e-12 >= psl, "SL not increasing at n={n}, a={a}");
                    assert!(asa <= pasa + 1e-9, "ASA not decreasing at n={n}, a={a}");
                }
                prev = Some((c, sl, asa));
            }
        }
    }

    /// Property sweep: more traffic on the same agents means more waiting.
    #[test]
    fn monotone_in_traffic() {
        for n in 1..60u32 {
            let mut prev = 0.0;
            for step in 1..(n * 10) {
                let a = f64::from(step) * 0.1;
                if a >= f64::from(n) {
                    break;
                }
                let c = erlang_c(n, a);
                assert!(c + 1e-12 >= prev, "C({n},{a}) decreased");
                prev = c;
            }
        }
    }

    #[test]
    fn chosen_agents_minimal_at_10_erlangs() {
        // 200 calls/h × 180 s = 10 Erlangs.
        let i = inputs();
        let a = 10.0;
        let s = agents_for(a, &i).unwrap();
        let n = s.agents;
        assert!(service_level(n, a, 180.0, 20.0) >= 0.8);
        assert!(a / f64::from(n) <= 0.85);
        let below = n - 1;
        assert!(
            f64::from(below) <= a
                || service_level(below, a, 180.0, 20.0) < 0.8
                || a / f64::from(below) > 0.85
        );
    }

    /// Property sweep: the chosen count is the smallest that satisfies both constraints.
    #[test]
    fn agents_minimal_and_sufficient() {
        let mut i = inputs();
        for occ in [0.7, 0.85, 1.0] {
            i.max_occupancy = occ;
            for tgt in [0.5, 0.8, 0.95] {
                i.service_level_target = tgt;
                for a10 in 0..300 {
                    let a = f64::from(a10) * 0.5;
                    let s = agents_for(a, &i).unwrap();
                    let n = s.agents;
                    assert!(f64::from(n) > a);
                    assert!(s.service_level >= tgt && a / f64::from(n) <= occ + 1e-12);
                    if n > 1 {
                        let m = n - 1;
                        let ok = f64::from(m) > a
                            && a / f64::from(m) <= occ
                            && service_level(m, a, 180.0, 20.0) >= tgt;
                        assert!(!ok, "{m} agents would do for a={a}, occ={occ}, tgt={tgt}");
                    }
                }
            }
        }
    }

    #[test]
    fn shrinkage_rounds_up_without_float_noise() {
        let s = plan(300_000, &inputs()).unwrap();
        let exact = f64::from(s.agents) / 0.7;
        assert_eq!(s.scheduled_staff, (exact - 1e-9).ceil() as u32);
        assert!(f64::from(s.scheduled_staff) * 0.7 >= f64::from(s.agents) - 1e-9);
        // The 14/0.7 case itself.
        assert_eq!((14.0f64 / (1.0 - 0.3) - 1e-9).ceil() as u32, 20);
    }

    #[test]
    fn shaowu_staffing() {
        let s = plan(300_000, &inputs()).unwrap();
        // 300,000 × 150 / 1000 / 365 × 0.12 = 14.79 calls in the peak hour.
        assert!((s.peak_calls_per_hour - 14.794520547945206).abs() < 1e-9);
        assert!((s.traffic_erlangs - 0.7397260273972603).abs() < 1e-9);
        assert!(s.agents >= 1 && s.service_level >= 0.8);
        assert!(s.scheduled_staff >= s.agents);
    }

    #[test]
    fn zero_population_needs_one_agent() {
        let s = plan(0, &inputs()).unwrap();
        assert_eq!(s.agents, 1);
        assert_eq!(s.scheduled_staff, 2);
        assert_eq!(s.p_wait, 0.0);
    }

    #[test]
    fn rejects_out_of_range_inputs() {
        let mut i = inputs();
        i.service_level_target = 1.0;
        assert!(matches!(
            plan(1000, &i),
            Err(StaffingError::OutOfRange {
                field: "service_level_target",
                ..
            })
        ));
        let mut i = inputs();
        i.aht_seconds = 0.0;
        assert!(plan(1000, &i).is_err());
        let mut i = inputs();
        i.shrinkage = f64::NAN;
        assert!(plan(1000, &i).is_err());
    }
}
