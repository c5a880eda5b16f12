//! The `generic` adapter: runs any executable.
//!
//! For games that have no adapter yet, and for anything else that runs as a long-lived
//! process. The console output is the log; a regular expression, when given, tells when the
//! server is ready; stopping is the host's SIGTERM followed by SIGKILL after a grace period.
//! There is no remote console.

use garrison_adapter_sdk::prelude::*;
use regex::Regex;

/// The adapter.
pub struct Generic;

/// Setting keys.
mod key {
    pub const EXECUTABLE: &str = "executable";
    pub const ARGS: &str = "args";
    pub const WORKING_DIR: &str = "working_dir";
    pub const ENV: &str = "env";
    pub const READY_PATTERN: &str = "ready_pattern";
    pub const GRACE: &str = "stop_signal_grace_secs";
}

/// Default seconds between SIGTERM and SIGKILL.
const DEFAULT_GRACE_SECS: i64 = 30;
/// Longest ready pattern accepted; keeps regex compilation cheap.
const MAX_PATTERN_LEN: u32 = 512;
/// Compiled-size cap for the ready pattern, so a hostile pattern cannot eat the sandbox.
const REGEX_SIZE_LIMIT: usize = 1 << 20;

impl Adapter for Generic {
    type Parser = GenericParser;
    type Session = NoRcon;

    fn describe() -> Description {
        Description {
            id: "generic".to_string(),
            name: "Generic process".to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            summary: "Runs any executable as a server: its console output becomes the log, an \
                      optional pattern tells when it is ready, and it is stopped with SIGTERM \
                      then SIGKILL. No remote console."
                .to_string(),
            runtime: RuntimeSource::None,
            capabilities: Capabilities::LOGS | Capabilities::READY_DETECTION,
        }
    }

    fn schema() -> Vec<Field> {
        let text = |max_length| {
            FieldKind::Text(TextOptions {
                max_length: Some(max_length),
                multiline: false,
            })
        };
        vec![
            Field {
                key: key::EXECUTABLE.into(),
                label: "Executable".into(),
                help: "Path of the program to run. An absolute path, or a path relative to the \
                       game's installed files."
                    .into(),
                section: "Process".into(),
                kind: text(1024),
                default: None,
                required: true,
                advanced: false,
            },
            Field {
                key: key::ARGS.into(),
                label: "Arguments".into(),
                help: "Command-line arguments, one per entry. Spaces inside an entry stay part \
                       of that argument."
                    .into(),
                section: "Process".into(),
                kind: FieldKind::List(ListOptions {
                    max_items: Some(256),
                    item_hint: "--port=27015".into(),
                }),
                default: Some(SettingValue::Items(Vec::new())),
                required: false,
                advanced: false,
            },
            Field {
                key: key::WORKING_DIR.into(),
                label: "Working directory".into(),
                help: "Absolute directory the program starts in. Leave empty to use the server's \
                       own directory."
                    .into(),
                section: "Process".into(),
                kind: text(1024),
                default: None,
                required: false,
                advanced: true,
            },
            Field {
                key: key::ENV.into(),
                label: "Environment variables".into(),
                help: "Extra environment variables as KEY=VALUE, one per entry.".into(),
                section: "Process".into(),
                kind: FieldKind::List(ListOptions {
                    max_items: Some(256),
                    item_hint: "LANG=C.UTF-8".into(),
                }),
                default: Some(SettingValue::Items(Vec::new())),
                required: false,
                advanced: true,
            },
            Field {
                key: key::READY_PATTERN.into(),
                label: "Ready pattern".into(),
                help: "A regular expression matched against each console line; the server counts \
                       as running once a line matches. Leave empty to count it as running as \
                       soon as it has started."
                    .into(),
                section: "Monitoring".into(),
                kind: text(MAX_PATTERN_LEN),
                default: None,
                required: false,
                advanced: false,
            },
            Field {
                key: key::GRACE.into(),
                label: "Stop grace period (seconds)".into(),
                help: "How long to wait after asking the program to stop (SIGTERM) before \
                       killing it."
                    .into(),
                section: "Process".into(),
                kind: FieldKind::Integer(IntegerRange { min: 0, max: 3600 }),
                default: Some(SettingValue::Integer(DEFAULT_GRACE_SECS)),
                required: false,
                advanced: true,
            },
        ]
    }

    fn validate(settings: &Settings) -> Result<(), Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut error = |field: &str, message: String| {
            errors.push(FieldError {
                field: field.to_string(),
                message,
            })
        };
        match settings.non_empty_text(key::EXECUTABLE) {
            None => error(key::EXECUTABLE, "Enter the program to run.".into()),
            Some(path) if path.contains('\0') => error(
                key::EXECUTABLE,
                "The path may not contain a NUL character.".into(),
            ),
            Some(_) => {}
        }
        if let Some(dir) = settings.non_empty_text(key::WORKING_DIR)
            && !dir.starts_with('/')
        {
            error(
                key::WORKING_DIR,
                "Use an absolute path (starting with /), or leave it empty.".into(),
            );
        }
        for (i, arg) in settings.items(key::ARGS).iter().enumerate() {
            if arg.contains('\0') {
                error(
                    key::ARGS,
                    format!("Argument {} contains a NUL character.", i + 1),
                );
            }
        }
        for entry in settings.items(key::ENV) {
            if let Err(message) = parse_env(entry) {
                error(key::ENV, message);
            }
        }
        if let Some(pattern) = settings.non_empty_text(key::READY_PATTERN)
            && let Err(e) = compile(pattern)
        {
            error(
                key::READY_PATTERN,
                format!("Not a valid regular expression: {e}"),
            );
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    fn launch(_ctx: &Context, settings: &Settings) -> Result<LaunchSpec, AdapterError> {
        let program = settings
            .non_empty_text(key::EXECUTABLE)
            .ok_or_else(|| AdapterError::Invalid("no executable is set".into()))?;
        let env = settings
            .items(key::ENV)
            .iter()
            .map(|entry| parse_env(entry).map_err(AdapterError::Invalid))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(LaunchSpec {
            program: program.to_string(),
            args: settings.items(key::ARGS).to_vec(),
            working_dir: settings
                .non_empty_text(key::WORKING_DIR)
                .map(str::to_string),
            env,
            wait_for_ready: settings.non_empty_text(key::READY_PATTERN).is_some(),
            startup_timeout_secs: None,
        })
    }

    fn stop_plan(settings: &Settings) -> Result<StopSpec, AdapterError> {
        let grace = settings.integer(key::GRACE).unwrap_or(DEFAULT_GRACE_SECS);
        Ok(StopSpec {
            steps: Vec::new(),
            grace_secs: Some(u32::try_from(grace.clamp(0, 3600)).unwrap_or(30)),
        })
    }

    fn create_parser(settings: &Settings) -> Result<GenericParser, AdapterError> {
        let ready = settings
            .non_empty_text(key::READY_PATTERN)
            .map(compile)
            .transpose()
            .map_err(|e| AdapterError::Invalid(format!("ready pattern: {e}")))?;
        Ok(GenericParser { ready })
    }
}

/// Splits `KEY=VALUE`, checking the key is a portable variable name.
fn parse_env(entry: &str) -> Result<(String, String), String> {
    let Some((key, value)) = entry.split_once('=') else {
        return Err(format!("\"{entry}\" is not KEY=VALUE."));
    };
    let valid_key = key
        .chars()
        .enumerate()
        .all(|(i, c)| c == '_' || c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit()));
    if key.is_empty() || !valid_key {
        return Err(format!(
            "\"{key}\" is not a valid variable name (letters, digits and _, not starting with a digit)."
        ));
    }
    if value.contains('\0') {
        return Err(format!("The value of {key} contains a NUL character."));
    }
    Ok((key.to_string(), value.to_string()))
}

fn compile(pattern: &str) -> Result<Regex, regex::Error> {
    regex::RegexBuilder::new(pattern)
        .size_limit(REGEX_SIZE_LIMIT)
        .build()
}

/// Console lines as they are, levels guessed from their words, and `server-ready` for every
/// line that matches the ready pattern.
pub struct GenericParser {
    ready: Option<Regex>,
}

impl LogParser for GenericParser {
    fn feed(&mut self, _source: &str, lines: &str) -> Parsed {
        let mut events = Vec::new();
        let records = batch_lines(lines)
            .enumerate()
            .map(|(i, line)| {
                if self.ready.as_ref().is_some_and(|re| re.is_match(line)) {
                    events.push(IndexedEvent {
                        record: u32::try_from(i).unwrap_or(u32::MAX),
                        event: GameEvent::ServerReady,
                    });
                }
                LogRecord::line(guess_level(line))
            })
            .collect();
        Parsed { records, events }
    }
}

export_adapter!(Generic);

#[cfg(test)]
mod tests;
