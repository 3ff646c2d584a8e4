//! `tripwright eval`: runs a suite of trip requests through the real pipeline and scores the
//! plans against constraints, never against a golden plan (`../shared/docs/EVAL.md`):
//! delivery, the commonsense checks the plan carries (recomputed from the store), the hard
//! constraints the request states (budget, price, stars, interests), what a case expects of an
//! infeasible request (a refusal, a budget that cannot be met, a destination without data),
//! and the prose measures of `tripwright_agents::quality` as rates.
//!
//! A suite is JSON Lines: `{"id": "…", "request": {TripRequest}, "expect": {…}}` per line
//! (blank lines and lines starting with `//` are skipped). The request is kept as raw JSON so
//! that a suite can hold requests the planner must refuse.

use std::collections::BTreeMap;
use std::time::Instant;

use serde::{Deserialize, Serialize};
use tripwright_agents::quality::{Flaw, ProseQuality, measure};
use tripwright_domain::{Plan, StopKind, TripRequest};

use crate::{App, AppError, Invalid};

/// The commonsense checks of EVAL.md, by the names the plan's checks carry.
pub const COMMONSENSE: [&str; 7] = [
    "grounded",
    "complete",
    "diverse",
    "timing",
    "opening_hours",
    "reachable",
    "month",
];

/// What a case expects beyond a good plan.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Expect {
    /// The planner must refuse the request with this error code (`days_out_of_range`,
    /// `unknown_destination`, …).
    pub error: Option<String>,
    /// Interests the itinerary must cover: `museum`, `gallery`, `cafe`, `park`, `restaurant`,
    /// `bar`, `viewpoint`, `church`, … matched against the stops' kinds.
    pub interests: Vec<String>,
    /// The budget cannot be met: the plan must say so (not within budget, a warning, a
    /// failed `budget` check).
    pub over_budget: bool,
    /// There is no place data at the destination: the plan must say so, with an empty
    /// itinerary.
    pub no_place_data: bool,
}

/// One request of a suite.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    /// A stable name for reports.
    pub id: String,
    /// The request, as a client would send it.
    pub request: serde_json::Value,
    /// What it expects.
    #[serde(default)]
    pub expect: Expect,
}

/// Reads a suite: one [`Case`] per line.
///
/// # Errors
/// The first line that is not a case, with its number.
pub fn parse_suite(text: &str) -> Result<Vec<Case>, String> {
    let mut cases = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with("//") {
            continue;
        }
        let case: Case = serde_json::from_str(line).map_err(|e| format!("line {}: {e}", i + 1))?;
        if cases.iter().any(|c: &Case| c.id == case.id) {
            return Err(format!(
                "line {}: the id {:?} is used twice",
                i + 1,
                case.id
            ));
        }
        cases.push(case);
    }
    if cases.is_empty() {
        return Err("the suite has no cases".into());
    }
    Ok(cases)
}

/// How a case ended.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Outcome {
    /// A plan was made.
    Plan {
        /// Its id.
        id: String,
    },
    /// The planner refused the request.
    Refused {
        /// The refusal's code.
        code: String,
        /// Its message.
        message: String,
    },
    /// The planner failed.
    Failed {
        /// What happened.
        message: String,
    },
}

/// One named pass/fail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    /// What was checked.
    pub name: String,
    /// Whether it passed.
    pub passed: bool,
    /// What was found (for failures).
    pub detail: String,
}

/// The scores of one case.
#[derive(Debug, Clone, Serialize)]
pub struct CaseResult {
    /// The case's id.
    pub id: String,
    /// How it ended.
    pub outcome: Outcome,
    /// A complete plan: every section present, as many days as asked.
    pub delivered: bool,
    /// The commonsense checks the plan carries.
    pub checks: Vec<Verdict>,
    /// The hard constraints the request states.
    pub hard: Vec<Verdict>,
    /// What the case expects (a refusal, an over-budget report, no place data, interests).
    pub expectations: Vec<Verdict>,
    /// The prose measures (all zero without prose).
    pub prose: ProseQuality,
    /// Wall time, seconds.
    pub seconds: f64,
    /// Whether the case expects a refusal (then it is not counted as a plan case).
    pub expects_refusal: bool,
    /// The plan itself, for the report.
    #[serde(skip)]
    pub plan: Option<Plan>,
}

impl CaseResult {
    /// Whether the plan passes every commonsense check and every stated hard constraint
    /// (hard constraints count only for plans that are complete and grounded).
    pub fn final_pass(&self) -> bool {
        self.delivered && self.checks.iter().all(|c| c.passed) && self.hard.iter().all(|c| c.passed)
    }

    /// Whether everything the case expects held.
    pub fn met(&self) -> bool {
        self.expectations.iter().all(|e| e.passed)
    }
}

/// A suite's totals.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Totals {
    /// Cases run.
    pub cases: usize,
    /// Cases that should give a plan.
    pub plan_cases: usize,
    /// Share of those that gave a complete plan.
    pub delivery_rate: f64,
    /// Passed checks ÷ applicable checks (commonsense and hard), over delivered plans.
    pub micro_pass_rate: f64,
    /// Share of delivered plans passing every check.
    pub macro_pass_rate: f64,
    /// Share of plan cases whose plan passes every commonsense check and stated constraint.
    pub final_pass_rate: f64,
    /// Share of cases whose expectations held (refusals, infeasibility reported, interests).
    pub expectations_met: f64,
    /// Plans with prose.
    pub prose_plans: usize,
    /// Share of plans with prose whose prose has no flaw.
    pub prose_pass_rate: f64,
    /// Each prose flaw's rate over the suite (per stop for missing notes, else per sentence).
    pub prose_rates: BTreeMap<String, f64>,
    /// Each prose flaw's count.
    pub prose_counts: BTreeMap<String, usize>,
    /// The language model that wrote the prose (or why there was none).
    pub model: String,
    /// Mean seconds per plan.
    pub mean_seconds: f64,
}

/// A suite's results.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Every case.
    pub cases: Vec<CaseResult>,
    /// The totals.
    pub totals: Totals,
}

/// The code of a refusal, as the web API would give it.
fn refusal_code(e: &AppError) -> Option<&'static str> {
    match e {
        AppError::Invalid {
            invalid: Invalid::Request(code),
            ..
        } => Some(code.as_str()),
        AppError::UnknownDestination(_) => Some("unknown_destination"),
        _ => None,
    }
}

/// Whether a stop matches an interest word.
fn covers(interest: &str, kind: StopKind, place_kind: &str, name: &str) -> bool {
    let interest = interest.trim().to_lowercase();
    let place_kind = place_kind.to_lowercase();
    let kind_name = match kind {
        StopKind::Sight => "sight",
        StopKind::Artwork => "artwork",
        StopKind::Cafe => "cafe",
        StopKind::Lunch | StopKind::Dinner => "restaurant",
    };
    let synonyms: &[&str] = match interest.as_str() {
        "museum" | "museums" => &["museum"],
        "art" | "gallery" | "galleries" => &["gallery", "museum", "artwork"],
        "coffee" | "cafe" | "café" => &["cafe"],
        "nature" | "park" | "parks" => &["park", "garden", "viewpoint", "nature_reserve"],
        "food" | "restaurant" => &["restaurant"],
        "nightlife" | "bar" | "bars" => &["bar", "pub"],
        "history" | "historic" => &["historic", "memorial", "monument", "castle", "ruins"],
        "church" | "churches" => &["church", "cathedral", "place_of_worship"],
        _ => &[],
    };
    let name = name.to_lowercase();
    place_kind.contains(&interest)
        || kind_name == interest
        || synonyms
            .iter()
            .any(|s| place_kind.contains(s) || kind_name == *s || name.contains(s))
}

fn verdict(name: &str, passed: bool, detail: impl Into<String>) -> Verdict {
    Verdict {
        name: name.to_owned(),
        passed,
        detail: detail.into(),
    }
}

/// The hard constraints `req` states, judged on `plan`.
fn hard_constraints(req: &TripRequest, plan: &Plan) -> Vec<Verdict> {
    let mut out = Vec::new();
    if req.budget.is_some() {
        let c = &plan.summary.cost;
        out.push(verdict(
            "budget",
            c.within_budget == Some(true),
            format!(
                "total {:.2} {} for a budget of {:?}",
                c.total, c.currency, c.budget
            ),
        ));
    }
    if let Some(max) = req.max_price {
        let over: Vec<&str> = plan
            .hotels
            .iter()
            .filter(|h| h.price_per_night > max)
            .map(|h| h.name.as_str())
            .collect();
        out.push(verdict("max_price", over.is_empty(), over.join(", ")));
    }
    if let Some(min) = req.min_stars {
        let under: Vec<&str> = plan
            .hotels
            .iter()
            .filter(|h| h.stars.is_none_or(|s| s < min))
            .map(|h| h.name.as_str())
            .collect();
        out.push(verdict("min_stars", under.is_empty(), under.join(", ")));
    }
    out
}

/// Scores one finished plan.
fn score_plan(case: &Case, req: &TripRequest, plan: &Plan, seconds: f64) -> CaseResult {
    let days = plan.itinerary.days.len();
    let delivered = days == usize::from(req.days)
        && plan.best_months.len() == 12
        && !plan.summary.text.is_empty()
        && plan.itinerary.days.iter().all(|d| !d.stops.is_empty())
        && !plan.hotels.is_empty();
    let checks: Vec<Verdict> = plan
        .checks
        .iter()
        .filter(|c| COMMONSENSE.contains(&c.name.as_str()))
        .map(|c| verdict(&c.name, c.passed, c.detail.clone()))
        .collect();
    let grounded_complete = ["grounded", "complete"]
        .iter()
        .all(|n| plan.checks.iter().any(|c| c.name == *n && c.passed));
    let hard = if delivered && grounded_complete {
        let mut hard = hard_constraints(req, plan);
        // An unmeetable budget is judged by whether the plan says so (an expectation), not
        // as a constraint the plan could have met.
        if case.expect.over_budget {
            hard.retain(|v| v.name != "budget");
        }
        hard
    } else {
        Vec::new()
    };
    let mut expectations = Vec::new();
    let e = &case.expect;
    if let Some(code) = &e.error {
        expectations.push(verdict(
            "refused",
            false,
            format!("expected a refusal with {code}, got a plan"),
        ));
    }
    if e.over_budget {
        let c = &plan.summary.cost;
        let said = c.within_budget == Some(false)
            && plan
                .warnings
                .iter()
                .any(|w| w.contains("exceeds the budget"))
            && plan.checks.iter().any(|c| c.name == "budget" && !c.passed);
        expectations.push(verdict(
            "over_budget_reported",
            said,
            "an unmeetable budget must be reported",
        ));
    }
    if e.no_place_data {
        let said = plan.warnings.iter().any(|w| w.contains("no place data"))
            && plan.itinerary.days.iter().all(|d| d.stops.is_empty());
        expectations.push(verdict(
            "no_place_data_reported",
            said,
            "a destination without data must be reported",
        ));
    }
    for interest in &e.interests {
        let found = plan
            .itinerary
            .days
            .iter()
            .flat_map(|d| &d.stops)
            .any(|s| covers(interest, s.kind, &s.place_kind, &s.name));
        expectations.push(verdict(
            &format!("interest:{interest}"),
            found,
            if found {
                format!("the itinerary has a {interest}")
            } else {
                format!("no stop of the itinerary is a {interest}")
            },
        ));
    }
    // A case that expects the plan to be thin (no data) is judged on its report, not on
    // delivery.
    let delivered = delivered || e.no_place_data;
    CaseResult {
        id: case.id.clone(),
        outcome: Outcome::Plan {
            id: plan.id.to_string(),
        },
        delivered,
        checks: if e.no_place_data { Vec::new() } else { checks },
        hard,
        expectations,
        prose: measure(plan),
        seconds,
        expects_refusal: e.error.is_some(),
        plan: Some(plan.clone()),
    }
}

/// Runs one case.
pub async fn run_case(app: &App, case: &Case) -> CaseResult {
    let t = Instant::now();
    let refused = |code: String, message: String, seconds: f64| {
        let expected = case.expect.error.as_deref();
        let expectation = match expected {
            Some(want) => verdict(
                "refused",
                want == code,
                format!("expected {want}, got {code}"),
            ),
            None => verdict("planned", false, format!("refused ({code}): {message}")),
        };
        CaseResult {
            id: case.id.clone(),
            expectations: vec![expectation],
            expects_refusal: expected.is_some(),
            outcome: Outcome::Refused { code, message },
            delivered: false,
            checks: Vec::new(),
            hard: Vec::new(),
            prose: ProseQuality::default(),
            seconds,
            plan: None,
        }
    };
    let req: TripRequest = match serde_json::from_value(case.request.clone()) {
        Ok(r) => r,
        Err(e) => return refused("invalid_json".into(), e.to_string(), 0.0),
    };
    let made = app.planner().make(req.clone(), None).await;
    let seconds = t.elapsed().as_secs_f64();
    match made {
        Ok(plan) => score_plan(case, &req, &plan, seconds),
        Err(e) => match refusal_code(&e) {
            Some(code) => refused(code.to_owned(), e.to_string(), seconds),
            None => CaseResult {
                id: case.id.clone(),
                outcome: Outcome::Failed {
                    message: e.to_string(),
                },
                delivered: false,
                checks: Vec::new(),
                hard: Vec::new(),
                expectations: Vec::new(),
                prose: ProseQuality::default(),
                seconds,
                expects_refusal: case.expect.error.is_some(),
                plan: None,
            },
        },
    }
}

/// The totals of a suite's results.
pub fn totals(cases: &[CaseResult], model: &str) -> Totals {
    let plan_cases: Vec<&CaseResult> = cases.iter().filter(|c| !c.expects_refusal).collect();
    let delivered: Vec<&&CaseResult> = plan_cases.iter().filter(|c| c.delivered).collect();
    let ratio = |n: usize, d: usize| if d == 0 { 1.0 } else { n as f64 / d as f64 };
    let (passed, applicable) = delivered.iter().fold((0, 0), |(p, a), c| {
        let all: Vec<&Verdict> = c.checks.iter().chain(&c.hard).collect();
        (p + all.iter().filter(|v| v.passed).count(), a + all.len())
    });
    let prose: Vec<&CaseResult> = cases.iter().filter(|c| c.prose.stops > 0).collect();
    let mut rates = BTreeMap::new();
    let mut counts = BTreeMap::new();
    let stops: usize = prose.iter().map(|c| c.prose.stops).sum();
    let sentences: usize = prose.iter().map(|c| c.prose.sentences).sum();
    for flaw in Flaw::ALL {
        let n: usize = prose.iter().map(|c| c.prose.count(flaw)).sum();
        let d = if flaw == Flaw::NoteMissing {
            stops
        } else {
            sentences
        };
        counts.insert(flaw.as_str().to_owned(), n);
        rates.insert(
            flaw.as_str().to_owned(),
            if d == 0 { 0.0 } else { n as f64 / d as f64 },
        );
    }
    let timed: Vec<f64> = cases
        .iter()
        .filter(|c| matches!(c.outcome, Outcome::Plan { .. }))
        .map(|c| c.seconds)
        .collect();
    Totals {
        cases: cases.len(),
        plan_cases: plan_cases.len(),
        delivery_rate: ratio(delivered.len(), plan_cases.len()),
        micro_pass_rate: ratio(passed, applicable),
        macro_pass_rate: ratio(
            delivered.iter().filter(|c| c.final_pass()).count(),
            delivered.len(),
        ),
        final_pass_rate: ratio(
            plan_cases.iter().filter(|c| c.final_pass()).count(),
            plan_cases.len(),
        ),
        expectations_met: ratio(cases.iter().filter(|c| c.met()).count(), cases.len()),
        prose_plans: prose.len(),
        prose_pass_rate: ratio(
            prose.iter().filter(|c| c.prose.passes()).count(),
            prose.len(),
        ),
        prose_rates: rates,
        prose_counts: counts,
        model: model.to_owned(),
        mean_seconds: if timed.is_empty() {
            0.0
        } else {
            timed.iter().sum::<f64>() / timed.len() as f64
        },
    }
}

/// Runs every case in order (each after the last: timings are per plan), calling
/// `on_case` as each ends.
pub async fn run_suite(app: &App, cases: &[Case], on_case: impl Fn(&CaseResult)) -> Report {
    let mut results = Vec::with_capacity(cases.len());
    for case in cases {
        let r = run_case(app, case).await;
        on_case(&r);
        results.push(r);
    }
    let model = match app.llm() {
        Ok(llm) => llm.model_id().to_owned(),
        Err(why) => why,
    };
    Report {
        totals: totals(&results, &model),
        cases: results,
    }
}

/// Minimums (and, for the prose flaws, maximums) a suite's totals must meet; the CI run keeps
/// them in the repository.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Thresholds {
    /// Least delivery rate.
    pub delivery_rate: Option<f64>,
    /// Least final pass rate.
    pub final_pass_rate: Option<f64>,
    /// Least micro pass rate.
    pub micro_pass_rate: Option<f64>,
    /// Least share of met expectations.
    pub expectations_met: Option<f64>,
    /// Least prose pass rate.
    pub prose_pass_rate: Option<f64>,
    /// Most rate of each prose flaw, by its report name.
    pub prose_rates: BTreeMap<String, f64>,
}

impl Thresholds {
    /// What `totals` falls short of, as sentences (empty: all met).
    pub fn misses(&self, totals: &Totals) -> Vec<String> {
        let mut out = Vec::new();
        let mut least = |name: &str, want: Option<f64>, got: f64| {
            if let Some(want) = want
                && got + 1e-9 < want
            {
                out.push(format!("{name} is {got:.3}, below {want:.3}"));
            }
        };
        least("delivery_rate", self.delivery_rate, totals.delivery_rate);
        least(
            "final_pass_rate",
            self.final_pass_rate,
            totals.final_pass_rate,
        );
        least(
            "micro_pass_rate",
            self.micro_pass_rate,
            totals.micro_pass_rate,
        );
        least(
            "expectations_met",
            self.expectations_met,
            totals.expectations_met,
        );
        least(
            "prose_pass_rate",
            self.prose_pass_rate,
            totals.prose_pass_rate,
        );
        for (name, max) in &self.prose_rates {
            match totals.prose_rates.get(name) {
                Some(got) if *got > *max + 1e-9 => {
                    out.push(format!("prose rate {name} is {got:.3}, above {max:.3}"));
                }
                Some(_) => {}
                None => out.push(format!("no prose rate is called {name}")),
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suites_are_json_lines_with_comments() {
        let suite = "// a comment\n\n{\"id\":\"a\",\"request\":{\"destination\":\"Helsinki\"}}\n{\"id\":\"b\",\"request\":{\"days\":0},\"expect\":{\"error\":\"days_out_of_range\"}}\n";
        let cases = parse_suite(suite).expect("valid");
        assert_eq!(cases.len(), 2);
        assert_eq!(cases[1].expect.error.as_deref(), Some("days_out_of_range"));
        assert!(
            parse_suite("{\"id\":\"a\",\"request\":{}}\n{\"id\":\"a\",\"request\":{}}").is_err()
        );
        let e = parse_suite("{\"id\":\"a\",\"request\":{},\"expect\":{\"nope\":1}}")
            .expect_err("unknown");
        assert!(e.starts_with("line 1"), "{e}");
        assert!(parse_suite("\n").is_err());
    }

    #[test]
    fn interests_match_stop_kinds() {
        assert!(covers("museums", StopKind::Sight, "museum", "Ateneum"));
        assert!(covers("coffee", StopKind::Cafe, "cafe", "Cafe Regatta"));
        assert!(covers("nature", StopKind::Sight, "park", "Esplanadi"));
        assert!(!covers("museums", StopKind::Lunch, "restaurant", "Savoy"));
    }

    #[test]
    fn thresholds_name_what_falls_short() {
        let t = Thresholds {
            delivery_rate: Some(1.0),
            prose_rates: BTreeMap::from([("cut_off".to_owned(), 0.05)]),
            ..Thresholds::default()
        };
        let mut totals = Totals {
            delivery_rate: 0.9,
            ..Totals::default()
        };
        totals.prose_rates.insert("cut_off".into(), 0.1);
        let misses = t.misses(&totals);
        assert_eq!(misses.len(), 2, "{misses:?}");
        totals.delivery_rate = 1.0;
        totals.prose_rates.insert("cut_off".into(), 0.0);
        assert!(t.misses(&totals).is_empty());
    }
}
