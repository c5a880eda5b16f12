//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use garrison::adapters::{AdapterRuntime, SandboxConfig, WASM_BUILD_DIR};

/// Bytes of a component built from `adapters-wasm/` (e.g. "garrison_fixture_spin").
pub fn wasm(name: &str) -> Vec<u8> {
    std::fs::read(wasm_path(name)).unwrap_or_else(|e| panic!("fixture {name}: {e}"))
}

/// Path of a component built from `adapters-wasm/`.
pub fn wasm_path(name: &str) -> PathBuf {
    Path::new(WASM_BUILD_DIR).join(format!("{name}.wasm"))
}

/// A runtime with default limits except the deadline, and no component cache.
pub fn runtime_with_deadline(deadline: Duration) -> AdapterRuntime {
    let config = SandboxConfig {
        call_deadline: deadline,
        max_instances: 64,
        ..SandboxConfig::default()
    };
    let runtime = AdapterRuntime::new(config, None).expect("runtime");
    runtime.load_builtins().expect("built-ins load");
    runtime
}

/// The `garrison` binary, built on first use.
pub fn garrison_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| workspace_bin("garrison", "garrison"))
}

/// The game-server simulator, built on first use.
pub fn sim_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| workspace_bin("garrison-sim", "garrison-sim"))
}

/// Builds binary `bin` of workspace package `package` in this test's profile and returns its
/// path (cargo only exposes binaries of the package under test to its tests).
fn workspace_bin(package: &str, bin: &str) -> PathBuf {
    // Test executables live in <target>/<profile>/deps/.
    let exe = std::env::current_exe().expect("test executable path");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("test binary in <target>/<profile>/deps");
    let target_dir = profile_dir.parent().expect("profile dir in a target dir");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut build = Command::new(cargo);
    build
        .args(["build", "--quiet", "-p", package, "--bin", bin])
        .arg("--target-dir")
        .arg(target_dir)
        .current_dir(env!("CARGO_MANIFEST_DIR"));
    if profile_dir.ends_with("release") {
        build.arg("--release");
    }
    let status = build.status().expect("run cargo build");
    assert!(status.success(), "building {bin} failed");
    profile_dir.join(bin)
}

/// Runs `garrison ARGS…` and returns (exit success, stdout, stderr).
pub fn garrison(args: &[&str]) -> (bool, String, String) {
    let output = Command::new(garrison_bin())
        .args(args)
        .env_remove("GARRISON_LOG")
        .output()
        .expect("run garrison");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// A host running in this process on a loopback port, with its own data directory.
pub struct TestHost {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// The data directory (deleted when the host is dropped).
    pub data_dir: tempfile::TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<Result<(), garrison::HostError>>>,
}

impl TestHost {
    /// GET `path` (below the base URL) and parse the JSON body.
    pub async fn get_json(&self, path: &str) -> (u16, serde_json::Value) {
        let response = reqwest::get(format!("{}{path}", self.base))
            .await
            .expect("request");
        let status = response.status().as_u16();
        (
            status,
            response.json().await.unwrap_or(serde_json::Value::Null),
        )
    }

    /// Stops the host and waits for it to finish.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.expect("host task").expect("host ran cleanly");
        }
    }
}

/// Boots the real host on 127.0.0.1:0 with a fresh data directory.
pub async fn start_host() -> TestHost {
    let data_dir = tempfile::tempdir().expect("tempdir");
    let mut config = garrison::Config::new(data_dir.path().to_path_buf());
    config.sandbox.max_instances = 64;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(garrison::run(config, listener, async move {
        let _ = stopped.await;
    }));
    let host = TestHost {
        base: format!("http://{addr}"),
        data_dir,
        stop: Some(stop),
        task: Some(task),
    };
    // Ready once health answers (the listener is bound already; this waits for start-up).
    eventually(Duration::from_secs(30), || async {
        reqwest::get(format!("{}/api/v1/system/health", host.base))
            .await
            .is_ok()
    })
    .await;
    host
}

/// Polls `check` until it holds, failing the test after `limit` (a bound that keeps a broken
/// test from hanging, not a timing assertion). Returns how long it took.
pub async fn eventually<F, Fut>(limit: Duration, mut check: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = std::time::Instant::now();
    loop {
        if check().await {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < limit,
            "condition not met within {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
