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
