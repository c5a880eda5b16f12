//! The BattlEye RCon (v2) packet codec: framing, checksum, and the three packet types.
//!
//! A packet is `'B' 'E'`, a CRC-32 (IEEE, little-endian) of everything from the `0xFF` on,
//! then `0xFF`, a type byte and the payload. One packet is one UDP datagram. This module turns
//! packets into bytes and bytes into [`Packet`]s, refusing anything malformed with a
//! [`DecodeError`]; it keeps no state and knows nothing of sessions, timers or sequence
//! bookkeeping (that is [`Session`](super::Session)).

/// Login: the client sends the password; the server answers `0x01` (accepted) or `0x00`.
pub const LOGIN: u8 = 0x00;
/// Command: a sequence byte and the command; the server answers with the same sequence.
pub const COMMAND: u8 = 0x01;
/// Server message: a sequence byte and the text; the client acknowledges the sequence.
pub const MESSAGE: u8 = 0x02;

/// Bytes before the payload: `B`, `E`, 4 checksum bytes, `0xFF`, type.
pub const HEADER_LEN: usize = 8;
/// Largest datagram accepted (the UDP payload limit); anything longer is not a packet.
pub const MAX_DATAGRAM: usize = 65_507;

/// The CRC-32 table of the IEEE polynomial (reflected), built at compile time.
const CRC_TABLE: [u32; 256] = crc_table();

const fn crc_table() -> [u32; 256] {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut bit = 0;
        while bit < 8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            bit += 1;
        }
        table[i] = c;
        i += 1;
    }
    table
}

/// CRC-32 (IEEE 802.3, as zlib computes it) of `data`.
pub fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in data {
        crc = CRC_TABLE[usize::from((crc as u8) ^ byte)] ^ (crc >> 8);
    }
    !crc
}

/// A whole packet of `kind` with `payload`.
pub fn encode(kind: u8, payload: &[u8]) -> Vec<u8> {
    let mut packet = Vec::with_capacity(HEADER_LEN + payload.len());
    packet.extend_from_slice(b"BE\0\0\0\0");
    packet.push(0xFF);
    packet.push(kind);
    packet.extend_from_slice(payload);
    let crc = crc32(packet.get(6..).unwrap_or(&[]));
    if let Some(slot) = packet.get_mut(2..6) {
        slot.copy_from_slice(&crc.to_le_bytes());
    }
    packet
}

/// The login packet.
pub fn login(password: &str) -> Vec<u8> {
    encode(LOGIN, password.as_bytes())
}

/// A command packet (an empty `text` is the keepalive).
pub fn command(seq: u8, text: &str) -> Vec<u8> {
    let mut payload = Vec::with_capacity(1 + text.len());
    payload.push(seq);
    payload.extend_from_slice(text.as_bytes());
    encode(COMMAND, &payload)
}

/// The acknowledgement of server message `seq`.
pub fn ack(seq: u8) -> Vec<u8> {
    encode(MESSAGE, &[seq])
}

/// A packet received from the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Packet<'a> {
    /// The answer to the login.
    Login {
        /// Whether the password was accepted.
        accepted: bool,
    },
    /// A command reply, whole or one fragment of it.
    Reply {
        /// The command's sequence.
        seq: u8,
        /// The reply's content.
        body: ReplyBody<'a>,
    },
    /// A message the server sent on its own.
    Message {
        /// Its sequence, to acknowledge.
        seq: u8,
        /// Its text, as bytes.
        text: &'a [u8],
    },
}

/// The content of a command reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplyBody<'a> {
    /// The whole reply (empty for a keepalive).
    Whole(&'a [u8]),
    /// One fragment of a reply sent in `count` packets.
    Part {
        /// How many fragments the reply has.
        count: u8,
        /// Which one this is, from 0.
        index: u8,
        /// Its bytes.
        data: &'a [u8],
    },
}

/// Why received bytes are not a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecodeError {
    /// Shorter than a packet of its type can be.
    Truncated,
    /// Longer than [`MAX_DATAGRAM`].
    Oversized,
    /// Not `B` `E` … `0xFF`.
    BadHeader,
    /// The checksum does not match.
    BadChecksum,
    /// A type the server never sends, or a login answer other than 0 or 1.
    UnknownType,
    /// A fragment whose index or count cannot be.
    BadFragment,
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            DecodeError::Truncated => "a truncated BattlEye packet",
            DecodeError::Oversized => "a datagram longer than any BattlEye packet",
            DecodeError::BadHeader => "not a BattlEye packet (bad header)",
            DecodeError::BadChecksum => "a BattlEye packet with a wrong checksum",
            DecodeError::UnknownType => "a BattlEye packet of an unknown type",
            DecodeError::BadFragment => "a BattlEye reply fragment with an impossible index",
        })
    }
}

impl std::error::Error for DecodeError {}

/// Reads one datagram.
pub fn decode(data: &[u8]) -> Result<Packet<'_>, DecodeError> {
    if data.len() > MAX_DATAGRAM {
        return Err(DecodeError::Oversized);
    }
    let (Some(header), Some(payload)) = (data.get(..HEADER_LEN), data.get(HEADER_LEN..)) else {
        return Err(DecodeError::Truncated);
    };
    let [b'B', b'E', c0, c1, c2, c3, 0xFF, kind] = *header else {
        return Err(DecodeError::BadHeader);
    };
    if crc32(data.get(6..).unwrap_or(&[])) != u32::from_le_bytes([c0, c1, c2, c3]) {
        return Err(DecodeError::BadChecksum);
    }
    let (&first, rest) = payload.split_first().ok_or(DecodeError::Truncated)?;
    match kind {
        LOGIN => match first {
            0 => Ok(Packet::Login { accepted: false }),
            1 => Ok(Packet::Login { accepted: true }),
            _ => Err(DecodeError::UnknownType),
        },
        COMMAND => Ok(Packet::Reply {
            seq: first,
            body: reply_body(rest)?,
        }),
        MESSAGE => Ok(Packet::Message {
            seq: first,
            text: rest,
        }),
        _ => Err(DecodeError::UnknownType),
    }
}

/// A reply payload after the sequence: `0x00 count index data` for a fragment.
fn reply_body(rest: &[u8]) -> Result<ReplyBody<'_>, DecodeError> {
    match rest {
        [0x00, count, index, data @ ..] => {
            if *count == 0 || index >= count {
                return Err(DecodeError::BadFragment);
            }
            Ok(ReplyBody::Part {
                count: *count,
                index: *index,
                data,
            })
        }
        [0x00, ..] => Err(DecodeError::BadFragment),
        whole => Ok(ReplyBody::Whole(whole)),
    }
}
