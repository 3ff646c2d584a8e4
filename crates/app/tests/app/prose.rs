//! A plan's prose on a scripted model over the real agents: streamed slot by slot and kept
//! as written, names respelled, other places refused, and a plan that is complete without
//! prose when the model fails.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tripwright_agents::AgentName;
use tripwright_agents::intros::day_intro;
use tripwright_agents::itinerary::is_activity;
use tripwright_app::planning::{AgentState, JobState, PlanEvent, Slot};
use tripwright_app::{App, SavedPlans};
use tripwright_domain::{OwnerId, Plan};
use tripwright_llm::{ChatRequest, LlmClient, LlmError};
use tripwright_testkit::scripted::{Prompt, Reply, ScriptedLlm, Writer};

use crate::support::{PLAN_TIMEOUT, app, config, follow, trip};

/// What the events wrote into each slot: the pieces of its last attempt, whether an attempt
/// was refused (its text replaced by nothing), and the text it was finally replaced by.
#[derive(Debug, Default, Clone, PartialEq)]
struct Streamed {
    pieces: String,
    all_pieces: String,
    refused: usize,
    kept: Option<String>,
}

fn streamed(events: &[Arc<PlanEvent>]) -> BTreeMap<Slot, Streamed> {
    let mut slots: BTreeMap<Slot, Streamed> = BTreeMap::new();
    for e in events {
        if let PlanEvent::Text {
            agent,
            slot,
            text,
            replace,
        } = &**e
        {
            assert_eq!(*agent, AgentName::Itinerary, "{slot:?}");
            let s = slots.entry(*slot).or_default();
            if *replace {
                if text.is_empty() && s.kept.is_none() {
                    s.refused += 1;
                    s.pieces.clear();
                } else {
                    assert!(s.kept.is_none(), "one kept text per slot: {slot:?}");
                    s.kept = Some(text.clone());
                }
            } else {
                assert!(s.kept.is_none(), "no piece after the kept text: {slot:?}");
                s.pieces.push_str(text);
                s.all_pieces.push_str(text);
            }
        }
    }
    slots
}

/// The plan's `prose` check, which must be there.
fn prose_check(plan: &Plan) -> &tripwright_domain::Check {
    plan.checks
        .iter()
        .find(|c| c.name == "prose")
        .unwrap_or_else(|| panic!("a prose check: {:?}", plan.checks))
}

/// Makes a plan for `owner` and returns its events and the finished plan.
async fn make(
    app: &App,
    owner: &OwnerId,
    days: u8,
    prefs: &str,
) -> (Vec<Arc<PlanEvent>>, Arc<Plan>) {
    let job = app
        .planner()
        .start(owner, trip(days, prefs))
        .await
        .expect("the plan starts");
    let events = follow(&job).await;
    assert_eq!(
        events.last().map(|e| &**e),
        Some(&PlanEvent::Done { id: job.id.clone() }),
        "{events:?}"
    );
    let plan = app
        .planner()
        .finished(owner, &job.id)
        .await
        .expect("the plan is done");
    (events, plan)
}

/// `name` with its last letter changed, when it is a name the writer's respelling reaches:
/// capitalised words of letters, long enough for one edit to be a near miss.
fn misspelt(name: &str) -> Option<String> {
    let spellable = name.chars().count() >= 6
        && name.split(' ').all(|w| {
            w.chars().next().is_some_and(char::is_uppercase) && w.chars().all(char::is_alphabetic)
        });
    if !spellable {
        return None;
    }
    let mut chars: Vec<char> = name.chars().collect();
    let last = chars.len() - 1;
    chars[last] = if chars[last] == 'x' { 'y' } else { 'x' };
    Some(chars.into_iter().collect())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_plans_prose_streams_for_each_day_and_is_kept_as_written_with_names_respelled() {
    let writer = Writer::new();
    // The first note about a place whose name can be misspelt is written misspelt.
    let misspelling: Arc<Mutex<Option<(String, String)>>> = Arc::default();
    let llm = {
        let (writer, misspelling) = (Arc::clone(&writer), Arc::clone(&misspelling));
        ScriptedLlm::new(move |request: &ChatRequest| {
            let prompt = Prompt::of(request);
            let Some(text) = writer.answer(&prompt) else {
                return Reply::Fail(LlmError::BadRequest("not prose".into()));
            };
            let mut m = misspelling.lock().expect("lock");
            if let Prompt::Note { place, .. } = &prompt
                && m.is_none()
                && let Some(wrong) = misspelt(place)
            {
                *m = Some((place.clone(), wrong.clone()));
                return Reply::Text(text.replacen(place.as_str(), &wrong, 1));
            }
            Reply::Text(text)
        })
    };
    // The whole start-up, with the scripted model given in place of the configured one.
    let (app, _) = App::load_with_llm(config(), Arc::clone(&llm) as Arc<dyn LlmClient>)
        .await
        .expect("the app loads");
    let owner = OwnerId::new("prose-owner");
    let (events, plan) = make(&app, &owner, 2, "prose streams: museums and coffee").await;

    // Each agent runs, then is done; none fails.
    for agent in tripwright_app::planning::AGENTS {
        let at = |state: AgentState| {
            events.iter().position(|e| {
                matches!(&**e, PlanEvent::Agent { agent: a, state: s, error: None, .. } if *a == agent && *s == state)
            })
        };
        let (running, done) = (at(AgentState::Running), at(AgentState::Done));
        assert!(running.is_some() && running < done, "{agent:?}: {events:?}");
    }
    let slots = streamed(&events);
    let (name, wrong) = misspelling
        .lock()
        .expect("lock")
        .clone()
        .expect("a stop's name could be misspelt");
    assert_eq!(plan.itinerary.days.len(), 2);
    for day in &plan.itinerary.days {
        assert!(!day.stops.is_empty(), "day {}", day.day);
        // The intro is built from the day's stops, not asked of the model.
        assert_eq!(day.intro, day_intro(&day.weekday, &day.stops));
        for (i, stop) in day.stops.iter().enumerate() {
            let slot = Slot::Note {
                day: day.day,
                stop: u8::try_from(i).expect("few stops"),
            };
            if !is_activity(stop.kind) {
                // An eatery shows its data; the model is not asked about it.
                assert!(writer.note(&stop.name).is_none(), "{}", stop.name);
                assert!(stop.note.is_empty() && !slots.contains_key(&slot));
                continue;
            }
            let note = writer.note(&stop.name).expect("a note");
            assert_eq!(stop.note, note, "{}", stop.name);
            let s = &slots[&slot];
            assert_eq!(s.kept.as_deref(), Some(note.as_str()), "{slot:?}");
            assert_eq!(s.refused, 0, "{slot:?}");
            if stop.name == name {
                // The model's misspelling streamed; the plan has the name as the data spells it.
                assert_eq!(s.pieces, note.replacen(name.as_str(), &wrong, 1));
                assert!(!stop.note.contains(&wrong));
            } else {
                assert_eq!(s.pieces, note, "{slot:?}");
            }
        }
    }
    // The summary is built from the data too: no text streams into it.
    assert!(
        plan.summary.text.starts_with("A 2-day trip to Helsinki"),
        "{}",
        plan.summary.text
    );
    assert_eq!(slots.len(), writer.written().len());
    let check = prose_check(&plan);
    assert!(check.passed, "{check:?}");
    assert!(
        check
            .detail
            .starts_with("written by scripted-model and checked against the place data:")
            && check.detail.contains("caught: nothing")
            && check
                .detail
                .contains("0 sentences removed, 1 name respelled"),
        "{check:?}"
    );
    // Every request went through the scripted model, one per text: a note per sight.
    let texts = plan
        .itinerary
        .days
        .iter()
        .map(|d| d.stops.iter().filter(|s| is_activity(s.kind)).count())
        .sum::<usize>();
    assert_eq!(llm.requests().len(), texts);
    // The plan was saved as it was made.
    let saved = SavedPlans::open(app.config())
        .await
        .expect("the store opens")
        .get(&plan.id)
        .await
        .expect("the store reads")
        .expect("the plan was saved");
    assert_eq!(saved, *plan);
    app.close().await.expect("the store closes");
}

/// The prefs of the grounding tests' plans: every plan made with them (on a new app, so not
/// from a cache) has the same stops, so the model can be scripted to name a place of day 2 in
/// a note of day 1.
const GROUNDING: &str = "grounding: the places";

/// The stops of a 2-day plan made with [`GROUNDING`]: (the first sight of day 1, the names of
/// day 2 that the grounding check matches and day 1 does not contain).
async fn grounding_days() -> (String, Vec<String>) {
    let app = app(Some(Writer::new().model()), |_| {}).await;
    let (_, plan) = make(&app, &OwnerId::new("grounding-source"), 2, GROUNDING).await;
    app.close().await.expect("the store closes");
    let day1: Vec<String> = plan.itinerary.days[0]
        .stops
        .iter()
        .map(|s| s.name.to_lowercase())
        .collect();
    let first = plan.itinerary.days[0]
        .stops
        .iter()
        .find(|s| is_activity(s.kind))
        .expect("day 1 has a sight")
        .name
        .clone();
    let others = plan.itinerary.days[1]
        .stops
        .iter()
        .map(|s| s.name.clone())
        // Names the grounding check matches (five letters or more), and only that check: a
        // figure in a name would be caught as well.
        .filter(|n| {
            n.chars().count() >= 5 && n.chars().all(|c| c.is_alphabetic() || " -'".contains(c))
        })
        .filter(|n| {
            let n = n.to_lowercase();
            day1.iter()
                .all(|d| !d.contains(&n) && !n.contains(d.as_str()))
        })
        .collect();
    (first, others)
}

/// A model that writes with `writer`, but names a place of day 2 in the note of day 1's
/// first sight `target`: on its first attempt only, or (`always`) on every attempt. Returns
/// the model and the place it named.
fn naming_another_place(
    writer: &Arc<Writer>,
    target: String,
    day2: Vec<String>,
    always: bool,
) -> (Arc<ScriptedLlm>, Arc<Mutex<Option<String>>>) {
    let named: Arc<Mutex<Option<String>>> = Arc::default();
    let llm = {
        let (writer, named) = (Arc::clone(writer), Arc::clone(&named));
        ScriptedLlm::new(move |request: &ChatRequest| {
            let prompt = Prompt::of(request);
            let Some(text) = writer.answer(&prompt) else {
                return Reply::Fail(LlmError::BadRequest("not prose".into()));
            };
            match &prompt {
                Prompt::Note { place, avoid, .. }
                    if *place == target && (always || avoid.is_empty()) =>
                {
                    let other = day2.first().expect("a place of day 2").clone();
                    *named.lock().expect("lock") = Some(other.clone());
                    // In the one sentence asked for (a second one is never generated), and
                    // in its first clause, so that no part of it can be kept.
                    Reply::Text(format!("Near {other}, {text}"))
                }
                _ => Reply::Text(text),
            }
        })
    };
    (llm, named)
}

/// `llm`, taking 3 s for each note about `place` (so that two plans' writing overlaps).
fn slow_about(llm: Arc<ScriptedLlm>, place: String) -> Arc<ScriptedLlm> {
    ScriptedLlm::new(move |request: &ChatRequest| {
        let reply = llm.reply_to(request);
        match Prompt::of(request) {
            Prompt::Note { place: p, .. } if p == place => {
                Reply::Stall(Duration::from_secs(3), Box::new(reply))
            }
            _ => reply,
        }
    })
}

/// The attempts at the note about `place`, with their prompts.
fn notes_about(writer: &Writer, place: &str) -> Vec<(Prompt, String)> {
    writer
        .written()
        .into_iter()
        .filter(|(p, _)| matches!(p, Prompt::Note { place: n, .. } if n == place))
        .collect()
}

/// Where stop `name` is in day 1 of `plan`, as a slot.
fn slot_of(plan: &Plan, name: &str) -> Slot {
    let i = plan.itinerary.days[0]
        .stops
        .iter()
        .position(|s| s.name == name)
        .unwrap_or_else(|| panic!("{name} is in day 1 as planned before"));
    Slot::Note {
        day: 1,
        stop: u8::try_from(i).expect("few stops"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_text_naming_another_place_is_written_again_or_loses_that_sentence() {
    let (target, day2) = grounding_days().await;
    assert!(!day2.is_empty(), "day 2 has a place the check can match");

    // Named on the first attempt: written again, told not to mention it.
    let writer = Writer::new();
    let (llm, named) = naming_another_place(&writer, target.clone(), day2.clone(), false);
    let planner = app(Some(Arc::clone(&llm) as Arc<dyn LlmClient>), |_| {}).await;
    let (events, plan) = make(&planner, &OwnerId::new("grounding-once"), 2, GROUNDING).await;
    let other = named
        .lock()
        .expect("lock")
        .clone()
        .expect("a place was named");
    let notes = notes_about(&writer, &target);
    assert_eq!(notes.len(), 2, "{notes:?}");
    assert!(matches!(&notes[0].0, Prompt::Note { avoid, .. } if avoid.is_empty()));
    assert!(
        matches!(&notes[1].0, Prompt::Note { avoid, .. } if *avoid == [other.clone()]),
        "{notes:?}"
    );
    let slot = slot_of(&plan, &target);
    let Slot::Note { stop, .. } = slot;
    assert_eq!(
        plan.itinerary.days[0].stops[usize::from(stop)].note,
        notes[1].1
    );
    let s = &streamed(&events)[&slot];
    assert!(
        s.all_pieces.contains(&other),
        "the first attempt streamed: {s:?}"
    );
    assert_eq!(s.refused, 1, "then was replaced: {s:?}");
    assert_eq!(s.pieces, notes[1].1);
    assert_eq!(s.kept.as_deref(), Some(notes[1].1.as_str()));
    let check = prose_check(&plan);
    assert!(check.passed, "{check:?}");
    assert!(
        // The other place's name is no word of the stop's data either: a claim as well.
        check
            .detail
            .contains("caught: 1 another place named, 1 unsupported claim;")
            && check.detail.contains("0 sentences removed"),
        "{check:?}"
    );
    planner.close().await.expect("the store closes");

    // Named on every attempt: the sentence is dropped, the note is left empty rather than
    // false, and the check says both.
    let writer = Writer::new();
    let (llm, named) = naming_another_place(&writer, target.clone(), day2.clone(), true);
    let planner = app(Some(Arc::clone(&llm) as Arc<dyn LlmClient>), |_| {}).await;
    let (_, plan) = make(&planner, &OwnerId::new("grounding-always"), 2, GROUNDING).await;
    let other = named
        .lock()
        .expect("lock")
        .clone()
        .expect("a place was named");
    let attempts = notes_about(&writer, &target);
    assert_eq!(attempts.len(), 2, "{attempts:?}");
    assert!(
        matches!(&attempts[1].0, Prompt::Note { avoid, .. } if *avoid == [other.clone()]),
        "{attempts:?}"
    );
    let Slot::Note { stop, .. } = slot_of(&plan, &target);
    assert_eq!(plan.itinerary.days[0].stops[usize::from(stop)].note, "");
    let check = prose_check(&plan);
    assert!(!check.passed, "a missing note is reported: {check:?}");
    assert!(
        check.detail.starts_with("1 note missing;")
            && check
                .detail
                .contains("caught: 2 another place named, 2 unsupported claim;")
            && check.detail.contains("1 sentence removed"),
        "{check:?}"
    );
    planner.close().await.expect("the store closes");

    // Two plans written at once (each note about the target takes 3 s, so their writing
    // overlaps): a caught text is not written again while the other plan waits for the
    // model, and its check says so; alone, it was written again (above).
    let writer = Writer::new();
    let (named_llm, _) = naming_another_place(&writer, target.clone(), day2, true);
    let slow = slow_about(named_llm, target.clone());
    // No plan cache: the second plan, asked for the same trip, is made too. Texts are
    // written again only while one plan is being written.
    let planner = app(Some(Arc::clone(&slow) as Arc<dyn LlmClient>), |c| {
        c.web.plan_cache = 0;
        c.llm.rewrite_while_plans = 1;
    })
    .await;
    let (one, two) = (
        OwnerId::new("grounding-busy-one"),
        OwnerId::new("grounding-busy-two"),
    );
    let (a, b) = tokio::join!(
        make(&planner, &one, 2, GROUNDING),
        make(&planner, &two, 2, GROUNDING),
    );
    let tries = notes_about(&writer, &target).len();
    assert!(
        tries < 4,
        "{tries} notes about {target}: every caught one was written again"
    );
    let details: Vec<String> = [&a.1, &b.1]
        .iter()
        .map(|p| prose_check(p).detail.clone())
        .collect();
    assert!(
        details
            .iter()
            .any(|d| d.contains("1 text not written again while other plans were written")),
        "{details:?}"
    );
    planner.close().await.expect("the store closes");

    // By default (`llm.rewrite_while_plans = 4`) two plans at once are both written again.
    let writer = Writer::new();
    let (named_llm, _) =
        naming_another_place(&writer, target.clone(), grounding_days().await.1, true);
    let slow = slow_about(named_llm, target.clone());
    let planner = app(Some(Arc::clone(&slow) as Arc<dyn LlmClient>), |c| {
        c.web.plan_cache = 0;
    })
    .await;
    let (a, b) = tokio::join!(
        make(&planner, &one, 2, GROUNDING),
        make(&planner, &two, 2, GROUNDING),
    );
    assert_eq!(notes_about(&writer, &target).len(), 4, "two tries per plan");
    for plan in [&a.1, &b.1] {
        let detail = &prose_check(plan).detail;
        assert!(!detail.contains("not written again"), "{detail}");
    }
    planner.close().await.expect("the store closes");
}

/// Makes a plan with `llm` and checks it is complete without prose, with the warning that
/// names `error`.
async fn complete_without_prose(
    llm: Arc<ScriptedLlm>,
    prefs: &str,
    error: &LlmError,
) -> Vec<Arc<PlanEvent>> {
    let app = app(Some(Arc::clone(&llm) as Arc<dyn LlmClient>), |_| {}).await;
    let owner = OwnerId::new(format!("degraded {prefs}"));
    let job = app
        .planner()
        .start(&owner, trip(2, prefs))
        .await
        .expect("starts");
    let events = follow(&job).await;
    assert_eq!(job.state(), JobState::Done, "{prefs}: {events:?}");
    let plan = job.plan().expect("a plan");
    let warning = format!(
        "the itinerary prose could not be written ({}); the plan is complete without it",
        error.summary()
    );
    assert!(
        plan.warnings.contains(&warning),
        "{prefs}: {:?}",
        plan.warnings
    );
    // The provider's own words (an address, its reply) are for the log, not the traveller.
    if let LlmError::Unavailable(detail) | LlmError::BadRequest(detail) | LlmError::Engine(detail) =
        error
    {
        assert!(
            !plan.warnings.iter().any(|w| w.contains(detail.as_str())),
            "{prefs}: {:?}",
            plan.warnings
        );
    }
    assert!(
        !plan.checks.iter().any(|c| c.name == "prose"),
        "{prefs}: no prose, no prose check"
    );
    assert!(!plan.itinerary.days.is_empty());
    for day in &plan.itinerary.days {
        assert!(!day.stops.is_empty(), "the stops are planned all the same");
        assert_eq!(day.intro, day_intro(&day.weekday, &day.stops));
        assert!(day.stops.iter().all(|s| s.note.is_empty()));
    }
    assert!(
        plan.summary.text.starts_with("A 2-day trip to Helsinki"),
        "{}",
        plan.summary.text
    );
    // No agent failed: the itinerary is there, without its prose.
    assert!(
        job.snapshot()
            .agents
            .iter()
            .all(|a| a.state == AgentState::Done),
        "{prefs}"
    );
    assert!(!llm.requests().is_empty(), "{prefs}: the model was asked");
    app.close().await.expect("the store closes");
    events
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failing_cut_off_or_stalled_model_leaves_a_complete_plan_with_a_warning() {
    let writer = Writer::new();
    let text = |w: &Writer, r: &ChatRequest| w.answer(&Prompt::of(r)).unwrap_or_default();

    // The provider is down.
    let down = LlmError::Unavailable("HTTP 503".into());
    let e = down.clone();
    complete_without_prose(
        ScriptedLlm::new(move |_| Reply::Fail(e.clone())),
        "degraded: down",
        &down,
    )
    .await;

    // The connection breaks after a few words: what streamed is not kept.
    let cut = LlmError::Unavailable("the connection was reset".into());
    let (w, e) = (Arc::clone(&writer), cut.clone());
    let events = complete_without_prose(
        ScriptedLlm::new(move |r| Reply::CutOff {
            text: text(&w, r),
            after: 3,
            error: e.clone(),
        }),
        "degraded: cut off",
        &cut,
    )
    .await;
    assert!(
        events
            .iter()
            .any(|e| matches!(&**e, PlanEvent::Text { text, .. } if !text.is_empty())),
        "the first words streamed"
    );

    // The model stalls before its first word, past its client's deadline.
    let late = LlmError::Timeout(Duration::from_millis(300));
    let e = late.clone();
    complete_without_prose(
        ScriptedLlm::new(move |_| {
            Reply::Stall(Duration::from_millis(300), Box::new(Reply::Fail(e.clone())))
        }),
        "degraded: stalled",
        &late,
    )
    .await;

    // The model stalls mid-answer, past its client's deadline between two words.
    let (w, e) = (Arc::clone(&writer), late.clone());
    complete_without_prose(
        ScriptedLlm::new(move |r| Reply::CutOff {
            text: text(&w, r),
            after: 2,
            error: e.clone(),
        }),
        "degraded: idle",
        &late,
    )
    .await;

    // A slow model that answers is waited for: its prose is kept.
    let w = Arc::clone(&writer);
    let slow = ScriptedLlm::new(move |r| {
        Reply::Stall(
            Duration::from_millis(200),
            Box::new(Reply::Text(text(&w, r))),
        )
    });
    let app = app(Some(slow as Arc<dyn LlmClient>), |_| {}).await;
    let (_, plan) = tokio::time::timeout(
        PLAN_TIMEOUT,
        make(&app, &OwnerId::new("degraded-slow"), 1, "degraded: slow"),
    )
    .await
    .expect("in time");
    assert!(prose_check(&plan).passed);
    assert!(
        plan.itinerary.days[0]
            .stops
            .iter()
            .any(|s| !s.note.is_empty())
    );
    assert!(
        plan.warnings.iter().all(|w| !w.contains("prose")),
        "{:?}",
        plan.warnings
    );
    app.close().await.expect("the store closes");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_busy_model_is_waited_for_and_the_prose_is_still_written() {
    // The model's queue is full for the first dozen requests (other plans, `/v1` clients).
    let writer = Writer::new();
    let refused = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let llm = {
        let (writer, refused) = (Arc::clone(&writer), Arc::clone(&refused));
        ScriptedLlm::new(move |request: &ChatRequest| {
            if refused.fetch_add(1, std::sync::atomic::Ordering::SeqCst) < 12 {
                return Reply::Fail(LlmError::Busy);
            }
            writer.answer(&Prompt::of(request)).map_or(
                Reply::Fail(LlmError::BadRequest("not prose".into())),
                Reply::Text,
            )
        })
    };
    let app = app(Some(Arc::clone(&llm) as Arc<dyn LlmClient>), |_| {}).await;
    let (_, plan) = make(&app, &OwnerId::new("busy-model"), 1, "busy: wait for it").await;
    assert!(refused.load(std::sync::atomic::Ordering::SeqCst) > 12);
    let check = prose_check(&plan);
    assert!(check.passed, "{check:?}");
    assert!(
        !plan.warnings.iter().any(|w| w.contains("busy")),
        "{:?}",
        plan.warnings
    );
    let day = &plan.itinerary.days[0];
    for stop in day.stops.iter().filter(|s| is_activity(s.kind)) {
        assert_eq!(
            Some(stop.note.clone()),
            writer.note(&stop.name),
            "{}",
            stop.name
        );
    }
    app.close().await.expect("the store closes");
}
