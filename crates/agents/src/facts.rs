//! What the place data says about a place, as short facts a person (and the language model)
//! can read: "cuisine: finnish, seafood", "architect: Alvar Aalto", "since 1998". The model is
//! told to use only these; a figure or name it writes that is not here is caught.

use tripwright_domain::Place;

/// Most facts kept per place (the prompt stays short).
const MAX_FACTS: usize = 6;
/// Longest free-text fact (an OSM `description`), in characters.
const MAX_FACT_CHARS: usize = 160;

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
    let mut facts = Vec::new();
    let mut add = |label: &str, key: &str| {
        if let Some(v) = place.tag(key).map(readable).filter(|v| !v.is_empty()) {
            let fact = if label.is_empty() {
                v
            } else {
                format!("{label}: {v}")
            };
            if !facts.contains(&fact) {
                facts.push(fact);
            }
        }
    };
    add("cuisine", "cuisine");
    add("artwork", "artwork_type");
    add("memorial", "memorial");
    add("historic", "historic");
    add("artist", "artist_name");
    add("architect", "architect");
    add("denomination", "denomination");
    add("subject", "subject");
    add(tripwright_domain::ENGLISH_NAME, "name:en");
    if let Some(year) = place
        .tag("start_date")
        .map(str::trim)
        .filter(|d| d.len() >= 4 && d[..4].chars().all(|c| c.is_ascii_digit()))
    {
        facts.push(format!("since {}", &year[..4]));
    }
    if let Some(d) = place
        .tag("description")
        .map(str::trim)
        .filter(|d| !d.is_empty())
    {
        let d: String = d.chars().take(MAX_FACT_CHARS).collect();
        facts.push(format!("description: {d}"));
    }
    if place.tag("wheelchair") == Some("yes") {
        facts.push("wheelchair accessible".to_owned());
    }
    if place.tag("outdoor_seating") == Some("yes") {
        facts.push("outdoor seating".to_owned());
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
}
