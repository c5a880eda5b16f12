//! Game runtimes: what the host knows of each game's shared install (`runtimes/<adapter>/`)
//! — which job last installed or updated it, when, and the build SteamCMD reported.
//!
//! A row is written only when an install or update into the shared directory succeeded;
//! the jobs that do it live in [`super::jobs`] (`runtime_adapter`). This module never looks
//! at the files.

use rusqlite::{Connection, OptionalExtension, params};

use super::StoreError;
use super::text::now;

/// A game runtime that an install or update reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Runtime {
    /// The adapter (game) whose install it is.
    pub adapter_id: String,
    /// The job whose install or update succeeded last.
    pub job_id: i64,
    /// When (RFC 3339 UTC).
    pub updated_at: String,
    /// The Steam app SteamCMD installed, if the plan had a SteamCMD step.
    pub app_id: Option<u32>,
    /// The build SteamCMD's app manifest reported for it, if any.
    pub build_id: Option<String>,
}

/// Records that `job_id` installed or updated the runtime of `adapter_id` now, with the
/// build found (if any), replacing what was recorded before.
pub fn record(
    conn: &Connection,
    adapter_id: &str,
    job_id: i64,
    app_id: Option<u32>,
    build_id: Option<&str>,
) -> Result<Runtime, StoreError> {
    let runtime = conn.query_row(
        concat!(
            "INSERT INTO runtimes (adapter_id, job_id, updated_at, app_id, build_id)
             VALUES (?1, ?2, ",
            now!(),
            ", ?3, ?4)
             ON CONFLICT (adapter_id) DO UPDATE SET
                 job_id = excluded.job_id, updated_at = excluded.updated_at,
                 app_id = excluded.app_id, build_id = excluded.build_id
             RETURNING adapter_id, job_id, updated_at, app_id, build_id"
        ),
        params![adapter_id, job_id, app_id, build_id],
        from_row,
    )?;
    Ok(runtime)
}

/// The runtime of `adapter_id`, if an install or update ever reached it.
pub fn get(conn: &Connection, adapter_id: &str) -> Result<Option<Runtime>, StoreError> {
    Ok(conn
        .query_row(
            "SELECT adapter_id, job_id, updated_at, app_id, build_id
             FROM runtimes WHERE adapter_id = ?1",
            params![adapter_id],
            from_row,
        )
        .optional()?)
}

fn from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Runtime> {
    Ok(Runtime {
        adapter_id: row.get("adapter_id")?,
        job_id: row.get("job_id")?,
        updated_at: row.get("updated_at")?,
        app_id: row.get("app_id")?,
        build_id: row.get("build_id")?,
    })
}
