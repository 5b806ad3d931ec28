//! Contacts by spreadsheet as a county IT team uses them (the real `m110` binary): the sheet
//! `m110 init` writes, `m110 contacts import` / `export`, and a profile's `units_file`. The
//! workbooks are read back with calamine (an independent reader: the kit writes with
//! rust_xlsxwriter) and their XML with `zip` for what calamine does not expose.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use calamine::Reader;
use rust_xlsxwriter::Workbook;

const HEADERS: [&str; 7] = [
    "单位ID",
    "单位名称",
    "类型",
    "服务电话",
    "联系人",
    "职务",
    "联系电话",
];

fn m110(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_m110"))
        .args(args)
        .output()
        .expect("run m110")
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn ok(o: &Output) {
    assert!(
        o.status.success(),
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

/// `m110 init` of Shaowu into a fresh directory: (dir, profile, sheet).
fn init() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("350781.yaml");
    ok(&m110(&["init", "--division", "350781", "-o", s(&profile)]));
    let sheet = dir.path().join("350781.contacts.xlsx");
    assert!(sheet.is_file(), "init writes the sheet beside the profile");
    (dir, profile, sheet)
}

/// The rows of a sheet (header first) as calamine reads them.
fn read_sheet(path: &Path, name: &str) -> Vec<Vec<String>> {
    let mut book: calamine::Xlsx<_> = calamine::open_workbook(path).unwrap();
    let range = book.worksheet_range(name).unwrap();
    range
        .rows()
        .map(|r| {
            r.iter()
                .map(|c| match c {
                    calamine::Data::Empty => String::new(),
                    calamine::Data::String(s) => s.clone(),
                    other => panic!("the kit writes text cells, found {other:?}"),
                })
                .collect()
        })
        .collect()
}

fn write_sheet(path: &Path, rows: &[Vec<String>]) {
    let mut book = Workbook::new();
    let ws = book.add_worksheet();
    ws.set_name("联系人").unwrap();
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            if !v.is_empty() {
                ws.write_string(r as u32, c as u16, v).unwrap();
            }
        }
    }
    book.save(path).unwrap();
}

/// A file of the workbook's zip archive.
fn xlsx_part(path: &Path, part: &str) -> String {
    let mut zip = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    let mut out = String::new();
    zip.by_name(part).unwrap().read_to_string(&mut out).unwrap();
    out
}

/// The profile's units as YAML values (read independently of the kit's loader).
fn yaml_units(profile: &Path) -> Vec<serde_yaml::Value> {
    let v: serde_yaml::Value =
        serde_yaml::from_str(&std::fs::read_to_string(profile).unwrap()).unwrap();
    v["units"].as_sequence().unwrap().clone()
}

fn str_of(v: &serde_yaml::Value) -> String {
    match v.as_str() {
        Some(s) if s != "FILL_IN" => s.to_string(),
        _ => String::new(),
    }
}

#[test]
fn init_writes_a_sheet_with_a_row_per_unit_and_contact_and_phone_validation() {
    let (_dir, profile, sheet) = init();
    let rows = read_sheet(&sheet, "联系人");
    assert_eq!(rows[0], HEADERS);
    let mut expected = Vec::new();
    for u in yaml_units(&profile) {
        let contacts = u["contacts"].as_sequence().cloned().unwrap_or_default();
        let n = contacts.len().max(1);
        for k in 0..n {
            let c = contacts.get(k);
            expected.push(vec![
                str_of(&u["id"]),
                str_of(&u["name"]),
                k.to_string(),
                if k == 0 {
                    str_of(&u["hotline"])
                } else {
                    String::new()
                },
                c.map(|c| str_of(&c["name"])).unwrap_or_default(),
                c.map(|c| str_of(&c["role"])).unwrap_or_default(),
                c.map(|c| str_of(&c["phone"])).unwrap_or_default(),
            ]);
        }
    }
    assert!(expected.len() > 20, "departments and townships");
    assert_eq!(rows.len() - 1, expected.len());
    for (got, want) in rows[1..].iter().zip(&expected) {
        // Kind is shown in Chinese; everything else as the profile has it, FILL_IN blank.
        assert_eq!(
            [&got[..2], &got[3..]].concat(),
            [&want[..2], &want[3..]].concat()
        );
        assert!(!got[2].is_empty());
    }
    let police = rows.iter().find(|r| r[0] == "police-110").unwrap();
    assert_eq!((police[2].as_str(), police[3].as_str()), ("公安110", "110"));
    // A department: blank hotline and contact to fill in, role prefilled.
    let dept = rows
        .iter()
        .find(|r| r[2] == "政府部门" && r[3].is_empty())
        .unwrap();
    assert_eq!(
        (dept[4].as_str(), dept[5].as_str(), dept[6].as_str()),
        ("", "联络员", "")
    );
    assert!(
        rows.iter()
            .any(|r| r[2] == "乡镇/街道" && r[4..].iter().all(String::is_empty))
    );

    let xml = xlsx_part(&sheet, "xl/worksheets/sheet1.xml");
    let validations: Vec<&str> = xml
        .match_indices("<dataValidation ")
        .map(|(i, _)| &xml[i..])
        .collect();
    assert_eq!(validations.len(), 2, "hotline and contact phone columns");
    for (v, col) in validations.iter().zip(["D", "G"]) {
        let tag = &v[..v.find("</dataValidation>").unwrap()];
        assert!(tag.contains("type=\"custom\""), "{tag}");
        assert!(tag.contains(&format!("sqref=\"{col}2:{col}")), "{tag}");
        assert!(
            tag.contains("010-12345678"),
            "the message names the formats: {tag}"
        );
        assert!(tag.contains("<formula1>"), "{tag}");
    }
    assert!(xml.contains("ySplit=\"1\""), "header row frozen");
    assert!(xml.contains("<cols>"), "column widths");
    assert!(read_sheet(&sheet, "说明")[0][0].contains("联系人表"));
}

#[test]
fn init_keeps_an_existing_sheet_unless_forced() {
    let (dir, profile, sheet) = init();
    std::fs::write(&sheet, b"mine").unwrap();
    std::fs::remove_file(&profile).unwrap();
    let o = m110(&["init", "--division", "350781", "-o", s(&profile)]);
    ok(&o);
    assert!(String::from_utf8_lossy(&o.stderr).contains("kept"));
    assert_eq!(std::fs::read(&sheet).unwrap(), b"mine");
    ok(&m110(&[
        "init",
        "--division",
        "350781",
        "-o",
        s(&profile),
        "--force",
    ]));
    assert_eq!(read_sheet(&sheet, "联系人")[0], HEADERS);
    drop(dir);
}

/// Fills every blank of the sheet with a distinct valid value and adds a contact to a township
/// (which has none) and a second one to a department.
fn fill(rows: &[Vec<String>]) -> Vec<Vec<String>> {
    let mut out: Vec<Vec<String>> = rows.to_vec();
    let mut seen_unit: HashMap<String, usize> = HashMap::new();
    for (i, r) in out.iter_mut().enumerate().skip(1) {
        let first = !seen_unit.contains_key(&r[0]);
        seen_unit.entry(r[0].clone()).or_insert(i);
        if first && r[3].is_empty() {
            r[3] = format!("0599-63{i:05}");
        }
        if r[2] == "政府部门" {
            if r[4].is_empty() {
                r[4] = format!("联络员{i}");
            }
            if r[6].is_empty() {
                r[6] = format!("139{i:08}");
            }
        }
    }
    let township = out.iter().find(|r| r[2] == "乡镇/街道").unwrap()[..3].to_vec();
    let dept = out.iter().find(|r| r[2] == "政府部门").unwrap()[..3].to_vec();
    for (base, name, phone) in [
        (township, "王芳", "13800000001"),
        (dept, "李强", "0599-6300001"),
    ] {
        let mut r = base;
        r.extend([String::new(), name.into(), "副站长".into(), phone.into()]);
        out.push(r);
    }
    out
}

#[test]
fn a_filled_sheet_round_trips_through_the_profile() {
    let (dir, profile, sheet) = init();
    let before = std::fs::read_to_string(&profile).unwrap();
    let filled = fill(&read_sheet(&sheet, "联系人"));
    let filled_path = dir.path().join("filled.xlsx");
    write_sheet(&filled_path, &filled);

    // A dry run says what it would do and writes nothing.
    let o = m110(&[
        "contacts",
        "import",
        s(&filled_path),
        s(&profile),
        "--dry-run",
    ]);
    ok(&o);
    let dry = String::from_utf8(o.stdout).unwrap();
    assert!(dry.contains("dry run"), "{dry}");
    assert_eq!(std::fs::read_to_string(&profile).unwrap(), before);

    let o = m110(&["contacts", "import", s(&filled_path), s(&profile)]);
    ok(&o);
    let out = String::from_utf8(o.stdout).unwrap();
    let original = read_sheet(&sheet, "联系人");
    let blanks: usize = original[1..]
        .iter()
        .zip(&filled[1..])
        .map(|(a, b)| {
            a.iter()
                .zip(b)
                .filter(|(x, y)| x.is_empty() && !y.is_empty())
                .count()
        })
        .sum();
    assert!(blanks > 30, "{blanks}");
    assert!(
        out.contains(&format!("{blanks} value(s) filled, 2 contact(s) added")),
        "{out}"
    );
    assert!(out.contains("0 conflict(s)"), "{out}");
    let after = std::fs::read_to_string(&profile).unwrap();
    // Comments and layout stay: every comment line and every grid line is still there.
    for l in before
        .lines()
        .filter(|l| l.trim_start().starts_with('#') || l.contains("code:"))
    {
        assert!(after.contains(l), "lost: {l}");
    }
    // Nothing of the units is FILL_IN any more.
    let units_part = &after[after.find("\nunits:").unwrap()..after.find("\nrouting:").unwrap()];
    assert!(!units_part.contains("FILL_IN"), "{units_part}");

    // With the region's own two blanks filled, the profile loads with the sheet's values.
    let done = dir.path().join("done.yaml");
    std::fs::write(
        &done,
        after
            .replace("population: FILL_IN", "population: 300000")
            .replace("area_km2: FILL_IN", "area_km2: 2852"),
    )
    .unwrap();
    let region = m110::profile::load(&done)
        .unwrap_or_else(|d| panic!("{d}"))
        .region;
    for r in &filled[1..] {
        let u = region.units.iter().find(|u| u.id == r[0]).unwrap();
        if !r[3].is_empty() {
            assert_eq!(u.hotline.as_deref(), Some(r[3].as_str()), "{}", r[0]);
        }
        if !r[4].is_empty() {
            let c = u.contacts.iter().find(|c| c.name == r[4]).unwrap();
            assert_eq!(c.phone.as_deref(), Some(r[6].as_str()));
            assert_eq!(c.role.as_deref(), Some(r[5].as_str()));
        }
    }

    // Export reads back as exactly what was imported, unit by unit (a hotline-only row and an
    // added contact of the same unit come back as one row).
    let exported = dir.path().join("export.xlsx");
    ok(&m110(&[
        "contacts",
        "export",
        s(&profile),
        "-o",
        s(&exported),
    ]));
    let got = read_sheet(&exported, "联系人");
    assert_eq!(got[0], HEADERS);
    assert_eq!(by_unit(&got), by_unit(&filled));

    // And importing it again changes nothing.
    let o = m110(&["contacts", "import", s(&exported), s(&profile)]);
    ok(&o);
    assert!(String::from_utf8_lossy(&o.stdout).contains("0 value(s) filled, 0 contact(s) added"));
    assert_eq!(std::fs::read_to_string(&profile).unwrap(), after);
}

/// A unit's columns, its hotline and its contacts, by unit id.
type Unit = (Vec<String>, String, Vec<Vec<String>>);

fn by_unit(rows: &[Vec<String>]) -> std::collections::BTreeMap<String, Unit> {
    let mut out = std::collections::BTreeMap::<String, Unit>::new();
    for r in &rows[1..] {
        let u = out.entry(r[0].clone()).or_default();
        u.0 = r[..3].to_vec();
        if !r[3].is_empty() {
            u.1 = r[3].clone();
        }
        if r[4..].iter().any(|c| !c.is_empty()) {
            u.2.push(r[4..].to_vec());
        }
    }
    out
}

#[test]
fn bad_cells_are_all_reported_and_nothing_is_written() {
    let (dir, profile, sheet) = init();
    let before = std::fs::read(&profile).unwrap();
    let mut rows = read_sheet(&sheet, "联系人");
    let dept = rows.iter().position(|r| r[2] == "政府部门").unwrap();
    rows[dept][3] = "0599-633".into(); // too short
    rows[dept][4] = "张三".into();
    rows[dept][6] = "5996332345".into(); // a landline whose 0 and '-' were lost
    rows.push(vec![
        "no-such-unit".into(),
        String::new(),
        String::new(),
        "12345".into(),
        String::new(),
        String::new(),
        String::new(),
    ]);
    let township = rows.iter().position(|r| r[2] == "乡镇/街道").unwrap();
    rows[township][6] = "13900000000".into(); // a phone with nobody's name
    let bad = dir.path().join("bad.xlsx");
    write_sheet(&bad, &rows);

    let o = m110(&["contacts", "import", s(&bad), s(&profile)]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8(o.stderr).unwrap();
    let at = |col: char, row: usize| format!("{}: 联系人!{col}{}: ", s(&bad), row + 1);
    assert!(
        err.contains(&format!(
            "{}服务电话 `0599-633` is not a phone number (hint: ",
            at('D', dept)
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "{}联系电话 `5996332345` is not a phone number",
            at('G', dept)
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "{}unknown unit id `no-such-unit`",
            at('A', rows.len() - 1)
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!("{}联系人 is missing", at('E', township))),
        "{err}"
    );
    assert!(err.contains("4 bad cell(s)"), "{err}");
    assert_eq!(
        std::fs::read(&profile).unwrap(),
        before,
        "profile unchanged"
    );
}

/// A complete example profile with its data files, copied into a temporary directory.
fn shaowu() -> (tempfile::TempDir, PathBuf) {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../profiles");
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(src.join("shaowu.yaml"), dir.path().join("shaowu.yaml")).unwrap();
    let data = dir.path().join("shaowu");
    std::fs::create_dir(&data).unwrap();
    for e in std::fs::read_dir(src.join("shaowu")).unwrap() {
        let p = e.unwrap().path();
        if p.is_file() {
            std::fs::copy(&p, data.join(p.file_name().unwrap())).unwrap();
        }
    }
    let profile = dir.path().join("shaowu.yaml");
    m110::profile::load(&profile).unwrap_or_else(|d| panic!("{d}"));
    (dir, profile)
}

#[test]
fn export_then_import_of_an_unchanged_profile_is_a_no_op_and_differences_are_conflicts() {
    let (dir, profile) = shaowu();
    let before = std::fs::read(&profile).unwrap();
    let sheet = dir.path().join("c.xlsx");
    ok(&m110(&["contacts", "export", s(&profile), "-o", s(&sheet)]));
    // Exporting again over it needs --force.
    assert_eq!(
        m110(&["contacts", "export", s(&profile), "-o", s(&sheet)])
            .status
            .code(),
        Some(1)
    );
    let o = m110(&["contacts", "import", s(&sheet), s(&profile)]);
    ok(&o);
    assert!(
        String::from_utf8_lossy(&o.stdout)
            .contains("0 value(s) filled, 0 contact(s) added, 0 overwritten, 0 conflict(s)")
    );
    assert_eq!(std::fs::read(&profile).unwrap(), before, "byte-identical");

    // A changed hotline is a conflict (kept) unless --overwrite.
    let mut rows = read_sheet(&sheet, "联系人");
    let i = rows
        .iter()
        .position(|r| r[0] == "urban-management")
        .unwrap();
    assert_eq!(rows[i][3], "0599-6335110");
    rows[i][3] = "0599-6335119".into();
    let changed = dir.path().join("changed.xlsx");
    write_sheet(&changed, &rows);
    let o = m110(&["contacts", "import", s(&changed), s(&profile)]);
    ok(&o);
    let out = String::from_utf8(o.stdout).unwrap();
    assert!(
        out.contains("conflict: 联系人!D") && out.contains("0599-6335119"),
        "{out}"
    );
    assert_eq!(std::fs::read(&profile).unwrap(), before);
    ok(&m110(&[
        "contacts",
        "import",
        s(&changed),
        s(&profile),
        "--overwrite",
    ]));
    let text = std::fs::read_to_string(&profile).unwrap();
    assert!(text.contains("hotline: \"0599-6335119\""));
    assert_eq!(
        text.lines().count(),
        String::from_utf8(before).unwrap().lines().count()
    );
    let region = m110::profile::load(&profile).unwrap().region;
    let u = region
        .units
        .iter()
        .find(|u| u.id == "urban-management")
        .unwrap();
    assert_eq!(u.hotline.as_deref(), Some("0599-6335119"));
}

/// Appends `units_file: NAME` to the Shaowu profile.
fn with_units_file(profile: &Path, name: &str) {
    let mut text = std::fs::read_to_string(profile).unwrap();
    text.push_str(&format!("\nunits_file: {name}\n"));
    std::fs::write(profile, text).unwrap();
}

#[test]
fn units_file_csv_adds_units_and_bad_rows_name_their_line() {
    let (dir, profile) = shaowu();
    with_units_file(&profile, "units.csv");
    // A routing rule may name a unit of the file.
    let text = std::fs::read_to_string(&profile).unwrap().replacen(
        "  rules:\n",
        "  rules:\n    - {category: repairs, scope: \"350781001\", unit: jz-haobangshou}\n",
        1,
    );
    std::fs::write(&profile, text).unwrap();
    let csv = dir.path().join("units.csv");
    std::fs::write(
        &csv,
        "\u{feff}单位ID,单位名称,类型,服务电话,联系人,职务,联系电话,职能,服务范围\n\
         jz-haobangshou,好帮手家政服务部,market_provider,13900000001,王芳,负责人,13900000002,家政;保洁,350781001\n\
         jz-haobangshou,,,,李强,,0599-6332345,,\n\
         vt-zhaoyang,昭阳志愿者服务队,志愿者队伍,,,,,助老、助残,\n",
    )
    .unwrap();
    let region = m110::profile::load(&profile)
        .unwrap_or_else(|d| panic!("{d}"))
        .region;
    let u = region
        .units
        .iter()
        .find(|u| u.id == "jz-haobangshou")
        .unwrap();
    assert_eq!(u.contacts.len(), 2);
    assert_eq!(u.functions, ["家政", "保洁"]);
    assert_eq!(u.scope, ["350781001"]);
    assert!(region.units.iter().any(|u| u.id == "vt-zhaoyang"));
    assert!(
        region
            .routing
            .rules
            .iter()
            .any(|r| r.unit == "jz-haobangshou")
    );

    std::fs::write(
        &csv,
        "id,name,kind,hotline,scope\n\
         ok-1,A,volunteer_team,,\n\
         ok-2,B,volunteer_team,0599-633,\n\
         urban-management,C,department,,\n\
         ok-3,D,volunteer_team,,999\n\
         jz-haobangshou,好帮手家政服务部,market_provider,,\n",
    )
    .unwrap();
    let o = m110(&["validate", s(&profile)]);
    assert_eq!(o.status.code(), Some(1));
    let out = String::from_utf8(o.stdout).unwrap();
    let file = s(&csv);
    assert!(
        out.contains(&format!(
            "{file}:3:4: units_file.hotline: `0599-633` is not a phone number"
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "{file}:4:1: units_file.id: unit `urban-management` is also listed"
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "{file}:5:5: units_file.scope: grid unit `999` does not exist"
        )),
        "{out}"
    );
    assert_eq!(out.lines().count(), 3, "{out}");
}

#[test]
fn units_file_xlsx_adds_units_and_bad_cells_name_sheet_and_cell() {
    let (dir, profile) = shaowu();
    with_units_file(&profile, "units.xlsx");
    let path = dir.path().join("units.xlsx");
    let write = |rows: &[&[&str]]| {
        let mut book = Workbook::new();
        let ws = book.add_worksheet();
        ws.set_name("单位").unwrap();
        for (r, row) in rows.iter().enumerate() {
            for (c, v) in row.iter().enumerate() {
                ws.write_string(r as u32, c as u16, *v).unwrap();
            }
        }
        // A phone typed as a number still reads as the number.
        ws.write_number(rows.len() as u32 - 1, 3, 13900000009.0)
            .unwrap();
        book.save(&path).unwrap();
    };
    write(&[
        &["单位ID", "单位名称", "类型", "服务电话", "服务类别"],
        &["jz-1", "好帮手家政", "市场化服务队伍", "", "repairs"],
    ]);
    let region = m110::profile::load(&profile)
        .unwrap_or_else(|d| panic!("{d}"))
        .region;
    let u = region.units.iter().find(|u| u.id == "jz-1").unwrap();
    assert_eq!(u.hotline.as_deref(), Some("13900000009"));

    write(&[
        &["单位ID", "单位名称", "类型", "服务电话", "服务类别"],
        &["jz-1", "好帮手家政", "家政公司", "", "no.such"],
        &["jz-2", "B", "market_provider", "", ""],
    ]);
    let o = m110(&["validate", s(&profile)]);
    assert_eq!(o.status.code(), Some(1));
    let out = String::from_utf8(o.stdout).unwrap();
    let file = s(&path);
    assert!(
        out.contains(&format!(
            "{file}:2:3: 单位!C2: unknown unit kind `家政公司`"
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "{file}:2:5: 单位!E2: category `no.such` does not exist"
        )),
        "{out}"
    );
    assert_eq!(out.lines().count(), 2, "{out}");
}
