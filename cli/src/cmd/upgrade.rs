//! `m110 upgrade PROFILE --install DIR [--database URL] [--format text|json] [--apply]
//! [--plan-hash H] [--keep-local]`: bring a live install to this kit and a changed profile.
//!
//! Without `--apply` nothing changes: the plan is printed (kit migrations, the region diff field
//! by field, what is retired, where open cases go, each change's effect on live data) with its
//! hash. Exit 0 when there is nothing to do, 2 when there are changes, 1 on error.
//! With `--apply`: a backup first (`DIR/backups/`), then the plan applied in one transaction —
//! refused when `--plan-hash` names another plan —, the generated files re-rendered (a file
//! edited here is kept, the kit's version written as `FILE.new`, or not at all with
//! `--keep-local`), and `m110 doctor` run on the result. Restart `m110d` afterwards: it loads the
//! region at start.

use std::path::PathBuf;
use std::process::ExitCode;

use m110::provision::{install_database_url, rerender_install};
use m110_runtime::engine::upgrade::{Plan, UpgradeMeta, upgrade};
use m110_runtime::store::{ConnectOptions, Store};

use super::load::load_or_report;

#[derive(clap::Args)]
pub struct Args {
    /// The changed region profile.
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
    /// Apply the plan (after a backup); without it nothing changes.
    #[arg(long)]
    pub apply: bool,
    /// Apply only if the plan is still this one (the hash a dry run printed).
    #[arg(long)]
    pub plan_hash: Option<String>,
    /// Keep generated files edited in the install as they are, without writing FILE.new.
    #[arg(long)]
    pub keep_local: bool,
    /// Apply even where the plan overwrites changes made in the live install (see `m110 pull`).
    #[arg(long)]
    pub overwrite_live_edits: bool,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let Some(loaded) = load_or_report(&args.profile) else {
        return Ok(ExitCode::from(1));
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        match run_async(&args, &loaded).await {
            Ok(code) => Ok(code),
            Err(e) => {
                eprintln!("错误 / error: {e:#}");
                Ok(ExitCode::from(1))
            }
        }
    })
}

/// The install's database (no migrations run: the upgrade runs them inside its transaction),
/// its URL, and what the upgrade records of this kit and profile.
async fn open(
    loaded: &m110::profile::Loaded,
    install: &std::path::Path,
    database: Option<&str>,
) -> anyhow::Result<(String, Store, UpgradeMeta)> {
    let url = install_database_url(install, database)?;
    let store = Store::connect_with(
        &url,
        &ConnectOptions {
            migrate: false,
            ..ConnectOptions::default()
        },
    )
    .await?;
    let meta = UpgradeMeta {
        profile_sha256: loaded.sha256.clone(),
        kit_version: m110_runtime::VERSION.to_string(),
    };
    Ok((url, store, meta))
}

/// The plan, nothing changed.
async fn dry_run(
    store: &Store,
    loaded: &m110::profile::Loaded,
    meta: &UpgradeMeta,
) -> Result<Plan, m110_runtime::engine::upgrade::UpgradeError> {
    upgrade(
        store,
        &loaded.region,
        &loaded.renames,
        meta,
        false,
        None,
        false,
    )
    .await
}

async fn run_async(args: &Args, loaded: &m110::profile::Loaded) -> anyhow::Result<ExitCode> {
    let (url, store, meta) = open(loaded, &args.install, args.database.as_deref()).await?;
    let plan = dry_run(&store, loaded, &meta).await?;
    if !args.apply {
        store.close().await;
        print_plan(args, &plan, None)?;
        return Ok(if plan.is_empty() {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(2)
        });
    }
    if plan.is_empty() {
        // The database is current; the generated files may still be another version's.
        store.close().await;
        print_plan(args, &plan, None)?;
        let files = rerender_install(
            &args.install,
            &loaded.region,
            &loaded.sha256,
            &url,
            args.keep_local,
        )?;
        print_files(&args.install, &files);
        return Ok(ExitCode::SUCCESS);
    }
    // A backup before anything changes (GitLab's rule); the transaction is the rollback.
    let backup = m110::backup::backup(&args.install, args.database.as_deref(), None).await?;
    let expect = args.plan_hash.clone().unwrap_or(plan.hash.clone());
    let applied = upgrade(
        &store,
        &loaded.region,
        &loaded.renames,
        &meta,
        true,
        Some(&expect),
        args.overwrite_live_edits,
    )
    .await?;
    store.close().await;
    let files = rerender_install(
        &args.install,
        &loaded.region,
        &loaded.sha256,
        &url,
        args.keep_local,
    )?;
    let findings = m110::doctor::doctor(loaded, &args.install, args.database.as_deref()).await?;
    // Files kept or left beside as .new are the county's to merge, not a failed upgrade.
    let problems: Vec<_> = findings.iter().filter(|f| f.area != "files").collect();
    if args.format == "json" {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "plan": applied,
                "backup": backup.file,
                "files": files,
                "doctor": findings,
            }))?
        );
    } else {
        print_plan(args, &applied, Some(&backup.file))?;
        print_files(&args.install, &files);
        for f in &findings {
            println!("doctor: {}: {}", f.area, f.message);
        }
        println!(
            "已升级 / upgraded: restart m110d so it serves the new region (systemctl restart \
             m110d)"
        );
    }
    Ok(if problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn print_files(install: &std::path::Path, files: &[m110::provision::Rerendered]) {
    for f in files {
        match f.outcome {
            "new" => {
                println!(
                    "  {}: edited here, kept; the kit's version is {}.new — merge it by hand:",
                    f.file, f.file
                );
                let read = |p: std::path::PathBuf| std::fs::read_to_string(p).unwrap_or_default();
                let ours = read(install.join(&f.file));
                let kit = read(install.join(format!("{}.new", f.file)));
                let diff = similar::TextDiff::from_lines(&ours, &kit);
                let text = diff
                    .unified_diff()
                    .context_radius(1)
                    .header(&f.file, &format!("{}.new", f.file))
                    .to_string();
                let lines: Vec<&str> = text.lines().collect();
                for l in lines.iter().take(40) {
                    println!("    {l}");
                }
                if lines.len() > 40 {
                    println!(
                        "    … ({} more lines: diff {} {}.new)",
                        lines.len() - 40,
                        f.file,
                        f.file
                    );
                }
            }
            "kept" => println!("  {}: edited here, kept (--keep-local)", f.file),
            "updated" => println!("  {}: re-rendered", f.file),
            _ => {}
        }
    }
}

/// The upgrade plan of `install` for `loaded` (nothing changes), printed as `m110 upgrade`
/// prints it: for `m110 plan --install` and `m110 up` on a changed profile. True when there is
/// something to apply.
pub async fn show_dry_plan(
    profile: &std::path::Path,
    loaded: &m110::profile::Loaded,
    install: &std::path::Path,
    database: Option<&str>,
    json: bool,
) -> anyhow::Result<bool> {
    let (_, store, meta) = open(loaded, install, database).await?;
    let plan = dry_run(&store, loaded, &meta).await;
    store.close().await;
    let plan = plan?;
    let args = Args {
        profile: profile.to_path_buf(),
        install: install.to_path_buf(),
        database: database.map(str::to_string),
        format: if json { "json" } else { "text" }.into(),
        apply: false,
        plan_hash: None,
        keep_local: false,
        overwrite_live_edits: false,
    };
    print_plan(&args, &plan, None)?;
    Ok(!plan.is_empty())
}

fn print_plan(args: &Args, plan: &Plan, backup: Option<&PathBuf>) -> anyhow::Result<()> {
    if args.format == "json" {
        println!("{}", serde_json::to_string_pretty(plan)?);
        return Ok(());
    }
    if plan.is_empty() {
        println!(
            "无需升级 / nothing to do: {} already runs this kit and this profile",
            plan.region
        );
        return Ok(());
    }
    println!(
        "{} / upgrade plan {} for {}:",
        if plan.applied {
            "已执行升级计划"
        } else {
            "升级计划（未执行）"
        },
        plan.hash,
        plan.region
    );
    if let Some(b) = backup {
        println!("  backup: {}", b.display());
    }
    for m in &plan.migrations {
        println!("  migration {} {}", m.version, m.description);
    }
    for c in &plan.changes {
        println!("  {}", c.line());
    }
    for e in &plan.effects {
        println!("  → {e}");
    }
    for c in &plan.live_edits {
        println!(
            "  ! live edit overwritten: {} (made in the install; m110 pull writes it into the \
             profile, --overwrite-live-edits discards it)",
            c.path
        );
    }
    for r in &plan.renames {
        println!("  ⇄ {} {} → {} (renamed_from)", r.kind, r.from, r.to);
    }
    for r in &plan.reroutes {
        println!(
            "  ↪ case {}: {} → {}",
            r.case,
            r.from,
            r.to.as_deref().unwrap_or("center queue")
        );
    }
    if !plan.applied {
        println!(
            "apply exactly this plan: m110 upgrade {} --install {} --apply --plan-hash {}",
            args.profile.display(),
            args.install.display(),
            plan.hash
        );
    }
    Ok(())
}
