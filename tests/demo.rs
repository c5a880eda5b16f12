//! `serve --demo` end to end: the real host creates the demo servers backed by the
//! simulator, starts them, and within seconds they are running with live log lines,
//! players and metrics in the database; a second start creates nothing more.

use crate::common;

use std::time::Duration;

use garrison::store::{ActualState, Store};

/// Polls the database until `check` finds something (bounded, so a broken demo fails).
async fn until<T, F>(store: &Store, what: &str, check: F) -> T
where
    T: Send + 'static,
    F: Fn(&mut rusqlite::Connection) -> Option<T> + Send + Clone + 'static,
{
    let limit = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let check = check.clone();
        if let Some(found) = store.call(move |c| Ok(check(c))).await.expect("query") {
            return found;
        }
        assert!(tokio::time::Instant::now() < limit, "never: {what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_runs_simulated_servers_with_live_logs_players_and_metrics() {
    let dir = tempfile::tempdir().expect("tempdir");
    // The games outlive the host by design; the test host ends them, also if this fails.
    let path = dir.path().to_path_buf();
    let host = common::start_host_with(dir, |config| {
        config.demo = Some(common::sim_bin().to_path_buf());
        config.player_poll = Duration::from_millis(500);
        config.metrics_interval = Duration::from_millis(500);
    })
    .await;
    // A second connection to the same database, as another process would open it.
    let db = path.join("garrison.db");
    let store = tokio::task::spawn_blocking(move || Store::open(&db))
        .await
        .expect("join")
        .expect("store");

    let running: Vec<(i64, u32)> = until(&store, "two demo servers running", |c| {
        let servers = garrison::store::servers::list(c).ok()?;
        (servers.len() == 2
            && servers
                .iter()
                .all(|s| s.actual_state == ActualState::Running))
        .then(|| {
            servers
                .iter()
                .filter_map(|s| Some((s.id, s.process.as_ref()?.pid)))
                .collect()
        })
    })
    .await;
    assert_eq!(running.len(), 2);
    for &(id, _) in &running {
        until(&store, "log lines, players and metrics", move |c| {
            let lines = garrison::store::logs::last_seq(c, id).ok()?;
            let players = garrison::store::players::online(c, id).ok()?;
            let metrics = garrison::store::metrics::latest(c, id).ok()?;
            (lines > 0 && !players.is_empty() && metrics.iter().any(|m| m.name == "memory_bytes"))
                .then_some(())
        })
        .await;
    }
    host.stop().await;
}
