//! The parser against the golden game log and console, batch boundaries, and the smaller
//! shapes each event comes in (names with quotes and `<`, bots, the console's re-arming).

use super::*;
use crate::logs::{CONSOLE_SOURCE, GAME_SOURCE, L4d2Parser, timestamp};

/// One record as the host would see it after joining answers: the input line it starts at
/// (1-based), its level and time, and its events.
#[derive(Debug, PartialEq)]
struct Seen {
    first_line: u32,
    level: Level,
    time: Option<String>,
    events: Vec<String>,
}

/// Feeds `input` to `source` in batches of `batch` lines (0: all at once), then flushes;
/// checks coverage and that every answer's events point into its own records.
fn run_with(parser: &mut L4d2Parser, source: &str, input: &str, batch: usize) -> Vec<Seen> {
    let lines: Vec<&str> = input.split_inclusive('\n').collect();
    let chunk = if batch == 0 {
        lines.len().max(1)
    } else {
        batch
    };
    let mut answers: Vec<Parsed> = lines
        .chunks(chunk)
        .map(|part| parser.feed(source, &part.concat()))
        .collect();
    answers.push(parser.flush(source));
    let mut seen: Vec<Seen> = Vec::new();
    let mut next_line = 1;
    for parsed in answers {
        let base = seen.len();
        for r in &parsed.records {
            assert_eq!(r.lines, 1, "every line is its own record");
            assert!(r.text.is_none(), "the parser never rewrites text");
            seen.push(Seen {
                first_line: next_line,
                level: r.level,
                time: r.time.as_ref().map(dbg),
                events: Vec::new(),
            });
            next_line += r.lines;
        }
        let mut last = 0;
        for e in &parsed.events {
            assert!((e.record as usize) < parsed.records.len(), "index in range");
            assert!(e.record >= last, "events in order");
            last = e.record;
            seen[base + e.record as usize].events.push(dbg(&e.event));
        }
    }
    assert_eq!(
        seen.len(),
        input.lines().count(),
        "records cover every input line once"
    );
    seen
}

fn run(source: &str, input: &str, batch: usize) -> Vec<Seen> {
    run_with(&mut L4d2Parser::default(), source, input, batch)
}

/// `(line, event)` for every event in `seen`.
fn events(seen: &[Seen]) -> Vec<(u32, String)> {
    seen.iter()
        .flat_map(|s| s.events.iter().map(|e| (s.first_line, e.clone())))
        .collect()
}

fn player(slot: &str, name: &str, id: Option<&str>, address: Option<&str>) -> PlayerRef {
    PlayerRef {
        slot: Some(slot.into()),
        name: name.into(),
        unique_id: id.map(Into::into),
        address: address.map(Into::into),
    }
}

fn map(name: &str, phase: MapPhase) -> GameEvent {
    GameEvent::MapChange(MapChange {
        name: name.into(),
        phase,
    })
}

fn chat(channel: &str, sender: Option<&str>, text: &str) -> GameEvent {
    GameEvent::Chat(ChatMessage {
        channel: channel.into(),
        sender: sender.map(Into::into),
        text: text.into(),
    })
}

fn left(p: PlayerRef, departure: Departure, reason: Option<&str>) -> GameEvent {
    GameEvent::PlayerLeft(PlayerLeft {
        player: p,
        departure,
        reason: reason.map(Into::into),
    })
}

fn validated(p: PlayerRef) -> GameEvent {
    let value = p.unique_id.clone().unwrap_or_default();
    GameEvent::PlayerIdentified(PlayerIdentity {
        player: p,
        kind: "steam-id".into(),
        value,
        verified: Some(true),
    })
}

const A: &str = "Ärger ☃";
const A_ID: &str = "STEAM_1:0:12345";
const B: &str = "Bob Smith";
const B_ID: &str = "STEAM_1:1:67890";

/// Every event of the game log sample, by line.
fn game_events() -> Vec<(u32, GameEvent)> {
    let a = || player("2", A, Some(A_ID), None);
    let b = || player("3", B, Some(B_ID), None);
    vec![
        (2, map("c1m1_hotel", MapPhase::Loading)),
        (7, map("c1m1_hotel", MapPhase::Started)),
        (
            8,
            GameEvent::PlayerConnecting(player("2", A, Some(A_ID), Some("127.0.0.1:27005"))),
        ),
        (9, validated(a())),
        (10, GameEvent::PlayerJoined(a())),
        (11, chat("all", Some(A), "hello everyone")),
        (12, chat("team", Some(A), "going left")),
        (
            13,
            GameEvent::PlayerConnecting(player("3", B, Some(B_ID), Some("127.0.0.1:27006"))),
        ),
        (14, validated(b())),
        (15, GameEvent::PlayerJoined(b())),
        (16, left(b(), Departure::Kicked, Some("spamming"))),
        // Line 17, Bob's `disconnected`, reports the kick again: no second event.
        (
            19,
            left(a(), Departure::Disconnected, Some("Disconnect by user.")),
        ),
    ]
}

#[test]
fn game_log_sample_events() {
    let seen = run(GAME_SOURCE, GAME_LOG, 0);
    assert_eq!(seen.len(), 21);
    let want: Vec<(u32, String)> = game_events().iter().map(|(l, e)| (*l, dbg(e))).collect();
    assert_eq!(events(&seen), want);
}

#[test]
fn game_log_sample_times_and_levels() {
    let seen = run(GAME_SOURCE, GAME_LOG, 0);
    let first = Timestamp {
        date: Some(Date {
            year: 2024,
            month: 5,
            day: 6,
        }),
        millis: ((12 * 60 + 34) * 60 + 56) * 1000,
    };
    assert_eq!(seen[0].time, Some(dbg(&first)));
    assert!(
        seen.iter().all(|s| s.time.is_some()),
        "every line has a time"
    );
    assert!(seen.iter().all(|s| s.level == Level::Info));
}

#[test]
fn batches_of_one_three_and_all_agree() {
    for (source, input) in [(GAME_SOURCE, GAME_LOG), (CONSOLE_SOURCE, CONSOLE_LOG)] {
        let all = run(source, input, 0);
        assert_eq!(run(source, input, 1), all, "{source}");
        assert_eq!(run(source, input, 3), all, "{source}");
    }
}

#[test]
fn console_sample_events_and_levels() {
    let seen = run(CONSOLE_SOURCE, CONSOLE_LOG, 0);
    assert_eq!(seen.len(), 18);
    assert_eq!(
        events(&seen),
        vec![
            (6, dbg(&map("c1m1_hotel", MapPhase::Loading))),
            (10, dbg(&GameEvent::ServerReady)),
        ],
        "ready once, although both markers appear"
    );
    assert!(seen.iter().all(|s| s.time.is_none()));
    let level = |line: u32| seen[line as usize - 1].level;
    assert_eq!(level(15), Level::Error);
    assert_eq!(level(17), Level::Warning);
    let others = seen
        .iter()
        .filter(|s| ![15, 17].contains(&s.first_line))
        .all(|s| s.level == Level::Info);
    assert!(others);
}

#[test]
fn console_initialized_rearms_ready() {
    let mut p = L4d2Parser::default();
    let twice = format!("{CONSOLE_LOG}{CONSOLE_LOG}");
    let seen = run_with(&mut p, CONSOLE_SOURCE, &twice, 2);
    let ready = events(&seen)
        .iter()
        .filter(|(_, e)| *e == dbg(&GameEvent::ServerReady))
        .count();
    assert_eq!(ready, 2);
    // Without a new start, a reconnection to Steam is not a second ready.
    let seen = run_with(
        &mut p,
        CONSOLE_SOURCE,
        "Connection to Steam servers successful.\n",
        0,
    );
    assert!(seen[0].events.is_empty());
    // The first marker counts on its own too.
    let seen = run(CONSOLE_SOURCE, "   VAC secure mode is activated.\r\n", 0);
    assert_eq!(seen[0].events, vec![dbg(&GameEvent::ServerReady)]);
}

#[test]
fn sources_keep_separate_state() {
    let mut p = L4d2Parser::default();
    let kick = "L 05/06/2024 - 12:37:00: Kick: \"Bob<3><STEAM_1:1:1><>\" was kicked by \
                \"Console\" (message \"x\")\n";
    let gone = "L 05/06/2024 - 12:37:00: \"Bob<3><STEAM_1:1:1><>\" disconnected (reason \"x\")\n";
    run_with(&mut p, GAME_SOURCE, kick, 0);
    // Console lines in between change nothing about the game log's memory.
    run_with(&mut p, CONSOLE_SOURCE, CONSOLE_LOG, 0);
    run_with(&mut p, "other", "Error: something\n", 0);
    assert!(run_with(&mut p, GAME_SOURCE, gone, 0)[0].events.is_empty());
    // The next disconnect of user 3 is a real one again.
    assert_eq!(run_with(&mut p, GAME_SOURCE, gone, 0)[0].events.len(), 1);
}

#[test]
fn unknown_sources_are_plain_lines() {
    let seen = run("other", "hello\nan ERROR here\nwarning\n", 0);
    let levels: Vec<Level> = seen.iter().map(|s| s.level).collect();
    assert_eq!(levels, [Level::Info, Level::Error, Level::Warning]);
    assert!(seen.iter().all(|s| s.events.is_empty() && s.time.is_none()));
}

#[test]
fn timestamps() {
    let (t, m) = timestamp("L 12/31/2023 - 23:59:59: hi").expect("valid");
    assert_eq!(
        dbg(&t),
        dbg(&Timestamp {
            date: Some(Date {
                year: 2023,
                month: 12,
                day: 31
            }),
            millis: 86_399_000,
        })
    );
    assert_eq!(m, "hi");
    assert_eq!(
        timestamp("L 12/31/2023 - 23:59:59:").map(|(_, m)| m),
        Some("")
    );
    for bad in [
        "",
        "L",
        "L 13/01/2023 - 00:00:00: x",
        "L 00/01/2023 - 00:00:00: x",
        "L 01/01/2023 - 24:00:00: x",
        "L 01/01/2023 - 00:00:00:x",
        "L 1/01/2023 - 00:00:00: x",
        "X 01/01/2023 - 00:00:00: x",
        "L 01/01/2023 - 0a:00:00: x",
        "L 01/01/2023 - 00:00:00é x",
    ] {
        assert!(timestamp(bad).is_none(), "{bad:?}");
    }
}

#[test]
fn lines_without_a_timestamp_are_plain_and_leveled_by_words() {
    let seen = run(
        GAME_SOURCE,
        "no stamp\n\"Bob<3><STEAM_1:1:1><>\" entered the game\nfatal thing\n",
        0,
    );
    assert!(seen.iter().all(|s| s.events.is_empty() && s.time.is_none()));
    assert_eq!(seen[2].level, Level::Error);
}

#[test]
fn error_lines_are_errors_but_chat_is_not() {
    let seen = run(
        GAME_SOURCE,
        "L 05/06/2024 - 12:00:00: Error: could not load \"maps/x.nav\"\n\
         L 05/06/2024 - 12:00:01: \"Bob<3><STEAM_1:1:1><Survivor>\" say \"an error!\"\n",
        0,
    );
    assert_eq!(seen[0].level, Level::Error);
    assert_eq!(seen[1].level, Level::Info);
    assert_eq!(
        seen[1].events,
        vec![dbg(&chat("all", Some("Bob"), "an error!"))]
    );
}

#[test]
fn names_with_quotes_angle_brackets_and_spaces() {
    let line = "L 05/06/2024 - 12:00:00: \"a \"b\" <c> <1><2>x<7><STEAM_0:1:99><Survivor>\" \
                say \"he said \"hi\" <3><STEAM_1:1:1><>\" say \"\"\n";
    let seen = run(GAME_SOURCE, line, 0);
    assert_eq!(
        seen[0].events,
        vec![dbg(&chat(
            "all",
            Some("a \"b\" <c> <1><2>x"),
            "he said \"hi\" <3><STEAM_1:1:1><>\" say \""
        ))]
    );
}

#[test]
fn bots_and_the_console_have_no_identity() {
    let input = "L 05/06/2024 - 12:00:00: \"Zoey<5><BOT><Survivor>\" connected, address \"none\"\n\
         L 05/06/2024 - 12:00:01: \"Zoey<5><BOT><Survivor>\" STEAM USERID validated\n\
         L 05/06/2024 - 12:00:02: \"Console<0><Console><Console>\" say \"restart soon\"\n\
         L 05/06/2024 - 12:00:03: \"Nick<6><STEAM_1:0:5><>\" disconnected\n";
    let seen = run(GAME_SOURCE, input, 0);
    assert_eq!(
        seen[0].events,
        vec![dbg(&GameEvent::PlayerConnecting(player(
            "5",
            "Zoey",
            None,
            Some("none")
        )))]
    );
    assert!(seen[1].events.is_empty(), "a bot has nothing to validate");
    assert_eq!(
        seen[2].events,
        vec![dbg(&chat("all", None, "restart soon"))]
    );
    assert_eq!(
        seen[3].events,
        vec![dbg(&left(
            player("6", "Nick", Some("STEAM_1:0:5"), None),
            Departure::Disconnected,
            None
        ))]
    );
}

#[test]
fn a_kick_without_message_and_a_reconnect_after_a_kick() {
    let input = "L 05/06/2024 - 12:00:00: Kick: \"Bob<3><STEAM_1:1:1><>\" was kicked by \"Console\"\n\
         L 05/06/2024 - 12:00:01: \"Bob<3><STEAM_1:1:1><>\" connected, address \"1.2.3.4:5\"\n\
         L 05/06/2024 - 12:00:02: \"Bob<3><STEAM_1:1:1><>\" disconnected (reason \"timed out\")\n";
    let seen = run(GAME_SOURCE, input, 0);
    let bob = || player("3", "Bob", Some("STEAM_1:1:1"), None);
    assert_eq!(
        seen[0].events,
        vec![dbg(&left(bob(), Departure::Kicked, None))]
    );
    assert_eq!(seen[1].events.len(), 1);
    assert_eq!(
        seen[2].events,
        vec![dbg(&left(
            bob(),
            Departure::Disconnected,
            Some("timed out")
        ))],
        "the kick was forgotten when user 3 connected again"
    );
}

#[test]
fn malformed_player_lines_report_nothing() {
    for m in [
        "\"Bob<x><STEAM_1:1:1><>\" entered the game",
        "\"Bob<3><STEAM_1:1:1>\" entered the game",
        "\"Bob\" entered the game",
        "\"Bob<3><STEAM_1:1:1><>\" connected, address \"1.2.3.4:5",
        "\"Bob<3><STEAM_1:1:1><>\" disconnected (reason \"x",
        "\"Bob<3><STEAM_1:1:1><>\" say \"unterminated",
        "\"Bob<3><STEAM_1:1:1><>\" triggered \"something\"",
        "Kick: \"Bob\" was kicked by \"Console\"",
        "Loading map \"\"",
        "Started map \"unterminated",
        "\"",
        "K",
    ] {
        let seen = run(GAME_SOURCE, &format!("L 05/06/2024 - 12:00:00: {m}\n"), 0);
        assert!(seen[0].events.is_empty(), "{m}");
    }
}

#[test]
fn carriage_returns_are_ignored() {
    let seen = run(
        GAME_SOURCE,
        "L 05/06/2024 - 12:00:00: \"Bob<3><STEAM_1:1:1><>\" entered the game\r\n",
        0,
    );
    assert_eq!(seen[0].events.len(), 1);
}

#[test]
fn empty_batches_and_flush() {
    let mut p = L4d2Parser::default();
    let parsed = p.feed(GAME_SOURCE, "");
    assert!(parsed.records.is_empty() && parsed.events.is_empty());
    let parsed = p.feed(GAME_SOURCE, "\n\n");
    assert_eq!(parsed.records.len(), 2);
    assert!(p.flush(GAME_SOURCE).records.is_empty());
    assert!(p.flush("unknown").records.is_empty());
}

#[test]
fn hostile_lines_stay_cheap_and_report_nothing() {
    let mut line = String::from("L 05/06/2024 - 12:00:00: \"");
    line.push_str(&">\" ".repeat(100_000));
    line.push('\n');
    // Its cost is measured in benches/l4d2.rs (`hostile_line`), not asserted with a clock.
    let seen = run(GAME_SOURCE, &line, 0);
    assert!(seen[0].events.is_empty());
}
