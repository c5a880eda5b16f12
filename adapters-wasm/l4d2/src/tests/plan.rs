//! Install, launch, stop, content directories, log sources and the RCON endpoint.

use super::*;
use crate::L4d2;

#[test]
fn install_is_one_anonymous_validated_steamcmd_run() {
    let plan = L4d2::install_plan(&settings(vec![])).expect("plan");
    let want = vec![InstallStep::Steamcmd(SteamcmdApp {
        app_id: 222_860,
        login: SteamLogin::Anonymous,
        beta: None,
        beta_password: None,
        validate: true,
        workshop: Vec::new(),
    })];
    assert_eq!(dbg(&plan), dbg(&want));
}

#[test]
fn launch_arguments_are_separate_elements() {
    let s = settings(vec![
        ("port", int(27020)),
        ("max_players", int(4)),
        ("start_map", text("c2m1_highway")),
        ("extra_params", items(&["-nohltv", "-tickrate", "60"])),
    ]);
    let spec = L4d2::launch(&ctx(), &s).expect("launch");
    assert_eq!(spec.program, "srcds_run");
    assert_eq!(
        spec.args,
        [
            "-game",
            "left4dead2",
            "-port",
            "27020",
            "+maxplayers",
            "4",
            "+sv_logsdir",
            "logs/garrison-27020",
            "+servercfgfile",
            "garrison/27020.cfg",
            "+map",
            "c2m1_highway",
            "+exec",
            "garrison/27020.cfg",
            "-nohltv",
            "-tickrate",
            "60",
        ]
    );
    assert_eq!(
        spec.working_dir.as_deref(),
        Some("/srv/garrison/runtimes/l4d2")
    );
    assert!(spec.wait_for_ready);
    assert!(spec.env.is_empty());
}

#[test]
fn launch_defaults() {
    let spec = L4d2::launch(&ctx(), &settings(vec![])).expect("launch");
    assert_eq!(
        spec.args,
        [
            "-game",
            "left4dead2",
            "-port",
            "27015",
            "+maxplayers",
            "8",
            "+sv_logsdir",
            "logs/garrison-27015",
            "+servercfgfile",
            "garrison/27015.cfg",
            "+map",
            "c1m1_hotel",
            "+exec",
            "garrison/27015.cfg",
        ]
    );
}

#[test]
fn launch_rechecks_what_validate_refuses() {
    for bad in [
        ("start_map", text("c1m1; quit")),
        ("start_map", text("../x")),
        ("max_players", int(33)),
        ("max_players", int(0)),
        ("port", int(70_000)),
        ("port", int(0)),
        ("extra_params", items(&["+exec", "evil.cfg"])),
        ("extra_params", items(&["+sv_logsdir", "logs"])),
        ("extra_params", items(&["+motdfile", "motd.txt"])),
        ("extra_params", items(&["+servercfgfile", "server.cfg"])),
        ("extra_params", items(&["+maxplayers 32"])),
        ("extra_params", items(&["-port=1"])),
        ("extra_params", items(&["x\ny"])),
    ] {
        let shown = dbg(&bad);
        assert!(
            matches!(
                L4d2::launch(&ctx(), &settings(vec![bad])),
                Err(AdapterError::Invalid(_))
            ),
            "{shown}"
        );
    }
}

#[test]
fn stop_quits_over_rcon_then_waits() {
    let spec = L4d2::stop_plan(&settings(vec![])).expect("stop");
    let want = StopSpec {
        steps: vec![StopStep::RconCommand("quit".into()), StopStep::WaitSecs(10)],
        grace_secs: None,
    };
    assert_eq!(dbg(&spec), dbg(&want));
}

#[test]
fn maps_are_the_content() {
    let dirs = L4d2::content_dirs(&settings(vec![])).expect("dirs");
    let want = vec![ContentDir {
        kind: ContentKind::Missions,
        dir: PathRef {
            root: Root::Runtime,
            path: "left4dead2/maps".into(),
        },
        entries: EntryKind::File,
        extensions: vec![".bsp".into(), ".vpk".into()],
        prefixes: Vec::new(),
        selection: None,
        workshop: None,
    }];
    assert_eq!(dbg(&dirs), dbg(&want));
}

#[test]
fn log_sources_are_the_console_and_the_servers_own_game_logs() {
    let sources = L4d2::log_sources(&settings(vec![("port", int(27016))])).expect("sources");
    let want = vec![
        LogSource {
            name: "console".into(),
            location: LogLocation::Console,
        },
        LogSource {
            name: "game".into(),
            location: LogLocation::NewestFile(FilePattern {
                dir: PathRef {
                    root: Root::Runtime,
                    path: "left4dead2/logs/garrison-27016".into(),
                },
                pattern: "L*.log".into(),
            }),
        },
    ];
    assert_eq!(dbg(&sources), dbg(&want));
    assert!(matches!(
        L4d2::log_sources(&settings(vec![("port", int(0))])),
        Err(AdapterError::Invalid(_))
    ));
}

/// The value following `name` in the launch arguments.
fn arg_after<'a>(spec: &'a LaunchSpec, name: &str) -> &'a str {
    let at = spec
        .args
        .iter()
        .position(|a| a == name)
        .unwrap_or_else(|| panic!("{name} in {:?}", spec.args));
    spec.args.get(at + 1).map(String::as_str).unwrap_or("")
}

#[test]
fn launch_render_and_sources_name_the_same_files() {
    let s = settings(vec![
        ("port", int(27031)),
        ("motd", text("hi")),
        ("host_banner", text("banner")),
    ]);
    let spec = L4d2::launch(&ctx(), &s).expect("launch");
    let files = L4d2::render(&ctx(), &s).expect("render");
    let sources = L4d2::log_sources(&s).expect("sources");
    // `+exec` names the rendered cfg, relative to left4dead2/cfg.
    let exec = arg_after(&spec, "+exec");
    assert_eq!(files[0].path.path, format!("left4dead2/cfg/{exec}"));
    // And map loads run it too, not the install's shared server.cfg.
    assert_eq!(arg_after(&spec, "+servercfgfile"), exec);
    // The host tails the folder `+sv_logsdir` sends the game logs to.
    let logs_dir = arg_after(&spec, "+sv_logsdir");
    let LogLocation::NewestFile(game) = &sources[1].location else {
        panic!("the game log is a file: {sources:?}");
    };
    assert_eq!(game.dir.path, format!("left4dead2/{logs_dir}"));
    // The console is the process's output: no -condebug, no shared console.log.
    assert!(matches!(sources[0].location, LogLocation::Console));
    assert!(
        !spec.args.iter().any(|a| a == "-condebug"),
        "{:?}",
        spec.args
    );
}

#[test]
fn two_servers_share_no_file_log_folder_or_config_name() {
    let of = |port: i64| {
        let s = settings(vec![
            ("port", int(port)),
            ("motd", text("hi")),
            ("host_banner", text("banner")),
        ]);
        let spec = L4d2::launch(&ctx(), &s).expect("launch");
        let mut paths: Vec<String> = L4d2::render(&ctx(), &s)
            .expect("render")
            .into_iter()
            .map(|f| f.path.path)
            .collect();
        for source in L4d2::log_sources(&s).expect("sources") {
            if let LogLocation::NewestFile(p) = source.location {
                paths.push(format!("{}/{}", p.dir.path, p.pattern));
            }
        }
        paths.push(format!("exec {}", arg_after(&spec, "+exec")));
        paths.push(format!("logsdir {}", arg_after(&spec, "+sv_logsdir")));
        paths
    };
    let (a, b) = (of(27015), of(27016));
    assert_eq!(a.len(), 6, "{a:?}");
    for path in &a {
        assert!(!b.contains(path), "{path} is shared: {a:?} / {b:?}");
        assert!(
            ![
                "left4dead2/cfg/server.cfg",
                "left4dead2/motd.txt",
                "left4dead2/host.txt"
            ]
            .contains(&path.as_str()),
            "{path} is the game's own file"
        );
    }
    // Nothing lands directly in the shared log folder either.
    assert!(
        !a.iter().any(|p| p.starts_with("left4dead2/logs/L")),
        "{a:?}"
    );
}

#[test]
fn rcon_endpoint_is_the_game_port_over_tcp() {
    assert_eq!(L4d2::rcon_transport(), Transport::Tcp);
    let s = settings(vec![("port", int(27016))]);
    let want = Some(Connection {
        host: "127.0.0.1".into(),
        port: 27016,
        password: "s3cret".into(),
    });
    assert_eq!(dbg(&L4d2::rcon_endpoint(&s).expect("endpoint")), dbg(&want));
    let s = settings(vec![("rcon_password", text(""))]);
    assert!(L4d2::rcon_endpoint(&s).expect("endpoint").is_none());
}
