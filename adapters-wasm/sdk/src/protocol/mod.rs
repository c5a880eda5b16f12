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

use std::collections::VecDeque;

use crate::AdapterError;

/// Queues a console command for a session of `protocol` (named in errors): refused when the
/// session is closed, the text is not one line of at most `max_bytes`, or `max_queued`
/// commands already wait; otherwise it gets the next id (which wraps).
pub(crate) fn enqueue_command(
    queue: &mut VecDeque<(u32, String)>,
    next_id: &mut u32,
    closed: bool,
    text: &str,
    (max_bytes, max_queued): (usize, usize),
    protocol: &str,
) -> Result<u32, AdapterError> {
    if closed {
        return Err(AdapterError::Failed(format!(
            "the {protocol} session is closed"
        )));
    }
    crate::check_command_text(text, max_bytes)?;
    if queue.len() >= max_queued {
        return Err(AdapterError::Failed(format!(
            "too many {protocol} commands are waiting"
        )));
    }
    let id = *next_id;
    *next_id = next_id.wrapping_add(1);
    queue.push_back((id, text.to_string()));
    Ok(id)
}
