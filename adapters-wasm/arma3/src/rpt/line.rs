//! What one RPT line says: its timestamp, its severity and the game event it reports.
//!
//! Matching is plain prefix and suffix comparison, dispatched on the first byte, so a line
//! that means nothing costs a few byte comparisons and no allocation. Player names may hold
//! spaces and any Unicode, so names are cut from the known text around them, never split on
//! whitespace. This module must not decide record boundaries (that is the parent's job).

use garrison_adapter_sdk::prelude::*;

/// What earlier lines of the log told the parser.
#[derive(Debug, Default)]
pub struct Memory {
    /// The mission from the last `Mission directory:` line, named in map changes.
    mission: String,
    /// A player just kicked: the `disconnected` lines that follow the kick report the same
    /// departure and are not reported again.
    kicked: Option<String>,
    /// Whether `server-ready` was reported for the current file.
    ready: bool,
}

/// Splits a line into the time written at its start and the message after it: `HH:MM:SS` or
/// ` H:MM:SS`, an optional fraction `.ddd`, then a space (or the end of the line).
pub fn timestamp(line: &str) -> Option<(Timestamp, &str)> {
    let b = line.as_bytes();
    let digit = |i: usize| {
        b.get(i)
            .filter(|c| c.is_ascii_digit())
            .map(|c| u32::from(c - b'0'))
    };
    let tens = match b.first() {
        Some(b' ') => 0,
        _ => digit(0)?,
    };
    let hours = tens * 10 + digit(1)?;
    if b.get(2) != Some(&b':') || b.get(5) != Some(&b':') {
        return None;
    }
    let minutes = digit(3)? * 10 + digit(4)?;
    let seconds = digit(6)? * 10 + digit(7)?;
    if hours > 23 || minutes > 59 || seconds > 59 {
        return None;
    }
    let mut millis = 0;
    let mut pos = 8;
    if b.get(pos) == Some(&b'.') {
        pos += 1;
        let start = pos;
        while let Some(d) = digit(pos) {
            if pos - start < 3 {
                millis = millis * 10 + d;
            }
            pos += 1;
        }
        if pos == start {
            return None;
        }
        for _ in (pos - start)..3 {
            millis *= 10;
        }
    }
    let message = match b.get(pos) {
        None => "",
        Some(b' ') => line.get(pos + 1..).unwrap_or(""),
        Some(_) => return None,
    };
    let time = Timestamp {
        date: None,
        millis: ((hours * 60 + minutes) * 60 + seconds) * 1000 + millis,
    };
    Some((time, message))
}

impl Memory {
    /// Forgets what belonged to the previous file: a new RPT means a new server start.
    pub fn new_file(&mut self) {
        self.mission.clear();
        self.kicked = None;
        self.ready = false;
    }

    /// The severity of a timestamped message and the event it reports, if any.
    pub fn read(&mut self, message: &str) -> (Level, Option<GameEvent>) {
        let message = message.strip_suffix('\r').unwrap_or(message);
        let trimmed = message.trim_start();
        let level = if trimmed.starts_with("Error") {
            Level::Error
        } else if trimmed.starts_with("Warning") {
            Level::Warning
        } else {
            Level::Info
        };
        (level, self.event(message))
    }

    fn event(&mut self, m: &str) -> Option<GameEvent> {
        match m.as_bytes().first()? {
            b'P' => self.player(m.strip_prefix("Player ")?),
            b'B' => self.battleye(m.strip_prefix("BattlEye Server: ")?),
            b'G' => match m {
                "Game started." => Some(self.map(MapPhase::Started)),
                "Game finished." => Some(self.map(MapPhase::Finished)),
                _ if m.starts_with("Game restarted") => Some(self.map(MapPhase::Restarted)),
                _ => ports(m.strip_prefix("Game Port: ")?),
            },
            b'M' => {
                if m == "Mission read." {
                    return Some(self.map(MapPhase::Loading));
                }
                let dir = m.strip_prefix("Mission directory: ")?;
                let dir = dir.trim_end().trim_end_matches(['\\', '/']);
                let name = dir.rsplit(['\\', '/']).next().unwrap_or(dir);
                self.mission.clear();
                self.mission.push_str(name);
                None
            }
            b'R' if m.starts_with("Reading mission") => Some(self.map(MapPhase::Loading)),
            b'H' if m.starts_with("Host identity created") => self.ready(),
            b'S' => server_load(m.strip_prefix("Server load: ")?),
            _ => None,
        }
    }

    fn map(&self, phase: MapPhase) -> GameEvent {
        GameEvent::MapChange(MapChange {
            name: self.mission.clone(),
            phase,
        })
    }

    fn ready(&mut self) -> Option<GameEvent> {
        if self.ready {
            return None;
        }
        self.ready = true;
        Some(GameEvent::ServerReady)
    }

    /// The game's own player lines, after `Player `.
    fn player(&mut self, rest: &str) -> Option<GameEvent> {
        if let Some(name) = rest.strip_suffix(" connecting.") {
            if self.kicked.as_deref() == Some(name) {
                self.kicked = None;
            }
            return Some(GameEvent::PlayerConnecting(player(None, name, None, None)));
        }
        if let Some(name) = rest.strip_suffix(" disconnected.") {
            return self.left(None, name);
        }
        if let Some((name, reason)) = rest.split_once(" kicked off by BattlEye: ") {
            self.kicked = Some(name.to_string());
            return Some(GameEvent::PlayerLeft(PlayerLeft {
                player: player(None, name, None, None),
                departure: Departure::Kicked,
                reason: Some(reason.trim().to_string()).filter(|r| !r.is_empty()),
            }));
        }
        let (name, id) = rest.strip_suffix(").")?.rsplit_once(" connected (id=")?;
        Some(GameEvent::PlayerJoined(player(None, name, Some(id), None)))
    }

    fn left(&mut self, slot: Option<&str>, name: &str) -> Option<GameEvent> {
        if self.kicked.as_deref() == Some(name) {
            return None;
        }
        Some(GameEvent::PlayerLeft(PlayerLeft {
            player: player(slot, name, None, None),
            departure: Departure::Disconnected,
            reason: None,
        }))
    }

    /// BattlEye's lines, after `BattlEye Server: `.
    fn battleye(&mut self, rest: &str) -> Option<GameEvent> {
        if rest.starts_with("Initialized") {
            return self.ready();
        }
        if let Some(after) = rest.strip_prefix("Player #") {
            let (slot, body) = slot_and_rest(after)?;
            if let Some((name, address)) = body
                .strip_suffix(") connected")
                .and_then(|b| b.rsplit_once(" ("))
            {
                return Some(GameEvent::PlayerConnecting(player(
                    Some(slot),
                    name,
                    None,
                    Some(address),
                )));
            }
            if let Some(name) = body.strip_suffix(" disconnected") {
                return self.left(Some(slot), name);
            }
            let (name, guid) = body.rsplit_once(" - BE GUID: ")?;
            return Some(identified(slot, name, guid, None));
        }
        if let Some(after) = rest.strip_prefix("Verified GUID (") {
            let (guid, who) = after.split_once(") of player #")?;
            let (slot, name) = slot_and_rest(who)?;
            return Some(identified(slot, name, guid, Some(true)));
        }
        chat(rest.strip_prefix('(')?)
    }
}

/// `0 Name…` → ("0", "Name…").
fn slot_and_rest(s: &str) -> Option<(&str, &str)> {
    let (slot, rest) = s.split_once(' ')?;
    (!slot.is_empty() && slot.bytes().all(|b| b.is_ascii_digit())).then_some((slot, rest))
}

fn player(slot: Option<&str>, name: &str, id: Option<&str>, address: Option<&str>) -> PlayerRef {
    PlayerRef {
        slot: slot.map(str::to_string),
        name: name.to_string(),
        unique_id: id.map(str::to_string),
        address: address.map(str::to_string),
    }
}

fn identified(slot: &str, name: &str, guid: &str, verified: Option<bool>) -> GameEvent {
    GameEvent::PlayerIdentified(PlayerIdentity {
        player: player(Some(slot), name, None, None),
        kind: "battleye-guid".to_string(),
        value: guid.trim().to_string(),
        verified,
    })
}

/// `Global) Name: text` (after the opening parenthesis).
fn chat(s: &str) -> Option<GameEvent> {
    let (channel, rest) = s.split_once(") ")?;
    if channel.is_empty() || !channel.bytes().all(|b| b.is_ascii_alphabetic()) {
        return None;
    }
    let (sender, text) = rest.split_once(": ")?;
    Some(GameEvent::Chat(ChatMessage {
        channel: channel.to_ascii_lowercase(),
        sender: Some(sender.to_string()),
        text: text.to_string(),
    }))
}

/// The number at the start of `s` (digits and at most one `.`).
fn leading_number(s: &str) -> Option<f64> {
    let end = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    s.get(..end)?.parse().ok()
}

/// The number right after the first `label` in `s`.
fn number_after(s: &str, label: &str) -> Option<f64> {
    let at = s.find(label)? + label.len();
    leading_number(s.get(at..)?)
}

fn metrics(s: &str, labels: &[(&str, &str)]) -> Option<GameEvent> {
    let samples: Vec<MetricSample> = labels
        .iter()
        .filter_map(|(label, name)| {
            number_after(s, label).map(|value| MetricSample {
                name: (*name).to_string(),
                value,
            })
        })
        .collect();
    (!samples.is_empty()).then_some(GameEvent::Metrics(samples))
}

/// `2302, Steam Query Port: 2303` (after `Game Port: `).
fn ports(s: &str) -> Option<GameEvent> {
    let game = leading_number(s)?;
    let mut samples = vec![MetricSample {
        name: "game_port".to_string(),
        value: game,
    }];
    if let Some(query) = number_after(s, "Steam Query Port: ") {
        samples.push(MetricSample {
            name: "query_port".to_string(),
            value: query,
        });
    }
    Some(GameEvent::Metrics(samples))
}

/// `FPS 49, memory used: 1093 MB, out: 12 Kbps, in: 3 Kbps, …, Players: 1 (…)`.
fn server_load(s: &str) -> Option<GameEvent> {
    // Searched with the text around them: ", in: " must not match inside another label.
    let s = format!(", {s}");
    metrics(
        &s,
        &[
            (", FPS ", "server_fps"),
            (", memory used: ", "memory_mb"),
            (", Players: ", "players"),
            (", out: ", "out_kbps"),
            (", in: ", "in_kbps"),
        ],
    )
}
