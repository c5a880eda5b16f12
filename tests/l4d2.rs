//! Left 4 Dead 2 end to end: the real adapter component, the host's RCon driver over TCP, and
//! the srcds simulator started the way a real install would be (a runtime directory holding
//! `srcds_run` and the server's own config the adapter rendered, `cfg/garrison/<port>.cfg`).

use crate::common;

use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use common::{PlannedServer, eventually, rcon_driver, runtime_with_deadline, start_planned};
use garrison::adapters::model::{Connection, GameEvent, Player, SessionEvent};
use garrison::adapters::{AdapterRuntime, LoadedAdapter, LogParser, RconSession, settings};
use garrison::telemetry::rcon::{RconError, RconHandle, RconStatus};
use serde_json::json;

const GAME_LOG: &str = include_str!("data/l4d2/L0506000.log");
const CONSOLE_LOG: &str = include_str!("data/l4d2/console.log");

fn l4d2(runtime: &AdapterRuntime) -> Arc<LoadedAdapter> {
    runtime.get("l4d2").expect("the l4d2 adapter is built in")
}

/// A simulated srcds started from the adapter's own plans.
struct Srcds {
    planned: PlannedServer,
    connection: Connection,
}

impl Srcds {
    fn start(runtime: &AdapterRuntime, sim_flags: &[&str]) -> Srcds {
        let settings = json!({
            "hostname": "E2E \"; rcon_password \"x",
            "rcon_password": "s3cret-rcon",
            "port": common::free_port(),
            "max_players": 8,
            "extra_params": sim_flags,
        });
        let planned = start_planned(runtime, "l4d2", "srcds_run", settings);
        let connection = planned.connection.clone();
        Srcds {
            planned,
            connection,
        }
    }

    fn game_dir(&self) -> PathBuf {
        self.planned.runtime_dir.path().join("left4dead2")
    }

    /// The server's own config, as the adapter renders it and `+exec` names it.
    fn cfg_path(&self) -> PathBuf {
        self.game_dir()
            .join(format!("cfg/garrison/{}.cfg", self.connection.port))
    }

    /// The newest game log in the server's own `sv_logsdir`.
    fn newest_log(&self) -> String {
        let dir = self
            .game_dir()
            .join(format!("logs/garrison-{}", self.connection.port));
        let mut logs: Vec<PathBuf> = std::fs::read_dir(dir)
            .map(|d| d.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        logs.sort();
        logs.last()
            .and_then(|p| std::fs::read_to_string(p).ok())
            .unwrap_or_default()
    }

    fn driver(
        &self,
        runtime: &AdapterRuntime,
        password: &str,
    ) -> (RconHandle, tokio::task::JoinHandle<()>) {
        rcon_driver(runtime, "l4d2", &self.connection, password)
    }
}

async fn players_until(
    runtime: &AdapterRuntime,
    handle: &RconHandle,
    done: impl Fn(&[Player]) -> bool,
) -> Vec<Player> {
    common::players_until(runtime, "l4d2", handle, done).await
}

fn humans(list: &[Player]) -> Vec<&Player> {
    list.iter().filter(|p| p.unique_id.is_some()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rcon_status_kick_and_changelevel_over_tcp() {
    let runtime = runtime_with_deadline(Duration::from_millis(500));
    let server = Srcds::start(
        &runtime,
        &[
            "--tick-ms=50",
            "--players=3",
            "--packet-bytes=100",
            "--split-writes",
        ],
    );
    // The injection attempt stayed inside one quoted value.
    let cfg = std::fs::read_to_string(server.cfg_path()).expect("the server's cfg");
    assert!(
        !server.game_dir().join("cfg/server.cfg").exists(),
        "the install's own server.cfg is left alone"
    );
    let rcon_lines: Vec<&str> = cfg
        .lines()
        .filter(|l| l.trim_start().starts_with("rcon_password"))
        .collect();
    assert_eq!(
        rcon_lines.len(),
        1,
        "exactly one rcon_password statement: {cfg}"
    );

    let (handle, task) = server.driver(&runtime, &server.connection.password);
    // A status reply far longer than 100 bytes arrives in many packets, written in pieces.
    let list = players_until(&runtime, &handle, |l| humans(l).len() == 3).await;
    assert!(humans(&list).iter().all(|p| {
        p.unique_id
            .as_deref()
            .is_some_and(|id| id.starts_with("STEAM_"))
    }));
    assert_eq!(*handle.status().borrow(), RconStatus::Connected);

    let victim = humans(&list)[1].clone();
    let mut session = runtime.session(l4d2(&runtime));
    for command in session
        .kick_commands(&victim, "e2e kick")
        .expect("kick commands")
    {
        handle.command(command).await.expect("kick reply");
    }
    players_until(&runtime, &handle, |l| {
        humans(l).len() == 2 && !l.iter().any(|p| p.name == victim.name)
    })
    .await;
    eventually(Duration::from_secs(10), || async {
        server
            .newest_log()
            .contains(&format!("\"{}<{}>", victim.name, victim.slot))
            && server.newest_log().contains("was kicked by")
    })
    .await;

    // Bans are persisted with writeid and listed back.
    let ban = garrison::adapters::model::BanRequest {
        target: garrison::adapters::model::BanTarget::Identity {
            identity: "STEAM_1:0:424242".into(),
        },
        minutes: None,
        reason: "e2e".into(),
    };
    for command in session.ban_commands(&ban).expect("ban commands") {
        handle.command(command).await.expect("ban reply");
    }
    let listing = handle
        .command(session.bans_command().expect("bans command"))
        .await
        .expect("listid");
    let bans = session.parse_bans(&listing).expect("parse listid");
    assert!(
        bans.iter()
            .any(|b| b.identity == "STEAM_1:0:424242" && b.minutes_left.is_none()),
        "{bans:?}"
    );

    let before = server.newest_log();
    handle
        .command("changelevel c2m1_highway")
        .await
        .expect("changelevel");
    eventually(Duration::from_secs(10), || async {
        let now = server.newest_log();
        now != before && now.contains("Started map \"c2m1_highway\"")
    })
    .await;

    handle.stop();
    task.await.expect("driver");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_is_reported() {
    let runtime = runtime_with_deadline(Duration::from_millis(500));
    let server = Srcds::start(&runtime, &["--tick-ms=50", "--players=1"]);
    let (handle, task) = server.driver(&runtime, "not-the-password");
    match handle.command("status").await {
        Err(RconError::AuthFailed(_)) => {}
        other => panic!("expected the password to be refused, got {other:?}"),
    }
    task.await.expect("driver stops after a refused password");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garrison_rcon_status_prints_the_players() {
    let runtime = runtime_with_deadline(Duration::from_millis(500));
    let server = Srcds::start(
        &runtime,
        &["--tick-ms=50", "--players=2", "--packet-bytes=100"],
    );
    let (handle, task) = server.driver(&runtime, &server.connection.password);
    players_until(&runtime, &handle, |l| humans(l).len() == 2).await;
    handle.stop();
    task.await.expect("driver");

    let address = format!("{}:{}", server.connection.host, server.connection.port);
    let password = server.connection.password.clone();
    let output = tokio::task::spawn_blocking(move || {
        Command::new(common::garrison_bin())
            .args([
                "rcon",
                &address,
                "--adapter",
                "l4d2",
                "--password-env",
                "E2E_RCON_PW",
                "status",
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
    assert!(stdout.contains("hostname:"), "{stdout}");
    assert_eq!(stdout.matches(" STEAM_").count(), 2, "{stdout}");
    assert!(stdout.trim_end().ends_with("#end"), "{stdout}");
}

fn parse_all(
    runtime: &AdapterRuntime,
    source: &str,
    text: &str,
    chunk: usize,
) -> Vec<garrison::adapters::model::ParsedEntry> {
    let adapter = l4d2(runtime);
    let mut parser = LogParser::new(
        runtime.session(Arc::clone(&adapter)),
        settings::defaults(&adapter.schema),
    )
    .expect("parser");
    let lines: Vec<String> = text.lines().map(String::from).collect();
    let mut entries = Vec::new();
    for batch in lines.chunks(chunk) {
        entries.extend(parser.feed(source, batch.to_vec()).expect("feed"));
    }
    entries.extend(parser.flush(source).expect("flush"));
    entries
}

#[test]
fn the_log_samples_parse_through_the_component() {
    let runtime = runtime_with_deadline(Duration::from_millis(500));
    let game = parse_all(&runtime, "game", GAME_LOG, 5);
    let texts: Vec<&str> = game.iter().map(|e| e.record.text.as_str()).collect();
    assert_eq!(
        texts.join("\n"),
        GAME_LOG.trim_end_matches('\n'),
        "every line exactly once"
    );
    assert_eq!(game[0].record.time.as_deref(), Some("2024-05-06T12:34:56"));
    let events: Vec<&GameEvent> = game.iter().flat_map(|e| &e.events).collect();
    assert!(events.iter().any(|e| matches!(e, GameEvent::PlayerConnecting { player }
        if player.slot.as_deref() == Some("2") && player.unique_id.as_deref() == Some("STEAM_1:0:12345")
            && player.address.as_deref() == Some("127.0.0.1:27005"))));
    assert!(
        events
            .iter()
            .any(|e| matches!(e, GameEvent::PlayerJoined { player } if player.name == "Bob Smith"))
    );
    assert!(events.iter().any(|e| matches!(e, GameEvent::Chat { channel, text, .. } if channel == "all" && text == "hello everyone")));
    assert!(
        events
            .iter()
            .any(|e| matches!(e, GameEvent::Chat { channel, .. } if channel == "team"))
    );
    let kicked = events
        .iter()
        .filter(|e| matches!(e, GameEvent::PlayerLeft { player, .. } if player.name == "Bob Smith"))
        .count();
    assert_eq!(kicked, 1, "a kick is one departure");
    assert!(events.iter().any(|e| matches!(e, GameEvent::MapChange { name, phase } if name == "c1m1_hotel" && phase == "started")));

    let console = parse_all(&runtime, "console", CONSOLE_LOG, 3);
    let ready = console
        .iter()
        .flat_map(|e| &e.events)
        .filter(|e| matches!(e, GameEvent::ServerReady))
        .count();
    assert_eq!(ready, 1, "ready once per start");
    assert!(console.iter().any(|e| e.record.text.starts_with("Error:")
        && e.record.level == garrison::adapters::model::Level::Error));
}

fn src_packet(id: i32, kind: i32, body: &[u8]) -> Vec<u8> {
    let size = i32::try_from(body.len() + 10).expect("small body");
    let mut p = Vec::new();
    p.extend_from_slice(&size.to_le_bytes());
    p.extend_from_slice(&id.to_le_bytes());
    p.extend_from_slice(&kind.to_le_bytes());
    p.extend_from_slice(body);
    p.extend_from_slice(&[0, 0]);
    p
}

fn id_of(packet: &[u8]) -> i32 {
    i32::from_le_bytes(packet[4..8].try_into().expect("id bytes"))
}

/// A fresh session that has sent its login and queued `status`; returns it with the
/// command's id.
fn queued_session(runtime: &AdapterRuntime) -> (RconSession, u32) {
    let mut s = RconSession::new(runtime.session(l4d2(runtime)), "pw", 0).expect("session");
    s.transmit(0).expect("login");
    let id = s.command("status", 1).expect("command");
    (s, id)
}

const REPLY_TEXT: &str = "hostname: E2E\n# userid name\n#end\n";

#[test]
fn source_rcon_through_the_component_at_every_split_offset() {
    let runtime = runtime_with_deadline(Duration::from_millis(500));

    // The wiki capture: auth with "passwrd", id 0.
    let mut capture =
        RconSession::new(runtime.session(l4d2(&runtime)), "passwrd", 0).expect("session");
    assert_eq!(
        capture.transmit(0).expect("transmit").concat(),
        [
            0x11, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0x70, 0x61, 0x73, 0x73, 0x77, 0x72, 0x64, 0, 0
        ]
    );

    // What the server says to the login: an empty value, then the auth response.
    let (mut reference, command) = queued_session(&runtime);
    let login = RconSession::new(runtime.session(l4d2(&runtime)), "pw", 0)
        .expect("session")
        .transmit(0)
        .expect("login")
        .concat();
    let mut auth = src_packet(id_of(&login), 0, b"");
    auth.extend(src_packet(id_of(&login), 2, b""));
    assert!(
        reference
            .receive(&auth, 2)
            .expect("auth")
            .contains(&SessionEvent::Authenticated)
    );
    // The command goes out as EXECCOMMAND id N and an empty RESPONSE_VALUE id N+1.
    let sent = reference.transmit(3).expect("command packets").concat();
    let first_len = usize::try_from(i32::from_le_bytes(sent[0..4].try_into().expect("size")))
        .expect("size")
        + 4;
    let (exec_id, mirror_id) = (id_of(&sent), id_of(&sent[first_len..]));
    assert_eq!(
        i32::from_le_bytes(sent[8..12].try_into().expect("type")),
        2,
        "EXECCOMMAND"
    );
    let mut reply = Vec::new();
    for part in ["hostname: E2E\n", "# userid name\n", "#end\n"] {
        reply.extend(src_packet(exec_id, 0, part.as_bytes()));
    }
    reply.extend(src_packet(mirror_id, 0, b""));
    reply.extend(src_packet(mirror_id, 0, &[0, 0, 0, 1, 0, 0, 0, 0]));
    // Several packets in one read.
    assert_eq!(
        reference.receive(&reply, 4).expect("reply"),
        vec![SessionEvent::Reply {
            id: command,
            text: REPLY_TEXT.into()
        }]
    );

    // The login answer split at every offset authenticates the same way.
    for cut in 0..=auth.len() {
        let (mut s, _) = queued_session(&runtime);
        let mut events = s.receive(&auth[..cut], 2).expect("first read");
        events.extend(s.receive(&auth[cut..], 2).expect("second read"));
        assert_eq!(events, vec![SessionEvent::Authenticated], "cut at {cut}");
    }
    // The reply split at every offset reassembles to the same text.
    for cut in 0..=reply.len() {
        let (mut s, command) = queued_session(&runtime);
        s.receive(&auth, 2).expect("auth");
        assert_eq!(
            s.transmit(3).expect("command").concat(),
            sent,
            "same ids every time"
        );
        let mut events = s.receive(&reply[..cut], 4).expect("first read");
        events.extend(s.receive(&reply[cut..], 4).expect("second read"));
        assert_eq!(
            events,
            vec![SessionEvent::Reply {
                id: command,
                text: REPLY_TEXT.into()
            }],
            "cut at {cut}"
        );
    }

    // A size out of range is a corrupt stream: the session gives up, no trap.
    let (mut broken, _) = queued_session(&runtime);
    let events = broken
        .receive(&[0xFF, 0xFF, 0xFF, 0x7F, 1, 2, 3, 4], 1)
        .expect("no trap");
    assert!(
        events
            .iter()
            .any(|e| matches!(e, SessionEvent::Disconnected(_))),
        "{events:?}"
    );
}

#[test]
fn random_bytes_never_trap_the_session() {
    let runtime = runtime_with_deadline(Duration::from_millis(500));
    let mut session = RconSession::new(runtime.session(l4d2(&runtime)), "pw", 0).expect("session");
    let mut state: u64 = 0xD1B5_4A32_D192_ED03;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for i in 0..3000u64 {
        let len = (next() % 48) as usize;
        let bytes: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        // Some well-framed packets of random ids and types too.
        let bytes = if i % 3 == 0 {
            src_packet(next() as i32 % 4, next() as i32 % 4, &bytes)
        } else {
            bytes
        };
        session.receive(&bytes, i).expect("never a trap");
        session.transmit(i).expect("never a trap");
    }
}
