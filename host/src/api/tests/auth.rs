//! `/auth/*`: signing in, tokens that expire and are revoked, sign-in limits, the caller's own
//! account and password.

use std::time::Duration;

use axum::http::{Method, StatusCode, header};
use serde_json::json;

use super::{Call, PASSWORD, TestApp};
use crate::auth::limit::{Limiter, LockoutPolicy};
use crate::auth::{Auth, LoginLimits, TokenSigner};
use crate::store::{Role, Store};

fn login(username: &str, password: &str) -> Call {
    Call::new(Method::POST, "/api/v1/auth/login")
        .json(&json!({ "username": username, "password": password }))
}

#[tokio::test]
async fn login_returns_a_token_its_expiry_and_the_user_without_secrets() {
    let app = TestApp::new().await;
    let answer = app.send(login("admin", PASSWORD)).await;
    answer.expect(StatusCode::OK);
    let session = answer.json();
    let token = session["token"].as_str().expect("token");
    assert!(
        session["expires_at"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z'))
    );
    assert_eq!(session["expires_in"], 900, "15 minutes");
    assert_eq!(session["user"]["username"], "admin");
    assert_eq!(session["user"]["role"], "admin");
    let text = String::from_utf8_lossy(&answer.body);
    assert!(
        !text.contains("argon2") && !text.contains(PASSWORD),
        "{text}"
    );
    assert!(session["user"].get("password_hash").is_none());
    assert!(session["user"].get("token_generation").is_none());

    let me = app.get("/api/v1/auth/me", Some(token)).await;
    me.expect(StatusCode::OK);
    assert_eq!(me.json()["username"], "admin");
    assert_eq!(me.json()["effective_role"], "admin");
    assert_eq!(me.json()["api_key_id"], serde_json::Value::Null);
}

#[tokio::test]
async fn usernames_are_case_insensitive() {
    let app = TestApp::new().await;
    app.send(login("ADMIN", PASSWORD))
        .await
        .expect(StatusCode::OK);
}

#[tokio::test]
async fn wrong_passwords_unknown_users_and_disabled_accounts_are_the_same_401() {
    let app = TestApp::new().await;
    let (user, _) = app.user("gone-quiet", Role::Operator).await;
    app.admin(
        Method::PATCH,
        &format!("/api/v1/users/{}", user.id),
        Some(json!({ "disabled": true })),
    )
    .await
    .expect(StatusCode::OK);
    let mut details = Vec::new();
    let long_name = "x".repeat(500);
    for (name, password) in [
        ("admin", "wrong password"),
        ("nobody", PASSWORD),
        ("gone-quiet", PASSWORD),
        (long_name.as_str(), PASSWORD),
    ] {
        let answer = app.send(login(name, password)).await;
        let problem = answer.expect_problem(StatusCode::UNAUTHORIZED);
        assert_eq!(answer.header(header::WWW_AUTHENTICATE), Some("Bearer"));
        details.push(problem["detail"].clone());
    }
    assert!(details.windows(2).all(|w| w[0] == w[1]), "{details:?}");
}

#[tokio::test]
async fn missing_malformed_foreign_and_expired_tokens_are_401() {
    let app = TestApp::new().await;
    let foreign = TokenSigner::random(Duration::from_secs(60))
        .issue(app.admin.id, 0)
        .0;
    let (expired, _) = app
        .auth
        .signer()
        .issue_at(app.admin.id, 0, crate::time::unix_secs() - 3600);
    for credential in [
        None,
        Some("garbage"),
        Some(foreign.as_str()),
        Some("gar_nope"),
    ] {
        app.get("/api/v1/auth/me", credential)
            .await
            .expect_problem(StatusCode::UNAUTHORIZED);
    }
    let problem = app
        .get("/api/v1/auth/me", Some(&expired))
        .await
        .expect_problem(StatusCode::UNAUTHORIZED);
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains("expired")),
        "{problem}"
    );
    // Another scheme is not a bearer token.
    let mut call = Call::new(Method::GET, "/api/v1/auth/me");
    call.request.headers_mut().insert(
        header::AUTHORIZATION,
        format!("Basic {}", app.admin_token)
            .parse()
            .expect("header"),
    );
    app.send(call)
        .await
        .expect_problem(StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn refresh_issues_a_new_token_for_a_session_but_not_for_an_api_key() {
    let app = TestApp::new().await;
    let answer = app
        .send(Call::new(Method::POST, "/api/v1/auth/refresh").bearer(&app.admin_token))
        .await;
    answer.expect(StatusCode::OK);
    let fresh = answer.json()["token"].as_str().expect("token").to_string();
    app.get("/api/v1/auth/me", Some(&fresh))
        .await
        .expect(StatusCode::OK);

    let (_, key) = app.api_key(&app.admin_token, None).await;
    app.send(Call::new(Method::POST, "/api/v1/auth/refresh").bearer(&key))
        .await
        .expect_problem(StatusCode::BAD_REQUEST);
    app.send(Call::new(Method::POST, "/api/v1/auth/refresh"))
        .await
        .expect_problem(StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn logout_revokes_every_session_of_the_user_but_not_their_api_keys() {
    let app = TestApp::new().await;
    let (_, key) = app.api_key(&app.admin_token, None).await;
    let other_session = app.send(login("admin", PASSWORD)).await.json()["token"]
        .as_str()
        .expect("token")
        .to_string();
    app.send(Call::new(Method::POST, "/api/v1/auth/logout").bearer(&app.admin_token))
        .await
        .expect(StatusCode::NO_CONTENT);
    for token in [&app.admin_token, &other_session] {
        let problem = app
            .get("/api/v1/auth/me", Some(token))
            .await
            .expect_problem(StatusCode::UNAUTHORIZED);
        assert!(
            problem["detail"]
                .as_str()
                .is_some_and(|d| d.contains("revoked"))
        );
    }
    app.get("/api/v1/auth/me", Some(&key))
        .await
        .expect(StatusCode::OK);
    // Signing in again works.
    app.send(login("admin", PASSWORD))
        .await
        .expect(StatusCode::OK);
}

#[tokio::test]
async fn changing_the_password_checks_the_current_one_and_ends_other_sessions() {
    let app = TestApp::new().await;
    let (_, token) = app.user("olga", Role::Operator).await;
    let change = |current: &str, new: &str| {
        Call::new(Method::POST, "/api/v1/auth/password")
            .bearer(&token)
            .json(&json!({ "current_password": current, "new_password": new }))
    };
    let problem = app
        .send(change("not it", "a new password"))
        .await
        .expect_problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["errors"][0]["field"], "current_password");
    let problem = app
        .send(change(PASSWORD, "short"))
        .await
        .expect_problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["errors"][0]["field"], "new_password");

    let answer = app.send(change(PASSWORD, "a new password")).await;
    answer.expect(StatusCode::OK);
    let fresh = answer.json()["token"].as_str().expect("token").to_string();
    app.get("/api/v1/auth/me", Some(&token))
        .await
        .expect_problem(StatusCode::UNAUTHORIZED);
    app.get("/api/v1/auth/me", Some(&fresh))
        .await
        .expect(StatusCode::OK);
    app.send(login("olga", PASSWORD))
        .await
        .expect_problem(StatusCode::UNAUTHORIZED);
    app.send(login("olga", "a new password"))
        .await
        .expect(StatusCode::OK);
}

/// A host whose sign-in limits lock after two failures per user and four per address.
pub(super) async fn strict_app() -> TestApp {
    let store = Store::open_in_memory().expect("store");
    let policy = |free| LockoutPolicy {
        free_failures: free,
        base: Duration::from_secs(30),
        max: Duration::from_secs(600),
        forget_after: Duration::from_secs(3600),
    };
    let limits = LoginLimits {
        users: Limiter::new(policy(2)),
        clients: Limiter::new(policy(4)),
    };
    let auth = Auth::with_limits(
        store.clone(),
        TokenSigner::random(Duration::from_secs(900)),
        limits,
    );
    TestApp::with_auth(store, auth).await
}

#[tokio::test]
async fn repeated_failures_lock_a_username_out_with_429_and_retry_after() {
    let app = strict_app().await;
    for _ in 0..2 {
        app.send(login("admin", "wrong").client("10.0.0.1:5000"))
            .await
            .expect_problem(StatusCode::UNAUTHORIZED);
    }
    // Locked now: even the right password is refused from the address that failed.
    let answer = app
        .send(login("admin", PASSWORD).client("10.0.0.1:5001"))
        .await;
    answer.expect_problem(StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = answer
        .header(header::RETRY_AFTER)
        .and_then(|v| v.parse().ok())
        .expect("Retry-After");
    assert!((1..=30).contains(&retry), "{retry}");
    // Another address gets one attempt; once it has failed, it is locked out too.
    app.send(login("admin", "also wrong").client("10.7.7.7:5000"))
        .await
        .expect_problem(StatusCode::UNAUTHORIZED);
    app.send(login("admin", PASSWORD).client("10.7.7.7:5000"))
        .await
        .expect_problem(StatusCode::TOO_MANY_REQUESTS);
    // Other users are not affected.
    app.user("bob", Role::Viewer).await;
    app.send(login("bob", PASSWORD).client("10.9.9.9:5000"))
        .await
        .expect(StatusCode::OK);
}

#[tokio::test]
async fn a_stranger_cannot_lock_the_real_user_out_from_an_address_without_failures() {
    // The default limits: 5 free failures per username, 20 per address.
    let app = TestApp::new().await;
    for _ in 0..20 {
        let answer = app
            .send(login("admin", "guess").client("203.0.113.66:4000"))
            .await;
        assert!(
            [StatusCode::UNAUTHORIZED, StatusCode::TOO_MANY_REQUESTS].contains(&answer.status),
            "{}",
            answer.status
        );
    }
    app.send(login("admin", PASSWORD).client("203.0.113.66:4001"))
        .await
        .expect_problem(StatusCode::TOO_MANY_REQUESTS);
    // The real administrator, elsewhere, signs in.
    app.send(login("admin", PASSWORD).client("198.51.100.2:5000"))
        .await
        .expect(StatusCode::OK);
}

#[tokio::test]
async fn repeated_failures_from_one_address_lock_that_address_out() {
    let app = strict_app().await;
    for name in ["a", "b", "c", "d"] {
        app.send(login(name, "wrong").client("192.0.2.7:4000"))
            .await
            .expect_problem(StatusCode::UNAUTHORIZED);
    }
    app.send(login("admin", PASSWORD).client("192.0.2.7:4001"))
        .await
        .expect_problem(StatusCode::TOO_MANY_REQUESTS);
    app.send(login("admin", PASSWORD).client("192.0.2.8:4000"))
        .await
        .expect(StatusCode::OK);
}
