//! Group commit for log lines: the lines every server's log pipeline hands in within a few
//! milliseconds are written in one transaction.
//!
//! A game that prints one line at a time makes its pipeline append one line at a time; one
//! transaction per append costs the store thread a commit per line. Here, an append joins a
//! queue; the first append into an empty queue schedules one flush [`GATHER`] later, and the
//! flush writes everything queued by then — every server's batch in its own savepoint, so a
//! batch that fails loses only itself — commits once, then runs each batch's `on_stored` (on
//! the store thread, right after the commit: the bus carries each server's lines in seq
//! order) and answers each appender. An answer comes only after the commit: an acknowledged
//! line is stored, and a line whose answer is an error is stored neither, nor is its
//! position, so a later run reads it again. Within one server, order is kept because a
//! pipeline waits for its answer before it appends again, and batches are written in the
//! order they were queued.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rusqlite::{Connection, TransactionBehavior};
use tokio::sync::oneshot;

use super::logs::{self, LogCursor, LogLine, NewLogLine};
use super::{StoreError, Task};

/// How long lines are gathered before they are written.
pub const GATHER: Duration = Duration::from_millis(4);

/// Runs on the store thread with the stored lines of one batch, right after the commit.
pub type OnStored = Box<dyn FnOnce(Vec<LogLine>) + Send>;

/// One server's lines waiting for the next flush.
struct Pending {
    server_id: i64,
    lines: Vec<NewLogLine>,
    cursors: Vec<LogCursor>,
    on_stored: OnStored,
    reply: oneshot::Sender<Result<usize, StoreError>>,
}

/// The queue of batches waiting for the next flush.
#[derive(Default)]
pub(super) struct LogQueue {
    pending: Mutex<Vec<Pending>>,
    /// Transactions written, for the figures (batches per transaction).
    flushes: std::sync::atomic::AtomicU64,
}

impl LogQueue {
    /// Queues a batch; answers with the number of lines stored once they are committed.
    pub(super) async fn append(
        self: &Arc<Self>,
        tasks: &std::sync::mpsc::Sender<Task>,
        server_id: i64,
        lines: Vec<NewLogLine>,
        cursors: Vec<LogCursor>,
        on_stored: OnStored,
    ) -> Result<usize, StoreError> {
        let (reply, answer) = oneshot::channel();
        let first = {
            let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
            pending.push(Pending {
                server_id,
                lines,
                cursors,
                on_stored,
                reply,
            });
            pending.len() == 1
        };
        if first {
            // Scheduled apart from this caller, so that a caller that gives up waiting
            // cannot strand the batches queued behind its own.
            let queue = Arc::clone(self);
            let tasks = tasks.clone();
            tokio::spawn(async move {
                tokio::time::sleep(GATHER).await;
                let flusher = Arc::clone(&queue);
                let flush: Task = Box::new(move |conn| flusher.flush(conn));
                if tasks.send(flush).is_err() {
                    // The store is gone: dropping the batches answers every appender.
                    queue
                        .pending
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .clear();
                }
            });
        }
        answer.await.map_err(|_| StoreError::Closed)?
    }

    /// How many transactions have written log lines so far.
    #[cfg(test)]
    pub(super) fn flushes(&self) -> u64 {
        self.flushes.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Writes everything queued, in one transaction (see the module's text).
    fn flush(&self, conn: &mut Connection) {
        let batches =
            std::mem::take(&mut *self.pending.lock().unwrap_or_else(PoisonError::into_inner));
        if batches.is_empty() {
            return;
        }
        self.flushes
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut written = Vec::with_capacity(batches.len());
        let committed = write(conn, batches, &mut written);
        for (batch, stored) in written {
            let answer = match (&committed, stored) {
                (Ok(()), Ok(stored)) => {
                    let count = stored.len();
                    if count > 0 {
                        (batch.on_stored)(stored);
                    }
                    Ok(count)
                }
                (Ok(()), Err(e)) => Err(e),
                (Err(e), _) => Err(StoreError::Conflict(format!(
                    "the log lines were not committed: {e}"
                ))),
            };
            let _ = batch.reply.send(answer);
        }
    }
}

/// A batch once written: the batch and its stored lines, or why it was not.
type Written = (Pending, Result<Vec<LogLine>, StoreError>);

/// Writes `batches` in one transaction, each in a savepoint; `written` gets every batch with
/// its outcome (also when the transaction then fails to commit).
fn write(
    conn: &mut Connection,
    batches: Vec<Pending>,
    written: &mut Vec<Written>,
) -> Result<(), StoreError> {
    let mut tx = match conn.transaction_with_behavior(TransactionBehavior::Immediate) {
        Ok(tx) => tx,
        Err(e) => {
            let e = StoreError::from(e);
            for batch in batches {
                let failed = Err(StoreError::Conflict(e.to_string()));
                written.push((batch, failed));
            }
            return Err(e);
        }
    };
    for mut batch in batches {
        let lines = std::mem::take(&mut batch.lines);
        let stored = match tx.savepoint() {
            Ok(mut savepoint) => {
                match logs::append_in(&savepoint, batch.server_id, lines, &batch.cursors) {
                    Ok(stored) => savepoint.commit().map(|()| stored).map_err(Into::into),
                    Err(e) => {
                        let _ = savepoint.rollback();
                        Err(e)
                    }
                }
            }
            Err(e) => Err(e.into()),
        };
        written.push((batch, stored));
    }
    tx.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::adapters::model::Level;
    use crate::store::servers::{self, NewServer};
    use crate::store::{Store, logs};

    fn line(text: String) -> NewLogLine {
        NewLogLine {
            source: "console".into(),
            at: 0,
            level: Level::Info,
            game_time: None,
            text,
            events: Vec::new(),
        }
    }

    fn cursor(offset: u64) -> LogCursor {
        LogCursor {
            source: "console".into(),
            path: "/logs/console.log".into(),
            device: 1,
            inode: 2,
            offset,
        }
    }

    async fn servers(store: &Store, n: usize) -> Vec<i64> {
        store
            .call(move |conn| {
                (0..n)
                    .map(|i| {
                        servers::insert(
                            conn,
                            &NewServer::new(format!("s{i}"), "generic", serde_json::json!({})),
                        )
                        .map(|s| s.id)
                    })
                    .collect()
            })
            .await
            .expect("servers")
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn lines_of_many_servers_written_together_keep_each_servers_order_and_lose_nothing() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("garrison.db");
        let store = Store::open(&path).expect("open");
        let ids = servers(&store, 20).await;
        let published = Arc::new(AtomicUsize::new(0));
        let mut writers = Vec::new();
        for &id in &ids {
            let (store, published) = (store.clone(), Arc::clone(&published));
            // Each server appends one line at a time, as a game printing line by line makes
            // its pipeline do, waiting for each answer.
            writers.push(tokio::spawn(async move {
                let mut last_seq = 0;
                for n in 1..=50u64 {
                    let seen = Arc::new(Mutex::new(Vec::new()));
                    let into = Arc::clone(&seen);
                    let published = Arc::clone(&published);
                    let count = store
                        .append_logs(
                            id,
                            vec![line(format!("{id}:{n}"))],
                            vec![cursor(n)],
                            move |stored| {
                                published
                                    .fetch_add(stored.len(), std::sync::atomic::Ordering::SeqCst);
                                into.lock().expect("seen").extend(stored);
                            },
                        )
                        .await
                        .expect("stored");
                    assert_eq!(count, 1);
                    // Published before the answer, with the next sequence number.
                    let seen = seen.lock().expect("seen").clone();
                    assert_eq!(seen.len(), 1);
                    assert_eq!(seen[0].seq, last_seq + 1);
                    assert_eq!(seen[0].text, format!("{id}:{n}"));
                    last_seq = seen[0].seq;
                }
            }));
        }
        for writer in writers {
            writer.await.expect("writer");
        }
        assert_eq!(published.load(Ordering::SeqCst), 20 * 50);
        // Written together: 1,000 appends took far fewer transactions.
        let flushes = store.log_queue.flushes();
        assert!(
            flushes * 4 <= 1_000,
            "{flushes} transactions for 1,000 appends"
        );
        drop(store);

        // A fresh open (as after a crash) finds every acknowledged line once, in order, and
        // each log's position at its last line.
        let store = Store::open(&path).expect("reopen");
        for &id in &ids {
            let (texts, cursors) = store
                .call(move |conn| {
                    let texts: Vec<String> = conn
                        .prepare("SELECT text FROM server_logs WHERE server_id = ?1 ORDER BY seq")?
                        .query_map([id], |r| r.get(0))?
                        .collect::<Result<_, _>>()?;
                    Ok((texts, logs::cursors(conn, id)?))
                })
                .await
                .expect("read");
            let expected: Vec<String> = (1..=50).map(|n| format!("{id}:{n}")).collect();
            assert_eq!(texts, expected, "server {id}");
            assert_eq!(cursors.len(), 1);
            assert_eq!(cursors[0].offset, 50);
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_batch_that_fails_loses_only_itself() {
        let store = Store::open_in_memory().expect("store");
        let ids = servers(&store, 1).await;
        let id = ids[0];
        // Queued in the same few milliseconds: one for a server that does not exist (its
        // rows break a foreign key), one for a real server.
        let (bad, good) = tokio::join!(
            store.append_logs(9_999, vec![line("orphan".into())], vec![cursor(1)], |_| {}),
            store.append_logs(id, vec![line("kept".into())], vec![cursor(1)], |_| {}),
        );
        assert!(bad.is_err(), "{bad:?}");
        assert_eq!(good.expect("the other batch is stored"), 1);
        let stored: Vec<(i64, String)> = store
            .call(|conn| {
                Ok(conn
                    .prepare("SELECT server_id, text FROM server_logs")?
                    .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                    .collect::<Result<_, _>>()?)
            })
            .await
            .expect("read");
        assert_eq!(stored, [(id, "kept".to_string())]);
        let orphan_cursors = store
            .call(|conn| logs::cursors(conn, 9_999))
            .await
            .expect("cursors");
        assert!(
            orphan_cursors.is_empty(),
            "a failed batch stores no position"
        );
    }
}
