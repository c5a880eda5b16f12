//! Scale harness (not criterion): runs N servers (default 200) through the real host stack —
//! store, job queue, servers, supervisors — each a `sleep` process started by a start job,
//! then reports the host's resident memory and thread count, compared with an idle host.
//! `GARRISON_SCALE_SERVERS` changes N. With `GARRISON_SCALE_GAMES=1` the servers are the demo's
//! simulated games instead (half of each, with RCon sessions, player polling and churning
//! players; needs `cargo build --release -p garrison-sim`, or `GARRISON_SIMULATOR=PATH`);
//! `GARRISON_SCALE_QUIET=1` gives them no players.
//! Prints figures; asserts nothing about speed.

use std::sync::Arc;
use std::time::{Duration, Instant};

use garrison::adapters::{AdapterRuntime, SandboxConfig};
use garrison::jobs::JobQueue;
use garrison::secrets::SecretBox;
use garrison::servers::Servers;
use garrison::servers::executor::ServerExecutor;
use garrison::store::servers::{self, ActualState};
use garrison::store::{JobKind, NewJob, Store};

/// (resident memory in MiB, threads) of this process.
fn rss_and_threads() -> (f64, usize) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (field("VmRSS:") / 1024.0, field("Threads:") as usize)
}

/// Memory mappings of this process (the kernel caps them at `vm.max_map_count`).
fn mappings() -> usize {
    std::fs::read_to_string("/proc/self/maps").map_or(0, |m| m.lines().count())
}

/// User + system CPU ticks this process has used.
fn cpu_ticks() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which may contain spaces) start after the last ')'.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let field = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // utime and stime are fields 14 and 15 of the line: 12 and 13 after the name.
    field(11) + field(12)
}

fn ticks_per_second() -> f64 {
    // The kernel's USER_HZ; 100 on every Linux the host targets.
    100.0
}

/// On drop (also when the harness panics), kills every process working in the directory.
struct Reaper(std::path::PathBuf);

impl Drop for Reaper {
    fn drop(&mut self) {
        let Ok(procs) = std::fs::read_dir("/proc") else {
            return;
        };
        for entry in procs.flatten() {
            let name = entry.file_name();
            let Some(pid) = name
                .to_str()
                .filter(|n| n.bytes().all(|b| b.is_ascii_digit()))
            else {
                continue;
            };
            if std::fs::read_link(entry.path().join("cwd"))
                .is_ok_and(|cwd| cwd.starts_with(&self.0))
            {
                let _ = std::process::Command::new("kill")
                    .args(["-KILL", pid])
                    .status();
            }
        }
    }
}

fn main() {
    // `cargo bench` passes --bench; this harness takes no options.
    let n: usize = std::env::var("GARRISON_SCALE_SERVERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio");
    let dir = tempfile::tempdir().expect("tempdir");
    // Games outlive their host by design: whatever happens, end the ones started here.
    let _reaper = Reaper(dir.path().to_path_buf());
    rt.block_on(async {
        // The default pool, sized from the machine: each running server keeps its log
        // parser's instance, and with RCon its session's.
        let config = SandboxConfig::default();
        let adapters = tokio::task::spawn_blocking(move || {
            let runtime = AdapterRuntime::new(config, None).expect("runtime");
            runtime.load_builtins().expect("built-ins");
            runtime
        })
        .await
        .expect("join");
        let store = Store::open(&dir.path().join("garrison.db")).expect("store");
        let secrets =
            SecretBox::from_base64("AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=").expect("key");
        let runtime = adapters.clone();
        let servers_layer = Servers::new(store.clone(), adapters, secrets, dir.path());
        let executor = Arc::new(ServerExecutor::new(servers_layer.clone(), None));
        let queue = JobQueue::start(store.clone(), executor, 2)
            .await
            .expect("queue");
        tokio::time::sleep(Duration::from_millis(500)).await;
        let (idle_rss, idle_threads) = rss_and_threads();
        let idle_mappings = mappings();

        let started = Instant::now();
        let games = std::env::var_os("GARRISON_SCALE_GAMES").is_some();
        if games {
            let simulator = std::env::var_os("GARRISON_SIMULATOR").map_or_else(
                || {
                    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                        .join("../target/release/garrison-sim")
                },
                Into::into,
            );
            // GARRISON_SCALE_QUIET=1: no players at all, so only the host's own polling runs.
            let list = if std::env::var_os("GARRISON_SCALE_QUIET").is_some() {
                garrison::demo::DEMO_SERVERS
                    .replace(r#""--churn""#, r#""--players=0""#)
                    .replace("--players=4", "--players=0")
                    .replace("--players=3", "--players=0")
            } else {
                garrison::demo::DEMO_SERVERS.to_string()
            };
            let created =
                garrison::demo::create(&servers_layer, &queue.handle(), &simulator, &list, n / 2)
                    .await
                    .expect("simulated games");
            assert_eq!(created, n, "an even number of servers, half of each game");
        } else {
            for i in 0..n {
                let server = servers_layer
                    .settings()
                    .create(
                        &format!("scale-{i}"),
                        "generic",
                        serde_json::json!({"executable": "/bin/sleep", "args": ["600"]}),
                    )
                    .await
                    .expect("create");
                queue
                    .enqueue(NewJob::for_server(server.id, JobKind::Start, "scale"))
                    .await
                    .expect("enqueue");
            }
        }
        let ids: Vec<i64> = store
            .call(|conn| Ok(servers::list(conn)?.iter().map(|s| s.id).collect()))
            .await
            .expect("ids");
        loop {
            let others = store
                .call(|conn| {
                    Ok(servers::list(conn)?
                        .into_iter()
                        .filter(|s| s.actual_state != ActualState::Running)
                        .map(|s| (s.id, s.name, s.actual_state, s.last_error))
                        .collect::<Vec<_>>())
                })
                .await
                .expect("count");
            if others.is_empty() {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(120),
                "not running after 2 minutes: {others:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let ramp = started.elapsed();
        // Let allocations settle (and the games' first players arrive), then measure.
        let settle = if games { 20 } else { 2 };
        tokio::time::sleep(Duration::from_secs(settle)).await;
        let (rss, threads) = rss_and_threads();
        let instances = runtime.instances_in_use();
        let mappings = mappings();
        // Idle CPU: every server running, its log followed, resources sampled every 5 s.
        let cancel = tokio_util::sync::CancellationToken::new();
        let sampler = garrison::telemetry::metrics::spawn(
            store.clone(),
            servers_layer.events().clone(),
            dir.path(),
            garrison::telemetry::metrics::DEFAULT_INTERVAL,
            cancel.clone(),
        );
        let last_event: i64 = store
            .call(|conn| {
                Ok(conn.query_row("SELECT COALESCE(MAX(id), 0) FROM server_events", [], |r| {
                    r.get(0)
                })?)
            })
            .await
            .expect("last event");
        let before = cpu_ticks();
        let window = Duration::from_secs(20);
        tokio::time::sleep(window).await;
        let used = (cpu_ticks() - before) as f64 / ticks_per_second();
        // What happened meanwhile, by kind (joins, leaves, crashes, ...).
        let happened: Vec<(String, i64)> = store
            .call(move |conn| {
                let mut stmt = conn.prepare(
                    "SELECT kind, COUNT(*) FROM server_events WHERE id > ?1 GROUP BY kind",
                )?;
                let rows = stmt.query_map([last_event], |r| Ok((r.get(0)?, r.get(1)?)))?;
                Ok(rows.collect::<Result<_, _>>()?)
            })
            .await
            .expect("events");
        cancel.cancel();
        let _ = sampler.await;
        let kind = if games { "simulated games with RCon" } else { "sleep processes" };
        println!("servers running:        {n} {kind} (ramp-up {ramp:.1?}, create + start job each)");
        println!(
            "host CPU while idle:    {:.2} % of one core (over {window:?}, metrics sampled every 5 s)",
            100.0 * used / window.as_secs_f64()
        );
        println!("server events meanwhile: {happened:?}");
        println!("host RSS idle -> {n}:    {idle_rss:.1} MiB -> {rss:.1} MiB");
        println!("host threads idle -> {n}: {idle_threads} -> {threads}");
        println!(
            "adapter instances:      {instances} in use (pool of {}), {:.2} per server",
            runtime.max_instances(),
            instances as f64 / n as f64
        );
        println!(
            "memory mappings idle -> {n}: {idle_mappings} -> {mappings} ({:.1} per instance)",
            mappings.saturating_sub(idle_mappings) as f64 / instances.max(1) as f64
        );

        for id in ids {
            queue
                .enqueue(NewJob::for_server(id, JobKind::Kill, "scale"))
                .await
                .expect("enqueue kill");
        }
        loop {
            let left = store
                .call(|conn| {
                    Ok(servers::list(conn)?
                        .iter()
                        .filter(|s| s.actual_state != ActualState::Stopped)
                        .count())
                })
                .await
                .expect("count");
            if left == 0 {
                break;
            }
            if started.elapsed() > Duration::from_secs(600) {
                println!("warning: {left} servers still not stopped");
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        queue.shutdown().await;
        servers_layer.detach_all().await;
    });
}
