//! The two text outputs of a Source server: the game log files and the console.
//!
//! Game logs live in `<game dir>/logs/` (or the folder `+sv_logsdir` names) as
//! `L<MM><DD><NNN>.log`, one new file per start and per map, every line stamped
//! `L MM/DD/YYYY - HH:MM:SS: ` (UTC here). The console is printed on
//! stdout and, with `-condebug`, appended to `<game dir>/console.log` without timestamps. Every
//! line is written and flushed on its own so a tailing reader never sees half a line. This
//! module only formats and writes; what happens is the world's business.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::clock::Civil;
use crate::stdout_line;

/// The engine build number the logs and `status` report.
pub const VERSION: &str = "8940";

/// The prefix of every game log line: `L 05/06/2024 - 12:34:56: `.
pub fn stamp(t: &Civil) -> String {
    format!(
        "L {:02}/{:02}/{:04} - {:02}:{:02}:{:02}: ",
        t.month, t.day, t.year, t.hour, t.minute, t.second
    )
}

/// Writes one line plus newline and flushes; reports the first failure only.
fn write_line(file: &mut File, path: &Path, failed: &mut bool, text: &str) {
    let mut bytes = Vec::with_capacity(text.len() + 1);
    bytes.extend_from_slice(text.as_bytes());
    bytes.push(b'\n');
    if let Err(e) = file.write_all(&bytes).and_then(|()| file.flush())
        && !*failed
    {
        *failed = true;
        eprintln!("garrison-sim: cannot write {}: {e}", path.display());
    }
}

/// One open game log file.
pub struct GameLog {
    /// The file, written line by line without buffering.
    file: File,
    /// Where it is, for messages and tests.
    path: PathBuf,
    /// Set after the first write error so a full disk is reported once.
    failed: bool,
}

impl GameLog {
    /// Creates the next free `L<MM><DD><NNN>.log` in `<game_dir>/<logs_dir>` (created if
    /// missing) and writes its opening lines (`Log file started …` naming the file relative to
    /// the game directory, `Loading map "…"`).
    pub fn open(game_dir: &Path, logs_dir: &str, map: &str) -> io::Result<Self> {
        let dir = game_dir.join(logs_dir);
        std::fs::create_dir_all(&dir)?;
        let now = Civil::now();
        for n in 0..1000 {
            let name = format!("L{:02}{:02}{:03}.log", now.month, now.day, n);
            let path = dir.join(&name);
            match OpenOptions::new().append(true).create_new(true).open(&path) {
                Ok(file) => {
                    let mut log = Self {
                        file,
                        path,
                        failed: false,
                    };
                    log.line(&format!(
                        "Log file started (file \"{logs_dir}/{name}\") (game \"{}\") (version \"{VERSION}\")",
                        game_dir.display()
                    ));
                    log.line(&format!("Loading map \"{map}\""));
                    return Ok(log);
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
        }
        Err(io::Error::other(
            "all 1000 log file names of today are taken",
        ))
    }

    /// The file's path.
    #[cfg(test)]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes one stamped line.
    pub fn line(&mut self, text: &str) {
        let line = format!("{}{text}", stamp(&Civil::now()));
        write_line(&mut self.file, &self.path, &mut self.failed, &line);
    }

    /// Writes `Log file closed`; the file is not written again.
    pub fn close(mut self) {
        self.line("Log file closed");
    }
}

/// The server console: stdout, plus `console.log` with `-condebug`.
pub struct Console {
    /// `<game dir>/console.log` and its failure flag, when `-condebug` was given.
    file: Option<(File, PathBuf, bool)>,
}

impl Console {
    /// Opens (appending) `console.log` in `game_dir` when `condebug` is set.
    pub fn open(game_dir: &Path, condebug: bool) -> io::Result<Self> {
        let file = if condebug {
            let path = game_dir.join("console.log");
            let file = OpenOptions::new().create(true).append(true).open(&path)?;
            Some((file, path, false))
        } else {
            None
        };
        Ok(Self { file })
    }

    /// Prints one console line.
    pub fn line(&mut self, text: &str) {
        stdout_line(text);
        if let Some((file, path, failed)) = self.file.as_mut() {
            write_line(file, path, failed, text);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = include_str!("../../../data/l4d2/L0506000.log");

    #[test]
    fn stamp_and_opening_line_match_the_sample() {
        let t = Civil::from_unix_millis(1_714_998_896_000); // 2024-05-06 12:34:56 UTC
        let first = SAMPLE.lines().next().expect("sample line");
        let expected = format!(
            "{}Log file started (file \"logs/L0506000.log\") (game \"/srv/garrison/runtimes/l4d2/left4dead2\") (version \"{VERSION}\")",
            stamp(&t)
        );
        assert_eq!(first, expected);
        assert!(SAMPLE.lines().all(|l| l.len() > 25 && l.starts_with("L ")));
    }

    #[test]
    fn each_open_makes_a_new_file_with_opening_lines() {
        let dir = tempfile::tempdir().expect("temp dir");
        let a = GameLog::open(dir.path(), "logs", "c1m1_hotel").expect("first");
        let b = GameLog::open(dir.path(), "logs", "c2m1_highway").expect("second");
        assert_ne!(a.path(), b.path());
        let (pa, pb) = (a.path().to_path_buf(), b.path().to_path_buf());
        a.close();
        let name = |p: &Path| {
            p.file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("")
                .to_string()
        };
        assert!(name(&pa).ends_with("000.log") && name(&pb).ends_with("001.log"));
        assert_eq!(name(&pa).len(), "L0506000.log".len());
        let text = std::fs::read_to_string(&pa).expect("readable");
        let events: Vec<&str> = text.lines().map(|l| l.get(25..).unwrap_or("")).collect();
        assert_eq!(events[1], "Loading map \"c1m1_hotel\"");
        assert_eq!(events[2], "Log file closed");
        assert!(events[0].starts_with(&format!("Log file started (file \"logs/{}\")", name(&pa))));
        let text = std::fs::read_to_string(&pb).expect("readable");
        assert!(text.contains(": Loading map \"c2m1_highway\"\n"));
    }

    #[test]
    fn logs_go_to_the_folder_sv_logsdir_names() {
        let dir = tempfile::tempdir().expect("temp dir");
        let a = GameLog::open(dir.path(), "logs/garrison-27015", "c1m1_hotel").expect("a");
        let b = GameLog::open(dir.path(), "logs/garrison-27016", "c1m1_hotel").expect("b");
        let (pa, pb) = (a.path().to_path_buf(), b.path().to_path_buf());
        assert_eq!(
            pa.parent(),
            Some(dir.path().join("logs/garrison-27015").as_path())
        );
        assert_eq!(
            pb.parent(),
            Some(dir.path().join("logs/garrison-27016").as_path())
        );
        // Each folder numbers its own files, and the opening line names the real path.
        let name = pa.file_name().and_then(|n| n.to_str()).unwrap_or("");
        assert!(name.ends_with("000.log"), "{name}");
        assert_eq!(pa.file_name(), pb.file_name());
        let text = std::fs::read_to_string(&pa).expect("readable");
        let opening = format!("Log file started (file \"logs/garrison-27015/{name}\")");
        assert!(
            text.lines()
                .next()
                .is_some_and(|l| l[25..].starts_with(&opening)),
            "{text}"
        );
        assert!(!dir.path().join("logs").join(name).exists());
    }

    #[test]
    fn console_appends_without_timestamps() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("console.log"), "old line\n").expect("seed");
        let mut c = Console::open(dir.path(), true).expect("open");
        c.line("   VAC secure mode is activated.");
        let text = std::fs::read_to_string(dir.path().join("console.log")).expect("readable");
        assert_eq!(text, "old line\n   VAC secure mode is activated.\n");
        let mut quiet = Console::open(dir.path(), false).expect("open");
        quiet.line("stdout only");
    }
}
