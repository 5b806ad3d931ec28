/*!
The week profile: expected calls in each of the 168 hours of a week, and what each hour needs.

Calls in hour `h` of day `d` = yearly calls / 52 × weekday share `d` × intraday share `h`
(Monday is day 0). Each hour is then sized for three desk roles:

- **call-takers (接线)** — inbound, random arrivals: Erlang C agents meeting the service level and
  the occupancy cap ([`super::agents_for`]), then rostered heads after shrinkage;
- **dispatchers (派单/督办)** — each case (calls × `case_share`) costs `dispatch_minutes`; the work
  arrives with the calls and is deterministic, so heads = work / max occupancy / (1 − shrinkage);
- **follow-up (回访)** — `followup_share` of the week's cases get a call of `followup_minutes`,
  made Monday to Friday in `followup_hours`, spread evenly over those hours (outbound work is
  scheduled, not queued, so no Erlang).

Minimums per shift and the shift supervisor are the roster's business ([`super::roster`]).
*/

use m110_runtime::model::{RosterInputs, StaffingInputs};
use serde::Serialize;

use super::{StaffingError, agents_for, check_inputs, scheduled_heads, traffic_erlangs};

/// Days in the week; day 0 is Monday.
pub const DAYS: usize = 7;
/// Hours in a day.
pub const HOURS: usize = 24;
/// Follow-up calls are made on the first five days (Monday to Friday).
pub const FOLLOWUP_DAYS: usize = 5;
/// Weeks a year's calls are spread over (52 weeks are 364 days; the missing day is 0.3 % of
/// the year, below anything a roster can see).
pub const WEEKS_PER_YEAR: f64 = 52.0;

/// Day names, zh-CN and English, Monday first.
pub const DAY_NAMES: [(&str, &str); DAYS] = [
    ("一", "Mon"),
    ("二", "Tue"),
    ("三", "Wed"),
    ("四", "Thu"),
    ("五", "Fri"),
    ("六", "Sat"),
    ("日", "Sun"),
];

/// A value per role for every hour of the week, `[day][hour]`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RoleGrid {
    pub call_takers: Vec<Vec<u32>>,
    pub followup: Vec<Vec<u32>>,
    pub dispatchers: Vec<Vec<u32>>,
}

/// The busiest hour of the week.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PeakHour {
    /// 0 = Monday.
    pub day: usize,
    pub hour: usize,
    pub calls: f64,
    pub traffic_erlangs: f64,
    pub agents: u32,
    pub service_level: f64,
}

/// The week's calls and what each hour needs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Week {
    pub yearly_calls: f64,
    pub weekly_calls: f64,
    /// Cases dispatched to units per week (calls × `case_share`).
    pub weekly_cases: f64,
    /// Follow-up calls per week (cases × `followup_share`).
    pub weekly_followups: f64,
    /// Hours of follow-up work per week.
    pub followup_hours_per_week: f64,
    /// Shares as used (normalised): 24 per day, 7 per week (Monday first).
    pub intraday: Vec<f64>,
    pub weekday: Vec<f64>,
    /// Expected calls, `[day][hour]`.
    pub calls: Vec<Vec<f64>>,
    /// Call-takers on the phones (Erlang C), `[day][hour]`.
    pub agents: Vec<Vec<u32>>,
    /// Heads each hour needs on the roster per role, shrinkage included; before the shifts'
    /// maxima and minimums.
    pub scheduled: RoleGrid,
    pub peak: PeakHour,
}

fn invalid(field: &'static str, problem: impl Into<String>) -> StaffingError {
    StaffingError::Invalid {
        field,
        problem: problem.into(),
    }
}

/// `v` divided by its sum, after checking its length and values.
fn shares(field: &'static str, v: &[f64], len: usize) -> Result<Vec<f64>, StaffingError> {
    if v.len() != len {
        return Err(invalid(
            field,
            format!("需要 {len} 个值 / needs {len} values, found {}", v.len()),
        ));
    }
    if let Some(x) = v.iter().find(|x| !(x.is_finite() && **x >= 0.0)) {
        return Err(invalid(
            field,
            format!("{x} 不是非负数 / {x} is not a non-negative number"),
        ));
    }
    let sum: f64 = v.iter().sum();
    if sum <= 0.0 {
        return Err(invalid(field, "合计须大于 0 / the shares must sum above 0"));
    }
    Ok(v.iter().map(|x| x / sum).collect())
}

fn check_roster(r: &RosterInputs) -> Result<(), StaffingError> {
    let share = |field: &'static str, v: f64| {
        if v.is_finite() && (0.0..=1.0).contains(&v) {
            Ok(())
        } else {
            Err(StaffingError::OutOfRange {
                field,
                value: v,
                expected: "in [0, 1]",
            })
        }
    };
    let minutes = |field: &'static str, v: f64| {
        if v.is_finite() && v >= 0.0 {
            Ok(())
        } else {
            Err(StaffingError::OutOfRange {
                field,
                value: v,
                expected: ">= 0",
            })
        }
    };
    share("case_share", r.case_share)?;
    share("followup_share", r.followup_share)?;
    minutes("dispatch_minutes", r.dispatch_minutes)?;
    minutes("followup_minutes", r.followup_minutes)?;
    if let Some(h) = r.followup_hours.iter().find(|h| usize::from(**h) >= HOURS) {
        return Err(invalid(
            "followup_hours",
            format!("hour {h} is not in 0–23"),
        ));
    }
    let followup_work = r.case_share * r.followup_share * r.followup_minutes;
    if followup_work > 0.0 && r.followup_hours.is_empty() {
        return Err(invalid(
            "followup_hours",
            "回访需要时段 / follow-up calls need at least one hour to be made in",
        ));
    }
    Ok(())
}

/// The week profile of `population` under the profile's staffing inputs.
pub fn plan(population: u64, inputs: &StaffingInputs) -> Result<Week, StaffingError> {
    check_inputs(inputs)?;
    let r = &inputs.roster;
    check_roster(r)?;
    let intraday = shares("intraday", &r.intraday, HOURS)?;
    let weekday = shares("weekday", &r.weekday, DAYS)?;
    let yearly_calls = super::yearly_calls(population, inputs);
    let weekly_calls = yearly_calls / WEEKS_PER_YEAR;
    let weekly_cases = weekly_calls * r.case_share;
    let weekly_followups = weekly_cases * r.followup_share;
    let followup_hours_per_week = weekly_followups * r.followup_minutes / 60.0;

    let mut followup_slot = [false; HOURS];
    for h in &r.followup_hours {
        followup_slot[usize::from(*h)] = true;
    }
    let slots = FOLLOWUP_DAYS * followup_slot.iter().filter(|s| **s).count();
    // Evenly spread: the outbound desk works its list at a steady pace through the window.
    let followup_per_slot = if slots == 0 {
        0.0
    } else {
        followup_hours_per_week / slots as f64
    };
    // Deterministic work: heads = work / productive share of an hour, after shrinkage.
    let desk = |work_hours: f64| {
        if work_hours <= 0.0 {
            0
        } else {
            scheduled_heads(work_hours / inputs.max_occupancy, inputs.shrinkage)
        }
    };

    let mut calls = vec![vec![0.0; HOURS]; DAYS];
    let mut agents = vec![vec![0u32; HOURS]; DAYS];
    let mut scheduled = RoleGrid {
        call_takers: vec![vec![0; HOURS]; DAYS],
        followup: vec![vec![0; HOURS]; DAYS],
        dispatchers: vec![vec![0; HOURS]; DAYS],
    };
    let mut peak: Option<PeakHour> = None;
    for d in 0..DAYS {
        for h in 0..HOURS {
            let c = weekly_calls * weekday[d] * intraday[h];
            let a = traffic_erlangs(c, inputs.aht_seconds);
            let n = agents_for(a, inputs)?;
            calls[d][h] = c;
            agents[d][h] = n.agents;
            scheduled.call_takers[d][h] = scheduled_heads(f64::from(n.agents), inputs.shrinkage);
            scheduled.dispatchers[d][h] = desk(c * r.case_share * r.dispatch_minutes / 60.0);
            if d < FOLLOWUP_DAYS && followup_slot[h] {
                scheduled.followup[d][h] = desk(followup_per_slot);
            }
            if peak.as_ref().is_none_or(|p| c > p.calls) {
                peak = Some(PeakHour {
                    day: d,
                    hour: h,
                    calls: c,
                    traffic_erlangs: a,
                    agents: n.agents,
                    service_level: n.service_level,
                });
            }
        }
    }
    Ok(Week {
        yearly_calls,
        weekly_calls,
        weekly_cases,
        weekly_followups,
        followup_hours_per_week,
        intraday,
        weekday,
        calls,
        agents,
        scheduled,
        peak: peak.expect("a week has hours"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use m110_runtime::model::{DEFAULT_INTRADAY, DEFAULT_WEEKDAY};

    fn inputs() -> StaffingInputs {
        crate::profile::compile::default_staffing()
    }

    #[test]
    fn default_curves_are_shares() {
        let sum: f64 = DEFAULT_INTRADAY.iter().sum();
        assert!((sum - 1.0).abs() < 1e-9, "{sum}");
        let sum: f64 = DEFAULT_WEEKDAY.iter().sum();
        assert!((sum - 1.0).abs() < 1e-9, "{sum}");
        // The documented shape: night low, mornings and afternoons peak, weekend lighter.
        let i = &DEFAULT_INTRADAY;
        assert!(i[3] < i[7] && i[7] < i[9] && i[10] > i[12] && i[15] > i[12]);
        assert!(i[19] < i[15] && i[19] > i[3]);
        let w = DEFAULT_WEEKDAY.to_vec();
        assert!(w[5] < w[4] && w[6] < w[4] && w[0] == w.iter().copied().fold(0.0, f64::max));
    }

    #[test]
    fn calls_add_up_to_the_year() {
        let w = plan(650_000, &inputs()).unwrap();
        let total: f64 = w.calls.iter().flatten().sum();
        assert!((total - 650_000.0 * 0.15 / 52.0).abs() < 1e-6, "{total}");
        assert!((w.weekly_calls - total).abs() < 1e-6);
        // Monday 10:00 is the default curve's busiest hour.
        assert_eq!((w.peak.day, w.peak.hour), (0, 10));
        let expect = 97_500.0 / 52.0 * 0.155 * 0.076;
        assert!((w.peak.calls - expect).abs() < 1e-9, "{}", w.peak.calls);
    }

    #[test]
    fn every_hour_meets_the_service_level() {
        let i = inputs();
        let w = plan(650_000, &i).unwrap();
        for d in 0..DAYS {
            for h in 0..HOURS {
                let a = traffic_erlangs(w.calls[d][h], i.aht_seconds);
                let n = w.agents[d][h];
                assert!(super::super::service_level(n, a, i.aht_seconds, 20.0) >= 0.8);
                assert!(a / f64::from(n) <= i.max_occupancy);
                assert!(w.scheduled.call_takers[d][h] as f64 * 0.7 >= f64::from(n) - 1e-9);
            }
        }
        // Busier hours never need fewer agents.
        let mut hours: Vec<(f64, u32)> = w
            .calls
            .iter()
            .flatten()
            .copied()
            .zip(w.agents.iter().flatten().copied())
            .collect();
        hours.sort_by(|a, b| a.0.total_cmp(&b.0));
        assert!(hours.windows(2).all(|p| p[0].1 <= p[1].1));
    }

    #[test]
    fn followup_work_lands_in_its_window_on_weekdays() {
        let i = inputs();
        let w = plan(650_000, &i).unwrap();
        let window = &i.roster.followup_hours;
        for d in 0..DAYS {
            for h in 0..HOURS {
                let on = d < FOLLOWUP_DAYS && window.contains(&(h as u8));
                assert_eq!(w.scheduled.followup[d][h] > 0, on, "day {d} hour {h}");
            }
        }
        // 97,500 / 52 × 0.86 × 0.3 follow-ups of 5 minutes.
        let hours = 97_500.0 / 52.0 * 0.86 * 0.3 * 5.0 / 60.0;
        assert!((w.followup_hours_per_week - hours).abs() < 1e-9);
        // 40.3 h over 35 slots = 1.15 h/h → / 0.85 / 0.7 = 1.94 → 2 heads.
        assert_eq!(w.scheduled.followup[0][9], 2);
    }

    #[test]
    fn dispatch_scales_with_cases() {
        let i = inputs();
        let w = plan(650_000, &i).unwrap();
        let (d, h) = (w.peak.day, w.peak.hour);
        let work = w.calls[d][h] * 0.86 * 3.0 / 60.0;
        assert_eq!(
            w.scheduled.dispatchers[d][h],
            scheduled_heads(work / 0.85, 0.3)
        );
        let big = plan(6_500_000, &i).unwrap();
        assert!(big.scheduled.dispatchers[d][h] > w.scheduled.dispatchers[d][h]);
        let mut none = i.clone();
        none.roster.case_share = 0.0;
        let w = plan(650_000, &none).unwrap();
        assert!(w.scheduled.dispatchers.iter().flatten().all(|n| *n == 0));
        assert!(w.scheduled.followup.iter().flatten().all(|n| *n == 0));
    }

    #[test]
    fn shares_are_normalised_and_checked() {
        let mut i = inputs();
        i.roster.weekday = vec![2.0; 7];
        let w = plan(100_000, &i).unwrap();
        assert!(w.weekday.iter().all(|s| (s - 1.0 / 7.0).abs() < 1e-12));
        i.roster.weekday = vec![1.0; 6];
        assert!(matches!(
            plan(100_000, &i),
            Err(StaffingError::Invalid {
                field: "weekday",
                ..
            })
        ));
        let mut i = inputs();
        i.roster.intraday = vec![0.0; 24];
        assert!(plan(100_000, &i).is_err());
        i.roster.intraday = DEFAULT_INTRADAY.to_vec();
        i.roster.intraday[3] = -0.1;
        assert!(plan(100_000, &i).is_err());
        let mut i = inputs();
        i.roster.followup_hours = vec![];
        assert!(plan(100_000, &i).is_err());
        i.roster.followup_share = 0.0;
        assert!(plan(100_000, &i).is_ok());
        i.roster.followup_hours = vec![24];
        assert!(plan(100_000, &i).is_err());
    }
}
