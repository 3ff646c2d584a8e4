//! Tripwright's HTTP server: the web app (planner, plans streamed as they are made, saved
//! plans, sharing, exports, trip lists, a JSON API with its OpenAPI document) and the language
//! model as an OpenAI-compatible API under `/v1`, on one [`router`].
//!
//! [`serve`] takes an already bound listener (as atuin's `launch_with_tcp_listener` does): the
//! binary binds `--addr`, tests bind `127.0.0.1:0` and read the port back.

mod app;
mod metrics;
mod openai;
mod ratelimit;
mod server;

pub use app::{WebApp, WebAppError, openapi_document};
pub use metrics::{metrics_router, serve_metrics};
pub use server::{ServeOptions, serve};

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::error_handling::HandleErrorLayer;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{BoxError, Router, middleware};
use tower::ServiceBuilder;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;
use tripwright_llm::LlmClient;

use crate::ratelimit::RateLimits;

/// Limits that keep one client from holding the server: how much it may send, how long a
/// request may run, how many tokens it may ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApiLimits {
    /// Largest request body accepted (413 beyond).
    pub max_body_bytes: usize,
    /// How long a request may take until its response starts (504 beyond). A streamed
    /// completion only has to produce its first token in this time; `max_tokens` bounds the rest.
    pub request_timeout: Duration,
    /// Largest `max_tokens` a request may ask for.
    pub max_tokens: u32,
    /// `max_tokens` when a request does not say (OpenAI's "until the context is full" would let
    /// one request hold a sequence for the whole context).
    pub default_max_tokens: u32,
}

impl Default for ApiLimits {
    /// 1 MiB bodies, 120 s, at most 2048 tokens (the embedded engine's default context), 512 by
    /// default.
    fn default() -> Self {
        Self {
            max_body_bytes: 1024 * 1024,
            request_timeout: Duration::from_secs(120),
            max_tokens: 2048,
            default_max_tokens: 512,
        }
    }
}

/// What every handler shares; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// The model served under `/v1` (the embedded engine, or a remote OpenAI-compatible one).
    pub llm: Arc<dyn LlmClient>,
    /// Request limits.
    pub limits: ApiLimits,
    /// When this state was made, in Unix seconds: the `created` time `/v1/models` reports.
    pub started_at: u64,
    /// Why there is no language model, when there is none: `/v1` then answers 503.
    pub llm_unavailable: Option<String>,
    /// The web app; without it only `/healthz` and `/v1` are served.
    pub app: Option<Arc<WebApp>>,
    /// Rate limits per client address (none without an app).
    pub rates: Arc<RateLimits>,
}

impl AppState {
    /// A state serving `llm` with the default [`ApiLimits`].
    pub fn new(llm: Arc<dyn LlmClient>) -> Self {
        Self {
            llm,
            limits: ApiLimits::default(),
            started_at: unix_now(),
            llm_unavailable: None,
            app: None,
            rates: Arc::new(RateLimits::default()),
        }
    }

    /// A state serving the web app and, under `/v1`, its language model (503 when the model
    /// is off or failed to load).
    pub fn with_app(app: Arc<WebApp>) -> Self {
        let (llm, unavailable) = match app.app().llm() {
            Ok(llm) => (llm, None),
            Err(why) => (Arc::new(openai::NoModel) as Arc<dyn LlmClient>, Some(why)),
        };
        Self {
            llm_unavailable: unavailable,
            rates: Arc::new(RateLimits::of(app.app())),
            app: Some(app),
            ..Self::new(llm)
        }
    }
}

/// Seconds since the Unix epoch, as OpenAI's `created` fields count.
pub(crate) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The whole application: `/healthz`, the OpenAI-compatible `/v1` and (with an app) the web
/// app, behind tracing, error logging, the request timeout and the body size limit.
pub fn router(state: AppState) -> Router {
    let limits = state.limits;
    let mut router = Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .nest(
            "/v1",
            openai::routes(&state).layer(middleware::from_fn_with_state(
                Arc::clone(&state.rates),
                ratelimit::limit_api,
            )),
        )
        // The web app's security headers, for the answers that are data only: nothing in
        // them may run, be framed or be sniffed into something that runs.
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ));
    if let Some(web) = &state.app {
        router = router.merge(app::routes(
            Arc::clone(web),
            limits.max_body_bytes,
            Arc::clone(&state.rates),
        ));
    }
    router
        .layer(
            ServiceBuilder::new()
                // A request id for every request (a proxy's `x-request-id` is kept), on its
                // log lines and sent back with the answer.
                .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
                .layer(PropagateRequestIdLayer::x_request_id())
                .layer(TraceLayer::new_for_http().make_span_with(
                    |request: &axum::http::Request<axum::body::Body>| {
                        let id = request
                            .headers()
                            .get("x-request-id")
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or("");
                        // The headers help when a client misbehaves; the log's redaction
                        // layer keeps their cookies, tokens and keys out of the log.
                        tracing::debug_span!(
                            "request",
                            id,
                            method = %request.method(),
                            path = %loggable_path(request.uri().path()),
                            headers = ?request.headers(),
                        )
                    },
                ))
                // Inside the trace layer, so error lines carry the request's span.
                .layer(middleware::from_fn(openai::log_errors))
                .layer(HandleErrorLayer::new(move |error: BoxError| async move {
                    openai::ApiError::from_layer(&error, limits.request_timeout)
                }))
                .timeout(limits.request_timeout)
                .layer(DefaultBodyLimit::max(limits.max_body_bytes)),
        )
        // Outside the timeout and error layers, so their answers (504, 413) are counted too;
        // still per route, so every route (the fallback too) is counted under its template.
        .layer(middleware::from_fn(metrics::record))
        .with_state(state)
}

/// A request's path as the log may show it: a share link's token is a credential (anyone with
/// it reads the plan), so it is left out; so is the query (a recovery link's key).
fn loggable_path(path: &str) -> String {
    match path.strip_prefix("/share/") {
        Some(rest) => match rest.split_once('/') {
            Some((_, file)) => format!("/share/[token]/{file}"),
            None => "/share/[token]".to_owned(),
        },
        None => path.to_owned(),
    }
}

/// Liveness probe: answers while the server accepts requests.
async fn healthz() -> &'static str {
    "ok"
}

/// Readiness probe: 200 when this replica can serve plans (see `App::readiness`), else 503;
/// JSON with each check. Without the web app (`/v1` only), the model alone is checked.
async fn readyz(State(state): State<AppState>) -> Response {
    let checks = match &state.app {
        Some(web) => web.app().readiness().await,
        None => vec![tripwright_app::ReadyCheck {
            name: "model",
            ok: state.llm_unavailable.is_none(),
            detail: state
                .llm_unavailable
                .clone()
                .unwrap_or_else(|| format!("{} loaded", state.llm.model_id())),
        }],
    };
    let ready = checks.iter().all(|c| c.ok);
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = serde_json::json!({
        "ready": ready,
        "checks": checks,
    });
    (status, axum::Json(body)).into_response()
}

#[cfg(test)]
mod tests {
    use super::loggable_path;

    #[test]
    fn share_tokens_never_reach_the_log() {
        assert_eq!(loggable_path("/share/abcDEF123"), "/share/[token]");
        assert_eq!(
            loggable_path("/share/abcDEF123/export.pdf"),
            "/share/[token]/export.pdf"
        );
        assert_eq!(loggable_path("/plans/x"), "/plans/x");
    }
}
