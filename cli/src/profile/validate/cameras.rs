/*!
The `cameras` section and `cameras_csv`: each listed camera's id (unique), name, kind, place (a
known grid unit and/or coordinates in range) and platform (a camera_network of this profile);
the CSV file exists (its rows are checked as it is read, `profile::cameras::load_csv`); a
platform's `camera_link` is an http(s) URL with `{id}`, on a camera_network only.
*/

use std::collections::{HashMap, HashSet};
use std::path::Path;

use super::{Ctx, check_file};
use crate::profile::cameras::{CameraRefs, problems};
use crate::profile::formats::is_http_url;
use crate::profile::raw::RawProfile;

pub(super) fn check_cameras(
    c: &mut Ctx<'_>,
    raw: &RawProfile,
    base: &Path,
    grid_codes: &HashSet<String>,
) {
    let refs = CameraRefs::new(raw, grid_codes);
    let mut ids: HashMap<&str, usize> = HashMap::new();
    for (i, cam) in raw.cameras.iter().enumerate() {
        let p = format!("cameras[{i}]");
        for (field, message, hint) in problems(cam, &refs) {
            c.err(&format!("{p}.{field}"), message, hint);
        }
        if let Some(&j) = ids.get(cam.id.trim()) {
            let line = c.index.locate(&format!("cameras[{j}].id")).0;
            c.err(
                &format!("{p}.id"),
                format!("duplicate camera id `{}` (first at line {line})", cam.id),
                "give each camera its own id",
            );
        } else {
            ids.insert(cam.id.trim(), i);
        }
    }
    if let Some(rel) = &raw.cameras_csv {
        check_file(c, "cameras_csv", base, rel);
    }
    for (i, pl) in raw.existing_platforms.iter().enumerate() {
        let Some(link) = &pl.camera_link else {
            continue;
        };
        let path = format!("existing_platforms[{i}].camera_link");
        if pl.kind != "camera_network" {
            c.err(
                &path,
                "only camera_network platforms have a camera link",
                "remove camera_link or set kind: camera_network",
            );
        } else if !is_http_url(link) || !link.contains("{id}") {
            c.err(
                &path,
                format!("`{link}` is not an http(s) URL with {{id}}"),
                "e.g. https://vms.example/live?camera={id}",
            );
        }
    }
}
