//! The authenticated caller of a request and what they may do with a server.
//!
//! Server visibility: an administrator sees and manages every server; anyone else sees the
//! servers they own or were granted, and nothing else. A server someone may not see is
//! reported as *not found*, never *forbidden*, so ids do not leak. What one may do with a
//! visible server is capped by one's role: a viewer (or a viewer-scoped API key) only ever
//! views, even an owned server or one granted with `operator`.

use std::collections::HashMap;

use rusqlite::{Connection, OptionalExtension, params};

use super::AuthError;
use crate::store::grants::{self, GrantRole};
use crate::store::{Role, Store, StoreError};

/// Who is calling: a user, through a session token or one of their API keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The user.
    pub user_id: i64,
    /// Their name, for the audit log.
    pub username: String,
    /// What this call may do: the user's role, capped by the API key's role when a key is
    /// used.
    pub role: Role,
    /// The API key used, if the call was made with one.
    pub api_key_id: Option<i64>,
}

impl Caller {
    /// Whether the caller acts as an administrator.
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// `Ok` for administrators, [`AuthError::Forbidden`] (403) for everyone else.
    pub fn require_admin(&self) -> Result<(), AuthError> {
        self.require_role(Role::Admin)
    }

    /// `Ok` if the caller's role includes `role`, else [`AuthError::Forbidden`].
    pub fn require_role(&self, role: Role) -> Result<(), AuthError> {
        if self.role.at_least(role) {
            Ok(())
        } else {
            Err(AuthError::Forbidden(format!(
                "this needs the {role} role; the caller has {}",
                self.role
            )))
        }
    }
}

/// What a caller may do with one server they can see.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Access {
    /// Read: the server, its status, logs, players.
    View,
    /// Read and act: start, stop, configure, console, delete.
    Manage,
}

impl Access {
    /// `Ok` for [`Access::Manage`]; 403 for a caller who can only view (they already know the
    /// server exists, so "forbidden" leaks nothing).
    pub fn require_manage(self) -> Result<(), AuthError> {
        match self {
            Access::Manage => Ok(()),
            Access::View => Err(AuthError::Forbidden(
                "you may view this server but not change it".into(),
            )),
        }
    }
}

/// The access rule: what `caller` may do with a server owned by `owner_id` on which the caller
/// holds `grant`; `None` when they may not see it.
pub fn access_for(
    caller: &Caller,
    owner_id: Option<i64>,
    grant: Option<GrantRole>,
) -> Option<Access> {
    if caller.is_admin() {
        return Some(Access::Manage);
    }
    let by_owner = (owner_id == Some(caller.user_id)).then_some(Access::Manage);
    let by_grant = grant.map(|g| match g {
        GrantRole::Operator => Access::Manage,
        GrantRole::Viewer => Access::View,
    });
    let best = by_owner.max(by_grant)?;
    Some(if caller.role.at_least(Role::Operator) {
        best
    } else {
        Access::View
    })
}

/// What `caller` may do with server `server_id`; [`AuthError::NotFound`] (404) when the server
/// does not exist, is deleted, or is not the caller's to see.
pub async fn server_access(
    store: &Store,
    caller: &Caller,
    server_id: i64,
) -> Result<Access, AuthError> {
    match access_to(store, caller, server_id).await? {
        Some((access, false)) => Ok(access),
        _ => Err(AuthError::NotFound(format!("server {server_id}"))),
    }
}

/// What `caller` may do with the history (jobs) of server `server_id`, also once it is
/// deleted: those who could see it still see what was done to it (the job that deleted it
/// among them), read-only. [`AuthError::NotFound`] when it never existed or is not the
/// caller's to see.
pub async fn history_access(
    store: &Store,
    caller: &Caller,
    server_id: i64,
) -> Result<Access, AuthError> {
    match access_to(store, caller, server_id).await? {
        Some((access, false)) => Ok(access),
        Some((_, true)) => Ok(Access::View),
        None => Err(AuthError::NotFound(format!("server {server_id}"))),
    }
}

/// The caller's access to server `server_id` (deleted or not) and whether it is deleted;
/// `None` when there is no such server or it is not the caller's to see.
async fn access_to(
    store: &Store,
    caller: &Caller,
    server_id: i64,
) -> Result<Option<(Access, bool)>, AuthError> {
    let user_id = caller.user_id;
    let facts = store
        .call(move |conn| access_facts(conn, user_id, server_id))
        .await?;
    Ok(facts.and_then(|(owner, grant, deleted)| {
        access_for(caller, owner, grant).map(|access| (access, deleted))
    }))
}

/// What decides access to one server: its owner, the caller's grant on it, and whether it is
/// deleted.
type AccessFacts = (Option<i64>, Option<GrantRole>, bool);

/// The owner of server `server_id` (deleted or not), the grant `user_id` holds on it and
/// whether it is deleted; `None` if there is no such server.
fn access_facts(
    conn: &Connection,
    user_id: i64,
    server_id: i64,
) -> Result<Option<AccessFacts>, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT s.owner_id, g.role, s.deleted_at IS NOT NULL FROM servers s
             LEFT JOIN server_grants g ON g.server_id = s.id AND g.user_id = ?2
             WHERE s.id = ?1",
        )?
        .query_row(params![server_id, user_id], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?))
        })
        .optional()?)
}

/// Everything needed to filter a list of servers for one caller, loaded once (inside a store
/// call) and then applied to each server.
#[derive(Debug, Clone)]
pub struct Visibility {
    caller: Caller,
    grants: HashMap<i64, GrantRole>,
}

impl Visibility {
    /// Loads the caller's grants (none are needed for an administrator).
    pub fn load(conn: &Connection, caller: &Caller) -> Result<Visibility, StoreError> {
        let grants = if caller.is_admin() {
            HashMap::new()
        } else {
            grants::all_for_user(conn, caller.user_id)?
                .into_iter()
                .collect()
        };
        Ok(Visibility {
            caller: caller.clone(),
            grants,
        })
    }

    /// An administrator's visibility (every server), without reading anything.
    pub fn of_admin(caller: &Caller) -> Visibility {
        debug_assert!(caller.is_admin());
        Visibility {
            caller: caller.clone(),
            grants: HashMap::new(),
        }
    }

    /// What the caller may do with server `server_id` owned by `owner_id`; `None` to hide it.
    pub fn access(&self, server_id: i64, owner_id: Option<i64>) -> Option<Access> {
        access_for(&self.caller, owner_id, self.grants.get(&server_id).copied())
    }
}

/// The servers `caller` may see: `None` for an administrator (every server, and the host
/// itself as server 0), else the live servers they own or hold a grant on.
pub fn visible_servers(
    conn: &Connection,
    caller: &Caller,
) -> Result<Option<std::collections::HashSet<i64>>, StoreError> {
    if caller.is_admin() {
        return Ok(None);
    }
    let mut stmt = conn.prepare_cached(
        "SELECT id FROM servers
         WHERE deleted_at IS NULL
           AND (owner_id = ?1
                OR id IN (SELECT server_id FROM server_grants WHERE user_id = ?1))",
    )?;
    let ids = stmt
        .query_map(params![caller.user_id], |row| row.get(0))?
        .collect::<Result<_, _>>()?;
    Ok(Some(ids))
}
