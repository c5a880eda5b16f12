//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use garrison::adapters::{AdapterRuntime, SandboxConfig, WASM_BUILD_DIR};

/// Bytes of a component built from `adapters-wasm/` (e.g. "garrison_fixture_spin").
pub fn wasm(name: &str) -> Vec<u8> {
    std::fs::read(wasm_path(name)).unwrap_or_else(|e| panic!("fixture {name}: {e}"))
}

/// Path of a component built from `adapters-wasm/`.
pub fn wasm_path(name: &str) -> PathBuf {
    Path::new(WASM_BUILD_DIR).join(format!("{name}.wasm"))
}

/// A runtime with default limits except the deadline, and no component cache.
pub fn runtime_with_deadline(deadline: Duration) -> AdapterRuntime {
    let config = SandboxConfig {
        call_deadline: deadline,
        max_instances: 64,
        ..SandboxConfig::default()
    };
    let runtime = AdapterRuntime::new(config, None).expect("runtime");
    runtime.load_builtins().expect("built-ins load");
    runtime
}

/// The `garrison` binary, built on first use (cargo only exposes binaries of the package
/// under test to its tests, and the binary belongs to the `garrison` package).
pub fn garrison_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        // Test executables live in <target>/<profile>/deps/.
        let exe = std::env::current_exe().expect("test executable path");
        let profile_dir = exe
            .parent()
            .and_then(Path::parent)
            .expect("test binary in <target>/<profile>/deps");
        let target_dir = profile_dir.parent().expect("profile dir in a target dir");
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut build = Command::new(cargo);
        build
            .args(["build", "--quiet", "-p", "garrison", "--bin", "garrison"])
            .arg("--target-dir")
            .arg(target_dir)
            .current_dir(env!("CARGO_MANIFEST_DIR"));
        if profile_dir.ends_with("release") {
            build.arg("--release");
        }
        let status = build.status().expect("run cargo build");
        assert!(status.success(), "building the garrison binary failed");
        profile_dir.join("garrison")
    })
}

/// Runs `garrison ARGS…` and returns (exit success, stdout, stderr).
pub fn garrison(args: &[&str]) -> (bool, String, String) {
    let output = Command::new(garrison_bin())
        .args(args)
        .env_remove("GARRISON_LOG")
        .output()
        .expect("run garrison");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}
