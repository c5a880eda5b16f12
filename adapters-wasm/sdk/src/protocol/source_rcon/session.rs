//! The Source RCON session: a sans-IO state machine over a TCP byte stream.
//!
//! The host hands in whatever each read returned and the time; the session buffers the bytes,
//! cuts packets by their size field, and answers with events and the bytes to write. It logs
//! in, then sends one command at a time and collects the `RESPONSE_VALUE` packets carrying
//! the command's wire id until the dialect's [`ReplyEnd`] says the reply is complete. It
//! never reads a clock or touches a socket, and no input makes it panic: a corrupt stream ends
//! the session with `disconnected`, and well-formed packets nobody waits for are dropped
//! (stragglers of a finished or timed-out command silently, anything else counted).
//!
//! Timing: the login must be answered within [`Options::login_timeout_ms`] and a command
//! within [`Options::command_timeout_ms`] (the command then fails and the next one goes out).
//! Source RCON needs no keepalive, so an idle session has no timer.

use std::collections::VecDeque;
use std::marker::PhantomData;

use super::codec::{
    self, MAX_BODY, Packet, SERVERDATA_AUTH, SERVERDATA_AUTH_RESPONSE, SERVERDATA_EXECCOMMAND,
    SERVERDATA_RESPONSE_VALUE,
};
use crate::prelude::*;

/// Default milliseconds the server has to answer the login before the session gives up.
pub const LOGIN_TIMEOUT_MS: u64 = 10_000;
/// Default milliseconds the server has to finish a command's reply before the command fails.
pub const COMMAND_TIMEOUT_MS: u64 = 10_000;
/// Default number of commands waiting to be sent; more are refused.
pub const MAX_QUEUED: usize = 1024;
/// Default most reply bytes kept for one command; the rest is dropped.
pub const MAX_REPLY_BYTES: usize = 4 << 20;
/// Finished commands whose late packets are ignored without counting them.
const RETIRED: usize = 8;

/// How the session tells that a multi-packet reply is complete. Source RCON has no end
/// marker: a long reply is just several `RESPONSE_VALUE` packets with the command's id, so
/// each server family needs one of these tricks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplyEnd {
    /// Right after each command, send a second packet of `kind` with `body` and its own id.
    /// The server handles packets in order, so its answer to the second one arrives after the
    /// whole reply and ends it (that answer and anything else with its id is discarded).
    /// srcds answers an empty `RESPONSE_VALUE` with an empty one ([`ReplyEnd::mirror`], the
    /// Valve wiki's trick; some builds add a second packet, which is ignored). Servers that
    /// do not mirror can use a harmless command (`kind` = `SERVERDATA_EXECCOMMAND`, `body` =
    /// e.g. `b"echo"`) or a packet type they answer with an error text.
    Follower {
        /// The second packet's type.
        kind: i32,
        /// The second packet's body.
        body: Vec<u8>,
    },
    /// A packet whose body is shorter than `full_body` bytes ends the reply (servers that
    /// split long output into full-sized packets). After a full-sized packet, the reply also
    /// ends when nothing more came for `quiet_ms` (the output was an exact multiple).
    ShortPacket {
        /// The body size of a packet that is not the last one.
        full_body: usize,
        /// Milliseconds of silence after a full packet that end the reply.
        quiet_ms: u64,
    },
    /// The reply ends `quiet_ms` after its latest packet (servers with no better signal).
    Quiet {
        /// Milliseconds of silence that end the reply.
        quiet_ms: u64,
    },
    /// Every reply is exactly one packet.
    FirstPacket,
    /// [`Dialect::reply_complete`] decides after each packet.
    Custom,
}

impl ReplyEnd {
    /// The reference server's trick: an empty `RESPONSE_VALUE` after each command.
    pub fn mirror() -> Self {
        ReplyEnd::Follower {
            kind: SERVERDATA_RESPONSE_VALUE,
            body: Vec::new(),
        }
    }

    /// Wire ids one command takes.
    fn ids(&self) -> i32 {
        match self {
            ReplyEnd::Follower { .. } => 2,
            _ => 1,
        }
    }
}

/// The numbers and choices that differ between Source RCON servers. `Options::default()`
/// is the reference server (srcds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// How a multi-packet reply is known to be complete.
    pub reply_end: ReplyEnd,
    /// Largest body accepted from the server; a larger size field is a corrupt stream. It
    /// also bounds what a session buffers for one incomplete packet, so keep it modest.
    pub max_body: usize,
    /// Longest command accepted by [`RconSession::command`], in bytes (what the server reads
    /// in one packet).
    pub max_command_bytes: usize,
    /// The login packet's wire id. Must not be −1, which means "refused".
    pub auth_id: i32,
    /// The first command's wire id; later ones count up from it and start over from it
    /// before reaching `i32::MAX`. Keep it above `auth_id` so no command shares the login's
    /// id.
    pub first_command_id: i32,
    /// Milliseconds the login may stay unanswered.
    pub login_timeout_ms: u64,
    /// Milliseconds a command's reply may take to complete.
    pub command_timeout_ms: u64,
    /// Commands waiting to be sent; more are refused.
    pub max_queued: usize,
    /// Reply bytes kept per command; the rest is dropped and counted.
    pub max_reply_bytes: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            reply_end: ReplyEnd::mirror(),
            max_body: MAX_BODY,
            max_command_bytes: MAX_BODY,
            // 0 as in the protocol's documented capture; only −1 means refused.
            auth_id: 0,
            first_command_id: 2,
            login_timeout_ms: LOGIN_TIMEOUT_MS,
            command_timeout_ms: COMMAND_TIMEOUT_MS,
            max_queued: MAX_QUEUED,
            max_reply_bytes: MAX_REPLY_BYTES,
        }
    }
}

/// What a packet received while logging in means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginAnswer {
    /// The password was accepted.
    Accepted,
    /// The password was refused; the session ends.
    Refused,
    /// Expected noise before the answer (srcds's empty `RESPONSE_VALUE`): ignored quietly.
    Skip,
    /// Not part of a login: dropped and counted.
    Unexpected,
}

/// The Valve wiki's login rules: `AUTH_RESPONSE` with the login's id is accepted, with −1
/// refused; the `RESPONSE_VALUE` srcds sends ahead of it is skipped; anything else is
/// unexpected.
pub fn standard_login_answer(packet: &Packet<'_>, auth_id: i32) -> LoginAnswer {
    match packet.kind {
        SERVERDATA_RESPONSE_VALUE => LoginAnswer::Skip,
        SERVERDATA_AUTH_RESPONSE if packet.id == auth_id => LoginAnswer::Accepted,
        SERVERDATA_AUTH_RESPONSE if packet.id == -1 => LoginAnswer::Refused,
        _ => LoginAnswer::Unexpected,
    }
}

/// A server family's variant of Source RCON: its [`Options`] and, where options cannot say
/// it, callbacks. Every item has a default matching srcds, so `impl Dialect for X {}` is the
/// reference server.
pub trait Dialect: 'static {
    /// The options; asked once per session.
    fn options() -> Options {
        Options::default()
    }

    /// What `packet`, received before the login was answered, means. The default is
    /// [`standard_login_answer`].
    fn login_answer(packet: &Packet<'_>, auth_id: i32) -> LoginAnswer {
        standard_login_answer(packet, auth_id)
    }

    /// For [`ReplyEnd::Custom`]: whether the reply is complete now that a packet with body
    /// `last` arrived (`reply` holds every body so far, `last` included, up to the reply
    /// cap). Never called for the other endings.
    fn reply_complete(_reply: &[u8], _last: &[u8]) -> bool {
        false
    }
}

/// The reference server, srcds (Source and GoldSrc-on-Source games), as the Valve Developer
/// Wiki describes it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Srcds;

impl Dialect for Srcds {}

/// Where the session is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// The login is due (`sent_at` none) or awaiting its answer.
    LoggingIn { sent_at: Option<u64> },
    /// Logged in: commands flow.
    Ready,
    /// Refused, timed out or corrupt; the host drops the session.
    Closed,
}

/// The command sent and awaiting the end of its reply.
struct InFlight {
    /// The caller's id.
    id: u32,
    /// Its wire id; a [`ReplyEnd::Follower`] has `wire + 1`.
    wire: i32,
    /// When it was sent, for the timeout.
    sent_at: u64,
    /// When a packet that may be the last arrived, for the quiet endings.
    quiet_from: Option<u64>,
    /// Reply bytes so far, capped by [`Options::max_reply_bytes`].
    reply: Vec<u8>,
}

/// One Source RCON conversation over one TCP connection, speaking dialect `D`.
///
/// Create it with [`RconSession::new`]; the first `transmit` sends the login.
pub struct Session<D: Dialect = Srcds> {
    /// The dialect's options, asked once.
    options: Options,
    /// Sent by the first `transmit`.
    password: String,
    state: State,
    /// Commands not yet sent (waiting for the login or for the one in flight).
    queue: VecDeque<(u32, String)>,
    in_flight: Option<InFlight>,
    /// Received bytes not yet cut into packets (at most one incomplete packet).
    buffer: Vec<u8>,
    /// The next wire id for a command.
    next_wire: i32,
    next_id: u32,
    /// Recently finished wire ids (first, last) (a ring): their stragglers are expected.
    retired: [Option<(i32, i32)>; RETIRED],
    retired_next: usize,
    /// The latest time any call passed in, so `next_wakeup` can say "now".
    clock: u64,
    dropped: u64,
    dialect: PhantomData<fn() -> D>,
}

impl<D: Dialect> RconSession for Session<D> {
    fn new(password: String, now_ms: u64) -> Self {
        let options = D::options();
        Session {
            next_wire: options.first_command_id,
            options,
            password,
            state: State::LoggingIn { sent_at: None },
            queue: VecDeque::new(),
            in_flight: None,
            buffer: Vec::new(),
            next_id: 1,
            retired: [None; RETIRED],
            retired_next: 0,
            clock: now_ms,
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
        let mut buffer = std::mem::take(&mut self.buffer);
        buffer.extend_from_slice(data);
        let mut pos = 0;
        while self.state != State::Closed {
            let rest = buffer.get(pos..).unwrap_or(&[]);
            match codec::decode_limited(rest, self.options.max_body) {
                Ok(None) => break,
                Ok(Some((p, used))) => {
                    pos += used;
                    self.packet(p, now_ms, &mut events);
                }
                Err(corrupt) => {
                    self.dropped += 1;
                    self.close(SessionEvent::Disconnected(corrupt.to_string()), &mut events);
                    return events;
                }
            }
        }
        if self.state != State::Closed {
            buffer.drain(..pos.min(buffer.len()));
            self.buffer = buffer;
        }
        events
    }

    fn tick(&mut self, now_ms: u64) -> Vec<SessionEvent> {
        self.clock = self.clock.max(now_ms);
        let mut events = Vec::new();
        match self.state {
            State::LoggingIn {
                sent_at: Some(sent_at),
            } if now_ms >= sent_at.saturating_add(self.options.login_timeout_ms) => {
                self.close(
                    SessionEvent::Disconnected(format!(
                        "the server did not answer the login within {} s",
                        self.options.login_timeout_ms / 1000
                    )),
                    &mut events,
                );
            }
            State::Ready => {
                if self.quiet_deadline().is_some_and(|at| now_ms >= at) {
                    self.complete(&mut events);
                } else if let Some(f) = &self.in_flight
                    && now_ms >= f.sent_at.saturating_add(self.options.command_timeout_ms)
                {
                    let (id, wire) = (f.id, f.wire);
                    self.in_flight = None;
                    self.retire(wire);
                    events.push(SessionEvent::CommandFailed(CommandFailure {
                        id,
                        reason: format!(
                            "no reply within {} s",
                            self.options.command_timeout_ms / 1000
                        ),
                    }));
                }
            }
            _ => {}
        }
        events
    }

    fn transmit(&mut self, now_ms: u64) -> Vec<Vec<u8>> {
        self.clock = self.clock.max(now_ms);
        let mut out = Vec::new();
        match self.state {
            State::LoggingIn { sent_at: None } => {
                out.push(codec::encode(
                    self.options.auth_id,
                    SERVERDATA_AUTH,
                    self.password.as_bytes(),
                ));
                self.state = State::LoggingIn {
                    sent_at: Some(now_ms),
                };
            }
            State::Ready if self.in_flight.is_none() => {
                if let Some((id, text)) = self.queue.pop_front() {
                    let wire = self.wire_ids();
                    out.push(codec::encode(wire, SERVERDATA_EXECCOMMAND, text.as_bytes()));
                    if let ReplyEnd::Follower { kind, body } = &self.options.reply_end {
                        out.push(codec::encode(wire.wrapping_add(1), *kind, body));
                    }
                    self.in_flight = Some(InFlight {
                        id,
                        wire,
                        sent_at: now_ms,
                        quiet_from: None,
                        reply: Vec::new(),
                    });
                }
            }
            _ => {}
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
            "RCON",
        )
    }

    fn next_wakeup(&self) -> Option<u64> {
        match self.state {
            State::Closed => None,
            State::LoggingIn { sent_at: None } => Some(self.clock),
            State::LoggingIn {
                sent_at: Some(sent_at),
            } => Some(sent_at.saturating_add(self.options.login_timeout_ms)),
            State::Ready => match &self.in_flight {
                Some(f) => {
                    let timeout = f.sent_at.saturating_add(self.options.command_timeout_ms);
                    Some(self.quiet_deadline().map_or(timeout, |q| q.min(timeout)))
                }
                None if !self.queue.is_empty() => Some(self.clock),
                None => None,
            },
        }
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

    /// Whether the session ended (refused, timed out or corrupt); it then does nothing more.
    pub fn is_closed(&self) -> bool {
        self.state == State::Closed
    }

    /// The first of a fresh run of wire ids for one command, distinct from the login's.
    fn wire_ids(&mut self) -> i32 {
        let first = self.options.first_command_id;
        let n = self.options.reply_end.ids();
        if self.next_wire < first || self.next_wire > i32::MAX - n {
            self.next_wire = first;
        }
        let wire = self.next_wire;
        self.next_wire = wire.wrapping_add(n);
        wire
    }

    /// The last wire id a command starting at `wire` uses.
    fn last_id(&self, wire: i32) -> i32 {
        wire.wrapping_add(self.options.reply_end.ids() - 1)
    }

    /// Remembers a finished command's ids so its late packets are ignored quietly.
    fn retire(&mut self, wire: i32) {
        let last = self.last_id(wire);
        if let Some(slot) = self.retired.get_mut(self.retired_next) {
            *slot = Some((wire, last));
        }
        self.retired_next = (self.retired_next + 1) % RETIRED;
    }

    fn is_retired(&self, id: i32) -> bool {
        self.retired
            .iter()
            .flatten()
            .any(|&(first, last)| id == first || id == last)
    }

    /// When silence ends the reply in flight, for the quiet endings.
    fn quiet_deadline(&self) -> Option<u64> {
        let quiet_ms = match self.options.reply_end {
            ReplyEnd::ShortPacket { quiet_ms, .. } | ReplyEnd::Quiet { quiet_ms } => quiet_ms,
            _ => return None,
        };
        let from = self.in_flight.as_ref()?.quiet_from?;
        Some(from.saturating_add(quiet_ms))
    }

    /// One whole packet from the server.
    fn packet(&mut self, p: Packet<'_>, now_ms: u64, events: &mut Vec<SessionEvent>) {
        match self.state {
            State::LoggingIn { .. } => match D::login_answer(&p, self.options.auth_id) {
                LoginAnswer::Skip => {}
                LoginAnswer::Accepted => {
                    self.state = State::Ready;
                    events.push(SessionEvent::Authenticated);
                }
                LoginAnswer::Refused => self.close(
                    SessionEvent::AuthFailed("the server refused the RCON password".into()),
                    events,
                ),
                LoginAnswer::Unexpected => self.dropped += 1,
            },
            State::Ready if p.kind == SERVERDATA_RESPONSE_VALUE => self.response(p, now_ms, events),
            _ => self.dropped += 1,
        }
    }

    /// A piece of a reply, or the packet that completes it.
    fn response(&mut self, p: Packet<'_>, now_ms: u64, events: &mut Vec<SessionEvent>) {
        let retired = self.is_retired(p.id);
        let follower = matches!(self.options.reply_end, ReplyEnd::Follower { .. });
        let Some(f) = &mut self.in_flight else {
            if !retired {
                self.dropped += 1;
            }
            return;
        };
        if p.id == f.wire {
            let room = self.options.max_reply_bytes.saturating_sub(f.reply.len());
            if p.body.len() > room {
                self.dropped += 1;
            }
            f.reply
                .extend_from_slice(p.body.get(..room.min(p.body.len())).unwrap_or(&[]));
            let done = match self.options.reply_end {
                ReplyEnd::Follower { .. } => false,
                ReplyEnd::FirstPacket => true,
                ReplyEnd::ShortPacket { full_body, .. } => {
                    f.quiet_from = Some(now_ms);
                    p.body.len() < full_body
                }
                ReplyEnd::Quiet { .. } => {
                    f.quiet_from = Some(now_ms);
                    false
                }
                ReplyEnd::Custom => D::reply_complete(&f.reply, p.body),
            };
            if done {
                self.complete(events);
            }
        } else if follower && p.id == f.wire.wrapping_add(1) {
            self.complete(events);
        } else if !retired {
            self.dropped += 1;
        }
    }

    /// The reply in flight is whole: report it and make room for the next command.
    fn complete(&mut self, events: &mut Vec<SessionEvent>) {
        let Some(f) = self.in_flight.take() else {
            return;
        };
        self.retire(f.wire);
        let text = String::from_utf8_lossy(&f.reply).into_owned();
        events.push(SessionEvent::Reply(CommandReply { id: f.id, text }));
    }

    /// Ends the session: every command still waiting fails, then `event` says why.
    fn close(&mut self, event: SessionEvent, events: &mut Vec<SessionEvent>) {
        let reason = match &event {
            SessionEvent::AuthFailed(_) => "the RCON login was refused",
            _ => "the RCON connection was lost",
        };
        let ids = self
            .in_flight
            .take()
            .map(|f| f.id)
            .into_iter()
            .chain(self.queue.drain(..).map(|(id, _)| id));
        for id in ids {
            events.push(SessionEvent::CommandFailed(CommandFailure {
                id,
                reason: reason.to_string(),
            }));
        }
        events.push(event);
        self.buffer = Vec::new();
        self.state = State::Closed;
    }
}
