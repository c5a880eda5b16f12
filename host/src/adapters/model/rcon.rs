//! Remote console: transports, endpoints, session events, players and bans.

use serde::{Deserialize, Serialize};

/// How an adapter's RCon travels.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Transport {
    /// Datagrams.
    Udp,
    /// A byte stream.
    Tcp,
}

/// Where a server's RCon listens and its password. `Debug` never shows the password.
#[derive(Clone, PartialEq, Eq)]
pub struct Connection {
    /// Host name or address.
    pub host: String,
    /// Port.
    pub port: u16,
    /// The RCon password (secret).
    pub password: String,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("password", &"********")
            .finish()
    }
}

/// Something an RCon session learned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionEvent {
    /// The password was accepted.
    Authenticated,
    /// The password was refused.
    AuthFailed(String),
    /// A command's reply.
    Reply {
        /// The id `command` returned.
        id: u32,
        /// The whole reply.
        text: String,
    },
    /// A command that will get no reply.
    CommandFailed {
        /// The id `command` returned.
        id: u32,
        /// Why.
        reason: String,
    },
    /// A message the server sent on its own.
    Message(String),
    /// The session gave the connection up.
    Disconnected(String),
}

/// A player in the live player list.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Player {
    /// The game's id for this connection (used to kick or ban).
    pub slot: String,
    /// Display name.
    pub name: String,
    /// Stable identity.
    pub unique_id: Option<String>,
    /// ip:port.
    pub address: Option<String>,
    /// Round-trip time in ms.
    pub ping_ms: Option<u32>,
    /// Seconds connected.
    pub connected_secs: Option<u32>,
    /// Further (label, value) facts.
    pub details: Vec<(String, String)>,
}

/// One entry of a server's ban list.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct BanEntry {
    /// The game's id of the entry.
    pub id: String,
    /// Banned identity (Steam id, GUID, IP).
    pub identity: String,
    /// Minutes left; none when permanent.
    pub minutes_left: Option<u32>,
    /// Recorded reason.
    pub reason: String,
}

/// Who a new ban applies to.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum BanTarget {
    /// A player online now.
    Online {
        /// The player.
        player: Player,
    },
    /// An identity, online or not.
    Identity {
        /// Steam id, GUID or IP.
        identity: String,
    },
}

/// A ban to add.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct BanRequest {
    /// Who.
    pub target: BanTarget,
    /// Duration in minutes; none for permanent.
    pub minutes: Option<u32>,
    /// Reason.
    pub reason: String,
}

/// The conversions from one contract version's generated types (the same shapes in every
/// version that has them).
macro_rules! from_wit {
    ($v:ident) => {
        mod $v {
            #[allow(unused_imports)]
            use super::*;
            use crate::adapters::bindings::$v::exports::garrison::adapter::rcon;

            impl From<rcon::Transport> for Transport {
                fn from(t: rcon::Transport) -> Self {
                    match t {
                        rcon::Transport::Udp => Transport::Udp,
                        rcon::Transport::Tcp => Transport::Tcp,
                    }
                }
            }

            impl From<rcon::Connection> for Connection {
                fn from(c: rcon::Connection) -> Self {
                    Connection {
                        host: c.host,
                        port: c.port,
                        password: c.password,
                    }
                }
            }

            impl From<rcon::SessionEvent> for SessionEvent {
                fn from(e: rcon::SessionEvent) -> Self {
                    match e {
                        rcon::SessionEvent::Authenticated => SessionEvent::Authenticated,
                        rcon::SessionEvent::AuthFailed(why) => SessionEvent::AuthFailed(why),
                        rcon::SessionEvent::Reply(r) => SessionEvent::Reply {
                            id: r.id,
                            text: r.text,
                        },
                        rcon::SessionEvent::CommandFailed(f) => SessionEvent::CommandFailed {
                            id: f.id,
                            reason: f.reason,
                        },
                        rcon::SessionEvent::Message(text) => SessionEvent::Message(text),
                        rcon::SessionEvent::Disconnected(why) => SessionEvent::Disconnected(why),
                    }
                }
            }

            impl From<rcon::Player> for Player {
                fn from(p: rcon::Player) -> Self {
                    Player {
                        slot: p.slot,
                        name: p.name,
                        unique_id: p.unique_id,
                        address: p.address,
                        ping_ms: p.ping_ms,
                        connected_secs: p.connected_secs,
                        details: p.details,
                    }
                }
            }

            impl From<Player> for rcon::Player {
                fn from(p: Player) -> Self {
                    rcon::Player {
                        slot: p.slot,
                        name: p.name,
                        unique_id: p.unique_id,
                        address: p.address,
                        ping_ms: p.ping_ms,
                        connected_secs: p.connected_secs,
                        details: p.details,
                    }
                }
            }

            impl From<rcon::BanEntry> for BanEntry {
                fn from(b: rcon::BanEntry) -> Self {
                    BanEntry {
                        id: b.id,
                        identity: b.identity,
                        minutes_left: b.minutes_left,
                        reason: b.reason,
                    }
                }
            }

            impl From<BanEntry> for rcon::BanEntry {
                fn from(b: BanEntry) -> Self {
                    rcon::BanEntry {
                        id: b.id,
                        identity: b.identity,
                        minutes_left: b.minutes_left,
                        reason: b.reason,
                    }
                }
            }

            impl From<BanRequest> for rcon::BanRequest {
                fn from(r: BanRequest) -> Self {
                    rcon::BanRequest {
                        target: match r.target {
                            BanTarget::Online { player } => rcon::BanTarget::Online(player.into()),
                            BanTarget::Identity { identity } => rcon::BanTarget::Identity(identity),
                        },
                        minutes: r.minutes,
                        reason: r.reason,
                    }
                }
            }
        }
    };
}

from_wit!(v0_1);
from_wit!(v0_2);
