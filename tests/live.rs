//! Live delivery end to end: the real host runs the two demo servers (backed by the
//! simulator); a WebSocket client subscribed to everything receives both servers' log lines
//! in sequence order, without gaps or repeats, and their players.

use crate::common;

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

/// Bounds every wait, so that a broken host fails the test instead of hanging it.
const PATIENCE: Duration = Duration::from_secs(90);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_subscribed_to_all_receives_both_demo_servers_logs_in_order_and_players() {
    let dir = tempfile::tempdir().expect("tempdir");
    // The games outlive the host by design; the test host ends them, also if this fails.
    let host = common::start_host_with(dir, |config| {
        config.demo = Some(common::sim_bin().to_path_buf());
        config.player_poll = Duration::from_millis(500);
    })
    .await;
    let token = host.admin_token().await.to_string();
    let ws_url = format!("{}/api/v1/ws", host.base.replace("http://", "ws://"));
    let (mut client, _) = tokio_tungstenite::connect_async(ws_url)
        .await
        .expect("connect");
    client
        .send(Message::text(
            json!({ "type": "auth", "token": token }).to_string(),
        ))
        .await
        .expect("auth");
    client
        .send(Message::text(
            json!({ "type": "subscribe", "all": true }).to_string(),
        ))
        .await
        .expect("subscribe");

    let mut last_seq: HashMap<i64, i64> = HashMap::new();
    let mut lines_seen: HashMap<i64, usize> = HashMap::new();
    let mut with_players: HashSet<i64> = HashSet::new();
    let delivered = tokio::time::timeout(PATIENCE, async {
        while lines_seen.len() < 2 || lines_seen.values().any(|n| *n < 5) || with_players.is_empty()
        {
            let Some(Ok(message)) = client.next().await else {
                panic!("the WebSocket closed");
            };
            let Message::Text(text) = message else {
                continue;
            };
            let message: Value = serde_json::from_str(&text).expect("JSON");
            garrison_contract::enforce(ws_contract().check_schema("ServerMessage", &message));
            let server = message["server_id"].as_i64().unwrap_or_default();
            match message["type"].as_str() {
                Some("log") => {
                    for line in message["lines"].as_array().expect("lines") {
                        let seq = line["seq"].as_i64().expect("seq");
                        if let Some(last) = last_seq.get(&server) {
                            assert_eq!(seq, last + 1, "server {server}: no gap, no repeat");
                        }
                        last_seq.insert(server, seq);
                        *lines_seen.entry(server).or_default() += 1;
                    }
                }
                Some("players") if message["online"].as_array().is_some_and(|o| !o.is_empty()) => {
                    with_players.insert(server);
                }
                Some("resync") => panic!("a reading client must not lag: {message}"),
                _ => {}
            }
        }
    })
    .await;
    assert!(
        delivered.is_ok(),
        "lines of both servers and players arrive"
    );
    assert_eq!(lines_seen.len(), 2, "{lines_seen:?}");

    drop(client);
    host.stop().await;
}

/// The published WebSocket schema every message received is held against.
fn ws_contract() -> &'static garrison_contract::Contract {
    static CONTRACT: std::sync::OnceLock<garrison_contract::Contract> = std::sync::OnceLock::new();
    CONTRACT.get_or_init(|| {
        garrison_contract::Contract::new(garrison::api::ws::schema_document().clone())
    })
}
