//! API key material: `gar_` followed by 43 base62 characters (~256 random bits). The key is
//! shown once at creation; the store keeps only its first characters (to recognise it in a
//! list) and its SHA-256 (to find it when it is presented). A fast hash is enough because
//! the key is random, not chosen by a person.

use sha2::{Digest, Sha256};

use super::password::random_string;

/// Every key starts with this, so a key is recognisable (and can be told from a JWT).
pub const PREFIX: &str = "gar_";
/// Random characters after the prefix.
const RANDOM_CHARS: usize = 43;
/// Random characters kept in the public prefix.
const SHOWN_CHARS: usize = 8;

/// A freshly generated key: the secret (to show once) and what is stored.
#[derive(Clone)]
pub struct GeneratedKey {
    /// The whole key: show it once, never store or log it.
    pub secret: String,
    /// `gar_` and the first few characters.
    pub prefix: String,
    /// SHA-256 of the whole key.
    pub hash: [u8; 32],
}

impl std::fmt::Debug for GeneratedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GeneratedKey")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

/// Generates a new key.
pub fn generate() -> GeneratedKey {
    let secret = format!("{PREFIX}{}", random_string(RANDOM_CHARS));
    let prefix = secret
        .get(..PREFIX.len() + SHOWN_CHARS)
        .unwrap_or(PREFIX)
        .to_string();
    let hash = hash(&secret);
    GeneratedKey {
        secret,
        prefix,
        hash,
    }
}

/// SHA-256 of a presented key.
pub fn hash(key: &str) -> [u8; 32] {
    Sha256::digest(key.as_bytes()).into()
}

/// Whether a bearer credential is an API key rather than a session token.
pub fn looks_like_key(credential: &str) -> bool {
    credential.starts_with(PREFIX)
}
