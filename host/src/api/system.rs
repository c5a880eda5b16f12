//! `/system/*`: liveness and facts about the host.

use axum::Json;
use serde::Serialize;

/// `GET /system/health` body.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Health {
    /// Always "ok" when the host answers.
    status: &'static str,
    /// Host version.
    version: &'static str,
}

/// `GET /api/v1/system/health`: answers as soon as the host serves requests. No auth.
#[utoipa::path(
    get,
    path = "/system/health",
    tag = "system",
    security(()),
    responses((status = 200, description = "The host is up", body = Health))
)]
pub async fn health() -> Json<Health> {
    Json(Health {
        status: "ok",
        version: env!("CARGO_PKG_VERSION"),
    })
}

/// `GET /system/info` body.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Info {
    /// Host version.
    version: &'static str,
    /// Seconds since this host process started serving.
    uptime_secs: u64,
    /// Adapters loaded (all versions).
    adapters: usize,
    /// Servers the caller may see: observed state → how many.
    servers: std::collections::BTreeMap<String, usize>,
    /// The host's latest resource figures (CPU, memory, disk of the data directory), by
    /// name; administrators only, empty until the first sample.
    host: std::collections::BTreeMap<String, f64>,
}

/// When this process started serving, for `uptime_secs`.
static STARTED: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();

/// Marks the start of serving (called once by the router).
pub fn mark_started() {
    let _ = STARTED.set(std::time::Instant::now());
}

/// `GET /api/v1/system/info`: version, uptime, adapters, the caller's servers by state, and
/// the host's resource figures. Any signed-in role.
#[utoipa::path(
    get,
    path = "/system/info",
    tag = "system",
    responses((status = 200, description = "Facts about the host", body = Info))
)]
pub async fn info(
    axum::extract::State(state): axum::extract::State<super::AppState>,
    caller: crate::auth::Caller,
) -> Result<Json<Info>, super::ApiError> {
    let who = caller.clone();
    let (servers, host) = state
        .store
        .call(move |conn| {
            let visibility = crate::auth::Visibility::load(conn, &who)?;
            let mut by_state = std::collections::BTreeMap::new();
            for server in crate::store::servers::list_summaries(conn)? {
                if visibility.access(server.id, server.owner_id).is_some() {
                    *by_state.entry(server.actual_state.to_string()).or_insert(0) += 1;
                }
            }
            let host = crate::store::metrics::latest(conn, crate::store::metrics::HOST)?
                .into_iter()
                .map(|s| (s.name, s.value))
                .collect();
            Ok((by_state, host))
        })
        .await?;
    Ok(Json(Info {
        version: env!("CARGO_PKG_VERSION"),
        uptime_secs: STARTED.get().map_or(0, |s| s.elapsed().as_secs()),
        adapters: state.adapters.list().len(),
        servers,
        host: if caller.is_admin() {
            host
        } else {
            Default::default()
        },
    }))
}
