//! Errors in OpenAI's JSON shape, `{"error":{"message","type","param","code"}}`, so OpenAI
//! clients raise their usual exceptions (the Python SDK picks its exception class by status).
//!
//! [`LlmError`]s map to statuses a client can act on — retry later (429, 503 with
//! `Retry-After`, 504), fix the request (400) or give up (500, 502) — and never carry internals
//! such as file paths or an upstream provider's reply: those go to the log only, written by
//! [`log_errors`] inside the request's trace span.

use std::time::Duration;

use axum::BoxError;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tripwright_llm::LlmError;

/// OpenAI's `type` for errors the client can fix.
const INVALID_REQUEST: &str = "invalid_request_error";
/// OpenAI's `type` for errors on our side.
const SERVER_ERROR: &str = "server_error";

/// An error answer. Built by validation, the body extractor and from [`LlmError`]; boxed,
/// because it travels in every handler's `Result`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ApiError(Box<Details>);

#[derive(Debug, Clone, PartialEq)]
struct Details {
    status: StatusCode,
    kind: &'static str,
    message: String,
    param: Option<String>,
    code: &'static str,
    retry_after: Option<Duration>,
    /// What went wrong inside, for the log only.
    internal: Option<String>,
}

/// The part of an [`ApiError`] the logging middleware reads from the response's extensions.
#[derive(Debug, Clone)]
struct ErrorLog {
    code: &'static str,
    internal: Option<String>,
}

impl ApiError {
    /// A request the client must fix (400), naming the offending parameter where there is one.
    pub(crate) fn invalid(
        param: Option<&str>,
        code: &'static str,
        message: impl Into<String>,
    ) -> Self {
        Self::client(StatusCode::BAD_REQUEST, param, code, message)
    }

    /// A client error with another status (404, 405, 413).
    pub(crate) fn client(
        status: StatusCode,
        param: Option<&str>,
        code: &'static str,
        message: impl Into<String>,
    ) -> Self {
        Self(Box::new(Details {
            status,
            kind: INVALID_REQUEST,
            message: message.into(),
            param: param.map(str::to_owned),
            code,
            retry_after: None,
            internal: None,
        }))
    }

    fn server(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self(Box::new(Details {
            status,
            kind: SERVER_ERROR,
            message: message.into(),
            param: None,
            code,
            retry_after: None,
            internal: None,
        }))
    }

    /// A client over its rate (429 with `Retry-After`).
    pub(crate) fn rate_limited(secs: u64) -> Self {
        Self::client(
            StatusCode::TOO_MANY_REQUESTS,
            None,
            "rate_limit_exceeded",
            format!("too many requests from your address; try again in {secs} s"),
        )
        .kind("requests")
        .retry_after(Some(Duration::from_secs(secs.max(1))))
    }

    /// The answer of `/v1` on a server without a language model.
    pub(crate) fn no_model(why: &str) -> Self {
        Self::server(
            StatusCode::SERVICE_UNAVAILABLE,
            "model_unavailable",
            format!("this server has no language model: {why}"),
        )
    }

    fn kind(mut self, kind: &'static str) -> Self {
        self.0.kind = kind;
        self
    }

    fn retry_after(mut self, after: Option<Duration>) -> Self {
        self.0.retry_after = after;
        self
    }

    fn internal(mut self, detail: impl Into<String>) -> Self {
        self.0.internal = Some(detail.into());
        self
    }

    /// The answer to a failure of the middleware stack: in practice the request timeout.
    pub(crate) fn from_layer(error: &BoxError, timeout: Duration) -> Self {
        if error.is::<tower::timeout::error::Elapsed>() {
            Self::server(
                StatusCode::GATEWAY_TIMEOUT,
                "timeout",
                format!(
                    "the request did not finish within {} s; lower max_tokens or use stream: true",
                    timeout.as_secs()
                ),
            )
        } else {
            Self::server(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal_error",
                "the server failed",
            )
            .internal(error.to_string())
        }
    }

    /// The JSON body, also sent as the data of an SSE `error` event when a stream fails.
    pub(crate) fn body(&self) -> Value {
        json!({
            "error": {
                "message": self.0.message,
                "type": self.0.kind,
                "param": self.0.param,
                "code": self.0.code,
            }
        })
    }

    /// Writes the error to the log; for streams, whose errors never pass [`log_errors`].
    pub(crate) fn log(&self) {
        log(self.0.status, self.0.code, self.0.internal.as_deref());
    }
}

fn log(status: StatusCode, code: &str, internal: Option<&str>) {
    if status.is_server_error() {
        tracing::error!(status = status.as_u16(), code, internal, "request failed");
    } else {
        tracing::info!(status = status.as_u16(), code, "request rejected");
    }
}

impl From<LlmError> for ApiError {
    fn from(error: LlmError) -> Self {
        let code = error.code();
        // Messages of the variants that describe the request or the load are safe to show;
        // the others are replaced by a generic message and logged.
        let shown = error.to_string();
        match error {
            LlmError::BadRequest(_) => Self::invalid(None, code, shown),
            LlmError::RateLimited { retry_after } => {
                Self::server(StatusCode::TOO_MANY_REQUESTS, code, shown)
                    .kind("rate_limit_error")
                    .retry_after(retry_after)
            }
            // The engine's queue drains within a few tokens' time: one second is a fair wait.
            LlmError::Busy => Self::server(StatusCode::SERVICE_UNAVAILABLE, code, shown)
                .retry_after(Some(Duration::from_secs(1))),
            LlmError::CircuitOpen { retry_in } => {
                Self::server(StatusCode::SERVICE_UNAVAILABLE, code, shown)
                    .retry_after(Some(retry_in))
            }
            LlmError::Timeout(_) => Self::server(StatusCode::GATEWAY_TIMEOUT, code, shown),
            LlmError::Unavailable(_) | LlmError::Auth => Self::server(
                StatusCode::BAD_GATEWAY,
                code,
                "the language model provider behind this server failed; try again later",
            )
            .internal(shown),
            LlmError::Cancelled | LlmError::Engine(_) => Self::server(
                StatusCode::INTERNAL_SERVER_ERROR,
                code,
                "the language model failed to generate; try again, or see the server log",
            )
            .internal(shown),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.0.status, axum::Json(self.body())).into_response();
        if let Some(after) = self.0.retry_after {
            // Whole seconds, rounded up so a client never comes back too early.
            let secs = after.as_secs() + u64::from(after.subsec_nanos() > 0);
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
        }
        response.extensions_mut().insert(ErrorLog {
            code: self.0.code,
            internal: self.0.internal,
        });
        response
    }
}

/// Logs every error answer with its internal detail, inside the request's trace span.
pub(crate) async fn log_errors(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    if let Some(error) = response.extensions().get::<ErrorLog>() {
        log(response.status(), error.code, error.internal.as_deref());
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn retry_after(response: &Response) -> Option<&str> {
        response
            .headers()
            .get(header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
    }

    #[test]
    fn every_llm_error_maps_to_a_status_a_client_can_act_on() {
        let secret = "/srv/models/secret.gguf: upstream said 'key sk-123 invalid'";
        let cases = [
            (
                LlmError::BadRequest("the prompt has 900 tokens".into()),
                400,
                INVALID_REQUEST,
                None,
            ),
            (
                LlmError::RateLimited {
                    retry_after: Some(Duration::from_millis(2500)),
                },
                429,
                "rate_limit_error",
                Some("3"),
            ),
            (
                LlmError::RateLimited { retry_after: None },
                429,
                "rate_limit_error",
                None,
            ),
            (LlmError::Busy, 503, SERVER_ERROR, Some("1")),
            (
                LlmError::CircuitOpen {
                    retry_in: Duration::from_secs(30),
                },
                503,
                SERVER_ERROR,
                Some("30"),
            ),
            (
                LlmError::Timeout(Duration::from_secs(60)),
                504,
                SERVER_ERROR,
                None,
            ),
            (
                LlmError::Unavailable(secret.into()),
                502,
                SERVER_ERROR,
                None,
            ),
            (LlmError::Auth, 502, SERVER_ERROR, None),
            (LlmError::Cancelled, 500, SERVER_ERROR, None),
            (LlmError::Engine(secret.into()), 500, SERVER_ERROR, None),
        ];
        for (error, status, kind, retry) in cases {
            let code = error.code();
            let api = ApiError::from(error.clone());
            let body = api.body();
            let response = api.into_response();
            assert_eq!(response.status().as_u16(), status, "{error:?}");
            assert_eq!(retry_after(&response), retry, "{error:?}");
            assert_eq!(body["error"]["type"], kind, "{error:?}");
            assert_eq!(body["error"]["code"], code, "{error:?}");
            assert_eq!(body["error"]["param"], Value::Null, "{error:?}");
            let message = body["error"]["message"].as_str().unwrap_or_default();
            assert!(!message.is_empty(), "{error:?}");
            assert!(
                !message.contains("secret")
                    && !message.contains("sk-123")
                    && !message.contains("OPENAI_API_KEY"),
                "{error:?} leaks internals: {message}"
            );
        }
    }

    #[test]
    fn the_body_has_exactly_openais_four_fields() {
        let body = ApiError::invalid(Some("messages[0].role"), "invalid_value", "bad role").body();
        assert_eq!(
            body,
            json!({"error": {
                "message": "bad role",
                "type": "invalid_request_error",
                "param": "messages[0].role",
                "code": "invalid_value",
            }})
        );
    }

    #[test]
    fn a_timeout_of_the_layer_is_a_504() {
        let elapsed: BoxError = Box::new(tower::timeout::error::Elapsed::new());
        let api = ApiError::from_layer(&elapsed, Duration::from_secs(120));
        assert_eq!(
            api.clone().into_response().status(),
            StatusCode::GATEWAY_TIMEOUT
        );
        assert_eq!(api.body()["error"]["code"], "timeout");
        let other: BoxError = "connection reset by peer at 10.0.0.7".into();
        let api = ApiError::from_layer(&other, Duration::from_secs(120));
        assert_eq!(
            api.clone().into_response().status(),
            StatusCode::INTERNAL_SERVER_ERROR
        );
        assert!(!api.body().to_string().contains("10.0.0.7"));
    }
}
