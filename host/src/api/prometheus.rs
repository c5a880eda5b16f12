//! `GET /metrics`: figures for Prometheus, in the text exposition format 0.0.4.
//!
//! Administrators only (an admin session token or an admin API key as a bearer credential):
//! server names and states are not for everyone. Everything is read in one store call at
//! scrape time — the servers and their states, players online, the newest CPU and memory
//! samples, job counts — plus the host-internal counters of [`crate::telemetry::counters`].
//! Nothing here is kept between scrapes.

use std::fmt::Write as _;
use std::sync::atomic::Ordering;

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::access::Admin;
use super::{ApiError, AppState};
use crate::store::servers::{self, ActualState};
use crate::store::{JobState, jobs, metrics, players};
use crate::telemetry::counters;

/// The content type of the text exposition format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// What one scrape reads from the database.
struct Figures {
    servers: Vec<ServerFigures>,
    jobs: Vec<(JobState, i64)>,
}

struct ServerFigures {
    id: i64,
    name: String,
    state: ActualState,
    players: usize,
    cpu: Option<f64>,
    memory: Option<f64>,
}

/// `GET /metrics`: the host's figures for Prometheus. Administrators only.
pub async fn scrape(State(state): State<AppState>, _admin: Admin) -> Result<Response, ApiError> {
    let figures = state
        .store
        .call(|conn| {
            let mut out = Vec::new();
            for server in servers::list(conn)? {
                let latest = metrics::latest(conn, server.id)?;
                let value = |name: &str| latest.iter().find(|s| s.name == name).map(|s| s.value);
                out.push(ServerFigures {
                    id: server.id,
                    players: players::online(conn, server.id)?.len(),
                    cpu: value("cpu_percent"),
                    memory: value("memory_bytes"),
                    name: server.name,
                    state: server.actual_state,
                });
            }
            Ok(Figures {
                servers: out,
                jobs: jobs::count_by_state(conn)?,
            })
        })
        .await?;
    Ok(([(header::CONTENT_TYPE, CONTENT_TYPE)], render(&figures)).into_response())
}

/// A label value, escaped as the format requires.
fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

fn render(figures: &Figures) -> String {
    let mut out = String::new();
    header(
        &mut out,
        "garrison_server_state",
        "gauge",
        "1 for the state each server is in, 0 for the others.",
    );
    for s in &figures.servers {
        for state in ActualState::ALL {
            let _ = writeln!(
                out,
                "garrison_server_state{{server_id=\"{}\",server=\"{}\",state=\"{}\"}} {}",
                s.id,
                label(&s.name),
                state.as_str(),
                u8::from(*state == s.state)
            );
        }
    }
    header(
        &mut out,
        "garrison_servers",
        "gauge",
        "Servers in each state.",
    );
    for state in ActualState::ALL {
        let count = figures.servers.iter().filter(|s| s.state == *state).count();
        let _ = writeln!(
            out,
            "garrison_servers{{state=\"{}\"}} {count}",
            state.as_str()
        );
    }
    header(
        &mut out,
        "garrison_players_online",
        "gauge",
        "Players on each server now.",
    );
    for s in &figures.servers {
        let _ = writeln!(
            out,
            "garrison_players_online{{server_id=\"{}\",server=\"{}\"}} {}",
            s.id,
            label(&s.name),
            s.players
        );
    }
    header(
        &mut out,
        "garrison_server_cpu_percent",
        "gauge",
        "Newest CPU sample of each server's process tree, in % of one core.",
    );
    for s in &figures.servers {
        if let Some(cpu) = s.cpu {
            let _ = writeln!(
                out,
                "garrison_server_cpu_percent{{server_id=\"{}\",server=\"{}\"}} {cpu}",
                s.id,
                label(&s.name)
            );
        }
    }
    header(
        &mut out,
        "garrison_server_memory_bytes",
        "gauge",
        "Newest resident memory sample of each server's process tree.",
    );
    for s in &figures.servers {
        if let Some(memory) = s.memory {
            let _ = writeln!(
                out,
                "garrison_server_memory_bytes{{server_id=\"{}\",server=\"{}\"}} {memory}",
                s.id,
                label(&s.name)
            );
        }
    }
    header(&mut out, "garrison_jobs", "gauge", "Jobs in each state.");
    for state in JobState::ALL {
        let count = figures
            .jobs
            .iter()
            .find(|(s, _)| s == state)
            .map_or(0, |(_, n)| *n);
        let _ = writeln!(out, "garrison_jobs{{state=\"{}\"}} {count}", state.as_str());
    }
    let counters: [(&str, &str, u64); 6] = [
        (
            "garrison_ws_events_dropped_total",
            "Events lagging WebSocket clients did not receive (told to resync).",
            counters::get(&counters::WS_EVENTS_DROPPED),
        ),
        (
            "garrison_ws_connections_total",
            "WebSocket connections accepted.",
            counters::get(&counters::WS_CONNECTIONS_TOTAL),
        ),
        (
            "garrison_rcon_reconnects_total",
            "RCon reconnection attempts.",
            counters::get(&counters::RCON_RECONNECTS),
        ),
        (
            "garrison_bans_pushed_total",
            "Kept bans pushed to games over RCon.",
            counters::get(&counters::BANS_PUSHED),
        ),
        (
            "garrison_ban_push_failures_total",
            "Bans or lifts that could not be pushed to a game yet (retried at its next login).",
            counters::get(&counters::BAN_PUSH_FAILURES),
        ),
        (
            "garrison_adapter_call_errors_total",
            "Adapter calls that failed (trap, deadline, memory limit).",
            counters::get(&counters::ADAPTER_CALL_ERRORS),
        ),
    ];
    for (name, help, value) in counters {
        header(&mut out, name, "counter", help);
        let _ = writeln!(out, "{name} {value}");
    }
    header(
        &mut out,
        "garrison_ws_connections",
        "gauge",
        "WebSocket connections open now.",
    );
    let _ = writeln!(
        out,
        "garrison_ws_connections {}",
        counters::WS_CONNECTIONS.load(Ordering::Relaxed)
    );
    out
}
