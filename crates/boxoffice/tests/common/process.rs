//! Runs the real `boxoffice` binary as a separate process.
#![allow(dead_code)]

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A `boxoffice serve` process.
pub struct ServerProcess {
    pub child: Child,
    pub url: String,
    _dir: tempfile::TempDir,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// Applies the demo catalogue to a database with `boxoffice catalog apply`.
pub fn apply_demo_catalog(database: &str) {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("catalog.toml");
    std::fs::write(&file, boxoffice_server::DEMO_CATALOG).expect("write catalogue");
    let out = Command::new(env!("CARGO_BIN_EXE_boxoffice"))
        .args(["catalog", "apply"])
        .arg(&file)
        .args(["--database", database])
        .output()
        .expect("run boxoffice catalog apply");
    assert!(
        out.status.success(),
        "catalog apply failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

impl ServerProcess {
    /// Starts `boxoffice serve` on a database and waits until `/healthz` answers.
    pub async fn spawn(database: &str) -> ServerProcess {
        let dir = tempfile::tempdir().expect("tempdir");
        let port = free_port();
        let config = dir.path().join("boxoffice.toml");
        std::fs::write(
            &config,
            format!(
                "database = \"{database}\"\nlisten = \"127.0.0.1:{port}\"\nmax_connections = 8\n"
            ),
        )
        .expect("config");
        let child = Command::new(env!("CARGO_BIN_EXE_boxoffice"))
            .args(["serve", "--config"])
            .arg(&config)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn boxoffice serve");
        let url = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        let http = reqwest::Client::new();
        loop {
            if let Ok(r) = http.get(format!("{url}/healthz")).send().await {
                if r.status().is_success() {
                    break;
                }
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "server did not become ready"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        ServerProcess {
            child,
            url,
            _dir: dir,
        }
    }

    /// Kills the process with SIGKILL (no graceful shutdown) and reaps it.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.kill9();
    }
}
