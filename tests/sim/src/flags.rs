//! The simulator's own `--flags`, shared by every game mode.
//!
//! Real servers take single-dash arguments (`-port=2302`, `+map c1m1`, …); those belong to the
//! game modules. Everything that starts with two dashes is a simulator knob that tests use to
//! provoke behaviour (crashes, slow starts, stubborn processes, fragmented replies). This module
//! splits the two kinds apart and parses the knobs; it never interprets game arguments.

use std::time::Duration;

/// Knobs that change how a simulated server behaves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimFlags {
    /// `--crash-after SECS`: exit abruptly after this long, as a crashing server would.
    pub crash_after: Option<Duration>,
    /// `--exit-code N`: the code used by `--crash-after` (default 1).
    pub exit_code: i32,
    /// `--ignore-sigterm`: SIGTERM/SIGINT do nothing, so the host must escalate to SIGKILL.
    pub ignore_sigterm: bool,
    /// `--slow-start SECS`: delay before the server is ready and answers RCon.
    pub slow_start: Duration,
    /// `--slow-quit SECS`: on `quit`, close the remote console at once but exit only this
    /// long after (as a game saving its world does). Source RCON only.
    pub slow_quit: Duration,
    /// `--players N`: simulated players that join shortly after start and stay.
    pub players: u32,
    /// `--churn`: extra players come and go at random.
    pub churn: bool,
    /// `--tick-ms MS`: pace of the simulated world.
    pub tick: Duration,
    /// `--seed N`: makes every random choice reproducible.
    pub seed: Option<u64>,
    /// `--fragment-bytes N`: largest RCon reply chunk per packet (BattlEye).
    pub fragment_bytes: usize,
    /// `--shuffle-fragments`: send multi-packet replies out of order (BattlEye).
    pub shuffle_fragments: bool,
    /// `--packet-bytes N`: largest reply body per RESPONSE_VALUE packet (Source RCON).
    pub packet_bytes: usize,
    /// `--split-writes`: dribble outgoing TCP bytes in small chunks, and sometimes send several
    /// packets in one write (Source RCON), so clients must reassemble across reads.
    pub split_writes: bool,
    /// `--ban ID` (repeatable): permanent bans the server has from the start, as if kept in
    /// its own ban file from an earlier run (BattlEye: a GUID or an address; Source: a
    /// SteamID).
    pub bans: Vec<String>,
}

impl Default for SimFlags {
    fn default() -> Self {
        Self {
            crash_after: None,
            exit_code: 1,
            ignore_sigterm: false,
            slow_start: Duration::ZERO,
            slow_quit: Duration::ZERO,
            players: 3,
            churn: false,
            tick: Duration::from_millis(1000),
            seed: None,
            fragment_bytes: 1000,
            shuffle_fragments: false,
            packet_bytes: 4096,
            split_writes: false,
            bans: Vec::new(),
        }
    }
}

/// Flags that take no value.
const SWITCHES: &[&str] = &[
    "ignore-sigterm",
    "churn",
    "shuffle-fragments",
    "split-writes",
];

/// Splits `args` into simulator flags and the remaining game arguments (in order).
///
/// Accepts `--name=value` and `--name value`. Unknown `--flags` and bad values are errors, so a
/// typo in a test fails loudly instead of silently simulating something else.
pub fn split(args: &[String]) -> Result<(SimFlags, Vec<String>), String> {
    let mut flags = SimFlags::default();
    let mut rest = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let arg = &args[i];
        i += 1;
        let Some(body) = arg.strip_prefix("--") else {
            rest.push(arg.clone());
            continue;
        };
        let (name, inline) = match body.split_once('=') {
            Some((n, v)) => (n, Some(v.to_string())),
            None => (body, None),
        };
        if SWITCHES.contains(&name) {
            if inline.is_some() {
                return Err(format!("--{name} takes no value"));
            }
            match name {
                "ignore-sigterm" => flags.ignore_sigterm = true,
                "churn" => flags.churn = true,
                "split-writes" => flags.split_writes = true,
                _ => flags.shuffle_fragments = true,
            }
            continue;
        }
        let value = match inline {
            Some(v) => v,
            None => {
                let Some(v) = args.get(i) else {
                    return Err(format!("--{name} needs a value"));
                };
                i += 1;
                v.clone()
            }
        };
        apply(&mut flags, name, &value)?;
    }
    Ok((flags, rest))
}

/// Name of the file beside the executable the simulator was started as (the "installed
/// game") whose flags apply to every server started from there.
pub const FLAGS_FILE: &str = "garrison-sim.flags";

/// Name of the file beside the executable whose flags apply only to the server on game port
/// `port` (after [`FLAGS_FILE`], before the command line).
pub fn port_flags_file(port: u16) -> String {
    format!("garrison-sim-{port}.flags")
}

/// The simulator flags kept in files beside `program` (see [`FLAGS_FILE`] and
/// [`port_flags_file`]), as words, in the order they apply. Missing files are no flags.
///
/// Tests and the demo use these files because the real adapters pass only the game's own,
/// allow-listed parameters: a `--flag` in a server's settings would be refused.
pub fn from_files(program: &str, port: u16) -> Result<Vec<String>, String> {
    let dir = std::path::Path::new(program)
        .parent()
        .unwrap_or(std::path::Path::new("."));
    let mut words = Vec::new();
    for name in [FLAGS_FILE.to_string(), port_flags_file(port)] {
        let path = dir.join(name);
        match std::fs::read_to_string(&path) {
            Ok(text) => words.extend(text.split_whitespace().map(str::to_string)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
        }
    }
    let (_, rest) = split(&words)?;
    if let Some(stray) = rest.first() {
        return Err(format!(
            "{stray:?} in a flags file is not a simulator --flag"
        ));
    }
    Ok(words)
}

/// Splits `args` like [`split`], with the flags of the files beside `program` for the server
/// on `port` applied first (see [`from_files`]).
pub fn split_with_files(
    program: &str,
    port: u16,
    args: &[String],
) -> Result<(SimFlags, Vec<String>), String> {
    let mut all = from_files(program, port)?;
    all.extend(args.iter().cloned());
    let (flags, rest) = split(&all)?;
    Ok((flags, rest))
}

/// Stores one `--name value` pair.
fn apply(flags: &mut SimFlags, name: &str, value: &str) -> Result<(), String> {
    let bad = || format!("--{name}: invalid value {value:?}");
    match name {
        "crash-after" => flags.crash_after = Some(seconds(value).ok_or_else(bad)?),
        "exit-code" => flags.exit_code = value.parse().map_err(|_| bad())?,
        "slow-start" => flags.slow_start = seconds(value).ok_or_else(bad)?,
        "slow-quit" => flags.slow_quit = seconds(value).ok_or_else(bad)?,
        "players" => flags.players = value.parse().map_err(|_| bad())?,
        "tick-ms" => {
            let ms: u64 = value.parse().map_err(|_| bad())?;
            flags.tick = Duration::from_millis(ms.max(1));
        }
        "seed" => flags.seed = Some(value.parse().map_err(|_| bad())?),
        "ban" => {
            if value.is_empty() || value.chars().any(char::is_whitespace) {
                return Err(bad());
            }
            flags.bans.push(value.to_string());
        }
        "fragment-bytes" => {
            let n: usize = value.parse().map_err(|_| bad())?;
            if n == 0 {
                return Err(bad());
            }
            flags.fragment_bytes = n;
        }
        "packet-bytes" => {
            // A Source RCON body holds at most 4096 bytes.
            let n: usize = value.parse().map_err(|_| bad())?;
            if n == 0 || n > 4096 {
                return Err(bad());
            }
            flags.packet_bytes = n;
        }
        _ => return Err(format!("unknown simulator flag --{name}")),
    }
    Ok(())
}

/// Parses a non-negative number of seconds, fractions allowed (`0.5`).
fn seconds(value: &str) -> Option<Duration> {
    let secs: f64 = value.parse().ok()?;
    Duration::try_from_secs_f64(secs).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(args: &[&str]) -> Vec<String> {
        args.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn both_spellings_and_game_args_kept_in_order() {
        let args = strings(&[
            "-port=2302",
            "--tick-ms",
            "50",
            "--players=4",
            "-config=server.cfg",
            "--churn",
            "--crash-after=0.5",
            "--ban=abc",
            "--ban",
            "def",
        ]);
        let (flags, rest) = split(&args).expect("valid flags");
        assert_eq!(rest, strings(&["-port=2302", "-config=server.cfg"]));
        assert_eq!(flags.tick, Duration::from_millis(50));
        assert_eq!(flags.players, 4);
        assert!(flags.churn);
        assert_eq!(flags.crash_after, Some(Duration::from_millis(500)));
        assert_eq!(flags.exit_code, 1);
        assert_eq!(flags.bans, strings(&["abc", "def"]));
    }

    #[test]
    fn bad_flags_are_errors_not_panics() {
        for bad in [
            &["--players"][..],
            &["--players=-1"],
            &["--nope=1"],
            &["--churn=yes"],
            &["--slow-start=-3"],
            &["--fragment-bytes=0"],
            &["--packet-bytes=0"],
            &["--packet-bytes=4097"],
            &["--split-writes=1"],
            &["--crash-after=inf"],
            &["--ban="],
        ] {
            assert!(split(&strings(bad)).is_err(), "{bad:?}");
        }
    }
}
