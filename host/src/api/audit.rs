//! The audit trail of the API: a middleware writes one row for every mutating call (any method
//! but GET, HEAD and OPTIONS) to a known route — who, what (the method and the concrete path,
//! e.g. `POST /api/v1/servers/3/actions/kill`), on what, from where, and the status it ended
//! with, successful or not — and `GET /audit` reads them back for administrators.
//!
//! Who: the [`Caller`] extractor fills the request's [`AuditSlot`]; handlers that learn the
//! actor otherwise (sign-in) or know a better target than the path (a created user's id) set
//! it themselves by taking the slot as an argument, and add a detail where the path does not
//! say enough: the names of the fields a change named, the username a failed sign-in tried.
//! The row never holds a request body or a value, so no password or key reaches it.
//!
//! Refused calls (429) cannot grow the log: the first of a burst from one address to one path
//! writes a row, and the others only count on it (`repeats`) until the address has been quiet
//! for [`BURST_GAP`].

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use tokio::time::Instant;

use super::access::Admin;
use super::extract::{Json, Query};
use super::page::{Page, PageQuery};
use super::{ApiError, AppState};
use crate::auth::Caller;
use crate::store::audit::{self, AuditEntry, NewAuditEntry};
use crate::store::{Store, User};

/// Refused calls from one address to one path less than this apart count on one row.
pub const BURST_GAP: Duration = Duration::from_secs(5 * 60);
/// The longest path recorded in an action, in characters.
const MAX_PATH_CHARS: usize = 300;
/// The longest name recorded in a detail, in characters.
const MAX_NAME_CHARS: usize = 100;
/// Bursts remembered before quiet ones are swept (bounds memory under a flood of addresses).
const SWEEP_AT: usize = 10_000;

#[derive(Debug, Default)]
struct Noted {
    user_id: Option<i64>,
    api_key_id: Option<i64>,
    actor: Option<String>,
    target: Option<String>,
    detail: Option<String>,
}

/// `text` fit for a row: control characters replaced, at most `max` characters.
fn printable(text: &str, max: usize) -> String {
    let mut out: String = text
        .chars()
        .take(max)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    if text.chars().nth(max).is_some() {
        out.push('…');
    }
    out
}

/// What a handler can add to its call's audit row. Take it as an extractor argument; outside
/// an audited call (GET, or a router without the middleware) notes go nowhere.
#[derive(Debug, Clone, Default)]
pub struct AuditSlot(Arc<Mutex<Noted>>);

impl AuditSlot {
    fn noted(&self) -> std::sync::MutexGuard<'_, Noted> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Records who acted (the [`Caller`] extractor does this by itself).
    pub fn set_caller(&self, caller: &Caller) {
        let mut noted = self.noted();
        noted.user_id = Some(caller.user_id);
        noted.api_key_id = caller.api_key_id;
        noted.actor = Some(caller.username.clone());
    }

    /// Records who acted when they did not authenticate with a bearer credential (sign-in).
    pub fn set_user(&self, user: &User) {
        let mut noted = self.noted();
        noted.user_id = Some(user.id);
        noted.api_key_id = None;
        noted.actor = Some(user.username.clone());
    }

    /// Names what was acted on, e.g. `user 7` for a user just created (default: the path).
    pub fn set_target(&self, target: impl Into<String>) {
        self.noted().target = Some(target.into());
    }

    /// Records the names of the fields a change named, e.g. `changed: role, disabled`. Only
    /// names: never pass a value.
    pub fn set_changed<'a>(&self, fields: impl IntoIterator<Item = &'a str>) {
        let names: Vec<String> = fields
            .into_iter()
            .map(|f| printable(f, MAX_NAME_CHARS))
            .collect();
        self.noted().detail = Some(if names.is_empty() {
            "changed: nothing".to_owned()
        } else {
            format!("changed: {}", names.join(", "))
        });
    }

    /// Records the username a sign-in tried (it failed, so there is no actor).
    pub fn set_attempted_username(&self, username: &str) {
        self.noted().detail = Some(format!("username: {}", printable(username, MAX_NAME_CHARS)));
    }
}

impl<S: Send + Sync> FromRequestParts<S> for AuditSlot {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<AuditSlot>()
            .cloned()
            .unwrap_or_default())
    }
}

/// The open burst of refused calls from one address to one action.
#[derive(Debug)]
struct Burst {
    /// Its row, once written.
    row: Option<i64>,
    /// Calls counted while the row was being written.
    pending: u32,
    /// The latest call of the burst.
    last: Instant,
}

/// Open bursts by client address and action.
type Bursts = HashMap<(Option<IpAddr>, String), Burst>;

/// What to do with a refused call.
enum Fold {
    /// The first of a burst: write its row.
    First,
    /// Count it on this row.
    Count(i64),
    /// Counted in memory; the writer of the first row adds it.
    Counted,
}

/// Writes the audit rows: the store, and the bursts of refused calls being counted. One per
/// router; cheap to clone.
#[derive(Clone)]
pub struct Recorder {
    store: Store,
    bursts: Arc<Mutex<Bursts>>,
}

impl Recorder {
    /// A recorder writing to `store`.
    pub fn new(store: Store) -> Self {
        Recorder {
            store,
            bursts: Arc::default(),
        }
    }

    fn bursts(&self) -> std::sync::MutexGuard<'_, Bursts> {
        // Every change under this lock is a single assignment; a panic cannot tear one.
        self.bursts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Writes `entry`, or for a refused call in a burst only counts it.
    async fn write(&self, entry: NewAuditEntry, ip: Option<IpAddr>) {
        let result = if entry.status == StatusCode::TOO_MANY_REQUESTS.as_u16() {
            self.write_refused(entry, ip).await
        } else {
            self.store
                .call(move |conn| audit::insert(conn, &entry))
                .await
                .map(drop)
        };
        if let Err(e) = result {
            tracing::error!("writing an audit row failed: {e}");
        }
    }

    async fn write_refused(
        &self,
        entry: NewAuditEntry,
        ip: Option<IpAddr>,
    ) -> Result<(), crate::store::StoreError> {
        let key = (ip, entry.action.clone());
        let now = Instant::now();
        let fold = {
            let mut bursts = self.bursts();
            if bursts.len() >= SWEEP_AT {
                bursts.retain(|_, b| now.duration_since(b.last) < BURST_GAP);
            }
            match bursts.get_mut(&key) {
                Some(burst) if now.duration_since(burst.last) < BURST_GAP => {
                    burst.last = now;
                    match burst.row {
                        Some(row) => Fold::Count(row),
                        None => {
                            burst.pending = burst.pending.saturating_add(1);
                            Fold::Counted
                        }
                    }
                }
                _ => {
                    let burst = Burst {
                        row: None,
                        pending: 0,
                        last: now,
                    };
                    bursts.insert(key.clone(), burst);
                    Fold::First
                }
            }
        };
        match fold {
            Fold::Counted => Ok(()),
            Fold::Count(row) => {
                self.store
                    .call(move |conn| audit::add_repeats(conn, row, 1))
                    .await
            }
            Fold::First => {
                let row = self
                    .store
                    .call(move |conn| audit::insert(conn, &entry))
                    .await?;
                let pending = match self.bursts().get_mut(&key) {
                    Some(burst) => {
                        burst.row = Some(row);
                        std::mem::take(&mut burst.pending)
                    }
                    None => 0,
                };
                if pending == 0 {
                    return Ok(());
                }
                self.store
                    .call(move |conn| audit::add_repeats(conn, row, pending))
                    .await
            }
        }
    }
}

/// The middleware: passes reads through; for anything else, runs the handler and then writes
/// the audit row before answering, so an acknowledged change is always on record.
pub async fn record(
    State(recorder): State<Recorder>,
    mut request: Request,
    next: Next,
) -> Response {
    if matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) {
        return next.run(request).await;
    }
    let path = printable(request.uri().path(), MAX_PATH_CHARS);
    let action = format!("{} {path}", request.method());
    let address = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0);
    let client = address.map_or_else(|| "unknown".to_owned(), |a| a.to_string());
    let slot = AuditSlot::default();
    request.extensions_mut().insert(slot.clone());

    let response = next.run(request).await;

    let noted = std::mem::take(&mut *slot.noted());
    let entry = NewAuditEntry {
        user_id: noted.user_id,
        api_key_id: noted.api_key_id,
        actor: noted.actor,
        action,
        target: Some(noted.target.unwrap_or(path)),
        detail: noted.detail,
        client,
        status: response.status().as_u16(),
    };
    recorder.write(entry, address.map(|a| a.ip())).await;
    response
}

/// `GET /api/v1/audit`: the audit log, newest first. Administrators only.
#[utoipa::path(
    get,
    path = "/audit",
    tag = "audit",
    params(PageQuery),
    responses(
        (status = 200, description = "A page of audit rows, newest first", body = Page<AuditEntry>),
        (status = 400, description = "Bad cursor or parameters"),
        (status = 403, description = "Not an administrator"),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    _admin: Admin,
    Query(page): Query<PageQuery>,
) -> Result<Json<Page<AuditEntry>>, ApiError> {
    let (before, limit) = (page.after()?, page.limit());
    let rows = state
        .store
        .call(move |conn| audit::list(conn, before, limit + 1))
        .await?;
    Ok(Json(Page::from_rows(rows, limit, |row| row.id)))
}
