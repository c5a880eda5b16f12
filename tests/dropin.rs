//! Adapters dropped into a running host's `<data-dir>/adapters/` appear without a restart;
//! bad files are reported and change nothing else.

use crate::common;

use std::time::Duration;

use common::{eventually, start_host, start_host_in, wasm};
use serde_json::Value;

/// Ids of the drop-in adapters in a `GET /adapters` answer (the built-ins are always there).
fn ids(list: &Value) -> Vec<String> {
    list["adapters"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|x| x["origin"]["type"] == "drop_in")
                .filter_map(|x| x["id"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// Ids of every adapter in a `GET /adapters` answer.
fn all_ids(list: &Value) -> Vec<String> {
    list["adapters"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x["id"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

fn rejected(list: &Value) -> Vec<(String, String)> {
    list["rejected"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|x| {
                    (
                        x["file"].as_str().unwrap_or_default().to_string(),
                        x["error"].as_str().unwrap_or_default().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drop_in_adapters_come_and_go_while_the_host_runs() {
    let host = start_host().await;
    let dropins = host.data_dir.path().join("adapters");
    assert!(dropins.is_dir(), "the host creates its drop-in directory");
    let data = host.data_dir.path();
    assert!(
        data.join("garrison.db").is_file(),
        "the database is created"
    );
    let key = std::fs::metadata(data.join("secret.key")).expect("the secret key is created");
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&key.permissions()) & 0o777,
        0o600
    );

    let (status, list) = host.get_json("/api/v1/adapters").await;
    assert_eq!(status, 200);
    assert!(ids(&list).is_empty(), "no drop-ins yet: {list}");
    let builtin: Vec<String> = garrison::adapters::BUILTIN
        .iter()
        .map(|(file, _)| file.trim_end_matches(".wasm").to_string())
        .collect();
    let mut present = all_ids(&list);
    present.sort();
    let mut expected = builtin.clone();
    expected.sort();
    assert_eq!(present, expected, "exactly the built-ins");
    assert_eq!(list["adapters"][0]["origin"]["type"], "builtin");
    assert_eq!(list["adapters"][0]["active"], true);

    // A new adapter: copied under a temporary name, then renamed into place.
    let file = dropins.join("probe.wasm");
    std::fs::write(
        dropins.join("probe.wasm.part"),
        wasm("garrison_fixture_probe"),
    )
    .expect("write");
    std::fs::rename(dropins.join("probe.wasm.part"), &file).expect("rename");
    let took = eventually(Duration::from_secs(10), || async {
        ids(&host.get_json("/api/v1/adapters").await.1).contains(&"fixture-probe".to_string())
    })
    .await;
    eprintln!("drop-in visible after {took:?}");
    let (status, detail) = host.get_json("/api/v1/adapters/fixture-probe").await;
    assert_eq!(status, 200);
    assert_eq!(detail["origin"]["type"], "drop_in");
    assert!(detail["schema"].as_array().is_some_and(|s| !s.is_empty()));

    // Garbage is reported and ignored; everything else keeps working.
    std::fs::write(dropins.join("garbage.wasm"), b"definitely not wasm").expect("write");
    eventually(Duration::from_secs(10), || async {
        !rejected(&host.get_json("/api/v1/adapters").await.1).is_empty()
    })
    .await;
    let (_, list) = host.get_json("/api/v1/adapters").await;
    let refused = rejected(&list);
    assert_eq!(refused.len(), 1);
    assert!(refused[0].0.ends_with("garbage.wasm"));
    assert!(
        refused[0].1.contains("not a valid WebAssembly component"),
        "{}",
        refused[0].1
    );
    assert_eq!(ids(&list), ["fixture-probe"]);
    assert_eq!(all_ids(&list).len(), builtin.len() + 1);

    // A component of another world, and one that traps in describe(), are refused too.
    std::fs::write(
        dropins.join("wrong.wasm"),
        wasm("garrison_fixture_wrong_world"),
    )
    .expect("write");
    std::fs::write(
        dropins.join("bad.wasm"),
        wasm("garrison_fixture_bad_describe"),
    )
    .expect("write");
    eventually(Duration::from_secs(10), || async {
        rejected(&host.get_json("/api/v1/adapters").await.1).len() == 3
    })
    .await;
    let (_, list) = host.get_json("/api/v1/adapters").await;
    let reasons: Vec<String> = rejected(&list).into_iter().map(|(_, why)| why).collect();
    assert!(
        reasons
            .iter()
            .any(|r| r.contains("implements no garrison:adapter/game-adapter world")),
        "{reasons:?}"
    );
    assert!(
        reasons.iter().any(|r| r.contains("describe() failed")),
        "{reasons:?}"
    );
    assert_eq!(ids(&list), ["fixture-probe"]);
    assert_eq!(all_ids(&list).len(), builtin.len() + 1);

    // Replacing a file swaps what it provides.
    std::fs::write(
        dropins.join("probe.wasm.part"),
        wasm("garrison_fixture_trap"),
    )
    .expect("write");
    std::fs::rename(dropins.join("probe.wasm.part"), &file).expect("rename");
    eventually(Duration::from_secs(10), || async {
        ids(&host.get_json("/api/v1/adapters").await.1) == ["fixture-trap"]
    })
    .await;

    // Deleting files forgets them, rejections included.
    for name in ["probe.wasm", "garbage.wasm", "wrong.wasm", "bad.wasm"] {
        std::fs::remove_file(dropins.join(name)).expect("remove");
    }
    eventually(Duration::from_secs(10), || async {
        let list = host.get_json("/api/v1/adapters").await.1;
        ids(&list).is_empty() && rejected(&list).is_empty()
    })
    .await;

    let (status, problem) = host.get_json("/api/v1/adapters/fixture-trap").await;
    assert_eq!(status, 404);
    assert_eq!(problem["status"], 404);
    host.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adapters_present_at_start_are_loaded_before_serving() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join("adapters")).expect("mkdir");
    std::fs::write(
        dir.path().join("adapters/probe.wasm"),
        wasm("garrison_fixture_probe"),
    )
    .expect("write");
    let host = start_host_in(dir).await;
    let (_, list) = host.get_json("/api/v1/adapters").await;
    assert_eq!(
        ids(&list),
        ["fixture-probe"],
        "loaded before the first request"
    );
    host.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn administrators_upload_and_remove_adapters_through_the_api() {
    let host = start_host().await;
    let token = host.admin_token().await.to_string();
    let upload = |bytes: Vec<u8>, credential: String| {
        let host = &host;
        async move {
            host.send_bytes(
                reqwest::Method::POST,
                "/api/v1/adapters",
                &credential,
                "application/wasm",
                bytes,
            )
            .await
        }
    };

    // Not a component: refused with the reason, nothing stored.
    let (status, refused) = upload(b"not wasm".to_vec(), token.clone()).await;
    assert_eq!(status, 422, "{refused}");
    let stored = std::fs::read_dir(host.data_dir.path().join("adapters"))
        .expect("drop-in dir")
        .count();
    assert_eq!(stored, 0, "a refused upload leaves nothing behind");

    let (status, body) = upload(wasm("garrison_fixture_echo"), token.clone()).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["id"], "fixture-echo");
    let (_, list) = host.get_json("/api/v1/adapters").await;
    assert!(
        all_ids(&list).contains(&"fixture-echo".to_string()),
        "{list}"
    );

    // Only administrators install or remove adapters; built-ins cannot be removed.
    let (status, _) = host
        .request(
            reqwest::Method::DELETE,
            "/api/v1/adapters/generic",
            Some(&token),
            None,
        )
        .await;
    assert_eq!(status, 404);
    let (status, _) = host
        .request(
            reqwest::Method::DELETE,
            "/api/v1/adapters/fixture-echo",
            Some(&token),
            None,
        )
        .await;
    assert_eq!(status, 204);
    let (_, list) = host.get_json("/api/v1/adapters").await;
    assert!(
        !all_ids(&list).contains(&"fixture-echo".to_string()),
        "{list}"
    );
    host.stop().await;
}
