//! Garrison: a self-hosted host for dedicated game servers.
//!
//! The host owns everything that touches the operating system; game knowledge lives in
//! sandboxed WebAssembly adapters. Layout:
//!
//! - [`adapters`]: the wasmtime runtime that loads, sandboxes and hot-swaps adapters;
//! - [`api`]: the axum router (`/api/v1`);
//! - [`auth`]: users, sessions, API keys, sign-in limits and per-server access;
//! - [`config`]: the host's settings;
//! - [`demo`]: `serve --demo`, servers backed by the game-server simulator;
//! - [`events`]: the in-process event bus (log lines, players, metrics, states, server
//!   events, jobs) and the recent lines kept per server;
//! - [`files`]: file work beneath a root directory opened once (`openat2` with
//!   `RESOLVE_BENEATH`, so a planted symbolic link cannot lead out) and atomic replacement
//!   (temporary file, fsync, rename): rendered configs, keys, the component cache, content;
//! - [`jobs`]: the job queue and its workers (install, start, stop, … as steps with logs,
//!   exclusivity per server and runtime, cancel);
//! - [`names`]: names people give things (servers, uploaded files): one Unicode form, no
//!   invisible formatting characters;
//! - [`runtimes`]: a game's install shared by its servers (`runtimes/<adapter>/`): installing
//!   and updating it once for all of them, the install plan's steps, the build installed;
//! - [`secrets`]: sealing passwords in settings at rest;
//! - [`serve`]: the accept loop and its limits on slow, idle and greedy clients;
//! - [`servers`]: servers as the API sees them — the `Servers` handle (store, adapters,
//!   supervisors) and its owners, each with its own error: `Settings`, `Plans` (a start's
//!   plans), `Reattach`, `LiveSessions` (logs, players, RCon), `Bans`, `Content`,
//!   `Leftovers`; the executor of jobs and the reconciler;
//! - [`store`]: the SQLite database (servers, jobs, job logs, server events) on its own
//!   thread;
//! - [`supervisor`]: game processes (spawn in their own group, exit detection, stop budget,
//!   reattach after a host restart);
//! - [`tasks`]: the long-running background tasks, stopped together, a failure reported;
//! - [`telemetry`]: live data from running servers (log pipeline, RCon driver, metrics,
//!   retention);
//! - [`time`]: now in milliseconds, RFC 3339 text, a clock tests can move;
//! - [`run`]: wires them together and serves until shutdown.
//!
//! Two walks through it, naming the functions in order:
//!
//! - **A log line, from the game's file to a WebSocket client.** The server's log pipeline
//!   (`telemetry::pipeline`, one task per running server, spawned by
//!   `servers::live::LiveSessions` when the process starts) wakes on the shared directory watcher, reads what is new from each
//!   `telemetry::tail::Tail` on a blocking thread, feeds it to the adapter's parser
//!   (`adapters` log session), and hands the records with the new read positions to
//!   [`store::Store::append_logs`]; the group commit (`store::group_commit`) stores every
//!   server's lines of the same few milliseconds in one transaction, then publishes each
//!   batch as an `events::EventKind::Log` on the [`events::EventBus`]. Each WebSocket
//!   connection's loop (`api::ws`, `Hub::event`) drops what its client is not subscribed to
//!   or may not see, and queues the event's JSON (`events::Event::wire`, serialised once)
//!   for its writer task, which sends it.
//! - **A start request, to a running process.** `POST /servers/{id}/actions/start`
//!   (`api::servers::action`) checks manage access and enqueues a start job
//!   ([`jobs::JobQueueHandle::enqueue`]); a worker (`jobs::queue`) claims it
//!   (`store::jobs::claim_next`, which enforces one job per server) and runs it through
//!   `servers::executor::ServerExecutor`: `servers::plan::Plans::prepare` opens the
//!   settings' secrets and asks the adapter to render and plan the launch,
//!   `Plans::write_files` writes the rendered files, and the server's supervisor
//!   (`supervisor::ServerSupervisor::start`, its task's `launch`) spawns the process in its
//!   own group, `starting` until the log pipeline (`servers::live`) sees the adapter's
//!   `server-ready` (`mark_ready`), then `running`; each state change is stored and
//!   published by `servers::observer`.
//!
//! The `garrison` binary only parses the command line and calls into this library.

pub mod adapters;
pub mod api;
pub mod auth;
pub mod config;
pub mod demo;
pub mod events;
pub mod files;
pub mod jobs;
pub mod names;
pub mod runtimes;
pub mod secrets;
pub mod serve;
pub mod servers;
pub mod store;
pub mod supervisor;
pub mod tasks;
pub mod telemetry;
pub mod time;

use std::future::Future;
use std::sync::Arc;

use tokio::net::TcpListener;

pub use config::Config;

use adapters::AdapterRuntime;
use adapters::dropin::DropInWatcher;

/// Errors that stop the host from starting or serving.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    /// The data directory could not be prepared.
    #[error("data directory {path}: {source}")]
    DataDir {
        /// The directory.
        path: std::path::PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The adapter runtime failed to start.
    #[error(transparent)]
    Adapters(#[from] adapters::AdapterError),
    /// The database could not be opened.
    #[error("database: {0}")]
    Store(#[from] store::StoreError),
    /// The secret key is unusable.
    #[error(transparent)]
    Secrets(#[from] secrets::SecretError),
    /// Authentication could not start (signing key, first administrator).
    #[error("authentication: {0}")]
    Auth(#[from] auth::AuthError),
    /// The job queue could not start.
    #[error("job queue: {0}")]
    Jobs(String),
    /// Serving failed.
    #[error("server: {0}")]
    Serve(std::io::Error),
    /// A background task died.
    #[error("background task: {0}")]
    Task(#[from] tokio::task::JoinError),
    /// A long-running background task ended before the host asked it to.
    #[error("{0}")]
    Background(tasks::TaskFailure),
}

/// Starts the adapter runtime for `config`: engine, component cache, built-in adapters.
/// Compiling is CPU-heavy, so this runs on a blocking thread.
pub async fn start_adapters(config: &Config) -> Result<AdapterRuntime, HostError> {
    let sandbox = config.sandbox.clone();
    let cache = config.component_cache_dir();
    tokio::task::spawn_blocking(move || {
        let runtime = AdapterRuntime::new(sandbox, Some(cache))?;
        runtime.load_builtins()?;
        Ok::<_, adapters::AdapterError>(runtime)
    })
    .await?
    .map_err(HostError::from)
}

/// Opens the database (applying migrations) and loads or creates the secret key. Both touch
/// the disk synchronously, so this runs on a blocking thread.
pub async fn open_state(config: &Config) -> Result<(store::Store, secrets::SecretBox), HostError> {
    let database = config.database_path();
    let data_dir = config.data_dir.clone();
    let (store, secrets) = tokio::task::spawn_blocking(move || {
        let store = store::Store::open(&database)?;
        let secrets = secrets::SecretBox::load_or_create(&data_dir)?;
        Ok::<_, HostError>((store, secrets))
    })
    .await??;
    // A key that cannot open what is stored (another host's key file, a mistyped
    // `GARRISON_SECRET_KEY`) stops the host here, before anything is sealed with it, rather
    // than at some later start of a game.
    // Every value is sealed with the one key, so the first found tells.
    let servers = store.call(|conn| store::servers::list(conn)).await?;
    let first_sealed = servers.iter().find_map(|server| {
        let (field, sealed) = server
            .settings
            .as_object()?
            .iter()
            .find_map(|(key, value)| {
                Some((key, value.as_str().filter(|v| secrets::is_sealed(v))?))
            })?;
        Some((server.id, field, sealed))
    });
    if let Some((server_id, field, sealed)) = first_sealed
        && secrets.open(field, sealed).is_err()
    {
        return Err(HostError::Secrets(secrets::SecretError::Key(format!(
            "it does not open the secrets stored in the database (server {}, setting \
                 `{field}`): start with the key they were sealed with ({} or {} in the data \
                 directory); nothing was changed",
            server_id,
            secrets::KEY_ENV,
            secrets::KEY_FILE
        ))));
    }
    Ok((store, secrets))
}

/// Opens authentication for the host: the session signing key (`<data-dir>/jwt.key`) and,
/// when there are no users yet, the first administrator (password printed once and written
/// to `<data-dir>/initial-admin-password`).
pub async fn open_auth(config: &Config, store: &store::Store) -> Result<auth::Auth, HostError> {
    let auth = auth::Auth::open(store.clone(), &config.data_dir).await?;
    auth.ensure_admin(&config.data_dir).await?;
    Ok(auth)
}

/// Runs the host on `listener` until `shutdown` completes: prepares the data directory,
/// loads adapters, opens the database, the secret key and authentication (creating the first
/// administrator on first run), reattaches to running games,
/// starts the job workers, watches the drop-in directory and serves the API. On shutdown
/// the games keep running.
pub async fn run(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), HostError> {
    // Everything the host and the games it starts create is the host's user's alone
    // (rendered configs and logs hold passwords); a file a game needs to share it shares
    // by its own chmod.
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o077));
    let data_dir = config.data_dir.clone();
    tokio::fs::create_dir_all(&data_dir)
        .await
        .map_err(|source| HostError::DataDir {
            path: data_dir.clone(),
            source,
        })?;
    // The scratch directory holds files of job steps that a previous run may have left.
    let scratch = data_dir.join(servers::paths::SCRATCH_DIR);
    let _ = tokio::fs::remove_dir_all(&scratch).await;
    let adapters = start_adapters(&config).await?;
    let (store, secrets) = open_state(&config).await?;
    let auth = open_auth(&config, &store).await?;

    let dropin_dir = config.dropin_dir();
    let runtime = adapters.clone();
    let watcher = tokio::task::spawn_blocking(move || DropInWatcher::start(runtime, dropin_dir))
        .await?
        .map_err(|source| HostError::DataDir {
            path: config.dropin_dir(),
            source,
        })?;

    // Reattach to games a previous run left running before any job can start one.
    let servers = servers::Servers::new(
        store.clone(),
        adapters.clone(),
        secrets.clone(),
        &config.data_dir,
    );
    servers.live().set_player_poll(config.player_poll);
    servers
        .content()
        .set_upload_limit(config.max_mission_upload);
    match servers.reattach().all().await {
        Ok(0) => {}
        Ok(n) => tracing::info!("reattached to {n} running server(s)"),
        Err(e) => tracing::error!("reattaching servers failed: {e}"),
    }
    let executor = Arc::new(servers::executor::ServerExecutor::new(
        servers.clone(),
        config.steamcmd.clone(),
    ));
    let jobs = jobs::JobQueue::start_publishing(
        store.clone(),
        executor,
        config.job_workers.max(1),
        servers.events().clone(),
    )
    .await
    .map_err(|e| HostError::Jobs(e.to_string()))?;

    if let Some(simulator) = &config.demo {
        match demo::create_on_first_run(&servers, &jobs.handle(), simulator).await {
            Ok(0) => {}
            Ok(n) => tracing::info!("created and started {n} demo server(s)"),
            Err(e) => tracing::error!("{e}"),
        }
    }
    let mut background = tasks::Background::new();
    background.add(
        "reconciler",
        servers::reconcile::spawn(
            servers.clone(),
            jobs.handle(),
            config.reconcile_interval,
            background.token(),
        ),
    );
    background.add(
        "metrics sampler",
        telemetry::metrics::spawn(
            store.clone(),
            servers.events().clone(),
            &config.data_dir,
            config.metrics_interval,
            background.token(),
        ),
    );
    background.add(
        "retention pruner",
        telemetry::retention::spawn(store.clone(), config.retention, background.token()),
    );

    let state = api::AppState {
        adapters,
        store,
        secrets,
        servers: servers.clone(),
        jobs: jobs.handle(),
        auth,
    };
    let app = api::router(state);
    if let Ok(addr) = listener.local_addr() {
        tracing::info!("listening on http://{addr}");
    }
    // Serving ends on `shutdown`, or when a background task fails: the host then stops
    // with that task's name and reason rather than run on without it.
    let failed = tokio_util::sync::CancellationToken::new();
    let serving = serve::serve(listener, app, config.serve, {
        let failed = failed.clone();
        async move {
            tokio::select! {
                () = shutdown => {},
                () = failed.cancelled() => {},
            }
        }
    });
    tokio::pin!(serving);
    // Requests carry the client's address for the audit log and sign-in limits.
    let (served, failure) = tokio::select! {
        served = &mut serving => (served, None),
        failure = background.failure() => {
            tracing::error!("{failure}; stopping the host");
            failed.cancel();
            ((&mut serving).await, Some(failure))
        }
    };
    let served = served.map_err(HostError::Serve);
    // Shutdown order: serving has stopped; the background tasks stop next (nothing new is
    // reconciled, sampled or pruned); then running jobs are interrupted; then the
    // supervisors let go of their games, which keep running for the next host run to
    // reattach; last the drop-in watcher's thread is joined.
    background.stop().await;
    jobs.shutdown().await;
    servers.detach_all().await;
    // Stopping the watcher joins its thread: do it off the runtime.
    tokio::task::spawn_blocking(move || drop(watcher)).await?;
    match failure {
        Some(failure) => Err(HostError::Background(failure)),
        None => served,
    }
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
