//! Source RCON over TCP: the packet codec and a session for the reference server (srcds) and
//! its many variants.
//!
//! The wire format is the Valve Developer Wiki's "Source RCON Protocol": little-endian
//! `size, id, type`, a body and two NULs; a login (`SERVERDATA_AUTH`) answered by an
//! `AUTH_RESPONSE` with the login's id or −1; commands (`EXECCOMMAND`) answered by one or more
//! `RESPONSE_VALUE` packets with the command's id and no end marker.
//!
//! - [`codec`] (re-exported here) — [`encode`] and [`decode`]/[`decode_limited`] one packet,
//!   the `SERVERDATA_*` types and size limits; stateless.
//! - [`Session`] — implements [`RconSession`](crate::RconSession), so an adapter can name
//!   `source_rcon::Session<MyDialect>` as its `Session` type. It buffers the stream, logs in,
//!   sends one command at a time, reassembles multi-packet replies, times out, and never
//!   panics on what the server sends.
//! - [`Dialect`] — what differs between servers: [`Options`] (how a reply is known to be
//!   complete, [`ReplyEnd`]; body and command size limits; ids; timeouts) and callbacks (the
//!   login's answer, a custom end-of-reply test). [`Srcds`] is the reference server.
//!
//! # Example: a server that does not mirror
//!
//! Minecraft's RCON, for instance, reads commands of at most 1446 bytes and does not echo an
//! empty `RESPONSE_VALUE`; it does answer a packet of an unknown type (with an error text),
//! after the reply of the command before it, so that packet can end each reply:
//!
//! ```
//! use garrison_adapter_sdk::RconSession;
//! use garrison_adapter_sdk::prelude::SessionEvent;
//! use garrison_adapter_sdk::protocol::source_rcon::{
//!     self, Dialect, Options, ReplyEnd, SERVERDATA_AUTH_RESPONSE, SERVERDATA_RESPONSE_VALUE,
//! };
//!
//! /// The dialect (a unit type: everything is decided by its associated functions).
//! struct Minecraft;
//!
//! impl Dialect for Minecraft {
//!     fn options() -> Options {
//!         Options {
//!             reply_end: ReplyEnd::Follower { kind: 200, body: Vec::new() },
//!             max_command_bytes: 1446,
//!             ..Options::default()
//!         }
//!     }
//! }
//!
//! // In the adapter: `type Session = source_rcon::Session<Minecraft>;`
//! let mut session = source_rcon::Session::<Minecraft>::new("secret".into(), 0);
//! let id = session.command("list", 0)?;
//! // The host writes what `transmit` returns: first the login.
//! assert_eq!(session.transmit(0), vec![source_rcon::encode(0, 3, b"secret")]);
//! let events = session.receive(&source_rcon::encode(0, SERVERDATA_AUTH_RESPONSE, b""), 5);
//! assert!(matches!(events[..], [SessionEvent::Authenticated]));
//! // Then the command (wire id 2) and the packet that ends its reply (wire id 3).
//! assert_eq!(session.transmit(5).len(), 2);
//! let mut stream = source_rcon::encode(2, SERVERDATA_RESPONSE_VALUE, b"There are 0 of 20");
//! stream.extend(source_rcon::encode(3, SERVERDATA_RESPONSE_VALUE, b"Unknown request c8"));
//! let events = session.receive(&stream, 9);
//! assert!(matches!(&events[..], [SessionEvent::Reply(r)] if r.id == id && r.text == "There are 0 of 20"));
//! # Ok::<(), garrison_adapter_sdk::AdapterError>(())
//! ```

pub mod codec;
mod session;

pub use codec::{
    Corrupt, MAX_BODY, MAX_SIZE, MIN_SIZE, OVERHEAD, Packet, SERVERDATA_AUTH,
    SERVERDATA_AUTH_RESPONSE, SERVERDATA_EXECCOMMAND, SERVERDATA_RESPONSE_VALUE, decode,
    decode_limited, encode, max_size,
};
pub use session::{
    COMMAND_TIMEOUT_MS, Dialect, LOGIN_TIMEOUT_MS, LoginAnswer, MAX_QUEUED, MAX_REPLY_BYTES,
    Options, ReplyEnd, Session, Srcds, standard_login_answer,
};

#[cfg(test)]
mod tests;
