//! Missions and mods through the real host with a real game adapter and the simulated game:
//! an uploaded mission put into the rotation ends up in the rendered server config, mods
//! enabled through the API end up in the launch arguments, and a mission in the rotation
//! cannot be deleted.

use crate::common;

use std::path::Path;

use reqwest::Method;
use serde_json::{Value, json};

/// The command line of the running process whose arguments mention `needle`.
fn command_line_with(needle: &str) -> Option<Vec<String>> {
    std::fs::read_dir("/proc")
        .ok()?
        .flatten()
        .find_map(|entry| {
            let bytes = std::fs::read(entry.path().join("cmdline")).ok()?;
            let args: Vec<String> = bytes
                .split(|b| *b == 0)
                .filter(|a| !a.is_empty())
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect();
            args.iter().any(|a| a.contains(needle)).then_some(args)
        })
}

fn names(list: &Value) -> Vec<String> {
    list.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missions_and_mods_set_through_the_api_reach_the_started_game() {
    let host = common::start_host().await;
    let token = host.admin_token().await.to_string();
    let data_dir = host.data_dir.path().to_path_buf();
    let runtime = data_dir.join("runtimes/arma3");
    std::fs::create_dir_all(&runtime).expect("runtime");
    std::os::unix::fs::symlink(common::sim_bin(), runtime.join("arma3server_x64"))
        .expect("link the simulator");
    for folder in ["@cba", "@ace", "keys"] {
        std::fs::create_dir_all(runtime.join(folder)).expect("mod folder");
    }

    let (status, server) = host
        .request(
            Method::POST,
            "/api/v1/servers",
            Some(&token),
            Some(json!({
                "name": "Content",
                "adapter": "arma3",
                "settings": common::sim_settings(&runtime, json!({
                    "rcon_password": "rcon-pass",
                    "rcon_port": common::free_port(),
                    "port": common::free_port(),
                    "extra_params": ["--tick-ms=50"],
                })),
            })),
        )
        .await;
    assert_eq!(status, 201, "{server}");
    let id = server["id"].as_i64().expect("id");
    let base = format!("/api/v1/servers/{id}");

    // Upload a mission (the raw body) and see it listed.
    let (status, uploaded) = host
        .send_bytes(
            Method::PUT,
            &format!("{base}/missions/files/co10_Escape.Altis.pbo"),
            &token,
            "application/octet-stream",
            vec![7u8; 4096],
        )
        .await;
    assert_eq!(status, 201, "{uploaded}");
    // In the server's own directory, never in the game's shared one.
    let own = data_dir.join(format!("servers/{id}/mpmissions/co10_Escape.Altis.pbo"));
    assert!(own.is_file());
    assert!(!runtime.join("mpmissions").exists());
    let (status, missions) = host
        .request(Method::GET, &format!("{base}/missions"), Some(&token), None)
        .await;
    assert_eq!(status, 200, "{missions}");
    assert_eq!(missions["files"][0]["name"], "co10_Escape.Altis");
    assert_eq!(missions["files"][0]["size"], 4096);
    assert_eq!(missions["rotation"]["setting"], "missions");
    assert_eq!(missions["rotation"]["column"], "template");

    // Put it into the rotation; a mission that is not there is refused.
    let (status, refused) = host
        .request(
            Method::PUT,
            &format!("{base}/missions/rotation"),
            Some(&token),
            Some(json!({"rows": [{"template": "absent.Altis", "difficulty": "regular"}]})),
        )
        .await;
    assert_eq!(status, 422, "{refused}");
    let (status, missions) = host
        .request(
            Method::PUT,
            &format!("{base}/missions/rotation"),
            Some(&token),
            Some(json!({"rows": [{"template": "co10_Escape.Altis", "difficulty": "veteran"}]})),
        )
        .await;
    assert_eq!(status, 200, "{missions}");
    assert_eq!(missions["files"][0]["in_rotation"], true);

    // Enable mods one by one, reorder, disable one.
    for name in ["@ace", "@cba"] {
        let (status, mods) = host
            .request(
                Method::POST,
                &format!("{base}/mods/{name}/enable"),
                Some(&token),
                None,
            )
            .await;
        assert_eq!(status, 200, "{mods}");
    }
    let (status, mods) = host
        .request(
            Method::PUT,
            &format!("{base}/mods/enabled"),
            Some(&token),
            Some(json!({"mods": ["@cba", "@ace"]})),
        )
        .await;
    assert_eq!(status, 200, "{mods}");
    assert_eq!(names(&mods["enabled"]), ["@cba", "@ace"]);
    let listed: Vec<String> = mods["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .filter_map(|e| e["name"].as_str().map(str::to_string))
        .collect();
    assert_eq!(listed, ["@ace", "@cba"], "only prefixed folders are mods");
    let (status, workshop) = host
        .request(
            Method::PUT,
            &format!("{base}/mods/workshop"),
            Some(&token),
            Some(json!({"items": [450_814_997_u64]})),
        )
        .await;
    assert_eq!(status, 200, "{workshop}");
    assert_eq!(names(&workshop["workshop"]["items"]), ["450814997"]);

    // Start: the rendered config plays the mission, the arguments load the mods in order.
    let (status, _) = host
        .request(
            Method::POST,
            &format!("{base}/actions/start"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(status, 202);
    host.wait_for_state(&token, &base, "running").await;
    let instance = data_dir.join(format!("servers/{id}"));
    let config = std::fs::read_to_string(instance.join("server.cfg")).expect("server.cfg");
    assert!(
        config.contains("template = \"co10_Escape.Altis\";"),
        "{config}"
    );
    assert!(config.contains("difficulty = \"veteran\";"), "{config}");
    let config_arg = format!(
        "-config={}",
        Path::new(&instance).join("server.cfg").display()
    );
    let args = command_line_with(&config_arg).expect("the game's process");
    let mods = format!("-mod={0}/@cba;{0}/@ace", runtime.display());
    assert!(args.contains(&mods), "{args:?}");

    // A mission in the rotation cannot be deleted; out of it, it can.
    let (status, problem) = host
        .request(
            Method::DELETE,
            &format!("{base}/missions/files/co10_Escape.Altis.pbo"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(status, 409, "{problem}");
    let (status, _) = host
        .request(
            Method::PUT,
            &format!("{base}/missions/rotation"),
            Some(&token),
            Some(json!({"rows": []})),
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = host
        .request(
            Method::DELETE,
            &format!("{base}/missions/files/co10_Escape.Altis.pbo"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(status, 204);
    assert!(!runtime.join("mpmissions/co10_Escape.Altis.pbo").exists());

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
    host.stop().await;
}

/// Creates an Arma 3 server through the API (no game needed); returns its API path.
async fn arma3_server(host: &common::TestHost, token: &str, name: &str) -> String {
    let (status, server) = host
        .request(
            Method::POST,
            "/api/v1/servers",
            Some(token),
            Some(json!({
                "name": name,
                "adapter": "arma3",
                "settings": {"rcon_password": "rcon-pass", "port": common::free_port(),
                             "rcon_port": common::free_port()},
            })),
        )
        .await;
    assert_eq!(status, 201, "{server}");
    format!("/api/v1/servers/{}", server["id"])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn launch_parameters_outside_the_allow_list_are_refused_on_their_field() {
    let host = common::start_host().await;
    let token = host.admin_token().await.to_string();
    let base = arma3_server(&host, &token, "Params").await;
    let (_, config) = host
        .request(Method::GET, &format!("{base}/config"), Some(&token), None)
        .await;
    let mut settings = config["settings"].clone();
    settings
        .as_object_mut()
        .expect("settings")
        .retain(|_, v| v != &json!({"set": true}));
    // `-par` would read further parameters (a `-config=`, say) from a file.
    settings["extra_params"] = json!(["-autoInit", "-par=/tmp/params.txt"]);
    let (status, refused) = host
        .request(
            Method::PUT,
            &format!("{base}/config"),
            Some(&token),
            Some(json!({"settings": settings})),
        )
        .await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(refused["errors"][0]["field"], "extra_params", "{refused}");
    let message = refused["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(message.contains("-par"), "{message}");
    // A known-safe parameter with a valid value is taken.
    settings["extra_params"] = json!(["-autoInit", "-limitFPS=100"]);
    let (status, saved) = host
        .request(
            Method::PUT,
            &format!("{base}/config"),
            Some(&token),
            Some(json!({"settings": settings})),
        )
        .await;
    assert_eq!(status, 200, "{saved}");
    host.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_are_one_unicode_form_and_hold_no_formatting_characters() {
    let host = common::start_host().await;
    let token = host.admin_token().await.to_string();
    // Server names: NFD is stored as NFC; a right-to-left override is refused on `name`.
    let (status, server) = host
        .request(
            Method::POST,
            "/api/v1/servers",
            Some(&token),
            Some(json!({"name": "Cafe\u{301}", "adapter": "arma3",
                        "settings": {"rcon_password": "rcon-pass"}})),
        )
        .await;
    assert_eq!(status, 201, "{server}");
    assert_eq!(server["name"], "Caf\u{e9}");
    let base = format!("/api/v1/servers/{}", server["id"]);
    for bad in ["admin\u{202E}nimda", "zero\u{200B}width"] {
        let (status, refused) = host
            .request(
                Method::POST,
                "/api/v1/servers",
                Some(&token),
                Some(json!({"name": bad, "adapter": "arma3",
                            "settings": {"rcon_password": "rcon-pass"}})),
            )
            .await;
        assert_eq!(status, 422, "{refused}");
        assert_eq!(refused["errors"][0]["field"], "name", "{refused}");
        let (status, refused) = host
            .request(
                Method::PATCH,
                &base,
                Some(&token),
                Some(json!({"name": bad})),
            )
            .await;
        assert_eq!(status, 422, "rename to {bad:?}: {refused}");
    }

    // Mission files: the NFD spelling of a name replaces the NFC file, not a second one.
    let upload = |name: &str, size: usize| {
        let path = format!(
            "{base}/missions/files/{}",
            name.replace('%', "%25").replace(' ', "%20")
        );
        let host = &host;
        let token = token.clone();
        async move {
            host.send_bytes(
                Method::PUT,
                &path,
                &token,
                "application/octet-stream",
                vec![1u8; size],
            )
            .await
            .0
        }
    };
    assert_eq!(upload("Caf\u{e9}.Altis.pbo", 10).await, 201);
    assert_eq!(
        upload("Cafe\u{301}.Altis.pbo", 20).await,
        200,
        "the same file, replaced"
    );
    let (_, missions) = host
        .request(Method::GET, &format!("{base}/missions"), Some(&token), None)
        .await;
    let files = missions["files"].as_array().cloned().unwrap_or_default();
    assert_eq!(files.len(), 1, "{missions}");
    assert_eq!(files[0]["file"], "Caf\u{e9}.Altis.pbo");
    assert_eq!(files[0]["size"], 20);
    // A right-to-left override in a file name is refused.
    assert_eq!(upload("evil\u{202E}obp.Altis.pbo", 10).await, 422);
    host.stop().await;
}
