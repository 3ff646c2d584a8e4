//! The web app end to end: a real server on a loopback port over the real orchestrator (the
//! repository's assets, a SQLite store in a temp directory, the language model off), driven
//! over HTTP as a browser or an API client would: pages, the JSON API, the SSE stream, users
//! and CSRF, sharing, exports, the plan cache, cancellation and the OpenAPI document.
//!
//! One server is started for the whole test binary (the models load once, as in
//! `tripwright serve`), on its own runtime; each test is a different user (its own cookie)
//! and asks for a different trip, so that tests do not see each other's plans or cache hits.

mod common;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use common::{Browser, Server, assets_dir};
use serde_json::{Value, json};
use tripwright_config::Config;
use tripwright_web::WebOptions;

/// A data directory shared by the servers of this binary, emptied at the start of each run
/// (a static is never dropped, so a temp dir would be left behind).
fn data_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("web-app-tests");
        if dir.exists() {
            std::fs::remove_dir_all(&dir).expect("the old test data can be removed");
        }
        std::fs::create_dir_all(&dir).expect("the test data dir can be made");
        dir
    })
}

fn config(llm: Option<&Path>) -> Config {
    let mut c = common::config(data_dir());
    if let Some(model) = llm {
        c.llm.provider = "embedded".into();
        c.llm.model_path = Some(model.to_path_buf());
        c.llm.max_tokens = 64;
        c.llm.max_sequences = 1;
        c.llm.attempts = 1;
    }
    c
}

/// The server without a language model, for the whole test binary.
fn base() -> &'static str {
    static BASE: OnceLock<String> = OnceLock::new();
    BASE.get_or_init(|| {
        Server::start(
            config(None),
            WebOptions {
                max_running: 16,
                ..WebOptions::default()
            },
        )
        .keep()
    })
}

impl Browser {
    /// A new browser on the shared server, with its cookie and token.
    async fn new() -> Self {
        Self::signed_in(base()).await
    }

    /// A client without cookies on the shared server.
    fn anonymous() -> Self {
        Self::without_cookies(base())
    }
}

/// Undoes HTML escaping of an attribute value.
fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        let end = tail.find(';').expect("entity ends");
        let entity = &tail[1..end];
        let c = match entity {
            "quot" => '"',
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "apos" => '\'',
            _ => {
                let n = entity
                    .strip_prefix("#x")
                    .map(|h| u32::from_str_radix(h, 16))
                    .or_else(|| entity.strip_prefix('#').map(str::parse))
                    .expect("numeric entity")
                    .expect("number");
                char::from_u32(n).expect("char")
            }
        };
        out.push(c);
        rest = &tail[end + 1..];
    }
    out.push_str(rest);
    out
}

fn schema() -> jsonschema::Validator {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schema/plan.schema.json"),
    )
    .expect("schema file");
    jsonschema::validator_for(&serde_json::from_str(&text).expect("JSON")).expect("compiles")
}

fn assert_valid_plan(plan: &Value) {
    let errors: Vec<String> = schema()
        .iter_errors(plan)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{}", errors.join("\n"));
}

fn trip(days: u8, prefs: &str) -> Value {
    json!({"destination": "Helsinki", "days": days, "prefs": prefs})
}

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
        "Luxury hotel in city center with spa.",
        "id=\"days\" name=\"days\" type=\"range\" min=\"1\" max=\"14\"",
        "<output id=\"days-value\"",
        "<select id=\"month\" name=\"month\">",
        "id=\"budget\" name=\"budget\" type=\"number\"",
        "id=\"currency\" name=\"currency\"",
        "id=\"travelers\" name=\"travelers\" type=\"number\"",
        "<button id=\"generate\" type=\"submit\">Generate Travel Plan</button>",
        "id=\"form-error\" role=\"alert\"",
        "<link rel=\"stylesheet\" href=\"/static/style.css\">",
        "<script src=\"/static/app.js\" defer></script>",
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
        ("/static/app.js", "text/javascript"),
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
async fn a_plan_streams_its_progress_in_order_and_is_saved() {
    let mut b = Browser::new().await;
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
    assert!(at("itinerary", "done") < at("summary", "running"));
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
    assert_eq!(map["days"][0]["color"], "#e6194b");
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
        "<li class=\"check\" data-passed=\"",
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
    let html = b.get("/plans").await.text();
    assert!(html.contains(&format!("href=\"/plans/{id}\"")), "{html}");
    assert!(html.contains("Helsinki, Finland — 2 days"));

    // A later stream sends the final sections and `done` at once.
    let again = b.events(&id).await;
    assert_eq!(again.last().expect("done").0, "done");
}

#[tokio::test(flavor = "multi_thread")]
async fn other_users_and_strangers_cannot_see_a_plan() {
    let mut owner = Browser::new().await;
    let id = owner.make_plan(&trip(1, "other users test")).await;
    let mut other = Browser::new().await;
    let mut stranger = Browser::anonymous();
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
async fn a_share_link_is_read_only_and_works_without_a_cookie() {
    let mut owner = Browser::new().await;
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

    let mut anyone = Browser::anonymous();
    let a = anyone.get(&url).await;
    assert_eq!(a.status, 200);
    let html = a.text();
    assert!(html.contains("data-state=\"done\""));
    assert!(html.contains("share me"));
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
}

#[tokio::test(flavor = "multi_thread")]
async fn cookie_holders_must_send_the_csrf_token() {
    let mut b = Browser::new().await;
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
    let other = Browser::new().await;
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
    let mut api = Browser::anonymous();
    let a = api.post("/api/plans", &trip(1, "api client")).await;
    assert_eq!(a.status, 202, "{}", a.text());
    assert!(a.header("set-cookie").starts_with("tw_user="));
}

/// `text` escaped as askama writes it.
fn html_escape(text: &str) -> String {
    text.replace('&', "&#38;")
        .replace('<', "&#60;")
        .replace('>', "&#62;")
        .replace('"', "&#34;")
        .replace('\'', "&#39;")
}

/// Whether `html` shows `text` escaped (as askama writes it) and never raw.
fn escaped(html: &str, text: &str) -> bool {
    html.contains(&html_escape(text)) && !html.contains(text)
}

#[tokio::test(flavor = "multi_thread")]
async fn user_text_is_escaped_everywhere() {
    let mut b = Browser::new().await;
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
    assert!(html.contains("<p class=\"error-message\">"));
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
    let mut b = Browser::new().await;
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
    let mut b = Browser::new().await;
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
    let mut other = Browser::new().await;
    let third = other.start_plan(&req).await;
    assert_eq!(other.events(&third).await.last().expect("end").0, "done");
    assert_eq!(b.get(&format!("/api/plans/{third}")).await.status, 404);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_running_plan_can_be_cancelled() {
    let mut b = Browser::new().await;
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
    // Never saved.
    let list = b.get("/api/plans").await.json();
    assert!(!list.to_string().contains(&id));
    // A second cancel is refused.
    let a = b.post(&format!("/api/plans/{id}/cancel"), &json!({})).await;
    assert_eq!(a.status, 409);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_day_is_resent_when_asked_to_be_rewritten_without_a_model() {
    let mut b = Browser::new().await;
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
    let mut b = Browser::new().await;
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
    // The document lists every route of the plans API (and issue 5's, checked above).
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
    // The sidebar's other pages answer (issue 5's trip list, notes and supermarkets).
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

/// A second server whose orchestrator writes prose with the small SmolLM2 model.
fn llm_base() -> &'static str {
    static BASE: OnceLock<String> = OnceLock::new();
    BASE.get_or_init(|| {
        // The first server has imported the places and trained the forest in the shared
        // data directory; this one reuses them.
        let _ = base();
        let model = assets_dir().join("models/SmolLM2-135M-Instruct.Q4_1.gguf");
        assert!(model.is_file(), "missing {}", model.display());
        Server::start(config(Some(&model)), WebOptions::default()).keep()
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn prose_streams_and_a_day_is_rewritten_by_the_model() {
    let mut b = Browser::signed_in(llm_base()).await;
    let id = b.make_plan(&trip(1, "museums and coffee")).await;
    let events = b.events(&id).await;
    let texts: Vec<&Value> = events
        .iter()
        .filter(|(e, _)| e == "text")
        .map(|(_, d)| d)
        .collect();
    assert!(!texts.is_empty(), "the prose streams: {events:?}");
    assert!(
        texts
            .iter()
            .any(|d| d["agent"] == "itinerary" && d["day"] == 1)
    );
    let plan = b.get(&format!("/api/plans/{id}")).await.json();
    assert!(
        plan["checks"]
            .as_array()
            .expect("checks")
            .iter()
            .any(|c| c["name"] == "prose"),
        "{plan}"
    );
    // The finished plan's page is kept: the same page again, with the day's text.
    let page = b.get(&format!("/plans/{id}")).await;
    assert_eq!(page.status, 200);
    let first = page.text();
    let intro = |plan: &Value| {
        plan["itinerary"]["days"][0]["intro"]
            .as_str()
            .expect("intro")
            .to_owned()
    };
    let old_intro = intro(&plan);
    assert!(first.contains(&html_escape(&old_intro)), "{first}");
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
    assert!(names.contains(&"text"), "{names:?}");
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
    // The saved plan has the day's text.
    let again = b.get(&format!("/api/plans/{id}")).await.json();
    assert_valid_plan(&again);
    // The page shows the rewritten day, not the page kept before the rewrite.
    let html = b.get(&format!("/plans/{id}")).await.text();
    let new_intro = intro(&again);
    assert!(html.contains(&html_escape(&new_intro)), "{html}");
    if new_intro != old_intro {
        assert!(!html.contains(&html_escape(&old_intro)), "{html}");
    }

    // The same model answers under /v1.
    let a = b.get("/v1/models").await;
    assert_eq!(a.status, 200);
    assert!(a.text().contains("SmolLM2"), "{}", a.text());
}
