//! Plans being made, kept in the store so that any replica can show them and another can
//! finish them.
//!
//! A replica that takes a plan request records the job in the store ([`JobStore::start_job`])
//! holding a lease, and renews it while it works ([`keep_lease`]). Each event of the plan is
//! also appended to the job's log in the store ([`write_log`], in small batches, fenced by the
//! claim's attempt so a replica that lost its lease writes nothing). Another replica asked for
//! the plan's page follows that log ([`follow`]): PostgreSQL announces each append
//! (`LISTEN/NOTIFY`), and the log is read again every second in case an announcement was
//! missed. When a replica dies its lease runs out; when one shuts down it hands its running
//! plans back. Either way another replica claims the job ([`JobStore::claim_job`]), replays
//! its log, starts the plan over and finishes it; a plan that stopped its makers
//! [`MAX_ATTEMPTS`] times fails with a message instead. SQLite runs the same code in one
//! process: a plan cut by a crash or a restart is finished when the server starts again.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc::UnboundedReceiver;
use tokio::sync::{Notify, broadcast};
use tokio::task::JoinHandle;
use tripwright_domain::PlanId;
use tripwright_store::{JobNews, JobStore, Lease};

use super::job::{JobState, PlanEvent, PlanJob};
use super::{Shared, keep_stopped};

/// Claims of one plan before it is given up as failed: a plan that brings its replicas down
/// must not bring down every replica in turn.
pub(crate) const MAX_ATTEMPTS: u32 = 3;

/// How long the log's writer waits after an event for more, so a burst of streamed text is
/// written in one statement.
const GATHER: Duration = Duration::from_millis(50);

/// Most events written in one statement.
const MAX_BATCH: usize = 256;

/// How long the log's writer keeps trying while the store does not answer (a database
/// restarting) before it gives the log up (the plan is still made and saved here).
const WRITE_PATIENCE: Duration = Duration::from_secs(60);

/// Events read from the store at once.
const READ_PAGE: u32 = 1000;

/// What a plan whose replica stopped says when another makes it again.
pub const RESTARTED_MESSAGE: &str =
    "The server making this plan stopped; another one is making it again from the start.";

/// What a plan says when the server making it shuts down and hands it back.
pub const HANDED_BACK_MESSAGE: &str =
    "This server is restarting: your plan will be made again from the start by another one.";

/// The job queue as this replica sees it.
pub(crate) struct Queue {
    /// The jobs and their logs.
    pub(crate) store: Arc<dyn JobStore>,
    /// This replica's name in the store (for the logs and the operators).
    pub(crate) worker: String,
    /// How long a claim holds without being renewed.
    pub(crate) lease: Duration,
    /// News of every replica's jobs, for the followers in this process.
    pub(crate) news: broadcast::Sender<JobNews>,
    /// Wakes the claiming loop (a job was handed back).
    pub(crate) wake: Notify,
}

impl Queue {
    /// The queue over `store`, with claims held for `lease`.
    pub(crate) fn new(store: Arc<dyn JobStore>, lease: Duration) -> Self {
        let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "tripwright".to_owned());
        let worker = format!(
            "{host}-{}-{:04x}",
            std::process::id(),
            rand::random::<u16>()
        );
        Self {
            store,
            worker,
            lease: lease.max(Duration::from_millis(300)),
            news: broadcast::channel(1024).0,
            wake: Notify::new(),
        }
    }
}

/// Appends the events that arrive on `events` to the log of `id` in the store from number
/// `seq` on, as `attempt`, until the job stops sending them (its sink is dropped) and every
/// one is written. A refused write (a later claim holds the job) stops the writing; a store
/// that does not answer is tried again for [`WRITE_PATIENCE`].
pub(crate) async fn write_log(
    store: Arc<dyn JobStore>,
    id: PlanId,
    attempt: u32,
    mut seq: u64,
    mut events: UnboundedReceiver<Arc<PlanEvent>>,
) {
    let mut writing = true;
    while let Some(first) = events.recv().await {
        tokio::time::sleep(GATHER).await;
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match events.try_recv() {
                Ok(event) => batch.push(event),
                Err(_) => break,
            }
        }
        if !writing {
            continue;
        }
        let texts: Vec<String> = batch
            .iter()
            .map(|e| serde_json::to_string(&**e).unwrap_or_else(|_| "{}".to_owned()))
            .collect();
        let since = tokio::time::Instant::now();
        loop {
            match store.append_job_events(&id, attempt, seq, &texts).await {
                Ok(true) => {
                    seq += texts.len() as u64;
                    break;
                }
                Ok(false) => {
                    tracing::warn!(plan = %id, attempt, "another replica holds this plan now: its log is no longer written here");
                    writing = false;
                    break;
                }
                Err(e) if since.elapsed() < WRITE_PATIENCE => {
                    tracing::warn!(plan = %id, error = %e, "the plan's log could not be written; trying again");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
                Err(e) => {
                    tracing::error!(plan = %id, error = %e, "the plan's log could not be written; giving it up");
                    writing = false;
                    break;
                }
            }
        }
    }
}

/// Renews the lease of `job` (claim `attempt`) every third of the lease, for as long as it
/// runs (the supervisor stops this task): a cancel asked through another replica cancels it
/// here; a lease lost (the store was out of reach longer than the lease, and another replica
/// claimed the plan) stops it here without a word in the store.
pub(crate) async fn keep_lease(shared: Arc<Shared>, job: Arc<PlanJob>, attempt: u32) {
    let queue = &shared.queue;
    let mut every = tokio::time::interval(queue.lease / 3);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        match queue
            .store
            .renew_job_lease(&job.id, attempt, queue.lease)
            .await
        {
            Ok(Lease::Held) => {}
            Ok(Lease::CancelRequested) => {
                if job.cancel() {
                    keep_stopped(shared.plans.as_ref(), &job).await;
                }
                return;
            }
            Ok(Lease::Lost) => {
                tracing::warn!(plan = %job.id, attempt, "the lease of a plan was lost: another replica makes it now");
                job.detach_sink();
                shared.jobs.remove(&job.id);
                job.fail(
                    "the connection to the database was lost; reload the page to follow this plan"
                        .into(),
                );
                return;
            }
            Err(e) => {
                tracing::warn!(plan = %job.id, error = %e, "the lease of a plan could not be renewed; trying again");
            }
        }
    }
}

/// Applies the events of `job`'s log in the store from number `from` on; returns the number of
/// the next one. A `Done` brings the saved plan with it.
pub(crate) async fn catch_up(
    shared: &Shared,
    job: &PlanJob,
    mut from: u64,
) -> Result<u64, crate::AppError> {
    loop {
        let page = shared
            .queue
            .store
            .job_events(&job.id, from, READ_PAGE)
            .await?;
        let full = page.len() == READ_PAGE as usize;
        for text in page {
            from += 1;
            let event: PlanEvent = match serde_json::from_str(&text) {
                Ok(event) => event,
                Err(e) => {
                    tracing::warn!(plan = %job.id, seq = from - 1, error = %e, "an event of a plan's log could not be read");
                    continue;
                }
            };
            let plan = match &event {
                PlanEvent::Done { id } => shared.plans.plan(id).await?,
                _ => None,
            };
            job.apply(event, plan);
        }
        if !full {
            return Ok(from);
        }
    }
}

/// Follows the log of `job` (a plan another replica makes) from event `from` until it ends,
/// or the planner's deadline passes.
pub(crate) async fn follow(shared: Arc<Shared>, job: Arc<PlanJob>, mut from: u64) {
    let mut news = shared.queue.news.subscribe();
    let until = tokio::time::Instant::now() + shared.deadline;
    while job.state() == JobState::Running && tokio::time::Instant::now() < until {
        // News of this plan, or a second, whichever comes first.
        let _ = tokio::time::timeout(Duration::from_secs(1), async {
            loop {
                match news.recv().await {
                    Ok(JobNews::Events(id)) if id == job.id => return,
                    Ok(_) => {}
                    Err(broadcast::error::RecvError::Lagged(_)) => return,
                    Err(broadcast::error::RecvError::Closed) => std::future::pending().await,
                }
            }
        })
        .await;
        match catch_up(&shared, &job, from).await {
            Ok(next) => from = next,
            Err(e) => tracing::warn!(plan = %job.id, error = %e, "a plan's log could not be read"),
        }
    }
}

/// A task stopped when this is dropped (the claiming loop's listener stops with the loop,
/// however the loop ends, so the store's connection it holds is given back).
pub(crate) struct Listening(JoinHandle<()>);

impl Drop for Listening {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Passes the store's news (PostgreSQL's notifications) to this process's followers and wakes
/// the claiming loop when a job is handed back; `None` when the store has none (SQLite).
pub(crate) async fn listen(shared: Arc<Shared>) -> Option<Listening> {
    let stream = match shared.queue.store.job_news().await {
        Ok(Some(stream)) => stream,
        Ok(None) => return None,
        Err(e) => {
            tracing::warn!(error = %e, "the news of other replicas' plans cannot be followed; their logs are read every second");
            return None;
        }
    };
    Some(Listening(tokio::spawn(async move {
        use futures::StreamExt as _;
        let mut stream = stream;
        while let Some(news) = stream.next().await {
            if news == JobNews::Queued {
                shared.queue.wake.notify_one();
            }
            let _ = shared.queue.news.send(news);
        }
    })))
}
