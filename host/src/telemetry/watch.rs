//! One file-system watcher for the whole host, shared by every server's log pipeline.
//!
//! A pipeline subscribes to the directories its logs live in and is woken (through a
//! `tokio::sync::Notify`, so a burst of writes is one wake-up) when anything in them
//! changes. One watcher means one OS thread and one inotify instance however many servers
//! run. A directory that cannot be watched (missing, or no watcher on this system) returns
//! no subscription, and the pipeline falls back to polling it.
//!
//! Lock order: `watcher` before `dirs`, and the notification handler only takes `dirs`, so
//! a (un)watch call waiting on the watcher's thread can never deadlock with a delivery.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use notify::{RecursiveMode, Watcher};
use tokio::sync::Notify;

type Subscribers = HashMap<PathBuf, Vec<(u64, Arc<Notify>)>>;

/// The host's directory watcher. Cheap to clone.
#[derive(Clone)]
pub struct DirWatcher {
    inner: Arc<Inner>,
}

struct Inner {
    /// None when this system offers no watcher: everything polls.
    watcher: Mutex<Option<notify::RecommendedWatcher>>,
    dirs: Arc<Mutex<Subscribers>>,
    next_id: AtomicU64,
}

/// Wakes its `Notify` on changes in one directory until dropped.
pub struct Subscription {
    inner: Arc<Inner>,
    dir: PathBuf,
    id: u64,
}

impl std::fmt::Debug for Subscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscription")
            .field("dir", &self.dir)
            .finish()
    }
}

impl Default for DirWatcher {
    fn default() -> Self {
        Self::new()
    }
}

impl DirWatcher {
    /// Starts the watcher (one thread). Without OS support it only hands out no
    /// subscriptions.
    pub fn new() -> Self {
        let dirs: Arc<Mutex<Subscribers>> = Arc::default();
        let deliver = Arc::clone(&dirs);
        let handler = move |event: notify::Result<notify::Event>| {
            let Ok(event) = event else {
                return;
            };
            // Opening, reading and listing are what the pipelines themselves do: waking on
            // them would make every pipeline wake itself forever.
            if matches!(event.kind, notify::EventKind::Access(_)) {
                return;
            }
            let dirs = deliver.lock().unwrap_or_else(PoisonError::into_inner);
            for path in &event.paths {
                for dir in [Some(path.as_path()), path.parent()].into_iter().flatten() {
                    for (_, wake) in dirs.get(dir).into_iter().flatten() {
                        wake.notify_one();
                    }
                }
            }
        };
        let watcher = match notify::recommended_watcher(handler) {
            Ok(watcher) => Some(watcher),
            Err(e) => {
                tracing::warn!("no file-system watcher, logs are polled: {e}");
                None
            }
        };
        DirWatcher {
            inner: Arc::new(Inner {
                watcher: Mutex::new(watcher),
                dirs,
                next_id: AtomicU64::new(1),
            }),
        }
    }

    /// Wakes `wake` whenever something in `dir` changes, until the subscription is dropped.
    /// None when `dir` cannot be watched (it may not exist yet). Blocks briefly on the
    /// watcher's thread: call it off the async runtime.
    pub fn subscribe(&self, dir: &Path, wake: Arc<Notify>) -> Option<Subscription> {
        let mut watcher = self
            .inner
            .watcher
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let watcher = watcher.as_mut()?;
        let watched = self
            .inner
            .dirs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains_key(dir);
        if !watched && watcher.watch(dir, RecursiveMode::NonRecursive).is_err() {
            return None;
        }
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        self.inner
            .dirs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(dir.to_path_buf())
            .or_default()
            .push((id, wake));
        Some(Subscription {
            inner: Arc::clone(&self.inner),
            dir: dir.to_path_buf(),
            id,
        })
    }

    /// How many directories are watched (for tests and metrics).
    pub fn watched(&self) -> usize {
        self.inner
            .dirs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        let mut watcher = self
            .inner
            .watcher
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let last = {
            let mut dirs = self
                .inner
                .dirs
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            let Some(subscribers) = dirs.get_mut(&self.dir) else {
                return;
            };
            subscribers.retain(|(id, _)| *id != self.id);
            let last = subscribers.is_empty();
            if last {
                dirs.remove(&self.dir);
            }
            last
        };
        if last && let Some(watcher) = watcher.as_mut() {
            // The directory may be gone already; either way it is no longer watched.
            let _ = watcher.unwatch(&self.dir);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn writes_in_a_watched_directory_wake_every_subscriber_until_dropped() {
        let dir = tempfile::tempdir().expect("tempdir");
        let watcher = DirWatcher::new();
        let (one, two) = (Arc::new(Notify::new()), Arc::new(Notify::new()));
        let first = watcher.subscribe(dir.path(), one.clone()).expect("watch");
        let second = watcher.subscribe(dir.path(), two.clone()).expect("watch");
        assert_eq!(watcher.watched(), 1, "one OS watch per directory");
        assert!(
            watcher
                .subscribe(&dir.path().join("missing"), Arc::new(Notify::new()))
                .is_none()
        );

        std::fs::write(dir.path().join("console.log"), b"line\n").expect("write");
        let bound = Duration::from_secs(10);
        tokio::time::timeout(bound, one.notified())
            .await
            .expect("first woken");
        tokio::time::timeout(bound, two.notified())
            .await
            .expect("second woken");

        drop(first);
        assert_eq!(watcher.watched(), 1, "still watched for the second");
        drop(second);
        assert_eq!(watcher.watched(), 0);
    }

    #[tokio::test]
    async fn reading_or_listing_a_watched_directory_wakes_no_one() {
        let dir = tempfile::tempdir().expect("tempdir");
        let log = dir.path().join("server.log");
        std::fs::write(&log, b"first\n").expect("write");
        let watcher = DirWatcher::new();
        let wake = Arc::new(Notify::new());
        let _subscription = watcher.subscribe(dir.path(), wake.clone()).expect("watch");

        // What a pipeline does on every wake-up: list the directory, open and read the log.
        for _ in 0..3 {
            let names = std::fs::read_dir(dir.path()).expect("list").count();
            assert_eq!(names, 1);
            assert_eq!(std::fs::read(&log).expect("read"), b"first\n");
        }
        let woken = tokio::time::timeout(Duration::from_millis(500), wake.notified()).await;
        assert!(woken.is_err(), "woken by its own reads");

        // An append still wakes it.
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(&log)
            .expect("open");
        std::io::Write::write_all(&mut file, b"second\n").expect("append");
        tokio::time::timeout(Duration::from_secs(10), wake.notified())
            .await
            .expect("woken by the append");
    }
}
