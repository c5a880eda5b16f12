//! Bans end to end with the real arma3 adapter and the simulated game: the host keeps them,
//! pushes them when the game's remote console logs in (a fresh game has none), pushes and
//! lifts at once while it is up, lifts later what was lifted while the game was stopped
//! (the game kept it in its own file), shows and lifts entries only the game has, and keeps
//! everything across a host restart.

use crate::common;

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use common::TestHost;

const FIRST: &str = "0123456789abcdef0123456789abcdef";
const SECOND: &str = "fedcba9876543210fedcba9876543210";
const THIRD: &str = "00112233445566778899aabbccddeeff";
/// In the game's own list from the start, unknown to the host.
const GAME_ONLY: &str = "aaaabbbbccccddddeeeeffff00001111";

/// Bounds every wait; a broken test fails instead of hanging.
const PATIENCE: Duration = Duration::from_secs(60);

async fn start_host(dir: tempfile::TempDir) -> TestHost {
    common::start_host_with(dir, |config| {
        config.player_poll = Duration::from_millis(300);
    })
    .await
}

async fn call(host: &TestHost, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
    let token = host.admin_token().await.to_string();
    host.request(method, path, Some(&token), body).await
}

async fn ban(host: &TestHost, base: &str, identity: &str, minutes: Option<u32>) -> Value {
    let (status, body) = call(
        host,
        Method::POST,
        &format!("{base}/bans"),
        Some(json!({"identity": identity, "minutes": minutes, "reason": "testing"})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    body
}

/// The kept bans listed, by identity, with the listing.
async fn listed(host: &TestHost, base: &str) -> (Vec<String>, Value) {
    let (status, list) = call(host, Method::GET, &format!("{base}/bans"), None).await;
    assert_eq!(status, 200, "{list}");
    let identities = list["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|b| b["source"] == "garrison")
        .filter_map(|b| b["identity"].as_str().map(str::to_string))
        .collect();
    (identities, list)
}

fn id_of(list: &Value, identity: &str) -> String {
    list["items"]
        .as_array()
        .and_then(|items| items.iter().find(|b| b["identity"] == identity))
        .and_then(|b| b["id"].as_str())
        .unwrap_or_else(|| panic!("{identity} listed: {list}"))
        .to_string()
}

/// The simulator's own ban list, read through the console; none while it is not up.
async fn game_bans(host: &TestHost, base: &str) -> Option<String> {
    let (status, reply) = call(
        host,
        Method::POST,
        &format!("{base}/console"),
        Some(json!({"command": "bans"})),
    )
    .await;
    (status == 200).then(|| reply["reply"].as_str().unwrap_or_default().to_string())
}

/// Waits until the simulator's ban list satisfies `check`.
async fn game_bans_until(host: &TestHost, base: &str, check: impl Fn(&str) -> bool) {
    let limit = tokio::time::Instant::now() + PATIENCE;
    loop {
        if let Some(bans) = game_bans(host, base).await
            && check(&bans)
        {
            return;
        }
        assert!(
            tokio::time::Instant::now() < limit,
            "the game's ban list never matched: {:?}",
            game_bans(host, base).await
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn action(host: &TestHost, base: &str, what: &str, state: &str) {
    let (status, body) = call(host, Method::POST, &format!("{base}/actions/{what}"), None).await;
    assert_eq!(status, 202, "{body}");
    let token = host.admin_token().await.to_string();
    host.wait_for_state(&token, base, state).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bans_are_kept_pushed_when_the_console_connects_and_survive_a_host_restart() {
    let host = start_host(tempfile::tempdir().expect("tempdir")).await;
    let runtime = host.data_dir.path().join("runtimes/arma3");
    std::fs::create_dir_all(&runtime).expect("runtime");
    std::os::unix::fs::symlink(common::sim_bin(), runtime.join("arma3server_x64"))
        .expect("link the simulator");
    let (status, server) = call(
        &host,
        Method::POST,
        "/api/v1/servers",
        Some(json!({
            "name": "Bans",
            "adapter": "arma3",
            "settings": common::sim_settings(&runtime, json!({
                "rcon_password": "rcon-pass-1",
                "steam_username": "tester",
                "steam_password": "steam-pass-1",
                "rcon_port": common::free_port(),
                "port": common::free_port(),
                // The game keeps SECOND in its own ban file (as if from earlier runs).
                "extra_params": [
                    "--tick-ms=50",
                    "--players=1",
                    format!("--ban={SECOND}"),
                    format!("--ban={GAME_ONLY}"),
                ],
            })),
        })),
    )
    .await;
    assert_eq!(status, 201, "{server}");
    let base = format!("/api/v1/servers/{}", server["id"]);

    // Stopped: the ban is kept and waits for the console.
    let answer = ban(&host, &base, FIRST, None).await;
    assert_eq!(answer["pushed"], "at_next_connection", "{answer}");
    let (kept, list) = listed(&host, &base).await;
    assert_eq!(kept, [FIRST]);
    assert_eq!(list["game_list_read"], false);

    // Started: the fresh game gets it as soon as the console logs in.
    action(&host, &base, "start", "running").await;
    game_bans_until(&host, &base, |bans| bans.contains(FIRST)).await;
    let (kept, list) = listed(&host, &base).await;
    assert_eq!(kept, [FIRST]);
    assert_eq!(list["game_list_read"], true, "{list}");
    assert_eq!(list["items"][0]["in_game"], true, "{list}");
    assert_eq!(list["items"][0]["pushed"], true, "{list}");
    // Entries only the game has are shown as the game's, and can be lifted.
    let theirs: Vec<&Value> = list["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|b| b["source"] == "game")
        .collect();
    assert_eq!(theirs.len(), 2, "{list}");
    let game_only = id_of(&list, GAME_ONLY);
    assert!(game_only.starts_with("game:"), "{list}");
    let (status, lifted) = call(
        &host,
        Method::DELETE,
        &format!("{base}/bans/{game_only}"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{lifted}");
    assert_eq!(lifted["pushed"], "now", "{lifted}");
    assert_eq!(lifted["ban"], Value::Null, "{lifted}");
    let bans = game_bans(&host, &base).await.expect("console up");
    assert!(!bans.contains(GAME_ONLY), "{bans}");

    // Running: a ban and a lift reach the game at once. (The host now keeps SECOND too.)
    let answer = ban(&host, &base, SECOND, Some(120)).await;
    assert_eq!(answer["pushed"], "now", "{answer}");
    let bans = game_bans(&host, &base).await.expect("console up");
    assert!(bans.contains(SECOND), "{bans}");
    let first = id_of(&list, FIRST);
    let (status, lifted) = call(&host, Method::DELETE, &format!("{base}/bans/{first}"), None).await;
    assert_eq!(status, 200, "{lifted}");
    assert_eq!(lifted["pushed"], "now", "{lifted}");
    let bans = game_bans(&host, &base).await.expect("console up");
    assert!(!bans.contains(FIRST) && bans.contains(SECOND), "{bans}");
    let (kept, _) = listed(&host, &base).await;
    assert_eq!(kept, [SECOND]);

    // Stopped again: lifting and banning are kept for later.
    action(&host, &base, "stop", "stopped").await;
    let (_, list) = listed(&host, &base).await;
    let second = id_of(&list, SECOND);
    let (status, lifted) = call(
        &host,
        Method::DELETE,
        &format!("{base}/bans/{second}"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{lifted}");
    assert_eq!(lifted["pushed"], "at_next_connection", "{lifted}");
    let answer = ban(&host, &base, THIRD, Some(600)).await;
    assert_eq!(answer["pushed"], "at_next_connection", "{answer}");

    // A new host on the same data directory has the same bans.
    let dir = host.stop_and_keep().await;
    let host = start_host(dir).await;
    let (kept, list) = listed(&host, &base).await;
    assert_eq!(kept, [THIRD], "{list}");
    let minutes = list["items"][0]["minutes_left"].as_u64().expect("timed");
    assert!((598..=600).contains(&minutes), "{list}");

    // And brings the game in line when it starts: THIRD pushed, SECOND (which the game kept
    // in its own file) lifted.
    action(&host, &base, "start", "running").await;
    game_bans_until(&host, &base, |bans| {
        bans.contains(THIRD) && !bans.contains(SECOND)
    })
    .await;
    let bans = game_bans(&host, &base).await.expect("console up");
    assert!(!bans.contains(FIRST), "{bans}");
    let (kept, list) = listed(&host, &base).await;
    assert_eq!(kept, [THIRD]);
    assert_eq!(list["items"][0]["in_game"], true, "{list}");

    action(&host, &base, "stop", "stopped").await;
    host.stop().await;
}

/// Polls job `id` until it has ended; returns its state.
async fn job_ended(host: &TestHost, id: &Value) -> String {
    let limit = tokio::time::Instant::now() + PATIENCE;
    loop {
        let (status, job) = call(host, Method::GET, &format!("/api/v1/jobs/{id}"), None).await;
        let state = job["state"].as_str().unwrap_or_default().to_string();
        if status == 200 && ["succeeded", "failed", "cancelled"].contains(&state.as_str()) {
            return state;
        }
        assert!(
            tokio::time::Instant::now() < limit,
            "job never ended: {status} {job}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The stored log lines after sequence `after`: (the last sequence, the RCon clients' addresses
/// in the order the game logged their commands — `rcon from "ADDRESS": command "…"`).
async fn rcon_clients(host: &TestHost, base: &str, mut after: i64) -> (i64, Vec<String>) {
    let mut clients: Vec<String> = Vec::new();
    loop {
        let (status, page) = call(
            host,
            Method::GET,
            &format!("{base}/logs?after={after}&limit=1000"),
            None,
        )
        .await;
        assert_eq!(status, 200, "{page}");
        let items = page["items"].as_array().expect("items");
        for line in items {
            after = after.max(line["seq"].as_i64().expect("seq"));
            let text = line["text"].as_str().unwrap_or_default();
            if let Some(rest) = text.split("rcon from \"").nth(1)
                && let Some((client, _)) = rest.split_once('"')
                && !clients.iter().any(|c| c == client)
            {
                clients.push(client.to_string());
            }
        }
        if items.is_empty() {
            return (after, clients);
        }
    }
}

/// Issue 16: a restart must not let the ended process's RCon session reach the new process
/// (it logged in, began the ban sync and was torn down, and a second session did the work).
/// Each restarted game is served by exactly one new session, and every kept ban is pushed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_gives_the_new_game_one_session_that_pushes_every_kept_ban() {
    const BANNED: [&str; 2] = ["STEAM_1:0:111111", "STEAM_1:1:222222"];
    let host = start_host(tempfile::tempdir().expect("tempdir")).await;
    let runtime = host.data_dir.path().join("runtimes/l4d2");
    std::fs::create_dir_all(&runtime).expect("runtime");
    std::os::unix::fs::symlink(common::sim_bin(), runtime.join("srcds_run"))
        .expect("link the simulator");
    let (status, server) = call(
        &host,
        Method::POST,
        "/api/v1/servers",
        Some(json!({
            "name": "Restarts",
            "adapter": "l4d2",
            // Like many games, it closes its console at `quit` and saves before exiting.
            "settings": common::sim_settings(&runtime, json!({
                "rcon_password": "rcon-secret-1",
                "port": common::free_port(),
                "extra_params": ["--slow-quit=2"],
            })),
        })),
    )
    .await;
    assert_eq!(status, 201, "{server}");
    let base = format!("/api/v1/servers/{}", server["id"]);
    for identity in BANNED {
        ban(&host, &base, identity, None).await;
    }
    // The game's own list (`listid`), read over the host's session.
    let pushed = async |host: &TestHost| {
        let limit = tokio::time::Instant::now() + PATIENCE;
        loop {
            let (status, reply) = call(
                host,
                Method::POST,
                &format!("{base}/console"),
                Some(json!({"command": "listid"})),
            )
            .await;
            let list = reply["reply"].as_str().unwrap_or_default();
            if status == 200 && BANNED.iter().all(|b| list.contains(b)) {
                return;
            }
            assert!(
                tokio::time::Instant::now() < limit,
                "the game never listed every kept ban: {status} {reply}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };

    action(&host, &base, "start", "running").await;
    pushed(&host).await;
    let (mut seen, mut before) = rcon_clients(&host, &base, 0).await;
    assert_eq!(before.len(), 1, "one session on a plain start: {before:?}");

    const RESTARTS: usize = 5;
    for round in 1..=RESTARTS {
        let (status, job) = call(
            &host,
            Method::POST,
            &format!("{base}/actions/restart"),
            None,
        )
        .await;
        assert_eq!(status, 202, "{job}");
        assert_eq!(
            job_ended(&host, &job["id"]).await,
            "succeeded",
            "restart {round}"
        );
        // A fresh game has no bans of its own: whatever it lists was pushed on this run.
        pushed(&host).await;
        // Leave a second session the time it took to show up (well under a second).
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let (last, clients) = rcon_clients(&host, &base, seen).await;
        let new: Vec<&String> = clients.iter().filter(|c| !before.contains(c)).collect();
        assert_eq!(
            new.len(),
            1,
            "restart {round}: the new game was served by one RCon session, not {new:?}"
        );
        (seen, before) = (last, clients);
    }

    action(&host, &base, "stop", "stopped").await;
    host.stop().await;
}
