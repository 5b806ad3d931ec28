//! `m110 backup --install DIR [--database URL] [-o FILE]`: a consistent copy of the install's
//! database while `m110d` keeps serving (SQLite `VACUUM INTO`, PostgreSQL `pg_dump`), by default
//! under `DIR/backups/`. See `docs/operations.md`.

use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// Install directory made by `m110 provision`.
    #[arg(long)]
    pub install: PathBuf,
    /// Database URL (default: the install's m110d.yaml).
    #[arg(long, env = "M110_DATABASE_URL")]
    pub database: Option<String>,
    /// The backup file (default: DIR/backups/m110-<region>-<time>.db or .pgdump).
    #[arg(short = 'o', long = "output")]
    pub output: Option<PathBuf>,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    match rt.block_on(m110::backup::backup(
        &args.install,
        args.database.as_deref(),
        args.output.as_deref(),
    )) {
        Ok(s) => {
            println!("已备份 / backed up: {}", s.line());
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("错误 / error: {e:#}");
            Ok(ExitCode::from(1))
        }
    }
}
