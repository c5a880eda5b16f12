//! The one wasmtime engine, configured for sandboxing, and the clock that enforces deadlines.
//!
//! Engine: pooling allocator (instances come from pre-reserved slots, memory is initialised
//! copy-on-write), epoch interruption (a call that runs past its deadline traps), and a cap
//! on linear memory. The [`EpochTicker`] advances the epoch only while at least one adapter
//! call is in flight, so an idle host wakes no thread for it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::{self, JoinHandle, Thread};
use std::time::Duration;

use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

/// Limits every adapter call runs under.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// Most linear memory one instance may use, in bytes (default 64 MiB).
    pub memory_limit: usize,
    /// Longest one call may run (default 100 ms).
    pub call_deadline: Duration,
    /// Most instances alive at once across all adapters (pooling slots; default 512).
    pub max_instances: u32,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            memory_limit: 64 << 20,
            call_deadline: Duration::from_millis(100),
            max_instances: 512,
        }
    }
}

/// Granularity of deadlines: the epoch advances this often while calls run.
pub const EPOCH_TICK: Duration = Duration::from_millis(5);

impl SandboxConfig {
    /// The call deadline in epoch ticks (at least one).
    pub fn deadline_ticks(&self) -> u64 {
        let ticks = self
            .call_deadline
            .as_nanos()
            .div_ceil(EPOCH_TICK.as_nanos());
        u64::try_from(ticks).unwrap_or(u64::MAX).max(1)
    }
}

/// Builds the engine every adapter shares.
pub fn build_engine(config: &SandboxConfig) -> wasmtime::Result<Engine> {
    let instances = config.max_instances.max(1);
    let mut pooling = PoolingAllocationConfig::default();
    pooling
        .total_component_instances(instances)
        // A Rust component holds its own module plus small shim modules, and a few tables.
        .total_core_instances(instances.saturating_mul(4))
        .total_memories(instances)
        .total_tables(instances.saturating_mul(4))
        .max_memories_per_component(2)
        .max_tables_per_component(8)
        .max_core_instances_per_component(16)
        .max_memory_size(config.memory_limit)
        // Keep a little of each slot resident so instantiation touches fewer fresh pages.
        .linear_memory_keep_resident(64 << 10)
        .table_keep_resident(16 << 10);

    let mut wasm = Config::new();
    wasm.wasm_component_model(true)
        .epoch_interruption(true)
        .memory_init_cow(true)
        .allocation_strategy(InstanceAllocationStrategy::Pooling(pooling));
    Engine::new(&wasm)
}

/// Advances the engine's epoch every [`EPOCH_TICK`] while calls are in flight. Owned by the
/// runtime; dropping it stops and joins the thread.
pub struct EpochTicker {
    shared: Arc<TickerShared>,
    thread: Option<JoinHandle<()>>,
}

struct TickerShared {
    active: AtomicUsize,
    stop: AtomicBool,
    thread: std::sync::OnceLock<Thread>,
}

impl EpochTicker {
    /// Starts the ticker thread for `engine`.
    pub fn start(engine: Engine) -> std::io::Result<Self> {
        let shared = Arc::new(TickerShared {
            active: AtomicUsize::new(0),
            stop: AtomicBool::new(false),
            thread: std::sync::OnceLock::new(),
        });
        let worker = Arc::clone(&shared);
        let thread = thread::Builder::new()
            .name("garrison-epoch".into())
            .spawn(move || {
                while !worker.stop.load(Ordering::Acquire) {
                    if worker.active.load(Ordering::Acquire) == 0 {
                        thread::park();
                        continue;
                    }
                    thread::sleep(EPOCH_TICK);
                    engine.increment_epoch();
                }
            })?;
        let _ = shared.thread.set(thread.thread().clone());
        Ok(EpochTicker {
            shared,
            thread: Some(thread),
        })
    }

    /// Marks a call as in flight until the guard drops; the ticker runs meanwhile.
    pub fn call_guard(&self) -> CallGuard {
        if self.shared.active.fetch_add(1, Ordering::AcqRel) == 0
            && let Some(t) = self.shared.thread.get()
        {
            t.unpark();
        }
        CallGuard {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Release);
        if let Some(t) = self.shared.thread.get() {
            t.unpark();
        }
        if let Some(handle) = self.thread.take() {
            let _ = handle.join();
        }
    }
}

/// Keeps the epoch ticking while alive.
pub struct CallGuard {
    shared: Arc<TickerShared>,
}

impl Drop for CallGuard {
    fn drop(&mut self) {
        self.shared.active.fetch_sub(1, Ordering::AcqRel);
    }
}
