//! The `boxoffice` command as an operator uses it: `catalog apply` is idempotent, `demo` serves
//! the demo catalogue and stops gracefully on SIGTERM, `serve` refuses a bad configuration.

mod common;
#[path = "common/process.rs"]
mod process;

use common::*;
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn boxoffice() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_boxoffice"));
    c.env("RUST_LOG", "warn");
    c
}

#[tokio::test]
async fn catalog_apply_twice_changes_nothing_the_second_time() {
    let (db, _dir) = boxoffice_server::testing::fresh_database(TestStore::from_env()).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("catalog.toml");
    std::fs::write(&file, boxoffice_server::DEMO_CATALOG).unwrap();
    let run = || {
        let out = boxoffice()
            .args(["catalog", "apply"])
            .arg(&file)
            .args(["--database", &db])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let first = run();
    assert!(
        first.contains("catalogue applied: 16 document(s) changed"),
        "{first}"
    );
    assert_eq!(run(), "catalogue applied: 0 document(s) changed\n");

    // A changed price is one changed document, and the server sells at the new price.
    let changed = boxoffice_server::DEMO_CATALOG.replace(
        "{ ticket = \"0056\", area = \"0000000001\", price = 5000 },\n  { ticket = \"0010\", area = \"0000000001\", price = 10000 },",
        "{ ticket = \"0056\", area = \"0000000001\", price = 5500 },\n  { ticket = \"0010\", area = \"0000000001\", price = 10000 },",
    );
    assert_ne!(changed, boxoffice_server::DEMO_CATALOG);
    std::fs::write(&file, changed).unwrap();
    assert_eq!(run(), "catalogue applied: 1 document(s) changed\n");
    let server = process::ServerProcess::spawn(&db).await;
    let r = Client::for_url(&server.url)
        .post(
            ADD_TICKETS,
            &add_tickets_body("price", "29617", "0056", 5500, &[(0, 1)]),
        )
        .await;
    assert_eq!(r.json()["Result"], 0, "{}", r.text);
}

#[tokio::test]
async fn catalog_apply_refuses_a_broken_file_and_writes_nothing() {
    let (db, _dir) = boxoffice_server::testing::fresh_database(TestStore::from_env()).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.toml");
    std::fs::write(
        &file,
        boxoffice_server::DEMO_CATALOG.replace("screen = 7\n", "screen = 9\n"),
    )
    .unwrap();
    let out = boxoffice()
        .args(["catalog", "apply"])
        .arg(&file)
        .args(["--database", &db])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unknown screen 9"), "{err}");
}

#[tokio::test]
async fn serve_refuses_a_bad_configuration() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("c.toml");
    std::fs::write(
        &config,
        "database = \"sqlite://x.db\"\ntimezone = \"Mars\"\n",
    )
    .unwrap();
    let out = boxoffice()
        .args(["serve", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("timezone"));
}

#[tokio::test]
async fn demo_serves_the_documents_examples_and_stops_on_sigterm() {
    let data = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = boxoffice()
        .args(["demo", "--addr", &format!("127.0.0.1:{port}"), "--data"])
        .arg(data.path())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    loop {
        if let Ok(r) = reqwest::get(format!("{url}/healthz")).await {
            if r.status().is_success() {
                break;
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "demo did not start"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let c = Client::for_url(&url);
    let r = c
        .post(
            ADD_TICKETS,
            &add_tickets_body(
                "FTTest201508060001",
                "29617",
                "0056",
                5000,
                &[(0, 1), (0, 2)],
            ),
        )
        .await;
    assert_eq!(r.json()["Result"], 0, "{}", r.text);
    let r = c
        .post(COMPLETE_ORDER, &complete_body("FTTest201508060001", 10000))
        .await;
    assert_eq!(r.json()["Result"], 0, "{}", r.text);

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let started = Instant::now();
    let exit = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "demo did not stop on SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(exit.success(), "{exit:?}");
    let mut out = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    assert!(out.contains("DEMO-CONNECT-TOKEN"), "{out}");
    assert!(out.contains(&format!("{url}/WSVistaWebClient/")), "{out}");
    assert!(out.contains("boxoffice demo stopped"), "{out}");

    // The data directory is reused: the booking is still there after a restart.
    let mut again = boxoffice()
        .args(["demo", "--addr", &format!("127.0.0.1:{port}"), "--data"])
        .arg(data.path())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while reqwest::get(format!("{url}/healthz")).await.is_err() {
        assert!(started.elapsed() < Duration::from_secs(30));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let r = c.post(QUERY_BOOKING_STATUS, &serde_json::json!({"UserSessionId": "FTTest201508060001", "ClientId": "111.111.111.111"})).await;
    assert_eq!(r.json()["ResponseCode"], 0, "{}", r.text);
    let _ = again.kill();
    let _ = again.wait();
}

#[tokio::test]
async fn ybx_key_files_are_exported_and_imported_as_documented() {
    let (db, _dir) = boxoffice_server::testing::fresh_database(TestStore::from_env()).await;
    let dir = tempfile::tempdir().unwrap();
    let catalog = dir.path().join("catalog.toml");
    // The demo catalogue has the agent `demo-agent` with the catalogue's example key.
    std::fs::write(&catalog, boxoffice_server::DEMO_CATALOG).unwrap();
    let out = boxoffice()
        .args(["catalog", "apply"])
        .arg(&catalog)
        .args(["--database", &db])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let bin = dir.path().join("demo-agent.Bin");
    let out = boxoffice()
        .args([
            "ybx",
            "export-key",
            "--account",
            "demo-agent",
            "--password",
            "ExportPwd2024",
            "--database",
            &db,
            "--out",
        ])
        .arg(&bin)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The catalogue's §2.7 vector: TripleDes(KEY, "ExportPwd2024").
    assert_eq!(
        std::fs::read_to_string(&bin).unwrap(),
        "+A2+k7ARBNE1kWe6GSePIkbluPiKYet2CLrPJuoXYnDqr9s9n60v+A=="
    );

    let out = boxoffice()
        .args(["ybx", "import-key"])
        .arg(&bin)
        .args(["--password", "ExportPwd2024"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "6F9619FF-8B86-D011-B42D-00C04FC964FF\n"
    );

    let out = boxoffice()
        .args(["ybx", "import-key"])
        .arg(&bin)
        .args(["--password", "ExportPwd2026"])
        .output()
        .unwrap();
    assert!(
        !out.status.success(),
        "a wrong export password cannot read the file"
    );
    let out = boxoffice()
        .args([
            "ybx",
            "export-key",
            "--account",
            "demo-agent",
            "--password",
            "short",
            "--database",
            &db,
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("9 to 24 ASCII characters"));
    let out = boxoffice()
        .args([
            "ybx",
            "export-key",
            "--account",
            "nobody",
            "--password",
            "ExportPwd2024",
            "--database",
            &db,
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
}
