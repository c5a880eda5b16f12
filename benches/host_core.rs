//! Host core latencies: a queued job reaching its executor (enqueue → running), and a game
//! process's death being noticed (SIGKILL → exit observed).
#![allow(missing_docs)] // criterion_group! generates undocumented public functions

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use garrison::jobs::{JobContext, JobExecutor, JobFuture, JobQueue, StepSuccess};
use garrison::store::servers::{self, NewServer};
use garrison::store::{Job, JobKind, NewJob, Store};
use garrison::supervisor::process::{ProcessSpec, kill_group, spawn};
use tokio::sync::mpsc;

/// An executor that reports the moment a job reaches it and succeeds at once.
struct Signal(mpsc::UnboundedSender<Instant>);

impl JobExecutor for Signal {
    fn run(&self, _job: Job, _ctx: JobContext) -> JobFuture {
        let _ = self.0.send(Instant::now());
        Box::pin(async { Ok(StepSuccess::default()) })
    }
}

fn enqueue_to_running(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().expect("tokio");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("garrison.db");
    let store = Store::open(&path).expect("store");
    let (tx, mut started) = mpsc::unbounded_channel();
    let queue = rt
        .block_on(JobQueue::start(store.clone(), Arc::new(Signal(tx)), 2))
        .expect("queue");
    // Jobs round-robin over a few servers so a worker is always free.
    let ids: Vec<i64> = (0..4)
        .map(|i| {
            store
                .call_blocking(move |conn| {
                    servers::insert(
                        conn,
                        &NewServer::new(format!("s{i}"), "generic", serde_json::json!({})),
                    )
                })
                .expect("server")
                .id
        })
        .collect();
    let mut n = 0usize;
    c.bench_function("jobs: enqueue -> running (file-backed SQLite, WAL)", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    n += 1;
                    let id = ids[n % ids.len()];
                    let t0 = Instant::now();
                    queue
                        .enqueue(NewJob::for_server(id, JobKind::Initialize, "bench"))
                        .await
                        .expect("enqueue");
                    let reached = started.recv().await.expect("started");
                    total += reached.duration_since(t0);
                    // Let the job finish so the next one for this server is runnable.
                    tokio::time::sleep(Duration::from_micros(200)).await;
                }
                total
            })
        })
    });
    rt.block_on(queue.shutdown());
}

fn crash_detected(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().expect("tokio");
    let dir = tempfile::tempdir().expect("tempdir");
    c.bench_function("supervisor: SIGKILL -> exit noticed (pidfd)", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let mut game = spawn(ProcessSpec {
                        program: "/bin/sleep".into(),
                        args: vec!["100".into()],
                        working_dir: dir.path().to_path_buf(),
                        env: Vec::new(),
                        console_dir: dir.path().join("console"),
                    })
                    .expect("spawn");
                    let pgid = game.pgid();
                    let t0 = Instant::now();
                    kill_group(pgid).expect("SIGKILL");
                    game.exited().await;
                    total += t0.elapsed();
                }
                total
            })
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).measurement_time(Duration::from_secs(5));
    targets = enqueue_to_running, crash_detected
}
criterion_main!(benches);
