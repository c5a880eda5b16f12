//! The files one Left 4 Dead 2 server reads: its cfg, `left4dead2/cfg/garrison/<port>.cfg`
//! (run by `+exec garrison/<port>.cfg` and, at every map load, as `servercfgfile`), and, when
//! set, its message of the day and welcome banner, `left4dead2/cfg/garrison/<port>-motd.txt`
//! and `…/<port>-host.txt`, which the cfg points the game at with `motdfile` and `hostfile`.
//! They are below the runtime directory because that is where srcds looks for them, and named
//! after the port (see [`crate::layout`]) because every server of the host shares that
//! directory; the game's own `server.cfg`, `motd.txt` and `host.txt` are left alone.
//!
//! A Source cfg is a list of console commands, one per line, `;` separating commands outside
//! double quotes; a quoted string cannot contain an escaped `"`. So every value goes through
//! [`quote`]: `"` becomes `'`, control characters (line breaks above all) are dropped, and the
//! result sits in double quotes, where `;` and `//` are plain text. No setting can end its
//! string and start a command of its own. Passwords are not rewritten (a silently changed
//! password would lock the admin out): one that cannot be quoted is refused, whether or not
//! `validate` ran first.

use std::fmt::Write;

use garrison_adapter_sdk::prelude::*;

use crate::layout::{self, ServerFiles};
use crate::schema::{default, key};
use crate::validate;

/// The server's cfg, plus its message of the day and banner when their settings are not
/// blank.
pub fn files(_ctx: &Context, settings: &Settings) -> Result<Vec<RenderedFile>, AdapterError> {
    let paths = ServerFiles::of(settings)?;
    let file = |path: String, contents: String| RenderedFile {
        path: PathRef {
            root: Root::Runtime,
            path,
        },
        contents: contents.into_bytes(),
    };
    let mut files = vec![file(paths.cfg(), server_cfg(settings, &paths)?)];
    for (k, path) in [
        (key::MOTD, paths.motd()),
        (key::HOST_BANNER, paths.host_banner()),
    ] {
        if let Some(text) = settings.non_empty_text(k) {
            files.push(file(layout::in_runtime(&path), plain_text(text)));
        }
    }
    Ok(files)
}

/// `value` as a Source cfg string: in double quotes, `"` replaced by `'`, control characters
/// dropped.
pub fn quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push('\''),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A text file shown to players: line breaks normalised to `\n`, other control characters
/// (except tabs) dropped, ending with a line break.
fn plain_text(text: &str) -> String {
    let mut out: String = text
        .replace("\r\n", "\n")
        .chars()
        .filter(|&c| c == '\n' || c == '\t' || !c.is_control())
        .collect();
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out
}

/// A password setting, refused when a cfg string cannot hold it.
fn password<'a>(settings: &'a Settings, k: &str) -> Result<&'a str, AdapterError> {
    let value = settings.text(k).unwrap_or("");
    if validate::is_cfg_password(value) {
        Ok(value)
    } else {
        Err(AdapterError::Invalid(format!(
            "{k} may not contain double quotes or line breaks"
        )))
    }
}

/// A choice setting, refused when it is not one of `options` (it becomes a cvar value).
fn choice<'a>(
    settings: &'a Settings,
    k: &str,
    fallback: &'a str,
    options: &[(&str, &str)],
) -> Result<&'a str, AdapterError> {
    let value = settings.non_empty_text(k).unwrap_or(fallback);
    if options.iter().any(|(v, _)| *v == value) {
        Ok(value)
    } else {
        Err(AdapterError::Invalid(format!(
            "{k} is not one of the offered choices: {value:?}"
        )))
    }
}

/// The server's cfg: one `name "value"` line per cvar, `motdfile` and `hostfile` when their
/// texts are rendered, then the logging Garrison reads, then the administrator's extra cvars.
pub fn server_cfg(settings: &Settings, paths: &ServerFiles) -> Result<String, AdapterError> {
    use crate::schema::{DIFFICULTIES, GAME_MODES, PURE_LEVELS, REGIONS};
    let mut out =
        String::from("// Written by Garrison from the server's settings; edits are overwritten.\n");
    let mut cvar = |name: &str, value: &str| {
        let _ = writeln!(out, "{name} {}", quote(value));
    };
    let flag = |k: &str, fallback: bool| {
        if settings.flag(k).unwrap_or(fallback) {
            "1"
        } else {
            "0"
        }
    };

    let rcon_password = password(settings, key::RCON_PASSWORD)?;
    let sv_password = password(settings, key::SV_PASSWORD)?;
    let mode = choice(settings, key::GAME_MODE, default::GAME_MODE, &GAME_MODES)?;
    let difficulty = choice(
        settings,
        key::DIFFICULTY,
        default::DIFFICULTY,
        &DIFFICULTIES,
    )?;
    let region = choice(settings, key::REGION, default::REGION, &REGIONS)?;
    let pure = choice(settings, key::SV_PURE, default::SV_PURE, &PURE_LEVELS)?;
    let group = settings.text(key::STEAM_GROUP).unwrap_or("");
    if !group.is_empty() && !validate::is_steam_group(group) {
        return Err(AdapterError::Invalid(format!(
            "the Steam group is not a number: {group:?}"
        )));
    }

    cvar(
        "hostname",
        settings
            .non_empty_text(key::HOSTNAME)
            .unwrap_or(default::HOSTNAME),
    );
    cvar("rcon_password", rcon_password);
    // Written even when empty, so a password removed from the settings does not linger.
    cvar("sv_password", sv_password);
    cvar("sv_gametypes", mode);
    cvar("mp_gamemode", mode);
    cvar("z_difficulty", difficulty);
    cvar("sv_region", region);
    cvar("sv_lan", flag(key::SV_LAN, false));
    cvar("sv_alltalk", flag(key::SV_ALLTALK, false));
    cvar("sv_consistency", flag(key::SV_CONSISTENCY, true));
    cvar("sv_pure", pure);
    cvar("sv_steamgroup", group);
    // Paths relative to the game directory, as these cvars take them; the same test as in
    // `files`, so the game is pointed only at files that are written.
    if settings.non_empty_text(key::MOTD).is_some() {
        cvar("motdfile", &paths.motd());
    }
    if settings.non_empty_text(key::HOST_BANNER).is_some() {
        cvar("hostfile", &paths.host_banner());
    }
    // The parser reads the game log and the console; keep them whatever the defaults become.
    out.push_str("log on\nsv_logecho 0\nsv_logfile 1\n");

    for row in settings.rows(key::EXTRA_CVARS) {
        let name = row.first().map(String::as_str).unwrap_or("");
        let value = row.get(1).map(String::as_str).unwrap_or("");
        validate::extra_cvar(name, value).map_err(AdapterError::Invalid)?;
        let _ = writeln!(out, "{name} {}", quote(value));
    }
    Ok(out)
}
