//! Reading the files an Arma 3 server is started with.
//!
//! `server.cfg` uses the Arma config syntax (`key = value;`, `name[] = {…};`, nested
//! `class Name { … };`, `//` and `/* */` comments, `""` as an escaped quote inside a string);
//! `BEServer_x64.cfg` is one `Key value` pair per line. This module turns both into plain
//! structs and reports malformed input as an error with a line number — it never panics and
//! never touches the file system itself beyond the two `load_*` helpers.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;

/// A value on the right of `=` in an Arma config.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// A quoted string, escapes resolved.
    Text(String),
    /// An unquoted scalar such as `32` or `regular`.
    Word(String),
    /// `{ … }` on the right of `name[] =`.
    Array(Vec<Value>),
}

impl Value {
    /// The value as text, whether it was quoted or not (arrays have none).
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Value::Text(s) | Value::Word(s) => Some(s),
            Value::Array(_) => None,
        }
    }
}

/// A `class` body (the whole file is the unnamed root class).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ConfigClass {
    /// `key = value;` and `key[] = {…};` in file order.
    pub entries: Vec<(String, Value)>,
    /// Nested classes in file order.
    pub classes: Vec<(String, ConfigClass)>,
}

impl ConfigClass {
    /// Looks a key up the way the game does: case-insensitively, last definition wins.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.entries
            .iter()
            .rev()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    }

    /// A nested class by case-insensitive name.
    pub fn class(&self, name: &str) -> Option<&ConfigClass> {
        self.classes
            .iter()
            .rev()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, c)| c)
    }
}

/// A syntax error in a config file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// 1-based line where the problem was noticed.
    pub line: usize,
    /// What was expected.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// One entry of `class Missions`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mission {
    /// `template`, e.g. `co10_Escape.Altis`.
    pub template: String,
    /// `difficulty`, e.g. `regular` (empty if not set).
    pub difficulty: String,
}

impl Mission {
    /// The world (terrain) a template runs on: the part after the last dot.
    pub fn world(&self) -> &str {
        self.template.rsplit('.').next().unwrap_or("Altis")
    }
}

/// What the simulator needs from `server.cfg`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerConfig {
    /// `hostname`: the name in the server browser.
    pub hostname: String,
    /// `maxPlayers`: the simulated world never holds more players than this.
    pub max_players: u32,
    /// `password`: joining password (only reported, players are simulated).
    pub password: String,
    /// `passwordAdmin`: in-game admin password (only reported).
    pub password_admin: String,
    /// The mission rotation from `class Missions`.
    pub missions: Vec<Mission>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            hostname: "Arma 3 Server".into(),
            max_players: 64,
            password: String::new(),
            password_admin: String::new(),
            missions: Vec::new(),
        }
    }
}

impl ServerConfig {
    /// Extracts the known keys from a parsed `server.cfg`; unknown keys are ignored.
    pub fn from_class(root: &ConfigClass) -> Result<Self, String> {
        let mut cfg = Self::default();
        let text = |k: &str| root.get(k).and_then(Value::as_text).map(str::to_string);
        if let Some(h) = text("hostname") {
            cfg.hostname = h;
        }
        if let Some(m) = text("maxPlayers") {
            cfg.max_players = m
                .trim()
                .parse()
                .map_err(|_| format!("maxPlayers is not a number: {m:?}"))?;
        }
        cfg.password = text("password").unwrap_or_default();
        cfg.password_admin = text("passwordAdmin").unwrap_or_default();
        if let Some(missions) = root.class("Missions") {
            for (_, m) in &missions.classes {
                let Some(template) = m.get("template").and_then(Value::as_text) else {
                    continue;
                };
                let difficulty = m.get("difficulty").and_then(Value::as_text).unwrap_or("");
                cfg.missions.push(Mission {
                    template: template.to_string(),
                    difficulty: difficulty.to_string(),
                });
            }
        }
        Ok(cfg)
    }

    /// Parses `server.cfg` text.
    pub fn parse(text: &str) -> Result<Self, String> {
        let root = parse_config(text).map_err(|e| e.to_string())?;
        Self::from_class(&root)
    }
}

/// Reads and parses `server.cfg`.
pub fn load_server_cfg(path: &Path) -> Result<ServerConfig, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read server config {}: {e}", path.display()))?;
    ServerConfig::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// BattlEye's RCon settings from `BEServer_x64.cfg`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BeConfig {
    /// `RConPassword`; RCon is off without one.
    pub password: Option<String>,
    /// `RConPort`; defaults to the game port + 4 when absent.
    pub port: Option<u16>,
    /// `RConIP`; the simulator defaults to loopback rather than every interface.
    pub ip: IpAddr,
}

impl Default for BeConfig {
    fn default() -> Self {
        Self {
            password: None,
            port: None,
            ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
        }
    }
}

impl BeConfig {
    /// Parses `Key value` lines; keys are case-insensitive, unknown keys ignored.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut cfg = Self::default();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim().trim_start_matches('\u{feff}');
            if line.is_empty() || line.starts_with("//") {
                continue;
            }
            let (key, value) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
            let value = value.trim();
            let bad = |what: &str| format!("line {}: invalid {what} {value:?}", n + 1);
            match key.to_ascii_lowercase().as_str() {
                "rconpassword" if !value.is_empty() => cfg.password = Some(value.to_string()),
                "rconport" => cfg.port = Some(value.parse().map_err(|_| bad("RConPort"))?),
                "rconip" => cfg.ip = value.parse().map_err(|_| bad("RConIP"))?,
                _ => {}
            }
        }
        Ok(cfg)
    }
}

/// Reads `<bepath>/BEServer_x64.cfg`.
pub fn load_be_cfg(bepath: &Path) -> Result<BeConfig, String> {
    let path = bepath.join("BEServer_x64.cfg");
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read BattlEye config {}: {e}", path.display()))?;
    BeConfig::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Parses Arma config text into its root class.
pub fn parse_config(text: &str) -> Result<ConfigClass, ConfigError> {
    let mut p = Parser {
        chars: text.chars().collect(),
        pos: 0,
    };
    let root = p.body(false)?;
    Ok(root)
}

/// A cursor over the config text.
struct Parser {
    /// The whole text, as characters so non-ASCII strings are safe to slice.
    chars: Vec<char>,
    /// Index of the next character to read.
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn line(&self) -> usize {
        1 + self.chars[..self.pos.min(self.chars.len())]
            .iter()
            .filter(|c| **c == '\n')
            .count()
    }

    fn error<T>(&self, message: impl Into<String>) -> Result<T, ConfigError> {
        Err(ConfigError {
            line: self.line(),
            message: message.into(),
        })
    }

    /// Skips whitespace, comments and preprocessor lines (`#include`, `#define`).
    fn skip_blank(&mut self) {
        loop {
            match self.peek() {
                Some(c) if c.is_whitespace() || c == '\u{feff}' => self.pos += 1,
                Some('/') if self.chars.get(self.pos + 1) == Some(&'/') => self.skip_line(),
                Some('#') => self.skip_line(),
                Some('/') if self.chars.get(self.pos + 1) == Some(&'*') => {
                    self.pos += 2;
                    while self.pos < self.chars.len()
                        && !(self.chars[self.pos] == '*'
                            && self.chars.get(self.pos + 1) == Some(&'/'))
                    {
                        self.pos += 1;
                    }
                    self.pos = (self.pos + 2).min(self.chars.len());
                }
                _ => return,
            }
        }
    }

    fn skip_line(&mut self) {
        while let Some(c) = self.peek() {
            if c == '\n' {
                break;
            }
            self.pos += 1;
        }
    }

    fn eat(&mut self, c: char) -> bool {
        self.skip_blank();
        if self.peek() == Some(c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn ident(&mut self) -> Result<String, ConfigError> {
        self.skip_blank();
        let start = self.pos;
        while matches!(self.peek(), Some(c) if c.is_alphanumeric() || c == '_') {
            self.pos += 1;
        }
        if start == self.pos {
            return self.error(match self.peek() {
                Some(c) => format!("expected a name, found {c:?}"),
                None => "expected a name, found the end of the file".to_string(),
            });
        }
        Ok(self.chars[start..self.pos].iter().collect())
    }

    /// Items up to `}` (nested) or the end of the text (root).
    fn body(&mut self, nested: bool) -> Result<ConfigClass, ConfigError> {
        let mut class = ConfigClass::default();
        loop {
            self.skip_blank();
            match self.peek() {
                None if nested => return self.error("missing `}` before the end of the file"),
                None => return Ok(class),
                Some('}') if nested => {
                    self.pos += 1;
                    return Ok(class);
                }
                Some(';') => self.pos += 1,
                Some(_) => self.item(&mut class)?,
            }
        }
    }

    fn item(&mut self, class: &mut ConfigClass) -> Result<(), ConfigError> {
        let name = self.ident()?;
        if name == "class" {
            let cname = self.ident()?;
            if self.eat(':') {
                self.ident()?;
            }
            if self.eat('{') {
                let body = self.body(true)?;
                self.eat(';');
                class.classes.push((cname, body));
            } else if !self.eat(';') {
                return self.error(format!("expected `{{` or `;` after class {cname}"));
            }
            return Ok(());
        }
        let is_array = self.eat('[');
        if is_array && !self.eat(']') {
            return self.error(format!("expected `]` after {name}["));
        }
        self.eat('+');
        if !self.eat('=') {
            return self.error(format!("expected `=` after {name}"));
        }
        let value = if is_array {
            self.skip_blank();
            if self.peek() != Some('{') {
                return self.error(format!("expected `{{` after {name}[] ="));
            }
            self.array()?
        } else {
            self.scalar()?
        };
        self.skip_blank();
        match self.peek() {
            Some(';') => self.pos += 1,
            Some('}') | None => {}
            Some(c) => return self.error(format!("expected `;` after {name}, found {c:?}")),
        }
        class.entries.push((name, value));
        Ok(())
    }

    fn array(&mut self) -> Result<Value, ConfigError> {
        // The caller has seen `{`.
        self.pos += 1;
        let mut items = Vec::new();
        loop {
            self.skip_blank();
            match self.peek() {
                None => return self.error("unterminated array"),
                Some('}') => {
                    self.pos += 1;
                    return Ok(Value::Array(items));
                }
                Some(',') => self.pos += 1,
                Some('{') => items.push(self.array()?),
                Some('"') | Some('\'') => items.push(Value::Text(self.string()?)),
                Some(_) => {
                    let start = self.pos;
                    while matches!(self.peek(), Some(c) if c != ',' && c != '}' && c != '\n') {
                        self.pos += 1;
                    }
                    let word: String = self.chars[start..self.pos].iter().collect();
                    items.push(Value::Word(word.trim().to_string()));
                }
            }
        }
    }

    fn scalar(&mut self) -> Result<Value, ConfigError> {
        self.skip_blank();
        match self.peek() {
            Some('"') | Some('\'') => Ok(Value::Text(self.string()?)),
            _ => {
                let start = self.pos;
                while matches!(self.peek(), Some(c) if c != ';' && c != '}' && c != '\n') {
                    self.pos += 1;
                }
                let word: String = self.chars[start..self.pos].iter().collect();
                let word = word.trim();
                if word.is_empty() {
                    return self.error("missing value after `=`");
                }
                Ok(Value::Word(word.to_string()))
            }
        }
    }

    /// A quoted string; the quote character doubled inside is one literal quote.
    fn string(&mut self) -> Result<String, ConfigError> {
        let Some(quote) = self.peek() else {
            return self.error("expected a string");
        };
        let start_line = self.line();
        self.pos += 1;
        let mut out = String::new();
        loop {
            match self.peek() {
                None => {
                    return Err(ConfigError {
                        line: start_line,
                        message: "unterminated string".into(),
                    });
                }
                Some(c) if c == quote => {
                    if self.chars.get(self.pos + 1) == Some(&quote) {
                        out.push(quote);
                        self.pos += 2;
                    } else {
                        self.pos += 1;
                        return Ok(out);
                    }
                }
                Some(c) => {
                    out.push(c);
                    self.pos += 1;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SERVER_CFG: &str = r#"
// Garrison test server
hostname = "The ""Best"" Server – Ärger ☃"; // trailing comment
password = "";
passwordAdmin = "adm1n";
maxPlayers = 32;
/* a block
   comment with "quotes" and ; */
motd[] = { "Welcome", "Have fun" };
forcedDifficulty = regular;
class Missions
{
    class Mission_1
    {
        template = "co10_Escape.Altis";
        difficulty = "regular";
    };
    class Mission_2 { template = "MP_Warlords.Stratis"; difficulty = "veteran"; };
};
"#;

    #[test]
    fn server_cfg_with_escapes_comments_and_missions() {
        let cfg = ServerConfig::parse(SERVER_CFG).expect("parses");
        assert_eq!(cfg.hostname, "The \"Best\" Server – Ärger ☃");
        assert_eq!(cfg.max_players, 32);
        assert_eq!(cfg.password, "");
        assert_eq!(cfg.password_admin, "adm1n");
        assert_eq!(cfg.missions.len(), 2);
        assert_eq!(cfg.missions[0].template, "co10_Escape.Altis");
        assert_eq!(cfg.missions[0].difficulty, "regular");
        assert_eq!(cfg.missions[0].world(), "Altis");
        assert_eq!(cfg.missions[1].world(), "Stratis");
    }

    #[test]
    fn raw_tree_keeps_arrays_and_words() {
        let root = parse_config(SERVER_CFG).expect("parses");
        assert_eq!(
            root.get("MOTD"),
            Some(&Value::Array(vec![
                Value::Text("Welcome".into()),
                Value::Text("Have fun".into())
            ]))
        );
        assert_eq!(
            root.get("forcedDifficulty"),
            Some(&Value::Word("regular".into()))
        );
    }

    #[test]
    fn malformed_configs_are_errors_with_lines() {
        for (text, line) in [
            ("hostname = \"open", 1),
            ("a = 1;\nclass X {\n b = 2;\n", 4),
            ("a = 1;\n= 3;", 2),
            ("class { };", 1),
            ("x[ = {1};", 1),
            ("hostname \"x\";", 1),
            ("maxPlayers = lots;", 0),
        ] {
            match ServerConfig::parse(text) {
                Ok(cfg) => panic!("{text:?} parsed as {cfg:?}"),
                Err(e) if line > 0 => assert!(e.starts_with(&format!("line {line}:")), "{e}"),
                Err(_) => {}
            }
        }
    }

    #[test]
    fn be_config_keys_are_case_insensitive() {
        let cfg = BeConfig::parse(
            "RConPassword secret pass\nrconport 2306\nRCONIP 127.0.0.1\nMaxPing 200\n",
        )
        .expect("parses");
        assert_eq!(cfg.password.as_deref(), Some("secret pass"));
        assert_eq!(cfg.port, Some(2306));
        assert_eq!(cfg.ip.to_string(), "127.0.0.1");
        assert_eq!(BeConfig::parse("").expect("empty is fine").password, None);
        assert!(BeConfig::parse("RConPort 99999").is_err());
        assert!(BeConfig::parse("RConIP nowhere").is_err());
    }
}
