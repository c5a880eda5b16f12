//! `garrison-sim`: game-server simulators for Garrison's tests and demos.
//!
//! Real game servers cannot be downloaded where Garrison is tested, so this binary stands in
//! for them: it takes the real servers' arguments, reads their config files, writes their log
//! formats and speaks their RCon protocols over real sockets. It is busybox-style — started
//! under a game server's executable name (via a symlink, which is how tests "install" a game)
//! it becomes that server; `garrison-sim <game> ARGS…` does the same. Each game is a sibling
//! module with a `run(program, args) -> exit code`; shared pieces (flags, clock, randomness,
//! signals) sit beside them. It does not depend on the host crate.

mod arma3;
mod clock;
mod flags;
mod l4d2;
mod rng;
mod signals;

use std::io::Write;
use std::path::Path;

/// Executable names a real server is installed under, and the game each one simulates.
const PERSONAS: &[(&str, &str)] = &[
    ("arma3server_x64", "arma3"),
    ("arma3server", "arma3"),
    ("srcds_run", "l4d2"),
    ("srcds_linux", "l4d2"),
];

/// Prints one line on stdout, ignoring a closed pipe (a simulator must not die of it).
pub fn stdout_line(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{text}");
    let _ = out.flush();
}

fn usage() -> i32 {
    eprintln!(
        "usage: garrison-sim arma3 [-port=N -config=PATH -cfg=PATH -profiles=DIR -name=NAME \
         -bepath=DIR -mod=… -serverMod=…] [--crash-after SECS] [--exit-code N] \
         [--ignore-sigterm] [--slow-start SECS] [--players N] [--churn] [--tick-ms MS] \
         [--seed N] [--fragment-bytes N] [--shuffle-fragments]\n\
         garrison-sim l4d2 [-game DIR -port N -ip ADDR -condebug +maxplayers N +map MAP \
         +exec FILE +sv_logsdir DIR] [--crash-after SECS] [--exit-code N] [--ignore-sigterm] \
         [--slow-start SECS] [--players N] [--churn] [--tick-ms MS] [--seed N] \
         [--packet-bytes N] [--split-writes]\n\
         or run it under the name arma3server_x64 or srcds_run (e.g. through a symlink)"
    );
    2
}

/// Picks the game from the program name or the first argument.
fn dispatch(program: &str, args: &[String]) -> i32 {
    let stem = Path::new(program)
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("");
    let persona = PERSONAS
        .iter()
        .find(|(exe, _)| stem.eq_ignore_ascii_case(exe))
        .map(|(_, game)| *game);
    let (game, args) = match persona {
        Some(game) => (game, args),
        None => match args.split_first() {
            Some((game, rest)) => (game.as_str(), rest),
            None => return usage(),
        },
    };
    match game {
        "arma3" => arma3::run(program, args),
        "l4d2" => l4d2::run(program, args),
        _ => usage(),
    }
}

fn main() {
    let mut argv = std::env::args_os().map(|a| a.to_string_lossy().into_owned());
    let program = argv.next().unwrap_or_else(|| "garrison-sim".into());
    let args: Vec<String> = argv.collect();
    std::process::exit(dispatch(&program, &args));
}
