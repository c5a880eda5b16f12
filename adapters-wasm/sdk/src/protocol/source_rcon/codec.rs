//! The Source RCON packet codec: framing and the packet types.
//!
//! A packet is a little-endian `i32` size (counting what follows it: id, type, body and two
//! NUL bytes, so `body.len() + 10`), an `i32` id, an `i32` type, the body, then `\0\0`. The
//! reference server's bodies hold at most [`MAX_BODY`] bytes; variants differ, so decoding
//! takes the limit as an argument ([`decode_limited`]). This module turns packets into bytes
//! and cuts packets off the front of a stream buffer, refusing malformed framing with a
//! [`Corrupt`]; it keeps no state and knows nothing of logins, ids or timers (that is
//! [`Session`](super::Session)).

/// Login request from the client, with the password as body.
pub const SERVERDATA_AUTH: i32 = 3;
/// The server's answer to a login: the request's id, or −1 when refused.
pub const SERVERDATA_AUTH_RESPONSE: i32 = 2;
/// A console command from the client (same number as the auth response, other direction).
pub const SERVERDATA_EXECCOMMAND: i32 = 2;
/// A piece of a command's output from the server (and the client's empty "mirror" packet).
pub const SERVERDATA_RESPONSE_VALUE: i32 = 0;

/// Largest body the reference server (srcds) sends in one packet.
pub const MAX_BODY: usize = 4096;
/// Smallest valid `size` field: id, type and the two NULs of an empty body.
pub const MIN_SIZE: i32 = 10;
/// Largest valid `size` field for [`MAX_BODY`]: a full body.
pub const MAX_SIZE: i32 = MIN_SIZE + MAX_BODY as i32;
/// Bytes a packet takes besides its body: size, id, type and the two NULs.
pub const OVERHEAD: usize = 14;

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

/// Why the stream cannot be read any further. A TCP stream has no resynchronisation point,
/// so a session treats any of these as the end of the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Corrupt {
    /// A `size` field outside `MIN_SIZE..=max`.
    Size {
        /// The size field as received.
        size: i32,
        /// The largest size allowed by the body limit in use.
        max: i32,
    },
    /// A packet whose last two bytes are not NULs.
    Terminator,
}

impl std::fmt::Display for Corrupt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Corrupt::Size { size, max } => write!(
                f,
                "the server sent a packet size of {size} (valid: {MIN_SIZE} to {max})"
            ),
            Corrupt::Terminator => f.write_str("the server sent a packet without its end marker"),
        }
    }
}

impl std::error::Error for Corrupt {}

/// The largest `size` field for bodies of at most `max_body` bytes (saturating, never
/// panicking for absurd limits).
pub fn max_size(max_body: usize) -> i32 {
    i32::try_from(max_body)
        .ok()
        .and_then(|body| body.checked_add(MIN_SIZE))
        .unwrap_or(i32::MAX)
}

/// A whole packet. Bodies longer than the peer accepts are the caller's mistake; they are
/// encoded anyway (a body beyond `i32::MAX` bytes gets a saturated size field) and the peer
/// will refuse them.
pub fn encode(id: i32, kind: i32, body: &[u8]) -> Vec<u8> {
    let size = i32::try_from(body.len().saturating_add(10)).unwrap_or(i32::MAX);
    let mut packet = Vec::with_capacity(body.len().saturating_add(OVERHEAD));
    packet.extend_from_slice(&size.to_le_bytes());
    packet.extend_from_slice(&id.to_le_bytes());
    packet.extend_from_slice(&kind.to_le_bytes());
    packet.extend_from_slice(body);
    packet.extend_from_slice(&[0, 0]);
    packet
}

fn le_i32(buf: &[u8], at: usize) -> Option<i32> {
    let bytes: [u8; 4] = buf.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(i32::from_le_bytes(bytes))
}

/// Cuts the first packet off `buf`, allowing bodies up to [`MAX_BODY`]; see
/// [`decode_limited`].
pub fn decode(buf: &[u8]) -> Result<Option<(Packet<'_>, usize)>, Corrupt> {
    decode_limited(buf, MAX_BODY)
}

/// Cuts the first packet off `buf`: `Ok(None)` while it is incomplete, otherwise the packet
/// and how many bytes it took. A size outside `MIN_SIZE..=max_size(max_body)` is reported as
/// soon as its four bytes are there, so a hostile peer cannot make the caller buffer more
/// than one packet of `max_body`.
pub fn decode_limited(buf: &[u8], max_body: usize) -> Result<Option<(Packet<'_>, usize)>, Corrupt> {
    let Some(size) = le_i32(buf, 0) else {
        return Ok(None);
    };
    let max = max_size(max_body);
    if !(MIN_SIZE..=max).contains(&size) {
        return Err(Corrupt::Size { size, max });
    }
    // In range, so positive.
    let Some(total) = usize::try_from(size).ok().and_then(|s| s.checked_add(4)) else {
        return Err(Corrupt::Size { size, max });
    };
    let Some(packet) = buf.get(..total) else {
        return Ok(None);
    };
    let (Some(id), Some(kind)) = (le_i32(packet, 4), le_i32(packet, 8)) else {
        return Ok(None);
    };
    let end = total.saturating_sub(2);
    if packet.get(end..) != Some(&[0, 0][..]) {
        return Err(Corrupt::Terminator);
    }
    let body = packet.get(12..end).unwrap_or(&[]);
    Ok(Some((Packet { id, kind, body }, total)))
}
