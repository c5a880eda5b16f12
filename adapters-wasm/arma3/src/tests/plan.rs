//! Install, launch, stop, content directories, log sources and the RCon endpoint.

use super::*;
use crate::Arma3;

#[test]
fn launch_builds_one_argument_per_element() {
    let s = settings(vec![
        ("mods", items(&["@CBA_A3", "@ace"])),
        ("server_mods", items(&["@admin tools"])),
        (
            "extra_params",
            items(&["-autoInit", "-loadMissionToMemory"]),
        ),
        ("port", int(2402)),
        ("rcon_port", int(2410)),
    ]);
    let spec = Arma3::launch(&ctx(), &s).expect("launch");
    assert_eq!(spec.program, "arma3server_x64");
    let dir = "/srv/garrison/servers/7";
    let runtime = "/srv/garrison/runtimes/arma3";
    assert_eq!(
        spec.args,
        vec![
            "-port=2402".to_string(),
            format!("-config={dir}/server.cfg"),
            format!("-cfg={dir}/basic.cfg"),
            format!("-profiles={dir}/profiles"),
            "-name=server".to_string(),
            format!("-bepath={dir}/battleye"),
            format!("-mod={runtime}/@CBA_A3;{runtime}/@ace"),
            format!("-serverMod={runtime}/@admin tools"),
            "-autoInit".to_string(),
            "-loadMissionToMemory".to_string(),
        ]
    );
    // The game reads `mpmissions` in its working directory: the server's own.
    assert_eq!(spec.working_dir.as_deref(), Some(dir));
    assert!(spec.wait_for_ready);
    assert!(spec.env.is_empty());
}

#[test]
fn launch_without_mods_has_no_mod_arguments() {
    let spec = Arma3::launch(&ctx(), &settings(vec![])).expect("launch");
    assert_eq!(spec.args.len(), 6);
    assert!(
        !spec
            .args
            .iter()
            .any(|a| a.starts_with("-mod") || a.starts_with("-serverMod"))
    );
}

#[test]
fn launch_refuses_what_validate_refuses() {
    for s in [
        settings(vec![("mods", items(&["@a;-config=/x"]))]),
        settings(vec![("profile_name", text("../x"))]),
        settings(vec![("extra_params", items(&["-profiles=/tmp"]))]),
    ] {
        assert!(matches!(
            Arma3::launch(&ctx(), &s),
            Err(AdapterError::Invalid(_))
        ));
    }
}

#[test]
fn install_needs_a_steam_account() {
    let err = Arma3::install_plan(&settings(vec![])).expect_err("no credentials");
    assert!(matches!(err, AdapterError::Invalid(m) if m.contains("anonymously")));
    let s = settings(vec![("steam_username", text("me"))]);
    assert!(Arma3::install_plan(&s).is_err());
}

#[test]
fn install_plan_with_beta_and_workshop() {
    let s = settings(vec![
        ("steam_username", text("me")),
        ("steam_password", text("pw")),
        ("beta_branch", text("creatordlc")),
        ("beta_password", text("bpw")),
        ("workshop_items", items(&["450814997", "463939057"])),
    ]);
    let plan = Arma3::install_plan(&s).expect("plan");
    let [InstallStep::Steamcmd(app)] = &plan[..] else {
        panic!("one SteamCMD step: {plan:?}");
    };
    assert_eq!(app.app_id, 233_780);
    assert!(
        matches!(&app.login, SteamLogin::Account(a) if a.username == "me" && a.password == "pw")
    );
    assert_eq!(app.beta.as_deref(), Some("creatordlc"));
    assert_eq!(app.beta_password.as_deref(), Some("bpw"));
    assert!(app.validate);
    assert_eq!(app.workshop.len(), 2);
    assert_eq!(app.workshop[0].app_id, 107_410);
    assert_eq!(app.workshop[0].item_id, 450_814_997);
    let link = app.workshop[0].link_as.as_ref().expect("linked");
    assert_eq!(
        (link.root, link.path.as_str()),
        (Root::Runtime, "@450814997")
    );

    let plain = settings(vec![
        ("steam_username", text("me")),
        ("steam_password", text("pw")),
    ]);
    let [InstallStep::Steamcmd(app)] = &Arma3::install_plan(&plain).expect("plan")[..] else {
        panic!("one step");
    };
    assert_eq!(
        (app.beta.as_deref(), app.beta_password.as_deref()),
        (None, None)
    );
    assert!(app.workshop.is_empty());
}

#[test]
fn stop_plan_shuts_down_over_rcon() {
    let stop = Arma3::stop_plan(&settings(vec![])).expect("stop");
    assert_eq!(
        dbg(&stop.steps),
        dbg(&vec![
            StopStep::RconCommand("#shutdown".into()),
            StopStep::WaitSecs(15)
        ])
    );
    assert_eq!(stop.grace_secs, None);
}

#[test]
fn content_dirs_and_log_sources() {
    let dirs = Arma3::content_dirs(&settings(vec![])).expect("dirs");
    assert_eq!(dirs.len(), 2);
    assert_eq!(dirs[0].kind, ContentKind::Missions);
    assert_eq!(
        (dirs[0].dir.root, dirs[0].dir.path.as_str()),
        (Root::Instance, "mpmissions"),
        "each server's missions are its own, never in the shared game directory"
    );
    assert_eq!(dirs[0].extensions, vec![".pbo"]);
    assert_eq!(dirs[0].entries, EntryKind::File);
    assert!(dirs[0].prefixes.is_empty());
    let rotation = dirs[0].selection.as_ref().expect("a rotation");
    assert_eq!(
        (rotation.setting.as_str(), rotation.column.as_deref()),
        ("missions", Some("template"))
    );
    assert_eq!(dirs[0].workshop, None);
    assert_eq!(dirs[1].kind, ContentKind::Mods);
    assert_eq!(
        (dirs[1].dir.root, dirs[1].dir.path.as_str()),
        (Root::Runtime, "")
    );
    assert_eq!(dirs[1].entries, EntryKind::Folder);
    assert_eq!(dirs[1].prefixes, vec!["@"]);
    let enabled = dirs[1].selection.as_ref().expect("a load order");
    assert_eq!(
        (enabled.setting.as_str(), enabled.column.as_deref()),
        ("mods", None)
    );
    assert_eq!(dirs[1].workshop.as_deref(), Some("workshop_items"));

    // Every key the directories name is a field of the schema of the right kind.
    let schema = Arma3::schema();
    let kind_of = |key: &str| {
        schema
            .iter()
            .find(|f| f.key == key)
            .map(|f| f.kind.clone())
            .expect("a field")
    };
    let FieldKind::Table(columns) = kind_of("missions") else {
        panic!("missions is a table");
    };
    assert!(columns.iter().any(|c| c.key == "template"));
    assert!(matches!(kind_of("mods"), FieldKind::List(_)));
    assert!(matches!(kind_of("workshop_items"), FieldKind::List(_)));

    let sources = Arma3::log_sources(&settings(vec![])).expect("sources");
    let names: Vec<&str> = sources.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["rpt", "console"]);
    let LogLocation::NewestFile(p) = &sources[0].location else {
        panic!("rpt is a newest-file source");
    };
    assert_eq!(
        (p.dir.root, p.dir.path.as_str(), p.pattern.as_str()),
        (Root::Instance, "profiles", "*.rpt")
    );
    assert!(matches!(sources[1].location, LogLocation::Console));
}

#[test]
fn endpoint_follows_battleye_and_password() {
    assert_eq!(Arma3::rcon_transport(), Transport::Udp);
    let c = Arma3::rcon_endpoint(&settings(vec![]))
        .expect("ok")
        .expect("some");
    assert_eq!(
        (c.host.as_str(), c.port, c.password.as_str()),
        ("127.0.0.1", 2306, "s3cret")
    );
    let any = settings(vec![
        ("rcon_bind", text("0.0.0.0")),
        ("rcon_port", int(2400)),
    ]);
    let c = Arma3::rcon_endpoint(&any).expect("ok").expect("some");
    assert_eq!((c.host.as_str(), c.port), ("127.0.0.1", 2400));
    let lan = settings(vec![("rcon_bind", text("10.0.0.5"))]);
    assert_eq!(
        Arma3::rcon_endpoint(&lan).expect("ok").expect("some").host,
        "10.0.0.5"
    );
    let off = settings(vec![("battleye", flag(false))]);
    assert!(Arma3::rcon_endpoint(&off).expect("ok").is_none());
    let no_pw = settings(vec![("rcon_password", text(""))]);
    assert!(Arma3::rcon_endpoint(&no_pw).expect("ok").is_none());
}
