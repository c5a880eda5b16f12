//! Schema migrations: ordered `.sql` files in `host/migrations/`, embedded in the binary and
//! applied at open, each in its own transaction, each recorded in `schema_version`.
//!
//! A migration, once released, is never edited: changes go in a new, higher-numbered file.
//! A database whose schema is newer than this binary is refused rather than guessed at.

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use super::StoreError;
use super::text::now;

/// One embedded migration.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    /// Its number: the `NNNN` of `NNNN_name.sql`, strictly increasing from 1.
    pub version: i64,
    /// The rest of the file name, for logs.
    pub name: &'static str,
    /// The statements.
    pub sql: &'static str,
}

/// Every migration this binary knows, in order.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "core",
        sql: include_str!("../../migrations/0001_core.sql"),
    },
    Migration {
        version: 2,
        name: "logs",
        sql: include_str!("../../migrations/0002_logs.sql"),
    },
    Migration {
        version: 3,
        name: "players",
        sql: include_str!("../../migrations/0003_players.sql"),
    },
    Migration {
        version: 4,
        name: "metrics",
        sql: include_str!("../../migrations/0004_metrics.sql"),
    },
    Migration {
        version: 5,
        name: "auth",
        sql: include_str!("../../migrations/0005_auth.sql"),
    },
    Migration {
        version: 6,
        name: "bans",
        sql: include_str!("../../migrations/0006_bans.sql"),
    },
    Migration {
        version: 7,
        name: "audit_detail",
        sql: include_str!("../../migrations/0007_audit_detail.sql"),
    },
    Migration {
        version: 8,
        name: "runtimes",
        sql: include_str!("../../migrations/0008_runtimes.sql"),
    },
];

/// The schema version this binary expects.
pub fn latest() -> i64 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

/// The highest applied version, 0 for an empty database.
pub fn current_version(conn: &Connection) -> Result<i64, StoreError> {
    let has_table = conn
        .query_row(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'",
            [],
            |_| Ok(()),
        )
        .optional()?
        .is_some();
    if !has_table {
        return Ok(0);
    }
    let version: Option<i64> =
        conn.query_row("SELECT MAX(version) FROM schema_version", [], |row| {
            row.get(0)
        })?;
    Ok(version.unwrap_or(0))
}

/// Applies every pending migration and returns the versions applied (empty when the
/// database was already up to date).
pub fn apply(conn: &mut Connection) -> Result<Vec<i64>, StoreError> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_version (
             version    INTEGER PRIMARY KEY,
             applied_at TEXT    NOT NULL
         ) STRICT",
    )?;
    let mut applied = Vec::new();
    for migration in MIGRATIONS {
        // IMMEDIATE: a second host opening the same file waits instead of racing us.
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let current = current_version(&tx)?;
        refuse_newer(current)?;
        if migration.version <= current {
            continue;
        }
        tx.execute_batch(migration.sql).map_err(|e| {
            StoreError::Migration(format!(
                "{:04}_{}.sql failed: {e}",
                migration.version, migration.name
            ))
        })?;
        tx.execute(
            concat!(
                "INSERT INTO schema_version (version, applied_at) VALUES (?1, ",
                now!(),
                ")"
            ),
            params![migration.version],
        )?;
        tx.commit()?;
        applied.push(migration.version);
    }
    // Checked again for the case where every migration was already applied.
    refuse_newer(current_version(conn)?)?;
    Ok(applied)
}

/// A database written by a newer binary may use a schema this one misreads: refuse it.
fn refuse_newer(current: i64) -> Result<(), StoreError> {
    if current > latest() {
        return Err(StoreError::Migration(format!(
            "the database has schema version {current}, newer than the {} this binary \
             supports; run a newer garrison or restore a backup",
            latest()
        )));
    }
    Ok(())
}
