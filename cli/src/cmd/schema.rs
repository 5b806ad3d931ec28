//! `m110 schema`: print the JSON Schema (draft-07) of the region profile format.

use std::io::Write;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    std::io::stdout().write_all(m110::profile::schema::schema_json().as_bytes())?;
    Ok(ExitCode::SUCCESS)
}
