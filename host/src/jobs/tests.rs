//! The job queue's specification: waking, exclusivity, outcomes, cancellation, log
//! sequencing, SteamCMD handling and recovery after a host restart.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustix::process::{Pid, test_kill_process_group};
use serde_json::json;

use super::steamcmd::{self, SteamLogin, SteamcmdApp, WorkshopItem};
use super::step::read_line_capped;
use super::{JobContext, JobExecutor, JobFailure, JobFuture, JobQueue, StepCommand, StepSuccess};
use crate::secrets::MASK;
use crate::store::{
    CancelOutcome, Job, JobKind, JobLogLine, JobState, LogStream, NewJob, NewServer, Store, jobs,
    servers,
};

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

async fn add_server(store: &Store, name: &str) -> i64 {
    let new = NewServer::new(name, "fake-game", json!({ "port": 2302 }));
    store
        .call(move |conn| servers::insert(conn, &new))
        .await
        .expect("insert server")
        .id
}

async fn get(store: &Store, id: i64) -> Job {
    store
        .call(move |conn| jobs::get(conn, id))
        .await
        .expect("get job")
}

/// Polls the store (tests only) until `id` is in a state `done` accepts.
async fn wait_for(store: &Store, id: i64, done: impl Fn(&Job) -> bool) -> Job {
    within(async {
        loop {
            let job = get(store, id).await;
            if done(&job) {
                return job;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
}

async fn finished(store: &Store, id: i64) -> Job {
    wait_for(store, id, |job| job.state.is_finished()).await
}

async fn log_lines(store: &Store, id: i64) -> Vec<JobLogLine> {
    store
        .call(move |conn| jobs::logs(conn, id, 0, 10_000))
        .await
        .expect("job logs")
}

type RunFn = dyn Fn(Job, JobContext) -> JobFuture + Send + Sync;

/// An executor made of a closure.
struct FnExecutor(Box<RunFn>);

impl JobExecutor for FnExecutor {
    fn run(&self, job: Job, ctx: JobContext) -> JobFuture {
        (self.0)(job, ctx)
    }
}

fn executor(
    run: impl Fn(Job, JobContext) -> JobFuture + Send + Sync + 'static,
) -> Arc<dyn JobExecutor> {
    Arc::new(FnExecutor(Box::new(run)))
}

/// An executor whose every job runs one `sh -c` script.
fn shell_executor(script: impl Into<String>) -> Arc<dyn JobExecutor> {
    let script: String = script.into();
    executor(move |_job, ctx| {
        let script = script.clone();
        Box::pin(async move { shell(&ctx, &script).await })
    })
}

async fn shell(ctx: &JobContext, script: &str) -> Result<StepSuccess, JobFailure> {
    let code = ctx
        .run_step(StepCommand::new("sh").args(["-c", script]))
        .await?;
    Ok(StepSuccess {
        exit_code: Some(code),
    })
}

fn group_exists(pgid: i32) -> bool {
    let pid = Pid::from_raw(pgid).expect("positive pid");
    test_kill_process_group(pid).is_ok()
}

/// Waits until process group `pgid` is gone. Members the step's leader left behind are
/// reaped by init, a moment (here up to seconds) after they died, so this cannot be checked
/// at one instant.
async fn group_gone(pgid: i32) -> bool {
    tokio::time::timeout(Duration::from_secs(8), async {
        while group_exists(pgid) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .is_ok()
}

/// Waits until `path` holds a pid.
async fn read_pid(path: &Path) -> i32 {
    within(async {
        loop {
            if let Ok(text) = std::fs::read_to_string(path)
                && let Ok(pid) = text.trim().parse()
            {
                return pid;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
}

#[tokio::test]
async fn an_enqueued_job_wakes_an_idle_worker() {
    let store = store();
    let server = add_server(&store, "alpha").await;
    let queue = JobQueue::start(store.clone(), shell_executor("echo hello"), 1)
        .await
        .expect("start");
    // Let the worker find the queue empty and go to sleep: only a wake-up can start the job
    // before the 30 s safety sweep.
    tokio::time::sleep(Duration::from_millis(100)).await;
    // `finished` gives up after DEADLINE, well before the sweep: a job that finishes was
    // started by the wake-up (no clock read, so a loaded machine cannot make this flaky).
    const { assert!(DEADLINE.as_secs() < super::SAFETY_SWEEP.as_secs()) };
    let job = queue
        .enqueue(NewJob::for_server(server, JobKind::Start, "alice"))
        .await
        .expect("enqueue");
    let job = finished(&store, job.id).await;
    assert_eq!(job.state, JobState::Succeeded);
    assert_eq!(job.exit_code, Some(0));
    assert_eq!(job.requested_by, "alice");
    assert!(job.started_at.is_some() && job.finished_at.is_some());
    let lines = log_lines(&store, job.id).await;
    assert!(
        lines
            .iter()
            .any(|l| l.stream == LogStream::Stdout && l.line == "hello")
    );
    assert_eq!(lines[0].line, "$ sh -c 'echo hello'");
    within(queue.shutdown()).await;
}

#[derive(Default)]
struct Activity {
    active: usize,
    max_active: usize,
    per_server: HashMap<i64, usize>,
    max_per_server: usize,
}

#[tokio::test]
async fn servers_run_concurrently_but_one_job_per_server() {
    let store = store();
    let a = add_server(&store, "a").await;
    let b = add_server(&store, "b").await;
    let activity = Arc::new(Mutex::new(Activity::default()));
    let seen = activity.clone();
    let exec = executor(move |job, _ctx| {
        let activity = seen.clone();
        Box::pin(async move {
            let server = job.server_id.unwrap_or_default();
            {
                let mut a = activity.lock().expect("activity");
                a.active += 1;
                a.max_active = a.max_active.max(a.active);
                let here = a.per_server.entry(server).or_default();
                *here += 1;
                let here = *here;
                a.max_per_server = a.max_per_server.max(here);
            }
            // Wait (bounded) until another job runs beside this one.
            let _ = tokio::time::timeout(Duration::from_secs(3), async {
                while activity.lock().expect("activity").max_active < 2 {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            })
            .await;
            tokio::time::sleep(Duration::from_millis(50)).await;
            {
                let mut a = activity.lock().expect("activity");
                a.active -= 1;
                *a.per_server.entry(server).or_default() -= 1;
            }
            Ok(StepSuccess::default())
        })
    });
    let queue = JobQueue::start(store.clone(), exec, 2)
        .await
        .expect("start");
    let mut ids = Vec::new();
    for (server, kind) in [
        (a, JobKind::Install),
        (a, JobKind::Start),
        (b, JobKind::Install),
        (b, JobKind::Start),
    ] {
        let job = queue
            .enqueue(NewJob::for_server(server, kind, "alice"))
            .await
            .expect("enqueue");
        ids.push(job.id);
    }
    for id in ids {
        assert_eq!(finished(&store, id).await.state, JobState::Succeeded);
    }
    {
        let a = activity.lock().expect("activity");
        assert_eq!(
            a.max_active, 2,
            "jobs of different servers ran concurrently"
        );
        assert_eq!(a.max_per_server, 1, "never two jobs of one server at once");
    }
    within(queue.shutdown()).await;
}

#[tokio::test]
async fn a_failing_step_fails_the_job_with_its_exit_code() {
    let store = store();
    let server = add_server(&store, "alpha").await;
    let queue = JobQueue::start(store.clone(), shell_executor("echo boom >&2; exit 7"), 1)
        .await
        .expect("start");
    let job = queue
        .enqueue(NewJob::for_server(server, JobKind::Install, "alice"))
        .await
        .expect("enqueue");
    let job = finished(&store, job.id).await;
    assert_eq!(job.state, JobState::Failed);
    assert_eq!(job.exit_code, Some(7));
    assert_eq!(job.error.as_deref(), Some("sh exited with code 7"));
    let lines = log_lines(&store, job.id).await;
    assert!(
        lines
            .iter()
            .any(|l| l.stream == LogStream::Stderr && l.line == "boom")
    );
    within(queue.shutdown()).await;
}

#[tokio::test]
async fn a_panicking_executor_fails_the_job_and_the_worker_carries_on() {
    let store = store();
    let server = add_server(&store, "alpha").await;
    let exec = executor(|job, _ctx| {
        Box::pin(async move {
            if job.kind == JobKind::Kill {
                panic!("executor exploded");
            }
            Ok(StepSuccess::default())
        })
    });
    let queue = JobQueue::start(store.clone(), exec, 1)
        .await
        .expect("start");
    let doomed = queue
        .enqueue(NewJob::for_server(server, JobKind::Kill, "alice"))
        .await
        .expect("enqueue");
    let doomed = finished(&store, doomed.id).await;
    assert_eq!(doomed.state, JobState::Failed);
    assert_eq!(doomed.exit_code, Some(1));
    let error = doomed.error.unwrap_or_default();
    assert!(error.contains("executor exploded"), "{error}");

    let next = queue
        .enqueue(NewJob::for_server(server, JobKind::Start, "alice"))
        .await
        .expect("enqueue");
    assert_eq!(finished(&store, next.id).await.state, JobState::Succeeded);
    within(queue.shutdown()).await;
}

#[tokio::test]
async fn an_executor_error_fails_the_job_with_exit_code_1() {
    let store = store();
    let server = add_server(&store, "alpha").await;
    let exec = executor(|_job, _ctx| {
        Box::pin(async { Err(JobFailure::error("the adapter refused the settings")) })
    });
    let queue = JobQueue::start(store.clone(), exec, 1)
        .await
        .expect("start");
    let job = queue
        .enqueue(NewJob::for_server(server, JobKind::Initialize, "alice"))
        .await
        .expect("enqueue");
    let job = finished(&store, job.id).await;
    assert_eq!(job.state, JobState::Failed);
    assert_eq!(job.exit_code, Some(1));
    assert_eq!(
        job.error.as_deref(),
        Some("the adapter refused the settings")
    );
    within(queue.shutdown()).await;
}

#[tokio::test]
async fn a_cancelled_queued_job_never_runs() {
    let store = store();
    let server = add_server(&store, "alpha").await;
    let ran = Arc::new(Mutex::new(Vec::new()));
    let record = ran.clone();
    let exec = executor(move |job, ctx| {
        record.lock().expect("ran").push(job.id);
        Box::pin(async move {
            if job.kind == JobKind::Install {
                // Blocks the server until cancelled.
                ctx.cancelled().cancelled().await;
                return Err(JobFailure::Cancelled { exit_code: None });
            }
            Ok(StepSuccess::default())
        })
    });
    let queue = JobQueue::start(store.clone(), exec, 1)
        .await
        .expect("start");
    let blocker = queue
        .enqueue(NewJob::for_server(server, JobKind::Install, "alice"))
        .await
        .expect("enqueue");
    wait_for(&store, blocker.id, |job| job.state == JobState::Running).await;
    let waiting = queue
        .enqueue(NewJob::for_server(server, JobKind::Start, "alice"))
        .await
        .expect("enqueue");
    match queue.cancel(waiting.id).await.expect("cancel") {
        CancelOutcome::Cancelled(job) => assert_eq!(job.state, JobState::Cancelled),
        other => panic!("expected an immediate cancel, got {other:?}"),
    }
    assert_eq!(get(&store, waiting.id).await.state, JobState::Cancelled);

    assert!(matches!(
        queue.cancel(blocker.id).await.expect("cancel"),
        CancelOutcome::Requested(_)
    ));
    assert_eq!(
        finished(&store, blocker.id).await.state,
        JobState::Cancelled
    );
    // A later job runs; the cancelled one never did.
    let later = queue
        .enqueue(NewJob::for_server(server, JobKind::Stop, "alice"))
        .await
        .expect("enqueue");
    assert_eq!(finished(&store, later.id).await.state, JobState::Succeeded);
    assert_eq!(*ran.lock().expect("ran"), vec![blocker.id, later.id]);
    assert!(queue.cancel(waiting.id).await.is_err(), "already finished");
    within(queue.shutdown()).await;
}

#[tokio::test]
async fn cancelling_a_running_step_terminates_its_process_group() {
    let store = store();
    let server = add_server(&store, "alpha").await;
    let dir = tempfile::tempdir().expect("temp dir");
    let pidfile = dir.path().join("pid");
    let script = format!("echo $$ > '{}'; sleep 30", pidfile.display());
    let queue = JobQueue::start(store.clone(), shell_executor(script), 1)
        .await
        .expect("start");
    let job = queue
        .enqueue(NewJob::for_server(server, JobKind::Update, "alice"))
        .await
        .expect("enqueue");
    let pgid = read_pid(&pidfile).await;
    assert!(group_exists(pgid));
    queue.cancel(job.id).await.expect("cancel");
    let job = finished(&store, job.id).await;
    assert_eq!(job.state, JobState::Cancelled);
    // SIGTERM sufficed: the exit status says which signal ended it (no clock read).
    assert_eq!(job.exit_code, Some(128 + 15), "ended by SIGTERM");
    assert!(job.cancel_requested);
    assert!(group_gone(pgid).await, "the step's processes are gone");
    within(queue.shutdown()).await;
}

#[tokio::test]
async fn shutdown_terminates_running_steps_and_waits_for_workers() {
    let store = store();
    let server = add_server(&store, "alpha").await;
    let dir = tempfile::tempdir().expect("temp dir");
    let pidfile = dir.path().join("pid");
    let script = format!("echo $$ > '{}'; sleep 30", pidfile.display());
    let queue = JobQueue::start(store.clone(), shell_executor(script), 2)
        .await
        .expect("start");
    let job = queue
        .enqueue(NewJob::for_server(server, JobKind::Install, "alice"))
        .await
        .expect("enqueue");
    let pgid = read_pid(&pidfile).await;
    within(queue.shutdown()).await;
    let job = get(&store, job.id).await;
    assert_eq!(job.state, JobState::Failed);
    assert!(
        job.error.unwrap_or_default().contains("host shut down"),
        "a shutdown is not a user's cancel"
    );
    assert!(group_gone(pgid).await);
}

#[tokio::test]
async fn concurrent_streams_get_one_gap_free_sequence() {
    let store = store();
    let server = add_server(&store, "alpha").await;
    let script =
        r#"i=1; while [ $i -le 500 ]; do echo "out $i"; echo "err $i" >&2; i=$((i+1)); done"#;
    let queue = JobQueue::start(store.clone(), shell_executor(script), 1)
        .await
        .expect("start");
    let job = queue
        .enqueue(NewJob::for_server(server, JobKind::Install, "alice"))
        .await
        .expect("enqueue");
    assert_eq!(finished(&store, job.id).await.state, JobState::Succeeded);
    let lines = log_lines(&store, job.id).await;
    let seqs: Vec<i64> = lines.iter().map(|l| l.seq).collect();
    let expected: Vec<i64> = (1..=i64::try_from(lines.len()).expect("count")).collect();
    assert_eq!(seqs, expected, "gap-free and strictly increasing");
    for (stream, prefix) in [(LogStream::Stdout, "out"), (LogStream::Stderr, "err")] {
        let numbers: Vec<u32> = lines
            .iter()
            .filter(|l| l.stream == stream)
            .map(|l| {
                let (p, n) = l.line.split_once(' ').expect("numbered line");
                assert_eq!(p, prefix);
                n.parse().expect("number")
            })
            .collect();
        assert_eq!(
            numbers,
            (1..=500).collect::<Vec<u32>>(),
            "{prefix} complete, in order"
        );
    }
    within(queue.shutdown()).await;
}

/// A stand-in for SteamCMD printing real progress lines. App 999 fails half-way. It reads
/// the script it is given (`+runscript <file>`), says the file's mode, and echoes the script
/// (passwords included, for the log's masking to hide).
const FAKE_STEAMCMD: &str = r#"#!/bin/sh
echo "Redirecting stderr to '/tmp/fake/logs/stderr.txt'"
echo "args: $*"
script="$2"
echo "script mode: $(stat -c %a "$script")"
while IFS= read -r line; do echo "script> $line"; done < "$script"
app=$(sed -n 's/^app_update \([0-9]*\).*/\1/p' "$script")
echo " Update state (0x3) reconfiguring, progress: 0.00 (0 / 0)"
sleep 0.05
echo " Update state (0x61) downloading, progress: 12.50 (342125 / 2737000)"
sleep 0.05
echo " Update state (0x61) downloading, progress: 45.12 (1234567 / 2737000)"
sleep 0.05
if [ "$app" = "999" ]; then
  echo "Error! App '999' state is 0x202 after update job." >&2
  exit 8
fi
echo " Update state (0x5) verifying install, progress: 80.00 (2189600 / 2737000)"
sleep 0.05
echo "Success! App '$app' fully installed."
"#;

/// Writes the fake SteamCMD into `dir`. A child process writes the executable, so no
/// writable descriptor of it leaks into a process another test forks (which would make
/// executing it fail with "text file busy").
fn fake_steamcmd(dir: &Path) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let source = dir.join("steamcmd.txt");
    let program = dir.join("steamcmd");
    std::fs::write(&source, FAKE_STEAMCMD).expect("write fake steamcmd");
    let copied = std::process::Command::new("cp")
        .arg(&source)
        .arg(&program)
        .status()
        .expect("cp");
    assert!(copied.success());
    std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    program
}

const PASSWORD: &str = "hunter2 with spaces";
const BETA_PASSWORD: &str = "letmein-beta";

fn steamcmd_executor(program: PathBuf, install_dir: PathBuf) -> Arc<dyn JobExecutor> {
    executor(move |job, ctx| {
        let program = program.clone();
        let install_dir = install_dir.clone();
        Box::pin(async move {
            let app = if job.kind == JobKind::Install {
                SteamcmdApp {
                    app_id: 222860,
                    login: SteamLogin::Account {
                        username: "garrison".into(),
                        password: PASSWORD.into(),
                    },
                    beta: Some("public-beta".into()),
                    beta_password: Some(BETA_PASSWORD.into()),
                    validate: true,
                    workshop: Vec::new(),
                }
            } else {
                SteamcmdApp::anonymous(999)
            };
            let scratch = install_dir.with_file_name("scratch");
            let code =
                steamcmd::install(&ctx, Some(&program), &app, &install_dir, &scratch).await?;
            Ok(StepSuccess {
                exit_code: Some(code),
            })
        })
    })
}

#[tokio::test]
async fn steamcmd_progress_reaches_the_job_and_passwords_stay_out_of_the_log() {
    let store = store();
    let server = add_server(&store, "alpha").await;
    let dir = tempfile::tempdir().expect("temp dir");
    let program = fake_steamcmd(dir.path());
    let exec = steamcmd_executor(program, dir.path().join("runtime"));
    let queue = JobQueue::start(store.clone(), exec, 1)
        .await
        .expect("start");

    let install = queue
        .enqueue(NewJob::for_server(server, JobKind::Install, "alice"))
        .await
        .expect("enqueue");
    let install = finished(&store, install.id).await;
    assert_eq!(install.state, JobState::Succeeded, "{:?}", install.error);
    assert_eq!(install.progress, Some(100.0));
    let lines = log_lines(&store, install.id).await;
    for line in &lines {
        assert!(!line.line.contains(PASSWORD), "leaked: {}", line.line);
        assert!(!line.line.contains(BETA_PASSWORD), "leaked: {}", line.line);
    }
    let script = &lines[0].line;
    assert!(
        script.contains(&format!(
            "login \"garrison\" \"{MASK}\"; app_update 222860 -beta \"public-beta\" -betapassword \"{MASK}\" validate; quit"
        )),
        "{script}"
    );
    let command = &lines[1].line;
    assert!(
        command.starts_with("$ ") && command.contains("+runscript "),
        "{command}"
    );
    // SteamCMD got the passwords from a file only its user can read.
    assert!(
        lines.iter().any(|l| l.line == "script mode: 600"),
        "{lines:?}"
    );
    let echoed = lines
        .iter()
        .find(|l| l.line.starts_with("script> login"))
        .expect("the fake echoes its script");
    assert_eq!(
        echoed.line,
        format!("script> login \"garrison\" \"{MASK}\"")
    );
    assert!(lines.iter().any(|l| l.line.contains("progress: 45.12")));
    // The script is gone once the run has ended.
    let scratch = dir.path().join("scratch");
    let left: Vec<_> = std::fs::read_dir(&scratch).expect("scratch").collect();
    assert!(left.is_empty(), "{left:?}");

    // A run that fails half-way keeps the last progress it reported.
    let update = queue
        .enqueue(NewJob::for_server(server, JobKind::Update, "alice"))
        .await
        .expect("enqueue");
    let update = finished(&store, update.id).await;
    assert_eq!(update.state, JobState::Failed);
    assert_eq!(update.exit_code, Some(8));
    assert_eq!(update.progress, Some(45.12));
    within(queue.shutdown()).await;
}

#[tokio::test]
async fn a_missing_steamcmd_fails_the_job_with_an_install_hint() {
    let store = store();
    let server = add_server(&store, "alpha").await;
    let empty = tempfile::tempdir().expect("temp dir");
    let search = vec![empty.path().to_path_buf()];
    let exec = executor(move |_job, _ctx| {
        let found = steamcmd::locate_in(None, &search);
        Box::pin(async move {
            found?;
            Ok(StepSuccess::default())
        })
    });
    let queue = JobQueue::start(store.clone(), exec, 1)
        .await
        .expect("start");
    let job = queue
        .enqueue(NewJob::for_server(server, JobKind::Install, "alice"))
        .await
        .expect("enqueue");
    let job = finished(&store, job.id).await;
    assert_eq!(job.state, JobState::Failed);
    assert_eq!(job.exit_code, Some(1));
    let error = job.error.unwrap_or_default();
    assert!(error.contains("SteamCMD was not found"), "{error}");
    assert!(error.contains("apt install steamcmd"), "{error}");
    within(queue.shutdown()).await;
}

#[test]
fn steamcmd_is_found_where_configured_or_on_the_search_path() {
    let dir = tempfile::tempdir().expect("temp dir");
    let program = fake_steamcmd(dir.path());
    assert_eq!(
        steamcmd::locate_in(None, &[dir.path().to_path_buf()]),
        Ok(program.clone())
    );
    assert_eq!(steamcmd::locate_in(Some(&program), &[]), Ok(program));
    let missing = dir.path().join("nope");
    let Err(JobFailure::Error(message)) = steamcmd::locate_in(Some(&missing), &[]) else {
        panic!("a missing configured SteamCMD is an error");
    };
    assert!(message.contains("configured path"), "{message}");
    assert!(message.contains("apt install steamcmd"), "{message}");
    // A file that is not executable does not count.
    let source = dir.path().join("steamcmd.txt");
    assert!(steamcmd::locate_in(Some(&source), &[]).is_err());
}

#[test]
fn steamcmd_gets_a_script_in_steamcmds_order_and_only_its_path_as_arguments() {
    let app = SteamcmdApp {
        app_id: 233780,
        login: SteamLogin::Account {
            username: "ops".into(),
            password: "p a s s".into(),
        },
        beta: Some("creatordlc".into()),
        beta_password: None,
        validate: false,
        workshop: vec![
            WorkshopItem {
                app_id: 107410,
                item_id: 450814997,
                link_as: Some(crate::adapters::model::PathRef {
                    root: crate::adapters::model::Root::Runtime,
                    path: "@CBA_A3".into(),
                }),
            },
            WorkshopItem {
                app_id: 107410,
                item_id: 463939057,
                link_as: None,
            },
        ],
    };
    let script = steamcmd::script(&app, Path::new("/srv/games/my server")).expect("script");
    assert_eq!(
        script,
        "@NoPromptForPassword 1\n\
         force_install_dir \"/srv/games/my server\"\n\
         login \"ops\" \"p a s s\"\n\
         app_update 233780 -beta \"creatordlc\"\n\
         workshop_download_item 107410 450814997\n\
         workshop_download_item 107410 463939057\n\
         quit\n"
    );
    assert_eq!(
        steamcmd::script(&SteamcmdApp::anonymous(222860), Path::new("/x")).expect("script"),
        "@NoPromptForPassword 1\nforce_install_dir \"/x\"\nlogin anonymous\napp_update 222860\nquit\n"
    );
    // The command line names only the script: no password on it, masked or not.
    let step = steamcmd::step(
        Path::new("/usr/games/steamcmd"),
        &app,
        Path::new("/data/tmp/steamcmd-1.txt"),
    );
    assert_eq!(step.args, ["+runscript", "/data/tmp/steamcmd-1.txt"]);
    assert_eq!(
        step.display(),
        "/usr/games/steamcmd +runscript /data/tmp/steamcmd-1.txt"
    );
    // A value the script cannot carry is refused, never cut or reinterpreted.
    for password in ["say \"hi\"", "two\nlines"] {
        let mut bad = app.clone();
        bad.login = SteamLogin::Account {
            username: "ops".into(),
            password: password.into(),
        };
        let Err(JobFailure::Error(message)) = steamcmd::script(&bad, Path::new("/x")) else {
            panic!("{password:?} must be refused");
        };
        assert!(message.contains("Steam password"), "{message}");
        assert!(!message.contains(password), "{message}");
    }
    let debug = format!("{app:?}");
    assert!(!debug.contains("p a s s"), "{debug}");
}

#[test]
fn steamcmd_progress_lines_parse() {
    let cases = [
        (
            " Update state (0x61) downloading, progress: 45.12 (1234567 / 2737000)",
            Some(45.12),
        ),
        (
            "Update state (0x5) verifying install, progress: 12.00 (328440 / 2737000)",
            Some(12.0),
        ),
        (
            " Update state (0x11) preallocating, progress: 100.00 (2737000 / 2737000)",
            Some(100.0),
        ),
        ("Success! App '222860' fully installed.", Some(100.0)),
        ("Success! App '222860' already up to date.", Some(100.0)),
        ("Logging in user 'ops' to Steam Public...OK", None),
        (
            "ERROR! Failed to install app '222860' (No subscription)",
            None,
        ),
        (
            " Update state (0x61) downloading, progress: nan (0 / 0)",
            None,
        ),
        (" Update state (0x61) downloading, progress:", None),
        ("", None),
    ];
    for (line, expected) in cases {
        assert_eq!(steamcmd::parse_progress(line), expected, "{line:?}");
    }
}

#[test]
fn the_build_id_comes_from_the_app_manifest() {
    let manifest = "\"AppState\"\n{\n\t\"appid\"\t\t\"1000\"\n\t\"name\"\t\t\"A server\"\n\
                    \t\"buildid\"\t\t\"14912345\"\n\t\"UserConfig\"\n\t{\n\
                    \t\t\"buildid\"\t\t\"1\"\n\t}\n}\n";
    assert_eq!(
        steamcmd::parse_build_id(manifest).as_deref(),
        Some("14912345")
    );
    for bad in [
        "",
        "\"AppState\" { }",
        "\"buildid\" \"\"",
        "\"buildid\" \"12ab\"",
        "\"buildid\" \"123456789012345678901234\"",
    ] {
        assert_eq!(steamcmd::parse_build_id(bad), None, "{bad:?}");
    }
    assert_eq!(
        steamcmd::manifest_path(Path::new("/data/runtimes/x"), 1000),
        Path::new("/data/runtimes/x/steamapps/appmanifest_1000.acf")
    );
}

#[tokio::test]
async fn output_lines_are_cut_and_decoded_lossily() {
    let input: Vec<u8> = [
        b"short\r\n".to_vec(),
        vec![b'x'; 10_000],
        b"\n".to_vec(),
        b"bad \xff byte\n".to_vec(),
        b"no newline at the end".to_vec(),
    ]
    .concat();
    let mut reader = tokio::io::BufReader::with_capacity(64, input.as_slice());
    let mut buf = Vec::new();
    let mut lines = Vec::new();
    while let Some(cut) = read_line_capped(&mut reader, &mut buf, 100)
        .await
        .expect("read")
    {
        lines.push((String::from_utf8_lossy(&buf).into_owned(), cut));
    }
    assert_eq!(
        lines,
        [
            ("short".to_owned(), false),
            ("x".repeat(100), true),
            ("bad \u{fffd} byte".to_owned(), false),
            ("no newline at the end".to_owned(), false),
        ]
    );
}

#[tokio::test]
async fn jobs_left_running_by_a_dead_host_fail_before_workers_start() {
    let store = store();
    let server = add_server(&store, "alpha").await;
    let stale = store
        .call(move |conn| {
            let job = jobs::enqueue(conn, &NewJob::for_server(server, JobKind::Start, "alice"))?;
            jobs::claim_next(conn)?;
            Ok(job.id)
        })
        .await
        .expect("a job left running");
    let ran = Arc::new(Mutex::new(HashSet::new()));
    let record = ran.clone();
    let exec = executor(move |job, _ctx| {
        record.lock().expect("ran").insert(job.id);
        Box::pin(async { Ok(StepSuccess::default()) })
    });
    let queue = JobQueue::start(store.clone(), exec, 2)
        .await
        .expect("start");
    let job = get(&store, stale).await;
    assert_eq!(job.state, JobState::Failed);
    assert_eq!(job.error.as_deref(), Some("host restarted"));
    // The server is free again.
    let next = queue
        .enqueue(NewJob::for_server(server, JobKind::Start, "alice"))
        .await
        .expect("enqueue");
    assert_eq!(finished(&store, next.id).await.state, JobState::Succeeded);
    assert!(!ran.lock().expect("ran").contains(&stale));
    within(queue.shutdown()).await;
}
