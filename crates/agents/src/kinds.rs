//! What a stop is, and prose that says otherwise: food words about a museum, museum words
//! about a restaurant, a café called a restaurant, a cuisine or style the data does not carry,
//! a place called a person, a grave called a building. Small models often describe a museum as
//! a café; the plan knows better.

use tripwright_domain::StopKind;

/// Words that make a sentence about food and drink.
const FOOD_WORDS: &[&str] = &[
    "restaurant",
    "restaurants",
    "café",
    "cafe",
    "bistro",
    "steakhouse",
    "pizzeria",
    "bar",
    "pub",
    "cuisine",
    "dish",
    "dishes",
    "menu",
    "eat",
    "dine",
    "dining",
    "food",
    "meal",
    "meals",
    "brunch",
    "wine",
    "wines",
    "beer",
];
/// Words that make a sentence about a sight.
const SIGHT_WORDS: &[&str] = &[
    "museum",
    "gallery",
    "exhibition",
    "exhibitions",
    "collection",
    "collections",
    "artworks",
    "paintings",
    "sculptures",
    "memorial",
    "monument",
    "church",
    "cathedral",
    "statue",
];
/// Claims of a cuisine or origin the data almost never supports.
const ORIGIN_WORDS: &[&str] = &[
    "italian",
    "french",
    "japanese",
    "chinese",
    "mexican",
    "spanish",
    "greek",
    "thai",
    "indian",
    "american",
    "turkish",
    "vietnamese",
    "korean",
    "lebanese",
    "renaissance",
    "baroque",
    "gothic",
    "medieval",
    "ancient",
];

/// Cuisines a restaurant's data must carry before its note may claim them (local ones too: a
/// sushi bar in Helsinki is not a "Finnish restaurant").
const CUISINE_WORDS: &[&str] = &[
    "finnish",
    "nordic",
    "scandinavian",
    "russian",
    "swedish",
    "sushi",
    "pizza",
    "burger",
    "burgers",
    "seafood",
    "vegan",
    "vegetarian",
    "steak",
    "tapas",
];

/// Words that call a place a person ("Amos Rex is a masterful chef").
const PERSON_WORDS: &[&str] = &[
    "chef",
    "cook",
    "poet",
    "painter",
    "artist",
    "composer",
    "writer",
    "singer",
    "architect",
    "sculptor",
    "novelist",
    "actor",
    "actress",
    "statesman",
    "philosopher",
    "author",
    "journalist",
    "president",
    "marshal",
    "emperor",
    "tsar",
    "soldier",
    "historian",
];
/// How a sentence says what its stop is ("… is a", "… was an").
const IS_A: [&str; 4] = [" is a ", " is an ", " was a ", " was an "];
/// Kinds of stop that are small objects, not buildings one enters.
const OBJECT_KINDS: &[&str] = &[
    "memorial",
    "grave",
    "plaque",
    "statue",
    "monument",
    "artwork",
    "wayside cross",
    "boundary stone",
    "stone",
];

/// Whether `sentence`, written about `stop`, calls it another kind of place than its data
/// says: food words about a museum, museum words about a restaurant, a cuisine or style its
/// name and kind do not carry, a person's trade ("a masterful chef") for a place, or a
/// building for a grave or a plaque. Small models often describe a museum as a café; the plan
/// knows better.
pub fn contradicts_kind(sentence: &str, stop: &tripwright_domain::Stop) -> bool {
    let food_stop = matches!(
        stop.kind,
        StopKind::Lunch | StopKind::Dinner | StopKind::Cafe
    );
    let place_kind = stop.place_kind.replace(['_', ':'], " ").to_lowercase();
    // What the stop is said to be by its name, its kind and its data's facts.
    let own = format!("{} {place_kind} {}", stop.name, stop.facts.join(" ")).to_lowercase();
    let wrong: &[&str] = if food_stop { SIGHT_WORDS } else { FOOD_WORDS };
    // The stop's own name may hold such a word ("Cafe Esplanad"); judge the rest.
    let rest = sentence
        .to_lowercase()
        .replace(&stop.name.to_lowercase(), " ");
    let words: Vec<&str> = rest
        .split(|c: char| !c.is_alphanumeric() && c != 'é')
        .filter(|w| !w.is_empty())
        .collect();
    let object = OBJECT_KINDS.iter().any(|k| place_kind.contains(k));
    // Within food, a café is not a restaurant and a restaurant is not a café or a bar.
    let other_food: &[&str] = match place_kind.as_str() {
        "cafe" => &[
            "restaurant",
            "steakhouse",
            "pizzeria",
            "bistro",
            "pub",
            "bar",
        ],
        "restaurant" | "fast food" => &["cafe", "café", "pub", "bar"],
        "bar" | "pub" => &["cafe", "café", "steakhouse"],
        _ => &[],
    };
    words.iter().any(|w| {
        (food_stop && CUISINE_WORDS.contains(w) && !own.contains(w))
            || wrong.contains(w)
            || (other_food.contains(w) && !own.contains(w))
            || (ORIGIN_WORDS.contains(w) && !own.contains(w))
            || (PERSON_WORDS.contains(w) && !own.contains(w) && !object)
            || (object && matches!(*w, "building" | "buildings"))
    }) || called_a_person(&rest)
}

/// Whether a sentence (its stop's name taken out) says the stop is a person: "Johan Vilhelm
/// Snellman is a Finnish statesman" of his memorial. The person a memorial is to may be
/// named after what it is ("is a memorial to the poet").
fn called_a_person(rest: &str) -> bool {
    IS_A.iter().any(|is| {
        rest.match_indices(is).any(|(i, m)| {
            rest[i + m.len()..]
                .split(|c: char| !c.is_alphanumeric())
                .filter(|w| !w.is_empty())
                .take(3)
                .take_while(|w| !SIGHT_WORDS.contains(w))
                .any(|w| PERSON_WORDS.contains(&w))
        })
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use tripwright_domain::{Stop, TimeOfDay};

    /// A stop of this name and kinds at 10:00–11:30, without facts (also for `prose`'s tests).
    pub(crate) fn stop(name: &str, kind: StopKind, place_kind: &str) -> Stop {
        Stop {
            route: Vec::new(),
            place_id: "osm:node/1".into(),
            name: name.into(),
            kind,
            place_kind: place_kind.into(),
            lat: 60.17,
            lon: 24.94,
            start: TimeOfDay::from_minutes(600),
            end: TimeOfDay::from_minutes(690),
            walk_minutes: 3,
            walk_km: 0.2,
            opening_hours: None,
            facts: Vec::new(),
            note: String::new(),
            description: None,
        }
    }

    #[test]
    fn sentences_calling_a_stop_another_kind_are_found() {
        let museum = stop("Amos Rex", StopKind::Sight, "museum");
        assert!(contradicts_kind(
            "Amos Rex is an Italian restaurant with modern cuisine.",
            &museum
        ));
        assert!(!contradicts_kind("Its galleries lie underground.", &museum));
        assert!(contradicts_kind("Kiasma is a Renaissance museum.", &museum));
        assert!(contradicts_kind("A great place to eat.", &museum));
        assert!(contradicts_kind("Amos Rex is a masterful chef.", &museum));
        // A memorial is not the person it is to (the 0.5B model, 2026-12-06).
        let memorial = stop(
            "Johan Vilhelm Snellman",
            StopKind::Artwork,
            "historic:memorial",
        );
        assert!(contradicts_kind(
            "Johan Vilhelm Snellman is a Finnish statesman, philosopher.",
            &memorial
        ));
        assert!(!contradicts_kind(
            "Johan Vilhelm Snellman is a memorial to the Finnish statesman and philosopher.",
            &memorial
        ));
        let cafe = stop("Cafe Esplanad", StopKind::Cafe, "cafe");
        assert!(!contradicts_kind(
            "Cafe Esplanad is known for its cinnamon buns.",
            &cafe
        ));
        assert!(contradicts_kind("It has a famous art collection.", &cafe));
        assert!(contradicts_kind("A fine steakhouse.", &cafe));
        let mut sushi = stop("Fuku", StopKind::Dinner, "restaurant");
        sushi.facts = vec!["cuisine: sushi".into()];
        assert!(contradicts_kind("Fuku is a Finnish restaurant.", &sushi));
        assert!(!contradicts_kind("Fuku serves sushi.", &sushi));
        let grave = stop("Runeberg's grave", StopKind::Artwork, "grave");
        assert!(contradicts_kind("It is an historic building.", &grave));
        assert!(!contradicts_kind(
            "A memorial to the national poet.",
            &grave
        ));
    }
}
