//! The process layer against real `/bin/sh` scripts standing in for game servers.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rustix::process::{Pid, getpgid};

use super::process::*;

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

/// Kills a test's process group when the test ends, however it ends.
struct KillOnDrop(ProcessId);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if self.0.is_alive_and_same() {
            let _ = kill_group(self.0.pid);
        }
    }
}

/// A scratch directory with a `game` dir (working dir) and a `console` dir.
struct Scratch {
    dir: tempfile::TempDir,
}

impl Scratch {
    fn new() -> Scratch {
        Scratch {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn console(&self) -> PathBuf {
        self.path("console")
    }

    /// Writes a `/bin/sh` script.
    fn script(&self, name: &str, body: &str) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let path = self.path(name);
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).expect("write script");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        path
    }

    /// Runs a script through `/bin/sh` rather than executing the file itself: exec of a
    /// file just written fails with "text file busy" while another test thread's fork still
    /// holds the write descriptor.
    fn sh(&self, script: PathBuf, args: &[&str]) -> ProcessSpec {
        let mut spec = self.spec(PathBuf::from("/bin/sh"), args);
        spec.args.insert(0, script.display().to_string());
        spec
    }

    fn spec(&self, program: PathBuf, args: &[&str]) -> ProcessSpec {
        ProcessSpec {
            program,
            args: args.iter().map(|a| a.to_string()).collect(),
            working_dir: self.dir.path().to_path_buf(),
            env: Vec::new(),
            console_dir: self.console(),
        }
    }

    fn console_log(&self) -> String {
        read(&console_log_path(&self.console()))
    }
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

fn read_pid(path: &Path) -> i32 {
    read(path).trim().parse().expect("a pid in the file")
}

fn spawn_guarded(spec: ProcessSpec) -> (GameProcess, KillOnDrop) {
    let process = spawn(spec).expect("spawns");
    let guard = KillOnDrop(process.id());
    (process, guard)
}

#[tokio::test]
async fn stdout_and_stderr_both_land_in_the_console_log() {
    let scratch = Scratch::new();
    let game = scratch.script(
        "game",
        "echo to-stdout; echo to-stderr >&2; read x; echo \"stdin:$x\"",
    );
    let (mut process, _guard) = spawn_guarded(scratch.sh(game, &[]));
    assert_eq!(within("exit", process.exited()).await, Exit::Code(0));
    let log = scratch.console_log();
    assert!(log.contains("to-stdout"), "{log}");
    assert!(log.contains("to-stderr"), "{log}");
    // stdin is /dev/null: `read` sees end of file at once.
    assert!(log.contains("stdin:\n"), "{log}");
}

#[tokio::test]
async fn each_start_rotates_the_console_log_keeping_five_earlier_runs() {
    let scratch = Scratch::new();
    let game = scratch.script("game", "echo \"run $1\"");
    for run in 1..=7 {
        let (mut process, _guard) = spawn_guarded(scratch.sh(game.clone(), &[&run.to_string()]));
        within("exit", process.exited()).await;
    }
    let console = scratch.console();
    assert_eq!(read(&console_log_path(&console)), "run 7\n");
    for n in 1..=KEPT_CONSOLE_LOGS {
        assert_eq!(
            read(&rotated_log_path(&console, n)),
            format!("run {}\n", 7 - n)
        );
    }
    assert!(!rotated_log_path(&console, KEPT_CONSOLE_LOGS + 1).exists());
}

#[tokio::test]
async fn the_game_leads_its_own_process_group() {
    let scratch = Scratch::new();
    let game = scratch.script("game", "exec sleep 30");
    let (mut process, _guard) = spawn_guarded(scratch.sh(game, &[]));
    let pid = Pid::from_raw(process.id().pid).expect("pid");
    assert_eq!(getpgid(Some(pid)).expect("pgid"), pid);
    assert_eq!(process.pgid(), process.id().pid);
    assert_ne!(
        getpgid(Some(pid)).expect("pgid"),
        rustix::process::getpgrp()
    );
    assert!(process.id().is_alive_and_same());
    // No pipe ties it to the host: its console is the log file, its stdin /dev/null.
    let fd = |n: u32| std::fs::read_link(format!("/proc/{}/fd/{n}", pid.as_raw_nonzero()));
    assert_eq!(fd(0).expect("stdin"), Path::new("/dev/null"));
    let log = std::fs::canonicalize(console_log_path(&scratch.console())).expect("log");
    assert_eq!(fd(1).expect("stdout"), log);
    assert_eq!(fd(2).expect("stderr"), log);
    kill_group(process.pgid()).expect("kill");
    assert_eq!(within("exit", process.exited()).await, Exit::Signal(9));
    assert!(!process.id().is_alive_and_same());
}

#[tokio::test]
async fn exit_codes_and_signals_are_reported() {
    let scratch = Scratch::new();
    let code = scratch.script("code", "exit 7");
    let (mut process, _guard) = spawn_guarded(scratch.sh(code, &[]));
    assert_eq!(within("exit", process.exited()).await, Exit::Code(7));
    // Asking again gives the same answer.
    assert_eq!(within("exit", process.exited()).await, Exit::Code(7));

    let signal = scratch.script("signal", "kill -USR1 $$; sleep 30");
    let (mut process, _guard) = spawn_guarded(scratch.sh(signal, &[]));
    assert_eq!(within("exit", process.exited()).await, Exit::Signal(10));
}

#[tokio::test]
async fn a_game_that_ignores_sigterm_is_killed_after_the_grace_period() {
    let scratch = Scratch::new();
    let game = scratch.script(
        "game",
        "trap '' TERM; echo ready; while :; do sleep 0.1; done",
    );
    let (mut process, _guard) = spawn_guarded(scratch.sh(game, &[]));
    eventually("ready", || scratch.console_log().contains("ready")).await;
    let outcome = within("stop", process.stop(Duration::from_millis(300))).await;
    assert_eq!(
        outcome,
        StopOutcome {
            ended: Ended::Killed,
            exit: Exit::Signal(9)
        }
    );
    assert!(!process.id().is_alive_and_same());
}

#[tokio::test]
async fn a_game_that_honours_sigterm_ends_after_sigterm() {
    let scratch = Scratch::new();
    let game = scratch.script("game", "exec sleep 30");
    let (mut process, _guard) = spawn_guarded(scratch.sh(game, &[]));
    let outcome = within("stop", process.stop(DEADLINE)).await;
    assert_eq!(
        outcome,
        StopOutcome {
            ended: Ended::AfterSigterm,
            exit: Exit::Signal(15)
        }
    );
}

#[tokio::test]
async fn stopping_a_game_that_already_ended_sends_nothing() {
    let scratch = Scratch::new();
    let game = scratch.script("game", "exit 3");
    let (mut process, _guard) = spawn_guarded(scratch.sh(game, &[]));
    within("exit", process.exited()).await;
    let outcome = within("stop", process.stop(Duration::from_millis(300))).await;
    assert_eq!(
        outcome,
        StopOutcome {
            ended: Ended::ByItself,
            exit: Exit::Code(3)
        }
    );
}

#[tokio::test]
async fn processes_forked_by_the_game_go_down_with_it() {
    let scratch = Scratch::new();
    // The helper ignores SIGTERM, so only the group SIGKILL after the leader ends gets it.
    let game = scratch.script(
        "game",
        "(trap '' TERM; while :; do sleep 0.1; done) &\n\
         echo $! > helper.pid\n\
         sleep 1000 &\n\
         echo $! > sleeper.pid\n\
         echo ready\n\
         wait",
    );
    let (mut process, _guard) = spawn_guarded(scratch.sh(game, &[]));
    eventually("ready", || scratch.console_log().contains("ready")).await;
    let helper = ProcessId::of(read_pid(&scratch.path("helper.pid"))).expect("helper runs");
    let sleeper = ProcessId::of(read_pid(&scratch.path("sleeper.pid"))).expect("sleeper runs");
    let _helper_guard = KillOnDrop(helper);
    assert_eq!(
        getpgid(Pid::from_raw(helper.pid))
            .expect("pgid")
            .as_raw_nonzero()
            .get(),
        process.pgid()
    );

    let outcome = within("stop", process.stop(DEADLINE)).await;
    assert_eq!(outcome.ended, Ended::AfterSigterm);
    eventually("helper gone", || !helper.is_alive_and_same()).await;
    eventually("sleeper gone", || !sleeper.is_alive_and_same()).await;
}

#[tokio::test]
async fn process_ids_round_trip_and_fake_start_times_are_refused() {
    let scratch = Scratch::new();
    let game = scratch.script("game", "exec sleep 30");
    let (mut process, _guard) = spawn_guarded(scratch.sh(game, &[]));
    let id = process.id();
    assert_eq!(ProcessId::of(id.pid), Some(id));
    assert!(id.is_alive_and_same());

    let fake = ProcessId {
        start_time: id.start_time + 1,
        ..id
    };
    assert!(!fake.is_alive_and_same());
    match attach(fake) {
        Err(ProcessError::PidReused {
            pid,
            recorded,
            found,
        }) => {
            assert_eq!(
                (pid, recorded, found),
                (id.pid, fake.start_time, id.start_time)
            );
        }
        other => panic!("expected PidReused, got {other:?}"),
    }

    kill_group(id.pid).expect("kill");
    within("exit", process.exited()).await;
    assert!(matches!(
        attach(id),
        Err(ProcessError::NotRunning(_) | ProcessError::PidReused { .. })
    ));
}

#[tokio::test]
async fn attach_notices_the_end_of_a_process_that_is_not_our_child() {
    // `sh` starts `sleep` in the background and exits: the sleep's parent is gone, as a game's
    // would be after a host restart.
    let output = std::process::Command::new("/bin/sh")
        .args(["-c", "sleep 30 >/dev/null 2>&1 </dev/null & echo $!"])
        .output()
        .expect("sh runs");
    let pid: i32 = String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .expect("a pid");
    let id = ProcessId::of(pid).expect("sleep runs");
    let _guard = KillOnDrop(id);

    let mut attached = attach(id).expect("attaches");
    assert_eq!(attached.id(), id);
    // It does not lead a group, so it is signalled alone.
    assert_eq!(attached.pgid(), None);
    rustix::process::kill_process(
        Pid::from_raw(pid).expect("pid"),
        rustix::process::Signal::KILL,
    )
    .expect("kill");
    assert_eq!(within("exit", attached.exited()).await, Exit::Unknown);
    assert!(!id.is_alive_and_same());
}

#[tokio::test]
async fn an_attached_process_is_stopped_through_its_group() {
    let scratch = Scratch::new();
    let game = scratch.script(
        "game",
        "trap '' TERM; echo ready; while :; do sleep 0.1; done",
    );
    // The earlier host run's process; kept only so the test can reap it at the end.
    let (mut earlier, _guard) = spawn_guarded(scratch.sh(game, &[]));
    eventually("ready", || scratch.console_log().contains("ready")).await;

    let mut attached = attach(earlier.id()).expect("attaches");
    assert_eq!(attached.pgid(), Some(earlier.id().pid));
    let outcome = within("stop", attached.stop(Duration::from_millis(300))).await;
    assert_eq!(
        outcome,
        StopOutcome {
            ended: Ended::Killed,
            exit: Exit::Unknown
        }
    );
    assert_eq!(within("reap", earlier.exited()).await, Exit::Signal(9));
}

#[tokio::test]
async fn a_missing_or_unrunnable_program_is_a_clear_error() {
    let scratch = Scratch::new();
    let missing = scratch.path("no-such-game");
    match spawn(scratch.spec(missing.clone(), &[])) {
        Err(e @ ProcessError::ProgramNotFound(_)) => {
            assert!(e.to_string().contains("no-such-game"), "{e}");
        }
        other => panic!("expected ProgramNotFound, got {other:?}"),
    }

    let plain = scratch.path("not-executable");
    std::fs::write(&plain, "#!/bin/sh\n").expect("write");
    assert!(matches!(
        spawn(scratch.spec(plain, &[])),
        Err(ProcessError::NotExecutable(_))
    ));

    assert!(matches!(
        spawn(scratch.spec(PathBuf::from("garrison-no-such-program"), &[])),
        Err(ProcessError::ProgramNotFound(_))
    ));

    let mut spec = scratch.spec(PathBuf::from("/bin/sh"), &[]);
    spec.working_dir = scratch.path("missing-dir");
    assert!(matches!(spawn(spec), Err(ProcessError::WorkingDir { .. })));
}

#[tokio::test]
async fn the_game_sees_only_a_minimal_explicit_environment() {
    let scratch = Scratch::new();
    let mut spec = scratch.spec(PathBuf::from("env"), &[]);
    spec.env.push(("GAME_SETTING".into(), "on".into()));
    let (mut process, _guard) = spawn_guarded(spec);
    assert_eq!(within("exit", process.exited()).await, Exit::Code(0));

    let log = scratch.console_log();
    let mut lines: Vec<&str> = log.lines().collect();
    lines.sort_unstable();
    let home = format!("HOME={}", scratch.dir.path().display());
    let path = format!("PATH={DEFAULT_PATH}");
    let mut expected = vec!["GAME_SETTING=on", &home, "LANG=C.UTF-8", &path];
    expected.sort_unstable();
    assert_eq!(lines, expected);
    // In particular nothing of the host's own environment (cargo sets this for tests).
    assert!(std::env::var("CARGO_PKG_NAME").is_ok());
    assert!(!log.contains("CARGO_PKG_NAME"));
}

#[tokio::test]
async fn group_signals_refuse_dangerous_group_ids() {
    for pgid in [0, 1, -1] {
        assert!(matches!(
            terminate_group(pgid),
            Err(ProcessError::InvalidGroup(_))
        ));
    }
    let own = rustix::process::getpgrp().as_raw_nonzero().get();
    assert!(matches!(
        kill_group(own),
        Err(ProcessError::InvalidGroup(_))
    ));
    for pid in [-5, 0, 1] {
        let id = ProcessId { pid, start_time: 1 };
        assert!(!id.is_alive_and_same());
        assert!(matches!(attach(id), Err(ProcessError::NotRunning(_))));
    }
    // A group that is gone is not an error.
    let scratch = Scratch::new();
    let game = scratch.script("game", "exit 0");
    let (mut process, _guard) = spawn_guarded(scratch.sh(game, &[]));
    within("exit", process.exited()).await;
    assert!(interrupt_group(process.pgid()).is_ok());
}

#[test]
fn spawning_outside_a_runtime_is_refused() {
    let scratch = Scratch::new();
    assert!(matches!(
        spawn(scratch.spec(PathBuf::from("/bin/true"), &[])),
        Err(ProcessError::NoRuntime)
    ));
}
