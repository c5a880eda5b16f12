//! Reading the Source config file a server is started with (`+exec server.cfg`, or a file in
//! a subfolder of `cfg/` such as `+exec garrison/27015.cfg`).
//!
//! A Source `.cfg` is a list of console commands: one per line or separated by `;`, each a name
//! followed by arguments that are bare words or `"quoted strings"`, with `//` comments. Setting
//! a cvar is just a command with one argument (`hostname "My Server"`, `z_difficulty Hard`);
//! other commands (`log on`, `sv_logecho 1`) are accepted and ignored. Source never rejects a
//! file for its content, so neither does this parser: an unterminated quote runs to the end of
//! the line. Only a missing or unreadable file is an error.

use std::path::Path;

/// What the simulator needs from the config file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerConfig {
    /// `hostname`: shown by `status`.
    pub hostname: String,
    /// `rcon_password`: without one every RCON login is refused.
    pub rcon_password: Option<String>,
    /// `sv_password`: joining password (only kept; players are simulated).
    pub sv_password: String,
    /// `mp_gamemode` (or the first of `sv_gametypes`): logged in the cvars block.
    pub gamemode: String,
    /// `z_difficulty`: logged in the cvars block.
    pub difficulty: String,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            hostname: "Left 4 Dead 2".into(),
            rcon_password: None,
            sv_password: String::new(),
            gamemode: "coop".into(),
            difficulty: "Normal".into(),
        }
    }
}

impl ServerConfig {
    /// Extracts the known cvars from config text; later settings win, as in the game.
    pub fn parse(text: &str) -> Self {
        let mut cfg = Self::default();
        let mut gametypes: Option<String> = None;
        let mut gamemode: Option<String> = None;
        for command in commands(text) {
            let Some((name, args)) = command.split_first() else {
                continue;
            };
            let value = args.first().cloned().unwrap_or_default();
            match name.to_ascii_lowercase().as_str() {
                "hostname" => cfg.hostname = value,
                "rcon_password" => {
                    cfg.rcon_password = Some(value).filter(|v| !v.is_empty());
                }
                "sv_password" => cfg.sv_password = value,
                "mp_gamemode" if !value.is_empty() => gamemode = Some(value),
                "sv_gametypes" => gametypes = Some(value),
                "z_difficulty" if !value.is_empty() => cfg.difficulty = value,
                _ => {}
            }
        }
        let first_type = gametypes.and_then(|t| {
            t.split(',')
                .map(str::trim)
                .find(|t| !t.is_empty())
                .map(str::to_string)
        });
        if let Some(mode) = gamemode.or(first_type) {
            cfg.gamemode = mode;
        }
        cfg
    }
}

/// Reads `<game dir>/cfg/<file>`; `file` may name a subfolder (`garrison/27015.cfg`).
pub fn load(game_dir: &Path, file: &str) -> Result<ServerConfig, String> {
    let path = game_dir.join("cfg").join(file);
    let bytes =
        std::fs::read(&path).map_err(|e| format!("cannot read config {}: {e}", path.display()))?;
    Ok(ServerConfig::parse(&String::from_utf8_lossy(&bytes)))
}

/// Splits config text into commands, each a list of words with quotes removed.
pub fn commands(text: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim_start_matches('\u{feff}');
        let mut words: Vec<String> = Vec::new();
        let mut chars = line.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '/' if chars.peek() == Some(&'/') => break,
                ';' => {
                    if !words.is_empty() {
                        out.push(std::mem::take(&mut words));
                    }
                }
                '"' => {
                    let mut word = String::new();
                    for q in chars.by_ref() {
                        if q == '"' {
                            break;
                        }
                        word.push(q);
                    }
                    words.push(word);
                }
                c if c.is_whitespace() => {}
                c => {
                    let mut word = String::from(c);
                    while let Some(&n) = chars.peek() {
                        if n.is_whitespace() || n == '"' || n == ';' {
                            break;
                        }
                        if n == '/' {
                            let mut ahead = chars.clone();
                            ahead.next();
                            if ahead.peek() == Some(&'/') {
                                break;
                            }
                        }
                        word.push(n);
                        chars.next();
                    }
                    words.push(word);
                }
            }
        }
        if !words.is_empty() {
            out.push(words);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cvars_quoted_bare_comments_and_commands() {
        let text = "\u{feff}// Garrison test server\n\
                    hostname \"Garrison L4D2 Server\" // trailing comment\n\
                    rcon_password passwrd\n\
                    sv_password \"\"\n\
                    log on; sv_logecho 1\n\
                    mp_gamemode \"versus\"\n\
                    z_difficulty Hard//no space before the comment\n\
                    sv_gametypes \"coop,versus\"\n\
                    \n\
                    exec banned_user.cfg\n";
        let cfg = ServerConfig::parse(text);
        assert_eq!(cfg.hostname, "Garrison L4D2 Server");
        assert_eq!(cfg.rcon_password.as_deref(), Some("passwrd"));
        assert_eq!(cfg.sv_password, "");
        assert_eq!(cfg.gamemode, "versus");
        assert_eq!(cfg.difficulty, "Hard");
        let all = commands(text);
        assert!(all.contains(&vec!["log".to_string(), "on".to_string()]));
        assert!(all.contains(&vec!["sv_logecho".to_string(), "1".to_string()]));
    }

    #[test]
    fn defaults_gametypes_and_odd_input() {
        let cfg = ServerConfig::parse("sv_gametypes \" survival , coop\"\nrcon_password \"\"\n");
        assert_eq!(cfg.gamemode, "survival");
        assert_eq!(cfg.rcon_password, None);
        assert_eq!(cfg.difficulty, "Normal");
        // An unterminated quote runs to the end of the line; nothing panics.
        let cfg = ServerConfig::parse("hostname \"Half open\nrcon_password a\"b\n;;;\n\"\n");
        assert_eq!(cfg.hostname, "Half open");
        assert_eq!(cfg.rcon_password.as_deref(), Some("a"));
        assert_eq!(ServerConfig::parse(""), ServerConfig::default());
    }

    #[test]
    fn a_config_in_a_subfolder_of_cfg() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir_all(dir.path().join("cfg/garrison")).expect("mkdir");
        std::fs::write(dir.path().join("cfg/server.cfg"), "hostname \"shared\"\n").expect("write");
        std::fs::write(
            dir.path().join("cfg/garrison/27015.cfg"),
            "hostname \"mine\"\n",
        )
        .expect("write");
        let cfg = load(dir.path(), "garrison/27015.cfg").expect("loads");
        assert_eq!(cfg.hostname, "mine");
    }

    #[test]
    fn missing_file_is_an_error() {
        let dir = tempfile::tempdir().expect("temp dir");
        let err = load(dir.path(), "server.cfg").expect_err("missing");
        assert!(err.contains("cannot read config"), "{err}");
    }
}
