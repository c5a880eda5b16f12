//! Resource metrics: every few seconds, the CPU and memory of each running server's process
//! tree and the host's totals, stored and published; once a minute, complete minutes are
//! folded into rollups.
//!
//! Per server: `cpu_percent` (of one core, summed over the game's process tree),
//! `memory_bytes` (resident, summed) and `processes`. For the host (series 0):
//! `cpu_percent` (of all cores), `memory_used_bytes`, `memory_total_bytes`,
//! `disk_free_bytes` and `disk_total_bytes` of the data directory's file system, and
//! `host_memory_bytes` (Garrison's own resident memory). Figures a game reports in its logs
//! (e.g. `server_fps`) are stored by the log pipeline beside these.
//!
//! Reading `/proc` is blocking work: it runs on the blocking pool, one round per interval.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use sysinfo::{Disks, Pid, ProcessRefreshKind, ProcessesToUpdate, System};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::events::{Event, EventBus, EventKind};
use crate::store::Store;
use crate::store::metrics::{self, HOST, Sample};
use crate::store::servers;

/// How often resources are sampled.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(5);
const MINUTE_MS: i64 = 60_000;

/// Reads resource use from the operating system. Keeps its `System` between rounds, since
/// CPU use is the difference between two readings.
pub struct Sampler {
    system: System,
    disks: Disks,
    data_dir: PathBuf,
}

impl std::fmt::Debug for Sampler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sampler")
            .field("data_dir", &self.data_dir)
            .finish_non_exhaustive()
    }
}

impl Sampler {
    /// A sampler for a host whose data lives in `data_dir`; fails where the operating
    /// system offers no process information.
    pub fn new(data_dir: &Path) -> Result<Self, String> {
        Ok(Sampler {
            system: System::new().map_err(|e| e.to_string())?,
            disks: Disks::new_with_refreshed_list().map_err(|e| e.to_string())?,
            data_dir: std::path::absolute(data_dir).unwrap_or_else(|_| data_dir.to_path_buf()),
        })
    }

    /// One round: samples for each `(server id, pid)` and for the host, stamped `at`.
    /// Blocking.
    pub fn sample(&mut self, processes: &[(i64, u32)], at: i64) -> Vec<Sample> {
        self.system.refresh_processes_specifics(
            ProcessesToUpdate::All,
            true,
            ProcessRefreshKind::nothing().with_cpu().with_memory(),
        );
        self.system.refresh_cpu_usage();
        self.system.refresh_memory();
        self.disks.refresh(true);

        let mut children: HashMap<Pid, Vec<Pid>> = HashMap::new();
        for (pid, process) in self.system.processes() {
            if let Some(parent) = process.parent() {
                children.entry(parent).or_default().push(*pid);
            }
        }
        let mut out = Vec::new();
        let mut push = |server_id: i64, name: &str, value: f64| {
            out.push(Sample {
                server_id,
                name: name.to_string(),
                at,
                value,
            });
        };
        for &(server_id, pid) in processes {
            let (mut cpu, mut memory, mut count) = (0.0_f64, 0_u64, 0_u32);
            let mut queue = vec![Pid::from_u32(pid)];
            while let Some(pid) = queue.pop() {
                if let Some(process) = self.system.process(pid) {
                    cpu += f64::from(process.cpu_usage());
                    memory += process.memory();
                    count += 1;
                }
                if let Some(kids) = children.get(&pid) {
                    queue.extend(kids);
                }
            }
            if count == 0 {
                continue;
            }
            push(server_id, "cpu_percent", cpu);
            push(server_id, "memory_bytes", memory as f64);
            push(server_id, "processes", f64::from(count));
        }
        push(
            HOST,
            "cpu_percent",
            f64::from(self.system.global_cpu_usage()),
        );
        push(HOST, "memory_used_bytes", self.system.used_memory() as f64);
        push(
            HOST,
            "memory_total_bytes",
            self.system.total_memory() as f64,
        );
        let disk = self
            .disks
            .iter()
            .filter(|d| self.data_dir.starts_with(d.mount_point()))
            .max_by_key(|d| d.mount_point().as_os_str().len());
        if let Some(disk) = disk {
            push(HOST, "disk_free_bytes", disk.available_space() as f64);
            push(HOST, "disk_total_bytes", disk.total_space() as f64);
        }
        if let Some(me) = sysinfo::get_current_pid()
            .ok()
            .and_then(|pid| self.system.process(pid))
        {
            push(HOST, "host_memory_bytes", me.memory() as f64);
        }
        out
    }
}

/// Starts sampling every `interval` until `cancel` fires (without process information
/// from the operating system, the task only says so and ends).
pub fn spawn(
    store: Store,
    bus: EventBus,
    data_dir: &Path,
    interval: Duration,
    cancel: CancellationToken,
) -> JoinHandle<()> {
    match Sampler::new(data_dir) {
        Ok(sampler) => tokio::spawn(run(sampler, store, bus, interval, cancel)),
        Err(e) => {
            tracing::warn!("resource metrics are off: {e}");
            tokio::spawn(async {})
        }
    }
}

async fn run(
    mut sampler: Sampler,
    store: Store,
    bus: EventBus,
    interval: Duration,
    cancel: CancellationToken,
) {
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // Rollups resume after the newest one stored.
    let mut rolled_until = store
        .call(|conn| metrics::last_rollup(conn))
        .await
        .ok()
        .flatten()
        .map(|at| at + MINUTE_MS);
    loop {
        tokio::select! {
            () = cancel.cancelled() => break,
            _ = ticker.tick() => {}
        }
        let processes = match store.call(|conn| servers::processes(conn)).await {
            Ok(processes) => processes,
            Err(e) => {
                tracing::warn!("cannot list server processes for metrics: {e}");
                continue;
            }
        };
        let at = crate::time::now_millis();
        let Ok((back, samples)) = tokio::task::spawn_blocking(move || {
            let samples = sampler.sample(&processes, at);
            (sampler, samples)
        })
        .await
        else {
            break;
        };
        sampler = back;
        publish(&bus, &samples, at);
        if let Err(e) = store
            .call(move |conn| metrics::insert(conn, &samples))
            .await
        {
            tracing::warn!("cannot store metrics: {e}");
        }
        // Fold every complete minute not yet rolled up.
        let minute = at - at.rem_euclid(MINUTE_MS);
        let from = rolled_until.unwrap_or(minute - MINUTE_MS);
        if from < minute {
            match store
                .call(move |conn| metrics::rollup(conn, from, minute))
                .await
            {
                Ok(_) => rolled_until = Some(minute),
                Err(e) => tracing::warn!("cannot roll metrics up: {e}"),
            }
        }
    }
}

/// One `metrics` event per series owner.
fn publish(bus: &EventBus, samples: &[Sample], at: i64) {
    let mut by_server: HashMap<i64, Vec<(String, f64)>> = HashMap::new();
    for s in samples {
        by_server
            .entry(s.server_id)
            .or_default()
            .push((s.name.clone(), s.value));
    }
    for (server_id, samples) in by_server {
        bus.publish(Event::new(server_id, EventKind::Metrics { at, samples }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_process_tree_is_summed_and_the_host_is_measured() {
        // This test's own process, with a child that uses memory of its own.
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .expect("child");
        let dir = tempfile::tempdir().expect("tempdir");
        let mut sampler = Sampler::new(dir.path()).expect("a sampler on Linux");
        let me = std::process::id();
        let first = sampler.sample(&[(7, me), (8, u32::MAX - 1)], 1);
        let _ = child.kill();
        let _ = child.wait();

        let value = |server: i64, name: &str| {
            first
                .iter()
                .find(|s| s.server_id == server && s.name == name)
                .map(|s| s.value)
        };
        assert!(value(7, "processes").expect("counted") >= 2.0, "{first:?}");
        assert!(value(7, "memory_bytes").expect("memory") > 0.0);
        assert!(value(7, "cpu_percent").is_some());
        assert_eq!(value(8, "processes"), None, "a gone process has no samples");
        assert!(value(HOST, "memory_total_bytes").expect("total") > 0.0);
        assert!(value(HOST, "disk_total_bytes").expect("disk") > 0.0);
        assert!(value(HOST, "host_memory_bytes").expect("own memory") > 0.0);
    }
}
