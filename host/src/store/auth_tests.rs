//! The store's specification for who may use the API: users, grants, API keys and the audit
//! log (migration 0005).

use serde_json::json;

use super::api_keys::{self, NewApiKey};
use super::audit::{self, NewAuditEntry};
use super::grants::{self, GrantRole};
use super::servers::{self, NewServer};
use super::users::{self, NewUser, Role, UserPatch};
use super::{Store, StoreError};

/// A syntactically valid argon2id PHC string (the store never verifies it).
const HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA";

fn store() -> Store {
    Store::open_in_memory().expect("in-memory store")
}

fn new_user(name: &str, role: Role) -> NewUser {
    NewUser {
        username: name.into(),
        password_hash: HASH.into(),
        role,
    }
}

fn add_user(store: &Store, name: &str, role: Role) -> i64 {
    let new = new_user(name, role);
    store
        .call_blocking(move |conn| users::insert(conn, &new))
        .expect("insert user")
        .id
}

fn add_server(store: &Store) -> i64 {
    store
        .call_blocking(|conn| servers::insert(conn, &NewServer::new("s", "game", json!({}))))
        .expect("insert server")
        .id
}

fn new_key(user_id: i64, byte: u8) -> NewApiKey {
    NewApiKey {
        user_id,
        name: "ci".into(),
        prefix: "gar_abcdefgh".into(),
        hash: [byte; 32],
        role: Role::Operator,
    }
}

// ---- users ----

#[test]
fn usernames_are_unique_regardless_of_case_and_found_in_any_case() {
    let store = store();
    let id = add_user(&store, "Alice", Role::Operator);
    let duplicate = new_user("ALICE", Role::Viewer);
    let err = store
        .call_blocking(move |conn| users::insert(conn, &duplicate))
        .expect_err("duplicate");
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");

    let (user, hash) = store
        .call_blocking(|conn| users::credentials(conn, "aLiCe"))
        .expect("lookup")
        .expect("found");
    assert_eq!(
        (user.id, user.username.as_str(), hash.as_str()),
        (id, "Alice", HASH)
    );
    assert_eq!(user.role, Role::Operator);
    assert!(!user.disabled);
    assert_eq!(user.token_generation, 0);
    assert!(
        store
            .call_blocking(|conn| users::credentials(conn, "bob"))
            .expect("lookup")
            .is_none()
    );
}

#[test]
fn the_schema_refuses_anything_but_an_argon2id_hash_and_known_roles() {
    let store = store();
    let bad = store.call_blocking(|conn| {
        conn.execute(
            "INSERT INTO users (username, password_hash, role) VALUES ('x', 'plaintext', 'admin')",
            [],
        )?;
        Ok(())
    });
    assert!(matches!(bad, Err(StoreError::Sqlite(_))), "{bad:?}");
    let bad = store.call_blocking(|conn| {
        conn.execute(
            "INSERT INTO users (username, password_hash, role) VALUES ('x', ?1, 'root')",
            [HASH],
        )?;
        Ok(())
    });
    assert!(matches!(bad, Err(StoreError::Sqlite(_))), "{bad:?}");
}

#[test]
fn insert_if_none_creates_only_the_very_first_user() {
    let store = store();
    let first = store
        .call_blocking(|conn| users::insert_if_none(conn, &new_user("admin", Role::Admin)))
        .expect("first");
    assert!(first.is_some());
    let second = store
        .call_blocking(|conn| users::insert_if_none(conn, &new_user("other", Role::Admin)))
        .expect("second");
    assert!(second.is_none());
    assert_eq!(
        store
            .call_blocking(|conn| users::count(conn))
            .expect("count"),
        1
    );
}

#[test]
fn changes_that_matter_bump_the_token_generation() {
    let store = store();
    add_user(&store, "root", Role::Admin);
    let id = add_user(&store, "op", Role::Operator);
    let generation = |store: &Store| {
        store
            .call_blocking(move |conn| users::get(conn, id))
            .expect("get")
            .token_generation
    };
    let unchanged = store
        .call_blocking(move |conn| {
            users::update(
                conn,
                id,
                UserPatch {
                    role: Some(Role::Operator),
                    disabled: Some(false),
                },
            )
        })
        .expect("no-op");
    assert_eq!(unchanged.token_generation, 0, "no change, no revocation");

    let demoted = store
        .call_blocking(move |conn| {
            users::update(
                conn,
                id,
                UserPatch {
                    role: Some(Role::Viewer),
                    disabled: None,
                },
            )
        })
        .expect("demote");
    assert_eq!((demoted.role, demoted.token_generation), (Role::Viewer, 1));
    store
        .call_blocking(move |conn| users::set_password(conn, id, HASH))
        .expect("password");
    assert_eq!(generation(&store), 2);
    store
        .call_blocking(move |conn| users::revoke_tokens(conn, id))
        .expect("logout");
    assert_eq!(generation(&store), 3);
    let missing = store.call_blocking(|conn| users::revoke_tokens(conn, 999));
    assert!(matches!(missing, Err(StoreError::NotFound(_))));
}

#[test]
fn the_last_active_administrator_is_kept() {
    let store = store();
    let root = add_user(&store, "root", Role::Admin);
    let refuse = |patch: UserPatch| {
        let result = store.call_blocking(move |conn| users::update(conn, root, patch));
        assert!(matches!(result, Err(StoreError::Conflict(_))), "{result:?}");
    };
    refuse(UserPatch {
        role: Some(Role::Operator),
        disabled: None,
    });
    refuse(UserPatch {
        role: None,
        disabled: Some(true),
    });
    let deleted = store.call_blocking(move |conn| users::delete(conn, root));
    assert!(matches!(deleted, Err(StoreError::Conflict(_))));

    // A disabled administrator does not count.
    let other = add_user(&store, "other", Role::Admin);
    store
        .call_blocking(move |conn| {
            users::update(
                conn,
                other,
                UserPatch {
                    role: None,
                    disabled: Some(true),
                },
            )
        })
        .expect("disable the other one");
    let deleted = store.call_blocking(move |conn| users::delete(conn, root));
    assert!(matches!(deleted, Err(StoreError::Conflict(_))));
    assert_eq!(
        store
            .call_blocking(|conn| users::count_active_admins(conn))
            .expect("count"),
        1
    );
}

#[test]
fn deleting_a_user_takes_grants_and_keys_along_and_ids_are_never_reused() {
    let store = store();
    add_user(&store, "root", Role::Admin);
    let id = add_user(&store, "leaver", Role::Operator);
    let server = add_server(&store);
    store
        .call_blocking(move |conn| {
            grants::put(conn, id, server, GrantRole::Viewer)?;
            api_keys::insert(conn, &new_key(id, 1))?;
            users::delete(conn, id)
        })
        .expect("delete");
    let (grants, keys): (i64, i64) = store
        .call_blocking(|conn| {
            Ok(conn.query_row(
                "SELECT (SELECT COUNT(*) FROM server_grants), (SELECT COUNT(*) FROM api_keys)",
                [],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )?)
        })
        .expect("counts");
    assert_eq!((grants, keys), (0, 0));
    let next = add_user(&store, "leaver", Role::Operator);
    assert!(next > id, "AUTOINCREMENT: {next} after {id}");
}

#[test]
fn users_are_listed_in_pages_by_id() {
    let store = store();
    let ids: Vec<i64> = ["a", "b", "c"]
        .iter()
        .map(|n| add_user(&store, n, Role::Viewer))
        .collect();
    let first = store
        .call_blocking(|conn| users::list(conn, None, 2))
        .expect("page");
    assert_eq!(first.iter().map(|u| u.id).collect::<Vec<_>>(), ids[..2]);
    let after = ids[1];
    let rest = store
        .call_blocking(move |conn| users::list(conn, Some(after), 2))
        .expect("page");
    assert_eq!(rest.iter().map(|u| u.id).collect::<Vec<_>>(), ids[2..]);
}

// ---- grants ----

#[test]
fn grants_are_one_per_user_and_server_and_need_both_to_exist() {
    let store = store();
    let user = add_user(&store, "guest", Role::Operator);
    let server = add_server(&store);
    let second = add_server(&store);
    store
        .call_blocking(move |conn| {
            grants::put(conn, user, server, GrantRole::Viewer)?;
            grants::put(conn, user, server, GrantRole::Operator)?;
            grants::put(conn, user, second, GrantRole::Viewer)
        })
        .expect("grants");
    let all = store
        .call_blocking(move |conn| grants::all_for_user(conn, user))
        .expect("all");
    assert_eq!(all.len(), 2);
    let grant = store
        .call_blocking(move |conn| grants::get(conn, user, server))
        .expect("get")
        .expect("exists");
    assert_eq!(grant.role, GrantRole::Operator);
    let page = store
        .call_blocking(move |conn| grants::list_for_user(conn, user, Some(server), 10))
        .expect("page");
    assert_eq!(
        page.iter().map(|g| g.server_id).collect::<Vec<_>>(),
        [second]
    );

    for (u, s) in [(999, server), (user, 999)] {
        let result = store.call_blocking(move |conn| grants::put(conn, u, s, GrantRole::Viewer));
        assert!(matches!(result, Err(StoreError::NotFound(_))), "{result:?}");
    }
    store
        .call_blocking(move |conn| servers::soft_delete(conn, second))
        .expect("delete server");
    let result =
        store.call_blocking(move |conn| grants::put(conn, user, second, GrantRole::Viewer));
    assert!(
        matches!(result, Err(StoreError::NotFound(_))),
        "deleted servers take no grants"
    );

    store
        .call_blocking(move |conn| grants::delete(conn, user, server))
        .expect("delete");
    let again = store.call_blocking(move |conn| grants::delete(conn, user, server));
    assert!(matches!(again, Err(StoreError::NotFound(_))));
}

// ---- API keys ----

#[test]
fn api_keys_are_found_by_hash_revoked_once_and_listed_per_owner() {
    let store = store();
    let alice = add_user(&store, "alice", Role::Operator);
    let bob = add_user(&store, "bob", Role::Operator);
    let key = store
        .call_blocking(move |conn| api_keys::insert(conn, &new_key(alice, 1)))
        .expect("key");
    store
        .call_blocking(move |conn| api_keys::insert(conn, &new_key(bob, 2)))
        .expect("key");
    let duplicate = store.call_blocking(move |conn| api_keys::insert(conn, &new_key(bob, 2)));
    assert!(matches!(duplicate, Err(StoreError::Conflict(_))));

    let found = store
        .call_blocking(|conn| api_keys::find_by_hash(conn, &[1; 32]))
        .expect("find")
        .expect("found");
    assert_eq!(
        (found.key_id, found.user_id, found.revoked),
        (key.id, alice, false)
    );
    assert!(
        store
            .call_blocking(|conn| api_keys::find_by_hash(conn, &[9; 32]))
            .expect("find")
            .is_none()
    );

    let id = key.id;
    let first = store
        .call_blocking(move |conn| api_keys::revoke(conn, id))
        .expect("revoke");
    let second = store
        .call_blocking(move |conn| api_keys::revoke(conn, id))
        .expect("revoke again");
    assert!(first.revoked_at.is_some());
    assert_eq!(
        first.revoked_at, second.revoked_at,
        "the first time is kept"
    );
    assert!(
        store
            .call_blocking(|conn| api_keys::find_by_hash(conn, &[1; 32]))
            .expect("find")
            .is_some_and(|k| k.revoked)
    );

    store
        .call_blocking(move |conn| api_keys::touch(conn, id))
        .expect("touch");
    let mine = store
        .call_blocking(move |conn| api_keys::list(conn, Some(alice), None, 10))
        .expect("list");
    assert_eq!(mine.len(), 1);
    assert!(mine[0].last_used_at.is_some());
    let everyone = store
        .call_blocking(|conn| api_keys::list(conn, None, None, 10))
        .expect("list");
    assert_eq!(everyone.len(), 2);
}

// ---- audit ----

#[test]
fn audit_rows_are_appended_and_read_newest_first() {
    let store = store();
    let user = add_user(&store, "root", Role::Admin);
    for (i, status) in [200u16, 401, 204].into_iter().enumerate() {
        let entry = NewAuditEntry {
            user_id: (status != 401).then_some(user),
            api_key_id: Some(7),
            actor: Some("root".into()),
            action: format!("POST /api/v1/thing/{i}"),
            target: None,
            detail: None,
            client: "127.0.0.1:1".into(),
            status,
        };
        store
            .call_blocking(move |conn| audit::insert(conn, &entry))
            .expect("insert");
    }
    let rows = store
        .call_blocking(|conn| audit::list(conn, None, 2))
        .expect("list");
    assert_eq!(
        rows.iter().map(|r| r.status).collect::<Vec<_>>(),
        [204, 401]
    );
    assert_eq!(rows[1].user_id, None);
    assert_eq!(
        rows[1].api_key_id, None,
        "a key without a user is not recorded"
    );
    assert_eq!(rows[0].api_key_id, Some(7));
    let before = rows[1].id;
    let older = store
        .call_blocking(move |conn| audit::list(conn, Some(before), 10))
        .expect("list");
    assert_eq!(older.len(), 1);
    assert_eq!(older[0].action, "POST /api/v1/thing/0");
    assert_eq!(older[0].repeats, 1);

    // A burst of refused calls counts on its first row.
    let first = older[0].id;
    store
        .call_blocking(move |conn| audit::add_repeats(conn, first, 41))
        .expect("count");
    let rows = store
        .call_blocking(move |conn| audit::list(conn, Some(first + 1), 1))
        .expect("list");
    assert_eq!(rows[0].repeats, 42);
}
