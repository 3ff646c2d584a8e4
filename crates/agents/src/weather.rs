//! The weather analysis agent: "when is the best time to go there?"
//!
//! Climate normals exist for ~270 cities only, so the monthly temperature of any other place is
//! predicted. The prediction has two layers:
//!
//! 1. **Base**: a zonal climatology (per month of the local season, mean temperature as a
//!    quadratic in |latitude|, fitted to the stations) plus the inverse-distance-weighted (IDW)
//!    *anomaly* of the [`NEIGHBOURS`] nearest stations from it. A neighbour 3° further poleward
//!    is thus not taken at face value but corrected for the latitude difference.
//! 2. **Forest** (ours, `tripwright_ml::forest`): a random forest predicts the correction to that
//!    base from features saying how the place differs from its neighbours (latitude, season,
//!    distance, latitude offsets, neighbours' rain, sunshine, continentality …). Trees are
//!    piecewise constant, so learning a small correction to a good estimate suits them far
//!    better than learning the whole temperature field.
//!
//! Rainfall and sunshine are annual only in the offline data, so they are IDW-interpolated and
//! used as climate-wide modifiers of the comfort score, never invented per month.
//! The score formula and the measured accuracy are in `docs/weather.md`.
//!
//! Training takes well under a second; the trained model is cached on disk, keyed by a hash of
//! the data, the parameters and [`MODEL_VERSION`]. [`evaluate`] measures the model honestly:
//! leave-one-city-out, with the held-out city removed from the zonal fit and from every
//! neighbour feature too, against the nearest-station baseline.

use std::f64::consts::PI;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tripwright_data::climate::{ClimateError, ClimateNormals, Station};
use tripwright_domain::{MonthScore, haversine_km, month_name};
use tripwright_ml::forest::{Forest, ForestError, ForestParams};

/// Version of the feature set and target; bump it whenever either changes so cached models
/// trained by older code are retrained instead of being fed features they never saw.
pub const MODEL_VERSION: u32 = 1;

/// Stations that feed the neighbour features of a location (4–12 were tried; 6 with
/// inverse-square weights was best).
pub const NEIGHBOURS: usize = 6;

/// Distances below this (km) count as this, so a query on top of a station gets a large but
/// finite IDW weight for it.
const MIN_IDW_KM: f64 = 1.0;

/// Largest cache file we are willing to decode: protects against a corrupt length prefix
/// asking for gigabytes.
const CACHE_LIMIT_BYTES: usize = 256 * 1024 * 1024;

/// Why the weather model could not be built, loaded or queried.
#[derive(Debug, thiserror::Error)]
pub enum WeatherError {
    /// Too few stations to compute neighbour features.
    #[error("the weather model needs at least {needed} climate stations, got {found}")]
    TooFewStations {
        /// Stations given.
        found: usize,
        /// Stations needed.
        needed: usize,
    },
    /// The forest rejected the training data or the parameters.
    #[error("training the weather forest failed: {0}")]
    Forest(#[from] ForestError),
    /// The climate normals could not be loaded.
    #[error(transparent)]
    Climate(#[from] ClimateError),
    /// The model cache could not be written.
    #[error(
        "cannot write the weather model cache {path}: {source} (check the directory is writable)"
    )]
    CacheWrite {
        /// The cache file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A held-out city index passed to [`evaluate_cities`] does not exist.
    #[error("no station with index {index}: there are {stations}")]
    NoSuchStation {
        /// Index given.
        index: usize,
        /// Number of stations.
        stations: usize,
    },
}

/// Predicted climate of one location.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MonthlyClimate {
    /// Mean temperature per month (°C), January first.
    pub temp_c: [f64; 12],
    /// Annual precipitation (mm), interpolated from nearby stations.
    pub annual_rain_mm: f64,
    /// Annual sunshine (hours), interpolated from nearby stations.
    pub annual_sunshine_h: f64,
    /// The nearest station, "City, CC".
    pub nearest_station: String,
    /// Distance to it (km).
    pub nearest_km: f64,
}

/// Where a [`WeatherModel`] came from (for logs and the CLI).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ModelOrigin {
    /// Trained in this process.
    #[default]
    Trained,
    /// Read from the on-disk cache.
    Cache,
}

/// The trained temperature model plus the stations its neighbour features are computed from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WeatherModel {
    stations: Vec<Station>,
    zonal: Zonal,
    forest: Forest,
    params: ForestParams,
    key: String,
    #[serde(skip)]
    origin: ModelOrigin,
}

impl WeatherModel {
    /// Train on all stations (each station's features computed without itself, exactly as for
    /// an unseen place).
    pub fn train(normals: &ClimateNormals, params: &ForestParams) -> Result<Self, WeatherError> {
        let stations = &normals.stations;
        check_enough(stations.len())?;
        let table = NeighbourTable::new(stations);
        let all: Vec<usize> = (0..stations.len()).collect();
        let (zonal, forest) = fit(stations, &table, &all, None, params)?;
        Ok(Self {
            stations: stations.clone(),
            zonal,
            forest,
            params: params.clone(),
            key: cache_key(normals, params),
            origin: ModelOrigin::Trained,
        })
    }

    /// Load the model from `cache_path` if it was trained on the same data with the same
    /// parameters and model version; otherwise train it and (re)write the cache atomically
    /// (temporary file + rename, so a crash never leaves half a file). A missing, stale or
    /// unreadable cache is not an error: it is retrained.
    pub fn load_or_train(
        cache_path: &Path,
        normals: &ClimateNormals,
        params: &ForestParams,
    ) -> Result<Self, WeatherError> {
        let key = cache_key(normals, params);
        match read_cache(cache_path) {
            Ok(cached) if cached.key == key => {
                tracing::info!(path = %cache_path.display(), "weather model loaded from cache");
                return Ok(WeatherModel {
                    origin: ModelOrigin::Cache,
                    ..cached
                });
            }
            Ok(_) => {
                tracing::info!(path = %cache_path.display(), "weather model cache is stale; retraining")
            }
            Err(reason) => {
                tracing::info!(path = %cache_path.display(), reason, "no usable weather model cache; training")
            }
        }
        let start = Instant::now();
        let model = Self::train(normals, params)?;
        tracing::info!(
            seconds = start.elapsed().as_secs_f64(),
            "weather model trained"
        );
        write_cache(cache_path, &model)?;
        Ok(model)
    }

    /// Predicted monthly temperatures (and interpolated annual rain and sunshine) at a location.
    /// A station's own location may use the station itself as a neighbour.
    ///
    /// Callers pass a valid WGS84 position (a geocoded destination, or one that passed
    /// `GeoPoint::is_valid`); the great-circle distances are meaningful for any finite input,
    /// and a NaN coordinate yields NaN temperatures rather than a panic.
    pub fn predict(&self, lat: f64, lon: f64) -> MonthlyClimate {
        let mut all: Vec<Neighbour> = self
            .stations
            .iter()
            .enumerate()
            .map(|(station, s)| Neighbour {
                station,
                km: haversine_km(lat, lon, s.lat, s.lon),
            })
            .collect();
        let k = NEIGHBOURS.min(all.len());
        if k < all.len() {
            all.select_nth_unstable_by(k, |a, b| a.km.total_cmp(&b.km));
        }
        all.truncate(k);
        all.sort_by(|a, b| a.km.total_cmp(&b.km));
        self.predict_with(lat, lon, &all)
    }

    fn predict_with(&self, lat: f64, lon: f64, nbrs: &[Neighbour]) -> MonthlyClimate {
        let f = Features::new(lat, lon, &self.stations, &self.zonal, nbrs);
        let temp_c = std::array::from_fn(|m| f.base[m] + self.forest.predict(&f.rows[m]));
        let nearest = &self.stations[nbrs[0].station];
        MonthlyClimate {
            temp_c,
            annual_rain_mm: f.idw_rain,
            annual_sunshine_h: f.idw_sun,
            nearest_station: format!("{}, {}", nearest.city, nearest.country_code),
            nearest_km: nbrs[0].km,
        }
    }

    /// The forest parameters this model was trained with.
    pub fn params(&self) -> &ForestParams {
        &self.params
    }

    /// Whether this model was trained now or read from the cache.
    pub fn origin(&self) -> ModelOrigin {
        self.origin
    }

    /// The cache key (hex SHA-256 of model version, stations and parameters).
    pub fn cache_key(&self) -> &str {
        &self.key
    }
}

fn check_enough(found: usize) -> Result<(), WeatherError> {
    // Leave-one-out needs NEIGHBOURS others even after removing the held-out city and itself.
    let needed = NEIGHBOURS + 2;
    if found < needed {
        return Err(WeatherError::TooFewStations { found, needed });
    }
    Ok(())
}

fn cache_key(normals: &ClimateNormals, params: &ForestParams) -> String {
    let mut hash = Sha256::new();
    hash.update(MODEL_VERSION.to_le_bytes());
    for s in &normals.stations {
        hash.update(s.city.as_bytes());
        hash.update([0]);
        hash.update(s.country_code.as_bytes());
        for v in [s.lat, s.lon, s.annual_rain_mm, s.annual_sunshine_h]
            .iter()
            .chain(&s.monthly_temp_c)
        {
            hash.update(v.to_le_bytes());
        }
    }
    // serde_json of plain numbers and options cannot fail; an empty string would still give
    // a key, just one that no params collide on.
    hash.update(serde_json::to_vec(params).unwrap_or_default());
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

fn bincode_config() -> impl bincode::config::Config {
    bincode::config::standard().with_limit::<CACHE_LIMIT_BYTES>()
}

/// The cached model, or why it cannot be used (for the log line).
fn read_cache(path: &Path) -> Result<WeatherModel, String> {
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    bincode::serde::decode_from_slice::<WeatherModel, _>(&bytes, bincode_config())
        .map(|(model, _)| model)
        .map_err(|e| format!("unreadable cache: {e}"))
}

fn write_cache(path: &Path, model: &WeatherModel) -> Result<(), WeatherError> {
    let err = |source: std::io::Error| WeatherError::CacheWrite {
        path: path.to_path_buf(),
        source,
    };
    let bytes = bincode::serde::encode_to_vec(model, bincode_config())
        .map_err(|e| err(std::io::Error::other(e.to_string())))?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir).map_err(err)?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(err)?;
    tmp.write_all(&bytes).map_err(err)?;
    tmp.as_file().sync_all().map_err(err)?;
    tmp.persist(path).map_err(|e| err(e.error))?;
    Ok(())
}

/// A station near a location.
#[derive(Debug, Clone, Copy)]
struct Neighbour {
    station: usize,
    km: f64,
}

/// For every station, all other stations sorted by distance (computed once; leave-one-out
/// then only skips entries).
struct NeighbourTable {
    sorted: Vec<Vec<Neighbour>>,
}

impl NeighbourTable {
    fn new(stations: &[Station]) -> Self {
        let sorted = stations
            .iter()
            .enumerate()
            .map(|(i, a)| {
                let mut v: Vec<Neighbour> = stations
                    .iter()
                    .enumerate()
                    .filter(|&(j, _)| j != i)
                    .map(|(j, b)| Neighbour {
                        station: j,
                        km: haversine_km(a.lat, a.lon, b.lat, b.lon),
                    })
                    .collect();
                v.sort_by(|x, y| x.km.total_cmp(&y.km).then(x.station.cmp(&y.station)));
                v
            })
            .collect();
        Self { sorted }
    }

    /// The nearest [`NEIGHBOURS`] of station `i` other than itself and `excluded`.
    fn nearest(&self, i: usize, excluded: Option<usize>) -> Vec<Neighbour> {
        self.sorted[i]
            .iter()
            .filter(|n| Some(n.station) != excluded)
            .take(NEIGHBOURS)
            .copied()
            .collect()
    }
}

/// The zonal climatology: for each month of the local season, mean temperature as a quadratic
/// in |latitude|, fitted by least squares to the training stations.
///
/// Neighbours are compared through their *anomaly* from it: a station 3° further poleward is
/// not taken at face value but shifted by how much warmer the zonal mean is 3° closer to the
/// equator in that season. This is the standard way climatologists interpolate between sparse
/// stations, and it halves the cost of uneven neighbours (see `docs/weather.md`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Zonal {
    /// `coef[j]` for season month `j` (0 = January in the north, July in the south):
    /// T ≈ c0 + c1·x + c2·x² with x = |lat| / 60.
    coef: [[f64; 3]; 12],
}

impl Zonal {
    fn fit(stations: &[Station], train: &[usize]) -> Self {
        let coef = std::array::from_fn(|j| {
            // Normal equations of the least-squares quadratic, as an augmented 3×4 matrix.
            let mut a = [[0.0; 4]; 3];
            for &i in train {
                let s = &stations[i];
                let x = s.lat.abs() / 60.0;
                let t = s.monthly_temp_c[calendar_month(j, s.lat)];
                let p = [1.0, x, x * x];
                for r in 0..3 {
                    for c in 0..3 {
                        a[r][c] += p[r] * p[c];
                    }
                    a[r][3] += p[r] * t;
                }
            }
            solve3(a)
        });
        Self { coef }
    }

    /// Zonal mean temperature in calendar month `m` (0-based) at latitude `lat`.
    fn at(&self, m: usize, lat: f64) -> f64 {
        let [c0, c1, c2] = self.coef[calendar_month(m, lat)];
        let x = lat.abs() / 60.0;
        c0 + c1 * x + c2 * x * x
    }
}

/// Calendar month ↔ season month: the same six-month shift both ways in the south.
fn calendar_month(m: usize, lat: f64) -> usize {
    if lat < 0.0 { (m + 6) % 12 } else { m }
}

/// Solve a 3×3 linear system given as an augmented matrix (Gauss–Jordan with partial
/// pivoting). A degenerate system (all training stations at one latitude) falls back to the
/// constant term alone: the mean.
fn solve3(mut a: [[f64; 4]; 3]) -> [f64; 3] {
    // Row 0 starts as [n, Σx, Σx², Σt]: the fallback is Σt / n.
    let (n, mean) = (
        a[0][0],
        if a[0][0] > 0.0 {
            a[0][3] / a[0][0]
        } else {
            0.0
        },
    );
    for col in 0..3 {
        let pivot = (col..3)
            .max_by(|&r, &q| a[r][col].abs().total_cmp(&a[q][col].abs()))
            .unwrap_or(col);
        a.swap(col, pivot);
        if a[col][col].abs() <= 1e-9 * n.max(1.0) {
            return [mean, 0.0, 0.0];
        }
        let pivot_row = a[col];
        for (r, row) in a.iter_mut().enumerate() {
            if r != col {
                let f = row[col] / pivot_row[col];
                for (x, p) in row.iter_mut().zip(pivot_row).skip(col) {
                    *x -= f * p;
                }
            }
        }
    }
    std::array::from_fn(|r| a[r][3] / a[r][r])
}

/// Features of one location for all 12 months, and the base the forest corrects.
struct Features {
    /// Zonal mean here plus the IDW mean of the neighbours' anomalies; prediction = base +
    /// forest.
    base: [f64; 12],
    rows: [Vec<f64>; 12],
    idw_rain: f64,
    idw_sun: f64,
}

impl Features {
    /// `nbrs` must be non-empty and sorted nearest first.
    fn new(lat: f64, lon: f64, stations: &[Station], zonal: &Zonal, nbrs: &[Neighbour]) -> Self {
        let weights: Vec<f64> = nbrs
            .iter()
            .map(|n| 1.0 / n.km.max(MIN_IDW_KM).powi(2))
            .collect();
        let total: f64 = weights.iter().sum();
        let idw = |value: &dyn Fn(&Station) -> f64| {
            nbrs.iter()
                .zip(&weights)
                .map(|(n, w)| w * value(&stations[n.station]))
                .sum::<f64>()
                / total
        };
        let raw: [f64; 12] = std::array::from_fn(|m| idw(&|s| s.monthly_temp_c[m]));
        let base: [f64; 12] = std::array::from_fn(|m| {
            zonal.at(m, lat) + idw(&|s| s.monthly_temp_c[m] - zonal.at(m, s.lat))
        });
        let idw_rain = idw(&|s| s.annual_rain_mm);
        let idw_sun = idw(&|s| s.annual_sunshine_h);
        let idw_abs_lat = idw(&|s| s.lat.abs());
        let nearest = &stations[nbrs[0].station];
        let (lo, hi) = base
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &t| {
                (lo.min(t), hi.max(t))
            });
        let annual = base.iter().sum::<f64>() / 12.0;
        // Month phase with 0 = mid-July in the north and mid-January in the south, so "summer"
        // means the same thing in both hemispheres.
        let shift = if lat < 0.0 { 0.0 } else { 6.0 };
        let rows = std::array::from_fn(|m| {
            let phase = 2.0 * PI * (m as f64 - shift) / 12.0;
            vec![
                lat,
                lon,
                lat.abs(),
                phase.cos(),
                phase.sin(),
                base[m],
                raw[m],
                nearest.monthly_temp_c[m],
                nbrs[0].km,
                lat.abs() - nearest.lat.abs(),
                lat.abs() - idw_abs_lat,
                idw_rain,
                idw_sun,
                annual,
                hi - lo,
            ]
        });
        Self {
            base,
            rows,
            idw_rain,
            idw_sun,
        }
    }
}

/// Fit the zonal climatology and the forest on the `train` stations; with `held_out`, that
/// station is also removed from every neighbour list (leave-one-out).
fn fit(
    stations: &[Station],
    table: &NeighbourTable,
    train: &[usize],
    held_out: Option<usize>,
    params: &ForestParams,
) -> Result<(Zonal, Forest), WeatherError> {
    let zonal = Zonal::fit(stations, train);
    let mut x = Vec::with_capacity(train.len() * 12);
    let mut y = Vec::with_capacity(train.len() * 12);
    for &i in train {
        let s = &stations[i];
        let f = Features::new(s.lat, s.lon, stations, &zonal, &table.nearest(i, held_out));
        for (m, row) in f.rows.into_iter().enumerate() {
            x.push(row);
            y.push(s.monthly_temp_c[m] - f.base[m]);
        }
    }
    let forest = Forest::fit(&x, &y, params)?;
    Ok((zonal, forest))
}

/// Sunrise-to-sunset hours at latitude `lat` on the 15th of `month` (1..=12).
///
/// Solar declination from Spencer's (1971) Fourier series; the sun counts as up while its
/// centre is above −0.833° (refraction plus the solar radius, the convention of almanacs).
/// Gives 0 in polar night and 24 in midnight sun.
pub fn daylight_hours(lat: f64, month: u8) -> f64 {
    const MID_MONTH_DAY: [f64; 12] = [
        15.0, 46.0, 74.0, 105.0, 135.0, 166.0, 196.0, 227.0, 258.0, 288.0, 319.0, 349.0,
    ];
    let day = MID_MONTH_DAY[usize::from(month.clamp(1, 12) - 1)];
    let g = 2.0 * PI * (day - 1.0) / 365.0;
    let decl = 0.006918 - 0.399912 * g.cos() + 0.070257 * g.sin() - 0.006758 * (2.0 * g).cos()
        + 0.000907 * (2.0 * g).sin()
        - 0.002697 * (3.0 * g).cos()
        + 0.00148 * (3.0 * g).sin();
    let phi = lat.clamp(-90.0, 90.0).to_radians();
    let cos_h =
        ((-0.833f64).to_radians().sin() - phi.sin() * decl.sin()) / (phi.cos() * decl.cos());
    24.0 / PI * cos_h.clamp(-1.0, 1.0).acos()
}

/// Temperature comfort 0..=1 of a monthly mean: 1 from 21 to 23 °C, falling linearly to 0 at
/// −10 °C and at 38 °C (heat is less pleasant sooner than cold, which clothing fixes).
pub fn temperature_comfort(mean_c: f64) -> f64 {
    if mean_c < 21.0 {
        (1.0 - (21.0 - mean_c) / 31.0).max(0.0)
    } else if mean_c > 23.0 {
        (1.0 - (mean_c - 23.0) / 15.0).max(0.0)
    } else {
        1.0
    }
}

/// Daylight factor 0.5..=1: dark months halve the score, 12 h or more of daylight counts fully.
pub fn daylight_factor(hours: f64) -> f64 {
    0.5 + 0.5 * ((hours - 6.0) / 6.0).clamp(0.0, 1.0)
}

/// Climate-wide modifier 0.765..=1 from annual sunshine (0.85 at ≤ 1200 h up to 1 at ≥ 2800 h)
/// and annual rain (1 at ≤ 1000 mm down to 0.9 at ≥ 2500 mm). Same for every month: there is
/// no monthly rain offline, so it compares destinations, not months.
pub fn climate_modifier(annual_rain_mm: f64, annual_sunshine_h: f64) -> f64 {
    let sun = 0.85 + 0.15 * ((annual_sunshine_h - 1200.0) / 1600.0).clamp(0.0, 1.0);
    let rain = 1.0 - 0.10 * ((annual_rain_mm - 1000.0) / 1500.0).clamp(0.0, 1.0);
    sun * rain
}

/// Comfort score 0..=100 of one month (rounded to 0.1):
/// `100 × temperature_comfort × daylight_factor × climate_modifier`.
pub fn comfort_score(mean_c: f64, daylight_h: f64, modifier: f64) -> f64 {
    let raw = 100.0 * temperature_comfort(mean_c) * daylight_factor(daylight_h) * modifier;
    (raw * 10.0).round() / 10.0
}

/// All 12 months scored and sorted best first (ties: earlier month first), each with a
/// one-line reason such as "mean 17 °C, mild, 18 h daylight".
pub fn rank_months(climate: &MonthlyClimate, lat: f64) -> Vec<MonthScore> {
    let modifier = climate_modifier(climate.annual_rain_mm, climate.annual_sunshine_h);
    let mut months: Vec<MonthScore> = (1..=12u8)
        .map(|month| {
            let t = climate.temp_c[usize::from(month - 1)];
            let daylight = daylight_hours(lat, month);
            MonthScore {
                month,
                name: month_name(month).to_string(),
                score: comfort_score(t, daylight, modifier),
                reason: reason(t, daylight),
                mean_temp_c: (t * 10.0).round() / 10.0,
            }
        })
        .collect();
    months.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.month.cmp(&b.month)));
    months
}

fn reason(mean_c: f64, daylight_h: f64) -> String {
    // Classify the rounded value that is shown, so "19 °C" always reads "warm".
    let shown = mean_c.round();
    let feel = match shown {
        t if t < 0.0 => "freezing",
        t if t < 8.0 => "cold",
        t if t < 14.0 => "cool",
        t if t < 19.0 => "mild",
        t if t < 25.0 => "warm",
        t if t < 29.0 => "hot",
        _ => "very hot",
    };
    // A typographic minus, and no "−0".
    let temp = if shown < 0.0 {
        format!("−{}", -shown)
    } else {
        format!("{}", shown.abs())
    };
    let light = match daylight_h {
        h if h < 0.5 => "polar night".to_string(),
        h if h > 23.5 => "midnight sun".to_string(),
        h => format!("{} h daylight", h.round()),
    };
    format!("mean {temp} °C, {feel}, {light}")
}

/// What the weather agent says about a destination.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WeatherReport {
    /// All 12 months, best first.
    pub months: Vec<MonthScore>,
    /// The predicted climate behind the scores.
    pub climate: MonthlyClimate,
}

/// The WeatherAnalysisAgent: ranks the months of a destination by comfort.
#[derive(Debug, Clone)]
pub struct WeatherAgent {
    model: WeatherModel,
}

impl WeatherAgent {
    /// An agent over a trained (or cached) model.
    pub fn new(model: WeatherModel) -> Self {
        Self { model }
    }

    /// Load the climate normals from `climate_dir` and the model from `cache_path`, training
    /// it with [`ForestParams::default`] (and writing the cache) when the cache is missing or
    /// stale.
    pub fn load(climate_dir: &Path, cache_path: &Path) -> Result<Self, WeatherError> {
        let normals = ClimateNormals::load(climate_dir)?;
        let model = WeatherModel::load_or_train(cache_path, &normals, &ForestParams::default())?;
        Ok(Self::new(model))
    }

    /// Predict the climate at a location and rank its months. Pure computation, tens of
    /// microseconds: safe to call per plan. See [`WeatherModel::predict`] for valid input.
    #[tracing::instrument(skip_all, fields(lat, lon))]
    pub fn analyze(&self, lat: f64, lon: f64) -> WeatherReport {
        let climate = self.model.predict(lat, lon);
        WeatherReport {
            months: rank_months(&climate, lat),
            climate,
        }
    }

    /// The model behind the agent.
    pub fn model(&self) -> &WeatherModel {
        &self.model
    }
}

/// Result of a leave-one-city-out evaluation of monthly temperature predictions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// Cities held out (one refit each).
    pub cities: usize,
    /// Predictions compared (cities × 12 months).
    pub rows: usize,
    /// Mean absolute error of the model (°C).
    pub forest_mae_c: f64,
    /// Mean absolute error of the baseline (°C).
    pub baseline_mae_c: f64,
    /// Mean absolute error of the forest's base alone (zonal mean + IDW of the neighbours'
    /// anomalies), i.e. of the model without its forest (°C).
    pub base_mae_c: f64,
    /// The baseline: "nearest station" (its monthly means, as they are).
    pub baseline: String,
    /// How the evaluation was done, in words.
    pub method: String,
    /// The forest parameters evaluated.
    pub params: ForestParams,
    /// Wall-clock time (s).
    pub seconds: f64,
}

/// Leave-one-city-out over every station: for each city, train on all others (their neighbour
/// features computed without it too), predict its 12 monthly means, and compare with the
/// nearest other station's.
pub fn evaluate(
    normals: &ClimateNormals,
    params: &ForestParams,
) -> Result<Evaluation, WeatherError> {
    let all: Vec<usize> = (0..normals.stations.len()).collect();
    evaluate_cities(normals, params, &all)
}

/// [`evaluate`] with [`ForestParams::default`] on the normals in `climate_dir` (what
/// `tripwright weather evaluate` runs).
pub fn evaluate_dir(climate_dir: &Path) -> Result<Evaluation, WeatherError> {
    evaluate(
        &ClimateNormals::load(climate_dir)?,
        &ForestParams::default(),
    )
}

/// [`evaluate`] holding out only the stations at the given indices (each still trained on all
/// other stations); for quick checks.
pub fn evaluate_cities(
    normals: &ClimateNormals,
    params: &ForestParams,
    cities: &[usize],
) -> Result<Evaluation, WeatherError> {
    let start = Instant::now();
    let stations = &normals.stations;
    check_enough(stations.len())?;
    if let Some(&index) = cities.iter().find(|&&i| i >= stations.len()) {
        return Err(WeatherError::NoSuchStation {
            index,
            stations: stations.len(),
        });
    }
    let table = NeighbourTable::new(stations);
    let model = |(zonal, forest): (Zonal, Forest)| WeatherModel {
        stations: stations.clone(),
        zonal,
        forest,
        params: params.clone(),
        key: String::new(),
        origin: ModelOrigin::Trained,
    };
    // Per city: (forest, baseline, IDW) absolute error summed over its 12 months.
    let errors = cities
        .par_iter()
        .map(|&h| {
            let train: Vec<usize> = (0..stations.len()).filter(|&i| i != h).collect();
            let model = model(fit(stations, &table, &train, Some(h), params)?);
            let s = &stations[h];
            let nbrs = table.nearest(h, None);
            let predicted = model.predict_with(s.lat, s.lon, &nbrs);
            let base = Features::new(s.lat, s.lon, stations, &model.zonal, &nbrs).base;
            let nearest = &stations[nbrs[0].station].monthly_temp_c;
            let mut e = [0.0; 3];
            for m in 0..12 {
                let truth = s.monthly_temp_c[m];
                e[0] += (predicted.temp_c[m] - truth).abs();
                e[1] += (nearest[m] - truth).abs();
                e[2] += (base[m] - truth).abs();
            }
            Ok(e)
        })
        .collect::<Result<Vec<[f64; 3]>, WeatherError>>()?;
    let rows = cities.len() * 12;
    let mae = |k: usize| errors.iter().map(|e| e[k]).sum::<f64>() / rows as f64;
    Ok(Evaluation {
        cities: cities.len(),
        rows,
        forest_mae_c: mae(0),
        baseline_mae_c: mae(1),
        base_mae_c: mae(2),
        baseline: "nearest station".to_string(),
        method: format!(
            "leave-one-city-out over {} of {} stations: random forest correcting the zonal mean \
             plus the inverse-distance-weighted anomaly of the {NEIGHBOURS} nearest other \
             stations; zonal fit, neighbour features and forest refitted per held-out city \
             without it",
            cities.len(),
            stations.len()
        ),
        params: params.clone(),
        seconds: start.elapsed().as_secs_f64(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn daylight_matches_almanac_values() {
        // Helsinki: ~5 h 50 min at mid-December, ~18 h 50 min at mid-June.
        let dec = daylight_hours(60.17, 12);
        assert!((dec - 5.9).abs() < 0.2, "{dec}");
        let jun = daylight_hours(60.17, 6);
        assert!((jun - 18.8).abs() < 0.3, "{jun}");
        // The equator is ~12 h 7 min all year (refraction adds a few minutes).
        for m in 1..=12 {
            let h = daylight_hours(0.0, m);
            assert!((h - 12.1).abs() < 0.1, "{m}: {h}");
        }
        // Hemispheres mirror; polar night and midnight sun saturate.
        assert!((daylight_hours(-33.87, 1) - daylight_hours(33.87, 7)).abs() < 0.3);
        assert_eq!(daylight_hours(80.0, 12), 0.0);
        assert_eq!(daylight_hours(80.0, 6), 24.0);
    }

    #[test]
    fn comfort_peaks_at_21_to_23_and_falls_off() {
        assert_eq!(temperature_comfort(22.0), 1.0);
        assert!(temperature_comfort(17.0) > temperature_comfort(10.0));
        assert!(temperature_comfort(28.0) > temperature_comfort(33.0));
        assert_eq!(temperature_comfort(-15.0), 0.0);
        assert_eq!(temperature_comfort(40.0), 0.0);
        assert_eq!(comfort_score(22.0, 14.0, 1.0), 100.0);
        assert_eq!(comfort_score(22.0, 4.0, 1.0), 50.0);
        let m = climate_modifier(3000.0, 1000.0);
        assert!((m - 0.85 * 0.9).abs() < 1e-12, "{m}");
        assert_eq!(climate_modifier(500.0, 3000.0), 1.0);
    }

    #[test]
    fn least_squares_quadratic_is_exact_on_a_parabola_and_falls_back_to_the_mean() {
        let fit = |points: &[(f64, f64)]| {
            let mut a = [[0.0; 4]; 3];
            for &(x, t) in points {
                let p = [1.0, x, x * x];
                for r in 0..3 {
                    for c in 0..3 {
                        a[r][c] += p[r] * p[c];
                    }
                    a[r][3] += p[r] * t;
                }
            }
            solve3(a)
        };
        let parabola: Vec<(f64, f64)> = (0..10)
            .map(|i| {
                let x = f64::from(i) / 8.0;
                (x, 27.0 - 3.0 * x - 20.0 * x * x)
            })
            .collect();
        let c = fit(&parabola);
        for (got, want) in c.iter().zip([27.0, -3.0, -20.0]) {
            assert!((got - want).abs() < 1e-9, "{c:?}");
        }
        // Every station at one latitude: only the mean is identifiable.
        assert_eq!(fit(&[(0.5, 10.0), (0.5, 14.0)]), [12.0, 0.0, 0.0]);
        assert_eq!(fit(&[]), [0.0, 0.0, 0.0]);
    }

    #[test]
    fn reasons_read_well() {
        assert_eq!(reason(17.2, 18.4), "mean 17 °C, mild, 18 h daylight");
        assert_eq!(reason(-5.2, 6.1), "mean −5 °C, freezing, 6 h daylight");
        assert_eq!(reason(-0.3, 0.0), "mean 0 °C, cold, polar night");
        assert_eq!(reason(-0.6, 0.0), "mean −1 °C, freezing, polar night");
        assert_eq!(reason(30.0, 24.0), "mean 30 °C, very hot, midnight sun");
        assert_eq!(reason(18.6, 12.0), "mean 19 °C, warm, 12 h daylight");
    }
}
