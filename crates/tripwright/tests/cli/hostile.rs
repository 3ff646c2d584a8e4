//! `tripwright serve` as a hostile client meets it, over raw TCP on loopback: SIGTERM while a
//! plan waits on a stalled language model (the plan is handed back to the store's queue, the
//! stream says so, the process exits within the grace period, and the server started again
//! makes the plan), and slow clients holding partial headers (closed after the header
//! timeout; the connection cap makes others wait, not fail).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use super::serve::Serve;
use super::{own_data_dir, shared_data_dir};

/// A stand-in OpenAI server that accepts connections and never answers (a stalled
/// provider). Its connections are held until the test ends.
fn stalled_provider() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("binds");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in listener.incoming().flatten() {
            held.push(s);
        }
    });
    format!("http://{addr}/v1")
}

#[test]
fn sigterm_hands_a_stuck_plan_back_exits_in_time_and_the_server_started_again_makes_it() {
    let provider = stalled_provider();
    let dir = own_data_dir();
    let mut serve = Serve::start(
        dir.path(),
        &[
            ("TRIPWRIGHT_LLM__PROVIDER", "openai"),
            ("TRIPWRIGHT_LLM__BASE_URL", &provider),
            ("TRIPWRIGHT_LLM__MODEL", "stalled"),
            ("OPENAI_API_KEY", "sk-test"),
            ("TRIPWRIGHT_WEB__SHUTDOWN_GRACE_SECS", "4"),
        ],
    );
    // A browser's identity: the cookie and the CSRF token.
    let session = serve.session();
    let cookie = &session.cookie;
    let body = r#"{"destination":"Helsinki","days":1,"prefs":"sigterm: a stalled model"}"#;
    let id = serve.start_plan(&session, body);
    // Follow the plan until the itinerary waits on the model.
    let mut events = serve.connect();
    write!(
        events,
        "GET /api/plans/{id}/events HTTP/1.1\r\nHost: t\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n"
    )
    .expect("asks for the events");
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&seen).contains("\"agent\":\"itinerary\"") {
        let n = events.read(&mut buf).expect("the stream goes on");
        assert!(
            n > 0,
            "the stream ended early: {}",
            String::from_utf8_lossy(&seen)
        );
        seen.extend_from_slice(&buf[..n]);
    }
    let sent = Instant::now();
    serve.terminate();
    // The stream ends with the final event, then the process exits, within the grace period.
    loop {
        match events.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => seen.extend_from_slice(&buf[..n]),
        }
    }
    let stream = String::from_utf8_lossy(&seen);
    assert!(
        stream.contains("event: notice") && stream.contains("made again from the start"),
        "the stream says the plan is handed back: {stream}"
    );
    assert!(!stream.contains("event: failed"), "{stream}");
    let status = serve
        .wait(Duration::from_secs(15))
        .expect("the server exits after SIGTERM");
    assert!(status.success(), "{status:?}");
    assert!(
        sent.elapsed() < Duration::from_secs(10),
        "within the 4 s grace period (and some slack): {:?}",
        sent.elapsed()
    );
    // Started again (without a model now), the server claims the plan and makes it; its
    // owner gets it, a stranger does not.
    let restarted = Serve::start(dir.path(), &[]);
    let plan = restarted.wait_plan(&session, &id, Duration::from_secs(120));
    assert_eq!(plan["request"]["prefs"], "sigterm: a stalled model");
    assert_eq!(plan["itinerary"]["days"].as_array().map(Vec::len), Some(1));
    let stranger = restarted
        .request(&format!(
            "GET /api/plans/{id} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
        ))
        .expect("answers a stranger");
    assert!(stranger.starts_with("HTTP/1.1 404"), "{stranger}");
}

#[test]
fn partial_headers_are_dropped_after_the_timeout_and_the_cap_makes_others_wait() {
    let serve = Serve::start(
        shared_data_dir(),
        &[
            ("TRIPWRIGHT_WEB__HEADER_TIMEOUT_SECS", "1"),
            ("TRIPWRIGHT_WEB__MAX_CONNECTIONS", "2"),
        ],
    );
    // Two slow clients take both connection slots with headers that never end.
    let mut slow: Vec<TcpStream> = (0..2)
        .map(|_| {
            let mut s = serve.connect();
            s.write_all(b"GET / HTTP/1.1\r\nHost: t\r\nX-Slow: 1")
                .expect("sends a partial header");
            s
        })
        .collect();
    std::thread::sleep(Duration::from_millis(100));
    let started = Instant::now();
    // A third client is answered, once the slow ones are dropped.
    let answer = serve
        .request("GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        .expect("the third client is answered");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(500),
        "served only when a slot freed: {waited:?}"
    );
    assert!(waited < Duration::from_secs(10), "{waited:?}");
    // The slow clients were cut off (closed, maybe after a 408), not held.
    for s in &mut slow {
        let mut rest = String::new();
        let _ = s.read_to_string(&mut rest);
        assert!(
            rest.is_empty() || rest.starts_with("HTTP/1.1 408"),
            "{rest}"
        );
    }
}
