//! Everything that can go wrong talking to the database.

/// A store failure. `NotFound` and `Conflict` are answers about the data; the rest are the
/// database or the store's thread failing.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite (or rusqlite's conversion of a value) failed.
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The named row does not exist (or is deleted).
    #[error("{0} not found")]
    NotFound(String),
    /// The request contradicts the current state, e.g. finishing a job that is not running.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The schema could not be brought up to date, or is newer than this binary.
    #[error("database migration: {0}")]
    Migration(String),
    /// The store's thread is gone; no call can be answered.
    #[error("the store is closed")]
    Closed,
    /// A database closure panicked. Its transaction was rolled back; the store keeps
    /// working.
    #[error("a database call panicked: {0}")]
    Panicked(String),
    /// The database file could not be created or its permissions set.
    #[error("the database file: {0}")]
    File(std::io::Error),
    /// The store's thread could not be started.
    #[error("could not start the store thread: {0}")]
    Thread(std::io::Error),
}
