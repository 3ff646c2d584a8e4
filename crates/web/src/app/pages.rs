//! The HTML pages: the planner, a plan (the owner's, or shared read-only), the saved plans,
//! and the friendly pages for what is not there (404, coming soon).

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use tripwright_app::planning::{JobSnapshot, JobState, PlanJob};
use tripwright_app::{AppError, GeocodeError};
use tripwright_domain::{ListId, OwnerId, PlanId, TripRequest};

use super::error::{ErrorCode, WebError, add_retry_after};
use super::events::{self, events_url, live_url, plan_url};
use super::exports;
use super::htmx::{self, HxRequest};
use super::session::User;
use super::state::WebApp;
use super::view::{
    Chrome, FormError, FormErrorBox, ItineraryMode, LiveStream, MessagePage, PlanForm, PlanItem,
    PlanPage, PlannerPage, PlansPage, RecoverPage, checks_html, hotels_html, iso, itinerary_html,
    job_state_name, map_data, map_html, months_html, progress_html, render, status_html,
    summary_html, warnings_html,
};

fn page(status: StatusCode, html: String) -> Response {
    (status, Html(html)).into_response()
}

fn message(
    user: &User,
    status: StatusCode,
    kind: &'static str,
    heading: &str,
    text: &str,
) -> Response {
    page(
        status,
        render(&MessagePage {
            chrome: Chrome::new(&user.csrf, heading, kind),
            kind,
            heading: heading.to_owned(),
            text: text.to_owned(),
        }),
    )
}

/// The 404 page, with a link home.
pub(crate) fn not_found_html(user: &User) -> Response {
    message(
        user,
        StatusCode::NOT_FOUND,
        "not-found",
        "Not found",
        "There is nothing at this address, or it belongs to another browser.",
    )
}

/// The fallback: the 404 page, or a JSON 404 for unknown `/api/` paths.
pub(crate) async fn not_found_page(user: User, uri: axum::http::Uri) -> Response {
    if uri.path().starts_with("/api/") {
        return WebError::new(
            StatusCode::NOT_FOUND,
            ErrorCode::UnknownEndpoint,
            "no such API endpoint; see /api/openapi.json",
        )
        .into_response();
    }
    not_found_html(&user)
}

async fn planner(user: User) -> Response {
    page(
        StatusCode::OK,
        render(&PlannerPage::new(&user.csrf, PlanForm::default(), None)),
    )
}

/// Turns the form's strings into a request, or says which field is wrong.
fn parse_form(form: &PlanForm) -> Result<TripRequest, FormError> {
    fn number<T: std::str::FromStr>(field: &str, value: &str) -> Result<Option<T>, FormError> {
        let value = value.trim();
        if value.is_empty() {
            return Ok(None);
        }
        value.parse().map(Some).map_err(|_| {
            FormError::new(
                &format!("{field} must be a number, got {value:?}"),
                Some(&format!("enter a number for {field}, or leave it empty")),
            )
        })
    }
    let mut req = TripRequest::new(form.destination.trim());
    req.prefs = form.prefs.clone();
    if let Some(days) = number::<u8>("days", &form.days)? {
        req.days = days;
    }
    req.month = number("month", &form.month)?;
    let start = form.start_date.trim();
    if !start.is_empty() {
        let date = chrono::NaiveDate::parse_from_str(start, "%Y-%m-%d").map_err(|_| {
            FormError::new(
                &format!("the first day must be a date, got {start:?}"),
                Some("pick a day in the calendar, or write it as YYYY-MM-DD"),
            )
        })?;
        req.start_date = Some(date);
        // The date fixes the month: a month chosen too is not a conflict to report.
        req.month = None;
    }
    req.budget = number("budget", &form.budget)?;
    let currency = form.currency.trim();
    req.currency = (!currency.is_empty()).then(|| currency.to_ascii_uppercase());
    if let Some(t) = number::<u8>("travelers", &form.travelers)? {
        req.travelers = t;
    }
    Ok(req)
}

async fn submit(
    State(web): State<Arc<WebApp>>,
    user: User,
    HxRequest(hx): HxRequest,
    form: Result<Form<PlanForm>, FormRejection>,
) -> Response {
    let answer = submitted(&web, &user, form).await;
    match (answer, hx) {
        // htmx: the browser goes to the plan, or the error box is swapped in.
        (Ok(url), true) => htmx::redirect(&url),
        (Err((status, _, error, retry)), true) => error_box(status, error, retry),
        (Ok(url), false) => Redirect::to(&url).into_response(),
        (Err((status, form, error, retry)), false) => {
            let mut response = page(
                status,
                render(&PlannerPage::new(&user.csrf, form, Some(error))),
            );
            add_retry_after(&mut response, retry);
            response
        }
    }
}

/// The answer to a request refused before its handler (a rate limit): the planner's error
/// box for htmx, a list's error box for a list's htmx post, else a page saying why.
pub(crate) fn refused(user: &User, hx: bool, path: &str, e: WebError) -> Response {
    if hx && path == "/plans" {
        let (status, retry) = (e.status, e.retry_after);
        error_box(status, FormError::from(e), retry)
    } else if let (true, Some(id)) = (hx, path.strip_prefix("/lists/")) {
        let id = id.split('/').next().unwrap_or_default();
        super::lists::error_fragment(user, &ListId::from(id.to_owned()), e)
    } else {
        error_page(user, e)
    }
}

/// The planner's error box alone (what an htmx submit swaps in), with `Retry-After` when
/// waiting helps.
fn error_box(status: StatusCode, error: FormError, retry: Option<u64>) -> Response {
    let mut response = (status, Html(render(&FormErrorBox { error: Some(error) }))).into_response();
    add_retry_after(&mut response, retry);
    response
}

/// Starts the plan of a submitted form: its page's URL, or why not (with the form as typed).
async fn submitted(
    web: &WebApp,
    user: &User,
    form: Result<Form<PlanForm>, FormRejection>,
) -> Result<String, (StatusCode, PlanForm, FormError, Option<u64>)> {
    let form = match form {
        Ok(Form(f)) => f,
        Err(e) => {
            // 413 for a form over the size limit, 400 (or 415) for one that does not parse.
            let status = e.status();
            let error = if status == StatusCode::PAYLOAD_TOO_LARGE {
                FormError::new(
                    "the form is too large",
                    Some("shorten the wishes and send it again"),
                )
            } else {
                FormError::new(&e.body_text(), Some("fill in the form and send it again"))
            };
            return Err((status, PlanForm::default(), error, None));
        }
    };
    let req = match parse_form(&form) {
        Ok(r) => r,
        Err(e) => return Err((StatusCode::BAD_REQUEST, form, e, None)),
    };
    let planner = web.app.planner();
    // Without a cookie (curl), the plan cannot be found again as the owner's: kept a while.
    let started = if user.fresh {
        planner.start_anonymous(&user.id, req).await
    } else {
        planner.start(&user.id, req).await
    };
    match started {
        Ok(job) => Ok(plan_url(&job.id)),
        Err(e) => {
            let (query, suggestions) = match &e {
                AppError::UnknownDestination(GeocodeError::NotFound { query, suggestions }) => {
                    (query.clone(), suggestions.clone())
                }
                _ => (String::new(), Vec::new()),
            };
            let e = WebError::from(e);
            let (status, retry) = (e.status, e.retry_after);
            Err((
                status,
                form,
                FormError::from(e).suggesting(&query, suggestions),
                retry,
            ))
        }
    }
}

/// `POST /plans/{id}/delete`: back to My plans, which offers to undo it.
async fn delete_plan(
    State(web): State<Arc<WebApp>>,
    user: User,
    Path(id): Path<String>,
) -> Response {
    let id = PlanId::from(id);
    match web.app.planner().delete(&user.id, &id).await {
        Ok(true) => Redirect::to(&format!("/plans?deleted={id}")).into_response(),
        Ok(false) => Redirect::to("/plans").into_response(),
        Err(e) => error_page(&user, WebError::from(e)),
    }
}

#[derive(Debug, Default, serde::Deserialize)]
struct RenameForm {
    #[serde(default)]
    title: String,
}

/// `POST /plans/{id}/rename`: back to My plans with the plan's new name (an empty one gives
/// it back its destination and length).
async fn rename_plan(
    State(web): State<Arc<WebApp>>,
    user: User,
    Path(id): Path<String>,
    Form(form): Form<RenameForm>,
) -> Response {
    let id = PlanId::from(id);
    match web.app.planner().rename(&user.id, &id, &form.title).await {
        Ok(_) => Redirect::to("/plans").into_response(),
        Err(e) => error_page(&user, WebError::from(e)),
    }
}

/// `POST /plans/{id}/restore`: the deleted plan is back.
async fn restore_plan(
    State(web): State<Arc<WebApp>>,
    user: User,
    Path(id): Path<String>,
) -> Response {
    let id = PlanId::from(id);
    match web.app.planner().restore(&user.id, &id).await {
        Ok(()) => Redirect::to(&plan_url(&id)).into_response(),
        Err(e) => error_page(&user, WebError::from(e)),
    }
}

#[derive(Debug, Default, serde::Deserialize)]
struct PlansQuery {
    /// A plan just deleted, to offer its undo.
    #[serde(default)]
    deleted: Option<String>,
}

async fn plans_page(
    State(web): State<Arc<WebApp>>,
    user: User,
    headers: axum::http::HeaderMap,
    Query(query): Query<PlansQuery>,
) -> Result<Response, WebError> {
    let plans = web.app.planner().mine(&user.id, 200).await?;
    let plans = plans
        .into_iter()
        .map(|p| {
            use tripwright_app::MyPlanState as S;
            let state = p.state.as_str();
            let badge = match p.state {
                S::Made => None,
                S::Making => Some("Being made".to_owned()),
                S::Cancelled => Some("Cancelled".to_owned()),
                S::Stopped => Some(match &p.reason {
                    Some(r) => format!("Stopped: {}", tripwright_domain::capitalised(r)),
                    None => "Stopped".to_owned(),
                }),
            };
            let dates = match p.start_date {
                Some(first) => {
                    let last = first
                        .checked_add_days(chrono::Days::new(u64::from(p.days.max(1)) - 1))
                        .unwrap_or(first);
                    tripwright_domain::date_range(first, last)
                }
                None => "Month chosen for the weather".to_owned(),
            };
            PlanItem {
                url: plan_url(&p.id),
                title: p.heading(),
                name: p.title.clone().unwrap_or_default(),
                default_title: tripwright_domain::plan_heading(
                    &p.destination,
                    &p.country,
                    usize::from(p.days),
                ),
                renamable: p.state == tripwright_app::planning::MyPlanState::Made,
                created: p.at.format("%Y-%m-%d %H:%M UTC").to_string(),
                created_iso: iso(p.at),
                state,
                badge,
                dates,
                prefs: p.prefs.trim().to_owned(),
                budget: p.budget.map_or_else(String::new, |b| {
                    format!("Budget {}", tripwright_domain::Money::new(b, &p.currency))
                }),
            }
        })
        .collect();
    Ok(page(
        StatusCode::OK,
        render(&PlansPage {
            chrome: {
                let mut chrome = Chrome::new(&user.csrf, "My plans", "plans");
                chrome.module = Some("plans.mjs");
                chrome
            },
            deleted: query
                .deleted
                .filter(|d| {
                    !d.is_empty()
                        && d.len() <= 64
                        && d.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                })
                .map(|d| plan_url(PlanId::from(d))),
            plans,
            recovery_url: recovery_url(&web, &headers, &user),
        }),
    ))
}

/// The absolute link that brings `user`'s identity to another browser: the host the browser
/// asked for (or a proxy forwarded), the user's signed id as the key.
fn recovery_url(web: &WebApp, headers: &axum::http::HeaderMap, user: &User) -> String {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let host = text("x-forwarded-host")
        .or_else(|| text("host"))
        .unwrap_or("localhost");
    let scheme = if web.secure_cookies { "https" } else { "http" };
    let key = web.keys.cookie_value(user.id.as_str());
    format!("{scheme}://{host}/recover?key={key}")
}

#[derive(Debug, Default, serde::Deserialize)]
struct RecoverForm {
    #[serde(default)]
    key: String,
}

/// `GET /recover?key=…`: asks before this browser takes the identity of the link.
async fn recover_page(
    State(web): State<Arc<WebApp>>,
    user: User,
    Query(form): Query<RecoverForm>,
) -> Response {
    let valid = web.keys.user_of(&form.key).is_some();
    page(
        if valid {
            StatusCode::OK
        } else {
            StatusCode::BAD_REQUEST
        },
        render(&RecoverPage {
            chrome: Chrome::new(&user.csrf, "Bring back your plans", "recover"),
            valid,
            key: form.key,
        }),
    )
}

/// `POST /recover`: this browser becomes the user of the key (its cookie is replaced), then
/// goes to their plans. Only a same-site form with the CSRF token gets here.
async fn recover(
    State(web): State<Arc<WebApp>>,
    user: User,
    Form(form): Form<RecoverForm>,
) -> Response {
    if web.keys.user_of(&form.key).is_none() {
        return recover_page(State(web), user, Query(form)).await;
    }
    let mut response = Redirect::to("/plans").into_response();
    super::session::set_identity(&web, &mut response, &form.key);
    response
}

/// Who is looking at a plan page.
enum Viewer<'a> {
    /// The owner: progress, rewrite buttons, sharing.
    Owner,
    /// Anyone with the share link `token`: read-only.
    Shared(&'a str),
}

fn plan_page(web: &WebApp, user: &User, job: &PlanJob, viewer: Viewer<'_>) -> Response {
    let snap = job.snapshot();
    let owner = matches!(viewer, Viewer::Owner);
    // A finished plan's page changes only when a day is rewritten: the owner's copy is kept.
    let keep = owner && snap.state == JobState::Done;
    if keep && let Some(body) = web.pages.get(&job.id, snap.version, &user.csrf) {
        return html_bytes(body);
    }
    let body = Bytes::from(render_plan(web, user, job, &snap, viewer));
    if keep {
        web.pages
            .put(&job.id, snap.version, &user.csrf, body.clone());
    }
    html_bytes(body)
}

fn render_plan(
    web: &WebApp,
    user: &User,
    job: &PlanJob,
    snap: &JobSnapshot,
    viewer: Viewer<'_>,
) -> String {
    let owner = matches!(viewer, Viewer::Owner);
    let running = snap.state == JobState::Running;
    let parts = &snap.parts;
    let heading = snap
        .plan
        .as_ref()
        .and_then(|p| p.title.clone())
        .unwrap_or_else(|| {
            tripwright_domain::plan_heading(
                &job.destination.name,
                &job.destination.country,
                usize::from(job.request.days),
            )
        });
    let map = map_data(
        parts.hotels.as_deref(),
        parts.itinerary.as_ref(),
        web.tile_url.as_deref(),
    );
    let export_base = match viewer {
        Viewer::Owner => plan_url(&job.id),
        Viewer::Shared(token) => format!("/share/{token}"),
    };
    let mut chrome = Chrome::new(
        &user.csrf,
        heading.clone(),
        if owner { "plan" } else { "share" },
    );
    chrome.map = true;
    chrome.htmx = owner;
    chrome.sse = owner;
    chrome.module = Some("plan.mjs");
    render(&PlanPage {
        chrome,
        id: job.id.to_string(),
        state: job_state_name(&snap.state),
        events: owner.then(|| events_url(&job.id)),
        live: owner.then(|| LiveStream {
            url: live_url(&job.id),
            connect: running,
            events: events::LIVE_EVENTS.join(","),
        }),
        heading,
        status: status_html(&snap.state, snap.plan.as_deref(), None, false),
        prefs: job.request.prefs.clone(),
        show_progress: owner && !matches!(snap.state, JobState::Done),
        progress: progress_html(
            &snap.agents,
            &Default::default(),
            running,
            snap.writing.as_ref(),
        ),
        months: months_html(parts.months.as_deref()),
        hotels: hotels_html(parts.hotels.as_deref(), &parts.currency),
        map: map_html(&map),
        itinerary: itinerary_html(
            parts.itinerary.as_ref(),
            ItineraryMode {
                editable: owner,
                live: running,
                updated: None,
            },
        ),
        summary: summary_html(parts.summary.as_ref()),
        checks: checks_html(parts.checks.as_deref(), &parts.sources),
        warnings: warnings_html(&parts.warnings),
        has_warnings: !parts.warnings.is_empty(),
        export_base,
        shareable: owner,
        share_url: String::new(),
    })
}

fn html_bytes(body: Bytes) -> Response {
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response()
}

/// `GET /plans/{id}/live`: the owner's page follows the plan through this stream of HTML
/// fragments (see [`events`]).
async fn plan_live(State(web): State<Arc<WebApp>>, user: User, Path(id): Path<String>) -> Response {
    match web.app.planner().owned(&user.id, &PlanId::from(id)).await {
        Ok(job) => events::live(&job, web.tile_url.clone()),
        Err(e) => WebError::from(e).into_response(),
    }
}

async fn plan_view(State(web): State<Arc<WebApp>>, user: User, Path(id): Path<String>) -> Response {
    match web.app.planner().owned(&user.id, &PlanId::from(id)).await {
        Ok(job) => plan_page(&web, &user, &job, Viewer::Owner),
        Err(e) => {
            let e = WebError::from(e);
            if e.status == StatusCode::NOT_FOUND {
                not_found_html(&user)
            } else {
                error_page(&user, e)
            }
        }
    }
}

/// A page saying what went wrong, headed by the kind of refusal, with `Retry-After` when
/// waiting helps.
fn error_page(user: &User, e: WebError) -> Response {
    let heading = match e.status {
        StatusCode::TOO_MANY_REQUESTS => "Too many requests",
        StatusCode::FORBIDDEN => "Request refused",
        _ => "Something went wrong",
    };
    let (status, retry, text) = (e.status, e.retry_after, e.message.clone());
    // Logged by into_response.
    drop(e.into_response());
    let mut response = message(user, status, "error", heading, &text);
    add_retry_after(&mut response, retry);
    response
}

async fn shared_view(
    State(web): State<Arc<WebApp>>,
    user: User,
    Path(token): Path<String>,
) -> Response {
    match web
        .app
        .planner()
        .shared(&token)
        .await
        .map_err(WebError::from)
    {
        Ok(plan) => {
            let job = PlanJob::finished(OwnerId::new(""), plan);
            plan_page(&web, &user, &job, Viewer::Shared(&token))
        }
        Err(e) if e.status == StatusCode::NOT_FOUND => not_found_html(&user),
        Err(e) => error_page(&user, e),
    }
}

async fn plan_export(
    State(web): State<Arc<WebApp>>,
    user: User,
    Path((id, file)): Path<(String, String)>,
) -> Response {
    match web
        .app
        .planner()
        .finished(&user.id, &PlanId::from(id))
        .await
    {
        Ok(plan) => exports::plan_export(&web, &plan, &file).await,
        Err(e) => WebError::from(e).into_response(),
    }
}

async fn shared_export(
    State(web): State<Arc<WebApp>>,
    Path((token, file)): Path<(String, String)>,
) -> Response {
    match web.app.planner().shared(&token).await {
        Ok(plan) => exports::plan_export(&web, &plan, &file).await,
        Err(e) => WebError::from(e).into_response(),
    }
}

/// The page routes.
pub(crate) fn router() -> Router<Arc<WebApp>> {
    Router::new()
        .route("/", get(planner))
        .route("/plans", get(plans_page).post(submit))
        .route("/recover", get(recover_page).post(recover))
        .route("/plans/{id}", get(plan_view))
        .route("/plans/{id}/delete", axum::routing::post(delete_plan))
        .route("/plans/{id}/restore", axum::routing::post(restore_plan))
        .route("/plans/{id}/rename", axum::routing::post(rename_plan))
        .route("/plans/{id}/live", get(plan_live))
        .route("/plans/{id}/{file}", get(plan_export))
        .route("/share/{token}", get(shared_view))
        .route("/share/{token}/{file}", get(shared_export))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_parses_into_a_request_or_names_the_field() {
        let form = PlanForm {
            destination: " Helsinki ".into(),
            days: "3".into(),
            month: "".into(),
            budget: "1500".into(),
            currency: "eur".into(),
            travelers: "2".into(),
            ..PlanForm::default()
        };
        let req = parse_form(&form).expect("valid");
        assert_eq!(req.destination, "Helsinki");
        assert_eq!(req.days, 3);
        assert_eq!(req.month, None);
        assert_eq!(req.budget, Some(1500.0));
        assert_eq!(req.currency.as_deref(), Some("EUR"));
        assert_eq!(req.travelers, 2);
        let bad = PlanForm {
            days: "many".into(),
            ..form
        };
        let e = parse_form(&bad).expect_err("days");
        assert!(e.message.contains("Days must be a number"), "{}", e.message);
        // A first day fixes the month (a month chosen too is not a conflict).
        let dated = PlanForm {
            start_date: "2027-06-05".into(),
            month: "7".into(),
            ..bad.clone()
        };
        let dated = PlanForm {
            days: "3".into(),
            ..dated
        };
        let req = parse_form(&dated).expect("valid");
        assert_eq!(req.start_date, chrono::NaiveDate::from_ymd_opt(2027, 6, 5));
        assert_eq!(req.month, None);
        let e = parse_form(&PlanForm {
            start_date: "5.6.2027".into(),
            ..dated
        })
        .expect_err("not a date");
        assert_eq!(e.message, "The first day must be a date, got \"5.6.2027\"");
    }
}
