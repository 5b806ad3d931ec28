//! `m110 up PROFILE [--listen ADDR:PORT] [--installs DIR]`: the one command from a profile to a
//! running service center.
//!
//! Provisions the profile into `./installs/<region code>` when needed (an unchanged install is
//! reused; a changed profile is refused, as with `m110 provision`), then serves it in this
//! process on 127.0.0.1:8110 (or `--listen`) exactly as `m110d serve` would, until Ctrl-C or
//! SIGTERM. Prints the URL and the admin login: the one-time password when the install was just
//! created, otherwise how to get a new admin.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use m110::provision::{DEFAULT_ADMIN, InstallOptions, Refused, provision_install};
use m110_runtime::config::{Config, Overrides};
use m110_runtime::provision::ProvisionOutcome;

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
    rt.block_on(async move {
        let out = match provision_install(&InstallOptions {
            profile: &args.profile,
            install_dir: &install_dir,
            database: None,
            admin_name: DEFAULT_ADMIN,
        })
        .await
        {
            Ok(out) => out,
            Err(e) if e.downcast_ref::<Refused>().is_some() => {
                eprintln!("错误 / error: {e:#}");
                return Ok(ExitCode::from(1));
            }
            Err(e) => return Err(e),
        };
        match out.outcome {
            ProvisionOutcome::Created => println!(
                "已创建 / provisioned: {} {} → {}",
                out.region_code,
                out.region_name,
                out.install_dir.display()
            ),
            ProvisionOutcome::Unchanged => println!(
                "已就绪 / install up to date: {} {} in {}",
                out.region_code,
                out.region_name,
                out.install_dir.display()
            ),
        }
        if out.outcome == ProvisionOutcome::Created {
            wait_for_sqlite_build(&out.install_dir).await;
        }
        let config = Config::load(
            &out.install_dir,
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
        match &out.admin {
            Some((name, password)) => {
                println!("管理员 / admin login: {name}");
                println!("一次性密码 / one-time password (shown once): {password}");
            }
            None => println!(
                "管理员 / admin login: {DEFAULT_ADMIN} (password shown when the install was created; \
                 to add another admin: m110 user add --install {} --name NAME --role admin \
                 --password-stdin)",
                out.install_dir.display()
            ),
        }
        println!("按 Ctrl-C 停止 / press Ctrl-C to stop");
        m110_runtime::server::serve(config, listener, shutdown_signal()).await?;
        Ok(ExitCode::SUCCESS)
    })
}

/// A brand-new SQLite install is built as `m110.db.tmp` and renamed; the build connection's
/// final WAL checkpoint can finish on SQLite's worker thread just after the rename. Opening the
/// database before that would pair it with a second WAL file, so wait (briefly) until the build's
/// WAL is gone.
async fn wait_for_sqlite_build(dir: &std::path::Path) {
    let wal = dir.join("m110.db.tmp-wal");
    for _ in 0..100 {
        if !wal.exists() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    tracing::warn!(path = %wal.display(), "provisioning WAL still present after 5 s");
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
