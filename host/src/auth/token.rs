//! Session tokens: HS256 JWTs signed with a key kept in `<data-dir>/jwt.key` (32 random bytes,
//! base64, mode 0600, created on first start).
//!
//! A token names its user (`sub`) and the user's token generation (`gen`) when it was issued;
//! the token is only accepted while the user's stored generation is the same, which is how
//! logout, password and role changes and disabling revoke tokens that have not expired yet.
//! This module signs and checks signatures and expiry; the generation check needs the
//! database and lives in [`Auth`](super::Auth).

use std::path::Path;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand_core::{OsRng, RngCore};
use serde::{Deserialize, Serialize};

use super::AuthError;

/// File name of the signing key in the data directory.
pub const KEY_FILE: &str = "jwt.key";

/// How long a session token lives; clients refresh before it ends.
pub const DEFAULT_TTL: Duration = Duration::from_secs(15 * 60);

/// What a token says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The user id, as text (RFC 7519 `sub`).
    pub sub: String,
    /// The user's token generation at issue.
    pub r#gen: i64,
    /// Issued at, seconds since the epoch.
    pub iat: u64,
    /// Expires at, seconds since the epoch.
    pub exp: u64,
}

/// Signs and checks session tokens.
#[derive(Clone)]
pub struct TokenSigner {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl: Duration,
}

impl std::fmt::Debug for TokenSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSigner")
            .field("key", &"********")
            .field("ttl", &self.ttl)
            .finish()
    }
}

impl TokenSigner {
    /// A signer with this secret and token lifetime.
    pub fn new(secret: &[u8], ttl: Duration) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "sub"]);
        TokenSigner {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            ttl,
        }
    }

    /// A signer with a fresh random key (tests, or a host without a data directory).
    pub fn random(ttl: Duration) -> Self {
        Self::new(&random_key(), ttl)
    }

    /// Reads `<data_dir>/jwt.key`, creating it with a new random key (mode 0600) if absent.
    /// Blocking.
    pub fn load_or_create(data_dir: &Path, ttl: Duration) -> Result<Self, AuthError> {
        let path = data_dir.join(KEY_FILE);
        let key = match std::fs::read_to_string(&path) {
            Ok(encoded) => {
                let key = B64
                    .decode(encoded.trim())
                    .map_err(|_| AuthError::KeyFile(format!("{} is not base64", path.display())))?;
                if key.len() < 32 {
                    return Err(AuthError::KeyFile(format!(
                        "{} holds {} bytes; at least 32 are needed",
                        path.display(),
                        key.len()
                    )));
                }
                key
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = random_key().to_vec();
                crate::secrets::write_private(&path, B64.encode(&key).as_bytes())
                    .map_err(|e| AuthError::KeyFile(format!("{}: {e}", path.display())))?;
                key
            }
            Err(e) => return Err(AuthError::KeyFile(format!("{}: {e}", path.display()))),
        };
        Ok(Self::new(&key, ttl))
    }

    /// How long tokens live.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// Signs a token for `user_id` at `generation`, issued at `now` (seconds since the
    /// epoch). Returns the token and its expiry.
    pub fn issue_at(&self, user_id: i64, generation: i64, now: u64) -> (String, u64) {
        let exp = now.saturating_add(self.ttl.as_secs());
        let claims = Claims {
            sub: user_id.to_string(),
            r#gen: generation,
            iat: now,
            exp,
        };
        // HMAC signing of serialisable claims cannot fail.
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .unwrap_or_default();
        (token, exp)
    }

    /// [`TokenSigner::issue_at`] now.
    pub fn issue(&self, user_id: i64, generation: i64) -> (String, u64) {
        self.issue_at(user_id, generation, crate::time::unix_secs())
    }

    /// Checks signature, algorithm and expiry; returns (user id, generation).
    pub fn verify(&self, token: &str) -> Result<(i64, i64), AuthError> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|e| match e.kind() {
                ErrorKind::ExpiredSignature => AuthError::Expired,
                _ => AuthError::InvalidToken,
            })?;
        let user_id = data
            .claims
            .sub
            .parse()
            .map_err(|_| AuthError::InvalidToken)?;
        Ok((user_id, data.claims.r#gen))
    }
}

fn random_key() -> [u8; 32] {
    let mut key = [0u8; 32];
    OsRng.fill_bytes(&mut key);
    key
}
