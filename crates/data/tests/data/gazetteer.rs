//! Geocoding against the shipped GeoNames files (`assets/data/geonames`).

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use tripwright_data::gazetteer::{Gazetteer, GazetteerError, GeocodeError};
use tripwright_testkit::assets::{asset, assets_dir};

/// The GeoNames directory, failing the test with a fix when a file is absent.
fn geonames_dir() -> PathBuf {
    for file in ["cities15000.json", "countries.json"] {
        asset(&format!("data/geonames/{file}"));
    }
    assets_dir().join("data/geonames")
}

/// The budgets hold for an optimised build; a debug build only reports its times.
fn within_budget(what: &str, took: Duration, budget: Duration) {
    println!("{what}: {took:?} (budget {budget:?} in release)");
    if !cfg!(debug_assertions) {
        assert!(took < budget, "{what} took {took:?}, budget {budget:?}");
    }
}

fn gazetteer() -> &'static Gazetteer {
    static GAZETTEER: OnceLock<Gazetteer> = OnceLock::new();
    GAZETTEER.get_or_init(|| {
        let started = Instant::now();
        let gazetteer = Gazetteer::load(&geonames_dir()).expect("gazetteer loads");
        within_budget("load", started.elapsed(), Duration::from_millis(1000));
        gazetteer
    })
}

fn geocode(query: &str) -> tripwright_domain::Destination {
    gazetteer()
        .geocode(query)
        .unwrap_or_else(|err| panic!("{query}: {err}"))
}

#[test]
fn loads_every_city() {
    assert_eq!(gazetteer().len(), 34006);
}

#[test]
fn exact_names_give_the_full_destination() {
    let helsinki = geocode("Helsinki");
    assert_eq!(helsinki.name, "Helsinki");
    assert_eq!(helsinki.country, "Finland");
    assert_eq!(helsinki.country_code, "FI");
    assert_eq!(helsinki.currency, "EUR");
    assert_eq!(helsinki.timezone, "Europe/Helsinki");
    assert_eq!(helsinki.geoname_id, 658225);
    assert_eq!(helsinki.population, 658864);
    assert!((helsinki.lat - 60.17).abs() < 0.05 && (helsinki.lon - 24.94).abs() < 0.05);
    assert_eq!(gazetteer().get(658225), Some(helsinki));
    assert_eq!(gazetteer().get(1), None);
}

#[test]
fn alternate_names_case_and_accents_are_ignored() {
    assert_eq!(geocode("Helsingfors").geoname_id, 658225);
    assert_eq!(geocode("  helsinki ").geoname_id, 658225);
    let munich = geocode("MÜNCHEN");
    assert_eq!(
        (munich.name.as_str(), munich.geoname_id),
        ("Munich", 2867714)
    );
    let sao_paulo = geocode("sao paulo");
    assert_eq!(sao_paulo.name, "São Paulo");
    assert_eq!(sao_paulo.currency, "BRL");
    assert_eq!(geocode("SÃO PAULO").geoname_id, 3448439);
}

#[test]
fn ambiguous_names_go_to_the_most_populous_city() {
    let springfield = geocode("Springfield");
    assert_eq!(springfield.geoname_id, 4409896, "Springfield, Missouri");
    assert_eq!(geocode("Paris").country_code, "FR");
    assert_eq!(geocode("Rome").country_code, "IT");
    // "Zaragoza" is also an alternate name of the larger Tijuana: own names win.
    assert_eq!(geocode("Zaragoza").country_code, "ES");
}

#[test]
fn a_country_narrows_the_search() {
    for query in [
        "Rome, Italy",
        "Rome, IT",
        "rome,ita",
        "Rome , italy",
        "Roma, Italy",
    ] {
        assert_eq!(geocode(query).geoname_id, 3169070, "{query}");
    }
    let paris_us = geocode("Paris, US");
    assert_eq!(
        (paris_us.geoname_id, paris_us.currency.as_str()),
        (4717560, "USD")
    );
    // Two Romes in the US: Georgia is larger than New York state's.
    for query in ["Rome, US", "Rome, USA", "Rome, United States"] {
        assert_eq!(geocode(query).geoname_id, 4219762, "{query}");
    }
    assert_eq!(geocode("Amsterdam, Netherlands").country_code, "NL");
    assert_eq!(geocode("Paris,").country_code, "FR");
    assert_eq!(geocode("Manchester, UK").country_code, "GB");
}

#[test]
fn empty_queries_are_refused() {
    for query in ["", "   ", ", France"] {
        assert_eq!(
            gazetteer().geocode(query),
            Err(GeocodeError::Empty),
            "{query:?}"
        );
    }
}

#[test]
fn unknown_countries_are_named() {
    let err = gazetteer().geocode("Paris, Narnia").unwrap_err();
    assert_eq!(
        err,
        GeocodeError::UnknownCountry {
            query: "Paris, Narnia".into(),
            country: "Narnia".into()
        }
    );
    assert!(
        err.to_string().contains(r#"unknown country "Narnia""#),
        "{err}"
    );
}

#[test]
fn misspellings_get_suggestions() {
    // GeoNames lists "Helsinky" as an alternate name; "Helsimki" is a plain typo.
    assert_eq!(geocode("Helsinky").geoname_id, 658225);
    let started = Instant::now();
    let err = gazetteer().geocode("Helsimki").unwrap_err();
    within_budget("geocode miss", started.elapsed(), Duration::from_millis(50));
    let GeocodeError::NotFound { query, suggestions } = &err else {
        panic!("expected NotFound, got {err:?}");
    };
    assert_eq!(query, "Helsimki");
    assert!(suggestions.len() <= 5, "{suggestions:?}");
    assert_eq!(
        suggestions.first().map(String::as_str),
        Some("Helsinki, Finland")
    );
    assert!(
        err.to_string()
            .starts_with(r#"unknown destination "Helsimki"; did you mean: Helsinki, Finland"#),
        "{err}"
    );

    // No Paris in Italy: suggestions stay in the country asked for.
    let Err(GeocodeError::NotFound { suggestions, .. }) = gazetteer().geocode("Paris, Italy")
    else {
        panic!("Paris, Italy should not be found");
    };
    assert!(!suggestions.is_empty());
    assert!(
        suggestions.iter().all(|s| s.ends_with(", Italy")),
        "{suggestions:?}"
    );
}

#[test]
fn gibberish_is_not_found_without_panicking() {
    let started = Instant::now();
    let err = gazetteer().geocode("Xyzzyqq").unwrap_err();
    within_budget(
        "geocode gibberish",
        started.elapsed(),
        Duration::from_millis(50),
    );
    let GeocodeError::NotFound { query, suggestions } = &err else {
        panic!("expected NotFound, got {err:?}");
    };
    assert_eq!(query, "Xyzzyqq");
    assert!(suggestions.len() <= 5, "{suggestions:?}");
    assert!(err.to_string().contains(r#""Xyzzyqq""#), "{err}");
    // Punctuation only folds to nothing: not found, no suggestions.
    assert_eq!(
        gazetteer().geocode("?!"),
        Err(GeocodeError::NotFound {
            query: "?!".into(),
            suggestions: Vec::new()
        })
    );
}

#[test]
fn exact_hits_are_fast() {
    let queries = [
        "Helsinki",
        "Helsingfors",
        "sao paulo",
        "Rome, Italy",
        "Springfield",
    ];
    let rounds = 200;
    let started = Instant::now();
    for _ in 0..rounds {
        for query in queries {
            gazetteer().geocode(query).expect(query);
        }
    }
    let per_query = started.elapsed() / (rounds * queries.len()) as u32;
    within_budget("geocode exact hit", per_query, Duration::from_micros(100));
}

#[test]
fn prefixes_autocomplete_by_population() {
    let names = |prefix: &str, limit: usize| -> Vec<String> {
        gazetteer()
            .suggest(prefix, limit)
            .into_iter()
            .map(|d| format!("{}, {}", d.name, d.country_code))
            .collect()
    };
    let hels = names("Hels", 5);
    assert_eq!(
        hels.first().map(String::as_str),
        Some("Helsinki, FI"),
        "{hels:?}"
    );
    assert!(hels.contains(&"Helsingborg, SE".to_owned()), "{hels:?}");
    assert_eq!(names("münch", 1), ["Munich, DE"]);
    assert_eq!(names("Lon", 1), ["London, GB"]);

    let par = gazetteer().suggest("par", 10);
    assert_eq!(par.len(), 10);
    assert_eq!(par[0].name, "Paris");
    let own: Vec<_> = par
        .iter()
        .filter(|d| d.name.to_lowercase().starts_with("par"))
        .collect();
    assert!(
        own.windows(2).all(|w| w[0].population >= w[1].population),
        "{own:?}"
    );

    assert!(gazetteer().suggest("", 5).is_empty());
    assert!(gazetteer().suggest("hel", 0).is_empty());
    assert!(gazetteer().suggest("xyzzyqq", 5).is_empty());
}

#[test]
fn missing_or_corrupt_files_are_errors_naming_the_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let err = Gazetteer::load(dir.path()).unwrap_err();
    assert!(matches!(err, GazetteerError::Read { .. }), "{err:?}");
    assert!(err.to_string().contains("countries.json"), "{err}");
    assert!(err.to_string().contains("scripts/fetch_assets.sh"), "{err}");

    std::fs::copy(
        geonames_dir().join("countries.json"),
        dir.path().join("countries.json"),
    )
    .unwrap();
    std::fs::write(dir.path().join("cities15000.json"), r#"{"1": {"name": "#).unwrap();
    let err = Gazetteer::load(dir.path()).unwrap_err();
    assert!(matches!(err, GazetteerError::Parse { .. }), "{err:?}");
    assert!(err.to_string().contains("cities15000.json"), "{err}");
}
