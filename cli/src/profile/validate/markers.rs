/*!
`FILL_IN` markers: every value the starter profile left for a person to fill in by hand
(待人工填写), reported with a hint chosen by the field it sits in. This scan walks the raw YAML
value, so it runs even when the document does not have the right structure.
*/

use std::path::Path;

use serde_yaml::Value;

use super::Ctx;
use crate::profile::diag::Diagnostics;
use crate::profile::raw::FILL_IN;
use crate::profile::yaml::PosIndex;

/// Hint for a FILL_IN marker, by the field it sits in.
fn fill_hint(path: &str) -> &'static str {
    if path.ends_with("population") {
        "enter the resident population (第七次全国人口普查 or the latest statistical yearbook)"
    } else if path.ends_with("households") {
        "enter the number of households from the grid survey"
    } else if path.ends_with("area_km2") {
        "enter the land area in km² from the statistical yearbook"
    } else if path.ends_with("phone") || path.ends_with("hotline") {
        "enter the real number: mobile 13912345678, landline 010-12345678 (area code, hyphen, number) or a service number like 12345"
    } else if path.ends_with("name") {
        "enter the responsible person's name"
    } else {
        "replace FILL_IN with the real value"
    }
}

/// Reports FILL_IN markers; runs even when the structure is broken.
pub fn markers(file: &Path, value: &Value, index: &PosIndex, diags: &mut Diagnostics) {
    let mut ctx = Ctx { file, index, diags };
    crate::profile::yaml::walk_scalars(value, &mut |path, v| {
        if let Value::String(s) = v
            && s.starts_with(FILL_IN)
        {
            ctx.err(
                path,
                "value still to be filled in by hand / 待人工填写",
                fill_hint(path),
            );
        }
    });
}
