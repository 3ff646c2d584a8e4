//! The web app's JSON errors, `{"error":{"code","message","hint"}}`: a stable code a client can
//! branch on, a message for the user and, where there is one, a hint saying what to do.
//! Server-side failures show a generic message; their detail goes to the log only.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use tripwright_agents::AgentError;
use tripwright_store::StoreError;

/// An error answer of the web app's JSON API.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct WebError {
    pub(crate) status: StatusCode,
    pub(crate) code: &'static str,
    pub(crate) message: String,
    pub(crate) hint: Option<String>,
    /// What went wrong inside, for the log only.
    internal: Option<String>,
}

/// The JSON body of an error.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct ErrorBody {
    /// The error.
    pub(crate) error: ErrorDetail,
}

/// What went wrong.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct ErrorDetail {
    /// Stable machine-readable code, e.g. `unknown_destination`, `csrf`, `not_found`.
    pub(crate) code: String,
    /// What is wrong, for the user.
    pub(crate) message: String,
    /// What to do about it, when there is advice.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) hint: Option<String>,
}

impl WebError {
    /// An error with its status, code and message.
    pub(crate) fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            hint: None,
            internal: None,
        }
    }

    /// Adds a hint.
    pub(crate) fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// A request the client must fix.
    pub(crate) fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// Nothing here, or not the caller's.
    pub(crate) fn not_found(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("{what} not found"),
        )
        .hint("check the link, or open it in the browser that made the plan")
    }

    /// A state-changing request from a cookie holder without the right CSRF token.
    pub(crate) fn csrf() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "csrf",
            "the form's security token is missing or out of date; reload the page and try again",
        )
    }

    /// Too many plans being made at once.
    pub(crate) fn busy() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "busy",
            "the planner is busy, try again in a moment",
        )
    }

    /// A body over the size limit.
    pub(crate) fn too_large() -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            "the request body is too large",
        )
    }

    /// A request that does not fit the resource's state.
    pub(crate) fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, message)
    }

    /// A bug or a failing dependency: a generic message, the detail logged.
    pub(crate) fn internal(detail: impl Into<String>) -> Self {
        let mut e = Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "the server failed; try again, or see the server log",
        );
        e.internal = Some(detail.into());
        e
    }

    /// The JSON body.
    pub(crate) fn body(&self) -> ErrorBody {
        ErrorBody {
            error: ErrorDetail {
                code: self.code.to_owned(),
                message: self.message.clone(),
                hint: self.hint.clone(),
            },
        }
    }

    fn log(&self) {
        if self.status.is_server_error() {
            tracing::error!(
                status = self.status.as_u16(),
                code = self.code,
                internal = self.internal.as_deref(),
                "request failed"
            );
        } else {
            tracing::info!(
                status = self.status.as_u16(),
                code = self.code,
                "request rejected"
            );
        }
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        self.log();
        (self.status, axum::Json(self.body())).into_response()
    }
}

impl From<AgentError> for WebError {
    fn from(e: AgentError) -> Self {
        match e {
            AgentError::Invalid(v) => {
                WebError::bad_request(v.code, v.message.clone()).hint(v.hint.clone())
            }
            AgentError::UnknownDestination(g) => {
                WebError::bad_request("unknown_destination", g.to_string())
                    .hint("pick one of the suggestions, or add the country: \"Rome, Italy\"")
            }
            other => WebError::internal(other.to_string()),
        }
    }
}

impl From<StoreError> for WebError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(what) => WebError::not_found(&what),
            StoreError::Conflict(m) => WebError::conflict("conflict", m),
            other => WebError::internal(other.to_string()),
        }
    }
}
