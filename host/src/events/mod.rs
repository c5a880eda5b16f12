//! The in-process event bus: what happens on running servers, published once and delivered
//! to every interested consumer (WebSocket clients, stream endpoints, tests).
//!
//! Producers never wait: the bus is a bounded `broadcast` channel, and a consumer that falls
//! behind loses the oldest events and is told how many (`RecvError::Lagged`), so it can say
//! so to its client and reload from the database, which holds everything durable.

pub mod recent;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use serde::Serialize;
use tokio::sync::broadcast;

use crate::store::events::ServerEvent;
use crate::store::jobs::{Job, JobLogLine};
use crate::store::logs::LogLine;
use crate::store::players::OnlinePlayer;
use crate::supervisor::server::RestartStatus;

/// How many events the bus holds for its slowest consumer.
pub const CAPACITY: usize = 4096;

/// Something that happened on a server. Its schema is the one of the WebSocket's event
/// messages (`GET /api/v1/ws/schema.json`), which are this type serialised by [`Event::wire`].
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(title = "Event")]
pub struct Event {
    /// The server (0: the host itself, for host metrics); `null` for a job on a game runtime.
    #[schema(value_type = Option<i64>)]
    pub server_id: i64,
    /// When it was made, in ms since the Unix epoch.
    pub time: i64,
    /// The bus's number for it, increasing host-wide (gaps are events for others); for
    /// `log`, the seq of its last line.
    #[schema(value_type = i64)]
    pub seq: u64,
    /// Set on the `log` message that brings a newly subscribed server's recent lines (from
    /// memory) before live ones.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    #[schema(required = false)]
    pub recent: bool,
    /// What happened.
    #[serde(flatten)]
    pub kind: EventKind,
    /// The JSON sent to clients, made once however many receive it.
    #[serde(skip)]
    wire: OnceLock<String>,
}

impl Event {
    /// An event of server `server_id`, stamped now.
    pub fn new(server_id: i64, kind: EventKind) -> Self {
        Event {
            server_id,
            time: crate::time::now_millis(),
            seq: 0,
            recent: false,
            kind,
            wire: OnceLock::new(),
        }
    }

    /// The server the event belongs to; `None` for a job on a game runtime (server 0).
    pub fn visible_server(&self) -> Option<i64> {
        match &self.kind {
            EventKind::Job { .. } | EventKind::JobLog { .. } if self.server_id == 0 => None,
            _ => Some(self.server_id),
        }
    }

    /// The event as clients receive it (WebSocket): `{"type", "server_id", "time", "seq",
    /// …fields of the kind}`. `server_id` is `null` for jobs on a runtime; `seq` is the last
    /// line's seq for `log` (and the lines carry their own), the bus's number otherwise.
    /// Serialized once, on first use.
    pub fn wire(&self) -> &str {
        self.wire.get_or_init(|| {
            let mut value = serde_json::to_value(self).unwrap_or_default();
            if let Some(object) = value.as_object_mut() {
                object.insert("server_id".into(), self.visible_server().into());
                if let EventKind::Log { lines } = &self.kind
                    && let Some(last) = lines.last()
                {
                    object.insert("seq".into(), last.seq.into());
                }
            }
            value.to_string()
        })
    }
}

/// The kinds of events.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventKind {
    /// New log lines, stored, in sequence order (one event per stored batch).
    Log {
        /// The lines.
        lines: Vec<LogLine>,
    },
    /// Who is on changed.
    Players {
        /// Everyone on now.
        online: Vec<OnlinePlayer>,
        /// Names of those who arrived.
        joined: Vec<String>,
        /// Names of those who left.
        left: Vec<String>,
    },
    /// Resource figures sampled (server 0: the host).
    Metrics {
        /// When, in ms since the Unix epoch.
        at: i64,
        /// (name, value) pairs.
        samples: Vec<(String, f64)>,
    },
    /// The supervisor saw the server change state (recorded in the store first).
    Status {
        /// The new state.
        #[schema(value_type = crate::store::servers::ActualState)]
        state: String,
        /// Why, when known (e.g. a crash's exit status).
        detail: String,
        /// When the game process of the new state started (RFC 3339); none without one.
        #[schema(format = DateTime)]
        started_at: Option<String>,
        /// The automatic restarts after crashes within the restart policy's window, and
        /// whether one follows this state.
        restarts: RestartStatus,
    },
    /// A row appended to the server's event history.
    #[serde(rename = "event")]
    ServerEvent {
        /// The stored event.
        event: ServerEvent,
    },
    /// A job was claimed, made progress or finished (the stored row after the change).
    Job {
        /// The job.
        job: Job,
    },
    /// Output lines of a job, as stored, in sequence order.
    JobLog {
        /// The job.
        job_id: i64,
        /// The lines.
        lines: Vec<JobLogLine>,
    },
}

/// Publishes and subscribes. Cheap to clone.
#[derive(Debug, Clone)]
pub struct EventBus {
    sender: broadcast::Sender<Arc<Event>>,
    /// The last [`Event::seq`] given.
    seq: Arc<AtomicU64>,
}

impl Default for EventBus {
    fn default() -> Self {
        Self::new()
    }
}

impl EventBus {
    /// An empty bus.
    pub fn new() -> Self {
        let (sender, _) = broadcast::channel(CAPACITY);
        EventBus {
            sender,
            seq: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Delivers `event` to every current subscriber; never waits.
    pub fn publish(&self, mut event: Event) {
        event.seq = self.seq.fetch_add(1, Ordering::Relaxed) + 1;
        // No subscriber is not an error: the event is stored already.
        let _ = self.sender.send(Arc::new(event));
    }

    /// Every event from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.sender.subscribe()
    }
}
