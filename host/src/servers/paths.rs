//! Where a server's files live, and the only way adapter-named paths become real ones.
//!
//! Each server has its own instance directory `<data-dir>/servers/<id>/`; a game's installed
//! files live in `<data-dir>/runtimes/<adapter-id>/` (shared by that game's servers) unless an
//! administrator registered an existing install path. Adapters name files relative to one of
//! these roots; `resolve` refuses anything that could leave the root (absolute paths, `..`,
//! symlinks pointing out) for paths handed to other programs, `write_rendered` replaces
//! rendered files whole beneath their root (through [`crate::files`]) and `link_dir` points a
//! link at a folder.

use std::os::unix::fs::DirBuilderExt;
use std::path::{Component, Path, PathBuf};

use crate::adapters::model::{PathRef, Root};
use crate::files;

/// The data directory's folder for files that live as long as one job step.
pub const SCRATCH_DIR: &str = "tmp";

/// Mode of every directory the host creates for servers: only the host's user may enter.
pub const DIR_MODE: u32 = 0o700;

/// Mode of every file the host writes for servers (rendered configs hold passwords).
pub const FILE_MODE: u32 = 0o600;

/// Creates `dir` and its missing parents with [`DIR_MODE`]; existing ones are left as they
/// are (a game's install may need its own modes).
pub fn create_private_dir_all(dir: &Path) -> std::io::Result<()> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(DIR_MODE)
        .create(dir)
}

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

    /// The directory `root` names for this server.
    pub fn root(&self, root: Root) -> &Path {
        match root {
            Root::Instance => &self.instance,
            Root::Runtime => &self.runtime,
        }
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

/// Makes `link` a symbolic link to `target`, replacing an older link (atomically: a new link
/// beside it, then a rename). Refuses to replace anything that is not a link, so a folder an
/// administrator put there by hand is never lost.
pub fn link_dir(target: &Path, link: &Path) -> std::io::Result<()> {
    let dir = link
        .parent()
        .ok_or_else(|| std::io::Error::other("a link needs a directory"))?;
    create_private_dir_all(dir)?;
    match std::fs::symlink_metadata(link) {
        Ok(meta) if !meta.file_type().is_symlink() => {
            return Err(std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                format!("{} exists and is not a link; left as it is", link.display()),
            ));
        }
        _ => {}
    }
    let name = link
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.garrison-link"));
    match std::fs::remove_file(&tmp) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    std::os::unix::fs::symlink(target, &tmp)?;
    std::fs::rename(&tmp, link)
}

/// A file an adapter rendered: the server's root it lives in and where below it.
#[derive(Debug, Clone)]
pub struct RenderedFile {
    /// The root ([`ServerDirs::instance`] or [`ServerDirs::runtime`]).
    pub root: PathBuf,
    /// Where below the root (checked: plain names only).
    pub path: files::RelPath,
    /// What the adapter rendered.
    pub contents: Vec<u8>,
}

impl RenderedFile {
    /// The file's absolute path (for messages and other programs; never opened by path).
    pub fn full_path(&self) -> PathBuf {
        self.root.join(self.path.to_path())
    }
}

/// Writes `rendered` files whole, readable by the host's user only ([`FILE_MODE`]), each
/// beneath its root (see [`files::Root`]: a link a game planted on the way is refused, never
/// followed out): a temporary file beside it, fsync, rename. Missing directories are made
/// with [`DIR_MODE`]. Blocking.
pub fn write_rendered(rendered: &[RenderedFile]) -> Result<(), files::FilesError> {
    let mut roots: Vec<(&Path, files::Root)> = Vec::new();
    for file in rendered {
        let root = match roots.iter().find(|(path, _)| *path == file.root) {
            Some((_, root)) => root.clone(),
            None => {
                create_private_dir_all(&file.root).map_err(|source| files::FilesError::Io {
                    path: file.root.display().to_string(),
                    source,
                })?;
                let root = files::Root::open(&file.root)?;
                roots.push((file.root.as_path(), root.clone()));
                root
            }
        };
        if let Some((dir, _)) = file.path.split_last() {
            root.create_dir_all_mode(&dir, DIR_MODE)?;
        }
        root.write_atomic(&file.path, &file.contents, FILE_MODE)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_replaced_but_real_folders_are_left_alone() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (one, two) = (dir.path().join("one"), dir.path().join("two"));
        std::fs::create_dir_all(&one).expect("one");
        std::fs::create_dir_all(&two).expect("two");
        let link = dir.path().join("mods/@cba");
        link_dir(&one, &link).expect("link");
        assert_eq!(std::fs::read_link(&link).expect("link"), one);
        link_dir(&two, &link).expect("relink");
        assert_eq!(std::fs::read_link(&link).expect("link"), two);

        let by_hand = dir.path().join("mods/@manual");
        std::fs::create_dir_all(by_hand.join("addons")).expect("manual");
        let refused = link_dir(&one, &by_hand).expect_err("not replaced");
        assert_eq!(refused.kind(), std::io::ErrorKind::AlreadyExists);
        assert!(by_hand.join("addons").is_dir(), "the folder survives");
    }

    #[test]
    fn adapter_paths_cannot_leave_their_root() {
        let dir = tempfile::tempdir().expect("tempdir");
        let dirs = ServerDirs::new(dir.path(), 7, "game", None);
        let at = |root, path: &str| PathRef {
            root,
            path: path.into(),
        };
        assert_eq!(
            dirs.resolve(&at(Root::Instance, "profiles"))
                .expect("inside"),
            dirs.instance.join("profiles")
        );
        for bad in ["../8", "/etc/passwd", "a/../../x"] {
            assert!(dirs.resolve(&at(Root::Runtime, bad)).is_err(), "{bad}");
        }
        // A symlink inside the root that points out is refused too.
        std::fs::create_dir_all(&dirs.instance).expect("instance");
        std::os::unix::fs::symlink("/etc", dirs.instance.join("out")).expect("symlink");
        assert!(dirs.resolve(&at(Root::Instance, "out/passwd")).is_err());
    }
}
