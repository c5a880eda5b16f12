//! One process run as a step of a job.
//!
//! The process leads its own process group, so cancelling terminates it and whatever it
//! forked (SIGTERM, a short grace, then SIGKILL). Its stdout and stderr are read at the same
//! time, line by line (lossy UTF-8, overlong lines cut), masked for secrets, optionally parsed
//! for progress, and funnelled into the job's single log appender. If the step's future is
//! dropped midway, a guard kills the group. This module never touches the database.

use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::sync::Arc;
use std::time::Duration;

use rustix::io::Errno;
use rustix::process::{Pid, Signal, getpgrp, kill_process_group};
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::{Child, Command};
use tokio::task::JoinSet;

use super::JobFailure;
use super::context::{Entry, JobContext};
use crate::secrets::Masker;
use crate::store::LogStream;

/// Longer output lines are cut to this many bytes (and marked with `…`).
pub const MAX_LINE_BYTES: usize = 4096;

/// How long a cancelled step has between SIGTERM and SIGKILL.
const TERMINATE_GRACE: Duration = Duration::from_secs(5);

/// How long the output of an exited step may take to reach end-of-file before the rest of
/// its process group (which still holds the pipes) is killed.
const DRAIN_GRACE: Duration = Duration::from_secs(2);

/// A process to run as a step: program, arguments (a list, never a string split on spaces),
/// working directory, environment, secrets to keep out of the log and a progress parser.
#[derive(Debug, Clone)]
pub struct StepCommand {
    /// The program to run (a path, or a name looked up on `PATH`).
    pub program: PathBuf,
    /// Its arguments.
    pub args: Vec<String>,
    /// Where it runs; the host's working directory if `None`.
    pub working_dir: Option<PathBuf>,
    /// Variables added to the host's environment.
    pub env: Vec<(String, String)>,
    /// Strings replaced with [`crate::secrets::MASK`] in the logged command line and in every output line.
    pub secrets: Vec<String>,
    /// Turns an output line into a progress percentage for the job.
    pub progress: Option<fn(&str) -> Option<f64>>,
    /// Exit codes that count as success (by default only 0).
    pub success_codes: Vec<i32>,
}

impl StepCommand {
    /// `program` with no arguments, run in the host's working directory.
    pub fn new(program: impl Into<PathBuf>) -> Self {
        StepCommand {
            program: program.into(),
            args: Vec::new(),
            working_dir: None,
            env: Vec::new(),
            secrets: Vec::new(),
            progress: None,
            success_codes: vec![0],
        }
    }

    /// Adds arguments.
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Sets the working directory.
    pub fn working_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.working_dir = Some(dir.into());
        self
    }

    /// Adds an environment variable.
    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Keeps `secret` out of the job log. Empty strings are ignored.
    pub fn secret(mut self, secret: impl Into<String>) -> Self {
        let secret = secret.into();
        if !secret.is_empty() {
            self.secrets.push(secret);
        }
        self
    }

    /// Parses each output line for progress.
    pub fn progress(mut self, parser: fn(&str) -> Option<f64>) -> Self {
        self.progress = Some(parser);
        self
    }

    /// The command line as the log shows it: arguments with spaces quoted, secrets masked.
    pub fn display(&self) -> String {
        // Masked before quoting, so that a secret with spaces shows as one plain mask.
        let masker = Masker::new(&self.secrets);
        let mut parts = vec![quote(&masker.text(&self.program.to_string_lossy()))];
        parts.extend(self.args.iter().map(|arg| quote(&masker.text(arg))));
        masker.text(&parts.join(" "))
    }
}

fn quote(arg: &str) -> String {
    if !arg.is_empty() && !arg.contains(|c: char| c.is_whitespace() || c == '\'') {
        arg.to_owned()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}

/// Runs `command` for the job behind `ctx`; see [`JobContext::run_step`].
pub(super) async fn run(ctx: &JobContext, command: StepCommand) -> Result<i32, JobFailure> {
    let name = command.program.to_string_lossy().into_owned();
    ctx.log(LogStream::System, format!("$ {}", command.display()))
        .await;
    let cancel = ctx.cancelled();
    if cancel.is_cancelled() {
        return Err(JobFailure::Cancelled { exit_code: None });
    }

    let mut process = Command::new(&command.program);
    process
        .args(&command.args)
        .envs(command.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    if let Some(dir) = &command.working_dir {
        process.current_dir(dir);
    }
    let mut child = process
        .spawn()
        .map_err(|e| JobFailure::error(format!("could not start {name}: {e}")))?;
    // The leader's pid is its group's id; `None` only if it was already reaped, which
    // cannot happen before `wait`.
    let guard = GroupGuard {
        pgid: child.id().and_then(|id| i32::try_from(id).ok()),
    };

    let masker = Arc::new(Masker::new(&command.secrets));
    let mut pumps = JoinSet::new();
    if let Some(out) = child.stdout.take() {
        pumps.spawn(pump(
            out,
            LogStream::Stdout,
            ctx.clone(),
            masker.clone(),
            command.progress,
        ));
    }
    if let Some(err) = child.stderr.take() {
        pumps.spawn(pump(
            err,
            LogStream::Stderr,
            ctx.clone(),
            masker,
            command.progress,
        ));
    }

    let (status, cancelled) = tokio::select! {
        status = child.wait() => (status, false),
        () = cancel.cancelled() => (terminate(&mut child, &guard).await, true),
    };
    // The leader is reaped. Its output reaches end-of-file once every process that holds
    // the pipes is gone; leftovers of the group are killed after a short grace.
    if tokio::time::timeout(DRAIN_GRACE, drain(&mut pumps))
        .await
        .is_err()
    {
        guard.signal(Signal::KILL);
        if tokio::time::timeout(DRAIN_GRACE, drain(&mut pumps))
            .await
            .is_err()
        {
            // Something outside the group holds the pipes: stop reading.
            pumps.shutdown().await;
        }
    }
    guard.disarm();

    let status = status.map_err(|e| JobFailure::error(format!("waiting for {name}: {e}")))?;
    let code = exit_code(status);
    ctx.log(LogStream::System, describe(&name, status, code))
        .await;
    if cancelled {
        Err(JobFailure::Cancelled {
            exit_code: Some(code),
        })
    } else if command.success_codes.contains(&code) {
        Ok(code)
    } else {
        Err(JobFailure::Step {
            exit_code: code,
            message: describe(&name, status, code),
        })
    }
}

/// The exit code, or 128 + the signal number for a process a signal ended (as shells do).
fn exit_code(status: ExitStatus) -> i32 {
    status
        .code()
        .or_else(|| status.signal().map(|signal| 128 + signal))
        .unwrap_or(1)
}

fn describe(name: &str, status: ExitStatus, code: i32) -> String {
    match status.signal() {
        Some(signal) => format!("{name} was ended by signal {signal}"),
        None => format!("{name} exited with code {code}"),
    }
}

/// SIGTERM to the group, a grace period, then SIGKILL; returns the leader's exit status.
async fn terminate(child: &mut Child, guard: &GroupGuard) -> std::io::Result<ExitStatus> {
    guard.signal(Signal::TERM);
    match tokio::time::timeout(TERMINATE_GRACE, child.wait()).await {
        Ok(status) => status,
        Err(_) => {
            guard.signal(Signal::KILL);
            child.wait().await
        }
    }
}

async fn drain(pumps: &mut JoinSet<()>) {
    while pumps.join_next().await.is_some() {}
}

/// Kills the step's process group if the step is abandoned before it finished (its future
/// dropped, e.g. on a forced shutdown).
struct GroupGuard {
    /// The group to kill; `None` once disarmed.
    pgid: Option<i32>,
}

impl GroupGuard {
    /// Sends `signal` to the group; a group that is gone is fine, and never the host's own.
    fn signal(&self, signal: Signal) {
        let Some(pgid) = self.pgid else { return };
        let Some(group) = Some(pgid).filter(|p| *p > 1).and_then(Pid::from_raw) else {
            return;
        };
        if group == getpgrp() {
            return;
        }
        match kill_process_group(group, signal) {
            Ok(()) | Err(Errno::SRCH) => {}
            Err(e) => tracing::warn!(
                pgid,
                ?signal,
                "could not signal a step's process group: {e}"
            ),
        }
    }

    /// The step is over: nothing to kill on drop.
    fn disarm(mut self) {
        self.pgid = None;
    }
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        self.signal(Signal::KILL);
    }
}

/// Reads one stream line by line into the job's log.
async fn pump(
    stream: impl AsyncRead + Unpin,
    which: LogStream,
    ctx: JobContext,
    masker: Arc<Masker>,
    progress: Option<fn(&str) -> Option<f64>>,
) {
    let mut reader = BufReader::new(stream);
    let mut buf = Vec::new();
    loop {
        match read_line_capped(&mut reader, &mut buf, MAX_LINE_BYTES).await {
            Ok(Some(cut)) => {
                let mut line = String::from_utf8_lossy(&buf).into_owned();
                if cut {
                    line.push('…');
                }
                let percent = progress.and_then(|parse| parse(&line));
                ctx.send(Entry::Line(which, masker.text(&line))).await;
                if let Some(percent) = percent {
                    ctx.set_progress(percent).await;
                }
            }
            Ok(None) => break,
            Err(e) => {
                tracing::warn!(job_id = ctx.job_id(), "reading a step's {which}: {e}");
                break;
            }
        }
    }
}

/// Reads one line into `buf` without its line ending, keeping at most `cap` bytes (the rest
/// of an overlong line is skipped). Returns whether it was cut, or `None` at end-of-file.
pub(super) async fn read_line_capped<R: AsyncBufRead + Unpin>(
    reader: &mut R,
    buf: &mut Vec<u8>,
    cap: usize,
) -> std::io::Result<Option<bool>> {
    buf.clear();
    let mut cut = false;
    let mut read_any = false;
    loop {
        let available = reader.fill_buf().await?;
        if available.is_empty() {
            break;
        }
        read_any = true;
        let (chunk, used, ended) = match available.iter().position(|b| *b == b'\n') {
            Some(i) => (&available[..i], i + 1, true),
            None => (available, available.len(), false),
        };
        let room = cap.saturating_sub(buf.len());
        if chunk.len() > room {
            buf.extend_from_slice(&chunk[..room]);
            cut = true;
        } else {
            buf.extend_from_slice(chunk);
        }
        reader.consume(used);
        if ended {
            break;
        }
    }
    if !read_any {
        return Ok(None);
    }
    if buf.last() == Some(&b'\r') {
        buf.pop();
    }
    Ok(Some(cut))
}
