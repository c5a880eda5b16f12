//! Shared helpers for Garrison's benchmarks (the benchmarks themselves are the `[[bench]]`
//! targets beside this file).

use std::path::{Path, PathBuf};
use std::process::Command;

/// Builds the `garrison` binary in the release profile and returns its path.
pub fn release_garrison() -> PathBuf {
    let exe = std::env::current_exe().expect("bench executable path");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("bench binary in <target>/<profile>/deps");
    let target_dir = profile_dir.parent().expect("target dir");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .args([
            "build",
            "--quiet",
            "--release",
            "-p",
            "garrison",
            "--bin",
            "garrison",
        ])
        .arg("--target-dir")
        .arg(target_dir)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .status()
        .expect("run cargo build");
    assert!(status.success(), "building garrison failed");
    target_dir.join("release").join("garrison")
}

/// `n` console lines shaped like a busy game server's output.
pub fn console_lines(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| match i % 10 {
            0 => format!("[{i:06}] WARNING: tick took {} ms", i % 97),
            5 => format!(
                "[{i:06}] Player{} connected from 127.0.0.1:{}",
                i % 64,
                2000 + i % 500
            ),
            _ => format!(
                "[{i:06}] Simulation step {i} completed, entities={} load={:.2}",
                i % 2048,
                (i % 100) as f64 / 100.0
            ),
        })
        .collect()
}
