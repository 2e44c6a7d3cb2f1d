//! The `boxoffice` command: `demo`, `serve`, `catalog apply`, 游宝星 key files and the
//! operator actions (`ybx agent|recharge|ledger|counter-sale|ticket|order|outbox`, `messages`).

mod ops;

use anyhow::Context;
use boxoffice_core::clock::SystemClock;
use boxoffice_server::config::{Config, PublicUrl};
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
    /// 游宝星 agent key files and operator actions.
    Ybx {
        #[command(subcommand)]
        action: YbxAction,
    },
    /// Messages (SMS) kept by the built-in message sink, oldest first.
    Messages(ops::MessagesArgs),
}

#[derive(Subcommand)]
enum YbxAction {
    /// Write an agent account's data key as a `.Bin` key file, encrypted with an export password.
    ExportKey {
        /// The agent's user name (its `ybx` credential key in the catalogue).
        #[arg(long)]
        account: String,
        /// Export password (9 to 24 ASCII characters).
        #[arg(long)]
        password: String,
        /// Output file (standard output when omitted).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Configuration file naming the database.
        #[arg(long)]
        config: Option<PathBuf>,
        /// Database URL (instead of --config).
        #[arg(long)]
        database: Option<String>,
    },
    /// Read a `.Bin` key file back and print the data key.
    ImportKey {
        /// The key file.
        file: PathBuf,
        /// Export password it was written with.
        #[arg(long)]
        password: String,
    },
    #[command(flatten)]
    Ops(ops::YbxOps),
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
    let (config, warnings) = Config::load(&path.to_string_lossy(), std::env::vars())?;
    for w in warnings {
        tracing::warn!("{w}");
    }
    Ok(config)
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
            // The demo is the sandbox: the payment simulator on, sending to the listen address.
            config.sandbox = true;
            config.public_url = Some(PublicUrl::of_listen(&config.listen)?);
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
        Command::Ybx {
            action:
                YbxAction::ExportKey {
                    account,
                    password,
                    out,
                    config,
                    database,
                },
        } => {
            let config = database_config(config, database)?;
            let app = App::open(&config, Arc::new(SystemClock)).await?;
            // The key in force: the provisioned one, or the one it was rotated to.
            let key = app
                .ybx
                .agent(&account)
                .await?
                .map(|a| a.data_key)
                .filter(|k| !k.is_empty())
                .with_context(|| format!("no 游宝星 account {account} with a data key"))?;
            let text = boxoffice_ybx::crypto::export_key(&key, &password)?;
            match out {
                Some(path) => std::fs::write(&path, &text)
                    .with_context(|| format!("writing {}", path.display()))?,
                None => println!("{text}"),
            }
            app.store.close().await;
        }
        Command::Ybx {
            action: YbxAction::ImportKey { file, password },
        } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            let key = boxoffice_ybx::crypto::import_key(&text, &password)
                .map_err(|e| anyhow::anyhow!("cannot read the key file with this password: {e}"))?;
            println!("{key}");
        }
        Command::Ybx {
            action: YbxAction::Ops(cmd),
        } => ops::ybx(cmd).await?,
        Command::Messages(args) => ops::messages(args).await?,
        Command::Catalog {
            action:
                CatalogAction::Apply {
                    file,
                    config,
                    database,
                },
        } => {
            let config = database_config(config, database)?;
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

/// The configuration naming the database: `--config FILE`, `--database URL` or `BOXOFFICE_DATABASE`.
fn database_config(config: Option<PathBuf>, database: Option<String>) -> anyhow::Result<Config> {
    Ok(match (config, database) {
        (Some(c), _) => load_config(&c)?,
        (None, Some(db)) => Config::for_database(&db),
        (None, None) => match std::env::var("BOXOFFICE_DATABASE") {
            Ok(db) => Config::for_database(&db),
            Err(_) => anyhow::bail!(
                "name the database with --config FILE, --database URL or BOXOFFICE_DATABASE"
            ),
        },
    })
}
