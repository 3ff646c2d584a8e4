//! What the place data says about a place, as short facts a person (and the language model)
//! can read: "cuisine: finnish, seafood", "architect: Alvar Aalto", "since 1998". The model is
//! told to use only these; a figure or name it writes that is not here is caught.

use tripwright_domain::Place;

/// Most facts kept per place (the prompt stays short).
const MAX_FACTS: usize = 8;
/// Longest free-text fact (an OSM `description` or `inscription`), in characters.
const MAX_FACT_CHARS: usize = 160;

/// `text` cut to at most [`MAX_FACT_CHARS`] characters: at its last whole sentence that fits,
/// else at its last whole word, so that the model is never shown a word cut in two.
fn shortened(text: &str) -> String {
    let text = text.trim();
    if text.chars().count() <= MAX_FACT_CHARS {
        return text.to_owned();
    }
    let head: String = text.chars().take(MAX_FACT_CHARS).collect();
    if let Some(end) = head.rfind(". ").filter(|&i| i >= MAX_FACT_CHARS / 3) {
        return head[..=end].to_owned();
    }
    let cut = head.rfind(' ').unwrap_or(head.len());
    head[..cut].trim_end_matches([',', ';', ' ']).to_owned()
}

/// A tag value for people: `_` and `;` become spaces and commas.
fn readable(value: &str) -> String {
    value
        .split(';')
        .map(|v| v.trim().replace('_', " "))
        .filter(|v| !v.is_empty())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The descriptive facts of `place`'s OSM tags, most telling first.
pub fn place_facts(place: &Place) -> Vec<String> {
    let tagged = |label: &str, key: &str| {
        place
            .tag(key)
            .map(readable)
            .filter(|v| !v.is_empty())
            .map(|v| format!("{label}: {v}"))
    };
    let since = place
        .tag("start_date")
        .map(str::trim)
        .filter(|d| d.len() >= 4 && d[..4].chars().all(|c| c.is_ascii_digit()))
        .map(|year| {
            // A statue or a memorial is from a year; a museum or a hall has been open since.
            let object = place.category == tripwright_domain::PlaceCategory::Artwork
                || place.kind.starts_with("historic:");
            let word = if object { "from" } else { "since" };
            format!("{word} {}", &year[..4])
        });
    // What a memorial's plaque says ("Memorial to Johan Vilhelm Snellman, a Finnish
    // statesman, philosopher, author and journalist. Statue by …"): the truest words the data
    // has about it.
    let texts = ["inscription", "description"].map(|key| {
        place
            .tag(key)
            .map(shortened)
            .filter(|d| !d.is_empty())
            .map(|d| format!("{key}: {d}"))
    });
    let flag = |key: &str, value: &str, fact: &str| {
        (place.tag(key) == Some(value)).then(|| fact.to_owned())
    };
    let mut facts: Vec<String> = Vec::new();
    for fact in [
        tagged("cuisine", "cuisine"),
        tagged("artwork", "artwork_type"),
        tagged("memorial", "memorial"),
        tagged("historic", "historic"),
        tagged("artist", "artist_name"),
        tagged("artist", "sculptor"),
        tagged("architect", "architect"),
        tagged("denomination", "denomination"),
        tagged("subject", "subject"),
        tagged(tripwright_domain::ENGLISH_NAME, "name:en"),
        since,
    ]
    .into_iter()
    .chain(texts)
    .chain([
        tagged("material", "material"),
        // Its own street, which the model may name ("a gallery on Annankatu").
        tagged("street", "addr:street"),
        flag("fee", "no", "free entry"),
        flag("wheelchair", "yes", "wheelchair accessible"),
        flag("outdoor_seating", "yes", "outdoor seating"),
    ])
    .flatten()
    {
        if !facts.contains(&fact) {
            facts.push(fact);
        }
    }
    // The kind itself is said elsewhere; a "historic: yes" adds nothing.
    let kind = place.kind.strip_prefix("historic:").unwrap_or(&place.kind);
    facts.retain(|f| f != "historic: yes" && f != &format!("historic: {kind}"));
    facts.truncate(MAX_FACTS);
    facts
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use tripwright_domain::PlaceCategory;

    #[test]
    fn the_kind_is_not_repeated_as_a_fact() {
        let tags: BTreeMap<String, String> = [("historic", "memorial"), ("memorial", "statue")]
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let place = Place {
            id: "osm:node/2".into(),
            name: "Elias Lönnrot".into(),
            category: PlaceCategory::Attraction,
            kind: "historic:memorial".into(),
            lat: 60.17,
            lon: 24.94,
            opening_hours: None,
            tags,
        };
        assert_eq!(place_facts(&place), ["memorial: statue"]);
    }

    #[test]
    fn tags_become_short_readable_facts() {
        let tags: BTreeMap<String, String> = [
            ("cuisine", "finnish;regional_food"),
            ("start_date", "1998-05-30"),
            ("architect", "Steven Holl"),
            ("historic", "yes"),
            ("wheelchair", "yes"),
            ("opening_hours", "Mo 10:00-20:00"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        let place = Place {
            id: "osm:node/1".into(),
            name: "Kiasma".into(),
            category: PlaceCategory::Attraction,
            kind: "museum".into(),
            lat: 60.17,
            lon: 24.94,
            opening_hours: None,
            tags,
        };
        assert_eq!(
            place_facts(&place),
            [
                "cuisine: finnish, regional food",
                "architect: Steven Holl",
                "since 1998",
                "wheelchair accessible"
            ]
        );
    }

    #[test]
    fn a_plaque_its_street_and_free_entry_are_facts_and_no_word_is_cut_in_two() {
        let inscription = "Memorial to Johan Vilhelm Snellman, a Finnish statesman, philosopher, \
            author and journalist. Statue by Emil Wikström, 1923. Unveiled on the centenary of \
            his birth by the Bank of Finland, which he led.";
        let tags: BTreeMap<String, String> = [
            ("historic", "memorial"),
            ("inscription", inscription),
            ("addr:street", "Snellmaninkatu"),
            ("fee", "no"),
            ("wheelchair", "no"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        let place = Place {
            id: "osm:node/3".into(),
            name: "Johan Vilhelm Snellman".into(),
            category: PlaceCategory::Attraction,
            kind: "historic:memorial".into(),
            lat: 60.17,
            lon: 24.95,
            opening_hours: None,
            tags,
        };
        assert_eq!(
            place_facts(&place),
            [
                "inscription: Memorial to Johan Vilhelm Snellman, a Finnish statesman, \
                 philosopher, author and journalist. Statue by Emil Wikström, 1923.",
                "street: Snellmaninkatu",
                "free entry",
            ]
        );
        // A statue is from a year; a museum has been open since one.
        let mut statue = place.clone();
        statue.tags.insert("start_date".into(), "1923".into());
        assert!(place_facts(&statue).contains(&"from 1923".to_owned()));
        let long = "word ".repeat(50);
        let cut = shortened(&long);
        assert!(
            cut.chars().count() <= MAX_FACT_CHARS && cut.ends_with("word"),
            "{cut}"
        );
    }
}
