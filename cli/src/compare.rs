/*!
`compare`: regions side by side for provincial coordinators, with a readiness check.

One column per region: size, grid, handling units, categories, routing gaps, integrations with
existing platforms, expected calls and Erlang C staffing; then the model's key success factors
as ✓/✗ with the reason:

- **one number** — the center answers 110, or it is integrated with police dispatch so
  emergencies still reach the police;
- **existing resources integrated** — every declared platform has an integration other than none;
- **dedicated, staffed center** — the staffing inputs yield an Erlang C roster;
- **regional adaptation** — a county may rely on callers naming places; an urban district or
  city needs located grid cells (centroids) or an integrated grid app / camera network.

Rendered as aligned text, Markdown, CSV (one row per metric) or JSON (one object per region).
*/

use m110_runtime::model::{Archetype, Integration, PlatformKind, Region};
use serde::Serialize;

use crate::plan::{self, KindCount, TierCount};
use crate::staffing::{self, Staffing};
use crate::table::{Row, Table};

/// One region's column.
#[derive(Debug, Clone, Serialize)]
pub struct Column {
    pub code: String,
    pub name: String,
    pub population: u64,
    pub area_km2: f64,
    pub archetype: &'static str,
    pub units_by_tier: Vec<TierCount>,
    /// Population divided by the number of lowest-tier units.
    pub residents_per_cell: Option<f64>,
    pub handling_units: Vec<KindCount>,
    pub categories: usize,
    pub routing_gaps: usize,
    pub integrations: Vec<PlatformIntegration>,
    /// Cameras the profile lists (left out when none).
    #[serde(skip_serializing_if = "plan::CameraCount::is_empty")]
    pub cameras: plan::CameraCount,
    pub expected_yearly_calls: f64,
    pub staffing: Option<Staffing>,
    pub staffing_error: Option<String>,
    pub readiness: Vec<Check>,
    /// Checks passed, out of `readiness.len()`.
    pub readiness_score: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct PlatformIntegration {
    pub id: String,
    pub kind: &'static str,
    pub name: String,
    pub integration: &'static str,
}

/// One readiness factor of one region.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Check {
    /// Stable key: `one_number`, `resources_integrated`, `staffed_center`, `regional_adaptation`.
    pub factor: &'static str,
    pub ok: bool,
    pub reason: String,
}

/// All columns, in the order the profiles were given.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    pub regions: Vec<Column>,
}

/// Output formats of `m110 compare`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Md,
    Json,
    Csv,
}

const FACTORS: [(&str, &str); 4] = [
    ("one_number", "一号通 One number"),
    ("resources_integrated", "资源整合 Resources integrated"),
    ("staffed_center", "专门中心 Staffed center"),
    ("regional_adaptation", "因地制宜 Regional adaptation"),
];

fn integrated(i: &Integration) -> bool {
    !matches!(i, Integration::None)
}

/// The readiness checks of one region.
pub fn readiness(region: &Region, staffing: &Result<Staffing, String>) -> Vec<Check> {
    let number = &region.service_center.number;
    let police = region
        .platforms
        .iter()
        .find(|p| p.kind == PlatformKind::PoliceDispatch && integrated(&p.integration));
    let one_number = if number == "110" {
        Check {
            factor: "one_number",
            ok: true,
            reason: "服务号码 110 / the center answers 110".into(),
        }
    } else if let Some(p) = police {
        Check {
            factor: "one_number",
            ok: true,
            reason: format!(
                "号码 {number}，已对接公安110（{}）/ number {number}, police dispatch integrated via {}",
                p.name,
                p.integration.kind_str()
            ),
        }
    } else {
        Check {
            factor: "one_number",
            ok: false,
            reason: format!(
                "号码 {number} 且未对接公安110 / number is {number} and police dispatch is not integrated"
            ),
        }
    };

    let missing: Vec<&str> = region
        .platforms
        .iter()
        .filter(|p| !integrated(&p.integration))
        .map(|p| p.id.as_str())
        .collect();
    let resources = if region.platforms.is_empty() {
        Check {
            factor: "resources_integrated",
            ok: true,
            reason: "未声明既有平台 / no existing platforms declared".into(),
        }
    } else if missing.is_empty() {
        Check {
            factor: "resources_integrated",
            ok: true,
            reason: format!(
                "{n}/{n} 平台已对接 / all {n} platforms integrated",
                n = region.platforms.len()
            ),
        }
    } else {
        Check {
            factor: "resources_integrated",
            ok: false,
            reason: format!(
                "未对接 not integrated: {} ({}/{})",
                missing.join(", "),
                region.platforms.len() - missing.len(),
                region.platforms.len()
            ),
        }
    };

    let staffed = match staffing {
        Ok(s) => Check {
            factor: "staffed_center",
            ok: true,
            reason: format!(
                "高峰在线坐席 {}，排班 {} 人 / {} agents at peak, {} scheduled",
                s.agents, s.scheduled_staff, s.agents, s.scheduled_staff
            ),
        },
        Err(e) => Check {
            factor: "staffed_center",
            ok: false,
            reason: format!("无法测算坐席 / staffing not computable: {e}"),
        },
    };

    let lowest = region.tiers.iter().map(|t| t.level).max();
    let cells: Vec<_> = region
        .grid_units
        .iter()
        .filter(|g| Some(g.tier) == lowest)
        .collect();
    let located = !cells.is_empty() && cells.iter().all(|g| g.centroid.is_some());
    let locator = region.platforms.iter().find(|p| {
        matches!(p.kind, PlatformKind::GridApp | PlatformKind::CameraNetwork)
            && integrated(&p.integration)
    });
    let adaptation = match (region.info.archetype, located, locator) {
        (Archetype::County, _, _) => Check {
            factor: "regional_adaptation",
            ok: true,
            reason: "县域：来电报地名即可 / county: callers naming places suffices".into(),
        },
        (_, true, _) => Check {
            factor: "regional_adaptation",
            ok: true,
            reason: "网格均有中心点坐标 / every grid cell has a centroid".into(),
        },
        (_, false, Some(p)) => Check {
            factor: "regional_adaptation",
            ok: true,
            reason: format!(
                "已对接 {}（{}）/ {} integrated for location",
                p.name,
                p.kind.as_str(),
                p.kind.as_str()
            ),
        },
        (a, false, None) => Check {
            factor: "regional_adaptation",
            ok: false,
            reason: format!(
                "{}需定位：网格缺中心点坐标且未对接网格App或视频监控 / {}: cells lack centroids and no grid app or camera network is integrated",
                if a == Archetype::City {
                    "地级市"
                } else {
                    "市辖区"
                },
                a.as_str()
            ),
        },
    };
    vec![one_number, resources, staffed, adaptation]
}

/// Builds one region's column.
pub fn column(region: &Region) -> Column {
    let info = &region.info;
    let inputs = &region.service_center.staffing;
    let staffing = staffing::plan(info.population, inputs).map_err(|e| e.to_string());
    let readiness = readiness(region, &staffing);
    let units_by_tier: Vec<TierCount> = region
        .units_per_tier()
        .into_iter()
        .map(|(t, count)| TierCount {
            tier: t.level,
            key: t.key.clone(),
            name: t.name.clone(),
            count,
        })
        .collect();
    let residents_per_cell = units_by_tier
        .last()
        .filter(|t| t.count > 0)
        .map(|t| info.population as f64 / t.count as f64);
    Column {
        code: info.code.clone(),
        name: info.name.clone(),
        population: info.population,
        area_km2: info.area_km2,
        archetype: info.archetype.as_str(),
        units_by_tier,
        residents_per_cell,
        handling_units: plan::units_by_kind(region),
        categories: region.categories.len(),
        routing_gaps: plan::gaps(region).len(),
        cameras: plan::CameraCount::of(region),
        integrations: region
            .platforms
            .iter()
            .map(|p| PlatformIntegration {
                id: p.id.clone(),
                kind: p.kind.as_str(),
                name: p.name.clone(),
                integration: p.integration.kind_str(),
            })
            .collect(),
        expected_yearly_calls: staffing::yearly_calls(info.population, inputs),
        readiness_score: readiness.iter().filter(|c| c.ok).count(),
        readiness,
        staffing_error: staffing.as_ref().err().cloned(),
        staffing: staffing.ok(),
    }
}

/// Compares regions in the given order.
pub fn compare<'a>(regions: impl IntoIterator<Item = &'a Region>) -> Comparison {
    Comparison {
        regions: regions.into_iter().map(column).collect(),
    }
}

impl Comparison {
    /// Renders in the requested format (always ending with a newline).
    pub fn render(&self, format: Format) -> String {
        match format {
            Format::Json => {
                let mut s = serde_json::to_string_pretty(self).expect("comparison serialises");
                s.push('\n');
                s
            }
            Format::Text => self.table().text(),
            Format::Md => self.table().markdown(),
            Format::Csv => self.table().csv(),
        }
    }

    fn rows(&self) -> Vec<Row> {
        let cols = &self.regions;
        let mut rows = Vec::new();
        let mut row = |key: &str, label: &str, f: &dyn Fn(&Column) -> String| {
            rows.push(Row {
                key: key.into(),
                label: label.into(),
                cells: cols.iter().map(f).collect(),
            });
        };
        row("region", "区域 Region", &|c| {
            format!("{} ({})", c.name, c.code)
        });
        row("population", "人口 Population", &|c| {
            c.population.to_string()
        });
        row("area_km2", "面积 Area km²", &|c| {
            format!("{:.1}", c.area_km2)
        });
        row("archetype", "类型 Archetype", &|c| {
            c.archetype.to_string()
        });
        let max_tiers = cols
            .iter()
            .map(|c| c.units_by_tier.len())
            .max()
            .unwrap_or(0);
        for i in 0..max_tiers {
            row(
                &format!("tier_{}", i + 1),
                &format!("第{}级 Tier {}", i + 1, i + 1),
                &|c| {
                    c.units_by_tier
                        .get(i)
                        .map(|t| format!("{} {}", t.name, t.count))
                        .unwrap_or_else(|| "-".into())
                },
            );
        }
        row("residents_per_cell", "每格人口 Residents/cell", &|c| {
            c.residents_per_cell
                .map(|r| format!("{r:.0}"))
                .unwrap_or_else(|| "-".into())
        });
        // Only kinds some region has, in model order.
        if let Some(first) = cols.first() {
            for (i, k) in first.handling_units.iter().enumerate() {
                if cols.iter().all(|c| c.handling_units[i].count == 0) {
                    continue;
                }
                row(
                    &format!("units_{}", k.kind),
                    &format!("{} {}", k.name, k.kind),
                    &|c| c.handling_units[i].count.to_string(),
                );
            }
        }
        row("categories", "分类 Categories", &|c| {
            c.categories.to_string()
        });
        row("routing_gaps", "路由缺口 Routing gaps", &|c| {
            c.routing_gaps.to_string()
        });
        row("integrations", "平台对接 Integrations", &|c| {
            if c.integrations.is_empty() {
                "-".into()
            } else {
                c.integrations
                    .iter()
                    .map(|p| format!("{}={}", p.kind, p.integration))
                    .collect::<Vec<_>>()
                    .join("; ")
            }
        });
        // Only when a region lists cameras, so comparisons without any read as before.
        if cols.iter().any(|c| !c.cameras.is_empty()) {
            row("cameras", "摄像头/网格 Cameras/grid units", &|c| {
                format!("{} / {}", c.cameras.cameras, c.cameras.grid_units)
            });
        }
        row(
            "expected_yearly_calls",
            "年预计来电 Calls/year",
            &|c| format!("{:.0}", c.expected_yearly_calls),
        );
        let staffing = |f: fn(&Staffing) -> String| {
            move |c: &Column| c.staffing.as_ref().map(f).unwrap_or_else(|| "-".into())
        };
        row(
            "peak_calls_per_hour",
            "高峰小时来电 Peak calls/h",
            &staffing(|s| format!("{:.1}", s.peak_calls_per_hour)),
        );
        row(
            "agents",
            "在线坐席 Agents",
            &staffing(|s| s.agents.to_string()),
        );
        row(
            "scheduled_staff",
            "排班人数 Scheduled staff",
            &staffing(|s| s.scheduled_staff.to_string()),
        );
        row(
            "service_level",
            "服务水平 Service level",
            &staffing(|s| format!("{:.1}%", s.service_level * 100.0)),
        );
        row(
            "asa_seconds",
            "平均应答 ASA s",
            &staffing(|s| format!("{:.1}", s.asa_seconds)),
        );
        for (i, (key, label)) in FACTORS.iter().enumerate() {
            row(key, label, &|c| {
                let check = &c.readiness[i];
                format!("{} {}", if check.ok { "✓" } else { "✗" }, check.reason)
            });
        }
        row("readiness", "准备度 Readiness", &|c| {
            format!("{}/{}", c.readiness_score, c.readiness.len())
        });
        rows
    }

    /// The rows as a table: a column per region.
    pub fn table(&self) -> Table {
        Table {
            titles: self
                .regions
                .iter()
                .map(|c| format!("{} ({})", c.name, c.code))
                .collect(),
            keys: self.regions.iter().map(|c| c.code.clone()).collect(),
            rows: self.rows(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture;

    fn check<'a>(c: &'a Column, factor: &str) -> &'a Check {
        c.readiness.iter().find(|k| k.factor == factor).unwrap()
    }

    #[test]
    fn county_fixture_readiness() {
        let c = column(&fixture::region());
        assert!(check(&c, "one_number").ok);
        let res = check(&c, "resources_integrated");
        assert!(!res.ok);
        assert!(res.reason.contains("cameras"), "{}", res.reason);
        assert!(check(&c, "staffed_center").ok);
        assert!(check(&c, "regional_adaptation").ok);
        assert_eq!(c.readiness_score, 3);
        assert_eq!(c.residents_per_cell, Some(75_000.0));
        assert_eq!(c.routing_gaps, 1);
        assert_eq!(c.expected_yearly_calls, 45_000.0);
    }

    #[test]
    fn district_fixture_fails_where_expected() {
        let c = column(&fixture::district());
        assert!(!check(&c, "one_number").ok);
        assert!(!check(&c, "resources_integrated").ok);
        assert!(!check(&c, "regional_adaptation").ok);
        assert_eq!(c.readiness_score, 1);
    }

    #[test]
    fn police_integration_makes_another_number_one_number() {
        let mut r = fixture::district();
        r.platforms[0].kind = PlatformKind::PoliceDispatch;
        r.platforms[0].integration = Integration::Webhook {
            url: "https://x.example/h".into(),
            secret_env: None,
        };
        assert!(check(&column(&r), "one_number").ok);
    }

    #[test]
    fn located_cells_or_grid_app_adapt_a_district() {
        let mut r = fixture::district();
        for g in r.grid_units.iter_mut().filter(|g| g.tier == 3) {
            g.centroid = Some(m110_runtime::model::LatLon {
                lat: 26.1,
                lon: 119.3,
            });
        }
        assert!(check(&column(&r), "regional_adaptation").ok);
        let mut r = fixture::district();
        r.platforms[1].integration = Integration::CsvImport {
            path: "grid.csv".into(),
        };
        assert!(check(&column(&r), "regional_adaptation").ok);
    }

    #[test]
    fn bad_staffing_fails_the_center_check() {
        let mut r = fixture::region();
        r.service_center.staffing.max_occupancy = 0.0;
        let c = column(&r);
        assert!(!check(&c, "staffed_center").ok);
        assert!(c.staffing.is_none() && c.staffing_error.is_some());
    }
}
