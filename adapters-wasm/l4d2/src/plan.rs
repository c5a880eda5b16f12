//! Plans the host carries out for a Left 4 Dead 2 server: the anonymous SteamCMD install, the
//! launch argument list, the orderly stop, the map directory, the logs to tail and the RCON
//! endpoint.
//!
//! Arguments are built one element each and never joined into a command line. Values placed
//! into arguments are re-checked here, so a plan is never built from settings `validate`
//! would refuse.

use garrison_adapter_sdk::prelude::*;

use crate::logs::{CONSOLE_SOURCE, GAME_SOURCE};
use crate::schema::{MAX_PLAYERS_LIMIT, default, key};
use crate::{SERVER_APP_ID, validate};

/// The server launcher, relative to the runtime directory.
pub const PROGRAM: &str = "srcds_run";
/// Seconds to wait after `quit` before the host's own SIGTERM.
pub const QUIT_WAIT_SECS: u32 = 10;

/// One anonymous SteamCMD run of the dedicated server, verifying its files.
pub fn install() -> Vec<InstallStep> {
    vec![InstallStep::Steamcmd(SteamcmdApp {
        app_id: SERVER_APP_ID,
        login: SteamLogin::Anonymous,
        beta: None,
        beta_password: None,
        validate: true,
        workshop: Vec::new(),
    })]
}

/// The game port, checked to be one.
pub fn port(settings: &Settings) -> Result<u16, AdapterError> {
    let port = settings.integer(key::PORT).unwrap_or(default::PORT);
    u16::try_from(port)
        .ok()
        .filter(|&p| p > 0)
        .ok_or_else(|| AdapterError::Invalid(format!("not a port: {port}")))
}

/// `srcds_run -game left4dead2 -port N +maxplayers N +map MAP +exec server.cfg -condebug`,
/// then the extra parameters, started in the runtime directory.
pub fn launch(ctx: &Context, settings: &Settings) -> Result<LaunchSpec, AdapterError> {
    let port = port(settings)?;
    let max_players = settings
        .integer(key::MAX_PLAYERS)
        .unwrap_or(default::MAX_PLAYERS);
    if !(1..=MAX_PLAYERS_LIMIT).contains(&max_players) {
        return Err(AdapterError::Invalid(format!(
            "player slots must be 1 to {MAX_PLAYERS_LIMIT}, not {max_players}"
        )));
    }
    let map = settings
        .non_empty_text(key::START_MAP)
        .unwrap_or(default::START_MAP);
    if !validate::is_map_name(map) {
        return Err(AdapterError::Invalid(format!("not a map name: {map:?}")));
    }
    let mut args: Vec<String> = [
        "-game",
        "left4dead2",
        "-port",
        &port.to_string(),
        "+maxplayers",
        &max_players.to_string(),
        "+map",
        map,
        "+exec",
        "server.cfg",
        "-condebug",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for param in settings.items(key::EXTRA_PARAMS) {
        validate::extra_param(param)
            .map_err(|why| AdapterError::Invalid(format!("parameter {param:?}: {why}")))?;
        args.push(param.clone());
    }
    Ok(LaunchSpec {
        program: PROGRAM.to_string(),
        args,
        working_dir: Some(ctx.runtime_dir.clone()),
        env: Vec::new(),
        wait_for_ready: true,
        startup_timeout_secs: None,
    })
}

/// `quit` over RCON, then a short wait; the grace period is the host's budget.
pub fn stop() -> StopSpec {
    StopSpec {
        steps: vec![
            StopStep::RconCommand(crate::replies::QUIT_COMMAND.to_string()),
            StopStep::WaitSecs(QUIT_WAIT_SECS),
        ],
        grace_secs: None,
    }
}

/// Maps (`.bsp`) and add-on packs (`.vpk`) live in `left4dead2/maps`.
pub fn content_dirs() -> Vec<ContentDir> {
    vec![ContentDir {
        kind: ContentKind::Missions,
        dir: PathRef {
            root: Root::Runtime,
            path: "left4dead2/maps".to_string(),
        },
        extensions: vec![".bsp".to_string(), ".vpk".to_string()],
    }]
}

/// The console as `-condebug` writes it, and the newest game log (a new `L*.log` per map and
/// start).
pub fn log_sources() -> Vec<LogSource> {
    let newest = |dir: &str, pattern: &str| {
        LogLocation::NewestFile(FilePattern {
            dir: PathRef {
                root: Root::Runtime,
                path: dir.to_string(),
            },
            pattern: pattern.to_string(),
        })
    };
    vec![
        LogSource {
            name: CONSOLE_SOURCE.to_string(),
            location: newest("left4dead2", "console.log"),
        },
        LogSource {
            name: GAME_SOURCE.to_string(),
            location: newest("left4dead2/logs", "L*.log"),
        },
    ]
}

/// Source RCON listens on the game port (TCP) once a password is set.
pub fn endpoint(settings: &Settings) -> Option<Connection> {
    let password = settings.non_empty_text(key::RCON_PASSWORD)?;
    Some(Connection {
        host: "127.0.0.1".to_string(),
        port: port(settings).ok()?,
        password: password.to_string(),
    })
}
