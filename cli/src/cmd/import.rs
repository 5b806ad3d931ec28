//! `m110 import cases FILE.csv|FILE.xlsx --install DIR [--database URL] [--dry-run] [--json]`:
//! loads an existing platform's history (columns in `docs/import.md`). Every row is checked
//! first; any problem is printed as `FILE:LINE: field: message` and nothing is written (exit 1).
//! Otherwise all rows go in one transaction; rows whose `external_id` is already imported are
//! skipped, so a re-run changes nothing.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use calamine::{Data, Reader};
use m110::provision::open_install;
use m110_runtime::engine::import::{self, ImportRow};
use m110_runtime::engine::region::RegionIndex;

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: ImportCommand,
}

#[derive(clap::Subcommand)]
pub enum ImportCommand {
    /// Import historical cases from CSV (UTF-8, BOM allowed) or XLSX (first sheet).
    Cases(CasesArgs),
}

#[derive(clap::Args)]
pub struct CasesArgs {
    /// The file: .csv or .xlsx, a header row naming the columns.
    pub file: PathBuf,
    /// Install directory made by `m110 provision`.
    #[arg(long)]
    pub install: PathBuf,
    /// Database URL (default: the install's m110d.yaml).
    #[arg(long, env = "M110_DATABASE_URL")]
    pub database: Option<String>,
    /// Check every row and report what would be imported; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

const COLUMNS: &[&str] = &[
    "received_at",
    "channel",
    "category",
    "grid_code",
    "lat",
    "lon",
    "address",
    "content",
    "external_id",
    "status",
    "closed_at",
    "satisfaction",
];

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        match args.command {
            ImportCommand::Cases(a) => cases(a).await,
        }
    })
}

async fn cases(a: CasesArgs) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let rows = match read_rows(&a.file) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{}: {e}", a.file.display());
            return Ok(ExitCode::from(1));
        }
    };
    let store = open_install(&a.install, a.database.as_deref()).await?;
    let region = RegionIndex::load(&store).await?;
    let outcome = import::import(&store, &region, &rows, a.dry_run).await;
    store.close().await;
    match outcome? {
        Err(errors) => {
            for e in &errors {
                eprintln!(
                    "{}:{}: {}: {}",
                    a.file.display(),
                    e.line,
                    e.field,
                    e.message
                );
            }
            eprintln!(
                "未导入 / nothing imported: {} problem(s) in {} row(s)",
                errors.len(),
                rows.len()
            );
            Ok(ExitCode::from(1))
        }
        Ok(report) => {
            if a.json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                println!(
                    "{} / {}: rows {}, imported {}, already imported {}, closed {}, open {}, \
                     unlocated {} ({:.1} s)",
                    if report.dry_run {
                        "试导入（未写入）"
                    } else {
                        "已导入"
                    },
                    if report.dry_run {
                        "dry run (nothing written)"
                    } else {
                        "imported"
                    },
                    report.rows,
                    report.imported,
                    report.skipped,
                    report.closed,
                    report.open,
                    report.unlocated,
                    started.elapsed().as_secs_f64()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Reads the rows of a CSV or XLSX file by its header (unknown columns are an error: a
/// misspelt column must not be dropped silently).
fn read_rows(path: &Path) -> Result<Vec<ImportRow>, String> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let table: Vec<(usize, Vec<String>)> = match ext.as_deref() {
        Some("csv") => read_csv(path)?,
        Some("xlsx") => read_xlsx(path)?,
        _ => return Err("not a .csv or .xlsx file".into()),
    };
    let Some((_, header)) = table.first() else {
        return Err("empty file".into());
    };
    let header: Vec<String> = header.iter().map(|h| h.trim().to_string()).collect();
    for h in &header {
        if !h.is_empty() && !COLUMNS.contains(&h.as_str()) {
            return Err(format!(
                "line 1: unknown column `{h}` (columns: {})",
                COLUMNS.join(", ")
            ));
        }
    }
    for need in ["received_at", "content", "external_id"] {
        if !header.iter().any(|h| h == need) {
            return Err(format!("line 1: no `{need}` column"));
        }
    }
    let col = |name: &str| header.iter().position(|h| h == name);
    let idx: Vec<Option<usize>> = COLUMNS.iter().map(|c| col(c)).collect();
    let mut rows = Vec::with_capacity(table.len().saturating_sub(1));
    for (line, cells) in table.iter().skip(1) {
        if cells.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let get = |i: usize| idx[i].and_then(|j| cells.get(j)).cloned();
        rows.push(ImportRow {
            line: *line,
            received_at: get(0),
            channel: get(1),
            category: get(2),
            grid_code: get(3),
            lat: get(4),
            lon: get(5),
            address: get(6),
            content: get(7),
            external_id: get(8),
            status: get(9),
            closed_at: get(10),
            satisfaction: get(11),
        });
    }
    Ok(rows)
}

fn read_csv(path: &Path) -> Result<Vec<(usize, Vec<String>)>, String> {
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(&bytes);
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut out = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| {
            let line = e.position().map_or(0, |p| p.line());
            format!("line {line}: {e}")
        })?;
        let line = rec.position().map_or(0, |p| p.line() as usize);
        out.push((line, rec.iter().map(str::to_string).collect()));
    }
    Ok(out)
}

fn read_xlsx(path: &Path) -> Result<Vec<(usize, Vec<String>)>, String> {
    let mut book: calamine::Xlsx<_> =
        calamine::open_workbook(path).map_err(|e: calamine::XlsxError| e.to_string())?;
    let range = book
        .worksheet_range_at(0)
        .ok_or("the workbook has no sheet")?
        .map_err(|e| e.to_string())?;
    let start = range.start().map_or(0, |(r, _)| r as usize);
    Ok(range
        .rows()
        .enumerate()
        .map(|(i, row)| (start + i + 1, row.iter().map(cell_text).collect()))
        .collect())
}

/// A cell as text; an Excel date-time becomes RFC 3339 in Asia/Shanghai (offices type local time).
fn cell_text(c: &Data) -> String {
    match c {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Int(i) => i.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(d) => d
            .as_datetime()
            .map(|n| format!("{}+08:00", n.format("%Y-%m-%dT%H:%M:%S")))
            .unwrap_or_default(),
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Error(e) => format!("#{e:?}"),
    }
}
