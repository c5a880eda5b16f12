//! Cold start: `garrison serve` from process start to the first healthy response, with the
//! component cache already warm (the state of every start after the first).
#![allow(missing_docs)] // criterion_group! generates undocumented public functions

use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// Starts the host, waits for health, stops it; returns the time to health.
fn start_once(
    bin: &std::path::Path,
    data_dir: &std::path::Path,
    client: &reqwest::blocking::Client,
) -> Duration {
    let port = free_port();
    let started = Instant::now();
    let mut child = Command::new(bin)
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--data-dir",
        ])
        .arg(data_dir)
        .env("GARRISON_LOG", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn garrison");
    let url = format!("http://127.0.0.1:{port}/api/v1/system/health");
    let elapsed = loop {
        if client
            .get(&url)
            .send()
            .is_ok_and(|r| r.status().is_success())
        {
            break started.elapsed();
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "host did not become healthy"
        );
        std::thread::sleep(Duration::from_millis(1));
    };
    let _ = child.kill();
    let _ = child.wait();
    elapsed
}

fn cold_start(c: &mut Criterion) {
    let bin = garrison_benches::release_garrison();
    let data = tempfile::tempdir().expect("tempdir");
    let client = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(1))
        .build()
        .expect("client");
    // First start fills the component cache.
    start_once(&bin, data.path(), &client);
    c.bench_function("serve: start to first healthy response (warm cache)", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| start_once(&bin, data.path(), &client))
                .sum()
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10).measurement_time(Duration::from_secs(10));
    targets = cold_start
}
criterion_main!(benches);
