//! `garrison adapter …`: the adapter authors' tools, run as a user would run them.

use crate::common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::{garrison, garrison_bin, garrison_with_env, wasm, wasm_path};
use serde_json::Value;

fn path(name: &str) -> String {
    wasm_path(name).display().to_string()
}

#[test]
fn check_accepts_the_builtin_adapter_and_describes_it() {
    let (ok, out, err) = garrison(&["adapter", "check", &path("garrison_adapter_generic")]);
    assert!(ok, "stderr: {err}");
    assert!(out.starts_with("ok: generic 0.1.0"), "{out}");
    assert!(out.contains("capabilities: logs, ready_detection"), "{out}");
    assert!(out.contains("executable (text, required)"), "{out}");
    assert!(out.contains("parser       ok:"), "{out}");
}

#[test]
fn check_rejects_garbage_wrong_worlds_and_hostile_adapters() {
    let garbage = tempfile::NamedTempFile::new().expect("tmp");
    std::fs::write(garbage.path(), b"GIF89a not wasm at all").expect("write");
    let garbage = garbage.path().display().to_string();
    let cases = [
        (garbage.clone(), "not a valid WebAssembly component"),
        (
            path("garrison_fixture_wrong_world"),
            "implements no garrison:adapter/game-adapter world this host serves (0.2.0 or 0.1.0)",
        ),
        (
            path("garrison_fixture_bad_describe"),
            "describe() failed: the adapter crashed",
        ),
        (
            path("garrison_fixture_spin"),
            "validate misbehaved: the adapter did not answer within 100 ms",
        ),
        (
            path("garrison_fixture_hog"),
            "validate misbehaved: the adapter exceeded its memory limit of 64 MiB",
        ),
        (
            path("garrison_fixture_trap"),
            "validate misbehaved: the adapter crashed",
        ),
        (path("garrison_fixture_flood"), "render misbehaved"),
    ];
    for (file, expected) in cases {
        // The memory hog must reach its memory limit before the call deadline, also on a
        // busy machine: it gets a long deadline (the spinner shows the deadline).
        let env: &[(&str, &str)] = if file.contains("hog") {
            &[("GARRISON_ADAPTER_DEADLINE_MS", "10000")]
        } else {
            &[]
        };
        let (ok, out, err) = garrison_with_env(&["adapter", "check", &file], env);
        assert!(!ok, "{file} must be rejected; stdout: {out}");
        assert!(err.starts_with("rejected: "), "{err}");
        assert!(
            err.contains(expected),
            "{file}: expected {expected:?} in {err:?}"
        );
        assert_eq!(
            err.trim_end().lines().count(),
            1,
            "one readable line: {err:?}"
        );
    }
    let (ok, _, err) = garrison(&["adapter", "check", "/nonexistent/x.wasm"]);
    assert!(!ok);
    assert!(err.contains("cannot read /nonexistent/x.wasm"), "{err}");
}

#[test]
fn list_shows_builtin_drop_in_and_rejected_adapters() {
    let data = tempfile::tempdir().expect("tmp");
    let dropins = data.path().join("adapters");
    std::fs::create_dir_all(&dropins).expect("mkdir");
    std::fs::write(dropins.join("echo.wasm"), wasm("garrison_fixture_echo")).expect("write");
    std::fs::write(dropins.join("junk.wasm"), b"junk").expect("write");
    let data_dir = data.path().display().to_string();
    let (ok, out, err) = garrison(&["adapter", "list", "--data-dir", &data_dir]);
    assert!(ok, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    let line = |id: &str| {
        lines
            .iter()
            .find(|l| l.starts_with(&format!("{id} ")))
            .copied()
    };
    assert!(
        line("fixture-echo").is_some_and(|l| l.contains("drop-in")),
        "{out}"
    );
    for (file, _) in garrison::adapters::BUILTIN {
        let id = file.trim_end_matches(".wasm");
        assert!(
            line(id).is_some_and(|l| l.contains("built-in")),
            "{id} missing: {out}"
        );
    }
    assert_eq!(lines.len(), garrison::adapters::BUILTIN.len() + 2, "{out}");
    let last = lines.last().copied().unwrap_or_default();
    assert!(
        last.starts_with("rejected") && last.contains("junk.wasm"),
        "{out}"
    );
}

#[test]
fn logs_prints_one_json_event_per_line() {
    let dir = tempfile::tempdir().expect("tmp");
    let settings = dir.path().join("settings.json");
    std::fs::write(
        &settings,
        r#"{"executable": "/bin/true", "ready_pattern": "^Server ready on port \\d+$"}"#,
    )
    .expect("write");
    let log = dir.path().join("console.log");
    let mut bytes = b"starting\nWARNING: slow disk\r\nServer ready on port 2302\n".to_vec();
    bytes.extend_from_slice(b"bad \xff\xfe bytes\n");
    std::fs::write(&log, &bytes).expect("write");
    let (ok, out, err) = garrison(&[
        "adapter",
        "logs",
        "generic",
        &log.display().to_string(),
        "--settings",
        &settings.display().to_string(),
        "--data-dir",
        &dir.path().display().to_string(),
    ]);
    assert!(ok, "{err}");
    let events: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    assert_eq!(events.len(), 4, "{out}");
    assert_eq!(events[0]["text"], "starting");
    assert_eq!(events[1]["level"], "warning");
    assert_eq!(events[1]["text"], "WARNING: slow disk", "CR stripped");
    assert_eq!(events[2]["events"][0]["type"], "server_ready");
    assert_eq!(
        events[3]["text"], "bad \u{fffd}\u{fffd} bytes",
        "invalid UTF-8 decoded lossily"
    );
    assert!(events[0].get("events").is_none(), "no empty event lists");
}

#[test]
fn logs_reads_standard_input_and_accepts_a_wasm_path() {
    let mut child = Command::new(garrison_bin())
        .args(["adapter", "logs", &path("garrison_adapter_generic")])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let lines: String = (0..2500).map(|i| format!("line {i}\n")).collect();
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(lines.as_bytes())
        .expect("write");
    let output = child.wait_with_output().expect("wait");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let out = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        out.lines().count(),
        2500,
        "every line across several batches"
    );
    assert!(out.lines().last().is_some_and(|l| l.contains("line 2499")));
}

#[test]
fn render_prints_files_and_launch_spec_with_secrets_masked() {
    let dir = tempfile::tempdir().expect("tmp");
    let settings = dir.path().join("settings.json");
    std::fs::write(
        &settings,
        r#"{"name": "My Server", "password": "s3cret-Pa55", "port": 2302}"#,
    )
    .expect("write");
    let (ok, out, err) = garrison(&[
        "adapter",
        "render",
        &path("garrison_fixture_echo"),
        &settings.display().to_string(),
        "--data-dir",
        &dir.path().display().to_string(),
    ]);
    assert!(ok, "{err}");
    assert!(!out.contains("s3cret-Pa55"), "secret leaked: {out}");
    assert!(!err.contains("s3cret-Pa55"), "secret leaked: {err}");
    let report: Value = serde_json::from_str(&out).expect("JSON report");
    assert_eq!(report["settings"]["password"], "********");
    assert_eq!(report["settings"]["name"], "My Server");
    assert_eq!(report["files"][0]["path"], "echo.cfg");
    assert_eq!(report["files"][0]["root"], "instance");
    assert_eq!(
        report["files"][0]["contents"],
        "name = \"My Server\"\npassword = \"********\"\n"
    );
    let args = report["launch"]["args"].as_array().expect("args");
    assert_eq!(args.len(), 3, "arguments are never split");
    assert_eq!(args[2], "-password=********");
    assert_eq!(report["stop"]["steps"][0]["command"], "shutdown ********");
}

#[test]
fn render_reports_every_invalid_setting_by_field() {
    let dir = tempfile::tempdir().expect("tmp");
    let settings = dir.path().join("settings.json");
    let data_dir = dir.path().display().to_string();
    let echo = path("garrison_fixture_echo");
    let run = |json: &str| {
        std::fs::write(&settings, json).expect("write");
        garrison(&[
            "adapter",
            "render",
            &echo,
            &settings.display().to_string(),
            "--data-dir",
            &data_dir,
        ])
    };
    let (ok, _, err) = run(r#"{"port": 99999, "colour": "red"}"#);
    assert!(!ok);
    for expected in [
        "colour: Unknown setting",
        "name: This setting is required",
        "password: This setting is required",
        "port: Must be between 1 and 65535",
    ] {
        assert!(err.contains(expected), "expected {expected:?} in {err}");
    }
    // The adapter's own validation runs once the schema checks pass.
    let (ok, _, err) = run(r#"{"name": "!bang", "password": "x"}"#);
    assert!(!ok);
    assert!(err.contains("name: Names may not start with !"), "{err}");
    let (ok, _, err) = run("{ not json");
    assert!(!ok);
    assert!(err.contains("is not valid JSON"), "{err}");
}
