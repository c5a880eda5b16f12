//! `garrison serve` options for live telemetry: how often players and metrics are sampled
//! and how long history is kept. Durations are written like `10s`, `5m`, `7days`.

use std::time::Duration;

use clap::Args;
use garrison::Config;

/// Shortest and longest sampling periods accepted.
const SAMPLE_RANGE: (Duration, Duration) = (Duration::from_secs(1), Duration::from_secs(3600));
/// Shortest and longest retention accepted (an hour; ten years).
const KEEP_RANGE: (Duration, Duration) = (
    Duration::from_secs(3600),
    Duration::from_secs(10 * 365 * 24 * 3600),
);

fn within(text: &str, (min, max): (Duration, Duration)) -> Result<Duration, String> {
    let value = humantime::parse_duration(text).map_err(|e| e.to_string())?;
    if value < min || value > max {
        return Err(format!(
            "must be between {} and {}",
            humantime::format_duration(min),
            humantime::format_duration(max)
        ));
    }
    Ok(value)
}

fn sample_period(text: &str) -> Result<Duration, String> {
    within(text, SAMPLE_RANGE)
}

fn keep_period(text: &str) -> Result<Duration, String> {
    within(text, KEEP_RANGE)
}

/// Sampling and retention; absent options keep the host's defaults.
#[derive(Args, Debug, Default)]
pub struct TelemetryArgs {
    /// How often the player list is read over RCon (also read at once after a join or leave
    /// in the log). Default 10s.
    #[arg(long, env = "GARRISON_PLAYER_POLL", value_name = "DURATION", value_parser = sample_period)]
    player_poll: Option<Duration>,
    /// How often CPU and memory are sampled. Default 5s.
    #[arg(long, env = "GARRISON_METRICS_INTERVAL", value_name = "DURATION", value_parser = sample_period)]
    metrics_interval: Option<Duration>,
    /// How long server log lines are kept. Default 7days.
    #[arg(long, env = "GARRISON_KEEP_LOGS", value_name = "DURATION", value_parser = keep_period)]
    keep_logs: Option<Duration>,
    /// How long raw metric samples are kept. Default 1day.
    #[arg(long, env = "GARRISON_KEEP_METRICS", value_name = "DURATION", value_parser = keep_period)]
    keep_metrics: Option<Duration>,
    /// How long one-minute metric rollups are kept. Default 30days.
    #[arg(long, env = "GARRISON_KEEP_ROLLUPS", value_name = "DURATION", value_parser = keep_period)]
    keep_rollups: Option<Duration>,
    /// How long server events (state changes, crashes, players, job results) are kept.
    /// Default 30days.
    #[arg(long, env = "GARRISON_KEEP_EVENTS", value_name = "DURATION", value_parser = keep_period)]
    keep_events: Option<Duration>,
    /// How long job output is kept after the job ends. Default 30days.
    #[arg(long, env = "GARRISON_KEEP_JOB_LOGS", value_name = "DURATION", value_parser = keep_period)]
    keep_job_logs: Option<Duration>,
    /// How long a deleted server's history (jobs, events, logs, players, metrics, grants,
    /// bans) is kept after its deletion. Default 30days.
    #[arg(long, env = "GARRISON_KEEP_DELETED", value_name = "DURATION", value_parser = keep_period)]
    keep_deleted: Option<Duration>,
    /// How long the audit log of API calls is kept. Default 90days.
    #[arg(long, env = "GARRISON_KEEP_AUDIT", value_name = "DURATION", value_parser = keep_period)]
    keep_audit: Option<Duration>,
}

impl TelemetryArgs {
    /// Writes the given options over `config`'s defaults.
    pub fn apply(&self, config: &mut Config) {
        let keep = &mut config.retention;
        for (option, slot) in [
            (self.player_poll, &mut config.player_poll),
            (self.metrics_interval, &mut config.metrics_interval),
            (self.keep_logs, &mut keep.logs),
            (self.keep_metrics, &mut keep.metrics_raw),
            (self.keep_rollups, &mut keep.metrics_rollups),
            (self.keep_events, &mut keep.events),
            (self.keep_job_logs, &mut keep.job_logs),
            (self.keep_deleted, &mut keep.deleted_servers),
            (self.keep_audit, &mut keep.audit),
        ] {
            if let Some(value) = option {
                *slot = value;
            }
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
        telemetry: TelemetryArgs,
    }

    fn parse(args: &[&str]) -> Result<TelemetryArgs, clap::Error> {
        Wrapper::try_parse_from(std::iter::once("garrison").chain(args.iter().copied()))
            .map(|w| w.telemetry)
    }

    #[test]
    fn options_override_only_what_they_name() {
        let args = parse(&[
            "--player-poll",
            "30s",
            "--keep-logs",
            "14days",
            "--keep-audit",
            "1year",
        ])
        .expect("parse");
        let mut config = Config::new("/tmp/unused".into());
        let defaults = config.retention;
        args.apply(&mut config);
        assert_eq!(config.player_poll, Duration::from_secs(30));
        assert_eq!(config.retention.logs, Duration::from_secs(14 * 86_400));
        assert_eq!(config.retention.events, defaults.events);
        assert_eq!(
            config.retention.audit,
            humantime::parse_duration("1year").expect("year")
        );
        assert_ne!(defaults.audit, config.retention.audit);
        assert_eq!(
            config.metrics_interval,
            Config::new("/tmp/unused".into()).metrics_interval
        );
    }

    #[test]
    fn durations_out_of_range_or_unreadable_are_refused() {
        for bad in [
            ["--player-poll", "0s"],
            ["--player-poll", "2h"],
            ["--keep-events", "5m"],
            ["--keep-audit", "30m"],
            ["--keep-logs", "forever"],
            ["--metrics-interval", "-1s"],
        ] {
            assert!(parse(&bad).is_err(), "{bad:?}");
        }
    }
}
