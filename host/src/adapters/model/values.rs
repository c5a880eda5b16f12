//! What the host hands an adapter when it asks for a plan: a server's typed settings and the
//! facts about where the server lives.

/// One typed setting value, of the case its field's kind requires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SettingValue {
    /// `text`, `secret` and `choice` fields (secrets opened: the adapter needs them).
    Text(String),
    /// `integer` and `port` fields.
    Integer(i64),
    /// `flag` fields.
    Flag(bool),
    /// `list` fields, in order.
    Items(Vec<String>),
    /// `table` fields: one row per entry, one cell per column in schema order.
    Rows(Vec<Vec<String>>),
}

/// The value of one schema field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    /// The field's key.
    pub key: String,
    /// Its value.
    pub value: SettingValue,
}

/// The facts about one server an adapter plans with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Context {
    /// The server's id in the host.
    pub server_id: String,
    /// Absolute path of the server's own directory.
    pub instance_dir: String,
    /// Absolute path of the game's installed files.
    pub runtime_dir: String,
}

impl Context {
    /// The context of server `server_id` living in `instance_dir`, running the game installed
    /// in `runtime_dir`.
    pub fn new(
        server_id: impl std::fmt::Display,
        instance_dir: &std::path::Path,
        runtime_dir: &std::path::Path,
    ) -> Self {
        Context {
            server_id: server_id.to_string(),
            instance_dir: instance_dir.display().to_string(),
            runtime_dir: runtime_dir.display().to_string(),
        }
    }
}

/// Settings in the contract's shape (of the version the call goes to), for one call.
pub(crate) fn to_wit<T: for<'a> From<&'a Setting>>(settings: &[Setting]) -> Vec<T> {
    settings.iter().map(Into::into).collect()
}

/// The conversions from one contract version's generated types (the same shapes in every
/// version that has them).
macro_rules! from_wit {
    ($v:ident) => {
        mod $v {
            #[allow(unused_imports)]
            use super::*;
            use crate::adapters::bindings::$v::garrison::adapter::types;

            impl From<&SettingValue> for types::SettingValue {
                fn from(value: &SettingValue) -> Self {
                    match value {
                        SettingValue::Text(s) => types::SettingValue::Text(s.clone()),
                        SettingValue::Integer(n) => types::SettingValue::Integer(*n),
                        SettingValue::Flag(b) => types::SettingValue::Flag(*b),
                        SettingValue::Items(items) => types::SettingValue::Items(items.clone()),
                        SettingValue::Rows(rows) => types::SettingValue::Rows(rows.clone()),
                    }
                }
            }

            impl From<types::SettingValue> for SettingValue {
                fn from(value: types::SettingValue) -> Self {
                    match value {
                        types::SettingValue::Text(s) => SettingValue::Text(s),
                        types::SettingValue::Integer(n) => SettingValue::Integer(n),
                        types::SettingValue::Flag(b) => SettingValue::Flag(b),
                        types::SettingValue::Items(items) => SettingValue::Items(items),
                        types::SettingValue::Rows(rows) => SettingValue::Rows(rows),
                    }
                }
            }

            impl From<&Setting> for types::Setting {
                fn from(setting: &Setting) -> Self {
                    types::Setting {
                        key: setting.key.clone(),
                        value: (&setting.value).into(),
                    }
                }
            }

            impl From<&Context> for types::Context {
                fn from(context: &Context) -> Self {
                    types::Context {
                        server_id: context.server_id.clone(),
                        instance_dir: context.instance_dir.clone(),
                        runtime_dir: context.runtime_dir.clone(),
                    }
                }
            }
        }
    };
}

from_wit!(v0_1);
from_wit!(v0_2);
