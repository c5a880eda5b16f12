//! The supervisors' side doors: what they observe goes to the database, and what their stop
//! plans ask of the game's remote console goes through the RCon driver.
//!
//! Observers must return at once, so observations are queued to one writer task that records
//! them (actual state, process identity, last error, a history event) in order, and then
//! publishes them on the event bus (`status` and `server_event`), so a subscriber never sees
//! a change the database does not hold yet.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::adapters::model::Connection;
use crate::adapters::{AdapterRuntime, LoadedAdapter};
use crate::events::{Event, EventBus, EventKind};
use crate::store::Store;
use crate::store::events::{self, NewEvent};
use crate::store::servers::{self, ActualState, Observed, ProcessIdentity};
use crate::supervisor::process::ProcessId;
use crate::supervisor::server::{BoxFuture, Observer, RestartStatus, ServerState, StopActions};
use crate::telemetry::rcon::{self, RconHandle, RconOptions, RconStatus, RconTarget};

use super::live::ProcessNote;

enum Note {
    State {
        server_id: i64,
        to: ServerState,
        process: Option<ProcessId>,
        detail: String,
        restarts: RestartStatus,
    },
    Event {
        server_id: i64,
        kind: String,
        message: String,
    },
}

/// Records every supervisor observation in the store, in order, and tells the log
/// pipelines when processes come and go.
pub struct StoreObserver {
    notes: mpsc::UnboundedSender<Note>,
    processes: mpsc::UnboundedSender<ProcessNote>,
    /// Each running process's token, cancelled when it ends: synchronously, in the
    /// supervisor's own call, so what was started for a process (its RCon session) is
    /// stopped before a restart launches the next one — the pipeline task that ends the
    /// rest may be busy for a while.
    running: Mutex<HashMap<i64, CancellationToken>>,
}

impl StoreObserver {
    /// Starts the writer task; it ends when the observer is dropped. Process starts and
    /// ends go to `processes`; what is recorded is then published on `bus`.
    pub fn start(
        store: Store,
        processes: mpsc::UnboundedSender<ProcessNote>,
        bus: EventBus,
    ) -> Arc<StoreObserver> {
        let (notes, mut rx) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Some(note) = rx.recv().await {
                let status = match &note {
                    Note::State {
                        server_id,
                        to,
                        process,
                        detail,
                        restarts,
                    } => Some((
                        *server_id,
                        EventKind::Status {
                            state: to.as_str().to_owned(),
                            detail: detail.clone(),
                            started_at: process
                                .and_then(|p| p.started_at())
                                .map(crate::time::rfc3339),
                            restarts: *restarts,
                        },
                    )),
                    Note::Event { .. } => None,
                };
                match store.call(move |conn| record(conn, note)).await {
                    Ok(event) => {
                        if let Some((server_id, status)) = status {
                            bus.publish(Event::new(server_id, status));
                        }
                        bus.publish(Event::new(
                            event.server_id,
                            EventKind::ServerEvent { event },
                        ));
                    }
                    Err(e) => tracing::error!("could not record a server observation: {e}"),
                }
            }
        });
        Arc::new(StoreObserver {
            notes,
            processes,
            running: Mutex::new(HashMap::new()),
        })
    }
}

/// Records one observation; returns the history event appended for it.
fn record(
    conn: &mut rusqlite::Connection,
    note: Note,
) -> Result<events::ServerEvent, crate::store::StoreError> {
    let event = match note {
        Note::State {
            server_id,
            to,
            process,
            detail,
            ..
        } => {
            let state = ActualState::from_str(to.as_str()).unwrap_or(ActualState::Unmanaged);
            let (exit_code, last_error) = match &to {
                ServerState::Crashed { exit, .. } => (*exit, Some(detail.clone())),
                _ => (None, None),
            };
            let observed = Observed {
                state,
                exit_code,
                process: process.map(|p| ProcessIdentity {
                    pid: u32::try_from(p.pid).unwrap_or_default(),
                    start_time: p.start_time,
                }),
                last_error,
            };
            let tx = conn.transaction()?;
            servers::set_actual_state(&tx, server_id, &observed)?;
            let message = if detail.is_empty() {
                format!("now {}", to.as_str())
            } else {
                format!("now {}: {detail}", to.as_str())
            };
            let event = events::append(
                &tx,
                server_id,
                &NewEvent::new(events::kind::STATE_CHANGED, message)
                    .with_data(serde_json::json!({ "state": to.as_str() })),
            )?;
            tx.commit()?;
            event
        }
        Note::Event {
            server_id,
            kind,
            message,
        } => events::append(conn, server_id, &NewEvent::new(kind, message))?,
    };
    Ok(event)
}

impl Observer for StoreObserver {
    fn state_changed(
        &self,
        server_id: i64,
        _from: &ServerState,
        to: &ServerState,
        process: Option<ProcessId>,
        detail: &str,
        restarts: RestartStatus,
    ) {
        let _ = self.notes.send(Note::State {
            server_id,
            to: *to,
            process,
            detail: detail.to_string(),
            restarts,
        });
    }

    fn event(&self, server_id: i64, kind: &str, message: &str) {
        let _ = self.notes.send(Note::Event {
            server_id,
            kind: kind.to_string(),
            message: message.to_string(),
        });
    }

    fn process_started(&self, server_id: i64, _process: ProcessId, launched: bool) {
        // File times are coarse: a log created just after the launch may carry a time a
        // little before it.
        let not_before = launched.then(|| SystemTime::now() - Duration::from_secs(1));
        let ended = CancellationToken::new();
        let earlier = self
            .running
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(server_id, ended.clone());
        if let Some(earlier) = earlier {
            earlier.cancel();
        }
        let _ = self.processes.send(ProcessNote::Started {
            server_id,
            not_before,
            ended,
        });
    }

    fn process_ended(&self, server_id: i64) {
        let ended = self
            .running
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&server_id);
        if let Some(ended) = ended {
            ended.cancel();
        }
        let _ = self.processes.send(ProcessNote::Ended { server_id });
    }
}

/// Sends stop-plan commands over each server's RCon: through the server's open session when
/// it is connected, else with a driver opened for the command.
pub struct RconStopActions {
    runtime: AdapterRuntime,
    /// Where each server's RCon listens, recorded when it is launched.
    endpoints: Mutex<HashMap<i64, (Arc<LoadedAdapter>, Connection)>>,
    /// Each running server's open session (its player tracker's).
    sessions: Mutex<HashMap<i64, RconHandle>>,
}

impl RconStopActions {
    /// Stop actions that use `runtime`'s adapters.
    pub fn new(runtime: AdapterRuntime) -> Arc<RconStopActions> {
        Arc::new(RconStopActions {
            runtime,
            endpoints: Mutex::new(HashMap::new()),
            sessions: Mutex::new(HashMap::new()),
        })
    }

    /// Remembers (or forgets, with `None`) server `server_id`'s open RCon session.
    pub fn set_session(&self, server_id: i64, session: Option<RconHandle>) {
        let mut sessions = self.sessions.lock().unwrap_or_else(PoisonError::into_inner);
        match session {
            Some(s) => sessions.insert(server_id, s),
            None => sessions.remove(&server_id),
        };
    }

    /// Remembers (or forgets, with `None`) where server `server_id`'s RCon listens.
    pub fn set_endpoint(&self, server_id: i64, endpoint: Option<(Arc<LoadedAdapter>, Connection)>) {
        let mut endpoints = self
            .endpoints
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        match endpoint {
            Some(e) => endpoints.insert(server_id, e),
            None => endpoints.remove(&server_id),
        };
    }
}

impl StopActions for RconStopActions {
    fn rcon_command<'a>(
        &'a self,
        server_id: i64,
        command: &'a str,
    ) -> BoxFuture<'a, Result<String, String>> {
        let endpoint = self
            .endpoints
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&server_id)
            .cloned();
        let session = self
            .sessions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&server_id)
            .filter(|s| *s.status().borrow() == RconStatus::Connected)
            .cloned();
        let runtime = self.runtime.clone();
        Box::pin(async move {
            if let Some(session) = session {
                return session.command(command).await.map_err(|e| e.to_string());
            }
            let Some((adapter, connection)) = endpoint else {
                return Err("the server has no remote console".to_string());
            };
            let options = RconOptions {
                command_timeout: Duration::from_secs(10),
                retry_after_auth_failure: false,
                ..RconOptions::default()
            };
            let target = RconTarget {
                address: format!("{}:{}", connection.host, connection.port),
                password: connection.password,
            };
            let (handle, task) = rcon::spawn(runtime, adapter, target, options);
            let reply = handle.command(command).await.map_err(|e| e.to_string());
            handle.stop();
            let _ = task.await;
            reply
        })
    }
}
