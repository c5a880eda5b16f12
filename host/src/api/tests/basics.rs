//! What every endpoint shares: problems for unknown paths and methods, malformed bodies and
//! oversized bodies; health and the dashboard without auth; adapters for any signed-in role.

use axum::http::{Method, StatusCode};
use serde_json::json;

use super::{Call, TestApp};
use crate::store::Role;

#[tokio::test]
async fn health_needs_no_auth_and_says_ok() {
    let app = TestApp::new().await;
    let answer = app.get("/api/v1/system/health", None).await;
    answer.expect(StatusCode::OK);
    assert_eq!(answer.json()["status"], "ok");
}

#[tokio::test]
async fn adapters_need_a_signed_in_caller_of_any_role() {
    let app = TestApp::new().await;
    for path in ["/api/v1/adapters", "/api/v1/adapters/generic"] {
        app.get(path, None)
            .await
            .expect_problem(StatusCode::UNAUTHORIZED);
    }
    let (_, viewer) = app.user("watcher", Role::Viewer).await;
    let answer = app.get("/api/v1/adapters", Some(&viewer)).await;
    answer.expect(StatusCode::OK);
    assert!(
        answer.json()["adapters"]
            .as_array()
            .is_some_and(|a| a.iter().any(|x| x["id"] == "generic"))
    );
}

#[tokio::test]
async fn adapter_detail_includes_the_schema() {
    let app = TestApp::new().await;
    let answer = app
        .get("/api/v1/adapters/generic", Some(&app.admin_token))
        .await;
    answer.expect(StatusCode::OK);
    let json = answer.json();
    assert_eq!(json["id"], "generic");
    assert_eq!(json["schema"][0]["key"], "executable");
    assert_eq!(json["schema"][0]["kind"]["type"], "text");
}

#[tokio::test]
async fn unknown_things_are_problem_json_404s() {
    let app = TestApp::new().await;
    for path in [
        "/api/v1/adapters/nope",
        "/api/v1/nothing-here",
        "/favicon.ico",
    ] {
        app.get(path, Some(&app.admin_token))
            .await
            .expect_problem(StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn a_wrong_method_is_a_problem_json_405() {
    let app = TestApp::new().await;
    app.admin(Method::DELETE, "/api/v1/system/health", None)
        .await
        .expect_problem(StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn the_dashboard_is_served_at_the_root() {
    let app = TestApp::new().await;
    let answer = app.get("/", None).await;
    answer.expect(StatusCode::OK);
    assert!(
        answer
            .header(axum::http::header::CONTENT_TYPE)
            .is_some_and(|c| c.starts_with("text/html"))
    );
    assert!(String::from_utf8_lossy(&answer.body).contains("/api/v1/adapters"));
}

#[tokio::test]
async fn malformed_bodies_are_400_problems_that_say_what_is_wrong() {
    let app = TestApp::new().await;
    let cases: [(&str, &str); 6] = [
        ("{\"username\": ", "EOF"),
        // serde would read a struct from an array; the document says object.
        ("[1, 2]", "must be a JSON object"),
        ("[\"admin\", \"a password\"]", "must be a JSON object"),
        ("{\"username\": 5, \"password\": \"x\"}", "username"),
        (
            "{\"username\": \"a\", \"password\": \"b\", \"extra\": 1}",
            "unknown field `extra`",
        ),
        ("{\"username\": \"a\"}", "missing field `password`"),
    ];
    for (body, expected) in cases {
        let answer = app
            .send(Call::new(Method::POST, "/api/v1/auth/login").raw_json(body))
            .await;
        let problem = answer.expect_problem(StatusCode::BAD_REQUEST);
        let detail = problem["detail"].as_str().unwrap_or_default();
        assert!(detail.contains(expected), "{body}: {detail}");
    }
    // A wrong enum value in an authenticated call is a 400 too, not a 500.
    app.admin(
        Method::POST,
        "/api/v1/users",
        Some(json!({"username": "x", "password": "long enough", "role": "superuser"})),
    )
    .await
    .expect_problem(StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_body_that_is_not_json_is_a_415_problem() {
    let app = TestApp::new().await;
    let mut call = Call::new(Method::POST, "/api/v1/auth/login");
    *call.request.body_mut() = axum::body::Body::from("username=a&password=b");
    app.send(call)
        .await
        .expect_problem(StatusCode::UNSUPPORTED_MEDIA_TYPE);
}

#[tokio::test]
async fn bodies_over_the_limit_are_413_problems() {
    let app = TestApp::new().await;
    let big = format!(
        "{{\"username\": \"a\", \"password\": \"{}\"}}",
        "x".repeat(super::super::BODY_LIMIT)
    );
    app.send(Call::new(Method::POST, "/api/v1/auth/login").raw_json(big))
        .await
        .expect_problem(StatusCode::PAYLOAD_TOO_LARGE);
    // Also for a signed-in caller on another endpoint.
    let big = format!(
        "{{\"name\": \"{}\"}}",
        "k".repeat(super::super::BODY_LIMIT + 1)
    );
    app.send(
        Call::new(Method::POST, "/api/v1/api-keys")
            .bearer(&app.admin_token)
            .raw_json(big),
    )
    .await
    .expect_problem(StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn bad_path_and_query_values_are_400_problems() {
    let app = TestApp::new().await;
    app.get("/api/v1/users/abc", Some(&app.admin_token))
        .await
        .expect_problem(StatusCode::BAD_REQUEST);
    app.get("/api/v1/users?limit=lots", Some(&app.admin_token))
        .await
        .expect_problem(StatusCode::BAD_REQUEST);
    app.get("/api/v1/users?cursor=not-ours", Some(&app.admin_token))
        .await
        .expect_problem(StatusCode::BAD_REQUEST);
}
