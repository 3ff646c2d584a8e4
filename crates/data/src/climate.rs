//! Climate normals for the weather agent: monthly mean temperature, annual rainfall and annual
//! sunshine for ~270 travel cities (GeoRank CSVs built from CHELSA v2.1 1981–2010, GHCN-M and
//! ERA5/WMO; CC-BY-4.0).
//!
//! Three files are joined on city + country code:
//! `world-temperature.csv` (`jan_c` … `dec_c`), `world-rainfall.csv` (`annual_mm`) and
//! `sunshine-hours.csv` (`annual_hours`). Every station must appear in all three files with the
//! same coordinates; anything else is an error that names the file and line, because a silently
//! dropped or mismatched city would skew the weather model without anyone noticing.
//!
//! The shipped temperature file repeats one city (Guadalajara, MX) verbatim. Exact repeats are
//! dropped (and listed in [`ClimateNormals::dropped_duplicates`]) rather than kept: a city that
//! appears twice would be its own nearest neighbour at 0 km and make leave-one-city-out
//! evaluation look better than it is. Repeats that disagree are an error.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// File with the monthly mean temperatures (the station list).
pub const TEMPERATURE_FILE: &str = "world-temperature.csv";
/// File with annual precipitation.
pub const RAINFALL_FILE: &str = "world-rainfall.csv";
/// File with annual sunshine hours.
pub const SUNSHINE_FILE: &str = "sunshine-hours.csv";

/// Month column names of the temperature file, January first.
const MONTH_COLUMNS: [&str; 12] = [
    "jan_c", "feb_c", "mar_c", "apr_c", "may_c", "jun_c", "jul_c", "aug_c", "sep_c", "oct_c",
    "nov_c", "dec_c",
];

/// How far the coordinates of one city may differ between the three files (degrees). The
/// shipped files agree exactly; a larger gap means two different places share a name.
const COORD_TOLERANCE_DEG: f64 = 0.05;

/// Errors while loading the climate CSVs. Each names the file (and line) to fix.
#[derive(Debug, thiserror::Error)]
pub enum ClimateError {
    /// A file could not be opened or read.
    #[error("cannot read climate file {path}: {source} (run scripts/fetch_assets.sh)")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The CSV itself is malformed (e.g. a row with the wrong number of fields).
    #[error("{path} line {line}: malformed CSV: {source}")]
    Csv {
        /// The file.
        path: PathBuf,
        /// 1-based line number (0 when unknown).
        line: u64,
        /// The CSV error.
        source: csv::Error,
    },
    /// A required column is missing from the header.
    #[error("{path}: missing column `{column}` in the header")]
    MissingColumn {
        /// The file.
        path: PathBuf,
        /// The column name.
        column: String,
    },
    /// A value is missing, not a number, or out of range.
    #[error("{path} line {line}: column `{column}`: {problem}")]
    BadValue {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: u64,
        /// The column name.
        column: String,
        /// What is wrong with the value.
        problem: String,
    },
    /// The same city appears twice with different values.
    #[error(
        "{path} line {line}: {city} ({country}) already appears on line {first_line} with different values"
    )]
    ConflictingDuplicate {
        /// The file.
        path: PathBuf,
        /// Line of the repeat.
        line: u64,
        /// Line of the first occurrence.
        first_line: u64,
        /// City name.
        city: String,
        /// ISO 3166-1 alpha-2 country code.
        country: String,
    },
    /// A city of the temperature file has no row in another file, or the other way round.
    #[error("{city} ({country}) from {found_in} line {line} has no row in {missing_from}")]
    Unjoined {
        /// City name.
        city: String,
        /// Country code.
        country: String,
        /// File where the city was found.
        found_in: String,
        /// Line in that file.
        line: u64,
        /// File that lacks it.
        missing_from: String,
    },
    /// The same city has different coordinates in two files.
    #[error(
        "{city} ({country}): {file} line {line} places it at {lat}, {lon}, but {TEMPERATURE_FILE} at {ref_lat}, {ref_lon}"
    )]
    CoordinateMismatch {
        /// City name.
        city: String,
        /// Country code.
        country: String,
        /// The file that disagrees with the temperature file.
        file: String,
        /// Line in that file.
        line: u64,
        /// Its latitude.
        lat: f64,
        /// Its longitude.
        lon: f64,
        /// Latitude in the temperature file.
        ref_lat: f64,
        /// Longitude in the temperature file.
        ref_lon: f64,
    },
    /// The temperature file has no data rows.
    #[error("{path} has no stations")]
    Empty {
        /// The file.
        path: PathBuf,
    },
}

/// One city with its climate normals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Station {
    /// City name as in the files (e.g. "Helsinki").
    pub city: String,
    /// ISO 3166-1 alpha-2 country code (e.g. "FI").
    pub country_code: String,
    /// Latitude, decimal degrees.
    pub lat: f64,
    /// Longitude, decimal degrees.
    pub lon: f64,
    /// Mean temperature per month (°C), January first.
    pub monthly_temp_c: [f64; 12],
    /// Mean annual precipitation (mm).
    pub annual_rain_mm: f64,
    /// Mean annual sunshine duration (hours).
    pub annual_sunshine_h: f64,
}

/// All stations, in the order of the temperature file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClimateNormals {
    /// Stations with all three kinds of data.
    pub stations: Vec<Station>,
    /// Exact repeats that were skipped (in any of the three files), e.g. "Guadalajara (MX):
    /// world-temperature.csv line 241 repeats line 159".
    pub dropped_duplicates: Vec<String>,
}

impl ClimateNormals {
    /// Load and join the three CSVs in `climate_dir`.
    pub fn load(climate_dir: &Path) -> Result<ClimateNormals, ClimateError> {
        let temp_path = climate_dir.join(TEMPERATURE_FILE);
        let mut columns = vec!["city", "country_iso2", "lat", "lon"];
        columns.extend(MONTH_COLUMNS);
        let temps = read_table(&temp_path, &columns)?;
        let rain = read_table(
            &climate_dir.join(RAINFALL_FILE),
            &["city", "country_iso2", "lat", "lon", "annual_mm"],
        )?;
        let sun = read_table(
            &climate_dir.join(SUNSHINE_FILE),
            &["city", "country_iso2", "lat", "lon", "annual_hours"],
        )?;
        if temps.rows.is_empty() {
            return Err(ClimateError::Empty { path: temp_path });
        }
        check_all_joined(&rain, &temps)?;
        check_all_joined(&sun, &temps)?;

        let mut stations = Vec::with_capacity(temps.rows.len());
        for row in &temps.rows {
            let mut monthly_temp_c = [0.0; 12];
            for (m, t) in monthly_temp_c.iter_mut().enumerate() {
                *t = row.values[4 + m];
            }
            let annual_rain_mm = joined_value(row, &rain, &temps)?;
            let annual_sunshine_h = joined_value(row, &sun, &temps)?;
            stations.push(Station {
                city: row.city.clone(),
                country_code: row.country.clone(),
                lat: row.values[2],
                lon: row.values[3],
                monthly_temp_c,
                annual_rain_mm,
                annual_sunshine_h,
            });
        }
        let mut dropped_duplicates = temps.dropped;
        dropped_duplicates.extend(rain.dropped);
        dropped_duplicates.extend(sun.dropped);
        Ok(ClimateNormals {
            stations,
            dropped_duplicates,
        })
    }
}

/// One parsed data row: the key, the numeric columns (in the requested order; the first two
/// slots, city and country, are unused), and its line.
struct Row {
    city: String,
    country: String,
    values: Vec<f64>,
    line: u64,
}

/// A parsed file: rows in file order, an index by (city, country), exact repeats dropped.
struct Table {
    file: String,
    rows: Vec<Row>,
    index: HashMap<(String, String), usize>,
    dropped: Vec<String>,
}

fn read_table(path: &Path, columns: &[&str]) -> Result<Table, ClimateError> {
    let file = std::fs::File::open(path).map_err(|source| ClimateError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let csv_err = |source: csv::Error| ClimateError::Csv {
        path: path.to_path_buf(),
        line: source.position().map_or(0, line_of),
        source,
    };
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(file);
    let header = reader.headers().map_err(csv_err)?.clone();
    let positions = columns
        .iter()
        .map(|name| {
            header
                .iter()
                .position(|h| h == *name)
                .ok_or_else(|| ClimateError::MissingColumn {
                    path: path.to_path_buf(),
                    column: (*name).to_string(),
                })
        })
        .collect::<Result<Vec<_>, _>>()?;

    let mut table = Table {
        file: file_name(path),
        rows: Vec::new(),
        index: HashMap::new(),
        dropped: Vec::new(),
    };
    for record in reader.records() {
        let record = record.map_err(csv_err)?;
        let line = record.position().map_or(0, line_of);
        let bad = |column: &str, problem: String| ClimateError::BadValue {
            path: path.to_path_buf(),
            line,
            column: column.to_string(),
            problem,
        };
        let text = |i: usize| record.get(positions[i]).unwrap_or("");
        let (city, country) = (text(0).to_string(), text(1).to_string());
        if city.is_empty() {
            return Err(bad("city", "empty city name".into()));
        }
        if country.len() != 2 {
            return Err(bad(
                "country_iso2",
                format!("`{country}` is not a two-letter country code"),
            ));
        }
        let mut values = vec![f64::NAN, f64::NAN];
        for (i, name) in columns.iter().enumerate().skip(2) {
            let raw = text(i);
            let v: f64 = raw
                .parse()
                .ok()
                .filter(|v: &f64| v.is_finite())
                .ok_or_else(|| bad(name, format!("`{raw}` is not a number")))?;
            let (lo, hi) = valid_range(name);
            if !(lo..=hi).contains(&v) {
                return Err(bad(name, format!("{v} is outside {lo}..={hi}")));
            }
            values.push(v);
        }
        let key = (city.clone(), country.clone());
        if let Some(&first) = table.index.get(&key) {
            let first = &table.rows[first];
            if first.values[2..] != values[2..] {
                return Err(ClimateError::ConflictingDuplicate {
                    path: path.to_path_buf(),
                    line,
                    first_line: first.line,
                    city,
                    country,
                });
            }
            table.dropped.push(format!(
                "{city} ({country}): {} line {line} repeats line {}",
                table.file, first.line
            ));
            // A known quirk of the shipped files (Guadalajara is listed twice, identically):
            // not worth a warning at every start, kept in `dropped_duplicates`.
            tracing::debug!(city, country, line, file = %table.file, "skipping repeated climate row");
            continue;
        }
        table.index.insert(key, table.rows.len());
        table.rows.push(Row {
            city,
            country,
            values,
            line,
        });
    }
    Ok(table)
}

/// Plausible range per column: wide enough for any place on Earth, narrow enough to catch a
/// Fahrenheit column, a swapped lat/lon or a value in the wrong unit.
fn valid_range(column: &str) -> (f64, f64) {
    match column {
        "lat" => (-90.0, 90.0),
        "lon" => (-180.0, 180.0),
        "annual_mm" => (0.0, 15_000.0),
        "annual_hours" => (0.0, 4_500.0),
        _ => (-70.0, 50.0), // monthly mean temperature, °C
    }
}

/// Every row of `other` must name a station of the temperature file.
fn check_all_joined(other: &Table, temps: &Table) -> Result<(), ClimateError> {
    match other.rows.iter().find(|r| {
        !temps
            .index
            .contains_key(&(r.city.clone(), r.country.clone()))
    }) {
        Some(r) => Err(ClimateError::Unjoined {
            city: r.city.clone(),
            country: r.country.clone(),
            found_in: other.file.clone(),
            line: r.line,
            missing_from: temps.file.clone(),
        }),
        None => Ok(()),
    }
}

/// The value column (the fifth) of `other` for the temperature row `row`, after checking that
/// both files put the city in the same place.
fn joined_value(row: &Row, other: &Table, temps: &Table) -> Result<f64, ClimateError> {
    let Some(&i) = other.index.get(&(row.city.clone(), row.country.clone())) else {
        return Err(ClimateError::Unjoined {
            city: row.city.clone(),
            country: row.country.clone(),
            found_in: temps.file.clone(),
            line: row.line,
            missing_from: other.file.clone(),
        });
    };
    let o = &other.rows[i];
    let (lat, lon) = (o.values[2], o.values[3]);
    let (ref_lat, ref_lon) = (row.values[2], row.values[3]);
    if (lat - ref_lat).abs() > COORD_TOLERANCE_DEG || (lon - ref_lon).abs() > COORD_TOLERANCE_DEG {
        return Err(ClimateError::CoordinateMismatch {
            city: row.city.clone(),
            country: row.country.clone(),
            file: other.file.clone(),
            line: o.line,
            lat,
            lon,
            ref_lat,
            ref_lon,
        });
    }
    Ok(o.values[4])
}

/// 1-based file line of a record. The csv crate's own `Position::line` lags by one depending
/// on how its buffer was filled, so count records instead: the files have one record per line
/// and a header on line 1, so record N (the header being record 0) is on line N + 1.
fn line_of(position: &csv::Position) -> u64 {
    position.record() + 1
}

fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEMP_HEADER: &str = "city,country_iso2,lat,lon,jan_c,feb_c,mar_c,apr_c,may_c,jun_c,jul_c,aug_c,sep_c,oct_c,nov_c,dec_c,annual_c,warmest_month,coldest_month,source";
    const HELSINKI_TEMP: &str = "Helsinki,FI,60.17,24.94,-4.5,-5.5,-2.1,3.2,9.0,13.2,17.4,16.2,11.5,6.5,1.5,-2.2,5.3,jul,feb,x";
    const LISBON_TEMP: &str = "Lisbon,PT,38.72,-9.14,11.4,12.0,13.8,14.7,16.7,19.6,21.2,21.7,20.6,17.9,14.6,12.4,16.3,aug,jan,x";

    fn write_dir(temp: &[&str], rain: &[&str], sun: &[&str]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("tempdir");
        let write = |name: &str, header: &str, rows: &[&str]| {
            let body = std::iter::once(header)
                .chain(rows.iter().copied())
                .collect::<Vec<_>>()
                .join("\n");
            std::fs::write(dir.path().join(name), body + "\n").expect("write");
        };
        write(TEMPERATURE_FILE, TEMP_HEADER, temp);
        write(
            RAINFALL_FILE,
            "city,country_iso2,lat,lon,annual_mm,source",
            rain,
        );
        write(
            SUNSHINE_FILE,
            "city,country_iso2,lat,lon,annual_hours,calibrated,source",
            sun,
        );
        dir
    }

    #[test]
    fn joins_three_files_and_drops_exact_repeats() {
        let dir = write_dir(
            &[HELSINKI_TEMP, LISBON_TEMP, HELSINKI_TEMP],
            &[
                "Lisbon,PT,38.72,-9.14,665,x",
                "Helsinki,FI,60.17,24.94,650,x",
            ],
            &[
                "Helsinki,FI,60.17,24.94,1858,true,x",
                "Lisbon,PT,38.72,-9.14,2799,true,x",
            ],
        );
        let n = ClimateNormals::load(dir.path()).expect("load");
        assert_eq!(n.stations.len(), 2);
        let h = &n.stations[0];
        assert_eq!(
            (h.city.as_str(), h.country_code.as_str()),
            ("Helsinki", "FI")
        );
        assert_eq!(h.monthly_temp_c[1], -5.5);
        assert_eq!(h.monthly_temp_c[11], -2.2);
        assert_eq!((h.annual_rain_mm, h.annual_sunshine_h), (650.0, 1858.0));
        assert_eq!(n.stations[1].annual_rain_mm, 665.0);
        assert_eq!(n.dropped_duplicates.len(), 1);
        assert!(
            n.dropped_duplicates[0].contains("line 4 repeats line 2"),
            "{:?}",
            n.dropped_duplicates
        );
    }

    #[test]
    fn bad_number_names_file_line_and_column() {
        let bad = HELSINKI_TEMP.replace("13.2", "warm");
        let dir = write_dir(&[LISBON_TEMP, &bad], &[], &[]);
        let err = ClimateNormals::load(dir.path())
            .expect_err("must fail")
            .to_string();
        assert!(err.contains(TEMPERATURE_FILE), "{err}");
        assert!(err.contains("line 3"), "{err}");
        assert!(err.contains("jun_c"), "{err}");
        assert!(err.contains("`warm` is not a number"), "{err}");
    }

    #[test]
    fn out_of_range_value_is_rejected() {
        let dir = write_dir(
            &[HELSINKI_TEMP],
            &["Helsinki,FI,60.17,24.94,-3,x"],
            &["Helsinki,FI,60.17,24.94,1858,true,x"],
        );
        let err = ClimateNormals::load(dir.path())
            .expect_err("must fail")
            .to_string();
        assert!(
            err.contains(RAINFALL_FILE) && err.contains("line 2") && err.contains("annual_mm"),
            "{err}"
        );
    }

    #[test]
    fn missing_join_names_both_files() {
        let dir = write_dir(
            &[HELSINKI_TEMP, LISBON_TEMP],
            &[
                "Helsinki,FI,60.17,24.94,650,x",
                "Lisbon,PT,38.72,-9.14,665,x",
            ],
            &["Helsinki,FI,60.17,24.94,1858,true,x"],
        );
        let err = ClimateNormals::load(dir.path())
            .expect_err("must fail")
            .to_string();
        assert!(
            err.contains("Lisbon (PT)") && err.contains("line 3") && err.contains(SUNSHINE_FILE),
            "{err}"
        );

        let dir = write_dir(
            &[HELSINKI_TEMP],
            &[
                "Helsinki,FI,60.17,24.94,650,x",
                "Lisbon,PT,38.72,-9.14,665,x",
            ],
            &["Helsinki,FI,60.17,24.94,1858,true,x"],
        );
        let err = ClimateNormals::load(dir.path())
            .expect_err("must fail")
            .to_string();
        assert!(
            err.contains("Lisbon (PT) from world-rainfall.csv line 3"),
            "{err}"
        );
    }

    #[test]
    fn conflicting_repeat_and_moved_city_are_errors() {
        let dir = write_dir(
            &[HELSINKI_TEMP, &HELSINKI_TEMP.replace("-4.5", "-9.9")],
            &[],
            &[],
        );
        let err = ClimateNormals::load(dir.path())
            .expect_err("must fail")
            .to_string();
        assert!(err.contains("line 3") && err.contains("line 2"), "{err}");

        let dir = write_dir(
            &[HELSINKI_TEMP],
            &["Helsinki,FI,61.50,24.94,650,x"],
            &["Helsinki,FI,60.17,24.94,1858,true,x"],
        );
        let err = ClimateNormals::load(dir.path())
            .expect_err("must fail")
            .to_string();
        assert!(err.contains(RAINFALL_FILE) && err.contains("61.5"), "{err}");
    }

    #[test]
    fn missing_file_and_missing_column_are_reported() {
        let dir = tempfile::tempdir().expect("tempdir");
        let err = ClimateNormals::load(dir.path())
            .expect_err("must fail")
            .to_string();
        assert!(
            err.contains(TEMPERATURE_FILE) && err.contains("fetch_assets.sh"),
            "{err}"
        );

        let dir = write_dir(&[HELSINKI_TEMP], &[], &[]);
        std::fs::write(
            dir.path().join(RAINFALL_FILE),
            "city,country_iso2,lat,lon\n",
        )
        .expect("write");
        let err = ClimateNormals::load(dir.path())
            .expect_err("must fail")
            .to_string();
        assert!(
            err.contains("annual_mm") && err.contains(RAINFALL_FILE),
            "{err}"
        );
    }

    #[test]
    fn shipped_files_load() {
        let path = tripwright_testkit::assets::asset(&format!("data/climate/{TEMPERATURE_FILE}"));
        let dir = path.parent().expect("the climate directory");
        let n = ClimateNormals::load(dir).expect("load shipped climate files");
        assert_eq!(n.stations.len(), 269);
        // Guadalajara (MX) is repeated verbatim on line 241 of each file.
        assert_eq!(n.dropped_duplicates.len(), 3, "{:?}", n.dropped_duplicates);
        for d in &n.dropped_duplicates {
            assert!(
                d.starts_with("Guadalajara (MX)") && d.ends_with("line 241 repeats line 159"),
                "{d}"
            );
        }
        let sydney = n
            .stations
            .iter()
            .find(|s| s.city == "Sydney")
            .expect("Sydney");
        assert!(sydney.monthly_temp_c[0] > sydney.monthly_temp_c[6]);
    }
}
