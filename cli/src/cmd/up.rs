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
use m110::provision::DEFAULT_ADMIN;
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
    // Provisioning runs as `m110 provision` in a child process: when it exits, every connection
    // it opened is closed and a brand-new SQLite file is complete on disk before this process
    // opens it to serve (sharing a process, the build's final WAL checkpoint can still be in
    // flight on SQLite's worker thread).
    let exe = std::env::current_exe().context("cannot find the m110 executable")?;
    let out = std::process::Command::new(exe)
        .arg("provision")
        .arg(&args.profile)
        .arg("--install")
        .arg(&install_dir)
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::inherit())
        .output()
        .context("cannot run m110 provision")?;
    let printed = String::from_utf8_lossy(&out.stdout).into_owned();
    print!("{printed}");
    if !out.status.success() {
        return Ok(ExitCode::from(
            out.status.code().unwrap_or(2).clamp(1, 255) as u8
        ));
    }
    let created_admin = printed.contains("one-time password");
    let install_dir = std::path::absolute(&install_dir)
        .with_context(|| format!("cannot resolve {}", install_dir.display()))?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
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
