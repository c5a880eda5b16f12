//! The file-system side of content directories: opening a directory beneath the game's root,
//! listing files and folders, checking an upload's target, removing a file. Everything here
//! blocks: callers run it with `spawn_blocking`.
//!
//! A content directory is named by the adapter relative to a root (checked by
//! [`ServerDirs::resolve`](super::super::paths::ServerDirs), which refuses `..` and absolute
//! paths). Every operation goes through a [`files::Root`] opened on the game's directory,
//! so the kernel resolves each path beneath it: a link planted in the directory (or swapped
//! in between two calls) cannot make the host list, replace or delete anything outside the
//! game's root.

use std::path::{Path, PathBuf};

use super::ContentError;
use super::names;
use crate::adapters::model::ContentDir;
use crate::files::{FilesError, Kind, RelPath, Root};

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

/// A content directory that exists, opened: the game's root and the directory below it.
#[derive(Debug, Clone)]
pub struct Opened {
    /// The game's root; every path below is resolved beneath it.
    pub root: Root,
    /// The content directory below the root.
    pub dir: RelPath,
}

/// How a refusal of the files layer reads for content: a link leading out (or any link
/// where links are not followed) or a path the adapter should not have named is
/// [`ContentError::Outside`]; the rest is file work that failed.
pub fn refusal(e: FilesError) -> ContentError {
    match e {
        FilesError::Outside { path } | FilesError::Symlink { path } => ContentError::Outside(path),
        FilesError::InvalidPath { .. } => ContentError::Outside(e.to_string()),
        FilesError::Io { .. } => ContentError::Io(e.to_string()),
    }
}

/// The content directory `dir` below `root`, created (with the root) when `create` is set,
/// and checked to be a directory beneath `root`. Missing and not created: `Ok(None)`.
pub fn open_dir(root: &Path, dir: &RelPath, create: bool) -> Result<Option<Opened>, ContentError> {
    if create {
        std::fs::create_dir_all(root).map_err(|e| ContentError::io(root, &e))?;
    }
    let root = match Root::open(root) {
        Ok(root) => root,
        Err(e) if e.is_not_found() => return Ok(None),
        Err(e) => return Err(refusal(e)),
    };
    if create {
        root.create_dir_all(dir).map_err(refusal)?;
    }
    match root.metadata(dir) {
        Ok(meta) if meta.kind == Kind::Dir => Ok(Some(Opened {
            root,
            dir: dir.clone(),
        })),
        Ok(_) => Err(ContentError::Outside(
            root.path().join(dir.to_path()).display().to_string(),
        )),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(refusal(e)),
    }
}

/// The files of the opened directory that are content of `dir`, sorted by file name. Links
/// leading outside the root and names that are not UTF-8 are left out.
pub fn list_files(opened: &Opened, dir: &ContentDir) -> Result<Vec<FileEntry>, ContentError> {
    let mut out = Vec::new();
    for entry in opened.root.list(&opened.dir).map_err(refusal)? {
        let Ok(file) = entry.name.into_string() else {
            continue;
        };
        let Some(name) = names::entry_name(&file, dir) else {
            continue;
        };
        let Ok(path) = opened.dir.join(&file) else {
            continue;
        };
        // Followed beneath the root: a link out is an error, and so left out.
        let Ok(meta) = opened.root.metadata(&path) else {
            continue;
        };
        if meta.kind != Kind::File {
            continue;
        }
        out.push(FileEntry {
            file,
            name,
            size: meta.len,
            modified: meta.modified,
        });
    }
    out.sort_by(|a, b| a.file.cmp(&b.file));
    Ok(out)
}

/// The folders (or links to folders) of the opened directory that are content of `dir`,
/// sorted by name. A link's target (a Workshop download, often outside the directory) is
/// only read and looked at to say it is a folder; nothing is opened through it.
pub fn list_folders(opened: &Opened, dir: &ContentDir) -> Result<Vec<FolderEntry>, ContentError> {
    let here = opened.root.path().join(opened.dir.to_path());
    let mut out = Vec::new();
    for entry in opened.root.list(&opened.dir).map_err(refusal)? {
        let Ok(file) = entry.name.into_string() else {
            continue;
        };
        let Some(name) = names::entry_name(&file, dir) else {
            continue;
        };
        let link = match entry.kind {
            Kind::Dir => None,
            Kind::Symlink => {
                let Ok(target) = opened
                    .dir
                    .join(&file)
                    .and_then(|p| opened.root.read_link(&p))
                else {
                    continue;
                };
                let target = if target.is_absolute() {
                    target
                } else {
                    here.join(target)
                };
                if !target.is_dir() {
                    continue;
                }
                Some(target)
            }
            Kind::File | Kind::Other => continue,
        };
        out.push(FolderEntry { name, link });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// Where `file` of the opened directory is, once checked: the name is one plain component
/// (see [`names::check_upload_name`]) and an existing entry there (a link, say) does not lead
/// outside the root.
pub fn target(opened: &Opened, file: &str, dir: &ContentDir) -> Result<RelPath, ContentError> {
    names::check_upload_name(file, &dir.extensions).map_err(ContentError::InvalidName)?;
    let target = opened
        .dir
        .join(file)
        .map_err(|e| ContentError::InvalidName(e.to_string()))?;
    match opened.root.metadata(&target) {
        Err(e) if e.is_escape() => return Err(refusal(e)),
        _ => {}
    }
    if opened
        .root
        .symlink_metadata(&target)
        .is_ok_and(|m| m.kind == Kind::Dir)
    {
        return Err(ContentError::InvalidName(format!("{file} is a folder")));
    }
    Ok(target)
}

/// Whether the directory `dir` below `root` holds an entry `file` (a link counts, followed
/// or not). Anything unreadable counts as absent.
pub fn entry_exists(root: &Path, dir: &RelPath, file: &str) -> bool {
    let Ok(root) = Root::open(root) else {
        return false;
    };
    dir.join(file)
        .and_then(|path| root.symlink_metadata(&path))
        .is_ok()
}

/// Removes the file `target` beneath the opened root; a missing one is
/// [`ContentError::NotFound`]. A link is removed itself, never what it points at.
pub fn remove(opened: &Opened, target: &RelPath, file: &str) -> Result<(), ContentError> {
    match opened.root.symlink_metadata(target) {
        Ok(meta) if meta.kind == Kind::Dir => Err(ContentError::NotFound(file.to_string())),
        Ok(_) => opened.root.remove_file(target).map_err(refusal),
        Err(e) if e.is_not_found() => Err(ContentError::NotFound(file.to_string())),
        Err(e) => Err(refusal(e)),
    }
}

/// The mode of uploaded files: the host's user's alone, like everything it writes.
pub const UPLOAD_MODE: u32 = 0o600;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::model::{ContentKind, EntryKind, PathRef, Root as PathRoot};

    fn rel(path: &str) -> RelPath {
        RelPath::new(path).expect("a valid path")
    }

    /// Where an opened directory is, as a path.
    fn path_of(opened: Option<Opened>) -> Option<PathBuf> {
        opened.map(|o| o.root.path().join(o.dir.to_path()))
    }

    fn missions() -> ContentDir {
        ContentDir {
            kind: ContentKind::Missions,
            dir: PathRef {
                root: PathRoot::Runtime,
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
        let refused = open_dir(&root, &rel("missions"), true).expect_err("outside");
        assert!(matches!(refused, ContentError::Outside(_)), "{refused:?}");
        // A missing directory is created when asked, and is inside.
        let made = open_dir(&root, &rel("other"), true).expect("created");
        assert_eq!(path_of(made), Some(root.join("other")));
        assert_eq!(
            path_of(open_dir(&root, &rel("absent"), false).expect("ok")),
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

        let opened = open_dir(&root, &rel("missions"), false)
            .expect("open")
            .expect("present");
        let listed = list_files(&opened, &missions()).expect("list");
        let names: Vec<&str> = listed.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["good"]);
        assert_eq!(listed[0].size, 7);

        let refused = target(&opened, "evil.dat", &missions()).expect_err("outside");
        assert!(matches!(refused, ContentError::Outside(_)), "{refused:?}");
        for bad in ["../x.dat", "/etc/passwd", "a\0.dat", ".h.dat", "x.txt"] {
            let refused = target(&opened, bad, &missions()).expect_err(bad);
            assert!(matches!(refused, ContentError::InvalidName(_)), "{bad}");
        }
        assert_eq!(
            root.join(
                target(&opened, "good.dat", &missions())
                    .expect("inside")
                    .to_path()
            ),
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
        let opened = open_dir(base.path(), &RelPath::root(), false)
            .expect("open")
            .expect("present");
        remove(&opened, &rel("link.dat"), "link.dat").expect("removed");
        assert!(kept.exists());
        let missing = remove(&opened, &rel("link.dat"), "link.dat").expect_err("gone");
        assert!(matches!(missing, ContentError::NotFound(_)));
    }
}
