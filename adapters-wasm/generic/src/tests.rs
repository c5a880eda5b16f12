use super::*;

fn settings(pairs: Vec<(&str, SettingValue)>) -> Settings {
    Settings::from_pairs(pairs)
}

fn text(s: &str) -> SettingValue {
    SettingValue::Text(s.to_string())
}

fn items(v: &[&str]) -> SettingValue {
    SettingValue::Items(v.iter().map(|s| s.to_string()).collect())
}

fn ctx() -> Context {
    Context {
        server_id: "7".into(),
        instance_dir: "/srv/garrison/servers/7".into(),
        runtime_dir: "/srv/garrison/runtimes/generic".into(),
    }
}

fn field_errors(s: &Settings) -> Vec<String> {
    match Generic::validate(s) {
        Ok(()) => Vec::new(),
        Err(errors) => errors.into_iter().map(|e| e.field).collect(),
    }
}

#[test]
fn describe_declares_no_rcon() {
    let d = Generic::describe();
    assert_eq!(d.id, "generic");
    assert!(!d.capabilities.contains(Capabilities::RCON));
    assert!(
        d.capabilities
            .contains(Capabilities::LOGS | Capabilities::READY_DETECTION)
    );
}

#[test]
fn schema_has_the_documented_fields_once() {
    let keys: Vec<String> = Generic::schema().into_iter().map(|f| f.key).collect();
    for k in [
        "executable",
        "args",
        "working_dir",
        "env",
        "ready_pattern",
        "stop_signal_grace_secs",
    ] {
        assert_eq!(keys.iter().filter(|x| *x == k).count(), 1, "{k}");
    }
}

#[test]
fn launch_passes_arguments_through_unsplit() {
    let s = settings(vec![
        ("executable", text("/opt/game/server")),
        ("args", items(&["--name", "My Server With Spaces", "-x"])),
        ("env", items(&["LANG=C.UTF-8", "EMPTY="])),
    ]);
    let spec = Generic::launch(&ctx(), &s).expect("launch");
    assert_eq!(spec.program, "/opt/game/server");
    assert_eq!(spec.args, vec!["--name", "My Server With Spaces", "-x"]);
    assert_eq!(
        spec.env,
        vec![
            ("LANG".to_string(), "C.UTF-8".to_string()),
            ("EMPTY".to_string(), String::new())
        ]
    );
    assert_eq!(spec.working_dir, None);
    assert!(!spec.wait_for_ready, "no pattern: running once started");
}

#[test]
fn a_ready_pattern_makes_the_launch_wait_for_ready() {
    let s = settings(vec![
        ("executable", text("srv")),
        ("ready_pattern", text("^Ready")),
    ]);
    assert!(Generic::launch(&ctx(), &s).expect("launch").wait_for_ready);
}

#[test]
fn validate_reports_every_bad_field() {
    let s = settings(vec![
        ("executable", text("  ")),
        ("working_dir", text("relative/dir")),
        ("env", items(&["NOEQUALS", "1BAD=x", "GOOD=1"])),
        ("ready_pattern", text("(unclosed")),
    ]);
    let fields = field_errors(&s);
    assert_eq!(
        fields,
        vec!["executable", "working_dir", "env", "env", "ready_pattern"],
        "{fields:?}"
    );
}

#[test]
fn validate_accepts_a_minimal_server() {
    let s = settings(vec![
        ("executable", text("/bin/sleep")),
        ("args", items(&["100"])),
    ]);
    assert_eq!(field_errors(&s), Vec::<String>::new());
}

#[test]
fn stop_plan_uses_the_grace_setting() {
    let s = settings(vec![("stop_signal_grace_secs", SettingValue::Integer(5))]);
    let plan = Generic::stop_plan(&s).expect("plan");
    assert!(plan.steps.is_empty());
    assert_eq!(plan.grace_secs, Some(5));
    assert_eq!(
        Generic::stop_plan(&Settings::default())
            .expect("plan")
            .grace_secs,
        Some(30)
    );
}

#[test]
fn parser_reports_ready_lines_and_guesses_levels() {
    let s = settings(vec![("ready_pattern", text(r"listening on port \d+"))]);
    let mut parser = Generic::create_parser(&s).expect("parser");
    let parsed = parser.feed(
        "console",
        "booting\nWARNING: low memory\nlistening on port 2302\nError: something\n",
    );
    assert_eq!(parsed.records.len(), 4);
    assert!(
        parsed
            .records
            .iter()
            .all(|r| r.lines == 1 && r.text.is_none())
    );
    assert_eq!(parsed.records[1].level, Level::Warning);
    assert_eq!(parsed.records[3].level, Level::Error);
    assert_eq!(parsed.events.len(), 1);
    assert_eq!(parsed.events[0].record, 2);
    assert!(matches!(parsed.events[0].event, GameEvent::ServerReady));
}

#[test]
fn parser_without_pattern_emits_no_events() {
    let mut parser = Generic::create_parser(&Settings::default()).expect("parser");
    let parsed = parser.feed("console", "ready\n\n");
    assert_eq!(parsed.records.len(), 2, "an empty line is a line");
    assert!(
        parser.feed("console", "").records.is_empty(),
        "an empty batch has no lines"
    );
    assert!(parsed.events.is_empty());
}

#[test]
fn invalid_pattern_is_an_error_not_a_panic() {
    let s = settings(vec![("ready_pattern", text("[z-a]"))]);
    assert!(matches!(
        Generic::create_parser(&s),
        Err(AdapterError::Invalid(_))
    ));
}
