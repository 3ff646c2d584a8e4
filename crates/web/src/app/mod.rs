//! The web app (issue 4): the planner page, plans made by the agents while their progress
//! streams to the page (SSE), saved plans per browser, share links, exports and the JSON API
//! with its OpenAPI document. Everything is server-rendered; `static/app.js` enhances it.

mod api;
mod error;
mod jobs;
mod lists;
mod online;
mod pages;
mod session;
mod static_files;
mod supermarkets;
mod view;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::Response;
use chrono::Utc;
use tripwright_agents::prose::ProseWriter;
use tripwright_agents::{AgentError, Orchestrator};
use tripwright_domain::{PlaceCategory, Plan, TripRequest};
use tripwright_store::Store;

use error::WebError;
use jobs::{Job, JobState, Jobs, PlanCache, RenderCtx};

pub use api::openapi_document;

/// Web options the binary sets (flags or environment), beyond the configuration file.
#[derive(Debug, Clone)]
pub struct WebOptions {
    /// A raster tile server for the map, e.g. `https://tile.example.org/{z}/{x}/{y}.png`;
    /// without one the map draws the offline country outlines.
    pub tile_url: Option<String>,
    /// Mark the user cookie `Secure` (serve over HTTPS).
    pub secure_cookies: bool,
    /// A secret the cookie-signing key is derived from, the same on every replica; without
    /// one the key is made once and kept in `{data_dir}/session.key`.
    pub session_secret: Option<String>,
    /// Plans made at the same time (beyond: 503 "busy").
    pub max_running: usize,
    /// Jobs kept in memory (running and recently finished).
    pub max_jobs: usize,
    /// How long a finished job stays in memory (its plan stays in the store).
    pub job_ttl: Duration,
    /// Plans remembered for identical requests on the same day (0: off).
    pub plan_cache: usize,
    /// The vendored front-end libraries served under `/static/vendor/` (default:
    /// `{assets_dir}/web`).
    pub vendor_dir: Option<PathBuf>,
    /// Font folders for the PDF export (default: Debian's DejaVu and Noto folders). Without
    /// any font the PDF export answers 503 and the other exports still work.
    pub font_dirs: Vec<PathBuf>,
}

impl Default for WebOptions {
    fn default() -> Self {
        Self {
            tile_url: None,
            secure_cookies: false,
            session_secret: None,
            max_running: 4,
            max_jobs: 256,
            job_ttl: Duration::from_secs(600),
            plan_cache: 64,
            vendor_dir: None,
            font_dirs: vec![
                PathBuf::from("/usr/share/fonts/truetype/dejavu"),
                PathBuf::from("/usr/share/fonts/truetype/noto"),
            ],
        }
    }
}

/// Why the web app could not start.
#[derive(Debug)]
pub struct WebAppError(String);

impl std::fmt::Display for WebAppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for WebAppError {}

/// Everything the web app's handlers share: the orchestrator (models and data loaded once),
/// the jobs, the plan cache and the signing key.
pub struct WebApp {
    orchestrator: Arc<Orchestrator>,
    keys: session::SessionKeys,
    jobs: Jobs,
    cache: PlanCache,
    options: WebOptions,
    ctx: RenderCtx,
    csp: HeaderValue,
    vendor_dir: PathBuf,
    /// The PDF fonts, or why there are none.
    fonts: Result<tripwright_export::PdfFonts, String>,
    /// The optional online lookups of the supermarkets search (off unless configured).
    online: online::Online,
}

impl std::fmt::Debug for WebApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebApp")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

/// The origin (`https://host[:port]`) of a tile URL template, checked to be safe in a CSP.
fn tile_origin(url: &str) -> Result<String, WebAppError> {
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
    /// The web app over a loaded orchestrator.
    ///
    /// # Errors
    /// The session key file cannot be read or made, the tile URL is malformed, or the
    /// `[online]` configuration is invalid.
    pub fn new(orchestrator: Arc<Orchestrator>, options: WebOptions) -> Result<Self, WebAppError> {
        let keys = match &options.session_secret {
            Some(secret) if !secret.is_empty() => session::SessionKeys::from_secret(secret),
            _ => session::SessionKeys::load_or_create(&orchestrator.config().data_dir).map_err(
                |e| {
                    WebAppError(format!(
                        "the session key in {} could not be read or made: {e}",
                        orchestrator.config().data_dir.display()
                    ))
                },
            )?,
        };
        let img_src = match &options.tile_url {
            Some(url) => format!("'self' data: {}", tile_origin(url)?),
            None => "'self' data:".to_owned(),
        };
        let csp = format!(
            "default-src 'self'; img-src {img_src}; style-src 'self'; script-src 'self'; object-src 'none'; frame-ancestors 'none'"
        );
        let csp = HeaderValue::from_str(&csp)
            .map_err(|_| WebAppError("the tile URL makes an invalid header".into()))?;
        let vendor_dir = options
            .vendor_dir
            .clone()
            .unwrap_or_else(|| orchestrator.config().assets_dir.join("web"));
        let fonts = tripwright_export::PdfFonts::load(&options.font_dirs).map_err(|e| {
            tracing::warn!(error = %e, "PDF export is off");
            format!("PDF export is not available on this server ({e}); the other exports work")
        });
        let online = online::Online::new(&orchestrator.config().online).map_err(WebAppError)?;
        Ok(Self {
            fonts,
            online,
            keys,
            jobs: Jobs::new(options.max_running, options.max_jobs, options.job_ttl),
            cache: PlanCache::new(options.plan_cache),
            ctx: RenderCtx {
                tile_url: options.tile_url.clone(),
            },
            csp,
            vendor_dir,
            options,
            orchestrator,
        })
    }

    /// The orchestrator.
    pub fn orchestrator(&self) -> &Arc<Orchestrator> {
        &self.orchestrator
    }

    fn store(&self) -> &Arc<dyn Store> {
        self.orchestrator.store()
    }

    /// Adds the security headers.
    fn secure(&self, mut response: Response) -> Response {
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

    /// Validates and geocodes `req` (400 with the reason), then starts making the plan, or
    /// answers from the plan cache. Returns the job.
    async fn start_plan(
        self: &Arc<Self>,
        owner: &str,
        req: TripRequest,
    ) -> Result<Arc<Job>, WebError> {
        req.validate().map_err(AgentError::from)?;
        let destination = self
            .orchestrator
            .gazetteer()
            .geocode(&req.destination)
            .map_err(AgentError::from)?;
        let id = uuid::Uuid::new_v4().to_string();
        let key = PlanCache::key(&req, Utc::now().date_naive());
        if let Some(mut plan) = self.cache.get(&key) {
            plan.id = id;
            plan.created_at = Utc::now().to_rfc3339();
            self.store().save_owned_plan(owner, &plan).await?;
            let job = Job::finished(owner.to_owned(), plan, &self.ctx);
            self.jobs.insert(Arc::clone(&job))?;
            return Ok(job);
        }
        let permit = self.jobs.permit()?;
        let job = Job::new(id, owner.to_owned(), req.clone(), destination);
        self.jobs.insert(Arc::clone(&job))?;
        let app = Arc::clone(self);
        let task_job = Arc::clone(&job);
        let handle = tokio::spawn(async move {
            let _permit = permit;
            app.run(task_job, req, key).await;
        });
        job.set_abort(handle.abort_handle());
        Ok(job)
    }

    /// Runs the agents for `job`, streaming their events, then saves the plan.
    async fn run(&self, job: Arc<Job>, req: TripRequest, key: String) {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let make = self.orchestrator.make_plan(req, Some(tx), job.id.clone());
        let forward = async {
            while let Some(ev) = rx.recv().await {
                job.on_agent_event(ev, &self.ctx);
            }
        };
        let (result, ()) = tokio::join!(make, forward);
        match result {
            Ok(plan) => {
                if job.lock().state != JobState::Running {
                    return;
                }
                match self.store().save_owned_plan(&job.owner, &plan).await {
                    Ok(()) => {
                        self.cache.put(key, plan.clone());
                        job.finish(plan, &self.ctx);
                    }
                    Err(e) => {
                        tracing::error!(error = %e, plan = %job.id, "a plan could not be saved");
                        job.fail("the plan was made but could not be saved; try again".into());
                    }
                }
            }
            Err(e) => {
                tracing::info!(error = %e, plan = %job.id, "a plan failed");
                job.fail(e.to_string());
            }
        }
    }

    /// The job of `owner`'s plan `id`: the registered one, or one made from the saved plan.
    /// Anyone else's plan, and unknown ones, are "not found".
    async fn owned(&self, owner: &str, id: &str) -> Result<Arc<Job>, WebError> {
        if let Some(job) = self.jobs.get(id) {
            return if job.owner == owner {
                Ok(job)
            } else {
                Err(WebError::not_found("plan"))
            };
        }
        if self.store().plan_owner(id).await?.as_deref() != Some(owner) {
            return Err(WebError::not_found("plan"));
        }
        let plan = self
            .store()
            .plan(id)
            .await?
            .ok_or_else(|| WebError::not_found("plan"))?;
        let job = Job::finished(owner.to_owned(), plan, &self.ctx);
        // Registered again, so that the next request (and its kept page) needs no store
        // round trip; when every slot holds a running plan it is simply not kept.
        let _ = self.jobs.insert(Arc::clone(&job));
        Ok(job)
    }

    /// Rewrites the prose of day `day` with the language model (when one is configured;
    /// otherwise the day is sent again as it is), saves the plan and streams the day.
    async fn regenerate(
        self: &Arc<Self>,
        owner: &str,
        id: &str,
        day: u8,
    ) -> Result<Arc<Job>, WebError> {
        let job = self.owned(owner, id).await?;
        let permit = self.jobs.permit()?;
        let plan = job.begin_rewrite(day)?;
        if self.jobs.get(id).is_none() {
            self.jobs.insert(Arc::clone(&job))?;
        }
        let app = Arc::clone(self);
        let task_job = Arc::clone(&job);
        let handle = tokio::spawn(async move {
            let _permit = permit;
            app.rewrite(task_job, plan, day).await;
        });
        job.set_abort(handle.abort_handle());
        Ok(job)
    }

    async fn rewrite(&self, job: Arc<Job>, plan: Plan, day: u8) {
        let t = Instant::now();
        let mut new = plan.clone();
        let mut error = match self.orchestrator.llm() {
            Ok(llm) => self.rewrite_day(llm, &mut new, day, &job).await.err(),
            Err(why) => {
                tracing::info!(%why, "no language model: the day is sent again unchanged");
                None
            }
        };
        if error.is_none()
            && let Err(e) = self.store().save_owned_plan(&job.owner, &new).await
        {
            tracing::error!(error = %e, plan = %job.id, "a rewritten plan could not be saved");
            error = Some("the new text could not be saved; try again".into());
        }
        let shown = if error.is_some() { plan } else { new };
        let elapsed = t.elapsed().as_millis() as u64;
        job.end_rewrite(day, shown, elapsed, error, &self.ctx);
    }

    async fn rewrite_day(
        &self,
        llm: Arc<dyn tripwright_llm::LlmClient>,
        plan: &mut Plan,
        day: u8,
        job: &Arc<Job>,
    ) -> Result<(), String> {
        let cfg = self.orchestrator.config();
        let writer = ProseWriter::new(
            llm,
            cfg.llm.attempts,
            cfg.llm.max_tokens,
            cfg.llm.temperature,
        );
        let places = self
            .store()
            .places_near(
                plan.destination.point(),
                cfg.planner.radius_km,
                &[
                    PlaceCategory::Attraction,
                    PlaceCategory::Artwork,
                    PlaceCategory::Food,
                ],
            )
            .await
            .map_err(|e| format!("the places could not be read: {e}"))?;
        let others: Vec<String> = places.into_iter().map(|p| p.name).collect();
        let month = plan.itinerary.month;
        let Some(d) = plan.itinerary.days.iter_mut().find(|d| d.day == day) else {
            return Err(format!("the plan has no day {day}"));
        };
        let on_text = |t: &str| job.rewrite_text(day, t);
        let prose = writer
            .write_day(&plan.destination, month, d, &others, &on_text)
            .await
            .map_err(|e| format!("the text could not be written: {e}"))?;
        d.intro = prose.intro;
        for (stop, note) in d.stops.iter_mut().zip(prose.notes) {
            stop.note = note;
        }
        Ok(())
    }
}

/// The web app's routes: pages, JSON API, static files. They carry their own state and the
/// session middleware; `max_body_bytes` bounds a form read for its CSRF field.
pub(crate) fn routes<S>(app: Arc<WebApp>, max_body_bytes: usize) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    let (api, _) = api::router().split_for_parts();
    api.merge(pages::router())
        .merge(static_files::router())
        .fallback(pages::not_found_page)
        .layer(axum::middleware::from_fn_with_state(
            (Arc::clone(&app), max_body_bytes),
            session::session,
        ))
        .with_state(app)
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
}
