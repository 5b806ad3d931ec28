//! `m110 plan PROFILE [--format text|json] [--staffing-html FILE] [--install DIR]`: what a
//! provision would create, with Erlang C staffing and the 24/7 roster (`--staffing-html` also
//! writes the week as a heat map page); with `--install`, what `m110 upgrade` would change in
//! that install.
//!
//! Exit 0 with the plan on stdout; 1 when the profile is invalid (diagnostics on stderr), its
//! staffing inputs cannot be met or the heat map cannot be written.

use std::path::PathBuf;
use std::process::ExitCode;

use m110::plan;

use super::load::load_or_report;

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
}

#[derive(clap::Args)]
pub struct Args {
    /// The region profile (YAML).
    pub profile: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Also write the week's staffing as an HTML page (heat map of agents per hour, roster,
    /// FTE; self-contained, no script) to FILE.
    #[arg(long, value_name = "FILE", conflicts_with = "install")]
    pub staffing_html: Option<PathBuf>,
    /// An install of this region: show what `m110 upgrade` would change in it instead (exit 2
    /// when there are changes).
    #[arg(long)]
    pub install: Option<PathBuf>,
    /// Database URL of the install (default: its m110d.yaml).
    #[arg(long, env = "M110_DATABASE_URL")]
    pub database: Option<String>,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let Some(loaded) = load_or_report(&args.profile) else {
        return Ok(ExitCode::from(1));
    };
    if let Some(install) = &args.install {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        return match rt.block_on(super::upgrade::show_dry_plan(
            &args.profile,
            &loaded,
            install,
            args.database.as_deref(),
            args.format == Format::Json,
        )) {
            Ok(true) => Ok(ExitCode::from(2)),
            Ok(false) => Ok(ExitCode::SUCCESS),
            Err(e) => {
                eprintln!("错误 / error: {e:#}");
                Ok(ExitCode::from(1))
            }
        };
    }
    let plan = match plan::build(&loaded.region) {
        Ok(p) => p.with_warnings(&loaded.warnings),
        Err(e) => {
            eprintln!("{}: {e}", args.profile.display());
            return Ok(ExitCode::from(1));
        }
    };
    if let Some(file) = &args.staffing_html {
        let info = &loaded.region.info;
        let page =
            m110::staffing::html::page(&info.name, &info.code, &plan.staffing, &plan.staffing_week);
        if let Err(e) = std::fs::write(file, page) {
            eprintln!("错误 / error: {}: {e}", file.display());
            return Ok(ExitCode::from(1));
        }
    }
    let out = match args.format {
        Format::Text => plan.to_text(),
        Format::Json => plan.to_json(),
    };
    print!("{out}");
    Ok(ExitCode::SUCCESS)
}
