//! The adapter sandbox stops hostile adapters and keeps serving good ones.
//!
//! Each fixture in `adapters-wasm/fixtures/` misbehaves on purpose; these tests prove the
//! sandbox turns every misbehaviour into an error value, throws the poisoned instance away,
//! and that the host still serves calls (to the same adapter and to others) afterwards.

use crate::common;

use std::sync::Arc;
use std::time::Duration;

use common::{runtime_with_deadline, wasm};
use garrison::adapters::model::GameEvent;
use garrison::adapters::model::{Context, Setting, SettingValue};
use garrison::adapters::{
    AdapterError, AdapterRuntime, FeedError, LoadedAdapter, LogParser, Origin, SandboxConfig,
};

fn load(runtime: &AdapterRuntime, name: &str) -> Arc<LoadedAdapter> {
    runtime
        .load(&wasm(name), Origin::Builtin)
        .unwrap_or_else(|e| panic!("{name} loads: {e}"))
}

fn ctx() -> Context {
    Context {
        server_id: "1".into(),
        instance_dir: "/tmp/garrison-test/instance".into(),
        runtime_dir: "/tmp/garrison-test/runtime".into(),
    }
}

fn generic_settings() -> Vec<Setting> {
    vec![
        Setting {
            key: "executable".into(),
            value: SettingValue::Text("/bin/sleep".into()),
        },
        Setting {
            key: "args".into(),
            value: SettingValue::Items(vec!["60".into()]),
        },
        Setting {
            key: "ready_pattern".into(),
            value: SettingValue::Text("^ready$".into()),
        },
    ]
}

/// The good adapter still answers correctly.
fn assert_generic_serves(runtime: &AdapterRuntime) {
    let mut session = runtime.session_for("generic").expect("generic registered");
    let spec = session.launch(&ctx(), &generic_settings()).expect("launch");
    assert_eq!(spec.program, "/bin/sleep");
    assert_eq!(spec.args, vec!["60"]);
    let mut parser = LogParser::new(
        runtime.session_for("generic").expect("generic"),
        generic_settings(),
    )
    .expect("parser");
    let entries = parser
        .feed("console", vec!["booting".into(), "ready".into()])
        .expect("feed");
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[1].events, vec![GameEvent::ServerReady]);
}

#[test]
fn an_endless_loop_is_stopped_at_the_deadline() {
    let runtime = runtime_with_deadline(Duration::from_millis(50));
    let spin = load(&runtime, "garrison_fixture_spin");
    let mut session = runtime.session(Arc::clone(&spin));
    for _ in 0..2 {
        // Twice: the second call runs in a fresh instance and is stopped again.
        match session.validate(&Vec::new()) {
            Err(AdapterError::Timeout(d)) => assert_eq!(d, Duration::from_millis(50)),
            other => panic!("expected a timeout, got {other:?}"),
        }
    }
    assert_eq!(
        session.generation(),
        2,
        "each timeout discards the instance"
    );
    let mut parser = LogParser::new(runtime.session(spin), Vec::new()).expect("parser");
    assert!(matches!(
        parser.feed("console", vec!["x".into()]),
        Err(FeedError {
            error: AdapterError::Timeout(_),
            ..
        })
    ));
    assert_generic_serves(&runtime);
}

#[test]
fn unbounded_allocation_hits_the_memory_limit() {
    let config = SandboxConfig {
        memory_limit: 16 << 20,
        max_instances: Some(16),
        ..SandboxConfig::default()
    };
    let runtime = AdapterRuntime::new(config, None).expect("runtime");
    runtime.load_builtins().expect("built-ins");
    let hog = load(&runtime, "garrison_fixture_hog");
    let mut session = runtime.session(Arc::clone(&hog));
    match session.validate(&Vec::new()) {
        Err(e @ AdapterError::OutOfMemory(limit)) => {
            assert_eq!(limit, 16 << 20);
            assert!(e.to_string().contains("16 MiB"), "{e}");
        }
        other => panic!("expected out of memory, got {other:?}"),
    }
    let mut parser = LogParser::new(runtime.session(hog), Vec::new()).expect("parser");
    assert!(matches!(
        parser.feed("console", vec!["x".into()]),
        Err(FeedError {
            error: AdapterError::OutOfMemory(_),
            ..
        })
    ));
    assert_generic_serves(&runtime);
}

#[test]
fn a_trap_becomes_an_error_and_the_next_call_gets_a_fresh_instance() {
    let runtime = runtime_with_deadline(Duration::from_millis(500));
    let trap = load(&runtime, "garrison_fixture_trap");
    let mut session = runtime.session(trap);
    // The fixture counts schema() calls per instance in the label of its only field.
    let calls =
        |s: &mut garrison::adapters::AdapterSession| s.schema().expect("schema")[0].label.clone();
    assert_eq!(calls(&mut session), "1");
    assert_eq!(
        calls(&mut session),
        "2",
        "same instance while nothing traps"
    );
    match session.validate(&Vec::new()) {
        Err(AdapterError::Trap(message)) => assert!(message.contains("unreachable"), "{message}"),
        other => panic!("expected a trap, got {other:?}"),
    }
    assert_eq!(
        calls(&mut session),
        "1",
        "the trapped instance was replaced"
    );
    assert_generic_serves(&runtime);
}

#[test]
fn a_parser_survives_its_instance_trapping() {
    let runtime = runtime_with_deadline(Duration::from_millis(500));
    let trap = load(&runtime, "garrison_fixture_trap");
    let mut parser = LogParser::new(runtime.session(trap), Vec::new()).expect("parser");
    for round in 0..3 {
        let lines = vec![format!("line a{round}"), format!("line b{round}")];
        match parser.feed("console", lines.clone()) {
            Err(FeedError { unparsed, .. }) => {
                let texts: Vec<String> = unparsed.into_iter().map(|e| e.record.text).collect();
                assert_eq!(
                    texts, lines,
                    "lines survive the trap, unparsed and in order"
                );
            }
            Ok(_) => panic!("the trap fixture never parses"),
        }
        assert!(matches!(
            parser.feed("console", vec!["x".into()]),
            Err(FeedError {
                error: AdapterError::Trap(_),
                ..
            })
        ));
    }
    assert_eq!(
        parser.session().generation(),
        6,
        "parser re-created in each fresh instance"
    );
}

#[test]
fn oversized_answers_are_refused() {
    // A generous deadline, so that it is the size cap that stops the fixture.
    let runtime = runtime_with_deadline(Duration::from_secs(10));
    let flood = load(&runtime, "garrison_fixture_flood");
    let mut session = runtime.session(Arc::clone(&flood));
    match session.render(&ctx(), &Vec::new()) {
        Err(AdapterError::OutputTooLarge(what)) => {
            assert!(what.contains("rendered files"), "{what}")
        }
        other => panic!(
            "expected an oversized answer, got {:?}",
            other.map(|f| f.len())
        ),
    }
    match session.content_dirs(&Vec::new()) {
        Err(AdapterError::OutputTooLarge(what)) => assert!(what.contains("content"), "{what}"),
        other => panic!(
            "expected an oversized answer, got {:?}",
            other.map(|d| d.len())
        ),
    }
    let mut parser = LogParser::new(runtime.session(flood), Vec::new()).expect("parser");
    match parser.feed("console", vec!["x".into()]) {
        Err(FeedError {
            error: AdapterError::OutputTooLarge(what),
            unparsed,
        }) => {
            assert!(what.contains("log records"), "{what}");
            assert_eq!(unparsed.len(), 1, "the line is kept, unparsed");
            assert_eq!(unparsed[0].record.text, "x");
        }
        other => panic!(
            "expected an oversized answer, got {:?}",
            other.map(|e| e.len())
        ),
    }
    assert_generic_serves(&runtime);
}

#[test]
fn bad_components_are_refused_with_a_reason() {
    let runtime = runtime_with_deadline(Duration::from_millis(200));
    let cases: [(&[u8], &str); 4] = [
        (b"this is not wasm", "not a valid WebAssembly component"),
        // A core module (the empty module) is WebAssembly, but not a component.
        (b"\0asm\x01\0\0\0", "not a valid WebAssembly component"),
        (
            &wasm("garrison_fixture_wrong_world"),
            "implements no garrison:adapter/game-adapter world this host serves (0.2.0 or 0.1.0)",
        ),
        (
            &wasm("garrison_fixture_bad_describe"),
            "describe() failed: the adapter crashed",
        ),
    ];
    for (bytes, expected) in cases {
        match runtime.load(bytes, Origin::Builtin) {
            Err(AdapterError::Load(message)) => assert!(message.contains(expected), "{message}"),
            other => panic!("expected a load error containing {expected:?}, got {other:?}"),
        }
    }
    assert_generic_serves(&runtime);
}

#[test]
fn the_sandbox_grants_no_environment_files_or_network() {
    // The probe fixture tries each door from inside and reports what happened as the labels
    // of its schema fields.
    let runtime = runtime_with_deadline(Duration::from_millis(500));
    let probe = load(&runtime, "garrison_fixture_probe");
    let report: std::collections::HashMap<String, String> = probe
        .schema
        .iter()
        .map(|f| (f.key.clone(), f.label.clone()))
        .collect();
    assert_eq!(report["env"], "0", "no environment variables");
    assert_eq!(report["args"], "0", "no arguments");
    for door in [
        "read-root",
        "read-cwd",
        "read-passwd",
        "write-tmp",
        "tcp",
        "udp",
    ] {
        assert!(
            report[door].starts_with("denied"),
            "{door}: {}",
            report[door]
        );
    }
    assert!(!std::path::Path::new("/tmp/garrison-probe").exists());
    assert_eq!(
        report["clock"], "granted",
        "reading the clock is harmless and allowed"
    );
}

#[test]
fn compiled_components_are_cached_on_disk() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cache = dir.path().join("components");
    let config = SandboxConfig {
        max_instances: Some(8),
        ..SandboxConfig::default()
    };
    let first = AdapterRuntime::new(config.clone(), Some(cache.clone())).expect("runtime");
    first.load_builtins().expect("built-ins");
    let entries = |dir: &std::path::Path| -> Vec<(std::path::PathBuf, std::time::SystemTime)> {
        let mut v: Vec<_> = std::fs::read_dir(dir)
            .expect("cache dir")
            .flatten()
            .map(|e| {
                (
                    e.path(),
                    e.metadata().and_then(|m| m.modified()).expect("mtime"),
                )
            })
            .collect();
        v.sort();
        v
    };
    let written = entries(&cache);
    assert_eq!(written.len(), garrison::adapters::BUILTIN.len());
    // Each entry is named by the component's hash (and the engine's), e.g. generic's:
    let sha = &first.get("generic").expect("generic").sha256;
    let (path, _) = written
        .iter()
        .find(|(p, _)| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(sha.as_str()) && n.ends_with(".cwasm"))
        })
        .expect("an entry named by generic's hash");

    // A second runtime (a restart) uses the entry instead of writing a new one.
    let second = AdapterRuntime::new(config.clone(), Some(cache.clone())).expect("runtime");
    second.load_builtins().expect("built-ins from cache");
    assert_eq!(
        entries(&cache),
        written,
        "cache entry reused, not rewritten"
    );
    assert_generic_serves(&second);

    // A corrupt entry is discarded and recompiled, not trusted.
    std::fs::write(path, b"garbage").expect("corrupt entry");
    let third = AdapterRuntime::new(config, Some(cache.clone())).expect("runtime");
    third
        .load_builtins()
        .expect("built-ins despite a corrupt cache");
    assert_generic_serves(&third);
}

#[test]
fn adapter_calls_do_not_stall_the_async_runtime() {
    // One worker thread: if a spinning call ran on it, the other task could not proceed
    // until the call was stopped.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("tokio");
    let runtime = runtime_with_deadline(Duration::from_millis(300));
    let spin = load(&runtime, "garrison_fixture_spin");
    rt.block_on(async move {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let spin_tx = tx.clone();
        // The host's own call helper, the one every async caller goes through.
        let call = tokio::spawn(async move {
            let result = runtime
                .call(spin, |session| session.validate(&Vec::new()))
                .await;
            let _ = spin_tx.send("adapter call finished");
            result
        });
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(10)).await;
            let _ = tx.send("other task ran");
        });
        assert_eq!(rx.recv().await, Some("other task ran"));
        assert_eq!(rx.recv().await, Some("adapter call finished"));
        assert!(matches!(
            call.await.expect("join"),
            Err(AdapterError::Timeout(_))
        ));
    });
}
