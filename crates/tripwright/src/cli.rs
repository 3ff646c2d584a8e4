//! Command-line interface: argument definitions and the command handlers.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use chrono::NaiveDate;
use clap::{Args, Parser, Subcommand};
use tripwright_app::{AgentEvent, AgentStatus, App, AppError};
use tripwright_config::{Config, LlmProvider, Secrets, ServeRole};
use tripwright_domain::{PlanId, TripRequest};

use crate::{bench, render};

/// Tripwright: a multi-agent travel planner that works offline.
#[derive(Debug, Parser)]
#[command(name = "tripwright", version, about, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Config file (default: $TRIPWRIGHT_CONFIG, else ./tripwright.toml when present).
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
    /// Data directory for the store and caches (default ./data; env TRIPWRIGHT_DATA_DIR).
    #[arg(long, global = true)]
    pub data_dir: Option<PathBuf>,
    /// Assets directory (default ./assets; env TRIPWRIGHT_ASSETS_DIR).
    #[arg(long, global = true)]
    pub assets_dir: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Plan a trip: best months, hotels, a day-by-day itinerary, cost and checks.
    Plan(PlanArgs),
    /// Import places from an OpenStreetMap extract.
    Import {
        #[command(subcommand)]
        what: ImportCommand,
    },
    /// Where the stored places came from (extracts and fetched regions), with counts and
    /// dates; `--remove SOURCE` deletes one source's places.
    Regions {
        /// A source to remove, as listed.
        #[arg(long)]
        remove: Option<String>,
    },
    /// The weather model.
    Weather {
        #[command(subcommand)]
        what: WeatherCommand,
    },
    /// Print all-MiniLM-L6-v2 sentence embeddings of the given texts.
    Embed {
        /// Texts to embed.
        #[arg(required = true)]
        texts: Vec<String>,
        /// Print JSON (`[{text, vector}]`); otherwise the dimension and the first values.
        #[arg(long)]
        json: bool,
    },
    /// Saved plans.
    Plans {
        #[command(subcommand)]
        what: PlansCommand,
    },
    /// Copy the SQLite store to a new file while it is in use (a server may be running);
    /// restore by putting the copy in the store's place while no server runs. A PostgreSQL
    /// store is backed up with pg_dump instead (docs/operations.md).
    Backup {
        /// The new file to write.
        to: PathBuf,
    },
    /// Benchmarks that print their figures and method.
    Bench {
        #[command(subcommand)]
        what: BenchCommand,
    },
    /// Run a suite of trip requests through the real pipeline and score the plans: delivery,
    /// the commonsense checks, the stated constraints, what infeasible requests must report,
    /// and the prose's flaws as rates (see docs/eval.md).
    Eval(EvalArgs),
    /// Check that every asset is present (run scripts/fetch_assets.sh to fetch them).
    Assets,
    /// Serve the web app (planner, saved plans, JSON API at /api, OpenAPI at
    /// /api/openapi.json) and the configured model as an OpenAI-compatible API under /v1.
    Serve(ServeArgs),
}

/// `tripwright serve` options. Each overrides its setting of the configuration (`[web]`,
/// which the environment sets too: `TRIPWRIGHT_ADDR`, `TRIPWRIGHT_WEB_TILE_URL`,
/// `TRIPWRIGHT_SECURE_COOKIES`; see docs/configuration.md).
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on (default web.addr, 127.0.0.1:8080).
    #[arg(long)]
    pub addr: Option<std::net::SocketAddr>,
    /// Raster tile URL template for the map, e.g. https://tile.example.org/{z}/{x}/{y}.png
    /// (default web.tile_url: none, the offline country outlines).
    #[arg(long)]
    pub tile_url: Option<String>,
    /// Mark the user cookie `Secure` (when served over HTTPS; default web.secure_cookies).
    #[arg(long)]
    pub secure_cookies: bool,
    /// What to serve: `app` (the web app, its API and /v1) or `inference` (only /v1 from the
    /// embedded model, for app replicas to share; default web.role, app).
    #[arg(long, value_parser = ["app", "inference"])]
    pub role: Option<String>,
    /// Serve Prometheus metrics at GET /metrics on this address (default web.metrics_addr:
    /// none).
    #[arg(long)]
    pub metrics_addr: Option<std::net::SocketAddr>,
}

/// `tripwright eval` options.
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// The suite: JSON Lines of `{"id", "request", "expect"}` (e.g. eval/suite.jsonl).
    #[arg(long)]
    pub suite: PathBuf,
    /// Print the report as JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Write report.html, report.json and each plan's JSON into this folder.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Fail (exit 1) when the totals fall short of these thresholds (a TOML file, e.g.
    /// eval/thresholds.toml).
    #[arg(long)]
    pub thresholds: Option<PathBuf>,
    /// Plan without the language model (no prose to measure).
    #[arg(long)]
    pub no_llm: bool,
    /// Run only the first N cases.
    #[arg(long)]
    pub limit: Option<usize>,
}

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Import hotels, attractions, artworks, food and grocery shops from a .osm.pbf file.
    Osm {
        /// The extract.
        file: PathBuf,
    },
    /// Fetch a city's places from OpenStreetMap (the Overpass server of [online]
    /// overpass_url) and keep them for offline planning; again replaces them.
    Region {
        /// The city: "Rome" or "Rome, Italy".
        place: String,
        /// Radius around its centre, 0.5–25 km (default: 2–5 km by population).
        #[arg(long)]
        radius: Option<f64>,
    },
}

#[derive(Debug, Subcommand)]
pub enum WeatherCommand {
    /// Leave-one-city-out error of the forest against the nearest-station baseline.
    Evaluate {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// The 12 months ranked for a destination.
    Months {
        /// Destination.
        destination: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum PlansCommand {
    /// The newest saved plans.
    List {
        /// How many.
        #[arg(long, default_value_t = 20)]
        limit: u32,
    },
    /// One saved plan as JSON.
    Show {
        /// Plan id.
        id: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Cold start, warm plan latency, embedding throughput and peak RSS (no LLM).
    Plan {
        /// Warm plan requests to time.
        #[arg(long, default_value_t = 50)]
        requests: usize,
        /// Hotel descriptions to embed for the throughput figure.
        #[arg(long, default_value_t = 1000)]
        texts: usize,
        /// Instead: a 3-day plan end to end with the configured language model (time to the
        /// skeleton, to the first prose token, to done; tokens; regenerations), alone and with
        /// `--concurrent` plans at once.
        #[arg(long)]
        llm: bool,
        /// Plans at once for the second `--llm` run.
        #[arg(long, default_value_t = 4)]
        concurrent: usize,
        /// Days of the `--llm` plans.
        #[arg(long, default_value_t = 3)]
        days: u8,
    },
    /// The web app under load: page throughput and latency with many connections, and the
    /// delay to the first progress event. Start `tripwright serve` first.
    Web {
        /// The server (a loopback address).
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: std::net::SocketAddr,
        /// Concurrent keep-alive connections.
        #[arg(long, default_value_t = 100)]
        connections: usize,
        /// Seconds of load per page.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// Plans to create for the first-event latency.
        #[arg(long, default_value_t = 5)]
        plans: usize,
    },
    /// The street map: import, stored size, tiles drawn and cached at zooms 13–18, walking
    /// routes beside the straight-line estimate. Uses a temporary store.
    Map {
        /// Pairs of places to route between.
        #[arg(long, default_value_t = 2000)]
        pairs: usize,
    },
    /// `kill -9` of a server while trip lists are edited, a restart on the same store, and
    /// every acknowledged change read back (exit 1 if one is lost). Starts its own server on a
    /// loopback port, on a scratch SQLite store or on `--database-url`.
    Durability {
        /// Clients editing at once, each on its own list.
        #[arg(long, default_value_t = 8)]
        clients: usize,
        /// About how long to edit before the kill, in seconds.
        #[arg(long, default_value_t = 3.0)]
        seconds: f64,
        /// A PostgreSQL database to run on instead of a scratch SQLite file (its tables are
        /// created if missing; the run adds lists to it).
        #[arg(long)]
        database_url: Option<String>,
    },
    /// Concurrent plan requests for some seconds against a server of its own, optionally
    /// with the database restarted half-way (`--restart-command`), and what became of every
    /// plan: exit 1 if an accepted plan never ends, or the server does not recover.
    Plans {
        /// Clients planning at once, each one plan after another.
        #[arg(long, default_value_t = 4)]
        clients: usize,
        /// How long to plan, in seconds.
        #[arg(long, default_value_t = 10.0)]
        seconds: f64,
        /// A PostgreSQL database to run on instead of a scratch SQLite file.
        #[arg(long)]
        database_url: Option<String>,
        /// A shell command run half-way that restarts the database (e.g. `pg_ctl -D DIR -m
        /// fast restart`); the run then checks plans are made again afterwards.
        #[arg(long)]
        restart_command: Option<String>,
    },
    /// Many plan-progress event streams held open while other requests must still answer
    /// quickly. Starts its own server on a loopback port, its model a stand-in that never
    /// answers (so the plan stays in progress).
    Streams {
        /// Event streams held at once.
        #[arg(long, default_value_t = 1000)]
        streams: usize,
        /// Seconds of requests while they are held.
        #[arg(long, default_value_t = 5.0)]
        seconds: f64,
    },
    /// The embedded engine: bare loop vs actor, concurrency 1/4/8, prefix cache and
    /// prompt-lookup speculation on and off, peak RSS. Takes a few minutes.
    Llm {
        /// GGUF to measure; default the configured model (`llm.model_path`).
        #[arg(long)]
        model: Option<PathBuf>,
        /// CPU threads; default `llm.threads`, else all cores.
        #[arg(long)]
        threads: Option<u32>,
        /// Tokens generated per request in the decode-speed runs.
        #[arg(long, default_value_t = 128)]
        max_tokens: u32,
        /// Print the figures as JSON after the table.
        #[arg(long)]
        json: bool,
    },
}

/// `tripwright plan` options.
#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Where to: a city, optionally "City, Country".
    #[arg(long)]
    pub destination: String,
    /// Trip length in days.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u8).range(1..=14))]
    pub days: u8,
    /// Hotel and trip preferences.
    #[arg(long, default_value = "Luxury hotel in city center with spa.")]
    pub prefs: String,
    /// Travel month 1–12 (default: the best-ranked month).
    #[arg(long, value_parser = clap::value_parser!(u8).range(1..=12))]
    pub month: Option<u8>,
    /// First day of the trip, YYYY-MM-DD (fixes the month and weekdays).
    #[arg(long)]
    pub start_date: Option<NaiveDate>,
    /// Total budget for the whole party.
    #[arg(long, allow_negative_numbers = true)]
    pub budget: Option<f64>,
    /// Currency of the budget and the costs, ISO 4217 (default: the destination's).
    #[arg(long)]
    pub currency: Option<String>,
    /// Number of travellers.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u8).range(1..=20))]
    pub travelers: u8,
    /// Leave out hotels above this price per night.
    #[arg(long, allow_negative_numbers = true)]
    pub max_price: Option<f64>,
    /// Leave out hotels with fewer stars (1–5).
    #[arg(long, value_parser = clap::value_parser!(u8).range(1..=5))]
    pub min_stars: Option<u8>,
    /// Print the plan as JSON (schema/plan.schema.json).
    #[arg(long)]
    pub json: bool,
    /// Skip the language model: no prose, faster (same as llm.provider = "off").
    #[arg(long)]
    pub no_llm: bool,
}

impl PlanArgs {
    fn request(&self) -> TripRequest {
        TripRequest {
            destination: self.destination.clone(),
            days: self.days,
            prefs: self.prefs.clone(),
            month: self.month,
            start_date: self.start_date,
            budget: self.budget,
            currency: self.currency.as_ref().map(|c| c.to_ascii_uppercase()),
            travelers: self.travelers,
            max_price: self.max_price,
            min_stars: self.min_stars,
        }
    }
}

/// Loads configuration: defaults → file → environment → command-line flags.
pub fn load_config(global: &GlobalArgs) -> Result<Config> {
    let mut config = Config::load(global.config.as_deref(), std::env::vars())?;
    if let Some(d) = &global.data_dir {
        config.data_dir = d.clone();
    }
    if let Some(a) = &global.assets_dir {
        config.assets_dir = a.clone();
    }
    Ok(config)
}

/// Runs one command.
pub async fn run(cli: Cli) -> Result<()> {
    let config = load_config(&cli.global)?;
    crate::observe::init_logging(&config);
    // Secrets are loaded (and validated) up front so a malformed secrets.toml is reported
    // early; the LLM layer will use them.
    let secrets = Secrets::load(std::env::vars())?;
    // Both are safe to log: secrets print as [REDACTED] (tested in tests/cli.rs).
    tracing::debug!(?config, ?secrets, "configuration loaded");
    match cli.command {
        Command::Plan(args) => plan(config, &secrets, args).await,
        Command::Import {
            what: ImportCommand::Osm { file },
        } => import(config, file).await,
        Command::Import {
            what: ImportCommand::Region { place, radius },
        } => import_region(config, &secrets, &place, radius).await,
        Command::Regions { remove } => regions(config, &secrets, remove).await,
        Command::Weather { what } => weather(config, &secrets, what).await,
        Command::Embed { texts, json } => embed(config, texts, json).await,
        Command::Plans { what } => plans(config, what).await,
        Command::Bench {
            what:
                BenchCommand::Plan {
                    llm: true,
                    concurrent,
                    days,
                    ..
                },
        } => bench::plan_llm(config, &secrets, concurrent, days).await,
        Command::Bench {
            what: BenchCommand::Plan {
                requests, texts, ..
            },
        } => bench::plan(config, requests, texts).await,
        Command::Bench {
            what:
                BenchCommand::Llm {
                    model,
                    threads,
                    max_tokens,
                    json,
                },
        } => bench::llm(config, model, threads, max_tokens, json).await,
        Command::Bench {
            what:
                BenchCommand::Web {
                    addr,
                    connections,
                    seconds,
                    plans,
                },
        } => bench::web(addr, connections, seconds, plans).await,
        Command::Bench {
            what: BenchCommand::Map { pairs },
        } => bench::map(config, pairs).await,
        Command::Bench {
            what:
                BenchCommand::Plans {
                    clients,
                    seconds,
                    database_url,
                    restart_command,
                },
        } => {
            crate::planload::run(
                &config.assets_dir,
                clients.max(1),
                seconds,
                database_url.as_deref(),
                restart_command.as_deref(),
            )
            .await
        }
        Command::Bench {
            what: BenchCommand::Streams { streams, seconds },
        } => crate::streams::run(&config.assets_dir, streams.max(1), seconds).await,
        Command::Bench {
            what:
                BenchCommand::Durability {
                    clients,
                    seconds,
                    database_url,
                },
        } => {
            crate::durability::run(
                &config.assets_dir,
                clients.max(1),
                seconds,
                database_url.as_deref(),
            )
            .await
        }
        Command::Backup { to } => backup(&config, &to).await,
        Command::Serve(args) => serve(config, &secrets, args).await,
        Command::Eval(args) => crate::eval::run(config, &secrets, args).await,
        Command::Assets => {
            tripwright_app::assets::AssetPaths::new(&config.assets_dir).require_core()?;
            println!("all assets present in {}", config.assets_dir.display());
            Ok(())
        }
    }
}

/// `tripwright import region PLACE [--radius KM]`.
async fn import_region(
    mut config: Config,
    secrets: &Secrets,
    place: &str,
    radius: Option<f64>,
) -> Result<()> {
    // Only the store and the gazetteer are needed, not the language model.
    config.llm.provider = LlmProvider::Off;
    eprintln!("Fetching the places of {place} from OpenStreetMap…");
    let (app, _) = App::load(config, secrets).await?;
    let result = app.import_region(place, radius).await;
    app.close().await?;
    let import = result?;
    let map = match &import.map {
        Ok(0) => {
            "no street map (OpenStreetMap has no streets there): walks will follow straight lines"
                .to_owned()
        }
        Ok(n) => format!("a street map of {n} streets, paths and areas"),
        Err(e) => format!("no street map ({e}): walks will follow straight lines"),
    };
    println!(
        "{} places stored as \"{}\", with {map}; plans for it now work offline.",
        import.places, import.source
    );
    Ok(())
}

/// `tripwright regions [--remove SOURCE]`.
async fn regions(mut config: Config, secrets: &Secrets, remove: Option<String>) -> Result<()> {
    config.llm.provider = LlmProvider::Off;
    let (app, _) = App::load(config, secrets).await?;
    let result = async {
        if let Some(source) = &remove {
            let n = app.remove_region(source).await?;
            if n == 0 {
                anyhow::bail!(
                    "no places come from {source:?}; `tripwright regions` lists the sources"
                );
            }
            println!("{n} places of \"{source}\" removed.");
        }
        let mut out = std::io::stdout().lock();
        writeln!(out, "{:<40} {:>8}  imported", "source", "places")?;
        for r in app.regions().await? {
            writeln!(
                out,
                "{:<40} {:>8}  {}",
                r.source,
                r.places,
                r.imported_at.format("%Y-%m-%d %H:%M UTC")
            )?;
        }
        Ok(())
    }
    .await;
    app.close().await?;
    result
}

async fn plan(mut config: Config, secrets: &Secrets, args: PlanArgs) -> Result<()> {
    let request = args.request();
    // Bad input is reported before the models load.
    request.validate().map_err(AppError::from)?;
    if args.no_llm {
        config.llm.provider = LlmProvider::Off;
    }
    let human = !args.json;
    if human {
        eprintln!("Loading data and models…");
    }
    let (app, _) = App::load(config, secrets).await?;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<AgentEvent>();
    let progress = tokio::spawn(async move {
        let mut err = std::io::stderr();
        while let Some(ev) = rx.recv().await {
            if !human {
                continue;
            }
            // The texts are written side by side, token by token: each is shown once kept
            // (the final replacement of its slot), so the lines never interleave.
            if let AgentStatus::Text {
                slot,
                text,
                replace,
            } = &ev.status
            {
                if *replace && !text.is_empty() {
                    let _ = writeln!(err, "{}", render::text_line(*slot, text));
                }
                continue;
            }
            // Each kept text is its own line already: the count would double them.
            if matches!(
                ev.status,
                AgentStatus::Output { .. } | AgentStatus::Writing { .. }
            ) {
                continue;
            }
            let _ = writeln!(err, "{}", render::event_line(&ev));
        }
    });
    let result = app
        .planner()
        .make_telling(request, Some(tx), |notice| {
            if human {
                eprintln!("{notice}");
            }
        })
        .await;
    let _ = progress.await;
    app.close().await?;
    let plan = result?;
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &plan)?;
        writeln!(out)?;
    } else {
        write!(out, "{}", render::plan_text(&plan))?;
    }
    Ok(())
}

/// `tripwright serve`: loads the data and models once, then serves the web app and `/v1`
/// until Ctrl-C. The cookie-signing key is the secret `TRIPWRIGHT_SESSION_KEY` when set (the
/// same on every replica), else `{data_dir}/session.key`.
async fn serve(mut config: Config, secrets: &Secrets, args: ServeArgs) -> Result<()> {
    if let Some(addr) = args.addr {
        config.web.addr = addr;
    }
    if let Some(url) = args.tile_url {
        config.web.tile_url = Some(url).filter(|u| !u.trim().is_empty());
    }
    if args.secure_cookies {
        config.web.secure_cookies = true;
    }
    match args.role.as_deref() {
        Some("inference") => config.web.role = ServeRole::Inference,
        Some(_) => config.web.role = ServeRole::App,
        None => {}
    }
    if let Some(addr) = args.metrics_addr {
        config.web.metrics_addr = Some(addr);
    }
    let addr = config.web.addr;
    eprintln!("Loading data and models…");
    let (state, app) = match config.web.role {
        ServeRole::App => {
            let (app, _) = App::load(config.clone(), secrets).await?;
            let app = std::sync::Arc::new(app);
            let web = tripwright_web::WebApp::new(std::sync::Arc::clone(&app), secrets)?;
            let state = tripwright_web::AppState::with_app(std::sync::Arc::new(web));
            (state, Some(app))
        }
        // The model alone: no store, place data or embedding model to load.
        ServeRole::Inference => {
            if config.llm.provider != LlmProvider::Embedded {
                bail!(
                    "the inference role serves the embedded model; llm.provider is \"{}\"",
                    config.llm.provider
                );
            }
            let llm = tripwright_app::load_llm(&config, secrets)
                .await
                .map_err(|why| anyhow::anyhow!(why))?;
            (tripwright_web::AppState::new(llm), None)
        }
    };
    if let Some(metrics_addr) = config.web.metrics_addr {
        let local = state
            .llm_unavailable
            .is_none()
            .then(|| std::sync::Arc::clone(&state.llm));
        let bound = crate::observe::serve_metrics(metrics_addr, local).await?;
        eprintln!("Metrics at http://{bound}/metrics");
    }
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("could not listen on {addr}"))?;
    let addr = listener.local_addr()?;
    match &state.llm_unavailable {
        None => eprintln!(
            "/v1 serves {} (OpenAI-compatible); Ctrl-C stops",
            state.llm.model_id()
        ),
        Some(why) => eprintln!(
            "no language model ({why}): plans have no prose and /v1 answers 503; Ctrl-C stops"
        ),
    }
    match config.web.role {
        ServeRole::App => println!("Tripwright is running at http://{addr}/"),
        ServeRole::Inference => {
            println!("Tripwright's inference tier is running at http://{addr}/v1")
        }
    }
    let options = tripwright_web::ServeOptions::from(&config.web);
    tripwright_web::serve(listener, state, stop_signal(), options).await?;
    eprintln!("Stopped.");
    if let Some(app) = app {
        app.close().await?;
    }
    Ok(())
}

/// `tripwright backup FILE`.
async fn backup(config: &Config, to: &std::path::Path) -> Result<()> {
    if config.database_url.is_some() {
        bail!(
            "the store is in PostgreSQL (database_url): back it up with pg_dump --format=custom, restore with pg_restore (docs/operations.md)"
        );
    }
    let from = config.store_path();
    if !from.exists() {
        bail!("there is no store at {} to back up", from.display());
    }
    let store = tripwright_store::SqliteStore::open(&from).await?;
    let copied = store.backup(to).await;
    tripwright_store::Store::close(&store).await?;
    copied?;
    let size = std::fs::metadata(to).map_or(0, |m| m.len());
    println!(
        "backed up {} to {} ({:.1} MB); to restore, stop the server and put it in the store's place",
        from.display(),
        to.display(),
        size as f64 / 1e6
    );
    Ok(())
}

/// Completes on Ctrl-C (SIGINT) or SIGTERM, the signal systemd, Docker and Kubernetes send.
async fn stop_signal() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut term) => {
                term.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "SIGTERM cannot be handled");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => eprintln!("Ctrl-C: stopping…"),
        () = term => eprintln!("SIGTERM: stopping…"),
    }
}

async fn import(config: Config, file: PathBuf) -> Result<()> {
    let report = tripwright_app::import_osm(&config, &file).await?;
    println!("imported {} places from {}", report.written, file.display());
    for (category, c) in &report.counts {
        println!(
            "  {:<10} {:>5} nodes {:>4} ways ({} ways could not be located)",
            category.as_str(),
            c.node,
            c.way,
            c.way_unlocatable
        );
    }
    Ok(())
}

async fn weather(mut config: Config, secrets: &Secrets, what: WeatherCommand) -> Result<()> {
    match what {
        WeatherCommand::Evaluate { json } => {
            let eval = tripwright_app::evaluate_weather(&config).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&eval)?);
            } else {
                println!("{}", render::evaluation_text(&eval));
            }
        }
        WeatherCommand::Months { destination, json } => {
            config.llm.provider = LlmProvider::Off;
            let (app, _) = App::load(config, secrets).await?;
            let (dest, months) = app.months(&destination).await?;
            app.close().await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&months)?);
            } else {
                println!("{}, {}", dest.name, dest.country);
                print!("{}", render::months_text(&months));
            }
        }
    }
    Ok(())
}

async fn embed(config: Config, texts: Vec<String>, json: bool) -> Result<()> {
    let vectors: Vec<(String, Vec<f32>)> = texts
        .clone()
        .into_iter()
        .zip(tripwright_app::embed(&config, texts).await?)
        .collect();
    if json {
        let items: Vec<serde_json::Value> = vectors
            .iter()
            .map(|(t, v)| serde_json::json!({ "text": t, "vector": v }))
            .collect();
        println!("{}", serde_json::to_string(&items)?);
    } else {
        for (t, v) in &vectors {
            let head: Vec<String> = v.iter().take(4).map(|x| format!("{x:.4}")).collect();
            println!("{t:?}: {} dims [{} …]", v.len(), head.join(", "));
        }
    }
    Ok(())
}

async fn plans(config: Config, what: PlansCommand) -> Result<()> {
    let saved = tripwright_app::SavedPlans::open(&config).await?;
    match what {
        PlansCommand::List { limit } => {
            for p in saved.recent(limit).await? {
                println!(
                    "{}  {}  {}, {} ({} days)",
                    p.id,
                    p.created_at.format("%Y-%m-%d %H:%M"),
                    p.destination,
                    p.country,
                    p.days
                );
            }
        }
        PlansCommand::Show { id } => match saved.get(&PlanId::new(id.clone())).await? {
            Some(plan) => println!("{}", serde_json::to_string_pretty(&plan)?),
            None => anyhow::bail!("no saved plan has the id {id:?} (see `tripwright plans list`)"),
        },
    }
    Ok(())
}

/// Prints an error for a person: the message, its code and hint where known, no backtrace.
pub fn print_error(e: &anyhow::Error) {
    if let Some(app) = e.downcast_ref::<AppError>() {
        match app {
            AppError::Invalid {
                invalid: tripwright_app::Invalid::Request(code),
                message,
                hint,
            } => eprintln!(
                "error[{}]: invalid request: {message} ({})",
                code.as_str(),
                hint.as_deref().unwrap_or_default()
            ),
            AppError::UnknownDestination(_) => eprintln!("error[unknown_destination]: {app}"),
            AppError::MissingAssets { .. } => eprintln!("error[missing_assets]: {app}"),
            other => eprintln!("error: {other}"),
        }
    } else {
        eprintln!("error: {e}");
        for cause in e.chain().skip(1) {
            eprintln!("  caused by: {cause}");
        }
    }
}
