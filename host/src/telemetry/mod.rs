//! Live telemetry from running servers: following their logs ([`tail`], [`watch`]) into
//! the database and onto the event bus ([`pipeline`]), and talking to their remote consoles
//! ([`rcon`]). Player tracking and metrics join them here.

pub mod pipeline;
pub mod rcon;
pub mod tail;
pub mod watch;
