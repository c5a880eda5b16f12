//! Tenants of one host do not share content: two operators with one Arma 3 server each (the
//! real adapter, the simulator as the game) cannot see, replace or delete each other's
//! missions, and each game run reads its own mission file.

use crate::common;

use reqwest::Method;
use serde_json::{Value, json};

const MISSION: &str = "co10_Escape.Altis.pbo";

/// An operator's session and their server's API path.
struct Tenant {
    token: String,
    base: String,
}

async fn tenant(host: &common::TestHost, runtime: &std::path::Path, name: &str) -> Tenant {
    let admin = host.admin_token().await.to_string();
    let password = format!("{name}-password-1");
    let (status, user) = host
        .request(
            Method::POST,
            "/api/v1/users",
            Some(&admin),
            Some(json!({"username": name, "password": password, "role": "operator"})),
        )
        .await;
    assert_eq!(status, 201, "{user}");
    let token = host.login(name, &password).await.expect("sign in");
    let (status, server) = host
        .request(
            Method::POST,
            "/api/v1/servers",
            Some(&token),
            Some(json!({
                "name": format!("{name}'s server"),
                "adapter": "arma3",
                "settings": common::sim_settings(runtime, json!({
                    "rcon_password": "rcon-pass",
                    "rcon_port": common::free_port(),
                    "port": common::free_port(),
                    "extra_params": ["--tick-ms=50", "--players=0"],
                })),
            })),
        )
        .await;
    assert_eq!(status, 201, "{server}");
    Tenant {
        token,
        base: format!("/api/v1/servers/{}", server["id"]),
    }
}

async fn upload(host: &common::TestHost, who: &Tenant, bytes: usize) -> (u16, Value) {
    host.send_bytes(
        reqwest::Method::PUT,
        &format!("{}/missions/files/{MISSION}", who.base),
        &who.token,
        "application/octet-stream",
        vec![7u8; bytes],
    )
    .await
}

async fn files(host: &common::TestHost, who: &Tenant) -> Vec<(String, u64)> {
    let (status, missions) = host
        .request(
            Method::GET,
            &format!("{}/missions", who.base),
            Some(&who.token),
            None,
        )
        .await;
    assert_eq!(status, 200, "{missions}");
    missions["files"]
        .as_array()
        .map(|list| {
            list.iter()
                .map(|f| {
                    (
                        f["file"].as_str().unwrap_or_default().to_string(),
                        f["size"].as_u64().unwrap_or_default(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_operators_never_see_replace_or_delete_each_others_missions() {
    let host = common::start_host().await;
    let runtime = host.data_dir.path().join("runtimes/arma3");
    std::fs::create_dir_all(&runtime).expect("runtime");
    std::os::unix::fs::symlink(common::sim_bin(), runtime.join("arma3server_x64"))
        .expect("link the simulator");
    let alice = tenant(&host, &runtime, "alice").await;
    let bob = tenant(&host, &runtime, "bob").await;

    // The same file name, uploaded by each: two files, neither replaces the other.
    let (status, stored) = upload(&host, &alice, 1000).await;
    assert_eq!(status, 201, "{stored}");
    let (status, stored) = upload(&host, &bob, 2000).await;
    assert_eq!(
        status, 201,
        "bob's upload is new, not a replacement: {stored}"
    );
    assert_eq!(stored["replaced"], false);
    assert_eq!(files(&host, &alice).await, [(MISSION.to_string(), 1000)]);
    assert_eq!(files(&host, &bob).await, [(MISSION.to_string(), 2000)]);
    assert!(
        !runtime.join("mpmissions").exists(),
        "nothing in the shared game directory"
    );

    // Bob deletes his; alice's stays. Bob cannot reach alice's server at all.
    let (status, _) = host
        .request(
            Method::DELETE,
            &format!("{}/missions/files/{MISSION}", bob.base),
            Some(&bob.token),
            None,
        )
        .await;
    assert_eq!(status, 204);
    assert!(files(&host, &bob).await.is_empty());
    assert_eq!(files(&host, &alice).await, [(MISSION.to_string(), 1000)]);
    let (status, _) = host
        .request(
            Method::DELETE,
            &format!("{}/missions/files/{MISSION}", alice.base),
            Some(&bob.token),
            None,
        )
        .await;
    assert_eq!(status, 404, "another tenant's server is invisible");

    // Each puts its own file into its rotation and starts: each game reads its own file.
    let (status, stored) = upload(&host, &bob, 2000).await;
    assert_eq!(status, 201, "{stored}");
    for (who, size) in [(&alice, 1000), (&bob, 2000)] {
        let (status, rotation) = host
            .request(
                Method::PUT,
                &format!("{}/missions/rotation", who.base),
                Some(&who.token),
                Some(json!({"rows": [{"template": "co10_Escape.Altis", "difficulty": "regular"}]})),
            )
            .await;
        assert_eq!(status, 200, "{rotation}");
        let (status, _) = host
            .request(
                Method::POST,
                &format!("{}/actions/start", who.base),
                Some(&who.token),
                None,
            )
            .await;
        assert_eq!(status, 202);
        host.wait_for_state(&who.token, &who.base, "running").await;
        let read = format!("Mission file: mpmissions/co10_Escape.Altis.pbo, {size} bytes");
        common::eventually(std::time::Duration::from_secs(30), || async {
            let (_, logs) = host
                .request(
                    Method::GET,
                    &format!("{}/logs?after=0&limit=1000", who.base),
                    Some(&who.token),
                    None,
                )
                .await;
            logs.to_string().contains(&read)
        })
        .await;
    }
    for who in [&alice, &bob] {
        let (status, _) = host
            .request(
                Method::POST,
                &format!("{}/actions/stop", who.base),
                Some(&who.token),
                None,
            )
            .await;
        assert_eq!(status, 202);
        host.wait_for_state(&who.token, &who.base, "stopped").await;
    }
    host.stop().await;
}
