//! `m110 provision PROFILE --install DIR [--database URL] [--admin NAME]`: create an install.
//!
//! Writes the generated artifacts and `m110d.yaml` into DIR, creates and migrates the database
//! (SQLite `DIR/m110.db` by default) and loads the region in one transaction, with a bootstrap
//! admin whose one-time password is printed once on stdout. Re-running with the same profile
//! changes nothing and says so; a changed profile is refused. Exit 1 on a refused or invalid
//! profile.

use std::path::PathBuf;
use std::process::ExitCode;

use m110::provision::{DEFAULT_ADMIN, InstallOptions, InstallOutcome, Refused, provision_install};
use m110_runtime::engine::provision::ProvisionOutcome;

#[derive(clap::Args)]
pub struct Args {
    /// Region profile (YAML).
    pub profile: PathBuf,
    /// Install directory (created when missing).
    #[arg(long)]
    pub install: PathBuf,
    /// Database URL: sqlite://FILE (relative to the install) or postgres://USER@HOST/DB.
    /// Default: the install's m110d.yaml, else sqlite://m110.db.
    #[arg(long, env = "M110_DATABASE_URL")]
    pub database: Option<String>,
    /// Login name of the bootstrap admin.
    #[arg(long, default_value = DEFAULT_ADMIN)]
    pub admin: String,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let result = rt.block_on(provision_install(&InstallOptions {
        profile: &args.profile,
        install_dir: &args.install,
        database: args.database.as_deref(),
        admin_name: &args.admin,
    }));
    Ok(match report(result)? {
        Some(_) => ExitCode::SUCCESS,
        None => ExitCode::from(1),
    })
}

/// Prints what a provision did — the bootstrap admin's one-time password, once — for
/// `m110 provision` and `m110 up`. `Ok(None)`: refused or invalid, already explained on stderr
/// (exit 1); other errors are internal.
pub fn report(result: anyhow::Result<InstallOutcome>) -> anyhow::Result<Option<InstallOutcome>> {
    let out = match result {
        Ok(out) => out,
        Err(e) => {
            // Refusals and bad profiles are the user's to fix: exit 1, not an internal error.
            if e.downcast_ref::<Refused>().is_some()
                || e.downcast_ref::<m110::provision::ProfileChanged>()
                    .is_some()
            {
                eprintln!("错误 / error: {e:#}");
                return Ok(None);
            }
            return Err(e);
        }
    };
    match out.outcome {
        ProvisionOutcome::Created => {
            println!(
                "已创建 / provisioned: {} {} → {}",
                out.region_code,
                out.region_name,
                out.install_dir.display()
            );
        }
        ProvisionOutcome::Unchanged => {
            println!(
                "无变化 / unchanged: {} {} is already provisioned from this profile in {}; nothing \
                 was changed",
                out.region_code,
                out.region_name,
                out.install_dir.display()
            );
        }
    }
    println!("数据库 / database: {}", out.database);
    if out.password_withheld {
        println!(
            "注意 / note: the database password was not written to m110d.yaml; set \
             M110_DATABASE_URL when running m110d / 密码未写入 m110d.yaml，运行 m110d 时请设置 \
             M110_DATABASE_URL"
        );
    }
    if let Some((name, password)) = &out.admin {
        println!("管理员 / admin: {name}");
        println!("一次性密码 / one-time password (shown once): {password}");
    }
    Ok(Some(out))
}
