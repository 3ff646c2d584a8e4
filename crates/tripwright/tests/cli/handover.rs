//! Plans that survive the replica making them: two `tripwright serve` processes on one
//! PostgreSQL database (`scripts/test.sh` starts the server). A plan started on A is followed
//! from B; A is killed (`kill -9`) mid-plan, and B claims the plan when A's lease runs out,
//! makes it again and finishes it. Then B is stopped with SIGTERM mid-plan, hands its plan
//! back, and A (started again) finishes it.

use std::io::{Read, Write};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;
use tripwright_testkit::assets::smollm2;
use tripwright_testkit::sse::parse_sse;

use super::ops::{sample, scrape};
use super::postgres::{admin_url, new_database, scalar};
use super::serve::{Serve, Session, free_addr};

/// Follows the JSON event stream of plan `id` on `serve` (as `session`) in a thread: each
/// event goes to the channel as it arrives, until a last one (done, failed, cancelled) or the
/// end of the stream. HTTP/1.0, so the body is not chunked.
fn follow(serve: &Serve, session: &Session, id: &str) -> mpsc::Receiver<(String, Value)> {
    let mut stream = serve.connect();
    stream
        .set_read_timeout(Some(Duration::from_secs(300)))
        .expect("a timeout");
    write!(
        stream,
        "GET /api/plans/{id}/events HTTP/1.0\r\nHost: t\r\nCookie: {}\r\n\r\n",
        session.cookie
    )
    .expect("asks for the events");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut text = String::new();
        let mut buf = [0u8; 16 * 1024];
        let mut sent = 0;
        loop {
            let n = match stream.read(&mut buf) {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            text.push_str(&String::from_utf8_lossy(&buf[..n]));
            let Some((_, body)) = text.split_once("\r\n\r\n") else {
                continue;
            };
            // Whole events only: up to the last blank line.
            let Some(end) = body.rfind("\n\n") else {
                continue;
            };
            let events = parse_sse(&body[..end + 2]);
            for event in events.into_iter().skip(sent) {
                sent += 1;
                let last = matches!(event.0.as_str(), "done" | "failed" | "cancelled");
                if tx.send(event).is_err() || last {
                    return;
                }
            }
        }
    });
    rx
}

/// Receives events until one named `name` (`None` when the stream ended first, or after
/// `limit`); every event received is added to `seen`.
fn until(
    rx: &mpsc::Receiver<(String, Value)>,
    name: &str,
    limit: Duration,
    seen: &mut Vec<(String, Value)>,
) -> Option<Value> {
    let deadline = Instant::now() + limit;
    loop {
        let left = deadline.checked_duration_since(Instant::now())?;
        let (event, data) = rx.recv_timeout(left).ok()?;
        seen.push((event.clone(), data.clone()));
        if event == name {
            return Some(data);
        }
    }
}

/// The notices among `events`.
fn notices(events: &[(String, Value)]) -> Vec<String> {
    events
        .iter()
        .filter(|(e, _)| e == "notice")
        .filter_map(|(_, d)| d["message"].as_str().map(str::to_owned))
        .collect()
}

/// How many of `events` are named `name`.
fn count(events: &[(String, Value)], name: &str) -> usize {
    events.iter().filter(|(e, _)| e == name).count()
}

#[test]
fn a_plan_survives_the_replica_making_it() {
    let Some(admin) = admin_url() else {
        return;
    };
    let _model_test = super::one_model_test_at_a_time();
    let url = new_database(&admin);
    let model = smollm2();
    let model = model.to_str().expect("a UTF-8 path");
    let metrics_b = free_addr();
    let env = [
        ("DATABASE_URL", url.as_str()),
        // One cookie key for both, as replicas behind one address have.
        (
            "TRIPWRIGHT_SESSION_KEY",
            "handover-test-session-key-0123456789abcdef0123456789abcdef",
        ),
        ("TRIPWRIGHT_LLM__PROVIDER", "embedded"),
        ("TRIPWRIGHT_LLM__MODEL_PATH", model),
        ("TRIPWRIGHT_WEB__JOB_LEASE_SECS", "2"),
        ("TRIPWRIGHT_WEB__SHUTDOWN_GRACE_SECS", "2"),
        ("TRIPWRIGHT_WEB__PLAN_CACHE", "0"),
    ];
    let dir_a = tempfile::tempdir().expect("tempdir");
    let dir_b = tempfile::tempdir().expect("tempdir");
    // A first: its start imports the places into the empty database.
    let mut a = Serve::start(dir_a.path(), &env);
    let mut env_b = env.to_vec();
    env_b.push(("TRIPWRIGHT_WEB__METRICS_ADDR", metrics_b.as_str()));
    let mut b = Serve::start(dir_b.path(), &env_b);
    let session = a.session();

    // A makes the plan; B follows it from the log in the database.
    let body = r#"{"destination":"Helsinki","days":2,"prefs":"hand-over: museums, coffee"}"#;
    let id = a.start_plan(&session, body);
    let (status, page) = b.get(&format!("/api/plans/{id}"), Some(&session));
    assert_eq!(status, 202, "B shows the plan A is making: {page}");
    let live = follow(&b, &session, &id);
    let mut seen = Vec::new();
    until(&live, "text", Duration::from_secs(300), &mut seen).unwrap_or_else(|| {
        panic!(
            "no prose came through B: {seen:?}\nA: {}\nB: {}",
            a.log_text(),
            b.log_text()
        )
    });
    assert!(count(&seen, "agent") >= 3, "{seen:?}");

    // A dies mid-plan, without a word.
    a.child.kill().expect("kill -9");
    a.child.wait().expect("A ended");
    let killed = Instant::now();
    let done = until(&live, "done", Duration::from_secs(600), &mut seen)
        .unwrap_or_else(|| panic!("B did not finish the plan: {seen:?}\nB: {}", b.log_text()));
    assert_eq!(done["id"], id.as_str());
    let took = killed.elapsed();
    assert_eq!(
        notices(&seen),
        ["The server making this plan stopped; another one is making it again from the start."],
        "{seen:?}"
    );
    assert_eq!(count(&seen, "done"), 1);
    assert_eq!(count(&seen, "failed") + count(&seen, "cancelled"), 0);
    let plan = b.wait_plan(&session, &id, Duration::from_secs(10));
    assert_eq!(plan["itinerary"]["days"].as_array().map(Vec::len), Some(2));

    // Nothing lost or duplicated: the log replayed now is what B's follower saw live, and
    // the database holds one plan, one ended job claimed twice, and a gapless log.
    let replay = follow(&b, &session, &id);
    let mut replayed = Vec::new();
    until(&replay, "done", Duration::from_secs(30), &mut replayed).expect("the replay ends");
    assert_eq!(replayed.len(), seen.len());
    assert!(replayed == seen, "the replay differs from the live stream");
    let quoted = format!("'{id}'");
    assert_eq!(
        scalar(
            &url,
            &format!("SELECT COUNT(*) FROM plans WHERE id = {quoted}")
        ),
        1
    );
    assert_eq!(
        scalar(
            &url,
            &format!(
                "SELECT COUNT(*) FROM plan_jobs WHERE id = {quoted} AND status = 'ended' AND attempt = 2"
            )
        ),
        1
    );
    let logged = scalar(
        &url,
        &format!("SELECT COUNT(*) FROM plan_events WHERE plan_id = {quoted}"),
    );
    let last = scalar(
        &url,
        &format!("SELECT MAX(seq) FROM plan_events WHERE plan_id = {quoted}"),
    );
    assert_eq!(last + 1, logged, "the log's numbers have no gap");
    let m = scrape(&metrics_b);
    assert_eq!(sample(&m, "tripwright_jobs_reclaimed_total"), 1.0, "{m}");
    assert_eq!(
        sample(&m, r#"tripwright_plans_total{outcome="done"}"#),
        1.0,
        "{m}"
    );
    eprintln!(
        "hand-over: B finished the plan {:.1} s after A was killed ({} events, {} in the log)",
        took.as_secs_f64(),
        seen.len(),
        logged
    );

    // SIGTERM: B hands the plan it makes back, and A, started again, finishes it.
    let mut a = Serve::start(dir_a.path(), &env);
    let body = r#"{"destination":"Helsinki","days":2,"prefs":"hand-back: design, coffee"}"#;
    let id = b.start_plan(&session, body);
    let live = follow(&a, &session, &id);
    let mut seen = Vec::new();
    until(&live, "text", Duration::from_secs(300), &mut seen)
        .unwrap_or_else(|| panic!("no prose came through A: {seen:?}"));
    b.terminate();
    let stopped = b
        .wait(Duration::from_secs(30))
        .expect("B stops within its grace");
    assert!(stopped.success(), "{stopped:?}: {}", b.log_text());
    let done = until(&live, "done", Duration::from_secs(600), &mut seen)
        .unwrap_or_else(|| panic!("A did not finish the plan: {seen:?}\nA: {}", a.log_text()));
    assert_eq!(done["id"], id.as_str());
    assert_eq!(
        notices(&seen),
        [
            "This server is restarting: your plan will be made again from the start by another one.",
            "The server making this plan stopped; another one is making it again from the start."
        ],
        "{seen:?}"
    );
    let plan = a.wait_plan(&session, &id, Duration::from_secs(10));
    assert_eq!(plan["itinerary"]["days"].as_array().map(Vec::len), Some(2));
    assert_eq!(
        scalar(
            &url,
            &format!(
                "SELECT COUNT(*) FROM plan_jobs WHERE id = '{id}' AND status = 'ended' AND attempt = 2"
            )
        ),
        1
    );
    a.terminate();
    assert!(a.wait(Duration::from_secs(30)).is_some_and(|s| s.success()));
}
