//! The command line of a real Source dedicated server (`srcds_run` / `srcds_linux`).
//!
//! `-game left4dead2 -port 27015 -ip 127.0.0.1 -condebug +maxplayers 8
//! +sv_logsdir logs/garrison-27015 +map c1m1_hotel +exec garrison/27015.cfg`. Single-dash
//! arguments are launch options, plus-arguments are console commands run at start; both may
//! carry one value. Anything unknown is skipped the way the game skips it: `-x`, `-x value`,
//! `+cvar value`. This module only reads arguments; where the game directory ends up is
//! decided by the caller.

use std::net::{IpAddr, Ipv4Addr};

/// Launch options that never take a value, so the next argument is not swallowed.
const SWITCHES: &[&str] = &[
    "condebug",
    "console",
    "debug",
    "norestart",
    "nohltv",
    "insecure",
    "nomaster",
    "autoupdate",
    "strictportbind",
    "nobots",
];

/// The game's own arguments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GameArgs {
    /// `-game`: the game directory's name (or a path), `left4dead2` by default.
    pub game: String,
    /// `-port`: the game port; RCON listens on the same number over TCP.
    pub port: u16,
    /// `-ip`: address RCON binds to (the simulator stays on loopback unless told otherwise).
    pub ip: IpAddr,
    /// `+maxplayers`: the server never holds more humans than this.
    pub max_players: u32,
    /// `+map`: the first map.
    pub map: String,
    /// `+exec`: the config file under `<game>/cfg/`, possibly in a subfolder
    /// (`garrison/27015.cfg`); the server runs `server.cfg` anyway.
    pub exec: String,
    /// `+sv_logsdir`: the folder under `<game>/` that game logs go to, `logs` by default.
    pub logs_dir: String,
    /// `-condebug`: also append the console to `<game>/console.log`.
    pub condebug: bool,
}

impl Default for GameArgs {
    fn default() -> Self {
        Self {
            game: "left4dead2".into(),
            port: 27015,
            ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
            max_players: 8,
            map: "c1m1_hotel".into(),
            exec: "server.cfg".into(),
            logs_dir: "logs".into(),
            condebug: false,
        }
    }
}

/// Whether an argument is a value rather than the next option.
fn is_value(arg: &str) -> bool {
    !(arg.starts_with('-') || arg.starts_with('+'))
}

/// A path inside the game directory, as the engine accepts one for files it writes: relative
/// and without `..`.
fn is_game_relative(path: &str) -> bool {
    !path.starts_with('/') && !path.split(['/', '\\']).any(|part| part == "..")
}

/// Parses the game arguments; unusable values of known options are errors.
pub fn parse(args: &[String]) -> Result<GameArgs, String> {
    let mut out = GameArgs::default();
    let mut i = 0;
    while i < args.len() {
        let arg = args[i].as_str();
        i += 1;
        let (plus, name) = if let Some(n) = arg.strip_prefix('+') {
            (true, n.to_ascii_lowercase())
        } else if let Some(n) = arg.strip_prefix('-') {
            (false, n.to_ascii_lowercase())
        } else {
            continue; // a stray word
        };
        if !plus && SWITCHES.contains(&name.as_str()) {
            out.condebug |= name == "condebug";
            continue;
        }
        let value = match args.get(i) {
            Some(v) if is_value(v) => {
                i += 1;
                Some(v.as_str())
            }
            _ => None,
        };
        let need = |what: &str| {
            value
                .filter(|v| !v.is_empty())
                .ok_or_else(|| format!("{arg} needs {what}"))
        };
        match (plus, name.as_str()) {
            (false, "game") => out.game = need("a game directory")?.to_string(),
            (false, "port") => {
                let v = need("a port number")?;
                out.port = v
                    .parse()
                    .ok()
                    .filter(|p| *p != 0)
                    .ok_or_else(|| format!("invalid -port value {v:?}"))?;
            }
            (false, "ip") => {
                let v = need("an address")?;
                out.ip = v.parse().map_err(|_| format!("invalid -ip value {v:?}"))?;
            }
            (_, "maxplayers") => {
                let v = need("a number")?;
                out.max_players = v
                    .parse()
                    .ok()
                    .filter(|n| (1..=32).contains(n))
                    .ok_or_else(|| format!("invalid {arg} value {v:?}"))?;
            }
            (true, "map") => out.map = need("a map name")?.to_string(),
            (true, "exec") => out.exec = need("a config file")?.to_string(),
            (true, "sv_logsdir") => {
                let v = need("a folder")?;
                if !is_game_relative(v) {
                    return Err(format!("invalid {arg} value {v:?}"));
                }
                out.logs_dir = v.trim_end_matches('/').to_string();
            }
            _ => {}
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(args: &[&str]) -> Vec<String> {
        args.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn real_arguments_and_unknown_ones() {
        let a = parse(&strings(&[
            "-game",
            "left4dead2",
            "-console",
            "-port",
            "27020",
            "-tickrate",
            "60",
            "+sv_lan",
            "1",
            "-nohltv",
            "+maxplayers",
            "4",
            "+map",
            "c2m1_highway",
            "-condebug",
            "+exec",
            "garrison/27020.cfg",
            "+sv_logsdir",
            "logs/garrison-27020",
            "-ip",
            "127.0.0.2",
            "stray",
        ]))
        .expect("valid");
        assert_eq!(a.game, "left4dead2");
        assert_eq!(a.port, 27020);
        assert_eq!(a.max_players, 4);
        assert_eq!(a.map, "c2m1_highway");
        assert_eq!(a.exec, "garrison/27020.cfg");
        assert_eq!(a.logs_dir, "logs/garrison-27020");
        assert!(a.condebug);
        assert_eq!(a.ip, IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2)));
    }

    #[test]
    fn defaults_and_bad_values() {
        let a = parse(&[]).expect("valid");
        assert_eq!(a, GameArgs::default());
        for bad in [
            &["-port", "x"][..],
            &["-port", "0"],
            &["-port", "65536"],
            &["-port"],
            &["-ip", "nowhere"],
            &["+maxplayers", "0"],
            &["+map", "-condebug"],
            &["+sv_logsdir", "/var/log"],
            &["+sv_logsdir", "logs/../../x"],
            &["+sv_logsdir"],
        ] {
            assert!(parse(&strings(bad)).is_err(), "{bad:?}");
        }
    }
}
