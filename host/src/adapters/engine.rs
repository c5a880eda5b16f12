//! The one wasmtime engine, configured for sandboxing, and the clock that enforces deadlines.
//!
//! Engine: pooling allocator (instances come from pre-reserved slots, memory is initialised
//! copy-on-write), epoch interruption (a call that runs past its deadline traps), and a cap
//! on linear memory. The pool's size comes from the configuration or, by default, from the
//! machine (`pool`). The [`EpochTicker`] advances the epoch only while at least one adapter
//! call is in flight, so an idle host wakes no thread for it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::{self, JoinHandle, Thread};
use std::time::Duration;

use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

use super::pool;

/// Limits every adapter call runs under.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// Most linear memory one instance may use, in bytes (default 64 MiB).
    pub memory_limit: usize,
    /// Longest one call may run (default 100 ms).
    pub call_deadline: Duration,
    /// Most instances alive at once across all adapters (the pool's slots). `None` sizes
    /// the pool from the machine ([`pool::Machine::default_instances`]: 8,127 on x86-64
    /// Linux with the kernel's default mapping limit). A running server holds one instance
    /// for its log parser and, with RCon, one for its RCon session while connected.
    pub max_instances: Option<u32>,
}

/// How the operator raises [`SandboxConfig::max_instances`], for messages.
pub const MAX_INSTANCES_OPTION: &str =
    "`--max-adapter-instances` or `GARRISON_MAX_ADAPTER_INSTANCES`";

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            memory_limit: 64 << 20,
            call_deadline: Duration::from_millis(100),
            max_instances: None,
        }
    }
}

/// Granularity of deadlines: the epoch advances this often while calls run.
pub const EPOCH_TICK: Duration = Duration::from_millis(5);

impl SandboxConfig {
    /// The pool's size: the configured one, or the machine's default.
    pub fn instances(&self) -> u32 {
        self.max_instances
            .unwrap_or_else(|| pool::Machine::this().default_instances(self.memory_limit))
            .max(1)
    }

    /// The call deadline in epoch ticks (at least one).
    pub fn deadline_ticks(&self) -> u64 {
        let ticks = self
            .call_deadline
            .as_nanos()
            .div_ceil(EPOCH_TICK.as_nanos());
        u64::try_from(ticks).unwrap_or(u64::MAX).max(1)
    }
}

/// Builds the engine every adapter shares, with a pool of `config.instances()` slots.
pub fn build_engine(config: &SandboxConfig) -> Result<Engine, String> {
    let instances = config.instances();
    let machine = pool::Machine::this();
    let reservation = machine.memory_reservation(instances, config.memory_limit);
    let mut pooling = PoolingAllocationConfig::default();
    pooling
        .total_component_instances(instances)
        .total_core_instances(instances.saturating_mul(pool::CORE_INSTANCES_PER_INSTANCE))
        .total_memories(instances)
        .total_tables(instances.saturating_mul(pool::TABLES_PER_INSTANCE))
        .table_elements(pool::TABLE_ELEMENTS)
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
        .memory_reservation(reservation)
        .memory_guard_size(pool::MEMORY_GUARD)
        .allocation_strategy(InstanceAllocationStrategy::Pooling(pooling));
    Engine::new(&wasm).map_err(|e| {
        let gib = u64::from(instances)
            .saturating_mul(pool::slot_bytes(reservation, config.memory_limit))
            >> 30;
        format!(
            "cannot reserve {gib} GiB of address space for {instances} adapter instances \
             ({e:#}); lower the number with {MAX_INSTANCES_OPTION}"
        )
    })
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
