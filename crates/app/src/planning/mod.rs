//! Planning: starting plans (or answering from the cache), following their progress,
//! cancelling them, rewriting one day's text, saved plans and share links.
//!
//! Every plan runs as a task under a supervisor that holds its slot until it ends, so a plan
//! whose task panics is marked failed with a message, a plan that runs past its deadline is
//! stopped and marked failed, and the registry never keeps a dead "running" entry.

mod job;
mod queue;
mod registry;

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use rand::RngCore as _;
use tokio::sync::OwnedSemaphorePermit;
use tokio::sync::mpsc::UnboundedSender;
use tripwright_agents::{AgentError, AgentEvent, Orchestrator};
use tripwright_data::gazetteer::Gazetteer;
use tripwright_domain::{OwnerId, Plan, PlanId, TripRequest};
use tripwright_store::{JobRecord, JobStatus, JobStore, PlanStore, PlanSummary};

pub use job::{
    AGENTS, AgentProgress, AgentState, JobSnapshot, JobState, JobVersion, Parts, PlanEvent,
    PlanJob, Section, Writing,
};
pub use queue::{HANDED_BACK_MESSAGE, RESTARTED_MESSAGE};
use queue::{MAX_ATTEMPTS, Queue};
use registry::{Jobs, PlanCache};
/// A change to a finished plan.
pub use tripwright_agents::editing::PlanEdit;
/// Where streamed prose goes: a day's intro, a stop's note, the summary.
pub use tripwright_agents::prose::Slot;

use crate::regions::OnDemand;
use crate::{AppError, Missing, Quota};

/// How many plans run at once, how many are kept in memory and for how long, how many are
/// cached, and how long one may run.
#[derive(Debug, Clone, Copy)]
pub struct PlannerLimits {
    /// Plans made at the same time (beyond: [`AppError::Busy`]).
    pub max_running: usize,
    /// Jobs kept in memory (running and recently finished).
    pub max_jobs: usize,
    /// How long a finished job stays in memory (its plan stays in the store).
    pub job_ttl: Duration,
    /// Plans remembered for identical requests on the same day (0: off).
    pub plan_cache: usize,
    /// Longest a plan (or a day's rewrite) may run before it is stopped and marked failed.
    pub deadline: Duration,
    /// Plans one owner may start in 24 hours (0: no limit).
    pub plans_per_day: u32,
    /// How long the plans of anonymous requesters are kept (`None`: for ever).
    pub anonymous_keep: Option<Duration>,
    /// How long a replica's claim on a plan it makes holds without being renewed (it is
    /// renewed every third of it): how soon another replica finishes the plan of one that
    /// died.
    pub lease: Duration,
}

impl Default for PlannerLimits {
    fn default() -> Self {
        Self {
            max_running: 4,
            max_jobs: 256,
            job_ttl: Duration::from_secs(600),
            plan_cache: 64,
            deadline: Duration::from_secs(30 * 60),
            plans_per_day: 100,
            anonymous_keep: Some(Duration::from_secs(7 * 24 * 3600)),
            lease: Duration::from_secs(15),
        }
    }
}

/// What the planner's tasks share.
pub(crate) struct Shared {
    orchestrator: Arc<Orchestrator>,
    gazetteer: Arc<Gazetteer>,
    plans: Arc<dyn PlanStore>,
    /// Fetches a destination's places when the store has too few.
    on_demand: OnDemand,
    jobs: Jobs,
    cache: PlanCache,
    deadline: Duration,
    plans_per_day: u32,
    anonymous_keep: Option<Duration>,
    /// Set by [`Planner::shut_down`]: no new plans.
    closing: AtomicBool,
    /// The plans being made, in the store.
    queue: Queue,
}

/// How long the address of a plan that stopped before it was made keeps saying why.
const STOPPED_KEEP: chrono::Duration = chrono::Duration::days(7);

/// What a plan that stopped its servers too often says.
pub const GIVEN_UP_MESSAGE: &str = "the servers making this plan stopped several times while making it; please plan it again, perhaps with fewer days";

/// The planning use cases. Cheap to clone.
#[derive(Clone)]
pub struct Planner {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Planner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Planner")
            .field("deadline", &self.shared.deadline)
            .finish_non_exhaustive()
    }
}

/// A random URL-safe token of 144 bits (for share links).
fn random_token() -> String {
    let mut bytes = [0u8; 18];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

impl Planner {
    /// A planner over the orchestrator and the plan store.
    pub(crate) fn new(
        orchestrator: Arc<Orchestrator>,
        gazetteer: Arc<Gazetteer>,
        plans: Arc<dyn PlanStore>,
        jobs: Arc<dyn JobStore>,
        on_demand: OnDemand,
        limits: PlannerLimits,
    ) -> Self {
        Self {
            shared: Arc::new(Shared {
                orchestrator,
                gazetteer,
                plans,
                on_demand,
                jobs: Jobs::new(limits.max_running, limits.max_jobs, limits.job_ttl),
                cache: PlanCache::new(limits.plan_cache),
                deadline: limits.deadline,
                plans_per_day: limits.plans_per_day,
                anonymous_keep: limits.anonymous_keep,
                closing: AtomicBool::new(false),
                queue: Queue::new(jobs, limits.lease),
            }),
        }
    }

    /// Validates and geocodes `req` (refusing it with the reason), then starts making the
    /// plan for `owner`, or answers from the plan cache. Returns the job to follow. The plan
    /// is kept for ever; an owner may start [`PlannerLimits::plans_per_day`] a day.
    pub async fn start(&self, owner: &OwnerId, req: TripRequest) -> Result<Arc<PlanJob>, AppError> {
        self.start_kept(owner, req, None).await
    }

    /// [`Planner::start`] for a requester who will not be back as the same owner (an API
    /// client without a cookie): the plan is deleted after
    /// [`PlannerLimits::anonymous_keep`].
    pub async fn start_anonymous(
        &self,
        owner: &OwnerId,
        req: TripRequest,
    ) -> Result<Arc<PlanJob>, AppError> {
        let until = self
            .shared
            .anonymous_keep
            .and_then(|keep| chrono::Duration::from_std(keep).ok())
            .and_then(|keep| Utc::now().checked_add_signed(keep));
        self.start_kept(owner, req, until).await
    }

    async fn start_kept(
        &self,
        owner: &OwnerId,
        req: TripRequest,
        expires: Option<DateTime<Utc>>,
    ) -> Result<Arc<PlanJob>, AppError> {
        let shared = &self.shared;
        if shared.closing.load(Ordering::Relaxed) {
            return Err(AppError::Busy);
        }
        // The wishes are the traveller's words: the log's redaction layer keeps any e-mail
        // address or phone number in them out of the log.
        tracing::debug!(owner = ?owner, destination = %req.destination, days = req.days, prefs = %req.prefs, "plan requested");
        req.validate()?;
        let destination = shared.gazetteer.geocode(&req.destination)?;
        if shared.plans_per_day > 0 {
            let since = Utc::now() - chrono::Duration::hours(24);
            let made = shared.plans.owned_plans_since(owner, since).await?;
            if made >= u64::from(shared.plans_per_day) {
                return Err(AppError::Quota(Quota::PlansPerDay(shared.plans_per_day)));
            }
        }
        let id = PlanId::random();
        let key = PlanCache::key(&req, Utc::now().date_naive());
        let cached = shared.cache.get(&key);
        metrics::counter!(
            "tripwright_plan_cache_total",
            "result" => if cached.is_some() { "hit" } else { "miss" },
        )
        .increment(1);
        if let Some(mut plan) = cached {
            plan.id = id;
            plan.created_at = Utc::now();
            save(shared, owner, &plan, expires).await?;
            let job = PlanJob::finished(owner.clone(), plan);
            shared.jobs.insert(Arc::clone(&job))?;
            return Ok(job);
        }
        let permit = shared.jobs.permit()?;
        let job = PlanJob::new(id, owner.clone(), req.clone(), destination.clone());
        shared.jobs.insert(Arc::clone(&job))?;
        let record = JobRecord {
            id: job.id.clone(),
            owner: owner.clone(),
            request: req,
            destination,
            cache_key: key,
            started_at: job.started_at,
            expires,
            attempt: 1,
        };
        if let Err(e) = shared
            .queue
            .store
            .start_job(&record, &shared.queue.worker, shared.queue.lease)
            .await
        {
            shared.jobs.remove(&job.id);
            return Err(e.into());
        }
        self.run(Arc::clone(&job), record, permit, false);
        Ok(job)
    }

    /// Makes the plan of `record` for `job`, which this replica holds: its events go to the
    /// store's log too, and its lease is renewed while it runs. `restart`: the log holds an
    /// earlier attempt's events, which the plan starts over from.
    fn run(
        &self,
        job: Arc<PlanJob>,
        record: JobRecord,
        permit: OwnedSemaphorePermit,
        restart: bool,
    ) {
        let writer = log_to_store(&self.shared, &job, record.attempt);
        if restart {
            job.restart(RESTARTED_MESSAGE.to_owned());
        }
        let attempt = record.attempt;
        let task = {
            let shared = Arc::clone(&self.shared);
            let job = Arc::clone(&job);
            async move {
                make_owned(
                    &shared,
                    job,
                    record.request,
                    record.cache_key,
                    record.expires,
                )
                .await;
            }
        };
        self.supervise(job, permit, task, Some((attempt, writer)));
    }

    /// Claims the plans this replica can make (handed back by a replica that shut down, or
    /// left by one that died) for as long as the server runs: at once when another replica
    /// says one was handed back, and every half lease. For the server (`tripwright serve`);
    /// returns when [`Planner::shut_down`] begins.
    pub async fn run_queue(&self) {
        let shared = &self.shared;
        let _listening = queue::listen(Arc::clone(shared)).await;
        while !shared.closing.load(Ordering::Relaxed) {
            while !shared.closing.load(Ordering::Relaxed) {
                let Ok(permit) = shared.jobs.permit() else {
                    break;
                };
                match shared
                    .queue
                    .store
                    .claim_job(&shared.queue.worker, shared.queue.lease)
                    .await
                {
                    Ok(Some(record)) => self.resume(record, permit).await,
                    Ok(None) => break,
                    Err(e) => {
                        tracing::warn!(error = %e, "could not look for plans to make");
                        break;
                    }
                }
            }
            tokio::select! {
                () = shared.queue.wake.notified() => {}
                () = tokio::time::sleep(shared.queue.lease / 2) => {}
            }
        }
    }

    /// Makes a plan this replica claimed: its log so far is replayed, then the plan starts
    /// over (or, claimed too often, fails).
    async fn resume(&self, record: JobRecord, permit: OwnedSemaphorePermit) {
        let shared = &self.shared;
        tracing::info!(plan = %record.id, attempt = record.attempt, "claimed a plan another replica left");
        metrics::counter!("tripwright_jobs_reclaimed_total").increment(1);
        let job = PlanJob::asked_at(
            record.id.clone(),
            record.owner.clone(),
            record.request.clone(),
            record.destination.clone(),
            record.started_at,
        );
        if let Err(e) = queue::catch_up(shared, &job, 0).await {
            tracing::warn!(plan = %job.id, error = %e, "a claimed plan's log could not be read; handing it back");
            release(shared, &job, record.attempt).await;
            return;
        }
        if job.state() != JobState::Running {
            // Its maker logged its end, then died before it could say so: it is ended.
            release(shared, &job, record.attempt).await;
            return;
        }
        if shared.jobs.insert(Arc::clone(&job)).is_err() {
            // Every slot holds a running plan: another replica (or this one, later) takes it.
            release(shared, &job, record.attempt).await;
            return;
        }
        if record.attempt > MAX_ATTEMPTS {
            let writer = log_to_store(shared, &job, record.attempt);
            job.fail(GIVEN_UP_MESSAGE.to_owned());
            keep_stopped(shared.plans.as_ref(), &job).await;
            job.detach_sink();
            let _ = writer.await;
            release(shared, &job, record.attempt).await;
            return;
        }
        let restart = job.logged() > 0;
        self.run(job, record, permit, restart);
    }

    /// Stops taking plans, gives the ones it makes up to `wait` to finish, then hands the
    /// rest back to the store's queue, saying so to everyone following them
    /// ([`HANDED_BACK_MESSAGE`]), for another replica (or this server, started again) to make
    /// from the start. Their streams here end without a last event: a client reconnects and
    /// follows the plan wherever it is made. A day being rewritten is not in the store: it is
    /// stopped, and the plan stays as it was. For a server's shutdown.
    pub async fn shut_down(&self, wait: Duration) {
        let shared = &self.shared;
        shared.closing.store(true, Ordering::Relaxed);
        shared.queue.wake.notify_one();
        let until = Instant::now() + wait;
        loop {
            let running: Vec<_> = shared
                .jobs
                .running()
                .into_iter()
                .filter(|j| !j.is_mirror())
                .collect();
            if running.is_empty() {
                break;
            }
            if Instant::now() >= until {
                tracing::warn!(
                    plans = running.len(),
                    "handing back the plans still running"
                );
                for job in running {
                    if job.plan().is_some() {
                        job.fail("the server was restarted; the day keeps its text".into());
                    } else {
                        job.notice(HANDED_BACK_MESSAGE.to_owned());
                        job.let_go();
                    }
                }
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        // Each supervisor gives its slot back once the plan's log is written and the job
        // ended or handed back.
        if tokio::time::timeout(Duration::from_secs(10), shared.jobs.all_idle())
            .await
            .is_err()
        {
            tracing::warn!("some plans were still being handed back when the server stopped");
        }
    }

    /// Makes, checks and saves a plan without an owner (the CLI's), sending the agents'
    /// progress to `events` as it happens.
    pub async fn make(
        &self,
        req: TripRequest,
        events: Option<UnboundedSender<AgentEvent>>,
    ) -> Result<Plan, AppError> {
        self.make_telling(req, events, |_| {}).await
    }

    /// [`Planner::make`], telling `notice` what it waits for first, if anything ("Fetching
    /// places near Rome from OpenStreetMap…").
    ///
    /// # Errors
    /// As [`Planner::make`].
    pub async fn make_telling(
        &self,
        req: TripRequest,
        events: Option<UnboundedSender<AgentEvent>>,
        notice: impl FnOnce(&str),
    ) -> Result<Plan, AppError> {
        let fetched = match self.shared.gazetteer.geocode(&req.destination) {
            Ok(dest) => {
                self.shared
                    .on_demand
                    .ensure(&dest, || notice(&fetching_message(&dest)))
                    .await
            }
            Err(_) => Ok(0),
        };
        let mut plan = self
            .shared
            .orchestrator
            .make_plan(req, events, PlanId::random())
            .await?;
        plan.warnings.extend(fetched.err());
        self.shared.plans.save_plan(&plan).await?;
        Ok(plan)
    }

    /// Runs `task` (a plan or a rewrite of `job`) under a supervisor that keeps `permit`
    /// until the task ends, marks the job failed when the task panics, and stops it at the
    /// deadline.
    ///
    /// `lease`: the claim this replica holds on the plan in the store, with the writer of its
    /// log. The lease is renewed while the task runs; once it ends, the log is written to its
    /// end, and the job is ended in the store (or handed back, when the server let it go).
    fn supervise(
        &self,
        job: Arc<PlanJob>,
        permit: OwnedSemaphorePermit,
        task: impl Future<Output = ()> + Send + 'static,
        lease: Option<(u32, tokio::task::JoinHandle<()>)>,
    ) {
        let handle = tokio::spawn(task);
        let abort = handle.abort_handle();
        job.set_abort(abort.clone());
        let deadline = self.shared.deadline;
        let shared = Arc::clone(&self.shared);
        let renewing = lease.as_ref().map(|(attempt, _)| {
            tokio::spawn(queue::keep_lease(
                Arc::clone(&shared),
                Arc::clone(&job),
                *attempt,
            ))
        });
        let supervising = self.shared.jobs.supervising();
        tokio::spawn(async move {
            let _supervising = supervising;
            let running = metrics::gauge!("tripwright_plans_running");
            running.increment(1.0);
            let ended = tokio::time::timeout(deadline, handle).await;
            running.decrement(1.0);
            match ended {
                Ok(Ok(())) => {}
                Ok(Err(e)) if e.is_panic() => {
                    tracing::error!(plan = %job.id, "a plan's task panicked");
                    job.fail("an internal error stopped this plan; please try again".into());
                    keep_stopped(shared.plans.as_ref(), &job).await;
                }
                // Aborted by a cancel, which has recorded it.
                Ok(Err(_)) => {}
                Err(_) => {
                    abort.abort();
                    tracing::warn!(plan = %job.id, ?deadline, "a plan ran past its deadline");
                    job.fail(format!(
                        "the plan took longer than {} minutes and was stopped; try again, perhaps with fewer days",
                        deadline.as_secs().div_ceil(60)
                    ));
                    keep_stopped(shared.plans.as_ref(), &job).await;
                }
            }
            // The slot is free once the work is: what is left is bookkeeping.
            drop(permit);
            if let Some(renewing) = renewing {
                renewing.abort();
            }
            if let Some((attempt, writer)) = lease {
                job.detach_sink();
                let _ = writer.await;
                release(&shared, &job, attempt).await;
            }
        });
    }

    /// The job of `owner`'s plan `id`: the registered one, or one made from the saved plan.
    /// Anyone else's plan, and unknown ones, are [`AppError::NotFound`].
    pub async fn owned(&self, owner: &OwnerId, id: &PlanId) -> Result<Arc<PlanJob>, AppError> {
        let shared = &self.shared;
        if let Some(job) = shared.jobs.get(id) {
            return if job.owner == *owner {
                Ok(job)
            } else {
                Err(AppError::NotFound(Missing::Plan))
            };
        }
        if shared.plans.plan_owner(id).await?.as_ref() != Some(owner) {
            // A plan that stopped before it was made still says why.
            if let Some(stopped) = shared.plans.stopped_plan(id).await? {
                return if stopped.owner == *owner {
                    let job = PlanJob::stopped(stopped);
                    let _ = shared.jobs.insert(Arc::clone(&job));
                    Ok(job)
                } else {
                    Err(AppError::NotFound(Missing::Plan))
                };
            }
            // A plan another replica is making (or will make again) is followed from its log.
            return match shared.queue.store.job(id).await? {
                Some((record, status)) if record.owner == *owner && status != JobStatus::Ended => {
                    self.follow(record).await
                }
                _ => Err(AppError::NotFound(Missing::Plan)),
            };
        }
        let plan = shared
            .plans
            .plan(id)
            .await?
            .ok_or(AppError::NotFound(Missing::Plan))?;
        let job = PlanJob::finished(owner.clone(), plan);
        // Registered again, so that the next request needs no store round trip; when every
        // slot holds a running plan it is simply not kept.
        let _ = shared.jobs.insert(Arc::clone(&job));
        Ok(job)
    }

    /// A job following the log of a plan another replica makes: what it shows so far at
    /// once, then each event as it is logged.
    async fn follow(&self, record: JobRecord) -> Result<Arc<PlanJob>, AppError> {
        let shared = &self.shared;
        let job = PlanJob::asked_at(
            record.id,
            record.owner,
            record.request,
            record.destination,
            record.started_at,
        );
        job.set_mirror(true);
        let from = queue::catch_up(shared, &job, 0).await?;
        let known = shared.jobs.insert_unless_known(Arc::clone(&job));
        if !Arc::ptr_eq(&known, &job) {
            // Claimed here meanwhile (or followed by another request): that job it is.
            return Ok(known);
        }
        if job.state() == JobState::Running {
            tokio::spawn(queue::follow(Arc::clone(shared), Arc::clone(&job), from));
        }
        Ok(job)
    }

    /// `owner`'s finished plan `id`: [`AppError::PlanNotDone`] while it is being made,
    /// [`AppError::NotFound`] when it is not theirs, or failed, or was cancelled (it never
    /// will be a plan).
    pub async fn finished(&self, owner: &OwnerId, id: &PlanId) -> Result<Arc<Plan>, AppError> {
        let job = self.owned(owner, id).await?;
        match (job.state(), job.plan()) {
            (JobState::Done, Some(plan)) => Ok(plan),
            (JobState::Running, _) => Err(AppError::PlanNotDone),
            _ => Err(AppError::NotFound(Missing::Plan)),
        }
    }

    /// Cancels `owner`'s running plan `id`.
    pub async fn cancel(&self, owner: &OwnerId, id: &PlanId) -> Result<(), AppError> {
        let job = self.owned(owner, id).await?;
        if job.is_mirror() {
            // Made by another replica: it cancels it when it next renews its lease.
            return if job.state() == JobState::Running
                && self.shared.queue.store.request_job_cancel(id).await?
            {
                Ok(())
            } else {
                Err(AppError::NotRunning)
            };
        }
        if job.cancel() {
            keep_stopped(self.shared.plans.as_ref(), &job).await;
            Ok(())
        } else {
            Err(AppError::NotRunning)
        }
    }

    /// Deletes `owner`'s plan `id` (a made plan, or one that stopped before it was made): it
    /// disappears from the list, its page and its share link at once, and is removed for
    /// good after [`DELETE_UNDO`] unless [`Planner::restore`] brings it back. A plan being
    /// made is refused (cancel it first). `true` when it can be brought back (a made plan;
    /// a stopped one's record is gone at once).
    pub async fn delete(&self, owner: &OwnerId, id: &PlanId) -> Result<bool, AppError> {
        let job = self.owned(owner, id).await?;
        if job.state() == JobState::Running {
            return Err(AppError::PlanRunning);
        }
        let purge_at =
            Utc::now() + chrono::Duration::from_std(DELETE_UNDO).unwrap_or(chrono::Duration::MAX);
        if !self
            .shared
            .plans
            .delete_owned_plan(owner, id, purge_at)
            .await?
        {
            return Err(AppError::NotFound(Missing::Plan));
        }
        self.shared.jobs.remove(id);
        Ok(job.plan().is_some())
    }

    /// Brings back `owner`'s plan `id` deleted less than [`DELETE_UNDO`] ago.
    pub async fn restore(&self, owner: &OwnerId, id: &PlanId) -> Result<(), AppError> {
        if self.shared.plans.restore_owned_plan(owner, id).await? {
            Ok(())
        } else {
            Err(AppError::NotFound(Missing::Plan))
        }
    }

    /// Rewrites the prose of day `day` with the language model (when one is configured;
    /// otherwise the day is sent again as it is), saves the plan and streams the day on the
    /// job's events.
    pub async fn rewrite_day(
        &self,
        owner: &OwnerId,
        id: &PlanId,
        day: u8,
    ) -> Result<Arc<PlanJob>, AppError> {
        let job = self.owned(owner, id).await?;
        if self.shared.closing.load(Ordering::Relaxed) {
            return Err(AppError::Busy);
        }
        let permit = self.shared.jobs.permit()?;
        let plan = job.begin_rewrite(day)?;
        if self.shared.jobs.get(id).is_none() {
            self.shared.jobs.insert(Arc::clone(&job))?;
        }
        let task = {
            let shared = Arc::clone(&self.shared);
            let job = Arc::clone(&job);
            async move { rewrite(&shared, job, plan, day).await }
        };
        self.supervise(Arc::clone(&job), permit, task, None);
        Ok(job)
    }

    /// Edits `owner`'s finished plan `id` (remove, swap, move or add a stop): the days it
    /// touches are timed and walked again, the checks and the cost recomputed, the stops it
    /// did not touch keep their text; the plan as it was is kept for [`Planner::undo_edit`].
    /// Returns the edited plan and what was done, in words.
    ///
    /// # Errors
    /// [`AppError::Invalid`] for an edit that cannot be made, [`AppError::PlanRunning`] while
    /// the plan (or a day's text) is being written, [`AppError::NotFound`] for another's.
    pub async fn edit(
        &self,
        owner: &OwnerId,
        id: &PlanId,
        edit: &PlanEdit,
    ) -> Result<(Arc<Plan>, String), AppError> {
        let job = self.owned(owner, id).await?;
        let _one_at_a_time = job.changing.lock().await;
        let current = done_plan(&job)?;
        let mut edited = (*current).clone();
        let said = self.shared.orchestrator.edit(&mut edited, edit).await?;
        self.shared
            .plans
            .save_edited_plan(owner, &current, &edited)
            .await?;
        job.replace_plan(edited.clone())?;
        Ok((Arc::new(edited), said))
    }

    /// Undoes the newest edit of `owner`'s plan `id`; returns the plan as it was.
    ///
    /// # Errors
    /// [`AppError::Invalid`] when there is no edit to undo, as for [`Planner::edit`].
    pub async fn undo_edit(&self, owner: &OwnerId, id: &PlanId) -> Result<Arc<Plan>, AppError> {
        let job = self.owned(owner, id).await?;
        let _one_at_a_time = job.changing.lock().await;
        if job.state() == JobState::Running {
            return Err(AppError::PlanRunning);
        }
        let plan = self
            .shared
            .plans
            .undo_plan_edit(owner, id)
            .await?
            .ok_or_else(|| AppError::Invalid {
                invalid: crate::Invalid::Edit,
                message: "there is no change to undo".into(),
                hint: None,
            })?;
        job.replace_plan(plan.clone())?;
        Ok(Arc::new(plan))
    }

    /// Places near `owner`'s plan `id` whose name contains `query`, not in the plan yet,
    /// nearest first (at most 10): what "add a place" offers.
    pub async fn find_places(
        &self,
        owner: &OwnerId,
        id: &PlanId,
        query: &str,
    ) -> Result<Vec<tripwright_domain::Place>, AppError> {
        let plan = self.finished(owner, id).await?;
        Ok(self
            .shared
            .orchestrator
            .places_matching(&plan, query, 10)
            .await?)
    }

    /// Names `owner`'s finished plan `id` (an empty name gives it back its destination and
    /// length); returns the plan.
    ///
    /// # Errors
    /// [`AppError::Invalid`] for a name that is too long or has control characters, as for
    /// [`Planner::edit`] otherwise.
    pub async fn rename(
        &self,
        owner: &OwnerId,
        id: &PlanId,
        title: &str,
    ) -> Result<Arc<Plan>, AppError> {
        let title =
            tripwright_domain::validate_plan_title(title).map_err(|message| AppError::Invalid {
                invalid: crate::Invalid::PlanTitle,
                message,
                hint: None,
            })?;
        let job = self.owned(owner, id).await?;
        let _one_at_a_time = job.changing.lock().await;
        let current = done_plan(&job)?;
        let mut renamed = (*current).clone();
        renamed.title = title;
        self.shared.plans.save_owned_plan(owner, &renamed).await?;
        job.replace_plan(renamed.clone())?;
        Ok(Arc::new(renamed))
    }

    /// How many edits of plan `id` can be undone.
    pub async fn edits(&self, id: &PlanId) -> Result<u32, AppError> {
        Ok(self.shared.plans.plan_edits(id).await?)
    }

    /// The share token of `owner`'s finished plan `id` (the same every time).
    pub async fn share(&self, owner: &OwnerId, id: &PlanId) -> Result<String, AppError> {
        self.finished(owner, id).await?;
        Ok(self.shared.plans.share_token(id, &random_token()).await?)
    }

    /// Ends the share link of `owner`'s plan `id`; `false` when it had none. Sharing again
    /// makes a new link.
    pub async fn unshare(&self, owner: &OwnerId, id: &PlanId) -> Result<bool, AppError> {
        self.finished(owner, id).await?;
        Ok(self.shared.plans.revoke_share(id).await?)
    }

    /// Deletes the plans of anonymous requesters whose time ran out; returns how many.
    pub async fn delete_expired(&self) -> Result<u64, AppError> {
        Ok(self.shared.plans.delete_expired_plans(Utc::now()).await?)
    }

    /// The plan behind a share link.
    pub async fn shared(&self, token: &str) -> Result<Plan, AppError> {
        self.shared
            .plans
            .plan_by_share_token(token)
            .await?
            .ok_or(AppError::NotFound(Missing::SharedPlan))
    }

    /// `owner`'s plans, newest first: those being made, the `limit` newest saved ones, and
    /// those that stopped before they were made (cancelled, failed, cut by a restart) while
    /// their record is kept.
    pub async fn mine(&self, owner: &OwnerId, limit: u32) -> Result<Vec<MyPlan>, AppError> {
        let mut plans: Vec<MyPlan> = self
            .shared
            .jobs
            .running()
            .into_iter()
            .filter(|j| &j.owner == owner)
            .map(|j| {
                MyPlan::asked(
                    j.id.clone(),
                    MyPlanState::Making,
                    j.started_at,
                    &j.request,
                    &j.destination,
                )
            })
            .collect();
        let saved = self.shared.plans.list_owned_plans(owner, limit).await?;
        plans.extend(saved.into_iter().map(MyPlan::made));
        let stopped = self
            .shared
            .plans
            .list_owned_stopped_plans(owner, limit)
            .await?;
        plans.extend(stopped.into_iter().map(|s| {
            let state = if s.message.is_none() {
                MyPlanState::Cancelled
            } else {
                MyPlanState::Stopped
            };
            MyPlan {
                reason: s.message.clone(),
                ..MyPlan::asked(s.id, state, s.stopped_at, &s.request, &s.destination)
            }
        }));
        // Those other replicas make (or will make again), unless this one knows better: the
        // store marks a job ended only once its log is written, after the plan was saved or
        // stopped, so a saved or stopped record wins below.
        let elsewhere = self.shared.queue.store.owned_jobs(owner).await?;
        plans.extend(
            elsewhere
                .into_iter()
                .filter(|j| self.shared.jobs.get(&j.id).is_none())
                .map(|j| {
                    MyPlan::asked(
                        j.id,
                        MyPlanState::Making,
                        j.started_at,
                        &j.request,
                        &j.destination,
                    )
                }),
        );
        // A plan saved as it stopped (or still registered as it finished) is listed once.
        let mut seen = std::collections::HashSet::new();
        plans.retain(|p| seen.insert(p.id.clone()));
        plans.sort_by(|a, b| b.at.cmp(&a.at).then_with(|| b.id.cmp(&a.id)));
        plans.truncate(limit as usize);
        Ok(plans)
    }
}

/// How long a deleted plan can be brought back.
pub const DELETE_UNDO: Duration = Duration::from_secs(10 * 60);

/// Where one of a user's plans stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MyPlanState {
    /// Being made now.
    Making,
    /// Made and saved.
    Made,
    /// Its owner cancelled it.
    Cancelled,
    /// It failed, or a restart cut it.
    Stopped,
}

impl MyPlanState {
    /// Its name in the API and the page: `making`, `made`, `cancelled`, `stopped`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Making => "making",
            Self::Made => "made",
            Self::Cancelled => "cancelled",
            Self::Stopped => "stopped",
        }
    }
}

/// One row of a user's plans.
#[derive(Debug, Clone, PartialEq)]
pub struct MyPlan {
    /// Its id.
    pub id: PlanId,
    /// Where it stands.
    pub state: MyPlanState,
    /// When it was made, started or stopped.
    pub at: DateTime<Utc>,
    /// The city.
    pub destination: String,
    /// Its country.
    pub country: String,
    /// Days asked for.
    pub days: u8,
    /// The first day, when known.
    pub start_date: Option<chrono::NaiveDate>,
    /// The wishes, as typed.
    pub prefs: String,
    /// The budget, in `currency`.
    pub budget: Option<f64>,
    /// The plan's currency.
    pub currency: String,
    /// Why it stopped, when it did.
    pub reason: Option<String>,
    /// The name its owner gave it.
    pub title: Option<String>,
}

impl MyPlan {
    /// What the row is called: its name, else "Helsinki, Finland — 3 days".
    pub fn heading(&self) -> String {
        self.title.clone().unwrap_or_else(|| {
            tripwright_domain::plan_heading(
                &self.destination,
                &self.country,
                usize::from(self.days),
            )
        })
    }

    /// The row of a plan not saved (being made, or stopped) from what was asked.
    fn asked(
        id: PlanId,
        state: MyPlanState,
        at: DateTime<Utc>,
        request: &TripRequest,
        destination: &tripwright_domain::Destination,
    ) -> Self {
        Self {
            id,
            state,
            at,
            destination: destination.name.clone(),
            country: destination.country.clone(),
            days: request.days,
            start_date: request.start_date,
            prefs: request.prefs.clone(),
            budget: request.budget,
            currency: request
                .currency
                .clone()
                .unwrap_or_else(|| destination.currency.clone()),
            reason: None,
            title: None,
        }
    }

    /// A saved plan's row.
    fn made(s: PlanSummary) -> Self {
        Self {
            id: s.id,
            state: MyPlanState::Made,
            at: s.created_at,
            destination: s.destination,
            country: s.country,
            days: s.days,
            start_date: s.start_date,
            prefs: s.prefs,
            budget: s.budget,
            currency: s.currency,
            reason: None,
            title: s.title,
        }
    }
}

/// Records `job` when it stopped before its plan was made (failed or cancelled), so that its
/// address answers with the reason after the job has left memory or the server restarted. A
/// store that cannot take it is logged: the job itself already told its followers.
pub(crate) async fn keep_stopped(plans: &dyn PlanStore, job: &PlanJob) {
    let Some(record) = job.stopped_record() else {
        return;
    };
    let expires = record.stopped_at + STOPPED_KEEP;
    if let Err(e) = plans.save_stopped_plan(&record, expires).await {
        tracing::warn!(error = %e, plan = %job.id, "a stopped plan could not be recorded");
    }
}

/// Sends `job`'s events from now on to its log in the store, as claim `attempt`; returns the
/// writer, which ends once the job's sink is detached and every event is written.
fn log_to_store(shared: &Shared, job: &PlanJob, attempt: u32) -> tokio::task::JoinHandle<()> {
    let (sink, events) = tokio::sync::mpsc::unbounded_channel();
    let seq = job.attach_sink(sink);
    tokio::spawn(queue::write_log(
        Arc::clone(&shared.queue.store),
        job.id.clone(),
        attempt,
        seq,
        events,
    ))
}

/// Ends `job` (claim `attempt`) in the store once its log is written: ended when it stopped
/// (made, failed, cancelled), handed back to the queue when it still runs (the server let
/// it go, see [`Planner::shut_down`]).
async fn release(shared: &Shared, job: &PlanJob, attempt: u32) {
    let store = &shared.queue.store;
    let (what, result) = if job.state() == JobState::Running {
        ("handed back", store.requeue_job(&job.id, attempt).await)
    } else {
        ("ended", store.end_job(&job.id, attempt).await)
    };
    match result {
        Ok(true) => tracing::debug!(plan = %job.id, attempt, "plan {what}"),
        Ok(false) => tracing::info!(plan = %job.id, attempt, "another replica holds the plan now"),
        Err(e) => {
            tracing::warn!(plan = %job.id, error = %e, "the plan could not be {what} in the store")
        }
    }
}

/// Saves `owner`'s plan, to be deleted at `expires` when given.
async fn save(
    shared: &Shared,
    owner: &OwnerId,
    plan: &Plan,
    expires: Option<DateTime<Utc>>,
) -> Result<(), tripwright_store::StoreError> {
    shared.plans.save_owned_plan(owner, plan).await?;
    if let Some(at) = expires {
        shared.plans.expire_plan(&plan.id, at).await?;
    }
    Ok(())
}

/// How long a plan waits for a store that does not answer (a database restarting), to read
/// its places or to be saved, before it is given up.
pub(crate) const SAVE_PATIENCE: Duration = Duration::from_secs(30);

/// [`save`], tried again every half second while the store's error is transient, for up to
/// [`SAVE_PATIENCE`]: a plan made while the database restarts is not lost for it.
async fn save_patiently(
    shared: &Shared,
    owner: &OwnerId,
    plan: &Plan,
    expires: Option<DateTime<Utc>>,
) -> Result<(), tripwright_store::StoreError> {
    let since = Instant::now();
    loop {
        match save(shared, owner, plan, expires).await {
            Err(e) if e.is_transient() && since.elapsed() < SAVE_PATIENCE => {
                tracing::warn!(plan = %plan.id, error = %e, "a plan could not be saved yet; trying again");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            other => return other,
        }
    }
}

/// Runs the agents for an owner's `job`, streaming their events, then saves the plan.
/// What a plan waits for while its destination's places are fetched.
fn fetching_message(dest: &tripwright_domain::Destination) -> String {
    format!("Fetching places near {} from OpenStreetMap…", dest.name)
}

async fn make_owned(
    shared: &Shared,
    job: Arc<PlanJob>,
    req: TripRequest,
    key: String,
    expires: Option<DateTime<Utc>>,
) {
    let fetched = shared
        .on_demand
        .ensure(&job.destination, || {
            job.notice(fetching_message(&job.destination));
        })
        .await;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let make = shared.orchestrator.make_plan(req, Some(tx), job.id.clone());
    let forward = async {
        while let Some(ev) = rx.recv().await {
            job.on_agent_event(ev);
        }
    };
    let (result, ()) = tokio::join!(make, forward);
    match result {
        Ok(mut plan) => {
            plan.warnings.extend(fetched.err());
            if job.state() != JobState::Running {
                return;
            }
            match save_patiently(shared, &job.owner, &plan, expires).await {
                Ok(()) => {
                    shared.cache.put(key, plan.clone());
                    job.finish(plan);
                }
                Err(e) => {
                    tracing::error!(error = %e, plan = %job.id, "a plan could not be saved");
                    job.fail("the plan was made but could not be saved; try again".into());
                    keep_stopped(shared.plans.as_ref(), &job).await;
                }
            }
        }
        Err(e) => {
            tracing::info!(error = %e, plan = %job.id, "a plan failed");
            // In words for the user; the detail (an address, a path) is in the log line above.
            job.fail(e.summary());
            keep_stopped(shared.plans.as_ref(), &job).await;
        }
    }
}

/// Rewrites day `day` of `plan` for `job`, saves it and ends the rewrite.
/// The job's finished plan, to change: refused while it (or a day of it) is being written.
fn done_plan(job: &PlanJob) -> Result<Arc<Plan>, AppError> {
    match (job.state(), job.plan()) {
        (JobState::Done, Some(plan)) => Ok(plan),
        (JobState::Running, _) => Err(AppError::PlanRunning),
        _ => Err(AppError::NotFound(Missing::Plan)),
    }
}

/// What a rewrite says of the stops the model could not write a better note for.
fn not_better_message(names: &[String]) -> String {
    let (list, whose) = match names {
        [one] => (one.clone(), "its note is"),
        _ => (
            tripwright_agents::intros::and_list(names),
            "their notes are",
        ),
    };
    format!("The model could not write a better note for {list}: {whose} kept as it was.")
}

async fn rewrite(shared: &Shared, job: Arc<PlanJob>, plan: Plan, day: u8) {
    let t = Instant::now();
    let mut new = plan.clone();
    let on_text = |event: tripwright_agents::prose::TextEvent<'_>| job.rewrite_text(event);
    let mut error = match shared
        .orchestrator
        .rewrite_day(&mut new, day, &on_text)
        .await
    {
        Ok(not_better) if not_better.is_empty() => None,
        Ok(not_better) => {
            job.notice(not_better_message(&not_better));
            None
        }
        Err(AgentError::NoModel(why)) => {
            tracing::info!(%why, "no language model: the day is sent again unchanged");
            None
        }
        Err(e) => {
            tracing::info!(error = %e, plan = %job.id, day, "a day could not be rewritten");
            Some(e.summary())
        }
    };
    if error.is_none()
        && let Err(e) = shared.plans.save_owned_plan(&job.owner, &new).await
    {
        tracing::error!(error = %e, plan = %job.id, "a rewritten plan could not be saved");
        error = Some("the new text could not be saved; try again".into());
    }
    let shown = if error.is_some() { plan } else { new };
    let elapsed = u64::try_from(t.elapsed().as_millis()).unwrap_or(u64::MAX);
    job.end_rewrite(day, shown, elapsed, error);
}
