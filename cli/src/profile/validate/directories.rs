/*!
The `directories` section: every directory CSV it names exists as a file, relative to the
profile. The CSV contents are checked later, by `csvdata`.
*/

use std::path::Path;

use super::{Ctx, check_file};
use crate::profile::raw::{RawProfile, directory_paths};

pub(super) fn check_directories_exist(c: &mut Ctx<'_>, raw: &RawProfile, base: &Path) {
    let Some(d) = &raw.directories else { return };
    for (k, v) in directory_paths(d) {
        check_file(c, &format!("directories.{k}"), base, v);
    }
}
