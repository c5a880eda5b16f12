//! What adapters plan for the host to do: files to write, processes to launch, stops.

use serde::{Deserialize, Serialize};

use crate::adapters::bindings::exports::garrison::adapter::{config, lifecycle};
use crate::adapters::bindings::garrison::adapter::types;

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
