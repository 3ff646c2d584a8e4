//! The plan's own feasibility report (`../shared/docs/EVAL.md`): commonsense checks and the
//! hard constraints the request states, each recomputed from the finished plan and the
//! stored place data — never taken from the planner's word.

use std::collections::{HashMap, HashSet};

use chrono::Datelike;
use tripwright_domain::{
    Check, GeoPoint, Money, OpeningHours, Place, PlaceId, Plan, month_name, plural,
};

use crate::itinerary::is_activity;
use crate::streets::Walker;

/// How many months at the top of the ranking count as "a best month".
pub const TOP_MONTHS: usize = 3;

/// Runs every applicable check. `places` holds the stored places the plan refers to, by id;
/// `area_km` is the radius around the destination that counts as "at the destination";
/// `walker` times the walks (along the region's streets when it has a street map).
pub fn run_checks(
    plan: &Plan,
    places: &HashMap<PlaceId, Place>,
    walker: Walker<'_>,
    area_km: f64,
) -> Vec<Check> {
    let nothing_placed =
        plan.hotels.is_empty() && plan.itinerary.days.iter().all(|d| d.stops.is_empty());
    // Without a hotel or a stop, the checks of stops would pass having tested nothing: only
    // what can fail is shown.
    let mut checks = if nothing_placed {
        let nothing = format!(
            "the plan has no hotels or stops: there is no place data near {}",
            plan.destination.name
        );
        vec![check("grounded", &[nothing], String::new()), complete(plan)]
    } else {
        vec![
            grounded(plan, places, area_km),
            complete(plan),
            diverse(plan),
            timing(plan, walker.config()),
            opening_hours(plan),
            reachable(plan, walker),
        ]
    };
    if !plan.itinerary.month_fixed {
        checks.push(month(plan));
    }
    if let Some(budget) = plan.request.budget {
        let c = &plan.summary.cost;
        let passed = c.total <= budget;
        checks.push(Check {
            name: "budget".into(),
            passed,
            detail: format!(
                "the estimated total, {}, {} the budget of {}",
                Money::new(c.total, &c.currency),
                if passed { "is within" } else { "exceeds" },
                Money::new(budget, &c.currency),
            ),
        });
    }
    checks
}

fn check(name: &str, problems: &[String], ok: String) -> Check {
    Check {
        name: name.into(),
        passed: problems.is_empty(),
        detail: if problems.is_empty() {
            ok
        } else {
            let shown: Vec<&str> = problems.iter().take(5).map(String::as_str).collect();
            let more = problems.len().saturating_sub(5);
            let tail = if more > 0 {
                format!(" (+{more} more)")
            } else {
                String::new()
            };
            format!("{}{tail}", shown.join("; "))
        },
    }
}

fn grounded(plan: &Plan, places: &HashMap<PlaceId, Place>, area_km: f64) -> Check {
    let centre = plan.destination.point();
    let named = plan
        .hotels
        .iter()
        .map(|h| (&h.id, &h.name, h.lat, h.lon))
        .chain(
            plan.itinerary
                .days
                .iter()
                .flat_map(|d| &d.stops)
                .map(|s| (&s.place_id, &s.name, s.lat, s.lon)),
        );
    let mut problems = Vec::new();
    let mut n = 0;
    for (id, name, lat, lon) in named {
        n += 1;
        match places.get(id) {
            None => problems.push(format!("{name} ({id}) is not in the place data")),
            // As the plan shows it: two names in one read as two ("… and …").
            Some(p) if tripwright_domain::readable_name(&p.name) != *name => {
                problems.push(format!("{id} is named {:?}, not {name:?}", p.name))
            }
            Some(p) if (p.lat - lat).abs() > 1e-6 || (p.lon - lon).abs() > 1e-6 => {
                problems.push(format!("{name} is not where the place data puts it"));
            }
            Some(p) if p.point().distance_km(&centre) > area_km => problems.push(format!(
                "{name} is {:.1} km from the centre, outside the {area_km} km area",
                p.point().distance_km(&centre)
            )),
            Some(_) => {}
        }
    }
    check(
        "grounded",
        &problems,
        format!(
            "all {n} hotels and stops exist in the place data within {area_km} km of the centre"
        ),
    )
}

fn complete(plan: &Plan) -> Check {
    let mut problems = Vec::new();
    let days = &plan.itinerary.days;
    if days.len() != usize::from(plan.request.days) {
        problems.push(format!(
            "{} planned, {} requested",
            plural(days.len(), "day", "days"),
            plan.request.days
        ));
    }
    for d in days {
        if !d.stops.iter().any(|s| is_activity(s.kind)) {
            problems.push(format!("day {} has no activity", d.day));
        }
    }
    if plan.request.days > 1 {
        let hotel_listed = plan
            .itinerary
            .hotel_id
            .as_ref()
            .is_some_and(|id| plan.hotels.iter().any(|h| &h.id == id));
        if !hotel_listed {
            problems.push("no hotel for the nights".into());
        }
    }
    if plan.best_months.len() != 12 {
        problems.push(format!("{} months ranked, not 12", plan.best_months.len()));
    }
    check(
        "complete",
        &problems,
        format!(
            "{} as requested, each with an activity; a hotel, and all 12 months ranked",
            plural(days.len(), "day", "days")
        ),
    )
}

fn diverse(plan: &Plan) -> Check {
    let mut seen = HashSet::new();
    let mut problems = Vec::new();
    for s in plan.itinerary.days.iter().flat_map(|d| &d.stops) {
        if !seen.insert(&s.place_id) {
            problems.push(format!("{} appears more than once", s.name));
        }
    }
    check(
        "diverse",
        &problems,
        format!("{}, none repeated", plural(seen.len(), "stop", "stops")),
    )
}

fn timing(plan: &Plan, cfg: &tripwright_config::PlannerConfig) -> Check {
    let mut problems = Vec::new();
    let day_end = tripwright_domain::TimeOfDay::parse(&cfg.day_end);
    for d in &plan.itinerary.days {
        // An edited day can run late: its last stop must end by the end of the day.
        if let (Some(last), Some(end)) = (d.stops.last(), day_end)
            && last.end > end
        {
            problems.push(format!(
                "day {}: {} ends at {}, after the day's end at {end}",
                d.day, last.name, last.end
            ));
        }
        for s in &d.stops {
            if s.start >= s.end {
                problems.push(format!(
                    "day {}: {} starts at {} but ends at {}",
                    d.day, s.name, s.start, s.end
                ));
            }
        }
        for w in d.stops.windows(2) {
            if w[1].start < w[0].end {
                problems.push(format!(
                    "day {}: {} starts before {} ends",
                    d.day, w[1].name, w[0].name
                ));
            }
        }
    }
    check(
        "timing",
        &problems,
        format!(
            "every stop starts before it ends, in chronological order, by {}",
            cfg.day_end
        ),
    )
}

fn opening_hours(plan: &Plan) -> Check {
    let (mut known, mut unknown) = (0, 0);
    let mut problems = Vec::new();
    for d in &plan.itinerary.days {
        for s in &d.stops {
            match s.opening_hours.as_deref().and_then(OpeningHours::parse) {
                Some(oh) => {
                    known += 1;
                    if !oh.is_open_during(d.date.weekday(), s.start, s.end) {
                        problems.push(format!(
                            "day {} ({}): {} {}–{} is outside \"{}\"",
                            d.day,
                            d.weekday,
                            s.name,
                            s.start,
                            s.end,
                            s.opening_hours.as_deref().unwrap_or_default()
                        ));
                    }
                }
                None => unknown += 1,
            }
        }
    }
    check(
        "opening_hours",
        &problems,
        format!(
            "{} within their opening hours; {unknown} without known hours",
            plural(known, "stop", "stops")
        ),
    )
}

fn reachable(plan: &Plan, walker: Walker<'_>) -> Check {
    let cfg = walker.config();
    let mut problems = Vec::new();
    let base = plan
        .itinerary
        .hotel_id
        .as_ref()
        .and_then(|id| plan.hotels.iter().find(|h| &h.id == id))
        .map_or(plan.destination.point(), |h| GeoPoint::new(h.lat, h.lon));
    let mut longest: f64 = 0.0;
    for d in &plan.itinerary.days {
        let mut km = 0.0;
        let mut pos = base;
        for (i, s) in d.stops.iter().enumerate() {
            let here = GeoPoint::new(s.lat, s.lon);
            let leg = walker.leg(pos, here);
            let minutes = leg.minutes;
            km += leg.km;
            if i > 0 {
                let prev = &d.stops[i - 1];
                let gap = s.start.minutes().saturating_sub(prev.end.minutes());
                if minutes > gap {
                    problems.push(format!(
                        "day {}: {minutes} min walk from {} to {} but {gap} min between them",
                        d.day, prev.name, s.name
                    ));
                }
            }
            pos = here;
        }
        km += walker.leg(pos, base).km;
        longest = longest.max(km);
        if km > cfg.max_walk_km_per_day {
            problems.push(format!(
                "day {}: {km:.1} km of walking exceeds {} km",
                d.day, cfg.max_walk_km_per_day
            ));
        }
    }
    check(
        "reachable",
        &problems,
        format!(
            "every walk fits its gap; longest day {longest:.1} km (limit {} km){}",
            cfg.max_walk_km_per_day,
            if walker.on_streets() {
                ", walked along the streets"
            } else {
                ", estimated from straight lines (no street map here)"
            }
        ),
    )
}

fn month(plan: &Plan) -> Check {
    let m = plan.itinerary.month;
    let top: Vec<u8> = plan
        .best_months
        .iter()
        .take(TOP_MONTHS)
        .map(|s| s.month)
        .collect();
    let problems = if top.contains(&m) {
        Vec::new()
    } else {
        let names: Vec<&str> = top.iter().map(|&t| month_name(t)).collect();
        vec![format!(
            "{} is not among the {TOP_MONTHS} best months ({})",
            month_name(m),
            names.join(", ")
        )]
    };
    check(
        "month",
        &problems,
        format!(
            "{} is among the {TOP_MONTHS} best months for the weather",
            month_name(m)
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> Plan {
        crate::fixture_plan()
    }

    #[test]
    fn a_day_that_runs_past_its_end_fails_the_timing_check() {
        let cfg = tripwright_config::PlannerConfig::default();
        let mut plan = plan();
        let timing = |plan: &Plan| {
            run_checks(plan, &HashMap::new(), Walker::new(&cfg, None), 15.0)
                .into_iter()
                .find(|c| c.name == "timing")
                .expect("a timing check")
        };
        let ok = timing(&plan);
        assert!(ok.passed, "{ok:?}");
        assert!(
            ok.detail.ends_with(&format!("by {}", cfg.day_end)),
            "{ok:?}"
        );
        // Dinner pushed to 21:30–23:00 (an added visit before it, say).
        let dinner = plan.itinerary.days[0].stops.last_mut().expect("a dinner");
        dinner.start = tripwright_domain::TimeOfDay::from_minutes(21 * 60 + 30);
        dinner.end = tripwright_domain::TimeOfDay::from_minutes(23 * 60);
        let late = timing(&plan);
        assert!(!late.passed);
        assert_eq!(
            late.detail,
            format!(
                "day 1: Latitude 25 ends at 23:00, after the day's end at {}",
                cfg.day_end
            )
        );
    }

    #[test]
    fn a_plan_without_places_gets_no_checks_that_test_nothing() {
        let mut plan = plan();
        plan.hotels.clear();
        for d in &mut plan.itinerary.days {
            d.stops.clear();
        }
        let cfg = tripwright_config::PlannerConfig::default();
        let checks = run_checks(&plan, &HashMap::new(), Walker::new(&cfg, None), 15.0);
        let names: Vec<(&str, bool)> = checks.iter().map(|c| (c.name.as_str(), c.passed)).collect();
        assert_eq!(&names[..2], [("grounded", false), ("complete", false)]);
        assert!(
            !names
                .iter()
                .any(|(n, _)| matches!(*n, "diverse" | "timing" | "opening_hours" | "reachable")),
            "{names:?}"
        );
        assert_eq!(
            checks[0].detail,
            "the plan has no hotels or stops: there is no place data near Helsinki"
        );
    }
}
