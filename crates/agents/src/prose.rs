//! ItineraryPlannerAgent's prose and SummaryAgent's summary, written by a language model
//! around a plan that is already fixed.
//!
//! The model is asked for little, and told what is true: a short note per sight or artwork
//! from the stop's own facts (its kind and the descriptive tags of the place data). A meal or
//! a coffee break shows its data instead, and the day intros and the summary are built from
//! the data ([`crate::intros`]): those were where a small model went most wrong. Each note is
//! an independent request, so the embedded engine batches them together (continuous
//! batching), and every request shares one system prompt, which its prefix cache serves.
//!
//! Every text is reviewed before it is kept ([`review`]): near-miss spellings of stop names
//! are corrected; a sentence that names another real place or an invented venue, calls the
//! stop another kind of place, holds a figure its facts do not, repeats the prompt's wording,
//! alters a stop's name or is cut off is caught. A text with a catch is written again (another
//! seed, a little warmer, told what to avoid), up to the configured attempts; then the caught
//! sentences are dropped. The streamed text of each attempt is replaced, visibly, by the next
//! attempt or by the text finally kept, so what the user saw last is what the plan holds.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering as AtomicOrdering};

use futures::StreamExt;
use serde::{Deserialize, Serialize};
use tripwright_domain::{DayPlan, Destination, Stop, StopKind, plural};
use tripwright_llm::{ChatMessage, ChatRequest, FinishReason, LlmClient, LlmError, StreamEvent};

use crate::grounding::{abbreviated, check_text, correct_near_misses, split_sentences};
use crate::kinds::contradicts_kind;
use crate::quality::{
    altered_names, copied, cut_off, numbers, only_names, plain_word, same_word, unsupported_claims,
    unsupported_names, whole_clauses, without_claims, words,
};

/// The one system prompt of every prose request (so the prefix cache serves it), with a worked
/// example. Its city is far from any destination a plan mentions with it, and a note that
/// copies the example's words is caught as copied.
const SYSTEM: &str = "You are the travel writer of Tripwright, a trip planner. You are given one \
small task at a time. For a place, write one sentence of at most 20 words for a traveller about \
it. Rules: write plain sentences only, no lists, headings or quotes. Say only what the facts you \
are given say, with no opinions, and call each place what its kind says it is. Never mention any \
other place or street, shop, restaurant, museum, hotel or business. Never invent numbers, years, \
dates, times, prices, people, awards or features. Keep the place names exactly as given.\n\
Example: Place: Serralves Museum, a museum in Porto, Portugal. Facts: architect: Álvaro Siza; \
since 1999; street: Rua Dom João de Castro.\n\
Answer: Serralves Museum is a museum on Rua Dom João de Castro, designed by Álvaro Siza and open \
since 1999.";

/// Decimal digits of other scripts, first and last: Arabic-Indic, Extended Arabic-Indic
/// (Persian), Devanagari, Bengali, Thai and fullwidth.
const OTHER_DIGITS: [(char, char); 6] = [
    ('\u{0660}', '\u{0669}'),
    ('\u{06F0}', '\u{06F9}'),
    ('\u{0966}', '\u{096F}'),
    ('\u{09E6}', '\u{09EF}'),
    ('\u{0E50}', '\u{0E59}'),
    ('\u{FF10}', '\u{FF19}'),
];

/// Where a piece of prose goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "slot", rename_all = "snake_case")]
pub enum Slot {
    /// The note of stop `stop` (0-based) of day `day`.
    Note {
        /// The day, 1-based.
        day: u8,
        /// The stop's index in the day.
        stop: u8,
    },
}

/// Prose as it streams: a piece to append to `slot`, or (`replace`) the slot's whole new text
/// (empty when an attempt was refused and the next one starts).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextEvent<'a> {
    /// Where it goes.
    pub slot: Slot,
    /// The text.
    pub text: &'a str,
    /// Whether it replaces what the slot shows (else it is appended).
    pub replace: bool,
    /// Set on a slot's last event (its kept text): how many of the plan's texts are now
    /// written, of how many.
    pub written: Option<(usize, usize)>,
}

/// What a review caught in a sentence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Caught {
    /// It named another real place of the destination.
    OtherPlace,
    /// It named a venue that does not exist in the data.
    Invented,
    /// It called the stop another kind of place.
    WrongKind,
    /// It held a number or year the facts do not.
    Figure,
    /// It held a name (a person, a company, a title) the facts do not.
    UnsupportedName,
    /// It repeated the prompt's or the example's words.
    Copied,
    /// It was cut off.
    CutOff,
    /// It wrote a stop's name differently.
    NameAltered,
    /// It claimed fame, rank, age or history the facts do not hold.
    Claim,
}

impl Caught {
    /// Its name in the `prose` check's detail.
    pub fn as_str(self) -> &'static str {
        match self {
            Caught::OtherPlace => "another place named",
            Caught::Invented => "invented venue",
            Caught::WrongKind => "wrong kind of place",
            Caught::Figure => "unsupported figure",
            Caught::UnsupportedName => "unsupported name",
            Caught::Copied => "copied from the prompt",
            Caught::CutOff => "cut off",
            Caught::NameAltered => "name altered",
            Caught::Claim => "unsupported claim",
        }
    }
}

/// A stop with its facts.
#[derive(Debug, Clone)]
pub struct StopInput<'a> {
    /// The stop.
    pub stop: &'a Stop,
    /// What the data says about it ([`crate::facts::place_facts`]).
    pub facts: Vec<String>,
}

/// A day to write.
#[derive(Debug, Clone)]
pub struct DayInput<'a> {
    /// The day.
    pub day: &'a DayPlan,
    /// Its stops with their facts, in order.
    pub stops: Vec<StopInput<'a>>,
}

/// What the writer did: for the `prose` check's detail.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ProseReport {
    /// Texts asked for.
    pub requests: usize,
    /// Generations run (first tries and retries).
    pub generations: usize,
    /// Tokens generated.
    pub tokens: u64,
    /// Stop names respelled to their canonical spelling.
    pub corrected: usize,
    /// What the reviews caught, over every attempt.
    pub caught: BTreeMap<Caught, usize>,
    /// Sentences dropped from the texts finally kept.
    pub dropped: usize,
    /// Texts not written again, though caught, because other plans were being written.
    pub skipped: usize,
}

impl ProseReport {
    fn add(&mut self, other: &ProseReport) {
        self.requests += other.requests;
        self.generations += other.generations;
        self.tokens += other.tokens;
        self.corrected += other.corrected;
        self.dropped += other.dropped;
        self.skipped += other.skipped;
        for (k, v) in &other.caught {
            *self.caught.entry(*k).or_default() += v;
        }
    }

    /// "written by M and checked against the place data: 24 texts (27 generations, 812
    /// tokens); caught: 2 copied from the prompt, 1 wrong kind of place; 1 sentence removed,
    /// 0 names respelled".
    pub fn detail(&self, model: &str) -> String {
        let caught = if self.caught.is_empty() {
            "nothing".to_owned()
        } else {
            self.caught
                .iter()
                .map(|(k, n)| format!("{n} {}", k.as_str()))
                .collect::<Vec<_>>()
                .join(", ")
        };
        format!(
            "written by {model} and checked against the place data: {} ({}, {}); caught: {caught}; {} removed, {} respelled",
            plural(self.requests, "text", "texts"),
            plural(self.generations, "generation", "generations"),
            plural(
                usize::try_from(self.tokens).unwrap_or(usize::MAX),
                "token",
                "tokens"
            ),
            plural(self.dropped, "sentence", "sentences"),
            plural(self.corrected, "name", "names"),
        ) + &if self.skipped > 0 {
            format!(
                "; {} not written again while other plans were written",
                plural(self.skipped, "text", "texts")
            )
        } else {
            String::new()
        }
    }
}

/// What was written.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Written {
    /// Each slot's kept text (empty when nothing usable was written).
    pub texts: BTreeMap<Slot, String>,
    /// What happened.
    pub report: ProseReport,
}

/// What a text is about, for its review.
struct Subject<'a> {
    /// Names it may write.
    allowed: Vec<&'a str>,
    /// Other places of the destination, which it must not name.
    others: &'a [&'a str],
    /// The stop it is about (for the kind rules), if one.
    stop: Option<&'a Stop>,
    /// The facts it may take figures from.
    facts: String,
    /// The destination's city, to say a street is in it ("on Annankatu in Helsinki").
    city: &'a str,
    /// The words only its facts hold, not its name, kind or city ("Snellman", "statesman",
    /// "Wikström", "1923"): a note with none of them says nothing its stop's line on the page
    /// does not ("Taru ja totuus is a historic memorial in Helsinki, Finland.").
    telling: Vec<String>,
}

impl Subject<'_> {
    /// Whether `note` says nothing of its facts though it has some to say.
    fn thin(&self, note: &str) -> bool {
        !self.telling.is_empty()
            && !words(note)
                .iter()
                .any(|w| self.telling.iter().any(|t| same_word(w, t)))
    }
}

impl Subject<'_> {
    /// The digits its facts (which hold the names it is given) do not: the model cannot
    /// sample them, so it cannot invent a year or a number out of them (the review still
    /// checks the figures made of the digits left).
    fn forbidden_digits(&self) -> Vec<char> {
        ('0'..='9')
            .filter(|d| !self.facts.contains(*d))
            // Other scripts' digits are never English prose: the 1.5B model wrote "open since
            // ۱۹۶۰" once the Latin ones were masked.
            .chain(OTHER_DIGITS.iter().flat_map(|&(zero, nine)| zero..=nine))
            .collect()
    }
}

/// One text's review: the sentences kept and what was caught.
#[derive(Debug, Clone, Default, PartialEq)]
struct Review {
    kept: String,
    caught: Vec<Caught>,
    corrected: usize,
    /// Sentences kept without the clause of an unsupported claim.
    trimmed: usize,
    /// Sentences dropped (one may be caught for several flaws).
    dropped: usize,
    /// What was caught in the sentences kept without their caught clauses.
    cut: Vec<Caught>,
}

/// The model's answer as prose: its first paragraph, without a leading label or quotes.
fn clean_answer(raw: &str) -> String {
    let first = raw.trim().split("\n\n").next().unwrap_or_default();
    let mut t = first.replace('\n', " ");
    for label in ["answer:", "note:", "introduction:", "summary:", "intro:"] {
        if t.to_lowercase().starts_with(label) {
            t = t[label.len()..].to_owned();
        }
    }
    t.trim()
        .trim_matches(|c| c == '"' || c == '“' || c == '”')
        .trim()
        .to_owned()
}

/// The words only `s`'s facts hold ([`Subject::telling`]): not its name, kind or city, nor
/// a plain word or a fact's label.
fn telling(s: &StopInput<'_>, city: &str) -> Vec<String> {
    const LABELS: [&str; 12] = [
        "english",
        "name",
        "inscription",
        "description",
        "artist",
        "architect",
        "cuisine",
        "subject",
        "material",
        "denomination",
        "wikipedia",
        "from",
    ];
    let own = words(&format!(
        "{} {} {} {city}",
        s.stop.name,
        s.stop.place_kind,
        what(s.stop)
    ));
    let mut out: Vec<String> = Vec::new();
    for w in words(&s.facts.join(" ")) {
        if w.chars().count() >= 3
            && !plain_word(&w)
            && !LABELS.contains(&w.as_str())
            && !own.iter().any(|o| same_word(&w, o))
            && !out.contains(&w)
        {
            out.push(w);
        }
    }
    out
}

/// `text` with the stop's street said as a street: the small model writes the street it is
/// given where a city goes ("a gallery located in Annankatu, Finland" → "a gallery located on
/// Annankatu in Helsinki").
fn on_its_street(text: &str, stop: &Stop, city: &str) -> String {
    let Some(street) = stop.facts.iter().find_map(|f| f.strip_prefix("street: ")) else {
        return text.to_owned();
    };
    let mut out = text.to_owned();
    for wrong in [format!("in the {street}"), format!("in {street}")] {
        let Some(at) = out.find(&wrong) else {
            continue;
        };
        let after = &out[at + wrong.len()..];
        // "in Annankatu, Finland": the capitalised words after it (the country) were meant
        // for its city.
        let rest = match after.strip_prefix(", ") {
            Some(tail) if !tail.starts_with(city) => {
                let place_end = tail
                    .split_inclusive(' ')
                    .take_while(|w| w.chars().next().is_some_and(char::is_uppercase))
                    .map(str::len)
                    .sum::<usize>();
                let place = tail[..place_end].trim_end();
                let place = place.trim_end_matches(['.', ',', ';']);
                if place.is_empty() || place.split_whitespace().count() > 2 {
                    after.to_owned()
                } else {
                    format!(" in {city}{}", &tail[place.len()..])
                }
            }
            _ => after.to_owned(),
        };
        out = format!("{}on {street}{rest}", &out[..at]);
        break;
    }
    out
}

/// Reviews one text: corrects near-miss names, then keeps the sentences nothing is caught in.
fn review(raw: &str, subject: &Subject<'_>, prompts: &[Vec<String>], finished: bool) -> Review {
    let text = clean_answer(raw);
    let corrected_text = correct_near_misses(&text, &subject.allowed);
    let corrected = usize::from(corrected_text != text);
    let mut r = Review {
        corrected,
        ..Review::default()
    };
    let sentences = split_sentences(&corrected_text);
    let n = sentences.len();
    let fact_numbers = numbers(&subject.facts);
    let mut kept = Vec::new();
    for (i, sentence) in sentences.into_iter().enumerate() {
        let sentence = sentence.trim();
        if sentence.is_empty() {
            continue;
        }
        let mut caught = Vec::new();
        let grounding = check_text(sentence, &subject.allowed, subject.others);
        if !grounding.other_places.is_empty() {
            caught.push(Caught::OtherPlace);
        }
        if !grounding.invented.is_empty() {
            caught.push(Caught::Invented);
        }
        if subject.stop.is_some_and(|s| contradicts_kind(sentence, s)) {
            caught.push(Caught::WrongKind);
        }
        if numbers(sentence).iter().any(|x| !fact_numbers.contains(x)) {
            caught.push(Caught::Figure);
        }
        if copied(sentence, prompts) || only_names(sentence, &subject.allowed) {
            caught.push(Caught::Copied);
        }
        // A known or invented place is caught as such; any other name is unsupported.
        if caught.is_empty()
            && !unsupported_names(sentence, &subject.allowed, &subject.facts).is_empty()
        {
            caught.push(Caught::UnsupportedName);
        }
        // The last sentence of a text the model did not finish, or one without an end.
        if i + 1 == n && (cut_off(sentence) || !finished && cut_off(&corrected_text)) {
            caught.push(Caught::CutOff);
        }
        if !altered_names(sentence, &subject.allowed).is_empty() {
            caught.push(Caught::NameAltered);
        }
        if !unsupported_claims(sentence, &subject.facts).is_empty() {
            // Only the claim is wrong: keep the rest when it still says something (and says
            // nothing else caught).
            if caught.is_empty()
                && let Some(trimmed) = without_claims(sentence, &subject.facts)
                && review(&trimmed, subject, prompts, true).caught.is_empty()
            {
                kept.push(trimmed);
                r.trimmed += 1;
                continue;
            }
            caught.push(Caught::Claim);
        }
        if caught.is_empty() {
            kept.push(sentence.to_owned());
            continue;
        }
        // Caught: its first clauses may still be a true sentence ("Kiasma is a museum in
        // Helsinki, Finland, designed by the English architect Álvaro Siza." → "Kiasma is a
        // museum in Helsinki, Finland."). The longest that passes the whole review is kept;
        // what was caught is reported all the same.
        if let Some(part) = whole_clauses(sentence).into_iter().find_map(|(_, part)| {
            let r = review(&part, subject, prompts, true);
            (r.caught.is_empty() && !r.kept.is_empty()).then_some(r.kept)
        }) {
            kept.push(part);
            r.cut.extend(caught);
            continue;
        }
        r.dropped += 1;
        r.caught.extend(caught);
    }
    r.kept = kept.join(" ");
    // After the claims are struck out: "in the historic Kirkkokatu" is "in the Kirkkokatu" only
    // then.
    if let Some(stop) = subject.stop {
        let said = on_its_street(&r.kept, stop, subject.city);
        if said != r.kept {
            r.corrected += 1;
            r.kept = said;
        }
    }
    r
}

/// Writes prose with a language model.
pub struct ProseWriter {
    llm: Arc<dyn LlmClient>,
    attempts: u32,
    rewrite_while: usize,
    max_tokens: u32,
    temperature: f32,
    concurrency: usize,
    /// How many plans (or day rewrites) this writer is writing now: a caught text is written
    /// again only while it writes at most `rewrite_while`, so that on a shared machine
    /// quality costs time only when there is time.
    writing: Arc<AtomicUsize>,
}

/// Counts a [`ProseWriter::write`] in progress for as long as it lives.
struct Writing(Arc<AtomicUsize>);

impl Writing {
    fn enter(count: &Arc<AtomicUsize>) -> Self {
        count.fetch_add(1, AtomicOrdering::SeqCst);
        Self(Arc::clone(count))
    }
}

impl Drop for Writing {
    fn drop(&mut self) {
        self.0.fetch_sub(1, AtomicOrdering::SeqCst);
    }
}

/// How to sample: `seed` varies it (a rewrite passes a new one), `warmer` raises the
/// temperature a little (asking again should not give the same text).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sampling {
    /// The seed every text's seed is derived from.
    pub seed: u64,
    /// Sample a little warmer than configured.
    pub warmer: bool,
}

/// One request to make.
struct Task<'a> {
    slot: Slot,
    prompt: String,
    subject: Subject<'a>,
}

/// Sentences a note is asked for: the generation stops once the model starts another.
const NOTE_SENTENCES: usize = 1;
/// Most tokens a note is given, whatever `llm.max_tokens` allows.
const NOTE_TOKENS: u32 = 60;

impl ProseWriter {
    /// A writer over `llm`: `attempts` ≥ 1 generations per text before caught sentences are
    /// dropped (written again only while at most `rewrite_while` plans are being written), at
    /// most `max_tokens` per text, `concurrency` requests at once (the engine's sequences:
    /// more would only queue).
    pub fn new(
        llm: Arc<dyn LlmClient>,
        attempts: u32,
        rewrite_while: u32,
        max_tokens: u32,
        temperature: f32,
        concurrency: usize,
    ) -> Self {
        Self {
            llm,
            attempts: attempts.max(1),
            rewrite_while: usize::try_from(rewrite_while).unwrap_or(usize::MAX),
            max_tokens: max_tokens.max(16),
            temperature,
            concurrency: concurrency.max(1),
            writing: Arc::new(AtomicUsize::new(0)),
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

    /// Writes the notes of the days' sights and artworks, all at once, about `destination`,
    /// where `others` are the names of the places the texts must not name. Text streams to
    /// `on_text` as it is generated.
    ///
    /// # Errors
    /// The first failure of the model; nothing is kept then.
    pub async fn write(
        &self,
        days: &[DayInput<'_>],
        destination: &Destination,
        others: &[&str],
        sampling: Sampling,
        on_text: &(dyn Fn(TextEvent<'_>) + Send + Sync),
    ) -> Result<Written, LlmError> {
        let _writing = Writing::enter(&self.writing);
        let Sampling { seed, warmer } = sampling;
        let city = format!("{}, {}", destination.name, destination.country);
        let prompts: Vec<Vec<String>> = std::iter::once(SYSTEM).map(words).collect();
        let mut tasks = Vec::new();
        for d in days {
            let day = d.day;
            let names: Vec<&str> = day
                .stops
                .iter()
                .flat_map(Stop::names)
                .chain([destination.name.as_str(), destination.country.as_str()])
                .collect();
            // Sights and artworks get a note; a meal or a coffee break shows its data (the
            // cuisine, outdoor seating), which is all that is known of it: the model's notes
            // about eateries were where it went wrong most ("a cozy cafe" for a steakhouse),
            // and skipping them is a third of the work of a plan.
            for (i, s) in d
                .stops
                .iter()
                .enumerate()
                .filter(|(_, s)| crate::itinerary::is_activity(s.stop.kind))
            {
                let facts = if s.facts.is_empty() {
                    "none beyond its kind".to_owned()
                } else {
                    s.facts.join("; ")
                };
                tasks.push(Task {
                    slot: Slot::Note {
                        day: day.day,
                        stop: u8::try_from(i).unwrap_or(u8::MAX),
                    },
                    prompt: format!(
                        "Place: {}, a {} in {city}. Facts: {facts}.",
                        s.stop.name,
                        what(s.stop),
                    ),
                    subject: Subject {
                        allowed: names.clone(),
                        others,
                        stop: Some(s.stop),
                        // Its city and country, and its kind in words: a note may say them.
                        facts: format!(
                            "{} {} {} {city} {facts}",
                            s.stop.name,
                            s.stop.place_kind,
                            what(s.stop)
                        ),
                        city: &destination.name,
                        telling: telling(s, &city),
                    },
                });
            }
        }
        // Boxed, so that the compiler sees one `Send` future type (a closure returning
        // borrowing futures trips its higher-ranked lifetime inference when spawned).
        type Run<'f> = std::pin::Pin<
            Box<dyn Future<Output = Result<(Slot, String, ProseReport), LlmError>> + Send + 'f>,
        >;
        // Each text's last event says how many are written so far, of how many.
        let total = tasks.len();
        let done = std::sync::atomic::AtomicUsize::new(0);
        let counted = |e: TextEvent<'_>| {
            let written = e
                .written
                .map(|_| (done.fetch_add(1, AtomicOrdering::SeqCst) + 1, total));
            on_text(TextEvent { written, ..e });
        };
        let mut runs: Vec<Run<'_>> = Vec::with_capacity(tasks.len());
        for task in &tasks {
            runs.push(Box::pin(self.run(task, &prompts, seed, warmer, &counted)));
        }
        let runs = futures::stream::iter(runs)
            .buffer_unordered(self.concurrency)
            .collect::<Vec<_>>()
            .await;
        let mut written = Written::default();
        for run in runs {
            let (slot, text, report) = run?;
            written.report.add(&report);
            written.texts.insert(slot, text);
        }
        Ok(written)
    }

    /// One text: generations until one passes review (or the attempts run out), streamed.
    async fn run(
        &self,
        task: &Task<'_>,
        prompts: &[Vec<String>],
        seed: u64,
        warmer: bool,
        on_text: &(dyn Fn(TextEvent<'_>) + Send + Sync),
    ) -> Result<(Slot, String, ProseReport), LlmError> {
        let mut report = ProseReport {
            requests: 1,
            ..ProseReport::default()
        };
        let mut best: Option<Review> = None;
        let mut avoid: Vec<String> = Vec::new();
        for attempt in 0..self.attempts {
            if attempt > 0 && self.writing.load(AtomicOrdering::SeqCst) > self.rewrite_while {
                // Other plans wait for the model: keep what this attempt kept.
                report.skipped += 1;
                break;
            }
            if attempt > 0 {
                on_text(TextEvent {
                    slot: task.slot,
                    text: "",
                    replace: true,
                    written: None,
                });
            }
            let mut prompt = task.prompt.clone();
            if !avoid.is_empty() {
                prompt.push_str(&format!(" Do not mention: {}.", avoid.join(", ")));
            }
            let mut request =
                ChatRequest::new(vec![ChatMessage::system(SYSTEM), ChatMessage::user(prompt)]);
            request.max_tokens = self.max_tokens.min(NOTE_TOKENS);
            let warmth = if warmer { 0.25 } else { 0.0 } + 0.15 * attempt as f32;
            request.temperature = (self.temperature + warmth).min(1.3);
            request.seed = Some(
                seed.wrapping_mul(1009)
                    .wrapping_add(slot_seed(task.slot) + u64::from(attempt)),
            );
            request.stop = vec!["\n\n".into()];
            request.forbidden_chars = task.subject.forbidden_digits();
            let (raw, tokens, finish) = self
                .generate(request, task.slot, NOTE_SENTENCES, on_text)
                .await?;
            report.generations += 1;
            report.tokens += u64::from(tokens);
            let r = review(&raw, &task.subject, prompts, finish == FinishReason::Stop);
            if !r.caught.is_empty() {
                tracing::debug!(slot = ?task.slot, attempt, caught = ?r.caught, text = %raw, "prose caught");
            }
            for c in r.caught.iter().chain(&r.cut) {
                *report.caught.entry(*c).or_default() += 1;
            }
            if r.trimmed > 0 {
                *report.caught.entry(Caught::Claim).or_default() += r.trimmed;
            }
            // A true note that says only what the page shows is written again while
            // attempts are left, and kept if no attempt says more.
            // What a text is worth: kept at all, saying one of its facts, then longer.
            let worth = |r: &Review| {
                (
                    !r.kept.is_empty(),
                    !task.subject.thin(&r.kept),
                    r.kept.len(),
                )
            };
            let (kept, telling, _) = worth(&r);
            let clean = r.caught.is_empty() && kept && (telling || attempt + 1 == self.attempts);
            let better = best.as_ref().is_none_or(|b| worth(&r) > worth(b));
            if clean {
                best = Some(r);
                break;
            }
            let found = check_text(
                &clean_answer(&raw),
                &task.subject.allowed,
                task.subject.others,
            );
            for name in found.other_places.into_iter().chain(found.invented) {
                if !avoid.contains(&name) {
                    avoid.push(name);
                }
            }
            if better {
                best = Some(r);
            }
        }
        let best = best.unwrap_or_default();
        report.corrected += best.corrected;
        report.dropped += best.dropped;
        on_text(TextEvent {
            slot: task.slot,
            text: &best.kept,
            replace: true,
            written: Some((0, 0)),
        });
        Ok((task.slot, best.kept, report))
    }

    /// Starts a generation, waiting while the model is busy (its queue full: other plans or
    /// `/v1` clients are ahead) rather than losing the plan's prose; gives up after
    /// [`BUSY_WAIT`].
    async fn stream_when_free(
        &self,
        request: ChatRequest,
    ) -> Result<tripwright_llm::TokenStream, LlmError> {
        let started = std::time::Instant::now();
        let mut pause = std::time::Duration::from_millis(50);
        loop {
            match self.llm.stream(request.clone()).await {
                Err(LlmError::Busy) if started.elapsed() < BUSY_WAIT => {
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(std::time::Duration::from_secs(1));
                }
                other => return other,
            }
        }
    }

    /// One generation, streamed to `on_text`, stopped as soon as the model starts a sentence
    /// past the `sentences` asked for (the rest would be dropped anyway, and it costs time):
    /// the text, the tokens generated and how it finished.
    async fn generate(
        &self,
        request: ChatRequest,
        slot: Slot,
        sentences: usize,
        on_text: &(dyn Fn(TextEvent<'_>) + Send + Sync),
    ) -> Result<(String, u32, FinishReason), LlmError> {
        let mut stream = self.stream_when_free(request).await?;
        let mut text = String::new();
        let mut pieces: u32 = 0;
        while let Some(event) = stream.next().await {
            match event? {
                StreamEvent::Token(t) => {
                    pieces += 1;
                    text.push_str(&t);
                    if let Some(end) = sentences_end(&text, sentences) {
                        // Dropping the stream stops the generation.
                        text.truncate(end);
                        return Ok((text, pieces, FinishReason::Stop));
                    }
                    on_text(TextEvent {
                        slot,
                        text: &t,
                        replace: false,
                        written: None,
                    });
                }
                StreamEvent::Done { usage, finish } => {
                    return Ok((text, usage.completion_tokens, finish));
                }
            }
        }
        Err(LlmError::Unavailable(
            "the model's stream ended without finishing".into(),
        ))
    }
}

/// Where the first `n` sentences of `text` end, once a further one has begun (its first
/// letter written); `None` before.
fn sentences_end(text: &str, n: usize) -> Option<usize> {
    let mut ended = 0;
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    for (i, &(pos, ch)) in chars.iter().enumerate() {
        if !matches!(ch, '.' | '!' | '?') {
            continue;
        }
        let Some(&(_, next)) = chars.get(i + 1) else {
            break;
        };
        if !next.is_whitespace() {
            continue;
        }
        if ch == '.' && abbreviated(&text[..pos]) {
            continue;
        }
        ended += 1;
        if ended == n {
            let begun = chars[i + 1..].iter().any(|(_, c)| c.is_alphanumeric());
            return begun.then_some(pos + ch.len_utf8());
        }
    }
    None
}

/// Longest a text waits for a busy model before the prose is given up (the plan is then
/// complete without it, with a warning).
const BUSY_WAIT: std::time::Duration = std::time::Duration::from_secs(120);

/// A number per slot, so that each text samples differently under one seed.
fn slot_seed(slot: Slot) -> u64 {
    match slot {
        Slot::Note { day, stop } => u64::from(day) * 100 + 1 + u64::from(stop),
    }
}

/// What a stop is, in words: "museum", "restaurant, for lunch", "café, for a coffee break".
fn what(stop: &Stop) -> String {
    let kind = stop.place_kind.replace(['_', ':'], " ");
    match stop.kind {
        StopKind::Lunch => format!("{kind}, for lunch"),
        StopKind::Dinner => format!("{kind}, for dinner"),
        StopKind::Cafe => format!("{kind}, for a coffee break"),
        StopKind::Sight | StopKind::Artwork => kind,
    }
}

/// Every fixed text the model is shown (the system prompt with its example): prose that
/// repeats a long run of its words was copied, not written about the stop.
pub fn prompt_texts() -> Vec<&'static str> {
    vec![SYSTEM]
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::kinds::tests::stop;

    fn subject<'a>(s: &'a Stop, others: &'a [&'a str], facts: &str) -> Subject<'a> {
        Subject {
            allowed: vec![s.name.as_str(), "Helsinki", "Finland"],
            others,
            stop: Some(s),
            facts: format!("{} {} Helsinki, Finland {facts}", s.name, s.place_kind),
            city: "Helsinki",
            telling: Vec::new(),
        }
    }

    #[test]
    fn a_review_keeps_what_is_true_and_says_what_it_caught() {
        let prompts: Vec<Vec<String>> = prompt_texts().into_iter().map(words).collect();
        let kiasma = stop("Kiasma", StopKind::Sight, "museum");
        let others = ["Amos Rex", "Suomenlinna"];
        let r = review(
            "Answer: Kiasmma shows contemporary art. It opened in 1998. Then walk to Amos Rex.",
            &subject(
                &kiasma,
                &others,
                "since 1998; description: contemporary art",
            ),
            &prompts,
            true,
        );
        assert_eq!(r.kept, "Kiasma shows contemporary art. It opened in 1998.");
        assert_eq!(r.corrected, 1);
        // "Then walk to Amos Rex.": another place, and a walk the data does not hold.
        assert_eq!(r.caught, [Caught::OtherPlace, Caught::Claim]);
        let r = review(
            "Kiasma is a cozy restaurant. It was built in 1887. Its rooms are bright and",
            &subject(&kiasma, &others, ""),
            &prompts,
            false,
        );
        assert_eq!(r.kept, "");
        assert_eq!(
            r.caught,
            [
                Caught::WrongKind,
                Caught::Claim,
                Caught::Figure,
                Caught::CutOff,
                Caught::Claim
            ]
        );
        let r = review(
            "Kiasma is a museum on Rua Dom João de Castro, designed by Álvaro Siza and open since 1999.",
            &subject(&kiasma, &others, ""),
            &prompts,
            true,
        );
        assert!(r.caught.contains(&Caught::Copied), "{r:?}");
    }

    /// What the 0.5B model wrote for Kiasma on 2026-12-06, both attempts caught: the first
    /// clause of the first is true and kept.
    #[test]
    fn the_true_first_clause_of_a_caught_sentence_is_kept() {
        let prompts: Vec<Vec<String>> = prompt_texts().into_iter().map(words).collect();
        let kiasma = Stop {
            facts: vec!["since 1998".into(), "street: Mannerheiminaukio".into()],
            ..stop("Kiasma", StopKind::Sight, "museum")
        };
        let r = review(
            "Kiasma is a museum in Mannerheiminaukio, Finland, designed by the English architect Álvaro Siza and open since 1998.",
            &subject(&kiasma, &[], "since 1998; street: Mannerheiminaukio"),
            &prompts,
            true,
        );
        assert_eq!(
            r.kept,
            "Kiasma is a museum on Mannerheiminaukio in Helsinki."
        );
        assert!(r.caught.is_empty(), "{r:?}");
        assert!(r.cut.contains(&Caught::WrongKind), "{r:?}");
        // Nothing true before the caught part: dropped.
        let r = review(
            "Near Ateneum, Kiasma is a museum in Helsinki.",
            &subject(&kiasma, &["Ateneum"], ""),
            &prompts,
            true,
        );
        assert_eq!(r.kept, "");
        assert_eq!(r.caught, [Caught::OtherPlace, Caught::Claim]);
    }

    /// The 0.5B model's notes of 2026-12-06 that the eval found reused: true, but only what
    /// the page shows next to the name.
    #[test]
    fn a_note_that_says_none_of_its_facts_is_thin() {
        let taru = Stop {
            facts: vec![
                "inscription: Memorial to Zacharias (Zachris) Topelius (1818-1898), author, poet."
                    .into(),
                "artist: Gunnar Finne".into(),
            ],
            ..stop("Taru ja totuus", StopKind::Artwork, "historic:memorial")
        };
        let input = StopInput {
            stop: &taru,
            facts: taru.facts.clone(),
        };
        let told = telling(&input, "Helsinki, Finland");
        assert!(told.contains(&"topelius".to_owned()) && told.contains(&"finne".to_owned()));
        assert!(
            !told
                .iter()
                .any(|w| ["inscription", "artist", "memorial", "helsinki"].contains(&w.as_str()))
        );
        let mut memorial = subject(&taru, &[], "");
        memorial.telling = told;
        assert!(memorial.thin("Taru ja totuus is a historic memorial in Helsinki, Finland."));
        assert!(!memorial.thin("Taru ja totuus is a memorial to Zacharias Topelius, the poet."));
        assert!(!memorial.thin("Taru ja totuus is a statue by Gunnar Finne."));
        // With nothing to say beyond its kind, a plain note is all there is.
        let bare = stop("Kahden neliön galleria", StopKind::Sight, "gallery");
        let input = StopInput {
            stop: &bare,
            facts: Vec::new(),
        };
        let mut gallery = subject(&bare, &[], "");
        gallery.telling = telling(&input, "Helsinki, Finland");
        assert!(!gallery.thin("Kahden neliön galleria is a gallery in Helsinki, Finland."));
    }

    /// The small model writes the street it is given where a city goes (0.5B, 2026-12-06).
    #[test]
    fn a_street_written_as_a_city_is_said_as_a_street() {
        let gallery = Stop {
            facts: vec!["street: Annankatu".into()],
            ..stop("Anna Ruohonen", StopKind::Sight, "gallery")
        };
        for (written, said) in [
            (
                "Anna Ruohonen is a gallery located in Annankatu, Finland.",
                "Anna Ruohonen is a gallery located on Annankatu in Helsinki.",
            ),
            (
                "Anna Ruohonen is a gallery in Annankatu, Finland that shows art.",
                "Anna Ruohonen is a gallery on Annankatu in Helsinki that shows art.",
            ),
            (
                "Anna Ruohonen is a gallery located in the Annankatu, Helsinki, Finland.",
                "Anna Ruohonen is a gallery located on Annankatu, Helsinki, Finland.",
            ),
            (
                "Anna Ruohonen is a gallery on Annankatu in Helsinki.",
                "Anna Ruohonen is a gallery on Annankatu in Helsinki.",
            ),
        ] {
            assert_eq!(on_its_street(written, &gallery, "Helsinki"), said);
        }
        // Said so only once its claims are struck out.
        let prompts: Vec<Vec<String>> = prompt_texts().into_iter().map(words).collect();
        let r = review(
            "Anna Ruohonen is a beautiful gallery located in the historic Annankatu, Finland.",
            &subject(&gallery, &[], "street: Annankatu"),
            &prompts,
            true,
        );
        assert_eq!(
            r.kept,
            "Anna Ruohonen is a gallery located on Annankatu in Helsinki."
        );
    }

    #[test]
    fn a_generation_stops_once_a_sentence_past_those_asked_for_begins() {
        assert_eq!(sentences_end("Kiasma shows art.", 1), None);
        assert_eq!(sentences_end("Kiasma shows art. ", 1), None);
        assert_eq!(sentences_end("Kiasma shows art. It", 1), Some(17));
        assert_eq!(sentences_end("Near St. Henrik's. Then", 1), Some(18));
        assert_eq!(sentences_end("One. Two. Three", 2), Some(9));
        assert_eq!(sentences_end("Is it? Yes", 1), Some(6));
        assert_eq!(sentences_end("Version 2.5 of it", 1), None);
        assert_eq!(
            sentences_end("Itä ja Länsi / J. K. Paasikivi stands. It", 1),
            Some(40)
        );
    }

    #[test]
    fn only_the_digits_of_the_facts_and_names_may_be_written() {
        let kiasma = stop("Kiasma", StopKind::Sight, "museum");
        let latin = |d: &Vec<char>| {
            d.iter()
                .filter(|c| c.is_ascii_digit())
                .copied()
                .collect::<Vec<_>>()
        };
        let all = subject(&kiasma, &[], "").forbidden_digits();
        assert_eq!(latin(&all), ('0'..='9').collect::<Vec<_>>());
        assert_eq!(
            latin(&subject(&kiasma, &[], "opened: 1998").forbidden_digits()),
            ['0', '2', '3', '4', '5', '6', '7']
        );
        // Other scripts' digits are always masked: Persian, Devanagari, fullwidth.
        for d in ['۱', '۹', '٣', '५', '７'] {
            assert!(all.contains(&d), "{d}");
        }
        let g12 = stop("G12 Galleria", StopKind::Sight, "gallery");
        assert!(!subject(&g12, &[], "").forbidden_digits().contains(&'2'));
    }

    #[test]
    fn answers_lose_their_labels_and_second_paragraphs() {
        assert_eq!(clean_answer("Note: \"Fine art.\"\n\nChatter"), "Fine art.");
        assert_eq!(clean_answer("One.\nTwo."), "One. Two.");
    }
}
