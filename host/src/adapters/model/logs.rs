//! Parsed log records, typed game events and log sources.

use serde::{Deserialize, Serialize};

use super::plans::PathRef;

/// Severity of a log record.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// Debug chatter.
    Debug,
    /// Normal.
    Info,
    /// Worth a look.
    Warning,
    /// Went wrong.
    Error,
}

/// One parsed log entry.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LogRecord {
    /// Text (multi-line entries joined with `\n`).
    pub text: String,
    /// Severity.
    pub level: Level,
    /// The game's own timestamp, normalised.
    pub time: Option<String>,
}

/// A player as a log line names them.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct PlayerRef {
    /// In-session id.
    pub slot: Option<String>,
    /// Display name.
    pub name: String,
    /// Stable identity.
    pub unique_id: Option<String>,
    /// ip:port.
    pub address: Option<String>,
}

/// What a log record means.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum GameEvent {
    /// A player is connecting.
    PlayerConnecting {
        /// Who.
        player: PlayerRef,
    },
    /// A player is in.
    PlayerJoined {
        /// Who.
        player: PlayerRef,
    },
    /// A player left.
    PlayerLeft {
        /// Who.
        player: PlayerRef,
        /// "disconnected", "kicked" or "banned".
        departure: String,
        /// Reason given.
        reason: Option<String>,
    },
    /// An identity was reported for a player.
    PlayerIdentified {
        /// Who.
        player: PlayerRef,
        /// Identity kind.
        kind: String,
        /// Identity value.
        value: String,
        /// Verified, if known.
        verified: Option<bool>,
    },
    /// Chat.
    Chat {
        /// Channel.
        channel: String,
        /// Sender.
        sender: Option<String>,
        /// Message.
        text: String,
    },
    /// Ready for players.
    ServerReady,
    /// Map or mission change.
    MapChange {
        /// Name.
        name: String,
        /// "loading", "started", "finished" or "restarted".
        phase: String,
    },
    /// Game-reported figures.
    Metrics {
        /// (name, value) samples.
        samples: Vec<(String, f64)>,
    },
}

/// A parsed log record and the events read from it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ParsedEntry {
    /// The record.
    #[serde(flatten)]
    pub record: LogRecord,
    /// Its events (most records have none).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub events: Vec<GameEvent>,
}

impl ParsedEntry {
    /// An entry for a line no parser has read (kept as it is, level guessed as info).
    pub fn plain(text: String) -> Self {
        ParsedEntry {
            record: LogRecord {
                text,
                level: Level::Info,
                time: None,
            },
            events: Vec::new(),
        }
    }
}

/// Where a log comes from.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum LogLocation {
    /// The process's captured stdout/stderr.
    Console,
    /// The newest matching file in a directory.
    NewestFile {
        /// The directory.
        dir: PathRef,
        /// `*`/`?` file-name pattern.
        pattern: String,
    },
}

/// One log to tail.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct LogSource {
    /// Name passed back to the parser.
    pub name: String,
    /// Where.
    pub location: LogLocation,
}

/// The conversions from one contract version's generated types (the same shapes in every
/// version that has them).
macro_rules! from_wit {
    ($v:ident) => {
        mod $v {
            #[allow(unused_imports)]
            use super::*;
            use crate::adapters::bindings::$v::exports::garrison::adapter::logs;

            impl From<logs::PlayerRef> for PlayerRef {
                fn from(p: logs::PlayerRef) -> Self {
                    PlayerRef {
                        slot: p.slot,
                        name: p.name,
                        unique_id: p.unique_id,
                        address: p.address,
                    }
                }
            }

            impl From<logs::GameEvent> for GameEvent {
                fn from(e: logs::GameEvent) -> Self {
                    match e {
                        logs::GameEvent::PlayerConnecting(player) => GameEvent::PlayerConnecting {
                            player: player.into(),
                        },
                        logs::GameEvent::PlayerJoined(player) => GameEvent::PlayerJoined {
                            player: player.into(),
                        },
                        logs::GameEvent::PlayerLeft(left) => GameEvent::PlayerLeft {
                            player: left.player.into(),
                            departure: match left.departure {
                                logs::Departure::Disconnected => "disconnected",
                                logs::Departure::Kicked => "kicked",
                                logs::Departure::Banned => "banned",
                            }
                            .to_string(),
                            reason: left.reason,
                        },
                        logs::GameEvent::PlayerIdentified(id) => GameEvent::PlayerIdentified {
                            player: id.player.into(),
                            kind: id.kind,
                            value: id.value,
                            verified: id.verified,
                        },
                        logs::GameEvent::Chat(chat) => GameEvent::Chat {
                            channel: chat.channel,
                            sender: chat.sender,
                            text: chat.text,
                        },
                        logs::GameEvent::ServerReady => GameEvent::ServerReady,
                        logs::GameEvent::MapChange(change) => GameEvent::MapChange {
                            name: change.name,
                            phase: match change.phase {
                                logs::MapPhase::Loading => "loading",
                                logs::MapPhase::Started => "started",
                                logs::MapPhase::Finished => "finished",
                                logs::MapPhase::Restarted => "restarted",
                            }
                            .to_string(),
                        },
                        logs::GameEvent::Metrics(samples) => GameEvent::Metrics {
                            samples: samples.into_iter().map(|s| (s.name, s.value)).collect(),
                        },
                    }
                }
            }

            fn level(l: logs::Level) -> Level {
                match l {
                    logs::Level::Debug => Level::Debug,
                    logs::Level::Info => Level::Info,
                    logs::Level::Warning => Level::Warning,
                    logs::Level::Error => Level::Error,
                }
            }

            /// `YYYY-MM-DDTHH:MM:SS[.mmm]`, or `HH:MM:SS[.mmm]` without a date; none when out of range.
            pub(super) fn format_time(t: &logs::Timestamp) -> Option<String> {
                if t.millis >= 86_400_000 {
                    return None;
                }
                let (secs, ms) = (t.millis / 1000, t.millis % 1000);
                let mut out = match &t.date {
                    Some(d) if (1..=12).contains(&d.month) && (1..=31).contains(&d.day) => {
                        format!("{:04}-{:02}-{:02}T", d.year, d.month, d.day)
                    }
                    Some(_) => return None,
                    None => String::new(),
                };
                out.push_str(&format!(
                    "{:02}:{:02}:{:02}",
                    secs / 3600,
                    secs / 60 % 60,
                    secs % 60
                ));
                if ms != 0 {
                    out.push_str(&format!(".{ms:03}"));
                }
                Some(out)
            }

            impl logs::Parsed {
                /// Turns a parser's answer into entries, taking the covered lines from the front of
                /// `pending` (moved, not copied, for the common one-line record). Fails without touching
                /// `pending` if the records claim lines that were never fed.
                pub(crate) fn into_entries(
                    self,
                    pending: &mut std::collections::VecDeque<String>,
                ) -> Result<Vec<ParsedEntry>, String> {
                    let parsed = self;
                    let mut covered: usize = 0;
                    for r in &parsed.records {
                        if r.lines == 0 {
                            return Err("a log record covers no line".into());
                        }
                        covered = covered.saturating_add(r.lines as usize);
                    }
                    if covered > pending.len() {
                        return Err(format!(
                            "log records cover {covered} lines but only {} were fed",
                            pending.len()
                        ));
                    }
                    let mut entries: Vec<ParsedEntry> = Vec::with_capacity(parsed.records.len());
                    for r in parsed.records {
                        let n = r.lines as usize;
                        let text = match r.text {
                            Some(text) => {
                                pending.drain(..n);
                                text
                            }
                            None if n == 1 => pending.pop_front().unwrap_or_default(),
                            None => pending.drain(..n).collect::<Vec<_>>().join("\n"),
                        };
                        entries.push(ParsedEntry {
                            record: LogRecord {
                                text,
                                level: level(r.level),
                                time: r.time.as_ref().and_then(format_time),
                            },
                            events: Vec::new(),
                        });
                    }
                    for indexed in parsed.events {
                        // An event pointing past the records is an adapter bug; keep it on the last record
                        // rather than lose it.
                        let index = usize::try_from(indexed.record).unwrap_or(usize::MAX);
                        let last = entries.len().saturating_sub(1);
                        if let Some(entry) = entries.get_mut(index.min(last)) {
                            entry.events.push(indexed.event.into());
                        }
                    }
                    Ok(entries)
                }
            }

            impl From<logs::LogSource> for LogSource {
                fn from(s: logs::LogSource) -> Self {
                    LogSource {
                        name: s.name,
                        location: match s.location {
                            logs::LogLocation::Console => LogLocation::Console,
                            logs::LogLocation::NewestFile(p) => LogLocation::NewestFile {
                                dir: p.dir.into(),
                                pattern: p.pattern,
                            },
                        },
                    }
                }
            }
        }
    };
}

from_wit!(v0_1);
from_wit!(v0_2);

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;

    use super::*;
    use crate::adapters::bindings::v0_1::exports::garrison::adapter::logs;

    fn record(lines: u32, text: Option<&str>, time: Option<logs::Timestamp>) -> logs::LogRecord {
        logs::LogRecord {
            lines,
            text: text.map(String::from),
            level: logs::Level::Info,
            time,
        }
    }

    fn pending(lines: &[&str]) -> VecDeque<String> {
        lines.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn records_take_their_lines_in_order() {
        let mut queue = pending(&["a", "b", "c", "d", "e"]);
        let parsed = logs::Parsed {
            records: vec![
                record(1, None, None),
                record(2, None, None),
                record(1, Some("rewritten"), None),
            ],
            events: vec![logs::IndexedEvent {
                record: 1,
                event: logs::GameEvent::ServerReady,
            }],
        };
        let entries = parsed.into_entries(&mut queue).expect("valid");
        let texts: Vec<&str> = entries.iter().map(|e| e.record.text.as_str()).collect();
        assert_eq!(texts, ["a", "b\nc", "rewritten"]);
        assert_eq!(entries[1].events, vec![GameEvent::ServerReady]);
        assert_eq!(queue, pending(&["e"]), "the held-back line stays pending");
    }

    #[test]
    fn records_that_claim_too_much_are_a_contract_error_and_touch_nothing() {
        let mut queue = pending(&["a"]);
        let too_many = logs::Parsed {
            records: vec![record(2, None, None)],
            events: Vec::new(),
        };
        assert!(too_many.into_entries(&mut queue).is_err());
        let zero = logs::Parsed {
            records: vec![record(0, None, None)],
            events: Vec::new(),
        };
        assert!(zero.into_entries(&mut queue).is_err());
        assert_eq!(queue, pending(&["a"]));
    }

    #[test]
    fn game_times_are_normalised() {
        let time = |date: Option<(u16, u8, u8)>, millis| logs::Timestamp {
            date: date.map(|(year, month, day)| logs::Date { year, month, day }),
            millis,
        };
        assert_eq!(
            v0_1::format_time(&time(None, 4 * 3_600_000 + 69_000)).as_deref(),
            Some("04:01:09")
        );
        assert_eq!(
            v0_1::format_time(&time(None, 7 * 3_600_000 + 52 * 60_000 + 9_123)).as_deref(),
            Some("07:52:09.123")
        );
        assert_eq!(
            v0_1::format_time(&time(
                Some((2024, 1, 2)),
                3 * 3_600_000 + 4 * 60_000 + 5_000
            ))
            .as_deref(),
            Some("2024-01-02T03:04:05")
        );
        assert_eq!(v0_1::format_time(&time(None, 86_400_000)), None);
        assert_eq!(v0_1::format_time(&time(Some((2024, 13, 1)), 0)), None);
        let mut queue = pending(&["x"]);
        let parsed = logs::Parsed {
            records: vec![record(1, None, Some(time(None, 1000)))],
            events: Vec::new(),
        };
        let entries = parsed.into_entries(&mut queue).expect("valid");
        assert_eq!(entries[0].record.time.as_deref(), Some("00:00:01"));
    }
}
