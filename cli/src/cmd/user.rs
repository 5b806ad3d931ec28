//! `m110 user add|list|disable --install DIR …`: manage console and API users of an install.
//!
//! `add` reads the password from stdin (`--password-stdin`), so it never appears in shell
//! history or process listings; the password must be at least 10 characters.

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use m110::provision::open_install;
use m110_runtime::model::Role;
use m110_runtime::policy::credentials::{self as auth, MIN_PASSWORD_LEN};
use m110_runtime::store::StoreError;
use m110_runtime::store::audit::NewAudit;
use m110_runtime::store::users::NewUser;

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: UserCommand,
}

#[derive(clap::Subcommand)]
pub enum UserCommand {
    /// Add a user.
    Add(AddArgs),
    /// List users (never their passwords).
    List(InstallArgs),
    /// Disable a user and end their sessions.
    Disable(NameArgs),
    /// Enable a disabled user.
    Enable(NameArgs),
    /// Set a user's password from stdin (e.g. a lost bootstrap password); ends their sessions.
    Password(PasswordArgs),
    /// Lift a login lockout (too many wrong passwords) before its wait is over.
    Unlock(NameArgs),
}

#[derive(clap::Args)]
pub struct PasswordArgs {
    #[command(flatten)]
    pub user: NameArgs,
    /// Read the new password from standard input (first line).
    #[arg(long, required = true)]
    pub password_stdin: bool,
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
pub struct NameArgs {
    #[command(flatten)]
    pub install: InstallArgs,
    /// Login name.
    #[arg(long)]
    pub name: String,
}

#[derive(clap::Args)]
pub struct AddArgs {
    #[command(flatten)]
    pub install: InstallArgs,
    /// Login name.
    #[arg(long)]
    pub name: String,
    /// admin, supervisor, operator, dispatcher, unit_handler, grid_worker, analyst or auditor.
    #[arg(long)]
    pub role: Role,
    /// Handling unit id (required for unit_handler).
    #[arg(long)]
    pub unit: Option<String>,
    /// Grid unit code (required for grid_worker; repeatable).
    #[arg(long = "grid", num_args = 1..)]
    pub grid: Vec<String>,
    /// Read the password from standard input (first line).
    #[arg(long, required = true)]
    pub password_stdin: bool,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        match args.command {
            UserCommand::Add(a) => add(a).await,
            UserCommand::List(a) => list(a).await,
            UserCommand::Disable(a) => set_disabled(a, true).await,
            UserCommand::Enable(a) => set_disabled(a, false).await,
            UserCommand::Password(a) => set_password(a).await,
            UserCommand::Unlock(a) => unlock(a).await,
        }
    })
}

fn read_password() -> anyhow::Result<String> {
    let mut input = String::new();
    std::io::stdin().take(4096).read_to_string(&mut input)?;
    let password = input.lines().next().unwrap_or("").to_string();
    Ok(password)
}

/// Store errors the user can fix exit 1 with the message; others are internal.
fn report(e: StoreError) -> anyhow::Result<ExitCode> {
    match e {
        StoreError::Invalid(m) | StoreError::Conflict(m) => {
            eprintln!("错误 / error: {m}");
            Ok(ExitCode::from(1))
        }
        StoreError::NotFound => {
            eprintln!("错误 / error: no such user / 用户不存在");
            Ok(ExitCode::from(1))
        }
        other => Err(other.into()),
    }
}

/// The password from stdin, or `None` (after telling the user) when it is too short.
fn read_checked_password() -> anyhow::Result<Option<String>> {
    let password = read_password()?;
    if password.chars().count() < MIN_PASSWORD_LEN {
        eprintln!(
            "错误 / error: password: at least {MIN_PASSWORD_LEN} characters on stdin / 密码至少 \
             {MIN_PASSWORD_LEN} 个字符"
        );
        return Ok(None);
    }
    Ok(Some(password))
}

async fn add(a: AddArgs) -> anyhow::Result<ExitCode> {
    let Some(password) = read_checked_password()? else {
        return Ok(ExitCode::from(1));
    };
    let store = open_install(&a.install.install, a.install.database.as_deref()).await?;
    let phc = tokio::task::spawn_blocking(move || auth::hash_password(&password)).await??;
    let user = NewUser {
        name: a.name.clone(),
        role: a.role,
        unit_id: a.unit,
        grid_codes: a.grid,
        password_hash: Some(phc),
    };
    let result = store
        .create_user(
            &user,
            &NewAudit::system("m110 user add", "user.create", None),
        )
        .await;
    store.close().await;
    match result {
        Ok(id) => {
            println!(
                "已添加用户 / user added: {} ({} {}) id={id}",
                a.name,
                a.role,
                a.role.name_zh()
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => report(e),
    }
}

async fn list(a: InstallArgs) -> anyhow::Result<ExitCode> {
    let store = open_install(&a.install, a.database.as_deref()).await?;
    let users = store.users().await;
    store.close().await;
    for u in users? {
        println!(
            "{}\t{}\t{}\t{}\t{}{}",
            u.id,
            u.name,
            u.role,
            u.unit_id.as_deref().unwrap_or("-"),
            if u.grid_codes.is_empty() {
                "-".to_string()
            } else {
                u.grid_codes.join(",")
            },
            if u.disabled {
                "\tdisabled/已停用"
            } else {
                ""
            }
        );
    }
    Ok(ExitCode::SUCCESS)
}

async fn set_disabled(a: NameArgs, disabled: bool) -> anyhow::Result<ExitCode> {
    let store = open_install(&a.install.install, a.install.database.as_deref()).await?;
    let result = async {
        let user = store.user_by_name(&a.name).await?;
        store.set_user_disabled(user.id, disabled).await?;
        let target = format!("user:{}", user.id);
        let action = if disabled {
            "user.disable"
        } else {
            "user.enable"
        };
        store
            .audit(&NewAudit::system("m110 user", action, Some(&target)))
            .await?;
        Ok::<_, StoreError>(())
    }
    .await;
    store.close().await;
    match result {
        Ok(()) => {
            println!(
                "{} / {}: {}",
                if disabled { "已停用" } else { "已启用" },
                if disabled { "disabled" } else { "enabled" },
                a.name
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => report(e),
    }
}

async fn unlock(a: NameArgs) -> anyhow::Result<ExitCode> {
    let store = open_install(&a.install.install, a.install.database.as_deref()).await?;
    let result = async {
        let user = store.user_by_name(&a.name).await?;
        store
            .unlock_user(user.id, &NewAudit::system("m110 user", "user.unlock", None))
            .await
    }
    .await;
    store.close().await;
    match result {
        Ok(had) => {
            println!(
                "已解除锁定 / unlocked: {}{}",
                a.name,
                if had {
                    ""
                } else {
                    " (没有失败记录 / had no failed logins)"
                }
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => report(e),
    }
}

async fn set_password(a: PasswordArgs) -> anyhow::Result<ExitCode> {
    let Some(password) = read_checked_password()? else {
        return Ok(ExitCode::from(1));
    };
    let args = a.user;
    let store = open_install(&args.install.install, args.install.database.as_deref()).await?;
    let phc = tokio::task::spawn_blocking(move || auth::hash_password(&password)).await??;
    let result = async {
        let user = store.user_by_name(&args.name).await?;
        store.set_password_hash(user.id, &phc).await?;
        let target = format!("user:{}", user.id);
        store
            .audit(&NewAudit::system(
                "m110 user password",
                "user.password",
                Some(&target),
            ))
            .await?;
        Ok::<_, StoreError>(())
    }
    .await;
    store.close().await;
    match result {
        Ok(()) => {
            println!("已设置密码 / password set: {}", args.name);
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => report(e),
    }
}
