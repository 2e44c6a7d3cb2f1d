//! The `boxoffice` command: `demo`, `serve`, `catalog apply`, 游宝星 key files and the
//! operator actions (`ybx agent|recharge|ledger|counter-sale|ticket|order|outbox`, `messages`).

mod demo;
mod ops;

use anyhow::Context;
use boxoffice_core::clock::SystemClock;
use boxoffice_server::config::{Config, PublicUrl};
use boxoffice_server::observe::LogFormat;
use boxoffice_server::{serve, shutdown_signal, App};
use clap::{Parser, Subcommand, ValueEnum};
use ops::{emit, Keep};
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Parser)]
#[command(
    name = "boxoffice",
    version,
    about = "Ticketing server for cinemas, theatres and scenic areas"
)]
struct Cli {
    /// Log line format on standard error (`RUST_LOG` sets the level).
    #[arg(long, global = true, value_enum, default_value_t = LogFormatArg::Text)]
    log_format: LogFormatArg,
    #[command(subcommand)]
    command: Command,
}

/// `--log-format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum LogFormatArg {
    /// Human-readable lines (coloured only when standard error is a terminal).
    Text,
    /// One JSON object per line.
    Json,
}

impl From<LogFormatArg> for LogFormat {
    fn from(f: LogFormatArg) -> LogFormat {
        match f {
            LogFormatArg::Text => LogFormat::Text,
            LogFormatArg::Json => LogFormat::Json,
        }
    }
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
        /// Partner code that Vista requests without a `connectapitoken` act as.
        #[arg(long, value_name = "CODE")]
        vista_anonymous_partner: Option<String>,
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

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("boxoffice: cannot start the runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            // The causes in one line, without a backtrace: start-up errors say what is wrong.
            eprintln!("boxoffice: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    boxoffice_server::observe::init_logging(cli.log_format.into());
    match cli.command {
        Command::Demo {
            addr,
            data,
            vista_anonymous_partner,
        } => {
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
            config.operator.token = Some(demo::OPERATOR_TOKEN.into());
            config.vista.anonymous_partner = vista_anonymous_partner;
            demo::run(config, &dir).await?;
        }
        Command::Serve { config } => {
            let config = load_config(&config)?;
            let _lock = boxoffice_store::lock_database(&config.database)?;
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
        } => export_key(&account, &password, out, database_config(config, database)?).await?,
        Command::Ybx {
            action: YbxAction::ImportKey { file, password },
        } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            let key = boxoffice_ybx::crypto::import_key(&text, &password)
                .map_err(|e| anyhow::anyhow!("cannot read the key file with this password: {e}"))?;
            emit(&key, Keep::Ordinary)?;
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
            app.store.close().await;
            emit(
                &format!("catalogue applied: {changed} document(s) changed"),
                Keep::Ordinary,
            )?;
        }
    }
    Ok(())
}

/// `boxoffice ybx export-key`: the agent's key in force as a `.Bin` key file.
async fn export_key(
    account: &str,
    password: &str,
    out: Option<PathBuf>,
    config: Config,
) -> anyhow::Result<()> {
    let app = App::open(&config, Arc::new(SystemClock)).await?;
    // The key in force: the provisioned one, or the one it was rotated to.
    let key = app
        .ybx
        .agent(account)
        .await?
        .map(|a| a.data_key)
        .filter(|k| !k.is_empty())
        .with_context(|| format!("no 游宝星 account {account} with a data key"))?;
    app.store.close().await;
    let text = boxoffice_ybx::crypto::export_key(&key, password)?;
    match out {
        Some(path) => {
            std::fs::write(&path, &text).with_context(|| format!("writing {}", path.display()))
        }
        // The key stays in the database: another export gives it again.
        None => emit(&text, Keep::Ordinary),
    }
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
