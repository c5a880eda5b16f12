//! Extractors with uniform problem answers: [`Json`], [`Path`] and [`Query`] wrap axum's and
//! turn every rejection (malformed JSON, wrong types, unknown fields, oversized bodies, bad
//! path or query values) into an [`ApiError`]; [`Caller`] authenticates the request.
//!
//! Handlers use these instead of axum's own, so no request can produce a plain-text error or
//! a 500 from extraction. Request bodies should `#[serde(deny_unknown_fields)]`.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRef, FromRequest, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{Method, header};
use axum::response::{IntoResponse, Response};

use super::ApiError;
use super::audit::AuditSlot;
use crate::auth::{Auth, AuthError, Caller};

/// A JSON body (request) or answer (response); rejections are 400/413/415 problems. A body
/// must be a JSON object, as every request body the document describes is (serde would
/// otherwise read a struct from an array too).
#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

impl<T, S> FromRequest<S> for Json<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: axum::extract::Request, state: &S) -> Result<Self, ApiError> {
        if !has_json_type(request.headers()) {
            return Err(ApiError::unsupported_media_type());
        }
        let bytes = axum::body::Bytes::from_request(request, state)
            .await
            .map_err(body_rejection)?;
        json_object(&bytes).map(Json)
    }
}

/// Whether the request says its body is JSON (`application/json` or `…+json`).
fn has_json_type(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .is_some_and(|media| media == "application/json" || media.ends_with("+json"))
}

/// A body read as a JSON object of type `T`.
fn json_object<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if first.is_some_and(|b| *b != b'{') {
        return Err(ApiError::bad_request("The body must be a JSON object."));
    }
    let axum::Json(value) = axum::Json::<T>::from_bytes(bytes)?;
    Ok(value)
}

/// Why a body could not be read: too large (413) or broken off (400).
fn body_rejection(rejection: axum::extract::rejection::BytesRejection) -> ApiError {
    if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::payload_too_large("The request body is larger than this endpoint accepts.")
    } else {
        ApiError::bad_request(format!("{}.", rejection.body_text()))
    }
}

/// A JSON body that may be left out (its document says the body is not required): no body
/// at all — no `Content-Type` and nothing sent — is `None`, and so is a JSON `null` (how some
/// clients send "no body"); anything else is read as [`Json`] reads it, so bytes without a
/// JSON `Content-Type` are still a 415.
#[derive(Debug, Clone, Copy, Default)]
pub struct OptionalJson<T>(pub Option<T>);

impl<T, S> FromRequest<S> for OptionalJson<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: axum::extract::Request, state: &S) -> Result<Self, ApiError> {
        let typed = request.headers().contains_key(header::CONTENT_TYPE);
        if typed && !has_json_type(request.headers()) {
            return Err(ApiError::unsupported_media_type());
        }
        let bytes = axum::body::Bytes::from_request(request, state)
            .await
            .map_err(body_rejection)?;
        if !typed {
            return if bytes.is_empty() {
                Ok(OptionalJson(None))
            } else {
                Err(ApiError::unsupported_media_type())
            };
        }
        if bytes.trim_ascii() == b"null" {
            return Ok(OptionalJson(None));
        }
        json_object(&bytes).map(|value| OptionalJson(Some(value)))
    }
}

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

/// The name of the dashboard's session cookie (see [`super::auth::session_login`]).
pub const SESSION_COOKIE: &str = "garrison_session";

/// Marks a request authenticated by the session cookie rather than a bearer credential (in
/// the request's extensions), so that answers renewing the session renew the cookie.
#[derive(Debug, Clone, Copy)]
pub struct ByCookie;

/// The value of the session cookie, if the request carries one.
pub fn session_cookie(headers: &axum::http::HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.trim())
        .filter(|value| !value.is_empty())
}

/// Whether a browser request comes from a page of this host: `Sec-Fetch-Site: same-origin`
/// when the browser sends it, else an `Origin` whose host is the request's `Host`. A request
/// with neither is refused (every browser sends `Origin` on cross-site `POST`s and on
/// WebSocket handshakes). This is what stops cross-site request forgery with the cookie.
pub fn same_origin(headers: &axum::http::HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site") {
        return site.as_bytes() == b"same-origin";
    }
    let (Some(origin), Some(host)) = (
        headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()),
        headers.get(header::HOST).and_then(|v| v.to_str().ok()),
    ) else {
        return false;
    };
    let origin_host = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"));
    origin_host.is_some_and(|h| h.eq_ignore_ascii_case(host))
}

/// Whether the browser sees this host over TLS (its `Origin`, or a proxy's
/// `X-Forwarded-Proto`): the session cookie is then marked `Secure`.
pub fn over_tls(headers: &axum::http::HeaderMap) -> bool {
    let origin_https = headers
        .get(header::ORIGIN)
        .is_some_and(|v| v.as_bytes().starts_with(b"https://"));
    let forwarded_https = headers
        .get("x-forwarded-proto")
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"https"));
    origin_https || forwarded_https
}

/// The authenticated caller: any endpoint that takes a `Caller` needs a valid bearer token or
/// API key and answers 401 otherwise. Without an `Authorization` header, the dashboard's
/// session cookie is accepted instead; a request that changes something (any method but
/// `GET`, `HEAD`, `OPTIONS`) with the cookie must then come from this host's own pages
/// ([`same_origin`]), or it is refused with 403. The caller is also handed to the audit log.
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
        let caller = match bearer(parts) {
            Ok(credential) => auth.authenticate(credential).await?,
            Err(AuthError::MissingToken) => {
                let Some(cookie) = session_cookie(&parts.headers) else {
                    return Err(AuthError::MissingToken.into());
                };
                let safe = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
                if !safe && !same_origin(&parts.headers) {
                    return Err(ApiError::forbidden(
                        "a request with the session cookie must come from this host's own \
                         pages (Origin or Sec-Fetch-Site)",
                    ));
                }
                let caller = auth.authenticate(cookie).await?;
                parts.extensions.insert(ByCookie);
                caller
            }
            Err(e) => return Err(e.into()),
        };
        if let Some(slot) = parts.extensions.get::<AuditSlot>() {
            slot.set_caller(&caller);
        }
        parts.extensions.insert(caller.clone());
        Ok(caller)
    }
}
