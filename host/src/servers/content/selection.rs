//! The setting that selects content entries (a mission rotation, a mod load order), read from
//! and written to a server's settings JSON. A selection is a `list` field (its items are the
//! names) or a `table` field (one column names the entry; the others say more about it).
//!
//! Pure JSON work against the schema; storing goes through the normal settings update.

use serde_json::Value;

use super::ContentError;
use crate::adapters::model::{Column, ContentSelection, Field, FieldKind};

/// A selection setting as it stands.
#[derive(Debug, Clone, PartialEq)]
pub struct Selected {
    /// The columns of a table field; empty for a list field.
    pub columns: Vec<Column>,
    /// The column naming the entry (tables only).
    pub column: Option<String>,
    /// The rows: strings for a list field, objects keyed by column for a table field.
    pub rows: Vec<Value>,
}

impl Selected {
    /// The entry each row names, in order (rows without a name are skipped).
    pub fn names(&self) -> Vec<String> {
        self.rows
            .iter()
            .filter_map(|row| name_of(row, self.column.as_deref()))
            .collect()
    }

    /// Rows naming `names` in that order: an existing row for a name is kept (with its
    /// other cells), a new one names only the entry.
    pub fn with_names(&self, names: &[String]) -> Vec<Value> {
        names
            .iter()
            .map(|name| {
                let existing = self
                    .rows
                    .iter()
                    .find(|row| name_of(row, self.column.as_deref()).as_deref() == Some(name));
                match (existing, &self.column) {
                    (Some(row), _) => row.clone(),
                    (None, Some(column)) => {
                        let mut row = serde_json::Map::new();
                        row.insert(column.clone(), Value::String(name.clone()));
                        Value::Object(row)
                    }
                    (None, None) => Value::String(name.clone()),
                }
            })
            .collect()
    }
}

/// The entry `row` names: the row itself for a list, the column's cell for a table.
pub fn name_of(row: &Value, column: Option<&str>) -> Option<String> {
    match column {
        None => row.as_str().map(str::to_string),
        Some(column) => row.get(column)?.as_str().map(str::to_string),
    }
}

/// The field a selection points at, checked to be a list or a table with that column.
fn field<'a>(schema: &'a [Field], selection: &ContentSelection) -> Result<&'a Field, ContentError> {
    let field = schema
        .iter()
        .find(|f| f.key == selection.setting)
        .ok_or_else(|| {
            ContentError::Contract(format!(
                "the selection names the setting `{}`, which the schema lacks",
                selection.setting
            ))
        })?;
    match (&field.kind, &selection.column) {
        (FieldKind::List { .. }, None) => Ok(field),
        (FieldKind::Table { columns }, Some(c)) if columns.iter().any(|col| &col.key == c) => {
            Ok(field)
        }
        _ => Err(ContentError::Contract(format!(
            "the selection setting `{}` is not a list, or a table with the named column",
            selection.setting
        ))),
    }
}

/// The selection's current value in `settings` (a server's stored settings object), or the
/// field's default when it is not set.
pub fn read(
    schema: &[Field],
    settings: &Value,
    selection: &ContentSelection,
) -> Result<Selected, ContentError> {
    let field = field(schema, selection)?;
    let value = settings
        .get(&field.key)
        .filter(|v| !v.is_null())
        .or(field.default.as_ref());
    let rows = match value {
        Some(Value::Array(rows)) => rows.clone(),
        _ => Vec::new(),
    };
    let columns = match &field.kind {
        FieldKind::Table { columns } => columns.clone(),
        _ => Vec::new(),
    };
    Ok(Selected {
        columns,
        column: selection.column.clone(),
        rows,
    })
}

/// The strings of the list field `key` in `settings` (its default when unset).
pub fn read_list(
    schema: &[Field],
    settings: &Value,
    key: &str,
) -> Result<Vec<String>, ContentError> {
    let field = schema
        .iter()
        .find(|f| f.key == key && matches!(f.kind, FieldKind::List { .. }))
        .ok_or_else(|| {
            ContentError::Contract(format!("`{key}` is not a list setting of the schema"))
        })?;
    let value = settings
        .get(key)
        .filter(|v| !v.is_null())
        .or(field.default.as_ref());
    Ok(match value {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::model::ColumnKind;
    use serde_json::json;

    fn schema() -> Vec<Field> {
        let field = |key: &str, kind| Field {
            key: key.into(),
            label: key.into(),
            help: String::new(),
            section: String::new(),
            kind,
            default: Some(json!([])),
            required: false,
            advanced: false,
        };
        vec![
            field(
                "rotation",
                FieldKind::Table {
                    columns: vec![
                        Column {
                            key: "file".into(),
                            label: "File".into(),
                            kind: ColumnKind::Text,
                        },
                        Column {
                            key: "level".into(),
                            label: "Level".into(),
                            kind: ColumnKind::Text,
                        },
                    ],
                },
            ),
            field(
                "enabled",
                FieldKind::List {
                    max_items: None,
                    item_hint: String::new(),
                },
            ),
        ]
    }

    fn sel(setting: &str, column: Option<&str>) -> ContentSelection {
        ContentSelection {
            setting: setting.into(),
            column: column.map(Into::into),
        }
    }

    #[test]
    fn table_selections_keep_their_other_cells_when_reordered() {
        let settings = json!({"rotation": [{"file": "a", "level": "hard"}, {"file": "b"}]});
        let selected = read(&schema(), &settings, &sel("rotation", Some("file"))).expect("read");
        assert_eq!(selected.names(), ["a", "b"]);
        assert_eq!(selected.columns.len(), 2);
        let rows = selected.with_names(&["c".into(), "a".into()]);
        assert_eq!(
            rows,
            vec![json!({"file": "c"}), json!({"file": "a", "level": "hard"})]
        );
    }

    #[test]
    fn list_selections_and_defaults() {
        let selected = read(&schema(), &json!({}), &sel("enabled", None)).expect("read");
        assert!(selected.rows.is_empty());
        let selected = read(
            &schema(),
            &json!({"enabled": ["@x", "@y"]}),
            &sel("enabled", None),
        )
        .expect("read");
        assert_eq!(selected.names(), ["@x", "@y"]);
        assert_eq!(selected.with_names(&["@y".into()]), vec![json!("@y")]);
        assert_eq!(
            read_list(&schema(), &json!({"enabled": ["1"]}), "enabled").expect("list"),
            ["1"]
        );
    }

    #[test]
    fn selections_the_schema_does_not_back_are_contract_errors() {
        for bad in [
            sel("missing", None),
            sel("rotation", None),
            sel("rotation", Some("nope")),
            sel("enabled", Some("file")),
        ] {
            let refused = read(&schema(), &json!({}), &bad).expect_err("refused");
            assert!(matches!(refused, ContentError::Contract(_)), "{bad:?}");
        }
        assert!(read_list(&schema(), &json!({}), "rotation").is_err());
    }
}
