//! `m110 pull --install DIR PROFILE [--database URL]`: writes the install's live edits (a unit's
//! phone changed in the console) back into PROFILE in place, keeping its comments and layout;
//! what it cannot write in place is listed for the maintainer. Exit 0 when the profile then
//! matches the install, 1 otherwise (something is left to write by hand, or an error).

use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// The region profile to write into.
    pub profile: PathBuf,
    /// Install directory made by `m110 provision`.
    #[arg(long)]
    pub install: PathBuf,
    /// Database URL (default: the install's m110d.yaml).
    #[arg(long, env = "M110_DATABASE_URL")]
    pub database: Option<String>,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let pulled = match rt.block_on(m110::pull::pull(
        &args.profile,
        &args.install,
        args.database.as_deref(),
    )) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("错误 / error: {e:#}");
            return Ok(ExitCode::from(1));
        }
    };
    for w in &pulled.written {
        println!("已写入 / written: {w}");
    }
    for h in &pulled.by_hand {
        println!("请手工修改 / edit by hand: {h}");
    }
    if pulled.matched {
        println!(
            "{} 与安装一致 / now matches the install",
            args.profile.display()
        );
        Ok(ExitCode::SUCCESS)
    } else {
        Ok(ExitCode::from(1))
    }
}
