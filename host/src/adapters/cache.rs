//! Compiled components on disk, so a restart does not recompile.
//!
//! A cache entry is named by the SHA-256 of the component's bytes and a hash of the engine's
//! compatibility (wasmtime version and every setting that changes generated code), so a
//! changed file or an upgraded host never loads stale machine code. Entries are written whole
//! through [`crate::files`] (temporary file, fsync, rename). A missing, foreign or corrupt entry is simply
//! compiled again. This module owns only that directory.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

use crate::files;

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

    /// The cache entry's file name for a component hashing to `sha256`.
    fn entry(&self, sha256: &str) -> String {
        format!("{sha256}-{}.cwasm", self.engine_key)
    }

    /// The compiled component for `bytes` (whose hash is `sha256`): from the cache when a
    /// valid entry exists, otherwise compiled and stored. Compilation is CPU-heavy: call this
    /// off the async runtime.
    pub fn load(&self, engine: &Engine, bytes: &[u8], sha256: &str) -> wasmtime::Result<Component> {
        let Some(dir) = self.dir.as_deref() else {
            return Component::new(engine, bytes);
        };
        let name = self.entry(sha256);
        let shown = dir.join(&name);
        let entry = files::RelPath::name(&name)?;
        // A missing directory is simply an empty cache.
        let root = files::Root::open(dir).ok();
        if let Some(root) = &root
            && root
                .metadata(&entry)
                .is_ok_and(|m| m.kind == files::Kind::File)
        {
            match deserialize(engine, root, &entry) {
                Ok(component) => return Ok(component),
                Err(e) => {
                    tracing::warn!(path = %shown.display(), "discarding unusable cache entry: {e:#}");
                    let _ = root.remove_file(&entry);
                }
            }
        }
        let component = Component::new(engine, bytes)?;
        if let Err(e) = store(&component, dir, &entry) {
            tracing::warn!(path = %shown.display(), "could not cache compiled component: {e:#}");
        }
        Ok(component)
    }
}

#[allow(unsafe_code)]
fn deserialize(
    engine: &Engine,
    root: &files::Root,
    entry: &files::RelPath,
) -> wasmtime::Result<Component> {
    // Read into memory rather than `deserialize_file`, which maps the file: a mapped file
    // truncated by someone else would crash the whole host with SIGBUS.
    let bytes = root.read(entry)?;
    // SAFETY: `deserialize` trusts the bytes to be machine code wasmtime produced. Entries
    // are only ever written by `store` below, into the host's own data directory, under a
    // name that includes the engine's compatibility hash; wasmtime additionally checks the
    // header and refuses data from another version or configuration. Anyone able to write
    // there could already replace the host binary itself.
    unsafe { Component::deserialize(engine, &bytes) }
}

/// Writes the compiled `component` as `entry` in `dir` (created when missing) whole: a
/// reader never sees half an entry, and a crash leaves the old one or none.
fn store(component: &Component, dir: &Path, entry: &files::RelPath) -> wasmtime::Result<()> {
    std::fs::create_dir_all(dir)?;
    let bytes = component.serialize()?;
    files::Root::open(dir)?.write_atomic(entry, &bytes, 0o600)?;
    Ok(())
}
