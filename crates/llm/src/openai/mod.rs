//! The OpenAI-compatible HTTP client: `POST {base_url}/chat/completions` with `stream: true`,
//! for OpenAI itself, vLLM, llama.cpp's server or `tripwright serve`.
//!
//! A misbehaving provider must not take the planner down (issue 3), so the client:
//! - bounds every wait: connecting, the response headers, the first token, and each later gap;
//! - retries 429, 408, 5xx, connection failures, timeouts and streams cut before any text, with
//!   full-jitter exponential backoff or the provider's `Retry-After`, within a count and a total
//!   time budget. Once text has been delivered it never retries (the caller would see it twice):
//!   a stream broken mid-way ends in [`LlmError::Unavailable`] or [`LlmError::Timeout`];
//! - stops calling a provider that keeps failing (a circuit breaker shared by clones), answering
//!   [`LlmError::CircuitOpen`] at once until a cool-down has passed;
//! - maps everything to [`LlmError`]: 401/403 → `Auth`, other 4xx → `BadRequest` with the
//!   provider's message, 429 → `RateLimited`, the rest → `Unavailable` or `Timeout`.
//!
//! Dropping the returned stream drops the HTTP response, which closes the connection and so
//! cancels the generation on the server.

mod breaker;
mod retry;
mod sse;

use std::error::Error as _;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use async_trait::async_trait;
use reqwest::StatusCode;
use reqwest::header::CONTENT_TYPE;
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;

use crate::{ChatMessage, ChatRequest, LlmClient, LlmError, StreamEvent, TokenStream};
use breaker::Breaker;
use sse::{Generation, ReadError};

/// Where the provider is and how patient to be with it.
///
/// `Debug` prints the key as `[REDACTED]`.
#[derive(Debug, Clone)]
pub struct OpenAiConfig {
    /// The API root, up to and including `/v1`, e.g. `http://127.0.0.1:8080/v1`.
    pub base_url: String,
    /// The model name sent with each request.
    pub model: String,
    /// Sent as `Authorization: Bearer …` when set; local servers usually need none.
    pub api_key: Option<SecretString>,
    /// Longest wait for a TCP (and TLS) connection.
    pub connect_timeout: Duration,
    /// Longest wait, per attempt, for the response headers once connected.
    pub request_timeout: Duration,
    /// Longest wait, per attempt, from the headers to the first piece of text (long prompts are
    /// prefilled in this time).
    pub first_token_timeout: Duration,
    /// Longest gap between two pieces of text once streaming; not retried.
    pub idle_timeout: Duration,
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// Total time a call may spend on attempts and waits before it gives up; a retry (or a
    /// `Retry-After`) that would end past it is not made.
    pub retry_budget: Duration,
    /// The first backoff ceiling; it doubles with each retry.
    pub backoff_base: Duration,
    /// The largest backoff ceiling.
    pub backoff_cap: Duration,
    /// Consecutive failed calls (each after its retries) that open the circuit breaker.
    pub breaker_threshold: u32,
    /// How long an open breaker fails fast before letting one trial call through.
    pub breaker_cooldown: Duration,
}

impl OpenAiConfig {
    /// A configuration for `model` at `base_url` with the default timeouts, retries and breaker:
    /// connect 5 s, headers 30 s, first token 60 s, idle 30 s; 3 retries within 60 s, backoff from
    /// 500 ms up to 8 s; breaker opens after 5 failed calls, for 30 s.
    pub fn new(base_url: impl Into<String>, model: impl Into<String>) -> Self {
        Self {
            base_url: base_url.into(),
            model: model.into(),
            api_key: None,
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(30),
            first_token_timeout: Duration::from_secs(60),
            idle_timeout: Duration::from_secs(30),
            max_retries: 3,
            retry_budget: Duration::from_secs(60),
            backoff_base: Duration::from_millis(500),
            backoff_cap: Duration::from_secs(8),
            breaker_threshold: 5,
            breaker_cooldown: Duration::from_secs(30),
        }
    }
}

/// Why an [`OpenAiClient`] could not be built.
#[derive(Debug, thiserror::Error)]
pub enum OpenAiConfigError {
    /// The base URL is not an http(s) URL.
    #[error(
        "invalid language model base URL {url:?}: {reason} (expected e.g. http://127.0.0.1:8080/v1)"
    )]
    BaseUrl {
        /// The URL as configured.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The HTTP client could not be set up (TLS roots, system configuration).
    #[error("cannot set up the HTTP client: {0}")]
    Http(#[from] reqwest::Error),
}

/// A client for an OpenAI-compatible chat-completions endpoint. Cheap to clone; clones share the
/// connection pool and the circuit breaker.
#[derive(Debug, Clone)]
pub struct OpenAiClient {
    http: reqwest::Client,
    endpoint: reqwest::Url,
    config: Arc<OpenAiConfig>,
    breaker: Breaker,
}

/// One failed attempt and whether another may succeed.
struct Failure {
    error: LlmError,
    retry: bool,
    retry_after: Option<Duration>,
    status: Option<StatusCode>,
}

impl Failure {
    fn transient(error: LlmError) -> Self {
        Self {
            error,
            retry: true,
            retry_after: None,
            status: None,
        }
    }

    fn fatal(error: LlmError) -> Self {
        Self {
            error,
            retry: false,
            retry_after: None,
            status: None,
        }
    }
}

/// The request body; `repeat_penalty` has no OpenAI equivalent and is not sent.
#[derive(Serialize)]
struct WireRequest<'a> {
    model: &'a str,
    messages: &'a [ChatMessage],
    max_tokens: u32,
    temperature: f32,
    top_p: f32,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    stop: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    seed: Option<u64>,
    stream: bool,
    stream_options: StreamOptions,
}

#[derive(Serialize)]
struct StreamOptions {
    include_usage: bool,
}

impl OpenAiClient {
    /// A client for the configured endpoint. Nothing is sent until the first request.
    pub fn new(config: OpenAiConfig) -> Result<Self, OpenAiConfigError> {
        let bad = |reason: String| OpenAiConfigError::BaseUrl {
            url: config.base_url.clone(),
            reason,
        };
        let endpoint = format!("{}/chat/completions", config.base_url.trim_end_matches('/'));
        let endpoint = reqwest::Url::parse(&endpoint).map_err(|e| bad(e.to_string()))?;
        if !matches!(endpoint.scheme(), "http" | "https") {
            return Err(bad(format!(
                "the scheme must be http or https, not {}",
                endpoint.scheme()
            )));
        }
        let http = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .user_agent(concat!("tripwright/", env!("CARGO_PKG_VERSION")))
            .build()?;
        let breaker = Breaker::new(config.breaker_threshold, config.breaker_cooldown);
        Ok(Self {
            http,
            endpoint,
            config: Arc::new(config),
            breaker,
        })
    }

    /// Attempts the request until one delivers its first event, an error is final, or the
    /// retries or the budget run out.
    async fn open(&self, body: &[u8]) -> Result<(Generation, StreamEvent), LlmError> {
        let started = Instant::now();
        let mut attempts = 0u32;
        loop {
            attempts += 1;
            let failure = match self.attempt(body).await {
                Ok(opened) => return Ok(opened),
                Err(failure) if !failure.retry => return Err(failure.error),
                Err(failure) => failure,
            };
            let config = &self.config;
            let delay = failure.retry_after.unwrap_or_else(|| {
                retry::backoff(attempts - 1, config.backoff_base, config.backoff_cap)
            });
            if attempts > config.max_retries || started.elapsed() + delay > config.retry_budget {
                tracing::warn!(attempts, error = %failure.error, "language model request failed; giving up");
                return Err(match failure.error {
                    LlmError::Unavailable(why) if attempts > 1 => {
                        LlmError::Unavailable(format!("{why} (gave up after {attempts} attempts)"))
                    }
                    error => error,
                });
            }
            metrics::counter!("tripwright_llm_retries_total").increment(1);
            tracing::warn!(
                attempt = attempts,
                status = failure.status.map(|s| s.as_u16()),
                delay_ms = delay.as_millis() as u64,
                error = %failure.error,
                "language model request failed; retrying"
            );
            tokio::time::sleep(delay).await;
        }
    }

    /// One request, up to its first event.
    async fn attempt(&self, body: &[u8]) -> Result<(Generation, StreamEvent), Failure> {
        let mut request = self
            .http
            .post(self.endpoint.clone())
            .header(CONTENT_TYPE, "application/json");
        if let Some(key) = &self.config.api_key {
            request = request.bearer_auth(key.expose_secret());
        }
        let wait = self.config.request_timeout;
        let response = match tokio::time::timeout(wait, request.body(body.to_vec()).send()).await {
            Err(_) => return Err(Failure::transient(LlmError::Timeout(wait))),
            Ok(Err(e)) if e.is_timeout() => {
                return Err(Failure::transient(LlmError::Timeout(
                    self.config.connect_timeout,
                )));
            }
            Ok(Err(e)) => {
                let why = format!("cannot reach {}: {}", self.endpoint, describe(e));
                return Err(Failure::transient(LlmError::Unavailable(why)));
            }
            Ok(Ok(response)) => response,
        };
        if !response.status().is_success() {
            return Err(self.refusal(response).await);
        }
        let mut generation = Generation::new(response);
        let wait = self.config.first_token_timeout;
        match tokio::time::timeout(wait, generation.next()).await {
            Ok(Ok(first)) => Ok((generation, first)),
            Ok(Err(ReadError::Cut(why))) => Err(Failure::transient(LlmError::Unavailable(why))),
            Ok(Err(ReadError::Invalid(why))) => Err(Failure::fatal(LlmError::Unavailable(why))),
            Err(_) => Err(Failure::transient(LlmError::Timeout(wait))),
        }
    }

    /// Classifies a non-2xx answer.
    async fn refusal(&self, response: reqwest::Response) -> Failure {
        let status = response.status();
        let retry_after = retry::retry_after(response.headers(), SystemTime::now());
        let message = provider_message(response, self.config.request_timeout).await;
        let (error, retry) = match status.as_u16() {
            401 | 403 => (LlmError::Auth, false),
            429 => (LlmError::RateLimited { retry_after }, true),
            408 | 500..=599 => (
                LlmError::Unavailable(format!("HTTP {status}: {message}")),
                true,
            ),
            400..=499 => (
                LlmError::BadRequest(format!("{message} (HTTP {status})")),
                false,
            ),
            _ => (
                LlmError::Unavailable(format!("unexpected HTTP {status}: {message}")),
                false,
            ),
        };
        Failure {
            error,
            retry,
            retry_after,
            status: Some(status),
        }
    }
}

#[async_trait]
impl LlmClient for OpenAiClient {
    fn model_id(&self) -> &str {
        &self.config.model
    }

    async fn stream(&self, request: ChatRequest) -> Result<TokenStream, LlmError> {
        let permit = self.breaker.acquire()?;
        let body = serde_json::to_vec(&WireRequest {
            model: &self.config.model,
            messages: &request.messages,
            max_tokens: request.max_tokens,
            temperature: request.temperature,
            top_p: request.top_p,
            stop: &request.stop,
            seed: request.seed,
            stream: true,
            stream_options: StreamOptions {
                include_usage: true,
            },
        })
        .map_err(|e| LlmError::BadRequest(format!("cannot encode the request: {e}")))?;
        match self.open(&body).await {
            Ok((generation, first)) => {
                permit.success();
                Ok(events(
                    generation,
                    first,
                    self.config.idle_timeout,
                    self.breaker.clone(),
                ))
            }
            Err(error) => {
                // A refusal (bad request, bad key) shows the provider is up; only outages count.
                if error.is_retryable() {
                    permit.failure()
                } else {
                    permit.success()
                }
                Err(error)
            }
        }
    }
}

/// The rest of a generation as a [`TokenStream`], starting with its already-read first event.
/// A failure mid-stream counts towards the breaker; the stream ends after `Done` or an error.
fn events(
    generation: Generation,
    first: StreamEvent,
    idle: Duration,
    breaker: Breaker,
) -> TokenStream {
    let state = (generation, Some(first), breaker, false);
    Box::pin(futures::stream::unfold(
        state,
        move |(mut generation, first, breaker, ended)| async move {
            if ended {
                return None;
            }
            let event = match first {
                Some(event) => Ok(event),
                None => match tokio::time::timeout(idle, generation.next()).await {
                    Ok(Ok(event)) => Ok(event),
                    Ok(Err(ReadError::Cut(why) | ReadError::Invalid(why))) => {
                        Err(LlmError::Unavailable(why))
                    }
                    Err(_) => Err(LlmError::Timeout(idle)),
                },
            };
            if event.is_err() {
                breaker.record_failure();
            }
            let ended = !matches!(event, Ok(StreamEvent::Token(_)));
            Some((event, (generation, None, breaker, ended)))
        },
    ))
}

/// The provider's `error.message`, else the start of the body.
async fn provider_message(mut response: reqwest::Response, wait: Duration) -> String {
    const LIMIT: usize = 16 * 1024;
    let mut body = Vec::new();
    let read = async {
        while let Ok(Some(bytes)) = response.chunk().await {
            body.extend_from_slice(&bytes);
            if body.len() >= LIMIT {
                break;
            }
        }
    };
    // A provider that stalls its error body still gets classified by its status.
    let _ = tokio::time::timeout(wait, read).await;
    #[derive(serde::Deserialize)]
    struct Body {
        error: sse::ProviderError,
    }
    if let Ok(parsed) = serde_json::from_slice::<Body>(&body) {
        return parsed.error.message;
    }
    let text: String = String::from_utf8_lossy(&body)
        .trim()
        .chars()
        .take(200)
        .collect();
    if text.is_empty() {
        "no details given".into()
    } else {
        text
    }
}

/// A reqwest error with its causes ("error sending request: connection refused"), without the URL.
fn describe(error: reqwest::Error) -> String {
    let error = error.without_url();
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
