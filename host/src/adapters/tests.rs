use super::model::{Description, Field, FieldKind};
use super::registry::{check_description, check_schema, parse_version};

fn description(id: &str, version: &str) -> Description {
    Description {
        id: id.into(),
        name: "Game".into(),
        version: version.into(),
        summary: String::new(),
        steam_app_id: None,
        runtime: crate::adapters::model::RuntimeSource::None,
        capabilities: Vec::new(),
    }
}

#[test]
fn versions_parse_as_three_numbers() {
    assert_eq!(parse_version("1.2.3"), Some((1, 2, 3)));
    assert_eq!(parse_version("0.10.0-beta.1"), Some((0, 10, 0)));
    assert_eq!(parse_version("1.2"), None);
    assert_eq!(parse_version("1.2.3.4"), None);
    assert_eq!(parse_version("a.b.c"), None);
    assert!(parse_version("0.10.0") > parse_version("0.9.9"));
}

#[test]
fn descriptions_need_a_usable_id_name_and_version() {
    assert!(check_description(&description("some-game", "1.0.0")).is_ok());
    for bad_id in ["", "Upper", "has space", "-lead", "a/b", &"x".repeat(33)] {
        assert!(
            check_description(&description(bad_id, "1.0.0")).is_err(),
            "{bad_id:?}"
        );
    }
    assert!(check_description(&description("ok", "latest")).is_err());
}

fn field(key: &str, kind: FieldKind, default: Option<serde_json::Value>) -> Field {
    Field {
        key: key.into(),
        label: key.into(),
        help: String::new(),
        section: String::new(),
        kind,
        default,
        required: false,
        advanced: false,
    }
}

#[test]
fn schemas_need_unique_keys_and_valid_defaults() {
    assert!(check_schema(&[field("a", FieldKind::Flag, Some(serde_json::json!(true)))]).is_ok());
    assert!(
        check_schema(&[
            field("a", FieldKind::Flag, None),
            field("a", FieldKind::Port, None)
        ])
        .is_err()
    );
    assert!(check_schema(&[field("bad key", FieldKind::Flag, None)]).is_err());
    assert!(check_schema(&[field("p", FieldKind::Port, Some(serde_json::json!(70000)))]).is_err());
    assert!(check_schema(&[field("n", FieldKind::Integer { min: 5, max: 1 }, None)]).is_err());
}
