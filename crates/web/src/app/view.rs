//! Server-rendered HTML: the pages and the plan's sections. A section is rendered by the same
//! template for the full page and for the events that replace it while a plan is being made
//! (the JSON stream's `section` events and the live page's fragments), so they never disagree.
//! Every user or model string passes askama's HTML escaping; the map's JSON goes into an
//! attribute, escaped too.

use askama::Template;
use serde_json::{Value, json};
use tripwright_app::AgentName;
use tripwright_app::planning::{AGENTS, AgentProgress, AgentState, JobState, Parts, Section};
use tripwright_domain::{
    Check, Hotel, Itinerary, Money, MonthScore, Plan, StopKind, Summary, month_name,
};

/// The map's offline attribution.
pub(crate) const OSM_ATTRIBUTION: &str = "© OpenStreetMap contributors";

/// A time as the API and the pages' `datetime` attributes write it: RFC 3339 in UTC with `Z`.
pub(crate) fn iso(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

/// Renders a template; a failure (a bug: the templates are compiled in) becomes a short
/// message in the page rather than a panic.
pub(crate) fn render(t: &impl Template) -> String {
    t.render().unwrap_or_else(|e| {
        tracing::error!(error = %e, "a template failed to render");
        "<p class=\"error\">This part of the page could not be shown.</p>".to_owned()
    })
}

// ───────────────────────────── layout ─────────────────────────────

/// One sidebar link.
pub(crate) struct NavLink {
    pub(crate) href: &'static str,
    pub(crate) label: &'static str,
    pub(crate) current: bool,
}

/// What every page's layout needs.
pub(crate) struct Chrome {
    pub(crate) csrf: String,
    pub(crate) title: String,
    pub(crate) page: &'static str,
    /// Leaflet and the country outlines (the map module draws with them).
    pub(crate) map: bool,
    /// htmx, configured by the layout's `htmx-config` meta (no eval, no inline script or style).
    pub(crate) htmx: bool,
    /// htmx's server-sent events extension (the live plan page).
    pub(crate) sse: bool,
    /// The page's ES module under `/static/`, which imports the shared ones it needs.
    pub(crate) module: Option<&'static str>,
    pub(crate) nav: Vec<NavLink>,
}

impl Chrome {
    /// The layout of page `page` (its sidebar entry is marked current).
    pub(crate) fn new(csrf: &str, title: impl Into<String>, page: &'static str) -> Self {
        let links = [
            ("/", "Planner", "planner"),
            ("/plans", "My plans", "plans"),
            ("/lists", "Trip list", "lists"),
            ("/notes", "Notes", "notes"),
            ("/supermarkets", "Supermarkets", "supermarkets"),
        ];
        Self {
            csrf: csrf.to_owned(),
            title: title.into(),
            page,
            map: false,
            htmx: false,
            sse: false,
            module: None,
            nav: links
                .into_iter()
                .map(|(href, label, key)| NavLink {
                    href,
                    label,
                    current: key == page,
                })
                .collect(),
        }
    }
}

// ───────────────────────────── pages ─────────────────────────────

/// The planner form's values (strings, as typed, so a refused form comes back as it was).
#[derive(Debug, Clone, serde::Deserialize)]
pub(crate) struct PlanForm {
    #[serde(default)]
    pub(crate) destination: String,
    #[serde(default = "default_prefs")]
    pub(crate) prefs: String,
    #[serde(default = "default_days")]
    pub(crate) days: String,
    #[serde(default)]
    pub(crate) month: String,
    /// The first day, `YYYY-MM-DD` (a date input's value); it fixes the month.
    #[serde(default)]
    pub(crate) start_date: String,
    #[serde(default)]
    pub(crate) budget: String,
    #[serde(default)]
    pub(crate) currency: String,
    #[serde(default = "default_travelers")]
    pub(crate) travelers: String,
}

/// Empty: the box shows an example as its placeholder, and a plan without wishes is made
/// for none (a pre-filled text was planned for whoever left it, or typed onto).
fn default_prefs() -> String {
    String::new()
}
fn default_days() -> String {
    "5".into()
}
fn default_travelers() -> String {
    "1".into()
}

impl Default for PlanForm {
    fn default() -> Self {
        Self {
            destination: String::new(),
            prefs: default_prefs(),
            days: default_days(),
            month: String::new(),
            start_date: String::new(),
            budget: String::new(),
            currency: String::new(),
            travelers: default_travelers(),
        }
    }
}

/// One option of the month select.
pub(crate) struct MonthOption {
    pub(crate) value: String,
    pub(crate) label: &'static str,
    pub(crate) selected: bool,
}

/// An error shown above a form: the planner's, or a list page's.
#[derive(Debug)]
pub(crate) struct FormError {
    pub(crate) message: String,
    pub(crate) hint: Option<String>,
    /// Destinations to pick instead, each a button that fills the form in.
    pub(crate) suggestions: Vec<String>,
}

impl FormError {
    /// An error with a hint, as sentences.
    pub(crate) fn new(message: &str, hint: Option<&str>) -> Self {
        Self {
            message: tripwright_domain::capitalised(message),
            hint: hint.map(tripwright_domain::capitalised),
            suggestions: Vec::new(),
        }
    }

    /// "Unknown destination "Helsimki". Did you mean:", with `suggestions` as buttons to pick
    /// from (none: the error as it was).
    pub(crate) fn suggesting(mut self, query: &str, suggestions: Vec<String>) -> Self {
        if !suggestions.is_empty() {
            self.message = format!("Unknown destination \"{query}\". Did you mean:");
        }
        self.suggestions = suggestions;
        self
    }
}

impl From<super::error::WebError> for FormError {
    fn from(e: super::error::WebError) -> Self {
        Self::new(&e.message, e.hint.as_deref())
    }
}

/// The planner's `#form-error` box on its own: what an htmx submit gets back when the request
/// is refused (the page includes the same template).
#[derive(Template)]
#[template(path = "form_error.html")]
pub(crate) struct FormErrorBox {
    pub(crate) error: Option<FormError>,
}

/// `GET /`.
#[derive(Template)]
#[template(path = "planner.html")]
pub(crate) struct PlannerPage {
    pub(crate) chrome: Chrome,
    pub(crate) form: PlanForm,
    pub(crate) months: Vec<MonthOption>,
    pub(crate) error: Option<FormError>,
}

impl PlannerPage {
    /// The planner with `form`'s values and an optional error.
    pub(crate) fn new(csrf: &str, form: PlanForm, error: Option<FormError>) -> Self {
        let chosen = form.month.trim().to_owned();
        let mut months = vec![MonthOption {
            value: String::new(),
            label: "Best month",
            selected: chosen.is_empty(),
        }];
        months.extend((1..=12u8).map(|m| MonthOption {
            value: m.to_string(),
            label: month_name(m),
            selected: chosen == m.to_string(),
        }));
        let mut chrome = Chrome::new(csrf, "Planner", "planner");
        chrome.htmx = true;
        chrome.module = Some("planner.mjs");
        Self {
            chrome,
            form,
            months,
            error,
        }
    }
}

/// One saved plan in the list.
pub(crate) struct PlanItem {
    pub(crate) url: String,
    pub(crate) title: String,
    /// The name its owner gave it ("" for none), for the rename box.
    pub(crate) name: String,
    /// Whether it can be renamed (a made plan).
    pub(crate) renamable: bool,
    /// What it is called without a name: "Helsinki, Finland — 3 days".
    pub(crate) default_title: String,
    pub(crate) created: String,
    pub(crate) created_iso: String,
    /// `made`, `making`, `cancelled`, `stopped`.
    pub(crate) state: &'static str,
    /// The state in words, when not simply made ("Being made", "Cancelled", "Stopped: …").
    pub(crate) badge: Option<String>,
    /// "Sat 3 – Mon 5 July 2027", or "Dates chosen by the weather".
    pub(crate) dates: String,
    /// The wishes ("" for none).
    pub(crate) prefs: String,
    /// "Budget EUR 700", or "".
    pub(crate) budget: String,
}

/// `GET /plans`.
#[derive(Template)]
#[template(path = "plans.html")]
pub(crate) struct PlansPage {
    pub(crate) chrome: Chrome,
    pub(crate) plans: Vec<PlanItem>,
    /// The address of a plan just deleted, whose undo the page offers.
    pub(crate) deleted: Option<String>,
    /// The link that gives another browser this user's identity.
    pub(crate) recovery_url: String,
}

/// `GET /recover?key=…`: confirms taking over the identity of a recovery link.
#[derive(Template)]
#[template(path = "recover.html")]
pub(crate) struct RecoverPage {
    pub(crate) chrome: Chrome,
    pub(crate) valid: bool,
    pub(crate) key: String,
}

/// A page with a heading and a sentence: not found, coming soon, an error.
#[derive(Template)]
#[template(path = "message.html")]
pub(crate) struct MessagePage {
    pub(crate) chrome: Chrome,
    pub(crate) kind: &'static str,
    pub(crate) heading: String,
    pub(crate) text: String,
}

/// `GET /plans/{id}` and `GET /share/{token}`.
#[derive(Template)]
#[template(path = "plan.html")]
pub(crate) struct PlanPage {
    pub(crate) chrome: Chrome,
    pub(crate) id: String,
    pub(crate) state: &'static str,
    pub(crate) events: Option<String>,
    /// The owner's live stream (`/plans/{id}/live`): connected while the plan is made.
    pub(crate) live: Option<LiveStream>,
    pub(crate) heading: String,
    pub(crate) status: String,
    pub(crate) prefs: String,
    pub(crate) show_progress: bool,
    pub(crate) progress: String,
    pub(crate) months: String,
    pub(crate) hotels: String,
    pub(crate) map: String,
    pub(crate) itinerary: String,
    pub(crate) summary: String,
    pub(crate) checks: String,
    pub(crate) warnings: String,
    pub(crate) has_warnings: bool,
    pub(crate) export_base: String,
    pub(crate) shareable: bool,
    pub(crate) share_url: String,
}

/// The element that connects the plan page to its live stream (htmx's SSE extension): every
/// event of the stream is a set of out-of-band swaps, so one element listens to all of them.
pub(crate) struct LiveStream {
    /// `/plans/{id}/live`.
    pub(crate) url: String,
    /// Connect now (the plan is being made); else the page connects when a day is rewritten.
    pub(crate) connect: bool,
    /// The event names, comma-separated.
    pub(crate) events: String,
}

// ───────────────────────────── sections ─────────────────────────────

/// How the itinerary is shown: with the rewrite buttons (the owner's page), with the intros
/// marked live (prose still streaming), and with a day just rewritten marked `updated`.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ItineraryMode {
    pub(crate) editable: bool,
    pub(crate) live: bool,
    pub(crate) updated: Option<u8>,
}

pub(crate) struct Bar {
    month: u8,
    label: &'static str,
    class: &'static str,
    x: u32,
    y: String,
    h: String,
    label_x: u32,
    title: String,
}

pub(crate) struct BestMonth {
    name: String,
    score: String,
    reason: String,
}

#[derive(Template)]
#[template(path = "sections/months.html")]
pub(crate) struct MonthsSection {
    pending: bool,
    empty: bool,
    aria: String,
    bars: Vec<Bar>,
    best: Vec<BestMonth>,
    width: u32,
    height: u32,
    bar_width: u32,
    label_y: u32,
}

const TOP_MONTHS: usize = 3;

/// The months chart: 12 bars in calendar order, the best three marked `top`.
pub(crate) fn months_html(months: Option<&[MonthScore]>) -> String {
    const BAR: u32 = 24;
    const STEP: u32 = 30;
    const CHART: f64 = 120.0;
    const TOP: f64 = 8.0;
    let mut section = MonthsSection {
        pending: months.is_none(),
        empty: months.is_some_and(<[MonthScore]>::is_empty),
        aria: String::new(),
        bars: Vec::new(),
        best: Vec::new(),
        width: 12 * STEP + 6,
        height: 150,
        bar_width: BAR,
        label_y: 145,
    };
    if let Some(months) = months.filter(|m| !m.is_empty()) {
        let top: Vec<u8> = months.iter().take(TOP_MONTHS).map(|m| m.month).collect();
        for month in 1..=12u8 {
            let score = months
                .iter()
                .find(|m| m.month == month)
                .map_or(0.0, |m| m.score.clamp(0.0, 100.0));
            let h = (score / 100.0 * CHART).max(1.0);
            let x = 6 + u32::from(month - 1) * STEP;
            section.bars.push(Bar {
                month,
                label: &month_name(month)[..3],
                class: if top.contains(&month) {
                    "bar top"
                } else {
                    "bar"
                },
                x,
                y: format!("{:.1}", TOP + CHART - h),
                h: format!("{h:.1}"),
                label_x: x + BAR / 2,
                title: format!("{}: {score:.0} / 100", month_name(month)),
            });
        }
        section.best = months
            .iter()
            .take(TOP_MONTHS)
            .map(|m| BestMonth {
                name: m.name.clone(),
                score: format!("{:.0} / 100", m.score),
                reason: m.reason.clone(),
            })
            .collect();
        let names: Vec<&str> = months
            .iter()
            .take(TOP_MONTHS)
            .map(|m| m.name.as_str())
            .collect();
        section.aria = format!(
            "Comfort score of each month, 0 to 100; the best months are {}",
            names.join(", ")
        );
    }
    render(&section)
}

pub(crate) struct HotelView {
    class: &'static str,
    name: String,
    stars: String,
    price: String,
    estimated: bool,
    similarity: String,
    distance: String,
    description: String,
    matches: String,
    conflicts: String,
    unknown: String,
}

#[derive(Template)]
#[template(path = "sections/hotels.html")]
pub(crate) struct HotelsSection {
    pending: bool,
    hotels: Vec<HotelView>,
}

/// The hotels, best match first (marked `top`).
pub(crate) fn hotels_html(hotels: Option<&[Hotel]>, currency: &str) -> String {
    let views = hotels
        .unwrap_or_default()
        .iter()
        .enumerate()
        .map(|(i, h)| HotelView {
            class: if i == 0 { "hotel top" } else { "hotel" },
            name: h.name.clone(),
            stars: h.stars.map_or_else(
                || "no stars listed".to_owned(),
                |n| "★".repeat(usize::from(n)),
            ),
            price: Money::new(h.price_per_night, currency).to_string(),
            estimated: h.price_estimated,
            similarity: format!("text match {:.0} %", h.similarity.clamp(0.0, 1.0) * 100.0),
            distance: format!("{:.1} km from the centre", h.distance_km),
            description: h.description.clone(),
            matches: h.matches.join(", "),
            conflicts: h.conflicts.join("; "),
            unknown: h.unknown.join(", "),
        })
        .collect();
    render(&HotelsSection {
        pending: hotels.is_none(),
        hotels: views,
    })
}

pub(crate) struct StopView {
    kind: &'static str,
    start: String,
    end: String,
    name: String,
    place_kind: String,
    walk: String,
    note: String,
    /// What the data says ("cuisine: pizza · outdoor seating"), empty when nothing.
    facts: String,
    /// The encyclopedia's description and its article, when there is one.
    description: Option<tripwright_domain::Description>,
}

pub(crate) struct DayView {
    day: u8,
    class: &'static str,
    heading: String,
    intro: String,
    intro_class: &'static str,
    stops: Vec<StopView>,
    walk: String,
}

#[derive(Template)]
#[template(path = "sections/itinerary.html")]
pub(crate) struct ItinerarySection {
    pending: bool,
    editable: bool,
    days: Vec<DayView>,
    /// Every day's number, for "move to day".
    day_numbers: Vec<u8>,
}

pub(crate) fn stop_kind(kind: StopKind) -> &'static str {
    match kind {
        StopKind::Sight => "sight",
        StopKind::Artwork => "artwork",
        StopKind::Cafe => "cafe",
        StopKind::Lunch => "lunch",
        StopKind::Dinner => "dinner",
    }
}

/// The days, their stops and prose.
pub(crate) fn itinerary_html(itinerary: Option<&Itinerary>, mode: ItineraryMode) -> String {
    let days = itinerary
        .map(|it| it.days.as_slice())
        .unwrap_or_default()
        .iter()
        .map(|d| DayView {
            day: d.day,
            class: if mode.updated == Some(d.day) {
                "day updated"
            } else {
                "day"
            },
            heading: format!(
                "Day {} · {} — {}",
                d.day,
                d.date.format("%A %-d %B %Y"),
                d.title
            ),
            intro: d.intro.clone(),
            intro_class: if mode.live {
                "day-intro live"
            } else {
                "day-intro"
            },
            stops: d
                .stops
                .iter()
                .map(|s| StopView {
                    kind: stop_kind(s.kind),
                    start: s.start.to_string(),
                    end: s.end.to_string(),
                    name: s.name.clone(),
                    place_kind: tripwright_domain::place_kind_words(&s.place_kind),
                    walk: if s.walk_minutes == 0 {
                        String::new()
                    } else {
                        format!("{} min walk", s.walk_minutes)
                    },
                    note: s.note.clone(),
                    facts: s.facts.join(" · "),
                    description: s.description.clone(),
                })
                .collect(),
            walk: format!("{:.1} km on foot", d.walk_km),
        })
        .collect();
    let day_numbers = itinerary
        .map(|it| it.days.iter().map(|d| d.day).collect())
        .unwrap_or_default();
    render(&ItinerarySection {
        pending: itinerary.is_none(),
        // Stops can be changed once the text is written.
        editable: mode.editable && !mode.live,
        days,
        day_numbers,
    })
}

pub(crate) struct CostLineView {
    label: String,
    amount: String,
    estimated: bool,
}

pub(crate) struct BudgetView {
    class: &'static str,
    amount: String,
    verdict: &'static str,
}

#[derive(Template)]
#[template(path = "sections/summary.html")]
pub(crate) struct SummarySection {
    pending: bool,
    text: String,
    party: String,
    lines: Vec<CostLineView>,
    total: String,
    budget: Option<BudgetView>,
}

/// The summary and the cost table, with the budget row marked `over-budget` when exceeded.
pub(crate) fn summary_html(summary: Option<&Summary>) -> String {
    let Some(s) = summary else {
        return render(&SummarySection {
            pending: true,
            text: String::new(),
            party: String::new(),
            lines: Vec::new(),
            total: String::new(),
            budget: None,
        });
    };
    let c = &s.cost;
    render(&SummarySection {
        pending: false,
        text: s.text.clone(),
        party: format!(
            "{} traveller{}, {} night{}",
            c.travelers,
            if c.travelers == 1 { "" } else { "s" },
            c.nights,
            if c.nights == 1 { "" } else { "s" }
        ),
        lines: c
            .lines
            .iter()
            .map(|l| CostLineView {
                label: l.label.clone(),
                amount: Money::new(l.amount, &c.currency).to_string(),
                estimated: l.estimated,
            })
            .collect(),
        total: Money::new(c.total, &c.currency).to_string(),
        budget: c.budget.map(|b| {
            let over = c.within_budget == Some(false);
            BudgetView {
                class: if over { "budget over-budget" } else { "budget" },
                amount: Money::new(b, &c.currency).to_string(),
                verdict: if over { "over budget" } else { "within budget" },
            }
        }),
    })
}

pub(crate) struct CheckView {
    passed: bool,
    /// The check's id (`grounded`), for scripts and tests.
    name: String,
    /// Its name in words ("Real places").
    title: String,
    detail: String,
}

#[derive(Template)]
#[template(path = "sections/checks.html")]
pub(crate) struct ChecksSection {
    pending: bool,
    checks: Vec<CheckView>,
    sources: Option<String>,
}

/// The plan's feasibility report, and where its places came from.
pub(crate) fn checks_html(
    checks: Option<&[Check]>,
    sources: &[tripwright_domain::PlaceSource],
) -> String {
    render(&ChecksSection {
        pending: checks.is_none(),
        sources: tripwright_domain::sources_sentence(sources),
        checks: checks
            .unwrap_or_default()
            .iter()
            .map(|c| CheckView {
                passed: c.passed,
                name: c.name.clone(),
                title: tripwright_domain::check_title(&c.name),
                detail: c.detail.clone(),
            })
            .collect(),
    })
}

#[derive(Template)]
#[template(path = "sections/warnings.html")]
pub(crate) struct WarningsSection {
    warnings: Vec<String>,
}

/// The warnings, each a sentence (empty markup when there are none).
pub(crate) fn warnings_html(warnings: &[String]) -> String {
    render(&WarningsSection {
        warnings: warnings
            .iter()
            .map(|w| tripwright_domain::capitalised(w))
            .collect(),
    })
}

pub(crate) struct AgentView {
    key: &'static str,
    name: &'static str,
    status: &'static str,
    /// The status in words ("Working…").
    status_words: &'static str,
    elapsed: String,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "sections/progress.html")]
pub(crate) struct ProgressSection {
    running: bool,
    agents: Vec<AgentView>,
    /// "12 of 16 texts written · about 20 s left", while they are written.
    writing: Option<String>,
}

/// How far the writing is, in words.
pub(crate) fn writing_words(w: &tripwright_app::planning::Writing) -> String {
    let left = match w.seconds_left() {
        Some(s) if s >= 90 => format!(" · about {} min left", s.div_ceil(60)),
        Some(s) => format!(" · about {} s left", s.max(1)),
        None => String::new(),
    };
    format!(
        "{} of {} written{left}",
        w.done,
        tripwright_domain::plural(w.total, "text", "texts")
    )
}

/// An agent's key (its `data-agent`) and its name on the page.
pub(crate) fn agent_label(agent: AgentName) -> (&'static str, &'static str) {
    let name = match agent {
        AgentName::Weather => "Weather",
        AgentName::Hotels => "Hotels",
        AgentName::Itinerary => "Itinerary",
        AgentName::Summary => "Summary",
    };
    (agent.as_str(), name)
}

/// An agent state's name in the page's `data-status`.
pub(crate) fn state_name(state: AgentState) -> &'static str {
    match state {
        AgentState::Waiting => "waiting",
        AgentState::Running => "running",
        AgentState::Done => "done",
        AgentState::Failed => "failed",
    }
}

/// Elapsed time as the page shows it: "1.2 s".
pub(crate) fn elapsed_text(ms: Option<u64>) -> String {
    ms.map_or_else(String::new, |ms| format!("{:.1} s", ms as f64 / 1000.0))
}

/// The progress list; `errors` says why a failed agent failed (in [`AGENTS`] order; the
/// live stream knows, a page rendered later does not).
pub(crate) fn progress_html(
    agents: &[AgentProgress; 4],
    errors: &[Option<String>; 4],
    running: bool,
    writing: Option<&tripwright_app::planning::Writing>,
) -> String {
    render(&ProgressSection {
        running,
        writing: writing.filter(|_| running).map(writing_words),
        agents: AGENTS
            .iter()
            .zip(agents)
            .zip(errors)
            .map(|((agent, p), error)| {
                let (key, name) = agent_label(*agent);
                AgentView {
                    key,
                    name,
                    status: state_name(p.state),
                    status_words: match p.state {
                        AgentState::Waiting => "Waiting",
                        AgentState::Running => "Working…",
                        AgentState::Done => "Done",
                        AgentState::Failed => "Stopped",
                    },
                    elapsed: elapsed_text(p.elapsed_so_far()),
                    error: error.clone().filter(|_| p.state == AgentState::Failed),
                }
            })
            .collect(),
    })
}

/// A message under the plan's heading: `status` (polite) or `alert`.
#[derive(Debug, Clone)]
pub(crate) struct Notice {
    pub(crate) kind: &'static str,
    pub(crate) text: String,
}

impl Notice {
    /// News that needs no action.
    pub(crate) fn status(text: impl Into<String>) -> Self {
        Self {
            kind: "status",
            text: text.into(),
        }
    }

    /// Something went wrong.
    pub(crate) fn alert(text: impl Into<String>) -> Self {
        Self {
            kind: "alert",
            text: text.into(),
        }
    }
}

#[derive(Template)]
#[template(path = "sections/status.html")]
pub(crate) struct StatusSection {
    state: &'static str,
    running: bool,
    meta: Option<String>,
    failure: Option<String>,
    notice: Option<Notice>,
    oob: bool,
}

/// The name a job state has in the page's `data-state`.
pub(crate) fn job_state_name(state: &JobState) -> &'static str {
    match state {
        JobState::Running => "running",
        JobState::Done => "done",
        JobState::Failed(_) => "failed",
        JobState::Cancelled => "cancelled",
    }
}

/// "6–8 June 2026 · 2 travellers".
pub(crate) fn plan_meta(plan: &Plan) -> String {
    let it = &plan.itinerary;
    let last = it.days.last().map_or(it.start_date, |d| d.date);
    format!(
        "{} · {}",
        tripwright_domain::date_range(it.start_date, last.max(it.start_date)),
        tripwright_domain::plural(
            usize::from(plan.request.travelers),
            "traveller",
            "travellers"
        )
    )
}

/// `#plan-status`, under the plan's heading: where the plan stands (being made, its month and
/// party once made, or why it failed) and an optional notice. `oob` marks it as an
/// out-of-band swap, for the live stream's `end` event.
pub(crate) fn status_html(
    state: &JobState,
    plan: Option<&Plan>,
    notice: Option<Notice>,
    oob: bool,
) -> String {
    let (meta, failure) = match state {
        JobState::Failed(m) => (None, Some(format!("This plan failed: {m}"))),
        JobState::Cancelled => (None, Some("This plan was cancelled.".to_owned())),
        JobState::Running => (Some("Planning… the agents are at work.".to_owned()), None),
        JobState::Done => (plan.map(plan_meta), None),
    };
    render(&StatusSection {
        state: job_state_name(state),
        running: *state == JobState::Running,
        meta,
        failure,
        notice,
        oob,
    })
}

/// The `#map` data: the hotel, each day's stops in order with its colour, and the basemap.
pub(crate) fn map_data(
    hotels: Option<&[Hotel]>,
    itinerary: Option<&Itinerary>,
    tile_url: Option<&str>,
) -> Value {
    let hotels = hotels.unwrap_or_default();
    let hotel = itinerary
        .map_or_else(|| hotels.first(), |it| it.hotel_among(hotels))
        .map(|h| json!({"name": h.name, "lat": h.lat, "lon": h.lon}));
    let days: Vec<Value> = itinerary
        .map(|it| it.days.as_slice())
        .unwrap_or_default()
        .iter()
        .enumerate()
        .map(|(i, d)| {
            json!({
                "day": d.day,
                "color": tripwright_domain::day_colour(i),
                "stops": d.stops.iter().map(|s| json!({
                    "name": s.name,
                    "lat": s.lat,
                    "lon": s.lon,
                    "start": s.start.to_string(),
                    "end": s.end.to_string(),
                    "kind": stop_kind(s.kind),
                    "route": s.route,
                })).collect::<Vec<_>>(),
                "route_back": d.route_back,
            })
        })
        .collect();
    json!({
        "hotel": hotel,
        "days": days,
        "tile_url": tile_url,
        "attribution": OSM_ATTRIBUTION,
    })
}

#[derive(Template)]
#[template(path = "sections/map.html")]
pub(crate) struct MapSection {
    data: String,
}

/// The map section: its heading and the `#map` element with the map's data, which the map
/// module draws.
pub(crate) fn map_html(data: &Value) -> String {
    render(&MapSection {
        data: data.to_string(),
    })
}

/// One section of the plan page, rendered from `parts`.
pub(crate) fn section(
    s: Section,
    parts: &Parts,
    mode: ItineraryMode,
    tile_url: Option<&str>,
) -> SectionBody {
    match s {
        Section::Months => SectionBody::Html(months_html(parts.months.as_deref())),
        Section::Hotels => SectionBody::Html(hotels_html(parts.hotels.as_deref(), &parts.currency)),
        Section::Map => SectionBody::Data(map_data(
            parts.hotels.as_deref(),
            parts.itinerary.as_ref(),
            tile_url,
        )),
        Section::Itinerary => SectionBody::Html(itinerary_html(parts.itinerary.as_ref(), mode)),
        Section::Summary => SectionBody::Html(summary_html(parts.summary.as_ref())),
        Section::Checks => SectionBody::Html(checks_html(parts.checks.as_deref(), &parts.sources)),
        Section::Warnings => SectionBody::Html(warnings_html(&parts.warnings)),
    }
}

/// What a `section` event carries.
#[derive(Debug, Clone)]
pub(crate) enum SectionBody {
    /// Markup replacing the section's content.
    Html(String),
    /// The map's data.
    Data(Value),
}

impl SectionBody {
    /// The section's markup as the page has it (the map's data rendered by [`map_html`]).
    pub(crate) fn into_html(self) -> String {
        match self {
            SectionBody::Html(html) => html,
            SectionBody::Data(data) => map_html(&data),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn month(m: u8, score: f64) -> MonthScore {
        MonthScore {
            month: m,
            name: month_name(m).into(),
            score,
            reason: format!("<b>reason {m}</b>"),
            mean_temp_c: 10.0,
        }
    }

    #[test]
    fn the_months_chart_has_twelve_bars_and_three_on_top() {
        let mut months: Vec<MonthScore> = (1..=12).map(|m| month(m, f64::from(m) * 8.0)).collect();
        months.sort_by(|a, b| b.score.total_cmp(&a.score));
        let html = months_html(Some(&months));
        assert_eq!(html.matches("<rect class=\"bar").count(), 12, "{html}");
        assert_eq!(html.matches("class=\"bar top\"").count(), 3, "{html}");
        for m in [10, 11, 12] {
            assert!(
                html.contains(&format!("class=\"bar top\" data-month=\"{m}\"")),
                "{html}"
            );
        }
        assert!(html.contains("id=\"months-chart\" role=\"img\" aria-label=\"Comfort"));
        // Reasons are escaped.
        assert!(html.contains("&#60;b&#62;reason 12&#60;/b&#62;"), "{html}");
        assert!(!html.contains("<b>"));
        assert_eq!(html.matches("<li>").count(), 3);
        assert!(months_html(None).contains("Waiting for the weather agent"));
    }

    #[test]
    fn map_data_names_the_hotel_and_colours_the_days() {
        let data = map_data(None, None, None);
        assert_eq!(data["hotel"], Value::Null);
        assert_eq!(data["days"], json!([]));
        assert_eq!(data["tile_url"], Value::Null);
        assert_eq!(data["attribution"], OSM_ATTRIBUTION);
    }

    #[test]
    fn progress_shows_status_and_elapsed() {
        let mut agents: [AgentProgress; 4] = Default::default();
        agents[0] = AgentProgress {
            state: AgentState::Done,
            elapsed_ms: Some(1234),
            started: None,
        };
        // A page loaded while an agent runs shows its time so far, which its clock goes on
        // from (not from zero).
        agents[2] = AgentProgress {
            state: AgentState::Running,
            elapsed_ms: None,
            started: std::time::Instant::now().checked_sub(std::time::Duration::from_secs(42)),
        };
        let mut errors: [Option<String>; 4] = Default::default();
        errors[1] = Some("no hotel <matched>".into());
        let html = progress_html(&agents, &errors, true, None);
        assert!(
            html.contains("data-agent=\"weather\" data-status=\"done\"><span class=\"agent-name\">Weather</span> <span class=\"agent-status\">Done</span>"),
            "{html}"
        );
        assert!(
            html.contains(
                "<span class=\"agent-status\">Working…</span> <span class=\"agent-elapsed\">42."
            ),
            "{html}"
        );
        assert!(
            html.contains("<span class=\"agent-elapsed\">1.2 s</span>"),
            "{html}"
        );
        assert!(html.contains("data-agent=\"summary\" data-status=\"waiting\""));
        assert!(!html.contains("hidden"));
        assert!(
            !html.contains("agent-error"),
            "only a failed agent shows its error"
        );
        agents[1].state = AgentState::Failed;
        let html = progress_html(&agents, &errors, false, None);
        assert!(html.contains("id=\"cancel\" hidden"));
        assert!(
            html.contains("<span class=\"agent-error\">no hotel &#60;matched&#62;</span>"),
            "{html}"
        );
    }
}
