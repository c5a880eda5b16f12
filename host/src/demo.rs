//! `garrison serve --demo`: on a data directory with no servers yet, creates the demo
//! servers, backed by the game-server simulator, and starts them, so a newcomer sees live
//! logs, players and metrics within seconds.
//!
//! Which servers exist in the demo is data, not code: `host/demo.json` (embedded at
//! build time) lists each server's name, adapter and settings. Setting values may be
//! placeholders filled at creation: `"{secret}"` (a random password), `"{udp_port}"` and
//! `"{tcp_port}"` (a free loopback port). The "installed game" of each adapter is the
//! simulator linked under the executable name the adapter launches, in the runtime
//! directory; a server's `simulator_flags` (players, churn) go into the simulator's flags
//! file beside it, since the adapters pass only the game's own parameters. This module knows
//! no game: everything game-specific is in that file and in the adapters.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;

use crate::jobs::JobQueueHandle;
use crate::servers::Servers;
use crate::store::{JobKind, NewJob, servers};

/// The demo servers (see the module documentation), as JSON.
pub const DEMO_SERVERS: &str = include_str!("../demo.json");

/// Why the demo could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// The simulator binary is missing.
    #[error(
        "the demo needs the game-server simulator at {0}; build it with `cargo build --release \
         -p garrison-sim` or pass --simulator PATH"
    )]
    NoSimulator(PathBuf),
    /// The embedded list is malformed (a build defect).
    #[error("the demo server list is invalid: {0}")]
    List(String),
    /// Creating or starting a server failed.
    #[error("demo server {name:?}: {reason}")]
    Server {
        /// The server.
        name: String,
        /// Why.
        reason: String,
    },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoServer {
    name: String,
    adapter: String,
    settings: Value,
    /// Simulator knobs for every server started from this adapter's runtime.
    #[serde(default)]
    simulator_flags: Vec<String>,
}

/// The file beside the linked simulator whose `--flags` it applies to every server started
/// from there (the simulator's `garrison-sim.flags`).
const SIMULATOR_FLAGS_FILE: &str = "garrison-sim.flags";

/// Where the simulator is by default: `garrison-sim` beside the running binary.
pub fn default_simulator() -> Option<PathBuf> {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join("garrison-sim")))
}

/// Creates and starts the demo servers if the host has no servers yet. Returns how many
/// were created (0 when servers already exist).
pub async fn create_on_first_run(
    servers: &Servers,
    jobs: &JobQueueHandle,
    simulator: &Path,
) -> Result<usize, DemoError> {
    let existing = servers
        .store()
        .call(|conn| servers::list(conn))
        .await
        .map_err(|e| DemoError::List(e.to_string()))?;
    if !existing.is_empty() {
        return Ok(0);
    }
    create(servers, jobs, simulator, DEMO_SERVERS, 1).await
}

/// Creates `copies` of every server in `list` (JSON shaped like [`DEMO_SERVERS`]; numbered
/// names beyond the first copy) and queues their starts; load harnesses use it for many
/// simulated games. Returns how many were created.
pub async fn create(
    servers: &Servers,
    jobs: &JobQueueHandle,
    simulator: &Path,
    list: &str,
    copies: usize,
) -> Result<usize, DemoError> {
    if !simulator.is_file() {
        return Err(DemoError::NoSimulator(simulator.to_path_buf()));
    }
    let list: Vec<DemoServer> =
        serde_json::from_str(list).map_err(|e| DemoError::List(e.to_string()))?;
    let mut created = 0;
    let mut taken = Vec::new();
    for copy in 1..=copies {
        for demo in &list {
            let name = if copy == 1 {
                demo.name.clone()
            } else {
                format!("{} #{copy}", demo.name)
            };
            let fail = |reason: String| DemoError::Server {
                name: name.clone(),
                reason,
            };
            let settings =
                fill(demo.settings.clone(), &mut taken).map_err(|e| fail(e.to_string()))?;
            let server = servers
                .settings()
                .create(&name, &demo.adapter, settings)
                .await
                .map_err(|e| fail(e.to_string()))?;
            let prepared = servers
                .plans()
                .prepare(&server, crate::servers::plan::Purpose::Plans)
                .await
                .map_err(|e| fail(e.to_string()))?;
            let program = prepared.plan.spec.program.clone();
            let simulator = simulator.to_path_buf();
            let flags = demo.simulator_flags.join("\n");
            tokio::task::spawn_blocking(move || link_simulator(&simulator, &program, &flags))
                .await
                .map_err(|e| fail(e.to_string()))?
                .map_err(|e| fail(e.to_string()))?;
            jobs.enqueue(NewJob::for_server(server.id, JobKind::Start, "demo"))
                .await
                .map_err(|e| fail(e.to_string()))?;
            created += 1;
        }
    }
    Ok(created)
}

/// Makes `program` (the game's executable in its runtime directory) the simulator, unless
/// something is installed there already, and writes its `flags` beside it.
fn link_simulator(simulator: &Path, program: &Path, flags: &str) -> std::io::Result<()> {
    if program.exists() {
        return Ok(());
    }
    if let Some(dir) = program.parent() {
        std::fs::create_dir_all(dir)?;
        if !flags.is_empty() {
            std::fs::write(dir.join(SIMULATOR_FLAGS_FILE), format!("{flags}\n"))?;
        }
    }
    let simulator = std::path::absolute(simulator)?;
    std::os::unix::fs::symlink(simulator, program)
}

/// Replaces placeholder strings in settings values (also inside lists). Ports handed out
/// are remembered in `taken`, so that one run never hands out the same port twice.
fn fill(value: Value, taken: &mut Vec<u16>) -> std::io::Result<Value> {
    Ok(match value {
        Value::String(s) => match s.as_str() {
            "{secret}" => Value::String(crate::secrets::random_hex(12)),
            "{udp_port}" => Value::from(free_port(false, taken)?),
            "{tcp_port}" => Value::from(free_port(true, taken)?),
            _ => Value::String(s),
        },
        Value::Array(items) => Value::Array(
            items
                .into_iter()
                .map(|v| fill(v, taken))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| Ok((k, fill(v, taken)?)))
                .collect::<std::io::Result<_>>()?,
        ),
        other => other,
    })
}

/// Ports this close to another one handed out are not used: games open neighbouring ports
/// (query, Steam) next to the one they are given.
const PORT_GAP: u16 = 5;

/// A loopback port free right now and at least [`PORT_GAP`] away from every port in `taken`.
fn free_port(tcp: bool, taken: &mut Vec<u16>) -> std::io::Result<u16> {
    for _ in 0..100 {
        let port = if tcp {
            std::net::TcpListener::bind("127.0.0.1:0")?
                .local_addr()?
                .port()
        } else {
            std::net::UdpSocket::bind("127.0.0.1:0")?
                .local_addr()?
                .port()
        };
        if taken.iter().all(|t| t.abs_diff(port) >= PORT_GAP) {
            taken.push(port);
            return Ok(port);
        }
    }
    Err(std::io::Error::new(
        std::io::ErrorKind::AddrInUse,
        "no free loopback port away from the ones already handed out",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_list_is_valid_and_placeholders_are_filled() {
        let list: Vec<DemoServer> = serde_json::from_str(DEMO_SERVERS).expect("valid list");
        assert!(!list.is_empty());
        for demo in list {
            let filled = fill(demo.settings, &mut Vec::new()).expect("filled");
            let text = filled.to_string();
            assert!(
                !text.contains("{secret}") && !text.contains("_port}"),
                "{text}"
            );
        }
        let two =
            fill(serde_json::json!(["{secret}", "{secret}"]), &mut Vec::new()).expect("filled");
        assert_ne!(two[0], two[1], "every secret is fresh");
        // Many ports from one run: all distinct and apart.
        let mut taken = Vec::new();
        let ports = fill(
            Value::Array(vec![Value::from("{udp_port}"); 200]),
            &mut taken,
        )
        .expect("filled");
        assert_eq!(ports.as_array().map(Vec::len), Some(200));
        for (i, a) in taken.iter().enumerate() {
            for b in &taken[i + 1..] {
                assert!(a.abs_diff(*b) >= PORT_GAP, "{a} and {b}");
            }
        }
    }
}
