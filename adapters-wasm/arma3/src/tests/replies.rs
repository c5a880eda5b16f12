//! Player and ban lists from the golden replies, and the commands built for the panel.

use super::*;
use crate::Arma3;

fn online(slot: &str) -> Player {
    Player {
        slot: slot.into(),
        name: "Bob Smith".into(),
        unique_id: None,
        address: None,
        ping_ms: None,
        connected_secs: None,
        details: Vec::new(),
    }
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| ((*a).into(), (*b).into()))
        .collect()
}

#[test]
fn players_golden() {
    assert_eq!(Arma3::players_command().expect("cmd"), "players");
    let players = Arma3::parse_players(PLAYERS_TXT).expect("parsed");
    let want = vec![
        Player {
            slot: "0".into(),
            name: "Ärger ☃".into(),
            unique_id: Some("0123456789abcdef0123456789abcdef".into()),
            address: Some("127.0.0.1:2304".into()),
            ping_ms: Some(31),
            connected_secs: None,
            details: pairs(&[("verified", "true")]),
        },
        Player {
            slot: "1".into(),
            name: "Bob Smith".into(),
            unique_id: Some("fedcba9876543210fedcba9876543210".into()),
            address: Some("127.0.0.1:2316".into()),
            ping_ms: Some(47),
            connected_secs: None,
            details: pairs(&[("verified", "false"), ("lobby", "true")]),
        },
        Player {
            slot: "12".into(),
            name: "Connecting Player".into(),
            unique_id: None,
            address: Some("10.0.0.7:2304".into()),
            ping_ms: Some(0),
            connected_secs: None,
            details: Vec::new(),
        },
    ];
    assert_eq!(dbg(&players), dbg(&want));
}

#[test]
fn bans_golden() {
    assert_eq!(Arma3::bans_command().expect("cmd"), "bans");
    let bans = Arma3::parse_bans(BANS_TXT).expect("parsed");
    let entry = |id: &str, identity: &str, left: Option<u32>, reason: &str| BanEntry {
        id: id.into(),
        identity: identity.into(),
        minutes_left: left,
        reason: reason.into(),
    };
    let want = vec![
        entry("0", "0123456789abcdef0123456789abcdef", None, "Cheating"),
        entry(
            "1",
            "fedcba9876543210fedcba9876543210",
            Some(120),
            "Spamming in global chat",
        ),
        entry("2", "192.0.2.5", None, "Ban evasion"),
        entry("3", "198.51.100.17", Some(0), "expired entry"),
    ];
    assert_eq!(dbg(&bans), dbg(&want));
}

#[test]
fn replies_with_odd_lines_are_skipped_not_refused() {
    let reply = "garbage\n\n0\n0 1.2.3.4:5\n0 1.2.3.4:5 1 zzzz Name\n(0 players in total)\n";
    assert!(Arma3::parse_players(reply).expect("ok").is_empty());
    assert!(
        Arma3::parse_bans("x\n5 id notanumber reason\n")
            .expect("ok")
            .is_empty()
    );
    assert!(Arma3::parse_players("").expect("ok").is_empty());
}

#[test]
fn kick_and_say() {
    assert_eq!(
        Arma3::kick_commands(&online("3"), "spam\nkick 0").expect("kick"),
        vec!["kick 3 spam kick 0"]
    );
    assert_eq!(
        Arma3::kick_commands(&online("3"), "").expect("kick"),
        vec!["kick 3"]
    );
    assert!(Arma3::kick_commands(&online("3 0"), "x").is_err());
    assert!(Arma3::kick_commands(&online("-1"), "x").is_err());
    assert_eq!(
        Arma3::say_command("hello\r\nall").expect("say"),
        "say -1 hello  all"
    );
    assert!(Arma3::say_command(" \n ").is_err());
}

#[test]
fn bans_for_players_and_identities() {
    let req = |target: BanTarget, minutes: Option<u32>, reason: &str| BanRequest {
        target,
        minutes,
        reason: reason.into(),
    };
    assert_eq!(
        Arma3::ban_commands(&req(BanTarget::Online(online("1")), None, "cheating")).expect("ban"),
        vec!["ban 1 0 cheating"]
    );
    assert_eq!(
        Arma3::ban_commands(&req(BanTarget::Online(online("1")), Some(60), "a\nb")).expect("ban"),
        vec!["ban 1 60 a b"]
    );
    let guid = "0123456789abcdef0123456789abcdef";
    assert_eq!(
        Arma3::ban_commands(&req(BanTarget::Identity(guid.into()), Some(5), "x")).expect("ban"),
        vec![format!("addBan {guid} 5 x")]
    );
    assert_eq!(
        Arma3::ban_commands(&req(BanTarget::Identity("192.0.2.5".into()), None, "")).expect("ban"),
        vec!["addBan 192.0.2.5 0"]
    );
    for bad in ["", "abc", "1.2.3", "0123 4567", "76561198000000001"] {
        assert!(
            Arma3::ban_commands(&req(BanTarget::Identity(bad.into()), None, "x")).is_err(),
            "{bad:?}"
        );
    }
    assert!(Arma3::ban_commands(&req(BanTarget::Online(online("1")), Some(0), "x")).is_err());
}

#[test]
fn unban_by_number() {
    let entry = |id: &str| BanEntry {
        id: id.into(),
        identity: "192.0.2.5".into(),
        minutes_left: None,
        reason: String::new(),
    };
    assert_eq!(
        Arma3::unban_commands(&entry("2")).expect("unban"),
        vec!["removeBan 2"]
    );
    assert!(Arma3::unban_commands(&entry("2; #shutdown")).is_err());
}
