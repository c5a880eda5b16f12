//! Per-server grants: access to one server for a user who neither owns it nor is an
//! administrator. The store records grants; `auth` decides what they allow (a grant never
//! lifts a user above their own role).

use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::Serialize;

use super::text::text_enum;
use super::{StoreError, expect_changed, sql_limit};

text_enum! {
    /// What a grant allows on its server.
    #[derive(utoipa::ToSchema)]
    pub enum GrantRole as "grant role" {
        /// Start, stop, configure and use the console of the server.
        Operator = "operator",
        /// See the server, its logs and players.
        Viewer = "viewer",
    }
}

/// A stored grant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Grant {
    /// The user granted access.
    pub user_id: i64,
    /// The server.
    pub server_id: i64,
    /// What the grant allows.
    pub role: GrantRole,
    /// RFC 3339 UTC.
    #[schema(format = DateTime)]
    pub created_at: String,
}

fn from_row(row: &Row<'_>) -> rusqlite::Result<Grant> {
    Ok(Grant {
        user_id: row.get("user_id")?,
        server_id: row.get("server_id")?,
        role: row.get("role")?,
        created_at: row.get("created_at")?,
    })
}

/// Grants `user_id` `role` on `server_id`, replacing an earlier grant of the pair. The user
/// and the (not deleted) server must exist.
pub fn put(
    conn: &Connection,
    user_id: i64,
    server_id: i64,
    role: GrantRole,
) -> Result<Grant, StoreError> {
    super::users::get(conn, user_id)?;
    super::servers::get(conn, server_id)?;
    let grant = conn.query_row(
        "INSERT INTO server_grants (user_id, server_id, role) VALUES (?1, ?2, ?3)
         ON CONFLICT (user_id, server_id) DO UPDATE SET role = excluded.role
         RETURNING user_id, server_id, role, created_at",
        params![user_id, server_id, role],
        from_row,
    )?;
    Ok(grant)
}

/// Removes the grant of `user_id` on `server_id`.
pub fn delete(conn: &Connection, user_id: i64, server_id: i64) -> Result<(), StoreError> {
    let changed = conn.execute(
        "DELETE FROM server_grants WHERE user_id = ?1 AND server_id = ?2",
        params![user_id, server_id],
    )?;
    expect_changed(changed, || {
        format!("grant of server {server_id} to user {user_id}")
    })
}

/// The grant of `user_id` on `server_id`, if any.
pub fn get(conn: &Connection, user_id: i64, server_id: i64) -> Result<Option<Grant>, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT user_id, server_id, role, created_at FROM server_grants
             WHERE user_id = ?1 AND server_id = ?2",
        )?
        .query_row(params![user_id, server_id], from_row)
        .optional()?)
}

/// Up to `limit` grants of `user_id` on servers with an id above `after`, by server id.
pub fn list_for_user(
    conn: &Connection,
    user_id: i64,
    after: Option<i64>,
    limit: u32,
) -> Result<Vec<Grant>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT user_id, server_id, role, created_at FROM server_grants
         WHERE user_id = ?1 AND server_id > ?2 ORDER BY server_id LIMIT ?3",
    )?;
    let grants = stmt
        .query_map(
            params![user_id, after.unwrap_or(0), sql_limit(limit)],
            from_row,
        )?
        .collect::<Result<_, _>>()?;
    Ok(grants)
}

/// Every grant of `user_id` as (server id, role): what a server list filters with.
pub fn all_for_user(conn: &Connection, user_id: i64) -> Result<Vec<(i64, GrantRole)>, StoreError> {
    let mut stmt =
        conn.prepare_cached("SELECT server_id, role FROM server_grants WHERE user_id = ?1")?;
    let grants = stmt
        .query_map(params![user_id], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<Result<_, _>>()?;
    Ok(grants)
}
