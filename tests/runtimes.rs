//! A game's shared install (`runtimes/<adapter>/`) installed once for all its servers,
//! through the real host's API with a stand-in for SteamCMD: the files land in the runtime,
//! the build SteamCMD reports is shown, a plan the adapter's defaults cannot make fails with
//! a reason, and runtime jobs and the jobs of that game's servers never run at once.

use crate::common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

/// A stand-in for SteamCMD. It reads the install directory from its script, and
/// - when `<gates>/hold` exists, says it runs (`<gates>/running`) and waits (bounded) for
///   `<gates>/go`, which it takes away with `running` before going on;
/// - puts a file and an app manifest naming build 14912345 where real SteamCMD would;
/// - prints a progress line and SteamCMD's success line.
fn fake_steamcmd(dir: &Path) -> PathBuf {
    let gates = dir.join("gates");
    std::fs::create_dir_all(&gates).expect("gates");
    let fake = dir.join("fake-steamcmd");
    std::fs::write(
        &fake,
        format!(
            "#!/bin/sh\n\
             gates={gates}\n\
             dir=$(sed -n 's/^force_install_dir \"\\(.*\\)\"$/\\1/p' \"$2\")\n\
             app=$(sed -n 's/^app_update \\([0-9]*\\).*$/\\1/p' \"$2\")\n\
             if [ -e \"$gates/hold\" ]; then\n\
               touch \"$gates/running\"\n\
               i=0\n\
               while [ ! -e \"$gates/go\" ]; do\n\
                 i=$((i + 1)); [ $i -gt 1200 ] && exit 9\n\
                 sleep 0.05\n\
               done\n\
               rm -f \"$gates/go\" \"$gates/running\"\n\
             fi\n\
             mkdir -p \"$dir/steamapps\"\n\
             echo 'a dedicated server' > \"$dir/server-binary\"\n\
             printf '\"AppState\"\\n{{\\n\\t\"appid\"\\t\\t\"%s\"\\n\\t\"buildid\"\\t\\t\"14912345\"\\n}}\\n' \"$app\" \
               > \"$dir/steamapps/appmanifest_$app.acf\"\n\
             echo ' Update state (0x61) downloading, progress: 42.50 (425 / 1000)'\n\
             echo \"Success! App '$app' fully installed.\"\n",
            gates = gates.display()
        ),
    )
    .expect("write fake steamcmd");
    let mut permissions = std::fs::metadata(&fake).expect("meta").permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o755);
    std::fs::set_permissions(&fake, permissions).expect("chmod");
    fake
}

/// A host with the fake SteamCMD and two job workers, so that only the exclusivity rules
/// (never a lack of workers) hold a job back.
async fn host(dir: &Path) -> common::TestHost {
    let fake = fake_steamcmd(dir);
    common::start_host_with(tempfile::tempdir().expect("tempdir"), move |config| {
        config.steamcmd = Some(fake);
        config.job_workers = 2;
    })
    .await
}

async fn post(host: &common::TestHost, path: &str) -> (u16, Value) {
    let token = host.admin_token().await.to_string();
    host.request(Method::POST, path, Some(&token), None).await
}

/// Queues with `path` and returns the job's id.
async fn queue(host: &common::TestHost, path: &str) -> i64 {
    let (status, job) = post(host, path).await;
    assert_eq!(status, 202, "{path}: {job}");
    job["id"].as_i64().expect("a job")
}

async fn job(host: &common::TestHost, id: i64) -> Value {
    let (status, job) = host.get_json(&format!("/api/v1/jobs/{id}")).await;
    assert_eq!(status, 200, "{job}");
    job
}

/// Waits (bounded) until job `id` is in one of `states`; returns it.
async fn job_in(host: &common::TestHost, id: i64, states: &[&str]) -> Value {
    let limit = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let job = job(host, id).await;
        if states.iter().any(|s| job["state"] == *s) {
            return job;
        }
        assert!(
            tokio::time::Instant::now() < limit,
            "job {id} never {states:?}: {job}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn finished(host: &common::TestHost, id: i64) -> Value {
    job_in(host, id, &["succeeded", "failed", "cancelled"]).await
}

async fn log_of(host: &common::TestHost, id: i64) -> Vec<String> {
    let (_, page) = host
        .get_json(&format!("/api/v1/jobs/{id}/logs?limit=500"))
        .await;
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|l| l["line"].as_str().map(str::to_owned))
        .collect()
}

/// Waits (bounded) until `path` exists.
async fn exists(path: &Path) {
    common::eventually(Duration::from_secs(60), || async { path.exists() }).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_runtime_install_lands_in_the_shared_directory_and_reports_its_build() {
    let dir = tempfile::tempdir().expect("tempdir");
    let host = host(dir.path()).await;
    let (status, before) = host.get_json("/api/v1/adapters/l4d2/runtime").await;
    assert_eq!(status, 200);
    assert_eq!(before["installed"], false);

    let id = queue(&host, "/api/v1/adapters/l4d2/runtime/install").await;
    let done = finished(&host, id).await;
    assert_eq!(done["state"], "succeeded", "{done}");
    assert_eq!(done["progress"], 100.0);
    assert_eq!(done["server_id"], Value::Null);
    let runtime = host.data_dir.path().join("runtimes/l4d2");
    assert!(
        runtime.join("server-binary").is_file(),
        "the files are in the runtime"
    );
    assert!(runtime.join("steamapps/appmanifest_222860.acf").is_file());
    let log = log_of(&host, id).await;
    for expected in [
        "with the adapter's default settings",
        "progress: 42.50",
        "fully installed",
        "app 222860 is installed at build 14912345",
        "job succeeded",
    ] {
        assert!(
            log.iter().any(|l| l.contains(expected)),
            "{expected:?} in {log:?}"
        );
    }

    let (_, state) = host.get_json("/api/v1/adapters/l4d2/runtime").await;
    assert_eq!(state["installed"], true, "{state}");
    assert_eq!(state["app_id"], 222_860);
    assert_eq!(state["build_id"], "14912345");
    assert!(state["updated_at"].is_string(), "{state}");
    assert_eq!(state["job"]["id"], id);

    // An update goes the same way and is the runtime's job now.
    let update = queue(&host, "/api/v1/adapters/l4d2/runtime/update").await;
    assert_eq!(finished(&host, update).await["state"], "succeeded");
    let (_, state) = host.get_json("/api/v1/adapters/l4d2/runtime").await;
    assert_eq!(state["job"]["id"], update);
    assert_eq!(state["job"]["kind"], "update");
    host.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_the_defaults_cannot_make_fails_the_job_and_says_what_to_do() {
    let dir = tempfile::tempdir().expect("tempdir");
    let host = host(dir.path()).await;
    // Arma 3's server needs a Steam account, which no default holds.
    let id = queue(&host, "/api/v1/adapters/arma3/runtime/install").await;
    let done = finished(&host, id).await;
    assert_eq!(done["state"], "failed", "{done}");
    let error = done["error"].as_str().unwrap_or_default();
    assert!(error.contains("default settings"), "{error}");
    assert!(error.contains("from one of its servers"), "{error}");
    let (_, state) = host.get_json("/api/v1/adapters/arma3/runtime").await;
    assert_eq!(state["installed"], false);
    assert_eq!(state["job"]["state"], "failed");
    assert!(
        !dir.path().join("gates/running").exists(),
        "SteamCMD never ran"
    );
    host.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runtime_jobs_and_the_jobs_of_that_games_servers_never_run_at_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let gates = dir.path().join("gates");
    let host = host(dir.path()).await;
    let (status, server) = host
        .request(
            Method::POST,
            "/api/v1/servers",
            Some(host.admin_token().await),
            Some(json!({"name": "coop", "adapter": "l4d2", "settings": {"rcon_password": "pw"}})),
        )
        .await;
    assert_eq!(status, 201, "{server}");
    let server = server["id"].as_i64().expect("id");
    std::fs::write(gates.join("hold"), "").expect("hold");

    // A runtime install holds back the jobs of that game's servers…
    let install = queue(&host, "/api/v1/adapters/l4d2/runtime/install").await;
    exists(&gates.join("running")).await;
    let stop = queue(&host, &format!("/api/v1/servers/{server}/actions/stop")).await;
    // …but not another game's: it is claimed after `stop` was passed over (the oldest
    // runnable job is claimed first), and runs while the install still runs.
    let other = queue(&host, "/api/v1/adapters/generic/runtime/install").await;
    assert_eq!(finished(&host, other).await["state"], "succeeded");
    assert_eq!(
        job(&host, stop).await["state"],
        "queued",
        "waits for the install"
    );
    assert_eq!(job(&host, install).await["state"], "running");
    std::fs::write(gates.join("go"), "").expect("go");
    assert_eq!(finished(&host, install).await["state"], "succeeded");
    let stopped = finished(&host, stop).await;
    assert_eq!(stopped["state"], "succeeded", "{stopped}");

    // A job on one of the game's servers holds back its runtime's update the same way.
    let server_install = queue(&host, &format!("/api/v1/servers/{server}/actions/install")).await;
    exists(&gates.join("running")).await;
    let update = queue(&host, "/api/v1/adapters/l4d2/runtime/update").await;
    let other = queue(&host, "/api/v1/adapters/generic/runtime/update").await;
    assert_eq!(finished(&host, other).await["state"], "succeeded");
    assert_eq!(
        job(&host, update).await["state"],
        "queued",
        "waits for the server"
    );
    std::fs::write(gates.join("go"), "").expect("go");
    assert_eq!(finished(&host, server_install).await["state"], "succeeded");
    // The update runs (and holds) only now.
    exists(&gates.join("running")).await;
    assert_eq!(
        job_in(&host, update, &["running"]).await["state"],
        "running"
    );
    std::fs::write(gates.join("go"), "").expect("go");
    assert_eq!(finished(&host, update).await["state"], "succeeded");

    // The server's install reached the shared runtime too; the runtime's job is the update.
    let (_, state) = host.get_json("/api/v1/adapters/l4d2/runtime").await;
    assert_eq!(state["installed"], true);
    assert_eq!(state["build_id"], "14912345");
    assert_eq!(state["job"]["id"], update);
    host.stop().await;
}
