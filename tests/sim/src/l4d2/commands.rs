//! Console commands sent over RCON, and the text of their replies.
//!
//! Takes the body of one EXECCOMMAND from an authenticated client, logs it the way the server
//! does (`rcon from "…": command "…"`), runs each `;`-separated command against the world and
//! returns the reply text. `status` and `listid` replies are laid out like the golden samples
//! `status.txt` and `listid.txt`. Packets and sockets are the RCON server's business; files are
//! the main loop's (this module only hands back what `writeid` wants written).

use std::fmt::Write as _;
use std::time::Instant;

use super::logs::VERSION;
use super::world::{Stage, World};

/// What the server should do after replying.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    /// The reply text (empty for commands that answer nothing).
    pub reply: String,
    /// `quit`: reply, then stop the server.
    pub quit: bool,
    /// `writeid`: the new contents of `cfg/banned_user.cfg`.
    pub ban_file: Option<String>,
}

/// Runs one RCON command body from `from` (`IP:PORT`).
pub fn execute(world: &mut World, from: &str, body: &str, now: Instant) -> Outcome {
    world.rcon_line(from, body);
    let mut out = Outcome::default();
    for command in split_commands(body) {
        run_one(world, &command, now, &mut out);
        if out.quit {
            break;
        }
    }
    out
}

/// Splits a body into commands at `;` and line breaks outside quotes.
fn split_commands(body: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for c in body.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                current.push(c);
            }
            ';' | '\n' | '\r' if !quoted => out.push(std::mem::take(&mut current)),
            _ => current.push(c),
        }
    }
    out.push(current);
    out.into_iter()
        .map(|c| c.trim().to_string())
        .filter(|c| !c.is_empty())
        .collect()
}

/// The first word and the trimmed rest.
fn first_word(text: &str) -> (&str, &str) {
    let text = text.trim();
    text.split_once(char::is_whitespace)
        .map(|(w, r)| (w, r.trim()))
        .unwrap_or((text, ""))
}

/// Removes one pair of surrounding quotes, as the console does for a quoted argument.
fn unquote(text: &str) -> &str {
    let text = text.trim();
    text.strip_prefix('"')
        .map(|t| t.strip_suffix('"').unwrap_or(t))
        .unwrap_or(text)
}

fn run_one(world: &mut World, command: &str, now: Instant, out: &mut Outcome) {
    let (verb, rest) = first_word(command);
    let reply = match verb.to_ascii_lowercase().as_str() {
        "status" => status_reply(world, now),
        "listid" => listid_reply(world, now),
        "kickid" => kickid(world, rest),
        "banid" => banid(world, rest, now),
        "removeid" => match unquote(rest) {
            "" => "Usage:  removeid < slot | uniqueid >\n".into(),
            id if world.remove_ban(id, now) => String::new(),
            id => format!("removeid: couldn't find {id}\n"),
        },
        "writeid" => {
            let mut file = String::new();
            for ban in world.bans(now).iter().filter(|b| b.expires.is_none()) {
                let _ = writeln!(file, "banid 0 {}", ban.steam_id);
            }
            out.ban_file = Some(file);
            String::new()
        }
        "say" => {
            world.console_say(unquote(rest));
            String::new()
        }
        "changelevel" => changelevel(world, unquote(rest)),
        "quit" | "exit" => {
            out.quit = true;
            String::new()
        }
        _ => format!("Unknown command \"{verb}\"\n"),
    };
    out.reply.push_str(&reply);
}

fn kickid(world: &mut World, args: &str) -> String {
    let (target, message) = first_word(args);
    if target.is_empty() {
        return "Usage:  kickid < userid | uniqueid > { message }\n".into();
    }
    match world.find(target) {
        Some(index) => {
            world.kick(index, unquote(message));
            String::new()
        }
        None => format!("kickid: couldn't find player \"{target}\"\n"),
    }
}

fn banid(world: &mut World, args: &str, now: Instant) -> String {
    const USAGE: &str = "Usage:  banid <minutes> <userid | uniqueid> { kick }\n";
    let (minutes, rest) = first_word(args);
    let (target, flag) = first_word(rest);
    let Some(minutes) = minutes
        .parse::<f64>()
        .ok()
        .filter(|m| m.is_finite() && *m >= 0.0)
    else {
        return USAGE.into();
    };
    let kick = flag.eq_ignore_ascii_case("kick");
    let by_steam_id = target
        .get(..6)
        .is_some_and(|p| p.eq_ignore_ascii_case("STEAM_"));
    let index = world.find(target);
    let steam_id = match (by_steam_id, index) {
        (true, _) => target.to_string(),
        (false, Some(i)) => world.players()[i].steam_id.clone(),
        (false, None) if target.parse::<u32>().is_ok() => {
            return format!("banid: couldn't find userid {target}\n");
        }
        (false, None) => return USAGE.into(),
    };
    let who = index.map(|i| world.players()[i].ident());
    world.add_ban(&steam_id, minutes, who, now);
    if let Some(i) = index
        && (kick || !by_steam_id)
    {
        world.kick(i, "Kicked and banned");
    }
    String::new()
}

fn changelevel(world: &mut World, map: &str) -> String {
    if map.is_empty() {
        return "Usage:  changelevel <map>\n".into();
    }
    let valid = map
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if !valid {
        return format!("changelevel failed: {map} not found\n");
    }
    world.change_level(map);
    String::new()
}

/// `5:12` as `05:12`, past an hour `1:02:03`.
fn connected(secs: u64) -> String {
    let (h, m, s) = (secs / 3600, secs % 3600 / 60, secs % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m:02}:{s:02}")
    }
}

/// The reply to `status`, shaped like `status.txt`.
pub fn status_reply(world: &World, now: Instant) -> String {
    let s = &world.settings;
    let humans = world.players().len();
    let bots = usize::from(world.bot().is_some());
    let hibernation = if humans > 0 {
        "not hibernating"
    } else {
        "hibernating"
    };
    let mut out = String::new();
    let _ = writeln!(out, "hostname: {}", s.hostname);
    let _ = writeln!(out, "version : 2.2.2.6 {VERSION} secure  (unknown)");
    let _ = writeln!(
        out,
        "udp/ip  : {}:{} [ public {}:{} ]",
        s.ip, s.port, s.public_ip, s.port
    );
    let _ = writeln!(out, "os      : Linux Dedicated");
    let _ = writeln!(out, "map     : {} at: 0 x, 0 y, 0 z", world.map());
    let _ = writeln!(
        out,
        "players : {humans} humans, {bots} bots ({} max) ({hibernation}) (unreserved)",
        s.max_players
    );
    out.push('\n');
    out.push_str("# userid name uniqueid connected ping loss state rate adr\n");
    let mut rows: Vec<(u32, String)> = world
        .players()
        .iter()
        .map(|p| {
            let state = if p.stage == Stage::InGame {
                "active"
            } else {
                "spawning"
            };
            let secs = now.saturating_duration_since(p.joined).as_secs();
            let row = format!(
                "#  {} \"{}\" {} {} {} {} {state} 30000 127.0.0.1:{}",
                p.userid,
                p.name,
                p.steam_id,
                connected(secs),
                p.ping,
                p.loss,
                p.port
            );
            (p.userid, row)
        })
        .collect();
    if let Some((id, name)) = world.bot() {
        rows.push((id, format!("#  {id} \"{name}\" BOT active")));
    }
    rows.sort_by_key(|(id, _)| *id);
    for (_, row) in rows {
        out.push_str(&row);
        out.push('\n');
    }
    out.push_str("#end\n");
    out
}

/// The reply to `listid`, shaped like `listid.txt`.
pub fn listid_reply(world: &mut World, now: Instant) -> String {
    let bans = world.bans(now);
    let mut out = format!("ID filter list: {} entries\n", bans.len());
    for (i, ban) in bans.iter().enumerate() {
        let length = match ban.expires {
            None => "permanent".to_string(),
            Some(end) => format!(
                "{:.3} min",
                end.saturating_duration_since(now).as_secs_f64() / 60.0
            ),
        };
        let _ = writeln!(out, "{} {} : {length}", i + 1, ban.steam_id);
    }
    out
}

#[cfg(test)]
mod tests;
