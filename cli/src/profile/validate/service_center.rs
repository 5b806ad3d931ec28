/*!
The `service_center` section: the public number, opening hours, languages, the declared staff
and the staffing parameters (call rate, peak share, handling time, service level, shrinkage,
occupancy) that the Erlang C staffing estimate reads, each within its range, and the 24/7
roster's (week curve, shifts, 回访 and dispatch workload, minimums; docs/staffing.md).
*/

use m110_runtime::model::ShiftPattern;

use super::Ctx;
use crate::profile::compile::parse_hour_window;
use crate::profile::formats::{is_hours, is_language_tag};
use crate::profile::raw::{RawProfile, RawStaffing};

pub(super) fn check_service_center(c: &mut Ctx<'_>, raw: &RawProfile) {
    let Some(sc) = &raw.service_center else {
        return;
    };
    if let Some(n) = &sc.number {
        c.phone("service_center.number", n);
    }
    if let Some(h) = &sc.hours
        && !is_hours(h)
    {
        c.err(
            "service_center.hours",
            format!("`{h}` is not an opening-hours value"),
            "write 24/7 or HH:MM-HH:MM, e.g. 08:00-22:00",
        );
    }
    if let Some(langs) = &sc.languages {
        if langs.is_empty() {
            c.err(
                "service_center.languages",
                "needs at least one language",
                "e.g. [zh-CN, en]",
            );
        }
        for (i, l) in langs.iter().enumerate() {
            if !is_language_tag(l) {
                c.err(
                    &format!("service_center.languages[{i}]"),
                    format!("`{l}` is not a language tag"),
                    "use BCP 47 tags such as zh-CN or en",
                );
            }
        }
    }
    if let Some(d) = sc.reopen_window_days
        && !(1..=365).contains(&d)
    {
        c.err(
            "service_center.reopen_window_days",
            format!("{d} is out of range"),
            "whole days from 1 to 365; 30 is typical",
        );
    }
    if sc.staff == Some(0) {
        c.err(
            "service_center.staff",
            "0 is not a staff count",
            "the people the center has, all roles; leave it out when unknown",
        );
    }
    let Some(s) = &sc.staffing else { return };
    check_roster(c, s);
    let p = "service_center.staffing";
    let mut range = |field: &str, v: Option<f64>, ok: fn(f64) -> bool, hint: &str| {
        if let Some(v) = v
            && !(v.is_finite() && ok(v))
        {
            c.err(
                &format!("{p}.{field}"),
                format!("{v} is out of range"),
                hint.to_string(),
            );
        }
    };
    range(
        "calls_per_1000_per_year",
        s.calls_per_1000_per_year,
        |v| v > 0.0,
        "a positive number; 150 is typical",
    );
    range(
        "peak_hour_share",
        s.peak_hour_share,
        |v| v > 0.0 && v <= 1.0,
        "a share in (0, 1]; 0.12 is typical",
    );
    range(
        "aht_seconds",
        s.aht_seconds,
        |v| v > 0.0,
        "positive seconds; 180 is typical",
    );
    range(
        "service_level_target",
        s.service_level_target,
        |v| v > 0.0 && v < 1.0,
        "a share in (0, 1), e.g. 0.8 for 80 %",
    );
    range(
        "service_level_seconds",
        s.service_level_seconds,
        |v| v > 0.0,
        "positive seconds, e.g. 20",
    );
    range(
        "shrinkage",
        s.shrinkage,
        |v| (0.0..1.0).contains(&v),
        "a share in [0, 1), e.g. 0.3",
    );
    range(
        "max_occupancy",
        s.max_occupancy,
        |v| v > 0.0 && v <= 1.0,
        "a share in (0, 1], e.g. 0.85",
    );
}

/// A list of shares: `len` values, none negative, not all zero.
fn check_shares(c: &mut Ctx<'_>, field: &str, v: &[f64], len: usize, what: &str) {
    let path = format!("service_center.staffing.{field}");
    if v.len() != len {
        c.err(
            &path,
            format!("has {} values, needs {len}", v.len()),
            format!("one share per {what}; any scale, they are normalised (docs/staffing.md)"),
        );
    }
    for (i, x) in v.iter().enumerate() {
        if !(x.is_finite() && *x >= 0.0) {
            c.err(
                &format!("{path}[{i}]"),
                format!("{x} is not a share"),
                "a number of 0 or more",
            );
        }
    }
    if v.iter().all(|x| x.is_finite() && *x >= 0.0) && v.iter().sum::<f64>() <= 0.0 {
        c.err(
            &path,
            "the shares sum to 0",
            "at least one share must be above 0",
        );
    }
}

/// The roster's fields of `service_center.staffing`.
fn check_roster(c: &mut Ctx<'_>, s: &RawStaffing) {
    let p = "service_center.staffing";
    if let Some(v) = &s.intraday {
        check_shares(c, "intraday", v, 24, "hour 0–23");
    }
    if let Some(v) = &s.weekday {
        check_shares(c, "weekday", v, 7, "day, Monday first");
    }
    if let Some(v) = &s.shifts
        && ShiftPattern::parse(v).is_none()
    {
        c.err(
            &format!("{p}.shifts"),
            format!("`{v}` is not a shift pattern"),
            "write \"3x8\" (00–08, 08–16, 16–24) or \"2x12\" (08–20, 20–08)",
        );
    }
    let mut range = |field: &str, v: Option<f64>, ok: fn(f64) -> bool, hint: &str| {
        if let Some(v) = v
            && !(v.is_finite() && ok(v))
        {
            c.err(
                &format!("{p}.{field}"),
                format!("{v} is out of range"),
                hint.to_string(),
            );
        }
    };
    let share = |v: f64| (0.0..=1.0).contains(&v);
    let minutes = |v: f64| (0.0..=240.0).contains(&v);
    range(
        "case_share",
        s.case_share,
        share,
        "a share in [0, 1]; 0.86 is typical",
    );
    range(
        "followup_share",
        s.followup_share,
        share,
        "a share in [0, 1], e.g. 0.3",
    );
    range(
        "dispatch_minutes",
        s.dispatch_minutes,
        minutes,
        "minutes per case from 0 to 240; 3 is typical",
    );
    range(
        "followup_minutes",
        s.followup_minutes,
        minutes,
        "minutes per follow-up call from 0 to 240; 5 is typical",
    );
    if let Some(w) = &s.followup_window {
        let path = format!("{p}.followup_window");
        if w.is_empty() {
            c.err(
                &path,
                "needs at least one window",
                "e.g. [\"09-12\", \"14-18\"]; set followup_share: 0 for no follow-up calls",
            );
        }
        for (i, win) in w.iter().enumerate() {
            if parse_hour_window(win).is_none() {
                c.err(
                    &format!("{path}[{i}]"),
                    format!("`{win}` is not an hour window"),
                    "write HH-HH with 0 ≤ start < end ≤ 24, e.g. \"09-12\"",
                );
            }
        }
    }
    for (field, v) in [
        ("min_call_takers", s.min_call_takers),
        ("min_dispatchers", s.min_dispatchers),
        ("supervisors", s.supervisors),
    ] {
        if let Some(n) = v
            && n > 1000
        {
            c.err(
                &format!("{p}.{field}"),
                format!("{n} is out of range"),
                "heads per shift from 0 to 1000",
            );
        }
    }
}
