/*!
The `units` section: unit ids (format, duplicates, the implicit `center`), kinds, names,
hotlines, contacts, scopes (which must name grid codes) and service categories (which must
name existing categories). Returns the set of unit ids, `center` and the units of `units_file`
included (those are checked row by row when read; here only against the grid and categories).
*/

use std::collections::{HashMap, HashSet};

use m110_runtime::model::UnitKind;

use super::Ctx;
use crate::profile::compile::CENTER_ID;
use crate::profile::formats::is_id;
use crate::profile::raw::RawProfile;

pub(super) fn check_units(
    c: &mut Ctx<'_>,
    raw: &RawProfile,
    grid: &HashSet<String>,
) -> HashSet<String> {
    let mut ids: HashMap<&str, usize> = HashMap::new();
    let mut out = HashSet::new();
    out.insert(CENTER_ID.to_string());
    for (i, u) in raw.units.iter().enumerate() {
        let p = format!("units[{i}]");
        if !is_id(&u.id) {
            c.err(
                &format!("{p}.id"),
                format!("`{}` is not a unit id", u.id),
                "lowercase letters, digits and '-', e.g. housing-bureau",
            );
        }
        if let Some(&j) = ids.get(u.id.as_str()) {
            let line = c.index.locate(&format!("units[{j}].id")).0;
            c.err(
                &format!("{p}.id"),
                format!("duplicate unit id `{}` (first at line {line})", u.id),
                "give each unit its own id",
            );
        } else {
            ids.insert(u.id.as_str(), i);
        }
        out.insert(u.id.clone());
        match UnitKind::parse(&u.kind) {
            None => c.err(
                &format!("{p}.kind"),
                format!("unknown unit kind `{}`", u.kind),
                "use department, township, community_center, social_organization, volunteer_team, market_provider or police",
            ),
            Some(UnitKind::Center) if u.id != CENTER_ID => c.err(
                &format!("{p}.kind"),
                "only the unit with id `center` may have kind center",
                "the service center is implicit; use another kind",
            ),
            Some(k) if u.id == CENTER_ID && k != UnitKind::Center => c.err(
                &format!("{p}.kind"),
                "the unit with id `center` is the service center and must have kind center",
                "set kind: center or choose another id",
            ),
            _ => {}
        }
        c.non_empty(&format!("{p}.name"), &u.name);
        if let Some(h) = &u.hotline {
            c.phone(&format!("{p}.hotline"), h);
        }
        for (j, ct) in u.contacts.iter().enumerate() {
            c.non_empty(&format!("{p}.contacts[{j}].name"), &ct.name);
            if let Some(ph) = &ct.phone {
                c.phone(&format!("{p}.contacts[{j}].phone"), ph);
            }
        }
        for (j, s) in u.scope.iter().enumerate() {
            if !grid.contains(s) {
                c.err(
                    &format!("{p}.scope[{j}]"),
                    format!("grid unit `{s}` does not exist"),
                    "use codes from grid.units (or generated cell codes)",
                );
            }
        }
    }
    // Units from `units_file` were checked row by row when read; here what needs the grid.
    for f in &raw.units_from_file {
        out.insert(f.unit.id.clone());
        for s in f.unit.scope.iter().filter(|s| !grid.contains(*s)) {
            c.diags.push(f.scope_at.diag(
                format!("grid unit `{s}` does not exist"),
                "use codes from grid.units (or generated cell codes)",
            ));
        }
    }
    out
}

pub(super) fn check_unit_categories(
    c: &mut Ctx<'_>,
    raw: &RawProfile,
    cats: &HashMap<String, bool>,
) {
    for (i, u) in raw.units.iter().enumerate() {
        for (j, s) in u.service_categories.iter().enumerate() {
            if !cats.contains_key(s) {
                c.err(
                    &format!("units[{i}].service_categories[{j}]"),
                    format!("category `{s}` does not exist"),
                    "use a category code (see categories / the default taxonomy)",
                );
            }
        }
    }
    for f in &raw.units_from_file {
        for s in f.unit.service_categories.iter() {
            if !cats.contains_key(s) {
                c.diags.push(f.categories_at.diag(
                    format!("category `{s}` does not exist"),
                    "use a category code (see categories / the default taxonomy)",
                ));
            }
        }
    }
}
