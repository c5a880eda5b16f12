//! `/jobs`: listing with visibility and filters, one job, cancelling, and a job's output as
//! a JSON page or a server-sent event stream.

use axum::http::{Method, StatusCode, header};
use futures_util::StreamExt;
use serde_json::Value;

use super::{Call, TestApp};
use crate::events::{Event, EventKind};
use crate::store::{JobKind, JobOutcome, LogStream, NewJob, Role, jobs};

/// A queued job on `server_id`, straight into the store (nobody wakes the workers).
async fn queued(app: &TestApp, new: NewJob) -> i64 {
    app.store
        .call(move |conn| jobs::enqueue(conn, &new))
        .await
        .expect("enqueue")
        .id
}

/// Marks the oldest runnable job running, as a worker would; returns it.
async fn claim(app: &TestApp) -> i64 {
    app.store
        .call(jobs::claim_next)
        .await
        .expect("claim")
        .expect("a runnable job")
        .id
}

async fn append(app: &TestApp, job_id: i64, lines: &[&str]) {
    let lines: Vec<(LogStream, String)> = lines
        .iter()
        .map(|l| (LogStream::Stdout, (*l).to_owned()))
        .collect();
    app.store
        .call(move |conn| jobs::append_logs(conn, job_id, &lines))
        .await
        .expect("append");
}

fn ids(page: &Value) -> Vec<i64> {
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|j| j["id"].as_i64().expect("id"))
        .collect()
}

#[tokio::test]
async fn a_user_lists_only_jobs_of_servers_they_may_see_and_admins_see_all() {
    let app = TestApp::idle().await;
    let (alice, alice_token) = app.user("alice", Role::Operator).await;
    let hers = app.server(Some(alice.id)).await;
    let other = app.server(None).await;
    // Two jobs on her server (the second waits behind the first, which runs), one elsewhere,
    // one on a runtime.
    let first = queued(&app, NewJob::for_server(hers, JobKind::Install, "alice")).await;
    assert_eq!(claim(&app).await, first);
    let second = queued(&app, NewJob::for_server(hers, JobKind::Start, "alice")).await;
    let foreign = queued(&app, NewJob::for_server(other, JobKind::Start, "admin")).await;
    let runtime = queued(
        &app,
        NewJob::for_runtime("generic", JobKind::Install, "admin"),
    )
    .await;

    // Hers only: neither the job on a server she may not see nor the runtime's.
    let page = app.get("/api/v1/jobs", Some(&alice_token)).await;
    page.expect(StatusCode::OK);
    assert_eq!(ids(&page.json()), [second, first]);

    let running = app
        .get("/api/v1/jobs?state=running", Some(&alice_token))
        .await;
    assert_eq!(ids(&running.json()), [first]);

    // An administrator sees every job, the runtime's included, newest first, across pages.
    let first_page = app
        .get("/api/v1/jobs?limit=2", Some(&app.admin_token))
        .await;
    let first_page = first_page.json();
    assert_eq!(ids(&first_page), [runtime, foreign], "{first_page}");
    let cursor = first_page["next_cursor"].as_str().expect("a second page");
    let second_page = app
        .get(
            &format!("/api/v1/jobs?limit=2&cursor={cursor}"),
            Some(&app.admin_token),
        )
        .await;
    let second_page = second_page.json();
    assert_eq!(ids(&second_page), [second, first], "{second_page}");
    assert_eq!(second_page["next_cursor"], Value::Null, "{second_page}");
    let runtime_job = app
        .get(&format!("/api/v1/jobs/{runtime}"), Some(&app.admin_token))
        .await;
    runtime_job.expect(StatusCode::OK);
    assert_eq!(runtime_job.json()["runtime_adapter"], "generic");

    let on_other = app
        .get(
            &format!("/api/v1/jobs?server_id={other}"),
            Some(&alice_token),
        )
        .await;
    on_other.expect_problem(StatusCode::NOT_FOUND);
    let foreign_job = app
        .get(&format!("/api/v1/jobs/{foreign}"), Some(&alice_token))
        .await;
    foreign_job.expect_problem(StatusCode::NOT_FOUND);
    let runtime_job = app
        .get(&format!("/api/v1/jobs/{runtime}"), Some(&alice_token))
        .await;
    runtime_job.expect_problem(StatusCode::NOT_FOUND);
    let own = app
        .get(&format!("/api/v1/jobs/{second}"), Some(&alice_token))
        .await;
    own.expect(StatusCode::OK);
    assert_eq!(own.json()["state"], "queued");
}

#[tokio::test]
async fn cancelling_needs_manage_access_and_a_finished_job_is_a_conflict() {
    let app = TestApp::idle().await;
    let (viewer, viewer_token) = app.user("vic", Role::Viewer).await;
    let server = app.server(None).await;
    let user_id = viewer.id;
    app.store
        .call(move |conn| {
            crate::store::grants::put(
                conn,
                user_id,
                server,
                crate::store::grants::GrantRole::Viewer,
            )
        })
        .await
        .expect("grant");
    let running = queued(&app, NewJob::for_server(server, JobKind::Install, "admin")).await;
    assert_eq!(claim(&app).await, running);
    let waiting = queued(&app, NewJob::for_server(server, JobKind::Start, "admin")).await;

    let refused = app
        .send(
            Call::new(Method::POST, &format!("/api/v1/jobs/{waiting}/cancel"))
                .bearer(&viewer_token),
        )
        .await;
    refused.expect_problem(StatusCode::FORBIDDEN);

    let cancelled = app
        .admin(
            Method::POST,
            &format!("/api/v1/jobs/{waiting}/cancel"),
            None,
        )
        .await;
    cancelled.expect(StatusCode::OK);
    assert_eq!(cancelled.json()["state"], "cancelled");

    let requested = app
        .admin(
            Method::POST,
            &format!("/api/v1/jobs/{running}/cancel"),
            None,
        )
        .await;
    requested.expect(StatusCode::OK);
    assert_eq!(requested.json()["state"], "running");
    assert_eq!(requested.json()["cancel_requested"], true);

    let again = app
        .admin(
            Method::POST,
            &format!("/api/v1/jobs/{waiting}/cancel"),
            None,
        )
        .await;
    again.expect_problem(StatusCode::CONFLICT);
}

#[tokio::test]
async fn job_logs_as_json_are_paged_by_seq() {
    let app = TestApp::idle().await;
    let server = app.server(None).await;
    let job = queued(&app, NewJob::for_server(server, JobKind::Install, "admin")).await;
    append(&app, job, &["one", "two", "three"]).await;
    let page = app
        .get(
            &format!("/api/v1/jobs/{job}/logs?after=1&limit=1"),
            Some(&app.admin_token),
        )
        .await;
    page.expect(StatusCode::OK);
    let page = page.json();
    assert_eq!(page["items"][0]["line"], "two");
    assert_eq!(page["items"][0]["seq"], 2);
    assert_eq!(page["next_after"], 2);
}

/// The `(id, data)` of each `line` event and whether an `end` event came, from SSE text.
fn parse_sse(text: &str) -> (Vec<(i64, Value)>, bool) {
    let mut lines = Vec::new();
    let mut ended = false;
    for block in text.split("\n\n") {
        let field = |name: &str| {
            block
                .lines()
                .find_map(|l| l.strip_prefix(name).map(str::trim))
        };
        match field("event:") {
            Some("line") => lines.push((
                field("id:").and_then(|id| id.parse().ok()).expect("id"),
                serde_json::from_str(field("data:").expect("data")).expect("json"),
            )),
            Some("end") => ended = true,
            _ => {}
        }
    }
    (lines, ended)
}

#[tokio::test]
async fn a_finished_jobs_event_stream_resumes_after_last_event_id_and_ends() {
    let app = TestApp::idle().await;
    let server = app.server(None).await;
    let job = queued(&app, NewJob::for_server(server, JobKind::Install, "admin")).await;
    assert_eq!(claim(&app).await, job);
    append(&app, job, &["one", "two", "three", "four"]).await;
    app.store
        .call(move |conn| jobs::finish(conn, job, &JobOutcome::Succeeded { exit_code: Some(0) }))
        .await
        .expect("finish");

    let mut call =
        Call::new(Method::GET, &format!("/api/v1/jobs/{job}/logs")).bearer(&app.admin_token);
    call.request
        .headers_mut()
        .insert(header::ACCEPT, "text/event-stream".parse().expect("header"));
    call.request
        .headers_mut()
        .insert("last-event-id", "2".parse().expect("header"));
    let answer = app.send(call).await;
    answer.expect(StatusCode::OK);
    assert!(
        answer
            .header(header::CONTENT_TYPE)
            .is_some_and(|t| t.starts_with("text/event-stream"))
    );
    let (lines, ended) = parse_sse(&String::from_utf8_lossy(&answer.body));
    let seqs: Vec<i64> = lines.iter().map(|(id, _)| *id).collect();
    assert_eq!(seqs, [3, 4]);
    assert_eq!(lines[0].1["line"], "three");
    assert!(ended);
}

#[tokio::test]
async fn a_running_jobs_event_stream_follows_bus_lines_and_ends_when_the_job_does() {
    let app = TestApp::idle().await;
    let server = app.server(None).await;
    let job = queued(&app, NewJob::for_server(server, JobKind::Install, "admin")).await;
    assert_eq!(claim(&app).await, job);
    append(&app, job, &["before"]).await;

    let mut call =
        Call::new(Method::GET, &format!("/api/v1/jobs/{job}/logs")).bearer(&app.admin_token);
    call.request
        .headers_mut()
        .insert(header::ACCEPT, "text/event-stream".parse().expect("header"));
    let response = tower::ServiceExt::oneshot(app.router.clone(), call.request)
        .await
        .expect("response");
    assert_eq!(response.status(), StatusCode::OK);
    let mut body = response.into_body().into_data_stream();
    let mut text = String::new();
    // Bounded only so that a bug fails instead of hanging.
    let read_until = async |text: &mut String, body: &mut _, wanted: &str| {
        let body: &mut axum::body::BodyDataStream = body;
        tokio::time::timeout(std::time::Duration::from_secs(30), async {
            while !text.contains(wanted) {
                let chunk = body.next().await.expect("more").expect("chunk");
                text.push_str(&String::from_utf8_lossy(&chunk));
            }
        })
        .await
        .expect("the stream delivered it");
    };
    read_until(&mut text, &mut body, "before").await;

    // A line stored and published while the client listens.
    append(&app, job, &["live"]).await;
    let stored = app
        .store
        .call(move |conn| jobs::logs(conn, job, 1, 10))
        .await
        .expect("logs");
    app.servers.events().publish(Event::new(
        server,
        EventKind::JobLog {
            job_id: job,
            lines: stored,
        },
    ));
    read_until(&mut text, &mut body, "live").await;

    let finished = app
        .store
        .call(move |conn| jobs::finish(conn, job, &JobOutcome::Succeeded { exit_code: Some(0) }))
        .await
        .expect("finish");
    app.servers
        .events()
        .publish(Event::new(server, EventKind::Job { job: finished }));
    read_until(&mut text, &mut body, "event: end").await;
    let (lines, ended) = parse_sse(&text);
    let seqs: Vec<i64> = lines.iter().map(|(id, _)| *id).collect();
    assert_eq!(seqs, [1, 2]);
    assert!(ended);
}

#[tokio::test]
async fn a_servers_log_stream_replays_after_last_event_id_then_follows() {
    let app = TestApp::idle().await;
    let server = app.server(None).await;
    let stored: Vec<crate::store::logs::NewLogLine> = ["one", "two", "three"]
        .iter()
        .map(|text| crate::store::logs::NewLogLine {
            source: "console".into(),
            at: 0,
            level: crate::adapters::model::Level::Info,
            game_time: None,
            text: (*text).into(),
            events: Vec::new(),
        })
        .collect();
    app.store
        .call(move |conn| crate::store::logs::append(conn, server, stored, &[]))
        .await
        .expect("append");

    let mut call = Call::new(
        Method::GET,
        &format!("/api/v1/servers/{server}/logs/stream"),
    )
    .bearer(&app.admin_token);
    call.request
        .headers_mut()
        .insert("last-event-id", "1".parse().expect("header"));
    let response = tower::ServiceExt::oneshot(app.router.clone(), call.request)
        .await
        .expect("response");
    assert_eq!(response.status(), StatusCode::OK);
    let mut body = response.into_body().into_data_stream();
    let mut text = String::new();
    tokio::time::timeout(std::time::Duration::from_secs(30), async {
        while !text.contains("three") {
            let chunk = body.next().await.expect("more").expect("chunk");
            text.push_str(&String::from_utf8_lossy(&chunk));
        }
    })
    .await
    .expect("replayed in time");
    let (lines, ended) = parse_sse(&text);
    let seqs: Vec<i64> = lines.iter().map(|(id, _)| *id).collect();
    assert_eq!(seqs, [2, 3]);
    assert!(!ended);

    let unknown = app
        .get("/api/v1/servers/999/logs/stream", Some(&app.admin_token))
        .await;
    unknown.expect_problem(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn prometheus_metrics_are_for_administrators_only() {
    let app = TestApp::idle().await;
    let (_, operator) = app.user("olga", Role::Operator).await;
    app.server(None).await;
    let refused = app.get("/metrics", Some(&operator)).await;
    refused.expect_problem(StatusCode::FORBIDDEN);
    app.get("/metrics", None)
        .await
        .expect_problem(StatusCode::UNAUTHORIZED);

    let scraped = app.get("/metrics", Some(&app.admin_token)).await;
    scraped.expect(StatusCode::OK);
    assert_eq!(
        scraped.header(header::CONTENT_TYPE),
        Some(crate::api::prometheus::CONTENT_TYPE)
    );
    let text = String::from_utf8_lossy(&scraped.body);
    for expected in [
        "# TYPE garrison_server_state gauge",
        "garrison_servers{state=\"stopped\"} 1",
        "garrison_jobs{state=\"queued\"} 0",
        "garrison_ws_events_dropped_total ",
        "garrison_rcon_reconnects_total ",
        "garrison_adapter_call_errors_total ",
        "garrison_ws_connections ",
    ] {
        assert!(text.contains(expected), "{expected} missing from\n{text}");
    }
}

#[tokio::test]
async fn the_job_that_deletes_a_server_can_be_followed_to_its_end() {
    let app = TestApp::new().await;
    let (_, owner) = app.user("owner", Role::Operator).await;
    let (_, stranger) = app.user("stranger", Role::Operator).await;
    let id = app
        .send(
            Call::new(Method::POST, "/api/v1/servers")
                .bearer(&owner)
                .json(&serde_json::json!({"name": "short-lived", "adapter": "fixture-content"})),
        )
        .await
        .expect(StatusCode::CREATED)
        .json()["id"]
        .as_i64()
        .expect("id");
    let job = app
        .send(Call::new(Method::DELETE, &format!("/api/v1/servers/{id}")).bearer(&owner))
        .await
        .expect(StatusCode::ACCEPTED)
        .json();
    let path = format!("/api/v1/jobs/{}", job["id"]);
    let limit = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        // The owner follows it all the way, also after the server is gone.
        let seen = app
            .get(&path, Some(&owner))
            .await
            .expect(StatusCode::OK)
            .json();
        if seen["state"] == "succeeded" {
            break;
        }
        assert!(
            tokio::time::Instant::now() < limit,
            "never finished: {seen}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    app.get(&format!("/api/v1/servers/{id}"), Some(&owner))
        .await
        .expect_problem(StatusCode::NOT_FOUND);
    app.get(&path, Some(&stranger))
        .await
        .expect_problem(StatusCode::NOT_FOUND);
    // What is left is history: it can be read, not acted on.
    app.send(Call::new(Method::POST, &format!("{path}/cancel")).bearer(&owner))
        .await
        .expect_problem(StatusCode::FORBIDDEN);
}
