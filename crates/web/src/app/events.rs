//! SSE framing of a plan's events, twice over. Each typed [`PlanEvent`] of the application
//! layer becomes server-sent events in one of two framings; the sections are rendered in both
//! by the same view functions as the page, so the page and its live updates never disagree.
//!
//! **JSON** (`GET /api/plans/{id}/events`, for API clients): one-line JSON bodies.
//!
//! | event | data |
//! |---|---|
//! | `agent` | `{agent, status: running/done/failed, elapsed_ms, error}` (+ `day` for a rewrite) |
//! | `text` | `{agent, day, text}` — prose as the model writes it |
//! | `section` | `{section, html}` (or `{section: "map", data}`) (+ `day` for a rewrite) |
//! | `done` / `failed` / `cancelled` | `{id, url}` / `{message}` / `{}` |
//!
//! **HTML** (`GET /plans/{id}/live`, for the owner's page through htmx's SSE extension): each
//! body is markup with `hx-swap-oob` that says where it goes, so one element of the page
//! listens to every event and htmx swaps the parts in.
//!
//! | event | data |
//! |---|---|
//! | `progress` | the agents' list, into `#progress` |
//! | `months`, `hotels`, `map`, `itinerary`, `summary`, `checks`, `warnings` | that section, as the page has it (the map section's data is merged into the drawn map) |
//! | `text` | a piece of prose, appended to a day's intro, a stop's note or the summary (the first piece of each place on a connection replaces what it shows, so a reconnect's replay never doubles text) |
//! | `end` | `#plan-status` (done, failed or cancelled, with a notice) and the final progress |

use std::collections::HashSet;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use askama::Template;
use axum::response::IntoResponse;
use axum::response::Response;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::{Stream, StreamExt};
use serde::Serialize;
use serde_json::{Value, json};
use tripwright_app::AgentName;
use tripwright_app::planning::{
    AGENTS, AgentProgress, AgentState, JobState, Parts, PlanEvent, PlanJob, Section, Slot, Writing,
};

use super::view::{
    ItineraryMode, Notice, SectionBody, progress_html, render, section, status_html,
};

/// The URL of a plan's page.
pub(crate) fn plan_url(id: impl std::fmt::Display) -> String {
    format!("/plans/{id}")
}

/// The URL of a plan's event stream.
pub(crate) fn events_url(id: impl std::fmt::Display) -> String {
    format!("/api/plans/{id}/events")
}

/// The URL of a plan's live stream of HTML fragments (its owner's page).
pub(crate) fn live_url(id: impl std::fmt::Display) -> String {
    format!("/plans/{id}/live")
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

/// The id of a section's element on the plan page.
pub(crate) fn section_id(s: Section) -> &'static str {
    match s {
        Section::Map => "map-section",
        other => section_name(other),
    }
}

// ───────────────────────────── JSON framing ─────────────────────────────

#[derive(Serialize)]
struct AgentData<'a> {
    agent: AgentName,
    status: AgentState,
    elapsed_ms: u64,
    error: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    day: Option<u8>,
}

/// A `text` event: `day` and `stop` say which stop's note it goes to; `replace` says it
/// replaces that note instead of adding to it.
#[derive(Serialize)]
struct TextData<'a> {
    agent: AgentName,
    day: u8,
    stop: u8,
    text: &'a str,
    replace: bool,
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
        updated: None,
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

/// The JSON stream's events of one plan event.
fn json_events_of(event: &PlanEvent, tile_url: Option<&str>) -> Vec<Event> {
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
        PlanEvent::Text {
            agent,
            slot,
            text,
            replace,
        } => {
            let Slot::Note { day, stop } = *slot;
            vec![sse(
                "text",
                &TextData {
                    agent: *agent,
                    day,
                    stop,
                    text,
                    replace: *replace,
                },
            )]
        }
        PlanEvent::Sections {
            sections,
            parts,
            day,
        } => section_events(sections, parts, *day, tile_url),
        PlanEvent::Notice { message } => vec![sse("notice", &json!({"message": message}))],
        PlanEvent::Writing(w) => vec![sse(
            "writing",
            &json!({"done": w.done, "total": w.total, "elapsed_ms": w.elapsed_ms,
                    "seconds_left": w.seconds_left()}),
        )],
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
        .flat_map(move |e| futures::stream::iter(json_events_of(&e, tile_url.as_deref())))
        .map(Ok::<_, Infallible>);
    sse_response(events)
}

// ───────────────────────────── HTML framing ─────────────────────────────

/// The live stream's event names: every event the page's `#plan-live` element listens to.
pub(crate) const LIVE_EVENTS: [&str; 11] = [
    "status",
    "progress",
    "months",
    "hotels",
    "map",
    "itinerary",
    "summary",
    "checks",
    "warnings",
    "text",
    "end",
];

/// A piece of streamed prose, swapped into its place (`swap` is `beforeend` or `innerHTML`).
#[derive(Template)]
#[template(
    source = "<span hx-swap-oob=\"{{ swap }}:{{ target }}\">{{ text }}</span>",
    ext = "html"
)]
struct TextPiece<'a> {
    swap: &'static str,
    target: String,
    text: &'a str,
}

/// Where a slot's text is on the page (ids from `sections/itinerary.html` and `summary.html`).
fn slot_target(slot: Slot) -> String {
    let Slot::Note { day, stop } = slot;
    format!("#day-{day}-stop-{stop} .stop-note")
}

/// Whether re-rendering `section` resets the text shown in `slot`.
fn shows(section: Section, slot: Slot) -> bool {
    let Slot::Note { .. } = slot;
    section == Section::Itinerary
}

/// A section as the page has it, marked to replace the page's element of the same id.
pub(crate) fn section_fragment(s: Section, html: &str) -> String {
    let hidden = if html.trim().is_empty() {
        " hidden"
    } else {
        ""
    };
    format!(
        "<section id=\"{}\" hx-swap-oob=\"true\"{hidden}>\n{html}\n</section>",
        section_id(s)
    )
}

/// The agents' list, swapped into `#progress` (whose `hidden` stays as the page has it).
fn progress_fragment(
    agents: &[AgentProgress; 4],
    errors: &[Option<String>; 4],
    running: bool,
    writing: Option<&Writing>,
) -> String {
    format!(
        "<div hx-swap-oob=\"innerHTML:#progress\">{}</div>",
        progress_html(agents, errors, running, writing)
    )
}

/// One event of the live stream: its name and its markup.
type Fragment = (&'static str, String);

/// What the live stream has sent on this connection: the agents' progress so far, which
/// places already had text, and the day being rewritten. Each connection replays the log
/// from its start, so this starts empty for each.
struct LivePage {
    job: Arc<PlanJob>,
    tile_url: Option<String>,
    agents: [AgentProgress; 4],
    errors: [Option<String>; 4],
    written: HashSet<Slot>,
    rewrite: Option<u8>,
    writing: Option<Writing>,
}

impl LivePage {
    fn new(job: Arc<PlanJob>, tile_url: Option<String>) -> Self {
        Self {
            job,
            tile_url,
            agents: Default::default(),
            errors: Default::default(),
            written: HashSet::new(),
            rewrite: None,
            writing: None,
        }
    }

    /// The live stream's events of one plan event.
    fn events_of(&mut self, event: &PlanEvent) -> Vec<Fragment> {
        match event {
            PlanEvent::Agent {
                agent,
                state,
                elapsed_ms,
                error,
                day,
            } => {
                self.rewrite = self.rewrite.or(*day);
                if let Some(i) = AGENTS.iter().position(|a| a == agent) {
                    let finished = matches!(state, AgentState::Done | AgentState::Failed);
                    self.agents[i] = AgentProgress {
                        state: *state,
                        elapsed_ms: finished.then_some(*elapsed_ms),
                        started: None,
                    };
                    self.errors[i].clone_from(error);
                }
                vec![(
                    "progress",
                    progress_fragment(&self.agents, &self.errors, true, self.writing.as_ref()),
                )]
            }
            PlanEvent::Writing(w) => {
                self.writing = Some(*w);
                vec![(
                    "progress",
                    progress_fragment(&self.agents, &self.errors, true, Some(w)),
                )]
            }
            PlanEvent::Text {
                slot,
                text,
                replace,
                ..
            } => {
                let first = self.written.insert(*slot);
                let piece = TextPiece {
                    swap: if first || *replace {
                        "innerHTML"
                    } else {
                        "beforeend"
                    },
                    target: slot_target(*slot),
                    text,
                };
                vec![("text", render(&piece))]
            }
            PlanEvent::Sections {
                sections,
                parts,
                day,
            } => {
                self.written
                    .retain(|slot| !sections.iter().any(|s| shows(*s, *slot)));
                self.section_events(sections, parts, *day)
            }
            // News while the plan is made ("fetching places near Rome…"), under its heading.
            PlanEvent::Notice { message } => vec![(
                "status",
                status_html(
                    &JobState::Running,
                    None,
                    Some(Notice::status(message.clone())),
                    true,
                ),
            )],
            PlanEvent::Done { .. } | PlanEvent::Failed { .. } | PlanEvent::Cancelled => {
                vec![self.end(event)]
            }
        }
    }

    fn section_events(
        &self,
        sections: &[Section],
        parts: &Parts,
        day: Option<u8>,
    ) -> Vec<Fragment> {
        let mode = ItineraryMode {
            editable: true,
            live: parts.checks.is_none(),
            updated: day,
        };
        sections
            .iter()
            .map(|s| {
                let html = section(*s, parts, mode, self.tile_url.as_deref()).into_html();
                (section_name(*s), section_fragment(*s, &html))
            })
            .collect()
    }

    /// The last event: where the plan stands now, with a notice, and the final progress.
    fn end(&self, event: &PlanEvent) -> Fragment {
        let snap = self.job.snapshot();
        let (state, notice) = match (event, self.rewrite) {
            (PlanEvent::Failed { message }, _) => (JobState::Failed(message.clone()), None),
            (PlanEvent::Cancelled, None) => (JobState::Cancelled, None),
            (PlanEvent::Cancelled, Some(day)) => (
                JobState::Done,
                Some(Notice::status(format!(
                    "The rewrite of day {day} was cancelled."
                ))),
            ),
            (_, None) => (JobState::Done, Some(Notice::status("Your plan is ready."))),
            (_, Some(day)) => {
                let failed = self.errors[2]
                    .as_deref()
                    .map(|e| Notice::alert(format!("Day {day} could not be rewritten: {e}")));
                let done = Notice::status(format!("Day {day} is rewritten."));
                (JobState::Done, Some(failed.unwrap_or(done)))
            }
        };
        let html = format!(
            "{}\n{}",
            status_html(&state, snap.plan.as_deref(), notice, true),
            progress_fragment(&snap.agents, &self.errors, false, None)
        );
        ("end", html)
    }
}

/// The owner's live page stream: the job's events as HTML fragments for htmx, replayed from
/// the start, then live, with a keep-alive comment every 15 s.
pub(crate) fn live(job: &Arc<PlanJob>, tile_url: Option<String>) -> Response {
    let mut page = LivePage::new(Arc::clone(job), tile_url);
    let events = job
        .subscribe()
        .flat_map(move |e| futures::stream::iter(page.events_of(&e)))
        .map(|(name, html)| Ok::<_, Infallible>(Event::default().event(name).data(html)));
    sse_response(events)
}

fn sse_response(
    events: impl Stream<Item = Result<Event, Infallible>> + Send + 'static,
) -> Response {
    Sse::new(events)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::view::{Chrome, LiveStream, PlanPage};
    use futures::executor::block_on;
    use tripwright_domain::{OwnerId, Plan};

    fn plan() -> Plan {
        serde_json::from_str(include_str!(
            "../../../export/tests/fixtures/helsinki_plan.json"
        ))
        .expect("the fixture is a plan")
    }

    /// The live stream of a job, from its log.
    fn stream(job: &Arc<PlanJob>) -> Vec<Fragment> {
        let mut page = LivePage::new(Arc::clone(job), None);
        block_on(job.subscribe().collect::<Vec<_>>())
            .iter()
            .flat_map(|e| page.events_of(e))
            .collect()
    }

    /// The plan page around `parts`, as `render_plan` fills it.
    fn page(parts: &Parts) -> String {
        let mode = ItineraryMode {
            editable: true,
            live: false,
            updated: None,
        };
        let html = |s| section(s, parts, mode, None).into_html();
        render(&PlanPage {
            chrome: Chrome::new("token", "Plan", "plan"),
            id: "p1".into(),
            state: "done",
            events: None,
            live: Some(LiveStream {
                url: live_url("p1"),
                connect: false,
                events: LIVE_EVENTS.join(","),
            }),
            heading: "Helsinki".into(),
            status: String::new(),
            prefs: String::new(),
            show_progress: false,
            progress: String::new(),
            months: html(Section::Months),
            hotels: html(Section::Hotels),
            map: html(Section::Map),
            itinerary: html(Section::Itinerary),
            summary: html(Section::Summary),
            checks: html(Section::Checks),
            warnings: html(Section::Warnings),
            has_warnings: !parts.warnings.is_empty(),
            export_base: String::new(),
            shareable: true,
            share_url: String::new(),
        })
    }

    #[test]
    fn each_section_arrives_as_the_page_shows_it() {
        let plan = plan();
        let job = PlanJob::finished(OwnerId::new("owner"), plan.clone());
        let events = stream(&job);
        let names: Vec<&str> = events.iter().map(|(n, _)| *n).collect();
        assert_eq!(
            names,
            [
                "progress",
                "progress",
                "progress",
                "progress",
                "months",
                "hotels",
                "map",
                "itinerary",
                "summary",
                "checks",
                "warnings",
                "end"
            ]
        );
        assert!(names.iter().all(|n| LIVE_EVENTS.contains(n)), "{names:?}");
        let page = page(&Parts::of(&plan));
        for (name, html) in &events[4..11] {
            let as_page = html.replace(" hx-swap-oob=\"true\"", "");
            assert!(page.contains(&as_page), "{name}: {html}");
            assert!(html.starts_with("<section id=\""), "{html}");
        }
        // The map section carries the map's data for the map module.
        assert!(
            events[6].1.contains("<div id=\"map\" data-plan=\"{"),
            "{}",
            events[6].1
        );
        // The end: where the plan stands, with its month and a notice, and the final progress.
        let end = &events[11].1;
        assert!(
            end.starts_with("<div id=\"plan-status\" data-state=\"done\" hx-swap-oob=\"true\">"),
            "{end}"
        );
        assert!(end.contains("Your plan is ready."), "{end}");
        assert!(end.contains("id=\"cancel\" hidden"), "{end}");
        assert!(!end.contains("Planning…"), "{end}");
    }

    #[test]
    fn the_progress_says_how_many_texts_are_written_and_how_long_is_left() {
        let job = PlanJob::finished(OwnerId::new("owner"), plan());
        let mut page = LivePage::new(job, None);
        let events = page.events_of(&PlanEvent::Writing(Writing {
            done: 4,
            total: 16,
            elapsed_ms: 10_000,
        }));
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].0, "progress");
        let html = &events[0].1;
        assert!(
            html.contains("Writing the descriptions: 4 of 16 texts written · about 30 s left."),
            "{html}"
        );
        assert!(html.contains("<a href=\"#itinerary\">"), "{html}");
        // An agent's next event keeps the line; long waits are told in minutes.
        let events = page.events_of(&PlanEvent::Writing(Writing {
            done: 1,
            total: 16,
            elapsed_ms: 9_000,
        }));
        assert!(
            events[0]
                .1
                .contains("1 of 16 texts written · about 3 min left"),
            "{}",
            events[0].1
        );
        let later = page.events_of(&PlanEvent::Agent {
            agent: AgentName::Hotels,
            state: AgentState::Done,
            elapsed_ms: 5,
            error: None,
            day: None,
        });
        assert!(
            later[0].1.contains("1 of 16 texts written"),
            "{}",
            later[0].1
        );
    }

    #[test]
    fn a_notice_shows_under_the_heading_while_the_plan_is_made() {
        let job = PlanJob::finished(OwnerId::new("owner"), plan());
        let mut page = LivePage::new(job, None);
        let events = page.events_of(&PlanEvent::Notice {
            message: "Fetching places near Rome from OpenStreetMap…".into(),
        });
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].0, "status");
        assert!(LIVE_EVENTS.contains(&"status"));
        let html = &events[0].1;
        assert!(
            html.starts_with(
                "<div id=\"plan-status\" data-state=\"running\" hx-swap-oob=\"true\">"
            ),
            "{html}"
        );
        assert!(
            html.contains("Fetching places near Rome from OpenStreetMap…"),
            "{html}"
        );
    }

    #[test]
    fn text_is_appended_escaped_and_the_first_piece_of_a_place_replaces_it() {
        let job = PlanJob::finished(OwnerId::new("owner"), plan());
        let mut page = LivePage::new(job, None);
        let mut text = |slot, text: &str, replace| {
            let events = page.events_of(&PlanEvent::Text {
                agent: AgentName::Itinerary,
                slot,
                text: text.to_owned(),
                replace,
            });
            assert_eq!(events.len(), 1);
            assert_eq!(events[0].0, "text");
            events[0].1.clone()
        };
        let first = Slot::Note { day: 1, stop: 0 };
        assert_eq!(
            text(first, "<b>Sauna</b>", false),
            "<span hx-swap-oob=\"innerHTML:#day-1-stop-0 .stop-note\">&#60;b&#62;Sauna&#60;/b&#62;</span>"
        );
        assert_eq!(
            text(first, " day", false),
            "<span hx-swap-oob=\"beforeend:#day-1-stop-0 .stop-note\"> day</span>"
        );
        assert!(text(first, "Again", true).starts_with("<span hx-swap-oob=\"innerHTML:"));
        let note = Slot::Note { day: 2, stop: 0 };
        assert!(
            text(note, "A note", false)
                .starts_with("<span hx-swap-oob=\"innerHTML:#day-2-stop-0 .stop-note\">")
        );
        assert!(text(note, " more", false).contains("beforeend:#day-2-stop-0"));
        // The itinerary shown again resets its places.
        let parts = Arc::new(Parts::of(&plan()));
        page.events_of(&PlanEvent::Sections {
            sections: vec![Section::Itinerary],
            parts,
            day: None,
        });
        let mut text = |slot| {
            page.events_of(&PlanEvent::Text {
                agent: AgentName::Itinerary,
                slot,
                text: "x".into(),
                replace: false,
            })[0]
                .1
                .clone()
        };
        assert!(text(first).contains("innerHTML:#day-1-stop-0"));
        assert!(text(note).contains("innerHTML:#day-2-stop-0"));
    }

    #[test]
    fn a_rewritten_day_is_marked_and_announced() {
        let plan = plan();
        let job = PlanJob::finished(OwnerId::new("owner"), plan.clone());
        let mut page = LivePage::new(job, None);
        let progress = page.events_of(&PlanEvent::Agent {
            agent: AgentName::Itinerary,
            state: AgentState::Running,
            elapsed_ms: 0,
            error: None,
            day: Some(2),
        });
        assert_eq!(progress[0].0, "progress");
        assert!(
            progress[0]
                .1
                .starts_with("<div hx-swap-oob=\"innerHTML:#progress\">")
        );
        assert!(
            progress[0]
                .1
                .contains("data-agent=\"itinerary\" data-status=\"running\"")
        );
        let sections = page.events_of(&PlanEvent::Sections {
            sections: vec![Section::Itinerary],
            parts: Arc::new(Parts::of(&plan)),
            day: Some(2),
        });
        assert!(
            sections[0]
                .1
                .contains("<section class=\"day updated\" data-day=\"2\">"),
            "{}",
            sections[0].1
        );
        assert!(
            sections[0]
                .1
                .contains("<section class=\"day\" data-day=\"1\">")
        );
        let end = page.events_of(&PlanEvent::Done {
            id: plan.id.clone(),
        });
        assert!(end[0].1.contains("Day 2 is rewritten."), "{}", end[0].1);
    }
}
