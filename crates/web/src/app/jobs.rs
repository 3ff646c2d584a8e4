//! Plans being made: an in-memory registry of jobs, each with the log of the SSE events sent
//! so far (a late subscriber replays it, then follows live), its state, the parts of the plan
//! known so far and the handle that cancels it. Finished jobs are dropped after a while; the
//! plans themselves are in the store.
//!
//! A subscriber reads the log by index and waits on a `watch` channel that counts pushes, so
//! it never lags behind or loses an event, however slow it reads.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use chrono::NaiveDate;
use futures::Stream;
use serde_json::{Value, json};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::task::AbortHandle;
use tripwright_agents::{AgentEvent, AgentName, AgentOutput, AgentStatus};
use tripwright_domain::{Destination, Plan, TripRequest};

use super::error::WebError;
use super::view::{AgentProgress, ItineraryMode, Parts, SectionBody, all_sections};

/// One SSE event: its name and its one-line JSON data.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SseMsg {
    /// `agent`, `text`, `section`, `done`, `failed` or `cancelled`.
    pub(crate) event: &'static str,
    /// The JSON data.
    pub(crate) data: String,
}

impl SseMsg {
    fn new(event: &'static str, data: &Value) -> Arc<Self> {
        Arc::new(Self {
            event,
            data: data.to_string(),
        })
    }

    /// Whether the stream ends after this event.
    pub(crate) fn is_terminal(&self) -> bool {
        matches!(self.event, "done" | "failed" | "cancelled")
    }
}

/// Where a job stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum JobState {
    /// The agents are working (or a day is being rewritten).
    Running,
    /// The plan is made and saved.
    Done,
    /// It failed; the message is for the user.
    Failed(String),
    /// The user cancelled it.
    Cancelled,
}

impl JobState {
    /// The name the page's `data-state` uses.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            JobState::Running => "running",
            JobState::Done => "done",
            JobState::Failed(_) => "failed",
            JobState::Cancelled => "cancelled",
        }
    }
}

/// What rendering a section needs beyond the plan.
#[derive(Debug, Clone, Default)]
pub(crate) struct RenderCtx {
    /// A tile server URL template, when one is configured.
    pub(crate) tile_url: Option<String>,
}

/// The mutable part of a job.
#[derive(Debug)]
pub(crate) struct Inner {
    /// Where it stands.
    pub(crate) state: JobState,
    log: Vec<Arc<SseMsg>>,
    /// Bumped when the log starts over (a day being rewritten): old subscribers stop.
    epoch: u64,
    /// Each agent's progress, in page order.
    pub(crate) agents: [AgentProgress; 4],
    /// The parts known so far.
    pub(crate) parts: Parts,
    /// The finished plan.
    pub(crate) plan: Option<Plan>,
    abort: Option<AbortHandle>,
    finished_at: Option<Instant>,
    /// The owner's page of the finished plan as last rendered (see [`Inner::cached_page`]).
    page: Option<CachedPage>,
}

/// A rendered page and what it was rendered from: the log's epoch and length (every change
/// to a job pushes an event) and the viewer's CSRF token (the page's forms carry it).
#[derive(Debug)]
struct CachedPage {
    epoch: u64,
    events: usize,
    csrf: String,
    body: Bytes,
}

impl Inner {
    /// The page last kept with [`Inner::keep_page`], when the job is done, nothing has
    /// changed since and it was rendered for the same CSRF token.
    pub(crate) fn cached_page(&self, csrf: &str) -> Option<Bytes> {
        let page = self.page.as_ref()?;
        (self.state == JobState::Done
            && page.epoch == self.epoch
            && page.events == self.log.len()
            && page.csrf == csrf)
            .then(|| page.body.clone())
    }

    /// Keeps the page just rendered for a done job (others change as they run).
    pub(crate) fn keep_page(&mut self, csrf: &str, body: Bytes) {
        if self.state == JobState::Done {
            self.page = Some(CachedPage {
                epoch: self.epoch,
                events: self.log.len(),
                csrf: csrf.to_owned(),
                body,
            });
        }
    }
}

/// One plan being made (or made recently).
#[derive(Debug)]
pub(crate) struct Job {
    /// The plan's id.
    pub(crate) id: String,
    /// The user who asked for it.
    pub(crate) owner: String,
    /// What was asked.
    pub(crate) request: TripRequest,
    /// Where, geocoded before the job started.
    pub(crate) destination: Destination,
    /// The currency sections show prices in until the summary says otherwise.
    currency: String,
    inner: Mutex<Inner>,
    notify: watch::Sender<u64>,
}

fn agent_index(agent: AgentName) -> usize {
    match agent {
        AgentName::Weather => 0,
        AgentName::Hotels => 1,
        AgentName::Itinerary => 2,
        AgentName::Summary => 3,
    }
}

fn agent_key(agent: AgentName) -> &'static str {
    super::view::AGENTS[agent_index(agent)].0
}

/// The URL of a plan's page.
pub(crate) fn plan_url(id: &str) -> String {
    format!("/plans/{id}")
}

/// The URL of a plan's event stream.
pub(crate) fn events_url(id: &str) -> String {
    format!("/api/plans/{id}/events")
}

impl Job {
    /// A running job with an empty log.
    pub(crate) fn new(
        id: String,
        owner: String,
        request: TripRequest,
        destination: Destination,
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
            currency,
            inner: Mutex::new(Inner {
                state: JobState::Running,
                log: Vec::new(),
                epoch: 0,
                agents: Default::default(),
                parts: Parts::default(),
                plan: None,
                abort: None,
                finished_at: None,
                page: None,
            }),
            notify: watch::channel(0).0,
        })
    }

    /// A job for a plan that is already made (a cache hit, or a saved plan being rewritten):
    /// its log holds the finished plan's events.
    pub(crate) fn finished(owner: String, plan: Plan, ctx: &RenderCtx) -> Arc<Self> {
        let job = Self::new(
            plan.id.clone(),
            owner,
            plan.request.clone(),
            plan.destination.clone(),
        );
        {
            let mut inner = job.lock();
            for (i, (key, _)) in super::view::AGENTS.iter().enumerate() {
                inner.agents[i] = AgentProgress {
                    status: "done",
                    elapsed_ms: Some(0),
                };
                let data = json!({"agent": key, "status": "done", "elapsed_ms": 0, "error": null});
                job.push(&mut inner, "agent", &data);
            }
            job.complete(&mut inner, plan, ctx);
        }
        job
    }

    /// The mutable part, locked. A panic while it was held leaves consistent data (every
    /// write is a whole assignment), so a poisoned lock is used as it is.
    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn push(&self, inner: &mut Inner, event: &'static str, data: &Value) {
        inner.log.push(SseMsg::new(event, data));
        self.notify.send_modify(|n| *n += 1);
    }

    fn push_sections(&self, inner: &mut Inner, ctx: &RenderCtx, only: &[&str], day: Option<u8>) {
        let currency = inner
            .parts
            .summary
            .as_ref()
            .map_or(self.currency.as_str(), |s| s.cost.currency.as_str())
            .to_owned();
        let mode = ItineraryMode {
            editable: true,
            live: inner.state == JobState::Running,
        };
        for (name, body) in all_sections(&inner.parts, &currency, mode, ctx.tile_url.as_deref()) {
            if !only.is_empty() && !only.contains(&name) {
                continue;
            }
            let mut data = match body {
                SectionBody::Html(html) => json!({"section": name, "html": html}),
                SectionBody::Data(data) => json!({"section": name, "data": data}),
            };
            if let Some(day) = day {
                data["day"] = json!(day);
            }
            self.push(inner, "section", &data);
        }
    }

    /// Records the handle that cancels the job's task.
    pub(crate) fn set_abort(&self, handle: AbortHandle) {
        self.lock().abort = Some(handle);
    }

    /// Turns an orchestrator event into SSE events.
    pub(crate) fn on_agent_event(&self, ev: AgentEvent, ctx: &RenderCtx) {
        let mut inner = self.lock();
        if inner.state != JobState::Running {
            return;
        }
        let i = agent_index(ev.agent);
        let agent = agent_key(ev.agent);
        match ev.status {
            AgentStatus::Started => {
                inner.agents[i] = AgentProgress {
                    status: "running",
                    elapsed_ms: None,
                };
                let data =
                    json!({"agent": agent, "status": "running", "elapsed_ms": 0, "error": null});
                self.push(&mut inner, "agent", &data);
            }
            AgentStatus::Finished { elapsed_ms } => {
                inner.agents[i] = AgentProgress {
                    status: "done",
                    elapsed_ms: Some(elapsed_ms),
                };
                let data = json!({"agent": agent, "status": "done", "elapsed_ms": elapsed_ms, "error": null});
                self.push(&mut inner, "agent", &data);
            }
            AgentStatus::Failed { elapsed_ms, error } => {
                inner.agents[i] = AgentProgress {
                    status: "failed",
                    elapsed_ms: Some(elapsed_ms),
                };
                let data = json!({"agent": agent, "status": "failed", "elapsed_ms": elapsed_ms, "error": error});
                self.push(&mut inner, "agent", &data);
            }
            AgentStatus::Text { day, text } => {
                let data = json!({"agent": agent, "day": day, "text": text});
                self.push(&mut inner, "text", &data);
            }
            AgentStatus::Output { output } => {
                let only: &[&str] = match *output {
                    AgentOutput::Months(m) => {
                        inner.parts.months = Some(m);
                        &["months"]
                    }
                    AgentOutput::Hotels(h) => {
                        inner.parts.hotels = Some(h);
                        &["hotels", "map"]
                    }
                    AgentOutput::Itinerary(it) => {
                        inner.parts.itinerary = Some(it);
                        &["map", "itinerary"]
                    }
                    AgentOutput::Summary(s) => {
                        inner.parts.summary = Some(s);
                        &["summary"]
                    }
                };
                self.push_sections(&mut inner, ctx, only, None);
            }
        }
    }

    fn complete(&self, inner: &mut Inner, plan: Plan, ctx: &RenderCtx) {
        inner.parts = Parts::of(&plan);
        inner.state = JobState::Done;
        inner.abort = None;
        inner.finished_at = Some(Instant::now());
        self.push_sections(inner, ctx, &[], None);
        let data = json!({"id": plan.id, "url": plan_url(&plan.id)});
        inner.plan = Some(plan);
        self.push(inner, "done", &data);
    }

    /// The plan is made and saved: final sections, then `done`. Ignored when the job was
    /// cancelled meanwhile.
    pub(crate) fn finish(&self, plan: Plan, ctx: &RenderCtx) {
        let mut inner = self.lock();
        if inner.state == JobState::Running {
            self.complete(&mut inner, plan, ctx);
        }
    }

    /// The plan failed: `failed` with the user's message.
    pub(crate) fn fail(&self, message: String) {
        let mut inner = self.lock();
        if inner.state != JobState::Running {
            return;
        }
        inner.state = JobState::Failed(message.clone());
        inner.abort = None;
        inner.finished_at = Some(Instant::now());
        self.push(&mut inner, "failed", &json!({"message": message}));
    }

    /// Cancels a running job: its task is aborted (the language model with it) and the
    /// stream ends with `cancelled`. False when it was not running.
    pub(crate) fn cancel(&self) -> bool {
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
            inner.agents[2].status = "done";
        } else {
            inner.state = JobState::Cancelled;
            for a in &mut inner.agents {
                if a.status == "running" {
                    a.status = "failed";
                }
            }
        }
        self.push(&mut inner, "cancelled", &json!({}));
        true
    }

    /// Starts rewriting day `day` of the finished plan: the log starts over with the
    /// itinerary agent running. Returns the plan, or why it cannot be done now.
    pub(crate) fn begin_rewrite(&self, day: u8) -> Result<Plan, WebError> {
        let mut inner = self.lock();
        let plan = match (&inner.state, &inner.plan) {
            (JobState::Done, Some(plan)) => plan.clone(),
            (JobState::Running, _) => {
                return Err(WebError::conflict(
                    "plan_running",
                    "the plan is still being made; wait until it is done",
                ));
            }
            _ => return Err(WebError::not_found("plan")),
        };
        if !plan.itinerary.days.iter().any(|d| d.day == day) {
            return Err(WebError::bad_request(
                "day_out_of_range",
                format!(
                    "the plan has days 1 to {}, not day {day}",
                    plan.itinerary.days.len()
                ),
            ));
        }
        inner.state = JobState::Running;
        inner.epoch += 1;
        inner.log.clear();
        inner.finished_at = None;
        inner.agents[2] = AgentProgress {
            status: "running",
            elapsed_ms: None,
        };
        let data = json!({"agent": "itinerary", "status": "running", "elapsed_ms": 0, "error": null, "day": day});
        self.push(&mut inner, "agent", &data);
        Ok(plan)
    }

    /// Streamed text of a day being rewritten.
    pub(crate) fn rewrite_text(&self, day: u8, text: &str) {
        let mut inner = self.lock();
        if inner.state == JobState::Running {
            let data = json!({"agent": "itinerary", "day": day, "text": text});
            self.push(&mut inner, "text", &data);
        }
    }

    /// Ends a rewrite: the itinerary agent's status, the day's section (the whole itinerary,
    /// with `"day"` naming the rewritten one), then `done`. `plan` is the plan to show (the
    /// rewritten one, or the old one when the rewrite failed with `error`).
    pub(crate) fn end_rewrite(
        &self,
        day: u8,
        plan: Plan,
        elapsed_ms: u64,
        error: Option<String>,
        ctx: &RenderCtx,
    ) {
        let mut inner = self.lock();
        if inner.state != JobState::Running {
            return;
        }
        let status = if error.is_some() { "failed" } else { "done" };
        inner.agents[2] = AgentProgress {
            status,
            elapsed_ms: Some(elapsed_ms),
        };
        let data = json!({"agent": "itinerary", "status": status, "elapsed_ms": elapsed_ms, "error": error, "day": day});
        self.push(&mut inner, "agent", &data);
        inner.parts = Parts::of(&plan);
        inner.state = JobState::Done;
        inner.finished_at = Some(Instant::now());
        inner.abort = None;
        self.push_sections(
            &mut inner,
            ctx,
            &["itinerary", "map", "warnings"],
            Some(day),
        );
        let data = json!({"id": plan.id, "url": plan_url(&plan.id)});
        inner.plan = Some(plan);
        self.push(&mut inner, "done", &data);
    }

    /// The events so far, then the live ones, until a terminal event (or the log starting
    /// over for a rewrite).
    pub(crate) fn subscribe(self: &Arc<Self>) -> impl Stream<Item = Arc<SseMsg>> + Send + 'static {
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
                    if let Some(msg) = inner.log.get(pos).cloned() {
                        drop(inner);
                        pos += 1;
                        let end = msg.is_terminal();
                        return Some((msg, (job, rx, pos, end)));
                    }
                    if inner.state != JobState::Running {
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

/// The registry of jobs.
pub(crate) struct Jobs {
    map: Mutex<HashMap<String, Arc<Job>>>,
    permits: Arc<Semaphore>,
    ttl: Duration,
    max_jobs: usize,
}

impl Jobs {
    /// A registry running at most `max_running` jobs at once, keeping at most `max_jobs`
    /// and dropping finished ones after `ttl`.
    pub(crate) fn new(max_running: usize, max_jobs: usize, ttl: Duration) -> Self {
        Self {
            map: Mutex::new(HashMap::new()),
            permits: Arc::new(Semaphore::new(max_running.max(1))),
            ttl,
            max_jobs: max_jobs.max(1),
        }
    }

    fn map(&self) -> MutexGuard<'_, HashMap<String, Arc<Job>>> {
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A slot for one more running job, or 503 "busy".
    pub(crate) fn permit(&self) -> Result<OwnedSemaphorePermit, WebError> {
        Arc::clone(&self.permits)
            .try_acquire_owned()
            .map_err(|_| WebError::busy())
    }

    /// The job of plan `id`, if it is (still) registered.
    pub(crate) fn get(&self, id: &str) -> Option<Arc<Job>> {
        self.map().get(id).cloned()
    }

    /// Registers a job, first dropping finished jobs past their time, then (when still
    /// full) the oldest finished ones. 503 when every slot holds a running job.
    pub(crate) fn insert(&self, job: Arc<Job>) -> Result<(), WebError> {
        let mut map = self.map();
        let now = Instant::now();
        map.retain(|_, j| {
            j.lock()
                .finished_at
                .is_none_or(|t| now.duration_since(t) < self.ttl)
        });
        while map.len() >= self.max_jobs {
            let oldest = map
                .iter()
                .filter_map(|(id, j)| j.lock().finished_at.map(|t| (t, id.clone())))
                .min();
            match oldest {
                Some((_, id)) => {
                    map.remove(&id);
                }
                None => return Err(WebError::busy()),
            }
        }
        map.insert(job.id.clone(), job);
        Ok(())
    }

    /// How many jobs are registered.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.map().len()
    }
}

/// Recently made plans by request and day: an identical request on the same day is answered
/// with a copy (new id, new time), without running the agents again.
pub(crate) struct PlanCache {
    entries: Mutex<VecDeque<(String, Plan)>>,
    capacity: usize,
}

impl PlanCache {
    /// A cache of at most `capacity` plans (0 turns it off).
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            entries: Mutex::new(VecDeque::new()),
            capacity,
        }
    }

    /// The cache key: the request's canonical JSON (fields in declaration order, defaults
    /// filled in) and the day.
    pub(crate) fn key(request: &TripRequest, today: NaiveDate) -> String {
        let json = serde_json::to_string(request).unwrap_or_default();
        format!("{today}|{json}")
    }

    fn entries(&self) -> MutexGuard<'_, VecDeque<(String, Plan)>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The cached plan for `key`.
    pub(crate) fn get(&self, key: &str) -> Option<Plan> {
        self.entries()
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, p)| p.clone())
    }

    /// Remembers `plan` under `key`, forgetting the oldest entry when full.
    pub(crate) fn put(&self, key: String, plan: Plan) {
        if self.capacity == 0 {
            return;
        }
        let mut entries = self.entries();
        entries.retain(|(k, _)| *k != key);
        while entries.len() >= self.capacity {
            entries.pop_front();
        }
        entries.push_back((key, plan));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::StreamExt;

    fn dest() -> Destination {
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

    fn job() -> Arc<Job> {
        Job::new(
            "id-1".into(),
            "owner".into(),
            TripRequest::new("Helsinki"),
            dest(),
        )
    }

    #[tokio::test]
    async fn a_late_subscriber_replays_then_follows_live_until_the_end() {
        let job = job();
        let ctx = RenderCtx::default();
        job.on_agent_event(
            AgentEvent {
                agent: AgentName::Weather,
                status: AgentStatus::Started,
            },
            &ctx,
        );
        let stream = job.subscribe();
        let reader = tokio::spawn(async move { stream.collect::<Vec<_>>().await });
        tokio::task::yield_now().await;
        job.on_agent_event(
            AgentEvent {
                agent: AgentName::Weather,
                status: AgentStatus::Text {
                    day: Some(1),
                    text: "<i>hi</i>".into(),
                },
            },
            &ctx,
        );
        assert!(job.cancel());
        assert!(!job.cancel(), "a second cancel changes nothing");
        // Events after the end are refused.
        job.fail("late".into());
        let got = reader.await.expect("reader");
        let names: Vec<&str> = got.iter().map(|m| m.event).collect();
        assert_eq!(names, ["agent", "text", "cancelled"]);
        let text: Value = serde_json::from_str(&got[1].data).expect("json");
        assert_eq!(
            text,
            json!({"agent": "weather", "day": 1, "text": "<i>hi</i>"})
        );
        assert_eq!(job.lock().state, JobState::Cancelled);
        // A subscriber after the end gets the whole log at once.
        let again: Vec<_> = job.subscribe().collect().await;
        assert_eq!(again.len(), 3);
    }

    #[test]
    fn the_registry_drops_finished_jobs_first_and_refuses_when_all_run() {
        let jobs = Jobs::new(2, 2, Duration::from_secs(600));
        let a = job();
        let b = Job::new("id-2".into(), "o".into(), TripRequest::new("Rome"), dest());
        let c = Job::new("id-3".into(), "o".into(), TripRequest::new("Oslo"), dest());
        jobs.insert(Arc::clone(&a)).expect("room");
        jobs.insert(Arc::clone(&b)).expect("room");
        assert_eq!(jobs.insert(Arc::clone(&c)).expect_err("full").code, "busy");
        a.fail("x".into());
        jobs.insert(c).expect("the finished job makes room");
        assert!(jobs.get("id-1").is_none());
        assert!(jobs.get("id-3").is_some());
        assert_eq!(jobs.len(), 2);
        let p1 = jobs.permit().expect("one");
        let _p2 = jobs.permit().expect("two");
        assert_eq!(jobs.permit().expect_err("three").code, "busy");
        drop(p1);
        assert!(jobs.permit().is_ok());
    }

    #[test]
    fn a_kept_page_is_served_until_the_job_changes() {
        let job = job();
        let page = Bytes::from_static(b"<p>the plan</p>");
        let mut inner = job.lock();
        inner.keep_page("t1", page.clone());
        assert_eq!(
            inner.cached_page("t1"),
            None,
            "a running job's page changes"
        );
        inner.state = JobState::Done;
        inner.keep_page("t1", page.clone());
        assert_eq!(inner.cached_page("t1"), Some(page.clone()));
        assert_eq!(inner.cached_page("t2"), None, "another viewer's token");
        // Any change to a job pushes an event: the kept page is stale.
        job.push(&mut inner, "section", &json!({}));
        assert_eq!(inner.cached_page("t1"), None);
        inner.keep_page("t1", page.clone());
        assert_eq!(inner.cached_page("t1"), Some(page.clone()));
        // A rewrite starts the log over (as long as it was): stale too.
        inner.epoch += 1;
        assert_eq!(inner.cached_page("t1"), None);
        inner.keep_page("t1", page.clone());
        inner.state = JobState::Running;
        assert_eq!(
            inner.cached_page("t1"),
            None,
            "not while a day is rewritten"
        );
    }

    #[test]
    fn cache_keys_depend_on_the_request_and_the_day() {
        let day = NaiveDate::from_ymd_opt(2026, 6, 6).expect("date");
        let next = NaiveDate::from_ymd_opt(2026, 6, 7).expect("date");
        let a = TripRequest::new("Helsinki");
        let mut b = a.clone();
        b.days = 3;
        assert_eq!(PlanCache::key(&a, day), PlanCache::key(&a.clone(), day));
        assert_ne!(PlanCache::key(&a, day), PlanCache::key(&b, day));
        assert_ne!(PlanCache::key(&a, day), PlanCache::key(&a, next));
    }
}
