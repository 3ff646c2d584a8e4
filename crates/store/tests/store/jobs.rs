//! The job queue: leases, claims fenced by attempt, the event log, and the news between
//! replicas. Written against the traits, so they run on SQLite and on PostgreSQL.

use std::collections::BTreeSet;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::StreamExt;
use tripwright_domain::PlanId;
use tripwright_store::{ENDED_JOBS_KEPT, JobNews, JobRecord, JobStatus, Lease, Store, StoreError};

use crate::common::{TestDb, o, pid, sample_plan, temp_store};

/// A lease that outlasts any test.
const LONG: Duration = Duration::from_secs(60);

/// A lease that runs out before [`RUN_OUT`] is over.
const SHORT: Duration = Duration::from_millis(5);

/// How long to wait for a [`SHORT`] lease to run out.
const RUN_OUT: Duration = Duration::from_millis(50);

/// A new job (attempt 1) of `owner`, asked for at `started_at`.
fn job(id: &str, owner: &str, started_at: &str) -> JobRecord {
    let plan = sample_plan(id, started_at, "Helsinki");
    JobRecord {
        id: plan.id,
        owner: o(owner),
        request: plan.request,
        destination: plan.destination,
        cache_key: format!("Helsinki|2|{id}"),
        started_at: started_at.parse().expect("an RFC 3339 time"),
        expires: None,
        attempt: 1,
    }
}

/// `job` as claimed once more.
fn claimed(job: &JobRecord, attempt: u32) -> JobRecord {
    JobRecord {
        attempt,
        ..job.clone()
    }
}

/// Events `e{n}` for the numbers `range`.
fn events(range: std::ops::Range<u32>) -> Vec<String> {
    range.map(|n| format!("{{\"e\":{n}}}")).collect()
}

/// Where job `id` stands (it must exist).
async fn status(store: &dyn Store, id: &str) -> JobStatus {
    store
        .job(&pid(id))
        .await
        .expect("read the job")
        .expect("the job exists")
        .1
}

/// Starts `job` as `replica-a`, with a lease of `lease`.
async fn start(store: &dyn Store, job: &JobRecord, lease: Duration) {
    store
        .start_job(job, "replica-a", lease)
        .await
        .expect("started");
}

/// Starts jobs `j1` and `j2` of `ann`, asked for at the same time, and gives their ids.
async fn start_j1_and_j2(store: &dyn Store) -> (PlanId, PlanId) {
    for id in ["j1", "j2"] {
        start(store, &job(id, "ann", "2026-07-01T10:00:00Z"), LONG).await;
    }
    (pid("j1"), pid("j2"))
}

/// What `worker` claims next, for a [`LONG`] lease.
async fn claim(store: &dyn Store, worker: &str) -> Option<JobRecord> {
    store.claim_job(worker, LONG).await.expect("claim")
}

/// What renewing attempt `attempt` of job `id` for `lease` answers.
async fn renew(store: &dyn Store, id: &PlanId, attempt: u32, lease: Duration) -> Lease {
    store
        .renew_job_lease(id, attempt, lease)
        .await
        .expect("renew")
}

/// Whether attempt `attempt` of job `id` may append `events` numbered from `first_seq`.
async fn append(
    store: &dyn Store,
    id: &PlanId,
    attempt: u32,
    first_seq: u64,
    events: &[String],
) -> bool {
    store
        .append_job_events(id, attempt, first_seq, events)
        .await
        .expect("append")
}

/// Up to `limit` events of job `id` from number `from`.
async fn read_events(store: &dyn Store, id: &PlanId, from: u64, limit: u32) -> Vec<String> {
    store.job_events(id, from, limit).await.expect("read")
}

/// Asserts that job `id` is running.
async fn assert_running(store: &dyn Store, id: &str) {
    let status = status(store, id).await;
    assert!(
        matches!(status, JobStatus::Running { .. }),
        "{id} is {status:?}"
    );
}

/// The ids of `jobs`, in order.
fn ids_of(jobs: &[JobRecord]) -> Vec<&str> {
    jobs.iter().map(|j| j.id.as_str()).collect()
}

#[tokio::test]
async fn a_started_job_is_running_and_reads_back_whole() {
    let (_db, store) = temp_store().await;
    let mut first = job("j1", "ann", "2026-07-01T10:00:00.123Z");
    first.expires = Some("2026-07-08T10:00:00Z".parse().expect("a time"));
    assert_eq!(store.job(&pid("j1")).await.expect("read"), None);

    let before = Utc::now().timestamp_millis();
    start(&*store, &first, LONG).await;
    let after = Utc::now().timestamp_millis();
    let (record, status) = store.job(&pid("j1")).await.expect("read").expect("stored");
    assert_eq!(record, first);
    let JobStatus::Running { lease_until_ms } = status else {
        panic!("expected Running, got {status:?}");
    };
    let lease_ms = i64::try_from(LONG.as_millis()).expect("ms");
    assert!(
        (before + lease_ms..=after + lease_ms).contains(&lease_until_ms),
        "{lease_until_ms} not in {}..={}",
        before + lease_ms,
        after + lease_ms
    );

    let mut again = job("j1", "bob", "2026-07-02T10:00:00Z");
    again.cache_key = "another".into();
    let err = store
        .start_job(&again, "replica-b", LONG)
        .await
        .expect_err("the id is taken");
    assert!(
        matches!(&err, StoreError::Duplicate { name, .. } if name == "j1"),
        "{err:?}"
    );
    assert_eq!(
        store.job(&pid("j1")).await.expect("read").expect("kept").0,
        first
    );
}

#[tokio::test]
async fn a_job_that_would_not_read_back_is_refused() {
    let (_db, store) = temp_store().await;
    let mut nameless = job("j1", "ann", "2026-07-01T10:00:00Z");
    nameless.owner = o(" ");
    let err = store
        .start_job(&nameless, "replica-a", LONG)
        .await
        .expect_err("no owner");
    assert!(matches!(err, StoreError::Invalid(_)), "{err:?}");

    let mut nan = job("j2", "ann", "2026-07-01T10:00:00Z");
    nan.destination.lat = f64::NAN;
    let err = store
        .start_job(&nan, "replica-a", LONG)
        .await
        .expect_err("a NaN latitude");
    assert!(matches!(err, StoreError::Invalid(_)), "{err:?}");

    assert_eq!(store.job(&pid("j1")).await.expect("read"), None);
    assert_eq!(store.job(&pid("j2")).await.expect("read"), None);
    assert_eq!(claim(&*store, "replica-b").await, None);
}

#[tokio::test]
async fn a_job_is_claimed_when_its_lease_ran_out_and_the_old_attempt_is_fenced() {
    let (_db, store) = temp_store().await;
    let first = job("j1", "ann", "2026-07-01T10:00:00Z");
    start(&*store, &first, LONG).await;
    assert_eq!(claim(&*store, "replica-b").await, None);

    // The holder renews it for a moment only, then dies.
    assert_eq!(renew(&*store, &pid("j1"), 1, SHORT).await, Lease::Held);
    tokio::time::sleep(RUN_OUT).await;
    assert_eq!(claim(&*store, "replica-b").await, Some(claimed(&first, 2)));
    assert_running(&*store, "j1").await;
    assert_eq!(claim(&*store, "replica-c").await, None);

    // The first attempt writes nothing any more.
    let id = pid("j1");
    assert!(!append(&*store, &id, 1, 0, &events(0..2)).await);
    assert_eq!(renew(&*store, &id, 1, LONG).await, Lease::Lost);
    assert!(!store.requeue_job(&id, 1).await.expect("requeue"));
    assert!(!store.end_job(&id, 1).await.expect("end"));
    assert!(read_events(&*store, &id, 0, 100).await.is_empty());
    assert_running(&*store, "j1").await;

    // The second one does.
    assert_eq!(renew(&*store, &id, 2, LONG).await, Lease::Held);
    assert!(append(&*store, &id, 2, 0, &events(10..12)).await);
    assert_eq!(read_events(&*store, &id, 0, 100).await, events(10..12));
    assert!(store.end_job(&id, 2).await.expect("end"));
    assert_eq!(status(&*store, "j1").await, JobStatus::Ended);
}

#[tokio::test]
async fn events_are_read_in_order_from_a_number() {
    let (_db, store) = temp_store().await;
    let (j1, j2) = start_j1_and_j2(&*store).await;
    assert!(append(&*store, &j1, 1, 0, &events(0..3)).await);
    assert!(append(&*store, &j2, 1, 0, &events(100..102)).await);
    assert!(append(&*store, &j1, 1, 3, &events(3..5)).await);
    assert!(
        store
            .append_job_events(&j1, 1, 5, &[])
            .await
            .expect("nothing to append")
    );

    assert_eq!(read_events(&*store, &j1, 0, 100).await, events(0..5));
    assert_eq!(read_events(&*store, &j1, 2, 2).await, events(2..4));
    assert_eq!(read_events(&*store, &j1, 4, 100).await, events(4..5));
    assert!(read_events(&*store, &j1, 5, 100).await.is_empty());
    assert!(read_events(&*store, &j1, u64::MAX, 100).await.is_empty());
    assert_eq!(read_events(&*store, &j2, 0, 100).await, events(100..102));
    assert!(read_events(&*store, &pid("j3"), 0, 100).await.is_empty());

    // A batch reusing a number is refused whole: its new event 5 is not written either.
    store
        .append_job_events(&j1, 1, 4, &events(4..6))
        .await
        .expect_err("number 4 is taken");
    assert_eq!(read_events(&*store, &j1, 0, 100).await, events(0..5));

    // A batch of a few hundred, in one go.
    assert!(append(&*store, &j1, 1, 5, &events(5..400)).await);
    assert_eq!(read_events(&*store, &j1, 0, 1000).await, events(0..400));
}

#[tokio::test]
async fn a_requeued_job_is_claimed_at_once_with_the_next_attempt() {
    let (_db, store) = temp_store().await;
    let first = job("j1", "ann", "2026-07-01T10:00:00Z");
    start(&*store, &first, LONG).await;
    let id = pid("j1");
    assert!(!store.requeue_job(&id, 2).await.expect("not its attempt"));
    assert!(store.requeue_job(&id, 1).await.expect("requeue"));
    assert_eq!(status(&*store, "j1").await, JobStatus::Queued);
    assert!(!store.requeue_job(&id, 1).await.expect("queued already"));
    // Queued, it is held by no attempt.
    assert!(!append(&*store, &id, 1, 0, &events(0..1)).await);
    assert_eq!(renew(&*store, &id, 1, LONG).await, Lease::Lost);

    assert_eq!(claim(&*store, "replica-b").await, Some(claimed(&first, 2)));
    assert_running(&*store, "j1").await;
    assert_eq!(claim(&*store, "replica-c").await, None);
    assert!(append(&*store, &id, 2, 0, &events(0..1)).await);
}

#[tokio::test]
async fn a_cancel_request_reaches_the_next_renewal() {
    let (_db, store) = temp_store().await;
    let (j1, j2) = start_j1_and_j2(&*store).await;
    assert_eq!(renew(&*store, &j1, 1, LONG).await, Lease::Held);
    assert!(store.request_job_cancel(&j1).await.expect("cancel"));
    assert_eq!(renew(&*store, &j1, 1, LONG).await, Lease::CancelRequested);
    assert_eq!(renew(&*store, &j1, 1, LONG).await, Lease::CancelRequested);
    // Another job is not touched, and a wrong attempt still loses.
    assert_eq!(renew(&*store, &j2, 1, LONG).await, Lease::Held);
    assert_eq!(renew(&*store, &j1, 2, LONG).await, Lease::Lost);

    // A queued job's next claimer learns it on its first renewal.
    assert!(store.requeue_job(&j2, 1).await.expect("requeue"));
    assert!(store.request_job_cancel(&j2).await.expect("cancel"));
    let claim = claim(&*store, "replica-b").await;
    assert_eq!(claim.map(|j| (j.id, j.attempt)), Some((j2.clone(), 2)));
    assert_eq!(renew(&*store, &j2, 2, LONG).await, Lease::CancelRequested);

    // Ended or unknown jobs cannot be cancelled.
    assert!(store.end_job(&j1, 1).await.expect("end"));
    assert!(!store.request_job_cancel(&j1).await.expect("ended"));
    assert!(!store.request_job_cancel(&pid("j3")).await.expect("unknown"));
}

#[tokio::test]
async fn an_ended_job_is_neither_claimable_nor_listed() {
    let (db, store) = temp_store().await;
    let first = job("j1", "ann", "2026-07-01T10:00:00Z");
    start(&*store, &first, SHORT).await;
    let id = pid("j1");
    assert!(append(&*store, &id, 1, 0, &events(0..3)).await);
    assert!(!store.end_job(&id, 2).await.expect("not its attempt"));
    assert!(store.end_job(&id, 1).await.expect("end"));
    assert!(!store.end_job(&id, 1).await.expect("ended already"));
    assert_eq!(status(&*store, "j1").await, JobStatus::Ended);
    assert_eq!(store.job(&id).await.expect("read").expect("kept").0, first);
    assert_eq!(read_events(&*store, &id, 0, 100).await, events(0..3));

    tokio::time::sleep(RUN_OUT).await;
    assert_eq!(claim(&*store, "replica-b").await, None);
    assert!(store.owned_jobs(&o("ann")).await.expect("list").is_empty());
    assert_eq!(renew(&*store, &id, 1, LONG).await, Lease::Lost);
    assert!(!append(&*store, &id, 1, 3, &events(3..4)).await);
    assert!(!store.requeue_job(&id, 1).await.expect("requeue"));

    // A day later, the next end deletes it with its log (and only it).
    let second = job("j2", "ann", "2026-07-01T11:00:00Z");
    start(&*store, &second, LONG).await;
    let j2 = pid("j2");
    assert!(append(&*store, &j2, 1, 0, &events(0..2)).await);
    let day = ENDED_JOBS_KEPT.num_milliseconds();
    db.exec(&format!(
        "UPDATE plan_jobs SET ended_at = ended_at - {} WHERE id = 'j1'",
        day - 60_000
    ))
    .await;
    assert!(store.end_job(&j2, 1).await.expect("end"));
    assert!(
        store.job(&id).await.expect("read").is_some(),
        "not a day yet"
    );
    db.exec("UPDATE plan_jobs SET ended_at = ended_at - 120000 WHERE id = 'j1'")
        .await;
    assert!(!store.end_job(&j2, 1).await.expect("ended already"));
    assert_eq!(store.job(&id).await.expect("read"), None);
    assert!(read_events(&*store, &id, 0, 100).await.is_empty());
    assert_eq!(status(&*store, "j2").await, JobStatus::Ended);
    assert_eq!(read_events(&*store, &j2, 0, 100).await, events(0..2));
}

#[tokio::test]
async fn owned_jobs_lists_the_owners_unended_jobs_newest_first() {
    let (_db, store) = temp_store().await;
    let jobs = [
        job("a1", "ann", "2026-07-01T10:00:00Z"),
        job("a2", "ann", "2026-07-01T12:00:00Z"),
        job("a3", "ann", "2026-07-01T11:00:00Z"),
        job("a4", "ann", "2026-07-01T09:00:00Z"),
        job("b1", "bob", "2026-07-01T13:00:00Z"),
    ];
    for j in &jobs {
        start(&*store, j, LONG).await;
    }
    assert!(store.end_job(&pid("a3"), 1).await.expect("end"));
    assert!(store.requeue_job(&pid("a4"), 1).await.expect("requeue"));

    let ann = store.owned_jobs(&o("ann")).await.expect("list");
    assert_eq!(ids_of(&ann), ["a2", "a1", "a4"]);
    assert_eq!(ann[0], jobs[1]);
    assert_eq!(
        ids_of(&store.owned_jobs(&o("bob")).await.expect("list")),
        ["b1"]
    );
    assert!(
        store
            .owned_jobs(&o("carol"))
            .await
            .expect("list")
            .is_empty()
    );

    // The oldest claimable job is claimed first: the queued one.
    let claim = claim(&*store, "replica-b").await;
    assert_eq!(claim.map(|j| (j.id, j.attempt)), Some((pid("a4"), 2)));
    let ann = store.owned_jobs(&o("ann")).await.expect("list");
    assert_eq!(ids_of(&ann), ["a2", "a1", "a4"]);
    assert_eq!(ann[2].attempt, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_replicas_claiming_at_once_get_different_jobs() {
    let db = TestDb::new().await;
    let (one, two) = (db.open().await, db.open().await);
    for round in 0..5 {
        let ids = [format!("r{round}-x"), format!("r{round}-y")];
        for id in &ids {
            start(&*one, &job(id, "ann", "2026-07-01T10:00:00Z"), LONG).await;
            assert!(one.requeue_job(&pid(id), 1).await.expect("requeue"));
        }
        let (a, b) = tokio::join!(
            one.claim_job("replica-one", LONG),
            two.claim_job("replica-two", LONG)
        );
        let (a, b) = (
            a.expect("claim").expect("a job for one"),
            b.expect("claim").expect("a job for two"),
        );
        assert_ne!(a.id, b.id, "round {round}");
        let got: BTreeSet<&str> = [a.id.as_str(), b.id.as_str()].into();
        let want: BTreeSet<&str> = ids.iter().map(String::as_str).collect();
        assert_eq!(got, want, "round {round}");
        assert_eq!((a.attempt, b.attempt), (2, 2), "round {round}");
        assert_eq!(claim(&*one, "replica-one").await, None);
        assert_eq!(claim(&*two, "replica-two").await, None);
    }

    // Many claims at once, from tasks of both replicas: each job is taken exactly once.
    let ids: Vec<String> = (0..16).map(|n| format!("many-{n:02}")).collect();
    for id in &ids {
        start(&*one, &job(id, "ann", "2026-07-01T10:00:00Z"), LONG).await;
        assert!(one.requeue_job(&pid(id), 1).await.expect("requeue"));
    }
    let claims: Vec<_> = (0..16)
        .map(|n| {
            let store = if n % 2 == 0 { one.clone() } else { two.clone() };
            tokio::spawn(async move { store.claim_job(&format!("worker-{n}"), LONG).await })
        })
        .collect();
    let mut got = Vec::new();
    for claim in claims {
        let job = claim
            .await
            .expect("the claim ran")
            .expect("claim")
            .expect("a job for every claim");
        assert_eq!(job.attempt, 2, "{}", job.id);
        got.push(job.id.into_string());
    }
    got.sort();
    assert_eq!(got, ids);
}

/// The next news for which `wanted` holds, skipping others (other tests share the server's
/// channel); fails after a few seconds.
async fn next_news(
    news: &mut tokio::sync::mpsc::UnboundedReceiver<JobNews>,
    wanted: impl Fn(&JobNews) -> bool,
) -> JobNews {
    tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            let item = news.recv().await.expect("the news go on");
            if wanted(&item) {
                return item;
            }
        }
    })
    .await
    .expect("the news within 5 s")
}

#[tokio::test]
async fn appends_are_announced_to_the_other_replicas() {
    let db = TestDb::new().await;
    let (one, two) = (db.open().await, db.open().await);
    if !matches!(db, TestDb::Postgres(_)) {
        assert!(one.job_news().await.expect("news").is_none());
        return;
    }
    // Followed as the app follows it: a task reading the stream for as long as it lasts.
    let mut stream = two
        .job_news()
        .await
        .expect("news")
        .expect("PostgreSQL has news");
    let (tx, mut news) = tokio::sync::mpsc::unbounded_channel();
    let follower = tokio::spawn(async move {
        while let Some(item) = stream.next().await {
            if tx.send(item).is_err() {
                break;
            }
        }
    });
    // Ids of their own: the channel is the whole server's, tests run side by side.
    let id = PlanId::random();
    let record = job(id.as_str(), "ann", "2026-07-01T10:00:00Z");
    one.start_job(&record, "replica-one", LONG)
        .await
        .expect("started");

    // A refused append announces nothing; the accepted one does, once committed.
    assert!(!append(&*one, &id, 2, 0, &events(0..1)).await);
    assert!(append(&*one, &id, 1, 0, &events(0..2)).await);
    let ours = JobNews::Events(id.clone());
    assert_eq!(next_news(&mut news, |n| *n == ours).await, ours);
    // Once only: the refused append was not announced.
    let again = tokio::time::timeout(Duration::from_millis(300), async {
        while let Some(item) = news.recv().await {
            if item == ours {
                return;
            }
        }
    })
    .await;
    assert!(again.is_err(), "our events were announced twice");
    assert_eq!(read_events(&*two, &id, 0, 10).await, events(0..2));

    assert!(one.requeue_job(&id, 1).await.expect("requeue"));
    assert_eq!(
        next_news(&mut news, |n| *n == JobNews::Queued).await,
        JobNews::Queued
    );

    // Closing the store ends the stream, which gives its connection back.
    tokio::time::timeout(Duration::from_secs(5), two.close())
        .await
        .expect("closed in time")
        .expect("closed");
    tokio::time::timeout(Duration::from_secs(5), follower)
        .await
        .expect("the stream ends in time")
        .expect("the follower ran");
}

/// Times kept to the millisecond read back as given.
#[tokio::test]
async fn a_claimed_job_keeps_its_times_to_the_millisecond() {
    let (_db, store) = temp_store().await;
    let started: DateTime<Utc> = "2026-07-01T10:00:00.987Z".parse().expect("a time");
    let mut first = job("j1", "ann", "2026-07-01T10:00:00Z");
    first.started_at = started;
    first.expires = Some("2027-01-01T00:00:00.001Z".parse().expect("a time"));
    start(&*store, &first, LONG).await;
    assert!(store.requeue_job(&pid("j1"), 1).await.expect("requeue"));
    let claim = claim(&*store, "replica-b").await;
    assert_eq!(claim, Some(claimed(&first, 2)));
}
