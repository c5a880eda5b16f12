//! The adapter runtime: loads game adapters (WebAssembly components of the
//! `garrison:adapter` world, version 0.2.0 or the frozen 0.1.0), keeps them in a registry, and
//! hands out sandboxed sessions.
//!
//! Layout: `bindings` (generated, once per contract version) and `model` (host types +
//! conversions) define what crosses the boundary; `engine` and `sandbox` confine it (`pool`
//! sizes the engine's instance pool); `cache` keeps compiled code on disk; `registry` decides
//! which adapter serves an id; `session` calls it; `dropin` watches the drop-in directory;
//! `settings` checks settings against a schema.
//!
//! Loading and calling are CPU-bound and synchronous: async callers go through
//! [`AdapterRuntime::call`] (a fresh session) or [`blocking`] (a session they keep), which run
//! the work on the blocking pool and turn a lost task into an [`AdapterError`]. This module
//! knows no game.

pub(crate) mod bindings;
mod cache;
pub mod check;
pub mod dropin;
mod engine;
mod error;
pub mod model;
mod parser;
pub mod pool;
mod rcon_session;
pub mod registry;
mod sandbox;
mod session;
pub mod settings;

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use wasmtime::Engine;
use wasmtime::component::Linker;

pub use bindings::ContractVersion;
pub use cache::sha256_hex;
pub use engine::{MAX_INSTANCES_OPTION, SandboxConfig};
pub use error::AdapterError;
pub use parser::{FeedError, LogParser};
pub use rcon_session::RconSession;
pub use registry::{LoadedAdapter, Origin};
pub use session::{AdapterSession, MAX_OUTPUT_BYTES, MAX_OUTPUT_ITEMS};

use engine::{CallGuard, EpochTicker};
use registry::Registry;
use sandbox::Sandbox;

/// The adapters compiled into this binary, as (file name, component bytes). The list lives in
/// `host/build.rs`, which builds them and generates this table.
pub const BUILTIN: &[(&str, &[u8])] = include!(concat!(env!("OUT_DIR"), "/builtin_adapters.rs"));

/// Where the adapter components built with this host are, for tools and tests that need the
/// fixture components too (built in debug builds only, where tests run). Not used by the host
/// itself.
#[doc(hidden)]
pub const WASM_BUILD_DIR: &str = env!("GARRISON_WASM_DIR");

/// Shared handle to the adapter runtime. Cheap to clone.
#[derive(Clone)]
pub struct AdapterRuntime {
    inner: Arc<Inner>,
}

struct Inner {
    engine: Engine,
    linker: Linker<Sandbox>,
    config: SandboxConfig,
    /// The pool's size (the configured one or the machine's default), for messages.
    max_instances: u32,
    cache: cache::ComponentCache,
    registry: RwLock<Registry>,
    /// The watched drop-in directory, once a watcher runs (uploads are written there).
    dropin_dir: std::sync::OnceLock<PathBuf>,
    // Declared last: dropped after everything that might still count a call.
    ticker: EpochTicker,
}

impl AdapterRuntime {
    /// Creates the engine and the linker. `cache_dir` holds compiled components (`None`
    /// compiles every time). No adapter is loaded yet.
    pub fn new(config: SandboxConfig, cache_dir: Option<PathBuf>) -> Result<Self, AdapterError> {
        let runtime = |e: wasmtime::Error| AdapterError::Runtime(format!("{e:#}"));
        let engine = engine::build_engine(&config).map_err(AdapterError::Runtime)?;
        let max_instances = config.instances();
        let mut linker = Linker::<Sandbox>::new(&engine);
        // WASI is linked so that components built by ordinary toolchains instantiate, but
        // every store's WASI context is empty: nothing to open, nothing to connect to.
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker).map_err(runtime)?;
        bindings::add_to_linker(&mut linker).map_err(runtime)?;
        let ticker = EpochTicker::start(engine.clone())
            .map_err(|e| AdapterError::Runtime(format!("cannot start the epoch thread: {e}")))?;
        let cache = cache::ComponentCache::new(cache_dir, &engine);
        Ok(AdapterRuntime {
            inner: Arc::new(Inner {
                engine,
                linker,
                config,
                max_instances,
                cache,
                registry: RwLock::new(Registry::default()),
                dropin_dir: std::sync::OnceLock::new(),
                ticker,
            }),
        })
    }

    /// Loads and registers the built-in adapters. A built-in that fails to load is a build
    /// defect and is returned as an error.
    pub fn load_builtins(&self) -> Result<(), AdapterError> {
        for (name, bytes) in BUILTIN {
            let adapter = self
                .load(bytes, Origin::Builtin)
                .map_err(|e| AdapterError::Load(format!("built-in {name}: {e}")))?;
            self.write_registry().insert(adapter);
        }
        Ok(())
    }

    /// Compiles (or fetches from the cache) and checks a component without registering it:
    /// it must be a component, link against the sandbox, implement the `game-adapter` world,
    /// and answer `describe()` and `schema()` sanely within its deadline.
    pub fn load(&self, bytes: &[u8], origin: Origin) -> Result<Arc<LoadedAdapter>, AdapterError> {
        let sha256 = sha256_hex(bytes);
        let component = self
            .inner
            .cache
            .load(&self.inner.engine, bytes, &sha256)
            .map_err(|e| {
                AdapterError::Load(format!(
                    "not a valid WebAssembly component: {}",
                    root_cause(&e)
                ))
            })?;
        let pre = self.inner.linker.instantiate_pre(&component).map_err(|e| {
            AdapterError::Load(format!(
                "the component needs imports the sandbox does not provide: {}",
                root_cause(&e)
            ))
        })?;
        let pre = bindings::Pre::new(pre).map_err(|e| {
            AdapterError::Load(format!(
                "the component implements no garrison:adapter/game-adapter world this host \
                 serves (0.2.0 or 0.1.0): {}",
                root_cause(&e)
            ))
        })?;

        // Ask the component who it is, in a throwaway session.
        let probe = Arc::new(LoadedAdapter::new(
            model::Description {
                id: "(loading)".into(),
                name: String::new(),
                version: String::new(),
                summary: String::new(),
                steam_app_id: None,
                runtime: model::RuntimeSource::None,
                capabilities: Vec::new(),
            },
            Vec::new(),
            origin.clone(),
            sha256.clone(),
            pre.clone(),
        ));
        let mut session = AdapterSession::new(self.clone(), probe);
        // A full pool says nothing about the file: that error stays as it is.
        let failed = |call: &str, e: AdapterError| match e {
            e @ AdapterError::NoInstanceSlot { .. } => e,
            e => AdapterError::Load(format!("{call} failed: {e}")),
        };
        let description = session.describe().map_err(|e| failed("describe()", e))?;
        registry::check_description(&description).map_err(AdapterError::Load)?;
        let schema = session.schema().map_err(|e| failed("schema()", e))?;
        registry::check_schema(&schema).map_err(AdapterError::Load)?;
        Ok(Arc::new(LoadedAdapter::new(
            description,
            schema,
            origin,
            sha256,
            pre,
        )))
    }

    /// Loads the drop-in file at `path` and registers it, or records why it was refused.
    pub fn load_dropin(&self, path: &Path) -> Result<Arc<LoadedAdapter>, AdapterError> {
        let result = std::fs::read(path)
            .map_err(|e| AdapterError::Load(format!("cannot read the file: {e}")))
            .and_then(|bytes| {
                self.load(
                    &bytes,
                    Origin::DropIn {
                        path: path.to_path_buf(),
                    },
                )
            });
        let mut registry = self.write_registry();
        match &result {
            Ok(adapter) => registry.insert(Arc::clone(adapter)),
            Err(e) => registry.reject(path, e.to_string()),
        }
        result
    }

    /// Records the drop-in directory (the watcher does, when it starts).
    pub fn set_dropin_dir(&self, dir: PathBuf) {
        let _ = self.inner.dropin_dir.set(dir);
    }

    /// The drop-in directory, when one is watched.
    pub fn dropin_dir(&self) -> Option<&Path> {
        self.inner.dropin_dir.get().map(PathBuf::as_path)
    }

    /// Forgets the drop-in file at `path`.
    pub fn remove_dropin(&self, path: &Path) {
        self.write_registry().remove_path(path);
    }

    /// The adapter new sessions of `id` get.
    pub fn get(&self, id: &str) -> Option<Arc<LoadedAdapter>> {
        self.read_registry().get(id)
    }

    /// Every loaded adapter, all versions.
    pub fn list(&self) -> Vec<Arc<LoadedAdapter>> {
        self.read_registry().all()
    }

    /// Drop-in files that were refused, with reasons.
    pub fn rejected(&self) -> Vec<(PathBuf, String)> {
        self.read_registry().rejected()
    }

    /// A new session with `adapter`. The instance is created on the first call.
    pub fn session(&self, adapter: Arc<LoadedAdapter>) -> AdapterSession {
        AdapterSession::new(self.clone(), adapter)
    }

    /// A new session with the current adapter for `id`.
    pub fn session_for(&self, id: &str) -> Result<AdapterSession, AdapterError> {
        let adapter = self
            .get(id)
            .ok_or_else(|| AdapterError::NotFound(id.to_string()))?;
        Ok(self.session(adapter))
    }

    /// Runs `work` in a fresh session of `adapter` on the blocking pool (adapter calls never
    /// run on a runtime worker).
    pub async fn call<T: Send + 'static>(
        &self,
        adapter: Arc<LoadedAdapter>,
        work: impl FnOnce(&mut AdapterSession) -> Result<T, AdapterError> + Send + 'static,
    ) -> Result<T, AdapterError> {
        let mut session = self.session(adapter);
        blocking(move || work(&mut session)).await?
    }

    /// The limits calls run under.
    pub fn sandbox_config(&self) -> &SandboxConfig {
        &self.inner.config
    }

    /// Most instances alive at once (the pool's size).
    pub fn max_instances(&self) -> u32 {
        self.inner.max_instances
    }

    /// Instances alive now, across all adapters and sessions.
    pub fn instances_in_use(&self) -> u64 {
        self.inner
            .engine
            .pooling_allocator_metrics()
            .map_or(0, |m| m.component_instances())
    }

    fn engine(&self) -> &Engine {
        &self.inner.engine
    }

    fn call_guard(&self) -> CallGuard {
        self.inner.ticker.call_guard()
    }

    fn read_registry(&self) -> std::sync::RwLockReadGuard<'_, Registry> {
        // A panic while holding the lock cannot leave the registry half-updated (every
        // mutation is a single Vec/BTreeMap operation), so a poisoned lock is still usable.
        self.inner
            .registry
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write_registry(&self) -> std::sync::RwLockWriteGuard<'_, Registry> {
        self.inner
            .registry
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Runs adapter work (calls on a session the caller keeps, loading a component) on the
/// blocking pool. The work's own errors are the caller's; a task that did not finish — it
/// panicked, which is a host bug since adapter traps are values, or the runtime is shutting
/// down — becomes [`AdapterError::Runtime`], and whatever session it held is gone.
pub async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, AdapterError> {
    tokio::task::spawn_blocking(work).await.map_err(|e| {
        tracing::error!("an adapter call did not finish: {e}");
        AdapterError::Runtime(if e.is_panic() {
            "the adapter call failed inside the host".into()
        } else {
            "the adapter call was cancelled: the host is shutting down".into()
        })
    })
}

/// The innermost message of an error chain (the one that names the actual problem), on one
/// line.
fn root_cause(e: &wasmtime::Error) -> String {
    let cause = e
        .chain()
        .last()
        .map(ToString::to_string)
        .unwrap_or_else(|| e.to_string());
    cause.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests;
