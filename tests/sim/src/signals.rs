//! Termination signals as flags the main loop polls.
//!
//! A simulated server stops on SIGTERM or SIGINT like a real one, unless the test asked it to
//! play dead (`--ignore-sigterm`), in which case the signals are caught and ignored so only
//! SIGKILL ends the process. This module only records that a signal arrived; the game module
//! decides what to write before exiting.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Which termination signal arrived first, if any.
#[derive(Clone, Debug)]
pub struct Signals {
    /// Set by the SIGTERM handler.
    term: Arc<AtomicBool>,
    /// Set by the SIGINT handler.
    int: Arc<AtomicBool>,
}

impl Signals {
    /// Installs handlers for SIGTERM and SIGINT. Installing a handler replaces the default
    /// "terminate" action, so with `ignore` set the process simply never looks at the flags.
    pub fn install() -> std::io::Result<Self> {
        let term = Arc::new(AtomicBool::new(false));
        let int = Arc::new(AtomicBool::new(false));
        signal_hook::flag::register(signal_hook::consts::SIGTERM, Arc::clone(&term))?;
        signal_hook::flag::register(signal_hook::consts::SIGINT, Arc::clone(&int))?;
        Ok(Self { term, int })
    }

    /// The name of the signal received so far, if any (and clears nothing).
    pub fn received(&self) -> Option<&'static str> {
        if self.term.load(Ordering::Relaxed) {
            Some("SIGTERM")
        } else if self.int.load(Ordering::Relaxed) {
            Some("SIGINT")
        } else {
            None
        }
    }

    /// Forgets signals received so far (used when they are being ignored, to log each once).
    pub fn clear(&self) {
        self.term.store(false, Ordering::Relaxed);
        self.int.store(false, Ordering::Relaxed);
    }
}
