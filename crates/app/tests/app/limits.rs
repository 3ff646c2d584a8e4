//! What one user may keep and what a shutdown does to running plans: the plans-per-day,
//! lists and items quotas refuse with their typed reason (other users unaffected), a shutdown
//! hands a plan stuck on the model back (then refuses new ones) and the next server makes it, a
//! replica that lost its lease stops the plan without writing to the store,
//! and a cancelled plan still says so after a restart.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tripwright_app::lists::NewItem;
use tripwright_app::planning::{
    HANDED_BACK_MESSAGE, JobState, PlanEvent, PlanJob, RESTARTED_MESSAGE,
};
use tripwright_app::{AppError, Quota};
use tripwright_domain::OwnerId;
use tripwright_llm::ChatRequest;
use tripwright_testkit::scripted::{Reply, ScriptedLlm};

use crate::support::{app, follow, trip, until_text};

#[tokio::test(flavor = "multi_thread")]
async fn an_owner_over_the_plans_of_a_day_is_refused_and_others_are_not() {
    let app = app(None, |c| c.limits.plans_per_day = 2).await;
    let owner = OwnerId::new("quota-plans-owner");
    for n in 0..2 {
        let job = app
            .planner()
            .start(&owner, trip(1, &format!("quota: plan {n}")))
            .await
            .expect("within the quota");
        follow(&job).await;
    }
    match app.planner().start(&owner, trip(1, "quota: plan 3")).await {
        Err(AppError::Quota(q)) => {
            assert_eq!(q, Quota::PlansPerDay(2));
            assert!(q.to_string().contains('2'), "{q}");
            assert!(!q.hint().is_empty());
        }
        other => panic!("the third plan of the day is refused, not {other:?}"),
    }
    // An anonymous requester counts the same way, and another owner is not affected.
    let other = OwnerId::new("quota-plans-other");
    let job = app
        .planner()
        .start_anonymous(&other, trip(1, "quota: another owner"))
        .await
        .expect("another owner plans");
    follow(&job).await;
    assert_eq!(
        app.planner().delete_expired().await.expect("sweeps"),
        0,
        "a plan kept for days is not deleted at once"
    );
    assert!(
        app.planner().finished(&other, &job.id).await.is_ok(),
        "the anonymous plan is saved until it expires"
    );
    app.close().await.expect("the store closes");
}

#[tokio::test(flavor = "multi_thread")]
async fn lists_and_items_over_their_quota_are_refused() {
    let app = app(None, |c| {
        c.limits.lists_per_user = 1;
        c.limits.items_per_list = 1;
    })
    .await;
    let owner = OwnerId::new("quota-lists-owner");
    let lists = app.lists();
    let list = lists
        .create(&owner, "Packing")
        .await
        .expect("the first list");
    assert!(matches!(
        lists.create(&owner, "Groceries").await,
        Err(AppError::Quota(Quota::Lists(1)))
    ));
    let item = |name: &str| NewItem {
        name: name.to_owned(),
        qty_home: 0,
        qty_take: 1,
    };
    lists
        .add_item(&owner, &list.id, item("Sunscreen"))
        .await
        .expect("the first item");
    assert!(matches!(
        lists.add_item(&owner, &list.id, item("Hat")).await,
        Err(AppError::Quota(Quota::Items(1)))
    ));
    // Another owner still has room.
    lists
        .create(&OwnerId::new("quota-lists-other"), "Packing")
        .await
        .expect("another owner's list");
    app.close().await.expect("the store closes");
}

/// An app over `llm` with `owner`'s 1-day plan started and its prose being written.
async fn writing(
    llm: Arc<ScriptedLlm>,
    owner: &OwnerId,
    prefs: &str,
) -> (tripwright_app::App, Arc<PlanJob>) {
    let app = app(Some(llm), |_| {}).await;
    let job = app
        .planner()
        .start(owner, trip(1, prefs))
        .await
        .expect("starts");
    until_text(&job).await;
    (app, job)
}

/// A store of this test's own (a copy of the shared one, with its places), so that the plan a
/// shutdown hands back is claimed by this test's next server and no other test's.
async fn own_store() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let shared = tripwright_store::SqliteStore::open(&crate::support::config().store_path())
        .await
        .expect("the shared store opens");
    shared
        .backup(&dir.path().join("tripwright.sqlite"))
        .await
        .expect("a copy of the shared store");
    dir
}

#[tokio::test(flavor = "multi_thread")]
async fn a_shutdown_hands_a_stuck_plan_back_and_the_next_server_makes_it() {
    let dir = own_store().await;
    let data_dir = dir.path().to_path_buf();
    let hang = Arc::new(AtomicBool::new(true));
    let llm = {
        let hang = Arc::clone(&hang);
        ScriptedLlm::new(move |_: &ChatRequest| {
            assert!(hang.load(Ordering::SeqCst));
            Reply::Hang("This day".into())
        })
    };
    let owner = OwnerId::new("shutdown-owner");
    let app = app(Some(llm), |c| c.data_dir.clone_from(&data_dir)).await;
    let job = app
        .planner()
        .start(&owner, trip(1, "shutdown: a stuck model"))
        .await
        .expect("starts");
    until_text(&job).await;
    let started = tokio::time::Instant::now();
    app.planner().shut_down(Duration::from_millis(200)).await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the wait is bounded: {:?}",
        started.elapsed()
    );
    // The stream here ends on the notice: the plan is handed back, not failed.
    let events = follow(&job).await;
    assert_eq!(
        events.last().map(|e| &**e),
        Some(&PlanEvent::Notice {
            message: HANDED_BACK_MESSAGE.to_owned()
        })
    );
    assert!(!events.iter().any(|e| e.is_terminal()), "{events:?}");
    assert!(matches!(
        app.planner()
            .start(&owner, trip(1, "shutdown: after"))
            .await,
        Err(AppError::Busy)
    ));
    app.close().await.expect("the store closes");

    // The next server over the same store claims the plan and makes it again; its page says
    // why it starts over. Its owner sees it, no one else does.
    let llm = ScriptedLlm::new(|_: &ChatRequest| Reply::Text("A calm day of museums.".into()));
    let next = app_with(Some(llm), &data_dir).await;
    let queue = {
        let planner = next.planner().clone();
        tokio::spawn(async move { planner.run_queue().await })
    };
    assert!(matches!(
        next.planner()
            .owned(&OwnerId::new("shutdown-stranger"), &job.id)
            .await,
        Err(AppError::NotFound(_))
    ));
    let again = tokio::time::timeout(Duration::from_secs(60), async {
        loop {
            let job = next
                .planner()
                .owned(&owner, &job.id)
                .await
                .expect("the owner finds the plan after the restart");
            if !job.is_mirror() {
                return job;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await
    .expect("the next server claims the plan");
    let events = follow(&again).await;
    assert_eq!(
        events.last().map(|e| &**e),
        Some(&PlanEvent::Done { id: job.id.clone() })
    );
    assert!(
        events.iter().any(|e| **e
            == PlanEvent::Notice {
                message: HANDED_BACK_MESSAGE.to_owned()
            }),
        "the replayed log keeps the first server's words"
    );
    assert!(events.iter().any(|e| **e
        == PlanEvent::Notice {
            message: RESTARTED_MESSAGE.to_owned()
        }));
    assert_eq!(again.request.prefs, "shutdown: a stuck model");
    let plan = next
        .planner()
        .finished(&owner, &job.id)
        .await
        .expect("the plan is made and saved");
    assert_eq!(plan.itinerary.days.len(), 1);
    queue.abort();
    next.close().await.expect("the store closes");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_replica_that_lost_its_lease_stops_the_plan_here_and_writes_nothing_more() {
    use tripwright_store::{JobStatus, JobStore as _};
    let dir = own_store().await;
    let data_dir = dir.path().to_path_buf();
    let llm = ScriptedLlm::new(|_: &ChatRequest| Reply::Hang("This day".into()));
    let owner = OwnerId::new("lost-lease-owner");
    let app = app(Some(llm), |c| {
        c.data_dir.clone_from(&data_dir);
        c.web.job_lease_secs = 1;
    })
    .await;
    let job = app
        .planner()
        .start(&owner, trip(1, "lost lease: a stuck model"))
        .await
        .expect("starts");
    until_text(&job).await;
    // Another replica takes the plan over behind this one's back (as after a database outage
    // longer than the lease): attempt 2 holds it now.
    let other = tripwright_store::SqliteStore::open(&data_dir.join("tripwright.sqlite"))
        .await
        .expect("a second connection to the store");
    assert!(other.requeue_job(&job.id, 1).await.expect("requeues"));
    let taken = other
        .claim_job("another replica", Duration::from_secs(60))
        .await
        .expect("claims")
        .expect("the plan is claimable");
    assert_eq!((taken.id.clone(), taken.attempt), (job.id.clone(), 2));
    // At its next renewal this replica learns it and stops the plan here, in words.
    let events = follow(&job).await;
    match events.last().map(|e| &**e) {
        Some(PlanEvent::Failed { message }) => {
            assert!(message.contains("reload the page"), "{message}");
        }
        other => panic!("the stream ends with the reason, not {other:?}"),
    }
    // Nothing of that is written to the store: the log and the job are the other replica's.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let log = other
        .job_events(&job.id, 0, 10_000)
        .await
        .expect("the log reads");
    assert!(!log.is_empty());
    assert!(
        log.iter().all(|e| !e.contains(r#""event":"failed""#)),
        "{log:?}"
    );
    assert!(matches!(
        other.job(&job.id).await.expect("reads").map(|(_, s)| s),
        Some(JobStatus::Running { .. })
    ));
    // Asked again, this replica follows the plan from the store.
    let again = app
        .planner()
        .owned(&owner, &job.id)
        .await
        .expect("the owner still finds the plan");
    assert!(again.is_mirror());
    app.close().await.expect("the store closes");
}

/// An app over the store in `data_dir` with `llm`.
async fn app_with(
    llm: Option<Arc<ScriptedLlm>>,
    data_dir: &std::path::Path,
) -> tripwright_app::App {
    let data_dir = data_dir.to_path_buf();
    app(
        llm.map(|l| l as Arc<dyn tripwright_llm::LlmClient>),
        move |c| c.data_dir = data_dir,
    )
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cancelled_plan_still_says_so_after_a_restart() {
    let llm = ScriptedLlm::new(|_: &ChatRequest| Reply::Hang("This day".into()));
    let owner = OwnerId::new("cancel-restart-owner");
    let (app, job) = writing(llm, &owner, "cancel: then restart").await;
    app.planner()
        .cancel(&owner, &job.id)
        .await
        .expect("cancels");
    app.close().await.expect("the store closes");
    let next = crate::support::app(None, |_| {}).await;
    let again = next
        .planner()
        .owned(&owner, &job.id)
        .await
        .expect("found after the restart");
    assert_eq!(again.state(), JobState::Cancelled);
    let events = follow(&again).await;
    assert_eq!(events.last().map(|e| &**e), Some(&PlanEvent::Cancelled));
    next.close().await.expect("the store closes");
}
