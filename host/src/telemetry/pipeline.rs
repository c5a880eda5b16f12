//! A running server's log pipeline: follow every log, parse, store, publish, report ready.
//!
//! One task per running server. It wakes when the shared [`DirWatcher`] reports a change in
//! a log's directory (or, for a directory that cannot be watched, on a short poll; and on a
//! slow safety-net tick otherwise), then on a blocking thread reads what is new from each
//! [`Tail`] and feeds it to the adapter's parser in one batch per log. The records are
//! stored with each log's new read position in one transaction (shared with other servers'
//! lines of the same few milliseconds: [`Store::append_logs`]), so a restarted host resumes
//! after the last stored line, never before and never after. Stored lines are published on
//! the [`EventBus`]; `server-ready` and player join and leave events also go to the event
//! hook (ready detection, player tracking), and figures the game reports are stored as
//! metrics.
//!
//! Lines the parser holds back (the start of what may be a multi-line record) are not yet
//! stored, so the stored position stays before them: after a host restart they are read
//! again rather than lost. They are released by a flush when the log has been quiet for
//! [`QUIET`], when a log switches files, and when the process ends.
//!
//! The pipeline neither starts nor stops processes and knows no game: it is told where the
//! logs are and handed the adapter's parser.

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::{Notify, oneshot};
use tokio::task::JoinHandle;

use super::tail::{FileId, Position, Tail, Target};
use super::watch::{DirWatcher, Subscription};
use crate::adapters::LogParser;
use crate::adapters::model::{GameEvent, ParsedEntry};
use crate::events::{Event, EventBus, EventKind};
use crate::store::Store;
use crate::store::logs::{LogCursor, NewLogLine};
use crate::store::metrics::{self, Sample};

/// A log quiet this long has its held-back lines released.
pub const QUIET: Duration = Duration::from_millis(150);
/// Poll interval for a log whose directory cannot be watched (yet).
pub const POLL_UNWATCHED: Duration = Duration::from_secs(1);
/// Safety-net re-read for watched logs, in case a notification was missed.
pub const POLL_WATCHED: Duration = Duration::from_secs(10);

/// Called with the server id for each event that others act on at once: `server-ready`
/// (ready detection) and players joining or leaving (player tracking).
pub type EventHook = Arc<dyn Fn(i64, &GameEvent) + Send + Sync>;

/// One log to follow.
#[derive(Debug, Clone)]
pub struct Source {
    /// The adapter's name for it, passed to the parser.
    pub name: String,
    /// The file.
    pub target: Target,
}

/// What a pipeline follows, and from where.
#[derive(Debug, Clone)]
pub struct PipelineSpec {
    /// The server.
    pub server_id: i64,
    /// Its logs.
    pub sources: Vec<Source>,
    /// Stored read positions, by source name.
    pub resume: HashMap<String, Position>,
    /// Files last written before this belong to an earlier run and are not replayed (set
    /// for a process that was just launched; none for one reattached after a host restart,
    /// whose logs resume from the stored positions).
    pub not_before: Option<SystemTime>,
}

/// How a pipeline ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finish {
    /// The process has ended: read everything, release held-back lines, stop.
    ProcessEnded,
    /// The host is going away and the game keeps running: stop now; the next host run
    /// resumes from the stored positions.
    Detach,
}

/// Handle to a running pipeline. Dropping it detaches.
pub struct LogPipeline {
    stop: Option<oneshot::Sender<Finish>>,
    task: JoinHandle<()>,
}

impl std::fmt::Debug for LogPipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogPipeline").finish_non_exhaustive()
    }
}

impl LogPipeline {
    /// Starts following `spec`'s logs. `parser` is the adapter's parser for this server
    /// (none: lines are stored as they are). Must be called inside a tokio runtime.
    pub fn spawn(
        spec: PipelineSpec,
        parser: Option<LogParser>,
        store: Store,
        bus: EventBus,
        watcher: DirWatcher,
        on_event: EventHook,
    ) -> Self {
        let wake = Arc::new(Notify::new());
        let mut resume = spec.resume;
        let reader = Reader {
            server_id: spec.server_id,
            sources: spec
                .sources
                .into_iter()
                .map(|source| SourceReader {
                    tail: Tail::new(source.target, resume.remove(&source.name), spec.not_before),
                    name: source.name,
                    ends: VecDeque::new(),
                    file: None,
                    subscription: None,
                    held_since: None,
                    failing: false,
                })
                .collect(),
            parser,
            watcher,
            wake: Arc::clone(&wake),
        };
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(run(reader, wake, store, bus, on_event, stopped));
        LogPipeline {
            stop: Some(stop),
            task,
        }
    }

    /// Ends the pipeline `how` and waits until it has stored what it read.
    pub async fn finish(mut self, how: Finish) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(how);
        }
        let task = std::mem::replace(&mut self.task, tokio::spawn(async {}));
        if let Err(e) = task.await {
            tracing::error!("a log pipeline failed: {e}");
        }
    }
}

async fn run(
    mut reader: Reader,
    wake: Arc<Notify>,
    store: Store,
    bus: EventBus,
    on_event: EventHook,
    mut stop: oneshot::Receiver<Finish>,
) {
    let server_id = reader.server_id;
    let mut finishing = false;
    loop {
        // The step reads files and feeds the adapter's parser: both block.
        let (back, step) = match crate::adapters::blocking(move || {
            let step = reader.step(finishing);
            (reader, step)
        })
        .await
        {
            Ok(done) => done,
            Err(e) => {
                tracing::error!(server_id, "the log reader failed: {e}");
                return;
            }
        };
        reader = back;
        if !step.lines.is_empty() || !step.cursors.is_empty() {
            let (lines, cursors) = (step.lines, step.cursors);
            // Published on the store's thread, right after the commit: every writer of this
            // server's log does the same, so the bus carries its lines in seq order.
            // Written together with other servers' lines (group commit).
            let publisher = bus.clone();
            match store
                .append_logs(server_id, lines, cursors, move |stored| {
                    publisher.publish(Event::new(server_id, EventKind::Log { lines: stored }));
                })
                .await
            {
                Ok(_) => {}
                // Not stored, and neither is the position: a later host run reads them again.
                Err(e) => tracing::error!(server_id, "could not store log lines: {e}"),
            }
        }
        if !finishing {
            for event in &step.signals {
                on_event(server_id, event);
            }
        }
        if !step.metrics.is_empty() {
            store_metrics(&store, &bus, server_id, step.metrics).await;
        }
        if step.more {
            continue;
        }
        if finishing {
            break;
        }
        let wait = if step.holding {
            QUIET
        } else if step.unwatched {
            POLL_UNWATCHED
        } else {
            POLL_WATCHED
        };
        tokio::select! {
            () = wake.notified() => {}
            () = tokio::time::sleep(wait) => {}
            how = &mut stop => match how {
                Ok(Finish::ProcessEnded) => finishing = true,
                // Detached, or every handle dropped.
                Ok(Finish::Detach) | Err(_) => break,
            },
        }
    }
    // Unwatching waits briefly on the watcher's thread: not on the runtime.
    let _ = tokio::task::spawn_blocking(move || drop(reader)).await;
}

/// The blocking half: the tails, the parser and the watch subscriptions.
struct Reader {
    server_id: i64,
    sources: Vec<SourceReader>,
    parser: Option<LogParser>,
    watcher: DirWatcher,
    wake: Arc<Notify>,
}

struct SourceReader {
    name: String,
    tail: Tail,
    /// End offsets of lines fed to the parser and not yet in a record, oldest first.
    ends: VecDeque<u64>,
    /// The file those lines came from.
    file: Option<(PathBuf, FileId)>,
    subscription: Option<Subscription>,
    /// Since when the parser has held lines of this log back.
    held_since: Option<Instant>,
    /// A read error has been reported (reported once until reads work again).
    failing: bool,
}

/// What one round of reading produced.
#[derive(Default)]
struct Step {
    lines: Vec<NewLogLine>,
    cursors: Vec<LogCursor>,
    /// Events others act on at once (ready, joins, leaves), in order.
    signals: Vec<GameEvent>,
    /// Figures the game reported, as (name, value).
    metrics: Vec<(String, f64)>,
    /// Some log has more to read right away.
    more: bool,
    /// The parser holds lines back: come back after [`QUIET`].
    holding: bool,
    /// Some log's directory is not watched: poll.
    unwatched: bool,
}

impl Reader {
    /// Reads every log once. `finish`: the process has ended, release everything.
    fn step(&mut self, finish: bool) -> Step {
        let mut step = Step::default();
        let at = crate::time::now_millis();
        for source in &mut self.sources {
            if source.subscription.is_none()
                && let Some(dir) = source.tail.target().dir()
            {
                source.subscription = self.watcher.subscribe(dir, Arc::clone(&self.wake));
            }
            step.unwatched |= source.subscription.is_none();

            let chunk = match source.tail.read(finish) {
                Ok(chunk) => {
                    source.failing = false;
                    chunk
                }
                Err(e) => {
                    if !source.failing {
                        tracing::warn!(
                            server_id = self.server_id,
                            source = source.name,
                            "cannot read the log: {e}"
                        );
                    }
                    source.failing = true;
                    continue;
                }
            };
            step.more |= chunk.more;
            if let Some(file) = chunk.file {
                source.file = Some(file);
            }
            let mut entries = Vec::new();
            if !chunk.lines.is_empty() {
                source.ends.extend(&chunk.ends);
                entries = feed(self.parser.as_mut(), &source.name, chunk.lines);
            }
            let quiet = source
                .held_since
                .is_some_and(|since| since.elapsed() >= QUIET);
            if chunk.finished || finish || quiet {
                entries.extend(flush(self.parser.as_mut(), &source.name));
            }

            // The position after the last line that is now in a record.
            let held = self.parser.as_ref().map_or(0, |p| p.held(&source.name));
            let covered = source.ends.len().saturating_sub(held);
            let last_end = source.ends.drain(..covered).next_back();
            let position = if chunk.finished && held == 0 {
                source.tail.position()
            } else {
                last_end
                    .zip(source.file.clone())
                    .map(|(offset, (path, id))| Position { path, id, offset })
            };
            if let Some(position) = position {
                step.cursors.push(LogCursor {
                    source: source.name.clone(),
                    path: position.path.display().to_string(),
                    device: position.id.device,
                    inode: position.id.inode,
                    offset: position.offset,
                });
            }
            if held > 0 {
                step.holding = true;
                if source.held_since.is_none() || !entries.is_empty() {
                    source.held_since = Some(Instant::now());
                }
            } else {
                source.held_since = None;
            }

            for entry in entries {
                for event in &entry.events {
                    if let GameEvent::Metrics { samples } = event {
                        step.metrics.extend(samples.iter().cloned());
                    }
                }
                step.signals.extend(
                    entry
                        .events
                        .iter()
                        .filter(|e| {
                            matches!(
                                e,
                                GameEvent::ServerReady
                                    | GameEvent::PlayerJoined { .. }
                                    | GameEvent::PlayerLeft { .. }
                            )
                        })
                        .cloned(),
                );
                step.lines.push(NewLogLine {
                    source: source.name.clone(),
                    at,
                    level: entry.record.level,
                    game_time: entry.record.time,
                    text: entry.record.text,
                    events: entry.events,
                });
            }
        }
        step
    }
}

/// Stores and publishes figures the game reported.
async fn store_metrics(
    store: &Store,
    bus: &EventBus,
    server_id: i64,
    reported: Vec<(String, f64)>,
) {
    let at = crate::time::now_millis();
    let samples: Vec<Sample> = reported
        .iter()
        .map(|(name, value)| Sample {
            server_id,
            name: name.clone(),
            at,
            value: *value,
        })
        .collect();
    match store
        .call(move |conn| metrics::insert(conn, &samples))
        .await
    {
        Ok(()) => bus.publish(Event::new(
            server_id,
            EventKind::Metrics {
                at,
                samples: reported,
            },
        )),
        Err(e) => tracing::warn!(server_id, "cannot store reported metrics: {e}"),
    }
}

/// Parses `lines`; a failing parser hands them back unparsed (nothing is lost).
fn feed(parser: Option<&mut LogParser>, source: &str, lines: Vec<String>) -> Vec<ParsedEntry> {
    match parser {
        Some(parser) => parser.feed(source, lines).unwrap_or_else(|e| {
            tracing::warn!(source, "the adapter could not parse a log batch: {e}");
            e.unparsed
        }),
        None => lines.into_iter().map(ParsedEntry::plain).collect(),
    }
}

fn flush(parser: Option<&mut LogParser>, source: &str) -> Vec<ParsedEntry> {
    match parser {
        Some(parser) if parser.held(source) > 0 => parser.flush(source).unwrap_or_else(|e| {
            tracing::warn!(source, "the adapter could not flush a log: {e}");
            e.unparsed
        }),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests;
