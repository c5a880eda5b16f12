//! The extra launch parameters an administrator may add: an allow-list, not a deny-list.
//!
//! Arma 3 has parameters that reopen what the adapter closes — `-par=<file>` reads further
//! parameters (a `-config=`, say) from a file, `-malloc=` loads a library, `-filePatching`
//! loads loose files, `-pid=` and `-ranking=` write files, `-noLogs` and `-netlog` change the
//! logs the host reads, `-init=` runs script code. A deny-list misses the next one, so only the
//! parameters below pass, each with its value checked. They come from Bohemia Interactive's
//! "Arma 3: Startup Parameters" page (community.bistudio.com/wiki/Arma_3:_Startup_Parameters),
//! keeping only those that tune performance or binding and can neither load files or code,
//! redirect logs nor open network paths. Names match without regard to case, as the game's
//! do; an argument is one element and may not contain spaces (the game would not split it,
//! but a reader of the command line might).

/// What value a parameter takes.
#[derive(Clone, Copy, Debug)]
enum Value {
    /// None: `-name` alone.
    Flag,
    /// A whole number within bounds: `-name=N`.
    Number(u32, u32),
    /// One of a few numbers.
    OneOf(&'static [&'static str]),
    /// An IPv4 address to bind to.
    Ipv4,
    /// A world (terrain) name: letters, digits and `_`.
    World,
}

/// The allowed parameters, as the wiki spells them.
const ALLOWED: [(&str, Value); 17] = [
    ("-autoInit", Value::Flag),
    ("-loadMissionToMemory", Value::Flag),
    ("-enableHT", Value::Flag),
    ("-hugePages", Value::Flag),
    ("-noSound", Value::Flag),
    ("-noSplash", Value::Flag),
    ("-noPause", Value::Flag),
    ("-noFreezeCheck", Value::Flag),
    ("-disableServerThread", Value::Flag),
    ("-limitFPS", Value::Number(5, 1000)),
    ("-cpuCount", Value::Number(1, 256)),
    ("-exThreads", Value::OneOf(&["0", "1", "3", "5", "7"])),
    ("-maxMem", Value::Number(256, 1_048_576)),
    ("-maxFileCacheSize", Value::Number(64, 1_048_576)),
    ("-bandwidthAlg", Value::OneOf(&["1", "2"])),
    ("-ip", Value::Ipv4),
    ("-world", Value::World),
];

/// The parameters Garrison sets itself from the server's settings.
const MANAGED: [&str; 8] = [
    "-port",
    "-config",
    "-cfg",
    "-profiles",
    "-name",
    "-bepath",
    "-mod",
    "-serverMod",
];

/// The names of the allowed parameters, for messages and the settings form.
pub fn allowed_names() -> String {
    ALLOWED
        .iter()
        .map(|(name, _)| *name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Checks one extra launch parameter; the error names the parameter and says why it is
/// refused, for the person who typed it.
pub fn check(param: &str) -> Result<(), String> {
    if param.is_empty() {
        return Err("the parameter is empty".into());
    }
    if param.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(format!(
            "\"{}\" contains spaces or control characters; enter one parameter per entry",
            param.escape_debug()
        ));
    }
    let (name, value) = match param.split_once('=') {
        Some((name, value)) => (name, Some(value)),
        None => (param, None),
    };
    if MANAGED.iter().any(|m| m.eq_ignore_ascii_case(name)) {
        return Err(format!(
            "{name} is set by Garrison itself; change the matching setting instead"
        ));
    }
    let Some((canonical, kind)) = ALLOWED.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)) else {
        return Err(format!(
            "{name} is not an allowed parameter (allowed: {})",
            allowed_names()
        ));
    };
    match (kind, value) {
        (Value::Flag, None) => Ok(()),
        (Value::Flag, Some(_)) => Err(format!("{canonical} takes no value")),
        (_, None) => Err(format!("{canonical} needs a value: {canonical}=…")),
        (Value::Number(min, max), Some(v)) => match v.parse::<u32>() {
            Ok(n) if (*min..=*max).contains(&n) && v.bytes().all(|b| b.is_ascii_digit()) => Ok(()),
            _ => Err(format!(
                "{canonical} takes a whole number from {min} to {max}, not \"{}\"",
                v.escape_debug()
            )),
        },
        (Value::OneOf(choices), Some(v)) if choices.contains(&v) => Ok(()),
        (Value::OneOf(choices), Some(v)) => Err(format!(
            "{canonical} takes one of {}, not \"{}\"",
            choices.join(", "),
            v.escape_debug()
        )),
        (Value::Ipv4, Some(v)) if v.parse::<std::net::Ipv4Addr>().is_ok() => Ok(()),
        (Value::Ipv4, Some(v)) => Err(format!(
            "{canonical} takes an IPv4 address such as 192.0.2.10, not \"{}\"",
            v.escape_debug()
        )),
        (Value::World, Some(v))
            if !v.is_empty()
                && v.len() <= 64
                && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') =>
        {
            Ok(())
        }
        (Value::World, Some(v)) => Err(format!(
            "{canonical} takes a world name such as empty or Altis, not \"{}\"",
            v.escape_debug()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_safe_parameters_pass_with_valid_values_in_any_case() {
        for good in [
            "-autoInit",
            "-AUTOINIT",
            "-loadMissionToMemory",
            "-limitFPS=120",
            "-limitfps=5",
            "-cpuCount=4",
            "-exThreads=7",
            "-maxMem=4096",
            "-bandwidthAlg=2",
            "-ip=192.0.2.10",
            "-world=empty",
            "-enableHT",
            "-hugePages",
        ] {
            assert_eq!(check(good), Ok(()), "{good}");
        }
    }

    #[test]
    fn parameters_that_load_files_code_or_redirect_logs_are_refused_by_name() {
        for (bad, named) in [
            ("-par=/srv/garrison/servers/1/mpmissions/x.txt", "-par"),
            ("-PAR=x.txt", "-PAR"),
            ("-malloc=evil", "-malloc"),
            ("-filePatching", "-filePatching"),
            ("-pid=/tmp/pid", "-pid"),
            ("-ranking=/tmp/r", "-ranking"),
            ("-noLogs", "-noLogs"),
            ("-netlog", "-netlog"),
            ("-init=hint 'x'", "-init"),
            ("-beservice", "-beservice"),
            ("-connect=192.0.2.1", "-connect"),
        ] {
            let why = check(bad).expect_err(bad);
            assert!(why.contains(named), "{bad}: {why}");
        }
    }

    #[test]
    fn managed_parameters_point_at_their_setting() {
        for bad in [
            "-config=/etc/passwd",
            "-profiles=/tmp",
            "-serverMod=@x",
            "-MOD=@y",
        ] {
            let why = check(bad).expect_err(bad);
            assert!(why.contains("set by Garrison"), "{bad}: {why}");
        }
    }

    #[test]
    fn values_are_checked() {
        for bad in [
            "-limitFPS=0",
            "-limitFPS=99999",
            "-limitFPS=+50",
            "-limitFPS",
            "-exThreads=2",
            "-ip=example.org",
            "-ip=\\\\share\\x",
            "-world=../x",
            "-world=",
            "-autoInit=1",
            "-autoInit -par=x",
            "",
            "-autoInit\n-par=x",
        ] {
            assert!(check(bad).is_err(), "{bad:?}");
        }
    }
}
