//! The accept loop: HTTP/1.1 connections served by hyper with a header-read deadline (which
//! also closes idle keep-alive connections), a cap on open connections, the peer's address in
//! every request (for per-client limits), and a shutdown that stops accepting, lets the web
//! app end its running plans, and gives open connections a bounded grace period.
//!
//! `axum::serve` has none of the three limits (a connection that sends half a header was held
//! for minutes, and a thousand of them at once), so the loop is written with hyper-util's
//! building blocks, as axum's own "serve with hyper" example does.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::extract::Request;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt as _;

use crate::{AppState, router};

/// How connections are treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServeOptions {
    /// Time a client has to send a request's headers, and longest a kept-alive connection may
    /// sit idle between requests.
    pub header_timeout: Duration,
    /// Connections open at once; beyond it new ones wait in the kernel's backlog.
    pub max_connections: usize,
    /// After a shutdown signal: how long open connections (streams included) may take to end
    /// before they are closed.
    pub grace: Duration,
}

impl Default for ServeOptions {
    /// 10 s for headers, 512 connections, 20 s of grace.
    fn default() -> Self {
        Self {
            header_timeout: Duration::from_secs(10),
            max_connections: 512,
            grace: Duration::from_secs(20),
        }
    }
}

impl From<&tripwright_config::WebConfig> for ServeOptions {
    /// The `[web]` settings (`header_timeout_secs`, `max_connections`, `shutdown_grace_secs`).
    fn from(web: &tripwright_config::WebConfig) -> Self {
        Self {
            header_timeout: Duration::from_secs(web.header_timeout_secs.max(1)),
            max_connections: web.max_connections.max(1),
            grace: Duration::from_secs(web.shutdown_grace_secs),
        }
    }
}

/// Serves [`router`] on `listener` until `shutdown` completes. Then it stops accepting, tells
/// the web app (whose plans still running at half the grace are handed back to the store's
/// queue, for another replica), and waits at most `options.grace` for connections in flight.
///
/// # Errors
/// None today: accept errors (such as running out of file descriptors) are logged and retried.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
    options: ServeOptions,
) -> std::io::Result<()> {
    let web = state.app.clone();
    let sweeper = web.clone().map(|web| tokio::spawn(sweep_expired(web)));
    // Plans left by a replica that died or shut down (or by this server's last run) are
    // claimed and made here.
    let queue = web.clone().map(|web| {
        tokio::spawn(async move {
            let planner = web.app.planner().clone();
            planner.run_queue().await;
        })
    });
    let app = router(state);
    let slots = Arc::new(Semaphore::new(options.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(options.header_timeout)
        .keep_alive(true);
    tokio::pin!(shutdown);

    loop {
        let slot = tokio::select! {
            slot = Arc::clone(&slots).acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // EMFILE and friends: wait a little instead of spinning.
                    tracing::warn!(error = %e, "could not accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let service = app
            .clone()
            .map_request(move |mut request: Request<Incoming>| {
                request.extensions_mut().insert(ConnectInfo(peer));
                request
            });
        let connection =
            http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            let _slot = slot;
            if let Err(e) = connection.await {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    if let Some(sweeper) = sweeper {
        sweeper.abort();
    }
    if let Some(queue) = queue {
        queue.abort();
    }

    tracing::info!("shutting down: no new connections");
    if let Some(web) = web {
        web.shut_down(options.grace / 2).await;
    }
    if tokio::time::timeout(options.grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(grace = ?options.grace, "connections still open after the grace period were closed");
    }
    Ok(())
}

/// How often the plans of anonymous requesters whose time ran out are deleted.
const SWEEP_EVERY: Duration = Duration::from_secs(3600);

/// Deletes expired plans now and every [`SWEEP_EVERY`].
async fn sweep_expired(web: Arc<crate::WebApp>) {
    let mut every = tokio::time::interval(SWEEP_EVERY);
    loop {
        every.tick().await;
        match web.app.planner().delete_expired().await {
            Ok(0) => {}
            Ok(n) => tracing::info!(plans = n, "deleted expired anonymous plans"),
            Err(e) => tracing::warn!(error = %e, "could not delete expired plans"),
        }
    }
}
