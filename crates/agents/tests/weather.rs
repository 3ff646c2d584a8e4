//! The weather agent on the shipped climate normals: month rankings that match what travellers
//! know, plausible temperatures between stations, the model cache, and leave-one-city-out
//! evaluation.

use std::path::PathBuf;
use std::sync::OnceLock;

use tripwright_agents::weather::{
    ModelOrigin, WeatherAgent, WeatherError, WeatherModel, evaluate, evaluate_cities,
};
use tripwright_data::climate::{ClimateNormals, TEMPERATURE_FILE};
use tripwright_domain::month_name;
use tripwright_ml::forest::ForestParams;
use tripwright_testkit::assets::asset;

fn climate_dir() -> PathBuf {
    let file = asset(&format!("data/climate/{TEMPERATURE_FILE}"));
    file.parent().expect("the climate directory").to_path_buf()
}

fn normals() -> &'static ClimateNormals {
    static NORMALS: OnceLock<ClimateNormals> = OnceLock::new();
    NORMALS.get_or_init(|| ClimateNormals::load(&climate_dir()).expect("load climate normals"))
}

/// One agent with the default (tuned) parameters, trained once for the whole test binary.
fn agent() -> &'static WeatherAgent {
    static AGENT: OnceLock<WeatherAgent> = OnceLock::new();
    AGENT.get_or_init(|| {
        WeatherAgent::new(
            WeatherModel::train(normals(), &ForestParams::default()).expect("train weather model"),
        )
    })
}

fn months_in_order(lat: f64, lon: f64) -> Vec<u8> {
    agent()
        .analyze(lat, lon)
        .months
        .iter()
        .map(|m| m.month)
        .collect()
}

#[test]
fn helsinki_summer_ranks_first_and_winter_last() {
    let order = months_in_order(60.17, 24.94);
    let mut top: Vec<u8> = order[..3].to_vec();
    top.sort();
    assert_eq!(top, [6, 7, 8], "ranking {order:?}");
    let mut bottom: Vec<u8> = order[9..].to_vec();
    bottom.sort();
    assert_eq!(bottom, [1, 2, 12], "ranking {order:?}");
}

#[test]
fn southern_hemisphere_summer_is_january() {
    for (city, lat, lon) in [("Sydney", -33.87, 151.21), ("Buenos Aires", -34.60, -58.38)] {
        let report = agent().analyze(lat, lon);
        let t = report.climate.temp_c;
        assert!(
            t[0] > t[6] + 5.0,
            "{city}: January {} vs July {}",
            t[0],
            t[6]
        );
        let rank = |month: u8| report.months.iter().position(|m| m.month == month);
        assert!(rank(1) < rank(7), "{city}: {:?}", report.months);
    }
}

#[test]
fn a_point_between_stations_gets_plausible_temperatures() {
    // Central Germany (near Würzburg; no station there). DWD 1981–2010 normals for the area:
    // about 0 °C in January and 18–19 °C in July.
    let c = agent().analyze(50.0, 10.0).climate;
    assert!(
        (-3.0..=3.0).contains(&c.temp_c[0]),
        "January {}",
        c.temp_c[0]
    );
    assert!((16.0..=21.0).contains(&c.temp_c[6]), "July {}", c.temp_c[6]);
    let warmest = (0..12).max_by(|&a, &b| c.temp_c[a].total_cmp(&c.temp_c[b]));
    assert!(matches!(warmest, Some(6 | 7)), "{:?}", c.temp_c);
    assert!(c.nearest_km > 50.0 && c.nearest_km < 400.0, "{c:?}");
    assert!((400.0..=1500.0).contains(&c.annual_rain_mm), "{c:?}");
    assert!((1200.0..=2200.0).contains(&c.annual_sunshine_h), "{c:?}");
}

#[test]
fn every_station_is_predicted_within_1_5_degrees_of_its_normals() {
    for s in &normals().stations {
        let c = agent().model().predict(s.lat, s.lon);
        assert_eq!(c.nearest_km, 0.0, "{}", s.city);
        for m in 0..12 {
            let err = (c.temp_c[m] - s.monthly_temp_c[m]).abs();
            assert!(
                err <= 1.5,
                "{} {}: predicted {:.1}, normal {:.1}",
                s.city,
                month_name(m as u8 + 1),
                c.temp_c[m],
                s.monthly_temp_c[m]
            );
        }
    }
}

#[test]
fn all_twelve_months_come_sorted_with_reasons() {
    for (lat, lon) in [
        (60.17, 24.94),
        (1.35, 103.82),
        (-33.87, 151.21),
        (78.22, 15.65),
    ] {
        let report = agent().analyze(lat, lon);
        let mut months: Vec<u8> = report.months.iter().map(|m| m.month).collect();
        months.sort();
        assert_eq!(months, (1..=12).collect::<Vec<u8>>());
        for pair in report.months.windows(2) {
            let (a, b) = (&pair[0], &pair[1]);
            assert!(
                a.score > b.score || (a.score == b.score && a.month < b.month),
                "not sorted: {a:?} before {b:?}"
            );
        }
        for m in &report.months {
            assert_eq!(m.name, month_name(m.month));
            assert!((0.0..=100.0).contains(&m.score), "{m:?}");
            assert!(
                m.reason.starts_with("mean ") && m.reason.contains(" °C, "),
                "{m:?}"
            );
            assert_eq!(
                m.mean_temp_c,
                (report.climate.temp_c[usize::from(m.month) - 1] * 10.0).round() / 10.0
            );
        }
    }
    // Svalbard in December: no sun at all.
    let svalbard = agent().analyze(78.22, 15.65);
    let december = svalbard
        .months
        .iter()
        .find(|m| m.month == 12)
        .expect("December");
    assert!(december.reason.ends_with("polar night"), "{december:?}");
}

#[test]
fn helsinki_reasons_read_like_the_numbers() {
    let report = agent().analyze(60.17, 24.94);
    let july = report.months.iter().find(|m| m.month == 7).expect("July");
    assert_eq!(july.reason, "mean 17 °C, mild, 18 h daylight");
    let december = report
        .months
        .iter()
        .find(|m| m.month == 12)
        .expect("December");
    assert!(
        december.reason.ends_with("freezing, 6 h daylight"),
        "{december:?}"
    );
}

#[test]
fn cache_round_trip_and_retrain_on_changed_params() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("nested/cache/weather-forest.bin");
    let small = ForestParams {
        n_trees: 20,
        ..ForestParams::default()
    };

    let trained = WeatherModel::load_or_train(&path, normals(), &small).expect("train");
    assert_eq!(trained.origin(), ModelOrigin::Trained);
    assert!(path.exists());
    let loaded = WeatherModel::load_or_train(&path, normals(), &small).expect("load");
    assert_eq!(loaded.origin(), ModelOrigin::Cache);
    assert_eq!(loaded.cache_key(), trained.cache_key());
    for (lat, lon) in [
        (60.17, 24.94),
        (50.0, 10.0),
        (-33.87, 151.21),
        (-0.22, -78.5),
    ] {
        assert_eq!(loaded.predict(lat, lon), trained.predict(lat, lon));
    }
    // Training is deterministic, so the cache also equals a fresh in-memory training.
    let fresh = WeatherModel::train(normals(), &small).expect("train");
    assert_eq!(fresh.predict(45.0, 7.0), loaded.predict(45.0, 7.0));

    let other = ForestParams {
        seed: 7,
        ..small.clone()
    };
    let retrained = WeatherModel::load_or_train(&path, normals(), &other).expect("retrain");
    assert_eq!(retrained.origin(), ModelOrigin::Trained);
    assert_eq!(retrained.params(), &other);
    assert_ne!(retrained.cache_key(), trained.cache_key());
    let reloaded = WeatherModel::load_or_train(&path, normals(), &other).expect("reload");
    assert_eq!(reloaded.origin(), ModelOrigin::Cache);

    // Different data is a different key too.
    let mut fewer = normals().clone();
    fewer.stations.pop();
    let on_fewer = WeatherModel::load_or_train(&path, &fewer, &other).expect("retrain");
    assert_eq!(on_fewer.origin(), ModelOrigin::Trained);

    // A corrupt cache is retrained and replaced, not an error.
    std::fs::write(&path, b"not a model").expect("corrupt the cache");
    let repaired = WeatherModel::load_or_train(&path, normals(), &small).expect("repair");
    assert_eq!(repaired.origin(), ModelOrigin::Trained);
    assert_eq!(repaired.predict(50.0, 10.0), trained.predict(50.0, 10.0));
    let after = WeatherModel::load_or_train(&path, normals(), &small).expect("load");
    assert_eq!(after.origin(), ModelOrigin::Cache);
    // Only the cache file is left: the temporary file was renamed, not copied.
    let files: Vec<_> = std::fs::read_dir(path.parent().expect("parent"))
        .expect("list")
        .collect();
    assert_eq!(files.len(), 1);
}

#[test]
fn agent_load_reports_missing_climate_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let err = WeatherAgent::load(dir.path(), &dir.path().join("cache.bin"))
        .expect_err("no climate files here");
    assert!(matches!(err, WeatherError::Climate(_)), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.contains(TEMPERATURE_FILE) && msg.contains("fetch_assets.sh"),
        "{msg}"
    );

    let agent = WeatherAgent::load(&climate_dir(), &dir.path().join("cache.bin")).expect("load");
    assert_eq!(agent.model().params(), &ForestParams::default());
}

#[test]
fn leave_one_out_on_a_subset_beats_the_nearest_station() {
    let cities: Vec<usize> = (0..normals().stations.len()).step_by(9).collect();
    assert_eq!(cities.len(), 30);
    let eval = evaluate_cities(normals(), &ForestParams::default(), &cities).expect("evaluate");
    assert_eq!((eval.cities, eval.rows), (30, 360));
    for mae in [eval.forest_mae_c, eval.baseline_mae_c, eval.base_mae_c] {
        assert!(mae.is_finite() && mae > 0.0 && mae < 5.0, "{eval:?}");
    }
    assert!(eval.forest_mae_c < eval.baseline_mae_c, "{eval:?}");
    assert_eq!(eval.baseline, "nearest station");

    let err =
        evaluate_cities(normals(), &ForestParams::default(), &[100_000]).expect_err("bad index");
    assert!(
        matches!(err, WeatherError::NoSuchStation { index: 100_000, .. }),
        "{err:?}"
    );
}

/// The full evaluation of `tripwright weather evaluate`: 269 refits. A few seconds in release:
/// `cargo test -p tripwright-agents --release --test weather -- --ignored --nocapture`.
#[test]
#[ignore = "slow in debug builds; run in release"]
fn full_leave_one_city_out_evaluation() {
    let eval = evaluate(normals(), &ForestParams::default()).expect("evaluate");
    println!("{}", serde_json::to_string_pretty(&eval).expect("json"));
    assert_eq!(eval.cities, normals().stations.len());
    assert!(eval.forest_mae_c < eval.baseline_mae_c, "{eval:?}");

    let n = 2000;
    let start = std::time::Instant::now();
    for i in 0..n {
        let report = agent().analyze(-60.0 + f64::from(i % 120), -170.0 + f64::from(i % 340));
        assert_eq!(report.months.len(), 12);
    }
    let micros = start.elapsed().as_secs_f64() / f64::from(n) * 1e6;
    println!("analyze: {micros:.1} µs per call");
    assert!(micros < 5000.0, "{micros} µs");
}
