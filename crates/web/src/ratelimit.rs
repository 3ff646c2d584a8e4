//! Rate limits per client address: a few plans, more list edits, some exports, `/v1`
//! requests and map tiles per minute, counted apart (the `governor` crate's keyed GCRA limiter: a client may
//! spend a minute's allowance at once, then one request per `60 s / rate`). A refusal is a 429
//! with `Retry-After`, in the caller's language: a page for a browser form, JSON for the API,
//! OpenAI's error shape under `/v1`.
//!
//! The address is the TCP peer (`ConnectInfo`, inserted by [`crate::serve`]). Behind a reverse
//! proxy every client shares the proxy's address, so there the proxy should limit instead (or
//! the rates be raised); requests without a peer (in-process tests) are not limited.
//!
//! **Across replicas.** When the store is shared (PostgreSQL), a request that this process's
//! limiter lets through is counted again in the store, per class, client and minute (a fixed
//! window): every replica's requests of a client add up there, and beyond the minute's rate
//! the answer is the same 429, with `Retry-After` until the next minute. The local limiter
//! still answers first, so a client flooding one replica costs the database nothing. Should
//! the store fail, the request is let through (the local limit still holds) and the failure
//! logged.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use tripwright_config::LimitsConfig;

/// Keys kept before stale ones are dropped (each costs a few dozen bytes).
const PRUNE_ABOVE: usize = 10_000;

/// What a request spends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Class {
    /// A new plan or a rewritten day: minutes of model time.
    Plan,
    /// A change to a trip list, or to a plan's stops or name.
    ListEdit,
    /// A PDF, Markdown or iCalendar file.
    Export,
    /// A request to the OpenAI-compatible API.
    Api,
    /// A street map tile.
    Tile,
}

impl Class {
    /// The class of a request, or `None` for the free ones (pages, events, reads).
    pub(crate) fn of(method: &Method, path: &str) -> Option<Self> {
        if path.starts_with("/v1/") {
            return Some(Self::Api);
        }
        if path.starts_with("/tiles/") {
            return Some(Self::Tile);
        }
        let unsafe_method = !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS);
        let file = path.rsplit('/').next().unwrap_or_default();
        let export = file.starts_with("export.") || path.ends_with("/pdf");
        if export {
            return Some(Self::Export);
        }
        if !unsafe_method {
            return None;
        }
        let plan = matches!(path, "/plans" | "/api/plans")
            || path.ends_with("/regenerate")
            || path.ends_with("/rewrite");
        if plan {
            Some(Self::Plan)
        } else if path.starts_with("/lists")
            || path.starts_with("/api/lists")
            || path.contains("/edits")
            || path.ends_with("/rename")
            || (*method == Method::PATCH && path.starts_with("/api/plans/"))
        {
            Some(Self::ListEdit)
        } else {
            None
        }
    }
}

impl Class {
    /// Its name in the store's counters.
    fn as_str(self) -> &'static str {
        match self {
            Self::Plan => "plan",
            Self::ListEdit => "list_edit",
            Self::Export => "export",
            Self::Api => "api",
            Self::Tile => "tile",
        }
    }
}

/// One limiter per class; `None` where the configured rate is 0 (off).
#[derive(Default)]
pub struct RateLimits {
    plan: Option<DefaultKeyedRateLimiter<IpAddr>>,
    list_edit: Option<DefaultKeyedRateLimiter<IpAddr>>,
    export: Option<DefaultKeyedRateLimiter<IpAddr>>,
    api: Option<DefaultKeyedRateLimiter<IpAddr>>,
    tile: Option<DefaultKeyedRateLimiter<IpAddr>>,
    /// The shared store's counts, when replicas share one, and each class's rate.
    shared: Option<(Arc<tripwright_app::App>, LimitsConfig)>,
}

impl std::fmt::Debug for RateLimits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimits")
            .field("plan", &self.plan.is_some())
            .field("list_edit", &self.list_edit.is_some())
            .field("export", &self.export.is_some())
            .field("api", &self.api.is_some())
            .field("tile", &self.tile.is_some())
            .field("shared", &self.shared.is_some())
            .finish()
    }
}

fn per_minute(rate: u32) -> Option<DefaultKeyedRateLimiter<IpAddr>> {
    NonZeroU32::new(rate).map(|n| governor::RateLimiter::keyed(Quota::per_minute(n)))
}

impl RateLimits {
    /// The limits of the `[limits]` settings.
    pub fn new(config: &LimitsConfig) -> Self {
        Self {
            plan: per_minute(config.plan_requests_per_minute),
            list_edit: per_minute(config.list_edits_per_minute),
            export: per_minute(config.exports_per_minute),
            api: per_minute(config.api_requests_per_minute),
            tile: per_minute(config.tiles_per_minute),
            shared: None,
        }
    }

    /// The limits of the `[limits]` settings of `app`, counted across replicas when its store
    /// is shared.
    pub fn of(app: &Arc<tripwright_app::App>) -> Self {
        let limits = &app.config().limits;
        Self {
            shared: app
                .store_is_shared()
                .then(|| (Arc::clone(app), limits.clone())),
            ..Self::new(limits)
        }
    }

    /// The whole seconds to wait when `peer` is over its rate of `class` counted across the
    /// replicas sharing the store; `None` when it is not, or the store is not shared.
    async fn check_shared(&self, class: Class, peer: IpAddr) -> Option<u64> {
        let (app, config) = self.shared.as_ref()?;
        let rate = match class {
            Class::Plan => config.plan_requests_per_minute,
            Class::ListEdit => config.list_edits_per_minute,
            Class::Export => config.exports_per_minute,
            Class::Api => config.api_requests_per_minute,
            Class::Tile => config.tiles_per_minute,
        };
        if rate == 0 {
            return None;
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let window = now - now % 60;
        let key = format!("{}:{peer}", class.as_str());
        match app
            .count_request(&key, i64::try_from(window).unwrap_or(i64::MAX))
            .await
        {
            Ok(hits) if hits > u64::from(rate) => Some((window + 60 - now).max(1)),
            Ok(_) => None,
            Err(e) => {
                tracing::warn!(error = %e, "the shared rate limit could not be counted; letting the request through");
                None
            }
        }
    }

    fn limiter(&self, class: Class) -> Option<&DefaultKeyedRateLimiter<IpAddr>> {
        match class {
            Class::Plan => self.plan.as_ref(),
            Class::ListEdit => self.list_edit.as_ref(),
            Class::Export => self.export.as_ref(),
            Class::Api => self.api.as_ref(),
            Class::Tile => self.tile.as_ref(),
        }
    }

    /// `None` when `peer` may send a request of `class` now, else the whole seconds to wait.
    pub(crate) fn check(&self, class: Class, peer: IpAddr) -> Option<u64> {
        let limiter = self.limiter(class)?;
        if limiter.len() > PRUNE_ABOVE {
            limiter.retain_recent();
        }
        limiter.check_key(&peer).err().map(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
        })
    }
}

/// The seconds `request` (of `class`) must wait, when its client is over its rate: in this
/// process first, then across the replicas sharing the store.
pub(crate) fn wait_for<'a>(
    rates: &'a RateLimits,
    class: Class,
    request: &Request,
) -> impl std::future::Future<Output = Option<u64>> + Send + 'a {
    // The address only: the request itself is not `Sync`, so it cannot be held across the
    // shared count's await.
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    async move {
        match peer {
            Some(peer) => wait_for_peer(rates, class, peer).await,
            None => None,
        }
    }
}

async fn wait_for_peer(rates: &RateLimits, class: Class, peer: IpAddr) -> Option<u64> {
    match rates.check(class, peer) {
        Some(secs) => Some(secs),
        None => rates.check_shared(class, peer).await,
    }
}

/// The middleware for `/v1`: OpenAI's 429.
pub(crate) async fn limit_api(
    State(rates): State<Arc<RateLimits>>,
    request: Request,
    next: Next,
) -> Response {
    // Nested under `/v1`, which the path no longer shows.
    match wait_for(&rates, Class::Api, &request).await {
        Some(secs) => {
            axum::response::IntoResponse::into_response(crate::openai::ApiError::rate_limited(secs))
        }
        None => next.run(request).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_classed_by_what_they_cost() {
        let post = Method::POST;
        let get = Method::GET;
        assert_eq!(Class::of(&post, "/plans"), Some(Class::Plan));
        assert_eq!(Class::of(&post, "/api/plans"), Some(Class::Plan));
        assert_eq!(
            Class::of(&post, "/api/plans/abc/days/2/regenerate"),
            Some(Class::Plan)
        );
        assert_eq!(Class::of(&post, "/lists/abc/items"), Some(Class::ListEdit));
        assert_eq!(
            Class::of(&post, "/api/plans/abc/edits"),
            Some(Class::ListEdit)
        );
        assert_eq!(
            Class::of(&post, "/api/plans/abc/edits/undo"),
            Some(Class::ListEdit)
        );
        assert_eq!(Class::of(&post, "/plans/abc/rename"), Some(Class::ListEdit));
        assert_eq!(
            Class::of(&Method::PATCH, "/api/plans/abc"),
            Some(Class::ListEdit)
        );
        assert_eq!(
            Class::of(&Method::DELETE, "/api/lists/a/items/b"),
            Some(Class::ListEdit)
        );
        assert_eq!(Class::of(&get, "/lists/abc"), None);
        assert_eq!(
            Class::of(&get, "/lists/abc/export.pdf"),
            Some(Class::Export)
        );
        assert_eq!(
            Class::of(&get, "/plans/abc/export.ics"),
            Some(Class::Export)
        );
        assert_eq!(Class::of(&get, "/share/t/export.json"), Some(Class::Export));
        assert_eq!(Class::of(&get, "/api/lists/abc/pdf"), Some(Class::Export));
        assert_eq!(Class::of(&get, "/api/openapi.json"), None);
        assert_eq!(Class::of(&get, "/v1/models"), Some(Class::Api));
        assert_eq!(Class::of(&get, "/tiles/16/1/2.png"), Some(Class::Tile));
        assert_eq!(Class::of(&get, "/plans/abc"), None);
        assert_eq!(Class::of(&get, "/api/plans/abc/events"), None);
        assert_eq!(Class::of(&post, "/api/session"), None);
    }

    #[test]
    fn a_client_over_its_rate_waits_and_others_do_not() {
        let rates = RateLimits::new(&LimitsConfig {
            plan_requests_per_minute: 2,
            exports_per_minute: 0,
            ..LimitsConfig::default()
        });
        let a: IpAddr = "127.0.0.1".parse().unwrap();
        let b: IpAddr = "127.0.0.2".parse().unwrap();
        assert_eq!(rates.check(Class::Plan, a), None);
        assert_eq!(rates.check(Class::Plan, a), None);
        let wait = rates
            .check(Class::Plan, a)
            .expect("the third plan in a minute waits");
        assert!((1..=30).contains(&wait), "one plan per 30 s: {wait}");
        assert_eq!(
            rates.check(Class::Plan, b),
            None,
            "another address has its own"
        );
        assert_eq!(rates.check(Class::ListEdit, a), None, "classes count apart");
        for _ in 0..100 {
            assert_eq!(rates.check(Class::Export, a), None, "a rate of 0 is off");
        }
    }
}
