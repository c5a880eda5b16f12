//! The settings form: every field an Arma 3 server offers, with labels and help written for
//! administrators who do not know the config files by heart.
//!
//! This module owns the keys ([`key`]), the defaults and the ranges the host checks. It must
//! not judge formats (that is [`crate::validate`]) or know file syntax (that is
//! [`crate::render`]).

use garrison_adapter_sdk::prelude::*;
use garrison_adapter_sdk::schema::{FieldBuilder, choices, field};

/// Setting keys, shared by validation, rendering and planning.
pub mod key {
    #![allow(missing_docs)]
    pub const HOSTNAME: &str = "hostname";
    pub const PASSWORD: &str = "password";
    pub const PASSWORD_ADMIN: &str = "password_admin";
    pub const SERVER_COMMAND_PASSWORD: &str = "server_command_password";
    pub const MAX_PLAYERS: &str = "max_players";
    pub const MOTD: &str = "motd";
    pub const MOTD_INTERVAL: &str = "motd_interval";
    pub const ADMINS: &str = "admins";
    pub const BATTLEYE: &str = "battleye";
    pub const VERIFY_SIGNATURES: &str = "verify_signatures";
    pub const PERSISTENT: &str = "persistent";
    pub const DISABLE_VON: &str = "disable_von";
    pub const VON_CODEC_QUALITY: &str = "von_codec_quality";
    pub const KICK_DUPLICATE: &str = "kick_duplicate";
    pub const MISSIONS: &str = "missions";
    pub const HEADLESS_CLIENTS: &str = "headless_clients";
    pub const LOCAL_CLIENTS: &str = "local_clients";
    pub const PORT: &str = "port";
    pub const RCON_PORT: &str = "rcon_port";
    pub const RCON_PASSWORD: &str = "rcon_password";
    pub const RCON_BIND: &str = "rcon_bind";
    pub const MAX_MSG_SEND: &str = "max_msg_send";
    pub const MAX_SIZE_GUARANTEED: &str = "max_size_guaranteed";
    pub const MAX_SIZE_NONGUARANTEED: &str = "max_size_nonguaranteed";
    pub const MIN_BANDWIDTH: &str = "min_bandwidth";
    pub const MAX_BANDWIDTH: &str = "max_bandwidth";
    pub const MIN_ERROR_TO_SEND: &str = "min_error_to_send";
    pub const MIN_ERROR_TO_SEND_NEAR: &str = "min_error_to_send_near";
    pub const MAX_CUSTOM_FILE_SIZE: &str = "max_custom_file_size";
    pub const MODS: &str = "mods";
    pub const SERVER_MODS: &str = "server_mods";
    pub const EXTRA_PARAMS: &str = "extra_params";
    pub const PROFILE_NAME: &str = "profile_name";
    pub const STEAM_USERNAME: &str = "steam_username";
    pub const STEAM_PASSWORD: &str = "steam_password";
    pub const BETA_BRANCH: &str = "beta_branch";
    pub const BETA_PASSWORD: &str = "beta_password";
    pub const WORKSHOP_ITEMS: &str = "workshop_items";
}

/// Defaults that other modules fall back on when a value is missing.
pub mod default {
    #![allow(missing_docs)]
    pub const HOSTNAME: &str = "Garrison Arma 3 Server";
    pub const PORT: i64 = 2302;
    pub const RCON_PORT: i64 = 2306;
    pub const RCON_BIND: &str = "127.0.0.1";
    pub const PROFILE_NAME: &str = "server";
    pub const MAX_PLAYERS: i64 = 32;
    pub const MOTD_INTERVAL: i64 = 5;
    pub const VON_CODEC_QUALITY: i64 = 10;
    pub const MAX_MSG_SEND: i64 = 128;
    pub const MAX_SIZE_GUARANTEED: i64 = 512;
    pub const MAX_SIZE_NONGUARANTEED: i64 = 256;
    pub const MIN_BANDWIDTH: i64 = 131_072;
    pub const MAX_BANDWIDTH: i64 = 10_000_000_000;
    pub const MIN_ERROR_TO_SEND: &str = "0.001";
    pub const MIN_ERROR_TO_SEND_NEAR: &str = "0.01";
    pub const MAX_CUSTOM_FILE_SIZE: i64 = 1_310_720;
}

const SEC_GENERAL: &str = "General";
const SEC_SECURITY: &str = "Security";
const SEC_GAMEPLAY: &str = "Gameplay";
const SEC_MISSIONS: &str = "Missions";
const SEC_NETWORK: &str = "Network";
const SEC_RCON: &str = "Remote console (BattlEye)";
const SEC_BANDWIDTH: &str = "Bandwidth tuning";
const SEC_MODS: &str = "Mods";
const SEC_INSTALL: &str = "Installation (Steam)";

fn text(max_length: u32) -> FieldKind {
    FieldKind::Text(TextOptions {
        max_length: Some(max_length),
        multiline: false,
    })
}

fn integer(min: i64, max: i64) -> FieldKind {
    FieldKind::Integer(IntegerRange { min, max })
}

fn list(max_items: u32, item_hint: &str) -> FieldKind {
    FieldKind::List(ListOptions {
        max_items: Some(max_items),
        item_hint: item_hint.into(),
    })
}

fn int(n: i64) -> SettingValue {
    SettingValue::Integer(n)
}

fn txt(s: &str) -> SettingValue {
    SettingValue::Text(s.into())
}

fn flag(b: bool) -> SettingValue {
    SettingValue::Flag(b)
}

fn empty() -> SettingValue {
    SettingValue::Items(Vec::new())
}

/// Every field, in the order the dashboard shows them.
pub fn fields() -> Vec<Field> {
    let mut fields = general();
    fields.extend(network_and_rcon());
    fields.extend(bandwidth());
    fields.extend(mods_and_install());
    fields.into_iter().map(FieldBuilder::build).collect()
}

fn general() -> Vec<FieldBuilder> {
    use key::*;
    vec![
        field(
            HOSTNAME,
            "Server name",
            SEC_GENERAL,
            text(256),
            "The name players see in the server browser.",
        )
        .default(txt(default::HOSTNAME))
        .required(),
        field(
            MAX_PLAYERS,
            "Player slots",
            SEC_GENERAL,
            integer(1, 256),
            "How many players can be on the server at once.",
        )
        .default(int(default::MAX_PLAYERS)),
        field(
            MOTD,
            "Welcome messages",
            SEC_GENERAL,
            list(32, "Welcome to our server!"),
            "Messages shown to players one after another when they join. \
             Leave empty for none.",
        )
        .default(empty()),
        field(
            MOTD_INTERVAL,
            "Seconds between welcome messages",
            SEC_GENERAL,
            integer(1, 3600),
            "How long each welcome message stays before the next one is \
             shown.",
        )
        .default(int(default::MOTD_INTERVAL)),
        field(
            PASSWORD,
            "Join password",
            SEC_SECURITY,
            FieldKind::Secret,
            "Players must enter this password to join. Leave empty for a \
             public server.",
        ),
        field(
            PASSWORD_ADMIN,
            "Admin password",
            SEC_SECURITY,
            FieldKind::Secret,
            "Players who type #login with this password in chat become \
             the server admin. Leave empty to allow only the listed \
             admins.",
        ),
        field(
            SERVER_COMMAND_PASSWORD,
            "Mission script password",
            SEC_SECURITY,
            FieldKind::Secret,
            "Password that mission scripts use to run server commands. \
             Only needed if a mission asks for it.",
        )
        .advanced(),
        field(
            ADMINS,
            "Admins (Steam IDs)",
            SEC_SECURITY,
            list(64, "76561198000000000"),
            "Steam IDs (17 digits) of players who may log in as admin \
             without the admin password.",
        )
        .default(empty()),
        field(
            BATTLEYE,
            "BattlEye anti-cheat",
            SEC_SECURITY,
            FieldKind::Flag,
            "Protects the server against cheaters. Also needed for the \
             remote console (kick, ban, chat from the dashboard).",
        )
        .default(flag(true)),
        field(
            VERIFY_SIGNATURES,
            "Check mod signatures",
            SEC_SECURITY,
            FieldKind::Choice(choices(&[("2", "On (recommended)"), ("0", "Off")])),
            "Kicks players whose mods are not signed with a key the \
             server accepts.",
        )
        .default(txt("2")),
        field(
            KICK_DUPLICATE,
            "Kick duplicate players",
            SEC_SECURITY,
            FieldKind::Flag,
            "Kicks a player who joins with the same ID as someone already \
             on the server.",
        )
        .default(flag(true)),
        field(
            PERSISTENT,
            "Keep mission running when empty",
            SEC_GAMEPLAY,
            FieldKind::Flag,
            "Keeps the mission going after the last player has left \
             instead of restarting it.",
        )
        .default(flag(false)),
        field(
            DISABLE_VON,
            "Turn off voice chat",
            SEC_GAMEPLAY,
            FieldKind::Flag,
            "Turns off in-game voice chat for everyone.",
        )
        .default(flag(false)),
        field(
            VON_CODEC_QUALITY,
            "Voice quality",
            SEC_GAMEPLAY,
            integer(1, 30),
            "Voice chat quality from 1 to 30. Higher sounds better and \
             uses more bandwidth.",
        )
        .default(int(default::VON_CODEC_QUALITY))
        .advanced(),
        field(
            key::MISSIONS,
            "Mission rotation",
            SEC_MISSIONS,
            FieldKind::Table(vec![
                Column {
                    key: "template".into(),
                    label: "Mission".into(),
                    kind: ColumnKind::Text,
                },
                Column {
                    key: "difficulty".into(),
                    label: "Difficulty".into(),
                    kind: ColumnKind::Choice(choices(&[
                        ("recruit", "Recruit"),
                        ("regular", "Regular"),
                        ("veteran", "Veteran"),
                        ("custom", "Custom"),
                    ])),
                },
            ]),
            "Missions the server plays in order, by file name without \
             .pbo (for example co10_Escape.Altis). Leave empty to let \
             players vote.",
        )
        .default(SettingValue::Rows(Vec::new())),
        field(
            HEADLESS_CLIENTS,
            "Headless client addresses",
            SEC_MISSIONS,
            list(16, "127.0.0.1"),
            "IP addresses of headless clients allowed to connect and take \
             over AI work.",
        )
        .default(empty())
        .advanced(),
        field(
            LOCAL_CLIENTS,
            "Local client addresses",
            SEC_MISSIONS,
            list(16, "127.0.0.1"),
            "IP addresses treated as local clients, which get unlimited \
             bandwidth. Usually the same as the headless clients.",
        )
        .default(empty())
        .advanced(),
    ]
}

fn network_and_rcon() -> Vec<FieldBuilder> {
    use key::*;
    vec![
        field(
            PORT,
            "Game port",
            SEC_NETWORK,
            FieldKind::Port,
            "Players connect to this UDP port. Arma 3 also uses the next \
             three ports, so keep them free.",
        )
        .default(int(default::PORT)),
        field(
            RCON_PORT,
            "Remote console port",
            SEC_RCON,
            FieldKind::Port,
            "UDP port of the BattlEye remote console that the dashboard \
             uses.",
        )
        .default(int(default::RCON_PORT)),
        field(
            RCON_PASSWORD,
            "Remote console password",
            SEC_RCON,
            FieldKind::Secret,
            "Password of the BattlEye remote console, without spaces. \
             Required while BattlEye is on.",
        ),
        field(
            RCON_BIND,
            "Remote console address",
            SEC_RCON,
            text(64),
            "Network address the remote console listens on. Keep \
             127.0.0.1 unless you use another RCon tool from a different \
             machine.",
        )
        .default(txt(default::RCON_BIND))
        .advanced(),
    ]
}

fn bandwidth() -> Vec<FieldBuilder> {
    use key::*;
    vec![
        field(
            MAX_MSG_SEND,
            "Messages per frame",
            SEC_BANDWIDTH,
            integer(1, 4096),
            "Most network messages sent per simulation step.",
        )
        .default(int(default::MAX_MSG_SEND))
        .advanced(),
        field(
            MAX_SIZE_GUARANTEED,
            "Largest guaranteed packet (bytes)",
            SEC_BANDWIDTH,
            integer(64, 1400),
            "Largest size of a packet that must arrive.",
        )
        .default(int(default::MAX_SIZE_GUARANTEED))
        .advanced(),
        field(
            MAX_SIZE_NONGUARANTEED,
            "Largest non-guaranteed packet (bytes)",
            SEC_BANDWIDTH,
            integer(64, 1400),
            "Largest size of a packet that may be lost, such as position \
             updates.",
        )
        .default(int(default::MAX_SIZE_NONGUARANTEED))
        .advanced(),
        field(
            MIN_BANDWIDTH,
            "Minimum bandwidth (bits/s)",
            SEC_BANDWIDTH,
            integer(8_000, 100_000_000_000),
            "Bandwidth the server can always count on.",
        )
        .default(int(default::MIN_BANDWIDTH))
        .advanced(),
        field(
            MAX_BANDWIDTH,
            "Maximum bandwidth (bits/s)",
            SEC_BANDWIDTH,
            integer(8_000, 100_000_000_000),
            "Most bandwidth the server will try to use.",
        )
        .default(int(default::MAX_BANDWIDTH))
        .advanced(),
        field(
            MIN_ERROR_TO_SEND,
            "Update threshold",
            SEC_BANDWIDTH,
            text(16),
            "Smallest change that makes the server send an update for \
             distant objects, as a decimal number such as 0.001.",
        )
        .default(txt(default::MIN_ERROR_TO_SEND))
        .advanced(),
        field(
            MIN_ERROR_TO_SEND_NEAR,
            "Update threshold nearby",
            SEC_BANDWIDTH,
            text(16),
            "The same for nearby objects, as a decimal number such as \
             0.01.",
        )
        .default(txt(default::MIN_ERROR_TO_SEND_NEAR))
        .advanced(),
        field(
            MAX_CUSTOM_FILE_SIZE,
            "Largest custom face or sound (bytes)",
            SEC_BANDWIDTH,
            integer(0, 104_857_600),
            "Players whose custom face or sound file is larger than this \
             are kicked when they join.",
        )
        .default(int(default::MAX_CUSTOM_FILE_SIZE))
        .advanced(),
    ]
}

fn mods_and_install() -> Vec<FieldBuilder> {
    use key::*;
    vec![
        field(
            MODS,
            "Mods",
            SEC_MODS,
            list(256, "@CBA_A3"),
            "Mod folders in the game directory that players must also \
             have, in load order.",
        )
        .default(empty()),
        field(
            SERVER_MODS,
            "Server-only mods",
            SEC_MODS,
            list(256, "@my_server_mod"),
            "Mod folders that only the server loads; players do not need \
             them.",
        )
        .default(empty()),
        field(
            WORKSHOP_ITEMS,
            "Steam Workshop items",
            SEC_MODS,
            list(256, "450814997"),
            "Workshop item numbers to download. Each is made available as \
             @<number> for the mod lists above.",
        )
        .default(empty()),
        field(
            EXTRA_PARAMS,
            "Extra start parameters",
            SEC_MODS,
            list(64, "-autoInit"),
            &format!(
                "Additional command-line parameters, one per entry. Only these are accepted: \
                 {}.",
                crate::params::allowed_names()
            ),
        )
        .default(empty())
        .advanced(),
        field(
            PROFILE_NAME,
            "Profile name",
            SEC_MODS,
            text(64),
            "Name of the server profile; its files live in the server's \
             profiles folder.",
        )
        .default(txt(default::PROFILE_NAME))
        .advanced(),
        field(
            STEAM_USERNAME,
            "Steam user name",
            SEC_INSTALL,
            text(64),
            "A Steam account is needed to download the Arma 3 server. The \
             account must not use Steam Guard codes for every login.",
        ),
        field(
            STEAM_PASSWORD,
            "Steam password",
            SEC_INSTALL,
            FieldKind::Secret,
            "Password of that Steam account.",
        ),
        field(
            BETA_BRANCH,
            "Beta branch",
            SEC_INSTALL,
            text(64),
            "Install a beta branch instead of the stable release, for \
             example creatordlc or contact. Leave empty for stable.",
        )
        .advanced(),
        field(
            BETA_PASSWORD,
            "Beta branch password",
            SEC_INSTALL,
            FieldKind::Secret,
            "Password of the beta branch, if it has one.",
        )
        .advanced(),
    ]
}
