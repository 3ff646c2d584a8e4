//! The language-model layer: one [`LlmClient`] trait with two implementations — the embedded
//! llama.cpp engine ([`engine`]) and an OpenAI-compatible HTTP client ([`openai`]) — plus the
//! typed error taxonomy both map their failures to.

pub mod engine;
pub mod metered;
pub mod openai;

use std::pin::Pin;
use std::time::Duration;

use async_trait::async_trait;
use futures::Stream;
use serde::{Deserialize, Serialize};

/// Who wrote a chat message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Instructions.
    System,
    /// The user.
    User,
    /// The model.
    Assistant,
}

/// One chat message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    /// Author.
    pub role: Role,
    /// Text.
    pub content: String,
}

impl ChatMessage {
    /// A system message.
    pub fn system(content: impl Into<String>) -> Self {
        Self {
            role: Role::System,
            content: content.into(),
        }
    }

    /// A user message.
    pub fn user(content: impl Into<String>) -> Self {
        Self {
            role: Role::User,
            content: content.into(),
        }
    }

    /// An assistant message.
    pub fn assistant(content: impl Into<String>) -> Self {
        Self {
            role: Role::Assistant,
            content: content.into(),
        }
    }
}

/// A generation request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatRequest {
    /// The conversation, system prompt first.
    pub messages: Vec<ChatMessage>,
    /// Most tokens to generate.
    pub max_tokens: u32,
    /// Sampling temperature; 0 means greedy.
    pub temperature: f32,
    /// Nucleus sampling mass.
    pub top_p: f32,
    /// Repetition penalty (1.0 = off); small models loop without one.
    pub repeat_penalty: f32,
    /// Generation stops before any of these strings.
    pub stop: Vec<String>,
    /// Sampling seed, for reproducible output at temperature > 0.
    pub seed: Option<u64>,
    /// Characters no generated token may hold (prose without figures: the digits its facts do
    /// not have). The embedded engine masks every token containing one before sampling; other
    /// providers ignore it, and the caller's review still checks the text.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub forbidden_chars: Vec<char>,
}

impl ChatRequest {
    /// A request with the defaults used for itinerary prose.
    pub fn new(messages: Vec<ChatMessage>) -> Self {
        Self {
            messages,
            max_tokens: 256,
            temperature: 0.7,
            top_p: 0.9,
            repeat_penalty: 1.15,
            stop: Vec::new(),
            seed: None,
            forbidden_chars: Vec::new(),
        }
    }
}

/// Token counts of one generation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    /// Prompt tokens.
    pub prompt_tokens: u32,
    /// Generated tokens.
    pub completion_tokens: u32,
}

/// Why generation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FinishReason {
    /// End of sequence or a stop string.
    Stop,
    /// `max_tokens` reached.
    Length,
    /// The caller cancelled.
    Cancelled,
}

/// One item of a token stream.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamEvent {
    /// A piece of text (one or more tokens).
    Token(String),
    /// Generation ended; always the last item of a successful stream.
    Done {
        /// Token counts.
        usage: Usage,
        /// Why it ended.
        finish: FinishReason,
    },
}

/// A stream of generated text. Dropping it cancels the generation.
pub type TokenStream = Pin<Box<dyn Stream<Item = Result<StreamEvent, LlmError>> + Send>>;

/// A finished generation.
#[derive(Debug, Clone, PartialEq)]
pub struct Completion {
    /// The whole text.
    pub text: String,
    /// Token counts.
    pub usage: Usage,
    /// Why it ended.
    pub finish: FinishReason,
}

/// Every way a generation can fail, whichever client produced it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LlmError {
    /// The provider rate-limited us (HTTP 429), even after retries.
    #[error("the language model provider is rate-limiting requests{}", retry_hint(*retry_after))]
    RateLimited {
        /// How long the provider asked us to wait.
        retry_after: Option<Duration>,
    },
    /// The provider is down or failing (5xx, connection refused, cut-off stream).
    #[error("the language model provider is unavailable: {0}")]
    Unavailable(String),
    /// The circuit breaker is open after repeated failures: failing fast.
    #[error("the language model provider failed repeatedly; not calling it for {}s", .retry_in.as_secs())]
    CircuitOpen {
        /// When the breaker will let a trial request through.
        retry_in: Duration,
    },
    /// No answer in time.
    #[error("the language model did not answer within {:.1}s", .0.as_secs_f64())]
    Timeout(Duration),
    /// The request was rejected as malformed (4xx other than 401/403/429).
    #[error("the language model rejected the request: {0}")]
    BadRequest(String),
    /// The API key is missing or wrong.
    #[error("the language model provider refused the API key (set OPENAI_API_KEY or secrets.toml)")]
    Auth,
    /// The embedded engine's queue is full.
    #[error("the local model is busy; try again in a moment")]
    Busy,
    /// The caller cancelled.
    #[error("generation was cancelled")]
    Cancelled,
    /// The embedded engine failed (model file, context, decode).
    #[error("the local model failed: {0}")]
    Engine(String),
}

impl LlmError {
    /// The error in words for a traveller: what happened, without the provider's reply, an
    /// address or a file path (those are for the log, from `Display`).
    pub fn summary(&self) -> String {
        match self {
            Self::Unavailable(_) => "the language model provider is unavailable".to_owned(),
            Self::BadRequest(_) => "the language model rejected the request".to_owned(),
            Self::Engine(_) => "the local model failed".to_owned(),
            other => other.to_string(),
        }
    }
}

fn retry_hint(after: Option<Duration>) -> String {
    after.map_or_else(String::new, |d| format!("; retry after {}s", d.as_secs()))
}

impl LlmError {
    /// Whether retrying the same request may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            LlmError::RateLimited { .. }
                | LlmError::Unavailable(_)
                | LlmError::Timeout(_)
                | LlmError::Busy
        )
    }

    /// A stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            LlmError::RateLimited { .. } => "llm_rate_limited",
            LlmError::Unavailable(_) => "llm_unavailable",
            LlmError::CircuitOpen { .. } => "llm_circuit_open",
            LlmError::Timeout(_) => "llm_timeout",
            LlmError::BadRequest(_) => "llm_bad_request",
            LlmError::Auth => "llm_auth",
            LlmError::Busy => "llm_busy",
            LlmError::Cancelled => "llm_cancelled",
            LlmError::Engine(_) => "llm_engine",
        }
    }
}

/// A chat model: messages in, streamed text out.
#[async_trait]
pub trait LlmClient: Send + Sync {
    /// The model's name, as reported to users and in `/v1/models`.
    fn model_id(&self) -> &str;

    /// What the engine has done since it started, when the model runs in this process
    /// (`None` for a remote endpoint).
    fn stats(&self) -> Option<engine::EngineStats> {
        None
    }

    /// Starts a generation and streams its text. Dropping the stream cancels it.
    async fn stream(&self, request: ChatRequest) -> Result<TokenStream, LlmError>;

    /// Runs a generation to the end and returns the whole text.
    async fn complete(&self, request: ChatRequest) -> Result<Completion, LlmError> {
        use futures::StreamExt;
        let mut stream = self.stream(request).await?;
        let mut text = String::new();
        while let Some(event) = stream.next().await {
            match event? {
                StreamEvent::Token(t) => text.push_str(&t),
                StreamEvent::Done { usage, finish } => {
                    return Ok(Completion {
                        text,
                        usage,
                        finish,
                    });
                }
            }
        }
        Err(LlmError::Unavailable(
            "the stream ended without a final event".into(),
        ))
    }
}
