//! What `describe()` says about an adapter.

use serde::{Deserialize, Serialize};

use crate::adapters::bindings::v0_1::exports::garrison::adapter::metadata;

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
