//! `m110 contacts export`: a profile's current hotlines and contacts as the contacts sheet — the
//! same layout `m110 init` writes, so the sheet can be refreshed after the YAML was edited.

use std::path::Path;

use super::{Error, read_profile, sheet};

/// The workbook of the profile at `path` and its number of data rows. The profile may still have
/// FILL_IN values (they become blank cells) or other semantic problems.
pub fn workbook(path: &Path) -> Result<(Vec<u8>, usize), Error> {
    let p = read_profile(path)?;
    let rows = sheet::rows_of(&p.raw.units);
    let bytes = sheet::write(&rows, p.raw.region.name.trim())?;
    Ok((bytes, rows.len()))
}
