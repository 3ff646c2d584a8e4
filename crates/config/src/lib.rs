//! Layered configuration and secrets.
//!
//! Configuration is built from three layers, later ones winning:
//! 1. built-in defaults (this file);
//! 2. a TOML file — `--config PATH`, else `$TRIPWRIGHT_CONFIG`, else `./tripwright.toml` when it
//!    exists (`tripwright.example.toml` in the repository lists every key);
//! 3. environment variables `TRIPWRIGHT_<KEY>`, where `__` separates nested keys:
//!    `TRIPWRIGHT_DATA_DIR=/srv/data`, `TRIPWRIGHT_COSTS__DAILY_INCIDENTALS=25`.
//!
//! Secrets (the OpenAI-compatible API key) come from `$TRIPWRIGHT_OPENAI_API_KEY` or
//! `$OPENAI_API_KEY`, else from a `secrets.toml` with the chapter's layout
//! (`[general] openai_api_key = "…"`). They are held in [`secrecy::SecretString`], whose `Debug`
//! prints `[REDACTED]`, so neither `{:?}` nor a log line can leak them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use secrecy::SecretString;
use serde::{Deserialize, Serialize};

/// Prefix of every environment variable read as configuration.
pub const ENV_PREFIX: &str = "TRIPWRIGHT_";

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
    /// A value has the wrong type or an unknown key was given.
    #[error("invalid configuration: {0} (see tripwright.example.toml for every key)")]
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
    /// Optional online lookups (Nominatim, Overpass); off by default.
    pub online: OnlineConfig,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("data"),
            assets_dir: PathBuf::from("assets"),
            store_path: None,
            log: "warn".into(),
            log_format: "text".into(),
            hotels: HotelConfig::default(),
            planner: PlannerConfig::default(),
            costs: CostConfig::default(),
            llm: LlmConfig::default(),
            online: OnlineConfig::default(),
        }
    }
}

/// The language model that writes itinerary and summary prose (issue 3).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LlmConfig {
    /// `embedded` (llama.cpp in-process), `openai` (any OpenAI-compatible endpoint) or `off`.
    pub provider: String,
    /// GGUF of the embedded model; default `<assets_dir>/models/qwen2.5-coder-0.5b-instruct.gguf`.
    pub model_path: Option<PathBuf>,
    /// Base URL of the OpenAI-compatible endpoint, e.g. `http://127.0.0.1:8000/v1`.
    pub base_url: String,
    /// Model name at that endpoint.
    pub model: String,
    /// Most tokens generated per day of prose (and for the summary).
    pub max_tokens: u32,
    /// Sampling temperature.
    pub temperature: f32,
    /// Generations per day before ungrounded sentences are dropped.
    pub attempts: u32,
    /// Requests the embedded engine generates at once (continuous batching).
    pub max_sequences: u32,
}

impl Default for LlmConfig {
    fn default() -> Self {
        Self {
            provider: "embedded".into(),
            model_path: None,
            base_url: "http://127.0.0.1:8000/v1".into(),
            model: "gpt-4o-mini".into(),
            max_tokens: 220,
            temperature: 0.7,
            attempts: 2,
            max_sequences: 8,
        }
    }
}

impl Config {
    /// The embedded model's GGUF file.
    pub fn llm_model_path(&self) -> PathBuf {
        self.llm.model_path.clone().unwrap_or_else(|| {
            self.assets_dir
                .join("models/qwen2.5-coder-0.5b-instruct.gguf")
        })
    }
}

/// Optional online lookups for the supermarkets search (see `docs/trip-list.md`): a Nominatim
/// geocoder for places the offline gazetteer does not know, and an Overpass API for live shop
/// data. Both are off until their URL is set; the server then sends at most one request per
/// second to each, with a User-Agent naming Tripwright and `user_agent_contact`, and caches
/// every answer in the store for `cache_hours`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OnlineConfig {
    /// Base URL of a Nominatim server, e.g. `https://nominatim.example.org` (`/search` is
    /// appended); unset: no online geocoding.
    pub nominatim_url: Option<String>,
    /// Base URL of an Overpass API server, e.g. `https://overpass.example.org`
    /// (`/api/interpreter` is appended); unset: no live shop queries.
    pub overpass_url: Option<String>,
    /// How the operators can reach you (an e-mail address or URL), sent in the User-Agent
    /// `Tripwright/{version} ({contact})` as the services' usage policies ask.
    pub user_agent_contact: String,
    /// How long an answer is reused from the cache, in hours.
    pub cache_hours: u64,
    /// Longest wait for one answer (and for a turn at the rate limit), in seconds.
    pub timeout_secs: u64,
}

impl Default for OnlineConfig {
    fn default() -> Self {
        Self {
            nominatim_url: None,
            overpass_url: None,
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
    pub fn load(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, ConfigError> {
        let env: Vec<(String, String)> = env.into_iter().collect();
        let mut merged = toml::Table::try_from(Config::default())
            .map_err(|e| ConfigError::Invalid(e.to_string()))?;
        let from_env = env
            .iter()
            .find(|(k, _)| k == "TRIPWRIGHT_CONFIG")
            .map(|(_, v)| PathBuf::from(v));
        let path = file.map(Path::to_path_buf).or(from_env).or_else(|| {
            let p = PathBuf::from("tripwright.toml");
            p.exists().then_some(p)
        });
        if let Some(path) = path {
            let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::Read {
                path: path.clone(),
                source,
            })?;
            let table: toml::Table =
                text.parse()
                    .map_err(|e: toml::de::Error| ConfigError::Parse {
                        path: path.clone(),
                        message: e.message().to_owned(),
                    })?;
            merge(&mut merged, table);
        }
        for (key, value) in &env {
            let Some(rest) = key.strip_prefix(ENV_PREFIX) else {
                continue;
            };
            if NOT_CONFIG_KEYS.contains(&rest) {
                continue;
            }
            let path: Vec<String> = rest.split("__").map(str::to_lowercase).collect();
            set_path(&mut merged, &path, parse_env_value(value));
        }
        toml::Value::Table(merged)
            .try_into()
            .map_err(|e: toml::de::Error| ConfigError::Invalid(e.message().to_owned()))
    }

    /// The SQLite file of the store.
    pub fn store_path(&self) -> PathBuf {
        self.store_path
            .clone()
            .unwrap_or_else(|| self.data_dir.join("tripwright.sqlite"))
    }
}

/// `TRIPWRIGHT_*` variables that are not configuration keys.
const NOT_CONFIG_KEYS: &[&str] = &[
    "CONFIG",
    "OPENAI_API_KEY",
    "SECRETS_FILE",
    "DOWNLOAD_CACHE",
    "ADDR",
];

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

fn set_path(table: &mut toml::Table, path: &[String], value: toml::Value) {
    match path {
        [] => {}
        [last] => {
            table.insert(last.clone(), value);
        }
        [first, rest @ ..] => {
            let entry = table
                .entry(first.clone())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            if !entry.is_table() {
                *entry = toml::Value::Table(toml::Table::new());
            }
            if let toml::Value::Table(t) = entry {
                set_path(t, rest, value);
            }
        }
    }
}

/// An environment value as TOML when it parses as a number, boolean or array (`25`, `true`,
/// `[1.0, 2.0]`), else as a plain string (paths, filters, times).
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
    /// Key for an OpenAI-compatible endpoint.
    pub openai_api_key: Option<SecretString>,
}

#[derive(Deserialize)]
struct SecretsFile {
    #[serde(default)]
    general: SecretsGeneral,
}

#[derive(Deserialize, Default)]
struct SecretsGeneral {
    openai_api_key: Option<String>,
}

impl Secrets {
    /// Environment first (`TRIPWRIGHT_OPENAI_API_KEY`, then `OPENAI_API_KEY`), else the
    /// secrets file: `$TRIPWRIGHT_SECRETS_FILE`, else `./secrets.toml` when it exists.
    pub fn load(env: impl IntoIterator<Item = (String, String)>) -> Result<Secrets, ConfigError> {
        let env: BTreeMap<String, String> = env.into_iter().collect();
        let from_env = ["TRIPWRIGHT_OPENAI_API_KEY", "OPENAI_API_KEY"]
            .iter()
            .find_map(|k| env.get(*k).filter(|v| !v.is_empty()).cloned());
        if let Some(key) = from_env {
            return Ok(Secrets {
                openai_api_key: Some(SecretString::from(key)),
            });
        }
        let path = env
            .get("TRIPWRIGHT_SECRETS_FILE")
            .map(PathBuf::from)
            .or_else(|| {
                let p = PathBuf::from("secrets.toml");
                p.exists().then_some(p)
            });
        let Some(path) = path else {
            return Ok(Secrets::default());
        };
        let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::Read {
            path: path.clone(),
            source,
        })?;
        // The parser's message could quote the offending line, i.e. the key: leave it out.
        let file: SecretsFile = toml::from_str(&text).map_err(|_| ConfigError::Parse {
            path: path.clone(),
            message: "expected `[general]` with `openai_api_key = \"…\"`".into(),
        })?;
        Ok(Secrets {
            openai_api_key: file.general.openai_api_key.map(SecretString::from),
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
    fn online_lookups_are_off_by_default_and_set_from_the_environment() {
        let c = Config::load(None, env(&[])).expect("load");
        assert_eq!(c.online.nominatim_url, None);
        assert_eq!(c.online.overpass_url, None);
        assert_eq!(c.online.cache_hours, 168);
        assert_eq!(c.online.timeout_secs, 10);
        let c = Config::load(
            None,
            env(&[
                (
                    "TRIPWRIGHT_ONLINE__NOMINATIM_URL",
                    "https://nominatim.example.org",
                ),
                ("TRIPWRIGHT_ONLINE__USER_AGENT_CONTACT", "ops@example.org"),
                ("TRIPWRIGHT_ONLINE__TIMEOUT_SECS", "3"),
            ]),
        )
        .expect("load");
        assert_eq!(
            c.online.nominatim_url.as_deref(),
            Some("https://nominatim.example.org")
        );
        assert_eq!(c.online.overpass_url, None);
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
        assert!(err.to_string().contains("no_such_key"), "{err}");
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("bad.toml");
        std::fs::write(&file, "data_dir = ").expect("write");
        let err = Config::load(Some(&file), env(&[])).expect_err("bad toml");
        assert!(matches!(err, ConfigError::Parse { .. }), "{err}");
        let err = Config::load(Some(&dir.path().join("none.toml")), env(&[])).expect_err("none");
        assert!(matches!(err, ConfigError::Read { .. }), "{err}");
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
