use super::*;

fn listed(slot: &str, name: &str, id: Option<&str>, ping: u32) -> Player {
    Player {
        slot: slot.into(),
        name: name.into(),
        unique_id: id.map(String::from),
        address: Some("127.0.0.1:2304".into()),
        ping_ms: Some(ping),
        connected_secs: None,
        details: Vec::new(),
    }
}

fn on(slot: &str, name: &str, id: Option<&str>, ping: u32) -> OnlinePlayer {
    OnlinePlayer {
        key: player_key(slot, name, id),
        slot: slot.into(),
        name: name.into(),
        unique_id: id.map(String::from),
        address: Some("127.0.0.1:2304".into()),
        ping_ms: Some(ping),
        joined_at: "2026-01-01T00:00:00.000Z".into(),
    }
}

#[test]
fn keys_prefer_the_stable_identity() {
    assert_eq!(player_key("3", "Miller", Some("abc")), "id:abc");
    assert_eq!(player_key("3", "Miller", Some("")), "slot:3:Miller");
    assert_eq!(player_key("3", "Miller", None), "slot:3:Miller");
}

#[test]
fn the_same_list_is_no_change() {
    let before = vec![on("0", "Miller", Some("g1"), 40)];
    let change = diff(&before, vec![listed("0", "Miller", Some("g1"), 40)]);
    assert!(change.is_empty(), "{change:?}");
}

#[test]
fn arrivals_departures_and_updates_are_told_apart() {
    let before = vec![
        on("0", "Miller", Some("g1"), 40),
        on("1", "Kerry", None, 50),
        on("2", "Stavrou", Some("g3"), 60),
    ];
    let now = vec![
        // Same connection, new ping and a verified identity: an update, key kept.
        listed("1", "Kerry", Some("g2"), 70),
        // Slot 2 reused by someone else: Stavrou left, Armstrong arrived.
        listed("2", "Armstrong", Some("g4"), 30),
        listed("0", "Miller", Some("g1"), 40),
    ];
    let change = diff(&before, now);
    let joined: Vec<&str> = change.joined.iter().map(|p| p.name.as_str()).collect();
    let left: Vec<&str> = change.left.iter().map(|(p, _)| p.name.as_str()).collect();
    assert_eq!(joined, ["Armstrong"]);
    assert_eq!(left, ["Stavrou"]);
    assert_eq!(change.updated.len(), 1);
    let kerry = &change.updated[0];
    assert_eq!(
        kerry.key, "slot:1:Kerry",
        "the key of a session never changes"
    );
    assert_eq!(kerry.unique_id.as_deref(), Some("g2"));
    assert_eq!(kerry.ping_ms, Some(70));
    assert_eq!(kerry.joined_at, before[1].joined_at);
}

#[test]
fn an_empty_list_means_everyone_left() {
    let before = vec![on("0", "Miller", Some("g1"), 40)];
    let change = diff(&before, Vec::new());
    assert_eq!(change.left.len(), 1);
    assert!(change.joined.is_empty() && change.updated.is_empty());
}

fn named(slot: Option<&str>, name: &str, id: Option<&str>, address: Option<&str>) -> PlayerRef {
    PlayerRef {
        slot: slot.map(String::from),
        name: name.into(),
        unique_id: id.map(String::from),
        address: address.map(String::from),
    }
}

fn bare(slot: &str, name: &str) -> OnlinePlayer {
    OnlinePlayer {
        unique_id: None,
        address: None,
        ..on(slot, name, None, 20)
    }
}

#[test]
fn a_log_event_names_a_player_by_slot_then_identity_then_name() {
    let online = vec![
        on("1", "Miller", Some("u1"), 20),
        on("2", "Cooper", Some("u2"), 20),
    ];
    let by_slot = named(Some("2"), "Miller", Some("u1"), None);
    assert_eq!(
        find(&online, &by_slot).map(|p| p.name.as_str()),
        Some("Cooper")
    );
    let by_id = named(Some("9"), "Someone", Some("u1"), None);
    assert_eq!(
        find(&online, &by_id).map(|p| p.name.as_str()),
        Some("Miller")
    );
    let by_name = named(None, "Cooper", None, None);
    assert_eq!(
        find(&online, &by_name).map(|p| p.name.as_str()),
        Some("Cooper")
    );
    assert!(find(&online, &named(None, "Nobody", Some("u9"), None)).is_none());
}

#[test]
fn an_identity_fills_in_only_what_the_list_lacks() {
    let listed = bare("1", "Miller");
    let filled = fill(&listed, Some("uuid-1"), Some("192.0.2.7:2304")).expect("filled");
    assert_eq!(filled.unique_id.as_deref(), Some("uuid-1"));
    assert_eq!(filled.address.as_deref(), Some("192.0.2.7:2304"));
    assert_eq!(filled.key, listed.key, "the key stays");
    let known = on("1", "Miller", Some("u1"), 20);
    assert!(fill(&known, Some("other"), Some("127.0.0.1:2304")).is_none());
}

#[test]
fn log_notes_complete_the_lists_arrivals_and_departures_once() {
    let now = std::time::Instant::now();
    let mut notes = LogNotes::default();
    notes.identified(
        named(None, "Miller", None, None),
        Some("uuid-1".into()),
        Some("192.0.2.7:2304".into()),
        now,
    );
    notes.departed(
        named(Some("2"), "Cooper", None, None),
        "kicked: spam".into(),
        now,
    );
    notes.departed(named(Some("3"), "Quiet", None, None), "banned".into(), now);

    let mut change = diff(
        &[bare("2", "Cooper"), bare("4", "Plain")],
        vec![Player {
            unique_id: None,
            address: None,
            ..listed("1", "Miller", None, 30)
        }],
    );
    notes.complete(&mut change, now);
    assert_eq!(change.joined.len(), 1);
    assert_eq!(change.joined[0].unique_id.as_deref(), Some("uuid-1"));
    assert_eq!(change.joined[0].address.as_deref(), Some("192.0.2.7:2304"));
    let left: Vec<(&str, Option<&str>)> = change
        .left
        .iter()
        .map(|(p, why)| (p.name.as_str(), why.as_deref()))
        .collect();
    assert_eq!(left, [("Cooper", Some("kicked: spam")), ("Plain", None)]);
    // Used once; the unused note expires.
    assert!(notes.identities.is_empty());
    assert_eq!(notes.departures.len(), 1);
    let mut later = Change::default();
    notes.complete(&mut later, now + LOG_NOTE_LIFETIME);
    assert!(notes.departures.is_empty());
}

#[test]
fn a_departure_says_how_and_why() {
    assert_eq!(departure_reason("disconnected", None), None);
    assert_eq!(departure_reason("kicked", None).as_deref(), Some("kicked"));
    assert_eq!(
        departure_reason("banned", Some(String::new())).as_deref(),
        Some("banned")
    );
    assert_eq!(
        departure_reason("kicked", Some("spam".into())).as_deref(),
        Some("spam")
    );
}
