//! The audit log: every mutating call leaves a row (who, what, on what, from where, how it
//! ended); reads leave none; nothing secret is recorded, in the log or anywhere in the
//! database file.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use super::{Call, PASSWORD, TestApp};
use crate::store::{Role, Store};

async fn audit(app: &TestApp) -> Vec<Value> {
    let answer = app
        .get("/api/v1/audit?limit=500", Some(&app.admin_token))
        .await;
    answer.expect(StatusCode::OK);
    answer.json()["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[tokio::test]
async fn mutating_calls_are_recorded_with_who_what_where_and_how_it_ended() {
    let app = TestApp::new().await;
    let created = app
        .send(
            Call::new(Method::POST, "/api/v1/users")
                .bearer(&app.admin_token)
                .json(&json!({"username": "newbie", "password": "long enough"}))
                .client("203.0.113.9:51000"),
        )
        .await;
    created.expect(StatusCode::CREATED);
    let id = created.json()["id"].as_i64().expect("id");
    // A read is not recorded; a refused call is.
    app.get("/api/v1/users", Some(&app.admin_token)).await;
    app.send(Call::new(Method::DELETE, &format!("/api/v1/users/{id}")))
        .await
        .expect(StatusCode::UNAUTHORIZED);
    app.send(
        Call::new(Method::POST, "/api/v1/auth/login")
            .json(&json!({"username": "newbie", "password": "long enough"})),
    )
    .await
    .expect(StatusCode::OK);

    let rows = audit(&app).await;
    assert_eq!(rows.len(), 3, "{rows:?}");
    let (login, refused, create) = (&rows[0], &rows[1], &rows[2]);
    assert_eq!(create["action"], "POST /api/v1/users");
    assert_eq!(create["target"], format!("user {id}"));
    assert_eq!(create["user_id"], app.admin.id);
    assert_eq!(create["actor"], "admin");
    assert_eq!(create["client"], "203.0.113.9:51000");
    assert_eq!(create["status"], 201);
    assert!(create["at"].as_str().is_some_and(|a| a.ends_with('Z')));

    assert_eq!(refused["action"], format!("DELETE /api/v1/users/{id}"));
    assert_eq!(refused["target"], format!("/api/v1/users/{id}"));
    assert_eq!(refused["user_id"], Value::Null);
    assert_eq!(refused["client"], "unknown");
    assert_eq!(refused["status"], 401);

    assert_eq!(login["action"], "POST /api/v1/auth/login");
    assert_eq!(login["actor"], "newbie");
    assert_eq!(login["user_id"], id);
    assert_eq!(login["status"], 200);
    assert_eq!(login["detail"], Value::Null);
    assert!(rows.iter().all(|r| r["repeats"] == 1));
}

#[tokio::test]
async fn rows_say_which_action_which_fields_and_which_username() {
    let app = TestApp::idle().await;
    let settings = json!({"executable": "/bin/sleep", "args": ["30"]});
    let created = app
        .admin(
            Method::POST,
            "/api/v1/servers",
            Some(json!({"name": "s", "adapter": "generic", "settings": settings})),
        )
        .await;
    created.expect(StatusCode::CREATED);
    let server = created.json()["id"].as_i64().expect("id");
    for action in ["start", "kill"] {
        app.admin(
            Method::POST,
            &format!("/api/v1/servers/{server}/actions/{action}"),
            None,
        )
        .await;
    }
    app.admin(
        Method::PATCH,
        &format!("/api/v1/servers/{server}"),
        Some(json!({"name": "renamed", "stop_grace_secs": 5})),
    )
    .await
    .expect(StatusCode::OK);
    app.admin(
        Method::PUT,
        &format!("/api/v1/servers/{server}/config"),
        Some(json!({"settings": {"executable": "/bin/sleep", "args": ["60"]}})),
    )
    .await
    .expect(StatusCode::OK);
    let (user, _) = app.user("olaf", Role::Viewer).await;
    app.admin(
        Method::PATCH,
        &format!("/api/v1/users/{}", user.id),
        Some(json!({"disabled": true})),
    )
    .await
    .expect(StatusCode::OK);
    let guess = "Sup3r-Secret-Guess";
    app.send(
        Call::new(Method::POST, "/api/v1/auth/login")
            .json(&json!({"username": "mallory", "password": guess})),
    )
    .await
    .expect(StatusCode::UNAUTHORIZED);

    let rows = audit(&app).await;
    let actions: Vec<&str> = rows
        .iter()
        .rev()
        .filter_map(|r| r["action"].as_str())
        .collect();
    assert_eq!(
        actions,
        [
            "POST /api/v1/servers".to_owned(),
            format!("POST /api/v1/servers/{server}/actions/start"),
            format!("POST /api/v1/servers/{server}/actions/kill"),
            format!("PATCH /api/v1/servers/{server}"),
            format!("PUT /api/v1/servers/{server}/config"),
            format!("PATCH /api/v1/users/{}", user.id),
            "POST /api/v1/auth/login".to_owned(),
        ]
    );
    let details: Vec<&Value> = rows.iter().rev().map(|r| &r["detail"]).collect();
    assert_eq!(details[3], "changed: name, stop_grace_secs");
    assert_eq!(details[4], "changed: args");
    assert_eq!(details[5], "changed: disabled");
    let failed = &rows[0];
    assert_eq!(failed["detail"], "username: mallory");
    assert_eq!(failed["actor"], Value::Null);
    assert!(!failed.to_string().contains(guess), "{failed}");
}

#[tokio::test]
async fn refused_sign_ins_are_counted_on_one_row_per_burst() {
    let app = super::auth::strict_app().await;
    let attempt = |client: &str| {
        Call::new(Method::POST, "/api/v1/auth/login")
            .json(&json!({"username": "admin", "password": "wrong"}))
            .client(client)
    };
    for _ in 0..2 {
        app.send(attempt("192.0.2.50:1000"))
            .await
            .expect(StatusCode::UNAUTHORIZED);
    }
    for port in 0..50 {
        app.send(attempt(&format!("192.0.2.50:{}", 2000 + port)))
            .await
            .expect(StatusCode::TOO_MANY_REQUESTS);
    }
    // Another address's refusals are a burst of their own.
    app.send(attempt("192.0.2.51:1000"))
        .await
        .expect(StatusCode::UNAUTHORIZED);
    for _ in 0..3 {
        app.send(attempt("192.0.2.51:1001"))
            .await
            .expect(StatusCode::TOO_MANY_REQUESTS);
    }

    let rows = audit(&app).await;
    let refused: Vec<(&str, u64)> = rows
        .iter()
        .filter(|r| r["status"] == 429)
        .map(|r| {
            (
                r["client"].as_str().unwrap_or_default(),
                r["repeats"].as_u64().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(refused, [("192.0.2.51:1001", 3), ("192.0.2.50:2000", 50)]);
    assert_eq!(rows.len(), 3 + 2, "{rows:?}");
    assert_eq!(rows[0]["detail"], "username: admin");
}

#[tokio::test]
async fn calls_with_an_api_key_record_the_key() {
    let app = TestApp::new().await;
    let (key_id, key) = app.api_key(&app.admin_token, None).await;
    app.send(
        Call::new(Method::POST, "/api/v1/users")
            .bearer(&key)
            .json(&json!({"username": "by-robot", "password": "long enough"})),
    )
    .await
    .expect(StatusCode::CREATED);
    let rows = audit(&app).await;
    assert_eq!(rows[0]["api_key_id"], key_id);
    assert_eq!(rows[0]["user_id"], app.admin.id);
    assert_eq!(rows[1]["action"], "POST /api/v1/api-keys");
    assert_eq!(rows[1]["target"], format!("api key {key_id}"));
}

#[tokio::test]
async fn the_audit_log_is_for_administrators_newest_first_in_pages() {
    let app = TestApp::new().await;
    let (_, operator) = app.user("op", Role::Operator).await;
    app.get("/api/v1/audit", Some(&operator))
        .await
        .expect_problem(StatusCode::FORBIDDEN);
    for _ in 0..3 {
        app.send(Call::new(Method::POST, "/api/v1/auth/refresh").bearer(&operator))
            .await
            .expect(StatusCode::OK);
    }
    let first = app
        .get("/api/v1/audit?limit=2", Some(&app.admin_token))
        .await
        .json();
    let cursor = first["next_cursor"].as_str().expect("a second page");
    let second = app
        .get(
            &format!("/api/v1/audit?limit=2&cursor={cursor}"),
            Some(&app.admin_token),
        )
        .await
        .json();
    let ids: Vec<i64> = [&first, &second]
        .iter()
        .flat_map(|p| p["items"].as_array().cloned().unwrap_or_default())
        .filter_map(|r| r["id"].as_i64())
        .collect();
    assert_eq!(ids, [3, 2, 1]);
    assert_eq!(second["next_cursor"], Value::Null);
}

#[tokio::test]
async fn no_password_key_or_token_is_stored_in_plaintext() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("garrison.db");
    let app = TestApp::with_store(Store::open(&path).expect("store")).await;
    let password = "Plaintext-Password-Canary-1";
    let new_password = "Plaintext-Password-Canary-2";
    app.admin(
        Method::POST,
        "/api/v1/users",
        Some(json!({"username": "canary", "password": password, "role": "operator"})),
    )
    .await
    .expect(StatusCode::CREATED);
    let session = app
        .send(
            Call::new(Method::POST, "/api/v1/auth/login")
                .json(&json!({"username": "canary", "password": password})),
        )
        .await
        .json();
    let token = session["token"].as_str().expect("token").to_string();
    let (_, key) = app.api_key(&token, None).await;
    app.get("/api/v1/auth/me", Some(&key))
        .await
        .expect(StatusCode::OK);
    let changed = app
        .send(
            Call::new(Method::POST, "/api/v1/auth/password")
                .bearer(&token)
                .json(&json!({"current_password": password, "new_password": new_password})),
        )
        .await;
    changed.expect(StatusCode::OK);
    let new_token = changed.json()["token"].as_str().expect("token").to_string();

    // Everything SQLite wrote: the database and its write-ahead log.
    let mut bytes = std::fs::read(&path).expect("db");
    if let Ok(wal) = std::fs::read(dir.path().join("garrison.db-wal")) {
        bytes.extend(wal);
    }
    for secret in [password, new_password, PASSWORD, &key, &token, &new_token] {
        assert!(
            !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "found a secret in the database file"
        );
    }
    // The key's public prefix is there, which shows the search looks in the right place.
    let prefix = &key[..12];
    assert!(bytes.windows(prefix.len()).any(|w| w == prefix.as_bytes()));
}
