//! Source RCON packet framing, without any I/O.
//!
//! A packet is the little-endian `i32` size (counting everything after itself: id, type, body
//! and two NUL bytes, so `body.len() + 10`), the `i32` request id, the `i32` type, the body and
//! `\0\0`. The decoder buffers a TCP byte stream and cuts packets by size whatever the read
//! boundaries were; a size outside 10..=4106 or a missing terminator means the stream is
//! corrupt, which the caller answers by closing the connection. Nothing here panics.

/// Client → server: log in with the password in the body.
pub const SERVERDATA_AUTH: i32 = 3;
/// Client → server: run the command in the body.
pub const SERVERDATA_EXECCOMMAND: i32 = 2;
/// Server → client: the login verdict (id −1 when refused). Same number as EXECCOMMAND.
pub const SERVERDATA_AUTH_RESPONSE: i32 = 2;
/// Both ways: command output from the server; an empty one from the client asks for a mirror.
pub const SERVERDATA_RESPONSE_VALUE: i32 = 0;
/// The largest body a packet may carry.
pub const MAX_BODY: usize = 4096;
/// The smallest legal size field (empty body).
const MIN_SIZE: i32 = 10;
/// The largest legal size field.
const MAX_SIZE: i32 = MAX_BODY as i32 + 10;

/// One decoded packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Packet {
    /// The request id chosen by the client.
    pub id: i32,
    /// The packet type.
    pub kind: i32,
    /// The body without its terminating NULs.
    pub body: Vec<u8>,
}

/// Why a stream cannot be decoded any further.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameError {
    /// The size field is outside 10..=4106.
    BadSize(i32),
    /// The packet does not end with two NUL bytes.
    MissingTerminator,
}

/// Encodes one packet. Bodies longer than `MAX_BODY` are the caller's bug and are cut.
pub fn encode(id: i32, kind: i32, body: &[u8]) -> Vec<u8> {
    let body = body.get(..MAX_BODY).unwrap_or(body);
    let size = body.len() as i32 + 10;
    let mut out = Vec::with_capacity(body.len() + 14);
    out.extend_from_slice(&size.to_le_bytes());
    out.extend_from_slice(&id.to_le_bytes());
    out.extend_from_slice(&kind.to_le_bytes());
    out.extend_from_slice(body);
    out.extend_from_slice(&[0, 0]);
    out
}

/// Cuts `text` into bodies of at most `max` bytes, never inside a UTF-8 character; an empty
/// text is one empty body (every command gets at least one reply packet).
pub fn split_body(text: &str, max: usize) -> Vec<&[u8]> {
    let max = max.clamp(4, MAX_BODY);
    let mut parts = Vec::new();
    let mut rest = text;
    while rest.len() > max {
        let mut cut = max;
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        let (head, tail) = rest.split_at(cut);
        parts.push(head.as_bytes());
        rest = tail;
    }
    if !rest.is_empty() || parts.is_empty() {
        parts.push(rest.as_bytes());
    }
    parts
}

/// Reassembles packets from a byte stream.
#[derive(Debug, Default)]
pub struct Decoder {
    /// Bytes received but not yet part of a whole packet.
    buf: Vec<u8>,
}

/// Reads a little-endian `i32` at `at`, if the bytes are there.
fn le_i32(bytes: &[u8], at: usize) -> Option<i32> {
    let b = bytes.get(at..at + 4)?;
    Some(i32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

impl Decoder {
    /// Appends received bytes.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The next whole packet, `None` when more bytes are needed, or an error for a corrupt
    /// stream (after which the decoder should be dropped).
    pub fn next_packet(&mut self) -> Result<Option<Packet>, FrameError> {
        let Some(size) = le_i32(&self.buf, 0) else {
            return Ok(None);
        };
        if !(MIN_SIZE..=MAX_SIZE).contains(&size) {
            return Err(FrameError::BadSize(size));
        }
        let total = 4 + size as usize;
        if self.buf.len() < total {
            return Ok(None);
        }
        let frame: Vec<u8> = self.buf.drain(..total).collect();
        let (Some(id), Some(kind)) = (le_i32(&frame, 4), le_i32(&frame, 8)) else {
            return Err(FrameError::BadSize(size));
        };
        let body = frame.get(12..total - 2).unwrap_or_default();
        if frame.get(total - 2..) != Some(&[0u8, 0][..]) {
            return Err(FrameError::MissingTerminator);
        }
        Ok(Some(Packet {
            id,
            kind,
            body: body.to_vec(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A captured login: password "passwrd", id 0.
    const AUTH_CAPTURE: [u8; 21] = [
        0x11, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x70, 0x61, 0x73,
        0x73, 0x77, 0x72, 0x64, 0x00, 0x00,
    ];

    #[test]
    fn the_auth_capture_round_trips() {
        assert_eq!(encode(0, SERVERDATA_AUTH, b"passwrd"), AUTH_CAPTURE);
        let mut d = Decoder::default();
        d.push(&AUTH_CAPTURE);
        assert_eq!(
            d.next_packet(),
            Ok(Some(Packet {
                id: 0,
                kind: SERVERDATA_AUTH,
                body: b"passwrd".to_vec()
            }))
        );
        assert_eq!(d.next_packet(), Ok(None));
    }

    #[test]
    fn packets_are_cut_whatever_the_read_boundaries() {
        let mut stream = encode(7, SERVERDATA_EXECCOMMAND, b"status");
        stream.extend(encode(8, SERVERDATA_RESPONSE_VALUE, b""));
        stream.extend(encode(-1, SERVERDATA_AUTH_RESPONSE, b""));
        for chunk in [1, 2, 3, 5, 13, stream.len()] {
            let mut d = Decoder::default();
            let mut got = Vec::new();
            for piece in stream.chunks(chunk) {
                d.push(piece);
                while let Ok(Some(p)) = d.next_packet() {
                    got.push((p.id, p.kind, p.body));
                }
            }
            assert_eq!(
                got,
                [
                    (7, 2, b"status".to_vec()),
                    (8, 0, Vec::new()),
                    (-1, 2, Vec::new())
                ],
                "chunk {chunk}"
            );
        }
    }

    #[test]
    fn corrupt_streams_are_errors() {
        for size in [9i32, -1, 4107, i32::MAX, i32::MIN] {
            let mut d = Decoder::default();
            d.push(&size.to_le_bytes());
            assert_eq!(d.next_packet(), Err(FrameError::BadSize(size)));
        }
        let mut bad = encode(1, SERVERDATA_EXECCOMMAND, b"x");
        let last = bad.len() - 1;
        bad[last] = b'!';
        let mut d = Decoder::default();
        d.push(&bad);
        assert_eq!(d.next_packet(), Err(FrameError::MissingTerminator));
        let mut d = Decoder::default();
        d.push(&encode(1, 2, &[b'a'; 4096]));
        assert!(matches!(d.next_packet(), Ok(Some(p)) if p.body.len() == 4096));
    }

    #[test]
    fn bodies_split_at_the_limit_but_never_inside_a_character() {
        assert_eq!(split_body("", 100), [b"".as_slice()]);
        let parts = split_body("abcdefghij", 4);
        assert_eq!(parts, [b"abcd".as_slice(), b"efgh", b"ij"]);
        let text = "Ärger ☃ ".repeat(40);
        let parts = split_body(&text, 100);
        assert!(parts.len() > 1 && parts.iter().all(|p| p.len() <= 100));
        assert!(parts.iter().all(|p| std::str::from_utf8(p).is_ok()));
        assert_eq!(parts.concat(), text.as_bytes());
        assert_eq!(encode(5, 0, &[0, 0, 0, 1]).len(), 18);
    }
}
