//! The API's specification, through the router with `tower::ServiceExt::oneshot`: one module
//! per resource, sharing the harness below (an in-memory host with an administrator).

mod access;
mod api_keys;
mod audit;
mod auth;
mod bans;
mod basics;
mod content;
mod jobs;
mod live;
mod matrix;
mod openapi;
mod runtimes;
mod server_routes;
mod trust;
mod users;
mod web;

use std::net::SocketAddr;
use std::sync::OnceLock;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use serde_json::Value;
use tower::ServiceExt;

use super::{AppState, router};
use crate::adapters::{AdapterRuntime, SandboxConfig};
use crate::auth::{Auth, TokenSigner};
use crate::store::users::NewUser;
use crate::store::{NewServer, Role, Store, User, servers};

/// The password of every user the harness makes.
pub const PASSWORD: &str = "correct horse battery staple";

/// One adapter runtime for every test here: compiling the built-ins is the slow part.
fn adapters() -> AdapterRuntime {
    static ADAPTERS: OnceLock<AdapterRuntime> = OnceLock::new();
    ADAPTERS
        .get_or_init(|| {
            let config = SandboxConfig {
                max_instances: Some(8),
                ..SandboxConfig::default()
            };
            let adapters = AdapterRuntime::new(config, None).expect("runtime");
            adapters.load_builtins().expect("built-ins");
            // An adapter that can ban with no game behind it, for the ban endpoints.
            let bans = std::path::Path::new(crate::adapters::WASM_BUILD_DIR)
                .join("garrison_fixture_bans.wasm");
            adapters.load_dropin(&bans).expect("the bans fixture");
            // A neutral game with missions and mods, for the content endpoints.
            let fixture = std::path::Path::new(crate::adapters::WASM_BUILD_DIR)
                .join("garrison_fixture_content.wasm");
            adapters.load_dropin(&fixture).expect("content fixture");
            adapters
        })
        .clone()
}

/// The published document every answer is held against: a status it does not declare, a
/// content type it does not list or a body its schema refuses fails the test.
pub fn contract() -> &'static garrison_contract::Contract {
    static CONTRACT: OnceLock<garrison_contract::Contract> = OnceLock::new();
    CONTRACT.get_or_init(|| {
        let doc = super::openapi_document().clone();
        garrison_contract::Contract::new(doc)
    })
}

/// [`PASSWORD`] hashed once: argon2 is slow on purpose, and most tests only need users.
fn password_hash() -> String {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| crate::auth::password::hash(PASSWORD).expect("hash"))
        .clone()
}

/// An answer, read whole.
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Answer {
    /// The body as JSON (`Null` when empty or not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    /// A header as text.
    pub fn header(&self, name: header::HeaderName) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts the status, showing the body when it differs.
    #[track_caller]
    pub fn expect(&self, status: StatusCode) -> &Self {
        assert_eq!(
            self.status,
            status,
            "body: {}",
            String::from_utf8_lossy(&self.body)
        );
        self
    }

    /// Asserts an RFC 9457 problem with this status.
    #[track_caller]
    pub fn expect_problem(&self, status: StatusCode) -> Value {
        self.expect(status);
        assert_eq!(
            self.header(header::CONTENT_TYPE),
            Some("application/problem+json")
        );
        let problem = self.json();
        assert_eq!(problem["status"], status.as_u16());
        assert!(
            problem["detail"].as_str().is_some_and(|d| !d.is_empty()),
            "{problem}"
        );
        problem
    }
}

/// A request to build and send.
pub struct Call {
    request: Request<Body>,
}

impl Call {
    /// `method path`, no credentials, no body.
    pub fn new(method: Method, path: &str) -> Self {
        Call {
            request: Request::builder()
                .method(method)
                .uri(path)
                .body(Body::empty())
                .expect("request"),
        }
    }

    /// With `Authorization: Bearer <credential>`.
    pub fn bearer(mut self, credential: &str) -> Self {
        self.request.headers_mut().insert(
            header::AUTHORIZATION,
            format!("Bearer {credential}").parse().expect("header"),
        );
        self
    }

    /// With a JSON body.
    pub fn json(self, body: &Value) -> Self {
        self.raw_json(body.to_string())
    }

    /// With these bytes as a JSON body.
    pub fn raw_json(mut self, body: impl Into<Body>) -> Self {
        self.request.headers_mut().insert(
            header::CONTENT_TYPE,
            "application/json".parse().expect("header"),
        );
        *self.request.body_mut() = body.into();
        self
    }

    /// With a raw body (`application/octet-stream`).
    pub fn bytes(mut self, body: impl Into<Body>) -> Self {
        self.request.headers_mut().insert(
            header::CONTENT_TYPE,
            "application/octet-stream".parse().expect("header"),
        );
        *self.request.body_mut() = body.into();
        self
    }

    /// With one more header.
    pub fn header(mut self, name: &'static str, value: &str) -> Self {
        self.request
            .headers_mut()
            .append(name, value.parse().expect("header"));
        self
    }

    /// As if from `addr` (what `into_make_service_with_connect_info` provides).
    pub fn client(mut self, addr: &str) -> Self {
        let addr: SocketAddr = addr.parse().expect("socket address");
        self.request.extensions_mut().insert(ConnectInfo(addr));
        self
    }
}

/// An in-memory host with one administrator, `admin`.
pub struct TestApp {
    pub router: axum::Router,
    pub store: Store,
    pub auth: Auth,
    pub admin: User,
    pub admin_token: String,
    /// The servers handle, for its event bus and recent lines.
    pub servers: crate::servers::Servers,
    /// The job workers; none once [`TestApp::idle`] stopped them.
    jobs: Option<crate::jobs::JobQueue>,
    /// The host's data directory, removed when the app is dropped.
    _data_dir: tempfile::TempDir,
}

impl TestApp {
    /// A host over a fresh in-memory database.
    pub async fn new() -> Self {
        Self::with_store(Store::open_in_memory().expect("store")).await
    }

    /// [`TestApp::new`] without job workers, for tests that claim and finish jobs
    /// themselves (a worker's start-up sweep would otherwise race them for queued jobs).
    pub async fn idle() -> Self {
        let mut app = Self::new().await;
        if let Some(jobs) = app.jobs.take() {
            jobs.shutdown().await;
        }
        app
    }

    /// A host over `store`.
    pub async fn with_store(store: Store) -> Self {
        Self::with_auth(
            store.clone(),
            Auth::new(store, TokenSigner::random(crate::auth::token::DEFAULT_TTL)),
        )
        .await
    }

    /// A host over `store` with this authenticator.
    pub async fn with_auth(store: Store, auth: Auth) -> Self {
        Self::with_parts(store, auth, adapters()).await
    }

    /// A host with an adapter runtime of its own (for tests that fill its instance pool).
    pub async fn with_adapters(adapters: AdapterRuntime) -> Self {
        let store = Store::open_in_memory().expect("store");
        let auth = Auth::new(
            store.clone(),
            TokenSigner::random(crate::auth::token::DEFAULT_TTL),
        );
        Self::with_parts(store, auth, adapters).await
    }

    async fn with_parts(store: Store, auth: Auth, adapters: AdapterRuntime) -> Self {
        let secrets =
            crate::secrets::SecretBox::from_base64("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
                .expect("key");
        // Each test has a data directory of its own (removed with the app), so tests running
        // at once never share server directories.
        let data_dir = tempfile::tempdir().expect("data directory");
        let servers = crate::servers::Servers::new(
            store.clone(),
            adapters.clone(),
            secrets.clone(),
            data_dir.path(),
        );
        let executor = std::sync::Arc::new(crate::servers::executor::ServerExecutor::new(
            servers.clone(),
            None,
        ));
        let jobs = crate::jobs::JobQueue::start_publishing(
            store.clone(),
            executor,
            1,
            servers.events().clone(),
        )
        .await
        .expect("queue");
        let router = router(AppState {
            adapters,
            store: store.clone(),
            secrets,
            servers: servers.clone(),
            jobs: jobs.handle(),
            auth: auth.clone(),
        });
        let mut app = TestApp {
            router,
            store,
            auth,
            admin: placeholder_user(),
            admin_token: String::new(),
            servers,
            jobs: Some(jobs),
            _data_dir: data_dir,
        };
        let (admin, token) = app.user("admin", Role::Admin).await;
        app.admin = admin;
        app.admin_token = token;
        app
    }

    /// Sends a request; the answer is checked against the OpenAPI document (see
    /// [`contract`]).
    pub async fn send(&self, call: Call) -> Answer {
        let method = call.request.method().clone();
        let target = call.request.uri().to_string();
        let response = self
            .router
            .clone()
            .oneshot(call.request)
            .await
            .expect("response");
        let status = response.status();
        let headers = response.headers().clone();
        let body = axum::body::to_bytes(response.into_body(), 4 << 20)
            .await
            .expect("body")
            .to_vec();
        garrison_contract::enforce(
            contract().check_response(
                method.as_str(),
                &target,
                status.as_u16(),
                headers
                    .get(header::CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok()),
                &body,
            ),
        );
        Answer {
            status,
            headers,
            body,
        }
    }

    /// Sends a request and gives only the status, without reading the body (for streams
    /// that never end).
    pub async fn status_of(&self, call: Call) -> StatusCode {
        self.router
            .clone()
            .oneshot(call.request)
            .await
            .expect("response")
            .status()
    }

    /// `method path` as the administrator, with an optional JSON body.
    pub async fn admin(&self, method: Method, path: &str, body: Option<Value>) -> Answer {
        let mut call = Call::new(method, path).bearer(&self.admin_token);
        if let Some(body) = body {
            call = call.json(&body);
        }
        self.send(call).await
    }

    /// `GET path` with `credential` (or anonymously).
    pub async fn get(&self, path: &str, credential: Option<&str>) -> Answer {
        let mut call = Call::new(Method::GET, path);
        if let Some(credential) = credential {
            call = call.bearer(credential);
        }
        self.send(call).await
    }

    /// A user with [`PASSWORD`] and `role`, straight into the store, with a session token.
    pub async fn user(&self, name: &str, role: Role) -> (User, String) {
        let new = NewUser {
            username: name.into(),
            password_hash: password_hash(),
            role,
        };
        let user = self
            .store
            .call(move |conn| crate::store::users::insert(conn, &new))
            .await
            .expect("insert user");
        let token = self.auth.issue(&user).token;
        (user, token)
    }

    /// A server owned by `owner`, straight into the store.
    pub async fn server(&self, owner: Option<i64>) -> i64 {
        let mut new = NewServer::new("test", "generic", serde_json::json!({}));
        new.owner_id = owner;
        self.store
            .call(move |conn| servers::insert(conn, &new))
            .await
            .expect("insert server")
            .id
    }

    /// An API key for `token`'s user, created through the API.
    pub async fn api_key(&self, token: &str, role: Option<Role>) -> (i64, String) {
        let mut body = serde_json::json!({ "name": "test key" });
        if let Some(role) = role {
            body["role"] = Value::from(role.as_str());
        }
        let answer = self
            .send(
                Call::new(Method::POST, "/api/v1/api-keys")
                    .bearer(token)
                    .json(&body),
            )
            .await;
        answer.expect(StatusCode::CREATED);
        let json = answer.json();
        (
            json["api_key"]["id"].as_i64().expect("id"),
            json["key"].as_str().expect("key").to_string(),
        )
    }
}

fn placeholder_user() -> User {
    User {
        id: 0,
        username: String::new(),
        role: Role::Viewer,
        disabled: false,
        token_generation: 0,
        created_at: String::new(),
        updated_at: String::new(),
    }
}
