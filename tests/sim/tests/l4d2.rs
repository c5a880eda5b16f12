//! End-to-end checks of `garrison-sim` in its Left 4 Dead 2 (srcds) persona.
//!
//! Each test builds a runtime directory in a temp dir — a `srcds_run` symlink to the simulator
//! beside `left4dead2/cfg/server.cfg` (or Garrison's per-server `cfg/garrison/<port>.cfg`), as
//! installing the game would leave it — starts it from
//! another working directory, and talks to it over loopback TCP with a tiny hand-written Source
//! RCON client that reads packets whole however the server splits its writes. Every read has a
//! timeout, every wait a deadline, and the child is killed if a test fails.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// Kills the simulator if the test ends early.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Guard {
    fn wait_exit(&mut self, within: Duration) -> ExitStatus {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.0.try_wait().expect("try_wait") {
                return status;
            }
            assert!(Instant::now() < deadline, "simulator did not exit in time");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

fn packet(id: i32, kind: i32, body: &[u8]) -> Vec<u8> {
    let mut out = (body.len() as i32 + 10).to_le_bytes().to_vec();
    out.extend_from_slice(&id.to_le_bytes());
    out.extend_from_slice(&kind.to_le_bytes());
    out.extend_from_slice(body);
    out.extend_from_slice(&[0, 0]);
    out
}

/// A minimal Source RCON client.
struct Client {
    stream: TcpStream,
    next_id: i32,
    /// How many RESPONSE_VALUE packets the last command's reply took.
    last_packets: usize,
}

impl Client {
    /// Connects, retrying while the server is still starting.
    fn connect(port: u16) -> Self {
        let deadline = Instant::now() + Duration::from_secs(20);
        let stream = loop {
            match TcpStream::connect(("127.0.0.1", port)) {
                Ok(s) => break s,
                Err(e) => assert!(Instant::now() < deadline, "cannot connect: {e}"),
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        Self {
            stream,
            next_id: 1,
            last_packets: 0,
        }
    }

    fn send(&mut self, id: i32, kind: i32, body: &[u8]) {
        self.stream
            .write_all(&packet(id, kind, body))
            .expect("send");
    }

    fn recv(&mut self) -> (i32, i32, Vec<u8>) {
        let mut size = [0u8; 4];
        self.stream.read_exact(&mut size).expect("packet size");
        let size = i32::from_le_bytes(size);
        assert!((10..=4106).contains(&size), "bad size {size}");
        let mut rest = vec![0u8; size as usize];
        self.stream.read_exact(&mut rest).expect("packet");
        assert_eq!(&rest[rest.len() - 2..], [0, 0], "terminator");
        let id = i32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]);
        let kind = i32::from_le_bytes([rest[4], rest[5], rest[6], rest[7]]);
        (id, kind, rest[8..rest.len() - 2].to_vec())
    }

    /// Logs in; true when accepted (id echoed), false when refused (id −1).
    fn auth(&mut self, password: &str) -> bool {
        let id = self.next_id;
        self.next_id += 1;
        self.send(id, 3, password.as_bytes());
        assert_eq!(
            self.recv(),
            (id, 0, Vec::new()),
            "empty RESPONSE_VALUE first"
        );
        let (got, kind, body) = self.recv();
        assert_eq!((kind, body), (2, Vec::new()), "AUTH_RESPONSE");
        assert!(got == id || got == -1, "auth id {got}");
        got == id
    }

    /// Runs a command with the empty-packet trick and reassembles the reply.
    fn command(&mut self, text: &str) -> String {
        let id = self.next_id;
        self.next_id += 2;
        self.send(id, 2, text.as_bytes());
        self.send(id + 1, 0, b"");
        let mut reply = Vec::new();
        self.last_packets = 0;
        loop {
            let (got, kind, body) = self.recv();
            assert_eq!(kind, 0);
            if got == id + 1 {
                assert!(body.is_empty(), "mirror is empty");
                assert_eq!(self.recv(), (id + 1, 0, vec![0, 0, 0, 1]), "quirk packet");
                return String::from_utf8(reply).expect("utf-8 reply");
            }
            assert_eq!(got, id, "reply id");
            self.last_packets += 1;
            reply.extend(body);
        }
    }
}

fn free_tcp_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// A runtime dir with `srcds_run` and `left4dead2/cfg/server.cfg`; returns (exe, game dir).
fn install(root: &Path, cfg: &str) -> (PathBuf, PathBuf) {
    let runtime = root.join("runtime");
    let game = runtime.join("left4dead2");
    std::fs::create_dir_all(game.join("cfg")).expect("cfg dir");
    std::fs::write(game.join("cfg/server.cfg"), cfg).expect("server.cfg");
    let exe = runtime.join("srcds_run");
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_garrison-sim"), &exe).expect("symlink");
    (exe, game)
}

const CFG: &str = "// test server\nhostname \"Garrison Sim L4D2\"\nrcon_password \"passwrd\"\n\
                   sv_password \"\"\nmp_gamemode coop\nz_difficulty \"Hard\"\nlog on\n";

fn start(exe: &Path, cwd: &Path, port: u16, extra: &[&str]) -> Guard {
    let port = port.to_string();
    let mut args = vec![
        "-game",
        "left4dead2",
        "-port",
        &port,
        "+maxplayers",
        "8",
        "+map",
        "c1m1_hotel",
        "+exec",
        "server.cfg",
        "-condebug",
        "--tick-ms",
        "50",
    ];
    args.extend_from_slice(extra);
    let child = Command::new(exe)
        .current_dir(cwd)
        .args(&args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .expect("start simulator");
    Guard(child)
}

/// The game log files in `<game>/logs` (the default `sv_logsdir`), oldest first.
fn log_files(game: &Path) -> Vec<PathBuf> {
    log_files_in(&game.join("logs"))
}

/// The entries of a log folder, oldest first.
fn log_files_in(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.sort();
    files
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// Waits until `check` holds, failing with `what` after a deadline.
fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_full_session_over_rcon() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (exe, game) = install(dir.path(), CFG);
    let port = free_tcp_port();
    let mut sim = start(
        &exe,
        dir.path(),
        port,
        &[
            "--players",
            "3",
            "--packet-bytes",
            "100",
            "--split-writes",
            "--seed",
            "4",
        ],
    );

    let mut wrong = Client::connect(port);
    assert!(
        !wrong.auth("nope"),
        "a wrong password is refused with id -1"
    );
    // The connection stays open: a second try on it succeeds.
    assert!(wrong.auth("passwrd"));

    let mut rcon = Client::connect(port);
    assert!(rcon.auth("passwrd"));
    let mut status = String::new();
    eventually("3 active players", || {
        status = rcon.command("status");
        status
            .lines()
            .filter(|l| l.contains(" active 30000 "))
            .count()
            == 3
    });
    assert!(rcon.last_packets > 1, "status fits in one packet: {status}");
    let lines: Vec<&str> = status.lines().collect();
    assert_eq!(lines[0], "hostname: Garrison Sim L4D2");
    assert_eq!(
        lines[2],
        format!("udp/ip  : 127.0.0.1:{port} [ public 127.0.0.1:{port} ]")
    );
    assert_eq!(
        lines[5],
        "players : 3 humans, 1 bots (8 max) (not hibernating) (unreserved)"
    );
    assert_eq!(
        lines[7],
        "# userid name uniqueid connected ping loss state rate adr"
    );
    assert!(
        lines[8].starts_with("#  2 \"Ärger ☃\" STEAM_1:"),
        "{}",
        lines[8]
    );
    assert!(
        lines[9].starts_with("#  3 \"Bob Smith\" STEAM_1:"),
        "{}",
        lines[9]
    );
    assert_eq!(lines[11], "#  5 \"Zoey\" BOT active");
    assert_eq!(lines[12], "#end");

    assert_eq!(rcon.command("kickid 3 \"spamming\""), "");
    assert_eq!(
        rcon.command("frobnicate"),
        "Unknown command \"frobnicate\"\n"
    );
    let status = rcon.command("status");
    assert!(!status.contains("Bob Smith"), "{status}");

    let console = game.join("console.log");
    eventually("the kick in console.log", || {
        read(&console).contains("Dropped Bob Smith from server (Kicked by Console : spamming)\n")
    });
    let text = read(&console);
    for line in [
        "Loading map \"c1m1_hotel\"",
        "Connection to Steam servers successful.",
        "   VAC secure mode is activated.",
        "Client \"Ärger ☃\" connected (127.0.0.1:27005).",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "console.log lacks {line:?}:\n{text}"
        );
    }

    let files = log_files(&game);
    assert_eq!(files.len(), 1, "{files:?}");
    let log = read(&files[0]);
    let me = rcon.stream.local_addr().expect("local addr");
    for event in [
        "Started map \"c1m1_hotel\" (CRC \"-1588462862\")".to_string(),
        "\"z_difficulty\" = \"Hard\"".into(),
        "\" entered the game".into(),
        format!("rcon from \"{me}\": command \"kickid 3 \"spamming\"\""),
        "Kick: \"Bob Smith<3><STEAM_1:".into(),
        "><Survivor>\" disconnected (reason \"Kicked by Console : spamming\")".into(),
    ] {
        assert!(log.contains(&event), "log lacks {event:?}:\n{log}");
    }
    assert!(
        log.lines()
            .all(|l| l.len() > 25 && l.starts_with("L ") && &l[23..25] == ": ")
    );

    assert_eq!(rcon.command("changelevel c2m1_highway"), "");
    eventually("a second log file", || log_files(&game).len() == 2);
    let files = log_files(&game);
    eventually("the new map started", || {
        read(&files[1]).contains(": Started map \"c2m1_highway\" (CRC \"")
    });
    assert!(read(&files[0]).ends_with(": Log file closed\n"));
    assert!(read(&files[1]).contains(": Loading map \"c2m1_highway\"\n"));

    rcon.send(1000, 2, b"quit");
    let status = sim.wait_exit(Duration::from_secs(10));
    assert_eq!(status.code(), Some(0));
    assert!(read(&files[1]).ends_with(": Log file closed\n"));
}

#[test]
fn garbage_closes_only_that_connection_and_bans_are_written() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (exe, game) = install(dir.path(), CFG);
    let port = free_tcp_port();
    let mut sim = start(&exe, dir.path(), port, &["--players", "1"]);

    let mut good = Client::connect(port);
    assert!(good.auth("passwrd"));
    // Commands before login are ignored; a size field below 10 closes the connection.
    let mut bad = Client::connect(port);
    bad.send(1, 2, b"status");
    bad.stream.write_all(&5i32.to_le_bytes()).expect("garbage");
    let mut buf = [0u8; 64];
    assert_eq!(bad.stream.read(&mut buf).expect("closed, not timed out"), 0);

    assert_eq!(good.command("banid 0 STEAM_1:0:424242"), "");
    assert_eq!(good.command("banid 30 STEAM_1:1:7"), "");
    let list = good.command("listid");
    assert!(list.starts_with(
        "ID filter list: 2 entries\n1 STEAM_1:0:424242 : permanent\n2 STEAM_1:1:7 : "
    ));
    assert_eq!(good.command("writeid"), "");
    assert_eq!(
        read(&game.join("cfg/banned_user.cfg")),
        "banid 0 STEAM_1:0:424242\n"
    );
    assert_eq!(good.command("say hi all"), "");
    eventually("the console say", || {
        read(&game.join("console.log")).contains("Console: hi all\n")
    });

    // SIGTERM stops it cleanly.
    let pid = sim.0.id().to_string();
    let killed = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    assert!(killed.success());
    assert_eq!(sim.wait_exit(Duration::from_secs(10)).code(), Some(0));
    let files = log_files(&game);
    assert!(read(&files[0]).ends_with(": Log file closed\n"));
}

/// Starts a server the way Garrison does when several share one install: its own cfg and log
/// folder named after its port, no `-condebug`, its output in `console` (the host's capture).
fn start_as_garrison(exe: &Path, cwd: &Path, port: u16, console: &Path) -> Guard {
    let exec = format!("garrison/{port}.cfg");
    let logs_dir = format!("logs/garrison-{port}");
    let port = port.to_string();
    let out = std::fs::File::create(console).expect("console file");
    let child = Command::new(exe)
        .current_dir(cwd)
        .args([
            "-game",
            "left4dead2",
            "-port",
            &port,
            "+maxplayers",
            "8",
            "+sv_logsdir",
            &logs_dir,
            "+servercfgfile",
            &exec,
            "+map",
            "c1m1_hotel",
            "+exec",
            &exec,
            "--tick-ms",
            "50",
            "--players",
            "1",
        ])
        .stdin(Stdio::null())
        .stdout(out)
        .spawn()
        .expect("start simulator");
    Guard(child)
}

#[test]
fn two_servers_in_one_install_keep_their_own_config_and_logs() {
    let dir = tempfile::tempdir().expect("temp dir");
    // The install's own server.cfg is not theirs: a server that read it would refuse logins.
    let (exe, game) = install(dir.path(), "hostname \"shared\"\nrcon_password \"other\"\n");
    let ports = [free_tcp_port(), free_tcp_port()];
    std::fs::create_dir_all(game.join("cfg/garrison")).expect("cfg/garrison");
    let mut sims = Vec::new();
    for port in ports {
        let cfg = format!("hostname \"server {port}\"\nrcon_password \"pw{port}\"\nlog on\n");
        std::fs::write(game.join(format!("cfg/garrison/{port}.cfg")), cfg).expect("cfg");
        let console = dir.path().join(format!("console-{port}.log"));
        sims.push((
            port,
            console.clone(),
            start_as_garrison(&exe, dir.path(), port, &console),
        ));
    }

    for (port, console, _) in &sims {
        let mut rcon = Client::connect(*port);
        assert!(rcon.auth(&format!("pw{port}")), "its own cfg was run");
        let status = rcon.command("status");
        assert!(
            status.starts_with(&format!("hostname: server {port}\n")),
            "{status}"
        );
        // The console is the process's output; nothing goes to a shared console.log.
        eventually("ready on stdout", || {
            read(console).contains("Connection to Steam servers successful.\n")
        });
        // The game log is in the server's own folder and names itself by that path.
        let own = game.join(format!("logs/garrison-{port}"));
        let files = log_files_in(&own);
        assert_eq!(files.len(), 1, "{files:?}");
        let name = files[0].file_name().and_then(|n| n.to_str()).unwrap_or("");
        let log = read(&files[0]);
        assert!(
            log.lines()
                .next()
                .is_some_and(|l| l[25..].starts_with(&format!(
                    "Log file started (file \"logs/garrison-{port}/{name}\")"
                ))),
            "{log}"
        );
        assert!(log.contains(": Loading map \"c1m1_hotel\"\n"), "{log}");
    }
    assert!(!game.join("console.log").exists());
    let shared: Vec<PathBuf> = log_files(&game)
        .into_iter()
        .filter(|p| p.is_file())
        .collect();
    assert!(shared.is_empty(), "no log directly in logs/: {shared:?}");

    // A map change opens the next file in the same folder.
    let (port, _, _) = &sims[0];
    let mut rcon = Client::connect(*port);
    assert!(rcon.auth(&format!("pw{port}")));
    assert_eq!(rcon.command("changelevel c2m1_highway"), "");
    let own = game.join(format!("logs/garrison-{port}"));
    eventually("a second log file", || log_files_in(&own).len() == 2);
    assert_eq!(
        log_files_in(&game.join(format!("logs/garrison-{}", ports[1]))).len(),
        1
    );
}

#[test]
fn no_rcon_password_refuses_and_missing_cfg_exits_2() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (exe, _game) = install(dir.path(), "hostname \"no rcon\"\n");
    let port = free_tcp_port();
    let _sim = start(&exe, dir.path(), port, &["--players", "0"]);
    let mut c = Client::connect(port);
    assert!(!c.auth(""));
    assert!(!c.auth("passwrd"));

    let port = free_tcp_port();
    let mut missing = start(&exe, dir.path(), port, &["+exec", "nope.cfg"]);
    assert_eq!(missing.wait_exit(Duration::from_secs(10)).code(), Some(2));
}
