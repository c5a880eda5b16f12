//! Who is calling, and what they may do: users with argon2id passwords, session tokens (HS256
//! JWTs that a token generation revokes), API keys, failed sign-in limits, the first
//! administrator, and per-server access.
//!
//! [`Auth`] is the one handle: every change to users and keys goes through it so that the
//! credential cache is invalidated after each change, and every password hash is computed on
//! a blocking thread behind a semaphore (argon2 is slow and memory-hungry on purpose). It knows
//! nothing of HTTP; the API turns a bearer credential into a [`Caller`] with
//! [`Auth::authenticate`] and maps [`AuthError`] to problems.
//!
//! Nothing in this module logs or returns a password, a hash, a token or a key, except the
//! one-time answers that create them ([`Session`], [`Auth::create_api_key`], the first
//! administrator's password on the console and in `<data-dir>/initial-admin-password`).

pub mod api_key;
mod cache;
mod caller;
pub mod limit;
pub mod password;
pub mod token;

#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use tokio::sync::Semaphore;
use tokio::time::Instant;

pub use caller::{
    Access, Caller, Visibility, access_for, history_access, server_access, visible_servers,
};
pub use limit::{LockoutPolicy, LoginLimits};
pub use token::TokenSigner;

use crate::store::api_keys::{self, ApiKey, NewApiKey};
use crate::store::users::{self, NewUser, UserPatch};
use crate::store::{Role, Store, StoreError, User};

/// File the first administrator's password is written to, in the data directory.
pub const INITIAL_PASSWORD_FILE: &str = "initial-admin-password";
/// Name of the first administrator.
pub const INITIAL_ADMIN: &str = "admin";
/// An API key's last-used time is written at most this often.
pub const KEY_TOUCH_INTERVAL: Duration = Duration::from_secs(60);

/// Why a request is not authenticated or not allowed. Messages never contain secrets.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// No `Authorization: Bearer …` header.
    #[error("this endpoint needs `Authorization: Bearer <token or API key>`")]
    MissingToken,
    /// A credential that is not a valid token or a known key.
    #[error("the token or API key is not valid")]
    InvalidToken,
    /// A session token past its expiry.
    #[error("the token has expired; sign in again or refresh it before it expires")]
    Expired,
    /// A token or key revoked (logout, password or role change, disabled or deleted user,
    /// revoked key).
    #[error("the token or API key has been revoked")]
    Revoked,
    /// Wrong username or password (never says which).
    #[error("invalid username or password")]
    InvalidCredentials,
    /// Too many failed sign-ins; retry after the wait.
    #[error("too many failed sign-ins; retry in {} s", .0.as_secs().max(1))]
    Locked(Duration),
    /// Authenticated, but the role does not allow this.
    #[error("{0}")]
    Forbidden(String),
    /// Something the caller may not see, or that does not exist (never told apart).
    #[error("{0} not found")]
    NotFound(String),
    /// A request that makes no sense for this caller.
    #[error("{0}")]
    BadRequest(String),
    /// A value breaks a rule.
    #[error("{field}: {message}")]
    Invalid {
        /// The request field.
        field: &'static str,
        /// What is wrong with it.
        message: String,
    },
    /// The database failed, or answered not found / conflict.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Hashing or verifying a password failed (not a wrong password).
    #[error("password hashing failed: {0}")]
    Hashing(String),
    /// The signing key file is unusable.
    #[error("session signing key: {0}")]
    KeyFile(String),
    /// A blocking task died.
    #[error("background task: {0}")]
    Task(#[from] tokio::task::JoinError),
}

impl AuthError {
    /// An [`AuthError::Invalid`] for `field`.
    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        AuthError::Invalid {
            field,
            message: message.into(),
        }
    }
}

/// A signed-in session: the token and when it ends. Shown once, to the one who signed in.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Session {
    /// The bearer token.
    pub token: String,
    /// RFC 3339 UTC; refresh before then.
    #[schema(format = DateTime)]
    pub expires_at: String,
    /// Seconds until it expires.
    pub expires_in: u64,
    /// Who signed in.
    pub user: User,
}

/// The first administrator created at start-up.
#[derive(Debug, Clone)]
pub struct InitialAdmin {
    /// The user.
    pub user: User,
    /// Where the password was written.
    pub password_file: PathBuf,
}

struct Inner {
    store: Store,
    signer: TokenSigner,
    cache: cache::CredentialCache,
    limits: LoginLimits,
    /// Bounds concurrent argon2 work (each takes ~19 MiB and a core).
    hashing: Semaphore,
    /// When each key's last use was written, to write it at most once a minute.
    key_touched: Mutex<HashMap<i64, Instant>>,
    /// The data directory, to retire the initial password file once it is changed.
    data_dir: Option<PathBuf>,
}

/// The authentication handle. Cheap to clone.
#[derive(Clone)]
pub struct Auth {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auth").finish_non_exhaustive()
    }
}

impl Auth {
    /// An authenticator over `store` signing with `signer`, without a data directory.
    pub fn new(store: Store, signer: TokenSigner) -> Self {
        Self::build(store, signer, None, LoginLimits::default())
    }

    /// [`Auth::new`] with custom sign-in limits (tests).
    pub fn with_limits(store: Store, signer: TokenSigner, limits: LoginLimits) -> Self {
        Self::build(store, signer, None, limits)
    }

    /// The host's authenticator: the signing key is `<data_dir>/jwt.key` (created on first
    /// use), tokens live [`token::DEFAULT_TTL`].
    pub async fn open(store: Store, data_dir: &Path) -> Result<Self, AuthError> {
        let dir = data_dir.to_path_buf();
        let signer = tokio::task::spawn_blocking(move || {
            TokenSigner::load_or_create(&dir, token::DEFAULT_TTL)
        })
        .await??;
        Ok(Self::build(
            store,
            signer,
            Some(data_dir.to_path_buf()),
            LoginLimits::default(),
        ))
    }

    fn build(
        store: Store,
        signer: TokenSigner,
        data_dir: Option<PathBuf>,
        limits: LoginLimits,
    ) -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Auth {
            inner: Arc::new(Inner {
                store,
                signer,
                cache: cache::CredentialCache::default(),
                limits,
                hashing: Semaphore::new(cores.max(2)),
                key_touched: Mutex::new(HashMap::new()),
                data_dir,
            }),
        }
    }

    /// The database.
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// The token signer.
    pub fn signer(&self) -> &TokenSigner {
        &self.inner.signer
    }

    /// Whether `user` is the generated first administrator still holding the password the
    /// host printed: its file is still there and the account has not changed since.
    pub async fn has_initial_password(&self, user: &User) -> bool {
        let Some(dir) = &self.inner.data_dir else {
            return false;
        };
        user.username == INITIAL_ADMIN
            && user.created_at == user.updated_at
            && tokio::fs::try_exists(dir.join(INITIAL_PASSWORD_FILE))
                .await
                .unwrap_or(false)
    }

    // ---- passwords ----

    /// Hashes a password on a blocking thread.
    pub async fn hash_password(&self, password: String) -> Result<String, AuthError> {
        let _permit = self
            .inner
            .hashing
            .acquire()
            .await
            .map_err(|e| AuthError::Hashing(e.to_string()))?;
        tokio::task::spawn_blocking(move || password::hash(&password)).await?
    }

    /// Verifies a password on a blocking thread.
    async fn verify_password(&self, password: String, hash: String) -> Result<bool, AuthError> {
        let _permit = self
            .inner
            .hashing
            .acquire()
            .await
            .map_err(|e| AuthError::Hashing(e.to_string()))?;
        tokio::task::spawn_blocking(move || password::verify(&password, &hash)).await?
    }

    // ---- sessions ----

    /// Signs `user` in with `password`. Failures count against the username and the client
    /// address; while either is locked out this answers [`AuthError::Locked`] without checking
    /// the password, except that a locked username is still checked from an address with no
    /// recent failures (see [`LoginLimits::check`]). An unknown user, a wrong password and a
    /// disabled account all answer
    /// [`AuthError::InvalidCredentials`], after the same amount of hashing work.
    pub async fn login(
        &self,
        username: &str,
        password: &str,
        client: Option<IpAddr>,
    ) -> Result<Session, AuthError> {
        let user_key: String = username
            .chars()
            .take(password::MAX_USERNAME_CHARS + 1)
            .collect::<String>()
            .to_lowercase();
        let client_key = client.map(|c| c.to_string());
        let limits = &self.inner.limits;
        limits
            .check(&user_key, client_key.as_deref(), Instant::now())
            .map_err(AuthError::Locked)?;

        let found = if username.chars().count() > password::MAX_USERNAME_CHARS {
            None
        } else {
            let name = username.to_owned();
            self.inner
                .store
                .call(move |conn| users::credentials(conn, &name))
                .await?
        };
        let (user, hash) = match found {
            Some((user, hash)) => (Some(user), hash),
            None => (None, password::decoy_hash().to_owned()),
        };
        let matches = password.len() <= password::MAX_PASSWORD_BYTES
            && self.verify_password(password.to_owned(), hash).await?;
        match user {
            Some(user) if matches && !user.disabled => {
                limits.succeed(&user_key);
                Ok(self.issue(&user))
            }
            _ => {
                limits.fail(&user_key, client_key.as_deref(), Instant::now());
                Err(AuthError::InvalidCredentials)
            }
        }
    }

    /// A new session token for `user` at their current token generation.
    pub fn issue(&self, user: &User) -> Session {
        let (token, exp) = self.inner.signer.issue(user.id, user.token_generation);
        Session {
            token,
            expires_at: crate::time::rfc3339_secs(exp),
            expires_in: self.inner.signer.ttl().as_secs(),
            user: user.clone(),
        }
    }

    /// Turns a bearer credential (session token or `gar_` API key) into a caller, checking
    /// expiry, revocation and that the user may still sign in.
    pub async fn authenticate(&self, credential: &str) -> Result<Caller, AuthError> {
        if api_key::looks_like_key(credential) {
            return self.authenticate_key(credential).await;
        }
        let (user_id, generation) = self.inner.signer.verify(credential)?;
        let user = self.user(user_id).await?.ok_or(AuthError::Revoked)?;
        if user.disabled || user.token_generation != generation {
            return Err(AuthError::Revoked);
        }
        Ok(Caller {
            user_id: user.id,
            username: user.username,
            role: user.role,
            api_key_id: None,
        })
    }

    async fn authenticate_key(&self, key: &str) -> Result<Caller, AuthError> {
        let hash = api_key::hash(key);
        let cache = &self.inner.cache;
        let found = match cache.key(&hash) {
            Some(found) => found,
            None => {
                let epoch = cache.epoch();
                let found = self
                    .inner
                    .store
                    .call(move |conn| api_keys::find_by_hash(conn, &hash))
                    .await?
                    .ok_or(AuthError::InvalidToken)?;
                cache.put_key(epoch, hash, found.clone());
                found
            }
        };
        if found.revoked {
            return Err(AuthError::Revoked);
        }
        let user = self.user(found.user_id).await?.ok_or(AuthError::Revoked)?;
        if user.disabled {
            return Err(AuthError::Revoked);
        }
        self.touch_key(found.key_id).await;
        Ok(Caller {
            user_id: user.id,
            username: user.username,
            role: found.key_role.min(user.role),
            api_key_id: Some(found.key_id),
        })
    }

    /// Writes a key's last-used time if it was not written in the last minute.
    async fn touch_key(&self, key_id: i64) {
        let now = Instant::now();
        let due = {
            let mut touched = self
                .inner
                .key_touched
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            match touched.get(&key_id) {
                Some(at) if now.duration_since(*at) < KEY_TOUCH_INTERVAL => false,
                _ => {
                    touched.insert(key_id, now);
                    true
                }
            }
        };
        if due
            && let Err(e) = self
                .inner
                .store
                .call(move |conn| api_keys::touch(conn, key_id))
                .await
        {
            tracing::warn!(key_id, "recording an API key's last use failed: {e}");
        }
    }

    /// A user, from the cache or the database; `None` if deleted.
    async fn user(&self, id: i64) -> Result<Option<User>, AuthError> {
        let cache = &self.inner.cache;
        if let Some(user) = cache.user(id) {
            return Ok(Some(user));
        }
        let epoch = cache.epoch();
        match self
            .inner
            .store
            .call(move |conn| users::get(conn, id))
            .await
        {
            Ok(user) => {
                cache.put_user(epoch, user.clone());
                Ok(Some(user))
            }
            Err(StoreError::NotFound(_)) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// A new token for a caller signed in with a session token (API keys do not expire and
    /// are not refreshed).
    pub async fn refresh(&self, caller: &Caller) -> Result<Session, AuthError> {
        if caller.api_key_id.is_some() {
            return Err(AuthError::BadRequest(
                "API keys do not expire; only session tokens are refreshed".into(),
            ));
        }
        let user = self.user(caller.user_id).await?.ok_or(AuthError::Revoked)?;
        Ok(self.issue(&user))
    }

    /// Ends every session of `user_id` (bumps the token generation). API keys stay valid.
    pub async fn logout(&self, user_id: i64) -> Result<(), AuthError> {
        self.changed(move |conn| users::revoke_tokens(conn, user_id))
            .await
    }

    /// Runs a change to users or keys on the store, then invalidates the credential cache.
    async fn changed<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut rusqlite::Connection) -> Result<R, StoreError> + Send + 'static,
    ) -> Result<R, AuthError> {
        let result = self.inner.store.call(f).await;
        self.inner.cache.invalidate();
        Ok(result?)
    }

    // ---- accounts ----

    /// Creates a user after checking the username and password rules.
    pub async fn create_user(
        &self,
        username: &str,
        password: &str,
        role: Role,
    ) -> Result<User, AuthError> {
        password::check_username(username)?;
        password::check_new("password", password)?;
        let new = NewUser {
            username: username.to_owned(),
            password_hash: self.hash_password(password.to_owned()).await?,
            role,
        };
        self.changed(move |conn| users::insert(conn, &new)).await
    }

    /// Changes the caller's own password after checking the current one (failures count like
    /// failed sign-ins). Every earlier session ends; the answer is a fresh one.
    pub async fn change_password(
        &self,
        caller: &Caller,
        current: &str,
        new: &str,
    ) -> Result<Session, AuthError> {
        password::check_new("new_password", new)?;
        let user_key = caller.username.to_lowercase();
        let limits = &self.inner.limits;
        limits
            .check(&user_key, None, Instant::now())
            .map_err(AuthError::Locked)?;
        let id = caller.user_id;
        let hash = self
            .inner
            .store
            .call(move |conn| users::password_hash(conn, id))
            .await?;
        if current.len() > password::MAX_PASSWORD_BYTES
            || !self.verify_password(current.to_owned(), hash).await?
        {
            limits.fail(&user_key, None, Instant::now());
            return Err(AuthError::invalid(
                "current_password",
                "does not match the current password",
            ));
        }
        let hash = self.hash_password(new.to_owned()).await?;
        let user = self
            .changed(move |conn| users::set_password(conn, id, &hash))
            .await?;
        self.retire_initial_password(current).await;
        Ok(self.issue(&user))
    }

    /// Sets another user's password (administrators). Their sessions end.
    pub async fn reset_password(&self, user_id: i64, new: &str) -> Result<User, AuthError> {
        password::check_new("password", new)?;
        let hash = self.hash_password(new.to_owned()).await?;
        self.changed(move |conn| users::set_password(conn, user_id, &hash))
            .await
    }

    /// Changes a user's role or disabled flag; their sessions end if anything changed.
    pub async fn update_user(&self, user_id: i64, patch: UserPatch) -> Result<User, AuthError> {
        self.changed(move |conn| users::update(conn, user_id, patch))
            .await
    }

    /// Deletes a user with their grants and API keys.
    pub async fn delete_user(&self, user_id: i64) -> Result<(), AuthError> {
        self.changed(move |conn| users::delete(conn, user_id)).await
    }

    /// Removes the initial password file once the password in it has been changed: it no
    /// longer opens anything, and should not linger.
    async fn retire_initial_password(&self, old_password: &str) {
        let Some(dir) = &self.inner.data_dir else {
            return;
        };
        let path = dir.join(INITIAL_PASSWORD_FILE);
        let Ok(contents) = tokio::fs::read_to_string(&path).await else {
            return;
        };
        if contents.trim() == old_password
            && let Err(e) = tokio::fs::remove_file(&path).await
        {
            tracing::warn!(path = %path.display(), "could not remove the initial password file: {e}");
        }
    }

    // ---- API keys ----

    /// Creates an API key for the caller with `role` (default: the caller's role), which may
    /// not exceed the caller's own. Returns the stored key and the secret, to show once.
    pub async fn create_api_key(
        &self,
        caller: &Caller,
        name: &str,
        role: Option<Role>,
    ) -> Result<(ApiKey, String), AuthError> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
            return Err(AuthError::invalid(
                "name",
                "must be 1 to 100 characters long, without control characters",
            ));
        }
        let role = role.unwrap_or(caller.role);
        if !caller.role.at_least(role) {
            return Err(AuthError::invalid(
                "role",
                format!("may not exceed your own role ({})", caller.role),
            ));
        }
        let generated = api_key::generate();
        let new = NewApiKey {
            user_id: caller.user_id,
            name: name.to_owned(),
            prefix: generated.prefix.clone(),
            hash: generated.hash,
            role,
        };
        let key = self
            .changed(move |conn| api_keys::insert(conn, &new))
            .await?;
        Ok((key, generated.secret))
    }

    /// Revokes a key: the caller's own, or anyone's for an administrator. Someone else's key
    /// is "not found" to everyone else.
    pub async fn revoke_api_key(&self, caller: &Caller, key_id: i64) -> Result<ApiKey, AuthError> {
        let key = self
            .inner
            .store
            .call(move |conn| api_keys::get(conn, key_id))
            .await
            .map_err(|e| match e {
                StoreError::NotFound(what) => AuthError::NotFound(what),
                other => other.into(),
            })?;
        if key.user_id != caller.user_id && !caller.is_admin() {
            return Err(AuthError::NotFound(format!("API key {key_id}")));
        }
        self.changed(move |conn| api_keys::revoke(conn, key_id))
            .await
    }

    // ---- first run ----

    /// With no users at all, creates `admin` with a random password, writes the password to
    /// `<data_dir>/initial-admin-password` (mode 0600) and prints it once on standard error.
    /// Does nothing when any user exists.
    pub async fn ensure_admin(&self, data_dir: &Path) -> Result<Option<InitialAdmin>, AuthError> {
        let count = self.inner.store.call(|conn| users::count(conn)).await?;
        if count > 0 {
            return Ok(None);
        }
        let password = password::random_password();
        let new = NewUser {
            username: INITIAL_ADMIN.to_owned(),
            password_hash: self.hash_password(password.clone()).await?,
            role: Role::Admin,
        };
        let Some(user) = self
            .changed(move |conn| users::insert_if_none(conn, &new))
            .await?
        else {
            return Ok(None);
        };
        let path = data_dir.join(INITIAL_PASSWORD_FILE);
        let file = path.clone();
        let contents = format!("{password}\n");
        let written = tokio::task::spawn_blocking(move || {
            crate::secrets::write_private(&file, contents.as_bytes())
        })
        .await?;
        if let Err(e) = &written {
            tracing::error!(path = %path.display(), "could not write the initial password: {e}");
        }
        // The one place a password is shown: the console of whoever started the host.
        eprintln!(
            "\n  Garrison created the administrator `{INITIAL_ADMIN}` with the password:\n\n      \
             {password}\n\n  It is also in {} (readable only by you). Sign in and change it.\n",
            path.display()
        );
        tracing::info!(
            path = %path.display(),
            "created the first administrator `{INITIAL_ADMIN}`; the password was printed above"
        );
        Ok(Some(InitialAdmin {
            user,
            password_file: path,
        }))
    }
}
