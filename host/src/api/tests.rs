use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use tower::ServiceExt;

use super::{AppState, router};
use crate::adapters::{AdapterRuntime, SandboxConfig};

/// One adapter runtime for every test here: compiling the built-ins is the slow part.
fn adapters() -> AdapterRuntime {
    static ADAPTERS: std::sync::OnceLock<AdapterRuntime> = std::sync::OnceLock::new();
    ADAPTERS
        .get_or_init(|| {
            let config = SandboxConfig {
                max_instances: 8,
                ..SandboxConfig::default()
            };
            let adapters = AdapterRuntime::new(config, None).expect("runtime");
            adapters.load_builtins().expect("built-ins");
            adapters
        })
        .clone()
}

/// The router over an empty in-memory host; the job queue is returned so it lives as long
/// as the test needs it.
async fn app() -> (axum::Router, crate::jobs::JobQueue) {
    let secrets =
        crate::secrets::SecretBox::from_base64("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
            .expect("key");
    let store = crate::store::Store::open_in_memory().expect("store");
    let data_dir = std::env::temp_dir().join("garrison-api-tests");
    let servers =
        crate::servers::Servers::new(store.clone(), adapters(), secrets.clone(), &data_dir);
    let executor = std::sync::Arc::new(crate::servers::executor::ServerExecutor::new(
        servers.clone(),
        None,
    ));
    let jobs = crate::jobs::JobQueue::start(store.clone(), executor, 1)
        .await
        .expect("queue");
    let router = router(AppState {
        adapters: adapters(),
        store,
        secrets,
        servers,
        jobs: jobs.handle(),
    });
    (router, jobs)
}

async fn get(path: &str) -> (StatusCode, Option<String>, Vec<u8>) {
    let (app, _jobs) = app().await;
    let response = app
        .oneshot(Request::get(path).body(Body::empty()).expect("request"))
        .await
        .expect("response");
    let status = response.status();
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(String::from);
    let body = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .expect("body");
    (status, content_type, body.to_vec())
}

#[tokio::test]
async fn health_needs_no_auth_and_says_ok() {
    let (status, _, body) = get("/api/v1/system/health").await;
    assert_eq!(status, StatusCode::OK);
    let json: serde_json::Value = serde_json::from_slice(&body).expect("json");
    assert_eq!(json["status"], "ok");
}

#[tokio::test]
async fn adapter_detail_includes_the_schema() {
    let (status, _, body) = get("/api/v1/adapters/generic").await;
    assert_eq!(status, StatusCode::OK);
    let json: serde_json::Value = serde_json::from_slice(&body).expect("json");
    assert_eq!(json["id"], "generic");
    assert_eq!(json["schema"][0]["key"], "executable");
    assert_eq!(json["schema"][0]["kind"]["type"], "text");
}

#[tokio::test]
async fn unknown_things_are_problem_json_404s() {
    for path in [
        "/api/v1/adapters/nope",
        "/api/v1/nothing-here",
        "/favicon.ico",
    ] {
        let (status, content_type, body) = get(path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(
            content_type.as_deref(),
            Some("application/problem+json"),
            "{path}"
        );
        let json: serde_json::Value = serde_json::from_slice(&body).expect("json");
        assert_eq!(json["status"], 404);
        assert!(json["detail"].as_str().is_some_and(|d| !d.is_empty()));
    }
}

#[tokio::test]
async fn the_dashboard_is_served_at_the_root() {
    let (status, content_type, body) = get("/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(content_type.is_some_and(|c| c.starts_with("text/html")));
    assert!(String::from_utf8_lossy(&body).contains("/api/v1/adapters"));
}
