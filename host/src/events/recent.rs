//! The last lines of each server's log, kept in memory so that a new live subscriber gets
//! context at once, without a database query.
//!
//! One task per host follows the bus and keeps a ring of the newest [`LogLine`]s per server;
//! readers copy a snapshot out under a short lock (never held across an `.await`). The ring
//! is a convenience, not a record: after the task lags behind the bus the ring of every
//! server is cleared (its lines would have a gap), and it fills again from the next lines.
//! The database remains the history.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::broadcast::error::RecvError;

use super::{EventBus, EventKind};
use crate::store::logs::LogLine;

/// The recent lines of every server. Cheap to clone.
#[derive(Debug, Clone)]
pub struct RecentLogs {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    /// Lines kept per server.
    capacity: usize,
    /// Server id → its newest lines, oldest first.
    rings: Mutex<HashMap<i64, VecDeque<LogLine>>>,
}

impl RecentLogs {
    /// Empty rings of `capacity` lines each, filled by nobody (tests, or a manual feed).
    pub fn new(capacity: usize) -> Self {
        RecentLogs {
            inner: Arc::new(Inner {
                capacity: capacity.max(1),
                rings: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// Rings of `capacity` lines each, filled by a task that follows `bus`. The task ends
    /// when the bus does (its last sender is dropped).
    pub fn spawn(bus: &EventBus, capacity: usize) -> Self {
        let recent = RecentLogs::new(capacity);
        let mut events = bus.subscribe();
        let feed = recent.clone();
        tokio::spawn(async move {
            loop {
                match events.recv().await {
                    Ok(event) => {
                        if let EventKind::Log { lines } = &event.kind {
                            feed.push(event.server_id, lines);
                        }
                    }
                    Err(RecvError::Lagged(_)) => feed.rings().clear(),
                    Err(RecvError::Closed) => break,
                }
            }
        });
        recent
    }

    fn rings(&self) -> MutexGuard<'_, HashMap<i64, VecDeque<LogLine>>> {
        self.inner
            .rings
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds stored lines of server `server_id` (in seq order), forgetting the oldest beyond
    /// the capacity.
    pub fn push(&self, server_id: i64, lines: &[LogLine]) {
        let capacity = self.inner.capacity;
        let mut rings = self.rings();
        let ring = rings.entry(server_id).or_default();
        let skip = lines.len().saturating_sub(capacity);
        for line in &lines[skip..] {
            if ring.back().is_some_and(|last| last.seq >= line.seq) {
                // Older than what is held (a replay): keep the ring in order.
                continue;
            }
            if ring.len() == capacity {
                ring.pop_front();
            }
            ring.push_back(line.clone());
        }
    }

    /// The newest lines of server `server_id`, oldest first (empty when none are held).
    pub fn lines(&self, server_id: i64) -> Vec<LogLine> {
        self.rings()
            .get(&server_id)
            .map(|ring| ring.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// The servers some lines are held for.
    pub fn servers(&self) -> Vec<i64> {
        self.rings().keys().copied().collect()
    }

    /// Forgets server `server_id`'s lines (it was deleted).
    pub fn forget(&self, server_id: i64) {
        self.rings().remove(&server_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::model::Level;
    use crate::events::Event;

    fn line(seq: i64) -> LogLine {
        LogLine {
            seq,
            source: "console".into(),
            at: 0,
            level: Level::Info,
            game_time: None,
            text: format!("line {seq}"),
            events: Vec::new(),
        }
    }

    fn seqs(lines: &[LogLine]) -> Vec<i64> {
        lines.iter().map(|l| l.seq).collect()
    }

    #[test]
    fn keeps_the_newest_lines_of_each_server_in_order() {
        let recent = RecentLogs::new(3);
        recent.push(1, &[line(1), line(2)]);
        recent.push(2, &[line(1)]);
        recent.push(1, &[line(3), line(4)]);
        assert_eq!(seqs(&recent.lines(1)), [2, 3, 4]);
        assert_eq!(seqs(&recent.lines(2)), [1]);
        assert!(recent.lines(3).is_empty());
    }

    #[test]
    fn a_batch_larger_than_the_ring_keeps_its_tail_and_replays_are_ignored() {
        let recent = RecentLogs::new(2);
        recent.push(1, &[line(1), line(2), line(3)]);
        recent.push(1, &[line(2)]);
        assert_eq!(seqs(&recent.lines(1)), [2, 3]);
    }

    #[tokio::test]
    async fn follows_log_events_on_the_bus() {
        let bus = EventBus::new();
        let recent = RecentLogs::spawn(&bus, 10);
        // A second subscriber tells when the feed task has seen the event too: both
        // receive in publish order, and a marker event follows the lines.
        let mut probe = bus.subscribe();
        bus.publish(Event::new(
            7,
            EventKind::Log {
                lines: vec![line(1), line(2)],
            },
        ));
        let _ = probe.recv().await;
        let mut seen = Vec::new();
        for _ in 0..1000 {
            seen = recent.lines(7);
            if !seen.is_empty() {
                break;
            }
            tokio::task::yield_now().await;
        }
        assert_eq!(seqs(&seen), [1, 2]);
    }
}
