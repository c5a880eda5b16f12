//! `GET /api/v1/ws`: live events over a WebSocket.
//!
//! **Authenticating.** The first client message is `{"type":"auth","token":"…"}` (a session
//! token or a `gar_` API key, as for `Authorization: Bearer`); clients that cannot send one
//! may pass `?token=` instead; a browser's handshake from this host's own pages (`Origin`)
//! with the dashboard's session cookie needs neither. The answer is `{"type":"authenticated","user_id","username",
//! "role"}`. A bad or missing credential closes the socket with code 4001.
//!
//! **Subscribing.** `{"type":"subscribe","servers":[1,2]}` or `{"type":"subscribe","all":true}`
//! (every server the user may see, including ones created later; administrators also get the
//! host's own metrics, server 0, and jobs on game runtimes); `{"type":"unsubscribe", …}` the
//! same way. A server the user may not see (or that does not exist) closes the socket with
//! code 4003. Each newly subscribed server's recent log lines (from memory) come first, as a
//! `log` message with `"recent": true`; live lines never repeat them.
//!
//! **Events.** JSON messages `{"type", "server_id", "time", "seq", …}` of type `status`,
//! `log`, `players`, `metrics`, `job`, `job_log` and `event` (see [`Event::wire`]): `time` is
//! ms since the Unix epoch; `seq` is the last line's seq for `log`, the host-wide bus number
//! for the others (increasing; gaps are events for others).
//!
//! **Staying correct.** The credential and what the user may see are re-checked every
//! [`RECHECK_EVERY`]: subscriptions to servers that became invisible are dropped with
//! `{"type":"unsubscribed","servers":[…],"reason":"forbidden"}`; an expired token gets
//! `{"type":"auth_expired"}` and a close with 4001, a revoked one a close with 4001. The host
//! pings every [`PING_EVERY`] and drops a client it has not heard from in [`PONG_TIMEOUT`].
//! A client that reads too slowly never slows the producers or other clients: events it
//! could not take are dropped (counted in the dropped-events counter, and logged once per
//! connection) and it gets `{"type":"resync","missed":N}`, after which it may reload history
//! through the REST API. Its socket's kernel send buffer is capped
//! (`serve --ws-send-buffer-kib`), so a client that stops reading runs out of room after
//! kilobytes instead of megabytes; one that reads nothing, pongs included, is dropped after
//! [`PONG_TIMEOUT`].
//!
//! Per connection, a reader task turns client frames into commands, a writer task owns the
//! socket's sending half, and the connection's own loop selects over commands, the bus,
//! pings and re-checks.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::http::HeaderMap;
use axum::response::Response;
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::mpsc::error::TrySendError;
use tokio::sync::{broadcast, mpsc};
use tokio::time::{Instant, MissedTickBehavior};

use super::AppState;
use super::extract::{Query, same_origin, session_cookie};
use crate::auth::{AuthError, Caller, server_access, visible_servers};
use crate::events::{Event, EventKind};
use crate::serve::Connection;
use crate::telemetry::counters;

/// How often the host pings.
pub const PING_EVERY: Duration = Duration::from_secs(20);
/// A client not heard from (pong or any message) for this long is dropped.
pub const PONG_TIMEOUT: Duration = Duration::from_secs(60);
/// How often the credential and the visible servers are re-checked.
pub const RECHECK_EVERY: Duration = Duration::from_secs(5);
/// How long a client has to send its `auth` message.
pub const AUTH_TIMEOUT: Duration = Duration::from_secs(10);
/// Close code: the credential is missing, invalid, expired or revoked.
pub const CLOSE_BAD_TOKEN: u16 = 4001;
/// Close code: a subscription to a server the user may not see (or that does not exist).
pub const CLOSE_FORBIDDEN: u16 = 4003;
/// Messages queued for the writer before the connection stops taking events (and so lags).
const OUTBOX: usize = 64;
/// The soonest an unknown server seen on the bus triggers a visibility reload.
const RELOAD_AT_MOST_EVERY: Duration = Duration::from_secs(1);

/// `?token=`.
#[derive(Debug, Deserialize)]
pub struct WsQuery {
    /// A session token or API key, for clients that cannot send an `auth` message.
    pub token: Option<String>,
}

/// What a client may send.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMessage {
    /// The first message: the credential (unless given as `?token=` or the cookie).
    Auth {
        /// A session token or a `gar_` API key.
        token: String,
    },
    /// Receive the events of these servers (0: the host's own metrics, administrators).
    Subscribe {
        /// Server ids.
        #[serde(default)]
        servers: Vec<i64>,
        /// Every server the user may see, including ones created later.
        #[serde(default)]
        all: bool,
    },
    /// Stop receiving the events of these servers.
    Unsubscribe {
        /// Server ids.
        #[serde(default)]
        servers: Vec<i64>,
        /// Every subscription.
        #[serde(default)]
        all: bool,
    },
}

/// What the host sends besides events: answers and notices about the connection.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Notice {
    /// The credential was accepted.
    Authenticated {
        /// The user.
        user_id: i64,
        /// Their username.
        username: String,
        /// The role this connection acts with.
        role: crate::store::Role,
    },
    /// Subscribed (the answer to `subscribe`).
    Subscribed {
        /// The servers asked for.
        servers: Vec<i64>,
        /// Whether the connection follows every visible server.
        all: bool,
    },
    /// Unsubscribed: the answer to `unsubscribe`, or servers the user may no longer see.
    Unsubscribed {
        /// The servers.
        servers: Vec<i64>,
        /// In an answer: whether every subscription ended.
        #[serde(skip_serializing_if = "Option::is_none")]
        all: Option<bool>,
        /// Why, when the host ended them: `forbidden`.
        #[serde(skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// Events were dropped because the client read too slowly: reload through the REST API.
    Resync {
        /// How many.
        missed: u64,
    },
    /// A message the host did not understand, or a refused subscription (with `code`
    /// 4003, then the socket closes).
    Error {
        /// The close code that follows, if one does.
        #[serde(skip_serializing_if = "Option::is_none")]
        code: Option<u16>,
        /// What went wrong.
        message: String,
    },
    /// The session expired: the socket closes with 4001; sign in again and reconnect.
    AuthExpired,
}

/// Every message the host sends: a [`Notice`] or an [`Event`].
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub enum ServerMessage {
    /// About the connection.
    #[schema(title = "Notice")]
    Notice(Notice),
    /// Something that happened on a server.
    #[schema(title = "Event")]
    Event(Box<Event>),
}

/// The WebSocket's messages as a JSON Schema (2020-12) document: `$defs` holds
/// `ClientMessage` (what a client sends) and `ServerMessage` (what the host sends), made
/// from the types above and the event types, finished like the OpenAPI document.
pub fn schema_document() -> &'static Value {
    static DOCUMENT: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    DOCUMENT.get_or_init(|| {
        use utoipa::{PartialSchema, ToSchema};
        let mut schemas = Vec::new();
        ClientMessage::schemas(&mut schemas);
        Notice::schemas(&mut schemas);
        Event::schemas(&mut schemas);
        let mut definitions = serde_json::Map::new();
        for (name, schema) in schemas {
            definitions.insert(name, serde_json::to_value(schema).unwrap_or_default());
        }
        for (name, schema) in [
            (ClientMessage::name(), ClientMessage::schema()),
            (Notice::name(), Notice::schema()),
            (Event::name(), Event::schema()),
        ] {
            definitions.insert(
                name.into_owned(),
                serde_json::to_value(schema).unwrap_or_default(),
            );
        }
        definitions.insert(
            "ServerMessage".into(),
            json!({
                "description": "Every message the host sends: a notice about the connection \
                                or an event of a server.",
                "oneOf": [
                    { "$ref": "#/components/schemas/Notice" },
                    { "$ref": "#/components/schemas/Event" },
                ],
            }),
        );
        let mut document = json!({ "components": { "schemas": definitions } });
        super::openapi::finish_json(&mut document);
        let definitions = document
            .pointer("/components/schemas")
            .cloned()
            .unwrap_or_default();
        let text = serde_json::to_string(&definitions)
            .unwrap_or_default()
            .replace("#/components/schemas/", "#/$defs/");
        json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": "/api/v1/ws/schema.json",
            "title": "Garrison WebSocket messages (GET /api/v1/ws)",
            "description": "A client sends `ClientMessage`s and receives `ServerMessage`s, \
                            one JSON object per text frame.",
            "$defs": serde_json::from_str::<Value>(&text).unwrap_or_default(),
        })
    })
}

/// `GET /api/v1/ws/schema.json`: the WebSocket's messages as a JSON Schema document. No auth.
#[utoipa::path(
    get,
    path = "/ws/schema.json",
    tag = "system",
    operation_id = "ws_schema",
    security(()),
    responses((status = 200, description = "A JSON Schema (2020-12) document whose `$defs` \
        hold `ClientMessage` and `ServerMessage`", body = super::openapi::JsonDocument))
)]
pub async fn schema_json() -> axum::Json<&'static Value> {
    axum::Json(schema_document())
}

/// What the reader hands the connection loop.
enum Command {
    /// A message understood.
    Client(ClientMessage),
    /// A message not understood; the client is told why.
    Malformed(String),
    /// A pong (or anything else that proves the client is there).
    Alive,
}

/// Whether the connection goes on.
#[derive(PartialEq, Eq)]
enum Flow {
    Continue,
    Stop,
}

/// `GET /api/v1/ws`: upgrades to a WebSocket (see the module documentation).
pub async fn handler(
    State(state): State<AppState>,
    Query(query): Query<WsQuery>,
    connection_over: Option<axum::Extension<Connection>>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    if let Some(axum::Extension(over)) = connection_over {
        over.for_websocket();
    }
    // The dashboard's session cookie stands in for the `auth` message, but only on a
    // handshake from this host's own pages: a WebSocket is not bound by the same-origin rule.
    let token = query.token.or_else(|| {
        session_cookie(&headers)
            .filter(|_| same_origin(&headers))
            .map(str::to_owned)
    });
    upgrade.on_upgrade(move |socket| connection(state, socket, token))
}

async fn connection(state: AppState, socket: WebSocket, token: Option<String>) {
    let _open = counters::ConnectionGuard::open();
    // Subscribed before authenticating, so nothing published after the upgrade is missed.
    let events = state.servers.events().subscribe();
    let (sink, mut stream) = socket.split();
    let (out, outbox) = mpsc::channel(OUTBOX);
    let writer = tokio::spawn(write(sink, outbox));

    let token = match token {
        Some(token) => Some(token),
        None => first_auth(&mut stream).await,
    };
    let caller = match &token {
        Some(token) => state.auth.authenticate(token).await.ok(),
        None => None,
    };
    match (token, caller) {
        (Some(token), Some(caller)) => {
            let (commands_in, commands) = mpsc::channel(16);
            let reader = tokio::spawn(read(stream, commands_in));
            let hub = Hub::new(state, token, caller, out, events);
            hub.run(commands).await;
            reader.abort();
        }
        _ => {
            let _ = out.send(close(CLOSE_BAD_TOKEN, "invalid credential")).await;
            drop(out);
        }
    }
    // The writer ends once the outbox is closed and drained, or sooner if the client is
    // gone; a client that reads nothing is not waited for long.
    let abort = writer.abort_handle();
    if tokio::time::timeout(Duration::from_secs(5), writer)
        .await
        .is_err()
    {
        abort.abort();
    }
}

/// Waits for the `auth` message; `None` for anything else.
async fn first_auth(stream: &mut SplitStream<WebSocket>) -> Option<String> {
    let first = async {
        loop {
            match stream.next().await? {
                Ok(Message::Text(text)) => {
                    return match serde_json::from_str(&text) {
                        Ok(ClientMessage::Auth { token }) => Some(token),
                        _ => None,
                    };
                }
                Ok(Message::Ping(_) | Message::Pong(_)) => {}
                _ => return None,
            }
        }
    };
    tokio::time::timeout(AUTH_TIMEOUT, first)
        .await
        .ok()
        .flatten()
}

/// The reader: client frames into commands, until the client closes or the loop is gone.
async fn read(mut stream: SplitStream<WebSocket>, commands: mpsc::Sender<Command>) {
    while let Some(Ok(message)) = stream.next().await {
        let command = match message {
            Message::Text(text) => match serde_json::from_str(&text) {
                Ok(message) => Command::Client(message),
                Err(e) => Command::Malformed(format!("not a message this API knows: {e}")),
            },
            Message::Binary(_) => Command::Malformed("binary messages are not understood".into()),
            Message::Ping(_) | Message::Pong(_) => Command::Alive,
            Message::Close(_) => break,
        };
        if commands.send(command).await.is_err() {
            break;
        }
    }
}

/// The writer: sends what the loop queued, in order, until a close frame or an error.
async fn write(mut sink: SplitSink<WebSocket, Message>, mut outbox: mpsc::Receiver<Message>) {
    while let Some(message) = outbox.recv().await {
        let closing = matches!(message, Message::Close(_));
        if sink.send(message).await.is_err() || closing {
            break;
        }
    }
    let _ = sink.close().await;
}

fn close(code: u16, reason: &str) -> Message {
    Message::Close(Some(CloseFrame {
        code,
        reason: Utf8Bytes::from(reason),
    }))
}

fn notice(notice: &Notice) -> Message {
    Message::Text(Utf8Bytes::from(
        serde_json::to_string(notice).unwrap_or_default(),
    ))
}

/// One authenticated connection's state and loop.
struct Hub {
    state: AppState,
    /// The credential, re-checked every [`RECHECK_EVERY`].
    token: String,
    caller: Caller,
    out: mpsc::Sender<Message>,
    events: broadcast::Receiver<Arc<Event>>,
    /// Subscribed to every visible server.
    all: bool,
    /// Subscribed servers, by id.
    servers: HashSet<i64>,
    /// What the caller may see; `None` for administrators (everything).
    visible: Option<HashSet<i64>>,
    /// When `visible` was loaded.
    visible_at: Instant,
    /// The last log seq sent per server, so recent and live lines never overlap.
    sent_seq: HashMap<i64, i64>,
    /// When the client last proved it is there.
    last_seen: Instant,
    /// Whether this connection's falling behind has been logged.
    lag_logged: bool,
}

impl Hub {
    fn new(
        state: AppState,
        token: String,
        caller: Caller,
        out: mpsc::Sender<Message>,
        events: broadcast::Receiver<Arc<Event>>,
    ) -> Self {
        Hub {
            state,
            token,
            caller,
            out,
            events,
            all: false,
            servers: HashSet::new(),
            visible: Some(HashSet::new()),
            visible_at: Instant::now(),
            sent_seq: HashMap::new(),
            last_seen: Instant::now(),
            lag_logged: false,
        }
    }

    async fn run(mut self, mut commands: mpsc::Receiver<Command>) {
        let hello = Notice::Authenticated {
            user_id: self.caller.user_id,
            username: self.caller.username.clone(),
            role: self.caller.role,
        };
        if self.send(notice(&hello)).await == Flow::Stop || self.reload().await == Flow::Stop {
            return;
        }
        let start = Instant::now();
        let mut ping = tokio::time::interval_at(start + PING_EVERY, PING_EVERY);
        ping.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut recheck = tokio::time::interval_at(start + RECHECK_EVERY, RECHECK_EVERY);
        recheck.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            let flow = tokio::select! {
                command = commands.recv() => match command {
                    Some(command) => {
                        self.last_seen = Instant::now();
                        self.command(command).await
                    }
                    None => Flow::Stop,
                },
                received = self.events.recv() => match received {
                    Ok(event) => self.event(&event).await,
                    Err(RecvError::Lagged(missed)) => self.dropped(missed).await,
                    Err(RecvError::Closed) => Flow::Stop,
                },
                _ = ping.tick() => {
                    if self.last_seen.elapsed() > PONG_TIMEOUT {
                        Flow::Stop
                    } else {
                        // No room means no reading: the deadline above will tell.
                        match self.out.try_send(Message::Ping(Default::default())) {
                            Err(TrySendError::Closed(_)) => Flow::Stop,
                            _ => Flow::Continue,
                        }
                    }
                }
                _ = recheck.tick() => self.recheck().await,
            };
            if flow == Flow::Stop {
                break;
            }
        }
    }

    /// Queues a message for the writer, waiting while the outbox is full (the bus receiver
    /// lags meanwhile, which is the point) but not past the client's liveness deadline.
    async fn send(&self, message: Message) -> Flow {
        let deadline = self.last_seen + PONG_TIMEOUT;
        tokio::select! {
            sent = self.out.send(message) => if sent.is_ok() { Flow::Continue } else { Flow::Stop },
            () = tokio::time::sleep_until(deadline) => Flow::Stop,
        }
    }

    /// Counts `missed` events the client did not get and tells it to resync; the first time,
    /// says so in the log.
    async fn dropped(&mut self, missed: u64) -> Flow {
        counters::add(&counters::WS_EVENTS_DROPPED, missed);
        if !self.lag_logged {
            self.lag_logged = true;
            tracing::info!(
                user = %self.caller.username,
                "a WebSocket client reads too slowly: dropping its events and telling it to resync"
            );
        }
        self.send(notice(&Notice::Resync { missed })).await
    }

    async fn close_with(&self, code: u16, reason: &str) -> Flow {
        let _ = self.send(close(code, reason)).await;
        Flow::Stop
    }

    async fn command(&mut self, command: Command) -> Flow {
        match command {
            Command::Alive => Flow::Continue,
            Command::Malformed(why) => {
                self.send(notice(&Notice::Error {
                    code: None,
                    message: why,
                }))
                .await
            }
            Command::Client(ClientMessage::Auth { .. }) => {
                self.send(notice(&Notice::Error {
                    code: None,
                    message: "already authenticated".into(),
                }))
                .await
            }
            Command::Client(ClientMessage::Subscribe { servers, all }) => {
                self.subscribe(servers, all).await
            }
            Command::Client(ClientMessage::Unsubscribe { servers, all }) => {
                if all {
                    self.all = false;
                    self.servers.clear();
                    self.sent_seq.clear();
                } else {
                    for id in &servers {
                        self.servers.remove(id);
                        self.sent_seq.remove(id);
                    }
                }
                self.send(notice(&Notice::Unsubscribed {
                    servers,
                    all: Some(all),
                    reason: None,
                }))
                .await
            }
        }
    }

    fn may_see(&self, server_id: i64) -> bool {
        self.visible
            .as_ref()
            .is_none_or(|visible| visible.contains(&server_id))
    }

    fn subscribed(&self, server_id: i64) -> bool {
        self.all || self.servers.contains(&server_id)
    }

    async fn subscribe(&mut self, servers: Vec<i64>, all: bool) -> Flow {
        for &id in &servers {
            let allowed = if id == 0 {
                self.caller.is_admin()
            } else {
                server_access(&self.state.store, &self.caller, id)
                    .await
                    .is_ok()
            };
            if !allowed {
                let message = format!("server {id} not found");
                let _ = self
                    .send(notice(&Notice::Error {
                        code: Some(CLOSE_FORBIDDEN),
                        message: message.clone(),
                    }))
                    .await;
                return self.close_with(CLOSE_FORBIDDEN, &message).await;
            }
        }
        let before: HashSet<i64> = self.subscribed_now();
        self.servers.extend(servers.iter().copied());
        if all {
            self.all = true;
            if self.reload().await == Flow::Stop {
                return Flow::Stop;
            }
        }
        let ack = Notice::Subscribed {
            servers,
            all: self.all,
        };
        if self.send(notice(&ack)).await == Flow::Stop {
            return Flow::Stop;
        }
        let mut fresh: Vec<i64> = self
            .subscribed_now()
            .into_iter()
            .filter(|id| !before.contains(id))
            .collect();
        fresh.sort_unstable();
        for id in fresh {
            if self.send_recent(id).await == Flow::Stop {
                return Flow::Stop;
            }
        }
        Flow::Continue
    }

    /// The servers with recent lines this connection would deliver now (for `all`, those
    /// with lines in memory).
    fn subscribed_now(&self) -> HashSet<i64> {
        let mut ids: HashSet<i64> = self.servers.clone();
        if self.all {
            ids.extend(
                self.state
                    .servers
                    .recent_logs()
                    .servers()
                    .into_iter()
                    .filter(|id| self.may_see(*id)),
            );
        }
        ids
    }

    async fn send_recent(&mut self, server_id: i64) -> Flow {
        let after = self.sent_seq.get(&server_id).copied().unwrap_or(0);
        let lines: Vec<_> = self
            .state
            .servers
            .recent_logs()
            .lines(server_id)
            .into_iter()
            .filter(|l| l.seq > after)
            .collect();
        let Some(last) = lines.last().map(|l| l.seq) else {
            return Flow::Continue;
        };
        self.sent_seq.insert(server_id, last);
        let mut message = Event::new(server_id, EventKind::Log { lines });
        message.recent = true;
        self.send(Message::Text(message.wire().into())).await
    }

    async fn event(&mut self, event: &Event) -> Flow {
        let Some(server_id) = event.visible_server() else {
            // A job on a game runtime: administrators subscribed to everything.
            if self.all && self.caller.is_admin() {
                return self.send(Message::Text(event.wire().into())).await;
            }
            return Flow::Continue;
        };
        if !self.subscribed(server_id) {
            return Flow::Continue;
        }
        if !self.may_see(server_id) {
            // Perhaps a server created (or granted) since the last check.
            if !self.all
                || server_id == 0
                || self.visible_at.elapsed() < RELOAD_AT_MOST_EVERY
                || self.reload().await == Flow::Stop
                || !self.may_see(server_id)
            {
                return Flow::Continue;
            }
        }
        if let EventKind::Log { lines } = &event.kind {
            let after = self.sent_seq.get(&server_id).copied().unwrap_or(0);
            let Some(last) = lines.last().map(|l| l.seq) else {
                return Flow::Continue;
            };
            if last <= after {
                return Flow::Continue;
            }
            self.sent_seq.insert(server_id, last);
            if lines.first().is_some_and(|l| l.seq <= after) {
                let fresh: Vec<_> = lines.iter().filter(|l| l.seq > after).cloned().collect();
                let mut message = Event::new(server_id, EventKind::Log { lines: fresh });
                message.time = event.time;
                return self.send(Message::Text(message.wire().into())).await;
            }
        }
        self.send(Message::Text(event.wire().into())).await
    }

    /// Loads what the caller may see now.
    async fn reload(&mut self) -> Flow {
        let caller = self.caller.clone();
        match self
            .state
            .store
            .call(move |conn| visible_servers(conn, &caller))
            .await
        {
            Ok(visible) => {
                self.visible = visible;
                self.visible_at = Instant::now();
                Flow::Continue
            }
            Err(e) => {
                tracing::warn!("WebSocket: cannot load visible servers: {e}");
                Flow::Continue
            }
        }
    }

    /// Re-authenticates and drops subscriptions that became forbidden.
    async fn recheck(&mut self) -> Flow {
        match self.state.auth.authenticate(&self.token).await {
            Ok(caller) => self.caller = caller,
            Err(AuthError::Expired) => {
                let _ = self.send(notice(&Notice::AuthExpired)).await;
                return self.close_with(CLOSE_BAD_TOKEN, "token expired").await;
            }
            Err(AuthError::Store(_) | AuthError::Task(_)) => return Flow::Continue,
            Err(_) => return self.close_with(CLOSE_BAD_TOKEN, "credential revoked").await,
        }
        if self.reload().await == Flow::Stop {
            return Flow::Stop;
        }
        let mut gone: Vec<i64> = self
            .servers
            .iter()
            .copied()
            .filter(|id| !self.may_see(*id) || (*id == 0 && !self.caller.is_admin()))
            .collect();
        if gone.is_empty() {
            return Flow::Continue;
        }
        gone.sort_unstable();
        for id in &gone {
            self.servers.remove(id);
            self.sent_seq.remove(id);
        }
        self.send(notice(&Notice::Unsubscribed {
            servers: gone,
            all: None,
            reason: Some("forbidden".into()),
        }))
        .await
    }
}
