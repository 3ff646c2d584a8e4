//! Online lookups: a Nominatim geocoder for places the offline gazetteer does not know, and an
//! Overpass API for live grocery shops and the places of destinations the store lacks. One
//! switch, `[online] enabled`, governs both (on by default, with the public instances); an
//! empty URL turns one off; only the configured URLs are asked. A service that could not be
//! reached (no route, no name resolution, refused) is not asked again for
//! [`UNREACHABLE_PAUSE`]: every lookup meanwhile fails at once, so a machine without internet
//! never waits on it; a connection gets at most [`CONNECT_TIMEOUT`].
//!
//! The services' usage policies are kept: every request carries the User-Agent
//! `Tripwright/{version} ({contact})`; this process sends each service at most one request per
//! second, one at a time (a request waits for its turn, at most the configured timeout); every
//! answer, "nothing found" included, is cached in the store (namespaces `nominatim` and
//! `overpass`) for `cache_hours`, and a cached answer makes no request. A 429 is retried once
//! when its `Retry-After` is at most 5 s; any other failure (429, 5xx, a timeout, a body cut
//! off, JSON that does not parse) is an [`OnlineError`], and the caller falls back to the
//! offline answer with a notice.

use std::collections::{BTreeMap, HashSet};
use std::sync::LazyLock;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderValue, RETRY_AFTER};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;
use tripwright_config::OnlineConfig;
use tripwright_domain::{BBox, GeoPoint, Place, PlaceCategory, PlaceId};
use tripwright_store::CacheStore;

/// Least time between two requests to OpenStreetMap's services (their usage policies: 1
/// request/s).
const MIN_INTERVAL: Duration = Duration::from_secs(1);
/// Least time between two requests to Wikipedia (its API allows far more; one at a time, a
/// tenth of a second apart, is polite and fast enough for a plan's few stops).
const WIKIPEDIA_INTERVAL: Duration = Duration::from_millis(100);
/// Longest description kept from a summary, in characters (whole sentences).
const MAX_SUMMARY_CHARS: usize = 320;
/// Longest `Retry-After` waited for before the one retry; longer ones give up at once.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(5);
/// How long a service that could not be reached is not asked again.
pub const UNREACHABLE_PAUSE: Duration = Duration::from_secs(300);
/// Longest wait for a connection (within the configured timeout).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Largest answer read, bytes.
const MAX_BODY_BYTES: usize = 16 << 20;
/// Largest street-map answer read, bytes (an 8 × 8 km box of a dense city centre's streets,
/// paths, water and parks is about 20–40 MB).
const MAX_MAP_BYTES: usize = 64 << 20;
/// The street map of a fetched region covers at most this far from its centre, km.
pub const MAX_MAP_RADIUS_KM: f64 = 4.0;
/// Added to the Overpass `around` radius so that rounding the centre to 4 decimals (≤ 8 m)
/// loses no shop at the edge; the caller filters to the exact radius.
const AROUND_MARGIN_M: f64 = 20.0;
/// The `shop=*` values of the grocery category.
const GROCERY_SHOPS: [&str; 4] = ["supermarket", "convenience", "grocery", "greengrocer"];
/// The tags of an Overpass shop that are kept (and cached).
const KEPT_TAGS: [&str; 5] = [
    "name",
    "shop",
    "opening_hours",
    "addr:street",
    "addr:housenumber",
];

/// When this process last heard from Nominatim; held while a request is under way.
static NOMINATIM_TURN: LazyLock<Mutex<Option<Instant>>> = LazyLock::new(|| Mutex::new(None));
/// When this process last heard from Overpass; held while a request is under way.
static OVERPASS_TURN: LazyLock<Mutex<Option<Instant>>> = LazyLock::new(|| Mutex::new(None));
/// When this process last heard from Wikipedia; held while a request is under way.
static WIKIPEDIA_TURN: LazyLock<Mutex<Option<Instant>>> = LazyLock::new(|| Mutex::new(None));

/// A third-party service.
#[derive(Debug, Clone, Copy)]
enum Service {
    Nominatim,
    Overpass,
    Wikipedia,
}

impl Service {
    fn name(self) -> &'static str {
        match self {
            Self::Nominatim => "nominatim",
            Self::Overpass => "overpass",
            Self::Wikipedia => "wikipedia",
        }
    }

    /// The process-wide turn of the service.
    fn turn(self) -> &'static Mutex<Option<Instant>> {
        match self {
            Self::Nominatim => &NOMINATIM_TURN,
            Self::Overpass => &OVERPASS_TURN,
            Self::Wikipedia => &WIKIPEDIA_TURN,
        }
    }

    /// Least time between two of its requests.
    fn interval(self) -> Duration {
        match self {
            Self::Nominatim | Self::Overpass => MIN_INTERVAL,
            Self::Wikipedia => WIKIPEDIA_INTERVAL,
        }
    }
}

/// Why an online lookup gave no answer.
#[derive(Debug, Clone, PartialEq)]
pub enum OnlineError {
    /// Other lookups held the service for longer than the timeout.
    Busy,
    /// 429 Too Many Requests (still, after the one retry, or with no or a long
    /// `Retry-After`, carried here when there was one).
    RateLimited(Option<Duration>),
    /// Another status than 200 (a 5xx, 4xx …).
    Status(u16),
    /// No complete answer within the timeout.
    Timeout,
    /// No connection, or the request could not be sent.
    Unreachable(String),
    /// The connection ended before the whole answer came.
    CutOff,
    /// The answer is larger than the limit (16 MiB; 64 MiB for a street map).
    TooLarge,
    /// The answer is not the JSON the protocol describes.
    Invalid(String),
    /// Overpass stopped the query (its `remark`, e.g. "runtime error: Query timed out").
    Incomplete(String),
}

impl std::fmt::Display for OnlineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Busy => f.write_str("it is busy with other searches"),
            Self::RateLimited(_) => f.write_str("it asked to slow down (HTTP 429)"),
            Self::Status(s) => write!(f, "it answered HTTP {s}"),
            Self::Timeout => f.write_str("it did not answer in time"),
            Self::Unreachable(_) => f.write_str("it could not be reached"),
            Self::CutOff => f.write_str("its answer was cut off"),
            Self::TooLarge => f.write_str("its answer was too large"),
            Self::Invalid(_) => f.write_str("its answer could not be read"),
            Self::Incomplete(_) => f.write_str("it could not finish the query"),
        }
    }
}

impl std::error::Error for OnlineError {}

impl OnlineError {
    /// What went wrong in detail, for the log (empty when [`Display`] says it all).
    ///
    /// [`Display`]: std::fmt::Display
    pub fn detail(&self) -> String {
        match self {
            Self::Unreachable(d) | Self::Invalid(d) | Self::Incomplete(d) => d.clone(),
            Self::RateLimited(Some(after)) => format!("Retry-After {after:?}"),
            _ => String::new(),
        }
    }
}

/// The summary of a Wikipedia article, for a stop's description.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Article {
    /// The article's title.
    pub title: String,
    /// Its first sentences (at most 320 characters, whole sentences).
    pub summary: String,
    /// The article's address, for the link and the attribution.
    pub url: String,
}

/// A place found by Nominatim.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GeocodeHit {
    /// Nominatim's `display_name`.
    pub display_name: String,
    /// Latitude.
    pub lat: f64,
    /// Longitude.
    pub lon: f64,
}

/// The online lookups: off (no client at all) unless a URL is configured.
pub struct Online {
    /// The HTTP client (User-Agent and timeout set), when a service is configured.
    http: Option<reqwest::Client>,
    /// Nominatim's base URL, without a trailing `/`.
    nominatim: Option<String>,
    /// Overpass's base URL, without a trailing `/`.
    overpass: Option<String>,
    /// Wikipedia's base URL with `{lang}`, without a trailing `/`.
    wikipedia: Option<String>,
    /// How long a cached answer is used.
    cache_secs: u64,
    /// Longest wait for an answer, and for a turn.
    timeout: Duration,
    /// `[online] enabled`.
    enabled: bool,
    /// Services that could not be reached, with when: not asked again until
    /// [`UNREACHABLE_PAUSE`] has passed.
    unreachable: std::sync::Mutex<Vec<(&'static str, Instant, String)>>,
}

impl std::fmt::Debug for Online {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Online")
            .field("nominatim", &self.nominatim)
            .field("overpass", &self.overpass)
            .field("cache_secs", &self.cache_secs)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// `Tripwright/{version} ({contact})`, or without the parenthesis when there is no contact.
fn user_agent(contact: &str) -> String {
    let version = env!("CARGO_PKG_VERSION");
    if contact.is_empty() {
        format!("Tripwright/{version}")
    } else {
        format!("Tripwright/{version} ({contact})")
    }
}

/// A configured base URL without its trailing `/`; `None` when unset, blank or `off`.
fn base_url(key: &str, url: Option<&str>) -> Result<Option<String>, String> {
    match url
        .map(str::trim)
        .filter(|u| !u.is_empty() && !u.eq_ignore_ascii_case("off"))
    {
        None => Ok(None),
        Some(u) if u.starts_with("https://") || u.starts_with("http://") => {
            Ok(Some(u.trim_end_matches('/').to_owned()))
        }
        Some(u) => Err(format!(
            "[online] {key} = {u:?} is not an http(s) URL; give one like https://nominatim.example.org"
        )),
    }
}

/// `q` trimmed, lower case, single spaces: the cache key and what is asked.
fn normalise(q: &str) -> String {
    q.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// `x` rounded to 4 decimals (about 11 m).
fn round4(x: f64) -> f64 {
    (x * 1e4).round() / 1e4
}

/// The `Retry-After` header: seconds, or an HTTP date.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    Some(
        (at.with_timezone(&chrono::Utc) - chrono::Utc::now())
            .to_std()
            .unwrap_or(Duration::ZERO),
    )
}

/// Sends `request` and reads the whole answer of a 200.
async fn fetch(request: reqwest::RequestBuilder, max_bytes: usize) -> Result<Vec<u8>, OnlineError> {
    let mut response = request.send().await.map_err(|e| {
        if e.is_timeout() {
            OnlineError::Timeout
        } else {
            OnlineError::Unreachable(e.to_string())
        }
    })?;
    let status = response.status();
    if status == StatusCode::TOO_MANY_REQUESTS {
        return Err(OnlineError::RateLimited(retry_after(response.headers())));
    }
    if status != StatusCode::OK {
        return Err(OnlineError::Status(status.as_u16()));
    }
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > max_bytes {
                    return Err(OnlineError::TooLarge);
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(body),
            Err(e) if e.is_timeout() => return Err(OnlineError::Timeout),
            Err(_) => return Err(OnlineError::CutOff),
        }
    }
}

/// The English title of an `action=query&prop=langlinks&lllang=en` answer, if the article has
/// one.
fn parse_langlink(body: &[u8]) -> Result<Option<String>, OnlineError> {
    let v: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| OnlineError::Invalid(e.to_string()))?;
    let pages = v
        .pointer("/query/pages")
        .and_then(serde_json::Value::as_object)
        .ok_or_else(|| OnlineError::Invalid("no query.pages".into()))?;
    Ok(pages.values().find_map(|page| {
        page.get("langlinks")?
            .as_array()?
            .iter()
            .find(|l| l.get("lang").and_then(serde_json::Value::as_str) == Some("en"))?
            .get("*")?
            .as_str()
            .map(str::to_owned)
    }))
}

/// A page summary (`/api/rest_v1/page/summary/…`): `None` for a disambiguation page or one
/// without text.
fn parse_summary(body: &[u8]) -> Result<Option<Article>, OnlineError> {
    let v: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| OnlineError::Invalid(e.to_string()))?;
    let text = |p: &str| {
        v.pointer(p)
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default()
    };
    if text("/type") == "disambiguation" {
        return Ok(None);
    }
    let (title, extract, url) = (
        text("/title"),
        text("/extract").trim(),
        text("/content_urls/desktop/page"),
    );
    if title.is_empty() || url.is_empty() {
        return Err(OnlineError::Invalid(
            "a summary without title or address".into(),
        ));
    }
    let summary = first_sentences(extract, MAX_SUMMARY_CHARS);
    Ok((!summary.is_empty()).then(|| Article {
        title: title.to_owned(),
        summary,
        url: url.to_owned(),
    }))
}

/// The whole sentences of `text` that fit in `max` characters (at least the first, cut at a
/// word with "…" if it alone is longer).
fn first_sentences(text: &str, max: usize) -> String {
    let mut out = String::new();
    for sentence in text.split_inclusive(". ") {
        if out.chars().count() + sentence.chars().count() > max {
            break;
        }
        out.push_str(sentence);
    }
    if out.is_empty() {
        let mut cut: String = text.chars().take(max).collect();
        if cut.chars().count() < text.chars().count() {
            if let Some(space) = cut.rfind(' ') {
                cut.truncate(space);
            }
            cut.push('…');
        }
        return cut;
    }
    out.trim().to_owned()
}

/// The first hit of a Nominatim `format=jsonv2` answer (an array; `lat`/`lon` are strings).
fn parse_nominatim(body: &[u8]) -> Result<Option<GeocodeHit>, OnlineError> {
    let hits: Vec<serde_json::Value> =
        serde_json::from_slice(body).map_err(|e| OnlineError::Invalid(e.to_string()))?;
    let Some(first) = hits.first() else {
        return Ok(None);
    };
    let number = |key: &str| {
        first
            .get(key)
            .and_then(|v| v.as_f64().or_else(|| v.as_str()?.trim().parse().ok()))
    };
    let (Some(lat), Some(lon)) = (number("lat"), number("lon")) else {
        return Err(OnlineError::Invalid("a hit without lat/lon".into()));
    };
    if !GeoPoint::new(lat, lon).is_valid() {
        return Err(OnlineError::Invalid(format!(
            "{lat}, {lon} is not a position"
        )));
    }
    let display_name = first
        .get("display_name")
        .and_then(|v| v.as_str())
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .ok_or_else(|| OnlineError::Invalid("a hit without display_name".into()))?;
    Ok(Some(GeocodeHit {
        display_name: display_name.to_owned(),
        lat,
        lon,
    }))
}

/// An Overpass answer (`[out:json]`).
#[derive(Deserialize)]
struct OverpassAnswer {
    elements: Vec<OverpassElement>,
    #[serde(default)]
    remark: Option<String>,
}

/// A node (`lat`, `lon`) or a way (`center` with `out center`).
#[derive(Deserialize)]
struct OverpassElement {
    #[serde(rename = "type")]
    kind: String,
    id: u64,
    lat: Option<f64>,
    lon: Option<f64>,
    center: Option<OverpassCenter>,
    #[serde(default)]
    tags: BTreeMap<String, String>,
    /// A way's node ids (`out body`).
    #[serde(default)]
    nodes: Vec<i64>,
    /// A relation's members (`out body`).
    #[serde(default)]
    members: Vec<OverpassMember>,
}

/// A relation's member.
#[derive(Deserialize)]
struct OverpassMember {
    #[serde(rename = "type")]
    kind: String,
    #[serde(rename = "ref")]
    id: i64,
}

#[derive(Deserialize)]
struct OverpassCenter {
    lat: f64,
    lon: f64,
}

/// The places of an Overpass answer that `place` makes of its elements (a node at its
/// position, a way at its centre, valid positions only), one per place id. A query Overpass
/// stopped half-way is an error.
fn places_of(
    body: &[u8],
    place: impl Fn(&OverpassElement, f64, f64) -> Option<Place>,
) -> Result<Vec<Place>, OnlineError> {
    let answer: OverpassAnswer =
        serde_json::from_slice(body).map_err(|e| OnlineError::Invalid(e.to_string()))?;
    // Overpass reports a query stopped half-way (timeout, memory) with a 200 and a remark.
    if let Some(remark) = answer.remark.filter(|r| r.contains("error")) {
        return Err(OnlineError::Incomplete(remark));
    }
    let mut seen = HashSet::new();
    let mut places = Vec::new();
    for e in answer.elements {
        let (lat, lon) = match (e.kind.as_str(), e.lat, e.lon, &e.center) {
            ("node", Some(lat), Some(lon), _) => (lat, lon),
            ("way", _, _, Some(c)) => (c.lat, c.lon),
            _ => continue,
        };
        if !GeoPoint::new(lat, lon).is_valid() {
            continue;
        }
        if let Some(p) = place(&e, lat, lon)
            && seen.insert(p.id.clone())
        {
            places.push(p);
        }
    }
    Ok(places)
}

/// The named grocery shops of an Overpass answer, as places (`osm:node/…`, `osm:way/…`).
fn parse_overpass(body: &[u8]) -> Result<Vec<Place>, OnlineError> {
    places_of(body, |e, lat, lon| {
        let name = e.tags.get("name").map(|n| n.trim()).unwrap_or_default();
        let kind = e.tags.get("shop").map(String::as_str).unwrap_or_default();
        if name.is_empty() || !GROCERY_SHOPS.contains(&kind) {
            return None;
        }
        let tags: BTreeMap<String, String> = e
            .tags
            .iter()
            .filter(|(k, _)| KEPT_TAGS.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        Some(Place {
            id: PlaceId::osm(&e.kind, e.id),
            name: name.to_owned(),
            category: PlaceCategory::Grocery,
            kind: kind.to_owned(),
            lat,
            lon,
            opening_hours: tags.get("opening_hours").cloned(),
            tags,
        })
    })
}

/// The Overpass QL query for the grocery shops within `radius_m` of `(lat, lon)`.
fn overpass_query(lat: f64, lon: f64, radius_m: u64) -> String {
    let shops = GROCERY_SHOPS.join("|");
    format!(
        "[out:json][timeout:25];\n(\n  node[\"shop\"~\"^({shops})$\"][\"name\"](around:{radius_m},{lat:.4},{lon:.4});\n  way[\"shop\"~\"^({shops})$\"][\"name\"](around:{radius_m},{lat:.4},{lon:.4});\n);\nout center tags;\n"
    )
}

/// Every place of an Overpass answer that the import's rules keep (hotels, sights, artworks,
/// eateries, grocery shops), one per element.
fn parse_places(body: &[u8]) -> Result<Vec<Place>, OnlineError> {
    places_of(body, |e, lat, lon| {
        let id = i64::try_from(e.id).ok()?;
        tripwright_data::osm::place_of((&e.kind, id), (lat, lon), &e.tags)
    })
}

/// The Overpass QL query for every place a plan uses (the import's categories) within
/// `radius_m` of `(lat, lon)`.
fn places_query(lat: f64, lon: f64, radius_m: u64) -> String {
    let around = format!("(around:{radius_m},{lat:.4},{lon:.4})");
    let filters = [
        "[\"tourism\"~\"^(hotel|hostel|guest_house|apartment|motel|attraction|museum|viewpoint|gallery|zoo|theme_park|artwork)$\"]",
        "[\"historic\"]",
        "[\"amenity\"~\"^(restaurant|cafe|fast_food|bar|pub)$\"]",
        "[\"shop\"~\"^(supermarket|convenience|grocery|greengrocer)$\"]",
    ];
    let mut q = String::from("[out:json][timeout:60];\n(\n");
    for f in filters {
        for element in ["node", "way"] {
            q.push_str(&format!("  {element}{f}[\"name\"]{around};\n"));
        }
    }
    q.push_str(");\nout center tags;\n");
    q
}

/// The Overpass QL query for the street map inside `b`: streets and paths, railways and tram
/// lines, water and the coastline, parks, woods and squares (what
/// [`tripwright_data::osm_map`] draws; buildings are left out, they would be most of the
/// answer), then the nodes and member ways they use (`>`), without their tags (`skel`).
fn map_query(b: &BBox) -> String {
    let bbox = format!(
        "{:.5},{:.5},{:.5},{:.5}",
        b.min_lat, b.min_lon, b.max_lat, b.max_lon
    );
    format!(
        "[out:json][timeout:120][maxsize:{MAX_MAP_BYTES}][bbox:{bbox}];\n(\n  way[\"highway\"];\n  way[\"railway\"~\"^(rail|tram|light_rail|narrow_gauge)$\"];\n  way[\"natural\"~\"^(water|coastline|wood|scrub|grassland|heath)$\"];\n  way[\"waterway\"=\"riverbank\"];\n  way[\"landuse\"~\"^(reservoir|basin|grass|forest|meadow|cemetery|recreation_ground|village_green)$\"];\n  way[\"leisure\"~\"^(park|garden|nature_reserve)$\"];\n  way[\"place\"=\"square\"];\n  way[\"amenity\"=\"marketplace\"];\n  relation[\"type\"=\"multipolygon\"][~\"^(natural|waterway|landuse|leisure|place)$\"~\".\"];\n)->.map;\n.map out body qt;\n.map > ->.used;\n.used out skel qt;\n"
    )
}

/// The street map in an Overpass answer to [`map_query`] for `extent`. A query Overpass
/// stopped half-way is an error (a map with holes would route walks around them).
fn parse_map(
    body: &[u8],
    extent: BBox,
) -> Result<tripwright_data::osm_map::MapImport, OnlineError> {
    let answer: OverpassAnswer =
        serde_json::from_slice(body).map_err(|e| OnlineError::Invalid(e.to_string()))?;
    if let Some(remark) = answer.remark.filter(|r| r.contains("error")) {
        return Err(OnlineError::Incomplete(remark));
    }
    let mut map = tripwright_data::osm_map::MapBuilder::default();
    fn tags(e: &OverpassElement) -> Vec<(&str, &str)> {
        e.tags
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect()
    }
    let id = |e: &OverpassElement| i64::try_from(e.id).ok();
    for e in answer.elements.iter().filter(|e| e.kind == "relation") {
        let t = tags(e);
        map.relation(
            t.iter().copied(),
            e.members.iter().filter(|m| m.kind == "way").map(|m| m.id),
        );
    }
    for e in answer.elements.iter().filter(|e| e.kind == "way") {
        if let Some(id) = id(e) {
            let t = tags(e);
            map.way(id, t.iter().copied(), e.nodes.iter().copied());
        }
    }
    for e in answer.elements.iter().filter(|e| e.kind == "node") {
        if let (Some(id), Some(lat), Some(lon)) = (id(e), e.lat, e.lon) {
            let p = GeoPoint::new(lat, lon);
            if p.is_valid() {
                map.node(id, p);
            }
        }
    }
    Ok(map.finish(Some(extent)))
}

impl Online {
    /// The lookups of `config`: no client unless they are enabled and a URL is set.
    ///
    /// # Errors
    /// A URL that is not http(s), a contact a header cannot carry, or no HTTP client.
    pub fn new(config: &OnlineConfig) -> Result<Self, String> {
        let nominatim =
            base_url("nominatim_url", config.nominatim_url.as_deref())?.filter(|_| config.enabled);
        let overpass =
            base_url("overpass_url", config.overpass_url.as_deref())?.filter(|_| config.enabled);
        let wikipedia =
            base_url("wikipedia_url", config.wikipedia_url.as_deref())?.filter(|_| config.enabled);
        let timeout = Duration::from_secs(config.timeout_secs.max(1));
        let http = if nominatim.is_some() || overpass.is_some() || wikipedia.is_some() {
            let contact = config.user_agent_contact.trim();
            if contact.is_empty() {
                tracing::warn!(
                    "online lookups are on without [online] user_agent_contact: the services' usage policies ask for a way to reach you"
                );
            }
            let agent = HeaderValue::from_str(&user_agent(contact)).map_err(|_| {
                format!("[online] user_agent_contact = {contact:?} cannot be sent in a header")
            })?;
            let client = reqwest::Client::builder()
                .user_agent(agent)
                .timeout(timeout)
                .connect_timeout(CONNECT_TIMEOUT.min(timeout))
                .build()
                .map_err(|e| format!("no HTTP client for the online lookups: {e}"))?;
            tracing::info!(?nominatim, ?overpass, ?wikipedia, "online lookups are on");
            Some(client)
        } else {
            None
        };
        Ok(Self {
            http,
            nominatim,
            overpass,
            wikipedia,
            cache_secs: config.cache_hours.saturating_mul(3600),
            timeout,
            enabled: config.enabled,
            unreachable: std::sync::Mutex::new(Vec::new()),
        })
    }

    /// Whether Nominatim is configured.
    pub fn geocodes(&self) -> bool {
        self.nominatim.is_some()
    }

    /// Whether Wikipedia is configured.
    pub fn describes(&self) -> bool {
        self.wikipedia.is_some()
    }

    /// Whether Overpass is configured.
    pub fn lists_shops(&self) -> bool {
        self.overpass.is_some()
    }

    /// Why Overpass is not asked, in words with the setting to change (`None`: it is).
    pub fn overpass_off(&self) -> Option<&'static str> {
        if self.overpass.is_some() {
            None
        } else if !self.enabled {
            Some(
                "online lookups are off: set [online] enabled = true (TRIPWRIGHT_ONLINE__ENABLED=true)",
            )
        } else {
            Some(
                "no Overpass server is configured: set [online] overpass_url (TRIPWRIGHT_ONLINE__OVERPASS_URL)",
            )
        }
    }

    /// The English summary of the Wikipedia article an OpenStreetMap `reference` names
    /// (`en:Kiasma`, `fi:Ateneumin taidemuseo`; a non-English one is followed to its English
    /// article): `None` when there is none, or Wikipedia is not configured. Answers are
    /// cached, "none" included.
    ///
    /// # Errors
    /// The lookup failed (see [`OnlineError`]); nothing is cached then.
    pub async fn wikipedia(
        &self,
        store: &dyn CacheStore,
        reference: &str,
    ) -> Result<Option<Article>, OnlineError> {
        let (Some(http), Some(base)) = (&self.http, &self.wikipedia) else {
            return Ok(None);
        };
        let Some((lang, title)) = reference
            .split_once(':')
            .map(|(l, t)| (l.trim().to_lowercase(), t.trim()))
            .filter(|(l, t)| {
                !t.is_empty()
                    && (2..=12).contains(&l.len())
                    && l.chars().all(|c| c.is_ascii_lowercase() || c == '-')
            })
        else {
            return Ok(None);
        };
        let key = format!("{lang}:{title}");
        if let Some(article) = self
            .cached::<Option<Article>>(store, Service::Wikipedia, &key)
            .await
        {
            return Ok(article);
        }
        let wiki = |lang: &str| base.replace("{lang}", lang);
        let english = if lang == "en" {
            Some(title.to_owned())
        } else {
            let params = serde_urlencoded::to_string([
                ("action", "query"),
                ("format", "json"),
                ("prop", "langlinks"),
                ("lllang", "en"),
                ("redirects", "1"),
                ("titles", title),
            ])
            .map_err(|e| OnlineError::Invalid(e.to_string()))?;
            let url = format!("{}/w/api.php?{params}", wiki(&lang));
            let body = self
                .exchange(Service::Wikipedia, MAX_BODY_BYTES, || http.get(&url))
                .await?;
            parse_langlink(&body).inspect_err(|e| log_failure(Service::Wikipedia, e))?
        };
        let article = match english {
            None => None,
            Some(english) => {
                let mut url = reqwest::Url::parse(&wiki("en"))
                    .map_err(|e| OnlineError::Invalid(e.to_string()))?;
                url.path_segments_mut()
                    .map_err(|()| OnlineError::Invalid("not a base URL".into()))?
                    .pop_if_empty()
                    .extend([
                        "api",
                        "rest_v1",
                        "page",
                        "summary",
                        &english.replace(' ', "_"),
                    ]);
                match self
                    .exchange(Service::Wikipedia, MAX_BODY_BYTES, || http.get(url.clone()))
                    .await
                {
                    Err(OnlineError::Status(404)) => None,
                    Err(e) => return Err(e),
                    Ok(body) => {
                        parse_summary(&body).inspect_err(|e| log_failure(Service::Wikipedia, e))?
                    }
                }
            }
        };
        self.remember(store, Service::Wikipedia, &key, &article)
            .await;
        Ok(article)
    }

    /// Nominatim's best hit for `query` (`None`: not found, or Nominatim is not configured).
    ///
    /// # Errors
    /// The lookup failed (see [`OnlineError`]); nothing is cached then.
    pub async fn geocode(
        &self,
        store: &dyn CacheStore,
        query: &str,
    ) -> Result<Option<GeocodeHit>, OnlineError> {
        let (Some(http), Some(base)) = (&self.http, &self.nominatim) else {
            return Ok(None);
        };
        let q = normalise(query);
        if let Some(hit) = self
            .cached::<Option<GeocodeHit>>(store, Service::Nominatim, &q)
            .await
        {
            return Ok(hit);
        }
        let params =
            serde_urlencoded::to_string([("q", q.as_str()), ("format", "jsonv2"), ("limit", "1")])
                .map_err(|e| OnlineError::Unreachable(e.to_string()))?;
        let url = format!("{base}/search?{params}");
        let body = self
            .exchange(Service::Nominatim, MAX_BODY_BYTES, || http.get(&url))
            .await?;
        let hit = parse_nominatim(&body).inspect_err(|e| log_failure(Service::Nominatim, e))?;
        self.remember(store, Service::Nominatim, &q, &hit).await;
        Ok(hit)
    }

    /// Overpass's named grocery shops within `radius_km` of `center` (and a few metres more:
    /// the caller filters to the radius). Empty when Overpass is not configured.
    ///
    /// # Errors
    /// The lookup failed (see [`OnlineError`]); nothing is cached then.
    pub async fn shops(
        &self,
        store: &dyn CacheStore,
        center: GeoPoint,
        radius_km: f64,
    ) -> Result<Vec<Place>, OnlineError> {
        let (lat, lon) = (round4(center.lat), round4(center.lon));
        let key = format!("{lat:.4},{lon:.4},{:.4}", round4(radius_km));
        let radius_m = (radius_km * 1000.0 + AROUND_MARGIN_M).ceil() as u64;
        self.overpass_places(
            store,
            &key,
            overpass_query(lat, lon, radius_m),
            parse_overpass,
        )
        .await
    }

    /// Overpass's places for planning within `radius_km` of `center`: hotels, sights,
    /// artworks, eateries and grocery shops, by the import's rules. Empty when Overpass is not
    /// configured.
    ///
    /// # Errors
    /// The lookup failed (see [`OnlineError`]); nothing is cached then.
    pub async fn places(
        &self,
        store: &dyn CacheStore,
        center: GeoPoint,
        radius_km: f64,
    ) -> Result<Vec<Place>, OnlineError> {
        let (lat, lon) = (round4(center.lat), round4(center.lon));
        let key = format!("places:{lat:.4},{lon:.4},{:.4}", round4(radius_km));
        let radius_m = (radius_km * 1000.0).ceil() as u64;
        self.overpass_places(store, &key, places_query(lat, lon, radius_m), parse_places)
            .await
    }

    /// The street map of OpenStreetMap inside `extent` (see [`map_query`]). Not cached: the
    /// caller stores it (a region's map is fetched with its places). The request may take
    /// three times the configured timeout: Overpass takes longer over a city's streets.
    ///
    /// # Errors
    /// Overpass is not configured (`Unreachable`), or the lookup failed.
    pub async fn street_map(
        &self,
        extent: BBox,
    ) -> Result<tripwright_data::osm_map::MapImport, OnlineError> {
        let (Some(http), Some(base)) = (&self.http, &self.overpass) else {
            return Err(OnlineError::Unreachable(
                "no Overpass server is configured".into(),
            ));
        };
        let form = serde_urlencoded::to_string([("data", map_query(&extent))])
            .map_err(|e| OnlineError::Unreachable(e.to_string()))?;
        let url = format!("{base}/api/interpreter");
        let body = self
            .exchange(Service::Overpass, MAX_MAP_BYTES, || {
                http.post(&url)
                    .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .timeout(self.timeout * 3)
                    .body(form.clone())
            })
            .await?;
        tokio::task::spawn_blocking(move || parse_map(&body, extent))
            .await
            .map_err(|e| OnlineError::Invalid(e.to_string()))?
            .inspect_err(|e| log_failure(Service::Overpass, e))
    }

    /// The places `parse` reads from Overpass's answer to `query`, cached under `key` (a
    /// cached answer makes no request). Empty when Overpass is not configured.
    async fn overpass_places(
        &self,
        store: &dyn CacheStore,
        key: &str,
        query: String,
        parse: fn(&[u8]) -> Result<Vec<Place>, OnlineError>,
    ) -> Result<Vec<Place>, OnlineError> {
        let (Some(http), Some(base)) = (&self.http, &self.overpass) else {
            return Ok(Vec::new());
        };
        if let Some(places) = self
            .cached::<Vec<Place>>(store, Service::Overpass, key)
            .await
        {
            return Ok(places);
        }
        let form = serde_urlencoded::to_string([("data", query)])
            .map_err(|e| OnlineError::Unreachable(e.to_string()))?;
        let url = format!("{base}/api/interpreter");
        let body = self
            .exchange(Service::Overpass, MAX_BODY_BYTES, || {
                http.post(&url)
                    .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .body(form.clone())
            })
            .await?;
        let places = parse(&body).inspect_err(|e| log_failure(Service::Overpass, e))?;
        self.remember(store, Service::Overpass, key, &places).await;
        Ok(places)
    }

    /// A fresh cached answer; a store failure or an unreadable entry counts as none.
    async fn cached<T: DeserializeOwned>(
        &self,
        store: &dyn CacheStore,
        service: Service,
        key: &str,
    ) -> Option<T> {
        let found = store.cache_get(service.name(), key, self.cache_secs).await;
        metrics::counter!(
            "tripwright_online_cache_total",
            "service" => service.name(),
            "result" => if matches!(found, Ok(Some(_))) { "hit" } else { "miss" },
        )
        .increment(1);
        match found {
            Ok(Some(text)) => serde_json::from_str(&text).ok(),
            Ok(None) => None,
            Err(e) => {
                tracing::warn!(service = service.name(), error = %e, "the online cache could not be read");
                None
            }
        }
    }

    /// Caches an answer; a failure is logged (the answer is still used).
    async fn remember<T: Serialize>(
        &self,
        store: &dyn CacheStore,
        service: Service,
        key: &str,
        v: &T,
    ) {
        let Ok(text) = serde_json::to_string(v) else {
            return;
        };
        if let Err(e) = store.cache_put(service.name(), key, &text).await {
            tracing::warn!(service = service.name(), error = %e, "an online answer could not be cached");
        }
    }

    /// One request to `service` when its turn comes: at least a second after its last
    /// answer, one at a time in this process; a 429 with a short `Retry-After` is retried once.
    async fn exchange(
        &self,
        service: Service,
        max_bytes: usize,
        request: impl Fn() -> reqwest::RequestBuilder,
    ) -> Result<Vec<u8>, OnlineError> {
        self.not_known_unreachable(service)?;
        let mut last = tokio::time::timeout(self.timeout, service.turn().lock())
            .await
            .map_err(|_| OnlineError::Busy)
            .inspect_err(|e| log_failure(service, e))?;
        // The request ahead in the queue may have just found it unreachable.
        self.not_known_unreachable(service)?;
        let mut retried = false;
        loop {
            if let Some(at) = *last {
                let wait = service.interval().saturating_sub(at.elapsed());
                if !wait.is_zero() {
                    tokio::time::sleep(wait).await;
                }
            }
            let answer = fetch(request(), max_bytes).await;
            *last = Some(Instant::now());
            metrics::counter!(
                "tripwright_online_requests_total",
                "service" => service.name(),
                "outcome" => if answer.is_ok() { "ok" } else { "failed" },
            )
            .increment(1);
            match answer {
                Err(OnlineError::RateLimited(Some(wait)))
                    if !retried && wait <= MAX_RETRY_AFTER =>
                {
                    tracing::info!(
                        service = service.name(),
                        ?wait,
                        "rate limited: retrying once after Retry-After"
                    );
                    retried = true;
                    metrics::counter!("tripwright_online_retries_total", "service" => service.name())
                        .increment(1);
                    tokio::time::sleep(wait).await;
                }
                Err(e) => {
                    log_failure(service, &e);
                    if let OnlineError::Unreachable(detail) = &e {
                        self.remember_unreachable(service, detail);
                    }
                    return Err(e);
                }
                Ok(body) => return Ok(body),
            }
        }
    }
}

impl Online {
    /// Fails at once while `service` is known to be unreachable.
    fn not_known_unreachable(&self, service: Service) -> Result<(), OnlineError> {
        let mut down = self.unreachable.lock().unwrap_or_else(|e| e.into_inner());
        down.retain(|(_, at, _)| at.elapsed() < UNREACHABLE_PAUSE);
        match down.iter().find(|(name, _, _)| *name == service.name()) {
            Some((_, at, detail)) => Err(OnlineError::Unreachable(format!(
                "not asked: unreachable {} s ago ({detail}); asked again {} s after that",
                at.elapsed().as_secs(),
                UNREACHABLE_PAUSE.as_secs()
            ))),
            None => Ok(()),
        }
    }

    /// Records that `service` could not be reached.
    fn remember_unreachable(&self, service: Service, detail: &str) {
        let mut down = self.unreachable.lock().unwrap_or_else(|e| e.into_inner());
        down.retain(|(name, _, _)| *name != service.name());
        down.push((service.name(), Instant::now(), detail.to_owned()));
        metrics::counter!("tripwright_online_unreachable_total", "service" => service.name())
            .increment(1);
        tracing::warn!(
            service = service.name(),
            pause_secs = UNREACHABLE_PAUSE.as_secs(),
            "an online service could not be reached; not asking it again for a while"
        );
    }
}

/// Logs a failed lookup with its detail.
fn log_failure(service: Service, e: &OnlineError) {
    tracing::warn!(
        service = service.name(),
        error = %e,
        detail = %e.detail(),
        "an online lookup failed; answering offline"
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use tripwright_domain::MapLayer;

    #[test]
    fn off_unless_enabled_with_a_url() {
        let online = Online::new(&OnlineConfig::default()).expect("defaults");
        assert!(
            online.geocodes() && online.lists_shops() && online.describes(),
            "on by default"
        );
        let online = Online::new(&OnlineConfig {
            enabled: false,
            ..OnlineConfig::default()
        })
        .expect("disabled");
        assert!(!online.geocodes() && !online.lists_shops());
        assert!(online.http.is_none(), "no client, so no request, when off");
        let online = Online::new(&OnlineConfig {
            nominatim_url: None,
            overpass_url: Some("off".into()),
            wikipedia_url: Some(" OFF ".into()),
            ..OnlineConfig::default()
        })
        .expect("no URLs");
        assert!(!online.geocodes() && !online.lists_shops() && !online.describes());
        assert!(online.http.is_none());
        let online = Online::new(&OnlineConfig {
            nominatim_url: Some("https://nominatim.example.org/".into()),
            overpass_url: Some("  ".into()),
            ..OnlineConfig::default()
        })
        .expect("nominatim only");
        assert!(online.geocodes() && !online.lists_shops());
        assert_eq!(
            online.nominatim.as_deref(),
            Some("https://nominatim.example.org")
        );
        for bad in ["nominatim.example.org", "ftp://x"] {
            let e = Online::new(&OnlineConfig {
                overpass_url: Some(bad.into()),
                ..OnlineConfig::default()
            })
            .expect_err(bad);
            assert!(e.contains("overpass_url"), "{e}");
        }
        let e = Online::new(&OnlineConfig {
            nominatim_url: Some("http://127.0.0.1:1".into()),
            user_agent_contact: "a\nb".into(),
            ..OnlineConfig::default()
        })
        .expect_err("newline in a header");
        assert!(e.contains("user_agent_contact"), "{e}");
    }

    #[tokio::test]
    async fn an_unreachable_service_is_not_asked_again_for_a_while() {
        let closed = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port");
        let online = Online::new(&OnlineConfig {
            overpass_url: Some(format!("http://{closed}")),
            ..OnlineConfig::default()
        })
        .expect("config");
        let http = online.http.clone().expect("a client");
        let url = format!("http://{closed}/api/interpreter");
        let asked = std::sync::atomic::AtomicUsize::new(0);
        let request = || {
            asked.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            http.post(&url)
        };
        let first = online
            .exchange(Service::Overpass, MAX_BODY_BYTES, request)
            .await;
        assert!(
            matches!(&first, Err(OnlineError::Unreachable(d)) if !d.starts_with("not asked")),
            "{first:?}"
        );
        let second = online
            .exchange(Service::Overpass, MAX_BODY_BYTES, request)
            .await;
        assert!(
            matches!(&second, Err(OnlineError::Unreachable(d)) if d.starts_with("not asked")),
            "{second:?}"
        );
        assert_eq!(asked.load(std::sync::atomic::Ordering::SeqCst), 1);
        // Another service is judged on its own.
        assert!(online.not_known_unreachable(Service::Nominatim).is_ok());
    }

    #[test]
    fn wikipedia_answers_are_read_and_summaries_cut_at_whole_sentences() {
        let links = br#"{"query":{"pages":{"1":{"title":"Ateneumin taidemuseo","langlinks":[{"lang":"en","*":"Ateneum"}]}}}}"#;
        assert_eq!(parse_langlink(links), Ok(Some("Ateneum".into())));
        let none = br#"{"query":{"pages":{"-1":{"title":"X","missing":""}}}}"#;
        assert_eq!(parse_langlink(none), Ok(None));
        assert!(matches!(
            parse_langlink(b"[]"),
            Err(OnlineError::Invalid(_))
        ));

        let page = |kind: &str, extract: &str| {
            serde_json::json!({"type": kind, "title": "Ateneum", "extract": extract,
                "content_urls": {"desktop": {"page": "https://en.wikipedia.org/wiki/Ateneum"}}})
            .to_string()
        };
        let long = "Ateneum is an art museum in Helsinki. It holds Finnish art. ".repeat(5);
        let a = parse_summary(page("standard", &long).as_bytes())
            .expect("read")
            .expect("an article");
        assert!(
            a.summary.chars().count() <= MAX_SUMMARY_CHARS,
            "{}",
            a.summary
        );
        assert!(
            a.summary.ends_with("It holds Finnish art."),
            "{}",
            a.summary
        );
        assert_eq!(a.url, "https://en.wikipedia.org/wiki/Ateneum");
        assert_eq!(
            parse_summary(page("disambiguation", "Ateneum may be").as_bytes()),
            Ok(None)
        );
        assert_eq!(parse_summary(page("standard", "").as_bytes()), Ok(None));
        assert_eq!(
            first_sentences(&"word ".repeat(100), 20),
            "word word word word…"
        );
    }

    #[test]
    fn the_user_agent_names_tripwright_and_the_contact() {
        let ua = user_agent("ops@example.org");
        assert!(ua.starts_with("Tripwright/"), "{ua}");
        assert!(ua.ends_with(" (ops@example.org)"), "{ua}");
        assert_eq!(
            user_agent(""),
            format!("Tripwright/{}", env!("CARGO_PKG_VERSION"))
        );
    }

    #[test]
    fn retry_after_is_seconds_or_a_date() {
        let mut h = HeaderMap::new();
        assert_eq!(retry_after(&h), None);
        h.insert(RETRY_AFTER, HeaderValue::from_static("3"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(3)));
        h.insert(
            RETRY_AFTER,
            HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        assert_eq!(retry_after(&h), Some(Duration::ZERO), "a past date");
        h.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&h), None);
    }

    #[test]
    fn nominatim_answers_are_read() {
        let hit = parse_nominatim(
            br#"[{"place_id":1,"lat":"-33.8688","lon":"151.2093","display_name":"Sydney, New South Wales, Australia","category":"boundary"}]"#,
        )
        .expect("valid")
        .expect("a hit");
        assert_eq!(
            (hit.lat, hit.lon, hit.display_name.as_str()),
            (-33.8688, 151.2093, "Sydney, New South Wales, Australia")
        );
        assert_eq!(parse_nominatim(b"[]").expect("valid"), None);
        let bad_answers: [&[u8]; 4] = [
            b"[{\"lat\":\"1\",\"lon\":\"2\"",
            b"{\"error\":\"x\"}",
            b"[{\"lat\":\"95\",\"lon\":\"2\",\"display_name\":\"x\"}]",
            b"[{\"display_name\":\"x\"}]",
        ];
        for bad in bad_answers {
            assert!(
                matches!(parse_nominatim(bad), Err(OnlineError::Invalid(_))),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn a_street_map_answer_becomes_streets_areas_and_sea() {
        // A street and a footway sharing node 2, a park as a multipolygon of two ways, and a
        // coastline running west to east across the box beyond both edges (land north).
        let body = br#"{"version":0.6,"elements":[
            {"type":"way","id":10,"nodes":[1,2,3],"tags":{"highway":"residential","name":"Via Uno"}},
            {"type":"way","id":11,"nodes":[2,4],"tags":{"highway":"footway"}},
            {"type":"way","id":12,"nodes":[5,6],"tags":{"highway":"motorway"}},
            {"type":"relation","id":20,"members":[{"type":"way","ref":13,"role":"outer"},{"type":"way","ref":14,"role":"outer"}],"tags":{"type":"multipolygon","leisure":"park","name":"Parco"}},
            {"type":"way","id":13,"nodes":[7,8,9]},
            {"type":"way","id":14,"nodes":[9,10,7]},
            {"type":"way","id":15,"nodes":[11,12],"tags":{"natural":"coastline"}},
            {"type":"node","id":1,"lat":0.5,"lon":0.1},{"type":"node","id":2,"lat":0.5,"lon":0.5},
            {"type":"node","id":3,"lat":0.5,"lon":0.9},{"type":"node","id":4,"lat":0.7,"lon":0.5},
            {"type":"node","id":5,"lat":0.6,"lon":0.1},{"type":"node","id":6,"lat":0.6,"lon":0.9},
            {"type":"node","id":7,"lat":0.8,"lon":0.2},{"type":"node","id":8,"lat":0.9,"lon":0.2},
            {"type":"node","id":9,"lat":0.9,"lon":0.3},{"type":"node","id":10,"lat":0.8,"lon":0.3},
            {"type":"node","id":11,"lat":0.2,"lon":-1.0},{"type":"node","id":12,"lat":0.2,"lon":2.0}
        ]}"#;
        let extent = BBox {
            min_lat: 0.0,
            min_lon: 0.0,
            max_lat: 1.0,
            max_lon: 1.0,
        };
        let map = parse_map(body, extent).expect("a map");
        assert_eq!(map.extent, Some(extent));
        let roads: Vec<_> = map
            .features
            .iter()
            .filter(|f| f.layer == MapLayer::Road)
            .collect();
        assert_eq!(roads.len(), 3);
        assert_eq!(roads[0].name.as_deref(), Some("Via Uno"));
        assert_eq!(
            roads[0].nodes,
            vec![1, 2, 3],
            "node ids join the walking graph"
        );
        assert!(roads[0].walkable && roads[1].walkable && !roads[2].walkable);
        let park = map
            .features
            .iter()
            .find(|f| f.layer == MapLayer::Green)
            .expect("the park");
        assert_eq!(park.name.as_deref(), Some("Parco"));
        assert_eq!(park.rings[0].len(), 5, "one closed ring from two ways");
        let sea = map
            .features
            .iter()
            .find(|f| f.class == "sea")
            .expect("the sea");
        // Cut at the box's edges: the sea is the strip south of the coast, inside the box.
        for p in sea.rings.iter().flatten() {
            assert!(extent.contains(*p) && p.lat <= 0.2 + 1e-9, "{p:?}");
        }
        // Stopped half-way: an error, not a map with holes.
        let stopped = br#"{"elements":[],"remark":"runtime error: Query ran out of memory in \"query\" at line 2."}"#;
        assert!(matches!(
            parse_map(stopped, extent),
            Err(OnlineError::Incomplete(_))
        ));
        let query = map_query(&extent);
        assert!(
            query.starts_with("[out:json]")
                && query.contains("[bbox:0.00000,0.00000,1.00000,1.00000]")
        );
    }

    #[test]
    fn overpass_answers_become_named_grocery_places() {
        let body = br#"{"version":0.6,"elements":[
            {"type":"node","id":11,"lat":60.1,"lon":24.9,"tags":{"name":"Kauppa","shop":"supermarket","opening_hours":"Mo-Su 07:00-23:00","addr:street":"Katu","addr:housenumber":"1","brand:wikidata":"Q1"}},
            {"type":"way","id":22,"center":{"lat":60.2,"lon":24.8},"tags":{"name":"Tori","shop":"greengrocer"}},
            {"type":"node","id":33,"lat":60.1,"lon":24.9,"tags":{"shop":"convenience"}},
            {"type":"node","id":44,"lat":60.1,"lon":24.9,"tags":{"name":"Kirja","shop":"books"}},
            {"type":"way","id":55,"tags":{"name":"No centre","shop":"grocery"}},
            {"type":"node","id":11,"lat":60.1,"lon":24.9,"tags":{"name":"Kauppa","shop":"supermarket"}}
        ]}"#;
        let places = parse_overpass(body).expect("valid");
        let ids: Vec<&str> = places.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(ids, ["osm:node/11", "osm:way/22"]);
        let k = &places[0];
        assert_eq!((k.kind.as_str(), k.lat, k.lon), ("supermarket", 60.1, 24.9));
        assert_eq!(k.opening_hours.as_deref(), Some("Mo-Su 07:00-23:00"));
        assert_eq!(k.tag("addr:street"), Some("Katu"));
        assert_eq!(
            k.tag("brand:wikidata"),
            None,
            "only the shown tags are kept"
        );
        assert_eq!((places[1].lat, places[1].lon), (60.2, 24.8));
        assert!(matches!(
            parse_overpass(br#"{"elements":[],"remark":"runtime error: Query timed out in \"query\" at line 3 after 26 seconds."}"#),
            Err(OnlineError::Incomplete(_))
        ));
        assert!(matches!(
            parse_overpass(br#"{"elements":[{"type":"node","id":1,"#),
            Err(OnlineError::Invalid(_))
        ));
    }

    #[test]
    fn the_query_asks_for_the_four_kinds_around_the_point() {
        let q = overpass_query(60.1699, 24.9384, 2020);
        assert!(q.starts_with("[out:json][timeout:25];"), "{q}");
        assert!(q.contains("(around:2020,60.1699,24.9384)"), "{q}");
        assert!(
            q.contains("^(supermarket|convenience|grocery|greengrocer)$"),
            "{q}"
        );
        assert!(
            q.contains("way[") && q.trim_end().ends_with("out center tags;"),
            "{q}"
        );
        assert_eq!(normalise("  New   York "), "new york");
        assert_eq!(round4(60.169_949), 60.1699);
    }
}
