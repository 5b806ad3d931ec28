/*!
Finding divisions by what a person types: a code, a name with or without its parents
(`兰考县`, `开封市兰考县`, `河南开封兰考`), a name without its suffix (`兰考`), or pinyin initials
(`lk`, `kf lk`).

`resolve` is what `init --division` uses: one county/district, prefecture-level city or province,
or an error that lists the candidates (ambiguous) or the closest names (unknown). `search` is
`m110 divisions search`: every level, by name substring, code prefix or pinyin initials, ranked.

Pinyin comes from the `pinyin` crate (the pinyin-data tables). Every reading of a character is
accepted when matching (`cq` finds 重庆 though 重's first reading is zhòng); the hint printed
beside a name uses the first reading.
*/

use pinyin::{ToPinyin, ToPinyinMulti};

use super::{Division, DivisionError, Divisions, Level, init_code, is_placeholder, villages};

/// A division found by `resolve` or `search`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// The code to pass on: `410000`/`410200` for a province/prefecture (what `init` takes),
    /// the statistical code otherwise.
    pub code: String,
    pub level: Level,
    pub name: String,
    /// Names from the province down to this division, placeholders (市辖区) left out.
    pub path: Vec<String>,
}

impl Found {
    fn new(chain: &[&Division], level: Level) -> Found {
        let last = chain.last().expect("a chain has its division");
        Found {
            code: init_code(&last.code),
            level,
            name: last.name.clone(),
            path: chain.iter().map(|d| d.name.clone()).collect(),
        }
    }

    /// The path as one string: `河南省开封市兰考县`.
    pub fn path_text(&self) -> String {
        self.path.concat()
    }

    /// Pinyin initials of each path element, suffix left off: `hn kf lk`.
    pub fn initials(&self) -> String {
        let levels = [
            Level::Province,
            Level::Prefecture,
            Level::County,
            Level::Township,
        ];
        self.path
            .iter()
            .enumerate()
            .map(|(i, n)| {
                // Municipalities skip the prefecture, so the element's level is a guess; the
                // suffixes of adjacent levels do not collide, so the guess is harmless.
                let level = if i + 1 == self.path.len() {
                    self.level
                } else {
                    levels[i.min(3)]
                };
                initials(short_name(n, level).unwrap_or(n))
            })
            .collect::<Vec<_>>()
            .join(" ")
    }
}

impl std::fmt::Display for Found {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {} ({})",
            self.code,
            self.path_text(),
            self.initials()
        )
    }
}

/// Why `resolve` found no single division.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    #[error("{}", ambiguous_message(.query, .candidates))]
    Ambiguous {
        query: String,
        candidates: Vec<Found>,
    },
    #[error("{}", unknown_message(.query, .suggestions, .lower, *.lower_total))]
    Unknown {
        query: String,
        /// The closest county/prefecture/province names.
        suggestions: Vec<Found>,
        /// Townships or villages of that name (init takes their county), the first few.
        lower: Vec<Found>,
        /// How many townships have that name in all.
        lower_total: usize,
    },
    #[error(
        "unknown division code `{0}`: expected a 6-digit county/district code (e.g. 350781), a prefecture-level city code ending in 00 (e.g. 350200) or a province code ending in 0000 (e.g. 350000) / 未知的区划代码"
    )]
    UnknownCode(String),
    #[error(
        "`{code}` is a {} code ({}); init takes a county/district, prefecture-level city or province: use {county} / 请使用县级代码",
        .level.key(), .path
    )]
    BelowCounty {
        code: String,
        level: Level,
        path: String,
        county: String,
    },
}

fn ambiguous_message(query: &str, candidates: &[Found]) -> String {
    let mut s = format!(
        "`{query}` names {} divisions / 有 {} 个同名区划; pass the code or the fuller name, e.g. `{}` / 请改用代码或更完整的名称:",
        candidates.len(),
        candidates.len(),
        candidates.first().map_or(String::new(), Found::path_text)
    );
    for c in candidates {
        s.push_str(&format!("\n  {c}"));
    }
    s
}

fn unknown_message(query: &str, suggestions: &[Found], lower: &[Found], total: usize) -> String {
    let mut s = format!(
        "no county/district, prefecture-level city or province is named `{query}` / 未找到名为「{query}」的县级、地级或省级区划"
    );
    if !lower.is_empty() {
        s.push_str(
            "\n  it names a township or village; init takes the county it belongs to / 这是乡镇或村的名称，请使用其所在县的代码:",
        );
        for f in lower {
            s.push_str(&format!(
                "\n  {} {} {} → m110 init --division {}",
                f.level.label(),
                f.code,
                f.path_text(),
                &f.code[..6]
            ));
        }
        if total > lower.len() {
            s.push_str(&format!(
                "\n  … {} in all: `m110 divisions search {query}` lists them",
                super::thousands(total)
            ));
        }
    }
    if !suggestions.is_empty() {
        s.push_str("\n  did you mean / 您是否要找:");
        for f in suggestions {
            s.push_str(&format!("\n  {f}"));
        }
    }
    if lower.is_empty() && suggestions.is_empty() {
        s.push_str("\n  try `m110 divisions search TEXT` (name, code prefix or pinyin initials)");
    }
    s
}

/// How many suggestions an unknown name lists.
const SUGGESTIONS: usize = 5;

/// The one county/district, prefecture-level city or province `query` names: a code (2, 4 or
/// 6 digits) or a name, optionally preceded by its parents' names, each with or without suffix.
pub fn resolve(d: &Divisions, query: &str) -> Result<Found, ResolveError> {
    let q = normalize(query);
    if !q.is_empty() && q.bytes().all(|b| b.is_ascii_digit()) {
        return resolve_code(d, &q);
    }
    let qc: Vec<char> = q.chars().collect();
    let mut full = Vec::new();
    let mut short = Vec::new();
    for (chain, level) in upper_levels(d) {
        match path_match(&qc, &chain, level, Mode::Name) {
            Some(Own::Full) => full.push(Found::new(&chain, level)),
            Some(Own::Short) => short.push(Found::new(&chain, level)),
            None => {}
        }
    }
    // A name as written beats a name whose suffix was left off (`吉林市` is the city only).
    let mut found = if full.is_empty() { short } else { full };
    match found.len() {
        1 => Ok(found.remove(0)),
        0 => {
            let (lower, lower_total) = lower_named(d, &q);
            Err(ResolveError::Unknown {
                query: query.trim().to_string(),
                suggestions: suggestions(d, &qc),
                lower,
                lower_total,
            })
        }
        _ => {
            found.sort_by(|a, b| (a.level, &a.code).cmp(&(b.level, &b.code)));
            Err(ResolveError::Ambiguous {
                query: query.trim().to_string(),
                candidates: found,
            })
        }
    }
}

fn resolve_code(d: &Divisions, q: &str) -> Result<Found, ResolveError> {
    let unknown = || ResolveError::UnknownCode(q.to_string());
    match q.len() {
        2 | 4 | 6 => {
            let raw = super::villages::region_prefix(q);
            let raw = if q.len() < 6 { q } else { raw };
            let chain = d.chain(raw);
            let level = Level::of_code(raw).ok_or_else(unknown)?;
            if chain.last().is_none_or(|x| x.code != raw) {
                return Err(unknown());
            }
            Ok(Found::new(&chain, level))
        }
        9 | 12 => {
            let chain = d.chain(&q[..9]);
            if chain.is_empty() {
                return Err(unknown());
            }
            Err(ResolveError::BelowCounty {
                code: q.to_string(),
                level: Level::of_code(q).ok_or_else(unknown)?,
                path: chain.iter().map(|x| x.name.as_str()).collect(),
                county: q[..6].to_string(),
            })
        }
        _ => Err(unknown()),
    }
}

/// Provinces, prefectures (placeholders left out) and counties with their chains.
fn upper_levels(d: &Divisions) -> impl Iterator<Item = (Vec<&Division>, Level)> {
    let provinces = d.provinces.values().map(|p| (vec![p], Level::Province));
    let cities = d
        .cities
        .values()
        .filter(|c| !is_placeholder(&c.name))
        .map(|c| (d.chain(&c.code), Level::Prefecture));
    let areas = d
        .area_list
        .iter()
        .map(|a| (d.chain(&a.code), Level::County));
    provinces.chain(cities).chain(areas)
}

/// Townships (and, when there are none, villages) named `q` exactly or without suffix: the
/// first few in code order, and how many there are.
fn lower_named(d: &Divisions, q: &str) -> (Vec<Found>, usize) {
    let mut out: Vec<Found> = Vec::new();
    for towns in d.streets.values() {
        for t in towns {
            if t.name == q || short_name(&t.name, Level::Township) == Some(q) {
                out.push(Found::new(&d.chain(&t.code), Level::Township));
            }
        }
    }
    if out.is_empty() && q.chars().count() >= 2 {
        let _ = villages::scan("", |v| {
            if out.len() < SUGGESTIONS && v.name == q {
                let mut f = Found::new(&d.chain(&v.parent), Level::Township);
                f.code = v.code.clone();
                f.level = Level::Village;
                f.name = v.name.clone();
                f.path.push(v.name);
                out.push(f);
            }
        });
    }
    out.sort_by(|a, b| a.code.cmp(&b.code));
    let total = out.len();
    out.truncate(SUGGESTIONS);
    (out, total)
}

/// The closest upper-level names to an unknown query: names containing it or contained in
/// it, then names one or two edits away.
fn suggestions(d: &Divisions, q: &[char]) -> Vec<Found> {
    if q.is_empty() {
        return Vec::new();
    }
    let qs: String = q.iter().collect();
    let mut scored: Vec<(usize, Found)> = Vec::new();
    for (chain, level) in upper_levels(d) {
        let own = chain.last().expect("chain");
        let short = short_name(&own.name, level);
        let forms = std::iter::once(own.name.as_str()).chain(short);
        let mut best = usize::MAX;
        for f in forms {
            let fc: Vec<char> = f.chars().collect();
            if f.contains(&qs) || (fc.len() >= 2 && qs.contains(f)) {
                best = 0;
            } else {
                let dist = edit_distance(q, &fc);
                let allowed = if q.len() >= 4 { 4 } else { 2 };
                if dist <= allowed {
                    best = best.min(dist);
                }
            }
        }
        if best != usize::MAX {
            scored.push((best, Found::new(&chain, level)));
        }
    }
    scored.sort_by(|a, b| (a.0, a.1.level, &a.1.code).cmp(&(b.0, b.1.level, &b.1.code)));
    scored
        .into_iter()
        .take(SUGGESTIONS)
        .map(|(_, f)| f)
        .collect()
}

/// Edit distance in half steps: a character typed for another of the same sound (兰烤 for
/// 兰考, the usual input-method slip) costs 1, any other edit 2.
fn edit_distance(a: &[char], b: &[char]) -> usize {
    let mut prev: Vec<usize> = (0..=b.len()).map(|j| 2 * j).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![2 * (i + 1); b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = if ca == cb {
                0
            } else if same_sound(*ca, *cb) {
                1
            } else {
                2
            };
            cur[j + 1] = (prev[j] + sub).min(prev[j + 1] + 2).min(cur[j] + 2);
        }
        prev = cur;
    }
    prev[b.len()]
}

fn same_sound(a: char, b: char) -> bool {
    let (Some(pa), Some(pb)) = (a.to_pinyin_multi(), b.to_pinyin_multi()) else {
        return false;
    };
    pa.into_iter()
        .any(|x| pb.into_iter().any(|y| x.plain() == y.plain()))
}

/// A search hit and how good it is (lower is better) for ordering.
struct Hit {
    rank: u8,
    found: Found,
}

/// Every division matching `query`, best first: by code prefix (digits), pinyin initials
/// (letters; spaces separate path elements, `kf lk`) or name (substring of the name, or the
/// name with its parents as `resolve` reads it). Villages only when `with_villages`.
pub fn search(
    d: &Divisions,
    query: &str,
    with_villages: bool,
) -> Result<Vec<Found>, DivisionError> {
    let q = normalize(query);
    if q.is_empty() {
        return Ok(Vec::new());
    }
    let mode = if q.bytes().all(|b| b.is_ascii_digit()) {
        None
    } else if q.bytes().all(|b| b.is_ascii_alphabetic()) {
        Some(Mode::Pinyin)
    } else {
        Some(Mode::Name)
    };
    let q = q.to_ascii_lowercase();
    let qc: Vec<char> = q.chars().collect();
    let mut hits: Vec<Hit> = Vec::new();
    let mut consider = |chain: &[&Division], level: Level, extra: Option<&Division>| {
        let own = extra.unwrap_or_else(|| chain.last().expect("chain"));
        let rank = match mode {
            None => code_rank(&q, &own.code, level),
            Some(m) => name_rank(&qc, &own.name, level, m).or_else(|| {
                // The name with its parents (`开封兰考`, `kflk`): as good as the exact name.
                if extra.is_none() && level <= Level::Township {
                    path_match(&qc, chain, level, m).map(|_| 0)
                } else {
                    None
                }
            }),
        };
        if let Some(rank) = rank {
            let mut found = Found::new(chain, level.min(Level::Township));
            if let Some(v) = extra {
                found.code = v.code.clone();
                found.level = Level::Village;
                found.name = v.name.clone();
                found.path.push(v.name.clone());
            }
            hits.push(Hit { rank, found });
        }
    };
    for (chain, level) in upper_levels(d) {
        consider(&chain, level, None);
    }
    for towns in d.streets.values() {
        for t in towns {
            consider(&d.chain(&t.code), Level::Township, None);
        }
    }
    if with_villages {
        let prefix = if mode.is_none() { q.as_str() } else { "" };
        let prefix = &prefix[..prefix.len().min(2)];
        let mut town: Option<(String, Vec<&Division>)> = None;
        villages::scan(prefix, |v| {
            if town.as_ref().is_none_or(|(c, _)| *c != v.parent) {
                town = Some((v.parent.clone(), d.chain(&v.parent)));
            }
            let (_, chain) = town.as_ref().expect("set above");
            if !chain.is_empty() {
                consider(chain, Level::Village, Some(&v));
            }
        })?;
    }
    hits.sort_by(|a, b| {
        (a.rank, a.found.level, &a.found.code).cmp(&(b.rank, b.found.level, &b.found.code))
    });
    Ok(hits.into_iter().map(|h| h.found).collect())
}

fn code_rank(q: &str, code: &str, level: Level) -> Option<u8> {
    let init = init_code(code);
    if code == q || (level <= Level::Prefecture && init == q) {
        Some(0)
    } else if code.starts_with(q) || (level <= Level::Prefecture && init.starts_with(q)) {
        Some(1)
    } else {
        None
    }
}

/// 0: the name or its short form is the query; 1: it starts with the query; 2: contains it.
fn name_rank(q: &[char], name: &str, level: Level, mode: Mode) -> Option<u8> {
    let short = short_name(name, level);
    match mode {
        Mode::Name => {
            let qs: String = q.iter().collect();
            if name == qs || short == Some(qs.as_str()) {
                Some(0)
            } else if name.starts_with(&qs) {
                Some(1)
            } else if name.contains(&qs) {
                Some(2)
            } else {
                None
            }
        }
        Mode::Pinyin => {
            let sets = letter_sets(name);
            let whole =
                |s: &str| letter_sets(s).len() == q.len() && pinyin_prefix(q, &letter_sets(s));
            if whole(name) || short.is_some_and(whole) {
                Some(0)
            } else if pinyin_prefix(q, &sets) {
                Some(1)
            } else {
                None
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Chinese characters compared as written.
    Name,
    /// Lowercase letters compared with the characters' pinyin initials.
    Pinyin,
}

/// Which form of the division's own name matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Own {
    Full,
    Short,
}

/// Whether `q` is the division's name (full or short) preceded by some of its parents' names
/// in order, each full or short: `兰考`, `开封兰考县`, `河南省开封市兰考县`, `hnkflk`.
fn path_match(q: &[char], chain: &[&Division], level: Level, mode: Mode) -> Option<Own> {
    let (own, parents) = chain.split_last()?;
    let mut result = None;
    for (form, kind) in forms(&own.name, level) {
        if let Some(n) = suffix_len(q, form, mode)
            && parents_match(&q[..q.len() - n], parents, mode)
        {
            if kind == Own::Full {
                return Some(Own::Full);
            }
            result = Some(kind);
        }
    }
    result
}

/// Whether `q` is the names of some of `parents` (top first, any may be left out) in order.
fn parents_match(q: &[char], parents: &[&Division], mode: Mode) -> bool {
    if q.is_empty() {
        return true;
    }
    let Some((last, rest)) = parents.split_last() else {
        return false;
    };
    let level = Level::of_code(&last.code).unwrap_or(Level::County);
    forms(&last.name, level).any(|(form, _)| {
        suffix_len(q, form, mode).is_some_and(|n| parents_match(&q[..q.len() - n], rest, mode))
    }) || parents_match(q, rest, mode)
}

fn forms(name: &str, level: Level) -> impl Iterator<Item = (&str, Own)> {
    std::iter::once((name, Own::Full)).chain(short_name(name, level).map(|s| (s, Own::Short)))
}

/// How many query characters `form` takes off the end of `q`, if `q` ends with it.
fn suffix_len(q: &[char], form: &str, mode: Mode) -> Option<usize> {
    match mode {
        Mode::Name => {
            let f: Vec<char> = form.chars().collect();
            q.ends_with(&f).then_some(f.len())
        }
        Mode::Pinyin => {
            let sets = letter_sets(form);
            let n = sets.len();
            (n > 0 && n <= q.len() && pinyin_prefix(&q[q.len() - n..], &sets)).then_some(n)
        }
    }
}

/// Whether the letters `q` are the initials of the first `q.len()` characters.
fn pinyin_prefix(q: &[char], sets: &[u32]) -> bool {
    q.len() <= sets.len()
        && q.iter().zip(sets).all(|(c, set)| {
            let bit = (*c as u32).wrapping_sub('a' as u32);
            bit < 26 && set & (1 << bit) != 0
        })
}

/// For each character with a pinyin reading (or an ASCII letter), the set of its possible
/// initials as a bit mask (bit 0 = a). Characters with neither are left out.
fn letter_sets(name: &str) -> Vec<u32> {
    name.chars()
        .filter_map(|c| {
            let mask = if c.is_ascii_alphabetic() {
                1 << (c.to_ascii_lowercase() as u32 - 'a' as u32)
            } else {
                c.to_pinyin_multi()?
                    .into_iter()
                    .filter_map(|p| p.first_letter().bytes().next())
                    .filter(u8::is_ascii_lowercase)
                    .fold(0, |m, b| m | 1 << (b - b'a'))
            };
            (mask != 0).then_some(mask)
        })
        .collect()
}

/// Characters whose reading in place names differs from their first dictionary reading (which
/// the hint otherwise uses): 长春 cháng, 重庆 chóng, 厦门 xià, 番禺 pān, 单县 shàn, 荥阳 xíng,
/// 涡阳 guō, 铅山 yán, 西藏 zàng, 莘县 shēn. Matching accepts every reading regardless.
const PLACE_INITIALS: &[(char, char)] = &[
    ('长', 'c'),
    ('重', 'c'),
    ('厦', 'x'),
    ('番', 'p'),
    ('单', 's'),
    ('荥', 'x'),
    ('涡', 'g'),
    ('铅', 'y'),
    ('藏', 'z'),
    ('莘', 's'),
];

/// Pinyin initials, as a hint beside a name: `兰考` → `lk`, `长春` → `cc`.
pub fn initials(name: &str) -> String {
    name.chars()
        .filter_map(|c| {
            if c.is_ascii_alphanumeric() {
                Some(c.to_ascii_lowercase())
            } else if let Some((_, i)) = PLACE_INITIALS.iter().find(|(h, _)| *h == c) {
                Some(*i)
            } else {
                c.to_pinyin()?.first_letter().chars().next()
            }
        })
        .collect()
}

/// What people type: spaces, slashes and similar separators between path elements dropped.
fn normalize(query: &str) -> String {
    query
        .chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '/' | '·' | '-' | '、' | ',' | '，'))
        .collect()
}

/// The ethnic groups autonomous divisions are named for (written without 族 where the name
/// does so: 博尔塔拉蒙古自治州, 伊犁哈萨克自治州).
const ETHNIC: &[&str] = &[
    "蒙古",
    "回",
    "藏",
    "维吾尔",
    "苗",
    "彝",
    "壮",
    "布依",
    "朝鲜",
    "满",
    "侗",
    "瑶",
    "白",
    "土家",
    "哈尼",
    "哈萨克",
    "傣",
    "黎",
    "傈僳",
    "佤",
    "畲",
    "高山",
    "拉祜",
    "水",
    "东乡",
    "纳西",
    "景颇",
    "柯尔克孜",
    "土",
    "达斡尔",
    "仫佬",
    "羌",
    "布朗",
    "撒拉",
    "毛南",
    "仡佬",
    "锡伯",
    "阿昌",
    "普米",
    "塔吉克",
    "怒",
    "乌孜别克",
    "俄罗斯",
    "鄂温克",
    "德昂",
    "保安",
    "裕固",
    "京",
    "塔塔尔",
    "独龙",
    "鄂伦春",
    "赫哲",
    "门巴",
    "珞巴",
    "基诺",
    "各",
];

/// The name without its level suffix (`兰考县` → `兰考`, `广西壮族自治区` → `广西`,
/// `长阳土家族自治县` → `长阳`), when at least two characters remain. Development zones
/// (`…开发区`) have none.
pub fn short_name(name: &str, level: Level) -> Option<&str> {
    let suffixes: &[&str] = match level {
        Level::Province => &["自治区", "特别行政区", "省", "市"],
        Level::Prefecture => &["自治州", "地区", "盟", "市"],
        Level::County => &[
            "自治县",
            "自治旗",
            "新区",
            "林区",
            "特区",
            "县",
            "区",
            "市",
            "旗",
        ],
        Level::Township => &["民族乡", "民族苏木", "街道", "苏木", "镇", "乡"],
        Level::Village => &["社区居委会", "居委会", "村委会", "社区", "村"],
    };
    if name.ends_with(['园', '场']) || name.contains("开发区") {
        return None;
    }
    let mut s = suffixes.iter().find_map(|suf| name.strip_suffix(suf))?;
    // Leave off the ethnic groups before the suffix: 黔西南布依族苗族(自治州) → 黔西南,
    // 顺河回族(区) → 顺河. Without 族 only in autonomous names (博尔塔拉蒙古自治州).
    let autonomous = name.contains("自治");
    loop {
        let t = s.strip_suffix('族').unwrap_or(s);
        if t.len() == s.len() && !autonomous {
            break;
        }
        match ETHNIC.iter().find_map(|e| t.strip_suffix(e)) {
            Some(rest) if rest.chars().count() >= 2 => s = rest,
            _ => break,
        }
    }
    (s.chars().count() >= 2).then_some(s)
}

#[cfg(test)]
mod tests;
