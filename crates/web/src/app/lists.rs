//! Trip lists (issue 5): what to pack or buy, with quantities "at home" and "to take", a
//! "taken" tick, notes, suggested items for a plan's list and a PDF.
//!
//! Pages (server-rendered, working without JS; `static/lists.js` saves each change at once
//! through the JSON API instead of reloading):
//! `GET /lists` (the caller's lists, a form to make one), `GET /lists/{id}` (the table, the
//! progress bar, suggestions), `GET /lists/{id}/notes`, `GET /notes`, `GET /plans/{id}/list`
//! (opens the plan's list, making it the first time) and `GET /lists/{id}/export.pdf`; the forms
//! post to `/lists`, `/lists/{id}/rename|delete|items|notes` and `/lists/{id}/items/{item}`.
//!
//! The JSON API (`/api/lists…`, `/api/plans/{id}/suggestions`) is documented in the OpenAPI
//! document. Every write goes straight to the store; item and list writes carry the version the
//! client saw, and a stale one answers 409 `changed_elsewhere` so that the page reloads the row.
//! Lists are the caller's only: anyone else's id is "not found".

use std::sync::Arc;

use askama::Template;
use axum::Json;
use axum::Router;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Path, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tripwright_agents::packing::{PackingSuggestion, suggest_items};
use tripwright_domain::{
    ListItem, MAX_ITEM_NAME_CHARS, MAX_LIST_TITLE_CHARS, MAX_NOTES_CHARS, MAX_QUANTITY, Plan,
    TripList, validate_item_name, validate_quantity,
};
use tripwright_store::{ItemPatch, StoreError};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::WebApp;
use super::api::ApiJson;
use super::error::{ErrorBody, WebError};
use super::jobs::JobState;
use super::session::User;
use super::view::{Chrome, render};

// ───────────────────────────── JSON shapes ─────────────────────────────

/// How far the packing is: "X out of Y items taken (Z%)".
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct Progress {
    /// Items ticked as taken.
    taken: usize,
    /// All items.
    total: usize,
    /// `taken / total` in percent, rounded down so 100 means all taken (0 for an empty list).
    percent: u32,
    /// "2 out of 3 items taken (66%)".
    text: String,
}

impl Progress {
    fn of(list: &TripList) -> Self {
        let (taken, total) = list.progress();
        Self {
            taken,
            total,
            percent: list.progress_percent(),
            text: list.progress_text(),
        }
    }
}

/// One item of a list.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct ItemJson {
    /// Item id.
    id: String,
    /// Name, unique within the list (case-insensitively).
    name: String,
    /// How many are at home, 0..=12.
    qty_home: u8,
    /// How many to take, 0..=12.
    qty_take: u8,
    /// Packed (or bought).
    taken: bool,
    /// Sort key; the list's `items` are in this order.
    position: i64,
    /// Send it back as `version` with a change: a stale one answers 409.
    version: i64,
}

impl From<ListItem> for ItemJson {
    fn from(i: ListItem) -> Self {
        Self {
            id: i.id,
            name: i.name,
            qty_home: i.qty_home,
            qty_take: i.qty_take,
            taken: i.taken,
            position: i.position,
            version: i.version,
        }
    }
}

/// A trip list with its items.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct ListJson {
    /// List id.
    id: String,
    /// Title.
    title: String,
    /// The saved plan it belongs to, if any.
    plan_id: Option<String>,
    /// Free-text notes.
    notes: String,
    /// When the notes were last saved (RFC 3339, UTC); null before the first save.
    notes_saved_at: Option<String>,
    /// Creation time (RFC 3339).
    created_at: String,
    /// Version of the title and notes: send it back with a rename or notes change.
    version: i64,
    /// Items in display order.
    items: Vec<ItemJson>,
    /// Packing progress.
    progress: Progress,
    /// The list's page.
    url: String,
    /// Its PDF.
    pdf_url: String,
}

impl From<TripList> for ListJson {
    fn from(l: TripList) -> Self {
        let progress = Progress::of(&l);
        Self {
            url: list_url(&l.id),
            pdf_url: format!("/api/lists/{}/pdf", l.id),
            progress,
            id: l.id,
            title: l.title,
            plan_id: l.plan_id,
            notes: l.notes,
            notes_saved_at: l.notes_saved_at,
            created_at: l.created_at,
            version: l.version,
            items: l.items.into_iter().map(ItemJson::from).collect(),
        }
    }
}

/// A new list: a title ("Trip list" when left out), or a saved plan whose list to open.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewList {
    /// Title, 1..=120 characters; default "Trip list" ("Trip list — City" for a plan).
    #[serde(default)]
    title: Option<String>,
    /// One of the caller's saved plans: its list is answered (200) when it has one, else made.
    #[serde(default)]
    plan_id: Option<String>,
}

/// A rename.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListPatch {
    /// New title, 1..=120 characters.
    title: String,
    /// The list version the client saw (409 when it changed since); leave out to skip.
    #[serde(default)]
    version: Option<i64>,
}

/// A new item.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewItem {
    /// Name, 1..=80 characters, not already on the list.
    name: String,
    /// How many are at home, 0..=12 (default 0).
    #[serde(default)]
    qty_home: i64,
    /// How many to take, 0..=12 (default 1).
    #[serde(default = "one")]
    qty_take: i64,
}

fn one() -> i64 {
    1
}

/// A change of one item: only the fields given change.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ItemChange {
    /// New name.
    #[serde(default)]
    name: Option<String>,
    /// New "at home" quantity, 0..=12.
    #[serde(default)]
    qty_home: Option<i64>,
    /// New "to take" quantity, 0..=12.
    #[serde(default)]
    qty_take: Option<i64>,
    /// Ticked as taken or not.
    #[serde(default)]
    taken: Option<bool>,
    /// The item version the client saw (409 `changed_elsewhere` when it changed since).
    #[serde(default)]
    version: Option<i64>,
}

/// Where to move an item.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct MoveTo {
    /// The new index, 0-based (past the end: last).
    to: usize,
}

/// New notes.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NotesBody {
    /// The whole text, at most 20,000 characters.
    notes: String,
    /// The list version the client saw (409 when it changed since); leave out to skip.
    #[serde(default)]
    version: Option<i64>,
}

/// One suggested item for a plan's list.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct SuggestionJson {
    /// The item's name.
    name: String,
    /// How many to take.
    qty: u8,
    /// Why it is suggested, e.g. "mean −5 °C in January".
    reason: String,
    /// The rule that made it (see docs/trip-list.md).
    rule: String,
    /// Whether the plan's list already has an item of this name.
    on_list: bool,
}

/// The suggestions for a plan.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Suggestions {
    /// The plan.
    plan_id: String,
    /// The plan's list, when it has one.
    list_id: Option<String>,
    /// Suggested items, weather first.
    suggestions: Vec<SuggestionJson>,
}

// ───────────────────────────── helpers ─────────────────────────────

fn list_url(id: &str) -> String {
    format!("/lists/{id}")
}

/// A store error as the list pages and API answer it.
fn list_error(e: StoreError, what: &str) -> WebError {
    match e {
        StoreError::NotFound(thing) => WebError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("{thing} not found"),
        )
        .hint("check the link; a list can only be opened in the browser that made it"),
        StoreError::Invalid(m) => WebError::bad_request("invalid_input", m),
        StoreError::Conflict(m) if m.contains("already on the list") => {
            WebError::conflict("duplicate_item", m)
                .hint("change the name, or the quantity of the item already there")
        }
        StoreError::Conflict(_) => WebError::conflict(
            "changed_elsewhere",
            format!("{what} was changed in another tab — reloaded"),
        )
        .hint("check the current values, then make your change again"),
        other => WebError::from(other),
    }
}

fn check_name(name: &str) -> Result<String, WebError> {
    validate_item_name(name).map_err(|m| {
        WebError::bad_request("invalid_name", m).hint(format!(
            "give the item a name of 1 to {MAX_ITEM_NAME_CHARS} characters"
        ))
    })
}

fn check_qty(what: &str, qty: i64) -> Result<u8, WebError> {
    validate_quantity(what, qty).map_err(|m| {
        WebError::bad_request("invalid_quantity", m)
            .hint(format!("use a whole number from 0 to {MAX_QUANTITY}"))
    })
}

fn check_title(title: &str) -> Result<String, WebError> {
    let t = title.trim();
    let n = t.chars().count();
    if n == 0 || n > MAX_LIST_TITLE_CHARS || t.chars().any(char::is_control) {
        return Err(WebError::bad_request(
            "invalid_title",
            format!(
                "a list title has 1 to {MAX_LIST_TITLE_CHARS} characters (no control characters)"
            ),
        ));
    }
    Ok(t.to_owned())
}

fn check_notes(notes: &str) -> Result<(), WebError> {
    let n = notes.chars().count();
    if n > MAX_NOTES_CHARS {
        return Err(WebError::bad_request(
            "notes_too_long",
            format!("notes are at most {MAX_NOTES_CHARS} characters, these have {n}"),
        )
        .hint("shorten the notes, or split them over several lists"));
    }
    Ok(())
}

/// The default title of a plan's list.
fn plan_list_title(plan: &Plan) -> String {
    let t = format!("Trip list — {}", plan.destination.name);
    if t.chars().count() > MAX_LIST_TITLE_CHARS {
        "Trip list".to_owned()
    } else {
        t
    }
}

/// `owner`'s saved plan `id`; a plan still being made is a 409, anyone else's a 404.
async fn owned_plan(app: &WebApp, owner: &str, id: &str) -> Result<Plan, WebError> {
    if let Some(job) = app.jobs.get(id)
        && job.owner == owner
        && job.lock().state == JobState::Running
    {
        return Err(WebError::conflict(
            "plan_not_done",
            "the plan is still being made; open its trip list when it is ready",
        ));
    }
    if app.store().plan_owner(id).await?.as_deref() != Some(owner) {
        return Err(WebError::not_found("plan"));
    }
    app.store()
        .plan(id)
        .await?
        .ok_or_else(|| WebError::not_found("plan"))
}

/// The list of `owner`'s plan `plan_id`, made (with `title`, or the default) when it has none.
/// Returns it and whether it was made now.
async fn open_plan_list(
    app: &WebApp,
    owner: &str,
    plan_id: &str,
    title: Option<&str>,
) -> Result<(TripList, bool), WebError> {
    let plan = owned_plan(app, owner, plan_id).await?;
    if let Some(list) = app.store().list_for_plan(owner, plan_id).await? {
        return Ok((list, false));
    }
    let title = match title {
        Some(t) => check_title(t)?,
        None => plan_list_title(&plan),
    };
    let list = app
        .store()
        .create_list(owner, &title, Some(plan_id))
        .await
        .map_err(|e| list_error(e, "the plan"))?;
    Ok((list, true))
}

async fn load_list(app: &WebApp, owner: &str, id: &str) -> Result<TripList, WebError> {
    app.store()
        .list(owner, id)
        .await
        .map_err(|e| list_error(e, "the list"))
}

/// The suggestions of `plan` against `list` (when there is one).
fn suggestions_for(plan: &Plan, list: Option<&TripList>) -> Vec<SuggestionJson> {
    let on_list = |s: &PackingSuggestion| {
        list.is_some_and(|l| {
            l.items
                .iter()
                .any(|i| i.name.to_lowercase() == s.name.to_lowercase())
        })
    };
    suggest_items(plan)
        .into_iter()
        .map(|s| SuggestionJson {
            on_list: on_list(&s),
            name: s.name,
            qty: s.qty,
            reason: s.reason,
            rule: s.rule.to_owned(),
        })
        .collect()
}

/// The list as a PDF (typeset off the async threads), with its download name.
async fn pdf_of(app: &WebApp, list: TripList) -> Result<Response, WebError> {
    let fonts = app.fonts.clone().map_err(|why| {
        WebError::new(StatusCode::SERVICE_UNAVAILABLE, "pdf_unavailable", why)
            .hint("install fonts-dejavu-core on the server")
    })?;
    let today = Utc::now().date_naive();
    let name = pdf_name(&list, today);
    let bytes = tokio::task::spawn_blocking(move || {
        tripwright_export::list_pdf(&list, &fonts, today)
            .map_err(|e| WebError::internal(format!("the list PDF could not be made: {e}")))
    })
    .await
    .map_err(|e| WebError::internal(format!("the PDF task failed: {e}")))??;
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        bytes,
    )
        .into_response())
}

/// `tripwright-list-trip-list-helsinki-2026-06-06.pdf`: ASCII letters and digits of the title.
fn pdf_name(list: &TripList, today: chrono::NaiveDate) -> String {
    let slug: String = list
        .title
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let slug = slug
        .split('-')
        .filter(|s| !s.is_empty())
        .take(8)
        .collect::<Vec<_>>()
        .join("-");
    let slug = if slug.is_empty() {
        "list".to_owned()
    } else {
        slug
    };
    format!("tripwright-{slug}-{today}.pdf")
}

// ───────────────────────────── JSON API ─────────────────────────────

/// The caller's lists, newest first, with their items.
#[utoipa::path(
    get, path = "/api/lists", tag = "lists",
    responses((status = 200, description = "The caller's lists", body = Vec<ListJson>))
)]
pub(crate) async fn api_lists(
    State(app): State<Arc<WebApp>>,
    user: User,
) -> Result<Json<Vec<ListJson>>, WebError> {
    let lists = app.store().lists(&user.id).await?;
    Ok(Json(lists.into_iter().map(ListJson::from).collect()))
}

/// Makes a list; with `plan_id`, opens that plan's list (200) or makes it (201).
#[utoipa::path(
    post, path = "/api/lists", tag = "lists",
    request_body = NewList,
    responses(
        (status = 201, description = "Made", body = ListJson),
        (status = 200, description = "The plan's existing list", body = ListJson),
        (status = 400, description = "Invalid title or body", body = ErrorBody),
        (status = 403, description = "Missing CSRF token (cookie holders only)", body = ErrorBody),
        (status = 404, description = "No such plan of the caller's", body = ErrorBody),
        (status = 409, description = "The plan is still being made", body = ErrorBody),
    )
)]
pub(crate) async fn api_create_list(
    State(app): State<Arc<WebApp>>,
    user: User,
    ApiJson(body): ApiJson<NewList>,
) -> Result<(StatusCode, Json<ListJson>), WebError> {
    if let Some(plan_id) = body.plan_id.as_deref() {
        let (list, made) = open_plan_list(&app, &user.id, plan_id, body.title.as_deref()).await?;
        let status = if made {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        };
        return Ok((status, Json(list.into())));
    }
    let title = check_title(body.title.as_deref().unwrap_or("Trip list"))?;
    let list = app
        .store()
        .create_list(&user.id, &title, None)
        .await
        .map_err(|e| list_error(e, "the list"))?;
    Ok((StatusCode::CREATED, Json(list.into())))
}

/// One of the caller's lists.
#[utoipa::path(
    get, path = "/api/lists/{id}", tag = "lists",
    params(("id" = String, Path, description = "List id")),
    responses(
        (status = 200, description = "The list", body = ListJson),
        (status = 404, description = "No such list of the caller's", body = ErrorBody),
    )
)]
pub(crate) async fn api_get_list(
    State(app): State<Arc<WebApp>>,
    user: User,
    Path(id): Path<String>,
) -> Result<Json<ListJson>, WebError> {
    Ok(Json(load_list(&app, &user.id, &id).await?.into()))
}

/// Renames a list.
#[utoipa::path(
    patch, path = "/api/lists/{id}", tag = "lists",
    params(("id" = String, Path, description = "List id")),
    request_body = ListPatch,
    responses(
        (status = 200, description = "Renamed", body = ListJson),
        (status = 400, description = "Invalid title", body = ErrorBody),
        (status = 404, description = "No such list of the caller's", body = ErrorBody),
        (status = 409, description = "Changed in another tab since `version`", body = ErrorBody),
    )
)]
pub(crate) async fn api_patch_list(
    State(app): State<Arc<WebApp>>,
    user: User,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ListPatch>,
) -> Result<Json<ListJson>, WebError> {
    let title = check_title(&body.title)?;
    let list = app
        .store()
        .rename_list(&user.id, &id, &title, body.version)
        .await
        .map_err(|e| list_error(e, "the list"))?;
    Ok(Json(list.into()))
}

/// Deletes a list and its items.
#[utoipa::path(
    delete, path = "/api/lists/{id}", tag = "lists",
    params(("id" = String, Path, description = "List id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such list of the caller's", body = ErrorBody),
    )
)]
pub(crate) async fn api_delete_list(
    State(app): State<Arc<WebApp>>,
    user: User,
    Path(id): Path<String>,
) -> Result<StatusCode, WebError> {
    app.store()
        .delete_list(&user.id, &id)
        .await
        .map_err(|e| list_error(e, "the list"))?;
    Ok(StatusCode::NO_CONTENT)
}

/// Adds an item at the end of a list.
#[utoipa::path(
    post, path = "/api/lists/{id}/items", tag = "lists",
    params(("id" = String, Path, description = "List id")),
    request_body = NewItem,
    responses(
        (status = 201, description = "Added", body = ItemJson),
        (status = 400, description = "Empty or too long name, quantity outside 0..=12", body = ErrorBody),
        (status = 404, description = "No such list of the caller's", body = ErrorBody),
        (status = 409, description = "An item of that name is already on the list", body = ErrorBody),
    )
)]
pub(crate) async fn api_add_item(
    State(app): State<Arc<WebApp>>,
    user: User,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<NewItem>,
) -> Result<(StatusCode, Json<ItemJson>), WebError> {
    let name = check_name(&body.name)?;
    let home = check_qty("the quantity at home", body.qty_home)?;
    let take = check_qty("the quantity to take", body.qty_take)?;
    let item = app
        .store()
        .add_item(&user.id, &id, &name, i64::from(home), i64::from(take))
        .await
        .map_err(|e| list_error(e, "the list"))?;
    Ok((StatusCode::CREATED, Json(item.into())))
}

/// Changes the given fields of one item (name, quantities, taken).
#[utoipa::path(
    patch, path = "/api/lists/{id}/items/{item}", tag = "lists",
    params(
        ("id" = String, Path, description = "List id"),
        ("item" = String, Path, description = "Item id"),
    ),
    request_body = ItemChange,
    responses(
        (status = 200, description = "Changed", body = ItemJson),
        (status = 400, description = "Invalid name or quantity", body = ErrorBody),
        (status = 404, description = "No such list or item of the caller's", body = ErrorBody),
        (status = 409, description = "`changed_elsewhere`: changed in another tab since `version`; `duplicate_item`: name taken", body = ErrorBody),
    )
)]
pub(crate) async fn api_patch_item(
    State(app): State<Arc<WebApp>>,
    user: User,
    Path((id, item)): Path<(String, String)>,
    ApiJson(body): ApiJson<ItemChange>,
) -> Result<Json<ItemJson>, WebError> {
    let patch = ItemPatch {
        name: body.name.as_deref().map(check_name).transpose()?,
        qty_home: body
            .qty_home
            .map(|q| check_qty("the quantity at home", q).map(i64::from))
            .transpose()?,
        qty_take: body
            .qty_take
            .map(|q| check_qty("the quantity to take", q).map(i64::from))
            .transpose()?,
        taken: body.taken,
    };
    let item = app
        .store()
        .update_item(&user.id, &id, &item, &patch, body.version)
        .await
        .map_err(|e| list_error(e, "this item"))?;
    Ok(Json(item.into()))
}

/// Removes one item.
#[utoipa::path(
    delete, path = "/api/lists/{id}/items/{item}", tag = "lists",
    params(
        ("id" = String, Path, description = "List id"),
        ("item" = String, Path, description = "Item id"),
    ),
    responses(
        (status = 204, description = "Removed"),
        (status = 404, description = "No such list or item of the caller's", body = ErrorBody),
    )
)]
pub(crate) async fn api_delete_item(
    State(app): State<Arc<WebApp>>,
    user: User,
    Path((id, item)): Path<(String, String)>,
) -> Result<StatusCode, WebError> {
    app.store()
        .remove_item(&user.id, &id, &item)
        .await
        .map_err(|e| list_error(e, "this item"))?;
    Ok(StatusCode::NO_CONTENT)
}

/// Moves an item to another place in the list.
#[utoipa::path(
    post, path = "/api/lists/{id}/items/{item}/move", tag = "lists",
    params(
        ("id" = String, Path, description = "List id"),
        ("item" = String, Path, description = "Item id"),
    ),
    request_body = MoveTo,
    responses(
        (status = 200, description = "The list in its new order", body = ListJson),
        (status = 404, description = "No such list or item of the caller's", body = ErrorBody),
    )
)]
pub(crate) async fn api_move_item(
    State(app): State<Arc<WebApp>>,
    user: User,
    Path((id, item)): Path<(String, String)>,
    ApiJson(body): ApiJson<MoveTo>,
) -> Result<Json<ListJson>, WebError> {
    let list = app
        .store()
        .move_item(&user.id, &id, &item, body.to)
        .await
        .map_err(|e| list_error(e, "this item"))?;
    Ok(Json(list.into()))
}

/// Saves a list's notes.
#[utoipa::path(
    put, path = "/api/lists/{id}/notes", tag = "lists",
    params(("id" = String, Path, description = "List id")),
    request_body = NotesBody,
    responses(
        (status = 200, description = "Saved; `notes_saved_at` says when", body = ListJson),
        (status = 400, description = "Too long", body = ErrorBody),
        (status = 404, description = "No such list of the caller's", body = ErrorBody),
        (status = 409, description = "Changed in another tab since `version`", body = ErrorBody),
    )
)]
pub(crate) async fn api_put_notes(
    State(app): State<Arc<WebApp>>,
    user: User,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<NotesBody>,
) -> Result<Json<ListJson>, WebError> {
    check_notes(&body.notes)?;
    let list = app
        .store()
        .save_notes(&user.id, &id, &body.notes, body.version)
        .await
        .map_err(|e| list_error(e, "the notes"))?;
    Ok(Json(list.into()))
}

/// The list as a PDF: items, progress and notes (the same bytes as `/lists/{id}/export.pdf`).
#[utoipa::path(
    get, path = "/api/lists/{id}/pdf", tag = "lists",
    params(("id" = String, Path, description = "List id")),
    responses(
        (status = 200, description = "The PDF", content_type = "application/pdf", body = Vec<u8>),
        (status = 404, description = "No such list of the caller's", body = ErrorBody),
    )
)]
pub(crate) async fn api_list_pdf(
    State(app): State<Arc<WebApp>>,
    user: User,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let list = load_list(&app, &user.id, &id).await?;
    pdf_of(&app, list).await
}

/// Items to pack for one of the caller's saved plans, from its climate, length, walks,
/// preferences and hotel (rules in docs/trip-list.md).
#[utoipa::path(
    get, path = "/api/plans/{id}/suggestions", tag = "lists",
    params(("id" = String, Path, description = "Plan id")),
    responses(
        (status = 200, description = "The suggestions", body = Suggestions),
        (status = 404, description = "No such plan of the caller's", body = ErrorBody),
        (status = 409, description = "The plan is still being made", body = ErrorBody),
    )
)]
pub(crate) async fn api_suggestions(
    State(app): State<Arc<WebApp>>,
    user: User,
    Path(id): Path<String>,
) -> Result<Json<Suggestions>, WebError> {
    let plan = owned_plan(&app, &user.id, &id).await?;
    let list = app.store().list_for_plan(&user.id, &id).await?;
    Ok(Json(Suggestions {
        suggestions: suggestions_for(&plan, list.as_ref()),
        list_id: list.map(|l| l.id),
        plan_id: plan.id,
    }))
}

/// The list API's routes, with their documentation (merged into `/api`'s router).
pub(crate) fn api_routes() -> OpenApiRouter<Arc<WebApp>> {
    OpenApiRouter::new()
        .routes(routes!(api_lists, api_create_list))
        .routes(routes!(api_get_list, api_patch_list, api_delete_list))
        .routes(routes!(api_add_item))
        .routes(routes!(api_patch_item, api_delete_item))
        .routes(routes!(api_move_item))
        .routes(routes!(api_put_notes))
        .routes(routes!(api_list_pdf))
        .routes(routes!(api_suggestions))
}

// ───────────────────────────── pages ─────────────────────────────

/// An error shown at the top of a list page.
struct PageError {
    message: String,
    hint: Option<String>,
}

impl From<WebError> for PageError {
    fn from(e: WebError) -> Self {
        Self {
            message: e.message,
            hint: e.hint,
        }
    }
}

/// One list on `/lists`.
struct ListCard {
    url: String,
    title: String,
    progress: String,
    plan_url: Option<String>,
}

/// `GET /lists`.
#[derive(Template)]
#[template(path = "lists/index.html")]
struct ListsPage {
    chrome: Chrome,
    lists: Vec<ListCard>,
    error: Option<PageError>,
    title_value: String,
}

/// One row of the table.
struct ItemRow {
    id: String,
    name: String,
    qty_home: u8,
    qty_take: u8,
    taken: bool,
    version: i64,
    first: bool,
    last: bool,
}

/// One suggestion on the list page.
struct SuggestionRow {
    name: String,
    qty: u8,
    reason: String,
}

/// `GET /lists/{id}`.
#[derive(Template)]
#[template(path = "lists/list.html")]
struct ListPage {
    chrome: Chrome,
    id: String,
    title: String,
    version: i64,
    plan_id: String,
    plan_url: Option<String>,
    plan_label: String,
    items: Vec<ItemRow>,
    /// One empty row, the script's pattern for rows it adds.
    blank: Vec<ItemRow>,
    progress: Progress,
    progress_max: usize,
    suggestions: Vec<SuggestionRow>,
    error: Option<PageError>,
    new_name: String,
    max_qty: u8,
    max_name: usize,
    max_title: usize,
}

/// `GET /lists/{id}/notes`.
#[derive(Template)]
#[template(path = "lists/notes.html")]
struct NotesPage {
    chrome: Chrome,
    id: String,
    title: String,
    version: i64,
    notes: String,
    saved_iso: String,
    saved_hm: String,
    error: Option<PageError>,
    max_notes: usize,
}

/// One list's notes on `/notes`.
struct NotesCard {
    url: String,
    title: String,
    excerpt: String,
    saved: String,
}

/// `GET /notes` with several lists (or none).
#[derive(Template)]
#[template(path = "lists/notes_index.html")]
struct NotesIndexPage {
    chrome: Chrome,
    lists: Vec<NotesCard>,
}

/// `GET /lists/{id}` (or `/notes`) for an unknown list, and other errors.
#[derive(Template)]
#[template(path = "lists/problem.html")]
struct ProblemPage {
    chrome: Chrome,
    heading: String,
    message: String,
    hint: Option<String>,
}

fn html(status: StatusCode, body: String) -> Response {
    (status, Html(body)).into_response()
}

fn problem_page(user: &User, page: &'static str, e: WebError) -> Response {
    let status = e.status;
    let heading = if status == StatusCode::NOT_FOUND {
        "Not found"
    } else {
        "Something went wrong"
    };
    let body = render(&ProblemPage {
        chrome: Chrome::new(&user.csrf, heading, page),
        heading: heading.to_owned(),
        message: e.message.clone(),
        hint: e.hint.clone(),
    });
    // Logged by into_response; the page is what the browser gets.
    drop(e.into_response());
    html(status, body)
}

fn see_other(url: &str) -> Response {
    Redirect::to(url).into_response()
}

async fn lists_page_with(
    app: &WebApp,
    user: &User,
    status: StatusCode,
    error: Option<PageError>,
    title_value: String,
) -> Response {
    let lists = match app.store().lists(&user.id).await {
        Ok(l) => l,
        Err(e) => return problem_page(user, "lists", e.into()),
    };
    let lists = lists
        .into_iter()
        .map(|l| ListCard {
            url: list_url(&l.id),
            progress: Progress::of(&l).text,
            plan_url: l.plan_id.as_ref().map(|p| format!("/plans/{p}")),
            title: l.title,
        })
        .collect();
    html(
        status,
        render(&ListsPage {
            chrome: Chrome::new(&user.csrf, "Trip lists", "lists"),
            lists,
            error,
            title_value,
        }),
    )
}

async fn lists_index(State(app): State<Arc<WebApp>>, user: User) -> Response {
    lists_page_with(&app, &user, StatusCode::OK, None, "Trip list".into()).await
}

#[derive(Debug, Deserialize)]
struct TitleForm {
    #[serde(default)]
    title: String,
    #[serde(default)]
    version: String,
}

fn form_error(e: &FormRejection) -> WebError {
    WebError::bad_request("invalid_form", e.body_text()).hint("fill in the form and send it again")
}

async fn create_list_form(
    State(app): State<Arc<WebApp>>,
    user: User,
    form: Result<Form<TitleForm>, FormRejection>,
) -> Response {
    let title = match &form {
        Ok(Form(f)) => f.title.clone(),
        Err(_) => String::new(),
    };
    let made = async {
        let Form(f) = form.map_err(|e| form_error(&e))?;
        let title = check_title(&f.title)?;
        app.store()
            .create_list(&user.id, &title, None)
            .await
            .map_err(|e| list_error(e, "the list"))
    }
    .await;
    match made {
        Ok(list) => see_other(&list_url(&list.id)),
        Err(e) => lists_page_with(&app, &user, e.status, Some(e.into()), title).await,
    }
}

/// Renders the list page; `error` and `new_name` come back after a refused form.
async fn list_page_with(
    app: &WebApp,
    user: &User,
    id: &str,
    status: StatusCode,
    error: Option<PageError>,
    new_name: String,
) -> Response {
    let list = match load_list(app, &user.id, id).await {
        Ok(l) => l,
        Err(e) => return problem_page(user, "lists", e),
    };
    let plan = match &list.plan_id {
        Some(pid) => app.store().plan(pid).await.ok().flatten(),
        None => None,
    };
    let suggestions = plan
        .as_ref()
        .map(|p| {
            suggestions_for(p, Some(&list))
                .into_iter()
                .filter(|s| !s.on_list)
                .map(|s| SuggestionRow {
                    name: s.name,
                    qty: s.qty,
                    reason: s.reason,
                })
                .collect()
        })
        .unwrap_or_default();
    let plan_label = plan
        .as_ref()
        .map(|p| {
            format!(
                "{}, {} — {} day{}",
                p.destination.name,
                p.destination.country,
                p.request.days,
                if p.request.days == 1 { "" } else { "s" }
            )
        })
        .unwrap_or_default();
    let progress = Progress::of(&list);
    let n = list.items.len();
    let items = list
        .items
        .into_iter()
        .enumerate()
        .map(|(i, it)| ItemRow {
            id: it.id,
            name: it.name,
            qty_home: it.qty_home,
            qty_take: it.qty_take,
            taken: it.taken,
            version: it.version,
            first: i == 0,
            last: i + 1 == n,
        })
        .collect();
    html(
        status,
        render(&ListPage {
            chrome: Chrome::new(&user.csrf, list.title.clone(), "lists"),
            plan_url: plan.as_ref().map(|p| format!("/plans/{}", p.id)),
            plan_id: list.plan_id.clone().unwrap_or_default(),
            plan_label,
            id: list.id,
            title: list.title,
            version: list.version,
            items,
            blank: vec![ItemRow {
                id: String::new(),
                name: String::new(),
                qty_home: 0,
                qty_take: 1,
                taken: false,
                version: 0,
                first: false,
                last: true,
            }],
            progress_max: progress.total.max(1),
            progress,
            suggestions,
            error,
            new_name,
            max_qty: MAX_QUANTITY,
            max_name: MAX_ITEM_NAME_CHARS,
            max_title: MAX_LIST_TITLE_CHARS,
        }),
    )
}

async fn list_view(State(app): State<Arc<WebApp>>, user: User, Path(id): Path<String>) -> Response {
    list_page_with(&app, &user, &id, StatusCode::OK, None, String::new()).await
}

/// After a form: back to the list page, or the page again with the error.
async fn after_form(
    app: &WebApp,
    user: &User,
    id: &str,
    result: Result<String, WebError>,
    new_name: String,
) -> Response {
    match result {
        Ok(url) => see_other(&url),
        Err(e) if e.status == StatusCode::NOT_FOUND => problem_page(user, "lists", e),
        Err(e) => list_page_with(app, user, id, e.status, Some(e.into()), new_name).await,
    }
}

fn parse_version(v: &str) -> Option<i64> {
    v.trim().parse().ok()
}

async fn rename_form(
    State(app): State<Arc<WebApp>>,
    user: User,
    Path(id): Path<String>,
    form: Result<Form<TitleForm>, FormRejection>,
) -> Response {
    let result = async {
        let Form(f) = form.map_err(|e| form_error(&e))?;
        let title = check_title(&f.title)?;
        app.store()
            .rename_list(&user.id, &id, &title, parse_version(&f.version))
            .await
            .map_err(|e| list_error(e, "the list"))?;
        Ok(list_url(&id))
    }
    .await;
    after_form(&app, &user, &id, result, String::new()).await
}

async fn delete_form(
    State(app): State<Arc<WebApp>>,
    user: User,
    Path(id): Path<String>,
) -> Response {
    match app.store().delete_list(&user.id, &id).await {
        Ok(()) => see_other("/lists"),
        Err(e) => problem_page(&user, "lists", list_error(e, "the list")),
    }
}

#[derive(Debug, Deserialize)]
struct ItemForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    qty_home: String,
    #[serde(default)]
    qty_take: String,
}

/// A quantity typed in a form: empty is `default`, anything else must be a whole number.
fn form_qty(what: &str, value: &str, default: i64) -> Result<i64, WebError> {
    let v = value.trim();
    if v.is_empty() {
        return Ok(default);
    }
    v.parse::<i64>().map_err(|_| {
        WebError::bad_request(
            "invalid_quantity",
            format!("{what} must be a whole number from 0 to {MAX_QUANTITY}, not {v:?}"),
        )
    })
}

async fn add_item_form(
    State(app): State<Arc<WebApp>>,
    user: User,
    Path(id): Path<String>,
    form: Result<Form<ItemForm>, FormRejection>,
) -> Response {
    let typed = match &form {
        Ok(Form(f)) => f.name.chars().take(MAX_ITEM_NAME_CHARS * 2).collect(),
        Err(_) => String::new(),
    };
    let result = async {
        let Form(f) = form.map_err(|e| form_error(&e))?;
        let name = check_name(&f.name)?;
        let home = check_qty(
            "the quantity at home",
            form_qty("the quantity at home", &f.qty_home, 0)?,
        )?;
        let take = check_qty(
            "the quantity to take",
            form_qty("the quantity to take", &f.qty_take, 1)?,
        )?;
        app.store()
            .add_item(&user.id, &id, &name, i64::from(home), i64::from(take))
            .await
            .map_err(|e| list_error(e, "the list"))?;
        Ok(format!("{}#list-table", list_url(&id)))
    }
    .await;
    after_form(&app, &user, &id, result, typed).await
}

#[derive(Debug, Deserialize)]
struct RowForm {
    #[serde(default)]
    action: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    qty_home: Option<String>,
    #[serde(default)]
    qty_take: Option<String>,
    #[serde(default)]
    taken: Option<String>,
    #[serde(default)]
    version: String,
}

async fn item_form(
    State(app): State<Arc<WebApp>>,
    user: User,
    Path((id, item)): Path<(String, String)>,
    form: Result<Form<RowForm>, FormRejection>,
) -> Response {
    let result = async {
        let Form(f) = form.map_err(|e| form_error(&e))?;
        let store = app.store();
        match f.action.as_str() {
            "remove" => store
                .remove_item(&user.id, &id, &item)
                .await
                .map_err(|e| list_error(e, "this item"))?,
            "up" | "down" => {
                let list = load_list(&app, &user.id, &id).await?;
                let at = list
                    .items
                    .iter()
                    .position(|i| i.id == item)
                    .ok_or_else(|| list_error(StoreError::NotFound("item".into()), "this item"))?;
                let to = if f.action == "up" {
                    at.saturating_sub(1)
                } else {
                    at + 1
                };
                store
                    .move_item(&user.id, &id, &item, to)
                    .await
                    .map_err(|e| list_error(e, "this item"))?;
            }
            "save" | "" => {
                let qty = |what: &str, v: &Option<String>| -> Result<Option<i64>, WebError> {
                    v.as_deref()
                        .map(|v| {
                            form_qty(what, v, 0)
                                .and_then(|q| check_qty(what, q))
                                .map(i64::from)
                        })
                        .transpose()
                };
                let patch = ItemPatch {
                    name: f.name.as_deref().map(check_name).transpose()?,
                    qty_home: qty("the quantity at home", &f.qty_home)?,
                    qty_take: qty("the quantity to take", &f.qty_take)?,
                    // An unticked checkbox is not sent: a saved row without it is not taken.
                    taken: Some(f.taken.is_some()),
                };
                store
                    .update_item(&user.id, &id, &item, &patch, parse_version(&f.version))
                    .await
                    .map_err(|e| list_error(e, "this item"))?;
            }
            other => {
                return Err(WebError::bad_request(
                    "invalid_action",
                    format!("unknown action {other:?}; use save, up, down or remove"),
                ));
            }
        }
        Ok(format!("{}#list-table", list_url(&id)))
    }
    .await;
    after_form(&app, &user, &id, result, String::new()).await
}

/// "HH:MM" (UTC) of an RFC 3339 time.
fn hour_minute(iso: &str) -> String {
    DateTime::parse_from_rfc3339(iso)
        .map(|t| t.with_timezone(&Utc).format("%H:%M").to_string())
        .unwrap_or_default()
}

fn notes_page(
    user: &User,
    list: TripList,
    status: StatusCode,
    error: Option<PageError>,
    text: Option<String>,
) -> Response {
    let saved_iso = list.notes_saved_at.clone().unwrap_or_default();
    html(
        status,
        render(&NotesPage {
            chrome: Chrome::new(&user.csrf, format!("Notes · {}", list.title), "notes"),
            saved_hm: hour_minute(&saved_iso),
            saved_iso,
            id: list.id,
            title: list.title,
            version: list.version,
            notes: text.unwrap_or(list.notes),
            error,
            max_notes: MAX_NOTES_CHARS,
        }),
    )
}

async fn notes_view(
    State(app): State<Arc<WebApp>>,
    user: User,
    Path(id): Path<String>,
) -> Response {
    match load_list(&app, &user.id, &id).await {
        Ok(list) => notes_page(&user, list, StatusCode::OK, None, None),
        Err(e) => problem_page(&user, "notes", e),
    }
}

#[derive(Debug, Deserialize)]
struct NotesForm {
    #[serde(default)]
    notes: String,
    #[serde(default)]
    version: String,
}

async fn notes_form(
    State(app): State<Arc<WebApp>>,
    user: User,
    Path(id): Path<String>,
    form: Result<Form<NotesForm>, FormRejection>,
) -> Response {
    let (text, result) = match form {
        Err(e) => (None, Err(form_error(&e))),
        Ok(Form(f)) => {
            let saved = match check_notes(&f.notes) {
                Err(e) => Err(e),
                Ok(()) => app
                    .store()
                    .save_notes(&user.id, &id, &f.notes, parse_version(&f.version))
                    .await
                    .map_err(|e| list_error(e, "the notes")),
            };
            (Some(f.notes), saved)
        }
    };
    match result {
        Ok(_) => see_other(&format!("{}/notes", list_url(&id))),
        Err(e) if e.status == StatusCode::NOT_FOUND => problem_page(&user, "notes", e),
        Err(e) => match load_list(&app, &user.id, &id).await {
            // The typed text comes back (unless it is the conflict's stale text: then the
            // notes as saved elsewhere are shown, as the message says).
            Ok(list) => {
                let text = if e.code == "changed_elsewhere" {
                    None
                } else {
                    text
                };
                notes_page(&user, list, e.status, Some(e.into()), text)
            }
            Err(e2) => problem_page(&user, "notes", e2),
        },
    }
}

async fn notes_index(State(app): State<Arc<WebApp>>, user: User) -> Response {
    let lists = match app.store().lists(&user.id).await {
        Ok(l) => l,
        Err(e) => return problem_page(&user, "notes", e.into()),
    };
    if let [only] = lists.as_slice() {
        return see_other(&format!("{}/notes", list_url(&only.id)));
    }
    let lists = lists
        .into_iter()
        .map(|l| {
            let mut excerpt: String = l.notes.chars().take(200).collect();
            if l.notes.chars().count() > 200 {
                excerpt.push('…');
            }
            NotesCard {
                url: format!("{}/notes", list_url(&l.id)),
                saved: l
                    .notes_saved_at
                    .as_deref()
                    .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
                    .map(|t| {
                        t.with_timezone(&Utc)
                            .format("%Y-%m-%d %H:%M UTC")
                            .to_string()
                    })
                    .unwrap_or_default(),
                title: l.title,
                excerpt,
            }
        })
        .collect();
    html(
        StatusCode::OK,
        render(&NotesIndexPage {
            chrome: Chrome::new(&user.csrf, "Notes", "notes"),
            lists,
        }),
    )
}

async fn export_pdf(
    State(app): State<Arc<WebApp>>,
    user: User,
    Path(id): Path<String>,
) -> Response {
    let result = async {
        let list = load_list(&app, &user.id, &id).await?;
        pdf_of(&app, list).await
    }
    .await;
    result.unwrap_or_else(IntoResponse::into_response)
}

async fn plan_list(
    State(app): State<Arc<WebApp>>,
    user: User,
    Path(plan_id): Path<String>,
) -> Response {
    match open_plan_list(&app, &user.id, &plan_id, None).await {
        Ok((list, _)) => see_other(&list_url(&list.id)),
        Err(e) => problem_page(&user, "lists", e),
    }
}

/// The list pages' routes.
pub(crate) fn routes() -> Router<Arc<WebApp>> {
    Router::new()
        .route("/lists", get(lists_index).post(create_list_form))
        .route("/lists/{id}", get(list_view))
        .route("/lists/{id}/rename", post(rename_form))
        .route("/lists/{id}/delete", post(delete_form))
        .route("/lists/{id}/items", post(add_item_form))
        .route("/lists/{id}/items/{item}", post(item_form))
        .route("/lists/{id}/notes", get(notes_view).post(notes_form))
        .route("/lists/{id}/export.pdf", get(export_pdf))
        .route("/notes", get(notes_index))
        .route("/plans/{id}/list", get(plan_list))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An empty list: the PDF name depends only on its title.
    fn list(title: &str) -> TripList {
        TripList {
            id: "l".into(),
            title: title.into(),
            plan_id: None,
            notes: String::new(),
            notes_saved_at: None,
            created_at: String::new(),
            version: 1,
            items: Vec::new(),
        }
    }

    #[test]
    fn pdf_names_are_ascii_slugs() {
        let day = chrono::NaiveDate::from_ymd_opt(2026, 6, 6).expect("date");
        assert_eq!(
            pdf_name(&list("Trip list — Helsinki"), day),
            "tripwright-trip-list-helsinki-2026-06-06.pdf"
        );
        let mut odd = list("\"; rm -rf / ÅÄÖ");
        assert_eq!(pdf_name(&odd, day), "tripwright-rm-rf-2026-06-06.pdf");
        odd.title = "東京".into();
        assert_eq!(pdf_name(&odd, day), "tripwright-list-2026-06-06.pdf");
    }

    #[test]
    fn titles_and_conflicts_are_worded_for_the_user() {
        assert!(check_title("  ").is_err());
        assert_eq!(check_title(" Packing ").expect("ok"), "Packing");
        assert!(check_title(&"x".repeat(MAX_LIST_TITLE_CHARS + 1)).is_err());
        let e = list_error(
            StoreError::Conflict("the item was changed elsewhere".into()),
            "this item",
        );
        assert_eq!(e.status, StatusCode::CONFLICT);
        assert_eq!(e.code, "changed_elsewhere");
        assert_eq!(e.message, "this item was changed in another tab — reloaded");
        let e = list_error(
            StoreError::Conflict("an item named \"Socks\" is already on the list".into()),
            "the list",
        );
        assert_eq!(e.code, "duplicate_item");
        assert_eq!(e.message, "an item named \"Socks\" is already on the list");
        assert_eq!(hour_minute("2026-06-06T09:05:00+00:00"), "09:05");
        assert_eq!(hour_minute("2026-06-06T12:05:00+03:00"), "09:05");
        assert_eq!(hour_minute("garbage"), "");
    }
}
