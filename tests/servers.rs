//! The host's server layer with the real game adapters: settings sealed at rest and rendered
//! for the game, deletion keeping history, and installs running the adapter's SteamCMD plan.
//! (The game-neutral server tests live beside the code in `host/src/servers/tests.rs`.)

use crate::common;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use garrison::jobs::JobQueue;
use garrison::secrets::SecretBox;
use garrison::servers::Servers;
use garrison::servers::executor::ServerExecutor;
use garrison::servers::live::LiveError;
use garrison::servers::settings::SettingsError;
use garrison::store::{Job, JobKind, JobState, NewJob, Store, jobs};
use serde_json::json;

/// A host's server layer and job queue on `dir`, with SteamCMD at `steamcmd` if given.
async fn host(dir: &Path, steamcmd: Option<PathBuf>) -> (Servers, JobQueue) {
    let path = dir.join("garrison.db");
    let store = tokio::task::spawn_blocking(move || Store::open(&path))
        .await
        .expect("join")
        .expect("store");
    let adapters = common::runtime_with_deadline(Duration::from_millis(500));
    let secrets =
        SecretBox::from_base64("AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=").expect("key");
    let servers = Servers::new(store.clone(), adapters, secrets, dir);
    let executor = Arc::new(ServerExecutor::new(servers.clone(), steamcmd));
    let queue = JobQueue::start(store, executor, 1).await.expect("queue");
    (servers, queue)
}

/// Enqueues `kind` on server `id` and waits (bounded) until it has finished.
async fn run_job(servers: &Servers, queue: &JobQueue, id: i64, kind: JobKind) -> Job {
    let job = queue
        .enqueue(NewJob::for_server(id, kind, "test"))
        .await
        .expect("enqueue");
    let limit = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let job_id = job.id;
        let now = servers
            .store()
            .call(move |conn| jobs::get(conn, job_id))
            .await
            .expect("job");
        if now.state.is_finished() {
            return now;
        }
        assert!(
            tokio::time::Instant::now() < limit,
            "job never finished: {now:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_are_checked_sealed_and_deleted_servers_keep_their_history() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (servers, queue) = host(dir.path(), None).await;
    match servers
        .settings()
        .create("bad", "generic", json!({"args": "not a list"}))
        .await
    {
        Err(SettingsError::InvalidSettings(problems)) => {
            let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
            assert!(
                fields.contains(&"executable") && fields.contains(&"args"),
                "{fields:?}"
            );
        }
        other => panic!("expected field errors, got {other:?}"),
    }
    assert!(matches!(
        servers
            .settings()
            .create("x", "no-such-game", json!({}))
            .await,
        Err(SettingsError::UnknownAdapter(_))
    ));

    // A secret setting is stored sealed.
    let server = servers
        .settings()
        .create(
            "secretive",
            "arma3",
            json!({"rcon_password": "plain-rcon-pw", "steam_username": "u", "steam_password": "plain-steam-pw"}),
        )
        .await
        .expect("create");
    let stored = servers.get(server.id).await.expect("server");
    let text = stored.settings.to_string();
    assert!(
        !text.contains("plain-rcon-pw") && !text.contains("plain-steam-pw"),
        "{text}"
    );
    let db = std::fs::read(dir.path().join("garrison.db")).expect("db file");
    assert!(!String::from_utf8_lossy(&db).contains("plain-rcon-pw"));

    let init = run_job(&servers, &queue, server.id, JobKind::Initialize).await;
    assert_eq!(init.state, JobState::Succeeded, "{init:?}");
    let instance = dir.path().join(format!("servers/{}", server.id));
    let cfg =
        std::fs::read_to_string(instance.join("battleye/BEServer_x64.cfg")).expect("rendered");
    assert!(
        cfg.contains("plain-rcon-pw"),
        "the game's own file gets the real password"
    );

    // Lines held in memory for new subscribers go with the server.
    servers.recent_logs().push(
        server.id,
        &[garrison::store::logs::LogLine {
            seq: 1,
            source: "console".into(),
            at: 0,
            level: garrison::adapters::model::Level::Info,
            game_time: None,
            text: "a line".into(),
            events: Vec::new(),
        }],
    );
    assert_eq!(servers.recent_logs().lines(server.id).len(), 1);

    let delete = run_job(&servers, &queue, server.id, JobKind::Delete).await;
    assert_eq!(delete.state, JobState::Succeeded, "{delete:?}");
    assert!(!instance.exists(), "files removed");
    assert!(servers.recent_logs().lines(server.id).is_empty());
    assert!(servers.get(server.id).await.is_err(), "gone from the list");
    let id = server.id;
    let kept = servers
        .store()
        .call(move |conn| garrison::store::servers::get_including_deleted(conn, id))
        .await
        .expect("history row kept");
    assert!(kept.deleted_at.is_some());
    queue.shutdown().await;
    servers.detach_all().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn install_runs_the_adapters_steamcmd_plan_into_the_runtime() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fake = dir.path().join("fake-steamcmd");
    let seen = dir.path().join("steamcmd-seen");
    std::fs::write(
        &fake,
        format!(
            "#!/bin/sh\nmkdir -p {seen}\n\
             tr '\\0' '\\n' < /proc/$$/cmdline > {seen}/cmdline\n\
             printf '%s\\n' \"$@\" > {seen}/args\n\
             stat -c %a \"$2\" > {seen}/mode\n\
             cp \"$2\" {seen}/script\n\
             echo ' Update state (0x61) downloading, progress: 42.50 (425 / 1000)'\n\
             echo \"Success! App '222860' fully installed.\"\n",
            seen = seen.display()
        ),
    )
    .expect("write fake steamcmd");
    let mut permissions = std::fs::metadata(&fake).expect("meta").permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o755);
    std::fs::set_permissions(&fake, permissions).expect("chmod");

    let (servers, queue) = host(dir.path(), Some(fake.clone())).await;
    let server = servers
        .settings()
        .create("coop", "l4d2", json!({"rcon_password": "pw"}))
        .await
        .expect("create");
    let job = run_job(&servers, &queue, server.id, JobKind::Install).await;
    assert_eq!(job.state, JobState::Succeeded, "{job:?}");
    assert_eq!(job.progress, Some(100.0));
    let read = |name: &str| std::fs::read_to_string(seen.join(name)).expect("steamcmd ran");
    let args = read("args");
    let args: Vec<&str> = args.lines().collect();
    assert_eq!(args.len(), 2, "{args:?}");
    assert_eq!(args[0], "+runscript");
    let script_path = std::path::Path::new(args[1]);
    assert!(script_path.starts_with(dir.path().join("tmp")), "{args:?}");
    assert!(!script_path.exists(), "the script is removed after the run");
    assert_eq!(read("mode").trim(), "600");
    let runtime = dir.path().join("runtimes/l4d2");
    assert_eq!(
        read("script"),
        format!(
            "@NoPromptForPassword 1\nforce_install_dir \"{}\"\nlogin anonymous\n\
             app_update 222860 validate\nquit\n",
            runtime.display()
        )
    );
    queue.shutdown().await;
    servers.detach_all().await;
}

/// A fake SteamCMD that "downloads" each Workshop item its script asks for (but never item
/// 111) into the folder real SteamCMD uses, and keeps the command line every local user
/// could read (`/proc/<pid>/cmdline`) in `cmdline` beside itself.
fn fake_steamcmd_with_workshop(dir: &Path) -> PathBuf {
    let fake = dir.join("fake-steamcmd");
    std::fs::write(
        &fake,
        format!(
            "#!/bin/sh\n\
             tr '\\0' ' ' < /proc/$$/cmdline >> {cmdline}\n\
             dir=$(sed -n 's/^force_install_dir \"\\(.*\\)\"$/\\1/p' \"$2\")\n\
             grep '^workshop_download_item ' \"$2\" | while read -r _ app item; do\n\
               if [ \"$item\" != 111 ]; then\n\
                 mkdir -p \"$dir/steamapps/workshop/content/$app/$item/addons\"\n\
                 echo \"Success. Downloaded item $item to \\\"$dir/steamapps/workshop/content/$app/$item\\\"\"\n\
               fi\n\
             done\n\
             echo \"Success! App '233780' fully installed.\"\n",
            cmdline = dir.join("cmdline").display()
        ),
    )
    .expect("write fake steamcmd");
    let mut permissions = std::fs::metadata(&fake).expect("meta").permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o755);
    std::fs::set_permissions(&fake, permissions).expect("chmod");
    fake
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workshop_items_are_downloaded_and_linked_where_the_adapter_says() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fake = fake_steamcmd_with_workshop(dir.path());
    let (servers, queue) = host(dir.path(), Some(fake)).await;
    let settings = |items: &[&str]| {
        json!({
            "rcon_password": "pw",
            "steam_username": "builder",
            "steam_password": "hunter2",
            "workshop_items": items,
        })
    };
    let server = servers
        .settings()
        .create("ops", "arma3", settings(&["450814997", "463939057"]))
        .await
        .expect("create");
    let runtime = dir.path().join("runtimes/arma3");
    let content = |id: &str| runtime.join(format!("steamapps/workshop/content/107410/{id}"));

    let job = run_job(&servers, &queue, server.id, JobKind::Install).await;
    assert_eq!(job.state, JobState::Succeeded, "{job:?}");
    for id in ["450814997", "463939057"] {
        let link = runtime.join(format!("@{id}"));
        assert_eq!(
            std::fs::read_link(&link).expect("a link"),
            content(id),
            "{id} linked as its mod folder"
        );
        assert!(
            link.join("addons").is_dir(),
            "the game sees the mod's files"
        );
    }
    // An update replaces the links in place.
    let job = run_job(&servers, &queue, server.id, JobKind::Update).await;
    assert_eq!(job.state, JobState::Succeeded, "{job:?}");
    // What every local user could read of SteamCMD's command line never held the password.
    let cmdline = std::fs::read_to_string(dir.path().join("cmdline")).expect("cmdline");
    assert!(cmdline.contains("+runscript"), "{cmdline}");
    assert!(!cmdline.contains("hunter2"), "{cmdline}");
    assert!(!cmdline.contains("builder"), "{cmdline}");

    // An item SteamCMD did not deliver fails the job and says which.
    let missing = servers
        .settings()
        .create("broken", "arma3", settings(&["111"]))
        .await
        .expect("create");
    let job = run_job(&servers, &queue, missing.id, JobKind::Install).await;
    assert_eq!(job.state, JobState::Failed, "{job:?}");
    let error = job.error.unwrap_or_default();
    assert!(error.contains("Workshop item 111"), "{error}");
    assert!(!runtime.join("@111").exists());
    queue.shutdown().await;
    servers.detach_all().await;
}

/// Waits (bounded) until the stored server matches `done`.
async fn server_until(
    servers: &Servers,
    id: i64,
    done: impl Fn(&garrison::store::Server) -> bool,
) -> garrison::store::Server {
    let limit = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let server = servers.get(id).await.expect("server");
        if done(&server) {
            return server;
        }
        assert!(
            tokio::time::Instant::now() < limit,
            "server never matched: {server:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_arma3_server_started_by_the_host_runs_once_its_log_says_ready() {
    let settings = json!({
        "rcon_password": "s3cret-rcon",
        "rcon_port": common::free_port(),
        "port": common::free_port(),
        "steam_username": "tester",
        "steam_password": "steam-pw",
        "extra_params": ["--tick-ms=50", "--slow-start=1", "--players=2"],
    });
    // Arma 3 says it is ready in its RPT file.
    lifecycle_with_players("arma3", "arma3server_x64", settings, "rpt", "players").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_l4d2_server_started_by_the_host_runs_once_its_log_says_ready() {
    let port = common::free_port();
    let settings = json!({
        "rcon_password": "s3cret-rcon",
        "port": port,
        "extra_params": ["--tick-ms=50", "--slow-start=1", "--players=2"],
    });
    // Left 4 Dead 2 says it is ready on its console (stdout, captured by the host).
    lifecycle_with_players("l4d2", "srcds_run", settings, "console", "status").await;
}

/// A simulated game server run by the host's server layer from start to stop: it is running
/// once its log (source `ready_source`) says so, its players arrive once each through RCon
/// and logs alike, a console command (`list_command`, which lists players) goes through the
/// same session, and an ordered stop is not a crash and sends everyone away.
async fn lifecycle_with_players(
    adapter: &str,
    executable: &str,
    settings: serde_json::Value,
    ready_source: &str,
    list_command: &str,
) {
    use garrison::adapters::model::GameEvent;
    use garrison::store::ActualState;

    let dir = tempfile::tempdir().expect("tempdir");
    let (servers, queue) = host(dir.path(), None).await;
    servers.live().set_player_poll(Duration::from_millis(300));
    // The "installed game": the simulator under the server executable's name.
    let runtime = dir.path().join("runtimes").join(adapter);
    std::fs::create_dir_all(&runtime).expect("runtime");
    std::os::unix::fs::symlink(common::sim_bin(), runtime.join(executable))
        .expect("link the simulator");
    let settings = common::sim_settings(&runtime, settings);
    let server = servers
        .settings()
        .create("ops", adapter, settings)
        .await
        .expect("create");

    let job = run_job(&servers, &queue, server.id, JobKind::Start).await;
    assert_eq!(job.state, JobState::Succeeded, "{job:?}");
    server_until(&servers, server.id, |s| {
        s.actual_state == ActualState::Running
    })
    .await;
    let id = server.id;
    let lines = servers
        .store()
        .call(move |conn| garrison::store::logs::after(conn, id, 0, 100_000))
        .await
        .expect("logs");
    let ready = lines
        .iter()
        .find(|l| l.events.contains(&GameEvent::ServerReady))
        .expect("the ready line is stored with its event");
    assert_eq!(ready.source, ready_source);

    // Players arrive through RCon polling and the logs alike, and are recorded once each.
    let limit = tokio::time::Instant::now() + Duration::from_secs(30);
    while servers.live().players(id).await.expect("players").len() < 2 {
        assert!(tokio::time::Instant::now() < limit, "players never listed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let online = servers.live().players(id).await.expect("players");
    assert_eq!(online.len(), 2, "{online:?}");
    assert!(online.iter().all(|p| p.unique_id.is_some()), "{online:?}");
    let reply = servers
        .live()
        .console(id, list_command)
        .await
        .expect("console");
    for p in &online {
        assert!(reply.contains(&p.name), "{reply}");
    }
    assert!(matches!(
        servers.live().rcon_status(id),
        Some(garrison::telemetry::rcon::RconStatus::Connected)
    ));

    // The ordered stop goes through the adapter's stop plan (RCon) and is not a crash.
    let job = run_job(&servers, &queue, server.id, JobKind::Stop).await;
    assert_eq!(job.state, JobState::Succeeded, "{job:?}");
    let stopped = server_until(&servers, server.id, |s| {
        s.actual_state == ActualState::Stopped
    })
    .await;
    assert_eq!(stopped.last_error, None);
    let history = servers
        .store()
        .call(move |conn| garrison::store::events::list(conn, id, None, 100))
        .await
        .expect("events");
    let states: Vec<&str> = history
        .iter()
        .rev()
        .filter(|e| e.kind == "state_changed")
        .filter_map(|e| e.data.as_ref()?.get("state")?.as_str())
        .collect();
    assert_eq!(states, ["starting", "running", "stopping", "stopped"]);
    let count = |kind: &str| history.iter().filter(|e| e.kind == kind).count();
    assert_eq!(count("player_joined"), 2, "no double arrivals");
    assert_eq!(count("player_left"), 2, "everyone leaves with the server");
    assert!(
        servers
            .live()
            .players(id)
            .await
            .expect("players")
            .is_empty()
    );
    assert!(matches!(
        servers.live().console(id, list_command).await,
        Err(LiveError::NoRcon)
    ));
    queue.shutdown().await;
    servers.detach_all().await;
}
