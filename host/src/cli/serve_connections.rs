//! `garrison serve` options for client connections: how long a client may take to start and
//! to send a request, how many connections one address may hold, and the send buffer of a
//! WebSocket. Durations are written like `10s`, `1m`.

use std::time::Duration;

use clap::Args;
use garrison::Config;

/// Shortest and longest timeouts accepted.
const TIMEOUT_RANGE: (Duration, Duration) = (Duration::from_secs(1), Duration::from_secs(3600));

fn timeout(text: &str) -> Result<Duration, String> {
    let value = humantime::parse_duration(text).map_err(|e| e.to_string())?;
    if value < TIMEOUT_RANGE.0 || value > TIMEOUT_RANGE.1 {
        return Err(format!(
            "must be between {} and {}",
            humantime::format_duration(TIMEOUT_RANGE.0),
            humantime::format_duration(TIMEOUT_RANGE.1)
        ));
    }
    Ok(value)
}

/// Connection limits; absent options keep the host's defaults.
#[derive(Args, Debug, Default)]
pub struct ConnectionArgs {
    /// How long a request head may take once its first byte has arrived. Default 10s.
    #[arg(long, env = "GARRISON_HEADER_TIMEOUT", value_name = "DURATION", value_parser = timeout)]
    header_timeout: Option<Duration>,
    /// How long a connection may stay open without starting a request (after it opened or
    /// after its last answer). Default 30s.
    #[arg(long, env = "GARRISON_IDLE_TIMEOUT", value_name = "DURATION", value_parser = timeout)]
    idle_timeout: Option<Duration>,
    /// Connections one client address may hold open at once (0: no limit). Default 128.
    #[arg(long, env = "GARRISON_MAX_CONNECTIONS_PER_ADDRESS", value_name = "N",
          value_parser = clap::value_parser!(u32).range(0..=1_000_000))]
    max_connections_per_address: Option<u32>,
    /// Kernel send buffer of a WebSocket, in KiB (0: the system's auto-tuned buffer).
    /// Default 64.
    #[arg(long, env = "GARRISON_WS_SEND_BUFFER_KIB", value_name = "KIB",
          value_parser = clap::value_parser!(u32).range(0..=65_536))]
    ws_send_buffer_kib: Option<u32>,
}

impl ConnectionArgs {
    /// Writes the given options over `config`'s defaults.
    pub fn apply(&self, config: &mut Config) {
        let serve = &mut config.serve;
        if let Some(value) = self.header_timeout {
            serve.header_timeout = value;
        }
        if let Some(value) = self.idle_timeout {
            serve.idle_timeout = value;
        }
        if let Some(value) = self.max_connections_per_address {
            serve.max_connections_per_address = value as usize;
        }
        if let Some(kib) = self.ws_send_buffer_kib {
            serve.ws_send_buffer = kib as usize * 1024;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Wrapper {
        #[command(flatten)]
        connections: ConnectionArgs,
    }

    fn parse(args: &[&str]) -> Result<ConnectionArgs, clap::Error> {
        Wrapper::try_parse_from(std::iter::once("garrison").chain(args.iter().copied()))
            .map(|w| w.connections)
    }

    #[test]
    fn options_override_only_what_they_name() {
        let args = parse(&["--idle-timeout", "2m", "--ws-send-buffer-kib", "0"]).expect("parse");
        let mut config = Config::new("/tmp/unused".into());
        let defaults = config.serve;
        args.apply(&mut config);
        assert_eq!(config.serve.idle_timeout, Duration::from_secs(120));
        assert_eq!(config.serve.ws_send_buffer, 0);
        assert_eq!(config.serve.header_timeout, defaults.header_timeout);
        assert_eq!(
            config.serve.max_connections_per_address,
            defaults.max_connections_per_address
        );
    }

    #[test]
    fn values_out_of_range_or_unreadable_are_refused() {
        for bad in [
            ["--header-timeout", "0s"],
            ["--idle-timeout", "2h"],
            ["--idle-timeout", "soon"],
            ["--max-connections-per-address", "-1"],
            ["--ws-send-buffer-kib", "100000"],
        ] {
            assert!(parse(&bad).is_err(), "{bad:?}");
        }
    }
}
