//! The durable job queue's workers and the execution of a job's steps.
//!
//! The store decides which job may run and records what happened ([`crate::store::jobs`]);
//! this module runs them. A [`JobQueue`] owns a few worker tasks that claim jobs, hand each to
//! a [`JobExecutor`] with a [`JobContext`] (log, progress, cancellation, running processes)
//! and record the outcome. It knows no game: what a job *does* is the executor's business,
//! and the only installer it knows is SteamCMD ([`steamcmd`]), which is generic.
//!
//! Layout: `queue` holds the workers, waking and cancelling; `context` the job's log
//! pipeline and progress; `step` one process run as a step; [`steamcmd`] locating SteamCMD,
//! its command line and its progress lines.

mod context;
mod queue;
pub mod steamcmd;
mod step;

#[cfg(test)]
mod tests;

use std::future::Future;
use std::pin::Pin;

pub use context::JobContext;
pub use queue::{DEFAULT_WORKERS, JobQueue, JobQueueHandle, SAFETY_SWEEP};
pub use step::{MAX_LINE_BYTES, StepCommand};

use crate::store::{Job, JobOutcome, StoreError};

/// Errors of the job layer itself (not of a job: those become its outcome).
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// The database failed or refused (a job that does not exist, a finished job, …).
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// How a job succeeded.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StepSuccess {
    /// The last step's exit code, if it was a process.
    pub exit_code: Option<i32>,
}

/// Why a job did not succeed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum JobFailure {
    /// A step's process ended with an exit code it must not have; the job fails with it.
    #[error("{message}")]
    Step {
        /// The process's exit code (128 + signal number if a signal ended it).
        exit_code: i32,
        /// What happened, for the user.
        message: String,
    },
    /// Anything else went wrong; the job fails with exit code 1 and this message.
    #[error("{0}")]
    Error(String),
    /// The job was cancelled; a running step was terminated.
    #[error("cancelled")]
    Cancelled {
        /// The terminated step's exit code, if a step was running.
        exit_code: Option<i32>,
    },
}

impl JobFailure {
    /// An unexpected error with this message.
    pub fn error(message: impl Into<String>) -> Self {
        JobFailure::Error(message.into())
    }

    /// The stored outcome. A cancellation the user did not ask for (the host shutting down)
    /// is a failure, not a cancellation.
    fn into_outcome(self, cancelled_by_user: bool) -> JobOutcome {
        match self {
            JobFailure::Step { exit_code, message } => JobOutcome::Failed {
                exit_code: Some(exit_code),
                error: message,
            },
            JobFailure::Error(error) => JobOutcome::Failed {
                exit_code: Some(1),
                error,
            },
            JobFailure::Cancelled { exit_code } if cancelled_by_user => {
                JobOutcome::Cancelled { exit_code }
            }
            JobFailure::Cancelled { exit_code } => JobOutcome::Failed {
                exit_code: exit_code.or(Some(1)),
                error: "the host shut down while the job was running".into(),
            },
        }
    }
}

/// The future an executor returns for one job.
pub type JobFuture = Pin<Box<dyn Future<Output = Result<StepSuccess, JobFailure>> + Send>>;

/// Does the work of a job: the lead wires one that renders, installs, starts and stops
/// servers; tests use fakes.
///
/// The returned future runs in its own task, so a panic in it fails the job (exit code 1)
/// and never harms the worker. It should watch [`JobContext::cancelled`] between steps;
/// [`JobContext::run_step`] does so while a process runs.
pub trait JobExecutor: Send + Sync + 'static {
    /// Runs `job` to the end.
    fn run(&self, job: Job, ctx: JobContext) -> JobFuture;
}
