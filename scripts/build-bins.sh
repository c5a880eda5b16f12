#!/usr/bin/env bash
# Builds the debug `garrison` and `garrison-sim` binaries that the test scripts, the browser
# tests and the integration tests run, with exactly the dependency features of
# `cargo test --workspace`: every package selected, tests included. Building them with
# `-p garrison` alone resolves fewer features (dev-dependencies turn on more of tokio,
# hyper, indexmap, …), which rebuilds most of the dependency tree, wasmtime included, a second
# time. After `cargo test --workspace` this is close to free.
set -euo pipefail
cd "$(dirname "$0")/.."
exec cargo build --quiet --locked --workspace --tests --bins "$@"
