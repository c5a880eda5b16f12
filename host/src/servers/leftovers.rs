//! What a server keeps in its game's shared install, and removing it when the server goes.
//!
//! A server's own directory (`servers/<id>/`) is removed whole when the server is deleted.
//! A game's install is shared by that game's servers, and an adapter may put a server's
//! files there as well (a config named after the server's port, its game logs). On
//! deletion the host asks the adapter where those are — the files it renders into the
//! install and the log directories it names there — and removes them unless another server
//! of the same install names the same path. In a log directory only the files matching the
//! adapter's pattern go, and the directory itself only when that leaves it empty: nothing the
//! adapter did not name is touched, and the install itself never is.
//!
//! [`Leftovers`] owns this; it is reached as [`Servers::leftovers`] (the delete job uses it).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{Servers, UnknownAdapter, Unreadable, context};
use crate::adapters::model::{FieldError, LogLocation, Root};
use crate::adapters::{AdapterError, LoadedAdapter};
use crate::secrets::SecretError;
use crate::store::StoreError;
use crate::store::servers::{self, Server};
use crate::telemetry::tail;

/// Why what a server keeps in its game's install could not be found or removed.
#[derive(Debug, thiserror::Error)]
pub enum LeftoversError {
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The adapter failed or refused.
    #[error(transparent)]
    Adapter(#[from] AdapterError),
    /// The adapter of this server (or of another of the install) is no longer installed.
    #[error(transparent)]
    UnknownAdapter(#[from] UnknownAdapter),
    /// The stored settings no longer fit the adapter's schema; every problem, by field.
    #[error("the settings are invalid ({} problem(s))", .0.len())]
    InvalidSettings(Vec<FieldError>),
    /// A stored secret could not be opened.
    #[error(transparent)]
    Secrets(#[from] SecretError),
    /// Removing failed, or an adapter named a path outside its directory.
    #[error("server files: {0}")]
    Files(String),
}

impl From<Unreadable> for LeftoversError {
    fn from(e: Unreadable) -> Self {
        match e {
            Unreadable::Secrets(e) => LeftoversError::Secrets(e),
            Unreadable::Invalid(errors) => LeftoversError::InvalidSettings(errors),
        }
    }
}

/// The paths in a game's install that one server's plans name.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct InstallFiles {
    /// Files the adapter renders into the install.
    pub files: Vec<PathBuf>,
    /// Log directories in the install, with the pattern of the files in them.
    pub logs: Vec<(PathBuf, String)>,
}

/// What servers leave in their games' shared installs (see the module's text). Cheap to
/// clone.
#[derive(Clone)]
pub struct Leftovers {
    servers: Servers,
}

impl Leftovers {
    pub(super) fn new(servers: Servers) -> Self {
        Leftovers { servers }
    }

    /// The paths in its game's install that `server`'s adapter names for it.
    async fn install_files(
        &self,
        adapter: &Arc<LoadedAdapter>,
        server: &Server,
    ) -> Result<InstallFiles, LeftoversError> {
        let inner = &self.servers.inner;
        let typed = inner.typed_settings(adapter, server)?;
        let dirs = inner.dirs(server);
        let ctx = context(server.id, &dirs);
        let (files, sources) = inner
            .call(adapter, move |session| {
                Ok((session.render(&ctx, &typed)?, session.log_sources(&typed)?))
            })
            .await?;
        let mut named = InstallFiles::default();
        for file in files.into_iter().filter(|f| f.path.root == Root::Runtime) {
            named
                .files
                .push(dirs.resolve(&file.path).map_err(LeftoversError::Files)?);
        }
        for source in sources {
            if let LogLocation::NewestFile { dir, pattern } = source.location
                && dir.root == Root::Runtime
            {
                let path = dirs.resolve(&dir).map_err(LeftoversError::Files)?;
                named.logs.push((path, pattern));
            }
        }
        Ok(named)
    }

    /// Removes what `server` keeps in its game's shared install (see the module's text) and
    /// answers with the paths removed. Nothing is removed when another server of the same
    /// install cannot say what it uses.
    pub async fn remove(&self, server: &Server) -> Result<Vec<PathBuf>, LeftoversError> {
        let inner = &self.servers.inner;
        let adapter = inner.adapter_of(server)?;
        let mine = self.install_files(&adapter, server).await?;
        if mine.files.is_empty() && mine.logs.is_empty() {
            return Ok(Vec::new());
        }
        let runtime = inner.dirs(server).runtime;
        let id = server.id;
        let others: Vec<Server> = inner
            .store
            .call(move |conn| servers::list(conn))
            .await?
            .into_iter()
            .filter(|s| s.id != id && inner.dirs(s).runtime == runtime)
            .collect();
        let mut shared = Vec::new();
        for other in &others {
            let adapter = inner.adapter_of(other)?;
            let theirs = self.install_files(&adapter, other).await?;
            shared.extend(theirs.files);
            shared.extend(theirs.logs.into_iter().map(|(dir, _)| dir));
        }
        tokio::task::spawn_blocking(move || remove(&mine, &shared, &runtime))
            .await
            .map_err(|e| LeftoversError::Files(e.to_string()))?
            .map_err(LeftoversError::Files)
    }
}

/// Removes `mine` except the paths in `shared`, never `install` itself.
fn remove(mine: &InstallFiles, shared: &[PathBuf], install: &Path) -> Result<Vec<PathBuf>, String> {
    let mut removed = Vec::new();
    let kept = |path: &Path| path == install || shared.iter().any(|s| s == path);
    for file in &mine.files {
        if kept(file) {
            continue;
        }
        match std::fs::remove_file(file) {
            Ok(()) => removed.push(file.clone()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(format!("{}: {e}", file.display())),
        }
    }
    for (dir, pattern) in &mine.logs {
        if kept(dir) {
            continue;
        }
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(format!("{}: {e}", dir.display())),
        };
        for entry in entries {
            let entry = entry.map_err(|e| format!("{}: {e}", dir.display()))?;
            let name = entry.file_name();
            let is_file = entry.file_type().is_ok_and(|t| t.is_file());
            if is_file && tail::matches(pattern, &name.to_string_lossy()) {
                let path = entry.path();
                std::fs::remove_file(&path).map_err(|e| format!("{}: {e}", path.display()))?;
                removed.push(path);
            }
        }
        // Only an empty directory goes: anything else in it was not the adapter's to name.
        if std::fs::remove_dir(dir).is_ok() {
            removed.push(dir.clone());
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_what_the_adapter_named_and_no_one_else_uses_goes() {
        let dir = tempfile::tempdir().expect("temp dir");
        let install = dir.path().join("runtimes/game");
        let cfg = install.join("cfg/garrison");
        std::fs::create_dir_all(&cfg).expect("cfg");
        for name in ["27015.cfg", "27016.cfg"] {
            std::fs::write(cfg.join(name), b"rcon_password secret").expect("cfg file");
        }
        let logs = install.join("logs/garrison-27015");
        std::fs::create_dir_all(&logs).expect("logs");
        std::fs::write(logs.join("L0101000.log"), b"line").expect("log");
        let busy = install.join("logs/shared");
        std::fs::create_dir_all(&busy).expect("busy");
        std::fs::write(busy.join("L0101001.log"), b"line").expect("log");
        std::fs::write(busy.join("notes.txt"), b"mine").expect("other file");

        let mine = InstallFiles {
            files: vec![cfg.join("27015.cfg"), cfg.join("gone.cfg")],
            logs: vec![
                (logs.clone(), "L*.log".into()),
                (busy.clone(), "L*.log".into()),
                (install.clone(), "*".into()),
            ],
        };
        let removed = remove(&mine, &[], &install).expect("remove");
        assert!(removed.contains(&cfg.join("27015.cfg")));
        assert!(!cfg.join("27015.cfg").exists());
        assert!(
            cfg.join("27016.cfg").exists(),
            "another server's file stays"
        );
        assert!(!logs.exists(), "an emptied log directory goes");
        assert!(
            busy.join("notes.txt").exists() && !busy.join("L0101001.log").exists(),
            "only matching files go; a directory with other files stays"
        );
        assert!(install.exists(), "the install itself is never removed");
    }

    #[test]
    fn paths_another_server_names_are_kept() {
        let dir = tempfile::tempdir().expect("temp dir");
        let install = dir.path().join("runtime");
        let logs = install.join("logs");
        std::fs::create_dir_all(&logs).expect("logs");
        std::fs::write(logs.join("a.log"), b"x").expect("log");
        std::fs::write(install.join("server.cfg"), b"x").expect("cfg");
        let mine = InstallFiles {
            files: vec![install.join("server.cfg")],
            logs: vec![(logs.clone(), "*.log".into())],
        };
        let removed =
            remove(&mine, &[install.join("server.cfg"), logs.clone()], &install).expect("remove");
        assert!(removed.is_empty());
        assert!(install.join("server.cfg").exists() && logs.join("a.log").exists());
    }
}
