//! The BattlEye packet codec against golden byte vectors (checksums as zlib computes them).

use crate::protocol::battleye;
use crate::protocol::battleye::{DecodeError, Packet, ReplyBody, crc32, decode};

fn hex(s: &str) -> Vec<u8> {
    s.split_whitespace()
        .map(|b| u8::from_str_radix(b, 16).expect("hex"))
        .collect()
}

#[test]
fn crc32_matches_the_ieee_check_value() {
    assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    assert_eq!(crc32(b""), 0);
}

#[test]
fn login_vector() {
    assert_eq!(
        battleye::login("password"),
        hex("42 45 DE 26 2D 52 FF 00 70 61 73 73 77 6F 72 64")
    );
}

#[test]
fn keepalive_vector() {
    assert_eq!(battleye::command(0, ""), hex("42 45 BE DC C2 58 FF 01 00"));
}

#[test]
fn ack_vector() {
    assert_eq!(battleye::ack(0), hex("42 45 7D 8F EF 73 FF 02 00"));
}

#[test]
fn decodes_what_the_server_sends() {
    let ok = battleye::encode(0x00, &[1]);
    assert_eq!(decode(&ok), Ok(Packet::Login { accepted: true }));
    let refused = battleye::encode(0x00, &[0]);
    assert_eq!(decode(&refused), Ok(Packet::Login { accepted: false }));
    let reply = battleye::encode(0x01, b"\x07hello");
    assert_eq!(
        decode(&reply),
        Ok(Packet::Reply {
            seq: 7,
            body: ReplyBody::Whole(b"hello")
        })
    );
    let part = battleye::encode(0x01, b"\x07\x00\x03\x02tail");
    assert_eq!(
        decode(&part),
        Ok(Packet::Reply {
            seq: 7,
            body: ReplyBody::Part {
                count: 3,
                index: 2,
                data: b"tail"
            }
        })
    );
    let message = battleye::encode(0x02, b"\x09hi");
    assert_eq!(
        decode(&message),
        Ok(Packet::Message {
            seq: 9,
            text: b"hi"
        })
    );
}

#[test]
fn refuses_malformed_packets() {
    let mut bad_crc = battleye::encode(0x02, b"\x01x");
    bad_crc[2] ^= 1;
    assert_eq!(decode(&bad_crc), Err(DecodeError::BadChecksum));
    assert_eq!(decode(b"BE"), Err(DecodeError::Truncated));
    assert_eq!(
        decode(&battleye::encode(0x02, b"")),
        Err(DecodeError::Truncated)
    );
    let mut bad_magic = battleye::encode(0x02, b"\x01x");
    bad_magic[0] = b'X';
    assert_eq!(decode(&bad_magic), Err(DecodeError::BadHeader));
    assert_eq!(
        decode(&battleye::encode(0x07, b"\x01")),
        Err(DecodeError::UnknownType)
    );
    assert_eq!(
        decode(&battleye::encode(0x00, b"\x02")),
        Err(DecodeError::UnknownType)
    );
    for fragment in [
        &b"\x01\x00\x02\x02x"[..],
        b"\x01\x00\x00\x00x",
        b"\x01\x00\x02",
    ] {
        assert_eq!(
            decode(&battleye::encode(0x01, fragment)),
            Err(DecodeError::BadFragment),
            "{fragment:?}"
        );
    }
}

#[test]
fn oversized_datagrams_are_refused_before_the_checksum() {
    use crate::protocol::battleye::MAX_DATAGRAM;
    let mut payload = vec![0x05];
    payload.resize(MAX_DATAGRAM - 8, b'x');
    let largest = battleye::encode(0x02, &payload);
    assert_eq!(largest.len(), MAX_DATAGRAM);
    assert!(decode(&largest).is_ok());
    payload.push(b'x');
    assert_eq!(
        decode(&battleye::encode(0x02, &payload)),
        Err(DecodeError::Oversized)
    );
}

#[test]
fn a_fragment_with_no_data_and_an_empty_reply_are_valid() {
    assert_eq!(
        decode(&battleye::encode(0x01, b"\x03\x00\x01\x00")),
        Ok(Packet::Reply {
            seq: 3,
            body: ReplyBody::Part {
                count: 1,
                index: 0,
                data: b""
            }
        })
    );
    assert_eq!(
        decode(&battleye::encode(0x01, b"\xff")),
        Ok(Packet::Reply {
            seq: 255,
            body: ReplyBody::Whole(b"")
        })
    );
}

#[test]
fn decode_errors_say_what_was_wrong() {
    assert_eq!(
        DecodeError::BadChecksum.to_string(),
        "a BattlEye packet with a wrong checksum"
    );
}
