//! The Source RCON session: a sans-IO state machine over a TCP byte stream.
//!
//! The host hands in whatever each read returned and the time; the session buffers the bytes,
//! cuts packets by their size field, and answers with events and the bytes to write. It logs
//! in, then sends one command at a time: the command with wire id N, immediately followed by
//! an empty `RESPONSE_VALUE` with id N+1 (the "mirror"). The server runs commands in order and
//! answers the mirror only after the whole reply, so bodies with id N are collected until a
//! packet with id N+1 arrives, and then the reply is complete. It never reads a clock or
//! touches a socket, and no input makes it panic: a corrupt stream ends the session with
//! `disconnected`, and well-formed packets nobody waits for are dropped (stragglers of a
//! finished or timed-out command silently, anything else counted).
//!
//! Timing: the login must be answered within [`LOGIN_TIMEOUT_MS`] and a command within
//! [`COMMAND_TIMEOUT_MS`] (the command then fails and the next one goes out). Source RCON
//! needs no keepalive, so an idle session has no timer.

use std::collections::VecDeque;

use garrison_adapter_sdk::prelude::*;

use crate::packet::{
    self, MAX_BODY, SERVERDATA_AUTH, SERVERDATA_AUTH_RESPONSE, SERVERDATA_EXECCOMMAND,
    SERVERDATA_RESPONSE_VALUE,
};

/// Milliseconds the server has to answer the login before the session gives up.
pub const LOGIN_TIMEOUT_MS: u64 = 10_000;
/// Milliseconds the server has to finish a command's reply before the command fails.
pub const COMMAND_TIMEOUT_MS: u64 = 10_000;
/// Commands waiting to be sent; more are refused.
pub const MAX_QUEUED: usize = 1024;
/// Most reply bytes kept for one command; the rest is dropped.
pub const MAX_REPLY_BYTES: usize = 4 << 20;
/// Wire ids of finished commands whose late packets are ignored without counting them.
const RETIRED: usize = 8;
/// The wire id of the login (0, as in the protocol's documented capture; only -1 means
/// refused); commands use the ids after it.
const AUTH_WIRE_ID: i32 = 0;
/// The wire id of the first command (its mirror takes the next one).
const FIRST_COMMAND_WIRE_ID: i32 = 2;

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
    /// Its wire id; the mirror has `wire + 1`.
    wire: i32,
    /// When it was sent, for the timeout.
    sent_at: u64,
    /// Reply bytes so far, capped by [`MAX_REPLY_BYTES`].
    reply: Vec<u8>,
}

/// One Source RCON conversation over one TCP connection.
pub struct SourceRconSession {
    /// Sent by the first `transmit`.
    password: String,
    state: State,
    /// Commands not yet sent (waiting for the login or for the one in flight).
    queue: VecDeque<(u32, String)>,
    in_flight: Option<InFlight>,
    /// Received bytes not yet cut into packets (at most one incomplete packet).
    buffer: Vec<u8>,
    /// The next wire id for a command (always odd-aligned pairs after the login's).
    next_wire: i32,
    next_id: u32,
    /// Recently finished wire ids (a ring): their stragglers are expected, not hostile.
    retired: [Option<i32>; RETIRED],
    retired_next: usize,
    /// The latest time any call passed in, so `next_wakeup` can say "now".
    clock: u64,
    dropped: u64,
}

impl RconSession for SourceRconSession {
    fn new(password: String, now_ms: u64) -> Self {
        SourceRconSession {
            password,
            state: State::LoggingIn { sent_at: None },
            queue: VecDeque::new(),
            in_flight: None,
            buffer: Vec::new(),
            next_wire: FIRST_COMMAND_WIRE_ID,
            next_id: 1,
            retired: [None; RETIRED],
            retired_next: 0,
            clock: now_ms,
            dropped: 0,
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
            match packet::decode(buffer.get(pos..).unwrap_or(&[])) {
                Ok(None) => break,
                Ok(Some((p, used))) => {
                    pos += used;
                    self.packet(p, &mut events);
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
            } if now_ms >= sent_at.saturating_add(LOGIN_TIMEOUT_MS) => {
                self.close(
                    SessionEvent::Disconnected(format!(
                        "the server did not answer the login within {} s",
                        LOGIN_TIMEOUT_MS / 1000
                    )),
                    &mut events,
                );
            }
            State::Ready => {
                if let Some(f) = &self.in_flight
                    && now_ms >= f.sent_at.saturating_add(COMMAND_TIMEOUT_MS)
                {
                    let (id, wire) = (f.id, f.wire);
                    self.in_flight = None;
                    self.retire(wire);
                    events.push(SessionEvent::CommandFailed(CommandFailure {
                        id,
                        reason: format!("no reply within {} s", COMMAND_TIMEOUT_MS / 1000),
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
                out.push(packet::encode(
                    AUTH_WIRE_ID,
                    SERVERDATA_AUTH,
                    self.password.as_bytes(),
                ));
                self.state = State::LoggingIn {
                    sent_at: Some(now_ms),
                };
            }
            State::Ready if self.in_flight.is_none() => {
                if let Some((id, text)) = self.queue.pop_front() {
                    let wire = self.wire_pair();
                    out.push(packet::encode(
                        wire,
                        SERVERDATA_EXECCOMMAND,
                        text.as_bytes(),
                    ));
                    out.push(packet::encode(
                        wire.wrapping_add(1),
                        SERVERDATA_RESPONSE_VALUE,
                        b"",
                    ));
                    self.in_flight = Some(InFlight {
                        id,
                        wire,
                        sent_at: now_ms,
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
        if self.state == State::Closed {
            return Err(AdapterError::Failed("the RCON session is closed".into()));
        }
        garrison_adapter_sdk::check_command_text(text, MAX_BODY)?;
        if self.queue.len() >= MAX_QUEUED {
            return Err(AdapterError::Failed(
                "too many RCON commands are waiting".into(),
            ));
        }
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1);
        self.queue.push_back((id, text.to_string()));
        Ok(id)
    }

    fn next_wakeup(&self) -> Option<u64> {
        match self.state {
            State::Closed => None,
            State::LoggingIn { sent_at: None } => Some(self.clock),
            State::LoggingIn {
                sent_at: Some(sent_at),
            } => Some(sent_at.saturating_add(LOGIN_TIMEOUT_MS)),
            State::Ready => match &self.in_flight {
                Some(f) => Some(f.sent_at.saturating_add(COMMAND_TIMEOUT_MS)),
                None if !self.queue.is_empty() => Some(self.clock),
                None => None,
            },
        }
    }

    fn dropped(&self) -> u64 {
        self.dropped
    }
}

impl SourceRconSession {
    /// A fresh pair of wire ids (command, mirror), positive and distinct from the login's.
    fn wire_pair(&mut self) -> i32 {
        if self.next_wire < FIRST_COMMAND_WIRE_ID || self.next_wire >= i32::MAX - 1 {
            self.next_wire = FIRST_COMMAND_WIRE_ID;
        }
        let wire = self.next_wire;
        self.next_wire += 2;
        wire
    }

    /// Remembers a finished command's ids so its late packets are ignored quietly.
    fn retire(&mut self, wire: i32) {
        if let Some(slot) = self.retired.get_mut(self.retired_next) {
            *slot = Some(wire);
        }
        self.retired_next = (self.retired_next + 1) % RETIRED;
    }

    fn is_retired(&self, id: i32) -> bool {
        self.retired
            .iter()
            .flatten()
            .any(|&wire| id == wire || id == wire.wrapping_add(1))
    }

    /// One whole packet from the server.
    fn packet(&mut self, p: packet::Packet<'_>, events: &mut Vec<SessionEvent>) {
        match (self.state, p.kind) {
            // The empty RESPONSE_VALUE the server sends ahead of its login answer.
            (State::LoggingIn { .. }, SERVERDATA_RESPONSE_VALUE) => {}
            (State::LoggingIn { .. }, SERVERDATA_AUTH_RESPONSE) if p.id == AUTH_WIRE_ID => {
                self.state = State::Ready;
                events.push(SessionEvent::Authenticated);
            }
            (State::LoggingIn { .. }, SERVERDATA_AUTH_RESPONSE) if p.id == -1 => {
                self.close(
                    SessionEvent::AuthFailed("the server refused the RCON password".into()),
                    events,
                );
            }
            (State::Ready, SERVERDATA_RESPONSE_VALUE) => self.response(p, events),
            _ => self.dropped += 1,
        }
    }

    /// A piece of a reply, or the answer to a mirror that completes it.
    fn response(&mut self, p: packet::Packet<'_>, events: &mut Vec<SessionEvent>) {
        let retired = self.is_retired(p.id);
        match &mut self.in_flight {
            Some(f) if p.id == f.wire => {
                let room = MAX_REPLY_BYTES.saturating_sub(f.reply.len());
                if p.body.len() > room {
                    self.dropped += 1;
                }
                f.reply
                    .extend_from_slice(p.body.get(..room.min(p.body.len())).unwrap_or(&[]));
            }
            Some(f) if p.id == f.wire.wrapping_add(1) => {
                let (id, wire) = (f.id, f.wire);
                let text = String::from_utf8_lossy(&f.reply).into_owned();
                self.in_flight = None;
                self.retire(wire);
                events.push(SessionEvent::Reply(CommandReply { id, text }));
            }
            _ if retired => {}
            _ => self.dropped += 1,
        }
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
