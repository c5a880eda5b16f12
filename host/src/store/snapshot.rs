//! The live servers' summary rows, kept in memory between changes, so that listing servers
//! (the call every dashboard and panel makes most) costs the store thread nothing while
//! nothing changed.
//!
//! Correctness rule: a snapshot is served only while no row of the `servers` table changed
//! since it was read. SQLite's update hook on the store's connection bumps a generation for
//! every row inserted, updated or deleted in `servers` (whatever code path wrote it); a
//! snapshot remembers the generation it was read at, on the store thread, where no write can
//! be half-done, and is thrown away as soon as the generation moves. The hook fires while a
//! write is in progress, so a reader that sees an unchanged generation sees the state before
//! that write, never a mix. Only this process's connection is watched: other processes (the
//! CLI) never write servers.
//!
//! It must not hold anything but `servers` rows: grants, users and live state are read where
//! they are needed.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use super::servers::Server;

/// The table whose changes invalidate the snapshot.
pub(super) const TABLE: &str = "servers";

/// Generation counter plus the last snapshot read.
#[derive(Debug, Default)]
pub(super) struct Summaries {
    /// Bumped by the update hook for every changed row of [`TABLE`].
    generation: AtomicU64,
    /// The last snapshot and the generation it was read at.
    cached: Mutex<Option<(u64, Arc<Vec<Server>>)>>,
}

impl Summaries {
    /// Called by the update hook (on the store thread) when a row of `table` changed.
    pub(super) fn changed(&self, table: &str) {
        if table == TABLE {
            self.generation.fetch_add(1, Ordering::AcqRel);
        }
    }

    /// The current generation. On the store thread, between calls, it matches the rows.
    pub(super) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// The cached snapshot if no row changed since it was read.
    pub(super) fn fresh(&self) -> Option<Arc<Vec<Server>>> {
        let cached = self.cached.lock().unwrap_or_else(PoisonError::into_inner);
        match &*cached {
            Some((read_at, rows)) if *read_at == self.generation() => Some(Arc::clone(rows)),
            _ => None,
        }
    }

    /// Keeps `rows`, read at `generation`, unless a newer snapshot is already kept.
    pub(super) fn put(&self, generation: u64, rows: Arc<Vec<Server>>) {
        let mut cached = self.cached.lock().unwrap_or_else(PoisonError::into_inner);
        if cached
            .as_ref()
            .is_none_or(|(read_at, _)| *read_at <= generation)
        {
            *cached = Some((generation, rows));
        }
    }
}
