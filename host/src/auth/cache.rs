//! A small cache of what authenticating a request reads from the database (the user behind a
//! token, the key behind an API key), so that most requests cost the store nothing.
//!
//! Correctness rule: a cached answer never outlives a change. Every change to users or keys
//! goes through [`Auth`](super::Auth), which calls [`CredentialCache::invalidate`] after the
//! change is committed; invalidation bumps an epoch, and a lookup only stores what it read if
//! the epoch did not move while it was reading (checked under the same lock), so a read that
//! raced a change cannot put the old answer back. Entries also expire after a short time as a
//! safety net for changes made by another process.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use crate::store::User;
use crate::store::api_keys::KeyCredentials;

/// How long an entry is trusted without a change being seen.
const TTL: Duration = Duration::from_secs(30);
/// Entries kept at most per map; beyond this the map is cleared (it refills on demand).
const CAPACITY: usize = 10_000;

#[derive(Default)]
struct State {
    epoch: u64,
    users: HashMap<i64, (User, Instant)>,
    keys: HashMap<[u8; 32], (KeyCredentials, Instant)>,
}

/// Users by id and API keys by hash.
#[derive(Default)]
pub struct CredentialCache {
    state: Mutex<State>,
}

impl std::fmt::Debug for CredentialCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CredentialCache").finish_non_exhaustive()
    }
}

impl CredentialCache {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The current epoch: read it before reading the database, pass it to `put_*`.
    pub fn epoch(&self) -> u64 {
        self.state().epoch
    }

    /// A fresh cached user.
    pub fn user(&self, id: i64) -> Option<User> {
        let state = self.state();
        state
            .users
            .get(&id)
            .filter(|(_, at)| at.elapsed() < TTL)
            .map(|(user, _)| user.clone())
    }

    /// Caches `user` as read at `epoch`, unless something changed since.
    pub fn put_user(&self, epoch: u64, user: User) {
        let mut state = self.state();
        if state.epoch != epoch {
            return;
        }
        if state.users.len() >= CAPACITY {
            state.users.clear();
        }
        state.users.insert(user.id, (user, Instant::now()));
    }

    /// A fresh cached key.
    pub fn key(&self, hash: &[u8; 32]) -> Option<KeyCredentials> {
        let state = self.state();
        state
            .keys
            .get(hash)
            .filter(|(_, at)| at.elapsed() < TTL)
            .map(|(key, _)| key.clone())
    }

    /// Caches `key` as read at `epoch`, unless something changed since.
    pub fn put_key(&self, epoch: u64, hash: [u8; 32], key: KeyCredentials) {
        let mut state = self.state();
        if state.epoch != epoch {
            return;
        }
        if state.keys.len() >= CAPACITY {
            state.keys.clear();
        }
        state.keys.insert(hash, (key, Instant::now()));
    }

    /// Forgets everything; call after committing any change to users or keys.
    pub fn invalidate(&self) {
        let mut state = self.state();
        state.epoch = state.epoch.wrapping_add(1);
        state.users.clear();
        state.keys.clear();
    }
}
