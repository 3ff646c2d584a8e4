use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

/// Longest trip the planner accepts, in days.
pub const MAX_DAYS: u8 = 14;
/// Largest party the planner accepts.
pub const MAX_TRAVELERS: u8 = 20;
/// Earliest and latest years of a start date: every date computed from it (the trip's days,
/// the weekdays) stays far inside what the date types hold.
const MIN_YEAR: i32 = 2000;
const MAX_YEAR: i32 = 2199;
/// Longest free-text field accepted (destination or preferences), in characters.
const MAX_TEXT_CHARS: usize = 500;

/// "Where, how long, what I like": everything a user asks a plan for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TripRequest {
    /// Free-text destination, e.g. "Helsinki" or "Rome, Italy".
    pub destination: String,
    /// Trip length in days, 1..=14.
    #[serde(default = "default_days")]
    pub days: u8,
    /// Free-text hotel and trip preferences.
    #[serde(default = "default_prefs")]
    pub prefs: String,
    /// Travel month 1..=12; when absent the best-ranked month is chosen.
    #[serde(default)]
    pub month: Option<u8>,
    /// First day of the trip; fixes the month and the weekdays (opening hours). When absent
    /// the trip starts on the first Saturday of the travel month in its next occurrence.
    #[serde(default)]
    pub start_date: Option<NaiveDate>,
    /// Total budget for the whole party, in `currency`.
    #[serde(default)]
    pub budget: Option<f64>,
    /// ISO 4217 currency code for the budget and the cost estimate; defaults to the
    /// destination country's currency.
    #[serde(default)]
    pub currency: Option<String>,
    /// Number of travellers, 1..=20.
    #[serde(default = "default_travelers")]
    pub travelers: u8,
    /// Hotels above this price per night (in `currency`) are left out.
    #[serde(default)]
    pub max_price: Option<f64>,
    /// Hotels with fewer stars than this (when known) are left out.
    #[serde(default)]
    pub min_stars: Option<u8>,
}

fn default_days() -> u8 {
    5
}

fn default_prefs() -> String {
    "Luxury hotel in city center with spa.".to_owned()
}

fn default_travelers() -> u8 {
    1
}

impl TripRequest {
    /// A request with the defaults (5 days, the chapter's default preferences, 1 traveller).
    pub fn new(destination: impl Into<String>) -> Self {
        Self {
            destination: destination.into(),
            days: default_days(),
            prefs: default_prefs(),
            month: None,
            start_date: None,
            budget: None,
            currency: None,
            travelers: default_travelers(),
            max_price: None,
            min_stars: None,
        }
    }

    /// Checks every field; the first problem found is returned with a stable code and a hint.
    pub fn validate(&self) -> Result<(), ValidationError> {
        let dest = self.destination.trim();
        if dest.is_empty() {
            return Err(ValidationError::new(
                InvalidRequest::DestinationEmpty,
                "the destination is empty",
                "name a city, e.g. \"Helsinki\" or \"Rome, Italy\"",
            ));
        }
        if dest.chars().count() > MAX_TEXT_CHARS || self.prefs.chars().count() > MAX_TEXT_CHARS {
            return Err(ValidationError::new(
                InvalidRequest::TextTooLong,
                format!("destination and preferences are limited to {MAX_TEXT_CHARS} characters"),
                "shorten the text",
            ));
        }
        // Line breaks and tabs are text; a NUL, an escape or a bell is not, and a NUL cannot
        // even be stored in PostgreSQL.
        let control = |c: char| c.is_control() && !matches!(c, '\n' | '\r' | '\t');
        if self.destination.chars().any(char::is_control) || self.prefs.chars().any(control) {
            return Err(ValidationError::new(
                InvalidRequest::ControlCharacters,
                "the destination or the preferences hold a control character",
                "type the text again without special characters",
            ));
        }
        if !(1..=MAX_DAYS).contains(&self.days) {
            return Err(ValidationError::new(
                InvalidRequest::DaysOutOfRange,
                format!("days must be between 1 and {MAX_DAYS}, got {}", self.days),
                "choose a trip length from 1 to 14 days",
            ));
        }
        if let Some(m) = self.month
            && !(1..=12).contains(&m)
        {
            return Err(ValidationError::new(
                InvalidRequest::MonthOutOfRange,
                format!("month must be between 1 and 12, got {m}"),
                "use 1 for January … 12 for December, or leave it out to pick the best month",
            ));
        }
        if let (Some(m), Some(d)) = (self.month, self.start_date)
            && u32::from(m) != d.month()
        {
            return Err(ValidationError::new(
                InvalidRequest::MonthConflictsWithDate,
                format!("month {m} does not match the start date {d}"),
                "give either a month or a start date, or make them agree",
            ));
        }
        if let Some(d) = self.start_date
            && !(MIN_YEAR..=MAX_YEAR).contains(&d.year())
        {
            return Err(ValidationError::new(
                InvalidRequest::StartDateOutOfRange,
                format!("the start date {d} is outside the years {MIN_YEAR} to {MAX_YEAR}"),
                "give the first day of the trip as YYYY-MM-DD, e.g. 2027-06-05",
            ));
        }
        if !(1..=MAX_TRAVELERS).contains(&self.travelers) {
            return Err(ValidationError::new(
                InvalidRequest::TravelersOutOfRange,
                format!(
                    "travelers must be between 1 and {MAX_TRAVELERS}, got {}",
                    self.travelers
                ),
                "give the number of people travelling",
            ));
        }
        for (field, v) in [("budget", self.budget), ("max_price", self.max_price)] {
            if let Some(v) = v
                && !(v.is_finite() && v > 0.0)
            {
                return Err(ValidationError::new(
                    InvalidRequest::AmountInvalid,
                    format!("{field} must be a positive number, got {v}"),
                    "give an amount such as 1500",
                ));
            }
        }
        if let Some(s) = self.min_stars
            && !(1..=5).contains(&s)
        {
            return Err(ValidationError::new(
                InvalidRequest::StarsOutOfRange,
                format!("min_stars must be between 1 and 5, got {s}"),
                "choose 1 to 5 stars",
            ));
        }
        if let Some(c) = &self.currency
            && !(c.len() == 3 && c.chars().all(|ch| ch.is_ascii_alphabetic()))
        {
            return Err(ValidationError::new(
                InvalidRequest::CurrencyInvalid,
                format!("currency must be a three-letter ISO 4217 code, got {c:?}"),
                "use a code such as EUR, USD or GBP",
            ));
        }
        Ok(())
    }
}

/// Why a request is invalid: a stable machine-readable code per rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InvalidRequest {
    /// The destination is empty.
    DestinationEmpty,
    /// The destination or the preferences are too long.
    TextTooLong,
    /// The trip length is outside 1..=14 days.
    DaysOutOfRange,
    /// The month is outside 1..=12.
    MonthOutOfRange,
    /// The month and the start date disagree.
    MonthConflictsWithDate,
    /// The start date is outside the years the planner handles.
    StartDateOutOfRange,
    /// The number of travellers is outside 1..=20.
    TravelersOutOfRange,
    /// A budget or price is not a positive number.
    AmountInvalid,
    /// The least stars are outside 1..=5.
    StarsOutOfRange,
    /// The currency is not a three-letter code.
    CurrencyInvalid,
    /// The destination or the preferences hold a control character (a NUL, an escape …).
    ControlCharacters,
}

impl InvalidRequest {
    /// Every code, for documentation.
    pub const ALL: [InvalidRequest; 11] = [
        InvalidRequest::DestinationEmpty,
        InvalidRequest::TextTooLong,
        InvalidRequest::DaysOutOfRange,
        InvalidRequest::MonthOutOfRange,
        InvalidRequest::MonthConflictsWithDate,
        InvalidRequest::StartDateOutOfRange,
        InvalidRequest::TravelersOutOfRange,
        InvalidRequest::AmountInvalid,
        InvalidRequest::StarsOutOfRange,
        InvalidRequest::CurrencyInvalid,
        InvalidRequest::ControlCharacters,
    ];

    /// The code as clients see it, e.g. `days_out_of_range`.
    pub fn as_str(self) -> &'static str {
        match self {
            InvalidRequest::DestinationEmpty => "destination_empty",
            InvalidRequest::TextTooLong => "text_too_long",
            InvalidRequest::DaysOutOfRange => "days_out_of_range",
            InvalidRequest::MonthOutOfRange => "month_out_of_range",
            InvalidRequest::MonthConflictsWithDate => "month_conflicts_with_date",
            InvalidRequest::StartDateOutOfRange => "start_date_out_of_range",
            InvalidRequest::TravelersOutOfRange => "travelers_out_of_range",
            InvalidRequest::AmountInvalid => "amount_invalid",
            InvalidRequest::StarsOutOfRange => "stars_out_of_range",
            InvalidRequest::CurrencyInvalid => "currency_invalid",
            InvalidRequest::ControlCharacters => "control_characters",
        }
    }
}

/// A request field that fails validation: a stable machine-readable code, a message and a
/// hint telling the user what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[error("{message} ({hint})")]
pub struct ValidationError {
    /// Stable code, e.g. `days_out_of_range`.
    pub code: InvalidRequest,
    /// What is wrong.
    pub message: String,
    /// What to do about it.
    pub hint: String,
}

impl ValidationError {
    /// A validation error with its code, message and hint.
    pub fn new(code: InvalidRequest, message: impl Into<String>, hint: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            hint: hint.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok() -> TripRequest {
        TripRequest::new("Helsinki")
    }

    #[test]
    fn defaults_are_valid() {
        let r = ok();
        assert_eq!(r.days, 5);
        assert_eq!(r.travelers, 1);
        assert!(r.validate().is_ok());
    }

    #[test]
    fn each_bad_field_has_its_code() {
        let cases: Vec<(TripRequest, &str)> = vec![
            (TripRequest::new("  "), "destination_empty"),
            (TripRequest { days: 0, ..ok() }, "days_out_of_range"),
            (TripRequest { days: 15, ..ok() }, "days_out_of_range"),
            (
                TripRequest {
                    month: Some(13),
                    ..ok()
                },
                "month_out_of_range",
            ),
            (
                TripRequest {
                    month: Some(0),
                    ..ok()
                },
                "month_out_of_range",
            ),
            (
                TripRequest {
                    month: Some(3),
                    start_date: NaiveDate::from_ymd_opt(2027, 4, 1),
                    ..ok()
                },
                "month_conflicts_with_date",
            ),
            (
                TripRequest {
                    start_date: NaiveDate::from_ymd_opt(262_142, 12, 31),
                    ..ok()
                },
                "start_date_out_of_range",
            ),
            (
                TripRequest {
                    travelers: 0,
                    ..ok()
                },
                "travelers_out_of_range",
            ),
            (
                TripRequest {
                    budget: Some(-5.0),
                    ..ok()
                },
                "amount_invalid",
            ),
            (
                TripRequest {
                    budget: Some(f64::NAN),
                    ..ok()
                },
                "amount_invalid",
            ),
            (
                TripRequest {
                    max_price: Some(0.0),
                    ..ok()
                },
                "amount_invalid",
            ),
            (
                TripRequest {
                    min_stars: Some(6),
                    ..ok()
                },
                "stars_out_of_range",
            ),
            (
                TripRequest {
                    currency: Some("euro".into()),
                    ..ok()
                },
                "currency_invalid",
            ),
            (
                TripRequest {
                    prefs: "x".repeat(501),
                    ..ok()
                },
                "text_too_long",
            ),
            (
                TripRequest {
                    prefs: "museums\0and coffee".into(),
                    ..ok()
                },
                "control_characters",
            ),
            (
                TripRequest {
                    destination: "Hel\u{1b}[31msinki".into(),
                    ..ok()
                },
                "control_characters",
            ),
        ];
        for (req, code) in cases {
            let err = req.validate().expect_err(code);
            assert_eq!(err.code.as_str(), code, "{req:?}");
            assert!(!err.hint.is_empty());
        }
    }

    #[test]
    fn json_defaults_and_unknown_fields() {
        let r: TripRequest = serde_json::from_str(r#"{"destination":"Rome"}"#).expect("parse");
        assert_eq!(r, TripRequest::new("Rome"));
        assert!(serde_json::from_str::<TripRequest>(r#"{"destination":"Rome","dayz":3}"#).is_err());
    }
}
