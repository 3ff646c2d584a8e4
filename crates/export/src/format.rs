//! Small text helpers shared by the exports.

use chrono::NaiveDate;
use tripwright_domain::{Hotel, Money, Plan, Stop, StopKind, group_thousands};

/// "Trip to Helsinki, Finland".
pub(crate) fn trip_title(plan: &Plan) -> String {
    // The name its owner gave it first.
    if let Some(title) = plan
        .title
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        return title.to_owned();
    }
    let city = plan.destination.name.trim();
    let country = plan.destination.country.trim();
    match (city.is_empty(), country.is_empty()) {
        (false, false) => format!("Trip to {city}, {country}"),
        (false, true) => format!("Trip to {city}"),
        (true, false) => format!("Trip to {country}"),
        (true, true) => "Trip".to_owned(),
    }
}

/// The hotel the tours start from: the itinerary's hotel, else the best-ranked one.
pub(crate) fn recommended_hotel(plan: &Plan) -> Option<&Hotel> {
    plan.hotel()
}

/// First and last day of the trip.
pub(crate) fn trip_dates(plan: &Plan) -> (NaiveDate, NaiveDate) {
    let first = plan
        .itinerary
        .days
        .first()
        .map_or(plan.itinerary.start_date, |d| d.date);
    let last = plan.itinerary.days.last().map_or(first, |d| d.date);
    (first, last.max(first))
}

/// Number of days of the trip (the itinerary's, else the request's).
pub(crate) fn trip_days(plan: &Plan) -> usize {
    if plan.itinerary.days.is_empty() {
        usize::from(plan.request.days)
    } else {
        plan.itinerary.days.len()
    }
}

/// "3 July 2027".
pub(crate) fn day_month_year(d: NaiveDate) -> String {
    d.format("%-d %B %Y").to_string()
}

/// "Saturday 3 July 2027".
pub(crate) fn long_date(d: NaiveDate) -> String {
    d.format("%A %-d %B %Y").to_string()
}

/// "3–4 July 2027 · 2 days · 1 traveller".
pub(crate) fn trip_line(plan: &Plan) -> String {
    let (first, last) = trip_dates(plan);
    let days = trip_days(plan);
    format!(
        "{} · {} · {}",
        tripwright_domain::date_range(first, last),
        plural(days, "day", "days"),
        plural(
            usize::from(plan.summary.cost.travelers.max(1)),
            "traveller",
            "travellers"
        )
    )
}

/// "1 day", "2 days".
pub(crate) fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("{n} {one}")
    } else {
        format!("{n} {many}")
    }
}

/// An amount in `currency` without the code, for columns headed with it: "1,234.50",
/// "50,160" (yen); "–" when not finite. The domain's [`Money`] writes every amount.
pub(crate) fn amount(x: f64, currency: &str) -> String {
    group_thousands(x, Money::decimals(currency))
}

/// "EUR 1,234.50", as everywhere else in Tripwright.
pub(crate) fn money(x: f64, currency: &str) -> String {
    Money::new(x, currency).to_string()
}

/// What a stop is for, for people.
pub(crate) fn kind_label(kind: StopKind) -> &'static str {
    match kind {
        StopKind::Sight => "Sight",
        StopKind::Artwork => "Artwork",
        StopKind::Cafe => "Coffee break",
        StopKind::Lunch => "Lunch",
        StopKind::Dinner => "Dinner",
    }
}

/// "Sight (museum)", "Artwork (memorial)"; the place kind is left out when empty or the same
/// word ("Sight", not "Sight (attraction)").
pub(crate) fn kind_with_place(stop: &Stop) -> String {
    let label = kind_label(stop.kind);
    let place = if stop.place_kind.trim().is_empty() {
        String::new()
    } else {
        tripwright_domain::place_kind_words(&stop.place_kind)
    };
    if place.is_empty() || place.eq_ignore_ascii_case(label) {
        label.to_owned()
    } else {
        format!("{label} ({place})")
    }
}

/// "09:32–10:17".
pub(crate) fn stop_time(stop: &Stop) -> String {
    format!("{}–{}", stop.start, stop.end)
}

/// "12 min walk (0.87 km)" or "" for no walk.
pub(crate) fn walk_text(stop: &Stop) -> String {
    if stop.walk_minutes == 0 && !(stop.walk_km.is_finite() && stop.walk_km > 0.0) {
        return String::new();
    }
    if stop.walk_km.is_finite() && stop.walk_km > 0.0 {
        format!("{} min walk ({:.2} km)", stop.walk_minutes, stop.walk_km)
    } else {
        format!("{} min walk", stop.walk_minutes)
    }
}

/// "4★ · 110.00 EUR per night (estimated) · 0.95 km from the centre".
pub(crate) fn hotel_line(hotel: &Hotel, currency: &str) -> String {
    let mut parts = Vec::new();
    if let Some(stars) = hotel.stars.filter(|s| *s > 0) {
        parts.push(format!("{stars}★"));
    }
    if hotel.price_per_night.is_finite() && hotel.price_per_night > 0.0 {
        let est = if hotel.price_estimated {
            " (estimated)"
        } else {
            ""
        };
        parts.push(format!(
            "{} per night{est}",
            money(hotel.price_per_night, currency)
        ));
    }
    if hotel.distance_km.is_finite() {
        parts.push(format!("{:.2} km from the centre", hotel.distance_km));
    }
    parts.join(" · ")
}

/// The budget verdict: "within budget", "over budget by 12.00 EUR", or "" without one.
pub(crate) fn budget_verdict(plan: &Plan) -> String {
    let cost = &plan.summary.cost;
    let Some(budget) = cost.budget.filter(|b| b.is_finite()) else {
        return String::new();
    };
    let within = cost.within_budget.unwrap_or(cost.total <= budget);
    if within {
        format!(
            "within budget ({} left)",
            money((budget - cost.total).max(0.0), &cost.currency)
        )
    } else {
        format!(
            "over budget by {}",
            money((cost.total - budget).max(0.0), &cost.currency)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_grouped() {
        assert_eq!(amount(0.0, "EUR"), "0.00");
        assert_eq!(amount(110.0, "EUR"), "110.00");
        assert_eq!(amount(1234.5, "EUR"), "1,234.50");
        assert_eq!(amount(1_234_567.891, "EUR"), "1,234,567.89");
        assert_eq!(amount(-12.345, "EUR"), "-12.35");
        assert_eq!(amount(f64::NAN, "EUR"), "–");
        assert_eq!(amount(50_160.0, "JPY"), "50,160");
        assert_eq!(money(99.999, "EUR"), "EUR 100.00");
    }

    #[test]
    fn date_ranges() {
        let d = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).expect("valid date");
        assert_eq!(
            tripwright_domain::date_range(d(2027, 7, 3), d(2027, 7, 4)),
            "3–4 July 2027"
        );
        assert_eq!(
            tripwright_domain::date_range(d(2027, 6, 30), d(2027, 7, 2)),
            "30 June – 2 July 2027"
        );
        assert_eq!(
            tripwright_domain::date_range(d(2027, 12, 30), d(2028, 1, 2)),
            "30 December 2027 – 2 January 2028"
        );
        assert_eq!(
            tripwright_domain::date_range(d(2027, 7, 3), d(2027, 7, 3)),
            "3 July 2027"
        );
        assert_eq!(long_date(d(2027, 7, 3)), "Saturday 3 July 2027");
    }
}
