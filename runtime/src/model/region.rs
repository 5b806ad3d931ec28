/*!
The region model: what a region profile compiles into and what provisioning writes to the store.

This module is the contract between `m110` (which parses and validates a profile and compiles it
into a [`Region`]) and the runtime (which provisions a `Region` into the database and serves it).
It knows nothing about YAML, SQL or HTTP: plain data, serialisable with serde so it can be
snapshotted, diffed and hashed.

Invariant: a `Region` handed to the runtime has already been validated by the kit — codes are
unique, parents exist one tier up, routing names existing categories, units and grid scopes.
The runtime still defends its own storage constraints, but it does not re-explain profile errors.
*/

use serde::{Deserialize, Serialize};

/// The version of the region model format; bumped when the model changes incompatibly.
pub const MODEL_VERSION: u32 = 1;

/// A fully resolved region: everything a service center needs to be provisioned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Region {
    pub info: RegionInfo,
    pub service_center: ServiceCenter,
    /// Ordered from the top (level 1, e.g. 乡镇/街道) to the lowest tier (the grid cell).
    pub tiers: Vec<Tier>,
    /// All grid units of all tiers, parents before children.
    pub grid_units: Vec<GridUnit>,
    /// Handling units (承办单位), including the service center itself (kind `center`).
    pub units: Vec<HandlingUnit>,
    pub categories: Vec<Category>,
    pub routing: Routing,
    pub platforms: Vec<Platform>,
    /// Entries of the directory data systems (government services, social organisations and
    /// volunteers, market providers, welfare facilities) loaded from the profile's CSV files.
    pub directory: Vec<DirectoryEntry>,
    /// Seed rows of the vulnerable-household registry (困难群体), loaded from CSV when given.
    pub households: Vec<Household>,
    pub appraisal: Appraisal,
    pub early_warning: EarlyWarning,
    /// Cameras of the region's camera platforms (shown on grid units and cases; no video).
    /// Absent in models recorded before 0130, and left out when empty so they hash as they did.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cameras: Vec<Camera>,
}

/// A camera of a camera platform (雪亮工程 / 天网): where it is and how to open its live view in
/// that platform. The kit handles no video.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Camera {
    /// The platform's own camera id (e.g. a GB/T 28181 device id).
    pub id: String,
    pub name: String,
    /// `public_security`, `traffic`, `community`, `river`, `forest` or `other`.
    pub kind: String,
    /// The grid unit it stands in.
    pub grid: Option<String>,
    pub location: Option<LatLon>,
    /// The camera platform it belongs to.
    pub platform: Option<String>,
    /// Its live view in the platform: the platform's `camera_link` with `{id}` filled in.
    pub link: Option<String>,
}

/// The kinds of camera a profile may give.
pub const CAMERA_KINDS: [&str; 6] = [
    "public_security",
    "traffic",
    "community",
    "river",
    "forest",
    "other",
];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegionInfo {
    /// 6-digit GB/T 2260 code of the county, district or city.
    pub code: String,
    pub name: String,
    /// Names of the parent divisions, top first (e.g. ["福建省", "南平市"]).
    pub parents: Vec<String>,
    pub population: u64,
    pub area_km2: f64,
    pub archetype: Archetype,
    /// Which edition of the division codes the profile's codes come from.
    pub division_edition: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Archetype {
    /// A county or county-level city: callers name places, few dispatch teams.
    County,
    /// An urban district: geolocation, dense grid, often an existing 12345 platform.
    CityDistrict,
    /// A whole prefecture-level city: scale-out, nearest-team dispatch.
    City,
}

impl Archetype {
    pub fn as_str(self) -> &'static str {
        match self {
            Archetype::County => "county",
            Archetype::CityDistrict => "city_district",
            Archetype::City => "city",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceCenter {
    /// The one number citizens call (default "110").
    pub number: String,
    /// Opening hours as written by the profile, e.g. "24/7" or "08:00-22:00".
    pub hours: String,
    /// BCP 47 tags, first is the console default (e.g. ["zh-CN", "en"]).
    pub languages: Vec<String>,
    pub staffing: StaffingInputs,
    /// Rules of the floor: reopen window, separation of duties. Absent in models recorded by
    /// releases before 0060 (they get the defaults).
    #[serde(default)]
    pub rules: CenterRules,
}

/// How the center works cases, set by the profile's `service_center`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CenterRules {
    /// Days after closing during which a supervisor may reopen a case.
    pub reopen_window_days: u32,
    /// An admin does not sign, reply or close cases, and whoever replied to a case as its unit
    /// does not follow it up or close it.
    pub separation_of_duties: bool,
}

impl Default for CenterRules {
    fn default() -> Self {
        CenterRules {
            reopen_window_days: 30,
            separation_of_duties: true,
        }
    }
}

/// Inputs to the Erlang C staffing model of the call center.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StaffingInputs {
    /// Expected calls per 1,000 residents per year (default 150).
    pub calls_per_1000_per_year: f64,
    /// Share of a day's calls that arrive in the busiest hour (e.g. 0.12).
    pub peak_hour_share: f64,
    /// Average handling time of one call in seconds (talk + wrap-up).
    pub aht_seconds: f64,
    /// Service-level target: share of calls answered within `service_level_seconds` (e.g. 0.8).
    pub service_level_target: f64,
    pub service_level_seconds: f64,
    /// Share of paid time agents are not available (breaks, training, leave), e.g. 0.3.
    pub shrinkage: f64,
    /// Maximum occupancy an agent should run at, e.g. 0.85.
    pub max_occupancy: f64,
    /// The 24/7 roster's inputs (week curve, 回访, dispatch, shifts, minimums, declared staff).
    /// Absent in models recorded before the roster existed; they get the defaults.
    #[serde(default)]
    pub roster: RosterInputs,
}

/// Default share of a day's calls in each hour 0–23: the kit's assumption of a typical Chinese
/// 110/12345 day (docs/staffing.md) — quiet 0–6 h, rising from 7 h, peaks 9–11 h and 14–17 h, an
/// evening shoulder. Sums to 1.
pub const DEFAULT_INTRADAY: [f64; 24] = [
    0.020, 0.011, 0.008, 0.007, 0.007, 0.009, 0.016, 0.034, 0.055, 0.072, 0.076, 0.070, 0.050,
    0.050, 0.067, 0.072, 0.070, 0.060, 0.050, 0.048, 0.047, 0.041, 0.034, 0.026,
];

/// Default share of a week's calls on each day, Monday first: Monday carries the weekend's
/// backlog, the weekend is lighter (docs/staffing.md). Sums to 1.
pub const DEFAULT_WEEKDAY: [f64; 7] = [0.155, 0.148, 0.146, 0.145, 0.146, 0.132, 0.128];

/// Shift pattern of the 24/7 roster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum ShiftPattern {
    /// Three 8-hour shifts: 00–08, 08–16, 16–24.
    #[default]
    #[serde(rename = "3x8")]
    ThreeByEight,
    /// Two 12-hour shifts: 08–20, 20–08.
    #[serde(rename = "2x12")]
    TwoByTwelve,
}

impl ShiftPattern {
    pub const ALL: [ShiftPattern; 2] = [ShiftPattern::ThreeByEight, ShiftPattern::TwoByTwelve];

    pub fn as_str(self) -> &'static str {
        match self {
            ShiftPattern::ThreeByEight => "3x8",
            ShiftPattern::TwoByTwelve => "2x12",
        }
    }

    pub fn parse(s: &str) -> Option<ShiftPattern> {
        ShiftPattern::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

/// What turns the week's calls into a 24/7 roster beyond Erlang C (docs/staffing.md).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RosterInputs {
    /// Share of a day's calls in each hour 0–23 (24 values, normalised to sum 1).
    pub intraday: Vec<f64>,
    /// Share of a week's calls on each day, Monday first (7 values, normalised to sum 1).
    pub weekday: Vec<f64>,
    pub shifts: ShiftPattern,
    /// Share of calls that become a case dispatched to a handling unit (派单).
    pub case_share: f64,
    /// Dispatcher minutes per case: 派单 plus 督办 over the case's life.
    pub dispatch_minutes: f64,
    /// Share of closed cases followed up by phone (回访).
    pub followup_share: f64,
    /// Minutes per follow-up call, dialling and notes included.
    pub followup_minutes: f64,
    /// Hours of the day (0–23) in which follow-up calls are made, Monday to Friday.
    pub followup_hours: Vec<u8>,
    /// Fewest call-takers on the roster of any shift.
    pub min_call_takers: u32,
    /// Fewest dispatchers on the roster of any shift.
    pub min_dispatchers: u32,
    /// Shift supervisors (值班长) on every shift.
    pub supervisors: u32,
    /// People the center actually has (profile `service_center.staff`), when declared.
    pub staff: Option<u32>,
}

impl Default for RosterInputs {
    fn default() -> Self {
        RosterInputs {
            intraday: DEFAULT_INTRADAY.to_vec(),
            weekday: DEFAULT_WEEKDAY.to_vec(),
            shifts: ShiftPattern::default(),
            case_share: 0.86,
            dispatch_minutes: 3.0,
            followup_share: 0.3,
            followup_minutes: 5.0,
            followup_hours: vec![9, 10, 11, 14, 15, 16, 17],
            min_call_takers: 2,
            min_dispatchers: 1,
            supervisors: 1,
            staff: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tier {
    /// 1-based level; level 1 sits directly under the region.
    pub level: u8,
    /// Stable key, e.g. "township", "village", "cell".
    pub key: String,
    /// Display name, e.g. "乡镇/街道".
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GridUnit {
    /// Statistical code (9 digits for townships, 12 for villages) or a generated cell code.
    pub code: String,
    pub name: String,
    /// Parent grid unit code; `None` for tier-1 units (their parent is the region).
    pub parent: Option<String>,
    /// Tier level (1-based).
    pub tier: u8,
    pub population: Option<u64>,
    pub households: Option<u64>,
    pub centroid: Option<LatLon>,
    /// True when the unit was generated by the profile's grid rule rather than listed.
    pub generated: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LatLon {
    pub lat: f64,
    pub lon: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitKind {
    /// The service center itself; the routing fallback.
    Center,
    /// Government department (政府部门) with a hotline and functions.
    Department,
    /// Township/street office (乡镇/街道办).
    Township,
    /// Community service center (社区服务中心).
    CommunityCenter,
    /// Social organisation (社会组织).
    SocialOrganization,
    /// Volunteer team (志愿者队伍).
    VolunteerTeam,
    /// Vetted market service provider (市场化服务队伍).
    MarketProvider,
    /// Police dispatch (警务110) — receives police transfers.
    Police,
}

impl UnitKind {
    pub const ALL: [UnitKind; 8] = [
        UnitKind::Center,
        UnitKind::Department,
        UnitKind::Township,
        UnitKind::CommunityCenter,
        UnitKind::SocialOrganization,
        UnitKind::VolunteerTeam,
        UnitKind::MarketProvider,
        UnitKind::Police,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            UnitKind::Center => "center",
            UnitKind::Department => "department",
            UnitKind::Township => "township",
            UnitKind::CommunityCenter => "community_center",
            UnitKind::SocialOrganization => "social_organization",
            UnitKind::VolunteerTeam => "volunteer_team",
            UnitKind::MarketProvider => "market_provider",
            UnitKind::Police => "police",
        }
    }

    pub fn parse(s: &str) -> Option<UnitKind> {
        UnitKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            UnitKind::Center => "服务中心",
            UnitKind::Department => "政府部门",
            UnitKind::Township => "乡镇/街道",
            UnitKind::CommunityCenter => "社区服务中心",
            UnitKind::SocialOrganization => "社会组织",
            UnitKind::VolunteerTeam => "志愿者队伍",
            UnitKind::MarketProvider => "市场化服务队伍",
            UnitKind::Police => "公安110",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HandlingUnit {
    /// Stable id, lowercase ASCII (e.g. "housing-bureau").
    pub id: String,
    pub kind: UnitKind,
    pub name: String,
    /// Public hotline, if any.
    pub hotline: Option<String>,
    pub contacts: Vec<Contact>,
    /// What the unit does (for departments: its functions, 职能).
    pub functions: Vec<String>,
    /// Market providers: the service categories they are vetted for.
    pub service_categories: Vec<String>,
    /// Market providers: qualification / licence text.
    pub qualification: Option<String>,
    /// Grid unit codes the unit serves; empty means the whole region.
    pub scope: Vec<String>,
    pub address: Option<String>,
    /// The unit is reached through another platform (its id; e.g. the prefecture's 12345): a
    /// case dispatched to it is forwarded there and closes here when it closes there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contact {
    pub name: String,
    pub role: Option<String>,
    pub phone: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    Urgent,
    High,
    Normal,
    Low,
}

impl Priority {
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Urgent => "urgent",
            Priority::High => "high",
            Priority::Normal => "normal",
            Priority::Low => "low",
        }
    }

    pub fn parse(s: &str) -> Option<Priority> {
        [
            Priority::Urgent,
            Priority::High,
            Priority::Normal,
            Priority::Low,
        ]
        .into_iter()
        .find(|p| p.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Category {
    /// Stable code, e.g. "roads" or "roads.streetlight".
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    /// Parent category code for sub-categories.
    pub parent: Option<String>,
    pub priority: Priority,
    /// True for police-emergency categories: cases are transferred to police dispatch (转警).
    pub police: bool,
    /// 签收 deadline in minutes after dispatch.
    pub sign_minutes: u32,
    /// 办结 deadline in hours after dispatch.
    pub close_hours: u32,
    /// Words that suggest this category to the classifier.
    pub keywords: Vec<String>,
    /// Its cases may be offered to admitted providers, volunteer teams and social organizations
    /// (nearest-resource dispatch, `engine::matching`). Absent in models recorded before 0110;
    /// left out when false so those models serialize as they did.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub matchable: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Routing {
    pub rules: Vec<RoutingRule>,
    /// Unit id that takes anything no rule covers (normally the center).
    pub fallback_unit: String,
    pub escalation: Vec<EscalationChain>,
}

/// category × grid scope → unit. The most specific scope wins: a rule for a village beats a
/// rule for its township, which beats a region-wide rule (`scope: None`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoutingRule {
    pub category: String,
    /// Grid unit code; `None` means the whole region.
    pub scope: Option<String>,
    pub unit: String,
}

/// Who is pressed, in order, when a case overdue for a category is not signed or closed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EscalationChain {
    /// Category code the chain applies to; `None` is the default chain.
    pub category: Option<String>,
    pub steps: Vec<EscalationStep>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EscalationStep {
    /// Unit id to notify / supervise at this step.
    pub unit: String,
    /// Minutes past the missed deadline before this step fires.
    pub after_minutes: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Platform {
    pub id: String,
    pub kind: PlatformKind,
    pub name: String,
    pub integration: Integration,
    /// Camera networks: how many cameras.
    pub cameras: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlatformKind {
    PoliceDispatch,
    /// 119 fire and rescue dispatch.
    FireDispatch,
    /// 120 emergency medical dispatch.
    MedicalDispatch,
    Hotline12345,
    GridApp,
    CameraNetwork,
    GovPortal,
    WelfareDb,
    /// An HTTP SMS gateway: texts out (case number, 回访 question) and in (new requests, replies).
    SmsGateway,
    Other,
}

impl PlatformKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PlatformKind::PoliceDispatch => "police_dispatch",
            PlatformKind::FireDispatch => "fire_dispatch",
            PlatformKind::MedicalDispatch => "medical_dispatch",
            PlatformKind::Hotline12345 => "hotline_12345",
            PlatformKind::GridApp => "grid_app",
            PlatformKind::CameraNetwork => "camera_network",
            PlatformKind::GovPortal => "gov_portal",
            PlatformKind::WelfareDb => "welfare_db",
            PlatformKind::SmsGateway => "sms_gateway",
            PlatformKind::Other => "other",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Integration {
    None,
    CsvImport {
        path: String,
    },
    Webhook {
        url: String,
        /// Environment variable holding the signing secret (X-M110-Signature).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        secret_env: Option<String>,
    },
    Open311 {
        endpoint: String,
        /// Environment variable holding the platform's Open311 `api_key`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        secret_env: Option<String>,
    },
}

impl Integration {
    pub fn kind_str(&self) -> &'static str {
        match self {
            Integration::None => "none",
            Integration::CsvImport { .. } => "csv_import",
            Integration::Webhook { .. } => "webhook",
            Integration::Open311 { .. } => "open311",
        }
    }
}

/// The directory data systems (the citizen-request system is the cases themselves).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DirectorySystem {
    /// 政务服务: department hotlines and functions, community service centers.
    GovernmentServices,
    /// Relief and welfare facilities (救助/福利机构) — part of the government directory.
    WelfareFacilities,
    /// 社会组织 / 志愿者.
    SocialOrganizations,
    /// 市场化服务队伍.
    MarketProviders,
}

impl DirectorySystem {
    pub const ALL: [DirectorySystem; 4] = [
        DirectorySystem::GovernmentServices,
        DirectorySystem::WelfareFacilities,
        DirectorySystem::SocialOrganizations,
        DirectorySystem::MarketProviders,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DirectorySystem::GovernmentServices => "government_services",
            DirectorySystem::WelfareFacilities => "welfare_facilities",
            DirectorySystem::SocialOrganizations => "social_organizations",
            DirectorySystem::MarketProviders => "market_providers",
        }
    }

    pub fn parse(s: &str) -> Option<DirectorySystem> {
        DirectorySystem::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DirectoryEntry {
    pub system: DirectorySystem,
    pub name: String,
    /// Free category within the system (e.g. "housekeeping", "elderly care").
    pub category: Option<String>,
    pub phone: Option<String>,
    pub address: Option<String>,
    /// Grid unit code the entry sits in or serves.
    pub grid: Option<String>,
    pub description: Option<String>,
    /// Market providers: qualification / licence.
    pub qualification: Option<String>,
    /// Handling unit id when the entry is also a dispatch target.
    pub unit: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HouseholdKind {
    /// 低保户
    Dibao,
    /// 特困人员
    ExtremePoverty,
    /// 优抚对象
    Entitled,
    /// 残疾人
    Disabled,
    /// 空巢/独居老人
    ElderlyAlone,
    /// 留守儿童
    LeftBehindChild,
    Other,
}

impl HouseholdKind {
    pub const ALL: [HouseholdKind; 7] = [
        HouseholdKind::Dibao,
        HouseholdKind::ExtremePoverty,
        HouseholdKind::Entitled,
        HouseholdKind::Disabled,
        HouseholdKind::ElderlyAlone,
        HouseholdKind::LeftBehindChild,
        HouseholdKind::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            HouseholdKind::Dibao => "dibao",
            HouseholdKind::ExtremePoverty => "extreme_poverty",
            HouseholdKind::Entitled => "entitled",
            HouseholdKind::Disabled => "disabled",
            HouseholdKind::ElderlyAlone => "elderly_alone",
            HouseholdKind::LeftBehindChild => "left_behind_child",
            HouseholdKind::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<HouseholdKind> {
        HouseholdKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// One row of the vulnerable-household registry. Personal data: stored, shown masked unless the
/// role needs it, and every read is audited.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Household {
    pub head_name: String,
    pub kind: HouseholdKind,
    pub grid: Option<String>,
    pub phone: Option<String>,
    pub id_number: Option<String>,
    pub members: Option<u32>,
    pub address: Option<String>,
    pub notes: Option<String>,
}

/// Weights of the unit scorecard (绩效考评); they sum to 1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Appraisal {
    pub on_time_sign: f64,
    pub on_time_close: f64,
    pub satisfaction: f64,
    pub follow_up: f64,
    pub return_rate: f64,
    pub repeat_rate: f64,
}

impl Default for Appraisal {
    fn default() -> Self {
        Appraisal {
            on_time_sign: 0.15,
            on_time_close: 0.30,
            satisfaction: 0.30,
            follow_up: 0.05,
            return_rate: 0.10,
            repeat_rate: 0.10,
        }
    }
}

/// Early-warning (预警) settings (the profile's `early_warning`; `docs/early-warning.md`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EarlyWarning {
    /// Length of the recent window, in hours (the near-duplicate window of 一事多诉).
    pub window_hours: u32,
    /// Days of history the surge detectors learn their baseline from.
    pub baseline_days: u32,
    /// Kept from the first format (a simple ratio rule); the surge detectors use `min_cases`.
    pub ratio: f64,
    /// No alert on fewer cases than this in the signalling days.
    pub min_cases: u32,
    /// The detectors that raise alerts: `ears_c1`, `ears_c2`, `ears_c3`, `cusum`, `scan`.
    #[serde(default = "default_methods")]
    pub methods: Vec<String>,
    /// A space-time cluster alerts when a signal this strong would happen by chance less often
    /// than once in this many days (SaTScan's recurrence interval; 365 = one false alarm per
    /// category a year).
    #[serde(default = "default_recurrence")]
    pub recurrence_days: f64,
    /// Longest cluster the scan looks for, in days.
    #[serde(default = "default_max_days")]
    pub max_days: u32,
    /// Largest share of the window's cases one cluster may hold.
    #[serde(default = "default_max_share")]
    pub max_share: f64,
    /// Monte Carlo replicas of the scan.
    #[serde(default = "default_replicas")]
    pub replicas: u32,
    /// Extra holidays (`YYYY-MM-DD`) beyond the national calendar the kit carries.
    #[serde(default)]
    pub holidays: Vec<String>,
}

fn default_methods() -> Vec<String> {
    // The scan finds the local clusters (92.5 % of the benchmark's injected clusters, 90 %
    // within a day, 0.9 false alarms per category-year); EARS C3 adds what the scan's
    // permutation conditions away — a rise over a whole area at once — with no false alarm in
    // the benchmark. C1/C2 add half a false alarm per category-year and no cluster the pair
    // misses (`docs/early-warning.md`, Benchmark).
    vec!["ears_c3".into(), "scan".into()]
}
fn default_recurrence() -> f64 {
    365.0
}
fn default_max_days() -> u32 {
    7
}
fn default_max_share() -> f64 {
    0.5
}
fn default_replicas() -> u32 {
    // The Gumbel fit of the replicas' maxima gives the small p-values a daily alert bar needs
    // (1/365); 199 replicas fit it well and keep a tick of a county's categories under a
    // second. 999 only refines the Monte Carlo p of weak clusters, which never alert.
    199
}

/// The detectors the kit has.
pub const WARNING_METHODS: [&str; 5] = ["ears_c1", "ears_c2", "ears_c3", "cusum", "scan"];

impl Default for EarlyWarning {
    fn default() -> Self {
        EarlyWarning {
            window_hours: 72,
            baseline_days: 28,
            ratio: 3.0,
            min_cases: 5,
            methods: default_methods(),
            recurrence_days: default_recurrence(),
            max_days: default_max_days(),
            max_share: default_max_share(),
            replicas: default_replicas(),
            holidays: Vec::new(),
        }
    }
}

impl Region {
    /// Tier-1 grid units (townships / street offices).
    pub fn top_units(&self) -> impl Iterator<Item = &GridUnit> {
        self.grid_units.iter().filter(|u| u.tier == 1)
    }

    pub fn grid_unit(&self, code: &str) -> Option<&GridUnit> {
        self.grid_units.iter().find(|u| u.code == code)
    }

    pub fn unit(&self, id: &str) -> Option<&HandlingUnit> {
        self.units.iter().find(|u| u.id == id)
    }

    pub fn category(&self, code: &str) -> Option<&Category> {
        self.categories.iter().find(|c| c.code == code)
    }

    /// The categories as a tree, depth first ([`categories_in_tree_order`]).
    pub fn categories_in_tree_order(&self) -> Vec<(&Category, usize)> {
        categories_in_tree_order(&self.categories)
    }

    /// Number of grid units per tier, in tier order.
    pub fn units_per_tier(&self) -> Vec<(&Tier, usize)> {
        self.tiers
            .iter()
            .map(|t| {
                (
                    t,
                    self.grid_units.iter().filter(|u| u.tier == t.level).count(),
                )
            })
            .collect()
    }
}

/// The categories as a tree, depth first (each 大类 followed by its 中类 and their 小类,
/// in taxonomy order), with their depth (0 for a 大类): the order a picker lists them in.
/// A category whose parent is missing is listed as a 大类.
pub fn categories_in_tree_order(categories: &[Category]) -> Vec<(&Category, usize)> {
    let codes: std::collections::HashSet<&str> =
        categories.iter().map(|c| c.code.as_str()).collect();
    let mut children: std::collections::HashMap<&str, Vec<&Category>> =
        std::collections::HashMap::new();
    let mut roots = Vec::new();
    for c in categories {
        match c
            .parent
            .as_deref()
            .filter(|p| codes.contains(p) && *p != c.code)
        {
            Some(p) => children.entry(p).or_default().push(c),
            None => roots.push(c),
        }
    }
    let mut out = Vec::with_capacity(categories.len());
    let mut stack: Vec<(&Category, usize)> = roots.into_iter().rev().map(|c| (c, 0)).collect();
    while let Some((c, depth)) = stack.pop() {
        out.push((c, depth));
        // Validation refuses cycles; the depth bound keeps a corrupt model from looping.
        if depth < 16
            && let Some(kids) = children.get(c.code.as_str())
        {
            stack.extend(kids.iter().rev().map(|k| (*k, depth + 1)));
        }
    }
    out
}

#[cfg(test)]
mod tree_tests {
    use super::*;

    fn cat(code: &str, parent: Option<&str>) -> Category {
        Category {
            code: code.into(),
            name_zh: code.into(),
            name_en: code.into(),
            parent: parent.map(Into::into),
            priority: Priority::Normal,
            police: false,
            sign_minutes: 30,
            close_hours: 72,
            keywords: vec![],
            matchable: false,
        }
    }

    #[test]
    fn categories_come_depth_first_with_their_depth() {
        // Sub-categories listed after every 大类 (as the default taxonomy lists them), one
        // added by a profile under a parent it lists later, and an orphan.
        let cats = [
            cat("a", None),
            cat("b", None),
            cat("a.x", Some("a")),
            cat("b.y", Some("b")),
            cat("a.x.z", Some("a.x")),
            cat("a.w", Some("a")),
            cat("orphan", Some("gone")),
        ];
        let got: Vec<(&str, usize)> = categories_in_tree_order(&cats)
            .into_iter()
            .map(|(c, d)| (c.code.as_str(), d))
            .collect();
        assert_eq!(
            got,
            [
                ("a", 0),
                ("a.x", 1),
                ("a.x.z", 2),
                ("a.w", 1),
                ("b", 0),
                ("b.y", 1),
                ("orphan", 0)
            ]
        );
    }
}
