//! The log parser: records and typed events from the game log (`game`) and the console
//! (`console`).
//!
//! Every line of either log is one record: Left 4 Dead 2 writes no entries that span lines,
//! so nothing is held back and `flush` has nothing to release. State is kept per source —
//! [`game`] remembers recent kicks, [`console`] whether the server was reported ready since
//! the console started — and any other source name is read as plain lines. A line without
//! meaning costs no allocation: its record is a count, a level and a time.

pub mod console;
pub mod game;

use garrison_adapter_sdk::prelude::*;

pub use console::ConsoleLog;
pub use game::{GameLog, timestamp};

/// Name of the game log source (`left4dead2/logs/garrison-<port>/L*.log`) in `log_sources`.
pub const GAME_SOURCE: &str = "game";
/// Name of the console source (the process's output, captured by the host) in `log_sources`.
pub const CONSOLE_SOURCE: &str = "console";

/// What one line is: its severity, the time written on it, and the event it reports.
#[derive(Debug)]
pub struct Line {
    /// Severity.
    pub level: Level,
    /// The time written at the start of the line, if any.
    pub time: Option<Timestamp>,
    /// What the line means, if anything.
    pub event: Option<GameEvent>,
}

impl Line {
    /// A line that reports nothing.
    pub fn plain(level: Level) -> Self {
        Line {
            level,
            time: None,
            event: None,
        }
    }
}

/// The parser for one server: one state per source.
#[derive(Debug, Default)]
pub struct L4d2Parser {
    /// State of the `game` source.
    game: GameLog,
    /// State of the `console` source.
    console: ConsoleLog,
}

impl LogParser for L4d2Parser {
    fn feed(&mut self, source: &str, lines: &str) -> Parsed {
        let capacity = lines.bytes().filter(|&b| b == b'\n').count();
        let mut out = Parsed {
            records: Vec::with_capacity(capacity),
            events: Vec::new(),
        };
        for text in batch_lines(lines) {
            let line = match source {
                GAME_SOURCE => self.game.read(text),
                CONSOLE_SOURCE => self.console.read(text),
                _ => Line::plain(guess_level(text)),
            };
            if let Some(event) = line.event {
                out.events.push(IndexedEvent {
                    record: u32::try_from(out.records.len()).unwrap_or(u32::MAX),
                    event,
                });
            }
            out.records.push(LogRecord {
                lines: 1,
                text: None,
                level: line.level,
                time: line.time,
            });
        }
        out
    }
}
