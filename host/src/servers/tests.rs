use std::sync::{Arc, OnceLock};
use std::time::Duration;

use serde_json::json;

use super::executor::ServerExecutor;
use super::*;
use crate::adapters::SandboxConfig;
use crate::jobs::JobQueue;
use crate::store::servers::ActualState;
use crate::store::{Job, JobKind, JobState, NewJob, events, jobs};

/// One adapter runtime for these tests: compiling the built-ins is the slow part.
fn adapters() -> AdapterRuntime {
    static ADAPTERS: OnceLock<AdapterRuntime> = OnceLock::new();
    ADAPTERS
        .get_or_init(|| {
            let config = SandboxConfig {
                max_instances: Some(32),
                ..SandboxConfig::default()
            };
            let runtime = AdapterRuntime::new(config, None).expect("runtime");
            runtime.load_builtins().expect("built-ins");
            runtime
        })
        .clone()
}

fn secrets() -> SecretBox {
    SecretBox::from_base64("AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=").expect("key")
}

/// A host's server layer and job queue on `dir` (as `run` would build them).
async fn host(dir: &Path) -> (Servers, JobQueue) {
    let path = dir.join("garrison.db");
    let store = tokio::task::spawn_blocking(move || Store::open(&path))
        .await
        .expect("join")
        .expect("store");
    let servers = Servers::new(store.clone(), adapters(), secrets(), dir);
    let executor = Arc::new(ServerExecutor::new(servers.clone(), None));
    let queue = JobQueue::start(store, executor, 2).await.expect("queue");
    (servers, queue)
}

/// Enqueues `kind` on server `id` and waits (bounded) until the job has finished.
async fn run_job(servers: &Servers, queue: &JobQueue, id: i64, kind: JobKind) -> Job {
    let job = queue
        .enqueue(NewJob::for_server(id, kind, "test"))
        .await
        .expect("enqueue");
    let limit = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let job_id = job.id;
        let now = servers
            .store()
            .call(move |conn| jobs::get(conn, job_id))
            .await
            .expect("job");
        if now.state.is_finished() {
            return now;
        }
        assert!(
            tokio::time::Instant::now() < limit,
            "job never finished: {now:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits (bounded) until the stored server matches `done`.
async fn server_until(servers: &Servers, id: i64, done: impl Fn(&Server) -> bool) -> Server {
    let limit = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let server = servers.get(id).await.expect("server");
        if done(&server) {
            return server;
        }
        assert!(
            tokio::time::Instant::now() < limit,
            "server never matched: {server:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// How many log lines of server `id` are stored.
async fn stored_lines(servers: &Servers, id: i64) -> i64 {
    servers
        .store()
        .call(move |conn| crate::store::logs::last_seq(conn, id))
        .await
        .expect("last seq")
}

/// Processes whose command line contains `marker`.
fn processes_with(marker: &str) -> usize {
    // (pid, parent pid) of every process whose command line names the marker.
    let matching: Vec<(u32, u32)> = std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let pid: u32 = e.file_name().to_str()?.parse().ok()?;
            let cmd = std::fs::read(e.path().join("cmdline")).ok()?;
            if !String::from_utf8_lossy(&cmd).contains(marker) {
                return None;
            }
            // `pid (comm) state ppid …`; comm may hold spaces, so read after the last `)`.
            let stat = std::fs::read_to_string(e.path().join("stat")).ok()?;
            let ppid = stat
                .rsplit_once(')')?
                .1
                .split_whitespace()
                .nth(1)?
                .parse()
                .ok()?;
            Some((pid, ppid))
        })
        .collect();
    // A shell's child between fork and exec still carries the shell's command line: it is
    // the same game, not a second one.
    matching
        .iter()
        .filter(|(_, ppid)| !matching.iter().any(|(pid, _)| pid == ppid))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_survives_a_host_restart_and_is_never_launched_twice() {
    let dir = tempfile::tempdir().expect("tempdir");
    // A unique sleep length marks this test's game process among all processes.
    let marker = format!("{}.{}", 60 + std::process::id() % 1000, 7);
    let (servers, queue) = host(dir.path()).await;
    let server = servers
        .settings()
        .create(
            "sleepy",
            "generic",
            json!({
                "executable": "/bin/sh",
                // Writes a numbered line every 10 ms for as long as it runs; the marker
                // (never reached) names the process.
                "args": ["-c", format!(
                    "echo started; echo game is ready; n=0; \
                     while [ $n -lt 1000000 ]; do n=$((n+1)); echo tick $n; sleep 0.01; done; \
                     sleep {marker}"
                )],
                "ready_pattern": "game is ready",
                "stop_signal_grace_secs": 2,
            }),
        )
        .await
        .expect("create");

    let job = run_job(&servers, &queue, server.id, JobKind::Start).await;
    assert_eq!(job.state, JobState::Succeeded, "{job:?}");
    // Running only once the log pipeline has read the ready line.
    let running = server_until(&servers, server.id, |s| {
        s.actual_state == ActualState::Running && s.process.is_some()
    })
    .await;
    assert_eq!(running.desired_state, DesiredState::Running);
    let pid = running.process.expect("process").pid;
    assert_eq!(processes_with(&marker), 1);
    let console = dir
        .path()
        .join(format!("servers/{}/console/console.log", server.id));
    let limit = tokio::time::Instant::now() + Duration::from_secs(10);
    while !std::fs::read_to_string(&console).is_ok_and(|c| c.contains("started")) {
        assert!(
            tokio::time::Instant::now() < limit,
            "console log never written"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // The host goes away without stopping the game...
    let before = stored_lines(&servers, server.id).await;
    servers.detach_all().await;
    queue.shutdown().await;
    drop(servers);
    assert_eq!(processes_with(&marker), 1, "the game outlives the host");

    // ...and a new host on the same data directory reattaches instead of launching.
    let (servers, queue) = host(dir.path()).await;
    assert_eq!(servers.reattach().all().await.expect("reattach"), 1);
    let reattached = servers.get(server.id).await.expect("server");
    assert_eq!(reattached.actual_state, ActualState::Running);
    assert_eq!(reattached.process.map(|p| p.pid), Some(pid));
    // The new host follows the log on from where the old one stopped.
    let limit = tokio::time::Instant::now() + Duration::from_secs(20);
    while stored_lines(&servers, server.id).await < before + 20 {
        assert!(
            tokio::time::Instant::now() < limit,
            "the log is not followed"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // A start now is refused rather than launching a duplicate.
    let again = run_job(&servers, &queue, server.id, JobKind::Start).await;
    assert_eq!(again.state, JobState::Failed, "{again:?}");
    assert_eq!(processes_with(&marker), 1, "never launched twice");

    let stop = run_job(&servers, &queue, server.id, JobKind::Stop).await;
    assert_eq!(stop.state, JobState::Succeeded, "{stop:?}");
    let stopped = server_until(&servers, server.id, |s| {
        s.actual_state == ActualState::Stopped
    })
    .await;
    assert_eq!(stopped.desired_state, DesiredState::Stopped);
    assert_eq!(processes_with(&marker), 0, "stopped for real");

    let id = server.id;
    let history = servers
        .store()
        .call(move |conn| events::list(conn, id, None, 100))
        .await
        .expect("events");
    let kinds: Vec<&str> = history.iter().map(|e| e.kind.as_str()).collect();
    assert!(kinds.contains(&"reattached"), "{kinds:?}");
    // Newest first.
    let states: Vec<&str> = history
        .iter()
        .rev()
        .filter_map(|e| e.data.as_ref()?.get("state")?.as_str())
        .collect();
    assert!(
        states.windows(2).any(|w| w == ["starting", "running"]),
        "ready detection moved the server from starting to running: {states:?}"
    );

    // The log was followed across the host restart: every line once, in order.
    let lines = servers
        .store()
        .call(move |conn| crate::store::logs::after(conn, id, 0, 1_000_000))
        .await
        .expect("logs");
    let texts: Vec<&str> = lines.iter().map(|l| l.text.as_str()).collect();
    assert_eq!(texts[..2], ["started", "game is ready"]);
    let ticks: Vec<u64> = texts[2..]
        .iter()
        .map(|t| {
            t.strip_prefix("tick ")
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("unexpected line {t:?}"))
        })
        .collect();
    assert_eq!(
        ticks,
        (1..=ticks.len() as u64).collect::<Vec<_>>(),
        "no line lost or repeated"
    );
    assert!(
        !kinds.contains(&"crashed"),
        "an ordered stop is not a crash: {kinds:?}"
    );
    queue.shutdown().await;
    servers.detach_all().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_game_that_died_while_the_host_was_away_is_marked_crashed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (servers, queue) = host(dir.path()).await;
    let server = servers
        .settings()
        .create(
            "short",
            "generic",
            json!({"executable": "/bin/sh", "args": ["-c", "exec sleep 30"]}),
        )
        .await
        .expect("create");
    assert_eq!(
        run_job(&servers, &queue, server.id, JobKind::Start)
            .await
            .state,
        JobState::Succeeded
    );
    let running = server_until(&servers, server.id, |s| s.process.is_some()).await;
    servers.detach_all().await;
    queue.shutdown().await;
    // The game dies while no host watches it.
    let pid = running.process.expect("process").pid;
    let _ = rustix::process::kill_process(
        rustix::process::Pid::from_raw(i32::try_from(pid).expect("pid")).expect("pid"),
        rustix::process::Signal::KILL,
    );
    tokio::time::sleep(Duration::from_millis(200)).await;

    let (servers, queue) = host(dir.path()).await;
    assert_eq!(servers.reattach().all().await.expect("reattach"), 0);
    let after = server_until(&servers, server.id, |s| {
        s.actual_state == ActualState::Crashed
    })
    .await;
    assert!(after.process.is_none());
    queue.shutdown().await;
    servers.detach_all().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drift_is_corrected_and_last_error_follows_jobs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (servers, queue) = host(dir.path()).await;
    let server = servers
        .settings()
        .create(
            "drifty",
            "generic",
            json!({"executable": "/bin/sh", "args": ["-c", "exec sleep 30"]}),
        )
        .await
        .expect("create");

    // Asked to run, observed stopped, no job: the drift check starts it.
    servers
        .set_desired(server.id, DesiredState::Running)
        .await
        .expect("desired");
    let queued = reconcile::reconcile_once(&servers, &queue.handle())
        .await
        .expect("reconcile");
    assert_eq!(queued, 1);
    server_until(&servers, server.id, |s| {
        s.actual_state == ActualState::Running
    })
    .await;
    // While it matches, nothing is queued.
    let limit = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let id = server.id;
        let busy = servers
            .store()
            .call(move |conn| Ok(crate::store::servers::busy_ids(conn)?.contains(&id)))
            .await
            .expect("busy");
        if !busy {
            break;
        }
        assert!(
            tokio::time::Instant::now() < limit,
            "the start job never finished"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        reconcile::reconcile_once(&servers, &queue.handle())
            .await
            .expect("reconcile"),
        0
    );
    let id = server.id;
    let history = servers
        .store()
        .call(move |conn| events::list(conn, id, None, 100))
        .await
        .expect("events");
    assert!(history.iter().any(|e| e.kind == "drift"), "{history:?}");

    // A failing job sets the server's last error; a succeeding one clears it.
    let refused = run_job(&servers, &queue, server.id, JobKind::Start).await;
    assert_eq!(refused.state, JobState::Failed);
    let after = servers.get(server.id).await.expect("server");
    assert!(
        after
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("running")),
        "{after:?}"
    );
    let stop = run_job(&servers, &queue, server.id, JobKind::Stop).await;
    assert_eq!(stop.state, JobState::Succeeded);
    assert_eq!(
        servers.get(server.id).await.expect("server").last_error,
        None
    );
    queue.shutdown().await;
    servers.detach_all().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recorded_pid_now_used_by_another_process_is_not_adopted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (servers, queue) = host(dir.path()).await;
    let server = servers
        .settings()
        .create(
            "victim",
            "generic",
            json!({"executable": "/bin/sh", "args": ["-c", "exec sleep 30"]}),
        )
        .await
        .expect("create");
    // An unrelated live process (this test's own) recorded with a start time that is not its
    // own: the same pid number, another process.
    let unrelated = std::process::id();
    let id = server.id;
    servers
        .store()
        .call(move |conn| {
            crate::store::servers::set_desired_state(conn, id, DesiredState::Running)?;
            crate::store::servers::set_actual_state(
                conn,
                id,
                &crate::store::servers::Observed {
                    state: ActualState::Running,
                    exit_code: None,
                    process: Some(crate::store::servers::ProcessIdentity {
                        pid: unrelated,
                        start_time: 1,
                    }),
                    last_error: None,
                },
            )
        })
        .await
        .expect("record");
    queue.shutdown().await;
    servers.detach_all().await;

    let (servers, queue) = host(dir.path()).await;
    assert_eq!(servers.reattach().all().await.expect("reattach"), 0);
    let after = server_until(&servers, id, |s| s.actual_state == ActualState::Crashed).await;
    assert!(
        after.process.is_none(),
        "the unrelated process was not adopted"
    );
    queue.shutdown().await;
    servers.detach_all().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_recorded_running_without_a_process_is_not_left_running() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (servers, queue) = host(dir.path()).await;
    let server = servers
        .settings()
        .create(
            "orphan",
            "generic",
            json!({"executable": "/bin/sh", "args": ["-c", "exec sleep 30"]}),
        )
        .await
        .expect("create");
    let id = server.id;
    servers
        .store()
        .call(move |conn| {
            crate::store::servers::set_desired_state(conn, id, DesiredState::Running)?;
            crate::store::servers::set_actual_state(
                conn,
                id,
                &crate::store::servers::Observed {
                    state: ActualState::Running,
                    exit_code: None,
                    process: None,
                    last_error: None,
                },
            )
        })
        .await
        .expect("record");
    queue.shutdown().await;
    servers.detach_all().await;

    let (servers, queue) = host(dir.path()).await;
    assert_eq!(servers.reattach().all().await.expect("reattach"), 0);
    let after = servers.get(id).await.expect("server");
    assert_eq!(after.actual_state, ActualState::Crashed);
    let history = servers
        .store()
        .call(move |conn| events::list(conn, id, None, 10))
        .await
        .expect("events");
    assert!(history.iter().any(|e| e.kind == "gone"), "{history:?}");
    queue.shutdown().await;
    servers.detach_all().await;
}
