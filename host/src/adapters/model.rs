//! The host's own view of what adapters say: plain serde types for the API, the CLI and the
//! database, converted from the generated WIT types in one place (the `From` impls below).
//!
//! Only this module and `bindings` know the generated types' shapes; everything else in the
//! host speaks these. Wire names are snake_case and enums are internally tagged with `type`.

use serde::{Deserialize, Serialize};

use super::bindings::exports::garrison::adapter::{config, lifecycle, logs, metadata};
use super::bindings::garrison::adapter::types;

/// Names of the capability flags, in contract order.
pub const CAPABILITY_NAMES: [&str; 10] = [
    "logs",
    "rcon",
    "players",
    "kick",
    "ban",
    "chat",
    "missions",
    "mods",
    "install",
    "ready_detection",
];

/// What `describe()` returned, checked.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Description {
    /// Stable machine id (`[a-z0-9-]{1,32}`).
    pub id: String,
    /// Game name for people.
    pub name: String,
    /// The adapter's semantic version.
    pub version: String,
    /// One paragraph about the adapter.
    pub summary: String,
    /// Steam app id of the dedicated server, when installed through SteamCMD.
    pub steam_app_id: Option<u32>,
    /// Capability names from [`CAPABILITY_NAMES`].
    pub capabilities: Vec<String>,
}

impl Description {
    /// Whether the adapter declares `capability` (a name from [`CAPABILITY_NAMES`]).
    pub fn has(&self, capability: &str) -> bool {
        self.capabilities.iter().any(|c| c == capability)
    }
}

impl From<metadata::Description> for Description {
    fn from(d: metadata::Description) -> Self {
        use metadata::Capabilities as C;
        let flags = [
            C::LOGS,
            C::RCON,
            C::PLAYERS,
            C::KICK,
            C::BAN,
            C::CHAT,
            C::MISSIONS,
            C::MODS,
            C::INSTALL,
            C::READY_DETECTION,
        ];
        let capabilities = flags
            .iter()
            .zip(CAPABILITY_NAMES)
            .filter(|(flag, _)| d.capabilities.contains(**flag))
            .map(|(_, name)| name.to_string())
            .collect();
        Description {
            id: d.id,
            name: d.name,
            version: d.version,
            summary: d.summary,
            steam_app_id: d.steam_app_id,
            capabilities,
        }
    }
}

/// One field of an adapter's settings form.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Field {
    /// Machine key.
    pub key: String,
    /// Form label.
    pub label: String,
    /// Help text for non-technical administrators.
    pub help: String,
    /// Form section.
    pub section: String,
    /// Editor and validation rules.
    pub kind: FieldKind,
    /// Default value, as JSON of the field's kind.
    pub default: Option<serde_json::Value>,
    /// Must a value be present.
    pub required: bool,
    /// Hidden behind "advanced".
    pub advanced: bool,
}

/// How a field is edited and checked.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FieldKind {
    /// Text.
    Text {
        /// Longest accepted value in characters.
        max_length: Option<u32>,
        /// Multi-line editor.
        multiline: bool,
    },
    /// Secret text: encrypted at rest, never returned.
    Secret,
    /// Whole number within bounds.
    Integer {
        /// Smallest accepted value.
        min: i64,
        /// Largest accepted value.
        max: i64,
    },
    /// On or off.
    Flag,
    /// One of fixed values.
    Choice {
        /// The accepted values.
        options: Vec<ChoiceOption>,
    },
    /// Ordered strings.
    List {
        /// Most entries accepted.
        max_items: Option<u32>,
        /// Example entry.
        item_hint: String,
    },
    /// A network port.
    Port,
    /// Rows of typed cells.
    Table {
        /// The columns, in cell order.
        columns: Vec<Column>,
    },
}

/// One accepted value of a choice.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ChoiceOption {
    /// Stored value.
    pub value: String,
    /// Shown label.
    pub label: String,
}

/// A table column.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Column {
    /// Key of the cell in a row object.
    pub key: String,
    /// Heading.
    pub label: String,
    /// Cell kind.
    pub kind: ColumnKind,
}

/// The kind of a table cell.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ColumnKind {
    /// Free text.
    Text,
    /// Whole number within bounds.
    Integer {
        /// Smallest accepted value.
        min: i64,
        /// Largest accepted value.
        max: i64,
    },
    /// true/false.
    Flag,
    /// One of fixed values.
    Choice {
        /// The accepted values.
        options: Vec<ChoiceOption>,
    },
}

fn choices(options: Vec<config::ChoiceOption>) -> Vec<ChoiceOption> {
    options
        .into_iter()
        .map(|o| ChoiceOption {
            value: o.value,
            label: o.label,
        })
        .collect()
}

impl From<config::FieldKind> for FieldKind {
    fn from(kind: config::FieldKind) -> Self {
        match kind {
            config::FieldKind::Text(o) => FieldKind::Text {
                max_length: o.max_length,
                multiline: o.multiline,
            },
            config::FieldKind::Secret => FieldKind::Secret,
            config::FieldKind::Integer(r) => FieldKind::Integer {
                min: r.min,
                max: r.max,
            },
            config::FieldKind::Flag => FieldKind::Flag,
            config::FieldKind::Choice(options) => FieldKind::Choice {
                options: choices(options),
            },
            config::FieldKind::List(o) => FieldKind::List {
                max_items: o.max_items,
                item_hint: o.item_hint,
            },
            config::FieldKind::Port => FieldKind::Port,
            config::FieldKind::Table(columns) => FieldKind::Table {
                columns: columns
                    .into_iter()
                    .map(|c| Column {
                        key: c.key,
                        label: c.label,
                        kind: match c.kind {
                            config::ColumnKind::Text => ColumnKind::Text,
                            config::ColumnKind::Integer(r) => ColumnKind::Integer {
                                min: r.min,
                                max: r.max,
                            },
                            config::ColumnKind::Flag => ColumnKind::Flag,
                            config::ColumnKind::Choice(options) => ColumnKind::Choice {
                                options: choices(options),
                            },
                        },
                    })
                    .collect(),
            },
        }
    }
}

impl From<config::Field> for Field {
    fn from(f: config::Field) -> Self {
        let kind = FieldKind::from(f.kind);
        let default = f
            .default
            .map(|value| super::settings::value_to_json(&kind, &value));
        Field {
            key: f.key,
            label: f.label,
            help: f.help,
            section: f.section,
            kind,
            default,
            required: f.required,
            advanced: f.advanced,
        }
    }
}

/// A problem with one field's value.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct FieldError {
    /// The field key ("" for the settings as a whole).
    pub field: String,
    /// What is wrong, for the person who typed it.
    pub message: String,
}

impl From<config::FieldError> for FieldError {
    fn from(e: config::FieldError) -> Self {
        FieldError {
            field: e.field,
            message: e.message,
        }
    }
}

/// Which root directory a relative path hangs from.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Root {
    /// The server's own directory.
    Instance,
    /// The game's shared installed files.
    Runtime,
}

/// A relative path below a root, as an adapter named it (not yet checked).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PathRef {
    /// The root.
    pub root: Root,
    /// The relative path.
    pub path: String,
}

impl From<types::PathRef> for PathRef {
    fn from(p: types::PathRef) -> Self {
        PathRef {
            root: match p.root {
                types::Root::Instance => Root::Instance,
                types::Root::Runtime => Root::Runtime,
            },
            path: p.path,
        }
    }
}

/// A configuration file an adapter rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedFile {
    /// Where it goes.
    pub path: PathRef,
    /// Its contents.
    pub contents: Vec<u8>,
}

impl From<config::RenderedFile> for RenderedFile {
    fn from(f: config::RenderedFile) -> Self {
        RenderedFile {
            path: f.path.into(),
            contents: f.contents,
        }
    }
}

/// How to start a server process.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct LaunchSpec {
    /// Executable (absolute, or relative to the runtime directory).
    pub program: String,
    /// Arguments, never split or joined.
    pub args: Vec<String>,
    /// Absolute working directory; none for the instance directory.
    pub working_dir: Option<String>,
    /// Extra environment.
    pub env: Vec<(String, String)>,
    /// Running only after `server_ready`.
    pub wait_for_ready: bool,
    /// Startup deadline in seconds.
    pub startup_timeout_secs: Option<u32>,
}

impl From<lifecycle::LaunchSpec> for LaunchSpec {
    fn from(l: lifecycle::LaunchSpec) -> Self {
        LaunchSpec {
            program: l.program,
            args: l.args,
            working_dir: l.working_dir,
            env: l.env,
            wait_for_ready: l.wait_for_ready,
            startup_timeout_secs: l.startup_timeout_secs,
        }
    }
}

/// One step of an orderly stop.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum StopStep {
    /// Send an RCon command.
    RconCommand {
        /// The command.
        command: String,
    },
    /// Signal the process group.
    Signal {
        /// "interrupt" or "terminate".
        signal: String,
    },
    /// Wait for the process to exit.
    WaitSecs {
        /// Seconds.
        secs: u32,
    },
}

/// How to stop a server.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct StopSpec {
    /// Steps before the host's SIGTERM.
    pub steps: Vec<StopStep>,
    /// SIGTERM → SIGKILL budget, if the adapter sets one.
    pub grace_secs: Option<u32>,
}

impl From<lifecycle::StopSpec> for StopSpec {
    fn from(s: lifecycle::StopSpec) -> Self {
        StopSpec {
            steps: s
                .steps
                .into_iter()
                .map(|step| match step {
                    lifecycle::StopStep::RconCommand(command) => StopStep::RconCommand { command },
                    lifecycle::StopStep::Signal(signal) => StopStep::Signal {
                        signal: match signal {
                            lifecycle::Signal::Interrupt => "interrupt",
                            lifecycle::Signal::Terminate => "terminate",
                        }
                        .to_string(),
                    },
                    lifecycle::StopStep::WaitSecs(secs) => StopStep::WaitSecs { secs },
                })
                .collect(),
            grace_secs: s.grace_secs,
        }
    }
}

/// Severity of a log record.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// Debug chatter.
    Debug,
    /// Normal.
    Info,
    /// Worth a look.
    Warning,
    /// Went wrong.
    Error,
}

/// One parsed log entry.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LogRecord {
    /// Text (multi-line entries joined with `\n`).
    pub text: String,
    /// Severity.
    pub level: Level,
    /// The game's own timestamp, normalised.
    pub time: Option<String>,
}

/// A player as a log line names them.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PlayerRef {
    /// In-session id.
    pub slot: Option<String>,
    /// Display name.
    pub name: String,
    /// Stable identity.
    pub unique_id: Option<String>,
    /// ip:port.
    pub address: Option<String>,
}

impl From<logs::PlayerRef> for PlayerRef {
    fn from(p: logs::PlayerRef) -> Self {
        PlayerRef {
            slot: p.slot,
            name: p.name,
            unique_id: p.unique_id,
            address: p.address,
        }
    }
}

/// What a log record means.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum GameEvent {
    /// A player is connecting.
    PlayerConnecting {
        /// Who.
        player: PlayerRef,
    },
    /// A player is in.
    PlayerJoined {
        /// Who.
        player: PlayerRef,
    },
    /// A player left.
    PlayerLeft {
        /// Who.
        player: PlayerRef,
        /// "disconnected", "kicked" or "banned".
        departure: String,
        /// Reason given.
        reason: Option<String>,
    },
    /// An identity was reported for a player.
    PlayerIdentified {
        /// Who.
        player: PlayerRef,
        /// Identity kind.
        kind: String,
        /// Identity value.
        value: String,
        /// Verified, if known.
        verified: Option<bool>,
    },
    /// Chat.
    Chat {
        /// Channel.
        channel: String,
        /// Sender.
        sender: Option<String>,
        /// Message.
        text: String,
    },
    /// Ready for players.
    ServerReady,
    /// Map or mission change.
    MapChange {
        /// Name.
        name: String,
        /// "loading", "started", "finished" or "restarted".
        phase: String,
    },
    /// Game-reported figures.
    Metrics {
        /// (name, value) samples.
        samples: Vec<(String, f64)>,
    },
}

impl From<logs::GameEvent> for GameEvent {
    fn from(e: logs::GameEvent) -> Self {
        match e {
            logs::GameEvent::PlayerConnecting(player) => GameEvent::PlayerConnecting {
                player: player.into(),
            },
            logs::GameEvent::PlayerJoined(player) => GameEvent::PlayerJoined {
                player: player.into(),
            },
            logs::GameEvent::PlayerLeft(left) => GameEvent::PlayerLeft {
                player: left.player.into(),
                departure: match left.departure {
                    logs::Departure::Disconnected => "disconnected",
                    logs::Departure::Kicked => "kicked",
                    logs::Departure::Banned => "banned",
                }
                .to_string(),
                reason: left.reason,
            },
            logs::GameEvent::PlayerIdentified(id) => GameEvent::PlayerIdentified {
                player: id.player.into(),
                kind: id.kind,
                value: id.value,
                verified: id.verified,
            },
            logs::GameEvent::Chat(chat) => GameEvent::Chat {
                channel: chat.channel,
                sender: chat.sender,
                text: chat.text,
            },
            logs::GameEvent::ServerReady => GameEvent::ServerReady,
            logs::GameEvent::MapChange(change) => GameEvent::MapChange {
                name: change.name,
                phase: match change.phase {
                    logs::MapPhase::Loading => "loading",
                    logs::MapPhase::Started => "started",
                    logs::MapPhase::Finished => "finished",
                    logs::MapPhase::Restarted => "restarted",
                }
                .to_string(),
            },
            logs::GameEvent::Metrics(samples) => GameEvent::Metrics {
                samples: samples.into_iter().map(|s| (s.name, s.value)).collect(),
            },
        }
    }
}

/// A parsed log record and the events read from it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ParsedEntry {
    /// The record.
    #[serde(flatten)]
    pub record: LogRecord,
    /// Its events (most records have none).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub events: Vec<GameEvent>,
}

/// Joins a parser's records with their sparse events. Events pointing past the records are
/// an adapter bug; they are attached to the last record rather than lost.
pub fn parsed_entries(parsed: logs::Parsed) -> Vec<ParsedEntry> {
    let mut entries: Vec<ParsedEntry> = parsed
        .records
        .into_iter()
        .map(|r| ParsedEntry {
            record: LogRecord {
                text: r.text,
                level: match r.level {
                    logs::Level::Debug => Level::Debug,
                    logs::Level::Info => Level::Info,
                    logs::Level::Warning => Level::Warning,
                    logs::Level::Error => Level::Error,
                },
                time: r.time,
            },
            events: Vec::new(),
        })
        .collect();
    for indexed in parsed.events {
        let index = usize::try_from(indexed.record).unwrap_or(usize::MAX);
        let len = entries.len();
        if let Some(entry) = entries.get_mut(index.min(len.saturating_sub(1))) {
            entry.events.push(indexed.event.into());
        }
    }
    entries
}

/// Where a log comes from.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum LogLocation {
    /// The process's captured stdout/stderr.
    Console,
    /// The newest matching file in a directory.
    NewestFile {
        /// The directory.
        dir: PathRef,
        /// `*`/`?` file-name pattern.
        pattern: String,
    },
}

/// One log to tail.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct LogSource {
    /// Name passed back to the parser.
    pub name: String,
    /// Where.
    pub location: LogLocation,
}

impl From<logs::LogSource> for LogSource {
    fn from(s: logs::LogSource) -> Self {
        LogSource {
            name: s.name,
            location: match s.location {
                logs::LogLocation::Console => LogLocation::Console,
                logs::LogLocation::NewestFile(p) => LogLocation::NewestFile {
                    dir: p.dir.into(),
                    pattern: p.pattern,
                },
            },
        }
    }
}
