//! Host-internal figures for the Prometheus endpoint: plain process-wide atomic counters and
//! gauges, bumped where the thing happens and read by `GET /metrics`.
//!
//! They are statistics, not state: nothing may decide anything from them, and they reset when
//! the host restarts (Prometheus handles counter resets). Relaxed ordering is enough.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

/// Events a lagging WebSocket client did not receive (reported to it as `resync`).
pub static WS_EVENTS_DROPPED: AtomicU64 = AtomicU64::new(0);
/// WebSocket connections open now.
pub static WS_CONNECTIONS: AtomicI64 = AtomicI64::new(0);
/// WebSocket connections accepted since the host started.
pub static WS_CONNECTIONS_TOTAL: AtomicU64 = AtomicU64::new(0);
/// RCon connection attempts after the first one of a session (reconnects).
pub static RCON_RECONNECTS: AtomicU64 = AtomicU64::new(0);
/// Kept bans the host pushed to a game (at once, or when its RCon session logged in).
pub static BANS_PUSHED: AtomicU64 = AtomicU64::new(0);
/// Bans (or lifts) that could not be pushed to a game, to be tried again at its next login.
pub static BAN_PUSH_FAILURES: AtomicU64 = AtomicU64::new(0);
/// Adapter calls that failed (trap, deadline, memory limit, contract violation).
pub static ADAPTER_CALL_ERRORS: AtomicU64 = AtomicU64::new(0);

/// Adds `n` to a counter.
pub fn add(counter: &AtomicU64, n: u64) {
    counter.fetch_add(n, Ordering::Relaxed);
}

/// A counter's value.
pub fn get(counter: &AtomicU64) -> u64 {
    counter.load(Ordering::Relaxed)
}

/// Counts one open connection until the guard is dropped.
#[derive(Debug)]
pub struct ConnectionGuard(());

impl ConnectionGuard {
    /// Counts a WebSocket connection as open (and accepted).
    pub fn open() -> Self {
        WS_CONNECTIONS.fetch_add(1, Ordering::Relaxed);
        add(&WS_CONNECTIONS_TOTAL, 1);
        ConnectionGuard(())
    }
}

impl Drop for ConnectionGuard {
    fn drop(&mut self) {
        WS_CONNECTIONS.fetch_sub(1, Ordering::Relaxed);
    }
}
