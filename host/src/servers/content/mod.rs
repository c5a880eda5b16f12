//! User-managed content of a server: missions (uploaded files, a rotation) and mods (folders,
//! a load order, Workshop items), wherever the server's adapter says they live
//! (`lifecycle.content-dirs`).
//!
//! The adapter names the directories and the settings that select entries; the host lists,
//! stores and deletes files there (beneath the game's root through [`crate::files`], see
//! [`files`]) and changes the selecting settings only through
//! [`Settings::update`](super::settings::Settings::update), so the schema and the adapter's
//! `validate` judge every change. Changed settings apply at the next start. This module knows
//! no game.
//!
//! [`Content`] owns the operations; it is reached as [`Servers::content`]. Layout: `names`
//! (name rules), `files` (blocking file work), `selection` (the selecting settings as JSON),
//! `missions` and `mods` (the operations).

pub mod files;
pub mod missions;
pub mod mods;
pub mod names;
pub mod selection;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use serde_json::Value;

use super::settings::SettingsError;
use super::{Authority, Servers, UnknownAdapter, Unreadable};
use crate::adapters::model::{ContentDir, ContentKind, EntryKind, FieldError, FieldKind};
use crate::adapters::{AdapterError, LoadedAdapter};
use crate::secrets::SecretError;
use crate::store::StoreError;
use crate::store::servers::Server;

/// Default largest mission upload: 512 MiB.
pub const DEFAULT_UPLOAD_LIMIT: u64 = 512 << 20;

/// What the content operations tell their callers about when changes apply.
pub const APPLIES: &str = "Changed settings take effect at the next start of the server.";

/// Why a content operation failed.
#[derive(Debug, thiserror::Error)]
pub enum ContentError {
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The adapter failed or refused.
    #[error(transparent)]
    Adapter(#[from] AdapterError),
    /// The server's adapter is no longer installed.
    #[error(transparent)]
    UnknownAdapter(#[from] UnknownAdapter),
    /// A stored secret could not be opened.
    #[error(transparent)]
    Secrets(#[from] SecretError),
    /// The stored settings no longer fit the adapter's schema; every problem, by field.
    #[error("the settings are invalid ({} problem(s))", .0.len())]
    InvalidSettings(Vec<FieldError>),
    /// The change of a selecting setting was refused (by the schema, the adapter or the
    /// caller's authority) or failed.
    #[error(transparent)]
    Settings(#[from] SettingsError),
    /// The adapter lacks the capability (or declares no directory of that kind).
    #[error("the adapter does not support `{0}`")]
    Unsupported(&'static str),
    /// The game has no setting selecting this kind of content.
    #[error("the game has no setting that selects its {0}")]
    NoSelection(&'static str),
    /// The game takes no Workshop items.
    #[error("the game takes no Workshop items")]
    NoWorkshop,
    /// The adapter's declaration does not fit its own schema.
    #[error("the adapter's content directories do not fit its schema: {0}")]
    Contract(String),
    /// An entry name breaks the rules.
    #[error("{0}")]
    InvalidName(String),
    /// Values of the request break rules, by field.
    #[error("invalid values ({} problem(s))", .0.len())]
    Invalid(Vec<FieldError>),
    /// No such entry.
    #[error("no {0}")]
    NotFound(String),
    /// The entry is in use by a selection.
    #[error("{0} is selected in the setting `{1}`; take it out first")]
    InUse(String, String),
    /// Another server's selection names the entry of a shared directory.
    #[error("{0} is used by the server {1}; it cannot be replaced or deleted while it is")]
    UsedElsewhere(String, String),
    /// The directory is shared by every server of the game and the caller may not change it.
    #[error(
        "the {0} directory is shared by every server of this game; only administrators change it"
    )]
    Shared(&'static str),
    /// The upload is larger than the limit (bytes).
    #[error("the upload is larger than {0} bytes")]
    TooLarge(u64),
    /// A directory or entry leads outside the game's root (a symbolic link).
    #[error("{0} leads outside the game's directory")]
    Outside(String),
    /// The upload's body broke off.
    #[error("the upload broke off: {0}")]
    Body(String),
    /// File work failed.
    #[error("{0}")]
    Io(String),
}

impl ContentError {
    fn io(path: &Path, e: &std::io::Error) -> Self {
        ContentError::Io(format!("{}: {e}", path.display()))
    }
}

impl From<Unreadable> for ContentError {
    fn from(e: Unreadable) -> Self {
        match e {
            Unreadable::Secrets(e) => ContentError::Secrets(e),
            Unreadable::Invalid(errors) => ContentError::InvalidSettings(errors),
        }
    }
}

/// A server's content directory of one kind, located.
pub struct Located {
    /// The server's adapter.
    pub adapter: Arc<LoadedAdapter>,
    /// What the adapter declared.
    pub dir: ContentDir,
    /// The root the directory hangs from.
    pub root: PathBuf,
    /// The directory, resolved (it may not exist yet).
    pub path: PathBuf,
    /// The directory below `root` (what file work resolves beneath the root).
    pub relative: crate::files::RelPath,
}

impl Located {
    /// The selecting setting's value in `settings` (a rotation, a load order); none when
    /// the game has no such setting.
    pub fn selected(&self, settings: &Value) -> Result<Option<selection::Selected>, ContentError> {
        self.dir
            .selection
            .as_ref()
            .map(|s| selection::read(&self.adapter.schema, settings, s))
            .transpose()
    }
}

/// The user-managed content of every server (see the module's text). Cheap to clone.
#[derive(Clone)]
pub struct Content {
    servers: Servers,
}

impl Content {
    pub(super) fn new(servers: Servers) -> Self {
        Content { servers }
    }

    /// The largest mission upload accepted, in bytes.
    pub fn upload_limit(&self) -> u64 {
        self.servers.inner.upload_limit.load(Ordering::Relaxed)
    }

    /// Sets the largest mission upload accepted (default [`DEFAULT_UPLOAD_LIMIT`]).
    pub fn set_upload_limit(&self, bytes: u64) {
        self.servers
            .inner
            .upload_limit
            .store(bytes, Ordering::Relaxed);
    }

    /// The server's content directory of `kind`: 409-style [`ContentError::Unsupported`]
    /// when the adapter lacks the capability or declares no such directory.
    pub async fn content_dir(
        &self,
        server: &Server,
        kind: ContentKind,
    ) -> Result<Located, ContentError> {
        let inner = &self.servers.inner;
        let adapter = inner.adapter_of(server)?;
        let capability = kind.capability();
        if !adapter.description.has(capability) {
            return Err(ContentError::Unsupported(capability));
        }
        let typed = inner.typed_settings(&adapter, server)?;
        let dirs = inner
            .call(&adapter, move |session| session.content_dirs(&typed))
            .await?;
        let dir = dirs
            .into_iter()
            .find(|d| d.kind == kind)
            .ok_or(ContentError::Unsupported(capability))?;
        // Missions are uploaded files; mods are folders installed by SteamCMD or by hand.
        let expected = match kind {
            ContentKind::Missions => EntryKind::File,
            ContentKind::Mods => EntryKind::Folder,
        };
        if dir.entries != expected {
            return Err(ContentError::Contract(format!(
                "the {capability} directory must hold {}",
                match expected {
                    EntryKind::File => "files",
                    EntryKind::Folder => "folders",
                }
            )));
        }
        let server_dirs = inner.dirs(server);
        let path = server_dirs
            .resolve(&dir.dir)
            .map_err(|e| ContentError::Outside(e.to_string()))?;
        let relative = crate::files::RelPath::new(&dir.dir.path)
            .map_err(|e| ContentError::Outside(e.to_string()))?;
        let root = server_dirs.root(dir.dir.root).to_path_buf();
        Ok(Located {
            adapter,
            dir,
            root,
            path,
            relative,
        })
    }

    /// Guards a change of the entry `file` in a directory the adapter keeps in the game's
    /// shared runtime (a directory in the server's own instance directory needs no guard):
    /// only administrators (by `authority`) change it, and every other
    /// server of the game whose selection names the entry is consulted — a file in use is
    /// neither replaced nor deleted (an upload of a new file replaces nothing).
    pub async fn guard_shared(
        &self,
        server: &Server,
        located: &Located,
        file: &str,
        authority: Authority,
    ) -> Result<(), ContentError> {
        if located.dir.dir.root != crate::adapters::model::Root::Runtime {
            return Ok(());
        }
        let kind = located.dir.kind;
        if authority != Authority::Administrator {
            return Err(ContentError::Shared(kind.capability()));
        }
        let (root, relative, entry) = (
            located.root.clone(),
            located.relative.clone(),
            file.to_string(),
        );
        let exists =
            tokio::task::spawn_blocking(move || files::entry_exists(&root, &relative, &entry))
                .await
                .map_err(|e| ContentError::Io(e.to_string()))?;
        if !exists {
            return Ok(()); // a new file: nothing uses it yet
        }
        let Some(name) = names::entry_name(file, &located.dir) else {
            return Ok(());
        };
        let others = self
            .servers
            .inner
            .store
            .call(|conn| crate::store::servers::list(conn))
            .await?;
        for other in others {
            if other.id == server.id || other.adapter_id != server.adapter_id {
                continue;
            }
            let Ok(theirs) = self.content_dir(&other, kind).await else {
                continue;
            };
            if theirs.path != located.path {
                continue;
            }
            if theirs
                .selected(&other.settings)?
                .is_some_and(|s| s.names().contains(&name))
            {
                return Err(ContentError::UsedElsewhere(name, other.name));
            }
        }
        Ok(())
    }

    /// Sets the one setting `key` to `value`, keeping every other setting (secrets
    /// included), through [`Settings::update`](super::settings::Settings::update): checked
    /// by the schema and the
    /// adapter, applied at the next start, with `authority`'s limits.
    pub async fn set_setting(
        &self,
        server: &Server,
        adapter: &LoadedAdapter,
        key: &str,
        value: Value,
        authority: Authority,
    ) -> Result<Server, ContentError> {
        let mut object = server.settings.as_object().cloned().unwrap_or_default();
        // Left out, a secret keeps its stored value; sent back sealed it would not.
        for field in &adapter.schema {
            if matches!(field.kind, FieldKind::Secret) {
                object.remove(&field.key);
            }
        }
        object.insert(key.to_string(), value);
        Ok(self
            .servers
            .settings()
            .update(server, Value::Object(object), authority)
            .await?)
    }
}
