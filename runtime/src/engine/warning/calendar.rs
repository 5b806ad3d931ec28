/*!
Chinese public holidays (法定节假日放假) and make-up working days (调休上班) as day numbers.

Request volume on a holiday looks like a Sunday's, and a make-up working Saturday looks like a
working day: a detector that only knew the weekday would raise an alert every time a holiday
ended and miss outbreaks on make-up days. The table below is the State Council's annual notices
(国务院办公厅关于部分节假日安排的通知), checked against the published text:

- 2024: 国办发明电〔2023〕7号 (25 Oct 2023);
- 2025: 国办发明电〔2024〕12号 (12 Nov 2024, the first year under the revised 放假办法 with the
  extra 除夕 and 5月2日 days);
- 2026: the notice of 4 Nov 2025 (Xinhua full text), including the lunar holidays.

Later years are added here when the State Council publishes them (each November); until then a
region lists them in its profile (`extra`), and local holidays the same way.
*/

use std::collections::HashSet;

use chrono::{Datelike, NaiveDate};

/// One published holiday (放假) period, inclusive, as `(start, end)` `YYYY-MM-DD`.
type Range = (&'static str, &'static str);

/// The statutory holiday periods as published (放假调休 ranges, weekends inside them included).
const HOLIDAYS: &[Range] = &[
    // 2024 (国办发明电〔2023〕7号). 元旦 "1月1日放假，与周末连休"; 端午 "6月10日放假，与周末连休".
    ("2023-12-30", "2024-01-01"),
    ("2024-02-10", "2024-02-17"),
    ("2024-04-04", "2024-04-06"),
    ("2024-05-01", "2024-05-05"),
    ("2024-06-08", "2024-06-10"),
    ("2024-09-15", "2024-09-17"),
    ("2024-10-01", "2024-10-07"),
    // 2025 (国办发明电〔2024〕12号). 国庆 and 中秋 merged into eight days.
    ("2025-01-01", "2025-01-01"),
    ("2025-01-28", "2025-02-04"),
    ("2025-04-04", "2025-04-06"),
    ("2025-05-01", "2025-05-05"),
    ("2025-05-31", "2025-06-02"),
    ("2025-10-01", "2025-10-08"),
    // 2026 (notice of 4 Nov 2025): 春节 is nine days, 腊月二十八 to 正月初七.
    ("2026-01-01", "2026-01-03"),
    ("2026-02-15", "2026-02-23"),
    ("2026-04-04", "2026-04-06"),
    ("2026-05-01", "2026-05-05"),
    ("2026-06-19", "2026-06-21"),
    ("2026-09-25", "2026-09-27"),
    ("2026-10-01", "2026-10-07"),
];

/// The make-up working weekend days (调休上班) of the same notices.
const WORKDAYS: &[&str] = &[
    // 2024
    "2024-02-04",
    "2024-02-18",
    "2024-04-07",
    "2024-04-28",
    "2024-05-11",
    "2024-09-14",
    "2024-09-29",
    "2024-10-12",
    // 2025
    "2025-01-26",
    "2025-02-08",
    "2025-04-27",
    "2025-09-28",
    "2025-10-11",
    // 2026
    "2026-01-04",
    "2026-02-14",
    "2026-02-28",
    "2026-05-09",
    "2026-09-20",
    "2026-10-10",
];

/// The day number (days since 1970-01-01) of a `YYYY-MM-DD` date; `None` when it is not one.
pub fn parse_date(s: &str) -> Option<i64> {
    let date = NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok()?;
    Some(day_number(date))
}

/// The day number of a date (days since 1970-01-01; negative before).
pub fn day_number(date: NaiveDate) -> i64 {
    // 719_163 is the day count from 0001-01-01 (CE day 1) to 1970-01-01.
    i64::from(date.num_days_from_ce()) - 719_163
}

/// The built-in holidays plus `extra` dates (`YYYY-MM-DD`, from the region profile: local
/// holidays, later years' notices). Malformed extras are skipped here because the profile
/// validator is where they are reported (with [`parse_date`]); the detector must still run.
pub fn holidays(extra: &[String]) -> HashSet<i64> {
    let mut out = HashSet::new();
    for (start, end) in HOLIDAYS {
        if let (Some(a), Some(b)) = (parse_date(start), parse_date(end)) {
            out.extend(a..=b);
        }
    }
    out.extend(extra.iter().filter_map(|s| parse_date(s)));
    out
}

/// The built-in make-up working days (调休上班): weekend days that are worked.
pub fn workdays() -> HashSet<i64> {
    WORKDAYS.iter().filter_map(|s| parse_date(s)).collect()
}

/// The calendar the detectors adjust for: which days are holidays, which weekend days are worked.
#[derive(Debug, Clone, Default)]
pub struct Calendar {
    /// Holidays (treated like Sundays).
    pub holidays: HashSet<i64>,
    /// Make-up working days (treated like an ordinary working day).
    pub workdays: HashSet<i64>,
}

impl Calendar {
    /// The built-in Chinese calendar plus the profile's extra holidays.
    pub fn china(extra_holidays: &[String]) -> Calendar {
        Calendar {
            holidays: holidays(extra_holidays),
            workdays: workdays(),
        }
    }

    /// The day class of a day number: its weekday 0 (Monday) ..= 6 (Sunday), 6 for a holiday,
    /// or [`WORKDAY_CLASS`] for a make-up working day (whose weekday, a Saturday or Sunday, says
    /// nothing about its volume).
    pub fn class(&self, day: i64) -> usize {
        if self.holidays.contains(&day) {
            6
        } else if self.workdays.contains(&day) {
            WORKDAY_CLASS
        } else {
            super::weekday(day)
        }
    }
}

/// The day class of a make-up working day (see [`Calendar::class`]).
pub const WORKDAY_CLASS: usize = 7;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_numbers_match_the_unix_epoch() {
        assert_eq!(parse_date("1970-01-01"), Some(0));
        assert_eq!(parse_date("2024-01-01"), Some(19_723));
        assert_eq!(parse_date("2024-02-30"), None);
        assert_eq!(parse_date("not a date"), None);
        // 2024-01-01 was a Monday.
        assert_eq!(super::super::weekday(19_723), 0);
    }

    #[test]
    fn the_tables_are_well_formed() {
        for (a, b) in HOLIDAYS {
            let (a, b) = (parse_date(a).unwrap(), parse_date(b).unwrap());
            assert!(a <= b && b - a < 10, "{a}..{b}");
        }
        let holidays = holidays(&[]);
        for d in WORKDAYS {
            let day = parse_date(d).unwrap();
            // Every make-up working day is a weekend day and not a holiday.
            assert!(super::super::weekday(day) >= 5, "{d}");
            assert!(!holidays.contains(&day), "{d}");
        }
    }

    #[test]
    fn holidays_include_the_spring_festival_and_extras() {
        let h = holidays(&["2026-03-03".into(), "bad".into()]);
        for d in [
            "2024-02-10",
            "2025-01-28",
            "2025-10-08",
            "2026-02-23",
            "2026-03-03",
        ] {
            assert!(h.contains(&parse_date(d).unwrap()), "{d}");
        }
        assert!(!h.contains(&parse_date("2026-02-24").unwrap()));
        // 2025: 7 periods' days, 1 + 8 + 3 + 5 + 3 + 8 = 28.
        let y2025 = h
            .iter()
            .filter(|d| {
                (parse_date("2025-01-01").unwrap()..=parse_date("2025-12-31").unwrap()).contains(d)
            })
            .count();
        assert_eq!(y2025, 28);
        let cal = Calendar::china(&[]);
        assert_eq!(cal.class(parse_date("2026-02-17").unwrap()), 6);
        assert_eq!(cal.class(parse_date("2026-02-14").unwrap()), WORKDAY_CLASS);
        assert_eq!(cal.class(parse_date("2026-03-02").unwrap()), 0);
    }
}
