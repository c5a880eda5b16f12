//! Game server processes: start one, notice when it ends, stop it, and find it again after
//! a host restart.
//!
//! A game process runs in its own process group with stdin from `/dev/null` and stdout and
//! stderr appended to its console log (see [`console_log_path`]); no pipe connects it to the
//! host, so it keeps running when the host exits. The host records its [`ProcessId`] (pid
//! plus start time) and, on boot, [`attach`]es to it again instead of starting a second copy.
//!
//! The end of a process is noticed through a pidfd registered with tokio's reactor: it
//! turns readable the moment the process ends, so nothing polls. A child this host started
//! is then reaped for its exit status; a reattached process is not our child, so its status
//! cannot be read and is reported as [`Exit::Unknown`]. When the group leader ends, any
//! member it leaves behind is killed, so a stopped or crashed server holds no ports.
//!
//! This layer knows no game and no database: deciding when to start, stop or restart a
//! server, and recording what happened, belong to the supervisor above it. Linux only
//! (pidfds need kernel 5.3 or newer); [`spawn`] and [`attach`] must run inside a tokio
//! runtime.

use std::fmt;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;

use rustix::io::Errno;
use rustix::process::{Pid, PidfdFlags, Signal, pidfd_open};

use super::console;
pub use super::console::{KEPT_CONSOLE_LOGS, console_log_path, rotated_log_path};
pub use super::error::ProcessError;
pub use super::process_id::ProcessId;
use super::process_id::{is_ended, read_stat};
use super::signals::signal_group;
pub use super::signals::{interrupt_group, kill_group, terminate_group};
pub use super::stop::{DEFAULT_STOP_GRACE, Ended, StopOutcome};
use super::stop::{Stoppable, stop};
use super::watch::Watch;

/// The `PATH` a game process gets unless its spec sets one.
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// What to run, where, and where its console goes. The adapter's launch spec, resolved by
/// the supervisor to absolute paths.
#[derive(Debug, Clone)]
pub struct ProcessSpec {
    /// The executable: an absolute path, a path relative to `working_dir`, or a bare name
    /// looked up in the child's `PATH`.
    pub program: PathBuf,
    /// Arguments, passed as they are.
    pub args: Vec<String>,
    /// The directory the process runs in; also its `HOME`.
    pub working_dir: PathBuf,
    /// Environment on top of the minimal one (`PATH`, `HOME`, `LANG`); may override those.
    pub env: Vec<(String, String)>,
    /// Where `console.log` and its rotated predecessors live.
    pub console_dir: PathBuf,
}

/// How a process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Exit {
    /// It exited with this code.
    Code(i32),
    /// A signal ended it.
    Signal(i32),
    /// It ended, but it was not our child, so its status cannot be known.
    Unknown,
}

impl From<ExitStatus> for Exit {
    fn from(status: ExitStatus) -> Self {
        match (status.code(), status.signal()) {
            (Some(code), _) => Exit::Code(code),
            (None, Some(signal)) => Exit::Signal(signal),
            (None, None) => Exit::Unknown,
        }
    }
}

impl fmt::Display for Exit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Exit::Code(code) => write!(f, "exited with code {code}"),
            Exit::Signal(signal) => write!(f, "killed by signal {signal}"),
            Exit::Unknown => f.write_str("ended (status unknown)"),
        }
    }
}

/// A game process this host started. Dropping it leaves the process running (it must
/// survive a host restart); while the host runs, its owner should keep awaiting
/// [`GameProcess::exited`] so the process is reaped when it ends.
#[derive(Debug)]
pub struct GameProcess {
    watch: Watch,
    /// Kept to read the exit status and reap the process.
    child: Child,
    /// The exit once seen, so `exited` can be asked again.
    exit: Option<Exit>,
}

/// A game process started by an earlier run of the host, found again by pid and start time.
#[derive(Debug)]
pub struct AttachedProcess {
    watch: Watch,
    /// Whether the end has been seen, so `exited` can be asked again.
    ended: bool,
}

/// Either kind of running game process, for owners that treat them alike.
#[derive(Debug)]
pub enum RunningProcess {
    /// Started by this host run.
    Spawned(GameProcess),
    /// Found again after a host restart.
    Attached(AttachedProcess),
}

/// Starts `spec` in its own process group with its console going to
/// `<console_dir>/console.log` (the previous log rotated first) and a minimal environment.
/// On error nothing is left running.
pub fn spawn(spec: ProcessSpec) -> Result<GameProcess, ProcessError> {
    if tokio::runtime::Handle::try_current().is_err() {
        return Err(ProcessError::NoRuntime);
    }
    check_working_dir(&spec.working_dir)?;
    let program = resolve_program(&spec.program, &spec.working_dir);
    check_program(&program)?;
    let stdout =
        console::open_fresh(&spec.console_dir).map_err(|source| ProcessError::ConsoleLog {
            path: spec.console_dir.clone(),
            source,
        })?;
    let stderr = stdout
        .try_clone()
        .map_err(|source| ProcessError::ConsoleLog {
            path: spec.console_dir.clone(),
            source,
        })?;

    let mut command = Command::new(&program);
    command
        .args(&spec.args)
        .current_dir(&spec.working_dir)
        .env_clear()
        .env("PATH", DEFAULT_PATH)
        .env("HOME", &spec.working_dir)
        .env("LANG", "C.UTF-8")
        .envs(spec.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .process_group(0);
    let child = command.spawn().map_err(|source| match source.kind() {
        io::ErrorKind::NotFound => ProcessError::ProgramNotFound(program.clone()),
        io::ErrorKind::PermissionDenied => ProcessError::NotExecutable(program.clone()),
        _ => ProcessError::Spawn {
            program: program.clone(),
            source,
        },
    })?;
    // Drop the command and with it the host's copies of the console file.
    drop(command);
    let process = watch_child(child, &program)?;
    tracing::info!(program = %program.display(), id = %process.id(), "game process started");
    Ok(process)
}

/// Finds a process recorded by an earlier host run: refuses if it is gone or its pid now
/// belongs to another process, otherwise watches it through a pidfd.
pub fn attach(id: ProcessId) -> Result<AttachedProcess, ProcessError> {
    if tokio::runtime::Handle::try_current().is_err() {
        return Err(ProcessError::NoRuntime);
    }
    // A recorded pid is input: check it before `Pid::from_raw`, which must not see a
    // negative number.
    let pid = Some(id.pid)
        .filter(|pid| *pid > 1)
        .and_then(Pid::from_raw)
        .ok_or(ProcessError::NotRunning(id))?;
    let pidfd = match pidfd_open(pid, PidfdFlags::NONBLOCK) {
        Ok(fd) => fd,
        Err(Errno::SRCH) => return Err(ProcessError::NotRunning(id)),
        Err(errno) => {
            return Err(ProcessError::Watch {
                id,
                source: errno.into(),
            });
        }
    };
    // Checked after opening the pidfd: if the pid still carries our start time now, it did
    // when the pidfd was opened, so the pidfd is for our process and not a successor.
    let stat = read_stat(id.pid).ok_or(ProcessError::NotRunning(id))?;
    if stat.start_time != id.start_time {
        return Err(ProcessError::PidReused {
            pid: id.pid,
            recorded: id.start_time,
            found: stat.start_time,
        });
    }
    if is_ended(stat.state) {
        return Err(ProcessError::NotRunning(id));
    }
    // Only a group the process leads is ours to signal; otherwise signal it alone.
    let group = (stat.pgrp == id.pid).then_some(id.pid);
    let watch = Watch::new(id, group, pidfd)?;
    tracing::info!(id = %id, group = ?group, "reattached to game process");
    Ok(AttachedProcess {
        watch,
        ended: false,
    })
}

impl GameProcess {
    /// The pid and start time to record.
    pub fn id(&self) -> ProcessId {
        self.watch.id
    }

    /// The process group: the same number as the pid.
    pub fn pgid(&self) -> i32 {
        self.watch.id.pid
    }

    /// Completes when the process ends, reaps it and returns how it ended. Members of its
    /// group left behind are killed. Cancel-safe; once ended, returns the same exit again.
    pub async fn exited(&mut self) -> Exit {
        if let Some(exit) = self.exit {
            return exit;
        }
        loop {
            let mut ready = self.watch.readable().await;
            // Before reaping: while the leader is an unreaped zombie its pid, and so the
            // group id, cannot be reused.
            self.watch.kill_stragglers();
            match self.child.try_wait() {
                Ok(Some(status)) => {
                    let exit = Exit::from(status);
                    tracing::info!(id = %self.watch.id, %exit, "game process ended");
                    self.exit = Some(exit);
                    return exit;
                }
                Ok(None) => ready.clear_ready(),
                Err(e) => {
                    tracing::warn!(id = %self.watch.id, "cannot reap game process: {e}");
                    self.exit = Some(Exit::Unknown);
                    return Exit::Unknown;
                }
            }
        }
    }

    /// Stops the process: SIGTERM to its group, up to `grace` to end, then SIGKILL.
    pub async fn stop(&mut self, grace: Duration) -> StopOutcome {
        let already_ended = self.exit.is_some();
        stop(self, already_ended, grace).await
    }
}

impl AttachedProcess {
    /// The pid and start time it was found by.
    pub fn id(&self) -> ProcessId {
        self.watch.id
    }

    /// The process group it leads; none if it does not lead one (then only the process
    /// itself is signalled).
    pub fn pgid(&self) -> Option<i32> {
        self.watch.group
    }

    /// Completes when the process ends. It is not our child, so the status is
    /// [`Exit::Unknown`]. Members of its group left behind are killed. Cancel-safe.
    pub async fn exited(&mut self) -> Exit {
        if !self.ended {
            // The pidfd stays readable once the process has ended, so no need to clear.
            let _ready = self.watch.readable().await;
            self.watch.kill_stragglers();
            self.ended = true;
            tracing::info!(id = %self.watch.id, "reattached game process ended");
        }
        Exit::Unknown
    }

    /// Stops the process: SIGTERM to its group, up to `grace` to end, then SIGKILL.
    pub async fn stop(&mut self, grace: Duration) -> StopOutcome {
        let already_ended = self.ended;
        stop(self, already_ended, grace).await
    }
}

impl RunningProcess {
    /// The pid and start time to record.
    pub fn id(&self) -> ProcessId {
        match self {
            RunningProcess::Spawned(p) => p.id(),
            RunningProcess::Attached(p) => p.id(),
        }
    }

    /// Completes when the process ends; see [`GameProcess::exited`] and
    /// [`AttachedProcess::exited`].
    pub async fn exited(&mut self) -> Exit {
        match self {
            RunningProcess::Spawned(p) => p.exited().await,
            RunningProcess::Attached(p) => p.exited().await,
        }
    }

    /// Stops the process; see [`GameProcess::stop`].
    pub async fn stop(&mut self, grace: Duration) -> StopOutcome {
        match self {
            RunningProcess::Spawned(p) => p.stop(grace).await,
            RunningProcess::Attached(p) => p.stop(grace).await,
        }
    }
}

impl Stoppable for GameProcess {
    fn watch(&self) -> &Watch {
        &self.watch
    }
    async fn exited(&mut self) -> Exit {
        GameProcess::exited(self).await
    }
}

impl Stoppable for AttachedProcess {
    fn watch(&self) -> &Watch {
        &self.watch
    }
    async fn exited(&mut self) -> Exit {
        AttachedProcess::exited(self).await
    }
}

/// Registers a freshly spawned child for exit notification; on failure kills and reaps it.
fn watch_child(mut child: Child, program: &Path) -> Result<GameProcess, ProcessError> {
    let watched = i32::try_from(child.id())
        .ok()
        .and_then(ProcessId::of)
        .ok_or_else(|| io::Error::other("the new process is missing from /proc"))
        .and_then(|id| {
            let pid = Some(id.pid)
                .filter(|pid| *pid > 0)
                .and_then(Pid::from_raw)
                .ok_or_else(|| io::Error::other("invalid pid"))?;
            let pidfd = pidfd_open(pid, PidfdFlags::NONBLOCK)?;
            Ok((id, pidfd))
        });
    let result = match watched {
        Ok((id, pidfd)) => Watch::new(id, Some(id.pid), pidfd),
        Err(source) => Err(ProcessError::Spawn {
            program: program.to_path_buf(),
            source,
        }),
    };
    match result {
        Ok(watch) => Ok(GameProcess {
            watch,
            child,
            exit: None,
        }),
        Err(e) => {
            if let Ok(pgid) = i32::try_from(child.id()) {
                let _ = signal_group(pgid, Signal::KILL);
            }
            let _ = child.kill();
            // SIGKILLed just now: this wait is short.
            let _ = child.wait();
            Err(e)
        }
    }
}

fn check_working_dir(dir: &Path) -> Result<(), ProcessError> {
    match std::fs::metadata(dir) {
        Ok(meta) if meta.is_dir() => Ok(()),
        Ok(_) => Err(ProcessError::WorkingDir {
            path: dir.to_path_buf(),
            source: io::Error::new(io::ErrorKind::NotADirectory, "not a directory"),
        }),
        Err(source) => Err(ProcessError::WorkingDir {
            path: dir.to_path_buf(),
            source,
        }),
    }
}

/// A relative path with a directory part is taken relative to the working directory; a
/// bare name is left for the `PATH` search.
fn resolve_program(program: &Path, working_dir: &Path) -> PathBuf {
    if program.is_relative() && program.components().count() > 1 {
        working_dir.join(program)
    } else {
        program.to_path_buf()
    }
}

/// Checks a program given as a path before starting it, for a clearer error than exec's.
fn check_program(program: &Path) -> Result<(), ProcessError> {
    if program.components().count() <= 1 && program.is_relative() {
        return Ok(());
    }
    match std::fs::metadata(program) {
        Ok(meta) if meta.is_file() && meta.permissions().mode() & 0o111 != 0 => Ok(()),
        Ok(_) => Err(ProcessError::NotExecutable(program.to_path_buf())),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            Err(ProcessError::ProgramNotFound(program.to_path_buf()))
        }
        Err(source) => Err(ProcessError::Spawn {
            program: program.to_path_buf(),
            source,
        }),
    }
}
