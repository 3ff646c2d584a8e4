//! Prometheus metrics of the HTTP server: every answer counted by route template, method and
//! status, with its latency. The binary installs the recorder and serves `GET /metrics` on its
//! own listener ([`metrics_router`]); without a recorder these calls cost next to nothing.

use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::get;
use axum::{Router, http::header};

/// Counts and times one request under its route template (`/api/plans/{id}`, never the id
/// itself, so the number of series stays bounded); a path that matched no route is
/// `unmatched`.
pub(crate) async fn record(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = request.method().as_str().to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!(
        "tripwright_http_requests_total",
        "route" => route.clone(),
        "method" => method.clone(),
        "status" => status,
    )
    .increment(1);
    // Until the answer's head is ready: a streamed answer (events, /v1 streams) is timed to
    // its first byte, not to the end of the stream.
    metrics::histogram!(
        "tripwright_http_request_duration_seconds",
        "route" => route,
        "method" => method,
    )
    .record(started.elapsed().as_secs_f64());
    response
}

/// Serves [`metrics_router`] on `listener` until the process ends.
///
/// # Errors
/// When the listener fails.
pub async fn serve_metrics<F>(listener: tokio::net::TcpListener, render: F) -> std::io::Result<()>
where
    F: Fn() -> String + Clone + Send + Sync + 'static,
{
    axum::serve(listener, metrics_router(render)).await
}

/// `GET /metrics` in Prometheus' text format, from `render` (called per scrape).
pub fn metrics_router<F>(render: F) -> Router
where
    F: Fn() -> String + Clone + Send + Sync + 'static,
{
    Router::new().route(
        "/metrics",
        get(move || {
            let render = render.clone();
            async move {
                (
                    [(
                        header::CONTENT_TYPE,
                        "text/plain; version=0.0.4; charset=utf-8",
                    )],
                    render(),
                )
            }
        }),
    )
}
