//! End-to-end checks of `garrison-sim` in its Arma 3 persona.
//!
//! Each test writes real config files into a temp dir, starts the binary (through an
//! `arma3server_x64` symlink, as a test installing the game would) and talks to it over
//! loopback UDP with a tiny hand-written BattlEye client. Every wait has a deadline and the
//! child is killed if a test fails, so nothing hangs or lingers.

use std::net::UdpSocket;
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

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn packet(kind: u8, payload: &[u8]) -> Vec<u8> {
    let mut body = vec![0xFF, kind];
    body.extend_from_slice(payload);
    let mut out = b"BE".to_vec();
    out.extend_from_slice(&crc32(&body).to_le_bytes());
    out.extend_from_slice(&body);
    out
}

/// A minimal BattlEye RCon client: logs in, runs commands, acks every server message.
struct Client {
    socket: UdpSocket,
    seq: u8,
    /// Server messages seen (each sequence once).
    messages: Vec<String>,
    seen: Vec<u8>,
}

impl Client {
    fn connect(port: u16, password: &str) -> Self {
        let socket = UdpSocket::bind("127.0.0.1:0").expect("bind client");
        socket.connect(("127.0.0.1", port)).expect("connect");
        socket
            .set_read_timeout(Some(Duration::from_millis(200)))
            .expect("timeout");
        let mut client = Self {
            socket,
            seq: 0,
            messages: Vec::new(),
            seen: Vec::new(),
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            assert!(Instant::now() < deadline, "no login reply");
            let _ = client.socket.send(&packet(0x00, password.as_bytes()));
            let until = Instant::now() + Duration::from_millis(300);
            while Instant::now() < until {
                if let Some((0x00, payload)) = client.recv() {
                    assert_eq!(payload, [1], "login refused");
                    return client;
                }
            }
        }
    }

    /// One valid datagram, acking server messages on the way.
    fn recv(&mut self) -> Option<(u8, Vec<u8>)> {
        let mut buf = [0u8; 4096];
        let n = self.socket.recv(&mut buf).ok()?;
        let d = &buf[..n];
        assert!(n >= 8 && &d[..2] == b"BE" && d[6] == 0xFF, "bad header");
        let crc = u32::from_le_bytes([d[2], d[3], d[4], d[5]]);
        assert_eq!(crc, crc32(&d[6..]), "bad crc");
        let (kind, payload) = (d[7], d[8..].to_vec());
        if kind == 0x02 {
            let seq = payload[0];
            self.socket.send(&packet(0x02, &[seq])).expect("ack");
            if !self.seen.contains(&seq) {
                self.seen.push(seq);
                self.messages
                    .push(String::from_utf8_lossy(&payload[1..]).into_owned());
            }
        }
        Some((kind, payload))
    }

    fn command(&mut self, text: &str) -> String {
        let seq = self.seq;
        self.seq = self.seq.wrapping_add(1);
        let mut body = vec![seq];
        body.extend_from_slice(text.as_bytes());
        let deadline = Instant::now() + Duration::from_secs(10);
        'send: loop {
            assert!(Instant::now() < deadline, "no reply to {text:?}");
            self.socket
                .send(&packet(0x01, &body))
                .expect("send command");
            let mut parts: Vec<Option<Vec<u8>>> = Vec::new();
            let until = Instant::now() + Duration::from_secs(1);
            while Instant::now() < until {
                let Some((0x01, payload)) = self.recv() else {
                    continue;
                };
                if payload[0] != seq {
                    continue;
                }
                if payload.len() < 4 || payload[1] != 0 {
                    return String::from_utf8_lossy(&payload[1..]).into_owned();
                }
                let (count, index) = (usize::from(payload[2]), usize::from(payload[3]));
                parts.resize(count, None);
                parts[index] = Some(payload[4..].to_vec());
                if parts.iter().all(Option::is_some) {
                    let bytes: Vec<u8> = parts.into_iter().flatten().flatten().collect();
                    return String::from_utf8(bytes).expect("utf-8 reply");
                }
            }
            continue 'send;
        }
    }

    fn wait_message(&mut self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(m) = self.messages.iter().find(|m| m.contains(needle)) {
                return m.clone();
            }
            assert!(
                Instant::now() < deadline,
                "no message containing {needle:?}: {:?}",
                self.messages
            );
            self.recv();
        }
    }
}

fn free_udp_port() -> u16 {
    let s = UdpSocket::bind("127.0.0.1:0").expect("bind");
    s.local_addr().expect("addr").port()
}

/// Writes configs and a symlink "installing" the game; returns (install dir, rcon port).
fn install(dir: &Path) -> (PathBuf, u16) {
    let port = free_udp_port();
    std::fs::write(
        dir.join("server.cfg"),
        "// test server\nhostname = \"Sim \"\"Test\"\" Server\";\nmaxPlayers = 32;\n\
         password = \"\";\npasswordAdmin = \"adm\";\n\
         class Missions {\n  class Mission_1 { template = \"co10_Escape.Altis\"; difficulty = \"regular\"; };\n};\n",
    )
    .expect("server.cfg");
    std::fs::write(dir.join("basic.cfg"), "MaxMsgSend = 128;\n").expect("basic.cfg");
    std::fs::create_dir_all(dir.join("battleye")).expect("be dir");
    std::fs::write(
        dir.join("battleye/BEServer_x64.cfg"),
        format!("RConPassword s3cret\nRConPort {port}\nRConIP 127.0.0.1\n"),
    )
    .expect("BEServer_x64.cfg");
    let exe = dir.join("arma3server_x64");
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_garrison-sim"), &exe).expect("symlink");
    (exe, port)
}

fn start(exe: &Path, dir: &Path, extra: &[&str]) -> Guard {
    let child = Command::new(exe)
        .current_dir(dir)
        .args([
            "-port=2302",
            "-config=server.cfg",
            "-cfg=basic.cfg",
            "-profiles=profiles",
            "-name=server",
            "-bepath=battleye",
            "-autoInit",
        ])
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start simulator");
    Guard(child)
}

fn rpt_text(dir: &Path) -> String {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join("profiles"))
        .expect("profiles dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "rpt"))
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let name = files[0]
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("")
        .to_string();
    assert!(
        name.starts_with("arma3server_x64_")
            && name.len() == "arma3server_x64_2024-05-06_12-34-56.rpt".len(),
        "{name}"
    );
    std::fs::read_to_string(files.remove(0)).expect("read rpt")
}

#[test]
fn rcon_session_players_kick_and_shutdown() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (exe, port) = install(dir.path());
    let mut sim = start(
        &exe,
        dir.path(),
        &[
            "--tick-ms",
            "50",
            "--players=3",
            "--seed",
            "42",
            "--fragment-bytes",
            "64",
            "--shuffle-fragments",
        ],
    );
    let mut client = Client::connect(port, "s3cret");

    // Wait until the three players have joined and are verified.
    let deadline = Instant::now() + Duration::from_secs(10);
    let players = loop {
        let reply = client.command("players");
        if reply.ends_with("(3 players in total)") && reply.matches("(OK)").count() == 3 {
            break reply;
        }
        assert!(Instant::now() < deadline, "players never settled: {reply}");
        std::thread::sleep(Duration::from_millis(100));
    };
    let lines: Vec<&str> = players.lines().collect();
    assert_eq!(lines[0], "Players on server:");
    assert_eq!(lines.len(), 7, "{players}");
    assert!(
        lines[4].starts_with("1   127.0.0.1:2316        "),
        "{}",
        lines[4]
    );
    assert!(lines[4].ends_with("(OK) Bob Smith"), "{}", lines[4]);

    assert_eq!(client.command("missions"), "co10_Escape.Altis");
    assert_eq!(client.command("nonsense"), "Unknown command");
    assert_eq!(client.command(""), "");

    assert_eq!(client.command("kick 1 testing"), "");
    let message = client.wait_message("has been kicked by BattlEye");
    assert!(message.starts_with("Player #1 Bob Smith ("), "{message}");
    assert!(message.ends_with("Admin Kick (testing)"), "{message}");
    assert!(client.command("players").ends_with("(2 players in total)"));

    assert_eq!(client.command("say -1 hello from the test"), "");
    client.wait_message("RCon admin #0: (Global) hello from the test");

    assert_eq!(client.command("#shutdown"), "");
    let status = sim.wait_exit(Duration::from_secs(5));
    assert_eq!(status.code(), Some(0));

    let rpt = rpt_text(dir.path());
    for expected in [
        "Game Port: 2302, Steam Query Port: 2303",
        "Mission directory: mpmissions\\__cur_mp.Altis\\",
        "Host identity created.",
        "BattlEye Server: Initialized (v1.220, Arma 3 2.16.151618)",
        "Game started.",
        "Player Ärger ☃ connecting.",
        "Player Bob Smith connected (id=76561198000000002).",
        "BattlEye Server: Player #1 Bob Smith (127.0.0.1:2316) connected",
        "Player Bob Smith kicked off by BattlEye: Admin Kick (testing)",
        "Player Bob Smith disconnected.",
        "BattlEye Server: (Global) RCon admin: hello from the test",
        "Server shutting down (#shutdown).",
    ] {
        let found = rpt
            .lines()
            .any(|l| l.len() > 9 && l.get(9..) == Some(expected));
        assert!(found, "RPT lacks {expected:?}:\n{rpt}");
    }
    // Every line after the header carries an `HH:MM:SS` or ` H:MM:SS` stamp.
    for line in rpt.lines().skip_while(|l| {
        !l.ends_with("SteamAPI initialization failed. Steam features won't be accessible!")
    }) {
        let b = line.as_bytes();
        let stamped = b.len() > 9
            && (b[0] == b' ' || b[0].is_ascii_digit())
            && b[1].is_ascii_digit()
            && b[2] == b':'
            && b[5] == b':';
        assert!(
            stamped || line == "_x = _y + 1;>",
            "unstamped line {line:?}"
        );
    }
}

#[test]
fn sigterm_stops_cleanly_and_crash_uses_exit_code() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (exe, port) = install(dir.path());
    let mut sim = start(&exe, dir.path(), &["--tick-ms", "50", "--players", "1"]);
    // Once RCon answers, the server is up and its signal handlers are installed.
    drop(Client::connect(port, "s3cret"));
    let status = Command::new("kill")
        .args(["-TERM", &sim.0.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    assert_eq!(sim.wait_exit(Duration::from_secs(5)).code(), Some(0));
    assert!(rpt_text(dir.path()).contains("Server shutting down (SIGTERM)."));

    let dir = tempfile::tempdir().expect("temp dir");
    let (exe, _) = install(dir.path());
    let mut sim = start(&exe, dir.path(), &["--crash-after", "0.3", "--exit-code=7"]);
    assert_eq!(sim.wait_exit(Duration::from_secs(5)).code(), Some(7));
}

#[test]
fn missing_config_exits_with_code_2() {
    let dir = tempfile::tempdir().expect("temp dir");
    let output = Command::new(env!("CARGO_BIN_EXE_garrison-sim"))
        .current_dir(dir.path())
        .args(["arma3", "-config=nowhere.cfg", "-profiles=p"])
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("nowhere.cfg"));
}
