//! The extra launch parameters an administrator may add: an allow-list, not a deny-list.
//!
//! The Source engine runs any `+command` on its command line, so a deny-list leaves open
//! `+plugin_load` (loads a library into the server), `+logaddress_add` / `+log_address_add`
//! (sends the game log to any address), `+sv_downloadurl` (points players at another host),
//! `+tv_record` and friends (write files), and whatever comes next; `srcds_run` adds its own
//! `-steamcmd_script` (runs a file) and `-pidfile` (writes one). Only the parameters below
//! pass, each with its value checked. They come from the Valve Developer Community's
//! "Command Line Options" (developer.valvesoftware.com/wiki/Command_Line_Options) and
//! "Source Dedicated Server" pages, keeping only those that tune the tick rate, rates,
//! binding and bots and can neither load files or code, redirect logs nor open network
//! paths.
//!
//! The engine joins its arguments with spaces and parses the result again, so a list item
//! `-tickrate 60` is the same as the two items `-tickrate` and `60`: the whole list is read as
//! one sequence of words, and every word must be an allowed parameter or the value it takes.

use crate::validate::RESERVED_CVARS;

/// What value a parameter takes (as the next word).
#[derive(Clone, Copy, Debug)]
enum Value {
    /// None.
    Flag,
    /// A whole number within bounds.
    Number(u32, u32),
    /// An IPv4 address to bind to.
    Ipv4,
}

/// The allowed parameters.
const ALLOWED: [(&str, Value); 16] = [
    ("-nohltv", Value::Flag),
    ("-norestart", Value::Flag),
    ("-strictportbind", Value::Flag),
    ("-nobots", Value::Flag),
    ("-secure", Value::Flag),
    ("-insecure", Value::Flag),
    ("-tickrate", Value::Number(10, 128)),
    ("-threads", Value::Number(1, 64)),
    ("-ip", Value::Ipv4),
    ("+fps_max", Value::Number(0, 1000)),
    ("+sv_minrate", Value::Number(0, 1_048_576)),
    ("+sv_maxrate", Value::Number(0, 1_048_576)),
    ("+sv_mincmdrate", Value::Number(0, 1000)),
    ("+sv_maxcmdrate", Value::Number(0, 1000)),
    ("+sv_minupdaterate", Value::Number(0, 1000)),
    ("+sv_maxupdaterate", Value::Number(0, 1000)),
];

/// Parameters Garrison sets itself (besides `+<cvar>` for the reserved cvars).
const MANAGED: [&str; 6] = [
    "-game",
    "-port",
    "+map",
    "+maxplayers",
    "-maxplayers",
    "+exec",
];

/// The names of the allowed parameters, for messages and the settings form.
pub fn allowed_names() -> String {
    ALLOWED
        .iter()
        .map(|(name, _)| *name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Checks the extra parameters as one sequence; every problem is returned, each naming the
/// parameter (or word) at fault.
pub fn check(items: &[String]) -> Result<(), Vec<String>> {
    let mut problems = Vec::new();
    if items.iter().any(|i| i.chars().any(char::is_control)) {
        problems.push("control characters are not allowed".to_string());
        return Err(problems);
    }
    if items.iter().any(|i| i.trim().is_empty()) {
        problems.push("an entry is empty".to_string());
    }
    let mut words = items.iter().flat_map(|i| i.split_whitespace()).peekable();
    while let Some(word) = words.next() {
        let is_name = |w: &str| w.starts_with('-') || w.starts_with('+');
        if !is_name(word) {
            problems.push(format!(
                "\"{word}\" is a value without a parameter before it"
            ));
            continue;
        }
        let lower = word.to_ascii_lowercase();
        let managed = MANAGED.contains(&lower.as_str())
            || lower
                .strip_prefix('+')
                .is_some_and(|cvar| RESERVED_CVARS.contains(&cvar));
        let found = ALLOWED.iter().find(|(n, _)| *n == lower);
        let Some((canonical, kind)) = found.filter(|_| !managed) else {
            problems.push(if managed {
                format!("{word} is set by Garrison itself; change the matching setting instead")
            } else {
                format!(
                    "{word} is not an allowed parameter (allowed: {})",
                    allowed_names()
                )
            });
            // Its values go with it: one problem per refused parameter.
            while words.peek().is_some_and(|w| !is_name(w)) {
                words.next();
            }
            continue;
        };
        let problem = match kind {
            Value::Flag => None,
            Value::Number(min, max) => match words.next_if(|w| !is_name(w)) {
                Some(v)
                    if v.bytes().all(|b| b.is_ascii_digit())
                        && v.parse::<u32>().is_ok_and(|n| (*min..=*max).contains(&n)) =>
                {
                    None
                }
                Some(v) => Some(format!(
                    "{canonical} takes a whole number from {min} to {max}, not \"{v}\""
                )),
                None => Some(format!("{canonical} needs a value: {canonical} N")),
            },
            Value::Ipv4 => match words.next_if(|w| !is_name(w)) {
                Some(v) if v.parse::<std::net::Ipv4Addr>().is_ok() => None,
                Some(v) => Some(format!(
                    "{canonical} takes an IPv4 address such as 192.0.2.10, not \"{v}\""
                )),
                None => Some(format!(
                    "{canonical} needs an address: {canonical} 192.0.2.10"
                )),
            },
        };
        problems.extend(problem);
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| (*s).to_string()).collect()
    }

    #[test]
    fn known_safe_parameters_pass_as_separate_or_joined_words() {
        for good in [
            list(&["-nohltv"]),
            list(&["-tickrate", "60"]),
            list(&["-tickrate 60", "+fps_max", "300"]),
            list(&["-IP", "192.0.2.10", "-strictportbind", "-norestart"]),
            list(&[]),
        ] {
            assert_eq!(check(&good), Ok(()), "{good:?}");
        }
    }

    #[test]
    fn commands_that_load_code_write_files_or_send_logs_are_refused_by_name() {
        for (bad, named) in [
            (list(&["+plugin_load", "addons/evil"]), "+plugin_load"),
            (
                list(&["+log_address_add", "203.0.113.1:27500"]),
                "+log_address_add",
            ),
            (
                list(&["+logaddress_add 203.0.113.1:27500"]),
                "+logaddress_add",
            ),
            (
                list(&["+sv_downloadurl", "http://203.0.113.1/"]),
                "+sv_downloadurl",
            ),
            (list(&["+tv_record", "demo"]), "+tv_record"),
            (list(&["-steamcmd_script", "/tmp/x"]), "-steamcmd_script"),
            (list(&["-pidfile", "/tmp/pid"]), "-pidfile"),
            (list(&["-nohltv +plugin_load addons/evil"]), "+plugin_load"),
        ] {
            let found = check(&bad).expect_err(named);
            assert_eq!(found.len(), 1, "{bad:?}: {found:?}");
            assert!(found[0].contains(named), "{bad:?}: {found:?}");
        }
    }

    #[test]
    fn managed_parameters_and_bad_values_are_refused() {
        for (bad, says) in [
            (list(&["+exec", "x.cfg"]), "set by Garrison"),
            (list(&["+sv_logsdir", "logs"]), "set by Garrison"),
            (list(&["+rcon_password x"]), "set by Garrison"),
            (list(&["-PORT", "1"]), "set by Garrison"),
            (list(&["-tickrate"]), "needs a value"),
            (list(&["-tickrate", "1000"]), "from 10 to 128"),
            (list(&["-tickrate", "+60"]), "needs a value"),
            (list(&["-ip", "example.org"]), "IPv4"),
            (list(&["60"]), "without a parameter"),
            (list(&["x\ny"]), "control characters"),
            (list(&[""]), "empty"),
        ] {
            let found = check(&bad).expect_err(says);
            assert!(found.iter().any(|p| p.contains(says)), "{bad:?}: {found:?}");
        }
    }
}
