//! The `boxoffice` command: `demo`, `serve`, `catalog apply`.

use anyhow::Context;
use boxoffice_core::clock::SystemClock;
use boxoffice_server::config::Config;
use boxoffice_server::{serve, shutdown_signal, App, DEMO_CATALOG};
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Parser)]
#[command(
    name = "boxoffice",
    version,
    about = "Ticketing server for cinemas, theatres and scenic areas"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve every protocol front end from the built-in demo catalogue (SQLite).
    Demo {
        /// Listen address.
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: String,
        /// Data directory (a fresh temporary one when omitted; an existing one is reused).
        #[arg(long)]
        data: Option<PathBuf>,
    },
    /// Production start from a configuration file (keys overridable by BOXOFFICE_* variables).
    Serve {
        /// Configuration file (TOML).
        #[arg(long)]
        config: PathBuf,
    },
    /// Catalogue maintenance.
    Catalog {
        #[command(subcommand)]
        action: CatalogAction,
    },
}

#[derive(Subcommand)]
enum CatalogAction {
    /// Load or update venues, sessions, prices and partners from a catalogue file.
    Apply {
        /// Catalogue file (TOML, see docs/catalog.md).
        file: PathBuf,
        /// Configuration file naming the database.
        #[arg(long)]
        config: Option<PathBuf>,
        /// Database URL (instead of --config).
        #[arg(long)]
        database: Option<String>,
    },
}

fn load_config(path: &std::path::Path) -> anyhow::Result<Config> {
    Ok(Config::load(&path.to_string_lossy(), std::env::vars())?)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn".into()),
        )
        .init();
    match Cli::parse().command {
        Command::Demo { addr, data } => {
            let (dir, _temp) = match data {
                Some(d) => {
                    std::fs::create_dir_all(&d)
                        .with_context(|| format!("creating {}", d.display()))?;
                    (d, None)
                }
                None => {
                    let t = tempfile::Builder::new()
                        .prefix("boxoffice-demo-")
                        .tempdir()?;
                    (t.path().to_path_buf(), Some(t))
                }
            };
            let mut config =
                Config::for_database(&format!("sqlite://{}", dir.join("boxoffice.db").display()));
            config.listen = addr;
            let app = App::open(&config, Arc::new(SystemClock)).await?;
            app.apply_catalog(DEMO_CATALOG).await?;
            let listener = tokio::net::TcpListener::bind(&config.listen)
                .await
                .with_context(|| format!("binding {}", config.listen))?;
            let base = format!("http://{}", listener.local_addr()?);
            println!("boxoffice demo — data in {}", dir.display());
            println!();
            println!("  health            {base}/healthz");
            println!("  Vista Connect     {base}/WSVistaWebClient/OData.svc/Cinemas?$format=json");
            println!("                    header  connectapitoken: DEMO-CONNECT-TOKEN");
            println!("                    client  OptionalClientClass RSP, OptionalClientId 111.111.111.111, OptionalClientName 3rdParty");
            println!("                    cinema 0200, sessions 29617 (0056 @ 5000, 0010 @ 10000), 33392 (0153 @ 3000), 34668 (screen 7)");
            println!();
            println!("Ctrl-C stops the server. See docs/demo.md for a tour.");
            serve(listener, app, shutdown_signal()).await?;
            println!("boxoffice demo stopped");
        }
        Command::Serve { config } => {
            let config = load_config(&config)?;
            let app = App::open(&config, Arc::new(SystemClock)).await?;
            let listener = tokio::net::TcpListener::bind(&config.listen)
                .await
                .with_context(|| format!("binding {}", config.listen))?;
            tracing::info!(listen = %config.listen, database = %boxoffice_store::redact(&config.database), "boxoffice serving");
            serve(listener, app, shutdown_signal()).await?;
            tracing::info!("boxoffice stopped");
        }
        Command::Catalog {
            action:
                CatalogAction::Apply {
                    file,
                    config,
                    database,
                },
        } => {
            let config = match (config, database) {
                (Some(c), _) => load_config(&c)?,
                (None, Some(db)) => Config::for_database(&db),
                (None, None) => match std::env::var("BOXOFFICE_DATABASE") {
                    Ok(db) => Config::for_database(&db),
                    Err(_) => anyhow::bail!("name the database with --config FILE, --database URL or BOXOFFICE_DATABASE"),
                },
            };
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            let app = App::open(&config, Arc::new(SystemClock)).await?;
            let changed = app.apply_catalog(&text).await?;
            println!("catalogue applied: {changed} document(s) changed");
            app.store.close().await;
        }
    }
    Ok(())
}
