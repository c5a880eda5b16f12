//! `/auth/*`: signing in and out, refreshing a session, the caller's own account and
//! password. Sign-in is the only endpoint here that takes no bearer credential.
//!
//! **Browsers** sign in with `POST /auth/session` instead of `/auth/login`: the session token
//! is then set as an `HttpOnly`, `SameSite=Strict` cookie (`Secure` over TLS) that page
//! scripts cannot read, and the answer carries no token. The cookie is a session token like
//! any other (same lifetime, same revocation); called with it, `/auth/refresh` and
//! `/auth/password` renew the cookie instead of answering a token, and `/auth/logout` also
//! clears it. Requests that change something with the cookie must come from this host's own
//! pages (see [`super::extract::same_origin`]).

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::audit::AuditSlot;
use super::extract::{ByCookie, ClientAddr, Json, SESSION_COOKIE, over_tls, same_origin};
use super::{ApiError, AppState};
use crate::auth::{Caller, Session};
use crate::store::{Role, User};

/// A browser's session (`POST /auth/session`): like [`Session`] without the token, which is
/// in the cookie. (Documented with no other properties, so a client can tell it from a
/// `Session`.)
#[derive(Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BrowserSession {
    /// RFC 3339 UTC; refresh (`POST /auth/refresh`) before then.
    #[schema(format = DateTime)]
    pub expires_at: String,
    /// Seconds until it expires.
    pub expires_in: u64,
    /// Who signed in.
    pub user: User,
}

/// The `Set-Cookie` value carrying `token` for `max_age` seconds (0 clears the cookie).
fn cookie(token: &str, max_age: u64, secure: bool) -> Result<HeaderValue, ApiError> {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={token}; Path=/api; Max-Age={max_age}; HttpOnly; SameSite=Strict{secure}"
    ))
    .map_err(|e| ApiError::internal(format!("session cookie: {e}")))
}

/// The answer to a browser: the session as a cookie, the rest as a [`BrowserSession`].
fn browser_answer(session: Session, headers: &HeaderMap) -> Result<Response, ApiError> {
    let set = cookie(&session.token, session.expires_in, over_tls(headers))?;
    let body = BrowserSession {
        expires_at: session.expires_at,
        expires_in: session.expires_in,
        user: session.user,
    };
    // Serialised like a `BrowserSession` (the enum is untagged); one type for both answers.
    let mut response = Json(Refreshed::Browser(body)).into_response();
    response.headers_mut().insert(header::SET_COOKIE, set);
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// `POST /auth/login` body.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// The username (any case).
    pub username: String,
    /// The password.
    pub password: String,
}

/// `POST /auth/password` body.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    /// The password now.
    pub current_password: String,
    /// The new password: at least 8 characters.
    #[schema(min_length = 8, max_length = 1024)]
    pub new_password: String,
}

/// `GET /auth/me` body: the caller's account and what this call may do.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Me {
    /// The account.
    #[serde(flatten)]
    pub user: User,
    /// The role this credential acts with: the user's, capped by the API key's.
    pub effective_role: Role,
    /// The API key used, when the call was made with one.
    pub api_key_id: Option<i64>,
    /// The generated first administrator still has the password the host printed: they
    /// should choose their own (`POST /auth/password`) before anything else.
    pub password_change_required: bool,
}

/// `POST /api/v1/auth/login`: signs in. Failed attempts are limited per username and per
/// client address (429 with `Retry-After` while locked out); the audit log records the
/// username a failed attempt tried.
#[utoipa::path(
    post,
    path = "/auth/login",
    tag = "auth",
    security(()),
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in", body = Session),
        (status = 400, description = "Malformed body"),
        (status = 401, description = "Invalid username or password"),
        (status = 429, description = "Too many failed sign-ins; see Retry-After",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
pub async fn login(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    audit: AuditSlot,
    Json(request): Json<LoginRequest>,
) -> Result<Json<Session>, ApiError> {
    let session = state
        .auth
        .login(&request.username, &request.password, client.map(|c| c.ip()))
        .await
        .inspect_err(|_| audit.set_attempted_username(&request.username))?;
    audit.set_user(&session.user);
    audit.set_target(format!("user {}", session.user.id));
    Ok(Json(session))
}

/// `POST /api/v1/auth/session`: signs a browser in. Like `/auth/login` (same limits), but the
/// session token is set as the `garrison_session` cookie (`HttpOnly`, `SameSite=Strict`,
/// `Path=/api`, `Secure` over TLS) and not returned. Only from this host's own pages
/// (`Origin` or `Sec-Fetch-Site`), so another site cannot sign a browser in.
#[utoipa::path(
    post,
    path = "/auth/session",
    tag = "auth",
    security(()),
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in; the session is in the `Set-Cookie` cookie",
            body = BrowserSession),
        (status = 400, description = "Malformed body"),
        (status = 401, description = "Invalid username or password"),
        (status = 403, description = "Not sent from this host's own pages"),
        (status = 429, description = "Too many failed sign-ins; see Retry-After",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
pub async fn session_login(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    audit: AuditSlot,
    Json(request): Json<LoginRequest>,
) -> Result<Response, ApiError> {
    if !same_origin(&headers) {
        return Err(ApiError::forbidden(
            "browser sign-in is only accepted from this host's own pages",
        ));
    }
    let session = state
        .auth
        .login(&request.username, &request.password, client.map(|c| c.ip()))
        .await?;
    audit.set_user(&session.user);
    audit.set_target(format!("user {}", session.user.id));
    browser_answer(session, &headers)
}

/// What `POST /auth/refresh` answers: a [`Session`] with a new token, or a
/// [`BrowserSession`] when called with the session cookie (the new token is in the cookie).
#[derive(Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum Refreshed {
    /// Called with a bearer token.
    #[schema(title = "Session")]
    Bearer(Session),
    /// Called with the session cookie.
    #[schema(title = "BrowserSession")]
    Browser(BrowserSession),
}

/// `POST /api/v1/auth/refresh`: a new session token for a valid (unexpired, unrevoked) one.
/// Called with the session cookie, the new token replaces the cookie and the answer is a
/// `BrowserSession` (no token).
#[utoipa::path(
    post,
    path = "/auth/refresh",
    tag = "auth",
    responses(
        (status = 200, description = "A fresh session (a `BrowserSession` with a new cookie \
            when called with the cookie)", body = Refreshed),
        (status = 400, description = "Called with an API key, which needs no refresh"),
    )
)]
pub async fn refresh(
    State(state): State<AppState>,
    caller: Caller,
    // After the caller, whose extraction marks a cookie session.
    by_cookie: Option<axum::Extension<ByCookie>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let session = state.auth.refresh(&caller).await?;
    if by_cookie.is_some() {
        return browser_answer(session, &headers);
    }
    Ok(Json(Refreshed::Bearer(session)).into_response())
}

/// `POST /api/v1/auth/logout`: ends every session of the caller (all their session tokens
/// stop working; called with the session cookie, the cookie is cleared too). API keys are not
/// affected; revoke those with `DELETE /api-keys/{id}`.
#[utoipa::path(
    post,
    path = "/auth/logout",
    tag = "auth",
    responses((status = 204, description = "Signed out everywhere"))
)]
pub async fn logout(
    State(state): State<AppState>,
    caller: Caller,
    // After the caller, whose extraction marks a cookie session.
    by_cookie: Option<axum::Extension<ByCookie>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    state.auth.logout(caller.user_id).await?;
    let mut response = StatusCode::NO_CONTENT.into_response();
    if by_cookie.is_some() {
        let clear = cookie("", 0, over_tls(&headers))?;
        response.headers_mut().insert(header::SET_COOKIE, clear);
    }
    Ok(response)
}

/// `GET /api/v1/auth/me`: the caller's account.
#[utoipa::path(
    get,
    path = "/auth/me",
    tag = "auth",
    responses((status = 200, description = "The caller", body = Me))
)]
pub async fn me(State(state): State<AppState>, caller: Caller) -> Result<Json<Me>, ApiError> {
    let id = caller.user_id;
    let user = state
        .store
        .call(move |conn| crate::store::users::get(conn, id))
        .await?;
    let password_change_required = state.auth.has_initial_password(&user).await;
    Ok(Json(Me {
        user,
        effective_role: caller.role,
        api_key_id: caller.api_key_id,
        password_change_required,
    }))
}

/// `POST /api/v1/auth/password`: changes the caller's password. Every other session ends;
/// the answer is a new session (called with the session cookie: a new cookie and a
/// `BrowserSession`).
#[utoipa::path(
    post,
    path = "/auth/password",
    tag = "auth",
    request_body = PasswordChange,
    responses(
        (status = 200, description = "Changed; a new session", body = Session),
        (status = 400, description = "Malformed body"),
        (status = 422, description = "Wrong current password, or the new one is too short"),
        (status = 429, description = "Too many wrong current passwords; see Retry-After"),
    )
)]
pub async fn change_password(
    State(state): State<AppState>,
    caller: Caller,
    // After the caller, whose extraction marks a cookie session.
    by_cookie: Option<axum::Extension<ByCookie>>,
    headers: HeaderMap,
    Json(request): Json<PasswordChange>,
) -> Result<Response, ApiError> {
    let session = state
        .auth
        .change_password(&caller, &request.current_password, &request.new_password)
        .await?;
    if by_cookie.is_some() {
        return browser_answer(session, &headers);
    }
    Ok(Json(session).into_response())
}
