//! A smoke test of a loaded adapter: every export called once with the schema's defaults and
//! a sample log, under the normal sandbox limits.
//!
//! The adapter's own answers — including refusals such as "executable is required" — are
//! fine; a sandbox stop (timeout, memory limit, trap, oversized answer) means the adapter is
//! broken or hostile, and the check fails. Used by `garrison adapter check` and by uploads.

use std::path::Path;
use std::sync::Arc;

use super::model::Context;
use super::{AdapterError, AdapterRuntime, LoadedAdapter, LogParser, settings};

/// What one step of the check saw.
#[derive(Debug)]
pub struct CheckStep {
    /// The export exercised.
    pub name: &'static str,
    /// A one-line summary of the answer, or the error.
    pub outcome: Result<String, AdapterError>,
}

impl CheckStep {
    /// Whether this step shows the adapter misbehaving (rather than merely refusing): the
    /// sandbox stopped it, or its answer breaks the contract.
    pub fn failed(&self) -> bool {
        self.outcome
            .as_ref()
            .is_err_and(|e| e.is_sandbox_stop() || matches!(e, AdapterError::Contract(_)))
    }
}

/// Lines every parser should digest without trouble: blank, long, odd characters, and
/// shapes common in game logs.
fn sample_log() -> Vec<String> {
    let mut lines: Vec<String> = [
        "",
        " 4:01:09 Server started",
        "07:52:09.123 Player \"Ärger ☃\" connected",
        "L 01/02/2024 - 03:04:05: \"Name<2><STEAM_1:0:123><>\" connected, address \"127.0.0.1:27005\"",
        "ERROR: something failed",
        "    continuation of the previous entry",
        "\t",
        "\u{fffd}\u{fffd} replacement characters",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    lines.push("x".repeat(16 * 1024));
    lines
}

/// Exercises every export of `adapter` once. Never panics; every outcome is recorded.
pub fn smoke_test(runtime: &AdapterRuntime, adapter: &Arc<LoadedAdapter>) -> Vec<CheckStep> {
    let defaults = settings::defaults(&adapter.schema);
    let ctx = Context::new(
        "check",
        Path::new("/nonexistent/garrison-check/instance"),
        Path::new("/nonexistent/garrison-check/runtime"),
    );
    let mut session = runtime.session(Arc::clone(adapter));
    let mut steps = Vec::new();
    let mut step = |name, outcome| steps.push(CheckStep { name, outcome });

    step(
        "validate",
        session.validate(&defaults).map(|answer| match answer {
            Ok(()) => "defaults accepted".to_string(),
            Err(problems) => format!("defaults refused with {} field error(s)", problems.len()),
        }),
    );
    step(
        "render",
        session
            .render(&ctx, &defaults)
            .map(|files| format!("{} file(s)", files.len())),
    );
    step(
        "launch",
        session
            .launch(&ctx, &defaults)
            .map(|spec| format!("{} with {} argument(s)", spec.program, spec.args.len())),
    );
    step(
        "stop-plan",
        session
            .stop_plan(&defaults)
            .map(|spec| format!("{} step(s)", spec.steps.len())),
    );
    step(
        "content directories",
        session.content_dirs(&defaults).map(|dirs| {
            dirs.iter()
                .map(|d| format!("{} in {:?}", d.kind.capability(), d.dir.path))
                .collect::<Vec<_>>()
                .join(", ")
        }),
    );
    let sources = session.log_sources(&defaults);
    let source = sources
        .as_ref()
        .ok()
        .and_then(|s| s.first())
        .map_or_else(|| "console".to_string(), |s| s.name.clone());
    step(
        "log sources",
        sources.map(|s| {
            s.iter()
                .map(|s| s.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        }),
    );
    let parsed =
        LogParser::new(runtime.session(Arc::clone(adapter)), defaults).and_then(|mut p| {
            let mut entries = p.feed(&source, sample_log()).map_err(|e| e.error)?;
            entries.extend(p.flush(&source).map_err(|e| e.error)?);
            Ok(entries)
        });
    step(
        "parser",
        parsed.map(|entries| {
            let events: usize = entries.iter().map(|e| e.events.len()).sum();
            format!(
                "{} record(s), {events} event(s) from the sample log",
                entries.len()
            )
        }),
    );
    steps
}
