//! Command-line interface: `garrison serve`, the adapter authors' tools, and user
//! administration (`user`, in its own module).
//!
//! Everything here is argument handling and printing; the work is done by the library.

mod serve_connections;
mod serve_telemetry;
mod user;

use std::io::{BufRead, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, bail};
use clap::{Args, Parser, Subcommand};
use garrison::Config;
use garrison::adapters::model::{Context, Setting};
use garrison::adapters::model::{FieldKind, LogLocation};
use garrison::adapters::{
    AdapterError, AdapterRuntime, LoadedAdapter, LogParser, Origin, SandboxConfig, check, settings,
};
use garrison::telemetry;
use garrison::telemetry::rcon::{RconHandle, RconOptions, RconStatus, RconTarget};
use serde_json::json;

/// Garrison runs and watches dedicated game servers.
#[derive(Parser, Debug)]
#[command(name = "garrison", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Start the host and serve the API and dashboard.
    Serve(ServeArgs),
    /// Tools for adapter authors and administrators.
    #[command(subcommand)]
    Adapter(AdapterCommand),
    /// Talk to a game server's remote console through its adapter: run one command and print
    /// the reply, or, without a command, open an interactive console.
    Rcon(RconArgs),
    /// Manage users (works while the host runs).
    #[command(subcommand)]
    User(user::UserCommand),
}

#[derive(Args, Debug)]
struct RconArgs {
    /// The server's RCon address, HOST:PORT.
    address: String,
    /// Adapter id (built-in or drop-in), or path of a `.wasm` component.
    #[arg(long)]
    adapter: String,
    /// Name of the environment variable that holds the RCon password.
    #[arg(long)]
    password_env: String,
    /// Seconds to wait for a reply (including connecting).
    #[arg(long, default_value_t = 10)]
    timeout: u64,
    #[command(flatten)]
    data: DataDirArg,
    /// The command to run, e.g. `players` or `say -1 Hello`.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    command: Vec<String>,
}

#[derive(Args, Debug)]
struct DataDirArg {
    /// Where Garrison keeps its data.
    #[arg(long, env = "GARRISON_DATA_DIR", default_value = "./garrison-data")]
    data_dir: PathBuf,
}

#[derive(Args, Debug)]
struct SandboxArgs {
    /// Memory limit of one adapter instance, in MiB.
    #[arg(long, env = "GARRISON_ADAPTER_MEMORY_MIB", default_value_t = 64)]
    adapter_memory_mib: usize,
    /// Deadline of one adapter call, in milliseconds.
    #[arg(long, env = "GARRISON_ADAPTER_DEADLINE_MS", default_value_t = 100)]
    adapter_deadline_ms: u64,
    /// Most adapter instances alive at once (a running server holds one for its log
    /// parser and one for its RCon session). Default: sized from the machine's address space
    /// and memory-mapping limit (8127 on x86-64 Linux with default settings).
    #[arg(long, env = "GARRISON_MAX_ADAPTER_INSTANCES", value_parser = clap::value_parser!(u32).range(1..))]
    max_adapter_instances: Option<u32>,
}

impl SandboxArgs {
    fn config(&self) -> SandboxConfig {
        SandboxConfig {
            memory_limit: self.adapter_memory_mib.max(1) << 20,
            call_deadline: Duration::from_millis(self.adapter_deadline_ms.max(1)),
            max_instances: self.max_adapter_instances,
        }
    }
}

#[derive(Args, Debug)]
struct ServeArgs {
    #[command(flatten)]
    data: DataDirArg,
    /// Address to listen on.
    #[arg(long, env = "GARRISON_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// SteamCMD executable used for installs and updates (looked up on PATH when absent).
    #[arg(long, env = "GARRISON_STEAMCMD", value_name = "PATH")]
    steamcmd: Option<PathBuf>,
    /// How many jobs (installs, starts, stops…) run at once, each on a different server.
    #[arg(long, env = "GARRISON_JOB_WORKERS", default_value_t = 2,
          value_parser = clap::value_parser!(u16).range(1..=64))]
    job_workers: u16,
    /// Largest mission file a server accepts by upload, in MiB.
    #[arg(long, env = "GARRISON_MAX_MISSION_UPLOAD_MIB", default_value_t = 512,
          value_parser = clap::value_parser!(u32).range(1..=65_536))]
    max_mission_upload_mib: u32,
    /// On a data directory without servers, create and start demo servers backed by the
    /// game-server simulator (live logs, players and metrics within seconds).
    #[arg(long)]
    demo: bool,
    /// The game-server simulator for --demo (default: garrison-sim beside this binary).
    #[arg(
        long,
        env = "GARRISON_SIMULATOR",
        value_name = "PATH",
        requires = "demo"
    )]
    simulator: Option<PathBuf>,
    #[command(flatten)]
    sandbox: SandboxArgs,
    #[command(flatten)]
    telemetry: serve_telemetry::TelemetryArgs,
    #[command(flatten)]
    connections: serve_connections::ConnectionArgs,
}

#[derive(Subcommand, Debug)]
enum AdapterCommand {
    /// Validate an adapter component and print what it declares.
    Check {
        /// The `.wasm` component.
        file: PathBuf,
        #[command(flatten)]
        sandbox: SandboxArgs,
    },
    /// List built-in and drop-in adapters.
    List {
        #[command(flatten)]
        data: DataDirArg,
    },
    /// Feed a log through an adapter's parser and print one JSON event per line.
    Logs {
        /// Adapter id, or path of a `.wasm` component.
        adapter: String,
        /// Log file to read; standard input when absent.
        file: Option<PathBuf>,
        /// Settings JSON for the parser (defaults when absent).
        #[arg(long)]
        settings: Option<PathBuf>,
        /// Log source name to parse as (the adapter's first source when absent).
        #[arg(long)]
        source: Option<String>,
        #[command(flatten)]
        data: DataDirArg,
    },
    /// Validate settings and print the files and launch spec an adapter would produce.
    Render {
        /// Adapter id, or path of a `.wasm` component.
        adapter: String,
        /// Settings JSON.
        settings: PathBuf,
        #[command(flatten)]
        data: DataDirArg,
    },
}

impl Cli {
    /// The log filter used unless `GARRISON_LOG` says otherwise: quiet for the tools.
    pub fn default_log_filter(&self) -> &'static str {
        match self.command {
            Command::Serve(_) => "info",
            Command::Adapter(_) | Command::Rcon(_) | Command::User(_) => "error",
        }
    }
}

/// Runs the parsed command.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Serve(args) => serve(args),
        Command::Rcon(args) => rcon(args),
        Command::User(command) => user::run(command),
        Command::Adapter(AdapterCommand::Check { file, sandbox }) => check(&file, &sandbox),
        Command::Adapter(AdapterCommand::List { data }) => list(&data.data_dir),
        Command::Adapter(AdapterCommand::Logs {
            adapter,
            file,
            settings,
            source,
            data,
        }) => logs(
            &data.data_dir,
            &adapter,
            file.as_deref(),
            settings.as_deref(),
            source,
        ),
        Command::Adapter(AdapterCommand::Render {
            adapter,
            settings,
            data,
        }) => render(&data.data_dir, &adapter, &settings),
    }
}

fn serve(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let mut config = Config::new(args.data.data_dir);
    config.listen = args.listen;
    config.sandbox = args.sandbox.config();
    config.steamcmd = args.steamcmd;
    config.job_workers = usize::from(args.job_workers);
    args.telemetry.apply(&mut config);
    args.connections.apply(&mut config);
    config.max_mission_upload = u64::from(args.max_mission_upload_mib) << 20;
    if args.demo {
        config.demo = args.simulator.or_else(garrison::demo::default_simulator);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("cannot listen on {}", config.listen))?;
        garrison::run(config, listener, garrison::shutdown_signal()).await?;
        Ok(ExitCode::SUCCESS)
    })
}

/// A runtime for the tools: uses the data directory's component cache if there is one.
fn tool_runtime(data_dir: Option<&Path>, sandbox: SandboxConfig) -> anyhow::Result<AdapterRuntime> {
    let cache = data_dir
        .filter(|d| d.is_dir())
        .map(|d| Config::new(d.to_path_buf()).component_cache_dir());
    Ok(AdapterRuntime::new(sandbox, cache)?)
}

fn check(file: &Path, sandbox: &SandboxArgs) -> anyhow::Result<ExitCode> {
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let runtime = tool_runtime(None, sandbox.config())?;
    let adapter = match runtime.load(
        &bytes,
        Origin::DropIn {
            path: file.to_path_buf(),
        },
    ) {
        Ok(adapter) => adapter,
        Err(e) => {
            eprintln!("rejected: {}: {e}", file.display());
            return Ok(ExitCode::FAILURE);
        }
    };
    let steps = check::smoke_test(&runtime, &adapter);
    if let Some(bad) = steps.iter().find(|s| s.failed()) {
        let why = bad
            .outcome
            .as_ref()
            .err()
            .map(ToString::to_string)
            .unwrap_or_default();
        eprintln!(
            "rejected: {}: {} misbehaved: {why}",
            file.display(),
            bad.name
        );
        return Ok(ExitCode::FAILURE);
    }
    let d = &adapter.description;
    let mut out = std::io::stdout().lock();
    writeln!(out, "ok: {} {} — {}", d.id, d.version, d.name)?;
    writeln!(out, "  {}", d.summary)?;
    writeln!(out, "  contract: garrison:adapter@{}", adapter.contract())?;
    match &d.runtime {
        garrison::adapters::model::RuntimeSource::None => {
            writeln!(out, "  game files: none needed")?
        }
        garrison::adapters::model::RuntimeSource::Steamcmd { app_id } => {
            writeln!(out, "  game files: SteamCMD, app {app_id}")?
        }
        garrison::adapters::model::RuntimeSource::ByHand { instructions } => {
            writeln!(out, "  game files: installed by hand. {instructions}")?
        }
    }
    writeln!(out, "  capabilities: {}", d.capabilities.join(", "))?;
    writeln!(out, "  sha256: {}", adapter.sha256)?;
    writeln!(out, "  settings ({}):", adapter.schema.len())?;
    for field in &adapter.schema {
        let kind = serde_json::to_value(&field.kind)?;
        let kind = kind
            .get("type")
            .and_then(|t| t.as_str())
            .unwrap_or("?")
            .to_string();
        let mut flags = Vec::new();
        if field.required {
            flags.push("required".to_string());
        }
        if field.advanced {
            flags.push("advanced".to_string());
        }
        if let Some(default) = &field.default {
            flags.push(format!("default {default}"));
        }
        let flags = if flags.is_empty() {
            String::new()
        } else {
            format!(", {}", flags.join(", "))
        };
        writeln!(
            out,
            "    [{}] {} ({kind}{flags}) — {}",
            field.section, field.key, field.label
        )?;
    }
    writeln!(out, "  smoke test with default settings:")?;
    for step in &steps {
        match &step.outcome {
            Ok(summary) => writeln!(out, "    {:<12} ok: {summary}", step.name)?,
            Err(e) => writeln!(out, "    {:<12} answered: {e}", step.name)?,
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Loads the drop-ins of `data_dir` (without watching) into `runtime`.
fn load_dropins(runtime: &AdapterRuntime, data_dir: &Path) {
    let dir = Config::new(data_dir.to_path_buf()).dropin_dir();
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().is_some_and(|x| x == "wasm") {
            let _ = runtime.load_dropin(&path);
        }
    }
}

fn list(data_dir: &Path) -> anyhow::Result<ExitCode> {
    let runtime = tool_runtime(Some(data_dir), SandboxConfig::default())?;
    runtime.load_builtins()?;
    load_dropins(&runtime, data_dir);
    let mut out = std::io::stdout().lock();
    for adapter in runtime.list() {
        let d = &adapter.description;
        let active = runtime
            .get(&d.id)
            .is_some_and(|a| Arc::ptr_eq(&a, &adapter));
        let origin = match &adapter.origin {
            Origin::Builtin => "built-in".to_string(),
            Origin::DropIn { path } => format!("drop-in {}", path.display()),
        };
        let marker = if active {
            ""
        } else {
            " (inactive: a newer version serves this id)"
        };
        writeln!(
            out,
            "{:<16} {:<10} {:<28} {origin}{marker}",
            d.id, d.version, d.name
        )?;
    }
    for (path, reason) in runtime.rejected() {
        writeln!(out, "rejected         {}: {reason}", path.display())?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Resolves ADAPTER: a path to a `.wasm` file, or an id among built-ins and drop-ins.
fn resolve(data_dir: &Path, adapter: &str) -> anyhow::Result<(AdapterRuntime, Arc<LoadedAdapter>)> {
    let runtime = tool_runtime(Some(data_dir), SandboxConfig::default())?;
    let as_path = Path::new(adapter);
    if adapter.ends_with(".wasm") || as_path.is_file() {
        let bytes = std::fs::read(as_path).with_context(|| format!("cannot read {adapter}"))?;
        let loaded = runtime.load(
            &bytes,
            Origin::DropIn {
                path: as_path.to_path_buf(),
            },
        )?;
        return Ok((runtime, loaded));
    }
    runtime.load_builtins()?;
    load_dropins(&runtime, data_dir);
    let loaded = runtime
        .get(adapter)
        .ok_or_else(|| AdapterError::NotFound(adapter.to_string()))?;
    Ok((runtime, loaded))
}

fn read_settings_json(path: &Path) -> anyhow::Result<serde_json::Value> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{} is not valid JSON", path.display()))
}

/// Checks settings against the schema and the adapter; prints every problem on failure.
fn checked_settings(
    runtime: &AdapterRuntime,
    adapter: &Arc<LoadedAdapter>,
    json: &serde_json::Value,
) -> anyhow::Result<Vec<Setting>> {
    let problems = match settings::from_json(&adapter.schema, json) {
        Ok(typed) => match runtime.session(Arc::clone(adapter)).validate(&typed)? {
            Ok(()) => return Ok(typed),
            Err(problems) => problems,
        },
        Err(problems) => problems,
    };
    for p in &problems {
        let field = if p.field.is_empty() {
            "(settings)"
        } else {
            &p.field
        };
        eprintln!("  {field}: {}", p.message);
    }
    bail!("the settings are invalid ({} problem(s))", problems.len())
}

fn logs(
    data_dir: &Path,
    adapter: &str,
    file: Option<&Path>,
    settings_file: Option<&Path>,
    source: Option<String>,
) -> anyhow::Result<ExitCode> {
    let (runtime, adapter) = resolve(data_dir, adapter)?;
    let typed = match settings_file {
        Some(path) => checked_settings(&runtime, &adapter, &read_settings_json(path)?)?,
        None => settings::defaults(&adapter.schema),
    };
    let source = match source {
        Some(s) => s,
        None => runtime
            .session(Arc::clone(&adapter))
            .log_sources(&typed)?
            .into_iter()
            .next()
            .map(|s| s.name)
            .unwrap_or_else(|| "console".to_string()),
    };
    let mut parser = LogParser::new(runtime.session(adapter), typed)?;
    let input: Box<dyn BufRead> = match file {
        Some(path) => Box::new(std::io::BufReader::new(
            std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?,
        )),
        None => Box::new(std::io::stdin().lock()),
    };
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut batch = Vec::with_capacity(BATCH);
    let print = |entries: Vec<garrison::adapters::model::ParsedEntry>,
                 out: &mut dyn Write|
     -> anyhow::Result<()> {
        for entry in entries {
            serde_json::to_writer(&mut *out, &entry)?;
            out.write_all(b"\n")?;
        }
        Ok(())
    };
    for line in input.split(b'\n') {
        let line = line.context("reading the log")?;
        let line = String::from_utf8_lossy(&line);
        batch.push(line.strip_suffix('\r').unwrap_or(&line).to_string());
        if batch.len() == BATCH {
            print(parser.feed(&source, std::mem::take(&mut batch))?, &mut out)?;
        }
    }
    if !batch.is_empty() {
        print(parser.feed(&source, batch)?, &mut out)?;
    }
    print(parser.flush(&source)?, &mut out)?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// Lines per parser call.
const BATCH: usize = 1000;

fn render(data_dir: &Path, adapter: &str, settings_file: &Path) -> anyhow::Result<ExitCode> {
    let (runtime, adapter) = resolve(data_dir, adapter)?;
    let typed = checked_settings(&runtime, &adapter, &read_settings_json(settings_file)?)?;
    let secrets = settings::secret_values(&adapter.schema, &typed);
    let data_dir = std::path::absolute(data_dir).unwrap_or_else(|_| data_dir.to_path_buf());
    let ctx = Context::new(
        "preview",
        &data_dir.join("servers").join("preview"),
        &data_dir.join("runtimes").join(&adapter.description.id),
    );
    let mut session = runtime.session(Arc::clone(&adapter));
    let files = session.render(&ctx, &typed)?;
    let launch = session.launch(&ctx, &typed)?;
    let stop = session.stop_plan(&typed)?;
    let sources = session.log_sources(&typed)?;

    let masked_settings: serde_json::Map<String, serde_json::Value> = typed
        .iter()
        .map(|s| {
            let field = adapter.schema.iter().find(|f| f.key == s.key);
            let value = match field.map(|f| &f.kind) {
                Some(FieldKind::Secret) => json!(garrison::secrets::MASK),
                Some(kind) => settings::value_to_json(kind, &s.value),
                None => json!(null),
            };
            (s.key.clone(), value)
        })
        .collect();
    let masker = garrison::secrets::Masker::new(&secrets);
    let files: Vec<_> = files
        .iter()
        .map(|f| {
            let contents = masker.bytes(&f.contents);
            json!({
                "root": f.path.root,
                "path": f.path.path,
                "bytes": f.contents.len(),
                "contents": String::from_utf8_lossy(&contents),
            })
        })
        .collect();
    let mask = |s: &str| masker.text(s);
    let launch = json!({
        "program": mask(&launch.program),
        "args": launch.args.iter().map(|a| mask(a)).collect::<Vec<_>>(),
        "working_dir": launch.working_dir.as_deref().map(mask),
        "env": launch.env.iter().map(|(k, v)| (k.clone(), mask(v))).collect::<Vec<_>>(),
        "wait_for_ready": launch.wait_for_ready,
        "startup_timeout_secs": launch.startup_timeout_secs,
    });
    let stop = serde_json::from_str::<serde_json::Value>(&mask(&serde_json::to_string(&stop)?))?;
    let sources: Vec<_> = sources
        .iter()
        .map(|s| match &s.location {
            LogLocation::Console => json!({"name": s.name, "location": "console"}),
            LogLocation::NewestFile { dir, pattern } => {
                json!({"name": s.name, "location": "newest_file", "dir": dir, "pattern": pattern})
            }
        })
        .collect();
    let report = json!({
        "adapter": {"id": adapter.description.id, "version": adapter.description.version},
        "context": {"server_id": ctx.server_id, "instance_dir": ctx.instance_dir, "runtime_dir": ctx.runtime_dir},
        "settings": masked_settings,
        "files": files,
        "launch": launch,
        "stop": stop,
        "log_sources": sources,
    });
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(ExitCode::SUCCESS)
}

fn rcon(args: RconArgs) -> anyhow::Result<ExitCode> {
    let password = std::env::var(&args.password_env).with_context(|| {
        format!(
            "the environment variable {} (--password-env) is not set",
            args.password_env
        )
    })?;
    let (runtime, adapter) = resolve(&args.data.data_dir, &args.adapter)?;
    if !adapter.description.has("rcon") {
        bail!(
            "the {} adapter has no remote console",
            adapter.description.id
        );
    }
    let options = RconOptions {
        command_timeout: Duration::from_secs(args.timeout.max(1)),
        retry_after_auth_failure: false,
        ..RconOptions::default()
    };
    let target = RconTarget {
        address: args.address.clone(),
        password,
    };
    let tokio = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    tokio.block_on(async move {
        let (handle, task) = telemetry::rcon::spawn(runtime, adapter, target, options);
        let code = if args.command.is_empty() {
            interactive_console(&handle, &args.address).await
        } else {
            match handle.command(args.command.join(" ")).await {
                Ok(reply) => {
                    println!("{reply}");
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::FAILURE
                }
            }
        };
        handle.stop();
        let _ = task.await;
        Ok(code)
    })
}

/// Reads commands from standard input, prints replies, server messages and connection
/// changes as they come; ends at end of input, or when the password is refused.
async fn interactive_console(handle: &RconHandle, address: &str) -> ExitCode {
    let (lines_tx, mut lines) = tokio::sync::mpsc::channel::<String>(16);
    std::thread::spawn(move || {
        for line in std::io::stdin().lines() {
            let Ok(line) = line else { break };
            if lines_tx.blocking_send(line).is_err() {
                break;
            }
        }
    });
    eprintln!("RCon console for {address}. Type commands; end with Ctrl-D.");
    let mut messages = handle.messages();
    let mut status = handle.status();
    loop {
        tokio::select! {
            line = lines.recv() => {
                let Some(line) = line else { return ExitCode::SUCCESS };
                let line = line.trim();
                if line.is_empty() {
                    continue;
                }
                match handle.command(line).await {
                    Ok(reply) => println!("{reply}"),
                    Err(e) => eprintln!("error: {e}"),
                }
            }
            message = messages.recv() => match message {
                Ok(text) => println!("[server] {text}"),
                Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                    eprintln!("({n} server messages skipped)");
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return ExitCode::FAILURE,
            },
            changed = status.changed() => {
                if changed.is_err() {
                    return ExitCode::FAILURE;
                }
                let now = status.borrow_and_update().clone();
                match now {
                    RconStatus::Connected => eprintln!("(connected)"),
                    RconStatus::Disconnected { reason, retry_in } => {
                        eprintln!("(disconnected: {reason}; retrying in {} s)", retry_in.as_secs());
                    }
                    RconStatus::AuthFailed(why) => {
                        eprintln!("error: the server refused the RCon password: {why}");
                        return ExitCode::FAILURE;
                    }
                    RconStatus::Stopped => return ExitCode::FAILURE,
                    RconStatus::Connecting { .. } => {}
                }
            }
        }
    }
}
