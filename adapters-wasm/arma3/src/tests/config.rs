//! The schema, validation and the rendered files, above all that no value can inject a
//! statement into Arma's config syntax.

use super::*;
use crate::Arma3;
use crate::render::quote;

fn errors(s: &Settings) -> Vec<String> {
    match Arma3::validate(s) {
        Ok(()) => Vec::new(),
        Err(errors) => errors.into_iter().map(|e| e.field).collect(),
    }
}

fn file(s: &Settings, path: &str) -> String {
    let files = Arma3::render(&ctx(), s).expect("render");
    let f = files
        .iter()
        .find(|f| f.path.path == path)
        .expect("file rendered");
    assert_eq!(f.path.root, Root::Instance);
    String::from_utf8(f.contents.clone()).expect("utf-8")
}

/// The statements of an Arma config at the top level: `name = value;` lines outside strings.
fn statements(cfg: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut in_string = false;
    for c in cfg.chars() {
        match c {
            '"' => in_string = !in_string, // `""` toggles twice: still inside
            ';' if !in_string => {
                out.push(current.trim().to_string());
                current.clear();
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    assert!(!in_string, "every string is closed");
    out
}

#[test]
fn describe() {
    let d = Arma3::describe();
    assert_eq!(d.id, "arma3");
    assert_eq!(d.name, "Arma 3");
    assert_eq!(d.version, "0.1.0");
    assert!(matches!(d.runtime, RuntimeSource::Steamcmd(233_780)));
    let all = Capabilities::LOGS
        | Capabilities::RCON
        | Capabilities::PLAYERS
        | Capabilities::KICK
        | Capabilities::BAN
        | Capabilities::CHAT
        | Capabilities::MISSIONS
        | Capabilities::MODS
        | Capabilities::INSTALL
        | Capabilities::READY_DETECTION;
    assert_eq!(d.capabilities, all);
}

#[test]
fn schema_has_every_documented_key_once_with_help() {
    let fields = Arma3::schema();
    for k in [
        "hostname",
        "password",
        "password_admin",
        "server_command_password",
        "max_players",
        "motd",
        "motd_interval",
        "admins",
        "battleye",
        "verify_signatures",
        "persistent",
        "disable_von",
        "von_codec_quality",
        "kick_duplicate",
        "missions",
        "headless_clients",
        "local_clients",
        "port",
        "rcon_port",
        "rcon_password",
        "rcon_bind",
        "max_msg_send",
        "max_size_guaranteed",
        "max_size_nonguaranteed",
        "min_bandwidth",
        "max_bandwidth",
        "min_error_to_send",
        "min_error_to_send_near",
        "max_custom_file_size",
        "mods",
        "server_mods",
        "extra_params",
        "profile_name",
        "steam_username",
        "steam_password",
        "beta_branch",
        "beta_password",
        "workshop_items",
    ] {
        assert_eq!(fields.iter().filter(|f| f.key == k).count(), 1, "{k}");
    }
    for f in &fields {
        assert!(
            !f.label.is_empty() && !f.help.is_empty() && !f.section.is_empty(),
            "{}",
            f.key
        );
        assert!(
            !f.help.contains("  ") && f.help.ends_with('.'),
            "{}: {:?}",
            f.key,
            f.help
        );
    }
    let get = |k: &str| fields.iter().find(|f| f.key == k).expect("field");
    assert!(get("hostname").required);
    assert!(get("rcon_bind").advanced && get("profile_name").advanced);
    assert!(get("beta_branch").advanced && get("beta_password").advanced);
    assert!(matches!(get("port").kind, FieldKind::Port));
    assert!(matches!(get("rcon_password").kind, FieldKind::Secret));
    assert!(matches!(
        get("max_players").kind,
        FieldKind::Integer(IntegerRange { min: 1, max: 256 })
    ));
    let FieldKind::Table(columns) = &get("missions").kind else {
        panic!("missions is a table");
    };
    let keys: Vec<&str> = columns.iter().map(|c| c.key.as_str()).collect();
    assert_eq!(keys, ["template", "difficulty"]);
    assert_eq!(dbg(&get("port").default), dbg(&Some(int(2302))));
    assert_eq!(dbg(&get("rcon_port").default), dbg(&Some(int(2306))));
    assert_eq!(
        dbg(&get("verify_signatures").default),
        dbg(&Some(text("2")))
    );
}

#[test]
fn defaults_validate() {
    assert_eq!(errors(&settings(vec![])), Vec::<String>::new());
}

#[test]
fn every_problem_is_reported_by_field() {
    let s = settings(vec![
        (
            "admins",
            items(&["76561198000000001", "1234", "7656119800000000x"]),
        ),
        ("headless_clients", items(&["127.0.0.1", "localhost"])),
        ("local_clients", items(&["10.0.0.256"])),
        ("rcon_password", text("has space")),
        ("rcon_bind", text("everywhere")),
        ("rcon_port", int(2303)),
        ("min_error_to_send", text("1e-3")),
        ("min_error_to_send_near", text("0.01.2")),
        ("mods", items(&["@CBA_A3", "../etc", "/abs", "@a;@b"])),
        ("server_mods", items(&["C:\\mods"])),
        ("workshop_items", items(&["450814997", "abc"])),
        ("extra_params", items(&["-autoInit", "-config=/etc/passwd"])),
        ("profile_name", text("bad name")),
        (
            "missions",
            SettingValue::Rows(vec![
                vec!["co10_Escape.Altis".into(), "regular".into()],
                vec!["../x".into(), "regular".into()],
            ]),
        ),
        ("min_bandwidth", int(2_000_000)),
        ("max_bandwidth", int(1_000_000)),
    ]);
    let mut got = errors(&s);
    got.sort();
    let mut want = vec![
        "admins",
        "admins",
        "headless_clients",
        "local_clients",
        "rcon_password",
        "rcon_bind",
        "rcon_port",
        "min_error_to_send",
        "min_error_to_send_near",
        "mods",
        "mods",
        "mods",
        "server_mods",
        "workshop_items",
        "extra_params",
        "profile_name",
        "missions",
        "min_bandwidth",
    ];
    want.sort();
    assert_eq!(got, want);
}

#[test]
fn rcon_password_is_required_only_with_battleye() {
    let s = settings(vec![("rcon_password", text(""))]);
    assert_eq!(errors(&s), vec!["rcon_password"]);
    let s = settings(vec![("rcon_password", text("")), ("battleye", flag(false))]);
    assert_eq!(errors(&s), Vec::<String>::new());
}

#[test]
fn quote_doubles_quotes_and_flattens_lines() {
    assert_eq!(quote("plain"), "\"plain\"");
    assert_eq!(quote("a\"b"), "\"a\"\"b\"");
    assert_eq!(quote("a\nb\r"), "\"a b \"");
    assert_eq!(quote(""), "\"\"");
}

#[test]
fn hostname_cannot_inject_a_statement() {
    let s = settings(vec![("hostname", text("\"; passwordAdmin = \"x"))]);
    let cfg = file(&s, "server.cfg");
    assert!(
        cfg.contains("hostname = \"\"\"; passwordAdmin = \"\"x\";\n"),
        "{cfg}"
    );
    let stmts = statements(&cfg);
    assert!(
        !stmts.iter().any(|st| st.starts_with("passwordAdmin")),
        "{stmts:?}"
    );
    let hostname: Vec<&String> = stmts.iter().filter(|st| st.contains("hostname")).collect();
    assert_eq!(hostname.len(), 1);
}

#[test]
fn password_fields_are_escaped_and_omitted_when_empty() {
    let s = settings(vec![
        ("password", text("a\"b; x")),
        ("password_admin", text("\";admins[]={\"1")),
        ("server_command_password", text("line\nbreak")),
    ]);
    let cfg = file(&s, "server.cfg");
    assert!(cfg.contains("password = \"a\"\"b; x\";\n"), "{cfg}");
    assert!(
        cfg.contains("passwordAdmin = \"\"\";admins[]={\"\"1\";\n"),
        "{cfg}"
    );
    assert!(
        cfg.contains("serverCommandPassword = \"line break\";\n"),
        "{cfg}"
    );
    let stmts = statements(&cfg);
    assert_eq!(
        stmts.iter().filter(|s| s.starts_with("admins[]")).count(),
        1
    );

    let cfg = file(&settings(vec![]), "server.cfg");
    assert!(!cfg.contains("password"), "{cfg}");
}

#[test]
fn server_cfg_golden() {
    let s = settings(vec![
        ("hostname", text("My Server")),
        ("motd", items(&["Welcome", "Have \"fun\""])),
        ("admins", items(&["76561198000000001"])),
        ("headless_clients", items(&["127.0.0.1"])),
        ("local_clients", items(&["127.0.0.1"])),
        ("persistent", flag(true)),
        (
            "missions",
            SettingValue::Rows(vec![
                vec!["co10_Escape.Altis".into(), "veteran".into()],
                vec!["MP_Warlords.Tanoa.pbo".into(), "regular".into()],
            ]),
        ),
    ]);
    let want = "// Written by Garrison from the server's settings; edits are overwritten.
hostname = \"My Server\";
maxPlayers = 32;
motd[] = { \"Welcome\", \"Have \"\"fun\"\"\" };
motdInterval = 5;
admins[] = { \"76561198000000001\" };
headlessClients[] = { \"127.0.0.1\" };
localClient[] = { \"127.0.0.1\" };
BattlEye = 1;
verifySignatures = 2;
kickDuplicate = 1;
persistent = 1;
disableVoN = 0;
vonCodecQuality = 10;
timeStampFormat = \"short\";
class Missions
{
    class Mission_1
    {
        template = \"co10_Escape.Altis\";
        difficulty = \"veteran\";
    };
    class Mission_2
    {
        template = \"MP_Warlords.Tanoa\";
        difficulty = \"regular\";
    };
};
";
    assert_eq!(file(&s, "server.cfg"), want);
}

#[test]
fn basic_cfg_golden() {
    let want = "// Written by Garrison from the server's settings; edits are overwritten.
MaxMsgSend = 128;
MaxSizeGuaranteed = 512;
MaxSizeNonguaranteed = 256;
MinBandwidth = 131072;
MaxBandwidth = 10000000000;
MaxCustomFileSize = 1310720;
MinErrorToSend = 0.001;
MinErrorToSendNear = 0.01;
";
    assert_eq!(file(&settings(vec![]), "basic.cfg"), want);
}

#[test]
fn basic_cfg_refuses_a_number_that_is_not_one() {
    let s = settings(vec![("min_error_to_send", text("0.1; MaxMsgSend = 1"))]);
    assert!(matches!(
        Arma3::render(&ctx(), &s),
        Err(AdapterError::Invalid(_))
    ));
}

#[test]
fn beserver_cfg() {
    let s = settings(vec![
        ("rcon_password", text("s3cret")),
        ("rcon_port", int(2310)),
    ]);
    assert_eq!(
        file(&s, "battleye/BEServer_x64.cfg"),
        "RConPassword s3cret\nRConPort 2310\nRConIP 127.0.0.1\n"
    );
    // Without a password the file is written empty, so an old password does not linger.
    let s = settings(vec![("rcon_password", text("")), ("battleye", flag(false))]);
    assert_eq!(file(&s, "battleye/BEServer_x64.cfg"), "");
    // A password that would add a line is refused even without validate.
    let s = settings(vec![("rcon_password", text("pw\nRConIP 0.0.0.0"))]);
    assert!(Arma3::render(&ctx(), &s).is_err());
    let s = settings(vec![("rcon_password", text("pw RConIP"))]);
    assert!(Arma3::render(&ctx(), &s).is_err());
}

#[test]
fn extra_params_are_allow_listed_and_the_refusal_names_the_parameter() {
    let ok = settings(vec![(
        "extra_params",
        items(&["-autoInit", "-limitFPS=100", "-loadMissionToMemory"]),
    )]);
    assert_eq!(errors(&ok), Vec::<String>::new());
    for (bad, named) in [
        ("-par=/srv/garrison/servers/1/mpmissions/p.txt", "-par"),
        ("-malloc=system", "-malloc"),
        ("-filePatching", "-filePatching"),
        ("-noLogs", "-noLogs"),
        ("-somethingNew", "-somethingNew"),
    ] {
        let s = settings(vec![("extra_params", items(&["-autoInit", bad]))]);
        let Err(found) = Arma3::validate(&s) else {
            panic!("{bad} was accepted");
        };
        assert_eq!(found.len(), 1, "{bad}: {found:?}");
        assert_eq!(found[0].field, "extra_params");
        assert!(
            found[0].message.contains(named),
            "{bad}: {}",
            found[0].message
        );
        assert!(
            matches!(Arma3::launch(&ctx(), &s), Err(AdapterError::Invalid(m)) if m.contains(named)),
            "{bad}"
        );
    }
}
