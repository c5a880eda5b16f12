//! Command replies, checked line by line against the golden `status.txt` and `listid.txt`.

use std::time::Duration;

use super::*;
use crate::l4d2::world::tests::settings;
use crate::l4d2::world::{Output, Player};
use crate::rng::Rng;

const STATUS: &str = include_str!("../../../../data/l4d2/status.txt");
const LISTID: &str = include_str!("../../../../data/l4d2/listid.txt");

fn player(userid: u32, name: &str, steam: &str, port: u16, joined: Instant) -> Player {
    Player {
        userid,
        name: name.into(),
        steam_id: steam.into(),
        port,
        ping: 0,
        loss: 0,
        joined,
        stage: Stage::InGame,
        resident: true,
    }
}

/// The world state `status.txt` shows, at the returned `now`.
fn sample_world() -> (World, Instant) {
    let base = Instant::now();
    let now = base + Duration::from_secs(4000);
    let ago = |s: u64| now - Duration::from_secs(s);
    let mut w = World::new(settings(0, 8), Rng::seeded(1));
    let mut a = player(2, "Ärger ☃", "STEAM_1:0:12345", 27005, ago(5 * 60 + 12));
    a.ping = 45;
    let mut b = player(3, "Bob Smith", "STEAM_1:1:67890", 27006, ago(3723));
    (b.ping, b.loss) = (80, 2);
    let mut c = player(4, "Spawning Player", "STEAM_1:0:11111", 27007, ago(3));
    (c.ping, c.stage) = (120, Stage::Validated);
    w.insert_player(a);
    w.insert_player(b);
    w.insert_player(c);
    w.insert_bot();
    (w, now)
}

fn assert_lines(got: &str, want: &str) {
    let (g, w): (Vec<&str>, Vec<&str>) = (got.lines().collect(), want.lines().collect());
    for (i, (g, w)) in g.iter().zip(&w).enumerate() {
        assert_eq!(g, w, "line {}", i + 1);
    }
    assert_eq!(g.len(), w.len(), "line count");
    assert_eq!(got.ends_with('\n'), want.ends_with('\n'));
}

#[test]
fn status_matches_the_golden_reply() {
    let (mut w, now) = sample_world();
    let reply = execute(&mut w, "127.0.0.1:51234", "status", now);
    assert_lines(&reply.reply, STATUS);
    assert_eq!(
        w.drain(),
        [Output::Log(
            "rcon from \"127.0.0.1:51234\": command \"status\"".into()
        )]
    );
}

#[test]
fn listid_matches_the_golden_reply() {
    let (mut w, now) = sample_world();
    for cmd in [
        "banid 0 STEAM_1:0:12345",
        "banid 30 STEAM_1:1:67890",
        "banid 1440 STEAM_1:0:99999",
    ] {
        assert_eq!(execute(&mut w, "127.0.0.1:1", cmd, now).reply, "");
    }
    assert_lines(&listid_reply(&mut w, now), LISTID);
    // Banning by SteamID without `kick` leaves the players on the server.
    assert_eq!(w.players().len(), 3);
    let out = execute(&mut w, "127.0.0.1:1", "writeid", now);
    assert_eq!(out.ban_file.as_deref(), Some("banid 0 STEAM_1:0:12345\n"));
    assert_eq!(
        execute(&mut w, "127.0.0.1:1", "removeid STEAM_1:1:67890", now).reply,
        ""
    );
    assert!(listid_reply(&mut w, now).starts_with("ID filter list: 2 entries\n"));
    assert!(
        execute(&mut w, "127.0.0.1:1", "removeid STEAM_1:1:67890", now)
            .reply
            .starts_with("removeid: couldn't find")
    );
}

#[test]
fn kickid_and_banid_by_userid_remove_players() {
    let (mut w, now) = sample_world();
    w.drain();
    let out = execute(&mut w, "127.0.0.1:1", "kickid 3 \"spamming\"", now);
    assert_eq!(out.reply, "");
    let lines = w.drain();
    assert!(lines.contains(&Output::Log(
        "Kick: \"Bob Smith<3><STEAM_1:1:67890><Survivor>\" was kicked by \"Console\" (message \"spamming\")".into()
    )));
    assert!(lines.contains(&Output::Console(
        "Dropped Bob Smith from server (Kicked by Console : spamming)".into()
    )));
    assert!(
        execute(&mut w, "127.0.0.1:1", "kickid 3", now)
            .reply
            .contains("couldn't find")
    );
    execute(&mut w, "127.0.0.1:1", "banid 30 2", now);
    let lines = w.drain();
    assert!(lines.contains(&Output::Log(
        "Banid: \"Ärger ☃<2><STEAM_1:0:12345><Survivor>\" was banned \"for 30.00 minutes\" by \"Console\"".into()
    )));
    assert_eq!(w.players().len(), 1);
    execute(&mut w, "127.0.0.1:1", "banid 0 STEAM_1:0:11111 kick", now);
    assert!(w.players().is_empty());
    assert!(listid_reply(&mut w, now).starts_with("ID filter list: 2 entries\n"));
    for bad in [
        "banid",
        "banid x 2",
        "banid -1 2",
        "banid 5 nobody",
        "banid 5 99",
    ] {
        assert_ne!(execute(&mut w, "127.0.0.1:1", bad, now).reply, "", "{bad}");
    }
}

#[test]
fn say_changelevel_quit_unknown_and_several_commands() {
    let (mut w, now) = sample_world();
    w.drain();
    let out = execute(&mut w, "127.0.0.1:1", "say \"hello from the console\"", now);
    assert_eq!(out.reply, "");
    let lines = w.drain();
    assert!(lines.contains(&Output::Log(
        "\"Console<0><Console><Console>\" say \"hello from the console\"".into()
    )));
    assert!(lines.contains(&Output::Console("Console: hello from the console".into())));
    let out = execute(
        &mut w,
        "127.0.0.1:1",
        "changelevel c2m1_highway; nope 1",
        now,
    );
    assert_eq!(out.reply, "Unknown command \"nope\"\n");
    assert_eq!(w.map(), "c2m1_highway");
    assert!(
        w.drain()
            .contains(&Output::NewLogFile("c2m1_highway".into()))
    );
    assert!(
        execute(&mut w, "127.0.0.1:1", "changelevel ../x", now)
            .reply
            .contains("not found")
    );
    let out = execute(&mut w, "127.0.0.1:1", "quit; say after", now);
    assert!(out.quit && out.reply.is_empty());
    assert!(
        !w.drain()
            .iter()
            .any(|o| matches!(o, Output::Console(c) if c.contains("after")))
    );
    assert_eq!(execute(&mut w, "127.0.0.1:1", "", now), Outcome::default());
}

#[test]
fn connected_column_formats() {
    assert_eq!(connected(0), "00:00");
    assert_eq!(connected(312), "05:12");
    assert_eq!(connected(3723), "1:02:03");
}
