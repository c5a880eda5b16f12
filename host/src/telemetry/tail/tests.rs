use std::fs::OpenOptions;
use std::io::Write;
use std::time::{Duration, SystemTime};

use super::*;

fn append(path: &Path, bytes: &[u8]) {
    let mut file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .expect("open for append");
    file.write_all(bytes).expect("append");
}

fn lines(tail: &mut Tail) -> Vec<String> {
    let mut all = Vec::new();
    loop {
        let chunk = tail.read(false).expect("read");
        all.extend(chunk.lines);
        if !chunk.more {
            return all;
        }
    }
}

fn age(path: &Path, by: Duration) {
    let file = OpenOptions::new().write(true).open(path).expect("open");
    file.set_modified(SystemTime::now() - by)
        .expect("set mtime");
}

#[test]
fn appended_lines_come_whole_with_their_end_offsets() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("console.log");
    let mut tail = Tail::new(Target::File(path.clone()), None, None);
    assert_eq!(
        tail.read(false).expect("read"),
        Chunk::default(),
        "no file yet"
    );

    append(&path, b"alpha\nbeta\npart");
    let chunk = tail.read(false).expect("read");
    assert_eq!(chunk.lines, ["alpha", "beta"]);
    assert_eq!(chunk.ends, [6, 11]);
    assert!(!chunk.more && !chunk.finished);
    assert_eq!(
        tail.position().expect("open").offset,
        11,
        "the half line is not consumed"
    );

    append(&path, b"ial\r\n\xffbad\n");
    let chunk = tail.read(false).expect("read");
    assert_eq!(chunk.lines, ["partial", "\u{fffd}bad"]);
    assert_eq!(chunk.ends, [20, 25]);
}

#[test]
fn an_absurdly_long_line_is_cut_with_a_marker_and_the_next_line_survives() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("game.log");
    let mut long = vec![b'x'; MAX_LINE * 3];
    long.extend_from_slice(b"\nnext\n");
    append(&path, &long);
    let mut tail = Tail::new(Target::File(path), None, None);
    let got = lines(&mut tail);
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].len(), MAX_LINE + CUT_MARKER.len());
    assert!(got[0].ends_with(CUT_MARKER));
    assert_eq!(got[1], "next");
}

#[test]
fn a_big_backlog_is_read_in_chunks() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("game.log");
    let line = "0123456789abcdef0123456789abcdef0123456789abcdef012345678\n";
    let count = 3 * READ_CHUNK / line.len();
    append(&path, line.repeat(count).as_bytes());
    let mut tail = Tail::new(Target::File(path), None, None);
    let first = tail.read(false).expect("read");
    assert!(first.more, "one call reads at most one chunk");
    let rest = lines(&mut tail);
    assert_eq!(first.lines.len() + rest.len(), count);
}

#[test]
fn a_truncated_file_is_read_again_from_its_start() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("console.log");
    append(&path, b"one\ntwo\nthree\n");
    let mut tail = Tail::new(Target::File(path.clone()), None, None);
    assert_eq!(lines(&mut tail).len(), 3);
    std::fs::write(&path, b"new\n").expect("truncate and write");
    assert_eq!(lines(&mut tail), ["new"]);
}

#[test]
fn a_replaced_file_is_finished_before_the_new_one_is_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("console.log");
    append(&path, b"old 1\n");
    let mut tail = Tail::new(Target::File(path.clone()), None, None);
    assert_eq!(lines(&mut tail), ["old 1"]);

    // The game writes more, then the log is rotated and a new one started.
    append(&path, b"old 2\nold tail");
    std::fs::rename(&path, dir.path().join("console.1.log")).expect("rotate");
    append(&path, b"new 1\n");

    let chunk = tail.read(false).expect("read");
    assert_eq!(chunk.lines, ["old 2", "old tail"]);
    assert!(chunk.finished, "the old file is done");
    assert!(chunk.more);
    assert_eq!(lines(&mut tail), ["new 1"]);
    let position = tail.position().expect("open");
    assert_eq!(position.path, path);
    assert_eq!(position.offset, 6);
}

#[test]
fn the_newest_matching_file_is_followed_and_leftovers_are_skipped() {
    let dir = tempfile::tempdir().expect("tempdir");
    let old = dir.path().join("server_1.glog");
    append(&old, b"ready from last week\n");
    age(&old, Duration::from_secs(3600));
    append(&dir.path().join("notes.txt"), b"not a log\n");

    let target = Target::Newest {
        dir: dir.path().to_path_buf(),
        pattern: "*.glog".into(),
    };
    let mut tail = Tail::new(
        target,
        None,
        Some(SystemTime::now() - Duration::from_secs(1)),
    );
    assert!(
        lines(&mut tail).is_empty(),
        "an earlier run's log is not replayed"
    );
    append(&old, b"late line\n");
    assert_eq!(
        lines(&mut tail),
        ["late line"],
        "but what it gains now is read"
    );

    let new = dir.path().join("server_2.glog");
    append(&new, b"fresh 1\n");
    let chunk = tail.read(false).expect("read");
    assert!(
        chunk.finished,
        "the old file is finished when a newer one appears"
    );
    assert_eq!(lines(&mut tail), ["fresh 1"]);
    assert_eq!(tail.position().expect("open").path, new);
}

#[test]
fn a_resumed_tail_neither_repeats_nor_skips() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("console.log");
    append(&path, b"a\nb\n");
    let mut tail = Tail::new(Target::File(path.clone()), None, None);
    assert_eq!(lines(&mut tail), ["a", "b"]);
    append(&path, b"c\nhalf");
    let chunk = tail.read(false).expect("read");
    assert_eq!(chunk.lines, ["c"]);
    // Only "a" and "b" were stored before the host went away.
    let stored = Position {
        offset: chunk.ends[0] - 2,
        ..tail.position().expect("open")
    };
    drop(tail);

    append(&path, b" done\n");
    let mut resumed = Tail::new(Target::File(path.clone()), Some(stored), None);
    assert_eq!(lines(&mut resumed), ["c", "half done"]);

    // A position in a file that has since been replaced starts the new file from 0.
    let stale = resumed.position().expect("open");
    std::fs::remove_file(&path).expect("remove");
    append(&path, b"other\n");
    let mut replaced = Tail::new(Target::File(path), Some(stale), None);
    assert_eq!(lines(&mut replaced), ["other"]);
}

#[test]
fn finishing_returns_the_last_line_without_its_newline() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("console.log");
    append(&path, b"whole\nlast words");
    let mut tail = Tail::new(Target::File(path), None, None);
    assert_eq!(lines(&mut tail), ["whole"]);
    let chunk = tail.read(true).expect("read");
    assert_eq!(chunk.lines, ["last words"]);
    assert_eq!(chunk.ends, [16]);
    assert!(chunk.finished);
    assert_eq!(tail.position().expect("open").offset, 16);
}

#[test]
fn wildcards_match_like_a_shell() {
    for (pattern, name, want) in [
        ("*.glog", "gameserver_2024-01-01_10-00-00.glog", true),
        ("*.glog", "server.glog.bak", false),
        ("L*.log", "L0101000.log", true),
        ("L*.log", "console.log", false),
        ("console.log", "console.log", true),
        ("console.?.log", "console.1.log", true),
        ("console.?.log", "console.12.log", false),
        ("*", "", true),
        ("a*b*c", "aXbYbZc", true),
        ("a*b*c", "aXbYbZ", false),
    ] {
        assert_eq!(matches(pattern, name), want, "{pattern} vs {name}");
    }
}
