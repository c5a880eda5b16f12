//! Extractors with uniform problem answers: [`Json`], [`Path`] and [`Query`] wrap axum's and
//! turn every rejection (malformed JSON, wrong types, unknown fields, oversized bodies, bad
//! path or query values) into an [`ApiError`]; [`Caller`] authenticates the request.
//!
//! Handlers use these instead of axum's own, so no request can produce a plain-text error or
//! a 500 from extraction. Request bodies should `#[serde(deny_unknown_fields)]`.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRef, FromRequest, FromRequestParts};
use axum::http::header;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};

use super::ApiError;
use super::audit::AuditSlot;
use crate::auth::{Auth, AuthError, Caller};

/// A JSON body (request) or answer (response); rejections are 400/413/415 problems.
#[derive(Debug, Clone, Copy, Default, FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct Json<T>(pub T);

impl<T: serde::Serialize> IntoResponse for Json<T> {
    /// Serialises into one growing `Vec` handed over without a copy (cheaper for large lists
    /// than writing piecewise into a `BytesMut`).
    fn into_response(self) -> Response {
        let mut body = Vec::with_capacity(1024);
        match serde_json::to_writer(&mut body, &self.0) {
            Ok(()) => (
                [(header::CONTENT_TYPE, "application/json")],
                axum::body::Bytes::from(body),
            )
                .into_response(),
            Err(e) => ApiError::internal(format!("serialising a response: {e}")).into_response(),
        }
    }
}

/// Path parameters; a value of the wrong type is a 400 problem.
#[derive(Debug, Clone, Copy, Default, FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct Path<T>(pub T);

/// Query parameters; a value of the wrong type is a 400 problem.
#[derive(Debug, Clone, Copy, Default, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct Query<T>(pub T);

/// The client's socket address, when the server was started with connect info (the real
/// host always is; router tests may not be).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub Option<SocketAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddr(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|info| info.0),
        ))
    }
}

/// Reads `Authorization: Bearer <credential>`.
fn bearer(parts: &Parts) -> Result<&str, AuthError> {
    let value = parts
        .headers
        .get(header::AUTHORIZATION)
        .ok_or(AuthError::MissingToken)?
        .to_str()
        .map_err(|_| AuthError::InvalidToken)?;
    let (scheme, credential) = value.split_once(' ').ok_or(AuthError::MissingToken)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(AuthError::MissingToken);
    }
    let credential = credential.trim();
    if credential.is_empty() {
        return Err(AuthError::MissingToken);
    }
    Ok(credential)
}

/// The authenticated caller: any endpoint that takes a `Caller` needs a valid bearer token or
/// API key and answers 401 otherwise. The caller is also handed to the audit log.
impl<S> FromRequestParts<S> for Caller
where
    Auth: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        if let Some(caller) = parts.extensions.get::<Caller>() {
            return Ok(caller.clone());
        }
        let auth = Auth::from_ref(state);
        let caller = auth.authenticate(bearer(parts)?).await?;
        if let Some(slot) = parts.extensions.get::<AuditSlot>() {
            slot.set_caller(&caller);
        }
        parts.extensions.insert(caller.clone());
        Ok(caller)
    }
}
