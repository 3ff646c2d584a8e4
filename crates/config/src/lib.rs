//! Layered configuration and secrets.
//!
//! Configuration is built from layers, later ones winning:
//! 1. built-in defaults (this file);
//! 2. a TOML file: `--config PATH`, else `$TRIPWRIGHT_CONFIG`, else `./tripwright.toml` when it
//!    exists (`tripwright.example.toml` in the repository lists every key);
//! 3. environment variables `TRIPWRIGHT_<KEY>`, where `__` separates nested keys:
//!    `TRIPWRIGHT_DATA_DIR=/srv/data`, `TRIPWRIGHT_WEB__TILE_URL=…`. A few short names the
//!    documentation used before that rule are kept as [`ENV_ALIASES`];
//! 4. command-line flags, which the binary applies to the loaded [`Config`].
//!
//! `docs/configuration.md` is the reference of every setting; a test checks it against this file.
//!
//! Secrets (the OpenAI-compatible API key, the web session key) come from the environment, else
//! from a `secrets.toml` (`[general] openai_api_key = "…"`, `session_key = "…"`). They are held
//! in [`secrecy::SecretString`], whose `Debug` prints `[REDACTED]`, so neither `{:?}` nor a log
//! line can leak them.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

/// Prefix of every environment variable read as configuration.
pub const ENV_PREFIX: &str = "TRIPWRIGHT_";

/// Names the configuration file when `--config` is not given.
const ENV_CONFIG_FILE: &str = "TRIPWRIGHT_CONFIG";
/// Names the secrets file.
const ENV_SECRETS_FILE: &str = "TRIPWRIGHT_SECRETS_FILE";
/// The API key of the OpenAI-compatible endpoint (`OPENAI_API_KEY` is read after it).
const ENV_OPENAI_API_KEY: &str = "TRIPWRIGHT_OPENAI_API_KEY";
/// The secret the web app's cookie-signing key is derived from.
const ENV_SESSION_KEY: &str = "TRIPWRIGHT_SESSION_KEY";

/// `TRIPWRIGHT_*` variables that [`Config::load`] and [`Secrets::load`] read themselves; they
/// name files or hold secrets, so they are never configuration keys.
const LOADER_ENV_VARS: &[&str] = &[
    ENV_CONFIG_FILE,
    ENV_SECRETS_FILE,
    ENV_OPENAI_API_KEY,
    ENV_SESSION_KEY,
];

/// `TRIPWRIGHT_*` variables that belong to the scripts and tests around the binary, not to the
/// binary, which ignores them: a shell that exports them for `scripts/fetch_assets.sh` or
/// `e2e/run.sh` must still be able to start it. Any other `TRIPWRIGHT_*` variable that is
/// neither a setting nor an alias is an error, so that a misspelt name is not silently ignored.
pub const SCRIPT_ONLY_ENV_VARS: &[&str] = &[
    // scripts/fetch_assets.sh: where downloaded archives are cached.
    "TRIPWRIGHT_DOWNLOAD_CACHE",
    // e2e/run.sh: the binary the browser tests start.
    "TRIPWRIGHT_BIN",
    // The PDF export test: where it writes a sample to look at.
    "TRIPWRIGHT_EXPORT_SAMPLE_DIR",
    // scripts/test.sh: the throwaway PostgreSQL server the storage tests run on.
    "TRIPWRIGHT_TEST_POSTGRES_URL",
];

/// The usual name of a database URL in container platforms, read as `TRIPWRIGHT_DATABASE_URL`
/// (which wins when both are set).
pub const DATABASE_URL_ENV: &str = "DATABASE_URL";

/// A database URL: shown without its password (`Debug`, logs), given whole to the driver.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DatabaseUrl(String);

impl DatabaseUrl {
    /// The whole URL, password included: for the database driver only.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether it names a PostgreSQL database (`postgres://` or `postgresql://`).
    pub fn is_postgres(&self) -> bool {
        let lower = self.0.trim_start().to_ascii_lowercase();
        lower.starts_with("postgres://") || lower.starts_with("postgresql://")
    }

    /// The URL with its password replaced by `***`.
    pub fn redacted(&self) -> String {
        match (self.0.find("://"), self.0.rfind('@')) {
            (Some(scheme), Some(at)) if at > scheme => {
                let user = &self.0[scheme + 3..at];
                let user = user.split_once(':').map_or(user, |(u, _)| u);
                format!("{}{user}:***{}", &self.0[..scheme + 3], &self.0[at..])
            }
            _ => self.0.clone(),
        }
    }
}

impl From<&str> for DatabaseUrl {
    fn from(url: &str) -> Self {
        Self(url.to_owned())
    }
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.redacted())
    }
}

/// A short environment name that stands for a canonical `TRIPWRIGHT_<TABLE>__<KEY>` name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EnvAlias {
    /// The short name, e.g. `TRIPWRIGHT_ADDR`.
    pub alias: &'static str,
    /// The canonical name, e.g. `TRIPWRIGHT_WEB__ADDR`; it wins when both are set.
    pub canonical: &'static str,
}

/// Short names that the README, `docs/web.md` and `./run` used before the web settings became
/// configuration keys; deployments set them, so they keep working.
pub const ENV_ALIASES: &[EnvAlias] = &[
    EnvAlias {
        alias: "TRIPWRIGHT_ADDR",
        canonical: "TRIPWRIGHT_WEB__ADDR",
    },
    EnvAlias {
        alias: "TRIPWRIGHT_WEB_TILE_URL",
        canonical: "TRIPWRIGHT_WEB__TILE_URL",
    },
    EnvAlias {
        alias: "TRIPWRIGHT_SECURE_COOKIES",
        canonical: "TRIPWRIGHT_WEB__SECURE_COOKIES",
    },
];

/// Why configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file exists but cannot be read.
    #[error("cannot read the config file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not valid TOML.
    #[error("the config file {path} is not valid TOML: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The parser's message.
        message: String,
    },
    /// A value has the wrong type or an unknown key was given; the message names the file or
    /// the environment variable at fault when one alone is.
    #[error("invalid configuration: {0} (docs/configuration.md lists every setting)")]
    Invalid(String),
}

/// The whole application configuration.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Where the store and caches live (`./data`).
    pub data_dir: PathBuf,
    /// Where `scripts/fetch_assets.sh` put models and data (`./assets`).
    pub assets_dir: PathBuf,
    /// SQLite file of the store; defaults to `<data_dir>/tripwright.sqlite`.
    pub store_path: Option<PathBuf>,
    /// A PostgreSQL database for the store instead of the SQLite file
    /// (`postgres://user:password@host:5432/tripwright`); also `DATABASE_URL`. Unset: SQLite.
    pub database_url: Option<DatabaseUrl>,
    /// Log filter in `RUST_LOG` syntax (`info`, `tripwright=debug` …).
    pub log: String,
    /// Log format: `text` or `json`.
    pub log_format: String,
    /// Hotel search.
    pub hotels: HotelConfig,
    /// Day planner.
    pub planner: PlannerConfig,
    /// Cost tables.
    pub costs: CostConfig,
    /// The language model that writes the prose.
    pub llm: LlmConfig,
    /// Outside lookups (Overpass, Nominatim): on by default, with one switch.
    pub online: OnlineConfig,
    /// The web app that `tripwright serve` runs.
    pub web: WebConfig,
    /// Quotas per user and rate limits per client.
    pub limits: LimitsConfig,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("data"),
            assets_dir: PathBuf::from("assets"),
            store_path: None,
            database_url: None,
            log: "warn".into(),
            log_format: "text".into(),
            hotels: HotelConfig::default(),
            planner: PlannerConfig::default(),
            costs: CostConfig::default(),
            llm: LlmConfig::default(),
            online: OnlineConfig::default(),
            web: WebConfig::default(),
            limits: LimitsConfig::default(),
        }
    }
}

/// What one user may keep and how fast one client may ask: quotas per user (a browser's
/// cookie), answered 422 with what to do, and rate limits per client address, answered 429
/// with `Retry-After`. A rate of 0 turns that limit off.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsConfig {
    /// Plans one user may start in 24 hours (100).
    pub plans_per_day: u32,
    /// Trip lists one user may have (100).
    pub lists_per_user: u32,
    /// Items on one trip list (500).
    pub items_per_list: u32,
    /// Plan requests (new plans, rewritten days) one client address may send per minute
    /// (20); up to that many may come at once.
    pub plan_requests_per_minute: u32,
    /// List changes (items, titles, notes, new lists) and plan edits (a stop removed,
    /// swapped, moved or added, an undo) per client address and minute (600).
    pub list_edits_per_minute: u32,
    /// Exports (PDF, Markdown, iCalendar) per client address and minute (30).
    pub exports_per_minute: u32,
    /// Requests to the OpenAI-compatible `/v1` per client address and minute (120).
    pub api_requests_per_minute: u32,
    /// Street map tiles per client address and minute (600): a map view loads 6–40, and a
    /// tile not drawn yet takes up to ~60 ms of a core.
    pub tiles_per_minute: u32,
    /// Days the plans of clients without a cookie (API clients, curl) are kept (7); 0 keeps
    /// them for ever.
    pub anonymous_plan_days: u32,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            plans_per_day: 100,
            lists_per_user: 100,
            items_per_list: 500,
            plan_requests_per_minute: 20,
            list_edits_per_minute: 600,
            exports_per_minute: 30,
            api_requests_per_minute: 120,
            tiles_per_minute: 600,
            anonymous_plan_days: 7,
        }
    }
}

/// The language model that writes itinerary and summary prose.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LlmConfig {
    /// Which model writes the prose (`embedded`).
    pub provider: LlmProvider,
    /// Which of the fetched models the embedded engine runs (`qwen-0.5b`).
    pub embedded_model: EmbeddedModel,
    /// GGUF of the embedded model, overriding `embedded_model`; default its file under
    /// `<assets_dir>/models/`.
    pub model_path: Option<PathBuf>,
    /// Base URL of the OpenAI-compatible endpoint, e.g. `http://127.0.0.1:8000/v1`.
    pub base_url: String,
    /// Model name at that endpoint.
    pub model: String,
    /// Most tokens generated per text (a note is cut at 60 whatever this says).
    pub max_tokens: u32,
    /// Sampling temperature.
    pub temperature: f32,
    /// Generations per text before the sentences the review caught are dropped.
    pub attempts: u32,
    /// A caught text is written again only while at most this many plans are being written;
    /// with more, the first attempt's kept sentences stand, so that plans waiting for the model
    /// are not slowed down.
    pub rewrite_while_plans: u32,
    /// Requests the embedded engine generates at once (continuous batching).
    pub max_sequences: u32,
}

impl Default for LlmConfig {
    fn default() -> Self {
        Self {
            provider: LlmProvider::Embedded,
            embedded_model: EmbeddedModel::default(),
            model_path: None,
            base_url: "http://127.0.0.1:8000/v1".into(),
            model: "gpt-4o-mini".into(),
            max_tokens: 220,
            temperature: 0.7,
            attempts: 2,
            rewrite_while_plans: 4,
            max_sequences: 16,
        }
    }
}

/// Which language model writes the prose; `llm.provider` in the configuration. An unknown
/// value is an error naming the three choices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LlmProvider {
    /// llama.cpp in-process, with the GGUF of `llm.model_path` (`embedded`).
    #[default]
    Embedded,
    /// Any OpenAI-compatible endpoint at `llm.base_url`, with the secret API key (`openai`).
    OpenAi,
    /// No language model: plans are made without prose (`off`).
    Off,
}

impl LlmProvider {
    /// The name used in the configuration: `embedded`, `openai` or `off`.
    pub fn as_str(self) -> &'static str {
        match self {
            LlmProvider::Embedded => "embedded",
            LlmProvider::OpenAi => "openai",
            LlmProvider::Off => "off",
        }
    }
}

impl std::fmt::Display for LlmProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The models `scripts/fetch_assets.sh` fetches for the embedded engine;
/// `llm.embedded_model` in the configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum EmbeddedModel {
    /// Qwen2.5-Coder-0.5B-Instruct, Q8_0, 491 MB (`qwen-0.5b`).
    #[default]
    #[serde(rename = "qwen-0.5b")]
    Qwen05B,
    /// Qwen2.5-Coder-1.5B-Instruct, Q4_K_M, 1.1 GB: truer prose, slower (`qwen-1.5b`).
    #[serde(rename = "qwen-1.5b")]
    Qwen15B,
}

impl EmbeddedModel {
    /// The name used in the configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            EmbeddedModel::Qwen05B => "qwen-0.5b",
            EmbeddedModel::Qwen15B => "qwen-1.5b",
        }
    }

    /// Its GGUF file under `{assets_dir}/models/`.
    pub fn file_name(self) -> &'static str {
        match self {
            EmbeddedModel::Qwen05B => "qwen2.5-coder-0.5b-instruct.gguf",
            EmbeddedModel::Qwen15B => "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        }
    }
}

impl Config {
    /// The embedded model's GGUF file: `llm.model_path`, else the file of
    /// `llm.embedded_model` under `{assets_dir}/models/`.
    pub fn llm_model_path(&self) -> PathBuf {
        self.llm.model_path.clone().unwrap_or_else(|| {
            self.assets_dir
                .join("models")
                .join(self.llm.embedded_model.file_name())
        })
    }

    /// The vendored front-end libraries of the web app: `web.vendor_dir`, else
    /// `{assets_dir}/web`, where `scripts/fetch_assets.sh` puts them.
    pub fn vendor_dir(&self) -> PathBuf {
        self.web
            .vendor_dir
            .clone()
            .unwrap_or_else(|| self.assets_dir.join("web"))
    }
}

/// What `tripwright serve` serves; `web.role` in the configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ServeRole {
    /// The web app, its JSON API and `/v1` (`app`).
    #[default]
    App,
    /// Only `/v1` from the embedded engine, with `/healthz` and `/readyz`: the inference tier
    /// that app replicas reach with `llm.provider = "openai"` (`inference`). It loads no
    /// store, place data or embedding model.
    Inference,
}

impl ServeRole {
    /// The name used in the configuration: `app` or `inference`.
    pub fn as_str(self) -> &'static str {
        match self {
            ServeRole::App => "app",
            ServeRole::Inference => "inference",
        }
    }
}

/// The web app that `tripwright serve` runs (`[web]`). `addr`, `tile_url`,
/// `secure_cookies`, `role` and `metrics_addr` have `serve` flags too, which win over this.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebConfig {
    /// Address the server listens on (`127.0.0.1:8080`).
    pub addr: SocketAddr,
    /// What it serves: the web app (`app`, the default) or only the model (`inference`).
    pub role: ServeRole,
    /// Where Prometheus metrics are served (`GET /metrics`), apart from the app's address;
    /// unset (the default): nowhere.
    pub metrics_addr: Option<SocketAddr>,
    /// Raster tile URL template for the map, e.g. `https://tile.example.org/{z}/{x}/{y}.png`;
    /// its origin is added to the Content-Security-Policy. Unset (the default): the map draws
    /// the offline country outlines.
    pub tile_url: Option<String>,
    /// Mark the user cookie `Secure`, for a server behind HTTPS (`false`).
    pub secure_cookies: bool,
    /// Plans made at the same time; beyond it a new plan is answered 503 "busy" (4).
    pub max_running: usize,
    /// Plan jobs kept in memory, running and recently finished (256).
    pub max_jobs: usize,
    /// Seconds a finished job stays in memory; its plan stays in the store (600).
    pub job_ttl_secs: u64,
    /// Plans remembered for identical requests on the same day, 0 for none (64).
    pub plan_cache: usize,
    /// Longest a plan (or the rewrite of a day) may run, in seconds, before it is stopped
    /// and marked failed, so that no plan stays "running" for ever (1800).
    pub plan_deadline_secs: u64,
    /// Seconds a client has to send a request's headers; also how long a kept-alive
    /// connection may sit idle (10).
    pub header_timeout_secs: u64,
    /// Connections open at once; beyond it new ones wait until one closes (512).
    pub max_connections: usize,
    /// On SIGTERM or Ctrl-C: seconds running plans and open connections get to finish
    /// before they are stopped (20). Plans still running at half of it are handed back to be
    /// made by another replica (or by this server when it starts again).
    pub shutdown_grace_secs: u64,
    /// Seconds a replica's claim on a plan it makes holds without being renewed (15; renewed
    /// every third of it): when a replica dies, another finishes its plans after this long.
    pub job_lease_secs: u64,
    /// The vendored front-end libraries served under `/static/vendor/`; unset (the default):
    /// `{assets_dir}/web`, see [`Config::vendor_dir`].
    pub vendor_dir: Option<PathBuf>,
    /// Font folders for the PDF export (Debian's DejaVu and Noto folders). Without any font
    /// the PDF export answers 503 and the other exports still work.
    pub font_dirs: Vec<PathBuf>,
}

impl Default for WebConfig {
    fn default() -> Self {
        Self {
            addr: SocketAddr::from((Ipv4Addr::LOCALHOST, 8080)),
            role: ServeRole::App,
            metrics_addr: None,
            tile_url: None,
            secure_cookies: false,
            max_running: 4,
            max_jobs: 256,
            job_ttl_secs: 600,
            plan_cache: 64,
            plan_deadline_secs: 1800,
            header_timeout_secs: 10,
            max_connections: 512,
            shutdown_grace_secs: 20,
            job_lease_secs: 15,
            vendor_dir: None,
            font_dirs: vec![
                PathBuf::from("/usr/share/fonts/truetype/dejavu"),
                PathBuf::from("/usr/share/fonts/truetype/noto"),
            ],
        }
    }
}

/// The public OpenStreetMap geocoder, asked when `[online]` is on and no other is set.
pub const PUBLIC_NOMINATIM: &str = "https://nominatim.openstreetmap.org";
/// The public Overpass API, asked when `[online]` is on and no other is set.
pub const PUBLIC_OVERPASS: &str = "https://overpass-api.de";
/// Wikipedia, by language (`{lang}` is replaced by `en`, `fi` …).
pub const PUBLIC_WIKIPEDIA: &str = "https://{lang}.wikipedia.org";

/// Outside lookups (see `docs/configuration.md`): place data on demand for a destination the
/// store knows too little of and live grocery shops (an Overpass API), geocoding of places
/// the offline gazetteer does not know (a Nominatim server), and the Wikipedia summaries of
/// the stops that link an article. One switch, `enabled`, governs
/// them all; on by default, with the public OpenStreetMap instances, so that a fresh
/// installation with internet plans any city. The server sends at most one request per second
/// to each, with a User-Agent naming Tripwright and `user_agent_contact`, and caches every
/// answer in the store for `cache_hours`. A service that cannot be reached is not asked again
/// for five minutes: every lookup meanwhile fails at once, so an installation without internet
/// never waits on it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OnlineConfig {
    /// Whether anything outside is asked at all; `false`: nothing is, whatever URLs are set.
    pub enabled: bool,
    /// Base URL of a Nominatim server (`/search` is appended); empty or `off`: no online
    /// geocoding.
    pub nominatim_url: Option<String>,
    /// Base URL of an Overpass API server (`/api/interpreter` is appended): live grocery
    /// shops, and the places of a destination the store has fewer than 8 sights for (fetched
    /// once, stored); empty or `off`: neither.
    pub overpass_url: Option<String>,
    /// Base URL of Wikipedia with `{lang}` for the language (`/api/rest_v1/page/summary/…`
    /// and `/w/api.php` are appended): the English summary of a stop's linked article
    /// becomes its description and the model's facts; empty or `off`: none.
    pub wikipedia_url: Option<String>,
    /// How the operators can reach you (an e-mail address or URL), sent in the User-Agent
    /// `Tripwright/{version} ({contact})` as the services' usage policies ask.
    pub user_agent_contact: String,
    /// How long an answer is reused from the cache, in hours.
    pub cache_hours: u64,
    /// Longest wait for one answer (and for a turn at the rate limit), in seconds; a
    /// connection gets at most 5 of them.
    pub timeout_secs: u64,
}

impl Default for OnlineConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            nominatim_url: Some(PUBLIC_NOMINATIM.to_owned()),
            overpass_url: Some(PUBLIC_OVERPASS.to_owned()),
            wikipedia_url: Some(PUBLIC_WIKIPEDIA.to_owned()),
            user_agent_contact: String::new(),
            cache_hours: 24 * 7,
            timeout_secs: 10,
        }
    }
}

/// Hotel search settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HotelConfig {
    /// Hotels farther than this from the destination centre are not considered.
    pub radius_km: f64,
    /// How many hotels a plan lists.
    pub top_n: usize,
}

impl Default for HotelConfig {
    fn default() -> Self {
        Self {
            radius_km: 15.0,
            top_n: 5,
        }
    }
}

/// Day planner settings (see `docs/itinerary.md`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PlannerConfig {
    /// Attractions and restaurants farther than this from the destination centre are ignored.
    pub radius_km: f64,
    /// When the first stop starts, `HH:MM`.
    pub day_start: String,
    /// Latest end of the last stop, `HH:MM`.
    pub day_end: String,
    /// Walking speed in km/h.
    pub walk_speed_kmh: f64,
    /// Street distance ÷ straight-line distance.
    pub detour_factor: f64,
    /// Most walking per day in km (the pace limit of the reachability check).
    pub max_walk_km_per_day: f64,
    /// Most sights (museums, attractions …) per day.
    pub sights_per_day: usize,
    /// Minutes spent at a museum, gallery, zoo or theme park.
    pub museum_minutes: u32,
    /// Minutes spent at other sights.
    pub sight_minutes: u32,
    /// Minutes for lunch.
    pub lunch_minutes: u32,
    /// Minutes for dinner.
    pub dinner_minutes: u32,
    /// Minutes for a coffee break.
    pub cafe_minutes: u32,
}

impl Default for PlannerConfig {
    fn default() -> Self {
        Self {
            radius_km: 10.0,
            day_start: "09:30".into(),
            day_end: "22:00".into(),
            walk_speed_kmh: 4.5,
            detour_factor: 1.3,
            max_walk_km_per_day: 12.0,
            sights_per_day: 4,
            museum_minutes: 90,
            sight_minutes: 45,
            lunch_minutes: 60,
            dinner_minutes: 90,
            cafe_minutes: 30,
        }
    }
}

/// Cost tables. OpenStreetMap has no prices, so hotel prices are estimated from stars or
/// the kind of lodging; every figure is in `base_currency` and converted with `fx_per_base`.
/// All defaults are rough 2025 western-European mid-range figures; override them per market.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CostConfig {
    /// Currency the tables are in.
    pub base_currency: String,
    /// Room-night price by stars: index 0 is "stars unknown", 1..=5 the stars.
    pub room_night_by_stars: [f64; 6],
    /// Room-night price by lodging kind when stars are unknown (hostel, guest_house …).
    pub room_night_by_kind: BTreeMap<String, f64>,
    /// Travellers per room.
    pub people_per_room: u8,
    /// Lunch per person.
    pub lunch: f64,
    /// Dinner per person.
    pub dinner: f64,
    /// Coffee break per person.
    pub cafe: f64,
    /// Breakfast per person per day (on days after a hotel night).
    pub breakfast: f64,
    /// Ticket per person at a paid sight (museum, gallery, zoo, theme park).
    pub ticket: f64,
    /// Local transport and incidentals per person per day.
    pub daily_incidentals: f64,
    /// Units of each currency per one unit of `base_currency` (approximate).
    pub fx_per_base: BTreeMap<String, f64>,
}

impl Default for CostConfig {
    fn default() -> Self {
        let kinds = [
            ("hostel", 40.0),
            ("guest_house", 85.0),
            ("apartment", 110.0),
            ("motel", 80.0),
        ];
        // Approximate units per EUR; good enough for a budget check, flagged as estimated.
        let fx = [
            ("EUR", 1.0),
            ("USD", 1.10),
            ("GBP", 0.85),
            ("CHF", 0.95),
            ("SEK", 11.3),
            ("NOK", 11.7),
            ("DKK", 7.46),
            ("ISK", 150.0),
            ("PLN", 4.3),
            ("CZK", 25.0),
            ("HUF", 395.0),
            ("RON", 5.0),
            ("TRY", 40.0),
            ("JPY", 165.0),
            ("CNY", 7.9),
            ("HKD", 8.6),
            ("KRW", 1500.0),
            ("SGD", 1.45),
            ("THB", 38.0),
            ("INR", 93.0),
            ("IDR", 18000.0),
            ("AUD", 1.68),
            ("NZD", 1.85),
            ("CAD", 1.52),
            ("MXN", 21.0),
            ("BRL", 6.2),
            ("ZAR", 20.0),
            ("AED", 4.0),
            ("EGP", 54.0),
            ("MAD", 10.8),
        ];
        Self {
            base_currency: "EUR".into(),
            room_night_by_stars: [110.0, 60.0, 80.0, 110.0, 160.0, 280.0],
            room_night_by_kind: kinds.iter().map(|(k, v)| ((*k).into(), *v)).collect(),
            people_per_room: 2,
            lunch: 18.0,
            dinner: 35.0,
            cafe: 6.0,
            breakfast: 12.0,
            ticket: 16.0,
            daily_incidentals: 20.0,
            fx_per_base: fx.iter().map(|(k, v)| ((*k).into(), *v)).collect(),
        }
    }
}

impl Config {
    /// Loads defaults → file → environment. `file` is the explicit `--config` path, if any;
    /// `env` is the process environment (passed in so tests need not mutate globals).
    ///
    /// # Errors
    /// The file cannot be read or parsed, a value has the wrong type, or a `TRIPWRIGHT_*`
    /// variable is neither a setting, an alias, a loader variable nor script-only; the error
    /// names the file or the variable at fault.
    pub fn load(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, ConfigError> {
        let env: Vec<(String, String)> = env.into_iter().collect();
        let mut from_file = toml::Table::try_from(Config::default())
            .map_err(|e| ConfigError::Invalid(e.to_string()))?;
        let named = env
            .iter()
            .find(|(k, v)| k == ENV_CONFIG_FILE && !v.is_empty())
            .map(|(_, v)| PathBuf::from(v));
        let path = file.map(Path::to_path_buf).or(named).or_else(|| {
            let p = PathBuf::from("tripwright.toml");
            p.exists().then_some(p)
        });
        if let Some(path) = &path {
            let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                path: path.clone(),
                source,
            })?;
            let table: toml::Table =
                text.parse()
                    .map_err(|e: toml::de::Error| ConfigError::Parse {
                        path: path.clone(),
                        message: e.message().to_owned(),
                    })?;
            merge(&mut from_file, table);
        }
        let overrides = env_overrides(&env);
        let mut merged = from_file.clone();
        for o in &overrides {
            set_path(&mut merged, &o.path, o.value.clone());
        }
        deserialize(merged).map_err(|message| {
            ConfigError::Invalid(match blame(&from_file, &overrides) {
                Some(culprit) => format!("{culprit}: {message}"),
                None => match &path {
                    Some(path) => format!("{}: {message}", path.display()),
                    None => message,
                },
            })
        })
    }

    /// The SQLite file of the store.
    pub fn store_path(&self) -> PathBuf {
        self.store_path
            .clone()
            .unwrap_or_else(|| self.data_dir.join("tripwright.sqlite"))
    }
}

fn deserialize(table: toml::Table) -> Result<Config, String> {
    toml::Value::Table(table)
        .try_into()
        .map_err(|e: toml::de::Error| e.message().to_owned())
}

/// One `TRIPWRIGHT_*` variable as a configuration value.
struct EnvOverride<'a> {
    /// The variable as it was set (an alias stays an alias, so errors name what the user wrote).
    name: &'a str,
    /// The key it sets, e.g. `["web", "tile_url"]`.
    path: Vec<String>,
    value: toml::Value,
}

/// The `TRIPWRIGHT_*` variables that set configuration, in the order they apply: aliases
/// first, so that a canonical name set as well wins over its alias whatever the order of the
/// environment. An empty variable counts as unset, as shells and container files often export
/// a variable empty to mean "not set".
fn env_overrides(env: &[(String, String)]) -> Vec<EnvOverride<'_>> {
    let mut aliased = Vec::new();
    let mut canonical = Vec::new();
    for (name, value) in env {
        if name == DATABASE_URL_ENV && !value.is_empty() {
            aliased.push(EnvOverride {
                name,
                path: vec!["database_url".to_owned()],
                value: toml::Value::String(value.clone()),
            });
            continue;
        }
        if !name.starts_with(ENV_PREFIX)
            || value.is_empty()
            || LOADER_ENV_VARS.contains(&name.as_str())
            || SCRIPT_ONLY_ENV_VARS.contains(&name.as_str())
        {
            continue;
        }
        let (key, list) = match ENV_ALIASES.iter().find(|a| a.alias == name) {
            Some(alias) => (alias.canonical, &mut aliased),
            None => (name.as_str(), &mut canonical),
        };
        list.push(EnvOverride {
            name,
            path: key[ENV_PREFIX.len()..]
                .split("__")
                .map(str::to_lowercase)
                .collect(),
            value: parse_env_value(value),
        });
    }
    aliased.extend(canonical);
    aliased
}

/// The environment variable that makes the configuration invalid on its own, if there is one,
/// so that the error names it; `None` when the file alone is already invalid.
fn blame(from_file: &toml::Table, overrides: &[EnvOverride<'_>]) -> Option<String> {
    deserialize(from_file.clone()).ok()?;
    overrides.iter().find_map(|o| {
        let mut alone = from_file.clone();
        set_path(&mut alone, &o.path, o.value.clone());
        deserialize(alone)
            .is_err()
            .then(|| format!("environment variable {}", o.name))
    })
}

/// Deep-merges `over` into `base`: tables merge key by key, other values replace.
fn merge(base: &mut toml::Table, over: toml::Table) {
    for (k, v) in over {
        match (base.get_mut(&k), v) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge(b, o),
            (_, v) => {
                base.insert(k, v);
            }
        }
    }
}

/// Sets the key at `path` (lower-case segments of an environment name) to `value`.
fn set_path(table: &mut toml::Table, path: &[String], value: toml::Value) {
    let Some((first, rest)) = path.split_first() else {
        return;
    };
    // An environment name is all capitals, so a key that already exists is matched whatever
    // its case: `TRIPWRIGHT_COSTS__FX_PER_BASE__USD` must change `USD`, not add `usd`.
    let key = table
        .keys()
        .find(|k| k.eq_ignore_ascii_case(first))
        .cloned()
        .unwrap_or_else(|| first.clone());
    if rest.is_empty() {
        table.insert(key, value);
        return;
    }
    let entry = table
        .entry(key)
        .or_insert_with(|| toml::Value::Table(toml::Table::new()));
    if !entry.is_table() {
        *entry = toml::Value::Table(toml::Table::new());
    }
    if let toml::Value::Table(t) = entry {
        set_path(t, rest, value);
    }
}

/// An environment value as TOML when it parses as a number, boolean or array (`25`, `true`,
/// `[1.0, 2.0]`), else as a plain string (paths, filters, times, addresses).
fn parse_env_value(raw: &str) -> toml::Value {
    let doc = format!("v = {raw}");
    match doc.parse::<toml::Table>().map(|mut t| t.remove("v")) {
        Ok(Some(
            v @ (toml::Value::Integer(_)
            | toml::Value::Float(_)
            | toml::Value::Boolean(_)
            | toml::Value::Array(_)),
        )) => v,
        // Strings, and values TOML would read as dates or times ("10:00"), stay text.
        _ => toml::Value::String(raw.to_owned()),
    }
}

/// Secrets, kept apart from [`Config`] so configuration can be printed and logged freely.
#[derive(Debug, Clone, Default)]
pub struct Secrets {
    /// Key for an OpenAI-compatible endpoint: `$TRIPWRIGHT_OPENAI_API_KEY`, else
    /// `$OPENAI_API_KEY`, else `openai_api_key` of the secrets file.
    pub openai_api_key: Option<SecretString>,
    /// Secret the web app's cookie-signing key is derived from, the same on every replica:
    /// `$TRIPWRIGHT_SESSION_KEY`, else `session_key` of the secrets file. Unset: the web app
    /// makes a key once and keeps it in `{data_dir}/session.key`.
    pub session_key: Option<SecretString>,
}

#[derive(Deserialize)]
struct SecretsFile {
    #[serde(default)]
    general: SecretsGeneral,
}

#[derive(Deserialize, Default)]
struct SecretsGeneral {
    openai_api_key: Option<SecretString>,
    session_key: Option<SecretString>,
}

/// An empty secret is no secret: an empty variable or `key = ""` means "not set".
fn non_empty(secret: Option<SecretString>) -> Option<SecretString> {
    secret.filter(|s| !s.expose_secret().is_empty())
}

impl Secrets {
    /// Each secret from the environment when set and non-empty, else from the secrets file:
    /// `$TRIPWRIGHT_SECRETS_FILE`, else `./secrets.toml` when it exists. The choice is per
    /// secret, so an API key from the environment and a session key from the file combine.
    ///
    /// # Errors
    /// The secrets file cannot be read or is malformed (the message never quotes it).
    pub fn load(env: impl IntoIterator<Item = (String, String)>) -> Result<Secrets, ConfigError> {
        let env: BTreeMap<String, String> = env.into_iter().collect();
        let from_env = |names: &[&str]| {
            names
                .iter()
                .find_map(|k| non_empty(env.get(*k).cloned().map(SecretString::from)))
        };
        let secrets = Secrets {
            openai_api_key: from_env(&[ENV_OPENAI_API_KEY, "OPENAI_API_KEY"]),
            session_key: from_env(&[ENV_SESSION_KEY]),
        };
        // The file is only read for what the environment left out, so a deployment that sets
        // every secret in the environment does not depend on it.
        if secrets.openai_api_key.is_some() && secrets.session_key.is_some() {
            return Ok(secrets);
        }
        let named = env.get(ENV_SECRETS_FILE).filter(|v| !v.is_empty());
        let path = named.map(PathBuf::from).or_else(|| {
            let p = PathBuf::from("secrets.toml");
            p.exists().then_some(p)
        });
        let Some(path) = path else {
            return Ok(secrets);
        };
        let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::Read {
            path: path.clone(),
            source,
        })?;
        // The parser's message could quote the offending line, i.e. a secret: leave it out.
        let file: SecretsFile = toml::from_str(&text).map_err(|_| ConfigError::Parse {
            path: path.clone(),
            message: "expected `[general]` with `openai_api_key = \"…\"` and/or \
                      `session_key = \"…\"`"
                .into(),
        })?;
        Ok(Secrets {
            openai_api_key: secrets
                .openai_api_key
                .or_else(|| non_empty(file.general.openai_api_key)),
            session_key: secrets
                .session_key
                .or_else(|| non_empty(file.general.session_key)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn the_embedded_model_is_chosen_by_name_and_a_path_overrides_it() {
        let c = Config::load(
            None,
            env(&[("TRIPWRIGHT_LLM__EMBEDDED_MODEL", "qwen-1.5b")]),
        )
        .expect("loads");
        assert_eq!(c.llm.embedded_model, EmbeddedModel::Qwen15B);
        assert_eq!(
            c.llm_model_path(),
            c.assets_dir
                .join("models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf")
        );
        let c = Config::load(
            None,
            env(&[
                ("TRIPWRIGHT_LLM__EMBEDDED_MODEL", "qwen-1.5b"),
                ("TRIPWRIGHT_LLM__MODEL_PATH", "/models/mine.gguf"),
            ]),
        )
        .expect("loads");
        assert_eq!(c.llm_model_path(), PathBuf::from("/models/mine.gguf"));
        let e = Config::load(None, env(&[("TRIPWRIGHT_LLM__EMBEDDED_MODEL", "qwen-7b")]))
            .expect_err("unknown model");
        let message = e.to_string();
        assert!(
            message.contains("qwen-0.5b") && message.contains("qwen-1.5b"),
            "{message}"
        );
    }

    #[test]
    fn defaults_then_file_then_env() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("tripwright.toml");
        std::fs::write(
            &file,
            "data_dir = \"/from/file\"\nlog = \"debug\"\n[costs]\nlunch = 20.0\nticket = 9.0\n",
        )
        .expect("write");
        let c = Config::load(
            Some(&file),
            env(&[
                ("TRIPWRIGHT_LOG", "warn"),
                ("TRIPWRIGHT_COSTS__LUNCH", "25"),
                ("TRIPWRIGHT_PLANNER__DAY_START", "10:00"),
                ("UNRELATED", "x"),
            ]),
        )
        .expect("load");
        assert_eq!(c.data_dir, PathBuf::from("/from/file"));
        assert_eq!(c.log, "warn");
        assert_eq!(c.costs.lunch, 25.0);
        assert_eq!(c.costs.ticket, 9.0);
        assert_eq!(c.planner.day_start, "10:00");
        assert_eq!(c.assets_dir, PathBuf::from("assets"));
        assert_eq!(
            c.store_path(),
            PathBuf::from("/from/file/tripwright.sqlite")
        );
    }

    #[test]
    fn env_names_the_config_file_and_paths_stay_strings() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("c.toml");
        std::fs::write(&file, "assets_dir = \"/a\"\n").expect("write");
        let c = Config::load(
            None,
            env(&[
                ("TRIPWRIGHT_CONFIG", file.to_str().expect("utf8")),
                ("TRIPWRIGHT_DATA_DIR", "/var/lib/tripwright"),
            ]),
        )
        .expect("load");
        assert_eq!(c.assets_dir, PathBuf::from("/a"));
        assert_eq!(c.data_dir, PathBuf::from("/var/lib/tripwright"));
    }

    #[test]
    fn a_database_url_selects_postgres_from_the_environment_and_never_shows_its_password() {
        let c = Config::load(None, env(&[])).expect("load");
        assert_eq!(c.database_url, None);
        let url = "postgres://tw:s3cret@db.internal:5432/tripwright";
        let c = Config::load(None, env(&[("DATABASE_URL", url)])).expect("load");
        let set = c.database_url.clone().expect("set");
        assert!(set.is_postgres());
        assert_eq!(set.expose(), url);
        assert_eq!(
            set.redacted(),
            "postgres://tw:***@db.internal:5432/tripwright"
        );
        assert!(!format!("{c:?}").contains("s3cret"));
        // The canonical name wins over DATABASE_URL, whatever the order.
        let c = Config::load(
            None,
            env(&[
                ("TRIPWRIGHT_DATABASE_URL", "postgresql://a@h/one"),
                ("DATABASE_URL", url),
            ]),
        )
        .expect("load");
        assert_eq!(
            c.database_url.as_ref().map(DatabaseUrl::expose),
            Some("postgresql://a@h/one")
        );
        assert!(!DatabaseUrl::from("sqlite://x").is_postgres());
    }

    #[test]
    fn online_lookups_are_on_by_default_and_set_from_the_environment() {
        let c = Config::load(None, env(&[])).expect("load");
        assert!(c.online.enabled);
        assert_eq!(c.online.nominatim_url.as_deref(), Some(PUBLIC_NOMINATIM));
        assert_eq!(c.online.overpass_url.as_deref(), Some(PUBLIC_OVERPASS));
        assert_eq!(c.online.wikipedia_url.as_deref(), Some(PUBLIC_WIKIPEDIA));
        assert_eq!(c.online.cache_hours, 168);
        assert_eq!(c.online.timeout_secs, 10);
        let c = Config::load(
            None,
            env(&[
                (
                    "TRIPWRIGHT_ONLINE__NOMINATIM_URL",
                    "https://nominatim.example.org",
                ),
                ("TRIPWRIGHT_ONLINE__OVERPASS_URL", "off"),
                (
                    "TRIPWRIGHT_ONLINE__WIKIPEDIA_URL",
                    "https://wiki.example.org/{lang}",
                ),
                ("TRIPWRIGHT_ONLINE__USER_AGENT_CONTACT", "ops@example.org"),
                ("TRIPWRIGHT_ONLINE__TIMEOUT_SECS", "3"),
                ("TRIPWRIGHT_ONLINE__ENABLED", "false"),
            ]),
        )
        .expect("load");
        assert!(!c.online.enabled);
        assert_eq!(
            c.online.nominatim_url.as_deref(),
            Some("https://nominatim.example.org")
        );
        assert_eq!(c.online.overpass_url.as_deref(), Some("off"));
        assert_eq!(
            c.online.wikipedia_url.as_deref(),
            Some("https://wiki.example.org/{lang}")
        );
        assert_eq!(c.online.user_agent_contact, "ops@example.org");
        assert_eq!(c.online.timeout_secs, 3);
    }

    #[test]
    fn example_file_documents_the_defaults() {
        let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tripwright.example.toml");
        let c = Config::load(Some(&example), env(&[])).expect("example parses");
        let as_toml = |c: &Config| toml::to_string(c).expect("serialise");
        assert_eq!(as_toml(&c), as_toml(&Config::default()));
    }

    #[test]
    fn bad_values_are_clear_errors() {
        let err = Config::load(None, env(&[("TRIPWRIGHT_COSTS__LUNCH", "cheap")]))
            .expect_err("string for a float");
        assert!(err.to_string().contains("invalid configuration"), "{err}");
        let err = Config::load(None, env(&[("TRIPWRIGHT_NO_SUCH_KEY", "1")])).expect_err("unknown");
        assert!(err.to_string().contains("TRIPWRIGHT_NO_SUCH_KEY"), "{err}");
        assert!(err.to_string().contains("no_such_key"), "{err}");
        // A misspelt alias is not an alias.
        let err = Config::load(None, env(&[("TRIPWRIGHT_SECURE_COOKIE", "true")]))
            .expect_err("misspelt alias");
        assert!(
            err.to_string().contains("TRIPWRIGHT_SECURE_COOKIE:"),
            "{err}"
        );
        // Among several variables, the error names the one at fault.
        let err = Config::load(
            None,
            env(&[
                ("TRIPWRIGHT_WEB__MAX_JOBS", "12"),
                ("TRIPWRIGHT_WEB__MAX_RUNING", "2"),
                ("TRIPWRIGHT_LOG", "debug"),
            ]),
        )
        .expect_err("misspelt nested key");
        assert!(
            err.to_string().contains("TRIPWRIGHT_WEB__MAX_RUNING"),
            "{err}"
        );
        assert!(
            !err.to_string().contains("TRIPWRIGHT_WEB__MAX_JOBS"),
            "{err}"
        );
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("bad.toml");
        std::fs::write(&file, "[web]\nmax_jobs = \"many\"\n").expect("write");
        let err = Config::load(Some(&file), env(&[("TRIPWRIGHT_LOG", "debug")]))
            .expect_err("string for a number in the file");
        assert!(err.to_string().contains("bad.toml"), "{err}");
        assert!(!err.to_string().contains("TRIPWRIGHT_LOG"), "{err}");
        std::fs::write(&file, "data_dir = ").expect("write");
        let err = Config::load(Some(&file), env(&[])).expect_err("bad toml");
        assert!(matches!(err, ConfigError::Parse { .. }), "{err}");
        let err = Config::load(Some(&dir.path().join("none.toml")), env(&[])).expect_err("none");
        assert!(matches!(err, ConfigError::Read { .. }), "{err}");
    }

    #[test]
    fn llm_provider_is_one_of_three_names() {
        let c = Config::load(None, env(&[])).expect("load");
        assert_eq!(c.llm.provider, LlmProvider::Embedded);
        let as_toml = toml::to_string(&c).expect("serialise");
        assert!(as_toml.contains("provider = \"embedded\""), "{as_toml}");

        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("c.toml");
        std::fs::write(&file, "[llm]\nprovider = \"openai\"\n").expect("write");
        let c = Config::load(Some(&file), env(&[])).expect("load");
        assert_eq!(c.llm.provider, LlmProvider::OpenAi);
        let c =
            Config::load(Some(&file), env(&[("TRIPWRIGHT_LLM__PROVIDER", "off")])).expect("load");
        assert_eq!(c.llm.provider, LlmProvider::Off);
        assert_eq!(c.llm.provider.to_string(), "off");

        let err = Config::load(None, env(&[("TRIPWRIGHT_LLM__PROVIDER", "gpt")]))
            .expect_err("unknown provider");
        assert!(matches!(err, ConfigError::Invalid(_)), "{err}");
        let message = err.to_string();
        for name in [
            "TRIPWRIGHT_LLM__PROVIDER",
            "`embedded`",
            "`openai`",
            "`off`",
        ] {
            assert!(message.contains(name), "{name} missing in: {message}");
        }
    }

    #[test]
    fn web_settings_have_defaults_file_keys_and_short_aliases() {
        let c = Config::load(None, env(&[])).expect("load");
        assert_eq!(c.web.addr, "127.0.0.1:8080".parse().expect("addr"));
        assert_eq!(c.web.tile_url, None);
        assert!(!c.web.secure_cookies);
        assert_eq!(
            (
                c.web.max_running,
                c.web.max_jobs,
                c.web.job_ttl_secs,
                c.web.plan_cache,
                c.web.job_lease_secs
            ),
            (4, 256, 600, 64, 15)
        );
        assert_eq!(c.vendor_dir(), PathBuf::from("assets/web"));
        assert_eq!(
            c.web.font_dirs,
            [
                PathBuf::from("/usr/share/fonts/truetype/dejavu"),
                PathBuf::from("/usr/share/fonts/truetype/noto")
            ]
        );

        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("c.toml");
        std::fs::write(
            &file,
            "[web]\naddr = \"0.0.0.0:80\"\nvendor_dir = \"/srv/vendor\"\nplan_cache = 0\n",
        )
        .expect("write");
        let tiles = "https://tile.example.org/{z}/{x}/{y}.png";
        let c = Config::load(
            Some(&file),
            env(&[
                ("TRIPWRIGHT_ADDR", "127.0.0.1:9999"),
                ("TRIPWRIGHT_WEB_TILE_URL", tiles),
                ("TRIPWRIGHT_SECURE_COOKIES", "true"),
                ("TRIPWRIGHT_WEB__JOB_TTL_SECS", "60"),
                ("TRIPWRIGHT_WEB__JOB_LEASE_SECS", "3"),
            ]),
        )
        .expect("load");
        assert_eq!(c.web.addr, "127.0.0.1:9999".parse().expect("addr"));
        assert_eq!(c.web.tile_url.as_deref(), Some(tiles));
        assert!(c.web.secure_cookies);
        assert_eq!(c.web.job_ttl_secs, 60);
        assert_eq!(c.web.job_lease_secs, 3);
        assert_eq!(c.web.plan_cache, 0);
        assert_eq!(c.vendor_dir(), PathBuf::from("/srv/vendor"));
    }

    #[test]
    fn canonical_names_win_over_aliases_in_any_order() {
        for alias_first in [true, false] {
            let mut vars = env(&[
                ("TRIPWRIGHT_ADDR", "127.0.0.1:1111"),
                ("TRIPWRIGHT_SECURE_COOKIES", "true"),
            ]);
            let canonical = env(&[
                ("TRIPWRIGHT_WEB__ADDR", "127.0.0.1:2222"),
                ("TRIPWRIGHT_WEB__SECURE_COOKIES", "false"),
            ]);
            if alias_first {
                vars.extend(canonical);
            } else {
                vars.splice(0..0, canonical);
            }
            let c = Config::load(None, vars).expect("load");
            assert_eq!(c.web.addr, "127.0.0.1:2222".parse().expect("addr"));
            assert!(!c.web.secure_cookies);
        }
        for alias in ENV_ALIASES {
            assert!(alias.canonical.starts_with(ENV_PREFIX), "{alias:?}");
            assert!(!alias.alias.contains("__"), "{alias:?}");
        }
    }

    #[test]
    fn loader_and_script_variables_are_not_settings() {
        let dir = tempfile::tempdir().expect("tempdir");
        let secrets = dir.path().join("secrets.toml");
        std::fs::write(&secrets, "[general]\n").expect("write");
        let mut vars = env(&[
            ("TRIPWRIGHT_OPENAI_API_KEY", "sk-not-a-setting"),
            ("TRIPWRIGHT_SESSION_KEY", "not-a-setting-either"),
            ("TRIPWRIGHT_SECRETS_FILE", secrets.to_str().expect("utf8")),
        ]);
        vars.extend(
            SCRIPT_ONLY_ENV_VARS
                .iter()
                .map(|n| ((*n).to_owned(), "/tmp/x".to_owned())),
        );
        let c = Config::load(None, vars).expect("load");
        let as_toml = |c: &Config| toml::to_string(c).expect("serialise");
        assert_eq!(as_toml(&c), as_toml(&Config::default()));
    }

    #[test]
    fn empty_variables_count_as_unset() {
        let c = Config::load(
            None,
            env(&[
                ("TRIPWRIGHT_CONFIG", ""),
                ("TRIPWRIGHT_WEB_TILE_URL", ""),
                ("TRIPWRIGHT_SECURE_COOKIES", ""),
                ("TRIPWRIGHT_DATA_DIR", ""),
            ]),
        )
        .expect("load");
        assert_eq!(c.web.tile_url, None);
        assert!(!c.web.secure_cookies);
        assert_eq!(c.data_dir, PathBuf::from("data"));
    }

    #[test]
    fn environment_names_reach_map_keys_whatever_their_case() {
        let c = Config::load(
            None,
            env(&[
                ("TRIPWRIGHT_COSTS__FX_PER_BASE__USD", "1.25"),
                ("TRIPWRIGHT_COSTS__ROOM_NIGHT_BY_KIND__HOSTEL", "45"),
            ]),
        )
        .expect("load");
        assert_eq!(c.costs.fx_per_base.get("USD"), Some(&1.25));
        assert!(!c.costs.fx_per_base.contains_key("usd"));
        assert_eq!(c.costs.room_night_by_kind.get("hostel"), Some(&45.0));
    }

    #[test]
    fn secrets_combine_env_and_file_per_key() {
        let expose = |s: &Option<SecretString>| s.as_ref().map(|k| k.expose_secret().to_owned());
        let s =
            Secrets::load(env(&[("TRIPWRIGHT_SESSION_KEY", "session-from-env")])).expect("load");
        assert_eq!(expose(&s.session_key).as_deref(), Some("session-from-env"));
        assert!(!format!("{s:?}").contains("session-from-env"));

        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("secrets.toml");
        std::fs::write(
            &file,
            "[general]\nopenai_api_key = \"sk-file-1\"\nsession_key = \"session-from-file\"\n",
        )
        .expect("write");
        let path = file.to_str().expect("utf8");
        let s = Secrets::load(env(&[
            ("TRIPWRIGHT_SECRETS_FILE", path),
            ("OPENAI_API_KEY", "sk-env-2"),
        ]))
        .expect("load");
        assert_eq!(expose(&s.openai_api_key).as_deref(), Some("sk-env-2"));
        assert_eq!(expose(&s.session_key).as_deref(), Some("session-from-file"));
        let debug = format!("{s:?}");
        assert!(!debug.contains("session-from-file"), "{debug}");
        assert!(!debug.contains("sk-env-2"), "{debug}");

        let s = Secrets::load(env(&[
            ("TRIPWRIGHT_SECRETS_FILE", path),
            ("TRIPWRIGHT_SESSION_KEY", "session-from-env"),
            ("TRIPWRIGHT_OPENAI_API_KEY", ""),
        ]))
        .expect("load");
        assert_eq!(expose(&s.openai_api_key).as_deref(), Some("sk-file-1"));
        assert_eq!(expose(&s.session_key).as_deref(), Some("session-from-env"));

        std::fs::write(&file, "[general]\nsession_key = \"\"\n").expect("write");
        let s = Secrets::load(env(&[("TRIPWRIGHT_SECRETS_FILE", path)])).expect("load");
        assert!(s.session_key.is_none() && s.openai_api_key.is_none());
    }

    #[test]
    fn secrets_from_env_or_file_never_in_debug() {
        let s = Secrets::load(env(&[("OPENAI_API_KEY", "sk-env-123456")])).expect("load");
        assert_eq!(
            s.openai_api_key
                .as_ref()
                .map(|k| k.expose_secret().to_owned()),
            Some("sk-env-123456".to_owned())
        );
        assert!(!format!("{s:?}").contains("sk-env-123456"));

        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("secrets.toml");
        std::fs::write(&file, "[general]\nopenai_api_key = \"sk-file-987654\"\n").expect("write");
        let s = Secrets::load(env(&[(
            "TRIPWRIGHT_SECRETS_FILE",
            file.to_str().expect("utf8"),
        )]))
        .expect("load");
        assert_eq!(
            s.openai_api_key
                .as_ref()
                .map(|k| k.expose_secret().to_owned()),
            Some("sk-file-987654".to_owned())
        );
        let debug = format!("{s:?}");
        assert!(!debug.contains("sk-file-987654"), "{debug}");
        assert!(debug.contains("REDACTED"), "{debug}");

        std::fs::write(&file, "openai_api_key = sk-broken-555").expect("write");
        let err = Secrets::load(env(&[(
            "TRIPWRIGHT_SECRETS_FILE",
            file.to_str().expect("utf8"),
        )]))
        .expect_err("malformed");
        assert!(!err.to_string().contains("sk-broken-555"), "{err}");
    }
}
