//! `m110 triage retrain --install DIR [--database URL]`: retrain the category classifier from the
//! install's closed cases (operators' corrections weigh more), store the model, and print its
//! cross-validated figures next to those of the model it replaces. Every running `m110d` puts the
//! new model in force within a minute.

use std::path::PathBuf;
use std::process::ExitCode;

use m110::provision::open_install;
use m110_runtime::engine::region::RegionIndex;
use m110_runtime::engine::triage::training;

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: TriageCommand,
}

#[derive(clap::Subcommand)]
pub enum TriageCommand {
    /// Retrain the classifier from the install's closed cases and put the model in force.
    Retrain(RetrainArgs),
}

#[derive(clap::Args)]
pub struct RetrainArgs {
    /// Install directory made by `m110 provision`.
    #[arg(long)]
    pub install: PathBuf,
    /// Database URL (default: the install's m110d.yaml).
    #[arg(long, env = "M110_DATABASE_URL")]
    pub database: Option<String>,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        match args.command {
            TriageCommand::Retrain(a) => retrain(a).await,
        }
    })
}

async fn retrain(a: RetrainArgs) -> anyhow::Result<ExitCode> {
    let store = open_install(&a.install, a.database.as_deref()).await?;
    let region = RegionIndex::load(&store).await?;
    training::load_latest(&store, &region).await?;
    let done = training::retrain(&store, &region).await?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&done)?);
    } else {
        println!(
            "分类模型已重训 / triage model retrained: #{}  cases {} (corrected {})",
            done.id, done.after.cases, done.after.corrected
        );
        println!(
            "  cross-validated accuracy 交叉验证准确率: {:.3} → {:.3}",
            done.before.cv_accuracy, done.after.cv_accuracy
        );
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}
