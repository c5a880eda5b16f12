//! `/users` and `/users/{id}/grants`: administrators manage accounts (create, list, change
//! role, disable, delete, reset passwords) and per-server grants. Every endpoint here is for
//! administrators only (403 for anyone else).

use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;

use super::access::Admin;
use super::audit::AuditSlot;
use super::extract::{Json, Path, Query};
use super::page::{Page, PageQuery};
use super::{ApiError, AppState};
use crate::store::grants::{self, Grant, GrantRole};
use crate::store::users::{self, UserPatch};
use crate::store::{Role, User};

/// `POST /users` body.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUserRequest {
    /// 1 to 64 letters, digits, `.`, `_`, `-`, `@`; unique regardless of case.
    #[schema(
        min_length = 1,
        max_length = 64,
        pattern = "^[A-Za-z0-9][A-Za-z0-9._@-]*$"
    )]
    pub username: String,
    /// At least 8 characters.
    #[schema(min_length = 8, max_length = 1024)]
    pub password: String,
    /// Host-wide role; `viewer` when absent.
    pub role: Option<Role>,
}

/// `PATCH /users/{id}` body: absent fields stay as they are.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserPatchRequest {
    /// New role.
    pub role: Option<Role>,
    /// Disable (true) or enable (false) the account.
    pub disabled: Option<bool>,
}

/// `POST /users/{id}/password` body.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordReset {
    /// The new password: at least 8 characters.
    #[schema(min_length = 8, max_length = 1024)]
    pub password: String,
}

/// `PUT /users/{id}/grants` body.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GrantRequest {
    /// The server.
    pub server_id: i64,
    /// What the user may do with it (never more than the user's own role allows).
    pub role: GrantRole,
}

/// `GET /api/v1/users`.
#[utoipa::path(
    get,
    path = "/users",
    tag = "users",
    params(PageQuery),
    responses(
        (status = 200, description = "A page of users, by id", body = Page<User>),
        (status = 400, description = "Bad cursor or parameters"),
        (status = 403, description = "Not an administrator"),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    _admin: Admin,
    Query(page): Query<PageQuery>,
) -> Result<Json<Page<User>>, ApiError> {
    let (after, limit) = (page.after()?, page.limit());
    let rows = state
        .store
        .call(move |conn| users::list(conn, after, limit + 1))
        .await?;
    Ok(Json(Page::from_rows(rows, limit, |u| u.id)))
}

/// `POST /api/v1/users`.
#[utoipa::path(
    post,
    path = "/users",
    tag = "users",
    request_body = NewUserRequest,
    responses(
        (status = 201, description = "Created", body = User),
        (status = 400, description = "Malformed body"),
        (status = 403, description = "Not an administrator"),
        (status = 409, description = "The username is taken"),
        (status = 422, description = "Invalid username or password"),
    )
)]
pub async fn create(
    State(state): State<AppState>,
    _admin: Admin,
    audit: AuditSlot,
    Json(request): Json<NewUserRequest>,
) -> Result<(StatusCode, Json<User>), ApiError> {
    let user = state
        .auth
        .create_user(
            &request.username,
            &request.password,
            request.role.unwrap_or(Role::Viewer),
        )
        .await?;
    audit.set_target(format!("user {}", user.id));
    Ok((StatusCode::CREATED, Json(user)))
}

/// `GET /api/v1/users/{id}`.
#[utoipa::path(
    get,
    path = "/users/{id}",
    tag = "users",
    params(("id" = i64, Path, description = "User id")),
    responses(
        (status = 200, description = "The user", body = User),
        (status = 403, description = "Not an administrator"),
        (status = 404, description = "No such user"),
    )
)]
pub async fn get(
    State(state): State<AppState>,
    _admin: Admin,
    Path(id): Path<i64>,
) -> Result<Json<User>, ApiError> {
    let user = state.store.call(move |conn| users::get(conn, id)).await?;
    Ok(Json(user))
}

/// `PATCH /api/v1/users/{id}`: changes role and/or disabled. Any change ends the user's
/// sessions. The last active administrator cannot be demoted or disabled (409).
#[utoipa::path(
    patch,
    path = "/users/{id}",
    tag = "users",
    params(("id" = i64, Path, description = "User id")),
    request_body = UserPatchRequest,
    responses(
        (status = 200, description = "The user as changed", body = User),
        (status = 400, description = "Malformed body"),
        (status = 403, description = "Not an administrator"),
        (status = 404, description = "No such user"),
        (status = 409, description = "It would leave no active administrator"),
    )
)]
pub async fn update(
    State(state): State<AppState>,
    _admin: Admin,
    audit: AuditSlot,
    Path(id): Path<i64>,
    Json(request): Json<UserPatchRequest>,
) -> Result<Json<User>, ApiError> {
    audit.set_changed(
        [
            request.role.as_ref().map(|_| "role"),
            request.disabled.map(|_| "disabled"),
        ]
        .into_iter()
        .flatten(),
    );
    let patch = UserPatch {
        role: request.role,
        disabled: request.disabled,
    };
    Ok(Json(state.auth.update_user(id, patch).await?))
}

/// `DELETE /api/v1/users/{id}`: deletes the user with their grants and API keys. Servers
/// they own stay (administrators still see them).
#[utoipa::path(
    delete,
    path = "/users/{id}",
    tag = "users",
    params(("id" = i64, Path, description = "User id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "Not an administrator"),
        (status = 404, description = "No such user"),
        (status = 409, description = "It would leave no active administrator"),
    )
)]
pub async fn delete(
    State(state): State<AppState>,
    _admin: Admin,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    state.auth.delete_user(id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/v1/users/{id}/password`: sets a user's password. Their sessions end.
#[utoipa::path(
    post,
    path = "/users/{id}/password",
    tag = "users",
    params(("id" = i64, Path, description = "User id")),
    request_body = PasswordReset,
    responses(
        (status = 204, description = "Set"),
        (status = 400, description = "Malformed body"),
        (status = 403, description = "Not an administrator"),
        (status = 404, description = "No such user"),
        (status = 422, description = "The password is too short"),
    )
)]
pub async fn reset_password(
    State(state): State<AppState>,
    _admin: Admin,
    Path(id): Path<i64>,
    Json(request): Json<PasswordReset>,
) -> Result<StatusCode, ApiError> {
    state.auth.reset_password(id, &request.password).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/v1/users/{id}/grants`.
#[utoipa::path(
    get,
    path = "/users/{id}/grants",
    tag = "users",
    params(("id" = i64, Path, description = "User id"), PageQuery),
    responses(
        (status = 200, description = "A page of the user's grants, by server id", body = Page<Grant>),
        (status = 400, description = "Bad cursor or parameters"),
        (status = 403, description = "Not an administrator"),
        (status = 404, description = "No such user"),
    )
)]
pub async fn list_grants(
    State(state): State<AppState>,
    _admin: Admin,
    Path(id): Path<i64>,
    Query(page): Query<PageQuery>,
) -> Result<Json<Page<Grant>>, ApiError> {
    let (after, limit) = (page.after()?, page.limit());
    let rows = state
        .store
        .call(move |conn| {
            users::get(conn, id)?;
            grants::list_for_user(conn, id, after, limit + 1)
        })
        .await?;
    Ok(Json(Page::from_rows(rows, limit, |g| g.server_id)))
}

/// Shared by `PUT` and `POST`; the caller was checked to be an administrator by the
/// [`Admin`] the handlers took.
async fn put_grant_inner(
    state: AppState,
    audit: AuditSlot,
    id: i64,
    request: GrantRequest,
) -> Result<Json<Grant>, ApiError> {
    let (server_id, role) = (request.server_id, request.role);
    let grant = state
        .store
        .call(move |conn| grants::put(conn, id, server_id, role))
        .await?;
    audit.set_target(format!("user {id} server {server_id}"));
    Ok(Json(grant))
}

/// `PUT /api/v1/users/{id}/grants`: grants (or changes) access to one server.
#[utoipa::path(
    put,
    path = "/users/{id}/grants",
    tag = "users",
    params(("id" = i64, Path, description = "User id")),
    request_body = GrantRequest,
    responses(
        (status = 200, description = "The grant", body = Grant),
        (status = 400, description = "Malformed body"),
        (status = 403, description = "Not an administrator"),
        (status = 404, description = "No such user or server"),
    )
)]
pub async fn put_grant(
    State(state): State<AppState>,
    _admin: Admin,
    audit: AuditSlot,
    Path(id): Path<i64>,
    Json(request): Json<GrantRequest>,
) -> Result<Json<Grant>, ApiError> {
    put_grant_inner(state, audit, id, request).await
}

/// `POST /api/v1/users/{id}/grants`: the same as `PUT`.
#[utoipa::path(
    post,
    path = "/users/{id}/grants",
    tag = "users",
    params(("id" = i64, Path, description = "User id")),
    request_body = GrantRequest,
    responses(
        (status = 200, description = "The grant", body = Grant),
        (status = 400, description = "Malformed body"),
        (status = 403, description = "Not an administrator"),
        (status = 404, description = "No such user or server"),
    )
)]
pub async fn post_grant(
    State(state): State<AppState>,
    _admin: Admin,
    audit: AuditSlot,
    Path(id): Path<i64>,
    Json(request): Json<GrantRequest>,
) -> Result<Json<Grant>, ApiError> {
    put_grant_inner(state, audit, id, request).await
}

/// `DELETE /api/v1/users/{id}/grants/{server_id}`.
#[utoipa::path(
    delete,
    path = "/users/{id}/grants/{server_id}",
    tag = "users",
    params(
        ("id" = i64, Path, description = "User id"),
        ("server_id" = i64, Path, description = "Server id"),
    ),
    responses(
        (status = 204, description = "Removed"),
        (status = 403, description = "Not an administrator"),
        (status = 404, description = "No such grant"),
    )
)]
pub async fn delete_grant(
    State(state): State<AppState>,
    _admin: Admin,
    Path((id, server_id)): Path<(i64, i64)>,
) -> Result<StatusCode, ApiError> {
    state
        .store
        .call(move |conn| grants::delete(conn, id, server_id))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
