use std::fs::OpenOptions;
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use serde_json::json;
use tokio::sync::broadcast;

use super::*;
use crate::adapters::{AdapterRuntime, SandboxConfig, settings};
use crate::store::logs;
use crate::store::servers::{self, NewServer};

fn adapters() -> AdapterRuntime {
    static ADAPTERS: OnceLock<AdapterRuntime> = OnceLock::new();
    ADAPTERS
        .get_or_init(|| {
            let runtime = AdapterRuntime::new(SandboxConfig::default(), None).expect("runtime");
            runtime.load_builtins().expect("built-ins");
            runtime
        })
        .clone()
}

fn generic_parser(ready_pattern: &str) -> LogParser {
    let runtime = adapters();
    let adapter = runtime.get("generic").expect("generic adapter");
    let typed = settings::from_json(
        &adapter.schema,
        &json!({"executable": "/bin/true", "ready_pattern": ready_pattern}),
    )
    .expect("settings");
    LogParser::new(runtime.session(adapter), typed).expect("parser")
}

async fn store_with_server(dir: &Path) -> (Store, i64) {
    let path = dir.join("garrison.db");
    let store = tokio::task::spawn_blocking(move || Store::open(&path))
        .await
        .expect("join")
        .expect("store");
    let server = store
        .call(|conn| servers::insert(conn, &NewServer::new("s", "generic", json!({}))))
        .await
        .expect("server");
    (store, server.id)
}

fn append(path: &Path, text: &str) {
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .expect("open")
        .write_all(text.as_bytes())
        .expect("write");
}

fn console_spec(server_id: i64, path: &Path, resume: HashMap<String, Position>) -> PipelineSpec {
    PipelineSpec {
        server_id,
        sources: vec![Source {
            name: "console".into(),
            target: Target::File(path.to_path_buf()),
        }],
        resume,
        not_before: None,
    }
}

/// Receives log events until `count` lines have arrived (bounded, so a bug fails the test
/// instead of hanging it).
async fn receive_lines(
    events: &mut broadcast::Receiver<Arc<Event>>,
    count: usize,
) -> Vec<logs::LogLine> {
    let mut lines = Vec::new();
    while lines.len() < count {
        let event = tokio::time::timeout(Duration::from_secs(20), events.recv())
            .await
            .expect("lines within the bound")
            .expect("bus open");
        if let EventKind::Log { lines: batch } = &event.kind {
            lines.extend(batch.iter().cloned());
        }
    }
    lines
}

async fn stored_cursors(store: &Store, id: i64) -> HashMap<String, Position> {
    store
        .call(move |conn| logs::cursors(conn, id))
        .await
        .expect("cursors")
        .into_iter()
        .map(|c| {
            (
                c.source,
                Position {
                    path: PathBuf::from(c.path),
                    id: FileId {
                        device: c.device,
                        inode: c.inode,
                    },
                    offset: c.offset,
                },
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn appended_lines_are_stored_and_published_in_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (store, id) = store_with_server(dir.path()).await;
    let log = dir.path().join("console.log");
    let bus = EventBus::new();
    let mut events = bus.subscribe();
    let pipeline = LogPipeline::spawn(
        console_spec(id, &log, HashMap::new()),
        None,
        store.clone(),
        bus,
        DirWatcher::new(),
        Arc::new(|_, _| {}),
    );
    for n in 0..500 {
        append(&log, &format!("line {n}\n"));
    }
    let lines = receive_lines(&mut events, 500).await;
    let texts: Vec<String> = lines.iter().map(|l| l.text.clone()).collect();
    let want: Vec<String> = (0..500).map(|n| format!("line {n}")).collect();
    assert_eq!(texts, want);
    let seqs: Vec<i64> = lines.iter().map(|l| l.seq).collect();
    assert_eq!(seqs, (1..=500).collect::<Vec<_>>(), "gap-free sequence");
    pipeline.finish(Finish::Detach).await;

    let stored = store
        .call(move |conn| logs::after(conn, id, 0, 1000))
        .await
        .expect("stored");
    assert_eq!(stored, lines);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_detached_pipeline_resumes_without_losing_or_repeating_a_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (store, id) = store_with_server(dir.path()).await;
    let log = dir.path().join("console.log");
    let bus = EventBus::new();
    let mut events = bus.subscribe();
    let spawn = |resume| {
        LogPipeline::spawn(
            console_spec(id, &log, resume),
            None,
            store.clone(),
            bus.clone(),
            DirWatcher::new(),
            Arc::new(|_, _| {}),
        )
    };

    let first = spawn(HashMap::new());
    append(&log, "one\ntwo\nhalf");
    receive_lines(&mut events, 2).await;
    first.finish(Finish::Detach).await;

    // The game keeps writing while no host watches.
    append(&log, " a line\nthree\n");
    let second = spawn(stored_cursors(&store, id).await);
    let lines = receive_lines(&mut events, 2).await;
    assert_eq!(
        lines.iter().map(|l| l.text.as_str()).collect::<Vec<_>>(),
        ["half a line", "three"]
    );
    append(&log, "last words without newline");
    second.finish(Finish::ProcessEnded).await;
    let all = store
        .call(move |conn| logs::after(conn, id, 0, 100))
        .await
        .expect("stored");
    assert_eq!(
        all.iter().map(|l| l.text.as_str()).collect::<Vec<_>>(),
        [
            "one",
            "two",
            "half a line",
            "three",
            "last words without newline"
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_adapter_parses_and_a_ready_line_calls_the_hook_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (store, id) = store_with_server(dir.path()).await;
    let log = dir.path().join("console.log");
    let bus = EventBus::new();
    let mut events = bus.subscribe();
    let ready = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&ready);
    let pipeline = LogPipeline::spawn(
        console_spec(id, &log, HashMap::new()),
        Some(generic_parser("listening on port \\d+")),
        store.clone(),
        bus,
        DirWatcher::new(),
        Arc::new(move |server, event| {
            assert_eq!(server, id);
            if *event == GameEvent::ServerReady {
                seen.fetch_add(1, Ordering::SeqCst);
            }
        }),
    );
    append(
        &log,
        "loading\nERROR: missing texture\nlistening on port 2302\n",
    );
    let lines = receive_lines(&mut events, 3).await;
    assert_eq!(lines[2].events, vec![GameEvent::ServerReady]);
    assert_eq!(lines[1].level, crate::adapters::model::Level::Error);
    pipeline.finish(Finish::ProcessEnded).await;
    assert_eq!(ready.load(Ordering::SeqCst), 1);
}
