//! The street map's data: what the basemap draws and the walking routes follow, taken from
//! the same OpenStreetMap extract as the places.

use serde::{Deserialize, Serialize};

use crate::GeoPoint;

/// What a map feature is, in drawing order (water first, labels of roads last).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MapLayer {
    /// Sea (built from the coastline), lakes, rivers' areas.
    Water,
    /// Land drawn over water: islands from the coastline.
    Land,
    /// Parks, gardens, woods, grass, cemeteries.
    Green,
    /// Squares and pedestrian areas.
    Square,
    /// Building outlines.
    Building,
    /// Railways and tram lines.
    Rail,
    /// Streets, footways, paths, steps.
    Road,
}

impl MapLayer {
    /// The name stored with a feature.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Water => "water",
            Self::Land => "land",
            Self::Green => "green",
            Self::Square => "square",
            Self::Building => "building",
            Self::Rail => "rail",
            Self::Road => "road",
        }
    }

    /// The layer stored as `name`.
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "water" => Self::Water,
            "land" => Self::Land,
            "green" => Self::Green,
            "square" => Self::Square,
            "building" => Self::Building,
            "rail" => Self::Rail,
            "road" => Self::Road,
            _ => return None,
        })
    }

    /// Whether the feature is an area (rings filled), not a line.
    pub fn is_area(self) -> bool {
        matches!(
            self,
            Self::Water | Self::Land | Self::Green | Self::Square | Self::Building
        )
    }
}

/// One drawable feature of the street map.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MapFeature {
    /// What it is.
    pub layer: MapLayer,
    /// Its OpenStreetMap class within the layer: `primary`, `footway`, `tram`, `park`, `sea` …
    pub class: String,
    /// Its name, for labels.
    pub name: Option<String>,
    /// Lines: one polyline. Areas: closed rings, outer and inner alike (drawn even-odd).
    pub rings: Vec<Vec<GeoPoint>>,
    /// Roads only: the OpenStreetMap node id of each point of the line (`rings[0]`), so that
    /// streets meeting at a node are joined in the walking graph. Empty for other features.
    pub nodes: Vec<i64>,
    /// Roads only: whether people may walk along it.
    pub walkable: bool,
}

impl MapFeature {
    /// The feature's bounding box, or `None` without points.
    pub fn bbox(&self) -> Option<BBox> {
        BBox::around(self.rings.iter().flatten())
    }
}

/// A latitude/longitude box.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BBox {
    /// Southern edge.
    pub min_lat: f64,
    /// Western edge.
    pub min_lon: f64,
    /// Northern edge.
    pub max_lat: f64,
    /// Eastern edge.
    pub max_lon: f64,
}

impl BBox {
    /// The smallest box around `points`, or `None` when there are none.
    pub fn around<'a>(points: impl IntoIterator<Item = &'a GeoPoint>) -> Option<Self> {
        let mut it = points.into_iter();
        let first = it.next()?;
        let mut b = Self {
            min_lat: first.lat,
            min_lon: first.lon,
            max_lat: first.lat,
            max_lon: first.lon,
        };
        for p in it {
            b.include(*p);
        }
        Some(b)
    }

    /// The box reaching `km` north, south, east and west of `center` (not across the
    /// antimeridian or a pole: clamped to the valid range).
    pub fn around_km(center: GeoPoint, km: f64) -> Self {
        let dlat = km / 111.32;
        let dlon = km / (111.32 * center.lat.to_radians().cos().max(0.01));
        Self {
            min_lat: (center.lat - dlat).max(-90.0),
            min_lon: (center.lon - dlon).max(-180.0),
            max_lat: (center.lat + dlat).min(90.0),
            max_lon: (center.lon + dlon).min(180.0),
        }
    }

    /// Grows the box to hold `p`.
    pub fn include(&mut self, p: GeoPoint) {
        self.min_lat = self.min_lat.min(p.lat);
        self.max_lat = self.max_lat.max(p.lat);
        self.min_lon = self.min_lon.min(p.lon);
        self.max_lon = self.max_lon.max(p.lon);
    }

    /// Whether the two boxes overlap (touching counts).
    pub fn intersects(&self, other: &BBox) -> bool {
        self.min_lat <= other.max_lat
            && other.min_lat <= self.max_lat
            && self.min_lon <= other.max_lon
            && other.min_lon <= self.max_lon
    }

    /// Whether `p` is inside or on the edge.
    pub fn contains(&self, p: GeoPoint) -> bool {
        (self.min_lat..=self.max_lat).contains(&p.lat)
            && (self.min_lon..=self.max_lon).contains(&p.lon)
    }
}

/// One colour per day, the same on the web map, its legend and the PDF (cycled past 14 days):
/// dark enough to read on the street map's light colours.
pub const DAY_COLOURS: [&str; 14] = [
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf",
    "#bcbd22", "#393b79", "#637939", "#8c6d31", "#843c39", "#7f7f7f",
];

/// The colour of the day at `day_index` (0-based).
pub fn day_colour(day_index: usize) -> &'static str {
    DAY_COLOURS[day_index % DAY_COLOURS.len()]
}
