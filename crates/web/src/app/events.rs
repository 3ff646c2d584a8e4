//! SSE framing of a plan's events (`GET /api/plans/{id}/events`): each typed [`PlanEvent`]
//! of the application layer becomes one or more server-sent events with a one-line JSON body.
//! Sections are rendered here, by the same templates as the page, so the page and its live
//! updates never disagree.
//!
//! | event | data |
//! |---|---|
//! | `agent` | `{agent, status: running/done/failed, elapsed_ms, error}` (+ `day` for a rewrite) |
//! | `text` | `{agent, day, text}` — prose as the model writes it |
//! | `section` | `{section, html}` (or `{section: "map", data}`) (+ `day` for a rewrite) |
//! | `done` / `failed` / `cancelled` | `{id, url}` / `{message}` / `{}` |

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::response::IntoResponse;
use axum::response::Response;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::{Stream, StreamExt};
use serde::Serialize;
use serde_json::{Value, json};
use tripwright_app::AgentName;
use tripwright_app::planning::{AgentState, Parts, PlanEvent, PlanJob, Section};

use super::view::{ItineraryMode, SectionBody, section};

/// The URL of a plan's page.
pub(crate) fn plan_url(id: impl std::fmt::Display) -> String {
    format!("/plans/{id}")
}

/// The URL of a plan's event stream.
pub(crate) fn events_url(id: impl std::fmt::Display) -> String {
    format!("/api/plans/{id}/events")
}

/// The name a section has in `section` events and in the page's `data-section`.
pub(crate) fn section_name(s: Section) -> &'static str {
    match s {
        Section::Months => "months",
        Section::Hotels => "hotels",
        Section::Map => "map",
        Section::Itinerary => "itinerary",
        Section::Summary => "summary",
        Section::Checks => "checks",
        Section::Warnings => "warnings",
    }
}

#[derive(Serialize)]
struct AgentData<'a> {
    agent: AgentName,
    status: AgentState,
    elapsed_ms: u64,
    error: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    day: Option<u8>,
}

#[derive(Serialize)]
struct TextData<'a> {
    agent: AgentName,
    day: Option<u8>,
    text: &'a str,
}

/// One SSE event: its name and its JSON data.
fn sse(name: &'static str, data: &impl Serialize) -> Event {
    let data = serde_json::to_string(data).unwrap_or_else(|_| "{}".to_owned());
    Event::default().event(name).data(data)
}

/// The `section` events of `sections`, rendered from `parts`, on the owner's page (with the
/// rewrite buttons; intros marked live until the plan is checked, i.e. done).
fn section_events(
    sections: &[Section],
    parts: &Parts,
    day: Option<u8>,
    tile_url: Option<&str>,
) -> Vec<Event> {
    let mode = ItineraryMode {
        editable: true,
        live: parts.checks.is_none(),
    };
    sections
        .iter()
        .map(|s| {
            let name = section_name(*s);
            let mut data = match section(*s, parts, mode, tile_url) {
                SectionBody::Html(html) => json!({"section": name, "html": html}),
                SectionBody::Data(data) => json!({"section": name, "data": data}),
            };
            if let Some(day) = day {
                data["day"] = json!(day);
            }
            sse("section", &data)
        })
        .collect()
}

/// The SSE events of one plan event.
fn events_of(event: &PlanEvent, tile_url: Option<&str>) -> Vec<Event> {
    match event {
        PlanEvent::Agent {
            agent,
            state,
            elapsed_ms,
            error,
            day,
        } => vec![sse(
            "agent",
            &AgentData {
                agent: *agent,
                status: *state,
                elapsed_ms: *elapsed_ms,
                error: error.as_deref(),
                day: *day,
            },
        )],
        PlanEvent::Text { agent, day, text } => vec![sse(
            "text",
            &TextData {
                agent: *agent,
                day: *day,
                text,
            },
        )],
        PlanEvent::Sections {
            sections,
            parts,
            day,
        } => section_events(sections, parts, *day, tile_url),
        PlanEvent::Done { id } => vec![sse("done", &json!({"id": id, "url": plan_url(id)}))],
        PlanEvent::Failed { message } => vec![sse("failed", &json!({"message": message}))],
        PlanEvent::Cancelled => vec![sse("cancelled", &Value::Object(Default::default()))],
    }
}

/// The job's events as an SSE response: replayed from the start, then live, with a
/// keep-alive comment every 15 s.
pub(crate) fn stream(job: &Arc<PlanJob>, tile_url: Option<String>) -> Response {
    let events = job
        .subscribe()
        .flat_map(move |e| futures::stream::iter(events_of(&e, tile_url.as_deref())))
        .map(Ok::<_, Infallible>);
    sse_response(events)
}

fn sse_response(
    events: impl Stream<Item = Result<Event, Infallible>> + Send + 'static,
) -> Response {
    Sse::new(events)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response()
}
