/*!
`units_file`: handling units listed in a CSV or XLSX file beside the profile, for lists too long
to keep in YAML (a prefecture's market providers, every village's service station).

The columns are the contacts sheet's (`m110 contacts export`, [`crate::contacts`]) plus what a
unit needs beyond a phone: headers in Chinese or as the YAML key, any order —

| 中文 | key | |
|---|---|---|
| 单位ID | id | required, the unit's id |
| 单位名称 | name | required |
| 类型 | kind | required: `department` … or its Chinese name (政府部门 …) |
| 服务电话 | hotline | |
| 联系人 / 职务 / 联系电话 | contact_name / contact_role / contact_phone | one contact per row |
| 职能 | functions | separated by 、 or ; |
| 服务范围 | scope | grid codes, separated by 、 or ; |
| 地址 | address | |
| 服务类别 | service_categories | category codes, separated by 、 or ; |
| 资质 | qualification | |

A unit with several contacts takes several rows with the same id: its unit columns are given on
one row (or repeated identically), each row adds a contact. Every problem is a [`Diagnostic`] at
`FILE:LINE:COL` (CSV) or at the XLSX row and column with `sheet!cell` as its field.

The file's units join `units:` after the YAML's own checks: their ids may be used by routing rules
and directory rows; an id in both the YAML and the file is an error. The police and the center
are not listed in a file (routing checks look for the police unit in the YAML).
*/

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use m110_runtime::model::UnitKind;

use super::diag::{Diagnostic, Diagnostics};
use super::formats::{PHONE_HINT, is_id, is_phone};
use super::raw::{FILL_IN, RawContact, RawUnit};
use super::yaml::{MAX_BYTES, read_capped};

/// One column of the contacts sheet and of a units file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    /// The YAML key (also accepted as a header).
    pub key: &'static str,
    /// The Chinese header the kit writes.
    pub zh: &'static str,
}

const fn col(key: &'static str, zh: &'static str) -> Column {
    Column { key, zh }
}

pub const ID: Column = col("id", "单位ID");
pub const NAME: Column = col("name", "单位名称");
pub const KIND: Column = col("kind", "类型");
pub const HOTLINE: Column = col("hotline", "服务电话");
pub const CONTACT_NAME: Column = col("contact_name", "联系人");
pub const CONTACT_ROLE: Column = col("contact_role", "职务");
pub const CONTACT_PHONE: Column = col("contact_phone", "联系电话");
pub const FUNCTIONS: Column = col("functions", "职能");
pub const SCOPE: Column = col("scope", "服务范围");
pub const ADDRESS: Column = col("address", "地址");
pub const SERVICE_CATEGORIES: Column = col("service_categories", "服务类别");
pub const QUALIFICATION: Column = col("qualification", "资质");

/// The contacts sheet's columns, in the order the kit writes them.
pub const CONTACT_COLUMNS: [Column; 7] = [
    ID,
    NAME,
    KIND,
    HOTLINE,
    CONTACT_NAME,
    CONTACT_ROLE,
    CONTACT_PHONE,
];

/// Every column a units file may have.
pub const UNIT_COLUMNS: [Column; 12] = [
    ID,
    NAME,
    KIND,
    HOTLINE,
    CONTACT_NAME,
    CONTACT_ROLE,
    CONTACT_PHONE,
    FUNCTIONS,
    SCOPE,
    ADDRESS,
    SERVICE_CATEGORIES,
    QUALIFICATION,
];

/// The column a header names, among `allowed` (Chinese header or YAML key).
pub fn column_named(header: &str, allowed: &[Column]) -> Option<Column> {
    let h = header.trim();
    allowed
        .iter()
        .copied()
        .find(|c| c.zh == h || c.key.eq_ignore_ascii_case(h))
}

/// A unit kind by its code (`department`) or Chinese name (政府部门).
pub fn kind_named(s: &str) -> Option<UnitKind> {
    let s = s.trim();
    UnitKind::parse(s).or_else(|| UnitKind::ALL.into_iter().find(|k| k.name_zh() == s))
}

/// A list cell: items separated by 、 or ; (full- or half-width), trimmed, empties dropped.
pub fn split_list(s: &str) -> Vec<String> {
    s.split(['、', ';', '；'])
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect()
}

/// A1 reference of a 1-based row and 0-based column (`E7`).
pub fn cell_ref(row: usize, col: usize) -> String {
    let mut letters = Vec::new();
    let mut n = col + 1;
    while n > 0 {
        let r = (n - 1) % 26;
        letters.push(b'A' + r as u8);
        n = (n - 1) / 26;
    }
    letters.reverse();
    format!("{}{row}", String::from_utf8(letters).unwrap_or_default())
}

/// A table read from a CSV file or an XLSX sheet: every cell as text, with where it is.
#[derive(Debug, Clone)]
pub struct Table {
    /// The XLSX sheet's name; `None` for CSV.
    pub sheet: Option<String>,
    /// 1-based line (CSV) or row (XLSX) of the header.
    pub header_line: usize,
    pub header: Vec<String>,
    /// 0-based column of the table's first cell (XLSX sheets need not start in column A).
    pub first_col: usize,
    /// (1-based line or row, cells).
    pub rows: Vec<(usize, Vec<String>)>,
}

impl Table {
    /// `sheet!E7` for XLSX, `line 7, column 5` for CSV.
    pub fn place(&self, line: usize, i: usize) -> String {
        match &self.sheet {
            Some(s) => format!("{s}!{}", cell_ref(line, self.first_col + i)),
            None => format!("line {line}, column {}", i + 1),
        }
    }
}

/// Reads a sheet of an XLSX workbook (the named one when it has it, else the first), cells as
/// text: whole numbers without `.0` (a phone typed as a number), dates as ISO text.
pub fn read_xlsx(path: &Path, sheet: Option<&str>) -> Result<Table, String> {
    use calamine::Reader;
    let len = std::fs::metadata(path)
        .map_err(|e| format!("cannot read: {e}"))?
        .len();
    if len > MAX_BYTES {
        return Err(format!("too large ({len} bytes, limit {MAX_BYTES})"));
    }
    let mut book: calamine::Xlsx<_> = calamine::open_workbook(path)
        .map_err(|e: calamine::XlsxError| format!("not a readable XLSX workbook: {e}"))?;
    let names = book.sheet_names();
    let name = match sheet {
        Some(s) if names.iter().any(|n| n == s) => s.to_string(),
        _ => names.first().cloned().ok_or("the workbook has no sheet")?,
    };
    let range = book
        .worksheet_range(&name)
        .map_err(|e| format!("sheet `{name}`: {e}"))?;
    let (r0, c0) = range.start().unwrap_or((0, 0));
    let mut rows = range
        .rows()
        .enumerate()
        .map(|(i, row)| (r0 as usize + i + 1, row.iter().map(cell_text).collect()));
    let (header_line, header) = rows.next().unwrap_or((1, Vec::new()));
    Ok(Table {
        sheet: Some(name),
        header_line,
        header,
        first_col: c0 as usize,
        rows: rows.collect(),
    })
}

fn cell_text(c: &calamine::Data) -> String {
    use calamine::Data;
    match c {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Int(i) => i.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(d) => d.to_string(),
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Error(e) => format!("#{e:?}"),
    }
}

/// Reads a CSV file (UTF-8, BOM allowed) into a [`Table`].
pub fn read_csv(path: &Path) -> Result<Table, Diagnostic> {
    let text = read_capped(path, "units file")?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut all = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| {
            let line = super::csvdata::start_line(text, e.position());
            Diagnostic::new(
                path,
                (line, 1),
                "units_file",
                format!("unreadable CSV row: {e}"),
                "quote fields containing commas; save as UTF-8 CSV",
            )
        })?;
        let line = super::csvdata::start_line(text, rec.position());
        all.push((line, rec.iter().map(str::to_string).collect::<Vec<_>>()));
    }
    let mut rows = all.into_iter();
    let (header_line, header) = rows.next().unwrap_or((1, Vec::new()));
    Ok(Table {
        sheet: None,
        header_line,
        header,
        first_col: 0,
        rows: rows.collect(),
    })
}

/// Where a cell of a units file is, to report it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loc {
    pub file: PathBuf,
    pub line: usize,
    pub col: usize,
    /// `units_file.scope` (CSV) or `单位!I7` (XLSX).
    pub field: String,
}

impl Loc {
    pub fn diag(&self, message: impl Into<String>, hint: impl Into<String>) -> Diagnostic {
        Diagnostic::new(
            &self.file,
            (self.line, self.col),
            self.field.clone(),
            message,
            hint,
        )
    }
}

/// A unit read from the file, with where its list cells are (checked against the grid and the
/// categories by `validate`).
#[derive(Debug, Clone)]
pub struct FileUnit {
    pub unit: RawUnit,
    pub scope_at: Loc,
    pub categories_at: Loc,
}

/// Reads `file` (`.csv` or `.xlsx`) and checks every row on its own and against the YAML's
/// units; every unit with an id is returned (so references to it resolve) even when its row has
/// problems, which are in `diags`.
pub fn load(file: &Path, yaml_units: &[RawUnit], diags: &mut Diagnostics) -> Vec<FileUnit> {
    let ext = file
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let table = match ext.as_deref() {
        Some("csv") => match read_csv(file) {
            Ok(t) => t,
            Err(d) => {
                diags.push(d);
                return Vec::new();
            }
        },
        Some("xlsx") => match read_xlsx(file, None) {
            Ok(t) => t,
            Err(e) => {
                diags.push(Diagnostic::file_level(
                    file,
                    format!("units file: {e}"),
                    "save it from Excel/WPS as .xlsx",
                ));
                return Vec::new();
            }
        },
        _ => {
            diags.push(Diagnostic::file_level(
                file,
                "units_file must be a .csv or .xlsx file",
                "save the list as CSV (UTF-8) or XLSX",
            ));
            return Vec::new();
        }
    };
    Reader {
        file,
        table: &table,
    }
    .units(yaml_units, diags)
}

struct Reader<'a> {
    file: &'a Path,
    table: &'a Table,
}

impl Reader<'_> {
    fn loc(&self, line: usize, i: usize, key: &str) -> Loc {
        Loc {
            file: self.file.to_path_buf(),
            line,
            col: self.table.first_col + i + 1,
            field: match &self.table.sheet {
                Some(_) => self.table.place(line, i),
                None => format!("units_file.{key}"),
            },
        }
    }

    fn units(&self, yaml_units: &[RawUnit], diags: &mut Diagnostics) -> Vec<FileUnit> {
        let t = self.table;
        let mut cols: HashMap<&'static str, usize> = HashMap::new();
        let mut header_ok = true;
        for (i, h) in t.header.iter().enumerate() {
            if h.trim().is_empty() {
                continue;
            }
            let at = self.loc(t.header_line, i, h.trim());
            match column_named(h, &UNIT_COLUMNS) {
                None => {
                    diags.push(at.diag(
                        format!("unknown column `{}`", h.trim()),
                        format!(
                            "columns: {}",
                            UNIT_COLUMNS.map(|c| format!("{} ({})", c.zh, c.key)).join(", ")
                        ),
                    ));
                    header_ok = false;
                }
                Some(c) if cols.insert(c.key, i).is_some() => {
                    diags.push(at.diag(format!("column `{}` appears twice", c.zh), "keep one"));
                    header_ok = false;
                }
                Some(_) => {}
            }
        }
        for c in [ID, NAME, KIND] {
            if !cols.contains_key(c.key) {
                diags.push(self.loc(t.header_line, 0, c.key).diag(
                    format!("missing column {} ({})", c.zh, c.key),
                    "the first row names the columns, e.g. 单位ID,单位名称,类型,服务电话",
                ));
                header_ok = false;
            }
        }
        if !header_ok {
            return Vec::new();
        }
        let yaml_ids: HashSet<&str> = yaml_units.iter().map(|u| u.id.as_str()).collect();
        let mut out: Vec<FileUnit> = Vec::new();
        // id → (index in out, line of its first row).
        let mut by_id: HashMap<String, (usize, usize)> = HashMap::new();
        let mut contacts_seen: HashMap<(String, String, String), usize> = HashMap::new();
        for (line, cells) in &t.rows {
            let line = *line;
            let get = |c: Column| -> (String, usize) {
                let i = cols.get(c.key).copied().unwrap_or(0);
                let v = cols
                    .get(c.key)
                    .and_then(|&i| cells.get(i))
                    .map(|s| s.trim().to_string())
                    .unwrap_or_default();
                (v, i)
            };
            if cells.iter().all(|c| c.trim().is_empty()) {
                continue;
            }
            let (id, id_i) = get(ID);
            let id_at = self.loc(line, id_i, ID.key);
            if id.is_empty() {
                diags.push(id_at.diag(
                    "missing unit id / 缺少单位ID",
                    "every row names its unit: lowercase letters, digits and '-', e.g. jiazheng-01",
                ));
                continue;
            }
            if !is_id(&id) {
                diags.push(id_at.diag(
                    format!("`{id}` is not a unit id"),
                    "lowercase letters, digits and '-', e.g. jiazheng-01",
                ));
            }
            if yaml_ids.contains(id.as_str()) {
                diags.push(id_at.diag(
                    format!("unit `{id}` is also listed under units: in the profile"),
                    "list each unit once: in the profile or in the units file",
                ));
            }
            let (idx, first_line) = match by_id.get(&id) {
                Some(&(idx, first)) => (idx, Some(first)),
                None => {
                    out.push(FileUnit {
                        unit: RawUnit {
                            id: id.clone(),
                            kind: String::new(),
                            name: String::new(),
                            hotline: None,
                            contacts: Vec::new(),
                            functions: Vec::new(),
                            service_categories: Vec::new(),
                            qualification: None,
                            scope: Vec::new(),
                            address: None,
                            platform: None,
                            renamed_from: None,
                        },
                        scope_at: self.loc(line, get(SCOPE).1, SCOPE.key),
                        categories_at: self.loc(
                            line,
                            get(SERVICE_CATEGORIES).1,
                            "service_categories",
                        ),
                    });
                    by_id.insert(id.clone(), (out.len() - 1, line));
                    (out.len() - 1, None)
                }
            };
            // Unit columns: set on the unit's first row; later rows leave them blank or repeat
            // them exactly.
            for c in [
                NAME,
                KIND,
                HOTLINE,
                FUNCTIONS,
                SCOPE,
                ADDRESS,
                SERVICE_CATEGORIES,
                QUALIFICATION,
            ] {
                let (v, i) = get(c);
                let at = self.loc(line, i, c.key);
                let unit = &mut out[idx].unit;
                if let Some(first) = first_line {
                    if !v.is_empty() && v != unit_value(unit, c) {
                        diags.push(at.diag(
                            format!(
                                "{} `{v}` differs from the unit's first row (line {first})",
                                c.zh
                            ),
                            "give a unit's columns once (or identically); extra rows add contacts",
                        ));
                    }
                    continue;
                }
                if v == FILL_IN {
                    diags.push(at.diag(
                        format!("{} is still {FILL_IN}", c.zh),
                        "write the value or leave the cell empty",
                    ));
                    continue;
                }
                match c.key {
                    "name" => {
                        if v.is_empty() {
                            diags.push(at.diag(
                                "missing unit name / 缺少单位名称",
                                "write the unit's full name",
                            ));
                        }
                        unit.name = v;
                    }
                    "kind" => {
                        match kind_named(&v) {
                            Some(UnitKind::Center | UnitKind::Police) => {
                                diags.push(at.diag(
                                    format!("kind `{v}` cannot come from a units file"),
                                    "list the police unit (and any center entry) under units: in the profile",
                                ))
                            }
                            Some(k) => unit.kind = k.as_str().to_string(),
                            None => diags.push(at.diag(
                                format!("unknown unit kind `{v}`"),
                                "department, township, community_center, social_organization, volunteer_team or market_provider (or 政府部门, 乡镇/街道 …)",
                            )),
                        }
                    }
                    "hotline" if !v.is_empty() => {
                        if !is_phone(&v) {
                            diags.push(at.diag(format!("`{v}` is not a phone number"), PHONE_HINT));
                        }
                        unit.hotline = Some(v);
                    }
                    "functions" => unit.functions = split_list(&v),
                    "scope" => unit.scope = split_list(&v),
                    "service_categories" => unit.service_categories = split_list(&v),
                    "address" if !v.is_empty() => unit.address = Some(v),
                    "qualification" if !v.is_empty() => unit.qualification = Some(v),
                    _ => {}
                }
            }
            let (name, name_i) = get(CONTACT_NAME);
            let (role, _) = get(CONTACT_ROLE);
            let (phone, phone_i) = get(CONTACT_PHONE);
            if name.is_empty() && role.is_empty() && phone.is_empty() {
                continue;
            }
            if name.is_empty() || name == FILL_IN {
                diags.push(self.loc(line, name_i, CONTACT_NAME.key).diag(
                    "a contact row needs the contact's name / 联系人姓名必填",
                    "write the person's name (or 值班室 for a duty desk)",
                ));
            }
            if !phone.is_empty() && !is_phone(&phone) {
                diags.push(
                    self.loc(line, phone_i, CONTACT_PHONE.key)
                        .diag(format!("`{phone}` is not a phone number"), PHONE_HINT),
                );
            }
            let key = (id.clone(), name.clone(), phone.clone());
            if let Some(&first) = contacts_seen.get(&key) {
                diags.push(self.loc(line, name_i, CONTACT_NAME.key).diag(
                    format!("duplicate contact of `{id}` (same as line {first})"),
                    "delete the repeated row",
                ));
                continue;
            }
            contacts_seen.insert(key, line);
            out[idx].unit.contacts.push(RawContact {
                name,
                role: (!role.is_empty()).then_some(role),
                phone: (!phone.is_empty()).then_some(phone),
            });
        }
        out
    }
}

/// A unit's value of a unit column, as the file would spell it (to compare later rows).
fn unit_value(u: &RawUnit, c: Column) -> String {
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    match c.key {
        "name" => u.name.clone(),
        "kind" => u.kind.clone(),
        "hotline" => opt(&u.hotline),
        "functions" => u.functions.join("、"),
        "scope" => u.scope.join("、"),
        "service_categories" => u.service_categories.join("、"),
        "address" => opt(&u.address),
        "qualification" => opt(&u.qualification),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn csv(text: &str, yaml: &[RawUnit]) -> (Vec<FileUnit>, Diagnostics) {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("units.csv");
        std::fs::write(&p, text).unwrap();
        let mut d = Diagnostics::default();
        let u = load(&p, yaml, &mut d);
        (u, d)
    }

    #[test]
    fn rows_group_into_units_with_contacts() {
        let (units, d) = csv(
            "\u{feff}单位ID,单位名称,类型,服务电话,联系人,职务,联系电话,职能,服务范围\n\
             jz-01,好帮手家政,市场化服务队伍,13900000001,王芳,负责人,13900000002,家政、保洁,350781001;350781002\n\
             jz-01,,,,李强,,0599-6332345,,\n\
             vt-1,Red,volunteer_team,,,,,,\n",
            &[],
        );
        assert!(d.is_empty(), "{d}");
        assert_eq!(units.len(), 2);
        let u = &units[0].unit;
        assert_eq!(
            (u.kind.as_str(), u.name.as_str()),
            ("market_provider", "好帮手家政")
        );
        assert_eq!(u.functions, ["家政", "保洁"]);
        assert_eq!(u.scope, ["350781001", "350781002"]);
        assert_eq!(u.contacts.len(), 2);
        assert_eq!(u.contacts[1].phone.as_deref(), Some("0599-6332345"));
        assert!(units[1].unit.contacts.is_empty());
    }

    #[test]
    fn every_bad_cell_is_reported_at_its_line_and_column() {
        let yaml = [RawUnit {
            id: "taken".into(),
            kind: "department".into(),
            name: "x".into(),
            ..RawUnit::default()
        }];
        let (_, d) = csv(
            "id,name,kind,hotline,contact_name,contact_phone\n\
             taken,A,department,,,\n\
             ok-1,B,nonsense,12,,13900000000\n\
             ok-1,C,,,,\n\
             ,D,department,,,\n",
            &yaml,
        );
        let got: Vec<_> = d
            .iter()
            .map(|d| (d.line, d.col, d.message.clone()))
            .collect();
        assert_eq!(got.len(), 6, "{d}");
        assert!(got[0].2.contains("also listed under units:"));
        assert_eq!((got[1].0, got[1].1), (3, 3));
        assert_eq!((got[2].0, got[2].1), (3, 4)); // hotline 12
        assert_eq!((got[3].0, got[3].1), (3, 5)); // contact without a name
        assert_eq!((got[4].0, got[4].1), (4, 2)); // name differs from the first row
        assert_eq!((got[5].0, got[5].1), (5, 1)); // no id
        assert!(
            d.to_string().contains("units.csv:3:4: units_file.hotline:"),
            "{d}"
        );
    }

    #[test]
    fn headers_are_checked() {
        let (u, d) = csv("id,name,colour\n", &[]);
        assert!(u.is_empty());
        let msgs: Vec<_> = d.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(
            msgs,
            ["unknown column `colour`", "missing column 类型 (kind)"]
        );
    }

    #[test]
    fn cell_refs_and_lists() {
        assert_eq!(cell_ref(7, 4), "E7");
        assert_eq!(cell_ref(1, 25), "Z1");
        assert_eq!(cell_ref(2, 26), "AA2");
        assert_eq!(split_list(" a、b ;c；; "), ["a", "b", "c"]);
        assert_eq!(kind_named("乡镇/街道"), Some(UnitKind::Township));
    }
}
