//! `boxoffice-bench`: a load benchmark of the boxoffice server over the Vista Connect wire.
//!
//! By default it starts a private server per store (SQLite, then PostgreSQL) on a generated
//! catalogue, runs its workloads at each concurrency level — seat-plan reads, complete bookings
//! (AddTickets + CompleteOrder), the Yueke partner API reads (getSchedules, getSeats,
//! getScheduleSoldSeats) and bookings (lockSeats + confirmOrder) on the same seats' cursor, the
//! 游宝星 scenic flow (GetProducts and GetProductsInventory reads, OrderAndPayWithYDJ bookings
//! under a day quota and without one), and oversell checks where many workers race for the same
//! seats or the last units of a day quota — verifies that every confirmed booking is kept, no
//! seat is sold twice and no quota is exceeded, and prints Markdown tables for
//! `docs/performance.md`. With `--url` it measures a running server.

mod api;
mod report;
mod scenic;
mod server;
mod workload;
mod yueke;

use anyhow::{bail, Context};
use clap::{Parser, ValueEnum};
use report::Row;
use scenic::YbxTarget;
use server::{Server, ServerOptions, Store};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;
use std::time::Duration;
use workload::{BookingState, Check, ErrorLog, Target};
use yueke::YuekeTarget;

/// Bookings per second the generated catalogue is sized for.
const SIZED_FOR_BOOKINGS_PER_SEC: usize = 3000;
/// Sessions of the generated catalogue reserved for seat-plan reads.
const READ_SESSIONS: usize = 4;

/// Which stores to benchmark.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum StoreChoice {
    /// SQLite only.
    Sqlite,
    /// PostgreSQL only.
    Postgres,
    /// SQLite, then PostgreSQL.
    Both,
}

/// Command line.
#[derive(Debug, Parser)]
#[command(
    name = "boxoffice-bench",
    about = "Load benchmark of the boxoffice server (Vista Connect): seat-plan reads, bookings, oversell check"
)]
struct Cli {
    /// Stores to start private servers on (ignored with --url).
    #[arg(long, value_enum, default_value = "both")]
    store: StoreChoice,
    /// PostgreSQL server for --store postgres: a fresh database `bx_bench_<random>` is created
    /// there (through psql) and dropped afterwards.
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432")]
    pg: String,
    /// Benchmark an already running server at this base URL instead of starting one.
    #[arg(long)]
    url: Option<String>,
    /// With --url: the partner's connectapitoken (default: the demo's).
    #[arg(long, default_value = "DEMO-CONNECT-TOKEN")]
    token: String,
    /// With --url: the cinema code (default: the demo's).
    #[arg(long, default_value = "0200")]
    cinema: String,
    /// With --url: sessions to read and book, comma-separated (default: the demo's). The first
    /// four are read; all but the contention session are booked.
    #[arg(long, value_delimiter = ',', default_value = "29617,33392,34668,34669")]
    sessions: Vec<String>,
    /// With --url: the session of the oversell check (default: the last of --sessions). Its
    /// seats get sold.
    #[arg(long)]
    contention_session: Option<String>,
    /// Seconds each workload runs at each concurrency level.
    #[arg(long, default_value_t = 5)]
    seconds: u64,
    /// Concurrency levels (workers), comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1,8,32,64")]
    levels: Vec<usize>,
    /// Workers of the oversell check.
    #[arg(long, default_value_t = 64)]
    contention_workers: usize,
    /// Seats (next to each other in one row) the oversell check's workers race for.
    #[arg(long, default_value_t = 8)]
    contention_seats: usize,
    /// The boxoffice binary (default: `boxoffice` next to this executable, i.e. target/release).
    #[arg(long)]
    boxoffice: Option<PathBuf>,
    /// Sessions of the generated catalogue (raised if the run could need more seats).
    #[arg(long, default_value_t = 400)]
    generated_sessions: usize,
    /// `max_connections` of a private server's database pool.
    #[arg(long, default_value_t = 16)]
    max_connections: u32,
    /// Bookings looked up with GetSingleBooking (and Yueke orders with getOrderInfo) after the
    /// booking workloads.
    #[arg(long, default_value_t = 200)]
    verify_sample: usize,
    /// Leave out the Yueke partner API workloads.
    #[arg(long)]
    no_yueke: bool,
    /// With --url: the Yueke channelCode (default: the demo's).
    #[arg(long, default_value = "YKSE")]
    yueke_channel: String,
    /// With --url: the Yueke channel's signing secret (default: the demo's).
    #[arg(long, default_value = "12345")]
    yueke_secret: String,
    /// With --url: the cinema's Yueke cinemaLinkId (default: the demo's, for cinema 0200).
    #[arg(long, default_value = "888")]
    yueke_link: String,
    /// Leave out the 游宝星 scenic workloads.
    #[arg(long)]
    no_ybx: bool,
    /// With --url: the 游宝星 agent's `user` (default: the demo's).
    #[arg(long, default_value = "demo-agent")]
    ybx_user: String,
    /// With --url: the 游宝星 agent's data key (default: the demo's).
    #[arg(long, default_value = "6F9619FF-8B86-D011-B42D-00C04FC964FF")]
    ybx_key: String,
    /// With --url: the 游宝星 agent's login password (default: the demo's).
    #[arg(long, default_value = "demo-pass")]
    ybx_password: String,
    /// With --url: the 游宝星 agent's payment password (default: the demo's).
    #[arg(long, default_value = "123456")]
    ybx_pay_password: String,
    /// With --url: the scenic product with a day quota to book (default: the demo's adult
    /// ticket, whose day quota of 500 ends long runs early).
    #[arg(long, default_value = "8A1F0C2E-0001-4C6B-9E51-3D2A7B000001")]
    ybx_product: String,
    /// With --url: a scenic product without a quota to book too, or `none` (default: the
    /// demo's unlimited ticket).
    #[arg(long, default_value = "8A1F0C2E-0004-4C6B-9E51-3D2A7B000004")]
    ybx_open_product: String,
    /// With --url: the scenic product whose remaining day quota the 游宝星 oversell check sells
    /// out (default: none, no check — the demo has no small dedicated quota).
    #[arg(long)]
    ybx_contention_product: Option<String>,
}

/// What to run against one server.
struct Plan {
    title: String,
    target: Target,
    read_sessions: Vec<String>,
    booking_sessions: Vec<String>,
    contention_session: String,
    /// The Yueke channel to use (`None`: no Yueke workloads).
    yueke: Option<YuekeTarget>,
    /// The 游宝星 agent to use (`None`: no 游宝星 workloads).
    ybx: Option<YbxTarget>,
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(Cli::parse()).await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => {
            eprintln!("FAILED: a check did not pass (see above)");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Runs the benchmark; `Ok(false)` when a check failed.
async fn run(cli: Cli) -> anyhow::Result<bool> {
    if cli.levels.is_empty() || cli.levels.contains(&0) {
        bail!("--levels needs positive worker counts");
    }
    if cli.seconds == 0 {
        bail!("--seconds must be at least 1");
    }
    if cli.contention_seats < 2 || cli.contention_workers == 0 {
        bail!("--contention-seats must be at least 2 and --contention-workers at least 1");
    }
    println!("# boxoffice benchmark\n");
    print!("{}", report::machine());
    println!(
        "- run: {} s per workload and level, levels {:?}, oversell check with {} workers on {} seats; client and server on this machine\n",
        cli.seconds, cli.levels, cli.contention_workers, cli.contention_seats
    );
    if let Some(url) = &cli.url {
        if cli.sessions.is_empty() {
            bail!("--sessions is empty");
        }
        let contention = cli
            .contention_session
            .clone()
            .or_else(|| cli.sessions.last().cloned())
            .context("no contention session")?;
        let mut booking: Vec<String> = cli
            .sessions
            .iter()
            .filter(|s| **s != contention)
            .cloned()
            .collect();
        if booking.is_empty() {
            booking = cli.sessions.clone();
        }
        let plan = Plan {
            title: format!("server at {url}"),
            target: Target {
                base: url.clone(),
                token: cli.token.clone(),
                cinema: cli.cinema.clone(),
            },
            read_sessions: cli.sessions.iter().take(READ_SESSIONS).cloned().collect(),
            booking_sessions: booking,
            contention_session: contention,
            yueke: (!cli.no_yueke).then(|| YuekeTarget {
                base: url.clone(),
                channel: cli.yueke_channel.clone(),
                secret: cli.yueke_secret.clone(),
                link: cli.yueke_link.clone(),
            }),
            ybx: (!cli.no_ybx).then(|| YbxTarget {
                base: url.clone(),
                user: cli.ybx_user.clone(),
                key: cli.ybx_key.clone(),
                password: cli.ybx_password.clone(),
                pay_password: cli.ybx_pay_password.clone(),
                quota_product: cli.ybx_product.clone(),
                open_product: (!cli.ybx_open_product.eq_ignore_ascii_case("none"))
                    .then(|| cli.ybx_open_product.clone()),
                contention_product: cli.ybx_contention_product.clone(),
            }),
        };
        return bench(&cli, &plan).await;
    }
    let binary = match &cli.boxoffice {
        Some(b) => b.clone(),
        None => server::default_binary()?,
    };
    if !binary.exists() {
        bail!(
            "{} does not exist: build it with `cargo build --release -p boxoffice` or pass --boxoffice",
            binary.display()
        );
    }
    let pairs_per_session = server::ROWS * (server::COLUMNS / 2);
    // Vista and Yueke bookings take their seats from the same sessions.
    let protocols = if cli.no_yueke { 1 } else { 2 };
    let needed = (protocols * SIZED_FOR_BOOKINGS_PER_SEC * cli.seconds as usize * cli.levels.len())
        .div_ceil(pairs_per_session)
        + READ_SESSIONS
        + 1;
    let sessions = cli.generated_sessions.max(needed);
    let stores: &[Store] = match cli.store {
        StoreChoice::Sqlite => &[Store::Sqlite],
        StoreChoice::Postgres => &[Store::Postgres],
        StoreChoice::Both => &[Store::Sqlite, Store::Postgres],
    };
    let mut all_passed = true;
    for &store in stores {
        eprintln!("[{}] starting a private server", store.name());
        let srv = Server::start(&ServerOptions {
            binary: &binary,
            store,
            pg: &cli.pg,
            sessions,
            max_connections: cli.max_connections,
            ybx_daily_max: (SIZED_FOR_BOOKINGS_PER_SEC * cli.seconds as usize * cli.levels.len())
                as i64,
        })
        .await
        .with_context(|| format!("starting the {} server", store.name()))?;
        let codes = srv.sessions.clone();
        let plan = Plan {
            title: format!(
                "{} (private server, max_connections {}, {} sessions of {} seats)",
                store.name(),
                cli.max_connections,
                sessions,
                server::ROWS * server::COLUMNS
            ),
            target: Target {
                base: srv.base.clone(),
                token: srv.token.clone(),
                cinema: server::CINEMA.to_string(),
            },
            read_sessions: codes[..READ_SESSIONS].to_vec(),
            booking_sessions: codes[READ_SESSIONS..codes.len() - 1].to_vec(),
            contention_session: codes[codes.len() - 1].clone(),
            yueke: (!cli.no_yueke).then(|| YuekeTarget {
                base: srv.base.clone(),
                channel: server::YUEKE_CHANNEL.to_string(),
                secret: srv.yueke_secret.clone(),
                link: server::YUEKE_LINK.to_string(),
            }),
            ybx: (!cli.no_ybx).then(|| YbxTarget {
                base: srv.base.clone(),
                user: server::YBX_USER.to_string(),
                key: srv.ybx.key.clone(),
                password: srv.ybx.password.clone(),
                pay_password: srv.ybx.pay_password.clone(),
                quota_product: server::YBX_QUOTA_PRODUCT.to_string(),
                open_product: Some(server::YBX_OPEN_PRODUCT.to_string()),
                contention_product: Some(server::YBX_CONTENTION_PRODUCT.to_string()),
            }),
        };
        let result = bench(&cli, &plan).await;
        let problems = srv.log_problems();
        if !problems.is_empty() {
            eprintln!(
                "[{}] the server logged {} warnings/errors; the first ones:",
                store.name(),
                problems.len()
            );
            for p in problems.iter().take(5) {
                eprintln!("  {p}");
            }
        }
        if result.is_err() {
            eprintln!("[{}] server log tail:\n{}", store.name(), srv.log_tail());
        }
        srv.stop()
            .await
            .with_context(|| format!("stopping the {} server", store.name()))?;
        all_passed &= result?;
    }
    Ok(all_passed)
}

/// Runs every workload against one server and prints its table; `Ok(false)` when a check failed.
async fn bench(cli: &Cli, plan: &Plan) -> anyhow::Result<bool> {
    let target = &plan.target;
    let duration = Duration::from_secs(cli.seconds);
    let short = plan.title.split(' ').next().unwrap_or("bench").to_string();
    let run_id = format!("bx{}", server::random_suffix());
    eprintln!(
        "[{short}] reading the seat plans of {} sessions",
        plan.booking_sessions.len() + 1
    );
    let booking_plans = workload::discover_all(target, &plan.booking_sessions).await?;
    let contention_plan = workload::discover(&target.api()?, &plan.contention_session).await?;
    let pairs = workload::pairs(&booking_plans);
    let state = Arc::new(BookingState {
        plans: booking_plans,
        pairs,
        cursor: AtomicUsize::new(0),
        run: run_id.clone(),
    });
    let yueke_setup = match &plan.yueke {
        Some(y) => {
            eprintln!("[{short}] yueke: listing schedules and seat ids");
            Some(yueke::discover(y, &state.plans, &plan.read_sessions).await?)
        }
        None => None,
    };
    let ybx_setup = match &plan.ybx {
        Some(y) => {
            eprintln!("[{short}] ybx: listing products and the day quota");
            Some(scenic::discover(y).await?)
        }
        None => None,
    };
    let mut rows: Vec<Row> = Vec::new();
    for &level in &cli.levels {
        let log = Arc::new(ErrorLog::new(format!("{short} seat-plan c={level}")));
        let row =
            workload::seat_plan_reads(target, &plan.read_sessions, level, duration, log).await?;
        eprintln!(
            "[{short}] seat-plan reads c={level}: {:.0}/s",
            row.ops_per_sec
        );
        rows.push(row);
    }
    if let (Some(y), Some(setup)) = (&plan.yueke, &yueke_setup) {
        let reads: [(&'static str, &str, &[serde_json::Value]); 3] = [
            (
                yueke::GET_SCHEDULES,
                "yueke getSchedules (3 days)",
                &setup.schedule_reads,
            ),
            (yueke::GET_SEATS, "yueke getSeats", &setup.seat_reads),
            (
                yueke::GET_SOLD_SEATS,
                "yueke getScheduleSoldSeats",
                &setup.sold_reads,
            ),
        ];
        for (api, label, requests) in reads {
            for &level in &cli.levels {
                let log = Arc::new(ErrorLog::new(format!("{short} {label} c={level}")));
                let row = yueke::reads(y, api, label, requests, level, duration, log).await?;
                eprintln!("[{short}] {label} c={level}: {:.0}/s", row.ops_per_sec);
                rows.push(row);
            }
        }
    }
    if let (Some(y), Some(setup)) = (&plan.ybx, &ybx_setup) {
        let inventory_label = format!("ybx GetProductsInventory ({} days)", scenic::INVENTORY_DAYS);
        let no_params: Vec<(String, String)> = Vec::new();
        let reads = [
            (
                scenic::GET_PRODUCTS,
                "ybx GetProducts",
                no_params.as_slice(),
            ),
            (
                scenic::GET_INVENTORY,
                inventory_label.as_str(),
                setup.inventory_read.as_slice(),
            ),
        ];
        for (page, label, params) in reads {
            for &level in &cli.levels {
                let log = Arc::new(ErrorLog::new(format!("{short} {label} c={level}")));
                let row = scenic::reads(y, page, label, params, level, duration, log).await?;
                eprintln!("[{short}] {label} c={level}: {:.0}/s", row.ops_per_sec);
                rows.push(row);
            }
        }
    }
    let mut booked = Vec::new();
    let mut held = 0;
    let mut exhausted = false;
    let mut yueke_rows: Vec<Row> = Vec::new();
    let mut yueke_orders = Vec::new();
    let mut yueke_locked = 0;
    let yueke_schedules = yueke_setup.as_ref().map(|s| Arc::new(s.schedules.clone()));
    for &level in &cli.levels {
        let log = Arc::new(ErrorLog::new(format!("{short} booking c={level}")));
        let out = workload::bookings(target, state.clone(), level, duration, log).await?;
        eprintln!(
            "[{short}] bookings c={level}: {:.0}/s ({} errors)",
            out.whole.ops_per_sec, out.whole.errors
        );
        let mut whole = out.whole;
        if out.exhausted {
            whole.workload.push_str(" — ran out of seats");
        }
        rows.push(whole);
        rows.push(out.add);
        rows.push(out.complete);
        booked.extend(out.booked);
        held += out.held;
        exhausted |= out.exhausted;
        // The Yueke bookings of the same level, on the next seats of the shared cursor.
        if let (Some(y), Some(schedules)) = (&plan.yueke, &yueke_schedules) {
            let log = Arc::new(ErrorLog::new(format!("{short} yueke booking c={level}")));
            let out =
                yueke::bookings(y, state.clone(), schedules.clone(), level, duration, log).await?;
            eprintln!(
                "[{short}] yueke bookings c={level}: {:.0}/s ({} errors)",
                out.whole.ops_per_sec, out.whole.errors
            );
            let mut whole = out.whole;
            if out.exhausted {
                whole.workload.push_str(" — ran out of seats");
            }
            yueke_rows.push(whole);
            yueke_rows.push(out.lock);
            yueke_rows.push(out.confirm);
            yueke_orders.extend(out.orders);
            yueke_locked += out.locked;
            exhausted |= out.exhausted;
        }
    }
    rows.extend(yueke_rows);
    let mut ybx_booked = Vec::new();
    if let (Some(y), Some(setup)) = (&plan.ybx, &ybx_setup) {
        let counter = Arc::new(AtomicUsize::new(0));
        let products = std::iter::once((
            y.quota_product.as_str(),
            "ybx OrderAndPayWithYDJ (day quota)",
        ))
        .chain(
            y.open_product
                .as_deref()
                .map(|p| (p, "ybx OrderAndPayWithYDJ (no quota)")),
        );
        for (product, label) in products {
            for &level in &cli.levels {
                let log = Arc::new(ErrorLog::new(format!("{short} {label} c={level}")));
                let out = scenic::bookings(
                    y,
                    setup,
                    product,
                    label,
                    &format!("{run_id}y"),
                    counter.clone(),
                    level,
                    duration,
                    log,
                )
                .await?;
                eprintln!(
                    "[{short}] {label} c={level}: {:.0}/s ({} errors)",
                    out.row.ops_per_sec, out.row.errors
                );
                rows.push(out.row);
                ybx_booked.extend(out.booked);
                if out.exhausted.is_some() {
                    // The stock is used up: later levels would only be refused.
                    break;
                }
            }
        }
    }
    let mut checks: Vec<Check> = Vec::new();
    if let Some(setup) = &ybx_setup {
        checks.push(Check {
            lines: setup.lines.clone(),
            problems: Vec::new(),
        });
    }
    if let Some(setup) = &yueke_setup {
        checks.push(Check {
            lines: setup.lines.clone(),
            problems: Vec::new(),
        });
    }
    eprintln!(
        "[{short}] verifying {} Vista bookings and {} Yueke orders",
        booked.len(),
        yueke_orders.len()
    );
    checks.push(
        workload::verify_bookings(
            target,
            &state,
            &booked,
            held,
            yueke_locked,
            cli.verify_sample,
        )
        .await?,
    );
    if let Some(y) = &plan.yueke {
        checks.push(yueke::verify_orders(y, &yueke_orders, yueke_locked, cli.verify_sample).await?);
    }
    if let (Some(y), Some(setup)) = (&plan.ybx, &ybx_setup) {
        eprintln!("[{short}] verifying {} 游宝星 bookings", ybx_booked.len());
        checks.push(scenic::verify(y, setup, &ybx_booked, cli.verify_sample).await?);
    }
    if exhausted {
        checks.push(Check {
            lines: vec![format!(
                "note: the booking workers ran out of free seats ({} pairs); the booking rates are lower bounds",
                state.pairs.len()
            )],
            problems: Vec::new(),
        });
    }
    eprintln!(
        "[{short}] oversell check: {} workers on {} seats of session {}",
        cli.contention_workers, cli.contention_seats, plan.contention_session
    );
    let log = Arc::new(ErrorLog::new(format!("{short} contention")));
    let (row, check) = workload::contention(
        target,
        &contention_plan,
        cli.contention_seats,
        cli.contention_workers,
        duration,
        &format!("{run_id}c"),
        log,
    )
    .await?;
    rows.push(row);
    checks.push(check);
    if let (Some(y), Some(setup)) = (&plan.ybx, &ybx_setup) {
        if y.contention_product.is_some() {
            eprintln!(
                "[{short}] ybx oversell check: {} workers on the day quota of {}",
                cli.contention_workers,
                y.contention_product.as_deref().unwrap_or_default()
            );
            let log = Arc::new(ErrorLog::new(format!("{short} ybx contention")));
            let (row, check) = scenic::contention(
                y,
                setup,
                cli.contention_workers,
                duration,
                &format!("{run_id}z"),
                log,
            )
            .await?;
            rows.push(row);
            checks.push(check);
        } else {
            checks.push(Check {
                lines: vec!["ybx oversell check skipped: no --ybx-contention-product".to_string()],
                problems: Vec::new(),
            });
        }
    }

    println!("## {}\n", plan.title);
    print!("{}", report::table(&rows));
    println!();
    let mut passed = true;
    for c in &checks {
        for l in &c.lines {
            println!("- {l}");
        }
        for p in &c.problems {
            passed = false;
            println!("- **FAILED**: {p}");
            eprintln!("[{short}] check failed: {p}");
        }
    }
    println!();
    Ok(passed)
}
