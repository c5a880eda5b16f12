//! Passwords: argon2id hashing and verification, the rules a new password and a username must
//! follow, and random passwords for the first administrator.
//!
//! Hashing is deliberately slow and memory-hungry (argon2's defaults: 19 MiB, 2 passes), so it
//! must never run on a runtime worker: [`Auth`](super::Auth) runs it through `spawn_blocking`
//! behind a semaphore. Nothing here logs or returns a password.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rand_core::{OsRng, RngCore};

use super::AuthError;

/// Shortest accepted password, in characters.
pub const MIN_PASSWORD_CHARS: usize = 8;
/// Longest accepted password, in bytes (bounds the hashing work one request can ask for).
pub const MAX_PASSWORD_BYTES: usize = 4 * MAX_PASSWORD_CHARS;
/// The longest password accepted, in characters (as the API document states it).
pub const MAX_PASSWORD_CHARS: usize = 1024;
/// Longest accepted username, in characters.
pub const MAX_USERNAME_CHARS: usize = 64;

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

fn hasher() -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::default())
}

/// Hashes `password` into an argon2id PHC string with a fresh random salt. Slow: blocking
/// threads only.
pub fn hash(password: &str) -> Result<String, AuthError> {
    let salt = SaltString::generate(&mut OsRng);
    hasher()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AuthError::Hashing(e.to_string()))
}

/// Whether `password` matches the PHC string `phc`. A malformed stored hash is an error, not
/// a mismatch. Slow: blocking threads only.
pub fn verify(password: &str, phc: &str) -> Result<bool, AuthError> {
    let parsed = PasswordHash::new(phc).map_err(|e| AuthError::Hashing(e.to_string()))?;
    match hasher().verify_password(password.as_bytes(), &parsed) {
        Ok(()) => Ok(true),
        Err(argon2::password_hash::Error::Password) => Ok(false),
        Err(e) => Err(AuthError::Hashing(e.to_string())),
    }
}

/// A hash of a random password nobody knows: verifying against it when a username does not
/// exist makes a failed sign-in take as long whether or not the user exists.
pub fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash(&random_string(32)).unwrap_or_default())
}

/// `len` random characters from `[0-9A-Za-z]`, from the operating system's generator.
pub fn random_string(len: usize) -> String {
    let mut out = String::with_capacity(len);
    let mut buf = [0u8; 64];
    while out.len() < len {
        OsRng.fill_bytes(&mut buf);
        // 248 = 4 * 62: rejecting bytes above it keeps every character equally likely.
        for b in buf.iter().filter(|b| **b < 248) {
            if out.len() == len {
                break;
            }
            out.push(char::from(BASE62[usize::from(*b % 62)]));
        }
    }
    out
}

/// A password for a new account that nobody chose: 24 base62 characters (~142 bits).
pub fn random_password() -> String {
    random_string(24)
}

/// Checks a new password against the rules; the error names the `field`.
pub fn check_new(field: &'static str, password: &str) -> Result<(), AuthError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(AuthError::invalid(
            field,
            format!("must be at least {MIN_PASSWORD_CHARS} characters long"),
        ));
    }
    if password.chars().count() > MAX_PASSWORD_CHARS {
        return Err(AuthError::invalid(
            field,
            format!("must be at most {MAX_PASSWORD_CHARS} characters long"),
        ));
    }
    Ok(())
}

/// Checks a username: 1 to 64 characters of letters, digits, `.`, `_`, `-` and `@`, starting
/// with a letter or digit.
pub fn check_username(username: &str) -> Result<(), AuthError> {
    let valid_chars = username
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'));
    let starts_well = username
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric());
    if username.is_empty() || username.chars().count() > MAX_USERNAME_CHARS {
        return Err(AuthError::invalid(
            "username",
            format!("must be 1 to {MAX_USERNAME_CHARS} characters long"),
        ));
    }
    if !valid_chars || !starts_well {
        return Err(AuthError::invalid(
            "username",
            "may contain only letters, digits, '.', '_', '-' and '@', and must start with a \
             letter or digit",
        ));
    }
    Ok(())
}
