/*!
How far a provider is from a case: [`Travel`], with great-circle distance ([`Haversine`]) as the
default. A region with a road-time service plugs one in behind the same trait; its cost is read
as kilometres-equivalent so the ranking weights keep their meaning (e.g. minutes × km per minute
at the region's usual speed).
*/

use crate::model::LatLon;

/// Mean Earth radius (IUGG), km.
const EARTH_RADIUS_KM: f64 = 6371.0088;

/// The travel cost between two points, in kilometres or kilometres-equivalent.
pub trait Travel: Send + Sync {
    fn cost_km(&self, from: LatLon, to: LatLon) -> f64;
}

/// Great-circle distance: no road data needed, right to within a few percent on short hops
/// (roads in a mountain county are longer, which a road-time provider corrects).
#[derive(Debug, Clone, Copy, Default)]
pub struct Haversine;

impl Travel for Haversine {
    fn cost_km(&self, from: LatLon, to: LatLon) -> f64 {
        haversine_km(from, to)
    }
}

/// Great-circle distance between two points, km.
pub fn haversine_km(a: LatLon, b: LatLon) -> f64 {
    let (la1, la2) = (a.lat.to_radians(), b.lat.to_radians());
    let dlat = la2 - la1;
    let dlon = (b.lon - a.lon).to_radians();
    let h = (dlat / 2.0).sin().powi(2) + la1.cos() * la2.cos() * (dlon / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_KM * h.sqrt().min(1.0).asin()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_distances() {
        let p = |lat, lon| LatLon { lat, lon };
        assert_eq!(haversine_km(p(27.3, 117.5), p(27.3, 117.5)), 0.0);
        // One degree of latitude is 111.2 km on the mean sphere.
        let d = haversine_km(p(0.0, 117.0), p(1.0, 117.0));
        assert!((d - 111.195).abs() < 0.01, "{d}");
        // Shaowu to Nanping city, about 120 km as the crow flies.
        let d = haversine_km(p(27.34, 117.49), p(26.64, 118.18));
        assert!((100.0..110.0).contains(&d), "{d}");
        assert_eq!(
            Haversine.cost_km(p(1.0, 2.0), p(3.0, 4.0)),
            haversine_km(p(3.0, 4.0), p(1.0, 2.0))
        );
    }
}
