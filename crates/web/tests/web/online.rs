//! The online lookups, end to end: a server over the real application layer (the language
//! model off) with `[online] nominatim_url`, `overpass_url` and `wikipedia_url` pointing at a
//! stand-in on another loopback port that speaks the three protocols — Wikipedia's langlinks
//! query and page summaries, Nominatim's
//! `GET /search?q=…&format=jsonv2&limit=1` (a JSON array) and Overpass's
//! `POST /api/interpreter` with the form field `data` (`{"elements":[…]}`) — and that can be
//! switched, per query, to answer 429 with `Retry-After`, 500, stall for 10 s, cut its body off
//! mid-way or send JSON that ends half-way.
//!
//! The stand-in logs every request (when, the User-Agent, the query), so the tests can count
//! requests (a cached answer makes none) and measure their spacing (at most one a second per
//! service). The tests run one at a time (they share the server, the stand-in and the
//! process-wide rate limit); each uses its own places and coordinates, so caches never mix.
//! They are paced by that limit: the failures of the two services, the longest sequences, run
//! side by side.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{self, post};
use axum::{Json, Router};
use futures::StreamExt;
use serde_json::{Value, json};
use tripwright_testkit::server::{Server, check_shops, haversine_km};

/// The contact the server is configured with.
const CONTACT: &str = "tests@example.org";
/// The server's timeout for one answer, seconds (the stand-in stalls for 10).
const TIMEOUT_SECS: u64 = 2;

// ------------------------------------------------------------------------------ the stand-in

/// How the stand-in answers one request.
#[derive(Debug, Clone)]
enum Mode {
    /// 200 with this JSON.
    Answer(Value),
    /// 429 with this `Retry-After`.
    TooMany(&'static str),
    /// 500.
    Fail,
    /// Waits 10 s, then answers an empty result.
    Stall,
    /// 200, a part of the body, then the connection ends.
    CutOff,
    /// 200 with a whole body that is JSON ending half-way.
    Garbled,
    /// 200 with 17 MiB of JSON (more than the client reads).
    Huge,
    /// As the service answers without a script.
    Usual,
}

/// One request the stand-in received.
#[derive(Debug, Clone)]
struct Hit {
    /// `nominatim` or `overpass`.
    service: &'static str,
    /// Nominatim's `q`, or Overpass's centre `lat,lon` as in the query.
    key: String,
    /// When it came.
    at: Instant,
    /// Its User-Agent.
    user_agent: String,
}

/// The answers still to give, per service and key.
type Scripts = HashMap<(&'static str, String), VecDeque<Mode>>;

/// The stand-in's state: a script of answers per key (the front is used and dropped while more
/// than one is left; the last one stays), and the log.
#[derive(Default)]
struct StandIn {
    scripts: Mutex<Scripts>,
    log: Mutex<Vec<Hit>>,
    /// How a query for a plan's places is answered: `None` makes up a small city around the
    /// asked centre ([`city_around`]).
    places: Mutex<Option<Mode>>,
}

impl StandIn {
    /// Sets the answers for `key` of `service`, replacing any earlier script.
    fn script(&self, service: &'static str, key: &str, modes: Vec<Mode>) {
        self.scripts
            .lock()
            .expect("scripts")
            .insert((service, key.to_owned()), modes.into());
    }

    fn next(&self, service: &'static str, key: &str) -> Option<Mode> {
        let mut scripts = self.scripts.lock().expect("scripts");
        let modes = scripts.get_mut(&(service, key.to_owned()))?;
        if modes.len() > 1 {
            modes.pop_front()
        } else {
            modes.front().cloned()
        }
    }

    fn hits(&self, service: &str, key: &str) -> Vec<Hit> {
        self.log
            .lock()
            .expect("log")
            .iter()
            .filter(|h| h.service == service && h.key == key)
            .cloned()
            .collect()
    }

    fn all(&self) -> Vec<Hit> {
        self.log.lock().expect("log").clone()
    }

    /// The requests `service` received so far.
    fn of(&self, service: &str) -> Vec<Hit> {
        self.all()
            .into_iter()
            .filter(|h| h.service == service)
            .collect()
    }
}

/// Answers `mode`; `empty` is the protocol's "nothing found".
async fn answer(mode: Option<Mode>, empty: Value) -> Response {
    let json_type = [(header::CONTENT_TYPE, "application/json")];
    match mode.unwrap_or_else(|| Mode::Answer(empty.clone())) {
        Mode::Usual => (StatusCode::OK, json_type, empty.to_string()).into_response(),
        Mode::Huge => {
            let filler = " ".repeat(17 << 20);
            (
                StatusCode::OK,
                json_type,
                format!("{{\"pad\":\"{filler}\"}}"),
            )
                .into_response()
        }
        Mode::Answer(v) => (StatusCode::OK, json_type, v.to_string()).into_response(),
        Mode::TooMany(after) => (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, after)],
            "Too Many Requests",
        )
            .into_response(),
        Mode::Fail => (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response(),
        Mode::Stall => {
            tokio::time::sleep(Duration::from_secs(10)).await;
            (StatusCode::OK, json_type, empty.to_string()).into_response()
        }
        Mode::CutOff => {
            let first = futures::stream::once(async {
                Ok::<_, std::io::Error>(Bytes::from_static(b"[{\"place_id\":1,\"lat\":\"60.1"))
            });
            let broken = futures::stream::once(async {
                tokio::time::sleep(Duration::from_millis(200)).await;
                Err(std::io::Error::other("the connection broke"))
            });
            (
                StatusCode::OK,
                json_type,
                Body::from_stream(first.chain(broken)),
            )
                .into_response()
        }
        Mode::Garbled => (
            StatusCode::OK,
            json_type,
            "{\"elements\":[{\"type\":\"node\",\"id\":1,\"lat\":60.1",
        )
            .into_response(),
    }
}

fn user_agent(headers: &HeaderMap) -> String {
    headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// `GET /search?q=…&format=jsonv2&limit=1`.
async fn nominatim(
    State(s): State<Arc<StandIn>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let at = Instant::now();
    let params: HashMap<String, String> =
        serde_urlencoded::from_str(query.as_deref().unwrap_or_default()).unwrap_or_default();
    let q = params.get("q").cloned().unwrap_or_default();
    s.log.lock().expect("log").push(Hit {
        service: "nominatim",
        key: q.clone(),
        at,
        user_agent: user_agent(&headers),
    });
    if q.is_empty()
        || params.get("format").map(String::as_str) != Some("jsonv2")
        || params.get("limit").map(String::as_str) != Some("1")
    {
        return (StatusCode::BAD_REQUEST, "q, format=jsonv2 and limit=1").into_response();
    }
    answer(s.next("nominatim", &q), json!([])).await
}

/// Wikipedia's `GET /{lang}/w/api.php?action=query&prop=langlinks&lllang=en&titles=…`: an
/// Italian "Museo N (TAG)" has the English article "Museum N (TAG)"; any other title has none.
/// A script for `links:{lang}:{title}` answers instead.
async fn langlinks(
    State(s): State<Arc<StandIn>>,
    axum::extract::Path(lang): axum::extract::Path<String>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let params: HashMap<String, String> =
        serde_urlencoded::from_str(query.as_deref().unwrap_or_default()).unwrap_or_default();
    let title = params.get("titles").cloned().unwrap_or_default();
    let key = format!("{lang}:{title}");
    s.log.lock().expect("log").push(Hit {
        service: "wikipedia",
        key: key.clone(),
        at: Instant::now(),
        user_agent: user_agent(&headers),
    });
    let asked = |k: &str, v: &str| params.get(k).map(String::as_str) == Some(v);
    let well_formed = ["action=query", "prop=langlinks", "lllang=en", "format=json"]
        .iter()
        .all(|kv| kv.split_once('=').is_some_and(|(k, v)| asked(k, v)));
    if !well_formed {
        return (StatusCode::BAD_REQUEST, "action=query&prop=langlinks").into_response();
    }
    let links = match title.strip_prefix("Museo ") {
        Some(n) if lang == "it" => json!([{"lang": "en", "*": format!("Museum {n}")}]),
        _ => json!([]),
    };
    let usual = json!({"batchcomplete": "", "query": {"pages": {"4242": {"pageid": 4242, "ns": 0, "title": title, "langlinks": links}}}});
    match s.next("wikipedia", &format!("links:{}", untagged(&key))) {
        Some(Mode::Usual) | None => Json(usual).into_response(),
        mode => answer(mode, usual).await,
    }
}

/// Wikipedia's `GET /{lang}/api/rest_v1/page/summary/{title}`: "Museum N (TAG)" has a summary
/// of three sentences (the third one long), any other title is a 404. A script for
/// `summary:{lang}:{title}` answers instead.
async fn summary(
    State(s): State<Arc<StandIn>>,
    axum::extract::Path((lang, title)): axum::extract::Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let key = format!("{lang}:{title}");
    s.log.lock().expect("log").push(Hit {
        service: "wikipedia",
        key: key.clone(),
        at: Instant::now(),
        user_agent: user_agent(&headers),
    });
    let script = s.next("wikipedia", &format!("summary:{}", untagged(&key)));
    if script.as_ref().is_some_and(|m| !matches!(m, Mode::Usual)) {
        return answer(script, json!({})).await;
    }
    match title.strip_prefix("Museum_") {
        Some(rest) if lang == "en" => {
            let n = rest.split('_').next().unwrap_or_default();
            Json(json!({
                "type": "standard",
                "title": title.replace('_', " "),
                "extract": format!(
                    "Museum {n} is a museum of Roman sculpture, founded in 173{n} by Cardinal \
                     Albani. It holds the Albani collection of portrait busts. {}",
                    "Its rooms were rebuilt many times over the centuries, ".repeat(8)
                ),
                "content_urls": {"desktop": {"page": format!("https://en.wikipedia.org/wiki/{title}")}},
            }))
            .into_response()
        }
        _ => (
            StatusCode::NOT_FOUND,
            Json(json!({"type": "https://mediawiki.org/wiki/HyperSwitch/errors/not_found"})),
        )
            .into_response(),
    }
}

/// An article's key without its city ("it:Museo 1 (41.89)" → "it:Museo 1"): the scripts of
/// the Wikipedia stand-in apply in every city.
fn untagged(key: &str) -> &str {
    key.rsplit_once(" (")
        .or_else(|| key.rsplit_once("_("))
        .map_or(key, |(k, _)| k)
}

/// `POST /api/interpreter` with `data=<Overpass QL>`; the key is the `around` centre.
async fn overpass(State(s): State<Arc<StandIn>>, headers: HeaderMap, body: String) -> Response {
    let at = Instant::now();
    let form: HashMap<String, String> = serde_urlencoded::from_str(&body).unwrap_or_default();
    let data = form.get("data").cloned().unwrap_or_default();
    // `(around:RADIUS,LAT,LON)`.
    let centre = data.split("(around:").nth(1).and_then(|rest| {
        let inside = rest.split(')').next()?;
        let mut parts = inside.split(',');
        let _radius: u64 = parts.next()?.parse().ok()?;
        Some(format!("{},{}", parts.next()?, parts.next()?))
    });
    s.log.lock().expect("log").push(Hit {
        service: "overpass",
        key: centre.clone().unwrap_or_default(),
        at,
        user_agent: user_agent(&headers),
    });
    let form_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"));
    // A plan's places: hotels, sights, eateries, shops.
    if data.contains("node[\"tourism\"") {
        let Some(centre) = centre.filter(|_| {
            form_type
                && data.starts_with("[out:json]")
                && data.contains("way[\"amenity\"")
                && data.trim_end().ends_with("out center tags;")
        }) else {
            return (StatusCode::BAD_REQUEST, "Error: line 1: parse error").into_response();
        };
        let mode = s.places.lock().expect("mode").clone();
        s.log
            .lock()
            .expect("log")
            .last_mut()
            .expect("logged")
            .service = "overpass-places";
        return answer(mode, city_around(&centre)).await;
    }
    let Some(centre) = centre.filter(|_| {
        form_type
            && data.starts_with("[out:json]")
            && data.contains("node[\"shop\"")
            && data.contains("way[\"shop\"")
            && data.trim_end().ends_with("out center tags;")
    }) else {
        return (StatusCode::BAD_REQUEST, "Error: line 1: parse error").into_response();
    };
    answer(
        s.next("overpass", &centre),
        json!({"version": 0.6, "elements": []}),
    )
    .await
}

/// A small made-up city around `centre` ("lat,lon") as Overpass would answer it: two hotels,
/// five museums (one mapped as a building), three fountains, two monuments, six trattorias
/// and three cafés, a few hundred metres apart, all open every day.
fn city_around(centre: &str) -> Value {
    let mut parts = centre
        .split(',')
        .map(|x| x.parse::<f64>().unwrap_or_default());
    let (lat, lon) = (
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
    );
    let mut elements = Vec::new();
    let mut id = 9_000_000_000_u64;
    let mut add = |name: String, tags: Value, i: usize| {
        id += 1;
        let (dlat, dlon) = (0.0015 * (i % 5) as f64, 0.002 * (i / 5) as f64);
        let mut tags = tags;
        tags["name"] = json!(name);
        elements.push(
            json!({"type": "node", "id": id, "lat": lat + dlat, "lon": lon + dlon, "tags": tags}),
        );
    };
    let open = "Mo-Su 09:00-23:00";
    // Each city's articles are its own (the client caches answers by article).
    let city = format!("{lat:.2}");
    for i in 0..2 {
        add(
            format!("Albergo {i}"),
            json!({"tourism": "hotel", "stars": "3"}),
            i,
        );
    }
    for i in 0..4 {
        add(
            format!("Museo {i}"),
            json!({"tourism": "museum", "opening_hours": open, "wikipedia": format!("it:Museo {i} ({city})")}),
            i + 2,
        );
    }
    for i in 0..3 {
        add(
            format!("Fontana {i}"),
            json!({"tourism": "attraction", "wikipedia": format!("it:Fontana {i} ({city})")}),
            i + 6,
        );
    }
    for i in 0..2 {
        add(format!("Arco {i}"), json!({"historic": "monument"}), i + 9);
    }
    for i in 0..6 {
        add(
            format!("Trattoria {i}"),
            json!({"amenity": "restaurant", "cuisine": "italian", "opening_hours": open}),
            i + 11,
        );
    }
    for i in 0..3 {
        add(
            format!("Caffè {i}"),
            json!({"amenity": "cafe", "opening_hours": open}),
            i + 17,
        );
    }
    elements.push(
        json!({"type": "way", "id": 77, "center": {"lat": lat + 0.001, "lon": lon - 0.001},
        "tags": {"tourism": "museum", "name": "Museo Grande", "opening_hours": open}}),
    );
    json!({"version": 0.6, "elements": elements})
}

/// The stand-in, on its own thread and runtime for the whole test binary: its state and URL.
fn stand_in() -> &'static (Arc<StandIn>, String) {
    static STAND_IN: OnceLock<(Arc<StandIn>, String)> = OnceLock::new();
    STAND_IN.get_or_init(|| {
        let state = Arc::new(StandIn::default());
        let app = Router::new()
            .route("/search", routing::get(nominatim))
            .route("/api/interpreter", post(overpass))
            .route("/{lang}/w/api.php", routing::get(langlinks))
            .route(
                "/{lang}/api/rest_v1/page/summary/{title}",
                routing::get(summary),
            )
            .with_state(Arc::clone(&state));
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                    .await
                    .expect("a loopback port");
                tx.send(listener.local_addr().expect("bound"))
                    .expect("the test waits");
                axum::serve(listener, app).await.expect("serves");
            });
        });
        let addr = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("the stand-in starts");
        (state, format!("http://{addr}"))
    })
}

// -------------------------------------------------------------------------------- the server

/// The server shared by the tests (never stopped: it ends with the test binary), configured
/// with the stand-in for both services.
fn base() -> &'static str {
    static BASE: OnceLock<String> = OnceLock::new();
    BASE.get_or_init(|| {
        // The first server has imported the places and trained the forest in the shared data
        // directory; this one reuses them. Only this server asks the online services, so the
        // store's cache of their answers is this module's alone.
        let _ = crate::support::base();
        let url = stand_in().1.clone();
        let mut config = crate::support::config();
        // A trailing slash is fine.
        config.online.enabled = true;
        config.online.nominatim_url = Some(format!("{url}/"));
        config.online.wikipedia_url = Some(format!("{url}/{{lang}}"));
        config.online.overpass_url = Some(url);
        config.online.user_agent_contact = CONTACT.into();
        config.online.timeout_secs = TIMEOUT_SECS;
        Server::start(config, None).keep()
    })
}

/// One test at a time: they share the stand-in's log and the process-wide rate limit (a
/// test's timings would include another's requests).
async fn one_at_a_time() -> tokio::sync::MutexGuard<'static, ()> {
    static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    SERIAL.lock().await
}

/// An answer, read whole.
struct Answer {
    status: u16,
    body: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

async fn get(path: &str) -> Answer {
    let url = format!("{}{path}", base());
    let response = tokio::time::timeout(Duration::from_secs(120), reqwest::get(url))
        .await
        .expect("the server answers in time")
        .expect("the server answers");
    Answer {
        status: response.status().as_u16(),
        body: response.text().await.expect("a body"),
    }
}

/// `/api/supermarkets?near=…&radius_km=…`, expected to answer `status`.
async fn search(near: &str, radius_km: f64, status: u16) -> Value {
    let q = serde_urlencoded::to_string([("near", near), ("radius_km", &radius_km.to_string())])
        .expect("query");
    let a = get(&format!("/api/supermarkets?{q}")).await;
    assert_eq!(a.status, status, "{near}: {}", a.body);
    a.json()
}

/// How far apart two moments are, whichever came first.
fn apart(a: Instant, b: Instant) -> Duration {
    a.max(b) - a.min(b)
}

/// The key the server asks Overpass with for a centre: 4 decimals.
fn centre_key(lat: f64, lon: f64) -> String {
    format!("{lat:.4},{lon:.4}")
}

/// Every request so far carried `Tripwright/{version} (CONTACT)`, and no two requests to one
/// service came less than a second apart.
fn check_policy() {
    let hits = stand_in().0.all();
    for h in &hits {
        assert!(
            h.user_agent.starts_with("Tripwright/")
                && h.user_agent.ends_with(&format!(" ({CONTACT})")),
            "{h:?}"
        );
    }
    for service in ["nominatim", "overpass"] {
        let mut times: Vec<Instant> = hits
            .iter()
            .filter(|h| h.service == service)
            .map(|h| h.at)
            .collect();
        times.sort();
        for pair in times.windows(2) {
            let gap = pair[1] - pair[0];
            assert!(
                gap >= Duration::from_secs(1),
                "{service}: two requests {gap:?} apart"
            );
        }
    }
}

// ----------------------------------------------------------------------------------- tests

#[tokio::test(flavor = "multi_thread")]
async fn a_place_unknown_offline_is_found_with_nominatim_once_then_cached() {
    let _turn = one_at_a_time().await;
    let s = &stand_in().0;
    let near = "Zzyzx   Springs";
    // Unknown to the gazetteer.
    s.script(
        "nominatim",
        "zzyzx springs",
        vec![Mode::Answer(json!([{
            "place_id": 297_532_159,
            "licence": "Data © OpenStreetMap contributors, ODbL 1.0.",
            "osm_type": "node",
            "osm_id": 150_966_286,
            "lat": "35.1435857",
            "lon": "-116.1039233",
            "category": "place",
            "type": "hamlet",
            "place_rank": 20,
            "importance": 0.3,
            "addresstype": "hamlet",
            "name": "Zzyzx",
            "display_name": "Zzyzx, San Bernardino County, California, United States",
            "boundingbox": ["35.1235857", "35.1635857", "-116.1239233", "-116.0839233"]
        }]))],
    );
    let first = search(near, 5.0, 200).await;
    let loc = &first["location"];
    assert_eq!(loc["kind"], "nominatim", "{first}");
    assert_eq!(
        loc["label"],
        "Zzyzx, San Bernardino County, California, United States"
    );
    assert_eq!(loc["lat"].as_f64(), Some(35.143_585_7));
    assert_eq!(loc["lon"].as_f64(), Some(-116.103_923_3));
    assert_eq!(first["count"], 0, "no shops there: {first}");
    assert!(first["notice"].is_null(), "{first}");
    assert_eq!(s.hits("nominatim", "zzyzx springs").len(), 1);
    // Overpass was asked around the hit (it found nothing).
    assert_eq!(s.hits("overpass", "35.1436,-116.1039").len(), 1);

    // The same search again (spaced and cased otherwise): answered from the cache, no request
    // to either service.
    let again = search("zzyzx springs", 5.0, 200).await;
    assert_eq!(again, first);
    assert_eq!(s.hits("nominatim", "zzyzx springs").len(), 1, "cached");
    assert_eq!(s.hits("overpass", "35.1436,-116.1039").len(), 1, "cached");

    // The page says where it searched.
    let a = get("/supermarkets?near=Zzyzx%20Springs&radius_km=5").await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert!(
        a.body
            .contains("No grocery shops within 5 km of Zzyzx, San Bernardino County"),
        "{}",
        a.body
    );
    assert!(!a.body.contains("supermarkets-notice"));
    assert_eq!(s.hits("nominatim", "zzyzx springs").len(), 1, "cached");

    // Not found online either: the offline 404, and that answer is cached too.
    let e = search("Qqxxvv Nowhere", 5.0, 404).await;
    assert_eq!(e["error"]["code"], "unknown_location");
    assert!(
        !e["error"]["hint"]
            .as_str()
            .unwrap_or_default()
            .contains("Nominatim"),
        "{e}"
    );
    search("Qqxxvv Nowhere", 5.0, 404).await;
    assert_eq!(s.hits("nominatim", "qqxxvv nowhere").len(), 1, "cached");
    // A city of the gazetteer asks nobody for its location.
    let before = s.all().iter().filter(|h| h.service == "nominatim").count();
    let r = search("Helsinki", 0.5, 200).await;
    assert_eq!(r["location"]["kind"], "city");
    let after = s.all().iter().filter(|h| h.service == "nominatim").count();
    assert_eq!(before, after);
    check_policy();
}

#[tokio::test(flavor = "multi_thread")]
async fn overpass_shops_are_merged_with_the_stores_deduplicated_and_sorted() {
    let _turn = one_at_a_time().await;
    let s = &stand_in().0;
    let (lat, lon, radius) = (60.1699, 24.9384, 1.0);
    let key = centre_key(lat, lon);
    let near = format!("{lat}, {lon}");

    // While Overpass fails, the store's shops alone (with a notice).
    s.script("overpass", &key, vec![Mode::Fail]);
    let offline = search(&near, radius, 200).await;
    let offline_ids = check_shops(&offline, lat, lon, radius);
    assert!(offline_ids.len() >= 3, "{offline}");
    assert!(
        offline["notice"]
            .as_str()
            .is_some_and(|n| n.contains("Overpass") && n.contains("HTTP 500")),
        "{offline}"
    );
    // Failures are not cached: the next search asks again.
    assert_eq!(s.hits("overpass", &key).len(), 1);

    // Now Overpass answers: two new shops inside the radius, some that must be left out, and
    // the store's nearest shop again under another name (the live one wins, listed once).
    let nearest = &offline["places"][0];
    let nearest_id = nearest["id"].as_str().expect("id");
    let (kind, number) = nearest_id
        .strip_prefix("osm:")
        .and_then(|r| r.split_once('/'))
        .expect("osm:type/id");
    let number: u64 = number.parse().expect("numeric id");
    let (nlat, nlon) = (
        nearest["lat"].as_f64().expect("lat"),
        nearest["lon"].as_f64().expect("lon"),
    );
    let dup = if kind == "way" {
        json!({"type": "way", "id": number, "center": {"lat": nlat, "lon": nlon},
               "tags": {"name": "Renamed live", "shop": "supermarket"}})
    } else {
        json!({"type": "node", "id": number, "lat": nlat, "lon": nlon,
               "tags": {"name": "Renamed live", "shop": "supermarket"}})
    };
    s.script(
        "overpass",
        &key,
        vec![Mode::Answer(json!({
            "version": 0.6,
            "generator": "Overpass API stand-in",
            "osm3s": {"timestamp_osm_base": "2026-11-29T12:00:00Z"},
            "elements": [
                {"type": "node", "id": 9_100_000_001_u64, "lat": lat + 0.003, "lon": lon,
                 "tags": {"name": "Live Market North", "shop": "supermarket",
                          "opening_hours": "Mo-Su 07:00-22:00"}},
                {"type": "way", "id": 9_100_000_002_u64, "center": {"lat": lat, "lon": lon + 0.01},
                 "nodes": [1, 2, 3, 1],
                 "tags": {"name": "Live Greens East", "shop": "greengrocer",
                          "addr:street": "Testikatu", "addr:housenumber": "5"}},
                // 1.2 km north: outside the 1 km radius.
                {"type": "node", "id": 9_100_000_003_u64, "lat": lat + 0.0108, "lon": lon,
                 "tags": {"name": "Live Just Outside", "shop": "convenience"}},
                {"type": "node", "id": 9_100_000_004_u64, "lat": lat, "lon": lon + 0.001,
                 "tags": {"name": "Live Books", "shop": "books"}},
                {"type": "node", "id": 9_100_000_005_u64, "lat": lat + 0.001, "lon": lon,
                 "tags": {"shop": "convenience"}},
                dup,
            ]
        }))],
    );
    let merged = search(&near, radius, 200).await;
    assert!(merged["notice"].is_null(), "{merged}");
    let ids = check_shops(&merged, lat, lon, radius);
    let mut expected: BTreeSet<String> = offline_ids.iter().cloned().collect();
    expected.insert("osm:node/9100000001".into());
    expected.insert("osm:way/9100000002".into());
    assert_eq!(ids.iter().cloned().collect::<BTreeSet<_>>(), expected);
    assert_eq!(merged["count"].as_u64(), Some(offline_ids.len() as u64 + 2));
    let by_id = |id: &str| {
        merged["places"]
            .as_array()
            .expect("places")
            .iter()
            .find(|p| p["id"] == id)
            .cloned()
            .unwrap_or_else(|| panic!("{id} missing: {merged}"))
    };
    let north = by_id("osm:node/9100000001");
    assert_eq!(north["name"], "Live Market North");
    assert_eq!(north["kind"], "supermarket");
    assert_eq!(north["opening_hours"], "Mo-Su 07:00-22:00");
    let d = haversine_km(lat, lon, lat + 0.003, lon);
    assert!((north["distance_km"].as_f64().expect("km") - d).abs() < 0.002);
    let east = by_id("osm:way/9100000002");
    assert_eq!(east["address"], "Testikatu 5");
    assert_eq!(
        (east["lat"].as_f64(), east["lon"].as_f64()),
        (Some(lat), Some(lon + 0.01))
    );
    assert_eq!(by_id(nearest_id)["name"], "Renamed live");
    assert_eq!(s.hits("overpass", &key).len(), 2);

    // Again: from the cache.
    let again = search(&near, radius, 200).await;
    assert_eq!(again, merged);
    assert_eq!(s.hits("overpass", &key).len(), 2, "cached");

    // The page lists the live shops too.
    let q =
        serde_urlencoded::to_string([("near", near.as_str()), ("radius_km", "1")]).expect("query");
    let a = get(&format!("/supermarkets?{q}")).await;
    assert_eq!(a.status, 200);
    assert!(a.body.contains("Live Market North"), "{}", a.body);
    assert!(a.body.contains("Testikatu 5"));
    assert!(!a.body.contains("supermarkets-notice"));
    assert_eq!(s.hits("overpass", &key).len(), 2, "cached");
    check_policy();
}

#[tokio::test(flavor = "multi_thread")]
async fn quick_searches_reach_each_service_at_most_once_a_second() {
    let _turn = one_at_a_time().await;
    let s = &stand_in().0;
    let places = [("Spacing Alpha", 61.5, 23.7), ("Spacing Beta", 62.2, 25.7)];
    for (name, lat, lon) in places {
        s.script(
            "nominatim",
            &name.to_lowercase(),
            vec![Mode::Answer(json!([{
                "lat": lat.to_string(), "lon": lon.to_string(),
                "display_name": format!("{name}, Finland")
            }]))],
        );
    }
    let t = Instant::now();
    let (a, b) = tokio::join!(search(places[0].0, 2.0, 200), search(places[1].0, 2.0, 200));
    assert_eq!(a["location"]["label"], "Spacing Alpha, Finland");
    assert_eq!(b["location"]["label"], "Spacing Beta, Finland");
    let one = s.hits("nominatim", "spacing alpha");
    let two = s.hits("nominatim", "spacing beta");
    assert_eq!((one.len(), two.len()), (1, 1));
    let gap = apart(one[0].at, two[0].at);
    assert!(gap >= Duration::from_secs(1), "{gap:?}");
    // And Overpass, asked around both, the same.
    let one = s.hits("overpass", &centre_key(61.5, 23.7));
    let two = s.hits("overpass", &centre_key(62.2, 25.7));
    assert_eq!((one.len(), two.len()), (1, 1));
    let gap = apart(one[0].at, two[0].at);
    assert!(gap >= Duration::from_secs(1), "{gap:?}");
    assert!(t.elapsed() >= Duration::from_secs(1));
    check_policy();
}

/// The failures of each service, side by side: each is paced by its own service's limit (a
/// request a second, the 2 s timeout of a stall, a `Retry-After`), so together they take as
/// long as the slower. Neither counts the other's requests: the Nominatim half's two places
/// found are asked of Overpass around points of their own.
#[tokio::test(flavor = "multi_thread")]
async fn failures_of_either_service_fall_back_to_the_offline_answer() {
    let _turn = one_at_a_time().await;
    tokio::join!(
        nominatim_failures_fall_back_to_the_offline_answer(),
        overpass_failures_fall_back_to_the_stores_shops_with_a_notice()
    );
    check_policy();
}

/// Nominatim fails in each way it can: the offline answer, with a hint saying why.
async fn nominatim_failures_fall_back_to_the_offline_answer() {
    let s = &stand_in().0;
    let found = |name: &str| {
        Mode::Answer(json!([{
            "lat": "60.1841", "lon": "24.9497", "display_name": format!("{name}, Helsinki, Finland")
        }]))
    };
    // A 429 with a short Retry-After is retried once, after waiting for it.
    s.script(
        "nominatim",
        "retry kallio",
        vec![Mode::TooMany("2"), found("Retry Kallio")],
    );
    let r = search("Retry Kallio", 1.0, 200).await;
    assert_eq!(r["location"]["label"], "Retry Kallio, Helsinki, Finland");
    let hits = s.hits("nominatim", "retry kallio");
    assert_eq!(hits.len(), 2);
    assert!(hits[1].at - hits[0].at >= Duration::from_secs(2));

    // Each failure: the offline answer (404 for a place the gazetteer does not know) with a
    // hint saying why, never a 500; nothing cached, so the next search asks again.
    let cases: [(&str, Vec<Mode>, usize, &str); 6] = [
        ("still busy", vec![Mode::TooMany("1")], 2, "HTTP 429"),
        ("long wait", vec![Mode::TooMany("3600")], 1, "HTTP 429"),
        ("server error", vec![Mode::Fail], 1, "HTTP 500"),
        ("stalled", vec![Mode::Stall], 1, "did not answer in time"),
        ("cut short", vec![Mode::CutOff], 1, "cut off"),
        ("half json", vec![Mode::Garbled], 1, "could not be read"),
    ];
    for (q, modes, requests, why) in cases {
        s.script("nominatim", q, modes);
        let t = Instant::now();
        let e = search(q, 1.0, 404).await;
        assert_eq!(e["error"]["code"], "unknown_location", "{q}: {e}");
        let hint = e["error"]["hint"].as_str().unwrap_or_default();
        assert!(
            hint.contains("Nominatim") && hint.contains(why),
            "{q}: {hint}"
        );
        assert_eq!(s.hits("nominatim", q).len(), requests, "{q}");
        if q == "stalled" {
            assert!(
                t.elapsed() < Duration::from_secs(8),
                "{q}: {:?}",
                t.elapsed()
            );
        }
    }
    search("server error", 1.0, 404).await;
    assert_eq!(s.hits("nominatim", "server error").len(), 2, "not cached");
    // Once it answers, the place is found.
    s.script("nominatim", "server error", vec![found("Server Error")]);
    let r = search("server error", 1.0, 200).await;
    assert_eq!(r["location"]["kind"], "nominatim");
    assert_eq!(s.hits("nominatim", "server error").len(), 3);

    // The page shows the message and the hint.
    s.script("nominatim", "page failure", vec![Mode::Fail]);
    let a = get("/supermarkets?near=Page%20Failure").await;
    assert_eq!(a.status, 404, "{}", a.body);
    assert!(a.body.contains("Nominatim"), "{}", a.body);
    assert!(a.body.contains("HTTP 500"), "{}", a.body);
    check_policy();
}

/// Overpass fails in each way it can: the store's shops, with a notice saying why.
async fn overpass_failures_fall_back_to_the_stores_shops_with_a_notice() {
    let s = &stand_in().0;
    let cases: [(f64, Vec<Mode>, usize, &str); 6] = [
        (60.1701, vec![Mode::TooMany("1")], 2, "HTTP 429"),
        (60.1702, vec![Mode::TooMany("3600")], 1, "HTTP 429"),
        (60.1703, vec![Mode::Fail], 1, "HTTP 500"),
        (60.1704, vec![Mode::Stall], 1, "did not answer in time"),
        (60.1705, vec![Mode::CutOff], 1, "cut off"),
        (60.1706, vec![Mode::Garbled], 1, "could not be read"),
    ];
    let lon = 24.9384;
    for (lat, modes, requests, why) in cases {
        let key = centre_key(lat, lon);
        s.script("overpass", &key, modes);
        let t = Instant::now();
        let r = search(&format!("{lat}, {lon}"), 1.0, 200).await;
        let ids = check_shops(&r, lat, lon, 1.0);
        assert!(!ids.is_empty(), "the store's shops: {r}");
        assert!(!ids.contains(&"osm:node/9100000001".to_owned()), "{r}");
        let notice = r["notice"].as_str().unwrap_or_default();
        assert!(
            notice.contains("Overpass") && notice.contains(why),
            "{lat}: {notice}"
        );
        assert_eq!(s.hits("overpass", &key).len(), requests, "{lat}");
        if why.contains("in time") {
            assert!(t.elapsed() < Duration::from_secs(8), "{:?}", t.elapsed());
        }
    }
    // An Overpass query stopped half-way (a 200 with a remark) is a failure too.
    let key = centre_key(60.1707, lon);
    s.script(
        "overpass",
        &key,
        vec![Mode::Answer(json!({
            "version": 0.6,
            "elements": [{"type": "node", "id": 9_100_000_009_u64, "lat": 60.1707, "lon": lon,
                          "tags": {"name": "Partial", "shop": "supermarket"}}],
            "remark": "runtime error: Query timed out in \"query\" at line 3 after 25 seconds."
        }))],
    );
    let r = search("60.1707, 24.9384", 1.0, 200).await;
    assert!(
        r["notice"]
            .as_str()
            .is_some_and(|n| n.contains("could not finish")),
        "{r}"
    );
    assert!(!r.to_string().contains("Partial"), "{r}");

    // The page carries the notice and still lists the shops.
    let key = centre_key(60.1708, lon);
    s.script("overpass", &key, vec![Mode::Fail]);
    let a = get("/supermarkets?near=60.1708%2C%2024.9384&radius_km=1").await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert!(a.body.contains("id=\"supermarkets-notice\""), "{}", a.body);
    assert!(
        a.body
            .contains("Live shop data (Overpass) is not available")
    );
    assert!(a.body.contains("<ol id=\"supermarket-list\">"));
    check_policy();
}

// ----------------------------------------------------------------------- places on demand

/// Day 1's stop names, and the hotels', of a plan as JSON.
fn names(plan: &Value) -> (Vec<String>, Vec<String>) {
    let of = |v: &Value| -> Vec<String> {
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|x| x["name"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    (
        of(&plan["itinerary"]["days"][0]["stops"]),
        of(&plan["hotels"]),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_city_without_local_data_is_planned_with_places_fetched_once_from_overpass() {
    let _turn = one_at_a_time().await;
    let (state, _) = stand_in();
    *state.places.lock().expect("mode") = None;
    let asked = || state.of("overpass-places").len();
    let before = asked();
    let mut b = tripwright_testkit::server::Browser::signed_in(base()).await;
    let id = b
        .start_plan(&json!({"destination": "Rome", "days": 1, "prefs": "museums"}))
        .await;
    let events = b.events(&id).await;
    assert_eq!(
        events.last().map(|e| e.0.as_str()),
        Some("done"),
        "{events:?}"
    );
    // The wait is explained while it lasts.
    assert!(
        events.iter().any(|(e, d)| e == "notice"
            && d["message"] == "Fetching places near Rome from OpenStreetMap…"),
        "{events:?}"
    );
    let plan = b.get(&format!("/api/plans/{id}")).await.json();
    let (stops, hotels) = names(&plan);
    assert!(
        hotels.iter().all(|h| h.starts_with("Albergo")) && !hotels.is_empty(),
        "{hotels:?}"
    );
    assert!(stops.iter().any(|s| s.starts_with("Museo")), "{stops:?}");
    assert!(
        stops.iter().any(|s| s.starts_with("Trattoria")),
        "{stops:?}"
    );
    let warnings = plan["warnings"].to_string();
    assert!(!warnings.contains("no place data"), "{warnings}");
    assert_eq!(asked() - before, 1);
    // A museum links its Italian article, followed to the English one: its first whole
    // sentences (at most 320 characters) describe the stop, with the article's address. A
    // fountain's article has no English version: no description.
    let stops = plan["itinerary"]["days"][0]["stops"]
        .as_array()
        .expect("stops");
    let museums: Vec<&Value> = stops
        .iter()
        .filter(|s| {
            s["name"]
                .as_str()
                .is_some_and(|n| n.starts_with("Museo ") && n != "Museo Grande")
        })
        .collect();
    assert!(!museums.is_empty(), "{stops:?}");
    for m in &museums {
        let n = m["name"]
            .as_str()
            .expect("name")
            .trim_start_matches("Museo ");
        assert_eq!(
            m["description"]["text"],
            format!(
                "Museum {n} is a museum of Roman sculpture, founded in 173{n} by Cardinal Albani. It holds the Albani collection of portrait busts."
            )
        );
        let url = m["description"]["url"].as_str().unwrap_or_default();
        assert!(
            url.starts_with(&format!("https://en.wikipedia.org/wiki/Museum_{n}_(")),
            "{url}"
        );
    }
    for s in stops
        .iter()
        .filter(|s| s["name"].as_str().is_some_and(|n| n.starts_with("Fontana")))
    {
        assert!(s.get("description").is_none(), "{s}");
    }
    let asked_wikipedia = state.of("wikipedia").len();
    assert!(
        asked_wikipedia >= 2 * museums.len(),
        "links, then summaries"
    );
    // The plan says where its places came from, and so does its page.
    let sources = plan["sources"].as_array().expect("sources");
    assert_eq!(sources.len(), 1, "{sources:?}");
    assert_eq!(sources[0]["source"], "overpass: Rome, Italy");
    let page = b.get(&format!("/plans/{id}")).await.text();
    assert!(
        page.contains("Hotels and stops from OpenStreetMap, fetched for Rome, Italy on "),
        "{page}"
    );
    let url = museums[0]["description"]["url"].as_str().expect("a URL");
    assert!(
        page.contains(&format!(
            "portrait busts. <a href=\"{url}\" rel=\"noopener external\">Wikipedia</a>"
        )),
        "{page}"
    );
    // The places are stored: the next plan for Rome asks nothing.
    b.make_plan(&json!({"destination": "Rome", "days": 2, "prefs": "fountains"}))
        .await;
    assert_eq!(
        asked() - before,
        1,
        "the stored places answer the second plan"
    );
    // Every article was asked once: the cached ones (with their "none") made no request.
    let keys: Vec<String> = state.of("wikipedia").into_iter().map(|h| h.key).collect();
    let distinct: BTreeSet<&String> = keys.iter().collect();
    assert_eq!(distinct.len(), keys.len(), "{keys:?}");
    assert!(
        keys.len() > asked_wikipedia,
        "the second plan's new stops: {keys:?}"
    );
    check_policy();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_city_whose_places_cannot_be_fetched_is_planned_empty_with_the_reason() {
    let _turn = one_at_a_time().await;
    let (state, _) = stand_in();
    for (mode, said) in [
        (Mode::Fail, "it answered HTTP 500"),
        (Mode::TooMany("60"), "it asked to slow down"),
        (Mode::Garbled, "its answer could not be read"),
    ] {
        *state.places.lock().expect("mode") = Some(mode);
        let mut b = tripwright_testkit::server::Browser::signed_in(base()).await;
        // A new city each time: a failure is not cached, but a plan made the same day is.
        let city = match said.len() % 3 {
            0 => "Madrid",
            1 => "Lisbon",
            _ => "Athens",
        };
        let id = b
            .make_plan(&json!({"destination": city, "days": 1, "prefs": said}))
            .await;
        let plan = b.get(&format!("/api/plans/{id}")).await.json();
        let warnings = plan["warnings"].to_string();
        assert!(
            warnings.contains(&format!(
                "places near {city} could not be fetched from OpenStreetMap ({said}"
            )),
            "{warnings}"
        );
        assert!(warnings.contains("tripwright import osm"), "{warnings}");
    }
    *state.places.lock().expect("mode") = None;
}

/// Every stop of a plan, all days.
fn all_stops(plan: &Value) -> Vec<Value> {
    plan["itinerary"]["days"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|d| d["stops"].as_array().cloned().unwrap_or_default())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn failed_wikipedia_lookups_leave_stops_undescribed_and_are_asked_again() {
    let _turn = one_at_a_time().await;
    let (state, _) = stand_in();
    *state.places.lock().expect("mode") = None;
    // Museo 0: 429 with a short Retry-After, then the answer (retried once, within the plan).
    // Museo 1: 500. Museo 2: its summary is cut off. Museo 3: its summary is JSON that ends
    // half-way. Fontana 0: its link query answers 17 MiB. Each answers usually after that.
    for (key, failure) in [
        ("links:it:Museo 0", Mode::TooMany("1")),
        ("links:it:Museo 1", Mode::Fail),
        ("summary:en:Museum_2", Mode::CutOff),
        ("summary:en:Museum_3", Mode::Garbled),
        ("links:it:Fontana 0", Mode::Huge),
    ] {
        state.script("wikipedia", key, vec![failure, Mode::Usual]);
    }
    let described = |plan: &Value| -> BTreeSet<String> {
        all_stops(plan)
            .iter()
            .filter(|s| s.get("description").is_some())
            .filter_map(|s| s["name"].as_str().map(str::to_owned))
            .collect()
    };
    let museums: BTreeSet<String> = (0..4).map(|i| format!("Museo {i}")).collect();
    let mut b = tripwright_testkit::server::Browser::signed_in(base()).await;
    let earlier = state.all().len();
    let request = json!({"destination": "Vienna", "days": 2, "prefs": "museums"});
    let id = b.make_plan(&request).await;
    let plan = b.get(&format!("/api/plans/{id}")).await.json();
    let names: BTreeSet<String> = all_stops(&plan)
        .iter()
        .filter_map(|s| s["name"].as_str().map(str::to_owned))
        .collect();
    assert!(museums.is_subset(&names), "{names:?}");
    assert!(names.contains("Fontana 0"), "{names:?}");
    // The plan is delivered; only the museum whose 429 was retried is described.
    assert_eq!(
        described(&plan),
        BTreeSet::from(["Museo 0".to_owned()]),
        "{plan}"
    );
    let tag = state.all()[earlier..]
        .iter()
        .filter(|h| h.service == "wikipedia")
        .find_map(|h| h.key.strip_prefix("it:Museo 0 ").map(str::to_owned))
        .expect("Museo 0 was looked up");
    let asked = |key: &str| state.hits("wikipedia", &format!("{key} {tag}")).len();
    assert_eq!(asked("it:Museo 0"), 2, "the 429, then its retry");
    // A failure is not remembered: the next plan (another request: the same one is answered
    // from the plan cache) asks again, and now every museum is described.
    let id = b
        .make_plan(&json!({"destination": "Vienna", "days": 2, "prefs": "museums and art"}))
        .await;
    let plan = b.get(&format!("/api/plans/{id}")).await.json();
    let again = described(&plan);
    assert!(museums.is_subset(&again), "{again:?}");
    assert_eq!(asked("it:Museo 0"), 2, "a found article is cached");
    assert_eq!(asked("it:Museo 1"), 2, "after its 500");
    assert_eq!(asked("it:Fontana 0"), 2, "after its oversized answer");
    state.scripts.lock().expect("scripts").clear();
    check_policy();
}
