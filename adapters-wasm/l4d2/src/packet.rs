//! The Source RCON packet codec: framing and the packet types.
//!
//! A packet is a little-endian `i32` size (counting what follows it: id, type, body and two
//! NUL bytes, so `body.len() + 10`), an `i32` id, an `i32` type, the body, then `\0\0`. Bodies
//! hold at most [`MAX_BODY`] bytes. This module turns packets into bytes and cuts packets off
//! the front of a stream buffer, refusing malformed framing with a [`Corrupt`]; it keeps no
//! state and knows nothing of logins, ids or timers (that is [`crate::session`]).

/// Login request from the client, with the password as body.
pub const SERVERDATA_AUTH: i32 = 3;
/// The server's answer to a login: the request's id, or −1 when refused.
pub const SERVERDATA_AUTH_RESPONSE: i32 = 2;
/// A console command from the client (same number as the auth response, other direction).
pub const SERVERDATA_EXECCOMMAND: i32 = 2;
/// A piece of a command's output from the server (and the client's empty "mirror" packet).
pub const SERVERDATA_RESPONSE_VALUE: i32 = 0;

/// Largest body a packet may carry.
pub const MAX_BODY: usize = 4096;
/// Smallest valid `size` field: id, type and the two NULs of an empty body.
pub const MIN_SIZE: i32 = 10;
/// Largest valid `size` field: a full body.
pub const MAX_SIZE: i32 = MIN_SIZE + MAX_BODY as i32;

/// One decoded packet, borrowing its body from the buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Packet<'a> {
    /// The request id it answers (or carries).
    pub id: i32,
    /// Its type (`SERVERDATA_*`).
    pub kind: i32,
    /// The body, without the terminating NULs.
    pub body: &'a [u8],
}

/// Why the stream cannot be read any further.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Corrupt {
    /// A `size` field outside `MIN_SIZE..=MAX_SIZE`.
    Size(i32),
    /// A packet whose last two bytes are not NULs.
    Terminator,
}

impl std::fmt::Display for Corrupt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Corrupt::Size(size) => write!(
                f,
                "the server sent a packet size of {size} (valid: {MIN_SIZE} to {MAX_SIZE})"
            ),
            Corrupt::Terminator => f.write_str("the server sent a packet without its end marker"),
        }
    }
}

/// A whole packet. Bodies longer than [`MAX_BODY`] are the caller's mistake; they are
/// encoded anyway and the server will refuse them.
pub fn encode(id: i32, kind: i32, body: &[u8]) -> Vec<u8> {
    let size = i32::try_from(body.len() + 10).unwrap_or(i32::MAX);
    let mut packet = Vec::with_capacity(body.len() + 14);
    packet.extend_from_slice(&size.to_le_bytes());
    packet.extend_from_slice(&id.to_le_bytes());
    packet.extend_from_slice(&kind.to_le_bytes());
    packet.extend_from_slice(body);
    packet.extend_from_slice(&[0, 0]);
    packet
}

fn le_i32(buf: &[u8], at: usize) -> Option<i32> {
    let bytes: [u8; 4] = buf.get(at..at + 4)?.try_into().ok()?;
    Some(i32::from_le_bytes(bytes))
}

/// Cuts the first packet off `buf`: `Ok(None)` while it is incomplete, otherwise the packet
/// and how many bytes it took. A bad size is reported as soon as its four bytes are there.
pub fn decode(buf: &[u8]) -> Result<Option<(Packet<'_>, usize)>, Corrupt> {
    let Some(size) = le_i32(buf, 0) else {
        return Ok(None);
    };
    if !(MIN_SIZE..=MAX_SIZE).contains(&size) {
        return Err(Corrupt::Size(size));
    }
    // In range, so positive and small.
    let total = 4 + size.unsigned_abs() as usize;
    let Some(packet) = buf.get(..total) else {
        return Ok(None);
    };
    let (Some(id), Some(kind)) = (le_i32(packet, 4), le_i32(packet, 8)) else {
        return Ok(None);
    };
    if packet.get(total - 2..) != Some(&[0, 0][..]) {
        return Err(Corrupt::Terminator);
    }
    let body = packet.get(12..total - 2).unwrap_or(&[]);
    Ok(Some((Packet { id, kind, body }, total)))
}
