//! Naming a process across host restarts: its pid plus its start time.
//!
//! A pid alone is not an identity: once a process ends, the kernel hands its number to the
//! next process that starts. The start time (field 22 of `/proc/<pid>/stat`, clock ticks
//! since boot) never changes for the life of a process, so the pair is what the host
//! records and what it checks on boot before reattaching. This module only reads `/proc`;
//! it never signals or waits.

use std::fs;
use std::time::{Duration, SystemTime};

/// A process as the host records it: pid and start time together.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ProcessId {
    /// The process id.
    pub pid: i32,
    /// Field 22 of `/proc/<pid>/stat`: when the process started, in clock ticks since boot.
    /// Tells this process apart from a later one that reused the pid.
    pub start_time: u64,
}

/// What `/proc/<pid>/stat` says about a process, as far as the supervisor cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct StatFields {
    /// Field 3: `R`, `S`, `D`, `Z` (zombie), `X` (dead), ….
    pub state: char,
    /// Field 5: the process group.
    pub pgrp: i32,
    /// Field 22: start time in clock ticks since boot.
    pub start_time: u64,
}

impl ProcessId {
    /// Reads the start time of `pid` from `/proc`; none when there is no such process.
    /// A zombie still has one: use [`ProcessId::is_alive_and_same`] to ask whether it runs.
    pub fn of(pid: i32) -> Option<ProcessId> {
        let stat = read_stat(pid)?;
        Some(ProcessId {
            pid,
            start_time: stat.start_time,
        })
    }

    /// True only if the process still runs (not a zombie, not dead) and is the one this id
    /// names: a process that reused the pid has another start time and is not ours.
    pub fn is_alive_and_same(&self) -> bool {
        match read_stat(self.pid) {
            Some(stat) => !is_ended(stat.state) && stat.start_time == self.start_time,
            None => false,
        }
    }

    /// When the process started, on the wall clock: its start time counts clock ticks since
    /// boot, and boot was as long ago as the boot-time clock says. None if the clock cannot
    /// be read or the figures do not fit.
    pub fn started_at(&self) -> Option<SystemTime> {
        let since_boot = rustix::time::clock_gettime(rustix::time::ClockId::Boottime);
        let since_boot = Duration::new(
            u64::try_from(since_boot.tv_sec).ok()?,
            u32::try_from(since_boot.tv_nsec).ok()?,
        );
        let booted = SystemTime::now().checked_sub(since_boot)?;
        booted.checked_add(ticks(self.start_time)?)
    }
}

/// `ticks` clock ticks (`/proc`'s unit, `sysconf(_SC_CLK_TCK)` per second) as a duration.
fn ticks(ticks: u64) -> Option<Duration> {
    let per_second = rustix::param::clock_ticks_per_second();
    if per_second == 0 {
        return None;
    }
    let nanos = u128::from(ticks % per_second) * 1_000_000_000 / u128::from(per_second);
    Some(Duration::new(
        ticks / per_second,
        u32::try_from(nanos).ok()?,
    ))
}

impl std::fmt::Display for ProcessId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "pid {} (start time {})", self.pid, self.start_time)
    }
}

/// Whether a `/proc` state letter means the process has ended.
pub(crate) fn is_ended(state: char) -> bool {
    matches!(state, 'Z' | 'X' | 'x')
}

/// Reads and parses `/proc/<pid>/stat`; none if the process does not exist or the file
/// cannot be understood.
pub(crate) fn read_stat(pid: i32) -> Option<StatFields> {
    if pid <= 0 {
        return None;
    }
    let text = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_stat(&text)
}

/// Parses the text of `/proc/<pid>/stat`. The command name (field 2) sits in parentheses
/// and may itself hold spaces and parentheses, so fields are counted after the last `)`.
pub(crate) fn parse_stat(text: &str) -> Option<StatFields> {
    let close = text.rfind(')')?;
    let mut rest = text.get(close + 1..)?.split_ascii_whitespace();
    // `rest` starts at field 3.
    let state = rest.next()?.chars().next()?;
    let _ppid = rest.next()?;
    let pgrp = rest.next()?.parse().ok()?;
    // Field 22 is the 20th field after the command name.
    let start_time = rest.nth(22 - 6)?.parse().ok()?;
    Some(StatFields {
        state,
        pgrp,
        start_time,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLAIN: &str = "5117 (cat) R 5113 5113 3667 0 -1 4194304 117 0 1 0 0 0 0 0 20 0 1 0 \
                         399479 3133440 414 18446744073709551615 93889908060 0 0 0 0 0 0 0 0 0\n";

    #[test]
    fn parses_state_group_and_start_time() {
        let stat = parse_stat(PLAIN).expect("parses");
        assert_eq!(
            stat,
            StatFields {
                state: 'R',
                pgrp: 5113,
                start_time: 399479
            }
        );
    }

    #[test]
    fn command_names_with_spaces_and_parentheses_do_not_shift_fields() {
        let tricky = PLAIN.replace("(cat)", "(a) Z 1 2 (b c))");
        let stat = parse_stat(&tricky).expect("parses");
        assert_eq!(stat.state, 'R');
        assert_eq!(stat.pgrp, 5113);
        assert_eq!(stat.start_time, 399479);
    }

    #[test]
    fn truncated_or_garbled_text_is_rejected() {
        assert_eq!(parse_stat(""), None);
        assert_eq!(parse_stat("5117 cat R 1 2"), None);
        assert_eq!(parse_stat("5117 (cat) R 5113 5113 3667"), None);
        assert_eq!(parse_stat(&PLAIN.replace("399479", "soon")), None);
    }

    #[test]
    fn this_process_round_trips() {
        let me = i32::try_from(std::process::id()).expect("pid fits");
        let id = ProcessId::of(me).expect("we exist");
        assert!(id.is_alive_and_same());
        let other = ProcessId {
            start_time: id.start_time + 1,
            ..id
        };
        assert!(!other.is_alive_and_same());
        assert_eq!(ProcessId::of(-1), None);
    }

    #[test]
    fn a_process_started_when_the_wall_clock_says() {
        let before = SystemTime::now();
        let mut child = std::process::Command::new("/bin/sleep")
            .arg("5")
            .spawn()
            .expect("spawn sleep");
        let pid = i32::try_from(child.id()).expect("pid fits");
        let started = ProcessId::of(pid).and_then(|id| id.started_at());
        let _ = child.kill();
        let _ = child.wait();
        let started = started.expect("a start time");
        // Ticks are 10 ms on most systems; allow for them and for a slow machine.
        let early = before - Duration::from_millis(100);
        let late = SystemTime::now() + Duration::from_millis(100);
        assert!(
            started >= early && started <= late,
            "{started:?} is not between {early:?} and {late:?}"
        );
    }
}
