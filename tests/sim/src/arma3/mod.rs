//! The Arma 3 dedicated server simulator (`arma3server_x64`).
//!
//! Boots like the real server — reads `server.cfg` and `BEServer_x64.cfg`, writes a fresh RPT
//! file, announces readiness — then runs one single-threaded loop that ticks the simulated
//! world, writes its events to the RPT, serves BattlEye RCon over UDP and watches for signals,
//! crashes and `#shutdown`. The submodules hold the pieces; this one only wires them together
//! and decides exit codes (0 clean stop, 2 unusable setup, `--exit-code` for a simulated crash).

mod args;
mod battleye;
mod commands;
mod config;
mod rcon;
mod rpt;
mod world;

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::clock::Civil;
use crate::flags::{self, SimFlags};
use crate::rng::Rng;
use crate::signals::Signals;
use crate::stdout_line;
use config::{BeConfig, ServerConfig};
use rcon::{Control, RconServer, ReplyStyle};
use rpt::Rpt;
use world::{BanTarget, Output, World, WorldSettings};

/// The longest the loop sleeps, so signals and deadlines are noticed promptly.
const MAX_WAIT: Duration = Duration::from_millis(50);

/// Runs the simulator with the process's arguments (program name excluded); returns the exit
/// code.
pub fn run(program: &str, raw_args: &[String]) -> i32 {
    match Setup::load(program, raw_args) {
        Ok(setup) => setup.serve(program, raw_args),
        Err(message) => {
            eprintln!("arma3server_x64: {message}");
            2
        }
    }
}

/// Everything read from the command line and the config files.
struct Setup {
    /// Simulator knobs.
    flags: SimFlags,
    /// The game's own arguments.
    args: args::GameArgs,
    /// `server.cfg`.
    server: ServerConfig,
    /// `BEServer_x64.cfg` (defaults when no `-bepath` was given: RCon off).
    be: BeConfig,
}

impl Setup {
    fn load(program: &str, raw_args: &[String]) -> Result<Self, String> {
        let (_, rest) = flags::split(raw_args)?;
        let args = args::parse(&rest)?;
        let (flags, _) = flags::split_with_files(program, args.port, raw_args)?;
        let server = match &args.config {
            Some(path) => config::load_server_cfg(path)?,
            None => ServerConfig::default(),
        };
        if let Some(path) = &args.basic_cfg {
            std::fs::read(path)
                .map_err(|e| format!("cannot read basic config {}: {e}", path.display()))?;
        }
        let be = match &args.bepath {
            Some(dir) => config::load_be_cfg(dir)?,
            None => BeConfig::default(),
        };
        Ok(Self {
            flags,
            args,
            server,
            be,
        })
    }

    fn serve(self, program: &str, raw_args: &[String]) -> i32 {
        let Setup {
            flags,
            args,
            server,
            be,
        } = self;
        let signals = match Signals::install() {
            Ok(s) => s,
            Err(e) => {
                eprintln!("arma3server_x64: cannot install signal handlers: {e}");
                return 2;
            }
        };
        let started = Instant::now();
        let mut rng = match flags.seed {
            Some(seed) => Rng::seeded(seed),
            None => Rng::from_entropy(),
        };

        let mut rpt = match Rpt::create(&args.profiles) {
            Ok(r) => r,
            Err(e) => {
                eprintln!(
                    "arma3server_x64: cannot create RPT file in {}: {e}",
                    args.profiles.display()
                );
                return 2;
            }
        };
        // The name we were started under (a symlink for a test "install"), made absolute.
        let exe = std::path::absolute(program)
            .map(|p| p.display().to_string())
            .unwrap_or_else(|_| program.to_string());
        let exe_time = std::env::current_exe()
            .and_then(std::fs::metadata)
            .and_then(|m| m.modified())
            .map(Civil::from_system)
            .unwrap_or_else(|_| Civil::now());
        let name = Path::new(program)
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("arma3server_x64");
        let mut command_line = name.to_string();
        for a in raw_args {
            command_line.push(' ');
            command_line.push_str(a);
        }
        rpt.header(&exe, &command_line, &exe_time);
        rpt.line("SteamAPI initialization failed. Steam features won't be accessible!");
        rpt.line("Initializing stats manager.");
        stdout_line(&format!(
            "Arma 3 Console version 2.16.151618 x64 (garrison-sim): \"{}\"",
            server.hostname
        ));
        stdout_line(&format!("Logging to {}", rpt.path().display()));
        if !args.mods.is_empty() || !args.server_mods.is_empty() {
            stdout_line(&format!(
                "Mods: {}; server mods: {}",
                args.mods, args.server_mods
            ));
        }

        let mut rcon = match &be.password {
            None => {
                stdout_line("BattlEye RCon disabled (no RConPassword)");
                None
            }
            Some(password) => {
                let port = match be.port.or_else(|| args.port.checked_add(4)) {
                    Some(p) => p,
                    None => {
                        eprintln!("arma3server_x64: no usable RCon port");
                        return 2;
                    }
                };
                let addr = SocketAddr::new(be.ip, port);
                let style = ReplyStyle {
                    fragment_bytes: flags.fragment_bytes,
                    shuffle: flags.shuffle_fragments,
                };
                let fork = Rng::seeded(rng.next_u64());
                match RconServer::bind(addr, password.clone(), style, fork) {
                    Ok(server) => Some(server),
                    Err(e) => {
                        eprintln!("arma3server_x64: cannot bind BattlEye RCon on {addr}: {e}");
                        return 2;
                    }
                }
            }
        };

        let mut world = World::new(
            WorldSettings {
                initial_players: flags.players,
                churn: flags.churn,
                max_players: server.max_players,
                missions: server.missions.clone(),
            },
            Rng::seeded(rng.next_u64()),
        );
        for ban in &flags.bans {
            match ban_target(ban) {
                Some(target) => world.add_ban(target, None, "kept by the game", started),
                None => eprintln!("arma3server_x64: --ban {ban:?} is neither a GUID nor an IP"),
            }
        }
        let ready_at = started + flags.slow_start;
        let crash_at = flags.crash_after.map(|d| started + d);
        let mut next_tick: Option<Instant> = None;
        let mut buf = vec![0u8; 65_536];

        loop {
            let now = Instant::now();
            if crash_at.is_some_and(|t| now >= t) {
                eprintln!(
                    "arma3server_x64: simulated crash (exit code {})",
                    flags.exit_code
                );
                std::process::exit(flags.exit_code);
            }
            if let Some(signal) = signals.received() {
                if flags.ignore_sigterm {
                    stdout_line(&format!("Ignoring {signal} (--ignore-sigterm)"));
                    signals.clear();
                } else {
                    return stop(&mut rpt, rcon.as_ref(), signal);
                }
            }
            if next_tick.is_none() && now >= ready_at {
                announce_ready(&mut rpt, &args, &world, rcon.as_ref());
                next_tick = Some(now + flags.tick);
            }
            if let Some(due) = next_tick.as_mut() {
                let mut ticks = 0;
                while now >= *due && ticks < 10 {
                    world.tick();
                    *due += flags.tick;
                    ticks += 1;
                }
                if now >= *due {
                    // Far behind (the machine was suspended): skip ahead rather than race.
                    *due = now + flags.tick;
                }
            }
            deliver(&mut world, &mut rpt, rcon.as_mut(), now);
            if let Some(r) = rcon.as_mut() {
                r.maintain(now);
            }

            let mut wait = MAX_WAIT;
            let deadline = next_tick.unwrap_or(ready_at);
            wait = wait.min(deadline.saturating_duration_since(now));
            if let Some(t) = crash_at {
                wait = wait.min(t.saturating_duration_since(now));
            }
            let wait = wait.max(Duration::from_millis(1));
            match rcon.as_mut() {
                None => std::thread::sleep(wait),
                Some(r) => {
                    let Some((n, from)) = r.receive(&mut buf, wait) else {
                        continue;
                    };
                    // Before the server is ready BattlEye is not listening yet.
                    if next_tick.is_none() {
                        continue;
                    }
                    let datagram = buf.get(..n).unwrap_or_default();
                    if r.handle(from, datagram, &mut world, Instant::now()) == Control::Shutdown {
                        deliver(&mut world, &mut rpt, Some(&mut *r), Instant::now());
                        return stop(&mut rpt, Some(r), "#shutdown");
                    }
                }
            }
        }
    }
}

/// Writes the lines a server prints once it is up, from opening the port to `Game started.`.
/// A `--ban` value as BattlEye keeps it: a GUID (32 hexadecimal digits) or an address.
fn ban_target(ban: &str) -> Option<BanTarget> {
    if ban.len() == 32 && ban.chars().all(|c| c.is_ascii_hexdigit()) {
        Some(BanTarget::Guid(ban.to_ascii_lowercase()))
    } else {
        ban.parse().ok().map(BanTarget::Ip)
    }
}

fn announce_ready(rpt: &mut Rpt, args: &args::GameArgs, world: &World, rcon: Option<&RconServer>) {
    let port = args.port;
    rpt.line(&format!(
        "Game Port: {port}, Steam Query Port: {}",
        u32::from(port) + 1
    ));
    rpt.line(&format!(
        "Mission directory: mpmissions\\__cur_mp.{}\\",
        world.world_name()
    ));
    rpt.line("Host identity created.");
    rpt.line("BattlEye Server: Initialized (v1.220, Arma 3 2.16.151618)");
    rpt.line("Roles assigned.");
    rpt.line("Reading mission ...");
    for line in mission_files(world.missions()) {
        rpt.line(&line);
        stdout_line(&line);
    }
    rpt.line("Mission read.");
    rpt.line("Game started.");
    stdout_line("Host identity created.");
    if let Some(addr) = rcon.and_then(|r| r.local_addr().ok()) {
        stdout_line(&format!("BattlEye RCon listening on {addr}"));
    }
    stdout_line("Game started.");
}

/// Looks up each mission of the rotation as the game does — `mpmissions/<template>.pbo`, or
/// an unpacked `mpmissions/<template>/` folder, in the working directory — and says what it
/// found, so tests can tell which server's file a game run read.
fn mission_files(missions: &[config::Mission]) -> Vec<String> {
    missions
        .iter()
        .map(|m| {
            let packed = Path::new("mpmissions").join(format!("{}.pbo", m.template));
            let folder = Path::new("mpmissions").join(&m.template);
            match (std::fs::metadata(&packed), folder.is_dir()) {
                (Ok(meta), _) if meta.is_file() => format!(
                    "Mission file: mpmissions/{}.pbo, {} bytes",
                    m.template,
                    meta.len()
                ),
                (_, true) => format!("Mission file: mpmissions/{}/ (unpacked)", m.template),
                _ => format!(
                    "Warning Message: Mission {} not found in mpmissions",
                    m.template
                ),
            }
        })
        .collect()
}

/// Writes queued world events to the RPT and sends their server messages.
fn deliver(world: &mut World, rpt: &mut Rpt, mut rcon: Option<&mut RconServer>, now: Instant) {
    for output in world.drain() {
        match output {
            Output::Rpt(lines) => rpt.write(&lines),
            Output::Message(text) => {
                if let Some(r) = rcon.as_deref_mut() {
                    r.broadcast(&text, now);
                }
            }
        }
    }
}

/// The clean end: one last RPT line, exit code 0.
fn stop(rpt: &mut Rpt, rcon: Option<&RconServer>, why: &str) -> i32 {
    rpt.line(&format!("Server shutting down ({why})."));
    if let Some(r) = rcon {
        stdout_line(&format!(
            "BattlEye RCon: {} malformed or unexpected datagrams dropped",
            r.dropped()
        ));
    }
    stdout_line(&format!("Server shutting down ({why})."));
    0
}
