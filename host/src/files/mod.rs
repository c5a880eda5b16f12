//! Every file operation the host does on directories that others can write to (a game's
//! install, a server's directory, the data directory), resolved *beneath* a [`Root`]: a
//! directory opened once, whose every path is looked up by the kernel with
//! `openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS)`. A symbolic link a game planted (or
//! swapped in between two calls) can therefore never lead an operation outside the root:
//! there is no check-then-open window to race. Where the kernel lacks `openat2` the same
//! operations walk the path one name at a time with `O_NOFOLLOW`, refusing every link.
//!
//! Files are replaced whole by an [`AtomicFile`]: a hidden temporary file beside the target,
//! written, synced, given its mode, renamed over the target, and the directory synced; one
//! dropped before [`AtomicFile::commit`] removes its temporary file. [`stream`] feeds one
//! from an async body (uploads).
//!
//! Layout: `path` (checking relative paths), `root` (the root and resolving beneath it),
//! `ops` (reading, listing, removing, renaming, modes), `atomic` (the writer), `stream`.
//! Everything here blocks except [`stream`]: async callers use `spawn_blocking`. Nothing here
//! knows a game, and nothing logs file contents.

mod atomic;
mod ops;
mod path;
mod root;
pub mod stream;
#[cfg(test)]
mod tests;

use std::path::Path;

pub use atomic::{AtomicFile, Committed};
pub use ops::{Entry, Kind, Metadata};
pub use path::RelPath;
pub use root::{Resolution, Root};

/// Why a file operation was refused or failed. Messages name the path (below its root's
/// path) and never a file's contents.
#[derive(Debug, thiserror::Error)]
pub enum FilesError {
    /// The path given is absolute, climbs with `..`, holds a NUL byte, or is not the one
    /// name asked for.
    #[error("the path {path:?} is not allowed: {reason}")]
    InvalidPath {
        /// The path as given.
        path: String,
        /// Why it is refused.
        reason: &'static str,
    },
    /// Resolving the path would leave the root (a symbolic link pointing out of it).
    #[error("{path} leads outside its directory")]
    Outside {
        /// The path.
        path: String,
    },
    /// A symbolic link stands where none may be followed (the final name of an operation
    /// that must not follow one, or any link when `openat2` is missing).
    #[error("{path} is a symbolic link, which is not followed here")]
    Symlink {
        /// The path.
        path: String,
    },
    /// The operating system refused or failed.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: String,
        /// The error.
        #[source]
        source: std::io::Error,
    },
}

impl FilesError {
    /// Whether the path (or a directory on the way) does not exist.
    pub fn is_not_found(&self) -> bool {
        matches!(self, FilesError::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound)
    }

    /// Whether the path leads out of its root or through a link that may not be followed.
    pub fn is_escape(&self) -> bool {
        matches!(
            self,
            FilesError::Outside { .. } | FilesError::Symlink { .. }
        )
    }
}

impl From<FilesError> for std::io::Error {
    fn from(e: FilesError) -> Self {
        match e {
            FilesError::Io { path, source } => {
                std::io::Error::new(source.kind(), format!("{path}: {source}"))
            }
            FilesError::InvalidPath { .. } => {
                std::io::Error::new(std::io::ErrorKind::InvalidInput, e.to_string())
            }
            FilesError::Outside { .. } | FilesError::Symlink { .. } => {
                std::io::Error::new(std::io::ErrorKind::PermissionDenied, e.to_string())
            }
        }
    }
}

/// Writes `contents` to the file `path` whole ([`AtomicFile`]) with `mode`, creating its
/// directory (and missing parents, only the host's user may enter them) first. The directory holding the file is the root: for
/// the host's own files in its data directory (keys, the first password), where no game
/// writes. Blocking.
pub fn write_file_in_own_dir(path: &Path, contents: &[u8], mode: u32) -> Result<(), FilesError> {
    let (dir, name) = match (path.parent(), path.file_name()) {
        (Some(dir), Some(name)) => (dir, name),
        _ => {
            return Err(FilesError::InvalidPath {
                path: path.display().to_string(),
                reason: "it names no file in a directory",
            });
        }
    };
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    std::os::unix::fs::DirBuilderExt::mode(std::fs::DirBuilder::new().recursive(true), 0o700)
        .create(dir)
        .map_err(|source| FilesError::Io {
            path: dir.display().to_string(),
            source,
        })?;
    Root::open(dir)?.write_atomic(&RelPath::name(name)?, contents, mode)
}
