//! The web app's JSON errors, `{"error":{"code","message","hint"}}`: a stable code a client can
//! branch on ([`ErrorCode`], listed in the OpenAPI document), a message for the user and, where
//! there is one, a hint saying what to do. Server-side failures show a generic message; their
//! detail goes to the log only.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use tripwright_app::{AppError, Invalid, Missing};
use tripwright_domain::InvalidRequest;

/// Every error code the web app answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum ErrorCode {
    /// A trip request field broke its rule (the domain's own code).
    Request(InvalidRequest),
    /// A JSON body that does not parse or has unknown fields.
    InvalidJson,
    /// A form body that does not parse.
    InvalidForm,
    /// A request whose path, query or body framing cannot be read (invalid UTF-8 in an id, a
    /// malformed chunked body).
    BadRequest,
    /// A list row form with an unknown action.
    InvalidAction,
    /// Anything else the store refused.
    InvalidInput,
    /// A change to a plan that cannot be made.
    EditRefused,
    /// An item name breaking its rule.
    InvalidName,
    /// A quantity outside 0..=12.
    InvalidQuantity,
    /// A list title breaking its rule.
    InvalidTitle,
    /// Notes over the limit.
    NotesTooLong,
    /// Coordinates out of range.
    InvalidCoordinates,
    /// A search radius out of range.
    InvalidRadius,
    /// No location to search around.
    MissingLocation,
    /// A day the plan does not have.
    DayOutOfRange,
    /// A destination the gazetteer does not know.
    UnknownDestination,
    /// A location neither the gazetteer nor the online geocoder knows.
    UnknownLocation,
    /// A body over the size limit.
    TooLarge,
    /// A cookie holder's state-changing request without the right CSRF token.
    Csrf,
    /// A state-changing request sent by another website's page.
    CrossSite,
    /// Nothing there, or not the caller's.
    NotFound,
    /// No such API endpoint.
    UnknownEndpoint,
    /// The plan failed.
    PlanFailed,
    /// The plan was cancelled.
    PlanCancelled,
    /// Nothing to cancel.
    NotRunning,
    /// The plan is still being made (a day cannot be rewritten yet).
    PlanRunning,
    /// The plan is not finished (it cannot be shared, exported or packed for yet).
    PlanNotDone,
    /// An item of that name is already on the list.
    DuplicateItem,
    /// A versioned write lost the race against another tab.
    ChangedElsewhere,
    /// Too many plans at once.
    Busy,
    /// A per-user quota (plans a day, lists, items on a list) is used up.
    QuotaExceeded,
    /// Too many requests from one client address in a short time.
    RateLimited,
    /// The PDF export has no fonts on this server.
    PdfUnavailable,
    /// A bug or a failing dependency.
    Internal,
}

impl ErrorCode {
    /// The codes that are not a trip request's own.
    const OWN: [ErrorCode; 33] = [
        ErrorCode::EditRefused,
        ErrorCode::InvalidJson,
        ErrorCode::BadRequest,
        ErrorCode::InvalidForm,
        ErrorCode::InvalidAction,
        ErrorCode::InvalidInput,
        ErrorCode::InvalidName,
        ErrorCode::InvalidQuantity,
        ErrorCode::InvalidTitle,
        ErrorCode::NotesTooLong,
        ErrorCode::InvalidCoordinates,
        ErrorCode::InvalidRadius,
        ErrorCode::MissingLocation,
        ErrorCode::DayOutOfRange,
        ErrorCode::UnknownDestination,
        ErrorCode::UnknownLocation,
        ErrorCode::TooLarge,
        ErrorCode::Csrf,
        ErrorCode::CrossSite,
        ErrorCode::NotFound,
        ErrorCode::UnknownEndpoint,
        ErrorCode::PlanFailed,
        ErrorCode::PlanCancelled,
        ErrorCode::NotRunning,
        ErrorCode::PlanRunning,
        ErrorCode::PlanNotDone,
        ErrorCode::DuplicateItem,
        ErrorCode::ChangedElsewhere,
        ErrorCode::Busy,
        ErrorCode::QuotaExceeded,
        ErrorCode::RateLimited,
        ErrorCode::PdfUnavailable,
        ErrorCode::Internal,
    ];

    /// Every code, for the OpenAPI document.
    pub(crate) fn all() -> impl Iterator<Item = ErrorCode> {
        InvalidRequest::ALL
            .into_iter()
            .map(ErrorCode::Request)
            .chain(Self::OWN)
    }

    /// The code as clients see it.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Request(r) => r.as_str(),
            ErrorCode::InvalidJson => "invalid_json",
            ErrorCode::InvalidForm => "invalid_form",
            ErrorCode::BadRequest => "bad_request",
            ErrorCode::InvalidAction => "invalid_action",
            ErrorCode::InvalidInput => "invalid_input",
            ErrorCode::EditRefused => "edit_refused",
            ErrorCode::InvalidName => "invalid_name",
            ErrorCode::InvalidQuantity => "invalid_quantity",
            ErrorCode::InvalidTitle => "invalid_title",
            ErrorCode::NotesTooLong => "notes_too_long",
            ErrorCode::InvalidCoordinates => "invalid_coordinates",
            ErrorCode::InvalidRadius => "invalid_radius",
            ErrorCode::MissingLocation => "missing_location",
            ErrorCode::DayOutOfRange => "day_out_of_range",
            ErrorCode::UnknownDestination => "unknown_destination",
            ErrorCode::UnknownLocation => "unknown_location",
            ErrorCode::TooLarge => "too_large",
            ErrorCode::Csrf => "csrf",
            ErrorCode::CrossSite => "cross_site",
            ErrorCode::NotFound => "not_found",
            ErrorCode::UnknownEndpoint => "unknown_endpoint",
            ErrorCode::PlanFailed => "plan_failed",
            ErrorCode::PlanCancelled => "plan_cancelled",
            ErrorCode::NotRunning => "not_running",
            ErrorCode::PlanRunning => "plan_running",
            ErrorCode::PlanNotDone => "plan_not_done",
            ErrorCode::DuplicateItem => "duplicate_item",
            ErrorCode::ChangedElsewhere => "changed_elsewhere",
            ErrorCode::Busy => "busy",
            ErrorCode::QuotaExceeded => "quota_exceeded",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::PdfUnavailable => "pdf_unavailable",
            ErrorCode::Internal => "internal",
        }
    }
}

/// An error answer of the web app.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct WebError {
    pub(crate) status: StatusCode,
    pub(crate) code: ErrorCode,
    pub(crate) message: String,
    pub(crate) hint: Option<String>,
    /// Seconds after which trying again makes sense (a `Retry-After` header).
    pub(crate) retry_after: Option<u64>,
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
    /// Stable machine-readable code (every code is listed in this document's enum).
    pub(crate) code: &'static str,
    /// What is wrong, for the user.
    pub(crate) message: String,
    /// What to do about it, when there is advice.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) hint: Option<String>,
}

impl WebError {
    /// An error with its status, code and message.
    pub(crate) fn new(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            hint: None,
            retry_after: None,
            internal: None,
        }
    }

    /// Adds a `Retry-After` of `secs` seconds.
    pub(crate) fn retry_after(mut self, secs: u64) -> Self {
        self.retry_after = Some(secs.max(1));
        self
    }

    /// Too many requests from one client: try again in `secs` seconds.
    pub(crate) fn rate_limited(secs: u64) -> Self {
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::RateLimited,
            format!(
                "too many requests from your address; wait {} and try again",
                wait_words(secs)
            ),
        )
        .retry_after(secs)
    }

    /// Adds a hint.
    pub(crate) fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// A request the client must fix.
    pub(crate) fn bad_request(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// Nothing here, or not the caller's.
    pub(crate) fn not_found(what: impl std::fmt::Display) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            ErrorCode::NotFound,
            format!("{what} not found"),
        )
        .hint("check the link, or open it in the browser that made the plan")
    }

    /// A state-changing request from a cookie holder without the right CSRF token.
    pub(crate) fn csrf() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            ErrorCode::Csrf,
            "the form's security token is missing or out of date; reload the page and try again",
        )
    }

    /// A state-changing request that another website's page sent.
    pub(crate) fn cross_site() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            ErrorCode::CrossSite,
            "this request came from another website, so Tripwright ignored it",
        )
        .hint("open Tripwright itself and try again there")
    }

    /// A body over the size limit.
    pub(crate) fn too_large() -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::TooLarge,
            "the request body is too large",
        )
    }

    /// A request that does not fit the resource's state.
    pub(crate) fn conflict(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, message)
    }

    /// A bug or a failing dependency: a generic message, the detail logged.
    pub(crate) fn internal(detail: impl Into<String>) -> Self {
        let mut e = Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::Internal,
            "the server failed; try again, or see the server log",
        );
        e.internal = Some(detail.into());
        e
    }

    /// The JSON body.
    pub(crate) fn body(&self) -> ErrorBody {
        ErrorBody {
            error: ErrorDetail {
                code: self.code.as_str(),
                message: self.message.clone(),
                hint: self.hint.clone(),
            },
        }
    }

    /// Writes the error to the log: server failures with their detail, refusals briefly.
    pub(crate) fn log(&self) {
        if self.status.is_server_error() {
            tracing::error!(
                status = self.status.as_u16(),
                code = self.code.as_str(),
                internal = self.internal.as_deref(),
                "request failed"
            );
        } else {
            tracing::info!(
                status = self.status.as_u16(),
                code = self.code.as_str(),
                "request rejected"
            );
        }
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        self.log();
        let mut response = (self.status, axum::Json(self.body())).into_response();
        add_retry_after(&mut response, self.retry_after);
        response
    }
}

/// Sets `Retry-After` (seconds) on a refusal that passes with time.
pub(crate) fn add_retry_after(response: &mut Response, secs: Option<u64>) {
    if let Some(secs) = secs {
        response
            .headers_mut()
            .insert(axum::http::header::RETRY_AFTER, secs.into());
    }
}

/// "1 second", "20 seconds", "2 minutes".
fn wait_words(secs: u64) -> String {
    match secs {
        0 | 1 => "a second".to_owned(),
        2..=90 => format!("{secs} seconds"),
        _ => format!("{} minutes", secs.div_ceil(60)),
    }
}

/// The code of an invalid input.
fn invalid_code(invalid: Invalid) -> ErrorCode {
    match invalid {
        Invalid::Request(r) => ErrorCode::Request(r),
        Invalid::ItemName => ErrorCode::InvalidName,
        Invalid::Quantity => ErrorCode::InvalidQuantity,
        Invalid::ListTitle => ErrorCode::InvalidTitle,
        Invalid::Notes => ErrorCode::NotesTooLong,
        Invalid::Coordinates => ErrorCode::InvalidCoordinates,
        Invalid::Radius => ErrorCode::InvalidRadius,
        Invalid::MissingLocation => ErrorCode::MissingLocation,
        Invalid::Input => ErrorCode::InvalidInput,
        Invalid::Edit => ErrorCode::EditRefused,
        Invalid::PlanTitle => ErrorCode::InvalidTitle,
    }
}

impl From<AppError> for WebError {
    fn from(e: AppError) -> Self {
        let message = e.to_string();
        match e {
            AppError::Invalid { invalid, hint, .. } => {
                let e = WebError::bad_request(invalid_code(invalid), message);
                match hint {
                    Some(h) => e.hint(h),
                    None => e,
                }
            }
            AppError::UnknownDestination(_) => {
                WebError::bad_request(ErrorCode::UnknownDestination, message)
                    .hint("pick one of the suggestions, or add the country: \"Rome, Italy\"")
            }
            AppError::UnknownLocation { hint, .. } => {
                WebError::new(StatusCode::NOT_FOUND, ErrorCode::UnknownLocation, message).hint(hint)
            }
            AppError::NotFound(Missing::List | Missing::Item) => {
                WebError::new(StatusCode::NOT_FOUND, ErrorCode::NotFound, message)
                    .hint("check the link; a list can only be opened in the browser that made it")
            }
            AppError::NotFound(Missing::Plan | Missing::SharedPlan) => {
                WebError::new(StatusCode::NOT_FOUND, ErrorCode::NotFound, message)
                    .hint("check the link, or open it in the browser that made the plan")
            }
            AppError::Duplicate(_) => WebError::conflict(ErrorCode::DuplicateItem, message)
                .hint("change the name, or the quantity of the item already there"),
            AppError::Changed(_) => WebError::conflict(ErrorCode::ChangedElsewhere, message)
                .hint("check the current values, then make your change again"),
            AppError::PlanRunning => WebError::conflict(ErrorCode::PlanRunning, message),
            AppError::PlanNotDone => WebError::conflict(ErrorCode::PlanNotDone, message),
            AppError::NotRunning => WebError::conflict(ErrorCode::NotRunning, message),
            AppError::NoSuchDay { .. } => WebError::bad_request(ErrorCode::DayOutOfRange, message),
            AppError::Busy => {
                WebError::new(StatusCode::SERVICE_UNAVAILABLE, ErrorCode::Busy, message)
                    .retry_after(BUSY_RETRY_SECS)
            }
            AppError::Quota(quota) => WebError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                ErrorCode::QuotaExceeded,
                message,
            )
            .hint(quota.hint()),
            // `Online` comes from importing a region, which only the CLI does.
            AppError::MissingAssets { .. }
            | AppError::Startup(_)
            | AppError::Online(_)
            | AppError::Internal(_) => WebError::internal(message),
        }
    }
}

/// When to try again after a "busy" planner: a plan takes seconds to a few minutes.
pub(crate) const BUSY_RETRY_SECS: u64 = 10;

/// Whether a refusal is the "changed in another tab" one (a form then shows the values as
/// saved elsewhere, not the stale ones typed).
pub(crate) fn is_changed_elsewhere(e: &WebError) -> bool {
    e.code == ErrorCode::ChangedElsewhere
}

#[cfg(test)]
mod tests {
    use super::*;
    use tripwright_app::Changed;

    #[test]
    fn every_code_is_distinct_and_snake_case() {
        let codes: Vec<&str> = ErrorCode::all().map(ErrorCode::as_str).collect();
        let unique: std::collections::HashSet<&&str> = codes.iter().collect();
        assert_eq!(unique.len(), codes.len());
        assert!(
            codes
                .iter()
                .all(|c| c.chars().all(|ch| ch.is_ascii_lowercase() || ch == '_'))
        );
        assert!(codes.contains(&"days_out_of_range") && codes.contains(&"changed_elsewhere"));
    }

    #[test]
    fn conflicts_and_refusals_are_worded_for_the_user() {
        let e = WebError::from(AppError::Changed(Changed::Item));
        assert_eq!(e.status, StatusCode::CONFLICT);
        assert_eq!(e.code, ErrorCode::ChangedElsewhere);
        assert_eq!(e.message, "this item was changed in another tab — reloaded");
        let e = WebError::from(AppError::Duplicate("Socks".into()));
        assert_eq!(e.code, ErrorCode::DuplicateItem);
        assert_eq!(e.message, "an item named \"Socks\" is already on the list");
        let e = WebError::from(AppError::Busy);
        assert_eq!(e.status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(e.retry_after, Some(BUSY_RETRY_SECS));
        let response = e.into_response();
        assert_eq!(response.headers()["retry-after"], "10");
        let e = WebError::from(AppError::Quota(tripwright_app::Quota::Items(500)));
        assert_eq!(e.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(e.code, ErrorCode::QuotaExceeded);
        assert_eq!(
            e.message,
            "this list has 500 items, the most a list can hold"
        );
        assert!(e.hint.is_some());
        let e = WebError::rate_limited(20);
        assert_eq!(e.status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(
            e.message,
            "too many requests from your address; wait 20 seconds and try again"
        );
        assert_eq!(e.into_response().headers()["retry-after"], "20");
        let e = WebError::from(AppError::Internal("disk on fire".into()));
        assert_eq!(e.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!e.message.contains("disk"), "internals stay in the log");
    }
}
