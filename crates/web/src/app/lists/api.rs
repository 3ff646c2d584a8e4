//! The trip lists' JSON API (`/api/lists…`, `/api/plans/{id}/suggestions`), documented in the
//! OpenAPI document. Item and list writes carry the version the client saw; a stale one
//! answers 409 `changed_elsewhere` so that the page reloads the row.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use tripwright_app::lists::{self as use_cases, ItemChange as Change, Move, NewItem as AddItem};
use tripwright_domain::{ItemId, ListId, ListItem, PlanId, TripList};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::super::api::ApiJson;
use super::super::error::{ErrorBody, WebError};
use super::super::exports;
use super::super::session::User;
use super::super::state::WebApp;
use super::super::view::iso;
use super::list_url;

/// How far the packing is: "X out of Y items taken (Z%)".
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct Progress {
    /// Items ticked as taken.
    pub(crate) taken: usize,
    /// All items.
    pub(crate) total: usize,
    /// `taken / total` in percent, rounded down so 100 means all taken (0 for an empty list).
    pub(crate) percent: u32,
    /// "2 out of 3 items taken (66%)".
    pub(crate) text: String,
}

impl Progress {
    /// The progress of `list`.
    pub(crate) fn of(list: &TripList) -> Self {
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
            id: i.id.into_string(),
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
            id: l.id.into_string(),
            title: l.title,
            plan_id: l.plan_id.map(PlanId::into_string),
            notes: l.notes,
            notes_saved_at: l.notes_saved_at.map(iso),
            created_at: iso(l.created_at),
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

/// The caller's lists, newest first, with their items.
#[utoipa::path(
    get, path = "/api/lists", tag = "lists",
    responses((status = 200, description = "The caller's lists", body = Vec<ListJson>))
)]
pub(crate) async fn api_lists(
    State(web): State<Arc<WebApp>>,
    user: User,
) -> Result<Json<Vec<ListJson>>, WebError> {
    let lists = web.app.lists().all(&user.id).await?;
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
    State(web): State<Arc<WebApp>>,
    user: User,
    ApiJson(body): ApiJson<NewList>,
) -> Result<(StatusCode, Json<ListJson>), WebError> {
    let lists = web.app.lists();
    if let Some(plan_id) = body.plan_id {
        let (list, made) = lists
            .open_for_plan(&user.id, &PlanId::from(plan_id), body.title.as_deref())
            .await?;
        let status = if made {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        };
        return Ok((status, Json(list.into())));
    }
    let title = body
        .title
        .as_deref()
        .unwrap_or(use_cases::DEFAULT_LIST_TITLE);
    let list = lists.create(&user.id, title).await?;
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
    State(web): State<Arc<WebApp>>,
    user: User,
    Path(id): Path<String>,
) -> Result<Json<ListJson>, WebError> {
    Ok(Json(
        web.app
            .lists()
            .get(&user.id, &ListId::from(id))
            .await?
            .into(),
    ))
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
    State(web): State<Arc<WebApp>>,
    user: User,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ListPatch>,
) -> Result<Json<ListJson>, WebError> {
    let list = web
        .app
        .lists()
        .rename(&user.id, &ListId::from(id), &body.title, body.version)
        .await?;
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
    State(web): State<Arc<WebApp>>,
    user: User,
    Path(id): Path<String>,
) -> Result<StatusCode, WebError> {
    web.app.lists().delete(&user.id, &ListId::from(id)).await?;
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
    State(web): State<Arc<WebApp>>,
    user: User,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<NewItem>,
) -> Result<(StatusCode, Json<ItemJson>), WebError> {
    let item = web
        .app
        .lists()
        .add_item(
            &user.id,
            &ListId::from(id),
            AddItem {
                name: body.name,
                qty_home: body.qty_home,
                qty_take: body.qty_take,
            },
        )
        .await?;
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
    State(web): State<Arc<WebApp>>,
    user: User,
    Path((id, item)): Path<(String, String)>,
    ApiJson(body): ApiJson<ItemChange>,
) -> Result<Json<ItemJson>, WebError> {
    let change = Change {
        name: body.name,
        qty_home: body.qty_home,
        qty_take: body.qty_take,
        taken: body.taken,
    };
    let item = web
        .app
        .lists()
        .change_item(
            &user.id,
            &ListId::from(id),
            &ItemId::from(item),
            change,
            body.version,
        )
        .await?;
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
    State(web): State<Arc<WebApp>>,
    user: User,
    Path((id, item)): Path<(String, String)>,
) -> Result<StatusCode, WebError> {
    web.app
        .lists()
        .remove_item(&user.id, &ListId::from(id), &ItemId::from(item))
        .await?;
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
    State(web): State<Arc<WebApp>>,
    user: User,
    Path((id, item)): Path<(String, String)>,
    ApiJson(body): ApiJson<MoveTo>,
) -> Result<Json<ListJson>, WebError> {
    let list = web
        .app
        .lists()
        .move_item(
            &user.id,
            &ListId::from(id),
            &ItemId::from(item),
            Move::To(body.to),
        )
        .await?;
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
    State(web): State<Arc<WebApp>>,
    user: User,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<NotesBody>,
) -> Result<Json<ListJson>, WebError> {
    let list = web
        .app
        .lists()
        .save_notes(&user.id, &ListId::from(id), &body.notes, body.version)
        .await?;
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
    State(web): State<Arc<WebApp>>,
    user: User,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let list = web.app.lists().get(&user.id, &ListId::from(id)).await?;
    exports::list_pdf(&web, list).await
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
    State(web): State<Arc<WebApp>>,
    user: User,
    Path(id): Path<String>,
) -> Result<Json<Suggestions>, WebError> {
    let found = web
        .app
        .lists()
        .suggestions(&user.id, &PlanId::from(id))
        .await?;
    Ok(Json(Suggestions {
        suggestions: found
            .suggestions
            .into_iter()
            .map(|s| SuggestionJson {
                name: s.name,
                qty: s.qty,
                reason: s.reason,
                rule: s.rule.to_owned(),
                on_list: s.on_list,
            })
            .collect(),
        list_id: found.list.map(|l| l.id.into_string()),
        plan_id: found.plan.id.to_string(),
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
