//! The Left 4 Dead 2 dedicated server simulator (`srcds_run` / `srcds_linux`).
//!
//! Boots like the real server — finds its game directory, runs the `+exec` config, prints the
//! console start-up block, opens a fresh game log — and once ready (after `--slow-start`)
//! opens Source RCON on TCP and runs one loop that ticks the world, writes its events to the
//! game log and console, executes commands handed over by the RCON connection threads, and
//! watches for signals, crashes and `quit`. The submodules hold the pieces; this one only wires
//! them together and decides exit codes (0 clean stop, 2 unusable setup, `--exit-code` for a
//! simulated crash).

mod args;
mod commands;
mod config;
mod logs;
mod packet;
mod rcon;
mod world;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

use crate::flags::{self, SimFlags};
use crate::rng::Rng;
use crate::signals::Signals;
use crate::stdout_line;
use config::ServerConfig;
use logs::{Console, GameLog};
use rcon::{Event, Reply, Style};
use world::{Output, World, WorldSettings};

/// The longest the loop waits, so signals and deadlines are noticed promptly.
const MAX_WAIT: Duration = Duration::from_millis(50);
/// How long `quit` waits for its reply to be written before exiting.
const QUIT_GRACE: Duration = Duration::from_secs(1);

/// Runs the simulator with the process's arguments (program name excluded); returns the exit
/// code.
pub fn run(program: &str, raw_args: &[String]) -> i32 {
    match Setup::load(program, raw_args) {
        Ok(setup) => setup.serve(),
        Err(message) => {
            eprintln!("srcds: {message}");
            2
        }
    }
}

/// Everything read from the command line and the config file.
struct Setup {
    /// Simulator knobs.
    flags: SimFlags,
    /// The game's own arguments.
    args: args::GameArgs,
    /// The game directory (`<dir of argv[0]>/<game>` or `<cwd>/<game>`), absolute.
    game_dir: PathBuf,
    /// The `+exec` config.
    config: ServerConfig,
}

/// Where the game directory is: beside the program as invoked (a symlink is not resolved, so
/// a test "install" finds its own files), else under the working directory.
fn game_dir(program: &str, game: &str) -> PathBuf {
    let beside = Path::new(program)
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map(|p| p.join(game));
    let chosen = match beside {
        Some(dir) if dir.is_dir() => dir,
        _ => PathBuf::from(game),
    };
    std::path::absolute(&chosen).unwrap_or(chosen)
}

impl Setup {
    fn load(program: &str, raw_args: &[String]) -> Result<Self, String> {
        let (_, rest) = flags::split(raw_args)?;
        let args = args::parse(&rest)?;
        let (flags, _) = flags::split_with_files(program, args.port, raw_args)?;
        let game_dir = game_dir(program, &args.game);
        let config = config::load(&game_dir, &args.exec)?;
        Ok(Self {
            flags,
            args,
            game_dir,
            config,
        })
    }

    fn serve(self) -> i32 {
        let Setup {
            flags,
            args,
            game_dir,
            config,
        } = self;
        let signals = match Signals::install() {
            Ok(s) => s,
            Err(e) => {
                eprintln!("srcds: cannot install signal handlers: {e}");
                return 2;
            }
        };
        let started = Instant::now();
        let mut rng = match flags.seed {
            Some(seed) => Rng::seeded(seed),
            None => Rng::from_entropy(),
        };
        let mut console = match Console::open(&game_dir, args.condebug) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("srcds: cannot open {}/console.log: {e}", game_dir.display());
                return 2;
            }
        };
        for line in [
            "Console initialized.".to_string(),
            "Using breakpad crash handler".into(),
            "Setting breakpad minidump AppID = 222860".into(),
            "Forcing breakpad minidump interfaces to load".into(),
            format!(
                "Loaded 1 VPK file hashes from {}/pak01_dir.vpk for pure server operation.",
                game_dir.display()
            ),
            format!("Loading map \"{}\"", args.map),
        ] {
            console.line(&line);
        }
        let mut log = match GameLog::open(&game_dir, &args.logs_dir, &args.map) {
            Ok(l) => Some(l),
            Err(e) => {
                eprintln!(
                    "srcds: cannot create a log file in {}/{}: {e}",
                    game_dir.display(),
                    args.logs_dir
                );
                return 2;
            }
        };

        let ip = args.ip.to_string();
        let mut world = World::new(
            WorldSettings {
                initial_players: flags.players,
                churn: flags.churn,
                max_players: args.max_players,
                map: args.map.clone(),
                hostname: config.hostname.clone(),
                ip: ip.clone(),
                public_ip: ip,
                port: args.port,
                gamemode: config.gamemode.clone(),
                difficulty: config.difficulty.clone(),
            },
            Rng::seeded(rng.next_u64()),
        );
        for ban in &flags.bans {
            world.add_ban(ban, 0.0, None, started);
        }
        let (events_tx, events) = mpsc::channel::<Event>();
        let ready_at = started + flags.slow_start;
        let crash_at = flags.crash_after.map(|d| started + d);
        let mut next_tick: Option<Instant> = None;
        let mut console_closer: Option<rcon::Closer> = None;
        let mut out = Outputs {
            console: &mut console,
            log: &mut log,
            game_dir: &game_dir,
            logs_dir: &args.logs_dir,
        };

        loop {
            let now = Instant::now();
            if crash_at.is_some_and(|t| now >= t) {
                eprintln!("srcds: simulated crash (exit code {})", flags.exit_code);
                std::process::exit(flags.exit_code);
            }
            if let Some(signal) = signals.received() {
                if flags.ignore_sigterm {
                    stdout_line(&format!("Ignoring {signal} (--ignore-sigterm)"));
                    signals.clear();
                } else {
                    return stop(&mut out, signal);
                }
            }
            if next_tick.is_none() && now >= ready_at {
                let addr = SocketAddr::new(args.ip, args.port);
                let style = Style {
                    password: config.rcon_password.clone(),
                    packet_bytes: flags.packet_bytes,
                    split_writes: flags.split_writes,
                };
                let fork = Rng::seeded(rng.next_u64());
                match rcon::start(addr, style, events_tx.clone(), fork) {
                    Ok((_, closer)) => console_closer = Some(closer),
                    Err(e) => {
                        eprintln!("srcds: cannot bind RCON on {addr}: {e}");
                        return 2;
                    }
                }
                announce_ready(&mut out, &args, &config);
                world.start_map();
                next_tick = Some(now + flags.tick);
            }
            if let Some(due) = next_tick.as_mut() {
                let mut ticks = 0;
                while now >= *due && ticks < 10 {
                    world.tick(now);
                    *due += flags.tick;
                    ticks += 1;
                }
                if now >= *due {
                    // Far behind (the machine was suspended): skip ahead rather than race.
                    *due = now + flags.tick;
                }
            }
            out.deliver(&mut world);

            let mut wait =
                MAX_WAIT.min(next_tick.unwrap_or(ready_at).saturating_duration_since(now));
            if let Some(t) = crash_at {
                wait = wait.min(t.saturating_duration_since(now));
            }
            let event = match events.recv_timeout(wait.max(Duration::from_millis(1))) {
                Ok(event) => event,
                Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => continue,
            };
            match event {
                Event::BadPassword(from) => {
                    world.log(format!("rcon from \"{from}\": Bad Password"));
                    out.deliver(&mut world);
                }
                Event::Command {
                    from,
                    command,
                    reply,
                } => {
                    let outcome =
                        commands::execute(&mut world, &from.to_string(), &command, Instant::now());
                    out.deliver(&mut world);
                    if let Some(text) = &outcome.ban_file {
                        out.write_ban_file(text);
                    }
                    if outcome.quit {
                        let (done_tx, done) = mpsc::channel();
                        let sent = reply.send(Reply {
                            text: outcome.reply,
                            written: Some(done_tx),
                        });
                        if sent.is_ok() {
                            let _ = done.recv_timeout(QUIT_GRACE);
                        }
                        if !flags.slow_quit.is_zero() {
                            if let Some(closer) = &console_closer {
                                closer.close();
                            }
                            stdout_line("Saving before quitting (--slow-quit).");
                            std::thread::sleep(flags.slow_quit);
                        }
                        return stop(&mut out, "quit");
                    }
                    let _ = reply.send(Reply {
                        text: outcome.reply,
                        written: None,
                    });
                }
            }
        }
    }
}

/// The console lines a server prints once the map is up and it is connected to Steam.
fn announce_ready(out: &mut Outputs<'_>, args: &args::GameArgs, config: &ServerConfig) {
    let port = args.port;
    for line in [
        format!(
            "Network: IP {}, mode MP, dedicated Yes, ports {port} SV / 27005 CL",
            args.ip
        ),
        "Initializing Steam libraries for secure Internet server".into(),
        "Logging into anonymous gameserver account.".into(),
        "Connection to Steam servers successful.".into(),
        "   VAC secure mode is activated.".into(),
        "Server is hibernating".into(),
    ] {
        out.console.line(&line);
    }
    stdout_line(&format!(
        "RCON listening on {}:{port} (hostname \"{}\")",
        args.ip, config.hostname
    ));
}

/// Where the world's events go.
struct Outputs<'a> {
    /// stdout and `console.log`.
    console: &'a mut Console,
    /// The current game log file (`None` if opening the next one failed).
    log: &'a mut Option<GameLog>,
    /// The game directory, for new log files and `banned_user.cfg`.
    game_dir: &'a Path,
    /// Where new log files go, relative to the game directory (`+sv_logsdir`).
    logs_dir: &'a str,
}

impl Outputs<'_> {
    /// Writes queued world events to the game log and console.
    fn deliver(&mut self, world: &mut World) {
        for output in world.drain() {
            match output {
                Output::Log(text) => {
                    if let Some(log) = self.log.as_mut() {
                        log.line(&text);
                    }
                }
                Output::Console(text) => self.console.line(&text),
                Output::NewLogFile(map) => {
                    if let Some(old) = self.log.take() {
                        old.close();
                    }
                    match GameLog::open(self.game_dir, self.logs_dir, &map) {
                        Ok(l) => *self.log = Some(l),
                        Err(e) => eprintln!("srcds: cannot create the next log file: {e}"),
                    }
                }
            }
        }
    }

    /// `writeid`: replaces `cfg/banned_user.cfg`.
    fn write_ban_file(&mut self, text: &str) {
        let path = self.game_dir.join("cfg").join("banned_user.cfg");
        if let Err(e) = std::fs::write(&path, text) {
            self.console
                .line(&format!("Error: couldn't write {}: {e}", path.display()));
        }
    }
}

/// The clean end: the log file is closed, exit code 0.
fn stop(out: &mut Outputs<'_>, why: &str) -> i32 {
    if let Some(log) = out.log.take() {
        log.close();
    }
    stdout_line(&format!("Server shutting down ({why})."));
    0
}
