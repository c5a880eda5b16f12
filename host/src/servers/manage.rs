//! What users do to a server besides running jobs on it: change its settings and policies,
//! and read its settings back without secrets (kicking players is [`super::live`]; bans,
//! which the host keeps, are [`super::bans`]).

use serde_json::{Map, Value};

use super::{Authority, Servers, ServersError};
use crate::adapters::settings;
use crate::secrets;
use crate::store::servers::{self, RestartPolicy, Server};

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

impl Servers {
    /// The server's settings as they may be shown: secrets replaced by `{"set": bool}`.
    pub fn masked_settings(&self, server: &Server) -> Result<Map<String, Value>, ServersError> {
        let adapter = self.inner.adapter_of(server)?;
        let stored = server.settings.as_object().cloned().unwrap_or_default();
        Ok(secrets::masked_settings(&adapter.schema, &stored))
    }

    /// The keys of the settings that differ between two versions of a server, sorted. Secrets
    /// are compared opened, so one sealed again unchanged is no change. Names only: the
    /// opened values never leave this function.
    pub fn changed_settings(&self, before: &Server, after: &Server) -> Vec<String> {
        let open = |server: &Server| {
            let mut object = server.settings.as_object().cloned().unwrap_or_default();
            if let Ok(adapter) = self.inner.adapter_of(server) {
                // A secret that cannot be opened is compared as stored.
                let _ = self
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
    /// the game's install (see [`super::trust`]).
    pub async fn update_settings(
        &self,
        server: &Server,
        new: Value,
        authority: Authority,
    ) -> Result<Server, ServersError> {
        let adapter = self.inner.adapter_of(server)?;
        let Value::Object(mut object) = new else {
            return Err(ServersError::InvalidSettings(vec![
                crate::adapters::model::FieldError {
                    field: String::new(),
                    message: "the settings must be a JSON object".into(),
                },
            ]));
        };
        // Keep stored secrets the caller did not replace, opened for validation.
        let mut stored = server.settings.as_object().cloned().unwrap_or_default();
        self.inner
            .secrets
            .open_settings(&adapter.schema, &mut stored)?;
        for field in &adapter.schema {
            if !matches!(field.kind, crate::adapters::model::FieldKind::Secret) {
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
            settings::from_json(&adapter.schema, &new).map_err(ServersError::InvalidSettings)?;
        self.check_settings(
            &adapter,
            server.id,
            typed,
            self.inner.dirs(server),
            authority,
        )
        .await?;

        let mut object = new.as_object().cloned().unwrap_or_default();
        self.inner
            .secrets
            .seal_settings(&adapter.schema, &mut object);
        let id = server.id;
        let sealed = Value::Object(object);
        Ok(self
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
    ) -> Result<Server, ServersError> {
        let id = server.id;
        let updated = self
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
        let _ = self.supervisor(&updated).set_policy(policy).await;
        Ok(updated)
    }
}
