//! Loading profiles for the subcommands that need a valid one (plan, generate, compare).

use std::path::Path;

use m110::profile::{self, Loaded};

/// Loads a profile; on failure prints every diagnostic to stderr and returns `None` (exit 1).
pub fn load_or_report(path: &Path) -> Option<Loaded> {
    match profile::load(path) {
        Ok(loaded) => Some(loaded),
        Err(diags) => {
            report(path, &diags);
            None
        }
    }
}

/// Prints a profile's problems to stderr, then the one-line summary.
pub fn report(path: &Path, diags: &profile::Diagnostics) {
    eprintln!("{diags}");
    eprintln!(
        "{}: 配置文件无效，{} 个问题 / invalid profile, {} problem(s); run `m110 validate` after fixing",
        path.display(),
        diags.len(),
        diags.len()
    );
}
