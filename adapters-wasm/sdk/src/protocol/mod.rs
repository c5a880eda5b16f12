//! Remote-console protocols many games share, as building blocks for adapters.
//!
//! Each protocol comes as two layers, both pure (sans-IO): a stateless wire codec (bytes to
//! packets and back) and a session that implements [`RconSession`](crate::RconSession), so an
//! adapter can name it as its `Session` type. What differs from game to game is a
//! *dialect*: a small trait whose options and callbacks the session consults, with defaults
//! that match the protocol's reference server.
//!
//! - [`source_rcon`] — Valve's Source RCON over TCP (srcds games, and the many servers that
//!   speak a variant of it: Minecraft, Rust, ARK, Factorio, Palworld, …);
//! - [`battleye`] — BattlEye RCon (v2) over UDP (Arma 2/3, DayZ, …).
//!
//! These modules know protocols, never games: command texts and reply parsing stay in the
//! adapter. Facts come from the public specifications (the Valve Developer Wiki's
//! "Source RCON Protocol" and BattlEye's RCon protocol document).

pub mod battleye;
pub mod source_rcon;
