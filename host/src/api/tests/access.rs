//! The authorisation matrix: who may call what, and who may see and manage which server.

use axum::http::{Method, StatusCode};
use serde_json::json;

use super::{Call, TestApp};
use crate::auth::{Access, AuthError, Visibility, server_access};
use crate::store::grants::{self, GrantRole};
use crate::store::{Role, servers};

#[tokio::test]
async fn server_access_follows_ownership_grants_and_roles() {
    let app = TestApp::new().await;
    let (owner, owner_token) = app.user("owner", Role::Operator).await;
    let (_, other_op) = app.user("other-op", Role::Operator).await;
    let (_, lone_viewer) = app.user("lone-viewer", Role::Viewer).await;
    let (granted_viewer, granted_viewer_token) = app.user("granted-viewer", Role::Viewer).await;
    let (lifted_viewer, lifted_viewer_token) = app.user("lifted-viewer", Role::Viewer).await;
    let (watching_op, watching_op_token) = app.user("watching-op", Role::Operator).await;
    let (helping_op, helping_op_token) = app.user("helping-op", Role::Operator).await;
    let server = app.server(Some(owner.id)).await;
    for (user, role) in [
        (granted_viewer.id, GrantRole::Viewer),
        (lifted_viewer.id, GrantRole::Operator),
        (watching_op.id, GrantRole::Viewer),
        (helping_op.id, GrantRole::Operator),
    ] {
        app.store
            .call(move |conn| grants::put(conn, user, server, role))
            .await
            .expect("grant");
    }
    let (_, owner_viewer_key) = app.api_key(&owner_token, Some(Role::Viewer)).await;
    let (_, admin_key) = app.api_key(&app.admin_token, None).await;

    let cases: [(&str, &str, Option<Access>); 10] = [
        ("admin", &app.admin_token, Some(Access::Manage)),
        ("admin's API key", &admin_key, Some(Access::Manage)),
        ("operator owner", &owner_token, Some(Access::Manage)),
        ("owner's viewer key", &owner_viewer_key, Some(Access::View)),
        ("other operator", &other_op, None),
        ("viewer without grant", &lone_viewer, None),
        (
            "viewer with grant",
            &granted_viewer_token,
            Some(Access::View),
        ),
        (
            "viewer with operator grant",
            &lifted_viewer_token,
            Some(Access::View),
        ),
        (
            "operator with viewer grant",
            &watching_op_token,
            Some(Access::View),
        ),
        (
            "operator with operator grant",
            &helping_op_token,
            Some(Access::Manage),
        ),
    ];
    for (who, credential, expected) in cases {
        let caller = app.auth.authenticate(credential).await.expect(who);
        let got = server_access(&app.store, &caller, server).await;
        match (expected, got) {
            (Some(want), Ok(got)) => assert_eq!(want, got, "{who}"),
            (None, Err(AuthError::NotFound(_))) => {}
            (want, got) => panic!("{who}: expected {want:?}, got {got:?}"),
        }
        // The list filter agrees with the single check.
        let listed = app
            .store
            .call(move |conn| Ok(Visibility::load(conn, &caller)?.access(server, Some(owner.id))))
            .await
            .expect("visibility");
        assert_eq!(listed, expected, "{who} (list)");
    }

    // No one sees a server that does not exist or is deleted, administrators included.
    let admin = app
        .auth
        .authenticate(&app.admin_token)
        .await
        .expect("admin");
    assert!(matches!(
        server_access(&app.store, &admin, 999).await,
        Err(AuthError::NotFound(_))
    ));
    app.store
        .call(move |conn| servers::soft_delete(conn, server))
        .await
        .expect("delete");
    assert!(matches!(
        server_access(&app.store, &admin, server).await,
        Err(AuthError::NotFound(_))
    ));
    // A view-only caller is told 403 when acting: they know the server exists.
    assert!(Access::View.require_manage().is_err());
    assert!(Access::Manage.require_manage().is_ok());
}

/// Every endpoint of this module × every kind of caller → the expected status.
#[tokio::test]
async fn the_endpoint_matrix() {
    let app = TestApp::new().await;
    let (_, viewer_token) = app.user("viewer", Role::Viewer).await;
    // The user the admin endpoints act on (not a caller: a password reset ends its sessions).
    let (target, _) = app.user("target", Role::Viewer).await;
    let (_, operator_token) = app.user("operator", Role::Operator).await;
    let (_, admin_key) = app.api_key(&app.admin_token, None).await;
    let (_, admin_viewer_key) = app.api_key(&app.admin_token, Some(Role::Viewer)).await;
    let server = app.server(None).await;

    // Callers: anonymous, viewer, operator, admin, admin's key, admin's viewer-scoped key.
    let callers: [Option<&str>; 6] = [
        None,
        Some(&viewer_token),
        Some(&operator_token),
        Some(&app.admin_token),
        Some(&admin_key),
        Some(&admin_viewer_key),
    ];
    let users = format!("/api/v1/users/{}", target.id);
    let grants = format!("{users}/grants");
    let grant = json!({"server_id": server, "role": "viewer"});
    // (method, path, body, expected for each caller)
    let table: Vec<(Method, String, Option<serde_json::Value>, [u16; 6])> = vec![
        (Method::GET, "/api/v1/system/health".into(), None, [200; 6]),
        (Method::GET, "/api/v1/openapi.json".into(), None, [200; 6]),
        (
            Method::GET,
            "/api/v1/adapters".into(),
            None,
            [401, 200, 200, 200, 200, 200],
        ),
        (
            Method::GET,
            "/api/v1/adapters/generic".into(),
            None,
            [401, 200, 200, 200, 200, 200],
        ),
        // Installing and removing adapters is an administrator's (once allowed: this host has
        // no drop-in directory, 409; a built-in is no drop-in to remove, 404).
        (
            Method::POST,
            "/api/v1/adapters".into(),
            Some(json!({})),
            [401, 403, 403, 409, 409, 403],
        ),
        (
            Method::DELETE,
            "/api/v1/adapters/generic".into(),
            None,
            [401, 403, 403, 404, 404, 403],
        ),
        // A game's shared install: its state for everyone signed in; installing or updating
        // it for administrators (each job is waited for below, so that the next caller is
        // not refused as a second job of the same runtime).
        (
            Method::GET,
            "/api/v1/adapters/generic/runtime".into(),
            None,
            [401, 200, 200, 200, 200, 200],
        ),
        (
            Method::POST,
            "/api/v1/adapters/generic/runtime/install".into(),
            None,
            [401, 403, 403, 202, 202, 403],
        ),
        (
            Method::POST,
            "/api/v1/adapters/generic/runtime/update".into(),
            None,
            [401, 403, 403, 202, 202, 403],
        ),
        (
            Method::GET,
            "/api/v1/auth/me".into(),
            None,
            [401, 200, 200, 200, 200, 200],
        ),
        (
            Method::GET,
            "/api/v1/users".into(),
            None,
            [401, 403, 403, 200, 200, 403],
        ),
        (
            Method::GET,
            users.clone(),
            None,
            [401, 403, 403, 200, 200, 403],
        ),
        (
            Method::PATCH,
            users.clone(),
            Some(json!({})),
            [401, 403, 403, 200, 200, 403],
        ),
        (
            Method::POST,
            format!("{users}/password"),
            Some(json!({"password": "long enough"})),
            [401, 403, 403, 204, 204, 403],
        ),
        (
            Method::GET,
            grants.clone(),
            None,
            [401, 403, 403, 200, 200, 403],
        ),
        (
            Method::PUT,
            grants.clone(),
            Some(grant.clone()),
            [401, 403, 403, 200, 200, 403],
        ),
        (
            Method::DELETE,
            format!("{grants}/{server}"),
            None,
            [401, 403, 403, 204, 404, 403],
        ),
        (
            Method::GET,
            "/api/v1/api-keys".into(),
            None,
            [401, 200, 200, 200, 200, 200],
        ),
        (
            Method::GET,
            "/api/v1/api-keys?all=true".into(),
            None,
            [401, 403, 403, 200, 200, 403],
        ),
        (
            Method::GET,
            "/api/v1/audit".into(),
            None,
            [401, 403, 403, 200, 200, 403],
        ),
        (
            Method::POST,
            "/api/v1/users".into(),
            Some(json!({"username": "x", "password": "long enough"})),
            [401, 403, 403, 201, 409, 403],
        ),
        (
            Method::DELETE,
            "/api/v1/api-keys/999".into(),
            None,
            [401, 404, 404, 404, 404, 404],
        ),
    ];
    for (method, path, body, expected) in table {
        for (caller, want) in callers.iter().zip(expected) {
            let mut call = Call::new(method.clone(), &path);
            if let Some(credential) = caller {
                call = call.bearer(credential);
            }
            if let Some(body) = &body {
                call = call.json(body);
            }
            let answer = app.send(call).await;
            let got = answer.status.as_u16();
            let who = caller.map_or("anonymous", |c| &c[..c.len().min(8)]);
            assert_eq!(got, want, "{method} {path} as {who}");
            if got == 202 && path.contains("/runtime/") {
                let id = answer.json()["id"].as_i64().expect("a job");
                job_finished(&app, id).await;
            }
        }
    }
}

/// Waits (bounded) until job `id` has finished.
async fn job_finished(app: &TestApp, id: i64) {
    let limit = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let job = app
            .store
            .call(move |conn| crate::store::jobs::get(conn, id))
            .await
            .expect("job");
        if job.state.is_finished() {
            return;
        }
        assert!(
            tokio::time::Instant::now() < limit,
            "job {id} never finished"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// Every operation in the OpenAPI document (which is generated from the routes, so it covers
/// endpoints added later) refuses anonymous callers, except the public ones (health, the two sign-ins, the document).
#[tokio::test]
async fn no_endpoint_is_reachable_without_auth_except_health_login_and_the_document() {
    let app = TestApp::new().await;
    let public = [
        "GET /api/v1/system/health",
        "POST /api/v1/auth/login",
        // The browser's sign-in (the session in a cookie).
        "POST /api/v1/auth/session",
        "GET /api/v1/openapi.json",
        // The WebSocket's message schema (a document, like the one above).
        "GET /api/v1/ws/schema.json",
    ];
    let document = super::super::openapi_document().clone();
    let paths = document["paths"].as_object().expect("paths");
    let mut checked = 0;
    for (path, item) in paths {
        let concrete = path
            .split('/')
            .map(|part| if part.starts_with('{') { "1" } else { part })
            .collect::<Vec<_>>()
            .join("/");
        for method in ["get", "put", "post", "delete", "patch"] {
            if item.get(method).is_none() {
                continue;
            }
            let name = format!("{} {path}", method.to_uppercase());
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
            let answer = app
                .send(Call::new(method, &concrete).json(&json!({})))
                .await;
            if public.contains(&name.as_str()) {
                assert_ne!(answer.status, StatusCode::UNAUTHORIZED, "{name}");
            } else {
                answer.expect_problem(StatusCode::UNAUTHORIZED);
            }
            checked += 1;
        }
    }
    assert!(checked >= 20, "only {checked} operations checked");
}
