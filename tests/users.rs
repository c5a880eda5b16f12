//! Users on a real host: the first start creates an administrator, the API needs a bearer
//! token, and `garrison user create` adds users from the command line, also while the host
//! runs.

use crate::common;

use std::os::unix::fs::PermissionsExt;

use common::{garrison_with_env, start_host, start_host_in};
use reqwest::Method;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_start_creates_an_administrator_and_the_api_needs_a_token() {
    let host = start_host().await;
    let file = host.data_dir.path().join("initial-admin-password");
    let mode = std::fs::metadata(&file)
        .expect("password file")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let key = host.data_dir.path().join("jwt.key");
    let mode = std::fs::metadata(&key)
        .expect("signing key")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);

    let (status, _) = host
        .request(Method::GET, "/api/v1/adapters", None, None)
        .await;
    assert_eq!(status, 401);
    let (status, list) = host.get_json("/api/v1/adapters").await;
    assert_eq!(status, 200);
    assert!(list["adapters"].as_array().is_some_and(|a| !a.is_empty()));
    let (status, _) = host
        .request(Method::GET, "/api/v1/system/health", None, None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(host.login("admin", "wrong password").await, Err(401));

    // The audit log knows where calls came from.
    let (status, audit) = host.get_json("/api/v1/audit").await;
    assert_eq!(status, 200);
    let rows = audit["items"].as_array().expect("rows");
    assert!(
        rows.iter().all(|r| r["client"]
            .as_str()
            .is_some_and(|c| c.starts_with("127.0.0.1:"))),
        "{rows:?}"
    );
    let password = host.initial_admin_password();
    let dir = host.stop_and_keep().await;

    // A second start keeps the administrator and writes no new password.
    let host = start_host_in(dir).await;
    assert_eq!(host.initial_admin_password(), password);
    host.login("admin", &password)
        .await
        .expect("same administrator");
    host.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_create_works_while_the_host_runs() {
    let host = start_host().await;
    let data_dir = host.data_dir.path().display().to_string();
    let (ok, out, err) = tokio::task::spawn_blocking(move || {
        garrison_with_env(
            &[
                "user",
                "create",
                "carol",
                "--role",
                "operator",
                "--data-dir",
                &data_dir,
            ],
            &[("GARRISON_PASSWORD", "carol's long password")],
        )
    })
    .await
    .expect("cli");
    assert!(ok, "stderr: {err}");
    assert!(out.contains("created user carol"), "{out}");
    assert!(!out.contains("carol's long password") && !err.contains("carol's long password"));

    let token = host
        .login("Carol", "carol's long password")
        .await
        .expect("the running host sees the new user");
    let (status, me) = host
        .request(Method::GET, "/api/v1/auth/me", Some(&token), None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(me["role"], "operator");
    host.stop().await;
}

#[test]
fn user_create_checks_its_input_and_never_takes_a_password_from_arguments() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data_dir = dir.path().display().to_string();
    let env = [("GARRISON_PASSWORD", "a fine password")];

    let (ok, out, err) = garrison_with_env(
        &["user", "create", "dave", "--admin", "--data-dir", &data_dir],
        &env,
    );
    assert!(ok, "{err}");
    assert!(out.contains("role admin"), "{out}");

    let (ok, _, err) =
        garrison_with_env(&["user", "create", "DAVE", "--data-dir", &data_dir], &env);
    assert!(!ok);
    assert!(err.contains("taken"), "{err}");

    let (ok, _, err) = garrison_with_env(&["user", "create", "erin", "--data-dir", &data_dir], &[]);
    assert!(!ok);
    assert!(
        err.contains("GARRISON_PASSWORD"),
        "no TTY, no variable: {err}"
    );

    let (ok, _, err) = garrison_with_env(
        &["user", "create", "erin", "--data-dir", &data_dir],
        &[("GARRISON_PASSWORD", "short")],
    );
    assert!(!ok);
    assert!(err.contains("at least 8"), "{err}");

    let (ok, _, err) = garrison_with_env(
        &["user", "create", "bad name", "--data-dir", &data_dir],
        &env,
    );
    assert!(!ok);
    assert!(err.contains("username"), "{err}");

    let (ok, _, err) = garrison_with_env(
        &[
            "user",
            "create",
            "erin",
            "--role",
            "root",
            "--data-dir",
            &data_dir,
        ],
        &env,
    );
    assert!(!ok);
    assert!(err.contains("admin, operator or viewer"), "{err}");

    let (ok, _, err) = garrison_with_env(
        &[
            "user",
            "create",
            "erin",
            "--admin",
            "--role",
            "viewer",
            "--data-dir",
            &data_dir,
        ],
        &env,
    );
    assert!(!ok, "--admin and --role conflict: {err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_created_before_the_first_start_replaces_the_generated_administrator() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data_dir = dir.path().display().to_string();
    let (ok, _, err) = garrison_with_env(
        &["user", "create", "root", "--admin", "--data-dir", &data_dir],
        &[("GARRISON_PASSWORD", "chosen by a person")],
    );
    assert!(ok, "{err}");
    let host = start_host_in(dir).await;
    assert!(
        !host.data_dir.path().join("initial-admin-password").exists(),
        "no generated administrator when users exist"
    );
    host.login("root", "chosen by a person")
        .await
        .expect("signs in");
    host.stop().await;
}
