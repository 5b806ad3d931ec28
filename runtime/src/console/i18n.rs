/*!
Console languages: a zh-CN (default) and English message catalog, the choice of language per
request (`?lang=` beats the `lang` cookie beats the default), and times rendered in
Asia/Shanghai.

Why a static catalog instead of gettext files: the console has a few hundred short strings, both
languages ship in the binary, and a unit test proves every key the templates use exists in both
languages, so a missing translation fails CI instead of showing a raw key to an operator.

Times are stored as UTC epoch milliseconds; China has had no DST since 1991, so Asia/Shanghai is
the fixed offset +08:00 and no tz database is needed.
*/

use super::catalog;
use crate::model::time::local;

/// A console language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub enum Lang {
    /// 简体中文, the default.
    #[default]
    #[serde(rename = "zh-CN")]
    Zh,
    #[serde(rename = "en")]
    En,
}

impl Lang {
    /// Parses a tag as sent by a link or cookie ("zh-CN", "zh", "en", "en-US" …).
    pub fn parse(tag: &str) -> Option<Lang> {
        let tag = tag.trim().to_ascii_lowercase();
        if tag == "zh" || tag.starts_with("zh-") || tag.starts_with("zh_") {
            Some(Lang::Zh)
        } else if tag == "en" || tag.starts_with("en-") || tag.starts_with("en_") {
            Some(Lang::En)
        } else {
            None
        }
    }

    /// The BCP 47 tag for `<html lang>` and the cookie.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }

    /// Picks the language: an explicit `?lang=` first, then the `lang` cookie, then zh-CN.
    pub fn choose(query: Option<&str>, cookie: Option<&str>) -> Lang {
        query
            .and_then(Lang::parse)
            .or_else(|| cookie.and_then(Lang::parse))
            .unwrap_or_default()
    }

    /// Looks a message up; an unknown key returns the key itself (and the catalog test makes
    /// sure templates never use one).
    pub fn t(self, key: &str) -> &str {
        match catalog::lookup(key) {
            Some((_, zh, en)) => match self {
                Lang::Zh => zh,
                Lang::En => en,
            },
            None => key,
        }
    }

    /// Picks the Chinese or English variant of a name stored in both (e.g. categories).
    pub fn pick<'a>(self, zh: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::En if !en.is_empty() => en,
            _ => zh,
        }
    }
}

/// True when `key` is in the catalog.
pub fn has_key(key: &str) -> bool {
    catalog::lookup(key).is_some()
}

/// True when some key starts with `prefix` (for keys templates build, e.g. `"status." ~ s`).
pub fn has_prefix(prefix: &str) -> bool {
    catalog::entries().any(|(k, _, _)| k.starts_with(prefix))
}

/// "2026-11-29 17:03" in Asia/Shanghai.
pub fn format_time(ms: i64) -> String {
    local(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default()
}

/// "11-29" in Asia/Shanghai, for chart axes.
pub fn format_day(ms: i64) -> String {
    local(ms)
        .map(|t| t.format("%m-%d").to_string())
        .unwrap_or_default()
}

/// Milliseconds at the start of the Shanghai calendar day containing `ms`.
pub fn day_start(ms: i64) -> i64 {
    const DAY: i64 = 86_400_000;
    const OFFSET: i64 = 8 * 3_600_000;
    (ms + OFFSET).div_euclid(DAY) * DAY - OFFSET
}

/// A deadline as time left ("剩余 2小时5分" / "2 h 5 min left") or overdue ("超时 40分" /
/// "40 min overdue"). Returns the text and whether the deadline has passed.
pub fn time_left(lang: Lang, due_ms: i64, now_ms: i64) -> (String, bool) {
    let overdue = now_ms > due_ms;
    let mins = ((due_ms - now_ms).abs() + 59_999) / 60_000;
    let (d, h, m) = (mins / 1440, (mins % 1440) / 60, mins % 60);
    let span = match lang {
        Lang::Zh => {
            let mut s = String::new();
            if d > 0 {
                s.push_str(&format!("{d}天"));
            }
            if h > 0 {
                s.push_str(&format!("{h}小时"));
            }
            if d == 0 && (m > 0 || s.is_empty()) {
                s.push_str(&format!("{m}分"));
            }
            s
        }
        Lang::En => {
            let mut parts = Vec::new();
            if d > 0 {
                parts.push(format!("{d} d"));
            }
            if h > 0 {
                parts.push(format!("{h} h"));
            }
            if d == 0 && (m > 0 || parts.is_empty()) {
                parts.push(format!("{m} min"));
            }
            parts.join(" ")
        }
    };
    let text = match (lang, overdue) {
        (Lang::Zh, false) => format!("剩余 {span}"),
        (Lang::Zh, true) => format!("超时 {span}"),
        (Lang::En, false) => format!("{span} left"),
        (Lang::En, true) => format!("{span} overdue"),
    };
    (text, overdue)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_is_sorted_unique_and_complete() {
        let all: Vec<_> = catalog::entries().collect();
        for w in all.windows(2) {
            assert!(
                w[0].0 < w[1].0,
                "catalog not sorted at {} / {}",
                w[0].0,
                w[1].0
            );
        }
        for (k, zh, en) in catalog::entries() {
            assert!(!zh.is_empty() && !en.is_empty(), "{k} lacks a translation");
        }
    }

    #[test]
    fn lookup_by_language_and_unknown_keys() {
        assert_eq!(Lang::Zh.t("login.title"), "登录");
        assert_eq!(Lang::En.t("login.title"), "Sign in");
        assert_eq!(Lang::En.t("no.such.key"), "no.such.key");
        assert!(has_key("status.closed"));
        assert!(!has_key("status.closed "));
    }

    #[test]
    fn language_choice_prefers_query_then_cookie_then_zh() {
        assert_eq!(Lang::choose(None, None), Lang::Zh);
        assert_eq!(Lang::choose(None, Some("en")), Lang::En);
        assert_eq!(Lang::choose(Some("zh-CN"), Some("en")), Lang::Zh);
        assert_eq!(Lang::choose(Some("en-US"), None), Lang::En);
        // Garbage falls through to the next source rather than erroring.
        assert_eq!(Lang::choose(Some("fr"), Some("en")), Lang::En);
        assert_eq!(Lang::choose(Some("<script>"), None), Lang::Zh);
        assert_eq!(Lang::Zh.pick("道路", "Roads"), "道路");
        assert_eq!(Lang::En.pick("道路", ""), "道路");
    }

    #[test]
    fn times_render_in_shanghai_offset() {
        // 2026-11-29T00:30:00Z is 08:30 in Shanghai.
        let ms = 1_795_912_200_000;
        assert_eq!(format_time(ms), "2026-11-29 08:30");
        assert_eq!(format_day(ms), "11-29");
        // 2026-11-28T16:30:00Z is 00:30 on the 29th in Shanghai: the day started at 16:00Z.
        let late = 1_795_883_400_000;
        assert_eq!(format_time(late), "2026-11-29 00:30");
        assert_eq!(day_start(late), 1_795_881_600_000);
        assert_eq!(day_start(ms), 1_795_881_600_000);
    }

    #[test]
    fn time_left_and_overdue() {
        let now = 1_000_000_000_000;
        let h = 3_600_000;
        assert_eq!(
            time_left(Lang::Zh, now + 2 * h + 5 * 60_000, now),
            ("剩余 2小时5分".into(), false)
        );
        assert_eq!(
            time_left(Lang::En, now + 2 * h, now),
            ("2 h left".into(), false)
        );
        assert_eq!(
            time_left(Lang::Zh, now - 40 * 60_000, now),
            ("超时 40分".into(), true)
        );
        assert_eq!(
            time_left(Lang::En, now - 50 * h, now),
            ("2 d 2 h overdue".into(), true)
        );
        assert_eq!(time_left(Lang::Zh, now, now), ("剩余 0分".into(), false));
        // Part of a minute counts as a whole one: 30 s left is "1 min left", not "0".
        assert_eq!(time_left(Lang::En, now + 30_000, now).0, "1 min left");
    }
}
