//! `tripwright serve` as a hostile client meets it, over raw TCP on loopback: SIGTERM while a
//! plan waits on a stalled language model (the stream gets its final `failed` event and the
//! process exits within the grace period), and slow clients holding partial headers (closed
//! after the header timeout; the connection cap makes others wait, not fail).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::{assets_dir, shared_data_dir};

/// A running `tripwright serve` on a free loopback port, killed when dropped.
struct Serve {
    child: Child,
    addr: String,
    /// Where its standard error goes.
    log: tempfile::NamedTempFile,
}

impl Serve {
    fn start(data_dir: &Path, env: &[(&str, &str)]) -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let addr = format!("127.0.0.1:{port}");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tripwright"));
        cmd.arg("--data-dir")
            .arg(data_dir)
            .arg("--assets-dir")
            .arg(assets_dir())
            .args(["serve", "--addr", &addr])
            .env_remove("TRIPWRIGHT_CONFIG")
            .env("TRIPWRIGHT_LLM__PROVIDER", "off")
            .env("TRIPWRIGHT_ONLINE__ENABLED", "false")
            .stdout(Stdio::null());
        let log = tempfile::NamedTempFile::new().expect("a log file");
        cmd.stderr(log.reopen().expect("the log opens"));
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd.spawn().expect("tripwright serve starts");
        let mut serve = Self { child, addr, log };
        let deadline = Instant::now() + Duration::from_secs(120);
        while !serve
            .request("GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
            .is_some_and(|a| a.starts_with("HTTP/1.1 200"))
        {
            let exited = serve.child.try_wait().expect("waits");
            assert!(
                exited.is_none() && Instant::now() < deadline,
                "the server does not answer /healthz ({exited:?}): {}",
                serve.log_text()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        serve
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(self.log.path()).unwrap_or_default()
    }

    fn connect(&self) -> TcpStream {
        let s = TcpStream::connect(&self.addr).expect("connects");
        s.set_read_timeout(Some(Duration::from_secs(30)))
            .expect("timeout");
        s
    }

    /// Sends raw `request` and reads the whole answer (the server closes after it).
    fn request(&self, request: &str) -> Option<String> {
        let mut s = TcpStream::connect(&self.addr).ok()?;
        s.set_read_timeout(Some(Duration::from_secs(30))).ok()?;
        s.write_all(request.as_bytes()).ok()?;
        let mut answer = String::new();
        s.read_to_string(&mut answer).ok()?;
        Some(answer)
    }

    fn terminate(&self) {
        let ok = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs")
            .success();
        assert!(ok, "SIGTERM is sent");
    }

    /// Waits up to `limit` for the process to exit; its exit status.
    fn wait(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().expect("waits") {
                return Some(status);
            }
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

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
fn sigterm_ends_a_stuck_plan_with_a_final_event_exits_in_time_and_the_plan_says_why_after_a_restart()
 {
    let provider = stalled_provider();
    let mut serve = Serve::start(
        shared_data_dir(),
        &[
            ("TRIPWRIGHT_LLM__PROVIDER", "openai"),
            ("TRIPWRIGHT_LLM__BASE_URL", &provider),
            ("TRIPWRIGHT_LLM__MODEL", "stalled"),
            ("OPENAI_API_KEY", "sk-test"),
            ("TRIPWRIGHT_WEB__SHUTDOWN_GRACE_SECS", "4"),
        ],
    );
    // A browser's identity: the cookie and the CSRF token.
    let session = serve
        .request("GET /api/session HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        .expect("a session");
    let cookie = session
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .starts_with("set-cookie:")
                .then(|| l[11..].trim())
        })
        .and_then(|v| v.split(';').next())
        .expect("a cookie")
        .to_owned();
    let csrf = session
        .split("\"csrf\":\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("a token")
        .to_owned();
    let body = r#"{"destination":"Helsinki","days":1,"prefs":"sigterm: a stalled model"}"#;
    let answer = serve
        .request(&format!(
            "POST /api/plans HTTP/1.1\r\nHost: t\r\nCookie: {cookie}\r\nX-CSRF-Token: {csrf}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ))
        .expect("answers");
    assert!(answer.starts_with("HTTP/1.1 202"), "{answer}");
    let id = answer
        .split("\"id\":\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("a plan id")
        .to_owned();
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
    assert!(stream.contains("event: failed"), "a final event: {stream}");
    assert!(stream.contains("restart"), "the message says why: {stream}");
    let status = serve
        .wait(Duration::from_secs(15))
        .expect("the server exits after SIGTERM");
    assert!(status.success(), "{status:?}");
    assert!(
        sent.elapsed() < Duration::from_secs(10),
        "within the 4 s grace period (and some slack): {:?}",
        sent.elapsed()
    );
    // After the restart the plan's address still says what happened, to its owner only.
    let restarted = Serve::start(shared_data_dir(), &[]);
    let page = restarted
        .request(&format!(
            "GET /plans/{id} HTTP/1.1\r\nHost: t\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n"
        ))
        .expect("the plan's page");
    assert!(page.starts_with("HTTP/1.1 200"), "{page}");
    assert!(
        page.contains("restarted before this plan was finished"),
        "{page}"
    );
    assert!(page.contains("Try again"), "{page}");
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
