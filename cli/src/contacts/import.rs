/*!
`m110 contacts import FILE.xlsx PROFILE`: a filled contacts sheet back into the profile.

Two passes. First every cell is checked — phone formats (the profile's own rules,
`profile::formats`), unit ids the profile does not list, grey columns that no longer match the
profile, a phone or a new contact without a name, repeated rows, one unit with two different
hotlines — and each problem is reported as `FILE: 联系人!E7: message (hint: …)`; while any remains,
nothing is written. Then each non-blank cell is compared with the profile: a missing or `FILL_IN`
value is filled, an equal one left alone, a different one is a conflict (kept, and listed) unless
`--overwrite`. A unit's k-th contact row is its k-th contact; rows beyond its contacts add
contacts. The edits are made in place ([`crate::profile::patch`]); the result must not have a
problem the profile had not (checked with `profile::load` on a temporary sibling, which then
replaces the profile by a rename). Blank cells never clear a value.
*/

use std::collections::{HashMap, HashSet};
use std::path::Path;

use serde::Serialize;

use super::sheet::{self, kind_label};
use super::{CellError, Error, read_profile};
use crate::profile::formats::{PHONE_HINT, is_phone};
use crate::profile::patch::{self, Edit, quoted};
use crate::profile::raw::{FILL_IN, RawContact, RawUnit};
use crate::profile::units_file::{
    CONTACT_COLUMNS, CONTACT_NAME, CONTACT_PHONE, Column, HOTLINE, ID, KIND, NAME, Table,
    column_named, kind_named, read_xlsx,
};

/// How to import.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Replace values that differ from the sheet's (else they are conflicts, left as they are).
    pub overwrite: bool,
    /// Check and report, write nothing.
    pub dry_run: bool,
}

/// What an import did (or, with `dry_run`, would do).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Outcome {
    /// One line per change: `联系人!D5 units[3].hotline: FILL_IN → "0599-6332345"`.
    pub changes: Vec<String>,
    /// Blank (`FILL_IN` or missing) values filled.
    pub filled: usize,
    /// Different values replaced (`--overwrite`).
    pub overwritten: usize,
    pub contacts_added: usize,
    /// Values that differ and were kept (without `--overwrite`).
    pub conflicts: Vec<String>,
    /// The profile file was rewritten.
    pub written: bool,
}

/// One cell's text (trimmed; `FILL_IN` reads as blank) and its place (`联系人!E7`).
#[derive(Debug, Clone)]
struct Cell {
    v: String,
    place: String,
}

impl Cell {
    fn blank(&self) -> bool {
        self.v.is_empty()
    }
}

#[derive(Debug)]
struct ContactRow {
    name: Cell,
    role: Cell,
    phone: Cell,
}

#[derive(Debug, Default)]
struct UnitRows {
    hotline: Option<(Cell, usize)>,
    contacts: Vec<ContactRow>,
}

/// Imports the sheet at `sheet_path` into the profile at `profile` (see the module docs).
pub fn import(sheet_path: &Path, profile: &Path, opts: Options) -> Result<Outcome, Error> {
    let p = read_profile(profile)?;
    let table = read_xlsx(sheet_path, Some(sheet::SHEET)).map_err(|message| Error::Workbook {
        path: sheet_path.to_path_buf(),
        message,
    })?;
    let units = check(sheet_path, &table, &p.raw.units, &p.raw.units_file)?;
    let mut out = Outcome::default();
    let mut edits = Vec::new();
    let patch_err = |message: String| Error::Patch {
        path: profile.to_path_buf(),
        message,
    };
    let mut ids: Vec<&usize> = units.keys().collect();
    ids.sort();
    for &i in ids {
        let (u, rows) = (&p.raw.units[i], &units[&i]);
        let up = format!("units[{i}]");
        let mut plan = Plan {
            text: &p.text,
            index: &p.index,
            opts,
            out: &mut out,
            edits: &mut edits,
        };
        if let Some((cell, _)) = &rows.hotline {
            plan.value(&up, "hotline", u.hotline.as_deref(), cell)
                .map_err(patch_err)?;
        }
        let mut new_items = Vec::new();
        for (k, row) in rows.contacts.iter().enumerate() {
            match u.contacts.get(k) {
                Some(c) => {
                    let cp = format!("{up}.contacts[{k}]");
                    plan.value(&cp, "name", Some(&c.name), &row.name)
                        .map_err(patch_err)?;
                    plan.value(&cp, "role", c.role.as_deref(), &row.role)
                        .map_err(patch_err)?;
                    plan.value(&cp, "phone", c.phone.as_deref(), &row.phone)
                        .map_err(patch_err)?;
                }
                None => {
                    let item = flow_contact(row);
                    plan.out
                        .changes
                        .push(format!("{} {up}.contacts: + {item}", row.name.place));
                    new_items.push(item);
                }
            }
        }
        if !new_items.is_empty() {
            out.contacts_added += new_items.len();
            let seq = format!("{up}.contacts");
            let edit = if p.index.has(&seq) {
                patch::append_items(&p.text, &p.index, &seq, &new_items)
            } else if u.contacts.is_empty() {
                let list = format!("[{}]", new_items.join(", "));
                patch::insert_key(&p.text, &p.index, &up, "contacts", &list)
            } else {
                return Err(patch_err(format!(
                    "{up}.contacts comes from a merge key (<<:); add the contacts by hand"
                )));
            };
            edits.push(edit.map_err(|e| patch_err(e.to_string()))?);
        }
    }
    if edits.is_empty() {
        return Ok(out);
    }
    let text = patch::apply(&p.text, &edits).map_err(|e| patch_err(e.to_string()))?;
    let tmp = verified(profile, &text)?;
    if !opts.dry_run {
        tmp.persist(profile).map_err(|e| Error::Io {
            path: profile.to_path_buf(),
            source: e.error,
        })?;
        out.written = true;
    }
    Ok(out)
}

/// Writes `text` to a temporary sibling of `profile` and loads it: it must not have a problem
/// the profile has not (the starter profile still has FILL_IN values elsewhere, so "valid" is
/// too strong a test; "no worse, and valid when the original was" is the right one).
fn verified(profile: &Path, text: &str) -> Result<tempfile::NamedTempFile, Error> {
    use std::io::Write;
    let dir = profile
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let io = |source| Error::Io {
        path: dir.to_path_buf(),
        source,
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".contacts-import-")
        .suffix(".yaml")
        .tempfile_in(dir)
        .map_err(io)?;
    tmp.write_all(text.as_bytes()).map_err(io)?;
    tmp.as_file().sync_all().map_err(io)?;
    // Positions move when lines are added; compare problems by field and message only.
    let key = |d: &crate::profile::Diagnostic| {
        let msg: String = d.message.chars().filter(|c| !c.is_ascii_digit()).collect();
        (d.field.clone(), msg)
    };
    let before: HashSet<_> = match crate::profile::load(profile) {
        Ok(_) => HashSet::new(),
        Err(d) => d.iter().map(key).collect(),
    };
    if let Err(d) = crate::profile::load(tmp.path()) {
        let new: Vec<String> = d
            .iter()
            .filter(|x| !before.contains(&key(x)))
            .map(|x| {
                let mut x = x.clone();
                x.file = profile.to_path_buf();
                x.to_string()
            })
            .collect();
        if !new.is_empty() {
            return Err(Error::Invalid(new.join("\n")));
        }
    }
    Ok(tmp)
}

struct Plan<'a> {
    text: &'a str,
    index: &'a crate::profile::yaml::PosIndex,
    opts: Options,
    out: &'a mut Outcome,
    edits: &'a mut Vec<Edit>,
}

impl Plan<'_> {
    /// The edit (if any) making `map.key` the sheet's value; the error is why it cannot be made
    /// in place.
    fn value(
        &mut self,
        map: &str,
        key: &str,
        profile: Option<&str>,
        cell: &Cell,
    ) -> Result<(), String> {
        if cell.blank() {
            return Ok(());
        }
        let path = format!("{map}.{key}");
        let new = quoted(&cell.v);
        let edit = match profile.map(str::trim) {
            Some(p) if p == cell.v => return Ok(()),
            Some(p) if !p.starts_with(FILL_IN) && !self.opts.overwrite => {
                self.out.conflicts.push(format!(
                    "{}: {path} is `{p}` in the profile, `{}` in the sheet (kept the profile's; --overwrite takes the sheet's)",
                    cell.place, cell.v
                ));
                return Ok(());
            }
            Some(p) => {
                if p.starts_with(FILL_IN) {
                    self.out.filled += 1;
                } else {
                    self.out.overwritten += 1;
                }
                self.out
                    .changes
                    .push(format!("{} {path}: {p} → {new}", cell.place));
                if !self.index.has(&path) {
                    return Err(format!(
                        "{path} comes from a merge key (<<:); change it by hand"
                    ));
                }
                patch::replace(self.index, &path, new)
            }
            None => {
                self.out.filled += 1;
                self.out
                    .changes
                    .push(format!("{} {path}: + {new}", cell.place));
                patch::insert_key(self.text, self.index, map, key, &new)
            }
        };
        self.edits.push(edit.map_err(|e| e.to_string())?);
        Ok(())
    }
}

/// A new contact as a flow mapping, blank cells left out.
fn flow_contact(r: &ContactRow) -> String {
    let fields: Vec<String> = [("name", &r.name), ("role", &r.role), ("phone", &r.phone)]
        .into_iter()
        .filter(|(_, c)| !c.blank())
        .map(|(k, c)| format!("{k}: {}", quoted(&c.v)))
        .collect();
    format!("{{{}}}", fields.join(", "))
}

/// Every cell checked; the rows grouped by the index of their unit in `units`.
fn check(
    file: &Path,
    t: &Table,
    units: &[RawUnit],
    units_file: &Option<String>,
) -> Result<HashMap<usize, UnitRows>, Error> {
    let mut errors = Vec::new();
    let err = |errors: &mut Vec<CellError>, place: String, message: String, hint: &str| {
        errors.push(CellError {
            file: file.to_path_buf(),
            place,
            message,
            hint: hint.to_string(),
        })
    };
    let mut cols: HashMap<&'static str, usize> = HashMap::new();
    for (i, h) in t.header.iter().enumerate() {
        if h.trim().is_empty() {
            continue;
        }
        match column_named(h, &CONTACT_COLUMNS) {
            Some(c) if cols.insert(c.key, i).is_none() => {}
            Some(c) => err(
                &mut errors,
                t.place(t.header_line, i),
                format!("column {} appears twice", c.zh),
                "keep one",
            ),
            None => err(
                &mut errors,
                t.place(t.header_line, i),
                format!("unknown column `{}`", h.trim()),
                "the sheet's columns are 单位ID 单位名称 类型 服务电话 联系人 职务 联系电话",
            ),
        }
    }
    if !cols.contains_key(ID.key) {
        err(
            &mut errors,
            t.sheet.clone().unwrap_or_default(),
            "no 单位ID column in the header row".into(),
            "start from the sheet `m110 init` or `m110 contacts export` writes",
        );
    }
    if !errors.is_empty() {
        return Err(Error::Cells(errors));
    }
    let by_id: HashMap<&str, usize> = units
        .iter()
        .enumerate()
        .map(|(i, u)| (u.id.trim(), i))
        .collect();
    let mut grouped: HashMap<usize, UnitRows> = HashMap::new();
    let mut seen_rows: HashMap<(usize, String, String), usize> = HashMap::new();
    for (line, cells) in &t.rows {
        let line = *line;
        let cell = |c: Column| -> Cell {
            let i = cols.get(c.key).copied();
            let v = i
                .and_then(|i| cells.get(i))
                .map(|s| s.trim())
                .filter(|s| !s.starts_with(FILL_IN))
                .unwrap_or_default();
            Cell {
                v: v.to_string(),
                place: t.place(line, i.unwrap_or(cols[ID.key])),
            }
        };
        let [id, name, kind, hotline, cname, role, phone] = CONTACT_COLUMNS.map(cell);
        let contact_given = !(cname.blank() && role.blank() && phone.blank());
        if id.blank() {
            if !(name.blank() && kind.blank() && hotline.blank() && !contact_given) {
                err(
                    &mut errors,
                    id.place,
                    "missing unit id / 缺少单位ID".into(),
                    "copy the 单位ID of the unit this row belongs to",
                );
            }
            continue;
        }
        let Some(&ui) = by_id.get(id.v.as_str()) else {
            let hint = if units_file.is_some() {
                "use an id from the profile's units:; units of its units_file are edited in that file"
            } else {
                "use an id from the profile's units: (`m110 contacts export` writes them all)"
            };
            err(
                &mut errors,
                id.place,
                format!("unknown unit id `{}`", id.v),
                hint,
            );
            continue;
        };
        let u = &units[ui];
        if !name.blank() && name.v != u.name.trim() {
            err(
                &mut errors,
                name.place,
                format!(
                    "{} `{}` is not the profile's `{}`",
                    NAME.zh,
                    name.v,
                    u.name.trim()
                ),
                "the grey columns come from the profile: rename units there, or undo the edit",
            );
        }
        if !kind.blank() && kind_named(&kind.v).map(|k| k.as_str()) != Some(u.kind.trim()) {
            err(
                &mut errors,
                kind.place,
                format!(
                    "{} `{}` is not the profile's `{}`",
                    KIND.zh,
                    kind.v,
                    kind_label(&u.kind)
                ),
                "the grey columns come from the profile: change kinds there, or undo the edit",
            );
        }
        let g = grouped.entry(ui).or_default();
        if !hotline.blank() {
            if !is_phone(&hotline.v) {
                err(
                    &mut errors,
                    hotline.place.clone(),
                    format!("{} `{}` is not a phone number", HOTLINE.zh, hotline.v),
                    PHONE_HINT,
                );
            }
            match &g.hotline {
                Some((first, l)) if first.v != hotline.v => err(
                    &mut errors,
                    hotline.place,
                    format!(
                        "{} `{}` differs from `{}` on row {l} of the same unit",
                        HOTLINE.zh, hotline.v, first.v
                    ),
                    "a unit has one hotline: give it on one row (or the same on each)",
                ),
                Some(_) => {}
                None => g.hotline = Some((hotline, line)),
            }
        }
        if !contact_given {
            continue;
        }
        if !phone.blank() && !is_phone(&phone.v) {
            err(
                &mut errors,
                phone.place.clone(),
                format!("{} `{}` is not a phone number", CONTACT_PHONE.zh, phone.v),
                PHONE_HINT,
            );
        }
        let k = g.contacts.len();
        let existing: Option<&RawContact> = u.contacts.get(k);
        let has_name = existing.is_some_and(|c| !c.name.trim().starts_with(FILL_IN));
        if cname.blank() && !has_name && (!phone.blank() || existing.is_none()) {
            err(
                &mut errors,
                cname.place.clone(),
                format!(
                    "{} is missing for this contact / 缺少联系人姓名",
                    CONTACT_NAME.zh
                ),
                "write the person's name (or 值班室 for a duty desk)",
            );
        }
        if !cname.blank() {
            let key = (ui, cname.v.clone(), phone.v.clone());
            if let Some(first) = seen_rows.get(&key) {
                err(
                    &mut errors,
                    cname.place.clone(),
                    format!(
                        "duplicate row: {} `{}` of `{}` is already on row {first}",
                        CONTACT_NAME.zh, cname.v, id.v
                    ),
                    "delete the repeated row",
                );
            } else {
                seen_rows.insert(key, line);
            }
        }
        g.contacts.push(ContactRow {
            name: cname,
            role,
            phone,
        });
    }
    if errors.is_empty() {
        Ok(grouped)
    } else {
        Err(Error::Cells(errors))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(rows: &[[&str; 7]]) -> Table {
        Table {
            sheet: Some(sheet::SHEET.into()),
            header_line: 1,
            header: CONTACT_COLUMNS.iter().map(|c| c.zh.to_string()).collect(),
            first_col: 0,
            rows: rows
                .iter()
                .enumerate()
                .map(|(i, r)| (i + 2, r.iter().map(|s| s.to_string()).collect()))
                .collect(),
        }
    }

    fn unit(id: &str, contacts: Vec<RawContact>) -> RawUnit {
        RawUnit {
            id: id.into(),
            kind: "department".into(),
            name: "局".into(),
            hotline: Some(FILL_IN.into()),
            contacts,
            ..RawUnit::default()
        }
    }

    fn errors(t: &Table, units: &[RawUnit]) -> Vec<String> {
        match check(Path::new("c.xlsx"), t, units, &None) {
            Err(Error::Cells(e)) => e.iter().map(ToString::to_string).collect(),
            Err(e) => panic!("{e}"),
            Ok(_) => Vec::new(),
        }
    }

    #[test]
    fn every_bad_cell_is_named() {
        let units = [unit("a", vec![])];
        let t = table(&[
            ["a", "局", "政府部门", "0599-633", "王芳", "", "13900000000"],
            ["zz", "", "", "12345", "", "", ""],
            ["a", "别的局", "", "110", "", "", "1391234"],
            ["a", "", "", "", "王芳", "", "13900000000"],
            ["", "", "", "", "李强", "", ""],
        ]);
        let e = errors(&t, &units);
        let places: Vec<&str> = e
            .iter()
            .map(|l| l.split(": ").nth(1).unwrap_or(""))
            .collect();
        assert_eq!(
            places,
            [
                "联系人!D2",
                "联系人!A3",
                "联系人!B4",
                "联系人!D4",
                "联系人!G4",
                "联系人!E4",
                "联系人!E5",
                "联系人!A6"
            ],
            "{e:#?}"
        );
        assert!(
            e[0].starts_with(
                "c.xlsx: 联系人!D2: 服务电话 `0599-633` is not a phone number (hint: "
            )
        );
    }

    #[test]
    fn good_rows_group_by_unit_in_order() {
        let units = [unit(
            "a",
            vec![RawContact {
                name: FILL_IN.into(),
                role: Some("联络员".into()),
                phone: Some(FILL_IN.into()),
            }],
        )];
        let t = table(&[
            [
                "a",
                "局",
                "政府部门",
                "12345",
                "王芳",
                "联络员",
                "13900000000",
            ],
            ["", "", "", "", "", "", ""],
            ["a", "", "", "12345", "李强", "", ""],
        ]);
        let g = check(Path::new("c.xlsx"), &t, &units, &None).unwrap();
        let rows = &g[&0];
        assert_eq!(rows.hotline.as_ref().unwrap().0.v, "12345");
        assert_eq!(rows.contacts.len(), 2);
        assert_eq!(rows.contacts[1].name.place, "联系人!E4");
        assert_eq!(
            flow_contact(&rows.contacts[0]),
            "{name: \"王芳\", role: \"联络员\", phone: \"13900000000\"}"
        );
    }

    #[test]
    fn a_patch_that_adds_a_problem_is_refused() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../profiles");
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("shaowu")).unwrap();
        for e in std::fs::read_dir(src.join("shaowu")).unwrap() {
            let p = e.unwrap().path();
            if p.is_file() {
                std::fs::copy(&p, dir.path().join("shaowu").join(p.file_name().unwrap())).unwrap();
            }
        }
        let profile = dir.path().join("shaowu.yaml");
        let text = std::fs::read_to_string(src.join("shaowu.yaml")).unwrap();
        std::fs::write(&profile, &text).unwrap();
        assert!(verified(&profile, &text).is_ok());
        let bad = text.replacen("hotline: \"0599-6335110\"", "hotline: \"0599-1\"", 1);
        assert_ne!(bad, text);
        match verified(&profile, &bad) {
            Err(Error::Invalid(msg)) => {
                assert!(
                    msg.contains("hotline: `0599-1` is not a phone number"),
                    "{msg}"
                )
            }
            other => panic!("{other:?}"),
        }
        // The temporary copies are gone; the profile is as it was.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
        assert_eq!(std::fs::read_to_string(&profile).unwrap(), text);
    }

    #[test]
    fn a_phone_needs_a_name_unless_the_profile_has_one() {
        let c = |n: &str| RawContact {
            name: n.into(),
            role: None,
            phone: None,
        };
        let t = table(&[["a", "", "", "", "", "", "13900000000"]]);
        assert_eq!(errors(&t, &[unit("a", vec![c(FILL_IN)])]).len(), 1);
        assert!(errors(&t, &[unit("a", vec![c("王芳")])]).is_empty());
    }
}
