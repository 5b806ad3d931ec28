/*!
The `region` section: the 6-digit division code, name, parents, population, land area and
archetype, plus [`region_prefix`], the statistical-code prefix grid codes must start with.
*/

use super::Ctx;
use crate::profile::compile::parse_archetype;
use crate::profile::formats::is_digits;
use crate::profile::raw::RawProfile;

/// Numeric prefix a region's statistical codes start with: `3507` for 350700, `350781` for
/// 350781 (trailing `00` pairs stand for "the whole prefecture/province").
pub fn region_prefix(code: &str) -> &str {
    let mut p = code;
    while p.len() > 2 && p.ends_with("00") {
        p = &p[..p.len() - 2];
    }
    p
}

pub(super) fn check_region(c: &mut Ctx<'_>, raw: &RawProfile) {
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
}
