//! Source console commands for the panel's features, and parsers for their replies.
//!
//! Commands are built from a player's user id or a SteamID, which are checked, and from free
//! text (reasons, chat), from which `"`, `;` and line breaks are removed so it cannot end its
//! argument or chain another command. The parsers read `status` and `listid`; lines they do
//! not recognise (headers, totals, anything new) are skipped, never an error.
//!
//! Bots are left out of the player list: Left 4 Dead 2 fills empty survivor slots with bots,
//! and counting them as players would show an empty server as busy. `srcds` keeps no ban
//! reason, so ban entries have an empty one and ban reasons are not sent.

use garrison_adapter_sdk::prelude::*;

use crate::validate;

/// Lists players.
pub const PLAYERS_COMMAND: &str = "status";
/// Lists bans.
pub const BANS_COMMAND: &str = "listid";
/// Stops the server.
pub const QUIT_COMMAND: &str = "quit";
/// Persists the ban list to `banned_user.cfg`.
const WRITE_BANS: &str = "writeid";

/// `text` as one argument: `"` and `;` removed, line breaks and other control characters
/// turned into spaces, the ends trimmed.
pub fn clean(text: &str) -> String {
    text.chars()
        .filter(|&c| c != '"' && c != ';')
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_string()
}

fn is_number(s: &str) -> bool {
    !s.is_empty() && s.len() <= 10 && s.bytes().all(|b| b.is_ascii_digit())
}

/// A SteamID as srcds writes it: `STEAM_[0-5]:[01]:<digits>`.
pub fn is_steam_id(s: &str) -> bool {
    let Some(rest) = s.strip_prefix("STEAM_") else {
        return false;
    };
    let mut parts = rest.splitn(3, ':');
    let (Some(universe), Some(bit), Some(account)) = (parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    matches!(universe, "0" | "1" | "2" | "3" | "4" | "5")
        && matches!(bit, "0" | "1")
        && is_number(account)
}

fn userid_of(player: &Player) -> Result<&str, AdapterError> {
    let slot = player.slot.trim();
    if is_number(slot) {
        Ok(slot)
    } else {
        Err(AdapterError::Invalid(format!(
            "not a Source user id: {:?}",
            player.slot
        )))
    }
}

/// `kickid <userid> "<reason>"`.
pub fn kick(player: &Player, reason: &str) -> Result<Vec<String>, AdapterError> {
    Ok(vec![format!(
        "kickid {} \"{}\"",
        userid_of(player)?,
        clean(reason)
    )])
}

/// `banid <minutes> <userid> kick` for a player online, `banid <minutes> <SteamID>` for an
/// identity (0 minutes is permanent in srcds), then `writeid` to keep permanent bans.
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
    let command = match &request.target {
        BanTarget::Online(player) => format!("banid {minutes} {} kick", userid_of(player)?),
        BanTarget::Identity(id) => {
            let id = id.trim();
            if !is_steam_id(id) {
                return Err(AdapterError::Invalid(format!(
                    "Left 4 Dead 2 bans a SteamID such as STEAM_1:0:12345, not {id:?}"
                )));
            }
            format!("banid {minutes} {id}")
        }
    };
    Ok(vec![command, WRITE_BANS.to_string()])
}

/// `removeid <SteamID>`, then `writeid`.
pub fn unban(entry: &BanEntry) -> Result<Vec<String>, AdapterError> {
    let id = entry.identity.trim();
    if !is_steam_id(id) {
        return Err(AdapterError::Invalid(format!(
            "not a SteamID: {:?}",
            entry.identity
        )));
    }
    Ok(vec![format!("removeid {id}"), WRITE_BANS.to_string()])
}

/// `say <message>` (to everyone).
pub fn say(message: &str) -> Result<String, AdapterError> {
    let message = clean(message);
    if message.is_empty() {
        return Err(AdapterError::Invalid("the message is empty".into()));
    }
    Ok(format!("say {message}"))
}

/// `changelevel <map>`, for a map name `validate` accepts.
pub fn changelevel(map: &str) -> Result<String, AdapterError> {
    if !validate::is_map_name(map) {
        return Err(AdapterError::Invalid(format!("not a map name: {map:?}")));
    }
    Ok(format!("changelevel {map}"))
}

/// `quit`: stops the server.
pub fn quit() -> String {
    QUIT_COMMAND.to_string()
}

/// `MM:SS` or `H:MM:SS` as seconds.
pub fn duration(s: &str) -> Option<u32> {
    let mut secs: u32 = 0;
    let mut parts = 0;
    for part in s.split(':') {
        if part.is_empty() || part.len() > 4 || !part.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        secs = secs.checked_mul(60)?.checked_add(part.parse().ok()?)?;
        parts += 1;
    }
    (2..=3).contains(&parts).then_some(secs)
}

/// Reads the reply to `status`: one line per player,
/// `#  userid "name" uniqueid connected ping loss state [rate] adr`; bots
/// (`#  userid "name" BOT active`) are skipped.
pub fn parse_players(reply: &str) -> Vec<Player> {
    reply.lines().filter_map(player_line).collect()
}

fn player_line(line: &str) -> Option<Player> {
    let rest = line.trim().strip_prefix('#')?;
    // Everything up to the name's opening quote: the user id (and, in some games, a slot
    // number after it).
    let (ids, quoted) = rest.split_once('"')?;
    let mut ids = ids.split_whitespace();
    let userid = ids.next()?;
    if !is_number(userid) || !ids.all(is_number) {
        return None;
    }
    // Names may hold quotes; the fields after the name never do.
    let (name, fields) = quoted.rsplit_once('"')?;
    let fields: Vec<&str> = fields.split_whitespace().collect();
    let (&unique, rest) = fields.split_first()?;
    if unique == "BOT" {
        return None;
    }
    let unique_id = match unique {
        "STEAM_ID_PENDING" | "STEAM_ID_LAN" => None,
        id => Some(id.to_string()),
    };
    let field = |i: usize| rest.get(i).copied();
    let mut details = Vec::new();
    if let Some(loss) = field(2).filter(|l| is_number(l)) {
        details.push(("loss".to_string(), loss.to_string()));
    }
    if let Some(state) = field(3).filter(|s| s.bytes().all(|b| b.is_ascii_alphabetic())) {
        details.push(("state".to_string(), state.to_string()));
    }
    let address = rest
        .last()
        .filter(|a| rest.len() >= 5 && a.contains(':'))
        .map(|a| a.to_string());
    Some(Player {
        slot: userid.to_string(),
        name: name.to_string(),
        unique_id,
        address,
        ping_ms: field(1).and_then(|p| p.parse().ok()),
        connected_secs: field(0).and_then(duration),
        details,
    })
}

/// Reads the reply to `listid`: `N STEAM_x:y:z : permanent` or `: 30.000 min`.
pub fn parse_bans(reply: &str) -> Vec<BanEntry> {
    reply.lines().filter_map(ban_line).collect()
}

fn ban_line(line: &str) -> Option<BanEntry> {
    let mut tokens = line.split_whitespace();
    let id = tokens.next()?;
    if !is_number(id) {
        return None;
    }
    let identity = tokens.next()?;
    if tokens.next()? != ":" {
        return None;
    }
    let minutes_left = match tokens.next()? {
        "permanent" => None,
        minutes => {
            let minutes: f64 = minutes.parse().ok()?;
            if !minutes.is_finite() || minutes < 0.0 || tokens.next()? != "min" {
                return None;
            }
            Some(minutes.round().min(f64::from(u32::MAX)) as u32)
        }
    };
    Some(BanEntry {
        id: id.to_string(),
        identity: identity.to_string(),
        minutes_left,
        reason: String::new(),
    })
}
