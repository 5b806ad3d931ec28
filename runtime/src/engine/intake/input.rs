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

/// Checks a phone number: digits with an optional leading `+`, 3–20 digits (110, 12345, mobiles,
/// landlines with area code); spaces and dashes are dropped.
pub fn normalize_phone(raw: &str) -> Option<String> {
    let cleaned: String = raw
        .trim()
        .chars()
        .filter(|c| !matches!(c, ' ' | '-'))
        .collect();
    let digits = cleaned.strip_prefix('+').unwrap_or(&cleaned);
    if (3..=20).contains(&digits.len()) && digits.chars().all(|c| c.is_ascii_digit()) {
        Some(cleaned)
    } else {
        None
    }
}
