//! Packing suggestions for a plan's trip list: a few fixed rules over what the plan already
//! knows — the predicted mean temperature and daylight of the trip month, the trip length, the
//! walking distance of each day, the preferences and the chosen hotel's description.
//!
//! Nothing is invented: a rule only fires on data the plan holds, and each suggestion says why
//! it was made. There is no monthly rain data offline, so rain gear is only suggested when a
//! month's reason text itself speaks of rain; there is no plug-type data per country, so no
//! travel adapter is ever suggested. The rules are documented in `docs/trip-list.md`.

use serde::Serialize;
use tripwright_domain::{MAX_QUANTITY, Plan, month_name};

/// A day with at least this many kilometres on foot asks for comfortable shoes.
pub const LONG_WALK_KM: f64 = 4.0;
/// At least this many hours of daylight (as the month's reason says) ask for a sleep mask.
pub const LONG_DAY_HOURS: u32 = 17;

/// Words in the preferences or the hotel's description that mean water to swim in.
const SWIM_WORDS: [&str; 9] = [
    "sauna",
    "spa",
    "pool",
    "swim",
    "beach",
    "thermal bath",
    "hot spring",
    "jacuzzi",
    "wellness",
];

/// Words in a month's reason text that mean rain.
const RAIN_WORDS: [&str; 5] = ["rain", "wet", "shower", "monsoon", "drizzle"];

/// One suggested item, with the rule that made it and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PackingSuggestion {
    /// The item's name, as it goes on the list.
    pub name: String,
    /// How many to take, 1..=12.
    pub qty: u8,
    /// Why, for the user: "mean −5 °C in January".
    pub reason: String,
    /// The rule's stable name: `cold`, `cool`, `mild`, `hot`, `very_hot`, `rain`, `daylight`,
    /// `days`, `walking`, `swimming`.
    pub rule: &'static str,
}

impl PackingSuggestion {
    fn new(name: &str, qty: u8, reason: &str, rule: &'static str) -> Self {
        Self {
            name: name.to_owned(),
            qty: qty.clamp(1, MAX_QUANTITY),
            reason: reason.to_owned(),
            rule,
        }
    }
}

/// Whether `text` holds `word` at the start of a word ("spa" in "Spa hotel" and "spas", not
/// in "space"-free text such as "Aspasia"). Case-insensitive.
fn mentions(text: &str, word: &str) -> bool {
    let text = text.to_lowercase();
    let mut from = 0;
    while let Some(i) = text[from..].find(word) {
        let at = from + i;
        let before_ok = text[..at]
            .chars()
            .next_back()
            .is_none_or(|c| !c.is_alphanumeric());
        let after = text[at + word.len()..].chars().next();
        // Plurals, "-y", "-ing" and "rainfall" count; other longer words ("space", "spain") do
        // not.
        let rest: String = text[at + word.len()..]
            .chars()
            .take_while(|c| c.is_alphanumeric())
            .collect();
        let after_ok = after.is_none_or(|c| !c.is_alphanumeric())
            || matches!(
                rest.as_str(),
                "s" | "es" | "y" | "ing" | "ming" | "ning" | "fall"
            );
        if before_ok && after_ok {
            return true;
        }
        from = at + word.len();
    }
    false
}

/// The hours of daylight a month's reason text states ("… 18 h daylight"), if it states them.
fn daylight_hours(reason: &str) -> Option<u32> {
    if reason.contains("midnight sun") {
        return Some(24);
    }
    let i = reason.find(" h daylight")?;
    let digits: String = reason[..i]
        .chars()
        .rev()
        .take_while(char::is_ascii_digit)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    digits.parse().ok()
}

/// Other names a traveller gives the suggested things ("Swimsuit" is the "Swimwear"
/// suggested), each group led by the suggestion's own name.
const SAME_THING: &[&[&str]] = &[
    &[
        "swimwear",
        "swimsuit",
        "swimsuits",
        "swimming costume",
        "bathing suit",
        "swim trunks",
        "swimming trunks",
        "bikini",
    ],
    &[
        "rain jacket",
        "raincoat",
        "rain coat",
        "waterproof jacket",
        "rain poncho",
    ],
    &["sleep mask", "eye mask", "eyemask"],
    &["umbrella", "rain umbrella", "travel umbrella"],
    &["underwear", "pants", "briefs", "knickers", "boxers"],
    &["socks", "pairs of socks"],
];

/// Whether a list item named `item` is the suggestion `suggestion` (the same name in any case,
/// or another name for the same thing).
pub fn same_thing(item: &str, suggestion: &str) -> bool {
    let (item, suggestion) = (item.trim().to_lowercase(), suggestion.trim().to_lowercase());
    item == suggestion
        || SAME_THING
            .iter()
            .any(|group| group.contains(&suggestion.as_str()) && group.contains(&item.as_str()))
}

/// Suggested items for `plan`, in a stable order (weather first, then the trip's own facts),
/// without repeated names.
pub fn suggest_items(plan: &Plan) -> Vec<PackingSuggestion> {
    let mut out: Vec<PackingSuggestion> = Vec::new();
    let month = plan.itinerary.month;
    let mname = month_name(month);
    if let Some(score) = plan.best_months.iter().find(|m| m.month == month) {
        let t = score.mean_temp_c;
        if t.is_finite() {
            let why = format!("mean {} °C in {mname}", fmt_temp(t));
            let items: &[(&str, &'static str)] = if t < 0.0 {
                &[
                    ("Winter coat", "cold"),
                    ("Warm hat", "cold"),
                    ("Gloves", "cold"),
                    ("Scarf", "cold"),
                    ("Thermal underwear", "cold"),
                ]
            } else if t < 8.0 {
                &[
                    ("Warm jacket", "cold"),
                    ("Warm hat", "cold"),
                    ("Gloves", "cold"),
                ]
            } else if t < 16.0 {
                &[("Light jacket", "cool"), ("Sweater", "cool")]
            } else if t < 22.0 {
                &[("Light sweater", "mild")]
            } else if t < 27.0 {
                &[
                    ("Sunscreen", "hot"),
                    ("Sun hat", "hot"),
                    ("Sunglasses", "hot"),
                ]
            } else {
                &[
                    ("Sunscreen", "very_hot"),
                    ("Sun hat", "very_hot"),
                    ("Sunglasses", "very_hot"),
                    ("Refillable water bottle", "very_hot"),
                ]
            };
            for (name, rule) in items {
                out.push(PackingSuggestion::new(name, 1, &why, rule));
            }
        }
        if RAIN_WORDS.iter().any(|w| mentions(&score.reason, w)) {
            let why = format!("{mname}: {}", score.reason);
            out.push(PackingSuggestion::new("Umbrella", 1, &why, "rain"));
            out.push(PackingSuggestion::new("Rain jacket", 1, &why, "rain"));
        }
        if let Some(h) = daylight_hours(&score.reason)
            && h >= LONG_DAY_HOURS
        {
            let why = if h >= 24 {
                format!("midnight sun in {mname}")
            } else {
                format!("{h} h of daylight in {mname}")
            };
            out.push(PackingSuggestion::new("Sleep mask", 1, &why, "daylight"));
        }
    }

    let days = plan
        .itinerary
        .days
        .len()
        .max(usize::from(plan.request.days));
    if days > 0 {
        let n = u8::try_from(days.min(usize::from(MAX_QUANTITY))).unwrap_or(MAX_QUANTITY);
        let why = format!(
            "one a day for {days} day{}",
            if days == 1 { "" } else { "s" }
        );
        out.push(PackingSuggestion::new("Socks", n, &why, "days"));
        out.push(PackingSuggestion::new("Underwear", n, &why, "days"));
    }

    if let Some(day) = plan
        .itinerary
        .days
        .iter()
        .filter(|d| d.walk_km.is_finite())
        .max_by(|a, b| a.walk_km.total_cmp(&b.walk_km))
        && day.walk_km >= LONG_WALK_KM
    {
        let why = format!("day {} has {:.1} km on foot", day.day, day.walk_km);
        out.push(PackingSuggestion::new(
            "Comfortable walking shoes",
            1,
            &why,
            "walking",
        ));
    }

    let hotel = plan.hotel();
    let swim = SWIM_WORDS
        .iter()
        .find(|w| mentions(&plan.request.prefs, w))
        .map(|w| format!("your preferences mention {w}"))
        .or_else(|| {
            let h = hotel?;
            SWIM_WORDS
                .iter()
                .find(|w| mentions(&h.description, w))
                .map(|w| format!("{} mentions {w}", h.name))
        });
    if let Some(why) = swim {
        out.push(PackingSuggestion::new("Swimwear", 1, &why, "swimming"));
    }

    let mut seen = std::collections::HashSet::new();
    out.retain(|s| seen.insert(s.name.to_lowercase()));
    out
}

/// A temperature as the weather agent writes it: rounded, with a real minus sign.
fn fmt_temp(t: f64) -> String {
    let r = t.round();
    let r = if r == 0.0 { 0.0 } else { r };
    if r < 0.0 {
        format!("−{}", -r)
    } else {
        format!("{r}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture() -> Plan {
        let text = include_str!("../../export/tests/fixtures/helsinki_plan.json");
        serde_json::from_str(text).expect("the fixture is a plan")
    }

    fn names(s: &[PackingSuggestion]) -> Vec<&str> {
        s.iter().map(|x| x.name.as_str()).collect()
    }

    #[test]
    fn another_name_for_the_same_thing_is_that_thing() {
        assert!(same_thing("Swimsuit", "Swimwear"));
        assert!(same_thing(" swimwear ", "Swimwear"));
        assert!(same_thing("Raincoat", "Rain jacket"));
        assert!(!same_thing("Swimsuit", "Rain jacket"));
        assert!(!same_thing("Towel", "Swimwear"));
    }

    #[test]
    fn words_are_matched_at_word_starts() {
        assert!(mentions("Luxury hotel in city center with spa.", "spa"));
        assert!(mentions("Two Spas nearby", "spa"));
        assert!(mentions("swimming pool", "swim"));
        assert!(!mentions("A spacious room", "spa"));
        assert!(!mentions("Aspasia", "spa"));
        assert!(!mentions("Trip to Spain", "spa"));
        assert!(mentions("mean 20 °C, rainy season", "rain"));
        assert!(!mentions("mean 20 °C, mild, training", "rain"));
    }

    #[test]
    fn daylight_is_read_from_the_reason() {
        assert_eq!(daylight_hours("mean 17 °C, mild, 18 h daylight"), Some(18));
        assert_eq!(
            daylight_hours("mean 30 °C, very hot, midnight sun"),
            Some(24)
        );
        assert_eq!(daylight_hours("mean 0 °C, cold, polar night"), None);
        assert_eq!(daylight_hours("mean 9 °C, cool, 6 h daylight"), Some(6));
    }

    #[test]
    fn helsinki_in_july_with_a_spa() {
        // The fixture: Helsinki, July (mean 17.2 °C, 18 h daylight), 2 days, walks of 2.5 and
        // 4.4 km, prefs "Luxury hotel in city center with spa."
        let plan = fixture();
        let s = suggest_items(&plan);
        assert_eq!(
            names(&s),
            [
                "Light sweater",
                "Sleep mask",
                "Socks",
                "Underwear",
                "Comfortable walking shoes",
                "Swimwear"
            ]
        );
        assert_eq!(s[0].reason, "mean 17 °C in July");
        assert_eq!(s[1].reason, "18 h of daylight in July");
        assert_eq!(s[2].qty, 2);
        assert_eq!(s[2].reason, "one a day for 2 days");
        assert_eq!(s[4].reason, "day 2 has 4.4 km on foot");
        assert_eq!(s[5].reason, "your preferences mention spa");
        // No rain words in Helsinki's reasons: no rain gear, and never an adapter.
        assert!(
            !names(&s)
                .iter()
                .any(|n| n.contains("Umbrella") || n.contains("dapter"))
        );
    }

    #[test]
    fn winter_hot_and_rainy_months_and_long_trips() {
        let mut plan = fixture();
        plan.itinerary.month = 1;
        plan.request.prefs = "quiet, museums".into();
        for h in &mut plan.hotels {
            h.description = "A hotel with a rooftop sauna.".into();
        }
        for d in &mut plan.itinerary.days {
            d.walk_km = 1.0;
        }
        let s = suggest_items(&plan);
        let n = names(&s);
        assert!(
            n.starts_with(&[
                "Winter coat",
                "Warm hat",
                "Gloves",
                "Scarf",
                "Thermal underwear"
            ]),
            "{n:?}"
        );
        assert_eq!(s[0].reason, "mean −5 °C in January");
        assert!(!n.contains(&"Sleep mask") && !n.contains(&"Comfortable walking shoes"));
        let swim = s
            .iter()
            .find(|x| x.name == "Swimwear")
            .expect("sauna hotel");
        assert!(swim.reason.ends_with("mentions sauna"), "{}", swim.reason);

        let july = plan
            .best_months
            .iter_mut()
            .find(|m| m.month == 1)
            .expect("january");
        july.mean_temp_c = 29.0;
        july.reason = "mean 29 °C, very hot, rainy season, 12 h daylight".into();
        plan.request.days = 14;
        let s = suggest_items(&plan);
        let n = names(&s);
        for want in [
            "Sunscreen",
            "Refillable water bottle",
            "Umbrella",
            "Rain jacket",
        ] {
            assert!(n.contains(&want), "{want} in {n:?}");
        }
        let socks = s.iter().find(|x| x.name == "Socks").expect("socks");
        assert_eq!(
            socks.qty, MAX_QUANTITY,
            "quantities stay within the list's 0..=12"
        );
    }
}
