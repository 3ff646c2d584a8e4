//! A real server on a loopback port over the real application layer (with the configured
//! language model, or a scripted one), and a client that behaves like a browser (keeps its
//! cookie, sends the CSRF token) or like an API client (never keeps a cookie).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tripwright_app::App;
use tripwright_config::{Config, LlmProvider, Secrets};
use tripwright_llm::LlmClient;
use tripwright_web::{AppState, ServeOptions, WebApp, serve};

use crate::assets::assets_dir;
use crate::sse::parse_sse;

/// How long a test waits for one answer, or one body, before it fails.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(300);

/// A configuration over `data_dir` and the assets, with the language model and the online
/// lookups off and the
/// rate limits per address off (every test client is 127.0.0.1; the tests of the limits set
/// their own).
pub fn config(data_dir: &Path) -> Config {
    let mut c = Config {
        data_dir: data_dir.to_path_buf(),
        assets_dir: assets_dir(),
        ..Config::default()
    };
    c.llm.provider = LlmProvider::Off;
    // Nothing outside is asked unless a test points the lookups at its stand-in.
    c.online.enabled = false;
    c.limits.plan_requests_per_minute = 0;
    c.limits.list_edits_per_minute = 0;
    c.limits.exports_per_minute = 0;
    c.limits.api_requests_per_minute = 0;
    c.limits.tiles_per_minute = 0;
    c
}

/// A running server: its base URL, and a sender that stops it (the thread ends when it has).
pub struct Server {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    /// Starts a server on its own thread and runtime (it outlives every test's runtime); the
    /// models load once, as in `tripwright serve`. With `llm`, that model writes the prose
    /// whatever the configuration says.
    pub fn start(config: Config, llm: Option<Arc<dyn LlmClient>>) -> Self {
        let (tx, rx) = std::sync::mpsc::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                let loaded = match llm {
                    Some(llm) => App::load_with_llm(config, llm).await,
                    None => App::load(config, &Secrets::default()).await,
                };
                let (app, _) = loaded.expect("the application loads");
                let app = Arc::new(app);
                let web =
                    WebApp::new(Arc::clone(&app), &Secrets::default()).expect("the app starts");
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                    .await
                    .expect("a loopback port");
                tx.send(listener.local_addr().expect("bound"))
                    .expect("the test waits");
                let options = ServeOptions::from(&app.config().web);
                let shutdown = async {
                    let _ = stopped.await;
                };
                serve(
                    listener,
                    AppState::with_app(Arc::new(web)),
                    shutdown,
                    options,
                )
                .await
                .expect("serves");
                app.close().await.expect("the store closes");
            });
        });
        let addr = rx
            .recv_timeout(Duration::from_secs(600))
            .expect("the server starts");
        Self {
            base: format!("http://{addr}"),
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// Keeps the server running until the test binary ends, and returns its base URL.
    pub fn keep(self) -> String {
        let base = self.base.clone();
        std::mem::forget(self);
        base
    }

    /// Stops the server and waits until its store is closed.
    pub fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            t.join().expect("the server thread ends cleanly");
        }
    }
}

/// An answer, read whole.
pub struct Answer {
    /// The status code.
    pub status: u16,
    /// The headers.
    pub headers: reqwest::header::HeaderMap,
    /// The whole body.
    pub body: Vec<u8>,
}

impl Answer {
    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON (fails the test when it is not).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    /// A header's value ("" when absent).
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    /// The error code of a JSON error answer.
    pub fn code(&self) -> String {
        self.json()["error"]["code"]
            .as_str()
            .unwrap_or_else(|| panic!("no error code: {}", self.text()))
            .to_owned()
    }

    /// The message of a JSON error answer.
    pub fn message(&self) -> String {
        self.json()["error"]["message"]
            .as_str()
            .unwrap_or_else(|| panic!("no error message: {}", self.text()))
            .to_owned()
    }
}

/// A browser: its own cookie (once it has one) and CSRF token.
pub struct Browser {
    /// The server's base URL.
    pub base: String,
    /// The HTTP client (no redirects followed).
    pub http: reqwest::Client,
    /// The `tw_user=…` cookie pair, once set.
    pub cookie: Option<String>,
    /// The CSRF token, once fetched.
    pub csrf: Option<String>,
    /// Keeps the cookie the server sets (a browser); an API client without cookies does not.
    keeps_cookies: bool,
}

impl Browser {
    /// A browser that has not been to the site yet.
    pub fn on(base: &str) -> Self {
        Self {
            base: base.to_owned(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            cookie: None,
            csrf: None,
            keeps_cookies: true,
        }
    }

    /// A client that never sends a cookie (curl, an API client): a new user every time.
    pub fn without_cookies(base: &str) -> Self {
        Self {
            keeps_cookies: false,
            ..Self::on(base)
        }
    }

    /// A browser that has fetched its cookie and token.
    pub async fn signed_in(base: &str) -> Self {
        let mut b = Self::on(base);
        b.login().await;
        b
    }

    /// Fetches the cookie (if it has none) and the CSRF token.
    pub async fn login(&mut self) {
        let a = self.get("/api/session").await;
        assert_eq!(a.status, 200);
        self.csrf = Some(a.json()["csrf"].as_str().expect("csrf").to_owned());
        assert!(self.cookie.is_some(), "the first answer sets the cookie");
    }

    /// Sends a request with the cookie, keeps a new cookie, reads the whole answer.
    pub async fn send(&mut self, request: reqwest::RequestBuilder) -> Answer {
        let request = match &self.cookie {
            Some(c) => request.header("cookie", c),
            None => request,
        };
        let response = tokio::time::timeout(ANSWER_TIMEOUT, request.send())
            .await
            .expect("the server answers in time")
            .expect("the server answers");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        if self.keeps_cookies
            && let Some(set) = headers.get("set-cookie").and_then(|v| v.to_str().ok())
            && let Some(pair) = set.split(';').next()
            && pair.starts_with("tw_user=")
        {
            self.cookie = Some(pair.to_owned());
        }
        let body = tokio::time::timeout(ANSWER_TIMEOUT, response.bytes())
            .await
            .expect("the body ends in time")
            .expect("a body")
            .to_vec();
        Answer {
            status,
            headers,
            body,
        }
    }

    /// `GET path`.
    pub async fn get(&mut self, path: &str) -> Answer {
        let r = self.http.get(format!("{}{path}", self.base));
        self.send(r).await
    }

    /// A JSON request (with the CSRF header once the browser has a token).
    pub async fn send_json(
        &mut self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Answer {
        let mut r = self.http.request(method, format!("{}{path}", self.base));
        if let Some(body) = body {
            r = r
                .header("content-type", "application/json")
                .body(body.to_string());
        }
        if let Some(t) = &self.csrf {
            r = r.header("x-csrf-token", t);
        }
        self.send(r).await
    }

    /// `POST path` with a JSON body.
    pub async fn post(&mut self, path: &str, body: &Value) -> Answer {
        self.send_json(reqwest::Method::POST, path, Some(body))
            .await
    }

    /// `PATCH path` with a JSON body.
    pub async fn patch(&mut self, path: &str, body: &Value) -> Answer {
        self.send_json(reqwest::Method::PATCH, path, Some(body))
            .await
    }

    /// `PUT path` with a JSON body.
    pub async fn put(&mut self, path: &str, body: &Value) -> Answer {
        self.send_json(reqwest::Method::PUT, path, Some(body)).await
    }

    /// `DELETE path`.
    pub async fn delete(&mut self, path: &str) -> Answer {
        self.send_json(reqwest::Method::DELETE, path, None).await
    }

    /// A form post; the CSRF field is added when `with_csrf`.
    pub async fn form(&mut self, path: &str, fields: &[(&str, &str)], with_csrf: bool) -> Answer {
        let token = if with_csrf {
            Some(self.csrf.clone().expect("a token: log in first"))
        } else {
            None
        };
        let body: String = fields
            .iter()
            .copied()
            .chain(token.as_deref().map(|t| ("csrf", t)))
            .map(|(k, v)| format!("{k}={}", urlencode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        self.send(r).await
    }

    /// Starts a plan and returns its id.
    pub async fn start_plan(&mut self, req: &Value) -> String {
        let a = self.post("/api/plans", req).await;
        assert_eq!(a.status, 202, "{}", a.text());
        let j = a.json();
        let id = j["id"].as_str().expect("id").to_owned();
        assert_eq!(j["url"], format!("/plans/{id}"));
        assert_eq!(j["events"], format!("/api/plans/{id}/events"));
        id
    }

    /// The plan's whole event stream (it ends with `done`, `failed` or `cancelled`).
    pub async fn events(&mut self, id: &str) -> Vec<(String, Value)> {
        let a = self.get(&format!("/api/plans/{id}/events")).await;
        assert_eq!(a.status, 200, "{}", a.text());
        assert!(a.header("content-type").starts_with("text/event-stream"));
        parse_sse(&a.text())
    }

    /// Makes a plan to the end and returns its id.
    pub async fn make_plan(&mut self, req: &Value) -> String {
        let id = self.start_plan(req).await;
        let events = self.events(&id).await;
        let last = events.last().expect("events");
        assert_eq!(last.0, "done", "{events:?}");
        id
    }
}

/// Form encoding of one value.
pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            b' ' => "+".into(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The text of a PDF, by pdftotext (poppler-utils).
pub fn pdf_text(pdf: &[u8]) -> String {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("doc.pdf");
    std::fs::write(&path, pdf).expect("write");
    let out = std::process::Command::new("pdftotext")
        .args(["-layout", "-enc", "UTF-8"])
        .arg(&path)
        .arg("-")
        .output()
        .expect("pdftotext runs (apt-get install poppler-utils)");
    assert!(out.status.success(), "pdftotext failed");
    String::from_utf8(out.stdout).expect("UTF-8")
}

/// Our own great-circle distance, to check the server's.
pub fn haversine_km(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let r = 6371.0088_f64;
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = (lat2 - lat1).to_radians();
    let dl = (lon2 - lon1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * r * a.sqrt().asin()
}

/// Checks every shop against the centre independently: within the radius, its distance right,
/// nearest first. Returns the ids in order.
pub fn check_shops(r: &Value, lat: f64, lon: f64, radius_km: f64) -> Vec<String> {
    let shops = r["places"].as_array().expect("places");
    assert_eq!(r["count"].as_u64(), Some(shops.len() as u64), "{r}");
    let mut last = 0.0;
    let mut ids = Vec::new();
    for s in shops {
        let d = haversine_km(
            lat,
            lon,
            s["lat"].as_f64().expect("lat"),
            s["lon"].as_f64().expect("lon"),
        );
        assert!(d <= radius_km + 1e-9, "{s} is {d} km away");
        let given = s["distance_km"].as_f64().expect("distance");
        assert!((given - d).abs() < 0.002, "{s}: {given} vs {d}");
        assert!(given >= last, "sorted by distance: {s}");
        last = given;
        assert!(
            ["supermarket", "convenience", "grocery", "greengrocer"]
                .contains(&s["kind"].as_str().expect("kind")),
            "{s}"
        );
        ids.push(s["id"].as_str().expect("id").to_owned());
    }
    let unique: std::collections::BTreeSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "no shop twice: {ids:?}");
    ids
}
