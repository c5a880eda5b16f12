//! Typed access to a server's settings as the host hands them over.
//!
//! The host has already checked every value against the schema (kind, range, choices,
//! required), so getters return `None` only for optional fields left empty or for a key the
//! schema does not have. This module owns lookups only; it does not validate.

use crate::{Setting, SettingValue};

/// A server's settings, keyed by field.
#[derive(Debug, Clone, Default)]
pub struct Settings(Vec<Setting>);

impl Settings {
    /// Wraps the settings list the host passed in.
    pub fn new(settings: Vec<Setting>) -> Self {
        Settings(settings)
    }

    /// Builds settings from key/value pairs (handy in tests).
    pub fn from_pairs<K: Into<String>>(pairs: impl IntoIterator<Item = (K, SettingValue)>) -> Self {
        Settings(
            pairs
                .into_iter()
                .map(|(key, value)| Setting {
                    key: key.into(),
                    value,
                })
                .collect(),
        )
    }

    /// The raw value of `key`.
    pub fn get(&self, key: &str) -> Option<&SettingValue> {
        self.0.iter().find(|s| s.key == key).map(|s| &s.value)
    }

    /// A text, secret or choice value.
    pub fn text(&self, key: &str) -> Option<&str> {
        match self.get(key) {
            Some(SettingValue::Text(s)) => Some(s),
            _ => None,
        }
    }

    /// A text value, `None` when missing or blank.
    pub fn non_empty_text(&self, key: &str) -> Option<&str> {
        self.text(key).filter(|s| !s.trim().is_empty())
    }

    /// An integer or port value.
    pub fn integer(&self, key: &str) -> Option<i64> {
        match self.get(key) {
            Some(SettingValue::Integer(n)) => Some(*n),
            _ => None,
        }
    }

    /// A flag value.
    pub fn flag(&self, key: &str) -> Option<bool> {
        match self.get(key) {
            Some(SettingValue::Flag(b)) => Some(*b),
            _ => None,
        }
    }

    /// A list value; empty when missing.
    pub fn items(&self, key: &str) -> &[String] {
        match self.get(key) {
            Some(SettingValue::Items(items)) => items,
            _ => &[],
        }
    }

    /// A table value; empty when missing. Cells are in the schema's column order.
    pub fn rows(&self, key: &str) -> &[Vec<String>] {
        match self.get(key) {
            Some(SettingValue::Rows(rows)) => rows,
            _ => &[],
        }
    }
}
