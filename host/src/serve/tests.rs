//! The accept loop's limits over real loopback sockets: the header and idle timeouts close
//! what they should (each with the other set far away), one address holds at most its cap,
//! and a WebSocket's send buffer is capped. Every wait is bounded, so a missing limit fails
//! the test instead of hanging it.

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

use super::*;

/// Bounds every wait.
const PATIENCE: Duration = Duration::from_secs(20);
/// Far longer than any test runs.
const NEVER: Duration = Duration::from_secs(3600);
/// Short enough to pass quickly.
const SHORT: Duration = Duration::from_millis(300);

/// Serves a one-route router with `options` until the returned token is cancelled.
async fn start(options: ServeOptions) -> (SocketAddr, CancellationToken) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("address");
    let router = Router::new().route("/ok", get(|| async { "ok" }));
    let stop = CancellationToken::new();
    let stopped = stop.clone();
    tokio::spawn(serve(listener, router, options, async move {
        stopped.cancelled().await;
    }));
    (addr, stop)
}

/// Reads until the server closes the connection; panics if it stays open past [`PATIENCE`].
async fn closed_by_server(stream: &mut TcpStream) {
    let mut buffer = [0u8; 1024];
    tokio::time::timeout(PATIENCE, async {
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await
    .expect("the server closes the connection");
}

/// Sends one request and reads its whole answer (the body is `ok`, two bytes).
async fn request_ok(stream: &mut TcpStream) {
    stream
        .write_all(b"GET /ok HTTP/1.1\r\nHost: test\r\n\r\n")
        .await
        .expect("write");
    let mut answer = Vec::new();
    let mut buffer = [0u8; 1024];
    tokio::time::timeout(PATIENCE, async {
        while !(answer.starts_with(b"HTTP/1.1 200") && answer.ends_with(b"\r\n\r\nok")) {
            let n = stream.read(&mut buffer).await.expect("read");
            assert!(n > 0, "closed before answering");
            answer.extend_from_slice(&buffer[..n]);
        }
    })
    .await
    .expect("an answer");
}

#[tokio::test]
async fn a_half_sent_request_head_is_closed_after_the_header_timeout() {
    let (addr, _stop) = start(ServeOptions {
        header_timeout: SHORT,
        idle_timeout: NEVER,
        ..ServeOptions::default()
    })
    .await;
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream
        .write_all(b"GET /ok HTTP/1.1\r\nHost: te")
        .await
        .expect("write");
    closed_by_server(&mut stream).await;
}

#[tokio::test]
async fn a_connection_that_starts_no_request_is_closed_after_the_idle_timeout() {
    let (addr, _stop) = start(ServeOptions {
        header_timeout: NEVER,
        idle_timeout: SHORT,
        ..ServeOptions::default()
    })
    .await;
    // Never a byte.
    let mut silent = TcpStream::connect(addr).await.expect("connect");
    closed_by_server(&mut silent).await;
    // Kept alive after an answer, then silent.
    let mut kept = TcpStream::connect(addr).await.expect("connect");
    request_ok(&mut kept).await;
    closed_by_server(&mut kept).await;
}

#[tokio::test]
async fn one_address_holds_at_most_its_cap_of_connections() {
    let (addr, _stop) = start(ServeOptions {
        max_connections_per_address: 2,
        ..ServeOptions::default()
    })
    .await;
    let mut first = TcpStream::connect(addr).await.expect("connect");
    let mut second = TcpStream::connect(addr).await.expect("connect");
    request_ok(&mut first).await;
    request_ok(&mut second).await;
    let mut third = TcpStream::connect(addr).await.expect("connect");
    closed_by_server(&mut third).await;
    // The first two still work; once one is closed, a new one is served.
    request_ok(&mut first).await;
    drop(second);
    tokio::time::timeout(PATIENCE, async {
        loop {
            let mut next = TcpStream::connect(addr).await.expect("connect");
            let sent = next
                .write_all(b"GET /ok HTTP/1.1\r\nHost: test\r\n\r\n")
                .await;
            let mut buffer = [0u8; 64];
            if sent.is_ok() && matches!(next.read(&mut buffer).await, Ok(n) if n > 0) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("a place frees up when a connection closes");
}

#[tokio::test]
async fn a_websocket_connection_caps_its_kernel_send_buffer() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("address");
    let client = TcpStream::connect(addr).await.expect("connect");
    let (accepted, _) = listener.accept().await.expect("accept");
    let shared = Arc::new(Shared::default());
    let mut io = Io {
        stream: accepted,
        shared: shared.clone(),
    };
    let wanted = 16 * 1024;
    let connection = Connection {
        shared,
        ws_send_buffer: wanted,
    };
    io.write_all(b"before").await.expect("write");
    let auto = rustix::net::sockopt::socket_send_buffer_size(&io.stream).expect("SO_SNDBUF");
    connection.for_websocket();
    io.write_all(b"after").await.expect("write");
    let capped = rustix::net::sockopt::socket_send_buffer_size(&io.stream).expect("SO_SNDBUF");
    // Linux doubles the value asked for (bookkeeping) and stops auto-tuning the buffer.
    assert!(
        (wanted..=2 * wanted).contains(&capped),
        "asked for {wanted}, got {capped} (was {auto})"
    );
    drop(client);
}
