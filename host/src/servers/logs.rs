//! Each running server's log pipeline, started and ended with its process.
//!
//! The supervisors report process starts and ends (through the observer) as
//! [`ProcessNote`]s; one task handles them in order, so a pipeline for a restarted process
//! starts only after the previous one has read its process's last lines. A pipeline follows
//! the logs the server's adapter declares plus the captured console output, feeds them to a
//! parser of the adapter's, and tells the supervisor when the game reports it is ready.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, Weak};
use std::time::SystemTime;

use tokio::sync::{mpsc, oneshot};

use super::{Inner, Servers, ServersError};
use crate::adapters::model::{LogLocation, LogSource};
use crate::adapters::{AdapterError, LogParser};
use crate::store::logs;
use crate::supervisor::console::console_log_path;
use crate::telemetry::pipeline::{Finish, LogPipeline, PipelineSpec, Source};
use crate::telemetry::tail::{FileId, Position, Target};

/// A change in which servers have a process.
#[derive(Debug)]
pub enum ProcessNote {
    /// A process started (`not_before`: when it was launched; none when it was reattached).
    Started {
        /// The server.
        server_id: i64,
        /// Logs last written before this are an earlier run's.
        not_before: Option<SystemTime>,
    },
    /// The server's process ended.
    Ended {
        /// The server.
        server_id: i64,
    },
    /// The host is exiting: stop every pipeline, leave the games running.
    Detach {
        /// Answered once every pipeline has stopped.
        done: oneshot::Sender<()>,
    },
}

/// Starts the task that keeps one pipeline per running server.
pub(super) fn spawn(inner: Weak<Inner>, notes: mpsc::UnboundedReceiver<ProcessNote>) {
    tokio::spawn(follow(inner, notes));
}

async fn follow(inner: Weak<Inner>, mut notes: mpsc::UnboundedReceiver<ProcessNote>) {
    let mut pipelines: HashMap<i64, LogPipeline> = HashMap::new();
    while let Some(note) = notes.recv().await {
        match note {
            ProcessNote::Started {
                server_id,
                not_before,
            } => {
                if let Some(old) = pipelines.remove(&server_id) {
                    old.finish(Finish::ProcessEnded).await;
                }
                let Some(inner) = inner.upgrade() else {
                    break;
                };
                match (Servers { inner })
                    .log_pipeline(server_id, not_before)
                    .await
                {
                    Ok(pipeline) => {
                        pipelines.insert(server_id, pipeline);
                    }
                    Err(e) => {
                        tracing::warn!(server_id, "cannot follow the server's logs: {e}");
                    }
                }
            }
            ProcessNote::Ended { server_id } => {
                if let Some(pipeline) = pipelines.remove(&server_id) {
                    pipeline.finish(Finish::ProcessEnded).await;
                }
            }
            ProcessNote::Detach { done } => {
                for (_, pipeline) in pipelines.drain() {
                    pipeline.finish(Finish::Detach).await;
                }
                let _ = done.send(());
            }
        }
    }
    for (_, pipeline) in pipelines.drain() {
        pipeline.finish(Finish::Detach).await;
    }
}

impl Servers {
    /// Starts following server `server_id`'s logs, from the stored positions.
    async fn log_pipeline(
        &self,
        server_id: i64,
        not_before: Option<SystemTime>,
    ) -> Result<LogPipeline, ServersError> {
        let server = self.get(server_id).await?;
        let dirs = self.dirs(&server);
        let console = console_log_path(&dirs.console());
        let (declared, parser) = match self.inner.adapters.get(&server.adapter_id) {
            Some(adapter) => {
                let typed = self.typed_settings(&adapter, &server)?;
                let runtime = self.inner.adapters.clone();
                tokio::task::spawn_blocking(move || {
                    let sources = runtime.session(Arc::clone(&adapter)).log_sources(&typed)?;
                    let parser = LogParser::new(runtime.session(adapter), typed)?;
                    Ok::<_, AdapterError>((sources, Some(parser)))
                })
                .await
                .map_err(|e| AdapterError::Runtime(e.to_string()))??
            }
            // The adapter was removed while its server ran: keep the console at least.
            None => (Vec::new(), None),
        };
        let sources = sources(declared, |dir| dirs.resolve(dir), console);
        let resume = self
            .inner
            .store
            .call(move |conn| logs::cursors(conn, server_id))
            .await?
            .into_iter()
            .map(|c| {
                let position = Position {
                    path: c.path.into(),
                    id: FileId {
                        device: c.device,
                        inode: c.inode,
                    },
                    offset: c.offset,
                };
                (c.source, position)
            })
            .collect();
        let spec = PipelineSpec {
            server_id,
            sources,
            resume,
            not_before,
        };
        let weak = Arc::downgrade(&self.inner);
        let on_ready = Arc::new(move |id: i64| {
            let weak = weak.clone();
            tokio::spawn(async move {
                let Some(inner) = weak.upgrade() else {
                    return;
                };
                let supervisor = inner
                    .supervisors
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .get(&id)
                    .cloned();
                if let Some(supervisor) = supervisor {
                    // Refused when the server is not starting (a repeated ready line).
                    let _ = supervisor.mark_ready().await;
                }
            });
        });
        Ok(LogPipeline::spawn(
            spec,
            parser,
            self.inner.store.clone(),
            self.inner.bus.clone(),
            self.inner.watcher.clone(),
            on_ready,
        ))
    }
}

/// The logs to follow: those the adapter declares (paths resolved by `resolve`, which
/// refuses escapes from the server's directories), plus the captured console output when
/// the adapter did not name it.
fn sources(
    declared: Vec<LogSource>,
    resolve: impl Fn(&crate::adapters::model::PathRef) -> Result<std::path::PathBuf, String>,
    console: std::path::PathBuf,
) -> Vec<Source> {
    let mut out = Vec::new();
    let mut has_console = false;
    for source in declared {
        let target = match source.location {
            LogLocation::Console => {
                has_console = true;
                Target::File(console.clone())
            }
            LogLocation::NewestFile { dir, pattern } => match resolve(&dir) {
                Ok(dir) => Target::Newest { dir, pattern },
                Err(e) => {
                    tracing::warn!(source = source.name, "log source skipped: {e}");
                    continue;
                }
            },
        };
        out.push(Source {
            name: source.name,
            target,
        });
    }
    if !has_console {
        let taken = |name: &str| out.iter().any(|s| s.name == name);
        let name = ["console", "stdout", "captured-output"]
            .into_iter()
            .find(|name| !taken(name))
            .unwrap_or("captured-output");
        out.push(Source {
            name: name.to_string(),
            target: Target::File(console),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::*;
    use crate::adapters::model::{PathRef, Root};

    fn newest(name: &str, dir: &str) -> LogSource {
        LogSource {
            name: name.into(),
            location: LogLocation::NewestFile {
                dir: PathRef {
                    root: Root::Instance,
                    path: dir.into(),
                },
                pattern: "*.log".into(),
            },
        }
    }

    fn resolve(dir: &PathRef) -> Result<PathBuf, String> {
        if dir.path.contains("..") {
            Err("escapes".into())
        } else {
            Ok(Path::new("/srv/1").join(&dir.path))
        }
    }

    #[test]
    fn the_console_is_always_followed_under_a_free_name() {
        let console = PathBuf::from("/srv/1/console/console.log");
        let declared = vec![
            LogSource {
                name: "out".into(),
                location: LogLocation::Console,
            },
            newest("game", "logs"),
        ];
        let got = sources(declared, resolve, console.clone());
        assert_eq!(got.len(), 2, "a declared console is not added twice");
        assert_eq!(got[0].target, Target::File(console.clone()));

        let got = sources(
            vec![newest("console", "game"), newest("bad", "../../etc")],
            resolve,
            console.clone(),
        );
        let names: Vec<&str> = got.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["console", "stdout"], "escapes are skipped");
        assert_eq!(got[1].target, Target::File(console));
    }
}
