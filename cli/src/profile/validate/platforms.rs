/*!
The `existing_platforms` section: ids (format, duplicates), kinds, names, camera counts (only
and always on a `camera_network`) and integrations (type, the one field each type takes, a
CSV file that exists or an http(s) URL).
*/

use std::collections::HashMap;
use std::path::Path;

use super::{Ctx, check_file};
use crate::profile::compile::parse_platform_kind;
use crate::profile::formats::{is_http_url, is_id};
use crate::profile::raw::RawProfile;

pub(super) fn check_platforms(c: &mut Ctx<'_>, raw: &RawProfile, base: &Path) {
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
                "use police_dispatch, fire_dispatch, medical_dispatch, hotline_12345, grid_app, camera_network, gov_portal, welfare_db, sms_gateway or other",
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
        if let Some(env) = &int.secret_env {
            if int.kind != "webhook" && int.kind != "open311" {
                c.err(
                    &format!("{ip}.secret_env"),
                    format!(
                        "`secret_env` does not apply to integration type {}",
                        int.kind
                    ),
                    "only webhook (signing secret) and open311 (api_key) integrations take a secret",
                );
            } else if !is_env_name(env) {
                c.err(
                    &format!("{ip}.secret_env"),
                    format!("`{env}` is not an environment variable name"),
                    "upper-case letters, digits and _, e.g. M110_POLICE_WEBHOOK_SECRET",
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

/// `units[i].platform`: an existing platform that can take cases (open311 or webhook), and not
/// an emergency line (those are reached by a hand-off, not a dispatch) or the SMS gateway.
pub(super) fn check_unit_platforms(c: &mut Ctx<'_>, raw: &RawProfile) {
    for (i, u) in raw.units.iter().enumerate() {
        let Some(id) = &u.platform else { continue };
        let f = format!("units[{i}].platform");
        let Some(pl) = raw.existing_platforms.iter().find(|p| &p.id == id) else {
            let known: Vec<&str> = raw
                .existing_platforms
                .iter()
                .map(|p| p.id.as_str())
                .collect();
            c.err(
                &f,
                format!(
                    "unit {} names platform `{id}`, which existing_platforms does not list",
                    u.id
                ),
                format!("use one of: {}", known.join(", ")),
            );
            continue;
        };
        let kind = pl.integration.as_ref().map_or("none", |x| x.kind.as_str());
        if !matches!(kind, "open311" | "webhook") {
            c.err(
                &f,
                format!(
                    "platform `{id}` has integration {kind}: nothing could forward cases to it"
                ),
                "give the platform an open311 (endpoint) or webhook (url) integration",
            );
        }
        if matches!(
            pl.kind.as_str(),
            "police_dispatch" | "fire_dispatch" | "medical_dispatch" | "sms_gateway"
        ) {
            c.err(
                &f,
                format!(
                    "platform `{id}` is a {}: cases reach it by a hand-off, not a dispatch",
                    pl.kind
                ),
                "name a 12345 or other case-handling platform",
            );
        }
        if u.kind == "center" || u.kind == "police" {
            c.err(
                &f,
                format!("a {} unit is not reached through another platform", u.kind),
                "remove platform, or use kind: department",
            );
        }
    }
}

/// `NAME` as a shell would accept it for an environment variable: `[A-Z_][A-Z0-9_]*`.
fn is_env_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_uppercase() || c == '_')
        && chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}
