/*!
`m110d`: serves a provisioned Minsheng 110 region.

`m110d serve --install DIR [--listen ADDR:PORT] [--database URL] [--log-format text|json]`
reads `DIR/m110d.yaml`; the environment (`M110_LISTEN`, `M110_DATABASE_URL`, `M110_LOG_FORMAT`)
overrides the file and flags override both. SIGTERM or Ctrl-C shuts down gracefully.

Once the socket is bound, one line goes to stdout with the address actually bound, in the same
form as `m110 up` prints it: `服务地址 / serving: http://127.0.0.1:8110/  (API: …, Open311: …)`.
With `--listen 127.0.0.1:0` the system picks a free port and that line names it, so a
supervisor or a test starts `m110d` without choosing a port first. Logs stay on stderr.
*/

use std::io::{IsTerminal as _, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use m110_runtime::config::{Config, LogFormat, Overrides};

/// m110d: serves a provisioned Minsheng 110 region.
#[derive(Parser)]
#[command(name = "m110d", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the install: HTTP APIs, console, Open311 and background jobs.
    Serve(ServeArgs),
}

#[derive(clap::Args)]
struct ServeArgs {
    /// Install directory made by `m110 provision` (holds m110d.yaml).
    #[arg(long)]
    install: PathBuf,
    /// Listen address, e.g. 127.0.0.1:8110 (overrides m110d.yaml and M110_LISTEN); port 0 picks
    /// a free port, printed on stdout.
    #[arg(long)]
    listen: Option<String>,
    /// Database URL (overrides m110d.yaml and M110_DATABASE_URL).
    #[arg(long)]
    database: Option<String>,
    /// Log format on stderr: text or json.
    #[arg(long, value_parser = parse_log_format)]
    log_format: Option<LogFormat>,
    /// Seconds between deadline scans (overrides m110d.yaml).
    #[arg(long)]
    deadline_scan_seconds: Option<u64>,
    /// First retry delay of a failed delivery in milliseconds, doubling each time (overrides
    /// m110d.yaml; default 5000).
    #[arg(long)]
    delivery_backoff_ms: Option<u64>,
    /// Attempts before an outbox message is dead (overrides m110d.yaml; default 12).
    #[arg(long)]
    delivery_max_attempts: Option<u32>,
    /// Milliseconds between status pulls of cases forwarded to Open311 platforms (overrides
    /// m110d.yaml's status_pull_seconds; default 60000).
    #[arg(long)]
    status_pull_ms: Option<u64>,
    /// Milliseconds between early-warning ticks (overrides m110d.yaml's warning_seconds;
    /// default 900000).
    #[arg(long)]
    warning_ms: Option<u64>,
}

fn parse_log_format(s: &str) -> Result<LogFormat, String> {
    LogFormat::parse(s).ok_or_else(|| format!("{s:?} is not text or json"))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => match serve(args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e:#}");
                ExitCode::from(2)
            }
        },
    }
}

fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let config = Config::load(
        &args.install,
        Overrides {
            listen: args.listen,
            database: args.database,
            log_format: args.log_format,
            deadline_scan_seconds: args.deadline_scan_seconds,
            delivery_backoff_ms: args.delivery_backoff_ms,
            delivery_max_attempts: args.delivery_max_attempts,
            status_pull_ms: args.status_pull_ms,
            warning_ms: args.warning_ms,
        },
    )?;
    init_logging(config.log_format);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(&config.listen)
            .await
            .with_context(|| format!("cannot listen on {}", config.listen))?;
        announce(listener.local_addr()?);
        m110_runtime::server::serve(config, listener, shutdown_signal()).await
    })
}

/// Prints the bound address on stdout (one line, flushed). A closed or broken stdout is not an
/// error: the address is also in the `m110d serving` log line.
fn announce(addr: std::net::SocketAddr) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "服务地址 / serving: http://{addr}/  (API: http://{addr}/api/v1, Open311: http://{addr}/open311/v2)"
    );
    let _ = out.flush();
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("M110_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn,tower_http=warn"));
    // Colour only on a terminal: under systemd stderr is journald, and escape codes would be
    // stored verbatim; `NO_COLOR` (set and not empty, no-color.org) turns it off everywhere.
    let colour = std::io::stderr().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(colour);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
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
    tracing::info!("shutdown requested");
}
