//! Plain types shared by every Tripwright crate: trip requests, places, months, hotels,
//! itineraries, costs and plans, with their validation. No I/O lives here.
//!
//! The JSON shape of [`Plan`] is the public contract of `tripwright plan --json` and of the
//! web API; it is documented in `schema/plan.schema.json` (a test keeps the two in step).

mod geo;
mod ids;
mod list;
mod map;
mod money;
mod opening_hours;
mod plan;
mod request;
mod time;
mod words;

pub use geo::{GeoPoint, haversine_km};
pub use ids::{ItemId, ListId, OwnerId, PlaceId, PlanId};
pub use list::{
    ListItem, MAX_ITEM_NAME_CHARS, MAX_LIST_TITLE_CHARS, MAX_NOTES_CHARS, MAX_QUANTITY, TripList,
    validate_item_name, validate_list_title, validate_notes, validate_quantity,
};
pub use map::{BBox, DAY_COLOURS, MapFeature, MapLayer, day_colour};
pub use money::{Money, group_thousands};
pub use opening_hours::OpeningHours;
pub use plan::{
    Check, CostEstimate, CostLine, DayPlan, Description, Destination, ENGLISH_NAME, Hotel,
    Itinerary, MAX_PLAN_TITLE_CHARS, MonthScore, Place, PlaceCategory, PlaceSource, Plan, Stop,
    StopKind, Summary, month_name, plan_heading, sources_sentence, validate_plan_title,
};
pub use request::{InvalidRequest, MAX_DAYS, MAX_TRAVELERS, TripRequest, ValidationError};
pub use time::TimeOfDay;
pub use words::{
    capitalised, check_title, date_range, hours_in_words, place_kind_words, plural, readable_name,
    weekday_name,
};
