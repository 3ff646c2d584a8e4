//! ItineraryPlannerAgent's prose and SummaryAgent's summary, written by a language model
//! around a plan that is already fixed.
//!
//! The model only phrases: the stops, their names, times and every figure come from the
//! plan. Output is validated ([`crate::grounding`]): near-miss spellings of stop names are
//! corrected, and text naming another real place or an invented venue is regenerated
//! (bounded attempts), then the offending sentences are dropped. The system prompt is the
//! same for every day and every request, so the embedded engine's prefix cache serves it.

use std::sync::Arc;

use futures::StreamExt;
use tripwright_domain::{DayPlan, Destination, StopKind, month_name};
use tripwright_llm::{ChatMessage, ChatRequest, LlmClient, LlmError, StreamEvent};

use crate::grounding::{check_text, correct_near_misses, remove_ungrounded_sentences};

/// The shared system prompt of itinerary prose.
const DAY_SYSTEM: &str = "You are the travel writer of Tripwright, a trip planner. You write short, warm, \
factual prose for one day of a trip. The stops are fixed: write only about the stops you are \
given, in the order given. Never mention any other place, street, shop, restaurant, museum, \
hotel or business. Do not invent opening hours, prices, dates or facts you are not sure of. \
Do not copy the list of stops and do not write any times, dates or numbers: they are shown \
separately. Answer in exactly this format, one line each, nothing else:\n\
INTRO: <one or two sentences introducing the day>\n\
1: <one sentence about stop 1>\n\
2: <one sentence about stop 2>\n\
and so on for every stop.";

/// A worked example shown before every day's request (the same for every request, so the
/// prefix cache serves it too). Small models copy the request's list instead of writing
/// prose without one. Its city is far from any destination a plan mentions with it, and
/// naming one of its places in a real day is caught like any other invented venue.
const DAY_EXAMPLE: [&str; 2] = [
    "City: Porto, Portugal. Month: May. Day 1 (Monday).\nStops:\n\
     1. Serralves Museum (museum), 10:00–11:30\n\
     2. Café Majestic (coffee break), 11:45–12:15\n",
    "INTRO: A gentle start among modern art and gardens, then a pause in a grand old café.\n\
     1: Serralves Museum pairs contemporary exhibitions with wide gardens that reward an unhurried walk.\n\
     2: Café Majestic is an ornate Belle Époque café, a good place to sit and watch the street.",
];

/// The shared system prompt of the trip summary.
const SUMMARY_SYSTEM: &str = "You are the travel writer of Tripwright, a trip planner. Write a \
professional two- or three-sentence summary of a trip from the facts given. Do not write any \
numbers, prices, dates or times: they are added separately. Do not mention any place that is \
not in the facts. Describe each place only as what the facts call it (museum, café, memorial …): \
do not attribute features, history or food to it.";

/// Prose for one day.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DayProse {
    /// Introduction of the day.
    pub intro: String,
    /// One note per stop, in stop order (empty where the model wrote nothing usable).
    pub notes: Vec<String>,
    /// Generations used (1 = first try accepted).
    pub attempts: u32,
    /// Sentences dropped because they named something they should not.
    pub removed_sentences: usize,
    /// Names respelled to the canonical stop name.
    pub corrected_names: usize,
    /// Tokens generated over all attempts.
    pub tokens: u32,
}

/// Writes prose with a language model.
pub struct ProseWriter {
    llm: Arc<dyn LlmClient>,
    attempts: u32,
    max_tokens: u32,
    temperature: f32,
}

impl ProseWriter {
    /// A writer over `llm`; `attempts` ≥ 1 generations per day before sentences are dropped.
    pub fn new(llm: Arc<dyn LlmClient>, attempts: u32, max_tokens: u32, temperature: f32) -> Self {
        Self {
            llm,
            attempts: attempts.max(1),
            max_tokens,
            temperature,
        }
    }

    /// The language model it writes with.
    pub fn llm(&self) -> &Arc<dyn LlmClient> {
        &self.llm
    }

    /// The model's name.
    pub fn model_id(&self) -> &str {
        self.llm.model_id()
    }

    /// Writes the prose of `day`. `others` are the names of the other places known at the
    /// destination (they must not appear). Generated text is passed to `on_text` as it
    /// streams, attempt by attempt.
    pub async fn write_day(
        &self,
        dest: &Destination,
        month: u8,
        day: &DayPlan,
        others: &[String],
        on_text: &(dyn Fn(&str) + Send + Sync),
    ) -> Result<DayProse, LlmError> {
        let allowed: Vec<&str> = day
            .stops
            .iter()
            .map(|s| s.name.as_str())
            .chain([dest.name.as_str(), dest.country.as_str()])
            .collect();
        let others: Vec<&str> = others
            .iter()
            .map(String::as_str)
            .filter(|o| !allowed.contains(o))
            .collect();
        let mut user = format!(
            "City: {}, {}. Month: {}. Day {} ({}).\nStops:\n",
            dest.name,
            dest.country,
            month_name(month),
            day.day,
            day.weekday
        );
        for (i, s) in day.stops.iter().enumerate() {
            let what = match s.kind {
                StopKind::Lunch => "lunch".to_owned(),
                StopKind::Dinner => "dinner".to_owned(),
                StopKind::Cafe => "coffee break".to_owned(),
                _ => s.place_kind.replace(['_', ':'], " "),
            };
            user.push_str(&format!(
                "{}. {} ({what}), {}–{}\n",
                i + 1,
                s.name,
                s.start,
                s.end
            ));
        }
        let mut prose = DayProse::default();
        let mut avoid: Vec<String> = Vec::new();
        for attempt in 1..=self.attempts {
            let mut prompt = user.clone();
            if !avoid.is_empty() {
                prompt.push_str(&format!("Do not mention: {}.\n", avoid.join(", ")));
            }
            let mut request = ChatRequest::new(vec![
                ChatMessage::system(DAY_SYSTEM),
                ChatMessage::user(DAY_EXAMPLE[0]),
                ChatMessage::assistant(DAY_EXAMPLE[1]),
                ChatMessage::user(prompt),
            ]);
            request.max_tokens = self.max_tokens;
            request.temperature = self.temperature;
            request.seed = Some(u64::from(day.day) * 1000 + u64::from(attempt));
            let (text, tokens) = self.generate(request, on_text).await?;
            prose.tokens += tokens;
            prose.attempts = attempt;
            let (intro, notes) = parse_day(&text, day.stops.len());
            // Times, dates and prices come from the plan, never from the model; a sentence
            // with a figure is most often the stop list copied back.
            let intro = without_figures(&intro);
            let notes: Vec<String> = notes
                .iter()
                .zip(&day.stops)
                .map(|(n, stop)| true_to_kind(&without_figures(n), stop))
                .collect();
            let mut corrected = 0;
            let mut fix = |t: &str| {
                let c = correct_near_misses(t, &allowed);
                corrected += usize::from(c != t);
                c
            };
            prose.intro = fix(&intro);
            prose.notes = notes.iter().map(|n| fix(n)).collect();
            prose.corrected_names = corrected;
            let bad: Vec<String> = std::iter::once(&prose.intro)
                .chain(&prose.notes)
                .flat_map(|t| {
                    let f = check_text(t, &allowed, &others);
                    f.other_places.into_iter().chain(f.invented)
                })
                .collect();
            if bad.is_empty() {
                return Ok(prose);
            }
            avoid.extend(
                bad.into_iter()
                    .filter(|b| !avoid.contains(b))
                    .collect::<Vec<_>>(),
            );
        }
        // Still naming what it should not: keep only the clean sentences.
        let mut removed = 0;
        let mut clean = |t: &str| {
            let (kept, n) = remove_ungrounded_sentences(t, &allowed, &others);
            removed += n;
            kept
        };
        prose.intro = clean(&prose.intro.clone());
        prose.notes = prose.notes.clone().iter().map(|n| clean(n)).collect();
        prose.removed_sentences = removed;
        Ok(prose)
    }

    /// Writes the trip summary's prose from facts without figures; sentences with digits
    /// are dropped, since every figure is added by the caller from the computed values.
    pub async fn write_summary(
        &self,
        facts: &str,
        on_text: &(dyn Fn(&str) + Send + Sync),
    ) -> Result<String, LlmError> {
        let mut request = ChatRequest::new(vec![
            ChatMessage::system(SUMMARY_SYSTEM),
            ChatMessage::user(facts.to_owned()),
        ]);
        request.max_tokens = self.max_tokens;
        request.temperature = self.temperature;
        request.seed = Some(7);
        let (text, _) = self.generate(request, on_text).await?;
        Ok(without_figures(&text))
    }

    async fn generate(
        &self,
        request: ChatRequest,
        on_text: &(dyn Fn(&str) + Send + Sync),
    ) -> Result<(String, u32), LlmError> {
        let mut stream = self.llm.stream(request).await?;
        let mut text = String::new();
        while let Some(event) = stream.next().await {
            match event? {
                StreamEvent::Token(t) => {
                    on_text(&t);
                    text.push_str(&t);
                }
                StreamEvent::Done { usage, .. } => return Ok((text, usage.completion_tokens)),
            }
        }
        Err(LlmError::Unavailable(
            "the model's stream ended without finishing".into(),
        ))
    }
}

/// `text` without its sentences that hold a digit or a currency sign: every figure in a plan
/// is computed and added by the caller, so one written by the model is unchecked.
fn without_figures(text: &str) -> String {
    text.split_inclusive(['.', '!', '?'])
        .filter(|s| !s.chars().any(|c| c.is_ascii_digit() || "€$£¥".contains(c)))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Words that make a sentence about food and drink.
const FOOD_WORDS: &[&str] = &[
    "restaurant",
    "restaurants",
    "café",
    "cafe",
    "bistro",
    "steakhouse",
    "pizzeria",
    "bar",
    "pub",
    "cuisine",
    "dish",
    "dishes",
    "menu",
    "eat",
    "dine",
    "dining",
    "food",
    "meal",
    "meals",
    "brunch",
    "wine",
    "wines",
    "beer",
];
/// Words that make a sentence about a sight.
const SIGHT_WORDS: &[&str] = &[
    "museum",
    "gallery",
    "exhibition",
    "exhibitions",
    "collection",
    "collections",
    "artworks",
    "paintings",
    "sculptures",
    "memorial",
    "monument",
    "church",
    "cathedral",
    "statue",
];
/// Claims of a cuisine or origin the data almost never supports.
const ORIGIN_WORDS: &[&str] = &[
    "italian",
    "french",
    "japanese",
    "chinese",
    "mexican",
    "spanish",
    "greek",
    "thai",
    "indian",
    "american",
    "turkish",
    "vietnamese",
    "korean",
    "lebanese",
    "renaissance",
    "baroque",
    "gothic",
    "medieval",
    "ancient",
];

/// Words that call a place a person ("Amos Rex is a masterful chef").
const PERSON_WORDS: &[&str] = &[
    "chef", "cook", "poet", "painter", "artist", "composer", "writer", "singer", "architect",
    "sculptor", "novelist", "actor", "actress",
];
/// Kinds of stop that are small objects, not buildings one enters.
const OBJECT_KINDS: &[&str] = &[
    "memorial", "grave", "plaque", "statue", "monument", "artwork", "wayside cross",
    "boundary stone", "stone",
];

/// Whether `sentence`, written about `stop`, calls it another kind of place than its data
/// says: food words about a museum, museum words about a restaurant, a cuisine or style its
/// name and kind do not carry, a person's trade ("a masterful chef") for a place, or a
/// building for a grave or a plaque. Small models often describe a museum as a café; the plan
/// knows better.
pub fn contradicts_kind(sentence: &str, stop: &tripwright_domain::Stop) -> bool {
    let food_stop = matches!(
        stop.kind,
        StopKind::Lunch | StopKind::Dinner | StopKind::Cafe
    );
    let place_kind = stop.place_kind.replace(['_', ':'], " ").to_lowercase();
    let own = format!("{} {place_kind}", stop.name).to_lowercase();
    let wrong: &[&str] = if food_stop { SIGHT_WORDS } else { FOOD_WORDS };
    // The stop's own name may hold such a word ("Cafe Esplanad"); judge the rest.
    let rest = sentence
        .to_lowercase()
        .replace(&stop.name.to_lowercase(), " ");
    let words: Vec<&str> = rest
        .split(|c: char| !c.is_alphanumeric() && c != 'é')
        .filter(|w| !w.is_empty())
        .collect();
    let object = OBJECT_KINDS.iter().any(|k| place_kind.contains(k));
    // Within food, a café is not a restaurant and a restaurant is not a café or a bar.
    let other_food: &[&str] = match place_kind.as_str() {
        "cafe" => &["restaurant", "steakhouse", "pizzeria", "bistro", "pub", "bar"],
        "restaurant" | "fast food" => &["cafe", "café", "pub", "bar"],
        "bar" | "pub" => &["cafe", "café", "steakhouse"],
        _ => &[],
    };
    words.iter().any(|w| {
        wrong.contains(w)
            || (other_food.contains(w) && !own.contains(w))
            || (ORIGIN_WORDS.contains(w) && !own.contains(w))
            || (PERSON_WORDS.contains(w) && !own.contains(w) && !object)
            || (object && matches!(*w, "building" | "buildings"))
    })
}

/// `note` without the sentences that contradict what the stop is ([`contradicts_kind`]).
fn true_to_kind(note: &str, stop: &tripwright_domain::Stop) -> String {
    note.split_inclusive(['.', '!', '?'])
        .filter(|sentence| !contradicts_kind(sentence, stop))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Every fixed text the model is shown (system prompts and the worked example): prose that
/// repeats a long run of their words was copied, not written about the stop.
pub fn prompt_texts() -> Vec<&'static str> {
    vec![DAY_SYSTEM, DAY_EXAMPLE[0], DAY_EXAMPLE[1], SUMMARY_SYSTEM]
}

/// Parses `INTRO: …` and `N: …` lines; lines the model numbered `N.` or `N)` count too.
fn parse_day(text: &str, stops: usize) -> (String, Vec<String>) {
    let mut intro = String::new();
    let mut notes = vec![String::new(); stops];
    for line in text.lines() {
        let line = line.trim().trim_start_matches(['*', '-', '#', ' ']);
        if let Some(rest) = strip_prefix_ci(line, "intro:") {
            intro = rest.trim().to_owned();
            continue;
        }
        let digits: String = line.chars().take_while(char::is_ascii_digit).collect();
        if digits.is_empty() {
            continue;
        }
        let rest = line[digits.len()..].trim_start_matches([':', '.', ')', ' ', '*']);
        if let Ok(n) = digits.parse::<usize>()
            && (1..=stops).contains(&n)
            && notes[n - 1].is_empty()
        {
            notes[n - 1] = rest.trim().to_owned();
        }
    }
    (intro, notes)
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    s.get(..prefix.len())
        .filter(|p| p.eq_ignore_ascii_case(prefix))
        .map(|_| &s[prefix.len()..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentences_contradicting_the_stop_are_dropped() {
        let stop = |name: &str, kind, place_kind: &str| tripwright_domain::Stop {
            place_id: "osm:node/1".into(),
            name: name.into(),
            kind,
            place_kind: place_kind.into(),
            lat: 60.17,
            lon: 24.94,
            start: tripwright_domain::TimeOfDay::from_minutes(600),
            end: tripwright_domain::TimeOfDay::from_minutes(690),
            walk_minutes: 3,
            walk_km: 0.2,
            opening_hours: None,
            note: String::new(),
        };
        let museum = stop("Amos Rex", StopKind::Sight, "museum");
        assert_eq!(
            true_to_kind(
                "Amos Rex is an Italian restaurant with modern cuisine. Its galleries lie underground.",
                &museum
            ),
            "Its galleries lie underground."
        );
        assert_eq!(
            true_to_kind(
                "Kiasma is a Renaissance museum. A great place to eat.",
                &stop("Kiasma", StopKind::Sight, "museum")
            ),
            ""
        );
        let cafe = stop("Cafe Esplanad", StopKind::Cafe, "cafe");
        assert_eq!(
            true_to_kind(
                "Cafe Esplanad is known for its cinnamon buns. It has a famous art collection.",
                &cafe
            ),
            "Cafe Esplanad is known for its cinnamon buns."
        );
    }

    #[test]
    fn sentences_with_figures_are_dropped() {
        assert_eq!(
            without_figures(
                "Helsinki, Finland. July 1 (Saturday). A day of art! Tickets cost €12."
            ),
            "Helsinki, Finland. A day of art!"
        );
        assert_eq!(without_figures("Ateneum (museum), 10:00–11:30"), "");
        assert_eq!(without_figures("No figures here"), "No figures here");
    }

    #[test]
    fn parses_the_format_and_tolerates_variants() {
        let text = "INTRO: A day of art.\n1: Ateneum holds Finnish classics.\n2. Kiasma is modern.\n**3)** Coffee at Engel.\n9: out of range\nchatter";
        let (intro, notes) = parse_day(text, 3);
        assert_eq!(intro, "A day of art.");
        assert_eq!(notes[0], "Ateneum holds Finnish classics.");
        assert_eq!(notes[1], "Kiasma is modern.");
        assert_eq!(notes[2], "Coffee at Engel.");
        let (intro, notes) = parse_day("nothing useful", 2);
        assert!(intro.is_empty() && notes.iter().all(String::is_empty));
    }
}
