//! `m110 token add|list|revoke --install DIR …`: API tokens for integrations.
//!
//! A token is the Bearer credential for `/api/v1` and the `api_key` of Open311. It acts as the
//! user of the same name (created as a password-less service user when missing). `add` prints
//! the token once, alone on its LAST line, so scripts can take it with `tail -n1`; only its
//! SHA-256 is stored.

use std::path::PathBuf;
use std::process::ExitCode;

use m110::provision::open_install;
use m110_runtime::model::{Role, TokenScope};
use m110_runtime::store::StoreError;
use m110_runtime::store::audit::NewAudit;

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: TokenCommand,
}

#[derive(clap::Subcommand)]
pub enum TokenCommand {
    /// Issue a new token; printed once on the last line.
    Add(AddArgs),
    /// List tokens (never the secrets).
    List(InstallArgs),
    /// Revoke a token by id.
    Revoke(RevokeArgs),
}

#[derive(clap::Args)]
pub struct InstallArgs {
    /// Install directory made by `m110 provision`.
    #[arg(long)]
    pub install: PathBuf,
    /// Database URL (default: the install's m110d.yaml).
    #[arg(long, env = "M110_DATABASE_URL")]
    pub database: Option<String>,
}

#[derive(clap::Args)]
pub struct AddArgs {
    #[command(flatten)]
    pub install: InstallArgs,
    /// Name of the integration (also the service user's login name).
    #[arg(long)]
    pub name: String,
    /// Role the token acts with.
    #[arg(long)]
    pub role: Role,
    /// Limit the token: `open311_client` (Open311 only, refused by /api/v1 — give this to
    /// Open311 clients) or `police_bridge` (an emergency line's bridge: reads handed-off cases
    /// and acknowledges or returns them; use with --role dispatcher) or `sms_gateway` (the SMS
    /// gateway's inbound callback, nothing else; use with --role operator).
    #[arg(long, value_parser = parse_scope)]
    pub scope: Option<TokenScope>,
}

fn parse_scope(s: &str) -> Result<TokenScope, String> {
    TokenScope::parse(s)
        .ok_or_else(|| format!("{s:?} is not open311_client, police_bridge or sms_gateway"))
}

#[derive(clap::Args)]
pub struct RevokeArgs {
    #[command(flatten)]
    pub install: InstallArgs,
    /// Token id (from `m110 token list`).
    #[arg(long)]
    pub id: i64,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        match args.command {
            TokenCommand::Add(a) => add(a).await,
            TokenCommand::List(a) => list(a).await,
            TokenCommand::Revoke(a) => revoke(a).await,
        }
    })
}

fn report(e: StoreError) -> anyhow::Result<ExitCode> {
    match e {
        StoreError::Invalid(m) | StoreError::Conflict(m) => {
            eprintln!("错误 / error: {m}");
            Ok(ExitCode::from(1))
        }
        StoreError::NotFound => {
            eprintln!("错误 / error: no such live token / 令牌不存在或已吊销");
            Ok(ExitCode::from(1))
        }
        other => Err(other.into()),
    }
}

async fn add(a: AddArgs) -> anyhow::Result<ExitCode> {
    let store = open_install(&a.install.install, a.install.database.as_deref()).await?;
    let result = store
        .create_scoped_token(
            &a.name,
            a.role,
            a.scope,
            &NewAudit::system("m110 token add", "token.create", None),
        )
        .await;
    store.close().await;
    match result {
        Ok((token, id)) => {
            println!(
                "已创建令牌 / token created: id={id} name={} role={}{} — shown once, store it now / \
                 仅显示一次，请妥善保存:",
                a.name,
                a.role,
                a.scope
                    .map(|s| format!(" scope={}", s.as_str()))
                    .unwrap_or_default()
            );
            println!("{token}");
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => report(e),
    }
}

async fn list(a: InstallArgs) -> anyhow::Result<ExitCode> {
    let store = open_install(&a.install, a.database.as_deref()).await?;
    let tokens = store.tokens().await;
    store.close().await;
    for t in tokens? {
        println!(
            "{}\t{}\t{}\t{}\t{}",
            t.id,
            t.name,
            t.role,
            t.last_used_at
                .map(|_| "used/已使用")
                .unwrap_or("unused/未使用"),
            if t.revoked_at.is_some() {
                "revoked/已吊销"
            } else {
                "live/有效"
            }
        );
    }
    Ok(ExitCode::SUCCESS)
}

async fn revoke(a: RevokeArgs) -> anyhow::Result<ExitCode> {
    let store = open_install(&a.install.install, a.install.database.as_deref()).await?;
    let result = async {
        store.revoke_token(a.id).await?;
        let target = format!("token:{}", a.id);
        store
            .audit(&NewAudit::system(
                "m110 token revoke",
                "token.revoke",
                Some(&target),
            ))
            .await?;
        Ok::<_, StoreError>(())
    }
    .await;
    store.close().await;
    match result {
        Ok(()) => {
            println!("已吊销 / revoked: token {}", a.id);
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => report(e),
    }
}
