//! Arma 3 adapter costs: RPT parsing through the component and natively (lines per second,
//! batches of 1,000), and BattlEye packet encode/decode, natively and through the component's
//! session (a server message in, its acknowledgement out).
#![allow(missing_docs)] // criterion_group! generates undocumented public functions

use std::time::Duration;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use garrison::adapters::{AdapterRuntime, LogParser, RconSession, SandboxConfig, settings};
use garrison_adapter_arma3::Arma3;
use garrison_adapter_sdk::protocol::battleye;
use garrison_adapter_sdk::{Adapter, LogParser as _, Settings};

const BATCH: usize = 1000;
const SAMPLE: &str = include_str!("../tests/data/arma3/sample.rpt");

/// 1,000 RPT lines: the timestamped part of the golden sample, repeated with advancing
/// times — joins, chat, server load, kicks, a multi-line script error.
fn rpt_lines() -> Vec<String> {
    let body: Vec<&str> = SAMPLE
        .lines()
        .filter(|l| l.len() > 8 && l.as_bytes()[2] == b':' || l.starts_with("_x"))
        .collect();
    (0..BATCH)
        .map(|i| {
            let line = body[i % body.len()];
            if line.as_bytes().get(2) == Some(&b':') {
                let secs = 12 * 3600 + i;
                format!(
                    "{:02}:{:02}:{:02}{}",
                    secs / 3600 % 24,
                    secs / 60 % 60,
                    secs % 60,
                    &line[8..]
                )
            } else {
                line.to_string()
            }
        })
        .collect()
}

fn runtime() -> AdapterRuntime {
    let runtime = AdapterRuntime::new(SandboxConfig::default(), None).expect("runtime");
    runtime.load_builtins().expect("built-ins");
    runtime
}

fn rpt_parsing(c: &mut Criterion) {
    let runtime = runtime();
    let adapter = runtime.get("arma3").expect("arma3");
    let lines = rpt_lines();
    let mut group = c.benchmark_group("arma3/rpt parse 1000 lines");
    group.throughput(Throughput::Elements(BATCH as u64));

    let mut parser = LogParser::new(
        runtime.session(adapter.clone()),
        settings::defaults(&adapter.schema),
    )
    .expect("parser");
    group.bench_function("wasm component (host API)", |b| {
        b.iter_batched(
            || lines.clone(),
            |batch| parser.feed("rpt", batch).expect("feed"),
            BatchSize::SmallInput,
        )
    });

    let mut native = Arma3::create_parser(&Settings::default()).expect("parser");
    let batch: String = lines.iter().map(|l| format!("{l}\n")).collect();
    group.bench_function("native", |b| b.iter(|| native.feed("rpt", &batch)));
    group.finish();
}

fn packets(c: &mut Criterion) {
    let mut group = c.benchmark_group("arma3/battleye packets");
    group.throughput(Throughput::Elements(1));
    let message = battleye::encode(
        0x02,
        b"\x07RCon admin #0: (Global) a typical chat line of some length",
    );
    group.bench_function("native encode command", |b| {
        b.iter(|| battleye::command(7, "say -1 Server restart in 5 minutes"))
    });
    group.bench_function("native decode server message", |b| {
        b.iter(|| battleye::decode(std::hint::black_box(&message)).is_ok())
    });

    let runtime = runtime();
    let adapter = runtime.get("arma3").expect("arma3");
    let mut session = RconSession::new(runtime.session(adapter), "password", 0).expect("session");
    session.transmit(0).expect("login");
    let ok = battleye::encode(0x00, &[0x01]);
    session.receive(&ok, 1).expect("logged in");
    let mut now = 2;
    group.bench_function("wasm session: message in, ack out", |b| {
        b.iter(|| {
            now += 1;
            let events = session.receive(&message, now).expect("receive");
            let acks = session.transmit(now).expect("transmit");
            (events, acks)
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(5));
    targets = rpt_parsing, packets
}
criterion_main!(benches);
