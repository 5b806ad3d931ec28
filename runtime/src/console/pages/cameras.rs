/*!
Cameras in the console (no video: a link into the camera platform): the block on a case's page —
the cameras nearest its location ([`crate::engine::cameras::nearest`]) — and `/console/cameras`,
the cameras of one grid unit and everything under it (linked from the case block, for the grid
unit's page).
*/

use super::*;
use crate::engine::cameras::{Nearby, nearest};
use crate::model::LatLon;

/// Roles that see cameras: the center, the units working a case, the grid workers.
const CAMERA_VIEWERS: &[Role] = &[
    Role::Admin,
    Role::Supervisor,
    Role::Operator,
    Role::Dispatcher,
    Role::UnitHandler,
    Role::GridWorker,
];

fn camera_json(state: &AppState, lang: Lang, n: &Nearby<'_>) -> serde_json::Value {
    let c = n.camera;
    let kind_key = format!("video.kind.{}", c.kind);
    json!({
        "id": c.id,
        "name": c.name,
        "kind": if i18n::has_key(&kind_key) { lang.t(&kind_key).to_string() } else { c.kind.clone() },
        "grid": c.grid.as_deref().map(|g| grid_name(state, Some(g))),
        "distance": n.distance_m.map(|d| if d < 1000.0 { format!("{d:.0} m") } else { format!("{:.1} km", d / 1000.0) }),
        "in_grid": n.in_grid,
        "link": c.link,
    })
}

/// The case page's block: the cameras nearest the case (empty when the region has none).
pub(super) fn case_cameras(state: &AppState, lang: Lang, row: &CaseRow) -> serde_json::Value {
    let point = row.lat.zip(row.lon).map(|(lat, lon)| LatLon { lat, lon });
    let near = nearest(&state.region, row.grid_code.as_deref(), point);
    json!({
        "any": !state.region.cameras.is_empty(),
        "grid": row.grid_code,
        "grid_name": row.grid_code.as_deref().map(|g| grid_name(state, Some(g))),
        "items": near.iter().map(|n| camera_json(state, lang, n)).collect::<Vec<_>>(),
    })
}

/// A grid unit's cameras (and those within reach of its centroid), for any page that shows a
/// grid unit (`/console/cameras?grid=`, a grid worker's cell).
pub(super) fn grid_cameras(state: &AppState, lang: Lang, code: &str) -> Vec<serde_json::Value> {
    nearest(&state.region, Some(code), None)
        .iter()
        .map(|n| camera_json(state, lang, n))
        .collect()
}

#[derive(Deserialize, Default)]
pub struct CamerasQuery {
    #[serde(default)]
    grid: Option<String>,
    #[serde(default)]
    #[allow(dead_code)] // read by the language middleware; accepted so `?lang=` is not unknown
    lang: Option<String>,
}

/// `GET /console/cameras?grid=CODE`: a grid unit's cameras (and those near it).
pub async fn cameras_page(
    State(state): State<AppState>,
    user: ConsoleUser,
    Query(q): Query<CamerasQuery>,
) -> Response {
    let lang = user.lang;
    if !CAMERA_VIEWERS.contains(&user.principal.role) {
        return error_page(
            lang,
            Some(&user),
            StatusCode::FORBIDDEN,
            lang.t("error.forbidden"),
        );
    }
    let grid = q
        .grid
        .as_deref()
        .map(str::trim)
        .filter(|g| state.region.grid(g).is_some());
    let items: Vec<_> = match grid {
        Some(g) => grid_cameras(&state, lang, g),
        None => state
            .region
            .cameras
            .iter()
            .map(|c| {
                camera_json(
                    &state,
                    lang,
                    &Nearby {
                        camera: c,
                        distance_m: None,
                        in_grid: false,
                    },
                )
            })
            .collect(),
    };
    page_response(
        &state,
        &user,
        StatusCode::OK,
        "cameras.html",
        "cameras",
        Value::from_serialize(json!({
            "grid": grid,
            "grid_path": grid.map(|g| state.region.grid_path(g)),
            "items": items,
            // The picker: the townships and villages, and any grid unit a camera stands in.
            "grids": state.region.grid_units.iter()
                .filter(|g| g.tier <= 2 || state.region.cameras.iter().any(|c| c.grid.as_deref() == Some(g.code.as_str())))
                .map(|g| json!({"code": g.code, "path": state.region.grid_path(&g.code)}))
                .collect::<Vec<_>>(),
        })),
    )
}
