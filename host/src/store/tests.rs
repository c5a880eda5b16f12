//! The store's specification: schema and migrations, each aggregate, and the concurrency
//! guarantees (claiming, log sequencing, panics).

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;

use super::jobs::{
    self, CancelOutcome, JobFilter, JobKind, JobOutcome, JobState, LogStream, NewJob,
};
use super::servers::{self, ActualState, DesiredState, NewServer, Observed, ProcessIdentity};
use super::{NewEvent, Store, StoreError, events, migrations};

/// Every test finishes well within this, or fails instead of hanging.
const DEADLINE: Duration = Duration::from_secs(10);

async fn within<T>(future: impl Future<Output = T>) -> T {
    match tokio::time::timeout(DEADLINE, future).await {
        Ok(value) => value,
        Err(_) => panic!("test did not finish within {DEADLINE:?}"),
    }
}

fn store() -> Store {
    Store::open_in_memory().expect("in-memory store")
}

async fn add_server(store: &Store, name: &str, adapter: &str) -> i64 {
    let new = NewServer::new(name, adapter, json!({ "port": 2302 }));
    store
        .call(move |conn| servers::insert(conn, &new))
        .await
        .expect("insert server")
        .id
}

async fn enqueue(store: &Store, job: NewJob) -> i64 {
    store
        .call(move |conn| jobs::enqueue(conn, &job))
        .await
        .expect("enqueue")
        .id
}

async fn claim(store: &Store) -> Option<jobs::Job> {
    store.call(jobs::claim_next).await.expect("claim")
}

async fn finish(store: &Store, id: i64) {
    store
        .call(move |conn| jobs::finish(conn, id, &JobOutcome::Succeeded { exit_code: Some(0) }))
        .await
        .expect("finish");
}

// ---- schema and migrations ----

#[test]
fn migrations_are_numbered_from_one_without_gaps() {
    for (index, migration) in migrations::MIGRATIONS.iter().enumerate() {
        assert_eq!(migration.version, index as i64 + 1, "{}", migration.name);
    }
    assert_eq!(migrations::latest(), migrations::MIGRATIONS.len() as i64);
}

#[test]
fn migrations_apply_once_and_reopening_applies_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("garrison.db");
    let versions = |store: &Store| {
        store
            .call_blocking(|conn| {
                let mut stmt = conn
                    .prepare("SELECT version, applied_at FROM schema_version ORDER BY version")?;
                let rows = stmt
                    .query_map([], |row| {
                        Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?))
                    })?
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(rows)
            })
            .expect("versions")
    };

    let first = Store::open(&path).expect("first open");
    let applied = versions(&first);
    assert_eq!(
        applied.iter().map(|(v, _)| *v).collect::<Vec<_>>(),
        (1..=migrations::latest()).collect::<Vec<_>>()
    );
    drop(first);

    let second = Store::open(&path).expect("second open");
    assert_eq!(versions(&second), applied, "reopening must not re-apply");
    let again = second.call_blocking(migrations::apply).expect("apply");
    assert!(again.is_empty());
}

#[test]
fn a_database_newer_than_the_binary_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("garrison.db");
    let store = Store::open(&path).expect("open");
    store
        .call_blocking(|conn| {
            conn.execute(
                "INSERT INTO schema_version (version, applied_at) VALUES (?1, 'later')",
                [migrations::latest() + 1],
            )?;
            Ok(())
        })
        .expect("pretend a newer binary ran");
    drop(store);

    match Store::open(&path) {
        Err(StoreError::Migration(message)) => assert!(message.contains("newer"), "{message}"),
        other => panic!("expected a migration error, got {other:?}"),
    }
}

#[test]
fn a_new_database_is_incrementally_vacuumed_from_its_first_start_and_never_rebuilt_again() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("garrison.db");
    drop(Store::open(&path).expect("first start"));
    let raw = rusqlite::Connection::open(&path).expect("raw");
    let mode: i64 = raw
        .pragma_query_value(None, "auto_vacuum", |r| r.get(0))
        .expect("pragma");
    assert_eq!(mode, 2, "INCREMENTAL from the first start");
    drop(raw);

    // An older database in full mode is converted once, keeping its rows.
    let old = dir.path().join("old.db");
    let raw = rusqlite::Connection::open(&old).expect("raw");
    raw.pragma_update(None, "journal_mode", "WAL").expect("wal");
    raw.execute_batch("CREATE TABLE kept (x); INSERT INTO kept VALUES (1);")
        .expect("table");
    drop(raw);
    drop(Store::open(&old).expect("converting start"));
    let raw = rusqlite::Connection::open(&old).expect("raw");
    let mode: i64 = raw
        .pragma_query_value(None, "auto_vacuum", |r| r.get(0))
        .expect("pragma");
    let rows: i64 = raw
        .query_row("SELECT count(*) FROM kept", [], |r| r.get(0))
        .expect("rows");
    assert_eq!((mode, rows), (2, 1));
}

#[test]
fn the_connection_uses_wal_foreign_keys_and_a_busy_timeout() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open(&dir.path().join("garrison.db")).expect("open");
    // It holds password hashes and sealed secrets: the owner's only.
    let mode = std::fs::metadata(dir.path().join("garrison.db"))
        .expect("file")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let (mode, fk, timeout, sync) = store
        .call_blocking(|conn| {
            let mode: String = conn.pragma_query_value(None, "journal_mode", |r| r.get(0))?;
            let fk: i64 = conn.pragma_query_value(None, "foreign_keys", |r| r.get(0))?;
            let timeout: i64 = conn.pragma_query_value(None, "busy_timeout", |r| r.get(0))?;
            let sync: i64 = conn.pragma_query_value(None, "synchronous", |r| r.get(0))?;
            Ok((mode, fk, timeout, sync))
        })
        .expect("pragmas");
    assert_eq!(mode, "wal");
    assert_eq!(fk, 1);
    assert_eq!(timeout, 5000);
    assert_eq!(sync, 1, "NORMAL");

    // Foreign keys are enforced, not just declared.
    let orphan = store.call_blocking(|conn| {
        conn.execute(
            "INSERT INTO jobs (server_id, kind, requested_by) VALUES (999, 'start', 'test')",
            [],
        )?;
        Ok(())
    });
    assert!(matches!(orphan, Err(StoreError::Sqlite(_))), "{orphan:?}");
}

#[test]
fn text_enums_round_trip() {
    for kind in JobKind::ALL {
        assert_eq!(kind.as_str().parse::<JobKind>(), Ok(*kind));
        assert_eq!(
            serde_json::to_value(kind).expect("json"),
            json!(kind.as_str())
        );
    }
    for state in JobState::ALL {
        assert_eq!(state.as_str().parse::<JobState>(), Ok(*state));
    }
    for state in ActualState::ALL {
        assert_eq!(state.as_str().parse::<ActualState>(), Ok(*state));
    }
    let err = "paused".parse::<DesiredState>().expect_err("unknown");
    assert_eq!(err.to_string(), "unknown desired state `paused`");
}

// ---- the store thread ----

#[tokio::test]
async fn a_panicking_call_is_reported_and_the_store_keeps_working() {
    let store = store();
    let id = add_server(&store, "alpha", "game-a").await;

    let result: Result<(), _> = within(store.call(move |conn| {
        // A bare transaction left open by the panic must be rolled back.
        conn.execute_batch("BEGIN")?;
        servers::soft_delete(conn, id)?;
        panic!("boom");
    }))
    .await;
    match result {
        Err(StoreError::Panicked(message)) => assert_eq!(message, "boom"),
        other => panic!("expected Panicked, got {other:?}"),
    }

    let server = within(store.call(move |conn| servers::get(conn, id)))
        .await
        .expect("store still works and the delete was rolled back");
    assert!(server.deleted_at.is_none());
}

#[test]
fn call_blocking_works_outside_the_runtime() {
    let store = store();
    let n = store
        .call_blocking(|conn| Ok(conn.query_row("SELECT 41 + 1", [], |r| r.get::<_, i64>(0))?))
        .expect("call");
    assert_eq!(n, 42);
}

// ---- servers and events ----

#[tokio::test]
async fn servers_crud_and_soft_delete_keeps_history() {
    let store = store();
    let id = add_server(&store, "alpha", "game-a").await;
    let other = add_server(&store, "beta", "game-b").await;

    let server = within(store.call(move |conn| servers::get(conn, id)))
        .await
        .expect("get");
    assert_eq!(server.name, "alpha");
    assert_eq!(server.adapter_id, "game-a");
    assert_eq!(server.settings, json!({ "port": 2302 }));
    assert_eq!(server.desired_state, DesiredState::Stopped);
    assert_eq!(server.actual_state, ActualState::Stopped);
    assert_eq!(server.restart, servers::RestartPolicy::default());
    assert!(server.created_at.ends_with('Z'), "{}", server.created_at);

    let seen = Observed {
        state: ActualState::Running,
        exit_code: None,
        process: Some(ProcessIdentity {
            pid: 4242,
            start_time: 987_654,
        }),
        last_error: None,
    };
    let seen_clone = seen.clone();
    within(store.call(move |conn| {
        servers::update_settings(conn, id, &json!({ "port": 2402, "password": "enc:v1:abc" }))?;
        servers::set_desired_state(conn, id, DesiredState::Running)?;
        servers::set_actual_state(conn, id, &seen_clone)?;
        events::append(
            conn,
            id,
            &events::NewEvent::new(events::kind::STATE_CHANGED, "running"),
        )?;
        Ok(())
    }))
    .await
    .expect("updates");

    let server = within(store.call(move |conn| servers::get(conn, id)))
        .await
        .expect("get");
    assert_eq!(server.settings["port"], 2402);
    assert_eq!(server.desired_state, DesiredState::Running);
    assert_eq!(server.actual_state, ActualState::Running);
    assert_eq!(server.process, seen.process);

    let reattach = within(store.call(|conn| servers::list_for_reattach(conn)))
        .await
        .expect("reattach");
    assert_eq!(reattach.iter().map(|s| s.id).collect::<Vec<_>>(), vec![id]);

    within(store.call(move |conn| servers::set_process(conn, id, None)))
        .await
        .expect("clear");
    within(store.call(move |conn| servers::soft_delete(conn, id)))
        .await
        .expect("delete");

    let listed = within(store.call(|conn| servers::list(conn)))
        .await
        .expect("list");
    assert_eq!(listed.iter().map(|s| s.id).collect::<Vec<_>>(), vec![other]);
    let gone = within(store.call(move |conn| servers::get(conn, id))).await;
    assert!(matches!(gone, Err(StoreError::NotFound(_))), "{gone:?}");
    let again = within(store.call(move |conn| servers::soft_delete(conn, id))).await;
    assert!(matches!(again, Err(StoreError::NotFound(_))), "{again:?}");

    let kept = within(store.call(move |conn| servers::get_including_deleted(conn, id)))
        .await
        .expect("history view");
    assert!(kept.deleted_at.is_some());
    assert!(kept.process.is_none());
    let history = within(store.call(move |conn| events::list(conn, id, None, 10)))
        .await
        .expect("events");
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].kind, "state_changed");
}

#[tokio::test]
async fn events_page_newest_first() {
    let store = store();
    let id = add_server(&store, "alpha", "game-a").await;
    within(store.call(move |conn| {
        for n in 1..=5 {
            let event = events::NewEvent::new(events::kind::CRASHED, format!("crash {n}"))
                .with_data(json!({ "n": n }));
            events::append(conn, id, &event)?;
        }
        Ok(())
    }))
    .await
    .expect("append");

    let first = within(store.call(move |conn| events::list(conn, id, None, 2)))
        .await
        .expect("page");
    assert_eq!(
        first.iter().map(|e| e.message.as_str()).collect::<Vec<_>>(),
        ["crash 5", "crash 4"]
    );
    assert_eq!(first[0].data, Some(json!({ "n": 5 })));
    let cursor = first[1].id;
    let second = within(store.call(move |conn| events::list(conn, id, Some(cursor), 10)))
        .await
        .expect("page");
    assert_eq!(
        second
            .iter()
            .map(|e| e.message.as_str())
            .collect::<Vec<_>>(),
        ["crash 3", "crash 2", "crash 1"]
    );
    let missing =
        within(store.call(|conn| events::append(conn, 999, &events::NewEvent::new("x", "y"))))
            .await;
    assert!(
        matches!(missing, Err(StoreError::NotFound(_))),
        "{missing:?}"
    );
}

// ---- jobs ----

#[tokio::test]
async fn claiming_takes_the_oldest_runnable_job() {
    let store = store();
    let a = add_server(&store, "a", "game-a").await;
    let b = add_server(&store, "b", "game-b").await;
    let a_start = enqueue(&store, NewJob::for_server(a, JobKind::Start, "alice")).await;
    let a_stop = enqueue(&store, NewJob::for_server(a, JobKind::Stop, "alice")).await;
    let b_start = enqueue(&store, NewJob::for_server(b, JobKind::Start, "bob")).await;

    let first = within(claim(&store)).await.expect("a job");
    assert_eq!(first.id, a_start);
    assert_eq!(first.state, JobState::Running);
    assert!(first.started_at.is_some());
    // a's next job waits for a_start; b's job may run.
    assert_eq!(within(claim(&store)).await.map(|j| j.id), Some(b_start));
    assert!(within(claim(&store)).await.is_none());
    within(finish(&store, a_start)).await;
    assert_eq!(within(claim(&store)).await.map(|j| j.id), Some(a_stop));
}

#[tokio::test]
async fn a_runtime_install_and_the_servers_using_it_exclude_each_other() {
    let store = store();
    let a = add_server(&store, "a", "game-a").await;
    let b = add_server(&store, "b", "game-b").await;

    // A running server job holds back its adapter's runtime install…
    let a_start = enqueue(&store, NewJob::for_server(a, JobKind::Start, "alice")).await;
    let install = enqueue(
        &store,
        NewJob::for_runtime("game-a", JobKind::Install, "admin"),
    )
    .await;
    let a_stop = enqueue(&store, NewJob::for_server(a, JobKind::Stop, "alice")).await;
    let b_start = enqueue(&store, NewJob::for_server(b, JobKind::Start, "bob")).await;
    assert_eq!(within(claim(&store)).await.map(|j| j.id), Some(a_start));
    assert_eq!(within(claim(&store)).await.map(|j| j.id), Some(b_start));
    assert!(within(claim(&store)).await.is_none());

    // …and a running install holds back every job on servers of that adapter.
    within(finish(&store, a_start)).await;
    assert_eq!(within(claim(&store)).await.map(|j| j.id), Some(install));
    assert!(
        within(claim(&store)).await.is_none(),
        "a_stop must wait for the install"
    );
    let second_install = enqueue(
        &store,
        NewJob::for_runtime("game-a", JobKind::Update, "admin"),
    )
    .await;
    assert!(
        within(claim(&store)).await.is_none(),
        "one install/update of a runtime at a time"
    );
    within(finish(&store, install)).await;
    assert_eq!(within(claim(&store)).await.map(|j| j.id), Some(a_stop));
    within(finish(&store, a_stop)).await;
    assert_eq!(
        within(claim(&store)).await.map(|j| j.id),
        Some(second_install)
    );

    let bad = within(store.call(|conn| {
        jobs::enqueue(
            conn,
            &NewJob::for_runtime("game-a", JobKind::Start, "admin"),
        )
    }))
    .await;
    assert!(matches!(bad, Err(StoreError::Conflict(_))), "{bad:?}");
    let missing = within(
        store.call(|conn| jobs::enqueue(conn, &NewJob::for_server(999, JobKind::Start, "x"))),
    )
    .await;
    assert!(
        matches!(missing, Err(StoreError::NotFound(_))),
        "{missing:?}"
    );
}

/// What a job locks while it runs, as the test sees it.
#[derive(Debug, Clone)]
struct Held {
    job: i64,
    server: Option<i64>,
    adapter: String,
    runtime: bool,
}

impl Held {
    fn conflicts_with(&self, other: &Held) -> bool {
        (self.server.is_some() && self.server == other.server)
            || ((self.runtime || other.runtime) && self.adapter == other.adapter)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_workers_never_run_conflicting_jobs_and_claim_each_job_once() {
    let store = store();
    let s1 = add_server(&store, "s1", "game-a").await;
    let s2 = add_server(&store, "s2", "game-a").await;
    let s3 = add_server(&store, "s3", "game-b").await;
    let adapters = [(s1, "game-a"), (s2, "game-a"), (s3, "game-b")];

    let mut all = Vec::new();
    for round in 0..6 {
        for (server, _) in adapters {
            all.push(enqueue(&store, NewJob::for_server(server, JobKind::Restart, "test")).await);
        }
        if round == 2 {
            all.push(
                enqueue(
                    &store,
                    NewJob::for_runtime("game-a", JobKind::Update, "admin"),
                )
                .await,
            );
        }
    }

    let running: Arc<Mutex<Vec<Held>>> = Arc::default();
    let claimed: Arc<Mutex<Vec<i64>>> = Arc::default();
    let most_at_once = Arc::new(Mutex::new(0usize));
    let total = all.len();

    let mut workers = Vec::new();
    for _ in 0..4 {
        let (store, running, claimed, most_at_once) = (
            store.clone(),
            running.clone(),
            claimed.clone(),
            most_at_once.clone(),
        );
        workers.push(tokio::spawn(async move {
            loop {
                let Some(job) = claim(&store).await else {
                    if claimed.lock().expect("lock").len() == total {
                        let finished = store
                            .call(|conn| {
                                Ok(jobs::list(
                                    conn,
                                    &JobFilter {
                                        state: Some(JobState::Running),
                                        ..Default::default()
                                    },
                                )?
                                .is_empty())
                            })
                            .await
                            .expect("list");
                        if finished {
                            return;
                        }
                    }
                    tokio::time::sleep(Duration::from_millis(1)).await;
                    continue;
                };
                let held = Held {
                    job: job.id,
                    server: job.server_id,
                    adapter: job.runtime_adapter.clone().unwrap_or_else(|| {
                        adapters
                            .iter()
                            .find(|(s, _)| Some(*s) == job.server_id)
                            .map(|(_, a)| (*a).to_owned())
                            .expect("known server")
                    }),
                    runtime: job.runtime_adapter.is_some(),
                };
                {
                    let mut now = running.lock().expect("lock");
                    if let Some(clash) = now.iter().find(|other| other.conflicts_with(&held)) {
                        panic!("{held:?} claimed while {clash:?} runs");
                    }
                    now.push(held);
                    let mut most = most_at_once.lock().expect("lock");
                    *most = (*most).max(now.len());
                    claimed.lock().expect("lock").push(job.id);
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
                // Leave the test's view first: the store still says running until `finish`.
                running.lock().expect("lock").retain(|h| h.job != job.id);
                finish(&store, job.id).await;
            }
        }));
    }
    within(async {
        for worker in workers {
            worker.await.expect("worker");
        }
    })
    .await;

    let mut claimed = claimed.lock().expect("lock").clone();
    claimed.sort_unstable();
    assert_eq!(claimed, all, "every job claimed exactly once");
    assert!(
        *most_at_once.lock().expect("lock") >= 2,
        "workers ran in parallel"
    );
    let left = within(store.call(|conn| {
        jobs::list(
            conn,
            &JobFilter {
                state: Some(JobState::Succeeded),
                limit: 1000,
                ..Default::default()
            },
        )
    }))
    .await
    .expect("list");
    assert_eq!(left.len(), total);
}

#[tokio::test]
async fn cancelling_a_queued_job_is_immediate_and_a_running_one_sets_the_flag() {
    let store = store();
    let a = add_server(&store, "a", "game-a").await;
    let running = enqueue(&store, NewJob::for_server(a, JobKind::Install, "alice")).await;
    let queued = enqueue(&store, NewJob::for_server(a, JobKind::Start, "alice")).await;
    assert_eq!(within(claim(&store)).await.map(|j| j.id), Some(running));

    match within(store.call(move |conn| jobs::request_cancel(conn, queued))).await {
        Ok(CancelOutcome::Cancelled(job)) => {
            assert_eq!(job.state, JobState::Cancelled);
            assert!(job.finished_at.is_some());
        }
        other => panic!("expected Cancelled, got {other:?}"),
    }
    match within(store.call(move |conn| jobs::request_cancel(conn, running))).await {
        Ok(CancelOutcome::Requested(job)) => {
            assert_eq!(job.state, JobState::Running);
            assert!(job.cancel_requested);
        }
        other => panic!("expected Requested, got {other:?}"),
    }
    // The worker notices, terminates the step and records it.
    let done = within(store.call(move |conn| {
        jobs::finish(
            conn,
            running,
            &JobOutcome::Cancelled {
                exit_code: Some(143),
            },
        )
    }))
    .await
    .expect("finish");
    assert_eq!(done.state, JobState::Cancelled);
    assert_eq!(done.exit_code, Some(143));
    assert!(
        within(claim(&store)).await.is_none(),
        "the cancelled job never runs"
    );

    let late = within(store.call(move |conn| jobs::request_cancel(conn, running))).await;
    assert!(matches!(late, Err(StoreError::Conflict(_))), "{late:?}");
    let twice =
        within(store.call(move |conn| {
            jobs::finish(conn, running, &JobOutcome::Succeeded { exit_code: None })
        }))
        .await;
    assert!(matches!(twice, Err(StoreError::Conflict(_))), "{twice:?}");
}

#[tokio::test]
async fn boot_fails_jobs_left_running_by_a_dead_host() {
    let store = store();
    let a = add_server(&store, "a", "game-a").await;
    let b = add_server(&store, "b", "game-b").await;
    let ja = enqueue(&store, NewJob::for_server(a, JobKind::Start, "alice")).await;
    let jb = enqueue(&store, NewJob::for_server(b, JobKind::Start, "bob")).await;
    let waiting = enqueue(&store, NewJob::for_server(a, JobKind::Stop, "alice")).await;
    within(claim(&store)).await.expect("ja");
    within(claim(&store)).await.expect("jb");

    let failed = within(store.call(|conn| jobs::fail_stale_running(conn, "host restarted")))
        .await
        .expect("fail stale");
    assert_eq!(failed, vec![ja, jb]);
    let job = within(store.call(move |conn| jobs::get(conn, ja)))
        .await
        .expect("get");
    assert_eq!(job.state, JobState::Failed);
    assert_eq!(job.error.as_deref(), Some("host restarted"));
    assert!(job.finished_at.is_some());
    let job = within(store.call(move |conn| jobs::get(conn, waiting)))
        .await
        .expect("get");
    assert_eq!(job.state, JobState::Queued);
    assert_eq!(within(claim(&store)).await.map(|j| j.id), Some(waiting));
}

#[tokio::test]
async fn progress_is_recorded_for_running_jobs_only() {
    let store = store();
    let a = add_server(&store, "a", "game-a").await;
    let id = enqueue(&store, NewJob::for_server(a, JobKind::Install, "alice")).await;
    let early = within(store.call(move |conn| jobs::set_progress(conn, id, 10.0))).await;
    assert!(!early.expect("progress"), "queued jobs have no progress");
    within(claim(&store)).await.expect("claim");

    within(store.call(move |conn| jobs::set_progress(conn, id, 42.5)))
        .await
        .expect("progress");
    let job = within(store.call(move |conn| jobs::get(conn, id)))
        .await
        .expect("get");
    assert_eq!(job.progress, Some(42.5));
    within(store.call(move |conn| jobs::set_progress(conn, id, 250.0)))
        .await
        .expect("progress");
    let job = within(store.call(move |conn| jobs::get(conn, id)))
        .await
        .expect("get");
    assert_eq!(job.progress, Some(100.0), "clamped");
    within(store.call(move |conn| jobs::set_progress(conn, id, 97.0)))
        .await
        .expect("progress");
    within(finish(&store, id)).await;
    let job = within(store.call(move |conn| jobs::get(conn, id)))
        .await
        .expect("get");
    assert_eq!(job.progress, Some(100.0), "success completes the bar");
}

#[tokio::test]
async fn jobs_list_filters_and_pages_by_id() {
    let store = store();
    let a = add_server(&store, "a", "game-a").await;
    let b = add_server(&store, "b", "game-b").await;
    let mut on_a = Vec::new();
    for _ in 0..5 {
        on_a.push(enqueue(&store, NewJob::for_server(a, JobKind::Start, "alice")).await);
        enqueue(&store, NewJob::for_server(b, JobKind::Start, "bob")).await;
    }
    let first_a = on_a[0];
    within(claim(&store)).await.expect("claims a's first job");

    let page = |filter: JobFilter| {
        let store = store.clone();
        async move {
            within(store.call(move |conn| jobs::list(conn, &filter)))
                .await
                .expect("list")
                .into_iter()
                .map(|j| j.id)
                .collect::<Vec<_>>()
        }
    };
    let first = page(JobFilter {
        server_id: Some(a),
        limit: 2,
        ..Default::default()
    })
    .await;
    assert_eq!(first, vec![on_a[4], on_a[3]]);
    let rest = page(JobFilter {
        server_id: Some(a),
        before_id: Some(on_a[3]),
        limit: 10,
        ..Default::default()
    })
    .await;
    assert_eq!(rest, vec![on_a[2], on_a[1], on_a[0]]);
    let running = page(JobFilter {
        state: Some(JobState::Running),
        ..Default::default()
    })
    .await;
    assert_eq!(running, vec![first_a]);
    let everything = page(JobFilter::default()).await;
    assert_eq!(everything.len(), 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_log_appends_get_gap_free_sequences() {
    let store = store();
    let a = add_server(&store, "a", "game-a").await;
    let id = enqueue(&store, NewJob::for_server(a, JobKind::Install, "alice")).await;

    let writer = |stream: LogStream| {
        let store = store.clone();
        tokio::spawn(async move {
            for batch in 0..40 {
                let lines: Vec<(LogStream, String)> = (0..3)
                    .map(|n| (stream, format!("{stream} {batch}.{n}")))
                    .collect();
                store
                    .call(move |conn| jobs::append_logs(conn, id, &lines))
                    .await
                    .expect("append");
                tokio::task::yield_now().await;
            }
        })
    };
    let (out, err) = (writer(LogStream::Stdout), writer(LogStream::Stderr));
    within(async {
        out.await.expect("stdout writer");
        err.await.expect("stderr writer");
    })
    .await;

    let mut lines = Vec::new();
    let mut after = 0;
    loop {
        let page = within(store.call(move |conn| jobs::logs(conn, id, after, 50)))
            .await
            .expect("logs");
        let Some(last) = page.last() else { break };
        after = last.seq;
        lines.extend(page);
    }
    assert_eq!(
        lines.iter().map(|l| l.seq).collect::<Vec<_>>(),
        (1..=240).collect::<Vec<_>>()
    );
    // Each stream's own lines keep their order.
    for stream in [LogStream::Stdout, LogStream::Stderr] {
        let own: Vec<&str> = lines
            .iter()
            .filter(|l| l.stream == stream)
            .map(|l| l.line.as_str())
            .collect();
        let expected: Vec<String> = (0..40)
            .flat_map(|batch| (0..3).map(move |n| format!("{stream} {batch}.{n}")))
            .collect();
        assert_eq!(own, expected);
    }
    let last =
        within(store.call(move |conn| jobs::append_logs(conn, id, &[(LogStream::System, "done")])))
            .await
            .expect("append");
    assert_eq!(last, 241);
    let missing =
        within(store.call(|conn| jobs::append_logs(conn, 999, &[(LogStream::System, "x")]))).await;
    assert!(
        matches!(missing, Err(StoreError::NotFound(_))),
        "{missing:?}"
    );
    let seen: HashSet<i64> = lines.iter().map(|l| l.seq).collect();
    assert_eq!(seen.len(), 240);
}

#[tokio::test]
async fn the_server_list_comes_from_memory_until_a_server_row_changes() {
    let store = store();
    let id = add_server(&store, "alpha", "game-a").await;
    let first = within(store.server_summaries()).await.expect("list");
    assert_eq!(
        first.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(),
        ["alpha"]
    );
    // Nothing changed: the same rows, not read again.
    let again = within(store.server_summaries()).await.expect("list");
    assert!(Arc::ptr_eq(&first, &again));
    // Writes to other tables leave it alone.
    within(
        store.call(move |conn| {
            events::append(conn, id, &NewEvent::new("note", "something happened"))
        }),
    )
    .await
    .expect("event");
    let after_event = within(store.server_summaries()).await.expect("list");
    assert!(Arc::ptr_eq(&first, &after_event));

    // Every kind of change to a server row is seen at once.
    within(store.call(move |conn| servers::set_desired_state(conn, id, DesiredState::Running)))
        .await
        .expect("desired");
    let changed = within(store.server_summaries()).await.expect("list");
    assert_eq!(changed[0].desired_state, DesiredState::Running);
    let other = add_server(&store, "beta", "game-b").await;
    let added = within(store.server_summaries()).await.expect("list");
    assert_eq!(added.iter().map(|s| s.id).collect::<Vec<_>>(), [id, other]);
    within(store.call(move |conn| servers::soft_delete(conn, id)))
        .await
        .expect("delete");
    let deleted = within(store.server_summaries()).await.expect("list");
    assert_eq!(deleted.iter().map(|s| s.id).collect::<Vec<_>>(), [other]);
    // A write that is rolled back leaves the rows as they were (read again, still right).
    let rolled_back = within(store.call(move |conn| {
        let tx = conn.transaction()?;
        servers::set_desired_state(&tx, other, DesiredState::Running)?;
        drop(tx);
        Ok(())
    }))
    .await;
    assert!(rolled_back.is_ok());
    let after_rollback = within(store.server_summaries()).await.expect("list");
    assert_eq!(after_rollback[0].desired_state, DesiredState::Stopped);
}
