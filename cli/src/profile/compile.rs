/*!
Compiling a checked raw profile into the region model (`m110_runtime::model::Region`).

This is where defaults are applied, the category taxonomy merged, grid tiers resolved and the
lowest grid tier generated. The helpers that both validation and compilation need (tier
resolution, category merging, cell generation) live here so the two can never disagree.
`compile` itself assumes `validate` found nothing: it does not re-explain errors.
*/

use std::collections::HashMap;

use m110_runtime::model::{
    Appraisal, Archetype, Category, CenterRules, Contact, DirectoryEntry, EarlyWarning,
    EscalationChain, EscalationStep, GridUnit, HandlingUnit, Household, Integration, LatLon,
    Platform, PlatformKind, Priority, Region, RegionInfo, RosterInputs, Routing, RoutingRule,
    ServiceCenter, ShiftPattern, StaffingInputs, Tier, UnitKind,
};

use super::raw::{RawCellRule, RawGridUnit, RawProfile, RawServiceCenter, RawStaffing, RawUnit};
use super::taxonomy::default_categories;

/// Id of the always-present service center unit.
pub const CENTER_ID: &str = "center";

/// Staffing defaults (documented in docs/profile.md and docs/staffing.md).
pub fn default_staffing() -> StaffingInputs {
    StaffingInputs {
        calls_per_1000_per_year: 150.0,
        peak_hour_share: 0.12,
        aht_seconds: 180.0,
        service_level_target: 0.8,
        service_level_seconds: 20.0,
        shrinkage: 0.3,
        max_occupancy: 0.85,
        roster: RosterInputs::default(),
    }
}

/// An "HH-HH" window of whole hours (`09-12` is 9, 10 and 11; `20-24` runs to midnight); `None`
/// unless 0 ≤ start < end ≤ 24.
pub fn parse_hour_window(s: &str) -> Option<std::ops::Range<u8>> {
    let (a, b) = s.trim().split_once('-')?;
    let hour = |t: &str| {
        let t = t.trim();
        (!t.is_empty() && t.len() <= 2 && t.bytes().all(|c| c.is_ascii_digit()))
            .then(|| t.parse::<u8>().ok())
            .flatten()
    };
    let (a, b) = (hour(a)?, hour(b)?);
    (a < b && b <= 24).then_some(a..b)
}

/// Shares as given, divided by their sum (validation has checked the sum is positive).
fn normalised(v: &[f64]) -> Vec<f64> {
    let sum: f64 = v.iter().sum();
    v.iter().map(|x| x / sum).collect()
}

/// The roster inputs of a validated profile's `service_center` (defaults where absent).
fn roster_inputs(sc: &RawServiceCenter, st: &RawStaffing) -> RosterInputs {
    let d = RosterInputs::default();
    let followup_hours = match &st.followup_window {
        Some(w) => {
            let mut hours: Vec<u8> = w
                .iter()
                .filter_map(|s| parse_hour_window(s))
                .flatten()
                .collect();
            hours.sort_unstable();
            hours.dedup();
            hours
        }
        None => d.followup_hours,
    };
    RosterInputs {
        intraday: st.intraday.as_deref().map_or(d.intraday, normalised),
        weekday: st.weekday.as_deref().map_or(d.weekday, normalised),
        shifts: st
            .shifts
            .as_deref()
            .and_then(ShiftPattern::parse)
            .unwrap_or(d.shifts),
        case_share: st.case_share.unwrap_or(d.case_share),
        dispatch_minutes: st.dispatch_minutes.unwrap_or(d.dispatch_minutes),
        followup_share: st.followup_share.unwrap_or(d.followup_share),
        followup_minutes: st.followup_minutes.unwrap_or(d.followup_minutes),
        followup_hours,
        min_call_takers: st.min_call_takers.unwrap_or(d.min_call_takers),
        min_dispatchers: st.min_dispatchers.unwrap_or(d.min_dispatchers),
        supervisors: st.supervisors.unwrap_or(d.supervisors),
        staff: sc.staff,
    }
}

/// Largest number of grid units (listed + generated) a profile may describe; far above any
/// real region (Fujian-wide with cells is ~60k) but stops `per_households: 1` style explosions.
pub const MAX_GRID_UNITS: usize = 2_000_000;

/// The archetype rule: explicit value, else a prefecture-level code (ending in `00`, e.g.
/// 350200) is a `city`, a name ending in 区 is a `city_district`, anything else a `county`.
pub fn derive_archetype(code: &str, name: &str) -> Archetype {
    if code.len() == 6 && code.ends_with("00") {
        Archetype::City
    } else if name.ends_with('区') {
        Archetype::CityDistrict
    } else {
        Archetype::County
    }
}

pub fn parse_archetype(s: &str) -> Option<Archetype> {
    [Archetype::County, Archetype::CityDistrict, Archetype::City]
        .into_iter()
        .find(|a| a.as_str() == s)
}

pub fn parse_platform_kind(s: &str) -> Option<PlatformKind> {
    [
        PlatformKind::PoliceDispatch,
        PlatformKind::FireDispatch,
        PlatformKind::MedicalDispatch,
        PlatformKind::Hotline12345,
        PlatformKind::GridApp,
        PlatformKind::CameraNetwork,
        PlatformKind::GovPortal,
        PlatformKind::WelfareDb,
        PlatformKind::SmsGateway,
        PlatformKind::Other,
    ]
    .into_iter()
    .find(|k| k.as_str() == s)
}

/// Why a grid unit's tier could not be resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TierError {
    UnknownTier,
    UnknownParent,
    Cycle,
}

/// Resolves every listed grid unit's tier level (1-based): its explicit `tier`, else one below
/// its parent, else 1. Duplicate codes resolve against their first occurrence.
pub fn resolve_tiers(
    tiers: &HashMap<&str, u8>,
    units: &[RawGridUnit],
) -> Vec<Result<u8, TierError>> {
    let mut by_code: HashMap<&str, usize> = HashMap::with_capacity(units.len());
    for (i, u) in units.iter().enumerate() {
        by_code.entry(u.code.as_str()).or_insert(i);
    }
    let mut memo: Vec<Option<Result<u8, TierError>>> = vec![None; units.len()];
    for start in 0..units.len() {
        if memo[start].is_some() {
            continue;
        }
        // Walk up until a unit with a known level, then assign levels on the way back down.
        let mut chain = vec![start];
        let mut on_chain: HashMap<usize, ()> = HashMap::from([(start, ())]);
        let base: Result<u8, TierError> = loop {
            let i = *chain.last().expect("non-empty");
            let u = &units[i];
            if let Some(t) = &u.tier {
                break tiers.get(t.as_str()).copied().ok_or(TierError::UnknownTier);
            }
            let Some(p) = &u.parent else { break Ok(1) };
            let Some(&pi) = by_code.get(p.as_str()) else {
                break Err(TierError::UnknownParent);
            };
            if let Some(known) = &memo[pi] {
                break known.clone().map(|l| l.saturating_add(1));
            }
            if on_chain.insert(pi, ()).is_some() {
                break Err(TierError::Cycle);
            }
            chain.push(pi);
        };
        // chain.last() got `base`; each unit below it is one level deeper.
        let mut level = base;
        for &i in chain.iter().rev() {
            if memo[i].is_none() {
                memo[i] = Some(level.clone());
            }
            level = memo[i].clone().expect("set").map(|l| l.saturating_add(1));
        }
    }
    memo.into_iter().map(|m| m.expect("resolved")).collect()
}

/// A grid cell to generate: (parent index into listed units, count).
pub struct CellPlan {
    pub parent: usize,
    pub count: u64,
}

/// Plans the generated lowest tier: one entry per unit of the tier above that lists no child.
pub fn plan_cells(
    rule: Option<&RawCellRule>,
    tier_count: usize,
    units: &[RawGridUnit],
    levels: &[Result<u8, TierError>],
) -> Vec<CellPlan> {
    let Some(rule) = rule else { return Vec::new() };
    if tier_count < 2 {
        return Vec::new();
    }
    let lowest = tier_count as u8;
    let mut has_child: HashMap<&str, bool> = HashMap::new();
    for (u, l) in units.iter().zip(levels) {
        if l.as_ref().ok() == Some(&lowest)
            && let Some(p) = &u.parent
        {
            has_child.insert(p.as_str(), true);
        }
    }
    let per_unit = rule.per_unit.unwrap_or(1).max(1);
    let mut plans = Vec::new();
    for (i, (u, l)) in units.iter().zip(levels).enumerate() {
        if l.as_ref().ok() != Some(&(lowest - 1)) || has_child.contains_key(u.code.as_str()) {
            continue;
        }
        let households = u.households.as_ref().and_then(|h| h.value()).copied();
        let count = match (rule.per_households, households) {
            (Some(per), Some(h)) if per > 0 => h.div_ceil(per).max(1),
            _ => per_unit,
        };
        plans.push(CellPlan { parent: i, count });
    }
    plans
}

/// Generated cell code: parent code + zero-padded number (2 digits, wider when needed).
pub fn cell_code(parent: &str, n: u64, count: u64) -> String {
    let width = count.to_string().len().max(2);
    format!("{parent}{n:0width$}")
}

/// Splits `total` over `n` parts as evenly as possible, larger parts first.
fn share(total: u64, n: u64, i: u64) -> u64 {
    total / n + u64::from(i < total % n)
}

/// Merges the default taxonomy with the profile's categories. Returns each resulting category
/// with the index of the profile entry that defined or overrode it (for diagnostics).
pub fn merge_categories(raw: &RawProfile) -> Vec<(Category, Option<usize>)> {
    let mut out: Vec<(Category, Option<usize>)> = default_categories()
        .into_iter()
        .map(|c| (c, None))
        .collect();
    let mut pos: HashMap<String, usize> = out
        .iter()
        .enumerate()
        .map(|(i, (c, _))| (c.code.clone(), i))
        .collect();
    let mut disabled = Vec::new();
    for (ri, rc) in raw.categories.iter().enumerate() {
        if rc.disabled {
            disabled.push(rc.code.clone());
            continue;
        }
        let i = match pos.get(&rc.code) {
            Some(&i) => i,
            None => {
                out.push((
                    Category {
                        code: rc.code.clone(),
                        name_zh: String::new(),
                        name_en: String::new(),
                        parent: None,
                        priority: Priority::Normal,
                        police: false,
                        sign_minutes: 60,
                        close_hours: 72,
                        keywords: Vec::new(),
                        matchable: false,
                    },
                    None,
                ));
                pos.insert(rc.code.clone(), out.len() - 1);
                out.len() - 1
            }
        };
        let (c, src) = &mut out[i];
        *src = Some(ri);
        if let Some(v) = &rc.name_zh {
            c.name_zh = v.clone();
        }
        if let Some(v) = &rc.name_en {
            c.name_en = v.clone();
        }
        if rc.parent.is_some() {
            c.parent = rc.parent.clone();
        }
        if let Some(p) = rc.priority.as_deref().and_then(Priority::parse) {
            c.priority = p;
        }
        if let Some(v) = rc.police {
            c.police = v;
        }
        if let Some(v) = rc.matchable {
            c.matchable = v;
        }
        if let Some(v) = rc.sign_minutes {
            c.sign_minutes = v;
        }
        if let Some(v) = rc.close_hours {
            c.close_hours = v;
        }
        if let Some(k) = &rc.keywords {
            c.keywords = k.clone();
        }
        for k in &rc.add_keywords {
            if !c.keywords.contains(k) {
                c.keywords.push(k.clone());
            }
        }
    }
    // Trimming a default 大类 or 中类 trims the default categories under it too; a category the
    // profile itself puts under a trimmed one stays, for validation to report its parent.
    let mut gone: std::collections::HashSet<String> = disabled.into_iter().collect();
    for (c, src) in &out {
        if src.is_none() && c.parent.as_ref().is_some_and(|p| gone.contains(p)) {
            gone.insert(c.code.clone());
        }
    }
    out.retain(|(c, _)| !gone.contains(&c.code));
    out
}

/// The implicit service center unit.
pub fn implicit_center(raw: &RawProfile) -> HandlingUnit {
    HandlingUnit {
        id: CENTER_ID.to_string(),
        kind: UnitKind::Center,
        name: format!("{}民生110服务中心", raw.region.name),
        hotline: Some(service_number(raw)),
        contacts: Vec::new(),
        functions: vec!["受理、派单、督办、回访".to_string()],
        service_categories: Vec::new(),
        qualification: None,
        scope: Vec::new(),
        address: None,
        platform: None,
    }
}

pub fn service_number(raw: &RawProfile) -> String {
    raw.service_center
        .as_ref()
        .and_then(|s| s.number.clone())
        .unwrap_or_else(|| "110".to_string())
}

fn unit(u: &RawUnit) -> HandlingUnit {
    HandlingUnit {
        id: u.id.clone(),
        kind: UnitKind::parse(&u.kind).unwrap_or(UnitKind::Department),
        name: u.name.clone(),
        hotline: u.hotline.clone(),
        contacts: u
            .contacts
            .iter()
            .map(|c| Contact {
                name: c.name.clone(),
                role: c.role.clone(),
                phone: c.phone.clone(),
            })
            .collect(),
        functions: u.functions.clone(),
        service_categories: u.service_categories.clone(),
        qualification: u.qualification.clone(),
        scope: u.scope.clone(),
        address: u.address.clone(),
        platform: u.platform.clone(),
    }
}

/// Handling units with the implicit center first (unless the profile lists `center` itself).
pub fn handling_units(raw: &RawProfile) -> Vec<HandlingUnit> {
    let mut units = Vec::with_capacity(raw.units.len() + 1);
    if !raw.units.iter().any(|u| u.id == CENTER_ID) {
        units.push(implicit_center(raw));
    }
    units.extend(raw.units.iter().map(unit));
    units
}

/// Builds the grid: listed units ordered by tier (listing order within a tier), then the
/// generated cells in parent order. Parents therefore always precede their children.
pub fn grid_units(raw: &RawProfile, levels: &[Result<u8, TierError>]) -> Vec<GridUnit> {
    let tier_count = raw.grid.tiers.len();
    let listed = &raw.grid.units;
    let mut order: Vec<usize> = (0..listed.len()).collect();
    order.sort_by_key(|&i| *levels[i].as_ref().unwrap_or(&u8::MAX));
    let mut out: Vec<GridUnit> = order
        .iter()
        .map(|&i| {
            let u = &listed[i];
            GridUnit {
                code: u.code.clone(),
                name: u.name.clone(),
                parent: u.parent.clone(),
                tier: *levels[i].as_ref().unwrap_or(&1),
                population: u.population.as_ref().and_then(|p| p.value()).copied(),
                households: u.households.as_ref().and_then(|p| p.value()).copied(),
                centroid: match (u.lat, u.lon) {
                    (Some(lat), Some(lon)) => Some(LatLon { lat, lon }),
                    _ => None,
                },
                generated: false,
            }
        })
        .collect();
    for plan in plan_cells(raw.grid.cells.as_ref(), tier_count, listed, levels) {
        let p = &listed[plan.parent];
        let pop = p.population.as_ref().and_then(|v| v.value()).copied();
        let hh = p.households.as_ref().and_then(|v| v.value()).copied();
        for i in 0..plan.count {
            out.push(GridUnit {
                code: cell_code(&p.code, i + 1, plan.count),
                name: format!("{}第{}网格", p.name, i + 1),
                parent: Some(p.code.clone()),
                tier: tier_count as u8,
                population: pop.map(|t| share(t, plan.count, i)),
                households: hh.map(|t| share(t, plan.count, i)),
                centroid: None,
                generated: true,
            });
        }
    }
    out
}

fn integration(p: &super::raw::RawPlatform) -> Integration {
    match p.integration.as_ref() {
        None => Integration::None,
        Some(i) => match i.kind.as_str() {
            "csv_import" => Integration::CsvImport {
                path: i.path.clone().unwrap_or_default(),
            },
            "webhook" => Integration::Webhook {
                url: i.url.clone().unwrap_or_default(),
                secret_env: i.secret_env.clone(),
            },
            "open311" => Integration::Open311 {
                endpoint: i.endpoint.clone().unwrap_or_default(),
                secret_env: i.secret_env.clone(),
            },
            _ => Integration::None,
        },
    }
}

/// Compiles a validated profile. `directory` and `households` come from the loaded CSVs.
pub fn compile(
    raw: &RawProfile,
    levels: &[Result<u8, TierError>],
    directory: Vec<DirectoryEntry>,
    households: Vec<Household>,
) -> Region {
    let sc = raw.service_center.clone().unwrap_or_default();
    let st = sc.staffing.clone().unwrap_or_default();
    let d = default_staffing();
    let region = &raw.region;
    let archetype = region
        .archetype
        .as_deref()
        .and_then(parse_archetype)
        .unwrap_or_else(|| derive_archetype(&region.code, &region.name));
    let routing = raw.routing.clone().unwrap_or_default();
    let mut escalation: Vec<EscalationChain> = routing
        .escalation
        .iter()
        .map(|e| EscalationChain {
            category: e.category.clone(),
            steps: e
                .steps
                .iter()
                .map(|s| EscalationStep {
                    unit: s.unit.clone(),
                    after_minutes: s.after_minutes,
                })
                .collect(),
        })
        .collect();
    if !escalation.iter().any(|e| e.category.is_none()) {
        // Without a default chain an overdue case would press nobody: the center supervises.
        escalation.push(EscalationChain {
            category: None,
            steps: vec![EscalationStep {
                unit: CENTER_ID.to_string(),
                after_minutes: 0,
            }],
        });
    }
    let ew = raw.early_warning.clone().unwrap_or_default();
    let ew_default = EarlyWarning::default();
    Region {
        info: RegionInfo {
            code: region.code.clone(),
            name: region.name.clone(),
            parents: region.parents.clone(),
            population: region.population.value().copied().unwrap_or(0),
            area_km2: region.area_km2.value().copied().unwrap_or(0.0),
            archetype,
            division_edition: raw.division_edition.clone(),
        },
        service_center: ServiceCenter {
            number: service_number(raw),
            hours: sc.hours.clone().unwrap_or_else(|| "24/7".to_string()),
            languages: sc
                .languages
                .clone()
                .unwrap_or_else(|| vec!["zh-CN".to_string(), "en".to_string()]),
            staffing: StaffingInputs {
                calls_per_1000_per_year: st
                    .calls_per_1000_per_year
                    .unwrap_or(d.calls_per_1000_per_year),
                peak_hour_share: st.peak_hour_share.unwrap_or(d.peak_hour_share),
                aht_seconds: st.aht_seconds.unwrap_or(d.aht_seconds),
                service_level_target: st.service_level_target.unwrap_or(d.service_level_target),
                service_level_seconds: st.service_level_seconds.unwrap_or(d.service_level_seconds),
                shrinkage: st.shrinkage.unwrap_or(d.shrinkage),
                max_occupancy: st.max_occupancy.unwrap_or(d.max_occupancy),
                roster: roster_inputs(&sc, &st),
            },
            rules: {
                let d = CenterRules::default();
                CenterRules {
                    reopen_window_days: sc.reopen_window_days.unwrap_or(d.reopen_window_days),
                    separation_of_duties: sc.separation_of_duties.unwrap_or(d.separation_of_duties),
                }
            },
        },
        tiers: raw
            .grid
            .tiers
            .iter()
            .enumerate()
            .map(|(i, t)| Tier {
                level: (i + 1) as u8,
                key: t.key.clone(),
                name: t.name.clone(),
            })
            .collect(),
        grid_units: grid_units(raw, levels),
        units: handling_units(raw),
        categories: merge_categories(raw).into_iter().map(|(c, _)| c).collect(),
        routing: Routing {
            rules: routing
                .rules
                .iter()
                .flat_map(|r| {
                    r.category.items().into_iter().map(|c| RoutingRule {
                        category: c.to_string(),
                        scope: r.scope.clone(),
                        unit: r.unit.clone(),
                    })
                })
                .collect(),
            fallback_unit: routing
                .fallback
                .clone()
                .unwrap_or_else(|| CENTER_ID.to_string()),
            escalation,
        },
        platforms: raw
            .existing_platforms
            .iter()
            .map(|p| Platform {
                id: p.id.clone(),
                kind: parse_platform_kind(&p.kind).unwrap_or(PlatformKind::Other),
                name: p.name.clone(),
                integration: integration(p),
                cameras: p.cameras,
            })
            .collect(),
        directory,
        households,
        // Filled by `profile::cameras` (the list and the CSV, links from the platforms).
        cameras: Vec::new(),
        appraisal: raw
            .appraisal
            .as_ref()
            .map(|a| Appraisal {
                on_time_sign: a.on_time_sign,
                on_time_close: a.on_time_close,
                satisfaction: a.satisfaction,
                follow_up: a.follow_up,
                return_rate: a.return_rate,
                repeat_rate: a.repeat_rate,
            })
            .unwrap_or_default(),
        early_warning: EarlyWarning {
            window_hours: ew.window_hours.unwrap_or(ew_default.window_hours),
            baseline_days: ew.baseline_days.unwrap_or(ew_default.baseline_days),
            ratio: ew.ratio.unwrap_or(ew_default.ratio),
            min_cases: ew.min_cases.unwrap_or(ew_default.min_cases),
            methods: ew.methods.clone().unwrap_or(ew_default.methods.clone()),
            recurrence_days: ew.recurrence_days.unwrap_or(ew_default.recurrence_days),
            max_days: ew.max_days.unwrap_or(ew_default.max_days),
            max_share: ew.max_share.unwrap_or(ew_default.max_share),
            replicas: ew.replicas.unwrap_or(ew_default.replicas),
            holidays: ew.holidays.clone().unwrap_or_default(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn archetype_rule() {
        assert_eq!(derive_archetype("350200", "厦门市"), Archetype::City);
        assert_eq!(
            derive_archetype("350102", "鼓楼区"),
            Archetype::CityDistrict
        );
        assert_eq!(derive_archetype("350781", "邵武市"), Archetype::County);
        assert_eq!(derive_archetype("350722", "浦城县"), Archetype::County);
    }

    #[test]
    fn cell_codes_are_stable_and_padded() {
        assert_eq!(cell_code("350781001201", 3, 12), "35078100120103");
        assert_eq!(cell_code("x", 7, 120), "x007");
        assert_eq!(share(10, 3, 0), 4);
        assert_eq!(share(10, 3, 2), 3);
    }
}
