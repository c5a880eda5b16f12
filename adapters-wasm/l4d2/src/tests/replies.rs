//! Command builders and the `status` / `listid` parsers against the golden replies.

use super::*;
use crate::L4d2;
use crate::replies::{changelevel, duration, is_steam_id, quit};

fn player(slot: &str) -> Player {
    Player {
        slot: slot.into(),
        name: "Bob".into(),
        unique_id: None,
        address: None,
        ping_ms: None,
        connected_secs: None,
        details: Vec::new(),
    }
}

fn details(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[test]
fn status_sample() {
    assert_eq!(L4d2::players_command().expect("command"), "status");
    let players = L4d2::parse_players(STATUS_TXT).expect("parsed");
    let want = vec![
        Player {
            slot: "2".into(),
            name: "Ärger ☃".into(),
            unique_id: Some("STEAM_1:0:12345".into()),
            address: Some("127.0.0.1:27005".into()),
            ping_ms: Some(45),
            connected_secs: Some(5 * 60 + 12),
            details: details(&[("loss", "0"), ("state", "active")]),
        },
        Player {
            slot: "3".into(),
            name: "Bob Smith".into(),
            unique_id: Some("STEAM_1:1:67890".into()),
            address: Some("127.0.0.1:27006".into()),
            ping_ms: Some(80),
            connected_secs: Some(3600 + 2 * 60 + 3),
            details: details(&[("loss", "2"), ("state", "active")]),
        },
        Player {
            slot: "4".into(),
            name: "Spawning Player".into(),
            unique_id: Some("STEAM_1:0:11111".into()),
            address: Some("127.0.0.1:27007".into()),
            ping_ms: Some(120),
            connected_secs: Some(3),
            details: details(&[("loss", "0"), ("state", "spawning")]),
        },
    ];
    assert_eq!(dbg(&players), dbg(&want), "the bot Zoey is left out");
}

#[test]
fn status_variant_sample() {
    let players = L4d2::parse_players(STATUS_VARIANT_TXT).expect("parsed");
    let want = vec![Player {
        slot: "7".into(),
        name: "Name With  Spaces".into(),
        unique_id: Some("STEAM_1:1:424242".into()),
        address: Some("10.0.0.2:27005".into()),
        ping_ms: Some(12),
        connected_secs: Some(59),
        details: details(&[("loss", "0"), ("state", "active")]),
    }];
    assert_eq!(dbg(&players), dbg(&want));
}

#[test]
fn status_lines_in_other_shapes() {
    let reply = "# 9 1 \"With \"quotes\" inside\" STEAM_1:0:1 10:00 5 0 active 20000 1.2.3.4:5\n\
                 #10 \"Pending\" STEAM_ID_PENDING 00:01 0 0 connecting\n\
                 # x \"not a user id\" STEAM_1:0:1 00:01 0 0 active 1.2.3.4:5\n\
                 #\n\
                 garbage \"#\" line\n";
    let players = L4d2::parse_players(reply).expect("parsed");
    assert_eq!(players.len(), 2);
    assert_eq!(players[0].slot, "9");
    assert_eq!(players[0].name, "With \"quotes\" inside");
    assert_eq!(players[0].connected_secs, Some(600));
    assert_eq!(players[0].address.as_deref(), Some("1.2.3.4:5"));
    assert_eq!(players[1].slot, "10");
    assert_eq!(players[1].unique_id, None);
    assert_eq!(players[1].address, None, "no address column");
    assert!(L4d2::parse_players("").expect("parsed").is_empty());
}

#[test]
fn durations() {
    assert_eq!(duration("05:12"), Some(312));
    assert_eq!(duration("1:02:03"), Some(3723));
    assert_eq!(duration("00:00"), Some(0));
    for bad in ["", "12", "1:2:3:4", "a:00", "1::2", "99999:00"] {
        assert_eq!(duration(bad), None, "{bad}");
    }
}

#[test]
fn kick_quotes_a_cleaned_reason() {
    assert_eq!(
        L4d2::kick_commands(&player("3"), "spamming").expect("kick"),
        ["kickid 3 \"spamming\""]
    );
    assert_eq!(
        L4d2::kick_commands(&player("3"), "bye\"; quit;\nexec x").expect("kick"),
        ["kickid 3 \"bye quit exec x\""]
    );
    assert!(matches!(
        L4d2::kick_commands(&player("3; quit"), "x"),
        Err(AdapterError::Invalid(_))
    ));
}

#[test]
fn bans_online_by_identity_and_refused() {
    let ban = |target: BanTarget, minutes: Option<u32>| {
        L4d2::ban_commands(&BanRequest {
            target,
            minutes,
            reason: "cheating".into(),
        })
    };
    assert_eq!(
        ban(BanTarget::Online(player("3")), Some(30)).expect("ban"),
        ["banid 30 3 kick", "writeid"]
    );
    assert_eq!(
        ban(BanTarget::Online(player("3")), None).expect("ban"),
        ["banid 0 3 kick", "writeid"]
    );
    assert_eq!(
        ban(BanTarget::Identity("STEAM_1:0:12345".into()), None).expect("ban"),
        ["banid 0 STEAM_1:0:12345", "writeid"]
    );
    assert_eq!(
        ban(BanTarget::Identity(" STEAM_0:1:9 ".into()), Some(1440)).expect("ban"),
        ["banid 1440 STEAM_0:1:9", "writeid"]
    );
    for bad in [
        "1.2.3.4",
        "STEAM_6:0:1",
        "STEAM_1:2:1",
        "STEAM_1:0:",
        "STEAM_1:0:1; quit",
    ] {
        assert!(
            matches!(
                ban(BanTarget::Identity(bad.into()), None),
                Err(AdapterError::Invalid(_))
            ),
            "{bad}"
        );
    }
    assert!(ban(BanTarget::Online(player("x")), None).is_err());
    assert!(ban(BanTarget::Online(player("3")), Some(0)).is_err());
}

#[test]
fn unban_removes_the_identity() {
    let entry = |identity: &str| BanEntry {
        id: "1".into(),
        identity: identity.into(),
        minutes_left: None,
        reason: String::new(),
    };
    assert_eq!(
        L4d2::unban_commands(&entry("STEAM_1:0:12345")).expect("unban"),
        ["removeid STEAM_1:0:12345", "writeid"]
    );
    assert!(L4d2::unban_commands(&entry("STEAM_1:0:1; quit")).is_err());
}

#[test]
fn listid_sample() {
    assert_eq!(L4d2::bans_command().expect("command"), "listid");
    let bans = L4d2::parse_bans(LISTID_TXT).expect("parsed");
    let entry = |id: &str, identity: &str, minutes_left: Option<u32>| BanEntry {
        id: id.into(),
        identity: identity.into(),
        minutes_left,
        reason: String::new(),
    };
    let want = vec![
        entry("1", "STEAM_1:0:12345", None),
        entry("2", "STEAM_1:1:67890", Some(30)),
        entry("3", "STEAM_1:0:99999", Some(1440)),
    ];
    assert_eq!(dbg(&bans), dbg(&want));
}

#[test]
fn listid_rounding_and_odd_lines() {
    let bans = L4d2::parse_bans(
        "ID filter list: empty\n1 STEAM_1:0:1 : 29.600 min\n2 STEAM_1:0:2 : 0.400 min\n\
         3 STEAM_1:0:3 : NaN min\n4 STEAM_1:0:4 : -1.0 min\n5 STEAM_1:0:5 permanent\n",
    )
    .expect("parsed");
    let got: Vec<(String, Option<u32>)> =
        bans.into_iter().map(|b| (b.id, b.minutes_left)).collect();
    assert_eq!(got, [("1".into(), Some(30)), ("2".into(), Some(0))]);
}

#[test]
fn say_strips_what_could_chain_commands() {
    assert_eq!(
        L4d2::say_command("hello all").expect("say"),
        "say hello all"
    );
    assert_eq!(
        L4d2::say_command("hi\"; quit;\r\nrcon_password x").expect("say"),
        "say hi quit  rcon_password x"
    );
    assert!(L4d2::say_command(" \"; ").is_err());
}

#[test]
fn changelevel_and_quit_helpers() {
    assert_eq!(
        changelevel("c2m1_highway").expect("map"),
        "changelevel c2m1_highway"
    );
    for bad in ["", "c2m1; quit", "C2M1", "../maps/x", "c2m1 x"] {
        assert!(
            matches!(changelevel(bad), Err(AdapterError::Invalid(_))),
            "{bad}"
        );
    }
    assert_eq!(quit(), "quit");
}

#[test]
fn steam_ids() {
    assert!(is_steam_id("STEAM_1:0:12345"));
    assert!(is_steam_id("STEAM_0:1:1"));
    assert!(!is_steam_id("STEAM_1:0:12345 "));
    assert!(!is_steam_id("[U:1:12345]"));
    assert!(!is_steam_id("BOT"));
}
