//! Missions and mods (`/servers/{id}/missions`, `/servers/{id}/mods`) against the content
//! fixture: a neutral game whose missions are `.dat`/`.map` files in the runtime's `maps`
//! (rotation: the `rotation` table, column `file`) and whose mods are `+name` folders in the
//! runtime's `addons` (load order: the `enabled` list; Workshop items: `workshop`).

use std::path::{Path, PathBuf};

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use super::{Call, TestApp};

const FIXTURE: &str = "fixture-content";

/// A server of the content fixture with a secret set, whose runtime is `runtime`.
async fn content_server(app: &TestApp, runtime: &Path) -> i64 {
    let created = app
        .admin(
            Method::POST,
            "/api/v1/servers",
            Some(json!({
                "name": "content",
                "adapter": FIXTURE,
                "settings": {"password": "hunter2"},
            })),
        )
        .await
        .expect(StatusCode::CREATED)
        .json();
    let id = created["id"].as_i64().expect("id");
    let path = runtime.display().to_string();
    app.store
        .call(move |conn| {
            conn.execute(
                "UPDATE servers SET runtime_path = ?1 WHERE id = ?2",
                rusqlite::params![path, id],
            )?;
            Ok(())
        })
        .await
        .expect("runtime path");
    id
}

async fn upload(app: &TestApp, id: i64, name: &str, body: &'static [u8]) -> super::Answer {
    app.send(
        Call::new(
            Method::PUT,
            &format!("/api/v1/servers/{id}/missions/files/{name}"),
        )
        .bearer(&app.admin_token)
        .bytes(body),
    )
    .await
}

fn names(list: &Value, key: &str, field: &str) -> Vec<String> {
    list[key]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|i| i[field].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn leftovers(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn missions_are_uploaded_listed_put_in_rotation_and_deleted() {
    let app = TestApp::new().await;
    let runtime = tempfile::tempdir().expect("runtime");
    let id = content_server(&app, runtime.path()).await;
    let base = format!("/api/v1/servers/{id}/missions");

    let empty = app
        .admin(Method::GET, &base, None)
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(empty["files"], json!([]));
    assert_eq!(empty["extensions"], json!([".dat", ".map"]));
    assert!(empty["max_upload_bytes"].as_u64().is_some_and(|n| n > 0));
    assert_eq!(empty["rotation"]["setting"], "rotation");
    assert_eq!(empty["rotation"]["column"], "file");
    assert_eq!(empty["rotation"]["rows"], json!([]));
    assert_eq!(
        names(&empty["rotation"], "columns", "key"),
        ["file", "mode"]
    );

    let stored = upload(&app, id, "one.dat", b"first").await;
    stored.expect(StatusCode::CREATED);
    assert_eq!(stored.json()["name"], "one");
    assert_eq!(stored.json()["replaced"], false);
    let replaced = upload(&app, id, "one.dat", b"second").await;
    replaced.expect(StatusCode::OK);
    assert_eq!(replaced.json()["replaced"], true);
    assert_eq!(replaced.json()["size"], 6);
    let maps = runtime.path().join("maps");
    assert_eq!(
        std::fs::read(maps.join("one.dat")).expect("stored"),
        b"second"
    );
    upload(&app, id, "Two.MAP", b"x")
        .await
        .expect(StatusCode::CREATED);
    upload(&app, id, "forbidden.dat", b"x")
        .await
        .expect(StatusCode::CREATED);
    // Uploads have their own limit, not the API's 1 MiB for bodies.
    static LARGE: [u8; 3 << 20] = [1; 3 << 20];
    let large = upload(&app, id, "large.map", &LARGE).await;
    large.expect(StatusCode::CREATED);
    assert_eq!(large.json()["size"], 3 << 20);
    app.admin(Method::DELETE, &format!("{base}/files/large.map"), None)
        .await
        .expect(StatusCode::NO_CONTENT);

    // Names that are not one plain file name with an accepted extension.
    for bad in [
        "..%2Fescape.dat",
        "%2Fetc%2Fescape.dat",
        "..",
        ".hidden.dat",
        "nul%00.dat",
        "line%0Abreak.dat",
        "notes.txt",
        "noext",
    ] {
        let answer = upload(&app, id, bad, b"x").await;
        let problem = answer.expect_problem(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(problem["errors"][0]["field"], "name", "{bad}");
    }
    assert!(!runtime.path().join("escape.dat").exists());

    let listed = app
        .admin(Method::GET, &base, None)
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(
        names(&listed, "files", "file"),
        ["Two.MAP", "forbidden.dat", "one.dat"]
    );
    assert_eq!(listed["files"][2]["size"], 6);
    assert_eq!(listed["files"][2]["in_rotation"], false);

    // The rotation must name missions present, pass the schema and the adapter.
    let rotation = format!("{base}/rotation");
    let set = app
        .admin(
            Method::PUT,
            &rotation,
            Some(
                json!({"rows": [{"file": "one", "mode": "hard"}, {"file": "Two", "mode": "easy"}]}),
            ),
        )
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(
        set["rotation"]["rows"][0],
        json!({"file": "one", "mode": "hard"})
    );
    assert_eq!(set["files"][2]["in_rotation"], true);
    assert!(
        set["note"]
            .as_str()
            .is_some_and(|n| n.contains("next start"))
    );
    let missing = app
        .admin(
            Method::PUT,
            &rotation,
            Some(json!({"rows": [{"file": "one"}, {"file": "absent"}, {"mode": "easy"}]})),
        )
        .await
        .expect_problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(missing["errors"][0]["field"], "rows[1].file");
    assert_eq!(missing["errors"][1]["field"], "rows[2].file");
    let by_schema = app
        .admin(
            Method::PUT,
            &rotation,
            Some(json!({"rows": [{"file": "one", "mode": "impossible"}]})),
        )
        .await
        .expect_problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(by_schema["errors"][0]["field"], "rotation");
    let by_adapter = app
        .admin(
            Method::PUT,
            &rotation,
            Some(json!({"rows": [{"file": "forbidden", "mode": "easy"}]})),
        )
        .await
        .expect_problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        by_adapter["detail"]
            .as_str()
            .is_some_and(|d| d.contains("forbidden"))
    );

    // The rotation is a setting: it shows in the config, and the secret survived.
    let config = app
        .admin(Method::GET, &format!("/api/v1/servers/{id}/config"), None)
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(config["settings"]["rotation"][1]["file"], "Two");
    assert_eq!(config["settings"]["password"], json!({"set": true}));

    // Deleting: refused while in the rotation; 404 when absent.
    let in_use = app
        .admin(Method::DELETE, &format!("{base}/files/one.dat"), None)
        .await
        .expect_problem(StatusCode::CONFLICT);
    assert!(
        in_use["detail"]
            .as_str()
            .is_some_and(|d| d.contains("rotation"))
    );
    app.admin(Method::DELETE, &format!("{base}/files/absent.dat"), None)
        .await
        .expect_problem(StatusCode::NOT_FOUND);
    app.admin(Method::DELETE, &format!("{base}/files/..%2Fx.dat"), None)
        .await
        .expect_problem(StatusCode::NOT_FOUND);
    app.admin(Method::DELETE, &format!("{base}/files/forbidden.dat"), None)
        .await
        .expect(StatusCode::NO_CONTENT);
    assert!(!maps.join("forbidden.dat").exists());

    // Every change left an audit row naming what it changed.
    let audit = app
        .admin(Method::GET, "/api/v1/audit?limit=500", None)
        .await
        .expect(StatusCode::OK)
        .json();
    let targets: Vec<&str> = audit["items"]
        .as_array()
        .expect("rows")
        .iter()
        .filter_map(|row| row["target"].as_str())
        .collect();
    assert!(targets.contains(&format!("server {id} mission one.dat").as_str()));
    assert!(targets.contains(&format!("server {id} rotation").as_str()));
}

#[tokio::test]
async fn uploads_beyond_the_limit_are_refused_and_leave_nothing() {
    let app = TestApp::new().await;
    app.servers.content().set_upload_limit(8);
    let runtime = tempfile::tempdir().expect("runtime");
    let id = content_server(&app, runtime.path()).await;
    upload(&app, id, "small.dat", b"12345678")
        .await
        .expect(StatusCode::CREATED);
    upload(&app, id, "large.dat", b"123456789")
        .await
        .expect_problem(StatusCode::PAYLOAD_TOO_LARGE);
    // Streamed without a length: cut off while it arrives.
    let chunks = futures_util::stream::iter(vec![
        Ok::<_, std::io::Error>(vec![0u8; 5]),
        Ok(vec![0u8; 5]),
    ]);
    app.send(
        Call::new(
            Method::PUT,
            &format!("/api/v1/servers/{id}/missions/files/streamed.dat"),
        )
        .bearer(&app.admin_token)
        .bytes(axum::body::Body::from_stream(chunks)),
    )
    .await
    .expect_problem(StatusCode::PAYLOAD_TOO_LARGE);
    let maps = runtime.path().join("maps");
    assert_eq!(leftovers(&maps), [maps.join("small.dat")]);
}

#[tokio::test]
async fn links_leading_out_of_the_game_directory_are_refused() {
    let app = TestApp::new().await;
    let base = tempfile::tempdir().expect("base");
    let (runtime, outside) = (base.path().join("runtime"), base.path().join("outside"));
    std::fs::create_dir_all(&runtime).expect("runtime");
    std::fs::create_dir_all(&outside).expect("outside");
    std::fs::write(outside.join("victim.dat"), b"keep").expect("victim");
    let id = content_server(&app, &runtime).await;

    // A link inside the missions directory that points outside.
    std::fs::create_dir_all(runtime.join("maps")).expect("maps");
    std::os::unix::fs::symlink(outside.join("victim.dat"), runtime.join("maps/victim.dat"))
        .expect("link");
    let listed = app
        .admin(Method::GET, &format!("/api/v1/servers/{id}/missions"), None)
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(listed["files"], json!([]));
    upload(&app, id, "victim.dat", b"overwritten")
        .await
        .expect_problem(StatusCode::CONFLICT);
    app.admin(
        Method::DELETE,
        &format!("/api/v1/servers/{id}/missions/files/victim.dat"),
        None,
    )
    .await
    .expect_problem(StatusCode::CONFLICT);
    assert_eq!(
        std::fs::read(outside.join("victim.dat")).expect("kept"),
        b"keep"
    );

    // The missions directory itself linked outside.
    std::fs::remove_dir_all(runtime.join("maps")).expect("unlink");
    std::os::unix::fs::symlink(&outside, runtime.join("maps")).expect("dir link");
    app.admin(Method::GET, &format!("/api/v1/servers/{id}/missions"), None)
        .await
        .expect_problem(StatusCode::CONFLICT);
    upload(&app, id, "new.dat", b"x")
        .await
        .expect_problem(StatusCode::CONFLICT);
    assert!(!outside.join("new.dat").exists());
}

#[tokio::test]
async fn mods_are_listed_enabled_in_order_and_workshop_items_set() {
    let app = TestApp::new().await;
    let runtime = tempfile::tempdir().expect("runtime");
    let id = content_server(&app, runtime.path()).await;
    let addons = runtime.path().join("addons");
    for dir in ["+alpha", "+beta", "not-a-mod"] {
        std::fs::create_dir_all(addons.join(dir)).expect("mod");
    }
    // A Workshop download linked in as the host's installs do.
    let item = crate::jobs::steamcmd::workshop_content_dir(runtime.path(), 4_000, 42);
    std::fs::create_dir_all(&item).expect("item");
    crate::servers::paths::link_dir(&item, &addons.join("+ws")).expect("link");
    let base = format!("/api/v1/servers/{id}/mods");

    let listed = app
        .admin(Method::GET, &base, None)
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(
        names(&listed, "entries", "name"),
        ["+alpha", "+beta", "+ws"]
    );
    assert_eq!(listed["entries"][2]["workshop_item"], "42");
    assert_eq!(listed["entries"][0]["workshop_item"], Value::Null);
    assert_eq!(listed["setting"], "enabled");
    assert_eq!(
        listed["workshop"],
        json!({"setting": "workshop", "items": []})
    );

    let set = app
        .admin(
            Method::PUT,
            &format!("{base}/enabled"),
            Some(json!({"mods": ["+beta", "+alpha"]})),
        )
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(set["enabled"], json!(["+beta", "+alpha"]));
    assert_eq!(set["entries"][0]["position"], 1);
    assert_eq!(set["entries"][1]["position"], 0);
    for bad in [
        json!(["+nope"]),
        json!(["+beta", "+beta"]),
        json!(["not-a-mod"]),
    ] {
        let problem = app
            .admin(
                Method::PUT,
                &format!("{base}/enabled"),
                Some(json!({"mods": bad})),
            )
            .await
            .expect_problem(StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            problem["errors"][0]["field"]
                .as_str()
                .is_some_and(|f| f.starts_with("mods["))
        );
    }

    let enabled = app
        .admin(Method::POST, &format!("{base}/+ws/enable"), None)
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(enabled["enabled"], json!(["+beta", "+alpha", "+ws"]));
    let again = app
        .admin(Method::POST, &format!("{base}/+ws/enable"), None)
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(again["enabled"], enabled["enabled"]);
    app.admin(Method::POST, &format!("{base}/+nope/enable"), None)
        .await
        .expect_problem(StatusCode::NOT_FOUND);

    // A folder removed by hand stays listed while enabled, and can still be disabled.
    std::fs::remove_dir_all(addons.join("+alpha")).expect("remove");
    let gone = app
        .admin(Method::GET, &base, None)
        .await
        .expect(StatusCode::OK)
        .json();
    let alpha = gone["entries"]
        .as_array()
        .and_then(|e| e.iter().find(|m| m["name"] == "+alpha"))
        .cloned()
        .expect("still listed");
    assert_eq!(
        (alpha["present"].clone(), alpha["enabled"].clone()),
        (json!(false), json!(true))
    );
    let disabled = app
        .admin(Method::POST, &format!("{base}/+alpha/disable"), None)
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(disabled["enabled"], json!(["+beta", "+ws"]));

    let workshop = app
        .admin(
            Method::PUT,
            &format!("{base}/workshop"),
            Some(json!({"items": [123_456_789_u64, 987_654_321_u64]})),
        )
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(
        workshop["workshop"]["items"],
        json!(["123456789", "987654321"])
    );
    assert!(
        workshop["note"]
            .as_str()
            .is_some_and(|n| n.contains("update"))
    );
    app.admin(
        Method::PUT,
        &format!("{base}/workshop"),
        Some(json!({"items": [0]})),
    )
    .await
    .expect_problem(StatusCode::UNPROCESSABLE_ENTITY);

    let config = app
        .admin(Method::GET, &format!("/api/v1/servers/{id}/config"), None)
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(config["settings"]["enabled"], json!(["+beta", "+ws"]));
    assert_eq!(config["settings"]["password"], json!({"set": true}));
}

#[tokio::test]
async fn games_without_missions_or_mods_answer_409_naming_the_capability() {
    let app = TestApp::new().await;
    let id = app.server(Some(app.admin.id)).await;
    for (path, capability) in [("missions", "missions"), ("mods", "mods")] {
        let problem = app
            .admin(Method::GET, &format!("/api/v1/servers/{id}/{path}"), None)
            .await
            .expect_problem(StatusCode::CONFLICT);
        assert!(
            problem["detail"]
                .as_str()
                .is_some_and(|d| d.contains(&format!("`{capability}`"))),
            "{problem}"
        );
    }
    upload(&app, id, "x.dat", b"x")
        .await
        .expect_problem(StatusCode::CONFLICT);
}

#[tokio::test]
async fn missions_in_a_runtime_shared_by_servers_are_guarded() {
    let app = TestApp::new().await;
    let runtime = tempfile::tempdir().expect("runtime");
    let first = content_server(&app, runtime.path()).await;
    let second = content_server(&app, runtime.path()).await;
    // An operator who manages the first server (their own) may not change the shared maps.
    let (operator, token) = app.user("tenant", crate::store::Role::Operator).await;
    app.store
        .call(move |conn| {
            conn.execute(
                "UPDATE servers SET owner_id = ?1 WHERE id = ?2",
                rusqlite::params![operator.id, first],
            )?;
            Ok(())
        })
        .await
        .expect("owner");
    let denied = app
        .send(
            Call::new(
                Method::PUT,
                &format!("/api/v1/servers/{first}/missions/files/shared.dat"),
            )
            .bearer(&token)
            .bytes(&b"x"[..]),
        )
        .await
        .expect_problem(StatusCode::FORBIDDEN);
    assert!(denied.to_string().contains("shared"), "{denied}");
    assert!(!runtime.path().join("maps/shared.dat").exists());
    let denied = app
        .send(
            Call::new(
                Method::DELETE,
                &format!("/api/v1/servers/{first}/missions/files/shared.dat"),
            )
            .bearer(&token),
        )
        .await;
    denied.expect(StatusCode::FORBIDDEN);

    // An administrator may; but a file the second server's rotation names is neither
    // replaced nor deleted through the first.
    upload(&app, first, "shared.dat", b"one")
        .await
        .expect(StatusCode::CREATED);
    app.admin(
        Method::PUT,
        &format!("/api/v1/servers/{second}/missions/rotation"),
        Some(json!({"rows": [{"file": "shared", "mode": "easy"}]})),
    )
    .await
    .expect(StatusCode::OK);
    let busy = upload(&app, first, "shared.dat", b"two")
        .await
        .expect_problem(StatusCode::CONFLICT);
    assert!(
        busy.to_string().contains("content"),
        "names the server using it: {busy}"
    );
    app.admin(
        Method::DELETE,
        &format!("/api/v1/servers/{first}/missions/files/shared.dat"),
        None,
    )
    .await
    .expect(StatusCode::CONFLICT);
    assert_eq!(
        std::fs::read(runtime.path().join("maps/shared.dat")).expect("kept"),
        b"one"
    );
}
