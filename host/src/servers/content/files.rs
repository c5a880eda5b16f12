//! The file-system side of content directories: confining a directory to its root, listing
//! files and folders, removing a file. Everything here blocks: callers run it with
//! `spawn_blocking`.
//!
//! A content directory is resolved by [`ServerDirs::resolve`](super::super::paths::ServerDirs),
//! which refuses `..` and absolute paths; here the directory and every entry are checked
//! again after symlinks are followed, so a link planted in the directory cannot make the
//! host list, replace or delete anything outside the game's root.

use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use super::ContentError;
use super::names;
use crate::adapters::model::ContentDir;

/// A file entry of a content directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileEntry {
    /// The file name.
    pub file: String,
    /// The name a selection uses (without the extension).
    pub name: String,
    /// Size in bytes.
    pub size: u64,
    /// Last modified, seconds since the epoch.
    pub modified: u64,
}

/// A folder entry of a content directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FolderEntry {
    /// The folder name (also the name a selection uses).
    pub name: String,
    /// Where the folder is a link, its target.
    pub link: Option<PathBuf>,
}

/// The real (symlink-free) path of `root`, or none when it does not exist yet.
pub fn real_root(root: &Path) -> Option<PathBuf> {
    root.canonicalize().ok()
}

/// Checks that `path`, once symlinks are followed, stays below `real_root`. A path that does
/// not exist passes (nothing there to follow).
pub fn check_inside(path: &Path, real_root: Option<&Path>) -> Result<(), ContentError> {
    let (Ok(real), Some(root)) = (path.canonicalize(), real_root) else {
        return Ok(());
    };
    if real.starts_with(root) {
        Ok(())
    } else {
        Err(ContentError::Outside(path.display().to_string()))
    }
}

/// The directory `dir` (already resolved below `root`), created when `create` is set and
/// checked to stay inside `root` after symlinks. Missing and not created: `Ok(None)`.
pub fn open_dir(root: &Path, dir: &Path, create: bool) -> Result<Option<PathBuf>, ContentError> {
    if create {
        std::fs::create_dir_all(dir).map_err(|e| ContentError::io(dir, &e))?;
    }
    if !dir.exists() {
        return Ok(None);
    }
    check_inside(dir, real_root(root).as_deref())?;
    if !dir.is_dir() {
        return Err(ContentError::Outside(dir.display().to_string()));
    }
    Ok(Some(dir.to_path_buf()))
}

/// The files of `path` that are content of `dir`, sorted by file name. Links leading outside
/// `root` and names that are not UTF-8 are left out.
pub fn list_files(
    root: &Path,
    path: &Path,
    dir: &ContentDir,
) -> Result<Vec<FileEntry>, ContentError> {
    let real = real_root(root);
    let mut out = Vec::new();
    for entry in std::fs::read_dir(path).map_err(|e| ContentError::io(path, &e))? {
        let Ok(entry) = entry else { continue };
        let Ok(file) = entry.file_name().into_string() else {
            continue;
        };
        let Some(name) = names::entry_name(&file, dir) else {
            continue;
        };
        let full = entry.path();
        if check_inside(&full, real.as_deref()).is_err() {
            continue;
        }
        let Ok(meta) = std::fs::metadata(&full) else {
            continue;
        };
        if !meta.is_file() {
            continue;
        }
        let modified = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_secs());
        out.push(FileEntry {
            file,
            name,
            size: meta.len(),
            modified,
        });
    }
    out.sort_by(|a, b| a.file.cmp(&b.file));
    Ok(out)
}

/// The folders (or links to folders) of `path` that are content of `dir`, sorted by name.
pub fn list_folders(path: &Path, dir: &ContentDir) -> Result<Vec<FolderEntry>, ContentError> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(path).map_err(|e| ContentError::io(path, &e))? {
        let Ok(entry) = entry else { continue };
        let Ok(file) = entry.file_name().into_string() else {
            continue;
        };
        let Some(name) = names::entry_name(&file, dir) else {
            continue;
        };
        let full = entry.path();
        if !full.is_dir() {
            continue;
        }
        let link = std::fs::read_link(&full).ok().map(|target| {
            if target.is_absolute() {
                target
            } else {
                path.join(target)
            }
        });
        out.push(FolderEntry { name, link });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// Where `file` of the content directory `path` is, once checked: the name is one plain
/// component (see [`names::check_upload_name`]) and an existing entry there (a link, say)
/// does not lead outside `root`.
pub fn target(
    root: &Path,
    path: &Path,
    file: &str,
    dir: &ContentDir,
) -> Result<PathBuf, ContentError> {
    names::check_upload_name(file, &dir.extensions).map_err(ContentError::InvalidName)?;
    let target = path.join(file);
    check_inside(&target, real_root(root).as_deref())?;
    if std::fs::symlink_metadata(&target).is_ok_and(|m| m.is_dir()) {
        return Err(ContentError::InvalidName(format!("{file} is a folder")));
    }
    Ok(target)
}

/// Removes the file `target`; a missing one is [`ContentError::NotFound`]. A link is removed
/// itself, never what it points at.
pub fn remove(target: &Path, file: &str) -> Result<(), ContentError> {
    match std::fs::symlink_metadata(target) {
        Ok(meta) if meta.is_dir() => Err(ContentError::NotFound(file.to_string())),
        Ok(_) => std::fs::remove_file(target).map_err(|e| ContentError::io(target, &e)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Err(ContentError::NotFound(file.to_string()))
        }
        Err(e) => Err(ContentError::io(target, &e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::model::{ContentKind, EntryKind, PathRef, Root};

    fn missions() -> ContentDir {
        ContentDir {
            kind: ContentKind::Missions,
            dir: PathRef {
                root: Root::Runtime,
                path: "missions".into(),
            },
            entries: EntryKind::File,
            extensions: vec![".dat".into()],
            prefixes: Vec::new(),
            selection: None,
            workshop: None,
        }
    }

    #[test]
    fn a_missions_dir_linked_outside_the_root_is_refused() {
        let base = tempfile::tempdir().expect("tempdir");
        let (root, outside) = (base.path().join("root"), base.path().join("outside"));
        std::fs::create_dir_all(&root).expect("root");
        std::fs::create_dir_all(&outside).expect("outside");
        std::os::unix::fs::symlink(&outside, root.join("missions")).expect("link");
        let refused = open_dir(&root, &root.join("missions"), true).expect_err("outside");
        assert!(matches!(refused, ContentError::Outside(_)), "{refused:?}");
        // A missing directory is created when asked, and is inside.
        let made = open_dir(&root, &root.join("other"), true).expect("created");
        assert_eq!(made, Some(root.join("other")));
        assert_eq!(
            open_dir(&root, &root.join("absent"), false).expect("ok"),
            None
        );
    }

    #[test]
    fn links_in_the_dir_pointing_outside_are_neither_listed_nor_replaced() {
        let base = tempfile::tempdir().expect("tempdir");
        let root = base.path().join("root");
        let dir = root.join("missions");
        std::fs::create_dir_all(&dir).expect("dir");
        let secret = base.path().join("secret.dat");
        std::fs::write(&secret, b"secret").expect("secret");
        std::os::unix::fs::symlink(&secret, dir.join("evil.dat")).expect("link");
        std::fs::write(dir.join("good.dat"), b"mission").expect("good");
        std::fs::write(dir.join("notes.txt"), b"x").expect("notes");
        std::fs::write(dir.join(".good.dat.garrison-upload"), b"x").expect("tmp");

        let listed = list_files(&root, &dir, &missions()).expect("list");
        let names: Vec<&str> = listed.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["good"]);
        assert_eq!(listed[0].size, 7);

        let refused = target(&root, &dir, "evil.dat", &missions()).expect_err("outside");
        assert!(matches!(refused, ContentError::Outside(_)), "{refused:?}");
        for bad in ["../x.dat", "/etc/passwd", "a\0.dat", ".h.dat", "x.txt"] {
            let refused = target(&root, &dir, bad, &missions()).expect_err(bad);
            assert!(matches!(refused, ContentError::InvalidName(_)), "{bad}");
        }
        assert_eq!(
            target(&root, &dir, "good.dat", &missions()).expect("inside"),
            dir.join("good.dat")
        );
    }

    #[test]
    fn removing_a_link_leaves_its_target() {
        let base = tempfile::tempdir().expect("tempdir");
        let kept = base.path().join("kept.dat");
        std::fs::write(&kept, b"x").expect("kept");
        let link = base.path().join("link.dat");
        std::os::unix::fs::symlink(&kept, &link).expect("link");
        remove(&link, "link.dat").expect("removed");
        assert!(kept.exists());
        let missing = remove(&link, "link.dat").expect_err("gone");
        assert!(matches!(missing, ContentError::NotFound(_)));
    }
}
