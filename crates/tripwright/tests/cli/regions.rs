//! `tripwright import region` and `tripwright regions` against a stand-in Overpass server on
//! loopback that speaks its protocol: `POST /api/interpreter` with the form field `data`,
//! answered with `{"elements": […]}` (nodes with `lat`/`lon`, ways with `center` for the
//! places; ways with their `nodes` and the nodes for the street map), or with 429 and
//! `Retry-After`, or a 504.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use super::{tripwright, tripwright_env};

/// Serves `answers` in turn (the last one again and again) to place queries, and an empty
/// street map; returns the base URL and the bodies received.
fn overpass(answers: Vec<(u16, String)>) -> (String, Arc<Mutex<Vec<String>>>) {
    overpass_with_map(answers, (200, r#"{"elements":[]}"#.into()))
}

/// Serves `answers` in turn to place queries and `map` to street-map queries (those asking
/// for `highway` ways).
fn overpass_with_map(
    answers: Vec<(u16, String)>,
    map: (u16, String),
) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("binds");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&bodies);
    std::thread::spawn(move || {
        let mut answers = answers.into_iter().peekable();
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(&stream);
            let mut length = 0;
            let mut head = String::new();
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
                head.push_str(&line);
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            let body = String::from_utf8_lossy(&body).into_owned();
            let ok = head.starts_with("POST /api/interpreter ")
                && head
                    .to_ascii_lowercase()
                    .contains("user-agent: tripwright/")
                && body.starts_with("data=");
            let is_map = body.contains("highway");
            seen.lock().expect("log").push(body);
            let (status, text) = if ok && is_map {
                map.clone()
            } else if ok {
                let next = if answers.len() > 1 {
                    answers.next()
                } else {
                    answers.peek().cloned()
                };
                next.unwrap_or((200, r#"{"elements":[]}"#.into()))
            } else {
                (400, "Error: line 1: parse error".into())
            };
            let reason = match status {
                200 => "OK",
                429 => "Too Many Requests",
                _ => "Gateway Timeout",
            };
            let extra = if status == 429 {
                "Retry-After: 60\r\n"
            } else {
                ""
            };
            let _ = write!(
                &stream,
                "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n{text}",
                text.len()
            );
        }
    });
    (url, bodies)
}

/// Twelve named places around Rome's centre: hotels, museums, a monument mapped as a way,
/// trattorias, an unnamed bench that must be skipped.
fn rome() -> String {
    let mut elements = Vec::new();
    for (i, (key, value, name)) in [
        ("tourism", "hotel", "Albergo del Sole"),
        ("tourism", "hostel", "Ostello Roma"),
        ("tourism", "museum", "Museo Uno"),
        ("tourism", "museum", "Museo Due"),
        ("tourism", "gallery", "Galleria Tre"),
        ("tourism", "attraction", "Fontana Quattro"),
        ("historic", "ruins", "Rovine Cinque"),
        ("amenity", "restaurant", "Trattoria Sei"),
        ("amenity", "restaurant", "Trattoria Sette"),
        ("amenity", "cafe", "Caffè Otto"),
        ("shop", "supermarket", "Mercato Nove"),
    ]
    .iter()
    .enumerate()
    {
        elements.push(format!(
            r#"{{"type":"node","id":{},"lat":{},"lon":12.49,"tags":{{"{key}":"{value}","name":"{name}"}}}}"#,
            100 + i,
            41.89 + i as f64 * 0.001
        ));
    }
    elements.push(
        r#"{"type":"way","id":7,"center":{"lat":41.8902,"lon":12.4922},"tags":{"historic":"monument","name":"Colosseo"}}"#.into(),
    );
    elements
        .push(r#"{"type":"node","id":99,"lat":41.9,"lon":12.5,"tags":{"amenity":"bench"}}"#.into());
    format!(r#"{{"version":0.6,"elements":[{}]}}"#, elements.join(","))
}

/// The streets of the stand-in's Rome: one walkable street north–south along the places
/// (nodes every 0.001°, about 110 m), a cross street, a motorway walkers may not use, a park
/// mapped as a multipolygon, and the nodes they use, as Overpass answers `out body` / `out skel`.
fn rome_streets() -> String {
    let mut elements = Vec::new();
    let mut node = |id: i64, lat: f64, lon: f64| {
        elements.push(format!(
            r#"{{"type":"node","id":{id},"lat":{lat},"lon":{lon}}}"#
        ));
    };
    for i in 0..=14 {
        node(1000 + i, 41.889 + i as f64 * 0.001, 12.49);
    }
    for (i, lon) in [12.488, 12.4922, 12.494].iter().enumerate() {
        node(2000 + i as i64, 41.8902, *lon);
    }
    for (i, (lat, lon)) in [
        (41.895, 12.495),
        (41.896, 12.495),
        (41.896, 12.497),
        (41.895, 12.497),
    ]
    .iter()
    .enumerate()
    {
        node(3000 + i as i64, *lat, *lon);
    }
    let main: Vec<String> = (1000..=1014).map(|i| i.to_string()).collect();
    elements.push(format!(
        r#"{{"type":"way","id":50,"nodes":[{}],"tags":{{"highway":"residential","name":"Via Uno"}}}}"#,
        main.join(",")
    ));
    elements.push(
        r#"{"type":"way","id":51,"nodes":[2000,1001,2001,2002],"tags":{"highway":"pedestrian","name":"Via dei Fori"}}"#.into(),
    );
    elements
        .push(r#"{"type":"way","id":52,"nodes":[2000,2002],"tags":{"highway":"motorway"}}"#.into());
    elements.push(r#"{"type":"way","id":53,"nodes":[3000,3001,3002]}"#.into());
    elements.push(r#"{"type":"way","id":54,"nodes":[3002,3003,3000]}"#.into());
    elements.push(
        r#"{"type":"relation","id":60,"members":[{"type":"way","ref":53,"role":"outer"},{"type":"way","ref":54,"role":"outer"}],"tags":{"type":"multipolygon","leisure":"park","name":"Parco Sette"}}"#.into(),
    );
    format!(r#"{{"version":0.6,"elements":[{}]}}"#, elements.join(","))
}

/// The online lookups on, with Overpass at `overpass` (a stand-in, or "off") and Wikipedia off,
/// then `more`.
fn online<'a>(overpass: &'a str, more: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    [
        ("TRIPWRIGHT_ONLINE__ENABLED", "true"),
        ("TRIPWRIGHT_ONLINE__WIKIPEDIA_URL", "off"),
        ("TRIPWRIGHT_ONLINE__OVERPASS_URL", overpass),
    ]
    .into_iter()
    .chain(more.iter().copied())
    .collect()
}

#[test]
fn a_region_is_imported_listed_planned_offline_and_removed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (url, bodies) = overpass_with_map(vec![(200, rome())], (200, rome_streets()));
    let env = online(
        &url,
        &[("TRIPWRIGHT_ONLINE__USER_AGENT_CONTACT", "tests@example.org")],
    );
    let out = tripwright_env(
        dir.path(),
        &["import", "region", "Rome, Italy", "--radius", "3"],
        &env,
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(
            "12 places stored as \"overpass: Rome, Italy\", with a street map of 4 streets, paths and areas"
        ),
        "{stdout}"
    );
    let asked = bodies.lock().expect("log").clone();
    assert_eq!(asked.len(), 2, "the places, then the street map");
    assert!(asked[0].contains("around%3A3000%2C41.89"), "{}", asked[0]);
    // The map's box: around the sights and the hotel, 500 m wider.
    let map_query = urlencoding_decode(&asked[1]);
    assert!(
        map_query.contains("[bbox:41.88") && map_query.contains("way[\"highway\"]"),
        "{map_query}"
    );
    // Listed with the demo extract, newest first.
    let listed = tripwright(dir.path(), &["regions"]);
    let text = String::from_utf8_lossy(&listed.stdout);
    let rows: Vec<&str> = text.lines().skip(1).collect();
    assert!(
        rows[0].starts_with("overpass: Rome, Italy") && rows[0].contains(" 12 "),
        "{text}"
    );
    assert!(
        rows.iter().any(|r| r.starts_with("Helsinki.osm.pbf")),
        "{text}"
    );
    // Planned offline: the online lookups off, the stored places answer.
    let plan = tripwright(
        dir.path(),
        &[
            "plan",
            "--destination",
            "Rome, Italy",
            "--days",
            "1",
            "--json",
        ],
    );
    assert!(
        plan.status.success(),
        "{}",
        String::from_utf8_lossy(&plan.stderr)
    );
    let plan = super::json(&plan);
    let hotels: Vec<&str> = plan["hotels"]
        .as_array()
        .expect("hotels")
        .iter()
        .filter_map(|h| h["name"].as_str())
        .collect();
    assert!(hotels.contains(&"Albergo del Sole"), "{hotels:?}");
    let stops = plan["itinerary"]["days"][0]["stops"].to_string();
    assert!(
        stops.contains("Museo") && stops.contains("Trattoria"),
        "{stops}"
    );
    assert_eq!(plan["sources"][0]["source"], "overpass: Rome, Italy");
    // The walks follow the fetched streets: routed legs, and no straight-line estimate.
    let routed = plan["itinerary"]["days"][0]["stops"]
        .as_array()
        .expect("stops")
        .iter()
        .filter(|s| s["route"].as_array().is_some_and(|r| r.len() >= 2))
        .count();
    assert!(routed >= 2, "{stops}");
    let checks = plan["checks"].to_string();
    assert!(!checks.contains("straight lines"), "{checks}");
    // Removed: Rome has no data again.
    let removed = tripwright(
        dir.path(),
        &["regions", "--remove", "overpass: Rome, Italy"],
    );
    assert!(
        String::from_utf8_lossy(&removed.stdout)
            .contains("12 places of \"overpass: Rome, Italy\" removed")
    );
    // …with its street map: a plan there now walks on straight lines.
    let plan = tripwright(
        dir.path(),
        &[
            "plan",
            "--destination",
            "Rome, Italy",
            "--days",
            "1",
            "--json",
        ],
    );
    let plan = super::json(&plan);
    assert!(
        plan["itinerary"]["days"][0]["stops"]
            .as_array()
            .is_none_or(|s| s.iter().all(|s| s.get("route").is_none())),
        "{}",
        plan["itinerary"]
    );
    let again = tripwright(
        dir.path(),
        &["regions", "--remove", "overpass: Rome, Italy"],
    );
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("tripwright regions"));
}

/// Decodes a form body (`data=…`).
fn urlencoding_decode(body: &str) -> String {
    let v: Vec<(String, String)> = serde_urlencoded::from_str(body).expect("a form");
    v.into_iter().map(|(_, v)| v).collect()
}

#[test]
fn a_street_map_that_cannot_be_fetched_leaves_the_places_and_says_so() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (url, bodies) = overpass_with_map(
        vec![(200, rome())],
        (504, "<html>Gateway Timeout</html>".into()),
    );
    let out = tripwright_env(
        dir.path(),
        &["import", "region", "Rome, Italy", "--radius", "3"],
        &online(&url, &[]),
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("12 places stored")
            && stdout.contains("no street map (OpenStreetMap (Overpass) failed: it answered HTTP 504): walks will follow straight lines"),
        "{stdout}"
    );
    assert_eq!(bodies.lock().expect("log").len(), 2);
    let plan = tripwright(
        dir.path(),
        &[
            "plan",
            "--destination",
            "Rome, Italy",
            "--days",
            "1",
            "--json",
        ],
    );
    let checks = super::json(&plan)["checks"].to_string();
    assert!(
        checks.contains("straight lines (no street map here)"),
        "{checks}"
    );
}

#[test]
fn a_region_import_without_overpass_or_refused_says_why() {
    let dir = tempfile::tempdir().expect("tempdir");
    let off = tripwright(dir.path(), &["import", "region", "Rome"]);
    assert!(!off.status.success());
    let err = String::from_utf8_lossy(&off.stderr);
    assert!(
        err.contains("online lookups are off") && err.contains("enabled"),
        "{err}"
    );
    let no_url = tripwright_env(
        dir.path(),
        &["import", "region", "Rome"],
        &online("off", &[]),
    );
    assert!(!no_url.status.success());
    let err = String::from_utf8_lossy(&no_url.stderr);
    assert!(err.contains("overpass_url"), "{err}");
    let (url, _) = overpass(vec![(429, "Too Many Requests".into())]);
    let refused = tripwright_env(
        dir.path(),
        &["import", "region", "Rome"],
        &online(&url, &[]),
    );
    assert!(!refused.status.success());
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(err.contains("asked to slow down"), "{err}");
}

/// Without internet (here: a port nothing listens on), a plan for a city without data comes at
/// once, with its weather and a warning that says what happened and how to import the city;
/// nothing waits for the 30 s timeout.
#[test]
fn without_internet_a_city_without_data_fails_fast_and_says_how_to_import() {
    let dir = tempfile::tempdir().expect("tempdir");
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port");
    let url = format!("http://{closed}");
    let env = online(&url, &[("TRIPWRIGHT_ONLINE__TIMEOUT_SECS", "30")]);
    let started = std::time::Instant::now();
    let out = tripwright_env(
        dir.path(),
        &[
            "plan",
            "--destination",
            "Rome, Italy",
            "--days",
            "2",
            "--json",
        ],
        &env,
    );
    let plan = super::json(&out);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(25),
        "it did not wait for the timeout: {:?}",
        started.elapsed()
    );
    let warnings = plan["warnings"].to_string();
    assert!(
        warnings.contains("no place data for Rome, and OpenStreetMap could not be reached")
            && warnings.contains("tripwright import region")
            && warnings.contains("tripwright import osm"),
        "{warnings}"
    );
    assert_eq!(plan["best_months"].as_array().map(Vec::len), Some(12));
    // A person at the terminal is told what it waits for, and why there is nothing to see.
    let shown = tripwright_env(
        dir.path(),
        &["plan", "--destination", "Rome, Italy", "--days", "1"],
        &env,
    );
    let err = String::from_utf8_lossy(&shown.stderr);
    assert!(
        err.contains("Fetching places near Rome from OpenStreetMap…"),
        "{err}"
    );
    let out = String::from_utf8_lossy(&shown.stdout);
    assert!(out.contains("OpenStreetMap could not be reached"), "{out}");
    let imported = tripwright_env(dir.path(), &["import", "region", "Rome"], &env);
    assert!(!imported.status.success());
    let err = String::from_utf8_lossy(&imported.stderr);
    assert!(err.contains("could not be reached"), "{err}");
}
