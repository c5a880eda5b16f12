//! Adapter runtime costs: instantiating a session from `InstancePre`, and one parser call on
//! a batch of 1,000 console lines through the component versus the same parser compiled
//! natively.
#![allow(missing_docs)] // criterion_group! generates undocumented public functions

use std::time::Duration;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use garrison::adapters::model::{Setting, SettingValue};
use garrison::adapters::{AdapterRuntime, LogParser, SandboxConfig};
use garrison_adapter_sdk::{Adapter, LogParser as _, Settings};
use garrison_benches::console_lines;

const BATCH: usize = 1000;

fn runtime() -> AdapterRuntime {
    let runtime = AdapterRuntime::new(SandboxConfig::default(), None).expect("runtime");
    runtime.load_builtins().expect("built-ins");
    runtime
}

fn ready_setting() -> Vec<Setting> {
    vec![Setting {
        key: "ready_pattern".into(),
        value: SettingValue::Text(r"^Server ready on port \d+$".into()),
    }]
}

fn instantiate(c: &mut Criterion) {
    let runtime = runtime();
    let generic = runtime.get("generic").expect("generic");
    c.bench_function("adapter/instantiate session (generic)", |b| {
        b.iter(|| {
            let mut session = runtime.session(generic.clone());
            session.warm().expect("instantiate");
            session
        })
    });
}

fn parser_feed(c: &mut Criterion) {
    let runtime = runtime();
    let lines = console_lines(BATCH);
    let mut group = c.benchmark_group("adapter/parser feed 1000 lines (generic)");
    group.throughput(Throughput::Elements(BATCH as u64));

    let mut parser = LogParser::new(
        runtime.session_for("generic").expect("generic"),
        ready_setting(),
    )
    .expect("parser");
    group.bench_function("wasm component (host API)", |b| {
        // The host's tailer owns its lines, so preparing them is not part of the call.
        b.iter_batched(
            || lines.clone(),
            |batch| parser.feed("console", batch).expect("feed"),
            BatchSize::SmallInput,
        )
    });

    let native_settings = Settings::new(vec![garrison_adapter_sdk::Setting {
        key: "ready_pattern".into(),
        value: garrison_adapter_sdk::SettingValue::Text(r"^Server ready on port \d+$".into()),
    }]);
    let mut native =
        garrison_adapter_generic::Generic::create_parser(&native_settings).expect("parser");
    let batch: String = lines.iter().map(|l| format!("{l}\n")).collect();
    group.bench_function("native", |b| b.iter(|| native.feed("console", &batch)));
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(5));
    targets = instantiate, parser_feed
}
criterion_main!(benches);
