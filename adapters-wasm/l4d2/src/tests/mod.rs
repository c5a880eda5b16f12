//! Native tests of the adapter: the golden samples shared with the simulator, the RCON
//! session (the SDK's, for srcds) over every read boundary, config quoting and the plans.

mod config;
mod logs;
mod plan;
mod props;
mod replies;
mod session;

use garrison_adapter_sdk::prelude::*;

/// The game log sample written by the simulator's authors.
const GAME_LOG: &str = include_str!("../../../../tests/data/l4d2/L0506000.log");
/// The console sample.
const CONSOLE_LOG: &str = include_str!("../../../../tests/data/l4d2/console.log");
/// The reply to `status`.
const STATUS_TXT: &str = include_str!("../../../../tests/data/l4d2/status.txt");
/// `status` with wider columns, no rate column and quotes in the hostname.
const STATUS_VARIANT_TXT: &str = include_str!("../../../../tests/data/l4d2/status-variant.txt");
/// The reply to `listid`.
const LISTID_TXT: &str = include_str!("../../../../tests/data/l4d2/listid.txt");

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

fn rows(v: &[(&str, &str)]) -> SettingValue {
    SettingValue::Rows(
        v.iter()
            .map(|(a, b)| vec![a.to_string(), b.to_string()])
            .collect(),
    )
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
        runtime_dir: "/srv/garrison/runtimes/l4d2".into(),
    }
}

/// Debug text, for comparing generated types that do not implement `PartialEq`.
fn dbg<T: std::fmt::Debug>(value: &T) -> String {
    format!("{value:?}")
}
