//! Property tests: no input makes the session or the parser panic, records always cover
//! their input exactly, and the session's timer never lies in the past by more than a call.

use proptest::prelude::*;

use crate::SourceRconSession;
use crate::logs::{CONSOLE_SOURCE, GAME_SOURCE, L4d2Parser};
use garrison_adapter_sdk::protocol::source_rcon::{self as packet, COMMAND_TIMEOUT_MS};
use garrison_adapter_sdk::{LogParser, RconSession};

/// Stream reads worth trying: random bytes, and valid packets with random ids, types and
/// bodies (which get past the framing and exercise the session's own checks).
fn read() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..64),
        (
            -2i32..8,
            0i32..4,
            proptest::collection::vec(any::<u8>(), 0..16)
        )
            .prop_map(|(id, kind, body)| packet::encode(id, kind, &body)),
    ]
}

proptest! {
    #[test]
    fn random_bytes_never_panic_the_session(
        steps in proptest::collection::vec((read(), 0u64..20_000, any::<bool>()), 0..64)
    ) {
        let mut s = SourceRconSession::new("pw".into(), 0);
        let mut now = 0;
        s.transmit(now);
        for (data, advance, command) in steps {
            now += advance;
            if command {
                let _ = s.command("status", now);
            }
            s.receive(&data, now);
            s.tick(now);
            s.transmit(now);
            s.dropped();
            if let Some(at) = s.next_wakeup() {
                prop_assert!(at <= now + COMMAND_TIMEOUT_MS);
            }
        }
    }

    #[test]
    fn random_lines_never_panic_the_parser_and_are_covered(
        batches in proptest::collection::vec(
            (
                prop_oneof![Just(GAME_SOURCE), Just(CONSOLE_SOURCE), Just("other")],
                proptest::collection::vec(
                    prop_oneof![
                        any::<String>(),
                        "L [0-9]{2}/[0-9]{2}/[0-9]{4} - [0-9]{2}:[0-9]{2}:[0-9]{2}: .{0,40}",
                        "L 05/06/2024 - 12:00:00: (Kick: )?\"[^\n]{0,12}(<[0-9a-zA-Z_:]{0,6}>){0,4}\"( connected, address \"| entered the game| disconnected| STEAM USERID validated| say \"| say_team \"| was kicked by \")[^\n]{0,20}",
                        "(Loading map \"|Started map \"|Console initialized\\.|Connection to Steam servers successful\\.|Error|Warning)[^\n]{0,20}",
                    ],
                    0..12,
                ),
            ),
            0..8,
        )
    ) {
        let mut p = L4d2Parser::default();
        for (source, lines) in batches {
            let mut text = String::new();
            for line in &lines {
                text.push_str(&line.replace('\n', " "));
                text.push('\n');
            }
            let parsed = p.feed(source, &text);
            for e in &parsed.events {
                prop_assert!((e.record as usize) < parsed.records.len());
            }
            let covered: u64 = parsed.records.iter().map(|r| u64::from(r.lines)).sum();
            prop_assert_eq!(covered, lines.len() as u64);
            prop_assert!(p.flush(source).records.is_empty());
        }
    }
}
