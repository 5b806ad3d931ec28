//! `m110 contacts import FILE.xlsx PROFILE [--overwrite] [--dry-run]` and
//! `m110 contacts export PROFILE -o FILE.xlsx [--force]`: the units' hotlines and contacts through
//! the spreadsheet `m110 init` writes beside the profile (docs/contacts.md). Import exits 1 listing
//! every bad cell as `FILE: 联系人!E7: message` and writes nothing while any remains.

use std::path::PathBuf;
use std::process::ExitCode;

use m110::contacts::{self, import::Options};

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(clap::Subcommand)]
pub enum Command {
    /// Fill the profile's blank hotlines and contacts from a filled sheet, in place.
    Import(ImportArgs),
    /// Write the contacts sheet of a profile's current values.
    Export(ExportArgs),
}

#[derive(clap::Args)]
pub struct ImportArgs {
    /// The filled workbook (.xlsx), sheet 联系人.
    pub sheet: PathBuf,
    /// The region profile to write into.
    pub profile: PathBuf,
    /// Replace values that differ from the sheet's (else they are listed as conflicts and kept).
    #[arg(long)]
    pub overwrite: bool,
    /// Print what would change; write nothing.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(clap::Args)]
pub struct ExportArgs {
    /// The region profile.
    pub profile: PathBuf,
    /// Output workbook (default: <profile stem>.contacts.xlsx beside the profile).
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Overwrite an existing output file.
    #[arg(long)]
    pub force: bool,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.command {
        Command::Import(a) => import(a),
        Command::Export(a) => export(a),
    }
}

/// An error of the user's input is exit 1 with its message; anything else exit 2.
fn fail(e: contacts::Error) -> anyhow::Result<ExitCode> {
    if e.is_input() {
        eprintln!("{e}");
        Ok(ExitCode::from(1))
    } else {
        Err(e.into())
    }
}

fn import(a: ImportArgs) -> anyhow::Result<ExitCode> {
    let opts = Options {
        overwrite: a.overwrite,
        dry_run: a.dry_run,
    };
    let out = match contacts::import::import(&a.sheet, &a.profile, opts) {
        Ok(o) => o,
        Err(contacts::Error::Cells(cells)) => {
            for c in &cells {
                eprintln!("{c}");
            }
            eprintln!(
                "{} 个单元格有误，配置文件未修改 / {} bad cell(s); {} not changed",
                cells.len(),
                cells.len(),
                a.profile.display()
            );
            return Ok(ExitCode::from(1));
        }
        Err(e) => return fail(e),
    };
    let verb = if a.dry_run {
        "将修改 / would change"
    } else {
        "已修改 / changed"
    };
    for c in &out.changes {
        println!("{verb}: {c}");
    }
    for c in &out.conflicts {
        println!("冲突 / conflict: {c}");
    }
    println!(
        "{} value(s) filled, {} contact(s) added, {} overwritten, {} conflict(s){} / 填写 {} 项，新增联系人 {} 名，覆盖 {} 项，冲突 {} 项",
        out.filled,
        out.contacts_added,
        out.overwritten,
        out.conflicts.len(),
        if a.dry_run {
            " — dry run, nothing written"
        } else if out.written {
            ""
        } else {
            " — profile unchanged"
        },
        out.filled,
        out.contacts_added,
        out.overwritten,
        out.conflicts.len(),
    );
    Ok(ExitCode::SUCCESS)
}

fn export(a: ExportArgs) -> anyhow::Result<ExitCode> {
    let out = a
        .output
        .clone()
        .unwrap_or_else(|| contacts::sheet_path_for(&a.profile));
    if out.exists() && !a.force {
        eprintln!(
            "error: {} already exists; not overwriting (use --force) / 文件已存在，未覆盖",
            out.display()
        );
        return Ok(ExitCode::from(1));
    }
    let (bytes, rows) = match contacts::export::workbook(&a.profile) {
        Ok(x) => x,
        Err(e) => return fail(e),
    };
    if let Err(e) = contacts::write_atomic(&out, &bytes, a.force) {
        return fail(e);
    }
    eprintln!("wrote {} ({rows} rows) / 已导出", out.display());
    Ok(ExitCode::SUCCESS)
}
