//! Settings as JSON (what the API and the CLI take) checked against an adapter's schema and
//! turned into the contract's typed settings, and back.
//!
//! These checks are the same for every adapter — kinds, ranges, choices, required fields,
//! unknown keys, size caps, no line breaks in one-line values — so adapters' `validate` only
//! has to judge what is specific to its game. This module does not call adapters.

use serde_json::{Map, Value, json};

use super::model::{ChoiceOption, ColumnKind, Field, FieldError, FieldKind, Setting, SettingValue};

/// Longest text value when the schema sets no limit, in characters.
pub const MAX_TEXT_CHARS: usize = 4096;
/// Most list entries or table rows when the schema sets no limit.
pub const MAX_ITEMS: usize = 1024;

/// Checks `json` (an object of field key → value) against `schema`, fills defaults, and
/// returns typed settings in schema order, or every problem found.
pub fn from_json(schema: &[Field], json: &Value) -> Result<Vec<Setting>, Vec<FieldError>> {
    let empty = Map::new();
    let object = match json {
        Value::Object(map) => map,
        Value::Null => &empty,
        _ => {
            return Err(vec![error(
                "",
                "Settings must be a JSON object of field keys to values.",
            )]);
        }
    };
    let mut errors = Vec::new();
    for key in object.keys() {
        if !schema.iter().any(|f| &f.key == key) {
            errors.push(error(key, "Unknown setting for this adapter."));
        }
    }
    let mut settings = Vec::with_capacity(schema.len());
    for field in schema {
        let given = object.get(&field.key).filter(|v| !v.is_null());
        let Some(value) = given.or(field.default.as_ref()) else {
            if field.required {
                errors.push(error(&field.key, "This setting is required."));
            }
            continue;
        };
        match convert(&field.kind, value) {
            Ok(value) => {
                if field.required && is_blank(&value) {
                    errors.push(error(&field.key, "This setting is required."));
                } else {
                    settings.push(Setting {
                        key: field.key.clone(),
                        value,
                    });
                }
            }
            Err(message) => errors.push(error(&field.key, &message)),
        }
    }
    if errors.is_empty() {
        Ok(settings)
    } else {
        Err(errors)
    }
}

/// Typed settings holding only the schema's defaults, for tools that need a parser or a
/// preview without a server (required fields without a default are left out).
pub fn defaults(schema: &[Field]) -> Vec<Setting> {
    schema
        .iter()
        .filter_map(|field| {
            let value = convert(&field.kind, field.default.as_ref()?).ok()?;
            Some(Setting {
                key: field.key.clone(),
                value,
            })
        })
        .collect()
}

/// The JSON form of a typed value, shaped by the field's kind (table rows become objects).
pub fn value_to_json(kind: &FieldKind, value: &SettingValue) -> Value {
    match value {
        SettingValue::Text(s) => json!(s),
        SettingValue::Integer(n) => json!(n),
        SettingValue::Flag(b) => json!(b),
        SettingValue::Items(items) => json!(items),
        SettingValue::Rows(rows) => match kind {
            FieldKind::Table { columns } => Value::Array(
                rows.iter()
                    .map(|row| {
                        let mut object = Map::new();
                        for (column, cell) in columns.iter().zip(row) {
                            object.insert(column.key.clone(), cell_to_json(&column.kind, cell));
                        }
                        Value::Object(object)
                    })
                    .collect(),
            ),
            _ => json!(rows),
        },
    }
}

/// The non-empty values of secret fields, to be masked in anything shown to a person.
pub fn secret_values(schema: &[Field], settings: &[Setting]) -> Vec<String> {
    settings
        .iter()
        .filter(|s| {
            schema
                .iter()
                .any(|f| f.key == s.key && matches!(f.kind, FieldKind::Secret))
        })
        .filter_map(|s| match &s.value {
            SettingValue::Text(t) if !t.is_empty() => Some(t.clone()),
            _ => None,
        })
        .collect()
}

fn error(field: &str, message: &str) -> FieldError {
    FieldError {
        field: field.to_string(),
        message: message.to_string(),
    }
}

fn is_blank(value: &SettingValue) -> bool {
    matches!(value, SettingValue::Text(s) if s.trim().is_empty())
}

fn convert(kind: &FieldKind, value: &Value) -> Result<SettingValue, String> {
    match kind {
        FieldKind::Text {
            max_length,
            multiline,
        } => {
            let limit = max_length
                .map_or(MAX_TEXT_CHARS, |n| n as usize)
                .min(MAX_TEXT_CHARS);
            text(value, limit, *multiline).map(SettingValue::Text)
        }
        FieldKind::Secret => text(value, MAX_TEXT_CHARS, false).map(SettingValue::Text),
        FieldKind::Integer { min, max } => integer(value, *min, *max).map(SettingValue::Integer),
        FieldKind::Port => integer(value, 1, 65535).map(SettingValue::Integer),
        FieldKind::Flag => value
            .as_bool()
            .map(SettingValue::Flag)
            .ok_or_else(|| "Expected true or false.".to_string()),
        FieldKind::Choice { options } => choice(value, options).map(SettingValue::Text),
        FieldKind::List { max_items, .. } => {
            let Value::Array(items) = value else {
                return Err("Expected a list of strings.".into());
            };
            let limit = max_items.map_or(MAX_ITEMS, |n| n as usize).min(MAX_ITEMS);
            if items.len() > limit {
                return Err(format!("At most {limit} entries are allowed."));
            }
            items
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    text(item, MAX_TEXT_CHARS, false).map_err(|e| format!("Entry {}: {e}", i + 1))
                })
                .collect::<Result<Vec<_>, _>>()
                .map(SettingValue::Items)
        }
        FieldKind::Table { columns } => {
            let Value::Array(rows) = value else {
                return Err("Expected a list of rows.".into());
            };
            if rows.len() > MAX_ITEMS {
                return Err(format!("At most {MAX_ITEMS} rows are allowed."));
            }
            let mut out = Vec::with_capacity(rows.len());
            for (i, row) in rows.iter().enumerate() {
                let Value::Object(cells) = row else {
                    return Err(format!(
                        "Row {}: expected an object of column values.",
                        i + 1
                    ));
                };
                if let Some(unknown) = cells.keys().find(|k| !columns.iter().any(|c| &c.key == *k))
                {
                    return Err(format!("Row {}: unknown column \"{unknown}\".", i + 1));
                }
                let mut cells_out = Vec::with_capacity(columns.len());
                for column in columns {
                    let cell = cells.get(&column.key).unwrap_or(&Value::Null);
                    cells_out.push(
                        cell_from_json(&column.kind, cell)
                            .map_err(|e| format!("Row {}, {}: {e}", i + 1, column.label))?,
                    );
                }
                out.push(cells_out);
            }
            Ok(SettingValue::Rows(out))
        }
    }
}

fn text(value: &Value, limit: usize, multiline: bool) -> Result<String, String> {
    let Value::String(s) = value else {
        return Err("Expected text.".into());
    };
    if s.chars().count() > limit {
        return Err(format!("At most {limit} characters are allowed."));
    }
    if s.contains('\0') {
        return Err("The text may not contain a NUL character.".into());
    }
    if !multiline && s.contains(['\n', '\r']) {
        return Err("The text must be a single line.".into());
    }
    Ok(s.clone())
}

fn integer(value: &Value, min: i64, max: i64) -> Result<i64, String> {
    let n = value
        .as_i64()
        .ok_or_else(|| "Expected a whole number.".to_string())?;
    if n < min || n > max {
        return Err(format!("Must be between {min} and {max}."));
    }
    Ok(n)
}

fn choice(value: &Value, options: &[ChoiceOption]) -> Result<String, String> {
    let Value::String(s) = value else {
        return Err("Expected one of the listed values.".into());
    };
    if options.iter().any(|o| &o.value == s) {
        Ok(s.clone())
    } else {
        let values: Vec<&str> = options.iter().map(|o| o.value.as_str()).collect();
        Err(format!("Must be one of: {}.", values.join(", ")))
    }
}

fn cell_from_json(kind: &ColumnKind, value: &Value) -> Result<String, String> {
    match kind {
        ColumnKind::Text if value.is_null() => Ok(String::new()),
        ColumnKind::Text => text(value, MAX_TEXT_CHARS, false),
        ColumnKind::Integer { min, max } => integer(value, *min, *max).map(|n| n.to_string()),
        ColumnKind::Flag => value
            .as_bool()
            .map(|b| b.to_string())
            .ok_or_else(|| "Expected true or false.".to_string()),
        ColumnKind::Choice { options } => choice(value, options),
    }
}

fn cell_to_json(kind: &ColumnKind, cell: &str) -> Value {
    match kind {
        ColumnKind::Integer { .. } => cell
            .parse::<i64>()
            .map_or_else(|_| json!(cell), |n| json!(n)),
        ColumnKind::Flag => json!(cell == "true"),
        ColumnKind::Text | ColumnKind::Choice { .. } => json!(cell),
    }
}

#[cfg(test)]
mod tests;
