//! Content directories an adapter declares (`lifecycle.content-dirs`): where missions and mods
//! live, what counts as an entry, and which settings select entries and list Workshop items.

use serde::Serialize;

use super::PathRef;

/// What a content directory holds.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ContentKind {
    /// Missions, maps or scenarios that administrators upload.
    Missions,
    /// Mod folders the game loads.
    Mods,
}

impl ContentKind {
    /// The capability flag of `describe()` this kind needs.
    pub fn capability(self) -> &'static str {
        match self {
            ContentKind::Missions => "missions",
            ContentKind::Mods => "mods",
        }
    }
}

/// Whether a directory's entries are files or folders.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    /// Regular files (uploadable).
    File,
    /// Folders.
    Folder,
}

/// The setting that selects entries (a rotation, a load order).
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct ContentSelection {
    /// Key of a list or table field.
    pub setting: String,
    /// For a table: the column naming the entry.
    pub column: Option<String>,
}

/// A directory of user-managed content, as the adapter declared it (its path not yet
/// resolved).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentDir {
    /// Missions or mods.
    pub kind: ContentKind,
    /// Where it is.
    pub dir: PathRef,
    /// Files or folders.
    pub entries: EntryKind,
    /// Accepted suffixes (compared without regard to case); empty accepts any.
    pub extensions: Vec<String>,
    /// Accepted name prefixes; empty accepts any.
    pub prefixes: Vec<String>,
    /// The selecting setting, if the game has one.
    pub selection: Option<ContentSelection>,
    /// Key of the list setting with Workshop item numbers, if any.
    pub workshop: Option<String>,
}

impl ContentDir {
    /// Checks that the settings this directory names exist in `schema` with the right kind:
    /// the selection a list (no column) or a table with that column, the Workshop setting a
    /// list. A mismatch is the adapter's bug, reported as a contract breach.
    pub fn check_against(&self, schema: &[super::Field]) -> Result<(), String> {
        use super::FieldKind;
        let kind_of = |key: &str| schema.iter().find(|f| f.key == key).map(|f| &f.kind);
        if let Some(selection) = &self.selection {
            let fits = match (kind_of(&selection.setting), &selection.column) {
                (Some(FieldKind::List { .. }), None) => true,
                (Some(FieldKind::Table { columns }), Some(column)) => {
                    columns.iter().any(|c| &c.key == column)
                }
                _ => false,
            };
            if !fits {
                return Err(format!(
                    "the {} selection names `{}`{}, which is not a list setting or a table \
                     setting with that column in the schema",
                    self.kind.capability(),
                    selection.setting,
                    selection
                        .column
                        .as_ref()
                        .map(|c| format!(" (column `{c}`)"))
                        .unwrap_or_default()
                ));
            }
        }
        if let Some(key) = &self.workshop
            && !matches!(kind_of(key), Some(FieldKind::List { .. }))
        {
            return Err(format!(
                "the Workshop setting `{key}` is not a list setting in the schema"
            ));
        }
        Ok(())
    }
}

/// The conversions from one contract version's generated types (the same shapes in every
/// version that has them).
macro_rules! from_wit {
    ($v:ident) => {
        mod $v {
            #[allow(unused_imports)]
            use super::*;
            use crate::adapters::bindings::$v::exports::garrison::adapter::lifecycle;

            impl From<lifecycle::ContentDir> for ContentDir {
                fn from(d: lifecycle::ContentDir) -> Self {
                    ContentDir {
                        kind: match d.kind {
                            lifecycle::ContentKind::Missions => ContentKind::Missions,
                            lifecycle::ContentKind::Mods => ContentKind::Mods,
                        },
                        dir: d.dir.into(),
                        entries: match d.entries {
                            lifecycle::EntryKind::File => EntryKind::File,
                            lifecycle::EntryKind::Folder => EntryKind::Folder,
                        },
                        extensions: d.extensions,
                        prefixes: d.prefixes,
                        selection: d.selection.map(|s| ContentSelection {
                            setting: s.setting,
                            column: s.column,
                        }),
                        workshop: d.workshop,
                    }
                }
            }
        }
    };
}

from_wit!(v0_1);
from_wit!(v0_2);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::model::{Column, ColumnKind, Field, FieldKind, Root};

    fn field(key: &str, kind: FieldKind) -> Field {
        Field {
            key: key.into(),
            label: key.into(),
            help: String::new(),
            section: String::new(),
            kind,
            default: None,
            required: false,
            advanced: false,
        }
    }

    fn dir(selection: Option<(&str, Option<&str>)>, workshop: Option<&str>) -> ContentDir {
        ContentDir {
            kind: ContentKind::Mods,
            dir: PathRef {
                root: Root::Runtime,
                path: String::new(),
            },
            entries: EntryKind::Folder,
            extensions: Vec::new(),
            prefixes: Vec::new(),
            selection: selection.map(|(setting, column)| ContentSelection {
                setting: setting.into(),
                column: column.map(str::to_string),
            }),
            workshop: workshop.map(str::to_string),
        }
    }

    #[test]
    fn selections_and_workshop_settings_must_exist_with_the_right_kind() {
        let schema = vec![
            field(
                "order",
                FieldKind::List {
                    max_items: None,
                    item_hint: String::new(),
                },
            ),
            field(
                "rotation",
                FieldKind::Table {
                    columns: vec![Column {
                        key: "name".into(),
                        label: "Name".into(),
                        kind: ColumnKind::Text,
                    }],
                },
            ),
            field("title", FieldKind::Port),
        ];
        assert!(dir(None, None).check_against(&schema).is_ok());
        assert!(
            dir(Some(("order", None)), Some("order"))
                .check_against(&schema)
                .is_ok()
        );
        assert!(
            dir(Some(("rotation", Some("name"))), None)
                .check_against(&schema)
                .is_ok()
        );
        for (selection, workshop) in [
            (Some(("missing", None)), None),
            (Some(("order", Some("name"))), None),
            (Some(("rotation", None)), None),
            (Some(("rotation", Some("other"))), None),
            (Some(("title", None)), None),
            (None, Some("title")),
            (None, Some("missing")),
        ] {
            assert!(
                dir(selection, workshop).check_against(&schema).is_err(),
                "{selection:?} {workshop:?}"
            );
        }
    }
}
