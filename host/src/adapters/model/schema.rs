//! The settings form (`config.schema`) and validation problems.

use serde::{Deserialize, Serialize};

/// One field of an adapter's settings form.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct Field {
    /// Machine key.
    pub key: String,
    /// Form label.
    pub label: String,
    /// Help text for non-technical administrators.
    pub help: String,
    /// Form section.
    pub section: String,
    /// Editor and validation rules.
    pub kind: FieldKind,
    /// Default value, as JSON of the field's kind.
    pub default: Option<serde_json::Value>,
    /// Must a value be present.
    pub required: bool,
    /// Hidden behind "advanced".
    pub advanced: bool,
}

/// How a field is edited and checked.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FieldKind {
    /// Text.
    Text {
        /// Longest accepted value in characters.
        max_length: Option<u32>,
        /// Multi-line editor.
        multiline: bool,
    },
    /// Secret text: encrypted at rest, never returned.
    Secret,
    /// Whole number within bounds.
    Integer {
        /// Smallest accepted value.
        min: i64,
        /// Largest accepted value.
        max: i64,
    },
    /// On or off.
    Flag,
    /// One of fixed values.
    Choice {
        /// The accepted values.
        options: Vec<ChoiceOption>,
    },
    /// Ordered strings.
    List {
        /// Most entries accepted.
        max_items: Option<u32>,
        /// Example entry.
        item_hint: String,
    },
    /// A network port.
    Port,
    /// Rows of typed cells.
    Table {
        /// The columns, in cell order.
        columns: Vec<Column>,
    },
}

/// One accepted value of a choice.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct ChoiceOption {
    /// Stored value.
    pub value: String,
    /// Shown label.
    pub label: String,
}

/// A table column.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct Column {
    /// Key of the cell in a row object.
    pub key: String,
    /// Heading.
    pub label: String,
    /// Cell kind.
    pub kind: ColumnKind,
}

/// The kind of a table cell.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ColumnKind {
    /// Free text.
    Text,
    /// Whole number within bounds.
    Integer {
        /// Smallest accepted value.
        min: i64,
        /// Largest accepted value.
        max: i64,
    },
    /// true/false.
    Flag,
    /// One of fixed values.
    Choice {
        /// The accepted values.
        options: Vec<ChoiceOption>,
    },
}

/// A problem with one field's value.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct FieldError {
    /// The field key ("" for the settings as a whole).
    pub field: String,
    /// What is wrong, for the person who typed it.
    pub message: String,
}

/// The conversions from one contract version's generated types (the same shapes in every
/// version that has them).
macro_rules! from_wit {
    ($v:ident) => {
        mod $v {
            #[allow(unused_imports)]
            use super::*;
            use crate::adapters::bindings::$v::exports::garrison::adapter::config;

            fn choices(options: Vec<config::ChoiceOption>) -> Vec<ChoiceOption> {
                options
                    .into_iter()
                    .map(|o| ChoiceOption {
                        value: o.value,
                        label: o.label,
                    })
                    .collect()
            }

            impl From<config::FieldKind> for FieldKind {
                fn from(kind: config::FieldKind) -> Self {
                    match kind {
                        config::FieldKind::Text(o) => FieldKind::Text {
                            max_length: o.max_length,
                            multiline: o.multiline,
                        },
                        config::FieldKind::Secret => FieldKind::Secret,
                        config::FieldKind::Integer(r) => FieldKind::Integer {
                            min: r.min,
                            max: r.max,
                        },
                        config::FieldKind::Flag => FieldKind::Flag,
                        config::FieldKind::Choice(options) => FieldKind::Choice {
                            options: choices(options),
                        },
                        config::FieldKind::List(o) => FieldKind::List {
                            max_items: o.max_items,
                            item_hint: o.item_hint,
                        },
                        config::FieldKind::Port => FieldKind::Port,
                        config::FieldKind::Table(columns) => FieldKind::Table {
                            columns: columns
                                .into_iter()
                                .map(|c| Column {
                                    key: c.key,
                                    label: c.label,
                                    kind: match c.kind {
                                        config::ColumnKind::Text => ColumnKind::Text,
                                        config::ColumnKind::Integer(r) => ColumnKind::Integer {
                                            min: r.min,
                                            max: r.max,
                                        },
                                        config::ColumnKind::Flag => ColumnKind::Flag,
                                        config::ColumnKind::Choice(options) => ColumnKind::Choice {
                                            options: choices(options),
                                        },
                                    },
                                })
                                .collect(),
                        },
                    }
                }
            }

            impl From<config::Field> for Field {
                fn from(f: config::Field) -> Self {
                    let kind = FieldKind::from(f.kind);
                    let default = f.default.map(|value| {
                        crate::adapters::settings::value_to_json(&kind, &value.into())
                    });
                    Field {
                        key: f.key,
                        label: f.label,
                        help: f.help,
                        section: f.section,
                        kind,
                        default,
                        required: f.required,
                        advanced: f.advanced,
                    }
                }
            }

            impl From<config::FieldError> for FieldError {
                fn from(e: config::FieldError) -> Self {
                    FieldError {
                        field: e.field,
                        message: e.message,
                    }
                }
            }
        }
    };
}

from_wit!(v0_1);
from_wit!(v0_2);
