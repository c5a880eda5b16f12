//! The BattlEye RCon v2 packet format, server side.
//!
//! A datagram is `'B' 'E'`, a little-endian CRC32 (IEEE) of everything from the following
//! `0xFF`, then `0xFF`, a type byte and the payload. This module encodes and decodes single
//! datagrams and splits long command replies into the multi-packet form
//! (`0x00, count, index` after the sequence byte). It holds no session state and does no I/O.

/// Login request / login result.
pub const LOGIN: u8 = 0x00;
/// Command from the client / reply from the server.
pub const COMMAND: u8 = 0x01;
/// Server message to the client / acknowledgement from the client.
pub const MESSAGE: u8 = 0x02;

/// Why a datagram was dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// Fewer than the 8 bytes of header.
    TooShort,
    /// Not `'B' 'E' … 0xFF`.
    BadHeader,
    /// The checksum does not match the contents.
    BadChecksum,
}

/// A decoded datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Packet<'a> {
    /// `LOGIN`, `COMMAND`, `MESSAGE` or anything else a hostile client sent.
    pub kind: u8,
    /// Everything after the type byte.
    pub payload: &'a [u8],
}

/// CRC-32 (IEEE 802.3, reflected, as used by zlib) of `bytes`.
pub fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
        }
    }
    !crc
}

/// Builds one datagram of the given type.
pub fn encode(kind: u8, payload: &[u8]) -> Vec<u8> {
    let mut body = Vec::with_capacity(payload.len() + 2);
    body.push(0xFF);
    body.push(kind);
    body.extend_from_slice(payload);
    let mut out = Vec::with_capacity(body.len() + 6);
    out.extend_from_slice(b"BE");
    out.extend_from_slice(&crc32(&body).to_le_bytes());
    out.extend_from_slice(&body);
    out
}

/// Checks and splits one datagram.
pub fn decode(datagram: &[u8]) -> Result<Packet<'_>, DecodeError> {
    if datagram.len() < 8 {
        return Err(DecodeError::TooShort);
    }
    if &datagram[..2] != b"BE" || datagram[6] != 0xFF {
        return Err(DecodeError::BadHeader);
    }
    let want = u32::from_le_bytes([datagram[2], datagram[3], datagram[4], datagram[5]]);
    if crc32(&datagram[6..]) != want {
        return Err(DecodeError::BadChecksum);
    }
    Ok(Packet {
        kind: datagram[7],
        payload: &datagram[8..],
    })
}

/// The datagrams that carry the reply to command `seq`.
///
/// A reply of at most `max_chunk` bytes is one plain packet. A longer one is cut into chunks of
/// at most `max_chunk` bytes (grown if needed so no more than 255 are required), each sent as
/// `seq, 0x00, count, index, chunk`. Chunks may split a UTF-8 character; the client joins the
/// bytes before decoding. The result is in index order; the caller may reorder it.
pub fn reply_packets(seq: u8, text: &[u8], max_chunk: usize) -> Vec<Vec<u8>> {
    let max_chunk = max_chunk.max(1);
    if text.len() <= max_chunk {
        let mut payload = Vec::with_capacity(text.len() + 1);
        payload.push(seq);
        payload.extend_from_slice(text);
        return vec![encode(COMMAND, &payload)];
    }
    let chunk = max_chunk.max(text.len().div_ceil(255));
    let count = text.len().div_ceil(chunk);
    text.chunks(chunk)
        .enumerate()
        .map(|(index, part)| {
            let mut payload = Vec::with_capacity(part.len() + 4);
            // `count` is at most 255 by construction of `chunk`.
            payload.extend_from_slice(&[seq, 0x00, count as u8, index as u8]);
            payload.extend_from_slice(part);
            encode(COMMAND, &payload)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        s.split_whitespace()
            .map(|b| u8::from_str_radix(b, 16).expect("hex byte"))
            .collect()
    }

    #[test]
    fn golden_login() {
        let want = hex("42 45 DE 26 2D 52 FF 00 70 61 73 73 77 6F 72 64");
        assert_eq!(encode(LOGIN, b"password"), want);
        let p = decode(&want).expect("valid");
        assert_eq!((p.kind, p.payload), (LOGIN, &b"password"[..]));
    }

    #[test]
    fn golden_keepalive_and_ack() {
        assert_eq!(encode(COMMAND, &[0]), hex("42 45 BE DC C2 58 FF 01 00"));
        assert_eq!(encode(MESSAGE, &[0]), hex("42 45 7D 8F EF 73 FF 02 00"));
    }

    #[test]
    fn bad_datagrams_are_rejected() {
        let good = encode(COMMAND, b"\x05players");
        assert_eq!(decode(&good[..7]), Err(DecodeError::TooShort));
        let mut bad = good.clone();
        bad[0] = b'X';
        assert_eq!(decode(&bad), Err(DecodeError::BadHeader));
        let mut bad = good.clone();
        bad[6] = 0xFE;
        assert_eq!(decode(&bad), Err(DecodeError::BadHeader));
        let mut bad = good.clone();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        assert_eq!(decode(&bad), Err(DecodeError::BadChecksum));
        assert_eq!(decode(&[]), Err(DecodeError::TooShort));
    }

    #[test]
    fn short_reply_is_one_plain_packet() {
        let packets = reply_packets(7, b"hello", 1000);
        assert_eq!(packets, vec![encode(COMMAND, b"\x07hello")]);
        assert_eq!(reply_packets(0, b"", 1), vec![encode(COMMAND, &[0])]);
    }

    #[test]
    fn long_reply_is_fragmented_and_reassembles() {
        let text: Vec<u8> = "Ärger ☃ ".repeat(40).into_bytes();
        let packets = reply_packets(9, &text, 100);
        let count = text.len().div_ceil(100);
        assert_eq!(packets.len(), count);
        let mut joined = Vec::new();
        for (i, datagram) in packets.iter().enumerate() {
            let p = decode(datagram).expect("valid");
            assert_eq!(p.kind, COMMAND);
            assert_eq!(&p.payload[..4], &[9, 0, count as u8, i as u8]);
            assert!(p.payload.len() - 4 <= 100);
            joined.extend_from_slice(&p.payload[4..]);
        }
        assert_eq!(joined, text);
    }

    #[test]
    fn fragment_count_never_exceeds_255() {
        let text = vec![b'x'; 10_000];
        let packets = reply_packets(1, &text, 1);
        assert!(packets.len() <= 255);
        let first = decode(&packets[0]).expect("valid");
        assert_eq!(usize::from(first.payload[2]), packets.len());
    }
}
