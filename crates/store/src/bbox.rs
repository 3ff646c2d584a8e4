//! The latitude/longitude box around a circle on the Earth, so that "places within r km"
//! becomes two indexed range conditions before the exact great-circle test.
//!
//! Uses the spherical bounds of J. P. Matuschek, "Finding Points Within a Distance of a
//! Latitude/Longitude Using Bounding Coordinates": the longitude half-width is
//! `asin(sin(d) / cos(lat))`, the box covers all longitudes when a pole is inside the circle,
//! and it wraps when it crosses the 180th meridian.

use tripwright_domain::{GeoPoint, haversine_km};

/// Longitudes a [`BoundingBox`] admits.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum LonRange {
    /// Every longitude (a pole lies within the circle).
    All,
    /// `west <= lon <= east`.
    Within {
        /// Western edge.
        west: f64,
        /// Eastern edge.
        east: f64,
    },
    /// Across the 180th meridian: `lon >= west OR lon <= east`.
    Wrapping {
        /// Western edge (positive, east of which lies the meridian).
        west: f64,
        /// Eastern edge (negative).
        east: f64,
    },
}

/// A box, in degrees, holding every point within some distance of a centre.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct BoundingBox {
    /// Southern edge.
    pub min_lat: f64,
    /// Northern edge.
    pub max_lat: f64,
    /// Longitudes.
    pub lon: LonRange,
}

impl BoundingBox {
    /// The box around the circle of `radius_km` about `center`. Inputs must be valid (a
    /// valid point, a finite non-negative radius): the caller checks them.
    pub(crate) fn around(center: GeoPoint, radius_km: f64) -> Self {
        // Degrees of arc per km, from the same Earth radius as the exact filter. The tiny
        // widening keeps points lying exactly on the circle inside despite rounding.
        let km_per_degree = haversine_km(0.0, 0.0, 1.0, 0.0);
        let d = radius_km / km_per_degree * (1.0 + 1e-9) + 1e-9;
        let (min_lat, max_lat) = (center.lat - d, center.lat + d);
        if min_lat <= -90.0 || max_lat >= 90.0 {
            return Self {
                min_lat: min_lat.max(-90.0),
                max_lat: max_lat.min(90.0),
                lon: LonRange::All,
            };
        }
        // No pole inside means d < 90° − |lat|, so the asin argument stays below 1.
        let half_width = (d.to_radians().sin() / center.lat.to_radians().cos())
            .asin()
            .to_degrees();
        let (west, east) = (center.lon - half_width, center.lon + half_width);
        let lon = if west < -180.0 {
            LonRange::Wrapping {
                west: west + 360.0,
                east,
            }
        } else if east > 180.0 {
            LonRange::Wrapping {
                west,
                east: east - 360.0,
            }
        } else {
            LonRange::Within { west, east }
        };
        Self {
            min_lat,
            max_lat,
            lon,
        }
    }

    #[cfg(test)]
    fn contains(&self, p: GeoPoint) -> bool {
        (self.min_lat..=self.max_lat).contains(&p.lat)
            && match self.lon {
                LonRange::All => true,
                LonRange::Within { west, east } => (west..=east).contains(&p.lon),
                LonRange::Wrapping { west, east } => p.lon >= west || p.lon <= east,
            }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The point `km` from `from` on the initial bearing `bearing_deg` (spherical
    /// destination formula, independent of the box maths).
    fn destination(from: GeoPoint, bearing_deg: f64, km: f64) -> GeoPoint {
        let delta = km / haversine_km(0.0, 0.0, 1.0, 0.0);
        let (d, t) = (delta.to_radians(), bearing_deg.to_radians());
        let (p1, l1) = (from.lat.to_radians(), from.lon.to_radians());
        let p2 = (p1.sin() * d.cos() + p1.cos() * d.sin() * t.cos()).asin();
        let l2 = l1 + (t.sin() * d.sin() * p1.cos()).atan2(d.cos() - p1.sin() * p2.sin());
        let lon = (l2.to_degrees() + 540.0).rem_euclid(360.0) - 180.0;
        GeoPoint::new(p2.to_degrees(), lon)
    }

    #[test]
    fn every_point_of_the_circle_is_inside() {
        let centres = [
            GeoPoint::new(60.1699, 24.9384), // Helsinki
            GeoPoint::new(-16.8, 179.95),    // Fiji, east edge crosses the meridian
            GeoPoint::new(-16.8, -179.95),   // … and from the other side
            GeoPoint::new(89.9, 10.0),       // the pole is inside
            GeoPoint::new(-89.95, -120.0),   // the south pole is inside
            GeoPoint::new(0.0, 0.0),
            GeoPoint::new(78.22, 15.65), // Longyearbyen: wide in longitude
        ];
        for c in centres {
            for radius in [0.5, 5.0, 50.0, 500.0] {
                let b = BoundingBox::around(c, radius);
                for step in 0..72 {
                    let p = destination(c, f64::from(step) * 5.0, radius);
                    let d = c.distance_km(&p);
                    assert!(
                        (d - radius).abs() < 1e-6 * radius.max(1.0),
                        "{c:?} {p:?} {d}"
                    );
                    assert!(b.contains(p), "{c:?} r={radius} box {b:?} misses {p:?}");
                }
            }
        }
    }

    #[test]
    fn boxes_are_tight_and_wrap_where_they_should() {
        let hel = BoundingBox::around(GeoPoint::new(60.1699, 24.9384), 2.0);
        assert!(
            (hel.max_lat - hel.min_lat - 2.0 * 2.0 / 111.195).abs() < 1e-4,
            "{hel:?}"
        );
        let LonRange::Within { west, east } = hel.lon else {
            panic!("{hel:?}")
        };
        // At 60° N a degree of longitude is half as long: the box is twice as wide.
        assert!(
            (east - west - 2.0 * 2.0 / (111.195 * 60.1699_f64.to_radians().cos())).abs() < 1e-4
        );

        let fiji = BoundingBox::around(GeoPoint::new(-16.8, 179.95), 20.0);
        assert!(
            matches!(fiji.lon, LonRange::Wrapping { west, east } if west > 179.0 && east < -179.0)
        );
        assert!(!fiji.contains(GeoPoint::new(-16.8, 0.0)));

        let pole = BoundingBox::around(GeoPoint::new(89.9, 10.0), 50.0);
        assert_eq!(pole.lon, LonRange::All);
        assert_eq!(pole.max_lat, 90.0);
    }
}
