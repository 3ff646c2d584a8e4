//! The trip-list pages, server-rendered and working without JavaScript: `GET /lists` (the
//! caller's lists, a form to make one), `GET /lists/{id}` (the table, the progress bar,
//! suggestions), `GET /lists/{id}/notes`, `GET /notes`, `POST /plans/{id}/list` (opens the
//! plan's list, making it the first time) and `GET /lists/{id}/export.pdf`; the forms post to
//! `/lists`, `/lists/{id}/rename|delete|items|notes` and `/lists/{id}/items/{item}`.
//!
//! A plain form post is answered with a redirect back to the page (or the page again with the
//! error). The same post from htmx (`HX-Request: true`) is answered with a fragment instead:
//! a saved row gets that row back; adding, moving and removing get the rows; a rename gets its
//! form; each with the parts that change with it (progress, suggestions, the notice or the
//! error) as out-of-band swaps. The list page's rows post on every change that way.

use std::sync::Arc;

use askama::Template;
use axum::Router;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use tripwright_app::lists::{ItemChange, Move, NewItem, suggestions_for};
use tripwright_domain::{
    ItemId, ListId, MAX_ITEM_NAME_CHARS, MAX_LIST_TITLE_CHARS, MAX_NOTES_CHARS, MAX_QUANTITY, Plan,
    PlanId, TripList,
};

use super::super::error::{ErrorCode, WebError, is_changed_elsewhere};
use super::super::events::plan_url;
use super::super::exports;
use super::super::htmx::{self, HxRequest};
use super::super::session::User;
use super::super::state::WebApp;
use super::super::view::{Chrome, FormError, iso, render};
use super::api::Progress;
use super::list_url;

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
    error: Option<FormError>,
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
    csrf: String,
    id: String,
    title: String,
    version: i64,
    plan_id: String,
    plan_url: Option<String>,
    plan_label: String,
    items: Vec<ItemRow>,
    has_items: bool,
    progress: Progress,
    suggestions: Vec<SuggestionRow>,
    error: Option<FormError>,
    new_name: String,
    max_qty: u8,
    max_name: usize,
    max_title: usize,
    /// The partials are the page's own here, not out-of-band swaps.
    oob: bool,
}

/// What an htmx post of the list page gets back (`lists/fragment.html`): the rows to swap in
/// (or the rename form), then the parts that change with them as out-of-band swaps.
#[derive(Template)]
#[template(path = "lists/fragment.html")]
struct ListFragment {
    csrf: String,
    id: String,
    max_qty: u8,
    max_name: usize,
    max_title: usize,
    items: Vec<ItemRow>,
    /// The rename form with `title` and `version`; `heading` is the saved title.
    rename: bool,
    title: String,
    version: i64,
    heading: Option<String>,
    progress: Option<Progress>,
    has_items: Option<bool>,
    /// `Some(None)` clears the error box.
    error: Option<Option<FormError>>,
    notice: Option<String>,
    suggestions: Option<Vec<SuggestionRow>>,
    oob: bool,
}

impl ListFragment {
    fn new(user: &User, id: &ListId) -> Self {
        Self {
            csrf: user.csrf.clone(),
            id: id.to_string(),
            max_qty: MAX_QUANTITY,
            max_name: MAX_ITEM_NAME_CHARS,
            max_title: MAX_LIST_TITLE_CHARS,
            items: Vec::new(),
            rename: false,
            title: String::new(),
            version: 0,
            heading: None,
            progress: None,
            has_items: None,
            error: None,
            notice: None,
            suggestions: None,
            oob: true,
        }
    }

    /// Every row of `list`, with what changes when rows come and go.
    fn rows(mut self, list: &TripList) -> Self {
        self.items = item_rows(list);
        self.has_items = Some(!list.items.is_empty());
        self.progress = Some(Progress::of(list));
        self
    }

    fn answer(self, status: StatusCode) -> Response {
        html(status, render(&self))
    }
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
    error: Option<FormError>,
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

/// The table's rows, in order (the first cannot move up, the last not down).
fn item_rows(list: &TripList) -> Vec<ItemRow> {
    let n = list.items.len();
    list.items
        .iter()
        .enumerate()
        .map(|(i, it)| ItemRow {
            id: it.id.to_string(),
            name: it.name.clone(),
            qty_home: it.qty_home,
            qty_take: it.qty_take,
            taken: it.taken,
            version: it.version,
            first: i == 0,
            last: i + 1 == n,
        })
        .collect()
}

/// What the plan suggests that is not on the list yet.
fn suggestion_rows(plan: &Plan, list: &TripList) -> Vec<SuggestionRow> {
    suggestions_for(plan, Some(list))
        .into_iter()
        .filter(|s| !s.on_list)
        .map(|s| SuggestionRow {
            name: s.name,
            qty: s.qty,
            reason: s.reason,
        })
        .collect()
}

/// "This item was changed in another tab — reloaded." from the error's message.
fn sentence(message: &str) -> String {
    let mut chars = message.chars();
    let first: String = chars
        .next()
        .map(|c| c.to_uppercase().collect())
        .unwrap_or_default();
    let mut text = first + chars.as_str();
    if !text.ends_with('.') {
        text.push('.');
    }
    text
}

async fn lists_page_with(
    web: &WebApp,
    user: &User,
    status: StatusCode,
    error: Option<FormError>,
    title_value: String,
) -> Response {
    let lists = match web.app.lists().all(&user.id).await {
        Ok(l) => l,
        Err(e) => return problem_page(user, "lists", e.into()),
    };
    let lists = lists
        .into_iter()
        .map(|l| ListCard {
            url: list_url(&l.id),
            progress: Progress::of(&l).text,
            plan_url: l.plan_id.as_ref().map(plan_url),
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

async fn lists_index(State(web): State<Arc<WebApp>>, user: User) -> Response {
    lists_page_with(&web, &user, StatusCode::OK, None, "Trip list".into()).await
}

#[derive(Debug, Deserialize)]
struct TitleForm {
    #[serde(default)]
    title: String,
    #[serde(default)]
    version: String,
}

fn form_error(e: &FormRejection) -> WebError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return WebError::too_large().hint("shorten the text and send it again");
    }
    WebError::bad_request(ErrorCode::InvalidForm, e.body_text())
        .hint("fill in the form and send it again")
}

async fn create_list_form(
    State(web): State<Arc<WebApp>>,
    user: User,
    form: Result<Form<TitleForm>, FormRejection>,
) -> Response {
    let title = match &form {
        Ok(Form(f)) => f.title.clone(),
        Err(_) => String::new(),
    };
    let made = async {
        let Form(f) = form.map_err(|e| form_error(&e))?;
        Ok::<_, WebError>(web.app.lists().create(&user.id, &f.title).await?)
    }
    .await;
    match made {
        Ok(list) => see_other(&list_url(&list.id)),
        Err(e) => lists_page_with(&web, &user, e.status, Some(e.into()), title).await,
    }
}

/// Renders the list page; `error` and `new_name` come back after a refused form.
async fn list_page_with(
    web: &WebApp,
    user: &User,
    id: &ListId,
    status: StatusCode,
    error: Option<FormError>,
    new_name: String,
) -> Response {
    let (list, plan) = match web.app.lists().with_plan(&user.id, id).await {
        Ok(found) => found,
        Err(e) => return problem_page(user, "lists", e.into()),
    };
    let suggestions = plan
        .as_ref()
        .map(|p| suggestion_rows(p, &list))
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
    let mut chrome = Chrome::new(&user.csrf, list.title.clone(), "lists");
    chrome.htmx = true;
    chrome.module = Some("lists.mjs");
    html(
        status,
        render(&ListPage {
            chrome,
            csrf: user.csrf.clone(),
            plan_url: plan.as_ref().map(|p| plan_url(&p.id)),
            plan_id: list
                .plan_id
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
            plan_label,
            id: list.id.to_string(),
            items: item_rows(&list),
            has_items: !list.items.is_empty(),
            progress: Progress::of(&list),
            title: list.title,
            version: list.version,
            suggestions,
            error,
            new_name,
            max_qty: MAX_QUANTITY,
            max_name: MAX_ITEM_NAME_CHARS,
            max_title: MAX_LIST_TITLE_CHARS,
            oob: false,
        }),
    )
}

async fn list_view(State(web): State<Arc<WebApp>>, user: User, Path(id): Path<String>) -> Response {
    list_page_with(
        &web,
        &user,
        &ListId::from(id),
        StatusCode::OK,
        None,
        String::new(),
    )
    .await
}

/// After a form: back to the list page, or the page again with the error.
async fn after_form(
    web: &WebApp,
    user: &User,
    id: &ListId,
    result: Result<String, WebError>,
    new_name: String,
) -> Response {
    match result {
        Ok(url) => see_other(&url),
        Err(e) if e.status == StatusCode::NOT_FOUND => problem_page(user, "lists", e),
        Err(e) => list_page_with(web, user, id, e.status, Some(e.into()), new_name).await,
    }
}

fn parse_version(v: &str) -> Option<i64> {
    v.trim().parse().ok()
}

async fn rename_form(
    State(web): State<Arc<WebApp>>,
    user: User,
    HxRequest(hx): HxRequest,
    Path(id): Path<String>,
    form: Result<Form<TitleForm>, FormRejection>,
) -> Response {
    let id = ListId::from(id);
    let typed = form
        .as_ref()
        .map(|Form(f)| f.title.clone())
        .unwrap_or_default();
    let result = async {
        let Form(f) = form.map_err(|e| form_error(&e))?;
        Ok(web
            .app
            .lists()
            .rename(&user.id, &id, &f.title, parse_version(&f.version))
            .await?)
    }
    .await;
    if hx {
        return renamed(&web, &user, &id, result, typed).await;
    }
    after_form(
        &web,
        &user,
        &id,
        result.map(|_| list_url(&id)),
        String::new(),
    )
    .await
}

/// The rename form again, after an htmx rename: with the new title in the heading, or with
/// the error (and the title as saved elsewhere after a conflict, else as typed).
async fn renamed(
    web: &WebApp,
    user: &User,
    id: &ListId,
    result: Result<TripList, WebError>,
    typed: String,
) -> Response {
    let mut answer = ListFragment::new(user, id);
    answer.rename = true;
    let status = match result {
        Ok(list) => {
            answer.notice = Some(format!("Renamed to {}.", list.title));
            answer.heading = Some(list.title.clone());
            answer.title = list.title;
            answer.version = list.version;
            answer.error = Some(None);
            StatusCode::OK
        }
        Err(e) => {
            let list = match web.app.lists().get(&user.id, id).await {
                Ok(list) => list,
                Err(_) => return htmx::refresh(),
            };
            answer.version = list.version;
            if is_changed_elsewhere(&e) {
                answer.heading = Some(list.title.clone());
                answer.title = list.title;
            } else {
                answer.title = typed;
            }
            let status = e.status;
            answer.error = Some(Some(e.into()));
            status
        }
    };
    answer.answer(status)
}

async fn delete_form(
    State(web): State<Arc<WebApp>>,
    user: User,
    Path(id): Path<String>,
) -> Response {
    match web.app.lists().delete(&user.id, &ListId::from(id)).await {
        Ok(()) => see_other("/lists"),
        Err(e) => problem_page(&user, "lists", e.into()),
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
            ErrorCode::InvalidQuantity,
            format!("{what} must be a whole number from 0 to {MAX_QUANTITY}, not {v:?}"),
        )
    })
}

async fn add_item_form(
    State(web): State<Arc<WebApp>>,
    user: User,
    HxRequest(hx): HxRequest,
    Path(id): Path<String>,
    form: Result<Form<ItemForm>, FormRejection>,
) -> Response {
    let typed = match &form {
        Ok(Form(f)) => f.name.chars().take(MAX_ITEM_NAME_CHARS * 2).collect(),
        Err(_) => String::new(),
    };
    let id = ListId::from(id);
    let result = async {
        let Form(f) = form.map_err(|e| form_error(&e))?;
        let item = NewItem {
            name: f.name,
            qty_home: form_qty("the quantity at home", &f.qty_home, 0)?,
            qty_take: form_qty("the quantity to take", &f.qty_take, 1)?,
        };
        Ok(web.app.lists().add_item(&user.id, &id, item).await?)
    }
    .await;
    if hx {
        return added(&web, &user, &id, result).await;
    }
    let result = result.map(|_| format!("{}#list-table", list_url(&id)));
    after_form(&web, &user, &id, result, typed).await
}

/// After an htmx add: the rows with the new one, the progress and what is left to suggest;
/// or the error box (the form keeps what was typed).
async fn added(
    web: &WebApp,
    user: &User,
    id: &ListId,
    result: Result<tripwright_domain::ListItem, WebError>,
) -> Response {
    let item = match result {
        Ok(item) => item,
        Err(e) => return error_fragment(user, id, e),
    };
    let (list, plan) = match web.app.lists().with_plan(&user.id, id).await {
        Ok(found) => found,
        Err(_) => return htmx::refresh(),
    };
    let mut answer = ListFragment::new(user, id).rows(&list);
    answer.suggestions = plan.as_ref().map(|p| suggestion_rows(p, &list));
    answer.notice = Some(format!("Added {}.", item.name));
    answer.error = Some(None);
    answer.answer(StatusCode::OK)
}

/// The answer to an htmx post on list `id` that was refused (by its handler, or before it by
/// a rate limit): the error box, in place, with `Retry-After` when waiting helps.
pub(crate) fn error_fragment(user: &User, id: &ListId, e: WebError) -> Response {
    let mut answer = ListFragment::new(user, id);
    answer.oob = false;
    let status = e.status;
    let retry = e.retry_after;
    answer.error = Some(Some(e.into()));
    let mut response = htmx::retarget(answer.answer(status), "#list-error", "outerHTML");
    super::super::error::add_retry_after(&mut response, retry);
    response
}

/// What a row's submit button asks for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum RowAction {
    /// Save the row's fields (the default: Enter in a field submits without a button).
    #[default]
    Save,
    /// Remove the item.
    Remove,
    /// Move it one place up.
    Up,
    /// Move it one place down.
    Down,
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

impl RowForm {
    /// The action, or a refusal naming the unknown one.
    fn action(&self) -> Result<RowAction, WebError> {
        if self.action.is_empty() {
            return Ok(RowAction::default());
        }
        serde_json::from_value(serde_json::Value::String(self.action.clone())).map_err(|_| {
            WebError::bad_request(
                ErrorCode::InvalidAction,
                format!(
                    "unknown action {:?}; use save, up, down or remove",
                    self.action
                ),
            )
        })
    }
}

async fn item_form(
    State(web): State<Arc<WebApp>>,
    user: User,
    HxRequest(hx): HxRequest,
    Path((id, item)): Path<(String, String)>,
    form: Result<Form<RowForm>, FormRejection>,
) -> Response {
    let (id, item) = (ListId::from(id), ItemId::from(item));
    let mut done = RowAction::Save;
    let mut name = None;
    let result = async {
        let Form(f) = form.map_err(|e| form_error(&e))?;
        let lists = web.app.lists();
        done = f.action()?;
        name.clone_from(&f.name);
        match done {
            RowAction::Remove => lists.remove_item(&user.id, &id, &item).await?,
            RowAction::Up => {
                lists.move_item(&user.id, &id, &item, Move::Up).await?;
            }
            RowAction::Down => {
                lists.move_item(&user.id, &id, &item, Move::Down).await?;
            }
            RowAction::Save => {
                let qty = |what: &str, v: &Option<String>| -> Result<Option<i64>, WebError> {
                    v.as_deref().map(|v| form_qty(what, v, 0)).transpose()
                };
                let change = ItemChange {
                    name: f.name.clone(),
                    qty_home: qty("the quantity at home", &f.qty_home)?,
                    qty_take: qty("the quantity to take", &f.qty_take)?,
                    // An unticked checkbox is not sent: a saved row without it is not taken.
                    taken: Some(f.taken.is_some()),
                };
                lists
                    .change_item(&user.id, &id, &item, change, parse_version(&f.version))
                    .await?;
            }
        }
        Ok(())
    }
    .await;
    if hx {
        let name = name.filter(|n| !n.trim().is_empty());
        return row_answer(&web, &user, &id, &item, done, name, result).await;
    }
    let result = result.map(|()| format!("{}#list-table", list_url(&id)));
    after_form(&web, &user, &id, result, String::new()).await
}

/// After an htmx row post. A saved row gets that row back, as saved, and the progress; a
/// move or removal gets all the rows with a notice. A refused change gets the row as it is
/// now with the reason (a change made in another tab, as a notice), or all rows when the item
/// is gone.
async fn row_answer(
    web: &WebApp,
    user: &User,
    id: &ListId,
    item: &ItemId,
    action: RowAction,
    name: Option<String>,
    result: Result<(), WebError>,
) -> Response {
    let list = match web.app.lists().get(&user.id, id).await {
        Ok(list) => list,
        Err(_) => return htmx::refresh(),
    };
    let row = list.items.iter().position(|i| i.id == *item);
    let name = name.unwrap_or_else(|| "The item".to_owned());
    let mut answer = ListFragment::new(user, id);
    let status = match result {
        Ok(()) => {
            answer.notice = match action {
                RowAction::Save => None,
                RowAction::Up => Some(format!("{name} moved up.")),
                RowAction::Down => Some(format!("{name} moved down.")),
                RowAction::Remove => Some(format!("Removed {name}.")),
            };
            answer.error = Some(None);
            StatusCode::OK
        }
        Err(e) => {
            let status = e.status;
            if e.code == ErrorCode::NotFound {
                answer.notice = Some("This item was removed in another tab — reloaded.".into());
            } else if is_changed_elsewhere(&e) {
                answer.notice = Some(sentence(&e.message));
            } else {
                answer.error = Some(Some(e.into()));
            }
            status
        }
    };
    // A row saved (or refused) that is still there comes back alone; else all of them.
    match row.filter(|_| action == RowAction::Save) {
        Some(at) => {
            answer.items = item_rows(&list).into_iter().skip(at).take(1).collect();
            answer.progress = Some(Progress::of(&list));
            answer.answer(status)
        }
        None => htmx::retarget(answer.rows(&list).answer(status), "#list-rows", "innerHTML"),
    }
}

fn notes_page(
    user: &User,
    list: TripList,
    status: StatusCode,
    error: Option<FormError>,
    text: Option<String>,
) -> Response {
    let mut chrome = Chrome::new(&user.csrf, format!("Notes · {}", list.title), "notes");
    chrome.module = Some("lists.mjs");
    html(
        status,
        render(&NotesPage {
            chrome,
            saved_hm: list
                .notes_saved_at
                .map(|t| t.format("%H:%M").to_string())
                .unwrap_or_default(),
            saved_iso: list.notes_saved_at.map(iso).unwrap_or_default(),
            id: list.id.into_string(),
            title: list.title,
            version: list.version,
            notes: text.unwrap_or(list.notes),
            error,
            max_notes: MAX_NOTES_CHARS,
        }),
    )
}

async fn notes_view(
    State(web): State<Arc<WebApp>>,
    user: User,
    Path(id): Path<String>,
) -> Response {
    match web.app.lists().get(&user.id, &ListId::from(id)).await {
        Ok(list) => notes_page(&user, list, StatusCode::OK, None, None),
        Err(e) => problem_page(&user, "notes", e.into()),
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
    State(web): State<Arc<WebApp>>,
    user: User,
    Path(id): Path<String>,
    form: Result<Form<NotesForm>, FormRejection>,
) -> Response {
    let id = ListId::from(id);
    let lists = web.app.lists();
    let (text, result) = match form {
        Err(e) => (None, Err(form_error(&e))),
        Ok(Form(f)) => {
            let saved = lists
                .save_notes(&user.id, &id, &f.notes, parse_version(&f.version))
                .await
                .map_err(WebError::from);
            (Some(f.notes), saved)
        }
    };
    match result {
        Ok(_) => see_other(&format!("{}/notes", list_url(&id))),
        Err(e) if e.status == StatusCode::NOT_FOUND => problem_page(&user, "notes", e),
        Err(e) => match lists.get(&user.id, &id).await {
            // The typed text comes back (unless it is the conflict's stale text: then the
            // notes as saved elsewhere are shown, as the message says).
            Ok(list) => {
                let text = if is_changed_elsewhere(&e) { None } else { text };
                notes_page(&user, list, e.status, Some(e.into()), text)
            }
            Err(e2) => problem_page(&user, "notes", e2.into()),
        },
    }
}

async fn notes_index(State(web): State<Arc<WebApp>>, user: User) -> Response {
    let lists = match web.app.lists().all(&user.id).await {
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
                    .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
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
    State(web): State<Arc<WebApp>>,
    user: User,
    Path(id): Path<String>,
) -> Response {
    let result = async {
        let list = web.app.lists().get(&user.id, &ListId::from(id)).await?;
        exports::list_pdf(&web, list).await
    }
    .await;
    result.unwrap_or_else(IntoResponse::into_response)
}

async fn plan_list(
    State(web): State<Arc<WebApp>>,
    user: User,
    Path(plan_id): Path<String>,
) -> Response {
    match web
        .app
        .lists()
        .open_for_plan(&user.id, &PlanId::from(plan_id), None)
        .await
    {
        Ok((list, _)) => see_other(&list_url(&list.id)),
        Err(e) => problem_page(&user, "lists", e.into()),
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
        .route("/plans/{id}/list", post(plan_list))
}
