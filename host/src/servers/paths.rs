//! Where a server's files live, and the only way adapter-named paths become real ones.
//!
//! Each server has its own instance directory `<data-dir>/servers/<id>/`; a game's installed
//! files live in `<data-dir>/runtimes/<adapter-id>/` (shared by that game's servers) unless an
//! administrator registered an existing install path. Adapters name files relative to one of
//! these roots; `resolve` refuses anything that could leave the root (absolute paths, `..`,
//! symlinks pointing out), and `write_atomic` replaces files whole.

use std::io::Write;
use std::path::{Component, Path, PathBuf};

use crate::adapters::model::{PathRef, Root};

/// The directories one server's plans refer to.
#[derive(Debug, Clone)]
pub struct ServerDirs {
    /// The server's own directory.
    pub instance: PathBuf,
    /// The game's installed files.
    pub runtime: PathBuf,
}

impl ServerDirs {
    /// The directories of server `id` of `adapter_id` under `data_dir`; `runtime_path`
    /// overrides the shared runtime when an administrator registered one.
    pub fn new(data_dir: &Path, id: i64, adapter_id: &str, runtime_path: Option<&str>) -> Self {
        let data_dir = std::path::absolute(data_dir).unwrap_or_else(|_| data_dir.to_path_buf());
        ServerDirs {
            instance: data_dir.join("servers").join(id.to_string()),
            runtime: runtime_path
                .map_or_else(|| data_dir.join("runtimes").join(adapter_id), PathBuf::from),
        }
    }

    /// Where the server's captured console output (stdout and stderr) goes.
    pub fn console(&self) -> PathBuf {
        self.instance.join("console")
    }

    /// The absolute path an adapter's `PathRef` names, refusing escapes from its root.
    pub fn resolve(&self, path: &PathRef) -> Result<PathBuf, String> {
        let root = match path.root {
            Root::Instance => &self.instance,
            Root::Runtime => &self.runtime,
        };
        let relative = Path::new(&path.path);
        for component in relative.components() {
            match component {
                Component::Normal(_) | Component::CurDir => {}
                _ => return Err(format!("the path {:?} leaves its directory", path.path)),
            }
        }
        if path.path.contains('\0') {
            return Err("a path contains a NUL character".into());
        }
        let full = root.join(relative);
        // A symlink on the way may point outside the root: check what exists of the path.
        let mut existing = full.as_path();
        while !existing.exists() {
            match existing.parent() {
                Some(parent) => existing = parent,
                None => break,
            }
        }
        if let (Ok(real), Ok(real_root)) = (existing.canonicalize(), root.canonicalize())
            && !real.starts_with(&real_root)
        {
            return Err(format!(
                "the path {:?} leads outside its directory",
                path.path
            ));
        }
        Ok(full)
    }
}

/// Writes `contents` to `path` whole: a temporary file beside it, then a rename.
pub fn write_atomic(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let dir = path
        .parent()
        .ok_or_else(|| std::io::Error::other("a file needs a directory"))?;
    std::fs::create_dir_all(dir)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.garrison-tmp"));
    let mut file = std::fs::File::create(&tmp)?;
    file.write_all(contents)?;
    file.sync_all()?;
    std::fs::rename(&tmp, path)
}
