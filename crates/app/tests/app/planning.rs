//! Running plans on a scripted model over the real agents: cancel while the model hangs, a
//! model that panics, a start date out of range, the deadline, and rewriting a day.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tripwright_agents::AgentName;
use tripwright_app::planning::{AgentState, JobState, PlanEvent, PlanJob, Section, Slot};
use tripwright_app::{App, AppError, Invalid, Missing, SavedPlans};
use tripwright_domain::{InvalidRequest, OwnerId, Plan, TripRequest};
use tripwright_llm::{ChatRequest, LlmClient};
use tripwright_testkit::scripted::{Reply, ScriptedLlm, Writer};

use crate::support::{PLAN_TIMEOUT, app, follow, trip, until_text};

/// A model that writes with `writer`, or hangs after its first words while `hang` is set.
fn hanging_while(writer: &Arc<Writer>, hang: &Arc<AtomicBool>) -> Arc<dyn LlmClient> {
    let (writer, hang) = (Arc::clone(writer), Arc::clone(hang));
    ScriptedLlm::new(move |request: &ChatRequest| {
        if hang.load(Ordering::SeqCst) {
            Reply::Hang("This day".into())
        } else {
            writer.reply(request)
        }
    })
}

/// Rewrites day 1 of `owner`'s `plan` and follows the rewrite to its end.
async fn rewrite_day_one(
    app: &App,
    owner: &OwnerId,
    plan: &Plan,
) -> (Arc<PlanJob>, Vec<Arc<PlanEvent>>) {
    let job = app
        .planner()
        .rewrite_day(owner, &plan.id, 1)
        .await
        .expect("the rewrite starts");
    let events = tokio::time::timeout(PLAN_TIMEOUT, follow(&job))
        .await
        .expect("in time");
    (job, events)
}

/// Starts a plan, retrying while the planner is busy (a slot is freed just after its job
/// ends), and fails the test when no slot frees within ten seconds.
async fn start_when_free(app: &App, owner: &OwnerId, req: TripRequest) -> Arc<PlanJob> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        match app.planner().start(owner, req.clone()).await {
            Ok(job) => return job,
            Err(AppError::Busy) if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Err(e) => panic!("the plan does not start: {e:?}"),
        }
    }
}

/// Makes a plan to the end.
async fn made(app: &App, owner: &OwnerId, req: TripRequest) -> Arc<Plan> {
    let job = start_when_free(app, owner, req).await;
    let events = follow(&job).await;
    assert!(
        matches!(events.last().map(|e| &**e), Some(PlanEvent::Done { .. })),
        "{events:?}"
    );
    job.plan().expect("a plan")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_plan_is_cancelled_while_the_model_hangs_and_its_slot_is_freed() {
    let (writer, hang) = (Writer::new(), Arc::new(AtomicBool::new(true)));
    let app = app(Some(hanging_while(&writer, &hang)), |c| {
        c.web.max_running = 1
    })
    .await;
    let owner = OwnerId::new("cancel-owner");
    let job = app
        .planner()
        .start(&owner, trip(1, "cancel: a hanging model"))
        .await
        .expect("starts");
    until_text(&job).await;
    // Listed while it is made.
    let mine = app.planner().mine(&owner, 10).await.expect("lists");
    assert_eq!(mine.len(), 1, "{mine:?}");
    assert_eq!(
        (&mine[0].id, mine[0].state),
        (&job.id, tripwright_app::MyPlanState::Making)
    );
    // Its one slot is taken.
    assert!(matches!(
        app.planner()
            .start(&owner, trip(1, "cancel: the next"))
            .await,
        Err(AppError::Busy)
    ));
    app.planner()
        .cancel(&owner, &job.id)
        .await
        .expect("cancels");
    let events = follow(&job).await;
    assert_eq!(events.last().map(|e| &**e), Some(&PlanEvent::Cancelled));
    assert!(!events.iter().any(|e| matches!(**e, PlanEvent::Done { .. })));
    assert_eq!(job.state(), JobState::Cancelled);
    let itinerary = job.snapshot().agents[2];
    assert_eq!(
        itinerary.state,
        AgentState::Failed,
        "the hanging agent shows as stopped"
    );
    assert!(matches!(
        app.planner().cancel(&owner, &job.id).await,
        Err(AppError::NotRunning)
    ));
    // Never saved, never finished.
    assert!(matches!(
        app.planner().finished(&owner, &job.id).await,
        Err(AppError::NotFound(Missing::Plan))
    ));
    // Not saved as a plan, but listed as cancelled.
    let mine = app.planner().mine(&owner, 10).await.expect("lists");
    assert_eq!(
        mine.iter()
            .map(|p| (p.id.clone(), p.state))
            .collect::<Vec<_>>(),
        [(job.id.clone(), tripwright_app::MyPlanState::Cancelled)]
    );
    assert_eq!(mine[0].prefs, "cancel: a hanging model");
    // The slot is free again: the next plan is made.
    hang.store(false, Ordering::SeqCst);
    let plan = made(&app, &owner, trip(1, "cancel: the next")).await;
    assert!(!plan.itinerary.days[0].intro.is_empty());
    app.close().await.expect("the store closes");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_model_that_panics_fails_the_plan_cleanly_and_the_next_plan_is_made() {
    let (writer, panics) = (Writer::new(), Arc::new(AtomicBool::new(true)));
    let llm = {
        let (writer, panics) = (Arc::clone(&writer), Arc::clone(&panics));
        ScriptedLlm::new(move |request: &ChatRequest| {
            if panics.load(Ordering::SeqCst) {
                Reply::Panic
            } else {
                writer.reply(request)
            }
        })
    };
    let app = app(Some(llm as Arc<dyn LlmClient>), |c| c.web.max_running = 1).await;
    let owner = OwnerId::new("panic-owner");
    let job = app
        .planner()
        .start(&owner, trip(1, "panic: a broken model"))
        .await
        .expect("starts");
    let events = follow(&job).await;
    let message = "an internal error stopped this plan; please try again";
    assert_eq!(
        events.last().map(|e| &**e),
        Some(&PlanEvent::Failed {
            message: message.into()
        }),
        "{events:?}"
    );
    assert_eq!(job.state(), JobState::Failed(message.into()));
    assert!(
        job.snapshot()
            .agents
            .iter()
            .all(|a| a.state != AgentState::Running),
        "no agent shows as running"
    );
    assert!(matches!(
        app.planner().finished(&owner, &job.id).await,
        Err(AppError::NotFound(Missing::Plan))
    ));
    // The planner goes on: its one slot is free and the next plan is made.
    panics.store(false, Ordering::SeqCst);
    let plan = made(&app, &owner, trip(1, "panic: the next")).await;
    assert!(plan.checks.iter().any(|c| c.name == "prose" && c.passed));
    app.close().await.expect("the store closes");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_start_date_serde_accepts_but_the_planner_cannot_handle_is_refused() {
    let app = app(Some(Writer::new().model() as Arc<dyn LlmClient>), |_| {}).await;
    let owner = OwnerId::new("date-owner");
    let req: TripRequest = serde_json::from_value(serde_json::json!({
        "destination": "Helsinki",
        "days": 1,
        "prefs": "date: far future",
        "start_date": "+262142-12-31"
    }))
    .expect("serde reads the largest date chrono holds");
    match app.planner().start(&owner, req).await {
        Err(AppError::Invalid {
            invalid: Invalid::Request(code),
            message,
            hint,
        }) => {
            assert_eq!(code, InvalidRequest::StartDateOutOfRange);
            assert_eq!(code.as_str(), "start_date_out_of_range");
            assert!(!message.is_empty() && hint.is_some(), "{message}");
        }
        other => panic!("refused as out of range, not {other:?}"),
    }
    assert!(
        app.planner()
            .mine(&owner, 10)
            .await
            .expect("lists")
            .is_empty()
    );
    // A normal plan works after it.
    let mut req = trip(1, "date: a normal one");
    req.start_date = chrono::NaiveDate::from_ymd_opt(2030, 6, 1);
    let plan = made(&app, &owner, req).await;
    assert_eq!(plan.itinerary.start_date.to_string(), "2030-06-01");
    app.close().await.expect("the store closes");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_plan_past_its_deadline_is_stopped_and_fails_with_a_message() {
    let llm = ScriptedLlm::new(|_| Reply::Hang("This day".into()));
    let app = app(Some(llm as Arc<dyn LlmClient>), |c| {
        c.web.plan_deadline_secs = 1;
        c.web.max_running = 1;
    })
    .await;
    let owner = OwnerId::new("deadline-owner");
    let job = app
        .planner()
        .start(&owner, trip(1, "deadline: a hanging model"))
        .await
        .expect("starts");
    let events = follow(&job).await;
    let Some(PlanEvent::Failed { message }) = events.last().map(|e| &**e) else {
        panic!("the plan fails: {events:?}");
    };
    assert!(
        message.starts_with("the plan took longer than ")
            && message.contains(" and was stopped; try again, perhaps with fewer days"),
        "{message}"
    );
    assert_eq!(job.state(), JobState::Failed(message.clone()));
    // Its slot is free again.
    let next = start_when_free(&app, &owner, trip(1, "deadline: the next")).await;
    app.planner()
        .cancel(&owner, &next.id)
        .await
        .expect("cancels");
    app.close().await.expect("the store closes");
}

/// The texts the model wrote for day `day` of `plan`: its notes (the intro is built from the
/// stops).
fn texts(plan: &Plan, day: u8) -> Vec<String> {
    let d = &plan.itinerary.days[usize::from(day) - 1];
    d.stops
        .iter()
        .map(|s| s.note.clone())
        // Meals and coffee breaks have no note.
        .filter(|t| !t.is_empty())
        .collect()
}

/// A rewrite's events: the itinerary agent runs (for `day`), text, the agent is done, the
/// day's sections, `Done`.
fn assert_rewrite_events(events: &[Arc<PlanEvent>], day: u8, id: &tripwright_domain::PlanId) {
    assert!(
        matches!(&*events[0], PlanEvent::Agent { agent: AgentName::Itinerary, state: AgentState::Running, day: Some(d), .. } if *d == day),
        "{events:?}"
    );
    let done = events
        .iter()
        .position(|e| matches!(&**e, PlanEvent::Agent { agent: AgentName::Itinerary, state: AgentState::Done, error: None, day: Some(d), .. } if *d == day))
        .unwrap_or_else(|| panic!("the rewrite ends: {events:?}"));
    let n = events.len();
    assert!(
        matches!(&*events[n - 2], PlanEvent::Sections { sections, day: Some(d), .. } if *d == day && *sections == [Section::Itinerary, Section::Map, Section::Warnings]),
        "{events:?}"
    );
    assert_eq!(*events[n - 1], PlanEvent::Done { id: id.clone() });
    assert_eq!(done, n - 3, "{events:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_note_the_model_cannot_write_better_is_kept_and_the_rewrite_says_so() {
    // Once `worse` is set, every note about the first sight of day 1 holds, in its one
    // sentence, a year its data does not: each attempt is caught whole.
    let (writer, worse) = (Writer::new(), Arc::new(AtomicBool::new(false)));
    let target: Arc<std::sync::Mutex<String>> = Arc::default();
    let llm: Arc<dyn LlmClient> = {
        let (writer, worse, target) =
            (Arc::clone(&writer), Arc::clone(&worse), Arc::clone(&target));
        ScriptedLlm::new(move |request: &ChatRequest| {
            let prompt = tripwright_testkit::scripted::Prompt::of(request);
            let reply = writer.reply(request);
            match (&prompt, reply) {
                (tripwright_testkit::scripted::Prompt::Note { place, .. }, Reply::Text(text))
                    if worse.load(Ordering::SeqCst) && *place == *target.lock().expect("lock") =>
                {
                    // First, so that no clause of it can be kept without it.
                    Reply::Text(format!("Since 1234, {text}"))
                }
                (_, reply) => reply,
            }
        })
    };
    let app = app(Some(llm), |_| {}).await;
    let owner = OwnerId::new("rewrite-not-better");
    let plan = made(&app, &owner, trip(1, "rewrite: not better")).await;
    let first = plan.itinerary.days[0]
        .stops
        .iter()
        .find(|s| !s.note.is_empty())
        .expect("a note")
        .clone();
    *target.lock().expect("lock") = first.name.clone();
    worse.store(true, Ordering::SeqCst);
    let (job, events) = rewrite_day_one(&app, &owner, &plan).await;
    let new = job.plan().expect("the plan");
    let kept = new.itinerary.days[0]
        .stops
        .iter()
        .find(|s| s.name == first.name)
        .expect("the stop stays");
    assert_eq!(kept.note, first.note, "its note is kept, not emptied");
    let notice = format!(
        "The model could not write a better note for {}: its note is kept as it was.",
        first.name
    );
    assert!(
        events
            .iter()
            .any(|e| matches!(&**e, PlanEvent::Notice { message } if *message == notice)),
        "{events:?}"
    );
    // The other notes were written anew.
    for (old, new) in plan.itinerary.days[0]
        .stops
        .iter()
        .zip(&new.itinerary.days[0].stops)
    {
        if old.name != first.name && !old.note.is_empty() {
            assert_ne!(old.note, new.note, "{}", old.name);
        }
    }
    app.close().await.expect("the store closes");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_day_is_rewritten_streamed_and_saved_but_not_while_the_plan_is_made() {
    let (writer, hang) = (Writer::new(), Arc::new(AtomicBool::new(false)));
    let app = app(Some(hanging_while(&writer, &hang)), |_| {}).await;
    let owner = OwnerId::new("rewrite-owner");
    let plan = made(&app, &owner, trip(2, "rewrite: two days")).await;
    let before = texts(&plan, 1);

    let (job, events) = rewrite_day_one(&app, &owner, &plan).await;
    assert_rewrite_events(&events, 1, &plan.id);
    let new = job.plan().expect("the plan");
    let (first, stop) = new.itinerary.days[0]
        .stops
        .iter()
        .enumerate()
        .find(|(_, s)| !s.note.is_empty())
        .expect("day 1 has a note");
    let slot = Slot::Note {
        day: 1,
        stop: u8::try_from(first).expect("few stops"),
    };
    let streamed: String = events
        .iter()
        .filter_map(|e| match &**e {
            PlanEvent::Text {
                slot: s,
                text,
                replace: false,
                ..
            } if *s == slot => Some(text.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(streamed, stop.note, "the new note streamed");
    assert_eq!(stop.note, writer.note(&stop.name).expect("written"));
    assert_eq!(
        new.itinerary.days[0].intro, plan.itinerary.days[0].intro,
        "the intro says what the day holds, as before"
    );
    let after = texts(&new, 1);
    for (old, new) in before.iter().zip(&after) {
        assert_ne!(old, new, "every text of the day is new");
    }
    assert_eq!(texts(&new, 2), texts(&plan, 2), "day 2 stays");
    assert_eq!(
        new.itinerary.days[0].stops.len(),
        plan.itinerary.days[0].stops.len()
    );
    // Saved.
    let saved = SavedPlans::open(app.config())
        .await
        .expect("opens")
        .get(&plan.id)
        .await
        .expect("reads")
        .expect("saved");
    assert_eq!(texts(&saved, 1), after);

    // Not a day the plan lacks, not someone else's plan.
    assert!(matches!(
        app.planner().rewrite_day(&owner, &plan.id, 3).await,
        Err(AppError::NoSuchDay { day: 3, days: 2 })
    ));
    assert!(matches!(
        app.planner()
            .rewrite_day(&OwnerId::new("someone else"), &plan.id, 1)
            .await,
        Err(AppError::NotFound(Missing::Plan))
    ));

    // While a day is being rewritten, another rewrite is refused; a cancel keeps the plan.
    hang.store(true, Ordering::SeqCst);
    let job = app
        .planner()
        .rewrite_day(&owner, &plan.id, 2)
        .await
        .expect("starts");
    until_text(&job).await;
    assert!(matches!(
        app.planner().rewrite_day(&owner, &plan.id, 1).await,
        Err(AppError::PlanRunning)
    ));
    app.planner()
        .cancel(&owner, &plan.id)
        .await
        .expect("cancels");
    let events = follow(&job).await;
    assert_eq!(events.last().map(|e| &**e), Some(&PlanEvent::Cancelled));
    assert_eq!(job.state(), JobState::Done, "the plan is still there");
    assert_eq!(texts(&job.plan().expect("plan"), 2), texts(&plan, 2));

    // While the plan itself is being made, its days cannot be rewritten.
    let running = app
        .planner()
        .start(&owner, trip(1, "rewrite: still running"))
        .await
        .expect("starts");
    until_text(&running).await;
    assert!(matches!(
        app.planner().rewrite_day(&owner, &running.id, 1).await,
        Err(AppError::PlanRunning)
    ));
    app.planner()
        .cancel(&owner, &running.id)
        .await
        .expect("cancels");
    app.close().await.expect("the store closes");
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_model_a_rewritten_day_is_sent_again_unchanged() {
    let app = app(None, |_| {}).await;
    let owner = OwnerId::new("no-model-owner");
    let plan = made(&app, &owner, trip(2, "rewrite: no model")).await;
    assert!(!plan.checks.iter().any(|c| c.name == "prose"));
    let job = app
        .planner()
        .rewrite_day(&owner, &plan.id, 2)
        .await
        .expect("starts");
    let events = follow(&job).await;
    assert_rewrite_events(&events, 2, &plan.id);
    assert!(!events.iter().any(|e| matches!(**e, PlanEvent::Text { .. })));
    assert_eq!(*job.plan().expect("plan"), *plan, "unchanged");
    app.close().await.expect("the store closes");
}
