//! API load harness (not criterion): the real host in this process on a loopback port with
//! 100 servers, and `GARRISON_API_CLIENTS` (default 32) keep-alive clients calling
//! `GET /api/v1/servers` (authenticated, one page of 100) for `GARRISON_API_SECS` (default
//! 10) seconds. Reports requests per second and latency percentiles. Client and host share
//! this machine's cores, so the figures are conservative. Prints figures; asserts nothing.
//! With `GARRISON_API_WRK=1` the load comes from `wrk` (`apt-get install wrk`) instead.

use std::time::{Duration, Instant};

use serde_json::json;

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let clients = env_or("GARRISON_API_CLIENTS", 32) as usize;
    let secs = env_or("GARRISON_API_SECS", 10);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio");
    let dir = tempfile::tempdir().expect("tempdir");
    rt.block_on(async {
        let config = garrison::Config::new(dir.path().to_path_buf());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let host = tokio::spawn(garrison::run(config, listener, async move {
            let _ = stopped.await;
        }));
        let client = reqwest::Client::new();
        let health = format!("{base}/api/v1/system/health");
        while client.get(&health).send().await.is_err() {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let password = std::fs::read_to_string(dir.path().join("initial-admin-password"))
            .expect("admin password");
        let login: serde_json::Value = client
            .post(format!("{base}/api/v1/auth/login"))
            .json(&json!({"username": "admin", "password": password.trim()}))
            .send()
            .await
            .expect("login")
            .json()
            .await
            .expect("json");
        let token = login["token"].as_str().expect("token").to_string();
        for i in 0..100 {
            let status = client
                .post(format!("{base}/api/v1/servers"))
                .bearer_auth(&token)
                .json(&json!({
                    "name": format!("server {i}"),
                    "adapter": "generic",
                    "settings": {"executable": "/bin/sleep", "args": ["600"]},
                }))
                .send()
                .await
                .expect("create")
                .status();
            assert!(status.is_success(), "create: {status}");
        }

        let path = std::env::var("GARRISON_API_PATH").unwrap_or_else(|_| "/api/v1/servers?limit=100".into());
        let url = format!("{base}{path}");
        if std::env::var_os("GARRISON_API_WRK").is_some() {
            // The same load from `wrk` (a C client, lighter than the in-process one).
            let host_task = tokio::task::spawn_blocking(move || {
                std::process::Command::new("wrk")
                    .args(["-t2", &format!("-c{clients}"), &format!("-d{secs}s"), "--latency"])
                    .args(["-H", &format!("Authorization: Bearer {token}"), &url])
                    .status()
            });
            match host_task.await {
                Ok(Ok(status)) if status.success() => {}
                other => eprintln!("wrk did not run (apt-get install wrk): {other:?}"),
            }
            let _ = stop.send(());
            let _ = host.await;
            return;
        }
        let deadline = Instant::now() + Duration::from_secs(secs);
        let started = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..clients {
            let (client, url, token) = (reqwest::Client::new(), url.clone(), token.clone());
            tasks.push(tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut failures = 0u64;
                while Instant::now() < deadline {
                    let sent = Instant::now();
                    match client.get(&url).bearer_auth(&token).send().await {
                        Ok(response) if response.status().is_success() => {
                            let _ = response.bytes().await;
                            latencies.push(sent.elapsed());
                        }
                        _ => failures += 1,
                    }
                }
                (latencies, failures)
            }));
        }
        let mut latencies = Vec::new();
        let mut failures = 0;
        for task in tasks {
            let (l, f) = task.await.expect("client");
            latencies.extend(l);
            failures += f;
        }
        let elapsed = started.elapsed();
        latencies.sort();
        let pick = |q: f64| {
            latencies
                .get(((latencies.len() as f64 * q) as usize).min(latencies.len().saturating_sub(1)))
                .copied()
                .unwrap_or_default()
        };
        println!(
            "GET /api/v1/servers (100 servers, {clients} clients, {secs} s): {} ok, {failures} failed, \
             {:.0} req/s; latency p50 {:.2?}, p99 {:.2?}, max {:.2?}",
            latencies.len(),
            latencies.len() as f64 / elapsed.as_secs_f64(),
            pick(0.5),
            pick(0.99),
            latencies.last().copied().unwrap_or_default()
        );
        let _ = stop.send(());
        let _ = host.await;
    });
}
