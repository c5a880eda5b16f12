//! What an adapter says about a server's files and network (`files`, new in 0.2.0): what
//! holds its state, what to do around a backup, which ports it listens on.

use serde::{Deserialize, Serialize};

use super::PathRef;
use crate::adapters::bindings::v0_2::exports::garrison::adapter::files;

/// A part of a server's files worth keeping in a backup.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct StatePath {
    /// Where it is (a file, or a directory with everything below it).
    pub path: PathRef,
    /// What it holds, for people.
    pub description: String,
}

/// One step around a backup.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum BackupStep {
    /// Send a console command over RCon (skipped when the server is not running or has none).
    RconCommand {
        /// The command.
        command: String,
    },
    /// Wait, for the game to finish writing.
    WaitSecs {
        /// How long.
        secs: u32,
    },
}

/// What to do around a backup of a running server.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct BackupPlan {
    /// Before the files are copied.
    pub before: Vec<BackupStep>,
    /// After the copy, also when it failed.
    pub after: Vec<BackupStep>,
}

/// A transport a port is used with.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Hash, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Protocol {
    /// UDP datagrams.
    Udp,
    /// TCP streams.
    Tcp,
}

/// One port a server listens on.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct PortUse {
    /// The port number.
    pub port: u16,
    /// What carries it.
    pub protocol: Protocol,
    /// What it is for ("game", "query", "rcon").
    pub purpose: String,
}

impl From<files::StatePath> for StatePath {
    fn from(p: files::StatePath) -> Self {
        StatePath {
            path: p.path.into(),
            description: p.description,
        }
    }
}

impl From<files::BackupStep> for BackupStep {
    fn from(step: files::BackupStep) -> Self {
        match step {
            files::BackupStep::RconCommand(command) => BackupStep::RconCommand { command },
            files::BackupStep::WaitSecs(secs) => BackupStep::WaitSecs { secs },
        }
    }
}

impl From<files::BackupSpec> for BackupPlan {
    fn from(plan: files::BackupSpec) -> Self {
        BackupPlan {
            before: plan.before.into_iter().map(Into::into).collect(),
            after: plan.after.into_iter().map(Into::into).collect(),
        }
    }
}

impl From<files::PortUse> for PortUse {
    fn from(p: files::PortUse) -> Self {
        PortUse {
            port: p.port,
            protocol: match p.protocol {
                files::Protocol::Udp => Protocol::Udp,
                files::Protocol::Tcp => Protocol::Tcp,
            },
            purpose: p.purpose,
        }
    }
}

/// The ports a server of a 0.1.0 adapter (which cannot say) listens on, as far as its
/// settings tell: the value of every `port` field, purpose the field's key, listed for UDP and
/// TCP alike since 0.1.0 does not say which.
pub fn ports_from_settings(schema: &[super::Field], settings: &[super::Setting]) -> Vec<PortUse> {
    let mut ports = Vec::new();
    for field in schema {
        if !matches!(field.kind, super::FieldKind::Port) {
            continue;
        }
        let value = settings
            .iter()
            .find(|s| s.key == field.key)
            .and_then(|s| match s.value {
                super::SettingValue::Integer(n) => u16::try_from(n).ok(),
                _ => None,
            });
        if let Some(port) = value {
            for protocol in [Protocol::Udp, Protocol::Tcp] {
                ports.push(PortUse {
                    port,
                    protocol,
                    purpose: field.key.clone(),
                });
            }
        }
    }
    ports
}
