/*!
Drafts: profiles that still carry `FILL_IN` markers, loaded anyway for readiness reports
(`m110 compare`), with a **completeness** report of what is left to fill in.

[`load`](super::load) refuses a profile with markers, which is right for `plan`, `generate` and
`provision`: a kit built on a guessed population is worse than none. A provincial coordinator
comparing counties that are halfway through their profiles needs the opposite — everything that
*can* be computed, and a clear list of what is still blank. [`load_draft`] runs the same stages
as `load` with one difference:

- every `FILL_IN` value is remembered as a [`Blank`] (field path, line, column) and replaced by a
  neutral placeholder before deserialising: an optional phone or hotline is left out, a
  contact's name becomes `待填写`, and a number that may hold the marker (population, area,
  households) stays the marker, which compiles to "unknown" (0 / none);
- a problem reported *at* a blank (or inside it) is the blank itself and is dropped;
- every other problem fails exactly as in `load`.

Completeness counts the values a person supplies by hand — the kinds `m110 init` leaves as
`FILL_IN`: the region's population and area, units' hotlines, contacts' names and phones, grid
units' population and households — wherever the profile has them, plus any other field someone
marked `FILL_IN`. A value is filled when it is not the marker. Counts are kept overall and per
top-level section (`region`, `units`, `grid` …).
*/

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use m110_runtime::model::Region;
use serde::Serialize;
use serde_yaml::Value;
use sha2::{Digest, Sha256};

use super::diag::Diagnostics;
use super::raw::{FILL_IN, RawProfile};
use super::{validate, yaml};

/// What a blank contact name compiles to (a name is required; the marker is not a name).
pub const BLANK_NAME: &str = "待填写";

/// One value still to be filled in by hand.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Blank {
    /// Field path, e.g. `units[3].hotline`.
    pub field: String,
    /// Top-level section, e.g. `units`.
    pub section: String,
    pub line: usize,
    pub col: usize,
}

/// Filled and total hand-supplied values of one section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SectionCount {
    pub section: String,
    pub filled: usize,
    pub total: usize,
}

/// How much of a profile is filled in (see the module docs for what counts).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Completeness {
    pub filled: usize,
    pub total: usize,
    /// Sections with at least one counted value, in document order.
    pub sections: Vec<SectionCount>,
    /// Every blank, in document order.
    pub blanks: Vec<Blank>,
}

impl Completeness {
    /// Filled share in percent, rounded down so 99.6 % never shows as a complete 100 %.
    pub fn percent(&self) -> u32 {
        (self.filled * 100)
            .checked_div(self.total)
            .map_or(100, |p| p as u32)
    }

    pub fn is_complete(&self) -> bool {
        self.blanks.is_empty()
    }

    /// True when the value at `field` (exactly) is still `FILL_IN`.
    pub fn is_blank(&self, field: &str) -> bool {
        self.blanks.iter().any(|b| b.field == field)
    }
}

/// A profile loaded with its blanks tolerated.
#[derive(Debug, Clone)]
pub struct Draft {
    pub path: PathBuf,
    /// SHA-256 (lowercase hex) of the profile file's bytes.
    pub sha256: String,
    /// The compiled region, blanks replaced by neutral placeholders (module docs).
    pub region: Region,
    pub completeness: Completeness,
    /// Routing-coverage warnings, as [`super::Loaded::warnings`].
    pub warnings: Vec<super::Diagnostic>,
}

/// Loads a profile that may still have `FILL_IN` markers; fails on every other problem, with
/// the same diagnostics as [`super::load`].
pub fn load_draft(path: &Path) -> Result<Draft, Diagnostics> {
    let text = yaml::read_capped(path, "profile").map_err(Diagnostics::from)?;
    let sha256 = hex::encode(Sha256::digest(text.as_bytes()));
    let (value, index) = yaml::parse(path, &text)?;

    // The marker scan that makes `load` fail is the list of blanks here.
    let mut markers = Diagnostics::default();
    validate::markers(path, &value, &index, &mut markers);
    let blanks: Vec<Blank> = markers
        .iter()
        .map(|d| Blank {
            section: section_of(&d.field).to_string(),
            field: d.field.clone(),
            line: d.line,
            col: d.col,
        })
        .collect();
    let completeness = count(&value, blanks);

    let mut work = value;
    for b in &completeness.blanks {
        substitute(&mut work, &b.field);
    }
    let (raw, structural) = yaml::deserialize_lenient::<RawProfile>(path, &work, &index);
    let Some(raw) = raw else {
        // The structure itself is broken; report it all, blanks included, as `load` would.
        let mut d = structural;
        d.sort();
        return Err(d);
    };
    // The same stages as `load` (one function), a problem at a blank excused.
    let (region, _, warnings) = super::finish(path, raw, &index, structural, &|d| {
        completeness
            .blanks
            .iter()
            .any(|b| within(&d.field, &b.field))
    })?;
    Ok(Draft {
        path: path.to_path_buf(),
        sha256,
        region,
        completeness,
        warnings,
    })
}

/// `field` is `blank` or lies inside it (`a.b` is inside `a`, `a[2].c` inside `a[2]`).
fn within(field: &str, blank: &str) -> bool {
    field
        .strip_prefix(blank)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with(['.', '[']))
}

/// `units[3].hotline` → `units`.
fn section_of(field: &str) -> &str {
    field.split(['.', '[']).next().unwrap_or(field)
}

/// Last key of a path and the path of its parent: `units[1].contacts[0].name` →
/// (`name`, `units[1].contacts[0]`).
fn last_key(path: &str) -> (&str, &str) {
    match path.rfind('.') {
        Some(i) => (&path[i + 1..], &path[..i]),
        None => (path, ""),
    }
}

/// Whether the value at `path` is one a person supplies by hand (module docs).
fn hand_filled(path: &str) -> bool {
    let (key, parent) = last_key(path);
    match key {
        "population" | "households" => path == "region.population" || parent.starts_with("grid"),
        "area_km2" => path == "region.area_km2",
        "hotline" => parent.starts_with("units["),
        "name" | "phone" => parent.starts_with("units[") && parent.contains(".contacts["),
        _ => false,
    }
}

/// Counts hand-filled values (and every blank) overall and by section.
fn count(value: &Value, blanks: Vec<Blank>) -> Completeness {
    let mut counted: Vec<(String, bool)> = Vec::new();
    yaml::walk_scalars(value, &mut |path, v| {
        let blank = matches!(v, Value::String(s) if s.starts_with(FILL_IN));
        if blank || hand_filled(path) {
            counted.push((path.to_string(), !blank));
        }
    });
    let mut order: Vec<String> = Vec::new();
    let mut by: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for (path, filled) in &counted {
        let s = section_of(path).to_string();
        let e = by.entry(s.clone()).or_insert_with(|| {
            order.push(s);
            (0, 0)
        });
        e.0 += usize::from(*filled);
        e.1 += 1;
    }
    Completeness {
        filled: counted.iter().filter(|(_, f)| *f).count(),
        total: counted.len(),
        sections: order
            .into_iter()
            .map(|s| {
                let (filled, total) = by[&s];
                SectionCount {
                    section: s,
                    filled,
                    total,
                }
            })
            .collect(),
        blanks,
    }
}

/// Replaces the blank at `field` by its neutral placeholder (module docs).
fn substitute(value: &mut Value, field: &str) {
    let (key, parent) = last_key(field);
    let Some(Value::Mapping(m)) = node_mut(value, parent) else {
        return;
    };
    match key {
        // Optional: absent is the honest "unknown", and no fake number reaches the model.
        "hotline" | "phone" => {
            m.remove(key);
        }
        "name" if parent.contains(".contacts[") => {
            m.insert(Value::from(key), Value::from(BLANK_NAME));
        }
        _ => {}
    }
}

/// The node at a marker-scan path (`a.b[2].c`); `""` is the root.
fn node_mut<'v>(value: &'v mut Value, path: &str) -> Option<&'v mut Value> {
    let mut cur = value;
    if path.is_empty() {
        return Some(cur);
    }
    for part in path.split('.') {
        let (key, indexes) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if !key.is_empty() {
            cur = match cur {
                Value::Mapping(m) => m.get_mut(key)?,
                _ => return None,
            };
        }
        for ix in indexes.split('[').filter(|s| !s.is_empty()) {
            let i: usize = ix.trim_end_matches(']').parse().ok()?;
            cur = match cur {
                Value::Sequence(v) => v.get_mut(i)?,
                _ => return None,
            };
        }
    }
    Some(cur)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, text: &str) -> PathBuf {
        let p = dir.join("p.yaml");
        std::fs::write(&p, text).unwrap();
        p
    }

    const DRAFT: &str = r#"version: 1
division_edition: "test"
region:
  code: "350781"
  name: 邵武市
  population: FILL_IN
  area_km2: 2852.5
grid:
  tiers:
    - {key: township, name: 乡镇/街道}
    - {key: cell, name: 网格}
  units:
    - {code: "350781100", name: 昭阳街道, population: 5000}
  cells: {per_unit: 2}
units:
  - id: civil-affairs
    kind: department
    name: 邵武市民政局
    hotline: FILL_IN
    contacts: [{name: FILL_IN, role: 联络员, phone: FILL_IN}]
  - {id: water, kind: department, name: 自来水公司, hotline: "0599-6332345"}
  - {id: police-110, kind: police, name: 邵武市公安局110指挥中心, hotline: "110"}
routing:
  rules:
    - {category: assistance, unit: civil-affairs}
"#;

    #[test]
    fn a_draft_reads_its_units_file_like_a_profile() {
        // The draft shares `load`'s pipeline: a routing rule may name a unit of the units file.
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(
            tmp.path().join("units.csv"),
            "id,name,kind,hotline\nhousing,邵武市住建局,department,0599-6332000\n",
        )
        .unwrap();
        let text = DRAFT
            .replace("units:\n  - id: civil-affairs", "units_file: units.csv\nunits:\n  - id: civil-affairs")
            .replace(
                "    - {category: assistance, unit: civil-affairs}",
                "    - {category: assistance, unit: civil-affairs}\n    - {category: housing, unit: housing}",
            );
        let d = load_draft(&write(tmp.path(), &text)).unwrap_or_else(|e| panic!("{e}"));
        assert!(d.region.units.iter().any(|u| u.id == "housing"));
        assert!(!d.completeness.is_complete());
    }

    #[test]
    fn blanks_are_tolerated_and_counted_by_section() {
        let tmp = tempfile::tempdir().unwrap();
        let d = load_draft(&write(tmp.path(), DRAFT)).unwrap();
        let c = &d.completeness;
        let fields: Vec<_> = c.blanks.iter().map(|b| b.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "region.population",
                "units[0].hotline",
                "units[0].contacts[0].name",
                "units[0].contacts[0].phone"
            ]
        );
        assert_eq!(c.blanks[0].line, 6);
        // region: population (blank), area; grid: one unit population; units: 3 hotlines (one
        // blank), a contact's name and phone (both blank).
        assert_eq!((c.filled, c.total), (4, 8));
        assert_eq!(c.percent(), 50);
        let s: Vec<_> = c
            .sections
            .iter()
            .map(|s| (s.section.as_str(), s.filled, s.total))
            .collect();
        assert_eq!(s, [("region", 1, 2), ("grid", 1, 1), ("units", 2, 5)]);
        assert!(c.is_blank("region.population") && !c.is_blank("region.area_km2"));
        // Neutral placeholders: unknown population, no fake hotline, a visible blank name.
        assert_eq!(d.region.info.population, 0);
        let u = d
            .region
            .units
            .iter()
            .find(|u| u.id == "civil-affairs")
            .unwrap();
        assert_eq!(u.hotline, None);
        assert_eq!(u.contacts[0].name, BLANK_NAME);
        assert_eq!(u.contacts[0].phone, None);
    }

    #[test]
    fn other_problems_still_fail() {
        let tmp = tempfile::tempdir().unwrap();
        let bad = DRAFT.replace("unit: civil-affairs", "unit: no-such-unit");
        let err = load_draft(&write(tmp.path(), &bad)).unwrap_err();
        assert_eq!(err.len(), 1, "{err}");
        assert_eq!(err.0[0].field, "routing.rules[0].unit");
        let bad = DRAFT.replace("hotline: \"0599-6332345\"", "hotline: call-us");
        let err = load_draft(&write(tmp.path(), &bad)).unwrap_err();
        assert_eq!(err.0[0].field, "units[1].hotline", "{err}");
    }

    #[test]
    fn a_problem_at_a_blank_is_the_blank() {
        let tmp = tempfile::tempdir().unwrap();
        // A marker where a unit id is expected: validation would call it a bad reference.
        let text = DRAFT.replace("unit: civil-affairs", "unit: FILL_IN");
        let d = load_draft(&write(tmp.path(), &text)).unwrap();
        assert!(d.completeness.is_blank("routing.rules[0].unit"));
        assert_eq!(d.completeness.sections.last().unwrap().section, "routing");
    }

    #[test]
    fn a_complete_profile_loads_as_load_does() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../profiles/shaowu.yaml");
        let loaded = crate::profile::load(&path).unwrap();
        let d = load_draft(&path).unwrap();
        assert_eq!(d.region, loaded.region);
        assert_eq!(d.sha256, loaded.sha256);
        assert!(d.completeness.is_complete());
        assert_eq!(d.completeness.percent(), 100);
        assert!(d.completeness.total > 2, "{:?}", d.completeness);
    }

    #[test]
    fn paths_and_nodes() {
        assert!(within("units[1].hotline", "units[1]"));
        assert!(within("units[1]", "units[1]"));
        assert!(!within("units[10]", "units[1]"));
        assert_eq!(section_of("existing_platforms[0].id"), "existing_platforms");
        let mut v: Value = serde_yaml::from_str("a:\n  b: [{c: 1}, {c: [5, 6]}]\n").unwrap();
        assert_eq!(node_mut(&mut v, "a.b[1].c[1]"), Some(&mut Value::from(6)));
        assert_eq!(node_mut(&mut v, "a.x"), None);
    }
}
