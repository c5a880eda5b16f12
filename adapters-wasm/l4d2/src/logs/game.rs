//! What one game log line says: its timestamp, its severity and the game event it reports.
//!
//! Every line starts `L MM/DD/YYYY - HH:MM:SS: `; players appear as
//! `"Name<userid><SteamID><team>"`. Names may hold spaces, quotes, `<` and any Unicode, so a
//! player is read from the right (team, SteamID, user id), and the name is whatever is left.
//! Matching is plain byte and prefix comparison dispatched on the first byte of the message,
//! so a line that means nothing costs no allocation. This module must not decide record
//! boundaries (that is the parent's job).

use garrison_adapter_sdk::prelude::*;

use super::Line;

/// User ids remembered between a kick and the `disconnected` line that follows it.
const MAX_KICKED: usize = 32;
/// A player's `"Name<userid><SteamID><team>"` ends within this many bytes of the message
/// (Source names are short); bounding the search keeps hostile lines linear in cost.
const MAX_PLAYER_END: usize = 512;

/// The game log's state.
#[derive(Debug, Default)]
pub struct GameLog {
    /// User ids just kicked: the `disconnected` line that follows a kick reports the same
    /// departure and is not reported again.
    kicked: Vec<String>,
}

/// Splits a line into the time written at its start and the message after it.
pub fn timestamp(line: &str) -> Option<(Timestamp, &str)> {
    let b = line.as_bytes();
    let num = |from: usize, len: usize| -> Option<u32> {
        let digits = b.get(from..from + len)?;
        digits.iter().try_fold(0u32, |n, &d| {
            d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0'))
        })
    };
    let at = |i: usize, c: u8| b.get(i) == Some(&c);
    let shape = at(0, b'L')
        && at(1, b' ')
        && at(4, b'/')
        && at(7, b'/')
        && at(12, b' ')
        && at(13, b'-')
        && at(14, b' ')
        && at(17, b':')
        && at(20, b':')
        && at(23, b':');
    if !shape {
        return None;
    }
    let (month, day, year) = (num(2, 2)?, num(5, 2)?, num(8, 4)?);
    let (hours, minutes, seconds) = (num(15, 2)?, num(18, 2)?, num(21, 2)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    if hours > 23 || minutes > 59 || seconds > 60 {
        return None;
    }
    let message = match b.get(24) {
        None => "",
        Some(b' ') => line.get(25..).unwrap_or(""),
        Some(_) => return None,
    };
    let time = Timestamp {
        date: Some(Date {
            year: u16::try_from(year).ok()?,
            month: u8::try_from(month).ok()?,
            day: u8::try_from(day).ok()?,
        }),
        millis: ((hours * 60 + minutes) * 60 + seconds) * 1000,
    };
    Some((time, message))
}

/// A player as the log writes them: `Name<userid><SteamID><team>`.
#[derive(Debug, Clone, Copy)]
struct Who<'a> {
    name: &'a str,
    userid: &'a str,
    steam: &'a str,
}

impl Who<'_> {
    /// The player reference of an event.
    fn player(&self, address: Option<&str>) -> PlayerRef {
        PlayerRef {
            slot: Some(self.userid.to_string()),
            name: self.name.to_string(),
            unique_id: self.unique_id().map(str::to_string),
            address: address.map(str::to_string),
        }
    }

    /// The SteamID when it is a stable identity (not a bot, the console or a placeholder).
    fn unique_id(&self) -> Option<&str> {
        match self.steam {
            "" | "BOT" | "Console" | "STEAM_ID_PENDING" | "STEAM_ID_LAN" => None,
            id => Some(id),
        }
    }
}

/// `Name<userid><SteamID><team>` (without the surrounding quotes), read from the right.
fn who(s: &str) -> Option<Who<'_>> {
    fn part(s: &str) -> Option<(&str, &str)> {
        let (rest, field) = s.strip_suffix('>')?.rsplit_once('<')?;
        (!field.contains('>')).then_some((rest, field))
    }
    let (rest, _team) = part(s)?;
    let (rest, steam) = part(rest)?;
    let (name, userid) = part(rest)?;
    let digits = userid.strip_prefix('-').unwrap_or(userid);
    if digits.is_empty() || digits.len() > 10 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(Who {
        name,
        userid,
        steam,
    })
}

/// Finds the player at the start of `s` (after its opening quote) followed by `glue`: the
/// first place where `>` + `glue` ends a well-formed player and `then` accepts the rest.
fn player_then<'a, T>(
    s: &'a str,
    glue: &str,
    mut then: impl FnMut(Who<'a>, &'a str) -> Option<T>,
) -> Option<T> {
    let mut from = 0;
    while let Some(found) = s.get(from..)?.find(glue) {
        let end = from + found;
        if end > MAX_PLAYER_END {
            return None;
        }
        if let (Some(inner), Some(rest)) = (s.get(..end), s.get(end + glue.len()..))
            && let Some(w) = who(inner)
            && let Some(result) = then(w, rest)
        {
            return Some(result);
        }
        from = end + 1;
    }
    None
}

/// The text between the opening quote already stripped and the closing quote at the end.
fn quoted_tail(s: &str) -> Option<&str> {
    s.strip_suffix('"')
}

fn map(name: &str, phase: MapPhase) -> Option<GameEvent> {
    (!name.is_empty()).then(|| {
        GameEvent::MapChange(MapChange {
            name: name.to_string(),
            phase,
        })
    })
}

impl GameLog {
    /// Reads one line (without its `\n`).
    pub fn read(&mut self, text: &str) -> Line {
        let text = text.strip_suffix('\r').unwrap_or(text);
        let Some((time, message)) = timestamp(text) else {
            return Line::plain(guess_level(text));
        };
        let event = self.event(message);
        // What players say or are called does not make a line an error.
        let level = if event.is_some() {
            Level::Info
        } else {
            guess_level(message)
        };
        Line {
            level,
            time: Some(time),
            event,
        }
    }

    fn event(&mut self, m: &str) -> Option<GameEvent> {
        match m.as_bytes().first()? {
            b'"' => self.player(m.get(1..)?),
            b'K' => self.kick(m.strip_prefix("Kick: \"")?),
            b'L' => {
                let (name, _) = m.strip_prefix("Loading map \"")?.split_once('"')?;
                map(name, MapPhase::Loading)
            }
            b'S' => {
                let (name, _) = m.strip_prefix("Started map \"")?.split_once('"')?;
                map(name, MapPhase::Started)
            }
            _ => None,
        }
    }

    /// A line about one player (after the opening quote).
    fn player(&mut self, s: &str) -> Option<GameEvent> {
        player_then(s, "\" ", |w, rest| self.verb(w, rest))
    }

    fn verb(&mut self, w: Who<'_>, rest: &str) -> Option<GameEvent> {
        if let Some(address) = rest.strip_prefix("connected, address \"") {
            let address = quoted_tail(address)?;
            self.kicked.retain(|id| id != w.userid);
            let address = (!address.is_empty()).then_some(address);
            return Some(GameEvent::PlayerConnecting(w.player(address)));
        }
        if rest == "entered the game" {
            return Some(GameEvent::PlayerJoined(w.player(None)));
        }
        if let Some(after) = rest.strip_prefix("disconnected") {
            let reason = if after.is_empty() {
                None
            } else {
                let reason = quoted_tail(after.strip_prefix(" (reason \"")?.strip_suffix(')')?)?;
                Some(reason.to_string()).filter(|r| !r.is_empty())
            };
            if let Some(pos) = self.kicked.iter().position(|id| id == w.userid) {
                self.kicked.swap_remove(pos);
                return None;
            }
            return Some(GameEvent::PlayerLeft(PlayerLeft {
                player: w.player(None),
                departure: Departure::Disconnected,
                reason,
            }));
        }
        if rest == "STEAM USERID validated" {
            let id = w.unique_id()?;
            return Some(GameEvent::PlayerIdentified(PlayerIdentity {
                player: w.player(None),
                kind: "steam-id".to_string(),
                value: id.to_string(),
                verified: Some(true),
            }));
        }
        let (channel, text) = if let Some(text) = rest.strip_prefix("say \"") {
            ("all", text)
        } else if let Some(text) = rest.strip_prefix("say_team \"") {
            ("team", text)
        } else {
            return None;
        };
        Some(GameEvent::Chat(ChatMessage {
            channel: channel.to_string(),
            sender: (w.steam != "Console").then(|| w.name.to_string()),
            text: quoted_tail(text)?.to_string(),
        }))
    }

    /// `Kick: "WHO" was kicked by "BY" (message "WHY")`, after `Kick: "`.
    fn kick(&mut self, s: &str) -> Option<GameEvent> {
        let (w, by) = player_then(s, "\" was kicked by \"", |w, rest| Some((w, rest)))?;
        let reason = by
            .rsplit_once("\" (message \"")
            .and_then(|(_, why)| why.strip_suffix("\")"))
            .filter(|why| !why.is_empty())
            .map(str::to_string);
        if !self.kicked.iter().any(|id| id == w.userid) {
            if self.kicked.len() >= MAX_KICKED {
                self.kicked.remove(0);
            }
            self.kicked.push(w.userid.to_string());
        }
        Some(GameEvent::PlayerLeft(PlayerLeft {
            player: w.player(None),
            departure: Departure::Kicked,
            reason,
        }))
    }
}
