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
            "+map",
            "c2m1_highway",
            "+exec",
            "server.cfg",
            "-condebug",
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
            "+map",
            "c1m1_hotel",
            "+exec",
            "server.cfg",
            "-condebug",
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
        extensions: vec![".bsp".into(), ".vpk".into()],
    }];
    assert_eq!(dbg(&dirs), dbg(&want));
}

#[test]
fn log_sources_are_the_console_file_and_the_newest_game_log() {
    let sources = L4d2::log_sources(&settings(vec![])).expect("sources");
    let newest = |dir: &str, pattern: &str| {
        LogLocation::NewestFile(FilePattern {
            dir: PathRef {
                root: Root::Runtime,
                path: dir.into(),
            },
            pattern: pattern.into(),
        })
    };
    let want = vec![
        LogSource {
            name: "console".into(),
            location: newest("left4dead2", "console.log"),
        },
        LogSource {
            name: "game".into(),
            location: newest("left4dead2/logs", "L*.log"),
        },
    ];
    assert_eq!(dbg(&sources), dbg(&want));
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
