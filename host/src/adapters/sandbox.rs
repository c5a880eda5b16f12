//! What one adapter instance's store holds: an empty WASI context (no preopened directories,
//! no sockets, no environment, no arguments, stdio discarded), a memory limiter, and the host
//! end of the `log` import.
//!
//! Nothing here may block or touch the file system on the guest's behalf.

use std::sync::Arc;
use std::time::Instant;

use wasmtime::component::{HasData, ResourceTable};
use wasmtime::{ResourceLimiter, Store};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

/// Diagnostic lines an instance may log in a burst before it is throttled.
const LOG_BURST: f64 = 50.0;
/// Lines per second an instance may log once its burst is spent.
const LOG_RATE: f64 = 10.0;
/// Longest diagnostic line kept; the rest is cut.
const LOG_LINE_MAX: usize = 1024;

/// The data of one adapter store.
pub struct Sandbox {
    wasi: WasiCtx,
    table: ResourceTable,
    limiter: MemoryLimiter,
    log: LogLimiter,
    adapter: Arc<str>,
}

impl Sandbox {
    /// A fresh sandbox for the adapter `adapter` with a memory cap in bytes.
    pub fn new(adapter: Arc<str>, memory_limit: usize) -> Self {
        Sandbox {
            // The builder's defaults grant nothing: no directories, no network, no env, and
            // stdio connected to nothing.
            wasi: WasiCtx::builder().build(),
            table: ResourceTable::new(),
            limiter: MemoryLimiter {
                limit: memory_limit,
                denied: false,
            },
            log: LogLimiter::new(),
            adapter,
        }
    }

    /// Makes `store` enforce this sandbox's memory limit.
    pub fn install_limiter(store: &mut Store<Sandbox>) {
        store.limiter(|s| &mut s.limiter);
    }

    /// Whether a memory or table growth was refused since the last call to this method.
    pub fn take_memory_denied(&mut self) -> bool {
        std::mem::take(&mut self.limiter.denied)
    }
}

impl WasiView for Sandbox {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl HasData for Sandbox {
    type Data<'a> = &'a mut Sandbox;
}

/// The host end of the `log` import, in each contract version (the same function in all).
macro_rules! log_import {
    ($v:ident) => {
        impl super::bindings::$v::garrison::adapter::types::Host for Sandbox {}

        impl super::bindings::$v::garrison::adapter::log::Host for Sandbox {
            fn log(
                &mut self,
                level: super::bindings::$v::garrison::adapter::log::Level,
                message: String,
            ) {
                use super::bindings::$v::garrison::adapter::log::Level;
                let level = match level {
                    Level::Trace => tracing::Level::TRACE,
                    Level::Debug => tracing::Level::DEBUG,
                    Level::Info => tracing::Level::INFO,
                    Level::Warn => tracing::Level::WARN,
                    Level::Error => tracing::Level::ERROR,
                };
                self.diagnostic(level, &message);
            }
        }
    };
}

log_import!(v0_1);
log_import!(v0_2);

impl Sandbox {
    /// One diagnostic line from the adapter, rate-limited and cut to length.
    fn diagnostic(&mut self, level: tracing::Level, message: &str) {
        if !self.log.admit() {
            return;
        }
        let message = truncate(message, LOG_LINE_MAX);
        let adapter = &*self.adapter;
        match level {
            tracing::Level::TRACE => tracing::trace!(adapter, "{message}"),
            tracing::Level::DEBUG => tracing::debug!(adapter, "{message}"),
            tracing::Level::INFO => tracing::info!(adapter, "{message}"),
            tracing::Level::WARN => tracing::warn!(adapter, "{message}"),
            _ => tracing::error!(adapter, "{message}"),
        }
    }
}

fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Caps linear memory and remembers that it said no, so a trap that follows can be reported
/// as the memory limit rather than as a bug.
struct MemoryLimiter {
    limit: usize,
    denied: bool,
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let allowed = desired <= self.limit;
        self.denied |= !allowed;
        Ok(allowed)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let allowed = desired <= 100_000;
        self.denied |= !allowed;
        Ok(allowed)
    }
}

/// A token bucket for the guest's diagnostics.
struct LogLimiter {
    tokens: f64,
    last: Instant,
    dropped: u64,
}

impl LogLimiter {
    fn new() -> Self {
        LogLimiter {
            tokens: LOG_BURST,
            last: Instant::now(),
            dropped: 0,
        }
    }

    fn admit(&mut self) -> bool {
        let now = Instant::now();
        let refill = now.duration_since(self.last).as_secs_f64() * LOG_RATE;
        self.tokens = (self.tokens + refill).min(LOG_BURST);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            self.dropped += 1;
            false
        }
    }
}
