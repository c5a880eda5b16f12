//! The supervisor task of one server: owns its game process and its state, and is the
//! only place either changes.
//!
//! One loop waits at once for a command from a handle, the end of the process, the startup
//! deadline, a due restart and the stop sequence, so an exit is noticed the moment it
//! happens whatever else is going on. Every change of state goes out on the watch channel
//! and to the [`Observer`] together, through [`Task::set`]. The task owns nothing that
//! outlives it except the game process, which is meant to survive the host.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use rustix::process::Signal;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use crate::supervisor::process::{Exit, ProcessError, ProcessId, RunningProcess, attach, spawn};

use super::command::{Command, Reply};
use super::restart::{RestartRecord, RestartStatus, RestartWindow, human};
use super::sequence::{OrderedStop, Target};
use super::{LaunchPlan, Observer, RestartPolicy, ServerState, StopActions, SupervisorError};

/// Why the current process is expected to end.
#[derive(Debug, Clone, Copy)]
enum Ending {
    /// An ordered stop: the end is reported as stopped, whatever the exit.
    Stop,
    /// A kill: reported as stopped.
    Kill,
    /// It did not become ready in time and is being stopped: reported as crashed.
    StartupTimeout(std::time::Duration),
}

type Sequence = Pin<Box<dyn Future<Output = ()> + Send>>;

pub(super) struct Task {
    server_id: i64,
    observer: Arc<dyn Observer>,
    actions: Arc<dyn StopActions>,
    policy: RestartPolicy,
    state: watch::Sender<ServerState>,
    commands: mpsc::Receiver<Command>,
    /// The game process while one runs.
    process: Option<RunningProcess>,
    /// The last launch or adoption: how to stop the process, and what a restart launches.
    plan: Option<LaunchPlan>,
    /// Set once the process has been asked to end, so its end is not taken for a crash.
    ending: Option<Ending>,
    /// The stop sequence in progress; dropped when the process ends.
    sequence: Option<Sequence>,
    /// When a server waiting for readiness counts as failed.
    ready_deadline: Option<Instant>,
    /// A restart after a crash: when, and its number within the window.
    restart_at: Option<(Instant, usize)>,
    /// Automatic restarts counted against the policy.
    restarts: RestartWindow,
    /// Where the restarts and whether one is pending are published for the handles.
    restart_record: watch::Sender<RestartRecord>,
    /// Stop and kill commands answered once the process has ended.
    stop_waiters: Vec<Reply<()>>,
    /// A restart command: the launch that follows the stop, answered once launched.
    start_after_stop: Option<(LaunchPlan, Reply<()>)>,
    /// The process found at adoption but not reattachable; no start while it lives.
    unmanaged: Option<ProcessId>,
}

impl Task {
    /// Creates the task's state; nothing runs until [`Task::run`].
    pub fn new(
        server_id: i64,
        policy: RestartPolicy,
        observer: Arc<dyn Observer>,
        actions: Arc<dyn StopActions>,
        state: watch::Sender<ServerState>,
        restart_record: watch::Sender<RestartRecord>,
        commands: mpsc::Receiver<Command>,
    ) -> Task {
        Task {
            server_id,
            observer,
            actions,
            policy,
            state,
            commands,
            process: None,
            plan: None,
            ending: None,
            sequence: None,
            ready_deadline: None,
            restart_at: None,
            restarts: RestartWindow::default(),
            restart_record,
            stop_waiters: Vec::new(),
            start_after_stop: None,
            unmanaged: None,
        }
    }

    /// Supervises until shut down or until every handle is gone. A shutdown's answer is
    /// sent after everything the task owns has been dropped; the game process keeps
    /// running.
    pub async fn run(mut self) {
        let shutdown_reply = loop {
            tokio::select! {
                command = self.commands.recv() => match command {
                    Some(Command::Shutdown { reply }) => break Some(reply),
                    Some(command) => self.handle(command),
                    None => break None,
                },
                exit = process_exit(&mut self.process) => self.on_exit(exit),
                () = sleep_until(self.ready_deadline) => self.on_startup_timeout(),
                () = sleep_until(self.restart_at.map(|(at, _)| at)) => self.on_restart_due(),
                () = run_sequence(&mut self.sequence) => {}
            }
            self.publish_restarts();
        };
        if let Some(process) = &self.process {
            tracing::info!(
                server_id = self.server_id,
                id = %process.id(),
                "no longer supervised; the game process keeps running"
            );
        }
        drop(self);
        if let Some(reply) = shutdown_reply {
            let _ = reply.send(());
        }
    }

    fn handle(&mut self, command: Command) {
        match command {
            Command::Start { plan, reply } => {
                let result = self.start(plan);
                let _ = reply.send(result);
            }
            Command::Restart { plan, reply } => self.restart(plan, reply),
            Command::Stop { reply } => self.stop(reply),
            Command::Kill { reply } => self.kill(reply),
            Command::MarkReady { reply } => {
                let _ = reply.send(self.mark_ready());
            }
            Command::Adopt { adoption, reply } => {
                let result = self.adopt(adoption);
                let _ = reply.send(result);
            }
            Command::SetPolicy { policy } => {
                self.policy = policy;
                if !policy.enabled {
                    self.restart_at = None;
                }
            }
            // Handled by the loop.
            Command::Shutdown { reply } => {
                let _ = reply.send(());
            }
        }
    }

    /// A start the user asked for: refused while any process of this server lives.
    fn start(&mut self, plan: LaunchPlan) -> Result<(), SupervisorError> {
        if self.process.is_some() {
            return Err(if self.ending.is_some() {
                SupervisorError::Stopping
            } else {
                SupervisorError::AlreadyRunning
            });
        }
        if let Some(id) = self.unmanaged {
            if id.is_alive_and_same() {
                return Err(SupervisorError::Unmanaged(id));
            }
            self.unmanaged = None;
        }
        self.restart_at = None;
        self.restarts.clear();
        self.launch(plan, "started")
    }

    fn restart(&mut self, plan: LaunchPlan, reply: Reply<()>) {
        if self.process.is_none() {
            let _ = reply.send(self.start(plan));
            return;
        }
        if self.start_after_stop.is_some() {
            let _ = reply.send(Err(SupervisorError::Stopping));
            return;
        }
        self.start_after_stop = Some((plan, reply));
        if self.ending.is_none() {
            self.begin_stop("restart requested");
        }
    }

    fn stop(&mut self, reply: Reply<()>) {
        self.supersede_restart();
        if self.process.is_none() {
            self.restart_at = None;
            let _ = reply.send(Ok(()));
            return;
        }
        self.stop_waiters.push(reply);
        match self.ending {
            None => self.begin_stop("stop requested"),
            // The startup-timeout sequence already signals; from now on it is an ordered
            // stop, reported as stopped.
            Some(Ending::StartupTimeout(_)) => {
                self.ending = Some(Ending::Stop);
                self.set(ServerState::Stopping, "stop requested");
            }
            Some(Ending::Stop | Ending::Kill) => {}
        }
    }

    fn kill(&mut self, reply: Reply<()>) {
        self.supersede_restart();
        let Some(process) = &self.process else {
            self.restart_at = None;
            let _ = reply.send(Ok(()));
            return;
        };
        Target::of(process).send(Signal::KILL);
        self.sequence = None;
        self.ready_deadline = None;
        self.ending = Some(Ending::Kill);
        self.stop_waiters.push(reply);
        if *self.state.borrow() != ServerState::Stopping {
            self.set(ServerState::Stopping, "kill requested");
        }
    }

    fn mark_ready(&mut self) -> Result<(), SupervisorError> {
        if self.process.is_none()
            || self.ending.is_some()
            || *self.state.borrow() != ServerState::Starting
        {
            return Err(SupervisorError::NotStarting);
        }
        self.ready_deadline = None;
        self.set(ServerState::Running, "ready");
        Ok(())
    }

    /// Reattaches to a process recorded by an earlier host run; never launches.
    fn adopt(&mut self, adoption: super::Adoption) -> Result<ServerState, SupervisorError> {
        let super::Adoption {
            id,
            plan,
            desired_running,
            starting,
        } = adoption;
        if self.process.is_some() {
            return Err(SupervisorError::AlreadyRunning);
        }
        self.restart_at = None;
        self.restarts.clear();
        let (plan, unplanned) = match plan {
            Ok(plan) => (Some(plan), None),
            Err(why) => (None, Some(why)),
        };
        let wait_for_ready = plan.as_ref().is_some_and(|p| p.wait_for_ready);
        let startup_timeout = plan.as_ref().map(|p| p.startup_timeout);
        self.plan = plan;
        match attach(id) {
            Ok(_) if unplanned.is_some() => {
                let why = unplanned.as_deref().unwrap_or_default();
                // Alive, but without a plan the host can neither stop nor restart it as its
                // game wants: it stays the user's to end, and is never launched twice.
                self.unmanaged = Some(id);
                let message = format!(
                    "the game process ({id}) still runs, but the host cannot plan for it: \
                     {why}"
                );
                self.set(ServerState::Unmanaged, &message);
                self.event("unmanaged", &message);
                Ok(ServerState::Unmanaged)
            }
            Ok(process) => {
                self.process = Some(RunningProcess::Attached(process));
                self.unmanaged = None;
                let message = format!("reattached to the game process ({id})");
                let to = match startup_timeout {
                    Some(timeout) if starting && wait_for_ready => {
                        self.ready_deadline = Some(Instant::now() + timeout);
                        ServerState::Starting
                    }
                    _ => ServerState::Running,
                };
                self.set(to, &message);
                self.event("reattached", &message);
                self.observer.process_started(self.server_id, id, false);
                Ok(to)
            }
            Err(e @ (ProcessError::NotRunning(_) | ProcessError::PidReused { .. })) => {
                self.unmanaged = None;
                let mut message = format!("the game process was gone when the host started: {e}");
                if let Some(why) = &unplanned {
                    message.push_str(&format!("; the host cannot plan for it: {why}"));
                }
                let to = if desired_running {
                    ServerState::Crashed {
                        exit: None,
                        signal: None,
                    }
                } else {
                    ServerState::Stopped
                };
                self.set(to, &message);
                self.event("gone", &message);
                Ok(to)
            }
            Err(e) => {
                self.unmanaged = Some(id);
                let message = format!("cannot reattach to the game process: {e}");
                self.set(ServerState::Unmanaged, &message);
                self.event("unmanaged", &message);
                Ok(ServerState::Unmanaged)
            }
        }
    }

    /// Starts `plan`'s process. On failure the state is left as it was and an event says
    /// why.
    fn launch(&mut self, plan: LaunchPlan, detail: &str) -> Result<(), SupervisorError> {
        match spawn(plan.spec.clone()) {
            Ok(process) => {
                let id = process.id();
                self.process = Some(RunningProcess::Spawned(process));
                let to = if plan.wait_for_ready {
                    self.ready_deadline = Some(Instant::now() + plan.startup_timeout);
                    ServerState::Starting
                } else {
                    ServerState::Running
                };
                self.plan = Some(plan);
                self.set(to, &format!("{detail} ({id})"));
                self.observer.process_started(self.server_id, id, true);
                Ok(())
            }
            Err(e) => {
                let message = format!("cannot start the server: {e}");
                tracing::warn!(server_id = self.server_id, "{message}");
                self.plan = Some(plan);
                self.event("start_failed", &message);
                Err(SupervisorError::Launch(e))
            }
        }
    }

    fn begin_stop(&mut self, detail: &str) {
        let Some(process) = &self.process else {
            return;
        };
        let target = Target::of(process);
        self.ready_deadline = None;
        self.restart_at = None;
        self.ending = Some(Ending::Stop);
        let (steps, grace) = self.plan.as_ref().map_or_else(
            || (Vec::new(), crate::supervisor::process::DEFAULT_STOP_GRACE),
            |plan| (plan.stop.clone(), plan.grace),
        );
        self.start_sequence(target, steps, grace);
        self.set(ServerState::Stopping, detail);
    }

    fn start_sequence(
        &mut self,
        target: Target,
        steps: Vec<super::StopStep>,
        grace: std::time::Duration,
    ) {
        let sequence = OrderedStop {
            server_id: self.server_id,
            target,
            steps,
            grace,
            actions: Arc::clone(&self.actions),
            observer: Arc::clone(&self.observer),
        };
        self.sequence = Some(Box::pin(sequence.run()));
    }

    fn on_startup_timeout(&mut self) {
        self.ready_deadline = None;
        let (Some(process), None) = (&self.process, self.ending) else {
            return;
        };
        let target = Target::of(process);
        let (timeout, grace) = self.plan.as_ref().map_or(
            (
                std::time::Duration::ZERO,
                crate::supervisor::process::DEFAULT_STOP_GRACE,
            ),
            |plan| (plan.startup_timeout, plan.grace),
        );
        self.ending = Some(Ending::StartupTimeout(timeout));
        self.start_sequence(target, Vec::new(), grace);
        self.event(
            "startup_timeout",
            &format!(
                "did not become ready within {}; stopping it",
                human(timeout)
            ),
        );
    }

    fn on_exit(&mut self, exit: Exit) {
        self.process = None;
        self.observer.process_ended(self.server_id);
        self.sequence = None;
        self.ready_deadline = None;
        match self.ending.take() {
            Some(Ending::Stop) => {
                self.set(
                    ServerState::Stopped,
                    &format!("stopped (the process {exit})"),
                );
            }
            Some(Ending::Kill) => {
                self.set(
                    ServerState::Stopped,
                    &format!("killed (the process {exit})"),
                );
            }
            Some(Ending::StartupTimeout(timeout)) => {
                self.crashed(
                    exit,
                    format!("did not become ready within {}", human(timeout)),
                );
            }
            None => self.crashed(exit, format!("the process {exit} unexpectedly")),
        }
        for waiter in self.stop_waiters.drain(..) {
            let _ = waiter.send(Ok(()));
        }
        if let Some((plan, reply)) = self.start_after_stop.take() {
            self.restart_at = None;
            self.restarts.clear();
            let _ = reply.send(self.launch(plan, "restarted"));
        }
    }

    /// Records a crash and decides about the restart; when the limit is reached, the
    /// crash's detail says so, for the server's last error.
    fn crashed(&mut self, exit: Exit, cause: String) {
        let mut detail = cause;
        let mut gave_up = None;
        if self.policy.enabled && self.plan.is_some() {
            let now = Instant::now();
            match self.restarts.record(&self.policy, now) {
                Ok(number) => self.restart_at = Some((now + self.policy.backoff, number)),
                Err(limit) => {
                    let message = limit.to_string();
                    detail = format!("{detail}; {message}");
                    gave_up = Some(message);
                }
            }
        }
        self.set(ServerState::crashed(exit), &detail);
        self.event("crashed", &detail);
        if let Some(message) = gave_up {
            tracing::warn!(server_id = self.server_id, "{message}");
            self.event("gave_up", &message);
        }
    }

    fn on_restart_due(&mut self) {
        let Some((_, number)) = self.restart_at.take() else {
            return;
        };
        let Some(plan) = self.plan.clone() else {
            return;
        };
        if self.process.is_some() {
            return;
        }
        self.event(
            "restarting",
            &format!(
                "restarting after a crash (restart {number} of {} within {})",
                self.policy.max,
                human(self.policy.window)
            ),
        );
        // A failure has been recorded as an event; the server stays crashed.
        let _ = self.launch(plan, "restarted after a crash");
    }

    /// A pending restart command loses to a later stop or kill.
    fn supersede_restart(&mut self) {
        if let Some((_, reply)) = self.start_after_stop.take() {
            let _ = reply.send(Err(SupervisorError::Superseded));
        }
    }

    /// Publishes the restarts counted and whether one is pending, when they changed.
    fn publish_restarts(&self) {
        let record = RestartRecord {
            window: self.restarts.clone(),
            policy: self.policy,
            restarting: self.restart_at.is_some(),
        };
        self.restart_record.send_if_modified(|old| {
            let changed = *old != record;
            if changed {
                *old = record;
            }
            changed
        });
    }

    /// The one place the state changes: the watch channels and the observer together.
    fn set(&mut self, to: ServerState, detail: &str) {
        self.publish_restarts();
        let restarts: RestartStatus = self.restart_record.borrow().status(Instant::now());
        let from = self.state.send_replace(to);
        let process = self.process.as_ref().map(RunningProcess::id);
        tracing::info!(
            server_id = self.server_id,
            from = from.as_str(),
            to = to.as_str(),
            detail,
            "server state changed"
        );
        self.observer
            .state_changed(self.server_id, &from, &to, process, detail, restarts);
    }

    fn event(&self, kind: &str, message: &str) {
        self.observer.event(self.server_id, kind, message);
    }
}

/// The end of the process, or never when there is none.
async fn process_exit(process: &mut Option<RunningProcess>) -> Exit {
    match process {
        Some(process) => process.exited().await,
        None => std::future::pending().await,
    }
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Drives the stop sequence; it never completes while a process is there to end.
async fn run_sequence(sequence: &mut Option<Sequence>) {
    match sequence {
        Some(running) => {
            running.await;
            // Only reached if a sequence ever returns: never poll it again.
            *sequence = None;
        }
        None => std::future::pending().await,
    }
}
