//! `/api-keys`: keys for automation. Anyone signed in manages their own keys; administrators
//! may list (`?all=true`) and revoke everyone's. A key's secret is in the creation answer
//! only.

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::audit::AuditSlot;
use super::extract::{Json, Path, Query};
use super::page::{Page, PageQuery};
use super::{ApiError, AppState};
use crate::auth::Caller;
use crate::store::Role;
use crate::store::api_keys::{self, ApiKey};

/// `POST /api-keys` body.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewApiKeyRequest {
    /// A name to recognise the key by (1 to 100 characters).
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]*$"
    )]
    pub name: String,
    /// The most the key may do; at most the caller's role, which is the default.
    pub role: Option<Role>,
}

/// `POST /api-keys` answer: the only time the key itself is shown.
#[derive(Serialize, utoipa::ToSchema)]
pub struct CreatedApiKey {
    /// The key: send it as `Authorization: Bearer <key>`. It cannot be shown again.
    pub key: String,
    /// The stored key.
    pub api_key: ApiKey,
}

/// `GET /api-keys` query.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ApiKeyListQuery {
    /// Administrators only: everyone's keys instead of their own.
    #[serde(default)]
    pub all: bool,
    /// Items per page: 1 to 500, default 50.
    #[param(minimum = 1, maximum = 500)]
    #[serde(default, deserialize_with = "super::page::bounded::<_, 1, 500>")]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// `GET /api/v1/api-keys`: the caller's keys (or, for administrators with `all=true`,
/// everyone's), revoked ones included.
#[utoipa::path(
    get,
    path = "/api-keys",
    tag = "api-keys",
    params(ApiKeyListQuery),
    responses(
        (status = 200, description = "A page of keys, by id", body = Page<ApiKey>),
        (status = 400, description = "Bad cursor or parameters"),
        (status = 403, description = "`all=true` from someone who is not an administrator"),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<ApiKeyListQuery>,
) -> Result<Json<Page<ApiKey>>, ApiError> {
    if query.all {
        caller.require_admin()?;
    }
    let page = PageQuery {
        limit: query.limit,
        cursor: query.cursor,
    };
    let (after, limit) = (page.after()?, page.limit());
    let owner = (!query.all).then_some(caller.user_id);
    let rows = state
        .store
        .call(move |conn| api_keys::list(conn, owner, after, limit + 1))
        .await?;
    Ok(Json(Page::from_rows(rows, limit, |k| k.id)))
}

/// `POST /api/v1/api-keys`: creates a key for the caller.
#[utoipa::path(
    post,
    path = "/api-keys",
    tag = "api-keys",
    request_body = NewApiKeyRequest,
    responses(
        (status = 201, description = "Created; the key is in this answer only", body = CreatedApiKey),
        (status = 400, description = "Malformed body"),
        (status = 422, description = "Bad name, or a role above the caller's"),
    )
)]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    audit: AuditSlot,
    Json(request): Json<NewApiKeyRequest>,
) -> Result<(StatusCode, Json<CreatedApiKey>), ApiError> {
    let (api_key, key) = state
        .auth
        .create_api_key(&caller, &request.name, request.role)
        .await?;
    audit.set_target(format!("api key {}", api_key.id));
    Ok((StatusCode::CREATED, Json(CreatedApiKey { key, api_key })))
}

/// `DELETE /api/v1/api-keys/{id}`: revokes a key at once. Someone else's key is 404 unless
/// the caller is an administrator.
#[utoipa::path(
    delete,
    path = "/api-keys/{id}",
    tag = "api-keys",
    params(("id" = i64, Path, description = "API key id")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 404, description = "No such key (or not the caller's)"),
    )
)]
pub async fn revoke(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    state.auth.revoke_api_key(&caller, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
