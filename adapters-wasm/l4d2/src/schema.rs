//! The settings form: every field a Left 4 Dead 2 server offers, with labels and help written
//! for administrators who do not know srcds cvars by heart.
//!
//! This module owns the keys ([`key`]), the defaults and the choices the host checks. It must
//! not judge formats (that is [`crate::validate`]) or know file syntax (that is
//! [`crate::render`]).

use garrison_adapter_sdk::prelude::*;
use garrison_adapter_sdk::schema::{FieldBuilder, choices, field};

/// Setting keys, shared by validation, rendering and planning.
pub mod key {
    #![allow(missing_docs)]
    pub const HOSTNAME: &str = "hostname";
    pub const RCON_PASSWORD: &str = "rcon_password";
    pub const SV_PASSWORD: &str = "sv_password";
    pub const MAX_PLAYERS: &str = "max_players";
    pub const START_MAP: &str = "start_map";
    pub const GAME_MODE: &str = "game_mode";
    pub const DIFFICULTY: &str = "difficulty";
    pub const REGION: &str = "region";
    pub const SV_LAN: &str = "sv_lan";
    pub const SV_ALLTALK: &str = "sv_alltalk";
    pub const SV_CONSISTENCY: &str = "sv_consistency";
    pub const SV_PURE: &str = "sv_pure";
    pub const MOTD: &str = "motd";
    pub const HOST_BANNER: &str = "host_banner";
    pub const STEAM_GROUP: &str = "steam_group";
    pub const PORT: &str = "port";
    pub const EXTRA_CVARS: &str = "extra_cvars";
    pub const EXTRA_PARAMS: &str = "extra_params";
}

/// Defaults that other modules fall back on when a value is missing.
pub mod default {
    #![allow(missing_docs)]
    pub const HOSTNAME: &str = "Garrison Left 4 Dead 2 Server";
    pub const MAX_PLAYERS: i64 = 8;
    pub const START_MAP: &str = "c1m1_hotel";
    pub const GAME_MODE: &str = "coop";
    pub const DIFFICULTY: &str = "Normal";
    pub const REGION: &str = "255";
    pub const SV_PURE: &str = "1";
    pub const PORT: i64 = 27015;
}

/// Most player slots a Left 4 Dead 2 server accepts.
pub const MAX_PLAYERS_LIMIT: i64 = 32;

/// Game modes: the value is what `mp_gamemode` and `sv_gametypes` take.
pub const GAME_MODES: [(&str, &str); 5] = [
    ("coop", "Campaign (co-op)"),
    ("versus", "Versus"),
    ("survival", "Survival"),
    ("scavenge", "Scavenge"),
    ("realism", "Realism"),
];

/// Difficulties: the value is what `z_difficulty` takes.
pub const DIFFICULTIES: [(&str, &str); 4] = [
    ("Easy", "Easy"),
    ("Normal", "Normal"),
    ("Hard", "Advanced"),
    ("Impossible", "Expert"),
];

/// Source server-browser regions: the value is what `sv_region` takes.
pub const REGIONS: [(&str, &str); 9] = [
    ("0", "US East coast"),
    ("1", "US West coast"),
    ("2", "South America"),
    ("3", "Europe"),
    ("4", "Asia"),
    ("5", "Australia"),
    ("6", "Middle East"),
    ("7", "Africa"),
    ("255", "World"),
];

/// `sv_pure` levels.
pub const PURE_LEVELS: [(&str, &str); 3] = [
    ("0", "Off: players may use any custom files"),
    ("1", "On: only files the server allows"),
    ("2", "Strict: only the game's own files"),
];

const SEC_GENERAL: &str = "General";
const SEC_GAMEPLAY: &str = "Gameplay";
const SEC_SECURITY: &str = "Security";
const SEC_MESSAGES: &str = "Messages";
const SEC_NETWORK: &str = "Network";
const SEC_ADVANCED: &str = "Advanced";

fn text(max_length: u32, multiline: bool) -> FieldKind {
    FieldKind::Text(TextOptions {
        max_length: Some(max_length),
        multiline,
    })
}

fn choice(options: &[(&str, &str)]) -> FieldKind {
    FieldKind::Choice(choices(options))
}

fn txt(s: &str) -> SettingValue {
    SettingValue::Text(s.into())
}

fn flag(b: bool) -> SettingValue {
    SettingValue::Flag(b)
}

/// Every field, in the order the dashboard shows them.
pub fn fields() -> Vec<Field> {
    let mut fields = general();
    fields.extend(security_and_network());
    fields.extend(advanced());
    fields.into_iter().map(FieldBuilder::build).collect()
}

fn general() -> Vec<FieldBuilder> {
    use key::*;
    vec![
        field(
            HOSTNAME,
            "Server name",
            SEC_GENERAL,
            text(128, false),
            "The name players see in the server browser. Double quotes are shown as \
             apostrophes.",
        )
        .default(txt(default::HOSTNAME))
        .required(),
        field(
            MAX_PLAYERS,
            "Player slots",
            SEC_GENERAL,
            FieldKind::Integer(IntegerRange {
                min: 1,
                max: MAX_PLAYERS_LIMIT,
            }),
            "How many players can be on the server at once. Campaigns are made for 4, \
             versus for 8.",
        )
        .default(SettingValue::Integer(default::MAX_PLAYERS)),
        field(
            START_MAP,
            "First map",
            SEC_GAMEPLAY,
            text(64, false),
            "The map loaded when the server starts, for example c1m1_hotel (Dead Center) \
             or c2m1_highway (Dark Carnival).",
        )
        .default(txt(default::START_MAP)),
        field(
            GAME_MODE,
            "Game mode",
            SEC_GAMEPLAY,
            choice(&GAME_MODES),
            "What kind of game the server runs.",
        )
        .default(txt(default::GAME_MODE)),
        field(
            DIFFICULTY,
            "Difficulty",
            SEC_GAMEPLAY,
            choice(&DIFFICULTIES),
            "How hard the infected are in campaign and realism games.",
        )
        .default(txt(default::DIFFICULTY)),
        field(
            SV_ALLTALK,
            "Everyone hears everyone",
            SEC_GAMEPLAY,
            FieldKind::Flag,
            "Lets both teams hear each other's voice chat in versus and scavenge.",
        )
        .default(flag(false)),
        field(
            MOTD,
            "Message of the day",
            SEC_MESSAGES,
            text(4096, true),
            "Text shown to players when they join. Leave empty to keep the game's own.",
        ),
        field(
            HOST_BANNER,
            "Server banner",
            SEC_MESSAGES,
            text(4096, true),
            "Short text shown at the top of the welcome screen. Leave empty to keep the \
             game's own.",
        ),
    ]
}

fn security_and_network() -> Vec<FieldBuilder> {
    use key::*;
    vec![
        field(
            RCON_PASSWORD,
            "Remote console password",
            SEC_SECURITY,
            FieldKind::Secret,
            "Password of the remote console that the dashboard uses to manage players and \
             maps. It may not contain double quotes or line breaks.",
        )
        .required(),
        field(
            SV_PASSWORD,
            "Join password",
            SEC_SECURITY,
            FieldKind::Secret,
            "Players must enter this password to join. Leave empty for a public server.",
        ),
        field(
            SV_CONSISTENCY,
            "Check game files",
            SEC_SECURITY,
            FieldKind::Flag,
            "Makes sure players use unmodified models and sounds.",
        )
        .default(flag(true)),
        field(
            SV_PURE,
            "Custom file policy",
            SEC_SECURITY,
            choice(&PURE_LEVELS),
            "Which custom files players may use. Stricter settings stop some cheats and \
             some harmless skins.",
        )
        .default(txt(default::SV_PURE))
        .advanced(),
        field(
            PORT,
            "Game port",
            SEC_NETWORK,
            FieldKind::Port,
            "Players connect to this UDP port; the remote console uses the same number over \
             TCP.",
        )
        .default(SettingValue::Integer(default::PORT)),
        field(
            REGION,
            "Region",
            SEC_NETWORK,
            choice(&REGIONS),
            "Where the server appears in the server browser's region filter.",
        )
        .default(txt(default::REGION)),
        field(
            SV_LAN,
            "Local network only",
            SEC_NETWORK,
            FieldKind::Flag,
            "Only players on the same local network can join, and the server is not listed \
             on the internet.",
        )
        .default(flag(false)),
        field(
            STEAM_GROUP,
            "Steam group",
            SEC_NETWORK,
            text(20, false),
            "The number of a Steam group whose members find this server in their group's \
             server list. Leave empty for none.",
        ),
    ]
}

fn advanced() -> Vec<FieldBuilder> {
    use key::*;
    vec![
        field(
            EXTRA_CVARS,
            "Extra console variables",
            SEC_ADVANCED,
            FieldKind::Table(vec![
                Column {
                    key: "name".into(),
                    label: "Variable".into(),
                    kind: ColumnKind::Text,
                },
                Column {
                    key: "value".into(),
                    label: "Value".into(),
                    kind: ColumnKind::Text,
                },
            ]),
            "Further settings written to the server's config file, one variable per row, for \
             example sv_allow_lobby_connect_only with the value 0.",
        )
        .default(SettingValue::Rows(Vec::new()))
        .advanced(),
        field(
            EXTRA_PARAMS,
            "Extra start parameters",
            SEC_ADVANCED,
            FieldKind::List(ListOptions {
                max_items: Some(64),
                item_hint: "-nohltv".into(),
            }),
            &format!(
                "Additional command-line parameters, one per entry; a value goes in its own \
                 entry after its parameter. Only these are accepted: {}.",
                crate::params::allowed_names()
            ),
        )
        .default(SettingValue::Items(Vec::new()))
        .advanced(),
    ]
}
