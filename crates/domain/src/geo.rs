use serde::{Deserialize, Serialize};

/// Mean Earth radius used for great-circle distances, in kilometres.
const EARTH_RADIUS_KM: f64 = 6371.0088;

/// A WGS84 position in decimal degrees.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GeoPoint {
    /// Latitude, −90..=90.
    pub lat: f64,
    /// Longitude, −180..=180.
    pub lon: f64,
}

impl GeoPoint {
    /// A point from latitude and longitude.
    pub const fn new(lat: f64, lon: f64) -> Self {
        Self { lat, lon }
    }

    /// Great-circle distance to `other` in kilometres.
    pub fn distance_km(&self, other: &GeoPoint) -> f64 {
        haversine_km(self.lat, self.lon, other.lat, other.lon)
    }

    /// Whether both coordinates are finite and in range.
    pub fn is_valid(&self) -> bool {
        self.lat.is_finite()
            && self.lon.is_finite()
            && (-90.0..=90.0).contains(&self.lat)
            && (-180.0..=180.0).contains(&self.lon)
    }
}

/// Great-circle (haversine) distance between two positions in kilometres.
pub fn haversine_km(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = (lat2 - lat1).to_radians();
    let dl = (lon2 - lon1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_KM * a.sqrt().min(1.0).asin()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helsinki_to_tallinn_is_about_80_km() {
        let hel = GeoPoint::new(60.1699, 24.9384);
        let tll = GeoPoint::new(59.4370, 24.7536);
        let d = hel.distance_km(&tll);
        assert!((d - 82.0).abs() < 2.0, "{d}");
        assert_eq!(hel.distance_km(&hel), 0.0);
    }

    #[test]
    fn validity() {
        assert!(GeoPoint::new(0.0, 0.0).is_valid());
        assert!(!GeoPoint::new(91.0, 0.0).is_valid());
        assert!(!GeoPoint::new(f64::NAN, 0.0).is_valid());
    }
}
