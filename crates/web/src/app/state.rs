//! What every handler of the web app shares: the application layer, the session keys, the
//! security headers, the PDF fonts and the owner's rendered plan pages. The use cases are
//! the application layer's; this holds only what HTTP and rendering need.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::body::Bytes;
use axum::http::{HeaderValue, header};
use axum::response::Response;
use secrecy::ExposeSecret;
use tripwright_app::App;
use tripwright_app::planning::JobVersion;
use tripwright_config::Secrets;
use tripwright_domain::PlanId;

use super::session::SessionKeys;

/// Why the web app could not start.
#[derive(Debug)]
pub struct WebAppError(pub(crate) String);

impl std::fmt::Display for WebAppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for WebAppError {}

/// The owner's pages of finished plans as last rendered: a finished plan's page changes only
/// when a day is rewritten, so it is served again while the job's version and the viewer's
/// CSRF token (its forms carry it) are the same.
pub(crate) struct PageCache {
    pages: Mutex<HashMap<PlanId, CachedPage>>,
    capacity: usize,
}

struct CachedPage {
    version: JobVersion,
    csrf: String,
    body: Bytes,
}

impl PageCache {
    /// A cache of at most `capacity` pages.
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            pages: Mutex::new(HashMap::new()),
            capacity: capacity.max(1),
        }
    }

    fn pages(&self) -> MutexGuard<'_, HashMap<PlanId, CachedPage>> {
        self.pages.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The page kept for plan `id`, when it was rendered from `version` for `csrf`.
    pub(crate) fn get(&self, id: &PlanId, version: JobVersion, csrf: &str) -> Option<Bytes> {
        self.pages()
            .get(id)
            .filter(|p| p.version == version && p.csrf == csrf)
            .map(|p| p.body.clone())
    }

    /// Keeps a page just rendered; when full, an arbitrary other page makes room (pages are
    /// cheap to render again).
    pub(crate) fn put(&self, id: &PlanId, version: JobVersion, csrf: &str, body: Bytes) {
        let mut pages = self.pages();
        if pages.len() >= self.capacity && !pages.contains_key(id) {
            let victim = pages.keys().next().cloned();
            if let Some(victim) = victim {
                pages.remove(&victim);
            }
        }
        pages.insert(
            id.clone(),
            CachedPage {
                version,
                csrf: csrf.to_owned(),
                body,
            },
        );
    }
}

/// The web app's shared state.
pub struct WebApp {
    pub(crate) app: Arc<App>,
    pub(crate) keys: SessionKeys,
    pub(crate) tile_url: Option<String>,
    pub(crate) secure_cookies: bool,
    csp: HeaderValue,
    pub(crate) vendor_dir: PathBuf,
    /// The PDF fonts, or why there are none.
    pub(crate) fonts: Result<tripwright_export::PdfFonts, String>,
    /// PDFs typeset at once (one per core): the others wait, and one whose client leaves
    /// while it waits is never typeset.
    pub(crate) pdf_slots: tokio::sync::Semaphore,
    pub(crate) pages: PageCache,
}

impl std::fmt::Debug for WebApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebApp")
            .field("tile_url", &self.tile_url)
            .field("secure_cookies", &self.secure_cookies)
            .finish_non_exhaustive()
    }
}

/// The origin (`https://host[:port]`) of a tile URL template, checked to be safe in a CSP.
pub(crate) fn tile_origin(url: &str) -> Result<String, WebAppError> {
    let bad = |why: &str| {
        WebAppError(format!(
            "the tile URL {url:?} {why}; give one like https://tile.example.org/{{z}}/{{x}}/{{y}}.png"
        ))
    };
    let rest = url
        .strip_prefix("https://")
        .map(|r| ("https://", r))
        .or_else(|| url.strip_prefix("http://").map(|r| ("http://", r)));
    let Some((scheme, rest)) = rest else {
        return Err(bad("is not an http(s) URL"));
    };
    if !(url.contains("{z}") && url.contains("{x}") && url.contains("{y}")) {
        return Err(bad("lacks {z}, {x} or {y}"));
    }
    let host = rest.split('/').next().unwrap_or_default();
    if host.is_empty()
        || !host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '{' | '}'))
    {
        return Err(bad("has an invalid host"));
    }
    // `{s}` subdomains: allow any subdomain of the rest.
    let host = if let Some(rest) = host.strip_prefix("{s}.") {
        format!("*.{rest}")
    } else if host.contains('{') {
        return Err(bad(
            "has a placeholder in the host other than a leading {s}.",
        ));
    } else {
        host.to_owned()
    };
    Ok(format!("{scheme}{host}"))
}

impl WebApp {
    /// The web app over the application layer, with the `[web]` settings of its
    /// configuration and the session key of `secrets`.
    ///
    /// # Errors
    /// The session key file cannot be read or made, or the tile URL is malformed.
    pub fn new(app: Arc<App>, secrets: &Secrets) -> Result<Self, WebAppError> {
        let config = app.config();
        let web = &config.web;
        let keys = match secrets
            .session_key
            .as_ref()
            .map(|k| k.expose_secret().to_owned())
        {
            Some(secret) if !secret.is_empty() => SessionKeys::from_secret(&secret),
            _ => SessionKeys::load_or_create(&config.data_dir).map_err(|e| {
                WebAppError(format!(
                    "the session key in {} could not be read or made: {e}",
                    config.data_dir.display()
                ))
            })?,
        };
        let tile_url = web.tile_url.clone().filter(|u| !u.trim().is_empty());
        let img_src = match &tile_url {
            Some(url) => format!("'self' data: {}", tile_origin(url)?),
            None => "'self' data:".to_owned(),
        };
        let csp = format!(
            "default-src 'self'; img-src {img_src}; style-src 'self'; script-src 'self'; object-src 'none'; frame-ancestors 'none'"
        );
        let csp = HeaderValue::from_str(&csp)
            .map_err(|_| WebAppError("the tile URL makes an invalid header".into()))?;
        let fonts = tripwright_export::PdfFonts::load(&web.font_dirs).map_err(|e| {
            tracing::warn!(error = %e, "PDF export is off");
            format!("PDF export is not available on this server ({e}); the other exports work")
        });
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
        Ok(Self {
            pdf_slots: tokio::sync::Semaphore::new(cores),
            pages: PageCache::new(web.max_jobs),
            vendor_dir: config.vendor_dir(),
            secure_cookies: web.secure_cookies,
            tile_url,
            fonts,
            keys,
            csp,
            app,
        })
    }

    /// The application layer.
    pub fn app(&self) -> &Arc<App> {
        &self.app
    }

    /// For the server's shutdown: takes no new plans, and ends the running ones after
    /// `wait` (as failed, with a message on their pages and a final event on their streams).
    pub async fn shut_down(&self, wait: std::time::Duration) {
        self.app.planner().shut_down(wait).await;
    }

    /// Adds the security headers.
    pub(crate) fn secure(&self, mut response: Response) -> Response {
        let h = response.headers_mut();
        h.insert(header::CONTENT_SECURITY_POLICY, self.csp.clone());
        h.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        h.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        );
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tile_origins_are_checked_for_the_csp() {
        assert_eq!(
            tile_origin("https://tile.example.org/{z}/{x}/{y}.png").expect("ok"),
            "https://tile.example.org"
        );
        assert_eq!(
            tile_origin("https://{s}.tile.example.org/{z}/{x}/{y}.png").expect("ok"),
            "https://*.tile.example.org"
        );
        assert_eq!(
            tile_origin("http://127.0.0.1:8081/{z}/{x}/{y}.png").expect("ok"),
            "http://127.0.0.1:8081"
        );
        for bad in [
            "ftp://x/{z}/{x}/{y}",
            "https://x/{z}/{x}.png",
            "https://a b/{z}/{x}/{y}",
            "https://x;script-src */{z}/{x}/{y}",
            "https://",
        ] {
            assert!(tile_origin(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_kept_page_is_served_until_the_job_changes() {
        let cache = PageCache::new(2);
        let id = PlanId::new("p1");
        let v = JobVersion {
            epoch: 0,
            events: 9,
        };
        let page = Bytes::from_static(b"<p>the plan</p>");
        cache.put(&id, v, "t1", page.clone());
        assert_eq!(cache.get(&id, v, "t1"), Some(page.clone()));
        assert_eq!(cache.get(&id, v, "t2"), None, "another viewer's token");
        let changed = JobVersion { events: 10, ..v };
        assert_eq!(cache.get(&id, changed, "t1"), None, "an event since");
        let rewritten = JobVersion { epoch: 1, ..v };
        assert_eq!(
            cache.get(&id, rewritten, "t1"),
            None,
            "the log started over"
        );
        // Two more plans: one of the three is pushed out, the cache stays bounded.
        cache.put(&PlanId::new("p2"), v, "t1", page.clone());
        cache.put(&PlanId::new("p3"), v, "t1", page.clone());
        let kept = ["p1", "p2", "p3"]
            .iter()
            .filter(|i| cache.get(&PlanId::new(**i), v, "t1").is_some())
            .count();
        assert_eq!(kept, 2);
    }
}
