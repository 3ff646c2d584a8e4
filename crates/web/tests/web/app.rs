//! The web app end to end: pages, the JSON API, the SSE stream, users and CSRF, sharing,
//! exports, the plan cache, cancellation and the OpenAPI document, on the server without a
//! language model; the prose of a plan and a day's rewrite on the server whose prose a
//! scripted model writes.
//!
//! Each test is a different user (its own cookie) and asks for a different trip, so that tests
//! do not see each other's plans or cache hits.

use serde_json::{Value, json};
use tripwright_testkit::scripted::Prompt;
use tripwright_testkit::server::Browser;

use crate::support::{
    anonymous, assert_valid_plan, base, browser, escaped, html_escape, scripted_base, trip,
    unescape, writer,
};

#[tokio::test(flavor = "multi_thread")]
async fn the_planner_page_has_the_form_layout_and_headers() {
    let mut b = Browser::on(base());
    let a = b.get("/").await;
    assert_eq!(a.status, 200);
    let html = a.text();
    for needle in [
        "<nav id=\"sidebar\"",
        "href=\"/plans\"",
        "href=\"/lists\"",
        "href=\"/notes\"",
        "href=\"/supermarkets\"",
        "<form id=\"plan-form\" method=\"post\" action=\"/plans\"",
        "id=\"destination\" name=\"destination\" type=\"text\" required",
        "list=\"destination-suggestions\"",
        "<datalist id=\"destination-suggestions\">",
        // The wishes box is empty, with an example as its placeholder.
        "<textarea id=\"prefs\" name=\"prefs\" rows=\"3\" maxlength=\"500\" placeholder=\"For example: a quiet hotel with a sauna, museums, coffee\"></textarea>",
        "id=\"days\" name=\"days\" type=\"range\" min=\"1\" max=\"14\"",
        "<output id=\"days-value\"",
        "<select id=\"month\" name=\"month\">",
        "<input id=\"start_date\" name=\"start_date\" type=\"date\"",
        "id=\"budget\" name=\"budget\" type=\"number\"",
        "id=\"currency\" name=\"currency\"",
        "id=\"travelers\" name=\"travelers\" type=\"number\"",
        "<button id=\"generate\" type=\"submit\">Generate Travel Plan</button>",
        "id=\"form-error\" role=\"alert\"",
        "<link rel=\"stylesheet\" href=\"/static/style.css\">",
        "<script type=\"module\" src=\"/static/planner.mjs\"></script>",
        "<footer id=\"attribution\">Map data © OpenStreetMap contributors (ODbL)",
    ] {
        assert!(html.contains(needle), "missing {needle}");
    }
    // No inline script or style (the CSP forbids them).
    assert!(!html.contains("<script>") && !html.contains("style="));
    let cookie = a.header("set-cookie");
    assert!(cookie.starts_with("tw_user="), "{cookie}");
    for attr in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=31536000"] {
        assert!(cookie.contains(attr), "{cookie}");
    }
    assert!(!cookie.contains("Secure"));
    let token = b.cookie.clone().expect("cookie");
    // The page embeds the token that goes with the cookie.
    let meta = html
        .split("<meta name=\"csrf-token\" content=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("csrf meta");
    assert!(html.contains(&format!("name=\"csrf\" value=\"{meta}\"")));
    assert_eq!(
        a.header("content-security-policy"),
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'; frame-ancestors 'none'"
    );
    assert_eq!(a.header("x-content-type-options"), "nosniff");
    assert_eq!(a.header("referrer-policy"), "same-origin");
    // A known user keeps the cookie: no new one.
    let again = b.get("/").await;
    assert_eq!(again.header("set-cookie"), "");
    assert_eq!(b.cookie.as_deref(), Some(token.as_str()));
    // A forged cookie is a new user.
    let mut forged = Browser::on(base());
    let (id, _) = token.split_once('.').expect("signed");
    forged.cookie = Some(format!("{id}.AAAA"));
    let a = forged.get("/").await;
    assert!(a.header("set-cookie").starts_with("tw_user="));
    assert_ne!(forged.cookie.as_deref(), Some(token.as_str()));
}

#[tokio::test(flavor = "multi_thread")]
async fn static_files_and_vendored_libraries_are_served_with_caching() {
    let mut b = Browser::on(base());
    for (path, ty) in [
        ("/static/planner.mjs", "text/javascript"),
        ("/static/plan.mjs", "text/javascript"),
        ("/static/vendor/htmx/htmx.min.js", "javascript"),
        ("/static/vendor/htmx/sse.min.js", "javascript"),
        ("/static/style.css", "text/css"),
        ("/static/vendor/leaflet/leaflet.js", "javascript"),
        ("/static/vendor/leaflet/leaflet.css", "text/css"),
        ("/static/vendor/topojson-client.min.js", "javascript"),
        ("/static/vendor/world-atlas/countries-110m.json", "json"),
    ] {
        let a = b.get(path).await;
        assert_eq!(a.status, 200, "{path}");
        assert!(
            a.header("content-type").contains(ty),
            "{path}: {}",
            a.header("content-type")
        );
        assert_eq!(a.header("cache-control"), "public, max-age=3600", "{path}");
        assert!(!a.body.is_empty());
    }
    for path in [
        "/static/nope.js",
        "/static/vendor/nope.js",
        "/static/vendor/..%2F..%2FCargo.toml",
        "/static/vendor/../../Cargo.toml",
    ] {
        let a = b.get(path).await;
        assert!(a.status == 404 || a.status == 400, "{path}: {}", a.status);
        assert!(!a.text().contains("[workspace]"));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_street_map_tiles_are_drawn_offline_and_cached_by_browsers() {
    let mut b = Browser::on(base());
    // Central Helsinki at zoom 16: the shipped extract's streets.
    let a = b.get("/tiles/16/37310/18969.png").await;
    assert_eq!(a.status, 200);
    assert_eq!(a.header("content-type"), "image/png");
    assert_eq!(a.header("cache-control"), "public, max-age=86400");
    assert!(a.body.starts_with(b"\x89PNG\r\n\x1a\n"), "a PNG");
    assert!(a.body.len() > 10_000, "drawn: {} bytes", a.body.len());
    // Far from any region with data: a transparent tile, so the outlines below show.
    let far = b.get("/tiles/16/0/0.png").await;
    assert_eq!(far.status, 200);
    assert!(
        far.body.starts_with(b"\x89PNG") && far.body.len() < 2_000,
        "{}",
        far.body.len()
    );
    // Kept a short while only: a region fetched for a plan may fill it.
    assert_eq!(far.header("cache-control"), "public, max-age=300");
    // Not tiles of the basemap: below zoom 12, outside the grid, not a number.
    for path in [
        "/tiles/11/1165/592.png",
        "/tiles/16/65536/1.png",
        "/tiles/16/1/abc.png",
        "/tiles/16/1/2",
        "/tiles/99/1/2.png",
    ] {
        assert_eq!(b.get(path).await.status, 404, "{path}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_plan_walks_along_the_streets() {
    let mut b = browser().await;
    let id = b.start_plan(&trip(2, "museums")).await;
    b.events(&id).await;
    let plan = b.get(&format!("/api/plans/{id}")).await.json();
    let days = plan["itinerary"]["days"].as_array().expect("days");
    let mut legs = 0;
    for d in days {
        for s in d["stops"].as_array().expect("stops") {
            let route = s["route"].as_array().expect("each walk is routed");
            assert!(route.len() >= 2, "{s}");
            // The walk ends at the stop, and is at least the straight line.
            let last = route.last().expect("a point");
            let (lat, lon) = (
                s["lat"].as_f64().expect("lat"),
                s["lon"].as_f64().expect("lon"),
            );
            assert!((last[0].as_f64().expect("lat") - lat).abs() < 1e-5, "{s}");
            assert!((last[1].as_f64().expect("lon") - lon).abs() < 1e-5, "{s}");
            legs += 1;
        }
        assert!(
            d["route_back"].as_array().is_some_and(|r| r.len() >= 2),
            "{d}"
        );
    }
    assert!(legs >= 4, "{legs} walks");
    let reachable = plan["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .find(|c| c["name"] == "reachable")
        .expect("the reachable check");
    assert_eq!(reachable["passed"], true, "{reachable}");
    assert!(
        reachable["detail"]
            .as_str()
            .is_some_and(|d| d.ends_with("walked along the streets")),
        "{reachable}"
    );
    // The PDF's route sketch is drawn over the same street map: its footpaths are hairlines
    // of their own colour (#b8b0a4), read back from the PDF with poppler's pdftocairo.
    let pdf = b.get(&format!("/plans/{id}/export.pdf")).await;
    assert_eq!(pdf.status, 200);
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("plan.pdf");
    std::fs::write(&file, &pdf.body).expect("written");
    let out = std::process::Command::new("pdftocairo")
        .arg("-svg")
        .arg(&file)
        .arg("-")
        .output()
        .expect("pdftocairo (poppler-utils) runs");
    let svg = String::from_utf8_lossy(&out.stdout);
    let paths = svg.matches("stroke:rgb(72.157").count();
    assert!(paths > 100, "{paths} footpaths drawn in the sketch");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_plan_is_renamed_by_the_api_or_the_form_and_the_name_shows_everywhere() {
    let mut b = browser().await;
    let id = b.start_plan(&trip(1, "rename me")).await;
    b.events(&id).await;
    let a = b
        .patch(
            &format!("/api/plans/{id}"),
            &json!({"title": "  Helsinki with Mum  "}),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.text());
    let plan = a.json();
    assert_valid_plan(&plan);
    assert_eq!(plan["title"], "Helsinki with Mum");
    // My plans, the plan's page and the exports call it by its name.
    let plans = b.get("/plans").await.text();
    assert!(
        plans.contains(&format!("<a href=\"/plans/{id}\">Helsinki with Mum</a>")),
        "{plans}"
    );
    assert!(
        plans.contains("value=\"Helsinki with Mum\""),
        "the rename box holds the name"
    );
    let page = b.get(&format!("/plans/{id}")).await.text();
    assert!(page.contains("Helsinki with Mum"), "{page}");
    let md = b.get(&format!("/plans/{id}/export.md")).await.text();
    assert!(md.starts_with("# Helsinki with Mum\n"), "{md}");
    let list = b.get("/api/plans").await.json();
    let row = list
        .as_array()
        .expect("a list")
        .iter()
        .find(|p| p["id"] == id.as_str())
        .expect("listed");
    assert_eq!(row["title"], "Helsinki with Mum");

    // Too long: refused with a sentence; nobody else can rename it.
    let a = b
        .patch(
            &format!("/api/plans/{id}"),
            &json!({"title": "x".repeat(81)}),
        )
        .await;
    assert_eq!(a.status, 400);
    assert_eq!(a.code(), "invalid_title");
    assert_eq!(
        a.message(),
        "a plan's name has at most 80 characters (no control characters)"
    );
    let mut other = browser().await;
    let a = other
        .patch(&format!("/api/plans/{id}"), &json!({"title": "Mine now"}))
        .await;
    assert_eq!(a.status, 404);

    // The form on My plans: an empty name gives it back its destination and length.
    let a = b
        .form(&format!("/plans/{id}/rename"), &[("title", "")], true)
        .await;
    assert_eq!(a.status, 303, "{}", a.text());
    assert_eq!(a.header("location"), "/plans");
    let plan = b.get(&format!("/api/plans/{id}")).await.json();
    assert!(plan.get("title").is_none(), "{plan}");
    let plans = b.get("/plans").await.text();
    assert!(
        plans.contains(&format!(
            "<a href=\"/plans/{id}\">Helsinki, Finland — 1 day</a>"
        )),
        "{plans}"
    );
    // Without the CSRF token the form is refused.
    let a = b
        .form(&format!("/plans/{id}/rename"), &[("title", "x")], false)
        .await;
    assert_eq!(a.status, 403);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_planner_says_before_planning_when_a_city_has_no_place_data() {
    let mut b = Browser::on(base());
    let a = b.get("/api/destination?q=helsinki").await;
    assert_eq!(a.status, 200, "{}", a.text());
    let known = a.json();
    assert_eq!(known["label"], "Helsinki, Finland");
    assert_eq!(known["places"], "stored");
    assert_eq!(known["notice"], Value::Null);
    // This test server has online lookups off: nothing can be fetched for Tokyo.
    let a = b.get("/api/destination?q=Tokyo").await;
    assert_eq!(a.status, 200, "{}", a.text());
    let unknown = a.json();
    assert_eq!(unknown["places"], "none");
    assert_eq!(
        unknown["notice"],
        "This server has no place data for Tokyo, Japan and cannot fetch any: the plan would \
         have the weather and the best months, but no hotels, stops or street map. Try a city \
         it has data for: Helsinki."
    );
    let a = b.get("/api/destination?q=Xyzzyqq").await;
    assert_eq!(a.status, 400);
    assert_eq!(a.code(), "unknown_destination");
    // The form has the place for it.
    let page = b.get("/").await.text();
    assert!(
        page.contains(
            "<p id=\"destination-notice\" class=\"field-notice\" role=\"status\" hidden></p>"
        ),
        "{page}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn two_edits_at_once_both_count_and_both_undo() {
    let mut b = browser().await;
    let id = b.start_plan(&trip(1, "two tabs")).await;
    b.events(&id).await;
    let original = b.get(&format!("/api/plans/{id}")).await.json();
    let stops = original["itinerary"]["days"][0]["stops"]
        .as_array()
        .expect("stops")
        .len();
    // A second tab of the same browser.
    let mut tab = Browser::on(base());
    tab.cookie.clone_from(&b.cookie);
    tab.csrf.clone_from(&b.csrf);
    let remove = json!({"op": "remove", "day": 1, "stop": 0});
    let path = format!("/api/plans/{id}/edits");
    let (one, two) = tokio::join!(b.post(&path, &remove), tab.post(&path, &remove));
    assert_eq!(
        (one.status, two.status),
        (200, 200),
        "{} {}",
        one.text(),
        two.text()
    );
    let plan = b.get(&format!("/api/plans/{id}")).await.json();
    let left = plan["itinerary"]["days"][0]["stops"]
        .as_array()
        .expect("stops")
        .len();
    assert_eq!(left, stops - 2, "one of the two removals was lost");
    for _ in 0..2 {
        let a = b
            .post(&format!("/api/plans/{id}/edits/undo"), &json!({}))
            .await;
        assert_eq!(a.status, 200, "{}", a.text());
    }
    assert_eq!(b.get(&format!("/api/plans/{id}")).await.json(), original);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_finished_plan_is_edited_through_the_api_and_undone() {
    let mut b = browser().await;
    let id = b.start_plan(&trip(2, "museums")).await;
    b.events(&id).await;
    let original = b.get(&format!("/api/plans/{id}")).await.json();
    let day1 = |plan: &Value| {
        plan["itinerary"]["days"][0]["stops"]
            .as_array()
            .expect("stops")
            .clone()
    };
    let first = day1(&original)[0]["name"]
        .as_str()
        .expect("a name")
        .to_owned();
    let stops = day1(&original).len();

    // Remove the first stop: the day is timed again from its start, the checks run again.
    let a = b
        .post(
            &format!("/api/plans/{id}/edits"),
            &json!({"op": "remove", "day": 1, "stop": 0}),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.text());
    let edited = a.json();
    assert_eq!(edited["message"], format!("Removed {first} from day 1."));
    assert_eq!(edited["undo"], 1);
    let plan = &edited["plan"];
    assert_valid_plan(plan);
    assert_eq!(day1(plan).len(), stops - 1);
    assert!(day1(plan).iter().all(|s| s["name"] != first.as_str()));
    assert!(
        plan["checks"]
            .as_array()
            .expect("checks")
            .iter()
            .any(|c| c["name"] == "reachable")
    );
    // The saved plan is the edited one.
    assert_eq!(&b.get(&format!("/api/plans/{id}")).await.json(), plan);

    // Move the new first stop to day 2; find a place and add it to day 1.
    let a = b
        .post(
            &format!("/api/plans/{id}/edits"),
            &json!({"op": "move", "day": 1, "stop": 0, "to_day": 2, "to": 99}),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.text());
    assert!(
        a.json()["message"]
            .as_str()
            .is_some_and(|m| m.ends_with("from day 1 to day 2."))
    );
    let found = b.get(&format!("/api/plans/{id}/places?q=galleria")).await;
    assert_eq!(found.status, 200, "{}", found.text());
    let choices = found.json();
    let choice = &choices.as_array().expect("a list")[0];
    assert!(
        choice["name"]
            .as_str()
            .is_some_and(|n| n.to_lowercase().contains("galleria")),
        "{choice}"
    );
    let a = b
        .post(
            &format!("/api/plans/{id}/edits"),
            &json!({"op": "add", "day": 1, "place": choice["id"]}),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.text());
    let added = a.json();
    assert_eq!(added["undo"], 3);
    assert!(
        day1(&added["plan"])
            .iter()
            .any(|s| s["name"] == choice["name"])
    );

    // Changes that cannot be made say why.
    for (edit, says) in [
        (
            json!({"op": "remove", "day": 9, "stop": 0}),
            "the plan has days 1 to 2, not day 9",
        ),
        (
            json!({"op": "add", "day": 1, "place": choice["id"]}),
            "that place is already in the plan",
        ),
        (
            json!({"op": "add", "day": 1, "place": "osm:node/1"}),
            "that place is not near this trip's destination",
        ),
    ] {
        let a = b.post(&format!("/api/plans/{id}/edits"), &edit).await;
        assert_eq!(a.status, 400, "{edit}: {}", a.text());
        assert_eq!(a.code(), "edit_refused");
        assert_eq!(a.message(), says);
    }
    let a = b
        .post(
            &format!("/api/plans/{id}/edits"),
            &json!({"op": "fly", "day": 1}),
        )
        .await;
    assert_eq!(a.status, 400);
    // Nobody else can change it or undo it.
    let mut other = browser().await;
    let a = other
        .post(
            &format!("/api/plans/{id}/edits"),
            &json!({"op": "remove", "day": 1, "stop": 0}),
        )
        .await;
    assert_eq!(a.status, 404);
    assert_eq!(
        other
            .post(&format!("/api/plans/{id}/edits/undo"), &json!({}))
            .await
            .status,
        404
    );

    // Undo, newest first, back to the plan as it was made.
    for left in [2, 1, 0] {
        let a = b
            .post(&format!("/api/plans/{id}/edits/undo"), &json!({}))
            .await;
        assert_eq!(a.status, 200, "{}", a.text());
        assert_eq!(a.json()["undo"], left);
    }
    assert_eq!(b.get(&format!("/api/plans/{id}")).await.json(), original);
    let a = b
        .post(&format!("/api/plans/{id}/edits/undo"), &json!({}))
        .await;
    assert_eq!(a.status, 400);
    assert_eq!(a.message(), "there is no change to undo");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_plan_streams_its_progress_in_order_and_is_saved() {
    let mut b = browser().await;
    let id = b.start_plan(&trip(2, "museums and a sauna")).await;
    let events = b.events(&id).await;
    let names: Vec<&str> = events.iter().map(|(e, _)| e.as_str()).collect();
    assert_eq!(names.last(), Some(&"done"), "{names:?}");
    assert_eq!(
        events.last().expect("done").1,
        json!({"id": id, "url": format!("/plans/{id}")})
    );
    // Each agent runs, then is done, with a time.
    for agent in ["weather", "hotels", "itinerary", "summary"] {
        let pos = |status: &str| {
            events
                .iter()
                .position(|(e, d)| e == "agent" && d["agent"] == agent && d["status"] == status)
        };
        let running = pos("running").unwrap_or_else(|| panic!("{agent} running: {events:?}"));
        let done = pos("done").unwrap_or_else(|| panic!("{agent} done"));
        assert!(running < done, "{agent}");
        let d = &events[done].1;
        assert!(d["elapsed_ms"].is_u64(), "{d}");
        assert_eq!(d["error"], Value::Null);
    }
    // The itinerary starts after weather and hotels are done.
    let at = |agent: &str, status: &str| {
        events
            .iter()
            .position(|(e, d)| e == "agent" && d["agent"] == agent && d["status"] == status)
            .expect("event")
    };
    assert!(at("weather", "done") < at("itinerary", "running"));
    assert!(at("hotels", "done") < at("itinerary", "running"));
    // The summary needs only the schedule (its text is built from the data): it is done
    // before the itinerary's notes are written, which it does not wait for.
    assert!(at("itinerary", "running") < at("summary", "running"));
    assert!(at("summary", "done") < at("itinerary", "done"));
    // Sections: partial ones while running, then all of them before `done`.
    let sections: Vec<&Value> = events
        .iter()
        .filter(|(e, _)| e == "section")
        .map(|(_, d)| d)
        .collect();
    let first_months = sections
        .iter()
        .position(|d| d["section"] == "months")
        .expect("months");
    assert!(
        first_months < sections.len() - 7,
        "months are sent as soon as known"
    );
    let tail: Vec<&str> = sections[sections.len() - 7..]
        .iter()
        .map(|d| d["section"].as_str().expect("name"))
        .collect();
    assert_eq!(
        tail,
        [
            "months",
            "hotels",
            "map",
            "itinerary",
            "summary",
            "checks",
            "warnings"
        ]
    );
    for d in &sections {
        if d["section"] == "map" {
            let data = &d["data"];
            assert!(data["days"].is_array(), "{d}");
            assert_eq!(data["attribution"], "© OpenStreetMap contributors");
            assert_eq!(data["tile_url"], Value::Null);
        } else {
            assert!(d["html"].is_string(), "{d}");
        }
    }
    let last_months = sections[sections.len() - 7]["html"].as_str().expect("html");
    assert_eq!(last_months.matches("<rect class=\"bar").count(), 12);
    assert_eq!(last_months.matches("class=\"bar top\"").count(), 3);
    let map = &sections[sections.len() - 5]["data"];
    assert_eq!(map["days"].as_array().expect("days").len(), 2);
    assert_eq!(map["days"][0]["color"], tripwright_domain::DAY_COLOURS[0]);
    assert!(map["hotel"]["name"].is_string(), "{map}");
    let stop = &map["days"][0]["stops"][0];
    for k in ["name", "lat", "lon", "start", "end", "kind"] {
        assert!(!stop[k].is_null(), "{stop}");
    }

    // The plan as JSON.
    let a = b.get(&format!("/api/plans/{id}")).await;
    assert_eq!(a.status, 200, "{}", a.text());
    let plan = a.json();
    assert_valid_plan(&plan);
    assert_eq!(plan["id"], id);
    assert_eq!(plan["request"]["prefs"], "museums and a sauna");
    assert_eq!(plan["itinerary"]["days"].as_array().expect("days").len(), 2);

    // The page, filled server-side.
    let a = b.get(&format!("/plans/{id}")).await;
    assert_eq!(a.status, 200);
    let html = a.text();
    let main = format!(
        "<main id=\"plan\" data-plan-id=\"{id}\" data-state=\"done\" data-events=\"/api/plans/{id}/events\">"
    );
    for needle in [
        main.as_str(),
        "<svg id=\"months-chart\" role=\"img\" aria-label=\"",
        "<ol id=\"best-months\">",
        "<li class=\"hotel top\">",
        "<section class=\"day\" data-day=\"1\">",
        "<section class=\"day\" data-day=\"2\">",
        "<li class=\"stop\"",
        "<p class=\"stop-note\">",
        "<button type=\"button\" class=\"regenerate-day\" data-day=\"1\">",
        "<table id=\"cost-table\">",
        "<li class=\"check\" data-check=\"grounded\" data-passed=\"true\"><span class=\"check-title\">Real places</span>: all ",
        "<span class=\"check-title\">Opening hours</span>",
        "<p class=\"plan-prefs\">Your wishes: <q>museums and a sauna</q></p>",
        "<a id=\"export-pdf\" href=\"/plans/",
        "<a id=\"export-ics\"",
        "<a id=\"export-json\"",
        "<a id=\"export-md\"",
        "<button type=\"button\" id=\"share\">",
        "<input id=\"share-url\" type=\"text\" readonly",
        "<li class=\"agent\" data-agent=\"weather\" data-status=\"done\">",
        "<link rel=\"stylesheet\" href=\"/static/vendor/leaflet/leaflet.css\">",
    ] {
        assert!(html.contains(needle), "missing {needle}");
    }
    assert!(!html.contains("style="));
    // The map's data, escaped into its attribute, is the stream's.
    let attr = html
        .split("<div id=\"map\" data-plan=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("data-plan");
    assert!(!attr.contains('<') && !attr.contains('\''));
    let data: Value = serde_json::from_str(&unescape(attr)).expect("data-plan is JSON");
    assert_eq!(&data, map);

    // The lists of plans.
    let list = b.get("/api/plans").await.json();
    let ids: Vec<&str> = list
        .as_array()
        .expect("list")
        .iter()
        .map(|p| p["id"].as_str().expect("id"))
        .collect();
    assert!(ids.contains(&id.as_str()), "{list}");
    assert_eq!(list[0]["state"], "made", "{list}");
    assert_eq!(list[0]["prefs"], "museums and a sauna", "{list}");
    assert!(list[0]["start_date"].is_string(), "{list}");
    let html = b.get("/plans").await.text();
    assert!(html.contains(&format!("href=\"/plans/{id}\"")), "{html}");
    assert!(html.contains("Helsinki, Finland — 2 days"));
    // Each row says when the trip is and what was wished.
    assert!(
        html.contains("<p class=\"plan-wishes\">Wishes: <q>museums and a sauna</q></p>"),
        "{html}"
    );
    let start = chrono::NaiveDate::parse_from_str(
        plan["itinerary"]["start_date"].as_str().expect("a date"),
        "%Y-%m-%d",
    )
    .expect("a date");
    let dates = tripwright_domain::date_range(start, start + chrono::Days::new(1));
    assert!(
        html.contains(&format!("<span class=\"plan-dates\">{dates}</span>")),
        "{dates}: {html}"
    );

    // A later stream sends the final sections and `done` at once.
    let again = b.events(&id).await;
    assert_eq!(again.last().expect("done").0, "done");
}

#[tokio::test(flavor = "multi_thread")]
async fn other_users_and_strangers_cannot_see_a_plan() {
    let mut owner = browser().await;
    let id = owner.make_plan(&trip(1, "other users test")).await;
    let mut other = browser().await;
    let mut stranger = anonymous();
    for who in [&mut other, &mut stranger] {
        for path in [
            format!("/plans/{id}"),
            format!("/api/plans/{id}"),
            format!("/api/plans/{id}/events"),
            format!("/plans/{id}/export.json"),
            format!("/plans/{id}/export.ics"),
            format!("/plans/{id}/export.pdf"),
            format!("/plans/{id}/export.md"),
        ] {
            let a = who.get(&path).await;
            assert_eq!(a.status, 404, "{path}");
            assert!(!a.text().contains("other users test"), "{path}");
        }
        let a = who
            .post(&format!("/api/plans/{id}/share"), &json!({}))
            .await;
        assert_eq!(a.status, 404);
        let a = who
            .post(&format!("/api/plans/{id}/cancel"), &json!({}))
            .await;
        assert_eq!(a.status, 404);
        let a = who
            .post(&format!("/api/plans/{id}/days/1/regenerate"), &json!({}))
            .await;
        assert_eq!(a.status, 404);
    }
    // The 404 page links home.
    let a = other.get(&format!("/plans/{id}")).await;
    assert!(a.text().contains("href=\"/\""));
    assert!(a.header("content-type").starts_with("text/html"));
    let a = other.get("/api/plans").await.json();
    assert_eq!(a, json!([]));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deleted_plan_is_gone_at_once_and_can_be_brought_back_for_a_while() {
    let mut b = browser().await;
    let id = b.make_plan(&trip(1, "delete me")).await;
    let kept = b.make_plan(&trip(1, "keep me")).await;
    let share = b
        .post(&format!("/api/plans/{id}/share"), &json!({}))
        .await
        .json()["url"]
        .as_str()
        .expect("a link")
        .to_owned();
    // Each made plan has its delete button, asking first.
    let html = b.get("/plans").await.text();
    assert!(
        html.contains(&format!(
            "<form class=\"delete-plan\" method=\"post\" action=\"/plans/{id}/delete\" data-confirm=\"Delete Helsinki, Finland — 1 day?\">"
        )),
        "{html}"
    );
    // Someone else cannot delete it.
    let mut other = browser().await;
    assert_eq!(other.delete(&format!("/api/plans/{id}")).await.status, 404);
    // Deleted from the page: back on My plans, with the undo.
    let a = b.form(&format!("/plans/{id}/delete"), &[], true).await;
    assert_eq!(a.status, 303, "{}", a.text());
    assert_eq!(a.header("location"), format!("/plans?deleted={id}"));
    let html = b.get(&format!("/plans?deleted={id}")).await.text();
    assert!(
        html.contains(&format!(
            "<form id=\"undo-delete\" class=\"notice notice-status\" role=\"status\" method=\"post\" action=\"/plans/{id}/restore\">"
        )),
        "{html}"
    );
    assert!(!html.contains(&format!("href=\"/plans/{id}\"")), "{html}");
    assert!(html.contains(&format!("href=\"/plans/{kept}\"")), "{html}");
    // Gone everywhere at once: its page, the API, its share link, a list for it.
    assert_eq!(b.get(&format!("/plans/{id}")).await.status, 404);
    assert_eq!(b.get(&format!("/api/plans/{id}")).await.status, 404);
    assert_eq!(b.get(&share).await.status, 404);
    let list = b.get("/api/plans").await.json();
    assert!(!list.to_string().contains(&id), "{list}");
    assert_eq!(b.delete(&format!("/api/plans/{id}")).await.status, 404);
    // Undone: back as it was, share link included.
    let a = b.form(&format!("/plans/{id}/restore"), &[], true).await;
    assert_eq!(a.status, 303, "{}", a.text());
    assert_eq!(a.header("location"), format!("/plans/{id}"));
    assert_eq!(b.get(&format!("/plans/{id}")).await.status, 200);
    assert_eq!(b.get(&share).await.status, 200);
    // Through the API too; a second restore finds nothing to bring back.
    assert_eq!(b.delete(&format!("/api/plans/{id}")).await.status, 204);
    assert_eq!(b.get(&format!("/api/plans/{id}")).await.status, 404);
    let a = b
        .post(&format!("/api/plans/{id}/restore"), &json!({}))
        .await;
    assert_eq!(a.status, 204, "{}", a.text());
    assert_eq!(b.get(&format!("/api/plans/{id}")).await.status, 200);
    let a = b
        .post(&format!("/api/plans/{id}/restore"), &json!({}))
        .await;
    assert_eq!(a.status, 404);
    // Without the CSRF token, nothing happens.
    let a = b.form(&format!("/plans/{id}/delete"), &[], false).await;
    assert_eq!(a.status, 403);
    assert_eq!(b.get(&format!("/plans/{id}")).await.status, 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_share_link_is_read_only_and_works_without_a_cookie() {
    let mut owner = browser().await;
    let id = owner.make_plan(&trip(1, "share me")).await;
    let a = owner
        .post(&format!("/api/plans/{id}/share"), &json!({}))
        .await;
    assert_eq!(a.status, 200, "{}", a.text());
    let link = a.json();
    let url = link["url"].as_str().expect("url").to_owned();
    assert_eq!(
        url,
        format!("/share/{}", link["token"].as_str().expect("token"))
    );
    // The same link every time.
    let again = owner
        .post(&format!("/api/plans/{id}/share"), &json!({}))
        .await;
    assert_eq!(again.json()["url"], url.as_str());

    let mut anyone = anonymous();
    let a = anyone.get(&url).await;
    assert_eq!(a.status, 200);
    let html = a.text();
    assert!(html.contains("data-state=\"done\""));
    assert!(html.contains("share me"));
    // Read-only, and said so; the wishes are the traveller's, not the reader's.
    assert!(
        html.contains("<p class=\"shared-banner\" role=\"note\">A shared plan, read-only.</p>"),
        "{html}"
    );
    assert!(
        html.contains("The traveller's wishes: <q>share me</q>"),
        "{html}"
    );
    assert!(!html.contains("Your wishes"), "{html}");
    assert!(html.contains("<table id=\"cost-table\">"));
    assert!(!html.contains("regenerate-day"), "read-only");
    assert!(!html.contains("id=\"share\""), "read-only");
    assert!(!html.contains("data-events="), "no owner stream");
    assert!(html.contains(&format!("href=\"{url}/export.json\"")));
    let a = anyone.get(&format!("{url}/export.json")).await;
    assert_eq!(a.status, 200);
    assert_valid_plan(&a.json());
    // The link gives no write access.
    let a = anyone
        .post(&format!("/api/plans/{id}/days/1/regenerate"), &json!({}))
        .await;
    assert_eq!(a.status, 404);
    assert_eq!(anyone.get("/share/not-a-token").await.status, 404);
    assert_eq!(
        anyone.get("/share/not-a-token/export.json").await.status,
        404
    );
    // Only the owner ends the link; then it works no more, and sharing again makes a new one.
    let a = anyone.delete(&format!("/api/plans/{id}/share")).await;
    assert_eq!(a.status, 404);
    assert_eq!(anyone.get(&url).await.status, 200);
    let a = owner.delete(&format!("/api/plans/{id}/share")).await;
    assert_eq!(a.status, 204, "{}", a.text());
    assert_eq!(anyone.get(&url).await.status, 404);
    assert_eq!(anyone.get(&format!("{url}/export.json")).await.status, 404);
    let a = owner.delete(&format!("/api/plans/{id}/share")).await;
    assert_eq!(a.status, 404, "nothing left to end");
    let a = owner
        .post(&format!("/api/plans/{id}/share"), &json!({}))
        .await;
    assert_ne!(a.json()["url"], url.as_str(), "a new link");
}

#[tokio::test(flavor = "multi_thread")]
async fn cookie_holders_must_send_the_csrf_token() {
    let mut b = browser().await;
    let token = b.csrf.take().expect("token");
    let req = trip(1, "csrf test");
    // No token.
    let a = b.post("/api/plans", &req).await;
    assert_eq!(a.status, 403);
    assert_eq!(a.json()["error"]["code"], "csrf");
    assert!(
        a.json()["error"]["message"]
            .as_str()
            .expect("msg")
            .contains("reload the page")
    );
    // Someone else's token.
    let other = browser().await;
    b.csrf = other.csrf.clone();
    assert_eq!(b.post("/api/plans", &req).await.status, 403);
    // The right one.
    b.csrf = Some(token.clone());
    let a = b.post("/api/plans", &req).await;
    assert_eq!(a.status, 202, "{}", a.text());
    // The form: the hidden field carries it.
    let form = [
        ("destination", "Helsinki"),
        ("days", "1"),
        ("prefs", "form csrf test"),
        ("month", ""),
        ("budget", ""),
        ("currency", ""),
        ("travelers", "1"),
    ];
    let a = b.form("/plans", &form, false).await;
    assert_eq!(a.status, 403);
    let mut with = form.to_vec();
    with.push(("csrf", &token));
    let a = b.form("/plans", &with, false).await;
    assert_eq!(a.status, 303, "{}", a.text());
    let location = a.header("location").to_owned();
    assert!(location.starts_with("/plans/"), "{location}");
    // The page of the new plan opens (running or done).
    let a = b.get(&location).await;
    assert_eq!(a.status, 200);
    // An API client without a cookie needs no token and becomes a new user.
    let mut api = anonymous();
    let a = api.post("/api/plans", &trip(1, "api client")).await;
    assert_eq!(a.status, 202, "{}", a.text());
    assert!(a.header("set-cookie").starts_with("tw_user="));
}

#[tokio::test(flavor = "multi_thread")]
async fn user_text_is_escaped_everywhere() {
    let mut b = browser().await;
    let token = b.csrf.clone().expect("token");
    let evil = "<script>alert(1)</script>";
    // An unknown destination: 400 with the reason, escaped in the page.
    let a = b
        .form(
            "/plans",
            &[("destination", evil), ("days", "2"), ("csrf", &token)],
            false,
        )
        .await;
    assert_eq!(a.status, 400);
    let html = a.text();
    assert!(escaped(&html, evil), "{html}");
    assert!(
        html.contains("<p class=\"error-message\">Unknown destination"),
        "{html}"
    );
    // A misspelt city: the closest names, each a button that fills the form in.
    let a = b
        .form(
            "/plans",
            &[("destination", "Helsimki"), ("days", "2"), ("csrf", &token)],
            false,
        )
        .await;
    assert_eq!(a.status, 400);
    let html = a.text();
    assert!(
        html.contains(
            "<p class=\"error-message\">Unknown destination &#34;Helsimki&#34;. Did you mean:</p>"
        ) || html.contains(
            "<p class=\"error-message\">Unknown destination &quot;Helsimki&quot;. Did you mean:</p>"
        ),
        "{html}"
    );
    assert!(
        html.contains(
            "<button type=\"button\" class=\"suggestion secondary\" data-destination=\"Helsinki, Finland\">Helsinki, Finland</button>"
        ),
        "{html}"
    );
    let a = b.post("/api/plans", &json!({"destination": evil})).await;
    assert_eq!(a.status, 400);
    assert_eq!(a.json()["error"]["code"], "unknown_destination");
    assert!(a.header("content-type").starts_with("application/json"));
    // Unknown fields and bad values are refused with a reason.
    let a = b
        .post("/api/plans", &json!({"destination": "Helsinki", "dayz": 3}))
        .await;
    assert_eq!(a.status, 400);
    assert_eq!(a.json()["error"]["code"], "invalid_json");
    assert!(a.text().contains("dayz"));
    let a = b
        .post(
            "/api/plans",
            &json!({"destination": "Helsinki", "days": 30}),
        )
        .await;
    assert_eq!(a.status, 400);
    assert_eq!(a.json()["error"]["code"], "days_out_of_range");
    assert!(a.json()["error"]["hint"].is_string());
    // A plan whose wishes hold markup shows them as text.
    let id = b.make_plan(&trip(1, evil)).await;
    let html = b.get(&format!("/plans/{id}")).await.text();
    assert!(escaped(&html, evil), "{html}");
}

#[tokio::test(flavor = "multi_thread")]
async fn exports_download_with_their_names() {
    let mut b = browser().await;
    let id = b.make_plan(&trip(2, "exports test")).await;
    let plan = b.get(&format!("/api/plans/{id}")).await.json();
    let start = plan["itinerary"]["start_date"]
        .as_str()
        .expect("date")
        .to_owned();
    let a = b.get(&format!("/plans/{id}/export.json")).await;
    assert_eq!(a.status, 200);
    assert!(a.header("content-type").starts_with("application/json"));
    assert_eq!(
        a.header("content-disposition"),
        format!("attachment; filename=\"tripwright-helsinki-{start}.json\"")
    );
    assert_valid_plan(&a.json());
    let name = |ext: &str| format!("attachment; filename=\"tripwright-helsinki-{start}.{ext}\"");

    // iCalendar: CRLF lines of at most 75 octets, balanced components, one event per stop.
    let a = b.get(&format!("/plans/{id}/export.ics")).await;
    assert_eq!(a.status, 200);
    assert!(a.header("content-type").starts_with("text/calendar"));
    assert_eq!(a.header("content-disposition"), name("ics"));
    let ics = a.text();
    assert!(ics.ends_with("\r\n"));
    let mut stack = Vec::new();
    let mut events = 0;
    let unfolded = ics.replace("\r\n ", "");
    for line in unfolded.split("\r\n").filter(|l| !l.is_empty()) {
        let (name, value) = line
            .split_once(':')
            .unwrap_or_else(|| panic!("bad line {line:?}"));
        match name {
            "BEGIN" => stack.push(value.to_owned()),
            "END" => {
                assert_eq!(stack.pop().as_deref(), Some(value), "{ics}");
                events += usize::from(value == "VEVENT");
            }
            _ => assert!(!stack.is_empty(), "{line:?} outside a component"),
        }
    }
    assert!(stack.is_empty());
    for line in ics.split("\r\n") {
        assert!(line.len() <= 75, "{line:?}");
    }
    let stops: usize = plan["itinerary"]["days"]
        .as_array()
        .expect("days")
        .iter()
        .map(|d| d["stops"].as_array().expect("stops").len())
        .sum();
    assert_eq!(events, stops);

    let a = b.get(&format!("/plans/{id}/export.md")).await;
    assert_eq!(a.status, 200);
    assert!(a.header("content-type").starts_with("text/markdown"));
    assert_eq!(a.header("content-disposition"), name("md"));
    assert!(a.text().contains("Helsinki"));

    let a = b.get(&format!("/plans/{id}/export.pdf")).await;
    assert_eq!(a.status, 200, "{}", a.text());
    assert_eq!(a.header("content-type"), "application/pdf");
    assert_eq!(a.header("content-disposition"), name("pdf"));
    assert!(a.body.starts_with(b"%PDF"), "a PDF");

    assert_eq!(b.get(&format!("/plans/{id}/export.exe")).await.status, 404);
    assert_eq!(b.get(&format!("/plans/{id}/export")).await.status, 404);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_identical_request_is_answered_from_the_cache() {
    let mut b = browser().await;
    let req = trip(3, "cache test: design and coffee");
    let first = b.make_plan(&req).await;
    let second = b.start_plan(&req).await;
    assert_ne!(first, second);
    // Done at once: no agent runs again.
    let events = b.events(&second).await;
    assert!(
        !events
            .iter()
            .any(|(e, d)| e == "agent" && d["status"] == "running"),
        "{events:?}"
    );
    assert_eq!(events.last().expect("done").0, "done");
    let mut p1 = b.get(&format!("/api/plans/{first}")).await.json();
    let mut p2 = b.get(&format!("/api/plans/{second}")).await.json();
    assert_eq!(p2["id"], second);
    for p in [&mut p1, &mut p2] {
        let o = p.as_object_mut().expect("object");
        o.remove("id");
        o.remove("created_at");
    }
    assert_eq!(p1, p2);
    // Both are the caller's saved plans.
    let list = b.get("/api/plans").await.json();
    assert_eq!(list.as_array().expect("list").len(), 2, "{list}");
    // Another user asking the same gets their own copy.
    let mut other = browser().await;
    let third = other.start_plan(&req).await;
    assert_eq!(other.events(&third).await.last().expect("end").0, "done");
    assert_eq!(b.get(&format!("/api/plans/{third}")).await.status, 404);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_running_plan_can_be_cancelled() {
    let mut b = browser().await;
    // The plan takes a while (hotel embeddings, 14 days); cancel at once. Should the plan
    // win the race on a fast machine, try again with another request.
    let mut cancelled = None;
    for attempt in 0..5 {
        let id = b
            .start_plan(&json!({"destination": "Helsinki", "days": 14, "prefs": format!("cancel test {attempt}")}))
            .await;
        let a = b.post(&format!("/api/plans/{id}/cancel"), &json!({})).await;
        if a.status == 202 {
            assert_eq!(a.json()["state"], "cancelled");
            cancelled = Some(id);
            break;
        }
        assert_eq!(a.status, 409, "{}", a.text());
        assert_eq!(a.json()["error"]["code"], "not_running");
    }
    let id = cancelled.expect("one of five plans was cancelled while running");
    let events = b.events(&id).await;
    assert_eq!(events.last(), Some(&("cancelled".to_owned(), json!({}))));
    assert!(!events.iter().any(|(e, _)| e == "done"));
    let a = b.get(&format!("/api/plans/{id}")).await;
    assert_eq!(a.status, 404);
    assert_eq!(a.json()["error"]["code"], "plan_cancelled");
    let html = b.get(&format!("/plans/{id}")).await.text();
    assert!(html.contains("data-state=\"cancelled\""));
    assert!(html.contains("class=\"try-again\""));
    // Never saved as a plan, but listed as cancelled, in the API and on My plans.
    let list = b.get("/api/plans").await.json();
    let row = list
        .as_array()
        .expect("a list")
        .iter()
        .find(|p| p["id"] == id.as_str())
        .unwrap_or_else(|| panic!("{list}"));
    assert_eq!(row["state"], "cancelled", "{row}");
    let html = b.get("/plans").await.text();
    assert!(
        html.contains(&format!(
            "<li class=\"plan-item\" data-state=\"cancelled\"><a href=\"/plans/{id}\">"
        )) && html.contains("<span class=\"plan-state\">Cancelled</span>"),
        "{html}"
    );
    // A second cancel is refused.
    let a = b.post(&format!("/api/plans/{id}/cancel"), &json!({})).await;
    assert_eq!(a.status, 409);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_day_is_resent_when_asked_to_be_rewritten_without_a_model() {
    let mut b = browser().await;
    let id = b.make_plan(&trip(2, "rewrite test")).await;
    let a = b
        .post(&format!("/api/plans/{id}/days/2/regenerate"), &json!({}))
        .await;
    assert_eq!(a.status, 202, "{}", a.text());
    let events = b.events(&id).await;
    let section = events
        .iter()
        .find(|(e, d)| e == "section" && d["section"] == "itinerary")
        .expect("the itinerary is sent again");
    assert_eq!(section.1["day"], 2);
    assert!(
        section.1["html"]
            .as_str()
            .expect("html")
            .contains("data-day=\"2\"")
    );
    assert_eq!(events.last().expect("end").0, "done");
    for (path, code) in [
        ("days/3/regenerate", 400),
        ("days/0/regenerate", 400),
        ("days/x/regenerate", 400),
    ] {
        let a = b.post(&format!("/api/plans/{id}/{path}"), &json!({})).await;
        assert_eq!(a.status, code, "{path}: {}", a.text());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_documented_route_answers() {
    let mut b = browser().await;
    let id = b.make_plan(&trip(1, "openapi test")).await;
    let a = b.get("/api/openapi.json").await;
    assert_eq!(a.status, 200);
    let doc = a.json();
    assert!(doc["openapi"].as_str().expect("version").starts_with("3.1"));
    let schemas = &doc["components"]["schemas"];
    for name in [
        "Plan",
        "TripRequest",
        "Itinerary",
        "ErrorBody",
        "PlanStarted",
    ] {
        assert!(schemas[name].is_object(), "{name} in components");
    }
    assert!(
        !doc.to_string().contains("#/$defs/"),
        "references are rebased"
    );
    let paths = doc["paths"].as_object().expect("paths");
    let mut documented = Vec::new();
    for (path, item) in paths {
        for method in item.as_object().expect("item").keys() {
            documented.push(format!("{} {path}", method.to_uppercase()));
            // A real plan id where a plan is meant; other ids are made up, and a handler's
            // own JSON "not found" shows the route exists all the same.
            let url = path
                .replace("{id}", &id)
                .replace("{n}", "1")
                .replace("{item}", "00000000-0000-4000-8000-000000000000");
            let body = json!({"destination": "Helsinki", "days": 1, "prefs": "openapi post"});
            let a = match method.as_str() {
                "get" => b.get(&url).await,
                "post" => b.post(&url, &body).await,
                other => {
                    let m = reqwest::Method::from_bytes(other.to_uppercase().as_bytes())
                        .expect("an HTTP method");
                    let mut r = b
                        .http
                        .request(m, format!("{}{url}", b.base))
                        .header("content-type", "application/json")
                        .body(body.to_string());
                    if let Some(t) = &b.csrf {
                        r = r.header("x-csrf-token", t);
                    }
                    b.send(r).await
                }
            };
            assert_ne!(a.status, 405, "{method} {path}: {}", a.text());
            if a.status == 404 {
                let code = a.json()["error"]["code"].clone();
                assert!(
                    code.is_string() && code != "unknown_endpoint",
                    "{method} {path} is not routed: {}",
                    a.text()
                );
            }
        }
    }
    // The document lists every route of the plans API (the other documented ones answered above).
    for route in [
        "GET /api/destinations",
        "GET /api/openapi.json",
        "GET /api/plans",
        "GET /api/plans/{id}",
        "GET /api/plans/{id}/events",
        "GET /api/session",
        "POST /api/plans",
        "POST /api/plans/{id}/cancel",
        "POST /api/plans/{id}/days/{n}/regenerate",
        "POST /api/plans/{id}/share",
        "DELETE /api/plans/{id}",
        "POST /api/plans/{id}/restore",
    ] {
        assert!(
            documented.iter().any(|d| d == route),
            "{route} is documented"
        );
    }
    // And what is not documented is not routed.
    for path in ["/api/nothing", "/api/plans/x/nothing", "/api/v2/plans"] {
        let a = b.get(path).await;
        assert_eq!(a.status, 404, "{path}");
        assert_eq!(a.json()["error"]["code"], "unknown_endpoint", "{path}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn destinations_are_suggested_from_the_gazetteer() {
    let mut b = Browser::on(base());
    let list = b.get("/api/destinations?q=Hel").await.json();
    let items = list.as_array().expect("list");
    assert!(!items.is_empty() && items.len() <= 10, "{list}");
    assert!(
        items.contains(
            &json!({"name": "Helsinki", "country": "Finland", "label": "Helsinki, Finland"})
        ),
        "{list}"
    );
    assert_eq!(b.get("/api/destinations?q=").await.json(), json!([]));
    assert_eq!(b.get("/api/destinations").await.json(), json!([]));
    let odd = b.get("/api/destinations?q=%3Cscript%3E").await;
    assert_eq!(odd.status, 200);
    assert_eq!(odd.json(), json!([]));
}

#[tokio::test(flavor = "multi_thread")]
async fn empty_states_and_placeholder_pages() {
    let mut b = Browser::on(base());
    let html = b.get("/plans").await.text();
    assert!(
        html.contains("No plans yet — make one on the <a href=\"/\">Planner page</a>"),
        "{html}"
    );
    // The sidebar's other pages answer (the trip lists, notes and supermarkets).
    for path in ["/lists", "/notes", "/supermarkets"] {
        let a = b.get(path).await;
        assert_eq!(a.status, 200, "{path}");
        assert!(a.text().contains("<nav id=\"sidebar\""), "{path}");
    }
    let a = b.get("/plans/00000000-0000-4000-8000-000000000000").await;
    assert_eq!(a.status, 404);
    assert!(a.text().contains("href=\"/\""));
    let a = b.get("/no/such/page").await;
    assert_eq!(a.status, 404);
    assert_eq!(b.get("/healthz").await.text(), "ok");
}

#[tokio::test(flavor = "multi_thread")]
async fn v1_answers_503_without_a_model() {
    let mut b = Browser::on(base());
    let a = b.get("/v1/models").await;
    assert_eq!(a.status, 503);
    // Data-only answers carry the security headers too.
    for answer in [&a, &b.get("/healthz").await] {
        assert_eq!(
            answer.header("content-security-policy"),
            "default-src 'none'; frame-ancestors 'none'"
        );
        assert_eq!(answer.header("x-content-type-options"), "nosniff");
        assert_eq!(answer.header("referrer-policy"), "same-origin");
    }
    let e = a.json();
    assert_eq!(e["error"]["type"], "server_error");
    assert_eq!(e["error"]["code"], "model_unavailable");
    let a = b
        .post(
            "/v1/chat/completions",
            &json!({"model": "x", "messages": []}),
        )
        .await;
    assert_eq!(a.status, 503);
}

/// What a plan's `text` events wrote into one stop's note: the pieces of its last attempt,
/// and the text it was finally replaced by.
fn streamed(events: &[(String, Value)], day: u8, stop: usize) -> (String, String) {
    let mut pieces = String::new();
    let mut kept = None;
    for (_, d) in events
        .iter()
        .filter(|(e, d)| e == "text" && d["day"] == json!(day) && d["stop"] == json!(stop))
    {
        let text = d["text"].as_str().expect("text");
        if d["replace"] == true {
            kept = Some(text.to_owned());
            if text.is_empty() {
                pieces.clear();
            }
        } else {
            assert!(kept.is_none(), "pieces after the kept text: {d}");
            pieces.push_str(text);
        }
    }
    (
        pieces,
        kept.unwrap_or_else(|| panic!("no kept text for day {day}, stop {stop}")),
    )
}

/// Day 1 of a plan as JSON: its intro, its stops' names and notes.
fn day_one(plan: &Value) -> (String, Vec<String>, Vec<String>) {
    let day = &plan["itinerary"]["days"][0];
    // The sights and artworks: meals and coffee breaks get no note.
    let stops: Vec<&Value> = day["stops"]
        .as_array()
        .expect("stops")
        .iter()
        .filter(|s| s["kind"] == "sight" || s["kind"] == "artwork")
        .collect();
    let field = |k: &str| -> Vec<String> {
        stops
            .iter()
            .map(|s| s[k].as_str().expect("a string").to_owned())
            .collect()
    };
    (
        day["intro"].as_str().expect("intro").to_owned(),
        field("name"),
        field("note"),
    )
}

/// Checks that day 1's texts streamed as the writer wrote them and are what `plan` holds.
fn assert_day_one_streamed(events: &[(String, Value)], plan: &Value) {
    let (intro, stops, notes) = day_one(plan);
    assert!(!stops.is_empty(), "{plan}");
    // The intro is built from the day's stops: it names the first.
    assert!(intro.contains(&stops[0]), "{intro}");
    let w = writer();
    // Each sight's place among all of the day's stops (its slot in the stream).
    let slots: Vec<usize> = plan["itinerary"]["days"][0]["stops"]
        .as_array()
        .expect("stops")
        .iter()
        .enumerate()
        .filter(|(_, s)| s["kind"] == "sight" || s["kind"] == "artwork")
        .map(|(i, _)| i)
        .collect();
    for ((name, note), i) in stops.iter().zip(&notes).zip(slots) {
        let written = w.note(name).unwrap_or_else(|| panic!("a note on {name}"));
        assert_eq!(
            streamed(events, 1, i),
            (written.clone(), written.clone()),
            "{name}"
        );
        assert_eq!(note, &written, "{name}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn prose_streams_and_a_day_is_rewritten_by_the_model() {
    let mut b = Browser::signed_in(scripted_base()).await;
    let id = b.make_plan(&trip(1, "museums and coffee")).await;
    let events = b.events(&id).await;
    let plan = b.get(&format!("/api/plans/{id}")).await.json();
    // The scripted writer's texts, streamed as they were written and kept whole in the plan.
    assert_day_one_streamed(&events, &plan);
    let (old_intro, stops, notes) = day_one(&plan);
    // How far the writing is: one `writing` event per text written, counting up to all.
    let writing: Vec<&Value> = events
        .iter()
        .filter(|(e, _)| e == "writing")
        .map(|(_, d)| d)
        .collect();
    let texts = events
        .iter()
        .filter(|(e, d)| e == "text" && d["replace"] == true)
        .map(|(_, d)| (d["day"].clone(), d["stop"].clone()))
        .collect::<std::collections::HashSet<_>>()
        .len();
    assert_eq!(writing.len(), texts, "{writing:?}");
    for (i, w) in writing.iter().enumerate() {
        assert_eq!(w["done"], i + 1, "{w}");
        assert_eq!(w["total"], texts, "{w}");
        assert!(w["elapsed_ms"].is_u64(), "{w}");
    }
    assert_eq!(writing.last().expect("one")["seconds_left"], Value::Null);
    if writing.len() > 1 {
        assert!(
            writing[0]["seconds_left"].is_u64(),
            "an estimate: {:?}",
            writing[0]
        );
    }
    assert!(
        events
            .iter()
            .filter(|(e, _)| e == "text")
            .all(|(_, d)| d["agent"] == "itinerary"),
        "{events:?}"
    );
    assert!(
        plan["summary"]["text"]
            .as_str()
            .expect("summary")
            .starts_with("A 1-day trip to Helsinki"),
        "{plan}"
    );
    let prose = plan["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .find(|c| c["name"] == "prose")
        .unwrap_or_else(|| panic!("a prose check: {plan}"));
    assert_eq!(prose["passed"], true, "{prose}");
    assert!(
        prose["detail"]
            .as_str()
            .expect("detail")
            .starts_with("written by scripted-model"),
        "{prose}"
    );
    // The finished plan's page is kept: the same page again, with the day's text.
    let page = b.get(&format!("/plans/{id}")).await;
    assert_eq!(page.status, 200);
    let first = page.text();
    assert!(first.contains(&html_escape(&old_intro)), "{first}");
    for note in &notes {
        assert!(first.contains(&html_escape(note)), "{note}: {first}");
    }
    assert_eq!(b.get(&format!("/plans/{id}")).await.text(), first);

    let a = b
        .post(&format!("/api/plans/{id}/days/1/regenerate"), &json!({}))
        .await;
    assert_eq!(a.status, 202, "{}", a.text());
    assert_eq!(a.json()["events"], format!("/api/plans/{id}/events"));
    let events = b.events(&id).await;
    let names: Vec<&str> = events.iter().map(|(e, _)| e.as_str()).collect();
    assert_eq!(names.first(), Some(&"agent"), "{names:?}");
    assert_eq!(events[0].1["status"], "running");
    assert_eq!(events[0].1["day"], 1);
    let done = events
        .iter()
        .position(|(e, d)| e == "agent" && d["status"] == "done")
        .unwrap_or_else(|| panic!("the rewrite ends: {events:?}"));
    let section = events
        .iter()
        .position(|(e, d)| e == "section" && d["section"] == "itinerary" && d["day"] == 1)
        .expect("the day is sent");
    assert!(done < section);
    assert_eq!(names.last(), Some(&"done"));
    // The saved plan has the day's new texts, as they streamed; the stops stay.
    let again = b.get(&format!("/api/plans/{id}")).await.json();
    assert_valid_plan(&again);
    assert_day_one_streamed(&events, &again);
    let (new_intro, new_stops, new_notes) = day_one(&again);
    assert_eq!(new_stops, stops, "the stops stay");
    assert_eq!(
        new_intro, old_intro,
        "the intro says what the day holds, as before"
    );
    for (old, new) in notes.iter().zip(&new_notes) {
        assert_ne!(old, new, "the day was written anew");
    }
    let html = events[section].1["html"].as_str().expect("html");
    assert!(html.contains(&html_escape(&new_notes[0])), "{html}");
    // The page shows the rewritten day, not the page kept before the rewrite.
    let html = b.get(&format!("/plans/{id}")).await.text();
    assert!(html.contains(&html_escape(&new_notes[0])), "{html}");
    assert!(!html.contains(&html_escape(&notes[0])), "{html}");
    // Once per writing: two notes about each sight of day 1.
    let written = writer().written();
    for name in &stops {
        let n = written
            .iter()
            .filter(|(p, _)| matches!(p, Prompt::Note { place, .. } if place == name))
            .count();
        assert_eq!(n, 2, "{name}: {written:?}");
    }

    // The same model answers under /v1.
    let a = b.get("/v1/models").await;
    assert_eq!(a.status, 200);
    assert_eq!(a.json()["data"][0]["id"], "scripted-model", "{}", a.text());
}
