//! The audit log: one row per mutating API call — who (user or API key), what (method and
//! path), on what, from where, and how it ended. Rows are added, never edited, except that a
//! burst of refused calls is counted on its first row ([`add_repeats`]); retention deletes
//! old rows.

use rusqlite::{Connection, Row, params};
use serde::Serialize;

use super::{StoreError, sql_limit};

/// A stored audit row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct AuditEntry {
    /// Row id; higher is later.
    pub id: i64,
    /// RFC 3339 UTC.
    #[schema(format = DateTime)]
    pub at: String,
    /// The user who acted, when known.
    pub user_id: Option<i64>,
    /// The API key used, when one was.
    pub api_key_id: Option<i64>,
    /// The user's name at the time.
    pub actor: Option<String>,
    /// Method and path, e.g. `POST /api/v1/servers/3/actions/kill`.
    pub action: String,
    /// What was acted on.
    pub target: Option<String>,
    /// More about the call: the fields a change named, the username a failed sign-in tried.
    pub detail: Option<String>,
    /// The client's address, or `unknown`.
    pub client: String,
    /// The HTTP status of the answer.
    pub status: u16,
    /// How many calls this row stands for: more than 1 for a burst of refused (429) calls
    /// from one address, recorded once.
    pub repeats: u32,
}

/// What recording a call needs.
#[derive(Debug, Clone, Default)]
pub struct NewAuditEntry {
    /// The user who acted, when known.
    pub user_id: Option<i64>,
    /// The API key used, when one was.
    pub api_key_id: Option<i64>,
    /// The user's name.
    pub actor: Option<String>,
    /// Method and path.
    pub action: String,
    /// What was acted on.
    pub target: Option<String>,
    /// More about the call (names only, never secret values).
    pub detail: Option<String>,
    /// The client's address, or `unknown`.
    pub client: String,
    /// The HTTP status of the answer.
    pub status: u16,
}

fn from_row(row: &Row<'_>) -> rusqlite::Result<AuditEntry> {
    Ok(AuditEntry {
        id: row.get("id")?,
        at: row.get("at")?,
        user_id: row.get("user_id")?,
        api_key_id: row.get("api_key_id")?,
        actor: row.get("actor")?,
        action: row.get("action")?,
        target: row.get("target")?,
        detail: row.get("detail")?,
        client: row.get("client")?,
        status: row.get("status")?,
        repeats: row.get("repeats")?,
    })
}

/// Appends a row and returns its id.
pub fn insert(conn: &Connection, entry: &NewAuditEntry) -> Result<i64, StoreError> {
    conn.prepare_cached(
        "INSERT INTO audit_log (user_id, api_key_id, actor, action, target, detail, client, status)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        entry.user_id,
        entry.api_key_id.filter(|_| entry.user_id.is_some()),
        entry.actor,
        entry.action,
        entry.target,
        entry.detail,
        entry.client,
        entry.status,
    ])?;
    Ok(conn.last_insert_rowid())
}

/// Counts `more` further calls on row `id` (a burst of refused calls recorded once).
pub fn add_repeats(conn: &Connection, id: i64, more: u32) -> Result<(), StoreError> {
    conn.prepare_cached("UPDATE audit_log SET repeats = repeats + ?2 WHERE id = ?1")?
        .execute(params![id, more])?;
    Ok(())
}

/// Up to `limit` rows older than `before` (an id), newest first.
pub fn list(
    conn: &Connection,
    before: Option<i64>,
    limit: u32,
) -> Result<Vec<AuditEntry>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, at, user_id, api_key_id, actor, action, target, detail, client, status, repeats
         FROM audit_log WHERE id < ?1 ORDER BY id DESC LIMIT ?2",
    )?;
    let rows = stmt
        .query_map(
            params![before.unwrap_or(i64::MAX), sql_limit(limit)],
            from_row,
        )?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}
