//! The supervisor against real `/bin/sh` scripts standing in for game servers, with an
//! in-memory observer and fake stop actions.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustix::process::{Pid, Signal, kill_process};

use super::*;
use crate::supervisor::process::{ProcessSpec, kill_group};

/// Long enough for a slow machine, short enough that a hung test fails instead of hanging.
const DEADLINE: Duration = Duration::from_secs(20);

async fn within<F: std::future::Future>(what: &str, future: F) -> F::Output {
    tokio::time::timeout(DEADLINE, future)
        .await
        .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
}

/// Test-side polling (the code under test never polls): waits until `cond` holds.
async fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    within(what, async {
        while !cond() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
}

/// Waits until the supervisor's state satisfies `pred` and returns it.
async fn state_where(
    supervisor: &ServerSupervisor,
    what: &str,
    pred: impl FnMut(&ServerState) -> bool,
) -> ServerState {
    let mut state = supervisor.state();
    let found = within(what, state.wait_for(pred)).await;
    *found.expect("the supervisor is alive")
}

#[derive(Debug, Clone, PartialEq)]
enum Record {
    Changed {
        from: ServerState,
        to: ServerState,
        process: Option<ProcessId>,
        detail: String,
        restarts: RestartStatus,
    },
    Event {
        kind: String,
        message: String,
    },
}

/// Remembers everything the supervisor reports.
#[derive(Default)]
struct Recorder {
    records: Mutex<Vec<Record>>,
}

impl Recorder {
    fn records(&self) -> Vec<Record> {
        self.records.lock().expect("recorder lock").clone()
    }

    /// The states entered, in order.
    fn states(&self) -> Vec<ServerState> {
        self.records()
            .into_iter()
            .filter_map(|r| match r {
                Record::Changed { to, .. } => Some(to),
                Record::Event { .. } => None,
            })
            .collect()
    }

    /// How the restarts stood at each state entered, in order.
    fn restarts(&self) -> Vec<RestartStatus> {
        self.records()
            .into_iter()
            .filter_map(|r| match r {
                Record::Changed { restarts, .. } => Some(restarts),
                Record::Event { .. } => None,
            })
            .collect()
    }

    fn last_detail(&self) -> String {
        self.records()
            .into_iter()
            .rev()
            .find_map(|r| match r {
                Record::Changed { detail, .. } => Some(detail),
                Record::Event { .. } => None,
            })
            .unwrap_or_default()
    }

    /// The messages of events of `kind`, in order.
    fn events(&self, kind: &str) -> Vec<String> {
        self.records()
            .into_iter()
            .filter_map(|r| match r {
                Record::Event { kind: k, message } if k == kind => Some(message),
                _ => None,
            })
            .collect()
    }

    fn processes(&self) -> Vec<ProcessId> {
        self.records()
            .into_iter()
            .filter_map(|r| match r {
                Record::Changed { process, .. } => process,
                Record::Event { .. } => None,
            })
            .collect()
    }
}

impl Observer for Recorder {
    fn state_changed(
        &self,
        _server_id: i64,
        from: &ServerState,
        to: &ServerState,
        process: Option<ProcessId>,
        detail: &str,
        restarts: RestartStatus,
    ) {
        self.records
            .lock()
            .expect("recorder lock")
            .push(Record::Changed {
                from: *from,
                to: *to,
                process,
                detail: detail.to_string(),
                restarts,
            });
    }

    fn event(&self, _server_id: i64, kind: &str, message: &str) {
        self.records
            .lock()
            .expect("recorder lock")
            .push(Record::Event {
                kind: kind.to_string(),
                message: message.to_string(),
            });
    }
}

/// RCon stand-in: records each command and drops a file `rcon-<command>` in the game's
/// directory for the script to notice; commands starting with `broken` fail.
struct FakeRcon {
    dir: PathBuf,
    sent: Mutex<Vec<String>>,
}

impl StopActions for FakeRcon {
    fn rcon_command<'a>(
        &'a self,
        _server_id: i64,
        command: &'a str,
    ) -> BoxFuture<'a, Result<String, String>> {
        Box::pin(async move {
            self.sent
                .lock()
                .expect("rcon lock")
                .push(command.to_string());
            if command.starts_with("broken") {
                return Err("connection refused".to_string());
            }
            std::fs::write(self.dir.join(format!("rcon-{command}")), "")
                .map_err(|e| e.to_string())?;
            Ok(String::new())
        })
    }
}

/// One server under test: a scratch directory, the fakes and the supervisor. Dropping it
/// kills every process the supervisor reported.
struct Harness {
    dir: tempfile::TempDir,
    recorder: Arc<Recorder>,
    rcon: Arc<FakeRcon>,
    supervisor: ServerSupervisor,
}

impl Harness {
    fn new(policy: RestartPolicy) -> Harness {
        let dir = tempfile::tempdir().expect("temp dir");
        let recorder = Arc::new(Recorder::default());
        let rcon = Arc::new(FakeRcon {
            dir: dir.path().to_path_buf(),
            sent: Mutex::new(Vec::new()),
        });
        let supervisor = ServerSupervisor::spawn(
            7,
            ServerState::Stopped,
            policy,
            recorder.clone(),
            rcon.clone(),
        );
        Harness {
            dir,
            recorder,
            rcon,
            supervisor,
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// A plan running `body` as a `/bin/sh` script (through `/bin/sh` rather than executing
    /// the file itself: exec of a file just written can fail with "text file busy" while
    /// another test's fork still holds the write descriptor). Each run appends a line to
    /// `runs`.
    fn plan(&self, body: &str) -> LaunchPlan {
        let script = self.path("game.sh");
        std::fs::write(&script, format!("echo run >> runs\n{body}\n")).expect("write script");
        LaunchPlan::new(ProcessSpec {
            program: PathBuf::from("/bin/sh"),
            args: vec![script.display().to_string()],
            working_dir: self.dir.path().to_path_buf(),
            env: Vec::new(),
            console_dir: self.path("console"),
        })
    }

    fn runs(&self) -> usize {
        read(&self.path("runs")).lines().count()
    }

    /// Waits until the scripts have recorded `n` runs (a start answers once the process
    /// exists, before the script's first line has run).
    async fn runs_reach(&self, n: usize) {
        eventually(&format!("{n} runs"), || self.runs() >= n).await;
    }

    fn console_log(&self) -> String {
        read(&self.path("console").join("console.log"))
    }

    fn sent(&self) -> Vec<String> {
        self.rcon.sent.lock().expect("rcon lock").clone()
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        for id in self.recorder.processes() {
            if id.is_alive_and_same() {
                let _ = kill_group(id.pid);
            }
        }
    }
}

/// Kills a lone process (one that leads no group) when the test ends.
struct KillOnDrop(ProcessId);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if self.0.is_alive_and_same()
            && let Some(pid) = Pid::from_raw(self.0.pid)
        {
            let _ = kill_process(pid, Signal::KILL);
        }
    }
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

fn no_restarts() -> RestartPolicy {
    RestartPolicy {
        enabled: false,
        ..RestartPolicy::default()
    }
}

/// Starts `sleep` from a shell that exits at once, as a game left behind by an earlier
/// host run would be: not our child, and not leading a group.
fn orphan_sleep() -> ProcessId {
    let output = std::process::Command::new("/bin/sh")
        .args(["-c", "sleep 30 >/dev/null 2>&1 </dev/null & echo $!"])
        .output()
        .expect("sh runs");
    let pid: i32 = String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .expect("a pid");
    ProcessId::of(pid).expect("sleep runs")
}

#[tokio::test]
async fn a_server_that_does_not_wait_for_ready_runs_once_started() {
    let h = Harness::new(no_restarts());
    assert_eq!(h.supervisor.current(), ServerState::Stopped);
    within("start", h.supervisor.start(h.plan("exec sleep 30")))
        .await
        .expect("starts");
    assert_eq!(h.supervisor.current(), ServerState::Running);
    assert_eq!(h.recorder.states(), vec![ServerState::Running]);
    let Some(Record::Changed { from, process, .. }) = h.recorder.records().first().cloned() else {
        panic!("a state change first");
    };
    assert_eq!(from, ServerState::Stopped);
    let id = process.expect("the running state names its process");
    assert!(id.is_alive_and_same());
    h.runs_reach(1).await;
    assert_eq!(h.runs(), 1);
    assert_eq!(
        h.supervisor.mark_ready().await.map_err(|e| e.to_string()),
        Err("the server is not starting".to_string())
    );
}

#[tokio::test]
async fn a_server_that_waits_for_ready_is_starting_until_marked_ready() {
    let h = Harness::new(no_restarts());
    let mut plan = h.plan("exec sleep 30");
    plan.wait_for_ready = true;
    within("start", h.supervisor.start(plan))
        .await
        .expect("starts");
    assert_eq!(h.supervisor.current(), ServerState::Starting);
    within("ready", h.supervisor.mark_ready())
        .await
        .expect("marks ready");
    assert_eq!(h.supervisor.current(), ServerState::Running);
    assert_eq!(
        h.recorder.states(),
        vec![ServerState::Starting, ServerState::Running]
    );
}

#[tokio::test]
async fn a_server_that_never_becomes_ready_is_stopped_and_crashed() {
    let h = Harness::new(no_restarts());
    let mut plan = h.plan("exec sleep 30");
    plan.wait_for_ready = true;
    plan.startup_timeout = Duration::from_millis(200);
    plan.grace = Duration::from_secs(5);
    within("start", h.supervisor.start(plan))
        .await
        .expect("starts");
    let state = state_where(&h.supervisor, "crash", |s| {
        matches!(s, ServerState::Crashed { .. })
    })
    .await;
    // Ended by the host's SIGTERM.
    assert_eq!(
        state,
        ServerState::Crashed {
            exit: None,
            signal: Some(15)
        }
    );
    assert_eq!(
        h.recorder.last_detail(),
        "did not become ready within 200 ms"
    );
    assert_eq!(h.recorder.events("startup_timeout").len(), 1);
    assert_eq!(h.recorder.events("crashed").len(), 1);
}

#[tokio::test]
async fn a_crashing_server_is_restarted_until_the_limit_then_stays_crashed() {
    let h = Harness::new(RestartPolicy {
        enabled: true,
        max: 2,
        window: Duration::from_secs(60),
        backoff: Duration::from_millis(50),
    });
    within("start", h.supervisor.start(h.plan("sleep 0.2; exit 3")))
        .await
        .expect("starts");
    eventually("giving up", || !h.recorder.events("gave_up").is_empty()).await;

    assert_eq!(
        h.recorder.events("gave_up"),
        vec!["gave up after 2 restarts in 1 min".to_string()]
    );
    let crashed = ServerState::Crashed {
        exit: Some(3),
        signal: None,
    };
    assert_eq!(h.supervisor.current(), crashed);
    assert_eq!(
        h.recorder.states(),
        vec![
            ServerState::Running,
            crashed,
            ServerState::Running,
            crashed,
            ServerState::Running,
            crashed
        ]
    );
    assert_eq!(h.recorder.events("crashed").len(), 3);
    // Each crash says whether a restart follows, and which one of how many.
    let status = |count, restarting| RestartStatus {
        count,
        max: 2,
        restarting,
    };
    assert_eq!(
        h.recorder.restarts(),
        vec![
            status(0, false),
            status(1, true),
            status(1, false),
            status(2, true),
            status(2, false),
            status(2, false),
        ]
    );
    assert_eq!(h.supervisor.restarts(), status(2, false));
    assert_eq!(
        h.recorder.events("restarting"),
        vec![
            "restarting after a crash (restart 1 of 2 within 1 min)".to_string(),
            "restarting after a crash (restart 2 of 2 within 1 min)".to_string(),
        ]
    );
    // The last error says it all.
    assert_eq!(
        h.recorder.last_detail(),
        "the process exited with code 3 unexpectedly; gave up after 2 restarts in 1 min"
    );
    assert_eq!(h.runs(), 3);

    // Nothing more happens by itself; a start by the user begins afresh.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(h.runs(), 3);
    assert_eq!(h.supervisor.current(), crashed);
    within("start", h.supervisor.start(h.plan("exec sleep 30")))
        .await
        .expect("a crashed server can be started");
    assert_eq!(h.supervisor.current(), ServerState::Running);
    assert_eq!(h.supervisor.restarts(), status(0, false));
}

#[tokio::test]
async fn an_ordered_stop_runs_the_plan_in_order_and_is_never_a_crash() {
    let h = Harness::new(RestartPolicy::default());
    // Leaves with an unusual code once told to quit over "RCon".
    let mut plan = h.plan("while [ ! -f rcon-quit ]; do sleep 0.05; done; exit 7");
    plan.stop = vec![
        StopStep::Rcon("save".into()),
        StopStep::Rcon("quit".into()),
        StopStep::Wait(Duration::from_secs(15)),
    ];
    within("start", h.supervisor.start(plan))
        .await
        .expect("starts");
    within("stop", h.supervisor.stop()).await.expect("stops");

    assert_eq!(h.supervisor.current(), ServerState::Stopped);
    assert_eq!(h.sent(), vec!["save".to_string(), "quit".to_string()]);
    assert_eq!(
        h.recorder.states(),
        vec![
            ServerState::Running,
            ServerState::Stopping,
            ServerState::Stopped
        ]
    );
    assert_eq!(
        h.recorder.last_detail(),
        "stopped (the process exited with code 7)"
    );
    assert!(h.recorder.events("crashed").is_empty());
    assert!(h.recorder.events("stop_escalated").is_empty());
    // No restart follows an ordered stop.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(h.runs(), 1);

    // Stopping a stopped server is fine.
    within("stop", h.supervisor.stop()).await.expect("no-op");
}

#[tokio::test]
async fn a_failing_stop_step_is_recorded_and_the_stop_goes_on() {
    let h = Harness::new(no_restarts());
    let mut plan = h.plan("exec sleep 30");
    plan.stop = vec![StopStep::Rcon("broken quit".into())];
    within("start", h.supervisor.start(plan))
        .await
        .expect("starts");
    within("stop", h.supervisor.stop()).await.expect("stops");
    assert_eq!(h.supervisor.current(), ServerState::Stopped);
    assert_eq!(
        h.recorder.events("stop_step_failed"),
        vec!["stop command `broken quit` failed: connection refused".to_string()]
    );
    assert!(h.recorder.events("crashed").is_empty());
}

#[tokio::test]
async fn a_server_ignoring_sigterm_is_killed_after_the_grace_and_reported_stopped() {
    let h = Harness::new(RestartPolicy::default());
    let mut plan = h.plan("trap '' TERM; echo trapped; while :; do sleep 0.1; done");
    plan.grace = Duration::from_millis(300);
    within("start", h.supervisor.start(plan))
        .await
        .expect("starts");
    eventually("trap set", || h.console_log().contains("trapped")).await;
    within("stop", h.supervisor.stop()).await.expect("stops");

    assert_eq!(h.supervisor.current(), ServerState::Stopped);
    assert_eq!(
        h.recorder.last_detail(),
        "stopped (the process killed by signal 9)"
    );
    assert_eq!(
        h.recorder.events("stop_escalated"),
        vec!["did not stop within 300 ms of SIGTERM; killed it".to_string()]
    );
    assert!(h.recorder.events("crashed").is_empty());
}

#[tokio::test]
async fn a_second_start_is_refused_and_kill_stops_at_once() {
    let h = Harness::new(RestartPolicy::default());
    let mut plan = h.plan("trap '' TERM; while :; do sleep 0.1; done");
    plan.grace = Duration::from_secs(60);
    within("start", h.supervisor.start(plan.clone()))
        .await
        .expect("starts");
    assert!(matches!(
        within("second start", h.supervisor.start(plan.clone())).await,
        Err(SupervisorError::AlreadyRunning)
    ));
    let id = h.recorder.processes()[0];
    assert!(matches!(
        within("adopt", h.supervisor.adopt(id, plan.clone(), true)).await,
        Err(SupervisorError::AlreadyRunning)
    ));
    h.runs_reach(1).await;
    assert_eq!(h.runs(), 1);

    within("kill", h.supervisor.kill()).await.expect("kills");
    assert_eq!(h.supervisor.current(), ServerState::Stopped);
    assert_eq!(
        h.recorder.last_detail(),
        "killed (the process killed by signal 9)"
    );
    assert!(!id.is_alive_and_same());
    assert!(h.recorder.events("crashed").is_empty());
}

#[tokio::test]
async fn restart_stops_then_launches_again() {
    let h = Harness::new(RestartPolicy::default());
    within("start", h.supervisor.start(h.plan("exec sleep 30")))
        .await
        .expect("starts");
    let first = h.recorder.processes()[0];
    h.runs_reach(1).await;
    within("restart", h.supervisor.restart(h.plan("exec sleep 30")))
        .await
        .expect("restarts");
    assert_eq!(h.supervisor.current(), ServerState::Running);
    assert_eq!(
        h.recorder.states(),
        vec![
            ServerState::Running,
            ServerState::Stopping,
            ServerState::Stopped,
            ServerState::Running
        ]
    );
    h.runs_reach(2).await;
    assert_eq!(h.runs(), 2);
    assert!(!first.is_alive_and_same());
    assert!(h.recorder.events("crashed").is_empty());
}

#[tokio::test]
async fn adopting_a_live_process_runs_it_without_a_launch_and_notices_its_end() {
    let h = Harness::new(no_restarts());
    let id = orphan_sleep();
    let _guard = KillOnDrop(id);

    let state = within(
        "adopt",
        h.supervisor.adopt(id, h.plan("exec sleep 30"), true),
    )
    .await
    .expect("adopts");
    assert_eq!(state, ServerState::Running);
    assert_eq!(h.supervisor.current(), ServerState::Running);
    assert_eq!(h.runs(), 0, "nothing was launched");
    assert_eq!(h.recorder.processes(), vec![id]);
    assert_eq!(h.recorder.events("reattached").len(), 1);
    assert!(matches!(
        within("start", h.supervisor.start(h.plan("exec sleep 30"))).await,
        Err(SupervisorError::AlreadyRunning)
    ));

    kill_process(Pid::from_raw(id.pid).expect("pid"), Signal::KILL).expect("kill");
    let state = state_where(&h.supervisor, "crash", |s| {
        matches!(s, ServerState::Crashed { .. })
    })
    .await;
    // Not our child: how it ended cannot be known.
    assert_eq!(
        state,
        ServerState::Crashed {
            exit: None,
            signal: None
        }
    );
    assert_eq!(h.recorder.events("crashed").len(), 1);
    assert_eq!(h.runs(), 0);
}

#[tokio::test]
async fn an_adopted_process_is_stopped_on_its_own() {
    let h = Harness::new(RestartPolicy::default());
    let id = orphan_sleep();
    let _guard = KillOnDrop(id);
    within(
        "adopt",
        h.supervisor.adopt(id, h.plan("exec sleep 30"), true),
    )
    .await
    .expect("adopts");
    within("stop", h.supervisor.stop()).await.expect("stops");
    assert_eq!(h.supervisor.current(), ServerState::Stopped);
    assert!(!id.is_alive_and_same());
    assert!(h.recorder.events("crashed").is_empty());
    assert_eq!(h.runs(), 0);
}

#[tokio::test]
async fn adopting_a_gone_or_reused_process_records_it_without_a_launch() {
    // Gone: started, killed and reaped.
    let mut child = std::process::Command::new("sleep")
        .arg("30")
        .spawn()
        .expect("sleep starts");
    let pid = i32::try_from(child.id()).expect("pid fits");
    let gone = ProcessId::of(pid).expect("sleep runs");
    child.kill().expect("kill");
    child.wait().expect("reap");

    let wanted = Harness::new(RestartPolicy::default());
    let state = within(
        "adopt",
        wanted
            .supervisor
            .adopt(gone, wanted.plan("exec sleep 30"), true),
    )
    .await
    .expect("answers");
    let crashed = ServerState::Crashed {
        exit: None,
        signal: None,
    };
    assert_eq!(state, crashed);
    assert_eq!(wanted.supervisor.current(), crashed);
    assert_eq!(wanted.recorder.events("gone").len(), 1);

    // Reused: the pid now names another process (here, this test).
    let me = ProcessId::of(i32::try_from(std::process::id()).expect("pid fits")).expect("we run");
    let reused = ProcessId {
        start_time: me.start_time + 1,
        ..me
    };
    let unwanted = Harness::new(RestartPolicy::default());
    let state = within(
        "adopt",
        unwanted
            .supervisor
            .adopt(reused, unwanted.plan("exec sleep 30"), false),
    )
    .await
    .expect("answers");
    assert_eq!(state, ServerState::Stopped);
    let gone_events = unwanted.recorder.events("gone");
    assert_eq!(gone_events.len(), 1);
    assert!(
        gone_events[0].contains("belongs to another process"),
        "{gone_events:?}"
    );

    // Neither launched anything, not even later.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(wanted.runs() + unwanted.runs(), 0);
}

#[tokio::test]
async fn shutdown_leaves_the_game_running() {
    let h = Harness::new(RestartPolicy::default());
    within("start", h.supervisor.start(h.plan("exec sleep 30")))
        .await
        .expect("starts");
    let id = h.recorder.processes()[0];
    within("shutdown", h.supervisor.shutdown())
        .await
        .expect("shuts down");
    assert!(id.is_alive_and_same());
    assert_eq!(h.supervisor.current(), ServerState::Running);
    assert!(matches!(
        within("start", h.supervisor.start(h.plan("exec sleep 30"))).await,
        Err(SupervisorError::Ended)
    ));
    assert_eq!(h.recorder.states(), vec![ServerState::Running]);
}

#[test]
fn adapter_stop_plans_convert_and_unknown_signals_are_refused() {
    use crate::adapters::model;
    let spec = model::StopSpec {
        steps: vec![
            model::StopStep::RconCommand {
                command: "quit".into(),
            },
            model::StopStep::Signal {
                signal: "interrupt".into(),
            },
            model::StopStep::WaitSecs { secs: 5 },
        ],
        grace_secs: Some(12),
    };
    let base = LaunchPlan::new(ProcessSpec {
        program: PathBuf::from("/bin/true"),
        args: vec!["a b".into()],
        working_dir: PathBuf::from("/"),
        env: Vec::new(),
        console_dir: PathBuf::from("/tmp"),
    });
    let plan = base
        .clone()
        .with_stop(&spec, Duration::from_secs(30))
        .expect("converts");
    assert_eq!(
        plan.stop,
        vec![
            StopStep::Rcon("quit".into()),
            StopStep::Signal(StopSignal::Interrupt),
            StopStep::Wait(Duration::from_secs(5)),
        ]
    );
    assert_eq!(plan.grace, Duration::from_secs(12));
    let no_grace = model::StopSpec {
        steps: Vec::new(),
        grace_secs: None,
    };
    let plan = base
        .clone()
        .with_stop(&no_grace, Duration::from_secs(45))
        .expect("converts");
    assert_eq!(plan.grace, Duration::from_secs(45));

    let bad = model::StopSpec {
        steps: vec![model::StopStep::Signal {
            signal: "hangup".into(),
        }],
        grace_secs: None,
    };
    assert!(matches!(
        base.with_stop(&bad, Duration::from_secs(30)),
        Err(SupervisorError::UnknownStopSignal(s)) if s == "hangup"
    ));
}

#[test]
fn states_use_the_stored_spellings() {
    let all = [
        (ServerState::Unmanaged, "unmanaged"),
        (ServerState::Stopped, "stopped"),
        (ServerState::Starting, "starting"),
        (ServerState::Running, "running"),
        (ServerState::Stopping, "stopping"),
        (
            ServerState::Crashed {
                exit: Some(3),
                signal: None,
            },
            "crashed",
        ),
    ];
    for (state, text) in all {
        assert_eq!(state.as_str(), text);
        let json = serde_json::to_value(state).expect("serialises");
        assert_eq!(json["state"], text);
    }
    let json = serde_json::to_value(ServerState::Crashed {
        exit: Some(3),
        signal: None,
    })
    .expect("serialises");
    assert_eq!(
        json,
        serde_json::json!({"state": "crashed", "exit": 3, "signal": null})
    );
}
