/*!
The default category taxonomy every profile starts from: three levels, 大类 / 中类 / 小类.

The structure and the coding method follow GB/T 39666-2020 《政府热线服务分类与代码》: three
levels, each category a six-digit code of two digits per level (`LLMMSS`, zeros below the
category's own level: 大类 `020000`, 中类 `020200`, 小类 `020201`). The standard's own code
table is not reproduced here (its text is not public in full); the codes below are the kit's,
assigned in that pattern, and `docs/taxonomy.md` says which is which.

Codes are stable: stored cases, routing rules and scorecards refer to them, so a code is never
renamed or reused (add a new one instead). Deadlines follow common county practice for 民生
hotlines (签收 within minutes, 办结 within days); keywords are the words callers actually use,
because the runtime classifier suggests a category from them.

Each category names its **duty** (部门职能, the 派单目录): the department functions that solve
it. `m110 init` routes a category to the starter department whose `functions` hold its duty,
and `plan` checks that every duty has a unit.
*/

mod roots;
mod subs;

use m110_runtime::model::{Category, Priority};

struct Def {
    code: &'static str,
    parent: Option<&'static str>,
    /// Six-digit code in the GB/T 39666 pattern (the kit's values).
    std: &'static str,
    /// Department functions that solve it (empty: the center or the township, by scope).
    duty: &'static [&'static str],
    zh: &'static str,
    en: &'static str,
    priority: Priority,
    police: bool,
    sign_minutes: u32,
    close_hours: u32,
    keywords: &'static [&'static str],
}

fn all() -> impl Iterator<Item = &'static Def> {
    roots::ROOTS.iter().chain(subs::SUBS)
}

/// The default taxonomy as model categories, in its stable order (大类 first, then the
/// sub-categories, parents before children).
pub fn default_categories() -> Vec<Category> {
    all()
        .map(|d| Category {
            code: d.code.to_string(),
            name_zh: d.zh.to_string(),
            name_en: d.en.to_string(),
            parent: d.parent.map(str::to_string),
            priority: d.priority,
            police: d.police,
            sign_minutes: d.sign_minutes,
            close_hours: d.close_hours,
            keywords: d.keywords.iter().map(|k| k.to_string()).collect(),
            matchable: false,
        })
        .collect()
}

/// One default category's place in the standard's pattern and its duty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Duty {
    pub code: &'static str,
    pub std_code: &'static str,
    /// 1 = 大类, 2 = 中类, 3 = 小类.
    pub level: u8,
    pub functions: &'static [&'static str],
}

/// The duty list (派单目录) of the default taxonomy, in its order.
pub fn duties() -> Vec<Duty> {
    all()
        .map(|d| Duty {
            code: d.code,
            std_code: d.std,
            level: level_of(d.std),
            functions: d.duty,
        })
        .collect()
}

/// The default taxonomy as the Markdown table `docs/taxonomy.md` carries (a test keeps the two
/// the same): code, kit std code, level, names, priority, deadlines, duty, keywords.
pub fn markdown_table() -> String {
    let mut o = String::from(
        "| 代码 std | 层级 | code | 名称 | name | 优先级 | 签收 min | 办结 h | 职能 duty | 关键词 keywords |\n\
         |---|---|---|---|---|---|---|---|---|---|\n",
    );
    for d in all() {
        let level = ["大类", "中类", "小类"][usize::from(level_of(d.std)) - 1];
        o.push_str(&format!(
            "| {} | {level} | `{}` | {} | {} | {} | {} | {} | {} | {} |\n",
            d.std,
            d.code,
            d.zh,
            d.en,
            d.priority.as_str(),
            d.sign_minutes,
            d.close_hours,
            d.duty.join("、"),
            d.keywords.join("、"),
        ));
    }
    o
}

/// The level of a six-digit code: trailing `00` pairs are the levels below it.
fn level_of(std: &str) -> u8 {
    if std.ends_with("0000") {
        1
    } else if std.ends_with("00") {
        2
    } else {
        3
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{HashMap, HashSet};

    #[test]
    fn defaults_are_unique_consistent_and_cover_the_issue_list() {
        let cats = default_categories();
        let codes: HashSet<_> = cats.iter().map(|c| c.code.as_str()).collect();
        assert_eq!(codes.len(), cats.len(), "duplicate codes");
        for want in [
            "police",
            "public_facilities",
            "environment",
            "roads",
            "housing",
            "disputes",
            "assistance",
            "housekeeping",
            "repairs",
            "consultation",
            "gov_complaint",
            "other",
            "market",
            "health",
            "disputes.labour.wage_arrears",
            "public_facilities.utilities.power",
            "public_facilities.utilities.water",
            "market.food",
        ] {
            assert!(codes.contains(want), "missing {want}");
        }
        assert_eq!(cats.iter().filter(|c| c.police).count(), 1);
        for c in &cats {
            assert!(c.sign_minutes > 0 && c.close_hours > 0, "{}", c.code);
            assert!(
                u64::from(c.sign_minutes) <= u64::from(c.close_hours) * 60,
                "{}",
                c.code
            );
            // A 大类 carries the common words; a sub-category the few that pick it.
            let floor = if c.parent.is_none() { 5 } else { 2 };
            assert!(c.keywords.len() >= floor, "{} needs keywords", c.code);
        }
        // One keyword suggesting two categories would make the classifier guess.
        let mut seen = HashSet::new();
        for k in cats.iter().flat_map(|c| &c.keywords) {
            assert!(seen.insert(k.as_str()), "keyword {k} used twice");
        }
    }

    #[test]
    fn the_docs_carry_this_table() {
        let doc =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/taxonomy.md"))
                .unwrap();
        assert!(
            doc.contains(&markdown_table()),
            "docs/taxonomy.md is out of date; paste in the table from \
             `cargo test -p m110 --lib print_taxonomy_table -- --ignored --nocapture`"
        );
    }

    #[test]
    #[ignore]
    fn print_taxonomy_table() {
        print!("{}", markdown_table());
    }

    #[test]
    fn codes_follow_the_standards_pattern_and_the_tree() {
        let defs: Vec<&Def> = all().collect();
        let by_code: HashMap<&str, &Def> = defs.iter().map(|d| (d.code, *d)).collect();
        let mut stds = HashSet::new();
        for d in &defs {
            assert_eq!(d.std.len(), 6, "{}", d.code);
            assert!(d.std.bytes().all(|b| b.is_ascii_digit()), "{}", d.code);
            assert!(stds.insert(d.std), "std code {} used twice", d.std);
            match d.parent {
                None => assert_eq!(level_of(d.std), 1, "{}", d.code),
                Some(p) => {
                    let parent = by_code
                        .get(p)
                        .unwrap_or_else(|| panic!("{}: no {p}", d.code));
                    // Listed after its parent, one level below, its code inside the parent's.
                    let pos = |c: &str| defs.iter().position(|x| x.code == c).unwrap();
                    assert!(pos(p) < pos(d.code), "{} before its parent", d.code);
                    assert_eq!(level_of(d.std), level_of(parent.std) + 1, "{}", d.code);
                    let kept = 2 * usize::from(level_of(parent.std));
                    assert_eq!(d.std[..kept], parent.std[..kept], "{}", d.code);
                    assert!(d.code.starts_with(&format!("{p}.")), "{}", d.code);
                }
            }
        }
        assert!(defs.iter().any(|d| level_of(d.std) == 3), "three levels");
    }
}
