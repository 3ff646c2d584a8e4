//! The OpenAI-compatible API (issue 3, item 2): `GET /v1/models`, `GET /v1/models/{model}` and
//! `POST /v1/chat/completions`, non-streaming or as server-sent events, so that OpenAI clients
//! can use the served model.
//!
//! A streamed completion waits for the model's first event before answering, so a failure
//! before any text (a busy engine, a prompt too long) still gets a proper HTTP status; a failure
//! after that is sent as an SSE `error` event carrying the same JSON, and the stream ends without
//! `[DONE]`. When a client disconnects, hyper drops the response body, which owns the
//! [`TokenStream`]: dropping it cancels the generation.

mod error;
mod request;

use std::collections::VecDeque;
use std::convert::Infallible;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures::{Stream, StreamExt};
use serde_json::{Value, json};
use tripwright_llm::{FinishReason, LlmError, StreamEvent, TokenStream, Usage};

pub(crate) use error::{ApiError, log_errors};
use request::{CompletionRequest, OpenAiJson};

use crate::{AppState, unix_now};

/// The `/v1` routes, with OpenAI-shaped answers for unknown paths and methods too; all 503
/// when the state has no language model.
pub(crate) fn routes(state: &AppState) -> Router<AppState> {
    let router = Router::new()
        .route("/models", get(list_models))
        .route("/models/{model}", get(retrieve_model))
        .route("/chat/completions", post(chat_completions))
        .method_not_allowed_fallback(method_not_allowed)
        .fallback(unknown_path);
    match state.llm_unavailable.clone() {
        None => router,
        Some(why) => router.layer(axum::middleware::from_fn(
            move |_: axum::extract::Request, _: axum::middleware::Next| {
                let why = why.clone();
                async move { ApiError::no_model(&why) }
            },
        )),
    }
}

/// The stand-in model of a server without one; `/v1` answers 503 before reaching it.
pub(crate) struct NoModel;

#[async_trait::async_trait]
impl tripwright_llm::LlmClient for NoModel {
    fn model_id(&self) -> &str {
        "none"
    }

    async fn stream(&self, _request: tripwright_llm::ChatRequest) -> Result<TokenStream, LlmError> {
        Err(LlmError::Unavailable(
            "no language model is configured".into(),
        ))
    }
}

fn model_json(state: &AppState) -> Value {
    json!({
        "id": state.llm.model_id(),
        "object": "model",
        "created": state.started_at,
        "owned_by": "tripwright",
    })
}

async fn list_models(State(state): State<AppState>) -> Json<Value> {
    Json(json!({"object": "list", "data": [model_json(&state)]}))
}

async fn retrieve_model(
    State(state): State<AppState>,
    Path(model): Path<String>,
) -> Result<Json<Value>, ApiError> {
    if model == state.llm.model_id() {
        Ok(Json(model_json(&state)))
    } else {
        Err(ApiError::client(
            StatusCode::NOT_FOUND,
            Some("model"),
            "model_not_found",
            format!("the model '{model}' does not exist"),
        ))
    }
}

async fn unknown_path() -> ApiError {
    ApiError::client(
        StatusCode::NOT_FOUND,
        None,
        "unknown_url",
        "no such endpoint; this server offers GET /v1/models and POST /v1/chat/completions",
    )
}

async fn method_not_allowed() -> ApiError {
    ApiError::client(
        StatusCode::METHOD_NOT_ALLOWED,
        None,
        "method_not_allowed",
        "this endpoint does not accept that HTTP method",
    )
}

/// The fields every answer of one completion repeats.
#[derive(Debug, Clone)]
struct Meta {
    id: String,
    created: u64,
    model: String,
}

fn finish_reason(finish: FinishReason) -> Result<&'static str, LlmError> {
    match finish {
        FinishReason::Stop => Ok("stop"),
        FinishReason::Length => Ok("length"),
        // OpenAI has no such reason; only the engine itself cancels (the client's own
        // cancellation closes the connection), so it is a failure here.
        FinishReason::Cancelled => Err(LlmError::Cancelled),
    }
}

fn usage_json(usage: Usage) -> Value {
    json!({
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.prompt_tokens + usage.completion_tokens,
    })
}

async fn chat_completions(
    State(state): State<AppState>,
    OpenAiJson(body): OpenAiJson<CompletionRequest>,
) -> Result<Response, ApiError> {
    let request = body.validate(state.llm.model_id(), &state.limits)?;
    let meta = Meta {
        id: format!("chatcmpl-{}", uuid::Uuid::new_v4().simple()),
        created: unix_now(),
        model: state.llm.model_id().to_owned(),
    };
    if !request.stream {
        let done = state.llm.complete(request.chat).await?;
        let finish = finish_reason(done.finish)?;
        return Ok(Json(json!({
            "id": meta.id,
            "object": "chat.completion",
            "created": meta.created,
            "model": meta.model,
            "choices": [{
                "index": 0,
                "message": {"role": "assistant", "content": done.text},
                "logprobs": null,
                "finish_reason": finish,
            }],
            "usage": usage_json(done.usage),
        }))
        .into_response());
    }
    let mut tokens = state.llm.stream(request.chat).await?;
    let first = match tokens.next().await {
        Some(Ok(event)) => event,
        Some(Err(e)) => return Err(e.into()),
        None => {
            return Err(
                LlmError::Unavailable("the token stream ended before any event".into()).into(),
            );
        }
    };
    Ok(Sse::new(chunks(meta, request.include_usage, tokens, first)).into_response())
}

/// Turns the model's events into OpenAI's chunk sequence: a role chunk, content chunks, a
/// finish chunk, a usage chunk when asked for, then `[DONE]`.
fn chunks(
    meta: Meta,
    include_usage: bool,
    tokens: TokenStream,
    first: StreamEvent,
) -> impl Stream<Item = Result<Event, Infallible>> {
    let mut chunker = Chunker {
        meta,
        include_usage,
        tokens: Some(tokens),
        pending: VecDeque::new(),
    };
    chunker.push(json!({"role": "assistant", "content": ""}), None);
    chunker.translate(Some(Ok(first)));
    futures::stream::unfold(chunker, |mut chunker| async move {
        loop {
            if let Some(event) = chunker.pending.pop_front() {
                return Some((Ok(event), chunker));
            }
            let next = chunker.tokens.as_mut()?.next().await;
            chunker.translate(next);
        }
    })
}

/// The state of one streamed answer: the model's stream until it ends, and the SSE events
/// translated from it but not yet sent.
struct Chunker {
    meta: Meta,
    include_usage: bool,
    tokens: Option<TokenStream>,
    pending: VecDeque<Event>,
}

impl Chunker {
    fn chunk(&self, choices: Value, usage: Option<Usage>) -> Event {
        let mut chunk = json!({
            "id": self.meta.id,
            "object": "chat.completion.chunk",
            "created": self.meta.created,
            "model": self.meta.model,
            "choices": choices,
        });
        // With include_usage, OpenAI sends `"usage": null` on every chunk but the last.
        if self.include_usage {
            chunk["usage"] = usage.map_or(Value::Null, usage_json);
        }
        Event::default().data(chunk.to_string())
    }

    fn push(&mut self, delta: Value, finish: Option<&str>) {
        let choices =
            json!([{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}]);
        let event = self.chunk(choices, None);
        self.pending.push_back(event);
    }

    fn translate(&mut self, event: Option<Result<StreamEvent, LlmError>>) {
        match event {
            Some(Ok(StreamEvent::Token(text))) => {
                if !text.is_empty() {
                    self.push(json!({"content": text}), None);
                }
            }
            Some(Ok(StreamEvent::Done { usage, finish })) => match finish_reason(finish) {
                Ok(reason) => {
                    self.push(json!({}), Some(reason));
                    if self.include_usage {
                        let event = self.chunk(json!([]), Some(usage));
                        self.pending.push_back(event);
                    }
                    self.pending.push_back(Event::default().data("[DONE]"));
                    self.tokens = None;
                }
                Err(e) => self.fail(e),
            },
            Some(Err(e)) => self.fail(e),
            None => self.fail(LlmError::Unavailable(
                "the token stream ended without a final event".into(),
            )),
        }
    }

    /// Ends the stream with an `error` event (the OpenAI SDKs raise on it).
    fn fail(&mut self, error: LlmError) {
        let error = ApiError::from(error);
        error.log();
        self.pending.push_back(
            Event::default()
                .event("error")
                .data(error.body().to_string()),
        );
        self.tokens = None;
    }
}
