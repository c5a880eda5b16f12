//! The schema, validation and the rendered files, above all that no value can add a command
//! to the server's cfg, and that every rendered file is the server's own.

use super::*;
use crate::L4d2;
use crate::render::quote;

fn errors(s: &Settings) -> Vec<String> {
    match L4d2::validate(s) {
        Ok(()) => Vec::new(),
        Err(errors) => errors.into_iter().map(|e| e.field).collect(),
    }
}

fn file(s: &Settings, path: &str) -> Option<String> {
    let files = L4d2::render(&ctx(), s).expect("render");
    let f = files.iter().find(|f| f.path.path == path)?;
    assert_eq!(f.path.root, Root::Runtime);
    Some(String::from_utf8(f.contents.clone()).expect("utf-8"))
}

/// The cfg of a server on the default port.
fn server_cfg(s: &Settings) -> String {
    file(s, "left4dead2/cfg/garrison/27015.cfg").expect("the server's cfg rendered")
}

/// The commands of a Source cfg as the console splits them: one per line, `;` separating
/// commands outside double quotes; each reduced to its first word.
fn commands(cfg: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in cfg.lines() {
        let mut current = String::new();
        let mut in_string = false;
        for c in line.chars() {
            match c {
                '"' => in_string = !in_string,
                ';' if !in_string => {
                    out.push(std::mem::take(&mut current));
                    continue;
                }
                _ => {}
            }
            current.push(c);
        }
        assert!(!in_string, "every string is closed: {line}");
        out.push(current);
    }
    out.iter()
        .map(|c| c.trim())
        .filter(|c| !c.is_empty() && !c.starts_with("//"))
        .map(|c| c.split_whitespace().next().unwrap_or("").to_string())
        .collect()
}

#[test]
fn describe() {
    let d = L4d2::describe();
    assert_eq!(d.id, "l4d2");
    assert_eq!(d.name, "Left 4 Dead 2");
    assert_eq!(d.version, "0.1.0");
    assert!(matches!(d.runtime, RuntimeSource::Steamcmd(222_860)));
    let want = Capabilities::LOGS
        | Capabilities::RCON
        | Capabilities::PLAYERS
        | Capabilities::KICK
        | Capabilities::BAN
        | Capabilities::CHAT
        | Capabilities::MISSIONS
        | Capabilities::INSTALL
        | Capabilities::READY_DETECTION;
    assert_eq!(d.capabilities, want);
    assert!(!d.capabilities.contains(Capabilities::MODS));
}

#[test]
fn schema_has_every_key_once_with_help() {
    let fields = L4d2::schema();
    let keys = [
        "hostname",
        "rcon_password",
        "sv_password",
        "max_players",
        "start_map",
        "game_mode",
        "difficulty",
        "region",
        "sv_lan",
        "sv_alltalk",
        "sv_consistency",
        "sv_pure",
        "motd",
        "host_banner",
        "steam_group",
        "port",
        "extra_cvars",
        "extra_params",
    ];
    assert_eq!(fields.len(), keys.len());
    for k in keys {
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
    assert!(get("hostname").required && get("rcon_password").required);
    assert!(get("extra_cvars").advanced && get("extra_params").advanced);
    assert!(matches!(get("rcon_password").kind, FieldKind::Secret));
    assert!(matches!(get("sv_password").kind, FieldKind::Secret));
    assert!(matches!(get("port").kind, FieldKind::Port));
    assert!(matches!(
        get("max_players").kind,
        FieldKind::Integer(IntegerRange { min: 1, max: 32 })
    ));
    assert!(matches!(
        get("motd").kind,
        FieldKind::Text(TextOptions {
            multiline: true,
            ..
        })
    ));
    let FieldKind::Table(columns) = &get("extra_cvars").kind else {
        panic!("extra_cvars is a table");
    };
    let cols: Vec<&str> = columns.iter().map(|c| c.key.as_str()).collect();
    assert_eq!(cols, ["name", "value"]);
    let choices = |k: &str| match &get(k).kind {
        FieldKind::Choice(options) => options.iter().map(|o| o.value.clone()).collect(),
        _ => Vec::new(),
    };
    assert_eq!(
        choices("game_mode"),
        ["coop", "versus", "survival", "scavenge", "realism"]
    );
    assert_eq!(
        choices("difficulty"),
        ["Easy", "Normal", "Hard", "Impossible"]
    );
    assert_eq!(
        choices("region"),
        ["0", "1", "2", "3", "4", "5", "6", "7", "255"]
    );
    assert_eq!(choices("sv_pure"), ["0", "1", "2"]);
    for (k, want) in [
        (
            "hostname",
            dbg(&Some(text("Garrison Left 4 Dead 2 Server"))),
        ),
        ("max_players", dbg(&Some(int(8)))),
        ("start_map", dbg(&Some(text("c1m1_hotel")))),
        ("game_mode", dbg(&Some(text("coop")))),
        ("difficulty", dbg(&Some(text("Normal")))),
        ("region", dbg(&Some(text("255")))),
        ("sv_lan", dbg(&Some(flag(false)))),
        ("sv_consistency", dbg(&Some(flag(true)))),
        ("sv_pure", dbg(&Some(text("1")))),
        ("port", dbg(&Some(int(27015)))),
    ] {
        assert_eq!(dbg(&get(k).default), want, "{k}");
    }
}

#[test]
fn defaults_validate() {
    assert_eq!(errors(&settings(vec![])), Vec::<String>::new());
}

#[test]
fn every_problem_is_reported_by_field() {
    let s = settings(vec![
        ("hostname", text("  ")),
        ("rcon_password", text("a\"b")),
        ("sv_password", text("line\nbreak")),
        ("start_map", text("C1M1_Hotel")),
        ("steam_group", text("12a")),
        (
            "extra_cvars",
            rows(&[
                ("sv_allow_lobby_connect_only", "0"),
                ("bad name", "1"),
                ("RCON_PASSWORD", "x"),
                ("exec", "other.cfg"),
                ("ok", "two\nlines"),
            ]),
        ),
        (
            "extra_params",
            items(&[
                "-nohltv",
                "-port",
                "+map c5m1_waterfront",
                "+rcon_password x",
                "-GAME",
            ]),
        ),
    ]);
    let mut got = errors(&s);
    got.sort();
    let mut want = vec![
        "hostname",
        "rcon_password",
        "sv_password",
        "start_map",
        "steam_group",
        "extra_cvars",
        "extra_cvars",
        "extra_cvars",
        "extra_cvars",
        "extra_params",
        "extra_params",
        "extra_params",
        "extra_params",
    ];
    want.sort();
    assert_eq!(got, want);
}

#[test]
fn the_files_garrison_points_the_game_at_are_reserved() {
    for name in [
        "motdfile",
        "HostFile",
        "sv_logsdir",
        "servercfgfile",
        "exec",
    ] {
        let s = settings(vec![("extra_cvars", rows(&[(name, "cfg/server.cfg")]))]);
        assert_eq!(errors(&s), vec!["extra_cvars"], "{name}");
        let s = settings(vec![(
            "extra_params",
            items(&[&format!("+{name}"), "x.txt"]),
        )]);
        assert_eq!(errors(&s), vec!["extra_params"], "{name}");
    }
}

#[test]
fn the_rcon_password_is_required() {
    assert_eq!(
        errors(&settings(vec![("rcon_password", text(""))])),
        vec!["rcon_password"]
    );
}

#[test]
fn quote_replaces_quotes_and_drops_control_characters() {
    assert_eq!(quote("plain"), "\"plain\"");
    assert_eq!(quote("a\"b"), "\"a'b\"");
    assert_eq!(quote("a\nb\r\0c"), "\"abc\"");
    assert_eq!(quote(""), "\"\"");
    assert_eq!(quote("x; quit // y"), "\"x; quit // y\"");
}

#[test]
fn hostname_cannot_add_a_command() {
    let s = settings(vec![("hostname", text("\"; rcon_password \"x"))]);
    let cfg = server_cfg(&s);
    assert!(cfg.contains("hostname \"'; rcon_password 'x\"\n"), "{cfg}");
    let cmds = commands(&cfg);
    assert_eq!(
        cmds.iter().filter(|c| *c == "rcon_password").count(),
        1,
        "{cmds:?}"
    );
    assert!(cfg.contains("rcon_password \"s3cret\"\n"));
    // A line break cannot start a command either.
    let s = settings(vec![("hostname", text("x\nquit\r\nexec evil"))]);
    let cfg = server_cfg(&s);
    assert!(cfg.contains("hostname \"xquitexec evil\"\n"), "{cfg}");
    assert!(!commands(&cfg).iter().any(|c| c == "quit" || c == "exec"));
}

#[test]
fn extra_cvar_values_cannot_add_a_command() {
    let s = settings(vec![(
        "extra_cvars",
        rows(&[("sv_tags", "a\"; quit; \"b")]),
    )]);
    let cfg = server_cfg(&s);
    assert!(cfg.ends_with("sv_tags \"a'; quit; 'b\"\n"), "{cfg}");
    assert!(!commands(&cfg).iter().any(|c| c == "quit"));
}

#[test]
fn render_rechecks_what_validate_refuses() {
    for bad in [
        ("rcon_password", text("a\"; quit")),
        ("sv_password", text("x\ny")),
        ("game_mode", text("coop\"; quit")),
        ("region", text("9")),
        ("steam_group", text("1; quit")),
        ("extra_cvars", rows(&[("exec", "x")])),
        ("extra_cvars", rows(&[("a b", "x")])),
    ] {
        let key = bad.0;
        assert!(
            matches!(
                L4d2::render(&ctx(), &settings(vec![bad])),
                Err(AdapterError::Invalid(_))
            ),
            "{key}"
        );
    }
}

#[test]
fn server_cfg_golden() {
    let s = settings(vec![
        ("hostname", text("My Server")),
        ("sv_password", text("join me")),
        ("game_mode", text("versus")),
        ("difficulty", text("Hard")),
        ("region", text("3")),
        ("sv_alltalk", flag(true)),
        ("sv_pure", text("2")),
        ("steam_group", text("1234567")),
        (
            "extra_cvars",
            rows(&[("sv_allow_lobby_connect_only", "0"), ("sv_tags", "fun")]),
        ),
    ]);
    let want = "// Written by Garrison from the server's settings; edits are overwritten.
hostname \"My Server\"
rcon_password \"s3cret\"
sv_password \"join me\"
sv_gametypes \"versus\"
mp_gamemode \"versus\"
z_difficulty \"Hard\"
sv_region \"3\"
sv_lan \"0\"
sv_alltalk \"1\"
sv_consistency \"1\"
sv_pure \"2\"
sv_steamgroup \"1234567\"
log on
sv_logecho 0
sv_logfile 1
sv_allow_lobby_connect_only \"0\"
sv_tags \"fun\"
";
    assert_eq!(server_cfg(&s), want);
}

#[test]
fn defaults_render_only_the_servers_cfg() {
    let files = L4d2::render(&ctx(), &settings(vec![])).expect("render");
    assert_eq!(files.len(), 1);
    let cfg = server_cfg(&settings(vec![]));
    assert!(
        !cfg.contains("motdfile") && !cfg.contains("hostfile"),
        "the game keeps its own message of the day and banner: {cfg}"
    );
    assert!(
        cfg.contains("sv_password \"\"\n"),
        "an old password never lingers"
    );
    assert!(cfg.contains("mp_gamemode \"coop\"\nz_difficulty \"Normal\"\nsv_region \"255\"\n"));
    assert!(cfg.contains("sv_lan \"0\"\nsv_alltalk \"0\"\nsv_consistency \"1\"\nsv_pure \"1\"\n"));
}

#[test]
fn motd_and_banner_are_the_servers_own_files_when_set() {
    let s = settings(vec![
        ("port", int(27020)),
        ("motd", text("Welcome!\r\nHave \"fun\".")),
        ("host_banner", text("Garrison\u{7} server")),
    ]);
    assert_eq!(
        file(&s, "left4dead2/cfg/garrison/27020-motd.txt").as_deref(),
        Some("Welcome!\nHave \"fun\".\n")
    );
    assert_eq!(
        file(&s, "left4dead2/cfg/garrison/27020-host.txt").as_deref(),
        Some("Garrison server\n")
    );
    // The cfg points the game at them, relative to the game directory.
    let cfg = file(&s, "left4dead2/cfg/garrison/27020.cfg").expect("cfg");
    assert!(
        cfg.contains(
            "sv_steamgroup \"\"\nmotdfile \"cfg/garrison/27020-motd.txt\"\n\
             hostfile \"cfg/garrison/27020-host.txt\"\nlog on\n"
        ),
        "{cfg}"
    );
    assert_eq!(file(&s, "left4dead2/motd.txt"), None);
    assert_eq!(file(&s, "left4dead2/host.txt"), None);

    let s = settings(vec![("motd", text("  ")), ("host_banner", text(""))]);
    let files = L4d2::render(&ctx(), &s).expect("render");
    assert_eq!(files.len(), 1, "only the cfg");
    let s = settings(vec![("host_banner", text("only a banner"))]);
    let cfg = server_cfg(&s);
    assert!(
        cfg.contains("hostfile \"cfg/garrison/27015-host.txt\"\n"),
        "{cfg}"
    );
    assert!(!cfg.contains("motdfile"), "{cfg}");
    assert!(file(&s, "left4dead2/cfg/garrison/27015-host.txt").is_some());
    assert!(file(&s, "left4dead2/cfg/garrison/27015-motd.txt").is_none());
}

#[test]
fn two_servers_render_to_different_files() {
    let render = |port: i64| {
        let s = settings(vec![
            ("port", int(port)),
            ("motd", text("hi")),
            ("host_banner", text("banner")),
        ]);
        L4d2::render(&ctx(), &s)
            .expect("render")
            .into_iter()
            .map(|f| f.path.path)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        render(27015),
        [
            "left4dead2/cfg/garrison/27015.cfg",
            "left4dead2/cfg/garrison/27015-motd.txt",
            "left4dead2/cfg/garrison/27015-host.txt",
        ]
    );
    let other = render(27016);
    assert!(
        render(27015).iter().all(|p| !other.contains(p)),
        "{other:?}"
    );
    assert!(matches!(
        L4d2::render(&ctx(), &settings(vec![("port", int(70_000))])),
        Err(AdapterError::Invalid(_))
    ));
}

#[test]
fn extra_params_are_allow_listed_and_the_refusal_names_the_parameter() {
    let ok = settings(vec![(
        "extra_params",
        items(&["-nohltv", "-tickrate", "60", "+fps_max 300"]),
    )]);
    assert_eq!(errors(&ok), Vec::<String>::new());
    for (bad, named) in [
        (&["+plugin_load", "addons/evil"][..], "+plugin_load"),
        (
            &["+log_address_add", "203.0.113.1:27500"][..],
            "+log_address_add",
        ),
        (
            &["-nohltv +logaddress_add 203.0.113.1:27500"][..],
            "+logaddress_add",
        ),
        (&["-steamcmd_script", "x.txt"][..], "-steamcmd_script"),
    ] {
        let s = settings(vec![("extra_params", items(bad))]);
        let Err(found) = L4d2::validate(&s) else {
            panic!("{bad:?} was accepted");
        };
        assert_eq!(found.len(), 1, "{bad:?}: {found:?}");
        assert_eq!(found[0].field, "extra_params");
        assert!(found[0].message.contains(named), "{}", found[0].message);
        assert!(
            matches!(L4d2::launch(&ctx(), &s), Err(AdapterError::Invalid(m)) if m.contains(named)),
            "{bad:?}"
        );
    }
}

#[test]
fn extra_cvars_that_load_code_or_send_logs_away_are_refused() {
    for name in [
        "plugin_load",
        "LOGADDRESS_ADD",
        "log_address_add",
        "sv_downloadurl",
    ] {
        let s = settings(vec![("extra_cvars", rows(&[(name, "x")]))]);
        assert_eq!(errors(&s), vec!["extra_cvars"], "{name}");
    }
}
