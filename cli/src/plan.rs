/*!
The plan: what provisioning a region would create, summarised for the county IT team.

Built from a validated [`Region`]: grid units per tier, handling units by kind, categories,
routing coverage (the category × township pairs no rule covers, which land on the fallback
unit), integrations with existing platforms, the Erlang C staffing of the center's design peak
hour and its 24/7 week: hourly agents, roster and FTE (`staffing::roster`). Rendered as
zh-CN text (with English labels) or JSON with stable keys, which `compare` and scripts consume.
*/

use std::collections::HashMap;
use std::fmt::Write as _;

use m110_runtime::engine::routing::RoutingTable;
use m110_runtime::model::{Integration, Region, UnitKind};
use serde::Serialize;

use crate::staffing::roster::WeekPlan;
use crate::staffing::{self, Staffing, StaffingError};

/// Everything `m110 plan` reports. Field order is the JSON key order.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub region: RegionSummary,
    pub units_by_tier: Vec<TierCount>,
    pub handling_units: Vec<KindCount>,
    /// Number of categories (police categories included).
    pub categories: usize,
    pub police_categories: usize,
    pub routing: Coverage,
    pub integrations: Vec<IntegrationSummary>,
    pub directory_entries: usize,
    pub households: usize,
    /// Cameras the profile lists, and the grid units they stand in (left out when none).
    #[serde(skip_serializing_if = "CameraCount::is_empty")]
    pub cameras: CameraCount,
    /// The busiest hour of an average day by `peak_hour_share` (as before the roster existed).
    pub staffing: Staffing,
    /// The 24/7 week: calls and agents per hour, the roster, FTE (docs/staffing.md).
    pub staffing_week: WeekPlan,
}

/// How many cameras, in how many grid units, per platform.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CameraCount {
    pub cameras: usize,
    pub grid_units: usize,
    /// Cameras placed by coordinates (the others by their grid unit's centroid).
    pub located: usize,
}

impl CameraCount {
    pub fn of(region: &Region) -> CameraCount {
        let grids: std::collections::HashSet<&str> = region
            .cameras
            .iter()
            .filter_map(|c| c.grid.as_deref())
            .collect();
        CameraCount {
            cameras: region.cameras.len(),
            grid_units: grids.len(),
            located: region
                .cameras
                .iter()
                .filter(|c| c.location.is_some())
                .count(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.cameras == 0
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct RegionSummary {
    pub code: String,
    pub name: String,
    pub parents: Vec<String>,
    pub population: u64,
    pub area_km2: f64,
    pub archetype: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct TierCount {
    pub tier: u8,
    pub key: String,
    pub name: String,
    pub count: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct KindCount {
    pub kind: &'static str,
    pub name: &'static str,
    pub count: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct Coverage {
    pub rules: usize,
    pub fallback: String,
    pub escalation_chains: usize,
    /// Category × tier-1 unit pairs that reach only the fallback unit.
    pub gaps: Vec<Gap>,
    /// Coverage warnings with their profile positions (`profile::coverage`): units that can
    /// never receive a case, categories only the catch-all takes, shadowed rules. Set by the
    /// caller that loaded the profile ([`Plan::with_warnings`]); a model alone has no lines.
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Gap {
    pub category: String,
    pub category_name: String,
    pub grid: String,
    pub grid_name: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct IntegrationSummary {
    pub id: String,
    pub kind: &'static str,
    pub name: String,
    pub integration: &'static str,
    /// Path, URL or endpoint of the integration, if it has one.
    pub target: Option<String>,
    pub cameras: Option<u32>,
}

/// Why a plan could not be made.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("staffing: {0}")]
    Staffing(#[from] StaffingError),
}

/// The routing gaps of a region, with display names.
pub fn gaps(region: &Region) -> Vec<Gap> {
    let table = RoutingTable::new(region);
    let cat_names: HashMap<&str, &str> = region
        .categories
        .iter()
        .map(|c| (c.code.as_str(), c.name_zh.as_str()))
        .collect();
    let grid_names: HashMap<&str, &str> = region
        .top_units()
        .map(|g| (g.code.as_str(), g.name.as_str()))
        .collect();
    table
        .gaps(region)
        .into_iter()
        .map(|(category, grid)| Gap {
            category_name: cat_names
                .get(category.as_str())
                .copied()
                .unwrap_or("")
                .into(),
            grid_name: grid_names.get(grid.as_str()).copied().unwrap_or("").into(),
            category,
            grid,
        })
        .collect()
}

/// Handling units counted per kind, every kind listed (zero counts included) in model order.
pub fn units_by_kind(region: &Region) -> Vec<KindCount> {
    UnitKind::ALL
        .into_iter()
        .map(|kind| KindCount {
            kind: kind.as_str(),
            name: kind.name_zh(),
            count: region.units.iter().filter(|u| u.kind == kind).count(),
        })
        .collect()
}

/// Where an integration points, if anywhere.
pub fn integration_target(i: &Integration) -> Option<String> {
    match i {
        Integration::None => None,
        Integration::CsvImport { path } => Some(path.clone()),
        Integration::Webhook { url, .. } => Some(url.clone()),
        Integration::Open311 { endpoint, .. } => Some(endpoint.clone()),
    }
}

/// Builds the plan of a validated region.
pub fn build(region: &Region) -> Result<Plan, PlanError> {
    let info = &region.info;
    Ok(Plan {
        region: RegionSummary {
            code: info.code.clone(),
            name: info.name.clone(),
            parents: info.parents.clone(),
            population: info.population,
            area_km2: info.area_km2,
            archetype: info.archetype.as_str(),
        },
        units_by_tier: region
            .units_per_tier()
            .into_iter()
            .map(|(t, count)| TierCount {
                tier: t.level,
                key: t.key.clone(),
                name: t.name.clone(),
                count,
            })
            .collect(),
        handling_units: units_by_kind(region),
        categories: region.categories.len(),
        police_categories: region.categories.iter().filter(|c| c.police).count(),
        routing: Coverage {
            rules: region.routing.rules.len(),
            fallback: region.routing.fallback_unit.clone(),
            escalation_chains: region.routing.escalation.len(),
            gaps: gaps(region),
            warnings: Vec::new(),
        },
        integrations: region
            .platforms
            .iter()
            .map(|p| IntegrationSummary {
                id: p.id.clone(),
                kind: p.kind.as_str(),
                name: p.name.clone(),
                integration: p.integration.kind_str(),
                target: integration_target(&p.integration),
                cameras: p.cameras,
            })
            .collect(),
        directory_entries: region.directory.len(),
        households: region.households.len(),
        cameras: CameraCount::of(region),
        staffing: staffing::plan(info.population, &region.service_center.staffing)?,
        staffing_week: staffing::roster::plan(info.population, &region.service_center.staffing)?,
    })
}

/// How many gaps the text report lists before pointing at `--format json`.
const TEXT_GAP_LIMIT: usize = 20;

impl Plan {
    /// The plan with the profile's coverage warnings, each as `FILE:LINE:COL: warning …`.
    pub fn with_warnings(mut self, warnings: &[crate::profile::Diagnostic]) -> Plan {
        self.routing.warnings = warnings.iter().map(|w| w.warning_line()).collect();
        self
    }

    /// Pretty JSON with a trailing newline.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("plan serialises");
        s.push('\n');
        s
    }

    /// The zh-CN text report (English labels alongside).
    pub fn to_text(&self) -> String {
        let mut o = String::new();
        let r = &self.region;
        let _ = writeln!(o, "规划 Plan: {} ({})", r.name, r.code);
        if !r.parents.is_empty() {
            let _ = writeln!(o, "上级 Parents: {}", r.parents.join(" / "));
        }
        let _ = writeln!(
            o,
            "人口 Population: {}    面积 Area: {:.1} km²    类型 Archetype: {}",
            r.population, r.area_km2, r.archetype
        );
        let _ = writeln!(o, "\n网格层级 Grid tiers");
        for t in &self.units_by_tier {
            let _ = writeln!(o, "  {} {} ({}): {}", t.tier, t.name, t.key, t.count);
        }
        let _ = writeln!(o, "\n承办单位 Handling units");
        for k in self.handling_units.iter().filter(|k| k.count > 0) {
            let _ = writeln!(o, "  {} ({}): {}", k.name, k.kind, k.count);
        }
        let _ = writeln!(
            o,
            "\n诉求分类 Categories: {} (转警 police: {})",
            self.categories, self.police_categories
        );
        let rt = &self.routing;
        let _ = writeln!(
            o,
            "\n路由 Routing: {} 条规则 rules, 兜底 fallback: {}, 升级链 escalation chains: {}",
            rt.rules, rt.fallback, rt.escalation_chains
        );
        if !rt.warnings.is_empty() {
            let _ = writeln!(o, "  覆盖警告 Coverage warnings: {}", rt.warnings.len());
            for w in &rt.warnings {
                let _ = writeln!(o, "    {w}");
            }
        }
        if rt.gaps.is_empty() {
            let _ = writeln!(o, "  无缺口: every category is routed in every tier-1 unit");
        } else {
            let _ = writeln!(
                o,
                "  缺口 Gaps (only the fallback takes these): {}",
                rt.gaps.len()
            );
            for g in rt.gaps.iter().take(TEXT_GAP_LIMIT) {
                let _ = writeln!(
                    o,
                    "    {} {} × {} {} → {}",
                    g.category, g.category_name, g.grid, g.grid_name, rt.fallback
                );
            }
            if rt.gaps.len() > TEXT_GAP_LIMIT {
                let _ = writeln!(
                    o,
                    "    … 另有 {} 个 and {} more (--format json lists all)",
                    rt.gaps.len() - TEXT_GAP_LIMIT,
                    rt.gaps.len() - TEXT_GAP_LIMIT
                );
            }
        }
        let _ = writeln!(o, "\n既有平台对接 Integrations");
        if self.integrations.is_empty() {
            let _ = writeln!(o, "  (无 none declared)");
        }
        for i in &self.integrations {
            let _ = write!(o, "  {} [{}] {}: {}", i.id, i.kind, i.name, i.integration);
            if let Some(t) = &i.target {
                let _ = write!(o, " {t}");
            }
            if let Some(c) = i.cameras {
                let _ = write!(o, " ({c} 路摄像头 cameras)");
            }
            o.push('\n');
        }
        let _ = writeln!(
            o,
            "\n名录 Directory entries: {}    困难群体 Vulnerable households: {}",
            self.directory_entries, self.households
        );
        if !self.cameras.is_empty() {
            let _ = writeln!(
                o,
                "视频监控 Cameras: {}（{} 个网格 grid units，{} 个有坐标 located）",
                self.cameras.cameras, self.cameras.grid_units, self.cameras.located
            );
        }
        o.push_str(&staffing_text(&self.staffing));
        o.push_str(&staffing::text::week_text(&self.staffing_week));
        o
    }
}

/// The design-peak-hour block of the text report (the 24/7 roster follows it).
pub fn staffing_text(s: &Staffing) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "\n坐席测算 Staffing (Erlang C, 设计高峰小时 design peak hour: peak_hour_share × 日均 average day)"
    );
    let _ = writeln!(
        o,
        "  高峰小时来电 Peak calls/hour: {:.1}",
        s.peak_calls_per_hour
    );
    let _ = writeln!(o, "  话务量 Traffic: {:.2} Erl", s.traffic_erlangs);
    let _ = writeln!(o, "  平均处理时长 AHT: {:.0} s", s.aht_seconds);
    let _ = writeln!(
        o,
        "  服务水平目标 Target: {:.0}% within {:.0} s",
        s.service_level_target * 100.0,
        s.service_level_seconds
    );
    let _ = writeln!(o, "  在线坐席 Agents: {}", s.agents);
    let _ = writeln!(
        o,
        "  排班人数 Scheduled staff (shrinkage {:.0}%): {}",
        s.shrinkage * 100.0,
        s.scheduled_staff
    );
    let _ = writeln!(
        o,
        "  预计服务水平 Service level: {:.1}%",
        s.service_level * 100.0
    );
    let _ = writeln!(o, "  平均应答时间 ASA: {:.1} s", s.asa_seconds);
    let _ = writeln!(
        o,
        "  等待概率 P(wait): {:.3}    占用率 Occupancy: {:.1}%",
        s.p_wait,
        s.occupancy * 100.0
    );
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture;

    #[test]
    fn counts_and_gaps_of_fixture() {
        let p = build(&fixture::region()).unwrap();
        let tiers: Vec<usize> = p.units_by_tier.iter().map(|t| t.count).collect();
        assert_eq!(tiers, [2, 3, 4]);
        assert_eq!(p.categories, 4);
        assert_eq!(p.police_categories, 1);
        assert_eq!(
            p.routing.gaps,
            [Gap {
                category: "dispute".into(),
                category_name: "邻里纠纷".into(),
                grid: "350781002".into(),
                grid_name: "通泰街道".into(),
            }]
        );
        let kinds: usize = p.handling_units.iter().map(|k| k.count).sum();
        assert_eq!(kinds, 8);
        assert_eq!(
            p.integrations[0].target.as_deref(),
            Some("https://110.example.gov.cn/hook")
        );
    }

    #[test]
    fn json_has_required_keys() {
        let v: serde_json::Value =
            serde_json::from_str(&build(&fixture::region()).unwrap().to_json()).unwrap();
        for k in ["code", "name", "population"] {
            assert!(v["region"].get(k).is_some(), "region.{k}");
        }
        assert_eq!(v["units_by_tier"][0]["tier"], 1);
        assert_eq!(v["units_by_tier"][0]["name"], "乡镇/街道");
        assert_eq!(v["units_by_tier"][2]["count"], 4);
        assert_eq!(v["categories"], 4);
        assert_eq!(v["routing"]["rules"], 5);
        assert_eq!(v["routing"]["gaps"].as_array().unwrap().len(), 1);
        for k in [
            "peak_calls_per_hour",
            "aht_seconds",
            "agents",
            "scheduled_staff",
            "service_level",
            "asa_seconds",
        ] {
            assert!(v["staffing"].get(k).is_some(), "staffing.{k}");
        }
    }

    #[test]
    fn closing_a_gap_removes_it() {
        let mut r = fixture::region();
        r.routing.rules.push(m110_runtime::model::RoutingRule {
            category: "dispute".into(),
            scope: Some("350781002".into()),
            unit: "center".into(),
        });
        assert!(build(&r).unwrap().routing.gaps.is_empty());
        assert!(build(&r).unwrap().to_text().contains("无缺口"));
    }

    #[test]
    fn bad_staffing_inputs_are_an_error() {
        let mut r = fixture::region();
        r.service_center.staffing.aht_seconds = -1.0;
        assert!(matches!(build(&r), Err(PlanError::Staffing(_))));
    }
}
