/*!
`renamed_from` on units, grid units and categories: names an old id or code that is no longer
listed (a code still in the profile is not renamed; naming one's own code says nothing), and
no two entries claim the same old code.
*/

use std::collections::HashMap;

use super::Ctx;
use crate::profile::raw::RawProfile;

/// (code, renamed_from) of one list's entries.
type Entries<'a> = Vec<(&'a str, Option<&'a str>)>;

pub(super) fn check_renames(c: &mut Ctx<'_>, raw: &RawProfile) {
    let lists: [(&str, Entries<'_>); 3] = [
        (
            "units",
            raw.units
                .iter()
                .map(|u| (u.id.as_str(), u.renamed_from.as_deref()))
                .collect(),
        ),
        (
            "grid.units",
            raw.grid
                .units
                .iter()
                .map(|g| (g.code.as_str(), g.renamed_from.as_deref()))
                .collect(),
        ),
        (
            "categories",
            raw.categories
                .iter()
                .map(|k| (k.code.as_str(), k.renamed_from.as_deref()))
                .collect(),
        ),
    ];
    for (list, entries) in &lists {
        let mut claimed: HashMap<&str, usize> = HashMap::new();
        for (i, (code, from)) in entries.iter().enumerate() {
            let Some(from) = from else { continue };
            let path = format!("{list}[{i}].renamed_from");
            if from == code {
                c.err(
                    &path,
                    format!("`{from}` is this entry's own code"),
                    "remove renamed_from",
                );
            } else if entries.iter().any(|(other, _)| other == from) {
                c.err(
                    &path,
                    format!("`{from}` is still listed: a code that stays is not renamed"),
                    "remove renamed_from, or remove the old entry",
                );
            } else if let Some(j) = claimed.insert(from, i) {
                c.err(
                    &path,
                    format!("`{from}` is already claimed by {list}[{j}]"),
                    "one old code becomes one new code",
                );
            }
        }
    }
}
