//! The RCon driver: runs any adapter's sans-IO RCon session over a real socket.
//!
//! One task per server owns a UDP or TCP socket to the adapter's endpoint and a session in
//! its own adapter instance. It feeds the session what the socket receives and the clock,
//! sends what the session asks, sleeps until `next-wakeup`, and turns session events into
//! replies for waiting callers, a status, and a broadcast of unsolicited server messages.
//! When the connection is lost it reconnects with exponential backoff (1 s → 30 s by
//! default) and a fresh session. The driver knows no game: datagram or stream is all it
//! asks of the adapter.
//!
//! Adapter calls run on the blocking pool, one hop per input (received bytes, a timer, a
//! command), never on a runtime worker.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio::sync::{broadcast, mpsc, oneshot, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::adapters::model::{SessionEvent, Transport};
use crate::adapters::{AdapterError, AdapterRuntime, LoadedAdapter, RconSession, blocking};

/// Where to connect and with which password. `Debug` never shows the password.
#[derive(Clone)]
pub struct RconTarget {
    /// `host:port`.
    pub address: String,
    /// The RCon password.
    pub password: String,
}

impl std::fmt::Debug for RconTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RconTarget")
            .field("address", &self.address)
            .field("password", &"********")
            .finish()
    }
}

/// How the driver behaves.
#[derive(Debug, Clone)]
pub struct RconOptions {
    /// How long a caller waits for a reply (including waiting for a connection).
    pub command_timeout: Duration,
    /// First reconnect delay.
    pub backoff_min: Duration,
    /// Longest reconnect delay.
    pub backoff_max: Duration,
    /// Keep retrying after the server refused the password (a server's driver does, since
    /// the password may be fixed in its settings; a one-shot tool does not).
    pub retry_after_auth_failure: bool,
    /// How long a TCP connect may take.
    pub connect_timeout: Duration,
}

impl Default for RconOptions {
    fn default() -> Self {
        RconOptions {
            command_timeout: Duration::from_secs(10),
            backoff_min: Duration::from_secs(1),
            backoff_max: Duration::from_secs(30),
            retry_after_auth_failure: true,
            connect_timeout: Duration::from_secs(5),
        }
    }
}

/// What the driver is doing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RconStatus {
    /// Opening the socket and logging in (attempt number, from 1).
    Connecting {
        /// Attempt number since the driver started.
        attempt: u32,
    },
    /// Logged in; commands flow.
    Connected,
    /// The server refused the password.
    AuthFailed(String),
    /// The connection was lost; the driver retries after `retry_in`.
    Disconnected {
        /// Why.
        reason: String,
        /// Delay before the next attempt.
        retry_in: Duration,
    },
    /// The driver has stopped.
    Stopped,
}

/// Why a command got no reply.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum RconError {
    /// No reply in time.
    #[error("no reply within {} s", .0.as_secs_f32())]
    Timeout(Duration),
    /// The server refused the password.
    #[error("the server refused the RCon password: {0}")]
    AuthFailed(String),
    /// The session gave the command up.
    #[error("the command failed: {0}")]
    CommandFailed(String),
    /// The connection dropped before the reply came.
    #[error("the RCon connection was lost: {0}")]
    ConnectionLost(String),
    /// The adapter refused the command.
    #[error("{0}")]
    Adapter(String),
    /// The driver is not running.
    #[error("the RCon driver has stopped")]
    Stopped,
}

struct Request {
    text: String,
    reply: oneshot::Sender<Result<String, RconError>>,
}

/// A handle on a running driver. Cheap to clone; the driver stops when `stop` is called or
/// every handle is gone.
#[derive(Clone)]
pub struct RconHandle {
    requests: mpsc::Sender<Request>,
    status: watch::Receiver<RconStatus>,
    messages: broadcast::Sender<String>,
    cancel: CancellationToken,
    timeout: Duration,
}

impl RconHandle {
    /// Sends a console command and waits for its complete reply.
    pub async fn command(&self, text: impl Into<String>) -> Result<String, RconError> {
        let (reply, answer) = oneshot::channel();
        let request = Request {
            text: text.into(),
            reply,
        };
        let deadline = Instant::now() + self.timeout;
        tokio::time::timeout_at(deadline, self.requests.send(request))
            .await
            .map_err(|_| RconError::Timeout(self.timeout))?
            .map_err(|_| RconError::Stopped)?;
        match tokio::time::timeout_at(deadline, answer).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err(RconError::Stopped),
            Err(_) => Err(RconError::Timeout(self.timeout)),
        }
    }

    /// Unsolicited server messages (chat, notices) from now on.
    pub fn messages(&self) -> broadcast::Receiver<String> {
        self.messages.subscribe()
    }

    /// The driver's status, updated as it changes.
    pub fn status(&self) -> watch::Receiver<RconStatus> {
        self.status.clone()
    }

    /// Asks the driver to stop.
    pub fn stop(&self) {
        self.cancel.cancel();
    }
}

/// Starts a driver for `adapter`'s RCon at `target`. The returned task ends when the driver
/// stops.
pub fn spawn(
    runtime: AdapterRuntime,
    adapter: Arc<LoadedAdapter>,
    target: RconTarget,
    options: RconOptions,
) -> (RconHandle, JoinHandle<()>) {
    spawn_until(runtime, adapter, target, options, CancellationToken::new())
}

/// [`spawn`], with a driver that also stops when `cancel` is cancelled — at once, without a
/// hop through another task: once `cancel` has returned, the driver logs in nowhere again.
/// (A server's driver stops with the process it was started for, so it never reaches the
/// next process listening at the same address.)
pub fn spawn_until(
    runtime: AdapterRuntime,
    adapter: Arc<LoadedAdapter>,
    target: RconTarget,
    options: RconOptions,
    cancel: CancellationToken,
) -> (RconHandle, JoinHandle<()>) {
    let (requests_tx, requests) = mpsc::channel(64);
    let (status_tx, status) = watch::channel(RconStatus::Connecting { attempt: 1 });
    let (messages, _) = broadcast::channel(256);
    let handle = RconHandle {
        requests: requests_tx,
        status,
        messages: messages.clone(),
        cancel: cancel.clone(),
        timeout: options.command_timeout,
    };
    let driver = Driver {
        runtime,
        adapter,
        target,
        options,
        requests,
        status: status_tx,
        messages,
        cancel,
        epoch: Instant::now(),
        carried: VecDeque::new(),
    };
    (handle, tokio::spawn(driver.run()))
}

struct Driver {
    runtime: AdapterRuntime,
    adapter: Arc<LoadedAdapter>,
    target: RconTarget,
    options: RconOptions,
    requests: mpsc::Receiver<Request>,
    status: watch::Sender<RconStatus>,
    messages: broadcast::Sender<String>,
    cancel: CancellationToken,
    /// The session's clock starts here.
    epoch: Instant,
    /// Commands queued before a login that never happened, retried on the next connection.
    carried: VecDeque<Request>,
}

/// How one connection ended.
enum Ended {
    Stopped,
    AuthFailed(String),
    Lost { reason: String, was_connected: bool },
}

/// What one blocking hop into the adapter does besides transmitting.
enum Input {
    Start,
    Received(Vec<u8>),
    Tick,
    Command(String),
}

struct Step {
    events: Vec<SessionEvent>,
    command_id: Option<u32>,
    packets: Vec<Vec<u8>>,
    wakeup: Option<u64>,
}

impl Driver {
    async fn run(mut self) {
        let mut backoff = self.options.backoff_min;
        let mut attempt = 0;
        loop {
            attempt += 1;
            if attempt > 1 {
                super::counters::add(&super::counters::RCON_RECONNECTS, 1);
            }
            self.status.send_replace(RconStatus::Connecting { attempt });
            let transport = match self.transport().await {
                Ok(t) => t,
                Err(e) => {
                    tracing::error!(adapter = %self.adapter.description.id, "RCon unavailable: {e}");
                    break;
                }
            };
            let reason = match self.connection(transport).await {
                Ended::Stopped => break,
                Ended::AuthFailed(why) => {
                    // The status is already AuthFailed (set before callers were told).
                    self.fail_queued(&RconError::AuthFailed(why.clone()));
                    if !self.options.retry_after_auth_failure {
                        break;
                    }
                    backoff = self.options.backoff_max;
                    format!("password refused: {why}")
                }
                Ended::Lost {
                    reason,
                    was_connected,
                } => {
                    if was_connected {
                        backoff = self.options.backoff_min;
                    }
                    reason
                }
            };
            let wait = backoff;
            backoff = (backoff * 2).min(self.options.backoff_max);
            tracing::debug!(address = %self.target.address, "RCon disconnected ({reason}); retrying in {wait:?}");
            self.status.send_replace(RconStatus::Disconnected {
                reason,
                retry_in: wait,
            });
            tokio::select! {
                () = self.cancel.cancelled() => break,
                () = tokio::time::sleep(wait) => {}
            }
        }
        self.fail_queued(&RconError::Stopped);
        self.status.send_replace(RconStatus::Stopped);
    }

    async fn transport(&self) -> Result<Transport, AdapterError> {
        self.runtime
            .call(Arc::clone(&self.adapter), |session| {
                session.rcon_transport()
            })
            .await
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Fails every command not yet handed to a session: carried over, or still queued.
    fn fail_queued(&mut self, error: &RconError) {
        for request in self.carried.drain(..) {
            let _ = request.reply.send(Err(error.clone()));
        }
        while let Ok(request) = self.requests.try_recv() {
            let _ = request.reply.send(Err(error.clone()));
        }
    }

    /// Ends a connection that was lost. Commands issued after the login may have run on the
    /// server, so they fail (resending a kick could kick twice); commands issued before any
    /// login never reached the console, so they wait for the next connection.
    fn lose(&mut self, pending: HashMap<u32, Request>, connected: bool, reason: String) -> Ended {
        let mut pending: Vec<(u32, Request)> = pending.into_iter().collect();
        pending.sort_by_key(|(id, _)| *id);
        for (_, request) in pending {
            if connected {
                let _ = request
                    .reply
                    .send(Err(RconError::ConnectionLost(reason.clone())));
            } else if !request.reply.is_closed() {
                self.carried.push_back(request);
            }
        }
        Ended::Lost {
            reason,
            was_connected: connected,
        }
    }

    /// One connection, from socket open to loss.
    async fn connection(&mut self, transport: Transport) -> Ended {
        let socket = tokio::select! {
            biased;
            () = self.cancel.cancelled() => return Ended::Stopped,
            s = Socket::connect(transport, &self.target.address, self.options.connect_timeout) => s,
        };
        // A connection made as the driver was being stopped is not used.
        if self.cancel.is_cancelled() {
            return Ended::Stopped;
        }
        let mut socket = match socket {
            Ok(s) => s,
            Err(e) => {
                let reason = format!("cannot connect to {}: {e}", self.target.address);
                return self.lose(HashMap::new(), false, reason);
            }
        };
        let now = self.now_ms();
        let session = self.runtime.session(Arc::clone(&self.adapter));
        let password = self.target.password.clone();
        let created = blocking(move || RconSession::new(session, &password, now)).await;
        let mut session = match created.and_then(|created| created) {
            Ok(s) => Some(s),
            Err(e) => {
                let reason = format!("the adapter could not start a session: {e}");
                return self.lose(HashMap::new(), false, reason);
            }
        };

        let mut pending: HashMap<u32, Request> = HashMap::new();
        let mut connected = false;
        let mut buf = vec![0u8; 64 * 1024];
        let mut input = Input::Start;
        // The request being handed to the session in the current hop.
        let mut handing: Option<Request> = None;
        loop {
            let now = self.now_ms();
            let step = match hop(&mut session, input, now).await {
                Ok(step) => step,
                Err(AdapterError::Rejected(why) | AdapterError::Unsupported(why)) => {
                    // The adapter refused this command; the session itself is fine.
                    if let Some(request) = handing.take() {
                        let _ = request.reply.send(Err(RconError::Adapter(why)));
                    }
                    input = Input::Tick;
                    continue;
                }
                Err(e) => {
                    if let Some(request) = handing.take() {
                        let _ = request
                            .reply
                            .send(Err(RconError::ConnectionLost(e.to_string())));
                    }
                    return self.lose(pending, connected, format!("the adapter failed: {e}"));
                }
            };
            if let (Some(id), Some(request)) = (step.command_id, handing.take()) {
                pending.insert(id, request);
            }
            for packet in &step.packets {
                if let Err(e) = socket.send(packet).await {
                    return self.lose(pending, connected, format!("send failed: {e}"));
                }
            }
            // A refused login ends everything: callers hear that, not the per-command
            // failures a session may report alongside it.
            if let Some(why) = step.events.iter().find_map(|e| match e {
                SessionEvent::AuthFailed(why) => Some(why.clone()),
                _ => None,
            }) {
                // Status first, so a caller woken by the reply already sees it.
                self.status
                    .send_replace(RconStatus::AuthFailed(why.clone()));
                for (_, request) in pending.drain() {
                    let _ = request.reply.send(Err(RconError::AuthFailed(why.clone())));
                }
                return Ended::AuthFailed(why);
            }
            for event in step.events {
                match event {
                    SessionEvent::Authenticated => {
                        connected = true;
                        self.status.send_replace(RconStatus::Connected);
                    }
                    SessionEvent::AuthFailed(_) => {}
                    SessionEvent::Reply { id, text } => {
                        if let Some(request) = pending.remove(&id) {
                            let _ = request.reply.send(Ok(text));
                        }
                    }
                    SessionEvent::CommandFailed { id, reason } => {
                        if let Some(request) = pending.remove(&id) {
                            let _ = request.reply.send(Err(RconError::CommandFailed(reason)));
                        }
                    }
                    SessionEvent::Message(text) => {
                        let _ = self.messages.send(text);
                    }
                    SessionEvent::Disconnected(why) => return self.lose(pending, connected, why),
                }
            }
            // Forget callers who gave up waiting.
            pending.retain(|_, request| !request.reply.is_closed());

            // Carried-over commands go first, then whatever happens next.
            if let Some(request) = self.carried.pop_front() {
                input = Input::Command(request.text.clone());
                handing = Some(request);
                continue;
            }
            let wake_at = step
                .wakeup
                .map(|ms| self.epoch + Duration::from_millis(ms.max(now)))
                .unwrap_or_else(|| Instant::now() + Duration::from_secs(3600));
            input = tokio::select! {
                biased;
                () = self.cancel.cancelled() => {
                    for (_, request) in pending.drain() {
                        let _ = request.reply.send(Err(RconError::Stopped));
                    }
                    return Ended::Stopped;
                }
                received = socket.recv(&mut buf) => match received {
                    Ok(0) if transport == Transport::Tcp => {
                        return self.lose(pending, connected, "the server closed the connection".into());
                    }
                    Ok(n) => Input::Received(buf[..n].to_vec()),
                    Err(e) => return self.lose(pending, connected, format!("receive failed: {e}")),
                },
                () = tokio::time::sleep_until(wake_at) => Input::Tick,
                request = self.requests.recv() => match request {
                    None => return Ended::Stopped,
                    Some(request) => {
                        let text = request.text.clone();
                        handing = Some(request);
                        Input::Command(text)
                    }
                },
            };
        }
    }
}

/// One blocking hop into the adapter: apply `input`, then collect what to send and when to
/// wake up.
async fn hop(slot: &mut Option<RconSession>, input: Input, now: u64) -> Result<Step, AdapterError> {
    let mut session = slot
        .take()
        .ok_or_else(|| AdapterError::Runtime("RCon session missing".into()))?;
    let joined = blocking(move || {
        let result = (|| {
            let mut command_id = None;
            let events = match input {
                Input::Start => Vec::new(),
                Input::Received(bytes) => session.receive(&bytes, now)?,
                Input::Tick => session.tick(now)?,
                Input::Command(text) => {
                    command_id = Some(session.command(&text, now)?);
                    Vec::new()
                }
            };
            Ok(Step {
                events,
                command_id,
                packets: session.transmit(now)?,
                wakeup: session.next_wakeup()?,
            })
        })();
        (session, result)
    })
    .await;
    let (session, result) = joined?;
    *slot = Some(session);
    result
}

/// A connected datagram or stream socket.
enum Socket {
    Udp(UdpSocket),
    Tcp(TcpStream),
}

impl Socket {
    async fn connect(
        transport: Transport,
        address: &str,
        timeout: Duration,
    ) -> std::io::Result<Self> {
        let addr = tokio::net::lookup_host(address)
            .await?
            .next()
            .ok_or_else(|| std::io::Error::other("the address did not resolve"))?;
        match transport {
            Transport::Udp => {
                let local: std::net::SocketAddr = if addr.is_ipv4() {
                    ([0, 0, 0, 0], 0).into()
                } else {
                    ([0u16; 8], 0).into()
                };
                let socket = UdpSocket::bind(local).await?;
                socket.connect(addr).await?;
                Ok(Socket::Udp(socket))
            }
            Transport::Tcp => {
                let stream = tokio::time::timeout(timeout, TcpStream::connect(addr))
                    .await
                    .map_err(|_| {
                        std::io::Error::new(std::io::ErrorKind::TimedOut, "connect timed out")
                    })??;
                stream.set_nodelay(true)?;
                Ok(Socket::Tcp(stream))
            }
        }
    }

    async fn send(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        match self {
            Socket::Udp(s) => s.send(bytes).await.map(|_| ()),
            Socket::Tcp(s) => s.write_all(bytes).await,
        }
    }

    async fn recv(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Socket::Udp(s) => s.recv(buf).await,
            Socket::Tcp(s) => s.read(buf).await,
        }
    }
}
