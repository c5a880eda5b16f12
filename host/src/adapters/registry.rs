//! Loaded adapters by id and version, and the checks a component passes before it is one.
//!
//! Several files may offer the same id (a built-in and a drop-in, or two versions): new
//! sessions get the highest version, and at equal versions a drop-in wins over a built-in.
//! Sessions already running keep the `Arc<LoadedAdapter>` they started with, so replacing a
//! file never disturbs them.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;

use super::bindings::{ContractVersion, Pre};
use super::model::{Description, Field, FieldKind};

/// Where an adapter came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Origin {
    /// Compiled into the host binary.
    Builtin,
    /// A file in the drop-in directory.
    DropIn {
        /// The file.
        #[schema(value_type = String)]
        path: PathBuf,
    },
}

/// A component that passed every check, ready to instantiate.
pub struct LoadedAdapter {
    /// What `describe()` said.
    pub description: Description,
    /// What `schema()` said.
    pub schema: Vec<Field>,
    /// Where it came from.
    pub origin: Origin,
    /// SHA-256 of the component file.
    pub sha256: String,
    id: Arc<str>,
    pre: Pre,
}

impl std::fmt::Debug for LoadedAdapter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedAdapter")
            .field("id", &self.description.id)
            .field("version", &self.description.version)
            .field("origin", &self.origin)
            .finish()
    }
}

impl LoadedAdapter {
    pub(super) fn new(
        description: Description,
        schema: Vec<Field>,
        origin: Origin,
        sha256: String,
        pre: Pre,
    ) -> Self {
        LoadedAdapter {
            id: Arc::from(description.id.as_str()),
            description,
            schema,
            origin,
            sha256,
            pre,
        }
    }

    pub(super) fn pre(&self) -> &Pre {
        &self.pre
    }

    /// The contract version the component was built against.
    pub fn contract(&self) -> ContractVersion {
        self.pre.version()
    }

    pub(super) fn id_arc(&self) -> Arc<str> {
        Arc::clone(&self.id)
    }
}

/// Every loaded adapter.
#[derive(Default)]
pub struct Registry {
    adapters: Vec<Arc<LoadedAdapter>>,
    /// Drop-in files that failed their checks, with the reason.
    rejected: BTreeMap<PathBuf, String>,
}

impl Registry {
    /// Adds an adapter, replacing whatever the same drop-in file provided before.
    pub fn insert(&mut self, adapter: Arc<LoadedAdapter>) {
        if let Origin::DropIn { path } = &adapter.origin {
            let path = path.clone();
            self.remove_path(&path);
        } else {
            self.adapters.retain(|a| {
                !(a.origin == Origin::Builtin && a.description.id == adapter.description.id)
            });
        }
        self.adapters.push(adapter);
    }

    /// Forgets what the drop-in file at `path` provided (adapter or rejection).
    pub fn remove_path(&mut self, path: &Path) {
        self.adapters
            .retain(|a| !matches!(&a.origin, Origin::DropIn { path: p } if p == path));
        self.rejected.remove(path);
    }

    /// Records that the drop-in file at `path` was refused.
    pub fn reject(&mut self, path: &Path, reason: String) {
        self.remove_path(path);
        self.rejected.insert(path.to_path_buf(), reason);
    }

    /// The adapter new sessions of `id` get.
    pub fn get(&self, id: &str) -> Option<Arc<LoadedAdapter>> {
        self.adapters
            .iter()
            .filter(|a| a.description.id == id)
            .max_by(|a, b| precedence(a, b))
            .cloned()
    }

    /// Every loaded adapter (all versions), sorted by id then version.
    pub fn all(&self) -> Vec<Arc<LoadedAdapter>> {
        let mut all = self.adapters.clone();
        all.sort_by(|a, b| {
            a.description
                .id
                .cmp(&b.description.id)
                .then_with(|| precedence(a, b))
        });
        all
    }

    /// Drop-in files that were refused, with reasons.
    pub fn rejected(&self) -> Vec<(PathBuf, String)> {
        self.rejected
            .iter()
            .map(|(p, r)| (p.clone(), r.clone()))
            .collect()
    }
}

fn precedence(a: &LoadedAdapter, b: &LoadedAdapter) -> Ordering {
    let rank = |x: &LoadedAdapter| matches!(x.origin, Origin::DropIn { .. });
    parse_version(&a.description.version)
        .cmp(&parse_version(&b.description.version))
        .then_with(|| rank(a).cmp(&rank(b)))
}

/// `MAJOR.MINOR.PATCH` (with an optional `-pre` or `+build` suffix ignored), or `None`.
pub fn parse_version(v: &str) -> Option<(u64, u64, u64)> {
    let core = v.split(['-', '+']).next()?;
    let mut parts = core.split('.').map(|p| p.parse::<u64>().ok());
    let version = (parts.next()??, parts.next()??, parts.next()??);
    parts.next().is_none().then_some(version)
}

/// Checks what `describe()` returned.
pub fn check_description(d: &Description) -> Result<(), String> {
    let id_ok = !d.id.is_empty()
        && d.id.len() <= 32
        && d.id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !d.id.starts_with('-');
    if !id_ok {
        return Err(format!(
            "describe() returned the id {:?}; ids are 1-32 characters of a-z, 0-9 and -",
            d.id
        ));
    }
    if d.name.trim().is_empty() || d.name.len() > 128 {
        return Err("describe() returned an empty or overlong name".into());
    }
    if parse_version(&d.version).is_none() {
        return Err(format!(
            "describe() returned the version {:?}; use MAJOR.MINOR.PATCH",
            d.version
        ));
    }
    Ok(())
}

/// Checks what `schema()` returned: keys unique and well-formed, bounds sane, defaults of
/// the right kind.
pub fn check_schema(schema: &[Field]) -> Result<(), String> {
    let mut seen = std::collections::HashSet::new();
    for field in schema {
        let key_ok = !field.key.is_empty()
            && field.key.len() <= 64
            && field
                .key
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.');
        if !key_ok {
            return Err(format!("schema field key {:?} is not usable", field.key));
        }
        if !seen.insert(field.key.as_str()) {
            return Err(format!("schema field key {:?} appears twice", field.key));
        }
        match &field.kind {
            FieldKind::Integer { min, max } if min > max => {
                return Err(format!("schema field {:?} has min > max", field.key));
            }
            FieldKind::Choice { options } if options.is_empty() => {
                return Err(format!("schema field {:?} offers no choices", field.key));
            }
            _ => {}
        }
        if let Some(default) = &field.default {
            let single = std::slice::from_ref(field);
            let probe = serde_json::json!({ field.key.clone(): default });
            if let Err(errors) = super::settings::from_json(single, &probe) {
                let why = errors.first().map(|e| e.message.as_str()).unwrap_or("");
                return Err(format!(
                    "schema field {:?} has an invalid default: {why}",
                    field.key
                ));
            }
        }
    }
    Ok(())
}
