//! What the server reports about its database: whether it answers (readiness), how busy its
//! connections are, and how far behind the callback outbox is.

use crate::{Backend, SqlStore};
use boxoffice_core::clock::Millis;
use boxoffice_core::store::StoreError;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// How long a readiness check waits for the database.
const PING_TIMEOUT: Duration = Duration::from_secs(2);

/// Database connections: open, in use, and the most the pool may open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolUse {
    /// Connections open.
    pub open: usize,
    /// Connections in use.
    pub busy: usize,
    /// The most the pool may open.
    pub max: usize,
}

/// The callback outbox: items waiting, and the creation time of the oldest that is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutboxBacklog {
    /// Pending items (due or scheduled for a retry).
    pub pending: i64,
    /// Creation time of the oldest pending item whose time has come (`None`: none is due).
    pub oldest_due_created_ms: Option<Millis>,
}

impl SqlStore {
    /// Fails when the store was closed.
    pub(crate) fn check_open(&self) -> Result<(), StoreError> {
        if self.closed.load(Ordering::SeqCst) {
            return Err(StoreError::Database("the store is closed".into()));
        }
        Ok(())
    }

    /// Whether the database answers a trivial query within two seconds (and, for SQLite,
    /// whether its file is still there).
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.check_open()?;
        if let Some(path) = self.sqlite_file.as_deref().filter(|p| *p != ":memory:") {
            if !std::path::Path::new(path).exists() {
                return Err(StoreError::Database(format!(
                    "the database file {path} is gone"
                )));
            }
        }
        let query = async {
            let mut c = self.read().await?;
            c.rows("SELECT 1 AS one", &[]).await.map(|_| ())
        };
        match tokio::time::timeout(PING_TIMEOUT, query).await {
            Ok(r) => r,
            Err(_) => Err(StoreError::Database(format!(
                "no answer within {} s",
                PING_TIMEOUT.as_secs()
            ))),
        }
    }

    /// The connections' use now.
    pub fn pool_use(&self) -> PoolUse {
        match &*self.backend {
            Backend::Sqlite(db) => {
                let (open, busy) = db.usage();
                PoolUse {
                    open,
                    busy,
                    max: open,
                }
            }
            Backend::Postgres(pool) => {
                let open = pool.size() as usize;
                PoolUse {
                    open,
                    busy: open.saturating_sub(pool.num_idle()),
                    max: pool.options().get_max_connections() as usize,
                }
            }
        }
    }

    /// The callback outbox's backlog at `now_ms`.
    pub async fn outbox_backlog(&self, now_ms: Millis) -> Result<OutboxBacklog, StoreError> {
        let rows = self
            .read()
            .await?
            .rows(
                "SELECT COUNT(*) AS pending, MIN(CASE WHEN next_ms <= $1 THEN created_ms END) AS oldest FROM outbox WHERE state = 'pending'",
                &[now_ms.into()],
            )
            .await?;
        let Some(row) = rows.first() else {
            return Ok(OutboxBacklog {
                pending: 0,
                oldest_due_created_ms: None,
            });
        };
        Ok(OutboxBacklog {
            pending: row.int("pending")?,
            oldest_due_created_ms: row.opt_int("oldest")?,
        })
    }
}
