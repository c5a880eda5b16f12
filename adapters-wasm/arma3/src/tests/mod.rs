//! Native tests of the adapter: the golden samples shared with the simulator, the RCon
//! session's timing (the SDK's BattlEye session), config escaping and the plans.

mod config;
mod plan;
mod props;
mod replies;
mod rpt;
mod session;

use garrison_adapter_sdk::prelude::*;

/// The RPT sample written by the simulator's authors.
const SAMPLE_RPT: &str = include_str!("../../../../tests/data/arma3/sample.rpt");
/// The reply to `players`.
const PLAYERS_TXT: &str = include_str!("../../../../tests/data/arma3/players.txt");
/// The reply to `bans`.
const BANS_TXT: &str = include_str!("../../../../tests/data/arma3/bans.txt");

fn text(s: &str) -> SettingValue {
    SettingValue::Text(s.to_string())
}

fn int(n: i64) -> SettingValue {
    SettingValue::Integer(n)
}

fn flag(b: bool) -> SettingValue {
    SettingValue::Flag(b)
}

fn items(v: &[&str]) -> SettingValue {
    SettingValue::Items(v.iter().map(|s| s.to_string()).collect())
}

/// The schema's defaults (as the host fills them in), with `overrides` replacing or adding
/// values.
fn settings(overrides: Vec<(&str, SettingValue)>) -> Settings {
    let mut pairs: Vec<(String, SettingValue)> = crate::schema::fields()
        .into_iter()
        .filter_map(|f| f.default.map(|d| (f.key, d)))
        .collect();
    pairs.push(("rcon_password".into(), text("s3cret")));
    for (key, value) in overrides {
        pairs.retain(|(k, _)| k != key);
        pairs.push((key.to_string(), value));
    }
    Settings::from_pairs(pairs)
}

fn ctx() -> Context {
    Context {
        server_id: "7".into(),
        instance_dir: "/srv/garrison/servers/7".into(),
        runtime_dir: "/srv/garrison/runtimes/arma3".into(),
    }
}

/// Debug text, for comparing generated types that do not implement `PartialEq`.
fn dbg<T: std::fmt::Debug>(value: &T) -> String {
    format!("{value:?}")
}
