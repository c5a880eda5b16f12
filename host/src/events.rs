//! The in-process event bus: what happens on running servers, published once and delivered
//! to every interested consumer (WebSocket clients, stream endpoints, tests).
//!
//! Producers never wait: the bus is a bounded `broadcast` channel, and a consumer that falls
//! behind loses the oldest events and is told how many (`RecvError::Lagged`), so it can say
//! so to its client and reload from the database, which holds everything durable.

use std::sync::Arc;

use serde::Serialize;
use tokio::sync::broadcast;

use crate::store::logs::LogLine;
use crate::store::players::OnlinePlayer;

/// How many events the bus holds for its slowest consumer.
pub const CAPACITY: usize = 4096;

/// Something that happened on a server.
#[derive(Debug, Clone, Serialize)]
pub struct Event {
    /// The server.
    pub server_id: i64,
    /// What happened.
    #[serde(flatten)]
    pub kind: EventKind,
}

/// The kinds of events.
#[derive(Debug, Clone, Serialize)]
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
}

/// Publishes and subscribes. Cheap to clone.
#[derive(Debug, Clone)]
pub struct EventBus {
    sender: broadcast::Sender<Arc<Event>>,
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
        EventBus { sender }
    }

    /// Delivers `event` to every current subscriber; never waits.
    pub fn publish(&self, event: Event) {
        // No subscriber is not an error: the event is stored already.
        let _ = self.sender.send(Arc::new(event));
    }

    /// Every event from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.sender.subscribe()
    }
}
