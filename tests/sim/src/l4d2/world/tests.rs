//! World behaviour, and its log lines checked against the golden sample `L0506000.log`.

use super::*;

const SAMPLE: &str = include_str!("../../../../data/l4d2/L0506000.log");

/// World settings for tests (shared with the command tests).
pub fn settings(players: u32, max: u32) -> WorldSettings {
    WorldSettings {
        initial_players: players,
        churn: false,
        max_players: max,
        map: "c1m1_hotel".into(),
        hostname: "Garrison L4D2 Server".into(),
        ip: "0.0.0.0".into(),
        public_ip: "203.0.113.5".into(),
        port: 27015,
        gamemode: "coop".into(),
        difficulty: "Normal".into(),
    }
}

fn logs(out: &[Output]) -> Vec<String> {
    out.iter()
        .filter_map(|o| match o {
            Output::Log(l) => Some(l.clone()),
            _ => None,
        })
        .collect()
}

fn consoles(out: &[Output]) -> Vec<String> {
    out.iter()
        .filter_map(|o| match o {
            Output::Console(l) => Some(l.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn the_sample_session_produces_the_sample_lines() {
    let mut w = World::new(settings(0, 8), Rng::seeded(1));
    let now = Instant::now();
    w.start_map();
    w.admit(
        "Ärger ☃".into(),
        "STEAM_1:0:12345".into(),
        27005,
        45,
        true,
        now,
    );
    w.advance_joins();
    w.advance_joins();
    w.chat(0, false, "hello everyone");
    w.chat(0, true, "going left");
    w.admit(
        "Bob Smith".into(),
        "STEAM_1:1:67890".into(),
        27006,
        80,
        true,
        now,
    );
    w.advance_joins();
    w.advance_joins();
    let bob = w.find("3").expect("Bob by userid");
    assert_eq!(w.find("STEAM_1:1:67890"), Some(bob));
    w.kick(bob, "spamming");
    w.add_ban("STEAM_1:0:99999", 30.0, None, now);
    w.disconnect(2);
    w.rcon_line("127.0.0.1:51234", "changelevel c2m1_highway");
    let out = w.drain();
    let expected: Vec<&str> = SAMPLE
        .lines()
        .map(|l| l.get(25..).unwrap_or(""))
        .skip(2)
        .take_while(|l| *l != "Log file closed")
        .collect();
    assert_eq!(logs(&out), expected);
    let console = consoles(&out);
    let sample_console = include_str!("../../../../data/l4d2/console.log");
    for line in [
        "Client \"Ärger ☃\" connected (127.0.0.1:27005).",
        "Ärger ☃ connected.",
        "Dropped Bob Smith from server (Kicked by Console : spamming)",
    ] {
        assert!(console.iter().any(|l| l == line), "{line}");
        assert!(sample_console.lines().any(|l| l == line), "{line}");
    }
}

#[test]
fn initial_players_join_in_order_then_the_bot() {
    let mut w = World::new(settings(3, 8), Rng::seeded(7));
    let now = Instant::now();
    for _ in 0..6 {
        w.tick(now);
    }
    let names: Vec<&str> = w.players().iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["Ärger ☃", "Bob Smith", "Chloé Dupont"]);
    let ids: Vec<u32> = w.players().iter().map(|p| p.userid).collect();
    assert_eq!(ids, [2, 3, 4]);
    assert_eq!(w.bot(), Some((5, "Zoey")));
    assert!(w.players().iter().all(|p| p.stage == Stage::InGame));
    for p in w.players() {
        let parts: Vec<&str> = p.steam_id.split(':').collect();
        assert_eq!(parts.len(), 3, "{}", p.steam_id);
        assert_eq!(parts[0], "STEAM_1");
        assert!(parts[1] == "0" || parts[1] == "1");
        assert!(parts[2].chars().all(|c| c.is_ascii_digit()));
    }
}

#[test]
fn churn_never_removes_residents_and_bans_block_joins() {
    let mut s = settings(2, 8);
    s.churn = true;
    let mut w = World::new(s, Rng::seeded(3));
    let now = Instant::now();
    let mut left = 0;
    for _ in 0..2000 {
        w.tick(now);
        left += consoles(&w.drain())
            .iter()
            .filter(|l| l.ends_with("(Disconnect by user.)"))
            .count();
    }
    assert!(left > 0, "churn made nobody leave");
    let ids: Vec<u32> = w.players().iter().take(2).map(|p| p.userid).collect();
    assert_eq!(ids, [2, 3]);
    assert!(w.players().len() <= 8);
}

#[test]
fn bans_expire_renew_and_are_removed_by_id_or_position() {
    let mut w = World::new(settings(0, 8), Rng::seeded(1));
    let now = Instant::now();
    w.add_ban("STEAM_1:0:1", 0.0, None, now);
    w.add_ban("STEAM_1:0:2", 1.0, None, now);
    w.add_ban("STEAM_1:0:3", 2.0, None, now);
    assert_eq!(w.bans(now).len(), 3);
    assert_eq!(w.bans(now + Duration::from_secs(90)).len(), 2);
    w.add_ban("STEAM_1:0:1", 5.0, None, now);
    assert_eq!(w.bans(now)[1].steam_id, "STEAM_1:0:1");
    assert!(w.remove_ban("1", now));
    assert!(w.remove_ban("steam_1:0:1", now));
    assert!(!w.remove_ban("STEAM_1:0:1", now));
    assert!(!w.remove_ban("7", now));
    assert!(w.bans(now).is_empty());
    let lines = logs(&w.drain());
    assert_eq!(
        lines[0],
        "Banid: \"Console<0><Console><Console>\" was banned \"permanently\" by \"Console\""
    );
    assert!(lines[1].contains("\"for 1.00 minutes\""));
}

#[test]
fn change_level_opens_a_new_file_and_starts_the_map() {
    let mut w = World::new(settings(0, 8), Rng::seeded(1));
    w.change_level("c2m1_highway");
    let out = w.drain();
    assert_eq!(out[0], Output::NewLogFile("c2m1_highway".into()));
    assert_eq!(
        out[1],
        Output::Console("Loading map \"c2m1_highway\"".into())
    );
    let lines = logs(&out);
    assert_eq!(lines[0], "server cvars start");
    assert!(
        lines[4].starts_with("Started map \"c2m1_highway\" (CRC \""),
        "{}",
        lines[4]
    );
    assert_eq!(w.map(), "c2m1_highway");
}

#[test]
fn same_seed_same_story() {
    let run = || {
        let mut s = settings(4, 8);
        s.churn = true;
        let mut w = World::new(s, Rng::seeded(9));
        let now = Instant::now();
        (0..400)
            .flat_map(|_| {
                w.tick(now);
                w.drain()
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(run(), run());
}
