//! The configuration files Arma 3 reads: `server.cfg`, `basic.cfg` and BattlEye's
//! `battleye/BEServer_x64.cfg`, all in the instance directory.
//!
//! Every text value goes through [`quote`], Arma's string syntax (`"` doubled, line breaks
//! flattened), so no setting can end a string and start a statement of its own. Values that
//! are written unquoted (numbers, the BattlEye password) are re-checked here and refused when
//! they do not have the expected form, whether or not `validate` ran first.

use std::fmt::Write;

use garrison_adapter_sdk::prelude::*;

use crate::schema::{default, key};
use crate::validate;

/// Instance-relative path of the BattlEye server configuration.
pub const BESERVER_CFG: &str = "battleye/BEServer_x64.cfg";

/// All three files.
pub fn files(_ctx: &Context, settings: &Settings) -> Result<Vec<RenderedFile>, AdapterError> {
    let file = |path: &str, contents: String| RenderedFile {
        path: PathRef {
            root: Root::Instance,
            path: path.to_string(),
        },
        contents: contents.into_bytes(),
    };
    Ok(vec![
        file("server.cfg", server_cfg(settings)?),
        file("basic.cfg", basic_cfg(settings)?),
        file(BESERVER_CFG, beserver_cfg(settings)?),
    ])
}

/// `value` as an Arma config string literal: in double quotes, an embedded `"` written as `""`,
/// and control characters (line breaks above all) replaced by spaces.
pub fn quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\"\""),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// An array of string literals: `{ "a", "b" }`.
fn quote_all(values: &[String]) -> String {
    let items: Vec<String> = values.iter().map(|v| quote(v)).collect();
    format!("{{ {} }}", items.join(", "))
}

fn flag(settings: &Settings, k: &str, fallback: bool) -> u8 {
    u8::from(settings.flag(k).unwrap_or(fallback))
}

/// `server.cfg`: name, passwords, admins, security, voice, mission rotation.
pub fn server_cfg(settings: &Settings) -> Result<String, AdapterError> {
    let mut out =
        String::from("// Written by Garrison from the server's settings; edits are overwritten.\n");
    let hostname = settings.text(key::HOSTNAME).unwrap_or(default::HOSTNAME);
    let _ = writeln!(out, "hostname = {};", quote(hostname));
    for (k, name) in [
        (key::PASSWORD, "password"),
        (key::PASSWORD_ADMIN, "passwordAdmin"),
        (key::SERVER_COMMAND_PASSWORD, "serverCommandPassword"),
    ] {
        if let Some(value) = settings.non_empty_text(k) {
            let _ = writeln!(out, "{name} = {};", quote(value));
        }
    }
    let int = |k: &str, fallback: i64| settings.integer(k).unwrap_or(fallback);
    let _ = writeln!(
        out,
        "maxPlayers = {};",
        int(key::MAX_PLAYERS, default::MAX_PLAYERS)
    );
    let _ = writeln!(out, "motd[] = {};", quote_all(settings.items(key::MOTD)));
    let _ = writeln!(
        out,
        "motdInterval = {};",
        int(key::MOTD_INTERVAL, default::MOTD_INTERVAL)
    );
    let _ = writeln!(
        out,
        "admins[] = {};",
        quote_all(settings.items(key::ADMINS))
    );
    let _ = writeln!(
        out,
        "headlessClients[] = {};",
        quote_all(settings.items(key::HEADLESS_CLIENTS))
    );
    let _ = writeln!(
        out,
        "localClient[] = {};",
        quote_all(settings.items(key::LOCAL_CLIENTS))
    );
    let _ = writeln!(out, "BattlEye = {};", flag(settings, key::BATTLEYE, true));
    let verify = match settings.text(key::VERIFY_SIGNATURES) {
        Some("0") => 0,
        _ => 2,
    };
    let _ = writeln!(out, "verifySignatures = {verify};");
    let _ = writeln!(
        out,
        "kickDuplicate = {};",
        flag(settings, key::KICK_DUPLICATE, true)
    );
    let _ = writeln!(
        out,
        "persistent = {};",
        flag(settings, key::PERSISTENT, false)
    );
    let _ = writeln!(
        out,
        "disableVoN = {};",
        flag(settings, key::DISABLE_VON, false)
    );
    let _ = writeln!(
        out,
        "vonCodecQuality = {};",
        int(key::VON_CODEC_QUALITY, default::VON_CODEC_QUALITY)
    );
    // The parser reads these timestamps; keep them whatever the game's default becomes.
    out.push_str("timeStampFormat = \"short\";\n");
    out.push_str(&missions(settings.rows(key::MISSIONS)));
    Ok(out)
}

/// Difficulty presets a mission may name.
const DIFFICULTIES: [&str; 4] = ["recruit", "regular", "veteran", "custom"];

/// The mission rotation, or nothing (the server then lets players vote).
fn missions(rows: &[Vec<String>]) -> String {
    if rows.is_empty() {
        return String::new();
    }
    let mut out = String::from("class Missions\n{\n");
    for (i, row) in rows.iter().enumerate() {
        let template = row.first().map(|s| s.trim()).unwrap_or("");
        let template = template.strip_suffix(".pbo").unwrap_or(template);
        let difficulty = row
            .get(1)
            .map(String::as_str)
            .filter(|d| DIFFICULTIES.contains(d))
            .unwrap_or("regular");
        let _ = writeln!(
            out,
            "    class Mission_{}\n    {{\n        template = {};\n        difficulty = {};\n    }};",
            i + 1,
            quote(template),
            quote(difficulty)
        );
    }
    out.push_str("};\n");
    out
}

/// `basic.cfg`: bandwidth tuning.
pub fn basic_cfg(settings: &Settings) -> Result<String, AdapterError> {
    let mut out =
        String::from("// Written by Garrison from the server's settings; edits are overwritten.\n");
    let int = |k: &str, fallback: i64| settings.integer(k).unwrap_or(fallback);
    for (name, k, fallback) in [
        ("MaxMsgSend", key::MAX_MSG_SEND, default::MAX_MSG_SEND),
        (
            "MaxSizeGuaranteed",
            key::MAX_SIZE_GUARANTEED,
            default::MAX_SIZE_GUARANTEED,
        ),
        (
            "MaxSizeNonguaranteed",
            key::MAX_SIZE_NONGUARANTEED,
            default::MAX_SIZE_NONGUARANTEED,
        ),
        ("MinBandwidth", key::MIN_BANDWIDTH, default::MIN_BANDWIDTH),
        ("MaxBandwidth", key::MAX_BANDWIDTH, default::MAX_BANDWIDTH),
        (
            "MaxCustomFileSize",
            key::MAX_CUSTOM_FILE_SIZE,
            default::MAX_CUSTOM_FILE_SIZE,
        ),
    ] {
        let _ = writeln!(out, "{name} = {};", int(k, fallback));
    }
    for (name, k, fallback) in [
        (
            "MinErrorToSend",
            key::MIN_ERROR_TO_SEND,
            default::MIN_ERROR_TO_SEND,
        ),
        (
            "MinErrorToSendNear",
            key::MIN_ERROR_TO_SEND_NEAR,
            default::MIN_ERROR_TO_SEND_NEAR,
        ),
    ] {
        let value = settings.non_empty_text(k).unwrap_or(fallback);
        if !validate::is_decimal(value) {
            return Err(AdapterError::Invalid(format!(
                "{k} is not a decimal number: {value:?}"
            )));
        }
        let _ = writeln!(out, "{name} = {value};");
    }
    Ok(out)
}

/// `BEServer_x64.cfg`: BattlEye's RCon password, port and address, one `Name value` per line.
/// Written (possibly empty) even without a password, so an old password never lingers.
pub fn beserver_cfg(settings: &Settings) -> Result<String, AdapterError> {
    let mut out = String::new();
    let Some(password) = settings.non_empty_text(key::RCON_PASSWORD) else {
        return Ok(out);
    };
    if !validate::is_rcon_password(password) {
        return Err(AdapterError::Invalid(
            "the RCon password may not contain spaces, quotes or control characters".into(),
        ));
    }
    let bind = settings.text(key::RCON_BIND).unwrap_or(default::RCON_BIND);
    if bind.parse::<std::net::Ipv4Addr>().is_err() {
        return Err(AdapterError::Invalid(format!(
            "the RCon address is not an IPv4 address: {bind:?}"
        )));
    }
    let port = settings
        .integer(key::RCON_PORT)
        .unwrap_or(default::RCON_PORT);
    let _ = writeln!(out, "RConPassword {password}");
    let _ = writeln!(out, "RConPort {port}");
    let _ = writeln!(out, "RConIP {bind}");
    Ok(out)
}
