/*!
Loading the data-system CSVs a profile's `directories` section names.

Four directory files share one column set (`name` required; `category`, `phone`, `address`,
`grid`, `description`, `qualification`, `unit` optional); the vulnerable-household registry has
its own (`head_name`, `kind` required; `grid`, `phone`, `id_number`, `members`, `address`,
`notes`). Every bad row becomes a diagnostic with the CSV file and line; unknown columns are
errors, like unknown keys in the profile.
*/

use std::collections::{HashMap, HashSet};
use std::path::Path;

use m110_runtime::model::{DirectoryEntry, DirectorySystem, Household, HouseholdKind};

use super::diag::{Diagnostic, Diagnostics};
use super::formats::{PHONE_HINT, is_id_number, is_phone};
use super::raw::{RawDirectories, directory_paths};
use super::yaml::read_capped;

const DIRECTORY_COLUMNS: &[&str] = &[
    "name",
    "category",
    "phone",
    "address",
    "grid",
    "description",
    "qualification",
    "unit",
];
const HOUSEHOLD_COLUMNS: &[&str] = &[
    "head_name",
    "kind",
    "grid",
    "phone",
    "id_number",
    "members",
    "address",
    "notes",
];

pub(super) struct Table {
    columns: HashMap<String, usize>,
    /// (line, fields)
    pub(super) rows: Vec<(usize, Vec<String>)>,
}

impl Table {
    pub(super) fn get(&self, row: &[String], col: &str) -> Option<String> {
        self.columns
            .get(col)
            .and_then(|&i| row.get(i))
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
    }

    /// 1-based column number of `col` (for diagnostics).
    pub(super) fn col(&self, col: &str) -> usize {
        self.columns.get(col).map_or(1, |i| i + 1)
    }
}

pub(super) fn read_table(
    file: &Path,
    key: &str,
    allowed: &[&str],
    required: &[&str],
    diags: &mut Diagnostics,
) -> Option<Table> {
    let text = match read_capped(file, "CSV file") {
        Ok(t) => t,
        Err(d) => {
            diags.push(d);
            return None;
        }
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(false)
        .from_reader(text.as_bytes());
    let headers = match rdr.headers() {
        Ok(h) => h.clone(),
        Err(e) => {
            diags.push(Diagnostic::new(
                file,
                (1, 1),
                key,
                format!("unreadable CSV header: {e}"),
                "the first line lists the column names",
            ));
            return None;
        }
    };
    let header_line = start_line(text, headers.position());
    let mut columns = HashMap::new();
    let mut ok = true;
    for (i, h) in headers.iter().enumerate() {
        let h = h.trim();
        if !allowed.contains(&h) {
            diags.push(Diagnostic::new(
                file,
                (header_line, i + 1),
                format!("{key}.{h}"),
                format!("unknown column `{h}`"),
                format!("allowed columns: {}", allowed.join(", ")),
            ));
            ok = false;
        } else if columns.insert(h.to_string(), i).is_some() {
            diags.push(Diagnostic::new(
                file,
                (header_line, i + 1),
                format!("{key}.{h}"),
                format!("column `{h}` appears twice"),
                "keep one",
            ));
            ok = false;
        }
    }
    for r in required {
        if !columns.contains_key(*r) {
            diags.push(Diagnostic::new(
                file,
                (header_line, 1),
                key,
                format!("missing required column `{r}`"),
                format!("add a `{r}` column to the header"),
            ));
            ok = false;
        }
    }
    let mut rows = Vec::new();
    for rec in rdr.records() {
        match rec {
            Ok(r) => {
                let line = start_line(text, r.position());
                rows.push((line, r.iter().map(str::to_string).collect()));
            }
            Err(e) => {
                let line = start_line(text, e.position());
                let msg = match e.kind() {
                    csv::ErrorKind::UnequalLengths {
                        expected_len, len, ..
                    } => format!("row has {len} fields, the header has {expected_len}"),
                    _ => format!("unreadable CSV row: {e}"),
                };
                diags.push(Diagnostic::new(
                    file,
                    (line, 1),
                    key,
                    msg,
                    "quote fields containing commas; one row per line",
                ));
                ok = false;
            }
        }
    }
    ok.then_some(Table { columns, rows })
}

/// The line a record starts on. The csv reader reports where it stood before the record, which
/// is before any blank lines it skipped (a header after an empty first line, a row after a blank
/// line), so count those too.
pub(crate) fn start_line(text: &str, pos: Option<&csv::Position>) -> usize {
    let Some(p) = pos else { return 1 };
    let mut line = p.line() as usize;
    let from = usize::try_from(p.byte()).unwrap_or(usize::MAX);
    for b in text.as_bytes().iter().skip(from) {
        match b {
            b'\n' => line += 1,
            b'\r' => {}
            _ => break,
        }
    }
    line
}

/// Loads every directory CSV, resolving paths against the profile's directory `base`.
pub fn load(
    base: &Path,
    dirs: &RawDirectories,
    grid: &HashSet<String>,
    units: &HashSet<String>,
    diags: &mut Diagnostics,
) -> (Vec<DirectoryEntry>, Vec<Household>) {
    let mut entries = Vec::new();
    let mut households = Vec::new();
    for (key, rel) in directory_paths(dirs) {
        let file = base.join(rel);
        if !file.is_file() {
            continue; // reported by validation at the profile's line
        }
        if key == "vulnerable_households" {
            if let Some(t) =
                read_table(&file, key, HOUSEHOLD_COLUMNS, &["head_name", "kind"], diags)
            {
                households_from(&file, key, &t, grid, diags, &mut households);
            }
        } else if let Some(t) = read_table(&file, key, DIRECTORY_COLUMNS, &["name"], diags) {
            let system = DirectorySystem::parse(key).expect("directory keys match the model");
            entries_from(&file, key, system, &t, grid, units, diags, &mut entries);
        }
    }
    (entries, households)
}

#[allow(clippy::too_many_arguments)]
fn entries_from(
    file: &Path,
    key: &str,
    system: DirectorySystem,
    t: &Table,
    grid: &HashSet<String>,
    units: &HashSet<String>,
    diags: &mut Diagnostics,
    out: &mut Vec<DirectoryEntry>,
) {
    for (line, row) in &t.rows {
        let mut bad = |col: &str, msg: String, hint: &str| {
            diags.push(Diagnostic::new(
                file,
                (*line, t.col(col)),
                format!("{key}.{col}"),
                msg,
                hint,
            ));
        };
        let Some(name) = t.get(row, "name") else {
            bad("name", "name is empty".into(), "every row needs a name");
            continue;
        };
        let phone = t.get(row, "phone");
        if let Some(p) = &phone
            && !is_phone(p)
        {
            bad("phone", format!("`{p}` is not a phone number"), PHONE_HINT);
        }
        let g = t.get(row, "grid");
        if let Some(g) = &g
            && !grid.contains(g)
        {
            bad(
                "grid",
                format!("grid unit `{g}` does not exist"),
                "use a code from grid.units",
            );
        }
        let unit = t.get(row, "unit");
        if let Some(u) = &unit
            && !units.contains(u)
        {
            bad(
                "unit",
                format!("unit `{u}` does not exist"),
                "use an id from units",
            );
        }
        out.push(DirectoryEntry {
            system,
            name,
            category: t.get(row, "category"),
            phone,
            address: t.get(row, "address"),
            grid: g,
            description: t.get(row, "description"),
            qualification: t.get(row, "qualification"),
            unit,
        });
    }
}

fn households_from(
    file: &Path,
    key: &str,
    t: &Table,
    grid: &HashSet<String>,
    diags: &mut Diagnostics,
    out: &mut Vec<Household>,
) {
    for (line, row) in &t.rows {
        let mut bad = |col: &str, msg: String, hint: &str| {
            diags.push(Diagnostic::new(
                file,
                (*line, t.col(col)),
                format!("{key}.{col}"),
                msg,
                hint,
            ));
        };
        let Some(head_name) = t.get(row, "head_name") else {
            bad(
                "head_name",
                "head_name is empty".into(),
                "every row needs the household head",
            );
            continue;
        };
        let kind_s = t.get(row, "kind").unwrap_or_default();
        let Some(kind) = HouseholdKind::parse(&kind_s) else {
            bad(
                "kind",
                format!("unknown household kind `{kind_s}`"),
                "use dibao, extreme_poverty, entitled, disabled, elderly_alone, left_behind_child or other",
            );
            continue;
        };
        let phone = t.get(row, "phone");
        if let Some(p) = &phone
            && !is_phone(p)
        {
            bad("phone", "not a phone number".into(), PHONE_HINT);
        }
        let id_number = t.get(row, "id_number");
        if let Some(id) = &id_number
            && !is_id_number(id)
        {
            // Do not echo the value: ID numbers are personal data.
            bad(
                "id_number",
                "not a valid 18-character resident ID number (checksum or format)".into(),
                "17 digits and a check digit or X; leave empty when unknown",
            );
        }
        let g = t.get(row, "grid");
        if let Some(g) = &g
            && !grid.contains(g)
        {
            bad(
                "grid",
                format!("grid unit `{g}` does not exist"),
                "use a code from grid.units",
            );
        }
        let members = match t.get(row, "members") {
            None => None,
            Some(m) => match m.parse::<u32>() {
                Ok(n) if n > 0 => Some(n),
                _ => {
                    bad(
                        "members",
                        format!("`{m}` is not a positive whole number"),
                        "e.g. 3",
                    );
                    None
                }
            },
        };
        out.push(Household {
            head_name,
            kind,
            grid: g,
            phone,
            id_number,
            members,
            address: t.get(row, "address"),
            notes: t.get(row, "notes"),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::start_line;

    /// Lines of the header and of each record, as diagnostics name them.
    fn lines(text: &str) -> Vec<usize> {
        let mut rdr = csv::ReaderBuilder::new()
            .flexible(true)
            .from_reader(text.as_bytes());
        let mut out = vec![start_line(text, rdr.headers().unwrap().position())];
        for r in rdr.records() {
            out.push(start_line(text, r.unwrap().position()));
        }
        out
    }

    #[test]
    fn records_after_blank_lines_name_their_own_line() {
        assert_eq!(lines("a,b\n1,2\n3,4\n"), [1, 2, 3]);
        assert_eq!(lines("\n\na,b\n1,2\n"), [3, 4]);
        assert_eq!(lines("a,b\n\n\n1,2\n\n3,4"), [1, 4, 6]);
        assert_eq!(lines("a,b\r\n1,2\r\n\r\n3,4\r\n"), [1, 2, 4]);
        assert_eq!(lines("a,b\n\"x\ny\",2\n3,4\n"), [1, 2, 4]);
    }
}
