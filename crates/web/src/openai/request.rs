//! The `POST /v1/chat/completions` body as OpenAI clients send it, read by [`OpenAiJson`] and
//! checked by [`CompletionRequest::validate`] into the engine-neutral [`ChatRequest`].
//!
//! Every rejection names the parameter at fault in OpenAI's `param` (`messages[2].role`), so a
//! client developer sees what to fix. Fields this server does not use (`user`, `metadata`,
//! `logprobs`…) are accepted and ignored, as OpenAI-compatible servers commonly do; those whose
//! silent omission would change the answer's meaning (`n`, `tools`) are refused.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderMap, StatusCode, header};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use tripwright_llm::{ChatMessage, ChatRequest, Role};

use super::error::ApiError;
use crate::ApiLimits;

/// OpenAI accepts at most four stop sequences.
const MAX_STOP: usize = 4;

/// A JSON request body whose every failure — wrong content type, too large, malformed, a field
/// of the wrong type — is answered in OpenAI's error shape rather than axum's plain text.
pub(crate) struct OpenAiJson<T>(pub(crate) T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for OpenAiJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        if !is_json(request.headers()) {
            return Err(ApiError::invalid(
                None,
                "invalid_content_type",
                "the request body must be JSON sent with 'Content-Type: application/json'",
            ));
        }
        let body = Bytes::from_request(request, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::client(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    None,
                    "request_too_large",
                    "the request body is larger than this server accepts; shorten the conversation",
                )
            } else {
                ApiError::invalid(None, "invalid_body", "the request body could not be read")
            }
        })?;
        // Two steps: an object first (serde would also read a struct from an array), then the
        // fields, whose errors name their path for `param`.
        let object: Map<String, Value> = serde_json::from_slice(&body).map_err(|e| {
            if e.is_data() {
                ApiError::invalid(
                    None,
                    "invalid_type",
                    "the request body must be a JSON object",
                )
            } else {
                ApiError::invalid(
                    None,
                    "invalid_json",
                    format!("the request body is not valid JSON: {e}"),
                )
            }
        })?;
        let value = serde_path_to_error::deserialize(Value::Object(object)).map_err(|e| {
            let param = e.path().to_string();
            ApiError::invalid(
                Some(&param),
                "invalid_value",
                format!("invalid '{param}': {}", e.inner()),
            )
        })?;
        Ok(Self(value))
    }
}

/// `application/json`, with or without parameters such as `charset`.
fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/json"))
}

/// The fields of an OpenAI chat completion request that this server reads.
#[derive(Debug, Deserialize)]
pub(crate) struct CompletionRequest {
    model: Option<String>,
    messages: Option<Vec<WireMessage>>,
    max_tokens: Option<u32>,
    max_completion_tokens: Option<u32>,
    temperature: Option<f32>,
    top_p: Option<f32>,
    /// A string or an array of strings; checked by hand for a clearer message than serde's.
    stop: Option<Value>,
    stream: Option<bool>,
    stream_options: Option<StreamOptions>,
    seed: Option<i64>,
    /// Checked for range, then ignored: llama.cpp's multiplicative repetition penalty is a
    /// different knob, offered as `repeat_penalty` (an extension llama.cpp's server also has).
    frequency_penalty: Option<f32>,
    /// As `frequency_penalty`.
    presence_penalty: Option<f32>,
    repeat_penalty: Option<f32>,
    n: Option<u32>,
    tools: Option<Vec<Value>>,
}

/// One message; role and content are checked by hand to name the message at fault.
#[derive(Debug, Deserialize)]
struct WireMessage {
    role: String,
    #[serde(default)]
    content: Value,
}

#[derive(Debug, Deserialize)]
struct StreamOptions {
    #[serde(default)]
    include_usage: bool,
}

/// A checked request.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ValidRequest {
    /// What to generate.
    pub(crate) chat: ChatRequest,
    /// Answer with server-sent events.
    pub(crate) stream: bool,
    /// Send a usage chunk before `[DONE]`.
    pub(crate) include_usage: bool,
}

impl CompletionRequest {
    /// Checks the request against the served model and the limits.
    pub(crate) fn validate(
        self,
        model_id: &str,
        limits: &ApiLimits,
    ) -> Result<ValidRequest, ApiError> {
        let model = self.model.ok_or_else(|| missing("model"))?;
        if model != model_id {
            return Err(ApiError::client(
                StatusCode::NOT_FOUND,
                Some("model"),
                "model_not_found",
                format!(
                    "the model '{model}' does not exist; this server serves '{model_id}' (see GET /v1/models)"
                ),
            ));
        }
        let messages = self.messages.ok_or_else(|| missing("messages"))?;
        if messages.is_empty() {
            return Err(ApiError::invalid(
                Some("messages"),
                "invalid_value",
                "messages must hold at least one message",
            ));
        }
        let messages = messages
            .into_iter()
            .enumerate()
            .map(|(i, m)| m.into_chat(i))
            .collect::<Result<Vec<_>, _>>()?;

        let (max_param, max_tokens) = match (self.max_completion_tokens, self.max_tokens) {
            (Some(n), _) => ("max_completion_tokens", n),
            (None, Some(n)) => ("max_tokens", n),
            (None, None) => ("max_tokens", limits.default_max_tokens),
        };
        if max_tokens == 0 || max_tokens > limits.max_tokens {
            return Err(ApiError::invalid(
                Some(max_param),
                "invalid_value",
                format!(
                    "{max_param} must be between 1 and {}, not {max_tokens}",
                    limits.max_tokens
                ),
            ));
        }
        let temperature = self.temperature.unwrap_or(1.0);
        check_range("temperature", temperature, 0.0, 2.0)?;
        let top_p = self.top_p.unwrap_or(1.0);
        check_range("top_p", top_p, 0.0, 1.0)?;
        if top_p == 0.0 {
            return Err(ApiError::invalid(
                Some("top_p"),
                "invalid_value",
                "top_p must be greater than 0; use temperature 0 for the most likely tokens",
            ));
        }
        for (param, value) in [
            ("frequency_penalty", self.frequency_penalty),
            ("presence_penalty", self.presence_penalty),
        ] {
            check_range(param, value.unwrap_or(0.0), -2.0, 2.0)?;
        }
        let repeat_penalty = self.repeat_penalty.unwrap_or(1.0);
        check_range("repeat_penalty", repeat_penalty, f32::MIN_POSITIVE, 10.0)?;
        if self.n.is_some_and(|n| n != 1) {
            return Err(ApiError::invalid(
                Some("n"),
                "unsupported_value",
                "n must be 1: this server generates one choice per request",
            ));
        }
        if self.tools.is_some_and(|t| !t.is_empty()) {
            return Err(ApiError::invalid(
                Some("tools"),
                "unsupported_parameter",
                "tools (function calling) are not supported by this server's model",
            ));
        }
        let stream = self.stream.unwrap_or(false);
        if self.stream_options.is_some() && !stream {
            return Err(ApiError::invalid(
                Some("stream_options"),
                "invalid_value",
                "stream_options is only allowed when stream is true",
            ));
        }
        Ok(ValidRequest {
            chat: ChatRequest {
                messages,
                max_tokens,
                temperature,
                top_p,
                repeat_penalty,
                stop: stop_sequences(self.stop)?,
                // The seed only picks a random stream: a negative one is as good as its bits.
                seed: self.seed.map(|s| s as u64),
                forbidden_chars: Vec::new(),
            },
            stream,
            include_usage: self.stream_options.is_some_and(|o| o.include_usage),
        })
    }
}

fn missing(param: &str) -> ApiError {
    ApiError::invalid(
        Some(param),
        "missing_required_parameter",
        format!("missing required parameter: '{param}'"),
    )
}

fn check_range(param: &str, value: f32, min: f32, max: f32) -> Result<(), ApiError> {
    if (min..=max).contains(&value) {
        Ok(())
    } else {
        Err(ApiError::invalid(
            Some(param),
            "invalid_value",
            format!("{param} must be between {min} and {max}, not {value}"),
        ))
    }
}

fn stop_sequences(stop: Option<Value>) -> Result<Vec<String>, ApiError> {
    let invalid = || {
        ApiError::invalid(
            Some("stop"),
            "invalid_type",
            format!("stop must be a string or an array of at most {MAX_STOP} strings"),
        )
    };
    match stop {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(s)) => Ok(vec![s]),
        Some(Value::Array(items)) if items.len() <= MAX_STOP => items
            .into_iter()
            .map(|item| match item {
                Value::String(s) => Ok(s),
                _ => Err(invalid()),
            })
            .collect(),
        Some(_) => Err(invalid()),
    }
}

impl WireMessage {
    fn into_chat(self, index: usize) -> Result<ChatMessage, ApiError> {
        let role = match self.role.as_str() {
            // "developer" is OpenAI's newer name for the system role.
            "system" | "developer" => Role::System,
            "user" => Role::User,
            "assistant" => Role::Assistant,
            other => {
                let param = format!("messages[{index}].role");
                return Err(ApiError::invalid(
                    Some(&param),
                    "invalid_value",
                    format!(
                        "invalid value '{other}' for {param}: this server supports 'system', 'developer', 'user' and 'assistant'"
                    ),
                ));
            }
        };
        let content = text_content(self.content).ok_or_else(|| {
            let param = format!("messages[{index}].content");
            ApiError::invalid(
                Some(&param),
                "invalid_type",
                format!("{param} must be a string or an array of text parts"),
            )
        })?;
        Ok(ChatMessage { role, content })
    }
}

/// A string, or OpenAI's array of content parts when every part is text (joined by newlines).
fn text_content(content: Value) -> Option<String> {
    match content {
        Value::String(text) => Some(text),
        Value::Array(parts) => parts
            .iter()
            .map(|part| match (part.get("type"), part.get("text")) {
                (Some(Value::String(kind)), Some(Value::String(text))) if kind == "text" => {
                    Some(text.as_str())
                }
                _ => None,
            })
            .collect::<Option<Vec<_>>>()
            .map(|texts| texts.join("\n")),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::response::IntoResponse;
    use serde_json::json;

    fn validate(body: Value) -> Result<ValidRequest, ApiError> {
        let request: CompletionRequest = serde_json::from_value(body)
            .map_err(|e| ApiError::invalid(None, "test", e.to_string()))?;
        request.validate("smol", &ApiLimits::default())
    }

    #[test]
    fn a_full_request_maps_onto_the_chat_request() {
        let valid = validate(json!({
            "model": "smol",
            "messages": [
                {"role": "developer", "content": "Be brief."},
                {"role": "user", "content": [{"type": "text", "text": "Hi"}, {"type": "text", "text": "there"}]},
            ],
            "max_completion_tokens": 7,
            "max_tokens": 99,
            "temperature": 0.0,
            "top_p": 0.5,
            "stop": "\n",
            "seed": -1,
            "stream": true,
            "stream_options": {"include_usage": true},
            "n": 1,
            "user": "ignored",
        }))
        .expect("valid");
        assert_eq!(
            valid.chat,
            ChatRequest {
                messages: vec![
                    ChatMessage::system("Be brief."),
                    ChatMessage::user("Hi\nthere")
                ],
                max_tokens: 7,
                temperature: 0.0,
                top_p: 0.5,
                repeat_penalty: 1.0,
                stop: vec!["\n".into()],
                seed: Some(u64::MAX),
                forbidden_chars: Vec::new(),
            }
        );
        assert!(valid.stream && valid.include_usage);
    }

    #[test]
    fn defaults_follow_openai_and_the_limits() {
        let valid =
            validate(json!({"model": "smol", "messages": [{"role": "user", "content": "Hi"}]}))
                .expect("valid");
        assert_eq!(
            valid.chat.max_tokens,
            ApiLimits::default().default_max_tokens
        );
        assert_eq!((valid.chat.temperature, valid.chat.top_p), (1.0, 1.0));
        assert!(valid.chat.stop.is_empty());
        assert!(!valid.stream && !valid.include_usage);
    }

    #[test]
    fn each_bad_field_is_named_in_param() {
        let base = json!({"model": "smol", "messages": [{"role": "user", "content": "Hi"}]});
        let with = |key: &str, value: Value| {
            let mut body = base.clone();
            body[key] = value;
            body
        };
        let cases = [
            (with("model", json!("gpt-4o")), 404, "model"),
            (with("messages", json!([])), 400, "messages"),
            (
                with(
                    "messages",
                    json!([{"role": "user", "content": [{"type": "image_url"}]}]),
                ),
                400,
                "messages[0].content",
            ),
            (with("top_p", json!(0.0)), 400, "top_p"),
            (
                with("presence_penalty", json!(3.0)),
                400,
                "presence_penalty",
            ),
            (with("stop", json!(["a", "b", "c", "d", "e"])), 400, "stop"),
            (with("stop", json!(["a", 1])), 400, "stop"),
            (with("tools", json!([{"type": "function"}])), 400, "tools"),
            (
                with("stream_options", json!({"include_usage": true})),
                400,
                "stream_options",
            ),
            (
                with("max_completion_tokens", json!(100_000)),
                400,
                "max_completion_tokens",
            ),
        ];
        for (body, status, param) in cases {
            let error = validate(body.clone()).expect_err("invalid");
            assert_eq!(
                error.clone().into_response().status().as_u16(),
                status,
                "{body}"
            );
            assert_eq!(error.body()["error"]["param"], param, "{body}");
        }
    }
}
