//! Bans: who may not join a server, as the host keeps them (`bans`).
//!
//! The host's list is the truth and the game's own list a copy of it: a ban is stored before
//! any command goes to the game, and pushed again whenever the game turns out to lack it. One
//! row per server and identity (compared without regard to case): banning an identity again
//! replaces the earlier ban. A lifted ban stays as a tombstone until the game has been told
//! ([`lift`], then [`forget`]), so lifting one while the server is stopped still reaches it.
//! A timed ban ends by itself; [`list`] no longer shows it and [`purge_expired`] removes it.
//!
//! This module stores; it does not talk to games (see `servers::bans`).

use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::Serialize;

use super::text::now;
use super::{StoreError, expect_changed};

/// A ban the host keeps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Ban {
    /// Row id, the ban's id in the API.
    pub id: i64,
    /// The server it applies to.
    pub server_id: i64,
    /// What the adapter bans by (Steam id, GUID, address).
    pub identity: String,
    /// The player's name, when they were banned while online.
    pub player_name: Option<String>,
    /// Why, as shown to the player and in the game's list.
    pub reason: String,
    /// The user who banned, if any (bans are kept after the user is deleted).
    pub user_id: Option<i64>,
    /// The API key used, if any.
    pub api_key_id: Option<i64>,
    /// RFC 3339 UTC.
    pub created_at: String,
    /// When a timed ban ends (RFC 3339 UTC); none when permanent.
    pub expires_at: Option<String>,
    /// Whole minutes left, rounded up; none when permanent.
    pub minutes_left: Option<u32>,
    /// When the game last took the ban (pushed, or seen in its list); none until then.
    pub pushed_at: Option<String>,
}

/// What banning needs.
#[derive(Debug, Clone, Default)]
pub struct NewBan {
    /// What the adapter bans by.
    pub identity: String,
    /// The player's name, if known.
    pub player_name: Option<String>,
    /// Why.
    pub reason: String,
    /// Length in minutes; none bans permanently.
    pub minutes: Option<u32>,
    /// Who banned.
    pub user_id: Option<i64>,
    /// Through which API key.
    pub api_key_id: Option<i64>,
}

/// Every column of a ban plus its minutes left.
const COLUMNS: &str = "id, server_id, identity, player_name, reason, user_id, api_key_id,
     created_at, expires_at, pushed_at,
     CASE WHEN expires_at IS NULL THEN NULL
          ELSE CAST((julianday(expires_at) - julianday('now')) * 1440 + 0.999 AS INTEGER)
     END AS minutes_left";

/// A ban in force: not lifted, not run out.
macro_rules! active {
    () => {
        concat!(
            "lifted_at IS NULL AND (expires_at IS NULL OR expires_at > ",
            now!(),
            ")"
        )
    };
}

fn from_row(row: &Row<'_>) -> rusqlite::Result<Ban> {
    let left: Option<i64> = row.get("minutes_left")?;
    Ok(Ban {
        id: row.get("id")?,
        server_id: row.get("server_id")?,
        identity: row.get("identity")?,
        player_name: row.get("player_name")?,
        reason: row.get("reason")?,
        user_id: row.get("user_id")?,
        api_key_id: row.get("api_key_id")?,
        created_at: row.get("created_at")?,
        expires_at: row.get("expires_at")?,
        minutes_left: left.map(|m| u32::try_from(m.max(0)).unwrap_or(u32::MAX)),
        pushed_at: row.get("pushed_at")?,
    })
}

/// Bans `ban.identity` on `server_id` (which must exist and not be deleted), replacing an
/// earlier ban of the same identity, lifted or not; returns the stored ban, not yet pushed.
pub fn add(conn: &Connection, server_id: i64, ban: &NewBan) -> Result<Ban, StoreError> {
    super::servers::get(conn, server_id)?;
    let id: i64 = conn.query_row(
        concat!(
            "INSERT INTO bans
                 (server_id, identity, player_name, reason, user_id, api_key_id, expires_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6,
                     CASE WHEN ?7 IS NULL THEN NULL
                          ELSE strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '+' || ?7 || ' minutes')
                     END)
             ON CONFLICT (server_id, identity) DO UPDATE SET
                 player_name = COALESCE(excluded.player_name, player_name),
                 reason = excluded.reason,
                 user_id = excluded.user_id,
                 api_key_id = excluded.api_key_id,
                 created_at = ",
            now!(),
            ",
                 expires_at = excluded.expires_at,
                 pushed_at = NULL,
                 lifted_at = NULL
             RETURNING id"
        ),
        params![
            server_id,
            ban.identity,
            ban.player_name,
            ban.reason,
            ban.user_id,
            ban.api_key_id,
            ban.minutes
        ],
        |row| row.get(0),
    )?;
    get(conn, server_id, id)
}

/// The bans in force on `server_id`, oldest first.
pub fn list(conn: &Connection, server_id: i64) -> Result<Vec<Ban>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM bans WHERE server_id = ?1 AND {} ORDER BY id",
        active!()
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params![server_id], from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Ban `id` of `server_id`, if in force.
pub fn get(conn: &Connection, server_id: i64, id: i64) -> Result<Ban, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM bans WHERE server_id = ?1 AND id = ?2 AND {}",
        active!()
    );
    conn.prepare_cached(&sql)?
        .query_row(params![server_id, id], from_row)
        .optional()?
        .ok_or_else(|| StoreError::NotFound(format!("ban {id} of server {server_id}")))
}

/// Lifts ban `id` of `server_id`: it is no longer listed, and stays as a tombstone until
/// the game has been told ([`forget`]). Returns the ban as it was.
pub fn lift(conn: &Connection, server_id: i64, id: i64) -> Result<Ban, StoreError> {
    let ban = get(conn, server_id, id)?;
    let changed = conn.execute(
        concat!(
            "UPDATE bans SET lifted_at = ",
            now!(),
            " WHERE server_id = ?1 AND id = ?2 AND lifted_at IS NULL"
        ),
        params![server_id, id],
    )?;
    expect_changed(changed, || format!("ban {id} of server {server_id}"))?;
    Ok(ban)
}

/// The lifted bans of `server_id` the game has not been told about yet, oldest first.
pub fn lifted(conn: &Connection, server_id: i64) -> Result<Vec<Ban>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM bans WHERE server_id = ?1 AND lifted_at IS NOT NULL ORDER BY id"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params![server_id], from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Removes the tombstone of lifted ban `id` once the game no longer has it. A ban given
/// again in the meantime (no longer lifted) is kept. Returns whether a row went.
pub fn forget(conn: &Connection, server_id: i64, id: i64) -> Result<bool, StoreError> {
    let changed = conn.execute(
        "DELETE FROM bans WHERE server_id = ?1 AND id = ?2 AND lifted_at IS NOT NULL",
        params![server_id, id],
    )?;
    Ok(changed > 0)
}

/// Records that the game took bans `ids` of `server_id` now.
pub fn mark_pushed(conn: &mut Connection, server_id: i64, ids: &[i64]) -> Result<(), StoreError> {
    let tx = conn.transaction()?;
    {
        let mut stmt = tx.prepare_cached(concat!(
            "UPDATE bans SET pushed_at = ",
            now!(),
            " WHERE server_id = ?1 AND id = ?2"
        ))?;
        for id in ids {
            stmt.execute(params![server_id, id])?;
        }
    }
    tx.commit()?;
    Ok(())
}

/// Removes the timed bans of `server_id` that have run out (the game ends them itself);
/// returns how many went.
pub fn purge_expired(conn: &Connection, server_id: i64) -> Result<usize, StoreError> {
    Ok(conn.execute(
        concat!(
            "DELETE FROM bans WHERE server_id = ?1 AND lifted_at IS NULL
                 AND expires_at IS NOT NULL AND expires_at <= ",
            now!()
        ),
        params![server_id],
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::servers::{self, NewServer};

    fn db() -> (Connection, i64) {
        let mut conn = Connection::open_in_memory().expect("open");
        conn.pragma_update(None, "foreign_keys", true)
            .expect("foreign keys");
        crate::store::migrations::apply(&mut conn).expect("migrate");
        let server = servers::insert(
            &conn,
            &NewServer::new("s", "generic", serde_json::json!({})),
        )
        .expect("server");
        (conn, server.id)
    }

    fn ban(identity: &str, minutes: Option<u32>) -> NewBan {
        NewBan {
            identity: identity.into(),
            reason: "griefing".into(),
            minutes,
            user_id: Some(7),
            ..NewBan::default()
        }
    }

    #[test]
    fn a_ban_is_stored_with_who_gave_it_and_how_long_it_lasts() {
        let (conn, server) = db();
        let permanent = add(&conn, server, &ban("abc", None)).expect("add");
        assert_eq!(permanent.identity, "abc");
        assert_eq!(permanent.user_id, Some(7));
        assert_eq!(permanent.expires_at, None);
        assert_eq!(permanent.minutes_left, None);
        assert_eq!(permanent.pushed_at, None);

        let timed = add(&conn, server, &ban("def", Some(90))).expect("add");
        assert!(timed.expires_at.is_some());
        assert_eq!(timed.minutes_left, Some(90));

        let listed = list(&conn, server).expect("list");
        assert_eq!(listed, [permanent.clone(), timed]);
        assert_eq!(get(&conn, server, permanent.id).expect("get"), permanent);
        assert!(matches!(
            get(&conn, server, 999),
            Err(StoreError::NotFound(_))
        ));
    }

    #[test]
    fn banning_an_identity_again_replaces_the_ban_whatever_its_case() {
        let (mut conn, server) = db();
        let first = add(
            &conn,
            server,
            &NewBan {
                player_name: Some("Miller".into()),
                ..ban("ABC", Some(10))
            },
        )
        .expect("add");
        mark_pushed(&mut conn, server, &[first.id]).expect("pushed");
        assert!(
            get(&conn, server, first.id)
                .expect("get")
                .pushed_at
                .is_some()
        );

        let again = add(&conn, server, &ban("abc", None)).expect("again");
        assert_eq!(again.id, first.id, "one row per identity");
        assert_eq!(again.minutes_left, None, "now permanent");
        assert_eq!(again.player_name.as_deref(), Some("Miller"), "name kept");
        assert_eq!(again.pushed_at, None, "the new ban has to reach the game");
        assert_eq!(list(&conn, server).expect("list").len(), 1);
    }

    #[test]
    fn a_lifted_ban_is_a_tombstone_until_forgotten_and_a_new_ban_revives_it() {
        let (conn, server) = db();
        let b = add(&conn, server, &ban("abc", None)).expect("add");
        let lifted_ban = lift(&conn, server, b.id).expect("lift");
        assert_eq!(lifted_ban.identity, "abc");
        assert!(list(&conn, server).expect("list").is_empty());
        assert!(matches!(
            lift(&conn, server, b.id),
            Err(StoreError::NotFound(_))
        ));
        let tombstones = lifted(&conn, server).expect("lifted");
        assert_eq!(tombstones.len(), 1);

        // Banned again before the game was told: the ban stands and is not forgotten.
        add(&conn, server, &ban("abc", None)).expect("again");
        assert!(lifted(&conn, server).expect("lifted").is_empty());
        assert!(!forget(&conn, server, b.id).expect("forget"));
        assert_eq!(list(&conn, server).expect("list").len(), 1);

        lift(&conn, server, b.id).expect("lift");
        assert!(forget(&conn, server, b.id).expect("forget"));
        assert!(lifted(&conn, server).expect("lifted").is_empty());
    }

    #[test]
    fn a_run_out_ban_is_not_listed_and_is_purged() {
        let (conn, server) = db();
        let b = add(&conn, server, &ban("abc", Some(5))).expect("add");
        add(&conn, server, &ban("def", None)).expect("add");
        conn.execute(
            "UPDATE bans SET expires_at = '2000-01-01T00:00:00.000Z' WHERE id = ?1",
            params![b.id],
        )
        .expect("age it");
        let listed = list(&conn, server).expect("list");
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].identity, "def");
        assert_eq!(purge_expired(&conn, server).expect("purge"), 1);
        assert_eq!(purge_expired(&conn, server).expect("purge"), 0);
    }

    #[test]
    fn bans_need_a_live_server_and_go_with_it() {
        let (conn, server) = db();
        assert!(matches!(
            add(&conn, 999, &ban("abc", None)),
            Err(StoreError::NotFound(_))
        ));
        add(&conn, server, &ban("abc", None)).expect("add");
        conn.execute("DELETE FROM servers WHERE id = ?1", params![server])
            .expect("delete the server row");
        let left: i64 = conn
            .query_row("SELECT COUNT(*) FROM bans", [], |r| r.get(0))
            .expect("count");
        assert_eq!(left, 0, "cascaded");
    }
}
