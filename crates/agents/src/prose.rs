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
Answer in exactly this format, one line each, nothing else:\n\
INTRO: <one or two sentences introducing the day>\n\
1: <one sentence about stop 1>\n\
2: <one sentence about stop 2>\n\
and so on for every stop.";

/// The shared system prompt of the trip summary.
const SUMMARY_SYSTEM: &str = "You are the travel writer of Tripwright, a trip planner. Write a \
professional two- or three-sentence summary of a trip from the facts given. Do not write any \
numbers, prices, dates or times: they are added separately. Do not mention any place that is \
not in the facts.";

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
                ChatMessage::user(prompt),
            ]);
            request.max_tokens = self.max_tokens;
            request.temperature = self.temperature;
            request.seed = Some(u64::from(day.day) * 1000 + u64::from(attempt));
            let (text, tokens) = self.generate(request, on_text).await?;
            prose.tokens += tokens;
            prose.attempts = attempt;
            let (intro, notes) = parse_day(&text, day.stops.len());
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
        let kept: Vec<&str> = text
            .split_inclusive(['.', '!', '?'])
            .filter(|s| !s.chars().any(|c| c.is_ascii_digit() || "€$£¥".contains(c)))
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect();
        Ok(kept.join(" "))
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
