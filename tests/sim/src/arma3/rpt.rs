//! The RPT log file, written the way the Arma 3 server writes it.
//!
//! One new file per start in the profiles directory, named
//! `arma3server_x64_YYYY-MM-DD_HH-MM-SS.rpt`, opening with an untimestamped header block and
//! then one line per event, stamped `HH:MM:SS` (hour space-padded below 10, optionally with a
//! `.mmm` fraction). Every line is written and flushed on its own so a tailing reader never
//! sees half a line. This module only formats and writes; what happens is the world's business.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::clock::Civil;

/// One line of an event, as the world describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RptLine {
    /// `HH:MM:SS text`.
    Stamped(String),
    /// `HH:MM:SS.mmm text` (script errors carry milliseconds).
    StampedMs(String),
    /// A continuation line without a timestamp (inside a multi-line script error).
    Raw(String),
}

/// Formats the timestamp prefix: ` 4:01:09` / `12:34:56`, plus `.mmm` when asked.
pub fn stamp(t: &Civil, millis: bool) -> String {
    let base = format!("{:>2}:{:02}:{:02}", t.hour, t.minute, t.second);
    if millis {
        format!("{base}.{:03}", t.milli)
    } else {
        base
    }
}

/// Renders one line (without the newline) at time `t`.
pub fn render(line: &RptLine, t: &Civil) -> String {
    match line {
        RptLine::Stamped(text) => format!("{} {text}", stamp(t, false)),
        RptLine::StampedMs(text) => format!("{} {text}", stamp(t, true)),
        RptLine::Raw(text) => text.clone(),
    }
}

/// An open RPT file.
pub struct Rpt {
    /// The file, written line by line without buffering.
    file: File,
    /// Where it is, for messages.
    path: PathBuf,
    /// Set after the first write error so a full disk is reported once, not every tick.
    failed: bool,
}

impl Rpt {
    /// Creates a fresh RPT file in `dir` (created if missing). If a file of the same second
    /// exists (two starts within one second), waits for the next second rather than reuse it.
    pub fn create(dir: &Path) -> io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let mut last_err = None;
        for _ in 0..3 {
            let t = Civil::now();
            let name = format!(
                "arma3server_x64_{:04}-{:02}-{:02}_{:02}-{:02}-{:02}.rpt",
                t.year, t.month, t.day, t.hour, t.minute, t.second
            );
            let path = dir.join(name);
            match OpenOptions::new().write(true).create_new(true).open(&path) {
                Ok(file) => {
                    return Ok(Self {
                        file,
                        path,
                        failed: false,
                    });
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                    last_err = Some(e);
                    std::thread::sleep(Duration::from_millis(u64::from(1000 - t.milli.min(999))));
                }
                Err(e) => return Err(e),
            }
        }
        Err(last_err.unwrap_or_else(|| io::Error::other("cannot create RPT file")))
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes the untimestamped header block a server prints at start.
    pub fn header(&mut self, exe: &str, command_line: &str, exe_time: &Civil) {
        let now = Civil::now();
        let date = |t: &Civil| {
            format!(
                "{:04}/{:02}/{:02} {:02}:{:02}:{:02}",
                t.year, t.month, t.day, t.hour, t.minute, t.second
            )
        };
        let rule = "=".repeat(69);
        let lines = [
            rule.clone(),
            format!("== {exe}"),
            format!("== {command_line}"),
            rule,
            format!("Exe timestamp: {}", date(exe_time)),
            format!("Current time:  {}", date(&now)),
            "Type: Public".to_string(),
            "Build: Stable".to_string(),
            "Version: 2.16.151618".to_string(),
            String::new(),
            "Allocator: garrison-sim system allocator".to_string(),
            " PhysMem: 32 GiB, VirtMem : 131072 GiB, AvailPhys : 25 GiB, AvailVirt : 131068 GiB, \
             AvailPage : 28 GiB, PageSize : 4.0 KiB/2.0 MiB/HasLockMemory, CPUCount : 8"
                .to_string(),
        ];
        for line in lines {
            self.write_raw(&line);
        }
    }

    /// Writes the lines of one event, all stamped with the same instant.
    pub fn write(&mut self, lines: &[RptLine]) {
        let now = Civil::now();
        for line in lines {
            let text = render(line, &now);
            self.write_raw(&text);
        }
    }

    /// Writes one timestamped line.
    pub fn line(&mut self, text: &str) {
        self.write(&[RptLine::Stamped(text.to_string())]);
    }

    fn write_raw(&mut self, text: &str) {
        let mut bytes = Vec::with_capacity(text.len() + 1);
        bytes.extend_from_slice(text.as_bytes());
        bytes.push(b'\n');
        let result = self.file.write_all(&bytes).and_then(|()| self.file.flush());
        if let Err(e) = result
            && !self.failed
        {
            self.failed = true;
            eprintln!("garrison-sim: cannot write {}: {e}", self.path.display());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_follow_both_styles() {
        let t = Civil::from_unix_millis(1_714_998_896_123); // 12:34:56.123
        assert_eq!(
            render(&RptLine::Stamped("Game started.".into()), &t),
            "12:34:56 Game started."
        );
        assert_eq!(
            render(&RptLine::StampedMs("x".into()), &t),
            "12:34:56.123 x"
        );
        let early = Civil::from_unix_millis(1_714_968_069_000); // 04:01:09
        assert_eq!(stamp(&early, false), " 4:01:09");
        assert_eq!(
            render(&RptLine::Raw("_x = _y + 1;>".into()), &t),
            "_x = _y + 1;>"
        );
    }

    #[test]
    fn new_file_per_start_with_header() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut a = Rpt::create(dir.path()).expect("first");
        a.header(
            "/srv/arma3server_x64",
            "arma3server_x64 -port=2302",
            &Civil::now(),
        );
        a.line("Game started.");
        let b = Rpt::create(dir.path()).expect("second");
        assert_ne!(a.path(), b.path());
        let text = std::fs::read_to_string(a.path()).expect("readable");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "=".repeat(69));
        assert_eq!(lines[2], "== arma3server_x64 -port=2302");
        assert!(lines[4].starts_with("Exe timestamp: "));
        assert!(lines[5].starts_with("Current time:  "));
        assert_eq!(lines[8], "Version: 2.16.151618");
        assert!(lines.last().is_some_and(|l| l.ends_with(" Game started.")));
        let name = a.path().file_name().and_then(|n| n.to_str()).unwrap_or("");
        assert!(
            name.starts_with("arma3server_x64_") && name.ends_with(".rpt"),
            "{name}"
        );
        assert_eq!(name.len(), "arma3server_x64_2024-05-06_12-34-56.rpt".len());
    }
}
