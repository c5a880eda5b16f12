//! The `l4d2` adapter: Left 4 Dead 2 dedicated servers (srcds).
//!
//! Every server of a host runs from one installed game, so each gets its own files in it,
//! named after its game port: its cvars in `left4dead2/cfg/garrison/<port>.cfg` (executed
//! with `+exec garrison/<port>.cfg` at start and as `servercfgfile` at every map load), its
//! message of the day and banner beside them, and a game log per map in
//! `left4dead2/logs/garrison-<port>/L*.log` (`+sv_logsdir`, `log on`). Its console is its
//! standard output, which the host keeps in the server's instance directory. It is remote
//! controlled through Source RCON over TCP. This file only wires the pieces to the SDK's
//! [`Adapter`] trait; each concern lives in its own module:
//!
//! - [`schema`] — the settings form; [`validate`] — checks beyond it; [`params`] — the
//!   allow-list of extra launch parameters;
//! - [`layout`] — where one server's files live in the shared installation;
//! - [`render`] — the server's cfg (with Source cfg quoting), message of the day and banner;
//! - [`plan`] — install, launch, stop, content directories, log sources, RCON endpoint;
//! - [`logs`] — the parser of the game log and the console;
//! - [`replies`] — command builders and reply parsers (`status`, `listid`);
//! - the RCON session is the SDK's Source RCON session for srcds ([`SourceRconSession`]).

pub mod layout;
pub mod logs;
pub mod params;
pub mod plan;
pub mod render;
pub mod replies;
pub mod schema;
pub mod validate;

use garrison_adapter_sdk::prelude::*;
use garrison_adapter_sdk::protocol::source_rcon;

pub use logs::L4d2Parser;

/// The RCON session: Left 4 Dead 2 runs srcds, the protocol's reference server, so the SDK's
/// defaults fit unchanged (the empty-`RESPONSE_VALUE` mirror ends each reply, bodies of up to
/// 4096 bytes, the empty packet ahead of the login's answer skipped).
pub type SourceRconSession = source_rcon::Session<source_rcon::Srcds>;

/// The adapter.
pub struct L4d2;

/// Steam application id of the Left 4 Dead 2 dedicated server.
pub const SERVER_APP_ID: u32 = 222_860;

impl Adapter for L4d2 {
    type Parser = L4d2Parser;
    type Session = SourceRconSession;

    fn describe() -> Description {
        Description {
            id: "l4d2".to_string(),
            name: "Left 4 Dead 2".to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            summary: "Runs Left 4 Dead 2 dedicated servers from one shared install: installs it \
                      anonymously with SteamCMD, gives each server its own config, message of \
                      the day and game log folder in it, reads the console and the game log, \
                      and manages players, bans, chat and maps over Source RCON."
                .to_string(),
            runtime: RuntimeSource::Steamcmd(SERVER_APP_ID),
            capabilities: Capabilities::LOGS
                | Capabilities::RCON
                | Capabilities::PLAYERS
                | Capabilities::KICK
                | Capabilities::BAN
                | Capabilities::CHAT
                | Capabilities::MISSIONS
                | Capabilities::INSTALL
                | Capabilities::READY_DETECTION,
        }
    }

    fn schema() -> Vec<Field> {
        schema::fields()
    }

    fn validate(settings: &Settings) -> Result<(), Vec<FieldError>> {
        validate::check(settings)
    }

    fn render(ctx: &Context, settings: &Settings) -> Result<Vec<RenderedFile>, AdapterError> {
        render::files(ctx, settings)
    }

    fn install_plan(_settings: &Settings) -> Result<Vec<InstallStep>, AdapterError> {
        Ok(plan::install())
    }

    fn launch(ctx: &Context, settings: &Settings) -> Result<LaunchSpec, AdapterError> {
        plan::launch(ctx, settings)
    }

    fn stop_plan(_settings: &Settings) -> Result<StopSpec, AdapterError> {
        Ok(plan::stop())
    }

    fn content_dirs(_settings: &Settings) -> Result<Vec<ContentDir>, AdapterError> {
        Ok(plan::content_dirs())
    }

    fn log_sources(settings: &Settings) -> Result<Vec<LogSource>, AdapterError> {
        plan::log_sources(settings)
    }

    fn create_parser(_settings: &Settings) -> Result<L4d2Parser, AdapterError> {
        Ok(L4d2Parser::default())
    }

    fn rcon_transport() -> Transport {
        Transport::Tcp
    }

    fn rcon_endpoint(settings: &Settings) -> Result<Option<Connection>, AdapterError> {
        Ok(plan::endpoint(settings))
    }

    fn players_command() -> Result<String, AdapterError> {
        Ok(replies::PLAYERS_COMMAND.to_string())
    }

    fn parse_players(reply: &str) -> Result<Vec<Player>, AdapterError> {
        Ok(replies::parse_players(reply))
    }

    fn kick_commands(player: &Player, reason: &str) -> Result<Vec<String>, AdapterError> {
        replies::kick(player, reason)
    }

    fn ban_commands(request: &BanRequest) -> Result<Vec<String>, AdapterError> {
        replies::ban(request)
    }

    fn unban_commands(entry: &BanEntry) -> Result<Vec<String>, AdapterError> {
        replies::unban(entry)
    }

    fn bans_command() -> Result<String, AdapterError> {
        Ok(replies::BANS_COMMAND.to_string())
    }

    fn parse_bans(reply: &str) -> Result<Vec<BanEntry>, AdapterError> {
        Ok(replies::parse_bans(reply))
    }

    fn say_command(message: &str) -> Result<String, AdapterError> {
        replies::say(message)
    }
}

export_adapter!(L4d2);

#[cfg(test)]
mod tests;
