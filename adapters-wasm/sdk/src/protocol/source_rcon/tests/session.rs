//! The Source RCON session: srcds's defaults, then each way a reply can end, the size and id
//! options, the login callbacks, and caps on what a hostile server can make it hold.

use crate::prelude::*;
use crate::protocol::source_rcon::{
    COMMAND_TIMEOUT_MS, Dialect, LOGIN_TIMEOUT_MS, LoginAnswer, Options, Packet, ReplyEnd,
    SERVERDATA_AUTH, SERVERDATA_AUTH_RESPONSE, SERVERDATA_EXECCOMMAND, SERVERDATA_RESPONSE_VALUE,
    Session, Srcds, encode,
};

const T0: u64 = 1_000_000;

fn value(id: i32, body: &[u8]) -> Vec<u8> {
    encode(id, SERVERDATA_RESPONSE_VALUE, body)
}

fn exec(id: i32, body: &[u8]) -> Vec<u8> {
    encode(id, SERVERDATA_EXECCOMMAND, body)
}

fn events(list: &[SessionEvent]) -> Vec<String> {
    list.iter().map(|e| format!("{e:?}")).collect()
}

fn reply(id: u32, text: &str) -> String {
    format!(
        "{:?}",
        SessionEvent::Reply(CommandReply {
            id,
            text: text.into(),
        })
    )
}

/// A session of dialect `D` logged in at `T0` (with an answer that suits every dialect below:
/// no preamble).
fn ready<D: Dialect>() -> Session<D> {
    let mut s = Session::<D>::new("pw".into(), T0);
    let auth_id = s.options().auth_id;
    assert_eq!(
        s.transmit(T0),
        vec![encode(auth_id, SERVERDATA_AUTH, b"pw")]
    );
    let ev = s.receive(&encode(auth_id, SERVERDATA_AUTH_RESPONSE, b""), T0);
    assert!(matches!(ev[..], [SessionEvent::Authenticated]), "{ev:?}");
    assert!(s.is_ready());
    s
}

/// Replies end with an `echo` command after each command.
pub(super) struct EchoTerminated;
impl Dialect for EchoTerminated {
    fn options() -> Options {
        Options {
            reply_end: ReplyEnd::Follower {
                kind: SERVERDATA_EXECCOMMAND,
                body: b"echo".to_vec(),
            },
            ..Options::default()
        }
    }
}

/// Replies split into 100-byte packets; 50 ms of quiet after a full one ends them.
pub(super) struct Short;
impl Dialect for Short {
    fn options() -> Options {
        Options {
            reply_end: ReplyEnd::ShortPacket {
                full_body: 100,
                quiet_ms: 50,
            },
            ..Options::default()
        }
    }
}

/// Replies end after 200 ms without a packet.
pub(super) struct Quiet;
impl Dialect for Quiet {
    fn options() -> Options {
        Options {
            reply_end: ReplyEnd::Quiet { quiet_ms: 200 },
            ..Options::default()
        }
    }
}

/// Single-packet replies, small packets, ids near the top of the range.
pub(super) struct Tight;
impl Dialect for Tight {
    fn options() -> Options {
        Options {
            reply_end: ReplyEnd::FirstPacket,
            max_body: 64,
            max_command_bytes: 16,
            auth_id: 7,
            first_command_id: i32::MAX - 2,
            max_queued: 2,
            max_reply_bytes: 8,
            ..Options::default()
        }
    }
}

/// Replies end with a prompt; the login is answered by a `RESPONSE_VALUE` with the login's id.
pub(super) struct Prompted;
impl Dialect for Prompted {
    fn options() -> Options {
        Options {
            reply_end: ReplyEnd::Custom,
            ..Options::default()
        }
    }
    fn login_answer(packet: &Packet<'_>, auth_id: i32) -> LoginAnswer {
        match (packet.kind, packet.id) {
            (SERVERDATA_RESPONSE_VALUE, id) if id == auth_id => LoginAnswer::Accepted,
            (_, -1) => LoginAnswer::Refused,
            _ => LoginAnswer::Unexpected,
        }
    }
    fn reply_complete(reply: &[u8], _last: &[u8]) -> bool {
        reply.ends_with(b"\n> ")
    }
}

#[test]
fn srcds_skips_the_preamble_and_ends_replies_with_the_mirror() {
    let mut s = Session::<Srcds>::new("passwrd".into(), T0);
    let id = s.command("status", T0).expect("queued");
    assert_eq!(s.next_wakeup(), Some(T0));
    assert_eq!(s.transmit(T0), vec![encode(0, SERVERDATA_AUTH, b"passwrd")]);
    assert_eq!(s.next_wakeup(), Some(T0 + LOGIN_TIMEOUT_MS));
    let mut answer = value(0, b"");
    answer.extend(encode(0, SERVERDATA_AUTH_RESPONSE, b""));
    let ev = s.receive(&answer, T0 + 1);
    assert!(matches!(ev[..], [SessionEvent::Authenticated]));
    assert_eq!(
        s.transmit(T0 + 1),
        vec![exec(2, b"status"), value(3, b"")],
        "the command, then its mirror"
    );
    let mut stream = value(2, b"one ");
    stream.extend(value(2, b"two"));
    stream.extend(value(3, b""));
    stream.extend(value(3, &[0, 0, 0, 1, 0, 0, 0, 0]));
    assert_eq!(
        events(&s.receive(&stream, T0 + 2)),
        vec![reply(id, "one two")]
    );
    assert_eq!(s.dropped(), 0);
    assert_eq!(s.next_wakeup(), None, "no keepalive in Source RCON");
}

#[test]
fn a_terminator_command_ends_the_reply_and_its_own_output_is_discarded() {
    let mut s = ready::<EchoTerminated>();
    let id = s.command("status", T0).expect("queued");
    assert_eq!(s.transmit(T0), vec![exec(2, b"status"), exec(3, b"echo")]);
    let mut stream = value(2, b"a");
    stream.extend(value(2, b"b"));
    stream.extend(value(3, b"echo output"));
    stream.extend(value(3, b"more echo output"));
    assert_eq!(events(&s.receive(&stream, T0 + 1)), vec![reply(id, "ab")]);
    assert_eq!(s.dropped(), 0);
    let next = s.command("listid", T0 + 2).expect("queued");
    assert_eq!(
        s.transmit(T0 + 2),
        vec![exec(4, b"listid"), exec(5, b"echo")]
    );
    let mut stream = value(4, b"");
    stream.extend(value(5, b""));
    assert_eq!(events(&s.receive(&stream, T0 + 3)), vec![reply(next, "")]);
}

#[test]
fn a_short_packet_ends_the_reply() {
    let mut s = ready::<Short>();
    let id = s.command("list", T0).expect("queued");
    assert_eq!(s.transmit(T0), vec![exec(2, b"list")], "no follower packet");
    let full = [b'x'; 100];
    assert!(s.receive(&value(2, &full), T0 + 1).is_empty());
    assert!(s.receive(&value(2, &full), T0 + 2).is_empty());
    assert_eq!(
        s.next_wakeup(),
        Some(T0 + 2 + 50),
        "quiet after a full packet"
    );
    let ev = s.receive(&value(2, b"end"), T0 + 3);
    let mut want = "x".repeat(200);
    want.push_str("end");
    assert_eq!(events(&ev), vec![reply(id, &want)]);
    // The next command gets the next single id.
    s.command("list", T0 + 4).expect("queued");
    assert_eq!(s.transmit(T0 + 4), vec![exec(3, b"list")]);
}

#[test]
fn after_a_full_packet_quiet_ends_the_reply() {
    let mut s = ready::<Short>();
    let id = s.command("list", T0).expect("queued");
    s.transmit(T0);
    assert_eq!(
        s.next_wakeup(),
        Some(T0 + COMMAND_TIMEOUT_MS),
        "nothing yet"
    );
    assert!(s.receive(&value(2, &[b'y'; 100]), T0 + 10).is_empty());
    assert!(s.tick(T0 + 59).is_empty());
    let ev = s.tick(T0 + 60);
    assert_eq!(events(&ev), vec![reply(id, &"y".repeat(100))]);
    // A late packet of the finished reply is quiet.
    assert!(s.receive(&value(2, b"late"), T0 + 70).is_empty());
    assert_eq!(s.dropped(), 0);
}

#[test]
fn quiet_replies_end_after_the_silence_and_each_packet_restarts_it() {
    let mut s = ready::<Quiet>();
    let id = s.command("players", T0).expect("queued");
    assert_eq!(s.transmit(T0), vec![exec(2, b"players")]);
    assert!(s.receive(&value(2, b"a"), T0 + 100).is_empty());
    assert_eq!(s.next_wakeup(), Some(T0 + 300));
    assert!(s.receive(&value(2, b"b"), T0 + 250).is_empty());
    assert!(s.tick(T0 + 300).is_empty(), "restarted by b");
    assert_eq!(s.next_wakeup(), Some(T0 + 450));
    assert_eq!(events(&s.tick(T0 + 450)), vec![reply(id, "ab")]);
    // With no packet at all, the command times out as usual.
    let id = s.command("players", T0 + 500).expect("queued");
    s.transmit(T0 + 500);
    let ev = s.tick(T0 + 500 + COMMAND_TIMEOUT_MS);
    assert!(matches!(&ev[..], [SessionEvent::CommandFailed(f)] if f.id == id));
}

#[test]
fn single_packet_replies_ids_that_wrap_and_small_limits() {
    let mut s = ready::<Tight>();
    assert!(matches!(
        s.command(&"x".repeat(17), T0),
        Err(AdapterError::Invalid(_))
    ));
    let a = s.command("a", T0).expect("queued");
    let b = s.command("b", T0).expect("queued");
    assert!(
        matches!(s.command("c", T0), Err(AdapterError::Failed(_))),
        "two may wait"
    );
    let top = i32::MAX - 2;
    assert_eq!(s.transmit(T0), vec![exec(top, b"a")]);
    let ev = s.receive(&value(top, b"0123456789"), T0 + 1);
    assert_eq!(events(&ev), vec![reply(a, "01234567")], "capped at 8 bytes");
    assert_eq!(s.dropped(), 1, "the cut is counted");
    assert_eq!(s.transmit(T0 + 1), vec![exec(top + 1, b"b")]);
    assert_eq!(
        events(&s.receive(&value(top + 1, b"B"), T0 + 2)),
        vec![reply(b, "B")]
    );
    // Ids stay below i32::MAX: the next one starts over.
    let c = s.command("c", T0 + 3).expect("queued");
    assert_eq!(s.transmit(T0 + 3), vec![exec(top, b"c")]);
    assert_eq!(
        events(&s.receive(&value(top, b"C"), T0 + 4)),
        vec![reply(c, "C")]
    );
    s.command("d", T0 + 5).expect("queued");
    assert_eq!(s.transmit(T0 + 5), vec![exec(top + 1, b"d")]);
    // A packet bigger than the 64-byte limit is a corrupt stream.
    let ev = s.receive(&value(top + 1, &[b'z'; 65]), T0 + 6);
    assert!(
        matches!(ev.last(), Some(SessionEvent::Disconnected(m)) if m.contains("valid: 10 to 74"))
    );
    assert!(s.is_closed());
}

#[test]
fn callbacks_decide_the_login_and_the_end_of_a_reply() {
    let mut s = Session::<Prompted>::new("pw".into(), T0);
    s.transmit(T0);
    assert!(
        s.receive(&encode(0, SERVERDATA_AUTH_RESPONSE, b""), T0)
            .is_empty()
    );
    assert_eq!(s.dropped(), 1, "this dialect expects no AUTH_RESPONSE");
    let ev = s.receive(&value(0, b""), T0 + 1);
    assert!(matches!(ev[..], [SessionEvent::Authenticated]));
    let id = s.command("help", T0 + 1).expect("queued");
    assert_eq!(
        s.transmit(T0 + 1),
        vec![exec(2, b"help")],
        "custom endings send no follower"
    );
    assert!(s.receive(&value(2, b"commands:\n"), T0 + 2).is_empty());
    let ev = s.receive(&value(2, b"kick\n> "), T0 + 3);
    assert_eq!(events(&ev), vec![reply(id, "commands:\nkick\n> ")]);

    let mut refused = Session::<Prompted>::new("pw".into(), T0);
    refused.transmit(T0);
    let ev = refused.receive(&value(-1, b""), T0 + 1);
    assert!(matches!(ev[..], [SessionEvent::AuthFailed(_)]));
}

#[test]
fn an_unanswered_login_times_out_and_a_closed_session_stays_quiet() {
    let mut s = Session::<Srcds>::new("pw".into(), T0);
    let id = s.command("status", T0).expect("queued");
    s.transmit(T0);
    let ev = s.tick(T0 + LOGIN_TIMEOUT_MS);
    assert!(
        matches!(&ev[..], [SessionEvent::CommandFailed(f), SessionEvent::Disconnected(_)] if f.id == id)
    );
    assert!(s.is_closed());
    assert!(s.receive(&value(0, b""), T0 + LOGIN_TIMEOUT_MS).is_empty());
    assert!(s.tick(u64::MAX).is_empty());
    assert!(s.transmit(u64::MAX).is_empty());
    assert_eq!(s.next_wakeup(), None);
    assert!(s.command("status", u64::MAX).is_err());
}

#[test]
fn a_flood_of_packets_in_one_read_is_handled_without_keeping_them() {
    let mut s = ready::<Srcds>();
    let id = s.command("status", T0).expect("queued");
    s.transmit(T0);
    let mut stream = Vec::new();
    for _ in 0..10_000 {
        stream.extend(value(99, b"noise"));
    }
    stream.extend(value(2, b"ok"));
    stream.extend(value(3, b""));
    stream.extend_from_slice(&value(2, b"an incomplete packet")[..7]);
    let ev = s.receive(&stream, T0 + 1);
    assert_eq!(events(&ev), vec![reply(id, "ok")]);
    assert_eq!(s.dropped(), 10_000);
}

#[test]
fn clocks_that_go_backwards_or_reach_the_end_of_time_do_not_panic() {
    let mut s = ready::<Quiet>();
    s.command("x", u64::MAX - 1).expect("queued");
    s.transmit(u64::MAX - 1);
    s.receive(&value(2, b"a"), u64::MAX);
    assert_eq!(s.next_wakeup(), Some(u64::MAX));
    s.tick(0);
    assert_eq!(s.tick(u64::MAX).len(), 1);
}
