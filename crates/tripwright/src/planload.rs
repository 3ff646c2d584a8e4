//! `tripwright bench plans`: concurrent plan requests for some seconds against a server of its
//! own, optionally with the database restarted mid-run (`--restart-command`, e.g. `pg_ctl
//! restart`), and what became of every plan.
//!
//! Each client is a browser of its own (cookie, CSRF token) that starts a plan (a new wish each
//! time, so the plan cache never answers), follows it to its end by polling its address, and
//! starts the next. A plan the server accepted (202) must end: made, or failed with a message;
//! one still running two minutes later is a failure (exit 1). With a restart, the run also
//! fails when no plan is made after the database is back, or the server is not ready again.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::Value;

use crate::durability::Server;
use crate::loadgen::Conn;

/// What became of one plan request.
#[derive(Debug)]
enum Outcome {
    /// Made, in this long from the request.
    Made(Duration),
    /// Failed with this message.
    Failed(String),
    /// Still running when the client gave up on it.
    Stuck,
    /// Not accepted (HTTP status, 0 for no answer).
    Refused(u16),
}

/// One request: when it was sent (since the run began) and its outcome.
type Record = (Duration, Outcome);

/// Longest a client follows one plan.
const PLAN_LIMIT: Duration = Duration::from_secs(120);

/// One client: plans one after another until `stop`, recording each.
async fn client(
    addr: SocketAddr,
    who: usize,
    began: Instant,
    stop: Arc<AtomicBool>,
) -> Vec<Record> {
    let mut records = Vec::new();
    let mut session = None;
    let mut n = 0;
    while !stop.load(Ordering::Relaxed) {
        n += 1;
        let sent = began.elapsed();
        let outcome = match one_plan(addr, &mut session, who, n).await {
            Ok(outcome) => outcome,
            Err(_) => {
                session = None;
                Outcome::Refused(0)
            }
        };
        if matches!(outcome, Outcome::Refused(_)) {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        records.push((sent, outcome));
    }
    records
}

/// Starts plan `n` of client `who` and follows it to its end.
async fn one_plan(
    addr: SocketAddr,
    session: &mut Option<(String, String)>,
    who: usize,
    n: usize,
) -> Result<Outcome> {
    let mut c = Conn::open(addr).await?;
    if session.is_none() {
        *session = Some(c.session().await?);
    }
    let (cookie, csrf) = session.clone().context("a session")?;
    let body = format!(
        r#"{{"destination":"Helsinki","days":{},"prefs":"load run: client {who}, plan {n}, museums"}}"#,
        1 + n % 2
    );
    let started = Instant::now();
    let r = c
        .post_json("/api/plans", &cookie, &csrf, body.as_bytes())
        .await?;
    if r.status != 202 {
        return Ok(Outcome::Refused(r.status));
    }
    let id = r.id()?;
    let path = format!("/api/plans/{id}");
    while started.elapsed() < PLAN_LIMIT {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let answer = match Conn::open(addr).await {
            Ok(mut c) => c.request("GET", &path, &[("Cookie", &cookie)], b"").await,
            Err(e) => Err(e),
        };
        let Ok(r) = answer else { continue };
        match r.status {
            200 => return Ok(Outcome::Made(started.elapsed())),
            202 => {}
            // A plan that stopped: its address answers 404 with why.
            404 => {
                let message = serde_json::from_slice::<Value>(&r.body)
                    .ok()
                    .and_then(|v| v["error"]["message"].as_str().map(str::to_owned))
                    .unwrap_or_else(|| format!("HTTP {}", r.status));
                return Ok(Outcome::Failed(message));
            }
            // The database is away for a moment: ask again.
            _ => {}
        }
    }
    Ok(Outcome::Stuck)
}

/// The `q` quantile of `xs` (sorted here).
fn quantile(xs: &mut [Duration], q: f64) -> Duration {
    xs.sort();
    if xs.is_empty() {
        return Duration::ZERO;
    }
    xs[((xs.len() - 1) as f64 * q).round() as usize]
}

/// Runs the load; see the module.
pub async fn run(
    assets: &Path,
    clients: usize,
    seconds: f64,
    database_url: Option<&str>,
    restart_command: Option<&str>,
) -> Result<()> {
    let scratch = tempfile::Builder::new()
        .prefix("tripwright-plans")
        .tempdir()?;
    let backend = crate::durability::backend_name(database_url);
    let server = Server::start_with(
        scratch.path(),
        assets,
        database_url,
        &[
            ("TRIPWRIGHT_WEB__PLAN_CACHE", "0"),
            ("TRIPWRIGHT_LIMITS__PLAN_REQUESTS_PER_MINUTE", "0"),
            ("TRIPWRIGHT_LIMITS__PLANS_PER_DAY", "0"),
        ],
        "/readyz",
    )
    .await?;
    let addr = server.addr;
    println!(
        "tripwright bench plans — {backend}, {clients} clients planning one after another for {seconds} s{}",
        if restart_command.is_some() {
            ", the database restarted half-way"
        } else {
            ""
        }
    );
    let stop = Arc::new(AtomicBool::new(false));
    let began = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|who| tokio::spawn(client(addr, who, began, Arc::clone(&stop))))
        .collect();
    let mut restart = None;
    if let Some(command) = restart_command {
        tokio::time::sleep(Duration::from_secs_f64(seconds / 2.0)).await;
        let from = began.elapsed();
        let command = command.to_owned();
        let status = tokio::task::spawn_blocking(move || {
            std::process::Command::new("sh")
                .args(["-c", &command])
                .stdout(std::process::Stdio::null())
                .status()
        })
        .await?
        .context("the restart command could not run")?;
        if !status.success() {
            bail!("the restart command failed: {status}");
        }
        let until = began.elapsed();
        println!(
            "database restarted from {:.1} s to {:.1} s of the run",
            from.as_secs_f64(),
            until.as_secs_f64()
        );
        restart = Some((from, until));
        tokio::time::sleep(Duration::from_secs_f64(seconds / 2.0)).await;
    } else {
        tokio::time::sleep(Duration::from_secs_f64(seconds)).await;
    }
    stop.store(true, Ordering::Relaxed);
    let mut records = Vec::new();
    for t in tasks {
        records.extend(t.await?);
    }
    let ready = async {
        let mut c = Conn::open(addr).await?;
        Ok::<_, anyhow::Error>(c.request("GET", "/readyz", &[], b"").await?.status)
    }
    .await
    .unwrap_or(0);
    drop(server);

    let mut made: Vec<Duration> = Vec::new();
    let mut made_after = 0;
    let mut failed = Vec::new();
    let mut stuck = 0;
    let mut refused = std::collections::BTreeMap::<u16, usize>::new();
    for (sent, outcome) in &records {
        match outcome {
            Outcome::Made(t) => {
                made.push(*t);
                if restart.is_some_and(|(_, until)| *sent > until) {
                    made_after += 1;
                }
            }
            Outcome::Failed(m) => failed.push(m.clone()),
            Outcome::Stuck => stuck += 1,
            Outcome::Refused(status) => *refused.entry(*status).or_default() += 1,
        }
    }
    let accepted = made.len() + failed.len() + stuck;
    let refusals: usize = refused.values().sum();
    let why: Vec<String> = refused
        .iter()
        .map(|(status, n)| match status {
            0 => format!("no answer ×{n}"),
            s => format!("HTTP {s} ×{n}"),
        })
        .collect();
    let p50 = quantile(&mut made, 0.5);
    let p95 = quantile(&mut made, 0.95);
    println!(
        "plans accepted: {accepted}; made: {} (p50 {:.2} s, p95 {:.2} s from request to made), failed with a message: {}, still running after {} s: {stuck}; requests refused: {refusals}{}",
        made.len(),
        p50.as_secs_f64(),
        p95.as_secs_f64(),
        failed.len(),
        PLAN_LIMIT.as_secs(),
        if why.is_empty() {
            String::new()
        } else {
            format!(" ({})", why.join(", "))
        }
    );
    failed.sort();
    failed.dedup();
    for m in &failed {
        println!("  failed: {m}");
    }
    if restart.is_some() {
        println!(
            "plans asked for after the database was back and made: {made_after}; /readyz at the end: {ready}"
        );
    }
    println!(
        "method: one server (debug build, no language model, plan cache off) and its clients on {} CPU(s); each client starts a plan, polls its address every 100 ms until it is made or stopped, then starts the next",
        std::thread::available_parallelism().map_or(1, usize::from)
    );
    if stuck > 0 {
        bail!("{stuck} accepted plans never ended");
    }
    if made.is_empty() {
        bail!("no plan was made");
    }
    if restart.is_some() && (made_after == 0 || ready != 200) {
        bail!("the server did not recover from the database restart");
    }
    if restart.is_none() && (!failed.is_empty() || refusals > 0) {
        bail!("plans failed or were refused without any fault");
    }
    Ok(())
}
