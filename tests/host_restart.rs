//! The host as users run it — the `garrison serve` process — killed without warning while a
//! game runs and its log grows, then started again on the same data directory: the game is
//! reattached (never launched a second time), its log is followed on from where the dead
//! host stopped (no line lost or repeated), and it stops through the API as usual.

use crate::common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

/// A `garrison serve` process on a loopback port.
struct Serve {
    child: Child,
    base: String,
    client: reqwest::Client,
}

impl Serve {
    /// Starts `garrison serve` on a port of its own choosing (`127.0.0.1:0`, so nothing can
    /// take the port between a pick and the bind) and learns the port from its log.
    async fn start(data_dir: &Path) -> Serve {
        let mut child = Command::new(common::garrison_bin())
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data_dir)
            .env("GARRISON_LOG", "info")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start garrison serve");
        let stderr = child.stderr.take().expect("stderr is piped");
        let (found, address) = std::sync::mpsc::channel();
        // Reads the log to its end (the pipe must not fill), passing on the address once.
        std::thread::spawn(move || {
            let mut found = Some(found);
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if let Some(at) = line.find("listening on http://") {
                    let base = line[at + "listening on ".len()..].trim().to_string();
                    if let Some(found) = found.take() {
                        let _ = found.send(base);
                    }
                }
            }
        });
        let base =
            tokio::task::spawn_blocking(move || address.recv_timeout(Duration::from_secs(60)))
                .await
                .expect("reader")
                .expect("garrison serve says where it listens");
        let serve = Serve {
            child,
            base,
            client: reqwest::Client::new(),
        };
        common::eventually(Duration::from_secs(60), || async {
            serve
                .client
                .get(format!("{}/api/v1/system/health", serve.base))
                .send()
                .await
                .is_ok()
        })
        .await;
        serve
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let method_name = method.to_string();
        let mut request = self
            .client
            .request(method, format!("{}/api/v1{path}", self.base))
            .bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request");
        let (status, body) =
            common::checked(&method_name, &format!("/api/v1{path}"), response).await;
        (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
    }

    async fn login(&self, data_dir: &Path) -> String {
        let password = std::fs::read_to_string(data_dir.join("initial-admin-password"))
            .expect("the first run wrote the admin password");
        let response = self
            .client
            .post(format!("{}/api/v1/auth/login", self.base))
            .json(&json!({"username": "admin", "password": password.trim()}))
            .send()
            .await
            .expect("login");
        let (_, body) = common::checked("POST", "/api/v1/auth/login", response).await;
        let body: Value = serde_json::from_slice(&body).expect("json");
        body["token"].as_str().expect("token").to_string()
    }

    /// SIGKILL: the host gets no chance to clean up.
    fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Processes whose command line contains `marker`, not counting a child whose parent matches
/// too: a shell's forked child shows the shell's command line until it runs its own program,
/// and the game's shell forks a `sleep` every few milliseconds.
fn processes_with(marker: &str) -> usize {
    let matching: Vec<(u32, u32)> = std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let pid = e.file_name().to_str()?.parse::<u32>().ok()?;
            let cmd = std::fs::read(e.path().join("cmdline")).ok()?;
            if !String::from_utf8_lossy(&cmd).contains(marker) {
                return None;
            }
            // `pid (comm) state ppid …`; comm may hold spaces, so read after its last `)`.
            let stat = std::fs::read_to_string(e.path().join("stat")).ok()?;
            let ppid = stat
                .rsplit(')')
                .next()?
                .split_whitespace()
                .nth(1)?
                .parse()
                .ok()?;
            Some((pid, ppid))
        })
        .collect();
    matching
        .iter()
        .filter(|(_, ppid)| !matching.iter().any(|(pid, _)| pid == ppid))
        .count()
}

async fn state_until(serve: &Serve, token: &str, id: i64, want: &str) -> Value {
    let limit = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let (status, server) = serve
            .call(Method::GET, &format!("/servers/{id}"), token, None)
            .await;
        if status == 200 && server["actual_state"] == want {
            return server;
        }
        assert!(
            tokio::time::Instant::now() < limit,
            "never {want}: {status} {server}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Polls job `id` until it has ended; returns it.
async fn job_until_done(serve: &Serve, token: &str, id: i64) -> Value {
    let limit = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let (status, job) = serve
            .call(Method::GET, &format!("/jobs/{id}"), token, None)
            .await;
        if status == 200
            && ["succeeded", "failed", "cancelled"].contains(&job["state"].as_str().unwrap_or(""))
        {
            return job;
        }
        assert!(
            tokio::time::Instant::now() < limit,
            "job never ended: {status} {job}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn log_texts(serve: &Serve, token: &str, id: i64) -> Vec<String> {
    let (status, page) = serve
        .call(
            Method::GET,
            &format!("/servers/{id}/logs?after=0&limit=1000"),
            token,
            None,
        )
        .await;
    assert_eq!(status, 200, "{page}");
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|l| l["text"].as_str().map(String::from))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_host_comes_back_reattached_and_loses_no_log_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let marker = format!("{}.{}", 70 + std::process::id() % 1000, 3);
    let serve = Serve::start(dir.path()).await;
    let token = serve.login(dir.path()).await;

    let (status, server) = serve
        .call(
            Method::POST,
            "/servers",
            &token,
            Some(json!({
                "name": "ticker",
                "adapter": "generic",
                "settings": {
                    "executable": "/bin/sh",
                    "args": ["-c", format!(
                        "echo booting; echo ready now; n=0; \
                         while [ $n -lt 1000000 ]; do n=$((n+1)); echo tick $n; sleep 0.02; done; \
                         sleep {marker}"
                    )],
                    "ready_pattern": "ready now",
                    "stop_signal_grace_secs": 2,
                },
            })),
        )
        .await;
    assert_eq!(status, 201, "{server}");
    let id = server["id"].as_i64().expect("id");
    let (status, job) = serve
        .call(
            Method::POST,
            &format!("/servers/{id}/actions/start"),
            &token,
            None,
        )
        .await;
    assert_eq!(status, 202, "{job}");
    state_until(&serve, &token, id, "running").await;
    assert_eq!(processes_with(&marker), 1);
    // Let the stored log grow a little, then kill the host mid-stream.
    common::eventually(Duration::from_secs(60), || async {
        log_texts(&serve, &token, id).await.len() >= 10
    })
    .await;
    serve.kill();
    assert_eq!(processes_with(&marker), 1, "the game outlives the host");
    // The game goes on writing while no host reads: wait for lines the dead host never saw.
    let console = dir.path().join(format!("servers/{id}/console/console.log"));
    let at_kill = std::fs::metadata(&console).map_or(0, |m| m.len());
    common::eventually(Duration::from_secs(60), || {
        let grown = std::fs::metadata(&console).is_ok_and(|m| m.len() > at_kill + 100);
        async move { grown }
    })
    .await;

    let serve = Serve::start(dir.path()).await;
    let token = serve.login(dir.path()).await;
    state_until(&serve, &token, id, "running").await;
    // Starting again is refused by the job (already running): never a second copy.
    let (status, job) = serve
        .call(
            Method::POST,
            &format!("/servers/{id}/actions/start"),
            &token,
            None,
        )
        .await;
    assert_eq!(status, 202);
    let job = job["id"].as_i64().expect("job id");
    let finished = job_until_done(&serve, &token, job).await;
    assert_eq!(finished["state"], "failed", "{finished}");
    assert_eq!(processes_with(&marker), 1, "never launched twice");

    let (status, _) = serve
        .call(
            Method::POST,
            &format!("/servers/{id}/actions/stop"),
            &token,
            None,
        )
        .await;
    assert_eq!(status, 202);
    let stopped = state_until(&serve, &token, id, "stopped").await;
    assert_eq!(stopped["desired_state"], "stopped");
    assert_eq!(processes_with(&marker), 0);

    let texts = log_texts(&serve, &token, id).await;
    assert_eq!(texts[..2], ["booting", "ready now"]);
    let ticks: Vec<u64> = texts[2..]
        .iter()
        .filter_map(|t| t.strip_prefix("tick ").and_then(|n| n.parse().ok()))
        .collect();
    assert_eq!(ticks.len(), texts.len() - 2, "only ticks follow: {texts:?}");
    assert!(ticks.len() > 20, "the log was followed across the restart");
    assert_eq!(
        ticks,
        (1..=ticks.len() as u64).collect::<Vec<_>>(),
        "no line lost or repeated"
    );
    serve.kill();
}
