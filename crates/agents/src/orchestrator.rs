//! The orchestrator: a small DAG of agents run on tokio.
//!
//! ```text
//! request ─ validate ─ geocode ─┬─ weather (blocking pool) ─┐
//!                               ├─ hotels (store + MiniLM) ─┼─ itinerary ─ summary ─ checks ─ store
//!                               └─ candidate places ────────┘
//! ```
//! Weather and hotels run concurrently. A failing agent does not sink the plan: its section
//! is left empty, a warning says what happened, and the others still deliver. Progress is
//! reported as [`AgentEvent`]s on an optional channel (the CLI prints them; the web app will
//! stream them).

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use chrono::{Datelike, Utc};
use serde::Serialize;
use tokio::sync::mpsc::UnboundedSender;
use tripwright_config::{Config, Secrets};
use tripwright_data::gazetteer::Gazetteer;
use tripwright_domain::{
    Destination, Itinerary, MonthScore, Place, PlaceCategory, Plan, Summary, TripRequest,
    month_name,
};
use tripwright_ml::embedding::Embedder;
use tripwright_store::{SqliteStore, Store};

use crate::AgentError;
use crate::assets::AssetPaths;
use crate::checks::{TOP_MONTHS, run_checks};
use crate::grounding::check_text;
use crate::hotels::{HotelAgent, HotelFilters};
use crate::itinerary::{ItineraryInput, default_start_date, plan_itinerary};
use crate::prose::ProseWriter;
use crate::summary::{Money, estimate_cost, format_money};
use crate::weather::WeatherAgent;

/// The four agents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AgentName {
    /// WeatherAnalysisAgent.
    Weather,
    /// HotelRecommenderAgent.
    Hotels,
    /// ItineraryPlannerAgent.
    Itinerary,
    /// SummaryAgent.
    Summary,
}

/// What an agent is doing.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum AgentStatus {
    /// It started.
    Started,
    /// It finished.
    Finished {
        /// Wall time in milliseconds.
        elapsed_ms: u64,
    },
    /// Generated text as it streams (itinerary prose per day, or the summary).
    Text {
        /// The day the text belongs to; `None` for the summary.
        day: Option<u8>,
        /// The new piece of text.
        text: String,
    },
    /// The agent's result, as soon as it is known, so a client can show each part of the plan
    /// before the rest is done. The itinerary is sent twice: when its stops are planned, and
    /// again with the prose once that is written.
    Output {
        /// The result.
        output: Box<AgentOutput>,
    },
    /// It failed; the plan goes on without it.
    Failed {
        /// Wall time in milliseconds.
        elapsed_ms: u64,
        /// What went wrong, for the user.
        error: String,
    },
}

/// What an agent produced: one part of the plan.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum AgentOutput {
    /// The weather agent's ranking of the 12 months, best first.
    Months(Vec<MonthScore>),
    /// The hotel agent's recommendations, best match first.
    Hotels(Vec<tripwright_domain::Hotel>),
    /// The itinerary (first without prose, then with it).
    Itinerary(Itinerary),
    /// The summary with the cost estimate.
    Summary(Summary),
}

/// A progress event.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AgentEvent {
    /// Which agent.
    pub agent: AgentName,
    /// What happened.
    #[serde(flatten)]
    pub status: AgentStatus,
}

/// Everything loaded once at start-up and shared by every request.
pub struct Orchestrator {
    config: Arc<Config>,
    gazetteer: Arc<Gazetteer>,
    weather: Arc<WeatherAgent>,
    hotels: HotelAgent,
    store: Arc<dyn Store>,
    /// The prose writer, or why there is none (configured off, or the model failed to load).
    prose: Result<ProseWriter, String>,
}

/// How long start-up took, part by part, in milliseconds.
#[derive(Debug, Clone, Default, Serialize)]
pub struct StartupReport {
    /// Opening the store (and running migrations).
    pub store_ms: u64,
    /// Loading the gazetteer.
    pub gazetteer_ms: u64,
    /// Loading the climate data and training or loading the forest.
    pub weather_ms: u64,
    /// Loading MiniLM.
    pub embedder_ms: u64,
    /// Importing the demo OSM extract into an empty store (0 when not needed).
    pub import_ms: u64,
    /// Loading the language model (0 when off).
    pub llm_ms: u64,
}

struct Sink(Option<UnboundedSender<AgentEvent>>);

impl Sink {
    fn send(&self, agent: AgentName, status: AgentStatus) {
        if let Some(tx) = &self.0 {
            // A receiver that went away (cancelled CLI, closed page) is not an error.
            let _ = tx.send(AgentEvent { agent, status });
        }
    }

    fn started(&self, agent: AgentName) -> Instant {
        self.send(agent, AgentStatus::Started);
        Instant::now()
    }

    fn output(&self, agent: AgentName, output: AgentOutput) {
        if self.0.is_some() {
            self.send(
                agent,
                AgentStatus::Output {
                    output: Box::new(output),
                },
            );
        }
    }

    fn finished(&self, agent: AgentName, t: Instant) {
        self.send(agent, AgentStatus::Finished { elapsed_ms: ms(t) });
    }

    fn failed(&self, agent: AgentName, t: Instant, error: &AgentError) {
        self.send(
            agent,
            AgentStatus::Failed {
                elapsed_ms: ms(t),
                error: error.to_string(),
            },
        );
    }
}

fn ms(t: Instant) -> u64 {
    t.elapsed().as_millis() as u64
}

impl Orchestrator {
    /// Loads the store, gazetteer, weather model, embedder and language model (concurrently
    /// where possible) and imports the demo extract when the store has no places.
    pub async fn load(
        config: Config,
        secrets: &Secrets,
    ) -> Result<(Orchestrator, StartupReport), AgentError> {
        let assets = AssetPaths::new(&config.assets_dir);
        assets.require_core()?;
        let mut report = StartupReport::default();
        let t = Instant::now();
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&config.store_path()).await?);
        report.store_ms = ms(t);

        let geonames = assets.geonames_dir();
        let gaz = tokio::task::spawn_blocking(move || {
            let t = Instant::now();
            Gazetteer::load(&geonames).map(|g| (g, ms(t)))
        });
        let climate = assets.climate_dir();
        let cache = config.data_dir.join("cache").join("weather-forest.bin");
        let weather = tokio::task::spawn_blocking(move || {
            let t = Instant::now();
            WeatherAgent::load(&climate, &cache).map(|w| (w, ms(t)))
        });
        let minilm = assets.minilm_dir();
        let embedder = tokio::task::spawn_blocking(move || {
            let t = Instant::now();
            Embedder::load(&minilm).map(|e| (e, ms(t)))
        });
        let (gazetteer, gazetteer_ms) = join(gaz).await??;
        let (weather, weather_ms) = join(weather).await??;
        let (embedder, embedder_ms) = join(embedder).await??;
        report.gazetteer_ms = gazetteer_ms;
        report.weather_ms = weather_ms;
        report.embedder_ms = embedder_ms;

        if store.place_count().await? == 0 {
            let t = Instant::now();
            import_osm(store.as_ref(), &assets.demo_osm()).await?;
            report.import_ms = ms(t);
        }
        let t = Instant::now();
        let prose = load_llm(&config, secrets).await.map(|llm| {
            ProseWriter::new(
                llm,
                config.llm.attempts,
                config.llm.max_tokens,
                config.llm.temperature,
            )
        });
        report.llm_ms = ms(t);
        if let Err(why) = &prose {
            tracing::info!(%why, "itinerary prose is off");
        }
        let config = Arc::new(config);
        let hotels = HotelAgent::new(
            Arc::new(embedder),
            Arc::clone(&store),
            config.hotels.clone(),
        );
        Ok((
            Orchestrator {
                config,
                gazetteer: Arc::new(gazetteer),
                weather: Arc::new(weather),
                hotels,
                store,
                prose,
            },
            report,
        ))
    }

    /// The store, for callers that list or load saved plans.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The configuration it was loaded with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The language model writing the prose, or why there is none.
    pub fn llm(&self) -> Result<Arc<dyn tripwright_llm::LlmClient>, String> {
        self.prose
            .as_ref()
            .map(|w| Arc::clone(w.llm()))
            .map_err(Clone::clone)
    }

    /// The gazetteer.
    pub fn gazetteer(&self) -> &Gazetteer {
        &self.gazetteer
    }

    /// The 12 months ranked for a destination.
    pub async fn months(&self, dest: &Destination) -> Result<Vec<MonthScore>, AgentError> {
        let weather = Arc::clone(&self.weather);
        let (lat, lon) = (dest.lat, dest.lon);
        join(tokio::task::spawn_blocking(move || {
            weather.analyze(lat, lon).months
        }))
        .await
    }

    /// Makes, checks and saves a plan.
    pub async fn plan(
        &self,
        req: TripRequest,
        events: Option<UnboundedSender<AgentEvent>>,
    ) -> Result<Plan, AgentError> {
        let plan = self
            .make_plan(req, events, uuid::Uuid::new_v4().to_string())
            .await?;
        self.store.save_plan(&plan).await?;
        Ok(plan)
    }

    /// Makes and checks a plan with the given id, without saving it (the web app saves it
    /// with its owner). Dropping the future cancels the work, language model included.
    #[tracing::instrument(skip_all, fields(destination = %req.destination, days = req.days))]
    pub async fn make_plan(
        &self,
        req: TripRequest,
        events: Option<UnboundedSender<AgentEvent>>,
        id: String,
    ) -> Result<Plan, AgentError> {
        req.validate()?;
        let sink = Sink(events);
        let dest = self.gazetteer.geocode(&req.destination)?;
        let mut warnings = Vec::new();

        let wanted = req
            .currency
            .clone()
            .unwrap_or_else(|| dest.currency.clone());
        let money = match Money::new(&self.config.costs, &wanted) {
            Some(m) => m,
            None => {
                let base = &self.config.costs.base_currency;
                warnings.push(format!(
                    "no exchange rate is configured for {wanted}; costs are shown in {base} (add costs.fx_per_base.{wanted} to tripwright.toml)"
                ));
                Money::new(&self.config.costs, base).ok_or_else(|| {
                    AgentError::Internal(format!("base currency {base} has no rate"))
                })?
            }
        };
        let same_currency = money.currency() == wanted.to_ascii_uppercase();
        let budget = req.budget.filter(|_| same_currency);
        if req.budget.is_some() && !same_currency {
            warnings.push(format!(
                "the budget was given in {wanted} and could not be compared"
            ));
        }

        let weather_task = {
            let weather = Arc::clone(&self.weather);
            let (lat, lon) = (dest.lat, dest.lon);
            let t = sink.started(AgentName::Weather);
            let task = tokio::task::spawn_blocking(move || weather.analyze(lat, lon));
            async move { (join(task).await.map(|r| r.months), t) }
        };
        let hotels_task = async {
            let t = sink.started(AgentName::Hotels);
            let filters = HotelFilters {
                max_price: req.max_price,
                min_stars: req.min_stars,
            };
            (
                self.hotels
                    .recommend(&dest, &req.prefs, filters, &money)
                    .await,
                t,
            )
        };
        let places_task = self.store.places_near(
            dest.point(),
            self.config.planner.radius_km,
            &[
                PlaceCategory::Attraction,
                PlaceCategory::Artwork,
                PlaceCategory::Food,
            ],
        );
        let ((months, tw), (hotels, th), places) =
            tokio::join!(weather_task, hotels_task, places_task);

        let best_months: Vec<MonthScore> = match months {
            Ok(m) => {
                sink.output(AgentName::Weather, AgentOutput::Months(m.clone()));
                sink.finished(AgentName::Weather, tw);
                m
            }
            Err(e) => {
                sink.failed(AgentName::Weather, tw, &e);
                warnings.push(format!(
                    "the weather analysis failed ({e}); months are not ranked"
                ));
                Vec::new()
            }
        };
        let hotels = match hotels {
            Ok(r) => {
                sink.output(AgentName::Hotels, AgentOutput::Hotels(r.hotels.clone()));
                sink.finished(AgentName::Hotels, th);
                if r.hotels.is_empty() {
                    warnings.push(if r.considered == 0 {
                        format!(
                            "no hotels are known within {} km of {}",
                            self.config.hotels.radius_km, dest.name
                        )
                    } else {
                        format!(
                            "none of the {} hotels near {} passes the price and stars filters",
                            r.considered, dest.name
                        )
                    });
                }
                r.hotels
            }
            Err(e) => {
                sink.failed(AgentName::Hotels, th, &e);
                warnings.push(format!("the hotel search failed ({e})"));
                Vec::new()
            }
        };
        let places = places?;
        if places.is_empty() {
            warnings.push(format!(
                "no place data for {}: the itinerary is empty. Import an OpenStreetMap extract of the region with `tripwright import osm FILE.osm.pbf`",
                dest.name
            ));
        }

        let t = sink.started(AgentName::Itinerary);
        let (month, month_fixed) = match (req.month, req.start_date, best_months.first()) {
            (Some(m), _, _) => (m, true),
            (None, Some(d), _) => (d.month() as u8, true),
            (None, None, Some(best)) => (best.month, false),
            (None, None, None) => {
                let next = Utc::now().date_naive().month() % 12 + 1;
                (next as u8, true)
            }
        };
        let start_date = req
            .start_date
            .unwrap_or_else(|| default_start_date(month, Utc::now().date_naive()));
        let hotel = hotels.first();
        let outcome = plan_itinerary(
            &ItineraryInput {
                base: hotel.map_or(dest.point(), |h| {
                    tripwright_domain::GeoPoint::new(h.lat, h.lon)
                }),
                hotel_id: hotel.map(|h| h.id.clone()),
                days: req.days,
                month,
                month_fixed,
                start_date,
                prefs: &req.prefs,
                places: &places,
            },
            &self.config.planner,
        );
        warnings.extend(outcome.warnings);
        let mut itinerary = outcome.itinerary;
        sink.output(
            AgentName::Itinerary,
            AgentOutput::Itinerary(itinerary.clone()),
        );
        let mut prose_check = None;
        match &self.prose {
            Ok(writer) if !itinerary.days.iter().all(|d| d.stops.is_empty()) => {
                let others: Vec<String> = places.iter().map(|p| p.name.clone()).collect();
                match write_prose(writer, &dest, &mut itinerary, &others, &sink).await {
                    Ok(detail) => prose_check = Some(detail),
                    Err(e) => warnings.push(format!(
                        "the itinerary prose could not be written ({e}); the plan is complete without it"
                    )),
                }
            }
            Ok(_) => {}
            Err(why) if self.config.llm.provider != "off" => {
                warnings.push(format!("no itinerary prose: {why}"));
            }
            Err(_) => {}
        }
        if prose_check.is_some() {
            sink.output(
                AgentName::Itinerary,
                AgentOutput::Itinerary(itinerary.clone()),
            );
        }
        sink.finished(AgentName::Itinerary, t);

        let t = sink.started(AgentName::Summary);
        let cost = estimate_cost(&itinerary, hotel, req.travelers, budget, &money);
        if cost.within_budget == Some(false) {
            warnings.push(format!(
                "the estimated total {} exceeds the budget of {}",
                format_money(cost.total, &cost.currency),
                format_money(budget.unwrap_or_default(), &cost.currency)
            ));
        }
        let mut text = summary_text(&dest, &itinerary, &best_months, hotel, &cost, req.travelers);
        if let Ok(writer) = &self.prose
            && prose_check.is_some()
        {
            let facts = summary_facts(&dest, &itinerary, hotel, &req.prefs);
            let on_text = |t: &str| {
                sink.send(
                    AgentName::Summary,
                    AgentStatus::Text {
                        day: None,
                        text: t.to_owned(),
                    },
                );
            };
            match writer.write_summary(&facts, &on_text).await {
                Ok(prose) if !prose.is_empty() => text = format!("{prose} {text}"),
                Ok(_) => {}
                Err(e) => warnings.push(format!("the summary prose could not be written ({e})")),
            }
        }
        let summary = Summary { text, cost };
        sink.output(AgentName::Summary, AgentOutput::Summary(summary.clone()));
        sink.finished(AgentName::Summary, t);

        let mut plan = Plan {
            id,
            created_at: Utc::now().to_rfc3339(),
            request: req,
            destination: dest,
            best_months,
            hotels,
            itinerary,
            summary,
            checks: Vec::new(),
            warnings,
        };
        plan.checks = self.check(&plan).await?;
        if let Some(detail) = prose_check {
            plan.checks.push(prose_grounded(&plan, &places, detail));
        }
        Ok(plan)
    }

    /// Recomputes the feasibility report of `plan` against the stored places.
    pub async fn check(&self, plan: &Plan) -> Result<Vec<tripwright_domain::Check>, AgentError> {
        let ids: Vec<String> = plan
            .hotels
            .iter()
            .map(|h| h.id.clone())
            .chain(
                plan.itinerary
                    .days
                    .iter()
                    .flat_map(|d| d.stops.iter().map(|s| s.place_id.clone())),
            )
            .collect();
        let places: HashMap<String, Place> = self
            .store
            .places_by_ids(&ids)
            .await?
            .into_iter()
            .map(|p| (p.id.clone(), p))
            .collect();
        let area = self
            .config
            .hotels
            .radius_km
            .max(self.config.planner.radius_km);
        Ok(run_checks(plan, &places, &self.config.planner, area))
    }
}

/// Builds the configured language model client, or says why there is none.
pub async fn load_llm(
    config: &Config,
    secrets: &Secrets,
) -> Result<Arc<dyn tripwright_llm::LlmClient>, String> {
    match config.llm.provider.as_str() {
        "off" => Err("the language model is off (llm.provider = \"off\")".into()),
        "embedded" => {
            let path = config.llm_model_path();
            let mut engine = tripwright_llm::engine::EngineConfig::new(&path);
            engine.max_sequences = config.llm.max_sequences;
            let loaded =
                tokio::task::spawn_blocking(move || tripwright_llm::engine::Engine::load(engine))
                    .await
                    .map_err(|e| e.to_string())?;
            match loaded {
                Ok(e) => Ok(Arc::new(e)),
                Err(e) => Err(format!(
                    "the local model {} could not be loaded: {e}",
                    path.display()
                )),
            }
        }
        "openai" => {
            let mut c =
                tripwright_llm::openai::OpenAiConfig::new(&config.llm.base_url, &config.llm.model);
            c.api_key = secrets.openai_api_key.clone();
            tripwright_llm::openai::OpenAiClient::new(c)
                .map(|c| Arc::new(c) as Arc<dyn tripwright_llm::LlmClient>)
                .map_err(|e| e.to_string())
        }
        other => Err(format!(
            "unknown llm.provider {other:?} (use embedded, openai or off)"
        )),
    }
}

/// Writes every day's prose in order, streaming the text as events; returns the detail of
/// the prose check.
async fn write_prose(
    writer: &ProseWriter,
    dest: &Destination,
    itinerary: &mut Itinerary,
    others: &[String],
    sink: &Sink,
) -> Result<String, tripwright_llm::LlmError> {
    let (mut attempts, mut removed, mut corrected, mut tokens) = (0, 0, 0, 0);
    let month = itinerary.month;
    for day in &mut itinerary.days {
        if day.stops.is_empty() {
            continue;
        }
        let n = day.day;
        let on_text = |t: &str| {
            sink.send(
                AgentName::Itinerary,
                AgentStatus::Text {
                    day: Some(n),
                    text: t.to_owned(),
                },
            );
        };
        let prose = writer.write_day(dest, month, day, others, &on_text).await?;
        day.intro = prose.intro;
        for (stop, note) in day.stops.iter_mut().zip(prose.notes) {
            stop.note = note;
        }
        attempts += prose.attempts;
        removed += prose.removed_sentences;
        corrected += prose.corrected_names;
        tokens += prose.tokens;
    }
    Ok(format!(
        "written by {}: {tokens} tokens, {attempts} generation(s) for {} day(s), {corrected} name(s) respelled, {removed} sentence(s) dropped",
        writer.model_id(),
        itinerary.days.len()
    ))
}

/// Recomputes, on the finished plan, that the prose names no place but the day's stops.
fn prose_grounded(plan: &Plan, places: &[Place], detail: String) -> tripwright_domain::Check {
    let others: Vec<&str> = places.iter().map(|p| p.name.as_str()).collect();
    let mut problems = Vec::new();
    for day in &plan.itinerary.days {
        let allowed: Vec<&str> = day
            .stops
            .iter()
            .map(|s| s.name.as_str())
            .chain([
                plan.destination.name.as_str(),
                plan.destination.country.as_str(),
            ])
            .collect();
        let day_others: Vec<&str> = others
            .iter()
            .copied()
            .filter(|o| !allowed.contains(o))
            .collect();
        for text in std::iter::once(&day.intro).chain(day.stops.iter().map(|s| &s.note)) {
            let f = check_text(text, &allowed, &day_others);
            for name in f.other_places.iter().chain(&f.invented) {
                problems.push(format!("day {} names {name}", day.day));
            }
        }
    }
    tripwright_domain::Check {
        name: "prose".into(),
        passed: problems.is_empty(),
        detail: if problems.is_empty() {
            detail
        } else {
            problems.join("; ")
        },
    }
}

/// Facts for the summary prose, without figures.
fn summary_facts(
    dest: &Destination,
    it: &Itinerary,
    hotel: Option<&tripwright_domain::Hotel>,
    prefs: &str,
) -> String {
    let sights: Vec<&str> = it
        .days
        .iter()
        .flat_map(|d| d.stops.iter())
        .filter(|s| crate::itinerary::is_activity(s.kind))
        .map(|s| s.name.as_str())
        .collect();
    format!(
        "Destination: {}, {}. Travel month: {}. Hotel: {}. Traveller's wishes: {}. Sights: {}.",
        dest.name,
        dest.country,
        month_name(it.month),
        hotel.map_or("none found", |h| h.name.as_str()),
        prefs,
        sights.join(", ")
    )
}

/// Imports an OSM extract into the store; returns how many places were written.
pub async fn import_osm(store: &dyn Store, path: &Path) -> Result<usize, AgentError> {
    let p = path.to_path_buf();
    let import = join(tokio::task::spawn_blocking(move || {
        tripwright_data::osm::import_pbf(&p)
    }))
    .await??;
    let source = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    Ok(store.upsert_places(&source, &import.places).await?)
}

async fn join<T>(task: tokio::task::JoinHandle<T>) -> Result<T, AgentError> {
    task.await
        .map_err(|e| AgentError::Internal(format!("a worker task failed: {e}")))
}

/// The summary prose, with every figure taken from the computed values.
fn summary_text(
    dest: &Destination,
    it: &Itinerary,
    months: &[MonthScore],
    hotel: Option<&tripwright_domain::Hotel>,
    cost: &tripwright_domain::CostEstimate,
    travelers: u8,
) -> String {
    let mut s = format!(
        "A {}-day trip to {}, {} in {} {}, starting {} {}.",
        it.days.len(),
        dest.name,
        dest.country,
        month_name(it.month),
        it.start_date.year(),
        it.days.first().map_or("", |d| d.weekday.as_str()),
        it.start_date
    );
    if !months.is_empty() {
        let top: Vec<&str> = months
            .iter()
            .take(TOP_MONTHS)
            .map(|m| m.name.as_str())
            .collect();
        s.push_str(&format!(
            " The best months to visit are {}.",
            top.join(", ")
        ));
        if let Some(m) = months.iter().find(|m| m.month == it.month) {
            s.push_str(&format!(" In {}: {}.", m.name, m.reason));
        }
    }
    if let Some(h) = hotel {
        let stars = h.stars.map(|n| format!(", {n}★")).unwrap_or_default();
        s.push_str(&format!(
            " Stay at {}{stars} (about {} per night{}).",
            h.name,
            format_money(h.price_per_night, &cost.currency),
            if h.price_estimated { ", estimated" } else { "" }
        ));
    }
    let sights: usize = it
        .days
        .iter()
        .map(|d| {
            d.stops
                .iter()
                .filter(|s| crate::itinerary::is_activity(s.kind))
                .count()
        })
        .sum();
    s.push_str(&format!(
        " The itinerary has {sights} sights over {} days.",
        it.days.len()
    ));
    s.push_str(&format!(
        " Estimated total for {travelers} traveller(s): {}",
        format_money(cost.total, &cost.currency)
    ));
    match (cost.budget, cost.within_budget) {
        (Some(b), Some(true)) => s.push_str(&format!(
            ", within the budget of {}.",
            format_money(b, &cost.currency)
        )),
        (Some(b), Some(false)) => s.push_str(&format!(
            ", over the budget of {}.",
            format_money(b, &cost.currency)
        )),
        _ => s.push('.'),
    }
    s
}
