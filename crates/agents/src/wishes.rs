//! What a traveller wishes of a hotel ("quiet hotel with a sauna, near the centre"), read from
//! the free-text preferences, and what a hotel's data says about each wish: it matches, it
//! contradicts, or the data cannot tell. The verdicts are shown to the user ("matches: sauna;
//! unknown: quiet") and move the ranking: a confirmed wish lifts a hotel, a contradicted one
//! sinks it.
//!
//! OpenStreetMap's hotels carry few tags, so much is "unknown": the planner says so rather than
//! guess. Where the tags are silent, the kind of lodging (a hostel is not quiet) and the class
//! of well-known chains (a budget chain is not luxury) speak.

use serde::{Deserialize, Serialize};
use tripwright_domain::Place;

/// One thing a traveller can wish of a hotel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Wish {
    /// A sauna.
    Sauna,
    /// A spa.
    Spa,
    /// A swimming pool.
    Pool,
    /// A gym.
    Gym,
    /// Breakfast.
    Breakfast,
    /// Wifi.
    Wifi,
    /// Step-free access.
    Wheelchair,
    /// A quiet place.
    Quiet,
    /// In the centre.
    Central,
    /// Cheap.
    Budget,
    /// Luxurious.
    Luxury,
    /// Good for families.
    Family,
    /// Parking.
    Parking,
    /// Pets allowed.
    Pets,
}

impl Wish {
    /// The wish in words, as the page shows it.
    pub fn label(self) -> &'static str {
        match self {
            Wish::Sauna => "sauna",
            Wish::Spa => "spa",
            Wish::Pool => "pool",
            Wish::Gym => "gym",
            Wish::Breakfast => "breakfast",
            Wish::Wifi => "wifi",
            Wish::Wheelchair => "step-free access",
            Wish::Quiet => "quiet",
            Wish::Central => "central",
            Wish::Budget => "low price",
            Wish::Luxury => "luxury",
            Wish::Family => "family-friendly",
            Wish::Parking => "parking",
            Wish::Pets => "pets allowed",
        }
    }
}

/// Words (English, Finnish, Swedish, German, French, Spanish) that name each wish.
const WISH_WORDS: &[(Wish, &[&str])] = &[
    (Wish::Sauna, &["sauna", "saunas", "bastu"]),
    (Wish::Spa, &["spa", "wellness", "kylpylä"]),
    (
        Wish::Pool,
        &[
            "pool",
            "swimming",
            "uima-allas",
            "schwimmbad",
            "piscine",
            "piscina",
        ],
    ),
    (Wish::Gym, &["gym", "fitness", "kuntosali"]),
    (
        Wish::Breakfast,
        &[
            "breakfast",
            "aamiainen",
            "aamupala",
            "frühstück",
            "frukost",
            "petit-déjeuner",
            "desayuno",
        ],
    ),
    (Wish::Wifi, &["wifi", "wi-fi", "internet", "wlan"]),
    (
        Wish::Wheelchair,
        &[
            "wheelchair",
            "accessible",
            "accessibility",
            "step-free",
            "esteetön",
            "rollstuhl",
        ],
    ),
    (
        Wish::Quiet,
        &[
            "quiet",
            "calm",
            "peaceful",
            "hiljainen",
            "rauhallinen",
            "ruhig",
            "tranquille",
            "tranquilo",
            "lugn",
        ],
    ),
    (
        Wish::Central,
        &[
            "central",
            "centre",
            "center",
            "downtown",
            "keskusta",
            "keskustassa",
            "zentral",
            "zentrum",
            "centro",
        ],
    ),
    (
        Wish::Budget,
        &[
            "cheap",
            "budget",
            "affordable",
            "inexpensive",
            "edullinen",
            "halpa",
            "günstig",
            "billig",
            "barato",
        ],
    ),
    (
        Wish::Luxury,
        &[
            "luxury",
            "luxurious",
            "upscale",
            "five-star",
            "5-star",
            "luksus",
            "luxus",
            "lujo",
        ],
    ),
    (
        Wish::Family,
        &[
            "family", "families", "kids", "children", "perhe", "lapset", "familie", "kinder",
        ],
    ),
    (
        Wish::Parking,
        &["parking", "car", "pysäköinti", "parkplatz"],
    ),
    (
        Wish::Pets,
        &["pet", "pets", "dog", "dogs", "lemmikki", "hund"],
    ),
];

/// The wishes in `prefs`, each once, in a fixed order.
pub fn wishes_of(prefs: &str) -> Vec<Wish> {
    let lower = prefs.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !(c.is_alphanumeric() || c == '-'))
        .filter(|w| !w.is_empty())
        .collect();
    let mut found: Vec<Wish> = WISH_WORDS
        .iter()
        .filter(|(_, names)| {
            names
                .iter()
                .any(|n| words.contains(n) || (n.contains('-') && lower.contains(n)))
        })
        .map(|(w, _)| *w)
        .collect();
    found.sort();
    found.dedup();
    found
}

/// A hotel's class: its stars, or what its chain or name say, 1 (budget) ..= 5 (luxury).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Class {
    /// 1..=5, like stars.
    pub level: u8,
    /// Whether it is the `stars` tag (else inferred from the chain, name or kind).
    pub tagged: bool,
}

/// Well-known chains and their usual class. A small table of public knowledge about brands,
/// not about any one hotel; a `stars` tag always wins.
const CHAINS: &[(&str, u8)] = &[
    ("omena", 1),
    ("cumulus", 2),
    ("forenom", 2),
    ("easyhomes", 2),
    ("holiday inn", 3),
    ("scandic", 3),
    ("sokos", 3),
    ("best western", 3),
    ("ibis", 2),
    ("novotel", 3),
    ("glo ", 4),
    ("radisson", 4),
    ("hilton", 4),
    ("marriott", 4),
    ("clarion", 4),
    ("sheraton", 4),
    ("kämp", 5),
    ("four seasons", 5),
    ("ritz", 5),
];

/// The class of a lodging: the `stars` tag; else a known chain; else its kind and name
/// ("Hostel …" is 1, a guest house 2, "Grand"/"Palace"/"Boutique"/"Design" 4); `None` for
/// an ordinary hotel the data says nothing about.
pub fn class_of(p: &Place) -> Option<Class> {
    if let Some(stars) = crate::hotels::stars(p) {
        return Some(Class {
            level: stars,
            tagged: true,
        });
    }
    let text = format!(
        "{} {} {} ",
        p.name,
        p.tag("brand").unwrap_or_default(),
        p.tag("operator").unwrap_or_default()
    )
    .to_lowercase();
    let inferred = |level| {
        Some(Class {
            level,
            tagged: false,
        })
    };
    if let Some((_, level)) = CHAINS.iter().find(|(chain, _)| text.contains(chain)) {
        return inferred(*level);
    }
    match p.kind.as_str() {
        "hostel" => return inferred(1),
        "guest_house" | "motel" => return inferred(2),
        _ => {}
    }
    if ["hostel", "budget"].iter().any(|w| text.contains(w)) {
        return inferred(1);
    }
    if ["grand ", "palace", "boutique", "design", "luxury"]
        .iter()
        .any(|w| text.contains(w))
    {
        return inferred(4);
    }
    None
}

/// What is around a lodging, from the place data: for the "quiet" wish and the description.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Surroundings {
    /// Bars, pubs and nightclubs within 100 m.
    pub bars_100: usize,
    /// Bars, pubs and nightclubs within 200 m.
    pub bars_200: usize,
    /// Cafés within 200 m.
    pub cafes_200: usize,
    /// Eateries of any kind within 300 m: none means the data does not cover the street, so
    /// no bar in it says nothing.
    pub food_300: usize,
    /// The nearest museum, gallery or sight within 500 m (not a memorial or an artwork), and
    /// how far it is in metres.
    pub nearest_sight: Option<(String, u32)>,
}

/// Places that are loud at night.
const NIGHTLIFE: [&str; 4] = ["bar", "pub", "nightclub", "biergarten"];
/// Sights worth naming as a lodging's neighbour.
const LANDMARK_KINDS: [&str; 9] = [
    "museum",
    "gallery",
    "attraction",
    "viewpoint",
    "zoo",
    "aquarium",
    "theme_park",
    "historic:castle",
    "historic:monument",
];

impl Surroundings {
    /// What of `around` (eateries and sights near the destination) is near `p`.
    pub fn of(p: &Place, around: &[Place]) -> Self {
        let mut s = Surroundings::default();
        let here = p.point();
        let mut nearest: Option<(&str, f64)> = None;
        for q in around {
            let m = here.distance_km(&q.point()) * 1000.0;
            match q.category {
                tripwright_domain::PlaceCategory::Food => {
                    let loud = NIGHTLIFE.contains(&q.kind.as_str());
                    s.bars_100 += usize::from(loud && m <= 100.0);
                    s.bars_200 += usize::from(loud && m <= 200.0);
                    s.cafes_200 += usize::from(q.kind == "cafe" && m <= 200.0);
                    s.food_300 += usize::from(m <= 300.0);
                }
                tripwright_domain::PlaceCategory::Attraction
                    if LANDMARK_KINDS.contains(&q.kind.as_str())
                        && m <= 500.0
                        && nearest.is_none_or(|(_, d)| m < d) =>
                {
                    nearest = Some((&q.name, m));
                }
                _ => {}
            }
        }
        s.nearest_sight = nearest.map(|(n, m)| (n.to_owned(), (m / 10.0).round() as u32 * 10));
        s
    }

    /// "4 cafés and 2 bars or pubs within 200 m", "no bar or pub within 200 m"; `None` where
    /// the data has no eatery nearby.
    pub fn nightlife_words(&self) -> Option<String> {
        if self.food_300 == 0 {
            return None;
        }
        let bars = match self.bars_200 {
            0 => "no bar or pub".to_owned(),
            1 => "1 bar or pub".to_owned(),
            n => format!("{n} bars or pubs"),
        };
        Some(match self.cafes_200 {
            0 => format!("{bars} within 200 m"),
            1 => format!("1 café and {bars} within 200 m"),
            n => format!("{n} cafés and {bars} within 200 m"),
        })
    }
}

/// Bars and pubs within 100 m from which a lodging is not quiet, and the most within 200 m
/// for it to be.
const LOUD_WITHIN_100: usize = 3;
const QUIET_WITHIN_200: usize = 1;

/// What the data says about a wish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// It holds, with the evidence ("sauna=yes").
    Matches,
    /// It does not, with the reason shown to the user.
    Conflicts(String),
    /// The data cannot tell.
    Unknown,
}

fn tag_says(p: &Place, keys: &[&str]) -> Option<bool> {
    keys.iter().find_map(|k| match p.tag(k)? {
        "yes" | "wlan" | "wifi" | "included" | "indoor" | "outdoor" | "free" => Some(true),
        "no" => Some(false),
        _ => None,
    })
}

/// Judges one wish against a lodging `km` from the centre, of class `class`, with `around`
/// it.
pub fn judge(
    wish: Wish,
    p: &Place,
    km: f64,
    class: Option<Class>,
    around: &Surroundings,
) -> Verdict {
    let level = class.map(|c| c.level);
    let yes_no = |keys: &[&str], what: &str| match tag_says(p, keys) {
        Some(true) => Verdict::Matches,
        Some(false) => Verdict::Conflicts(format!("no {what}")),
        None => Verdict::Unknown,
    };
    match wish {
        Wish::Sauna => {
            if p.tag("leisure") == Some("sauna") {
                Verdict::Matches
            } else {
                yes_no(&["sauna"], "sauna")
            }
        }
        Wish::Spa => yes_no(&["spa"], "spa"),
        Wish::Pool => yes_no(&["swimming_pool"], "pool"),
        Wish::Gym => yes_no(&["fitness_centre", "gym"], "gym"),
        Wish::Breakfast => yes_no(&["breakfast"], "breakfast"),
        Wish::Wifi => yes_no(&["internet_access", "wifi"], "wifi"),
        Wish::Parking => yes_no(&["parking"], "parking"),
        Wish::Pets => yes_no(&["pets", "dog"], "pets"),
        Wish::Wheelchair => match p.tag("wheelchair") {
            Some("yes") => Verdict::Matches,
            Some("no") => Verdict::Conflicts("not step-free".into()),
            Some("limited") => Verdict::Conflicts("limited step-free access".into()),
            _ => Verdict::Unknown,
        },
        Wish::Central => {
            if km <= 1.0 {
                Verdict::Matches
            } else if km > 3.0 {
                Verdict::Conflicts(format!("{km:.1} km from the centre"))
            } else {
                Verdict::Unknown
            }
        }
        Wish::Quiet => match p.kind.as_str() {
            "hostel" => Verdict::Conflicts("a hostel, with shared rooms".into()),
            _ if around.bars_100 >= LOUD_WITHIN_100 => {
                Verdict::Conflicts(format!("{} bars or pubs within 100 m", around.bars_100))
            }
            _ if around.food_300 > 0 && around.bars_200 <= QUIET_WITHIN_200 => Verdict::Matches,
            _ => Verdict::Unknown,
        },
        Wish::Family => match p.kind.as_str() {
            "hostel" => Verdict::Conflicts("a hostel".into()),
            "apartment" => Verdict::Matches,
            _ => Verdict::Unknown,
        },
        Wish::Budget => match level {
            Some(l) if l <= 2 => Verdict::Matches,
            Some(l) if l >= 4 => Verdict::Conflicts(format!("a {l}-star class hotel")),
            _ => Verdict::Unknown,
        },
        Wish::Luxury => match level {
            Some(l) if l >= 4 => Verdict::Matches,
            Some(l) if l <= 2 => Verdict::Conflicts(if p.kind == "hostel" {
                "a hostel".into()
            } else {
                "a budget hotel".into()
            }),
            _ => Verdict::Unknown,
        },
    }
}

/// How a hotel fits the wishes, in words for the user.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fit {
    /// Wishes the data confirms.
    pub matches: Vec<String>,
    /// Wishes the data contradicts, with why ("quiet: a hostel, with shared rooms").
    pub conflicts: Vec<String>,
    /// Wishes the data cannot tell.
    pub unknown: Vec<String>,
}

/// How `p` fits `wishes`.
pub fn fit(
    wishes: &[Wish],
    p: &Place,
    km: f64,
    class: Option<Class>,
    around: &Surroundings,
) -> Fit {
    let mut f = Fit::default();
    for w in wishes {
        match judge(*w, p, km, class, around) {
            Verdict::Matches => f.matches.push(w.label().to_owned()),
            Verdict::Conflicts(why) => f.conflicts.push(format!("{}: {why}", w.label())),
            Verdict::Unknown => f.unknown.push(w.label().to_owned()),
        }
    }
    f
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use tripwright_domain::PlaceCategory;

    /// A place in central Helsinki with these tags (a lodging, for the wishes).
    pub(crate) fn lodging(name: &str, kind: &str, tags: &[(&str, &str)]) -> Place {
        Place {
            id: "osm:node/1".into(),
            name: name.into(),
            category: PlaceCategory::Hotel,
            kind: kind.into(),
            lat: 60.17,
            lon: 24.94,
            opening_hours: None,
            tags: tags
                .iter()
                .map(|(k, v)| ((*k).into(), (*v).into()))
                .collect::<BTreeMap<_, _>>(),
        }
    }

    #[test]
    fn wishes_are_read_in_several_languages() {
        assert_eq!(
            wishes_of("quiet hotel with a sauna, museums, coffee"),
            [Wish::Sauna, Wish::Quiet]
        );
        assert_eq!(
            wishes_of("hiljainen hotelli, sauna ja aamiainen"),
            [Wish::Sauna, Wish::Breakfast, Wish::Quiet]
        );
        assert_eq!(
            wishes_of("ruhiges Hotel"),
            Vec::<Wish>::new(),
            "inflected German is not guessed"
        );
        assert_eq!(
            wishes_of("Luxury hotel in city center with spa."),
            [Wish::Spa, Wish::Central, Wish::Luxury]
        );
        assert_eq!(wishes_of("step-free room please"), [Wish::Wheelchair]);
    }

    #[test]
    fn a_hostel_is_not_quiet_and_a_budget_chain_not_luxury() {
        let hostel = lodging("Hostel Margarita", "hostel", &[]);
        let none = Surroundings::default();
        let f = fit(
            &[Wish::Quiet, Wish::Sauna],
            &hostel,
            0.5,
            class_of(&hostel),
            &none,
        );
        assert_eq!(f.conflicts, ["quiet: a hostel, with shared rooms"]);
        assert_eq!(f.unknown, ["sauna"]);
        let omena = lodging("Omenahotelli Yrjönkatu", "hotel", &[]);
        assert_eq!(class_of(&omena).map(|c| c.level), Some(1));
        let f = fit(
            &[Wish::Luxury, Wish::Budget],
            &omena,
            0.4,
            class_of(&omena),
            &none,
        );
        assert_eq!(f.conflicts, ["luxury: a budget hotel"]);
        assert_eq!(f.matches, ["low price"]);
        let kamp = lodging(
            "Hotel Kämp",
            "hotel",
            &[("stars", "5"), ("wheelchair", "yes")],
        );
        let f = fit(
            &[Wish::Luxury, Wish::Wheelchair, Wish::Central],
            &kamp,
            0.3,
            class_of(&kamp),
            &none,
        );
        assert_eq!(f.matches, ["luxury", "step-free access", "central"]);
        assert!(class_of(&kamp).is_some_and(|c| c.tagged));
        assert_eq!(class_of(&lodging("Hotel Haven", "hotel", &[])), None);
    }

    /// A place of `category` and `kind` `metres` north of the lodging of [`lodging`].
    fn at(name: &str, category: PlaceCategory, kind: &str, metres: f64) -> Place {
        let mut p = lodging(name, kind, &[]);
        p.category = category;
        p.lat += metres / 111_195.0;
        p
    }

    #[test]
    fn quiet_is_judged_by_the_bars_and_pubs_around() {
        let hotel = lodging("Hotel Haven", "hotel", &[]);
        let food = PlaceCategory::Food;
        let loud = [
            at("Bar A", food, "bar", 40.0),
            at("Pub B", food, "pub", 80.0),
            at("Club C", food, "nightclub", 95.0),
            at("Cafe D", food, "cafe", 150.0),
            at("Ateneum", PlaceCategory::Attraction, "museum", 260.0),
            at("Statue", PlaceCategory::Artwork, "artwork", 20.0),
            at(
                "Memorial",
                PlaceCategory::Attraction,
                "historic:memorial",
                30.0,
            ),
        ];
        let around = Surroundings::of(&hotel, &loud);
        assert_eq!(
            (around.bars_100, around.bars_200, around.cafes_200),
            (3, 3, 1)
        );
        assert_eq!(around.nearest_sight, Some(("Ateneum".to_owned(), 260)));
        assert_eq!(
            around.nightlife_words().as_deref(),
            Some("1 café and 3 bars or pubs within 200 m")
        );
        let f = fit(&[Wish::Quiet], &hotel, 0.5, None, &around);
        assert_eq!(f.conflicts, ["quiet: 3 bars or pubs within 100 m"]);

        let calm = [
            at("Pub B", food, "pub", 180.0),
            at("Restaurant", food, "restaurant", 60.0),
        ];
        let around = Surroundings::of(&hotel, &calm);
        assert_eq!(
            around.nightlife_words().as_deref(),
            Some("1 bar or pub within 200 m")
        );
        assert_eq!(
            fit(&[Wish::Quiet], &hotel, 0.5, None, &around).matches,
            ["quiet"]
        );

        // No eatery in the data near it: the data does not cover the street, so no verdict.
        let around = Surroundings::of(&hotel, &[]);
        assert_eq!(around.nightlife_words(), None);
        assert_eq!(
            fit(&[Wish::Quiet], &hotel, 0.5, None, &around).unknown,
            ["quiet"]
        );
    }
}
