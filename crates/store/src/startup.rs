//! Opening a database with errors that say what is wrong: the SQLite directory created when
//! missing, a read-only directory named, an unreachable PostgreSQL server named by host and port
//! within [`PG_CONNECT_TIMEOUT`], and one server process per SQLite file ([`lock_database`]).

use crate::{sqlite_path, Dialect};
use boxoffice_core::store::StoreError;
use std::fs::{File, OpenOptions, TryLockError};
use std::io::{ErrorKind, Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

/// How long a start waits for PostgreSQL before it says the server cannot be reached.
pub const PG_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

fn database(message: String) -> StoreError {
    StoreError::Database(message)
}

/// Why a file or directory could not be written, in an operator's words.
fn reason(e: &std::io::Error) -> String {
    match e.kind() {
        ErrorKind::PermissionDenied => format!("permission denied ({e})"),
        ErrorKind::ReadOnlyFilesystem => format!("the file system is read-only ({e})"),
        _ => e.to_string(),
    }
}

/// Makes sure a SQLite database file can be created or written: creates its directory when
/// missing and says which directory is read-only when it is.
pub(crate) fn prepare_sqlite(path: &str) -> Result<(), StoreError> {
    if path.is_empty() || path == ":memory:" {
        return Ok(());
    }
    let file = Path::new(path);
    let dir = match file.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir).map_err(|e| {
        database(format!(
            "cannot create the database directory {}: {}",
            dir.display(),
            reason(&e)
        ))
    })?;
    // SQLite writes `-wal`/`-shm` files next to the database: the directory must be writable,
    // not only the file. Creating the (empty) database file tells both when it is missing.
    let probe = if file.exists() {
        dir.join(format!(".boxoffice-probe-{}", std::process::id()))
    } else {
        file.to_path_buf()
    };
    let created = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .open(&probe);
    if let Err(e) = created {
        return Err(database(format!(
            "the database directory {} is not writable: {} (SQLite needs to create {} and its -wal/-shm files there)",
            dir.display(),
            reason(&e),
            file.display()
        )));
    }
    if probe != file {
        let _ = std::fs::remove_file(&probe);
    }
    let meta = std::fs::metadata(file)
        .map_err(|e| database(format!("cannot read {}: {}", file.display(), reason(&e))))?;
    if meta.permissions().readonly() && OpenOptions::new().write(true).open(file).is_err() {
        return Err(database(format!(
            "the database file {} is read-only",
            file.display()
        )));
    }
    Ok(())
}

/// `host:port` of a PostgreSQL URL (for messages; never the password).
pub(crate) fn pg_address(url: &str) -> String {
    match sqlx::postgres::PgConnectOptions::from_str(url) {
        Ok(o) => format!("{}:{}", o.get_host(), o.get_port()),
        Err(_) => crate::redact(url),
    }
}

/// The error of a PostgreSQL connection attempt, naming the server.
pub(crate) fn pg_connect_error(url: &str, e: Option<sqlx::Error>) -> StoreError {
    let at = pg_address(url);
    match e {
        None => database(format!(
            "PostgreSQL at {at} did not answer within {} s",
            PG_CONNECT_TIMEOUT.as_secs()
        )),
        Some(e @ sqlx::Error::Database(_)) => {
            database(format!("PostgreSQL at {at} refused the connection: {e}"))
        }
        Some(e) => database(format!("cannot connect to PostgreSQL at {at}: {e}")),
    }
}

/// Opens and closes one connection within [`PG_CONNECT_TIMEOUT`], naming the server when it
/// fails.
pub(crate) async fn pg_probe(url: &str) -> Result<(), StoreError> {
    use sqlx::Connection;
    match tokio::time::timeout(PG_CONNECT_TIMEOUT, sqlx::PgConnection::connect(url)).await {
        Ok(Ok(c)) => {
            let _ = c.close().await;
            Ok(())
        }
        Ok(Err(e)) => Err(pg_connect_error(url, Some(e))),
        Err(_) => Err(pg_connect_error(url, None)),
    }
}

/// An exclusive claim on a SQLite database by one server process, released when dropped (or
/// when the process ends, however it ends: the operating system drops the lock).
#[derive(Debug)]
pub struct DatabaseLock {
    _file: File,
    path: PathBuf,
}

impl DatabaseLock {
    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Claims a SQLite database for this process: an exclusive advisory lock on `<db>.lock`
/// (created, with its directory, when missing). A second server on the same file is refused
/// with a message naming the file and the process holding it. PostgreSQL needs no claim
/// (`Ok(None)`): any number of servers may share one database.
pub fn lock_database(url: &str) -> Result<Option<DatabaseLock>, StoreError> {
    if Dialect::of_url(url) != Some(Dialect::Sqlite) {
        return Ok(None);
    }
    let db = sqlite_path(url);
    if db.is_empty() || db == ":memory:" {
        return Ok(None);
    }
    prepare_sqlite(db)?;
    let path = PathBuf::from(format!("{db}.lock"));
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|e| {
            database(format!(
                "cannot create the lock file {}: {}",
                path.display(),
                reason(&e)
            ))
        })?;
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            let holder = match holder.trim() {
                "" => String::new(),
                pid => format!(" (process {pid})"),
            };
            return Err(database(format!(
                "the SQLite database {db} is in use by another boxoffice server{holder}: {} is locked. \
                 One server process per SQLite file; stop the other one, or use PostgreSQL to run several",
                path.display()
            )));
        }
        Err(TryLockError::Error(e)) => {
            return Err(database(format!(
                "cannot lock {}: {}",
                path.display(),
                reason(&e)
            )))
        }
    }
    // The holder's process id, for the message a second server prints.
    let _ = file.set_len(0);
    let _ = file.rewind();
    let _ = write!(file, "{}", std::process::id());
    let _ = file.flush();
    Ok(Some(DatabaseLock { _file: file, path }))
}
