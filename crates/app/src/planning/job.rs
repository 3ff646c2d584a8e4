//! One plan being made (or made recently): its state, each agent's progress, the parts of the
//! plan known so far, and the log of [`PlanEvent`]s sent so far. A late subscriber replays the
//! log, then follows live; it waits on a `watch` channel that counts pushes, so it never lags
//! behind or loses an event, however slowly it reads.
//!
//! Events are typed values, not rendered text: each front end renders them its own way (the
//! web app's JSON stream and its live page, the CLI's progress lines).

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use futures::Stream;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc::UnboundedSender;
use tokio::sync::watch;
use tokio::task::AbortHandle;
use tripwright_agents::prose::{Slot, TextEvent};
use tripwright_agents::{AgentEvent, AgentName, AgentOutput, AgentStatus};
use tripwright_domain::{
    Check, Destination, Hotel, Itinerary, MonthScore, OwnerId, Plan, PlanId, Summary, TripRequest,
};

use tripwright_store::StoppedPlan;

use crate::AppError;

/// The agents in the order front ends show them.
pub const AGENTS: [AgentName; 4] = [
    AgentName::Weather,
    AgentName::Hotels,
    AgentName::Itinerary,
    AgentName::Summary,
];

/// Where an agent stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgentState {
    /// Not started yet.
    #[default]
    Waiting,
    /// Working.
    Running,
    /// Finished.
    Done,
    /// Failed (the plan goes on without it), or stopped by a cancel.
    Failed,
}

/// One agent's progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AgentProgress {
    /// Where it stands.
    pub state: AgentState,
    /// Wall time once finished.
    pub elapsed_ms: Option<u64>,
    /// When it started, while it runs (a page loaded mid-way shows its time so far).
    pub started: Option<Instant>,
}

impl AgentProgress {
    /// Milliseconds so far: the final time once finished, the time since it started while
    /// it runs.
    pub fn elapsed_so_far(&self) -> Option<u64> {
        self.elapsed_ms.or_else(|| {
            self.started
                .map(|s| u64::try_from(s.elapsed().as_millis()).unwrap_or(u64::MAX))
        })
    }
}

/// A part of a plan a front end shows on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Section {
    /// The 12 months ranked.
    Months,
    /// The hotels.
    Hotels,
    /// The map (hotel and stops).
    Map,
    /// The days.
    Itinerary,
    /// The summary and cost.
    Summary,
    /// The feasibility report.
    Checks,
    /// The warnings.
    Warnings,
}

impl Section {
    /// Every section, in page order.
    pub const ALL: [Section; 7] = [
        Section::Months,
        Section::Hotels,
        Section::Map,
        Section::Itinerary,
        Section::Summary,
        Section::Checks,
        Section::Warnings,
    ];
}

/// The parts of a plan known so far (all of them once it is done).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Parts {
    /// The months, once ranked.
    pub months: Option<Vec<MonthScore>>,
    /// The hotels, once found.
    pub hotels: Option<Vec<Hotel>>,
    /// The days, first without prose, then with it.
    pub itinerary: Option<Itinerary>,
    /// The summary and cost.
    pub summary: Option<Summary>,
    /// The feasibility report (only of a finished plan).
    pub checks: Option<Vec<Check>>,
    /// The warnings (of a finished plan).
    pub warnings: Vec<String>,
    /// Where its places came from (of a finished plan).
    pub sources: Vec<tripwright_domain::PlaceSource>,
    /// The currency prices are shown in: the request's, else the destination's, until the
    /// summary says which one the costs are in.
    pub currency: String,
}

impl Parts {
    /// All parts of a finished plan.
    pub fn of(plan: &Plan) -> Self {
        Self {
            months: Some(plan.best_months.clone()),
            hotels: Some(plan.hotels.clone()),
            itinerary: Some(plan.itinerary.clone()),
            summary: Some(plan.summary.clone()),
            checks: Some(plan.checks.clone()),
            warnings: plan.warnings.clone(),
            sources: plan.sources.clone(),
            currency: plan.summary.cost.currency.clone(),
        }
    }
}

/// What happened to a job, in order. The stream of a job ends with `Done`, `Failed` or
/// `Cancelled` (or when the log starts over for a day being rewritten).
///
/// A plan's events are kept in the store as they happen (JSON, tagged by `event`), so any
/// replica can replay and follow them, and one that claims the plan after its maker died can
/// pick its state up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum PlanEvent {
    /// An agent started, finished or failed.
    Agent {
        /// Which agent.
        agent: AgentName,
        /// Where it stands now.
        state: AgentState,
        /// Wall time so far (0 when it starts).
        elapsed_ms: u64,
        /// Why it failed, for the user.
        error: Option<String>,
        /// The day being rewritten, for a rewrite's events.
        day: Option<u8>,
    },
    /// Generated text as it streams: a piece appended to a slot, or (`replace`) the slot's
    /// whole new text (a refused attempt is replaced by the next; the kept text last).
    Text {
        /// Which agent writes it.
        agent: AgentName,
        /// Where it goes: a day's intro, a stop's note, the summary.
        slot: Slot,
        /// The text.
        text: String,
        /// Whether it replaces the slot's text.
        replace: bool,
    },
    /// Some sections changed: the parts as they are now, and which sections show them.
    Sections {
        /// What to show again.
        sections: Vec<Section>,
        /// The parts at that moment.
        parts: Arc<Parts>,
        /// The day that was rewritten, for a rewrite's sections.
        day: Option<u8>,
    },
    /// How far the writing of the texts is, and how long it has taken so far.
    Writing(Writing),
    /// News for the user while the plan is made: "Fetching places near Rome from
    /// OpenStreetMap…".
    Notice {
        /// What is happening, in words.
        message: String,
    },
    /// The plan is made and saved (or a day was rewritten).
    Done {
        /// The plan.
        id: PlanId,
    },
    /// The plan failed; the message is for the user.
    Failed {
        /// What happened.
        message: String,
    },
    /// The user cancelled it.
    Cancelled,
}

impl PlanEvent {
    /// Whether the stream ends after this event.
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            PlanEvent::Done { .. } | PlanEvent::Failed { .. } | PlanEvent::Cancelled
        )
    }
}

/// Where a job stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobState {
    /// The agents are working (or a day is being rewritten).
    Running,
    /// The plan is made and saved.
    Done,
    /// It failed; the message is for the user.
    Failed(String),
    /// The user cancelled it.
    Cancelled,
}

/// Identifies what a job looked like: any change to it pushes an event, and a rewrite starts
/// the log over, so two equal versions mean nothing changed in between (front ends key
/// their rendered pages by it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct JobVersion {
    /// How many times the log started over.
    pub epoch: u64,
    /// Events in the log.
    pub events: usize,
}

/// A consistent copy of a job's state.
#[derive(Debug, Clone)]
pub struct JobSnapshot {
    /// Where it stands.
    pub state: JobState,
    /// How far the writing of the texts is, while they are written.
    pub writing: Option<Writing>,
    /// Each agent's progress, in [`AGENTS`] order.
    pub agents: [AgentProgress; 4],
    /// The parts known.
    pub parts: Arc<Parts>,
    /// The finished plan (also while a day of it is rewritten).
    pub plan: Option<Arc<Plan>>,
    /// What it looked like.
    pub version: JobVersion,
}

/// How far the writing of a plan's texts is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Writing {
    /// Texts written.
    pub done: usize,
    /// Texts to write.
    pub total: usize,
    /// Milliseconds since the first text was started.
    pub elapsed_ms: u64,
}

impl Writing {
    /// Seconds left at the pace so far (the engine's measured speed on this plan), once one
    /// text is written.
    pub fn seconds_left(&self) -> Option<u64> {
        (self.done > 0 && self.done < self.total).then(|| {
            let per_text = self.elapsed_ms as f64 / self.done as f64;
            ((per_text * (self.total - self.done) as f64) / 1000.0).ceil() as u64
        })
    }
}

/// The mutable part of a job.
#[derive(Debug)]
struct Inner {
    state: JobState,
    log: Vec<Arc<PlanEvent>>,
    /// Bumped when the log starts over (a day being rewritten): old subscribers stop.
    epoch: u64,
    /// How far the writing is, and when it started.
    writing: Option<Writing>,
    writing_started: Option<Instant>,
    agents: [AgentProgress; 4],
    parts: Arc<Parts>,
    plan: Option<Arc<Plan>>,
    abort: Option<AbortHandle>,
    finished_at: Option<Instant>,
    /// Where each new event also goes while the plan is made: the writer of its log in the
    /// store.
    sink: Option<UnboundedSender<Arc<PlanEvent>>>,
    /// Followed from the store: another replica makes the plan.
    mirror: bool,
    /// Let go by this replica (handed back to the store's queue): streams end after the log.
    released: bool,
}

/// One plan being made, or made recently.
#[derive(Debug)]
pub struct PlanJob {
    /// The plan's id.
    pub id: PlanId,
    /// Who asked for it.
    pub owner: OwnerId,
    /// What was asked.
    pub request: TripRequest,
    /// Where, geocoded before the job started.
    pub destination: Destination,
    /// When the job was made (a running plan's age, listed in "My plans").
    pub started_at: chrono::DateTime<chrono::Utc>,
    inner: Mutex<Inner>,
    notify: watch::Sender<u64>,
    /// Held while the plan is changed (an edit, an undo, a new name): two changes at once
    /// would each start from the same plan, and the first would be lost.
    pub(crate) changing: tokio::sync::Mutex<()>,
}

/// The agents still running when the plan stopped: stopped, with the time they ran.
fn stop_running(agents: &mut [AgentProgress; 4]) {
    for a in agents {
        if a.state == AgentState::Running {
            a.state = AgentState::Failed;
            a.elapsed_ms = a.elapsed_so_far();
            a.started = None;
        }
    }
}

fn agent_index(agent: AgentName) -> usize {
    match agent {
        AgentName::Weather => 0,
        AgentName::Hotels => 1,
        AgentName::Itinerary => 2,
        AgentName::Summary => 3,
    }
}

impl PlanJob {
    /// A running job with an empty log.
    pub(crate) fn new(
        id: PlanId,
        owner: OwnerId,
        request: TripRequest,
        destination: Destination,
    ) -> Arc<Self> {
        Self::asked_at(id, owner, request, destination, chrono::Utc::now())
    }

    /// A running job with an empty log, asked for at `started_at` (a job claimed from the
    /// store keeps its first time).
    pub(crate) fn asked_at(
        id: PlanId,
        owner: OwnerId,
        request: TripRequest,
        destination: Destination,
        started_at: chrono::DateTime<chrono::Utc>,
    ) -> Arc<Self> {
        let currency = request
            .currency
            .clone()
            .unwrap_or_else(|| destination.currency.clone())
            .to_ascii_uppercase();
        Arc::new(Self {
            id,
            owner,
            request,
            destination,
            started_at,
            inner: Mutex::new(Inner {
                state: JobState::Running,
                log: Vec::new(),
                epoch: 0,
                writing: None,
                writing_started: None,
                agents: Default::default(),
                parts: Arc::new(Parts {
                    currency,
                    ..Parts::default()
                }),
                plan: None,
                abort: None,
                finished_at: None,
                sink: None,
                mirror: false,
                released: false,
            }),
            notify: watch::channel(0).0,
            changing: tokio::sync::Mutex::new(()),
        })
    }

    /// A job for a plan that is already made (a cache hit, a saved plan opened again, a
    /// shared plan): its log holds the finished plan's events.
    pub fn finished(owner: OwnerId, plan: Plan) -> Arc<Self> {
        let job = Self::new(
            plan.id.clone(),
            owner,
            plan.request.clone(),
            plan.destination.clone(),
        );
        {
            let mut inner = job.lock();
            for agent in AGENTS {
                inner.agents[agent_index(agent)] = AgentProgress {
                    state: AgentState::Done,
                    elapsed_ms: Some(0),
                    started: None,
                };
                job.push(
                    &mut inner,
                    PlanEvent::Agent {
                        agent,
                        state: AgentState::Done,
                        elapsed_ms: 0,
                        error: None,
                        day: None,
                    },
                );
            }
            job.complete(&mut inner, plan);
        }
        job
    }

    /// A job for a plan that stopped before it was made, from its stored record: its log
    /// ends as the job's did, `Failed` with the message or `Cancelled`.
    pub fn stopped(stopped: StoppedPlan) -> Arc<Self> {
        let job = Self::new(
            stopped.id,
            stopped.owner,
            stopped.request,
            stopped.destination,
        );
        {
            let mut inner = job.lock();
            inner.finished_at = Some(Instant::now());
            match stopped.message {
                Some(message) => {
                    inner.state = JobState::Failed(message.clone());
                    job.push(&mut inner, PlanEvent::Failed { message });
                }
                None => {
                    inner.state = JobState::Cancelled;
                    job.push(&mut inner, PlanEvent::Cancelled);
                }
            }
        }
        job
    }

    /// The record of this job if it stopped before its plan was made (failed or cancelled),
    /// so that its address still says why after the job has left memory.
    pub(crate) fn stopped_record(&self) -> Option<StoppedPlan> {
        let inner = self.lock();
        let message = match &inner.state {
            JobState::Failed(m) => Some(m.clone()),
            JobState::Cancelled => None,
            JobState::Running | JobState::Done => return None,
        };
        if inner.plan.is_some() {
            return None;
        }
        Some(StoppedPlan {
            id: self.id.clone(),
            owner: self.owner.clone(),
            stopped_at: chrono::Utc::now(),
            request: self.request.clone(),
            destination: self.destination.clone(),
            message,
        })
    }

    /// The mutable part, locked. A panic while it was held leaves consistent data (every
    /// write is a whole assignment), so a poisoned lock is used as it is.
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn push(&self, inner: &mut Inner, event: PlanEvent) {
        let event = Arc::new(event);
        if let Some(sink) = &inner.sink {
            // A writer that stopped (its lease was lost) takes no more: the job goes on here.
            let _ = sink.send(Arc::clone(&event));
        }
        inner.log.push(event);
        self.notify.send_modify(|n| *n += 1);
    }

    /// Sends every event from now on to `sink` too (the writer of the job's log in the
    /// store); returns the number the next event has in the log.
    pub(crate) fn attach_sink(&self, sink: UnboundedSender<Arc<PlanEvent>>) -> u64 {
        let mut inner = self.lock();
        inner.sink = Some(sink);
        inner.log.len() as u64
    }

    /// Stops sending events to the store's log (the writer then writes what it holds and
    /// ends).
    pub(crate) fn detach_sink(&self) {
        self.lock().sink = None;
    }

    /// Whether another replica makes this plan and this job follows its log in the store.
    pub fn is_mirror(&self) -> bool {
        self.lock().mirror
    }

    /// Marks the job as following another replica's work ([`PlanJob::is_mirror`]).
    pub(crate) fn set_mirror(&self, mirror: bool) {
        self.lock().mirror = mirror;
    }

    /// Events in the current log.
    pub(crate) fn logged(&self) -> u64 {
        self.lock().log.len() as u64
    }

    /// Takes in an event made elsewhere (replayed from the store's log, or followed live): the
    /// job's state follows it as it followed the event's maker. `plan` is the saved plan,
    /// for a `Done`. Ignored once the job stopped.
    pub(crate) fn apply(&self, event: PlanEvent, plan: Option<Plan>) {
        let mut inner = self.lock();
        if inner.state != JobState::Running {
            return;
        }
        match &event {
            PlanEvent::Agent {
                agent,
                state,
                elapsed_ms,
                ..
            } => {
                let running = *state == AgentState::Running;
                inner.agents[agent_index(*agent)] = AgentProgress {
                    state: *state,
                    elapsed_ms: (!running && *state != AgentState::Waiting).then_some(*elapsed_ms),
                    started: running.then(Instant::now),
                };
            }
            PlanEvent::Sections { parts, .. } => inner.parts = Arc::clone(parts),
            PlanEvent::Writing(w) => inner.writing = Some(*w),
            PlanEvent::Text { .. } | PlanEvent::Notice { .. } => {}
            PlanEvent::Done { .. } => {
                inner.state = JobState::Done;
                inner.finished_at = Some(Instant::now());
                if let Some(plan) = plan {
                    inner.parts = Arc::new(Parts::of(&plan));
                    inner.plan = Some(Arc::new(plan));
                }
            }
            PlanEvent::Failed { message } => {
                inner.state = JobState::Failed(message.clone());
                inner.finished_at = Some(Instant::now());
                stop_running(&mut inner.agents);
            }
            PlanEvent::Cancelled => {
                inner.state = JobState::Cancelled;
                inner.finished_at = Some(Instant::now());
                stop_running(&mut inner.agents);
            }
        }
        self.push(&mut inner, event);
    }

    /// Starts the plan over (the replica making it died or shut down, and this one makes it
    /// again): the agents wait again, every section shows nothing yet (so the text already
    /// streamed is cleared, not added to), and `message` says why.
    pub(crate) fn restart(&self, message: String) {
        let mut inner = self.lock();
        if inner.state != JobState::Running {
            return;
        }
        for agent in AGENTS {
            let i = agent_index(agent);
            if inner.agents[i].state != AgentState::Waiting {
                inner.agents[i] = AgentProgress::default();
                self.push(
                    &mut inner,
                    PlanEvent::Agent {
                        agent,
                        state: AgentState::Waiting,
                        elapsed_ms: 0,
                        error: None,
                        day: None,
                    },
                );
            }
        }
        inner.writing = None;
        inner.writing_started = None;
        inner.parts = Arc::new(Parts {
            currency: inner.parts.currency.clone(),
            ..Parts::default()
        });
        self.push_sections(&mut inner, Section::ALL.to_vec(), None);
        self.push(&mut inner, PlanEvent::Notice { message });
    }

    /// Ends every stream following this job here after the events so far, without a last
    /// event (this replica hands the plan back to be finished elsewhere): a client reconnects
    /// and follows it there. The task is stopped.
    pub(crate) fn let_go(&self) {
        let mut inner = self.lock();
        if let Some(handle) = inner.abort.take() {
            handle.abort();
        }
        inner.sink = None;
        inner.released = true;
        inner.finished_at = Some(Instant::now());
        self.notify.send_modify(|n| *n += 1);
    }

    fn push_sections(&self, inner: &mut Inner, sections: Vec<Section>, day: Option<u8>) {
        let parts = Arc::clone(&inner.parts);
        self.push(
            inner,
            PlanEvent::Sections {
                sections,
                parts,
                day,
            },
        );
    }

    /// A consistent copy of the job's state.
    pub fn snapshot(&self) -> JobSnapshot {
        let inner = self.lock();
        JobSnapshot {
            writing: inner
                .writing
                .filter(|w| inner.state == JobState::Running && w.done < w.total),
            state: inner.state.clone(),
            agents: inner.agents,
            parts: Arc::clone(&inner.parts),
            plan: inner.plan.clone(),
            version: JobVersion {
                epoch: inner.epoch,
                events: inner.log.len(),
            },
        }
    }

    /// Where the job stands.
    pub fn state(&self) -> JobState {
        self.lock().state.clone()
    }

    /// The finished plan, when there is one.
    pub fn plan(&self) -> Option<Arc<Plan>> {
        self.lock().plan.clone()
    }

    /// When the job stopped running, if it has.
    pub(crate) fn finished_at(&self) -> Option<Instant> {
        self.lock().finished_at
    }

    /// Records the handle that cancels the job's task.
    pub(crate) fn set_abort(&self, handle: AbortHandle) {
        self.lock().abort = Some(handle);
    }

    /// Turns an orchestrator event into the job's events.
    pub(crate) fn on_agent_event(&self, ev: AgentEvent) {
        let mut inner = self.lock();
        if inner.state != JobState::Running {
            return;
        }
        let i = agent_index(ev.agent);
        let (state, elapsed_ms, error) = match ev.status {
            AgentStatus::Started => (AgentState::Running, None, None),
            AgentStatus::Finished { elapsed_ms } => (AgentState::Done, Some(elapsed_ms), None),
            AgentStatus::Failed { elapsed_ms, error } => {
                (AgentState::Failed, Some(elapsed_ms), Some(error))
            }
            AgentStatus::Writing { done, total } => {
                let started = *inner.writing_started.get_or_insert_with(Instant::now);
                let writing = Writing {
                    done,
                    total,
                    elapsed_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
                };
                inner.writing = Some(writing);
                self.push(&mut inner, PlanEvent::Writing(writing));
                return;
            }
            AgentStatus::Text {
                slot,
                text,
                replace,
            } => {
                // The writing's clock starts with its first piece of text.
                inner.writing_started.get_or_insert_with(Instant::now);
                self.push(
                    &mut inner,
                    PlanEvent::Text {
                        agent: ev.agent,
                        slot,
                        text,
                        replace,
                    },
                );
                return;
            }
            AgentStatus::Output { output } => {
                let mut parts = (*inner.parts).clone();
                let sections = match *output {
                    AgentOutput::Months(m) => {
                        parts.months = Some(m);
                        vec![Section::Months]
                    }
                    AgentOutput::Hotels(h) => {
                        parts.hotels = Some(h);
                        vec![Section::Hotels, Section::Map]
                    }
                    AgentOutput::Itinerary(it) => {
                        parts.itinerary = Some(it);
                        vec![Section::Map, Section::Itinerary]
                    }
                    AgentOutput::Summary(s) => {
                        parts.currency = s.cost.currency.clone();
                        parts.summary = Some(s);
                        vec![Section::Summary]
                    }
                };
                inner.parts = Arc::new(parts);
                self.push_sections(&mut inner, sections, None);
                return;
            }
        };
        if let Some(ms) = elapsed_ms {
            let agent = ev.agent.as_str();
            let outcome = if state == AgentState::Done {
                "done"
            } else {
                "failed"
            };
            metrics::counter!("tripwright_agent_runs_total", "agent" => agent, "outcome" => outcome)
                .increment(1);
            metrics::histogram!("tripwright_agent_duration_seconds", "agent" => agent)
                .record(ms as f64 / 1000.0);
        }
        inner.agents[i] = AgentProgress {
            state,
            elapsed_ms,
            started: (state == AgentState::Running).then(Instant::now),
        };
        self.push(
            &mut inner,
            PlanEvent::Agent {
                agent: ev.agent,
                state,
                elapsed_ms: elapsed_ms.unwrap_or(0),
                error,
                day: None,
            },
        );
    }

    fn complete(&self, inner: &mut Inner, plan: Plan) {
        metrics::counter!("tripwright_plans_total", "outcome" => "done").increment(1);
        inner.parts = Arc::new(Parts::of(&plan));
        inner.state = JobState::Done;
        inner.abort = None;
        inner.finished_at = Some(Instant::now());
        self.push_sections(inner, Section::ALL.to_vec(), None);
        let id = plan.id.clone();
        inner.plan = Some(Arc::new(plan));
        self.push(inner, PlanEvent::Done { id });
    }

    /// Tells everyone following the job what is happening (while it runs).
    pub(crate) fn notice(&self, message: String) {
        let mut inner = self.lock();
        if inner.state == JobState::Running {
            self.push(&mut inner, PlanEvent::Notice { message });
        }
    }

    /// The plan is made and saved: every section, then `Done`. Ignored when the job was
    /// cancelled meanwhile.
    pub(crate) fn finish(&self, plan: Plan) {
        let mut inner = self.lock();
        if inner.state == JobState::Running {
            self.complete(&mut inner, plan);
        }
    }

    /// The plan failed: `Failed` with the user's message. A day being rewritten instead ends
    /// the rewrite with the plan as it was.
    pub(crate) fn fail(&self, message: String) {
        let mut inner = self.lock();
        if inner.state != JobState::Running {
            return;
        }
        // The task (if it still runs: a deadline or a shutdown) stops with its job.
        if let Some(handle) = inner.abort.take() {
            handle.abort();
        }
        if let Some(plan) = inner.plan.clone() {
            let day = inner.log.iter().find_map(|e| match **e {
                PlanEvent::Agent { day, .. } => day,
                _ => None,
            });
            drop(inner);
            self.end_rewrite(day.unwrap_or(1), (*plan).clone(), 0, Some(message));
            return;
        }
        metrics::counter!("tripwright_plans_total", "outcome" => "failed").increment(1);
        inner.state = JobState::Failed(message.clone());
        inner.finished_at = Some(Instant::now());
        stop_running(&mut inner.agents);
        self.push(&mut inner, PlanEvent::Failed { message });
    }

    /// Cancels a running job: its task is aborted (the language model with it) and the
    /// stream ends with `Cancelled`. False when it was not running.
    pub fn cancel(&self) -> bool {
        let mut inner = self.lock();
        if inner.state != JobState::Running {
            return false;
        }
        if let Some(handle) = inner.abort.take() {
            handle.abort();
        }
        inner.finished_at = Some(Instant::now());
        if inner.plan.is_some() {
            // A day being rewritten: the saved plan stays as it was.
            inner.state = JobState::Done;
            inner.agents[agent_index(AgentName::Itinerary)].state = AgentState::Done;
        } else {
            metrics::counter!("tripwright_plans_total", "outcome" => "cancelled").increment(1);
            inner.state = JobState::Cancelled;
            stop_running(&mut inner.agents);
        }
        self.push(&mut inner, PlanEvent::Cancelled);
        true
    }

    /// Starts rewriting day `day` of the finished plan: the log starts over with the
    /// itinerary agent running. Returns the plan.
    pub(crate) fn begin_rewrite(&self, day: u8) -> Result<Plan, AppError> {
        let mut inner = self.lock();
        let plan = match (&inner.state, &inner.plan) {
            (JobState::Done, Some(plan)) => (**plan).clone(),
            (JobState::Running, _) => return Err(AppError::PlanRunning),
            _ => return Err(AppError::NotFound(crate::Missing::Plan)),
        };
        if !plan.itinerary.days.iter().any(|d| d.day == day) {
            return Err(AppError::NoSuchDay {
                day,
                days: plan.itinerary.days.len(),
            });
        }
        inner.state = JobState::Running;
        inner.epoch += 1;
        inner.log.clear();
        inner.finished_at = None;
        inner.agents[agent_index(AgentName::Itinerary)] = AgentProgress {
            state: AgentState::Running,
            elapsed_ms: None,
            started: Some(Instant::now()),
        };
        self.push(
            &mut inner,
            PlanEvent::Agent {
                agent: AgentName::Itinerary,
                state: AgentState::Running,
                elapsed_ms: 0,
                error: None,
                day: Some(day),
            },
        );
        Ok(plan)
    }

    /// Streamed text of a day being rewritten.
    pub(crate) fn rewrite_text(&self, event: TextEvent<'_>) {
        let mut inner = self.lock();
        if inner.state == JobState::Running {
            self.push(
                &mut inner,
                PlanEvent::Text {
                    agent: AgentName::Itinerary,
                    slot: event.slot,
                    text: event.text.to_owned(),
                    replace: event.replace,
                },
            );
        }
    }

    /// Ends a rewrite: the itinerary agent's state, the sections that show the day (with
    /// `day` naming it), then `Done`. `plan` is the plan to show (the rewritten one, or the
    /// old one when the rewrite failed with `error`).
    pub(crate) fn end_rewrite(&self, day: u8, plan: Plan, elapsed_ms: u64, error: Option<String>) {
        let mut inner = self.lock();
        if inner.state != JobState::Running {
            return;
        }
        let state = if error.is_some() {
            AgentState::Failed
        } else {
            AgentState::Done
        };
        inner.agents[agent_index(AgentName::Itinerary)] = AgentProgress {
            state,
            elapsed_ms: Some(elapsed_ms),
            started: None,
        };
        self.push(
            &mut inner,
            PlanEvent::Agent {
                agent: AgentName::Itinerary,
                state,
                elapsed_ms,
                error,
                day: Some(day),
            },
        );
        inner.parts = Arc::new(Parts::of(&plan));
        inner.state = JobState::Done;
        inner.finished_at = Some(Instant::now());
        inner.abort = None;
        self.push_sections(
            &mut inner,
            vec![Section::Itinerary, Section::Map, Section::Warnings],
            Some(day),
        );
        let id = plan.id.clone();
        inner.plan = Some(Arc::new(plan));
        self.push(&mut inner, PlanEvent::Done { id });
    }

    /// Shows an edited (or undone) plan: the log starts over with the sections that show the
    /// stops, then `Done`, so open pages swap them in. Refused while the plan is being made.
    pub(crate) fn replace_plan(&self, plan: Plan) -> Result<(), AppError> {
        let mut inner = self.lock();
        match inner.state {
            JobState::Done => {}
            JobState::Running => return Err(AppError::PlanRunning),
            _ => return Err(AppError::NotFound(crate::Missing::Plan)),
        }
        inner.epoch += 1;
        inner.log.clear();
        inner.parts = Arc::new(Parts::of(&plan));
        self.push_sections(
            &mut inner,
            vec![
                Section::Itinerary,
                Section::Map,
                Section::Summary,
                Section::Checks,
                Section::Warnings,
            ],
            None,
        );
        let id = plan.id.clone();
        inner.plan = Some(Arc::new(plan));
        self.push(&mut inner, PlanEvent::Done { id });
        Ok(())
    }

    /// The events so far, then the live ones, until a terminal event (or the log starting
    /// over for a rewrite).
    pub fn subscribe(self: &Arc<Self>) -> impl Stream<Item = Arc<PlanEvent>> + Send + 'static {
        let rx = self.notify.subscribe();
        let epoch = self.lock().epoch;
        let state = (Arc::clone(self), rx, 0usize, false);
        futures::stream::unfold(state, move |(job, mut rx, mut pos, ended)| async move {
            if ended {
                return None;
            }
            loop {
                {
                    let inner = job.lock();
                    if inner.epoch != epoch {
                        return None;
                    }
                    if let Some(event) = inner.log.get(pos).cloned() {
                        drop(inner);
                        pos += 1;
                        let end = event.is_terminal();
                        return Some((event, (job, rx, pos, end)));
                    }
                    if inner.state != JobState::Running || inner.released {
                        return None;
                    }
                }
                if rx.changed().await.is_err() {
                    return None;
                }
            }
        })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use futures::StreamExt;

    pub(crate) fn dest() -> Destination {
        Destination {
            name: "Helsinki".into(),
            country: "Finland".into(),
            country_code: "FI".into(),
            lat: 60.17,
            lon: 24.94,
            population: 600_000,
            timezone: "Europe/Helsinki".into(),
            currency: "EUR".into(),
            geoname_id: 658_225,
        }
    }

    pub(crate) fn job(id: &str) -> Arc<PlanJob> {
        PlanJob::new(
            PlanId::new(id),
            OwnerId::new("owner"),
            TripRequest::new("Helsinki"),
            dest(),
        )
    }

    #[tokio::test]
    async fn a_late_subscriber_replays_then_follows_live_until_the_end() {
        let job = job("id-1");
        job.on_agent_event(AgentEvent {
            agent: AgentName::Weather,
            status: AgentStatus::Started,
        });
        let stream = job.subscribe();
        let reader = tokio::spawn(async move { stream.collect::<Vec<_>>().await });
        tokio::task::yield_now().await;
        job.on_agent_event(AgentEvent {
            agent: AgentName::Weather,
            status: AgentStatus::Text {
                slot: Slot::Note { day: 1, stop: 0 },
                text: "<i>hi</i>".into(),
                replace: false,
            },
        });
        assert!(job.cancel());
        assert!(!job.cancel(), "a second cancel changes nothing");
        // Events after the end are refused.
        job.fail("late".into());
        let got = reader.await.expect("reader");
        assert_eq!(got.len(), 3);
        assert!(matches!(
            *got[0],
            PlanEvent::Agent {
                agent: AgentName::Weather,
                state: AgentState::Running,
                ..
            }
        ));
        assert_eq!(
            *got[1],
            PlanEvent::Text {
                agent: AgentName::Weather,
                slot: Slot::Note { day: 1, stop: 0 },
                text: "<i>hi</i>".into(),
                replace: false,
            }
        );
        assert_eq!(*got[2], PlanEvent::Cancelled);
        assert_eq!(job.state(), JobState::Cancelled);
        assert_eq!(
            job.snapshot().agents[0].state,
            AgentState::Failed,
            "a cancelled agent shows as stopped"
        );
        // A subscriber after the end gets the whole log at once.
        let again: Vec<_> = job.subscribe().collect().await;
        assert_eq!(again.len(), 3);
    }

    #[test]
    fn any_change_makes_a_new_version() {
        let job = job("id-1");
        let v0 = job.snapshot().version;
        assert_eq!(job.snapshot().version, v0, "nothing changed");
        job.on_agent_event(AgentEvent {
            agent: AgentName::Hotels,
            status: AgentStatus::Started,
        });
        let v1 = job.snapshot().version;
        assert_ne!(v1, v0);
        job.fail("broken".into());
        assert_ne!(job.snapshot().version, v1);
        assert_eq!(job.state(), JobState::Failed("broken".into()));
    }
}
