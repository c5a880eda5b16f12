//! The files layer against hostile directories: links planted or swapped in, writes that
//! never finish. Every case runs with `openat2` and with the name-by-name fallback.

use std::path::Path;

use super::stream::{StreamError, write_stream};
use super::*;

const BOTH: [Resolution; 2] = [Resolution::Openat2, Resolution::Walk];

fn rel(path: &str) -> RelPath {
    RelPath::new(path).expect("a valid path")
}

/// `base/root` with `inside.txt`, `sub/kept.txt`, and two links out: `out` → `base/outside`
/// (a directory holding `secret.txt`) and `secret-link` → `base/outside/secret.txt`.
fn hostile(base: &Path) -> std::path::PathBuf {
    let (root, outside) = (base.join("root"), base.join("outside"));
    std::fs::create_dir_all(root.join("sub")).expect("root");
    std::fs::create_dir_all(outside.join("deeper")).expect("outside");
    std::fs::write(outside.join("secret.txt"), b"secret").expect("secret");
    std::fs::write(root.join("inside.txt"), b"inside").expect("inside");
    std::fs::write(root.join("sub/kept.txt"), b"kept").expect("kept");
    std::os::unix::fs::symlink(&outside, root.join("out")).expect("dir link");
    std::os::unix::fs::symlink(outside.join("secret.txt"), root.join("secret-link"))
        .expect("file link");
    root
}

/// What `dir` holds, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("list")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn refused<T: std::fmt::Debug>(result: Result<T, FilesError>, what: &str, how: Resolution) {
    match result {
        Err(e) if e.is_escape() => {}
        other => panic!("{what} ({how:?}) was not refused: {other:?}"),
    }
}

#[test]
fn a_link_leading_out_is_refused_by_every_operation() {
    for how in BOTH {
        let base = tempfile::tempdir().expect("tempdir");
        let root_path = hostile(base.path());
        let outside = base.path().join("outside");
        let root = Root::open_with(&root_path, how).expect("root");

        refused(
            root.read(&rel("out/secret.txt")),
            "read through a dir link",
            how,
        );
        refused(root.read(&rel("secret-link")), "read of a file link", how);
        refused(
            root.open_read_nofollow(&rel("secret-link")),
            "nofollow read",
            how,
        );
        refused(
            root.atomic_file(&rel("out/new.txt"), 0o600),
            "write in a dir link",
            how,
        );
        refused(
            root.write_atomic(&rel("secret-link"), b"x", 0o600),
            "atomic write over a file link",
            how,
        );
        refused(
            root.rename(&rel("out/secret.txt"), &rel("stolen.txt")),
            "rename source",
            how,
        );
        refused(
            root.rename(&rel("inside.txt"), &rel("out/planted.txt")),
            "rename target",
            how,
        );
        refused(root.remove_file(&rel("out/secret.txt")), "delete", how);
        refused(root.remove_dir(&rel("out/deeper")), "rmdir", how);
        refused(
            root.remove_dir_all(&rel("out/deeper")),
            "recursive delete",
            how,
        );
        refused(root.list(&rel("out")), "list", how);
        refused(root.create_dir(&rel("out/made"), 0o700), "mkdir", how);
        refused(
            root.create_dir_all(&rel("out/made/deeper")),
            "mkdir -p",
            how,
        );
        refused(root.metadata(&rel("out/secret.txt")), "metadata", how);
        refused(
            root.metadata(&rel("secret-link")),
            "metadata of a file link",
            how,
        );
        refused(
            root.set_mode(&rel("secret-link"), 0o777),
            "chmod of a file link",
            how,
        );
        refused(root.set_mode(&rel("out/secret.txt"), 0o777), "chmod", how);
        refused(root.subdir(&rel("out")), "a link as a sub-root", how);

        // A link itself may be looked at and removed; what it points at is untouched.
        let link = root.symlink_metadata(&rel("secret-link")).expect("lstat");
        assert_eq!(link.kind, Kind::Symlink);
        root.remove_dir_all(&rel("out")).expect("the link goes");
        root.remove_file(&rel("secret-link"))
            .expect("the link goes");
        assert_eq!(names(&outside), ["deeper", "secret.txt"]);
        assert_eq!(
            std::fs::read(outside.join("secret.txt")).expect("kept"),
            b"secret"
        );
        let mode = std::fs::metadata(outside.join("secret.txt")).expect("meta");
        assert_ne!(
            std::os::unix::fs::PermissionsExt::mode(&mode.permissions()) & 0o777,
            0o777
        );
        assert_eq!(names(&root_path), ["inside.txt", "sub"]);
    }
}

#[test]
fn a_directory_swapped_for_a_link_between_calls_is_refused() {
    for how in BOTH {
        let base = tempfile::tempdir().expect("tempdir");
        let root_path = hostile(base.path());
        let outside = base.path().join("outside");
        let root = Root::open_with(&root_path, how).expect("root");

        assert_eq!(root.read(&rel("sub/kept.txt")).expect("read"), b"kept");
        let held = root.subdir(&rel("sub")).expect("sub-root");
        let mut writer = root
            .atomic_file(&rel("sub/new.txt"), 0o600)
            .expect("writer");
        writer.write_bytes(b"new").expect("write");
        // The game swaps the directory for a link out.
        std::fs::rename(root_path.join("sub"), root_path.join("moved")).expect("move");
        std::os::unix::fs::symlink(&outside, root_path.join("sub")).expect("swap");

        refused(
            root.read(&rel("sub/secret.txt")),
            "read after the swap",
            how,
        );
        refused(
            root.write_atomic(&rel("sub/x.txt"), b"x", 0o600),
            "write after",
            how,
        );
        refused(root.list(&rel("sub")), "list after", how);
        refused(
            root.remove_file(&rel("sub/secret.txt")),
            "delete after",
            how,
        );
        // What was opened before the swap stays with the real directory.
        writer.commit().expect("commit");
        held.write_atomic(&rel("held.txt"), b"h", 0o600)
            .expect("held write");
        assert_eq!(
            names(&root_path.join("moved")),
            ["held.txt", "kept.txt", "new.txt"]
        );
        assert_eq!(names(&outside), ["deeper", "secret.txt"]);
    }
}

#[test]
fn links_inside_the_root_are_followed_only_with_openat2() {
    for how in BOTH {
        let base = tempfile::tempdir().expect("tempdir");
        let root_path = hostile(base.path());
        std::os::unix::fs::symlink("sub/kept.txt", root_path.join("alias")).expect("link");
        let root = Root::open_with(&root_path, how).expect("root");
        let read = root.read(&rel("alias"));
        match how {
            Resolution::Openat2 => assert_eq!(read.expect("followed"), b"kept"),
            Resolution::Walk => refused(read, "any link without openat2", how),
        }
    }
}

#[test]
fn a_write_that_never_commits_leaves_the_old_file() {
    for how in BOTH {
        let base = tempfile::tempdir().expect("tempdir");
        let root_path = hostile(base.path());
        let root = Root::open_with(&root_path, how).expect("root");

        let mut writer = root.atomic_file(&rel("inside.txt"), 0o600).expect("writer");
        writer.write_bytes(b"half of the new").expect("write");
        drop(writer);
        assert_eq!(root.read(&rel("inside.txt")).expect("old"), b"inside");
        assert_eq!(
            names(&root_path),
            ["inside.txt", "out", "secret-link", "sub"]
        );

        // A crash before the rename (nothing runs after it): the old file is intact and the
        // stray temporary file is hidden and named as such.
        let mut writer = root.atomic_file(&rel("inside.txt"), 0o600).expect("writer");
        writer.write_bytes(b"half").expect("write");
        let temp = writer.temp_name().to_string_lossy().into_owned();
        std::mem::forget(writer);
        assert_eq!(root.read(&rel("inside.txt")).expect("old"), b"inside");
        assert!(
            temp.starts_with(".inside.txt.") && temp.ends_with(".garrison-tmp"),
            "{temp}"
        );

        let mut writer = root.atomic_file(&rel("inside.txt"), 0o600).expect("writer");
        writer.write_bytes(b"new").expect("write");
        assert_eq!(
            writer.commit().expect("commit"),
            Committed { replaced: true }
        );
        assert_eq!(root.read(&rel("inside.txt")).expect("new"), b"new");
    }
}

#[test]
fn atomic_writes_set_the_mode_asked_for() {
    for how in BOTH {
        let base = tempfile::tempdir().expect("tempdir");
        let root = Root::open_with(base.path(), how).expect("root");
        root.create_dir_all(&rel("a/b")).expect("dirs");
        root.write_atomic(&rel("a/b/key"), b"k", 0o600)
            .expect("write");
        let meta = root.metadata(&rel("a/b/key")).expect("meta");
        assert_eq!((meta.kind, meta.len, meta.mode), (Kind::File, 1, 0o600));
        root.set_mode(&rel("a/b/key"), 0o640).expect("chmod");
        assert_eq!(root.metadata(&rel("a/b/key")).expect("meta").mode, 0o640);
        let listed = root.list(&rel("a/b")).expect("list");
        assert_eq!(listed.len(), 1);
        assert_eq!(
            (listed[0].name.to_str(), listed[0].kind),
            (Some("key"), Kind::File)
        );
        root.rename(&rel("a/b/key"), &rel("a/key")).expect("rename");
        root.remove_dir_all(&rel("a/b")).expect("rm -r");
        assert_eq!(names(&base.path().join("a")), ["key"]);
        root.remove_file(&rel("a/key")).expect("rm");
        root.remove_dir(&rel("a")).expect("rmdir");
        assert!(root.metadata(&rel("a")).expect_err("gone").is_not_found());
    }
}

#[tokio::test]
async fn a_streamed_write_commits_only_a_whole_body() {
    for how in BOTH {
        let base = tempfile::tempdir().expect("tempdir");
        let root_path = hostile(base.path());
        let root = Root::open_with(&root_path, how).expect("root");
        let chunks = |parts: Vec<Result<&'static [u8], String>>| futures_util::stream::iter(parts);

        let broke = write_stream(
            root.clone(),
            rel("inside.txt"),
            0o600,
            100,
            chunks(vec![Ok(&b"new"[..]), Err("reset".into())]),
        )
        .await;
        assert!(matches!(broke, Err(StreamError::Body(_))), "{broke:?}");
        let large = write_stream(
            root.clone(),
            rel("inside.txt"),
            0o600,
            4,
            chunks(vec![Ok(&b"new"[..]), Ok(&b"more"[..])]),
        )
        .await;
        assert!(matches!(large, Err(StreamError::TooLarge(4))), "{large:?}");
        let outside = write_stream(
            root.clone(),
            rel("out/new.txt"),
            0o600,
            100,
            chunks(vec![Ok(&b"new"[..])]),
        )
        .await;
        assert!(
            matches!(&outside, Err(StreamError::Files(e)) if e.is_escape()),
            "{outside:?}"
        );
        assert_eq!(root.read(&rel("inside.txt")).expect("old"), b"inside");
        assert_eq!(
            names(&root_path),
            ["inside.txt", "out", "secret-link", "sub"]
        );

        let written = write_stream(
            root.clone(),
            rel("inside.txt"),
            0o600,
            100,
            chunks(vec![Ok(&b"new"[..]), Ok(&b" file"[..])]),
        )
        .await
        .expect("written");
        assert_eq!((written.size, written.replaced), (8, true));
        assert_eq!(root.read(&rel("inside.txt")).expect("new"), b"new file");
        assert_eq!(
            names(&base.path().join("outside")),
            ["deeper", "secret.txt"]
        );
    }
}
