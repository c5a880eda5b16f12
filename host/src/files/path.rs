//! Relative paths as users and adapters give them, checked once before any system call: a
//! [`RelPath`] is a list of plain names, never absolute, never `..`, never holding a NUL byte.
//! An empty one names the root itself. This module only checks text; it touches no file.

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

use super::FilesError;

/// A path below a [`Root`](super::Root): plain names only (`.` components are dropped).
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct RelPath {
    names: Vec<OsString>,
}

impl RelPath {
    /// The root itself.
    pub fn root() -> Self {
        RelPath::default()
    }

    /// Checks `path`: absolute paths, `..` anywhere and NUL bytes are
    /// [`FilesError::InvalidPath`]; `.` components and repeated slashes are dropped.
    pub fn new(path: impl AsRef<Path>) -> Result<Self, FilesError> {
        let path = path.as_ref();
        let invalid = |reason| FilesError::InvalidPath {
            path: path.display().to_string(),
            reason,
        };
        if path.as_os_str().as_bytes().contains(&0) {
            return Err(invalid("it contains a NUL byte"));
        }
        let mut names = Vec::new();
        for component in path.components() {
            match component {
                Component::Normal(name) => names.push(name.to_os_string()),
                Component::CurDir => {}
                Component::ParentDir => return Err(invalid("it contains `..`")),
                Component::RootDir | Component::Prefix(_) => {
                    return Err(invalid("it is not relative"));
                }
            }
        }
        Ok(RelPath { names })
    }

    /// Checks that `name` is one plain file name (no `/`, not `.` or `..`, not empty).
    pub fn name(name: impl AsRef<OsStr>) -> Result<Self, FilesError> {
        let name = name.as_ref();
        let checked = RelPath::new(name)?;
        if checked.names.len() != 1 || name.as_bytes().contains(&b'/') {
            return Err(FilesError::InvalidPath {
                path: name.to_string_lossy().into_owned(),
                reason: "it is not one file name",
            });
        }
        Ok(checked)
    }

    /// This path with the plain name `name` added (checked as [`RelPath::name`]).
    pub fn join(&self, name: impl AsRef<OsStr>) -> Result<Self, FilesError> {
        let mut joined = self.clone();
        joined.names.extend(RelPath::name(name)?.names);
        Ok(joined)
    }

    /// Whether this names the root itself.
    pub fn is_root(&self) -> bool {
        self.names.is_empty()
    }

    /// The names, outermost first.
    pub fn names(&self) -> &[OsString] {
        &self.names
    }

    /// The directory holding the last name and that name; none for the root itself.
    pub fn split_last(&self) -> Option<(RelPath, &OsStr)> {
        let (last, parents) = self.names.split_last()?;
        Some((
            RelPath {
                names: parents.to_vec(),
            },
            last.as_os_str(),
        ))
    }

    /// The path as one relative [`PathBuf`] (`.` for the root), for system calls.
    pub fn to_path(&self) -> PathBuf {
        if self.names.is_empty() {
            return PathBuf::from(".");
        }
        self.names.iter().collect()
    }
}

impl fmt::Debug for RelPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.to_path())
    }
}

impl fmt::Display for RelPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.to_path().display())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_relative_names_pass() {
        assert_eq!(
            RelPath::new("a/./b//c").expect("plain").to_path(),
            PathBuf::from("a/b/c")
        );
        assert!(RelPath::new("").expect("root").is_root());
        assert!(RelPath::new(".").expect("root").is_root());
        for bad in ["/etc/passwd", "../x", "a/../b", "a/..", "a\0b"] {
            let refused = RelPath::new(bad).expect_err(bad);
            assert!(matches!(refused, FilesError::InvalidPath { .. }), "{bad}");
        }
        for bad in ["", ".", "..", "a/b", "/a"] {
            assert!(RelPath::name(bad).is_err(), "{bad:?}");
        }
        let dir = RelPath::new("a").expect("a");
        assert_eq!(dir.join("b").expect("b").to_path(), PathBuf::from("a/b"));
        assert!(dir.join("../b").is_err());
    }
}
