use std::os::unix::fs::PermissionsExt;

use serde_json::json;

use super::*;

fn schema() -> Vec<Field> {
    let field = |key: &str, kind| Field {
        key: key.into(),
        label: key.into(),
        help: String::new(),
        section: String::new(),
        kind,
        default: None,
        required: false,
        advanced: false,
    };
    vec![
        field(
            "hostname",
            FieldKind::Text {
                max_length: None,
                multiline: false,
            },
        ),
        field("rcon_password", FieldKind::Secret),
        field("steam_password", FieldKind::Secret),
    ]
}

#[test]
fn the_key_file_is_created_private_and_reused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let first = SecretBox::load_or_create(dir.path()).expect("create");
    let path = dir.path().join(KEY_FILE);
    let mode = std::fs::metadata(&path)
        .expect("key file")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let sealed = first.seal("f", "hunter2");
    let second = SecretBox::load_or_create(dir.path()).expect("reuse");
    assert_eq!(second.open("f", &sealed).expect("same key"), "hunter2");
}

#[test]
fn sealed_values_are_bound_to_their_key_and_field() {
    let a = SecretBox::from_base64(&B64.encode([7u8; 32])).expect("key");
    let b = SecretBox::from_base64(&B64.encode([8u8; 32])).expect("key");
    let sealed = a.seal("rcon_password", "s3cret");
    assert!(is_sealed(&sealed) && !sealed.contains("s3cret"));
    assert_ne!(
        sealed,
        a.seal("rcon_password", "s3cret"),
        "fresh nonce each time"
    );
    assert_eq!(a.open("rcon_password", &sealed).expect("open"), "s3cret");
    assert!(
        matches!(b.open("rcon_password", &sealed), Err(SecretError::Open)),
        "wrong key"
    );
    assert!(
        matches!(a.open("steam_password", &sealed), Err(SecretError::Open)),
        "moved field"
    );
    let mut tampered = sealed.clone();
    tampered.pop();
    tampered.push('A');
    assert!(a.open("rcon_password", &tampered).is_err());
    assert!(a.open("rcon_password", "enc:v1:!!").is_err());
    assert!(SecretBox::from_base64("short").is_err());
}

#[test]
fn settings_are_sealed_opened_and_masked_by_schema() {
    let secrets = SecretBox::from_base64(&B64.encode([1u8; 32])).expect("key");
    let mut settings =
        json!({"hostname": "My Server", "rcon_password": "pw1", "steam_password": ""})
            .as_object()
            .cloned()
            .expect("object");
    secrets.seal_settings(&schema(), &mut settings);
    assert_eq!(settings["hostname"], "My Server", "non-secrets untouched");
    let stored = serde_json::to_string(&settings).expect("json");
    assert!(!stored.contains("pw1"), "{stored}");
    // Sealing twice does not double-seal.
    let again = settings.clone();
    secrets.seal_settings(&schema(), &mut settings);
    assert_eq!(settings, again);
    let masked = masked_settings(&schema(), &settings);
    assert_eq!(masked["rcon_password"], json!({"set": true}));
    // An empty (cleared) secret is not sealed into something that looks set.
    assert_eq!(settings["steam_password"], "");
    assert_eq!(masked["steam_password"], json!({"set": false}));
    assert_eq!(masked["hostname"], "My Server");
    secrets
        .open_settings(&schema(), &mut settings)
        .expect("open");
    assert_eq!(settings["rcon_password"], "pw1");
    assert_eq!(
        masked_settings(&schema(), &json!({}).as_object().cloned().expect("o"))["steam_password"],
        json!({"set": false})
    );
}

#[test]
fn debug_never_shows_the_key() {
    let secrets = SecretBox::from_base64(&B64.encode([9u8; 32])).expect("key");
    assert_eq!(format!("{secrets:?}"), "SecretBox(********)");
}
