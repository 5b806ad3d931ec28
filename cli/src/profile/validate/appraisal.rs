/*!
The `appraisal` and `early_warning` sections: appraisal weights each in [0, 1] and summing to
1, and positive early-warning windows, baselines and minimum counts with a ratio above 1.
*/

use super::Ctx;
use crate::profile::raw::RawProfile;

pub(super) fn check_appraisal(c: &mut Ctx<'_>, raw: &RawProfile) {
    if let Some(a) = &raw.appraisal {
        let fields = [
            ("on_time_sign", a.on_time_sign),
            ("on_time_close", a.on_time_close),
            ("satisfaction", a.satisfaction),
            ("follow_up", a.follow_up),
            ("return_rate", a.return_rate),
            ("repeat_rate", a.repeat_rate),
        ];
        for (k, v) in fields {
            if !(0.0..=1.0).contains(&v) {
                c.err(
                    &format!("appraisal.{k}"),
                    "weight out of range",
                    "a weight in [0, 1]",
                );
            }
        }
        let sum: f64 = fields.iter().map(|(_, v)| v).sum();
        if (sum - 1.0).abs() > 1e-6 {
            c.err(
                "appraisal",
                format!("weights sum to {sum:.4}, not 1"),
                "adjust the weights so they add up to 1",
            );
        }
    }
    if let Some(e) = &raw.early_warning {
        for (k, v) in [
            ("window_hours", e.window_hours),
            ("baseline_days", e.baseline_days),
            ("min_cases", e.min_cases),
        ] {
            if v == Some(0) {
                c.err(
                    &format!("early_warning.{k}"),
                    "must be positive",
                    "a whole number > 0",
                );
            }
        }
        for m in e.methods.iter().flatten() {
            if !m110_runtime::model::WARNING_METHODS.contains(&m.as_str()) {
                c.err(
                    "early_warning.methods",
                    format!("unknown method {m:?}"),
                    "ears_c1, ears_c2, ears_c3, cusum or scan",
                );
            }
        }
        if let Some(r) = e.recurrence_days
            && !(r.is_finite() && r >= 1.0)
        {
            c.err(
                "early_warning.recurrence_days",
                "must be at least 1",
                "e.g. 365 (one false alarm per category a year)",
            );
        }
        if let Some(d) = e.max_days
            && !(1..=30).contains(&d)
        {
            c.err("early_warning.max_days", "must be 1 to 30", "e.g. 7");
        }
        if let Some(s) = e.max_share
            && !(s.is_finite() && s > 0.0 && s <= 1.0)
        {
            c.err(
                "early_warning.max_share",
                "must be above 0 and at most 1",
                "e.g. 0.5",
            );
        }
        if let Some(r) = e.replicas
            && !(9..=9999).contains(&r)
        {
            c.err("early_warning.replicas", "must be 9 to 9999", "e.g. 999");
        }
        for h in e.holidays.iter().flatten() {
            if m110_runtime::model::time::day_start_ms(h).is_none() {
                c.err(
                    "early_warning.holidays",
                    format!("{h:?} is not a date"),
                    "YYYY-MM-DD, e.g. 2026-10-08",
                );
            }
        }
        if let Some(r) = e.ratio
            && !(r.is_finite() && r > 1.0)
        {
            c.err(
                "early_warning.ratio",
                "ratio must be above 1",
                "e.g. 3.0 (three times the baseline)",
            );
        }
    }
}
