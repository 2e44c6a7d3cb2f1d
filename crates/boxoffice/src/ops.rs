//! Operator commands (`boxoffice ybx agent|recharge|ledger|counter-sale|ticket|order|outbox`,
//! `boxoffice messages`): the actions of the operator HTTP API (`boxoffice_operator::actions`)
//! run directly on the configured database. Answers are printed as JSON.

use anyhow::Context;
use boxoffice_core::clock::SystemClock;
use boxoffice_operator::actions::{self, AgentPatch, Passage};
use boxoffice_operator::OpError;
use boxoffice_server::config::Config;
use boxoffice_server::App;
use clap::{Args, Subcommand};
use serde::Serialize;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;

/// Where the database is: `--config FILE`, `--database URL` or `BOXOFFICE_DATABASE`.
#[derive(Args, Debug, Clone)]
pub struct DbArgs {
    /// Configuration file naming the database.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Database URL (instead of --config).
    #[arg(long)]
    pub database: Option<String>,
}

/// Operator subcommands of `boxoffice ybx`.
#[derive(Subcommand, Debug)]
pub enum YbxOps {
    /// Show or change an agent, or rotate its data key.
    Agent {
        #[command(subcommand)]
        action: AgentAction,
    },
    /// Recharge (positive amount) or debit (negative amount) an agent's deposit or rebate account.
    Recharge {
        /// The agent's user name.
        #[arg(long)]
        user: String,
        /// `deposit` or `rebate`.
        #[arg(long, default_value = "deposit")]
        account: String,
        /// Amount in fen (negative: a debit).
        #[arg(long, allow_negative_numbers = true)]
        amount: i64,
        /// Ledger note.
        #[arg(long, default_value = "")]
        note: String,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Show an agent's balances and ledger rows (oldest first).
    Ledger {
        /// The agent's user name.
        #[arg(long)]
        user: String,
        /// Only this account (`deposit` or `rebate`).
        #[arg(long)]
        account: Option<String>,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Pay a booked order (state 0) at the counter: it is delivered (X) with QR tickets.
    CounterSale {
        /// Order number.
        order: String,
        #[command(flatten)]
        db: DbArgs,
    },
    /// The supplier's payment and refund decisions on an order: `receipt` (a payment received
    /// outside the gateway), `approve-payment`, `reject-payment`, `approve-refund`,
    /// `reject-refund`, `complete-refund`.
    Payment {
        /// Order number.
        order: String,
        /// The action.
        action: String,
        /// The channel of a manual receipt (`01` Alipay, `02` WeChat Pay, `03` UnionPay).
        #[arg(long)]
        channel: Option<String>,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Print, gate-check or desk-refund a ticket.
    Ticket {
        #[command(subcommand)]
        action: TicketAction,
    },
    /// Show a visit order.
    Order {
        /// Order number.
        order: String,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Show the callbacks (outbox rows) of an order or an agent, with their delivery state.
    Outbox {
        /// Order number.
        #[arg(long)]
        order: Option<String>,
        /// Agent user name.
        #[arg(long)]
        user: Option<String>,
        #[command(flatten)]
        db: DbArgs,
    },
}

/// `boxoffice ybx agent …`.
#[derive(Subcommand, Debug)]
pub enum AgentAction {
    /// Show an agent's settings (never its data key or password hashes).
    Show {
        /// The agent's user name.
        #[arg(long)]
        user: String,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Change an agent's runtime settings.
    Update {
        /// The agent's user name.
        #[arg(long)]
        user: String,
        /// Enable (true) or disable (false) the agent.
        #[arg(long)]
        enabled: Option<bool>,
        /// Pay at the counter allowed.
        #[arg(long)]
        allow_cash: Option<bool>,
        /// Deposit payments allowed.
        #[arg(long)]
        allow_deposit: Option<bool>,
        /// Rebate payments allowed.
        #[arg(long)]
        allow_rebate: Option<bool>,
        /// Instant payments allowed.
        #[arg(long)]
        allow_epay: Option<bool>,
        /// Most persons per visit date (0: unlimited).
        #[arg(long)]
        daily_max: Option<i64>,
        /// Products it may sell, comma-separated (`*` for all).
        #[arg(long, value_delimiter = ',')]
        products: Option<Vec<String>>,
        /// Reserved mobile 1 (empty to clear).
        #[arg(long)]
        mobile1: Option<String>,
        /// Reserved mobile 2 (empty to clear).
        #[arg(long)]
        mobile2: Option<String>,
        /// E-mail (empty to clear).
        #[arg(long)]
        email: Option<String>,
        /// Signature check: `strict` or `off`.
        #[arg(long)]
        sign_check: Option<String>,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Give the agent a new data key; the key is printed once.
    RotateKey {
        /// The agent's user name.
        #[arg(long)]
        user: String,
        #[command(flatten)]
        db: DbArgs,
    },
}

/// `boxoffice ybx ticket …`.
#[derive(Subcommand, Debug)]
pub enum TicketAction {
    /// Mark a valid ticket printed (1 → 3).
    Print {
        /// Ticket code.
        code: String,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Record a gate passage (1|3 → 4).
    Check {
        /// Ticket code.
        code: String,
        /// Gate number.
        #[arg(long, default_value = "")]
        gate: String,
        /// Station name (default: the venue's).
        #[arg(long)]
        station: Option<String>,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Refund a ticket at the desk (1|3 → 2), fee per the venue's rules.
    Refund {
        /// Ticket code.
        code: String,
        #[command(flatten)]
        db: DbArgs,
    },
}

/// `boxoffice messages` options.
#[derive(Args, Debug)]
pub struct MessagesArgs {
    /// Only messages to this phone.
    #[arg(long)]
    pub phone: Option<String>,
    /// Only messages about this order (number).
    #[arg(long)]
    pub order: Option<String>,
    #[command(flatten)]
    pub db: DbArgs,
}

/// The configuration naming the database.
fn database_config(db: &DbArgs) -> anyhow::Result<Config> {
    Ok(match (&db.config, &db.database) {
        (Some(c), _) => {
            let (config, warnings) = Config::load(&c.to_string_lossy(), std::env::vars())
                .with_context(|| format!("reading {}", c.display()))?;
            for w in warnings {
                tracing::warn!("{w}");
            }
            config
        }
        (None, Some(url)) => Config::for_database(url),
        (None, None) => match std::env::var("BOXOFFICE_DATABASE") {
            Ok(url) => Config::for_database(&url),
            Err(_) => anyhow::bail!(
                "name the database with --config FILE, --database URL or BOXOFFICE_DATABASE"
            ),
        },
    })
}

/// Whether an answer is the only copy of something the operator must keep (a new key).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keep {
    /// The answer can be read again (`show`, `ledger`, …): a closed output only ends the
    /// command quietly.
    Ordinary,
    /// The answer holds a secret made now and shown once: when standard output cannot take
    /// it, it goes to standard error and the command fails.
    OnlyCopy,
}

/// Writes a command's answer to standard output (a closed pipe, as in `… | head`, is no
/// panic). An answer that is the only copy of a secret is written to standard error instead
/// when standard output fails, and the command fails so that scripts notice.
pub fn emit(text: &str, keep: Keep) -> anyhow::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let written = out
        .write_all(text.as_bytes())
        .and_then(|()| out.write_all(b"\n"))
        .and_then(|()| out.flush());
    match (written, keep) {
        (Ok(()), _) => Ok(()),
        (Err(e), Keep::Ordinary) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        (Err(e), Keep::Ordinary) => Err(anyhow::anyhow!("writing the answer: {e}")),
        (Err(e), Keep::OnlyCopy) => {
            let mut err = std::io::stderr().lock();
            let _ = writeln!(
                err,
                "standard output failed ({e}); the answer, shown only once, is:\n{text}"
            );
            Err(anyhow::anyhow!(
                "the answer could not be written to standard output ({e}); it was written to standard error"
            ))
        }
    }
}

/// Opens the database, runs one action on the app, prints its answer as JSON, closes the store.
async fn run<T, F, Fut>(db: &DbArgs, action: F) -> anyhow::Result<()>
where
    T: Serialize,
    F: FnOnce(App) -> Fut,
    Fut: Future<Output = Result<T, OpError>>,
{
    run_keeping(db, Keep::Ordinary, action).await
}

/// [`run`] with the answer's [`Keep`].
async fn run_keeping<T, F, Fut>(db: &DbArgs, keep: Keep, action: F) -> anyhow::Result<()>
where
    T: Serialize,
    F: FnOnce(App) -> Fut,
    Fut: Future<Output = Result<T, OpError>>,
{
    let config = database_config(db)?;
    let app = App::open(&config, Arc::new(SystemClock)).await?;
    let store = app.store.clone();
    let result = action(app).await;
    store.close().await;
    match result {
        Ok(v) => emit(&serde_json::to_string_pretty(&v)?, keep),
        Err(e) => Err(anyhow::anyhow!("{e} (HTTP {})", e.status().as_u16())),
    }
}

/// Runs an operator subcommand of `boxoffice ybx`.
pub async fn ybx(cmd: YbxOps) -> anyhow::Result<()> {
    match cmd {
        YbxOps::Agent { action } => match action {
            AgentAction::Show { user, db } => {
                run(&db, |app| async move {
                    actions::show_agent(&app.service, &app.ybx, &user).await
                })
                .await
            }
            AgentAction::Update {
                user,
                enabled,
                allow_cash,
                allow_deposit,
                allow_rebate,
                allow_epay,
                daily_max,
                products,
                mobile1,
                mobile2,
                email,
                sign_check,
                db,
            } => {
                let patch = AgentPatch {
                    enabled,
                    allow_cash,
                    allow_deposit,
                    allow_rebate,
                    allow_epay,
                    daily_max,
                    products,
                    mobile1,
                    mobile2,
                    email,
                    sign_check,
                };
                run(&db, |app| async move {
                    actions::update_agent(&app.service, &app.ybx, &user, &patch).await
                })
                .await
            }
            AgentAction::RotateKey { user, db } => {
                // The new key is in force once made and is shown only here.
                run_keeping(&db, Keep::OnlyCopy, |app| async move {
                    actions::rotate_key(&app.service, &app.ybx, &user).await
                })
                .await
            }
        },
        YbxOps::Recharge {
            user,
            account,
            amount,
            note,
            db,
        } => {
            run(&db, |app| async move {
                actions::recharge(&app.service, &app.ybx, &user, &account, amount, &note).await
            })
            .await
        }
        YbxOps::Ledger { user, account, db } => {
            run(&db, |app| async move {
                let balances = actions::accounts(&app.service, &app.ybx, &user).await?;
                let ledger =
                    actions::ledger(&app.service, &app.ybx, &user, account.as_deref()).await?;
                Ok(serde_json::json!({
                    "user": balances.user,
                    "accounts": balances.accounts,
                    "account": ledger.account,
                    "entries": ledger.entries,
                }))
            })
            .await
        }
        YbxOps::CounterSale { order, db } => {
            run(&db, |app| async move {
                actions::counter_sale(&app.service, &order).await
            })
            .await
        }
        YbxOps::Payment {
            order,
            action,
            channel,
            db,
        } => {
            let Some(action) = actions::PaymentAction::parse(&action) else {
                anyhow::bail!(
                    "unknown action {action:?} (receipt, approve-payment, reject-payment, approve-refund, reject-refund, complete-refund)"
                );
            };
            run(&db, |app| async move {
                actions::payment_action(&app.ybx, &order, action, channel.as_deref()).await
            })
            .await
        }
        YbxOps::Ticket { action } => match action {
            TicketAction::Print { code, db } => {
                run(&db, |app| async move {
                    actions::print_ticket(&app.service, &code).await
                })
                .await
            }
            TicketAction::Check {
                code,
                gate,
                station,
                db,
            } => {
                let passage = Passage { gate, station };
                run(&db, |app| async move {
                    actions::check_ticket(&app.service, &code, &passage).await
                })
                .await
            }
            TicketAction::Refund { code, db } => {
                run(&db, |app| async move {
                    actions::refund_ticket(&app.service, &code).await
                })
                .await
            }
        },
        YbxOps::Order { order, db } => {
            run(&db, |app| async move {
                actions::order(&app.service, &order).await
            })
            .await
        }
        YbxOps::Outbox { order, user, db } => {
            run(&db, |app| async move {
                actions::outbox(&app.service, &app.ybx, order.as_deref(), user.as_deref()).await
            })
            .await
        }
    }
}

/// Runs `boxoffice messages`.
pub async fn messages(args: MessagesArgs) -> anyhow::Result<()> {
    let MessagesArgs { phone, order, db } = args;
    run(&db, |app| async move {
        actions::messages(&app.service, phone.as_deref(), order.as_deref()).await
    })
    .await
}
