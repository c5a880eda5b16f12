//! Helpers for writing an adapter's settings form: a field builder with the defaults most
//! fields share (optional, not advanced, no default value) and a shorthand for choice lists.
//!
//! ```ignore
//! field("max_players", "Player slots", "General", FieldKind::Integer(range), "How many …")
//!     .default(SettingValue::Integer(32))
//!     .required()
//!     .build()
//! ```

use crate::SettingValue;
use crate::config::{ChoiceOption, Field, FieldKind};

/// A field under construction.
pub struct FieldBuilder(Field);

/// Starts a field: optional, not advanced, without a default.
pub fn field(key: &str, label: &str, section: &str, kind: FieldKind, help: &str) -> FieldBuilder {
    FieldBuilder(Field {
        key: key.into(),
        label: label.into(),
        help: help.into(),
        section: section.into(),
        kind,
        default: None,
        required: false,
        advanced: false,
    })
}

impl FieldBuilder {
    /// The value used when none is given.
    pub fn default(mut self, value: SettingValue) -> Self {
        self.0.default = Some(value);
        self
    }

    /// A value must be present.
    pub fn required(mut self) -> Self {
        self.0.required = true;
        self
    }

    /// Shown behind "advanced settings".
    pub fn advanced(mut self) -> Self {
        self.0.advanced = true;
        self
    }

    /// The finished field.
    pub fn build(self) -> Field {
        self.0
    }
}

/// Choice options from `(value, label)` pairs.
pub fn choices(options: &[(&str, &str)]) -> Vec<ChoiceOption> {
    options
        .iter()
        .map(|(value, label)| ChoiceOption {
            value: (*value).into(),
            label: (*label).into(),
        })
        .collect()
}
