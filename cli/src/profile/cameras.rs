/*!
The profile's cameras: the checks one camera must pass (shared by the YAML list, reported at
`cameras[i].field`, and the `cameras_csv` file, reported at its line and column), reading that
CSV, and compiling both into the model with each camera's live-view link filled in from its
platform's `camera_link` template.
*/

use std::collections::{HashMap, HashSet};
use std::path::Path;

use m110_runtime::model::{CAMERA_KINDS, Camera, LatLon};

use super::csvdata::read_table;
use super::diag::{Diagnostic, Diagnostics};
use super::raw::{RawCamera, RawProfile};

/// CSV columns of `cameras_csv`.
pub const CSV_COLUMNS: &[&str] = &["id", "name", "kind", "grid", "lat", "lon", "platform"];

/// What a camera is checked against.
pub struct CameraRefs<'a> {
    pub grid_codes: &'a HashSet<String>,
    /// Ids of the profile's camera_network platforms.
    pub platforms: Vec<&'a str>,
}

impl<'a> CameraRefs<'a> {
    pub fn new(raw: &'a RawProfile, grid_codes: &'a HashSet<String>) -> CameraRefs<'a> {
        CameraRefs {
            grid_codes,
            platforms: raw
                .existing_platforms
                .iter()
                .filter(|p| p.kind == "camera_network")
                .map(|p| p.id.as_str())
                .collect(),
        }
    }
}

/// The problems of one camera: (field, message, fix).
pub fn problems(c: &RawCamera, refs: &CameraRefs<'_>) -> Vec<(&'static str, String, String)> {
    let mut out = Vec::new();
    let id = c.id.trim();
    if id.is_empty()
        || id.len() > 64
        || !id
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || "-_.".contains(ch))
    {
        out.push((
            "id",
            format!("`{}` is not a camera id", c.id),
            "the platform's camera id: letters, digits, '-', '_' or '.', up to 64".into(),
        ));
    }
    if c.name.trim().is_empty() {
        out.push((
            "name",
            "must not be empty".into(),
            "where it stands, e.g. 五一九路与中山路口".into(),
        ));
    }
    if let Some(k) = &c.kind
        && !CAMERA_KINDS.contains(&k.as_str())
    {
        out.push((
            "kind",
            format!("unknown camera kind `{k}`"),
            format!("use {}", CAMERA_KINDS.join(", ")),
        ));
    }
    if let Some(g) = &c.grid
        && !refs.grid_codes.contains(g.trim())
    {
        out.push((
            "grid",
            format!("unknown grid unit `{g}`"),
            "use the code of a grid unit under grid.units (or generated for it)".into(),
        ));
    }
    match (c.lat, c.lon) {
        (Some(lat), _) if !(-90.0..=90.0).contains(&lat) => out.push((
            "lat",
            format!("latitude {lat} is out of range"),
            "−90 to 90, e.g. 27.34".into(),
        )),
        (_, Some(lon)) if !(-180.0..=180.0).contains(&lon) => out.push((
            "lon",
            format!("longitude {lon} is out of range"),
            "−180 to 180, e.g. 117.48".into(),
        )),
        (Some(_), None) => out.push((
            "lon",
            "lat without lon".into(),
            "give both or neither".into(),
        )),
        (None, Some(_)) => out.push((
            "lat",
            "lon without lat".into(),
            "give both or neither".into(),
        )),
        (None, None) if c.grid.is_none() => out.push((
            "grid",
            "a camera needs a place".into(),
            "give its grid unit (grid:) or its coordinates (lat:, lon:), or both".into(),
        )),
        _ => {}
    }
    match &c.platform {
        Some(p) if !refs.platforms.contains(&p.trim()) => out.push((
            "platform",
            format!("`{p}` is not a camera_network platform of this profile"),
            if refs.platforms.is_empty() {
                "add the camera platform to existing_platforms (kind: camera_network)".into()
            } else {
                format!("use one of: {}", refs.platforms.join(", "))
            },
        )),
        _ => {}
    }
    out
}

/// Reads `cameras_csv` (the file was checked to exist), reporting every bad row at its line and
/// column; duplicates of `seen` ids (the YAML list's and earlier rows') are errors too.
pub fn load_csv(
    file: &Path,
    refs: &CameraRefs<'_>,
    seen: &mut HashSet<String>,
    diags: &mut Diagnostics,
) -> Vec<RawCamera> {
    let key = "cameras_csv";
    let Some(t) = read_table(file, key, CSV_COLUMNS, &["id", "name"], diags) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (line, row) in &t.rows {
        let mut bad = false;
        let num = |col: &str, diags: &mut Diagnostics, bad: &mut bool| -> Option<f64> {
            let v = t.get(row, col)?;
            match v.parse::<f64>() {
                Ok(x) if x.is_finite() => Some(x),
                _ => {
                    diags.push(Diagnostic::new(
                        file,
                        (*line, t.col(col)),
                        format!("{key}.{col}"),
                        format!("`{v}` is not a number"),
                        "decimal degrees, e.g. 27.34",
                    ));
                    *bad = true;
                    None
                }
            }
        };
        let cam = RawCamera {
            id: t.get(row, "id").unwrap_or_default(),
            name: t.get(row, "name").unwrap_or_default(),
            kind: t.get(row, "kind"),
            grid: t.get(row, "grid"),
            lat: num("lat", diags, &mut bad),
            lon: num("lon", diags, &mut bad),
            platform: t.get(row, "platform"),
        };
        for (field, message, hint) in problems(&cam, refs) {
            diags.push(Diagnostic::new(
                file,
                (*line, t.col(field)),
                format!("{key}.{field}"),
                message,
                hint,
            ));
            bad = true;
        }
        if !seen.insert(cam.id.clone()) {
            diags.push(Diagnostic::new(
                file,
                (*line, t.col("id")),
                format!("{key}.id"),
                format!("duplicate camera id `{}`", cam.id),
                "give each camera its own id",
            ));
            bad = true;
        }
        if !bad {
            out.push(cam);
        }
    }
    out
}

/// The model's cameras: the list, then the CSV's, each with its platform's link.
pub fn compile(raw: &RawProfile, from_csv: Vec<RawCamera>) -> Vec<Camera> {
    let links: HashMap<&str, &str> = raw
        .existing_platforms
        .iter()
        .filter_map(|p| Some((p.id.as_str(), p.camera_link.as_deref()?)))
        .collect();
    raw.cameras
        .iter()
        .cloned()
        .chain(from_csv)
        .map(|c| {
            let id = c.id.trim().to_string();
            let platform = c.platform.as_deref().map(str::trim).map(String::from);
            let link = platform
                .as_deref()
                .and_then(|p| links.get(p))
                .map(|t| t.replace("{id}", &url_component(&id)));
            Camera {
                name: c.name.trim().to_string(),
                kind: c.kind.unwrap_or_else(|| "other".into()),
                grid: c.grid.map(|g| g.trim().to_string()),
                location: c.lat.zip(c.lon).map(|(lat, lon)| LatLon { lat, lon }),
                platform,
                link,
                id,
            }
        })
        .collect()
}

/// Percent-encodes what a camera id may hold beyond URL-safe characters (it is checked to be
/// letters, digits, '-', '_' and '.', so this is a guard, not a transformation).
fn url_component(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
