//! `/auth/*`: signing in and out, refreshing a session, the caller's own account and
//! password. Sign-in is the only endpoint here that takes no bearer credential.

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::audit::AuditSlot;
use super::extract::{ClientAddr, Json};
use super::{ApiError, AppState};
use crate::auth::{Caller, Session};
use crate::store::{Role, User};

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

/// `POST /api/v1/auth/refresh`: a new session token for a valid (unexpired, unrevoked) one.
#[utoipa::path(
    post,
    path = "/auth/refresh",
    tag = "auth",
    responses(
        (status = 200, description = "A fresh session", body = Session),
        (status = 400, description = "Called with an API key, which needs no refresh"),
    )
)]
pub async fn refresh(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Session>, ApiError> {
    Ok(Json(state.auth.refresh(&caller).await?))
}

/// `POST /api/v1/auth/logout`: ends every session of the caller (all their session tokens
/// stop working). API keys are not affected; revoke those with `DELETE /api-keys/{id}`.
#[utoipa::path(
    post,
    path = "/auth/logout",
    tag = "auth",
    responses((status = 204, description = "Signed out everywhere"))
)]
pub async fn logout(State(state): State<AppState>, caller: Caller) -> Result<StatusCode, ApiError> {
    state.auth.logout(caller.user_id).await?;
    Ok(StatusCode::NO_CONTENT)
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
    Ok(Json(Me {
        user,
        effective_role: caller.role,
        api_key_id: caller.api_key_id,
    }))
}

/// `POST /api/v1/auth/password`: changes the caller's password. Every other session ends;
/// the answer is a new session.
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
    Json(request): Json<PasswordChange>,
) -> Result<Json<Session>, ApiError> {
    let session = state
        .auth
        .change_password(&caller, &request.current_password, &request.new_password)
        .await?;
    Ok(Json(session))
}
