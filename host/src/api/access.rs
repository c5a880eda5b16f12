//! Who may call what, said by a handler's signature: [`VisibleServer`] and [`ManagedServer`]
//! for `/servers/{id}/…`, [`Admin`] for the host's administration.
//!
//! Each authenticates the caller first (401), then applies one rule: a server the caller may
//! not see does not exist for them (404, the same answer as a server that never existed, so
//! ids cannot be probed); a server they may only view cannot be changed (403); administration
//! needs the administrator role (403). These run before the body is read, so nobody learns
//! what a body must look like without being allowed to send it. Handlers never repeat the
//! checks by hand.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use serde::Deserialize;

use super::audit::AuditSlot;
use super::extract::Path;
use super::{ApiError, AppState};
use crate::auth::{self, Access, Caller};
use crate::store::Server;

/// The `{id}` of a `/servers/{id}/…` route (other parameters of the route are the handler's).
#[derive(Deserialize)]
struct ServerId {
    id: i64,
}

/// A server the caller may see (404 otherwise), with what they may do with it.
pub struct VisibleServer {
    /// Who asked.
    pub caller: Caller,
    /// The server named by the path.
    pub server: Server,
    /// View or manage.
    pub access: Access,
}

impl FromRequestParts<AppState> for VisibleServer {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let caller = Caller::from_request_parts(parts, state).await?;
        let Path(ServerId { id }) = Path::from_request_parts(parts, state).await?;
        let access = auth::server_access(&state.store, &caller, id).await?;
        let server = state.servers.get(id).await?;
        Ok(VisibleServer {
            caller,
            server,
            access,
        })
    }
}

/// A server the caller may change: 404 when they may not see it, 403 when they may only view
/// it. A change is audited against the server unless the handler names a narrower target.
pub struct ManagedServer {
    /// Who asked.
    pub caller: Caller,
    /// The server named by the path.
    pub server: Server,
}

impl FromRequestParts<AppState> for ManagedServer {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let caller = Caller::from_request_parts(parts, state).await?;
        let Path(ServerId { id }) = Path::from_request_parts(parts, state).await?;
        if let Some(audit) = parts.extensions.get::<AuditSlot>() {
            audit.set_target(format!("server {id}"));
        }
        let access = auth::server_access(&state.store, &caller, id).await?;
        access.require_manage()?;
        let server = state.servers.get(id).await?;
        Ok(ManagedServer { caller, server })
    }
}

/// An administrator (403 for everyone else).
pub struct Admin(pub Caller);

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let caller = Caller::from_request_parts(parts, state).await?;
        caller.require_admin()?;
        Ok(Admin(caller))
    }
}
