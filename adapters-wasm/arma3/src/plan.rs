//! Plans the host carries out for an Arma 3 server: the SteamCMD install, the launch argument
//! list, the orderly stop, the content directories, the logs to tail and the RCon endpoint.
//!
//! Arguments are built one element each and never joined into a command line. Values placed
//! into arguments are re-checked here, so a plan is never built from settings `validate`
//! would refuse.

use garrison_adapter_sdk::prelude::*;

use crate::schema::{default, key};
use crate::{GAME_APP_ID, SERVER_APP_ID, validate};

/// The server binary, relative to the runtime directory.
pub const PROGRAM: &str = "arma3server_x64";
/// Seconds to wait after `#shutdown` before the host's own SIGTERM.
pub const SHUTDOWN_WAIT_SECS: u32 = 15;
/// Where the game looks for missions, relative to its working directory (the instance
/// directory).
pub const MISSIONS_DIR: &str = "mpmissions";
/// The column of the `missions` table that names the mission file (without `.pbo`).
pub const MISSION_COLUMN: &str = "template";

/// One SteamCMD run: the server (with a Steam account, since Arma 3's server cannot be
/// downloaded anonymously) plus the Workshop items, each linked as `@<item id>`.
pub fn install(settings: &Settings) -> Result<Vec<InstallStep>, AdapterError> {
    let (Some(username), Some(password)) = (
        settings.non_empty_text(key::STEAM_USERNAME),
        settings.non_empty_text(key::STEAM_PASSWORD),
    ) else {
        return Err(AdapterError::Invalid(
            "Arma 3's server cannot be downloaded anonymously: set the Steam user name and \
             password of an account that owns Arma 3"
                .into(),
        ));
    };
    let workshop = settings
        .items(key::WORKSHOP_ITEMS)
        .iter()
        .map(|item| {
            let id = validate::workshop_id(item).ok_or_else(|| {
                AdapterError::Invalid(format!("not a Workshop item number: {item:?}"))
            })?;
            Ok(WorkshopItem {
                app_id: GAME_APP_ID,
                item_id: id,
                link_as: Some(PathRef {
                    root: Root::Runtime,
                    path: format!("@{id}"),
                }),
            })
        })
        .collect::<Result<Vec<_>, AdapterError>>()?;
    Ok(vec![InstallStep::Steamcmd(SteamcmdApp {
        app_id: SERVER_APP_ID,
        login: SteamLogin::Account(SteamAccount {
            username: username.to_string(),
            password: password.to_string(),
        }),
        beta: settings
            .non_empty_text(key::BETA_BRANCH)
            .map(str::to_string),
        beta_password: settings
            .non_empty_text(key::BETA_PASSWORD)
            .map(str::to_string),
        validate: true,
        workshop,
    })])
}

/// The server's argument list; config files, profiles and missions live in the instance
/// directory.
///
/// The game reads missions from `mpmissions` in its working directory, so it starts in the
/// instance directory, whose `mpmissions` is the server's own (see [`content_dirs`]): servers
/// sharing the installed game never see each other's missions. The program is found in the
/// runtime directory all the same (a relative program is resolved there), and mod folders,
/// which are shared game content, are passed as absolute paths into it.
pub fn launch(ctx: &Context, settings: &Settings) -> Result<LaunchSpec, AdapterError> {
    let dir = ctx.instance_dir.trim_end_matches('/');
    let runtime = ctx.runtime_dir.trim_end_matches('/');
    let port = settings.integer(key::PORT).unwrap_or(default::PORT);
    let profile = settings
        .non_empty_text(key::PROFILE_NAME)
        .unwrap_or(default::PROFILE_NAME);
    if !validate::is_profile_name(profile) {
        return Err(AdapterError::Invalid(format!(
            "not a valid profile name: {profile:?}"
        )));
    }
    let mut args = vec![
        format!("-port={port}"),
        format!("-config={dir}/server.cfg"),
        format!("-cfg={dir}/basic.cfg"),
        format!("-profiles={dir}/profiles"),
        format!("-name={profile}"),
        format!("-bepath={dir}/battleye"),
    ];
    for (k, flag) in [(key::MODS, "-mod="), (key::SERVER_MODS, "-serverMod=")] {
        let mods = settings.items(k);
        if mods.is_empty() {
            continue;
        }
        for name in mods {
            validate::mod_folder(name)
                .map_err(|why| AdapterError::Invalid(format!("mod {name:?}: {why}")))?;
        }
        let paths: Vec<String> = mods
            .iter()
            .map(|name| format!("{runtime}/{}", name.trim_start_matches("./")))
            .collect();
        args.push(format!("{flag}{}", paths.join(";")));
    }
    for param in settings.items(key::EXTRA_PARAMS) {
        validate::extra_param(param)
            .map_err(|why| AdapterError::Invalid(format!("parameter {param:?}: {why}")))?;
        args.push(param.clone());
    }
    Ok(LaunchSpec {
        program: PROGRAM.to_string(),
        args,
        working_dir: Some(dir.to_string()),
        env: Vec::new(),
        wait_for_ready: true,
        startup_timeout_secs: None,
    })
}

/// `#shutdown` over RCon, then a short wait; the grace period is the host's budget.
pub fn stop() -> StopSpec {
    StopSpec {
        steps: vec![
            StopStep::RconCommand("#shutdown".to_string()),
            StopStep::WaitSecs(SHUTDOWN_WAIT_SECS),
        ],
        grace_secs: None,
    }
}

/// Missions are `.pbo` files in the server's own `mpmissions` (in its instance directory,
/// where the game starts, see [`launch`]), played in the order of the `missions` table (its
/// `template` column names a mission without `.pbo`); mod folders (`@name`) sit in the game
/// root, shared by the servers of the host, and load in the order of the `mods` list;
/// Workshop items (`workshop_items`) are linked there as `@<item id>`.
pub fn content_dirs() -> Vec<ContentDir> {
    vec![
        ContentDir {
            kind: ContentKind::Missions,
            dir: PathRef {
                root: Root::Instance,
                path: MISSIONS_DIR.to_string(),
            },
            entries: EntryKind::File,
            extensions: vec![".pbo".to_string()],
            prefixes: Vec::new(),
            selection: Some(ContentSelection {
                setting: key::MISSIONS.to_string(),
                column: Some(MISSION_COLUMN.to_string()),
            }),
            workshop: None,
        },
        ContentDir {
            kind: ContentKind::Mods,
            dir: PathRef {
                root: Root::Runtime,
                path: String::new(),
            },
            entries: EntryKind::Folder,
            extensions: Vec::new(),
            prefixes: vec!["@".to_string()],
            selection: Some(ContentSelection {
                setting: key::MODS.to_string(),
                column: None,
            }),
            workshop: Some(key::WORKSHOP_ITEMS.to_string()),
        },
    ]
}

/// The newest RPT in the profile directory (a new one appears at every start), and the
/// console.
pub fn log_sources() -> Vec<LogSource> {
    vec![
        LogSource {
            name: crate::rpt::RPT_SOURCE.to_string(),
            location: LogLocation::NewestFile(FilePattern {
                dir: PathRef {
                    root: Root::Instance,
                    path: "profiles".to_string(),
                },
                pattern: "*.rpt".to_string(),
            }),
        },
        LogSource {
            name: "console".to_string(),
            location: LogLocation::Console,
        },
    ]
}

/// Where BattlEye RCon listens, when BattlEye is on and has a password.
pub fn endpoint(settings: &Settings) -> Option<Connection> {
    if !settings.flag(key::BATTLEYE).unwrap_or(true) {
        return None;
    }
    let password = settings.non_empty_text(key::RCON_PASSWORD)?;
    let host = match settings.non_empty_text(key::RCON_BIND) {
        None | Some("0.0.0.0") => default::RCON_BIND,
        Some(bind) => bind,
    };
    let port = settings
        .integer(key::RCON_PORT)
        .unwrap_or(default::RCON_PORT);
    Some(Connection {
        host: host.to_string(),
        port: u16::try_from(port).ok()?,
        password: password.to_string(),
    })
}
