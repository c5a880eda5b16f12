//! The audit trail of the API: a middleware writes one row for every mutating call (any method
//! but GET, HEAD and OPTIONS) to a known route — who, what, on what, from where, and the status
//! it ended with, successful or not — and `GET /audit` reads them back for administrators.
//!
//! Who: the [`Caller`] extractor fills the request's [`AuditSlot`]; handlers that learn the
//! actor otherwise (sign-in) or know a better target than the path (a created user's id) set
//! it themselves by taking the slot as an argument. The row never holds a request body, so no
//! password or key reaches it.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::extract::{ConnectInfo, FromRequestParts, MatchedPath, Request, State};
use axum::http::Method;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::Response;

use super::extract::{Json, Query};
use super::page::{Page, PageQuery};
use super::{ApiError, AppState};
use crate::auth::Caller;
use crate::store::User;
use crate::store::audit::{self, AuditEntry, NewAuditEntry};

#[derive(Debug, Default)]
struct Noted {
    user_id: Option<i64>,
    api_key_id: Option<i64>,
    actor: Option<String>,
    target: Option<String>,
}

/// What a handler can add to its call's audit row. Take it as an extractor argument; outside
/// an audited call (GET, or a router without the middleware) notes go nowhere.
#[derive(Debug, Clone, Default)]
pub struct AuditSlot(Arc<Mutex<Noted>>);

impl AuditSlot {
    fn noted(&self) -> std::sync::MutexGuard<'_, Noted> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Records who acted (the [`Caller`] extractor does this by itself).
    pub fn set_caller(&self, caller: &Caller) {
        let mut noted = self.noted();
        noted.user_id = Some(caller.user_id);
        noted.api_key_id = caller.api_key_id;
        noted.actor = Some(caller.username.clone());
    }

    /// Records who acted when they did not authenticate with a bearer credential (sign-in).
    pub fn set_user(&self, user: &User) {
        let mut noted = self.noted();
        noted.user_id = Some(user.id);
        noted.api_key_id = None;
        noted.actor = Some(user.username.clone());
    }

    /// Names what was acted on, e.g. `user 7` for a user just created (default: the path).
    pub fn set_target(&self, target: impl Into<String>) {
        self.noted().target = Some(target.into());
    }
}

impl<S: Send + Sync> FromRequestParts<S> for AuditSlot {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<AuditSlot>()
            .cloned()
            .unwrap_or_default())
    }
}

/// The middleware: passes reads through; for anything else, runs the handler and then writes
/// the audit row before answering, so an acknowledged change is always on record.
pub async fn record(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    if matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) {
        return next.run(request).await;
    }
    let route = request.extensions().get::<MatchedPath>().map_or_else(
        || request.uri().path().to_owned(),
        |p| p.as_str().to_owned(),
    );
    let action = format!("{} {route}", request.method());
    let path = request.uri().path().to_owned();
    let client = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or_else(|| "unknown".to_owned(), |info| info.0.to_string());
    let slot = AuditSlot::default();
    request.extensions_mut().insert(slot.clone());

    let response = next.run(request).await;

    let noted = std::mem::take(&mut *slot.noted());
    let entry = NewAuditEntry {
        user_id: noted.user_id,
        api_key_id: noted.api_key_id,
        actor: noted.actor,
        action,
        target: Some(noted.target.unwrap_or(path)),
        client,
        status: response.status().as_u16(),
    };
    if let Err(e) = state
        .store
        .call(move |conn| audit::insert(conn, &entry))
        .await
    {
        tracing::error!("writing an audit row failed: {e}");
    }
    response
}

/// `GET /api/v1/audit`: the audit log, newest first. Administrators only.
#[utoipa::path(
    get,
    path = "/audit",
    tag = "audit",
    params(PageQuery),
    responses(
        (status = 200, description = "A page of audit rows, newest first", body = Page<AuditEntry>),
        (status = 400, description = "Bad cursor or parameters"),
        (status = 403, description = "Not an administrator"),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(page): Query<PageQuery>,
) -> Result<Json<Page<AuditEntry>>, ApiError> {
    caller.require_admin()?;
    let (before, limit) = (page.after()?, page.limit());
    let rows = state
        .store
        .call(move |conn| audit::list(conn, before, limit + 1))
        .await?;
    Ok(Json(Page::from_rows(rows, limit, |row| row.id)))
}
