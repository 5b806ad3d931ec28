/*!
`m110`: the Minsheng 110 replication kit.

Each subcommand lives in its own module under `cmd/` with its clap `Args` and a `run` that
returns the process exit code; `main` only parses flags, sets up logging and maps errors to exit
codes (0 ok, 1 invalid input reported to the user, 2 usage or internal error).
*/

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod cmd;

/// m110: turn a region profile into a running Minsheng 110 service center.
#[derive(Parser)]
#[command(name = "m110", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Write a starter profile for a county/district, city or province (code or name) from embedded division codes.
    Init(cmd::init::Args),
    /// Find division codes by name, code prefix or pinyin initials: `m110 divisions search 兰考`.
    Divisions(cmd::divisions::Args),
    /// Check profiles and list every error as FILE:LINE:COL: field: problem (hint: fix).
    Validate(cmd::validate::Args),
    /// Print the JSON Schema (draft-07) of the region profile format.
    Schema(cmd::schema::Args),
    /// Show what a provision would create, with Erlang C staffing of the center.
    Plan(cmd::plan::Args),
    /// Render the kit artifacts (config, schema, routing, directories, handbook) into a directory.
    Generate(cmd::generate::Args),
    /// Compare regions side by side: profiles with a readiness check, or live KPI documents.
    Compare(cmd::compare::Args),
    /// Create an install: artifacts, database, region, bootstrap admin (re-run = no-op).
    Provision(cmd::provision::Args),
    /// Manage users of an install (add, list, disable, enable).
    User(cmd::user::Args),
    /// Manage API tokens of an install (add prints the token on its last line).
    Token(cmd::token::Args),
    /// Import an existing platform's history: `m110 import cases FILE.csv|FILE.xlsx`.
    Import(cmd::import::Args),
    /// Triage: retrain the category classifier from the install's closed cases.
    Triage(cmd::triage::Args),
    /// Provision a profile into ./installs/<code> when needed and serve it (127.0.0.1:8110).
    Up(cmd::up::Args),
    /// Upgrade a live install to this kit and a changed profile: plan, or --apply that plan.
    Upgrade(cmd::upgrade::Args),
    /// Write what was changed in a live install back into its profile (in place).
    Pull(cmd::pull::Args),
    /// Compare an install with its profile and the kit; exit 1 listing every finding.
    Doctor(cmd::doctor::Args),
    /// Back the install's database up while m110d serves (SQLite VACUUM INTO, pg_dump).
    Backup(cmd::backup::Args),
    /// Restore a backup into an install (refuses to overwrite without --force).
    Restore(cmd::restore::Args),
    /// The monthly report of an install: `--period 2026-11 --format xlsx|html|md -o FILE`.
    Report(cmd::report::Args),
    /// Early warning: `--replay FROM TO` replays detection over the history (writes nothing).
    Alerts(cmd::alerts::Args),
    /// A region's KPI document for a month (JSON, no personal data) for `m110 compare --kpi`.
    Kpi(cmd::kpi::Args),
    /// Analytics maintenance: `m110 analytics rebuild` recomputes the rollups from the cases.
    Analytics(cmd::analytics::Args),
    /// Units' hotlines and contacts by spreadsheet: `m110 contacts import|export`.
    Contacts(cmd::contacts::Args),
}

/// Colour in log lines only on a terminal: a pipe, a file or journald would store the escape
/// codes verbatim. `NO_COLOR` (set and not empty, no-color.org) turns it off everywhere.
fn log_colour() -> bool {
    use std::io::IsTerminal as _;
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("M110_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(log_colour())
        .init();
    let result = match cli.command {
        Command::Init(args) => cmd::init::run(args),
        Command::Divisions(args) => cmd::divisions::run(args),
        Command::Validate(args) => cmd::validate::run(args),
        Command::Schema(args) => cmd::schema::run(args),
        Command::Plan(args) => cmd::plan::run(args),
        Command::Generate(args) => cmd::generate::run(args),
        Command::Compare(args) => cmd::compare::run(args),
        Command::Provision(args) => cmd::provision::run(args),
        Command::User(args) => cmd::user::run(args),
        Command::Token(args) => cmd::token::run(args),
        Command::Triage(args) => cmd::triage::run(args),
        Command::Import(args) => cmd::import::run(args),
        Command::Up(args) => cmd::up::run(args),
        Command::Backup(args) => cmd::backup::run(args),
        Command::Doctor(args) => cmd::doctor::run(args),
        Command::Pull(args) => cmd::pull::run(args),
        Command::Upgrade(args) => cmd::upgrade::run(args),
        Command::Restore(args) => cmd::restore::run(args),
        Command::Analytics(args) => cmd::analytics::run(args),
        Command::Contacts(args) => cmd::contacts::run(args),
        Command::Report(args) => cmd::report::run(args),
        Command::Kpi(args) => cmd::kpi::run(args),
        Command::Alerts(args) => cmd::alerts::run(args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}
