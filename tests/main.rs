//! Garrison's integration tests, in one test binary: every module below used to be a binary
//! of its own, and each linked the whole host (wasmtime and cranelift included). One binary
//! links it once. Run one area with a filter, e.g. `cargo test -p garrison-tests -- bans::`.

mod common;

mod api_content;
mod api_servers;
mod arma3;
mod bans;
mod cli;
mod contract_versions;
mod demo;
mod dropin;
mod host_restart;
mod instance_pool;
mod l4d2;
mod live;
mod runtimes;
mod sandbox;
mod security;
mod servers;
mod tenants;
mod users;
