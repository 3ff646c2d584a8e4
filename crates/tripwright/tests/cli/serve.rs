//! A running `tripwright serve` for the tests that talk to it over raw HTTP on loopback, and
//! what a browser does with it: a session (cookie and CSRF token), a plan started and waited
//! for.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::assets_dir;

/// A running `tripwright serve` on a free loopback port, killed when dropped.
pub(super) struct Serve {
    pub(super) child: Child,
    pub(super) addr: String,
    /// Where its standard error goes.
    log: tempfile::NamedTempFile,
}

impl Serve {
    pub(super) fn start(data_dir: &Path, env: &[(&str, &str)]) -> Self {
        let addr = free_addr();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tripwright"));
        cmd.arg("--data-dir")
            .arg(data_dir)
            .arg("--assets-dir")
            .arg(assets_dir())
            .args(["serve", "--addr", &addr])
            .env_remove("TRIPWRIGHT_CONFIG")
            .env("TRIPWRIGHT_LLM__PROVIDER", "off")
            .env("TRIPWRIGHT_ONLINE__ENABLED", "false");
        for (k, v) in env {
            cmd.env(k, v);
        }
        Self::spawn(cmd, addr)
    }

    /// Starts `cmd`, a server that will listen on `addr`, and waits until it answers
    /// `/healthz`; its standard error is kept for [`Serve::log_text`].
    pub(super) fn spawn(mut cmd: Command, addr: String) -> Self {
        let log = tempfile::NamedTempFile::new().expect("a log file");
        cmd.stdout(Stdio::null())
            .stderr(log.reopen().expect("the log opens"));
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

    pub(super) fn log_text(&self) -> String {
        std::fs::read_to_string(self.log.path()).unwrap_or_default()
    }

    pub(super) fn connect(&self) -> TcpStream {
        let s = TcpStream::connect(&self.addr).expect("connects");
        s.set_read_timeout(Some(Duration::from_secs(30)))
            .expect("timeout");
        s
    }

    /// Sends raw `request` and reads the whole answer (the server closes after it).
    pub(super) fn request(&self, request: &str) -> Option<String> {
        let mut s = TcpStream::connect(&self.addr).ok()?;
        s.set_read_timeout(Some(Duration::from_secs(30))).ok()?;
        s.write_all(request.as_bytes()).ok()?;
        let mut answer = String::new();
        s.read_to_string(&mut answer).ok()?;
        Some(answer)
    }

    pub(super) fn terminate(&self) {
        let ok = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs")
            .success();
        assert!(ok, "SIGTERM is sent");
    }

    /// Waits up to `limit` for the process to exit; its exit status.
    pub(super) fn wait(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
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

/// The id of the plan an answer to `POST /api/plans` started (it must be a 202).
pub(super) fn started_plan(answer: &str) -> String {
    assert!(answer.starts_with("HTTP/1.1 202"), "{answer}");
    answer
        .split("\"id\":\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("a plan id")
        .to_owned()
}

/// A free loopback address, `127.0.0.1:PORT`.
pub(super) fn free_addr() -> String {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    format!("127.0.0.1:{port}")
}

/// A browser's identity: its cookie (`name=value`) and CSRF token.
pub(super) struct Session {
    pub(super) cookie: String,
    pub(super) csrf: String,
}

/// The body of an HTTP answer (after the blank line), and its status code.
pub(super) fn status_and_body(answer: &str) -> (u16, &str) {
    let status = answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = answer.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    (status, body)
}

impl Serve {
    /// `GET path` (with the session's cookie when given): the status and body.
    pub(super) fn get(&self, path: &str, session: Option<&Session>) -> (u16, String) {
        let cookie = session.map_or(String::new(), |s| format!("Cookie: {}\r\n", s.cookie));
        let answer = self
            .request(&format!(
                "GET {path} HTTP/1.1\r\nHost: t\r\n{cookie}Connection: close\r\n\r\n"
            ))
            .unwrap_or_default();
        let (status, body) = status_and_body(&answer);
        (status, body.to_owned())
    }

    /// A new browser session.
    pub(super) fn session(&self) -> Session {
        let answer = self
            .request("GET /api/session HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
            .expect("a session");
        let cookie = answer
            .lines()
            .find_map(|l| {
                l.to_ascii_lowercase()
                    .starts_with("set-cookie:")
                    .then(|| l[11..].trim())
            })
            .and_then(|v| v.split(';').next())
            .expect("a cookie")
            .to_owned();
        let csrf = answer
            .split("\"csrf\":\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .expect("a token")
            .to_owned();
        Session { cookie, csrf }
    }

    /// Starts a plan of `body` (JSON) as `session`, with `extra` header lines; the whole
    /// answer.
    pub(super) fn post_plan(&self, session: &Session, body: &str, extra: &str) -> String {
        self.request(&format!(
            "POST /api/plans HTTP/1.1\r\nHost: t\r\nCookie: {}\r\nX-CSRF-Token: {}\r\n{extra}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            session.cookie,
            session.csrf,
            body.len()
        ))
        .expect("answers")
    }

    /// Starts a plan of `body` as `session`: its id.
    pub(super) fn start_plan(&self, session: &Session, body: &str) -> String {
        started_plan(&self.post_plan(session, body, ""))
    }

    /// Waits (up to `limit`) until plan `id` is made: the plan.
    pub(super) fn wait_plan(&self, session: &Session, id: &str, limit: Duration) -> Value {
        let deadline = Instant::now() + limit;
        loop {
            let (status, body) = self.get(&format!("/api/plans/{id}"), Some(session));
            match status {
                200 => return serde_json::from_str(&body).expect("a plan"),
                202 if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(250)),
                _ => panic!(
                    "plan {id}: {status} {body} (after {limit:?}); log: {}",
                    self.log_text()
                ),
            }
        }
    }
}
