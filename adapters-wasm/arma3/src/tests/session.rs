//! The BattlEye session: login, replies and their fragments, server messages, keepalive,
//! retransmission, silence, and hostile input.

use super::dbg;
use crate::BattlEyeSession;
use garrison_adapter_sdk::prelude::*;
use garrison_adapter_sdk::protocol::battleye::{
    self, COMMAND, KEEPALIVE_MS, LOGIN, MESSAGE, RETRANSMIT_MS, SILENCE_MS,
};

const T0: u64 = 1_000_000;

fn login_reply(ok: bool) -> Vec<u8> {
    battleye::encode(LOGIN, &[u8::from(ok)])
}

fn reply(seq: u8, text: &[u8]) -> Vec<u8> {
    let mut payload = vec![seq];
    payload.extend_from_slice(text);
    battleye::encode(COMMAND, &payload)
}

fn fragment(seq: u8, count: u8, index: u8, text: &[u8]) -> Vec<u8> {
    let mut payload = vec![seq, 0, count, index];
    payload.extend_from_slice(text);
    battleye::encode(COMMAND, &payload)
}

fn message(seq: u8, text: &[u8]) -> Vec<u8> {
    let mut payload = vec![seq];
    payload.extend_from_slice(text);
    battleye::encode(MESSAGE, &payload)
}

fn events(list: &[SessionEvent]) -> Vec<String> {
    list.iter().map(dbg).collect()
}

fn reply_event(id: u32, text: &str) -> String {
    dbg(&SessionEvent::Reply(CommandReply {
        id,
        text: text.into(),
    }))
}

/// A session that has logged in at `T0`.
fn ready() -> BattlEyeSession {
    let mut s = BattlEyeSession::new("password".into(), T0);
    assert_eq!(s.transmit(T0), vec![battleye::login("password")]);
    let ev = s.receive(&login_reply(true), T0);
    assert!(matches!(ev[..], [SessionEvent::Authenticated]));
    s
}

#[test]
fn login_goes_out_first_and_commands_wait_for_it() {
    let mut s = BattlEyeSession::new("password".into(), T0);
    let id = s.command("players", T0).expect("queued");
    assert_eq!(s.next_wakeup(), Some(T0), "the login is due now");
    assert_eq!(s.transmit(T0), vec![battleye::login("password")]);
    assert!(
        s.transmit(T0).is_empty(),
        "nothing else before the login is answered"
    );
    assert!(matches!(
        s.receive(&login_reply(true), T0 + 10)[..],
        [SessionEvent::Authenticated]
    ));
    assert_eq!(s.transmit(T0 + 10), vec![battleye::command(0, "players")]);
    let ev = s.receive(&reply(0, b"Players on server:"), T0 + 20);
    assert_eq!(events(&ev), vec![reply_event(id, "Players on server:")]);
}

#[test]
fn wrong_password_fails_the_session_and_its_commands() {
    let mut s = BattlEyeSession::new("nope".into(), T0);
    let id = s.command("players", T0).expect("queued");
    s.transmit(T0);
    let ev = s.receive(&login_reply(false), T0 + 5);
    assert_eq!(ev.len(), 2);
    assert!(matches!(&ev[0], SessionEvent::CommandFailed(f) if f.id == id));
    assert!(matches!(&ev[1], SessionEvent::AuthFailed(_)));
    assert_eq!(s.next_wakeup(), None);
    assert!(s.command("players", T0 + 6).is_err());
    assert!(s.transmit(T0 + 6).is_empty());
    assert!(s.tick(T0 + SILENCE_MS * 2).is_empty());
}

#[test]
fn an_unanswered_login_is_resent_then_given_up() {
    let mut s = BattlEyeSession::new("password".into(), T0);
    assert_eq!(s.transmit(T0).len(), 1);
    assert_eq!(s.next_wakeup(), Some(T0 + RETRANSMIT_MS));
    assert!(s.tick(T0 + RETRANSMIT_MS).is_empty());
    assert_eq!(
        s.transmit(T0 + RETRANSMIT_MS),
        vec![battleye::login("password")]
    );
    s.tick(T0 + 2 * RETRANSMIT_MS);
    assert_eq!(s.transmit(T0 + 2 * RETRANSMIT_MS).len(), 1);
    let ev = s.tick(T0 + 3 * RETRANSMIT_MS);
    assert!(matches!(ev[..], [SessionEvent::Disconnected(_)]));
    assert_eq!(s.next_wakeup(), None);
}

#[test]
fn ids_are_the_sessions_own_and_sequences_wrap() {
    let mut s = ready();
    for i in 0..300u32 {
        let id = s.command("players", T0).expect("queued");
        assert_eq!(id, i + 1);
        let sent = s.transmit(T0);
        let seq = (i % 256) as u8;
        assert_eq!(sent, vec![battleye::command(seq, "players")]);
        let ev = s.receive(&reply(seq, b"ok"), T0);
        assert_eq!(events(&ev), vec![reply_event(id, "ok")]);
    }
}

#[test]
fn fragments_reassemble_in_every_arrival_order() {
    let parts: [&[u8]; 4] = [b"alpha ", b"beta ", "gämma ".as_bytes(), b"delta"];
    let mut orders = Vec::new();
    permutations(&mut vec![0u8, 1, 2, 3], 0, &mut orders);
    assert_eq!(orders.len(), 24);
    for order in orders {
        let mut s = ready();
        let id = s.command("bans", T0).expect("queued");
        s.transmit(T0);
        let mut got = Vec::new();
        for (n, &index) in order.iter().enumerate() {
            got = s.receive(&fragment(0, 4, index, parts[usize::from(index)]), T0 + 1);
            if n < 3 {
                assert!(got.is_empty(), "{order:?}: not complete yet");
            }
        }
        assert_eq!(
            events(&got),
            vec![reply_event(id, "alpha beta gämma delta")],
            "{order:?}"
        );
        assert_eq!(s.dropped(), 0);
    }
}

fn permutations(items: &mut Vec<u8>, k: usize, out: &mut Vec<Vec<u8>>) {
    if k == items.len() {
        out.push(items.clone());
        return;
    }
    for i in k..items.len() {
        items.swap(k, i);
        permutations(items, k + 1, out);
        items.swap(k, i);
    }
}

#[test]
fn duplicate_and_impossible_fragments() {
    let mut s = ready();
    let id = s.command("bans", T0).expect("queued");
    s.transmit(T0);
    assert!(s.receive(&fragment(0, 2, 0, b"a"), T0).is_empty());
    assert!(
        s.receive(&fragment(0, 2, 0, b"a"), T0).is_empty(),
        "a duplicate"
    );
    assert!(
        s.receive(&fragment(0, 3, 1, b"x"), T0).is_empty(),
        "count changed"
    );
    assert_eq!(s.dropped(), 1);
    assert!(
        s.receive(&fragment(0, 2, 2, b"x"), T0).is_empty(),
        "index >= count"
    );
    assert!(
        s.receive(&fragment(0, 0, 0, b"x"), T0).is_empty(),
        "count 0"
    );
    assert_eq!(s.dropped(), 3);
    let ev = s.receive(&fragment(0, 2, 1, b"b"), T0);
    assert_eq!(events(&ev), vec![reply_event(id, "ab")]);
    assert!(
        s.receive(&fragment(0, 2, 1, b"b"), T0).is_empty(),
        "late copy"
    );
}

#[test]
fn server_messages_are_shown_once_and_acked_every_time() {
    let mut s = ready();
    let mut shown = Vec::new();
    for _ in 0..3 {
        shown.extend(s.receive(&message(0, b"(Global) x: hi"), T0 + 5));
    }
    assert_eq!(
        events(&shown),
        vec![dbg(&SessionEvent::Message("(Global) x: hi".into()))]
    );
    assert_eq!(s.next_wakeup(), Some(T0 + 5), "acks are due now");
    assert_eq!(s.transmit(T0 + 5), vec![battleye::ack(0); 3]);
    // The next sequence is a new message.
    assert_eq!(s.receive(&message(1, b"next"), T0 + 6).len(), 1);
    assert_eq!(s.transmit(T0 + 6), vec![battleye::ack(1)]);
}

#[test]
fn message_sequences_wrap_around() {
    let mut s = ready();
    let mut shown = 0;
    for i in 0..600u32 {
        let seq = (i % 256) as u8;
        shown += s.receive(&message(seq, b"m"), T0).len();
        shown += s.receive(&message(seq, b"m"), T0).len();
        s.transmit(T0);
    }
    assert_eq!(shown, 600);
}

#[test]
fn non_utf8_text_is_decoded_lossily() {
    let mut s = ready();
    let ev = s.receive(&message(4, b"caf\xe9"), T0);
    assert_eq!(
        events(&ev),
        vec![dbg(&SessionEvent::Message("caf\u{FFFD}".into()))]
    );
}

#[test]
fn keepalive_after_thirty_idle_seconds_and_its_reply_is_silent() {
    let mut s = ready();
    assert_eq!(s.next_wakeup(), Some(T0 + KEEPALIVE_MS));
    assert!(s.tick(T0 + KEEPALIVE_MS - 1).is_empty());
    assert!(s.transmit(T0 + KEEPALIVE_MS - 1).is_empty());
    assert!(s.tick(T0 + KEEPALIVE_MS).is_empty());
    assert_eq!(
        s.transmit(T0 + KEEPALIVE_MS),
        vec![battleye::command(0, "")]
    );
    let ev = s.receive(&reply(0, b""), T0 + KEEPALIVE_MS + 20);
    assert!(ev.is_empty(), "a keepalive's reply is not a Reply");
    assert_eq!(s.next_wakeup(), Some(T0 + 2 * KEEPALIVE_MS));
}

#[test]
fn a_command_postpones_the_keepalive() {
    let mut s = ready();
    s.command("players", T0 + 20_000).expect("queued");
    s.transmit(T0 + 20_000);
    s.receive(&reply(0, b"x"), T0 + 20_010);
    assert_eq!(s.next_wakeup(), Some(T0 + 20_000 + KEEPALIVE_MS));
}

#[test]
fn unanswered_commands_are_resent_then_failed() {
    let mut s = ready();
    let id = s.command("players", T0).expect("queued");
    let packet = battleye::command(0, "players");
    assert_eq!(s.transmit(T0), vec![packet.clone()]);
    assert_eq!(s.next_wakeup(), Some(T0 + RETRANSMIT_MS));
    assert!(s.tick(T0 + RETRANSMIT_MS).is_empty());
    assert_eq!(s.transmit(T0 + RETRANSMIT_MS), vec![packet.clone()]);
    assert!(s.tick(T0 + 2 * RETRANSMIT_MS).is_empty());
    assert_eq!(s.transmit(T0 + 2 * RETRANSMIT_MS), vec![packet]);
    let ev = s.tick(T0 + 3 * RETRANSMIT_MS);
    assert!(matches!(&ev[..], [SessionEvent::CommandFailed(f)] if f.id == id));
    assert!(s.transmit(T0 + 3 * RETRANSMIT_MS).is_empty());
    // A late reply to the failed command is ignored.
    assert!(s.receive(&reply(0, b"late"), T0 + 7_000).is_empty());
}

#[test]
fn a_reply_in_progress_is_not_resent() {
    let mut s = ready();
    s.command("bans", T0).expect("queued");
    s.transmit(T0);
    s.receive(&fragment(0, 2, 0, b"a"), T0 + 1_500);
    s.tick(T0 + RETRANSMIT_MS);
    assert!(s.transmit(T0 + RETRANSMIT_MS).is_empty());
    assert_eq!(s.receive(&fragment(0, 2, 1, b"b"), T0 + 2_100).len(), 1);
}

#[test]
fn silence_for_45_seconds_disconnects_and_fails_what_waits() {
    let mut s = ready();
    s.tick(T0 + KEEPALIVE_MS);
    s.transmit(T0 + KEEPALIVE_MS);
    s.tick(T0 + KEEPALIVE_MS + RETRANSMIT_MS);
    let id = s.command("players", T0 + 40_000).expect("queued");
    s.transmit(T0 + 40_000);
    assert!(s.next_wakeup() <= Some(T0 + SILENCE_MS));
    let ev = s.tick(T0 + SILENCE_MS - 1);
    assert!(
        !ev.iter()
            .any(|e| matches!(e, SessionEvent::Disconnected(_)))
    );
    let ev = s.tick(T0 + SILENCE_MS);
    assert!(
        matches!(&ev[..], [SessionEvent::CommandFailed(f), SessionEvent::Disconnected(_)] if f.id == id)
    );
    assert_eq!(s.next_wakeup(), None);
}

#[test]
fn hearing_anything_valid_resets_the_silence_timer() {
    let mut s = ready();
    s.receive(&message(1, b"hi"), T0 + 40_000);
    assert_eq!(s.transmit(T0 + 40_000), vec![battleye::ack(1)]);
    assert!(
        s.tick(T0 + SILENCE_MS).is_empty(),
        "not silent: heard at +40 s"
    );
    assert_eq!(s.transmit(T0 + SILENCE_MS), vec![battleye::command(0, "")]);
    assert_eq!(s.next_wakeup(), Some(T0 + SILENCE_MS + RETRANSMIT_MS));
}

#[test]
fn malformed_packets_are_dropped_and_counted() {
    let mut s = ready();
    let mut bad_crc = message(1, b"x");
    bad_crc[3] ^= 0xFF;
    let inputs: Vec<Vec<u8>> = vec![
        vec![],
        b"BE".to_vec(),
        bad_crc,
        battleye::encode(0x09, b"\x01"),
        battleye::encode(LOGIN, b"\x05"),
        b"XX\0\0\0\0\xff\x01\x00".to_vec(),
    ];
    for input in &inputs {
        assert!(s.receive(input, T0 + 1).is_empty());
    }
    assert_eq!(s.dropped(), inputs.len() as u64);
    // Dropped input does not count as hearing from the server.
    assert!(matches!(
        s.tick(T0 + SILENCE_MS)[..],
        [SessionEvent::Disconnected(_)]
    ));
}

#[test]
fn commands_must_be_one_line() {
    let mut s = ready();
    assert!(s.command("say -1 a\nkick 0", T0).is_err());
    assert!(s.command(&"x".repeat(5_000), T0).is_err());
}
