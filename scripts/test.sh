#!/usr/bin/env bash
# Runs every test of the project: the host workspace (unit tests, integration tests with the
# adapter fixtures and the CLI), the adapters' own workspace natively, the API fuzzer, the
# generated-client round trip and the dashboard's browser tests.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo test --workspace --locked
cargo test --workspace --locked --manifest-path adapters-wasm/Cargo.toml
# The REST API against its OpenAPI document, as a viewer, an operator and an administrator:
# answers conform to the document, no input causes a 5xx, sessions survive, no panic.
./scripts/fuzz-api.sh
# A Python client generated from the live document does an operator's whole workflow.
./scripts/client-roundtrip.sh
# The dashboard in Debian's chromium (playwright-core), against the debug binaries.
./scripts/build-bins.sh
./tests/browser/run.sh
