/*!
The 24/7 roster: the week's hourly needs ([`super::week`]) turned into shifts, heads and FTE.

For each day and shift, a role's heads are the largest need over the shift's hours (a shift is
staffed for its busiest hour), raised to the per-shift minimum (`min_call_takers`,
`min_dispatchers`), plus `supervisors` shift supervisors (值班长) on every shift. A shift that
starts late in the day runs into the next (2x12's 20–08 night), and Sunday's night runs into
Monday morning: the week repeats.

Follow-up (回访) is office work, not a 24/7 post: its people work the follow-up window on Monday
to Friday (a 回访班 of the window's hours), as many each day as that day's busiest window hour
needs; they are not spread over the round-the-clock shifts.

Paid hours per week are heads × shift length summed over the week, and FTE = paid hours / 40
(the standard 40-hour week of 《国务院关于职工工作时间的规定》). Shrinkage is already in the desk
roles' heads; the supervisor is a post always filled, counted at its 168 hours a week.
*/

use m110_runtime::model::{ShiftPattern, StaffingInputs};
use serde::Serialize;

use super::StaffingError;
use super::week::{self, DAYS, FOLLOWUP_DAYS, HOURS, Week};

/// Paid hours of one full-time employee per week.
pub const FTE_HOURS_PER_WEEK: f64 = 40.0;

/// One shift of a pattern.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Shift {
    /// Stable key: `night`, `day`, `evening`.
    pub key: &'static str,
    pub name: &'static str,
    pub name_en: &'static str,
    /// Hour of the day it starts (0–23).
    pub start: usize,
    pub hours: usize,
}

/// The shifts of a pattern, in the order of their start hour within the day.
pub fn shifts(pattern: ShiftPattern) -> Vec<Shift> {
    let s = |key, name, name_en, start, hours| Shift {
        key,
        name,
        name_en,
        start,
        hours,
    };
    match pattern {
        ShiftPattern::ThreeByEight => vec![
            s("night", "夜班", "Night", 0, 8),
            s("day", "白班", "Day", 8, 8),
            s("evening", "中班", "Evening", 16, 8),
        ],
        ShiftPattern::TwoByTwelve => vec![
            s("day", "白班", "Day", 8, 12),
            s("night", "夜班", "Night", 20, 12),
        ],
    }
}

/// A figure per role, and their total.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct PerRole<T> {
    /// 接线 call-takers.
    pub call_takers: T,
    /// 回访 follow-up.
    pub followup: T,
    /// 派单/督办 dispatchers.
    pub dispatchers: T,
    /// 值班长 shift supervisors.
    pub supervisors: T,
    pub total: T,
}

/// Heads on one shift of one day.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ShiftHeads {
    pub call_takers: u32,
    pub dispatchers: u32,
    pub supervisors: u32,
    pub total: u32,
}

/// Reads one role's heads off a shift.
pub type RoleHeads = fn(&ShiftHeads) -> u32;

/// The 24/7 shifts' roles with their bilingual labels, in display order, then the total.
pub const SHIFT_ROLES: [(&str, RoleHeads); 4] = [
    ("接线 Call-takers", |h| h.call_takers),
    ("派单/督办 Dispatch", |h| h.dispatchers),
    ("值班长 Supervisor", |h| h.supervisors),
    ("合计 Total", |h| h.total),
];

/// The follow-up (回访) desk's office shift.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FollowupShift {
    /// The hours of the day it works (0–23), Monday to Friday.
    pub hours_of_day: Vec<usize>,
    /// Paid hours per person per working day (the window's length).
    pub hours: usize,
    /// Heads per day, Monday first (0 on Saturday and Sunday).
    pub heads: Vec<u32>,
}

/// "09–12, 14–18" for hours 9, 10, 11, 14, 15, 16, 17.
pub fn windows_label(hours: &[usize]) -> String {
    let mut runs: Vec<(usize, usize)> = Vec::new();
    for &h in hours {
        match runs.last_mut() {
            Some((_, end)) if *end == h => *end = h + 1,
            _ => runs.push((h, h + 1)),
        }
    }
    runs.iter()
        .map(|(a, b)| format!("{a:02}–{b:02}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A roster for one shift pattern.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Roster {
    /// `3x8` or `2x12`.
    pub pattern: &'static str,
    pub shifts: Vec<Shift>,
    /// Heads per role, `[day][shift]` (Monday first, shifts as in `shifts`).
    pub heads: Vec<Vec<ShiftHeads>>,
    pub followup: FollowupShift,
    /// Paid hours per week.
    pub paid_hours: PerRole<u32>,
    /// Full-time equivalents at 40 h/week: `paid_hours / 40`.
    pub fte: PerRole<f64>,
}

/// The other pattern's totals, for comparison.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RosterSummary {
    pub pattern: &'static str,
    pub paid_hours: u32,
    pub fte: f64,
}

/// The week, its roster in the profile's pattern, and the other pattern's totals.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WeekPlan {
    pub week: Week,
    pub roster: Roster,
    pub other_pattern: RosterSummary,
}

/// The roster of `week` in `pattern`.
pub fn roster(week: &Week, inputs: &StaffingInputs, pattern: ShiftPattern) -> Roster {
    let r = &inputs.roster;
    let shifts = shifts(pattern);
    let need = &week.scheduled;
    let heads: Vec<Vec<ShiftHeads>> = (0..DAYS)
        .map(|d| {
            shifts
                .iter()
                .map(|s| {
                    // Hours of the week the shift covers; past Sunday 24:00 is Monday again.
                    let hours = (0..s.hours).map(|k| {
                        let t = (d * HOURS + s.start + k) % (DAYS * HOURS);
                        (t / HOURS, t % HOURS)
                    });
                    let most = |grid: &Vec<Vec<u32>>| {
                        hours
                            .clone()
                            .map(|(dd, hh)| grid[dd][hh])
                            .max()
                            .unwrap_or(0)
                    };
                    let call_takers = most(&need.call_takers).max(r.min_call_takers);
                    let dispatchers = most(&need.dispatchers).max(r.min_dispatchers);
                    ShiftHeads {
                        call_takers,
                        dispatchers,
                        supervisors: r.supervisors,
                        total: call_takers + dispatchers + r.supervisors,
                    }
                })
                .collect()
        })
        .collect();
    let mut window: Vec<usize> = r.followup_hours.iter().map(|h| usize::from(*h)).collect();
    window.sort_unstable();
    window.dedup();
    let followup = FollowupShift {
        heads: (0..DAYS)
            .map(|d| {
                let most = window.iter().map(|h| need.followup[d][*h]).max();
                if d < FOLLOWUP_DAYS {
                    most.unwrap_or(0)
                } else {
                    0
                }
            })
            .collect(),
        hours: window.len(),
        hours_of_day: window,
    };
    let mut paid = PerRole::<u32>::default();
    for day in &heads {
        for (h, s) in day.iter().zip(&shifts) {
            let len = s.hours as u32;
            paid.call_takers += h.call_takers * len;
            paid.dispatchers += h.dispatchers * len;
            paid.supervisors += h.supervisors * len;
        }
    }
    paid.followup = followup.heads.iter().sum::<u32>() * followup.hours as u32;
    paid.total = paid.call_takers + paid.followup + paid.dispatchers + paid.supervisors;
    let fte = |h: u32| f64::from(h) / FTE_HOURS_PER_WEEK;
    Roster {
        pattern: pattern.as_str(),
        shifts,
        heads,
        followup,
        paid_hours: paid,
        fte: PerRole {
            call_takers: fte(paid.call_takers),
            followup: fte(paid.followup),
            dispatchers: fte(paid.dispatchers),
            supervisors: fte(paid.supervisors),
            total: fte(paid.total),
        },
    }
}

/// The week profile and roster of `population` under the profile's staffing inputs.
pub fn plan(population: u64, inputs: &StaffingInputs) -> Result<WeekPlan, StaffingError> {
    let week = week::plan(population, inputs)?;
    let chosen = inputs.roster.shifts;
    let other = ShiftPattern::ALL
        .into_iter()
        .find(|p| *p != chosen)
        .expect("two patterns");
    let alt = roster(&week, inputs, other);
    Ok(WeekPlan {
        roster: roster(&week, inputs, chosen),
        other_pattern: RosterSummary {
            pattern: alt.pattern,
            paid_hours: alt.paid_hours.total,
            fte: alt.fte.total,
        },
        week,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs() -> StaffingInputs {
        crate::profile::compile::default_staffing()
    }

    /// Every role's heads on every shift cover every hour of the shift.
    fn covers(w: &Week, r: &Roster) {
        for d in 0..DAYS {
            for (i, s) in r.shifts.iter().enumerate() {
                let h = &r.heads[d][i];
                for k in 0..s.hours {
                    let t = (d * HOURS + s.start + k) % (DAYS * HOURS);
                    let (dd, hh) = (t / HOURS, t % HOURS);
                    assert!(h.call_takers >= w.scheduled.call_takers[dd][hh]);
                    assert!(h.dispatchers >= w.scheduled.dispatchers[dd][hh]);
                }
            }
            for hh in 0..HOURS {
                let need = w.scheduled.followup[d][hh];
                if need > 0 {
                    assert!(r.followup.hours_of_day.contains(&hh));
                    assert!(r.followup.heads[d] >= need);
                }
            }
        }
    }

    /// The shifts of a pattern cover each hour of the day exactly once.
    #[test]
    fn shifts_tile_the_day() {
        for p in ShiftPattern::ALL {
            let mut seen = [0; HOURS];
            for s in shifts(p) {
                for k in 0..s.hours {
                    seen[(s.start + k) % HOURS] += 1;
                }
            }
            assert!(seen.iter().all(|n| *n == 1), "{p:?}: {seen:?}");
        }
    }

    /// The 650,000-person county with every default: the figures docs/staffing.md quotes.
    #[test]
    fn county_of_650k_with_defaults() {
        let i = inputs();
        let p = plan(650_000, &i).unwrap();
        let (w, r) = (&p.week, &p.roster);
        assert_eq!(r.pattern, "3x8");
        assert_eq!(p.other_pattern.pattern, "2x12");
        covers(w, r);
        covers(w, &roster(w, &i, ShiftPattern::TwoByTwelve));
        for day in &r.heads {
            // Night shift (00–08): never fewer than the minimum call-takers, a supervisor.
            assert!(day[0].call_takers >= 2 && day[0].dispatchers >= 1);
            assert_eq!(day[0].supervisors, 1);
        }
        assert_eq!(r.followup.heads[5..], [0, 0]);
        assert_eq!(windows_label(&r.followup.hours_of_day), "09–12, 14–18");
        // Weekly hours are consistent: FTE × 40 = paid hours, per role and in total.
        let (h, f) = (&r.paid_hours, &r.fte);
        for (hours, fte) in [
            (h.call_takers, f.call_takers),
            (h.followup, f.followup),
            (h.dispatchers, f.dispatchers),
            (h.supervisors, f.supervisors),
            (h.total, f.total),
        ] {
            assert!((fte * 40.0 - f64::from(hours)).abs() < 1e-9);
        }
        assert_eq!(
            h.total,
            h.call_takers + h.followup + h.dispatchers + h.supervisors
        );
        let heads_hours: u32 = r
            .heads
            .iter()
            .flat_map(|d| d.iter().zip(&r.shifts))
            .map(|(h, s)| h.total * s.hours as u32)
            .sum::<u32>()
            + r.followup.heads.iter().sum::<u32>() * 7;
        assert_eq!(heads_hours, h.total);
        assert_eq!(h.supervisors, 168);
        // A 24/7 center needs far more people than are on the phones in the busiest hour.
        assert!(f.total > f64::from(w.peak.agents));
        assert!(f.call_takers > f64::from(w.peak.agents));
        // The figures (docs/staffing.md quotes them).
        assert_eq!(w.peak.agents, 3);
        for day in &r.heads {
            let ct: Vec<u32> = day.iter().map(|s| s.call_takers).collect();
            let dp: Vec<u32> = day.iter().map(|s| s.dispatchers).collect();
            assert_eq!((ct, dp), (vec![3, 5, 5], vec![1, 2, 2]));
        }
        assert_eq!(r.followup.heads, [2, 2, 2, 2, 2, 0, 0]);
        assert_eq!(
            (
                h.call_takers,
                h.followup,
                h.dispatchers,
                h.supervisors,
                h.total
            ),
            (728, 70, 280, 168, 1246)
        );
        assert!((f.total - 31.15).abs() < 1e-9);
        assert_eq!(p.other_pattern.paid_hours, 1162);
    }

    #[test]
    fn twelve_hour_night_runs_into_the_next_day() {
        let i = inputs();
        let w = week::plan(650_000, &i).unwrap();
        let r = roster(&w, &i, ShiftPattern::TwoByTwelve);
        assert_eq!(r.shifts[1].key, "night");
        // Friday's night (20–08) includes Saturday morning; Sunday's includes Monday 07:00.
        let sunday_night = &r.heads[6][1];
        assert!(sunday_night.call_takers >= w.scheduled.call_takers[0][7]);
        assert_eq!(r.heads.len(), 7);
        assert!(r.heads.iter().all(|d| d.len() == 2));
    }

    #[test]
    fn minimums_and_supervisors_follow_the_inputs() {
        let mut i = inputs();
        i.roster.min_call_takers = 0;
        i.roster.min_dispatchers = 0;
        i.roster.supervisors = 0;
        i.roster.case_share = 0.0;
        let p = plan(0, &i).unwrap();
        // No calls: one agent by Erlang C (N > A = 0), 2 rostered after 30 % shrinkage.
        assert!(
            p.roster
                .heads
                .iter()
                .flatten()
                .all(|h| { h.call_takers == 2 && h.dispatchers == 0 && h.supervisors == 0 })
        );
        assert!(p.roster.followup.heads.iter().all(|n| *n == 0));
        assert_eq!(p.roster.paid_hours.total, 2 * 168);
        i.roster.min_call_takers = 5;
        i.roster.supervisors = 2;
        let p = plan(0, &i).unwrap();
        assert!(
            p.roster
                .heads
                .iter()
                .flatten()
                .all(|h| h.call_takers == 5 && h.supervisors == 2)
        );
        assert_eq!(p.roster.fte.supervisors, 2.0 * 168.0 / 40.0);
    }

    #[test]
    fn the_profile_picks_the_pattern() {
        let mut i = inputs();
        i.roster.shifts = ShiftPattern::TwoByTwelve;
        let p = plan(650_000, &i).unwrap();
        assert_eq!((p.roster.pattern, p.other_pattern.pattern), ("2x12", "3x8"));
        assert_eq!(p.roster.shifts.len(), 2);
    }
}
