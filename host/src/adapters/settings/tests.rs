use super::*;
use crate::adapters::model::Column;

fn field(key: &str, kind: FieldKind, default: Option<Value>, required: bool) -> Field {
    Field {
        key: key.into(),
        label: key.into(),
        help: String::new(),
        section: String::new(),
        kind,
        default,
        required,
        advanced: false,
    }
}

fn schema() -> Vec<Field> {
    vec![
        field(
            "name",
            FieldKind::Text {
                max_length: Some(8),
                multiline: false,
            },
            None,
            true,
        ),
        field("password", FieldKind::Secret, None, false),
        field(
            "slots",
            FieldKind::Integer { min: 1, max: 64 },
            Some(json!(10)),
            false,
        ),
        field("port", FieldKind::Port, Some(json!(2302)), false),
        field("public", FieldKind::Flag, None, false),
        field(
            "mode",
            FieldKind::Choice {
                options: vec![
                    ChoiceOption {
                        value: "coop".into(),
                        label: "Co-op".into(),
                    },
                    ChoiceOption {
                        value: "versus".into(),
                        label: "Versus".into(),
                    },
                ],
            },
            Some(json!("coop")),
            false,
        ),
        field(
            "mods",
            FieldKind::List {
                max_items: Some(2),
                item_hint: String::new(),
            },
            None,
            false,
        ),
        field(
            "rotation",
            FieldKind::Table {
                columns: vec![
                    Column {
                        key: "template".into(),
                        label: "Template".into(),
                        kind: ColumnKind::Text,
                    },
                    Column {
                        key: "difficulty".into(),
                        label: "Difficulty".into(),
                        kind: ColumnKind::Integer { min: 0, max: 3 },
                    },
                ],
            },
            None,
            false,
        ),
    ]
}

fn fields_of(errors: Vec<FieldError>) -> Vec<String> {
    errors.into_iter().map(|e| e.field).collect()
}

#[test]
fn defaults_fill_missing_optional_fields_in_schema_order() {
    let settings = from_json(&schema(), &json!({"name": "alpha"})).expect("valid");
    let keys: Vec<&str> = settings.iter().map(|s| s.key.as_str()).collect();
    assert_eq!(keys, ["name", "slots", "port", "mode"]);
    assert_eq!(settings[1].value, SettingValue::Integer(10));
}

#[test]
fn every_problem_is_reported_by_field() {
    let errors = from_json(
        &schema(),
        &json!({
            "name": "far too long a name",
            "slots": 65,
            "port": 0,
            "public": "yes",
            "mode": "deathmatch",
            "mods": ["a", "b", "c"],
            "rotation": [{"template": "x", "difficulty": 9}],
            "bogus": 1
        }),
    )
    .expect_err("invalid");
    let mut fields = fields_of(errors);
    fields.sort();
    assert_eq!(
        fields,
        [
            "bogus", "mode", "mods", "name", "port", "public", "rotation", "slots"
        ]
    );
}

#[test]
fn required_fields_must_be_present_and_not_blank() {
    assert_eq!(
        fields_of(from_json(&schema(), &json!({})).expect_err("missing")),
        ["name"]
    );
    assert_eq!(
        fields_of(from_json(&schema(), &json!({"name": "  "})).expect_err("blank")),
        ["name"]
    );
    assert_eq!(
        fields_of(from_json(&schema(), &json!({"name": null})).expect_err("null")),
        ["name"]
    );
}

#[test]
fn single_line_text_refuses_line_breaks_and_nul() {
    for bad in ["a\nb", "a\rb", "a\0b"] {
        let errors = from_json(&schema(), &json!({"name": "ok", "password": bad})).expect_err(bad);
        assert_eq!(fields_of(errors), ["password"]);
    }
}

#[test]
fn settings_must_be_an_object() {
    assert_eq!(
        fields_of(from_json(&schema(), &json!([1, 2])).expect_err("array")),
        [""]
    );
}

#[test]
fn table_rows_become_cells_in_column_order_and_back() {
    let schema = schema();
    let settings = from_json(
        &schema,
        &json!({"name": "a", "rotation": [{"difficulty": 2, "template": "co10.Altis"}, {"difficulty": 0}]}),
    )
    .expect("valid");
    let rotation = settings
        .iter()
        .find(|s| s.key == "rotation")
        .expect("present");
    assert_eq!(
        rotation.value,
        SettingValue::Rows(vec![
            vec!["co10.Altis".to_string(), "2".to_string()],
            vec![String::new(), "0".to_string()],
        ])
    );
    let kind = &schema
        .iter()
        .find(|f| f.key == "rotation")
        .expect("field")
        .kind;
    assert_eq!(
        value_to_json(kind, &rotation.value),
        json!([{"template": "co10.Altis", "difficulty": 2}, {"template": "", "difficulty": 0}])
    );
}

#[test]
fn secrets_are_found_and_masked_everywhere() {
    let schema = schema();
    let settings = from_json(&schema, &json!({"name": "a", "password": "hunter2"})).expect("valid");
    let secrets = secret_values(&schema, &settings);
    assert_eq!(secrets, ["hunter2"]);
    let masker = crate::secrets::Masker::new(&secrets);
    assert_eq!(
        masker.text("pass=hunter2; again hunter2hunter2"),
        "pass=********; again ****************"
    );
    assert_eq!(masker.bytes(b"no secret here"), b"no secret here");
    // A secret that contains another is masked whole, not as mask + rest.
    let masker = crate::secrets::Masker::new(["hunter", "hunter2"]);
    assert_eq!(masker.text("hunter2 hunter"), "******** ********");
    assert_eq!(masker.bytes(b"hunter2"), b"********");
}
