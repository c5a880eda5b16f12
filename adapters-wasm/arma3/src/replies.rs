//! BattlEye RCon commands for the panel's features, and parsers for their replies.
//!
//! Commands are built from a player's slot or a ban's identity, which are checked, and from
//! free text (reasons, chat), which is flattened to one line. The parsers read the tables
//! BattlEye prints for `players` and `bans`; lines they do not recognise (headers, rulers,
//! totals, anything new) are skipped, never an error.
//!
//! Expired ban entries (`-` minutes left) are kept with `minutes_left: Some(0)`: they still
//! hold a number in BattlEye's list until removed, and hiding them would make the numbering
//! look wrong.

use garrison_adapter_sdk::prelude::*;

/// Lists players.
pub const PLAYERS_COMMAND: &str = "players";
/// Lists bans.
pub const BANS_COMMAND: &str = "bans";

/// `text` on one line: line breaks and other control characters become spaces, and the ends
/// are trimmed.
pub fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_string()
}

fn is_number(s: &str) -> bool {
    !s.is_empty() && s.len() <= 10 && s.bytes().all(|b| b.is_ascii_digit())
}

fn is_guid(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// `command arg [reason]`, without a trailing space when the reason is empty.
fn with_reason(head: String, reason: &str) -> String {
    let reason = one_line(reason);
    if reason.is_empty() {
        head
    } else {
        format!("{head} {reason}")
    }
}

fn slot_of(player: &Player) -> Result<&str, AdapterError> {
    let slot = player.slot.trim();
    if is_number(slot) {
        Ok(slot)
    } else {
        Err(AdapterError::Invalid(format!(
            "not a BattlEye player number: {:?}",
            player.slot
        )))
    }
}

/// `kick <slot> <reason>`.
pub fn kick(player: &Player, reason: &str) -> Result<Vec<String>, AdapterError> {
    Ok(vec![with_reason(
        format!("kick {}", slot_of(player)?),
        reason,
    )])
}

/// `ban <slot> <minutes> <reason>` for a player online, `addBan <GUID or IP> <minutes>
/// <reason>` for an identity; 0 minutes is permanent in BattlEye.
pub fn ban(request: &BanRequest) -> Result<Vec<String>, AdapterError> {
    let minutes = match request.minutes {
        None => 0,
        Some(0) => {
            return Err(AdapterError::Invalid(
                "a ban lasts at least one minute; leave the duration empty for a permanent ban"
                    .into(),
            ));
        }
        Some(m) => m,
    };
    let head = match &request.target {
        BanTarget::Online(player) => format!("ban {} {minutes}", slot_of(player)?),
        BanTarget::Identity(id) => {
            let id = id.trim();
            if !is_guid(id) && id.parse::<std::net::Ipv4Addr>().is_err() {
                return Err(AdapterError::Invalid(format!(
                    "BattlEye bans a GUID (32 hexadecimal digits) or an IPv4 address, not {id:?}"
                )));
            }
            format!("addBan {id} {minutes}")
        }
    };
    Ok(vec![with_reason(head, &request.reason)])
}

/// `removeBan <number>`.
pub fn unban(entry: &BanEntry) -> Result<Vec<String>, AdapterError> {
    let id = entry.id.trim();
    if !is_number(id) {
        return Err(AdapterError::Invalid(format!(
            "not a BattlEye ban number: {:?}",
            entry.id
        )));
    }
    Ok(vec![format!("removeBan {id}")])
}

/// `say -1 <message>` (to everyone).
pub fn say(message: &str) -> Result<String, AdapterError> {
    let message = one_line(message);
    if message.is_empty() {
        return Err(AdapterError::Invalid("the message is empty".into()));
    }
    Ok(format!("say -1 {message}"))
}

/// The first whitespace-separated token of `s` and the rest after it (leading spaces kept
/// off, inner spacing of the rest untouched).
fn token(s: &str) -> Option<(&str, &str)> {
    let s = s.trim_start();
    if s.is_empty() {
        return None;
    }
    let end = s.find(char::is_whitespace).unwrap_or(s.len());
    Some((s.get(..end)?, s.get(end..)?))
}

/// Reads the reply to `players`:
/// `0   127.0.0.1:2304   31   <guid>(OK) Name` (`(?)` unverified, `-` no GUID yet, ` (Lobby)`).
pub fn parse_players(reply: &str) -> Vec<Player> {
    reply.lines().filter_map(player_line).collect()
}

fn player_line(line: &str) -> Option<Player> {
    let (slot, rest) = token(line)?;
    if !is_number(slot) {
        return None;
    }
    let (address, rest) = token(rest)?;
    if !address.contains(':') {
        return None;
    }
    let (ping, rest) = token(rest)?;
    let (guid, rest) = token(rest)?;
    let mut details = Vec::new();
    let unique_id = if guid == "-" {
        None
    } else {
        let (id, verified) = if let Some(id) = guid.strip_suffix("(OK)") {
            (id, "true")
        } else if let Some(id) = guid.strip_suffix("(?)") {
            (id, "false")
        } else {
            return None;
        };
        details.push(("verified".to_string(), verified.to_string()));
        Some(id.to_string())
    };
    let name = rest.trim();
    let name = match name.strip_suffix(" (Lobby)") {
        Some(name) => {
            details.push(("lobby".to_string(), "true".to_string()));
            name.trim_end()
        }
        None => name,
    };
    Some(Player {
        slot: slot.to_string(),
        name: name.to_string(),
        unique_id,
        address: Some(address.to_string()),
        ping_ms: ping.parse().ok(),
        connected_secs: None,
        details,
    })
}

/// Reads the reply to `bans`: GUID and IP bans, one numbering, `perm` or minutes left (`-`
/// for expired, kept as 0).
pub fn parse_bans(reply: &str) -> Vec<BanEntry> {
    reply.lines().filter_map(ban_line).collect()
}

fn ban_line(line: &str) -> Option<BanEntry> {
    let (id, rest) = token(line)?;
    if !is_number(id) {
        return None;
    }
    let (identity, rest) = token(rest)?;
    let (left, rest) = token(rest)?;
    let minutes_left = match left {
        "perm" => None,
        "-" => Some(0),
        n => Some(n.parse().ok()?),
    };
    Some(BanEntry {
        id: id.to_string(),
        identity: identity.to_string(),
        minutes_left,
        reason: rest.trim().to_string(),
    })
}
