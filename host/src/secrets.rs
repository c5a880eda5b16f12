//! Secrets at rest: passwords in server settings (RCon passwords, Steam credentials, any field
//! an adapter's schema marks `secret`) are sealed with XChaCha20-Poly1305 before they reach the
//! database, and opened only where they are needed (rendering a server's config).
//!
//! The key is 32 random bytes kept in `<data-dir>/secret.key` (created on first start, mode
//! 0600), or given base64-encoded in `GARRISON_SECRET_KEY`. A sealed value is
//! `enc:v1:<base64(nonce ‖ ciphertext)>`; the field's key is bound in as associated data, so a
//! sealed value cannot be moved to another field. Nothing here logs a secret, and `Debug`
//! never shows the key.

use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use serde_json::{Map, Value, json};

use crate::adapters::model::{Field, FieldKind};

/// Prefix of a sealed value.
const PREFIX: &str = "enc:v1:";
/// Environment variable that may hold the key (base64 of 32 bytes).
pub const KEY_ENV: &str = "GARRISON_SECRET_KEY";
/// File name of the key in the data directory.
pub const KEY_FILE: &str = "secret.key";

/// Why a secret could not be handled. Messages never contain secret material.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// The key file or variable is unusable.
    #[error("the secret key is unusable: {0}")]
    Key(String),
    /// Reading or writing the key file failed.
    #[error("secret key file: {0}")]
    Io(#[from] std::io::Error),
    /// A sealed value is malformed, or was sealed with another key or for another field.
    #[error("a stored secret cannot be opened (wrong key, or the data was altered)")]
    Open,
}

/// Seals and opens secrets with the host's key.
#[derive(Clone)]
pub struct SecretBox {
    cipher: XChaCha20Poly1305,
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox(********)")
    }
}

impl SecretBox {
    /// Uses `GARRISON_SECRET_KEY` if set, else `<data_dir>/secret.key`, creating the file with
    /// a new random key (mode 0600) on first use.
    pub fn load_or_create(data_dir: &Path) -> Result<Self, SecretError> {
        if let Ok(encoded) = std::env::var(KEY_ENV) {
            return Self::from_base64(encoded.trim());
        }
        let path = data_dir.join(KEY_FILE);
        match std::fs::read_to_string(&path) {
            Ok(encoded) => Self::from_base64(encoded.trim()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = XChaCha20Poly1305::generate_key(&mut OsRng);
                write_private(&path, B64.encode(key).as_bytes())?;
                Ok(SecretBox {
                    cipher: XChaCha20Poly1305::new(&key),
                })
            }
            Err(e) => Err(e.into()),
        }
    }

    /// A box with this key (base64 of 32 bytes).
    pub fn from_base64(encoded: &str) -> Result<Self, SecretError> {
        let bytes = B64
            .decode(encoded)
            .map_err(|_| SecretError::Key("not base64".into()))?;
        let cipher = XChaCha20Poly1305::new_from_slice(&bytes)
            .map_err(|_| SecretError::Key(format!("expected 32 bytes, got {}", bytes.len())))?;
        Ok(SecretBox { cipher })
    }

    /// Seals `plaintext` for the field `field`.
    pub fn seal(&self, field: &str, plaintext: &str) -> String {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let payload = Payload {
            msg: plaintext.as_bytes(),
            aad: field.as_bytes(),
        };
        // Encryption with a valid key and a fresh nonce cannot fail for in-memory data.
        let ciphertext = self.cipher.encrypt(&nonce, payload).unwrap_or_default();
        let mut sealed = nonce.to_vec();
        sealed.extend_from_slice(&ciphertext);
        format!("{PREFIX}{}", B64.encode(sealed))
    }

    /// Opens a value sealed for the field `field`.
    pub fn open(&self, field: &str, sealed: &str) -> Result<String, SecretError> {
        let encoded = sealed.strip_prefix(PREFIX).ok_or(SecretError::Open)?;
        let bytes = B64.decode(encoded).map_err(|_| SecretError::Open)?;
        if bytes.len() < 24 {
            return Err(SecretError::Open);
        }
        let (nonce, ciphertext) = bytes.split_at(24);
        let payload = Payload {
            msg: ciphertext,
            aad: field.as_bytes(),
        };
        let plaintext = self
            .cipher
            .decrypt(XNonce::from_slice(nonce), payload)
            .map_err(|_| SecretError::Open)?;
        String::from_utf8(plaintext).map_err(|_| SecretError::Open)
    }

    /// Seals, in place, every secret field of a settings object that is not sealed yet. An
    /// empty secret (cleared) stays empty, so that it shows as not set.
    pub fn seal_settings(&self, schema: &[Field], settings: &mut Map<String, Value>) {
        for field in secret_fields(schema) {
            if let Some(Value::String(value)) = settings.get_mut(&field.key)
                && !value.is_empty()
                && !is_sealed(value)
            {
                *value = self.seal(&field.key, value);
            }
        }
    }

    /// Opens, in place, every sealed secret field of a settings object.
    pub fn open_settings(
        &self,
        schema: &[Field],
        settings: &mut Map<String, Value>,
    ) -> Result<(), SecretError> {
        for field in secret_fields(schema) {
            if let Some(Value::String(value)) = settings.get_mut(&field.key)
                && is_sealed(value)
            {
                *value = self.open(&field.key, value)?;
            }
        }
        Ok(())
    }
}

/// Whether a stored string is a sealed secret.
pub fn is_sealed(value: &str) -> bool {
    value.starts_with(PREFIX)
}

/// The settings as they may be shown: every secret field replaced by `{"set": true|false}`.
pub fn masked_settings(schema: &[Field], settings: &Map<String, Value>) -> Map<String, Value> {
    let mut masked = settings.clone();
    for field in secret_fields(schema) {
        let set = matches!(settings.get(&field.key), Some(Value::String(s)) if !s.is_empty());
        masked.insert(field.key.clone(), json!({ "set": set }));
    }
    masked
}

fn secret_fields(schema: &[Field]) -> impl Iterator<Item = &Field> {
    schema
        .iter()
        .filter(|f| matches!(f.kind, FieldKind::Secret))
}

/// Writes a file readable only by its owner, atomically (temporary file, fsync, rename; see
/// [`crate::files::AtomicFile`]), creating its directory when missing.
pub(crate) fn write_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    crate::files::write_file_in_own_dir(path, contents, 0o600).map_err(std::io::Error::from)
}

/// `bytes` random bytes from the operating system, as lowercase hex (for generated
/// passwords and tokens).
pub fn random_hex(bytes: usize) -> String {
    use chacha20poly1305::aead::rand_core::RngCore;
    let mut buf = vec![0u8; bytes];
    OsRng.fill_bytes(&mut buf);
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

/// What a secret shows as wherever text reaches a person (job logs, command lines shown,
/// the CLI's rendered files). The API shows secret settings as `{"set": …}` instead.
pub const MASK: &str = "********";

/// Hides secrets in text and bytes meant for people. Longest first, so that a secret
/// containing another is masked whole; empty secrets are ignored.
#[derive(Debug, Clone, Default)]
pub struct Masker {
    secrets: Vec<String>,
}

impl Masker {
    /// A masker for these secrets.
    pub fn new<S: AsRef<str>>(secrets: impl IntoIterator<Item = S>) -> Self {
        let mut secrets: Vec<String> = secrets
            .into_iter()
            .map(|s| s.as_ref().to_owned())
            .filter(|s| !s.is_empty())
            .collect();
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        secrets.dedup();
        Masker { secrets }
    }

    /// `text` with every secret replaced by [`MASK`].
    pub fn text(&self, text: &str) -> String {
        let mut text = text.to_owned();
        for secret in &self.secrets {
            if text.contains(secret.as_str()) {
                text = text.replace(secret.as_str(), MASK);
            }
        }
        text
    }

    /// `bytes` with every secret replaced by [`MASK`] (for files that need not be text).
    pub fn bytes(&self, bytes: &[u8]) -> Vec<u8> {
        let mut out = bytes.to_vec();
        for secret in &self.secrets {
            let needle = secret.as_bytes();
            let mut masked = Vec::with_capacity(out.len());
            let mut rest = &out[..];
            while let Some(at) = rest.windows(needle.len()).position(|w| w == needle) {
                masked.extend_from_slice(&rest[..at]);
                masked.extend_from_slice(MASK.as_bytes());
                rest = &rest[at + needle.len()..];
            }
            masked.extend_from_slice(rest);
            out = masked;
        }
        out
    }
}

#[cfg(test)]
mod tests;
