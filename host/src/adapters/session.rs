//! Calling an adapter: one [`AdapterSession`] owns one sandboxed instance and runs every call
//! under the deadline and the memory limit.
//!
//! A call that traps, times out or runs out of memory returns an error value and discards the
//! instance (a trapped component instance may not be entered again); the next call gets a
//! fresh one from the adapter's `InstancePre`. Answers are checked against size caps before
//! the host uses them.
//!
//! Calls are synchronous and CPU-bound, bounded by the deadline. Async code runs them with
//! `tokio::task::spawn_blocking` (or on a thread of its own), never on a runtime worker.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use wasmtime::Store;
use wasmtime::component::ResourceAny;

use super::AdapterRuntime;
use super::bindings::GameAdapter;
use super::bindings::exports::garrison::adapter::{config, logs};
use super::bindings::garrison::adapter::types::{Context, Setting, Settings};
use super::error::AdapterError;
use super::model::{self, Description, Field, FieldError, LaunchSpec, LogSource, ParsedEntry};
use super::registry::LoadedAdapter;
use super::sandbox::Sandbox;

/// Most bytes of text or file contents one answer may carry.
pub const MAX_OUTPUT_BYTES: usize = 16 << 20;
/// Most elements in any list one answer may carry (records, files, fields, ...).
pub const MAX_OUTPUT_ITEMS: usize = 100_000;

/// One live (or, after a trap, not yet re-created) adapter instance.
pub struct AdapterSession {
    runtime: AdapterRuntime,
    adapter: Arc<LoadedAdapter>,
    live: Option<Live>,
    /// Counts instances created; resources from an older instance are dead.
    generation: u64,
}

struct Live {
    store: Store<Sandbox>,
    api: GameAdapter,
}

impl AdapterSession {
    pub(super) fn new(runtime: AdapterRuntime, adapter: Arc<LoadedAdapter>) -> Self {
        AdapterSession {
            runtime,
            adapter,
            live: None,
            generation: 0,
        }
    }

    /// The adapter this session runs.
    pub fn adapter(&self) -> &Arc<LoadedAdapter> {
        &self.adapter
    }

    /// How many instances this session has created (a new one after every trap).
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Creates the instance now, if there is none, so the first real call does not pay for
    /// it.
    pub fn warm(&mut self) -> Result<(), AdapterError> {
        self.call(|_, _| Ok(()))
    }

    /// Runs `f` against the instance under the call deadline, creating the instance first if
    /// there is none. Any error discards the instance.
    fn call<R>(
        &mut self,
        f: impl FnOnce(&GameAdapter, &mut Store<Sandbox>) -> wasmtime::Result<R>,
    ) -> Result<R, AdapterError> {
        let sandbox = self.runtime.sandbox_config();
        let ticks = sandbox.deadline_ticks();
        let _ticking = self.runtime.call_guard();
        if self.live.is_none() {
            self.live = Some(self.instantiate(ticks)?);
            self.generation += 1;
        }
        let Some(live) = self.live.as_mut() else {
            return Err(AdapterError::Runtime("instance vanished".into()));
        };
        live.store.set_epoch_deadline(ticks);
        match f(&live.api, &mut live.store) {
            Ok(value) => Ok(value),
            Err(e) => {
                let denied = live.store.data_mut().take_memory_denied();
                self.live = None;
                let error = classify(e, denied, sandbox.call_deadline, sandbox.memory_limit);
                tracing::warn!(adapter = %self.adapter.description.id, "adapter call stopped: {error}");
                Err(error)
            }
        }
    }

    fn instantiate(&self, ticks: u64) -> Result<Live, AdapterError> {
        let sandbox = self.runtime.sandbox_config();
        let mut store = Store::new(
            self.runtime.engine(),
            Sandbox::new(self.adapter.id_arc(), sandbox.memory_limit),
        );
        Sandbox::install_limiter(&mut store);
        store.epoch_deadline_trap();
        store.set_epoch_deadline(ticks);
        match self.adapter.pre().instantiate(&mut store) {
            Ok(api) => Ok(Live { store, api }),
            Err(e) => {
                let denied = store.data_mut().take_memory_denied();
                Err(classify(
                    e,
                    denied,
                    sandbox.call_deadline,
                    sandbox.memory_limit,
                ))
            }
        }
    }

    /// `metadata.describe`.
    pub fn describe(&mut self) -> Result<Description, AdapterError> {
        let d = self.call(|api, store| api.garrison_adapter_metadata().call_describe(store))?;
        check_bytes(
            "description",
            d.id.len() + d.name.len() + d.version.len() + d.summary.len(),
        )?;
        Ok(d.into())
    }

    /// `config.schema`, converted.
    pub fn schema(&mut self) -> Result<Vec<Field>, AdapterError> {
        let fields = self.call(|api, store| api.garrison_adapter_config().call_schema(store))?;
        check_items("schema fields", fields.len())?;
        Ok(fields.into_iter().map(Field::from).collect())
    }

    /// `config.validate`: `Ok(Err(..))` carries the adapter's field errors.
    pub fn validate(
        &mut self,
        settings: &Settings,
    ) -> Result<Result<(), Vec<FieldError>>, AdapterError> {
        let answer =
            self.call(|api, store| api.garrison_adapter_config().call_validate(store, settings))?;
        Ok(match answer {
            Ok(()) => Ok(()),
            Err(errors) => {
                check_items("field errors", errors.len())?;
                Err(errors.into_iter().map(FieldError::from).collect())
            }
        })
    }

    /// `config.render`.
    pub fn render(
        &mut self,
        ctx: &Context,
        settings: &Settings,
    ) -> Result<Vec<model::RenderedFile>, AdapterError> {
        let files = self.call(|api, store| {
            api.garrison_adapter_config()
                .call_render(store, ctx, settings)
        })??;
        check_items("rendered files", files.len())?;
        check_bytes(
            "rendered files",
            files
                .iter()
                .map(|f: &config::RenderedFile| f.contents.len() + f.path.path.len())
                .sum(),
        )?;
        Ok(files.into_iter().map(Into::into).collect())
    }

    /// `lifecycle.launch`.
    pub fn launch(
        &mut self,
        ctx: &Context,
        settings: &Settings,
    ) -> Result<LaunchSpec, AdapterError> {
        let spec = self.call(|api, store| {
            api.garrison_adapter_lifecycle()
                .call_launch(store, ctx, settings)
        })??;
        check_items("launch arguments", spec.args.len() + spec.env.len())?;
        check_bytes(
            "launch spec",
            spec.program.len()
                + spec.args.iter().map(String::len).sum::<usize>()
                + spec
                    .env
                    .iter()
                    .map(|(k, v)| k.len() + v.len())
                    .sum::<usize>(),
        )?;
        Ok(spec.into())
    }

    /// `lifecycle.stop-plan`.
    pub fn stop_plan(&mut self, settings: &Settings) -> Result<model::StopSpec, AdapterError> {
        let spec = self.call(|api, store| {
            api.garrison_adapter_lifecycle()
                .call_stop_plan(store, settings)
        })??;
        check_items("stop steps", spec.steps.len())?;
        Ok(spec.into())
    }

    /// `logs.sources`.
    pub fn log_sources(&mut self, settings: &Settings) -> Result<Vec<LogSource>, AdapterError> {
        let sources =
            self.call(|api, store| api.garrison_adapter_logs().call_sources(store, settings))??;
        check_items("log sources", sources.len())?;
        Ok(sources.into_iter().map(Into::into).collect())
    }

    fn create_parser(&mut self, settings: &Settings) -> Result<ResourceAny, AdapterError> {
        Ok(self.call(|api, store| {
            api.garrison_adapter_logs()
                .call_create_parser(store, settings)
        })??)
    }

    fn drop_resource(&mut self, resource: ResourceAny) {
        let _ = self.call(|_, store| resource.resource_drop(store));
    }
}

fn classify(
    error: wasmtime::Error,
    memory_denied: bool,
    deadline: std::time::Duration,
    memory_limit: usize,
) -> AdapterError {
    match error.downcast_ref::<wasmtime::Trap>() {
        Some(wasmtime::Trap::Interrupt) => AdapterError::Timeout(deadline),
        Some(_) if memory_denied => AdapterError::OutOfMemory(memory_limit),
        Some(trap) => AdapterError::Trap(trap.to_string()),
        None if memory_denied => AdapterError::OutOfMemory(memory_limit),
        None => AdapterError::Trap(format!("{error:#}")),
    }
}

fn check_items(what: &str, n: usize) -> Result<(), AdapterError> {
    if n > MAX_OUTPUT_ITEMS {
        return Err(AdapterError::OutputTooLarge(format!(
            "{n} {what} (at most {MAX_OUTPUT_ITEMS})"
        )));
    }
    Ok(())
}

fn check_bytes(what: &str, n: usize) -> Result<(), AdapterError> {
    if n > MAX_OUTPUT_BYTES {
        return Err(AdapterError::OutputTooLarge(format!(
            "{n} bytes of {what} (at most {MAX_OUTPUT_BYTES})"
        )));
    }
    Ok(())
}

/// A server's log parser: the adapter's `logs.parser` resource inside its own session.
///
/// Lines go to the adapter as one string per batch; the records that come back say how many
/// lines each covers, and the host moves its own copy of those lines into the entries. Lines
/// a record has not covered yet (held back by the adapter) wait in `pending`. When the
/// adapter fails, every uncovered line is returned as a plain entry with the error, so no
/// line is ever lost; the instance is replaced and the parser re-created with the same
/// settings on the next call.
pub struct LogParser {
    session: AdapterSession,
    settings: Vec<Setting>,
    parser: Option<(ResourceAny, u64)>,
    /// Lines fed but not yet covered by a record, per source.
    pending: HashMap<String, VecDeque<String>>,
    /// Reused buffer for the batch string.
    batch: String,
}

/// A parser call that failed; the lines it had are returned unparsed.
#[derive(Debug)]
pub struct FeedError {
    /// Why the adapter did not parse them.
    pub error: AdapterError,
    /// Every line that was waiting to be parsed, as plain entries, in order.
    pub unparsed: Vec<ParsedEntry>,
}

impl std::fmt::Display for FeedError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} ({} line(s) kept unparsed)",
            self.error,
            self.unparsed.len()
        )
    }
}

impl std::error::Error for FeedError {}

impl LogParser {
    /// Creates a parser for a server with `settings`, in a session of its own.
    pub fn new(mut session: AdapterSession, settings: Vec<Setting>) -> Result<Self, AdapterError> {
        let resource = session.create_parser(&settings)?;
        let generation = session.generation();
        Ok(LogParser {
            session,
            settings,
            parser: Some((resource, generation)),
            pending: HashMap::new(),
            batch: String::new(),
        })
    }

    fn resource(&mut self) -> Result<ResourceAny, AdapterError> {
        match self.parser {
            Some((resource, generation)) if generation == self.session.generation() => Ok(resource),
            _ => {
                let resource = self.session.create_parser(&self.settings)?;
                self.parser = Some((resource, self.session.generation()));
                Ok(resource)
            }
        }
    }

    /// Parses the next lines of `source` (each without its newline; a line that contains
    /// `\n` counts as several).
    pub fn feed(
        &mut self,
        source: &str,
        lines: Vec<String>,
    ) -> Result<Vec<ParsedEntry>, FeedError> {
        let pending = self.pending.entry(source.to_string()).or_default();
        self.batch.clear();
        for line in lines {
            if line.contains('\n') {
                for part in line.split('\n') {
                    self.batch.push_str(part);
                    self.batch.push('\n');
                    pending.push_back(part.to_string());
                }
            } else {
                self.batch.push_str(&line);
                self.batch.push('\n');
                pending.push_back(line);
            }
        }
        let batch = std::mem::take(&mut self.batch);
        let result = self.resource().and_then(|parser| {
            self.session.call(|api, store| {
                api.garrison_adapter_logs()
                    .parser()
                    .call_feed(store, parser, source, &batch)
            })
        });
        self.batch = batch;
        self.settle(source, result)
    }

    /// Releases what the parser holds back for `source`.
    pub fn flush(&mut self, source: &str) -> Result<Vec<ParsedEntry>, FeedError> {
        let result = self.resource().and_then(|parser| {
            self.session.call(|api, store| {
                api.garrison_adapter_logs()
                    .parser()
                    .call_flush(store, parser, source)
            })
        });
        self.settle(source, result)
    }

    /// Checks an answer and turns it into entries; on any failure, hands back the uncovered
    /// lines of `source` as plain entries.
    fn settle(
        &mut self,
        source: &str,
        result: Result<logs::Parsed, AdapterError>,
    ) -> Result<Vec<ParsedEntry>, FeedError> {
        let pending = self.pending.entry(source.to_string()).or_default();
        let error = match result.and_then(|parsed| {
            check_parsed(&parsed)?;
            model::parsed_entries(parsed, pending).map_err(AdapterError::Contract)
        }) {
            Ok(entries) => return Ok(entries),
            Err(error) => error,
        };
        Err(FeedError {
            error,
            unparsed: pending.drain(..).map(ParsedEntry::plain).collect(),
        })
    }

    /// The session the parser lives in.
    pub fn session(&self) -> &AdapterSession {
        &self.session
    }
}

impl Drop for LogParser {
    fn drop(&mut self) {
        if let Some((resource, generation)) = self.parser.take()
            && generation == self.session.generation()
        {
            self.session.drop_resource(resource);
        }
    }
}

fn check_parsed(parsed: &logs::Parsed) -> Result<(), AdapterError> {
    check_items("log records", parsed.records.len())?;
    check_items("log events", parsed.events.len())?;
    check_bytes(
        "log records",
        parsed
            .records
            .iter()
            .map(|r| r.text.as_ref().map_or(0, String::len))
            .sum(),
    )
}
