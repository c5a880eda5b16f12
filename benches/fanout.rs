//! WebSocket fan-out harness (not criterion): 500 clients, 25 on each of 20 servers, connected
//! to the real router on a loopback listener, while a producer publishes 5,000 log events/s
//! in total on the event bus. Reports the producer stall (how long each `publish` takes, and
//! how far the producer fell behind its schedule) and the delivery latency from publish to a
//! client holding the message (p50/p99/max), plus any `resync` messages.
//!
//! `GARRISON_FANOUT_SECONDS` changes the run length (default 10). Prints figures; asserts
//! nothing about speed.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use garrison::adapters::model::Level;
use garrison::adapters::{AdapterRuntime, SandboxConfig};
use garrison::api::{AppState, router};
use garrison::auth::{Auth, TokenSigner};
use garrison::events::{Event, EventKind};
use garrison::store::logs::LogLine;
use garrison::store::servers::{self, NewServer};
use garrison::store::users::{self, NewUser};
use garrison::store::{Role, Store};
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;

const SERVERS: usize = 20;
const CLIENTS: usize = 500;
const EVENTS_PER_SECOND: u64 = 5_000;

fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

/// What one client saw: latencies in µs and resync messages.
struct Seen {
    latencies: Vec<u64>,
    resyncs: u64,
}

async fn client(
    addr: SocketAddr,
    token: String,
    server: i64,
    base: Instant,
    expected: u64,
) -> Seen {
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/api/v1/ws"))
        .await
        .expect("connect");
    let auth = json!({ "type": "auth", "token": token }).to_string();
    ws.send(Message::text(auth)).await.expect("auth");
    let subscribe = json!({ "type": "subscribe", "servers": [server] }).to_string();
    ws.send(Message::text(subscribe)).await.expect("subscribe");
    let mut seen = Seen {
        latencies: Vec::with_capacity(expected as usize),
        resyncs: 0,
    };
    let mut lines = 0;
    while lines < expected {
        let next = tokio::time::timeout(Duration::from_secs(10), ws.next()).await;
        let Ok(Some(Ok(Message::Text(text)))) = next else {
            if matches!(next, Ok(Some(Ok(_)))) {
                continue;
            }
            break;
        };
        let value: serde_json::Value = serde_json::from_str(&text).expect("json");
        match value["type"].as_str() {
            Some("log") => {
                let now = base.elapsed().as_micros() as u64;
                for line in value["lines"].as_array().into_iter().flatten() {
                    let sent: u64 = line["text"]
                        .as_str()
                        .and_then(|t| t.parse().ok())
                        .unwrap_or(now);
                    seen.latencies.push(now.saturating_sub(sent));
                    lines += 1;
                }
            }
            Some("resync") => {
                seen.resyncs += 1;
                lines += value["missed"].as_u64().unwrap_or(0);
            }
            _ => {}
        }
    }
    seen
}

fn main() {
    let seconds: u64 = std::env::var("GARRISON_FANOUT_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(run(seconds));
}

async fn run(seconds: u64) {
    let store = Store::open_in_memory().expect("store");
    let adapters = AdapterRuntime::new(SandboxConfig::default(), None).expect("adapters");
    let secrets =
        garrison::secrets::SecretBox::from_base64("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
            .expect("key");
    let data_dir = tempfile::tempdir().expect("tempdir");
    let servers_handle = garrison::servers::Servers::new(
        store.clone(),
        adapters.clone(),
        secrets.clone(),
        data_dir.path(),
    );
    let executor = Arc::new(garrison::servers::executor::ServerExecutor::new(
        servers_handle.clone(),
        None,
    ));
    let jobs = garrison::jobs::JobQueue::start(store.clone(), executor, 1)
        .await
        .expect("queue");
    let auth = Auth::new(
        store.clone(),
        TokenSigner::random(Duration::from_secs(3600)),
    );
    let admin = store
        .call(|conn| {
            users::insert(
                conn,
                &NewUser {
                    username: "bench".into(),
                    password_hash: "$argon2id$unused".into(),
                    role: Role::Admin,
                },
            )
        })
        .await
        .expect("user");
    let token = auth.issue(&admin).token;
    let mut server_ids = Vec::new();
    for i in 0..SERVERS {
        let new = NewServer::new(format!("s{i}"), "generic", json!({}));
        let server = store
            .call(move |conn| servers::insert(conn, &new))
            .await
            .expect("server");
        server_ids.push(server.id);
    }
    let app = router(AppState {
        adapters,
        store: store.clone(),
        secrets,
        servers: servers_handle.clone(),
        jobs: jobs.handle(),
        auth,
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
    });

    let total = EVENTS_PER_SECOND * seconds;
    let per_server = total / SERVERS as u64;
    let base = Instant::now();
    let mut clients = Vec::new();
    for i in 0..CLIENTS {
        let server = server_ids[i % SERVERS];
        clients.push(tokio::spawn(client(
            addr,
            token.clone(),
            server,
            base,
            per_server,
        )));
    }
    // Every client is subscribed once the `subscribed` answers went out; a short settle
    // is enough for a harness (late subscribers would only see fewer events).
    tokio::time::sleep(Duration::from_secs(3)).await;

    let bus = servers_handle.events().clone();
    let ids = server_ids.clone();
    let producer = std::thread::spawn(move || {
        let interval = Duration::from_nanos(1_000_000_000 / EVENTS_PER_SECOND);
        let start = Instant::now();
        let mut publish_ns = Vec::with_capacity(total as usize);
        let mut behind_max = Duration::ZERO;
        let mut seq = vec![0_i64; ids.len()];
        for i in 0..total {
            let due = start + interval * i as u32;
            let now = Instant::now();
            if due > now {
                std::thread::sleep(due - now);
            } else {
                behind_max = behind_max.max(now - due);
            }
            let index = (i % ids.len() as u64) as usize;
            seq[index] += 1;
            let line = LogLine {
                seq: seq[index],
                source: "console".into(),
                at: 0,
                level: Level::Info,
                game_time: None,
                text: base.elapsed().as_micros().to_string(),
                events: Vec::new(),
            };
            let before = Instant::now();
            bus.publish(Event::new(ids[index], EventKind::Log { lines: vec![line] }));
            publish_ns.push(before.elapsed().as_nanos() as u64);
        }
        (publish_ns, behind_max, start.elapsed())
    });
    let (mut publish_ns, behind_max, took) = producer.join().expect("producer");

    let mut latencies = Vec::new();
    let mut resyncs = 0;
    for client in clients {
        let seen = client.await.expect("client");
        latencies.extend(seen.latencies);
        resyncs += seen.resyncs;
    }
    publish_ns.sort_unstable();
    latencies.sort_unstable();
    let expected = per_server * (CLIENTS / SERVERS) as u64 * SERVERS as u64;
    println!(
        "fan-out: {CLIENTS} clients on {SERVERS} servers, {total} events in {:.2} s ({:.0}/s)",
        took.as_secs_f64(),
        total as f64 / took.as_secs_f64()
    );
    println!(
        "producer: publish p50 {} ns, p99 {} ns, max {} ns; furthest behind schedule {:.2} ms",
        percentile(&publish_ns, 0.5),
        percentile(&publish_ns, 0.99),
        publish_ns.last().copied().unwrap_or(0),
        behind_max.as_secs_f64() * 1000.0
    );
    println!(
        "delivery: {} of {expected} messages, latency p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; {resyncs} resync(s)",
        latencies.len(),
        percentile(&latencies, 0.5) as f64 / 1000.0,
        percentile(&latencies, 0.99) as f64 / 1000.0,
        latencies.last().copied().unwrap_or(0) as f64 / 1000.0
    );
    drop(jobs);
}
