//! The host's settings and the layout of its data directory.
//!
//! Settings come from defaults, then environment variables, then command-line flags (the
//! binary resolves the last two with clap). Nothing here is secret yet; when secrets arrive
//! their `Debug` output must be redacted.

use std::net::SocketAddr;
use std::path::PathBuf;

use crate::adapters::SandboxConfig;

/// Everything `run` needs to know.
#[derive(Debug, Clone)]
pub struct Config {
    /// Root of everything the host stores (see the README for the layout).
    pub data_dir: PathBuf,
    /// Address the API listens on.
    pub listen: SocketAddr,
    /// Limits for adapter calls.
    pub sandbox: SandboxConfig,
    /// How often desired and actual server states are compared (a safety net; exits are
    /// noticed at once anyway).
    pub reconcile_interval: std::time::Duration,
    /// SteamCMD's path; looked up on PATH when none.
    pub steamcmd: Option<PathBuf>,
    /// How many jobs run at once (on different servers).
    pub job_workers: usize,
    /// How often resource metrics are sampled.
    pub metrics_interval: std::time::Duration,
    /// How often running servers are asked for their player list.
    pub player_poll: std::time::Duration,
    /// How long history is kept.
    pub retention: crate::telemetry::retention::Retention,
    /// Largest mission file accepted by upload, in bytes.
    pub max_mission_upload: u64,
    /// `serve --demo`: the game-server simulator to back the demo servers with.
    pub demo: Option<PathBuf>,
    /// Limits on client connections: timeouts, connections per address, WebSocket buffers.
    pub serve: crate::serve::ServeOptions,
}

impl Config {
    /// Defaults with the given data directory.
    pub fn new(data_dir: PathBuf) -> Self {
        Config {
            data_dir,
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            sandbox: SandboxConfig::default(),
            reconcile_interval: crate::servers::reconcile::DEFAULT_INTERVAL,
            steamcmd: None,
            job_workers: crate::jobs::DEFAULT_WORKERS,
            metrics_interval: crate::telemetry::metrics::DEFAULT_INTERVAL,
            player_poll: crate::telemetry::players::DEFAULT_POLL,
            retention: crate::telemetry::retention::Retention::default(),
            max_mission_upload: crate::servers::content::DEFAULT_UPLOAD_LIMIT,
            demo: None,
            serve: crate::serve::ServeOptions::default(),
        }
    }

    /// Drop-in adapters: `<data-dir>/adapters/`.
    pub fn dropin_dir(&self) -> PathBuf {
        self.data_dir.join("adapters")
    }

    /// The SQLite database: `<data-dir>/garrison.db`.
    pub fn database_path(&self) -> PathBuf {
        self.data_dir.join("garrison.db")
    }

    /// Compiled components: `<data-dir>/cache/components/`.
    pub fn component_cache_dir(&self) -> PathBuf {
        self.data_dir.join("cache").join("components")
    }
}
