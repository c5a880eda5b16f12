//! API errors as RFC 9457 `application/problem+json`. Internal details are logged here,
//! once, and never sent to clients. The conversions from the layers' errors ([`AuthError`],
//! [`StoreError`]) and from axum's extractor rejections live here too, so every failure of
//! every endpoint has the same shape.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::auth::AuthError;
use crate::servers::UnknownAdapter;
use crate::servers::bans::BanError;
use crate::servers::content::ContentError;
use crate::servers::live::LiveError;
use crate::servers::settings::SettingsError;
use crate::store::StoreError;

/// An error a handler returns.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    title: &'static str,
    detail: String,
    errors: Vec<FieldError>,
    retry_after: Option<u64>,
}

/// One field of a request that breaks a rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    /// The field's name in the request (for adapter settings, the setting's key).
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

/// An RFC 9457 problem: every error answer of the API has this body, with content type
/// `application/problem+json`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// Always `about:blank`: the status says what kind of problem it is.
    #[serde(rename = "type")]
    pub kind: String,
    /// The status's short name.
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// What went wrong, for people.
    pub detail: String,
    /// The fields that break a rule, for validation problems (absent otherwise).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(required = false)]
    pub errors: Vec<FieldError>,
}

impl ApiError {
    fn new(status: StatusCode, title: &'static str, detail: impl Into<String>) -> Self {
        ApiError {
            status,
            title,
            detail: detail.into(),
            errors: Vec::new(),
            retry_after: None,
        }
    }

    /// 415: the body is not JSON (or not sent as JSON).
    pub fn unsupported_media_type() -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Unsupported media type",
            "The body must be JSON, sent with `Content-Type: application/json`.",
        )
    }

    /// 400: the request is malformed (bad JSON, wrong types, unknown fields, bad cursor).
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "Bad request", detail)
    }

    /// 401: no valid credentials. Answers carry `WWW-Authenticate: Bearer`.
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "Unauthorized", detail)
    }

    /// 403: authenticated, but the role does not allow it. For servers the caller may not
    /// see at all, answer [`ApiError::not_found`] instead.
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "Forbidden", detail)
    }

    /// 404 with a message saying what was not found.
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "Not found", detail)
    }

    /// 409: the request contradicts the current state.
    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "Conflict", detail)
    }

    /// 413: the body is larger than the limit.
    pub fn payload_too_large(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, "Payload too large", detail)
    }

    /// 422: well-formed, but values break rules; `errors` says which field and why.
    pub fn validation(errors: Vec<FieldError>) -> Self {
        let detail = errors
            .iter()
            .map(|e| format!("{}: {}", e.field, e.message.trim_end_matches('.')))
            .collect::<Vec<_>>()
            .join("; ");
        let mut error = Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Validation failed",
            format!("The request has invalid values: {detail}."),
        );
        error.errors = errors;
        error
    }

    /// 507: the host's storage refused a write (disk full, read-only, not a directory);
    /// nothing of the request was kept.
    pub fn insufficient_storage(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::INSUFFICIENT_STORAGE,
            "Insufficient storage",
            detail,
        )
    }

    /// 429: retry after `retry_after` (sent as `Retry-After` in whole seconds).
    pub fn too_many_requests(detail: impl Into<String>, retry_after: std::time::Duration) -> Self {
        let mut error = Self::new(StatusCode::TOO_MANY_REQUESTS, "Too many requests", detail);
        // Round up: retrying a fraction of a second early would be refused again.
        let secs = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
        error.retry_after = Some(secs.max(1));
        error
    }

    /// 502: the game server (its remote console) did not answer as it should.
    pub fn bad_gateway(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_GATEWAY, "Bad gateway", detail)
    }

    /// 503: the host is out of a resource the request needs right now (an adapter instance
    /// slot); `detail` names the limit and how to raise it.
    pub fn service_unavailable(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "Service unavailable",
            detail,
        )
    }

    /// 500; the cause is logged, the client gets a generic message.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!("internal error: {cause}");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Internal error",
            "The server could not complete the request; the cause is in its log.",
        )
    }

    /// The HTTP status this error answers with.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The human-readable detail.
    pub fn detail(&self) -> &str {
        &self.detail
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Problem {
            kind: "about:blank".into(),
            title: self.title.into(),
            status: self.status.as_u16(),
            detail: self.detail,
            errors: self.errors,
        };
        let json = serde_json::to_vec(&body).unwrap_or_default();
        let mut response = (
            self.status,
            [(header::CONTENT_TYPE, "application/problem+json")],
            json,
        )
            .into_response();
        let headers = response.headers_mut();
        if self.status == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Some(secs) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound(what) => ApiError::not_found(format!("No {what}.")),
            StoreError::Conflict(why) => ApiError::conflict(capitalised(&why)),
            StoreError::Sqlite(rusqlite::Error::SqliteFailure(e, _))
                if matches!(
                    e.code,
                    rusqlite::ErrorCode::DiskFull | rusqlite::ErrorCode::ReadOnly
                ) =>
            {
                tracing::error!("database write refused: {e}");
                ApiError::insufficient_storage(
                    "The host's database could not be written (disk full or read-only); \
                     nothing was changed.",
                )
            }
            other => ApiError::internal(other),
        }
    }
}

impl From<SettingsError> for ApiError {
    fn from(error: SettingsError) -> Self {
        match error {
            SettingsError::Store(e) => e.into(),
            SettingsError::Adapter(e) => adapter_refusal(e),
            SettingsError::UnknownAdapter(e) => unknown_adapter(e),
            SettingsError::InvalidSettings(errors) => invalid_settings(errors),
            SettingsError::NeedsAdministrator(program) => needs_administrator(&program),
            SettingsError::Storage(why) => storage(&why),
            e @ SettingsError::Secrets(_) => ApiError::internal(e),
        }
    }
}

impl From<LiveError> for ApiError {
    fn from(error: LiveError) -> Self {
        match error {
            LiveError::Store(e) => e.into(),
            LiveError::Adapter(e) => adapter_refusal(e),
            LiveError::UnknownAdapter(e) => unknown_adapter(e),
            LiveError::Unsupported(what) => unsupported(what),
            LiveError::NoRcon => no_rcon(),
            LiveError::Rcon(e) => rcon(&e),
        }
    }
}

impl From<BanError> for ApiError {
    fn from(error: BanError) -> Self {
        match error {
            BanError::Store(e) => e.into(),
            BanError::Adapter(e) => adapter_refusal(e),
            BanError::UnknownAdapter(e) => unknown_adapter(e),
            BanError::Unsupported(what) => unsupported(what),
            BanError::NoRcon => no_rcon(),
            BanError::Rcon(e) => rcon(&e),
            BanError::NoIdentity(name) => ApiError::conflict(format!(
                "Player {name} reports neither an identity nor an address to keep a ban by."
            )),
        }
    }
}

// The problems the servers' owners have in common, one function per cause, so each owner's
// error maps a cause to the same answer.

/// 422 on the `adapter` field: no adapter with this id is installed.
fn unknown_adapter(UnknownAdapter(id): UnknownAdapter) -> ApiError {
    ApiError::validation(vec![FieldError {
        field: "adapter".into(),
        message: format!("no adapter with id `{id}` is installed"),
    }])
}

/// 422 by setting: the settings break the schema or the adapter's rules.
fn invalid_settings(errors: Vec<crate::adapters::model::FieldError>) -> ApiError {
    ApiError::validation(
        errors
            .into_iter()
            .map(|e| FieldError {
                field: if e.field.is_empty() {
                    "settings".into()
                } else {
                    e.field
                },
                message: e.message,
            })
            .collect(),
    )
}

/// 409: the server has no remote console running.
fn no_rcon() -> ApiError {
    ApiError::conflict(
        "The server has no remote console running (capability `rcon` is missing, \
         turned off in its settings, or the server is not running).",
    )
}

/// 409: the server's adapter lacks the capability `what`.
fn unsupported(what: &str) -> ApiError {
    ApiError::conflict(format!(
        "The server's adapter does not support this (capability `{what}` is missing)."
    ))
}

/// 403: the settings would run `program`, outside the game's install.
fn needs_administrator(program: &str) -> ApiError {
    ApiError::forbidden(format!(
        "Only an administrator may choose these settings: the server would run \
         `{program}`, a program outside the game's install."
    ))
}

/// 502: the game's remote console did not answer as it should.
fn rcon(e: &crate::telemetry::rcon::RconError) -> ApiError {
    ApiError::bad_gateway(format!("Remote console: {e}."))
}

/// 507: the host's storage refused a write the operation needs.
fn storage(why: &str) -> ApiError {
    ApiError::insufficient_storage(format!("{}; nothing was changed.", capitalised(why)))
}

/// The adapter refused (400, or 422 by setting, or 409 for a missing capability) or failed.
fn adapter_refusal(error: crate::adapters::AdapterError) -> ApiError {
    match error {
        crate::adapters::AdapterError::Rejected(why) => ApiError::bad_request(capitalised(&why)),
        crate::adapters::AdapterError::InvalidSettings(errors) => invalid_settings(errors),
        crate::adapters::AdapterError::Unsupported(what) => ApiError::conflict(format!(
            "The server's adapter does not support {what} (capability missing)."
        )),
        other => other.into(),
    }
}

impl From<crate::adapters::AdapterError> for ApiError {
    /// The adapter failures that are no request's fault: a full instance pool is 503 (the
    /// operator can raise the limit; retrying later may find a slot free), the rest 500.
    fn from(error: crate::adapters::AdapterError) -> Self {
        match error {
            e @ crate::adapters::AdapterError::NoInstanceSlot { .. } => {
                tracing::warn!("{e}");
                ApiError::service_unavailable(capitalised(&e.to_string()))
            }
            other => ApiError::internal(other),
        }
    }
}

impl From<ContentError> for ApiError {
    fn from(error: ContentError) -> Self {
        match error {
            ContentError::Store(e) => e.into(),
            ContentError::Adapter(e) => adapter_refusal(e),
            ContentError::UnknownAdapter(e) => unknown_adapter(e),
            ContentError::InvalidSettings(errors) => invalid_settings(errors),
            ContentError::Settings(e) => e.into(),
            ContentError::Unsupported(what) => unsupported(what),
            ContentError::NoSelection(what) => ApiError::conflict(format!(
                "The server's game has no setting that selects its {what}."
            )),
            ContentError::NoWorkshop => {
                ApiError::conflict("The server's game takes no Workshop items.")
            }
            ContentError::InvalidName(why) => ApiError::validation(vec![FieldError {
                field: "name".into(),
                message: why,
            }]),
            ContentError::Invalid(errors) => ApiError::validation(
                errors
                    .into_iter()
                    .map(|e| FieldError {
                        field: e.field,
                        message: e.message,
                    })
                    .collect(),
            ),
            ContentError::NotFound(what) => ApiError::not_found(format!("No {what}.")),
            ContentError::InUse(..) | ContentError::UsedElsewhere(..) => {
                ApiError::conflict(capitalised(&error.to_string()))
            }
            ContentError::Shared(_) => ApiError::forbidden(capitalised(&error.to_string())),
            ContentError::TooLarge(limit) => {
                ApiError::payload_too_large(format!("An upload may be at most {limit} bytes."))
            }
            ContentError::Outside(_) => ApiError::conflict(
                "The content directory or file is a link leading outside the game's directory; \
                 the host refuses to use it.",
            ),
            ContentError::Body(why) => {
                ApiError::bad_request(format!("The upload broke off: {why}."))
            }
            other => ApiError::internal(other),
        }
    }
}

impl From<crate::jobs::JobError> for ApiError {
    fn from(e: crate::jobs::JobError) -> Self {
        match e {
            crate::jobs::JobError::Store(store) => store.into(),
        }
    }
}

impl From<AuthError> for ApiError {
    fn from(error: AuthError) -> Self {
        match error {
            AuthError::MissingToken
            | AuthError::InvalidToken
            | AuthError::Expired
            | AuthError::Revoked
            | AuthError::InvalidCredentials => {
                ApiError::unauthorized(capitalised(&error.to_string()))
            }
            AuthError::Locked(wait) => {
                ApiError::too_many_requests(capitalised(&error.to_string()), wait)
            }
            AuthError::Forbidden(why) => ApiError::forbidden(capitalised(&why)),
            AuthError::NotFound(what) => ApiError::not_found(format!("No {what}.")),
            AuthError::BadRequest(why) => ApiError::bad_request(capitalised(&why)),
            AuthError::Invalid { field, message } => ApiError::validation(vec![FieldError {
                field: field.into(),
                message,
            }]),
            AuthError::Store(store) => store.into(),
            other => ApiError::internal(other),
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection.status() {
            StatusCode::PAYLOAD_TOO_LARGE => ApiError::payload_too_large(
                "The request body is larger than this endpoint accepts.",
            ),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::unsupported_media_type(),
            _ => ApiError::bad_request(format!("{}.", rejection.body_text())),
        }
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        ApiError::bad_request(format!("{}.", rejection.body_text()))
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        ApiError::bad_request(format!("{}.", rejection.body_text()))
    }
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    let mut out: String = chars
        .next()
        .map(|c| c.to_uppercase().collect())
        .unwrap_or_default();
    out.push_str(chars.as_str());
    if !out.ends_with('.') {
        out.push('.');
    }
    out
}

/// Fallback for unknown paths.
pub async fn not_found() -> ApiError {
    ApiError::not_found("No such endpoint.")
}

/// Fallback for known paths called with a method they do not have.
pub async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "Method not allowed",
        "This endpoint does not accept that method.",
    )
}
