//! What adapters plan for the host to do: files to write, processes to launch, stops.

use serde::{Deserialize, Serialize};

/// Which root directory a relative path hangs from.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Root {
    /// The server's own directory.
    Instance,
    /// The game's shared installed files.
    Runtime,
}

/// A relative path below a root, as an adapter named it (not yet checked).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct PathRef {
    /// The root.
    pub root: Root,
    /// The relative path.
    pub path: String,
}

/// A configuration file an adapter rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedFile {
    /// Where it goes.
    pub path: PathRef,
    /// Its contents.
    pub contents: Vec<u8>,
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

/// How SteamCMD logs in for an install. `Debug` never shows the password.
#[derive(Clone, PartialEq, Eq)]
pub enum SteamLogin {
    /// `login anonymous`.
    Anonymous,
    /// A Steam account.
    Account {
        /// User name.
        username: String,
        /// Password (secret).
        password: String,
    },
}

impl std::fmt::Debug for SteamLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SteamLogin::Anonymous => f.write_str("Anonymous"),
            SteamLogin::Account { username, .. } => f
                .debug_struct("Account")
                .field("username", username)
                .field("password", &"********")
                .finish(),
        }
    }
}

/// A Workshop item to download with an install, and where to link it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkshopItem {
    /// The Workshop's application id.
    pub app_id: u32,
    /// The published file id.
    pub item_id: u64,
    /// Where to link the downloaded folder.
    pub link_as: Option<PathRef>,
}

/// One step of an install or update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InstallStep {
    /// A SteamCMD run into the runtime directory.
    Steamcmd {
        /// Steam application id.
        app_id: u32,
        /// Login.
        login: SteamLogin,
        /// Beta branch.
        beta: Option<String>,
        /// Beta branch password (secret).
        beta_password: Option<String>,
        /// Verify installed files.
        validate: bool,
        /// Workshop items.
        workshop: Vec<WorkshopItem>,
    },
}

/// The conversions from one contract version's generated types (the same shapes in every
/// version that has them).
macro_rules! from_wit {
    ($v:ident) => {
        mod $v {
            #[allow(unused_imports)]
            use super::*;
            use crate::adapters::bindings::$v::exports::garrison::adapter::{config, lifecycle};
            use crate::adapters::bindings::$v::garrison::adapter::types;

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

            impl From<config::RenderedFile> for RenderedFile {
                fn from(f: config::RenderedFile) -> Self {
                    RenderedFile {
                        path: f.path.into(),
                        contents: f.contents,
                    }
                }
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

            impl From<lifecycle::StopSpec> for StopSpec {
                fn from(s: lifecycle::StopSpec) -> Self {
                    StopSpec {
                        steps: s
                            .steps
                            .into_iter()
                            .map(|step| match step {
                                lifecycle::StopStep::RconCommand(command) => {
                                    StopStep::RconCommand { command }
                                }
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

            impl From<lifecycle::InstallStep> for InstallStep {
                fn from(step: lifecycle::InstallStep) -> Self {
                    match step {
                        lifecycle::InstallStep::Steamcmd(app) => InstallStep::Steamcmd {
                            app_id: app.app_id,
                            login: match app.login {
                                lifecycle::SteamLogin::Anonymous => SteamLogin::Anonymous,
                                lifecycle::SteamLogin::Account(account) => SteamLogin::Account {
                                    username: account.username,
                                    password: account.password,
                                },
                            },
                            beta: app.beta,
                            beta_password: app.beta_password,
                            validate: app.validate,
                            workshop: app
                                .workshop
                                .into_iter()
                                .map(|w| WorkshopItem {
                                    app_id: w.app_id,
                                    item_id: w.item_id,
                                    link_as: w.link_as.map(Into::into),
                                })
                                .collect(),
                        },
                    }
                }
            }
        }
    };
}

from_wit!(v0_1);
from_wit!(v0_2);
