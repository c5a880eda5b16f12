//! API errors as RFC 9457 `application/problem+json`. Internal details are logged here,
//! once, and never sent to clients.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// An error a handler returns.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    title: &'static str,
    detail: String,
}

#[derive(Serialize)]
struct Problem<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    title: &'a str,
    status: u16,
    detail: &'a str,
}

impl ApiError {
    /// 404 with a message saying what was not found.
    pub fn not_found(detail: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::NOT_FOUND,
            title: "Not found",
            detail: detail.into(),
        }
    }

    /// 500; the cause is logged, the client gets a generic message.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!("internal error: {cause}");
        ApiError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            title: "Internal error",
            detail: "The server could not complete the request; the cause is in its log.".into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Problem {
            kind: "about:blank",
            title: self.title,
            status: self.status.as_u16(),
            detail: &self.detail,
        };
        let json = serde_json::to_vec(&body).unwrap_or_default();
        (
            self.status,
            [(header::CONTENT_TYPE, "application/problem+json")],
            json,
        )
            .into_response()
    }
}

/// Fallback for unknown paths.
pub async fn not_found() -> ApiError {
    ApiError::not_found("No such endpoint.")
}
