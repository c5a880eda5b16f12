//! Following one log: a fixed file, or the newest file in a directory whose name matches a
//! pattern.
//!
//! A [`Tail`] reads what was appended since the last call and returns it as whole lines,
//! each with the byte offset just past it, so the caller can store exactly how far it has
//! consumed and resume there after a host restart. It copes with what games and log
//! rotation do to files:
//!
//! - **Appends**: read from the last position; a line without its newline yet is kept back
//!   until it is complete.
//! - **Truncation** (the file shrank below the position): read again from the start.
//! - **Replacement** (the path now names another file, e.g. after a rename): the old file
//!   is read to its end first, then the new one from its start.
//! - **A newer file** (newest-file logs): once the current file is read to its end, the
//!   tail switches; a file last written before `not_before` is a leftover from an earlier
//!   run and is skipped to its end rather than replayed.
//! - **Bad bytes**: invalid UTF-8 is decoded lossily; a line longer than [`MAX_LINE`] bytes
//!   is cut there with a marker and the rest of it skipped.
//!
//! This module does blocking file I/O and nothing else: callers run it off the async
//! runtime, and it knows nothing about parsers, the database or games.

use std::fs::{self, File};
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// Longest line kept whole, in bytes; longer ones are cut with [`CUT_MARKER`].
pub const MAX_LINE: usize = 64 * 1024;
/// Appended to a line cut at [`MAX_LINE`].
pub const CUT_MARKER: &str = " [… line cut: longer than 64 KiB]";
/// Most bytes read per call, so one busy log cannot starve the others.
pub const READ_CHUNK: usize = 1 << 20;

/// Which file a log is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Always this path.
    File(PathBuf),
    /// The newest file in `dir` whose name matches `pattern` (`*` any run of characters,
    /// `?` one character).
    Newest {
        /// The directory.
        dir: PathBuf,
        /// The file-name pattern.
        pattern: String,
    },
}

impl Target {
    /// The directory whose changes concern this log.
    pub fn dir(&self) -> Option<&Path> {
        match self {
            Target::File(path) => path.parent(),
            Target::Newest { dir, .. } => Some(dir),
        }
    }
}

/// A file's identity: the same path may name another file after a rotation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileId {
    /// Device number.
    pub device: u64,
    /// Inode number.
    pub inode: u64,
}

impl FileId {
    fn of(meta: &fs::Metadata) -> Self {
        FileId {
            device: meta.dev(),
            inode: meta.ino(),
        }
    }
}

/// How far a log has been consumed: the file and the offset just past the last line used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Position {
    /// The file's path when it was read.
    pub path: PathBuf,
    /// Which file it was.
    pub id: FileId,
    /// Byte offset.
    pub offset: u64,
}

/// Lines read from one file by one call.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Chunk {
    /// Complete lines, without their line ending.
    pub lines: Vec<String>,
    /// For each line, the offset just past it in `file`.
    pub ends: Vec<u64>,
    /// The file they came from (none when nothing was read).
    pub file: Option<(PathBuf, FileId)>,
    /// The file was finished (switched away from, or its process ended): a parser should
    /// release anything it holds back for this log.
    pub finished: bool,
    /// More is waiting: call again without waiting for a change.
    pub more: bool,
}

/// Follows one log. See the module documentation.
#[derive(Debug)]
pub struct Tail {
    target: Target,
    /// Files last written before this are from an earlier run.
    not_before: Option<SystemTime>,
    /// Where to resume, used once when the first file is opened.
    resume: Option<Position>,
    open: Option<OpenFile>,
    /// Bytes after the last newline, waiting for the rest of their line.
    partial: Vec<u8>,
    /// Offset where the incomplete line begins (the read position when there is none).
    line_start: u64,
    /// Skipping the rest of a line that was cut.
    discarding: bool,
    buf: Vec<u8>,
}

#[derive(Debug)]
struct OpenFile {
    file: File,
    path: PathBuf,
    id: FileId,
    /// Offset of the next byte to read.
    pos: u64,
}

impl Tail {
    /// A tail of `target` that resumes at `resume` when that file is still there, and
    /// otherwise skips files last written before `not_before`.
    pub fn new(target: Target, resume: Option<Position>, not_before: Option<SystemTime>) -> Self {
        Tail {
            target,
            not_before,
            resume,
            open: None,
            partial: Vec::new(),
            line_start: 0,
            discarding: false,
            buf: Vec::new(),
        }
    }

    /// What this tail follows.
    pub fn target(&self) -> &Target {
        &self.target
    }

    /// Reads what is new. `finish` says the writer has ended: a last line without its
    /// newline is returned too and the file is reported finished.
    pub fn read(&mut self, finish: bool) -> io::Result<Chunk> {
        if self.open.is_none() && !self.open_first()? {
            return Ok(Chunk::default());
        }
        let mut out = Chunk::default();
        self.read_open(&mut out)?;
        if out.more {
            return Ok(out);
        }
        // At the end of the current file: has it been replaced, or has a newer one appeared?
        if let Some(next) = self.successor()? {
            self.finish_partial(&mut out);
            out.finished = true;
            out.more = true;
            self.switch_to(next, false)?;
            return Ok(out);
        }
        if finish {
            self.finish_partial(&mut out);
            out.finished = true;
        }
        Ok(out)
    }

    /// Where the tail has read up to, ignoring a line still incomplete.
    pub fn position(&self) -> Option<Position> {
        self.open.as_ref().map(|open| Position {
            path: open.path.clone(),
            id: open.id,
            offset: self.line_start,
        })
    }

    /// Opens the first file: the resume position's when it is still there, else the
    /// current one. Returns whether a file is open.
    fn open_first(&mut self) -> io::Result<bool> {
        if let Some(resume) = self.resume.take()
            && let Some(file) = open_if(&resume.path, resume.id)?
        {
            let len = file.metadata()?.len();
            let pos = if len >= resume.offset {
                resume.offset
            } else {
                0
            };
            self.set_open(file, resume.path, resume.id, pos)?;
            return Ok(true);
        }
        match self.current()? {
            Some(next) => {
                self.switch_to(next, true)?;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// The file the target names now, with its identity and modification time.
    fn current(&self) -> io::Result<Option<(PathBuf, fs::Metadata)>> {
        match &self.target {
            Target::File(path) => match fs::metadata(path) {
                Ok(meta) if meta.is_file() => Ok(Some((path.clone(), meta))),
                Ok(_) => Ok(None),
                Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(e),
            },
            Target::Newest { dir, pattern } => newest(dir, pattern),
        }
    }

    /// The file to move on to once the open one is read to its end, if any.
    fn successor(&self) -> io::Result<Option<(PathBuf, fs::Metadata)>> {
        let Some(open) = &self.open else {
            return Ok(None);
        };
        Ok(self
            .current()?
            .filter(|(_, meta)| FileId::of(meta) != open.id))
    }

    fn switch_to(&mut self, (path, meta): (PathBuf, fs::Metadata), first: bool) -> io::Result<()> {
        let file = match File::open(&path) {
            Ok(file) => file,
            // Gone between listing and opening: try again on the next read.
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                self.open = None;
                return Ok(());
            }
            Err(e) => return Err(e),
        };
        let meta_now = file.metadata()?;
        let stale = self
            .not_before
            .zip(meta.modified().ok())
            .is_some_and(|(not_before, modified)| modified < not_before);
        // A leftover from an earlier run is skipped when it is the file found first; a file
        // that appears later was written by this run whatever its time says.
        let pos = if first && stale { meta_now.len() } else { 0 };
        self.set_open(file, path, FileId::of(&meta_now), pos)
    }

    fn set_open(&mut self, mut file: File, path: PathBuf, id: FileId, pos: u64) -> io::Result<()> {
        file.seek(SeekFrom::Start(pos))?;
        self.open = Some(OpenFile {
            file,
            path,
            id,
            pos,
        });
        self.partial.clear();
        self.line_start = pos;
        self.discarding = false;
        Ok(())
    }

    /// Reads up to [`READ_CHUNK`] bytes of the open file into lines.
    fn read_open(&mut self, out: &mut Chunk) -> io::Result<()> {
        let Some(open) = self.open.as_mut() else {
            return Ok(());
        };
        let len = open.file.metadata()?.len();
        if len < open.pos {
            // Truncated in place: what was before is gone, start over.
            open.file.seek(SeekFrom::Start(0))?;
            open.pos = 0;
            self.partial.clear();
            self.line_start = 0;
            self.discarding = false;
        }
        out.file = Some((open.path.clone(), open.id));
        let want = usize::try_from(len - open.pos)
            .unwrap_or(usize::MAX)
            .min(READ_CHUNK);
        if want == 0 {
            return Ok(());
        }
        self.buf.resize(want, 0);
        let mut got = 0;
        while got < want {
            match open.file.read(&mut self.buf[got..]) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        let start = open.pos;
        open.pos += got as u64;
        out.more = open.pos < len || got == READ_CHUNK;
        let buf = std::mem::take(&mut self.buf);
        self.split(&buf[..got], start, out);
        self.buf = buf;
        Ok(())
    }

    /// Splits `bytes` (starting at file offset `start`) into lines, continuing `partial`.
    fn split(&mut self, bytes: &[u8], start: u64, out: &mut Chunk) {
        let mut rest = bytes;
        let mut offset = start;
        while let Some(newline) = rest.iter().position(|&b| b == b'\n') {
            let end = offset + newline as u64 + 1;
            self.push_bytes(&rest[..newline]);
            self.emit(end, out);
            rest = &rest[newline + 1..];
            offset = end;
        }
        self.push_bytes(rest);
    }

    /// Adds bytes to the incomplete line, cutting it at [`MAX_LINE`].
    fn push_bytes(&mut self, bytes: &[u8]) {
        if self.discarding {
            return;
        }
        let room = MAX_LINE.saturating_sub(self.partial.len());
        if bytes.len() > room {
            self.partial.extend_from_slice(&bytes[..room]);
            self.discarding = true;
        } else {
            self.partial.extend_from_slice(bytes);
        }
    }

    /// Completes the incomplete line, ending at file offset `end`.
    fn emit(&mut self, end: u64, out: &mut Chunk) {
        let mut bytes = std::mem::take(&mut self.partial);
        if bytes.last() == Some(&b'\r') {
            bytes.pop();
        }
        let mut line = match String::from_utf8(bytes) {
            Ok(line) => line,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        };
        if self.discarding {
            line.push_str(CUT_MARKER);
            self.discarding = false;
        }
        out.lines.push(line);
        out.ends.push(end);
        self.line_start = end;
    }

    /// Returns an incomplete last line as a line: its file is finished.
    fn finish_partial(&mut self, out: &mut Chunk) {
        let Some(open) = &self.open else {
            return;
        };
        if !self.partial.is_empty() || self.discarding {
            let end = open.pos;
            out.file.get_or_insert_with(|| (open.path.clone(), open.id));
            self.emit(end, out);
        }
    }
}

/// Opens `path` if it is still the file `id`.
fn open_if(path: &Path, id: FileId) -> io::Result<Option<File>> {
    match File::open(path) {
        Ok(file) => {
            let meta = file.metadata()?;
            Ok((meta.is_file() && FileId::of(&meta) == id).then_some(file))
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// The newest regular file in `dir` whose name matches `pattern`: latest modification
/// time, the greater name on a tie. None when the directory or a match is missing.
pub fn newest(dir: &Path, pattern: &str) -> io::Result<Option<(PathBuf, fs::Metadata)>> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let mut best: Option<(SystemTime, String, fs::Metadata)> = None;
    for entry in entries {
        let entry = entry?;
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        if !matches(pattern, &name) {
            continue;
        }
        let meta = match fs::metadata(entry.path()) {
            Ok(meta) if meta.is_file() => meta,
            _ => continue,
        };
        let modified = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
        let newer = best
            .as_ref()
            .is_none_or(|(m, n, _)| (modified, &name) > (*m, n));
        if newer {
            best = Some((modified, name, meta));
        }
    }
    Ok(best.map(|(_, name, meta)| (dir.join(name), meta)))
}

/// Whether `name` matches `pattern`: `*` matches any run of characters (also none), `?`
/// exactly one, anything else itself.
pub fn matches(pattern: &str, name: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let name: Vec<char> = name.chars().collect();
    // Classic wildcard matching with one backtrack point for the last `*`.
    let (mut p, mut n) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        match pattern.get(p) {
            Some('*') => {
                star = Some((p, n));
                p += 1;
            }
            Some(&c) if c == '?' || c == name[n] => {
                p += 1;
                n += 1;
            }
            _ => match star {
                Some((sp, sn)) => {
                    p = sp + 1;
                    n = sn + 1;
                    star = Some((sp, sn + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests;
