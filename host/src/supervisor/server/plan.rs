//! What the supervisor needs to run one server: the process to launch, how to tell that it
//! is ready, and how to stop it.
//!
//! The host builds a [`LaunchPlan`] from the adapter's launch and stop specs (paths already
//! resolved); the supervisor keeps it for as long as the process runs, so a crash can be
//! followed by the same launch and a stop by the same steps. Arguments stay a list from the
//! adapter to `exec`: nothing here splits or joins strings.

use std::time::Duration;

use crate::adapters::model;
use crate::supervisor::process::{DEFAULT_STOP_GRACE, ProcessSpec};

use super::SupervisorError;

/// How long a server that waits for readiness gets before it counts as failed, unless the
/// adapter says otherwise.
pub const DEFAULT_STARTUP_TIMEOUT: Duration = Duration::from_secs(300);

/// Everything needed to launch a server and, later, to stop it.
#[derive(Debug, Clone)]
pub struct LaunchPlan {
    /// The process to start.
    pub spec: ProcessSpec,
    /// When set, the server is `Starting` until the log pipeline reports it ready; when
    /// not, it is `Running` as soon as the process has started.
    pub wait_for_ready: bool,
    /// How long a server that waits for readiness may take before it is stopped and
    /// reported crashed.
    pub startup_timeout: Duration,
    /// The adapter's steps before the host's own SIGTERM, in order.
    pub stop: Vec<StopStep>,
    /// How long the process gets after SIGTERM before SIGKILL.
    pub grace: Duration,
}

impl LaunchPlan {
    /// A plan with no stop steps, no readiness wait and the default grace.
    pub fn new(spec: ProcessSpec) -> LaunchPlan {
        LaunchPlan {
            spec,
            wait_for_ready: false,
            startup_timeout: DEFAULT_STARTUP_TIMEOUT,
            stop: Vec::new(),
            grace: DEFAULT_STOP_GRACE,
        }
    }

    /// Takes readiness and the startup deadline from the adapter's launch spec.
    pub fn with_launch(mut self, launch: &model::LaunchSpec) -> LaunchPlan {
        self.wait_for_ready = launch.wait_for_ready;
        if let Some(secs) = launch.startup_timeout_secs {
            self.startup_timeout = Duration::from_secs(u64::from(secs));
        }
        self
    }

    /// Takes the stop steps from the adapter's stop spec, and its grace if it sets one
    /// (otherwise `server_grace`, the server's own setting).
    pub fn with_stop(
        mut self,
        stop: &model::StopSpec,
        server_grace: Duration,
    ) -> Result<LaunchPlan, SupervisorError> {
        self.stop = stop
            .steps
            .iter()
            .map(StopStep::try_from)
            .collect::<Result<_, _>>()?;
        self.grace = stop
            .grace_secs
            .map_or(server_grace, |secs| Duration::from_secs(u64::from(secs)));
        Ok(self)
    }
}

/// One step of an ordered stop, before the host's SIGTERM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StopStep {
    /// Send this command over RCon; a failure is logged and the stop goes on.
    Rcon(String),
    /// Send a signal to the process group.
    Signal(StopSignal),
    /// Give the process up to this long to end by itself.
    Wait(Duration),
}

/// The signals a stop plan may send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopSignal {
    /// SIGINT, as Ctrl-C in a terminal.
    Interrupt,
    /// SIGTERM.
    Terminate,
}

impl TryFrom<&model::StopStep> for StopStep {
    type Error = SupervisorError;

    fn try_from(step: &model::StopStep) -> Result<StopStep, SupervisorError> {
        Ok(match step {
            model::StopStep::RconCommand { command } => StopStep::Rcon(command.clone()),
            model::StopStep::Signal { signal } => StopStep::Signal(match signal.as_str() {
                "interrupt" => StopSignal::Interrupt,
                "terminate" => StopSignal::Terminate,
                other => return Err(SupervisorError::UnknownStopSignal(other.to_string())),
            }),
            model::StopStep::WaitSecs { secs } => {
                StopStep::Wait(Duration::from_secs(u64::from(*secs)))
            }
        })
    }
}
