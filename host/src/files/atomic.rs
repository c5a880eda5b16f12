//! Replacing a file whole: the [`AtomicFile`] writer. A hidden temporary file is created
//! beside the target (in the same directory, opened beneath the root, `O_EXCL | O_NOFOLLOW`),
//! given its mode at once (whatever the umask), written, synced, renamed over the target, and
//! the directory is synced so the rename survives a crash. Readers see the old file or the
//! new one, never a part. A writer dropped before [`AtomicFile::commit`] (an error, a
//! cancelled upload) removes its temporary file; after a crash of the host one may remain,
//! hidden (its name starts with a dot) and never mistaken for the target.

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io::Write;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::sync::atomic::{AtomicU64, Ordering};

use rustix::fs::{AtFlags, Mode, OFlags};
use rustix::io::Errno;

use super::{FilesError, RelPath, Root};

/// The suffix of every temporary file a writer creates.
pub const TEMP_SUFFIX: &str = ".garrison-tmp";

/// The longest part of the target's name kept in a temporary file's name, so the whole stays
/// below the file-name limit (255 bytes).
const NAME_PART: usize = 200;

/// Tells temporary files of one process apart.
static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A file being written to replace `name` in `dir`; see the module's documentation.
#[derive(Debug)]
pub struct AtomicFile {
    /// The directory holding target and temporary file: the rename and the sync act on it,
    /// not on a path that could be swapped.
    dir: OwnedFd,
    /// The target's name in `dir`.
    name: OsString,
    /// The temporary file's name in `dir`; removed on drop unless committed.
    temp: OsString,
    /// The open temporary file.
    file: File,
    /// The target's path, for messages.
    shown: String,
    /// Set by `commit`: nothing is left to clean up.
    committed: bool,
}

/// What a commit did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Committed {
    /// Whether something of that name was replaced.
    pub replaced: bool,
}

impl Root {
    /// A writer that will replace the file `rel` with mode `mode`. The directory must
    /// exist. An existing link at `rel` that leads out of the root is refused (the rename
    /// would replace the link, not write through it, but the caller asked for that name).
    pub fn atomic_file(&self, rel: &RelPath, mode: u32) -> Result<AtomicFile, FilesError> {
        match self.metadata(rel) {
            Err(e) if e.is_escape() => return Err(e),
            _ => {}
        }
        let (dir, name) = self.open_parent(rel)?;
        let shown = self.shown(rel);
        let (temp, fd) = loop {
            let temp = temp_name(name);
            match rustix::fs::openat(
                &dir,
                temp.as_os_str(),
                OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::from_raw_mode(mode),
            ) {
                Ok(fd) => break (temp, fd),
                Err(Errno::EXIST) => continue,
                Err(e) => {
                    return Err(FilesError::Io {
                        path: shown,
                        source: e.into(),
                    });
                }
            }
        };
        let file = AtomicFile {
            dir,
            name: name.to_os_string(),
            temp,
            file: File::from(fd),
            shown,
            committed: false,
        };
        // The umask may have taken bits away: the mode asked for is the mode.
        rustix::fs::fchmod(&file.file, Mode::from_raw_mode(mode)).map_err(|e| FilesError::Io {
            path: file.shown.clone(),
            source: e.into(),
        })?;
        Ok(file)
    }

    /// Replaces the file `rel` with `contents` (see [`AtomicFile`]).
    pub fn write_atomic(
        &self,
        rel: &RelPath,
        contents: &[u8],
        mode: u32,
    ) -> Result<(), FilesError> {
        let mut file = self.atomic_file(rel, mode)?;
        file.write_bytes(contents)?;
        file.commit().map(drop)
    }
}

impl AtomicFile {
    /// Appends `bytes` to the new contents.
    pub fn write_bytes(&mut self, bytes: &[u8]) -> Result<(), FilesError> {
        self.file.write_all(bytes).map_err(|source| FilesError::Io {
            path: self.shown.clone(),
            source,
        })
    }

    /// Syncs the new contents, renames them over the target and syncs the directory.
    pub fn commit(mut self) -> Result<Committed, FilesError> {
        let shown = self.shown.clone();
        let io = |source: std::io::Error| FilesError::Io {
            path: shown.clone(),
            source,
        };
        self.file.sync_all().map_err(io)?;
        let replaced =
            rustix::fs::statat(&self.dir, self.name.as_os_str(), AtFlags::SYMLINK_NOFOLLOW).is_ok();
        rustix::fs::renameat(
            &self.dir,
            self.temp.as_os_str(),
            &self.dir,
            self.name.as_os_str(),
        )
        .map_err(|e| io(e.into()))?;
        self.committed = true;
        rustix::fs::fsync(&self.dir).map_err(|e| io(e.into()))?;
        Ok(Committed { replaced })
    }

    /// The temporary file's name in the target's directory (tests look for it).
    pub fn temp_name(&self) -> &OsStr {
        &self.temp
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.file.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if !self.committed {
            let _ = rustix::fs::unlinkat(&self.dir, self.temp.as_os_str(), AtFlags::empty());
        }
    }
}

/// `.<name>.<pid>-<n>.garrison-tmp`: hidden, unique in this process, tied to its target.
fn temp_name(name: &OsStr) -> OsString {
    let bytes = name.as_bytes();
    let mut end = bytes.len().min(NAME_PART);
    if end < bytes.len() {
        // Cut at a character boundary where the name is UTF-8 (at most 3 bytes back).
        for _ in 0..3 {
            if std::str::from_utf8(&bytes[..end]).is_ok() {
                break;
            }
            end -= 1;
        }
    }
    let kept = &bytes[..end];
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut temp = b".".to_vec();
    temp.extend_from_slice(kept);
    temp.extend_from_slice(format!(".{}-{n}{TEMP_SUFFIX}", std::process::id()).as_bytes());
    OsString::from_vec(temp)
}
