//! Checks of settings beyond the schema: formats (Steam ids, IP addresses, mod folders,
//! decimal numbers) and combinations (an RCon password while BattlEye is on, ports that do not
//! collide).
//!
//! The host has already checked kinds, ranges, choices and required fields, so this module
//! judges only what is specific to Arma 3. Every problem is reported, keyed by field. The
//! format predicates are shared with [`crate::render`] and [`crate::plan`], which re-check the
//! values they place into files and arguments rather than trusting that `validate` ran.

use std::net::Ipv4Addr;

use garrison_adapter_sdk::prelude::*;

use crate::schema::{default, key};

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
    for id in settings.items(key::ADMINS) {
        if !is_steam_id(id) {
            error(
                key::ADMINS,
                format!("\"{id}\" is not a Steam ID: it must be exactly 17 digits."),
            );
        }
    }
    for k in [key::HEADLESS_CLIENTS, key::LOCAL_CLIENTS] {
        for ip in settings.items(k) {
            if ip.parse::<Ipv4Addr>().is_err() {
                error(
                    k,
                    format!("\"{ip}\" is not an IPv4 address such as 127.0.0.1."),
                );
            }
        }
    }
    for (i, row) in settings.rows(key::MISSIONS).iter().enumerate() {
        let template = row.first().map(|s| s.trim()).unwrap_or("");
        if let Err(why) = mission_template(template) {
            error(key::MISSIONS, format!("Mission {}: {why}", i + 1));
        }
    }

    check_rcon(settings, &mut error);

    for k in [key::MIN_ERROR_TO_SEND, key::MIN_ERROR_TO_SEND_NEAR] {
        if let Some(value) = settings.text(k)
            && !is_decimal(value)
        {
            error(
                k,
                format!("\"{value}\" is not a decimal number such as 0.001."),
            );
        }
    }
    if let (Some(min), Some(max)) = (
        settings.integer(key::MIN_BANDWIDTH),
        settings.integer(key::MAX_BANDWIDTH),
    ) && min > max
    {
        error(
            key::MIN_BANDWIDTH,
            "The minimum bandwidth must not be larger than the maximum.".into(),
        );
    }

    for k in [key::MODS, key::SERVER_MODS] {
        for name in settings.items(k) {
            if let Err(why) = mod_folder(name) {
                error(k, format!("\"{name}\": {why}"));
            }
        }
    }
    for item in settings.items(key::WORKSHOP_ITEMS) {
        if workshop_id(item).is_none() {
            error(
                key::WORKSHOP_ITEMS,
                format!("\"{item}\" is not a Workshop item number (digits only)."),
            );
        }
    }
    for param in settings.items(key::EXTRA_PARAMS) {
        if let Err(why) = extra_param(param) {
            error(key::EXTRA_PARAMS, format!("Refused: {why}."));
        }
    }
    if let Some(name) = settings.text(key::PROFILE_NAME)
        && !is_profile_name(name)
    {
        error(
            key::PROFILE_NAME,
            "Use only letters, digits, - and _ (at most 64 characters).".into(),
        );
    }
    if settings.non_empty_text(key::BETA_PASSWORD).is_some()
        && settings.non_empty_text(key::BETA_BRANCH).is_none()
    {
        error(
            key::BETA_PASSWORD,
            "A beta password needs a beta branch to go with it.".into(),
        );
    }

    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// RCon password, address and port.
fn check_rcon(settings: &Settings, error: &mut impl FnMut(&str, String)) {
    let battleye = settings.flag(key::BATTLEYE).unwrap_or(true);
    match settings.non_empty_text(key::RCON_PASSWORD) {
        None if battleye => error(
            key::RCON_PASSWORD,
            "Set a remote console password: the dashboard needs it while BattlEye is on.".into(),
        ),
        Some(pw) if !is_rcon_password(pw) => error(
            key::RCON_PASSWORD,
            "The password may not contain spaces, quotes or control characters.".into(),
        ),
        _ => {}
    }
    let bind = settings.text(key::RCON_BIND).unwrap_or(default::RCON_BIND);
    if bind.parse::<Ipv4Addr>().is_err() {
        error(
            key::RCON_BIND,
            format!("\"{bind}\" is not an IPv4 address such as 127.0.0.1."),
        );
    }
    let port = settings.integer(key::PORT).unwrap_or(default::PORT);
    let rcon = settings
        .integer(key::RCON_PORT)
        .unwrap_or(default::RCON_PORT);
    if (port..=port + 3).contains(&rcon) {
        error(
            key::RCON_PORT,
            format!(
                "Arma 3 uses the game port and the three after it ({port}-{}). Pick another \
                 port, for example {}.",
                port + 3,
                port + 4
            ),
        );
    }
}

/// A SteamID64: exactly 17 ASCII digits.
pub fn is_steam_id(s: &str) -> bool {
    s.len() == 17 && s.bytes().all(|b| b.is_ascii_digit())
}

/// A non-negative decimal number as Arma's config parser reads it: digits with at most one
/// `.` and at least one digit, nothing else (so it can be written into a file unquoted).
pub fn is_decimal(s: &str) -> bool {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    let digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    !s.is_empty() && s.len() <= 16 && (int.len() + frac.len()) > 0 && digits(int) && digits(frac)
}

/// An RCon password BattlEye's space-separated config file can hold.
pub fn is_rcon_password(s: &str) -> bool {
    !s.is_empty()
        && !s
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '"')
}

/// A profile name: what `-name=` and the profile folder accept without surprises.
pub fn is_profile_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A mod folder relative to the game directory, such as `@CBA_A3` or `mods/@ace`.
pub fn mod_folder(s: &str) -> Result<(), &'static str> {
    if s.trim().is_empty() {
        return Err("the folder name is empty");
    }
    if s.starts_with('/') || s.starts_with('\\') || s.contains(':') {
        return Err("use a folder inside the game directory, not an absolute path");
    }
    if s.split(['/', '\\']).any(|part| part == "..") {
        return Err("\"..\" is not allowed");
    }
    if s.contains(';') {
        return Err("\";\" is not allowed; enter each mod as its own entry");
    }
    if s.chars().any(char::is_control) {
        return Err("control characters are not allowed");
    }
    Ok(())
}

/// A Workshop item number.
pub fn workshop_id(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok().filter(|&n| n > 0)
}

/// An extra launch parameter: one of the allowed ones with a valid value (see
/// [`crate::params`]). The error names the parameter.
pub fn extra_param(s: &str) -> Result<(), String> {
    crate::params::check(s)
}

/// A mission template name (the `.pbo` file name without `.pbo`, e.g. `co10_Escape.Altis`).
pub fn mission_template(s: &str) -> Result<(), &'static str> {
    if s.is_empty() {
        return Err("enter the mission's file name");
    }
    if s.contains(['/', '\\']) || s.contains("..") {
        return Err("enter only the file name, without folders");
    }
    if s.chars().any(char::is_control) {
        return Err("control characters are not allowed");
    }
    Ok(())
}
