//! The RPT parser against the golden sample, batch boundaries, continuation lines and the
//! smaller shapes each event comes in.

use super::*;
use crate::rpt::{MAX_RECORD_LINES, RPT_SOURCE, RptParser, timestamp};

/// One record as the host would see it after joining answers: the input line it starts at
/// (1-based), how many lines it covers, its level and time, and its events.
#[derive(Debug)]
struct Seen {
    first_line: u32,
    lines: u32,
    level: Level,
    millis: Option<u32>,
    events: Vec<String>,
}

/// Feeds `input` in batches of `batch` lines (0: all at once), then flushes; checks that every
/// answer's events point into its own records.
fn run(input: &str, batch: usize) -> Vec<Seen> {
    let mut parser = RptParser::default();
    let lines: Vec<&str> = input.split_inclusive('\n').collect();
    let mut answers = Vec::new();
    let chunk = if batch == 0 {
        lines.len().max(1)
    } else {
        batch
    };
    for part in lines.chunks(chunk) {
        answers.push(parser.feed(RPT_SOURCE, &part.concat()));
    }
    answers.push(parser.flush(RPT_SOURCE));
    let mut seen: Vec<Seen> = Vec::new();
    let mut next_line = 1;
    for parsed in answers {
        let base = seen.len();
        for r in &parsed.records {
            assert!(r.lines >= 1);
            assert!(r.text.is_none(), "the parser never rewrites text");
            seen.push(Seen {
                first_line: next_line,
                lines: r.lines,
                level: r.level,
                millis: r.time.map(|t| t.millis),
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
    seen
}

fn player(slot: Option<&str>, name: &str, id: Option<&str>, address: Option<&str>) -> PlayerRef {
    PlayerRef {
        slot: slot.map(Into::into),
        name: name.into(),
        unique_id: id.map(Into::into),
        address: address.map(Into::into),
    }
}

fn map(phase: MapPhase) -> GameEvent {
    GameEvent::MapChange(MapChange {
        name: "__cur_mp.Altis".into(),
        phase,
    })
}

fn metrics(samples: &[(&str, f64)]) -> GameEvent {
    GameEvent::Metrics(
        samples
            .iter()
            .map(|(name, value)| MetricSample {
                name: (*name).into(),
                value: *value,
            })
            .collect(),
    )
}

fn identified(slot: &str, name: &str, guid: &str, verified: Option<bool>) -> GameEvent {
    GameEvent::PlayerIdentified(PlayerIdentity {
        player: player(Some(slot), name, None, None),
        kind: "battleye-guid".into(),
        value: guid.into(),
        verified,
    })
}

fn left(slot: Option<&str>, name: &str, departure: Departure, reason: Option<&str>) -> GameEvent {
    GameEvent::PlayerLeft(PlayerLeft {
        player: player(slot, name, None, None),
        departure,
        reason: reason.map(Into::into),
    })
}

fn chat(channel: &str, sender: &str, text: &str) -> GameEvent {
    GameEvent::Chat(ChatMessage {
        channel: channel.into(),
        sender: Some(sender.into()),
        text: text.into(),
    })
}

/// Every event of the sample, by the file line its record starts at.
fn sample_events() -> Vec<(u32, GameEvent)> {
    const A: &str = "Ärger ☃";
    const A_GUID: &str = "0123456789abcdef0123456789abcdef";
    const B: &str = "Bob Smith";
    const B_GUID: &str = "fedcba9876543210fedcba9876543210";
    vec![
        (
            15,
            metrics(&[("game_port", 2302.0), ("query_port", 2303.0)]),
        ),
        (18, GameEvent::ServerReady),
        (21, map(MapPhase::Loading)),
        (22, map(MapPhase::Loading)),
        (23, map(MapPhase::Started)),
        (24, GameEvent::PlayerConnecting(player(None, A, None, None))),
        (
            25,
            GameEvent::PlayerConnecting(player(Some("0"), A, None, Some("127.0.0.1:2304"))),
        ),
        (
            26,
            GameEvent::PlayerJoined(player(None, A, Some("76561198000000001"), None)),
        ),
        (27, identified("0", A, A_GUID, None)),
        (28, identified("0", A, A_GUID, Some(true))),
        (29, chat("global", A, "hello everyone")),
        (30, chat("side", A, "going north")),
        (
            31,
            metrics(&[
                ("server_fps", 49.0),
                ("memory_mb", 1093.0),
                ("players", 1.0),
                ("out_kbps", 12.0),
                ("in_kbps", 3.0),
            ]),
        ),
        (37, GameEvent::PlayerConnecting(player(None, B, None, None))),
        (
            38,
            GameEvent::PlayerConnecting(player(Some("1"), B, None, Some("127.0.0.1:2316"))),
        ),
        (
            39,
            GameEvent::PlayerJoined(player(None, B, Some("76561198000000002"), None)),
        ),
        (40, identified("1", B, B_GUID, None)),
        (41, identified("1", B, B_GUID, Some(true))),
        (
            42,
            left(None, B, Departure::Kicked, Some("Admin Kick (spamming)")),
        ),
        // Line 43, "Bob Smith disconnected.", reports the kick again: no second event.
        (44, map(MapPhase::Finished)),
        (45, map(MapPhase::Restarted)),
        (46, map(MapPhase::Loading)),
        (47, map(MapPhase::Started)),
        (48, left(Some("0"), A, Departure::Disconnected, None)),
        (49, left(None, A, Departure::Disconnected, None)),
    ]
}

#[test]
fn sample_records_cover_every_line_once() {
    let seen = run(SAMPLE_RPT, 0);
    let total: u32 = seen.iter().map(|s| s.lines).sum();
    assert_eq!(total as usize, SAMPLE_RPT.lines().count());
    assert_eq!(total, 50);
    // The header block: twelve plain records without a time.
    assert!(
        seen[..12]
            .iter()
            .all(|s| s.lines == 1 && s.millis.is_none())
    );
    // Everything from line 13 on has a time.
    assert!(seen[12..].iter().all(|s| s.millis.is_some()));
    // The script error and its continuation line are one record.
    let error = seen.iter().find(|s| s.first_line == 32).expect("line 32");
    assert_eq!(error.lines, 2);
    assert_eq!(error.level, Level::Error);
    assert_eq!(error.millis, Some(((12 * 60 + 35) * 60 + 40) * 1000 + 123));
    assert!(seen.iter().all(|s| s.first_line != 33));
}

#[test]
fn sample_levels() {
    let seen = run(SAMPLE_RPT, 0);
    let level_of = |line: u32| seen.iter().find(|s| s.first_line == line).map(|s| s.level);
    for line in [16, 50] {
        assert_eq!(level_of(line), Some(Level::Warning), "line {line}");
    }
    for line in [32, 34, 35] {
        assert_eq!(level_of(line), Some(Level::Error), "line {line}");
    }
    let others = seen
        .iter()
        .filter(|s| ![16, 50, 32, 34, 35].contains(&s.first_line));
    for s in others {
        assert_eq!(s.level, Level::Info, "line {}", s.first_line);
    }
}

#[test]
fn sample_times_in_both_styles() {
    let seen = run(SAMPLE_RPT, 0);
    let time_of = |line: u32| {
        seen.iter()
            .find(|s| s.first_line == line)
            .and_then(|s| s.millis)
    };
    assert_eq!(time_of(13), Some(((12 * 60 + 34) * 60 + 56) * 1000));
    assert_eq!(time_of(48), Some(((4 * 60 + 1) * 60 + 9) * 1000));
    assert_eq!(time_of(35), Some(((12 * 60 + 35) * 60 + 40) * 1000 + 124));
}

#[test]
fn sample_events_golden() {
    let seen = run(SAMPLE_RPT, 0);
    let got: Vec<(u32, String)> = seen
        .iter()
        .flat_map(|s| s.events.iter().map(|e| (s.first_line, e.clone())))
        .collect();
    let want: Vec<(u32, String)> = sample_events()
        .iter()
        .map(|(line, e)| (*line, dbg(e)))
        .collect();
    assert_eq!(got, want);
}

#[test]
fn batch_size_does_not_change_the_result() {
    let all = dbg(&run(SAMPLE_RPT, 0));
    assert_eq!(dbg(&run(SAMPLE_RPT, 1)), all);
    assert_eq!(dbg(&run(SAMPLE_RPT, 3)), all);
    assert_eq!(dbg(&run(SAMPLE_RPT, 7)), all);
}

#[test]
fn the_last_entry_is_held_until_flush() {
    let mut p = RptParser::default();
    let first = p.feed(RPT_SOURCE, "12:00:00 Game started.\n");
    assert!(first.records.is_empty() && first.events.is_empty());
    let more = p.feed(RPT_SOURCE, "continued\nand more\n");
    assert!(more.records.is_empty(), "continuation lines stay held");
    let flushed = p.flush(RPT_SOURCE);
    assert_eq!(flushed.records.len(), 1);
    assert_eq!(flushed.records[0].lines, 3);
    assert_eq!(flushed.events.len(), 1);
    assert_eq!(flushed.events[0].record, 0);
    assert!(
        p.flush(RPT_SOURCE).records.is_empty(),
        "flush twice is empty"
    );
    // After a flush, a line without a time is a record of its own.
    let after = p.feed(RPT_SOURCE, "orphan\n");
    assert_eq!(after.records.len(), 1);
    assert!(after.records[0].time.is_none());
}

#[test]
fn a_new_file_banner_ends_the_previous_entry_and_rearms_ready() {
    let mut p = RptParser::default();
    let a = p.feed(
        RPT_SOURCE,
        "10:00:00 Host identity created.\n10:00:01 BattlEye Server: Initialized\n",
    );
    assert_eq!(a.events.len(), 1, "ready once");
    let b = p.feed(
        RPT_SOURCE,
        "=====\nExe timestamp: x\n10:05:00 Host identity created.\n",
    );
    assert_eq!(b.records.len(), 3, "held entry, banner, header line");
    assert_eq!(
        b.records[0].lines, 1,
        "the banner did not join the old entry"
    );
    let c = p.flush(RPT_SOURCE);
    assert!(matches!(c.events[0].event, GameEvent::ServerReady));
}

#[test]
fn ready_also_comes_from_battleye_when_first() {
    let mut p = RptParser::default();
    let a = p.feed(
        RPT_SOURCE,
        "10:00:01 BattlEye Server: Initialized (v1.220)\n10:00:02 Host identity created.\n",
    );
    let b = p.flush(RPT_SOURCE);
    assert!(matches!(
        a.events[..],
        [IndexedEvent {
            record: 0,
            event: GameEvent::ServerReady
        }]
    ));
    assert!(b.events.is_empty());
}

#[test]
fn console_lines_are_plain() {
    let mut p = RptParser::default();
    let parsed = p.feed("console", "12:00:00 Game started.\nan error here\n\n");
    assert_eq!(parsed.records.len(), 3);
    assert!(parsed.events.is_empty());
    assert!(
        parsed
            .records
            .iter()
            .all(|r| r.time.is_none() && r.lines == 1)
    );
    assert_eq!(parsed.records[1].level, Level::Error);
    assert!(p.flush("console").records.is_empty());
}

#[test]
fn sources_keep_separate_state() {
    let mut p = RptParser::default();
    assert!(p.feed(RPT_SOURCE, "12:00:00 a\n").records.is_empty());
    assert_eq!(p.feed("console", "b\n").records.len(), 1);
    assert_eq!(
        p.feed(RPT_SOURCE, "c\n").records.len(),
        0,
        "still continuing"
    );
    assert_eq!(p.flush(RPT_SOURCE).records[0].lines, 2);
}

#[test]
fn runaway_continuations_are_cut() {
    let mut p = RptParser::default();
    let mut input = String::from("12:00:00 Error in expression <\n");
    for _ in 0..MAX_RECORD_LINES + 5 {
        input.push_str("x\n");
    }
    let mut records = p.feed(RPT_SOURCE, &input).records;
    records.extend(p.flush(RPT_SOURCE).records);
    let counts: Vec<u32> = records.iter().map(|r| r.lines).collect();
    assert_eq!(counts, vec![MAX_RECORD_LINES, 6]);
    assert!(records.iter().all(|r| r.level == Level::Error));
}

#[test]
fn timestamps() {
    let t = |s: &str| timestamp(s).map(|(t, m)| (t.millis, m.to_string()));
    assert_eq!(t("12:34:56 x"), Some((45_296_000, "x".into())));
    assert_eq!(t(" 4:01:09 x"), Some((14_469_000, "x".into())));
    assert_eq!(t("04:01:09.5 x"), Some((14_469_500, "x".into())));
    assert_eq!(t("04:01:09.123456 x"), Some((14_469_123, "x".into())));
    assert_eq!(t("23:59:59"), Some((86_399_000, String::new())));
    for bad in [
        "24:00:00 x",
        "12:60:00 x",
        "12:00 x",
        "12:34:56x",
        "12:34:56. x",
        "",
        "  :00:00 x",
        "Exe timestamp: 2024/05/06 12:00:00",
    ] {
        assert_eq!(t(bad), None, "{bad:?}");
    }
}

#[test]
fn windows_line_endings_still_match() {
    let mut p = RptParser::default();
    let mut parsed = p.feed(RPT_SOURCE, "12:00:00 Game started.\r\n");
    parsed.events.extend(p.flush(RPT_SOURCE).events);
    assert_eq!(parsed.events.len(), 1);
}

#[test]
fn chat_channels_and_odd_names() {
    let mut p = RptParser::default();
    let input = "01:00:00 BattlEye Server: (Group) A: B: c\n\
                 01:00:01 BattlEye Server: (Vehicle) x: y\n\
                 01:00:02 BattlEye Server: (Direct) 名前: こんにちは\n\
                 01:00:03 BattlEye Server: (Command) x: y\n\
                 01:00:04 BattlEye Server: (Not a channel) x: y\n\
                 01:00:05 BattlEye Server: RCon admin #0 (127.0.0.1:1234) logged in\n";
    let mut parsed = p.feed(RPT_SOURCE, input);
    let tail = p.flush(RPT_SOURCE);
    parsed.events.extend(tail.events);
    let got: Vec<String> = parsed.events.iter().map(|e| dbg(&e.event)).collect();
    let want: Vec<String> = [
        chat("group", "A", "B: c"),
        chat("vehicle", "x", "y"),
        chat("direct", "名前", "こんにちは"),
        chat("command", "x", "y"),
    ]
    .iter()
    .map(dbg)
    .collect();
    assert_eq!(got, want);
}

#[test]
fn a_kick_reported_twice_is_one_departure_until_they_return() {
    let mut p = RptParser::default();
    let input = " 1:00:00 Player X kicked off by BattlEye: Client not responding\n \
                 1:00:00 BattlEye Server: Player #3 X disconnected\n \
                 1:00:00 Player X disconnected.\n \
                 1:00:10 Player X connecting.\n \
                 1:00:20 Player X disconnected.\n";
    let mut parsed = p.feed(RPT_SOURCE, input);
    parsed.events.extend(p.flush(RPT_SOURCE).events);
    let got: Vec<String> = parsed.events.iter().map(|e| dbg(&e.event)).collect();
    let want: Vec<String> = [
        left(None, "X", Departure::Kicked, Some("Client not responding")),
        GameEvent::PlayerConnecting(player(None, "X", None, None)),
        left(None, "X", Departure::Disconnected, None),
    ]
    .iter()
    .map(dbg)
    .collect();
    assert_eq!(got, want);
}

#[test]
fn restart_without_a_known_mission_has_an_empty_name() {
    let mut p = RptParser::default();
    let mut parsed = p.feed(RPT_SOURCE, "10:00:00 Game restarted\n");
    parsed.events.extend(p.flush(RPT_SOURCE).events);
    let want = GameEvent::MapChange(MapChange {
        name: String::new(),
        phase: MapPhase::Restarted,
    });
    assert_eq!(dbg(&parsed.events[0].event), dbg(&want));
}
