/*!
Bulk account import: the rows of a CSV or XLSX sheet (one account a row) read into new users,
every row checked before any is created, each problem named by row and column.

Columns, by header (Chinese or English, any order): 登录名/name (required), 姓名/real_name,
电话/phone, 角色/role (code or Chinese name, e.g. `unit_handler` or 承办人员), 单位/unit (id or
name), 网格/grid (codes or names, separated by `;` or `、`). Each account gets a one-time
password, shown once to the admin, that must be changed at first login.
*/

use std::collections::HashSet;

use super::region::RegionIndex;
use crate::model::Role;

/// Most rows one import takes.
pub const MAX_ROWS: usize = 2000;

/// One account read from a row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportRow {
    /// 1-based row in the sheet (the header is row 1).
    pub row: usize,
    pub name: String,
    pub real_name: Option<String>,
    pub phone: Option<String>,
    pub role: Role,
    pub unit_id: Option<String>,
    pub grid_codes: Vec<String>,
}

/// A problem in one cell: row (1-based, header = 1), column header, what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub row: usize,
    pub column: String,
    pub message: String,
}

const COLUMNS: [(&str, &[&str]); 6] = [
    ("name", &["name", "登录名", "账号", "用户名"]),
    ("real_name", &["real_name", "姓名"]),
    ("phone", &["phone", "电话", "手机"]),
    ("role", &["role", "角色"]),
    ("unit", &["unit", "单位", "承办单位"]),
    ("grid", &["grid", "网格"]),
];

fn role_of(s: &str) -> Option<Role> {
    Role::parse(s).or_else(|| Role::ALL.into_iter().find(|r| r.name_zh() == s))
}

/// A unit by id, full name, or the end of its name (`交通运输局` for `邵武市交通运输局`) when
/// only one unit's name ends so: sheets are typed by people, who drop the region's name.
fn unit_named(region: &RegionIndex, given: &str) -> Result<String, String> {
    if let Some(u) = region
        .units
        .iter()
        .find(|x| x.id == given || x.name == given)
    {
        return Ok(u.id.clone());
    }
    let tail: Vec<_> = region
        .units
        .iter()
        .filter(|x| x.name.ends_with(given))
        .collect();
    match tail.as_slice() {
        [one] => Ok(one.id.clone()),
        [] => Err(format!("no handling unit {given:?}")),
        many => Err(format!(
            "{given:?} could be any of {}: write the full name or the id",
            many.iter()
                .map(|u| u.name.as_str())
                .collect::<Vec<_>>()
                .join("、")
        )),
    }
}

/// Reads the account rows of a sheet given as rows of cells (the header first).
pub fn read_rows(
    sheet: &[Vec<String>],
    region: &RegionIndex,
) -> Result<Vec<ImportRow>, Vec<RowError>> {
    let mut errors = Vec::new();
    let Some(header) = sheet.first() else {
        return Err(vec![RowError {
            row: 1,
            column: "—".into(),
            message: "the sheet is empty: it needs a header row".into(),
        }]);
    };
    let col = |key: &str| -> Option<usize> {
        let names = COLUMNS.iter().find(|(k, _)| *k == key)?.1;
        header
            .iter()
            .position(|h| names.contains(&h.trim().trim_start_matches('\u{feff}')))
    };
    let Some(name_col) = col("name") else {
        return Err(vec![RowError {
            row: 1,
            column: "name".into(),
            message: "no 登录名 / name column in the header".into(),
        }]);
    };
    if col("role").is_none() {
        return Err(vec![RowError {
            row: 1,
            column: "role".into(),
            message: "no 角色 / role column in the header".into(),
        }]);
    }
    if sheet.len() - 1 > MAX_ROWS {
        return Err(vec![RowError {
            row: MAX_ROWS + 2,
            column: "—".into(),
            message: format!("at most {MAX_ROWS} accounts per import"),
        }]);
    }
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for (i, cells) in sheet.iter().enumerate().skip(1) {
        let row = i + 1;
        let cell = |key: &str| -> Option<String> {
            col(key)
                .and_then(|c| cells.get(c))
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        if cells.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let mut err = |column: &str, message: String| {
            errors.push(RowError {
                row,
                column: column.into(),
                message,
            })
        };
        let name = cells
            .get(name_col)
            .map(|v| v.trim().to_string())
            .unwrap_or_default();
        if name.is_empty() {
            err("name", "empty".into());
            continue;
        }
        if !seen.insert(name.clone()) {
            err("name", format!("{name} appears twice in the sheet"));
        }
        let role = match cell("role").as_deref().map(role_of) {
            Some(Some(r)) => r,
            Some(None) => {
                err(
                    "role",
                    format!("unknown role {:?}", cell("role").unwrap_or_default()),
                );
                continue;
            }
            None => {
                err("role", "empty".into());
                continue;
            }
        };
        let unit_id = match cell("unit") {
            None => None,
            Some(u) => match unit_named(region, &u) {
                Ok(id) => Some(id),
                Err(m) => {
                    err("unit", m);
                    None
                }
            },
        };
        if role.needs_unit() && unit_id.is_none() && cell("unit").is_none() {
            err("unit", format!("role {role} needs its unit"));
        }
        let mut grid_codes = Vec::new();
        for g in cell("grid")
            .unwrap_or_default()
            .split([';', '；', '、', ','])
            .map(str::trim)
            .filter(|g| !g.is_empty())
        {
            match region
                .grid(g)
                .or_else(|| region.grid_units.iter().find(|x| x.name == g))
            {
                Some(x) => grid_codes.push(x.code.clone()),
                None => err("grid", format!("no grid unit {g:?}")),
            }
        }
        if role.needs_grid() && grid_codes.is_empty() && cell("grid").is_none() {
            err("grid", format!("role {role} needs its grid cells"));
        }
        out.push(ImportRow {
            row,
            name,
            real_name: cell("real_name"),
            phone: cell("phone"),
            role,
            unit_id,
            grid_codes,
        });
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// The rows of a CSV file (UTF-8, with or without BOM).
pub fn csv_sheet(bytes: &[u8]) -> Result<Vec<Vec<String>>, String> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut rows = Vec::new();
    for rec in reader.records() {
        let rec = rec.map_err(|e| format!("CSV: {e}"))?;
        rows.push(rec.iter().map(str::to_string).collect());
    }
    Ok(rows)
}

/// The rows of the first sheet of an XLSX workbook, every cell as text.
pub fn xlsx_sheet(bytes: &[u8]) -> Result<Vec<Vec<String>>, String> {
    use calamine::Reader;
    let mut book = calamine::Xlsx::new(std::io::Cursor::new(bytes.to_vec()))
        .map_err(|e| format!("XLSX: {e}"))?;
    let range = book
        .worksheet_range_at(0)
        .ok_or("XLSX: the workbook has no sheet")?
        .map_err(|e| format!("XLSX: {e}"))?;
    Ok(range
        .rows()
        .map(|r| {
            r.iter()
                .map(|c| match c {
                    // A phone typed as a number comes back as a float: keep its digits.
                    calamine::Data::Float(f) if f.fract() == 0.0 => format!("{}", *f as i64),
                    other => other.to_string(),
                })
                .collect()
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testdb::fixture_region;

    fn index() -> RegionIndex {
        RegionIndex::from_region(&fixture_region())
    }

    #[test]
    fn reads_rows_by_chinese_headers_and_names() {
        let region = index();
        let unit = region
            .units
            .iter()
            .find(|u| u.kind == crate::model::UnitKind::Department)
            .unwrap();
        let grid = region.grid_units.last().unwrap();
        let csv = format!(
            "\u{feff}登录名,姓名,电话,角色,单位,网格\n\
             zj1,张三,0599-6301234,承办人员,{},\n\
             wg1,李四,,grid_worker,,{}\n",
            unit.name, grid.name
        );
        let sheet = csv_sheet(csv.as_bytes()).unwrap();
        let rows = read_rows(&sheet, &region).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].role, Role::UnitHandler);
        assert_eq!(rows[0].unit_id.as_deref(), Some(unit.id.as_str()));
        assert_eq!(rows[0].phone.as_deref(), Some("0599-6301234"));
        assert_eq!(rows[1].grid_codes, vec![grid.code.clone()]);
    }

    #[test]
    fn every_problem_is_named_by_row_and_column() {
        let region = index();
        let csv = "name,role,unit\nok1,operator,\n,operator,\nx2,chef,\nx3,unit_handler,nowhere\nok1,analyst,\n";
        let errs = read_rows(&csv_sheet(csv.as_bytes()).unwrap(), &region).unwrap_err();
        let got: Vec<(usize, &str)> = errs.iter().map(|e| (e.row, e.column.as_str())).collect();
        assert_eq!(got, [(3, "name"), (4, "role"), (5, "unit"), (6, "name")]);
        let no_header = read_rows(&csv_sheet(b"a,b\n1,2\n").unwrap(), &region).unwrap_err();
        assert_eq!(no_header[0].column, "name");
    }
}
