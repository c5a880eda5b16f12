//! API keys for automation. The store keeps a key's public prefix and the SHA-256 of the whole
//! key, never the key itself; generating and hashing keys is `auth`'s business.

use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::Serialize;

use super::text::now;
use super::users::Role;
use super::{StoreError, expect_changed, sql_limit};

/// A stored API key, without its hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ApiKey {
    /// Row id.
    pub id: i64,
    /// The owner.
    pub user_id: i64,
    /// What the owner called it.
    pub name: String,
    /// The key's public beginning, to recognise it in lists.
    pub prefix: String,
    /// The most the key may do (also capped by the owner's current role).
    pub role: Role,
    /// RFC 3339 UTC.
    #[schema(format = DateTime)]
    pub created_at: String,
    /// RFC 3339 UTC, updated at most about once a minute.
    #[schema(format = DateTime)]
    pub last_used_at: Option<String>,
    /// RFC 3339 UTC; a revoked key stops working at once.
    #[schema(format = DateTime)]
    pub revoked_at: Option<String>,
}

/// What creating a key needs.
#[derive(Debug, Clone)]
pub struct NewApiKey {
    /// The owner.
    pub user_id: i64,
    /// A name for people.
    pub name: String,
    /// The public beginning of the key.
    pub prefix: String,
    /// SHA-256 of the whole key.
    pub hash: [u8; 32],
    /// The key's role (checked against the owner's by the caller).
    pub role: Role,
}

/// What authenticating with a key needs: the key and its owner's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyCredentials {
    /// The key's id.
    pub key_id: i64,
    /// The key's role.
    pub key_role: Role,
    /// Whether the key is revoked.
    pub revoked: bool,
    /// The owner's id.
    pub user_id: i64,
}

const COLUMNS: &str = "id, user_id, name, prefix, role, created_at, last_used_at, revoked_at";

fn from_row(row: &Row<'_>) -> rusqlite::Result<ApiKey> {
    Ok(ApiKey {
        id: row.get("id")?,
        user_id: row.get("user_id")?,
        name: row.get("name")?,
        prefix: row.get("prefix")?,
        role: row.get("role")?,
        created_at: row.get("created_at")?,
        last_used_at: row.get("last_used_at")?,
        revoked_at: row.get("revoked_at")?,
    })
}

/// Stores a new key.
pub fn insert(conn: &Connection, new: &NewApiKey) -> Result<ApiKey, StoreError> {
    conn.query_row(
        &format!(
            "INSERT INTO api_keys (user_id, name, prefix, hash, role) VALUES (?1, ?2, ?3, ?4, ?5)
             RETURNING {COLUMNS}"
        ),
        params![new.user_id, new.name, new.prefix, new.hash, new.role],
        from_row,
    )
    .map_err(|e| super::users::unique_conflict(e, "an identical key exists"))
}

/// A key by id.
pub fn get(conn: &Connection, id: i64) -> Result<ApiKey, StoreError> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM api_keys WHERE id = ?1"),
        params![id],
        from_row,
    )
    .optional()?
    .ok_or_else(|| StoreError::NotFound(format!("API key {id}")))
}

/// The key whose SHA-256 is `hash`, if any.
pub fn find_by_hash(
    conn: &Connection,
    hash: &[u8; 32],
) -> Result<Option<KeyCredentials>, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT id, role, revoked_at IS NOT NULL, user_id FROM api_keys WHERE hash = ?1",
        )?
        .query_row(params![hash], |row| {
            Ok(KeyCredentials {
                key_id: row.get(0)?,
                key_role: row.get(1)?,
                revoked: row.get(2)?,
                user_id: row.get(3)?,
            })
        })
        .optional()?)
}

/// Up to `limit` keys with an id above `after`, by id: of `user_id`, or of everyone.
pub fn list(
    conn: &Connection,
    user_id: Option<i64>,
    after: Option<i64>,
    limit: u32,
) -> Result<Vec<ApiKey>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM api_keys
         WHERE (?1 IS NULL OR user_id = ?1) AND id > ?2 ORDER BY id LIMIT ?3"
    ))?;
    let keys = stmt
        .query_map(
            params![user_id, after.unwrap_or(0), sql_limit(limit)],
            from_row,
        )?
        .collect::<Result<_, _>>()?;
    Ok(keys)
}

/// Revokes a key (revoking twice keeps the first time).
pub fn revoke(conn: &Connection, id: i64) -> Result<ApiKey, StoreError> {
    conn.query_row(
        &format!(
            "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, {}) WHERE id = ?1
             RETURNING {COLUMNS}",
            now!()
        ),
        params![id],
        from_row,
    )
    .optional()?
    .ok_or_else(|| StoreError::NotFound(format!("API key {id}")))
}

/// Records that a key was just used.
pub fn touch(conn: &Connection, id: i64) -> Result<(), StoreError> {
    let changed = conn.execute(
        concat!(
            "UPDATE api_keys SET last_used_at = ",
            now!(),
            " WHERE id = ?1"
        ),
        params![id],
    )?;
    expect_changed(changed, || format!("API key {id}"))
}
