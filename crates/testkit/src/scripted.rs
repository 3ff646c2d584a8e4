//! A scripted language model: an [`LlmClient`] whose answers a test decides, so the logic
//! around the model (prose parsing and grounding, streaming, retries, degradation, cancel) is
//! tested fast and exactly. It can also fail, stall, cut a stream off and panic, as real
//! models and providers do. Tests about the model itself use the real engine.
//!
//! Each request is answered by the responder: a closure from the request to a [`Reply`], or a
//! queue of replies taken in order (then the last one again). Every request is recorded.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use futures::StreamExt;
use tripwright_llm::{
    ChatRequest, FinishReason, LlmClient, LlmError, Role, StreamEvent, TokenStream, Usage,
};

/// One scripted answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// The text, streamed word by word (whitespace kept), then a clean end.
    Text(String),
    /// The text, streamed in exactly these pieces, then a clean end.
    Pieces(Vec<String>),
    /// A failure before any text.
    Fail(LlmError),
    /// Waits this long before the inner reply (a slow or stuck model).
    Stall(Duration, Box<Reply>),
    /// Streams the first `after` pieces of the text, then the stream fails with `error` (a
    /// connection cut mid-answer).
    CutOff {
        /// The whole text the model meant to write.
        text: String,
        /// Pieces sent before the cut.
        after: usize,
        /// The error the stream ends with.
        error: LlmError,
    },
    /// Streams the text and then hangs: no final event, ever (a model that never stops).
    Hang(String),
    /// Panics inside the model call (a bug in a client library, say).
    Panic,
}

type Responder = dyn Fn(&ChatRequest) -> Reply + Send + Sync;

/// The scripted model.
pub struct ScriptedLlm {
    id: String,
    responder: Box<Responder>,
    seen: Mutex<Vec<ChatRequest>>,
}

impl std::fmt::Debug for ScriptedLlm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScriptedLlm").field("id", &self.id).finish()
    }
}

/// Splits text into streamed pieces: each word with the whitespace before it.
pub fn pieces(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for ch in text.chars() {
        if ch.is_whitespace() && !current.trim().is_empty() {
            out.push(std::mem::take(&mut current));
        }
        current.push(ch);
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

impl ScriptedLlm {
    /// A model answering every request with `respond(request)`.
    pub fn new(respond: impl Fn(&ChatRequest) -> Reply + Send + Sync + 'static) -> Arc<Self> {
        Arc::new(Self {
            id: "scripted-model".into(),
            responder: Box::new(respond),
            seen: Mutex::new(Vec::new()),
        })
    }

    /// What this model answers to `request` (for a model wrapping another's answers).
    pub fn reply_to(&self, request: &ChatRequest) -> Reply {
        (self.responder)(request)
    }

    /// A model answering with `replies` in order, then the last one again and again.
    pub fn queue(replies: impl IntoIterator<Item = Reply>) -> Arc<Self> {
        let queue = Mutex::new(replies.into_iter().collect::<VecDeque<_>>());
        Self::new(move |_| {
            let mut q = queue.lock().unwrap_or_else(|e| e.into_inner());
            if q.len() > 1 {
                q.pop_front().unwrap_or(Reply::Panic)
            } else {
                q.front().cloned().unwrap_or(Reply::Panic)
            }
        })
    }

    /// Every request so far, in order.
    pub fn requests(&self) -> Vec<ChatRequest> {
        self.seen.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// What the planner's prose writer asked the model for, read back from a request: one stop's
/// note (one text per request; the day intros and the summary are built from the data).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Prompt {
    /// The note about one stop.
    Note {
        /// The stop's name.
        place: String,
        /// What it is ("museum", "restaurant, for lunch").
        kind: String,
        /// Where it is ("Helsinki, Finland").
        city: String,
        /// The place data's facts, as the prompt gives them.
        facts: String,
        /// The names a second attempt is told not to mention.
        avoid: Vec<String>,
    },
    /// Anything else.
    Other,
}

/// The names after "Do not mention: " up to the closing full stop.
fn avoided(prompt: &str) -> Vec<String> {
    prompt
        .split(" Do not mention: ")
        .nth(1)
        .map(|names| {
            names
                .trim_end()
                .trim_end_matches('.')
                .split(", ")
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

impl Prompt {
    /// Reads the last user message of a prose request: "Place: A, a KIND in CITY. Facts: ….",
    /// perhaps followed by " Do not mention: X, Y.".
    pub fn of(request: &ChatRequest) -> Self {
        let Some(last) = request.messages.last().filter(|m| m.role == Role::User) else {
            return Prompt::Other;
        };
        let text = last.content.as_str();
        let avoid = avoided(text);
        let asked = text.split(" Do not mention: ").next().unwrap_or_default();
        if let Some(rest) = asked.strip_prefix("Place: ") {
            let (place, rest) = rest.split_once(", a ").unwrap_or((rest, ""));
            let kind = rest.split(" in ").next().unwrap_or_default();
            let city = rest
                .split_once(" in ")
                .map(|(_, c)| c.split(". Facts: ").next().unwrap_or(c))
                .unwrap_or_default();
            let facts = rest
                .split(" Facts: ")
                .nth(1)
                .map(|f| f.trim_end().trim_end_matches('.'))
                .unwrap_or_default();
            return Prompt::Note {
                place: place.to_owned(),
                kind: kind.to_owned(),
                city: city.to_owned(),
                facts: facts.to_owned(),
                avoid,
            };
        }
        Prompt::Other
    }
}

/// Ways to say where a stop is and for whom, that make every text of a [`Writer`] different
/// from the others (the plan's prose check refuses a sentence written for two stops) in words
/// any place's data holds (it refuses any other).
const WHERE: [&str; 10] = [
    "in",
    "in the centre of",
    "in the heart of",
    "in the city of",
    "within",
    "in the area of",
    "in the town of",
    "in the district of",
    "inside",
    "near the centre of",
];
const FOR_WHOM: [&str; 10] = [
    "",
    " to visit",
    " for visitors",
    " to see",
    " for travellers",
    " that visitors see",
    " that people visit",
    " for people to see",
    " open to visitors",
    " that travellers see",
];

/// A scripted travel writer: it answers each note with a short
/// sentence that passes the writer's review (no figures, no other place, nothing copied,
/// nothing called another kind of place), different for each text it writes (up to a hundred),
/// and remembers what it wrote for which prompt.
#[derive(Debug, Default)]
pub struct Writer {
    written: Mutex<Vec<(Prompt, String)>>,
}

impl Writer {
    /// A writer that has written nothing yet.
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Its next text for `prompt` (`None` for a prompt that is not the prose writer's).
    pub fn answer(&self, prompt: &Prompt) -> Option<String> {
        let mut written = self.written.lock().unwrap_or_else(|e| e.into_inner());
        let n = written.len();
        let text = match prompt {
            Prompt::Note {
                place,
                kind,
                city,
                facts,
                ..
            } => {
                let article = if kind.starts_with(['a', 'e', 'i', 'o', 'u']) {
                    "an"
                } else {
                    "a"
                };
                // A few words of a fact, as a good note says one ("Theodor Höijer"): its
                // last, which says most ("street: Kaivokatu", "wheelchair accessible" rather
                // than "memorial: statue"), and not its own name in English.
                let fact = facts
                    .rsplit("; ")
                    .find(|f| !f.starts_with("English name"))
                    .filter(|f| !f.is_empty() && *f != "none beyond its kind")
                    .map(|f| {
                        let value = f.split_once(": ").map_or(f, |(_, v)| v);
                        let words: Vec<&str> = value
                            .split_whitespace()
                            .take(3)
                            .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()))
                            .filter(|w| !w.is_empty())
                            .collect();
                        format!(" ({})", words.join(" "))
                    })
                    .unwrap_or_default();
                format!(
                    "{place} is {article} {kind} {} {city}{}{fact}.",
                    WHERE[n % 10],
                    FOR_WHOM[(n / 10) % 10]
                )
            }
            Prompt::Other => return None,
        };
        written.push((prompt.clone(), text.clone()));
        Some(text)
    }

    /// Everything written so far, with its prompt, in order.
    pub fn written(&self) -> Vec<(Prompt, String)> {
        self.written
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The last text written for the prompts `which` accepts.
    pub fn last(&self, which: impl Fn(&Prompt) -> bool) -> Option<String> {
        self.written()
            .into_iter()
            .rev()
            .find(|(p, _)| which(p))
            .map(|(_, t)| t)
    }

    /// The last note written about `place`.
    pub fn note(&self, place: &str) -> Option<String> {
        self.last(|p| matches!(p, Prompt::Note { place: n, .. } if n == place))
    }

    /// A model that writes with this writer (and refuses prompts that are not prose).
    pub fn model(self: &Arc<Self>) -> Arc<ScriptedLlm> {
        let writer = Arc::clone(self);
        ScriptedLlm::new(move |request| writer.reply(request))
    }

    /// The writer's reply to `request`.
    pub fn reply(&self, request: &ChatRequest) -> Reply {
        match self.answer(&Prompt::of(request)) {
            Some(text) => Reply::Text(text),
            None => Reply::Fail(LlmError::BadRequest(
                "the scripted writer writes only the planner's prose".into(),
            )),
        }
    }
}

fn done(tokens: usize) -> Result<StreamEvent, LlmError> {
    Ok(StreamEvent::Done {
        usage: Usage {
            prompt_tokens: 10,
            completion_tokens: u32::try_from(tokens).unwrap_or(u32::MAX),
        },
        finish: FinishReason::Stop,
    })
}

fn tokens(pieces: Vec<String>) -> impl futures::Stream<Item = Result<StreamEvent, LlmError>> {
    futures::stream::iter(pieces.into_iter().map(|p| Ok(StreamEvent::Token(p))))
}

async fn answer(reply: Reply) -> Result<TokenStream, LlmError> {
    match reply {
        Reply::Text(text) => Box::pin(answer(Reply::Pieces(pieces(&text)))).await,
        Reply::Pieces(p) => {
            let n = p.len();
            Ok(Box::pin(
                tokens(p).chain(futures::stream::once(async move { done(n) })),
            ))
        }
        Reply::Fail(e) => Err(e),
        Reply::Stall(d, inner) => {
            tokio::time::sleep(d).await;
            Box::pin(answer(*inner)).await
        }
        Reply::CutOff { text, after, error } => {
            let sent: Vec<String> = pieces(&text).into_iter().take(after).collect();
            Ok(Box::pin(
                tokens(sent).chain(futures::stream::once(async move { Err(error) })),
            ))
        }
        Reply::Hang(text) => Ok(Box::pin(
            tokens(pieces(&text)).chain(futures::stream::pending()),
        )),
        Reply::Panic => panic!("the scripted model panics, as asked"),
    }
}

#[async_trait]
impl LlmClient for ScriptedLlm {
    fn model_id(&self) -> &str {
        &self.id
    }

    async fn stream(&self, request: ChatRequest) -> Result<TokenStream, LlmError> {
        let reply = (self.responder)(&request);
        self.seen
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(request);
        answer(reply).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tripwright_llm::ChatMessage;

    fn request() -> ChatRequest {
        ChatRequest::new(vec![ChatMessage::user("hi")])
    }

    #[tokio::test]
    async fn replies_stream_fail_and_are_recorded() {
        let llm = ScriptedLlm::queue([
            Reply::Text("Hello there world".into()),
            Reply::Fail(LlmError::Busy),
            Reply::CutOff {
                text: "one two three".into(),
                after: 2,
                error: LlmError::Unavailable("cut".into()),
            },
        ]);
        let c = llm.complete(request()).await.expect("text");
        assert_eq!(c.text, "Hello there world");
        assert_eq!(c.usage.completion_tokens, 3);
        assert_eq!(llm.complete(request()).await, Err(LlmError::Busy));
        let mut s = llm.stream(request()).await.expect("a stream");
        let mut got = String::new();
        let mut error = None;
        while let Some(e) = s.next().await {
            match e {
                Ok(StreamEvent::Token(t)) => got.push_str(&t),
                Ok(StreamEvent::Done { .. }) => panic!("a cut stream does not finish"),
                Err(e) => error = Some(e),
            }
        }
        assert_eq!(got, "one two");
        assert_eq!(error, Some(LlmError::Unavailable("cut".into())));
        // The last reply is repeated.
        assert!(llm.complete(request()).await.is_err());
        assert_eq!(llm.requests().len(), 4);
        assert_eq!(pieces(" a  b"), [" a", "  b"]);
    }

    fn prose_request(prompt: &str) -> ChatRequest {
        ChatRequest::new(vec![
            ChatMessage::system("You are the travel writer."),
            ChatMessage::user(prompt),
        ])
    }

    #[test]
    fn the_writers_prompts_are_read_and_answered_differently() {
        let note = prose_request(
            "Place: Savoy, a restaurant, for lunch in Helsinki, Finland. Facts: cuisine: finnish.",
        );
        assert_eq!(
            Prompt::of(&note),
            Prompt::Note {
                place: "Savoy".into(),
                kind: "restaurant, for lunch".into(),
                city: "Helsinki, Finland".into(),
                facts: "cuisine: finnish".into(),
                avoid: Vec::new(),
            }
        );
        let told = prose_request(
            "Place: Kiasma, a museum in Helsinki, Finland. Facts: none beyond its kind. Do not mention: Amos Rex, Kappeli.",
        );
        assert_eq!(
            Prompt::of(&told),
            Prompt::Note {
                place: "Kiasma".into(),
                kind: "museum".into(),
                city: "Helsinki, Finland".into(),
                facts: "none beyond its kind".into(),
                avoid: vec!["Amos Rex".into(), "Kappeli".into()],
            }
        );
        let summary =
            prose_request("Summarise a trip to Helsinki, Finland in July that sees Ateneum.");
        assert_eq!(Prompt::of(&summary), Prompt::Other);
        assert_eq!(Prompt::of(&request()), Prompt::Other);

        let writer = Writer::new();
        let first = writer.answer(&Prompt::of(&note)).expect("a note");
        let second = writer.answer(&Prompt::of(&note)).expect("a note");
        assert!(first.starts_with("Savoy ") && second.starts_with("Savoy "));
        assert_ne!(first, second);
        assert_eq!(writer.note("Savoy"), Some(second));
        assert!(writer.note("Kiasma").is_none());
        writer.answer(&Prompt::of(&told));
        assert!(
            writer
                .note("Kiasma")
                .is_some_and(|n| n.starts_with("Kiasma "))
        );
        assert_eq!(writer.answer(&Prompt::Other), None);
        assert_eq!(writer.written().len(), 3);
    }

    #[tokio::test]
    async fn a_stalled_reply_can_be_timed_out() {
        let llm = ScriptedLlm::queue([Reply::Stall(
            Duration::from_secs(60),
            Box::new(Reply::Text("late".into())),
        )]);
        let r = tokio::time::timeout(Duration::from_millis(50), llm.complete(request())).await;
        assert!(r.is_err(), "still waiting");
    }
}
