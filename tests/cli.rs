//! `garrison adapter …`: the adapter authors' tools, run as a user would run them.

mod common;

use common::{garrison, wasm_path};

#[test]
fn check_accepts_the_builtin_adapter() {
    let path = wasm_path("garrison_adapter_generic");
    let (ok, out, err) = garrison(&["adapter", "check", path.to_str().expect("utf-8")]);
    assert!(ok, "stderr: {err}");
    assert!(out.starts_with("ok: generic "), "{out}");
}
