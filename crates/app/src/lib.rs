//! Tripwright's application layer: the use cases the front ends call.
//!
//! The web app and the CLI call only this crate (and the plain types of `tripwright-domain`):
//! planning ([`Planner`]: start, follow, cancel, rewrite a day, share), trip lists
//! ([`TripLists`]), the shop search ([`Shops`]), and the few one-off commands (months of a
//! destination, imports, saved plans). It owns start-up: everything heavy is loaded once, in
//! [`App::load`], and the store backend is built from configuration in one place
//! ([`open_store`]). Below it, the agents make plans and the store keeps them; above it, the
//! front ends keep only their own concerns (HTTP, sessions, rendering; flags and printing).
//!
//! It is a crate of its own, not a module of `tripwright-agents`, so that the dependency
//! graph enforces the layering: the web crate does not depend on the store or the agents at
//! all, so it cannot call them.

pub mod assets;
mod error;
pub mod eval;
pub mod lists;
pub mod planning;
pub mod regions;
pub mod shops;
pub mod streets;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;
use tripwright_agents::weather::{Evaluation, WeatherAgent};
use tripwright_agents::{Agents, Orchestrator};
use tripwright_config::{Config, LlmProvider, Secrets};
use tripwright_data::gazetteer::Gazetteer;
use tripwright_data::osm::CategoryCount;
use tripwright_domain::{Destination, MonthScore, PlaceCategory, Plan};
use tripwright_llm::LlmClient;
use tripwright_ml::embedding::Embedder;
use tripwright_store::Store;

pub use error::{AppError, Changed, Invalid, Missing, Quota};
pub use lists::{ListQuotas, TripLists};
pub use planning::{MyPlan, MyPlanState, Planner, PlannerLimits};
pub use shops::Shops;
/// The weather model's evaluation.
pub use tripwright_agents::weather::Evaluation as WeatherEvaluation;
/// The agents' progress events and names, as the CLI prints them.
pub use tripwright_agents::{AgentEvent, AgentName, AgentOutput, AgentStatus};
pub use tripwright_data::gazetteer::GeocodeError;
/// A line of the plan history.
pub use tripwright_store::PlanSummary;

use assets::AssetPaths;

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

fn ms(t: Instant) -> u64 {
    u64::try_from(t.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// Opens the store the configuration names. This is the one place a backend is chosen:
/// today the SQLite file at `store_path`.
pub async fn open_store(config: &Config) -> Result<Arc<dyn Store>, AppError> {
    let startup = |e: tripwright_store::StoreError| AppError::Startup(e.to_string());
    match &config.database_url {
        Some(url) if url.is_postgres() => {
            tracing::info!(database = %url.redacted(), "the store is in PostgreSQL");
            let store = tripwright_store::PgStore::connect(url.expose())
                .await
                .map_err(startup)?;
            Ok(Arc::new(store))
        }
        Some(url) => Err(AppError::Startup(format!(
            "database_url {:?} is not a PostgreSQL URL (postgres://user:password@host/db); leave it unset for the SQLite file",
            url.redacted()
        ))),
        None => tripwright_store::open(&config.store_path())
            .await
            .map_err(startup),
    }
}

/// Builds the configured language model client, or says why there is none.
pub async fn load_llm(config: &Config, secrets: &Secrets) -> Result<Arc<dyn LlmClient>, String> {
    let llm: Arc<dyn LlmClient> = match config.llm.provider {
        LlmProvider::Off => Err("the language model is off (llm.provider = \"off\")".into()),
        LlmProvider::Embedded => {
            let path = config.llm_model_path();
            let mut engine = tripwright_llm::engine::EngineConfig::new(&path);
            engine.max_sequences = config.llm.max_sequences;
            // Room in the queue for every text the running plans ask at once (each plan's
            // writer sends up to max_sequences), beside `/v1` clients.
            engine.queue_capacity = engine.queue_capacity.max(
                (config.llm.max_sequences as usize).saturating_mul(config.web.max_running.max(1)),
            );
            let loaded =
                tokio::task::spawn_blocking(move || tripwright_llm::engine::Engine::load(engine))
                    .await
                    .map_err(|e| e.to_string())?;
            match loaded {
                Ok(e) => Ok(Arc::new(e) as Arc<dyn LlmClient>),
                Err(e) => Err(format!(
                    "the local model {} could not be loaded: {e}",
                    path.display()
                )),
            }
        }
        LlmProvider::OpenAi => {
            let mut c =
                tripwright_llm::openai::OpenAiConfig::new(&config.llm.base_url, &config.llm.model);
            c.api_key = secrets.openai_api_key.clone();
            tripwright_llm::openai::OpenAiClient::new(c)
                .map(|c| Arc::new(c) as Arc<dyn LlmClient>)
                .map_err(|e| e.to_string())
        }
    }?;
    // Counted and timed for the metrics, whichever model it is.
    Ok(Arc::new(tripwright_llm::metered::Metered::new(llm)))
}

async fn blocking<T: Send + 'static>(
    what: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, AppError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| AppError::Internal(format!("the {what} worker failed: {e}")))
}

/// What an import wrote.
#[derive(Debug, Clone)]
pub struct ImportReport {
    /// Places written.
    pub written: usize,
    /// Per category: nodes, ways, and ways that could not be located.
    pub counts: Vec<(PlaceCategory, CategoryCount)>,
    /// Street-map features written (streets, water, parks, buildings …).
    pub map_features: usize,
}

/// Imports an OSM extract into `store`.
async fn import_into(store: &dyn Store, path: &Path) -> Result<ImportReport, AppError> {
    let p = path.to_path_buf();
    let import = blocking("import", move || tripwright_data::osm::import_pbf(&p))
        .await?
        .map_err(|e| AppError::Startup(e.to_string()))?;
    let source = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let written = store.upsert_places(&source, &import.places).await?;
    let map_features = streets::import_map(store, path, &source).await?;
    Ok(ImportReport {
        written,
        counts: import.counts.into_iter().collect(),
        map_features,
    })
}

/// Imports an OpenStreetMap extract into the configured store (without loading the models).
pub async fn import_osm(config: &Config, path: &Path) -> Result<ImportReport, AppError> {
    let store = open_store(config).await?;
    let report = import_into(store.as_ref(), path).await;
    store.close().await?;
    report
}

/// The saved plans of the configured store, read without loading the models (the CLI's
/// history).
pub struct SavedPlans {
    store: Arc<dyn Store>,
}

impl SavedPlans {
    /// Opens the configured store.
    pub async fn open(config: &Config) -> Result<Self, AppError> {
        Ok(Self {
            store: open_store(config).await?,
        })
    }

    /// The `limit` newest saved plans of anyone, newest first.
    pub async fn recent(&self, limit: u32) -> Result<Vec<PlanSummary>, AppError> {
        Ok(self.store.list_plans(limit).await?)
    }

    /// One saved plan by id, whoever made it.
    pub async fn get(&self, id: &tripwright_domain::PlanId) -> Result<Option<Plan>, AppError> {
        Ok(self.store.plan(id).await?)
    }
}

/// The weather model's leave-one-city-out evaluation against the nearest-station baseline.
pub async fn evaluate_weather(config: &Config) -> Result<Evaluation, AppError> {
    let climate = AssetPaths::new(&config.assets_dir).climate_dir();
    blocking("evaluation", move || {
        tripwright_agents::weather::evaluate_dir(&climate)
    })
    .await?
    .map_err(|e| AppError::Startup(e.to_string()))
}

/// MiniLM sentence embeddings of `texts` (the model loaded for this call only).
pub async fn embed(config: &Config, texts: Vec<String>) -> Result<Vec<Vec<f32>>, AppError> {
    let dir = AssetPaths::new(&config.assets_dir).minilm_dir();
    blocking("embedding", move || {
        let embedder = Embedder::load(&dir).map_err(|e| AppError::Startup(e.to_string()))?;
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        embedder
            .embed(&refs)
            .map_err(|e| AppError::Internal(e.to_string()))
    })
    .await?
}

/// The data and models loaded at start-up.
pub struct Models {
    /// The GeoNames gazetteer.
    pub gazetteer: Arc<Gazetteer>,
    /// The weather model.
    pub weather: Arc<WeatherAgent>,
    /// MiniLM.
    pub embedder: Arc<Embedder>,
    /// The language model, or why there is none.
    pub llm: Result<Arc<dyn LlmClient>, String>,
}

/// One check of [`App::readiness`].
#[derive(Debug, Clone, Serialize)]
pub struct ReadyCheck {
    /// What was checked: `store`, `model`.
    pub name: &'static str,
    /// Whether it passed.
    pub ok: bool,
    /// What was found, in words.
    pub detail: String,
}

/// How long the readiness check waits for an OpenAI-compatible inference server.
const READY_TIMEOUT: Duration = Duration::from_secs(2);

/// What [`App::import_region`] stored.
#[derive(Debug)]
pub struct RegionImport {
    /// The source the places and the street map are stored under (`overpass: Rome, Italy`).
    pub source: String,
    /// Places stored.
    pub places: usize,
    /// Street map features stored (streets, paths, water, parks), or why there is none.
    pub map: Result<usize, String>,
}

/// Everything the front ends use, loaded once. Cheap to share (`Arc<App>`).
pub struct App {
    config: Arc<Config>,
    store: Arc<dyn Store>,
    gazetteer: Arc<Gazetteer>,
    orchestrator: Arc<Orchestrator>,
    llm: Result<Arc<dyn LlmClient>, String>,
    planner: Planner,
    lists: TripLists,
    shops: Shops,
    regions: regions::OnDemand,
    streets: Arc<streets::StreetMap>,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl App {
    /// Loads the store, gazetteer, weather model, embedder and language model (concurrently
    /// where possible), imports the demo extract when the store has no places, and builds
    /// the use cases.
    pub async fn load(config: Config, secrets: &Secrets) -> Result<(App, StartupReport), AppError> {
        Self::load_inner(config, Err(secrets)).await
    }

    /// As [`App::load`], with `llm` as the language model whatever the configuration says:
    /// tests run the real agents around a scripted model this way.
    pub async fn load_with_llm(
        config: Config,
        llm: Arc<dyn LlmClient>,
    ) -> Result<(App, StartupReport), AppError> {
        Self::load_inner(config, Ok(llm)).await
    }

    /// `llm` is the model to use, or the secrets to build the configured one with.
    async fn load_inner(
        config: Config,
        llm: Result<Arc<dyn LlmClient>, &Secrets>,
    ) -> Result<(App, StartupReport), AppError> {
        let assets = AssetPaths::new(&config.assets_dir);
        assets.require_core()?;
        let mut report = StartupReport::default();
        let t = Instant::now();
        let store = open_store(&config).await?;
        report.store_ms = ms(t);

        let geonames = assets.geonames_dir();
        let gazetteer = blocking("gazetteer", move || {
            let t = Instant::now();
            Gazetteer::load(&geonames).map(|g| (g, ms(t)))
        });
        let climate = assets.climate_dir();
        let cache = config.data_dir.join("cache").join("weather-forest.bin");
        let weather = blocking("weather", move || {
            let t = Instant::now();
            WeatherAgent::load(&climate, &cache).map(|w| (w, ms(t)))
        });
        let minilm = assets.minilm_dir();
        let embedder = blocking("embedder", move || {
            let t = Instant::now();
            Embedder::load(&minilm).map(|e| (e, ms(t)))
        });
        let startup = |e: &dyn std::fmt::Display| AppError::Startup(e.to_string());
        let (gazetteer, gazetteer_ms) = gazetteer.await?.map_err(|e| startup(&e))?;
        let (weather, weather_ms) = weather.await?.map_err(|e| startup(&e))?;
        let (embedder, embedder_ms) = embedder.await?.map_err(|e| startup(&e))?;
        report.gazetteer_ms = gazetteer_ms;
        report.weather_ms = weather_ms;
        report.embedder_ms = embedder_ms;

        if store.place_count().await? == 0 {
            let t = Instant::now();
            import_into(store.as_ref(), &assets.demo_osm()).await?;
            report.import_ms = ms(t);
        } else if store.map_regions().await?.is_empty() {
            // A store from before the street map: the shipped extract's map is added once.
            let t = Instant::now();
            let demo = assets.demo_osm();
            let source = demo.file_name().map_or_else(
                || demo.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            );
            streets::import_map(store.as_ref(), &demo, &source).await?;
            report.import_ms = ms(t);
        }
        let t = Instant::now();
        let llm = match llm {
            Ok(given) => Ok(given),
            Err(secrets) => load_llm(&config, secrets).await,
        };
        report.llm_ms = ms(t);
        let app = Self::assemble(
            config,
            store,
            Models {
                gazetteer: Arc::new(gazetteer),
                weather: Arc::new(weather),
                embedder: Arc::new(embedder),
                llm,
            },
        )?;
        Ok((app, report))
    }

    /// The use cases over a store and loaded models. Tests use it to run the real agents
    /// with a scripted language model.
    pub fn assemble(
        config: Config,
        store: Arc<dyn Store>,
        models: Models,
    ) -> Result<App, AppError> {
        let config = Arc::new(config);
        let gazetteer = Arc::clone(&models.gazetteer);
        let llm = models.llm.clone();
        let online =
            Arc::new(shops::online::Online::new(&config.online).map_err(AppError::Startup)?);
        let street_map = Arc::new(streets::StreetMap::new(
            Arc::clone(&store) as Arc<dyn tripwright_store::MapStore>,
            &config.web.font_dirs,
        ));
        let on_demand = regions::OnDemand::new(
            Arc::clone(&online),
            Arc::clone(&store) as Arc<dyn tripwright_store::PlaceStore>,
            Arc::clone(&store) as Arc<dyn tripwright_store::CacheStore>,
            Arc::clone(&street_map),
            config.planner.radius_km,
        );
        let orchestrator = Arc::new(Orchestrator::new(
            Arc::clone(&config),
            Agents {
                gazetteer: models.gazetteer,
                weather: models.weather,
                embedder: models.embedder,
                // A plan's reads wait out a database restart, as its save does.
                places: Arc::new(tripwright_store::Patient::new(
                    Arc::clone(&store) as Arc<dyn tripwright_store::PlaceStore>,
                    planning::SAVE_PATIENCE,
                )),
                llm: models.llm,
                encyclopedia: online.describes().then(|| {
                    Arc::new(regions::Wikipedia {
                        online: Arc::clone(&online),
                        cache: Arc::clone(&store) as Arc<dyn tripwright_store::CacheStore>,
                    }) as Arc<dyn tripwright_agents::encyclopedia::Encyclopedia>
                }),
                streets: Some(
                    Arc::clone(&street_map) as Arc<dyn tripwright_agents::streets::Streets>
                ),
            },
        ));
        let web = &config.web;
        let planner = Planner::new(
            Arc::clone(&orchestrator),
            Arc::clone(&gazetteer),
            Arc::clone(&store) as Arc<dyn tripwright_store::PlanStore>,
            Arc::clone(&store) as Arc<dyn tripwright_store::JobStore>,
            on_demand.clone(),
            PlannerLimits {
                max_running: web.max_running,
                max_jobs: web.max_jobs,
                job_ttl: Duration::from_secs(web.job_ttl_secs),
                lease: Duration::from_secs(web.job_lease_secs.max(1)),
                plan_cache: web.plan_cache,
                deadline: Duration::from_secs(web.plan_deadline_secs.max(1)),
                plans_per_day: config.limits.plans_per_day,
                anonymous_keep: (config.limits.anonymous_plan_days > 0).then(|| {
                    Duration::from_secs(u64::from(config.limits.anonymous_plan_days) * 86_400)
                }),
            },
        );
        let lists = TripLists::new(
            Arc::clone(&store) as Arc<dyn tripwright_store::ListStore>,
            Arc::clone(&store) as Arc<dyn tripwright_store::PlanStore>,
            planner.clone(),
            ListQuotas {
                lists_per_user: config.limits.lists_per_user,
                items_per_list: config.limits.items_per_list,
            },
        );
        let shops = Shops::new(
            Arc::clone(&gazetteer),
            Arc::clone(&store) as Arc<dyn tripwright_store::PlaceStore>,
            Arc::clone(&store) as Arc<dyn tripwright_store::CacheStore>,
            online,
        );
        Ok(App {
            config,
            store,
            gazetteer,
            orchestrator,
            llm,
            planner,
            lists,
            shops,
            regions: on_demand,
            streets: street_map,
        })
    }

    /// Fetches the places of `query` (a city, "City, Country") within `radius_km` (default:
    /// 2–5 km by population) from OpenStreetMap's Overpass and stores them, for offline use
    /// later; importing a region again replaces its places. Returns the region's source name
    /// (what [`App::regions`] lists), the places stored and the street map fetched with them.
    ///
    /// # Errors
    /// An unknown place, a radius outside 0.5–25 km, no Overpass configured, or its failure.
    pub async fn import_region(
        &self,
        query: &str,
        radius_km: Option<f64>,
    ) -> Result<RegionImport, AppError> {
        let dest = self.gazetteer.geocode(query)?;
        let radius = match radius_km {
            None => regions::OnDemand::radius_km(dest.population),
            Some(r) => shops::parse_radius(Some(&r.to_string()))?,
        };
        let fetched = self.regions.fetch(&dest, radius).await.map_err(|e| {
            AppError::Online(format!(
                "the places of {}, {} could not be fetched: {e}",
                dest.name, dest.country
            ))
        })?;
        Ok(RegionImport {
            source: regions::source_of(&dest),
            places: fetched.places,
            map: fetched.map,
        })
    }

    /// Where the stored places came from (extracts and fetched regions), newest first.
    pub async fn regions(&self) -> Result<Vec<tripwright_store::PlaceSource>, AppError> {
        Ok(self.store.place_sources().await?)
    }

    /// Removes the places and the street map of one source (as [`App::regions`] names it);
    /// how many places.
    pub async fn remove_region(&self, source: &str) -> Result<u64, AppError> {
        let places = self.store.delete_places_from(source).await?;
        self.streets.remove(source).await?;
        Ok(places)
    }

    /// Whether this replica can serve plans: the store answers with this version's schema,
    /// and the configured language model is loaded (embedded) or its server answers
    /// (`openai`; any HTTP answer of `{base_url}/models` within 2 s counts). A model that is
    /// off by configuration passes: plans are made without prose.
    pub async fn readiness(&self) -> Vec<ReadyCheck> {
        let store = match self.store.ready().await {
            Ok((applied, _)) => ReadyCheck {
                name: "store",
                ok: true,
                detail: format!("answers; {applied} of {applied} migrations applied"),
            },
            Err(e) => ReadyCheck {
                name: "store",
                ok: false,
                detail: e.to_string(),
            },
        };
        let model = match (self.config.llm.provider, &self.llm) {
            (LlmProvider::Off, _) => (true, "off by configuration: plans without prose".into()),
            (LlmProvider::Embedded, Ok(llm)) => (true, format!("{} loaded", llm.model_id())),
            (LlmProvider::OpenAi, Ok(_)) => {
                let url = format!("{}/models", self.config.llm.base_url.trim_end_matches('/'));
                let answer = reqwest::Client::new()
                    .get(&url)
                    .timeout(READY_TIMEOUT)
                    .send()
                    .await;
                match answer {
                    Ok(r) => (
                        true,
                        format!("{url} answers (HTTP {})", r.status().as_u16()),
                    ),
                    Err(e) if e.is_timeout() => (false, format!("{url} did not answer in 2 s")),
                    Err(_) => (false, format!("{url} cannot be reached")),
                }
            }
            (_, Err(why)) => (false, why.clone()),
        };
        vec![
            store,
            ReadyCheck {
                name: "model",
                ok: model.0,
                detail: model.1,
            },
        ]
    }

    /// The street map: basemap tiles and walking graphs.
    pub fn streets(&self) -> &streets::StreetMap {
        &self.streets
    }

    /// Whether other replicas may share this store (PostgreSQL): rate limits then count in it
    /// ([`App::count_request`]), not in this process alone.
    pub fn store_is_shared(&self) -> bool {
        self.config.database_url.is_some()
    }

    /// Counts one request of `key` in the window starting at `window_start` (Unix seconds)
    /// in the store, every replica's together: the window's count so far, this one included.
    ///
    /// # Errors
    /// The store failed.
    pub async fn count_request(&self, key: &str, window_start: i64) -> Result<u64, AppError> {
        Ok(self.store.count_request(key, window_start).await?)
    }

    /// The configuration it was loaded with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Planning: start, follow, cancel, rewrite, share, saved plans.
    pub fn planner(&self) -> &Planner {
        &self.planner
    }

    /// Trip lists.
    pub fn lists(&self) -> &TripLists {
        &self.lists
    }

    /// The shop search.
    pub fn shops(&self) -> &Shops {
        &self.shops
    }

    /// The language model (served as `/v1` by the web app), or why there is none.
    pub fn llm(&self) -> Result<Arc<dyn LlmClient>, String> {
        self.llm.clone()
    }

    /// Destinations whose name starts with `prefix` ("Rome, It…" suggests on the city part),
    /// most populous first, at most `limit`.
    pub fn suggest_destinations(&self, prefix: &str, limit: usize) -> Vec<Destination> {
        let query: String = prefix.chars().take(100).collect();
        let city = query.split(',').next().unwrap_or_default().trim();
        self.gazetteer.suggest(city, limit)
    }

    /// The destination `query` names, where a plan for it would get its places (see
    /// [`regions::Coverage`]), and, when it would have none, the places the store does know
    /// ("Helsinki", "Rome, Italy"), for the user to pick instead.
    ///
    /// # Errors
    /// An unknown destination, as [`App::months`].
    pub async fn coverage(
        &self,
        query: &str,
    ) -> Result<(Destination, regions::Coverage, Vec<String>), AppError> {
        let dest = self.gazetteer.geocode(query)?;
        let coverage = self.regions.coverage(&dest).await;
        let known = if coverage == regions::Coverage::Stored {
            Vec::new()
        } else {
            let mut known: Vec<String> = self
                .store
                .place_sources()
                .await?
                .into_iter()
                .map(|s| {
                    s.source
                        .strip_prefix(regions::SOURCE_PREFIX)
                        .or_else(|| s.source.strip_suffix(".osm.pbf"))
                        .unwrap_or(&s.source)
                        .to_owned()
                })
                .collect();
            known.sort();
            known.dedup();
            known
        };
        Ok((dest, coverage, known))
    }

    /// The destination `name` and its 12 months ranked.
    pub async fn months(&self, name: &str) -> Result<(Destination, Vec<MonthScore>), AppError> {
        let dest = self.gazetteer.geocode(name)?;
        let months = self.orchestrator.months(&dest).await?;
        Ok((dest, months))
    }

    /// Waits for queries in flight and closes the store, for a clean shutdown.
    pub async fn close(&self) -> Result<(), AppError> {
        Ok(self.store.close().await?)
    }
}
