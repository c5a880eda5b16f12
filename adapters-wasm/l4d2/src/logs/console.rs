//! What one console line says. The console is the server's standard output, captured by the
//! host; it has no timestamps, and tells when the server is ready for players, which map it
//! loads, and errors and warnings by their first word.
//!
//! `server-ready` is reported once per start: the first ready marker counts, later ones (both
//! markers appear, and a server may reconnect to Steam) do not. The host starts each run's
//! console afresh, but a reader that is kept across runs, or a console that holds several
//! (as `-condebug`'s file does, which appends every start), is re-armed by
//! `Console initialized.`, the first line of a start. Matching is plain string comparison;
//! this module allocates only for the events it returns.

use garrison_adapter_sdk::prelude::*;

use super::Line;

/// Lines that show the server has logged into Steam and accepts players.
const READY_MARKERS: [&str; 2] = [
    "Connection to Steam servers successful.",
    "VAC secure mode is activated.",
];

/// The console's state.
#[derive(Debug, Default)]
pub struct ConsoleLog {
    /// Whether `server-ready` was reported since the console last started.
    ready: bool,
}

impl ConsoleLog {
    /// Reads one line (without its `\n`).
    pub fn read(&mut self, text: &str) -> Line {
        let t = text.trim();
        if t == "Console initialized." {
            self.ready = false;
            return Line::plain(Level::Info);
        }
        if READY_MARKERS.contains(&t) {
            let event = (!self.ready).then_some(GameEvent::ServerReady);
            self.ready = true;
            return Line {
                level: Level::Info,
                time: None,
                event,
            };
        }
        if let Some(name) = t
            .strip_prefix("Loading map \"")
            .and_then(|rest| rest.split_once('"'))
            .map(|(name, _)| name)
            .filter(|name| !name.is_empty())
        {
            return Line {
                level: Level::Info,
                time: None,
                event: Some(GameEvent::MapChange(MapChange {
                    name: name.to_string(),
                    phase: MapPhase::Loading,
                })),
            };
        }
        let level = if t.starts_with("Error") || t.starts_with("ERROR") {
            Level::Error
        } else if t.starts_with("Warning") || t.starts_with("WARNING") {
            Level::Warning
        } else {
            Level::Info
        };
        Line::plain(level)
    }
}
