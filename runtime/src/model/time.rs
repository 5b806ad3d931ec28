/*!
Time, defined once: storage keeps Unix epoch milliseconds (UTC, [`now_ms`]); people and partner
platforms see Asia/Shanghai (+08:00 all year, no DST), rendered at the edges.
*/

use chrono::{DateTime, FixedOffset, TimeZone, Utc};

/// Now as Unix epoch milliseconds (UTC), the storage time format.
pub fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

/// Asia/Shanghai (+08:00, no DST): the zone every time is shown in.
pub fn shanghai_offset() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("valid offset")
}

/// A stored epoch-millisecond time in Asia/Shanghai, or `None` outside chrono's range.
pub fn local(ms: i64) -> Option<DateTime<FixedOffset>> {
    Utc.timestamp_millis_opt(ms)
        .single()
        .map(|t| t.with_timezone(&shanghai_offset()))
}

/// A stored epoch-millisecond time in Asia/Shanghai (the epoch when out of range).
pub fn shanghai(ms: i64) -> DateTime<FixedOffset> {
    local(ms).unwrap_or_else(|| shanghai_offset().timestamp_millis_opt(0).unwrap())
}

/// RFC 3339 with the +08:00 offset, e.g. `2026-11-29T09:30:00+08:00`.
pub fn render_time(ms: i64) -> String {
    shanghai(ms).to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}

/// The first millisecond of a calendar day (`YYYY-MM-DD`) in Asia/Shanghai; `None` when the
/// text is not a date. A day's end is the next day's start.
pub fn day_start_ms(date: &str) -> Option<i64> {
    let d = chrono::NaiveDate::parse_from_str(date.trim(), "%Y-%m-%d").ok()?;
    let t = d.and_hms_opt(0, 0, 0)?;
    shanghai_offset()
        .from_local_datetime(&t)
        .single()
        .map(|t| t.timestamp_millis())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_start_at_shanghai_midnight() {
        // 2026-12-01 00:00 +08:00 = 2026-11-30 16:00 UTC.
        assert_eq!(day_start_ms("2026-12-01"), Some(1_796_054_400_000));
        assert_eq!(day_start_ms("2026-13-01"), None);
        assert_eq!(day_start_ms("yesterday"), None);
    }

    #[test]
    fn times_render_in_shanghai() {
        let ms = Utc
            .with_ymd_and_hms(2026, 11, 29, 1, 30, 0)
            .unwrap()
            .timestamp_millis();
        assert_eq!(render_time(ms), "2026-11-29T09:30:00+08:00");
        assert_eq!(shanghai(ms).format("%Y%m%d").to_string(), "20261129");
        assert_eq!(local(ms).unwrap().format("%H:%M").to_string(), "09:30");
    }
}
