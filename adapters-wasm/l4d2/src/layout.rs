//! Where one server's files live inside the installed game it shares with the others.
//!
//! Every Left 4 Dead 2 server of a host runs from the same runtime directory, so nothing a
//! server reads or writes there may have a fixed name: two servers would overwrite each
//! other's config and interleave their logs. Each server's files are named after its game
//! port, which no two running servers share (the settings carry it; `log-sources` gets no
//! server id):
//!
//! - `left4dead2/cfg/garrison/<port>.cfg` — the cvars (`+exec garrison/<port>.cfg` at start,
//!   `servercfgfile` at every map load);
//! - `left4dead2/cfg/garrison/<port>-motd.txt` and `…/<port>-host.txt` — the message of the
//!   day and the welcome banner (`motdfile`, `hostfile`);
//! - `left4dead2/logs/garrison-<port>/L*.log` — the game logs (`+sv_logsdir`).
//!
//! The console needs no file: the host captures each server's output in its own instance
//! directory. [`crate::render`], [`crate::plan`] and the log sources all take their paths from
//! here, so the file written, the name the game is told and the place the host tails cannot
//! disagree. This module only names paths; it checks nothing but the port.

use garrison_adapter_sdk::prelude::*;

use crate::schema::{default, key};

/// The game directory (`-game`), relative to the runtime directory.
pub const GAME_DIR: &str = "left4dead2";
/// The folder under `left4dead2/cfg/` that holds every server's rendered files.
const CFG_SUBDIR: &str = "garrison";

/// The game port, checked to be one.
pub fn port(settings: &Settings) -> Result<u16, AdapterError> {
    let port = settings.integer(key::PORT).unwrap_or(default::PORT);
    u16::try_from(port)
        .ok()
        .filter(|&p| p > 0)
        .ok_or_else(|| AdapterError::Invalid(format!("not a port: {port}")))
}

/// One server's paths, derived from its game port.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServerFiles {
    /// The game port: unique among running servers, so it tells their files apart.
    port: u16,
}

impl ServerFiles {
    /// The paths of the server listening on `port`.
    pub fn new(port: u16) -> Self {
        Self { port }
    }

    /// The paths of the server with these settings; refused when the port is not one.
    pub fn of(settings: &Settings) -> Result<Self, AdapterError> {
        port(settings).map(Self::new)
    }

    /// The config as `exec` and `servercfgfile` name it: relative to `left4dead2/cfg/`.
    pub fn exec_name(&self) -> String {
        format!("{CFG_SUBDIR}/{}.cfg", self.port)
    }

    /// The config, relative to the runtime directory.
    pub fn cfg(&self) -> String {
        format!("{GAME_DIR}/cfg/{}", self.exec_name())
    }

    /// The message of the day as `motdfile` takes it: relative to the game directory.
    pub fn motd(&self) -> String {
        format!("cfg/{CFG_SUBDIR}/{}-motd.txt", self.port)
    }

    /// The welcome screen banner as `hostfile` takes it: relative to the game directory.
    pub fn host_banner(&self) -> String {
        format!("cfg/{CFG_SUBDIR}/{}-host.txt", self.port)
    }

    /// The game log folder as `sv_logsdir` takes it: relative to the game directory.
    pub fn logs_dir(&self) -> String {
        format!("logs/garrison-{}", self.port)
    }
}

/// A path relative to the game directory, made relative to the runtime directory.
pub fn in_runtime(game_path: &str) -> String {
    format!("{GAME_DIR}/{game_path}")
}
