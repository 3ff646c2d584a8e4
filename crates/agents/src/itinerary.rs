//! ItineraryPlannerAgent, deterministic part: the day planner.
//!
//! Given the destination's sights and eateries, the hotel and the trip's dates, it builds a
//! day-by-day plan that is grounded (every stop is a stored place), diverse (nothing twice),
//! compact (sights grouped by proximity per day, each day a short walking tour from the
//! hotel) and timed (slots within opening hours where they are known; lunch, a coffee break
//! and dinner at places near the route). The LLM layer later writes prose around these stops;
//! it never chooses them. The method is documented in `docs/itinerary.md`.

use std::collections::HashSet;

use chrono::{Datelike, Days, NaiveDate, Weekday};
use tripwright_config::PlannerConfig;

use crate::streets::{Leg, Walker, stored_path};
use tripwright_domain::{
    DayPlan, GeoPoint, Itinerary, OpeningHours, Place, PlaceCategory, PlaceId, Stop, StopKind,
    TimeOfDay, plural,
};

/// Everything the day planner needs.
#[derive(Debug, Clone)]
pub struct ItineraryInput<'a> {
    /// Where each day starts and ends (the hotel, else the destination centre).
    pub base: GeoPoint,
    /// The hotel's place id, if any.
    pub hotel_id: Option<PlaceId>,
    /// Number of days.
    pub days: u8,
    /// Travel month.
    pub month: u8,
    /// Whether the user fixed the month.
    pub month_fixed: bool,
    /// First day of the trip.
    pub start_date: NaiveDate,
    /// The user's preferences (interest keywords boost matching sights).
    pub prefs: &'a str,
    /// Candidate places near the destination (attractions, artworks, food).
    pub places: &'a [Place],
    /// The region's street graph: walks follow the streets; without it, straight lines
    /// times the detour factor.
    pub streets: Option<&'a tripwright_map::route::StreetGraph>,
}

/// The planned itinerary and what the user should know about it.
#[derive(Debug, Clone)]
pub struct ItineraryOutcome {
    /// The plan.
    pub itinerary: Itinerary,
    /// Thin supply, sights that did not fit, …
    pub warnings: Vec<String>,
}

/// The first Saturday on or after the 1st of `month`, in the next occurrence of that month
/// that starts after `today` (so a plan never starts in the past).
pub fn default_start_date(month: u8, today: NaiveDate) -> NaiveDate {
    let month = u32::from(month.clamp(1, 12));
    (today.year()..=today.year().saturating_add(1))
        .filter_map(|year| NaiveDate::from_ymd_opt(year, month, 1))
        .find(|first| *first > today)
        .map(|first| {
            let offset = (7 + 5 - first.weekday().num_days_from_monday()) % 7;
            first
                .checked_add_days(Days::new(u64::from(offset)))
                .unwrap_or(first)
        })
        // Only at the very end of the calendar the types can hold.
        .unwrap_or(today)
}

/// Builds the itinerary.
pub fn plan_itinerary(input: &ItineraryInput<'_>, cfg: &PlannerConfig) -> ItineraryOutcome {
    let mut warnings = Vec::new();
    let walks = crate::streets::Walks::default();
    let walker = Walker::new(cfg, input.streets).remembering(&walks);
    let days = usize::from(input.days.max(1));
    let day_start = TimeOfDay::parse(&cfg.day_start).unwrap_or(TimeOfDay::from_minutes(570));
    let day_end = TimeOfDay::parse(&cfg.day_end).unwrap_or(TimeOfDay::from_minutes(1320));

    let prefs = pref_words(input.prefs);
    let (sights, reserve) = choose_sights(input, &prefs, days * cfg.sights_per_day, &mut warnings);
    let rank: std::collections::HashMap<&str, usize> = sights
        .iter()
        .enumerate()
        .map(|(i, p)| (p.id.as_str(), i))
        .collect();
    let mut clusters = cluster_by_proximity(input.base, &sights, days);
    let weekdays: Vec<Weekday> = (0..days as u64)
        .map_while(|i| input.start_date.checked_add_days(Days::new(i)))
        .map(|d| d.weekday())
        .collect();
    if weekdays.len() == clusters.len() {
        spread_by_opening_days(&mut clusters, &weekdays, cfg);
    }
    let fast_food_asked = mentions_any(&prefs, &["fast", "burger", "burgers", "cheap", "budget"]);
    let food: Vec<&Place> = input
        .places
        .iter()
        .filter(|p| p.category == PlaceCategory::Food && !unsuitable(p))
        // Chains' fast food only when the traveller asks for it.
        .filter(|p| fast_food_asked || !(p.kind == "fast_food" && is_chain(p)))
        .collect();
    let slow = mentions_any(
        &prefs,
        &["slow", "relaxed", "leisurely", "easy", "unhurried"],
    );
    let mut used_sights: HashSet<&str> = sights.iter().map(|p| p.id.as_str()).collect();

    let mut used_food: HashSet<&str> = HashSet::new();
    let mut carry: Vec<&Place> = Vec::new();
    let mut day_plans = Vec::with_capacity(days);
    for (i, cluster) in clusters.into_iter().enumerate() {
        // Checked: a date past the end of the calendar ends the trip there, it never panics.
        let Some(date) = input.start_date.checked_add_days(Days::new(i as u64)) else {
            warnings.push(format!(
                "the trip is cut to {}: the dates after {} cannot be planned",
                plural(i, "day", "days"),
                input.start_date
            ));
            break;
        };
        let mut todays: Vec<&Place> = std::mem::take(&mut carry);
        todays.extend(cluster);
        let route = order_route(input.base, todays);
        let mut ctx = DayContext {
            base: input.base,
            walker,
            weekday: date.weekday(),
            cfg,
            day_start,
            day_end,
            food: &food,
            used_food: &mut used_food,
            reserve: if slow { &[] } else { &reserve },
            used_sights: &mut used_sights,
            rank: &rank,
        };
        let (stops, deferred) = ctx.schedule_in_time(route);
        carry = deferred;
        let back = stops
            .last()
            .map(|s| walker.leg(GeoPoint::new(s.lat, s.lon), input.base));
        let walk_km =
            stops.iter().map(|s| s.walk_km).sum::<f64>() + back.as_ref().map_or(0.0, |b| b.km);
        let title = day_title(&stops);
        let weekday = tripwright_domain::weekday_name(date.weekday());
        day_plans.push(DayPlan {
            day: (i + 1) as u8,
            date,
            weekday: weekday.to_owned(),
            title,
            intro: crate::intros::day_intro(weekday, &stops),
            stops,
            walk_km: round2(walk_km),
            route_back: back.map(|b| stored_path(&b.path)).unwrap_or_default(),
        });
    }
    if !carry.is_empty() {
        let names: Vec<&str> = carry.iter().map(|p| p.name.as_str()).collect();
        warnings.push(format!(
            "{} not fit within their opening hours and {} left out: {}",
            if carry.len() == 1 {
                "1 sight did".to_owned()
            } else {
                format!("{} sights did", carry.len())
            },
            if carry.len() == 1 { "was" } else { "were" },
            names.join(", ")
        ));
    }
    let empty_days = day_plans
        .iter()
        .filter(|d| !d.stops.iter().any(|s| is_activity(s.kind)))
        .count();
    if empty_days > 0 {
        warnings.push(format!(
            "{} no sightseeing: there is not enough place data near the destination for {days} days",
            if empty_days == 1 { "1 day has".to_owned() } else { format!("{empty_days} days have") }
        ));
    }
    ItineraryOutcome {
        itinerary: Itinerary {
            month: input.month,
            month_fixed: input.month_fixed,
            start_date: input.start_date,
            hotel_id: input.hotel_id.clone(),
            days: day_plans,
        },
        warnings,
    }
}

/// Whether `p` can be visited at all on `weekday`: open long enough between the start and
/// the end of the sightseeing day (unknown hours: yes).
fn open_on(p: &Place, weekday: Weekday, cfg: &PlannerConfig) -> bool {
    p.opening_hours
        .as_deref()
        .and_then(OpeningHours::parse)
        .is_none_or(|oh| {
            oh.earliest_fit(
                weekday,
                TimeOfDay::from_minutes(9 * 60),
                visit_minutes(p, cfg),
            )
            .is_some_and(|start| start.minutes() + visit_minutes(p, cfg) <= SIGHTS_UNTIL)
        })
}

/// Moves each sight that is closed on its day to a day on which it is open (the least
/// loaded), taking back from there a sight that is open on the first day if there is one:
/// a museum closed on Mondays must not be left out of a trip because it was grouped into
/// Monday.
fn spread_by_opening_days(clusters: &mut [Vec<&Place>], weekdays: &[Weekday], cfg: &PlannerConfig) {
    let n = clusters.len();
    for i in 0..n {
        let mut k = 0;
        while k < clusters[i].len() {
            let p = clusters[i][k];
            if open_on(p, weekdays[i], cfg) {
                k += 1;
                continue;
            }
            let Some(j) = (0..n)
                .filter(|&j| j != i && open_on(p, weekdays[j], cfg))
                .min_by_key(|&j| clusters[j].len())
            else {
                k += 1;
                continue;
            };
            clusters[i].remove(k);
            if let Some(m) = clusters[j]
                .iter()
                .position(|q| open_on(q, weekdays[i], cfg))
            {
                let q = clusters[j].remove(m);
                clusters[i].push(q);
            }
            clusters[j].push(p);
        }
    }
}

/// How long a sight is visited.
pub(crate) fn visit_minutes(p: &Place, cfg: &PlannerConfig) -> u32 {
    match p.kind.as_str() {
        "museum" | "gallery" | "zoo" | "theme_park" => cfg.museum_minutes,
        "artwork" => 15,
        // A statue or a memorial is looked at, not visited.
        "historic:memorial" | "historic:monument" => 20,
        _ => cfg.sight_minutes,
    }
}

/// Sights and artworks are activities; meals and coffee are not.
pub fn is_activity(kind: StopKind) -> bool {
    matches!(kind, StopKind::Sight | StopKind::Artwork)
}

/// A day's title from its stops: "Around Ateneum" (its headline sight), or "A free day".
pub(crate) fn day_title(stops: &[Stop]) -> String {
    headline(stops).map_or_else(|| "A free day".to_owned(), |s| format!("Around {}", s.name))
}

/// A day's headline sight: of its sights, the first of the kind weighted most (a museum before
/// a gallery, a gallery before a memorial), so that the day with Ateneum is not titled after
/// the small gallery it starts at.
pub(crate) fn headline(stops: &[Stop]) -> Option<&Stop> {
    stops
        .iter()
        .filter(|s| s.kind == StopKind::Sight)
        .fold(None, |best: Option<&Stop>, s| match best {
            Some(b) if kind_weight(&b.place_kind) >= kind_weight(&s.place_kind) => Some(b),
            _ => Some(s),
        })
}

pub(crate) fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// Interest keywords in the preferences and the place kinds they favour.
const INTERESTS: &[(&[&str], &[&str])] = &[
    (&["museum", "museums"], &["museum", "gallery"]),
    (&["history", "historic"], &["museum", "historic"]),
    (
        &["art", "arts", "gallery", "galleries", "design"],
        &["gallery", "museum", "artwork"],
    ),
    (
        &["view", "views", "viewpoint", "panorama", "sea"],
        &["viewpoint"],
    ),
    (
        &["castle", "castles", "fortress", "architecture", "church"],
        &["historic"],
    ),
    (
        &["zoo", "animals", "kids", "children", "family"],
        &["zoo", "theme_park"],
    ),
    (&["sculpture", "statues", "street"], &["artwork"]),
];

/// Base interest of a place kind, before preferences and distance.
fn kind_weight(kind: &str) -> f64 {
    match kind {
        "museum" => 3.0,
        "gallery" => 2.8,
        "attraction" => 2.6,
        "zoo" => 2.4,
        "theme_park" => 2.2,
        "viewpoint" => 2.0,
        k if k.starts_with("historic:") => {
            if [
                "castle",
                "fort",
                "church",
                "cathedral",
                "monument",
                "ruins",
                "palace",
            ]
            .iter()
            .any(|h| k.ends_with(h))
            {
                1.8
            } else {
                1.2
            }
        }
        "artwork" => 0.6,
        _ => 1.0,
    }
}

/// Score of a sight for this trip: kind, matching interests, notability, distance.
fn sight_score(p: &Place, prefs: &[String], base: GeoPoint) -> f64 {
    let mut score = kind_weight(&p.kind);
    for (words, kinds) in INTERESTS {
        if prefs.iter().any(|w| words.contains(&w.as_str()))
            && kinds
                .iter()
                .any(|k| p.kind == *k || p.kind.starts_with(&format!("{k}:")))
        {
            score += 2.0;
        }
    }
    if p.tags.contains_key("wikidata") || p.tags.contains_key("wikipedia") {
        score += 0.8;
    }
    let km = p.point().distance_km(&base);
    score - 0.15 * (km - 1.0).max(0.0)
}

/// The words of the preferences, lower case.
fn pref_words(prefs: &str) -> Vec<String> {
    prefs
        .to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

fn mentions_any(prefs: &[String], words: &[&str]) -> bool {
    prefs.iter().any(|w| words.contains(&w.as_str()))
}

/// Places no itinerary should send a traveller to as a sight or a meal, whatever their main
/// tag says: a gallery that is a hair salon, a bar that is a casino.
fn unsuitable(p: &Place) -> bool {
    let name = p.name.to_lowercase();
    matches!(p.tag("shop"), Some("hairdresser" | "beauty" | "tattoo"))
        || matches!(p.tag("amenity"), Some("casino" | "gambling"))
        || matches!(
            p.tag("leisure"),
            Some("adult_gaming_centre" | "amusement_arcade")
        )
        || name.contains("casino")
}

/// A chain outlet (a brand tag): for fast food, the traveller's own town has the same.
fn is_chain(p: &Place) -> bool {
    p.tag("brand").is_some() || p.tag("brand:wikidata").is_some()
}

/// Small things passed on the way — plaques, graves, boundary stones — which are worth a
/// stop only to a traveller who asks for history or memorials.
fn minor(p: &Place) -> bool {
    let name = p.name.to_lowercase();
    // Graves are often tagged only historic=memorial; their names say what they are.
    ["grave", "tomb", "hauta", "grav ", "grab ", "tombe"]
        .iter()
        .any(|w| name.contains(w))
        || matches!(
            p.tag("memorial"),
            Some("plaque" | "blue_plaque" | "stone" | "stolperstein" | "bust" | "cross" | "grave")
        )
        || matches!(
            p.tag("historic"),
            Some(
                "grave"
                    | "tomb"
                    | "boundary_stone"
                    | "wayside_cross"
                    | "wayside_shrine"
                    | "milestone"
            )
        )
}

/// A statue or memorial (historic=memorial, or a memorial=* tag on another kind).
fn is_memorial(p: &Place) -> bool {
    p.kind == "historic:memorial" || p.tag("memorial").is_some()
}

/// The best `wanted` sights (attractions first, artworks when attractions run short), one
/// per name (a museum mapped as node and building counts once), and the rest in order (the
/// reserve, to fill an afternoon that ends early).
fn choose_sights<'a>(
    input: &ItineraryInput<'a>,
    prefs: &[String],
    wanted: usize,
    warnings: &mut Vec<String>,
) -> (Vec<&'a Place>, Vec<&'a Place>) {
    let history = mentions_any(
        prefs,
        &[
            "history",
            "historic",
            "memorial",
            "memorials",
            "grave",
            "graves",
            "monuments",
        ],
    );
    let mut scored: Vec<(f64, &Place)> = input
        .places
        .iter()
        .filter(|p| {
            matches!(
                p.category,
                PlaceCategory::Attraction | PlaceCategory::Artwork
            ) && !unsuitable(p)
                && (history || !minor(p))
        })
        .map(|p| (sight_score(p, prefs, input.base), p))
        .collect();
    // Attractions before artworks, then by score, then id for determinism.
    scored.sort_by(|a, b| {
        let art = |p: &Place| p.category == PlaceCategory::Artwork;
        art(a.1)
            .cmp(&art(b.1))
            .then(b.0.total_cmp(&a.0))
            .then(a.1.id.cmp(&b.1.id))
    });
    // Statues and memorials are looked at in passing: a quarter of the sights at most, unless
    // the traveller asked for history (a "museums" day of seven memorials is not one).
    let memorial_cap = if history {
        usize::MAX
    } else {
        (wanted / 4).max(1)
    };
    let mut memorials = 0;
    let mut names = HashSet::new();
    let mut chosen = Vec::new();
    let mut reserve = Vec::new();
    for (_, p) in scored {
        if !names.insert(p.name.to_lowercase()) {
            continue;
        }
        let memorial = is_memorial(p);
        if chosen.len() < wanted && (!memorial || memorials < memorial_cap) {
            memorials += usize::from(memorial);
            chosen.push(p);
        } else {
            reserve.push(p);
        }
    }
    // Too few other sights: the statues held back fill the days rather than leave them empty.
    while chosen.len() < wanted {
        let Some(i) = reserve.iter().position(|p| is_memorial(p)) else {
            break;
        };
        chosen.push(reserve.remove(i));
    }
    if chosen.len() < wanted {
        warnings.push(format!(
            "only {} sights are known near the destination for {} planned slots; days are lighter",
            chosen.len(),
            wanted
        ));
    }
    (chosen, reserve)
}

/// Splits sights into `days` groups of near-equal size, each group compact: a sweep by
/// bearing around the base gives the initial groups, then a few rounds of capacity-bounded
/// reassignment to the nearest group centre tighten them.
fn cluster_by_proximity<'a>(
    base: GeoPoint,
    sights: &[&'a Place],
    days: usize,
) -> Vec<Vec<&'a Place>> {
    let mut sorted: Vec<&Place> = sights.to_vec();
    let bearing =
        |p: &Place| (p.lat - base.lat).atan2((p.lon - base.lon) * base.lat.to_radians().cos());
    sorted.sort_by(|a, b| bearing(a).total_cmp(&bearing(b)).then(a.id.cmp(&b.id)));
    let capacity = sorted.len().div_ceil(days).max(1);
    let mut groups: Vec<Vec<&Place>> = vec![Vec::new(); days];
    for (i, p) in sorted.iter().enumerate() {
        groups[(i / capacity).min(days - 1)].push(p);
    }
    for _ in 0..8 {
        let centres: Vec<GeoPoint> = groups.iter().map(|g| centroid(g).unwrap_or(base)).collect();
        // Most "decided" sights pick first, so contested ones take what capacity is left.
        let mut order: Vec<(f64, &Place)> = sorted
            .iter()
            .map(|p| {
                let mut d: Vec<f64> = centres.iter().map(|c| c.distance_km(&p.point())).collect();
                d.sort_by(f64::total_cmp);
                let regret = d.get(1).copied().unwrap_or(0.0) - d[0];
                (regret, *p)
            })
            .collect();
        order.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.id.cmp(&b.1.id)));
        let mut next: Vec<Vec<&Place>> = vec![Vec::new(); days];
        for (_, p) in order {
            let mut by_dist: Vec<usize> = (0..days).collect();
            by_dist.sort_by(|&a, &b| {
                centres[a]
                    .distance_km(&p.point())
                    .total_cmp(&centres[b].distance_km(&p.point()))
                    .then(a.cmp(&b))
            });
            if let Some(&g) = by_dist.iter().find(|&&g| next[g].len() < capacity) {
                next[g].push(p);
            }
        }
        if next == groups {
            break;
        }
        groups = next;
    }
    // Most interesting day first: keep group order stable but by size, largest first.
    groups.sort_by_key(|g| std::cmp::Reverse(g.len()));
    groups
}

fn centroid(places: &[&Place]) -> Option<GeoPoint> {
    if places.is_empty() {
        return None;
    }
    let n = places.len() as f64;
    Some(GeoPoint::new(
        places.iter().map(|p| p.lat).sum::<f64>() / n,
        places.iter().map(|p| p.lon).sum::<f64>() / n,
    ))
}

/// A short loop base → sights → base: nearest neighbour, then 2-opt until no gain.
fn order_route(base: GeoPoint, mut places: Vec<&Place>) -> Vec<&Place> {
    let mut route = Vec::with_capacity(places.len());
    let mut pos = base;
    while !places.is_empty() {
        let (i, _) = places
            .iter()
            .enumerate()
            .min_by(|a, b| {
                pos.distance_km(&a.1.point())
                    .total_cmp(&pos.distance_km(&b.1.point()))
                    .then(a.1.id.cmp(&b.1.id))
            })
            .unwrap_or((0, &places[0]));
        let p = places.swap_remove(i);
        pos = p.point();
        route.push(p);
    }
    let point = |route: &[&Place], i: usize| -> GeoPoint {
        if i == 0 || i > route.len() {
            base
        } else {
            route[i - 1].point()
        }
    };
    let mut improved = true;
    while improved {
        improved = false;
        let n = route.len();
        for i in 1..n {
            for j in i + 1..=n {
                // Reverse route[i-1..j]: edges (i-1,i) and (j,j+1) in 1-based tour positions.
                let (a, b) = (point(&route, i - 1), point(&route, i));
                let (c, d) = (point(&route, j), point(&route, j + 1));
                let delta =
                    a.distance_km(&c) + b.distance_km(&d) - a.distance_km(&b) - c.distance_km(&d);
                if delta < -1e-9 {
                    route[i - 1..j].reverse();
                    improved = true;
                }
            }
        }
    }
    route
}

struct DayContext<'a, 'b> {
    base: GeoPoint,
    walker: Walker<'a>,
    weekday: Weekday,
    cfg: &'a PlannerConfig,
    day_start: TimeOfDay,
    day_end: TimeOfDay,
    food: &'a [&'b Place],
    used_food: &'a mut HashSet<&'b str>,
    /// Sights not chosen for any day, to fill an afternoon that ends early (empty for a slow
    /// pace).
    reserve: &'a [&'b Place],
    /// Sights planned so far on any day.
    used_sights: &'a mut HashSet<&'b str>,
    /// Each chosen sight's place in the ranking, best first: when not all of a day's sights
    /// fit, the lesser ones are left out.
    rank: &'a std::collections::HashMap<&'b str, usize>,
}

/// Places walked to from one stop are looked for within this straight distance, and only the
/// nearest [`NEAREST`] of them are walked along the streets (a city has hundreds of
/// restaurants; the scheduler tries several orders of a day, each choosing its meals).
const WITHIN_KM: f64 = 1.5;
const NEAREST: usize = 12;

/// The [`NEAREST`] of `places` nearest to `here` in a straight line, within [`WITHIN_KM`],
/// nearest first (ties by id, so that plans are reproducible).
fn nearest<'b>(places: impl Iterator<Item = &'b Place>, here: GeoPoint) -> Vec<&'b Place> {
    let mut near: Vec<(f64, &Place)> = places
        .map(|p| (here.distance_km(&p.point()), p))
        .filter(|(km, _)| *km <= WITHIN_KM)
        .collect();
    near.sort_by(|a, b| a.0.total_cmp(&b.0).then_with(|| a.1.id.cmp(&b.1.id)));
    near.into_iter().take(NEAREST).map(|(_, p)| p).collect()
}

/// Lunch is taken from 12:00, and at the latest started by 14:00.
const LUNCH_FROM: u32 = 12 * 60;
const LUNCH_LATEST: u32 = 14 * 60;
/// Coffee from 15:00; sights end by 18:30; dinner from 18:30.
const CAFE_FROM: u32 = 15 * 60;
const SIGHTS_UNTIL: u32 = 18 * 60 + 30;
const DINNER_FROM: u32 = 18 * 60 + 30;
/// An afternoon with this many minutes free before the end of sightseeing gets another sight.
const FILL_GAP: u32 = 75;
/// Most artworks and statues (together) a day's afternoon is filled with.
const MAX_GLANCES_PER_DAY: usize = 2;

impl<'b> DayContext<'_, 'b> {
    /// Schedules one day's route; returns the stops and the sights that did not fit today.
    /// Schedules `route`, walked in the shortest order, unless a sight would then come after
    /// it closes (Ateneum last, at 17:34 on a Saturday it closes at 17:00): each sight the
    /// shortest order defers is tried earlier in the route, and the order that defers the
    /// fewest sights, then the least ranked ones, then walks least, is kept.
    fn schedule_in_time(&mut self, mut route: Vec<&'b Place>) -> (Vec<Stop>, Vec<&'b Place>) {
        // What the scheduling of a day changes: the meals and sights it used. Each trial starts
        // from the state before the day; the order kept leaves its own.
        let before = (self.used_food.clone(), self.used_sights.clone());
        let state = |ctx: &Self| (ctx.used_food.clone(), ctx.used_sights.clone());
        let set = |ctx: &mut Self, (food, sights): &(HashSet<&'b str>, HashSet<&'b str>)| {
            ctx.used_food.clone_from(food);
            ctx.used_sights.clone_from(sights);
        };
        let (mut stops, mut deferred) = self.schedule(&route);
        let mut kept = state(self);
        let walked = |stops: &[Stop]| stops.iter().map(|s| s.walk_km).sum::<f64>();
        // What leaving `d` out costs: fewer left out first, then better-ranked ones kept.
        let n = self.rank.len() + 1;
        let loss = |d: &[&Place]| -> (usize, usize) {
            let worth = d
                .iter()
                .map(|p| n - self.rank.get(p.id.as_str()).copied().unwrap_or(n - 1))
                .sum();
            (d.len(), worth)
        };
        let mut tried: Vec<&str> = Vec::new();
        while let Some(&late) = deferred.iter().find(|p| !tried.contains(&p.id.as_str())) {
            tried.push(late.id.as_str());
            let Some(at) = route.iter().position(|p| p.id == late.id) else {
                continue;
            };
            // Every trial of this round moves `late` within the order the round started with;
            // a shorter walk counts only between orders better than that one.
            let start = route.clone();
            let mut found = false;
            for earlier in 0..at {
                let mut r = start.clone();
                let p = r.remove(at);
                r.insert(earlier, p);
                set(self, &before);
                let (s, d) = self.schedule(&r);
                tracing::debug!(
                    order = ?r.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(),
                    deferred = ?d.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(),
                    "another order tried"
                );
                let better = loss(&d) < loss(&deferred)
                    || (found && loss(&d) == loss(&deferred) && walked(&s) < walked(&stops));
                if better {
                    (route, stops, deferred, kept) = (r, s, d, state(self));
                    found = true;
                }
            }
        }
        set(self, &kept);
        (stops, deferred)
    }

    fn schedule(&mut self, route: &[&'b Place]) -> (Vec<Stop>, Vec<&'b Place>) {
        let mut stops: Vec<Stop> = Vec::new();
        let mut deferred = Vec::new();
        let mut pos = self.base;
        let mut t = self.day_start;
        let (mut lunch, mut cafe) = (false, false);
        for &sight in route {
            self.used_sights.insert(sight.id.as_str());
            if !lunch && t.minutes() >= LUNCH_FROM {
                lunch = self.meal(StopKind::Lunch, &mut stops, &mut pos, &mut t);
            }
            if lunch && !cafe && t.minutes() >= CAFE_FROM {
                cafe = self.meal(StopKind::Cafe, &mut stops, &mut pos, &mut t);
            }
            let minutes = self.visit_minutes(sight);
            let leg = self.walker.leg(pos, sight.point());
            let arrive = t.plus(leg.minutes);
            let start = match sight.opening_hours.as_deref().and_then(OpeningHours::parse) {
                Some(oh) => oh.earliest_fit(self.weekday, arrive, minutes),
                None => Some(arrive),
            };
            // Too long a wait, past the sightseeing day, or over lunch time: not today.
            let fits = start.filter(|s| {
                s.minutes() - arrive.minutes() <= 90
                    && s.minutes() + minutes <= SIGHTS_UNTIL
                    && (lunch || s.minutes() + minutes <= LUNCH_LATEST + 30)
            });
            let Some(start) = fits else {
                tracing::debug!(
                    sight = %sight.name,
                    weekday = ?self.weekday,
                    arrive = %arrive,
                    could_start = ?start.map(|s| s.to_string()),
                    lunch,
                    "a sight does not fit here: deferred"
                );
                deferred.push(sight);
                continue;
            };
            let end = start.plus(minutes);
            stops.push(stop(sight, kind_of(sight), start, end, leg));
            pos = sight.point();
            t = end;
        }
        if !lunch {
            t = t.max(TimeOfDay::from_minutes(LUNCH_FROM));
            lunch = self.meal(StopKind::Lunch, &mut stops, &mut pos, &mut t);
        }
        // An afternoon that ends early gets more sights from the reserve, nearest first,
        // rather than hours empty before dinner.
        // A café is looked for once here: where there is none within reach, the loop goes on
        // with the reserve (it asked again and again, for ever, before).
        let mut cafe_tried = false;
        while lunch && t.minutes() + FILL_GAP <= SIGHTS_UNTIL {
            if !cafe && !cafe_tried && t.minutes() >= CAFE_FROM {
                cafe_tried = true;
                cafe = self.meal(StopKind::Cafe, &mut stops, &mut pos, &mut t);
                if cafe {
                    continue;
                }
            }
            if !self.add_reserve_sight(&mut stops, &mut pos, &mut t) {
                break;
            }
        }
        if !cafe && !stops.is_empty() {
            t = t.max(TimeOfDay::from_minutes(CAFE_FROM));
            self.meal(StopKind::Cafe, &mut stops, &mut pos, &mut t);
        }
        t = t.max(TimeOfDay::from_minutes(DINNER_FROM));
        self.meal(StopKind::Dinner, &mut stops, &mut pos, &mut t);
        (stops, deferred)
    }

    /// Adds the nearest unused reserve sight that fits now (open, within 1.5 km, ending by
    /// the end of the sightseeing day); whether one was added.
    fn add_reserve_sight(
        &mut self,
        stops: &mut Vec<Stop>,
        pos: &mut GeoPoint,
        t: &mut TimeOfDay,
    ) -> bool {
        let mut best: Option<(f64, &'b Place, TimeOfDay, Leg)> = None;
        let glances = stops
            .iter()
            .filter(|s| s.kind == StopKind::Artwork || s.place_kind == "historic:memorial")
            .count();
        let candidates = nearest(
            self.reserve.iter().copied().filter(|p| {
                // A few artworks and statues on the way are a pleasure; a string of them is
                // not a day.
                let glance = p.category == PlaceCategory::Artwork || is_memorial(p);
                !(self.used_sights.contains(p.id.as_str())
                    || (glance && glances >= MAX_GLANCES_PER_DAY))
            }),
            *pos,
        );
        for p in candidates {
            let artwork = p.category == PlaceCategory::Artwork;
            let minutes = self.visit_minutes(p);
            let leg = self.walker.leg(*pos, p.point());
            let arrive = t.plus(leg.minutes);
            let start = match p.opening_hours.as_deref().and_then(OpeningHours::parse) {
                Some(oh) => oh.earliest_fit(self.weekday, arrive, minutes),
                None => Some(arrive),
            };
            let Some(start) = start.filter(|s| {
                s.minutes() - arrive.minutes() <= 30 && s.minutes() + minutes <= SIGHTS_UNTIL
            }) else {
                continue;
            };
            // Sights before artworks: an artwork must be much nearer to be preferred.
            let cost = leg.km + if artwork { 1.0 } else { 0.0 };
            if best.as_ref().is_none_or(|b| cost < b.0) {
                best = Some((cost, p, start, leg));
            }
        }
        let Some((_, p, start, leg)) = best else {
            return false;
        };
        self.used_sights.insert(p.id.as_str());
        let end = start.plus(self.visit_minutes(p));
        stops.push(stop(p, kind_of(p), start, end, leg));
        *pos = p.point();
        *t = end;
        true
    }

    fn visit_minutes(&self, p: &Place) -> u32 {
        visit_minutes(p, self.cfg)
    }

    /// Adds a meal of `kind` at the nearest unused, open eatery of the right sort within
    /// 1.5 km; returns whether one was found.
    fn meal(
        &mut self,
        kind: StopKind,
        stops: &mut Vec<Stop>,
        pos: &mut GeoPoint,
        t: &mut TimeOfDay,
    ) -> bool {
        let (minutes, sorts): (u32, &[&str]) = match kind {
            StopKind::Lunch => (self.cfg.lunch_minutes, &["restaurant", "cafe", "fast_food"]),
            StopKind::Dinner => (self.cfg.dinner_minutes, &["restaurant"]),
            _ => (self.cfg.cafe_minutes, &["cafe"]),
        };
        let mut best: Option<(f64, &'b Place, TimeOfDay, Leg)> = None;
        for (rank, sort) in sorts.iter().enumerate() {
            let here = *pos;
            let candidates = nearest(
                self.food
                    .iter()
                    .copied()
                    .filter(|p| p.kind == *sort && !self.used_food.contains(p.id.as_str())),
                here,
            );
            for p in candidates {
                let leg = self.walker.leg(*pos, p.point());
                let arrive = t.plus(leg.minutes);
                // Known hours must fit; unknown hours are accepted but ranked after known ones.
                let (start, unknown) =
                    match p.opening_hours.as_deref().and_then(OpeningHours::parse) {
                        Some(oh) => match oh.earliest_fit(self.weekday, arrive, minutes) {
                            Some(s) if s.minutes() - arrive.minutes() <= 30 => (s, 0.0),
                            _ => continue,
                        },
                        None => (arrive, 0.5),
                    };
                if start.minutes() + minutes > self.day_end.minutes() {
                    continue;
                }
                let cost = leg.km + unknown + rank as f64;
                if best
                    .as_ref()
                    .is_none_or(|b| cost < b.0 || (cost == b.0 && p.id < b.1.id))
                {
                    best = Some((cost, p, start, leg));
                }
            }
        }
        let Some((_, p, start, leg)) = best else {
            return false;
        };
        self.used_food.insert(p.id.as_str());
        let end = start.plus(minutes);
        stops.push(stop(p, kind, start, end, leg));
        *pos = p.point();
        *t = end;
        true
    }
}

fn kind_of(p: &Place) -> StopKind {
    if p.category == PlaceCategory::Artwork {
        StopKind::Artwork
    } else {
        StopKind::Sight
    }
}

/// A stop at `p` from `start` to `end`, its walk not timed yet (see `editing::retime_day`).
pub(crate) fn new_stop(p: &Place, kind: StopKind, start: TimeOfDay, end: TimeOfDay) -> Stop {
    stop(
        p,
        kind,
        start,
        end,
        Leg {
            km: 0.0,
            minutes: 0,
            path: Vec::new(),
        },
    )
}

fn stop(p: &Place, kind: StopKind, start: TimeOfDay, end: TimeOfDay, leg: Leg) -> Stop {
    Stop {
        place_id: p.id.clone(),
        // A store imported before names were made readable may still hold a `;`.
        name: tripwright_domain::readable_name(&p.name),
        kind,
        place_kind: p.kind.clone(),
        lat: p.lat,
        lon: p.lon,
        start,
        end,
        walk_minutes: leg.minutes,
        walk_km: round2(leg.km),
        route: stored_path(&leg.path),
        opening_hours: p.opening_hours.clone(),
        facts: crate::facts::place_facts(p),
        note: String::new(),
        description: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn place(
        id: &str,
        cat: PlaceCategory,
        kind: &str,
        lat: f64,
        lon: f64,
        oh: Option<&str>,
    ) -> Place {
        Place {
            id: id.into(),
            name: format!("Place {id}"),
            category: cat,
            kind: kind.into(),
            lat,
            lon,
            opening_hours: oh.map(Into::into),
            tags: BTreeMap::new(),
        }
    }

    #[test]
    fn default_start_is_a_future_saturday_in_the_month() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 29).expect("date");
        let d = default_start_date(7, today);
        assert_eq!(d, NaiveDate::from_ymd_opt(2027, 7, 3).expect("date"));
        assert_eq!(d.weekday(), Weekday::Sat);
        let d = default_start_date(12, today);
        assert_eq!(d, NaiveDate::from_ymd_opt(2026, 12, 5).expect("date"));
        // The 1st of the month itself is never "today or before".
        let d = default_start_date(11, today);
        assert_eq!(d.year(), 2027);
    }

    #[test]
    fn two_opt_never_lengthens_the_loop() {
        let base = GeoPoint::new(60.17, 24.94);
        let ps: Vec<Place> = (0..7)
            .map(|i| {
                let a = f64::from(i) * 2.3;
                place(
                    &format!("n{i}"),
                    PlaceCategory::Attraction,
                    "museum",
                    60.17 + 0.01 * a.sin(),
                    24.94 + 0.02 * a.cos(),
                    None,
                )
            })
            .collect();
        let refs: Vec<&Place> = ps.iter().collect();
        let len = |r: &[&Place]| {
            let mut pos = base;
            let mut d = 0.0;
            for p in r {
                d += pos.distance_km(&p.point());
                pos = p.point();
            }
            d + pos.distance_km(&base)
        };
        let route = order_route(base, refs.clone());
        assert_eq!(route.len(), 7);
        assert!(len(&route) <= len(&refs) + 1e-9);
    }

    #[test]
    fn closed_sight_moves_to_another_day_and_meals_are_inserted() {
        let base = GeoPoint::new(60.17, 24.94);
        let mut places = vec![
            // Closed on Saturdays: must not be scheduled on day 1 (a Saturday).
            place(
                "m1",
                PlaceCategory::Attraction,
                "museum",
                60.171,
                24.941,
                Some("Su-Fr 10:00-18:00; Sa off"),
            ),
            place(
                "m2",
                PlaceCategory::Attraction,
                "museum",
                60.172,
                24.943,
                Some("Mo-Su 10:00-18:00"),
            ),
            place(
                "r1",
                PlaceCategory::Food,
                "restaurant",
                60.1705,
                24.9405,
                Some("Mo-Su 11:00-23:00"),
            ),
            place(
                "r2",
                PlaceCategory::Food,
                "restaurant",
                60.1715,
                24.9425,
                None,
            ),
            place(
                "r3",
                PlaceCategory::Food,
                "restaurant",
                60.1725,
                24.9435,
                None,
            ),
            place(
                "r4",
                PlaceCategory::Food,
                "restaurant",
                60.1695,
                24.9395,
                None,
            ),
            place("c1", PlaceCategory::Food, "cafe", 60.1702, 24.9412, None),
            place("c2", PlaceCategory::Food, "cafe", 60.1712, 24.9422, None),
        ];
        places.sort_by(|a, b| a.id.cmp(&b.id));
        let start = NaiveDate::from_ymd_opt(2027, 7, 3).expect("date");
        let input = ItineraryInput {
            base,
            hotel_id: None,
            days: 2,
            month: 7,
            month_fixed: false,
            start_date: start,
            prefs: "museums",
            places: &places,
            streets: None,
        };
        let cfg = PlannerConfig::default();
        let out = plan_itinerary(&input, &cfg);
        let days = &out.itinerary.days;
        assert_eq!(days.len(), 2);
        assert!(
            !days[0].stops.iter().any(|s| s.place_id == "m1"),
            "m1 is closed on Saturday"
        );
        let all: Vec<&str> = days
            .iter()
            .flat_map(|d| d.stops.iter().map(|s| s.place_id.as_str()))
            .collect();
        assert!(all.contains(&"m1") && all.contains(&"m2"), "{all:?}");
        let unique: HashSet<&&str> = all.iter().collect();
        assert_eq!(unique.len(), all.len(), "no repeats: {all:?}");
        for d in days {
            let kinds: Vec<StopKind> = d.stops.iter().map(|s| s.kind).collect();
            assert!(
                kinds.contains(&StopKind::Lunch) && kinds.contains(&StopKind::Dinner),
                "{kinds:?}"
            );
            for w in d.stops.windows(2) {
                assert!(w[0].end.minutes() + w[1].walk_minutes <= w[1].start.minutes());
            }
            for s in &d.stops {
                assert!(s.start < s.end);
            }
        }
    }

    fn tagged(mut p: Place, tags: &[(&str, &str)]) -> Place {
        for (k, v) in tags {
            p.tags.insert((*k).into(), (*v).into());
        }
        p
    }

    fn input<'a>(places: &'a [Place], prefs: &'a str, days: u8) -> ItineraryInput<'a> {
        ItineraryInput {
            base: GeoPoint::new(60.17, 24.94),
            hotel_id: None,
            days,
            month: 7,
            month_fixed: false,
            start_date: NaiveDate::from_ymd_opt(2027, 7, 5).expect("date"),
            prefs,
            places,
            streets: None,
        }
    }

    fn planned(places: &[Place], prefs: &str, days: u8) -> Vec<String> {
        let out = plan_itinerary(&input(places, prefs, days), &PlannerConfig::default());
        out.itinerary
            .days
            .iter()
            .flat_map(|d| d.stops.iter().map(|s| s.place_id.to_string()))
            .collect()
    }

    #[test]
    fn plaques_casinos_and_chain_burgers_only_when_asked() {
        let mut places = vec![
            place(
                "museum",
                PlaceCategory::Attraction,
                "museum",
                60.171,
                24.941,
                None,
            ),
            tagged(
                place(
                    "plaque",
                    PlaceCategory::Attraction,
                    "historic:memorial",
                    60.1712,
                    24.9412,
                    None,
                ),
                &[("memorial", "plaque")],
            ),
            tagged(
                place(
                    "salon",
                    PlaceCategory::Attraction,
                    "gallery",
                    60.1713,
                    24.9413,
                    None,
                ),
                &[("shop", "hairdresser")],
            ),
            tagged(
                place(
                    "burger",
                    PlaceCategory::Food,
                    "fast_food",
                    60.1701,
                    24.9401,
                    None,
                ),
                &[("brand", "Burger King")],
            ),
            place(
                "bistro",
                PlaceCategory::Food,
                "restaurant",
                60.1715,
                24.9415,
                None,
            ),
            place(
                "diner",
                PlaceCategory::Food,
                "restaurant",
                60.1716,
                24.9416,
                None,
            ),
            place("cafe", PlaceCategory::Food, "cafe", 60.1704, 24.9404, None),
        ];
        places.sort_by(|a, b| a.id.cmp(&b.id));
        let all = planned(&places, "museums and coffee", 1);
        assert!(all.contains(&"museum".to_owned()), "{all:?}");
        for never in ["plaque", "salon", "burger"] {
            assert!(!all.contains(&never.to_owned()), "{never} in {all:?}");
        }
        let history = planned(&places, "history, memorials and burgers", 1);
        assert!(history.contains(&"plaque".to_owned()), "{history:?}");
        assert!(!history.contains(&"salon".to_owned()), "{history:?}");
    }

    /// A day's plan from `base` on Saturday 3 July 2027, for "museums".
    fn one_saturday(base: GeoPoint, places: &[Place]) -> ItineraryOutcome {
        let input = ItineraryInput {
            base,
            hotel_id: None,
            days: 1,
            month: 7,
            month_fixed: false,
            start_date: NaiveDate::from_ymd_opt(2027, 7, 3).expect("date"),
            prefs: "museums",
            places,
            streets: None,
        };
        plan_itinerary(&input, &PlannerConfig::default())
    }

    #[test]
    fn a_day_is_titled_after_its_headline_sight_not_its_first() {
        use crate::kinds::tests::stop as named;
        let day = [
            named("Anna Ruohonen", StopKind::Sight, "gallery"),
            named("Penny", StopKind::Lunch, "restaurant"),
            named("Ateneum", StopKind::Sight, "museum"),
            named("Kiasma", StopKind::Sight, "museum"),
        ];
        assert_eq!(day_title(&day), "Around Ateneum");
        assert_eq!(day_title(&day[..2]), "Around Anna Ruohonen");
        assert_eq!(day_title(&day[1..2]), "A free day");
    }

    #[test]
    fn the_best_sight_is_not_left_out_because_the_shortest_walk_reaches_it_after_it_closes() {
        // Four sights in a row east of the hotel, all open 11:00–17:00 on the Saturday: a day
        // holds two of them, with lunch and a coffee between. The best (it has a Wikidata link) is the farthest, so the
        // shortest walk reaches it last, after it closes.
        let base = GeoPoint::new(60.17, 24.94);
        let hours = Some("Mo-Su 11:00-17:00");
        let mut best = place(
            "best",
            PlaceCategory::Attraction,
            "museum",
            60.17,
            24.952,
            hours,
        );
        best.tags.insert("wikidata".into(), "Q754507".into());
        let mut places = vec![
            place(
                "g1",
                PlaceCategory::Attraction,
                "gallery",
                60.17,
                24.943,
                hours,
            ),
            place(
                "g2",
                PlaceCategory::Attraction,
                "gallery",
                60.17,
                24.946,
                hours,
            ),
            place(
                "m1",
                PlaceCategory::Attraction,
                "museum",
                60.17,
                24.949,
                hours,
            ),
            best,
            place(
                "r1",
                PlaceCategory::Food,
                "restaurant",
                60.1701,
                24.945,
                None,
            ),
            place(
                "r2",
                PlaceCategory::Food,
                "restaurant",
                60.1702,
                24.948,
                None,
            ),
            place("c1", PlaceCategory::Food, "cafe", 60.1703, 24.947, None),
        ];
        places.sort_by(|a, b| a.id.cmp(&b.id));
        let out = one_saturday(base, &places);
        let stops: Vec<&str> = out.itinerary.days[0]
            .stops
            .iter()
            .filter(|s| is_activity(s.kind))
            .map(|s| s.place_id.as_str())
            .collect();
        assert!(stops.contains(&"best"), "{stops:?}");
        assert_eq!(stops.len(), 2, "{stops:?}");
        let left_out = out
            .warnings
            .iter()
            .find(|w| w.contains("left out"))
            .expect("one sight is left out");
        assert!(!left_out.contains("Place best"), "{left_out}");
    }

    #[test]
    fn an_afternoon_with_no_cafe_within_reach_ends() {
        // Two sights 2.8 km east of the hotel, with restaurants beside them; the only café is
        // at the hotel. After a late lunch the afternoon looks for a café and finds none: the
        // planner asked again for ever before.
        let places = vec![
            place("c1", PlaceCategory::Food, "cafe", 60.1701, 24.9401, None),
            place(
                "r1",
                PlaceCategory::Food,
                "restaurant",
                60.17,
                24.9905,
                None,
            ),
            place(
                "r2",
                PlaceCategory::Food,
                "restaurant",
                60.1702,
                24.9908,
                None,
            ),
            place(
                "s1",
                PlaceCategory::Attraction,
                "museum",
                60.1701,
                24.99,
                Some("Mo-Su 10:00-18:00"),
            ),
            place(
                "s2",
                PlaceCategory::Attraction,
                "museum",
                60.1703,
                24.991,
                Some("Mo-Su 12:30-18:00"),
            ),
        ];
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let out = one_saturday(GeoPoint::new(60.17, 24.94), &places);
            let _ = tx.send(
                out.itinerary.days[0]
                    .stops
                    .iter()
                    .map(|s| s.place_id.to_string())
                    .collect::<Vec<_>>(),
            );
        });
        let stops = rx
            .recv_timeout(std::time::Duration::from_secs(20))
            .expect("the day is planned in time");
        assert!(
            stops.contains(&"s1".to_owned()) && stops.contains(&"s2".to_owned()),
            "{stops:?}"
        );
        assert!(
            !stops.contains(&"c1".to_owned()),
            "no café within reach: {stops:?}"
        );
    }

    #[test]
    fn a_sight_closed_on_its_day_moves_to_a_day_it_is_open() {
        let closed_mondays = place(
            "ateneum",
            PlaceCategory::Attraction,
            "museum",
            60.17,
            24.94,
            Some("Tu-Su 10:00-18:00"),
        );
        let any_day = place(
            "statue",
            PlaceCategory::Attraction,
            "artwork",
            60.18,
            24.95,
            None,
        );
        let mut clusters = vec![vec![&closed_mondays], vec![&any_day]];
        let cfg = PlannerConfig::default();
        spread_by_opening_days(&mut clusters, &[Weekday::Mon, Weekday::Tue], &cfg);
        let ids = |c: &Vec<&Place>| c.iter().map(|p| p.id.to_string()).collect::<Vec<_>>();
        assert_eq!(ids(&clusters[0]), ["statue"]);
        assert_eq!(ids(&clusters[1]), ["ateneum"]);
        // Closed every day of the trip: it stays, and is reported as left out.
        let mut clusters = vec![vec![&closed_mondays]];
        spread_by_opening_days(&mut clusters, &[Weekday::Mon], &cfg);
        assert_eq!(ids(&clusters[0]), ["ateneum"]);
    }

    #[test]
    fn museums_asked_for_are_not_crowded_out_by_statues() {
        // Ten statues beside the hotel, three museums and a gallery a little further.
        let mut places: Vec<Place> = (0..10)
            .map(|i| {
                tagged(
                    place(
                        &format!("statue{i}"),
                        PlaceCategory::Attraction,
                        "historic:memorial",
                        60.1701 + f64::from(i) * 0.0002,
                        24.9401,
                        None,
                    ),
                    &[("memorial", "statue"), ("wikidata", "Q1")],
                )
            })
            .collect();
        for (i, kind) in ["museum", "museum", "museum", "gallery"].iter().enumerate() {
            places.push(place(
                &format!("{kind}{i}"),
                PlaceCategory::Attraction,
                kind,
                60.175 + i as f64 * 0.001,
                24.945,
                None,
            ));
        }
        places.sort_by(|a, b| a.id.cmp(&b.id));
        let all = planned(&places, "museums, coffee", 2);
        let statues = all.iter().filter(|id| id.starts_with("statue")).count();
        let museums = all
            .iter()
            .filter(|id| id.starts_with("museum") || id.starts_with("gallery"))
            .count();
        assert_eq!(museums, 4, "{all:?}");
        assert!(statues <= 2 + 2 * MAX_GLANCES_PER_DAY, "{all:?}");
        // Asked for history, the statues are sights like any other.
        let history = planned(&places, "history and memorials", 2);
        let statues_h = history.iter().filter(|id| id.starts_with("statue")).count();
        assert!(statues_h > statues, "{history:?} vs {all:?}");
    }

    #[test]
    fn an_afternoon_that_ends_early_gets_more_sights_unless_the_pace_is_slow() {
        // Eight sights for a 1-day plan of four: the reserve fills the afternoon.
        let mut places: Vec<Place> = (0..8)
            .map(|i| {
                place(
                    &format!("s{i}"),
                    PlaceCategory::Attraction,
                    "viewpoint",
                    60.170 + 0.0008 * f64::from(i),
                    24.940 + 0.0008 * f64::from(i),
                    None,
                )
            })
            .collect();
        for (id, kind) in [("r1", "restaurant"), ("r2", "restaurant"), ("c1", "cafe")] {
            places.push(place(id, PlaceCategory::Food, kind, 60.1705, 24.9405, None));
        }
        places.sort_by(|a, b| a.id.cmp(&b.id));
        let sights = |ids: &[String]| ids.iter().filter(|i| i.starts_with('s')).count();
        let busy = planned(&places, "views", 1);
        let slow = planned(&places, "views at a slow pace", 1);
        assert_eq!(sights(&slow), 4, "{slow:?}");
        assert!(sights(&busy) > 4, "{busy:?}");
        let out = plan_itinerary(&input(&places, "views", 1), &PlannerConfig::default());
        let day = &out.itinerary.days[0];
        let dinner = day
            .stops
            .iter()
            .find(|s| s.kind == StopKind::Dinner)
            .expect("dinner");
        let before = day
            .stops
            .iter()
            .rev()
            .find(|s| s.kind != StopKind::Dinner)
            .expect("a stop");
        assert!(
            dinner.start.minutes() - before.end.minutes() <= FILL_GAP + 60,
            "a long hole before dinner: {:?} then {:?}",
            before.end,
            dinner.start
        );
    }
}
