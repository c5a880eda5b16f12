//! Compiled components on disk, so a restart does not recompile.
//!
//! A cache entry is named by the SHA-256 of the component's bytes and a hash of the engine's
//! compatibility (wasmtime version and every setting that changes generated code), so a
//! changed file or an upgraded host never loads stale machine code. Entries are written to a
//! temporary file and renamed into place. A missing, foreign or corrupt entry is simply
//! compiled again. This module owns only that directory.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

/// Where compiled components live.
#[derive(Debug, Clone)]
pub struct ComponentCache {
    dir: Option<PathBuf>,
    engine_key: String,
}

/// The hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

impl ComponentCache {
    /// A cache in `dir` (created on first write); `None` disables caching.
    pub fn new(dir: Option<PathBuf>, engine: &Engine) -> Self {
        let mut hasher = DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        ComponentCache {
            dir,
            engine_key: format!("{:016x}", hasher.finish()),
        }
    }

    fn entry(&self, sha256: &str) -> Option<PathBuf> {
        self.dir
            .as_ref()
            .map(|d| d.join(format!("{sha256}-{}.cwasm", self.engine_key)))
    }

    /// The compiled component for `bytes` (whose hash is `sha256`): from the cache when a
    /// valid entry exists, otherwise compiled and stored. Compilation is CPU-heavy: call this
    /// off the async runtime.
    pub fn load(&self, engine: &Engine, bytes: &[u8], sha256: &str) -> wasmtime::Result<Component> {
        let entry = self.entry(sha256);
        if let Some(path) = entry.as_deref()
            && path.is_file()
        {
            match deserialize(engine, path) {
                Ok(component) => return Ok(component),
                Err(e) => {
                    tracing::warn!(path = %path.display(), "discarding unusable cache entry: {e:#}");
                    let _ = std::fs::remove_file(path);
                }
            }
        }
        let component = Component::new(engine, bytes)?;
        if let Some(path) = entry.as_deref()
            && let Err(e) = store(&component, path)
        {
            tracing::warn!(path = %path.display(), "could not cache compiled component: {e:#}");
        }
        Ok(component)
    }
}

#[allow(unsafe_code)]
fn deserialize(engine: &Engine, path: &Path) -> wasmtime::Result<Component> {
    // Read into memory rather than `deserialize_file`, which maps the file: a mapped file
    // truncated by someone else would crash the whole host with SIGBUS.
    let bytes = std::fs::read(path)?;
    // SAFETY: `deserialize` trusts the bytes to be machine code wasmtime produced. Entries
    // are only ever written by `store` below, into the host's own data directory, under a
    // name that includes the engine's compatibility hash; wasmtime additionally checks the
    // header and refuses data from another version or configuration. Anyone able to write
    // there could already replace the host binary itself.
    unsafe { Component::deserialize(engine, &bytes) }
}

fn store(component: &Component, path: &Path) -> wasmtime::Result<()> {
    let dir = path
        .parent()
        .ok_or_else(|| wasmtime::format_err!("cache entry has no directory"))?;
    std::fs::create_dir_all(dir)?;
    let bytes = component.serialize()?;
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}
