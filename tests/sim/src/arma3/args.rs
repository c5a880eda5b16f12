//! The command line of a real Arma 3 dedicated server.
//!
//! `-port=2302 -config=server.cfg -cfg=basic.cfg -profiles=DIR -name=NAME -bepath=DIR
//! -mod=… -serverMod=…`; names are case-insensitive and anything else is ignored, as the game
//! ignores what it does not know. Only the values the simulator uses are kept.

use std::path::PathBuf;

/// The game's own arguments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GameArgs {
    /// `-port`: the game port (default 2302); the Steam query port is the next one.
    pub port: u16,
    /// `-config`: `server.cfg`.
    pub config: Option<PathBuf>,
    /// `-cfg`: `basic.cfg` (only checked for readability).
    pub basic_cfg: Option<PathBuf>,
    /// `-profiles`: where the RPT file goes (default: the working directory).
    pub profiles: PathBuf,
    /// `-name`: the profile name.
    pub name: String,
    /// `-bepath`: the folder holding `BEServer_x64.cfg`.
    pub bepath: Option<PathBuf>,
    /// `-mod`: client mods, reported at start.
    pub mods: String,
    /// `-serverMod`: server-side mods, reported at start.
    pub server_mods: String,
}

impl Default for GameArgs {
    fn default() -> Self {
        Self {
            port: 2302,
            config: None,
            basic_cfg: None,
            profiles: PathBuf::from("."),
            name: "server".into(),
            bepath: None,
            mods: String::new(),
            server_mods: String::new(),
        }
    }
}

/// Parses the game arguments; only an unusable `-port` is an error.
pub fn parse(args: &[String]) -> Result<GameArgs, String> {
    let mut out = GameArgs::default();
    for arg in args {
        let Some(body) = arg.strip_prefix('-') else {
            continue;
        };
        let Some((name, value)) = body.split_once('=') else {
            continue;
        };
        let value = value.trim_matches('"');
        match name.to_ascii_lowercase().as_str() {
            "port" => {
                out.port = value
                    .parse()
                    .ok()
                    .filter(|p| *p != 0 && *p < u16::MAX)
                    .ok_or_else(|| format!("invalid -port value {value:?}"))?;
            }
            "config" => out.config = Some(PathBuf::from(value)),
            "cfg" => out.basic_cfg = Some(PathBuf::from(value)),
            "profiles" => out.profiles = PathBuf::from(value),
            "name" => out.name = value.to_string(),
            "bepath" => out.bepath = Some(PathBuf::from(value)),
            "mod" => out.mods = value.to_string(),
            "servermod" => out.server_mods = value.to_string(),
            _ => {}
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_arguments_and_unknown_ones() {
        let args: Vec<String> = [
            "-port=2402",
            "-config=cfg/server.cfg",
            "-cfg=basic.cfg",
            "-profiles=prof",
            "-name=srv",
            "-BEpath=be",
            "-mod=@CBA_A3;@ACE",
            "-serverMod=@admin",
            "-autoInit",
            "-limitFPS=100",
            "stray",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let a = parse(&args).expect("valid");
        assert_eq!(a.port, 2402);
        assert_eq!(a.config, Some(PathBuf::from("cfg/server.cfg")));
        assert_eq!(a.bepath, Some(PathBuf::from("be")));
        assert_eq!(a.profiles, PathBuf::from("prof"));
        assert_eq!(a.mods, "@CBA_A3;@ACE");
        assert_eq!(a.server_mods, "@admin");
        assert!(parse(&["-port=x".to_string()]).is_err());
        assert!(parse(&["-port=65535".to_string()]).is_err());
    }
}
