//! SummaryAgent: the cost estimate against the budget, and the trip summary.
//!
//! OpenStreetMap has no prices, so every figure comes from the configured cost tables
//! (`[costs]` in `tripwright.toml`, defaults in `tripwright-config`) and is flagged
//! `estimated`. The cost model, documented in `docs/costs.md`:
//! - hotel: nights (days − 1) × rooms (travellers ÷ people per room, rounded up) × the
//!   room-night price by stars, else by lodging kind, else the "stars unknown" price;
//! - meals: each lunch, dinner and coffee stop of the itinerary, per traveller; breakfast
//!   on every morning after a hotel night;
//! - activities: a ticket per traveller at each paid sight (museum, gallery, zoo, theme park);
//! - local transport and incidentals per traveller per day.
//!
//! The budget is compared with the total and never silently exceeded: `within_budget` is
//! false and the plan carries a warning.

use tripwright_config::CostConfig;
use tripwright_domain::{CostEstimate, CostLine, Hotel, Itinerary, Place, StopKind, plural};

/// Prices from the cost tables, converted to the plan's currency.
#[derive(Debug, Clone)]
pub struct Prices {
    costs: CostConfig,
    currency: String,
    rate: f64,
}

impl Prices {
    /// Tables converted to `currency`; `None` when no exchange rate is configured for it.
    pub fn new(costs: &CostConfig, currency: &str) -> Option<Prices> {
        let currency = currency.to_ascii_uppercase();
        let rate = if currency == costs.base_currency {
            1.0
        } else {
            *costs.fx_per_base.get(&currency)?
        };
        Some(Prices {
            costs: costs.clone(),
            currency,
            rate,
        })
    }

    /// The plan's currency.
    pub fn currency(&self) -> &str {
        &self.currency
    }

    /// A base-currency amount in the plan's currency, to the cent.
    pub fn convert(&self, base: f64) -> f64 {
        round2(base * self.rate)
    }

    /// Estimated price of one room-night at `p`, and whether it is an estimate (always, until
    /// a price source exists): by its stars, else by the class its chain or name imply, else
    /// by its kind of lodging, else the "stars unknown" price.
    pub fn room_night(&self, p: &Place) -> (f64, bool) {
        let by_kind = || self.costs.room_night_by_kind.get(&p.kind).copied();
        let base = match crate::wishes::class_of(p) {
            Some(c) if c.tagged || p.kind == "hotel" => {
                self.costs.room_night_by_stars[usize::from(c.level.clamp(1, 5))]
            }
            _ => by_kind().unwrap_or(self.costs.room_night_by_stars[0]),
        };
        (self.convert(base), true)
    }
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// The cost estimate of a trip.
pub fn estimate_cost(
    itinerary: &Itinerary,
    hotel: Option<&Hotel>,
    travelers: u8,
    budget: Option<f64>,
    prices: &Prices,
) -> CostEstimate {
    let c = &prices.costs;
    let days = itinerary.days.len() as u32;
    let nights = days.saturating_sub(1);
    let people = f64::from(travelers);
    let rooms = u32::from(travelers).div_ceil(u32::from(c.people_per_room.max(1)));
    let count = |k: StopKind| {
        itinerary
            .days
            .iter()
            .flat_map(|d| &d.stops)
            .filter(|s| s.kind == k)
            .count() as f64
    };
    let paid_sights = itinerary
        .days
        .iter()
        .flat_map(|d| &d.stops)
        .filter(|s| {
            matches!(
                s.place_kind.as_str(),
                "museum" | "gallery" | "zoo" | "theme_park"
            )
        })
        .count() as f64;
    let per_night = hotel.map_or(prices.convert(c.room_night_by_stars[0]), |h| {
        h.price_per_night
    });
    let mut lines = vec![CostLine {
        label: match hotel {
            Some(h) => format!("{} — {}", h.name, nights_rooms(nights, rooms)),
            None => format!("Lodging — {}", nights_rooms(nights, rooms)),
        },
        amount: round2(per_night * f64::from(nights) * f64::from(rooms)),
        estimated: hotel.is_none_or(|h| h.price_estimated),
    }];
    let per_person = [
        ("Breakfasts", f64::from(nights) * c.breakfast),
        ("Lunches", count(StopKind::Lunch) * c.lunch),
        ("Dinners", count(StopKind::Dinner) * c.dinner),
        ("Coffee breaks", count(StopKind::Cafe) * c.cafe),
        ("Tickets (museums, galleries, zoos)", paid_sights * c.ticket),
        (
            "Local transport and incidentals",
            f64::from(days) * c.daily_incidentals,
        ),
    ];
    for (label, base) in per_person {
        if base > 0.0 {
            lines.push(CostLine {
                label: format!(
                    "{label} × {}",
                    plural(usize::from(travelers), "traveller", "travellers")
                ),
                amount: prices.convert(base * people),
                estimated: true,
            });
        }
    }
    let total = round2(lines.iter().map(|l| l.amount).sum());
    CostEstimate {
        currency: prices.currency().to_owned(),
        total,
        budget,
        within_budget: budget.map(|b| total <= b),
        nights,
        travelers,
        rooms,
        hotel_per_night: per_night,
        estimated: lines.iter().any(|l| l.estimated),
        lines,
    }
}

/// "2 nights × 1 room".
fn nights_rooms(nights: u32, rooms: u32) -> String {
    format!(
        "{} × {}",
        plural(nights as usize, "night", "nights"),
        plural(rooms as usize, "room", "rooms")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;
    use tripwright_domain::{DayPlan, Stop, TimeOfDay};

    fn stop(kind: StopKind, place_kind: &str) -> Stop {
        let t = TimeOfDay::hm(10, 0).expect("time");
        Stop {
            route: Vec::new(),
            place_id: "osm:node/1".into(),
            name: "x".into(),
            kind,
            place_kind: place_kind.into(),
            lat: 0.0,
            lon: 0.0,
            start: t,
            end: t.plus(30),
            walk_minutes: 0,
            walk_km: 0.0,
            opening_hours: None,
            facts: Vec::new(),
            note: String::new(),
            description: None,
        }
    }

    fn itinerary(days: usize) -> Itinerary {
        let date = NaiveDate::from_ymd_opt(2027, 7, 3).expect("date");
        Itinerary {
            month: 7,
            month_fixed: true,
            start_date: date,
            hotel_id: None,
            days: (0..days)
                .map(|i| DayPlan {
                    route_back: Vec::new(),
                    day: (i + 1) as u8,
                    date,
                    weekday: "Saturday".into(),
                    title: String::new(),
                    intro: String::new(),
                    stops: vec![
                        stop(StopKind::Sight, "museum"),
                        stop(StopKind::Lunch, "restaurant"),
                        stop(StopKind::Dinner, "restaurant"),
                    ],
                    walk_km: 1.0,
                })
                .collect(),
        }
    }

    #[test]
    fn cost_lines_add_up_and_budget_is_checked() {
        let costs = CostConfig::default();
        let prices = Prices::new(&costs, "EUR").expect("eur");
        let it = itinerary(3);
        let est = estimate_cost(&it, None, 3, Some(500.0), &prices);
        assert_eq!(est.nights, 2);
        assert_eq!(est.rooms, 2);
        let expected_hotel = 2.0 * 2.0 * costs.room_night_by_stars[0];
        assert_eq!(est.lines[0].amount, expected_hotel);
        let expected = expected_hotel
            + 3.0
                * (2.0 * costs.breakfast
                    + 3.0 * costs.lunch
                    + 3.0 * costs.dinner
                    + 3.0 * costs.ticket
                    + 3.0 * costs.daily_incidentals);
        assert!(
            (est.total - expected).abs() < 0.01,
            "{} vs {expected}",
            est.total
        );
        assert_eq!(est.within_budget, Some(false));
        assert!(est.estimated);
        let rich = estimate_cost(&it, None, 3, Some(1e6), &prices);
        assert_eq!(rich.within_budget, Some(true));
        assert_eq!(
            estimate_cost(&it, None, 1, None, &prices).within_budget,
            None
        );
    }

    #[test]
    fn currency_conversion() {
        let costs = CostConfig::default();
        let usd = Prices::new(&costs, "usd").expect("usd");
        assert_eq!(usd.currency(), "USD");
        assert_eq!(usd.convert(100.0), round2(100.0 * costs.fx_per_base["USD"]));
        assert!(Prices::new(&costs, "XXX").is_none());
    }
}
