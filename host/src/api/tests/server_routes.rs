//! `/servers`: creation, visibility, settings, actions and the live endpoints, with the
//! generic adapter (game adapters are exercised end to end in the top-level `tests/`).

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use super::{Call, TestApp};
use crate::store::Role;
use crate::store::grants::{self, GrantRole};

fn sleeper() -> Value {
    json!({"executable": "/bin/sleep", "args": ["30"], "stop_signal_grace_secs": 1})
}

async fn create(app: &TestApp, token: &str, settings: Value) -> Value {
    app.send(
        Call::new(Method::POST, "/api/v1/servers")
            .bearer(token)
            .json(&json!({"name": "  Sleepy  ", "adapter": "generic", "settings": settings})),
    )
    .await
    .expect(StatusCode::CREATED)
    .json()
}

#[tokio::test]
async fn operators_create_servers_that_only_those_allowed_can_see() {
    let app = TestApp::new().await;
    let (owner, owner_token) = app.user("owner", Role::Operator).await;
    let (_, other_token) = app.user("other", Role::Operator).await;
    let (viewer, viewer_token) = app.user("viewer", Role::Viewer).await;

    // The content fixture runs a program from its game's install, which operators may
    // configure (the generic adapter's servers are the administrators', see `trust.rs`).
    let server = app
        .send(
            Call::new(Method::POST, "/api/v1/servers")
                .bearer(&owner_token)
                .json(&json!({"name": "  Sleepy  ", "adapter": "fixture-content"})),
        )
        .await
        .expect(StatusCode::CREATED)
        .json();
    assert_eq!(server["name"], "Sleepy", "names are trimmed");
    assert_eq!(server["owner_id"], owner.id);
    assert_eq!(server["desired_state"], "stopped");
    assert_eq!(server["actual_state"], "stopped");
    assert_eq!(server["access"], "manage");
    let id = server["id"].as_i64().expect("id");
    let path = format!("/api/v1/servers/{id}");

    // A viewer may not create; nobody sees what they are not allowed to.
    app.send(
        Call::new(Method::POST, "/api/v1/servers")
            .bearer(&viewer_token)
            .json(&json!({"name": "x", "adapter": "generic", "settings": sleeper()})),
    )
    .await
    .expect_problem(StatusCode::FORBIDDEN);
    app.get(&path, Some(&other_token))
        .await
        .expect_problem(StatusCode::NOT_FOUND);
    let listed = app.get("/api/v1/servers", Some(&other_token)).await.json();
    assert_eq!(listed["items"], json!([]));
    app.get(&path, Some(&viewer_token))
        .await
        .expect_problem(StatusCode::NOT_FOUND);

    // A viewer grant shows it read-only.
    let (user, server_id) = (viewer.id, id);
    app.store
        .call(move |c| grants::put(c, user, server_id, GrantRole::Viewer))
        .await
        .expect("grant");
    let seen = app.get(&path, Some(&viewer_token)).await.json();
    assert_eq!(seen["access"], "view");
    app.send(Call::new(Method::POST, &format!("{path}/actions/start")).bearer(&viewer_token))
        .await
        .expect_problem(StatusCode::FORBIDDEN);

    // The admin sees everything.
    let all = app.admin(Method::GET, "/api/v1/servers", None).await.json();
    assert_eq!(all["items"][0]["id"], id);
}

#[tokio::test]
async fn bad_servers_are_refused_with_field_errors() {
    let app = TestApp::new().await;
    let problem = app
        .admin(
            Method::POST,
            "/api/v1/servers",
            Some(json!({"name": "x", "adapter": "no-such-game", "settings": {}})),
        )
        .await
        .expect_problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["errors"][0]["field"], "adapter");
    let problem = app
        .admin(
            Method::POST,
            "/api/v1/servers",
            Some(json!({"name": "x", "adapter": "generic", "settings": {"executable": ""}})),
        )
        .await
        .expect_problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["errors"][0]["field"], "executable");
    app.admin(
        Method::POST,
        "/api/v1/servers",
        Some(json!({"name": "", "adapter": "generic", "settings": sleeper()})),
    )
    .await
    .expect_problem(StatusCode::UNPROCESSABLE_ENTITY);
    app.admin(
        Method::POST,
        "/api/v1/servers",
        Some(json!({"name": "x", "adapter": "generic", "colour": "red"})),
    )
    .await
    .expect_problem(StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn settings_are_read_and_replaced_through_the_adapter() {
    let app = TestApp::new().await;
    let id = create(&app, &app.admin_token, sleeper()).await["id"]
        .as_i64()
        .expect("id");
    let path = format!("/api/v1/servers/{id}/config");
    let config = app.admin(Method::GET, &path, None).await.json();
    assert_eq!(config["adapter"], "generic");
    assert_eq!(config["settings"]["executable"], "/bin/sleep");

    let problem = app
        .admin(
            Method::PUT,
            &path,
            Some(json!({"settings": {"executable": ""}})),
        )
        .await
        .expect_problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["errors"][0]["field"], "executable");
    let unchanged = app.admin(Method::GET, &path, None).await.json();
    assert_eq!(
        unchanged["settings"]["executable"], "/bin/sleep",
        "nothing lost"
    );

    let replaced = app
        .admin(
            Method::PUT,
            &path,
            Some(json!({"settings": {"executable": "/bin/true"}})),
        )
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(replaced["settings"]["executable"], "/bin/true");

    let patched = app
        .admin(
            Method::PATCH,
            &format!("/api/v1/servers/{id}"),
            Some(json!({"name": "Renamed", "restart": {"enabled": false, "max": 1, "window_secs": 60}})),
        )
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(patched["name"], "Renamed");
    assert_eq!(patched["restart"]["enabled"], false);
    app.admin(
        Method::PATCH,
        &format!("/api/v1/servers/{id}"),
        Some(json!({"stop_grace_secs": 99999})),
    )
    .await
    .expect_problem(StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn actions_queue_jobs_and_missing_capabilities_are_conflicts() {
    let app = TestApp::new().await;
    let id = create(&app, &app.admin_token, sleeper()).await["id"]
        .as_i64()
        .expect("id");
    let base = format!("/api/v1/servers/{id}");
    let job = app
        .admin(Method::POST, &format!("{base}/actions/start"), None)
        .await
        .expect(StatusCode::ACCEPTED)
        .json();
    assert_eq!(job["kind"], "start");
    assert!(job["id"].as_i64().is_some());
    app.admin(Method::POST, &format!("{base}/actions/explode"), None)
        .await
        .expect_problem(StatusCode::BAD_REQUEST);

    // The generic adapter has no remote console.
    let problem = app
        .admin(
            Method::POST,
            &format!("{base}/console"),
            Some(json!({"command": "status"})),
        )
        .await
        .expect_problem(StatusCode::CONFLICT);
    assert!(
        problem["detail"].as_str().unwrap_or("").contains("rcon"),
        "{problem}"
    );
    app.admin(Method::GET, &format!("{base}/bans"), None)
        .await
        .expect_problem(StatusCode::CONFLICT);
    app.admin(
        Method::POST,
        &format!("{base}/console"),
        Some(json!({"command": "two\nlines"})),
    )
    .await
    .expect_problem(StatusCode::UNPROCESSABLE_ENTITY);

    // History endpoints answer with their shapes.
    let players = app
        .admin(Method::GET, &format!("{base}/players"), None)
        .await
        .json();
    assert_eq!(players["online"], json!([]));
    let logs = app
        .admin(Method::GET, &format!("{base}/logs?limit=10"), None)
        .await
        .json();
    assert!(logs["items"].is_array());
    let metrics = app
        .admin(Method::GET, &format!("{base}/metrics"), None)
        .await
        .json();
    assert!(metrics["series"].is_array());
    app.admin(Method::GET, &format!("{base}/metrics?from=10&to=5"), None)
        .await
        .expect_problem(StatusCode::UNPROCESSABLE_ENTITY);
    let events = app
        .admin(Method::GET, &format!("{base}/events"), None)
        .await
        .json();
    assert!(events["items"].is_array());
    app.admin(
        Method::POST,
        &format!("{base}/players/nobody/kick"),
        Some(json!({"reason": "x"})),
    )
    .await
    .expect_problem(StatusCode::NOT_FOUND);

    let delete = app
        .admin(Method::DELETE, &base, None)
        .await
        .expect(StatusCode::ACCEPTED)
        .json();
    assert_eq!(delete["kind"], "delete");
}

#[tokio::test]
async fn system_info_counts_the_callers_servers_by_state() {
    let app = TestApp::new().await;
    let (_, viewer) = app.user("viewer", Role::Viewer).await;
    create(&app, &app.admin_token, sleeper()).await;
    let info = app
        .admin(Method::GET, "/api/v1/system/info", None)
        .await
        .json();
    assert_eq!(info["servers"]["stopped"], 1);
    assert!(info["adapters"].as_u64().unwrap_or(0) >= 1);
    let theirs = app
        .get("/api/v1/system/info", Some(&viewer))
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(theirs["servers"], json!({}), "a viewer sees none of them");
    app.get("/api/v1/system/info", None)
        .await
        .expect_problem(StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_full_adapter_instance_pool_is_a_503_naming_the_limit_and_freed_slots_serve_again() {
    let runtime = crate::adapters::AdapterRuntime::new(
        crate::adapters::SandboxConfig {
            max_instances: Some(2),
            ..crate::adapters::SandboxConfig::default()
        },
        None,
    )
    .expect("runtime");
    runtime.load_builtins().expect("built-ins");
    let app = TestApp::with_adapters(runtime.clone()).await;
    // Two sessions hold both slots, as two running servers' parsers would.
    let mut held: Vec<_> = (0..2)
        .map(|_| {
            let mut session = runtime.session_for("generic").expect("generic");
            session.warm().expect("a slot");
            session
        })
        .collect();

    let token = app.admin_token.clone();
    let body = json!({"name": "one more", "adapter": "generic", "settings": sleeper()});
    let problem = app
        .send(
            Call::new(Method::POST, "/api/v1/servers")
                .bearer(&token)
                .json(&body),
        )
        .await
        .expect_problem(StatusCode::SERVICE_UNAVAILABLE);
    let detail = problem["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains("No adapter instance slot is free"),
        "{detail}"
    );
    assert!(detail.contains("limit 2"), "{detail}");
    assert!(detail.contains("--max-adapter-instances"), "{detail}");
    assert!(!detail.contains("crashed"), "not a trap: {detail}");

    held.pop();
    app.send(
        Call::new(Method::POST, "/api/v1/servers")
            .bearer(&token)
            .json(&body),
    )
    .await
    .expect(StatusCode::CREATED);
}

/// Issue 16: a kick needs no body (the reason defaults to none); a body that is not JSON is
/// still refused with a 415, and the document says the body is optional.
#[tokio::test]
async fn a_kick_needs_no_body_but_a_body_must_be_json() {
    let app = TestApp::new().await;
    let id = app.server(None).await;
    let kick = format!("/api/v1/servers/{id}/players/nobody/kick");
    // No Content-Type, nothing sent: accepted, so the answer is about the player.
    let problem = app
        .send(Call::new(Method::POST, &kick).bearer(&app.admin_token))
        .await
        .expect_problem(StatusCode::NOT_FOUND);
    assert_eq!(problem["status"], 404, "{problem}");
    // Bytes without a Content-Type, or of another type, are not a JSON body.
    let mut bytes = Call::new(Method::POST, &kick).bearer(&app.admin_token);
    *bytes.request.body_mut() = axum::body::Body::from("reason");
    app.send(bytes)
        .await
        .expect_problem(StatusCode::UNSUPPORTED_MEDIA_TYPE);
    app.send(
        Call::new(Method::POST, &kick)
            .bearer(&app.admin_token)
            .bytes("reason"),
    )
    .await
    .expect_problem(StatusCode::UNSUPPORTED_MEDIA_TYPE);
    app.send(
        Call::new(Method::POST, &kick)
            .bearer(&app.admin_token)
            .raw_json("[]"),
    )
    .await
    .expect_problem(StatusCode::BAD_REQUEST);
    // A JSON `null` is how some generated clients send a body left out.
    app.send(
        Call::new(Method::POST, &kick)
            .bearer(&app.admin_token)
            .raw_json(" null "),
    )
    .await
    .expect_problem(StatusCode::NOT_FOUND);
    app.send(
        Call::new(Method::POST, &kick)
            .bearer(&app.admin_token)
            .json(&json!({})),
    )
    .await
    .expect_problem(StatusCode::NOT_FOUND);

    let doc = app.get("/api/v1/openapi.json", None).await.json();
    let body = &doc["paths"]["/api/v1/servers/{id}/players/{player}/kick"]["post"]["requestBody"];
    assert_ne!(body["required"], true, "{body}");
    assert!(body["content"]["application/json"].is_object(), "{body}");
}
