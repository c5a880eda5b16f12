//! The Source RCON session: login, the mirror trick and multi-packet replies, every read
//! boundary, timeouts, and hostile input.

use super::dbg;
use crate::SourceRconSession;
use garrison_adapter_sdk::prelude::*;
use garrison_adapter_sdk::protocol::source_rcon::{
    COMMAND_TIMEOUT_MS, LOGIN_TIMEOUT_MS, SERVERDATA_AUTH, SERVERDATA_AUTH_RESPONSE,
    SERVERDATA_EXECCOMMAND, SERVERDATA_RESPONSE_VALUE, encode,
};

const T0: u64 = 1_000_000;
/// The wire id of the login.
const AUTH: i32 = 0;

fn value(id: i32, body: &[u8]) -> Vec<u8> {
    encode(id, SERVERDATA_RESPONSE_VALUE, body)
}

/// The server's answer to a login: an empty RESPONSE_VALUE, then AUTH_RESPONSE.
fn login_answer(id: i32) -> Vec<u8> {
    let mut bytes = value(AUTH, b"");
    bytes.extend(encode(id, SERVERDATA_AUTH_RESPONSE, b""));
    bytes
}

/// What srcds sends for a command with wire id `wire` whose reply is `parts`: each part,
/// the empty answer to the mirror, then the odd extra packet some builds add.
fn reply_stream(wire: i32, parts: &[&[u8]]) -> Vec<u8> {
    let mut bytes = Vec::new();
    for part in parts {
        bytes.extend(value(wire, part));
    }
    bytes.extend(value(wire + 1, b""));
    bytes.extend(value(wire + 1, &[0, 0, 0, 1, 0, 0, 0, 0]));
    bytes
}

fn events(list: &[SessionEvent]) -> Vec<String> {
    list.iter().map(dbg).collect()
}

fn reply(id: u32, text: &str) -> String {
    dbg(&SessionEvent::Reply(CommandReply {
        id,
        text: text.into(),
    }))
}

/// A session that has logged in at `T0`.
fn ready() -> SourceRconSession {
    let mut s = SourceRconSession::new("passwrd".into(), T0);
    assert_eq!(
        s.transmit(T0),
        vec![encode(AUTH, SERVERDATA_AUTH, b"passwrd")]
    );
    let ev = s.receive(&login_answer(AUTH), T0);
    assert!(matches!(ev[..], [SessionEvent::Authenticated]), "{ev:?}");
    s
}

/// A logged-in session with `status` sent as wire id 2 (mirror 3), returning its id.
fn with_status_in_flight() -> (SourceRconSession, u32) {
    let mut s = ready();
    let id = s.command("status", T0).expect("queued");
    assert_eq!(
        s.transmit(T0),
        vec![
            encode(2, SERVERDATA_EXECCOMMAND, b"status"),
            encode(3, SERVERDATA_RESPONSE_VALUE, b""),
        ]
    );
    (s, id)
}

#[test]
fn login_goes_out_first_and_commands_wait_for_it() {
    let mut s = SourceRconSession::new("passwrd".into(), T0);
    let id = s.command("status", T0).expect("queued");
    assert_eq!(s.next_wakeup(), Some(T0), "the login is due now");
    let sent = s.transmit(T0);
    assert_eq!(sent, vec![encode(AUTH, SERVERDATA_AUTH, b"passwrd")]);
    assert!(s.transmit(T0).is_empty(), "nothing more before the answer");
    assert_eq!(s.next_wakeup(), Some(T0 + LOGIN_TIMEOUT_MS));
    // The empty RESPONSE_VALUE ahead of the answer is not a reply to anything.
    assert!(s.receive(&value(AUTH, b""), T0 + 5).is_empty());
    let ev = s.receive(&encode(AUTH, SERVERDATA_AUTH_RESPONSE, b""), T0 + 10);
    assert_eq!(events(&ev), vec![dbg(&SessionEvent::Authenticated)]);
    assert_eq!(s.next_wakeup(), Some(T0 + 10), "the waiting command is due");
    let sent = s.transmit(T0 + 10);
    assert_eq!(
        sent,
        vec![
            encode(2, SERVERDATA_EXECCOMMAND, b"status"),
            encode(3, SERVERDATA_RESPONSE_VALUE, b""),
        ]
    );
    assert_eq!(s.next_wakeup(), Some(T0 + 10 + COMMAND_TIMEOUT_MS));
    let ev = s.receive(&reply_stream(2, &[b"hostname: x\n"]), T0 + 20);
    assert_eq!(events(&ev), vec![reply(id, "hostname: x\n")]);
    assert_eq!(s.next_wakeup(), None, "idle: no keepalive needed");
    assert_eq!(s.dropped(), 0, "the mirror's extra packet is expected");
}

#[test]
fn full_exchange_with_a_multi_packet_reply() {
    let (mut s, id) = with_status_in_flight();
    let mut ev = s.receive(&value(2, b"first part, "), T0 + 1);
    ev.extend(s.receive(&value(2, b"second part, "), T0 + 2));
    ev.extend(s.receive(&value(2, b"last part"), T0 + 3));
    assert!(ev.is_empty(), "no end marker yet");
    let ev = s.receive(&value(3, b""), T0 + 4);
    assert_eq!(
        events(&ev),
        vec![reply(id, "first part, second part, last part")]
    );
    assert!(
        s.receive(&value(3, &[0, 0, 0, 1, 0, 0, 0, 0]), T0 + 5)
            .is_empty()
    );
    assert_eq!(s.dropped(), 0);

    // The next command gets fresh wire ids and its own reply.
    let id2 = s.command("listid", T0 + 6).expect("queued");
    assert_ne!(id, id2);
    assert_eq!(
        s.transmit(T0 + 6),
        vec![
            encode(4, SERVERDATA_EXECCOMMAND, b"listid"),
            encode(5, SERVERDATA_RESPONSE_VALUE, b""),
        ]
    );
    let ev = s.receive(&reply_stream(4, &[b"ID filter list: empty\n"]), T0 + 7);
    assert_eq!(events(&ev), vec![reply(id2, "ID filter list: empty\n")]);
}

#[test]
fn an_empty_reply_is_still_a_reply() {
    let (mut s, id) = with_status_in_flight();
    let ev = s.receive(&reply_stream(2, &[]), T0 + 1);
    assert_eq!(events(&ev), vec![reply(id, "")]);
}

#[test]
fn commands_go_out_one_at_a_time() {
    let (mut s, first) = with_status_in_flight();
    let second = s.command("listid", T0).expect("queued");
    assert!(s.transmit(T0).is_empty(), "the first is still in flight");
    let ev = s.receive(&reply_stream(2, &[b"a"]), T0 + 1);
    assert_eq!(events(&ev), vec![reply(first, "a")]);
    assert_eq!(s.next_wakeup(), Some(T0 + 1));
    assert_eq!(s.transmit(T0 + 1).len(), 2);
    let ev = s.receive(&reply_stream(4, &[b"b"]), T0 + 2);
    assert_eq!(events(&ev), vec![reply(second, "b")]);
}

/// Feeds `stream` to a fresh copy of a session in two reads cut at every offset, and checks
/// that the events are those of one read.
fn every_split(make: impl Fn() -> SourceRconSession, stream: &[u8]) {
    let mut whole = make();
    let want = events(&whole.receive(stream, T0 + 1));
    assert!(!want.is_empty());
    for cut in 0..=stream.len() {
        let mut s = make();
        let mut got = s.receive(&stream[..cut], T0 + 1);
        got.extend(s.receive(&stream[cut..], T0 + 1));
        assert_eq!(events(&got), want, "cut at {cut}");
        assert_eq!(s.dropped(), whole.dropped(), "cut at {cut}");
    }
}

#[test]
fn the_login_answer_split_at_every_offset() {
    let make = || {
        let mut s = SourceRconSession::new("passwrd".into(), T0);
        s.transmit(T0);
        s
    };
    every_split(make, &login_answer(AUTH));
    every_split(make, &login_answer(-1));
}

#[test]
fn a_reply_split_at_every_offset() {
    let big = vec![b'x'; 4096];
    let stream = reply_stream(2, &[b"first ", &big, "Ärger ☃".as_bytes()]);
    every_split(|| with_status_in_flight().0, &stream);
    let (mut s, id) = with_status_in_flight();
    let mut want = String::from("first ");
    want.push_str(&"x".repeat(4096));
    want.push_str("Ärger ☃");
    assert_eq!(events(&s.receive(&stream, T0 + 1)), vec![reply(id, &want)]);
}

#[test]
fn a_reply_byte_by_byte() {
    let (mut s, id) = with_status_in_flight();
    let stream = reply_stream(2, &[b"one ", b"two"]);
    let mut got = Vec::new();
    for b in &stream {
        got.extend(s.receive(std::slice::from_ref(b), T0 + 1));
    }
    assert_eq!(events(&got), vec![reply(id, "one two")]);
}

#[test]
fn a_late_duplicate_of_a_finished_reply_is_quiet() {
    let mut s = SourceRconSession::new("passwrd".into(), T0);
    let id = s.command("status", T0).expect("queued");
    s.transmit(T0);
    let ev = s.receive(&login_answer(AUTH), T0 + 1);
    assert_eq!(events(&ev), vec![dbg(&SessionEvent::Authenticated)]);
    assert_eq!(s.transmit(T0 + 1).len(), 2);
    let mut stream = reply_stream(2, &[b"a", b"b"]);
    stream.extend(reply_stream(2, &[b"late duplicate"]));
    let ev = s.receive(&stream, T0 + 2);
    assert_eq!(events(&ev), vec![reply(id, "ab")]);
    assert_eq!(s.dropped(), 0, "stragglers of a finished command are quiet");
}

#[test]
fn a_size_out_of_range_disconnects_and_fails_what_waits() {
    for size in [9i32, 4107, -5, 0x4142_4344] {
        let (mut s, id) = with_status_in_flight();
        let queued = s.command("listid", T0).expect("queued");
        let mut bytes = value(2, b"partial");
        bytes.extend_from_slice(&size.to_le_bytes());
        bytes.extend_from_slice(&[0; 20]);
        let ev = s.receive(&bytes, T0 + 1);
        assert_eq!(ev.len(), 3, "{ev:?}");
        assert!(matches!(&ev[0], SessionEvent::CommandFailed(f) if f.id == id));
        assert!(matches!(&ev[1], SessionEvent::CommandFailed(f) if f.id == queued));
        assert!(matches!(&ev[2], SessionEvent::Disconnected(_)));
        assert_eq!(s.dropped(), 1);
        assert_eq!(s.next_wakeup(), None);
        assert!(s.transmit(T0 + 2).is_empty());
        assert!(s.receive(&reply_stream(2, &[b"x"]), T0 + 3).is_empty());
        assert!(s.command("status", T0 + 3).is_err());
    }
}

#[test]
fn a_bad_size_is_caught_before_the_rest_arrives() {
    let (mut s, _) = with_status_in_flight();
    let ev = s.receive(&5000i32.to_le_bytes(), T0 + 1);
    assert!(matches!(ev.last(), Some(SessionEvent::Disconnected(_))));
}

#[test]
fn missing_terminators_disconnect() {
    let (mut s, _) = with_status_in_flight();
    let mut bytes = value(2, b"abc");
    let last = bytes.len() - 1;
    bytes[last] = 1;
    let ev = s.receive(&bytes, T0 + 1);
    assert!(matches!(ev.last(), Some(SessionEvent::Disconnected(_))));
}

#[test]
fn a_refused_password_fails_the_session_and_its_commands() {
    let mut s = SourceRconSession::new("wrong".into(), T0);
    let id = s.command("status", T0).expect("queued");
    s.transmit(T0);
    let ev = s.receive(&login_answer(-1), T0 + 1);
    assert_eq!(ev.len(), 2);
    assert!(matches!(&ev[0], SessionEvent::CommandFailed(f) if f.id == id));
    assert!(matches!(&ev[1], SessionEvent::AuthFailed(_)));
    assert!(s.transmit(T0 + 2).is_empty());
    assert_eq!(s.next_wakeup(), None);
    assert!(s.command("status", T0 + 2).is_err());
}

#[test]
fn an_unanswered_login_times_out() {
    let mut s = SourceRconSession::new("pw".into(), T0);
    s.transmit(T0);
    assert!(s.tick(T0 + LOGIN_TIMEOUT_MS - 1).is_empty());
    let ev = s.tick(T0 + LOGIN_TIMEOUT_MS);
    assert!(matches!(ev[..], [SessionEvent::Disconnected(_)]));
    assert_eq!(s.next_wakeup(), None);
}

#[test]
fn an_unanswered_command_fails_and_the_next_goes_out() {
    let (mut s, id) = with_status_in_flight();
    let next = s.command("listid", T0).expect("queued");
    assert_eq!(s.next_wakeup(), Some(T0 + COMMAND_TIMEOUT_MS));
    assert!(s.tick(T0 + COMMAND_TIMEOUT_MS - 1).is_empty());
    let ev = s.tick(T0 + COMMAND_TIMEOUT_MS);
    assert_eq!(ev.len(), 1);
    assert!(matches!(&ev[0], SessionEvent::CommandFailed(f) if f.id == id));
    let later = T0 + COMMAND_TIMEOUT_MS;
    assert_eq!(s.next_wakeup(), Some(later), "the next command is due");
    assert_eq!(
        s.transmit(later),
        vec![
            encode(4, SERVERDATA_EXECCOMMAND, b"listid"),
            encode(5, SERVERDATA_RESPONSE_VALUE, b""),
        ]
    );
    // The late reply of the timed-out command is ignored quietly; the new one completes.
    let mut stream = reply_stream(2, &[b"late"]);
    stream.extend(reply_stream(4, &[b"fresh"]));
    let ev = s.receive(&stream, later + 1);
    assert_eq!(events(&ev), vec![reply(next, "fresh")]);
    assert_eq!(s.dropped(), 0);
}

#[test]
fn stray_packets_are_dropped_and_counted() {
    let (mut s, id) = with_status_in_flight();
    let mut stream = value(99, b"nobody asked");
    stream.extend(encode(2, 7, b"unknown type"));
    stream.extend(encode(AUTH, SERVERDATA_AUTH_RESPONSE, b""));
    stream.extend(reply_stream(2, &[b"ok"]));
    let ev = s.receive(&stream, T0 + 1);
    assert_eq!(events(&ev), vec![reply(id, "ok")]);
    assert_eq!(s.dropped(), 3);
    // Before the login, only the login's answer means anything.
    let mut s = SourceRconSession::new("pw".into(), T0);
    s.transmit(T0);
    assert!(
        s.receive(&encode(42, SERVERDATA_AUTH_RESPONSE, b""), T0)
            .is_empty()
    );
    assert_eq!(s.dropped(), 1);
}

#[test]
fn replies_are_decoded_lossily() {
    let (mut s, id) = with_status_in_flight();
    let ev = s.receive(&reply_stream(2, &[b"a\xffb"]), T0 + 1);
    assert_eq!(events(&ev), vec![reply(id, "a\u{fffd}b")]);
}

#[test]
fn commands_are_checked() {
    let mut s = ready();
    assert!(matches!(
        s.command("status\nquit", T0),
        Err(AdapterError::Invalid(_))
    ));
    assert!(matches!(
        s.command("a\0b", T0),
        Err(AdapterError::Invalid(_))
    ));
    assert!(matches!(
        s.command(&"x".repeat(4097), T0),
        Err(AdapterError::Invalid(_))
    ));
    assert!(s.command(&"x".repeat(4096), T0).is_ok());
}
