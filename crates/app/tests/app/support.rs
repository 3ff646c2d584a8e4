//! What the tests of this binary share: one data directory with the demo extract imported and
//! the weather forest trained, the models loaded once, and an [`App`] per test over them with
//! the test's own language model and settings.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use futures::StreamExt;
use tripwright_agents::weather::WeatherAgent;
use tripwright_app::assets::AssetPaths;
use tripwright_app::planning::{PlanEvent, PlanJob};
use tripwright_app::{App, Models};
use tripwright_config::{Config, LlmProvider};
use tripwright_data::gazetteer::Gazetteer;
use tripwright_domain::TripRequest;
use tripwright_llm::LlmClient;
use tripwright_ml::embedding::Embedder;
use tripwright_testkit::{assets, scratch};

/// How long a test waits for a plan (or a rewrite) to end before it fails.
pub const PLAN_TIMEOUT: Duration = Duration::from_secs(300);

/// What every test's [`App`] is built from.
struct Shared {
    config: Config,
    gazetteer: Arc<Gazetteer>,
    weather: Arc<WeatherAgent>,
    embedder: Arc<Embedder>,
}

/// A configuration over `data_dir` and the assets; the language model is whatever the test
/// gives the app (the provider setting is not consulted then).
pub fn config_over(data_dir: &Path) -> Config {
    let mut c = Config {
        data_dir: data_dir.to_path_buf(),
        assets_dir: assets::assets_dir(),
        ..Config::default()
    };
    c.llm.provider = LlmProvider::Off;
    // Nothing outside is asked unless a test points the lookups at its stand-in.
    c.online.enabled = false;
    c
}

/// The data directory of this run.
pub fn data_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| scratch::run_dir(Path::new(env!("CARGO_TARGET_TMPDIR")), "app-tests"))
}

/// Imports the demo extract into the store and loads the models, once (on a thread of its own,
/// so that no test's runtime is blocked by another's start-up).
fn shared() -> &'static Shared {
    static SHARED: OnceLock<Shared> = OnceLock::new();
    SHARED.get_or_init(|| {
        let config = config_over(data_dir());
        std::thread::spawn(move || {
            let paths = AssetPaths::new(&config.assets_dir);
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(tripwright_app::import_osm(&config, &paths.demo_osm()))
                .expect("the demo extract imports");
            let cache = config.data_dir.join("cache").join("weather-forest.bin");
            Shared {
                gazetteer: Arc::new(
                    Gazetteer::load(&paths.geonames_dir()).expect("the gazetteer loads"),
                ),
                weather: Arc::new(
                    WeatherAgent::load(&paths.climate_dir(), &cache).expect("the forest loads"),
                ),
                embedder: Arc::new(Embedder::load(&paths.minilm_dir()).expect("MiniLM loads")),
                config,
            }
        })
        .join()
        .expect("start-up")
    })
}

/// The configuration every test's app starts from.
pub fn config() -> Config {
    shared().config.clone()
}

/// An app over the shared store and models with `llm` as its language model (`None`: no
/// model), its configuration changed by `tune`.
pub async fn app(llm: Option<Arc<dyn LlmClient>>, tune: impl FnOnce(&mut Config)) -> App {
    let s = shared();
    let mut config = s.config.clone();
    tune(&mut config);
    let store = tripwright_app::open_store(&config)
        .await
        .expect("the store opens");
    App::assemble(
        config,
        store,
        Models {
            gazetteer: Arc::clone(&s.gazetteer),
            weather: Arc::clone(&s.weather),
            embedder: Arc::clone(&s.embedder),
            llm: llm.ok_or_else(|| "the language model is off (llm.provider = \"off\")".into()),
        },
    )
    .expect("the app assembles")
}

/// A Helsinki trip of `days` days with these wishes (each test asks for its own, so the plan
/// cache never answers one test with another's plan).
pub fn trip(days: u8, prefs: &str) -> TripRequest {
    TripRequest {
        days,
        prefs: prefs.to_owned(),
        ..TripRequest::new("Helsinki")
    }
}

/// The job's events until it ends (or its log starts over), failing the test after
/// [`PLAN_TIMEOUT`].
pub async fn follow(job: &Arc<PlanJob>) -> Vec<Arc<PlanEvent>> {
    tokio::time::timeout(PLAN_TIMEOUT, job.subscribe().collect::<Vec<_>>())
        .await
        .expect("the plan ends in time")
}

/// Waits until the job has streamed some text (the model is being asked).
pub async fn until_text(job: &Arc<PlanJob>) {
    let mut events = Box::pin(job.subscribe());
    let seen = tokio::time::timeout(PLAN_TIMEOUT, async {
        while let Some(e) = events.next().await {
            if matches!(*e, PlanEvent::Text { .. }) {
                return true;
            }
        }
        false
    })
    .await
    .expect("text streams in time");
    assert!(
        seen,
        "the job ended before the model wrote: {:?}",
        job.state()
    );
}
