//! Tests of the BattlEye module: golden byte vectors, the session's sequences, fragments,
//! acknowledgements and timers under non-default options, and property tests that no
//! datagram panics.

mod codec;
mod props;
mod session;
