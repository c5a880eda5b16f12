//! What can be done to a path beneath a [`Root`]: read, look at (metadata, links), list,
//! create directories, change modes, rename, remove (one file, an empty directory, a tree).
//! Each operation opens what it works on through the root (see `root`) and then acts on
//! descriptors and single names (`*at` calls that never follow a link at the final name),
//! so a link swapped in afterwards changes nothing. Writing files is `atomic`'s.

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io::Read;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStringExt;
use std::path::PathBuf;

use rustix::fs::{AtFlags, Dir, FileType, Mode, OFlags};
use rustix::io::Errno;

use super::{FilesError, RelPath, Root};

/// What kind of thing a name is (a link is not followed to say this).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A regular file.
    File,
    /// A directory.
    Dir,
    /// A symbolic link.
    Symlink,
    /// Anything else (a device, a socket, a pipe).
    Other,
}

impl Kind {
    fn of(file_type: FileType) -> Kind {
        match file_type {
            FileType::RegularFile => Kind::File,
            FileType::Directory => Kind::Dir,
            FileType::Symlink => Kind::Symlink,
            _ => Kind::Other,
        }
    }
}

/// What callers need to know about a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Metadata {
    /// Its kind.
    pub kind: Kind,
    /// Size in bytes.
    pub len: u64,
    /// Last modified, seconds since the epoch (0 before it).
    pub modified: u64,
    /// Permission bits (`0o7777`).
    pub mode: u32,
}

impl Metadata {
    fn of(stat: &rustix::fs::Stat) -> Metadata {
        Metadata {
            kind: Kind::of(FileType::from_raw_mode(stat.st_mode)),
            len: u64::try_from(stat.st_size).unwrap_or(0),
            modified: u64::try_from(stat.st_mtime).unwrap_or(0),
            mode: stat.st_mode & 0o7777,
        }
    }
}

/// One name in a directory listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The name (not necessarily UTF-8).
    pub name: OsString,
    /// What it is itself (a link is reported as a link).
    pub kind: Kind,
}

impl Root {
    /// Opens the file `rel` for reading (a link inside the root is followed).
    pub fn open_read(&self, rel: &RelPath) -> Result<File, FilesError> {
        let flags = OFlags::RDONLY | OFlags::NOCTTY | OFlags::NONBLOCK;
        Ok(File::from(self.open_at(rel, flags, Mode::empty(), true)?))
    }

    /// Opens the file `rel` for reading, refusing a link as its final name.
    pub fn open_read_nofollow(&self, rel: &RelPath) -> Result<File, FilesError> {
        let flags = OFlags::RDONLY | OFlags::NOCTTY | OFlags::NONBLOCK;
        Ok(File::from(self.open_at(
            rel,
            flags,
            Mode::empty(),
            false,
        )?))
    }

    /// The whole contents of the file `rel`.
    pub fn read(&self, rel: &RelPath) -> Result<Vec<u8>, FilesError> {
        let mut bytes = Vec::new();
        self.open_read(rel)?
            .read_to_end(&mut bytes)
            .map_err(|source| FilesError::Io {
                path: self.shown(rel),
                source,
            })?;
        Ok(bytes)
    }

    /// Metadata of `rel`, following a link inside the root.
    pub fn metadata(&self, rel: &RelPath) -> Result<Metadata, FilesError> {
        let fd = self.open_at(rel, OFlags::PATH, Mode::empty(), true)?;
        self.fstat(rel, fd.as_fd())
    }

    /// Metadata of `rel` itself (a link is reported as a link).
    pub fn symlink_metadata(&self, rel: &RelPath) -> Result<Metadata, FilesError> {
        let fd = self.open_at(rel, OFlags::PATH, Mode::empty(), false)?;
        self.fstat(rel, fd.as_fd())
    }

    fn fstat(&self, rel: &RelPath, fd: BorrowedFd<'_>) -> Result<Metadata, FilesError> {
        rustix::fs::fstat(fd)
            .map(|s| Metadata::of(&s))
            .map_err(|e| self.error(rel, e))
    }

    /// Sets the permission bits of `rel` (a file or directory, never through a link).
    pub fn set_mode(&self, rel: &RelPath, mode: u32) -> Result<(), FilesError> {
        let flags = OFlags::RDONLY | OFlags::NOCTTY | OFlags::NONBLOCK;
        let fd = self.open_at(rel, flags, Mode::empty(), false)?;
        rustix::fs::fchmod(&fd, Mode::from_raw_mode(mode)).map_err(|e| self.error(rel, e))
    }

    /// The target a link `rel` holds (as written in the link, not resolved).
    pub fn read_link(&self, rel: &RelPath) -> Result<PathBuf, FilesError> {
        let (dir, name) = self.open_parent(rel)?;
        let target =
            rustix::fs::readlinkat(&dir, name, Vec::new()).map_err(|e| self.error(rel, e))?;
        Ok(PathBuf::from(OsString::from_vec(target.into_bytes())))
    }

    /// The names in the directory `rel` (a link inside the root is followed to it), with
    /// what each is itself; `.` and `..` left out, in no particular order.
    pub fn list(&self, rel: &RelPath) -> Result<Vec<Entry>, FilesError> {
        let fd = self.open_at(rel, OFlags::RDONLY | OFlags::DIRECTORY, Mode::empty(), true)?;
        let probe = fd.try_clone().map_err(|source| FilesError::Io {
            path: self.shown(rel),
            source,
        })?;
        let mut out = Vec::new();
        for entry in entries(fd).map_err(|e| self.error(rel, e))? {
            let (name, file_type) = entry.map_err(|e| self.error(rel, e))?;
            let kind = match file_type {
                FileType::Unknown => {
                    rustix::fs::statat(&probe, name.as_os_str(), AtFlags::SYMLINK_NOFOLLOW)
                        .map_or(Kind::Other, |s| {
                            Kind::of(FileType::from_raw_mode(s.st_mode))
                        })
                }
                known => Kind::of(known),
            };
            out.push(Entry { name, kind });
        }
        Ok(out)
    }

    /// Creates the directory `rel` (its parent must exist) with `mode` (less the umask).
    pub fn create_dir(&self, rel: &RelPath, mode: u32) -> Result<(), FilesError> {
        let (dir, name) = self.open_parent(rel)?;
        rustix::fs::mkdirat(&dir, name, Mode::from_raw_mode(mode)).map_err(|e| self.error(rel, e))
    }

    /// Creates the directory `rel` and its missing parents with `mode` (less the umask);
    /// existing ones are left as they are. Fails where a name on the way is not a directory
    /// or leads out of the root.
    pub fn create_dir_all(&self, rel: &RelPath) -> Result<(), FilesError> {
        self.create_dir_all_mode(rel, 0o777)
    }

    /// [`Root::create_dir_all`] with `mode` for what it creates.
    pub fn create_dir_all_mode(&self, rel: &RelPath, mode: u32) -> Result<(), FilesError> {
        let mut at = RelPath::root();
        for name in rel.names() {
            at = at.join(name)?;
            match self.create_dir(&at, mode) {
                Ok(()) => {}
                Err(FilesError::Io { source, .. })
                    if source.raw_os_error() == Some(Errno::EXIST.raw_os_error()) => {}
                Err(e) => return Err(e),
            }
        }
        // What stands there now must be a directory beneath the root.
        self.open_at(rel, OFlags::PATH | OFlags::DIRECTORY, Mode::empty(), true)?;
        Ok(())
    }

    /// Removes the file (or link, never what it points at) `rel`.
    pub fn remove_file(&self, rel: &RelPath) -> Result<(), FilesError> {
        let (dir, name) = self.open_parent(rel)?;
        rustix::fs::unlinkat(&dir, name, AtFlags::empty()).map_err(|e| self.error(rel, e))
    }

    /// Removes the empty directory `rel`.
    pub fn remove_dir(&self, rel: &RelPath) -> Result<(), FilesError> {
        let (dir, name) = self.open_parent(rel)?;
        rustix::fs::unlinkat(&dir, name, AtFlags::REMOVEDIR).map_err(|e| self.error(rel, e))
    }

    /// Removes `rel` and everything below it; a link is removed itself, never followed.
    pub fn remove_dir_all(&self, rel: &RelPath) -> Result<(), FilesError> {
        let (dir, name) = self.open_parent(rel)?;
        remove_tree(dir.as_fd(), name).map_err(|e| self.error(rel, e))
    }

    /// Renames `from` to `to` (both beneath the root), replacing a file at `to`. Links at
    /// either final name are renamed or replaced themselves, never followed.
    pub fn rename(&self, from: &RelPath, to: &RelPath) -> Result<(), FilesError> {
        let (from_dir, from_name) = self.open_parent(from)?;
        let (to_dir, to_name) = self.open_parent(to)?;
        rustix::fs::renameat(&from_dir, from_name, &to_dir, to_name).map_err(|e| self.error(to, e))
    }

    /// Makes `rel` a symbolic link holding `target` (not checked: a link is only text until
    /// something follows it, and nothing here follows one out of the root).
    pub fn symlink(&self, target: &std::path::Path, rel: &RelPath) -> Result<(), FilesError> {
        let (dir, name) = self.open_parent(rel)?;
        rustix::fs::symlinkat(target, &dir, name).map_err(|e| self.error(rel, e))
    }
}

/// The names of the directory open at `fd` with their types as the directory reports them.
fn entries(
    fd: OwnedFd,
) -> Result<impl Iterator<Item = Result<(OsString, FileType), Errno>>, Errno> {
    let dir = Dir::new(fd)?;
    Ok(dir.filter_map(|entry| match entry {
        Ok(entry) => {
            let name = entry.file_name().to_bytes();
            if name == b"." || name == b".." {
                return None;
            }
            Some(Ok((OsString::from_vec(name.to_vec()), entry.file_type())))
        }
        Err(e) => Some(Err(e)),
    }))
}

/// Removes `name` in the directory `dir`: a directory with everything in it (descending by
/// descriptor with `O_NOFOLLOW`, so a link swapped in for a directory is never entered),
/// anything else by unlinking it.
fn remove_tree(dir: BorrowedFd<'_>, name: &OsStr) -> Result<(), Errno> {
    let stat = rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW)?;
    if FileType::from_raw_mode(stat.st_mode) != FileType::Directory {
        return rustix::fs::unlinkat(dir, name, AtFlags::empty());
    }
    let child = rustix::fs::openat(
        dir,
        name,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    let listing = child
        .try_clone()
        .map_err(|e| Errno::from_io_error(&e).unwrap_or(Errno::IO))?;
    let names: Vec<OsString> = entries(listing)?
        .map(|entry| entry.map(|(name, _)| name))
        .collect::<Result<_, _>>()?;
    for inner in names {
        remove_tree(child.as_fd(), &inner)?;
    }
    rustix::fs::unlinkat(dir, name, AtFlags::REMOVEDIR)
}
