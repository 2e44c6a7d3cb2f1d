//! `boxoffice demo`: every front end over the built-in demo catalogue, with the operator API
//! on, printing every protocol's credentials (read from the catalogue itself).

use crate::ops::{emit, Keep};
use anyhow::Context;
use boxoffice_core::clock::SystemClock;
use boxoffice_server::config::Config;
use boxoffice_server::{serve, shutdown_signal, App, DEMO_CATALOG};
use std::fmt::Write as _;
use std::path::Path;
use std::sync::Arc;

/// The demo's operator API token (`Authorization: Bearer DEMO-OPERATOR-TOKEN`).
pub const OPERATOR_TOKEN: &str = "DEMO-OPERATOR-TOKEN";

/// The demo agents' login password (the catalogue stores only its MD5).
const AGENT_LOGIN_PASSWORD: &str = "demo-pass";

/// The demo agents' payment password (the catalogue stores only its MD5).
const AGENT_PAY_PASSWORD: &str = "123456";

/// Runs the demo over the database of `config` (in `dir`) until Ctrl-C or SIGTERM.
pub async fn run(config: Config, dir: &Path) -> anyhow::Result<()> {
    let _lock = boxoffice_store::lock_database(&config.database)?;
    let app = App::open(&config, Arc::new(SystemClock)).await?;
    app.apply_catalog(DEMO_CATALOG).await?;
    let listener = tokio::net::TcpListener::bind(&config.listen)
        .await
        .with_context(|| format!("binding {}", config.listen))?;
    let base = format!("http://{}", listener.local_addr()?);
    // The banner is a courtesy: a closed standard output does not stop the server.
    let _ = emit(&banner(&base, dir, &config), Keep::Ordinary);
    serve(listener, app, shutdown_signal()).await?;
    let _ = emit("boxoffice demo stopped", Keep::Ordinary);
    Ok(())
}

/// One credential of the demo catalogue.
struct Credential {
    partner: String,
    protocol: String,
    key: String,
    secret: String,
}

/// Every partner credential of the demo catalogue, in catalogue order.
fn credentials() -> Vec<Credential> {
    let Ok(table) = toml::from_str::<toml::Table>(DEMO_CATALOG) else {
        return Vec::new();
    };
    let text =
        |t: &toml::Table, k: &str| t.get(k).and_then(|v| v.as_str()).unwrap_or("").to_string();
    let partners = table.get("partner").and_then(|p| p.as_array());
    let mut out = Vec::new();
    for p in partners.into_iter().flatten().filter_map(|p| p.as_table()) {
        let creds = p.get("credential").and_then(|c| c.as_array());
        for c in creds.into_iter().flatten().filter_map(|c| c.as_table()) {
            out.push(Credential {
                partner: text(p, "code"),
                protocol: text(c, "protocol"),
                key: text(c, "key"),
                secret: text(c, "secret"),
            });
        }
    }
    out
}

/// The text printed at start: where things are and every credential.
fn banner(base: &str, dir: &Path, config: &Config) -> String {
    let mut b = String::new();
    let _ = writeln!(b, "boxoffice demo — data in {}", dir.display());
    let _ = writeln!(b);
    let _ = writeln!(
        b,
        "  health            {base}/healthz   (ready: {base}/readyz, metrics: {base}/metrics)"
    );
    for c in credentials() {
        match c.protocol.as_str() {
            "vista" => {
                let _ = writeln!(
                    b,
                    "  Vista Connect     {base}/WSVistaWebClient/OData.svc/Cinemas?$format=json"
                );
                let _ = writeln!(
                    b,
                    "                    header  connectapitoken: {}   (partner {})",
                    c.key, c.partner
                );
                let _ = writeln!(b, "                    client  OptionalClientClass RSP, OptionalClientId 111.111.111.111, OptionalClientName 3rdParty");
                let _ = writeln!(b, "                    cinema 0200, sessions 29617 (0056 @ 5000, 0010 @ 10000), 33392 (0153 @ 3000), 34668 (screen 7)");
            }
            "yueke" => {
                let _ = writeln!(b, "  Yueke cloud       {base}/route?api=ykse.partner.…");
                let _ = writeln!(
                    b,
                    "                    channelCode {}, secret {}   (partner {})",
                    c.key, c.secret, c.partner
                );
            }
            "ybx" => {
                let _ = writeln!(b, "  游宝星            {base}/ybx/GetProducts.aspx …");
                let _ = writeln!(b, "                    user {}, login password {AGENT_LOGIN_PASSWORD}, data key {}, payment password {AGENT_PAY_PASSWORD}", c.key, c.secret);
            }
            other => {
                let _ = writeln!(b, "  {other:<17} key {} (partner {})", c.key, c.partner);
            }
        }
    }
    if let Some(code) = &config.vista.anonymous_partner {
        let _ = writeln!(
            b,
            "  Vista anonymous   requests without connectapitoken act as partner {code}"
        );
    }
    let _ = writeln!(
        b,
        "  operator API      {base}/ops/…   header  Authorization: Bearer {OPERATOR_TOKEN}"
    );
    let _ = writeln!(b);
    let _ = write!(b, "Ctrl-C stops the server. See docs/demo.md for a tour.");
    b
}
