//! The host's own trust boundaries end to end through the API, with the real adapters and
//! the simulated games: what the host writes is its user's alone, a deleted server leaves
//! nothing of its own in a shared install, a create that fails leaves no server, and a host
//! restart restores each server as it was — starting until ready, or marked with the
//! reason when it cannot be planned for — without one failure stopping the others.

use crate::common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use common::TestHost;

/// Bounds every wait; a broken test fails instead of hanging.
const PATIENCE: Duration = Duration::from_secs(60);

async fn call(host: &TestHost, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
    let token = host.admin_token().await.to_string();
    host.request(method, path, Some(&token), body).await
}

async fn create(host: &TestHost, body: Value) -> String {
    let (status, server) = call(host, Method::POST, "/api/v1/servers", Some(body)).await;
    assert_eq!(status, 201, "{server}");
    format!("/api/v1/servers/{}", server["id"])
}

async fn action(host: &TestHost, base: &str, what: &str, state: &str) {
    let (status, body) = call(host, Method::POST, &format!("{base}/actions/{what}"), None).await;
    assert_eq!(status, 202, "{body}");
    let token = host.admin_token().await.to_string();
    host.wait_for_state(&token, base, state).await;
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

async fn until(what: &str, mut check: impl FnMut() -> bool) {
    let limit = tokio::time::Instant::now() + PATIENCE;
    while !check() {
        assert!(tokio::time::Instant::now() < limit, "never: {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_with_passwords_are_private_and_a_deleted_server_leaves_none_behind() {
    let host = common::start_host().await;
    let runtime = host.data_dir.path().join("runtimes/l4d2");
    std::fs::create_dir_all(&runtime).expect("runtime");
    std::os::unix::fs::symlink(common::sim_bin(), runtime.join("srcds_run"))
        .expect("link the simulator");
    let (first_port, second_port) = (common::free_port(), common::free_port());
    let settings = |port: u16| {
        json!({"name": format!("coop {port}"), "adapter": "l4d2",
               "settings": {"rcon_password": "rcon-secret-1", "port": port}})
    };
    let first = create(&host, settings(first_port)).await;
    let second = create(&host, settings(second_port)).await;
    action(&host, &first, "start", "running").await;
    action(&host, &second, "start", "running").await;

    let game = runtime.join("left4dead2");
    let cfg = |port: u16| game.join(format!("cfg/garrison/{port}.cfg"));
    let logs = |port: u16| game.join(format!("logs/garrison-{port}"));
    let first_id = first.rsplit('/').next().expect("id");
    let instance = host.data_dir.path().join("servers").join(first_id);
    assert!(
        std::fs::read_to_string(cfg(first_port))
            .expect("rendered")
            .contains("rcon-secret-1")
    );
    assert_eq!(
        mode(&cfg(first_port)),
        0o600,
        "the config holds the RCon password"
    );
    assert_eq!(mode(&game.join("cfg/garrison")), 0o700);
    assert_eq!(mode(&instance), 0o700);
    assert_eq!(mode(&instance.join("console/console.log")), 0o600);
    // What the game writes itself is private too (it inherits the host's file mode mask).
    until("the game writes its log", || {
        std::fs::read_dir(logs(first_port)).is_ok_and(|mut d| d.next().is_some())
    })
    .await;
    for entry in std::fs::read_dir(logs(first_port)).expect("logs") {
        let path = entry.expect("entry").path();
        assert_eq!(
            mode(&path) & 0o077,
            0,
            "{} is the host's only",
            path.display()
        );
    }

    action(&host, &first, "stop", "stopped").await;
    let (status, job) = call(&host, Method::DELETE, &first, None).await;
    assert_eq!(status, 202, "{job}");
    let limit = tokio::time::Instant::now() + PATIENCE;
    while call(&host, Method::GET, &first, None).await.0 != 404 {
        assert!(tokio::time::Instant::now() < limit, "never deleted");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    until("the deleted server's files go", || {
        !instance.exists() && !cfg(first_port).exists() && !logs(first_port).exists()
    })
    .await;
    assert!(cfg(second_port).exists(), "the other server's config stays");
    assert!(logs(second_port).exists(), "the other server's logs stay");
    assert!(runtime.join("srcds_run").exists(), "the install stays");
    action(&host, &second, "kill", "stopped").await;
    host.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_the_disk_refuses_answers_507_and_leaves_no_server() {
    let dir = tempfile::tempdir().expect("tempdir");
    // `servers` is a file, so no server directory can be made (even as root).
    std::fs::write(dir.path().join("servers"), b"not a directory").expect("blocker");
    let host = common::start_host_in(dir).await;
    let body = json!({"name": "x", "adapter": "generic",
                      "settings": {"executable": "/bin/sleep", "args": ["1"]}});
    for _ in 0..2 {
        let (status, problem) =
            call(&host, Method::POST, "/api/v1/servers", Some(body.clone())).await;
        assert_eq!(status, 507, "{problem}");
        let detail = problem["detail"].as_str().unwrap_or_default();
        assert!(detail.contains("nothing was changed"), "{detail}");
        assert!(
            !detail.contains(&host.data_dir.path().display().to_string()),
            "{detail}"
        );
    }
    let (_, list) = call(&host, Method::GET, "/api/v1/servers", None).await;
    assert_eq!(
        list["items"],
        json!([]),
        "a refused create leaves no server"
    );

    std::fs::remove_file(host.data_dir.path().join("servers")).expect("unblock");
    let server = create(&host, body).await;
    assert!(
        server.ends_with("/1"),
        "the refused creates used no id: {server}"
    );
    host.stop().await;
}

/// A generic server whose game says READY only once the file `go` exists in `dir`
/// (bounded: it gives up after a minute), then sleeps for `marker` seconds.
fn slow_starter(dir: &Path, marker: &str) -> Value {
    json!({
        "executable": "/bin/sh",
        "args": ["-c", format!(
            "for i in $(seq 600); do [ -e {go} ] && break; sleep 0.1; done; \
             echo READY; exec sleep {marker}",
            go = dir.join("go").display()
        )],
        "ready_pattern": "^READY$",
        "stop_signal_grace_secs": 1,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_game_still_starting_when_the_host_restarts_is_starting_until_ready() {
    let host = common::start_host().await;
    let scratch = tempfile::tempdir().expect("scratch");
    let server = create(
        &host,
        json!({"name": "slow", "adapter": "generic",
               "settings": slow_starter(scratch.path(), "61.0311")}),
    )
    .await;
    action(&host, &server, "start", "starting").await;

    let dir = host.stop_and_keep().await;
    let host = common::start_host_in(dir).await;
    let (_, seen) = call(&host, Method::GET, &server, None).await;
    assert_eq!(seen["actual_state"], "starting", "not ready yet: {seen}");

    std::fs::write(scratch.path().join("go"), b"").expect("go");
    let token = host.admin_token().await.to_string();
    host.wait_for_state(&token, &server, "running").await;
    action(&host, &server, "kill", "stopped").await;
    host.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_server_is_reattached_or_marked_with_the_reason_on_its_own() {
    let dir = tempfile::tempdir().expect("tempdir");
    let adapters = dir.path().join("adapters");
    std::fs::create_dir_all(&adapters).expect("drop-in dir");
    let dropin = adapters.join("content.wasm");
    std::fs::copy(common::wasm_path("garrison_fixture_content"), &dropin).expect("drop-in");
    let host = common::start_host_in(dir).await;
    // The drop-in game's program lives in its install.
    let install = host.data_dir.path().join("runtimes/fixture-content/bin");
    std::fs::create_dir_all(&install).expect("install");
    let game = install.join("game");
    std::fs::write(&game, "#!/bin/sh\nexec sleep 62.0419\n").expect("game");
    std::fs::set_permissions(&game, std::fs::Permissions::from_mode(0o755)).expect("chmod");

    // The first server's adapter will be gone at the next start; the second's is built in.
    let orphan = create(
        &host,
        json!({"name": "orphan", "adapter": "fixture-content",
               "settings": {"password": "kept-secret"}}),
    )
    .await;
    let healthy = create(
        &host,
        json!({"name": "healthy", "adapter": "generic",
               "settings": {"executable": "/bin/sleep", "args": ["63.0419"],
                            "stop_signal_grace_secs": 1}}),
    )
    .await;
    action(&host, &orphan, "start", "running").await;
    action(&host, &healthy, "start", "running").await;

    let dir = host.stop_and_keep().await;
    std::fs::remove_file(dir.path().join("adapters/content.wasm")).expect("remove drop-in");
    let host = common::start_host_in(dir).await;

    let (_, seen) = call(&host, Method::GET, &orphan, None).await;
    assert_eq!(seen["actual_state"], "unmanaged", "{seen}");
    let (_, events) = call(&host, Method::GET, &format!("{orphan}/events"), None).await;
    let said = events.to_string();
    assert!(
        said.contains("cannot plan for it") && said.contains("fixture-content"),
        "the reason is in the server's events: {said}"
    );
    let (_, seen) = call(&host, Method::GET, &healthy, None).await;
    assert_eq!(
        seen["actual_state"], "running",
        "the next server was reattached: {seen}"
    );

    action(&host, &healthy, "kill", "stopped").await;
    host.stop().await;
    let _ = std::process::Command::new("pkill")
        .args(["-f", "sleep 62.0419"])
        .status();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_that_does_not_open_the_stored_secrets_stops_the_host_and_changes_nothing() {
    let host = common::start_host().await;
    let server = create(
        &host,
        json!({"name": "keyed", "adapter": "l4d2",
               "settings": {"rcon_password": "rcon-secret-1", "port": common::free_port()}}),
    )
    .await;
    let dir = host.stop_and_keep().await;
    let key_file = dir.path().join("secret.key");
    let database = dir.path().join("garrison.db");
    let stored_key = std::fs::read(&key_file).expect("the key file");
    let stored_settings = |db: &Path| -> String {
        rusqlite::Connection::open(db)
            .expect("database")
            .query_row("SELECT settings FROM servers", [], |row| row.get(0))
            .expect("settings")
    };
    let before = stored_settings(&database);
    assert!(
        !before.contains("rcon-secret-1"),
        "sealed at rest: {before}"
    );

    // Another key in the key file (as if copied from another host).
    let other = "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=";
    std::fs::write(&key_file, other).expect("write another key");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let config = garrison::Config::new(dir.path().to_path_buf());
    let result = tokio::time::timeout(
        Duration::from_secs(60),
        garrison::run(config, listener, std::future::pending()),
    )
    .await
    .expect("the host stops by itself");
    let error = result.expect_err("the host refuses to start").to_string();
    assert!(
        error.contains("does not open the secrets stored")
            && error.contains(&format!(
                "server {}",
                server.rsplit('/').next().unwrap_or("")
            ))
            && error.contains("rcon_password"),
        "{error}"
    );
    assert!(
        !error.contains("rcon-secret-1") && !error.contains(other),
        "{error}"
    );
    // Nothing was changed: the key file is the one it found, the sealed value as it was.
    assert_eq!(std::fs::read_to_string(&key_file).expect("key"), other);
    assert_eq!(stored_settings(&database), before);

    // The same through GARRISON_SECRET_KEY, which wins over the file (here the right one):
    // a wrong key and a malformed one stop `garrison serve` with the reason.
    std::fs::write(&key_file, &stored_key).expect("restore the key");
    let data = dir.path().to_string_lossy().into_owned();
    let serve = [
        "serve",
        "--data-dir",
        data.as_str(),
        "--listen",
        "127.0.0.1:0",
    ];
    let (ok, _, stderr) = common::garrison_with_env(&serve, &[("GARRISON_SECRET_KEY", other)]);
    assert!(
        !ok && stderr.contains("does not open the secrets stored"),
        "{stderr}"
    );
    let (ok, _, stderr) = common::garrison_with_env(&serve, &[("GARRISON_SECRET_KEY", "nonsense")]);
    assert!(
        !ok && stderr.contains("the secret key is unusable"),
        "{stderr}"
    );
    assert!(!stderr.contains("rcon-secret-1"));
    assert_eq!(stored_settings(&database), before);

    // With the right key it starts and the secret still opens.
    std::fs::write(&key_file, &stored_key).expect("restore the key");
    let host = common::start_host_in(dir).await;
    let (status, config) = call(&host, Method::GET, &format!("{server}/config"), None).await;
    assert_eq!(status, 200, "{config}");
    assert_eq!(config["settings"]["rcon_password"], json!({"set": true}));
    host.stop().await;
}
