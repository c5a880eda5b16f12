//! The HTTP API under `/api/v1`: one router, one state, errors as RFC 9457 problems.
//!
//! Handlers translate between HTTP and the host's modules; they hold no logic of their own
//! and never block the runtime (adapter calls go through `spawn_blocking`).

mod adapters;
mod error;
mod system;

use axum::Router;
use axum::routing::get;

pub use error::ApiError;

use crate::adapters::AdapterRuntime;
use crate::jobs::JobQueueHandle;
use crate::secrets::SecretBox;
use crate::servers::Servers;
use crate::store::Store;

/// Cheap handles shared by every handler.
#[derive(Clone)]
pub struct AppState {
    /// The adapter runtime and registry.
    pub adapters: AdapterRuntime,
    /// The database.
    pub store: Store,
    /// Seals and opens secret settings.
    pub secrets: SecretBox,
    /// The game servers.
    pub servers: Servers,
    /// Queues jobs.
    pub jobs: JobQueueHandle,
}

/// The whole API.
pub fn router(state: AppState) -> Router {
    let v1 = Router::new()
        .route("/system/health", get(system::health))
        .route("/adapters", get(adapters::list))
        .route("/adapters/{id}", get(adapters::detail));
    Router::new()
        .route("/", get(dashboard))
        .nest("/api/v1", v1)
        .fallback(error::not_found)
        .with_state(state)
}

/// The dashboard page (`web/`, embedded). It talks to the API like any other client.
async fn dashboard() -> axum::response::Html<&'static str> {
    axum::response::Html(include_str!("../../../web/index.html"))
}

#[cfg(test)]
mod tests;
