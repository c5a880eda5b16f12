//! Server events: the history a user scrolls through — state changes, crashes, restarts, job
//! results. Append-only; rows outlive their server's deletion. `kind` is an open set of short
//! snake_case names (the common ones are in [`kind`]) so later features add kinds without a
//! migration.

use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::Serialize;

use super::text::json_column;
use super::{StoreError, sql_limit};

/// Event kinds the host writes today.
pub mod kind {
    /// The observed state changed.
    pub const STATE_CHANGED: &str = "state_changed";
    /// The process exited without being asked to.
    pub const CRASHED: &str = "crashed";
    /// The host restarted the server after a crash.
    pub const RESTARTED: &str = "restarted";
    /// A job on the server finished (succeeded, failed or cancelled).
    pub const JOB_FINISHED: &str = "job_finished";
    /// A player arrived.
    pub const PLAYER_JOINED: &str = "player_joined";
    /// A player left.
    pub const PLAYER_LEFT: &str = "player_left";
}

/// A stored event.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ServerEvent {
    /// Row id; also the order and the pagination cursor.
    pub id: i64,
    /// The server it happened to.
    pub server_id: i64,
    /// RFC 3339 UTC, written by the store.
    #[schema(format = DateTime)]
    pub at: String,
    /// What happened (see [`kind`]).
    pub kind: String,
    /// One human-readable sentence.
    pub message: String,
    /// Structured details for the dashboard, if any.
    pub data: Option<serde_json::Value>,
}

/// What appending an event needs.
#[derive(Debug, Clone)]
pub struct NewEvent {
    /// What happened (see [`kind`]).
    pub kind: String,
    /// One human-readable sentence.
    pub message: String,
    /// Structured details, if any.
    pub data: Option<serde_json::Value>,
}

impl NewEvent {
    /// An event without structured details.
    pub fn new(kind: impl Into<String>, message: impl Into<String>) -> Self {
        NewEvent {
            kind: kind.into(),
            message: message.into(),
            data: None,
        }
    }

    /// Adds structured details.
    pub fn with_data(mut self, data: serde_json::Value) -> Self {
        self.data = Some(data);
        self
    }
}

fn from_row(row: &Row<'_>) -> rusqlite::Result<ServerEvent> {
    Ok(ServerEvent {
        id: row.get("id")?,
        server_id: row.get("server_id")?,
        at: row.get("at")?,
        kind: row.get("kind")?,
        message: row.get("message")?,
        data: json_column(row, "data")?,
    })
}

/// Appends an event to a server's history (deleted servers included) and returns it.
pub fn append(
    conn: &Connection,
    server_id: i64,
    event: &NewEvent,
) -> Result<ServerEvent, StoreError> {
    let data = event
        .data
        .as_ref()
        .map(serde_json::to_string)
        .transpose()
        .map_err(|e| StoreError::Sqlite(rusqlite::Error::ToSqlConversionFailure(e.into())))?;
    let exists = conn
        .prepare_cached("SELECT 1 FROM servers WHERE id = ?1")?
        .query_row(params![server_id], |_| Ok(()))
        .optional()?
        .is_some();
    if !exists {
        return Err(StoreError::NotFound(format!("server {server_id}")));
    }
    let event = conn
        .prepare_cached(
            "INSERT INTO server_events (server_id, kind, message, data)
             VALUES (?1, ?2, ?3, ?4)
             RETURNING *",
        )?
        .query_row(
            params![server_id, event.kind, event.message, data],
            from_row,
        )?;
    Ok(event)
}

/// A server's events, newest first: up to `limit` with an id below `before_id` (the last id of
/// the previous page), or the newest ones when `before_id` is `None`.
pub fn list(
    conn: &Connection,
    server_id: i64,
    before_id: Option<i64>,
    limit: u32,
) -> Result<Vec<ServerEvent>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT * FROM server_events
         WHERE server_id = ?1 AND id < ?2
         ORDER BY id DESC
         LIMIT ?3",
    )?;
    let events = stmt
        .query_map(
            params![server_id, before_id.unwrap_or(i64::MAX), sql_limit(limit)],
            from_row,
        )?
        .collect::<Result<_, _>>()?;
    Ok(events)
}
