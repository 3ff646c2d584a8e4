//! `tripwright bench streams`: many plan-progress streams (server-sent events) held open at
//! once while other requests must still answer quickly.
//!
//! It starts its own `tripwright serve` on a loopback port whose language model is a stand-in
//! that accepts connections and never answers, so a plan stays "being written" for a minute.
//! It starts one plan, opens `streams` event streams on it (each must deliver its first event),
//! then, with all of them held, sends back-to-back requests for the health check and the
//! planner page over 8 connections and reports their latency. It fails (exit 1) when a stream
//! cannot be opened or a request fails.

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::durability::Server;
use crate::loadgen::{Conn, hammer};

/// A stand-in OpenAI-compatible server that accepts connections and never answers.
async fn stalled_model() -> Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    Ok(addr)
}

/// Runs the benchmark; see the module.
pub async fn run(assets: &Path, streams: usize, seconds: f64) -> Result<()> {
    let scratch = tempfile::Builder::new()
        .prefix("tripwright-streams")
        .tempdir()?;
    let model = stalled_model().await?;
    let base_url = format!("http://{model}/v1");
    let max_connections = (streams + 64).to_string();
    let server = Server::start_with(
        scratch.path(),
        assets,
        None,
        &[
            ("TRIPWRIGHT_LLM__PROVIDER", "openai"),
            ("TRIPWRIGHT_LLM__BASE_URL", &base_url),
            ("TRIPWRIGHT_LLM__MODEL", "stalled"),
            ("TRIPWRIGHT_WEB__MAX_CONNECTIONS", &max_connections),
        ],
        "/healthz",
    )
    .await?;
    let addr = server.addr;
    println!(
        "tripwright bench streams — {streams} event streams held on one plan, then {seconds} s of requests over 8 connections"
    );
    // A browser: its cookie and CSRF token; one plan, which waits on the model.
    let mut c = Conn::open(addr).await?;
    let (cookie, csrf) = c.session().await?;
    let r = c
        .post_json(
            "/api/plans",
            &cookie,
            &csrf,
            br#"{"destination":"Helsinki","days":1,"prefs":"streams held"}"#,
        )
        .await?;
    if r.status != 202 {
        bail!("the plan was not started: HTTP {}", r.status);
    }
    let id = r.id()?;
    let path = format!("/api/plans/{id}/events");

    let opening = Instant::now();
    let mut held = Vec::with_capacity(streams);
    for _ in 0..streams {
        let mut s = Conn::open(addr).await?;
        s.open_events(&path, &[("Cookie", &cookie)]).await?;
        held.push(s);
    }
    // Each stream delivers its first event (the replay of the log so far).
    for s in &mut held {
        tokio::time::timeout(Duration::from_secs(30), s.next_event())
            .await
            .context("a stream sent no event within 30 s")??;
    }
    let opened = opening.elapsed();
    println!(
        "opened {streams} streams in {:.2} s, each with its first event",
        opened.as_secs_f64()
    );
    let duration = Duration::from_secs_f64(seconds);
    let health = hammer(addr, "/healthz", &cookie, 4, duration);
    let page = hammer(addr, "/", &cookie, 4, duration);
    let (health, page) = tokio::join!(health, page);
    let (health, page) = (health?, page?);
    for (name, f) in [("GET /healthz", &health), ("GET / (planner page)", &page)] {
        println!(
            "{name:22} with {streams} streams held: {} requests, {:.0}/s, p50 {:.1} ms, p99 {:.1} ms, {} errors",
            f.requests,
            f.per_second,
            f.p50.as_secs_f64() * 1e3,
            f.p99.as_secs_f64() * 1e3,
            f.errors
        );
    }
    println!(
        "method: one server (debug build, {} CPU(s) shared with this client), its model a stand-in that never answers, so the plan stays in progress; streams opened one after another on separate connections",
        std::thread::available_parallelism().map_or(1, usize::from)
    );
    // Every stream is still open: nothing ended it while the requests ran.
    let mut closed = 0;
    for s in &mut held {
        if let Ok(Err(_)) = tokio::time::timeout(Duration::from_millis(5), s.next_event()).await {
            closed += 1;
        }
    }
    println!(
        "after the requests: {} of {streams} streams still open",
        streams - closed
    );
    if health.errors + page.errors > 0 || health.requests == 0 || page.requests == 0 {
        bail!("requests failed or none completed while the streams were held");
    }
    if closed > 0 {
        bail!("{closed} streams were closed while they were held");
    }
    drop(held);
    drop(server);
    Ok(())
}
