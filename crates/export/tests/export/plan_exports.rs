//! Plan exports against a real plan (`tests/fixtures/helsinki_plan.json`): PDF text read back
//! with pdftotext, iCalendar structure, Markdown and the SVG route sketch.

use super::common::{fonts, helsinki_plan, pdf_pages, pdf_text, squash};
use tripwright_domain::{GeoPoint, MapFeature, MapLayer, Plan};
use tripwright_export::{plan_ics, plan_markdown, plan_pdf, route_area, route_svg};

const INJECTION: &str = r#"#panic("x") *bold* $math$ <script>"#;

fn stop_count(plan: &Plan) -> usize {
    plan.itinerary.days.iter().map(|d| d.stops.len()).sum()
}

/// The fixture with one stop renamed to a café with an accent.
fn plan_with_cafe() -> Plan {
    let mut plan = helsinki_plan();
    let cafe = plan.itinerary.days[0]
        .stops
        .iter_mut()
        .find(|s| s.name == "Ben & Jerry's")
        .expect("the fixture has a café stop");
    cafe.name = "Café Ekberg".into();
    cafe.note = "Finland's oldest café, since 1852.".into();
    plan
}

#[test]
fn plan_pdf_shows_the_whole_plan() {
    let plan = plan_with_cafe();
    let pdf = plan_pdf(&plan, &fonts(), &[]).expect("plan PDF");
    let text = squash(&pdf_text(&pdf));

    for expected in [
        "Trip to Helsinki, Finland",
        "3–4 July 2027 · 2 days · 1 traveller",
        // Best months: top three with reasons, the fourth left out.
        "Best months to go",
        "July score 79/100 mean 17 °C, mild, 18 h daylight",
        "August",
        "June",
        // Hotel.
        "Recommended hotel",
        "Hotel Haven",
        "EUR 110.00 per night (estimated)",
        // Days with stop times, names and notes.
        "Day 1 · Saturday 3 July 2027 · Around Vanha Kauppahalli",
        "Day 2 · Sunday 4 July 2027",
        "09:32–10:17",
        "Helsingin tuomiokirkko",
        "Päivälehden museo",
        "Café Ekberg",
        "Finland's oldest café, since 1852.",
        // Opening hours in words, for the day of the visit.
        "Open 08:00–18:00 on Saturday",
        // Route sketch, costs, checks, warnings.
        "Route sketch",
        "Cost estimate",
        "Breakfasts × 1 traveller(s) 12.00 estimated",
        "Total 328.00 estimated",
        "Amounts marked estimated come from the configured price tables",
        "Checks",
        // Checks by their names in words.
        "Real places",
        "month 7 is among the top 3 ranked months",
        "Amos Anderson taidemuseo",
        "Data: OpenStreetMap contributors (ODbL), GeoNames (CC BY 4.0), CHELSA climate; made with Tripwright",
    ] {
        assert!(
            text.contains(expected),
            "{expected:?} missing from:\n{text}"
        );
    }
    assert!(
        !text.contains("September"),
        "only the top 3 months are listed"
    );
    assert!(pdf_pages(&pdf) >= 2);
}

#[test]
fn plan_pdf_prints_markup_literally() {
    let mut plan = helsinki_plan();
    plan.itinerary.days[0].stops[0].name = INJECTION.into();
    plan.itinerary.days[0].stops[1].note = format!("note {INJECTION}");
    plan.itinerary.days[1].title = "] #let x = 1 [".into();
    plan.hotels[0].name = r#"Hotel "\" #{ eval("1") }"#.into();
    plan.warnings.push("= not a heading".into());
    let pdf =
        plan_pdf(&plan, &fonts(), &[]).expect("a plan with markup in its names still typesets");
    let text = squash(&pdf_text(&pdf));
    for expected in [
        INJECTION,
        &format!("note {INJECTION}"),
        "] #let x = 1 [",
        r#"Hotel "\" #{ eval("1") }"#,
        "= not a heading",
    ] {
        assert!(
            text.contains(expected),
            "{expected:?} missing from:\n{text}"
        );
    }
}

#[test]
fn plan_pdf_renders_cyrillic_and_greek() {
    let mut plan = helsinki_plan();
    plan.destination.name = "Москва".into();
    plan.destination.country = "Россия".into();
    plan.itinerary.days[0].stops[0].name = "Красная площадь".into();
    plan.itinerary.days[0].stops[1].name = "Ακρόπολη".into();
    let pdf = plan_pdf(&plan, &fonts(), &[]).expect("plan PDF");
    let text = squash(&pdf_text(&pdf));
    for expected in ["Trip to Москва, Россия", "Красная площадь", "Ακρόπολη"]
    {
        assert!(
            text.contains(expected),
            "{expected:?} missing from:\n{text}"
        );
    }
}

#[test]
fn plan_pdf_compares_cost_with_budget() {
    let mut plan = helsinki_plan();
    plan.summary.cost.budget = Some(300.0);
    plan.summary.cost.within_budget = Some(false);
    let pdf = plan_pdf(&plan, &fonts(), &[]).expect("plan PDF");
    let text = squash(&pdf_text(&pdf));
    assert!(
        text.contains("Budget 300.00 over budget by EUR 28.00"),
        "{text}"
    );
}

#[test]
fn plan_pdf_of_an_empty_plan() {
    let mut plan = helsinki_plan();
    plan.itinerary.days.clear();
    plan.itinerary.hotel_id = None;
    plan.hotels.clear();
    plan.best_months.clear();
    plan.checks.clear();
    plan.warnings.clear();
    plan.summary.cost.lines.clear();
    plan.summary.text.clear();
    let pdf = plan_pdf(&plan, &fonts(), &[]).expect("an empty plan still typesets");
    let text = squash(&pdf_text(&pdf));
    assert!(text.contains("Trip to Helsinki, Finland"), "{text}");
    assert!(text.contains("No days planned."), "{text}");
    assert!(!text.contains("Route sketch"), "{text}");
    assert!(!text.contains("Recommended hotel"), "{text}");
}

#[test]
fn plan_pdfs_typeset_in_parallel() {
    let fonts = fonts();
    let plan = helsinki_plan();
    let handles: Vec<_> = (0..2)
        .map(|_| {
            let fonts = fonts.clone();
            let plan = plan.clone();
            std::thread::spawn(move || plan_pdf(&plan, &fonts, &[]))
        })
        .collect();
    for h in handles {
        let pdf = h.join().expect("thread").expect("plan PDF");
        assert!(squash(&pdf_text(&pdf)).contains("Helsingin tuomiokirkko"));
    }
}

#[test]
fn ics_has_one_valid_event_per_stop() {
    let mut plan = plan_with_cafe();
    plan.itinerary.days[1].stops[0].name = "Back\\slash, comma; semi\nnewline".into();
    plan.itinerary.days[1].stops[0].note = "Очень длинная заметка о музее, ".repeat(6);
    let ics = plan_ics(&plan);

    // CRLF only, no bare LF or CR, ends with CRLF.
    assert!(ics.ends_with("\r\n"));
    assert_eq!(ics.matches('\n').count(), ics.matches("\r\n").count());
    assert_eq!(ics.matches('\r').count(), ics.matches("\r\n").count());
    let physical: Vec<&str> = ics.trim_end_matches("\r\n").split("\r\n").collect();
    for line in &physical {
        assert!(line.len() <= 75, "{} octets: {line:?}", line.len());
    }
    assert!(
        physical.iter().any(|l| l.starts_with(' ')),
        "the long note is folded"
    );

    // Unfold (RFC 5545 §3.1) and check the structure.
    let unfolded = ics.replace("\r\n ", "");
    let lines: Vec<&str> = unfolded.trim_end_matches("\r\n").split("\r\n").collect();
    assert_eq!(lines.first(), Some(&"BEGIN:VCALENDAR"));
    assert_eq!(lines.last(), Some(&"END:VCALENDAR"));
    assert!(lines.contains(&"VERSION:2.0"));
    assert!(lines.iter().any(|l| l.starts_with("PRODID:")));
    let begins = lines.iter().filter(|l| **l == "BEGIN:VEVENT").count();
    let ends = lines.iter().filter(|l| **l == "END:VEVENT").count();
    assert_eq!(begins, stop_count(&plan));
    assert_eq!(ends, begins);

    let uids: std::collections::BTreeSet<&str> = lines
        .iter()
        .filter(|l| l.starts_with("UID:"))
        .copied()
        .collect();
    assert_eq!(uids.len(), begins, "UIDs are unique");
    assert!(uids.contains(format!("UID:{}-d1-1@tripwright", plan.id).as_str()));
    assert_eq!(
        lines.iter().filter(|l| l.starts_with("DTSTAMP:")).count(),
        begins
    );
    assert!(lines.contains(&"DTSTAMP:20261129T091611Z"));

    // First stop: floating local times on the day's date, position, summary.
    assert!(lines.contains(&"DTSTART:20270703T093200"));
    assert!(lines.contains(&"DTEND:20270703T101700"));
    assert!(lines.contains(&"SUMMARY:Vanha Kauppahalli"));
    assert!(lines.contains(&"LOCATION:60.166163\\,24.952783"));
    assert!(lines.contains(&"GEO:60.166163;24.952783"));
    assert!(lines.contains(&"SUMMARY:Café Ekberg"));
    assert!(lines.iter().any(|l| {
        l.starts_with("DESCRIPTION:Coffee break (cafe)\\nFinland's oldest café\\, since 1852.")
    }));
    // Escaping.
    assert!(lines.contains(&"SUMMARY:Back\\\\slash\\, comma\\; semi\\nnewline"));
    for l in &lines {
        assert!(!l.contains('\n') && !l.contains('\r'));
        assert!(
            l.contains(':'),
            "every content line has a name and a value: {l:?}"
        );
    }
}

#[test]
fn markdown_has_days_and_a_cost_table() {
    let mut plan = plan_with_cafe();
    plan.itinerary.days[1].stops[0].name = INJECTION.into();
    let md = plan_markdown(&plan);
    assert!(md.starts_with("# Trip to Helsinki, Finland\n"));
    assert!(md.contains("\n## Day 1 — Saturday 3 July 2027: Around Vanha Kauppahalli\n"));
    assert!(md.contains("\n## Day 2 — Sunday 4 July 2027: Around Ateneum\n"));
    assert_eq!(
        md.lines().filter(|l| l.starts_with("## Day ")).count(),
        plan.itinerary.days.len()
    );
    assert_eq!(
        md.lines().filter(|l| l.starts_with("- **")).count(),
        stop_count(&plan)
    );
    assert!(md.contains(r"- **09:32–10:17** Vanha Kauppahalli — Sight; 2 min walk (0.10 km)"));
    assert!(md.contains("Café Ekberg"));
    assert!(md.contains("## Cost (estimated)"));
    assert!(md.contains("| Item | Amount (EUR) | |\n| --- | ---: | --- |\n"));
    assert!(md.contains("| Breakfasts × 1 traveller(s) | 12.00 | estimated |"));
    assert!(md.contains("| **Total** | **328.00** | |"));
    assert!(md.contains("1. **July** — score 79/100: mean 17 °C, mild, 18 h daylight"));
    assert!(!md.contains("**September**"));
    assert!(md.contains("✓ **Real places**"));
    assert!(md.contains("OpenStreetMap contributors (ODbL)"));
    assert!(md.contains("  Open 08:00–18:00 on Saturday\n"), "{md}");
    // Markup in names is escaped, never live.
    assert!(md.contains(r#"#panic("x") \*bold\* \$math\$ \<script\>"#));
    assert!(!md.contains("<script>"));
}

#[test]
fn route_svg_is_well_formed_and_complete() {
    let mut plan = helsinki_plan();
    plan.itinerary.days[0].stops[0].name = "<script>alert('x')</script> & Co".into();
    let svg = route_svg(&plan, 640, 420, &[]);
    let doc = roxmltree::Document::parse(&svg).expect("well-formed XML");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "svg");
    assert_eq!(root.attribute("width"), Some("640"));
    assert_eq!(root.attribute("height"), Some("420"));

    let count = |tag: &str| doc.descendants().filter(|n| n.has_tag_name(tag)).count();
    let days = plan.itinerary.days.len();
    // One dot per stop plus one legend dot per day.
    assert_eq!(count("circle"), stop_count(&plan) + days);
    assert_eq!(count("polyline"), days);
    // Each day's route runs hotel → stops → hotel.
    for (line, day) in doc
        .descendants()
        .filter(|n| n.has_tag_name("polyline"))
        .zip(&plan.itinerary.days)
    {
        let pts = line
            .attribute("points")
            .unwrap_or_default()
            .split(' ')
            .count();
        assert_eq!(pts, day.stops.len() + 2);
    }
    // Dots of different days have different colours.
    let colour = |i: usize| {
        doc.descendants()
            .filter(|n| n.has_tag_name("polyline"))
            .nth(i)
            .and_then(|n| n.attribute("stroke"))
            .map(str::to_owned)
    };
    assert_ne!(colour(0), colour(1));

    let texts: Vec<String> = doc
        .descendants()
        .filter(|n| n.has_tag_name("text"))
        .map(|n| n.text().unwrap_or_default().to_owned())
        .collect();
    for expected in ["Day 1", "Day 2", "Hotel", "© OpenStreetMap contributors"] {
        assert!(
            texts.iter().any(|t| t == expected),
            "{expected:?} not in {texts:?}"
        );
    }
    // The hotel square carries the hotel's name; stop names are escaped, not elements.
    let titles: Vec<String> = doc
        .descendants()
        .filter(|n| n.has_tag_name("title"))
        .map(|n| n.text().unwrap_or_default().to_owned())
        .collect();
    assert!(titles.iter().any(|t| t == "Hotel: Hotel Haven"));
    assert!(
        titles
            .iter()
            .any(|t| t.contains("<script>alert('x')</script> & Co"))
    );
    assert_eq!(count("script"), 0);

    // Every drawn point lies inside the picture.
    for n in doc.descendants().filter(|n| n.has_tag_name("circle")) {
        let x: f64 = n.attribute("cx").and_then(|v| v.parse().ok()).expect("cx");
        let y: f64 = n.attribute("cy").and_then(|v| v.parse().ok()).expect("cy");
        assert!((0.0..=640.0).contains(&x) && (0.0..=420.0).contains(&y));
    }
}

#[test]
fn route_svg_draws_the_walks_along_the_streets_over_the_street_map() {
    let mut plan = helsinki_plan();
    let hotel = tripwright_export_test_hotel(&plan);
    // Day 1's first walk bends through two street corners; the walk back through one.
    let first = {
        let s = &plan.itinerary.days[0].stops[0];
        GeoPoint::new(s.lat, s.lon)
    };
    let corner = [hotel.0, first.lon];
    plan.itinerary.days[0].stops[0].route =
        vec![[hotel.0, hotel.1], corner, [first.lat, first.lon]];
    let last = {
        let s = plan.itinerary.days[0].stops.last().expect("stops");
        GeoPoint::new(s.lat, s.lon)
    };
    plan.itinerary.days[0].route_back = vec![[last.lat, hotel.1]];
    let area = route_area(&plan, 640, 420).expect("an area");
    for s in plan.itinerary.days.iter().flat_map(|d| &d.stops) {
        assert!(
            area.contains(GeoPoint::new(s.lat, s.lon)),
            "{} in {area:?}",
            s.name
        );
    }
    // A street across the area, a footway and a lake.
    let mid = GeoPoint::new(
        (area.min_lat + area.max_lat) / 2.0,
        (area.min_lon + area.max_lon) / 2.0,
    );
    let street = MapFeature {
        layer: MapLayer::Road,
        class: "residential".into(),
        name: Some("Aleksanterinkatu".into()),
        rings: vec![vec![
            GeoPoint::new(mid.lat, area.min_lon - 0.01),
            GeoPoint::new(mid.lat, area.max_lon + 0.01),
        ]],
        nodes: vec![1, 2],
        walkable: true,
    };
    let footway = MapFeature {
        class: "footway".into(),
        ..street.clone()
    };
    let lake = MapFeature {
        layer: MapLayer::Water,
        class: "water".into(),
        name: None,
        rings: vec![vec![
            GeoPoint::new(area.min_lat, area.min_lon),
            GeoPoint::new(area.min_lat, mid.lon),
            GeoPoint::new(mid.lat, mid.lon),
            GeoPoint::new(area.min_lat, area.min_lon),
        ]],
        nodes: vec![],
        walkable: false,
    };
    let svg = route_svg(&plan, 640, 420, &[street.clone(), footway, lake]);
    let doc = roxmltree::Document::parse(&svg).expect("well-formed XML");
    // The map is clipped to its frame, drawn first, in the tiles' colours.
    assert!(svg.contains(r#"<clipPath id="map">"#));
    let group = doc
        .descendants()
        .find(|n| n.attribute("clip-path") == Some("url(#map)"))
        .expect("the basemap group");
    let water: Vec<_> = group
        .descendants()
        .filter(|n| n.attribute("fill") == Some("#aad3df"))
        .collect();
    assert_eq!(water.len(), 1);
    // The street: a casing and a white fill; the footway a hairline.
    let strokes: Vec<&str> = group
        .descendants()
        .filter(|n| n.has_tag_name("polyline"))
        .filter_map(|n| n.attribute("stroke"))
        .collect();
    assert_eq!(strokes, ["#c9c2b8", "#ffffff", "#b8b0a4"]);
    // Day 1's route: hotel, the two corners of the first walk, the stops, the corner back,
    // the hotel (the first walk's own ends coincide with the hotel and the stop).
    let routes: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("polyline") && n.attribute("stroke-opacity").is_some())
        .collect();
    assert_eq!(routes.len(), plan.itinerary.days.len());
    let pts = routes[0]
        .attribute("points")
        .unwrap_or_default()
        .split(' ')
        .count();
    assert_eq!(pts, plan.itinerary.days[0].stops.len() + 2 + 2);
    // Stops are numbered as in the itinerary.
    let numbers: Vec<String> = doc
        .descendants()
        .filter(|n| n.has_tag_name("text") && n.attribute("font-weight") == Some("bold"))
        .map(|n| n.text().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(numbers.len(), stop_count(&plan));
    assert_eq!(numbers[0], "1");
    assert_eq!(numbers[1], "2");
    // And the PDF typesets with it.
    let pdf = plan_pdf(&plan, &fonts(), &[street]).expect("plan PDF");
    assert!(pdf.starts_with(b"%PDF"));
}

/// The plan's hotel's position.
fn tripwright_export_test_hotel(plan: &Plan) -> (f64, f64) {
    let h = plan.hotel().expect("the fixture has a hotel");
    (h.lat, h.lon)
}

#[test]
fn route_svg_without_stops() {
    let mut plan = helsinki_plan();
    plan.itinerary.days.clear();
    plan.hotels.clear();
    let svg = route_svg(&plan, 0, 0, &[]);
    let doc = roxmltree::Document::parse(&svg).expect("well-formed XML");
    assert!(svg.contains("No stops to show"));
    assert_eq!(
        doc.descendants()
            .filter(|n| n.has_tag_name("circle"))
            .count(),
        0
    );
    assert!(svg.contains("© OpenStreetMap contributors"));
}

/// The fixture with a stop described from its Wikipedia article, and its places' source.
fn plan_with_description() -> Plan {
    let mut plan = helsinki_plan();
    let stop = plan
        .itinerary
        .days
        .iter_mut()
        .flat_map(|d| &mut d.stops)
        .find(|s| s.name == "Päivälehden museo")
        .expect("the fixture has the museum");
    stop.description = Some(tripwright_domain::Description {
        text: "Päivälehti Museum is a museum of the press in Helsinki.".into(),
        url: "https://en.wikipedia.org/wiki/P%C3%A4iv%C3%A4lehti_Museum".into(),
    });
    plan.sources = vec![tripwright_domain::PlaceSource {
        source: "Helsinki.osm.pbf".into(),
        places: 23,
        imported_at: "2026-12-01T10:00:00Z".parse().expect("a time"),
    }];
    plan
}

#[test]
fn exports_carry_stop_descriptions_with_their_source_and_the_places_source() {
    let plan = plan_with_description();
    let md = plan_markdown(&plan);
    assert!(
        md.contains(
            "  Päivälehti Museum is a museum of the press in Helsinki. \
             ([Wikipedia](<https://en.wikipedia.org/wiki/P%C3%A4iv%C3%A4lehti_Museum>))\n"
        ),
        "{md}"
    );
    assert!(
        md.contains("stop descriptions: Wikipedia (CC BY-SA 4.0)"),
        "{md}"
    );
    assert!(
        md.contains("Hotels and stops from the OpenStreetMap extract Helsinki.osm.pbf, imported 2026-12-01 (23 places)."),
        "{md}"
    );
    let pdf = plan_pdf(&plan, &fonts(), &[]).expect("plan PDF");
    let text = squash(&pdf_text(&pdf));
    for expected in [
        "Päivälehti Museum is a museum of the press in Helsinki. Wikipedia",
        "stop descriptions: Wikipedia (CC BY-SA 4.0)",
        "Hotels and stops from the OpenStreetMap extract Helsinki.osm.pbf, imported 2026-12-01 (23 places).",
    ] {
        assert!(
            text.contains(expected),
            "{expected:?} missing from:\n{text}"
        );
    }
    // The link is in the PDF.
    assert!(
        pdf.windows(b"P%C3%A4iv%C3%A4lehti_Museum".len())
            .any(|w| w == b"P%C3%A4iv%C3%A4lehti_Museum"),
        "the article's address is a link in the PDF"
    );
    // Without descriptions, the attribution does not name Wikipedia.
    let plain = plan_markdown(&helsinki_plan());
    assert!(!plain.contains("Wikipedia"), "{plain}");
}
