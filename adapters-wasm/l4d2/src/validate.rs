//! Checks of settings beyond the schema: map names, passwords a Source cfg can hold, Steam
//! group numbers, and extra cvars that must not override what Garrison sets or load code (the
//! launch parameters are allow-listed in [`crate::params`]).
//!
//! The host has already checked kinds, ranges, choices and required fields, so this module
//! judges only what is specific to Left 4 Dead 2. Every problem is reported, keyed by field.
//! The predicates are shared with [`crate::render`] and [`crate::plan`], which re-check the
//! values they place into files and arguments rather than trusting that `validate` ran.

use garrison_adapter_sdk::prelude::*;

use crate::schema::key;

/// Every problem with `settings`, or `Ok` when there is none.
pub fn check(settings: &Settings) -> Result<(), Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut error = |field: &str, message: String| {
        errors.push(FieldError {
            field: field.to_string(),
            message,
        })
    };

    if settings.non_empty_text(key::HOSTNAME).is_none() {
        error(key::HOSTNAME, "Enter a server name.".into());
    }
    match settings.non_empty_text(key::RCON_PASSWORD) {
        None => error(
            key::RCON_PASSWORD,
            "Set a remote console password: the dashboard needs it to manage the server.".into(),
        ),
        Some(pw) if !is_cfg_password(pw) => error(
            key::RCON_PASSWORD,
            "The password may not contain double quotes or line breaks.".into(),
        ),
        Some(_) => {}
    }
    if let Some(pw) = settings.text(key::SV_PASSWORD)
        && !pw.is_empty()
        && !is_cfg_password(pw)
    {
        error(
            key::SV_PASSWORD,
            "The password may not contain double quotes or line breaks.".into(),
        );
    }
    if let Some(map) = settings.text(key::START_MAP)
        && !is_map_name(map)
    {
        error(
            key::START_MAP,
            format!(
                "\"{map}\" is not a map name: use lowercase letters, digits and _ only, such \
                 as c1m1_hotel."
            ),
        );
    }
    if let Some(group) = settings.text(key::STEAM_GROUP)
        && !group.is_empty()
        && !is_steam_group(group)
    {
        error(
            key::STEAM_GROUP,
            "A Steam group number has digits only (find it on the group's page).".into(),
        );
    }
    for (i, row) in settings.rows(key::EXTRA_CVARS).iter().enumerate() {
        let name = row.first().map(String::as_str).unwrap_or("");
        let value = row.get(1).map(String::as_str).unwrap_or("");
        if let Err(why) = extra_cvar(name, value) {
            error(key::EXTRA_CVARS, format!("Row {}: {why}", i + 1));
        }
    }
    if let Err(problems) = crate::params::check(settings.items(key::EXTRA_PARAMS)) {
        for why in problems {
            error(key::EXTRA_PARAMS, format!("Refused: {why}."));
        }
    }

    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// A password a Source cfg can hold inside double quotes: no `"` (the format cannot escape
/// one) and no line breaks or other control characters.
pub fn is_cfg_password(s: &str) -> bool {
    !s.chars().any(|c| c == '"' || c.is_control())
}

/// A map name as `+map` and `changelevel` take it: `[a-z0-9_]+`, at most 64 characters.
pub fn is_map_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// A Steam group number: digits only.
pub fn is_steam_group(s: &str) -> bool {
    !s.is_empty() && s.len() <= 20 && s.bytes().all(|b| b.is_ascii_digit())
}

/// A cvar or command name: `[A-Za-z0-9_]+`, at most 64 characters.
pub fn is_cvar_name(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Names an extra cvar may not use: the cvars Garrison writes itself, the logging and the
/// per-server files Garrison depends on (an override would send a server's log or message of
/// the day into a file shared with other servers), and commands that would run other files,
/// leave or switch maps.
pub const RESERVED_CVARS: [&str; 27] = [
    "hostname",
    "rcon_password",
    "sv_password",
    "sv_gametypes",
    "mp_gamemode",
    "z_difficulty",
    "sv_region",
    "sv_lan",
    "sv_alltalk",
    "sv_consistency",
    "sv_pure",
    "sv_steamgroup",
    "motdfile",
    "hostfile",
    "maxplayers",
    "log",
    "sv_logecho",
    "sv_logfile",
    "sv_logsdir",
    "con_logfile",
    "exec",
    "servercfgfile",
    "alias",
    "quit",
    "exit",
    "map",
    "changelevel",
];

/// Commands a config file could run that load code, write files or send data elsewhere. The
/// extra cvars table takes the game's many gameplay variables, so it cannot be an allow-list;
/// these are refused on top of the reserved names.
pub const UNSAFE_COMMANDS: [&str; 12] = [
    "plugin_load",
    "plugin_unload",
    "log_address_add",
    "logaddress_add",
    "logaddress_del",
    "logaddress_delall",
    "sv_downloadurl",
    "tv_record",
    "record",
    "writeid",
    "writeip",
    "sv_allowupload",
];

/// One row of the extra cvars table.
pub fn extra_cvar(name: &str, value: &str) -> Result<(), String> {
    if !is_cvar_name(name) {
        return Err(format!(
            "\"{name}\" is not a variable name: use letters, digits and _ only."
        ));
    }
    if UNSAFE_COMMANDS.iter().any(|r| r.eq_ignore_ascii_case(name)) {
        return Err(format!(
            "\"{name}\" loads code, writes files or sends data to another address; it is not \
             allowed."
        ));
    }
    if RESERVED_CVARS.iter().any(|r| r.eq_ignore_ascii_case(name)) {
        return Err(format!(
            "Garrison sets \"{name}\" itself; change the matching setting instead."
        ));
    }
    if value.chars().any(char::is_control) {
        return Err("the value may not contain line breaks or control characters.".into());
    }
    Ok(())
}
