//! The `arma3` adapter: Arma 3 dedicated servers.
//!
//! Arma 3 is configured through `server.cfg`, `basic.cfg` and BattlEye's `BEServer_x64.cfg`,
//! logs to an RPT file in its profile directory (a new one at every start), and is remote
//! controlled through BattlEye RCon over UDP. This file only wires the pieces to the SDK's
//! [`Adapter`] trait; each concern lives in its own module:
//!
//! - [`schema`] — the settings form; [`validate`] — checks beyond it; [`params`] — the
//!   allow-list of extra launch parameters;
//! - [`render`] — the three configuration files, with Arma's string escaping;
//! - [`plan`] — install, launch, stop, content directories, log sources, RCon endpoint;
//! - [`rpt`] — the RPT log parser; [`replies`] — command builders and reply parsers;
//! - the RCon session is the SDK's BattlEye session ([`BattlEyeSession`]).

pub mod params;
pub mod plan;
pub mod render;
pub mod replies;
pub mod rpt;
pub mod schema;
pub mod validate;

use garrison_adapter_sdk::prelude::*;
use garrison_adapter_sdk::protocol::battleye;

pub use rpt::RptParser;

/// The RCon session: Arma 3's BattlEye speaks the protocol as documented, so the SDK's
/// defaults fit unchanged (2 s retransmits, 3 attempts, a keepalive after 30 s idle, 45 s of
/// silence ends the session).
pub type BattlEyeSession = battleye::Session<battleye::Standard>;

/// The adapter.
pub struct Arma3;

/// Steam application id of the Arma 3 dedicated server.
pub const SERVER_APP_ID: u32 = 233780;
/// Steam application id of the Arma 3 game, which owns the Workshop items.
pub const GAME_APP_ID: u32 = 107410;

impl Adapter for Arma3 {
    type Parser = RptParser;
    type Session = BattlEyeSession;

    fn describe() -> Description {
        Description {
            id: "arma3".to_string(),
            name: "Arma 3".to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            summary: "Runs an Arma 3 dedicated server: installs it with SteamCMD (a Steam account \
                      that owns Arma 3 is required), writes server.cfg, basic.cfg and the \
                      BattlEye configuration, reads the RPT log, and manages players, bans and \
                      chat over BattlEye RCon."
                .to_string(),
            runtime: RuntimeSource::Steamcmd(SERVER_APP_ID),
            capabilities: Capabilities::LOGS
                | Capabilities::RCON
                | Capabilities::PLAYERS
                | Capabilities::KICK
                | Capabilities::BAN
                | Capabilities::CHAT
                | Capabilities::MISSIONS
                | Capabilities::MODS
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

    fn install_plan(settings: &Settings) -> Result<Vec<InstallStep>, AdapterError> {
        plan::install(settings)
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

    fn log_sources(_settings: &Settings) -> Result<Vec<LogSource>, AdapterError> {
        Ok(plan::log_sources())
    }

    fn create_parser(_settings: &Settings) -> Result<RptParser, AdapterError> {
        Ok(RptParser::default())
    }

    fn rcon_transport() -> Transport {
        Transport::Udp
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

export_adapter!(Arma3);

#[cfg(test)]
mod tests;
