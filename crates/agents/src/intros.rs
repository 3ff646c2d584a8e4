//! Texts built from the plan's data, not by the language model: each day's introduction and
//! the highlights the summary names.
//!
//! The model used to write these, and they were where it went most wrong: asked to introduce
//! a day from a list of places, a small model wrote "Anna Ruohonen and Päivälehden Museo are
//! places that were visited by tourists…", named one place as visiting another, or renamed
//! them. An introduction says which places the day holds, in what order and where the
//! traveller eats; the data says all of that exactly, so it is written from the data.

use tripwright_domain::{Stop, StopKind, place_kind_words};

use crate::itinerary::is_activity;

/// A day's introduction from its stops: "A Saturday of two museums, a gallery and two
/// memorials, from Ateneum and Kiasma to Taru ja totuus. Lunch at Torrefazione, coffee at
/// Teemaa, dinner at Latitude 25." Empty for a day without stops.
pub fn day_intro(weekday: &str, stops: &[Stop]) -> String {
    let day = if weekday.is_empty() { "day" } else { weekday };
    let sights: Vec<&Stop> = stops.iter().filter(|s| is_activity(s.kind)).collect();
    let meals: Vec<String> = stops
        .iter()
        .filter_map(|s| {
            let what = match s.kind {
                StopKind::Lunch => "lunch",
                StopKind::Cafe => "coffee",
                StopKind::Dinner => "dinner",
                StopKind::Sight | StopKind::Artwork => return None,
            };
            Some(format!("{what} at {}", s.name))
        })
        .collect();
    let first = match sights.as_slice() {
        [] if meals.is_empty() => return String::new(),
        [] => return format!("A {day} without sights: {}.", and_list(&meals)),
        [one] => format!(
            "A {day} at {}, {}",
            one.name,
            counted_noun(1, &place_kind_words(&one.place_kind))
        ),
        [a, b] => format!("A {day} of {}: {} and {}", kinds(&sights), a.name, b.name),
        [a, b, .., last] => format!(
            "A {day} of {}, from {} and {} to {}",
            kinds(&sights),
            a.name,
            b.name,
            last.name
        ),
    };
    if meals.is_empty() {
        return format!("{first}.");
    }
    format!(
        "{first}. {}.",
        tripwright_domain::capitalised(&meals.join(", "))
    )
}

/// The kinds of `stops`, counted, in the order they first come: "two museums, a gallery and
/// a memorial".
fn kinds(stops: &[&Stop]) -> String {
    let mut counted: Vec<(String, usize)> = Vec::new();
    for s in stops {
        let kind = place_kind_words(&s.place_kind);
        match counted.iter_mut().find(|(k, _)| *k == kind) {
            Some((_, n)) => *n += 1,
            None => counted.push((kind, 1)),
        }
    }
    let words: Vec<String> = counted.iter().map(|(k, n)| counted_noun(*n, k)).collect();
    and_list(&words)
}

/// "a museum", "an artwork", "two galleries", "12 churches".
pub fn counted_noun(n: usize, noun: &str) -> String {
    if n == 1 {
        let vowel = noun
            .chars()
            .next()
            .is_some_and(|c| "aeiouAEIOU".contains(c));
        return format!("{} {noun}", if vowel { "an" } else { "a" });
    }
    let (head, last) = noun.rsplit_once(' ').map_or(("", noun), |(h, l)| (h, l));
    let plural = if let Some(stem) = last.strip_suffix('y')
        && !stem.ends_with(['a', 'e', 'o', 'u'])
    {
        format!("{stem}ies")
    } else if last.ends_with(['s', 'x']) || last.ends_with("ch") || last.ends_with("sh") {
        format!("{last}es")
    } else {
        format!("{last}s")
    };
    let noun = if head.is_empty() {
        plural
    } else {
        format!("{head} {plural}")
    };
    format!("{} {noun}", number_word(n))
}

/// "two" … "nine", then digits.
fn number_word(n: usize) -> String {
    const WORDS: [&str; 10] = [
        "no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
    ];
    WORDS
        .get(n)
        .map_or_else(|| n.to_string(), |w| (*w).to_owned())
}

/// "A", "A and B", "A, B and C".
pub fn and_list<S: AsRef<str>>(items: &[S]) -> String {
    match items {
        [] => String::new(),
        [one] => one.as_ref().to_owned(),
        [init @ .., last] => format!(
            "{} and {}",
            init.iter()
                .map(AsRef::as_ref)
                .collect::<Vec<_>>()
                .join(", "),
            last.as_ref()
        ),
    }
}

/// The sights a summary names: each day's headline sight (the one its title is "Around"), at
/// most `n`, none twice.
pub fn highlights(days: &[tripwright_domain::DayPlan], n: usize) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    for d in days {
        if let Some(s) = crate::itinerary::headline(&d.stops)
            && !out.contains(&s.name.as_str())
        {
            out.push(&s.name);
        }
        if out.len() == n {
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::tests::stop;

    #[test]
    fn a_day_is_introduced_by_its_places_in_order_and_its_meals() {
        let ateneum = stop("Ateneum", StopKind::Sight, "museum");
        let kiasma = stop("Kiasma", StopKind::Sight, "museum");
        let lunch = stop("Torrefazione", StopKind::Lunch, "restaurant");
        let g12 = stop("G12 Galleria", StopKind::Sight, "gallery");
        let coffee = stop("Teemaa", StopKind::Cafe, "cafe");
        let lonnrot = stop("Elias Lönnrot", StopKind::Artwork, "historic:memorial");
        let taru = stop("Taru ja totuus", StopKind::Artwork, "historic:memorial");
        let dinner = stop("Latitude 25", StopKind::Dinner, "restaurant");
        let day = [
            ateneum.clone(),
            kiasma.clone(),
            lunch.clone(),
            g12.clone(),
            coffee,
            lonnrot,
            taru,
            dinner.clone(),
        ];
        assert_eq!(
            day_intro("Saturday", &day),
            "A Saturday of two museums, a gallery and two memorials, from Ateneum and Kiasma to \
             Taru ja totuus. Lunch at Torrefazione, coffee at Teemaa, dinner at Latitude 25."
        );
        assert_eq!(
            day_intro("Sunday", &[ateneum.clone(), lunch.clone(), g12.clone()]),
            "A Sunday of a museum and a gallery: Ateneum and G12 Galleria. Lunch at Torrefazione."
        );
        assert_eq!(
            day_intro("", &[g12, dinner.clone()]),
            "A day at G12 Galleria, a gallery. Dinner at Latitude 25."
        );
        assert_eq!(
            day_intro("Monday", &[lunch, dinner]),
            "A Monday without sights: lunch at Torrefazione and dinner at Latitude 25."
        );
        assert_eq!(day_intro("Monday", &[]), "");
        let statue = stop("Havis Amanda", StopKind::Artwork, "artwork");
        assert_eq!(
            day_intro("Monday", &[statue, ateneum, kiasma]),
            "A Monday of an artwork and two museums, from Havis Amanda and Ateneum to Kiasma."
        );
    }

    #[test]
    fn kinds_are_counted_in_words() {
        assert_eq!(counted_noun(1, "artwork"), "an artwork");
        assert_eq!(counted_noun(3, "art gallery"), "three art galleries");
        assert_eq!(counted_noun(2, "church"), "two churches");
        assert_eq!(counted_noun(2, "viewpoint"), "two viewpoints");
        assert_eq!(counted_noun(2, "bay"), "two bays");
        assert_eq!(counted_noun(12, "city gate"), "12 city gates");
        assert_eq!(and_list(&["a", "b", "c"]), "a, b and c");
    }
}
