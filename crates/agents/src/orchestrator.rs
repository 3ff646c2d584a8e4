//! The orchestrator: a small DAG of agents run on tokio.
//!
//! ```text
//! request ─ validate ─ geocode ─ pricing ─┬─ weather (blocking pool) ─┐
//!                                         ├─ hotels (store + MiniLM) ─┼─ schedule ─ prose ─ summary ─ checks
//!                                         └─ candidate places ────────┘
//! ```
//! Each stage is a method named after it. Weather, hotels and places run concurrently. A
//! failing agent does not sink the plan: its section is left empty, a warning says what
//! happened, and the others still deliver. Progress is reported as [`AgentEvent`]s on an
//! optional channel, which the application layer turns into the events its front ends show.
//! Loading the models and saving the plan are the application layer's: the orchestrator only
//! makes plans.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use chrono::{Datelike, Utc};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc::UnboundedSender;
use tripwright_config::{Config, LlmProvider};
use tripwright_data::gazetteer::Gazetteer;
use tripwright_domain::{
    Destination, GeoPoint, Hotel, Itinerary, Money, MonthScore, Place, PlaceCategory, PlaceId,
    Plan, PlanId, Summary, TripRequest,
};
use tripwright_llm::LlmClient;
use tripwright_ml::embedding::Embedder;
use tripwright_store::PlaceStore;

use crate::AgentError;
use crate::checks::{TOP_MONTHS, run_checks};
use crate::editing::{self, EditContext, PlanEdit};
use crate::encyclopedia::Encyclopedia;
use crate::facts::place_facts;
use crate::grounding::check_text;
use crate::hotels::{HotelAgent, HotelFilters};
use crate::itinerary::{ItineraryInput, default_start_date, plan_itinerary};
use crate::prose::{DayInput, ProseWriter, Sampling, Slot, StopInput, TextEvent};
use crate::streets::{Streets, Walker};
use crate::summary::{Prices, estimate_cost};
use crate::weather::WeatherAgent;
use tripwright_map::route::StreetGraph;

/// The four agents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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

impl AgentName {
    /// Its key: `weather`, `hotels`, `itinerary` or `summary`.
    pub fn as_str(self) -> &'static str {
        match self {
            AgentName::Weather => "weather",
            AgentName::Hotels => "hotels",
            AgentName::Itinerary => "itinerary",
            AgentName::Summary => "summary",
        }
    }
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
    /// Generated text as it streams: a piece to append to a day's intro, a stop's note or the
    /// summary, or (`replace`) that slot's whole new text — empty when an attempt was refused
    /// and the next starts, the kept text when the review dropped something.
    Text {
        /// Where the text goes.
        #[serde(flatten)]
        slot: Slot,
        /// The text.
        text: String,
        /// Whether it replaces the slot's text (else it is appended).
        replace: bool,
    },
    /// How far the writing of the plan's texts is: `done` of `total` written.
    Writing {
        /// Texts written.
        done: usize,
        /// Texts to write.
        total: usize,
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

/// What the orchestrator works with: the data and models loaded once at start-up (by the
/// application layer, which owns the start-up order and its timings) and the place store.
pub struct Agents {
    /// The GeoNames gazetteer.
    pub gazetteer: Arc<Gazetteer>,
    /// The weather model.
    pub weather: Arc<WeatherAgent>,
    /// MiniLM, for the hotel search.
    pub embedder: Arc<Embedder>,
    /// Imported places and the hotel-embedding cache.
    pub places: Arc<dyn PlaceStore>,
    /// The language model that writes the prose, or why there is none (configured off, or
    /// it failed to load): plans are then complete without prose.
    pub llm: Result<Arc<dyn LlmClient>, String>,
    /// Where stop descriptions come from (Wikipedia, with the online lookups on); none: the
    /// stops have their data's facts only.
    pub encyclopedia: Option<Arc<dyn Encyclopedia>>,
    /// The regions' street graphs, for walks along the streets; none: straight lines.
    pub streets: Option<Arc<dyn Streets>>,
}

/// The four agents wired into one plan-making DAG; shared by every request.
pub struct Orchestrator {
    config: Arc<Config>,
    gazetteer: Arc<Gazetteer>,
    weather: Arc<WeatherAgent>,
    hotels: HotelAgent,
    places: Arc<dyn PlaceStore>,
    /// The prose writer, or why there is none.
    prose: Result<ProseWriter, String>,
    encyclopedia: Option<Arc<dyn Encyclopedia>>,
    streets: Option<Arc<dyn Streets>>,
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
                error: error.summary(),
            },
        );
        tracing::warn!(?agent, error = %error, "an agent failed");
    }

    /// Streams prose as it is written.
    fn text(&self, event: TextEvent<'_>) {
        let agent = match event.slot {
            Slot::Note { .. } => AgentName::Itinerary,
        };
        self.send(
            agent,
            AgentStatus::Text {
                slot: event.slot,
                text: event.text.to_owned(),
                replace: event.replace,
            },
        );
        if let Some((done, total)) = event.written {
            self.send(AgentName::Itinerary, AgentStatus::Writing { done, total });
        }
    }
}

fn ms(t: Instant) -> u64 {
    u64::try_from(t.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// The money side of a request: the cost tables in the plan's currency, and the budget when
/// it can be compared.
struct Pricing {
    prices: Prices,
    budget: Option<f64>,
}

/// What the first agents gathered, concurrently: the months, the hotels and the candidate
/// places of the itinerary.
struct Gathered {
    months: Vec<MonthScore>,
    hotels: Vec<Hotel>,
    places: Vec<Place>,
}

/// Categories the itinerary is made of.
const ITINERARY_CATEGORIES: [PlaceCategory; 3] = [
    PlaceCategory::Attraction,
    PlaceCategory::Artwork,
    PlaceCategory::Food,
];

impl Orchestrator {
    /// The orchestrator over the loaded agents and the configuration.
    pub fn new(config: Arc<Config>, agents: Agents) -> Self {
        let prose = agents.llm.map(|llm| {
            ProseWriter::new(
                llm,
                config.llm.attempts,
                config.llm.rewrite_while_plans,
                config.llm.max_tokens,
                config.llm.temperature,
                usize::try_from(config.llm.max_sequences).unwrap_or(1),
            )
        });
        if let Err(why) = &prose {
            tracing::info!(%why, "itinerary prose is off");
        }
        let hotels = HotelAgent::new(
            agents.embedder,
            Arc::clone(&agents.places),
            config.hotels.clone(),
        );
        Orchestrator {
            config,
            gazetteer: agents.gazetteer,
            weather: agents.weather,
            hotels,
            places: agents.places,
            prose,
            encyclopedia: agents.encyclopedia,
            streets: agents.streets,
        }
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

    /// Makes and checks a plan with the given id (saving it is the caller's business).
    /// Progress goes to `events` as it happens. Dropping the future cancels the work,
    /// language model included.
    #[tracing::instrument(skip_all, fields(destination = %req.destination, days = req.days))]
    pub async fn make_plan(
        &self,
        req: TripRequest,
        events: Option<UnboundedSender<AgentEvent>>,
        id: PlanId,
    ) -> Result<Plan, AgentError> {
        req.validate()?;
        let sink = Sink(events);
        let dest = self.gazetteer.geocode(&req.destination)?;
        let mut warnings = Vec::new();
        let pricing = self.pricing(&req, &dest, &mut warnings)?;
        let gathered = self
            .gather(&req, &dest, &pricing.prices, &sink, &mut warnings)
            .await?;
        let t = sink.started(AgentName::Itinerary);
        let base = gathered
            .hotels
            .first()
            .map_or(dest.point(), |h| GeoPoint::new(h.lat, h.lon));
        let streets = self.street_graph(base).await;
        let mut itinerary =
            self.schedule(&req, &dest, &gathered, streets.as_deref(), &mut warnings);
        sink.output(
            AgentName::Itinerary,
            AgentOutput::Itinerary(itinerary.clone()),
        );
        if self.describe_stops(&mut itinerary, &gathered.places).await {
            sink.output(
                AgentName::Itinerary,
                AgentOutput::Itinerary(itinerary.clone()),
            );
        }
        // The summary needs only the schedule (its text is built from the data), so it is
        // done before the notes are written.
        let ts = sink.started(AgentName::Summary);
        let summary = self.summarise(&req, &dest, &itinerary, &gathered, &pricing, &mut warnings);
        sink.output(AgentName::Summary, AgentOutput::Summary(summary.clone()));
        sink.finished(AgentName::Summary, ts);
        let prose_check = self
            .write_prose(&dest, &mut itinerary, &gathered, &sink, &mut warnings)
            .await;
        if prose_check.is_some() {
            sink.output(
                AgentName::Itinerary,
                AgentOutput::Itinerary(itinerary.clone()),
            );
        }
        sink.finished(AgentName::Itinerary, t);
        let mut plan = Plan {
            title: None,
            id,
            created_at: Utc::now(),
            request: req,
            destination: dest,
            best_months: gathered.months,
            hotels: gathered.hotels,
            itinerary,
            summary,
            checks: Vec::new(),
            warnings,
            sources: Vec::new(),
        };
        plan.sources = self.sources(&plan).await;
        plan.checks = self.check(&plan).await?;
        if let Some(detail) = prose_check {
            plan.checks
                .push(prose_grounded(&plan, &gathered.places, detail));
        }
        Ok(plan)
    }

    /// Gives each sight and artwork whose data links an encyclopedia article that article's
    /// summary (asked together; the client keeps the service's pace). Whether any was found.
    async fn describe_stops(&self, itinerary: &mut Itinerary, places: &[Place]) -> bool {
        let Some(encyclopedia) = &self.encyclopedia else {
            return false;
        };
        let by_id: HashMap<&PlaceId, &Place> = places.iter().map(|p| (&p.id, p)).collect();
        let wanted: Vec<(usize, usize, String)> = itinerary
            .days
            .iter()
            .enumerate()
            .flat_map(|(d, day)| {
                day.stops
                    .iter()
                    .enumerate()
                    .filter(|(_, s)| {
                        crate::itinerary::is_activity(s.kind) && s.description.is_none()
                    })
                    .map(move |(i, s)| (d, i, s.place_id.clone()))
            })
            .filter_map(|(d, i, id)| {
                by_id
                    .get(&id)
                    .and_then(|p| crate::encyclopedia::reference(p))
                    .map(|r| (d, i, r))
            })
            .collect();
        let found =
            futures::future::join_all(wanted.iter().map(|(_, _, r)| encyclopedia.describe(r)))
                .await;
        let mut any = false;
        for ((d, i, _), description) in wanted.iter().zip(found) {
            any |= description.is_some();
            itinerary.days[*d].stops[*i].description = description;
        }
        any
    }

    /// Where the plan's hotels and stops came from; none (logged) when the store cannot say.
    async fn sources(&self, plan: &Plan) -> Vec<tripwright_domain::PlaceSource> {
        let ids = place_ids(plan);
        if ids.is_empty() {
            return Vec::new();
        }
        self.places.sources_of(&ids).await.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "the sources of a plan's places could not be read");
            Vec::new()
        })
    }

    /// The cost tables in the currency asked for (else the base currency, with a warning),
    /// and the budget when it is in that currency.
    fn pricing(
        &self,
        req: &TripRequest,
        dest: &Destination,
        warnings: &mut Vec<String>,
    ) -> Result<Pricing, AgentError> {
        let wanted = req
            .currency
            .clone()
            .unwrap_or_else(|| dest.currency.clone());
        let prices = match Prices::new(&self.config.costs, &wanted) {
            Some(p) => p,
            None => {
                let base = &self.config.costs.base_currency;
                warnings.push(format!(
                    "no exchange rate is configured for {wanted}; costs are shown in {base} (add costs.fx_per_base.{wanted} to tripwright.toml)"
                ));
                Prices::new(&self.config.costs, base).ok_or_else(|| {
                    AgentError::Internal(format!("base currency {base} has no rate"))
                })?
            }
        };
        let same_currency = prices.currency() == wanted.to_ascii_uppercase();
        if req.budget.is_some() && !same_currency {
            warnings.push(format!(
                "the budget was given in {wanted} and could not be compared"
            ));
        }
        Ok(Pricing {
            prices,
            budget: req.budget.filter(|_| same_currency),
        })
    }

    /// Weather, hotels and the itinerary's candidate places, concurrently. A failing weather
    /// or hotel agent leaves its part empty with a warning; failing to read the places
    /// fails the plan (there is nothing to plan with).
    async fn gather(
        &self,
        req: &TripRequest,
        dest: &Destination,
        prices: &Prices,
        sink: &Sink,
        warnings: &mut Vec<String>,
    ) -> Result<Gathered, AgentError> {
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
                    .recommend(dest, &req.prefs, filters, prices)
                    .await,
                t,
            )
        };
        let places_task = self.places.places_near(
            dest.point(),
            self.config.planner.radius_km,
            &ITINERARY_CATEGORIES,
        );
        let ((months, tw), (hotels, th), places) =
            tokio::join!(weather_task, hotels_task, places_task);
        let months = match months {
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
                warnings.push(format!("the hotel search failed ({})", e.summary()));
                Vec::new()
            }
        };
        let places = places?;
        if places.is_empty() {
            warnings.push(format!(
                "no place data for {}: the plan has no hotels or stops. Whoever runs this server can import the region's OpenStreetMap extract (`tripwright import osm FILE.osm.pbf`)",
                dest.name
            ));
        }
        Ok(Gathered {
            months,
            hotels,
            places,
        })
    }

    /// The day-by-day skeleton: the travel month (fixed by the user, else the best ranked),
    /// the start date, and the stops timed from the best hotel.
    fn schedule(
        &self,
        req: &TripRequest,
        dest: &Destination,
        gathered: &Gathered,
        streets: Option<&StreetGraph>,
        warnings: &mut Vec<String>,
    ) -> Itinerary {
        let (month, month_fixed) = match (req.month, req.start_date, gathered.months.first()) {
            (Some(m), _, _) => (m, true),
            (None, Some(d), _) => (month_of(d), true),
            (None, None, Some(best)) => (best.month, false),
            (None, None, None) => (month_of(Utc::now().date_naive()) % 12 + 1, true),
        };
        let start_date = req
            .start_date
            .unwrap_or_else(|| default_start_date(month, Utc::now().date_naive()));
        let hotel = gathered.hotels.first();
        let outcome = plan_itinerary(
            &ItineraryInput {
                base: hotel.map_or(dest.point(), |h| GeoPoint::new(h.lat, h.lon)),
                hotel_id: hotel.map(|h| h.id.clone()),
                days: req.days,
                month,
                month_fixed,
                start_date,
                prefs: &req.prefs,
                places: &gathered.places,
                streets,
            },
            &self.config.planner,
        );
        warnings.extend(outcome.warnings);
        outcome.itinerary
    }

    /// Writes the notes of the days' sights when a model is there and the days have stops,
    /// all at once; returns the detail of the `prose` check, or `None` when no prose was
    /// written (with a warning saying why, unless the model is configured off).
    async fn write_prose(
        &self,
        dest: &Destination,
        itinerary: &mut Itinerary,
        gathered: &Gathered,
        sink: &Sink,
        warnings: &mut Vec<String>,
    ) -> Option<String> {
        let writer = match &self.prose {
            Ok(w) if !itinerary.days.iter().all(|d| d.stops.is_empty()) => w,
            Ok(_) => return None,
            Err(why) => {
                if self.config.llm.provider != LlmProvider::Off {
                    tracing::warn!(%why, "no itinerary prose");
                    warnings.push(
                        "no language model is available, so the plan has no descriptions".into(),
                    );
                }
                return None;
            }
        };
        let on_text = |e: TextEvent<'_>| sink.text(e);
        let days = day_inputs(itinerary, &gathered.places, None);
        let others: Vec<&str> = gathered.places.iter().map(|p| p.name.as_str()).collect();
        let written = writer
            .write(
                &days,
                dest,
                &others,
                Sampling {
                    seed: 1,
                    warmer: false,
                },
                &on_text,
            )
            .await;
        drop(days);
        match written {
            Ok(mut w) => {
                apply_texts(itinerary, &mut w.texts);
                Some(w.report.detail(writer.model_id()))
            }
            Err(e) => {
                tracing::warn!(error = %e, "the itinerary prose could not be written");
                warnings.push(format!(
                    "the itinerary prose could not be written ({}); the plan is complete without it",
                    e.summary()
                ));
                None
            }
        }
    }

    /// SummaryAgent: the cost against the budget, and the summary text, built from the
    /// computed values.
    fn summarise(
        &self,
        req: &TripRequest,
        dest: &Destination,
        itinerary: &Itinerary,
        gathered: &Gathered,
        pricing: &Pricing,
        warnings: &mut Vec<String>,
    ) -> Summary {
        let hotel = gathered.hotels.first();
        let cost = estimate_cost(
            itinerary,
            hotel,
            req.travelers,
            pricing.budget,
            &pricing.prices,
        );
        if cost.within_budget == Some(false) {
            warnings.push(format!(
                "the estimated total {} exceeds the budget of {}",
                Money::new(cost.total, &cost.currency),
                Money::new(pricing.budget.unwrap_or_default(), &cost.currency)
            ));
        }
        let text = summary_text(
            dest,
            itinerary,
            &gathered.months,
            hotel,
            &cost,
            req.travelers,
        );
        Summary { text, cost }
    }

    /// Rewrites the prose of day `day` of `plan` with the language model, streaming the new
    /// text to `on_text`. The stops, times and every other day stay as they are.
    ///
    /// Returns the names of the stops the model could not write anew (every attempt caught,
    /// or the same text again): their notes stay as they were, never emptied.
    ///
    /// # Errors
    /// [`AgentError::NoModel`] when no model is configured or loaded, [`AgentError::Invalid`]-like
    /// [`AgentError::NoSuchDay`] for a day the plan does not have, the store or the model failing.
    pub async fn rewrite_day(
        &self,
        plan: &mut Plan,
        day: u8,
        on_text: &(dyn Fn(TextEvent<'_>) + Send + Sync),
    ) -> Result<Vec<String>, AgentError> {
        let writer = self
            .prose
            .as_ref()
            .map_err(|why| AgentError::NoModel(why.clone()))?;
        let days = plan.itinerary.days.len();
        if !plan.itinerary.days.iter().any(|d| d.day == day) {
            return Err(AgentError::NoSuchDay { day, days });
        }
        let places = self.places_of(plan).await?;
        let others: Vec<&str> = places.iter().map(|p| p.name.as_str()).collect();
        let inputs = day_inputs(&plan.itinerary, &places, Some(day));
        // A new seed and a warmer temperature: asking again should not give the same text.
        let seed = u64::try_from(Utc::now().timestamp_micros()).unwrap_or(7);
        let mut written = writer
            .write(
                &inputs,
                &plan.destination,
                &others,
                Sampling { seed, warmer: true },
                on_text,
            )
            .await
            .map_err(AgentError::Prose)?;
        drop(inputs);
        let mut not_better = Vec::new();
        if let Some(d) = plan.itinerary.days.iter().find(|d| d.day == day) {
            for (i, stop) in d.stops.iter().enumerate() {
                let slot = Slot::Note {
                    day,
                    stop: u8::try_from(i).unwrap_or(u8::MAX),
                };
                let Some(new) = written.texts.get(&slot) else {
                    continue;
                };
                if new.trim().is_empty() || *new == stop.note {
                    written.texts.remove(&slot);
                    not_better.push(stop.name.clone());
                }
            }
        }
        apply_texts(&mut plan.itinerary, &mut written.texts);
        Ok(not_better)
    }

    /// Edits the finished `plan` (see [`crate::editing`]): the days it touches are timed again
    /// along the streets, the checks run again (the prose check is kept), the cost is
    /// estimated again. Returns what was done, in words.
    ///
    /// # Errors
    /// [`AgentError::Refused`] for an edit that cannot be made (no such day or stop, no other
    /// place, a place already in the plan), the store failing.
    pub async fn edit(&self, plan: &mut Plan, edit: &PlanEdit) -> Result<String, AgentError> {
        let base = plan_base(plan);
        let places = self.places_of(plan).await?;
        let streets = self.street_graph(base).await;
        let ctx = EditContext {
            base,
            places: &places,
            walker: Walker::new(&self.config.planner, streets.as_deref()),
        };
        let said = editing::apply(plan, edit, &ctx).map_err(|e| AgentError::Refused(e.0))?;
        if let Some(prices) = Prices::new(&self.config.costs, &plan.summary.cost.currency) {
            let hotel = plan.itinerary.hotel_among(&plan.hotels).cloned();
            let budget = plan
                .request
                .budget
                .filter(|_| plan.summary.cost.budget.is_some());
            plan.summary.cost = estimate_cost(
                &plan.itinerary,
                hotel.as_ref(),
                plan.request.travelers,
                budget,
                &prices,
            );
        }
        // The summary names the days' sights and the total: both may have changed.
        plan.summary.text = summary_text(
            &plan.destination,
            &plan.itinerary,
            &plan.best_months,
            plan.itinerary.hotel_among(&plan.hotels),
            &plan.summary.cost,
            plan.request.travelers,
        );
        let fresh = self.check(plan).await?;
        let kept: Vec<tripwright_domain::Check> = plan
            .checks
            .iter()
            .filter(|c| !fresh.iter().any(|f| f.name == c.name) && c.name == "prose")
            .cloned()
            .collect();
        plan.checks = fresh;
        plan.checks.extend(kept);
        Ok(said)
    }

    /// Places near `plan`'s destination whose name contains `query` (ignoring case), that
    /// the plan does not use yet, nearest to the days' base first; at most `limit`.
    pub async fn places_matching(
        &self,
        plan: &Plan,
        query: &str,
        limit: usize,
    ) -> Result<Vec<Place>, AgentError> {
        let wanted = query.trim().to_lowercase();
        if wanted.is_empty() {
            return Ok(Vec::new());
        }
        let used: std::collections::HashSet<&PlaceId> = plan
            .itinerary
            .days
            .iter()
            .flat_map(|d| d.stops.iter().map(|s| &s.place_id))
            .collect();
        let base = plan_base(plan);
        let mut found: Vec<Place> = self
            .places_of(plan)
            .await?
            .into_iter()
            .filter(|p| !used.contains(&p.id) && p.name.to_lowercase().contains(&wanted))
            .collect();
        found.sort_by(|a, b| {
            base.distance_km(&a.point())
                .total_cmp(&base.distance_km(&b.point()))
                .then_with(|| a.id.cmp(&b.id))
        });
        found.truncate(limit);
        Ok(found)
    }

    /// Recomputes the feasibility report of `plan` against the stored places.
    pub async fn check(&self, plan: &Plan) -> Result<Vec<tripwright_domain::Check>, AgentError> {
        let ids = place_ids(plan);
        let places: HashMap<PlaceId, Place> = self
            .places
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
        let streets = self.street_graph(plan_base(plan)).await;
        let walker = Walker::new(&self.config.planner, streets.as_deref());
        Ok(run_checks(plan, &places, walker, area))
    }

    /// The places an itinerary may use around `plan`'s destination (sights, artworks,
    /// eateries).
    async fn places_of(&self, plan: &Plan) -> Result<Vec<Place>, AgentError> {
        Ok(self
            .places
            .places_near(
                plan.destination.point(),
                self.config.planner.radius_km,
                &ITINERARY_CATEGORIES,
            )
            .await?)
    }

    /// The street graph of the region around `p`, when there is one.
    async fn street_graph(&self, p: GeoPoint) -> Option<Arc<StreetGraph>> {
        match &self.streets {
            Some(s) => s.graph_near(p).await,
            None => None,
        }
    }
}

/// Where a plan's days start and end: its hotel, else the destination.
fn plan_base(plan: &Plan) -> GeoPoint {
    plan.itinerary
        .hotel_id
        .as_ref()
        .and_then(|id| plan.hotels.iter().find(|h| &h.id == id))
        .map_or(plan.destination.point(), |h| GeoPoint::new(h.lat, h.lon))
}

/// The ids of a plan's hotels and stops, hotels first.
fn place_ids(plan: &Plan) -> Vec<PlaceId> {
    plan.hotels
        .iter()
        .map(|h| h.id.clone())
        .chain(
            plan.itinerary
                .days
                .iter()
                .flat_map(|d| d.stops.iter().map(|s| s.place_id.clone())),
        )
        .collect()
}

/// Month 1..=12 of a date.
fn month_of(d: chrono::NaiveDate) -> u8 {
    u8::try_from(d.month()).unwrap_or(1)
}

/// The days to write (all, or only `only`), each stop with its place's facts.
fn day_inputs<'a>(
    itinerary: &'a Itinerary,
    places: &[Place],
    only: Option<u8>,
) -> Vec<DayInput<'a>> {
    let by_id: HashMap<&PlaceId, &Place> = places.iter().map(|p| (&p.id, p)).collect();
    itinerary
        .days
        .iter()
        .filter(|d| !d.stops.is_empty() && only.is_none_or(|n| n == d.day))
        .map(|day| DayInput {
            day,
            stops: day
                .stops
                .iter()
                .map(|stop| StopInput {
                    stop,
                    facts: by_id
                        .get(&stop.place_id)
                        .map(|p| place_facts(p))
                        .unwrap_or_default()
                        .into_iter()
                        .chain(
                            stop.description
                                .as_ref()
                                .map(|d| format!("Wikipedia: {}", d.text)),
                        )
                        .collect(),
                })
                .collect(),
        })
        .collect()
}

/// Puts the written notes into the itinerary.
fn apply_texts(itinerary: &mut Itinerary, texts: &mut std::collections::BTreeMap<Slot, String>) {
    for day in &mut itinerary.days {
        for (i, stop) in day.stops.iter_mut().enumerate() {
            let slot = Slot::Note {
                day: day.day,
                stop: u8::try_from(i).unwrap_or(u8::MAX),
            };
            if let Some(note) = texts.remove(&slot) {
                stop.note = note;
            }
        }
    }
}

/// Recomputes, on the finished plan, that the prose names no place but the day's stops.
fn prose_grounded(plan: &Plan, places: &[Place], detail: String) -> tripwright_domain::Check {
    let others: Vec<&str> = places.iter().map(|p| p.name.as_str()).collect();
    let mut problems = Vec::new();
    for day in &plan.itinerary.days {
        let allowed: Vec<&str> = day
            .stops
            .iter()
            .flat_map(tripwright_domain::Stop::names)
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
    // What the text measures show that the writer could not fix: notes it had to leave
    // empty, and anything the reviews should have caught but did not.
    let quality = crate::quality::measure_texts(plan);
    let mut counts = std::collections::BTreeMap::new();
    for f in &quality.findings {
        *counts.entry(f.flaw).or_default() += 1;
    }
    for (flaw, n) in counts {
        problems.push(flaw.counted(n));
    }
    tripwright_domain::Check {
        name: "prose".into(),
        passed: problems.is_empty(),
        detail: if problems.is_empty() {
            detail
        } else {
            format!("{}; {detail}", problems.join("; "))
        },
    }
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
        "A {}-day trip to {}, {}, from {} {}.",
        it.days.len(),
        dest.name,
        dest.country,
        it.days.first().map_or("", |d| d.weekday.as_str()),
        it.start_date.format("%-d %B %Y")
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
            Money::new(h.price_per_night, &cost.currency),
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
    let named = crate::intros::highlights(&it.days, 3);
    s.push_str(&format!(
        " The itinerary has {} over {}{}.",
        tripwright_domain::plural(sights, "sight", "sights"),
        tripwright_domain::plural(it.days.len(), "day", "days"),
        if named.is_empty() || sights <= named.len() {
            String::new()
        } else {
            format!(", among them {}", crate::intros::and_list(&named))
        }
    ));
    s.push_str(&format!(
        " Estimated total for {}: {}",
        tripwright_domain::plural(usize::from(travelers), "traveller", "travellers"),
        Money::new(cost.total, &cost.currency)
    ));
    match (cost.budget, cost.within_budget) {
        (Some(b), Some(true)) => s.push_str(&format!(
            ", within the budget of {}.",
            Money::new(b, &cost.currency)
        )),
        (Some(b), Some(false)) => s.push_str(&format!(
            ", over the budget of {}.",
            Money::new(b, &cost.currency)
        )),
        _ => s.push('.'),
    }
    s
}
