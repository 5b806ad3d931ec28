/*!
Contacts by spreadsheet: the handling units' hotlines and contact people, filled in Excel/WPS
instead of YAML.

- [`sheet`]: the layout (sheet `联系人`: 单位ID, 单位名称, 类型, 服务电话, 联系人, 职务, 联系电话),
  written by `m110 init` beside the profile and by `m110 contacts export`, read by import.
- [`export`]: a profile's current values as that workbook.
- [`import`]: a filled workbook back into the profile, in place ([`crate::profile::patch`]):
  every bad cell reported as `FILE: 联系人!E7: message`, nothing written while any remains.

Only the profile's own `units:` list is in the sheet; units from a `units_file` are edited in
that file. See docs/contacts.md.
*/

pub mod export;
pub mod import;
pub mod sheet;

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::profile::raw::RawProfile;
use crate::profile::yaml::{self, PosIndex};

/// A problem with one cell of the sheet (or with the sheet as a whole: `place` is its name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CellError {
    pub file: PathBuf,
    /// `联系人!E7`.
    pub place: String,
    pub message: String,
    pub hint: String,
}

impl fmt::Display for CellError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {}: {}",
            self.file.display(),
            self.place,
            self.message
        )?;
        if !self.hint.is_empty() {
            write!(f, " (hint: {})", self.hint)?;
        }
        Ok(())
    }
}

/// What can go wrong reading, writing or importing a contacts sheet.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The profile cannot be read as a profile at all (syntax, structure).
    #[error("{path} cannot be read as a profile:\n{diagnostics}")]
    Profile { path: PathBuf, diagnostics: String },
    /// The workbook cannot be read.
    #[error("{path}: {message}")]
    Workbook { path: PathBuf, message: String },
    /// Bad cells: every one of them.
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Cells(Vec<CellError>),
    /// The sheet's values cannot be written into the profile in place.
    #[error("{path}: cannot write in place: {message}")]
    Patch { path: PathBuf, message: String },
    /// The patched profile would have problems the original has not.
    #[error("the updated profile would not validate, nothing written:\n{0}")]
    Invalid(String),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("xlsx: {0}")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
}

impl Error {
    /// True when the input (profile or sheet) is at fault rather than the machine.
    pub fn is_input(&self) -> bool {
        !matches!(self, Error::Io { .. } | Error::Xlsx(_))
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// A profile read as written, even while it still has FILL_IN values or other semantic problems
/// (the starter profile `init` writes does): its text, position index and raw structs.
pub(crate) struct Profile {
    pub text: String,
    pub index: PosIndex,
    pub raw: RawProfile,
}

pub(crate) fn read_profile(path: &Path) -> Result<Profile, Error> {
    let bad = |d: &dyn fmt::Display| Error::Profile {
        path: path.to_path_buf(),
        diagnostics: d.to_string(),
    };
    let text = yaml::read_capped(path, "profile").map_err(|d| bad(&d))?;
    let (value, index) = yaml::parse(path, &text).map_err(|d| bad(&d))?;
    let (raw, diags) = yaml::deserialize_lenient::<RawProfile>(path, &value, &index);
    let raw = raw.ok_or_else(|| bad(&diags))?;
    Ok(Profile { text, index, raw })
}

/// Writes `bytes` to `path` through a temporary sibling and a rename (no half-written file);
/// refuses to replace an existing file unless `force`.
pub fn write_atomic(path: &Path, bytes: &[u8], force: bool) -> Result<(), Error> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(io(dir))?;
    tmp.write_all(bytes).map_err(io(path))?;
    tmp.as_file().sync_all().map_err(io(path))?;
    let done = if force {
        tmp.persist(path).map(drop)
    } else {
        tmp.persist_noclobber(path).map(drop)
    };
    done.map_err(|e| io(path)(e.error))
}

/// Where `m110 init` puts the sheet of a profile: `<profile stem>.contacts.xlsx` beside it
/// (`350781.yaml` → `350781.contacts.xlsx`), so profiles sharing a folder keep their own.
pub fn sheet_path_for(profile: &Path) -> PathBuf {
    let stem = profile
        .file_stem()
        .map_or_else(|| "profile".into(), |s| s.to_string_lossy().into_owned());
    profile.with_file_name(format!("{stem}.contacts.xlsx"))
}

/// What [`write_beside`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Written {
    /// The sheet was written there, with this many rows.
    Wrote(PathBuf, usize),
    /// A file of that name exists and `force` was not given: left alone.
    Exists(PathBuf),
}

/// Writes the contacts sheet of the profile at `profile` beside it (see [`sheet_path_for`]).
pub fn write_beside(profile: &Path, force: bool) -> Result<Written, Error> {
    let out = sheet_path_for(profile);
    if out.exists() && !force {
        return Ok(Written::Exists(out));
    }
    let (bytes, rows) = export::workbook(profile)?;
    write_atomic(&out, &bytes, force)?;
    Ok(Written::Wrote(out, rows))
}
