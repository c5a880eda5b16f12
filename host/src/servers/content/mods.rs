//! Mods: the folders of a server's mods directory, which of them are enabled and in what load
//! order (the setting the adapter names as the mods selection), and the Workshop items the
//! game downloads (the list setting the adapter names; an `update` job downloads them and
//! links each into the mods directory).

use serde::Serialize;
use serde_json::Value;

use super::Content;
use super::selection;
use super::{APPLIES, ContentError, Located, files};
use crate::adapters::model::{ContentKind, FieldError};
use crate::servers::Authority;
use crate::store::servers::Server;

/// One mod: a folder present, or a name enabled whose folder is missing.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ModEntry {
    /// The folder name.
    pub name: String,
    /// Whether the load order names it.
    pub enabled: bool,
    /// Its place in the load order (0 first), when enabled.
    pub position: Option<u32>,
    /// Whether the folder exists.
    pub present: bool,
    /// The Workshop item the folder links to, when the host linked it from a download.
    pub workshop_item: Option<String>,
}

/// The Workshop items the game downloads.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Workshop {
    /// The setting holding them (see `/servers/{id}/config`).
    pub setting: String,
    /// The item numbers.
    pub items: Vec<String>,
}

/// A server's mods.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Mods {
    /// Folders present (by name), then enabled names whose folder is missing.
    pub entries: Vec<ModEntry>,
    /// The setting holding the load order; none when the game has none.
    pub setting: Option<String>,
    /// The enabled mods in load order.
    pub enabled: Vec<String>,
    /// The Workshop items; none when the game takes none.
    pub workshop: Option<Workshop>,
    /// When changes apply (and that Workshop items need an `update` action).
    pub note: String,
}

impl Content {
    /// The mod folders, the load order and the Workshop items.
    pub async fn mods(&self, server: &Server) -> Result<Mods, ContentError> {
        let located = self.content_dir(server, ContentKind::Mods).await?;
        self.mods_of(&located, server).await
    }

    async fn mods_of(&self, located: &Located, server: &Server) -> Result<Mods, ContentError> {
        let enabled = located
            .selected(&server.settings)?
            .map(|s| s.names())
            .unwrap_or_default();
        let workshop = located
            .dir
            .workshop
            .as_ref()
            .map(|key| {
                Ok::<_, ContentError>(Workshop {
                    setting: key.clone(),
                    items: selection::read_list(&located.adapter.schema, &server.settings, key)?,
                })
            })
            .transpose()?;
        let (root, relative, dir) = (
            located.root.clone(),
            located.relative.clone(),
            located.dir.clone(),
        );
        let runtime = self.servers.inner.dirs(server).runtime;
        let folders =
            tokio::task::spawn_blocking(move || match files::open_dir(&root, &relative, false)? {
                Some(opened) => files::list_folders(&opened, &dir),
                None => Ok(Vec::new()),
            })
            .await
            .map_err(|e| ContentError::Io(e.to_string()))??;
        let position = |name: &str| {
            enabled
                .iter()
                .position(|e| e == name)
                .and_then(|p| u32::try_from(p).ok())
        };
        let mut entries: Vec<ModEntry> = folders
            .iter()
            .map(|f| ModEntry {
                name: f.name.clone(),
                enabled: position(&f.name).is_some(),
                position: position(&f.name),
                present: true,
                workshop_item: f.link.as_ref().and_then(|target| {
                    crate::jobs::steamcmd::workshop_item_of(&runtime, target)
                        .map(|id| id.to_string())
                }),
            })
            .collect();
        for name in &enabled {
            if !folders.iter().any(|f| &f.name == name) {
                entries.push(ModEntry {
                    name: name.clone(),
                    enabled: true,
                    position: position(name),
                    present: false,
                    workshop_item: None,
                });
            }
        }
        Ok(Mods {
            entries,
            setting: located.dir.selection.as_ref().map(|s| s.setting.clone()),
            enabled,
            workshop,
            note: format!(
                "{APPLIES} Workshop items are downloaded by the server's `update` action."
            ),
        })
    }

    /// Makes `names` the enabled mods, in this load order; every name must be a folder
    /// present. Applies at the next start.
    pub async fn set_enabled_mods(
        &self,
        server: &Server,
        names: Vec<String>,
        authority: Authority,
    ) -> Result<Mods, ContentError> {
        let located = self.content_dir(server, ContentKind::Mods).await?;
        let Some(selection) = located.dir.selection.clone() else {
            return Err(ContentError::NoSelection("mods"));
        };
        let current = located
            .selected(&server.settings)?
            .ok_or(ContentError::NoSelection("mods"))?;
        let present = self.mods_of(&located, server).await?.entries;
        let mut errors = Vec::new();
        for (i, name) in names.iter().enumerate() {
            if names[..i].contains(name) {
                errors.push(FieldError {
                    field: format!("mods[{i}]"),
                    message: format!("{name} is listed twice"),
                });
            } else if !present.iter().any(|e| e.present && &e.name == name) {
                errors.push(FieldError {
                    field: format!("mods[{i}]"),
                    message: format!("no mod folder named {name} is present"),
                });
            }
        }
        if !errors.is_empty() {
            return Err(ContentError::Invalid(errors));
        }
        let rows = current.with_names(&names);
        let updated = self
            .set_setting(
                server,
                &located.adapter,
                &selection.setting,
                Value::Array(rows),
                authority,
            )
            .await?;
        self.mods_of(&located, &updated).await
    }

    /// Appends `name` to the load order (nothing changes when it is already enabled).
    pub async fn enable_mod(
        &self,
        server: &Server,
        name: &str,
        authority: Authority,
    ) -> Result<Mods, ContentError> {
        let mods = self.mods(server).await?;
        if mods.setting.is_none() {
            return Err(ContentError::NoSelection("mods"));
        }
        if !mods.entries.iter().any(|e| e.present && e.name == name) {
            return Err(ContentError::NotFound(format!("mod folder {name}")));
        }
        if mods.enabled.iter().any(|e| e == name) {
            return Ok(mods);
        }
        let mut names = mods.enabled;
        names.push(name.to_string());
        self.set_enabled_without_check(server, names, authority)
            .await
    }

    /// Takes `name` out of the load order (nothing changes when it is not enabled); the
    /// folder may be missing.
    pub async fn disable_mod(
        &self,
        server: &Server,
        name: &str,
        authority: Authority,
    ) -> Result<Mods, ContentError> {
        let mods = self.mods(server).await?;
        if mods.setting.is_none() {
            return Err(ContentError::NoSelection("mods"));
        }
        if !mods.enabled.iter().any(|e| e == name) {
            if mods.entries.iter().any(|e| e.name == name) {
                return Ok(mods);
            }
            return Err(ContentError::NotFound(format!("mod {name}")));
        }
        let names = mods.enabled.into_iter().filter(|e| e != name).collect();
        self.set_enabled_without_check(server, names, authority)
            .await
    }

    /// Stores `names` as the load order as they are (enabled names whose folder is missing
    /// may stay, so disabling one never requires fixing the others first).
    async fn set_enabled_without_check(
        &self,
        server: &Server,
        names: Vec<String>,
        authority: Authority,
    ) -> Result<Mods, ContentError> {
        let located = self.content_dir(server, ContentKind::Mods).await?;
        let (Some(selection), Some(current)) = (
            located.dir.selection.clone(),
            located.selected(&server.settings)?,
        ) else {
            return Err(ContentError::NoSelection("mods"));
        };
        let updated = self
            .set_setting(
                server,
                &located.adapter,
                &selection.setting,
                Value::Array(current.with_names(&names)),
                authority,
            )
            .await?;
        self.mods_of(&located, &updated).await
    }

    /// Replaces the Workshop items the game downloads. The next `update` action downloads
    /// them; the load order is not changed.
    pub async fn set_workshop_items(
        &self,
        server: &Server,
        items: Vec<u64>,
        authority: Authority,
    ) -> Result<Mods, ContentError> {
        let located = self.content_dir(server, ContentKind::Mods).await?;
        let Some(key) = located.dir.workshop.clone() else {
            return Err(ContentError::NoWorkshop);
        };
        // Checks the declaration against the schema first.
        selection::read_list(&located.adapter.schema, &server.settings, &key)?;
        let mut errors = Vec::new();
        for (i, item) in items.iter().enumerate() {
            if *item == 0 || items[..i].contains(item) {
                errors.push(FieldError {
                    field: format!("items[{i}]"),
                    message: "must be a Workshop item number, listed once".into(),
                });
            }
        }
        if !errors.is_empty() {
            return Err(ContentError::Invalid(errors));
        }
        let value = Value::Array(items.iter().map(|i| Value::String(i.to_string())).collect());
        let updated = self
            .set_setting(server, &located.adapter, &key, value, authority)
            .await?;
        self.mods_of(&located, &updated).await
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::jobs::steamcmd::{workshop_content_dir, workshop_item_of};

    #[test]
    fn workshop_links_are_recognised_by_their_target() {
        let runtime = Path::new("/data/runtimes/game");
        let item = workshop_content_dir(runtime, 4_000, 123_456_789);
        assert_eq!(workshop_item_of(runtime, &item), Some(123_456_789));
        assert_eq!(workshop_item_of(runtime, &item.join("addons")), None);
        assert_eq!(workshop_item_of(Path::new("/elsewhere"), &item), None);
        assert_eq!(
            workshop_item_of(runtime, &runtime.join("steamapps/workshop/content/x/1")),
            None
        );
    }
}
