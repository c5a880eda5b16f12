//! The Source RCON packet codec: the wiki's capture byte for byte, round trips, partial
//! buffers and the framing it refuses.

use crate::protocol::source_rcon::{
    Corrupt, MAX_BODY, MAX_SIZE, MIN_SIZE, Packet, SERVERDATA_AUTH, SERVERDATA_EXECCOMMAND,
    SERVERDATA_RESPONSE_VALUE, decode, encode,
};

#[test]
fn auth_packet_matches_the_capture() {
    let want = [
        0x11, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x70, 0x61, 0x73,
        0x73, 0x77, 0x72, 0x64, 0x00, 0x00,
    ];
    assert_eq!(encode(0, SERVERDATA_AUTH, b"passwrd"), want);
}

#[test]
fn empty_response_value_is_ten_bytes_after_the_size() {
    assert_eq!(
        encode(7, SERVERDATA_RESPONSE_VALUE, b""),
        [10, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0]
    );
}

#[test]
fn round_trip_with_trailing_bytes() {
    let mut bytes = encode(-1, SERVERDATA_EXECCOMMAND, b"status");
    let len = bytes.len();
    bytes.extend_from_slice(&[1, 2, 3]);
    let (p, used) = decode(&bytes).expect("valid").expect("complete");
    assert_eq!(used, len);
    assert_eq!(
        p,
        Packet {
            id: -1,
            kind: SERVERDATA_EXECCOMMAND,
            body: b"status"
        }
    );
}

#[test]
fn incomplete_packets_wait_for_more() {
    let bytes = encode(3, SERVERDATA_RESPONSE_VALUE, b"hello");
    for cut in 0..bytes.len() {
        assert_eq!(decode(&bytes[..cut]), Ok(None), "cut at {cut}");
    }
}

#[test]
fn largest_body_is_accepted_and_sizes_outside_are_corrupt() {
    let body = vec![b'x'; MAX_BODY];
    let bytes = encode(1, SERVERDATA_RESPONSE_VALUE, &body);
    let (p, _) = decode(&bytes).expect("valid").expect("complete");
    assert_eq!(p.body.len(), MAX_BODY);

    for size in [MIN_SIZE - 1, MAX_SIZE + 1, 0, -1, i32::MIN, i32::MAX] {
        let mut bytes = size.to_le_bytes().to_vec();
        let want = Err(Corrupt::Size {
            size,
            max: MAX_SIZE,
        });
        assert_eq!(decode(&bytes), want, "{size}");
        bytes.extend_from_slice(&[0; 16]);
        assert_eq!(decode(&bytes), want, "{size}");
    }
}

#[test]
fn a_packet_without_its_nul_terminators_is_corrupt() {
    let mut bytes = encode(1, SERVERDATA_RESPONSE_VALUE, b"ab");
    let last = bytes.len() - 1;
    bytes[last] = b'!';
    assert_eq!(decode(&bytes), Err(Corrupt::Terminator));
}

#[test]
fn the_mirror_tail_quirk_is_a_well_formed_packet() {
    let body = [0, 0, 0, 1, 0, 0, 0, 0];
    let bytes = encode(5, SERVERDATA_RESPONSE_VALUE, &body);
    assert_eq!(bytes.len(), 4 + 18);
    let (p, used) = decode(&bytes).expect("valid").expect("complete");
    assert_eq!((p.id, p.body, used), (5, &body[..], bytes.len()));
}

#[test]
fn the_body_limit_is_the_callers() {
    use crate::protocol::source_rcon::{decode_limited, max_size};
    let small = encode(1, SERVERDATA_RESPONSE_VALUE, &[b'a'; 100]);
    assert!(matches!(decode_limited(&small, 100), Ok(Some((_, 114)))));
    assert_eq!(
        decode_limited(&small, 99),
        Err(Corrupt::Size {
            size: 110,
            max: 109
        })
    );
    // A bigger limit lets bigger packets through; absurd limits saturate instead of panicking.
    let big = encode(1, SERVERDATA_RESPONSE_VALUE, &vec![b'b'; 10_000]);
    assert_eq!(
        decode(&big).map(|_| ()),
        Err(Corrupt::Size {
            size: 10_010,
            max: MAX_SIZE
        })
    );
    assert!(matches!(decode_limited(&big, 10_000), Ok(Some((p, _))) if p.body.len() == 10_000));
    assert_eq!(max_size(usize::MAX), i32::MAX);
    assert_eq!(max_size(i32::MAX as usize), i32::MAX);
    assert_eq!(max_size(0), MIN_SIZE);
    let huge = i32::MAX.to_le_bytes();
    assert_eq!(
        decode_limited(&huge, usize::MAX),
        Ok(None),
        "waits, allocates nothing"
    );
}

#[test]
fn corrupt_streams_say_why() {
    assert_eq!(
        Corrupt::Size {
            size: 5000,
            max: MAX_SIZE
        }
        .to_string(),
        "the server sent a packet size of 5000 (valid: 10 to 4106)"
    );
    assert_eq!(
        Corrupt::Terminator.to_string(),
        "the server sent a packet without its end marker"
    );
}

#[test]
fn negative_ids_and_unknown_types_round_trip() {
    for (id, kind) in [(i32::MIN, i32::MIN), (-1, 200), (i32::MAX, -7)] {
        let bytes = encode(id, kind, b"x");
        let (p, used) = decode(&bytes).expect("valid").expect("complete");
        assert_eq!(
            (p.id, p.kind, p.body, used),
            (id, kind, &b"x"[..], bytes.len())
        );
    }
}
