//! Serving the router over TCP: the accept loop, and the limits that keep slow, idle or
//! greedy clients from holding the host's connections and memory.
//!
//! - **Idle timeout.** A connection that does not start a request (its first byte) within
//!   [`ServeOptions::idle_timeout`] of being opened or of its previous answer is closed.
//! - **Header timeout.** Once a request's first byte has arrived, its whole head must follow
//!   within [`ServeOptions::header_timeout`], or the connection is closed.
//! - **Connections per address.** One client address holds at most
//!   [`ServeOptions::max_connections_per_address`] connections; further ones are closed as
//!   soon as they are accepted.
//! - **WebSocket send buffer.** A connection upgraded to a WebSocket asks for its kernel send
//!   buffer to be capped at [`ServeOptions::ws_send_buffer`] ([`Connection::for_websocket`]),
//!   so a client that stops reading fills a small buffer quickly and the WebSocket's own
//!   resync logic takes over instead of the kernel queueing megabytes for it.
//!
//! Both timeouts are hyper's HTTP/1 header-read timer, driven by [`HeadTimer`]: hyper arms it
//! whenever it waits for a request head, and the timer counts the idle period until the
//! connection has read a byte, then the header period. HTTP/1.1 only (with upgrades): there is
//! no cleartext HTTP/2, which would need its own idle handling.
//!
//! Every connection task belongs to the loop: on shutdown no new connection is accepted, every
//! open one finishes its request in flight and closes, and [`serve`] returns when they have.

use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::ServiceExt as _;

/// Limits on client connections (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServeOptions {
    /// How long a request head may take once its first byte has arrived.
    pub header_timeout: Duration,
    /// How long a connection may wait for the first byte of a request.
    pub idle_timeout: Duration,
    /// Connections one client address may hold open at once; 0 for no limit.
    pub max_connections_per_address: usize,
    /// The kernel send buffer asked for a WebSocket, in bytes; 0 leaves the system's
    /// auto-tuned buffer.
    pub ws_send_buffer: usize,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(30),
            max_connections_per_address: 128,
            ws_send_buffer: 64 * 1024,
        }
    }
}

/// What a connection's socket and its timer share.
#[derive(Debug, Default)]
struct Shared {
    /// Bytes read from the client so far: the timer sees a request start by it.
    bytes_read: AtomicU64,
    /// A send buffer size to apply at the next write; 0 for none.
    send_buffer: AtomicUsize,
}

/// The connection a request came over, in the request's extensions (absent when the router
/// is served otherwise, e.g. in tests through `oneshot`).
#[derive(Debug, Clone)]
pub struct Connection {
    shared: Arc<Shared>,
    ws_send_buffer: usize,
}

impl Connection {
    /// Caps the socket's kernel send buffer at the WebSocket size, from the next write on (the
    /// upgrade's answer). Does nothing when the size is 0.
    pub fn for_websocket(&self) {
        if self.ws_send_buffer > 0 {
            self.shared
                .send_buffer
                .store(self.ws_send_buffer, Ordering::Relaxed);
        }
    }
}

/// The accepted socket, counting what it reads and applying a requested send buffer.
struct Io {
    stream: TcpStream,
    shared: Arc<Shared>,
}

impl Io {
    fn apply_send_buffer(&self) {
        let wanted = self.shared.send_buffer.swap(0, Ordering::Relaxed);
        if wanted > 0
            && let Err(e) = rustix::net::sockopt::set_socket_send_buffer_size(&self.stream, wanted)
        {
            tracing::debug!("cannot set a connection's send buffer: {e}");
        }
    }
}

impl AsyncRead for Io {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let result = Pin::new(&mut this.stream).poll_read(cx, buf);
        let read = buf.filled().len().saturating_sub(before);
        if read > 0 {
            this.shared
                .bytes_read
                .fetch_add(read as u64, Ordering::Relaxed);
        }
        result
    }
}

impl AsyncWrite for Io {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        this.apply_send_buffer();
        Pin::new(&mut this.stream).poll_write(cx, data)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        this.apply_send_buffer();
        Pin::new(&mut this.stream).poll_write_vectored(cx, data)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}

/// hyper's HTTP/1 header-read timer for one connection, in two periods: it ignores the
/// deadline hyper asks for and gives the idle timeout until the connection reads a byte,
/// then the header timeout from that byte on. hyper uses this timer for nothing else.
#[derive(Clone)]
struct HeadTimer {
    shared: Arc<Shared>,
    idle: Duration,
    header: Duration,
}

impl HeadTimer {
    fn deadline(&self) -> Pin<Box<dyn hyper::rt::Sleep>> {
        Box::pin(HeadDeadline {
            shared: self.shared.clone(),
            read_when_armed: self.shared.bytes_read.load(Ordering::Relaxed),
            header: self.header,
            started: false,
            sleep: Box::pin(tokio::time::sleep(self.idle)),
        })
    }
}

impl hyper::rt::Timer for HeadTimer {
    fn sleep(&self, _duration: Duration) -> Pin<Box<dyn hyper::rt::Sleep>> {
        self.deadline()
    }

    fn sleep_until(&self, _deadline: std::time::Instant) -> Pin<Box<dyn hyper::rt::Sleep>> {
        self.deadline()
    }
}

/// One wait for a request head (see [`HeadTimer`]). hyper polls it each time it has read
/// more of the head without completing it, so the first byte is noticed when it arrives.
struct HeadDeadline {
    shared: Arc<Shared>,
    /// `bytes_read` when hyper started waiting.
    read_when_armed: u64,
    header: Duration,
    /// Whether the head has started (the deadline is then the header one).
    started: bool,
    sleep: Pin<Box<tokio::time::Sleep>>,
}

impl Future for HeadDeadline {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        if !this.started && this.shared.bytes_read.load(Ordering::Relaxed) != this.read_when_armed {
            this.started = true;
            let deadline = tokio::time::Instant::now() + this.header;
            this.sleep.as_mut().reset(deadline);
        }
        this.sleep.as_mut().poll(cx)
    }
}

impl hyper::rt::Sleep for HeadDeadline {}

/// Open connections per client address.
#[derive(Debug, Default)]
struct PerAddress(Mutex<HashMap<IpAddr, usize>>);

/// One connection counted against its address; uncounted when dropped.
struct Counted {
    table: Arc<PerAddress>,
    ip: IpAddr,
}

impl PerAddress {
    fn open(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, usize>> {
        // Each change under the lock is one counter update; a panic cannot tear it.
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Counts a connection from `ip`, or `None` if it already holds `max` (0: no limit).
    fn admit(self: &Arc<Self>, ip: IpAddr, max: usize) -> Option<Counted> {
        let mut open = self.open();
        let count = open.entry(ip).or_insert(0);
        if max > 0 && *count >= max {
            return None;
        }
        *count += 1;
        Some(Counted {
            table: self.clone(),
            ip,
        })
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        let mut open = self.table.open();
        if let Some(count) = open.get_mut(&self.ip) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                open.remove(&self.ip);
            }
        }
    }
}

/// Serves `router` on `listener` with `options` until `shutdown` completes, then waits for the
/// open connections to finish. Requests carry the client's address as
/// `ConnectInfo<SocketAddr>` and their [`Connection`] as extensions.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    options: ServeOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let per_address = Arc::new(PerAddress::default());
    let tracker = TaskTracker::new();
    let stopping = CancellationToken::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, addr) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of descriptors or a connection reset before accept: carry on after
                    // a breath rather than spin.
                    tracing::warn!("accepting a connection failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let Some(counted) = per_address.admit(addr.ip(), options.max_connections_per_address)
        else {
            tracing::debug!(client = %addr.ip(), "connection refused: too many from this address");
            drop(stream);
            continue;
        };
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!("cannot set TCP_NODELAY: {e}");
        }
        let stopping = stopping.clone();
        let router = router.clone();
        tracker.spawn(async move {
            connection(stream, addr, router, options, stopping).await;
            drop(counted);
        });
    }
    stopping.cancel();
    tracker.close();
    tracker.wait().await;
    Ok(())
}

/// Serves one connection until it closes, or until `stopping` and its request in flight ends.
async fn connection(
    stream: TcpStream,
    addr: SocketAddr,
    router: Router,
    options: ServeOptions,
    stopping: CancellationToken,
) {
    let shared = Arc::new(Shared::default());
    let handle = Connection {
        shared: shared.clone(),
        ws_send_buffer: options.ws_send_buffer,
    };
    let timer = HeadTimer {
        shared: shared.clone(),
        idle: options.idle_timeout,
        header: options.header_timeout,
    };
    let io = TokioIo::new(Io { stream, shared });
    let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
        request.extensions_mut().insert(ConnectInfo(addr));
        request.extensions_mut().insert(handle.clone());
        router.clone().oneshot(request)
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(timer)
        .header_read_timeout(options.header_timeout);
    let conn = builder.serve_connection(io, service).with_upgrades();
    let mut conn = std::pin::pin!(conn);
    tokio::select! {
        result = conn.as_mut() => {
            if let Err(e) = result {
                tracing::trace!(client = %addr, "connection ended: {e}");
            }
            return;
        }
        () = stopping.cancelled() => conn.as_mut().graceful_shutdown(),
    }
    if let Err(e) = conn.await {
        tracing::trace!(client = %addr, "connection ended: {e}");
    }
}

#[cfg(test)]
mod tests;
