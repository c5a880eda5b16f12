//! Who may decide what a server runs: settings that make a server launch a program outside
//! its game's install are an administrator's to choose, for built-in and drop-in adapters
//! alike; operators still run the servers they are given.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use super::{Call, TestApp};
use crate::store::Role;
use crate::store::grants::{self, GrantRole};

/// Every kind of caller with their credential (`None`: anonymous).
async fn callers(app: &TestApp) -> Vec<(&'static str, Option<String>, bool)> {
    let (_, operator) = app.user("operator", Role::Operator).await;
    let (_, viewer) = app.user("viewer", Role::Viewer).await;
    let (_, operator_key) = app.api_key(&operator, None).await;
    let (_, admin_key) = app.api_key(&app.admin_token, None).await;
    vec![
        ("anonymous", None, false),
        ("viewer", Some(viewer), false),
        ("operator", Some(operator), false),
        ("operator's API key", Some(operator_key), false),
        ("administrator", Some(app.admin_token.clone()), true),
        ("administrator's API key", Some(admin_key), true),
    ]
}

async fn create(
    app: &TestApp,
    credential: Option<&str>,
    adapter: &str,
    settings: Value,
) -> StatusCode {
    let mut call = Call::new(Method::POST, "/api/v1/servers")
        .json(&json!({"name": "t", "adapter": adapter, "settings": settings}));
    if let Some(credential) = credential {
        call = call.bearer(credential);
    }
    app.send(call).await.status
}

#[tokio::test]
async fn only_administrators_create_servers_whose_settings_choose_the_program() {
    let app = TestApp::new().await;
    // (adapter, settings, whether the program lies outside the game's install)
    let cases = [
        (
            "generic",
            json!({"executable": "/bin/sh", "args": ["-c", "id"]}),
            true,
        ),
        (
            "generic",
            json!({"executable": "sleep", "args": ["30"]}),
            false,
        ),
        // A drop-in adapter: the same rule, judged on what its plan would run.
        ("fixture-content", json!({}), false),
        ("fixture-content", json!({"program": "/bin/sh"}), true),
        (
            "fixture-content",
            json!({"program": "../../../bin/sh"}),
            true,
        ),
    ];
    for (who, credential, admin) in callers(&app).await {
        for (adapter, settings, outside) in &cases {
            let status = create(&app, credential.as_deref(), adapter, settings.clone()).await;
            let expected = match (credential.is_some(), who) {
                (false, _) => StatusCode::UNAUTHORIZED,
                (true, "viewer") => StatusCode::FORBIDDEN,
                _ if *outside && !admin => StatusCode::FORBIDDEN,
                _ => StatusCode::CREATED,
            };
            assert_eq!(status, expected, "{who} creating {adapter} with {settings}");
        }
    }
    // The refusal says why, naming the program.
    let (_, operator) = app.user("someone", Role::Operator).await;
    let problem = app
        .send(
            Call::new(Method::POST, "/api/v1/servers")
                .bearer(&operator)
                .json(&json!({"name": "x", "adapter": "generic",
                              "settings": {"executable": "/usr/bin/python3"}})),
        )
        .await
        .expect_problem(StatusCode::FORBIDDEN);
    let detail = problem["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains("/usr/bin/python3") && detail.contains("administrator"),
        "{detail}"
    );
}

#[tokio::test]
async fn operators_run_but_do_not_reconfigure_what_an_administrator_chose() {
    let app = TestApp::idle().await;
    let (operator, token) = app.user("operator", Role::Operator).await;
    let generic = app
        .admin(
            Method::POST,
            "/api/v1/servers",
            Some(json!({"name": "g", "adapter": "generic",
                        "settings": {"executable": "/bin/sleep", "args": ["30"]}})),
        )
        .await
        .expect(StatusCode::CREATED)
        .json()["id"]
        .as_i64()
        .expect("id");
    let (user, id) = (operator.id, generic);
    app.store
        .call(move |c| grants::put(c, user, id, GrantRole::Operator))
        .await
        .expect("grant");
    let path = format!("/api/v1/servers/{generic}");
    let put_config = |settings: Value, credential: String| {
        Call::new(Method::PUT, &format!("{path}/config"))
            .bearer(&credential)
            .json(&json!({ "settings": settings }))
    };

    // Starting, stopping and renaming are the operator's; the settings are not, not even
    // ones that would run a harmless program.
    for action in ["start", "stop", "restart", "kill"] {
        app.send(Call::new(Method::POST, &format!("{path}/actions/{action}")).bearer(&token))
            .await
            .expect(StatusCode::ACCEPTED);
    }
    app.send(
        Call::new(Method::PATCH, &path)
            .bearer(&token)
            .json(&json!({"name": "renamed"})),
    )
    .await
    .expect(StatusCode::OK);
    app.send(put_config(json!({"executable": "/bin/sh"}), token.clone()))
        .await
        .expect_problem(StatusCode::FORBIDDEN);
    let config = app
        .get(&format!("{path}/config"), Some(&token))
        .await
        .json();
    assert_eq!(
        config["settings"]["executable"], "/bin/sleep",
        "nothing was changed"
    );
    app.send(put_config(
        json!({"executable": "/bin/true"}),
        app.admin_token.clone(),
    ))
    .await
    .expect(StatusCode::OK);

    // On a drop-in game that runs from its install the operator configures freely, until
    // the settings would run something else.
    let own = app
        .send(
            Call::new(Method::POST, "/api/v1/servers")
                .bearer(&token)
                .json(&json!({"name": "c", "adapter": "fixture-content"})),
        )
        .await
        .expect(StatusCode::CREATED)
        .json()["id"]
        .as_i64()
        .expect("id");
    let own_config = format!("/api/v1/servers/{own}/config");
    let put = |settings: Value| {
        Call::new(Method::PUT, &own_config)
            .bearer(&token)
            .json(&json!({ "settings": settings }))
    };
    app.send(put(json!({"program": "bin/other-mode"})))
        .await
        .expect(StatusCode::OK);
    app.send(put(json!({"program": "/bin/sh"})))
        .await
        .expect_problem(StatusCode::FORBIDDEN);
    let config = app.get(&own_config, Some(&token)).await.json();
    assert_eq!(config["settings"]["program"], "bin/other-mode");
}
