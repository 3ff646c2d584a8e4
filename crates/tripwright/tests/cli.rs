//! End-to-end tests of the `tripwright` binary: real assets, a real SQLite store in a temp
//! directory, the real weather model and MiniLM. Every command runs as a separate process, as
//! a user runs it.
//!
//! The language model is off unless a test is about it: the logic around the model is tested
//! against a scripted model in the application layer's tests, and one plan here is written by
//! the real (small) model end to end.

use std::collections::HashSet;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::OnceLock;

use serde_json::Value;
use tripwright_domain::PlaceId;
use tripwright_store::{PlaceStore, SqliteStore};
use tripwright_testkit::assets::{assets_dir, repo_root, smollm2};

#[path = "cli/handover.rs"]
mod handover;
#[path = "cli/hostile.rs"]
mod hostile;
#[path = "cli/ops.rs"]
mod ops;
#[path = "cli/postgres.rs"]
mod postgres;
#[path = "cli/regions.rs"]
mod regions;
#[path = "cli/serve.rs"]
mod serve;

/// Held by each test that runs a language model in its servers: one such test at a time, so
/// that on two cores their models do not starve each other's into the prose timeout (seen in
/// CI when the hand-over's two servers ran beside the inference-tier test).
fn one_model_test_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A data dir shared by the tests of this binary, with the demo extract imported once.
fn shared_data_dir() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let d = tempfile::tempdir().expect("tempdir");
        // The first plan imports Helsinki and trains the forest; later tests reuse both.
        let out = tripwright(
            d.path(),
            &["plan", "--destination", "Helsinki", "--days", "1", "--json"],
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        d
    })
    .path()
}

/// A data dir of the calling test's own, a copy of [`shared_data_dir`] (its store copied with
/// `tripwright backup`, its trained forest with it): for a test whose server hands plans back
/// to the store's queue, which another test's server on the shared store would claim.
fn own_data_dir() -> tempfile::TempDir {
    let shared = shared_data_dir();
    let d = tempfile::tempdir().expect("tempdir");
    let copy = d.path().join("tripwright.sqlite");
    let out = tripwright(shared, &["backup", copy.to_str().expect("a UTF-8 path")]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cache = d.path().join("cache");
    std::fs::create_dir_all(&cache).expect("a cache dir");
    for entry in std::fs::read_dir(shared.join("cache")).expect("the shared cache") {
        let entry = entry.expect("an entry");
        if entry.file_type().is_ok_and(|t| t.is_file()) {
            std::fs::copy(entry.path(), cache.join(entry.file_name())).expect("copied");
        }
    }
    d
}

fn tripwright(data_dir: &Path, args: &[&str]) -> Output {
    tripwright_env(data_dir, args, &[])
}

fn tripwright_env(data_dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tripwright"));
    cmd.arg("--data-dir")
        .arg(data_dir)
        .arg("--assets-dir")
        .arg(assets_dir())
        .args(args);
    // Keep the developer's own config and secrets out of the test; no language model unless
    // the test asks for one.
    cmd.env_remove("TRIPWRIGHT_CONFIG")
        .env_remove("OPENAI_API_KEY")
        .env_remove("TRIPWRIGHT_OPENAI_API_KEY")
        .env("TRIPWRIGHT_LLM__PROVIDER", "off")
        // Nothing outside is asked unless the test points the lookups at its stand-in.
        .env("TRIPWRIGHT_ONLINE__ENABLED", "false");
    cmd.current_dir(data_dir);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run tripwright")
}

fn json(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "exit {:?}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("stdout is JSON")
}

fn schema() -> jsonschema::Validator {
    let text =
        std::fs::read_to_string(repo_root().join("schema/plan.schema.json")).expect("schema file");
    let schema: Value = serde_json::from_str(&text).expect("schema is JSON");
    jsonschema::validator_for(&schema).expect("schema compiles")
}

fn assert_valid(plan: &Value) {
    let v = schema();
    let errors: Vec<String> = v
        .iter_errors(plan)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "plan does not match schema/plan.schema.json:\n{}",
        errors.join("\n")
    );
}

/// How many stops of day 1 of `plan` (JSON) have a note.
fn day_one_notes(plan: &Value) -> usize {
    plan["itinerary"]["days"][0]["stops"]
        .as_array()
        .expect("stops")
        .iter()
        .filter(|s| !s["note"].as_str().unwrap_or("").is_empty())
        .count()
}

fn check<'a>(plan: &'a Value, name: &str) -> Option<&'a Value> {
    plan["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .find(|c| c["name"] == name)
}

#[tokio::test(flavor = "multi_thread")]
async fn helsinki_plan_is_valid_grounded_and_costed() {
    let dir = shared_data_dir();
    let out = tripwright(
        dir,
        &[
            "plan",
            "--destination",
            "Helsinki",
            "--days",
            "3",
            "--prefs",
            "quiet hotel with a sauna",
            "--json",
        ],
    );
    let plan = json(&out);
    assert_valid(&plan);
    assert_eq!(plan["destination"]["name"], "Helsinki");
    assert_eq!(plan["destination"]["country"], "Finland");
    let months = plan["best_months"].as_array().expect("months");
    assert_eq!(months.len(), 12);
    let set: HashSet<u64> = months
        .iter()
        .map(|m| m["month"].as_u64().expect("month"))
        .collect();
    assert_eq!(set.len(), 12);
    let scores: Vec<f64> = months
        .iter()
        .map(|m| m["score"].as_f64().expect("score"))
        .collect();
    assert!(
        scores.windows(2).all(|w| w[0] >= w[1]),
        "sorted best first: {scores:?}"
    );

    // Every hotel and stop exists in the store, with the same name and position.
    let store = SqliteStore::open(&dir.join("tripwright.sqlite"))
        .await
        .expect("store");
    let hotels = plan["hotels"].as_array().expect("hotels");
    assert!(!hotels.is_empty());
    let days = plan["itinerary"]["days"].as_array().expect("days");
    assert_eq!(days.len(), 3);
    // Every one of them came from the demo extract, and the plan says so.
    let sources = plan["sources"].as_array().expect("sources");
    assert_eq!(sources.len(), 1, "{sources:?}");
    assert_eq!(sources[0]["source"], "Helsinki.osm.pbf");
    let counted = sources[0]["places"].as_u64().expect("a count");
    let mut ids = Vec::new();
    for h in hotels {
        ids.push((
            h["id"].as_str().expect("id"),
            h["name"].as_str().expect("name"),
        ));
    }
    for d in days {
        let stops = d["stops"].as_array().expect("stops");
        assert!(
            stops
                .iter()
                .any(|s| s["kind"] == "sight" || s["kind"] == "artwork"),
            "day {d}"
        );
        for s in stops {
            ids.push((
                s["place_id"].as_str().expect("id"),
                s["name"].as_str().expect("name"),
            ));
        }
    }
    let distinct: HashSet<&str> = ids.iter().map(|(id, _)| *id).collect();
    assert_eq!(
        counted,
        distinct.len() as u64,
        "each hotel and stop counted once"
    );
    for (id, name) in ids {
        let p = store
            .place(&PlaceId::new(id))
            .await
            .expect("query")
            .unwrap_or_else(|| panic!("{id} not in store"));
        assert_eq!(p.name, name);
        assert!(
            p.point()
                .distance_km(&tripwright_domain::GeoPoint::new(60.1695, 24.9354))
                < 15.0,
            "{name} is in Helsinki"
        );
    }
    // Best match for a sauna: a hotel whose description mentions one, if any has one.
    let sauna: Vec<&Value> = hotels
        .iter()
        .filter(|h| h["description"].as_str().unwrap_or("").contains("sauna"))
        .collect();
    if !sauna.is_empty() {
        assert!(
            hotels[0]["description"]
                .as_str()
                .expect("d")
                .contains("sauna"),
            "{}",
            hotels[0]
        );
    }
    let cost = &plan["summary"]["cost"];
    assert!(cost["total"].as_f64().expect("total") > 0.0);
    assert_eq!(cost["currency"], "EUR");
    for name in [
        "grounded",
        "complete",
        "diverse",
        "timing",
        "opening_hours",
        "reachable",
    ] {
        let c = check(&plan, name).unwrap_or_else(|| panic!("check {name} missing"));
        assert_eq!(c["passed"], true, "{c}");
    }
    // The plan was saved under its id.
    let id = plan["id"].as_str().expect("id");
    let saved = json(&tripwright(dir, &["plans", "show", id]));
    assert_eq!(saved, plan);
    let list = tripwright(dir, &["plans", "list"]);
    assert!(String::from_utf8_lossy(&list.stdout).contains(id));
}

#[test]
fn human_output_shows_every_section() {
    let out = tripwright(
        shared_data_dir(),
        &[
            "plan",
            "--destination",
            "helsingfors",
            "--days",
            "2",
            "--month",
            "7",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    for section in [
        "Helsinki, Finland",
        "Best months",
        "Hotels",
        "Itinerary",
        "Day 2",
        "Cost (EUR",
        "Checks",
        "OpenStreetMap",
    ] {
        assert!(text.contains(section), "missing {section:?} in:\n{text}");
    }
    let progress = String::from_utf8_lossy(&out.stderr);
    assert!(progress.contains("weather agent done"), "{progress}");
}

#[test]
fn budget_that_cannot_be_met_is_reported() {
    let out = tripwright(
        shared_data_dir(),
        &[
            "plan",
            "--destination",
            "Helsinki",
            "--days",
            "4",
            "--budget",
            "100",
            "--currency",
            "EUR",
            "--travelers",
            "2",
            "--json",
        ],
    );
    let plan = json(&out);
    let cost = &plan["summary"]["cost"];
    assert_eq!(cost["within_budget"], false);
    assert_eq!(cost["budget"], 100.0);
    assert!(cost["total"].as_f64().expect("total") > 100.0);
    assert_eq!(
        check(&plan, "budget").expect("budget check")["passed"],
        false
    );
    let warnings = plan["warnings"].to_string();
    assert!(warnings.contains("exceeds the budget"), "{warnings}");

    let out = tripwright(
        shared_data_dir(),
        &[
            "plan",
            "--destination",
            "Helsinki",
            "--days",
            "2",
            "--budget",
            "100000",
            "--currency",
            "usd",
            "--json",
        ],
    );
    let plan = json(&out);
    assert_eq!(plan["summary"]["cost"]["currency"], "USD");
    assert_eq!(plan["summary"]["cost"]["within_budget"], true);
}

#[test]
fn destination_without_place_data_still_gets_weather_and_a_warning() {
    let out = tripwright(
        shared_data_dir(),
        &[
            "plan",
            "--destination",
            "Rome, Italy",
            "--days",
            "2",
            "--json",
        ],
    );
    let plan = json(&out);
    assert_valid(&plan);
    assert_eq!(plan["destination"]["country"], "Italy");
    assert_eq!(plan["best_months"].as_array().expect("months").len(), 12);
    assert!(plan["hotels"].as_array().expect("hotels").is_empty());
    let warnings = plan["warnings"].to_string();
    assert!(warnings.contains("no place data for Rome"), "{warnings}");
    assert!(warnings.contains("tripwright import osm"), "{warnings}");
}

#[test]
fn bad_input_is_a_clear_error_and_nonzero_exit() {
    let dir = shared_data_dir();
    let cases: &[(&[&str], &str)] = &[
        (
            &["plan", "--destination", "Helsinki", "--days", "0"],
            "0 is not in 1..=14",
        ),
        (
            &["plan", "--destination", "Helsinki", "--days", "15"],
            "15 is not in 1..=14",
        ),
        (
            &["plan", "--destination", "Helsinki", "--month", "13"],
            "13 is not in 1..=12",
        ),
        (
            &["plan", "--destination", "Helsinki", "--days", "three"],
            "invalid value 'three'",
        ),
        (&["plan", "--days", "3"], "--destination"),
        (
            &["plan", "--destination", "Helsinki", "--budget", "-5"],
            "budget must be a positive number",
        ),
        (
            &["plan", "--destination", "Helsinki", "--currency", "euro"],
            "three-letter",
        ),
        (&["plan", "--destination", "   "], "destination is empty"),
        (
            &[
                "plan",
                "--destination",
                "Helsinki",
                "--start-date",
                "2027-02-30",
            ],
            "invalid value",
        ),
        (
            &["plan", "--destination", "Helsimki"],
            "did you mean: Helsinki, Finland",
        ),
        (&["plans", "show", "no-such-plan"], "no saved plan"),
        (
            &["import", "osm", "/no/such/file.osm.pbf"],
            "/no/such/file.osm.pbf",
        ),
    ];
    for (args, needle) in cases {
        let out = tripwright(dir, args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} should fail");
        assert!(
            stderr.contains(needle),
            "{args:?}: expected {needle:?} in:\n{stderr}"
        );
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?}: nothing on stdout");
    }
}

#[test]
fn missing_assets_are_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = Command::new(env!("CARGO_BIN_EXE_tripwright"))
        .arg("--data-dir")
        .arg(dir.path())
        .arg("--assets-dir")
        .arg(dir.path().join("nothing-here"))
        .args(["plan", "--destination", "Helsinki"])
        .output()
        .expect("run");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("missing_assets") && stderr.contains("cities15000.json"),
        "{stderr}"
    );
    assert!(stderr.contains("scripts/fetch_assets.sh"), "{stderr}");
}

#[test]
fn secrets_never_reach_the_logs() {
    let secret = "sk-test-0123456789abcdef";
    let out = tripwright_env(
        shared_data_dir(),
        &["plans", "list"],
        &[("OPENAI_API_KEY", secret), ("RUST_LOG", "debug")],
    );
    assert!(out.status.success());
    let logs = String::from_utf8_lossy(&out.stderr);
    assert!(
        logs.contains("configuration loaded"),
        "the debug line is logged: {logs}"
    );
    assert!(logs.contains("REDACTED"), "{logs}");
    assert!(!logs.contains(secret), "secret leaked: {logs}");
    assert!(!String::from_utf8_lossy(&out.stdout).contains(secret));
}

#[test]
fn embed_prints_unit_vectors() {
    let out = tripwright(
        shared_data_dir(),
        &[
            "embed",
            "--json",
            "quiet hotel with a sauna",
            "Hotel near the beach",
        ],
    );
    let items = json(&out);
    let items = items.as_array().expect("array");
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["text"], "quiet hotel with a sauna");
    for it in items {
        let v: Vec<f64> = it["vector"]
            .as_array()
            .expect("vector")
            .iter()
            .map(|x| x.as_f64().expect("f"))
            .collect();
        assert_eq!(v.len(), 384);
        let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
        assert!((norm - 1.0).abs() < 1e-4, "{norm}");
    }
}

#[test]
fn import_reports_counts_and_is_idempotent() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pbf = assets_dir().join("data/osm/Helsinki.osm.pbf");
    let pbf = pbf.to_str().expect("utf8");
    let first = tripwright(dir.path(), &["import", "osm", pbf]);
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let text = String::from_utf8_lossy(&first.stdout);
    assert!(
        text.contains("grocery") && text.contains("16 nodes"),
        "{text}"
    );
    let second = tripwright(dir.path(), &["import", "osm", pbf]);
    assert_eq!(
        first.stdout, second.stdout,
        "re-import replaces, never duplicates"
    );
}

#[test]
fn weather_evaluation_prints_both_errors_and_the_model_wins() {
    let out = tripwright(shared_data_dir(), &["weather", "evaluate", "--json"]);
    let eval = json(&out);
    assert_eq!(eval["cities"], 269, "{eval}");
    assert_eq!(eval["rows"], 269 * 12);
    let forest = eval["forest_mae_c"].as_f64().expect("forest");
    let baseline = eval["baseline_mae_c"].as_f64().expect("baseline");
    assert!(forest.is_finite() && baseline.is_finite());
    assert!(
        forest < baseline,
        "model {forest} °C vs nearest station {baseline} °C"
    );
    assert!(
        eval["method"]
            .as_str()
            .expect("method")
            .contains("leave-one"),
        "{eval}"
    );
}

#[test]
fn hotel_filters_apply_and_an_empty_result_is_explained() {
    let dir = shared_data_dir();
    let plan = json(&tripwright(
        dir,
        &[
            "plan",
            "--destination",
            "Helsinki",
            "--days",
            "2",
            "--min-stars",
            "4",
            "--json",
        ],
    ));
    let hotels = plan["hotels"].as_array().expect("hotels");
    assert!(
        !hotels.is_empty(),
        "Helsinki has 4- and 5-star hotels in OSM"
    );
    for h in hotels {
        assert!(h["stars"].as_u64().is_some_and(|s| s >= 4), "{h}");
    }
    let plan = json(&tripwright(
        dir,
        &[
            "plan",
            "--destination",
            "Helsinki",
            "--days",
            "2",
            "--max-price",
            "30",
            "--json",
        ],
    ));
    assert!(plan["hotels"].as_array().expect("hotels").is_empty());
    let warnings = plan["warnings"].to_string();
    assert!(
        warnings.contains("passes the price and stars filters"),
        "{warnings}"
    );
    // Without a hotel the days start from the centre, and the plan says a hotel is missing.
    assert_eq!(check(&plan, "complete").expect("complete")["passed"], false);
}

#[test]
fn prose_from_the_embedded_model_names_only_real_stops() {
    let _model_test = one_model_test_at_a_time();
    let model = smollm2();
    let out = tripwright_env(
        shared_data_dir(),
        &[
            "plan",
            "--destination",
            "Helsinki",
            "--days",
            "1",
            "--prefs",
            "museums and coffee",
            "--json",
        ],
        &[
            ("TRIPWRIGHT_LLM__PROVIDER", "embedded"),
            ("TRIPWRIGHT_LLM__MODEL_PATH", model.to_str().expect("utf8")),
            ("TRIPWRIGHT_LLM__MAX_TOKENS", "96"),
        ],
    );
    let plan = json(&out);
    assert_valid(&plan);
    let prose = check(&plan, "prose").expect("a prose check when the model ran");
    let detail = prose["detail"].as_str().expect("detail");
    assert!(detail.contains("written by SmolLM2"), "{prose}");
    // What the check found in the kept text comes before "written by": no place named that
    // is not the day's, and no other flaw. A note the 135M test model could not write
    // cleanly in its two tries is left out, and said to be missing: that is the design.
    let (found, _) = detail
        .split_once("written by")
        .expect("the writer's report");
    for problem in found.split("; ").map(str::trim).filter(|p| !p.is_empty()) {
        assert!(
            problem.ends_with("note missing") || problem.ends_with("notes missing"),
            "{problem}: {prose}"
        );
    }
    assert_eq!(prose["passed"], found.trim().is_empty(), "{prose}");
    assert!(
        day_one_notes(&plan) > 0,
        "some of the model's notes are kept: {plan}"
    );
    for name in [
        "grounded",
        "complete",
        "diverse",
        "timing",
        "opening_hours",
        "reachable",
    ] {
        assert_eq!(check(&plan, name).expect("check")["passed"], true, "{name}");
    }
}

#[test]
fn an_unreachable_provider_degrades_to_a_plan_without_prose() {
    // Nothing listens on port 1 of loopback: every attempt is refused, then retried, then given up.
    let out = tripwright_env(
        shared_data_dir(),
        &["plan", "--destination", "Helsinki", "--days", "2", "--json"],
        &[
            ("TRIPWRIGHT_LLM__PROVIDER", "openai"),
            ("TRIPWRIGHT_LLM__BASE_URL", "http://127.0.0.1:1/v1"),
        ],
    );
    let plan = json(&out);
    assert_valid(&plan);
    assert_eq!(plan["best_months"].as_array().expect("months").len(), 12);
    assert!(!plan["hotels"].as_array().expect("hotels").is_empty());
    assert_eq!(plan["itinerary"]["days"].as_array().expect("days").len(), 2);
    assert!(plan["summary"]["cost"]["total"].as_f64().expect("total") > 0.0);
    let warnings = plan["warnings"].to_string();
    assert!(
        warnings.contains("prose could not be written"),
        "{warnings}"
    );
    // In words: no address or system error in what a traveller reads.
    assert!(
        !warnings.contains("127.0.0.1") && !warnings.contains("os error"),
        "{warnings}"
    );
    assert!(check(&plan, "prose").is_none());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
}
