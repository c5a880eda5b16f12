//! BattlEye RCon commands and the text of their replies.
//!
//! Takes the text of one command from a logged-in admin, applies it to the world and returns
//! the reply text. The `players` and `bans` replies are laid out column for column like the
//! golden samples `players.txt` and `bans.txt`. Packets, sequences and fragments are the RCon
//! server's business; this module only speaks text.

use std::fmt::Write as _;
use std::net::IpAddr;
use std::time::Instant;

use super::world::{BanTarget, Stage, World};

/// What the server should do after replying.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// The reply text (empty for commands that answer nothing).
    pub reply: String,
    /// `#shutdown`: reply, then stop the server.
    pub shutdown: bool,
}

impl Outcome {
    fn reply(text: impl Into<String>) -> Self {
        Self {
            reply: text.into(),
            shutdown: false,
        }
    }
}

/// Runs one command for RCon admin number `admin`.
pub fn execute(world: &mut World, admin: u32, command: &str, now: Instant) -> Outcome {
    let command = command.trim();
    let (verb, rest) = command
        .split_once(char::is_whitespace)
        .map(|(v, r)| (v, r.trim()))
        .unwrap_or((command, ""));
    match verb.to_ascii_lowercase().as_str() {
        "" => Outcome::reply(""),
        "players" => Outcome::reply(players_reply(world)),
        "bans" => Outcome::reply(bans_reply(world, now)),
        "missions" => Outcome::reply(
            world
                .missions()
                .iter()
                .map(|m| m.template.as_str())
                .collect::<Vec<_>>()
                .join("\n"),
        ),
        "kick" => kick(world, rest),
        "ban" => ban(world, rest, now),
        "addban" => add_ban(world, rest, now),
        "removeban" => match rest.parse::<usize>() {
            Ok(i) if world.remove_ban(i) => Outcome::reply(""),
            _ => Outcome::reply("Invalid ban ID"),
        },
        "say" => say(world, admin, rest),
        "#shutdown" => Outcome {
            reply: String::new(),
            shutdown: true,
        },
        "#restart" => {
            world.mission_cycle();
            Outcome::reply("")
        }
        "#lock" => {
            world.set_locked(true);
            Outcome::reply("")
        }
        "#unlock" => {
            world.set_locked(false);
            Outcome::reply("")
        }
        _ => Outcome::reply("Unknown command"),
    }
}

/// Splits `first rest…` at the first whitespace.
fn first_word(text: &str) -> (&str, &str) {
    text.split_once(char::is_whitespace)
        .map(|(a, b)| (a, b.trim()))
        .unwrap_or((text, ""))
}

/// Splits an optional leading minute count from the reason.
fn minutes_and_reason(text: &str) -> (Option<u64>, &str) {
    let (first, rest) = first_word(text);
    match first.parse::<u64>() {
        Ok(m) => (Some(m), rest),
        Err(_) => (None, text),
    }
}

fn kick(world: &mut World, args: &str) -> Outcome {
    let (id, reason) = first_word(args);
    match id.parse::<u32>() {
        Ok(slot) if world.kick(slot, "Admin Kick", reason) => Outcome::reply(""),
        _ => Outcome::reply("Invalid player ID"),
    }
}

fn ban(world: &mut World, args: &str, now: Instant) -> Outcome {
    let (id, rest) = first_word(args);
    let Some(player) = id
        .parse::<u32>()
        .ok()
        .and_then(|slot| world.players().iter().find(|p| p.slot == slot))
    else {
        return Outcome::reply("Invalid player ID");
    };
    let slot = player.slot;
    // A player whose GUID is not known yet is banned by address instead.
    let target = if player.stage == Stage::Connecting {
        BanTarget::Ip(player.ip)
    } else {
        BanTarget::Guid(player.guid.clone())
    };
    let (minutes, reason) = minutes_and_reason(rest);
    world.add_ban(target, minutes, reason, now);
    world.kick(slot, "Admin Ban", reason);
    Outcome::reply("")
}

fn add_ban(world: &mut World, args: &str, now: Instant) -> Outcome {
    let (who, rest) = first_word(args);
    let target = if who.len() == 32 && who.chars().all(|c| c.is_ascii_hexdigit()) {
        BanTarget::Guid(who.to_ascii_lowercase())
    } else if let Ok(ip) = who.parse::<IpAddr>() {
        BanTarget::Ip(ip)
    } else {
        return Outcome::reply("Invalid GUID or IP address");
    };
    let (minutes, reason) = minutes_and_reason(rest);
    world.add_ban(target, minutes, reason, now);
    Outcome::reply("")
}

fn say(world: &mut World, admin: u32, args: &str) -> Outcome {
    let (to, text) = first_word(args);
    match to.parse::<i64>() {
        Ok(-1) => {
            world.admin_say(admin, text);
            Outcome::reply("")
        }
        // A private message reaches one simulated player; nobody can read it.
        Ok(n) if world.players().iter().any(|p| i64::from(p.slot) == n) => Outcome::reply(""),
        _ => Outcome::reply("Invalid player ID"),
    }
}

/// The reply to `players`, shaped like `players.txt`.
pub fn players_reply(world: &World) -> String {
    let mut out = String::from(
        "Players on server:\n[#] [IP Address]:[Port] [Ping] [GUID] [Name]\n\
         --------------------------------------------------\n",
    );
    for p in world.players() {
        let address = format!("{}:{}", p.ip, p.port);
        let (ping, guid) = match p.stage {
            Stage::Connecting => ("0".to_string(), "- ".to_string()),
            Stage::Unverified => (p.ping.to_string(), format!("{}(?)", p.guid)),
            Stage::Lobby | Stage::InGame => (p.ping.to_string(), format!("{}(OK)", p.guid)),
        };
        let lobby = if p.stage == Stage::InGame {
            ""
        } else {
            " (Lobby)"
        };
        let lobby = if p.stage == Stage::Connecting {
            ""
        } else {
            lobby
        };
        let _ = writeln!(
            out,
            "{:<3} {address:<21} {ping:<4} {guid} {}{lobby}",
            p.slot, p.name
        );
    }
    let _ = write!(out, "({} players in total)", world.players().len());
    out
}

/// The reply to `bans`, shaped like `bans.txt`.
pub fn bans_reply(world: &World, now: Instant) -> String {
    let (guids, ips) = world.bans();
    let mut out = String::from(
        "GUID Bans:\n[#] [GUID] [Minutes left] [Reason]\n\
         ----------------------------------------\n",
    );
    for (i, ban) in guids.iter().enumerate() {
        let BanTarget::Guid(guid) = &ban.target else {
            continue;
        };
        let line = format!("{i:<2} {guid} {} {}", ban.minutes_left(now), ban.reason);
        let _ = writeln!(out, "{}", line.trim_end());
    }
    out.push_str(
        "\nIP Bans:\n[#] [IP Address] [Minutes left] [Reason]\n\
         ----------------------------------------------",
    );
    for (i, ban) in ips.iter().enumerate() {
        let BanTarget::Ip(ip) = &ban.target else {
            continue;
        };
        let line = format!(
            "{:<2} {:<15} {:<4} {}",
            guids.len() + i,
            ip.to_string(),
            ban.minutes_left(now),
            ban.reason
        );
        let _ = write!(out, "\n{}", line.trim_end());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arma3::world::{Player, WorldSettings};
    use crate::rng::Rng;
    use std::net::{IpAddr, Ipv4Addr};
    use std::time::Duration;

    const PLAYERS_TXT: &str = include_str!("../../../data/arma3/players.txt");
    const BANS_TXT: &str = include_str!("../../../data/arma3/bans.txt");

    fn empty_world() -> World {
        World::new(
            WorldSettings {
                initial_players: 0,
                churn: false,
                max_players: 64,
                missions: Vec::new(),
            },
            Rng::seeded(3),
        )
    }

    fn player(
        slot: u32,
        name: &str,
        ip: [u8; 4],
        port: u16,
        ping: u32,
        guid: &str,
        stage: Stage,
    ) -> Player {
        Player {
            slot,
            name: name.into(),
            ip: IpAddr::V4(Ipv4Addr::from(ip)),
            port,
            ping,
            guid: guid.into(),
            steam_id: 0,
            stage,
            resident: true,
        }
    }

    fn assert_same_lines(got: &str, golden: &str) {
        let got: Vec<&str> = got.lines().collect();
        let want: Vec<&str> = golden.lines().collect();
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            assert_eq!(g, w, "line {}", i + 1);
        }
        assert_eq!(got.len(), want.len());
    }

    #[test]
    fn players_reply_matches_golden_file() {
        let mut w = empty_world();
        w.insert_player(player(
            0,
            "Ärger ☃",
            [127, 0, 0, 1],
            2304,
            31,
            "0123456789abcdef0123456789abcdef",
            Stage::InGame,
        ));
        w.insert_player(player(
            1,
            "Bob Smith",
            [127, 0, 0, 1],
            2316,
            47,
            "fedcba9876543210fedcba9876543210",
            Stage::Unverified,
        ));
        w.insert_player(player(
            12,
            "Connecting Player",
            [10, 0, 0, 7],
            2304,
            0,
            "",
            Stage::Connecting,
        ));
        assert_same_lines(&players_reply(&w), PLAYERS_TXT);
    }

    #[test]
    fn bans_reply_matches_golden_file() {
        let mut w = empty_world();
        let now = Instant::now();
        w.add_ban(
            BanTarget::Guid("0123456789abcdef0123456789abcdef".into()),
            None,
            "Cheating",
            now,
        );
        // Read a minute later: the 121-minute ban has 120 left, the 1-minute one has expired.
        w.add_ban(
            BanTarget::Guid("fedcba9876543210fedcba9876543210".into()),
            Some(121),
            "Spamming in global chat",
            now,
        );
        w.add_ban(
            BanTarget::Ip("192.0.2.5".parse().expect("ip")),
            Some(0),
            "Ban evasion",
            now,
        );
        w.add_ban(
            BanTarget::Ip("198.51.100.17".parse().expect("ip")),
            Some(1),
            "expired entry",
            now,
        );
        assert_same_lines(&bans_reply(&w, now + Duration::from_secs(60)), BANS_TXT);
    }

    #[test]
    fn commands_change_the_world() {
        let mut w = empty_world();
        for _ in 0..6 {
            w.tick();
        }
        let now = Instant::now();
        // initial_players is 0 here; put two in by hand.
        w.insert_player(player(
            0,
            "Ärger ☃",
            [127, 0, 0, 1],
            2304,
            31,
            &"a".repeat(32),
            Stage::InGame,
        ));
        w.insert_player(player(
            1,
            "Bob Smith",
            [127, 0, 0, 1],
            2316,
            47,
            &"b".repeat(32),
            Stage::InGame,
        ));
        assert_eq!(
            execute(&mut w, 0, "kick 9 nope", now).reply,
            "Invalid player ID"
        );
        assert_eq!(execute(&mut w, 0, "kick 0 spamming", now).reply, "");
        assert_eq!(execute(&mut w, 0, "BAN 1 30 rude", now).reply, "");
        assert!(w.players().is_empty());
        assert_eq!(
            execute(&mut w, 0, "addBan 10.1.2.3 0 evasion", now).reply,
            ""
        );
        assert_eq!(
            execute(&mut w, 0, "addBan nonsense", now).reply,
            "Invalid GUID or IP address"
        );
        let bans = execute(&mut w, 0, "bans", now).reply;
        assert!(
            bans.contains(&format!("0  {} 30 rude", "b".repeat(32))),
            "{bans}"
        );
        assert!(bans.contains("1  10.1.2.3        perm evasion"), "{bans}");
        assert_eq!(execute(&mut w, 0, "removeBan 0", now).reply, "");
        assert_eq!(
            execute(&mut w, 0, "removeBan x", now).reply,
            "Invalid ban ID"
        );
        assert_eq!(
            execute(&mut w, 0, "frobnicate", now).reply,
            "Unknown command"
        );
        assert_eq!(execute(&mut w, 0, "", now).reply, "");
        assert!(execute(&mut w, 0, "#shutdown", now).shutdown);
        w.drain();
        execute(&mut w, 2, "say -1 hello all", now);
        let out = w.drain();
        assert!(out.contains(&crate::arma3::world::Output::Message(
            "RCon admin #2: (Global) hello all".into()
        )));
    }
}
