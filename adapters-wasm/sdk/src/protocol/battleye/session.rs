//! The BattlEye RCon session: a sans-IO state machine over UDP datagrams.
//!
//! The host hands in datagrams and the time; the session answers with events and the
//! datagrams to send. It logs in, sends commands (one-byte wire sequences mapped to the
//! session's own `u32` ids), reassembles multi-packet replies in any order, acknowledges and
//! de-duplicates server messages, retransmits lost commands, keeps the connection alive and
//! notices a silent server. It never reads a clock or touches a socket, and no input makes it
//! panic: malformed datagrams are dropped and counted.
//!
//! Sequences: commands carry a one-byte sequence that wraps from 255 to 0; the session maps
//! them to its own `u32` ids and never reuses a sequence whose reply is still awaited (at most
//! [`Options::max_in_flight`] commands are out at once). Server messages carry their own
//! sequence, which is acknowledged every time it arrives and shown once.
//!
//! Timing: a command (or the login) is resent after [`Options::retransmit_ms`] without a reply
//! and fails after [`Options::max_attempts`] sends; an empty command goes out when no command
//! was sent for [`Options::keepalive_ms`]; nothing heard for [`Options::silence_ms`] means the
//! server is gone.

use std::collections::VecDeque;
use std::marker::PhantomData;

use super::codec::{self, Packet, ReplyBody};
use crate::prelude::*;

/// Default milliseconds without a reply before a command or the login is sent again.
pub const RETRANSMIT_MS: u64 = 2_000;
/// Default sends of one command (or the login) before it is given up.
pub const MAX_ATTEMPTS: u32 = 3;
/// Default milliseconds without a command sent before an empty one keeps the login alive
/// (BattlEye forgets clients that sent no command for 45 s).
pub const KEEPALIVE_MS: u64 = 30_000;
/// Default milliseconds without hearing from the server before the session counts as
/// disconnected.
pub const SILENCE_MS: u64 = 45_000;
/// Default commands awaiting a reply at once; more wait in the queue.
pub const MAX_IN_FLIGHT: usize = 16;
/// Default commands waiting to be sent; more are refused.
pub const MAX_QUEUED: usize = 1024;
/// Default longest command accepted, in bytes (it must fit one datagram).
pub const MAX_COMMAND_BYTES: usize = 4_000;
/// Default most reply bytes buffered for one command; fragments beyond are dropped.
pub const MAX_REPLY_BYTES: usize = 4 << 20;
/// Server message sequences remembered to recognise retransmissions (the server resends an
/// unacknowledged message a few times, so a short memory is enough).
const RECENT_MESSAGES: usize = 16;

/// The numbers that may differ between BattlEye servers or deployments.
/// `Options::default()` follows BattlEye's protocol document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Milliseconds without a reply before a command or the login is sent again.
    pub retransmit_ms: u64,
    /// Sends of one command (or the login) before it is given up (at least one is made).
    pub max_attempts: u32,
    /// Milliseconds without a command sent before an empty command keeps the login alive;
    /// keep it well below the server's 45 s.
    pub keepalive_ms: u64,
    /// Milliseconds without hearing anything valid before the session is disconnected.
    pub silence_ms: u64,
    /// Commands awaiting a reply at once (at most 256: the sequence is one byte).
    pub max_in_flight: usize,
    /// Commands waiting to be sent; more are refused.
    pub max_queued: usize,
    /// Longest command accepted, in bytes.
    pub max_command_bytes: usize,
    /// Reply bytes buffered per command; fragments beyond are dropped and counted.
    pub max_reply_bytes: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            retransmit_ms: RETRANSMIT_MS,
            max_attempts: MAX_ATTEMPTS,
            keepalive_ms: KEEPALIVE_MS,
            silence_ms: SILENCE_MS,
            max_in_flight: MAX_IN_FLIGHT,
            max_queued: MAX_QUEUED,
            max_command_bytes: MAX_COMMAND_BYTES,
            max_reply_bytes: MAX_REPLY_BYTES,
        }
    }
}

/// A game's or deployment's BattlEye settings. Every item has a default, so
/// `impl Dialect for X {}` is the protocol as documented.
pub trait Dialect: 'static {
    /// The options; asked once per session.
    fn options() -> Options {
        Options::default()
    }
}

/// BattlEye RCon as its protocol document describes it (Arma 2/3, DayZ, …).
#[derive(Debug, Clone, Copy, Default)]
pub struct Standard;

impl Dialect for Standard {}

/// Where the session is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// The login is due (`sent_at` none) or awaiting its answer.
    LoggingIn { sent_at: Option<u64>, attempts: u32 },
    /// Logged in: commands flow.
    Ready,
    /// Refused or disconnected; the host drops the session.
    Closed,
}

/// A command sent and awaiting its reply.
struct InFlight {
    /// Its wire sequence.
    seq: u8,
    /// The caller's id; none for a keepalive, whose reply nobody waits for.
    id: Option<u32>,
    /// The encoded packet, kept for retransmission.
    packet: Vec<u8>,
    /// When it was last sent (or a fragment of its reply last arrived).
    sent_at: u64,
    /// How many times it was sent.
    attempts: u32,
    /// Fragments received so far; empty until the first one arrives.
    parts: Vec<Option<Vec<u8>>>,
    /// Bytes held in `parts`, capped by [`MAX_REPLY_BYTES`].
    buffered: usize,
}

/// One BattlEye RCon conversation, with dialect `D`'s options.
///
/// Create it with [`RconSession::new`]; the first `transmit` sends the login.
pub struct Session<D: Dialect = Standard> {
    /// The dialect's options, asked once.
    options: Options,
    /// Kept to resend the login when its answer is lost.
    password: String,
    state: State,
    /// Acknowledgements of server messages, sent by the next `transmit`.
    acks: Vec<Vec<u8>>,
    /// Commands due to be sent again, sent by the next `transmit`.
    resend: Vec<Vec<u8>>,
    /// Commands not yet sent (waiting for the login or a free slot).
    queue: VecDeque<(u32, String)>,
    in_flight: Vec<InFlight>,
    next_seq: u8,
    next_id: u32,
    /// Whether `tick` found the connection idle long enough for a keepalive.
    keepalive_due: bool,
    /// When a command or the login was last sent (acks do not keep a login alive).
    last_command: u64,
    /// When a valid packet last arrived.
    last_heard: u64,
    /// The latest time any call passed in, so `next_wakeup` can say "now".
    clock: u64,
    /// Recently shown server message sequences (a ring).
    recent: [Option<u8>; RECENT_MESSAGES],
    recent_next: usize,
    dropped: u64,
    dialect: PhantomData<fn() -> D>,
}

impl<D: Dialect> RconSession for Session<D> {
    fn new(password: String, now_ms: u64) -> Self {
        Session {
            options: D::options(),
            password,
            state: State::LoggingIn {
                sent_at: None,
                attempts: 0,
            },
            acks: Vec::new(),
            resend: Vec::new(),
            queue: VecDeque::new(),
            in_flight: Vec::new(),
            next_seq: 0,
            next_id: 1,
            keepalive_due: false,
            last_command: now_ms,
            last_heard: now_ms,
            clock: now_ms,
            recent: [None; RECENT_MESSAGES],
            recent_next: 0,
            dropped: 0,
            dialect: PhantomData,
        }
    }

    fn receive(&mut self, data: &[u8], now_ms: u64) -> Vec<SessionEvent> {
        self.clock = self.clock.max(now_ms);
        let mut events = Vec::new();
        if self.state == State::Closed {
            return events;
        }
        let packet = match codec::decode(data) {
            Ok(packet) => packet,
            Err(_) => {
                self.dropped += 1;
                return events;
            }
        };
        self.last_heard = now_ms;
        match packet {
            Packet::Login { accepted } => {
                if matches!(self.state, State::LoggingIn { .. }) {
                    if accepted {
                        self.state = State::Ready;
                        self.last_command = now_ms;
                        events.push(SessionEvent::Authenticated);
                    } else {
                        self.close(
                            SessionEvent::AuthFailed(
                                "the server refused the RCon password".to_string(),
                            ),
                            &mut events,
                        );
                    }
                }
            }
            Packet::Reply { seq, body } => self.reply(seq, body, now_ms, &mut events),
            Packet::Message { seq, text } => {
                self.acks.push(codec::ack(seq));
                if !self.recent.contains(&Some(seq)) {
                    if let Some(slot) = self.recent.get_mut(self.recent_next) {
                        *slot = Some(seq);
                    }
                    self.recent_next = (self.recent_next + 1) % RECENT_MESSAGES;
                    events.push(SessionEvent::Message(lossy(text)));
                }
            }
        }
        events
    }

    fn tick(&mut self, now_ms: u64) -> Vec<SessionEvent> {
        self.clock = self.clock.max(now_ms);
        let mut events = Vec::new();
        if self.state == State::Closed {
            return events;
        }
        if now_ms >= self.last_heard.saturating_add(self.options.silence_ms) {
            self.close(
                SessionEvent::Disconnected(format!(
                    "no answer from the server for {} s",
                    self.options.silence_ms / 1000
                )),
                &mut events,
            );
            return events;
        }
        match self.state {
            State::LoggingIn {
                sent_at: Some(sent_at),
                attempts,
            } if now_ms >= sent_at.saturating_add(self.options.retransmit_ms) => {
                if attempts >= self.options.max_attempts {
                    self.close(
                        SessionEvent::Disconnected("the server did not answer the login".into()),
                        &mut events,
                    );
                } else {
                    self.state = State::LoggingIn {
                        sent_at: None,
                        attempts,
                    };
                }
            }
            State::Ready => {
                self.retransmit(now_ms, &mut events);
                if now_ms >= self.last_command.saturating_add(self.options.keepalive_ms) {
                    self.keepalive_due = true;
                }
            }
            _ => {}
        }
        events
    }

    fn transmit(&mut self, now_ms: u64) -> Vec<Vec<u8>> {
        self.clock = self.clock.max(now_ms);
        if self.state == State::Closed {
            return Vec::new();
        }
        let mut out = std::mem::take(&mut self.acks);
        let mut sent_command = !self.resend.is_empty();
        out.append(&mut self.resend);
        match self.state {
            State::LoggingIn {
                sent_at: None,
                attempts,
            } => {
                out.push(codec::login(&self.password));
                self.state = State::LoggingIn {
                    sent_at: Some(now_ms),
                    attempts: attempts.saturating_add(1),
                };
                sent_command = true;
            }
            State::Ready => {
                while self.queue.front().is_some() && self.seq_free() {
                    let Some((id, text)) = self.queue.pop_front() else {
                        break;
                    };
                    out.push(self.send(Some(id), &text, now_ms));
                    sent_command = true;
                }
                if self.keepalive_due && !sent_command && self.seq_free() {
                    out.push(self.send(None, "", now_ms));
                    sent_command = true;
                }
                self.keepalive_due = false;
            }
            _ => {}
        }
        if sent_command {
            self.last_command = now_ms;
        }
        out
    }

    fn command(&mut self, text: &str, now_ms: u64) -> Result<u32, AdapterError> {
        self.clock = self.clock.max(now_ms);
        super::super::enqueue_command(
            &mut self.queue,
            &mut self.next_id,
            self.state == State::Closed,
            text,
            (self.options.max_command_bytes, self.options.max_queued),
            "RCon",
        )
    }

    fn next_wakeup(&self) -> Option<u64> {
        let mut at = self.last_heard.saturating_add(self.options.silence_ms);
        match self.state {
            State::Closed => return None,
            State::LoggingIn { sent_at: None, .. } => at = at.min(self.clock),
            State::LoggingIn {
                sent_at: Some(sent_at),
                ..
            } => at = at.min(sent_at.saturating_add(self.options.retransmit_ms)),
            State::Ready => {
                at = at.min(self.last_command.saturating_add(self.options.keepalive_ms));
                for f in &self.in_flight {
                    at = at.min(f.sent_at.saturating_add(self.options.retransmit_ms));
                }
                let sendable = !self.queue.is_empty() && self.seq_free();
                if sendable || self.keepalive_due {
                    at = at.min(self.clock);
                }
            }
        }
        if !self.acks.is_empty() || !self.resend.is_empty() {
            at = at.min(self.clock);
        }
        Some(at)
    }

    fn dropped(&self) -> u64 {
        self.dropped
    }
}

impl<D: Dialect> Session<D> {
    /// The options this session runs with.
    pub fn options(&self) -> &Options {
        &self.options
    }

    /// Whether the login was accepted and the session is not closed.
    pub fn is_ready(&self) -> bool {
        self.state == State::Ready
    }

    /// Whether the session ended (refused or silent); it then does nothing more.
    pub fn is_closed(&self) -> bool {
        self.state == State::Closed
    }

    /// Whether another command can go out now: below the in-flight cap, and the next wire
    /// sequence is not still awaiting its reply.
    fn seq_free(&self) -> bool {
        self.in_flight.len() < self.options.max_in_flight
            && self.in_flight.iter().all(|f| f.seq != self.next_seq)
    }

    /// Encodes a command with the next sequence and tracks it.
    fn send(&mut self, id: Option<u32>, text: &str, now_ms: u64) -> Vec<u8> {
        let seq = self.next_seq;
        self.next_seq = self.next_seq.wrapping_add(1);
        let packet = codec::command(seq, text);
        self.in_flight.push(InFlight {
            seq,
            id,
            packet: packet.clone(),
            sent_at: now_ms,
            attempts: 1,
            parts: Vec::new(),
            buffered: 0,
        });
        packet
    }

    /// Resends overdue commands; fails those out of attempts; forgets overdue keepalives.
    fn retransmit(&mut self, now_ms: u64, events: &mut Vec<SessionEvent>) {
        let mut i = 0;
        while let Some(f) = self.in_flight.get_mut(i) {
            if now_ms < f.sent_at.saturating_add(self.options.retransmit_ms) {
                i += 1;
                continue;
            }
            if f.id.is_some() && f.attempts < self.options.max_attempts {
                f.attempts += 1;
                f.sent_at = now_ms;
                self.resend.push(f.packet.clone());
                i += 1;
                continue;
            }
            let f = self.in_flight.swap_remove(i);
            if let Some(id) = f.id {
                events.push(SessionEvent::CommandFailed(CommandFailure {
                    id,
                    reason: format!("no reply after {} attempts", self.options.max_attempts),
                }));
            }
        }
    }

    /// A command reply, whole or a fragment.
    fn reply(&mut self, seq: u8, body: ReplyBody<'_>, now_ms: u64, events: &mut Vec<SessionEvent>) {
        let Some(pos) = self.in_flight.iter().position(|f| f.seq == seq) else {
            return; // a late duplicate of a reply already taken, or a stray
        };
        let text = match body {
            ReplyBody::Whole(data) => lossy(data),
            ReplyBody::Part { count, index, data } => {
                let Some(f) = self.in_flight.get_mut(pos) else {
                    return;
                };
                if f.parts.is_empty() {
                    f.parts = vec![None; usize::from(count)];
                }
                let fits = f.buffered.saturating_add(data.len()) <= self.options.max_reply_bytes
                    && f.parts.len() == usize::from(count);
                match f.parts.get_mut(usize::from(index)) {
                    Some(slot) if fits => {
                        if slot.is_none() {
                            f.buffered += data.len();
                            *slot = Some(data.to_vec());
                        }
                    }
                    _ => {
                        self.dropped += 1;
                        return;
                    }
                }
                // The reply is arriving: do not resend the command meanwhile.
                f.sent_at = now_ms;
                if f.parts.iter().any(Option::is_none) {
                    return;
                }
                let whole: Vec<u8> = f.parts.iter().flatten().flatten().copied().collect();
                lossy(&whole)
            }
        };
        let f = self.in_flight.swap_remove(pos);
        if let Some(id) = f.id {
            events.push(SessionEvent::Reply(CommandReply { id, text }));
        }
    }

    /// Ends the session: every command still waiting fails, then `event` says why.
    fn close(&mut self, event: SessionEvent, events: &mut Vec<SessionEvent>) {
        let reason = match &event {
            SessionEvent::AuthFailed(_) => "the RCon login was refused",
            _ => "the RCon connection was lost",
        };
        let ids = self
            .in_flight
            .drain(..)
            .filter_map(|f| f.id)
            .chain(self.queue.drain(..).map(|(id, _)| id));
        for id in ids {
            events.push(SessionEvent::CommandFailed(CommandFailure {
                id,
                reason: reason.to_string(),
            }));
        }
        events.push(event);
        self.acks.clear();
        self.resend.clear();
        self.state = State::Closed;
    }
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
