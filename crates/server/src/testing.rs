//! Test support: a real server on a loopback port over a fresh database (SQLite file, or a new
//! PostgreSQL database when `BOXOFFICE_TEST_STORE=postgres`), with a manual clock.

use crate::config::Config;
use crate::faults::{Faults, FaultyStore};
use crate::{serve, App, DEMO_CATALOG};
use boxoffice_core::clock::{from_local, parse_offset, ManualClock};
use boxoffice_core::store::Store;
use chrono::NaiveDate;
use sqlx::Connection;
use std::sync::Arc;

/// Which store the test suite runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestStore {
    /// A SQLite file in a temporary directory.
    Sqlite,
    /// A fresh database on the PostgreSQL server of `BOXOFFICE_TEST_PG` (default
    /// `postgres://postgres@127.0.0.1:5432/test`).
    Postgres,
}

impl TestStore {
    /// `BOXOFFICE_TEST_STORE=postgres` selects PostgreSQL; anything else SQLite.
    pub fn from_env() -> TestStore {
        match std::env::var("BOXOFFICE_TEST_STORE").as_deref() {
            Ok("postgres") | Ok("postgresql") | Ok("pg") => TestStore::Postgres,
            _ => TestStore::Sqlite,
        }
    }
}

/// The PostgreSQL server tests create their databases on.
pub fn postgres_admin_url() -> String {
    std::env::var("BOXOFFICE_TEST_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// A fresh, empty database of the selected kind: its URL and the directory to keep alive.
pub async fn fresh_database(kind: TestStore) -> (String, Option<tempfile::TempDir>) {
    match kind {
        TestStore::Sqlite => {
            let dir = tempfile::tempdir().expect("temporary directory");
            let url = format!("sqlite://{}", dir.path().join("boxoffice.db").display());
            (url, Some(dir))
        }
        TestStore::Postgres => {
            let admin = postgres_admin_url();
            let name = format!("bx_t_{}", rand::random::<u64>());
            let mut conn = sqlx::PgConnection::connect(&admin)
                .await
                .expect("PostgreSQL for tests (BOXOFFICE_TEST_PG)");
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&mut conn)
                .await
                .expect("create test database");
            let base = admin
                .rsplit_once('/')
                .map(|(b, _)| b.to_string())
                .unwrap_or(admin.clone());
            (format!("{base}/{name}"), None)
        }
    }
}

/// The instant tests start at: 2026-11-22 10:00 at +08:00.
pub fn test_start() -> chrono::DateTime<chrono::Utc> {
    let offset = parse_offset("+08:00").expect("offset");
    from_local(
        NaiveDate::from_ymd_opt(2026, 11, 22)
            .and_then(|d| d.and_hms_opt(10, 0, 0))
            .expect("date"),
        offset,
    )
}

/// A server under test.
pub struct TestServer {
    /// Base URL, e.g. `http://127.0.0.1:41234`.
    pub url: String,
    /// The clock the server reads.
    pub clock: ManualClock,
    /// The app.
    pub app: App,
    /// The database URL.
    pub database: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    _dir: Option<tempfile::TempDir>,
}

impl TestServer {
    /// A server over a fresh database of the selected kind, with the demo catalogue.
    pub async fn start() -> TestServer {
        let (db, dir) = fresh_database(TestStore::from_env()).await;
        let mut s = TestServer::start_on(&db, |_| {}).await;
        s._dir = dir;
        s
    }

    /// A server over a fresh database whose service reads and writes through a
    /// [`FaultyStore`]: the returned switch makes store calls fail (healthy at first).
    pub async fn start_with_faults(tweak: impl FnOnce(&mut Config)) -> (TestServer, Arc<Faults>) {
        let (db, dir) = fresh_database(TestStore::from_env()).await;
        let mut faults = None;
        let mut s = TestServer::start_wrapped(&db, tweak, |inner| {
            let (store, switch) = FaultyStore::wrap(inner);
            faults = Some(switch);
            store
        })
        .await;
        s._dir = dir;
        (s, faults.expect("the store was wrapped"))
    }

    /// A server over a given database, with the demo catalogue and configuration tweaks. The
    /// configuration starts in the sandbox (the payment simulator is on) and listens on the
    /// loopback port it is given; a tweak may change both.
    pub async fn start_on(database: &str, tweak: impl FnOnce(&mut Config)) -> TestServer {
        TestServer::start_wrapped(database, tweak, |store| store).await
    }

    /// [`TestServer::start_on`] with the service's store passed through `wrap`.
    async fn start_wrapped(
        database: &str,
        tweak: impl FnOnce(&mut Config),
        wrap: impl FnOnce(Arc<dyn Store>) -> Arc<dyn Store>,
    ) -> TestServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let address = listener.local_addr().expect("address");
        let mut config = Config::for_database(database);
        config.max_connections = 8;
        config.sandbox = true;
        config.listen = address.to_string();
        tweak(&mut config);
        let clock = ManualClock::new(test_start());
        let app = App::open_wrapped(&config, Arc::new(clock.clone()), wrap)
            .await
            .expect("open app");
        app.apply_catalog(DEMO_CATALOG)
            .await
            .expect("demo catalogue");
        let url = format!("http://{address}");
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(serve(listener, app.clone(), async move {
            let _ = rx.await;
        }));
        TestServer {
            url,
            clock,
            app,
            database: database.to_string(),
            stop: Some(tx),
            task: Some(task),
            _dir: None,
        }
    }

    /// Stops the server and waits for it.
    pub async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
        self.app.store.close().await;
    }
}
