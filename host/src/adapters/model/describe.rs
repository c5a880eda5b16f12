//! What `describe()` says about an adapter.

use serde::{Deserialize, Serialize};

use crate::adapters::bindings::{v0_1, v0_2};

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
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Description {
    /// Stable machine id (`[a-z0-9-]{1,32}`).
    pub id: String,
    /// Game name for people.
    pub name: String,
    /// The adapter's semantic version.
    pub version: String,
    /// One paragraph about the adapter.
    pub summary: String,
    /// Steam app id of the dedicated server, when installed through SteamCMD (the same as
    /// `runtime`'s, kept for clients written before it).
    pub steam_app_id: Option<u32>,
    /// Where the game's files come from.
    pub runtime: RuntimeSource,
    /// Capability names from [`CAPABILITY_NAMES`].
    pub capabilities: Vec<String>,
}

/// Where a server's game files come from.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum RuntimeSource {
    /// The game needs no installed files: the program is on the machine already.
    None,
    /// SteamCMD installs and updates them.
    Steamcmd {
        /// The dedicated server's Steam application id.
        app_id: u32,
    },
    /// An administrator installs them by hand and registers the directory (or uploads an
    /// archive into it).
    ByHand {
        /// What to download and where from, in the adapter's words.
        instructions: String,
    },
}

impl RuntimeSource {
    /// The Steam application id, for SteamCMD installs.
    pub fn steam_app_id(&self) -> Option<u32> {
        match self {
            RuntimeSource::Steamcmd { app_id } => Some(*app_id),
            _ => None,
        }
    }
}

impl Description {
    /// Whether the adapter declares `capability` (a name from [`CAPABILITY_NAMES`]).
    pub fn has(&self, capability: &str) -> bool {
        self.capabilities.iter().any(|c| c == capability)
    }
}

/// The capability names a description's flags stand for (the flags are the same in every
/// contract version so far).
macro_rules! capability_names {
    ($flags:expr, $c:path) => {{
        use $c as C;
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
        flags
            .iter()
            .zip(CAPABILITY_NAMES)
            .filter(|(flag, _)| $flags.contains(**flag))
            .map(|(_, name)| name.to_string())
            .collect()
    }};
}

impl From<v0_1::exports::garrison::adapter::metadata::Description> for Description {
    /// 0.1.0 said only whether SteamCMD installs the game: without a Steam app id the game is
    /// installed by hand (0.1.0's "empty plan").
    fn from(d: v0_1::exports::garrison::adapter::metadata::Description) -> Self {
        let runtime = match d.steam_app_id {
            Some(app_id) => RuntimeSource::Steamcmd { app_id },
            None => RuntimeSource::ByHand {
                instructions: String::new(),
            },
        };
        Description {
            id: d.id,
            name: d.name,
            version: d.version,
            summary: d.summary,
            steam_app_id: d.steam_app_id,
            runtime,
            capabilities: capability_names!(
                d.capabilities,
                v0_1::exports::garrison::adapter::metadata::Capabilities
            ),
        }
    }
}

impl From<v0_2::exports::garrison::adapter::metadata::Description> for Description {
    fn from(d: v0_2::exports::garrison::adapter::metadata::Description) -> Self {
        use v0_2::exports::garrison::adapter::metadata::RuntimeSource as Wit;
        let runtime = match d.runtime {
            Wit::None => RuntimeSource::None,
            Wit::Steamcmd(app_id) => RuntimeSource::Steamcmd { app_id },
            Wit::ByHand(instructions) => RuntimeSource::ByHand { instructions },
        };
        Description {
            id: d.id,
            name: d.name,
            version: d.version,
            summary: d.summary,
            steam_app_id: runtime.steam_app_id(),
            runtime,
            capabilities: capability_names!(
                d.capabilities,
                v0_2::exports::garrison::adapter::metadata::Capabilities
            ),
        }
    }
}
