//! Log ingest harness (not criterion): one "server" appends Arma 3 RPT lines to its log as
//! fast as it can while the real log pipeline — tail, the arma3 adapter's parser in its
//! sandbox, the store, the event bus — follows it. Reports lines per second stored and
//! delivered to a bus subscriber, end to end (first line written to last record delivered),
//! and then, at a paced 1,000 lines/s, the latency from a line being appended to a
//! subscriber receiving it (p50/p99/max).
//!
//! `GARRISON_INGEST_LINES` changes the burst size (default 1,000,000). Prints figures;
//! asserts nothing about speed.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use garrison::adapters::{AdapterRuntime, LogParser, SandboxConfig, settings};
use garrison::events::{EventBus, EventKind};
use garrison::store::Store;
use garrison::store::servers::{self, NewServer};
use garrison::telemetry::pipeline::{Finish, LogPipeline, PipelineSpec, Source};
use garrison::telemetry::tail::Target;
use garrison::telemetry::watch::DirWatcher;

const SAMPLE: &str = include_str!("../tests/data/arma3/sample.rpt");

fn parser(runtime: &AdapterRuntime) -> LogParser {
    let adapter = runtime.get("arma3").expect("arma3 adapter");
    let typed =
        settings::from_json(&adapter.schema, &serde_json::json!({})).expect("default settings");
    LogParser::new(runtime.session(adapter), typed).expect("parser")
}

fn spawn_pipeline(
    runtime: &AdapterRuntime,
    store: &Store,
    bus: &EventBus,
    server_id: i64,
    log: &Path,
) -> LogPipeline {
    LogPipeline::spawn(
        PipelineSpec {
            server_id,
            sources: vec![Source {
                name: "rpt".into(),
                target: Target::File(log.to_path_buf()),
            }],
            resume: HashMap::new(),
            not_before: None,
        },
        Some(parser(runtime)),
        store.clone(),
        bus.clone(),
        DirWatcher::new(),
        Arc::new(|_, _| {}),
    )
}

fn main() {
    let burst: usize = std::env::var("GARRISON_INGEST_LINES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio");
    let dir = tempfile::tempdir().expect("tempdir");
    // RPT lines with their timestamps, without the blank ones.
    let lines: Vec<&str> = SAMPLE.lines().filter(|l| !l.trim().is_empty()).collect();
    rt.block_on(async {
        let runtime = tokio::task::spawn_blocking(|| {
            let runtime = AdapterRuntime::new(SandboxConfig::default(), None).expect("runtime");
            runtime.load_builtins().expect("built-ins");
            runtime
        })
        .await
        .expect("join");
        let store = Store::open(&dir.path().join("garrison.db")).expect("store");
        let bus = EventBus::new();
        let (a, b) = store
            .call(|c| {
                let a = servers::insert(c, &NewServer::new("burst", "arma3", serde_json::json!({})))?;
                let b = servers::insert(c, &NewServer::new("paced", "arma3", serde_json::json!({})))?;
                Ok((a.id, b.id))
            })
            .await
            .expect("servers");

        // 1. Burst: as fast as the writer can append.
        let log = dir.path().join("burst.rpt");
        std::fs::write(&log, b"").expect("create log");
        let mut events = bus.subscribe();
        let pipeline = spawn_pipeline(&runtime, &store, &bus, a, &log);
        let writer_lines = lines.iter().map(|l| l.to_string()).collect::<Vec<_>>();
        let writer_log = log.clone();
        let started = Instant::now();
        let writer = std::thread::spawn(move || {
            let mut file = std::io::BufWriter::with_capacity(
                1 << 16,
                std::fs::OpenOptions::new()
                    .append(true)
                    .open(writer_log)
                    .expect("open"),
            );
            for i in 0..burst {
                let line = &writer_lines[i % writer_lines.len()];
                writeln!(file, "{line}").expect("write");
            }
            file.flush().expect("flush");
            Instant::now()
        });
        // Records can span lines (script errors), so the end is when the log has been read
        // to its last byte and nothing more arrives.
        let mut delivered = 0usize;
        let mut lagged = 0u64;
        let mut last = started;
        loop {
            match tokio::time::timeout(Duration::from_secs(3), events.recv()).await {
                Ok(Ok(event)) => {
                    if let EventKind::Log { lines } = &event.kind {
                        delivered += lines.len();
                        last = Instant::now();
                    }
                }
                Ok(Err(tokio::sync::broadcast::error::RecvError::Lagged(n))) => lagged += n,
                Ok(Err(_)) | Err(_) => break,
            }
        }
        let elapsed = last - started;
        let written_at = writer.join().expect("writer");
        pipeline.finish(Finish::Detach).await;
        let (stored, cursor) = store
            .call(move |c| {
                Ok((
                    garrison::store::logs::last_seq(c, a)?,
                    garrison::store::logs::cursors(c, a)?,
                ))
            })
            .await
            .expect("stored");
        let size = std::fs::metadata(&log).map(|m| m.len()).unwrap_or(0);
        let read_to = cursor.first().map_or(0, |c| c.offset);
        println!(
            "burst: {burst} lines ({} MiB) written in {:.2?}; read to byte {read_to} of {size}; \
             {stored} records stored and {delivered} delivered ({lagged} bus events skipped) \
             in {:.2?}: {:.0} lines/s end to end",
            size / (1 << 20),
            written_at - started,
            elapsed,
            burst as f64 / elapsed.as_secs_f64()
        );

        // 2. Paced: 1,000 lines/s for 5 s; latency from append to delivery.
        let log = dir.path().join("paced.rpt");
        std::fs::write(&log, b"").expect("create log");
        let mut events = bus.subscribe();
        let pipeline = spawn_pipeline(&runtime, &store, &bus, b, &log);
        let total = 5_000usize;
        let writer_log = log.clone();
        let writer = std::thread::spawn(move || {
            let mut file = std::fs::OpenOptions::new()
                .append(true)
                .open(writer_log)
                .expect("open");
            let start = Instant::now();
            for i in 0..total {
                let due = start + Duration::from_micros(1000 * i as u64);
                if let Some(wait) = due.checked_duration_since(Instant::now()) {
                    std::thread::sleep(wait);
                }
                let sent = SystemTime::now()
                    .duration_since(SystemTime::UNIX_EPOCH)
                    .map_or(0, |d| d.as_micros());
                writeln!(file, " 4:01:09 paced line {i} sent {sent}").expect("write");
            }
        });
        let mut latencies = Vec::with_capacity(total);
        while latencies.len() < total {
            let Ok(Ok(event)) = tokio::time::timeout(Duration::from_secs(30), events.recv()).await
            else {
                break;
            };
            let now = SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .map_or(0, |d| d.as_micros());
            if let EventKind::Log { lines } = &event.kind {
                for line in lines {
                    if let Some(sent) = line
                        .text
                        .rsplit("sent ")
                        .next()
                        .and_then(|s| s.trim().parse::<u128>().ok())
                    {
                        latencies.push(now.saturating_sub(sent) as f64 / 1000.0);
                    }
                }
            }
        }
        writer.join().expect("writer");
        pipeline.finish(Finish::Detach).await;
        latencies.sort_by(f64::total_cmp);
        let pick = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
        println!(
            "paced 1,000 lines/s: {} lines, append → delivered latency p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            latencies.len(),
            pick(0.5),
            pick(0.99),
            latencies.last().copied().unwrap_or(0.0)
        );
    });
}
