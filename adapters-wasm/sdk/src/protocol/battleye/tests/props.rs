//! Property tests: no datagram makes the codec or the session panic, packets round-trip,
//! and fragments reassemble whatever their sizes and arrival order.

use proptest::prelude::*;

use super::session::{Brisk, Wide};
use crate::RconSession;
use crate::prelude::SessionEvent;
use crate::protocol::battleye::{
    COMMAND, DecodeError, Dialect, LOGIN, Packet, Session, Standard, crc32, decode, encode,
};

/// Datagrams worth trying: random bytes, and valid frames with random payloads (which get
/// past the checksum and exercise the session's own checks).
fn datagram() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..64),
        (0u8..4, proptest::collection::vec(any::<u8>(), 0..16))
            .prop_map(|(kind, payload)| encode(kind, &payload)),
        (
            any::<u8>(),
            0u8..4,
            0u8..5,
            proptest::collection::vec(any::<u8>(), 0..8)
        )
            .prop_map(|(seq, count, index, data)| {
                let mut payload = vec![seq, 0, count, index];
                payload.extend(data);
                encode(COMMAND, &payload)
            }),
    ]
}

/// `B` `E`, a right checksum, `0xFF` and a type the client sends.
fn well_framed(packet: &[u8]) -> bool {
    match packet {
        [b'B', b'E', c0, c1, c2, c3, 0xFF, kind, ..] => {
            *kind <= 2
                && crc32(packet.get(6..).unwrap_or(&[])) == u32::from_le_bytes([*c0, *c1, *c2, *c3])
        }
        _ => false,
    }
}

fn drive<D: Dialect>(steps: &[(Vec<u8>, u64, bool)]) -> Result<(), TestCaseError> {
    let mut s = Session::<D>::new("pw".into(), 0);
    let silence = s.options().silence_ms;
    let mut now = 0u64;
    s.transmit(now);
    for (data, advance, command) in steps {
        now = now.saturating_add(*advance);
        if *command {
            let _ = s.command("players", now);
        }
        s.receive(data, now);
        s.tick(now);
        for out in s.transmit(now) {
            prop_assert!(well_framed(&out), "what we send is a packet: {:?}", out);
        }
        if s.is_closed() {
            prop_assert_eq!(s.next_wakeup(), None);
        } else if let Some(at) = s.next_wakeup() {
            prop_assert!(at <= now.saturating_add(silence));
        }
    }
    Ok(())
}

proptest! {
    #[test]
    fn decoding_random_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..100)) {
        match decode(&bytes) {
            Ok(_) => prop_assert!(bytes.len() >= 9),
            Err(DecodeError::Truncated) => {}
            Err(_) => prop_assert!(bytes.len() >= 8),
        }
    }

    #[test]
    fn any_corrupted_byte_is_caught(
        payload in proptest::collection::vec(any::<u8>(), 1..40),
        at in any::<usize>(),
        flip in 1u8..=255,
    ) {
        let mut bytes = encode(0x02, &payload);
        let at = at % bytes.len();
        bytes[at] ^= flip;
        prop_assert!(decode(&bytes).is_err(), "byte {} changed", at);
    }

    #[test]
    fn messages_round_trip(seq in any::<u8>(), text in proptest::collection::vec(any::<u8>(), 0..100)) {
        let mut payload = vec![seq];
        payload.extend_from_slice(&text);
        let bytes = encode(0x02, &payload);
        prop_assert_eq!(decode(&bytes), Ok(Packet::Message { seq, text: &text }));
    }

    #[test]
    fn random_datagrams_never_panic_the_session(
        steps in proptest::collection::vec(
            (datagram(), prop_oneof![0u64..3_000, 0u64..50_000, Just(u64::MAX / 4)], any::<bool>()),
            0..64,
        )
    ) {
        drive::<Standard>(&steps)?;
        drive::<Brisk>(&steps)?;
        drive::<Wide>(&steps)?;
    }

    #[test]
    fn fragments_reassemble_in_any_order(
        parts in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..50), 1..12),
        order in Just(()).prop_perturb(|_, mut rng| rng.next_u64()),
        seq_skip in 0u8..=255,
    ) {
        let mut s = Session::<Standard>::new("pw".into(), 0);
        s.transmit(0);
        s.receive(&encode(LOGIN, &[1]), 0);
        // Move the sequence along so the reply's may be anywhere, including after the wrap.
        for seq in 0..seq_skip {
            let _ = s.command("x", 0);
            s.transmit(0);
            s.receive(&encode(COMMAND, &[seq]), 0);
        }
        let id = s.command("bans", 0).expect("queued");
        prop_assert_eq!(s.transmit(0).len(), 1);
        let count = u8::try_from(parts.len()).expect("few parts");
        let mut indices: Vec<u8> = (0..count).collect();
        // A deterministic shuffle from the drawn number.
        let mut x = order | 1;
        for i in (1..indices.len()).rev() {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            indices.swap(i, (x % (i as u64 + 1)) as usize);
        }
        let mut events = Vec::new();
        for index in indices {
            let mut payload = vec![seq_skip, 0, count, index];
            payload.extend_from_slice(&parts[usize::from(index)]);
            events.extend(s.receive(&encode(COMMAND, &payload), 1));
        }
        let whole: Vec<u8> = parts.concat();
        let want = String::from_utf8_lossy(&whole).into_owned();
        prop_assert!(
            matches!(&events[..], [SessionEvent::Reply(r)] if r.id == id && r.text == want),
            "{:?}",
            events
        );
        prop_assert_eq!(s.dropped(), 0);
    }
}
