//! `m110 doctor PROFILE --install DIR [--database URL] [--format text|json]`: compares the
//! install with the profile and the kit (migrations, region drift, model hash, generated files,
//! integrity, outbox backlog). Exit 0 when clean, 1 with every finding listed otherwise.

use std::path::PathBuf;
use std::process::ExitCode;

use super::load::load_or_report;

#[derive(clap::Args)]
pub struct Args {
    /// The region profile the install should match.
    pub profile: PathBuf,
    /// Install directory made by `m110 provision`.
    #[arg(long)]
    pub install: PathBuf,
    /// Database URL (default: the install's m110d.yaml).
    #[arg(long, env = "M110_DATABASE_URL")]
    pub database: Option<String>,
    /// text (default) or json.
    #[arg(long, default_value = "text", value_parser = ["text", "json"])]
    pub format: String,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let Some(loaded) = load_or_report(&args.profile) else {
        return Ok(ExitCode::from(1));
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let findings = match rt.block_on(m110::doctor::doctor(
        &loaded,
        &args.install,
        args.database.as_deref(),
    )) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("错误 / error: {e:#}");
            return Ok(ExitCode::from(1));
        }
    };
    if args.format == "json" {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "clean": findings.is_empty(),
                "findings": findings,
            }))?
        );
    } else if findings.is_empty() {
        println!(
            "正常 / clean: {} matches {} and this kit",
            args.install.display(),
            args.profile.display()
        );
    } else {
        for f in &findings {
            println!("{}: {}", f.area, f.message);
        }
        println!("{} 项问题 / {} finding(s)", findings.len(), findings.len());
    }
    Ok(if findings.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
