//! Server-sent event streams of stored lines: a job's output (`/jobs/{id}/logs`) and a
//! server's log (`/servers/{id}/logs/stream`).
//!
//! Both replay from the database after the client's `Last-Event-ID` (or from the start),
//! then follow live: the bus wakes the stream when lines are stored (lines that follow on
//! from the last one sent are taken straight from the event; anything else — a gap, a lagged
//! receiver — is re-read from the database), and a slow safety re-read covers a missed
//! wake-up. Each SSE event is `event: line`, `id: <seq>`, `data: <line as JSON>`, so a
//! reconnecting client resumes without duplicates or gaps. A job's stream ends with
//! `event: end` (`data: {"state": …}`) once the job is finished and every line was sent; a
//! server's stream follows until the client leaves.
//!
//! Each stream is a task feeding a small channel; it stops when the client disconnects.

use std::convert::Infallible;
use std::time::Duration;

use axum::http::HeaderMap;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::mpsc;

use super::AppState;
use crate::events::EventKind;
use crate::store::{jobs, logs};

/// Lines read from the database per query while replaying.
const PAGE: u32 = 500;
/// How often a following stream re-reads the database without being woken.
pub const SAFETY_REREAD: Duration = Duration::from_secs(10);

/// Whether the client asked for `text/event-stream`.
pub fn wants_event_stream(headers: &HeaderMap) -> bool {
    headers
        .get(axum::http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/event-stream"))
}

/// The seq to resume after: `Last-Event-ID` when it is a number, else 0.
pub fn last_event_id(headers: &HeaderMap) -> i64 {
    headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
        .filter(|seq: &i64| *seq >= 0)
        .unwrap_or(0)
}

fn line_event(seq: i64, line: &impl Serialize) -> SseEvent {
    SseEvent::default()
        .event("line")
        .id(seq.to_string())
        .json_data(line)
        .unwrap_or_else(|_| SseEvent::default().comment("unserializable line"))
}

/// Turns a channel into the SSE response, with keep-alive comments.
fn respond(events: mpsc::Receiver<SseEvent>) -> Response {
    let stream = futures_util::stream::unfold(events, |mut events| async move {
        events
            .recv()
            .await
            .map(|event| (Ok::<_, Infallible>(event), events))
    });
    Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response()
}

/// Job `job_id`'s lines after `after`, then live ones until the job is finished.
pub fn job_logs(state: AppState, job_id: i64, after: i64) -> Response {
    let (out, events) = mpsc::channel(64);
    tokio::spawn(follow_job(state, job_id, after, out));
    respond(events)
}

async fn follow_job(state: AppState, job_id: i64, mut after: i64, out: mpsc::Sender<SseEvent>) {
    // Subscribed before the first read, so no line stored after it goes unnoticed.
    let mut bus = state.servers.events().subscribe();
    loop {
        // The job is read before its lines: if it was finished then, every line is stored.
        let read = state
            .store
            .call(move |conn| {
                let job = jobs::get(conn, job_id)?;
                let lines = jobs::logs(conn, job_id, after, PAGE)?;
                Ok((job, lines))
            })
            .await;
        let Ok((job, lines)) = read else {
            return;
        };
        let full = lines.len() >= PAGE as usize;
        for line in &lines {
            if out.send(line_event(line.seq, line)).await.is_err() {
                return;
            }
            after = line.seq;
        }
        if full {
            continue;
        }
        if job.state.is_finished() {
            let end = SseEvent::default()
                .event("end")
                .json_data(serde_json::json!({ "state": job.state }))
                .unwrap_or_default();
            let _ = out.send(end).await;
            return;
        }
        // Wait for something about this job; take follow-on lines straight from the bus.
        loop {
            let woken = tokio::select! {
                received = bus.recv() => received,
                () = tokio::time::sleep(SAFETY_REREAD) => break,
                () = out.closed() => return,
            };
            match woken {
                Ok(event) => match &event.kind {
                    EventKind::JobLog { job_id: id, lines } if *id == job_id => {
                        if lines.first().is_some_and(|l| l.seq == after + 1) {
                            for line in lines {
                                if out.send(line_event(line.seq, line)).await.is_err() {
                                    return;
                                }
                                after = line.seq;
                            }
                        } else if lines.last().is_some_and(|l| l.seq > after) {
                            break;
                        }
                    }
                    EventKind::Job { job } if job.id == job_id && job.state.is_finished() => {
                        break;
                    }
                    _ => {}
                },
                Err(RecvError::Lagged(_)) => break,
                Err(RecvError::Closed) => return,
            }
        }
    }
}

/// Server `server_id`'s log lines after `after`, then live ones, until the client leaves.
pub fn server_logs(state: AppState, server_id: i64, after: i64) -> Response {
    let (out, events) = mpsc::channel(64);
    tokio::spawn(follow_server(state, server_id, after, out));
    respond(events)
}

async fn follow_server(
    state: AppState,
    server_id: i64,
    mut after: i64,
    out: mpsc::Sender<SseEvent>,
) {
    let mut bus = state.servers.events().subscribe();
    loop {
        let read = state
            .store
            .call(move |conn| logs::after(conn, server_id, after, PAGE))
            .await;
        let Ok(lines) = read else {
            return;
        };
        let full = lines.len() >= PAGE as usize;
        for line in &lines {
            if out.send(line_event(line.seq, line)).await.is_err() {
                return;
            }
            after = line.seq;
        }
        if full {
            continue;
        }
        loop {
            let woken = tokio::select! {
                received = bus.recv() => received,
                () = tokio::time::sleep(SAFETY_REREAD) => break,
                () = out.closed() => return,
            };
            match woken {
                Ok(event) => match &event.kind {
                    EventKind::Log { lines } if event.server_id == server_id => {
                        if lines.first().is_some_and(|l| l.seq == after + 1) {
                            for line in lines {
                                if out.send(line_event(line.seq, line)).await.is_err() {
                                    return;
                                }
                                after = line.seq;
                            }
                        } else if lines.last().is_some_and(|l| l.seq > after) {
                            break;
                        }
                    }
                    _ => {}
                },
                Err(RecvError::Lagged(_)) => break,
                Err(RecvError::Closed) => return,
            }
        }
    }
}

/// `GET /api/v1/servers/{id}/logs/stream`: the server's log as server-sent events, from
/// `Last-Event-ID` (or the first stored line), then live, until the client leaves.
#[utoipa::path(
    get,
    path = "/servers/{id}/logs/stream",
    tag = "servers",
    operation_id = "log_stream",
    params(("id" = i64, Path, description = "Server id"),
        ("Last-Event-ID" = Option<String>, Header, description = "Resume after this line (the `id` of the last event received)")),
    responses(
        (status = 200, description = "Server-sent events, one per line: `event: line`, `id: <seq>`, `data:` the line as JSON (this schema). Reconnecting with `Last-Event-ID` goes on after that line.", body = crate::store::logs::LogLine, content_type = "text/event-stream"),
        (status = 404, description = "No such server, or not the caller's to see"),
    )
)]
pub async fn server_log_stream(
    axum::extract::State(state): axum::extract::State<AppState>,
    super::access::VisibleServer { server, .. }: super::access::VisibleServer,
    headers: HeaderMap,
) -> Result<Response, super::ApiError> {
    let after = last_event_id(&headers);
    Ok(server_logs(state, server.id, after))
}
