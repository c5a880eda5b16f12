//! What a server is set to: creating one (its settings checked by the schema and the
//! adapter, secrets sealed before they are stored, its directory made with its row), changing
//! its settings and its policies, and reading its settings back without secrets.
//!
//! [`Settings`] owns this; it is reached as [`Servers::settings`]. Content operations change
//! the settings that select missions and mods through it too, so every change of a setting is
//! judged the same way. A [`Authority::Restricted`] caller may not choose settings that run a
//! program outside the game's install (see [`super::trust`]).

use std::sync::Arc;

use serde_json::{Map, Value};

use super::paths::{self, ServerDirs};
use super::{Authority, Servers, UnknownAdapter, context, io_cause, trust};
use crate::adapters::model::{FieldError, FieldKind, Setting};
use crate::adapters::{AdapterError, LoadedAdapter, settings};
use crate::secrets::{self, SecretError};
use crate::store::StoreError;
use crate::store::servers::{self, NewServer, RestartPolicy, Server};

/// Why creating a server or changing its settings or policies failed.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The adapter failed or refused.
    #[error(transparent)]
    Adapter(#[from] AdapterError),
    /// No adapter with this id is installed.
    #[error(transparent)]
    UnknownAdapter(#[from] UnknownAdapter),
    /// The settings are invalid; every problem, by field.
    #[error("the settings are invalid ({} problem(s))", .0.len())]
    InvalidSettings(Vec<FieldError>),
    /// A stored secret could not be opened.
    #[error(transparent)]
    Secrets(#[from] SecretError),
    /// The settings make the server run a program outside its game's install (named), which
    /// only an administrator may choose.
    #[error("only an administrator may choose settings that run `{0}`")]
    NeedsAdministrator(String),
    /// The host's storage refused a write the operation needs (no space, read-only, not a
    /// directory); nothing of the operation was kept.
    #[error("storage: {0}")]
    Storage(String),
}

/// Changes to a server's name and policies; `None` leaves a value as it is.
#[derive(Debug, Clone, Default)]
pub struct ServerChanges {
    /// Display name.
    pub name: Option<String>,
    /// Crash restart policy.
    pub restart: Option<RestartPolicy>,
    /// Seconds between SIGTERM and SIGKILL when stopping.
    pub stop_grace_secs: Option<u32>,
}

/// What every server is set to (see the module's text). Cheap to clone.
#[derive(Clone)]
pub struct Settings {
    servers: Servers,
}

impl Settings {
    pub(super) fn new(servers: Servers) -> Self {
        Settings { servers }
    }

    /// Creates a server: the settings (a JSON object of field key → value) are checked by the
    /// adapter's schema and by the adapter, secrets are sealed, and the row is stored. The
    /// host's own callers (demo, command line) act as administrators.
    pub async fn create(
        &self,
        name: &str,
        adapter_id: &str,
        settings_json: Value,
    ) -> Result<Server, SettingsError> {
        self.create_for(
            None,
            name,
            adapter_id,
            settings_json,
            Authority::Administrator,
        )
        .await
    }

    /// [`Settings::create`] with an owner (the user who asked) and their authority: a
    /// [`Authority::Restricted`] caller may not choose settings that run a program outside
    /// the game's install (see [`trust`]).
    pub async fn create_for(
        &self,
        owner_id: Option<i64>,
        name: &str,
        adapter_id: &str,
        settings_json: Value,
        authority: Authority,
    ) -> Result<Server, SettingsError> {
        let inner = &self.servers.inner;
        let adapter = inner
            .adapters
            .get(adapter_id)
            .ok_or_else(|| UnknownAdapter(adapter_id.to_string()))?;
        let typed = settings::from_json(&adapter.schema, &settings_json)
            .map_err(SettingsError::InvalidSettings)?;
        // Not created yet: the plan is made for a server without an id of its own.
        let dirs = ServerDirs::new(&inner.data_dir, 0, adapter_id, None);
        self.check(&adapter, 0, typed, dirs, authority).await?;

        let mut object = settings_json.as_object().cloned().unwrap_or_default();
        inner.secrets.seal_settings(&adapter.schema, &mut object);
        let mut new = NewServer::new(name, adapter_id, Value::Object(object));
        new.owner_id = owner_id;
        // The row and the server's directory exist together or not at all: the directory
        // is made inside the transaction that inserts the row, which commits only after.
        let data_dir = inner.data_dir.clone();
        let created = inner
            .store
            .call(move |conn| {
                let tx = conn.transaction()?;
                let server = servers::insert(&tx, &new)?;
                let dirs = ServerDirs::new(
                    &data_dir,
                    server.id,
                    &server.adapter_id,
                    server.runtime_path.as_deref(),
                );
                if let Err(e) = paths::create_private_dir_all(&dirs.instance) {
                    return Ok(Err((dirs.instance, e)));
                }
                if let Err(e) = tx.commit() {
                    let _ = std::fs::remove_dir(&dirs.instance);
                    return Err(e.into());
                }
                Ok(Ok(server))
            })
            .await?;
        created.map_err(|(path, e)| {
            tracing::error!("cannot create server directory {}: {e}", path.display());
            SettingsError::Storage(format!(
                "the server's directory could not be made on the host ({})",
                io_cause(&e)
            ))
        })
    }

    /// Checks `typed` settings with the adapter's `validate`, and for a
    /// [`Authority::Restricted`] caller also that the program they would launch lies in the
    /// game's install (`dirs.runtime`).
    async fn check(
        &self,
        adapter: &Arc<LoadedAdapter>,
        id: i64,
        typed: Vec<Setting>,
        dirs: ServerDirs,
        authority: Authority,
    ) -> Result<(), SettingsError> {
        self.servers
            .inner
            .call(adapter, move |session| {
                if let Err(errors) = session.validate(&typed)? {
                    return Ok(Err(SettingsError::InvalidSettings(errors)));
                }
                if authority == Authority::Restricted {
                    let launch = session.launch(&context(id, &dirs), &typed)?;
                    if !trust::runs_from_install(&launch.program, &dirs.runtime) {
                        return Ok(Err(SettingsError::NeedsAdministrator(launch.program)));
                    }
                }
                Ok(Ok(()))
            })
            .await?
    }

    /// The server's settings as they may be shown: secrets replaced by `{"set": bool}`.
    pub fn masked(&self, server: &Server) -> Result<Map<String, Value>, SettingsError> {
        let adapter = self.servers.inner.adapter_of(server)?;
        let stored = server.settings.as_object().cloned().unwrap_or_default();
        Ok(secrets::masked_settings(&adapter.schema, &stored))
    }

    /// The keys of the settings that differ between two versions of a server, sorted. Secrets
    /// are compared opened, so one sealed again unchanged is no change. Names only: the
    /// opened values never leave this function.
    pub fn changed(&self, before: &Server, after: &Server) -> Vec<String> {
        let open = |server: &Server| {
            let mut object = server.settings.as_object().cloned().unwrap_or_default();
            if let Ok(adapter) = self.servers.inner.adapter_of(server) {
                // A secret that cannot be opened is compared as stored.
                let _ = self
                    .servers
                    .inner
                    .secrets
                    .open_settings(&adapter.schema, &mut object);
            }
            object
        };
        let (before, after) = (open(before), open(after));
        let mut keys: Vec<String> = before
            .keys()
            .chain(after.keys())
            .filter(|key| before.get(*key) != after.get(*key))
            .cloned()
            .collect();
        keys.sort_unstable();
        keys.dedup();
        keys
    }

    /// Replaces the server's settings with `new` (a JSON object of field key → value),
    /// checked by the schema and the adapter. A secret field that is left out, `null` or
    /// given as the masked `{"set": …}` keeps its stored value. Applies at the next start.
    ///
    /// A [`Authority::Restricted`] caller may not choose settings that run a program outside
    /// the game's install (see [`trust`]).
    pub async fn update(
        &self,
        server: &Server,
        new: Value,
        authority: Authority,
    ) -> Result<Server, SettingsError> {
        let adapter = self.servers.inner.adapter_of(server)?;
        let Value::Object(mut object) = new else {
            return Err(SettingsError::InvalidSettings(vec![FieldError {
                field: String::new(),
                message: "the settings must be a JSON object".into(),
            }]));
        };
        // Keep stored secrets the caller did not replace, opened for validation.
        let mut stored = server.settings.as_object().cloned().unwrap_or_default();
        self.servers
            .inner
            .secrets
            .open_settings(&adapter.schema, &mut stored)?;
        for field in &adapter.schema {
            if !matches!(field.kind, FieldKind::Secret) {
                continue;
            }
            let keep = match object.get(&field.key) {
                None | Some(Value::Null) => true,
                Some(Value::Object(o)) => o.contains_key("set"),
                _ => false,
            };
            if keep {
                match stored.get(&field.key) {
                    Some(value) => object.insert(field.key.clone(), value.clone()),
                    None => object.remove(&field.key),
                };
            }
        }
        let new = Value::Object(object);
        let typed =
            settings::from_json(&adapter.schema, &new).map_err(SettingsError::InvalidSettings)?;
        let dirs = self.servers.inner.dirs(server);
        self.check(&adapter, server.id, typed, dirs, authority)
            .await?;

        let mut object = new.as_object().cloned().unwrap_or_default();
        self.servers
            .inner
            .secrets
            .seal_settings(&adapter.schema, &mut object);
        let id = server.id;
        let sealed = Value::Object(object);
        Ok(self
            .servers
            .inner
            .store
            .call(move |conn| {
                servers::update_settings(conn, id, &sealed)?;
                servers::get(conn, id)
            })
            .await?)
    }

    /// Renames the server or changes its policies; a new restart policy applies at once.
    pub async fn update_meta(
        &self,
        server: &Server,
        changes: ServerChanges,
    ) -> Result<Server, SettingsError> {
        let id = server.id;
        let updated = self
            .servers
            .inner
            .store
            .call(move |conn| {
                servers::update_meta(
                    conn,
                    id,
                    changes.name.as_deref(),
                    changes.restart,
                    changes.stop_grace_secs,
                )?;
                servers::get(conn, id)
            })
            .await?;
        let policy = super::restart_policy(&updated);
        // A supervisor that has ended has nothing to apply it to; the next one reads the row.
        let _ = self.servers.supervisor(&updated).set_policy(policy).await;
        Ok(updated)
    }
}
