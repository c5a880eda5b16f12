//! The authentication layer's specification: password hashing, session tokens and their
//! revocation, API keys and their scope, sign-in limits over (paused) time, the first
//! administrator.

use std::time::Duration;

use tokio::time::{Instant, advance};

use super::limit::{Limiter, LockoutPolicy};
use super::{Auth, AuthError, INITIAL_PASSWORD_FILE, LoginLimits, TokenSigner, api_key, password};
use crate::store::users::{self, UserPatch};
use crate::store::{Role, Store};

fn auth() -> Auth {
    let store = Store::open_in_memory().expect("store");
    Auth::new(store, TokenSigner::random(Duration::from_secs(900)))
}

// ---- passwords ----

#[test]
fn passwords_hash_to_salted_argon2id_and_verify() {
    let first = password::hash("hunter2hunter2").expect("hash");
    let second = password::hash("hunter2hunter2").expect("hash");
    assert!(first.starts_with("$argon2id$v=19$"), "{first}");
    assert_ne!(first, second, "salted");
    assert!(!first.contains("hunter2"));
    assert!(password::verify("hunter2hunter2", &first).expect("verify"));
    assert!(!password::verify("hunter3hunter3", &first).expect("verify"));
    assert!(
        password::verify("x", "not a hash").is_err(),
        "a bad hash is an error"
    );
}

#[test]
fn password_and_username_rules() {
    assert!(password::check_new("password", "1234567").is_err());
    assert!(password::check_new("password", "12345678").is_ok());
    assert!(
        password::check_new("password", "ééééééé").is_err(),
        "counts characters"
    );
    assert!(password::check_new("password", &"x".repeat(1025)).is_err());
    for good in ["admin", "a", "jane.doe@example", "x_y-z", &"u".repeat(64)] {
        assert!(password::check_username(good).is_ok(), "{good}");
    }
    for bad in [
        "",
        ".hidden",
        "with space",
        "slash/",
        "üser",
        &"u".repeat(65),
    ] {
        assert!(password::check_username(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn random_passwords_are_long_base62_and_different() {
    let a = password::random_password();
    let b = password::random_password();
    assert_eq!(a.len(), 24);
    assert!(a.chars().all(|c| c.is_ascii_alphanumeric()));
    assert_ne!(a, b);
}

// ---- tokens ----

#[test]
fn tokens_carry_user_and_generation_and_expire() {
    let signer = TokenSigner::random(Duration::from_secs(60));
    let (token, exp) = signer.issue(7, 3);
    assert_eq!(signer.verify(&token).expect("valid"), (7, 3));
    assert!(exp >= crate::time::unix_secs() + 59);

    let (old, _) = signer.issue_at(7, 3, crate::time::unix_secs() - 61);
    assert!(matches!(signer.verify(&old), Err(AuthError::Expired)));

    let other = TokenSigner::random(Duration::from_secs(60));
    assert!(matches!(other.verify(&token), Err(AuthError::InvalidToken)));
    // Tampering with the claims breaks the signature.
    let mut parts: Vec<&str> = token.split('.').collect();
    let forged_claims = base64::Engine::encode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        br#"{"sub":"1","gen":3,"iat":0,"exp":99999999999}"#,
    );
    parts[1] = &forged_claims;
    assert!(matches!(
        signer.verify(&parts.join(".")),
        Err(AuthError::InvalidToken)
    ));
    // "alg": "none" is refused.
    let none = format!(
        "{}.{}.",
        base64::Engine::encode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            br#"{"alg":"none","typ":"JWT"}"#
        ),
        forged_claims
    );
    assert!(signer.verify(&none).is_err());
}

#[test]
fn the_signing_key_is_created_once_private_and_reused() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("tempdir");
    let first = TokenSigner::load_or_create(dir.path(), Duration::from_secs(60)).expect("create");
    let path = dir.path().join(super::token::KEY_FILE);
    let mode = std::fs::metadata(&path)
        .expect("key file")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let second = TokenSigner::load_or_create(dir.path(), Duration::from_secs(60)).expect("load");
    let (token, _) = first.issue(1, 0);
    assert_eq!(second.verify(&token).expect("same key"), (1, 0));

    std::fs::write(&path, "c2hvcnQ=").expect("write");
    assert!(matches!(
        TokenSigner::load_or_create(dir.path(), Duration::from_secs(60)),
        Err(AuthError::KeyFile(_))
    ));
}

/// A session token for user `id` as stored now, already used once (so the user is cached:
/// revocation must beat the cache).
async fn fresh_session(auth: &Auth, id: i64) -> String {
    let user = auth
        .store()
        .call(move |conn| users::get(conn, id))
        .await
        .expect("user");
    let token = auth.issue(&user).token;
    auth.authenticate(&token)
        .await
        .expect("valid before the change");
    token
}

#[track_caller]
fn assert_revoked(result: Result<super::Caller, AuthError>, what: &str) {
    assert!(
        matches!(result, Err(AuthError::Revoked)),
        "{what} must revoke, got {result:?}"
    );
}

#[tokio::test]
async fn every_revoking_change_ends_existing_sessions_at_once() {
    let auth = auth();
    let admin = auth
        .create_user("boss", "long enough", Role::Admin)
        .await
        .expect("boss");
    let id = auth
        .create_user("worker", "long enough", Role::Operator)
        .await
        .expect("user")
        .id;
    let admin_token = auth.issue(&admin).token;

    let token = fresh_session(&auth, id).await;
    auth.logout(id).await.expect("logout");
    assert_revoked(auth.authenticate(&token).await, "logout");

    let token = fresh_session(&auth, id).await;
    auth.reset_password(id, "another one").await.expect("reset");
    assert_revoked(auth.authenticate(&token).await, "a password reset");

    let token = fresh_session(&auth, id).await;
    let caller = auth.authenticate(&token).await.expect("caller");
    let fresh = auth
        .change_password(&caller, "another one", "and another")
        .await
        .expect("change");
    assert_revoked(auth.authenticate(&token).await, "a password change");
    auth.authenticate(&fresh.token)
        .await
        .expect("the new session works");

    let token = fresh_session(&auth, id).await;
    let demote = UserPatch {
        role: Some(Role::Viewer),
        disabled: None,
    };
    auth.update_user(id, demote).await.expect("demote");
    assert_revoked(auth.authenticate(&token).await, "a role change");

    let token = fresh_session(&auth, id).await;
    let disable = UserPatch {
        role: None,
        disabled: Some(true),
    };
    auth.update_user(id, disable).await.expect("disable");
    assert_revoked(auth.authenticate(&token).await, "disabling");

    auth.delete_user(id).await.expect("delete");
    assert_revoked(auth.authenticate(&token).await, "deleting");

    // The administrator's own session is untouched by all that.
    auth.authenticate(&admin_token)
        .await
        .expect("admin still signed in");
}

// ---- API keys ----

#[test]
fn api_keys_are_prefixed_random_and_hashed() {
    let a = api_key::generate();
    let b = api_key::generate();
    assert!(a.secret.starts_with("gar_") && a.secret.len() == 47);
    assert_ne!(a.secret, b.secret);
    assert!(a.secret.starts_with(&a.prefix) && a.prefix.len() == 12);
    assert_eq!(a.hash, api_key::hash(&a.secret));
    assert!(!format!("{a:?}").contains(&a.secret), "Debug hides the key");
    assert!(api_key::looks_like_key(&a.secret));
    assert!(!api_key::looks_like_key("eyJhbGciOi"));
}

#[tokio::test]
async fn an_api_key_acts_with_the_lesser_of_its_role_and_its_owners() {
    let auth = auth();
    let owner = auth
        .create_user("owner", "long enough", Role::Admin)
        .await
        .expect("owner");
    let session = auth
        .authenticate(&auth.issue(&owner).token)
        .await
        .expect("session");
    let (key, secret) = auth
        .create_api_key(&session, "ops", Some(Role::Operator))
        .await
        .expect("key");
    let caller = auth.authenticate(&secret).await.expect("key works");
    assert_eq!(caller.role, Role::Operator);
    assert_eq!(caller.api_key_id, Some(key.id));

    // A key cannot mint a key above itself.
    assert!(matches!(
        auth.create_api_key(&caller, "up", Some(Role::Admin)).await,
        Err(AuthError::Invalid { field: "role", .. })
    ));

    let other = auth
        .create_user("second-admin", "long enough", Role::Admin)
        .await
        .expect("second admin");
    let _ = other;
    auth.update_user(
        owner.id,
        UserPatch {
            role: Some(Role::Viewer),
            disabled: None,
        },
    )
    .await
    .expect("demote");
    assert_eq!(
        auth.authenticate(&secret).await.expect("still valid").role,
        Role::Viewer
    );
    auth.revoke_api_key(&caller, key.id).await.expect("revoke");
    assert!(matches!(
        auth.authenticate(&secret).await,
        Err(AuthError::Revoked)
    ));
}

#[tokio::test(start_paused = true)]
async fn a_keys_last_use_is_written_at_most_once_a_minute() {
    let auth = auth();
    let owner = auth
        .create_user("owner", "long enough", Role::Operator)
        .await
        .expect("owner");
    let session = auth
        .authenticate(&auth.issue(&owner).token)
        .await
        .expect("session");
    let (key, secret) = auth.create_api_key(&session, "k", None).await.expect("key");
    let last_used = || async {
        let id = key.id;
        auth.store()
            .call(move |conn| crate::store::api_keys::get(conn, id))
            .await
            .expect("key")
            .last_used_at
    };
    auth.authenticate(&secret).await.expect("use");
    let first = last_used().await.expect("recorded");
    // Clear it by hand: a use within the minute must not write it again.
    let id = key.id;
    auth.store()
        .call(move |conn| {
            conn.execute(
                "UPDATE api_keys SET last_used_at = NULL WHERE id = ?1",
                [id],
            )?;
            Ok(())
        })
        .await
        .expect("clear");
    advance(Duration::from_secs(30)).await;
    auth.authenticate(&secret).await.expect("use");
    assert_eq!(last_used().await, None);
    advance(Duration::from_secs(31)).await;
    auth.authenticate(&secret).await.expect("use");
    assert!(last_used().await.is_some_and(|at| at >= first));
}

// ---- sign-in limits ----

#[test]
fn lockouts_start_after_the_free_failures_and_double_up_to_the_cap() {
    let policy = LockoutPolicy {
        free_failures: 3,
        base: Duration::from_secs(10),
        max: Duration::from_secs(60),
        forget_after: Duration::from_secs(3600),
    };
    let limiter = Limiter::new(policy);
    let mut now = Instant::now();
    for _ in 0..2 {
        limiter.fail("eve", now);
        assert!(limiter.check("eve", now).is_ok());
    }
    let mut waits = Vec::new();
    for _ in 0..5 {
        limiter.fail("eve", now);
        let wait = limiter.check("eve", now).expect_err("locked");
        waits.push(wait.as_secs());
        now += wait;
        assert!(
            limiter.check("eve", now).is_ok(),
            "unlocked once the wait is over"
        );
    }
    assert_eq!(waits, [10, 20, 40, 60, 60]);
    assert!(limiter.check("mallory", now).is_ok(), "per key");

    // Forgotten after a quiet hour; forgotten at once on success.
    now += Duration::from_secs(3600);
    limiter.fail("eve", now);
    assert!(limiter.check("eve", now).is_ok());
    limiter.forget("eve");
    for _ in 0..2 {
        limiter.fail("eve", now);
    }
    assert!(limiter.check("eve", now).is_ok());
}

#[test]
fn a_locked_username_is_still_checked_from_an_address_without_failures() {
    let limits = LoginLimits::default();
    let now = Instant::now();
    let stranger = Some("203.0.113.66");
    for _ in 0..LockoutPolicy::USER.free_failures {
        limits.fail("admin", stranger, now);
    }
    assert!(limits.check("admin", stranger, now).is_err());
    assert!(
        limits.check("admin", None, now).is_err(),
        "without an address the username's lockout holds"
    );
    let elsewhere = Some("198.51.100.2");
    assert!(limits.check("admin", elsewhere, now).is_ok());
    limits.fail("admin", elsewhere, now);
    assert!(
        limits.check("admin", elsewhere, now).is_err(),
        "one attempt per clean address"
    );
    // An hour later the stranger's address is clean again, and the username's failures too.
    let later = now + LockoutPolicy::CLIENT.forget_after;
    assert!(limits.check("admin", stranger, later).is_ok());
}

#[tokio::test(start_paused = true)]
async fn a_locked_out_username_can_sign_in_again_once_the_wait_is_over() {
    let store = Store::open_in_memory().expect("store");
    let limits = LoginLimits {
        users: Limiter::new(LockoutPolicy {
            free_failures: 2,
            ..LockoutPolicy::USER
        }),
        clients: Limiter::new(LockoutPolicy::CLIENT),
    };
    let auth = Auth::with_limits(store, TokenSigner::random(Duration::from_secs(900)), limits);
    auth.create_user("zoe", "the right one", Role::Viewer)
        .await
        .expect("zoe");
    let client = Some("198.51.100.1".parse().expect("ip"));
    for _ in 0..2 {
        assert!(matches!(
            auth.login("zoe", "wrong one!", client).await,
            Err(AuthError::InvalidCredentials)
        ));
    }
    let Err(AuthError::Locked(wait)) = auth.login("Zoe", "the right one", client).await else {
        panic!("expected a lockout");
    };
    assert_eq!(wait, Duration::from_secs(30));
    advance(Duration::from_secs(29)).await;
    assert!(matches!(
        auth.login("zoe", "the right one", client).await,
        Err(AuthError::Locked(_))
    ));
    advance(Duration::from_secs(1)).await;
    auth.login("zoe", "the right one", client)
        .await
        .expect("signs in after the wait");
    // Success forgets the username's failures.
    auth.login("zoe", "wrong one!", client)
        .await
        .expect_err("wrong");
    auth.login("zoe", "the right one", client)
        .await
        .expect("one failure is free again");
}

// ---- first run ----

#[tokio::test]
async fn the_first_run_creates_an_administrator_once_with_a_private_password_file() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open_in_memory().expect("store");
    let auth = Auth::open(store, dir.path()).await.expect("auth");
    let created = auth
        .ensure_admin(dir.path())
        .await
        .expect("ensure")
        .expect("created");
    assert_eq!(created.user.username, "admin");
    assert_eq!(created.user.role, Role::Admin);
    let path = dir.path().join(INITIAL_PASSWORD_FILE);
    assert_eq!(created.password_file, path);
    let mode = std::fs::metadata(&path).expect("file").permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let password = std::fs::read_to_string(&path).expect("read");
    let password = password.trim();
    assert!(password.len() >= 20);
    assert!(dir.path().join(super::token::KEY_FILE).is_file());

    let session = auth.login("admin", password, None).await.expect("login");
    assert!(
        auth.ensure_admin(dir.path())
            .await
            .expect("again")
            .is_none(),
        "only when there are no users"
    );

    // Changing that password retires the file.
    let caller = auth.authenticate(&session.token).await.expect("caller");
    auth.change_password(&caller, password, "my own password now")
        .await
        .expect("change");
    assert!(!path.exists(), "the initial password file is removed");
}
