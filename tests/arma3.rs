//! Arma 3 end to end: the real adapter component in the host runtime, the host's RCon driver,
//! and the simulator started the way a real install would be (a runtime directory holding
//! `arma3server_x64`, config files and arguments produced by the adapter).

use crate::common;

use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use common::{
    PlannedServer, eventually, garrison, rcon_driver, runtime_with_deadline, start_planned,
};
use garrison::adapters::model::{Connection, GameEvent, Player};
use garrison::adapters::{AdapterRuntime, LoadedAdapter, LogParser, RconSession, settings};
use garrison::telemetry::rcon::{self, RconError, RconHandle, RconOptions, RconStatus, RconTarget};
use serde_json::json;

const SAMPLE_RPT: &str = include_str!("data/arma3/sample.rpt");

fn arma3(runtime: &AdapterRuntime) -> Arc<LoadedAdapter> {
    runtime.get("arma3").expect("the arma3 adapter is built in")
}

/// A simulated Arma 3 server started from the adapter's own plans.
struct ArmaServer {
    planned: PlannedServer,
    connection: Connection,
}

impl ArmaServer {
    fn start(runtime: &AdapterRuntime, sim_flags: &[&str]) -> ArmaServer {
        Self::start_on(runtime, sim_flags, common::free_port())
    }

    fn start_on(runtime: &AdapterRuntime, sim_flags: &[&str], rcon_port: u16) -> ArmaServer {
        let settings = json!({
            "hostname": "E2E \"; passwordAdmin = \"x",
            "max_players": 64,
            "rcon_password": "s3cret-rcon",
            "password_admin": "adm1n",
            "rcon_port": rcon_port,
            "port": common::free_port(),
            "steam_username": "tester",
            "steam_password": "steam-pw",
            "extra_params": sim_flags,
        });
        let planned = start_planned(runtime, "arma3", "arma3server_x64", settings);
        let connection = planned.connection.clone();
        ArmaServer {
            planned,
            connection,
        }
    }

    fn instance(&self) -> &Path {
        self.planned.instance.path()
    }

    fn rpt(&self) -> String {
        std::fs::read_dir(self.instance().join("profiles"))
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|x| x == "rpt"))
            .and_then(|p| std::fs::read_to_string(p).ok())
            .unwrap_or_default()
    }

    fn driver(
        &self,
        runtime: &AdapterRuntime,
        password: &str,
    ) -> (RconHandle, tokio::task::JoinHandle<()>) {
        rcon_driver(runtime, "arma3", &self.connection, password)
    }
}

async fn players_until(
    runtime: &AdapterRuntime,
    handle: &RconHandle,
    done: impl Fn(&[Player]) -> bool,
) -> Vec<Player> {
    common::players_until(runtime, "arma3", handle, done).await
}

async fn wait_connected(handle: &RconHandle) {
    let mut status = handle.status();
    tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            if *status.borrow_and_update() == RconStatus::Connected {
                return;
            }
            if status.changed().await.is_err() {
                panic!("driver stopped before connecting");
            }
        }
    })
    .await
    .expect("connected within the bound");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rcon_players_kick_say_and_server_messages_over_udp() {
    let runtime = runtime_with_deadline(Duration::from_millis(500));
    let server = ArmaServer::start(
        &runtime,
        &[
            "--tick-ms=50",
            "--players=40",
            "--fragment-bytes=200",
            "--shuffle-fragments",
        ],
    );
    // The injection attempt in the hostname stayed one harmless string.
    let cfg = std::fs::read_to_string(server.instance().join("server.cfg")).expect("server.cfg");
    assert!(
        cfg.contains(r#"hostname = "E2E ""; passwordAdmin = ""x";"#),
        "{cfg}"
    );

    let (handle, task) = server.driver(&runtime, &server.connection.password);
    wait_connected(&handle).await;

    // A 40-player list does not fit one 200-byte packet: it arrives in shuffled fragments.
    let list = players_until(&runtime, &handle, |list| {
        list.len() == 40
            && list.iter().all(|p| {
                p.details
                    .contains(&("verified".to_string(), "true".to_string()))
            })
    })
    .await;
    assert!(
        list.iter()
            .all(|p| p.unique_id.as_ref().is_some_and(|g| g.len() == 32)),
        "{list:?}"
    );
    assert!(
        list.iter().any(|p| !p.name.is_ascii()),
        "names survive as UTF-8"
    );

    // Kick one: it leaves, and the server tells us in a message (once, though unacked
    // messages would be resent).
    let mut messages = handle.messages();
    let victim = list[3].clone();
    let mut session = runtime.session(arma3(&runtime));
    for command in session
        .kick_commands(&victim, "e2e kick")
        .expect("kick commands")
    {
        handle.command(command).await.expect("kick reply");
    }
    players_until(&runtime, &handle, |now| {
        now.len() == 39 && !now.iter().any(|p| p.name == victim.name)
    })
    .await;
    let mut seen = Vec::new();
    let collect_until = tokio::time::Instant::now() + Duration::from_secs(3);
    while let Ok(Ok(message)) = tokio::time::timeout_at(collect_until, messages.recv()).await {
        seen.push(message);
    }
    let about_victim: Vec<&String> = seen.iter().filter(|m| m.contains(&victim.name)).collect();
    assert!(
        !about_victim.is_empty(),
        "a server message about the kick: {seen:?}"
    );
    let mut unique = about_victim.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(
        unique.len(),
        about_victim.len(),
        "no message shown twice: {seen:?}"
    );
    assert!(
        server
            .rpt()
            .contains(&format!("Player {} kicked off by BattlEye", victim.name))
    );

    // Say goes to every player and shows up in the log.
    let say = session.say_command("hello from the e2e test").expect("say");
    handle.command(say).await.expect("say reply");
    eventually(Duration::from_secs(10), || async {
        server.rpt().contains("hello from the e2e test")
    })
    .await;

    handle.stop();
    task.await.expect("driver task");
    drop(server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_is_reported_not_retried_forever() {
    let runtime = runtime_with_deadline(Duration::from_millis(500));
    let server = ArmaServer::start(&runtime, &["--tick-ms=50", "--players=1"]);
    let (handle, task) = server.driver(&runtime, "not-the-password");
    match handle.command("players").await {
        Err(RconError::AuthFailed(_)) => {}
        other => panic!("expected the password to be refused, got {other:?}"),
    }
    assert!(matches!(
        *handle.status().borrow(),
        RconStatus::AuthFailed(_) | RconStatus::Stopped
    ));
    task.await.expect("driver stops after a refused password");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garrison_rcon_runs_one_command_and_prints_the_reply() {
    let runtime = runtime_with_deadline(Duration::from_millis(500));
    let server = ArmaServer::start(&runtime, &["--tick-ms=50", "--players=2"]);
    // Wait for the simulated players before asking.
    let (handle, task) = server.driver(&runtime, &server.connection.password);
    wait_connected(&handle).await;
    players_until(&runtime, &handle, |list| list.len() == 2).await;
    handle.stop();
    task.await.expect("driver");

    let address = format!("{}:{}", server.connection.host, server.connection.port);
    let password = server.connection.password.clone();
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new(common::garrison_bin())
            .args([
                "rcon",
                &address,
                "--adapter",
                "arma3",
                "--password-env",
                "E2E_RCON_PW",
                "players",
            ])
            .env("E2E_RCON_PW", password)
            .output()
            .expect("run garrison rcon")
    })
    .await
    .expect("join");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("Players on server:"), "{stdout}");
    assert!(stdout.contains("(2 players in total)"), "{stdout}");

    let (ok, _, err) = garrison(&[
        "rcon",
        "127.0.0.1:9",
        "--adapter",
        "arma3",
        "--password-env",
        "E2E_UNSET_VAR",
        "players",
    ]);
    assert!(!ok);
    assert!(err.contains("E2E_UNSET_VAR"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_interactive_console_runs_commands_and_shows_server_messages() {
    use std::io::{BufRead, BufReader, Write};
    let runtime = runtime_with_deadline(Duration::from_millis(500));
    let server = ArmaServer::start(&runtime, &["--tick-ms=50", "--players=2"]);
    let address = format!("{}:{}", server.connection.host, server.connection.port);
    let password = server.connection.password.clone();
    let transcript = tokio::task::spawn_blocking(move || {
        let mut console = std::process::Command::new(common::garrison_bin())
            .args([
                "rcon",
                &address,
                "--adapter",
                "arma3",
                "--password-env",
                "E2E_RCON_PW",
            ])
            .env("E2E_RCON_PW", password)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the console");
        let mut stdin = console.stdin.take().expect("stdin");
        let stdout = BufReader::new(console.stdout.take().expect("stdout"));
        writeln!(stdin, "say -1 typed at the console").expect("type a command");
        let mut seen = Vec::new();
        for line in stdout.lines() {
            let line = line.expect("console output");
            let done = line.contains("typed at the console") && line.starts_with("[server]");
            seen.push(line);
            if done {
                break;
            }
            assert!(seen.len() < 500, "the echo never came: {seen:?}");
        }
        drop(stdin); // end of input ends the console
        let status = console.wait().expect("console exits");
        (status.success(), seen)
    })
    .await
    .expect("join");
    let (exited_cleanly, seen) = transcript;
    assert!(exited_cleanly, "{seen:?}");
    assert!(
        seen.iter()
            .any(|l| l.starts_with("[server]") && l.contains("typed at the console")),
        "the say came back as a server message: {seen:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_driver_waits_for_a_starting_server_and_reconnects_after_a_restart() {
    let runtime = runtime_with_deadline(Duration::from_millis(500));
    let port = common::free_port();
    let options = RconOptions {
        command_timeout: Duration::from_secs(15),
        backoff_min: Duration::from_millis(100),
        backoff_max: Duration::from_millis(400),
        ..RconOptions::default()
    };
    let target = RconTarget {
        address: format!("127.0.0.1:{port}"),
        password: "s3cret-rcon".into(),
    };
    let (handle, task) = rcon::spawn(runtime.clone(), arma3(&runtime), target, options);

    // Asked before the server exists: the command waits, and runs once it is up.
    let early = tokio::spawn({
        let handle = handle.clone();
        async move { handle.command("players").await }
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(matches!(
        *handle.status().borrow(),
        RconStatus::Connecting { .. } | RconStatus::Disconnected { .. }
    ));
    let server = ArmaServer::start_on(&runtime, &["--tick-ms=50", "--players=1"], port);
    let reply = early.await.expect("join").expect("the early command ran");
    assert!(reply.contains("Players on server:"), "{reply}");

    // The server goes away: the driver notices, and reconnects when it is back.
    drop(server);
    let lost = handle.command("players").await;
    assert!(lost.is_err(), "no reply from a dead server: {lost:?}");
    let server = ArmaServer::start_on(&runtime, &["--tick-ms=50", "--players=1"], port);
    let limit = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(reply) = handle.command("players").await {
            assert!(reply.contains("Players on server:"), "{reply}");
            break;
        }
        assert!(tokio::time::Instant::now() < limit, "never reconnected");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(*handle.status().borrow(), RconStatus::Connected);
    handle.stop();
    task.await.expect("driver");
    drop(server);
}

#[test]
fn the_rpt_sample_parses_through_the_component() {
    let runtime = runtime_with_deadline(Duration::from_millis(500));
    let adapter = arma3(&runtime);
    let mut parser = LogParser::new(
        runtime.session(Arc::clone(&adapter)),
        settings::defaults(&adapter.schema),
    )
    .expect("parser");
    let lines: Vec<String> = SAMPLE_RPT.lines().map(String::from).collect();
    let mut entries = Vec::new();
    for chunk in lines.chunks(7) {
        entries.extend(parser.feed("rpt", chunk.to_vec()).expect("feed"));
    }
    entries.extend(parser.flush("rpt").expect("flush"));

    // Every line is covered exactly once: joining the records gives the file back.
    let joined: Vec<&str> = entries.iter().map(|e| e.record.text.as_str()).collect();
    assert_eq!(joined.join("\n"), SAMPLE_RPT.trim_end_matches('\n'));

    let events: Vec<&GameEvent> = entries.iter().flat_map(|e| &e.events).collect();
    let count = |pred: &dyn Fn(&GameEvent) -> bool| events.iter().filter(|e| pred(e)).count();
    assert_eq!(count(&|e| matches!(e, GameEvent::ServerReady)), 1);
    assert!(
        count(
            &|e| matches!(e, GameEvent::PlayerJoined { player } if player.unique_id.as_deref() == Some("76561198000000001"))
        ) >= 1
    );
    assert!(
        count(&|e| matches!(e, GameEvent::PlayerLeft { departure, .. } if departure == "kicked"))
            >= 1
    );
    assert!(
        count(
            &|e| matches!(e, GameEvent::Chat { channel, text, .. } if channel == "global" && text == "hello everyone")
        ) == 1
    );
    assert!(
        count(
            &|e| matches!(e, GameEvent::Metrics { samples } if samples.iter().any(|(n, v)| n == "server_fps" && *v == 49.0))
        ) == 1
    );
    assert!(count(&|e| matches!(e, GameEvent::MapChange { phase, .. } if phase == "started")) >= 2);
    let script_error = entries
        .iter()
        .find(|e| {
            e.record
                .text
                .starts_with("12:35:40.123 Error in expression")
        })
        .expect("the script error is one record");
    assert!(
        script_error.record.text.contains("\n_x = _y + 1;>"),
        "continuation joined"
    );
    assert_eq!(script_error.record.time.as_deref(), Some("12:35:40.123"));
    let padded = entries
        .iter()
        .find(|e| e.record.text.starts_with(" 4:01:10 Warning Message"))
        .expect("space-padded hour");
    assert_eq!(padded.record.time.as_deref(), Some("04:01:10"));
}

/// CRC-32 (IEEE), bit by bit: an independent check of the adapter's table-driven one.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn be_packet(kind: u8, payload: &[u8]) -> Vec<u8> {
    let mut body = vec![0xFF, kind];
    body.extend_from_slice(payload);
    let mut packet = b"BE".to_vec();
    packet.extend_from_slice(&crc32(&body).to_le_bytes());
    packet.extend_from_slice(&body);
    packet
}

fn hex(s: &str) -> Vec<u8> {
    s.split_whitespace()
        .map(|b| u8::from_str_radix(b, 16).expect("hex"))
        .collect()
}

#[test]
fn battleye_golden_vectors_through_the_component() {
    let runtime = runtime_with_deadline(Duration::from_millis(500));
    let mut session =
        RconSession::new(runtime.session(arma3(&runtime)), "password", 0).expect("session");
    assert_eq!(
        session.transmit(0).expect("transmit"),
        vec![hex("42 45 DE 26 2D 52 FF 00 70 61 73 73 77 6F 72 64")],
        "login"
    );
    assert_eq!(
        be_packet(0x00, b"password"),
        hex("42 45 DE 26 2D 52 FF 00 70 61 73 73 77 6F 72 64")
    );
    let events = session
        .receive(&be_packet(0x00, &[0x01]), 10)
        .expect("login reply");
    assert_eq!(
        events,
        vec![garrison::adapters::model::SessionEvent::Authenticated]
    );
    assert!(session.transmit(10).expect("transmit").is_empty());

    // A server message is shown once and acknowledged every time it arrives.
    let message = be_packet(0x02, b"\x00RCon admin #0: (Global) hi");
    let first = session.receive(&message, 20).expect("message");
    assert_eq!(first.len(), 1);
    assert_eq!(
        session.transmit(20).expect("ack"),
        vec![hex("42 45 7D 8F EF 73 FF 02 00")]
    );
    assert!(
        session
            .receive(&message, 25)
            .expect("resent message")
            .is_empty(),
        "deduplicated"
    );
    assert_eq!(
        session.transmit(25).expect("ack again"),
        vec![hex("42 45 7D 8F EF 73 FF 02 00")]
    );

    // After 30 s without sending, a keepalive goes out (the first command, sequence 0).
    let wake = session
        .next_wakeup()
        .expect("wakeup")
        .expect("a timer runs");
    assert!(
        wake <= 30_010,
        "keepalive due within 30 s of the last send, got {wake}"
    );
    session.tick(wake).expect("tick");
    assert_eq!(
        session.transmit(wake).expect("keepalive"),
        vec![hex("42 45 BE DC C2 58 FF 01 00")]
    );
}

#[test]
fn random_bytes_never_trap_the_session() {
    let runtime = runtime_with_deadline(Duration::from_millis(500));
    let mut session =
        RconSession::new(runtime.session(arma3(&runtime)), "password", 0).expect("session");
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for i in 0..3000u64 {
        let len = (next() % 64) as usize;
        let mut bytes: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        // Half of them look like BattlEye packets, with a valid CRC, to get past the first
        // checks and into the parsers.
        if i % 2 == 0 {
            let kind = (next() % 4) as u8;
            bytes = be_packet(kind, &bytes);
        }
        session.receive(&bytes, i).expect("never a trap");
        session.transmit(i).expect("never a trap");
    }
    assert!(
        session.dropped().expect("dropped") > 0,
        "garbage was counted"
    );
}
