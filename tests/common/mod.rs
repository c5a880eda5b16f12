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
        max_instances: Some(64),
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
///
/// Built as `scripts/build-bins.sh` does — every package, tests included — so the features
/// are those of `cargo test --workspace` and nothing is compiled a second time.
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
        .args(["build", "--quiet", "--workspace", "--tests", "--bins"])
        .arg("--target-dir")
        .arg(target_dir)
        .current_dir(env!("CARGO_MANIFEST_DIR"));
    if profile_dir.ends_with("release") {
        build.arg("--release");
    }
    let status = build.status().expect("run cargo build");
    assert!(status.success(), "building {bin} of {package} failed");
    profile_dir.join(bin)
}

/// Runs `garrison ARGS…` and returns (exit success, stdout, stderr).
pub fn garrison(args: &[&str]) -> (bool, String, String) {
    garrison_with_env(args, &[])
}

/// Runs `garrison ARGS…` with extra environment variables, standard input closed, and returns
/// (exit success, stdout, stderr).
pub fn garrison_with_env(args: &[&str], env: &[(&str, &str)]) -> (bool, String, String) {
    let output = Command::new(garrison_bin())
        .args(args)
        .env_remove("GARRISON_LOG")
        .env_remove("GARRISON_PASSWORD")
        .envs(env.iter().copied())
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run garrison");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// A loopback port for a game (or a host) a test starts as a child process, free for TCP and
/// UDP alike, with the next few ports free too (games listen on neighbours of their port).
///
/// A child process must bind its own port, so the harness cannot hold it open; instead ports
/// come from below the kernel's ephemeral range (where no socket is ever handed one
/// unasked), each block at most once per test binary, starting at an offset taken from the
/// process id so two test runs side by side do not meet.
pub fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU32, Ordering};
    /// Ports per block: the game port and its neighbours.
    const BLOCK: u32 = 8;
    static NEXT: OnceLock<AtomicU32> = OnceLock::new();
    let (low, high) = port_range();
    let blocks = (high - low) / BLOCK;
    let next = NEXT.get_or_init(|| AtomicU32::new(std::process::id() % blocks));
    for _ in 0..blocks {
        let block = next.fetch_add(1, Ordering::Relaxed) % blocks;
        let first = low + block * BLOCK;
        let free = (first..first + BLOCK).all(|port| {
            let Ok(port) = u16::try_from(port) else {
                return false;
            };
            std::net::TcpListener::bind(("127.0.0.1", port)).is_ok()
                && std::net::UdpSocket::bind(("127.0.0.1", port)).is_ok()
        });
        if free {
            return u16::try_from(first).expect("below the ephemeral range");
        }
    }
    panic!("no free block of {BLOCK} loopback ports in {low}..{high}");
}

/// Where [`free_port`] takes its ports: from 10000 up to the kernel's ephemeral range.
fn port_range() -> (u32, u32) {
    let ephemeral_low = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|text| text.split_whitespace().next()?.parse::<u32>().ok())
        .unwrap_or(32768);
    (10000, ephemeral_low.max(12000))
}

/// A host running in this process on a loopback port, with its own data directory.
pub struct TestHost {
    /// Ends the games the host started when the test ends, also when it panics (declared
    /// first: fields drop in order, so before the data directory goes).
    games: Option<GamesGuard>,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// The data directory (deleted when the host is dropped).
    pub data_dir: tempfile::TempDir,
    /// The first administrator's session, signed in on first use.
    admin_token: tokio::sync::OnceCell<String>,
    client: reqwest::Client,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<Result<(), garrison::HostError>>>,
}

impl TestHost {
    /// The password the host generated for `admin` on first start.
    pub fn initial_admin_password(&self) -> String {
        let path = self.data_dir.path().join("initial-admin-password");
        std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
            .trim()
            .to_string()
    }

    /// Signs in through the API; the session token, or the failure's status.
    pub async fn login(&self, username: &str, password: &str) -> Result<String, u16> {
        let response = self
            .client
            .post(format!("{}/api/v1/auth/login", self.base))
            .json(&serde_json::json!({ "username": username, "password": password }))
            .send()
            .await
            .expect("request");
        let (status, body) = checked("POST", "/api/v1/auth/login", response).await;
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
        match body["token"].as_str() {
            Some(token) if status == 200 => Ok(token.to_string()),
            _ => Err(status),
        }
    }

    /// A session token of the first administrator (signed in once, on first use).
    pub async fn admin_token(&self) -> &str {
        self.admin_token
            .get_or_init(|| async {
                self.login("admin", &self.initial_admin_password())
                    .await
                    .expect("the first administrator signs in")
            })
            .await
    }

    /// `method path` (below the base URL) with `credential` as the bearer (anonymous
    /// without one) and an optional JSON body; the status and the parsed JSON body.
    pub async fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        credential: Option<&str>,
        body: Option<serde_json::Value>,
    ) -> (u16, serde_json::Value) {
        let method_name = method.to_string();
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if let Some(credential) = credential {
            request = request.bearer_auth(credential);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request");
        let (status, body) = checked(&method_name, path, response).await;
        (status, serde_json::from_slice(&body).unwrap_or_default())
    }

    /// `method path` (below the base URL) with `credential` and `body` as raw bytes of
    /// `content_type`; the status and the parsed JSON body, checked like [`TestHost::request`].
    pub async fn send_bytes(
        &self,
        method: reqwest::Method,
        path: &str,
        credential: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> (u16, serde_json::Value) {
        let method_name = method.to_string();
        let response = self
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(credential)
            .header(reqwest::header::CONTENT_TYPE, content_type)
            .body(body)
            .send()
            .await
            .expect("request");
        let (status, body) = checked(&method_name, path, response).await;
        (status, serde_json::from_slice(&body).unwrap_or_default())
    }

    /// Polls the server at `server` (its path below the base URL) with `credential` until its
    /// `actual_state` is `state`, for at most a minute; returns the server.
    pub async fn wait_for_state(
        &self,
        credential: &str,
        server: &str,
        state: &str,
    ) -> serde_json::Value {
        let limit = tokio::time::Instant::now() + Duration::from_secs(60);
        loop {
            let (_, body) = self
                .request(reqwest::Method::GET, server, Some(credential), None)
                .await;
            if body["actual_state"] == state {
                return body;
            }
            assert!(tokio::time::Instant::now() < limit, "never {state}: {body}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// GET `path` (below the base URL) as the first administrator and parse the JSON body.
    pub async fn get_json(&self, path: &str) -> (u16, serde_json::Value) {
        let token = self.admin_token().await.to_string();
        self.request(reqwest::Method::GET, path, Some(&token), None)
            .await
    }

    /// Stops the host, waits for it to finish, and hands back its data directory for another
    /// start; its games go on running, to be reattached.
    pub async fn stop_and_keep(mut self) -> tempfile::TempDir {
        if let Some(games) = self.games.take() {
            games.disarm();
        }
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.expect("host task").expect("host ran cleanly");
        }
        self.data_dir
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

/// The published OpenAPI document every answer the tests read is held against.
pub fn contract() -> &'static garrison_contract::Contract {
    static CONTRACT: OnceLock<garrison_contract::Contract> = OnceLock::new();
    CONTRACT.get_or_init(|| {
        let doc = garrison::api::openapi_document().clone();
        garrison_contract::Contract::new(doc)
    })
}

/// Reads `response` (to `method path`, `path` below the base URL) whole and checks it
/// against the document: a status, content type or body it does not declare fails the
/// test. The status and the body.
pub async fn checked(method: &str, path: &str, response: reqwest::Response) -> (u16, Vec<u8>) {
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let body = response
        .bytes()
        .await
        .map(|b| b.to_vec())
        .unwrap_or_default();
    garrison_contract::enforce(contract().check_response(
        method,
        path,
        status,
        content_type.as_deref(),
        &body,
    ));
    (status, body)
}

/// Ends every process working below a directory when dropped — also when the test panics.
/// Games outlive the host by design (the next host run reattaches them), so a test that has
/// the host start games owns ending them.
pub struct GamesGuard(PathBuf);

impl GamesGuard {
    /// Guards the processes working below `dir` (a host's data directory).
    pub fn new(dir: &Path) -> Self {
        GamesGuard(dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf()))
    }

    /// Leaves the processes running (the directory goes on to another host).
    pub fn disarm(self) {
        std::mem::forget(self);
    }
}

impl Drop for GamesGuard {
    fn drop(&mut self) {
        for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<u32>().ok())
            else {
                continue;
            };
            // A deleted directory reads as `… (deleted)`: still below the guarded one.
            let below = std::fs::read_link(entry.path().join("cwd"))
                .is_ok_and(|cwd| cwd.starts_with(&self.0));
            if below && pid != std::process::id() {
                let _ = Command::new("kill")
                    .args(["-KILL", &pid.to_string()])
                    .status();
            }
        }
    }
}

/// Boots the real host on 127.0.0.1:0 with a fresh data directory.
pub async fn start_host() -> TestHost {
    start_host_in(tempfile::tempdir().expect("tempdir")).await
}

/// Boots the real host on 127.0.0.1:0 with a data directory prepared by the caller.
pub async fn start_host_in(data_dir: tempfile::TempDir) -> TestHost {
    start_host_with(data_dir, |_| {}).await
}

/// Boots the real host on 127.0.0.1:0 with `data_dir` and the configuration `configure`
/// makes of the defaults.
pub async fn start_host_with(
    data_dir: tempfile::TempDir,
    configure: impl FnOnce(&mut garrison::Config),
) -> TestHost {
    let mut config = garrison::Config::new(data_dir.path().to_path_buf());
    config.sandbox.max_instances = Some(64);
    configure(&mut config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(garrison::run(config, listener, async move {
        let _ = stopped.await;
    }));
    let host = TestHost {
        games: Some(GamesGuard::new(data_dir.path())),
        base: format!("http://{addr}"),
        data_dir,
        admin_token: tokio::sync::OnceCell::new(),
        client: reqwest::Client::new(),
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

/// A simulated game server started from an adapter's own plans: the adapter checks and
/// renders the settings, the files go where it says, and the simulator is started as the
/// game's executable (a symlink in a runtime directory) with the adapter's launch spec —
/// exactly what a real install would run.
pub struct PlannedServer {
    /// The running simulator.
    pub child: std::process::Child,
    /// The server's own directory.
    pub instance: tempfile::TempDir,
    /// The "installed game": the simulator linked under the executable's name.
    pub runtime_dir: tempfile::TempDir,
    /// Where its remote console listens, per the adapter.
    pub connection: garrison::adapters::model::Connection,
}

impl Drop for PlannedServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Moves the simulator's knobs — the `--…` entries of `extra_params`, which the real
/// adapters refuse like any parameter the game does not know — out of `settings` into the
/// flags file that the simulator started from `runtime_dir` reads for the server on the
/// settings' game `port` (`garrison-sim-<port>.flags`). Returns the settings without them.
pub fn sim_settings(runtime_dir: &Path, mut settings: serde_json::Value) -> serde_json::Value {
    let Some(params) = settings
        .get_mut("extra_params")
        .and_then(serde_json::Value::as_array_mut)
    else {
        return settings;
    };
    let mut flags = Vec::new();
    params.retain(|p| match p.as_str() {
        Some(flag) if flag.starts_with("--") => {
            flags.push(flag.to_string());
            false
        }
        _ => true,
    });
    if !flags.is_empty() {
        let port = settings["port"]
            .as_u64()
            .expect("settings with simulator flags name their game port");
        std::fs::create_dir_all(runtime_dir).expect("runtime dir");
        std::fs::write(
            runtime_dir.join(format!("garrison-sim-{port}.flags")),
            flags.join("\n"),
        )
        .expect("write the simulator's flags");
    }
    settings
}

/// Starts the simulator as `executable` for `adapter_id` with `settings` (JSON); simulator
/// knobs in `extra_params` are handed over as [`sim_settings`] does.
pub fn start_planned(
    runtime: &AdapterRuntime,
    adapter_id: &str,
    executable: &str,
    settings: serde_json::Value,
) -> PlannedServer {
    use garrison::adapters::model::Context;
    use garrison::adapters::model::Root;
    let adapter = runtime.get(adapter_id).expect("adapter is built in");
    let runtime_dir = tempfile::tempdir().expect("runtime dir");
    std::os::unix::fs::symlink(sim_bin(), runtime_dir.path().join(executable))
        .expect("link the simulator as the game");
    let settings = sim_settings(runtime_dir.path(), settings);
    let instance = tempfile::tempdir().expect("instance dir");
    let typed = garrison::adapters::settings::from_json(&adapter.schema, &settings)
        .expect("schema accepts the settings");
    let mut session = runtime.session(std::sync::Arc::clone(&adapter));
    session
        .validate(&typed)
        .expect("validate runs")
        .expect("settings are valid");
    let ctx = Context {
        server_id: "e2e".into(),
        instance_dir: instance.path().display().to_string(),
        runtime_dir: runtime_dir.path().display().to_string(),
    };
    for file in session.render(&ctx, &typed).expect("render") {
        let root = match file.path.root {
            Root::Instance => instance.path(),
            Root::Runtime => runtime_dir.path(),
        };
        let path = root.join(&file.path.path);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, &file.contents).expect("write rendered file");
    }
    let spec = session.launch(&ctx, &typed).expect("launch");
    let child = Command::new(runtime_dir.path().join(&spec.program))
        .args(&spec.args)
        .current_dir(spec.working_dir.as_deref().unwrap_or(&ctx.instance_dir))
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start the simulated server");
    let connection = session
        .rcon_endpoint(&typed)
        .expect("endpoint")
        .expect("RCon is on");
    PlannedServer {
        child,
        instance,
        runtime_dir,
        connection,
    }
}

/// A driver for `adapter_id`'s RCon at `connection` with `password`, failing fast on a
/// refused password and retrying connections quickly.
pub fn rcon_driver(
    runtime: &AdapterRuntime,
    adapter_id: &str,
    connection: &garrison::adapters::model::Connection,
    password: &str,
) -> (
    garrison::telemetry::rcon::RconHandle,
    tokio::task::JoinHandle<()>,
) {
    use garrison::telemetry::rcon::{RconOptions, RconTarget, spawn};
    let options = RconOptions {
        command_timeout: Duration::from_secs(10),
        backoff_min: Duration::from_millis(100),
        backoff_max: Duration::from_millis(500),
        retry_after_auth_failure: false,
        ..RconOptions::default()
    };
    let target = RconTarget {
        address: format!("{}:{}", connection.host, connection.port),
        password: password.to_string(),
    };
    let adapter = runtime.get(adapter_id).expect("adapter is built in");
    spawn(runtime.clone(), adapter, target, options)
}

/// The live player list through `adapter_id`'s players command and parser.
pub async fn players(
    runtime: &AdapterRuntime,
    adapter_id: &str,
    handle: &garrison::telemetry::rcon::RconHandle,
) -> Vec<garrison::adapters::model::Player> {
    let mut session = runtime.session_for(adapter_id).expect("adapter");
    let command = session.players_command().expect("players command");
    let reply = handle.command(command).await.expect("players reply");
    session.parse_players(&reply).expect("parse players")
}

/// Polls the player list until `done` holds (bounded, so a broken test stops by itself).
pub async fn players_until(
    runtime: &AdapterRuntime,
    adapter_id: &str,
    handle: &garrison::telemetry::rcon::RconHandle,
    done: impl Fn(&[garrison::adapters::model::Player]) -> bool,
) -> Vec<garrison::adapters::model::Player> {
    let limit = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let list = players(runtime, adapter_id, handle).await;
        if done(&list) {
            return list;
        }
        assert!(
            tokio::time::Instant::now() < limit,
            "player list never matched: {list:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
