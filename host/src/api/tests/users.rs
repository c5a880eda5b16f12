//! `/users` and `/users/{id}/grants`: administrators manage accounts and grants; changes
//! that matter for security end the user's sessions.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use super::{Call, PASSWORD, TestApp};
use crate::store::Role;

fn login(username: &str, password: &str) -> Call {
    Call::new(Method::POST, "/api/v1/auth/login")
        .json(&json!({ "username": username, "password": password }))
}

#[tokio::test]
async fn an_administrator_creates_lists_and_reads_users() {
    let app = TestApp::new().await;
    let answer = app
        .admin(
            Method::POST,
            "/api/v1/users",
            Some(json!({"username": "Nina", "password": "long enough", "role": "operator"})),
        )
        .await;
    answer.expect(StatusCode::CREATED);
    let nina = answer.json();
    assert_eq!(nina["username"], "Nina");
    assert_eq!(nina["role"], "operator");
    assert_eq!(nina["disabled"], false);
    assert!(nina.get("password_hash").is_none());
    let id = nina["id"].as_i64().expect("id");

    // The new user signs in with the password given.
    app.send(login("nina", "long enough"))
        .await
        .expect(StatusCode::OK);

    // Without a role, a user is a viewer.
    let answer = app
        .admin(
            Method::POST,
            "/api/v1/users",
            Some(json!({"username": "vic", "password": "long enough"})),
        )
        .await;
    assert_eq!(answer.json()["role"], "viewer");

    let answer = app
        .get(&format!("/api/v1/users/{id}"), Some(&app.admin_token))
        .await;
    answer.expect(StatusCode::OK);
    assert_eq!(answer.json()["username"], "Nina");
    app.get("/api/v1/users/999", Some(&app.admin_token))
        .await
        .expect_problem(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn user_lists_are_paginated_with_an_opaque_cursor() {
    let app = TestApp::new().await;
    for name in ["u1", "u2", "u3", "u4"] {
        app.user(name, Role::Viewer).await;
    }
    let mut names = Vec::new();
    let mut path = "/api/v1/users?limit=2".to_string();
    let mut pages = 0;
    loop {
        let answer = app.get(&path, Some(&app.admin_token)).await;
        answer.expect(StatusCode::OK);
        let page = answer.json();
        let items = page["items"].as_array().expect("items").clone();
        assert!(items.len() <= 2);
        names.extend(
            items
                .iter()
                .map(|u| u["username"].as_str().unwrap_or("").to_string()),
        );
        pages += 1;
        match &page["next_cursor"] {
            Value::String(cursor) => path = format!("/api/v1/users?limit=2&cursor={cursor}"),
            Value::Null => break,
            other => panic!("next_cursor {other}"),
        }
    }
    assert_eq!(names, ["admin", "u1", "u2", "u3", "u4"]);
    assert_eq!(pages, 3);
    // Limits are 1..=500, as documented: outside them the answer is a 400 naming the range.
    for limit in ["0", "501", "9999"] {
        let refused = app
            .get(
                &format!("/api/v1/users?limit={limit}"),
                Some(&app.admin_token),
            )
            .await;
        let problem = refused.expect_problem(StatusCode::BAD_REQUEST);
        assert!(
            problem["detail"]
                .as_str()
                .is_some_and(|d| d.contains("between 1 and 500")),
            "{problem}"
        );
    }
    let all = app
        .get("/api/v1/users?limit=500", Some(&app.admin_token))
        .await;
    assert_eq!(all.json()["items"].as_array().map(Vec::len), Some(5));
}

#[tokio::test]
async fn bad_usernames_passwords_and_duplicates_are_refused() {
    let app = TestApp::new().await;
    let create = |body: Value| app.admin(Method::POST, "/api/v1/users", Some(body));
    let problem = create(json!({"username": "ok", "password": "short"}))
        .await
        .expect_problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["errors"][0]["field"], "password");
    for bad in ["", " spaced", "-dash", "a/b", &"x".repeat(65)] {
        let problem = create(json!({"username": bad, "password": "long enough"}))
            .await
            .expect_problem(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(problem["errors"][0]["field"], "username", "{bad:?}");
    }
    create(json!({"username": "ADMIN", "password": "long enough"}))
        .await
        .expect_problem(StatusCode::CONFLICT);
}

#[tokio::test]
async fn role_changes_and_disabling_end_the_users_sessions() {
    let app = TestApp::new().await;
    let (user, token) = app.user("ryan", Role::Operator).await;
    let path = format!("/api/v1/users/{}", user.id);

    // An empty patch changes nothing and keeps the session.
    app.admin(Method::PATCH, &path, Some(json!({})))
        .await
        .expect(StatusCode::OK);
    app.get("/api/v1/auth/me", Some(&token))
        .await
        .expect(StatusCode::OK);

    let answer = app
        .admin(Method::PATCH, &path, Some(json!({"role": "viewer"})))
        .await;
    answer.expect(StatusCode::OK);
    assert_eq!(answer.json()["role"], "viewer");
    app.get("/api/v1/auth/me", Some(&token))
        .await
        .expect_problem(StatusCode::UNAUTHORIZED);

    let token = app.send(login("ryan", PASSWORD)).await.json()["token"]
        .as_str()
        .expect("token")
        .to_string();
    let answer = app
        .admin(Method::PATCH, &path, Some(json!({"disabled": true})))
        .await;
    assert_eq!(answer.json()["disabled"], true);
    app.get("/api/v1/auth/me", Some(&token))
        .await
        .expect_problem(StatusCode::UNAUTHORIZED);
    app.send(login("ryan", PASSWORD))
        .await
        .expect_problem(StatusCode::UNAUTHORIZED);

    app.admin(Method::PATCH, &path, Some(json!({"disabled": false})))
        .await
        .expect(StatusCode::OK);
    app.send(login("ryan", PASSWORD))
        .await
        .expect(StatusCode::OK);

    app.admin(Method::PATCH, &path, Some(json!({"password": "sneaky"})))
        .await
        .expect_problem(StatusCode::BAD_REQUEST);
    app.admin(
        Method::PATCH,
        "/api/v1/users/999",
        Some(json!({"role": "admin"})),
    )
    .await
    .expect_problem(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_last_active_administrator_cannot_be_demoted_disabled_or_deleted() {
    let app = TestApp::new().await;
    let path = format!("/api/v1/users/{}", app.admin.id);
    for body in [json!({"role": "operator"}), json!({"disabled": true})] {
        app.admin(Method::PATCH, &path, Some(body))
            .await
            .expect_problem(StatusCode::CONFLICT);
    }
    app.admin(Method::DELETE, &path, None)
        .await
        .expect_problem(StatusCode::CONFLICT);

    // With a second administrator, the first may go.
    let (second, second_token) = app.user("deputy", Role::Admin).await;
    app.admin(Method::DELETE, &path, None)
        .await
        .expect(StatusCode::NO_CONTENT);
    app.get("/api/v1/auth/me", Some(&app.admin_token))
        .await
        .expect_problem(StatusCode::UNAUTHORIZED);
    app.send(
        Call::new(Method::DELETE, &format!("/api/v1/users/{}", second.id)).bearer(&second_token),
    )
    .await
    .expect_problem(StatusCode::CONFLICT);
}

#[tokio::test]
async fn deleting_a_user_removes_their_keys_and_sessions() {
    let app = TestApp::new().await;
    let (user, token) = app.user("temp", Role::Operator).await;
    let (_, key) = app.api_key(&token, None).await;
    app.get("/api/v1/auth/me", Some(&key))
        .await
        .expect(StatusCode::OK);
    app.admin(Method::DELETE, &format!("/api/v1/users/{}", user.id), None)
        .await
        .expect(StatusCode::NO_CONTENT);
    for credential in [&token, &key] {
        app.get("/api/v1/auth/me", Some(credential))
            .await
            .expect_problem(StatusCode::UNAUTHORIZED);
    }
    app.admin(Method::DELETE, &format!("/api/v1/users/{}", user.id), None)
        .await
        .expect_problem(StatusCode::NOT_FOUND);
    // A new user never gets the old id.
    let (next, _) = app.user("temp", Role::Viewer).await;
    assert!(next.id > user.id);
}

#[tokio::test]
async fn an_administrator_resets_a_password_and_the_old_sessions_end() {
    let app = TestApp::new().await;
    let (user, token) = app.user("forgetful", Role::Viewer).await;
    let path = format!("/api/v1/users/{}/password", user.id);
    app.admin(Method::POST, &path, Some(json!({"password": "short"})))
        .await
        .expect_problem(StatusCode::UNPROCESSABLE_ENTITY);
    app.admin(
        Method::POST,
        &path,
        Some(json!({"password": "brand new one"})),
    )
    .await
    .expect(StatusCode::NO_CONTENT);
    app.get("/api/v1/auth/me", Some(&token))
        .await
        .expect_problem(StatusCode::UNAUTHORIZED);
    app.send(login("forgetful", "brand new one"))
        .await
        .expect(StatusCode::OK);
    app.admin(
        Method::POST,
        "/api/v1/users/999/password",
        Some(json!({"password": "brand new one"})),
    )
    .await
    .expect_problem(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn grants_are_put_listed_and_removed() {
    let app = TestApp::new().await;
    let (user, _) = app.user("guest", Role::Operator).await;
    let server = app.server(None).await;
    let other = app.server(None).await;
    let grants = format!("/api/v1/users/{}/grants", user.id);

    let answer = app
        .admin(
            Method::PUT,
            &grants,
            Some(json!({"server_id": server, "role": "viewer"})),
        )
        .await;
    answer.expect(StatusCode::OK);
    assert_eq!(answer.json()["role"], "viewer");
    // PUT again changes the role; POST does the same.
    app.admin(
        Method::PUT,
        &grants,
        Some(json!({"server_id": server, "role": "operator"})),
    )
    .await
    .expect(StatusCode::OK);
    app.admin(
        Method::POST,
        &grants,
        Some(json!({"server_id": other, "role": "viewer"})),
    )
    .await
    .expect(StatusCode::OK);

    let list = app.get(&grants, Some(&app.admin_token)).await;
    list.expect(StatusCode::OK);
    let items = list.json()["items"].clone();
    assert_eq!(items[0]["server_id"], server);
    assert_eq!(items[0]["role"], "operator");
    assert_eq!(items[1]["server_id"], other);
    let first = app
        .get(&format!("{grants}?limit=1"), Some(&app.admin_token))
        .await
        .json();
    assert_eq!(first["items"].as_array().map(Vec::len), Some(1));
    assert!(first["next_cursor"].is_string());

    app.admin(Method::DELETE, &format!("{grants}/{server}"), None)
        .await
        .expect(StatusCode::NO_CONTENT);
    app.admin(Method::DELETE, &format!("{grants}/{server}"), None)
        .await
        .expect_problem(StatusCode::NOT_FOUND);

    // Unknown servers and users, and bad roles.
    app.admin(
        Method::PUT,
        &grants,
        Some(json!({"server_id": 999, "role": "viewer"})),
    )
    .await
    .expect_problem(StatusCode::NOT_FOUND);
    app.admin(
        Method::PUT,
        "/api/v1/users/999/grants",
        Some(json!({"server_id": server, "role": "viewer"})),
    )
    .await
    .expect_problem(StatusCode::NOT_FOUND);
    app.get("/api/v1/users/999/grants", Some(&app.admin_token))
        .await
        .expect_problem(StatusCode::NOT_FOUND);
    app.admin(
        Method::PUT,
        &grants,
        Some(json!({"server_id": server, "role": "admin"})),
    )
    .await
    .expect_problem(StatusCode::BAD_REQUEST);
}
