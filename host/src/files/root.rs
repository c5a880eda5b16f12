//! The [`Root`]: a directory opened once, and the one place paths below it become open file
//! descriptors. With `openat2` the kernel resolves the whole path beneath the root's
//! descriptor (`RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS`): links that stay inside are
//! followed, anything that would leave (`..` through a link, an absolute link, a link
//! pointing out) fails with `EXDEV`. Without it (`ENOSYS`, old kernels and some sandboxes) the
//! path is walked one name at a time from the root's descriptor with `O_NOFOLLOW`, and any
//! link at all is refused. Either way the check and the open are one system call per name, so
//! nothing can be swapped in between them. Operations on what was opened live in `ops` and
//! `atomic`.

use std::ffi::OsStr;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use rustix::fs::{AtFlags, FileType, Mode, OFlags, ResolveFlags};
use rustix::io::Errno;

use super::{FilesError, RelPath};

/// Set once the kernel answered `openat2` with `ENOSYS`: every root walks from then on.
static OPENAT2_MISSING: AtomicBool = AtomicBool::new(false);

/// How often `openat2` may fail with `EAGAIN` (a rename elsewhere during the lookup)
/// before the lookup gives up.
const RETRIES: usize = 16;

/// How paths below a root are resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    /// `openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS)`: links inside the root are
    /// followed, links leading out are refused.
    Openat2,
    /// Name by name with `openat(O_NOFOLLOW)`: every link is refused. Used where `openat2`
    /// is missing, and by tests.
    Walk,
}

/// A directory every operation stays beneath. Cheap to clone (the descriptor is shared).
#[derive(Debug, Clone)]
pub struct Root {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    /// The open directory every lookup starts from; renaming or replacing the directory's
    /// path afterwards does not move the root.
    fd: OwnedFd,
    /// The path it was opened at, for messages only: never used to reach a file.
    path: PathBuf,
    /// Chosen when opened: what the kernel supports, or forced by tests.
    resolution: Resolution,
}

impl Root {
    /// Opens the directory `path` (the path itself is the caller's, trusted: links in it are
    /// followed) with `openat2` where the kernel has it.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, FilesError> {
        let resolution = if OPENAT2_MISSING.load(Ordering::Relaxed) {
            Resolution::Walk
        } else {
            Resolution::Openat2
        };
        Root::open_with(path, resolution)
    }

    /// Opens `path` resolving with `resolution` (tests force [`Resolution::Walk`]).
    pub fn open_with(path: impl AsRef<Path>, resolution: Resolution) -> Result<Self, FilesError> {
        let path = path.as_ref();
        let fd = rustix::fs::open(
            path,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| FilesError::Io {
            path: path.display().to_string(),
            source: e.into(),
        })?;
        Ok(Root {
            inner: Arc::new(Inner {
                fd,
                path: path.to_path_buf(),
                resolution,
            }),
        })
    }

    /// The directory `rel` below this root as a root of its own (resolved beneath this one;
    /// from then on operations stay beneath it).
    pub fn subdir(&self, rel: &RelPath) -> Result<Root, FilesError> {
        let fd = self.open_at(rel, OFlags::RDONLY | OFlags::DIRECTORY, Mode::empty(), true)?;
        Ok(Root {
            inner: Arc::new(Inner {
                fd,
                path: self.inner.path.join(rel.to_path()),
                resolution: self.inner.resolution,
            }),
        })
    }

    /// The path the root was opened at (for messages and for handing to other programs).
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// How this root resolves paths.
    pub fn resolution(&self) -> Resolution {
        self.inner.resolution
    }

    /// The root's own descriptor.
    pub(super) fn fd(&self) -> BorrowedFd<'_> {
        self.inner.fd.as_fd()
    }

    /// `rel` below the root's path, for messages.
    pub(super) fn shown(&self, rel: &RelPath) -> String {
        if rel.is_root() {
            return self.inner.path.display().to_string();
        }
        self.inner.path.join(rel.to_path()).display().to_string()
    }

    /// The error for `errno` on `rel`: `EXDEV` (left the root) and `ELOOP` (a link where
    /// none may be) are refusals, the rest the system's.
    pub(super) fn error(&self, rel: &RelPath, errno: Errno) -> FilesError {
        let path = self.shown(rel);
        match errno {
            Errno::XDEV => FilesError::Outside { path },
            Errno::LOOP => FilesError::Symlink { path },
            other => FilesError::Io {
                path,
                source: other.into(),
            },
        }
    }

    /// Opens `rel` beneath the root with `flags` (and `mode` when creating). With
    /// `follow_last` a link as the final name is followed (beneath the root, and only with
    /// `openat2`); without, the final name is opened with `O_NOFOLLOW`.
    pub(super) fn open_at(
        &self,
        rel: &RelPath,
        flags: OFlags,
        mode: Mode,
        follow_last: bool,
    ) -> Result<OwnedFd, FilesError> {
        let mut flags = flags | OFlags::CLOEXEC;
        if !follow_last {
            flags |= OFlags::NOFOLLOW;
        }
        if self.inner.resolution == Resolution::Openat2 && !OPENAT2_MISSING.load(Ordering::Relaxed)
        {
            let resolve = ResolveFlags::BENEATH | ResolveFlags::NO_MAGICLINKS;
            let path = rel.to_path();
            for _ in 0..RETRIES {
                match rustix::fs::openat2(self.fd(), &path, flags, mode, resolve) {
                    Ok(fd) => return Ok(fd),
                    Err(Errno::AGAIN | Errno::INTR) => {}
                    Err(Errno::NOSYS) => {
                        tracing::warn!(
                            "the kernel lacks openat2: paths are walked name by name and \
                             symbolic links below game directories are refused"
                        );
                        OPENAT2_MISSING.store(true, Ordering::Relaxed);
                        break;
                    }
                    Err(e) => return Err(self.error(rel, e)),
                }
            }
            if !OPENAT2_MISSING.load(Ordering::Relaxed) {
                return Err(self.error(rel, Errno::AGAIN));
            }
        }
        self.walk(rel, flags | OFlags::NOFOLLOW, mode, follow_last)
    }

    /// The fallback: one `openat` per name from the root's descriptor, each with
    /// `O_NOFOLLOW`; a link anywhere is [`FilesError::Symlink`].
    fn walk(
        &self,
        rel: &RelPath,
        flags: OFlags,
        mode: Mode,
        follow_last: bool,
    ) -> Result<OwnedFd, FilesError> {
        let Some((parents, last)) = rel.split_last() else {
            return rustix::fs::openat(self.fd(), ".", flags, mode).map_err(|e| self.error(rel, e));
        };
        let mut dir: Option<OwnedFd> = None;
        for name in parents.names() {
            let at = dir.as_ref().map_or_else(|| self.fd(), AsFd::as_fd);
            let next = rustix::fs::openat(
                at,
                name.as_os_str(),
                OFlags::PATH | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::empty(),
            );
            match next {
                Ok(fd) => dir = Some(fd),
                Err(e) => return Err(self.walk_error(at, name, rel, e)),
            }
        }
        let at = dir.as_ref().map_or_else(|| self.fd(), AsFd::as_fd);
        let fd = rustix::fs::openat(at, last, flags, mode)
            .map_err(|e| self.walk_error(at, last, rel, e))?;
        // `O_PATH | O_NOFOLLOW` opens a link itself rather than failing: only callers that
        // asked not to follow (and so look at the link) may have it.
        if follow_last && flags.contains(OFlags::PATH) && is_symlink(fd.as_fd()) {
            return Err(FilesError::Symlink {
                path: self.shown(rel),
            });
        }
        Ok(fd)
    }

    /// What a failed `openat` of `name` in `at` means: a link there is a refusal.
    fn walk_error(&self, at: BorrowedFd<'_>, name: &OsStr, rel: &RelPath, e: Errno) -> FilesError {
        let link = rustix::fs::statat(at, name, AtFlags::SYMLINK_NOFOLLOW)
            .is_ok_and(|s| FileType::from_raw_mode(s.st_mode) == FileType::Symlink);
        if link || e == Errno::LOOP {
            FilesError::Symlink {
                path: self.shown(rel),
            }
        } else {
            self.error(rel, e)
        }
    }

    /// The directory holding `rel`'s final name, opened beneath the root (readable, so it
    /// can be listed and synced), and that name. The root itself has no parent here.
    pub(super) fn open_parent<'a>(
        &self,
        rel: &'a RelPath,
    ) -> Result<(OwnedFd, &'a OsStr), FilesError> {
        let Some((parent, name)) = rel.split_last() else {
            return Err(FilesError::InvalidPath {
                path: self.shown(rel),
                reason: "it names the directory itself",
            });
        };
        let dir = self.open_at(
            &parent,
            OFlags::RDONLY | OFlags::DIRECTORY,
            Mode::empty(),
            true,
        )?;
        Ok((dir, name))
    }
}

/// Whether `fd` is a symbolic link (opened with `O_PATH | O_NOFOLLOW`).
fn is_symlink(fd: BorrowedFd<'_>) -> bool {
    rustix::fs::fstat(fd).is_ok_and(|s| FileType::from_raw_mode(s.st_mode) == FileType::Symlink)
}
