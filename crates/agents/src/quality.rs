//! How good a plan's prose is, measured from the text and the stops' data (see
//! `../shared/docs/EVAL.md`, "Prose quality"): notes missing, sentences cut off, sentences
//! reused for another stop, text copied from the prompt or its example, a stop described as
//! another kind of place than its data says, figures the data does not hold, and stop names
//! altered. `tripwright eval` reports these as rates over a suite; a plan's prose passes only
//! when all of them are zero.

use std::collections::HashMap;

use serde::Serialize;
use tripwright_domain::{Plan, Stop};

use crate::grounding::{capitalised_phrases, split_sentences};
use crate::kinds::contradicts_kind;
use crate::prose::prompt_texts;

/// A run of this many words shared with a prompt text marks a sentence as copied.
const COPIED_RUN: usize = 6;

/// What kind of flaw a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Flaw {
    /// A sight or artwork without a note.
    NoteMissing,
    /// A text that stops mid-sentence.
    CutOff,
    /// A sentence written for another stop too.
    Reused,
    /// A sentence copied from the prompt or its example.
    Copied,
    /// A stop called another kind of place than its data says.
    WrongKind,
    /// A number or year the stop's data does not hold.
    Figure,
    /// A name (a person, a company, a title) the stop's data does not hold.
    UnsupportedName,
    /// A stop's name written differently ("Taru and totuus" for "Taru ja totuus").
    NameAltered,
    /// Fame, rank, age or history the data does not hold ("famous", "the oldest", "for
    /// centuries", "renovated").
    Claim,
}

impl Flaw {
    /// Every flaw, in report order.
    pub const ALL: [Flaw; 9] = [
        Flaw::NoteMissing,
        Flaw::CutOff,
        Flaw::Reused,
        Flaw::Copied,
        Flaw::WrongKind,
        Flaw::Figure,
        Flaw::UnsupportedName,
        Flaw::NameAltered,
        Flaw::Claim,
    ];

    /// The flaw's name in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Flaw::NoteMissing => "notes_missing",
            Flaw::CutOff => "cut_off",
            Flaw::Reused => "reused",
            Flaw::Copied => "copied",
            Flaw::WrongKind => "wrong_kind",
            Flaw::Figure => "figures",
            Flaw::UnsupportedName => "unsupported_names",
            Flaw::NameAltered => "names_altered",
            Flaw::Claim => "claims",
        }
    }
}

impl Flaw {
    /// `n` of the flaw in words: "1 note missing", "2 sentences cut off".
    pub fn counted(self, n: usize) -> String {
        let (one, many) = match self {
            Flaw::NoteMissing => ("note missing", "notes missing"),
            Flaw::CutOff => ("sentence cut off", "sentences cut off"),
            Flaw::Reused => ("sentence reused", "sentences reused"),
            Flaw::Copied => ("sentence copied", "sentences copied"),
            Flaw::WrongKind => ("wrong kind of place", "wrong kinds of place"),
            Flaw::Figure => ("unsupported figure", "unsupported figures"),
            Flaw::UnsupportedName => ("unsupported name", "unsupported names"),
            Flaw::NameAltered => ("name altered", "names altered"),
            Flaw::Claim => ("unsupported claim", "unsupported claims"),
        };
        tripwright_domain::plural(n, one, many)
    }
}

/// One flaw found, with where it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// What is wrong.
    pub flaw: Flaw,
    /// Where: "day 2, Kiasma", "day 1 intro", "summary".
    pub place: String,
    /// The text at fault (the sentence, or the note's end).
    pub text: String,
}

/// The prose measures of one plan.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ProseQuality {
    /// Sights and artworks of the itinerary, the stops that get a note (the denominator of
    /// missing notes; a meal or a coffee break shows its data instead).
    pub stops: usize,
    /// Sentences written (the denominator of the sentence flaws).
    pub sentences: usize,
    /// What was found.
    pub findings: Vec<Finding>,
}

impl ProseQuality {
    /// How many findings of `flaw`.
    pub fn count(&self, flaw: Flaw) -> usize {
        self.findings.iter().filter(|f| f.flaw == flaw).count()
    }

    /// `flaw`'s rate: per stop for missing notes, per sentence for the others (0 with none).
    pub fn rate(&self, flaw: Flaw) -> f64 {
        let n = if flaw == Flaw::NoteMissing {
            self.stops
        } else {
            self.sentences
        };
        if n == 0 {
            0.0
        } else {
            self.count(flaw) as f64 / n as f64
        }
    }

    /// Whether the prose has no flaw at all.
    pub fn passes(&self) -> bool {
        self.findings.is_empty()
    }
}

/// Lower-case words of `text` (letters and digits), for comparing runs of words.
pub(crate) fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// Labels of the prompts' lines: a sentence that starts with one repeats the prompt's form.
const PROMPT_LABELS: [&str; 6] = ["city:", "place:", "facts:", "task:", "trip:", "example"];

/// The prompts' field labels: prose holds none of them anywhere ("The day at Helsinki, a
/// Sunday, visits: Itä ja Länsi" echoes the prompt).
const PROMPT_FIELDS: [&str; 14] = [
    "visits:",
    "places:",
    "facts:",
    "sights:",
    "hotel:",
    "place:",
    "answer:",
    // The intro's list gives each place its kind in brackets: "Ateneum (museum)".
    "(museum)",
    "(gallery)",
    "(attraction)",
    "(artwork)",
    "(historic ",
    "(restaurant",
    "(cafe",
];

/// Whether `sentence` repeats `COPIED_RUN` consecutive words of a prompt text, starts with
/// one of the prompt's labels ("City: Helsinki, Finland.") or holds one of its fields.
pub(crate) fn copied(sentence: &str, prompts: &[Vec<String>]) -> bool {
    let lower = sentence.trim().to_lowercase();
    if PROMPT_LABELS.iter().any(|l| lower.starts_with(l))
        || PROMPT_FIELDS.iter().any(|f| lower.contains(f))
    {
        return true;
    }
    let s = words(sentence);
    if s.len() < COPIED_RUN {
        return false;
    }
    s.windows(COPIED_RUN).any(|run| {
        prompts
            .iter()
            .any(|p| p.windows(COPIED_RUN).any(|w| w == run))
    })
}

/// Whether `sentence` is nothing but place names (the prompt's list echoed: "Amos Rex, Amos
/// Anderson taidemuseo, Itä ja Länsi.").
pub(crate) fn only_names(sentence: &str, names: &[&str]) -> bool {
    let mut rest = sentence.to_lowercase();
    let mut longest: Vec<String> = names.iter().map(|n| n.to_lowercase()).collect();
    longest.sort_by_key(|n| std::cmp::Reverse(n.len()));
    let mut any = false;
    for name in longest.iter().filter(|n| !n.is_empty()) {
        if rest.contains(name.as_str()) {
            any = true;
            rest = rest.replace(name.as_str(), " ");
        }
    }
    any && words(&rest)
        .iter()
        .all(|w| matches!(w.as_str(), "and" | "the" | "then" | "with" | "day"))
}

/// The names in `sentence` (runs of two or more capitalised words: people, companies,
/// titles) that neither `names` nor `facts` hold.
pub(crate) fn unsupported_names(sentence: &str, names: &[&str], facts: &str) -> Vec<String> {
    let facts = facts.to_lowercase();
    let names: Vec<String> = names.iter().map(|n| n.to_lowercase()).collect();
    capitalised_phrases(sentence)
        .into_iter()
        .map(|p| {
            let mut words: Vec<&str> = p.split_whitespace().collect();
            while words
                .first()
                .is_some_and(|w| matches!(*w, "The" | "A" | "An" | "In" | "At" | "Its"))
            {
                words.remove(0);
            }
            words.join(" ")
        })
        .filter(|p| p.split_whitespace().count() >= 2)
        .filter(|p| {
            let p = p.to_lowercase();
            // Each word must come from a name or the facts ("Helsinki, Finland" is two names;
            // "Heidi Kiasma" adds a person to one).
            let known = |w: &str| {
                matches!(w, "of" | "the" | "and" | "de" | "la" | "&")
                    || names
                        .iter()
                        .chain(std::iter::once(&facts))
                        .any(|n| words(n).iter().any(|x| x == w))
            };
            !facts.contains(&p) && !words(&p).iter().all(|w| known(w))
        })
        .collect()
}

/// Whether a text ends mid-sentence: no final `.`, `!`, `?` or `…` (after closing quotes and
/// brackets), or an unclosed bracket.
pub(crate) fn cut_off(text: &str) -> bool {
    let t = text.trim();
    if t.is_empty() {
        return false;
    }
    let end = t.trim_end_matches(['"', '\'', '”', '’', ')', ']']);
    let unclosed = t.matches('(').count() > t.matches(')').count();
    unclosed || !end.ends_with(['.', '!', '?', '…'])
}

/// Words that claim fame, rank, age or history: true of a stop only when its data says so,
/// and what the small model invented most once names and figures were checked ("Amos Rex
/// … has been showcasing art and culture for centuries", "the most popular Sunday place",
/// "has undergone significant renovations since 1902", "the famous Päivälehti painting").
/// Each is matched at the start of a word, so a stem covers its forms.
const CLAIMS: &[&str] = &[
    "famous",
    "renowned",
    "well-known",
    "well known",
    "best-known",
    "best known",
    "iconic",
    "legendary",
    "world-class",
    "popular",
    "most visited",
    "most beautiful",
    "most important",
    "oldest",
    "largest",
    "biggest",
    "tallest",
    "greatest",
    "finest",
    "centuries",
    "century",
    "decades",
    "ancient",
    "medieval",
    "renovat",
    "restor",
    "rebuilt",
    "award",
    "unesco",
    "skyline",
    "nightlife",
    // Features and contents a stop has only when its data says so, invented by the small model
    // next ("Suomen Pankin rahamuseo … with its unique architecture and beautiful gardens",
    // "Päivälehden museo … celebrates the traditions and culture of Päivälehti", a gallery as
    // "a collection of stunning buildings"). A garden, a viewpoint or a building designed by
    // a named architect keeps the word: its kind, its name or its facts hold it.
    "garden",
    "courtyard",
    "terrace",
    "rooftop",
    "fountain",
    "architect",
    "view",
    "panoram",
    "collection",
    "history of",
    "tradition",
    // The system prompt's example's own words, too few in a row to be caught as copied, but
    // written of its museum, not of the stop: "Ateneum … and its wheelchair accessible rooms
    // invite an unhurried look."
    "unhurried",
    "quiet rooms",
    "invite an",
    // The model talking about its task instead of the place: "…, but its lack of specific
    // details makes it difficult to provide an accurate description."
    "lack of",
    "accurate description",
    "specific details",
    "more information",
    "no information",
    "not enough information",
    "difficult to provide",
    // Age and care, which only the data can date: "a historic Finnish gallery" of a gallery
    // opened last decade, "historic and well-preserved", "wheelchair accessibility has been
    // greatly improved". "Historic" of a place whose kind is historic (a memorial) or that its
    // data dates before 1950 stands.
    "historic",
    "well-preserved",
    "preserved",
    "improved",
    "heritage",
];

/// Claims that are adjectives before a noun ("a famous museum", "the most popular spot", "a
/// historic and well-preserved gallery"): struck out, the sentence still reads.
const CLAIM_ADJECTIVES: &[&str] = &[
    "famous",
    "renowned",
    "well-known",
    "best-known",
    "iconic",
    "legendary",
    "world-class",
    "popular",
    "historic",
    "historical",
    "well-preserved",
    "preserved",
    "ancient",
    "medieval",
    "oldest",
    "largest",
    "biggest",
    "tallest",
    "greatest",
    "finest",
    "modern",
    "contemporary",
];

/// Words before a person that make them the subject of a work, not its maker ("a statue of",
/// "dedicated to").
const SUBJECT_OF: [&str; 12] = [
    "of",
    "to",
    "for",
    "honoring",
    "honouring",
    "celebrating",
    "commemorating",
    "about",
    "depicting",
    "depicts",
    "portraying",
    "portrays",
];

/// Words before "of" that make the person after it the maker again ("the work of").
const WORK_OF: [&str; 8] = [
    "work",
    "works",
    "design",
    "designs",
    "creation",
    "creations",
    "masterpiece",
    "art",
];

/// The claims of `sentence` that `facts` (a stop's name, kind, city, country and facts) do not
/// hold: the listed ones ([`listed_claims`]) and every word that says something of the place
/// its data does not ([`unsupported_words`]).
pub(crate) fn unsupported_claims(sentence: &str, facts: &str) -> Vec<String> {
    let mut claims = listed_claims(sentence, facts);
    for word in unsupported_words(sentence, facts) {
        if !claims.iter().any(|c| word.starts_with(c.as_str())) {
            claims.push(word);
        }
    }
    claims
}

/// Where `stem` first starts a word of `text`, if it does.
fn word_start(text: &str, stem: &str) -> Option<usize> {
    text.match_indices(stem).map(|(i, _)| i).find(|&i| {
        text[..i]
            .chars()
            .next_back()
            .is_none_or(|c| !c.is_alphanumeric())
    })
}

/// Words that only join others: a note may write them of any place.
#[rustfmt::skip]
const JOINING_WORDS: &[&str] = &[
    "a", "an", "the", "and", "or", "but", "nor", "of", "in", "on", "at", "by", "for", "to",
    "from", "with", "without", "into", "near", "inside", "outside", "within", "between",
    "along", "across", "around", "over", "under", "above", "below", "before", "after", "since",
    "until", "during", "as", "than", "then", "so", "also", "only", "its", "it", "this", "that",
    "these", "those", "there", "here", "where", "which", "who", "whom", "whose", "what", "when",
    "while", "is", "are", "was", "were", "be", "been", "being", "has", "have", "had", "do",
    "does", "did", "can", "could", "will", "would", "may", "might", "not", "no", "one", "each",
    "both", "all", "their", "his", "her", "them", "they", "you", "your", "itself", "s",
];

/// Words for what a place is and holds, and how a note says where it stands and what it
/// shows: a note may write them of any place. Any other word must come from the stop's name,
/// kind, city or facts ([`unsupported_words`]).
#[rustfmt::skip]
const PLAIN_WORDS: &[&str] = &[
    "place", "places", "spot", "site", "stop", "city", "centre", "center", "heart", "capital",
    "town", "district", "area", "art", "arts", "artwork", "artworks", "work", "works",
    "artist", "artists", "painter", "painters", "sculptor", "sculptors", "exhibition",
    "exhibitions", "exhibit", "exhibits", "display", "displays", "piece", "pieces", "painting",
    "paintings", "museum", "museums", "gallery", "galleries", "memorial", "memorials",
    "monument", "monuments", "statue", "statues", "sculpture", "sculptures", "relief",
    "reliefs", "plaque", "plaques", "stone", "church", "cathedral", "crypt", "chapel", "tomb",
    "grave", "graves", "hall", "market", "building", "attraction", "attractions", "entry",
    "entrance", "admission", "street", "visitor", "visitors", "traveller", "travellers",
    "traveler", "travelers", "people", "local",
    "located", "situated", "stands", "standing", "sits", "lies", "set", "offers", "offer",
    "offering", "features", "feature", "featuring", "displaying", "shows", "show", "showing",
    "showcases", "showcase", "showcasing", "houses", "housing", "holds", "hold", "holding",
    "presents", "presenting", "hosts", "hosting", "dedicated", "designed", "built", "created",
    "sculpted", "carved", "cast", "made", "opened", "open", "founded", "erected", "unveiled",
    "placed", "raised", "commemorates", "commemorating", "honours", "honors", "honouring",
    "honoring", "depicts", "depicting", "portrays", "portraying", "remembers", "marks",
    "named", "visit", "visited", "see", "seen",
];

/// Whether a note may write `word` (lower case) of any place ([`JOINING_WORDS`],
/// [`PLAIN_WORDS`]).
pub(crate) fn plain_word(word: &str) -> bool {
    JOINING_WORDS.contains(&word) || PLAIN_WORDS.contains(&word)
}

/// Whether `word` and `other` are the same word or start with the same five letters
/// ("sculpted", "sculpture").
pub(crate) fn same_word(word: &str, other: &str) -> bool {
    let stem = |w: &str| -> String { w.chars().take(5).collect() };
    word == other
        || word.strip_suffix('s') == Some(other)
        || other.strip_suffix('s') == Some(word)
        || (word.chars().count() >= 5 && other.chars().count() >= 5 && stem(word) == stem(other))
}

/// Endings of words that name a people or a language ("Finnish", "Italian", "Portuguese").
const DEMONYM_ENDINGS: [&str; 5] = ["ish", "ian", "ese", "ean", "an"];

/// The words of `sentence` that say something of the place that its data (`facts`, which must
/// hold its name, kind, city and country) does not: "stunning", "vibrant", "outdoor",
/// "landscapes". A word is held when a word of the facts is it, or begins with the same
/// five letters ("sculpted" of "sculpture"), or when it names the people of a word of the
/// facts ("Finnish" of Finland). Figures are checked apart ([`numbers`]).
pub(crate) fn unsupported_words(sentence: &str, facts: &str) -> Vec<String> {
    // A fact's label is no fact: "English name: Amos Anderson Art Museum" does not make it
    // "an English museum".
    let fact_words = words(&facts.to_lowercase().replace("english name:", " "));
    let recent = dated_from(facts, MODERN_FROM);
    let held = |w: &str| {
        fact_words.iter().any(|f| {
            same_word(w, f)
                || (DEMONYM_ENDINGS.iter().any(|e| w.ends_with(e))
                    && f.chars().count() >= 5
                    && f.chars().take(3).eq(w.chars().take(3)))
        })
    };
    let mut out: Vec<String> = Vec::new();
    for w in words(sentence) {
        if w.chars().count() < 2
            || w.chars().any(char::is_numeric)
            || plain_word(&w)
            || held(&w)
            // A listed claim is judged by its own rules ("historic" of a memorial stands).
            || CLAIMS.iter().any(|c| w.starts_with(c))
            || (recent && matches!(w.as_str(), "modern" | "contemporary"))
            || out.contains(&w)
        {
            continue;
        }
        out.push(w);
    }
    out
}

/// The claims of `sentence` ([`CLAIMS`]) that `facts` do not hold, and the makers it names as
/// what a work is of or for ("a statue of Emil Wikström" of a statue whose data says
/// `artist: Emil Wikström`).
fn listed_claims(sentence: &str, facts: &str) -> Vec<String> {
    let at_word_start = |text: &str, stem: &str| word_start(text, stem).is_some();
    let sentence = sentence.to_lowercase();
    let facts = facts.to_lowercase();
    let old = dated_before(&facts, MODERN_FROM);
    let mut claims: Vec<String> = CLAIMS
        .iter()
        .copied()
        .filter(|c| at_word_start(&sentence, c) && !at_word_start(&facts, c))
        .filter(|c| !(old && *c == "historic"))
        .map(str::to_owned)
        .collect();
    // "Ateneum is a modern museum" of a place open since 1887: the data says otherwise.
    if old {
        claims.extend(
            ["modern", "contemporary"]
                .into_iter()
                .filter(|c| at_word_start(&sentence, c) && !at_word_start(&facts, c))
                .map(str::to_owned),
        );
    }
    let makers = makers(&facts);
    for &maker in &makers {
        // "a statue of Emil Wikström", "dedicated to Finnish statesman Emil Wikström", "a
        // statue of an artist named Emil Wikström": a word that makes him the subject within
        // the four before, and no "by" between.
        let wrong = sentence.match_indices(maker).any(|(i, _)| {
            // Within one phrase: "the city of Helsinki, Finland (Theodor Höijer)" is not.
            let before: Vec<&str> = sentence[..i]
                .split_whitespace()
                .rev()
                .take(5)
                .take_while(|w| !w.contains([',', ';', '(', ')']))
                .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()))
                .collect();
            before
                .iter()
                .take(4)
                .take_while(|w| **w != "by")
                .position(|w| SUBJECT_OF.contains(w))
                .is_some_and(|k| {
                    !(before[k] == "of" && before.get(k + 1).is_some_and(|w| WORK_OF.contains(w)))
                })
        });
        if wrong && !claims.iter().any(|c| c == maker) {
            claims.push(maker.to_owned());
        }
    }
    claims.extend(
        unsupported_subjects(&sentence, &facts)
            .into_iter()
            .map(|p| p.trim_end().to_owned()),
    );
    // "Ateneum … has wheelchair access since 1887": the year it opened given to its access,
    // two true facts joined wrongly (the data dates only the place).
    if dated_access(&sentence) {
        claims.push("since".to_owned());
    }
    // "… designed by Bank of Finland Museum" (its English name): whoever made it must be the
    // data's architect or artist.
    for phrase in MADE_BY {
        let wrong = sentence.match_indices(phrase).any(|(i, _)| {
            // "designed by the Finnish architect Theodor Höijer": within the next words.
            let after: Vec<&str> = sentence[i + phrase.len()..]
                .split_whitespace()
                .take(6)
                .collect();
            let after = after.join(" ");
            !makers.iter().any(|m| after.contains(m))
        });
        if wrong {
            claims.push(phrase.trim().to_owned());
        }
    }
    claims
}

/// Phrases that name who made a place: the data's architect or artist must follow.
const MADE_BY: [&str; 6] = [
    "designed by ",
    "built by ",
    "created by ",
    "sculpted by ",
    "painted by ",
    "made by ",
];

/// Phrases that say what or whom a work commemorates: the words after them must come from the
/// stop's name or data ("Aleksanteri II … a poignant memorial to the Finnish poet" of a statue
/// of a Russian emperor).
const SUBJECT_PHRASES: [&str; 10] = [
    "memorial to ",
    "monument to ",
    "tribute to ",
    "dedicated to ",
    "statue of ",
    "in honour of ",
    "in honor of ",
    "in memory of ",
    "commemorates ",
    "commemorating ",
];

/// The subject phrases of `sentence` (lower case) whose subject `facts` (lower case) do not
/// hold: its first word of four letters or more after the phrase.
fn unsupported_subjects(sentence: &str, facts: &str) -> Vec<&'static str> {
    SUBJECT_PHRASES
        .iter()
        .copied()
        .filter(|phrase| {
            sentence.match_indices(phrase).any(|(i, _)| {
                let mut after = sentence[i + phrase.len()..]
                    .split_whitespace()
                    .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()));
                // "dedicated to 1953": a year is no one a work is to.
                after
                    .clone()
                    .next()
                    .is_some_and(|w| w.chars().any(char::is_numeric))
                    || after
                        .find(|w| w.chars().count() >= 4)
                        .is_some_and(|w| !facts.contains(w))
            })
        })
        .collect()
}

/// The people `facts` name as makers ("artist: emil wikström; architect: …"), lower case.
fn makers(facts: &str) -> Vec<&str> {
    ["artist: ", "architect: "]
        .iter()
        .flat_map(|label| {
            facts.match_indices(label).map(move |(i, _)| {
                let rest = &facts[i + label.len()..];
                rest.split([';', ',']).next().unwrap_or_default().trim()
            })
        })
        .filter(|m| m.chars().count() >= 5)
        .collect()
}

/// From which year the data's date makes a place "modern" or "contemporary".
const MODERN_FROM: u32 = 1950;

/// Words that say how a place can be entered, which no date of the data is about.
const ACCESS_WORDS: [&str; 5] = [
    "wheelchair",
    "accessible",
    "access",
    "accessibility",
    "step-free",
];

/// Whether `sentence` (lower case) dates its access: "since" or "from" a year within the three
/// words after a word of [`ACCESS_WORDS`] ("wheelchair accessible since 1998").
fn dated_access(sentence: &str) -> bool {
    let words: Vec<&str> = sentence
        .split_whitespace()
        .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric() && c != '-'))
        .collect();
    words.iter().enumerate().any(|(i, w)| {
        ACCESS_WORDS.contains(w)
            && words[i + 1..]
                .iter()
                .take(3)
                .any(|n| matches!(*n, "since" | "from"))
    })
}

/// The years `facts` date the place by ("since 1887" of a museum, "from 1953" of a statue,
/// as [`crate::facts`] writes them).
fn dated_years(facts: &str) -> impl Iterator<Item = u32> + '_ {
    ["since ", "from "].into_iter().flat_map(move |label| {
        facts
            .match_indices(label)
            .filter_map(move |(i, m)| facts[i + m.len()..].get(..4)?.parse::<u32>().ok())
    })
}

/// Whether `facts` date the place in or after `year` ("since 1998").
fn dated_from(facts: &str, year: u32) -> bool {
    dated_years(facts).any(|y| y >= year)
}

/// Whether `facts` date the place before `year`.
fn dated_before(facts: &str, year: u32) -> bool {
    dated_years(facts).any(|y| y < year)
}

/// `sentence` without its unsupported claims, when what is left still says something: the
/// claiming adjectives struck out ("Galleria B5 is a historic and well-preserved Finnish art
/// gallery." → "Galleria B5 is a Finnish art gallery."), else the claiming clause cut off
/// ([`trim_claim`]).
pub(crate) fn without_claims(sentence: &str, facts: &str) -> Option<String> {
    let struck = strike_claim_adjectives(sentence, facts);
    let base = struck.as_deref().unwrap_or(sentence);
    if struck.is_some() && unsupported_claims(base, facts).is_empty() {
        return struck;
    }
    trim_claim(base, facts)
}

/// `sentence` with its unsupported claims that are adjectives before a noun struck out, with
/// their "most" or "very" and the "and" that joined them to another adjective; `None` when
/// there is none. The article before is made to fit the next word ("an iconic museum" → "a
/// museum").
fn strike_claim_adjectives(sentence: &str, facts: &str) -> Option<String> {
    let claims = unsupported_claims(sentence, facts);
    let bare = |t: &str| {
        t.trim_matches(|c: char| !c.is_alphanumeric() && c != '-')
            .to_lowercase()
    };
    let mut tokens: Vec<String> = sentence.split(' ').map(str::to_owned).collect();
    // A listed claiming adjective, or an unsupported word before another word that says
    // something ("a stunning Finnish gallery", "a charming and modern gallery"; not "a
    // landmark in", where it is the noun).
    let says = |t: Option<&String>| {
        t.map(|t| bare(t))
            .is_some_and(|b| !b.is_empty() && !JOINING_WORDS.contains(&b.as_str()))
    };
    let claiming = |tokens: &[String], i: usize| {
        let b = bare(&tokens[i]);
        let listed = CLAIM_ADJECTIVES.contains(&b.as_str())
            && claims.iter().any(|c| b.starts_with(c.as_str()));
        let before_word = says(tokens.get(i + 1))
            || (tokens.get(i + 1).is_some_and(|t| bare(t) == "and") && says(tokens.get(i + 2)));
        listed || (before_word && claims.contains(&b))
    };
    let mut struck = false;
    let mut i = 0;
    while i < tokens.len() {
        // Only an adjective inside a phrase: "… is famous." ends the sentence on it.
        let inside = !tokens[i].ends_with(['.', '!', '?', ';', ':']);
        if i + 1 >= tokens.len() || !inside || !claiming(&tokens, i) {
            i += 1;
            continue;
        }
        let mut start = i;
        while start > 0
            && matches!(
                bare(&tokens[start - 1]).as_str(),
                "most" | "very" | "truly" | "highly" | "really" | "quite"
            )
        {
            start -= 1;
        }
        let prev = if start > 0 {
            bare(&tokens[start - 1])
        } else {
            String::new()
        };
        let determiner = matches!(
            prev.as_str(),
            "a" | "an" | "the" | "its" | "this" | "their" | "his" | "her"
        );
        let next = bare(&tokens[i + 1]);
        let (from, to) = if determiner && next == "and" {
            (start, i + 1)
        } else if determiner {
            (start, i)
        } else if prev == "and" {
            (start - 1, i)
        } else if start > 0 && tokens[start - 1].ends_with(',') {
            let t = &mut tokens[start - 1];
            t.pop();
            (start, i)
        } else {
            i += 1;
            continue;
        };
        tokens.drain(from..=to);
        struck = true;
        // The article before now stands before another word.
        if from > 0
            && let Some(next) = tokens.get(from)
        {
            let vowel = next
                .chars()
                .next()
                .is_some_and(|c| "aeiouAEIOU".contains(c));
            let article = &mut tokens[from - 1];
            match (article.as_str(), vowel) {
                ("a", true) => *article = "an".into(),
                ("an", false) => *article = "a".into(),
                ("A", true) => *article = "An".into(),
                ("An", false) => *article = "A".into(),
                _ => {}
            }
        }
        i = from;
    }
    struck.then(|| tokens.join(" "))
}

/// Where a clause or a phrase that adds to a noun starts: a claim after one of them is cut off
/// there ("… a modern museum dedicated to traditional Finnish art" → "… a
/// modern museum.").
const CLAUSE_STARTS: [&str; 16] = [
    " that ",
    " which ",
    " where ",
    ", ",
    " with ",
    " featuring ",
    " offering ",
    " showcasing ",
    " dedicated to ",
    " known for ",
    " housing ",
    " home to ",
    " and offers ",
    " designed by ",
    " built by ",
    " and its ",
];

/// `sentence` without the clause that makes an unsupported claim, when what is left still says
/// something: "Amos Rex is a fascinating museum in Helsinki, Finland that has been showcasing
/// art for centuries." → "Amos Rex is a fascinating museum in Helsinki, Finland." The cut is
/// made at the last clause boundary ([`CLAUSE_STARTS`]) before the first claim; the
/// part kept must have a verb ("is", "are") and at least five words, and no claim of its own.
pub(crate) fn trim_claim(sentence: &str, facts: &str) -> Option<String> {
    let claims = unsupported_claims(sentence, facts);
    if claims.is_empty() {
        return None;
    }
    let lower = sentence.to_lowercase();
    let first = claims.iter().filter_map(|c| word_start(&lower, c)).min()?;
    whole_clauses(sentence)
        .into_iter()
        .filter(|(cut, _)| *cut < first)
        .map(|(_, kept)| kept)
        .find(|kept| unsupported_claims(kept, facts).is_empty())
}

/// The beginnings of `sentence` that end at a clause boundary ([`CLAUSE_STARTS`]) and are a
/// whole sentence themselves (a verb, at least five words, not ending on "is" or "the"),
/// longest first, each with where it was cut (in bytes of the lower-cased sentence) and
/// ended with a full stop: "Kiasma is a museum in Helsinki, Finland, designed by the English
/// architect Álvaro Siza." gives "Kiasma is a museum in Helsinki, Finland." and "Kiasma is a
/// museum in Helsinki.".
pub(crate) fn whole_clauses(sentence: &str) -> Vec<(usize, String)> {
    let lower = sentence.to_lowercase();
    let mut cuts: Vec<usize> = CLAUSE_STARTS
        .iter()
        .flat_map(|b| lower.match_indices(b).map(|(i, _)| i))
        .collect();
    cuts.sort_unstable_by(|a, b| b.cmp(a));
    cuts.dedup();
    cuts.into_iter()
        .filter_map(|cut| {
            // `lower` and `sentence` differ in byte lengths only for letters whose lower case
            // is longer or shorter: find the same cut in the sentence by its characters.
            let chars = lower[..cut].chars().count();
            let kept: String = sentence.chars().take(chars).collect();
            let kept = kept.trim_end_matches([',', ' ']).trim();
            let words = kept.split_whitespace().count();
            let padded = format!(" {} ", kept.to_lowercase());
            let has_verb = [" is ", " are ", " was ", " has "]
                .iter()
                .any(|v| padded.contains(v));
            // "… Finland that has been" is no clause.
            let last = kept.rsplit(' ').next().unwrap_or_default().to_lowercase();
            let ends_whole = !matches!(
                last.as_str(),
                "been"
                    | "is"
                    | "are"
                    | "was"
                    | "were"
                    | "has"
                    | "have"
                    | "had"
                    | "that"
                    | "which"
                    | "the"
                    | "a"
                    | "an"
                    | "and"
                    | "of"
                    | "to"
                    | "its"
                    | "by"
            );
            (words >= 5 && has_verb && ends_whole).then(|| (cut, format!("{kept}.")))
        })
        .collect()
}

/// The digits runs of `text` ("1952", "3").
/// Digits of any script count ("۱۹۶۰"), so that a figure in other digits is caught as well.
pub(crate) fn numbers(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_numeric())
        .filter(|n| !n.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Whether `text` writes a multi-word `name` differently: its first and last words appear
/// close together but the name itself does not ("Taru and totuus" for "Taru ja totuus").
fn alters_name(text: &str, name: &str) -> bool {
    let name_words = words(name);
    if name_words.len() < 2 {
        return false;
    }
    if text.to_lowercase().contains(&name.to_lowercase()) {
        return false;
    }
    let t = words(text);
    let (first, last) = (&name_words[0], &name_words[name_words.len() - 1]);
    let window = name_words.len() + 2;
    t.iter()
        .enumerate()
        .any(|(i, w)| w == first && t.iter().skip(i + 1).take(window).any(|later| later == last))
}

/// The `names` that `text` writes differently ([`alters_name`]), except where the text writes
/// another of them that starts alike: "Amos Rex is a modern museum" does not alter "Amos
/// Anderson Art Museum" when Amos Rex is a name of its own.
pub(crate) fn altered_names<'a>(text: &str, names: &[&'a str]) -> Vec<&'a str> {
    let lower = text.to_lowercase();
    names
        .iter()
        .copied()
        .filter(|name| alters_name(text, name))
        .filter(|name| {
            let first = words(name).into_iter().next();
            !names.iter().any(|other| {
                other != name
                    && lower.contains(&other.to_lowercase())
                    && words(other).into_iter().next() == first
            })
        })
        .collect()
}

/// A scan of one plan's texts: what was found so far, and every sentence seen (by where it
/// was first written), to find the reused ones.
struct Scan {
    prompts: Vec<Vec<String>>,
    /// The destination's city and country, which a note may name.
    city: String,
    findings: Vec<Finding>,
    seen: HashMap<String, String>,
    sentences: usize,
}

impl Scan {
    fn new(prompts: &[&str], city: String) -> Self {
        Self {
            prompts: prompts.iter().map(|p| words(p)).collect(),
            city,
            findings: Vec::new(),
            seen: HashMap::new(),
            sentences: 0,
        }
    }

    /// The flaws of one text written about `stop` (or about a day or the trip when `None`);
    /// `names` are the stop names it may write.
    fn text(&mut self, place: &str, text: &str, stop: Option<&Stop>, names: &[&str]) {
        text_flaws(self, place, text, stop, names);
    }
}

fn text_flaws(scan: &mut Scan, place: &str, text: &str, stop: Option<&Stop>, names: &[&str]) {
    let Scan {
        prompts,
        city,
        findings: out,
        seen,
        sentences,
    } = scan;
    let mut push = |flaw, text: &str| {
        out.push(Finding {
            flaw,
            place: place.to_owned(),
            text: text.trim().to_owned(),
        });
    };
    if cut_off(text) {
        let tail: String = text
            .trim()
            .chars()
            .rev()
            .take(40)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        push(Flaw::CutOff, &tail);
    }
    let facts = stop.map(|s| {
        let described = s.description.as_ref().map_or("", |d| d.text.as_str());
        format!(
            "{} {} {city} {} {described}",
            s.name,
            s.place_kind,
            s.facts.join("; ")
        )
    });
    let all_names = names.join("; ");
    for sentence in split_sentences(text) {
        let sentence = sentence.trim();
        if sentence.is_empty() {
            continue;
        }
        *sentences += 1;
        // Reused: the same sentence with the stop's own name taken out.
        let mut key = sentence.to_lowercase();
        if let Some(s) = stop {
            key = key.replace(&s.name.to_lowercase(), "<stop>");
        }
        let key = words(&key).join(" ");
        match seen.get(&key) {
            Some(first) if first != place => push(Flaw::Reused, sentence),
            Some(_) => {}
            None => {
                seen.insert(key, place.to_owned());
            }
        }
        if copied(sentence, prompts) || only_names(sentence, names) {
            push(Flaw::Copied, sentence);
        }
        if let Some(s) = stop
            && contradicts_kind(sentence, s)
        {
            push(Flaw::WrongKind, sentence);
        }
        // A day's intro and the summary may write the names they were given ("G12 Galleria").
        let allowed = facts.as_deref().unwrap_or(&all_names);
        if numbers(sentence)
            .iter()
            .any(|n| !numbers(allowed).contains(n))
        {
            push(Flaw::Figure, sentence);
        }
        if !unsupported_names(sentence, names, allowed).is_empty() {
            push(Flaw::UnsupportedName, sentence);
        }
        for _ in altered_names(sentence, names) {
            push(Flaw::NameAltered, sentence);
        }
        // A note must hold only what its stop's data says; a day's intro and the summary,
        // built from the data, only no listed claim.
        let claims = if stop.is_some() {
            unsupported_claims(sentence, allowed)
        } else {
            listed_claims(sentence, allowed)
        };
        if !claims.is_empty() {
            push(Flaw::Claim, sentence);
        }
    }
}

/// The prose measures of `plan`: its days' intros and notes, and the summary's prose (the
/// model's sentences before the computed figures). A plan without prose (no `prose` check)
/// has nothing to measure and is all zero.
pub fn measure(plan: &Plan) -> ProseQuality {
    if !plan.checks.iter().any(|c| c.name == "prose") {
        return ProseQuality::default();
    }
    measure_texts(plan)
}

/// The prose measures of `plan`'s texts, whether or not it carries a `prose` check (the
/// orchestrator uses it to make that check).
pub fn measure_texts(plan: &Plan) -> ProseQuality {
    let mut q = ProseQuality::default();
    let mut scan = Scan::new(
        &prompt_texts(),
        format!("{} {}", plan.destination.name, plan.destination.country),
    );
    let place = [
        plan.destination.name.as_str(),
        plan.destination.country.as_str(),
    ];
    let all_names: Vec<&str> = plan
        .itinerary
        .days
        .iter()
        .flat_map(|d| d.stops.iter().flat_map(Stop::names))
        .chain(place)
        .chain(plan.hotels.first().map(|h| h.name.as_str()))
        .collect();
    for day in &plan.itinerary.days {
        let names: Vec<&str> = day
            .stops
            .iter()
            .flat_map(Stop::names)
            .chain(place)
            .collect();
        if !day.intro.trim().is_empty() {
            scan.text(&format!("day {} intro", day.day), &day.intro, None, &names);
        }
        for stop in &day.stops {
            let place = format!("day {}, {}", day.day, stop.name);
            // Only sights and artworks are described; an eatery shows its data.
            let described = crate::itinerary::is_activity(stop.kind);
            q.stops += usize::from(described);
            if stop.note.trim().is_empty() {
                if !described {
                    continue;
                }
                scan.findings.push(Finding {
                    flaw: Flaw::NoteMissing,
                    place,
                    text: String::new(),
                });
            } else {
                scan.text(&place, &stop.note, Some(stop), &names);
            }
        }
    }
    // The summary is the model's sentences, then the computed part, which starts with
    // "A N-day trip to City".
    let computed = format!(
        "A {}-day trip to {}",
        plan.itinerary.days.len(),
        plan.destination.name
    );
    let summary = plan
        .summary
        .text
        .find(&computed)
        .map_or("", |at| plan.summary.text[..at].trim());
    if !summary.is_empty() {
        scan.text("summary", summary, None, &all_names);
    }
    q.sentences = scan.sentences;
    q.findings = scan.findings;
    q
}

#[cfg(test)]
mod tests {
    use super::*;
    use tripwright_domain::StopKind;

    fn stop(name: &str, kind: StopKind, place_kind: &str, note: &str) -> Stop {
        Stop {
            note: note.into(),
            ..crate::kinds::tests::stop(name, kind, place_kind)
        }
    }

    fn flaws(text: &str, s: &Stop) -> Vec<Flaw> {
        let mut scan = Scan::new(&prompt_texts(), "Helsinki Finland".into());
        scan.text(
            "day 1",
            text,
            Some(s),
            &[s.name.as_str(), "Taru ja totuus", "Helsinki", "Finland"],
        );
        scan.findings.into_iter().map(|f| f.flaw).collect()
    }

    #[test]
    fn fame_rank_and_history_are_claims_only_the_data_may_make() {
        // Written by qwen2.5-coder-0.5b for the 3-day Helsinki plan (2026-12-05).
        let rex = stop("Amos Rex", StopKind::Sight, "museum", "");
        assert_eq!(
            flaws(
                "Amos Rex is a fascinating museum in Helsinki, Finland that has been showcasing art and culture for centuries.",
                &rex
            ),
            [Flaw::Claim]
        );
        let memorial = Stop {
            facts: vec!["since 1902".into()],
            ..stop("Elias Lönnrot", StopKind::Artwork, "historic:memorial", "")
        };
        assert_eq!(
            flaws(
                "Elias Lönnrot is a historic memorial in Helsinki, Finland that has undergone significant renovations and renovation efforts since 1902.",
                &memorial
            ),
            [Flaw::Claim]
        );
        assert_eq!(
            listed_claims("The most popular Sunday place, and famous.", ""),
            ["famous", "popular"]
        );
        // Said by the data (here its Wikipedia summary), a claim stands; a word that merely
        // contains a stem inside it is no claim ("unrestored" is not "restored").
        assert!(
            listed_claims(
                "It is the oldest museum in Finland.",
                "Wikipedia: The Ateneum is the oldest art museum in Finland."
            )
            .is_empty()
        );
        assert!(listed_claims("An unrestored hall.", "").is_empty());
        // Features and contents, written by qwen2.5-coder-0.5b for Helsinki (2026-12-05), are
        // claims too; the data's own words keep them.
        assert_eq!(
            listed_claims(
                "Suomen Pankin rahamuseo is a historic Finnish museum, with its unique architecture and beautiful gardens.",
                "Suomen Pankin rahamuseo museum English name: Bank of Finland Museum"
            ),
            ["garden", "architect", "historic"]
        );
        assert_eq!(
            without_claims(
                "Suomen Pankin rahamuseo is a historic Finnish museum, with its unique architecture and beautiful gardens.",
                "Suomen Pankin rahamuseo museum Helsinki Finland"
            )
            .as_deref(),
            Some("Suomen Pankin rahamuseo is a Finnish museum.")
        );
        assert_eq!(
            listed_claims(
                "Päivälehden museo celebrates the traditions and culture of Päivälehti and the history of Finnish art.",
                "Päivälehden museo museum English name: Päivälehti museum"
            ),
            ["history of", "tradition"]
        );
        assert_eq!(
            listed_claims(
                "Galleria B5 is a collection of stunning buildings.",
                "Galleria B5 gallery"
            ),
            ["collection"]
        );
        assert!(
            listed_claims(
                "Kaisaniemi Botanic Garden has a fine view of the bay.",
                "Kaisaniemi Botanic Garden garden viewpoint"
            )
            .is_empty(),
            "the kind and the name hold the words"
        );
        assert!(
            listed_claims(
                "Ateneum was designed by the architect Theodor Höijer.",
                "Ateneum museum architect: Theodor Höijer"
            )
            .is_empty()
        );
        assert!(
            listed_claims("It has a rooftop, an overview and a preview.", "rooftop").is_empty()
        );
        // "Modern" of a place the data dates before 1950 is a claim; of a newer one it is not.
        assert_eq!(
            listed_claims(
                "Ateneum is a modern museum that was founded in 1887.",
                "Ateneum museum architect: Theodor Höijer; since 1887"
            ),
            ["modern"]
        );
        assert!(
            listed_claims(
                "Kiasma is a modern museum of contemporary art.",
                "Kiasma museum since 1998"
            )
            .is_empty()
        );
        assert!(listed_claims("Kiasma is a modern museum.", "Kiasma museum").is_empty());
        // But no data makes it modern, and so the word is not held.
        assert_eq!(
            unsupported_claims("Kiasma is a modern museum.", "Kiasma museum"),
            ["modern"]
        );
        // The clause that claims is cut off when the rest still says something.
        assert_eq!(
            trim_claim(
                "Amos Rex is a fascinating museum in Helsinki, Finland that has been showcasing art and culture for centuries.",
                "Amos Rex museum Helsinki Finland fascinating"
            )
            .as_deref(),
            Some("Amos Rex is a fascinating museum in Helsinki, Finland.")
        );
        // Adjectives the data does not hold are struck out first.
        assert_eq!(
            without_claims(
                "Ääni is a small gallery in Töölö, which is famous for its light.",
                "Ääni gallery Töölö"
            )
            .as_deref(),
            Some("Ääni is a gallery in Töölö.")
        );
        // Nothing left with a verb, or the claim is the whole point: no trim.
        assert_eq!(
            trim_claim(
                "Päivälehden museo, a museum in Helsinki, Finland was the most popular Sunday place for travelers.",
                ""
            ),
            None
        );
        assert_eq!(trim_claim("It is famous.", ""), None);
        assert_eq!(trim_claim("It is a museum in Helsinki.", ""), None);
        // A plain, true note passes.
        let ateneum = Stop {
            facts: vec!["architect: Theodor Höijer".into(), "since 1887".into()],
            ..stop("Ateneum", StopKind::Sight, "museum", "")
        };
        assert_eq!(
            flaws(
                "Ateneum is a museum in Helsinki, designed by Theodor Höijer and open since 1887.",
                &ateneum
            ),
            []
        );
    }

    #[test]
    fn the_examples_of_bad_prose_are_caught() {
        let museum = stop("Amos Rex", StopKind::Sight, "museum", "");
        assert_eq!(
            flaws("Amos Rex is a masterful chef from Finland.", &museum),
            [Flaw::WrongKind, Flaw::Claim]
        );
        let steak = stop("Stefan's Steakhouse", StopKind::Dinner, "restaurant", "");
        assert_eq!(
            flaws(
                "Stefan's Steakhouse, a cozy cafe, is a popular spot to relax after dinner.",
                &steak
            ),
            [Flaw::WrongKind, Flaw::Claim]
        );
        let grave = stop("Grave of J. L. Runeberg", StopKind::Artwork, "grave", "");
        // A grave whose data does not date it: "historic" is a claim as well.
        assert_eq!(
            flaws("It is an historic building.", &grave),
            [Flaw::WrongKind, Flaw::Claim]
        );
        let ateneum = stop("Ateneum", StopKind::Sight, "museum", "");
        // The example of an earlier prompt, no longer copied but still claiming.
        assert_eq!(
            flaws(
                "Ateneum is a bright modern museum designed by a master, and its quiet rooms invite an unhurried look.",
                &ateneum
            ),
            [Flaw::Claim]
        );
        // This prompt's example, copied.
        assert!(
            flaws(
                "Ateneum is a museum on Rua Dom João de Castro, designed by Álvaro Siza and open since 1999.",
                &ateneum
            )
            .contains(&Flaw::Copied)
        );
        // The Porto example of an earlier prompt, copied: its gardens are not Ateneum's.
        assert_eq!(
            flaws(
                "Ateneum pairs contemporary exhibitions with wide gardens that reward an unhurried walk.",
                &ateneum
            ),
            [Flaw::Claim]
        );
        let emperor = stop("Aleksanteri II", StopKind::Artwork, "historic:memorial", "");
        assert_eq!(
            flaws(
                "Aleksanteri II is a poignant memorial to the Finnish poet.",
                &emperor
            ),
            [Flaw::Claim]
        );
        assert_eq!(
            flaws("Lost In Helsinki (d", &ateneum),
            [Flaw::CutOff, Flaw::UnsupportedName, Flaw::Claim]
        );
        assert_eq!(flaws("Toscanini,", &ateneum), [Flaw::CutOff, Flaw::Claim]);
        assert_eq!(
            flaws("The Taru and totuus show is worth it.", &ateneum),
            [Flaw::NameAltered, Flaw::Claim]
        );
        assert_eq!(
            flaws("Founded in 1887, it holds Finnish classics.", &ateneum),
            [Flaw::Figure, Flaw::Claim]
        );
        // True, but only its data can say so.
        assert_eq!(
            flaws("Ateneum holds the classics of Finnish painting.", &ateneum),
            [Flaw::Claim]
        );
        let described = Stop {
            facts: vec!["description: the classics of Finnish painting".into()],
            ..ateneum.clone()
        };
        assert!(
            flaws(
                "Ateneum holds the classics of Finnish painting.",
                &described
            )
            .is_empty()
        );
        assert!(flaws("Ateneum is in Helsinki, Finland.", &ateneum).is_empty());
        assert_eq!(
            flaws("Heidi Ateneum is a beautiful museum.", &ateneum),
            [Flaw::UnsupportedName, Flaw::Claim]
        );
        // The prompt echoed: its list of names, or its fields.
        assert_eq!(
            flaws("Ateneum, Taru ja totuus and Helsinki.", &ateneum),
            [Flaw::Copied, Flaw::Claim]
        );
        assert!(
            flaws(
                "The day at Helsinki, Finland, a Sunday, visits: Ateneum.",
                &ateneum
            )
            .contains(&Flaw::Copied)
        );
        assert!(
            flaws(
                "The day of Ateneum (museum) in Helsinki is a beautiful night out.",
                &ateneum
            )
            .contains(&Flaw::Copied)
        );
    }

    #[test]
    fn a_stop_may_be_called_by_its_english_name() {
        let mut hall = stop("Vanha Kauppahalli", StopKind::Sight, "attraction", "");
        hall.facts = vec!["English name: Old Market Hall".into()];
        assert_eq!(
            hall.names().collect::<Vec<_>>(),
            ["Vanha Kauppahalli", "Old Market Hall"]
        );
        let names: Vec<&str> = hall
            .names()
            .chain(["Amos Rex", "Amos Anderson Art Museum"])
            .collect();
        let found = |text: &str| {
            let mut scan = Scan::new(&prompt_texts(), "Helsinki Finland".into());
            scan.text("day 1", text, Some(&hall), &names);
            scan.findings
                .into_iter()
                .map(|f| f.flaw)
                .collect::<Vec<_>>()
        };
        assert!(found("Old Market Hall is an attraction in Helsinki.").is_empty());
        // Amos Rex is a name of its own, not the other museum's altered. (Written of the
        // hall, neither sentence's words are its data's: each is a claim as well.)
        assert_eq!(found("Amos Rex is a modern museum."), [Flaw::Claim]);
        assert_eq!(
            found("Amos Art Museum is modern."),
            [Flaw::NameAltered, Flaw::Claim]
        );
        assert!(
            crate::grounding::check_text("Old Market Hall sells fish.", &names, &[])
                .invented
                .is_empty()
        );
    }

    #[test]
    fn a_sentence_written_for_two_stops_is_reused() {
        let mut scan = Scan::new(&[], "Helsinki Finland".into());
        let a = stop("Kiasma", StopKind::Sight, "museum", "");
        let b = stop("Ateneum", StopKind::Sight, "museum", "");
        for (place, s) in [("day 1, Kiasma", &a), ("day 1, Ateneum", &b)] {
            let note = format!("{} is a museum in Helsinki, Finland.", s.name);
            scan.text(place, &note, Some(s), &[]);
        }
        assert_eq!(scan.sentences, 2);
        assert_eq!(
            scan.findings.iter().map(|f| f.flaw).collect::<Vec<_>>(),
            [Flaw::Reused]
        );
    }

    /// What the 0.5B and 1.5B models wrote for central Helsinki on 2026-12-05, as read.
    #[test]
    fn claims_of_age_and_care_are_struck_out_and_the_rest_kept() {
        let gallery = "Galleria B5 gallery Helsinki Finland";
        assert_eq!(
            without_claims(
                "Galleria B5 is a historic and well-preserved Finnish art gallery located in Helsinki, Finland.",
                gallery
            )
            .as_deref(),
            Some("Galleria B5 is a Finnish art gallery located in Helsinki, Finland.")
        );
        assert_eq!(
            without_claims(
                "Galleria 4-kuus is a historic Finnish gallery that offers visitors an incredible array of art and cultural experiences.",
                "Galleria 4-kuus gallery Helsinki Finland"
            )
            .as_deref(),
            Some("Galleria 4-kuus is a Finnish gallery.")
        );
        assert_eq!(
            without_claims(
                "G12 Galleria is a charming and historic building in Helsinki, Finland.",
                "G12 Galleria gallery Helsinki Finland"
            )
            .as_deref(),
            Some("G12 Galleria is a building in Helsinki, Finland.")
        );
        assert_eq!(
            without_claims("Amos Rex is an iconic, bright museum.", "Amos Rex museum").as_deref(),
            Some("Amos Rex is a museum.")
        );
        assert_eq!(
            without_claims("It is the most popular spot in Kallio.", "Kallio").as_deref(),
            Some("It is the spot in Kallio.")
        );
        // Of a memorial, or of a place dated before 1950, "historic" stands; "improved" does
        // not, and its clause goes.
        assert!(
            unsupported_claims(
                "Elias Lönnrot is a historic memorial.",
                "Elias Lönnrot historic:memorial memorial: statue"
            )
            .is_empty()
        );
        assert_eq!(
            without_claims(
                "Ateneum is a beautiful and historic museum in Helsinki, Finland where the architect is Theodor Höijer, and wheelchair accessibility has been greatly improved.",
                "Ateneum museum Helsinki Finland architect: Theodor Höijer; since 1887; wheelchair accessible"
            )
            .as_deref(),
            Some(
                "Ateneum is a historic museum in Helsinki, Finland where the architect is Theodor Höijer."
            )
        );
        // A claim the sentence ends on cannot be struck out.
        assert_eq!(strike_claim_adjectives("Kiasma is famous.", ""), None);
    }

    /// Two true facts joined wrongly, written by the 0.5B model (2026-12-05 and 06).
    #[test]
    fn the_year_a_place_opened_is_not_the_year_of_its_access() {
        let facts = "Ateneum museum Helsinki Finland architect: Theodor Höijer; since 1887; street: Kaivokatu; wheelchair accessible";
        for joined in [
            "Ateneum is a museum in Helsinki, Finland that was built on Kaivokatu and has wheelchair access since 1887.",
            "Ateneum is a museum that has been wheelchair accessible since 1887.",
        ] {
            assert_eq!(listed_claims(joined, facts), ["since"], "{joined}");
        }
        assert_eq!(
            without_claims(
                "Ateneum is a museum in Helsinki, Finland that was built on Kaivokatu and has wheelchair access since 1887.",
                facts
            )
            .as_deref(),
            Some("Ateneum is a museum in Helsinki, Finland.")
        );
        assert!(
            listed_claims(
                "Ateneum is a museum open since 1887 and wheelchair accessible.",
                facts
            )
            .is_empty()
        );
    }

    #[test]
    fn what_a_work_commemorates_comes_from_its_data() {
        assert_eq!(
            listed_claims(
                "Eino Leino is a memorial that was dedicated to 1953.",
                "Eino Leino historic:memorial from 1953"
            ),
            ["dedicated to"]
        );
        let emperor = "Aleksanteri II historic:memorial memorial: statue; subject: Alexander II";
        assert_eq!(
            listed_claims(
                "Aleksanteri II is a poignant memorial to the Finnish poet.",
                emperor
            ),
            ["memorial to"]
        );
        assert!(
            unsupported_claims("Aleksanteri II is a statue of Alexander II.", emperor).is_empty()
        );
        assert!(
            unsupported_claims("Aleksanteri II is a memorial to Aleksanteri II.", emperor)
                .is_empty()
        );
    }

    /// Read in the 0.5B model's plans of 2026-12-05 after the changes above.
    #[test]
    fn a_maker_not_in_the_data_the_example_and_talk_about_the_task_are_caught() {
        let facts =
            "Suomen Pankin rahamuseo museum Helsinki Finland English name: Bank of Finland Museum";
        assert_eq!(
            without_claims(
                "Suomen Pankin rahamuseo is a museum in Helsinki, Finland designed by Bank of Finland Museum.",
                facts
            )
            .as_deref(),
            Some("Suomen Pankin rahamuseo is a museum in Helsinki, Finland.")
        );
        assert!(
            unsupported_claims(
                "Ateneum was designed by Theodor Höijer.",
                "Ateneum museum architect: Theodor Höijer"
            )
            .is_empty()
        );
        assert_eq!(
            without_claims(
                "Galleria B5 is a modern Finnish gallery that offers a wide range of exhibitions and exhibits, but its lack of specific details makes it difficult to provide an accurate description.",
                "Galleria B5 gallery Helsinki Finland"
            )
            .as_deref(),
            Some("Galleria B5 is a Finnish gallery.")
        );
        assert_eq!(
            without_claims(
                "Ateneum is a museum in Helsinki, Finland designed by Theodor Höijer and its wheelchair accessible rooms invite an unhurried look.",
                "Ateneum museum Helsinki Finland architect: Theodor Höijer; wheelchair accessible"
            )
            .as_deref(),
            Some("Ateneum is a museum in Helsinki, Finland designed by Theodor Höijer.")
        );
    }

    #[test]
    fn a_figure_in_other_digits_is_a_figure() {
        assert_eq!(numbers("open since ۱۹۶۰ and 12"), ["۱۹۶۰", "12"]);
        let museum = stop("Amos Anderson taidemuseo", StopKind::Sight, "museum", "");
        assert_eq!(
            flaws(
                "Amos Anderson taidemuseo is a museum open since ۱۹۶۰.",
                &museum
            ),
            [Flaw::Figure]
        );
    }

    #[test]
    fn a_claiming_phrase_after_the_noun_is_cut_off() {
        assert_eq!(
            without_claims(
                "Amos Anderson Art Museum is a modern museum dedicated to traditional Finnish art and architecture in Helsinki, Finland.",
                "Amos Anderson taidemuseo museum English name: Amos Anderson Art Museum"
            )
            .as_deref(),
            Some("Amos Anderson Art Museum is a museum.")
        );
        assert_eq!(
            without_claims(
                "Suomen Pankin rahamuseo is a small museum with beautiful gardens.",
                "Suomen Pankin rahamuseo museum"
            )
            .as_deref(),
            Some("Suomen Pankin rahamuseo is a museum.")
        );
        // A clause boundary that leaves no verb: the phrase's is tried.
        assert_eq!(
            without_claims(
                "Ateneum, a museum in Helsinki, is a large museum dedicated to traditional art.",
                "Ateneum museum Helsinki"
            )
            .as_deref(),
            Some("Ateneum, a museum in Helsinki, is a museum.")
        );
    }

    #[test]
    fn the_maker_of_a_work_is_not_what_it_is_of() {
        let facts = "Elias Lönnrot historic:memorial Helsinki Finland memorial: statue; artist: Emil Wikström";
        // A few words between (the 0.5B model, 2026-12-06).
        for wrong in [
            "Lyhdynkantajat is a statue of an artist named Emil Wikström, from 1914.",
            "Kolme seppää is an artwork that depicts Emil Wikström.",
        ] {
            assert!(
                listed_claims(wrong, facts).contains(&"emil wikström".to_owned()),
                "{wrong}"
            );
        }
        assert!(
            listed_claims(
                "Elias Lönnrot is a statue in the city of Helsinki, Finland (Emil Wikström).",
                facts
            )
            .is_empty()
        );
        assert!(
            listed_claims(
                "It is a statue from 1923 that was dedicated to Finnish statesman Emil Wikström.",
                facts
            )
            .contains(&"emil wikström".to_owned())
        );
        for wrong in [
            "Elias Lönnrot is a beautifully crafted statue of Emil Wikström.",
            "It is a unique statue that was dedicated to Emil Wikström.",
        ] {
            assert_eq!(listed_claims(wrong, facts), ["emil wikström"], "{wrong}");
        }
        assert_eq!(
            without_claims(
                "Elias Lönnrot is a historic memorial in Helsinki, Finland, showcasing a unique statue that was dedicated to Emil Wikström.",
                facts
            )
            .as_deref(),
            Some(
                "Elias Lönnrot is a historic memorial in Helsinki, Finland, showcasing a statue."
            )
        );
        for right in [
            "Elias Lönnrot is a statue by Emil Wikström.",
            "It features the work of Emil Wikström.",
            "Emil Wikström made it.",
        ] {
            assert!(unsupported_claims(right, facts).is_empty(), "{right}");
        }
    }

    /// What the 0.5B model wrote in the eval of 2026-12-06 that named nothing and claimed no
    /// rank, and so passed every check before: each word must now come from the stop's data.
    #[test]
    fn words_the_data_does_not_hold_are_struck_out_or_cut_off() {
        let cases = [
            (
                "Taidesalonki piirto is a stunning Finnish gallery that features vibrant art sites, and outdoor exhibits.",
                "Taidesalonki piirto gallery Helsinki, Finland street: Uudenmaankatu",
                "Taidesalonki piirto is a Finnish gallery.",
            ),
            (
                "Anna Ruohonen is a charming Finnish gallery that showcases the art and culture of Finland, offering visitors an unparalleled opportunity to appreciate its rich history.",
                "Anna Ruohonen gallery Helsinki, Finland street: Annankatu",
                "Anna Ruohonen is a Finnish gallery.",
            ),
            (
                "Päivälehden museo is a modern Finnish museum, featuring contemporary buildings and exhibits designed to enhance the Finnish language.",
                "Päivälehden museo museum Helsinki, Finland English name: Päivälehti museum; free entry",
                "Päivälehden museo is a Finnish museum.",
            ),
            (
                "Suomen Pankin rahamuseo is a museum in Helsinki, Finland that showcases the Finnish government's commitment to promoting sustainable financial practices.",
                "Suomen Pankin rahamuseo museum Helsinki, Finland English name: Bank of Finland Museum",
                "Suomen Pankin rahamuseo is a museum in Helsinki, Finland.",
            ),
            (
                "Kahden neliön galleria is a charming and beautiful gallery on Fredrikinkatu.",
                "Kahden neliön galleria gallery Helsinki, Finland street: Fredrikinkatu",
                "Kahden neliön galleria is a gallery on Fredrikinkatu.",
            ),
        ];
        for (written, facts, kept) in cases {
            assert_eq!(without_claims(written, facts).as_deref(), Some(kept));
        }
        // What the data says stays, in the words the data has: a memorial's plaque, its
        // English name ("Museum of Modern Art Kiasma"), its street.
        for (true_note, facts) in [
            (
                "Johan Vilhelm Snellman is a memorial to the Finnish statesman and philosopher, a statue by Emil Wikström.",
                "Johan Vilhelm Snellman historic:memorial Helsinki, Finland inscription: Memorial to Johan Vilhelm Snellman, a Finnish statesman, philosopher, author and journalist. Statue by Emil Wikström, 1923.",
            ),
            (
                "Kiasma is a modern museum on Mannerheiminaukio.",
                "Kiasma museum Helsinki, Finland English name: Museum of Modern Art Kiasma; street: Mannerheiminaukio",
            ),
            (
                "Päivälehden museo is a museum in Helsinki with free entry.",
                "Päivälehden museo museum Helsinki, Finland free entry",
            ),
        ] {
            assert!(
                unsupported_claims(true_note, facts).is_empty(),
                "{true_note}: {:?}",
                unsupported_claims(true_note, facts)
            );
        }
    }
}
