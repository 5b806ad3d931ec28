/*!
The `categories` section: overrides of the default taxonomy and new categories (codes,
duplicates, names, priority, 签收/办结 deadlines, keywords), then the merged taxonomy (signing
before closing, parents that exist, no parent cycles). Returns every category code with whether
it is a police category.
*/

use std::collections::{HashMap, HashSet};

use m110_runtime::model::Priority;

use super::Ctx;
use crate::profile::compile::merge_categories;
use crate::profile::formats::is_category_code;
use crate::profile::raw::RawProfile;
use crate::profile::taxonomy::default_categories;

pub(super) fn check_categories(c: &mut Ctx<'_>, raw: &RawProfile) -> HashMap<String, bool> {
    let defaults: HashSet<String> = default_categories().into_iter().map(|c| c.code).collect();
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (i, rc) in raw.categories.iter().enumerate() {
        let p = format!("categories[{i}]");
        if !is_category_code(&rc.code) {
            c.err(
                &format!("{p}.code"),
                format!("`{}` is not a category code", rc.code),
                "lowercase letters, digits, '_' and '.', e.g. repairs.plumbing",
            );
        }
        if let Some(&j) = seen.get(rc.code.as_str()) {
            let line = c.index.locate(&format!("categories[{j}].code")).0;
            c.err(
                &format!("{p}.code"),
                format!("category `{}` listed twice (first at line {line})", rc.code),
                "merge the two entries",
            );
        } else {
            seen.insert(rc.code.as_str(), i);
        }
        let is_default = defaults.contains(&rc.code);
        if rc.disabled && !is_default {
            c.err(
                &format!("{p}.disabled"),
                format!(
                    "`{}` is not a default category, nothing to disable",
                    rc.code
                ),
                "remove the entry",
            );
        }
        if !is_default && !rc.disabled {
            if rc.name_zh.is_none() {
                c.err(
                    &p,
                    format!("new category `{}` needs name_zh", rc.code),
                    "add name_zh (Chinese name); only defaults can omit it",
                );
            }
            if rc.name_en.is_none() {
                c.err(
                    &p,
                    format!("new category `{}` needs name_en", rc.code),
                    "add name_en (English name)",
                );
            }
        }
        if let Some(pr) = &rc.priority
            && Priority::parse(pr).is_none()
        {
            c.err(
                &format!("{p}.priority"),
                format!("unknown priority `{pr}`"),
                "use urgent, high, normal or low",
            );
        }
        if rc.sign_minutes == Some(0) {
            c.err(
                &format!("{p}.sign_minutes"),
                "deadline must be positive",
                "minutes > 0",
            );
        }
        if rc.close_hours == Some(0) {
            c.err(
                &format!("{p}.close_hours"),
                "deadline must be positive",
                "hours > 0",
            );
        }
        if let Some(k) = &rc.keywords {
            for (j, w) in k.iter().enumerate() {
                c.non_empty(&format!("{p}.keywords[{j}]"), w);
            }
        }
    }
    let merged = merge_categories(raw);
    let codes: HashMap<String, bool> = merged
        .iter()
        .map(|(cat, _)| (cat.code.clone(), cat.police))
        .collect();
    for (cat, src) in &merged {
        let Some(ri) = src else { continue };
        let p = format!("categories[{ri}]");
        if cat.sign_minutes > 0
            && cat.close_hours > 0
            && u64::from(cat.sign_minutes) > u64::from(cat.close_hours) * 60
        {
            let field = if raw.categories[*ri].sign_minutes.is_some() {
                "sign_minutes"
            } else {
                "close_hours"
            };
            c.err(
                &format!("{p}.{field}"),
                format!(
                    "签收 deadline {} min is later than 办结 deadline {} h",
                    cat.sign_minutes, cat.close_hours
                ),
                "signing must come before closing: sign_minutes ≤ close_hours × 60",
            );
        }
        if let Some(parent) = &cat.parent {
            if parent == &cat.code {
                c.err(
                    &format!("{p}.parent"),
                    "a category cannot be its own parent",
                    "remove parent",
                );
            } else if !codes.contains_key(parent) {
                c.err(
                    &format!("{p}.parent"),
                    format!("parent category `{parent}` does not exist"),
                    "use a default code or one defined in categories",
                );
            }
        }
    }
    // Parent cycles among categories (a → b → a).
    let parents: HashMap<&str, &str> = merged
        .iter()
        .filter_map(|(c, _)| c.parent.as_deref().map(|p| (c.code.as_str(), p)))
        .collect();
    for (cat, src) in &merged {
        let Some(ri) = src else { continue };
        let mut cur = cat.code.as_str();
        let mut steps = 0;
        while let Some(&p) = parents.get(cur) {
            steps += 1;
            if p == cat.code || steps > merged.len() {
                c.err(
                    &format!("categories[{ri}].parent"),
                    format!("category parents of `{}` form a cycle", cat.code),
                    "break the cycle",
                );
                break;
            }
            cur = p;
        }
    }
    codes
}
