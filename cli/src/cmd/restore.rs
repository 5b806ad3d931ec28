//! `m110 restore FILE --install DIR [--database URL] [--force]`: writes a backup into an install
//! (refusing one that holds a region unless `--force`; stop `m110d` first), bringing a backup of
//! an older kit up to this kit's migrations. See `docs/operations.md`.

use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// The backup file made by `m110 backup`.
    pub file: PathBuf,
    /// Install directory to restore into (created when missing).
    #[arg(long)]
    pub install: PathBuf,
    /// Database URL (default: the install's m110d.yaml, else DIR/m110.db).
    #[arg(long, env = "M110_DATABASE_URL")]
    pub database: Option<String>,
    /// Replace an install that already holds a region.
    #[arg(long)]
    pub force: bool,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    match rt.block_on(m110::backup::restore(
        &args.file,
        &args.install,
        args.database.as_deref(),
        args.force,
    )) {
        Ok(s) => {
            println!(
                "已恢复 / restored into {}: {}",
                args.install.display(),
                s.line()
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("错误 / error: {e:#}");
            Ok(ExitCode::from(1))
        }
    }
}
