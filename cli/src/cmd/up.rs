//! `m110 up PROFILE [--listen ADDR:PORT] [--installs DIR]`: the one command from a profile to a
//! running service center.
//!
//! Provisions the profile into `./installs/<region code>` when needed (an unchanged install is
//! reused; a changed profile is refused, as with `m110 provision`, and the upgrade plan printed
//! with how to apply it), then serves it in this
//! process on 127.0.0.1:8110 (or `--listen`) exactly as `m110d serve` would, until Ctrl-C or
//! SIGTERM. Prints the URL and the admin login: the one-time password when the install was just
//! created, otherwise how to set a new one.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use m110::provision::{DEFAULT_ADMIN, InstallOptions, provision_install};
use m110_runtime::config::{Config, Overrides};

#[derive(clap::Args)]
pub struct Args {
    /// Region profile (YAML).
    pub profile: PathBuf,
    /// Address and port to serve on (default: the install's m110d.yaml, 127.0.0.1:8110).
    #[arg(long)]
    pub listen: Option<String>,
    /// Directory holding the installs, one sub-directory per region code.
    #[arg(long, default_value = "installs")]
    pub installs: PathBuf,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let loaded = match m110::profile::load(&args.profile) {
        Ok(l) => l,
        Err(diags) => {
            eprintln!(
                "错误 / error: {} has {} problem(s) / 个问题:\n{diags}",
                args.profile.display(),
                diags.len()
            );
            return Ok(ExitCode::from(1));
        }
    };
    let install_dir = args.installs.join(&loaded.region.info.code);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    // Same as `m110 provision` (a new SQLite file is sealed before it is renamed into place, so
    // serving it from this process right away sees every row).
    let database = std::env::var("M110_DATABASE_URL")
        .ok()
        .filter(|s| !s.is_empty());
    let provisioned = rt.block_on(provision_install(&InstallOptions {
        profile: &args.profile,
        install_dir: &install_dir,
        database: database.as_deref(),
        admin_name: DEFAULT_ADMIN,
    }));
    if let Err(e) = &provisioned
        && e.downcast_ref::<m110::provision::ProfileChanged>()
            .is_some()
    {
        eprintln!("错误 / error: {e}");
        eprintln!("升级计划 / what `m110 upgrade` would change:");
        if let Err(e) = rt.block_on(super::upgrade::show_dry_plan(
            &args.profile,
            &loaded,
            &install_dir,
            database.as_deref(),
            false,
        )) {
            eprintln!("错误 / error: {e:#}");
        }
        return Ok(ExitCode::from(1));
    }
    let Some(out) = super::provision::report(provisioned)? else {
        return Ok(ExitCode::from(1));
    };
    let created_admin = out.admin.is_some();
    let install_dir = std::path::absolute(&install_dir)
        .with_context(|| format!("cannot resolve {}", install_dir.display()))?;
    rt.block_on(async move {
        let config = Config::load(
            &install_dir,
            Overrides {
                listen: args.listen.clone(),
                ..Overrides::default()
            },
        )?;
        let listener = tokio::net::TcpListener::bind(&config.listen)
            .await
            .with_context(|| format!("cannot listen on {}", config.listen))?;
        let addr = listener.local_addr()?;
        println!("服务地址 / serving: http://{addr}/  (API: http://{addr}/api/v1, Open311: http://{addr}/open311/v2)");
        if created_admin {
            println!("管理员 / admin login: {DEFAULT_ADMIN} (one-time password above)");
        } else {
            println!(
                "管理员 / admin login: {DEFAULT_ADMIN} (password shown when the install was created; \
                 lost it? m110 user password --install {} --name {DEFAULT_ADMIN} --password-stdin)",
                install_dir.display()
            );
        }
        println!("按 Ctrl-C 停止 / press Ctrl-C to stop");
        m110_runtime::server::serve(config, listener, shutdown_signal()).await?;
        Ok(ExitCode::SUCCESS)
    })
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}
