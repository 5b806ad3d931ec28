/*!
Region profiles: read a YAML profile, check it, and compile it into the region model.

[`load`] is the one entry point the rest of the kit uses (`plan`, `generate`, `compare`, …):

```text
file ─▶ yaml::read_capped ─▶ yaml::parse (Value + position index) ─▶ yaml::deserialize (raw)
     ─▶ validate (semantic checks) ─▶ csvdata (directory CSVs) ─▶ compile ─▶ Region
```

Every stage adds [`Diagnostic`]s instead of stopping at the first problem; `load` fails with all
of them, sorted by position. Only this module tree knows the profile format.
*/

pub mod cameras;
pub mod compile;
pub mod coverage;
pub mod csvdata;
pub mod diag;
pub mod draft;
pub mod duties;
pub mod formats;
pub mod patch;
pub mod raw;
pub mod schema;
pub mod starter;
pub mod taxonomy;
pub mod units_file;
pub mod validate;
pub mod yaml;

use std::path::{Path, PathBuf};

use m110_runtime::engine::upgrade::Rename;
use m110_runtime::model::Region;
use sha2::{Digest, Sha256};

pub use diag::{Diagnostic, Diagnostics};

/// A profile that parsed, validated and compiled.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub path: PathBuf,
    /// SHA-256 (lowercase hex) of the profile file's bytes.
    pub sha256: String,
    pub region: Region,
    /// Code changes the profile declares (`renamed_from`), for `m110 upgrade`.
    pub renames: Vec<Rename>,
    /// What is valid but likely wrong (routing coverage, `coverage.rs`), by position.
    pub warnings: Vec<Diagnostic>,
}

/// Parses, validates and compiles the profile at `path`; on failure returns every problem.
pub fn load(path: &Path) -> Result<Loaded, Diagnostics> {
    let text = yaml::read_capped(path, "profile").map_err(Diagnostics::from)?;
    let sha256 = hex::encode(Sha256::digest(text.as_bytes()));
    let (value, index) = yaml::parse(path, &text)?;
    let mut diags = Diagnostics::default();
    validate::markers(path, &value, &index, &mut diags);
    let (raw, structural) = yaml::deserialize_lenient::<raw::RawProfile>(path, &value, &index);
    diags.0.extend(structural.0);
    let Some(raw) = raw else {
        diags.sort();
        return Err(diags);
    };
    let (region, renames, warnings) = finish(path, raw, &index, diags, &|_| false)?;
    Ok(Loaded {
        path: path.to_path_buf(),
        sha256,
        region,
        renames,
        warnings,
    })
}

/// The stages after the typed read, shared by [`load`] and [`draft::load_draft`] so the two
/// cannot drift apart: the units file, validation, the CSV data, then — when no problem is left
/// that `excused` does not excuse (a draft's blanks) — compile, renames and coverage warnings.
pub(crate) fn finish(
    path: &Path,
    mut raw: raw::RawProfile,
    index: &yaml::PosIndex,
    mut diags: Diagnostics,
    excused: &dyn Fn(&Diagnostic) -> bool,
) -> Result<(Region, Vec<Rename>, Vec<Diagnostic>), Diagnostics> {
    let base = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    // Before validation, so routing rules and directory rows may name the file's units.
    if let Some(rel) = raw.units_file.clone() {
        let file = base.join(&rel);
        if file.is_file() {
            raw.units_from_file = units_file::load(&file, &raw.units, &mut diags);
        } else {
            diags.push(Diagnostic::new(
                path,
                index.locate("units_file"),
                "units_file",
                format!("file `{rel}` does not exist (looked at {})", file.display()),
                "paths are relative to the profile file",
            ));
        }
    }
    let checked = validate::validate(path, base, &raw, index, &mut diags);
    let (directory, households) = match &raw.directories {
        Some(d) => csvdata::load(base, d, &checked.grid_codes, &checked.unit_ids, &mut diags),
        None => (Vec::new(), Vec::new()),
    };
    let csv_cameras = match &raw.cameras_csv {
        Some(rel) if base.join(rel).is_file() => {
            let refs = cameras::CameraRefs::new(&raw, &checked.grid_codes);
            let mut seen = raw
                .cameras
                .iter()
                .map(|c| c.id.trim().to_string())
                .collect();
            cameras::load_csv(&base.join(rel), &refs, &mut seen, &mut diags)
        }
        _ => Vec::new(),
    };
    diags.0.retain(|d| !excused(d));
    if !diags.is_empty() {
        diags.sort();
        return Err(diags);
    }
    let from_file = std::mem::take(&mut raw.units_from_file);
    raw.units.extend(from_file.into_iter().map(|f| f.unit));
    let mut region = compile::compile(&raw, &checked.levels, directory, households);
    region.cameras = cameras::compile(&raw, csv_cameras);
    let warnings = coverage::warnings(path, &raw, index, &region);
    Ok((region, renames(&raw), warnings))
}

/// Every `renamed_from` of units, grid units and categories.
fn renames(raw: &raw::RawProfile) -> Vec<Rename> {
    let mut out = Vec::new();
    let mut add = |kind, from: &Option<String>, to: &str| {
        if let Some(f) = from.as_deref().map(str::trim).filter(|f| !f.is_empty()) {
            out.push(Rename {
                kind,
                from: f.to_string(),
                to: to.to_string(),
            });
        }
    };
    for u in &raw.units {
        add("units", &u.renamed_from, &u.id);
    }
    for g in &raw.grid.units {
        add("grid_units", &g.renamed_from, &g.code);
    }
    for c in &raw.categories {
        add("categories", &c.renamed_from, &c.code);
    }
    out
}
