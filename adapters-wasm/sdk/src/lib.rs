//! The Garrison adapter SDK.
//!
//! An adapter is a WebAssembly component that teaches Garrison one game. With this crate an
//! adapter author writes plain Rust: implement [`Adapter`] (and, for games with a log format or
//! a remote console, [`LogParser`] and [`RconSession`]), then call [`export_adapter!`] once.
//! The WIT bindings (`garrison:adapter@0.2.0`) are generated here, once, from the copy of the
//! contract this crate carries (`sdk/wit/`, kept identical to the repository's `wit/` by a
//! test), so the crate builds anywhere, outside this repository too; adapters never
//! run `wit-bindgen` themselves.
//!
//! Everything an adapter does is pure: it returns plans and parses what the host hands it. The
//! same code therefore runs natively under `cargo test`, which is how adapter logic is tested,
//! and inside the host's sandbox once built for `wasm32-wasip2`.
//!
//! For the remote consoles many games share, [`protocol`] has ready sessions: Source RCON
//! (with the per-server differences as options) and BattlEye RCon.
//!
//! This crate must not grow game knowledge: it only adapts the contract to Rust, and
//! implements protocols that several games speak.

mod export;
pub mod protocol;
pub mod schema;
mod settings;

pub use export::Export;
pub use settings::Settings;

/// Bindings generated from the `game-adapter` world. Adapters normally use the re-exports at
/// the crate root instead.
#[allow(missing_docs, unsafe_code, clippy::all)]
pub mod bindings {
    wit_bindgen::generate!({
        world: "game-adapter",
        path: "wit",
        pub_export_macro: true,
        export_macro_name: "export_game_adapter",
        default_bindings_module: "garrison_adapter_sdk::bindings",
    });
}

pub use bindings::exports::garrison::adapter::{config, files, lifecycle, logs, metadata, rcon};
pub use bindings::garrison::adapter::types::{
    AdapterError, Context, PathRef, Root, Setting, SettingValue,
};

/// Everything an adapter usually needs, in one `use`.
pub mod prelude {
    pub use crate::config::{
        ChoiceOption, Column, ColumnKind, Field, FieldError, FieldKind, IntegerRange, ListOptions,
        RenderedFile, TextOptions,
    };
    pub use crate::files::{BackupSpec, BackupStep, PortUse, Protocol, StatePath};
    pub use crate::lifecycle::{
        ContentDir, ContentKind, ContentSelection, EntryKind, InstallStep, LaunchSpec, Signal,
        SteamAccount, SteamLogin, SteamcmdApp, StopSpec, StopStep, WorkshopItem,
    };
    pub use crate::logs::{
        ChatMessage, Date, Departure, FilePattern, GameEvent, IndexedEvent, Level, LogLocation,
        LogRecord, LogSource, MapChange, MapPhase, MetricSample, Parsed, PlayerIdentity,
        PlayerLeft, PlayerRef, Timestamp,
    };
    pub use crate::metadata::{Capabilities, Description, RuntimeSource};
    pub use crate::rcon::{
        BanEntry, BanRequest, BanTarget, CommandFailure, CommandReply, Connection, Player,
        SessionEvent, Transport,
    };
    pub use crate::{
        Adapter, AdapterError, Context, LogParser, NoRcon, PathRef, PlainParser, RconSession, Root,
        Setting, SettingValue, Settings, batch_lines, export_adapter, guess_level, unsupported,
    };
}

use prelude::*;

/// Shorthand for the error an adapter returns for an operation it does not offer.
pub fn unsupported(capability: &str) -> AdapterError {
    AdapterError::Unsupported(capability.to_string())
}

/// Writes a diagnostic line to the host's log (rate-limited there). Natively, under
/// `cargo test`, it goes to standard error instead.
pub fn log(level: bindings::garrison::adapter::log::Level, message: &str) {
    #[cfg(target_family = "wasm")]
    bindings::garrison::adapter::log::log(level, message);
    #[cfg(not(target_family = "wasm"))]
    eprintln!("[adapter {level:?}] {message}");
}

/// One game's knowledge. Every method has the meaning of the WIT function of the same name
/// (see `wit/`); those with defaults are optional and answer as an adapter without the
/// capability would.
pub trait Adapter: 'static {
    /// The log parser; [`PlainParser`] for games whose logs carry no structure.
    type Parser: LogParser;
    /// The RCon session; [`NoRcon`] for games without a remote console.
    type Session: RconSession;

    /// Identity and capabilities. Must always return the same answer.
    fn describe() -> Description;
    /// The settings form.
    fn schema() -> Vec<Field>;
    /// Checks beyond the schema; report every problem, keyed by field.
    fn validate(_settings: &Settings) -> Result<(), Vec<FieldError>> {
        Ok(())
    }
    /// Configuration files for these settings.
    fn render(_ctx: &Context, _settings: &Settings) -> Result<Vec<RenderedFile>, AdapterError> {
        Ok(Vec::new())
    }
    /// How to install the game; empty when it is installed by hand.
    fn install_plan(_settings: &Settings) -> Result<Vec<InstallStep>, AdapterError> {
        Ok(Vec::new())
    }
    /// How to start the server.
    fn launch(ctx: &Context, settings: &Settings) -> Result<LaunchSpec, AdapterError>;
    /// How to stop the server; by default only the host's SIGTERM/SIGKILL budget.
    fn stop_plan(_settings: &Settings) -> Result<StopSpec, AdapterError> {
        Ok(StopSpec {
            steps: Vec::new(),
            grace_secs: None,
        })
    }
    /// Mission and mod directories.
    fn content_dirs(_settings: &Settings) -> Result<Vec<ContentDir>, AdapterError> {
        Ok(Vec::new())
    }
    /// What holds a server's state, for backups; by default nothing named, which means the
    /// whole instance directory.
    fn state_paths(_settings: &Settings) -> Result<Vec<StatePath>, AdapterError> {
        Ok(Vec::new())
    }
    /// RCon commands and waits around a backup of a running server; by default none.
    fn backup_plan(_settings: &Settings) -> Result<BackupSpec, AdapterError> {
        Ok(BackupSpec {
            before: Vec::new(),
            after: Vec::new(),
        })
    }
    /// Every port a server listens on (derived ones included); by default none named.
    fn ports(_settings: &Settings) -> Result<Vec<PortUse>, AdapterError> {
        Ok(Vec::new())
    }
    /// Logs to tail, exactly these: by default the process's console output. An adapter
    /// that names a log file and also wants the console stored must name both.
    fn log_sources(_settings: &Settings) -> Result<Vec<LogSource>, AdapterError> {
        Ok(vec![LogSource {
            name: "console".to_string(),
            location: LogLocation::Console,
        }])
    }
    /// A parser for one server's logs.
    fn create_parser(settings: &Settings) -> Result<Self::Parser, AdapterError>;

    /// The RCon transport. Only asked when `describe()` declares `rcon`.
    fn rcon_transport() -> Transport {
        Transport::Tcp
    }
    /// The RCon endpoint for these settings; none when RCon is off or absent.
    fn rcon_endpoint(_settings: &Settings) -> Result<Option<Connection>, AdapterError> {
        Ok(None)
    }
    /// The command that lists players.
    fn players_command() -> Result<String, AdapterError> {
        Err(unsupported("players"))
    }
    /// Reads the player list.
    fn parse_players(_reply: &str) -> Result<Vec<Player>, AdapterError> {
        Err(unsupported("players"))
    }
    /// Commands that kick a player.
    fn kick_commands(_player: &Player, _reason: &str) -> Result<Vec<String>, AdapterError> {
        Err(unsupported("kick"))
    }
    /// Commands that add a ban.
    fn ban_commands(_request: &BanRequest) -> Result<Vec<String>, AdapterError> {
        Err(unsupported("ban"))
    }
    /// Commands that lift a ban.
    fn unban_commands(_entry: &BanEntry) -> Result<Vec<String>, AdapterError> {
        Err(unsupported("ban"))
    }
    /// The command that lists bans.
    fn bans_command() -> Result<String, AdapterError> {
        Err(unsupported("ban"))
    }
    /// Reads the ban list.
    fn parse_bans(_reply: &str) -> Result<Vec<BanEntry>, AdapterError> {
        Err(unsupported("ban"))
    }
    /// The command that broadcasts a message.
    fn say_command(_message: &str) -> Result<String, AdapterError> {
        Err(unsupported("chat"))
    }
}

/// A stateful log parser (the WIT `logs.parser` resource).
pub trait LogParser: 'static {
    /// Parses the next lines of `source`: `lines` is the batch, each line followed by `\n`
    /// (iterate it with [`batch_lines`]). Return records covering the lines in order, each
    /// line exactly once (see [`LogRecord::line`] for the common case).
    fn feed(&mut self, source: &str, lines: &str) -> Parsed;
    /// Releases whatever is held back for `source`.
    fn flush(&mut self, _source: &str) -> Parsed {
        Parsed {
            records: Vec::new(),
            events: Vec::new(),
        }
    }
}

/// A sans-IO RCon session (the WIT `rcon.session` resource).
pub trait RconSession: 'static {
    /// Starts a session; the login is sent by the first `transmit`.
    fn new(password: String, now_ms: u64) -> Self;
    /// Bytes received: one datagram, or one stream read.
    fn receive(&mut self, data: &[u8], now_ms: u64) -> Vec<SessionEvent>;
    /// Advances timers.
    fn tick(&mut self, now_ms: u64) -> Vec<SessionEvent>;
    /// What to send now.
    fn transmit(&mut self, now_ms: u64) -> Vec<Vec<u8>>;
    /// Queues a command and returns its id.
    fn command(&mut self, text: &str, now_ms: u64) -> Result<u32, AdapterError>;
    /// When to call `tick` next.
    fn next_wakeup(&self) -> Option<u64>;
    /// Malformed packets dropped so far.
    fn dropped(&self) -> u64;
}

/// The session of an adapter without a remote console: it never sends anything and refuses
/// commands. The host never creates one unless `describe()` claims `rcon`.
pub struct NoRcon;

impl RconSession for NoRcon {
    fn new(_password: String, _now_ms: u64) -> Self {
        NoRcon
    }
    fn receive(&mut self, _data: &[u8], _now_ms: u64) -> Vec<SessionEvent> {
        Vec::new()
    }
    fn tick(&mut self, _now_ms: u64) -> Vec<SessionEvent> {
        Vec::new()
    }
    fn transmit(&mut self, _now_ms: u64) -> Vec<Vec<u8>> {
        Vec::new()
    }
    fn command(&mut self, _text: &str, _now_ms: u64) -> Result<u32, AdapterError> {
        Err(unsupported("rcon"))
    }
    fn next_wakeup(&self) -> Option<u64> {
        None
    }
    fn dropped(&self) -> u64 {
        0
    }
}

/// A parser for logs without structure: every line becomes an `info` record, and lines that
/// mention an error or a warning get that level.
#[derive(Default)]
pub struct PlainParser;

impl LogParser for PlainParser {
    fn feed(&mut self, _source: &str, lines: &str) -> Parsed {
        Parsed {
            records: batch_lines(lines)
                .map(|line| LogRecord::line(guess_level(line)))
                .collect(),
            events: Vec::new(),
        }
    }
}

/// The lines of a batch handed to [`LogParser::feed`], without their `\n`.
pub fn batch_lines(batch: &str) -> std::str::SplitTerminator<'_, char> {
    batch.split_terminator('\n')
}

impl LogRecord {
    /// A record for one input line shown as it is — the common case, which copies no text
    /// back to the host.
    pub fn line(level: Level) -> Self {
        LogRecord {
            lines: 1,
            text: None,
            level,
            time: None,
        }
    }
}

/// Checks that `text` can be sent as one console command: at most `max_bytes` long and a
/// single line (a line break would let a command smuggle in another).
pub fn check_command_text(text: &str, max_bytes: usize) -> Result<(), AdapterError> {
    if text.len() > max_bytes {
        return Err(AdapterError::Invalid(format!(
            "a command may be at most {max_bytes} bytes long"
        )));
    }
    if text.contains(['\n', '\r', '\0']) {
        return Err(AdapterError::Invalid(
            "a command is one line of text".into(),
        ));
    }
    Ok(())
}

/// Guesses a line's severity from the words it contains, for logs without levels: "error",
/// "fatal" or "panic" make it an error, "warn" a warning (case-insensitive).
pub fn guess_level(line: &str) -> Level {
    // One pass over the bytes, without allocating: this runs for every line of every log.
    let bytes = line.as_bytes();
    let at = |i: usize, word: &[u8]| {
        bytes
            .get(i..i + word.len())
            .is_some_and(|w| w.eq_ignore_ascii_case(word))
    };
    let mut level = Level::Info;
    for (i, b) in bytes.iter().enumerate() {
        match b | 0x20 {
            b'e' if at(i, b"error") => return Level::Error,
            b'f' if at(i, b"fatal") => return Level::Error,
            b'p' if at(i, b"panic") => return Level::Error,
            b'w' if at(i, b"warn") => level = Level::Warning,
            _ => {}
        }
    }
    level
}

/// Exports an [`Adapter`] implementation as the component's `game-adapter` world. Call it once,
/// at the root of the adapter crate.
#[macro_export]
macro_rules! export_adapter {
    ($adapter:ty) => {
        // Only components export the world: natively (under `cargo test`) the adapter is
        // plain Rust, called directly.
        #[cfg(target_family = "wasm")]
        mod __garrison_adapter_export {
            #[allow(unused_imports)]
            use super::*;
            type __GarrisonAdapterExport = $crate::Export<$adapter>;
            $crate::bindings::export_game_adapter!(
                __GarrisonAdapterExport with_types_in $crate::bindings
            );
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_carried_contract_is_the_repositorys() {
        let here = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let repo = here.join("../../wit");
        let mut names: Vec<_> = std::fs::read_dir(&repo)
            .expect("the repository's wit/")
            .filter_map(|e| e.ok().map(|e| e.file_name()))
            .filter(|n| n.to_string_lossy().ends_with(".wit"))
            .collect();
        names.sort();
        assert!(!names.is_empty());
        for name in &names {
            let theirs = std::fs::read(repo.join(name)).expect("repository file");
            let ours = std::fs::read(here.join("wit").join(name))
                .unwrap_or_else(|e| panic!("sdk/wit/{}: {e}", name.to_string_lossy()));
            assert!(
                theirs == ours,
                "sdk/wit/{0} differs from wit/{0}: copy it over",
                name.to_string_lossy()
            );
        }
        let carried = std::fs::read_dir(here.join("wit"))
            .expect("sdk/wit/")
            .filter(|e| {
                e.as_ref()
                    .is_ok_and(|e| e.file_name().to_string_lossy().ends_with(".wit"))
            })
            .count();
        assert_eq!(
            carried,
            names.len(),
            "sdk/wit/ carries a file wit/ does not have"
        );
    }

    #[test]
    fn levels_are_guessed_from_words_in_any_case() {
        assert_eq!(guess_level("all good"), Level::Info);
        assert_eq!(guess_level(""), Level::Info);
        assert_eq!(guess_level("WARNING: disk"), Level::Warning);
        assert_eq!(guess_level("a warning, then an ERROR"), Level::Error);
        assert_eq!(guess_level("Fatal: x"), Level::Error);
        assert_eq!(guess_level("thread panicked"), Level::Error);
        assert_eq!(guess_level("err"), Level::Info, "a prefix is not the word");
        assert_eq!(guess_level("ünïcödé warn"), Level::Warning);
    }
}
