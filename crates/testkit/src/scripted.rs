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
    ChatRequest, FinishReason, LlmClient, LlmError, StreamEvent, TokenStream, Usage,
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
