//! One small SQL interface over two drivers, so every store operation is written once:
//!
//! - **SQLite** through rusqlite, executed inline on the calling task. A statement takes
//!   microseconds, so handing each one to a driver thread (as async SQLite drivers do) would
//!   cost more in context switches than the work itself; one writer connection serialises
//!   write transactions (`BEGIN IMMEDIATE`), readers run in parallel on their own connections.
//! - **PostgreSQL** through sqlx, asynchronously, from a pool.
//!
//! SQL is written with `$n` placeholders; for SQLite they become `?n`.

use async_trait::async_trait;
use boxoffice_core::store::StoreError;
use rusqlite::types::{ToSqlOutput, ValueRef};
use sqlx::postgres::{PgConnection, PgPool, PgRow};
use sqlx::{Column, Row as _, TypeInfo};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::sync::{Mutex, OwnedMutexGuard};

/// A value bound to a statement or read from a row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Val {
    /// An integer.
    Int(i64),
    /// Text.
    Text(String),
    /// A NULL integer.
    NullInt,
    /// A NULL text.
    NullText,
}

impl From<i64> for Val {
    fn from(v: i64) -> Val {
        Val::Int(v)
    }
}
impl From<i32> for Val {
    fn from(v: i32) -> Val {
        Val::Int(i64::from(v))
    }
}
impl From<&str> for Val {
    fn from(v: &str) -> Val {
        Val::Text(v.to_string())
    }
}
impl From<String> for Val {
    fn from(v: String) -> Val {
        Val::Text(v)
    }
}
impl From<&String> for Val {
    fn from(v: &String) -> Val {
        Val::Text(v.clone())
    }
}
impl From<Option<i64>> for Val {
    fn from(v: Option<i64>) -> Val {
        v.map_or(Val::NullInt, Val::Int)
    }
}
impl From<Option<String>> for Val {
    fn from(v: Option<String>) -> Val {
        v.map_or(Val::NullText, Val::Text)
    }
}

impl rusqlite::ToSql for Val {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Val::Int(i) => ToSqlOutput::Borrowed(ValueRef::Integer(*i)),
            Val::Text(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
            Val::NullInt | Val::NullText => ToSqlOutput::Borrowed(ValueRef::Null),
        })
    }
}

/// A result row: values by column name.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    names: Arc<[String]>,
    vals: Vec<Val>,
}

impl Row {
    fn at(&self, name: &str) -> Result<&Val, StoreError> {
        self.names
            .iter()
            .position(|n| n == name)
            .and_then(|i| self.vals.get(i))
            .ok_or_else(|| StoreError::Corrupt(format!("no column {name}")))
    }
    /// An integer column that may be NULL.
    pub fn opt_int(&self, name: &str) -> Result<Option<i64>, StoreError> {
        match self.at(name)? {
            Val::Int(i) => Ok(Some(*i)),
            Val::NullInt | Val::NullText => Ok(None),
            Val::Text(t) => Err(StoreError::Corrupt(format!("column {name} is text {t:?}"))),
        }
    }
    /// An integer column.
    pub fn int(&self, name: &str) -> Result<i64, StoreError> {
        self.opt_int(name)?
            .ok_or_else(|| StoreError::Corrupt(format!("column {name} is NULL")))
    }
    /// A text column that may be NULL.
    pub fn opt_text(&self, name: &str) -> Result<Option<String>, StoreError> {
        match self.at(name)? {
            Val::Text(t) => Ok(Some(t.clone())),
            Val::NullInt | Val::NullText => Ok(None),
            Val::Int(i) => Err(StoreError::Corrupt(format!(
                "column {name} is the integer {i}"
            ))),
        }
    }
    /// A text column.
    pub fn text(&self, name: &str) -> Result<String, StoreError> {
        self.opt_text(name)?
            .ok_or_else(|| StoreError::Corrupt(format!("column {name} is NULL")))
    }
}

/// A connection: in a transaction (writes) or in autocommit (reads).
#[async_trait]
pub(crate) trait Conn: Send {
    /// Runs a statement; returns the rows it changed.
    async fn exec(&mut self, sql: &str, params: &[Val]) -> Result<u64, StoreError>;
    /// Runs a query; returns its rows.
    async fn rows(&mut self, sql: &str, params: &[Val]) -> Result<Vec<Row>, StoreError>;
    /// Commits the transaction.
    async fn commit(&mut self) -> Result<(), StoreError>;
    /// Rolls the transaction back (also done when dropped uncommitted).
    async fn rollback(&mut self) -> Result<(), StoreError>;

    /// The first row, if any.
    async fn opt(&mut self, sql: &str, params: &[Val]) -> Result<Option<Row>, StoreError> {
        Ok(self.rows(sql, params).await?.into_iter().next())
    }
    /// The first row, which must exist.
    async fn one(&mut self, sql: &str, params: &[Val]) -> Result<Row, StoreError> {
        self.opt(sql, params)
            .await?
            .ok_or_else(|| StoreError::Corrupt(format!("no row from {sql}")))
    }
}

// ---------------------------------------------------------------------------------------------
// SQLite

fn sqlite_err(e: rusqlite::Error) -> StoreError {
    if let rusqlite::Error::SqliteFailure(f, msg) = &e {
        if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
            || f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
        {
            return StoreError::Duplicate(msg.clone().unwrap_or_default());
        }
    }
    StoreError::Database(e.to_string())
}

/// The SQLite file: one writer connection, several readers.
pub(crate) struct SqliteDb {
    writer: Arc<Mutex<rusqlite::Connection>>,
    readers: Vec<Arc<Mutex<rusqlite::Connection>>>,
    next: AtomicUsize,
}

impl SqliteDb {
    /// Opens (creating) the file with WAL journaling and the given `synchronous` level.
    pub fn open(path: &str, readers: usize, synchronous: &str) -> Result<SqliteDb, StoreError> {
        let open = || -> Result<rusqlite::Connection, StoreError> {
            let c = rusqlite::Connection::open(path).map_err(sqlite_err)?;
            c.busy_timeout(std::time::Duration::from_secs(10))
                .map_err(sqlite_err)?;
            c.execute_batch(&format!("PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON; PRAGMA synchronous={synchronous};"))
                .map_err(sqlite_err)?;
            c.set_prepared_statement_cache_capacity(256);
            Ok(c)
        };
        let writer = Arc::new(Mutex::new(open()?));
        let readers = (0..readers.max(1))
            .map(|_| open().map(|c| Arc::new(Mutex::new(c))))
            .collect::<Result<_, _>>()?;
        Ok(SqliteDb {
            writer,
            readers,
            next: AtomicUsize::new(0),
        })
    }

    /// The writer, in a new `BEGIN IMMEDIATE` transaction.
    pub async fn write(&self) -> Result<SqliteConn, StoreError> {
        let conn = self.writer.clone().lock_owned().await;
        conn.execute_batch("BEGIN IMMEDIATE").map_err(sqlite_err)?;
        Ok(SqliteConn { conn, in_tx: true })
    }

    /// Connections open (the writer and the readers) and how many are in use now.
    pub fn usage(&self) -> (usize, usize) {
        let busy = std::iter::once(&self.writer)
            .chain(&self.readers)
            .filter(|c| c.try_lock().is_err())
            .count();
        (self.readers.len() + 1, busy)
    }

    /// A reader (a free one if there is one).
    pub async fn read(&self) -> Result<SqliteConn, StoreError> {
        for r in &self.readers {
            if let Ok(conn) = r.clone().try_lock_owned() {
                return Ok(SqliteConn { conn, in_tx: false });
            }
        }
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.readers.len();
        Ok(SqliteConn {
            conn: self.readers[i].clone().lock_owned().await,
            in_tx: false,
        })
    }
}

/// A SQLite connection held for one operation.
pub(crate) struct SqliteConn {
    conn: OwnedMutexGuard<rusqlite::Connection>,
    in_tx: bool,
}

impl SqliteConn {
    fn sql(sql: &str) -> String {
        sql.replace('$', "?")
    }
}

impl Drop for SqliteConn {
    fn drop(&mut self) {
        if self.in_tx {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
    }
}

#[async_trait]
impl Conn for SqliteConn {
    async fn exec(&mut self, sql: &str, params: &[Val]) -> Result<u64, StoreError> {
        let mut st = self
            .conn
            .prepare_cached(&Self::sql(sql))
            .map_err(sqlite_err)?;
        let n = st
            .execute(rusqlite::params_from_iter(params.iter()))
            .map_err(sqlite_err)?;
        Ok(n as u64)
    }

    async fn rows(&mut self, sql: &str, params: &[Val]) -> Result<Vec<Row>, StoreError> {
        let mut st = self
            .conn
            .prepare_cached(&Self::sql(sql))
            .map_err(sqlite_err)?;
        let names: Arc<[String]> = st.column_names().iter().map(|s| s.to_string()).collect();
        let n = names.len();
        let mut rows = st
            .query(rusqlite::params_from_iter(params.iter()))
            .map_err(sqlite_err)?;
        let mut out = Vec::new();
        while let Some(r) = rows.next().map_err(sqlite_err)? {
            let mut vals = Vec::with_capacity(n);
            for i in 0..n {
                vals.push(match r.get_ref(i).map_err(sqlite_err)? {
                    ValueRef::Null => Val::NullInt,
                    ValueRef::Integer(v) => Val::Int(v),
                    ValueRef::Real(f) => Val::Int(f as i64),
                    ValueRef::Text(t) | ValueRef::Blob(t) => {
                        Val::Text(String::from_utf8_lossy(t).into_owned())
                    }
                });
            }
            out.push(Row {
                names: names.clone(),
                vals,
            });
        }
        Ok(out)
    }

    async fn commit(&mut self) -> Result<(), StoreError> {
        if self.in_tx {
            self.conn.execute_batch("COMMIT").map_err(sqlite_err)?;
            self.in_tx = false;
        }
        Ok(())
    }

    async fn rollback(&mut self) -> Result<(), StoreError> {
        if self.in_tx {
            self.in_tx = false;
            self.conn.execute_batch("ROLLBACK").map_err(sqlite_err)?;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL

pub(crate) fn pg_err(e: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(d) = &e {
        if d.is_unique_violation() {
            return StoreError::Duplicate(d.message().to_string());
        }
    }
    StoreError::Database(e.to_string())
}

fn bind<'q>(
    mut q: sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>,
    params: &'q [Val],
) -> sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments> {
    for p in params {
        q = match p {
            Val::Int(i) => q.bind(*i),
            Val::Text(s) => q.bind(s.as_str()),
            Val::NullInt => q.bind(None::<i64>),
            Val::NullText => q.bind(None::<String>),
        };
    }
    q
}

fn pg_row(r: &PgRow, names: &Arc<[String]>) -> Result<Row, StoreError> {
    let mut vals = Vec::with_capacity(names.len());
    for (i, c) in r.columns().iter().enumerate() {
        let v = match c.type_info().name() {
            "INT8" => r.try_get::<Option<i64>, _>(i).map_err(pg_err)?.into(),
            "INT4" => r
                .try_get::<Option<i32>, _>(i)
                .map_err(pg_err)?
                .map(i64::from)
                .into(),
            "INT2" => r
                .try_get::<Option<i16>, _>(i)
                .map_err(pg_err)?
                .map(i64::from)
                .into(),
            "BOOL" => r
                .try_get::<Option<bool>, _>(i)
                .map_err(pg_err)?
                .map(i64::from)
                .into(),
            "TEXT" | "VARCHAR" | "BPCHAR" | "NAME" => {
                r.try_get::<Option<String>, _>(i).map_err(pg_err)?.into()
            }
            other => {
                return Err(StoreError::Corrupt(format!(
                    "unexpected column type {other}"
                )))
            }
        };
        vals.push(v);
    }
    Ok(Row {
        names: names.clone(),
        vals,
    })
}

async fn pg_exec(conn: &mut PgConnection, sql: &str, params: &[Val]) -> Result<u64, StoreError> {
    Ok(bind(sqlx::query(sql), params)
        .execute(conn)
        .await
        .map_err(pg_err)?
        .rows_affected())
}

async fn pg_rows(
    conn: &mut PgConnection,
    sql: &str,
    params: &[Val],
) -> Result<Vec<Row>, StoreError> {
    let rows = bind(sqlx::query(sql), params)
        .fetch_all(conn)
        .await
        .map_err(pg_err)?;
    let Some(first) = rows.first() else {
        return Ok(Vec::new());
    };
    let names: Arc<[String]> = first
        .columns()
        .iter()
        .map(|c| c.name().to_string())
        .collect();
    rows.iter().map(|r| pg_row(r, &names)).collect()
}

/// A PostgreSQL connection for one operation: a transaction (writes) or a pooled connection.
pub(crate) enum PgConn {
    /// In a transaction (rolled back if dropped uncommitted).
    Tx(Option<sqlx::Transaction<'static, sqlx::Postgres>>),
    /// Autocommit.
    Plain(sqlx::pool::PoolConnection<sqlx::Postgres>),
}

impl PgConn {
    /// A transaction.
    pub async fn write(pool: &PgPool) -> Result<PgConn, StoreError> {
        Ok(PgConn::Tx(Some(pool.begin().await.map_err(pg_err)?)))
    }
    /// An autocommit connection.
    pub async fn read(pool: &PgPool) -> Result<PgConn, StoreError> {
        Ok(PgConn::Plain(pool.acquire().await.map_err(pg_err)?))
    }
    fn conn(&mut self) -> Result<&mut PgConnection, StoreError> {
        match self {
            PgConn::Tx(Some(tx)) => Ok(&mut **tx),
            PgConn::Tx(None) => Err(StoreError::Database("transaction already finished".into())),
            PgConn::Plain(c) => Ok(&mut **c),
        }
    }
}

#[async_trait]
impl Conn for PgConn {
    async fn exec(&mut self, sql: &str, params: &[Val]) -> Result<u64, StoreError> {
        pg_exec(self.conn()?, sql, params).await
    }
    async fn rows(&mut self, sql: &str, params: &[Val]) -> Result<Vec<Row>, StoreError> {
        pg_rows(self.conn()?, sql, params).await
    }
    async fn commit(&mut self) -> Result<(), StoreError> {
        if let PgConn::Tx(tx) = self {
            if let Some(tx) = tx.take() {
                tx.commit().await.map_err(pg_err)?;
            }
        }
        Ok(())
    }
    async fn rollback(&mut self) -> Result<(), StoreError> {
        if let PgConn::Tx(tx) = self {
            if let Some(tx) = tx.take() {
                tx.rollback().await.map_err(pg_err)?;
            }
        }
        Ok(())
    }
}
