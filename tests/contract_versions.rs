//! Contract versions side by side: a component built against the frozen
//! `garrison:adapter@0.1.0` keeps loading and working exactly as it did — its console is
//! followed although it names no log source, its state is the whole instance directory, its
//! ports are its `port` settings — while 0.2.0 components are followed on exactly the sources
//! they name (a game printing the same lines to its console and its log file has each stored
//! once) and state their files and ports. Both the 0.1.0 fixture built from its frozen source
//! today and the component that source built when 0.2.0 arrived
//! (`tests/data/contract-0.1.0.wasm`) are held to it.

use crate::common;

use std::time::Duration;

use garrison::adapters::model::{
    BackupPlan, BackupStep, PathRef, PortUse, Protocol, Root, RuntimeSource, Setting, SettingValue,
    StatePath,
};
use garrison::adapters::{ContractVersion, Origin};
use reqwest::Method;
use serde_json::{Value, json};

/// The 0.1.0 component built when 0.2.0 arrived; never rebuilt.
const FROZEN_BINARY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data/contract-0.1.0.wasm");

fn text(key: &str, value: &str) -> Setting {
    Setting {
        key: key.into(),
        value: SettingValue::Text(value.into()),
    }
}

fn port(key: &str, value: i64) -> Setting {
    Setting {
        key: key.into(),
        value: SettingValue::Integer(value),
    }
}

#[test]
fn a_0_1_0_component_loads_and_answers_as_it_always_did() {
    let runtime = common::runtime_with_deadline(Duration::from_secs(5));
    let today = common::wasm("garrison_fixture_contract_0_1");
    let frozen = std::fs::read(FROZEN_BINARY).expect("the committed 0.1.0 component");
    for (what, bytes) in [("built today", today), ("committed", frozen)] {
        let adapter = runtime
            .load(&bytes, Origin::Builtin)
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(adapter.contract(), ContractVersion::V0_1, "{what}");
        let d = &adapter.description;
        assert_eq!(d.id, "contract-0-1", "{what}");
        // 0.1.0 had only `steam-app-id`: none means installed by hand.
        assert_eq!(d.steam_app_id, None);
        assert_eq!(
            d.runtime,
            RuntimeSource::ByHand {
                instructions: String::new()
            }
        );
        assert_eq!(d.capabilities, ["logs", "ready_detection"], "{what}");

        let settings = vec![
            text("program", "/bin/sh"),
            text("ready_pattern", "up"),
            port("port", 27_015),
        ];
        let mut session = runtime.session(adapter.clone());
        assert_eq!(session.validate(&settings).expect("validate"), Ok(()));
        let ctx = garrison::adapters::model::Context::new(
            7,
            std::path::Path::new("/srv/7"),
            std::path::Path::new("/opt/game"),
        );
        let files = session.render(&ctx, &settings).expect("render");
        assert_eq!(files.len(), 1);
        assert_eq!(files[0].contents, b"server 7\nprogram /bin/sh\n");
        let launch = session.launch(&ctx, &settings).expect("launch");
        assert_eq!(launch.program, "/bin/sh");
        assert!(session.log_sources(&settings).expect("sources").is_empty());
        // What 0.1.0 cannot say, the host answers for it.
        assert_eq!(session.state_paths(&settings).expect("state"), Vec::new());
        assert_eq!(
            session.backup_plan(&settings).expect("plan"),
            BackupPlan::default()
        );
        assert_eq!(
            session.ports(&settings).expect("ports"),
            [Protocol::Udp, Protocol::Tcp].map(|protocol| PortUse {
                port: 27_015,
                protocol,
                purpose: "port".into(),
            })
        );
    }
}

#[test]
fn a_0_2_0_component_states_its_files_and_ports() {
    let runtime = common::runtime_with_deadline(Duration::from_secs(5));
    let adapter = runtime
        .load(&common::wasm("garrison_fixture_logfile"), Origin::Builtin)
        .expect("load");
    assert_eq!(adapter.contract(), ContractVersion::V0_2);
    assert_eq!(
        adapter.description.runtime,
        RuntimeSource::ByHand {
            instructions: "Nothing to install: it runs /bin/sh.".into()
        }
    );
    let builtin = runtime.get("generic").expect("generic is built in");
    assert_eq!(
        builtin.contract(),
        ContractVersion::V0_2,
        "built-ins are 0.2.0"
    );

    let settings = vec![text("script", "true"), port("port", 27_500)];
    let mut session = runtime.session(adapter);
    let at = |path: &str, description: &str| StatePath {
        path: PathRef {
            root: Root::Instance,
            path: path.into(),
        },
        description: description.into(),
    };
    assert_eq!(
        session.state_paths(&settings).expect("state"),
        [at("world", "world saves"), at("bans.txt", "ban list")]
    );
    assert_eq!(
        session.backup_plan(&settings).expect("plan"),
        BackupPlan {
            before: vec![
                BackupStep::RconCommand {
                    command: "save-all".into()
                },
                BackupStep::WaitSecs { secs: 1 }
            ],
            after: vec![BackupStep::RconCommand {
                command: "save-on".into()
            }],
        }
    );
    let ports = session.ports(&settings).expect("ports");
    assert_eq!(
        ports,
        [
            PortUse {
                port: 27_500,
                protocol: Protocol::Udp,
                purpose: "game".into()
            },
            PortUse {
                port: 27_501,
                protocol: Protocol::Udp,
                purpose: "query".into()
            },
        ]
    );
    // An adapter's refusal stays an error value.
    let err = session
        .ports(&[text("script", "true"), port("port", 65_535)])
        .expect_err("no port above 65535");
    assert!(err.to_string().contains("65535"), "{err}");
}

/// Log lines of server `id`, as `(source, text)`.
async fn lines(host: &common::TestHost, token: &str, id: i64) -> Vec<(String, String)> {
    let (status, page) = host
        .request(
            Method::GET,
            &format!("/api/v1/servers/{id}/logs?after=0&limit=1000"),
            Some(token),
            None,
        )
        .await;
    assert_eq!(status, 200, "{page}");
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|l| {
            (
                l["source"].as_str().unwrap_or_default().to_string(),
                l["text"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

async fn create_and_start(host: &common::TestHost, token: &str, body: Value) -> i64 {
    let (status, server) = host
        .request(Method::POST, "/api/v1/servers", Some(token), Some(body))
        .await;
    assert_eq!(status, 201, "{server}");
    let id = server["id"].as_i64().expect("id");
    let (status, job) = host
        .request(
            Method::POST,
            &format!("/api/v1/servers/{id}/actions/start"),
            Some(token),
            None,
        )
        .await;
    assert_eq!(status, 202, "{job}");
    id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_version_is_followed_on_the_logs_its_contract_promises() {
    let dir = tempfile::tempdir().expect("tempdir");
    let dropins = dir.path().join("adapters");
    std::fs::create_dir_all(&dropins).expect("drop-in dir");
    std::fs::copy(FROZEN_BINARY, dropins.join("contract-0.1.0.wasm")).expect("copy");
    std::fs::copy(
        common::wasm_path("garrison_fixture_logfile"),
        dropins.join("logfile.wasm"),
    )
    .expect("copy");
    let host = common::start_host_in(dir).await;
    let token = host.admin_token().await.to_string();

    let (status, list) = host
        .request(Method::GET, "/api/v1/adapters", Some(&token), None)
        .await;
    assert_eq!(status, 200);
    let contract_of = |id: &str| {
        list["adapters"]
            .as_array()
            .and_then(|a| a.iter().find(|x| x["id"] == id))
            .map(|x| x["contract"].clone())
            .unwrap_or(Value::Null)
    };
    assert_eq!(contract_of("contract-0-1"), "0.1.0", "{list}");
    assert_eq!(contract_of("fixture-logfile"), "0.2.0", "{list}");
    assert_eq!(contract_of("generic"), "0.2.0", "{list}");

    // 0.2.0: the script prints every line to its console and to its log file; only the file
    // is named, so each line is stored once.
    let script = "mkdir -p logs; for i in 1 2 3 4 5; do echo \"line $i\"; echo \"line $i\" >> logs/game.log; done; exec sleep 600";
    let modern = create_and_start(
        &host,
        &token,
        json!({"name": "modern", "adapter": "fixture-logfile",
               "settings": {"script": script, "port": common::free_port()}}),
    )
    .await;
    // 0.1.0: names no source; its console is followed all the same.
    let frozen = create_and_start(
        &host,
        &token,
        json!({"name": "frozen", "adapter": "contract-0-1",
               "settings": {"program": "/bin/sh", "ready_pattern": "up and running",
                            "args": ["-c", "echo booting; echo up and running; exec sleep 600"]}}),
    )
    .await;

    common::eventually(Duration::from_secs(60), || async {
        lines(&host, &token, modern).await.len() >= 5
            && lines(&host, &token, frozen).await.len() >= 2
    })
    .await;
    host.wait_for_state(&token, &format!("/api/v1/servers/{frozen}"), "running")
        .await;
    // Give a duplicate every chance to arrive before counting.
    tokio::time::sleep(Duration::from_secs(1)).await;

    let got = lines(&host, &token, modern).await;
    let want: Vec<(String, String)> = (1..=5)
        .map(|i| ("file".to_string(), format!("line {i}")))
        .collect();
    assert_eq!(got, want, "each line once, from the file named");

    let got = lines(&host, &token, frozen).await;
    assert_eq!(
        got.iter().map(|(_, t)| t.as_str()).collect::<Vec<_>>(),
        ["booting", "up and running"]
    );
    assert!(got.iter().all(|(source, _)| source == "console"), "{got:?}");
}
