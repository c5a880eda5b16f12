//! Property tests: no input makes the session or the parser panic, and records always cover
//! their input exactly.

use proptest::prelude::*;

use crate::BattlEyeSession;
use crate::rpt::{RPT_SOURCE, RptParser};
use garrison_adapter_sdk::protocol::battleye;
use garrison_adapter_sdk::{LogParser, RconSession};

/// Datagrams worth trying: random bytes, and valid frames with random payloads (which get
/// past the checksum and exercise the session's own checks).
fn datagram() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..64),
        (0u8..4, proptest::collection::vec(any::<u8>(), 0..16))
            .prop_map(|(kind, payload)| battleye::encode(kind, &payload)),
    ]
}

proptest! {
    #[test]
    fn random_datagrams_never_panic_the_session(
        steps in proptest::collection::vec((datagram(), 0u64..20_000, any::<bool>()), 0..64)
    ) {
        let mut s = BattlEyeSession::new("pw".into(), 0);
        let mut now = 0;
        s.transmit(now);
        for (data, advance, command) in steps {
            now += advance;
            if command {
                let _ = s.command("players", now);
            }
            s.receive(&data, now);
            s.tick(now);
            s.transmit(now);
            if let Some(at) = s.next_wakeup() {
                prop_assert!(at <= now + 45_000);
            }
        }
    }

    #[test]
    fn random_lines_never_panic_the_parser_and_are_covered(
        batches in proptest::collection::vec(
            proptest::collection::vec(
                prop_oneof![
                    any::<String>(),
                    "[ 0-9]{1,2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{0,4})? .{0,40}",
                    "[ 0-9]{1,2}:[0-9]{2}:[0-9]{2} (Player|BattlEye Server: Player #|BattlEye Server: \\(|Game |Mission |Server load: |Verified GUID \\().{0,40}",
                ],
                0..12,
            ),
            0..6,
        )
    ) {
        let mut p = RptParser::default();
        let mut fed = 0u64;
        let mut covered = 0u64;
        for batch in batches {
            let mut text = String::new();
            for line in batch {
                text.push_str(&line.replace('\n', " "));
                text.push('\n');
                fed += 1;
            }
            let parsed = p.feed(RPT_SOURCE, &text);
            for e in &parsed.events {
                prop_assert!((e.record as usize) < parsed.records.len());
            }
            covered += parsed.records.iter().map(|r| u64::from(r.lines)).sum::<u64>();
        }
        covered += p.flush(RPT_SOURCE).records.iter().map(|r| u64::from(r.lines)).sum::<u64>();
        prop_assert_eq!(covered, fed);
    }
}
