//! The drop-in directory: `.wasm` files put there are loaded without a restart.
//!
//! A file-system watcher wakes a dedicated thread (compiling is CPU-heavy and must not run
//! on the async runtime). The thread waits until the directory has been quiet briefly, so a
//! file still being copied is not judged half-written, then compares the directory with what
//! it has loaded: new or changed files are loaded (or recorded as rejected with the reason),
//! removed files are forgotten. A slow periodic rescan catches anything the watcher missed.
//! Only files ending in `.wasm` are considered, so copying to `name.wasm.part` and renaming
//! is the atomic way to install.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};

use notify::{RecursiveMode, Watcher};

use super::AdapterRuntime;

/// How long the directory must be quiet before it is rescanned.
const SETTLE: Duration = Duration::from_millis(100);
/// Safety-net rescan interval.
const RESCAN: Duration = Duration::from_secs(10);

/// Watches the drop-in directory until dropped.
pub struct DropInWatcher {
    stop: Option<mpsc::Sender<Wake>>,
    thread: Option<JoinHandle<()>>,
    // Kept alive for as long as the watcher is; dropping it stops notifications.
    _watcher: Box<dyn Watcher + Send>,
}

enum Wake {
    Changed,
    Stop,
}

/// What the thread knows about a file, to tell whether it changed.
#[derive(PartialEq, Eq, Clone, Copy)]
struct Stamp {
    len: u64,
    modified: Option<SystemTime>,
}

impl DropInWatcher {
    /// Creates `dir` if needed, loads every `.wasm` in it now, and watches it from then on.
    pub fn start(runtime: AdapterRuntime, dir: PathBuf) -> std::io::Result<Self> {
        std::fs::create_dir_all(&dir)?;
        runtime.set_dropin_dir(dir.clone());
        let (tx, rx) = mpsc::channel();
        let notify_tx = tx.clone();
        let handler = move |_event: notify::Result<notify::Event>| {
            let _ = notify_tx.send(Wake::Changed);
        };
        let watcher: Box<dyn Watcher + Send> = match notify::recommended_watcher(handler.clone()) {
            Ok(mut w) => match w.watch(&dir, RecursiveMode::NonRecursive) {
                Ok(()) => Box::new(w),
                Err(e) => poll_watcher(&dir, handler, e)?,
            },
            Err(e) => poll_watcher(&dir, handler, e)?,
        };

        let mut known = HashMap::new();
        scan(&runtime, &dir, &mut known);
        let thread = std::thread::Builder::new()
            .name("garrison-dropin".into())
            .spawn(move || run(runtime, dir, known, rx))?;
        Ok(DropInWatcher {
            stop: Some(tx),
            thread: Some(thread),
            _watcher: watcher,
        })
    }
}

fn poll_watcher(
    dir: &Path,
    handler: impl notify::EventHandler,
    cause: notify::Error,
) -> std::io::Result<Box<dyn Watcher + Send>> {
    tracing::warn!(dir = %dir.display(), "file notifications unavailable ({cause}); polling the drop-in directory");
    let config = notify::Config::default().with_poll_interval(Duration::from_millis(500));
    let mut w = notify::PollWatcher::new(handler, config).map_err(std::io::Error::other)?;
    w.watch(dir, RecursiveMode::NonRecursive)
        .map_err(std::io::Error::other)?;
    Ok(Box::new(w))
}

impl Drop for DropInWatcher {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(Wake::Stop);
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn run(
    runtime: AdapterRuntime,
    dir: PathBuf,
    mut known: HashMap<PathBuf, Stamp>,
    rx: mpsc::Receiver<Wake>,
) {
    loop {
        match rx.recv_timeout(RESCAN) {
            Ok(Wake::Stop) | Err(RecvTimeoutError::Disconnected) => return,
            Ok(Wake::Changed) => {
                // Let a burst of events (a copy in progress) settle first.
                loop {
                    match rx.recv_timeout(SETTLE) {
                        Ok(Wake::Changed) => continue,
                        Ok(Wake::Stop) | Err(RecvTimeoutError::Disconnected) => return,
                        Err(RecvTimeoutError::Timeout) => break,
                    }
                }
            }
            Err(RecvTimeoutError::Timeout) => {}
        }
        scan(&runtime, &dir, &mut known);
    }
}

/// Brings the registry in line with the directory's `.wasm` files.
fn scan(runtime: &AdapterRuntime, dir: &Path, known: &mut HashMap<PathBuf, Stamp>) {
    let present: HashMap<PathBuf, Stamp> = match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .flatten()
            .filter(|e| e.path().extension().is_some_and(|x| x == "wasm"))
            .filter_map(|e| {
                let meta = e.metadata().ok()?;
                meta.is_file().then(|| {
                    (
                        e.path(),
                        Stamp {
                            len: meta.len(),
                            modified: meta.modified().ok(),
                        },
                    )
                })
            })
            .collect(),
        Err(e) => {
            tracing::warn!(dir = %dir.display(), "cannot read the drop-in directory: {e}");
            return;
        }
    };
    known.retain(|path, _| {
        let keep = present.contains_key(path);
        if !keep {
            tracing::info!(file = %path.display(), "drop-in adapter removed");
            runtime.remove_dropin(path);
        }
        keep
    });
    for (path, stamp) in present {
        if known.get(&path) == Some(&stamp) {
            continue;
        }
        known.insert(path.clone(), stamp);
        match runtime.load_dropin(&path) {
            Ok(adapter) => tracing::info!(
                file = %path.display(),
                id = %adapter.description.id,
                version = %adapter.description.version,
                "drop-in adapter loaded"
            ),
            Err(e) => tracing::warn!(file = %path.display(), "drop-in adapter rejected: {e}"),
        }
    }
}
