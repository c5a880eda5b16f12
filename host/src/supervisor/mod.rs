//! The supervisor: runs game servers as operating-system processes.
//!
//! So far this holds the process layer: [`process`] starts a game in its own process group
//! with its console in rotated log files, notices at once when it ends, stops it with
//! SIGTERM then SIGKILL, and reattaches to processes left running by an earlier host run.
//! It knows no game and no database; the state machine that decides what to run sits above
//! it.

pub mod console;
mod error;
pub mod process;
mod process_id;
pub mod server;
mod signals;
mod stop;
mod watch;

#[cfg(test)]
mod tests;
