//! The BattlEye session under options other than the defaults, and the sequence rules the
//! built-in adapter's tests do not reach: a sequence still awaited is never reused, replies
//! beyond the cap are dropped, fragments of a stray sequence are ignored.

use crate::prelude::*;
use crate::protocol::battleye::{
    COMMAND, Dialect, LOGIN, MESSAGE, Options, Session, Standard, ack, command, encode, login,
};

const T0: u64 = 5_000;

fn reply(seq: u8, text: &[u8]) -> Vec<u8> {
    let mut payload = vec![seq];
    payload.extend_from_slice(text);
    encode(COMMAND, &payload)
}

fn fragment(seq: u8, count: u8, index: u8, text: &[u8]) -> Vec<u8> {
    let mut payload = vec![seq, 0, count, index];
    payload.extend_from_slice(text);
    encode(COMMAND, &payload)
}

fn ready<D: Dialect>() -> Session<D> {
    let mut s = Session::<D>::new("pw".into(), T0);
    assert_eq!(s.transmit(T0), vec![login("pw")]);
    let ev = s.receive(&encode(LOGIN, &[1]), T0);
    assert!(matches!(ev[..], [SessionEvent::Authenticated]));
    assert!(s.is_ready());
    s
}

/// Short timers, one attempt, small caps.
pub(super) struct Brisk;
impl Dialect for Brisk {
    fn options() -> Options {
        Options {
            retransmit_ms: 500,
            max_attempts: 1,
            keepalive_ms: 10_000,
            silence_ms: 20_000,
            max_in_flight: 2,
            max_queued: 3,
            max_command_bytes: 10,
            max_reply_bytes: 6,
        }
    }
}

/// Every sequence may be in flight at once.
pub(super) struct Wide;
impl Dialect for Wide {
    fn options() -> Options {
        Options {
            max_in_flight: 1_000,
            ..Options::default()
        }
    }
}

#[test]
fn the_keepalive_interval_and_the_silence_are_options() {
    let mut s = ready::<Brisk>();
    assert_eq!(s.next_wakeup(), Some(T0 + 10_000));
    s.tick(T0 + 10_000);
    assert_eq!(s.transmit(T0 + 10_000), vec![command(0, "")]);
    // A keepalive is not retransmitted: it is forgotten after one retransmit delay.
    s.tick(T0 + 10_500);
    assert!(s.transmit(T0 + 10_500).is_empty());
    let ev = s.tick(T0 + 20_000);
    assert!(matches!(ev[..], [SessionEvent::Disconnected(ref m)] if m.contains("20 s")));
}

#[test]
fn one_attempt_means_no_retransmission() {
    let mut s = ready::<Brisk>();
    let id = s.command("players", T0).expect("queued");
    assert_eq!(s.transmit(T0), vec![command(0, "players")]);
    let ev = s.tick(T0 + 500);
    assert!(
        matches!(&ev[..], [SessionEvent::CommandFailed(f)] if f.id == id && f.reason == "no reply after 1 attempts")
    );
    assert!(s.transmit(T0 + 500).is_empty());
}

#[test]
fn caps_on_commands_in_flight_queued_and_their_length() {
    let mut s = ready::<Brisk>();
    assert!(matches!(
        s.command("12345678901", T0),
        Err(AdapterError::Invalid(_))
    ));
    for _ in 0..3 {
        s.command("players", T0).expect("queued");
    }
    assert!(matches!(
        s.command("players", T0),
        Err(AdapterError::Failed(_))
    ));
    assert_eq!(
        s.transmit(T0),
        vec![command(0, "players"), command(1, "players")],
        "two in flight at most"
    );
    assert_eq!(s.receive(&reply(1, b"b"), T0 + 1).len(), 1);
    assert_eq!(s.transmit(T0 + 1), vec![command(2, "players")]);
}

#[test]
fn replies_beyond_the_cap_are_dropped_and_counted() {
    let mut s = ready::<Brisk>();
    let id = s.command("bans", T0).expect("queued");
    s.transmit(T0);
    assert!(s.receive(&fragment(0, 3, 0, b"abcd"), T0).is_empty());
    assert!(
        s.receive(&fragment(0, 3, 1, b"efg"), T0).is_empty(),
        "7 bytes > 6"
    );
    assert_eq!(s.dropped(), 1);
    assert!(s.receive(&fragment(0, 3, 1, b"ef"), T0).is_empty());
    let ev = s.receive(&fragment(0, 3, 2, b""), T0);
    assert!(matches!(&ev[..], [SessionEvent::Reply(r)] if r.id == id && r.text == "abcdef"));
}

#[test]
fn a_sequence_still_awaited_is_not_reused_after_the_wrap() {
    let mut s = ready::<Wide>();
    let first = s.command("slow", T0).expect("queued");
    assert_eq!(s.transmit(T0), vec![command(0, "slow")]);
    for seq in 1..=255u8 {
        let id = s.command("players", T0).expect("queued");
        assert_eq!(s.transmit(T0), vec![command(seq, "players")]);
        let ev = s.receive(&reply(seq, b"ok"), T0);
        assert!(matches!(&ev[..], [SessionEvent::Reply(r)] if r.id == id));
    }
    // Sequence 0 comes round again, but "slow" still waits for it.
    let next = s.command("players", T0).expect("queued");
    assert!(s.transmit(T0).is_empty());
    let ev = s.receive(&reply(0, b"slow reply"), T0 + 1);
    assert!(matches!(&ev[..], [SessionEvent::Reply(r)] if r.id == first));
    assert_eq!(s.transmit(T0 + 1), vec![command(0, "players")]);
    let ev = s.receive(&reply(0, b"ok"), T0 + 2);
    assert!(matches!(&ev[..], [SessionEvent::Reply(r)] if r.id == next));
}

#[test]
fn all_256_sequences_in_flight_then_the_queue_waits() {
    let mut s = ready::<Wide>();
    for _ in 0..300 {
        s.command("x", T0).expect("queued");
    }
    assert_eq!(s.transmit(T0).len(), 256);
    assert!(s.transmit(T0).is_empty());
    assert_eq!(s.receive(&reply(17, b""), T0 + 1).len(), 1);
    assert_eq!(s.transmit(T0 + 1), Vec::<Vec<u8>>::new(), "17 is not next");
    assert_eq!(s.receive(&reply(0, b""), T0 + 1).len(), 1);
    assert_eq!(s.transmit(T0 + 1), vec![command(0, "x")]);
}

#[test]
fn stray_replies_and_messages_before_the_login() {
    let mut s = Session::<Standard>::new("pw".into(), T0);
    s.transmit(T0);
    assert!(s.receive(&reply(4, b"nobody asked"), T0).is_empty());
    assert!(s.receive(&fragment(4, 2, 0, b"x"), T0).is_empty());
    // A message is shown and acknowledged even before the login's answer.
    let ev = s.receive(&encode(MESSAGE, b"\x00hello"), T0);
    assert_eq!(ev.len(), 1);
    assert_eq!(s.transmit(T0), vec![ack(0)]);
    // The answer logs in; a later refusal changes nothing.
    assert!(matches!(
        s.receive(&encode(LOGIN, &[1]), T0)[..],
        [SessionEvent::Authenticated]
    ));
    assert!(s.receive(&encode(LOGIN, &[0]), T0).is_empty());
    assert!(s.is_ready());
}
