//! `m110 divisions search TEXT [--villages] [--limit N] [--json]`: find division codes by name,
//! code prefix or pinyin initials, at every level (province down to township, villages on
//! request), with each one's level and full path.

use std::process::ExitCode;

use m110::divisions::search::search;
use m110::divisions::{Divisions, thousands};

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: Sub,
}

#[derive(clap::Subcommand)]
pub enum Sub {
    /// Find divisions by name (兰考, 开封兰考), code prefix (4102) or pinyin initials (lk, kf lk).
    /// Exit 1 when nothing matches.
    Search(SearchArgs),
}

#[derive(clap::Args)]
pub struct SearchArgs {
    /// Name or part of it, code prefix, or pinyin initials. / 名称、代码前缀或拼音首字母。
    pub text: String,
    /// Also search the 620,573 villages/communities (slower). / 同时搜索村/社区。
    #[arg(long)]
    pub villages: bool,
    /// Show at most N matches (0: all); the count of the rest is printed.
    #[arg(long, default_value_t = 20, value_name = "N")]
    pub limit: usize,
    /// Print JSON: {"query", "total", "matches": [{code, level, name, path, initials}]}.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.command {
        Sub::Search(a) => run_search(a),
    }
}

fn run_search(a: SearchArgs) -> anyhow::Result<ExitCode> {
    let d = Divisions::embedded();
    let hits = search(d, &a.text, a.villages)?;
    let total = hits.len();
    let shown = if a.limit == 0 {
        &hits[..]
    } else {
        &hits[..total.min(a.limit)]
    };
    if a.json {
        let matches: Vec<serde_json::Value> = shown
            .iter()
            .map(|f| {
                serde_json::json!({
                    "code": f.code,
                    "level": f.level.key(),
                    "name": f.name,
                    "path": f.path,
                    "initials": f.initials(),
                })
            })
            .collect();
        let doc = serde_json::json!({"query": a.text, "total": total, "matches": matches});
        println!("{}", serde_json::to_string_pretty(&doc)?);
    } else {
        for f in shown {
            println!(
                "{:<12} {} {:<10} {} ({})",
                f.code,
                f.level.label(),
                f.level.key(),
                f.path.join(" / "),
                f.initials()
            );
        }
        if total > shown.len() {
            println!(
                "… and {} more (--limit 0 shows all) / 另有 {} 条",
                thousands(total - shown.len()),
                thousands(total - shown.len())
            );
        }
    }
    if total == 0 {
        eprintln!(
            "no division matches `{}`{} / 未找到匹配的区划",
            a.text.trim(),
            if a.villages {
                ""
            } else {
                " (add --villages to search villages/communities too)"
            }
        );
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}
