/*!
Our space-time permutation scan beside SaTScan's (issue 12): the export half.

The ignored test [`export_for_satscan`] simulates the synthetic county of [`super::bench`]
(default [`SimParams`], or the seed of `M110_BENCH_SEED`), picks analysis days — the last day of
every injected cluster plus ten quiet days (no injected case in their last `max_days` days),
`M110_SATSCAN_DAYS` keeps the first N of them — and for each day × category writes into
`M110_SATSCAN_OUT` (default `target/satscan`):

- `county.geo`: every village (the finest grid tier, in the order [`run::detect`] scans them) as
  `id x y`, **Cartesian km** from [`scan::project`] printed to the last bit, so SaTScan's circles
  are exactly ours (SaTScan's own latitude/longitude distance is a great circle, ours an
  equirectangular projection: the two could order a tie differently);
- `<date>_<category>.cas`: `id count YYYY/MM/DD`, the cases of the 28-day window
  ([`run::SCAN_WINDOW_DAYS`]) ending on the day;
- `<date>_<category>.prm`: a prospective (start = end date, no adjustment for earlier analyses)
  space-time permutation analysis of that window, day aggregation, circles, the largest cluster
  50% of the window's cases and 7 days ([`EarlyWarning`]'s defaults, as `run::detect` uses them),
  high rates, 999 replicas (`M110_SATSCAN_REPLICAS`; the profile's default is 199, but 999 keeps
  the Monte Carlo noise of the two programs' p-values small enough to compare them), secondary
  clusters without geographical overlap, and the cluster
  (`.col.txt`) and location (`.gis.txt`) files with column headers;
- `ours.jsonl`: one line per run with our most likely cluster of the same input (`scan::scan`
  with the parameters `run::detect` gives it and the same kind of seed) and the injected
  clusters of that category active in the last days.

`bench/satscan/run.sh` runs this, then SaTScan on every parameter file, then
`bench/satscan/compare.py` for the table.
*/

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::PathBuf;

use chrono::NaiveDate;
use serde_json::{Value, json};

use super::bench::{SimParams, simulate};
use super::run::SCAN_WINDOW_DAYS;
use super::scan::{self, ScanParams};
use crate::model::EarlyWarning;

/// `YYYY/MM/DD` (SaTScan's date format) of a day number.
fn satscan_date(day: i64) -> String {
    NaiveDate::from_num_days_from_ce_opt((day + 719_163) as i32)
        .map(|d| d.format("%Y/%m/%d").to_string())
        .unwrap_or_default()
}

/// `YYYY-MM-DD` of a day number (file names, JSON).
fn iso_date(day: i64) -> String {
    satscan_date(day).replace('/', "-")
}

/// The seed `run::detect` gives the scan of a category and day (FNV-1a of the category mixed
/// with the day), so our p-values are the live run's.
fn seed(category: &str, day: i64) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in category.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h ^ (day as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

/// The SaTScan parameter file of one run (SaTScan 10.3 keys; everything not listed takes
/// SaTScan's default).
fn parameters(name: &str, first_day: i64, day: i64, settings: &EarlyWarning) -> String {
    let (start, end) = (satscan_date(first_day), satscan_date(day));
    let mut s = String::new();
    let mut line = |l: &str| {
        s.push_str(l);
        s.push('\n');
    };
    line("[Input]");
    line(&format!("CaseFile={name}.cas"));
    line("ControlFile=");
    line("PrecisionCaseTimes=3");
    line(&format!("StartDate={start}"));
    line(&format!("EndDate={end}"));
    line("PopulationFile=");
    line("CoordinatesFile=county.geo");
    line("UseGridFile=n");
    line("GridFile=");
    // Cartesian: the km of scan::project, so the circles are ours.
    line("CoordinatesType=0");
    line("[Analysis]");
    // Prospective space-time, space-time permutation, high rates, day aggregation.
    line("AnalysisType=4");
    line("ModelType=2");
    line("ScanAreas=1");
    line("TimeAggregationUnits=3");
    line("TimeAggregationLength=1");
    line("[Output]");
    line(&format!("ResultsFile={name}.txt"));
    line("OutputGoogleEarthKML=n");
    line("OutputShapefiles=n");
    line("OutputCartesianGraph=n");
    line("MostLikelyClusterEachCentroidASCII=y");
    line("MostLikelyClusterEachCentroidDBase=n");
    line("MostLikelyClusterCaseInfoEachCentroidASCII=n");
    line("MostLikelyClusterCaseInfoEachCentroidDBase=n");
    line("CensusAreasReportedClustersASCII=y");
    line("CensusAreasReportedClustersDBase=n");
    line("IncludeRelativeRisksCensusAreasASCII=n");
    line("IncludeRelativeRisksCensusAreasDBase=n");
    line("SaveSimLLRsASCII=n");
    line("SaveSimLLRsDBase=n");
    line("OutputGoogleMaps=n");
    line("[Data Checking]");
    line("StudyPeriodCheckType=0");
    line("GeographicalCoordinatesCheckType=0");
    line("[Spatial Neighbors]");
    line("UseNeighborsFile=n");
    line("UseMetaLocationsFile=n");
    line("MultipleCoordinatesType=0");
    line("[Spatial Window]");
    // For the space-time permutation model the "population at risk" of a location is its
    // expected cases over the window, Σ_d C_z·C_d/C = C_z: the share of the window's cases.
    line(&format!(
        "MaxSpatialSizeInPopulationAtRisk={}",
        settings.max_share * 100.0
    ));
    line("UseMaxCirclePopulationFileOption=n");
    line("UseDistanceFromCenterOption=n");
    line("IncludePurelyTemporal=n");
    line("SpatialWindowShapeType=0");
    line("NonCompactnessPenalty=0");
    line("IsotonicScan=0");
    line("[Temporal Window]");
    line("MinimumTemporalClusterSize=1");
    line("MaxTemporalSizeInterpretation=1");
    line(&format!("MaxTemporalSize={}", settings.max_days));
    line("IncludePurelySpatial=n");
    line("IncludeClusters=0");
    line("[Cluster Restrictions]");
    line("RiskLimitHighClusters=n");
    line("RiskLimitLowClusters=n");
    // SaTScan's smallest allowed value (ours has no minimum; run::detect applies min_cases
    // after the scan).
    line("MinimumCasesInHighRateClusters=2");
    line("[Space and Time Adjustments]");
    line("TimeTrendAdjustmentType=0");
    line("AdjustForWeeklyTrends=n");
    line("SpatialAdjustmentType=0");
    line("UseAdjustmentsByRRFile=n");
    line("[Inference]");
    // The standard Monte Carlo p-value with the Gumbel one beside it (SaTScan's default p-value
    // — Gumbel below rank 10, as ours — stops the replicas early once 50 beat the cluster;
    // compare.py derives the default from the two).
    line("PValueReportType=1");
    line("ReportGumbel=y");
    line(&format!("MonteCarloReps={}", settings.replicas));
    line("AdjustForEarlierAnalyses=n");
    line(&format!("ProspectiveStartDate={end}"));
    line("IterativeScan=n");
    line("[Miscellaneous Analysis]");
    line("ProspectiveFrequencyType=0");
    line("ProspectiveFrequency=1");
    line("[Spatial Output]");
    line("LaunchMapViewer=n");
    line("ReportHierarchicalClusters=y");
    line("CriteriaForReportingSecondaryClusters=0");
    line("ReportGiniClusters=n");
    line("UseReportOnlySmallerClusters=n");
    line("[Temporal Output]");
    line("OutputTemporalGraphHTML=n");
    line("[Other Output]");
    line("CriticalValue=n");
    line("ReportClusterRank=y");
    line("PrintAsciiColumnHeaders=y");
    line("[Run Options]");
    line(&format!(
        "NumberParallelProcesses={}",
        env_or("M110_SATSCAN_THREADS", 1u32)
    ));
    line("SuppressWarnings=n");
    line("LogRunToHistoryFile=n");
    line("ExecutionType=0");
    line("[System]");
    line("Version=10.3.2");
    s
}

#[test]
#[ignore = "export for SaTScan: bench/satscan/run.sh (cargo test -p m110-runtime --release --lib warning::satscan -- --ignored --nocapture)"]
fn export_for_satscan() {
    let params = SimParams {
        seed: env_or("M110_BENCH_SEED", SimParams::default().seed),
        ..SimParams::default()
    };
    let sim = simulate(&params);
    let settings = EarlyWarning {
        replicas: env_or("M110_SATSCAN_REPLICAS", 999),
        ..EarlyWarning::default()
    };
    let out = PathBuf::from(env_or(
        "M110_SATSCAN_OUT",
        concat!(env!("CARGO_MANIFEST_DIR"), "/../target/satscan").to_string(),
    ));
    std::fs::create_dir_all(&out).unwrap();

    // The locations exactly as run::detect builds them.
    let region = &sim.region;
    let (cells, locations) = super::run::scan_locations(region);
    let mut geo = String::new();
    for (g, l) in cells.iter().zip(&locations) {
        let (x, y) = l.xy.expect("simulated villages have centroids");
        // `{}` prints the shortest decimal that reads back as the same f64.
        writeln!(geo, "{} {x} {y}", g.code).unwrap();
    }
    std::fs::write(out.join("county.geo"), geo).unwrap();

    // Analysis days: every injected cluster's last day, then ten quiet days spread over the
    // rest (no injected case of any category in their last max_days days).
    let w = settings.max_days as i64;
    let first_usable = sim.cube.first_day + SCAN_WINDOW_DAYS as i64 - 1;
    let last = sim.cube.first_day + sim.cube.days as i64 - 1;
    let mut days: Vec<(i64, &str)> = Vec::new();
    let mut seen = BTreeSet::new();
    for c in &sim.clusters {
        if c.end >= first_usable && seen.insert(c.end) {
            days.push((c.end, "cluster end"));
        }
    }
    let quiet: Vec<i64> = (first_usable.max(sim.cube.first_day + 60)..=last)
        .filter(|d| !sim.clusters.iter().any(|c| c.start <= *d && c.end > d - w))
        .collect();
    for i in 0..10 {
        if quiet.is_empty() {
            break;
        }
        let d = quiet[i * (quiet.len() - 1) / 9];
        if seen.insert(d) {
            days.push((d, "quiet"));
        }
    }
    days.truncate(env_or("M110_SATSCAN_DAYS", days.len()));

    let categories: Vec<&String> = sim
        .cube
        .series
        .keys()
        .map(|(c, _)| c)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();

    let mut jsonl = String::new();
    let mut runs = 0;
    let started = std::time::Instant::now();
    let mut ours_time = std::time::Duration::ZERO;
    for &(day, kind) in &days {
        let t = (day - sim.cube.first_day) as usize;
        let window = SCAN_WINDOW_DAYS.min(t + 1);
        let first = t + 1 - window;
        let first_day = sim.cube.first_day + first as i64;
        for cat in &categories {
            let mut counts = vec![vec![0u32; window]; cells.len()];
            let mut cas = String::new();
            let mut total = 0u64;
            for (z, g) in cells.iter().enumerate() {
                if let Some(s) = sim.cube.series.get(&((*cat).clone(), g.code.clone())) {
                    counts[z].copy_from_slice(&s[first..=t]);
                }
                for (d, &n) in counts[z].iter().enumerate() {
                    if n > 0 {
                        total += u64::from(n);
                        let date = satscan_date(first_day + d as i64);
                        writeln!(cas, "{} {n} {date}", g.code).unwrap();
                    }
                }
            }
            if total == 0 {
                continue;
            }
            let name = format!("{}_{cat}", iso_date(day));
            std::fs::write(out.join(format!("{name}.cas")), cas).unwrap();
            std::fs::write(
                out.join(format!("{name}.prm")),
                parameters(&name, first_day, day, &settings),
            )
            .unwrap();

            let p = ScanParams {
                max_days: settings.max_days as usize,
                max_share: settings.max_share,
                replicas: settings.replicas as usize,
                seed: seed(cat, day),
                max_clusters: 1,
                ..ScanParams::default()
            };
            let t0 = std::time::Instant::now();
            let found = scan::scan(&locations, &counts, &p).unwrap();
            ours_time += t0.elapsed();
            let ours = found.first().map_or(Value::Null, |c| {
                json!({
                    "center": cells[c.center].code,
                    "locations": c.locations.iter().map(|z| cells[*z].code.clone()).collect::<Vec<_>>(),
                    "start": iso_date(first_day + c.start_day as i64),
                    "end": iso_date(first_day + c.end_day as i64),
                    "days": c.end_day - c.start_day + 1,
                    "observed": c.observed,
                    "expected": c.expected,
                    "llr": c.llr,
                    "p": c.p_value,
                    "recurrence_days": c.recurrence_days,
                })
            });
            let injected: Vec<Value> = sim
                .clusters
                .iter()
                .filter(|c| &c.category == *cat && c.start <= day && c.end > day - w)
                .map(|c| {
                    json!({
                        "villages": c.villages,
                        "start": iso_date(c.start),
                        "end": iso_date(c.end),
                        "cases": c.cases,
                        "ends_today": c.end == day,
                    })
                })
                .collect();
            let line = json!({
                "run": name,
                "day": iso_date(day),
                "kind": kind,
                "category": cat,
                "window_start": iso_date(first_day),
                "cases": total,
                "ours": ours,
                "injected": injected,
            });
            jsonl.push_str(&line.to_string());
            jsonl.push('\n');
            runs += 1;
        }
    }
    std::fs::write(out.join("ours.jsonl"), jsonl).unwrap();
    println!(
        "satscan export: seed {}, {} replicas, {} days × {} categories = {runs} runs in {}; our \
         scans {:.1?} ({:.2?} a run), total {:.1?}",
        params.seed,
        settings.replicas,
        days.len(),
        categories.len(),
        out.display(),
        ours_time,
        ours_time / runs.max(1) as u32,
        started.elapsed()
    );
    assert!(runs > 0);
}

#[test]
fn dates_and_parameters() {
    assert_eq!(satscan_date(0), "1970/01/01");
    let d = super::calendar::parse_date("2025-03-09").unwrap();
    assert_eq!(satscan_date(d), "2025/03/09");
    assert_eq!(iso_date(d), "2025-03-09");
    let settings = EarlyWarning {
        replicas: 999,
        ..EarlyWarning::default()
    };
    let prm = parameters("x", d - 27, d, &settings);
    for want in [
        "StartDate=2025/02/10",
        "EndDate=2025/03/09",
        "ProspectiveStartDate=2025/03/09",
        "ModelType=2",
        "AnalysisType=4",
        "MaxTemporalSize=7",
        "MaxSpatialSizeInPopulationAtRisk=50",
        "MonteCarloReps=999",
    ] {
        assert!(prm.lines().any(|l| l == want), "{want}");
    }
}
