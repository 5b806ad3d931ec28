/*!
What intake takes: the request bodies (shared by the JSON API, Open311 and the console) and the
small parsers for their fields.
*/

use serde::Deserialize;

use crate::model::{Channel, EmergencyLine, Priority};

/// Longest request text accepted (Open311's description limit).
pub const MAX_CONTENT_CHARS: usize = 4000;

/// The caller as given at intake.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallerInput {
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    /// `male`, `female` or `other`.
    #[serde(default)]
    pub gender: Option<String>,
    /// e.g. `18-29`, `60+`.
    #[serde(default)]
    pub age_band: Option<String>,
    #[serde(default)]
    pub occupation: Option<String>,
}

/// Where it happened, as given: any combination; the locator decides.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocationInput {
    #[serde(default)]
    pub grid_code: Option<String>,
    #[serde(default)]
    pub address: Option<String>,
    #[serde(default)]
    pub lat: Option<f64>,
    #[serde(default)]
    pub lon: Option<f64>,
}

/// `POST /api/v1/cases` body (and what Open311 and the console build).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseInput {
    pub channel: Channel,
    #[serde(default)]
    pub caller: Option<CallerInput>,
    pub content: String,
    /// Operator override of the classifier.
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default)]
    pub location: Option<LocationInput>,
    #[serde(default)]
    pub priority: Option<Priority>,
    /// Id of the request in a source platform (12345, grid app).
    #[serde(default)]
    pub external_id: Option<String>,
    /// The operator's decision on the emergency stage. Absent: the detector decides (a detected
    /// emergency is handed to its line). Present: `line` is the line to hand the call to, or null
    /// for "not an emergency" (with a `reason` when the detector said otherwise).
    #[serde(default)]
    pub emergency: Option<EmergencyInput>,
    /// Open311 token handed to the client (set by the Open311 module, never by JSON).
    #[serde(skip)]
    pub open311_token: Option<String>,
}

/// The operator's confirmation or override of the emergency stage.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmergencyInput {
    /// `"110"`, `"119"`, `"120"`, `"122"`, or null: not an emergency.
    #[serde(default)]
    pub line: Option<EmergencyLine>,
    /// Why the operator overrides the detector (required when overriding a detection).
    #[serde(default)]
    pub reason: Option<String>,
    /// 警情编号: the incident number the line's dispatcher gave when the call was transferred by
    /// phone (电话转接). Required when the line has no integration to send the case through.
    #[serde(default)]
    pub incident_number: Option<String>,
}

pub(super) const GENDERS: &[&str] = &["male", "female", "other"];

pub(super) fn clean(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// Checks a phone number and returns it in the one form every table stores (callers,
/// households, SMS, the case's caller snapshot), so a number matches however it was typed:
/// separators (spaces, `-`, `(`, `)`) dropped; a Chinese number in international form
/// (`+86 138 0000 1234`, `0086…`) back in its national form (`13800001234`; a landline gets its
/// trunk `0`: `+86 10 6234 5678` → `01062345678`); other international numbers keep their `+`.
/// 3–20 digits (110, 12345, mobiles, landlines with area code). Migration 0190 applies the same
/// rule to the rows stored before it; the two must stay in step.
pub fn normalize_phone(raw: &str) -> Option<String> {
    let cleaned: String = raw
        .trim()
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '(' | ')'))
        .collect();
    let national = cleaned
        .strip_prefix("+86")
        .or_else(|| cleaned.strip_prefix("0086"));
    let out = match national {
        // An 11-digit number starting with 1 is a mobile; anything else is a landline whose
        // trunk 0 the international form dropped.
        Some(n) if (n.len() == 11 && n.starts_with('1')) || n.starts_with('0') => n.to_string(),
        Some(n) => format!("0{n}"),
        None => cleaned,
    };
    let digits = out.strip_prefix('+').unwrap_or(&out);
    if (3..=20).contains(&digits.len()) && digits.chars().all(|c| c.is_ascii_digit()) {
        Some(out)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::normalize_phone;

    #[test]
    fn phones_normalize_to_one_form() {
        for typed in [
            "13800001234",
            "138-0000-1234",
            "138 0000 1234",
            " +86 138 0000 1234 ",
            "+8613800001234",
            "0086 138-0000-1234",
            "(+86) 13800001234",
        ] {
            assert_eq!(
                normalize_phone(typed).as_deref(),
                Some("13800001234"),
                "{typed}"
            );
        }
        for typed in [
            "0371-26981234",
            "(0371) 2698 1234",
            "+86 371 2698 1234",
            "0086-371-26981234",
        ] {
            assert_eq!(
                normalize_phone(typed).as_deref(),
                Some("037126981234"),
                "{typed}"
            );
        }
        assert_eq!(
            normalize_phone("+86 10 6234 5678").as_deref(),
            Some("01062345678")
        );
        assert_eq!(
            normalize_phone("+44 7911 123456").as_deref(),
            Some("+447911123456")
        );
        assert_eq!(normalize_phone("110").as_deref(), Some("110"));
        assert_eq!(normalize_phone("12"), None);
        assert_eq!(normalize_phone("abc12345"), None);
        assert_eq!(normalize_phone("+86"), None);
        // Normalizing twice changes nothing (the migration relies on it).
        for typed in [
            "+86 371 2698 1234",
            "13800001234",
            "+447911123456",
            "0086 10 62345678",
        ] {
            let once = normalize_phone(typed).unwrap();
            assert_eq!(normalize_phone(&once).as_deref(), Some(once.as_str()));
        }
    }
}
