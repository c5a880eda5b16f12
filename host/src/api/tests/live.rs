//! `/api/v1/ws` over a real listener: authentication, subscriptions and their limits,
//! delivery in order, recent lines first, and a stalled client that must not hold up others.

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use axum::http::StatusCode;

use super::TestApp;
use crate::adapters::model::Level;
use crate::events::{Event, EventKind};
use crate::store::Role;
use crate::store::logs::LogLine;
use crate::telemetry::counters;

type Client = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Bounds every wait, so that a bug fails the test instead of hanging it.
const PATIENCE: Duration = Duration::from_secs(30);

/// Serves `app` on a loopback port as the host does.
async fn serve(app: &TestApp) -> SocketAddr {
    serve_with(app, crate::serve::ServeOptions::default()).await
}

/// Serves `app` on a loopback port with these connection limits.
async fn serve_with(app: &TestApp, options: crate::serve::ServeOptions) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("address");
    let router = app.router.clone();
    tokio::spawn(crate::serve::serve(
        listener,
        router,
        options,
        std::future::pending(),
    ));
    addr
}

async fn connect(addr: SocketAddr) -> Client {
    let (client, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/api/v1/ws"))
        .await
        .expect("connect");
    client
}

async fn send(client: &mut Client, message: Value) {
    client
        .send(Message::text(message.to_string()))
        .await
        .expect("send");
}

/// The published WebSocket schema every message the tests receive is held against.
fn ws_contract() -> &'static garrison_contract::Contract {
    static CONTRACT: std::sync::OnceLock<garrison_contract::Contract> = std::sync::OnceLock::new();
    CONTRACT
        .get_or_init(|| garrison_contract::Contract::new(crate::api::ws::schema_document().clone()))
}

/// The next JSON message (pings and pongs skipped; each checked against the published
/// schema); `None` once closed.
async fn next_json(client: &mut Client) -> Option<Value> {
    tokio::time::timeout(PATIENCE, async {
        loop {
            match client.next().await? {
                Ok(Message::Text(text)) => {
                    let message: Option<Value> = serde_json::from_str(&text).ok();
                    if let Some(message) = &message {
                        garrison_contract::enforce(
                            ws_contract().check_schema("ServerMessage", message),
                        );
                    }
                    return message;
                }
                Ok(Message::Close(_)) | Err(_) => return None,
                Ok(_) => {}
            }
        }
    })
    .await
    .expect("a message in time")
}

/// The next message of `kind`, skipping others.
async fn next_of(client: &mut Client, kind: &str) -> Value {
    loop {
        let message = next_json(client).await.expect("still open");
        if message["type"] == kind {
            return message;
        }
    }
}

/// The close code the server ends with.
async fn close_code(client: &mut Client) -> Option<CloseCode> {
    tokio::time::timeout(PATIENCE, async {
        loop {
            match client.next().await {
                Some(Ok(Message::Close(frame))) => return frame.map(|f| f.code),
                Some(Ok(_)) => {}
                _ => return None,
            }
        }
    })
    .await
    .expect("closed in time")
}

/// An authenticated client subscribed to `servers`.
async fn subscribed(addr: SocketAddr, token: &str, servers: &[i64]) -> Client {
    let mut client = connect(addr).await;
    send(&mut client, json!({ "type": "auth", "token": token })).await;
    next_of(&mut client, "authenticated").await;
    send(
        &mut client,
        json!({ "type": "subscribe", "servers": servers }),
    )
    .await;
    next_of(&mut client, "subscribed").await;
    client
}

fn line(seq: i64, text: String) -> LogLine {
    LogLine {
        seq,
        source: "console".into(),
        at: 0,
        level: Level::Info,
        game_time: None,
        text,
        events: Vec::new(),
    }
}

fn publish_line(app: &TestApp, server_id: i64, seq: i64, text: String) {
    app.servers.events().publish(Event::new(
        server_id,
        EventKind::Log {
            lines: vec![line(seq, text)],
        },
    ));
}

fn seqs(message: &Value) -> Vec<i64> {
    message["lines"]
        .as_array()
        .expect("lines")
        .iter()
        .map(|l| l["seq"].as_i64().expect("seq"))
        .collect()
}

#[tokio::test]
async fn a_bad_token_is_closed_with_4001() {
    let app = TestApp::new().await;
    let addr = serve(&app).await;
    let mut client = connect(addr).await;
    send(&mut client, json!({ "type": "auth", "token": "nonsense" })).await;
    assert_eq!(close_code(&mut client).await, Some(CloseCode::from(4001)));

    let (mut query, _) =
        tokio_tungstenite::connect_async(format!("ws://{addr}/api/v1/ws?token=nonsense"))
            .await
            .expect("connect");
    assert_eq!(close_code(&mut query).await, Some(CloseCode::from(4001)));
}

#[tokio::test]
async fn a_subscription_to_a_server_one_may_not_see_is_closed_with_4003() {
    let app = TestApp::new().await;
    let (_, token) = app.user("mallory", Role::Operator).await;
    let not_hers = app.server(None).await;
    let addr = serve(&app).await;
    let (mut client, _) =
        tokio_tungstenite::connect_async(format!("ws://{addr}/api/v1/ws?token={token}"))
            .await
            .expect("connect");
    next_of(&mut client, "authenticated").await;
    send(
        &mut client,
        json!({ "type": "subscribe", "servers": [not_hers] }),
    )
    .await;
    assert_eq!(close_code(&mut client).await, Some(CloseCode::from(4003)));
}

#[tokio::test]
async fn log_lines_arrive_in_order_after_the_recent_ones_without_repeats() {
    let app = TestApp::new().await;
    let server = app.server(None).await;
    let other = app.server(None).await;
    // Lines stored before the client subscribes are held in memory.
    app.servers
        .recent_logs()
        .push(server, &[line(1, "one".into()), line(2, "two".into())]);
    let addr = serve(&app).await;
    let mut client = subscribed(addr, &app.admin_token, &[server]).await;
    let recent = next_of(&mut client, "log").await;
    assert_eq!(recent["recent"], true);
    assert_eq!(seqs(&recent), [1, 2]);

    // A repeat of line 2 (published before the client subscribed) is not delivered again;
    // another server's lines are not delivered at all.
    publish_line(&app, server, 2, "two".into());
    publish_line(&app, other, 1, "elsewhere".into());
    for seq in 3..=50 {
        publish_line(&app, server, seq, format!("line {seq}"));
    }
    let mut received = Vec::new();
    while received.len() < 48 {
        let message = next_of(&mut client, "log").await;
        assert_eq!(message["server_id"], server);
        assert!(message["time"].is_i64());
        assert_eq!(message["seq"], *seqs(&message).last().expect("a line"));
        received.extend(seqs(&message));
    }
    assert_eq!(received, (3..=50).collect::<Vec<_>>());
}

#[tokio::test]
async fn a_stalled_client_gets_resync_while_another_receives_everything() {
    let app = TestApp::new().await;
    let server = app.server(None).await;
    let addr = serve(&app).await;
    let mut stalled = subscribed(addr, &app.admin_token, &[server]).await;
    let mut reader = subscribed(addr, &app.admin_token, &[server]).await;

    // Published in steps the reading client keeps up with, until far more than the bus
    // holds has gone past the stalled one (whose socket buffers fill up).
    let padding = "x".repeat(8 * 1024);
    let total: i64 = 12_000;
    let step = 500;
    let mut next = 1;
    let mut last_seen = 0;
    while next <= total {
        for seq in next..next + step {
            publish_line(&app, server, seq, format!("{seq} {padding}"));
        }
        next += step;
        while last_seen < next - 1 {
            let message = next_of(&mut reader, "log").await;
            for seq in seqs(&message) {
                assert_eq!(seq, last_seen + 1, "the reading client lost nothing");
                last_seen = seq;
            }
        }
    }

    // The stalled client reads at last: somewhere in its backlog it was told to resync.
    let resync = next_of(&mut stalled, "resync").await;
    assert!(resync["missed"].as_u64().is_some_and(|n| n > 0), "{resync}");
}

#[tokio::test]
async fn a_client_that_stops_reading_is_counted_and_told_to_resync_once_it_reads_again() {
    let app = TestApp::new().await;
    let server = app.server(None).await;
    let addr = serve_with(
        &app,
        crate::serve::ServeOptions {
            ws_send_buffer: 16 * 1024,
            ..crate::serve::ServeOptions::default()
        },
    )
    .await;
    // A client with a small receive window of its own, so the host's buffer is what fills.
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket.set_recv_buffer_size(4096).expect("SO_RCVBUF");
    let stream = socket.connect(addr).await.expect("connect");
    let (mut client, _) = tokio_tungstenite::client_async(
        format!("ws://{addr}/api/v1/ws"),
        MaybeTlsStream::Plain(stream),
    )
    .await
    .expect("upgrade");
    send(
        &mut client,
        json!({ "type": "auth", "token": app.admin_token }),
    )
    .await;
    next_of(&mut client, "authenticated").await;
    send(
        &mut client,
        json!({ "type": "subscribe", "servers": [server] }),
    )
    .await;
    next_of(&mut client, "subscribed").await;

    // More lines than the bus holds, while the client reads nothing. Uncapped, the kernel
    // would queue them all (a few MB); capped at 16 KiB the connection soon has no room and
    // falls behind the bus.
    let dropped_before = counters::WS_EVENTS_DROPPED.load(std::sync::atomic::Ordering::Relaxed);
    let total = crate::events::CAPACITY as i64 + 2_000;
    for seq in 1..=total {
        publish_line(
            &app,
            server,
            seq,
            format!("{seq} a line of an ordinary length"),
        );
        if seq % 500 == 0 {
            // Let the connection take what it can.
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    let resync = next_of(&mut client, "resync").await;
    assert!(resync["missed"].as_u64().is_some_and(|n| n > 0), "{resync}");
    let dropped_after = counters::WS_EVENTS_DROPPED.load(std::sync::atomic::Ordering::Relaxed);
    assert!(
        dropped_after > dropped_before,
        "the dropped counter counts them"
    );
    // Live lines flow again after the resync.
    publish_line(&app, server, total + 1, "after".into());
    loop {
        let message = next_of(&mut client, "log").await;
        if seqs(&message).contains(&(total + 1)) {
            break;
        }
    }
}

#[tokio::test]
async fn a_subscription_whose_grant_is_withdrawn_is_dropped_with_a_message() {
    let app = TestApp::new().await;
    let (viewer, token) = app.user("val", Role::Viewer).await;
    let server = app.server(None).await;
    let user_id = viewer.id;
    let grant = crate::store::grants::GrantRole::Viewer;
    app.store
        .call(move |conn| crate::store::grants::put(conn, user_id, server, grant))
        .await
        .expect("grant");
    let addr = serve(&app).await;
    let mut client = subscribed(addr, &token, &[server]).await;
    // Host metrics (server 0) are for administrators only.
    app.servers.events().publish(Event::new(
        0,
        EventKind::Metrics {
            at: 0,
            samples: vec![("cpu_percent".into(), 1.0)],
        },
    ));
    publish_line(&app, server, 1, "visible".into());
    let first = next_json(&mut client).await.expect("open");
    assert_eq!(first["type"], "log", "{first}");

    app.store
        .call(move |conn| crate::store::grants::delete(conn, user_id, server))
        .await
        .expect("withdraw");
    // Re-checked within a few seconds.
    let dropped = next_of(&mut client, "unsubscribed").await;
    assert_eq!(dropped["servers"], json!([server]));
    assert_eq!(dropped["reason"], "forbidden");
    publish_line(&app, server, 2, "hidden".into());
    publish_line(&app, server, 3, "hidden".into());
    send(&mut client, json!({ "type": "unsubscribe", "servers": [] })).await;
    let answer = next_json(&mut client).await.expect("open");
    assert_eq!(
        answer["type"], "unsubscribed",
        "no log line in between: {answer}"
    );
}

#[tokio::test]
async fn an_expired_token_gets_auth_expired_and_a_4001_close() {
    // Tokens of this host live two seconds; the connection re-checks its credential every
    // RECHECK_EVERY, after which the token has run out.
    let store = crate::store::Store::open_in_memory().expect("store");
    let auth = crate::auth::Auth::new(
        store.clone(),
        crate::auth::TokenSigner::random(Duration::from_secs(2)),
    );
    let app = TestApp::with_auth(store, auth).await;
    let server = app.server(None).await;
    let addr = serve(&app).await;
    let mut client = subscribed(addr, &app.admin_token, &[server]).await;
    let message = next_of(&mut client, "auth_expired").await;
    assert_eq!(message, json!({ "type": "auth_expired" }));
    assert_eq!(close_code(&mut client).await, Some(CloseCode::from(4001)));
}

#[tokio::test]
async fn a_player_joining_and_leaving_is_one_event_each_on_the_socket() {
    use crate::adapters::model::{GameEvent, PlayerRef};
    use crate::telemetry::players::{Ending, PlayerTracker};

    let app = TestApp::new().await;
    let server = app.server(None).await;
    let addr = serve(&app).await;
    let mut client = subscribed(addr, &app.admin_token, &[server]).await;

    // A server without RCon: the log's join and leave are the changes themselves.
    let tracker = PlayerTracker::spawn(
        server,
        None,
        Duration::from_secs(60),
        app.store.clone(),
        app.servers.events().clone(),
    );
    let who = PlayerRef {
        slot: Some("3".into()),
        name: "Miller".into(),
        unique_id: Some("u-77".into()),
        address: None,
    };
    tracker.log_event(GameEvent::PlayerJoined {
        player: who.clone(),
    });
    // The same arrival seen twice (RCon and the log, say) is still one arrival.
    tracker.log_event(GameEvent::PlayerJoined {
        player: who.clone(),
    });
    tracker.log_event(GameEvent::PlayerLeft {
        player: who,
        departure: "disconnected".into(),
        reason: None,
    });

    // Everything up to the `players` message that shows the server empty again, then a
    // quiet moment for anything extra.
    let mut events = Vec::new();
    loop {
        let message = next_json(&mut client).await.expect("still open");
        if message["type"] == "event" {
            events.push(message);
        } else if message["type"] == "players" && message["left"] == json!(["Miller"]) {
            break;
        }
    }
    while let Ok(Some(message)) =
        tokio::time::timeout(Duration::from_millis(300), next_json(&mut client)).await
    {
        if message["type"] == "event" {
            events.push(message);
        }
    }
    tracker.finish(Ending::Detach).await;
    let kinds: Vec<&str> = events
        .iter()
        .map(|e| e["event"]["kind"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(kinds, ["player_joined", "player_left"], "{events:?}");
    assert_eq!(events[0]["event"]["message"], "Miller joined");
    assert_eq!(events[1]["event"]["message"], "Miller left");
    for event in &events {
        assert_eq!(event["server_id"], server);
        assert!(event["seq"].as_u64().is_some_and(|s| s > 0), "{event}");
        assert!(event["event"]["id"].as_i64().is_some(), "{event}");
    }
    assert!(events[0]["seq"].as_u64() < events[1]["seq"].as_u64());
    // As stored: the history endpoint lists the same rows.
    let history = app
        .admin(
            axum::http::Method::GET,
            &format!("/api/v1/servers/{server}/events"),
            None,
        )
        .await
        .json();
    let ids: Vec<i64> = history["items"]
        .as_array()
        .expect("items")
        .iter()
        .rev()
        .filter_map(|e| e["id"].as_i64())
        .collect();
    let published: Vec<i64> = events
        .iter()
        .filter_map(|e| e["event"]["id"].as_i64())
        .collect();
    assert_eq!(ids, published);
}

/// A generic server running `script` with `sh`, restarted at most `max` times after crashes.
async fn shell_server(app: &TestApp, script: &str, max: u32) -> i64 {
    use axum::http::{Method, StatusCode};
    let server = app
        .admin(
            Method::POST,
            "/api/v1/servers",
            Some(json!({"name": "shell", "adapter": "generic", "settings": {
                "executable": "/bin/sh", "args": ["-c", script], "stop_signal_grace_secs": 1,
            }})),
        )
        .await
        .expect(StatusCode::CREATED)
        .json();
    let id = server["id"].as_i64().expect("id");
    app.admin(
        Method::PATCH,
        &format!("/api/v1/servers/{id}"),
        Some(json!({"restart": {"enabled": true, "max": max, "window_secs": 600}})),
    )
    .await
    .expect(StatusCode::OK);
    id
}

/// The next `status` message of the socket that satisfies `pred`.
async fn status_where(client: &mut Client, pred: impl Fn(&Value) -> bool) -> Value {
    loop {
        let message = next_of(client, "status").await;
        if pred(&message) {
            return message;
        }
    }
}

/// An RFC 3339 time as the API writes it, parsed.
fn time(value: &Value) -> std::time::SystemTime {
    let text = value
        .as_str()
        .unwrap_or_else(|| panic!("a time, not {value}"));
    humantime::parse_rfc3339(text).unwrap_or_else(|e| panic!("{text}: {e}"))
}

#[tokio::test]
async fn a_running_server_says_since_when_over_rest_and_the_socket() {
    use axum::http::Method;
    let app = TestApp::new().await;
    let id = shell_server(&app, "exec sleep 30", 3).await;
    let path = format!("/api/v1/servers/{id}");
    let before = app.admin(Method::GET, &path, None).await.json();
    assert_eq!(before["started_at"], Value::Null, "{before}");
    assert_eq!(
        before["restarts"],
        json!({"count": 0, "max": 3, "restarting": false})
    );

    let addr = serve(&app).await;
    let mut client = subscribed(addr, &app.admin_token, &[id]).await;
    let asked = std::time::SystemTime::now();
    app.admin(Method::POST, &format!("{path}/actions/start"), None)
        .await;
    let running = status_where(&mut client, |m| m["state"] == "running").await;
    let started = time(&running["started_at"]);
    // Clock ticks are coarse (10 ms); a second either way is plenty.
    let slack = Duration::from_secs(1);
    assert!(
        started + slack >= asked && started <= std::time::SystemTime::now() + slack,
        "{running}"
    );
    assert_eq!(
        running["restarts"],
        json!({"count": 0, "max": 3, "restarting": false})
    );

    let view = app.admin(Method::GET, &path, None).await.json();
    assert_eq!(view["actual_state"], "running");
    let again = time(&view["started_at"]);
    let apart = again
        .duration_since(started)
        .unwrap_or_else(|e| e.duration());
    assert!(apart < Duration::from_millis(50), "{view} and {running}");

    app.admin(Method::POST, &format!("{path}/actions/kill"), None)
        .await;
    let stopped = status_where(&mut client, |m| m["state"] == "stopped").await;
    assert_eq!(stopped["started_at"], Value::Null, "{stopped}");
    let view = app.admin(Method::GET, &path, None).await.json();
    assert_eq!(view["started_at"], Value::Null, "{view}");
}

#[tokio::test]
async fn a_crashing_server_says_which_restart_follows_and_when_the_host_gave_up() {
    use axum::http::Method;
    let app = TestApp::new().await;
    let id = shell_server(&app, "sleep 0.3; exit 3", 1).await;
    let path = format!("/api/v1/servers/{id}");
    let addr = serve(&app).await;
    let mut client = subscribed(addr, &app.admin_token, &[id]).await;
    app.admin(Method::POST, &format!("{path}/actions/start"), None)
        .await;

    // The first crash: a restart follows, the first of one allowed.
    let crashed = status_where(&mut client, |m| m["state"] == "crashed").await;
    assert_eq!(
        crashed["restarts"],
        json!({"count": 1, "max": 1, "restarting": true}),
        "{crashed}"
    );
    assert_eq!(crashed["started_at"], Value::Null);
    // The backoff is 2 s: the server still waits for its restart.
    let view = app.admin(Method::GET, &path, None).await.json();
    assert_eq!(view["actual_state"], "crashed", "{view}");
    assert_eq!(
        view["restarts"],
        json!({"count": 1, "max": 1, "restarting": true})
    );

    // Restarted, it runs with the restart counted.
    let running = status_where(&mut client, |m| m["state"] == "running").await;
    assert_eq!(
        running["restarts"],
        json!({"count": 1, "max": 1, "restarting": false})
    );
    assert!(running["started_at"].is_string(), "{running}");

    // The second crash: the limit is reached, nothing follows.
    let gave_up = status_where(&mut client, |m| m["state"] == "crashed").await;
    assert_eq!(
        gave_up["restarts"],
        json!({"count": 1, "max": 1, "restarting": false}),
        "{gave_up}"
    );
    let view = app.admin(Method::GET, &path, None).await.json();
    assert_eq!(
        view["restarts"],
        json!({"count": 1, "max": 1, "restarting": false}),
        "{view}"
    );
}

#[tokio::test]
async fn the_messages_are_published_as_a_json_schema_that_holds_what_clients_send() {
    let app = TestApp::new().await;
    let answer = app.get("/api/v1/ws/schema.json", None).await;
    answer.expect(StatusCode::OK);
    let doc = answer.json();
    assert_eq!(
        doc["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    let contract = garrison_contract::Contract::new(doc);
    for message in [
        json!({ "type": "auth", "token": "gar_x" }),
        json!({ "type": "subscribe", "servers": [1, 2] }),
        json!({ "type": "subscribe", "all": true }),
        json!({ "type": "unsubscribe", "all": true }),
    ] {
        assert_eq!(
            contract.check_schema("ClientMessage", &message),
            Ok(()),
            "{message}"
        );
    }
    for message in [
        json!({ "type": "subscribe", "servers": "all" }),
        json!({ "type": "shout" }),
        json!({ "type": "auth" }),
    ] {
        assert!(
            contract.check_schema("ClientMessage", &message).is_err(),
            "{message}"
        );
    }
    // What the host sends: the notices and events, with their types named.
    for message in [
        json!({ "type": "resync", "missed": 3 }),
        json!({ "type": "auth_expired" }),
        json!({ "type": "status", "server_id": 1, "time": 1, "seq": 2, "state": "running",
                "detail": "", "started_at": "2026-12-05T20:00:00.000Z",
                "restarts": { "count": 0, "max": 3, "restarting": false } }),
    ] {
        assert_eq!(
            contract.check_schema("ServerMessage", &message),
            Ok(()),
            "{message}"
        );
    }
    let wrong = json!({ "type": "status", "server_id": 1, "time": 1, "seq": 2,
                        "state": "Running", "detail": "", "started_at": null,
                        "restarts": { "count": 0, "max": 3, "restarting": false } });
    assert!(contract.check_schema("ServerMessage", &wrong).is_err());
}

#[tokio::test]
async fn a_credential_revoked_by_logout_disabling_or_a_password_reset_closes_the_socket_with_4001()
{
    let app = TestApp::new().await;
    let addr = serve(&app).await;
    let mut clients = Vec::new();
    for name in ["leaves", "disabled", "reset"] {
        let (user, token) = app.user(name, Role::Operator).await;
        let mut client = connect(addr).await;
        send(&mut client, json!({ "type": "auth", "token": token })).await;
        next_of(&mut client, "authenticated").await;
        send(&mut client, json!({ "type": "subscribe", "all": true })).await;
        next_of(&mut client, "subscribed").await;
        clients.push((name, user, token, client));
    }
    for (name, user, token, _) in &clients {
        let answer = match *name {
            "leaves" => {
                app.send(
                    super::Call::new(axum::http::Method::POST, "/api/v1/auth/logout").bearer(token),
                )
                .await
            }
            "disabled" => {
                app.admin(
                    axum::http::Method::PATCH,
                    &format!("/api/v1/users/{}", user.id),
                    Some(json!({ "disabled": true })),
                )
                .await
            }
            _ => {
                app.admin(
                    axum::http::Method::POST,
                    &format!("/api/v1/users/{}/password", user.id),
                    Some(json!({ "password": "another long password" })),
                )
                .await
            }
        };
        assert!(answer.status.is_success(), "{name}: {}", answer.status);
    }
    // Each connection finds out at its next re-check of the credential.
    for (name, _, _, client) in &mut clients {
        assert_eq!(
            close_code(client).await,
            Some(CloseCode::from(4001)),
            "{name}"
        );
    }
}

/// A subscriber to everything, authenticated with `token`.
async fn subscribed_to_all(addr: SocketAddr, token: &str) -> Client {
    let mut client = connect(addr).await;
    send(&mut client, json!({ "type": "auth", "token": token })).await;
    next_of(&mut client, "authenticated").await;
    send(&mut client, json!({ "type": "subscribe", "all": true })).await;
    next_of(&mut client, "subscribed").await;
    client
}

#[tokio::test]
async fn a_runtime_jobs_messages_reach_administrators_subscribed_to_everything_only() {
    let app = TestApp::new().await;
    let (operator, operator_token) = app.user("olga", Role::Operator).await;
    let hers = app.server(Some(operator.id)).await;
    let addr = serve(&app).await;
    let mut admin = subscribed_to_all(addr, &app.admin_token).await;
    let mut other = subscribed_to_all(addr, &operator_token).await;

    let queued = app
        .send(
            super::Call::new(
                axum::http::Method::POST,
                "/api/v1/adapters/generic/runtime/install",
            )
            .bearer(&app.admin_token),
        )
        .await;
    queued.expect(StatusCode::ACCEPTED);
    let id = queued.json()["id"].as_i64().expect("id");

    // The administrator follows it: claimed, its log lines, its end.
    let mut lines = Vec::new();
    loop {
        let message = next_json(&mut admin).await.expect("open");
        match message["type"].as_str() {
            Some("job_log") if message["job_id"] == id => {
                assert_eq!(message["server_id"], Value::Null);
                lines.extend(
                    message["lines"]
                        .as_array()
                        .expect("lines")
                        .iter()
                        .filter_map(|l| l["line"].as_str().map(str::to_owned)),
                );
            }
            Some("job") if message["job"]["id"] == id => {
                assert_eq!(message["server_id"], Value::Null);
                assert_eq!(message["job"]["runtime_adapter"], "generic");
                if message["job"]["state"] == "succeeded" {
                    break;
                }
            }
            _ => {}
        }
    }
    assert!(
        lines.iter().any(|l| l.contains("installed by hand")),
        "{lines:?}"
    );

    // Everything published after the job's end reaches the operator after whatever of the
    // job reached her: a line of her own server is the marker.
    publish_line(&app, hers, 1, "marker".into());
    loop {
        let message = next_json(&mut other).await.expect("open");
        assert!(
            message["job_id"] != id && message["job"]["id"] != id,
            "an operator got a runtime job's message: {message}"
        );
        if message["type"] == "log" && message["server_id"] == hers {
            break;
        }
    }
}
