//! Bans through the API on a server whose adapter can ban but which has no console up: the
//! host keeps them, says they reach the game at its next connection, lists and lifts them,
//! checks them with the adapter first, and records who gave them. (Pushing to a running game
//! is tested end to end with the simulators in `tests/`.)

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use super::TestApp;
use crate::store::players::{self, Change, OnlinePlayer};
use crate::store::{NewServer, Role, servers};

/// A stopped server of the fixture adapter that bans without a game.
async fn banning_server(app: &TestApp, owner: Option<i64>) -> i64 {
    let mut new = NewServer::new("b", "fixture-bans", json!({}));
    new.owner_id = owner;
    app.store
        .call(move |conn| servers::insert(conn, &new))
        .await
        .expect("insert server")
        .id
}

async fn list(app: &TestApp, base: &str) -> Value {
    app.admin(Method::GET, &format!("{base}/bans"), None)
        .await
        .expect(StatusCode::OK)
        .json()
}

#[tokio::test]
async fn a_ban_on_a_stopped_server_is_kept_listed_replaced_and_lifted() {
    let app = TestApp::new().await;
    let id = banning_server(&app, None).await;
    let base = format!("/api/v1/servers/{id}");

    let answer = app
        .admin(
            Method::POST,
            &format!("{base}/bans"),
            Some(json!({"identity": " abc123 ", "minutes": 60, "reason": "griefing"})),
        )
        .await
        .expect(StatusCode::CREATED)
        .json();
    assert_eq!(answer["pushed"], "at_next_connection", "{answer}");
    let ban = &answer["ban"];
    assert_eq!(ban["source"], "garrison");
    assert_eq!(ban["identity"], "abc123");
    assert_eq!(ban["reason"], "griefing");
    assert_eq!(ban["minutes_left"], 60);
    assert_eq!(ban["user_id"], app.admin.id);
    assert_eq!(ban["pushed"], false);
    assert_eq!(ban["in_game"], Value::Null);
    let ban_id = ban["id"].as_str().expect("id").to_string();

    let listed = list(&app, &base).await;
    assert_eq!(listed["game_list_read"], false);
    let items = listed["items"].as_array().expect("items");
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], ban_id.as_str());
    assert_eq!(items[0]["in_game"], Value::Null);

    // The same identity again, in another case: the ban is replaced, now permanent.
    let again = app
        .admin(
            Method::POST,
            &format!("{base}/bans"),
            Some(json!({"identity": "ABC123"})),
        )
        .await
        .expect(StatusCode::CREATED)
        .json();
    assert_eq!(again["ban"]["id"], ban_id.as_str());
    assert_eq!(again["ban"]["minutes_left"], Value::Null);
    assert_eq!(
        list(&app, &base).await["items"].as_array().map(Vec::len),
        Some(1)
    );

    let lifted = app
        .admin(Method::DELETE, &format!("{base}/bans/{ban_id}"), None)
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(lifted["pushed"], "at_next_connection", "{lifted}");
    assert_eq!(lifted["ban"]["identity"], "abc123");
    assert_eq!(list(&app, &base).await["items"], json!([]));
    app.admin(Method::DELETE, &format!("{base}/bans/{ban_id}"), None)
        .await
        .expect_problem(StatusCode::NOT_FOUND);
    for bad in ["nonsense", "0", "game:"] {
        app.admin(Method::DELETE, &format!("{base}/bans/{bad}"), None)
            .await
            .expect_problem(StatusCode::NOT_FOUND);
    }
    // A game-only entry can only be lifted through a console that is up.
    app.admin(Method::DELETE, &format!("{base}/bans/game:1"), None)
        .await
        .expect_problem(StatusCode::CONFLICT);
}

#[tokio::test]
async fn a_ban_is_checked_before_it_is_kept() {
    let app = TestApp::new().await;
    let id = banning_server(&app, None).await;
    let base = format!("/api/v1/servers/{id}");
    let path = format!("{base}/bans");
    let post = |body: Value| app.admin(Method::POST, &path, Some(body));

    // The adapter refuses what its game could not ban.
    post(json!({"identity": "not/an/id"}))
        .await
        .expect_problem(StatusCode::BAD_REQUEST);
    for body in [
        json!({"identity": ""}),
        json!({"identity": "x".repeat(101)}),
        json!({"identity": "abc", "reason": "two\nlines"}),
        json!({"identity": "abc", "minutes": 4_000_000_000u32}),
    ] {
        post(body)
            .await
            .expect_problem(StatusCode::UNPROCESSABLE_ENTITY);
    }
    post(json!({"identity": "abc", "extra": 1}))
        .await
        .expect_problem(StatusCode::BAD_REQUEST);
    assert_eq!(list(&app, &base).await["items"], json!([]), "nothing kept");

    // 0 minutes is permanent.
    let answer = post(json!({"identity": "abc", "minutes": 0}))
        .await
        .expect(StatusCode::CREATED)
        .json();
    assert_eq!(answer["ban"]["minutes_left"], Value::Null);
}

#[tokio::test]
async fn an_online_player_is_banned_by_their_identity_and_the_caller_is_recorded() {
    let app = TestApp::new().await;
    let (operator, token) = app.user("op", Role::Operator).await;
    let (key_id, key) = app.api_key(&token, None).await;
    let id = banning_server(&app, Some(operator.id)).await;
    let base = format!("/api/v1/servers/{id}");
    let player = OnlinePlayer {
        key: "id:u77".into(),
        slot: "4".into(),
        name: "Miller".into(),
        unique_id: Some("u77".into()),
        address: Some("192.0.2.7:2304".into()),
        ping_ms: None,
        joined_at: String::new(),
    };
    app.store
        .call(move |conn| {
            players::apply(
                conn,
                id,
                &Change {
                    joined: vec![player],
                    ..Change::default()
                },
            )
        })
        .await
        .expect("online");

    let answer = app
        .send(
            super::Call::new(Method::POST, &format!("{base}/players/4/ban"))
                .bearer(&key)
                .json(&json!({"reason": "cheating", "minutes": 30})),
        )
        .await
        .expect(StatusCode::CREATED)
        .json();
    let ban = &answer["ban"];
    assert_eq!(ban["identity"], "u77");
    assert_eq!(ban["player_name"], "Miller");
    assert_eq!(ban["user_id"], operator.id);
    assert_eq!(ban["api_key_id"], key_id);
    assert_eq!(answer["pushed"], "at_next_connection");

    app.admin(
        Method::POST,
        &format!("{base}/players/nobody/ban"),
        Some(json!({})),
    )
    .await
    .expect_problem(StatusCode::NOT_FOUND);

    // One audit row per call, refused ones included.
    let audit = app
        .get("/api/v1/audit?limit=500", Some(&app.admin_token))
        .await
        .json();
    let bans = audit["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|r| {
            r["action"].as_str().is_some_and(|a| {
                a.starts_with("POST /api/v1/servers/")
                    && a.contains("/players/")
                    && a.ends_with("/ban")
            })
        })
        .count();
    assert_eq!(bans, 2, "{audit}");
}

/// Issue 16: with RCon the list says who is on, and a log event fills in what it lacks — so
/// an online player whose identity only the log reported can be banned by it.
#[tokio::test]
async fn an_online_player_identified_only_by_the_log_is_banned_by_that_identity() {
    use crate::adapters::model::{GameEvent, PlayerRef};

    let app = TestApp::new().await;
    let id = banning_server(&app, None).await;
    let base = format!("/api/v1/servers/{id}");
    // Listed by the game's console with neither an identity nor an address.
    let listed = OnlinePlayer {
        key: "slot:4:Miller".into(),
        slot: "4".into(),
        name: "Miller".into(),
        unique_id: None,
        address: None,
        ping_ms: Some(40),
        joined_at: String::new(),
    };
    app.store
        .call(move |conn| {
            players::apply(
                conn,
                id,
                &Change {
                    joined: vec![listed],
                    ..Change::default()
                },
            )
        })
        .await
        .expect("online");
    let ban = || async {
        app.admin(
            Method::POST,
            &format!("{base}/players/4/ban"),
            Some(json!({"reason": "cheating"})),
        )
        .await
    };
    ban().await.expect_problem(StatusCode::CONFLICT);

    // The log identifies the player (by slot); their address comes with it.
    crate::telemetry::players::note_as_with_rcon(
        id,
        app.store.clone(),
        app.servers.events().clone(),
        vec![GameEvent::PlayerIdentified {
            player: PlayerRef {
                slot: Some("4".into()),
                name: "Miller".into(),
                unique_id: None,
                address: Some("192.0.2.7:2304".into()),
            },
            kind: "uuid".into(),
            value: "u78".into(),
            verified: Some(true),
        }],
    )
    .await;
    let answer = ban().await.expect(StatusCode::CREATED).json();
    assert_eq!(answer["ban"]["identity"], "u78", "{answer}");
    assert_eq!(answer["ban"]["player_name"], "Miller", "{answer}");
}
