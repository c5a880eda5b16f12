//! Property tests: no bytes make the codec or a session of any dialect panic, the codec
//! round-trips, and how a stream is cut into reads never changes what the session reports.

use proptest::prelude::*;

use super::session::{EchoTerminated, Prompted, Quiet, Short, Tight};
use crate::RconSession;
use crate::prelude::SessionEvent;
use crate::protocol::source_rcon::{
    Dialect, OVERHEAD, SERVERDATA_AUTH_RESPONSE, SERVERDATA_RESPONSE_VALUE, Session, Srcds, decode,
    decode_limited, encode,
};

/// Stream reads worth trying: random bytes, and valid packets with likely ids, types and
/// bodies (which get past the framing and exercise the session's own checks).
fn read() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..64),
        (
            prop_oneof![-2i32..10, Just(i32::MAX), Just(i32::MAX - 1), any::<i32>()],
            prop_oneof![0i32..4, any::<i32>()],
            proptest::collection::vec(any::<u8>(), 0..130)
        )
            .prop_map(|(id, kind, body)| encode(id, kind, &body)),
    ]
}

/// Drives a fresh session of `D` through `steps`; checks the invariants every dialect keeps.
fn drive<D: Dialect>(steps: &[(Vec<u8>, u64, bool)]) -> Result<(), TestCaseError> {
    let mut s = Session::<D>::new("pw".into(), 0);
    let longest = s
        .options()
        .command_timeout_ms
        .max(s.options().login_timeout_ms);
    let mut now = 0u64;
    s.transmit(now);
    for (data, advance, command) in steps {
        now = now.saturating_add(*advance);
        if *command {
            let _ = s.command("status", now);
        }
        let mut events = s.receive(data, now);
        events.extend(s.tick(now));
        for packet in s.transmit(now) {
            prop_assert!(decode_limited(&packet, usize::MAX).is_ok());
        }
        if s.is_closed() {
            prop_assert_eq!(s.next_wakeup(), None);
            prop_assert!(s.command("status", now).is_err());
        } else if let Some(at) = s.next_wakeup() {
            prop_assert!(at <= now.saturating_add(longest));
        }
        let ends = events
            .iter()
            .filter(|e| {
                matches!(
                    e,
                    SessionEvent::Disconnected(_) | SessionEvent::AuthFailed(_)
                )
            })
            .count();
        prop_assert!(ends <= 1);
    }
    Ok(())
}

/// Feeds `stream` to a fresh logged-in session with one command in flight, in reads cut at
/// `cuts`, and returns the events as text.
fn reads<D: Dialect>(stream: &[u8], cuts: &[usize]) -> Vec<String> {
    let mut s = Session::<D>::new("pw".into(), 0);
    s.transmit(0);
    s.receive(&encode(0, SERVERDATA_AUTH_RESPONSE, b""), 0);
    let _ = s.command("status", 0);
    s.transmit(0);
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (stream.len() + 1)).collect();
    cuts.sort_unstable();
    let mut events = Vec::new();
    let mut from = 0;
    for cut in cuts.into_iter().chain([stream.len()]) {
        events.extend(s.receive(stream.get(from..cut).unwrap_or(&[]), 1));
        from = cut;
    }
    events.extend(s.tick(1_000));
    events.iter().map(|e| format!("{e:?}")).collect()
}

proptest! {
    #[test]
    fn decoding_random_bytes_never_panics(
        bytes in proptest::collection::vec(any::<u8>(), 0..200),
        limit in prop_oneof![Just(0usize), 0usize..300, Just(usize::MAX)],
    ) {
        if let Ok(Some((p, used))) = decode_limited(&bytes, limit) {
            prop_assert_eq!(used, p.body.len() + OVERHEAD);
            prop_assert!(used <= bytes.len());
            prop_assert!(p.body.len() <= limit);
        }
    }

    #[test]
    fn packets_round_trip_and_every_prefix_waits(
        id in any::<i32>(),
        kind in any::<i32>(),
        body in proptest::collection::vec(any::<u8>(), 0..300),
    ) {
        let bytes = encode(id, kind, &body);
        let (p, used) = decode(&bytes).expect("valid").expect("complete");
        prop_assert_eq!((p.id, p.kind, p.body, used), (id, kind, &body[..], bytes.len()));
        for cut in 0..bytes.len() {
            prop_assert_eq!(decode(&bytes[..cut]), Ok(None));
        }
    }

    #[test]
    fn random_reads_never_panic_a_session_of_any_dialect(
        steps in proptest::collection::vec(
            (read(), prop_oneof![0u64..300, 0u64..20_000, Just(u64::MAX / 4)], any::<bool>()),
            0..48,
        )
    ) {
        drive::<Srcds>(&steps)?;
        drive::<EchoTerminated>(&steps)?;
        drive::<Short>(&steps)?;
        drive::<Quiet>(&steps)?;
        drive::<Tight>(&steps)?;
        drive::<Prompted>(&steps)?;
    }

    #[test]
    fn how_a_reply_is_cut_into_reads_does_not_matter(
        parts in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..120), 0..6),
        cuts in proptest::collection::vec(any::<usize>(), 0..8),
    ) {
        // srcds: the parts, the mirror's answer, and its odd extra packet.
        let mut stream = Vec::new();
        for part in &parts {
            stream.extend(encode(2, SERVERDATA_RESPONSE_VALUE, part));
        }
        stream.extend(encode(3, SERVERDATA_RESPONSE_VALUE, b""));
        stream.extend(encode(3, SERVERDATA_RESPONSE_VALUE, &[0, 0, 0, 1, 0, 0, 0, 0]));
        let whole = reads::<Srcds>(&stream, &[]);
        prop_assert_eq!(whole.len(), 1);
        prop_assert_eq!(reads::<Srcds>(&stream, &cuts), whole);
        // Short packets: the same parts, whichever of them ends the reply.
        let mut stream = Vec::new();
        for part in &parts {
            stream.extend(encode(2, SERVERDATA_RESPONSE_VALUE, part));
        }
        prop_assert_eq!(reads::<Short>(&stream, &cuts), reads::<Short>(&stream, &[]));
    }
}
