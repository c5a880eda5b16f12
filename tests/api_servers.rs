//! The REST API with a real game adapter and a simulated game, end to end through the real
//! host: secrets never come back and are not in the database file in plaintext; a server
//! started through the API reports players, runs console commands, kicks and bans.

use crate::common;

use std::time::Duration;

use reqwest::Method;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_game_server_through_the_api_keeps_its_secrets_and_manages_its_players() {
    let host = common::start_host_with(tempfile::tempdir().expect("tempdir"), |config| {
        config.player_poll = Duration::from_millis(300);
    })
    .await;
    let token = host.admin_token().await.to_string();
    let data_dir = host.data_dir.path().to_path_buf();
    let runtime = data_dir.join("runtimes/arma3");
    std::fs::create_dir_all(&runtime).expect("runtime");
    std::os::unix::fs::symlink(common::sim_bin(), runtime.join("arma3server_x64"))
        .expect("link the simulator");

    let secrets = ["rcon-Secret-4711", "steam-Secret-0815", "admin-Secret-1234"];
    let (status, server) = host
        .request(
            Method::POST,
            "/api/v1/servers",
            Some(&token),
            Some(json!({
                "name": "Ops",
                "adapter": "arma3",
                "settings": common::sim_settings(&runtime, json!({
                    "rcon_password": secrets[0],
                    "steam_username": "tester",
                    "steam_password": secrets[1],
                    "password_admin": secrets[2],
                    "rcon_port": common::free_port(),
                    "port": common::free_port(),
                    "extra_params": ["--tick-ms=50", "--players=3"],
                })),
            })),
        )
        .await;
    assert_eq!(status, 201, "{server}");
    let id = server["id"].as_i64().expect("id");
    let base = format!("/api/v1/servers/{id}");

    // Secrets: never in an answer, never in the database file in plaintext.
    let (_, config) = host
        .request(Method::GET, &format!("{base}/config"), Some(&token), None)
        .await;
    assert_eq!(config["settings"]["rcon_password"], json!({"set": true}));
    for answer in [server.to_string(), config.to_string()] {
        for secret in secrets {
            assert!(!answer.contains(secret), "{secret} in {answer}");
        }
    }
    // Replacing the settings without the secrets keeps them.
    let mut settings = config["settings"].clone();
    settings["hostname"] = json!("Renamed");
    let (status, replaced) = host
        .request(
            Method::PUT,
            &format!("{base}/config"),
            Some(&token),
            Some(json!({ "settings": settings })),
        )
        .await;
    assert_eq!(status, 200, "{replaced}");
    assert_eq!(replaced["settings"]["steam_password"], json!({"set": true}));

    let (status, _) = host
        .request(
            Method::POST,
            &format!("{base}/actions/start"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(status, 202);
    let limit = tokio::time::Instant::now() + Duration::from_secs(60);
    let online = loop {
        let (_, players) = host
            .request(Method::GET, &format!("{base}/players"), Some(&token), None)
            .await;
        let online = players["online"].as_array().cloned().unwrap_or_default();
        if online.len() >= 3 {
            break online;
        }
        assert!(tokio::time::Instant::now() < limit, "players never listed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };

    // The console goes through the server's session; the password works (it was kept).
    let (status, reply) = host
        .request(
            Method::POST,
            &format!("{base}/console"),
            Some(&token),
            Some(json!({"command": "players"})),
        )
        .await;
    assert_eq!(status, 200, "{reply}");
    let first_name = online[0]["name"].as_str().expect("name");
    assert!(
        reply["reply"].as_str().unwrap_or("").contains(first_name),
        "{reply}"
    );

    // Kick one player; they leave the live list.
    let key = online[0]["key"].as_str().expect("key").to_string();
    let (status, body) = host
        .request(
            Method::POST,
            &format!("{base}/players/{key}/kick"),
            Some(&token),
            Some(json!({"reason": "testing"})),
        )
        .await;
    assert_eq!(status, 204, "{body}");
    let limit = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let (_, players) = host
            .request(Method::GET, &format!("{base}/players"), Some(&token), None)
            .await;
        let still = players["online"]
            .as_array()
            .map(|a| a.iter().any(|p| p["key"] == key.as_str()))
            .unwrap_or(true);
        if !still {
            break;
        }
        assert!(
            tokio::time::Instant::now() < limit,
            "the kicked player stayed"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Ban an identity: kept, pushed at once (the console is up), in the game's list; lift it.
    let (status, body) = host
        .request(
            Method::POST,
            &format!("{base}/bans"),
            Some(&token),
            Some(json!({"identity": "0123456789abcdef0123456789abcdef", "minutes": 60, "reason": "griefing"})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["pushed"], "now", "{body}");
    let (status, bans) = host
        .request(Method::GET, &format!("{base}/bans"), Some(&token), None)
        .await;
    assert_eq!(status, 200, "{bans}");
    assert_eq!(bans["game_list_read"], true, "{bans}");
    let ban = bans["items"]
        .as_array()
        .and_then(|b| {
            b.iter()
                .find(|b| b["identity"] == "0123456789abcdef0123456789abcdef")
                .cloned()
        })
        .unwrap_or_else(|| panic!("ban listed: {bans}"));
    assert_eq!(ban["source"], "garrison", "{ban}");
    assert_eq!(ban["in_game"], true, "{ban}");
    let ban_id = ban["id"].as_str().expect("ban id");
    let (status, body) = host
        .request(
            Method::DELETE,
            &format!("{base}/bans/{ban_id}"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["pushed"], "now", "{body}");

    let (status, _) = host
        .request(
            Method::POST,
            &format!("{base}/actions/stop"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(status, 202);
    host.wait_for_state(&token, &base, "stopped").await;
    let kept = host.stop_and_keep().await;
    // Every byte the database wrote, WAL included, after the host has let go of it.
    let mut bytes = Vec::new();
    for name in ["garrison.db", "garrison.db-wal"] {
        if let Ok(mut b) = std::fs::read(kept.path().join(name)) {
            bytes.append(&mut b);
        }
    }
    assert!(!bytes.is_empty());
    for secret in secrets {
        let found = bytes.windows(secret.len()).any(|w| w == secret.as_bytes());
        assert!(!found, "{secret} is in the database file in plaintext");
    }
}
