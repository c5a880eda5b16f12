//! Builds the adapter components (`adapters-wasm/`, its own workspace) for `wasm32-wasip2`
//! so that a plain `cargo build` of the host embeds current built-in adapters.
//!
//! The nested cargo uses its own target directory, so it never waits on the lock of the build
//! that runs this script, and it shares the outer build's jobserver. Flags meant for the host
//! (RUSTFLAGS, clippy's wrapper) are not passed on.

use std::env;
use std::path::{Path, PathBuf};
use std::process::{Command, exit};

const TARGET: &str = "wasm32-wasip2";

fn main() {
    let manifest_dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let root = manifest_dir
        .parent()
        .expect("host/ lives in the workspace root");
    let adapters = root.join("adapters-wasm");

    embed_web(&root.join("web"));
    watch(&adapters);
    println!("cargo::rerun-if-changed={}", root.join("wit").display());
    println!("cargo::rerun-if-env-changed=CARGO_TARGET_DIR");

    let rustc = env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    if !target_installed(&rustc) {
        println!(
            "cargo::error=the {TARGET} target is missing: run `rustup target add {TARGET}` and build again"
        );
        exit(0);
    }

    let target_dir = env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"))
        .join("adapters-wasm");
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    // Run from the adapters' directory so their `.cargo/config.toml` applies.
    cmd.current_dir(&adapters)
        .args(["build", "--release", "--target", TARGET])
        .arg("--manifest-path")
        .arg(adapters.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(&target_dir);
    // Exactly what the host needs: the built-ins it embeds (and, for tests, the fixtures).
    let builtin = match builtin_list(&adapters.join("builtin.txt")) {
        Ok(list) => list,
        Err(e) => {
            println!("cargo::error=adapters-wasm/builtin.txt: {e}");
            exit(0);
        }
    };
    for (package, _) in &builtin {
        cmd.args(["-p", package]);
    }
    // The fixtures (hostile and test components) are for tests, which build in the debug
    // profile; a release build of the host (what users run) does not spend time on them.
    if env::var("PROFILE").as_deref() == Ok("debug") {
        for fixture in fixtures(&adapters) {
            cmd.args(["-p", &fixture]);
        }
    }
    for var in [
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTC_WORKSPACE_WRAPPER",
        "RUSTC_WRAPPER",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
    ] {
        cmd.env_remove(var);
    }
    let status = match cmd.status() {
        Ok(status) => status,
        Err(e) => {
            println!("cargo::error=could not run cargo to build the adapters: {e}");
            exit(0);
        }
    };
    if !status.success() {
        println!(
            "cargo::error=building the adapters in adapters-wasm/ for {TARGET} failed (see above)"
        );
        exit(0);
    }

    let out = target_dir.join(TARGET).join("release");
    println!("cargo::rustc-env=GARRISON_WASM_DIR={}", out.display());

    // The embedding table, generated from the list so it lives in one place.
    let mut table = String::from("&[\n");
    for (package, name) in &builtin {
        let artifact = out.join(format!("{}.wasm", package.replace('-', "_")));
        table.push_str(&format!(
            "    ({name:?}, include_bytes!({:?})),\n",
            artifact.display().to_string()
        ));
    }
    table.push_str("]\n");
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("set by cargo"));
    if let Err(e) = std::fs::write(out_dir.join("builtin_adapters.rs"), table) {
        println!("cargo::error=cannot write the built-in adapter table: {e}");
    }
}

/// Package names of the test fixtures (`fixtures/<dir>` is `garrison-fixture-<dir>`).
fn fixtures(adapters: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(adapters.join("fixtures"))
        .map(|entries| {
            entries
                .flatten()
                .filter(|e| e.path().join("Cargo.toml").is_file())
                .map(|e| format!("garrison-fixture-{}", e.file_name().to_string_lossy()))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// Asks cargo to rerun this script when anything in the adapters workspace changes, except
/// build output.
fn watch(adapters: &Path) {
    let Ok(entries) = std::fs::read_dir(adapters) else {
        return;
    };
    for entry in entries.flatten() {
        if entry.file_name() != "target" {
            println!("cargo::rerun-if-changed={}", entry.path().display());
        }
    }
}

/// Whether the standard library for the wasm target is installed for this compiler.
fn target_installed(rustc: &std::ffi::OsStr) -> bool {
    let Ok(output) = Command::new(rustc)
        .args(["--print", "target-libdir", "--target", TARGET])
        .output()
    else {
        return false;
    };
    let libdir = String::from_utf8_lossy(&output.stdout);
    output.status.success() && Path::new(libdir.trim()).is_dir()
}

/// Reads `builtin.txt`: `<package> <file name>` per line, `#` comments.
fn builtin_list(path: &Path) -> Result<Vec<(String, String)>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(
            |line| match line.split_whitespace().collect::<Vec<_>>()[..] {
                [package, name] => Ok((package.to_string(), name.to_string())),
                _ => Err(format!("expected `<package> <file name>`, got {line:?}")),
            },
        )
        .collect()
}

/// File names the dashboard serves, by extension; anything else under `web/` (scripts,
/// checksums, licences) stays out of the binary.
const WEB_EXTENSIONS: &[&str] = &["html", "js", "mjs", "css", "svg", "png", "ico", "txt"];

/// Writes `$OUT_DIR/web_assets.rs`: a table `(path relative to web/, include_bytes!(file))` of
/// every dashboard file, sorted, so the binary serves `web/` without reading the disk.
fn embed_web(web: &Path) {
    println!("cargo::rerun-if-changed={}", web.display());
    let mut files = Vec::new();
    collect_web(web, web, &mut files);
    files.sort();
    let mut table = String::from("&[\n");
    for (relative, path) in &files {
        table.push_str(&format!(
            "    ({relative:?}, include_bytes!({:?})),\n",
            path.display().to_string()
        ));
    }
    table.push_str("]\n");
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("set by cargo"));
    if let Err(e) = std::fs::write(out_dir.join("web_assets.rs"), table) {
        println!("cargo::error=cannot write the dashboard's asset table: {e}");
    }
}

fn collect_web(root: &Path, dir: &Path, files: &mut Vec<(String, PathBuf)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            println!("cargo::rerun-if-changed={}", path.display());
            collect_web(root, &path, files);
            continue;
        }
        let served = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| WEB_EXTENSIONS.contains(&e));
        if let (true, Ok(relative)) = (served, path.strip_prefix(root)) {
            let relative = relative.to_string_lossy().replace('\\', "/");
            files.push((relative, path));
        }
    }
}
