/*!
Cameras near a place (a case's location, a grid unit): the region's cameras (the profile's, in
[`RegionIndex::cameras`]) ranked for the console's case and grid pages, each with its live-view
link into the camera platform. The kit handles no video.

The place is the case's coordinates, else the centroid of its grid unit or of the nearest
ancestor that has one. A camera's position is its own coordinates, else its grid unit's centroid.
Cameras standing in the place's grid unit (or below it) come first, nearest first (one without
any position last among them); then the others within [`RADIUS_KM`], nearest first.
*/

use serde::Serialize;

use super::region::RegionIndex;
use super::triage::distance_km;
use crate::model::{Camera, LatLon};

/// How far outside the grid unit a camera may stand and still be shown.
pub const RADIUS_KM: f64 = 3.0;
/// Most cameras shown for one place.
pub const MAX_SHOWN: usize = 6;

/// A camera near the place.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Nearby<'a> {
    pub camera: &'a Camera,
    /// Straight-line (haversine) distance in metres, when both positions are known.
    pub distance_m: Option<f64>,
    /// It stands in the place's grid unit (or below it).
    pub in_grid: bool,
}

/// The ranking itself, pure: `centroid` gives a grid unit's centroid (walking up to an ancestor
/// that has one), `within(code, ancestor)` whether a grid unit lies in another.
pub fn rank<'a>(
    cameras: &'a [Camera],
    grid: Option<&str>,
    point: Option<LatLon>,
    centroid: impl Fn(&str) -> Option<LatLon>,
    within: impl Fn(&str, &str) -> bool,
    limit: usize,
) -> Vec<Nearby<'a>> {
    let here = point.or_else(|| grid.and_then(&centroid));
    let mut out: Vec<Nearby<'a>> = cameras
        .iter()
        .filter_map(|c| {
            let in_grid = match (grid, c.grid.as_deref()) {
                (Some(g), Some(cg)) => within(cg, g),
                _ => false,
            };
            let at = c.location.or_else(|| c.grid.as_deref().and_then(&centroid));
            let distance_m = here.zip(at).map(|(a, b)| distance_km(a, b) * 1000.0);
            let near = distance_m.is_some_and(|d| d <= RADIUS_KM * 1000.0);
            (in_grid || near).then_some(Nearby {
                camera: c,
                distance_m,
                in_grid,
            })
        })
        .collect();
    out.sort_by(|a, b| {
        b.in_grid
            .cmp(&a.in_grid)
            .then_with(|| match (a.distance_m, b.distance_m) {
                (Some(x), Some(y)) => x.total_cmp(&y),
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (None, None) => std::cmp::Ordering::Equal,
            })
            .then_with(|| a.camera.id.cmp(&b.camera.id))
    });
    out.truncate(limit);
    out
}

/// The cameras near a grid unit and/or a point of this region.
pub fn nearest<'a>(
    region: &'a RegionIndex,
    grid: Option<&str>,
    point: Option<LatLon>,
) -> Vec<Nearby<'a>> {
    let centroid = |code: &str| {
        region
            .lineage(code)
            .iter()
            .find_map(|g| region.grid(g).and_then(|g| g.centroid))
    };
    rank(
        &region.cameras,
        grid,
        point,
        centroid,
        |code, ancestor| region.triage.grid_within(code, ancestor),
        MAX_SHOWN,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cam(id: &str, grid: Option<&str>, at: Option<(f64, f64)>) -> Camera {
        Camera {
            id: id.into(),
            name: id.into(),
            kind: "public_security".into(),
            grid: grid.map(Into::into),
            location: at.map(|(lat, lon)| LatLon { lat, lon }),
            platform: Some("xueliang".into()),
            link: None,
        }
    }

    fn centroid(code: &str) -> Option<LatLon> {
        match code {
            "A" | "A1" => Some(LatLon {
                lat: 27.34,
                lon: 117.48,
            }),
            "B" => Some(LatLon {
                lat: 27.40,
                lon: 117.48,
            }),
            _ => None,
        }
    }

    fn within(code: &str, ancestor: &str) -> bool {
        code == ancestor || (ancestor == "A" && code == "A1")
    }

    fn ids(v: &[Nearby<'_>]) -> Vec<String> {
        v.iter().map(|n| n.camera.id.clone()).collect()
    }

    #[test]
    fn in_the_grid_unit_first_then_nearest_within_the_radius() {
        let cams = [
            cam("far-in-grid", Some("A1"), Some((27.36, 117.48))), // ~2.2 km, in A
            cam("near-outside", None, Some((27.341, 117.48))),     // ~110 m, no grid
            cam("near-in-grid", Some("A"), Some((27.3405, 117.48))), // ~55 m
            cam("in-grid-no-position", Some("Z"), None),
            cam("other-town", Some("B"), None), // B's centroid: ~6.7 km away
        ];
        let got = rank(&cams, Some("A"), None, centroid, within, 10);
        assert_eq!(ids(&got), ["near-in-grid", "far-in-grid", "near-outside"]);
        assert!(got[0].in_grid && !got[2].in_grid);
        let d = got[0].distance_m.unwrap();
        assert!((50.0..60.0).contains(&d), "{d}");
    }

    #[test]
    fn the_case_point_wins_over_the_centroid_and_the_limit_holds() {
        let cams = [
            cam("x", None, Some((27.40, 117.48))),
            cam("y", None, Some((27.41, 117.48))),
        ];
        let point = Some(LatLon {
            lat: 27.401,
            lon: 117.48,
        });
        let got = rank(&cams, Some("A"), point, centroid, within, 1);
        assert_eq!(ids(&got), ["x"]);
        // Nowhere to measure from and no grid: nothing.
        assert!(rank(&cams, None, None, centroid, within, 5).is_empty());
    }

    #[test]
    fn a_camera_placed_by_its_grid_unit_counts_from_the_centroid() {
        let cams = [
            cam("by-grid", Some("A"), None),
            cam("unknown", Some("Q"), None),
        ];
        let got = rank(&cams, Some("A1"), None, centroid, within, 5);
        assert_eq!(ids(&got), ["by-grid"]);
        assert_eq!(got[0].distance_m, Some(0.0));
        assert!(!got[0].in_grid);
    }
}
