//! The HTTP API under `/api/v1`: one router, one state, errors as RFC 9457 problems, an
//! OpenAPI document generated from the handlers.
//!
//! Handlers translate between HTTP and the host's modules; they hold no logic of their own
//! and never block the runtime (adapter calls and password hashing go through
//! `spawn_blocking`). Every endpoint takes a [`Caller`](crate::auth::Caller) — and so needs a
//! bearer token or API key — except health, sign-in and the OpenAPI document; who may do what
//! is said by the signature: `/servers/{id}/…` handlers take an [`access::VisibleServer`] or
//! [`access::ManagedServer`], administration takes an [`access::Admin`]. Bodies and
//! parameters use the extractors of [`extract`], so malformed input is always a 4xx problem.
//! Every mutating call is written to the audit log by [`audit::record`].
//!
//! Layout: `error` (problems), `extract` (extractors), `access` (authorisation extractors),
//! `page` (pagination), `audit`,
//! `openapi`, `web` (the embedded dashboard and the security headers of every answer), and
//! one module per resource.

mod access;
mod adapters;
mod api_keys;
pub mod audit;
mod auth;
mod bans;
mod error;
pub mod extract;
mod jobs;
mod missions;
mod mods;
pub mod openapi;
pub mod page;
pub mod prometheus;
mod runtimes;
mod server_live;
mod servers;
pub mod stream;
mod system;
mod users;
pub mod web;
pub mod ws;

use std::sync::OnceLock;

use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRef};
use axum::routing::get;
use utoipa::OpenApi as _;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use error::{ApiError, FieldError, Problem};

use crate::adapters::AdapterRuntime;
use crate::auth::Auth;
use crate::jobs::JobQueueHandle;
use crate::secrets::SecretBox;
use crate::servers::Servers;
use crate::store::Store;

/// The largest request body any endpoint accepts unless it sets its own limit (413 above).
pub const BODY_LIMIT: usize = 1 << 20;

/// Cheap handles shared by every handler.
#[derive(Clone, FromRef)]
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
    /// Users, sessions, API keys: authenticates callers.
    pub auth: Auth,
}

/// Every documented endpoint of `/api/v1`, with paths relative to it. Register a new
/// endpoint here with `.routes(routes!(handler))` (handlers sharing a path may share one
/// `routes!`).
fn v1_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(system::health))
        .routes(routes!(system::info))
        .routes(routes!(openapi_json))
        .routes(routes!(ws::schema_json))
        .routes(routes!(auth::login))
        .routes(routes!(auth::session_login))
        .routes(routes!(auth::refresh))
        .routes(routes!(auth::logout))
        .routes(routes!(auth::me))
        .routes(routes!(auth::change_password))
        .routes(routes!(users::list, users::create))
        .routes(routes!(users::get, users::update, users::delete))
        .routes(routes!(users::reset_password))
        .routes(routes!(
            users::list_grants,
            users::put_grant,
            users::post_grant
        ))
        .routes(routes!(users::delete_grant))
        .routes(routes!(api_keys::list, api_keys::create))
        .routes(routes!(api_keys::revoke))
        .routes(routes!(audit::list))
        .routes(routes!(adapters::list, adapters::upload))
        .routes(routes!(adapters::detail, adapters::remove))
        .routes(routes!(runtimes::get_runtime))
        .routes(routes!(runtimes::install_runtime))
        .routes(routes!(runtimes::update_runtime))
        .routes(routes!(servers::list, servers::create))
        .routes(routes!(servers::get, servers::update, servers::delete))
        .routes(routes!(servers::action))
        .routes(routes!(servers::get_config, servers::put_config))
        .routes(routes!(missions::list_missions))
        .routes(routes!(missions::upload_mission, missions::delete_mission))
        .routes(routes!(missions::put_rotation))
        .routes(routes!(mods::list_mods))
        .routes(routes!(mods::put_enabled))
        .routes(routes!(mods::enable_mod))
        .routes(routes!(mods::disable_mod))
        .routes(routes!(mods::put_workshop))
        .routes(routes!(server_live::online))
        .routes(routes!(server_live::history))
        .routes(routes!(server_live::kick))
        .routes(routes!(bans::ban_player))
        .routes(routes!(bans::list, bans::add))
        .routes(routes!(bans::remove))
        .routes(routes!(server_live::console))
        .routes(routes!(server_live::logs))
        .routes(routes!(server_live::metrics))
        .routes(routes!(server_live::server_events))
        .routes(routes!(jobs::list))
        .routes(routes!(jobs::get))
        .routes(routes!(jobs::cancel))
        .routes(routes!(jobs::logs))
        .routes(routes!(stream::server_log_stream))
}

/// The routes and the finished OpenAPI document.
fn routes_and_document() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let (routes, mut document) = OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .nest("/api/v1", v1_routes())
        .split_for_parts();
    openapi::finish(&mut document);
    (routes, document)
}

/// The OpenAPI document of the whole API, as served.
pub fn openapi_document() -> &'static serde_json::Value {
    static DOCUMENT: OnceLock<serde_json::Value> = OnceLock::new();
    DOCUMENT.get_or_init(|| {
        let mut document = serde_json::to_value(routes_and_document().1).unwrap_or_default();
        openapi::finish_json(&mut document);
        document
    })
}

/// The whole API.
pub fn router(state: AppState) -> Router {
    system::mark_started();
    let (v1, _) = routes_and_document();
    let v1 = v1
        .method_not_allowed_fallback(error::method_not_allowed)
        .route_layer(axum::middleware::from_fn_with_state(
            audit::Recorder::new(state.store.clone()),
            audit::record,
        ))
        .layer(DefaultBodyLimit::max(BODY_LIMIT));
    Router::new()
        .route("/api/v1/ws", get(ws::handler))
        .route("/metrics", get(prometheus::scrape))
        .merge(v1)
        .fallback(web::fallback)
        .with_state(state)
        // Server-sent events and WebSocket upgrades are left uncompressed by the default
        // predicate (event streams by content type, upgrades have no body).
        .layer(tower_http::compression::CompressionLayer::new())
        .layer(axum::middleware::from_fn(web::security_headers))
}

/// `GET /api/v1/openapi.json`: this API's OpenAPI 3.1 document. No auth.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "system",
    security(()),
    responses((status = 200, description = "The OpenAPI document", body = openapi::JsonDocument))
)]
async fn openapi_json() -> axum::Json<&'static serde_json::Value> {
    axum::Json(openapi_document())
}

#[cfg(test)]
mod tests;
