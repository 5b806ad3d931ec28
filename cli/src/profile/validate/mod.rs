/*!
Semantic checks of a structurally valid profile: every rule `m110 validate` enforces beyond
"the YAML has the right shape". Each check reports at the exact line and column of the offending
value and keeps going, so one run lists every problem.

Lookups go through hash maps built once, so a province-wide profile (tens of thousands of grid
units) validates in linear time.

Entry points are [`validate()`] (the semantic checks, one submodule per profile section, run in
document order) and [`markers()`] (the `FILL_IN` scan). This file holds the shared reporting
context; each section's checks live in their own file.
*/

mod appraisal;
mod cameras;
mod categories;
mod directories;
mod grid;
mod markers;
mod platforms;
mod region;
mod renames;
mod routing;
mod service_center;
mod units;

use std::collections::HashSet;
use std::path::Path;

use super::compile::TierError;
use super::diag::{Diagnostic, Diagnostics};
use super::formats::{PHONE_HINT, is_phone};
use super::raw::{FILL_IN, Fill, RawProfile};
use super::yaml::PosIndex;

use appraisal::check_appraisal;
use cameras::check_cameras;
use categories::check_categories;
use directories::check_directories_exist;
use grid::check_grid;
pub use markers::markers;
use platforms::{check_platforms, check_unit_platforms};
use region::check_region;
pub use region::region_prefix;
use renames::check_renames;
use routing::check_routing;
use service_center::check_service_center;
use units::{check_unit_categories, check_units};

/// What validation learned that compilation reuses.
pub struct Checked {
    pub levels: Vec<Result<u8, TierError>>,
    /// Every grid code, listed and generated (for CSV `grid` columns).
    pub grid_codes: HashSet<String>,
    pub unit_ids: HashSet<String>,
}

struct Ctx<'a> {
    file: &'a Path,
    index: &'a PosIndex,
    diags: &'a mut Diagnostics,
}

impl Ctx<'_> {
    fn err(&mut self, path: &str, message: impl Into<String>, hint: impl Into<String>) {
        let at = self.index.locate(path);
        self.diags
            .push(Diagnostic::new(self.file, at, path, message, hint));
    }

    /// Reports a non-marker string in a numeric field, and non-positive values.
    fn positive_u64(&mut self, path: &str, v: &Fill<u64>) {
        match v {
            Fill::Value(0) => self.err(path, "must be positive", "enter a number above 0"),
            Fill::Value(_) => {}
            Fill::Marker(s) if s.starts_with(FILL_IN) => {} // reported by the marker scan
            Fill::Marker(s) => self.err(
                path,
                format!("expected a whole number, found text `{s}`"),
                "write digits only, e.g. 300000",
            ),
        }
    }

    fn positive_f64(&mut self, path: &str, v: &Fill<f64>) {
        match v {
            Fill::Value(x) if !(x.is_finite() && *x > 0.0) => {
                self.err(path, "must be a positive number", "e.g. 2852.5")
            }
            Fill::Value(_) => {}
            Fill::Marker(s) if s.starts_with(FILL_IN) => {}
            Fill::Marker(s) => self.err(
                path,
                format!("expected a number, found text `{s}`"),
                "write a number without units, e.g. 2852.5",
            ),
        }
    }

    fn phone(&mut self, path: &str, s: &str) {
        if !s.starts_with(FILL_IN) && !is_phone(s) {
            self.err(path, format!("`{s}` is not a phone number"), PHONE_HINT);
        }
    }

    fn non_empty(&mut self, path: &str, s: &str) {
        if s.trim().is_empty() {
            self.err(path, "must not be empty", "write a value");
        }
    }
}

/// Runs every semantic check; `base` is the profile's directory (for referenced files).
pub fn validate(
    file: &Path,
    base: &Path,
    raw: &RawProfile,
    index: &PosIndex,
    diags: &mut Diagnostics,
) -> Checked {
    let mut c = Ctx { file, index, diags };

    if raw.version != 1 {
        c.err(
            "version",
            format!("unsupported format version {}", raw.version),
            "this kit reads version: 1",
        );
    }
    c.non_empty("division_edition", &raw.division_edition);

    check_region(&mut c, raw);
    check_service_center(&mut c, raw);
    let (levels, grid_codes) = check_grid(&mut c, raw);
    let unit_ids = check_units(&mut c, raw, &grid_codes);
    let category_codes = check_categories(&mut c, raw);
    check_unit_categories(&mut c, raw, &category_codes);
    check_routing(&mut c, raw, &grid_codes, &unit_ids, &category_codes);
    check_platforms(&mut c, raw, base);
    check_cameras(&mut c, raw, base, &grid_codes);
    check_unit_platforms(&mut c, raw);
    check_renames(&mut c, raw);
    check_directories_exist(&mut c, raw, base);
    check_appraisal(&mut c, raw);
    Checked {
        levels,
        grid_codes,
        unit_ids,
    }
}

/// Reports `rel` (relative to `base`) unless it names an existing file.
fn check_file(c: &mut Ctx<'_>, path: &str, base: &Path, rel: &str) {
    let full = base.join(rel);
    if !full.is_file() {
        let why = if full.is_dir() {
            "is a directory"
        } else {
            "does not exist"
        };
        c.err(
            path,
            format!("file `{rel}` {why} (looked at {})", full.display()),
            "paths are relative to the profile file",
        );
    }
}
