//! `tripwright bench plan`: start-up, plan latency, embedding throughput and memory, each
//! printed with how it was measured and beside the target from the issue; `bench map`: the
//! street map's tiles and walking routes.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use tripwright_app::App;
use tripwright_app::assets::AssetPaths;
use tripwright_config::{Config, LlmProvider};
use tripwright_domain::TripRequest;
// The embedding throughput is a component's figure: the model is measured directly.
use tripwright_ml::embedding::Embedder;

const PREFS: [&str; 10] = [
    "quiet hotel with a sauna",
    "Luxury hotel in city center with spa.",
    "cheap hostel near the railway station",
    "family friendly hotel with breakfast",
    "boutique design hotel",
    "museums and coffee",
    "hotel with a gym and a pool",
    "historic hotel near the harbour",
    "budget guest house, wifi",
    "romantic hotel with sea views",
];

/// `tripwright bench llm`: the engine benchmark on the configured (or given) GGUF.
pub async fn llm(
    config: Config,
    model: Option<std::path::PathBuf>,
    threads: Option<u32>,
    max_tokens: u32,
    json: bool,
) -> Result<()> {
    let mut options =
        tripwright_llm::engine::BenchOptions::new(model.unwrap_or_else(|| config.llm_model_path()));
    if let Some(threads) = threads {
        options.threads = threads.max(1);
    }
    options.max_tokens = max_tokens.max(2);
    if !options.model_path.is_file() {
        bail!(
            "no model at {}; run scripts/fetch_assets.sh or pass --model",
            options.model_path.display()
        );
    }
    eprintln!(
        "Benchmarking {} on {} thread(s), release={}; this takes a few minutes…",
        options.model_path.display(),
        options.threads,
        !cfg!(debug_assertions)
    );
    let report = tripwright_llm::engine::bench_llm(&options).await?;
    println!("{report}");
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    }
    Ok(())
}

/// `tripwright bench web`: page throughput and latency with many connections, and how soon
/// the first progress event follows `POST /api/plans`, against a running server.
pub async fn web(
    addr: std::net::SocketAddr,
    connections: usize,
    seconds: u64,
    plans: usize,
) -> Result<()> {
    use crate::loadgen::{Conn, hammer};
    println!(
        "tripwright bench web — server {addr}, {} CPU(s) shared by server and client",
        num_cpus()
    );
    let mut conn = Conn::open(addr).await?;
    let home = conn.request("GET", "/", &[], b"").await?;
    if home.status != 200 {
        bail!("GET / answered {}", home.status);
    }
    let cookie = home
        .header("set-cookie")
        .and_then(|c| c.split(';').next())
        .context("GET / set no session cookie")?
        .to_owned();
    let session = conn
        .request("GET", "/api/session", &[("Cookie", &cookie)], b"")
        .await?;
    let csrf = serde_json::from_slice::<serde_json::Value>(&session.body)?["csrf"]
        .as_str()
        .context("GET /api/session gave no csrf token")?
        .to_owned();

    // Time from sending POST /api/plans to the first event on its stream; each plan runs to
    // its end before the next starts (different preferences, so the plan cache is not used).
    let mut first = Vec::new();
    let mut plan_path = String::new();
    for i in 0..plans.max(1) {
        let body = serde_json::json!({
            "destination": "Helsinki",
            "days": 2,
            "prefs": format!("{} #{i}", PREFS[i % PREFS.len()]),
        })
        .to_string();
        let t = Instant::now();
        let created = conn
            .post_json("/api/plans", &cookie, &csrf, body.as_bytes())
            .await?;
        if created.status != 202 {
            bail!(
                "POST /api/plans answered {}: {}",
                created.status,
                String::from_utf8_lossy(&created.body)
            );
        }
        let created: serde_json::Value = serde_json::from_slice(&created.body)?;
        let events = created["events"]
            .as_str()
            .context("POST /api/plans gave no events URL")?;
        let mut stream = Conn::open(addr).await?;
        stream.open_events(events, &[("Cookie", &cookie)]).await?;
        stream.next_event().await?;
        let elapsed = t.elapsed();
        first.push(elapsed);
        let last = i + 1 == plans.max(1);
        eprintln!(
            "plan {}/{}: first event after {:.1} ms{}",
            i + 1,
            plans.max(1),
            elapsed.as_secs_f64() * 1000.0,
            if last {
                "; waiting for it to finish (its page is the saved plan page measured below)…"
            } else {
                "; cancelling it"
            }
        );
        if !last {
            // Only the first event is measured: cancel the plan so the next one starts on an
            // idle server, and wait until the server says it stopped.
            let id = created["id"]
                .as_str()
                .context("POST /api/plans gave no id")?;
            let cancelled = conn
                .post_json(&format!("/api/plans/{id}/cancel"), &cookie, &csrf, b"{}")
                .await?;
            // 409: it ended before the cancel arrived; its stream still ends.
            if !(200..300).contains(&cancelled.status) && cancelled.status != 409 {
                bail!("cancelling plan {id} answered {}", cancelled.status);
            }
            tokio::time::timeout(Duration::from_secs(60), async {
                loop {
                    if matches!(
                        stream.next_event().await?.as_str(),
                        "done" | "failed" | "cancelled"
                    ) {
                        return anyhow::Ok(());
                    }
                }
            })
            .await
            .context("a cancelled benchmark plan did not stop within 60 s")??;
            continue;
        }
        let finished = tokio::time::timeout(Duration::from_secs(600), async {
            loop {
                match stream.next_event().await?.as_str() {
                    "done" => return anyhow::Ok(()),
                    "failed" | "cancelled" => bail!("the benchmark plan did not finish"),
                    _ => {}
                }
            }
        })
        .await
        .context("a benchmark plan took over 600 s")?;
        finished?;
        plan_path = created["url"].as_str().unwrap_or_default().to_owned();
    }
    first.sort();

    let duration = Duration::from_secs(seconds.max(1));
    let page = hammer(addr, "/", &cookie, connections, duration).await?;
    let cached = hammer(addr, &plan_path, &cookie, connections, duration).await?;

    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!();
    println!(
        "{:<46} {:>10} {:>9} {:>9} {:>7}   target",
        "measure", "req/s", "p50 ms", "p99 ms", "errors"
    );
    for (name, f) in [
        ("planner page GET /", &page),
        ("saved plan page GET /plans/{id}", &cached),
    ] {
        println!(
            "{:<46} {:>10.0} {:>9.2} {:>9.2} {:>7}   ≥ 5000 req/s, p99 < 50 ms: {}",
            format!("{name}, {connections} conn, {} req", f.requests),
            f.per_second,
            ms(f.p50),
            ms(f.p99),
            f.errors,
            if f.per_second >= 5000.0 && f.p99 < Duration::from_millis(50) && f.errors == 0 {
                "met"
            } else {
                "NOT MET"
            }
        );
    }
    let worst = first.last().copied().unwrap_or_default();
    println!(
        "{:<46} {:>10} {:>9.2} {:>9.2} {:>7}   ≤ 100 ms: {}",
        format!("POST /api/plans → first SSE event, {} plans", first.len()),
        "",
        ms(percentile(&first, 0.5)),
        ms(worst),
        0,
        if worst <= Duration::from_millis(100) {
            "met"
        } else {
            "NOT MET"
        }
    );
    println!();
    println!(
        "method: {connections} keep-alive HTTP/1.1 connections (a minimal client in this process) each send GET \
         requests back to back for {seconds} s per page, with the session cookie of one browser; latency from \
         writing a request to reading its whole body; percentiles by nearest rank. The plan page is a finished, \
         saved plan: the first request renders it, later ones get the page the server keeps until the plan \
         changes. SSE: POST /api/plans, then GET its events URL on a second connection; the \
         figure is the time from sending the POST to reading the first `event:` line; the column under p99 is \
         the worst of the plans. The server's configuration (LLM on or off) is the server's own."
    );
    Ok(())
}

/// What one plan with prose took.
#[derive(Debug, Clone, Copy)]
struct PlanTimes {
    /// To the itinerary's first output (stops timed, no prose yet).
    skeleton: Duration,
    /// To the first streamed prose token.
    first_token: Option<Duration>,
    /// To the finished, checked, saved plan.
    done: Duration,
}

/// The `prose` check's detail of a plan, or why there is none (its warnings say).
fn prose_detail(plan: &tripwright_domain::Plan) -> String {
    plan.checks.iter().find(|c| c.name == "prose").map_or_else(
        || format!("no prose: {}", plan.warnings.join("; ")),
        |c| c.detail.clone(),
    )
}

/// What the embedded engine did between two of its counters' snapshots, in words.
fn engine_delta(
    before: Option<tripwright_llm::engine::EngineStats>,
    after: Option<tripwright_llm::engine::EngineStats>,
) -> Option<String> {
    let (b, a) = (before?, after?);
    let prompt = a.prompt_tokens - b.prompt_tokens;
    let cached = a.cached_prompt_tokens - b.cached_prompt_tokens;
    Some(format!(
        "{} requests, {prompt} prompt tokens ({cached} from the prefix cache, {} prefilled), {} generated, {} of {} drafts accepted, {} decode calls, at most {} sequences in one call",
        a.requests - b.requests,
        prompt - cached,
        a.generated_tokens - b.generated_tokens,
        a.accepted_drafts - b.accepted_drafts,
        a.drafted_tokens - b.drafted_tokens,
        a.decode_calls - b.decode_calls,
        a.max_batch_sequences,
    ))
}

/// Makes one plan with `app`, timing its events.
async fn timed_plan(
    app: &App,
    request: TripRequest,
) -> Result<(PlanTimes, tripwright_domain::Plan)> {
    use tripwright_app::{AgentName, AgentOutput, AgentStatus};
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<tripwright_app::AgentEvent>();
    let t = Instant::now();
    let watch = tokio::spawn(async move {
        let (mut skeleton, mut first) = (None, None);
        while let Some(ev) = rx.recv().await {
            match ev.status {
                AgentStatus::Output { output }
                    if ev.agent == AgentName::Itinerary
                        && matches!(*output, AgentOutput::Itinerary(_)) =>
                {
                    skeleton.get_or_insert(t.elapsed());
                }
                AgentStatus::Text {
                    ref text,
                    replace: false,
                    ..
                } if !text.is_empty() => {
                    first.get_or_insert(t.elapsed());
                }
                _ => {}
            }
        }
        (skeleton, first)
    });
    let plan = app.planner().make(request, Some(tx)).await?;
    let done = t.elapsed();
    let (skeleton, first_token) = watch.await.context("the event watcher failed")?;
    Ok((
        PlanTimes {
            skeleton: skeleton.unwrap_or(done),
            first_token,
            done,
        },
        plan,
    ))
}

/// `tripwright bench plan --llm`: a plan with prose end to end, alone and `concurrent` at once.
pub async fn plan_llm(
    config: Config,
    secrets: &tripwright_config::Secrets,
    concurrent: usize,
    days: u8,
) -> Result<()> {
    println!(
        "tripwright bench plan --llm — {} CPU(s), release={}, model {}",
        num_cpus(),
        !cfg!(debug_assertions),
        config.llm_model_path().display()
    );
    let scratch = tempfile_dir()?;
    let mut config = config;
    config.data_dir = scratch.path().to_path_buf();
    config.store_path = None;
    let (app, _) = App::load(config, secrets).await?;
    if let Err(why) = app.llm() {
        bail!("no language model: {why}");
    }
    let request = |i: usize| TripRequest {
        days,
        prefs: PREFS[i % PREFS.len()].to_owned(),
        ..TripRequest::new("Helsinki")
    };
    // Warm-up: the hotel embeddings are cached and the model's first prompt is prefilled.
    timed_plan(
        &app,
        TripRequest {
            days: 1,
            ..request(9)
        },
    )
    .await?;
    let llm = app.llm().map_err(|why| anyhow::anyhow!(why))?;
    let before = llm.stats();
    let (alone, plan) = timed_plan(&app, request(0)).await?;
    let middle = llm.stats();
    let engine_alone = engine_delta(before, middle);
    let prose = prose_detail(&plan);
    let runs =
        futures::future::join_all((1..=concurrent).map(|i| timed_plan(&app, request(i)))).await;
    let engine_together = engine_delta(middle, llm.stats());
    let mut together = Vec::new();
    let mut together_prose = Vec::new();
    for r in runs {
        let (times, plan) = r?;
        together.push(times);
        together_prose.push(prose_detail(&plan));
    }
    app.close().await?;
    let s = |d: Duration| format!("{:.1} s", d.as_secs_f64());
    println!();
    println!("{:<52} {:>12} {:>12}", "measure", "value", "target");
    println!(
        "{:<52} {:>12} {:>12}",
        "alone: to the skeleton (stops timed)",
        s(alone.skeleton),
        "—"
    );
    println!(
        "{:<52} {:>12} {:>12}",
        "alone: to the first prose token",
        alone.first_token.map_or_else(|| "none".to_owned(), s),
        "≤ 2.0 s"
    );
    println!(
        "{:<52} {:>12} {:>12}",
        format!("alone: to done ({days} days)"),
        s(alone.done),
        "≤ 20.0 s"
    );
    let worst = together.iter().map(|t| t.done).max().unwrap_or_default();
    let first = together
        .iter()
        .filter_map(|t| t.first_token)
        .max()
        .unwrap_or_default();
    println!(
        "{:<52} {:>12} {:>12}",
        format!("{concurrent} at once: slowest to done"),
        s(worst),
        "≤ 60.0 s"
    );
    println!(
        "{:<52} {:>12} {:>12}",
        format!("{concurrent} at once: slowest to the first token"),
        s(first),
        "—"
    );
    println!("prose of the plan alone: {prose}");
    if let Some(e) = engine_alone {
        println!("engine, plan alone: {e}");
    }
    if let Some(e) = engine_together {
        println!("engine, {concurrent} at once: {e}");
    }
    for (i, p) in together_prose.iter().enumerate() {
        println!("prose of plan {} of {concurrent}: {p}", i + 1);
    }
    println!();
    println!(
        "method: one `App` as `tripwright serve` loads it (the configured model, continuous batching), a \
         temporary store; one 1-day plan first to warm the caches, then one {days}-day Helsinki plan alone, \
         then {concurrent} different {days}-day plans started together. Times are wall clock from the \
         request to the itinerary's first output (the skeleton), to the first streamed token of prose, \
         and to the checked, saved plan."
    );
    Ok(())
}

pub async fn plan(config: Config, requests: usize, texts: usize) -> Result<()> {
    println!(
        "tripwright bench plan — {} CPU(s), release={}",
        num_cpus(),
        !cfg!(debug_assertions)
    );
    println!("method: wall-clock times on this machine; no LLM (the prose layer is not used).");

    // 1. Cold start in a fresh process: once with an empty data dir (imports the demo extract
    //    and trains the weather forest), then again with the caches in place.
    let scratch = tempfile_dir()?;
    let first = time_child_plan(&config, scratch.path())?;
    let cold = time_child_plan(&config, scratch.path())?;

    // 2. In-process load and warm plans.
    let t = Instant::now();
    let mut no_llm = config.clone();
    no_llm.data_dir = scratch.path().to_path_buf();
    no_llm.store_path = None;
    no_llm.llm.provider = LlmProvider::Off;
    let (app, startup) = App::load(no_llm, &tripwright_config::Secrets::default()).await?;
    let load = t.elapsed();
    let request = |i: usize| TripRequest {
        days: (i % 5 + 1) as u8 * 2 - 1,
        prefs: PREFS[i % PREFS.len()].to_owned(),
        ..TripRequest::new("Helsinki")
    };
    app.planner().make(request(0), None).await?; // warm-up: hotel embeddings cached
    let mut lat = Vec::with_capacity(requests);
    for i in 0..requests {
        let t = Instant::now();
        app.planner().make(request(i), None).await?;
        lat.push(t.elapsed());
    }
    lat.sort();

    // 3. Embedding throughput over hotel-like descriptions.
    let embedder = Embedder::load(&AssetPaths::new(&config.assets_dir).minilm_dir())?;
    let descriptions = hotel_descriptions(texts);
    let refs: Vec<&str> = descriptions.iter().map(String::as_str).collect();
    let t = Instant::now();
    let vectors = tokio::task::block_in_place(|| embedder.embed(&refs))?;
    let embed_time = t.elapsed();
    if vectors.len() != texts {
        bail!("embedded {} of {texts} texts", vectors.len());
    }
    let rss = peak_rss_mb();

    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!();
    println!("{:<58} {:>12} {:>12}", "measure", "value", "target");
    println!(
        "{:<58} {:>10.0}ms {:>12}",
        "first start, empty data dir (import + train), to plan",
        ms(first),
        "—"
    );
    println!(
        "{:<58} {:>10.0}ms {:>12}",
        "cold start to first plan (new process, caches present)",
        ms(cold),
        "≤ 3000ms"
    );
    println!(
        "{:<58} {:>10.0}ms {:>12}",
        "  in-process load of store, gazetteer, forest, MiniLM",
        ms(load),
        "—"
    );
    println!(
        "{:<58} {:>12}",
        "    parts (ms): store/gazetteer/weather/embedder/import",
        format!(
            "{}/{}/{}/{}/{}",
            startup.store_ms,
            startup.gazetteer_ms,
            startup.weather_ms,
            startup.embedder_ms,
            startup.import_ms
        )
    );
    println!(
        "{:<58} {:>10.1}ms {:>12}",
        format!("warm plan p50 over {requests} requests"),
        ms(percentile(&lat, 0.50)),
        "≤ 100ms"
    );
    println!(
        "{:<58} {:>10.1}ms {:>12}",
        format!("warm plan p99 over {requests} requests"),
        ms(percentile(&lat, 0.99)),
        "—"
    );
    println!(
        "{:<58} {:>10.0}/s {:>12}",
        format!("embedding throughput, {texts} hotel descriptions, batched"),
        texts as f64 / embed_time.as_secs_f64(),
        "—"
    );
    println!(
        "{:<58} {:>10.0}MB {:>12}",
        "peak RSS of this process (VmHWM)", rss, "≤ 500MB"
    );
    println!();
    println!(
        "warm plans: Helsinki, 1–9 days, 10 different preference texts (each embedded per request),"
    );
    println!("every plan checked and saved to SQLite; percentiles by nearest rank.");
    Ok(())
}

fn num_cpus() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

fn tempfile_dir() -> Result<tempfile::TempDir> {
    tempfile::Builder::new()
        .prefix("tripwright-bench")
        .tempdir()
        .context("cannot create a scratch directory")
}

/// Runs `tripwright plan` in a new process against `data_dir`, returning its wall time.
fn time_child_plan(config: &Config, data_dir: &Path) -> Result<Duration> {
    let exe = std::env::current_exe()?;
    let t = Instant::now();
    let out = std::process::Command::new(exe)
        .args(["--data-dir"])
        .arg(data_dir)
        .arg("--assets-dir")
        .arg(&config.assets_dir)
        .args([
            "plan",
            "--destination",
            "Helsinki",
            "--days",
            "3",
            "--prefs",
            "quiet hotel with a sauna",
            "--json",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()?;
    let elapsed = t.elapsed();
    if !out.status.success() {
        bail!(
            "the timed plan failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(elapsed)
}

pub(crate) fn percentile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

/// Peak resident set size of this process in MB, from /proc (Linux).
fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// `n` distinct hotel descriptions in the style the hotel agent composes from OSM tags.
fn hotel_descriptions(n: usize) -> Vec<String> {
    const NAMES: [&str; 10] = [
        "Aurora",
        "Harbour",
        "Linden",
        "Kallio",
        "Esplanade",
        "Nordic",
        "Baltic",
        "Granite",
        "Birch",
        "Lighthouse",
    ];
    const KINDS: [&str; 5] = [
        "hotel",
        "hostel",
        "guest house",
        "apartment hotel",
        "boutique hotel",
    ];
    const FEATURES: [&str; 8] = [
        "a sauna",
        "wifi",
        "breakfast",
        "a swimming pool",
        "a gym",
        "a restaurant",
        "parking",
        "wheelchair access",
    ];
    (0..n)
        .map(|i| {
            let feats: Vec<&str> = (0..3).map(|k| FEATURES[(i + k * 3) % FEATURES.len()]).collect();
            format!(
                "{} {} {}: a {}-star {} {:.1} km from the centre of Helsinki, on Street {}. It has {}.",
                NAMES[i % 10],
                NAMES[(i / 10) % 10],
                i,
                i % 5 + 1,
                KINDS[i % KINDS.len()],
                (i % 30) as f64 / 10.0,
                i % 97,
                feats.join(", ")
            )
        })
        .collect()
}

/// `tripwright bench map`: the street map of the shipped extract in a fresh store — import,
/// stored size, every tile over the region at zooms 13–18 drawn cold and then from the cache,
/// and walking routes between the region's places beside the straight-line estimate the
/// planner used before (the reference).
pub async fn map(config: Config, pairs: usize) -> Result<()> {
    use tripwright_app::streets::StreetMap;
    use tripwright_domain::{GeoPoint, PlaceCategory};

    println!(
        "tripwright bench map — {} CPU(s), release={}",
        num_cpus(),
        !cfg!(debug_assertions)
    );
    println!(
        "method: a fresh SQLite store in a temporary folder; the shipped extract imported; \
         wall-clock times on this machine."
    );
    let scratch = tempfile_dir()?;
    let mut cfg = config.clone();
    cfg.data_dir = scratch.path().to_path_buf();
    cfg.store_path = None;
    let extract = AssetPaths::new(&config.assets_dir).demo_osm();
    let t = Instant::now();
    let report = tripwright_app::import_osm(&cfg, &extract).await?;
    let import = t.elapsed();
    let db = std::fs::metadata(cfg.store_path()).map_or(0, |m| m.len());
    let wal = std::fs::metadata(cfg.store_path().with_extension("db-wal")).map_or(0, |m| m.len());
    println!(
        "import: {} ({} KB): {} places and {} map features in {:.2} s; store file {} KB (+{} KB WAL)",
        extract.display(),
        std::fs::metadata(&extract).map_or(0, |m| m.len()) / 1024,
        report.written,
        report.map_features,
        import.as_secs_f64(),
        db / 1024,
        wal / 1024
    );

    let store = tripwright_app::open_store(&cfg).await?;
    let streets = StreetMap::new(
        std::sync::Arc::clone(&store) as std::sync::Arc<dyn tripwright_store::MapStore>,
        &config.web.font_dirs,
    );
    let region = streets
        .regions()
        .await?
        .first()
        .cloned()
        .context("the import wrote no street map")?;
    let e = region.extent;
    println!(
        "region: {:.4}–{:.4} N, {:.4}–{:.4} E (~{:.1} × {:.1} km)",
        e.min_lat,
        e.max_lat,
        e.min_lon,
        e.max_lon,
        GeoPoint::new(e.min_lat, e.min_lon).distance_km(&GeoPoint::new(e.min_lat, e.max_lon)),
        GeoPoint::new(e.min_lat, e.min_lon).distance_km(&GeoPoint::new(e.max_lat, e.min_lon)),
    );
    println!();
    println!("| zoom | tiles | drawn: mean | drawn: p95 | cached: mean | PNG mean | PNG total |");
    println!("|---|---|---|---|---|---|---|");
    let mut all_bytes = 0usize;
    for z in 13u8..=18 {
        let n = f64::from(1u32 << z);
        let col = |lon: f64| ((lon + 180.0) / 360.0 * n) as u32;
        let row = |lat: f64| {
            let r = lat.to_radians();
            ((1.0 - (r.tan() + 1.0 / r.cos()).ln() / std::f64::consts::PI) / 2.0 * n) as u32
        };
        let mut cold = Vec::new();
        let mut warm = Vec::new();
        let mut bytes = 0usize;
        for x in col(e.min_lon)..=col(e.max_lon) {
            for y in row(e.max_lat)..=row(e.min_lat) {
                let t = Instant::now();
                let tile = streets.tile(z, x, y).await?.context("a tile of the grid")?;
                cold.push(t.elapsed());
                bytes += tile.png.len();
                let t = Instant::now();
                streets.tile(z, x, y).await?;
                warm.push(t.elapsed());
            }
        }
        cold.sort();
        let mean = |v: &[Duration]| v.iter().sum::<Duration>() / v.len().max(1) as u32;
        all_bytes += bytes;
        println!(
            "| {z} | {} | {:.1} ms | {:.1} ms | {:.3} ms | {} KB | {} KB |",
            cold.len(),
            mean(&cold).as_secs_f64() * 1e3,
            percentile(&cold, 0.95).as_secs_f64() * 1e3,
            mean(&warm).as_secs_f64() * 1e3,
            bytes / cold.len().max(1) / 1024,
            bytes / 1024
        );
    }
    println!("all tiles of zooms 13–18: {} KB", all_bytes / 1024);
    println!();

    // Walks between the region's sights and eateries: along the streets vs the estimate.
    let t = Instant::now();
    let centre = GeoPoint::new((e.min_lat + e.max_lat) / 2.0, (e.min_lon + e.max_lon) / 2.0);
    let graph = streets
        .graph_near(centre)
        .await
        .context("no street graph for the region")?;
    let build = t.elapsed();
    let places: Vec<GeoPoint> = store
        .places_near(
            centre,
            5.0,
            &[PlaceCategory::Attraction, PlaceCategory::Food],
        )
        .await?
        .into_iter()
        .map(|p| GeoPoint::new(p.lat, p.lon))
        .filter(|p| e.contains(*p))
        .collect();
    anyhow::ensure!(places.len() >= 2, "too few places to route between");
    let detour = config.planner.detour_factor;
    let (mut routed, mut under, mut times) = (0usize, 0usize, Vec::new());
    let (mut street_km, mut straight_km, mut ratios) = (0.0, 0.0, Vec::new());
    for i in 0..pairs {
        // A fixed stride through the pairs: the same walks every run.
        let a = places[i % places.len()];
        let b = places[(i * 7 + 3) % places.len()];
        let straight = a.distance_km(&b);
        if straight < 0.05 {
            continue;
        }
        let t = Instant::now();
        let walk = graph.route(a, b);
        times.push(t.elapsed());
        if let Some(w) = walk {
            routed += 1;
            street_km += w.km;
            straight_km += straight;
            ratios.push(w.km / straight);
            if w.km > straight * detour {
                under += 1;
            }
        }
    }
    times.sort();
    println!(
        "street graph: {} nodes, {} segments, built in {:.0} ms",
        graph.node_count(),
        graph.edge_count(),
        build.as_secs_f64() * 1e3
    );
    println!(
        "walks: {routed} of {} pairs of places routed; route query median {:.0} µs, p95 {:.0} µs",
        times.len(),
        percentile(&times, 0.5).as_secs_f64() * 1e6,
        percentile(&times, 0.95).as_secs_f64() * 1e6
    );
    println!(
        "reference (the straight line × {detour} the planner used before): the walks are \
         ×{:.2} the straight line in total (median walk ×{:.2}); the estimate was too short for \
         {under} of {routed} walks",
        street_km / straight_km.max(1e-9),
        {
            ratios.sort_by(f64::total_cmp);
            ratios.get(ratios.len() / 2).copied().unwrap_or(0.0)
        }
    );
    Ok(())
}
