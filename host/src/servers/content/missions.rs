//! Missions: the files of a server's missions directory, uploads (streamed to a hidden
//! temporary file beside the target, synced, then renamed over it, by
//! [`crate::files::stream`]), deletes, and the rotation (the setting the adapter names as the
//! missions selection).

use serde::Serialize;
use serde_json::Value;

use super::Content;
use super::selection::{self, Selected};
use super::{APPLIES, ContentError, files};
use crate::adapters::model::{Column, ContentKind, FieldError};
use crate::servers::Authority;
use crate::store::servers::Server;

/// One mission file.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MissionFile {
    /// The file name.
    pub file: String,
    /// The mission's name in the rotation (the file name without its extension).
    pub name: String,
    /// Size in bytes.
    pub size: u64,
    /// Last modified (RFC 3339).
    pub modified: String,
    /// Whether the rotation names it.
    pub in_rotation: bool,
}

/// The rotation: the setting holding it and its rows.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Rotation {
    /// The setting's key (see `/servers/{id}/config`).
    pub setting: String,
    /// For a table setting, the column naming the mission; none for a plain list.
    pub column: Option<String>,
    /// The table's columns (empty for a plain list).
    pub columns: Vec<Column>,
    /// The rows in play order: objects keyed by column for a table, mission names for a
    /// list.
    #[schema(value_type = Vec<RotationRow>)]
    pub rows: Vec<Value>,
}

/// The shape of one rotation row, for the document: the rows are the rotation setting's own
/// values, which the settings schema (a list of names or a table) has checked already.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(untagged)]
#[allow(dead_code)]
pub enum RotationRow {
    /// A mission's name (a list setting).
    #[schema(title = "RotationMission")]
    Mission(String),
    /// A table row: column key → value (a table setting).
    #[schema(title = "RotationTableRow")]
    Row(std::collections::BTreeMap<String, serde_json::Value>),
}

/// A server's missions.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Missions {
    /// File name suffixes accepted for upload (any case); empty accepts any.
    pub extensions: Vec<String>,
    /// The largest upload accepted, in bytes.
    pub max_upload_bytes: u64,
    /// The mission files, by file name.
    pub files: Vec<MissionFile>,
    /// The rotation; none when the game has no rotation setting.
    pub rotation: Option<Rotation>,
    /// When changes apply.
    pub note: String,
}

/// What an upload stored.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Uploaded {
    /// The file name.
    pub file: String,
    /// The mission's name in the rotation.
    pub name: String,
    /// Bytes stored.
    pub size: u64,
    /// Whether an existing file was replaced.
    pub replaced: bool,
}

impl Content {
    /// The mission files present, the accepted extensions, the upload limit and the
    /// rotation.
    pub async fn missions(&self, server: &Server) -> Result<Missions, ContentError> {
        let located = self.content_dir(server, ContentKind::Missions).await?;
        let rotation = located.selected(&server.settings)?;
        let (root, relative, dir) = (
            located.root.clone(),
            located.relative.clone(),
            located.dir.clone(),
        );
        let found =
            tokio::task::spawn_blocking(move || match files::open_dir(&root, &relative, false)? {
                Some(opened) => files::list_files(&opened, &dir),
                None => Ok(Vec::new()),
            })
            .await
            .map_err(|e| ContentError::Io(e.to_string()))??;
        let selected = rotation.as_ref().map(Selected::names).unwrap_or_default();
        Ok(Missions {
            extensions: located.dir.extensions.clone(),
            max_upload_bytes: self.upload_limit(),
            files: found
                .into_iter()
                .map(|f| MissionFile {
                    in_rotation: selected.contains(&f.name),
                    file: f.file,
                    name: f.name,
                    size: f.size,
                    modified: crate::time::rfc3339_secs(f.modified),
                })
                .collect(),
            rotation: rotation.map(|r| Rotation {
                setting: located
                    .dir
                    .selection
                    .as_ref()
                    .map(|s| s.setting.clone())
                    .unwrap_or_default(),
                column: r.column,
                columns: r.columns,
                rows: r.rows,
            }),
            note: APPLIES.into(),
        })
    }

    /// Stores the mission `file` from `body` (chunks), replacing a file of that name. The
    /// name must pass [`super::names::check_upload_name`]; more than `declared` or the
    /// upload limit is [`ContentError::TooLarge`] and leaves nothing behind. In a directory
    /// shared by every server of the game, see [`Content::guard_shared`].
    pub async fn upload_mission<S, B, E>(
        &self,
        server: &Server,
        file: &str,
        declared: Option<u64>,
        authority: Authority,
        body: S,
    ) -> Result<Uploaded, ContentError>
    where
        S: futures_util::Stream<Item = Result<B, E>> + Unpin,
        B: AsRef<[u8]>,
        E: std::fmt::Display,
    {
        use crate::files::stream::StreamError;

        // Both spellings of a name are one file (see `crate::names`).
        let file = &crate::names::nfc(file);
        let located = self.content_dir(server, ContentKind::Missions).await?;
        super::names::check_upload_name(file, &located.dir.extensions)
            .map_err(ContentError::InvalidName)?;
        self.guard_shared(server, &located, file, authority).await?;
        let limit = self.upload_limit();
        if declared.is_some_and(|n| n > limit) {
            return Err(ContentError::TooLarge(limit));
        }
        let (root, relative, dir, name) = (
            located.root.clone(),
            located.relative.clone(),
            located.dir.clone(),
            file.to_string(),
        );
        let (opened, target) = tokio::task::spawn_blocking(move || {
            let opened = files::open_dir(&root, &relative, true)?.ok_or_else(|| {
                ContentError::Io(format!(
                    "{} vanished",
                    root.join(relative.to_path()).display()
                ))
            })?;
            let target = files::target(&opened, &name, &dir)?;
            Ok::<_, ContentError>((opened, target))
        })
        .await
        .map_err(|e| ContentError::Io(e.to_string()))??;

        // Streamed to a hidden temporary file beside the target, renamed over it only when
        // the whole body arrived; anything else leaves the old file and no temporary one.
        let written = crate::files::stream::write_stream(
            opened.root,
            target,
            files::UPLOAD_MODE,
            limit,
            body,
        )
        .await
        .map_err(|e| match e {
            StreamError::Body(e) => ContentError::Body(e.to_string()),
            StreamError::TooLarge(limit) => ContentError::TooLarge(limit),
            StreamError::Files(e) => files::refusal(e),
            StreamError::Thread(why) => ContentError::Io(why),
        })?;
        let (size, replaced) = (written.size, written.replaced);
        let name = super::names::entry_name(file, &located.dir).unwrap_or_else(|| file.into());
        Ok(Uploaded {
            file: file.to_string(),
            name,
            size,
            replaced,
        })
    }

    /// Deletes the mission `file`; refused while the rotation names it (in a directory
    /// shared by every server of the game, see [`Content::guard_shared`]).
    pub async fn delete_mission(
        &self,
        server: &Server,
        file: &str,
        authority: Authority,
    ) -> Result<(), ContentError> {
        let file = &crate::names::nfc(file);
        let located = self.content_dir(server, ContentKind::Missions).await?;
        super::names::check_upload_name(file, &located.dir.extensions)
            .map_err(|_| ContentError::NotFound(format!("mission file {file}")))?;
        if let (Some(rotation), Some(name)) = (
            located.selected(&server.settings)?,
            super::names::entry_name(file, &located.dir),
        ) && rotation.names().contains(&name)
        {
            let setting = located
                .dir
                .selection
                .as_ref()
                .map(|s| s.setting.clone())
                .unwrap_or_default();
            return Err(ContentError::InUse(format!("The mission {name}"), setting));
        }
        self.guard_shared(server, &located, file, authority).await?;
        let (root, relative, dir, name) = (
            located.root.clone(),
            located.relative.clone(),
            located.dir.clone(),
            file.to_string(),
        );
        tokio::task::spawn_blocking(move || {
            let Some(opened) = files::open_dir(&root, &relative, false)? else {
                return Err(ContentError::NotFound(format!("mission file {name}")));
            };
            let target = files::target(&opened, &name, &dir)?;
            files::remove(&opened, &target, &format!("mission file {name}"))
        })
        .await
        .map_err(|e| ContentError::Io(e.to_string()))?
    }

    /// Replaces the rotation with `rows` (objects keyed by column for a table setting,
    /// names for a list); every row must name a mission file present. Saved through the
    /// normal settings update; applies at the next start.
    pub async fn set_rotation(
        &self,
        server: &Server,
        rows: Vec<Value>,
        authority: Authority,
    ) -> Result<Missions, ContentError> {
        let located = self.content_dir(server, ContentKind::Missions).await?;
        let Some(selection) = located.dir.selection.clone() else {
            return Err(ContentError::NoSelection("missions"));
        };
        // Checks the declaration against the schema before anything else.
        located.selected(&server.settings)?;
        let present = self.missions(server).await?.files;
        let mut errors = Vec::new();
        for (i, row) in rows.iter().enumerate() {
            let field = match &selection.column {
                Some(column) => format!("rows[{i}].{column}"),
                None => format!("rows[{i}]"),
            };
            match selection::name_of(row, selection.column.as_deref()) {
                None => errors.push(FieldError {
                    field,
                    message: match &selection.column {
                        Some(column) => {
                            format!("must be an object whose `{column}` names a mission")
                        }
                        None => "must be the name of a mission".into(),
                    },
                }),
                Some(name) if !present.iter().any(|f| f.name == name) => {
                    errors.push(FieldError {
                        field,
                        message: format!("no mission file named {name} is present"),
                    });
                }
                Some(_) => {}
            }
        }
        if !errors.is_empty() {
            return Err(ContentError::Invalid(errors));
        }
        let updated = self
            .set_setting(
                server,
                &located.adapter,
                &selection.setting,
                Value::Array(rows),
                authority,
            )
            .await?;
        self.missions(&updated).await
    }
}
