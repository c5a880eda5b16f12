//! The RPT log parser: records and typed events from Arma 3's log.
//!
//! An RPT entry starts with a time (`12:34:56`, ` 4:01:09`, optionally `.123`); lines without
//! one that follow an entry continue it (a script error spans several lines). So the parser
//! holds the latest entry back until the next line shows it is complete, and releases it in
//! `flush`. Lines before the first entry (the header block of a new file) and lines right after
//! a flush are plain one-line records, never joined to anything. Records always cover the input
//! lines in order, each exactly once, however the host cuts the batches.
//!
//! This module owns record boundaries and per-source state; what a line means is
//! [`line`]'s business. Sources other than `rpt` (the console) are plain lines. A line without
//! meaning costs no allocation: its record is a count, a level and a time.

mod line;

use garrison_adapter_sdk::prelude::*;

pub use line::{Memory, timestamp};

/// Name of the RPT source in `log_sources`.
pub const RPT_SOURCE: &str = "rpt";
/// Most input lines one record covers; a longer run of continuation lines is cut into several
/// records, so one runaway entry cannot grow without bound in the host.
pub const MAX_RECORD_LINES: u32 = 10_000;

/// The entry held back until the next line shows whether it continues.
#[derive(Debug)]
struct Held {
    /// Input lines covered so far.
    lines: u32,
    /// Severity, from the entry's first line.
    level: Level,
    /// The time written on the first line.
    time: Timestamp,
    /// What the first line means, if anything; emitted with the record.
    event: Option<GameEvent>,
}

/// The parser for one server. Only the `rpt` source has state.
#[derive(Debug, Default)]
pub struct RptParser {
    /// The entry held back from the last `feed` of `rpt`.
    held: Option<Held>,
    /// What earlier lines told (current mission, a recent kick).
    memory: Memory,
}

impl LogParser for RptParser {
    fn feed(&mut self, source: &str, lines: &str) -> Parsed {
        let capacity = lines.bytes().filter(|&b| b == b'\n').count();
        let mut out = Parsed {
            records: Vec::with_capacity(capacity),
            events: Vec::new(),
        };
        if source != RPT_SOURCE {
            out.records
                .extend(batch_lines(lines).map(|l| LogRecord::line(guess_level(l))));
            return out;
        }
        for l in batch_lines(lines) {
            self.push(l, &mut out);
        }
        out
    }

    fn flush(&mut self, source: &str) -> Parsed {
        let mut out = Parsed {
            records: Vec::new(),
            events: Vec::new(),
        };
        if source == RPT_SOURCE {
            self.release(&mut out);
        }
        out
    }
}

impl RptParser {
    /// Takes one input line (without its `\n`).
    fn push(&mut self, text: &str, out: &mut Parsed) {
        if let Some((time, message)) = timestamp(text) {
            self.release(out);
            let (level, event) = self.memory.read(message);
            self.held = Some(Held {
                lines: 1,
                level,
                time,
                event,
            });
            return;
        }
        if text.starts_with("=====") {
            // The banner of a new RPT: never part of the previous file's last entry.
            self.release(out);
            self.memory.new_file();
            out.records.push(LogRecord::line(Level::Info));
            return;
        }
        match &mut self.held {
            Some(held) if held.lines < MAX_RECORD_LINES => held.lines += 1,
            Some(held) => {
                let (level, time) = (held.level, held.time);
                self.release(out);
                self.held = Some(Held {
                    lines: 1,
                    level,
                    time,
                    event: None,
                });
            }
            None => out.records.push(LogRecord::line(guess_level(text))),
        }
    }

    /// Emits the held entry, with its event pointing at it.
    fn release(&mut self, out: &mut Parsed) {
        let Some(held) = self.held.take() else {
            return;
        };
        let index = u32::try_from(out.records.len()).unwrap_or(u32::MAX);
        out.records.push(LogRecord {
            lines: held.lines,
            text: None,
            level: held.level,
            time: Some(held.time),
        });
        if let Some(event) = held.event {
            out.events.push(IndexedEvent {
                record: index,
                event,
            });
        }
    }
}
