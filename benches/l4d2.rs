//! Left 4 Dead 2 adapter costs: game-log (`L …` lines) and console parsing in 1,000-line
//! batches, through the component and natively; and one hostile 300 KB line (100,000 quote
//! pairs a naive player-name scan would revisit), which must stay linear — well under the
//! 100 ms call deadline — rather than be asserted with a clock in the parser's tests.
#![allow(missing_docs)] // criterion_group! generates undocumented public functions

use std::time::Duration;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use garrison::adapters::{AdapterRuntime, LogParser, SandboxConfig, settings};
use garrison_adapter_l4d2::L4d2;
use garrison_adapter_sdk::{Adapter, LogParser as _, Settings};

const BATCH: usize = 1000;
const GAME_LOG: &str = include_str!("../tests/data/l4d2/L0506000.log");
const CONSOLE_LOG: &str = include_str!("../tests/data/l4d2/console.log");

/// 1,000 lines cycling through a sample (joins, chat, kicks, map changes, errors).
fn lines(sample: &str) -> Vec<String> {
    let sample: Vec<&str> = sample.lines().collect();
    (0..BATCH)
        .map(|i| sample[i % sample.len()].to_string())
        .collect()
}

fn parsing(c: &mut Criterion) {
    let runtime = AdapterRuntime::new(SandboxConfig::default(), None).expect("runtime");
    runtime.load_builtins().expect("built-ins");
    let adapter = runtime.get("l4d2").expect("l4d2");
    for (source, sample) in [("game", GAME_LOG), ("console", CONSOLE_LOG)] {
        let batch_lines = lines(sample);
        let mut group = c.benchmark_group(format!("l4d2/parse 1000 {source} lines"));
        group.throughput(Throughput::Elements(BATCH as u64));
        let mut parser = LogParser::new(
            runtime.session(adapter.clone()),
            settings::defaults(&adapter.schema),
        )
        .expect("parser");
        group.bench_function("wasm component (host API)", |b| {
            b.iter_batched(
                || batch_lines.clone(),
                |batch| parser.feed(source, batch).expect("feed"),
                BatchSize::SmallInput,
            )
        });
        let mut native = L4d2::create_parser(&Settings::default()).expect("parser");
        let batch: String = batch_lines.iter().map(|l| format!("{l}\n")).collect();
        group.bench_function("native", |b| b.iter(|| native.feed(source, &batch)));
        group.finish();
    }
}

fn hostile_line(c: &mut Criterion) {
    let mut line = String::from("L 05/06/2024 - 12:00:00: \"");
    line.push_str(&">\" ".repeat(100_000));
    line.push('\n');
    let mut group = c.benchmark_group("l4d2/parse one hostile 300 KB game line");
    group.throughput(Throughput::Bytes(line.len() as u64));
    group.bench_function("native", |b| {
        b.iter_batched(
            || L4d2::create_parser(&Settings::default()).expect("parser"),
            |mut parser| parser.feed("game", &line),
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(4));
    targets = parsing, hostile_line
}
criterion_main!(benches);
