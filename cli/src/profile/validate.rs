/*!
Semantic checks of a structurally valid profile: every rule `m110 validate` enforces beyond
"the YAML has the right shape". Each check reports at the exact line and column of the offending
value and keeps going, so one run lists every problem.

Lookups go through hash maps built once, so a province-wide profile (tens of thousands of grid
units) validates in linear time.
*/

use std::collections::{HashMap, HashSet};
use std::path::Path;

use m110_runtime::model::{Priority, UnitKind};
use serde_yaml::Value;

use super::compile::{
    CENTER_ID, MAX_GRID_UNITS, TierError, cell_code, merge_categories, parse_archetype,
    parse_platform_kind, plan_cells, resolve_tiers,
};
use super::diag::{Diagnostic, Diagnostics};
use super::formats::{
    PHONE_HINT, is_category_code, is_digits, is_grid_code, is_hours, is_http_url, is_id,
    is_language_tag, is_phone, is_tier_key,
};
use super::raw::{FILL_IN, Fill, RawProfile};
use super::taxonomy::default_categories;
use super::yaml::PosIndex;

/// What validation learned that compilation reuses.
pub struct Checked {
    pub levels: Vec<Result<u8, TierError>>,
    /// Every grid code, listed and generated (for CSV `grid` columns).
    pub grid_codes: HashSet<String>,
    pub unit_ids: HashSet<String>,
}

struct Ctx<'a> {
    file: &'a Path,
    index: &'a PosIndex,
    diags: &'a mut Diagnostics,
}

impl Ctx<'_> {
    fn err(&mut self, path: &str, message: impl Into<String>, hint: impl Into<String>) {
        let at = self.index.locate(path);
        self.diags
            .push(Diagnostic::new(self.file, at, path, message, hint));
    }

    /// Reports a non-marker string in a numeric field, and non-positive values.
    fn positive_u64(&mut self, path: &str, v: &Fill<u64>) {
        match v {
            Fill::Value(0) => self.err(path, "must be positive", "enter a number above 0"),
            Fill::Value(_) => {}
            Fill::Marker(s) if s.starts_with(FILL_IN) => {} // reported by the marker scan
            Fill::Marker(s) => self.err(
                path,
                format!("expected a whole number, found text `{s}`"),
                "write digits only, e.g. 300000",
            ),
        }
    }

    fn positive_f64(&mut self, path: &str, v: &Fill<f64>) {
        match v {
            Fill::Value(x) if !(x.is_finite() && *x > 0.0) => {
                self.err(path, "must be a positive number", "e.g. 2852.5")
            }
            Fill::Value(_) => {}
            Fill::Marker(s) if s.starts_with(FILL_IN) => {}
            Fill::Marker(s) => self.err(
                path,
                format!("expected a number, found text `{s}`"),
                "write a number without units, e.g. 2852.5",
            ),
        }
    }

    fn phone(&mut self, path: &str, s: &str) {
        if !s.starts_with(FILL_IN) && !is_phone(s) {
            self.err(path, format!("`{s}` is not a phone number"), PHONE_HINT);
        }
    }

    fn non_empty(&mut self, path: &str, s: &str) {
        if s.trim().is_empty() {
            self.err(path, "must not be empty", "write a value");
        }
    }
}

/// Hint for a FILL_IN marker, by the field it sits in.
fn fill_hint(path: &str) -> &'static str {
    if path.ends_with("population") {
        "enter the resident population (第七次全国人口普查 or the latest statistical yearbook)"
    } else if path.ends_with("households") {
        "enter the number of households from the grid survey"
    } else if path.ends_with("area_km2") {
        "enter the land area in km² from the statistical yearbook"
    } else if path.ends_with("phone") || path.ends_with("hotline") {
        "enter the real number: mobile 13912345678, landline 0599-6332345 or a service number like 12345"
    } else if path.ends_with("name") {
        "enter the responsible person's name"
    } else {
        "replace FILL_IN with the real value"
    }
}

/// Reports every `FILL_IN` marker left in the document.
fn scan_markers(value: &Value, path: &mut String, ctx: &mut Ctx<'_>) {
    match value {
        Value::String(s) if s.starts_with(FILL_IN) => {
            let p = path.clone();
            ctx.err(
                &p,
                "value still to be filled in by hand / 待人工填写",
                fill_hint(&p),
            );
        }
        Value::Mapping(m) => {
            for (k, v) in m {
                let Some(k) = k.as_str() else { continue };
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(k);
                scan_markers(v, path, ctx);
                path.truncate(len);
            }
        }
        Value::Sequence(items) => {
            for (i, v) in items.iter().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                scan_markers(v, path, ctx);
                path.truncate(len);
            }
        }
        Value::Tagged(t) => scan_markers(&t.value, path, ctx),
        _ => {}
    }
}

/// Reports FILL_IN markers; runs even when the structure is broken.
pub fn markers(file: &Path, value: &Value, index: &PosIndex, diags: &mut Diagnostics) {
    let mut ctx = Ctx { file, index, diags };
    scan_markers(value, &mut String::new(), &mut ctx);
}

/// Numeric prefix a region's statistical codes start with: `3507` for 350700, `350781` for
/// 350781 (trailing `00` pairs stand for "the whole prefecture/province").
pub fn region_prefix(code: &str) -> &str {
    let mut p = code;
    while p.len() > 2 && p.ends_with("00") {
        p = &p[..p.len() - 2];
    }
    p
}

/// Runs every semantic check; `base` is the profile's directory (for referenced files).
pub fn validate(
    file: &Path,
    base: &Path,
    raw: &RawProfile,
    index: &PosIndex,
    diags: &mut Diagnostics,
) -> Checked {
    let mut c = Ctx { file, index, diags };

    if raw.version != 1 {
        c.err(
            "version",
            format!("unsupported format version {}", raw.version),
            "this kit reads version: 1",
        );
    }
    c.non_empty("division_edition", &raw.division_edition);

    // region
    let r = &raw.region;
    if !is_digits(&r.code, 6) {
        c.err(
            "region.code",
            format!("`{}` is not a 6-digit division code", r.code),
            "use the GB/T 2260 code of the county/district/city in quotes, e.g. \"350781\"",
        );
    }
    c.non_empty("region.name", &r.name);
    for (i, p) in r.parents.iter().enumerate() {
        c.non_empty(&format!("region.parents[{i}]"), p);
    }
    c.positive_u64("region.population", &r.population);
    c.positive_f64("region.area_km2", &r.area_km2);
    if let Some(a) = &r.archetype
        && parse_archetype(a).is_none()
    {
        c.err(
            "region.archetype",
            format!("unknown archetype `{a}`"),
            "use county, city_district or city (or leave it out to derive it)",
        );
    }

    check_service_center(&mut c, raw);
    let (levels, grid_codes) = check_grid(&mut c, raw);
    let unit_ids = check_units(&mut c, raw, &grid_codes);
    let category_codes = check_categories(&mut c, raw);
    check_unit_categories(&mut c, raw, &category_codes);
    check_routing(&mut c, raw, &grid_codes, &unit_ids, &category_codes);
    check_platforms(&mut c, raw, base);
    check_directories_exist(&mut c, raw, base);
    check_appraisal(&mut c, raw);
    Checked {
        levels,
        grid_codes,
        unit_ids,
    }
}

fn check_service_center(c: &mut Ctx<'_>, raw: &RawProfile) {
    let Some(sc) = &raw.service_center else {
        return;
    };
    if let Some(n) = &sc.number {
        c.phone("service_center.number", n);
    }
    if let Some(h) = &sc.hours
        && !is_hours(h)
    {
        c.err(
            "service_center.hours",
            format!("`{h}` is not an opening-hours value"),
            "write 24/7 or HH:MM-HH:MM, e.g. 08:00-22:00",
        );
    }
    if let Some(langs) = &sc.languages {
        if langs.is_empty() {
            c.err(
                "service_center.languages",
                "needs at least one language",
                "e.g. [zh-CN, en]",
            );
        }
        for (i, l) in langs.iter().enumerate() {
            if !is_language_tag(l) {
                c.err(
                    &format!("service_center.languages[{i}]"),
                    format!("`{l}` is not a language tag"),
                    "use BCP 47 tags such as zh-CN or en",
                );
            }
        }
    }
    let Some(s) = &sc.staffing else { return };
    let p = "service_center.staffing";
    let mut range = |field: &str, v: Option<f64>, ok: fn(f64) -> bool, hint: &str| {
        if let Some(v) = v
            && !(v.is_finite() && ok(v))
        {
            c.err(
                &format!("{p}.{field}"),
                format!("{v} is out of range"),
                hint.to_string(),
            );
        }
    };
    range(
        "calls_per_1000_per_year",
        s.calls_per_1000_per_year,
        |v| v > 0.0,
        "a positive number; 150 is typical",
    );
    range(
        "peak_hour_share",
        s.peak_hour_share,
        |v| v > 0.0 && v <= 1.0,
        "a share in (0, 1]; 0.12 is typical",
    );
    range(
        "aht_seconds",
        s.aht_seconds,
        |v| v > 0.0,
        "positive seconds; 180 is typical",
    );
    range(
        "service_level_target",
        s.service_level_target,
        |v| v > 0.0 && v < 1.0,
        "a share in (0, 1), e.g. 0.8 for 80 %",
    );
    range(
        "service_level_seconds",
        s.service_level_seconds,
        |v| v > 0.0,
        "positive seconds, e.g. 20",
    );
    range(
        "shrinkage",
        s.shrinkage,
        |v| (0.0..1.0).contains(&v),
        "a share in [0, 1), e.g. 0.3",
    );
    range(
        "max_occupancy",
        s.max_occupancy,
        |v| v > 0.0 && v <= 1.0,
        "a share in (0, 1], e.g. 0.85",
    );
}

fn check_grid(c: &mut Ctx<'_>, raw: &RawProfile) -> (Vec<Result<u8, TierError>>, HashSet<String>) {
    let g = &raw.grid;
    if g.tiers.is_empty() {
        c.err(
            "grid.tiers",
            "needs at least one tier",
            "e.g. township (乡镇/街道), village (村/社区), cell (网格)",
        );
    }
    if g.tiers.len() > 8 {
        c.err("grid.tiers", "more than 8 tiers", "merge tiers");
    }
    let mut tiers: HashMap<&str, u8> = HashMap::new();
    for (i, t) in g.tiers.iter().enumerate() {
        let path = format!("grid.tiers[{i}].key");
        if !is_tier_key(&t.key) {
            c.err(
                &path,
                format!("`{}` is not a tier key", t.key),
                "lowercase letters, digits and _, e.g. township",
            );
        }
        if tiers.insert(t.key.as_str(), (i + 1) as u8).is_some() {
            c.err(
                &path,
                format!("duplicate tier key `{}`", t.key),
                "give each tier its own key",
            );
        }
        c.non_empty(&format!("grid.tiers[{i}].name"), &t.name);
    }
    let levels = resolve_tiers(&tiers, &g.units);
    let prefix = region_prefix(&raw.region.code).to_string();
    let mut first: HashMap<&str, usize> = HashMap::with_capacity(g.units.len());
    for (i, u) in g.units.iter().enumerate() {
        if let Some(&j) = first.get(u.code.as_str()) {
            let line = c.index.locate(&format!("grid.units[{j}].code")).0;
            c.err(
                &format!("grid.units[{i}].code"),
                format!("duplicate grid code `{}` (first at line {line})", u.code),
                "each grid unit needs its own code",
            );
        } else {
            first.insert(u.code.as_str(), i);
        }
    }
    for (i, u) in g.units.iter().enumerate() {
        let p = format!("grid.units[{i}]");
        if !is_grid_code(&u.code) {
            c.err(
                &format!("{p}.code"),
                format!("`{}` is not a grid code", u.code),
                "use the 9/12-digit statistical code or letters, digits and '-' (quoted)",
            );
        } else if u.code.bytes().all(|b| b.is_ascii_digit())
            && is_digits(&raw.region.code, 6)
            && !u.code.starts_with(&prefix)
        {
            c.err(
                &format!("{p}.code"),
                format!("code `{}` lies outside region {}", u.code, raw.region.code),
                format!("statistical codes of this region start with {prefix}"),
            );
        }
        c.non_empty(&format!("{p}.name"), &u.name);
        if let Some(t) = &u.tier
            && !tiers.contains_key(t.as_str())
        {
            c.err(
                &format!("{p}.tier"),
                format!("unknown tier `{t}`"),
                format!(
                    "use one of the keys in grid.tiers: {}",
                    g.tiers
                        .iter()
                        .map(|t| t.key.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
        }
        let own = levels[i].clone();
        match &u.parent {
            Some(parent) => {
                match first.get(parent.as_str()) {
                    None => c.err(
                        &format!("{p}.parent"),
                        format!("parent `{parent}` is not a listed grid unit"),
                        "use the code of a unit in grid.units one tier up",
                    ),
                    Some(&pi) => {
                        if levels[i] == Err(TierError::Cycle) {
                            c.err(
                                &format!("{p}.parent"),
                                format!("parent chain of `{}` loops back to itself", u.code),
                                "follow the parent codes and break the cycle",
                            );
                        } else if let (Ok(l), Ok(pl)) = (&own, &levels[pi])
                            && *pl + 1 != *l
                        {
                            c.err(
                                &format!("{p}.parent"),
                                format!(
                                    "parent `{parent}` is on tier {pl}, not one tier above tier {l}"
                                ),
                                "a unit's parent must sit exactly one tier up",
                            );
                        } else if parent.bytes().all(|b| b.is_ascii_digit())
                            && u.code.bytes().all(|b| b.is_ascii_digit())
                            && !u.code.starts_with(parent.as_str())
                        {
                            c.err(
                            &format!("{p}.code"),
                            format!("code `{}` does not start with its parent's code `{parent}`", u.code),
                            "statistical codes nest: a village code starts with its township code",
                        );
                        }
                    }
                }
            }
            None => {
                if let Ok(l) = own
                    && l != 1
                {
                    c.err(
                        &format!("{p}.parent"),
                        format!("a tier-{l} unit needs a parent"),
                        "add `parent:` with the code of the unit one tier up",
                    );
                }
            }
        }
        if let Ok(l) = own
            && usize::from(l) > g.tiers.len()
            && u.tier.is_none()
            && !g.tiers.is_empty()
        {
            c.err(
                &format!("{p}.parent"),
                format!("this unit would sit on tier {l}, below the lowest tier"),
                "add a tier to grid.tiers or attach the unit higher up",
            );
        }
        if let Some(pop) = &u.population {
            c.positive_u64(&format!("{p}.population"), pop);
        }
        if let Some(h) = &u.households {
            c.positive_u64(&format!("{p}.households"), h);
        }
        match (u.lat, u.lon) {
            (Some(lat), Some(lon)) => {
                if !(-90.0..=90.0).contains(&lat) {
                    c.err(
                        &format!("{p}.lat"),
                        "latitude out of range",
                        "-90..90 (WGS84 degrees)",
                    );
                }
                if !(-180.0..=180.0).contains(&lon) {
                    c.err(
                        &format!("{p}.lon"),
                        "longitude out of range",
                        "-180..180 (WGS84 degrees)",
                    );
                }
            }
            (None, None) => {}
            _ => c.err(
                &format!("{p}.lat"),
                "lat and lon go together",
                "give both or neither",
            ),
        }
    }

    let mut codes: HashSet<String> = g.units.iter().map(|u| u.code.clone()).collect();
    if let Some(rule) = &g.cells {
        if rule.per_households == Some(0) {
            c.err("grid.cells.per_households", "must be positive", "e.g. 300");
        }
        if rule.per_unit == Some(0) {
            c.err("grid.cells.per_unit", "must be positive", "e.g. 2");
        }
        if rule.per_households.is_none() && rule.per_unit.is_none() {
            c.err(
                "grid.cells",
                "the cell rule needs per_households or per_unit",
                "e.g. cells: {per_households: 300, per_unit: 2}",
            );
        }
        if g.tiers.len() < 2 {
            c.err(
                "grid.cells",
                "generating cells needs at least two tiers",
                "add the cell tier to grid.tiers",
            );
        }
        let plans = plan_cells(Some(rule), g.tiers.len(), &g.units, &levels);
        let total: u64 = plans.iter().map(|p| p.count).fold(0, u64::saturating_add);
        if total.saturating_add(g.units.len() as u64) > MAX_GRID_UNITS as u64 {
            c.err(
                "grid.cells",
                format!("the rule would generate {total} cells"),
                format!("a region has at most {MAX_GRID_UNITS} grid units; raise per_households"),
            );
        } else {
            for plan in plans {
                let parent = &g.units[plan.parent];
                for n in 1..=plan.count {
                    let code = cell_code(&parent.code, n, plan.count);
                    if !codes.insert(code.clone()) {
                        c.err(
                            &format!("grid.units[{}].code", plan.parent),
                            format!("generated cell code `{code}` collides with a listed unit"),
                            "list this unit's cells yourself or change the colliding code",
                        );
                    }
                }
            }
        }
    }
    (levels, codes)
}

fn check_units(c: &mut Ctx<'_>, raw: &RawProfile, grid: &HashSet<String>) -> HashSet<String> {
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
    out
}

fn check_categories(c: &mut Ctx<'_>, raw: &RawProfile) -> HashMap<String, bool> {
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

fn check_unit_categories(c: &mut Ctx<'_>, raw: &RawProfile, cats: &HashMap<String, bool>) {
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
}

fn check_routing(
    c: &mut Ctx<'_>,
    raw: &RawProfile,
    grid: &HashSet<String>,
    units: &HashSet<String>,
    cats: &HashMap<String, bool>,
) {
    let unit_hint = "use the id of a unit in `units` (or center)";
    let routing = raw.routing.clone().unwrap_or_default();
    let fallback = routing.fallback.as_deref().unwrap_or(CENTER_ID);
    if !units.contains(fallback) {
        let tops = raw.grid.units.iter().filter(|u| u.parent.is_none()).count();
        let open = cats.values().filter(|police| !**police).count();
        c.err(
            "routing.fallback",
            format!(
                "fallback unit `{fallback}` does not exist, so categories without a rule \
                 ({open} categories × {tops} tier-1 units) cannot be routed"
            ),
            unit_hint,
        );
    }
    let mut seen: HashMap<(String, Option<String>), usize> = HashMap::new();
    for (i, rule) in routing.rules.iter().enumerate() {
        let p = format!("routing.rules[{i}]");
        let items = rule.category.items();
        if items.is_empty() {
            c.err(
                &format!("{p}.category"),
                "names no category",
                "give at least one code",
            );
        }
        for (j, cat) in items.iter().enumerate() {
            let cp = match &rule.category {
                super::raw::OneOrMany::One(_) => format!("{p}.category"),
                super::raw::OneOrMany::Many(_) => format!("{p}.category[{j}]"),
            };
            if !cats.contains_key(*cat) {
                c.err(
                    &cp,
                    format!("category `{cat}` does not exist"),
                    "use a default category code or one defined in categories",
                );
            }
            let key = (cat.to_string(), rule.scope.clone());
            if let Some(&k) = seen.get(&key) {
                let line = c.index.locate(&format!("routing.rules[{k}]")).0;
                c.err(
                    &cp,
                    format!("a rule for `{cat}` in this scope already exists (line {line})",),
                    "keep one rule per category and scope",
                );
            } else {
                seen.insert(key, i);
            }
        }
        if let Some(s) = &rule.scope
            && !grid.contains(s)
        {
            c.err(
                &format!("{p}.scope"),
                format!("grid unit `{s}` does not exist"),
                "use a code from grid.units or leave scope out for the whole region",
            );
        }
        if !units.contains(&rule.unit) {
            c.err(
                &format!("{p}.unit"),
                format!("unit `{}` does not exist", rule.unit),
                unit_hint,
            );
        }
    }
    for (i, e) in routing.escalation.iter().enumerate() {
        let p = format!("routing.escalation[{i}]");
        if let Some(cat) = &e.category
            && !cats.contains_key(cat)
        {
            c.err(
                &format!("{p}.category"),
                format!("category `{cat}` does not exist"),
                "use a category code or leave category out for the default chain",
            );
        }
        if e.steps.is_empty() {
            c.err(
                &format!("{p}.steps"),
                "needs at least one step",
                "e.g. - {unit: center, after_minutes: 30}",
            );
        }
        for (j, s) in e.steps.iter().enumerate() {
            if !units.contains(&s.unit) {
                c.err(
                    &format!("{p}.steps[{j}].unit"),
                    format!("unit `{}` does not exist", s.unit),
                    unit_hint,
                );
            }
        }
    }
    // Police categories are transferred (转警): something must receive them.
    let has_police_target = raw.units.iter().any(|u| u.kind == "police")
        || raw
            .existing_platforms
            .iter()
            .any(|p| p.kind == "police_dispatch");
    if cats.values().any(|p| *p) && !has_police_target {
        c.err(
            "units",
            "police categories exist but there is no police unit or police_dispatch platform to transfer to",
            "add a unit with kind: police (e.g. the county public security 110 command center)",
        );
    }
}

fn check_platforms(c: &mut Ctx<'_>, raw: &RawProfile, base: &Path) {
    let mut ids: HashMap<&str, usize> = HashMap::new();
    for (i, pl) in raw.existing_platforms.iter().enumerate() {
        let p = format!("existing_platforms[{i}]");
        if !is_id(&pl.id) {
            c.err(
                &format!("{p}.id"),
                format!("`{}` is not an id", pl.id),
                "lowercase letters, digits and '-'",
            );
        }
        if let Some(&j) = ids.get(pl.id.as_str()) {
            let line = c.index.locate(&format!("existing_platforms[{j}].id")).0;
            c.err(
                &format!("{p}.id"),
                format!("duplicate platform id `{}` (first at line {line})", pl.id),
                "give each platform its own id",
            );
        } else {
            ids.insert(pl.id.as_str(), i);
        }
        let kind = parse_platform_kind(&pl.kind);
        if kind.is_none() {
            c.err(
                &format!("{p}.kind"),
                format!("unknown platform kind `{}`", pl.kind),
                "use police_dispatch, hotline_12345, grid_app, camera_network, gov_portal, welfare_db or other",
            );
        }
        c.non_empty(&format!("{p}.name"), &pl.name);
        let is_cam = pl.kind == "camera_network";
        match pl.cameras {
            Some(0) => c.err(
                &format!("{p}.cameras"),
                "camera count must be positive",
                "e.g. 735",
            ),
            Some(_) if !is_cam => c.err(
                &format!("{p}.cameras"),
                "only camera_network platforms have a camera count",
                "remove cameras or set kind: camera_network",
            ),
            None if is_cam => c.err(
                &p,
                "a camera_network needs `cameras` (how many)",
                "add cameras: N",
            ),
            _ => {}
        }
        let Some(int) = &pl.integration else { continue };
        let ip = format!("{p}.integration");
        let (needs, field) = match int.kind.as_str() {
            "none" => (None, ""),
            "csv_import" => (int.path.as_ref(), "path"),
            "webhook" => (int.url.as_ref(), "url"),
            "open311" => (int.endpoint.as_ref(), "endpoint"),
            other => {
                c.err(
                    &format!("{ip}.type"),
                    format!("unknown integration type `{other}`"),
                    "use none, csv_import, webhook or open311",
                );
                continue;
            }
        };
        for (name, v) in [
            ("path", &int.path),
            ("url", &int.url),
            ("endpoint", &int.endpoint),
        ] {
            if v.is_some() && name != field {
                c.err(
                    &format!("{ip}.{name}"),
                    format!("`{name}` does not apply to integration type {}", int.kind),
                    "csv_import takes path, webhook takes url, open311 takes endpoint",
                );
            }
        }
        if field.is_empty() {
            continue;
        }
        let Some(v) = needs else {
            c.err(
                &ip,
                format!("integration type {} needs `{field}`", int.kind),
                format!("add {field}:"),
            );
            continue;
        };
        let fp = format!("{ip}.{field}");
        if field == "path" {
            check_file(c, &fp, base, v);
        } else if !is_http_url(v) {
            c.err(
                &fp,
                format!("`{v}` is not an http(s) URL"),
                "write a full URL, e.g. https://12345.example.gov.cn/open311/v2",
            );
        }
    }
}

fn check_file(c: &mut Ctx<'_>, path: &str, base: &Path, rel: &str) {
    let full = base.join(rel);
    if !full.is_file() {
        let why = if full.is_dir() {
            "is a directory"
        } else {
            "does not exist"
        };
        c.err(
            path,
            format!("file `{rel}` {why} (looked at {})", full.display()),
            "paths are relative to the profile file",
        );
    }
}

fn check_directories_exist(c: &mut Ctx<'_>, raw: &RawProfile, base: &Path) {
    let Some(d) = &raw.directories else { return };
    for (k, v) in super::raw::directory_paths(d) {
        check_file(c, &format!("directories.{k}"), base, v);
    }
}

fn check_appraisal(c: &mut Ctx<'_>, raw: &RawProfile) {
    if let Some(a) = &raw.appraisal {
        let fields = [
            ("on_time_sign", a.on_time_sign),
            ("on_time_close", a.on_time_close),
            ("satisfaction", a.satisfaction),
            ("follow_up", a.follow_up),
            ("return_rate", a.return_rate),
            ("repeat_rate", a.repeat_rate),
        ];
        for (k, v) in fields {
            if !(0.0..=1.0).contains(&v) {
                c.err(
                    &format!("appraisal.{k}"),
                    "weight out of range",
                    "a weight in [0, 1]",
                );
            }
        }
        let sum: f64 = fields.iter().map(|(_, v)| v).sum();
        if (sum - 1.0).abs() > 1e-6 {
            c.err(
                "appraisal",
                format!("weights sum to {sum:.4}, not 1"),
                "adjust the weights so they add up to 1",
            );
        }
    }
    if let Some(e) = &raw.early_warning {
        for (k, v) in [
            ("window_hours", e.window_hours),
            ("baseline_days", e.baseline_days),
            ("min_cases", e.min_cases),
        ] {
            if v == Some(0) {
                c.err(
                    &format!("early_warning.{k}"),
                    "must be positive",
                    "a whole number > 0",
                );
            }
        }
        if let Some(r) = e.ratio
            && !(r.is_finite() && r > 1.0)
        {
            c.err(
                "early_warning.ratio",
                "ratio must be above 1",
                "e.g. 3.0 (three times the baseline)",
            );
        }
    }
}
