//! The authorisation matrix of the server endpoints: every endpoint × every kind of caller,
//! with the status each must get. A server someone may not see is 404, never 403.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use super::{Call, TestApp};
use crate::store::Role;
use crate::store::grants::{self, GrantRole};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Who {
    Anonymous,
    ViewerWithoutGrant,
    ViewerWithGrant,
    OperatorOwner,
    OtherOperator,
    Admin,
    OwnersApiKey,
}

const EVERYONE: [Who; 7] = [
    Who::Anonymous,
    Who::ViewerWithoutGrant,
    Who::ViewerWithGrant,
    Who::OperatorOwner,
    Who::OtherOperator,
    Who::Admin,
    Who::OwnersApiKey,
];

/// What an endpoint needs, and what it answers when allowed.
#[derive(Clone, Copy)]
enum Needs {
    /// Seeing the server; answers `ok`.
    View(StatusCode),
    /// Managing it; answers `ok`.
    Manage(StatusCode),
    /// Managing it as an administrator (settings that choose the program to run); answers
    /// `ok`.
    Administer(StatusCode),
}

fn expected(who: Who, needs: Needs) -> StatusCode {
    let (manage, admin, ok) = match needs {
        Needs::View(ok) => (false, false, ok),
        Needs::Manage(ok) => (true, false, ok),
        Needs::Administer(ok) => (true, true, ok),
    };
    match who {
        Who::Anonymous => StatusCode::UNAUTHORIZED,
        Who::ViewerWithoutGrant | Who::OtherOperator => StatusCode::NOT_FOUND,
        Who::ViewerWithGrant if manage => StatusCode::FORBIDDEN,
        Who::OperatorOwner | Who::OwnersApiKey if admin => StatusCode::FORBIDDEN,
        _ => ok,
    }
}

#[tokio::test]
async fn every_server_endpoint_answers_each_caller_as_it_should() {
    let app = TestApp::new().await;
    let (owner, owner_token) = app.user("owner", Role::Operator).await;
    let (_, other_token) = app.user("other", Role::Operator).await;
    let (_, lone_viewer) = app.user("lone-viewer", Role::Viewer).await;
    let (granted, granted_token) = app.user("granted-viewer", Role::Viewer).await;
    let (_, owner_key) = app.api_key(&owner_token, None).await;

    // Each case gets a fresh server, so deleting or acting on one cannot affect the next.
    // A generic server's settings choose what runs: an administrator makes it and hands it
    // to the operator who owns it.
    let new_server = || async {
        let answer = app
            .admin(
                Method::POST,
                "/api/v1/servers",
                Some(json!({
                    "name": "m",
                    "adapter": "generic",
                    "settings": {"executable": "/bin/sleep", "args": ["30"]},
                })),
            )
            .await
            .expect(StatusCode::CREATED)
            .json();
        let id = answer["id"].as_i64().expect("id");
        let (user, owner) = (granted.id, owner.id);
        app.store
            .call(move |c| {
                c.execute(
                    "UPDATE servers SET owner_id = ?1 WHERE id = ?2",
                    rusqlite::params![owner, id],
                )?;
                grants::put(c, user, id, GrantRole::Viewer)
            })
            .await
            .expect("owner and grant");
        id
    };
    let credential = |who: Who| -> Option<&str> {
        match who {
            Who::Anonymous => None,
            Who::ViewerWithoutGrant => Some(&lone_viewer),
            Who::ViewerWithGrant => Some(&granted_token),
            Who::OperatorOwner => Some(&owner_token),
            Who::OtherOperator => Some(&other_token),
            Who::Admin => Some(&app.admin_token),
            Who::OwnersApiKey => Some(&owner_key),
        }
    };
    let conflict = StatusCode::CONFLICT;
    let table: Vec<(Method, &str, Option<Value>, Needs)> = vec![
        (Method::GET, "", None, Needs::View(StatusCode::OK)),
        (
            Method::PATCH,
            "",
            Some(json!({"name": "n"})),
            Needs::Manage(StatusCode::OK),
        ),
        (
            Method::DELETE,
            "",
            None,
            Needs::Manage(StatusCode::ACCEPTED),
        ),
        (Method::GET, "/config", None, Needs::View(StatusCode::OK)),
        (
            Method::PUT,
            "/config",
            Some(json!({"settings": {"executable": "/bin/true"}})),
            Needs::Administer(StatusCode::OK),
        ),
        (
            Method::POST,
            "/actions/kill",
            None,
            Needs::Manage(StatusCode::ACCEPTED),
        ),
        (Method::GET, "/players", None, Needs::View(StatusCode::OK)),
        (
            Method::GET,
            "/players/history",
            None,
            Needs::View(StatusCode::OK),
        ),
        (
            Method::POST,
            "/players/nobody/kick",
            Some(json!({})),
            Needs::Manage(StatusCode::NOT_FOUND),
        ),
        (
            Method::POST,
            "/players/nobody/ban",
            Some(json!({})),
            Needs::Manage(StatusCode::NOT_FOUND),
        ),
        (Method::GET, "/bans", None, Needs::View(conflict)),
        (
            Method::POST,
            "/bans",
            Some(json!({"identity": "abc"})),
            Needs::Manage(conflict),
        ),
        (Method::DELETE, "/bans/1", None, Needs::Manage(conflict)),
        (
            Method::POST,
            "/console",
            Some(json!({"command": "status"})),
            Needs::Manage(conflict),
        ),
        (Method::GET, "/logs", None, Needs::View(StatusCode::OK)),
        // An event stream that never ends: only its status is read.
        (
            Method::GET,
            "/logs/stream",
            None,
            Needs::View(StatusCode::OK),
        ),
        (Method::GET, "/metrics", None, Needs::View(StatusCode::OK)),
        (Method::GET, "/events", None, Needs::View(StatusCode::OK)),
        // The generic adapter has neither missions nor mods: allowed callers get the 409.
        (Method::GET, "/missions", None, Needs::View(conflict)),
        (
            Method::PUT,
            "/missions/files/a.bin",
            Some(json!({})),
            Needs::Manage(conflict),
        ),
        (
            Method::DELETE,
            "/missions/files/a.bin",
            None,
            Needs::Manage(conflict),
        ),
        (
            Method::PUT,
            "/missions/rotation",
            Some(json!({"rows": []})),
            Needs::Manage(conflict),
        ),
        (Method::GET, "/mods", None, Needs::View(conflict)),
        (
            Method::PUT,
            "/mods/enabled",
            Some(json!({"mods": []})),
            Needs::Manage(conflict),
        ),
        (
            Method::POST,
            "/mods/x/enable",
            None,
            Needs::Manage(conflict),
        ),
        (
            Method::POST,
            "/mods/x/disable",
            None,
            Needs::Manage(conflict),
        ),
        (
            Method::PUT,
            "/mods/workshop",
            Some(json!({"items": []})),
            Needs::Manage(conflict),
        ),
    ];
    for (method, suffix, body, needs) in table {
        for who in EVERYONE {
            let id = new_server().await;
            let path = format!("/api/v1/servers/{id}{suffix}");
            let mut call = Call::new(method.clone(), &path);
            if let Some(credential) = credential(who) {
                call = call.bearer(credential);
            }
            if let Some(body) = &body {
                call = call.json(body);
            }
            if suffix.ends_with("/stream") {
                let status = app.status_of(call).await;
                assert_eq!(status, expected(who, needs), "{method} {path} as {who:?}");
                continue;
            }
            let answer = app.send(call).await;
            assert_eq!(
                answer.status,
                expected(who, needs),
                "{method} {path} as {who:?}: {}",
                String::from_utf8_lossy(&answer.body)
            );
        }
    }

    // The list shows each caller what they may see; creating needs the operator role.
    for (who, sees) in [
        (Who::ViewerWithoutGrant, false),
        (Who::ViewerWithGrant, true),
        (Who::OperatorOwner, true),
        (Who::OtherOperator, false),
        (Who::Admin, true),
        (Who::OwnersApiKey, true),
    ] {
        let list = app
            .get("/api/v1/servers", credential(who))
            .await
            .expect(StatusCode::OK)
            .json();
        let count = list["items"].as_array().map_or(0, Vec::len);
        assert_eq!(count > 0, sees, "{who:?} sees {count} servers");
    }
    app.get("/api/v1/servers", None)
        .await
        .expect_problem(StatusCode::UNAUTHORIZED);
}
