//! `tripwright bench durability`: `kill -9` of a server while trip lists are edited, then a
//! restart on the same store, and every change the server acknowledged must be there.
//!
//! It starts its own `tripwright serve` (this binary) on a free loopback port, on a scratch
//! SQLite store or on the PostgreSQL database given, with the list rate limit off. Each client
//! is a browser of its own (cookie, CSRF token, list) adding items one after another; every
//! `201 Created` is recorded as acknowledged. At a moment the clients do not know, while
//! requests are in flight, the server is killed with SIGKILL (no shutdown, no flush); a new
//! server starts on the same store, and each list is read back. A missing acknowledged item is
//! a failure (exit 1); an item the server stored but could not acknowledge before it died is
//! counted, not a failure.

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::Value;

use crate::loadgen::Conn;

/// A `tripwright serve` child on a loopback port.
pub(crate) struct Server {
    child: Child,
    pub(crate) addr: SocketAddr,
}

impl Server {
    /// Starts one on `data_dir` (and `database_url`) and waits until `/readyz` says ready.
    async fn start(data_dir: &Path, assets: &Path, database_url: Option<&str>) -> Result<Self> {
        Self::start_with(data_dir, assets, database_url, &[], "/readyz").await
    }

    /// [`Server::start`] with more settings in its environment, waiting until `probe`
    /// answers 200 (`/healthz` for a server whose model never answers, which is never
    /// ready).
    pub(crate) async fn start_with(
        data_dir: &Path,
        assets: &Path,
        database_url: Option<&str>,
        env: &[(&str, &str)],
        probe: &str,
    ) -> Result<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let mut cmd = Command::new(std::env::current_exe()?);
        cmd.arg("--data-dir")
            .arg(data_dir)
            .arg("--assets-dir")
            .arg(assets)
            .args(["serve", "--addr", &addr.to_string()])
            .env("TRIPWRIGHT_LLM__PROVIDER", "off")
            .env("TRIPWRIGHT_ONLINE__ENABLED", "false")
            .env("TRIPWRIGHT_LIMITS__LIST_EDITS_PER_MINUTE", "0")
            .env("TRIPWRIGHT_LIMITS__ITEMS_PER_LIST", "100000")
            .env_remove("TRIPWRIGHT_CONFIG")
            .env_remove("DATABASE_URL")
            .env_remove("TRIPWRIGHT_DATABASE_URL")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if let Some(url) = database_url {
            cmd.env("TRIPWRIGHT_DATABASE_URL", url);
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd.spawn().context("cannot start tripwright serve")?;
        let mut server = Self { child, addr };
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            if let Some(status) = server.child.try_wait()? {
                bail!("the server exited at start ({status})");
            }
            if let Ok(mut c) = Conn::open(addr).await
                && let Ok(r) = c.request("GET", probe, &[], b"").await
                && r.status == 200
            {
                return Ok(server);
            }
            if Instant::now() > deadline {
                bail!("the server did not answer {probe} within 120 s");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// SIGKILL: no shutdown, no flush.
    fn kill(&mut self) -> Result<()> {
        self.child.kill()?;
        self.child.wait()?;
        Ok(())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One browser: its cookie, CSRF token and list.
struct Browser {
    cookie: String,
    csrf: String,
    list: String,
}

impl Browser {
    async fn new(addr: SocketAddr) -> Result<Self> {
        let mut c = Conn::open(addr).await?;
        let (cookie, csrf) = c.session().await?;
        let r = c
            .post_json(
                "/api/lists",
                &cookie,
                &csrf,
                br#"{"title":"Durability run"}"#,
            )
            .await?;
        if r.status != 201 {
            bail!("a list was not made: {}", r.status);
        }
        let list = r.id()?;
        Ok(Self { cookie, csrf, list })
    }

    /// Adds items until the server stops answering: the names it acknowledged, and whether a
    /// request was in flight when it died.
    async fn edit(
        &self,
        addr: SocketAddr,
        who: usize,
        stop: Arc<AtomicBool>,
    ) -> (Vec<String>, bool) {
        let mut acknowledged = Vec::new();
        let Ok(mut c) = Conn::open(addr).await else {
            return (acknowledged, false);
        };
        let path = format!("/api/lists/{}/items", self.list);
        for n in 0.. {
            if stop.load(Ordering::Relaxed) {
                return (acknowledged, false);
            }
            let name = format!("item {who}-{n}");
            let body = serde_json::json!({ "name": name }).to_string();
            let answer = c
                .post_json(&path, &self.cookie, &self.csrf, body.as_bytes())
                .await;
            match answer {
                Ok(r) if r.status == 201 => acknowledged.push(name),
                // Anything else, or no answer: the server died under this request.
                _ => return (acknowledged, true),
            }
        }
        (acknowledged, false)
    }

    /// The item names of its list.
    async fn items(&self, addr: SocketAddr) -> Result<std::collections::HashSet<String>> {
        let mut c = Conn::open(addr).await?;
        let r = c
            .request(
                "GET",
                &format!("/api/lists/{}", self.list),
                &[("Cookie", &self.cookie)],
                b"",
            )
            .await?;
        if r.status != 200 {
            bail!("list {} after the restart: HTTP {}", self.list, r.status);
        }
        let list: Value = serde_json::from_slice(&r.body)?;
        Ok(list["items"]
            .as_array()
            .context("no items")?
            .iter()
            .filter_map(|i| i["name"].as_str().map(str::to_owned))
            .collect())
    }
}

/// What a bench runs on: `PostgreSQL` with a database URL, else `SQLite`.
pub(crate) fn backend_name(database_url: Option<&str>) -> &'static str {
    if database_url.is_some() {
        "PostgreSQL"
    } else {
        "SQLite"
    }
}

/// Runs the durability check; see the module.
pub async fn run(
    assets: &Path,
    clients: usize,
    seconds: f64,
    database_url: Option<&str>,
) -> Result<()> {
    let scratch = tempfile::Builder::new()
        .prefix("tripwright-durability")
        .tempdir()?;
    let backend = backend_name(database_url);
    println!(
        "tripwright bench durability — {backend}, {clients} clients adding trip-list items, kill -9 after ~{seconds} s"
    );
    let mut server = Server::start(scratch.path(), assets, database_url).await?;
    let mut browsers = Vec::with_capacity(clients);
    for _ in 0..clients {
        browsers.push(Arc::new(Browser::new(server.addr).await?));
    }
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let tasks: Vec<_> = browsers
        .iter()
        .enumerate()
        .map(|(who, b)| {
            let (b, stop, addr) = (Arc::clone(b), Arc::clone(&stop), server.addr);
            tokio::spawn(async move { b.edit(addr, who, stop).await })
        })
        .collect();
    // A moment the clients do not know: the run's length ± a fifth, from the clock's nanos.
    let jitter = f64::from(started.elapsed().subsec_nanos() % 1000) / 1000.0 - 0.5;
    tokio::time::sleep(Duration::from_secs_f64(seconds * (1.0 + 0.4 * jitter))).await;
    server.kill()?;
    let killed_after = started.elapsed();
    stop.store(true, Ordering::Relaxed);
    let mut acknowledged = Vec::new();
    let mut in_flight = 0;
    for t in tasks {
        let (names, cut) = t.await?;
        acknowledged.push(names);
        in_flight += usize::from(cut);
    }
    let total: usize = acknowledged.iter().map(Vec::len).sum();
    let restart = Instant::now();
    let server = Server::start(scratch.path(), assets, database_url).await?;
    let ready_after = restart.elapsed();
    let mut lost = Vec::new();
    let mut unacknowledged = 0;
    for (b, names) in browsers.iter().zip(&acknowledged) {
        let stored = b.items(server.addr).await?;
        lost.extend(names.iter().filter(|n| !stored.contains(*n)).cloned());
        unacknowledged += stored.len().saturating_sub(names.len());
    }
    drop(server);
    println!(
        "acknowledged: {total} items in {:.2} s ({:.0}/s over {clients} connections); {in_flight} requests in flight at the kill",
        killed_after.as_secs_f64(),
        total as f64 / killed_after.as_secs_f64()
    );
    println!(
        "restarted on the same store, ready in {:.2} s; read back: {} of {total} acknowledged items present, {unacknowledged} stored but never acknowledged",
        ready_after.as_secs_f64(),
        total - lost.len()
    );
    println!(
        "method: each client adds items one after another on a keep-alive connection; a 201 counts as acknowledged; SIGKILL at a jittered moment; the lists read back over HTTP"
    );
    if !lost.is_empty() {
        bail!(
            "{} acknowledged items were lost: {}",
            lost.len(),
            lost.join(", ")
        );
    }
    if total == 0 {
        bail!("no edit was acknowledged before the kill: nothing was tested");
    }
    Ok(())
}
