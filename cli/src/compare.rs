/*!
`compare`: regions side by side for provincial coordinators, with a readiness check.

One column per region: size, grid, handling units, categories, routing gaps, integrations with
existing platforms, expected calls and Erlang C staffing; then the model's key success factors
as ✓/✗ with the reason:

- **one number** — the center answers 110, or it is integrated with police dispatch so
  emergencies still reach the police;
- **existing resources integrated** — every declared platform has an integration other than none;
- **dedicated, staffed center** — the staffing inputs yield a 24/7 roster (Erlang C per hour of
  the week, docs/staffing.md), and the staff the profile declares (`service_center.staff`), if
  any, cover its FTE;
- **regional adaptation** — a county may rely on callers naming places; an urban district or
  city needs located grid cells (centroids) or an integrated grid app / camera network;
- **profile complete** — no value is still `FILL_IN` ([`crate::profile::draft`]).

Profiles that are still drafts are compared too ([`compare_drafts`]): their completeness is
shown overall and by section, figures that depend on a blank (population → expected calls,
staffing; area → density) read `待填写` or `-` instead of a number computed from a stand-in, and
everything else is computed as usual. Suspicious values ([`flags`]: shared hotlines or contact
phones, crowded cells, implausible density) are counted in the table and listed in full in
JSON, Markdown and XLSX.

Rendered as aligned text, Markdown, CSV (one row per metric), JSON (one object per region) or an
XLSX sheet (the table plus the details).
*/

pub mod flags;

use m110_runtime::model::{Archetype, Integration, PlatformKind, Region};
use serde::Serialize;

use crate::plan::{self, KindCount, TierCount};
use crate::profile::draft::{Completeness, Draft};
use crate::staffing::{self, Staffing};
use crate::table::{Row, Table};

/// One region's column.
#[derive(Debug, Clone, Serialize)]
pub struct Column {
    pub code: String,
    pub name: String,
    /// `None` while the profile still has it as `FILL_IN`.
    pub population: Option<u64>,
    /// `None` while the profile still has it as `FILL_IN`.
    pub area_km2: Option<f64>,
    pub archetype: &'static str,
    pub units_by_tier: Vec<TierCount>,
    /// Population divided by the number of lowest-tier units.
    pub residents_per_cell: Option<f64>,
    pub handling_units: Vec<KindCount>,
    pub categories: usize,
    pub routing_gaps: usize,
    /// Routing-coverage warnings of the profile (`profile::coverage`): units no rule reaches,
    /// categories only the fallback takes, shadowed rules. Set from the loaded profile.
    pub coverage_warnings: Vec<String>,
    pub integrations: Vec<PlatformIntegration>,
    /// Cameras the profile lists (left out when none).
    #[serde(skip_serializing_if = "plan::CameraCount::is_empty")]
    pub cameras: plan::CameraCount,
    /// `None` while the population is `FILL_IN`.
    pub expected_yearly_calls: Option<f64>,
    pub staffing: Option<Staffing>,
    pub staffing_error: Option<String>,
    /// FTE (40 h/week) of the 24/7 roster, and the staff the profile declares.
    pub roster_fte: Option<f64>,
    pub declared_staff: Option<u32>,
    pub readiness: Vec<Check>,
    /// Checks passed, out of `readiness.len()`.
    pub readiness_score: usize,
    /// Hand-supplied values filled in, overall and by section, with every blank.
    pub completeness: Completeness,
    /// Suspicious values (see [`flags`]).
    pub flags: Vec<flags::Flag>,
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
    /// Stable key: `one_number`, `resources_integrated`, `staffed_center`, `regional_adaptation`,
    /// `complete`.
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

const FACTORS: [(&str, &str); 5] = [
    ("one_number", "一号通 One number"),
    ("resources_integrated", "资源整合 Resources integrated"),
    ("staffed_center", "专门中心 Staffed center"),
    ("regional_adaptation", "因地制宜 Regional adaptation"),
    ("complete", "资料完整 Profile complete"),
];

/// What a figure reads while the profile still has it as `FILL_IN`.
const BLANK: &str = "待填写 FILL_IN";

/// Profile sections in document order, for the completeness rows.
const SECTIONS: [(&str, &str); 11] = [
    ("region", "区域"),
    ("service_center", "服务中心"),
    ("grid", "网格"),
    ("units", "承办单位"),
    ("categories", "分类"),
    ("routing", "路由"),
    ("existing_platforms", "既有平台"),
    ("directories", "名录"),
    ("appraisal", "考核"),
    ("early_warning", "预警"),
    ("cameras", "摄像头"),
];

fn section_zh(section: &str) -> &'static str {
    SECTIONS
        .iter()
        .find(|(k, _)| *k == section)
        .map_or("", |(_, zh)| zh)
}

/// Sections any column counts values in, in document order.
fn sections(cols: &[Column]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for c in cols {
        for s in &c.completeness.sections {
            if !out.contains(&s.section) {
                out.push(s.section.clone());
            }
        }
    }
    let rank = |s: &String| {
        SECTIONS
            .iter()
            .position(|(k, _)| k == s)
            .unwrap_or(SECTIONS.len())
    };
    out.sort_by_key(|s| rank(s));
    out
}

/// Blanks named in the completeness check's reason (all are in JSON, Markdown and XLSX).
const BLANKS_NAMED: usize = 3;

/// Why staffing is not computed for a draft without a population.
const POPULATION_BLANK: &str = "人口待填写 / population is still FILL_IN";

/// The completeness factor: ready only when nothing is left to fill in.
pub fn completeness_check(c: &Completeness) -> Check {
    if c.is_complete() {
        return Check {
            factor: "complete",
            ok: true,
            reason: format!(
                "无待填写项 / nothing left to fill in ({} value(s) counted)",
                c.total
            ),
        };
    }
    let mut named: Vec<&str> = c
        .blanks
        .iter()
        .take(BLANKS_NAMED)
        .map(|b| b.field.as_str())
        .collect();
    let more = c.blanks.len().saturating_sub(BLANKS_NAMED);
    let more = if more > 0 {
        format!(" … (+{more})")
    } else {
        String::new()
    };
    named.dedup();
    Check {
        factor: "complete",
        ok: false,
        reason: format!(
            "{} 项待填写，已填 {}/{} ({}%) / {} value(s) still FILL_IN: {}{more}",
            c.blanks.len(),
            c.filled,
            c.total,
            c.percent(),
            c.blanks.len(),
            named.join(", ")
        ),
    }
}

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

    let week = staffing::roster::plan(region.info.population, &region.service_center.staffing)
        .map_err(|e| e.to_string());
    let staffed = match (staffing, &week) {
        (Ok(_), Ok(w)) => {
            let (fte, peak) = (w.roster.fte.total, w.week.peak.agents);
            let (ok, reason) = match region.service_center.staffing.roster.staff {
                Some(n) if f64::from(n) >= fte => (
                    true,
                    format!(
                        "实有 {n} 人，24/7 排班需 {fte:.2} FTE / {n} staff cover the {fte:.2} FTE of a 24/7 roster ({peak} agents at peak)"
                    ),
                ),
                Some(n) => (
                    false,
                    format!(
                        "实有 {n} 人，少于 24/7 排班所需 {fte:.2} FTE / {n} staff declared, below the {fte:.2} FTE a 24/7 roster needs ({peak} agents at peak)"
                    ),
                ),
                None => (
                    true,
                    format!(
                        "24/7 排班需 {fte:.2} FTE，未声明实有人数 / a 24/7 roster needs {fte:.2} FTE ({peak} agents at peak); service_center.staff not declared"
                    ),
                ),
            };
            Check {
                factor: "staffed_center",
                ok,
                reason,
            }
        }
        (Err(e), _) | (_, Err(e)) => Check {
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

/// Builds one region's column from a complete profile.
pub fn column(region: &Region) -> Column {
    column_of(region, &Completeness::default())
}

/// Builds one region's column; figures that depend on a blank value are left out.
pub fn column_of(region: &Region, completeness: &Completeness) -> Column {
    let info = &region.info;
    let inputs = &region.service_center.staffing;
    let population_known = !completeness.is_blank("region.population");
    let area_known = !completeness.is_blank("region.area_km2");
    let staffing = if population_known {
        staffing::plan(info.population, inputs).map_err(|e| e.to_string())
    } else {
        Err(POPULATION_BLANK.to_string())
    };
    let mut readiness = readiness(region, &staffing);
    readiness.push(completeness_check(completeness));
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
        .filter(|t| t.count > 0 && population_known)
        .map(|t| info.population as f64 / t.count as f64);
    let mut column = Column {
        code: info.code.clone(),
        name: info.name.clone(),
        population: population_known.then_some(info.population),
        area_km2: area_known.then_some(info.area_km2),
        archetype: info.archetype.as_str(),
        units_by_tier,
        residents_per_cell,
        handling_units: plan::units_by_kind(region),
        categories: region.categories.len(),
        routing_gaps: plan::gaps(region).len(),
        coverage_warnings: Vec::new(),
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
        expected_yearly_calls: population_known
            .then(|| staffing::yearly_calls(info.population, inputs)),
        readiness_score: readiness.iter().filter(|c| c.ok).count(),
        readiness,
        staffing_error: staffing.as_ref().err().cloned(),
        roster_fte: staffing::roster::plan(info.population, inputs)
            .ok()
            .map(|w| w.roster.fte.total),
        declared_staff: inputs.roster.staff,
        staffing: staffing.ok(),
        completeness: completeness.clone(),
        flags: flags::flags(region, population_known, area_known),
    };
    if !population_known {
        // A roster for a stand-in population of 0 is the minimum crew, not this region's need.
        column.roster_fte = None;
    }
    column
}

/// Compares regions in the given order.
pub fn compare<'a>(regions: impl IntoIterator<Item = &'a Region>) -> Comparison {
    Comparison {
        regions: regions.into_iter().map(column).collect(),
    }
}

/// Compares profiles that may still be drafts (`FILL_IN` values), in the given order.
pub fn compare_drafts<'a>(drafts: impl IntoIterator<Item = &'a Draft>) -> Comparison {
    Comparison {
        regions: drafts
            .into_iter()
            .map(|d| {
                let mut c = column_of(&d.region, &d.completeness);
                c.coverage_warnings = d.warnings.iter().map(|w| w.warning_line()).collect();
                c
            })
            .collect(),
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
            Format::Md => {
                let mut s = self.table().markdown();
                s.push_str(&self.details_markdown());
                s
            }
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
            c.population.map_or_else(|| BLANK.into(), |p| p.to_string())
        });
        row("area_km2", "面积 Area km²", &|c| {
            c.area_km2
                .map_or_else(|| BLANK.into(), |a| format!("{a:.1}"))
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
        row(
            "coverage_warnings",
            "覆盖警告 Coverage warnings",
            &|c| c.coverage_warnings.len().to_string(),
        );
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
            &|c| {
                c.expected_yearly_calls
                    .map_or_else(|| "-".into(), |n| format!("{n:.0}"))
            },
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
        row("roster_fte", "24/7 人力 FTE (实有 staff)", &|c| {
            let fte = c
                .roster_fte
                .map_or_else(|| "-".into(), |f| format!("{f:.2}"));
            match c.declared_staff {
                Some(n) => format!("{fte} ({n})"),
                None => fte,
            }
        });
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
        row("completeness", "完整度 Completeness", &|c| {
            let k = &c.completeness;
            format!("{}% ({}/{})", k.percent(), k.filled, k.total)
        });
        for section in sections(cols) {
            row(
                &format!("completeness_{section}"),
                &format!("  {} {section}", section_zh(&section)),
                &|c| {
                    c.completeness
                        .sections
                        .iter()
                        .find(|s| s.section == section)
                        .map_or_else(|| "-".into(), |s| format!("{}/{}", s.filled, s.total))
                },
            );
        }
        row("flags", "可疑值 Suspicious values", &|c| {
            c.flags.len().to_string()
        });
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

    /// Blanks and suspicious values region by region, as Markdown sections after the table
    /// (empty when there are none).
    fn details_markdown(&self) -> String {
        use std::fmt::Write as _;
        let mut o = String::new();
        let md = |s: &str| s.replace('|', "\\|");
        if self
            .regions
            .iter()
            .any(|c| !c.completeness.blanks.is_empty())
        {
            o.push_str("\n## 待填写 Blanks\n");
            for c in self
                .regions
                .iter()
                .filter(|c| !c.completeness.blanks.is_empty())
            {
                let _ = writeln!(o, "\n### {} ({})\n", md(&c.name), c.code);
                for b in &c.completeness.blanks {
                    let _ = writeln!(o, "- `{}` (line {}:{})", b.field, b.line, b.col);
                }
            }
        }
        if self.regions.iter().any(|c| !c.flags.is_empty()) {
            o.push_str("\n## 可疑值 Suspicious values\n");
            for c in self.regions.iter().filter(|c| !c.flags.is_empty()) {
                let _ = writeln!(o, "\n### {} ({})\n", md(&c.name), c.code);
                for f in &c.flags {
                    let _ = writeln!(o, "- **{}**: {}", f.kind, md(&f.message));
                }
            }
        }
        if self.regions.iter().any(|c| !c.coverage_warnings.is_empty()) {
            o.push_str("\n## 覆盖警告 Coverage warnings\n");
            for c in self
                .regions
                .iter()
                .filter(|c| !c.coverage_warnings.is_empty())
            {
                let _ = writeln!(o, "\n### {} ({})\n", md(&c.name), c.code);
                for w in &c.coverage_warnings {
                    let _ = writeln!(o, "- {}", md(w));
                }
            }
        }
        o
    }

    /// One XLSX sheet: the table, then a row of every region's blanks and one of its
    /// suspicious values (one per line in the cell).
    pub fn sheet(&self, name: &str) -> m110_runtime::engine::export::Sheet {
        let mut sheet = self.table().sheet(name);
        let blanks = |c: &Column| {
            cell_lines(
                c.completeness
                    .blanks
                    .iter()
                    .map(|b| format!("{} (line {})", b.field, b.line)),
            )
        };
        let flags = |c: &Column| cell_lines(c.flags.iter().map(|f| f.message.clone()));
        let warnings = |c: &Column| cell_lines(c.coverage_warnings.iter().cloned());
        for (label, f) in [
            ("待填写明细 Blanks", &blanks as &dyn Fn(&Column) -> String),
            ("可疑值明细 Suspicious values", &flags),
            ("覆盖警告明细 Coverage warnings", &warnings),
        ] {
            let mut r = vec![label.to_string()];
            r.extend(self.regions.iter().map(f));
            sheet.rows.push(r);
        }
        sheet
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

/// Lines joined for one spreadsheet cell, cut (with a count of what was left out) before
/// Excel's limit of 32,767 characters per cell.
fn cell_lines(lines: impl Iterator<Item = String>) -> String {
    const CAP: usize = 30_000;
    let lines: Vec<String> = lines.collect();
    let mut out = String::new();
    for (i, l) in lines.iter().enumerate() {
        if out.len() + l.len() + 1 > CAP {
            out.push_str(&format!("… (+{})", lines.len() - i));
            break;
        }
        out.push_str(l);
        out.push('\n');
    }
    out.trim_end_matches('\n').to_string()
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
        assert!(check(&c, "complete").ok);
        assert_eq!(c.readiness_score, 4);
        assert_eq!(c.residents_per_cell, Some(75_000.0));
        assert_eq!(c.routing_gaps, 1);
        assert_eq!(c.expected_yearly_calls, Some(45_000.0));
    }

    #[test]
    fn a_blank_population_leaves_its_figures_out() {
        use crate::profile::draft::{Blank, SectionCount};
        let blank = |field: &str| Blank {
            field: field.into(),
            section: "region".into(),
            line: 6,
            col: 15,
        };
        let completeness = Completeness {
            filled: 1,
            total: 3,
            sections: vec![SectionCount {
                section: "region".into(),
                filled: 1,
                total: 3,
            }],
            blanks: vec![blank("region.population"), blank("units[0].hotline")],
        };
        let c = column_of(&fixture::region(), &completeness);
        assert_eq!(c.population, None);
        assert_eq!(c.area_km2, Some(2852.0));
        assert_eq!(
            (c.expected_yearly_calls, c.residents_per_cell),
            (None, None)
        );
        assert!(c.staffing.is_none());
        assert_eq!(c.staffing_error.as_deref(), Some(POPULATION_BLANK));
        let complete = check(&c, "complete");
        assert!(!complete.ok);
        assert!(
            complete
                .reason
                .contains("region.population, units[0].hotline"),
            "{}",
            complete.reason
        );
        // Nothing computed from the stand-in population is judged either.
        assert!(
            c.flags.iter().all(|f| f.kind != "crowded_cells"),
            "{:?}",
            c.flags
        );
        let table = Comparison { regions: vec![c] }.table();
        let cell = |key: &str| table.rows.iter().find(|r| r.key == key).unwrap().cells[0].clone();
        assert_eq!(cell("population"), BLANK);
        assert_eq!(cell("expected_yearly_calls"), "-");
        assert_eq!(cell("completeness"), "33% (1/3)");
        assert_eq!(cell("completeness_region"), "1/3");
    }

    #[test]
    fn district_fixture_fails_where_expected() {
        let c = column(&fixture::district());
        assert!(!check(&c, "one_number").ok);
        assert!(!check(&c, "resources_integrated").ok);
        assert!(!check(&c, "regional_adaptation").ok);
        assert_eq!(c.readiness_score, 2);
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
    fn declared_staff_is_checked_against_the_roster_fte() {
        let mut r = fixture::region();
        let fte = staffing::roster::plan(300_000, &r.service_center.staffing)
            .unwrap()
            .roster
            .fte
            .total;
        r.service_center.staffing.roster.staff = Some(3);
        let c = column(&r);
        let staffed = check(&c, "staffed_center");
        assert!(!staffed.ok);
        let fte = format!("{fte:.2}");
        for n in ["3 staff", fte.as_str(), "实有 3 人"] {
            assert!(staffed.reason.contains(n), "{n} in {}", staffed.reason);
        }
        assert_eq!(c.roster_fte.map(|f| format!("{f:.2}")), Some(fte));
        r.service_center.staffing.roster.staff = Some(40);
        assert!(check(&column(&r), "staffed_center").ok);
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
