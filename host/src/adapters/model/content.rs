//! Content directories an adapter declares (`lifecycle.content-dirs`): where missions and mods
//! live, what counts as an entry, and which settings select entries and list Workshop items.

use serde::Serialize;

use crate::adapters::bindings::exports::garrison::adapter::lifecycle;

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
