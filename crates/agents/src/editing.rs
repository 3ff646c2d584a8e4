//! Editing a finished plan: remove a stop, swap it for another nearby place of the same kind,
//! move it (within its day or to another day), add a place. Every edit re-times the days it
//! touched from their start, walking along the streets where the region has a street map; the
//! stops it did not touch keep their notes.

use chrono::Datelike;
use serde::{Deserialize, Serialize};
use tripwright_config::PlannerConfig;
use tripwright_domain::{
    DayPlan, GeoPoint, OpeningHours, Place, PlaceCategory, PlaceId, Plan, Stop, StopKind, TimeOfDay,
};

use crate::itinerary::{day_title, new_stop, round2, visit_minutes};
use crate::streets::{Walker, stored_path};

/// One change to a plan. Days are 1-based; stops are 0-based positions in their day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum PlanEdit {
    /// Takes the stop out of its day.
    Remove {
        /// The day.
        day: u8,
        /// The stop's position.
        stop: usize,
    },
    /// Replaces the stop with another place of the same kind that is not in the plan yet,
    /// open then: the one that adds least walking first, the next one on each swap after. A
    /// sight is swapped for the most alike sights there are: the same kind (a museum for a
    /// museum), else the same sort (a gallery; a statue for a memorial), else any sight.
    Swap {
        /// The day.
        day: u8,
        /// The stop's position.
        stop: usize,
    },
    /// Moves the stop to position `to` of day `to_day` (the same day: a new order); to
    /// another day with `to` past its end, where it adds least walking.
    Move {
        /// The day.
        day: u8,
        /// The stop's position.
        stop: usize,
        /// The day it goes to.
        to_day: u8,
        /// Its new position there (past the end: last).
        to: usize,
    },
    /// Adds a place of the local data to a day, where it adds the least walking.
    Add {
        /// The day.
        day: u8,
        /// The place.
        place: PlaceId,
    },
}

/// Why an edit cannot be made, in words for the traveller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct EditRefused(pub String);

/// Where days start (the hotel, else the destination) and what the places near it are.
pub struct EditContext<'a> {
    /// The hotel, else the destination.
    pub base: GeoPoint,
    /// Places near the destination the plan may use (sights, artworks, eateries).
    pub places: &'a [Place],
    /// Times walks.
    pub walker: Walker<'a>,
}

/// Applies `edit` to `plan`; returns what was done, in words ("Removed Ateneum from day 1.").
pub fn apply(
    plan: &mut Plan,
    edit: &PlanEdit,
    ctx: &EditContext<'_>,
) -> Result<String, EditRefused> {
    let days = plan.itinerary.days.len();
    let day_index = |day: u8| {
        (1..=days)
            .contains(&usize::from(day))
            .then(|| usize::from(day) - 1)
            .ok_or_else(|| EditRefused(format!("the plan has days 1 to {days}, not day {day}")))
    };
    let stop_of = |plan: &Plan, d: usize, stop: usize| {
        plan.itinerary.days[d]
            .stops
            .get(stop)
            .map(|s| s.name.clone())
            .ok_or_else(|| {
                EditRefused(format!(
                    "day {} has {} stops, not a stop {}",
                    d + 1,
                    plan.itinerary.days[d].stops.len(),
                    stop + 1
                ))
            })
    };
    let mut touched = Vec::new();
    let said = match edit {
        PlanEdit::Remove { day, stop } => {
            let d = day_index(*day)?;
            let name = stop_of(plan, d, *stop)?;
            plan.itinerary.days[d].stops.remove(*stop);
            touched.push(d);
            format!("Removed {name} from day {day}.")
        }
        PlanEdit::Move {
            day,
            stop,
            to_day,
            to,
        } => {
            let (d, t) = (day_index(*day)?, day_index(*to_day)?);
            let name = stop_of(plan, d, *stop)?;
            let moved = plan.itinerary.days[d].stops.remove(*stop);
            let target = &mut plan.itinerary.days[t].stops;
            // To another day without a place in it: where it adds least walking.
            let at = if d != t && *to >= target.len() {
                let p = GeoPoint::new(moved.lat, moved.lon);
                cheapest_insertion(ctx.base, target, p, moved.kind)
            } else {
                (*to).min(target.len())
            };
            target.insert(at, moved);
            touched.extend([d, t]);
            if d == t {
                format!(
                    "Moved {name} to stop {} of day {day}.",
                    (*to).min(target.len() - 1) + 1
                )
            } else {
                format!("Moved {name} from day {day} to day {to_day}.")
            }
        }
        PlanEdit::Swap { day, stop } => {
            let d = day_index(*day)?;
            let old_name = stop_of(plan, d, *stop)?;
            let old = &plan.itinerary.days[d].stops[*stop];
            let weekday = plan.itinerary.days[d].date.weekday();
            let used = used_places(plan);
            let kind = old.kind;
            let same_kind = |p: &&Place| match kind {
                StopKind::Sight => p.category == PlaceCategory::Attraction,
                StopKind::Artwork => p.category == PlaceCategory::Artwork,
                _ => p.category == PlaceCategory::Food && p.kind == old.place_kind,
            };
            let (start, minutes) = (
                old.start,
                old.end.minutes().saturating_sub(old.start.minutes()),
            );
            let open_then = |p: &&Place| {
                p.opening_hours
                    .as_deref()
                    .and_then(OpeningHours::parse)
                    .is_none_or(|oh| {
                        oh.earliest_fit(weekday, start, minutes)
                            .is_some_and(|s| s.minutes() <= start.minutes() + 60)
                    })
            };
            // Ranked by the detour from the previous stop to the next, which does not depend
            // on the stop itself: swapping again takes the next one, and goes round them all.
            let stops = &plan.itinerary.days[d].stops;
            let point_at = |i: Option<usize>| {
                i.and_then(|i| stops.get(i))
                    .map_or(ctx.base, |s| GeoPoint::new(s.lat, s.lon))
            };
            let (before, after) = (point_at(stop.checked_sub(1)), point_at(Some(stop + 1)));
            let detour = |p: &Place| before.distance_km(&p.point()) + p.point().distance_km(&after);
            let open: Vec<&Place> = ctx
                .places
                .iter()
                .filter(same_kind)
                .filter(|p| !p.name.trim().is_empty())
                .filter(|p| p.id == old.place_id || !used.contains(&p.id))
                .filter(open_then)
                .collect();
            // The most alike that offers another place: a museum for a museum, else for a
            // gallery, else any sight.
            let alike = |p: &Place| likeness(&old.place_kind, &p.kind);
            let tier = (0..=2)
                .find(|t| open.iter().any(|p| alike(p) <= *t && p.id != old.place_id))
                .unwrap_or(2);
            let mut ranked: Vec<&Place> = open.into_iter().filter(|p| alike(p) <= tier).collect();
            ranked.sort_by(|a, b| {
                detour(a)
                    .total_cmp(&detour(b))
                    .then_with(|| a.id.cmp(&b.id))
            });
            let next = match ranked.iter().position(|p| p.id == old.place_id) {
                Some(i) => (i + 1) % ranked.len(),
                None => 0,
            };
            let best = ranked
                .get(next)
                .filter(|p| p.id != old.place_id)
                .copied()
                .ok_or_else(|| {
                    EditRefused(format!(
                        "there is no other place like {old_name} nearby that is open then"
                    ))
                })?;
            let new = new_stop(best, kind, start, start.plus(minutes));
            let new_name = new.name.clone();
            plan.itinerary.days[d].stops[*stop] = new;
            touched.push(d);
            format!("Swapped {old_name} for {new_name} on day {day}.")
        }
        PlanEdit::Add { day, place } => {
            let d = day_index(*day)?;
            if used_places(plan).contains(place) {
                return Err(EditRefused("that place is already in the plan".into()));
            }
            let p = ctx.places.iter().find(|p| &p.id == place).ok_or_else(|| {
                EditRefused("that place is not near this trip's destination".into())
            })?;
            let kind = match p.category {
                PlaceCategory::Artwork => StopKind::Artwork,
                PlaceCategory::Attraction => StopKind::Sight,
                PlaceCategory::Food if p.kind == "cafe" => StopKind::Cafe,
                PlaceCategory::Food => StopKind::Lunch,
                _ => return Err(EditRefused(format!("{} is not a place to visit", p.name))),
            };
            let stops = &plan.itinerary.days[d].stops;
            let at = cheapest_insertion(ctx.base, stops, p.point(), kind);
            let placeholder = TimeOfDay::from_minutes(0);
            let minutes = visit_minutes(p, ctx.walker.config());
            let stop = new_stop(p, kind, placeholder, placeholder.plus(minutes));
            plan.itinerary.days[d].stops.insert(at, stop);
            touched.push(d);
            format!("Added {} to day {day}.", p.name)
        }
    };
    touched.sort_unstable();
    touched.dedup();
    for d in touched {
        let day = &mut plan.itinerary.days[d];
        retime_day(day, ctx.base, ctx.walker);
        // The intro says which places the day holds: it is built again from them (the
        // summary is, by the orchestrator, with the new cost).
        day.intro = crate::intros::day_intro(&day.weekday, &day.stops);
    }
    Ok(said)
}

/// The places a plan uses: its stops and its hotels.
fn used_places(plan: &Plan) -> Vec<PlaceId> {
    plan.itinerary
        .days
        .iter()
        .flat_map(|d| d.stops.iter().map(|s| s.place_id.clone()))
        .chain(plan.hotels.iter().map(|h| h.id.clone()))
        .collect()
}

/// Where a new stop adds the least walking (straight lines): a sight between sights, a meal
/// where meals go in time (before the first stop that starts after its hour).
fn cheapest_insertion(base: GeoPoint, stops: &[Stop], p: GeoPoint, kind: StopKind) -> usize {
    let point = |i: usize| -> GeoPoint {
        if i == 0 || i > stops.len() {
            base
        } else {
            GeoPoint::new(stops[i - 1].lat, stops[i - 1].lon)
        }
    };
    if let Some(from) = earliest(kind) {
        return stops
            .iter()
            .position(|s| s.start.minutes() >= from && s.kind != StopKind::Lunch)
            .unwrap_or(stops.len());
    }
    // Sights before dinner.
    let last = stops
        .iter()
        .position(|s| s.kind == StopKind::Dinner)
        .unwrap_or(stops.len());
    (0..=last)
        .min_by(|&a, &b| {
            let cost = |i: usize| {
                point(i).distance_km(&p) + p.distance_km(&point(i + 1))
                    - point(i).distance_km(&point(i + 1))
            };
            cost(a).total_cmp(&cost(b))
        })
        .unwrap_or(last)
}

/// The earliest a meal of `kind` starts, in minutes after midnight; `None` for activities.
fn earliest(kind: StopKind) -> Option<u32> {
    match kind {
        StopKind::Lunch => Some(12 * 60),
        StopKind::Cafe => Some(15 * 60),
        StopKind::Dinner => Some(18 * 60 + 30),
        _ => None,
    }
}

/// Times a day's stops again in their order from the start of the day: each walk along the
/// streets (or estimated), a meal not before its hour, a place with opening hours when it is
/// open for the whole visit (if it opens that day at all; else at arrival, and the
/// `opening_hours` check says so); the day's walk back and its title follow.
pub fn retime_day(day: &mut DayPlan, base: GeoPoint, walker: Walker<'_>) {
    let cfg: &PlannerConfig = walker.config();
    let start = TimeOfDay::parse(&cfg.day_start).unwrap_or(TimeOfDay::from_minutes(570));
    let weekday = day.date.weekday();
    let mut t = start;
    let mut pos = base;
    for s in &mut day.stops {
        let here = GeoPoint::new(s.lat, s.lon);
        let leg = walker.leg(pos, here);
        let minutes = s.end.minutes().saturating_sub(s.start.minutes()).max(10);
        let mut at = t.plus(leg.minutes);
        if let Some(from) = earliest(s.kind) {
            at = at.max(TimeOfDay::from_minutes(from));
        }
        if let Some(fit) = s
            .opening_hours
            .as_deref()
            .and_then(OpeningHours::parse)
            .and_then(|oh| oh.earliest_fit(weekday, at, minutes))
        {
            at = fit;
        }
        s.start = at;
        s.end = at.plus(minutes);
        s.walk_minutes = leg.minutes;
        s.walk_km = round2(leg.km);
        s.route = stored_path(&leg.path);
        pos = here;
        t = s.end;
    }
    let back = day.stops.last().map(|_| walker.leg(pos, base));
    day.walk_km = round2(
        day.stops.iter().map(|s| s.walk_km).sum::<f64>() + back.as_ref().map_or(0.0, |b| b.km),
    );
    day.route_back = back.map(|b| stored_path(&b.path)).unwrap_or_default();
    day.title = day_title(&day.stops);
}

/// How alike two sights' kinds are: 0 the same kind, 1 the same sort, 2 only both sights.
fn likeness(a: &str, b: &str) -> u8 {
    if a == b {
        0
    } else if sight_sort(a) == sight_sort(b) {
        1
    } else {
        2
    }
}

/// The sort of sight a place kind is (`museum`, `historic:memorial` …): collections indoors,
/// landmark buildings, small monuments, or views and parks.
fn sight_sort(kind: &str) -> u8 {
    match kind.strip_prefix("historic:").unwrap_or(kind) {
        "museum" | "gallery" | "exhibition" => 0,
        "memorial" | "monument" | "statue" | "grave" | "tomb" | "plaque" | "wayside_cross"
        | "boundary_stone" | "stone" | "milestone" | "artwork" => 2,
        "viewpoint" | "zoo" | "theme_park" | "park" | "garden" => 3,
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn plan() -> Plan {
        crate::fixture_plan()
    }

    fn place(
        id: &str,
        name: &str,
        category: PlaceCategory,
        kind: &str,
        lat: f64,
        lon: f64,
    ) -> Place {
        Place {
            id: PlaceId::from(id.to_owned()),
            name: name.into(),
            category,
            kind: kind.into(),
            lat,
            lon,
            opening_hours: None,
            tags: BTreeMap::new(),
        }
    }

    fn names(plan: &Plan, day: usize) -> Vec<&str> {
        plan.itinerary.days[day]
            .stops
            .iter()
            .map(|s| s.name.as_str())
            .collect()
    }

    /// Every walk fits between two stops, meals keep their hours, nothing overlaps.
    fn assert_timed(day: &DayPlan, cfg: &PlannerConfig) {
        let mut t = TimeOfDay::parse(&cfg.day_start).expect("a start").minutes();
        for s in &day.stops {
            assert!(
                s.start.minutes() >= t + s.walk_minutes,
                "{} starts too early",
                s.name
            );
            assert!(s.end > s.start, "{}", s.name);
            if let Some(from) = earliest(s.kind) {
                assert!(s.start.minutes() >= from, "{} before its hour", s.name);
            }
            t = s.end.minutes();
        }
    }

    fn edit(plan: &mut Plan, e: PlanEdit, places: &[Place]) -> Result<String, EditRefused> {
        let cfg = PlannerConfig::default();
        let ctx = EditContext {
            base: GeoPoint::new(60.1699, 24.9384),
            places,
            walker: Walker::new(&cfg, None),
        };
        let said = apply(plan, &e, &ctx);
        for d in &plan.itinerary.days {
            assert_timed(d, &cfg);
        }
        said
    }

    #[test]
    fn removing_a_stop_re_times_its_day_and_keeps_the_other_notes() {
        let mut p = plan();
        let notes: Vec<String> = p.itinerary.days[0].stops[1..]
            .iter()
            .map(|s| s.note.clone())
            .collect();
        p.itinerary.days[0].intro = "Start at Vanha Kauppahalli, then the cathedral.".into();
        p.itinerary.days[1].intro = "Ateneum first.".into();
        let said = edit(&mut p, PlanEdit::Remove { day: 1, stop: 0 }, &[]).expect("removed");
        // The edited day's intro is built again from its stops; the other day's stays.
        let intro = &p.itinerary.days[0].intro;
        assert_eq!(
            *intro,
            crate::intros::day_intro(&p.itinerary.days[0].weekday, &p.itinerary.days[0].stops)
        );
        assert!(
            !intro.contains("Vanha Kauppahalli") && intro.contains("Helsingin tuomiokirkko"),
            "{intro}"
        );
        assert_eq!(p.itinerary.days[1].intro, "Ateneum first.");
        assert_eq!(said, "Removed Vanha Kauppahalli from day 1.");
        assert_eq!(p.itinerary.days[0].stops.len(), 6);
        let kept: Vec<String> = p.itinerary.days[0]
            .stops
            .iter()
            .map(|s| s.note.clone())
            .collect();
        assert_eq!(kept, notes);
        // Its title is built again too: its headline sight is now the museum.
        assert_eq!(p.itinerary.days[0].title, "Around Päivälehden museo");
        assert_eq!(
            p.itinerary.days[1].stops.len(),
            6,
            "the other day is untouched"
        );
        let refused =
            edit(&mut p, PlanEdit::Remove { day: 3, stop: 0 }, &[]).expect_err("no day 3");
        assert_eq!(refused.0, "the plan has days 1 to 2, not day 3");
        let refused = edit(&mut p, PlanEdit::Remove { day: 1, stop: 9 }, &[]).expect_err("no stop");
        assert_eq!(refused.0, "day 1 has 6 stops, not a stop 10");
    }

    #[test]
    fn moving_a_stop_reorders_its_day_or_takes_it_to_another() {
        let mut p = plan();
        let said = edit(
            &mut p,
            PlanEdit::Move {
                day: 2,
                stop: 3,
                to_day: 2,
                to: 0,
            },
            &[],
        )
        .expect("moved");
        assert_eq!(said, "Moved Kiasma to stop 1 of day 2.");
        assert_eq!(names(&p, 1)[..2], ["Kiasma", "Ateneum"]);
        let said = edit(
            &mut p,
            PlanEdit::Move {
                day: 1,
                stop: 3,
                to_day: 2,
                to: 99,
            },
            &[],
        )
        .expect("moved");
        assert_eq!(said, "Moved Päivälehden museo from day 1 to day 2.");
        // Past the end of the other day: where it adds least walking, before dinner.
        let day2 = names(&p, 1);
        let at = day2
            .iter()
            .position(|n| *n == "Päivälehden museo")
            .expect("moved");
        let dinner = day2.iter().position(|n| *n == "Kaarna").expect("dinner");
        assert!(at < dinner, "{day2:?}");
        assert!(!names(&p, 0).contains(&"Päivälehden museo"));
    }

    #[test]
    fn a_sight_is_swapped_for_the_most_alike_sight_there_is() {
        let mut p = plan();
        let stop = p.itinerary.days[0].stops[0].clone();
        p.itinerary.days[0].stops[0].place_kind = "museum".into();
        let (lat, lon) = (stop.lat, stop.lon);
        let sight = |id: &str, name: &str, kind: &str, km: f64| {
            place(
                id,
                name,
                PlaceCategory::Attraction,
                kind,
                lat + km / 111.0,
                lon,
            )
        };
        let mut places = vec![
            sight("osm:node/1", "Near Memorial", "historic:memorial", 0.05),
            sight("osm:node/2", "Near Gallery", "gallery", 0.1),
            sight("osm:node/3", "Far Museum", "museum", 1.0),
        ];
        // A museum for a museum, though the memorial and the gallery are nearer.
        let said = edit(&mut p, PlanEdit::Swap { day: 1, stop: 0 }, &places).expect("swapped");
        assert_eq!(said, "Swapped Vanha Kauppahalli for Far Museum on day 1.");
        // No other museum: a gallery (the same sort), not the memorial.
        places.retain(|p| p.name != "Far Museum");
        p.itinerary.days[0].stops[0] = stop.clone();
        p.itinerary.days[0].stops[0].place_kind = "museum".into();
        let said = edit(&mut p, PlanEdit::Swap { day: 1, stop: 0 }, &places).expect("swapped");
        assert_eq!(said, "Swapped Vanha Kauppahalli for Near Gallery on day 1.");
        // A memorial goes round the small monuments only while there are some.
        assert_eq!(likeness("historic:memorial", "historic:statue"), 1);
        assert_eq!(likeness("historic:memorial", "museum"), 2);
        assert_eq!(likeness("gallery", "gallery"), 0);
    }

    #[test]
    fn a_swap_takes_the_nearest_unused_place_of_the_same_kind() {
        let mut p = plan();
        let hall = &p.itinerary.days[0].stops[0];
        let (lat, lon) = (hall.lat, hall.lon);
        let places = [
            place(
                "osm:node/1",
                "Far Sight",
                PlaceCategory::Attraction,
                "attraction",
                lat + 0.01,
                lon,
            ),
            place(
                "osm:node/2",
                "Near Sight",
                PlaceCategory::Attraction,
                "attraction",
                lat + 0.001,
                lon,
            ),
            place(
                "osm:node/3",
                "A Nearer Cafe",
                PlaceCategory::Food,
                "cafe",
                lat,
                lon,
            ),
            // Already in the plan: never offered.
            place(
                "osm:way/8033120",
                "Ateneum",
                PlaceCategory::Attraction,
                "museum",
                lat,
                lon,
            ),
        ];
        let said = edit(&mut p, PlanEdit::Swap { day: 1, stop: 0 }, &places).expect("swapped");
        assert_eq!(said, "Swapped Vanha Kauppahalli for Near Sight on day 1.");
        let s = &p.itinerary.days[0].stops[0];
        assert_eq!(
            (s.name.as_str(), s.kind, s.note.as_str()),
            ("Near Sight", StopKind::Sight, "")
        );
        // A meal swaps for a meal of the same sort.
        let said = edit(&mut p, PlanEdit::Swap { day: 1, stop: 5 }, &places).expect("swapped");
        assert_eq!(said, "Swapped Ben & Jerry's for A Nearer Cafe on day 1.");
        // Swapping again goes round the others, not back and forth.
        let said = edit(&mut p, PlanEdit::Swap { day: 1, stop: 0 }, &places).expect("again");
        assert_eq!(said, "Swapped Near Sight for Far Sight on day 1.");
        let said = edit(&mut p, PlanEdit::Swap { day: 1, stop: 0 }, &places).expect("round");
        assert_eq!(said, "Swapped Far Sight for Near Sight on day 1.");
        let refused =
            edit(&mut p, PlanEdit::Swap { day: 1, stop: 0 }, &places[2..]).expect_err("none");
        assert_eq!(
            refused.0,
            "there is no other place like Near Sight nearby that is open then"
        );
    }

    #[test]
    fn an_added_place_goes_where_it_adds_least_walking() {
        let mut p = plan();
        let ateneum = &p.itinerary.days[1].stops[0];
        let (lat, lon) = (ateneum.lat, ateneum.lon);
        let places = [
            place(
                "osm:node/7",
                "Next to Ateneum",
                PlaceCategory::Attraction,
                "attraction",
                lat + 0.0003,
                lon,
            ),
            place(
                "osm:node/8",
                "A Kiosk",
                PlaceCategory::Food,
                "cafe",
                lat,
                lon,
            ),
        ];
        let said = edit(
            &mut p,
            PlanEdit::Add {
                day: 2,
                place: PlaceId::from("osm:node/7".to_owned()),
            },
            &places,
        )
        .expect("added");
        assert_eq!(said, "Added Next to Ateneum to day 2.");
        let day = names(&p, 1);
        let at = day
            .iter()
            .position(|n| *n == "Next to Ateneum")
            .expect("in the day");
        assert!(at <= 1, "beside Ateneum: {day:?}");
        // A café goes at coffee time, after lunch.
        edit(
            &mut p,
            PlanEdit::Add {
                day: 2,
                place: PlaceId::from("osm:node/8".to_owned()),
            },
            &places,
        )
        .expect("added");
        let kiosk = p.itinerary.days[1]
            .stops
            .iter()
            .find(|s| s.name == "A Kiosk")
            .expect("added");
        assert!(kiosk.start.minutes() >= 15 * 60);
        let refused = edit(
            &mut p,
            PlanEdit::Add {
                day: 2,
                place: PlaceId::from("osm:node/7".to_owned()),
            },
            &places,
        )
        .expect_err("twice");
        assert_eq!(refused.0, "that place is already in the plan");
        let refused = edit(
            &mut p,
            PlanEdit::Add {
                day: 1,
                place: PlaceId::from("osm:node/99".to_owned()),
            },
            &places,
        )
        .expect_err("unknown");
        assert_eq!(refused.0, "that place is not near this trip's destination");
    }
}
