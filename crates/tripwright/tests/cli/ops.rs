//! What operators rely on, with real processes on loopback: the inference tier shared by two
//! app replicas (`serve --role inference`, the apps on `llm.provider = "openai"`), the
//! Prometheus metrics of each (`web.metrics_addr`), the apps degrading cleanly when the
//! inference process dies, and a debug-level log that holds no secret.

use std::process::Command;
use std::time::Duration;

use serde_json::Value;
use tripwright_testkit::assets::smollm2;

use super::serve::{Serve, free_addr, started_plan, status_and_body};
use super::shared_data_dir;

/// The metrics served at `addr`, scraped.
pub(super) fn scrape(addr: &str) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).expect("the metrics listener answers");
    write!(
        s,
        "GET /metrics HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
    )
    .expect("asks");
    let mut answer = String::new();
    s.read_to_string(&mut answer).expect("reads");
    let (status, body) = status_and_body(&answer);
    assert_eq!(status, 200, "{answer}");
    body.to_owned()
}

/// The value of the sample `series` (name with its labels, as printed) in `metrics`, 0 when
/// absent.
pub(super) fn sample(metrics: &str, series: &str) -> f64 {
    metrics
        .lines()
        .find_map(|l| {
            l.strip_prefix(series)
                .filter(|rest| rest.starts_with(' '))
                .and_then(|rest| rest.trim().parse().ok())
        })
        .unwrap_or(0.0)
}

/// The sum of every sample of `name` whose labels contain all of `labels`.
fn total(metrics: &str, name: &str, labels: &[&str]) -> f64 {
    metrics
        .lines()
        .filter(|l| {
            l.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with('{') || rest.starts_with(' '))
                && labels.iter().all(|label| l.contains(label))
        })
        .filter_map(|l| l.rsplit(' ').next().and_then(|v| v.parse::<f64>().ok()))
        .sum()
}

fn check<'a>(plan: &'a Value, name: &str) -> Option<&'a Value> {
    plan["checks"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["name"] == name))
}

#[test]
fn two_app_replicas_share_one_inference_tier_and_plan_without_it_when_it_dies() {
    let _model_test = super::one_model_test_at_a_time();
    let model = smollm2();
    let inference_metrics = free_addr();
    let inference_dir = tempfile::tempdir().expect("tempdir");
    let mut inference = Serve::start(
        inference_dir.path(),
        &[
            ("TRIPWRIGHT_WEB__ROLE", "inference"),
            ("TRIPWRIGHT_WEB__METRICS_ADDR", &inference_metrics),
            ("TRIPWRIGHT_LLM__PROVIDER", "embedded"),
            (
                "TRIPWRIGHT_LLM__MODEL_PATH",
                model.to_str().expect("a UTF-8 path"),
            ),
            ("TRIPWRIGHT_LLM__MAX_SEQUENCES", "8"),
        ],
    );
    // Only the model is served: no web app, no store in its data dir.
    let (status, body) = inference.get("/v1/models", None);
    assert_eq!(status, 200, "{body}");
    let models: Value = serde_json::from_str(&body).expect("JSON");
    let model_id = models["data"][0]["id"]
        .as_str()
        .expect("a model id")
        .to_owned();
    assert_eq!(inference.get("/", None).0, 404);
    assert_eq!(inference.get("/api/plans", None).0, 404);
    let (status, body) = inference.get("/readyz", None);
    assert_eq!(status, 200, "{body}");
    assert!(
        std::fs::read_dir(inference_dir.path())
            .expect("the data dir")
            .all(|e| !e
                .expect("an entry")
                .file_name()
                .to_string_lossy()
                .contains("sqlite")),
        "the inference tier opened a store"
    );

    // Two app replicas on one store, both writing through it.
    let base_url = format!("http://{}/v1", inference.addr);
    let metrics = [free_addr(), free_addr()];
    let apps: Vec<Serve> = metrics
        .iter()
        .map(|m| {
            Serve::start(
                shared_data_dir(),
                &[
                    ("TRIPWRIGHT_LLM__PROVIDER", "openai"),
                    ("TRIPWRIGHT_LLM__BASE_URL", &base_url),
                    ("TRIPWRIGHT_LLM__MODEL", &model_id),
                    ("TRIPWRIGHT_WEB__METRICS_ADDR", m),
                ],
            )
        })
        .collect();
    let sessions: Vec<_> = apps.iter().map(Serve::session).collect();
    let ids: Vec<String> = apps
        .iter()
        .zip(&sessions)
        .enumerate()
        .map(|(i, (app, session))| {
            let body = format!(
                r#"{{"destination":"Helsinki","days":1,"prefs":"inference tier {i}: museums"}}"#
            );
            app.start_plan(session, &body)
        })
        .collect();
    for ((app, session), id) in apps.iter().zip(&sessions).zip(&ids) {
        let plan = app.wait_plan(session, id, Duration::from_secs(600));
        let prose = check(&plan, "prose").unwrap_or_else(|| {
            panic!(
                "no prose check, so the prose was not written: {}",
                plan["warnings"]
            )
        });
        assert!(
            prose["detail"]
                .as_str()
                .is_some_and(|d| d.contains(&format!("written by {model_id}"))),
            "{prose}"
        );
        let notes = super::day_one_notes(&plan);
        // The test model's notes may all be caught and dropped; the texts were written all
        // the same (the tier's metrics below count them).
        let detail = prose["detail"].as_str().unwrap_or("");
        assert!(
            notes > 0 || (detail.contains(" generation") && !detail.contains("(0 generations")),
            "{plan}"
        );
    }

    // The inference tier's metrics show its requests, tokens and batching: on average more
    // than one sequence per decode call.
    let m = scrape(&inference_metrics);
    let served = sample(&m, r#"tripwright_llm_requests_total{outcome="ok"}"#);
    assert!(served >= 2.0, "{m}");
    assert!(
        sample(&m, "tripwright_llm_completion_tokens_total") > 0.0,
        "{m}"
    );
    let calls = sample(&m, "tripwright_engine_batch_sequences_count");
    let sequences = sample(&m, "tripwright_engine_batch_sequences_sum");
    assert!(
        calls > 0.0 && sequences > calls,
        "{sequences} sequences in {calls} decode calls: {m}"
    );
    assert!(
        total(
            &m,
            "tripwright_http_requests_total",
            &[r#"route="/v1/chat/completions""#, r#"status="200""#]
        ) >= served,
        "{m}"
    );
    // Each app's metrics: its requests by route, its agents, its plan, its model calls.
    for addr in &metrics {
        let m = scrape(addr);
        assert_eq!(
            total(
                &m,
                "tripwright_http_requests_total",
                &[
                    r#"route="/api/plans""#,
                    r#"method="POST""#,
                    r#"status="202""#
                ]
            ),
            1.0,
            "{m}"
        );
        assert!(
            total(
                &m,
                "tripwright_http_request_duration_seconds_count",
                &[r#"route="/api/plans/{id}""#]
            ) >= 1.0,
            "{m}"
        );
        assert_eq!(
            sample(&m, r#"tripwright_plans_total{outcome="done"}"#),
            1.0,
            "{m}"
        );
        for agent in ["weather", "hotels", "itinerary", "summary"] {
            assert_eq!(
                total(
                    &m,
                    "tripwright_agent_runs_total",
                    &[&format!(r#"agent="{agent}""#), r#"outcome="done""#]
                ),
                1.0,
                "{agent}: {m}"
            );
        }
        assert!(sample(&m, r#"tripwright_llm_requests_total{outcome="ok"}"#) >= 1.0);
        assert!(
            total(&m, "tripwright_llm_time_to_first_token_seconds_count", &[]) >= 1.0,
            "{m}"
        );
        assert_eq!(sample(&m, "tripwright_plans_running"), 0.0, "{m}");
    }

    // The inference process dies: the next plan is still made, without prose, and says so.
    inference.child.kill().expect("kill -9");
    inference.child.wait().expect("it ended");
    let id = apps[0].start_plan(
        &sessions[0],
        r#"{"destination":"Helsinki","days":1,"prefs":"inference tier gone: museums"}"#,
    );
    let plan = apps[0].wait_plan(&sessions[0], &id, Duration::from_secs(300));
    assert_eq!(plan["itinerary"]["days"].as_array().map(Vec::len), Some(1));
    assert!(!plan["hotels"].as_array().expect("hotels").is_empty());
    let warnings = plan["warnings"].to_string();
    assert!(
        warnings.contains("prose could not be written"),
        "{warnings}"
    );
    let m = scrape(&metrics[0]);
    assert!(
        total(
            &m,
            "tripwright_llm_requests_total",
            &[r#"outcome="llm_unavailable""#]
        ) >= 1.0,
        "{m}"
    );
}

#[test]
fn a_debug_log_holds_no_credential_and_no_contact_detail() {
    let api_key = "sk-test-9f8e7d6c5b4a3210";
    let session_key = "session-key-that-must-stay-secret-0123456789";
    let serve = Serve::start(
        shared_data_dir(),
        &[
            ("TRIPWRIGHT_LOG", "debug"),
            ("TRIPWRIGHT_LOG_FORMAT", "json"),
            ("OPENAI_API_KEY", api_key),
            ("TRIPWRIGHT_SESSION_KEY", session_key),
        ],
    );
    let session = serve.session();
    let cookie_value = session
        .cookie
        .split_once('=')
        .map(|(_, v)| v.to_owned())
        .expect("name=value");
    let email = "anna.virtanen@example.fi";
    let phone = "+358 40 123 4567";
    let body = format!(
        r#"{{"destination":"Helsinki","days":1,"prefs":"a quiet sauna hotel; reach me at {email} or {phone}"}}"#
    );
    let bearer = "Bearer tok_live_abcdef0123456789";
    let answer = serve.post_plan(&session, &body, &format!("Authorization: {bearer}\r\n"));
    let id = started_plan(&answer);
    let request_id = answer
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("x-request-id:")
                .map(|v| v.trim().to_owned())
        })
        .expect("the answer carries its request id");
    serve.wait_plan(&session, &id, Duration::from_secs(120));
    let log = serve.log_text();
    assert!(
        log.contains(&request_id),
        "the request's id is on its log lines: {log}"
    );
    // The lines are there, at debug level, with what was redacted marked …
    assert!(
        log.contains("plan requested") && log.contains("a quiet sauna hotel"),
        "{log}"
    );
    assert!(
        log.contains("\"headers\""),
        "the request headers are logged: {log}"
    );
    for marker in ["[REDACTED]", "[email]", "[phone]"] {
        assert!(log.contains(marker), "{marker}: {log}");
    }
    // … and nothing that identifies or authenticates anyone.
    for secret in [
        api_key,
        session_key,
        cookie_value.as_str(),
        session.csrf.as_str(),
        "tok_live_abcdef0123456789",
        email,
        phone,
        "40 123 4567",
    ] {
        assert!(!log.contains(secret), "{secret} is in the log");
    }
}

/// Every file under `dir` owned by `uid`.
fn owned_by(dir: &std::path::Path, uid: u32) -> Vec<std::path::PathBuf> {
    use std::os::unix::fs::MetadataExt;
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let Ok(meta) = e.metadata() else { continue };
            if meta.uid() == uid {
                found.push(e.path());
            }
            if meta.is_dir() && !meta.is_symlink() {
                stack.push(e.path());
            }
        }
    }
    found
}

/// The binary as the container image runs it (Dockerfile): an unprivileged user (uid 10001)
/// that can write only its data directory (and /tmp), the assets read-only, the configuration
/// from the environment only (no file, no flag but `serve`), the data directory as its working
/// and home directory. It must start, import and plan, write nothing outside its data
/// directory, and stop cleanly on SIGTERM. Switching users needs root, which CI has.
#[test]
fn the_binary_runs_as_the_image_runs_it() {
    const UID: u32 = 10001;
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    if !root {
        eprintln!("the_binary_runs_as_the_image_runs_it: needs root to run as uid {UID}; not run");
        assert!(
            std::env::var_os("CI").is_none(),
            "CI runs as root, so this test must run there"
        );
        return;
    }
    let data = tempfile::tempdir().expect("tempdir");
    let status = Command::new("chown")
        .arg(format!("{UID}:{UID}"))
        .arg(data.path())
        .status()
        .expect("chown runs");
    assert!(status.success());
    let addr = free_addr();
    let mut cmd = Command::new("setpriv");
    cmd.args([
        "--reuid",
        &UID.to_string(),
        "--regid",
        &UID.to_string(),
        "--clear-groups",
        "--no-new-privs",
    ])
    .arg(env!("CARGO_BIN_EXE_tripwright"))
    .arg("serve")
    .env_clear()
    .env("PATH", "/usr/local/bin:/usr/bin:/bin")
    .env("HOME", data.path())
    .env("TRIPWRIGHT_DATA_DIR", data.path())
    .env(
        "TRIPWRIGHT_ASSETS_DIR",
        tripwright_testkit::assets::assets_dir(),
    )
    .env("TRIPWRIGHT_ADDR", &addr)
    .env("TRIPWRIGHT_LOG_FORMAT", "json")
    .env("TRIPWRIGHT_LOG", "info")
    .env("TRIPWRIGHT_LLM__PROVIDER", "off")
    .env("TRIPWRIGHT_ONLINE__ENABLED", "false")
    .env("TRIPWRIGHT_WEB__SHUTDOWN_GRACE_SECS", "5")
    .current_dir(data.path());
    let mut serve = Serve::spawn(cmd, addr);
    let (status, body) = serve.get("/readyz", None);
    assert_eq!(status, 200, "{body}");
    let session = serve.session();
    let id = serve.start_plan(
        &session,
        r#"{"destination":"Helsinki","days":1,"prefs":"as the image runs it"}"#,
    );
    let plan = serve.wait_plan(&session, &id, Duration::from_secs(300));
    assert!(
        !plan["itinerary"]["days"][0]["stops"]
            .as_array()
            .expect("stops")
            .is_empty()
    );
    // Its log is JSON, one object a line.
    let log = serve.log_text();
    let json_lines = log
        .lines()
        .filter(|l| serde_json::from_str::<Value>(l).is_ok())
        .count();
    assert!(json_lines > 0, "{log}");
    serve.terminate();
    let exit = serve
        .wait(Duration::from_secs(15))
        .expect("it stops on SIGTERM");
    assert!(exit.success(), "{exit:?}: {}", serve.log_text());
    // It wrote its store in the data directory, and nothing anywhere else it could see.
    assert!(data.path().join("tripwright.sqlite").exists());
    for dir in [
        tripwright_testkit::assets::assets_dir(),
        tripwright_testkit::assets::repo_root(),
    ] {
        let written = owned_by(&dir, UID);
        assert!(written.is_empty(), "written outside /data: {written:?}");
    }
}

/// A backup taken while the server runs and edits come in, restored as the store of a new
/// server, holds the plan and the list as they were acknowledged.
#[test]
fn a_backup_taken_while_serving_restores_into_a_new_server() {
    let key = [(
        "TRIPWRIGHT_SESSION_KEY",
        "one key for the server and its restore",
    )];
    let live = tempfile::tempdir().expect("tempdir");
    let serve = Serve::start(live.path(), &key);
    let session = serve.session();
    let id = serve.start_plan(
        &session,
        r#"{"destination":"Helsinki","days":1,"prefs":"backed up"}"#,
    );
    let plan = serve.wait_plan(&session, &id, Duration::from_secs(120));
    let post = |path: &str, body: &str| {
        let answer = serve
            .request(&format!(
                "POST {path} HTTP/1.1\r\nHost: t\r\nCookie: {}\r\nX-CSRF-Token: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                session.cookie,
                session.csrf,
                body.len()
            ))
            .expect("answers");
        let (status, body) = status_and_body(&answer);
        assert_eq!(status, 201, "{answer}");
        serde_json::from_str::<Value>(body).expect("JSON")
    };
    let list = post("/api/lists", r#"{"title":"Backed up"}"#);
    let list_id = list["id"].as_str().expect("a list id").to_owned();
    post(
        &format!("/api/lists/{list_id}/items"),
        r#"{"name":"Passport"}"#,
    );

    let copy = tempfile::tempdir().expect("tempdir");
    let file = copy.path().join("tripwright.sqlite");
    let file_arg = file.to_str().expect("UTF-8");
    let out = super::tripwright(live.path(), &["backup", file_arg]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("backed up"));
    // A second backup to the same file is refused, the first left as it was.
    let again = super::tripwright(live.path(), &["backup", file_arg]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("exists already"));
    drop(serve);

    let restored = Serve::start(copy.path(), &key);
    let (status, body) = restored.get(&format!("/api/plans/{id}"), Some(&session));
    assert_eq!(status, 200, "{body}");
    let back: Value = serde_json::from_str(&body).expect("a plan");
    assert_eq!(back["itinerary"], plan["itinerary"]);
    let (status, body) = restored.get(&format!("/api/lists/{list_id}"), Some(&session));
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("Passport"), "{body}");
}
