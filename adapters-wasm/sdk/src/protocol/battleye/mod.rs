//! BattlEye RCon (protocol v2) over UDP: the packet codec and a session.
//!
//! The wire format is BattlEye's RCon protocol document: `'B' 'E'`, a CRC-32 of the rest, then
//! `0xFF`, a type and a payload. Login (`0x00`) carries the password and is answered `0x01`
//! (accepted) or `0x00`; commands (`0x01`) carry a one-byte sequence and are answered with the
//! same sequence, long replies in several fragments (`0x00 count index`) that may arrive in any
//! order; server messages (`0x02`) carry a sequence the client must acknowledge. The server
//! forgets a client that sent no command for 45 s.
//!
//! - [`codec`] (re-exported here) — [`encode`], [`decode`], [`login`], [`command`], [`ack`],
//!   [`crc32`]; stateless, one datagram at a time.
//! - [`Session`] — implements [`RconSession`](crate::RconSession), so an adapter can name
//!   `battleye::Session` as its `Session` type. It logs in (resending a lost login), maps
//!   wrapping sequences to ids, reassembles fragments, acknowledges and de-duplicates server
//!   messages, retransmits lost commands, keeps the login alive and notices a silent server.
//! - [`Dialect`] — [`Options`] for the timers and limits; [`Standard`] is the documented
//!   protocol.
//!
//! # Example
//!
//! ```
//! use garrison_adapter_sdk::RconSession;
//! use garrison_adapter_sdk::prelude::SessionEvent;
//! use garrison_adapter_sdk::protocol::battleye::{self, COMMAND, LOGIN, MESSAGE};
//!
//! // In the adapter: `type Session = battleye::Session;` (the documented protocol).
//! let mut session = battleye::Session::<battleye::Standard>::new("secret".into(), 0);
//! let id = session.command("players", 0)?;
//! assert_eq!(session.transmit(0), vec![battleye::login("secret")]);
//! let events = session.receive(&battleye::encode(LOGIN, &[1]), 3);
//! assert!(matches!(events[..], [SessionEvent::Authenticated]));
//! // The command goes out with sequence 0; its reply comes in two fragments.
//! assert_eq!(session.transmit(3), vec![battleye::command(0, "players")]);
//! assert!(session.receive(&battleye::encode(COMMAND, b"\x00\x00\x02\x01 on server"), 5).is_empty());
//! let events = session.receive(&battleye::encode(COMMAND, b"\x00\x00\x02\x00Players"), 6);
//! assert!(matches!(&events[..], [SessionEvent::Reply(r)] if r.id == id && r.text == "Players on server"));
//! // A server message is shown and its acknowledgement goes out with the next transmit.
//! let events = session.receive(&battleye::encode(MESSAGE, b"\x07(Global) hi"), 7);
//! assert!(matches!(&events[..], [SessionEvent::Message(m)] if m == "(Global) hi"));
//! assert_eq!(session.transmit(7), vec![battleye::ack(7)]);
//! # Ok::<(), garrison_adapter_sdk::AdapterError>(())
//! ```

pub mod codec;
mod session;

pub use codec::{
    COMMAND, DecodeError, HEADER_LEN, LOGIN, MAX_DATAGRAM, MESSAGE, Packet, ReplyBody, ack,
    command, crc32, decode, encode, login,
};
pub use session::{
    Dialect, KEEPALIVE_MS, MAX_ATTEMPTS, MAX_COMMAND_BYTES, MAX_IN_FLIGHT, MAX_QUEUED,
    MAX_REPLY_BYTES, Options, RETRANSMIT_MS, SILENCE_MS, Session, Standard,
};

#[cfg(test)]
mod tests;
