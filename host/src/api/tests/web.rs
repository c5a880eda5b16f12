//! The dashboard's files, the security headers of every answer, and the browser's cookie
//! session with its cross-site checks.

use axum::http::{Method, StatusCode, header};
use serde_json::json;

use super::{Call, PASSWORD, TestApp};

const HOST: &str = "garrison.test";
const ORIGIN: &str = "http://garrison.test";

/// Signs `admin` in as a browser would and returns the cookie's value.
async fn browser_sign_in(app: &TestApp) -> String {
    let answer = app
        .send(
            Call::new(Method::POST, "/api/v1/auth/session")
                .header("host", HOST)
                .header("origin", ORIGIN)
                .json(&json!({"username": "admin", "password": PASSWORD})),
        )
        .await;
    answer.expect(StatusCode::OK);
    assert!(answer.json().get("token").is_none(), "no token in the body");
    assert_eq!(answer.json()["user"]["username"], "admin");
    let cookie = answer
        .header(header::SET_COOKIE)
        .expect("a cookie")
        .to_owned();
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/api", "Max-Age="] {
        assert!(cookie.contains(attribute), "{cookie} lacks {attribute}");
    }
    assert!(!cookie.contains("Secure"), "not over TLS: {cookie}");
    let value = cookie
        .split(';')
        .next()
        .and_then(|pair| pair.split_once('='))
        .map(|(_, v)| v.to_owned())
        .expect("name=value");
    assert!(!value.is_empty());
    value
}

#[tokio::test]
async fn client_routes_answer_the_app_and_files_have_types_etags_and_a_csp() {
    let app = TestApp::new().await;
    let page = app.get("/servers/2/console", None).await;
    page.expect(StatusCode::OK);
    assert_eq!(
        page.header(header::CONTENT_TYPE),
        Some("text/html; charset=utf-8")
    );
    let csp = page.header(header::CONTENT_SECURITY_POLICY).expect("a CSP");
    assert!(csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'"));
    assert!(!csp.contains("unsafe-inline"));
    assert_eq!(page.header(header::X_FRAME_OPTIONS), Some("DENY"));
    assert_eq!(page.header(header::X_CONTENT_TYPE_OPTIONS), Some("nosniff"));
    assert!(page.header(header::REFERRER_POLICY).is_some());

    let script = app.get("/app.js", None).await;
    script.expect(StatusCode::OK);
    assert_eq!(
        script.header(header::CONTENT_TYPE),
        Some("text/javascript; charset=utf-8")
    );
    assert_eq!(script.header(header::CACHE_CONTROL), Some("no-cache"));
    let etag = script.header(header::ETAG).expect("an ETag").to_owned();
    let again = app
        .send(Call::new(Method::GET, "/app.js").header("if-none-match", &etag))
        .await;
    again.expect(StatusCode::NOT_MODIFIED);
    assert!(again.body.is_empty());

    // A missing file is a 404, not the app; unknown API paths stay problems.
    app.get("/missing.js", None)
        .await
        .expect_problem(StatusCode::NOT_FOUND);
    app.get("/api/v1/nothing-here", None)
        .await
        .expect_problem(StatusCode::NOT_FOUND);
    app.get("/vendor/update.sh", None)
        .await
        .expect_problem(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn api_answers_carry_nosniff_and_a_closed_csp() {
    let app = TestApp::new().await;
    let answer = app.get("/api/v1/system/health", None).await;
    answer.expect(StatusCode::OK);
    assert_eq!(
        answer.header(header::X_CONTENT_TYPE_OPTIONS),
        Some("nosniff")
    );
    assert_eq!(
        answer.header(header::CONTENT_SECURITY_POLICY),
        Some("default-src 'none'; frame-ancestors 'none'")
    );
}

#[tokio::test]
async fn answers_are_compressed_when_the_client_accepts_it() {
    let app = TestApp::new().await;
    let answer = app
        .send(Call::new(Method::GET, "/vendor/uplot.mjs").header("accept-encoding", "gzip"))
        .await;
    answer.expect(StatusCode::OK);
    assert_eq!(answer.header(header::CONTENT_ENCODING), Some("gzip"));
}

#[tokio::test]
async fn the_cookie_session_works_like_a_token_and_refuses_cross_site_changes() {
    let app = TestApp::new().await;
    let cookie = browser_sign_in(&app).await;
    let with_cookie = |method: Method, path: &str| {
        Call::new(method, path)
            .header("host", HOST)
            .header("cookie", &format!("other=1; garrison_session={cookie}"))
    };

    // Reading needs no origin check.
    let me = app.send(with_cookie(Method::GET, "/api/v1/auth/me")).await;
    me.expect(StatusCode::OK);
    assert_eq!(me.json()["username"], "admin");
    assert_eq!(me.json()["password_change_required"], false);

    // A change from another site, or with no origin at all, is refused.
    let forged = app
        .send(
            with_cookie(Method::POST, "/api/v1/auth/refresh").header("origin", "http://evil.test"),
        )
        .await;
    forged.expect_problem(StatusCode::FORBIDDEN);
    let cross = app
        .send(
            with_cookie(Method::POST, "/api/v1/auth/refresh")
                .header("sec-fetch-site", "cross-site"),
        )
        .await;
    cross.expect_problem(StatusCode::FORBIDDEN);
    app.send(with_cookie(Method::POST, "/api/v1/auth/refresh"))
        .await
        .expect_problem(StatusCode::FORBIDDEN);

    // From the host's own page, a refresh renews the cookie and shows no token.
    let refreshed = app
        .send(with_cookie(Method::POST, "/api/v1/auth/refresh").header("origin", ORIGIN))
        .await;
    refreshed.expect(StatusCode::OK);
    assert!(refreshed.json().get("token").is_none());
    assert!(refreshed.header(header::SET_COOKIE).is_some());

    // Signing out clears the cookie and ends the session on the host.
    let out = app
        .send(
            with_cookie(Method::POST, "/api/v1/auth/logout")
                .header("sec-fetch-site", "same-origin"),
        )
        .await;
    out.expect(StatusCode::NO_CONTENT);
    assert!(
        out.header(header::SET_COOKIE)
            .is_some_and(|c| c.contains("Max-Age=0"))
    );
    app.send(with_cookie(Method::GET, "/api/v1/auth/me"))
        .await
        .expect_problem(StatusCode::UNAUTHORIZED);

    // As with a token, signing out ends every session of the user, bearer tokens included.
    app.get("/api/v1/auth/me", Some(&app.admin_token))
        .await
        .expect(StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn browser_sign_in_is_refused_from_another_site() {
    let app = TestApp::new().await;
    app.send(
        Call::new(Method::POST, "/api/v1/auth/session")
            .header("host", HOST)
            .header("origin", "http://evil.test")
            .json(&json!({"username": "admin", "password": PASSWORD})),
    )
    .await
    .expect_problem(StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_cookie_is_secure_when_the_page_is_served_over_tls() {
    let app = TestApp::new().await;
    let answer = app
        .send(
            Call::new(Method::POST, "/api/v1/auth/session")
                .header("host", HOST)
                .header("origin", "https://garrison.test")
                .json(&json!({"username": "admin", "password": PASSWORD})),
        )
        .await;
    answer.expect(StatusCode::OK);
    assert!(
        answer
            .header(header::SET_COOKIE)
            .is_some_and(|c| c.contains("; Secure"))
    );
}
