use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::{GeoPoint, PlaceId, PlanId, TimeOfDay, TripRequest};

const MONTH_NAMES: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// English name of month 1..=12 ("?" outside that range).
pub fn month_name(month: u8) -> &'static str {
    MONTH_NAMES
        .get(usize::from(month).wrapping_sub(1))
        .copied()
        .unwrap_or("?")
}

/// The category rules of the importer (see `../shared/fixtures/helsinki_osm_reference.json`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlaceCategory {
    /// `tourism` = hotel, hostel, guest_house, apartment, motel.
    Hotel,
    /// `tourism` = attraction, museum, viewpoint, gallery, zoo, theme_park; or any `historic`.
    Attraction,
    /// `tourism` = artwork.
    Artwork,
    /// `amenity` = restaurant, cafe, fast_food, bar, pub.
    Food,
    /// `shop` = supermarket, convenience, grocery, greengrocer.
    Grocery,
}

impl PlaceCategory {
    /// All categories, in a fixed order.
    pub const ALL: [PlaceCategory; 5] = [
        PlaceCategory::Hotel,
        PlaceCategory::Attraction,
        PlaceCategory::Artwork,
        PlaceCategory::Food,
        PlaceCategory::Grocery,
    ];

    /// The snake_case name used in JSON and in the store.
    pub fn as_str(self) -> &'static str {
        match self {
            PlaceCategory::Hotel => "hotel",
            PlaceCategory::Attraction => "attraction",
            PlaceCategory::Artwork => "artwork",
            PlaceCategory::Food => "food",
            PlaceCategory::Grocery => "grocery",
        }
    }

    /// Parses the snake_case name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// A named place from OpenStreetMap (or another source), located by a point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Place {
    /// Stable id: `osm:node/123`, `osm:way/456`.
    pub id: PlaceId,
    /// Display name (the `name` tag).
    pub name: String,
    /// Category by the importer's rules.
    pub category: PlaceCategory,
    /// The tag value that put it in its category, e.g. `museum`, `cafe`, `supermarket`,
    /// or `historic:castle`.
    pub kind: String,
    /// Latitude (a way is located at the mean of its located nodes).
    pub lat: f64,
    /// Longitude.
    pub lon: f64,
    /// The raw `opening_hours` tag when present.
    pub opening_hours: Option<String>,
    /// All OSM tags of the element (stars, cuisine, amenities, website …).
    pub tags: BTreeMap<String, String>,
}

impl Place {
    /// The position of the place.
    pub fn point(&self) -> GeoPoint {
        GeoPoint::new(self.lat, self.lon)
    }

    /// A tag value by key.
    pub fn tag(&self, key: &str) -> Option<&str> {
        self.tags.get(key).map(String::as_str)
    }
}

/// A geocoded destination.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Destination {
    /// City name as in the gazetteer.
    pub name: String,
    /// Country name.
    pub country: String,
    /// ISO 3166-1 alpha-2 country code.
    pub country_code: String,
    /// Latitude.
    pub lat: f64,
    /// Longitude.
    pub lon: f64,
    /// Population from the gazetteer.
    pub population: u64,
    /// IANA time zone.
    pub timezone: String,
    /// The country's ISO 4217 currency.
    pub currency: String,
    /// GeoNames id.
    pub geoname_id: u64,
}

impl Destination {
    /// The position of the destination's centre.
    pub fn point(&self) -> GeoPoint {
        GeoPoint::new(self.lat, self.lon)
    }
}

/// One month's rank for the destination.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MonthScore {
    /// Month 1..=12.
    pub month: u8,
    /// English month name.
    pub name: String,
    /// Comfort score 0..=100 (see `docs/weather.md`).
    pub score: f64,
    /// One-line reason, e.g. "mean 17 °C, dry season".
    pub reason: String,
    /// Predicted mean temperature in °C.
    pub mean_temp_c: f64,
}

/// A recommended hotel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hotel {
    /// Place id (`osm:node/…`).
    pub id: PlaceId,
    /// Name.
    pub name: String,
    /// Description (from OSM tags when no text exists).
    pub description: String,
    /// Stars when tagged.
    pub stars: Option<u8>,
    /// Price per room-night in the plan's currency.
    pub price_per_night: f64,
    /// True when the price comes from the stars table, not from a real rate.
    pub price_estimated: bool,
    /// Latitude.
    pub lat: f64,
    /// Longitude.
    pub lon: f64,
    /// Cosine similarity of the description to the preferences.
    pub similarity: f64,
    /// Distance from the destination centre in km.
    pub distance_km: f64,
    /// The kind of lodging: `hotel`, `hostel`, `guest_house`, `apartment`, `motel`.
    #[serde(default)]
    pub kind: String,
    /// What the data says it has: "sauna", "wifi", "step-free access".
    #[serde(default)]
    pub amenities: Vec<String>,
    /// The wishes of the request the data confirms.
    #[serde(default)]
    pub matches: Vec<String>,
    /// The wishes the data contradicts, each with why ("quiet: a hostel, with shared rooms").
    #[serde(default)]
    pub conflicts: Vec<String>,
    /// The wishes the data cannot tell.
    #[serde(default)]
    pub unknown: Vec<String>,
    /// The ranking score: the similarity, raised by each confirmed wish and lowered by each
    /// contradicted one.
    #[serde(default)]
    pub score: f64,
}

/// What a stop is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopKind {
    /// A sight: museum, gallery, attraction, viewpoint, historic site.
    Sight,
    /// An artwork or memorial passed on the way.
    Artwork,
    /// A coffee break.
    Cafe,
    /// Lunch.
    Lunch,
    /// Dinner.
    Dinner,
}

/// One stop of a day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stop {
    /// Place id in the store.
    pub place_id: PlaceId,
    /// Place name.
    pub name: String,
    /// What the stop is for.
    pub kind: StopKind,
    /// The place's own kind (`museum`, `restaurant` …).
    pub place_kind: String,
    /// Latitude.
    pub lat: f64,
    /// Longitude.
    pub lon: f64,
    /// Arrival.
    pub start: TimeOfDay,
    /// Departure.
    pub end: TimeOfDay,
    /// Walking minutes from the previous stop (or the hotel for the first).
    pub walk_minutes: u32,
    /// Walking distance from the previous stop in km: along the streets when the region has a
    /// street map ([`Stop::route`] not empty), else the straight line × the detour factor.
    pub walk_km: f64,
    /// The walk here from the previous stop (or the hotel) along the streets, as
    /// `[lat, lon]` pairs; empty where there is no street data (drawn as a straight line).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub route: Vec<[f64; 2]>,
    /// The `opening_hours` tag when known.
    pub opening_hours: Option<String>,
    /// What the place data says about it, for people: "cuisine: finnish", "since 1998".
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub facts: Vec<String>,
    /// Prose written around the stop (by the LLM, later); empty without one.
    #[serde(default)]
    pub note: String,
    /// What an encyclopedia says about it: the first sentences of the Wikipedia article its
    /// data links, when online lookups are on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<Description>,
}

/// A stop's description and where it is from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Description {
    /// The text (whole sentences, a few hundred characters at most).
    pub text: String,
    /// The article it is from (Wikipedia, CC BY-SA 4.0).
    pub url: String,
}

/// The label of a place's English name (OSM `name:en`) among its facts.
pub const ENGLISH_NAME: &str = "English name";

impl Stop {
    /// Its name and, when its data gives one, its English name ("Vanha Kauppahalli", "Old
    /// Market Hall"): the names prose may call it by.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.name.as_str()).chain(self.facts.iter().filter_map(|f| {
            f.strip_prefix(ENGLISH_NAME)
                .and_then(|rest| rest.strip_prefix(": "))
        }))
    }
}

/// One day of the itinerary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DayPlan {
    /// Day number, 1-based.
    pub day: u8,
    /// Calendar date, `YYYY-MM-DD`.
    pub date: NaiveDate,
    /// English weekday name (opening hours depend on it).
    pub weekday: String,
    /// Short title, e.g. "Around Senate Square".
    pub title: String,
    /// Intro prose for the day; empty without an LLM.
    #[serde(default)]
    pub intro: String,
    /// Stops in visiting order.
    pub stops: Vec<Stop>,
    /// Total walking distance of the day in km, hotel to hotel.
    pub walk_km: f64,
    /// The walk from the last stop back to the hotel along the streets (see
    /// [`Stop::route`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub route_back: Vec<[f64; 2]>,
}

/// The day-by-day plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Itinerary {
    /// Travel month 1..=12.
    pub month: u8,
    /// Whether the month was fixed by the user (else chosen from the weather ranking).
    pub month_fixed: bool,
    /// First day of the trip.
    pub start_date: NaiveDate,
    /// Hotel the tours start from (place id), when one was found.
    pub hotel_id: Option<PlaceId>,
    /// The days.
    pub days: Vec<DayPlan>,
}

/// One line of the cost estimate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CostLine {
    /// What it is for.
    pub label: String,
    /// Amount in the plan's currency.
    pub amount: f64,
    /// True when the figure is an estimate from the configured tables.
    pub estimated: bool,
}

/// Cost estimate against the budget.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CostEstimate {
    /// ISO 4217 code.
    pub currency: String,
    /// Total for the whole party.
    pub total: f64,
    /// The user's budget, when given.
    pub budget: Option<f64>,
    /// `None` without a budget.
    pub within_budget: Option<bool>,
    /// Hotel nights.
    pub nights: u32,
    /// Travellers.
    pub travelers: u8,
    /// Rooms booked.
    pub rooms: u32,
    /// Hotel price per room-night.
    pub hotel_per_night: f64,
    /// The lines that add up to `total`.
    pub lines: Vec<CostLine>,
    /// True when any line is estimated.
    pub estimated: bool,
}

/// The trip summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Summary prose (figures injected from `cost`, never invented).
    pub text: String,
    /// The cost estimate.
    pub cost: CostEstimate,
}

/// One line of the plan's own feasibility report (see `../shared/docs/EVAL.md`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Check {
    /// Check name: grounded, complete, diverse, timing, opening_hours, reachable, month, budget …
    pub name: String,
    /// Whether it passed.
    pub passed: bool,
    /// What was checked and found.
    pub detail: String,
}

/// A source of place data: an extract's file name (`Helsinki.osm.pbf`) or a fetched city
/// (`overpass: Rome, Italy`), with how many places it gave and when it was imported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlaceSource {
    /// What the places were imported from.
    pub source: String,
    /// How many places (of the store, or of a plan's hotels and stops).
    pub places: u64,
    /// When it was last imported.
    pub imported_at: DateTime<Utc>,
}

impl PlaceSource {
    /// In words: "the OpenStreetMap extract Helsinki.osm.pbf, imported 2026-12-05 (23
    /// places)", "OpenStreetMap, fetched for Rome, Italy on 2026-12-05 (12 places)".
    pub fn describe(&self) -> String {
        let date = self.imported_at.format("%Y-%m-%d");
        let n = self.places;
        let places = if n == 1 { "place" } else { "places" };
        match self.source.strip_prefix("overpass: ") {
            Some(city) => {
                format!("OpenStreetMap, fetched for {city} on {date} ({n} {places})")
            }
            None => format!(
                "the OpenStreetMap extract {}, imported {date} ({n} {places})",
                self.source
            ),
        }
    }
}

/// "Hotels and stops from …; …." for a plan's sources (`None` without any): one wording for
/// the page and the CLI.
pub fn sources_sentence(sources: &[PlaceSource]) -> Option<String> {
    (!sources.is_empty()).then(|| {
        let each: Vec<String> = sources.iter().map(PlaceSource::describe).collect();
        format!("Hotels and stops from {}.", each.join("; "))
    })
}

/// A complete trip plan: the output of the orchestrator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// Plan id (UUID).
    pub id: PlanId,
    /// Creation time (RFC 3339 in JSON).
    pub created_at: DateTime<Utc>,
    /// The request it answers.
    pub request: TripRequest,
    /// Where.
    pub destination: Destination,
    /// All 12 months, best first.
    pub best_months: Vec<MonthScore>,
    /// Hotels, best match first.
    pub hotels: Vec<Hotel>,
    /// The day-by-day plan.
    pub itinerary: Itinerary,
    /// Summary and cost.
    pub summary: Summary,
    /// Feasibility report.
    pub checks: Vec<Check>,
    /// Things the user should know (no place data, budget exceeded, thin supply …).
    pub warnings: Vec<String>,
    /// Where its hotels and stops came from (OpenStreetMap extracts and fetched cities).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<PlaceSource>,
    /// The name its owner gave it ("Helsinki with Mum"); without one it is called by its
    /// destination and length.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

/// Longest name of a plan, in characters.
pub const MAX_PLAN_TITLE_CHARS: usize = 80;

/// Checks a plan's new name: trimmed, at most [`MAX_PLAN_TITLE_CHARS`] characters, no control
/// characters; an empty one takes the name away (`None`).
///
/// # Errors
/// A sentence for the user saying what is wrong.
pub fn validate_plan_title(title: &str) -> Result<Option<String>, String> {
    let t = title.trim();
    if t.chars().count() > MAX_PLAN_TITLE_CHARS || t.chars().any(char::is_control) {
        return Err(format!(
            "a plan's name has at most {MAX_PLAN_TITLE_CHARS} characters (no control characters)"
        ));
    }
    Ok((!t.is_empty()).then(|| t.to_owned()))
}

impl Plan {
    /// What the plan is called: its name, else "Helsinki, Finland — 3 days".
    pub fn heading(&self) -> String {
        self.title.clone().unwrap_or_else(|| {
            plan_heading(
                &self.destination.name,
                &self.destination.country,
                usize::from(self.request.days),
            )
        })
    }
}

/// A plan's name from its destination and length: "Helsinki, Finland — 3 days".
pub fn plan_heading(city: &str, country: &str, days: usize) -> String {
    format!("{city}, {country} — {}", crate::plural(days, "day", "days"))
}

impl Itinerary {
    /// The hotel the tours start from among `hotels`: the itinerary's hotel, else the
    /// best-ranked one.
    pub fn hotel_among<'a>(&self, hotels: &'a [Hotel]) -> Option<&'a Hotel> {
        self.hotel_id
            .as_ref()
            .and_then(|id| hotels.iter().find(|h| h.id == *id))
            .or_else(|| hotels.first())
    }
}

impl Plan {
    /// The hotel the tours start from: the itinerary's hotel, else the best-ranked one.
    pub fn hotel(&self) -> Option<&Hotel> {
        self.itinerary.hotel_among(&self.hotels)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn month_names() {
        assert_eq!(month_name(1), "January");
        assert_eq!(month_name(12), "December");
        assert_eq!(month_name(0), "?");
        assert_eq!(month_name(13), "?");
    }

    #[test]
    fn category_round_trip() {
        for c in PlaceCategory::ALL {
            assert_eq!(PlaceCategory::parse(c.as_str()), Some(c));
            let j = serde_json::to_string(&c).expect("serialise");
            assert_eq!(j, format!("\"{}\"", c.as_str()));
        }
        assert_eq!(PlaceCategory::parse("spa"), None);
    }
}
