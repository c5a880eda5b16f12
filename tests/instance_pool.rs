//! The engine's instance pool: sized from the machine unless configured; when a configured
//! pool is full, asking for an instance is a clear error naming the limit and the option that
//! raises it (never a trap), and slots given back serve again.

use std::sync::Arc;

use garrison::adapters::{AdapterError, AdapterRuntime, AdapterSession, LogParser, SandboxConfig};

fn runtime_with(max_instances: Option<u32>) -> AdapterRuntime {
    let config = SandboxConfig {
        max_instances,
        ..SandboxConfig::default()
    };
    let runtime = AdapterRuntime::new(config, None).expect("runtime");
    runtime.load_builtins().expect("built-ins");
    runtime
}

/// A session of the generic adapter that holds an instance.
fn held(runtime: &AdapterRuntime) -> Result<AdapterSession, AdapterError> {
    let mut session = runtime.session_for("generic").expect("generic");
    session.warm()?;
    Ok(session)
}

#[test]
fn a_full_pool_is_a_clear_error_and_freed_slots_are_reused() {
    let runtime = runtime_with(Some(4));
    assert_eq!(runtime.max_instances(), 4);
    assert_eq!(runtime.instances_in_use(), 0, "loading holds no instance");
    let mut sessions: Vec<AdapterSession> = (0..4)
        .map(|_| held(&runtime).expect("a free slot"))
        .collect();
    assert_eq!(runtime.instances_in_use(), 4);

    let error = held(&runtime)
        .err()
        .expect("the fifth instance has no slot");
    match &error {
        AdapterError::NoInstanceSlot { in_use, limit } => {
            assert_eq!((*in_use, *limit), (4, 4));
        }
        other => panic!("expected no free slot, got {other:?}"),
    }
    assert!(!error.is_sandbox_stop(), "the adapter did nothing wrong");
    let message = error.to_string();
    assert!(message.contains("limit 4"), "{message}");
    assert!(message.contains("--max-adapter-instances"), "{message}");
    assert!(
        message.contains("GARRISON_MAX_ADAPTER_INSTANCES"),
        "{message}"
    );

    // Everything that takes an instance says the same: a parser, a whole load.
    let generic = runtime.get("generic").expect("generic");
    assert!(matches!(
        LogParser::new(runtime.session(Arc::clone(&generic)), Vec::new()),
        Err(AdapterError::NoInstanceSlot { .. })
    ));
    let (_, bytes) = garrison::adapters::BUILTIN
        .iter()
        .find(|(name, _)| *name == "generic.wasm")
        .expect("the generic adapter is built in");
    assert!(matches!(
        runtime.load(bytes, garrison::adapters::Origin::Builtin),
        Err(AdapterError::NoInstanceSlot { .. })
    ));
    // A session refused a slot is not broken: it gets one once one is free.
    let mut waiting = runtime.session(Arc::clone(&generic));
    assert!(waiting.describe().is_err());

    // Dropping a session gives its slot back; releasing one does too, and the session
    // carries on with a fresh instance on its next call.
    sessions.pop();
    assert_eq!(runtime.instances_in_use(), 3);
    assert_eq!(waiting.describe().expect("a freed slot").id, "generic");
    assert_eq!(runtime.instances_in_use(), 4);
    let first = &mut sessions[0];
    let generation = first.generation();
    first.release();
    assert_eq!(runtime.instances_in_use(), 3);
    let parser = LogParser::new(runtime.session(generic), Vec::new()).expect("a released slot");
    assert_eq!(runtime.instances_in_use(), 4);
    drop(parser);
    first.describe().expect("a fresh instance");
    assert_eq!(first.generation(), generation + 1);
    assert_eq!(runtime.instances_in_use(), 4);
}

#[test]
fn the_default_pool_is_sized_from_the_machine_and_holds_more_than_the_old_512() {
    assert_eq!(SandboxConfig::default().max_instances, None);
    let runtime = runtime_with(None);
    let limit = runtime.max_instances();
    assert_eq!(
        limit,
        garrison::adapters::pool::Machine::this().default_instances(64 << 20)
    );
    assert!(limit > 512, "{limit}");
    // Past the old ceiling of 512, with every instance alive at once.
    let sessions: Vec<AdapterSession> = (0..520)
        .map(|i| held(&runtime).unwrap_or_else(|e| panic!("instance {i}: {e}")))
        .collect();
    assert_eq!(runtime.instances_in_use(), 520);
    drop(sessions);
    assert_eq!(runtime.instances_in_use(), 0);
}
