//! Users: who may sign in, with what role, and the token generation that revokes their
//! sessions. The store keeps only argon2id hashes (hashing happens in `auth`, off the store's
//! thread) and never hands a hash to anything but password verification.
//!
//! Deleting is for real (grants and API keys go with the user); ids are never reused, so the
//! audit log and `servers.owner_id` keep pointing at nobody rather than at someone new.

use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::Serialize;

use super::text::{now, text_enum};
use super::{StoreError, expect_changed, sql_limit};

text_enum! {
    /// What a user (or an API key) may do across the host.
    #[derive(utoipa::ToSchema)]
    pub enum Role as "role" {
        /// Everything: users, adapters, runtime installs, every server.
        Admin = "admin",
        /// Creates servers and manages the ones they own or are granted.
        Operator = "operator",
        /// Read-only on servers granted to them.
        Viewer = "viewer",
    }
}

impl Role {
    /// Position in the order viewer < operator < admin.
    pub fn rank(self) -> u8 {
        match self {
            Role::Viewer => 0,
            Role::Operator => 1,
            Role::Admin => 2,
        }
    }

    /// Whether this role includes everything `other` may do.
    pub fn at_least(self, other: Role) -> bool {
        self.rank() >= other.rank()
    }

    /// The lesser of two roles (an API key never exceeds its owner).
    pub fn min(self, other: Role) -> Role {
        if self.rank() <= other.rank() {
            self
        } else {
            other
        }
    }
}

/// A stored user, without the password hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct User {
    /// Row id.
    pub id: i64,
    /// Sign-in name, unique regardless of case.
    pub username: String,
    /// Host-wide role.
    pub role: Role,
    /// A disabled user cannot sign in and their tokens and keys stop working.
    pub disabled: bool,
    /// Tokens carry this; bumping it revokes every token issued before.
    #[serde(skip)]
    pub token_generation: i64,
    /// RFC 3339 UTC.
    #[schema(format = DateTime)]
    pub created_at: String,
    /// RFC 3339 UTC, bumped by every change.
    #[schema(format = DateTime)]
    pub updated_at: String,
}

/// What creating a user needs.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// Sign-in name.
    pub username: String,
    /// argon2id PHC string (hashed by the caller, off the store's thread).
    pub password_hash: String,
    /// Host-wide role.
    pub role: Role,
}

/// A change to a user's role or disabled flag; `None` leaves a value as it is.
#[derive(Debug, Clone, Copy, Default)]
pub struct UserPatch {
    /// New role.
    pub role: Option<Role>,
    /// New disabled flag.
    pub disabled: Option<bool>,
}

const COLUMNS: &str = "id, username, role, disabled, token_generation, created_at, updated_at";

fn from_row(row: &Row<'_>) -> rusqlite::Result<User> {
    Ok(User {
        id: row.get("id")?,
        username: row.get("username")?,
        role: row.get("role")?,
        disabled: row.get("disabled")?,
        token_generation: row.get("token_generation")?,
        created_at: row.get("created_at")?,
        updated_at: row.get("updated_at")?,
    })
}

fn not_found(id: i64) -> impl FnOnce() -> String {
    move || format!("user {id}")
}

/// Maps a UNIQUE violation to [`StoreError::Conflict`] with `message`.
pub(crate) fn unique_conflict(error: rusqlite::Error, message: impl Into<String>) -> StoreError {
    match error.sqlite_error_code() {
        Some(rusqlite::ErrorCode::ConstraintViolation)
            if error.to_string().contains("UNIQUE constraint failed") =>
        {
            StoreError::Conflict(message.into())
        }
        _ => StoreError::Sqlite(error),
    }
}

/// Creates a user. A name already taken (in any case) is a [`StoreError::Conflict`].
pub fn insert(conn: &Connection, new: &NewUser) -> Result<User, StoreError> {
    conn.query_row(
        &format!(
            "INSERT INTO users (username, password_hash, role) VALUES (?1, ?2, ?3)
             RETURNING {COLUMNS}"
        ),
        params![new.username, new.password_hash, new.role],
        from_row,
    )
    .map_err(|e| unique_conflict(e, format!("the username `{}` is taken", new.username)))
}

/// Creates `new` only if there are no users at all; `None` when some exist. Used for the
/// first administrator, so a second host start (or a racing `user create`) adds nobody.
pub fn insert_if_none(conn: &mut Connection, new: &NewUser) -> Result<Option<User>, StoreError> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    if count(&tx)? > 0 {
        return Ok(None);
    }
    let user = insert(&tx, new)?;
    tx.commit()?;
    Ok(Some(user))
}

/// A user by id.
pub fn get(conn: &Connection, id: i64) -> Result<User, StoreError> {
    conn.prepare_cached(&format!("SELECT {COLUMNS} FROM users WHERE id = ?1"))?
        .query_row(params![id], from_row)
        .optional()?
        .ok_or_else(|| StoreError::NotFound(not_found(id)()))
}

/// A user and their password hash, by name in any case; `None` when there is no such user.
/// Only password verification may use the hash.
pub fn credentials(
    conn: &Connection,
    username: &str,
) -> Result<Option<(User, String)>, StoreError> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS}, password_hash FROM users WHERE username = ?1"
        ))?
        .query_row(params![username], |row| {
            Ok((from_row(row)?, row.get("password_hash")?))
        })
        .optional()?)
}

/// The password hash of user `id`.
pub fn password_hash(conn: &Connection, id: i64) -> Result<String, StoreError> {
    conn.query_row(
        "SELECT password_hash FROM users WHERE id = ?1",
        params![id],
        |row| row.get(0),
    )
    .optional()?
    .ok_or_else(|| StoreError::NotFound(not_found(id)()))
}

/// Up to `limit` users with an id above `after`, by id.
pub fn list(conn: &Connection, after: Option<i64>, limit: u32) -> Result<Vec<User>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM users WHERE id > ?1 ORDER BY id LIMIT ?2"
    ))?;
    let users = stmt
        .query_map(params![after.unwrap_or(0), sql_limit(limit)], from_row)?
        .collect::<Result<_, _>>()?;
    Ok(users)
}

/// How many users exist.
pub fn count(conn: &Connection) -> Result<i64, StoreError> {
    Ok(conn.query_row("SELECT COUNT(*) FROM users", [], |row| row.get(0))?)
}

/// How many administrators can still sign in.
pub fn count_active_admins(conn: &Connection) -> Result<i64, StoreError> {
    Ok(conn.query_row(
        "SELECT COUNT(*) FROM users WHERE role = 'admin' AND disabled = 0",
        [],
        |row| row.get(0),
    )?)
}

/// Whether changing or removing `id` would leave no administrator who can sign in.
fn would_orphan(
    conn: &Connection,
    user: &User,
    after: Option<UserPatch>,
) -> Result<bool, StoreError> {
    let active_admin = user.role == Role::Admin && !user.disabled;
    if !active_admin {
        return Ok(false);
    }
    let still_active_admin = after.is_some_and(|patch| {
        patch.role.unwrap_or(user.role) == Role::Admin && !patch.disabled.unwrap_or(user.disabled)
    });
    Ok(!still_active_admin && count_active_admins(conn)? <= 1)
}

/// Changes role and/or disabled flag. Any actual change bumps the token generation, so the
/// user's sessions end. Refuses ([`StoreError::Conflict`]) to demote or disable the last
/// active administrator.
pub fn update(conn: &mut Connection, id: i64, patch: UserPatch) -> Result<User, StoreError> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let user = get(&tx, id)?;
    let role = patch.role.unwrap_or(user.role);
    let disabled = patch.disabled.unwrap_or(user.disabled);
    if role == user.role && disabled == user.disabled {
        return Ok(user);
    }
    if would_orphan(&tx, &user, Some(patch))? {
        return Err(StoreError::Conflict(
            "this is the last active administrator; make another one first".into(),
        ));
    }
    let updated = tx.query_row(
        &format!(
            "UPDATE users SET role = ?2, disabled = ?3, token_generation = token_generation + 1,
                              updated_at = {}
             WHERE id = ?1 RETURNING {COLUMNS}",
            now!()
        ),
        params![id, role, disabled],
        from_row,
    )?;
    tx.commit()?;
    Ok(updated)
}

/// Replaces the password hash and bumps the token generation; returns the user as now
/// stored (with the new generation).
pub fn set_password(conn: &Connection, id: i64, password_hash: &str) -> Result<User, StoreError> {
    conn.query_row(
        &format!(
            "UPDATE users SET password_hash = ?2, token_generation = token_generation + 1,
                              updated_at = {}
             WHERE id = ?1 RETURNING {COLUMNS}",
            now!()
        ),
        params![id, password_hash],
        from_row,
    )
    .optional()?
    .ok_or_else(|| StoreError::NotFound(not_found(id)()))
}

/// Bumps the token generation alone (logout): every session token of the user stops working.
pub fn revoke_tokens(conn: &Connection, id: i64) -> Result<(), StoreError> {
    let changed = conn.execute(
        "UPDATE users SET token_generation = token_generation + 1 WHERE id = ?1",
        params![id],
    )?;
    expect_changed(changed, not_found(id))
}

/// Deletes a user with their grants and API keys. Refuses ([`StoreError::Conflict`]) to
/// delete the last active administrator.
pub fn delete(conn: &mut Connection, id: i64) -> Result<(), StoreError> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let user = get(&tx, id)?;
    if would_orphan(&tx, &user, None)? {
        return Err(StoreError::Conflict(
            "this is the last active administrator; make another one first".into(),
        ));
    }
    tx.execute("DELETE FROM users WHERE id = ?1", params![id])?;
    tx.commit()?;
    Ok(())
}
