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

use std::sync::Arc;

use wasmtime::Store;
use wasmtime::component::ResourceAny;

use super::AdapterRuntime;
use super::bindings::{Api, v0_2, versioned};
use super::error::AdapterError;
use super::model::{self, Context, Description, Field, FieldError, LaunchSpec, LogSource, Setting};
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
    api: Api,
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

    /// Gives the instance's slot back to the pool; the next call creates a fresh instance
    /// (about 10 µs). For sessions that keep no adapter resources and are called seldom, so
    /// an idle server holds no slot for them.
    pub fn release(&mut self) {
        self.live = None;
    }

    /// Creates the instance now, if there is none, so the first real call does not pay for
    /// it.
    pub fn warm(&mut self) -> Result<(), AdapterError> {
        self.call(|_, _| Ok(()))
    }

    /// Runs `f` against the instance under the call deadline, creating the instance first if
    /// there is none. Any error discards the instance.
    pub(super) fn call<R>(
        &mut self,
        f: impl FnOnce(&Api, &mut Store<Sandbox>) -> wasmtime::Result<R>,
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
                crate::telemetry::counters::add(
                    &crate::telemetry::counters::ADAPTER_CALL_ERRORS,
                    1,
                );
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
            // The pool is full: not the adapter's fault, and nothing ran.
            Err(e) if pool_exhausted(&e) => {
                let error = AdapterError::NoInstanceSlot {
                    in_use: self.runtime.instances_in_use(),
                    limit: self.runtime.max_instances(),
                };
                tracing::warn!(adapter = %self.adapter.description.id, "{error} ({e})");
                Err(error)
            }
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
        let d: Description = self.call(|api, store| {
            versioned!(api, |a, v| a
                .garrison_adapter_metadata()
                .call_describe(store)
                .map(Into::into))
        })?;
        let runtime_text = match &d.runtime {
            model::RuntimeSource::ByHand { instructions } => instructions.len(),
            _ => 0,
        };
        check_bytes(
            "description",
            d.id.len() + d.name.len() + d.version.len() + d.summary.len() + runtime_text,
        )?;
        Ok(d)
    }

    /// `config.schema`, converted.
    pub fn schema(&mut self) -> Result<Vec<Field>, AdapterError> {
        let fields: Vec<Field> = self.call(|api, store| {
            versioned!(api, |a, v| a
                .garrison_adapter_config()
                .call_schema(store)
                .map(|fields| fields.into_iter().map(Field::from).collect()))
        })?;
        check_items("schema fields", fields.len())?;
        Ok(fields)
    }

    /// `config.validate`: `Ok(Err(..))` carries the adapter's field errors.
    pub fn validate(
        &mut self,
        settings: &[Setting],
    ) -> Result<Result<(), Vec<FieldError>>, AdapterError> {
        let answer: Result<(), Vec<FieldError>> = self.call(|api, store| {
            versioned!(api, |a, v| {
                let settings: Vec<v::garrison::adapter::types::Setting> = model::to_wit(settings);
                a.garrison_adapter_config()
                    .call_validate(store, &settings)
                    .map(|answer| {
                        answer.map_err(|errors| errors.into_iter().map(FieldError::from).collect())
                    })
            })
        })?;
        if let Err(errors) = &answer {
            check_items("field errors", errors.len())?;
        }
        Ok(answer)
    }

    /// `config.render`.
    pub fn render(
        &mut self,
        ctx: &Context,
        settings: &[Setting],
    ) -> Result<Vec<model::RenderedFile>, AdapterError> {
        let files: Vec<model::RenderedFile> = self.call(|api, store| {
            versioned!(api, |a, v| {
                let settings: Vec<v::garrison::adapter::types::Setting> = model::to_wit(settings);
                let ctx: v::garrison::adapter::types::Context = ctx.into();
                a.garrison_adapter_config()
                    .call_render(store, &ctx, &settings)
                    .map(|r| {
                        r.map(|files| files.into_iter().map(Into::into).collect())
                            .map_err(AdapterError::from)
                    })
            })
        })??;
        check_items("rendered files", files.len())?;
        check_bytes(
            "rendered files",
            files
                .iter()
                .map(|f| f.contents.len() + f.path.path.len())
                .sum(),
        )?;
        Ok(files)
    }

    /// `lifecycle.launch`.
    pub fn launch(
        &mut self,
        ctx: &Context,
        settings: &[Setting],
    ) -> Result<LaunchSpec, AdapterError> {
        let spec: LaunchSpec = self.call(|api, store| {
            versioned!(api, |a, v| {
                let settings: Vec<v::garrison::adapter::types::Setting> = model::to_wit(settings);
                let ctx: v::garrison::adapter::types::Context = ctx.into();
                a.garrison_adapter_lifecycle()
                    .call_launch(store, &ctx, &settings)
                    .map(|r| r.map(Into::into).map_err(AdapterError::from))
            })
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
        Ok(spec)
    }

    /// `lifecycle.install-plan`.
    pub fn install_plan(
        &mut self,
        settings: &[Setting],
    ) -> Result<Vec<model::InstallStep>, AdapterError> {
        let steps: Vec<model::InstallStep> = self.call(|api, store| {
            versioned!(api, |a, v| {
                let settings: Vec<v::garrison::adapter::types::Setting> = model::to_wit(settings);
                a.garrison_adapter_lifecycle()
                    .call_install_plan(store, &settings)
                    .map(|r| {
                        r.map(|steps| steps.into_iter().map(Into::into).collect())
                            .map_err(AdapterError::from)
                    })
            })
        })??;
        check_items("install steps", steps.len())?;
        Ok(steps)
    }

    /// `lifecycle.stop-plan`.
    pub fn stop_plan(&mut self, settings: &[Setting]) -> Result<model::StopSpec, AdapterError> {
        let spec: model::StopSpec = self.call(|api, store| {
            versioned!(api, |a, v| {
                let settings: Vec<v::garrison::adapter::types::Setting> = model::to_wit(settings);
                a.garrison_adapter_lifecycle()
                    .call_stop_plan(store, &settings)
                    .map(|r| r.map(Into::into).map_err(AdapterError::from))
            })
        })??;
        check_items("stop steps", spec.steps.len())?;
        Ok(spec)
    }

    /// `lifecycle.content-dirs`.
    pub fn content_dirs(
        &mut self,
        settings: &[Setting],
    ) -> Result<Vec<model::ContentDir>, AdapterError> {
        let dirs: Vec<model::ContentDir> = self.call(|api, store| {
            versioned!(api, |a, v| {
                let settings: Vec<v::garrison::adapter::types::Setting> = model::to_wit(settings);
                a.garrison_adapter_lifecycle()
                    .call_content_dirs(store, &settings)
                    .map(|r| {
                        r.map(|dirs| dirs.into_iter().map(Into::into).collect())
                            .map_err(AdapterError::from)
                    })
            })
        })??;
        check_items("content directories", dirs.len())?;
        check_items(
            "content suffixes and prefixes",
            dirs.iter()
                .map(|d| d.extensions.len() + d.prefixes.len())
                .sum(),
        )?;
        check_bytes(
            "content directories",
            dirs.iter()
                .map(|d| {
                    d.dir.path.len()
                        + d.extensions.iter().map(String::len).sum::<usize>()
                        + d.prefixes.iter().map(String::len).sum::<usize>()
                        + d.selection.as_ref().map_or(0, |s| {
                            s.setting.len() + s.column.as_ref().map_or(0, String::len)
                        })
                        + d.workshop.as_ref().map_or(0, String::len)
                })
                .sum(),
        )?;
        for dir in &dirs {
            dir.check_against(&self.adapter.schema)
                .map_err(AdapterError::Contract)?;
        }
        Ok(dirs)
    }

    /// `logs.sources`, exactly as the adapter named them.
    pub fn log_sources(&mut self, settings: &[Setting]) -> Result<Vec<LogSource>, AdapterError> {
        let sources: Vec<LogSource> = self.call(|api, store| {
            versioned!(api, |a, v| {
                let settings: Vec<v::garrison::adapter::types::Setting> = model::to_wit(settings);
                a.garrison_adapter_logs()
                    .call_sources(store, &settings)
                    .map(|r| {
                        r.map(|sources| sources.into_iter().map(Into::into).collect())
                            .map_err(AdapterError::from)
                    })
            })
        })??;
        check_items("log sources", sources.len())?;
        Ok(sources)
    }

    /// `files.state-paths`. A 0.1.0 component cannot say: its state is the whole instance
    /// directory (an empty list).
    pub fn state_paths(
        &mut self,
        settings: &[Setting],
    ) -> Result<Vec<model::StatePath>, AdapterError> {
        let paths: Vec<model::StatePath> = self.call(|api, store| match api {
            Api::V0_1(_) => Ok(Ok(Vec::new())),
            Api::V0_2(a) => {
                let settings: Vec<v0_2::garrison::adapter::types::Setting> =
                    model::to_wit(settings);
                a.garrison_adapter_files()
                    .call_state_paths(store, &settings)
                    .map(|r| {
                        r.map(|paths| paths.into_iter().map(Into::into).collect())
                            .map_err(AdapterError::from)
                    })
            }
        })??;
        check_items("state paths", paths.len())?;
        check_bytes(
            "state paths",
            paths
                .iter()
                .map(|p| p.path.path.len() + p.description.len())
                .sum(),
        )?;
        Ok(paths)
    }

    /// `files.backup-plan`. A 0.1.0 component has no steps.
    pub fn backup_plan(&mut self, settings: &[Setting]) -> Result<model::BackupPlan, AdapterError> {
        let plan: model::BackupPlan = self.call(|api, store| match api {
            Api::V0_1(_) => Ok(Ok(model::BackupPlan::default())),
            Api::V0_2(a) => {
                let settings: Vec<v0_2::garrison::adapter::types::Setting> =
                    model::to_wit(settings);
                a.garrison_adapter_files()
                    .call_backup_plan(store, &settings)
                    .map(|r| r.map(Into::into).map_err(AdapterError::from))
            }
        })??;
        check_items("backup steps", plan.before.len() + plan.after.len())?;
        for step in plan.before.iter().chain(&plan.after) {
            if let model::BackupStep::RconCommand { command } = step {
                check_command(command)?;
            }
        }
        Ok(plan)
    }

    /// `files.ports`. For a 0.1.0 component, the values of its settings' `port` fields
    /// (protocol unknown: listed as both).
    pub fn ports(&mut self, settings: &[Setting]) -> Result<Vec<model::PortUse>, AdapterError> {
        let ports: Option<Vec<model::PortUse>> = self.call(|api, store| match api {
            Api::V0_1(_) => Ok(Ok(None)),
            Api::V0_2(a) => {
                let settings: Vec<v0_2::garrison::adapter::types::Setting> =
                    model::to_wit(settings);
                a.garrison_adapter_files()
                    .call_ports(store, &settings)
                    .map(|r| {
                        r.map(|ports| Some(ports.into_iter().map(Into::into).collect()))
                            .map_err(AdapterError::from)
                    })
            }
        })??;
        let ports = match ports {
            Some(ports) => ports,
            None => model::ports_from_settings(&self.adapter.schema, settings),
        };
        check_items("ports", ports.len())?;
        check_bytes("ports", ports.iter().map(|p| p.purpose.len()).sum())?;
        Ok(ports)
    }

    /// `rcon.session-transport`.
    pub fn rcon_transport(&mut self) -> Result<model::Transport, AdapterError> {
        self.call(|api, store| {
            versioned!(api, |a, v| a
                .garrison_adapter_rcon()
                .call_session_transport(store)
                .map(Into::into))
        })
    }

    /// `rcon.endpoint`: none when RCon is off for these settings.
    pub fn rcon_endpoint(
        &mut self,
        settings: &[Setting],
    ) -> Result<Option<model::Connection>, AdapterError> {
        self.call(|api, store| {
            versioned!(api, |a, v| {
                let settings: Vec<v::garrison::adapter::types::Setting> = model::to_wit(settings);
                a.garrison_adapter_rcon()
                    .call_endpoint(store, &settings)
                    .map(|r| r.map(|c| c.map(Into::into)).map_err(AdapterError::from))
            })
        })?
    }

    /// `rcon.players-command`.
    pub fn players_command(&mut self) -> Result<String, AdapterError> {
        let c = self.call(|api, store| {
            versioned!(api, |a, v| a
                .garrison_adapter_rcon()
                .call_players_command(store)
                .map(|r| r.map_err(AdapterError::from)))
        })??;
        check_command(&c)?;
        Ok(c)
    }

    /// `rcon.parse-players`.
    pub fn parse_players(&mut self, reply: &str) -> Result<Vec<model::Player>, AdapterError> {
        let players: Vec<model::Player> = self.call(|api, store| {
            versioned!(api, |a, v| a
                .garrison_adapter_rcon()
                .call_parse_players(store, reply)
                .map(|r| {
                    r.map(|players| players.into_iter().map(Into::into).collect())
                        .map_err(AdapterError::from)
                }))
        })??;
        check_items("players", players.len())?;
        Ok(players)
    }

    /// `rcon.kick-commands`.
    pub fn kick_commands(
        &mut self,
        player: &model::Player,
        reason: &str,
    ) -> Result<Vec<String>, AdapterError> {
        let c = self.call(|api, store| {
            versioned!(api, |a, v| {
                let player = player.clone().into();
                a.garrison_adapter_rcon()
                    .call_kick_commands(store, &player, reason)
                    .map(|r| r.map_err(AdapterError::from))
            })
        })??;
        check_commands(&c)?;
        Ok(c)
    }

    /// `rcon.ban-commands`.
    pub fn ban_commands(
        &mut self,
        request: &model::BanRequest,
    ) -> Result<Vec<String>, AdapterError> {
        let c = self.call(|api, store| {
            versioned!(api, |a, v| {
                let request = request.clone().into();
                a.garrison_adapter_rcon()
                    .call_ban_commands(store, &request)
                    .map(|r| r.map_err(AdapterError::from))
            })
        })??;
        check_commands(&c)?;
        Ok(c)
    }

    /// `rcon.unban-commands`.
    pub fn unban_commands(&mut self, entry: &model::BanEntry) -> Result<Vec<String>, AdapterError> {
        let c = self.call(|api, store| {
            versioned!(api, |a, v| {
                let entry = entry.clone().into();
                a.garrison_adapter_rcon()
                    .call_unban_commands(store, &entry)
                    .map(|r| r.map_err(AdapterError::from))
            })
        })??;
        check_commands(&c)?;
        Ok(c)
    }

    /// `rcon.bans-command`.
    pub fn bans_command(&mut self) -> Result<String, AdapterError> {
        let c = self.call(|api, store| {
            versioned!(api, |a, v| a
                .garrison_adapter_rcon()
                .call_bans_command(store)
                .map(|r| r.map_err(AdapterError::from)))
        })??;
        check_command(&c)?;
        Ok(c)
    }

    /// `rcon.parse-bans`.
    pub fn parse_bans(&mut self, reply: &str) -> Result<Vec<model::BanEntry>, AdapterError> {
        let bans: Vec<model::BanEntry> = self.call(|api, store| {
            versioned!(api, |a, v| a
                .garrison_adapter_rcon()
                .call_parse_bans(store, reply)
                .map(|r| {
                    r.map(|bans| bans.into_iter().map(Into::into).collect())
                        .map_err(AdapterError::from)
                }))
        })??;
        check_items("bans", bans.len())?;
        Ok(bans)
    }

    /// `rcon.say-command`.
    pub fn say_command(&mut self, message: &str) -> Result<String, AdapterError> {
        let c = self.call(|api, store| {
            versioned!(api, |a, v| a
                .garrison_adapter_rcon()
                .call_say_command(store, message)
                .map(|r| r.map_err(AdapterError::from)))
        })??;
        check_command(&c)?;
        Ok(c)
    }

    pub(super) fn create_parser(
        &mut self,
        settings: &[Setting],
    ) -> Result<ResourceAny, AdapterError> {
        self.call(|api, store| {
            versioned!(api, |a, v| {
                let settings: Vec<v::garrison::adapter::types::Setting> = model::to_wit(settings);
                a.garrison_adapter_logs()
                    .call_create_parser(store, &settings)
                    .map(|r| r.map_err(AdapterError::from))
            })
        })?
    }

    pub(super) fn drop_resource(&mut self, resource: ResourceAny) {
        let _ = self.call(|_, store| resource.resource_drop(store));
    }
}

/// Whether instantiating failed because a pool (instances, memories, tables) is full.
fn pool_exhausted(error: &wasmtime::Error) -> bool {
    error.is::<wasmtime::PoolConcurrencyLimitError>()
        || error
            .chain()
            .any(|cause| cause.is::<wasmtime::PoolConcurrencyLimitError>())
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

pub(super) fn check_items(what: &str, n: usize) -> Result<(), AdapterError> {
    if n > MAX_OUTPUT_ITEMS {
        return Err(AdapterError::OutputTooLarge(format!(
            "{n} {what} (at most {MAX_OUTPUT_ITEMS})"
        )));
    }
    Ok(())
}

pub(super) fn check_bytes(what: &str, n: usize) -> Result<(), AdapterError> {
    if n > MAX_OUTPUT_BYTES {
        return Err(AdapterError::OutputTooLarge(format!(
            "{n} bytes of {what} (at most {MAX_OUTPUT_BYTES})"
        )));
    }
    Ok(())
}

/// Longest console command an adapter may build.
const MAX_COMMAND_BYTES: usize = 4096;

fn check_command(command: &str) -> Result<(), AdapterError> {
    if command.len() > MAX_COMMAND_BYTES {
        return Err(AdapterError::OutputTooLarge(format!(
            "a {} byte command (at most {MAX_COMMAND_BYTES})",
            command.len()
        )));
    }
    if command.contains(['\n', '\r', '\0']) {
        return Err(AdapterError::Contract(
            "a console command contains a line break or NUL".into(),
        ));
    }
    Ok(())
}

fn check_commands(commands: &[String]) -> Result<(), AdapterError> {
    check_items("commands", commands.len())?;
    commands.iter().try_for_each(|c| check_command(c))
}
