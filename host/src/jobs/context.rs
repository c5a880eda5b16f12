//! What a running job gets from its worker: a log, a progress gauge and a cancellation token.
//!
//! Every line a job writes, from any step stream or from the executor itself, goes through
//! one channel into one appender task per job, which writes batches to the store. One writer
//! per job is what keeps the log's sequence gap-free and strictly increasing even when stdout
//! and stderr produce at once; the bounded channel slows a chatty process down instead of
//! buffering without limit. Once a batch is stored, its lines (and a progress change, as
//! the updated job) are published on the event bus. This module does not run processes (see
//! `step`).

use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::JobFailure;
use super::step::{self, StepCommand};
use crate::events::{Event, EventBus, EventKind};
use crate::store::{LogStream, Store, jobs};

/// Lines waiting for the appender before producers have to wait.
const CHANNEL_CAPACITY: usize = 1024;

/// Most lines written to the store in one call.
const MAX_BATCH: usize = 512;

/// What producers send to a job's appender.
#[derive(Debug)]
pub(super) enum Entry {
    /// One output line.
    Line(LogStream, String),
    /// The job's progress, 0–100.
    Progress(f64),
    /// Everything before this is written; the appender stops.
    Close,
}

/// A running job's handle to its log, progress and cancellation. Cheap to clone; lines sent
/// after the job finished are dropped.
#[derive(Debug, Clone)]
pub struct JobContext {
    /// The job this context belongs to.
    job_id: i64,
    /// Into the job's single appender task.
    entries: mpsc::Sender<Entry>,
    /// Cancelled when the user cancels the job or the host shuts down.
    cancel: CancellationToken,
}

impl JobContext {
    /// Starts the appender of job `job_id`; the caller owns the returned task and must send
    /// [`Entry::Close`] (see [`JobContext::close`]) and await it.
    pub(super) fn start(
        store: Store,
        bus: EventBus,
        job: &jobs::Job,
        cancel: CancellationToken,
    ) -> (JobContext, JoinHandle<()>) {
        let (entries, receiver) = mpsc::channel(CHANNEL_CAPACITY);
        let job_id = job.id;
        let target = Target {
            store,
            bus,
            job_id,
            server_id: job.server_id,
        };
        let appender = tokio::spawn(append(target, receiver));
        let ctx = JobContext {
            job_id,
            entries,
            cancel,
        };
        (ctx, appender)
    }

    /// The job's id.
    pub fn job_id(&self) -> i64 {
        self.job_id
    }

    /// Appends a line to the job's log.
    pub async fn log(&self, stream: LogStream, line: impl Into<String>) {
        self.send(Entry::Line(stream, line.into())).await;
    }

    /// Records the job's progress (clamped to 0–100; NaN is ignored).
    pub async fn set_progress(&self, percent: f64) {
        if !percent.is_nan() {
            self.send(Entry::Progress(percent.clamp(0.0, 100.0))).await;
        }
    }

    /// The job's cancellation token: cancelled when the user cancels the job or the host
    /// shuts down.
    pub fn cancelled(&self) -> CancellationToken {
        self.cancel.clone()
    }

    /// Runs one process as a step of this job; see [`StepCommand`]. Returns its exit code
    /// when that is one of the step's accepted codes (by default only 0); any other code is
    /// a [`JobFailure::Step`], and a cancellation terminates the process group and returns
    /// [`JobFailure::Cancelled`].
    pub async fn run_step(&self, command: StepCommand) -> Result<i32, JobFailure> {
        step::run(self, command).await
    }

    /// Asks the appender to stop after the lines already sent.
    pub(super) async fn close(&self) {
        self.send(Entry::Close).await;
    }

    pub(super) async fn send(&self, entry: Entry) {
        // Fails only once the appender has stopped: the job is over and the line is late.
        let _ = self.entries.send(entry).await;
    }
}

/// What the appender collected for one store call.
#[derive(Default)]
struct Batch {
    lines: Vec<(LogStream, String)>,
    progress: Option<f64>,
    closed: bool,
}

impl Batch {
    fn take(&mut self, entry: Entry) {
        match entry {
            Entry::Line(stream, line) => self.lines.push((stream, line)),
            Entry::Progress(percent) => self.progress = Some(percent),
            Entry::Close => self.closed = true,
        }
    }
}

/// Where the appender writes and publishes.
struct Target {
    store: Store,
    bus: EventBus,
    job_id: i64,
    server_id: Option<i64>,
}

/// What one store call wrote, to publish.
struct Written {
    lines: Vec<jobs::JobLogLine>,
    job: Option<jobs::Job>,
}

/// The appender: writes whatever has arrived as one batch, publishes it, then waits for
/// more.
async fn append(target: Target, mut receiver: mpsc::Receiver<Entry>) {
    let Target {
        store,
        bus,
        job_id,
        server_id,
    } = target;
    let mut last_progress: Option<f64> = None;
    loop {
        let Some(first) = receiver.recv().await else {
            break;
        };
        let mut batch = Batch::default();
        batch.take(first);
        while !batch.closed && batch.lines.len() < MAX_BATCH {
            match receiver.try_recv() {
                Ok(entry) => batch.take(entry),
                Err(_) => break,
            }
        }
        let Batch {
            lines,
            progress,
            closed,
        } = batch;
        let progress = progress.filter(|p| Some(*p) != last_progress);
        if !lines.is_empty() || progress.is_some() {
            let count = lines.len();
            let written = store
                .call(move |conn| {
                    let mut written = Written {
                        lines: Vec::new(),
                        job: None,
                    };
                    if !lines.is_empty() {
                        let last = jobs::append_logs(conn, job_id, &lines)?;
                        let count = u32::try_from(lines.len()).unwrap_or(u32::MAX);
                        written.lines = jobs::logs(conn, job_id, last - i64::from(count), count)?;
                    }
                    if let Some(percent) = progress
                        && jobs::set_progress(conn, job_id, percent)?
                    {
                        written.job = Some(jobs::get(conn, job_id)?);
                    }
                    Ok(written)
                })
                .await;
            match written {
                Ok(written) => {
                    last_progress = progress.or(last_progress);
                    if !written.lines.is_empty() {
                        bus.publish(Event::new(
                            server_id.unwrap_or(0),
                            EventKind::JobLog {
                                job_id,
                                lines: written.lines,
                            },
                        ));
                    }
                    if let Some(job) = written.job {
                        bus.publish(Event::new(server_id.unwrap_or(0), EventKind::Job { job }));
                    }
                }
                Err(e) => {
                    tracing::warn!(job_id, lines = count, "could not write the job log: {e}");
                }
            }
        }
        if closed {
            break;
        }
    }
}
