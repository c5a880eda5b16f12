//! Live telemetry from running servers: following their logs ([`tail`], [`watch`]) into
//! the database and onto the event bus ([`pipeline`]), talking to their remote consoles
//! ([`rcon`]), keeping track of who is on ([`players`]), sampling resource use
//! ([`metrics`]) and pruning old history ([`retention`]); [`counters`] holds host-internal
//! figures for Prometheus.

pub mod counters;
pub mod metrics;
pub mod pipeline;
pub mod players;
pub mod rcon;
pub mod retention;
pub mod tail;
pub mod watch;
