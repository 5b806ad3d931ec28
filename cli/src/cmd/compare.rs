//! `m110 compare PROFILE... [--format text|md|json|csv|xlsx] [-o FILE]`: regions side by side
//! with readiness, from their profiles; `m110 compare --kpi FILE.json...`: their live KPI
//! documents (`m110 kpi`) side by side, beside their plans.
//!
//! Every input is read first; if any is invalid, every problem is printed to stderr and nothing
//! is compared (exit 1). A profile that is only unfinished — values still `FILL_IN` — is not
//! invalid here: it is compared as a draft, its blanks counted by the completeness check (one
//! note per draft on stderr). XLSX needs `-o FILE`; the other formats go to standard output
//! unless `-o` names a file. CSV starts with a UTF-8 byte-order mark (Excel, WPS).

use std::path::PathBuf;
use std::process::ExitCode;

use m110::compare::{self, Format};
use m110::kpi;
use m110_runtime::engine::export::to_xlsx;

use m110::profile::draft::{self, Draft};

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutFormat {
    Text,
    Md,
    Json,
    Csv,
    Xlsx,
}

#[derive(clap::Args)]
pub struct Args {
    /// Region profiles (YAML), one column each, in this order.
    #[arg(required_unless_present = "kpi", conflicts_with = "kpi")]
    pub profiles: Vec<PathBuf>,
    /// KPI documents written by `m110 kpi`, one column each, in this order.
    #[arg(long, num_args = 1..)]
    pub kpi: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: OutFormat,
    /// Write to FILE instead of standard output (required for xlsx).
    #[arg(short = 'o', long = "output")]
    pub output: Option<PathBuf>,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    if args.format == OutFormat::Xlsx && args.output.is_none() {
        eprintln!("错误 / error: --format xlsx writes a file: add -o FILE.xlsx");
        return Ok(ExitCode::from(2));
    }
    let bytes = if args.kpi.is_empty() {
        let loaded: Vec<_> = args.profiles.iter().map(|p| draft_or_report(p)).collect();
        let Some(loaded) = loaded.into_iter().collect::<Option<Vec<_>>>() else {
            return Ok(ExitCode::from(1));
        };
        let comparison = compare::compare_drafts(&loaded);
        match args.format {
            OutFormat::Text => comparison.render(Format::Text).into_bytes(),
            OutFormat::Md => comparison.render(Format::Md).into_bytes(),
            OutFormat::Json => comparison.render(Format::Json).into_bytes(),
            OutFormat::Csv => comparison.render(Format::Csv).into_bytes(),
            OutFormat::Xlsx => {
                to_xlsx(&comparison.sheet("比较 compare")).map_err(|e| anyhow::anyhow!("{e}"))?
            }
        }
    } else {
        let mut kpis = Vec::new();
        let mut problems = Vec::new();
        for path in &args.kpi {
            let name = path.display().to_string();
            match std::fs::read_to_string(path) {
                Ok(text) => match kpi::parse(&name, &text) {
                    Ok(k) => kpis.push(k),
                    Err(e) => problems.push(e),
                },
                Err(e) => problems.push(format!("{name}: {e}")),
            }
        }
        if !problems.is_empty() {
            for p in &problems {
                eprintln!("{p}");
            }
            eprintln!(
                "{} 个 KPI 文件无效 / invalid KPI file(s); nothing compared",
                problems.len()
            );
            return Ok(ExitCode::from(1));
        }
        let table = kpi::table(&kpis);
        match args.format {
            OutFormat::Text => table.text().into_bytes(),
            OutFormat::Md => table.markdown().into_bytes(),
            OutFormat::Csv => table.csv().into_bytes(),
            OutFormat::Json => {
                let mut s = serde_json::to_string_pretty(&kpis)?;
                s.push('\n');
                s.into_bytes()
            }
            OutFormat::Xlsx => {
                to_xlsx(&table.sheet("KPI 比较")).map_err(|e| anyhow::anyhow!("{e}"))?
            }
        }
    };
    match &args.output {
        Some(path) => std::fs::write(path, bytes)?,
        None => {
            use std::io::Write as _;
            std::io::stdout().write_all(&bytes)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Loads a profile, blanks allowed; on any other problem prints every diagnostic and returns
/// `None` (exit 1).
fn draft_or_report(path: &std::path::Path) -> Option<Draft> {
    match draft::load_draft(path) {
        Ok(d) => {
            let c = &d.completeness;
            if !c.is_complete() {
                eprintln!(
                    "{}: 草稿，{} 项待填写（已填 {}%）/ draft, {} value(s) still FILL_IN ({}% filled); compared as is",
                    path.display(),
                    c.blanks.len(),
                    c.percent(),
                    c.blanks.len(),
                    c.percent()
                );
            }
            Some(d)
        }
        Err(diags) => {
            super::load::report(path, &diags);
            None
        }
    }
}
