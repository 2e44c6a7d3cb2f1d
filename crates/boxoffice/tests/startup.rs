//! Start-up as an operator meets it, running the built binary: a missing SQLite directory is
//! created, a read-only one is named, an unreachable PostgreSQL is named by host and port within
//! five seconds, a second server on one SQLite file is refused (while one-shot commands still
//! work on it), and a closed standard output is no panic and loses no new key.

use std::io::{BufRead, BufReader};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

fn boxoffice() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_boxoffice"));
    c.env("RUST_LOG", "warn").env_remove("RUST_BACKTRACE");
    c
}

/// The demo catalogue as a file in `dir`.
fn catalogue(dir: &std::path::Path) -> std::path::PathBuf {
    let file = dir.join("catalog.toml");
    std::fs::write(&file, boxoffice_server::DEMO_CATALOG).expect("write catalogue");
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    file
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn apply(catalog: &std::path::Path, database: &str) -> Output {
    boxoffice()
        .args(["catalog", "apply"])
        .arg(catalog)
        .args(["--database", database])
        .output()
        .expect("run boxoffice")
}

#[test]
fn a_missing_sqlite_directory_is_created() {
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("var/lib/boxoffice/boxoffice.db");
    let out = apply(
        &catalogue(dir.path()),
        &format!("sqlite://{}", file.display()),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).starts_with("catalogue applied: "),
        "{}",
        text(&out.stdout)
    );
    assert!(file.is_file(), "database created");
}

#[test]
fn a_read_only_directory_is_named() {
    let dir = tempfile::tempdir().expect("dir");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let ro = dir.path().join("ro");
    std::fs::create_dir(&ro).expect("mkdir");
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o555)).expect("chmod");
    let catalog = catalogue(dir.path());
    let mut cmd = boxoffice();
    cmd.args(["catalog", "apply"]).arg(&catalog).args([
        "--database",
        &format!("sqlite://{}/boxoffice.db", ro.display()),
    ]);
    // Root writes anywhere: run as `nobody` then, for whom the directory is read-only.
    if std::fs::metadata(&catalog).expect("meta").uid() == 0 {
        cmd.uid(65534).gid(65534);
    }
    let out = cmd.output().expect("run boxoffice");
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains(&format!(
            "the database directory {} is not writable",
            ro.display()
        )),
        "{err}"
    );
    assert!(err.contains("permission denied"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn an_unreachable_postgresql_is_named_within_five_seconds() {
    let dir = tempfile::tempdir().expect("dir");
    let started = Instant::now();
    let out = apply(&catalogue(dir.path()), "postgres://x@127.0.0.1:1/db");
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "{:?}",
        started.elapsed()
    );
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(err.contains("PostgreSQL at 127.0.0.1:1"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// A `boxoffice demo` on `data`, once its banner said it serves.
fn demo(data: &std::path::Path, port: u16) -> Child {
    let mut child = boxoffice()
        .args(["demo", "--addr", &format!("127.0.0.1:{port}"), "--data"])
        .arg(data)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn demo");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let started = Instant::now();
    loop {
        let line = lines.next().expect("banner line").expect("read");
        if line.starts_with("Ctrl-C stops the server") {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "demo did not start"
        );
    }
    child
}

fn stop(mut child: Child) {
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn a_second_server_on_one_sqlite_file_is_refused() {
    let dir = tempfile::tempdir().expect("dir");
    let data = dir.path().join("data");
    let first = demo(&data, free_port());
    let started = Instant::now();
    let second = boxoffice()
        .args([
            "demo",
            "--addr",
            &format!("127.0.0.1:{}", free_port()),
            "--data",
        ])
        .arg(&data)
        .output()
        .expect("run a second demo");
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(!second.status.success());
    let err = text(&second.stderr);
    let db = data.join("boxoffice.db");
    assert!(
        err.contains(&format!(
            "the SQLite database {} is in use by another boxoffice server (process {})",
            db.display(),
            first.id()
        )),
        "{err}"
    );
    // One-shot commands still work on the running server's database (docs/catalog.md).
    let out = apply(
        &catalogue(dir.path()),
        &format!("sqlite://{}", db.display()),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    // The lock ends with the process, however it ends.
    stop(first);
    let again = demo(&data, free_port());
    stop(again);
}

/// A pipe whose reading end is already closed: every write to it fails with EPIPE.
fn closed_pipe() -> Stdio {
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    Stdio::from(writer)
}

#[test]
fn a_closed_standard_output_is_no_panic_and_loses_no_key() {
    let dir = tempfile::tempdir().expect("dir");
    let db = format!("sqlite://{}", dir.path().join("b.db").display());
    let out = apply(&catalogue(dir.path()), &db);
    assert!(out.status.success(), "{}", text(&out.stderr));
    // An answer that can be read again: ends quietly, as `… | head` expects.
    let out = boxoffice()
        .args([
            "ybx",
            "agent",
            "show",
            "--user",
            "demo-agent",
            "--database",
            &db,
        ])
        .stdout(closed_pipe())
        .output()
        .expect("run boxoffice");
    let err = text(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    // A new key shown only once: it goes to standard error and the command fails.
    let out = boxoffice()
        .args([
            "ybx",
            "agent",
            "rotate-key",
            "--user",
            "demo-agent",
            "--database",
            &db,
        ])
        .stdout(closed_pipe())
        .output()
        .expect("run boxoffice");
    let err = text(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    let start = err
        .find('{')
        .unwrap_or_else(|| panic!("the answer on stderr: {err}"));
    let end = err.rfind('}').expect("end of the answer") + 1;
    let answer: serde_json::Value = serde_json::from_str(&err[start..end]).expect("JSON answer");
    assert_eq!(answer["user"], "demo-agent");
    assert_eq!(answer["version"], 2);
    let key = answer["key"].as_str().expect("key");
    assert_eq!(key.len(), 36, "{key}");
    // It is the key in force: a key file exported now holds it.
    let file = dir.path().join("k.Bin");
    let out = boxoffice()
        .args([
            "ybx",
            "export-key",
            "--account",
            "demo-agent",
            "--password",
            "an-export-pw",
            "--database",
            &db,
            "--out",
        ])
        .arg(&file)
        .output()
        .expect("export");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = boxoffice()
        .args(["ybx", "import-key", "--password", "an-export-pw"])
        .arg(&file)
        .output()
        .expect("import");
    assert_eq!(text(&out.stdout).trim(), key);
    // The demo keeps serving with its banner unread.
    let port = free_port();
    let data = dir.path().join("demo");
    let mut child = boxoffice()
        .args(["demo", "--addr", &format!("127.0.0.1:{port}"), "--data"])
        .arg(&data)
        .stdout(closed_pipe())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn demo");
    let started = Instant::now();
    let healthy = loop {
        if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            use std::io::{Read, Write};
            let _ = s.write_all(b"GET /healthz HTTP/1.0\r\n\r\n");
            let mut answer = String::new();
            let _ = s.read_to_string(&mut answer);
            if answer.starts_with("HTTP/1.0 200") || answer.starts_with("HTTP/1.1 200") {
                break true;
            }
        }
        if started.elapsed() > Duration::from_secs(30) || child.try_wait().ok().flatten().is_some()
        {
            break false;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let _ = child.kill();
    let out = child.wait_with_output().expect("demo output");
    assert!(healthy, "demo serves: {}", text(&out.stderr));
    assert!(
        !text(&out.stderr).contains("panicked"),
        "{}",
        text(&out.stderr)
    );
}
