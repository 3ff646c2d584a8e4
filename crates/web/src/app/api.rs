//! The JSON API under `/api` and its OpenAPI 3.1 document (`GET /api/openapi.json`). The
//! routes are registered through utoipa-axum, so the document lists exactly the routes that
//! exist. `Plan` and `TripRequest` are described by `schema/plan.schema.json` (the same
//! document that tests the CLI's JSON), hoisted into the components.

use std::sync::{Arc, OnceLock};

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Path, Query, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tripwright_app::planning::{JobState, PlanJob};
use tripwright_domain::{PlanId, TripRequest};
use utoipa::openapi::{RefOr, Schema};
use utoipa::{OpenApi, PartialSchema, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ErrorBody, ErrorCode, WebError};
use super::events::{events_url, plan_url};
use super::session::User;
use super::state::WebApp;
use super::view::iso;

/// A JSON body, refused with a 400 JSON error naming the problem (unknown field, wrong type).
pub(crate) struct ApiJson<T>(pub(crate) T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = WebError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(Self(v)),
            Err(JsonRejection::BytesRejection(_)) => Err(WebError::too_large()),
            Err(e) => Err(WebError::bad_request(ErrorCode::InvalidJson, e.body_text())
                .hint("send a JSON object as described in /api/openapi.json")),
        }
    }
}

/// Stands for the domain's `TripRequest` in the document (described by the plan schema).
pub(crate) struct TripRequestDoc;
/// Stands for the domain's `Plan` in the document (described by the plan schema).
pub(crate) struct PlanDoc;

impl PartialSchema for TripRequestDoc {
    fn schema() -> RefOr<Schema> {
        utoipa::openapi::ObjectBuilder::new().into()
    }
}
impl ToSchema for TripRequestDoc {
    fn name() -> std::borrow::Cow<'static, str> {
        "TripRequest".into()
    }
}
impl PartialSchema for PlanDoc {
    fn schema() -> RefOr<Schema> {
        utoipa::openapi::ObjectBuilder::new().into()
    }
}
impl ToSchema for PlanDoc {
    fn name() -> std::borrow::Cow<'static, str> {
        "Plan".into()
    }
}

/// A plan being made.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct PlanStarted {
    /// The plan's id.
    id: String,
    /// Its page.
    url: String,
    /// Its event stream (text/event-stream).
    events: String,
}

impl PlanStarted {
    /// 202 with where to follow the job.
    fn accepted(job: &PlanJob) -> (StatusCode, Json<Self>) {
        (
            StatusCode::ACCEPTED,
            Json(Self {
                url: plan_url(&job.id),
                events: events_url(&job.id),
                id: job.id.to_string(),
            }),
        )
    }
}

/// A plan still being made.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct PlanState {
    /// `running`, or `cancelled` after a cancel.
    state: String,
}

/// One of the caller's plans: made, being made, or stopped before it was made.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct PlanListItem {
    /// Plan id.
    id: String,
    /// What it is called: its owner's name for it, else "Helsinki, Finland — 3 days".
    title: String,
    /// `made`, `making`, `cancelled` or `stopped` (failed, or cut by a restart).
    state: String,
    /// When it was made, started or stopped (RFC 3339, UTC).
    created_at: String,
    /// The first day of the trip (YYYY-MM-DD), when known.
    start_date: Option<String>,
    /// The wishes, as typed.
    prefs: String,
    /// The budget for the whole party, in `currency`.
    budget: Option<f64>,
    /// The plan's currency (ISO 4217).
    currency: String,
    /// Why it stopped, when it did.
    reason: Option<String>,
    /// Destination city.
    destination: String,
    /// Destination country.
    country: String,
    /// Trip length.
    days: u8,
    /// Its page.
    url: String,
}

/// A read-only link to a plan.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ShareLink {
    /// The link's path.
    url: String,
    /// The token in it.
    token: String,
}

/// A destination suggestion.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Suggestion {
    /// City.
    name: String,
    /// Country.
    country: String,
    /// "City, Country", as the form takes it.
    label: String,
}

/// The caller's CSRF token.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SessionInfo {
    /// Send it as `X-CSRF-Token` with every POST when you hold the `tw_user` cookie.
    csrf: String,
}

/// `?q=` of the suggestions.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub(crate) struct SuggestQuery {
    /// What was typed so far.
    #[serde(default)]
    q: String,
}

/// Most suggestions answered.
const MAX_SUGGESTIONS: usize = 10;

/// Starts a plan. The request is validated and the destination geocoded first (400 with
/// the reason); an identical request made today is answered from the plan cache.
#[utoipa::path(
    post, path = "/api/plans", tag = "plans",
    request_body = TripRequestDoc,
    responses(
        (status = 202, description = "The plan is being made; follow `events`", body = PlanStarted),
        (status = 400, description = "Invalid request or unknown destination", body = ErrorBody),
        (status = 403, description = "Missing CSRF token (cookie holders only), or sent by another site's page", body = ErrorBody),
        (status = 422, description = "The caller's plans for the day are used up", body = ErrorBody),
        (status = 429, description = "Too many plan requests from this address (see Retry-After)", body = ErrorBody),
        (status = 503, description = "Too many plans in progress (see Retry-After)", body = ErrorBody),
    )
)]
pub(crate) async fn create_plan(
    State(web): State<Arc<WebApp>>,
    user: User,
    ApiJson(req): ApiJson<TripRequest>,
) -> Result<(StatusCode, Json<PlanStarted>), WebError> {
    let planner = web.app.planner();
    // A caller without a cookie cannot come back for the plan as its owner (only through its
    // URL), so it is not kept for ever.
    let job = if user.fresh {
        planner.start_anonymous(&user.id, req).await?
    } else {
        planner.start(&user.id, req).await?
    };
    Ok(PlanStarted::accepted(&job))
}

/// The caller's saved plans, newest first.
#[utoipa::path(
    get, path = "/api/plans", tag = "plans",
    responses((status = 200, description = "The caller's plans", body = Vec<PlanListItem>))
)]
pub(crate) async fn list_plans(
    State(web): State<Arc<WebApp>>,
    user: User,
) -> Result<Json<Vec<PlanListItem>>, WebError> {
    let plans = web.app.planner().mine(&user.id, 100).await?;
    Ok(Json(
        plans
            .into_iter()
            .map(|p| PlanListItem {
                title: p.heading(),
                url: plan_url(&p.id),
                id: p.id.into_string(),
                state: p.state.as_str().to_owned(),
                created_at: iso(p.at),
                start_date: p.start_date.map(|d| d.to_string()),
                prefs: p.prefs,
                budget: p.budget,
                currency: p.currency,
                reason: p.reason,
                destination: p.destination,
                country: p.country,
                days: p.days,
            })
            .collect(),
    ))
}

/// One of the caller's plans: the plan when done, its state while running.
#[utoipa::path(
    get, path = "/api/plans/{id}", tag = "plans",
    params(("id" = String, Path, description = "Plan id")),
    responses(
        (status = 200, description = "The plan", body = PlanDoc),
        (status = 202, description = "Still being made", body = PlanState),
        (status = 404, description = "No such plan of the caller's (or it failed)", body = ErrorBody),
    )
)]
pub(crate) async fn get_plan(
    State(web): State<Arc<WebApp>>,
    user: User,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let job = web.app.planner().owned(&user.id, &PlanId::from(id)).await?;
    match (job.state(), job.plan()) {
        (JobState::Done, Some(plan)) => Ok(Json(&*plan).into_response()),
        (JobState::Running, _) => Ok((
            StatusCode::ACCEPTED,
            Json(PlanState {
                state: "running".into(),
            }),
        )
            .into_response()),
        (JobState::Failed(m), _) => Err(WebError::new(
            StatusCode::NOT_FOUND,
            ErrorCode::PlanFailed,
            format!("the plan failed: {m}"),
        )),
        _ => Err(WebError::new(
            StatusCode::NOT_FOUND,
            ErrorCode::PlanCancelled,
            "the plan was cancelled",
        )),
    }
}

/// The plan's progress as server-sent events: `agent`, `text`, `section`, then `done`,
/// `failed` or `cancelled`. Replays from the start, then follows live.
#[utoipa::path(
    get, path = "/api/plans/{id}/events", tag = "plans",
    params(("id" = String, Path, description = "Plan id")),
    responses(
        (status = 200, description = "text/event-stream", content_type = "text/event-stream", body = String),
        (status = 404, description = "No such plan of the caller's", body = ErrorBody),
    )
)]
pub(crate) async fn plan_events(
    State(web): State<Arc<WebApp>>,
    user: User,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let job = web.app.planner().owned(&user.id, &PlanId::from(id)).await?;
    Ok(super::events::stream(&job, web.tile_url.clone()))
}

/// Deletes one of the caller's plans (made, or stopped before it was made). A made plan can
/// be brought back for 10 minutes with `POST /api/plans/{id}/restore`.
#[utoipa::path(
    delete, path = "/api/plans/{id}", tag = "plans",
    params(("id" = String, Path, description = "Plan id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such plan of the caller's", body = ErrorBody),
        (status = 409, description = "It is being made: cancel it first", body = ErrorBody),
    )
)]
pub(crate) async fn delete_plan(
    State(web): State<Arc<WebApp>>,
    user: User,
    Path(id): Path<String>,
) -> Result<StatusCode, WebError> {
    web.app
        .planner()
        .delete(&user.id, &PlanId::from(id))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Brings back a plan the caller deleted less than 10 minutes ago.
#[utoipa::path(
    post, path = "/api/plans/{id}/restore", tag = "plans",
    params(("id" = String, Path, description = "Plan id")),
    responses(
        (status = 204, description = "Restored"),
        (status = 404, description = "No deleted plan of the caller's to bring back", body = ErrorBody),
    )
)]
pub(crate) async fn restore_plan(
    State(web): State<Arc<WebApp>>,
    user: User,
    Path(id): Path<String>,
) -> Result<StatusCode, WebError> {
    web.app
        .planner()
        .restore(&user.id, &PlanId::from(id))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Cancels a plan being made.
#[utoipa::path(
    post, path = "/api/plans/{id}/cancel", tag = "plans",
    params(("id" = String, Path, description = "Plan id")),
    responses(
        (status = 202, description = "Cancelled", body = PlanState),
        (status = 404, description = "No such plan of the caller's", body = ErrorBody),
        (status = 409, description = "It is not running", body = ErrorBody),
    )
)]
pub(crate) async fn cancel_plan(
    State(web): State<Arc<WebApp>>,
    user: User,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<PlanState>), WebError> {
    web.app
        .planner()
        .cancel(&user.id, &PlanId::from(id))
        .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(PlanState {
            state: "cancelled".into(),
        }),
    ))
}

/// Rewrites the prose of one day (with the language model, when one is configured); the
/// day is sent on the plan's event stream.
#[utoipa::path(
    post, path = "/api/plans/{id}/days/{n}/regenerate", tag = "plans",
    params(
        ("id" = String, Path, description = "Plan id"),
        ("n" = u8, Path, description = "Day number, 1-based"),
    ),
    responses(
        (status = 202, description = "Rewriting; follow `events`", body = PlanStarted),
        (status = 400, description = "No such day", body = ErrorBody),
        (status = 404, description = "No such plan of the caller's", body = ErrorBody),
        (status = 409, description = "The plan is still being made", body = ErrorBody),
        (status = 503, description = "Too many plans in progress", body = ErrorBody),
    )
)]
pub(crate) async fn regenerate_day(
    State(web): State<Arc<WebApp>>,
    user: User,
    Path((id, n)): Path<(String, String)>,
) -> Result<(StatusCode, Json<PlanStarted>), WebError> {
    let day: u8 = n.parse().map_err(|_| {
        WebError::bad_request(
            ErrorCode::DayOutOfRange,
            format!("{n:?} is not a day number"),
        )
    })?;
    let job = web
        .app
        .planner()
        .rewrite_day(&user.id, &PlanId::from(id), day)
        .await?;
    Ok(PlanStarted::accepted(&job))
}

/// A plan's new name.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Rename {
    /// At most 80 characters; empty gives the plan back its destination and length.
    title: String,
}

/// Names one of the caller's finished plans.
#[utoipa::path(
    patch, path = "/api/plans/{id}", tag = "plans",
    params(("id" = String, Path, description = "Plan id")),
    request_body = Rename,
    responses(
        (status = 200, description = "The renamed plan", body = PlanDoc),
        (status = 400, description = "The name is too long or has control characters", body = ErrorBody),
        (status = 404, description = "No such plan of the caller's", body = ErrorBody),
        (status = 409, description = "The plan is still being made", body = ErrorBody),
    )
)]
pub(crate) async fn rename_plan(
    State(web): State<Arc<WebApp>>,
    user: User,
    Path(id): Path<String>,
    ApiJson(rename): ApiJson<Rename>,
) -> Result<Response, WebError> {
    let plan = web
        .app
        .planner()
        .rename(&user.id, &PlanId::from(id), &rename.title)
        .await?;
    Ok(Json(&*plan).into_response())
}

/// A change to a finished plan. Days are 1-based, stops 0-based positions in their day.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub(crate) enum EditRequest {
    /// Takes a stop out of its day.
    Remove {
        /// The day.
        day: u8,
        /// The stop.
        stop: usize,
    },
    /// Replaces a stop with another place of the same kind nearby (the next one on each swap).
    Swap {
        /// The day.
        day: u8,
        /// The stop.
        stop: usize,
    },
    /// Moves a stop to position `to` of day `to_day` (its own day: a new order).
    Move {
        /// The day.
        day: u8,
        /// The stop.
        stop: usize,
        /// The day it goes to.
        to_day: u8,
        /// Its new position there.
        to: usize,
    },
    /// Adds a place (an id from `GET /api/plans/{id}/places`) where it adds least walking.
    Add {
        /// The day.
        day: u8,
        /// The place's id.
        place: String,
    },
}

impl From<EditRequest> for tripwright_app::planning::PlanEdit {
    fn from(e: EditRequest) -> Self {
        use tripwright_app::planning::PlanEdit;
        match e {
            EditRequest::Remove { day, stop } => PlanEdit::Remove { day, stop },
            EditRequest::Swap { day, stop } => PlanEdit::Swap { day, stop },
            EditRequest::Move {
                day,
                stop,
                to_day,
                to,
            } => PlanEdit::Move {
                day,
                stop,
                to_day,
                to,
            },
            EditRequest::Add { day, place } => PlanEdit::Add {
                day,
                place: tripwright_domain::PlaceId::from(place),
            },
        }
    }
}

/// An edited plan.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Edited {
    /// What was done, in words: "Removed Ateneum from day 1."
    message: String,
    /// How many changes can be undone now.
    undo: u32,
    /// The plan as it is now.
    #[schema(value_type = PlanDoc)]
    plan: Value,
}

/// The answer to an edit or an undo.
async fn edited(
    web: &WebApp,
    id: &PlanId,
    plan: &tripwright_domain::Plan,
    message: String,
) -> Result<Json<Edited>, WebError> {
    Ok(Json(Edited {
        message,
        undo: web.app.planner().edits(id).await?,
        plan: serde_json::to_value(plan).map_err(|e| WebError::internal(e.to_string()))?,
    }))
}

/// Changes a finished plan: remove, swap, move or add a stop. The days it touches are timed
/// and walked again, the checks and the cost recomputed; the other stops keep their text.
#[utoipa::path(
    post, path = "/api/plans/{id}/edits", tag = "plans",
    params(("id" = String, Path, description = "Plan id")),
    request_body = EditRequest,
    responses(
        (status = 200, description = "Edited", body = Edited),
        (status = 400, description = "The change cannot be made (no such day or stop, no other place …)", body = ErrorBody),
        (status = 404, description = "No such plan of the caller's", body = ErrorBody),
        (status = 409, description = "The plan is still being made", body = ErrorBody),
    )
)]
pub(crate) async fn edit_plan(
    State(web): State<Arc<WebApp>>,
    user: User,
    Path(id): Path<String>,
    ApiJson(edit): ApiJson<EditRequest>,
) -> Result<Json<Edited>, WebError> {
    let id = PlanId::from(id);
    let planner = web.app.planner();
    let (plan, message) = planner.edit(&user.id, &id, &edit.into()).await?;
    edited(&web, &id, &plan, message).await
}

/// Undoes the newest change to a plan.
#[utoipa::path(
    post, path = "/api/plans/{id}/edits/undo", tag = "plans",
    params(("id" = String, Path, description = "Plan id")),
    responses(
        (status = 200, description = "Undone", body = Edited),
        (status = 400, description = "There is no change to undo", body = ErrorBody),
        (status = 404, description = "No such plan of the caller's", body = ErrorBody),
        (status = 409, description = "The plan is being made", body = ErrorBody),
    )
)]
pub(crate) async fn undo_edit(
    State(web): State<Arc<WebApp>>,
    user: User,
    Path(id): Path<String>,
) -> Result<Json<Edited>, WebError> {
    let id = PlanId::from(id);
    let planner = web.app.planner();
    let plan = planner.undo_edit(&user.id, &id).await?;
    edited(&web, &id, &plan, "Undone.".into()).await
}

/// A place a plan can add.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct PlaceChoice {
    /// Its id, for an `add` edit.
    id: String,
    /// Its name.
    name: String,
    /// What it is, in words ("museum", "café").
    kind: String,
    /// How far it is from the plan's hotel, in km.
    km: f64,
}

/// Query of a place search.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub(crate) struct PlaceQuery {
    /// Part of the name.
    q: String,
}

/// Places near the plan's destination, in the local data, whose name contains `q` and that
/// the plan does not use yet; nearest first, at most 10.
#[utoipa::path(
    get, path = "/api/plans/{id}/places", tag = "plans",
    params(("id" = String, Path, description = "Plan id"), PlaceQuery),
    responses(
        (status = 200, description = "The places", body = [PlaceChoice]),
        (status = 404, description = "No such plan of the caller's", body = ErrorBody),
    )
)]
pub(crate) async fn plan_places(
    State(web): State<Arc<WebApp>>,
    user: User,
    Path(id): Path<String>,
    Query(query): Query<PlaceQuery>,
) -> Result<Json<Vec<PlaceChoice>>, WebError> {
    let id = PlanId::from(id);
    let planner = web.app.planner();
    let plan = planner.finished(&user.id, &id).await?;
    let base = plan
        .itinerary
        .hotel_among(&plan.hotels)
        .map_or(plan.destination.point(), |h| {
            tripwright_domain::GeoPoint::new(h.lat, h.lon)
        });
    let places = planner.find_places(&user.id, &id, &query.q).await?;
    Ok(Json(
        places
            .into_iter()
            .map(|p| PlaceChoice {
                km: (base.distance_km(&p.point()) * 10.0).round() / 10.0,
                kind: tripwright_domain::place_kind_words(&p.kind),
                id: p.id.to_string(),
                name: p.name,
            })
            .collect(),
    ))
}

/// A read-only link to a saved plan that anyone can open (the same link every time).
#[utoipa::path(
    post, path = "/api/plans/{id}/share", tag = "plans",
    params(("id" = String, Path, description = "Plan id")),
    responses(
        (status = 200, description = "The link", body = ShareLink),
        (status = 404, description = "No such plan of the caller's", body = ErrorBody),
        (status = 409, description = "The plan is still being made", body = ErrorBody),
    )
)]
pub(crate) async fn share_plan(
    State(web): State<Arc<WebApp>>,
    user: User,
    Path(id): Path<String>,
) -> Result<Json<ShareLink>, WebError> {
    let token = web.app.planner().share(&user.id, &PlanId::from(id)).await?;
    Ok(Json(ShareLink {
        url: format!("/share/{token}"),
        token,
    }))
}

/// Ends the plan's share link: whoever has it sees "not found" from now on. Sharing again
/// makes a new link.
#[utoipa::path(
    delete, path = "/api/plans/{id}/share", tag = "plans",
    params(("id" = String, Path, description = "Plan id")),
    responses(
        (status = 204, description = "The link no longer works"),
        (status = 404, description = "No such plan of the caller's, or it was not shared", body = ErrorBody),
    )
)]
pub(crate) async fn unshare_plan(
    State(web): State<Arc<WebApp>>,
    user: User,
    Path(id): Path<String>,
) -> Result<StatusCode, WebError> {
    if web
        .app
        .planner()
        .unshare(&user.id, &PlanId::from(id))
        .await?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(WebError::not_found("share link"))
    }
}

/// Destinations starting with `q`, for the form's autocomplete (at most 10).
#[utoipa::path(
    get, path = "/api/destinations", tag = "planner",
    params(SuggestQuery),
    responses((status = 200, description = "Suggestions", body = Vec<Suggestion>))
)]
pub(crate) async fn destinations(
    State(web): State<Arc<WebApp>>,
    Query(q): Query<SuggestQuery>,
) -> Json<Vec<Suggestion>> {
    let found = web.app.suggest_destinations(&q.q, MAX_SUGGESTIONS);
    Json(
        found
            .into_iter()
            .map(|d| Suggestion {
                label: format!("{}, {}", d.name, d.country),
                name: d.name,
                country: d.country,
            })
            .collect(),
    )
}

/// Where a plan for a destination would get its places.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct DestinationCoverage {
    /// "City, Country", as found.
    label: String,
    /// `stored` (this server has its places), `fetched` (they are fetched from OpenStreetMap
    /// while planning) or `none` (the plan would have no hotels or stops).
    places: String,
    /// What that means for the traveller, when it is not simply `stored`.
    notice: Option<String>,
}

/// Query of a destination check.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub(crate) struct DestinationQuery {
    /// The destination as typed.
    q: String,
}

/// Whether this server can plan a destination with real places, before planning it.
#[utoipa::path(
    get, path = "/api/destination", tag = "planner",
    params(DestinationQuery),
    responses(
        (status = 200, description = "Where its places would come from", body = DestinationCoverage),
        (status = 400, description = "No such destination (`unknown_destination`)", body = ErrorBody),
    )
)]
pub(crate) async fn destination(
    State(web): State<Arc<WebApp>>,
    Query(q): Query<DestinationQuery>,
) -> Result<Json<DestinationCoverage>, WebError> {
    let query: String = q.q.chars().take(200).collect();
    let (dest, coverage, known) = web.app.coverage(&query).await?;
    let label = format!("{}, {}", dest.name, dest.country);
    let instead = match known.as_slice() {
        [] => String::new(),
        [one] => format!(" Try a city it has data for: {one}."),
        many => format!(" Try a city it has data for: {}.", many.join(", ")),
    };
    let notice = match coverage {
        tripwright_app::regions::Coverage::Stored => None,
        tripwright_app::regions::Coverage::Fetched => Some(format!(
            "This server has no place data for {label} yet: it will fetch its hotels and sights \
             from OpenStreetMap while planning, which takes a little longer."
        )),
        tripwright_app::regions::Coverage::None => Some(format!(
            "This server has no place data for {label} and cannot fetch any: the plan would \
             have the weather and the best months, but no hotels, stops or street map.{instead}"
        )),
    };
    Ok(Json(DestinationCoverage {
        label,
        places: coverage.as_str().to_owned(),
        notice,
    }))
}

/// The caller's CSRF token (and cookie, for a new caller).
#[utoipa::path(
    get, path = "/api/session", tag = "planner",
    responses((status = 200, description = "The token", body = SessionInfo))
)]
pub(crate) async fn session_info(user: User) -> Json<SessionInfo> {
    Json(SessionInfo { csrf: user.csrf })
}

/// This document.
#[utoipa::path(
    get, path = "/api/openapi.json", tag = "meta",
    responses((status = 200, description = "The OpenAPI 3.1 document", body = Object))
)]
pub(crate) async fn openapi_json() -> Json<Value> {
    Json(openapi_document().clone())
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Tripwright",
        description = "Multi-agent travel planner. A browser is identified by its `tw_user` cookie; requests \
that carry it must send the CSRF token (`GET /api/session`) as `X-CSRF-Token` with every POST. \
Requests without the cookie act as a new user each time. Errors are `{\"error\":{\"code\",\"message\",\"hint\"}}`."
    ),
    tags(
        (name = "plans", description = "Making, reading and sharing plans"),
        (name = "planner", description = "What the planner form uses"),
        (name = "meta", description = "This document"),
    )
)]
struct ApiDoc;

/// The API routes, collected with their documentation.
pub(crate) fn router() -> OpenApiRouter<Arc<WebApp>> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(create_plan, list_plans))
        .routes(routes!(get_plan, delete_plan, rename_plan))
        .routes(routes!(restore_plan))
        .routes(routes!(plan_events))
        .routes(routes!(cancel_plan))
        .routes(routes!(regenerate_day))
        .routes(routes!(edit_plan))
        .routes(routes!(undo_edit))
        .routes(routes!(plan_places))
        .routes(routes!(share_plan, unshare_plan))
        .routes(routes!(destinations))
        .routes(routes!(destination))
        .routes(routes!(session_info))
        .routes(routes!(openapi_json))
        .merge(super::lists::api_routes())
        .merge(super::supermarkets::api_routes())
}

/// Replaces `#/$defs/` references by `#/components/schemas/` ones, everywhere in `v`.
fn rebase_refs(v: &mut Value) {
    match v {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get_mut("$ref")
                && let Some(name) = r.strip_prefix("#/$defs/")
            {
                *r = format!("#/components/schemas/{name}");
            }
            for child in map.values_mut() {
                rebase_refs(child);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(rebase_refs),
        _ => {}
    }
}

/// The OpenAPI 3.1 document of the JSON API, with `Plan`, `TripRequest` and their parts
/// from `schema/plan.schema.json`.
pub fn openapi_document() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| {
        let (_, api) = router().split_for_parts();
        let mut doc = serde_json::to_value(&api).unwrap_or_else(|_| json!({}));
        let mut plan: Value =
            serde_json::from_str(include_str!("../../../../schema/plan.schema.json"))
                .unwrap_or_else(|_| json!({}));
        rebase_refs(&mut plan);
        let defs = plan
            .as_object_mut()
            .and_then(|o| o.remove("$defs"))
            .unwrap_or_else(|| json!({}));
        if let Some(o) = plan.as_object_mut() {
            for k in ["$schema", "$id"] {
                o.remove(k);
            }
        }
        let schemas = &mut doc["components"]["schemas"];
        if !schemas.is_object() {
            *schemas = json!({});
        }
        if let (Some(schemas), Some(defs)) = (schemas.as_object_mut(), defs.as_object()) {
            for (name, schema) in defs {
                schemas.insert(name.clone(), schema.clone());
            }
            schemas.insert("Plan".into(), plan);
        }
        // Every error code, so clients can branch on a closed set.
        let codes: Vec<&str> = ErrorCode::all().map(ErrorCode::as_str).collect();
        if let Some(code) = doc
            .pointer_mut("/components/schemas/ErrorDetail/properties/code")
            .and_then(Value::as_object_mut)
        {
            code.insert("enum".into(), json!(codes));
        }
        doc
    })
}
