//! Live telemetry from running servers: following their logs ([`tail`], [`watch`]) into
//! the database and onto the event bus ([`pipeline`]), talking to their remote consoles
//! ([`rcon`]) and keeping track of who is on ([`players`]). Metrics join them here.

pub mod pipeline;
pub mod players;
pub mod rcon;
pub mod tail;
pub mod watch;
