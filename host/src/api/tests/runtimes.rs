//! `/adapters/{id}/runtime`: a game's shared install — its state for every signed-in role,
//! installing and updating it as an administrator, one such job at a time, and its job seen
//! (listed, read, its log followed) by administrators only.

use std::time::Duration;

use axum::http::{Method, StatusCode, header};
use serde_json::Value;

use super::{Call, TestApp};
use crate::store::{JobKind, LogStream, NewJob, Role, jobs};

fn post(path: &str, token: &str) -> Call {
    Call::new(Method::POST, path).bearer(token)
}

/// Waits (bounded) until job `id` has finished; returns it as the administrator reads it.
async fn finished(app: &TestApp, id: i64) -> Value {
    let limit = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let job = app
            .get(&format!("/api/v1/jobs/{id}"), Some(&app.admin_token))
            .await
            .json();
        if ["succeeded", "failed", "cancelled"].contains(&job["state"].as_str().unwrap_or("")) {
            return job;
        }
        assert!(
            tokio::time::Instant::now() < limit,
            "job {id} never finished: {job}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn only_administrators_queue_runtime_jobs_and_one_at_a_time() {
    // No workers: queued jobs stay queued.
    let app = TestApp::idle().await;
    let (_, viewer) = app.user("vic", Role::Viewer).await;
    let (_, operator) = app.user("olga", Role::Operator).await;
    let install = "/api/v1/adapters/generic/runtime/install";
    let update = "/api/v1/adapters/generic/runtime/update";

    for token in [&viewer, &operator] {
        for path in [install, update] {
            app.send(post(path, token))
                .await
                .expect_problem(StatusCode::FORBIDDEN);
        }
    }
    app.send(Call::new(Method::POST, install))
        .await
        .expect_problem(StatusCode::UNAUTHORIZED);
    app.send(post(
        "/api/v1/adapters/no-such-game/runtime/install",
        &app.admin_token,
    ))
    .await
    .expect_problem(StatusCode::NOT_FOUND);

    let queued = app.send(post(install, &app.admin_token)).await;
    queued.expect(StatusCode::ACCEPTED);
    let job = queued.json();
    assert_eq!(job["kind"], "install");
    assert_eq!(job["state"], "queued");
    assert_eq!(job["runtime_adapter"], "generic");
    assert_eq!(job["server_id"], Value::Null);
    assert_eq!(job["requested_by"], "admin");
    let id = job["id"].as_i64().expect("id");

    // While it waits, neither another install nor an update of the same runtime is queued.
    for path in [install, update] {
        let problem = app
            .send(post(path, &app.admin_token))
            .await
            .expect_problem(StatusCode::CONFLICT);
        let detail = problem["detail"].as_str().unwrap_or_default();
        assert!(detail.contains(&format!("job {id}")), "{detail}");
    }
    // Another game's runtime is another matter.
    app.send(post(
        "/api/v1/adapters/fixture-bans/runtime/update",
        &app.admin_token,
    ))
    .await
    .expect(StatusCode::ACCEPTED);

    // Once it is cancelled, an update may be queued.
    app.send(post(&format!("/api/v1/jobs/{id}/cancel"), &app.admin_token))
        .await
        .expect(StatusCode::OK);
    let again = app.send(post(update, &app.admin_token)).await;
    again.expect(StatusCode::ACCEPTED);
    assert_eq!(again.json()["kind"], "update");
}

#[tokio::test]
async fn the_runtime_state_is_for_everyone_and_its_job_for_administrators() {
    let app = TestApp::idle().await;
    let (_, viewer) = app.user("vic", Role::Viewer).await;
    let (_, operator) = app.user("olga", Role::Operator).await;
    let path = "/api/v1/adapters/generic/runtime";

    let fresh = app.get(path, Some(&app.admin_token)).await;
    fresh.expect(StatusCode::OK);
    let fresh = fresh.json();
    assert_eq!(fresh["adapter_id"], "generic");
    assert_eq!(fresh["installed"], false);
    assert_eq!(fresh["build_id"], Value::Null);
    assert_eq!(fresh["updated_at"], Value::Null);
    assert_eq!(fresh["job"], Value::Null);
    app.get("/api/v1/adapters/no-such-game/runtime", Some(&viewer))
        .await
        .expect_problem(StatusCode::NOT_FOUND);
    app.get(path, None)
        .await
        .expect_problem(StatusCode::UNAUTHORIZED);

    // An install recorded, then a newer job queued: the state shows both.
    let job = app
        .send(post(&format!("{path}/update"), &app.admin_token))
        .await
        .json();
    let id = job["id"].as_i64().expect("id");
    app.store
        .call(|conn| crate::store::runtimes::record(conn, "generic", 1, Some(1000), Some("42")))
        .await
        .expect("record");
    let admin_view = app.get(path, Some(&app.admin_token)).await.json();
    assert_eq!(admin_view["installed"], true);
    assert_eq!(admin_view["app_id"], 1000);
    assert_eq!(admin_view["build_id"], "42");
    assert!(admin_view["updated_at"].is_string(), "{admin_view}");
    assert_eq!(admin_view["job"]["id"], id);
    assert_eq!(admin_view["job"]["state"], "queued");
    for token in [&viewer, &operator] {
        let view = app.get(path, Some(token)).await;
        view.expect(StatusCode::OK);
        let view = view.json();
        assert_eq!(view["installed"], true);
        assert_eq!(view["build_id"], "42");
        assert_eq!(
            view["job"],
            Value::Null,
            "runtime jobs are administrators' work"
        );
    }
}

#[tokio::test]
async fn a_runtime_job_is_listed_read_and_followed_by_administrators_only() {
    let app = TestApp::idle().await;
    let (alice, operator) = app.user("alice", Role::Operator).await;
    let (_, viewer) = app.user("vic", Role::Viewer).await;
    let hers = app.server(Some(alice.id)).await;
    let on_server = app
        .store
        .call(move |conn| jobs::enqueue(conn, &NewJob::for_server(hers, JobKind::Start, "alice")))
        .await
        .expect("enqueue")
        .id;
    let runtime = app
        .send(post(
            "/api/v1/adapters/generic/runtime/install",
            &app.admin_token,
        ))
        .await
        .json()["id"]
        .as_i64()
        .expect("id");
    app.store
        .call(move |conn| {
            jobs::append_logs(
                conn,
                runtime,
                &[(LogStream::System, "installing the runtime")],
            )
        })
        .await
        .expect("append");

    let ids = |page: Value| -> Vec<i64> {
        page["items"]
            .as_array()
            .expect("items")
            .iter()
            .filter_map(|j| j["id"].as_i64())
            .collect()
    };
    let all = app.get("/api/v1/jobs", Some(&app.admin_token)).await.json();
    assert_eq!(ids(all), [runtime, on_server]);
    let admin_job = app
        .get(&format!("/api/v1/jobs/{runtime}"), Some(&app.admin_token))
        .await;
    admin_job.expect(StatusCode::OK);
    assert_eq!(admin_job.json()["runtime_adapter"], "generic");
    let admin_log = app
        .get(
            &format!("/api/v1/jobs/{runtime}/logs"),
            Some(&app.admin_token),
        )
        .await;
    admin_log.expect(StatusCode::OK);
    assert_eq!(
        admin_log.json()["items"][0]["line"],
        "installing the runtime"
    );
    let stream = Call::new(Method::GET, &format!("/api/v1/jobs/{runtime}/logs"))
        .bearer(&app.admin_token)
        .header(header::ACCEPT.as_str(), "text/event-stream");
    assert_eq!(app.status_of(stream).await, StatusCode::OK);

    for token in [&operator, &viewer] {
        let listed = app.get("/api/v1/jobs", Some(token)).await.json();
        assert!(!ids(listed).contains(&runtime));
        app.get(&format!("/api/v1/jobs/{runtime}"), Some(token))
            .await
            .expect_problem(StatusCode::NOT_FOUND);
        app.get(&format!("/api/v1/jobs/{runtime}/logs"), Some(token))
            .await
            .expect_problem(StatusCode::NOT_FOUND);
        let stream = Call::new(Method::GET, &format!("/api/v1/jobs/{runtime}/logs"))
            .bearer(token)
            .header(header::ACCEPT.as_str(), "text/event-stream");
        assert_eq!(app.status_of(stream).await, StatusCode::NOT_FOUND);
        app.send(post(&format!("/api/v1/jobs/{runtime}/cancel"), token))
            .await
            .expect_problem(StatusCode::NOT_FOUND);
    }
    // The operator still sees the job on her own server.
    let hers = app.get("/api/v1/jobs", Some(&operator)).await.json();
    assert_eq!(ids(hers), [on_server]);
}

#[tokio::test]
async fn a_runtime_install_runs_and_a_game_installed_by_hand_is_not_called_installed() {
    let app = TestApp::new().await;
    let job = app
        .send(post(
            "/api/v1/adapters/generic/runtime/install",
            &app.admin_token,
        ))
        .await
        .json();
    let id = job["id"].as_i64().expect("id");
    let done = finished(&app, id).await;
    assert_eq!(done["state"], "succeeded", "{done}");
    let log = app
        .get(
            &format!("/api/v1/jobs/{id}/logs?limit=500"),
            Some(&app.admin_token),
        )
        .await
        .json();
    let lines: Vec<&str> = log["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|l| l["line"].as_str())
        .collect();
    assert!(
        lines.iter().any(|l| l.contains("installed by hand")),
        "{lines:?}"
    );
    let state = app
        .get("/api/v1/adapters/generic/runtime", Some(&app.admin_token))
        .await
        .json();
    assert_eq!(state["installed"], false, "{state}");
    assert_eq!(state["job"]["id"], id);
    assert_eq!(state["job"]["state"], "succeeded");
}
