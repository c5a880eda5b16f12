//! Plans the host carries out for a Left 4 Dead 2 server: the anonymous SteamCMD install, the
//! launch argument list, the orderly stop, the map directory, the logs to tail and the RCON
//! endpoint.
//!
//! Arguments are built one element each and never joined into a command line. Values placed
//! into arguments are re-checked here, so a plan is never built from settings `validate`
//! would refuse. The server's config and game log folder are named by [`crate::layout`], so
//! servers sharing one installed game never share a file.

use garrison_adapter_sdk::prelude::*;

use crate::layout::{self, GAME_DIR, ServerFiles};
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

/// `srcds_run -game left4dead2 -port N +maxplayers N +sv_logsdir logs/garrison-N
/// +servercfgfile garrison/N.cfg +map MAP +exec garrison/N.cfg`, then the extra parameters,
/// started in the runtime directory. `+exec` runs the server's cfg at start; `servercfgfile`
/// is what the game runs at every map load instead of the install's shared `server.cfg`
/// (which may hold another server's settings). The console is the process's output, which
/// the host keeps per server, so no `-condebug` (it would append every server's console to
/// one shared `left4dead2/console.log`).
pub fn launch(ctx: &Context, settings: &Settings) -> Result<LaunchSpec, AdapterError> {
    let port = layout::port(settings)?;
    let files = ServerFiles::new(port);
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
    // `sv_logsdir` comes before the config, whose `log on` opens the first log file, and both
    // cvars before the map, whose load runs `servercfgfile`.
    let mut args: Vec<String> = [
        "-game",
        GAME_DIR,
        "-port",
        &port.to_string(),
        "+maxplayers",
        &max_players.to_string(),
        "+sv_logsdir",
        &files.logs_dir(),
        "+servercfgfile",
        &files.exec_name(),
        "+map",
        map,
        "+exec",
        &files.exec_name(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let extra = settings.items(key::EXTRA_PARAMS);
    crate::params::check(extra).map_err(|problems| {
        AdapterError::Invalid(format!("parameters: {}", problems.join("; ")))
    })?;
    args.extend(extra.iter().cloned());
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

/// Maps (`.bsp`) and add-on packs (`.vpk`) live in `left4dead2/maps`; no setting selects them.
pub fn content_dirs() -> Vec<ContentDir> {
    vec![ContentDir {
        kind: ContentKind::Missions,
        dir: PathRef {
            root: Root::Runtime,
            path: layout::in_runtime("maps"),
        },
        entries: EntryKind::File,
        extensions: vec![".bsp".to_string(), ".vpk".to_string()],
        prefixes: Vec::new(),
        selection: None,
        workshop: None,
    }]
}

/// The console (the process's output, kept by the host in the server's instance directory)
/// and the newest game log in the server's own `sv_logsdir` (a new `L*.log` per map and
/// start).
pub fn log_sources(settings: &Settings) -> Result<Vec<LogSource>, AdapterError> {
    let files = ServerFiles::of(settings)?;
    Ok(vec![
        LogSource {
            name: CONSOLE_SOURCE.to_string(),
            location: LogLocation::Console,
        },
        LogSource {
            name: GAME_SOURCE.to_string(),
            location: LogLocation::NewestFile(FilePattern {
                dir: PathRef {
                    root: Root::Runtime,
                    path: layout::in_runtime(&files.logs_dir()),
                },
                pattern: "L*.log".to_string(),
            }),
        },
    ])
}

/// Source RCON listens on the game port (TCP) once a password is set.
pub fn endpoint(settings: &Settings) -> Option<Connection> {
    let password = settings.non_empty_text(key::RCON_PASSWORD)?;
    Some(Connection {
        host: "127.0.0.1".to_string(),
        port: layout::port(settings).ok()?,
        password: password.to_string(),
    })
}
