//! The template context: everything the kit templates see, precomputed and formatted in code
//! (numbers, names, routes) so the templates stay simple and the output deterministic.

use std::collections::{BTreeMap, HashMap, HashSet};

use m110_runtime::engine::routing::{RouteVia, RoutingTable};
use m110_runtime::model::{
    Archetype, DirectorySystem, HandlingUnit, HouseholdKind, Integration, PlatformKind, Priority,
    Region, UnitKind,
};
use serde::Serialize;

use super::GenerateError;
use crate::staffing;

/// Everything the templates see, precomputed and formatted in code.
#[derive(Serialize)]
pub(super) struct Context {
    kit_version: &'static str,
    profile_sha256: String,
    install: InstallCtx,
    region: RegionCtx,
    center: CenterCtx,
    tiers: Vec<TierCtx>,
    lower_tiers: Vec<TierCtx>,
    tier1_name: String,
    /// Tier names from the most specific scope up, e.g. "网格 > 村/社区 > 乡镇/街道 > 全域".
    scope_order: String,
    top_units: Vec<TopUnitCtx>,
    unit_groups: Vec<UnitGroupCtx>,
    categories: Vec<CategoryCtx>,
    routing: RoutingCtx,
    pub(super) routes: Vec<RouteRow>,
    overrides: Vec<OverrideCtx>,
    gaps: Vec<crate::plan::Gap>,
    gap_limit: usize,
    escalation: Vec<EscalationCtx>,
    staffing: StaffingCtx,
    platforms: Vec<PlatformCtx>,
    directory: BTreeMap<&'static str, usize>,
    households_total: usize,
    contacts: Vec<ContactCtx>,
}

/// The install the systemd unit is for, escaped for the unit file.
#[derive(Serialize)]
struct InstallCtx {
    /// As written in comments and `WorkingDirectory=`.
    dir: String,
    /// As an argument (`ExecStart=`, `ReadWritePaths=`).
    dir_arg: String,
    /// `file://` URL of the handbook.
    handbook_url: String,
    user: String,
    /// The kit's own system user (created with `useradd`, group of the same name).
    system_user: bool,
    m110d_arg: String,
    /// `yes`, or `read-only` when the install lies under a home directory.
    protect_home: &'static str,
    /// `yes`, or `no` when the install lies in /tmp or /var/tmp, which a private /tmp hides.
    private_tmp: &'static str,
}

impl InstallCtx {
    fn new(i: &super::install::Install) -> InstallCtx {
        use super::install::{unit_arg, unit_path};
        // Only what a file URL must encode; `%` doubled again for systemd's specifiers.
        let url = i
            .dir
            .replace('%', "%25")
            .replace(' ', "%20")
            .replace('%', "%%");
        InstallCtx {
            dir: unit_path(&i.dir),
            dir_arg: unit_arg(&i.dir),
            handbook_url: format!("file://{url}/handbook.md"),
            user: i.user.clone(),
            system_user: i.system_user(),
            m110d_arg: unit_arg(&i.m110d),
            protect_home: if i.under_home() { "read-only" } else { "yes" },
            private_tmp: if ["/tmp", "/var/tmp"]
                .iter()
                .any(|t| std::path::Path::new(&i.dir).starts_with(t))
            {
                "no"
            } else {
                "yes"
            },
        }
    }
}

#[derive(Serialize)]
struct RegionCtx {
    code: String,
    name: String,
    parents_joined: String,
    population: u64,
    area: String,
    archetype: &'static str,
    archetype_zh: &'static str,
    division_edition: String,
}

#[derive(Serialize)]
struct CenterCtx {
    number: String,
    hours: String,
    languages: String,
}

#[derive(Serialize, Clone)]
struct TierCtx {
    level: u8,
    key: String,
    name: String,
    count: usize,
}

#[derive(Serialize)]
struct TopUnitCtx {
    code: String,
    name: String,
    /// Descendants per lower tier, in tier order.
    counts: Vec<usize>,
}

#[derive(Serialize)]
struct UnitGroupCtx {
    kind_zh: &'static str,
    units: Vec<UnitCtx>,
}

#[derive(Serialize)]
struct UnitCtx {
    id: String,
    name: String,
    hotline: Option<String>,
    scope: String,
    functions: String,
}

#[derive(Serialize)]
struct CategoryCtx {
    code: String,
    name_zh: String,
    name_en: String,
    priority_zh: &'static str,
    police: bool,
    sign_minutes: u32,
    close_hours: u32,
    region_route: String,
}

#[derive(Serialize)]
struct RoutingCtx {
    rules: usize,
    fallback: String,
    fallback_name: String,
}

#[derive(Serialize)]
pub(super) struct RouteRow {
    pub(super) grid: String,
    pub(super) grid_name: String,
    pub(super) category: String,
    pub(super) category_name: String,
    pub(super) unit: String,
    pub(super) unit_name: String,
    /// `rule <category> @ <scope|region>` or `fallback`.
    pub(super) via: String,
    pub(super) gap: bool,
}

#[derive(Serialize)]
struct OverrideCtx {
    scope: String,
    scope_name: String,
    category: String,
    unit: String,
    unit_name: String,
}

#[derive(Serialize)]
struct EscalationCtx {
    category: String,
    steps: Vec<StepCtx>,
}

#[derive(Serialize)]
struct StepCtx {
    unit_name: String,
    after_minutes: u32,
}

#[derive(Serialize)]
struct StaffingCtx {
    yearly_calls: String,
    calls_per_1000: String,
    peak_hour_share: String,
    peak_calls_per_hour: String,
    traffic: String,
    aht: String,
    target: String,
    agents: u32,
    scheduled: u32,
    shrinkage: String,
    service_level: String,
    asa: String,
    p_wait: String,
    occupancy: String,
    max_occupancy: String,
    /// The 24/7 roster (docs/staffing.md): pattern, one line per shift, FTE.
    roster_pattern: &'static str,
    roster_shifts: Vec<String>,
    fte: String,
    fte_roles: String,
    other_pattern: String,
}

#[derive(Serialize)]
struct PlatformCtx {
    id: String,
    name: String,
    kind_zh: &'static str,
    integration_zh: &'static str,
    target: Option<String>,
    cameras: Option<u32>,
}

#[derive(Serialize)]
struct ContactCtx {
    unit: String,
    name: String,
    role: Option<String>,
    phone: Option<String>,
}

fn pct(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

fn archetype_zh(a: Archetype) -> &'static str {
    match a {
        Archetype::County => "县（县级市）",
        Archetype::CityDistrict => "市辖区",
        Archetype::City => "地级市",
    }
}

fn priority_zh(p: Priority) -> &'static str {
    match p {
        Priority::Urgent => "紧急",
        Priority::High => "高",
        Priority::Normal => "一般",
        Priority::Low => "低",
    }
}

/// zh-CN names of platform kinds.
fn platform_kind_zh(k: PlatformKind) -> &'static str {
    match k {
        PlatformKind::PoliceDispatch => "公安110接处警",
        PlatformKind::FireDispatch => "119消防救援指挥",
        PlatformKind::MedicalDispatch => "120急救指挥",
        PlatformKind::Hotline12345 => "12345热线",
        PlatformKind::GridApp => "网格App",
        PlatformKind::CameraNetwork => "视频监控网",
        PlatformKind::GovPortal => "政府门户",
        PlatformKind::WelfareDb => "民政救助数据库",
        PlatformKind::SmsGateway => "短信网关",
        PlatformKind::Other => "其他",
    }
}

fn integration_zh(i: &Integration) -> &'static str {
    match i {
        Integration::None => "未对接",
        Integration::CsvImport { .. } => "CSV 导入",
        Integration::Webhook { .. } => "Webhook 推送",
        Integration::Open311 { .. } => "Open311 接口",
    }
}

pub(super) fn household_kind_zh(k: HouseholdKind) -> &'static str {
    match k {
        HouseholdKind::Dibao => "低保户",
        HouseholdKind::ExtremePoverty => "特困人员",
        HouseholdKind::Entitled => "优抚对象",
        HouseholdKind::Disabled => "残疾人",
        HouseholdKind::ElderlyAlone => "空巢/独居老人",
        HouseholdKind::LeftBehindChild => "留守儿童",
        HouseholdKind::Other => "其他",
    }
}

/// How many gaps the handbook lists before pointing at `routing.md`.
const HANDBOOK_GAP_LIMIT: usize = 50;

impl Context {
    pub(super) fn build(
        region: &Region,
        profile_sha256: &str,
        install: &super::install::Install,
    ) -> Result<Context, GenerateError> {
        let info = &region.info;
        let staffing = staffing::plan(info.population, &region.service_center.staffing)?;
        let week = staffing::roster::plan(info.population, &region.service_center.staffing)?;
        let inputs = &region.service_center.staffing;
        let unit_names: HashMap<&str, &str> = region
            .units
            .iter()
            .map(|u| (u.id.as_str(), u.name.as_str()))
            .collect();
        let unit_name = |id: &str| unit_names.get(id).copied().unwrap_or(id).to_string();
        let grid_names: HashMap<&str, &str> = region
            .grid_units
            .iter()
            .map(|g| (g.code.as_str(), g.name.as_str()))
            .collect();
        let grid_name = |code: &str| grid_names.get(code).copied().unwrap_or(code).to_string();
        let cat_names: HashMap<&str, &str> = region
            .categories
            .iter()
            .map(|c| (c.code.as_str(), c.name_zh.as_str()))
            .collect();

        let tiers: Vec<TierCtx> = region
            .units_per_tier()
            .into_iter()
            .map(|(t, count)| TierCtx {
                level: t.level,
                key: t.key.clone(),
                name: t.name.clone(),
                count,
            })
            .collect();
        let tier1_name = tiers
            .first()
            .map(|t| t.name.clone())
            .unwrap_or_else(|| "乡镇/街道".into());

        // Tier-1 ancestor of every grid unit (parents come before children in the model).
        let mut top_of: HashMap<&str, &str> = HashMap::new();
        for g in &region.grid_units {
            let top = match (&g.parent, g.tier) {
                (_, 1) | (None, _) => g.code.as_str(),
                (Some(p), _) => top_of.get(p.as_str()).copied().unwrap_or(p.as_str()),
            };
            top_of.insert(g.code.as_str(), top);
        }
        let levels: Vec<u8> = tiers.iter().skip(1).map(|t| t.level).collect();
        let mut counts: HashMap<(&str, u8), usize> = HashMap::new();
        for g in region.grid_units.iter().filter(|g| g.tier > 1) {
            if let Some(top) = top_of.get(g.code.as_str()) {
                *counts.entry((top, g.tier)).or_default() += 1;
            }
        }
        let top_units = region
            .top_units()
            .map(|u| TopUnitCtx {
                code: u.code.clone(),
                name: u.name.clone(),
                counts: levels
                    .iter()
                    .map(|l| counts.get(&(u.code.as_str(), *l)).copied().unwrap_or(0))
                    .collect(),
            })
            .collect();

        let unit_groups = UnitKind::ALL
            .into_iter()
            .filter_map(|kind| {
                let units: Vec<UnitCtx> = region
                    .units
                    .iter()
                    .filter(|u| u.kind == kind)
                    .map(|u| unit_ctx(u, &grid_name))
                    .collect();
                (!units.is_empty()).then_some(UnitGroupCtx {
                    kind_zh: kind.name_zh(),
                    units,
                })
            })
            .collect();

        let table = RoutingTable::new(region);
        let categories = region
            .categories
            .iter()
            .map(|c| {
                let r = table.resolve(&c.code, None);
                let region_route = match r.via {
                    RouteVia::Fallback => format!("（兜底 fallback）{}", unit_name(&r.unit)),
                    RouteVia::Rule { .. } => unit_name(&r.unit),
                };
                CategoryCtx {
                    code: c.code.clone(),
                    name_zh: c.name_zh.clone(),
                    name_en: c.name_en.clone(),
                    priority_zh: priority_zh(c.priority),
                    police: c.police,
                    sign_minutes: c.sign_minutes,
                    close_hours: c.close_hours,
                    region_route,
                }
            })
            .collect();

        let mut routes = Vec::new();
        for top in region.top_units() {
            for c in &region.categories {
                let r = table.resolve(&c.code, Some(&top.code));
                let (via, gap) = match &r.via {
                    RouteVia::Fallback => ("fallback".to_string(), !c.police),
                    RouteVia::Rule { category, scope } => (
                        format!("rule {category} @ {}", scope.as_deref().unwrap_or("region")),
                        false,
                    ),
                };
                routes.push(RouteRow {
                    grid: top.code.clone(),
                    grid_name: top.name.clone(),
                    category: c.code.clone(),
                    category_name: c.name_zh.clone(),
                    unit_name: unit_name(&r.unit),
                    unit: r.unit,
                    via,
                    gap,
                });
            }
        }

        let top_codes: HashSet<&str> = region.top_units().map(|u| u.code.as_str()).collect();
        let overrides = region
            .routing
            .rules
            .iter()
            .filter_map(|r| {
                let scope = r.scope.as_deref()?;
                (!top_codes.contains(scope)).then(|| OverrideCtx {
                    scope: scope.into(),
                    scope_name: grid_name(scope),
                    category: r.category.clone(),
                    unit: r.unit.clone(),
                    unit_name: unit_name(&r.unit),
                })
            })
            .collect();

        let escalation = region
            .routing
            .escalation
            .iter()
            .map(|e| EscalationCtx {
                category: match &e.category {
                    None => "默认 default".into(),
                    Some(c) => {
                        format!("{} `{c}`", cat_names.get(c.as_str()).copied().unwrap_or(""))
                    }
                },
                steps: e
                    .steps
                    .iter()
                    .map(|s| StepCtx {
                        unit_name: unit_name(&s.unit),
                        after_minutes: s.after_minutes,
                    })
                    .collect(),
            })
            .collect();

        let mut directory: BTreeMap<&'static str, usize> = DirectorySystem::ALL
            .into_iter()
            .map(|s| (s.as_str(), 0))
            .collect();
        for s in DirectorySystem::ALL {
            let units = region
                .units
                .iter()
                .filter(|u| system_of_unit(u.kind) == Some(s))
                .count();
            let entries = region.directory.iter().filter(|e| e.system == s).count();
            directory.insert(s.as_str(), units + entries);
        }

        let contacts = region
            .units
            .iter()
            .flat_map(|u| {
                u.contacts.iter().map(|c| ContactCtx {
                    unit: u.name.clone(),
                    name: c.name.clone(),
                    role: c.role.clone(),
                    phone: c.phone.clone(),
                })
            })
            .collect();

        Ok(Context {
            kit_version: m110_runtime::VERSION,
            profile_sha256: profile_sha256.into(),
            install: InstallCtx::new(install),
            region: RegionCtx {
                code: info.code.clone(),
                name: info.name.clone(),
                parents_joined: info.parents.concat(),
                population: info.population,
                area: format!("{:.1}", info.area_km2),
                archetype: info.archetype.as_str(),
                archetype_zh: archetype_zh(info.archetype),
                division_edition: info.division_edition.clone(),
            },
            center: CenterCtx {
                number: region.service_center.number.clone(),
                hours: region.service_center.hours.clone(),
                languages: region.service_center.languages.join(", "),
            },
            lower_tiers: tiers.iter().skip(1).cloned().collect(),
            scope_order: tiers
                .iter()
                .rev()
                .map(|t| t.name.as_str())
                .chain(["全域"])
                .collect::<Vec<_>>()
                .join(" > "),
            tiers,
            tier1_name,
            top_units,
            unit_groups,
            categories,
            routing: RoutingCtx {
                rules: region.routing.rules.len(),
                fallback: region.routing.fallback_unit.clone(),
                fallback_name: unit_name(&region.routing.fallback_unit),
            },
            routes,
            overrides,
            gaps: crate::plan::gaps(region),
            gap_limit: HANDBOOK_GAP_LIMIT,
            escalation,
            staffing: StaffingCtx {
                yearly_calls: format!("{:.0}", staffing::yearly_calls(info.population, inputs)),
                calls_per_1000: format!("{}", inputs.calls_per_1000_per_year),
                peak_hour_share: pct(inputs.peak_hour_share),
                peak_calls_per_hour: format!("{:.1}", staffing.peak_calls_per_hour),
                traffic: format!("{:.2}", staffing.traffic_erlangs),
                aht: format!("{:.0}", staffing.aht_seconds),
                target: format!(
                    "{:.0}% 的来电在 {:.0} 秒内接听",
                    staffing.service_level_target * 100.0,
                    staffing.service_level_seconds
                ),
                agents: staffing.agents,
                scheduled: staffing.scheduled_staff,
                shrinkage: pct(staffing.shrinkage),
                service_level: pct(staffing.service_level),
                asa: format!("{:.1}", staffing.asa_seconds),
                p_wait: format!("{:.3}", staffing.p_wait),
                occupancy: pct(staffing.occupancy),
                max_occupancy: pct(staffing.max_occupancy),
                roster_pattern: week.roster.pattern,
                roster_shifts: staffing::text::shift_lines(&week.roster),
                fte: format!("{:.2}", week.roster.fte.total),
                fte_roles: {
                    let f = &week.roster.fte;
                    format!(
                        "接线 {:.2}，回访 {:.2}，派单/督办 {:.2}，值班长 {:.2}",
                        f.call_takers, f.followup, f.dispatchers, f.supervisors
                    )
                },
                other_pattern: format!(
                    "{} 制需 {:.2} FTE",
                    week.other_pattern.pattern, week.other_pattern.fte
                ),
            },
            platforms: region
                .platforms
                .iter()
                .map(|p| PlatformCtx {
                    id: p.id.clone(),
                    name: p.name.clone(),
                    kind_zh: platform_kind_zh(p.kind),
                    integration_zh: integration_zh(&p.integration),
                    target: crate::plan::integration_target(&p.integration),
                    cameras: p.cameras,
                })
                .collect(),
            directory,
            households_total: region.households.len(),
            contacts,
        })
    }
}

fn unit_ctx(u: &HandlingUnit, grid_name: &dyn Fn(&str) -> String) -> UnitCtx {
    let scope = if u.scope.is_empty() {
        "全域".to_string()
    } else {
        u.scope
            .iter()
            .map(|s| grid_name(s))
            .collect::<Vec<_>>()
            .join("、")
    };
    let mut functions = u.functions.clone();
    functions.extend(u.service_categories.iter().cloned());
    UnitCtx {
        id: u.id.clone(),
        name: u.name.clone(),
        hotline: u.hotline.clone(),
        scope,
        functions: functions.join("、"),
    }
}

/// Which directory data system a handling unit of this kind belongs to, if any.
pub(super) fn system_of_unit(kind: UnitKind) -> Option<DirectorySystem> {
    match kind {
        UnitKind::Department | UnitKind::Township | UnitKind::CommunityCenter => {
            Some(DirectorySystem::GovernmentServices)
        }
        UnitKind::SocialOrganization | UnitKind::VolunteerTeam => {
            Some(DirectorySystem::SocialOrganizations)
        }
        UnitKind::MarketProvider => Some(DirectorySystem::MarketProviders),
        UnitKind::Center | UnitKind::Police => None,
    }
}
