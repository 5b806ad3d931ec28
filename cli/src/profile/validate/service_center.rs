/*!
The `service_center` section: the public number, opening hours, languages and the staffing
parameters (call rate, peak share, handling time, service level, shrinkage, occupancy) that the
Erlang C staffing estimate reads, each within its range.
*/

use super::Ctx;
use crate::profile::formats::{is_hours, is_language_tag};
use crate::profile::raw::RawProfile;

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
    let Some(s) = &sc.staffing else { return };
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
