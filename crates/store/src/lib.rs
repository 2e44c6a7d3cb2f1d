//! The one [`Store`] implementation, over SQLite (the embedded default: one file, one writer
//! connection, WAL) or PostgreSQL (several server processes on one database).
//!
//! Every inventory change is a single transaction whose claims are conditional statements
//! (check-and-claim in one statement), so correctness never depends on what a process has in
//! memory. Every operation is written once against [`conn::Conn`]; SQL uses `$n` placeholders.

mod conn;
mod health;
mod schema;
mod startup;
mod visit;

pub use health::{OutboxBacklog, PoolUse};
pub use startup::{lock_database, DatabaseLock, PG_CONNECT_TIMEOUT};

use async_trait::async_trait;
use boxoffice_core::catalog::{Partner, PartnerId, SeatKey, Session, SessionId, Venue, VenueId};
use boxoffice_core::clock::Millis;
use boxoffice_core::order::{
    Booking, BookingId, BookingState, ClientRef, Customer, Order, OrderId, OrderItem, OrderState,
    OrderTicket, Payment,
};
use boxoffice_core::scenic::{
    AccountBalance, AccountMove, CodeUse, IssueOutcome, LedgerEntry, Message, NewVisitOrder,
    OutboxRow, StoredMessage, VerifyCode, VisitChange, VisitOrder, VisitOrderId, VisitOutcome,
    VisitPayment, VisitTicket,
};
use boxoffice_core::store::{
    CancelOutcome, CollectOutcome, CompleteOutcome, HoldOutcome, NewBooking, NewHold, NewItems,
    QuotaClaim, QuotaKey, RefundOutcome, SeatClaim, Store, StoreError, VisitOrderRange,
};
use conn::{Conn, PgConn, Row, SqliteDb, Val};
use rand::Rng;
use sqlx::postgres::{PgPool, PgPoolOptions};
use std::sync::Arc;
use std::time::Duration;

/// Which database a store talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// SQLite.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

impl Dialect {
    /// The dialect of a database URL (`sqlite:…`, `postgres:…`, `postgresql:…`).
    pub fn of_url(url: &str) -> Option<Dialect> {
        if url.starts_with("sqlite:") {
            Some(Dialect::Sqlite)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Some(Dialect::Postgres)
        } else {
            None
        }
    }
}

/// Connection settings.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// Connections in the pool (PostgreSQL), or reader connections (SQLite; writes use one).
    pub max_connections: u32,
    /// SQLite `synchronous` level: `NORMAL` (survives a process crash) or `FULL` (survives power loss).
    pub sqlite_synchronous: String,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            max_connections: 16,
            sqlite_synchronous: "NORMAL".into(),
        }
    }
}

enum Backend {
    Sqlite(SqliteDb),
    Postgres(PgPool),
}

/// A store over SQLite or PostgreSQL.
#[derive(Clone)]
pub struct SqlStore {
    backend: Arc<Backend>,
    /// Set by [`SqlStore::close`]: every later operation fails.
    closed: Arc<std::sync::atomic::AtomicBool>,
    /// The SQLite file (for the readiness check).
    sqlite_file: Option<Arc<str>>,
}

impl std::fmt::Debug for SqlStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqlStore")
            .field("dialect", &self.dialect())
            .finish()
    }
}

fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(what.to_string())
}

/// The file path of a `sqlite:` URL (`sqlite://path`, `sqlite:path`, query string ignored).
fn sqlite_path(url: &str) -> &str {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    rest.split('?').next().unwrap_or(rest)
}

const ORDER_COLUMNS: &str = "id, partner_id, external_ref, venue_id, state, client_class, client_id, client_name, booking_fee, total, created_ms, updated_ms, expires_ms, first_attempt_ms";
const BOOKING_COLUMNS: &str = "b.id, b.order_id, b.number, b.trans_number, b.history_id, b.code, b.created_ms, b.state, b.collected, b.customer_name, b.customer_phone, b.customer_email, b.refunded_ms, b.refund_reason, b.pickup_code, b.fingerprint, b.sales";

impl SqlStore {
    /// Connects, creating the SQLite file if needed, and applies pending migrations.
    pub async fn connect(url: &str, options: &StoreOptions) -> Result<SqlStore, StoreError> {
        let dialect = Dialect::of_url(url).ok_or_else(|| {
            StoreError::Database(format!("unsupported database URL scheme: {}", redact(url)))
        })?;
        let backend = match dialect {
            Dialect::Sqlite => {
                let sync = match options.sqlite_synchronous.to_ascii_uppercase().as_str() {
                    "FULL" => "FULL",
                    "EXTRA" => "EXTRA",
                    _ => "NORMAL",
                };
                let path = sqlite_path(url).to_string();
                startup::prepare_sqlite(&path)?;
                let readers = options.max_connections.max(1) as usize;
                Backend::Sqlite(
                    tokio::task::spawn_blocking(move || SqliteDb::open(&path, readers, sync))
                        .await
                        .map_err(corrupt)??,
                )
            }
            Dialect::Postgres => {
                // One plain connection first: its error says why (the pool would retry until
                // its timeout and only report that).
                startup::pg_probe(url).await?;
                let pool = PgPoolOptions::new()
                    .max_connections(options.max_connections.max(2))
                    .acquire_timeout(Duration::from_secs(30))
                    .connect(url);
                match tokio::time::timeout(PG_CONNECT_TIMEOUT, pool).await {
                    Ok(Ok(pool)) => Backend::Postgres(pool),
                    Ok(Err(e)) => return Err(startup::pg_connect_error(url, Some(e))),
                    Err(_) => return Err(startup::pg_connect_error(url, None)),
                }
            }
        };
        let store = SqlStore {
            backend: Arc::new(backend),
            closed: Arc::default(),
            sqlite_file: (dialect == Dialect::Sqlite).then(|| Arc::from(sqlite_path(url))),
        };
        store.migrate().await?;
        Ok(store)
    }

    /// The dialect.
    pub fn dialect(&self) -> Dialect {
        match &*self.backend {
            Backend::Sqlite(_) => Dialect::Sqlite,
            Backend::Postgres(_) => Dialect::Postgres,
        }
    }

    /// Closes the store: every later operation fails (PostgreSQL connections are closed;
    /// SQLite files close when the store is dropped).
    pub async fn close(&self) {
        self.closed.store(true, std::sync::atomic::Ordering::SeqCst);
        if let Backend::Postgres(pool) = &*self.backend {
            pool.close().await;
        }
    }

    /// A connection in a new write transaction.
    async fn write(&self) -> Result<Box<dyn Conn>, StoreError> {
        self.check_open()?;
        Ok(match &*self.backend {
            Backend::Sqlite(db) => Box::new(db.write().await?),
            Backend::Postgres(pool) => Box::new(PgConn::write(pool).await?),
        })
    }

    /// A connection for reads.
    async fn read(&self) -> Result<Box<dyn Conn>, StoreError> {
        self.check_open()?;
        Ok(match &*self.backend {
            Backend::Sqlite(db) => Box::new(db.read().await?),
            Backend::Postgres(pool) => Box::new(PgConn::read(pool).await?),
        })
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        if self.dialect() == Dialect::Postgres {
            tx.exec("SELECT pg_advisory_xact_lock(7262021)", &[])
                .await?;
        }
        tx.exec("CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_ms BIGINT NOT NULL)", &[])
            .await?;
        let applied: Vec<i64> = tx
            .rows("SELECT version FROM schema_migrations", &[])
            .await?
            .iter()
            .map(|r| r.int("version"))
            .collect::<Result<_, _>>()?;
        let (list, id_column) = match self.dialect() {
            Dialect::Sqlite => (schema::SQLITE, schema::SQLITE_ID),
            Dialect::Postgres => (schema::POSTGRES, schema::POSTGRES_ID),
        };
        for (version, script) in list {
            if applied.contains(version) {
                continue;
            }
            let script = script.replace("{ID}", id_column);
            for stmt in script.split(";\n").map(str::trim).filter(|s| !s.is_empty()) {
                tx.exec(stmt, &[]).await?;
            }
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis() as i64)
                .unwrap_or(0);
            tx.exec(
                "INSERT INTO schema_migrations (version, applied_ms) VALUES ($1, $2)",
                &[(*version).into(), now.into()],
            )
            .await?;
        }
        tx.commit().await
    }
}

async fn tickets_of(conn: &mut dyn Conn, order: OrderId) -> Result<Vec<OrderTicket>, StoreError> {
    conn.rows(
        "SELECT seq, session_id, ticket_type, area_category, price, seat_key, row_name, seat_name FROM order_tickets WHERE order_id = $1 ORDER BY seq",
        &[order.into()],
    )
    .await?
    .iter()
    .map(ticket_from_row)
    .collect()
}

async fn items_of(conn: &mut dyn Conn, order: OrderId) -> Result<Vec<OrderItem>, StoreError> {
    conn.rows("SELECT seq, code, name, count, unit_price, is_package FROM order_items WHERE order_id = $1 ORDER BY seq", &[order.into()])
        .await?
        .iter()
        .map(|r| {
            Ok(OrderItem {
                seq: i32::try_from(r.int("seq")?).map_err(corrupt)?,
                code: r.text("code")?,
                name: r.text("name")?,
                count: r.int("count")?,
                unit_price: r.int("unit_price")?,
                is_package: r.int("is_package")? != 0,
            })
        })
        .collect()
}

fn ticket_from_row(r: &Row) -> Result<OrderTicket, StoreError> {
    Ok(OrderTicket {
        seq: i32::try_from(r.int("seq")?).map_err(corrupt)?,
        session_id: r.int("session_id")?,
        ticket_type: r.text("ticket_type")?,
        area_category: r.text("area_category")?,
        price: r.int("price")?,
        seat: match r.opt_text("seat_key")? {
            Some(k) => Some(SeatKey::decode(&k).ok_or_else(|| corrupt(format!("seat key {k}")))?),
            None => None,
        },
        row_name: r.text("row_name")?,
        seat_name: r.text("seat_name")?,
    })
}

fn order_state(r: &Row) -> Result<OrderState, StoreError> {
    let state = r.text("state")?;
    OrderState::parse(&state).ok_or_else(|| corrupt(format!("order state {state}")))
}

async fn load_order(
    conn: &mut dyn Conn,
    where_: &str,
    params: &[Val],
) -> Result<Option<Order>, StoreError> {
    let Some(r) = conn
        .opt(
            &format!("SELECT {ORDER_COLUMNS} FROM orders WHERE {where_}"),
            params,
        )
        .await?
    else {
        return Ok(None);
    };
    let id = r.int("id")?;
    Ok(Some(Order {
        id,
        partner_id: r.int("partner_id")?,
        external_ref: r.text("external_ref")?,
        venue_id: r.int("venue_id")?,
        state: order_state(&r)?,
        client: ClientRef {
            class: r.text("client_class")?,
            id: r.text("client_id")?,
            name: r.text("client_name")?,
        },
        tickets: tickets_of(conn, id).await?,
        items: items_of(conn, id).await?,
        booking_fee: r.int("booking_fee")?,
        total: r.int("total")?,
        created_ms: r.int("created_ms")?,
        updated_ms: r.int("updated_ms")?,
        expires_ms: r.opt_int("expires_ms")?,
        first_attempt_ms: r.opt_int("first_attempt_ms")?,
    }))
}

async fn load_bookings(
    conn: &mut dyn Conn,
    where_: &str,
    params: &[Val],
) -> Result<Vec<Booking>, StoreError> {
    let rows = conn
        .rows(&format!("SELECT {BOOKING_COLUMNS} FROM bookings b JOIN orders o ON o.id = b.order_id WHERE {where_} ORDER BY b.id"), params)
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let id = r.int("id")?;
        let order = load_order(conn, "id = $1", &[r.int("order_id")?.into()])
            .await?
            .ok_or_else(|| corrupt("booking without order"))?;
        let payments = conn
            .rows("SELECT seq, card_masked, card_type, tender_category, value FROM booking_payments WHERE booking_id = $1 ORDER BY seq", &[id.into()])
            .await?
            .iter()
            .map(|p| {
                Ok(Payment {
                    seq: i32::try_from(p.int("seq")?).map_err(corrupt)?,
                    card_masked: p.text("card_masked")?,
                    card_type: p.text("card_type")?,
                    tender_category: p.text("tender_category")?,
                    value: p.int("value")?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let state = r.text("state")?;
        out.push(Booking {
            id,
            order,
            number: r.int("number")?,
            trans_number: r.int("trans_number")?,
            history_id: r.int("history_id")?,
            code: r.text("code")?,
            created_ms: r.int("created_ms")?,
            state: BookingState::parse(&state)
                .ok_or_else(|| corrupt(format!("booking state {state}")))?,
            collected: r.int("collected")? != 0,
            payments,
            customer: Customer {
                name: r.text("customer_name")?,
                phone: r.text("customer_phone")?,
                email: r.text("customer_email")?,
            },
            refunded_ms: r.opt_int("refunded_ms")?,
            refund_reason: r.opt_text("refund_reason")?,
            pickup_code: r.opt_text("pickup_code")?.unwrap_or_default(),
            fingerprint: r.opt_text("fingerprint")?,
            sales: serde_json::from_str(&r.text("sales")?).map_err(corrupt)?,
        });
    }
    Ok(out)
}

/// Inserts or updates a catalogue document; returns whether it changed.
async fn upsert_doc(
    conn: &mut dyn Conn,
    table: &str,
    code: &str,
    venue: Option<i64>,
    doc: &str,
    now_ms: Millis,
) -> Result<bool, StoreError> {
    let existing = match venue {
        Some(v) => {
            conn.opt(
                &format!("SELECT id, doc FROM {table} WHERE code = $1 AND venue_id = $2"),
                &[code.into(), v.into()],
            )
            .await?
        }
        None => {
            conn.opt(
                &format!("SELECT id, doc FROM {table} WHERE code = $1"),
                &[code.into()],
            )
            .await?
        }
    };
    match existing {
        Some(r) if r.text("doc")? == doc => return Ok(false),
        Some(r) => {
            conn.exec(
                &format!("UPDATE {table} SET doc = $1, updated_ms = $2 WHERE id = $3"),
                &[doc.into(), now_ms.into(), r.int("id")?.into()],
            )
            .await?;
        }
        None => {
            match venue {
                Some(v) => {
                    conn.exec(
                        &format!("INSERT INTO {table} (code, venue_id, doc, updated_ms) VALUES ($1, $2, $3, $4)"),
                        &[code.into(), v.into(), doc.into(), now_ms.into()],
                    )
                    .await?
                }
                None => conn.exec(&format!("INSERT INTO {table} (code, doc, updated_ms) VALUES ($1, $2, $3)"), &[code.into(), doc.into(), now_ms.into()]).await?,
            };
        }
    }
    Ok(true)
}

/// Releases an order's held (unsold) seats; returns the sessions they were in.
async fn release_holds(conn: &mut dyn Conn, order: OrderId) -> Result<Vec<SessionId>, StoreError> {
    let mut sessions: Vec<SessionId> = conn
        .rows(
            "DELETE FROM seat_claims WHERE order_id = $1 AND sold = 0 RETURNING session_id",
            &[order.into()],
        )
        .await?
        .iter()
        .map(|r| r.int("session_id"))
        .collect::<Result<_, _>>()?;
    sessions.sort_unstable();
    sessions.dedup();
    Ok(sessions)
}

/// `($1, $k, $k+1, …), …`: placeholders for a multi-row insert whose rows share `$1`.
fn row_placeholders(rows: usize, per_row: usize, first: usize, shared: &str) -> String {
    (0..rows)
        .map(|i| {
            let cols: Vec<String> = (0..per_row)
                .map(|c| format!("${}", first + i * per_row + c))
                .collect();
            format!("({shared}{})", cols.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A random confirmation code: six upper-case letters and digits.
fn new_code() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::thread_rng();
    (0..6)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect()
}

/// A random ticket-collection code: sixteen digits.
fn new_pickup_code() -> String {
    let mut rng = rand::thread_rng();
    (0..16)
        .map(|_| char::from(b'0' + rng.gen_range(0..10u8)))
        .collect()
}

/// Hides the password of a database URL.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.find('@')) {
        (Some(s), Some(a)) if a > s => {
            let creds = &url[s + 3..a];
            match creds.find(':') {
                Some(c) => format!("{}{}:***{}", &url[..s + 3], &creds[..c], &url[a..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

impl SqlStore {
    async fn try_complete(
        &self,
        b: &NewBooking,
        code: &str,
    ) -> Result<CompleteOutcome, StoreError> {
        let pickup_code = new_pickup_code();
        let mut tx = self.write().await?;
        // Claim the order: open, hold not lapsed, payments equal to the total — one statement.
        let claimed = tx
            .opt(
                "UPDATE orders SET state = 'completed', updated_ms = $3, expires_ms = NULL WHERE partner_id = $1 AND external_ref = $2 AND state IN ('in_progress', 'payment_started') AND expires_ms >= $3 AND total = $4 RETURNING id, venue_id, client_class, client_id, client_name, booking_fee, total, created_ms, first_attempt_ms, (SELECT COUNT(*) FROM order_tickets t WHERE t.order_id = orders.id) AS ticket_count, (SELECT COUNT(*) FROM order_items i WHERE i.order_id = orders.id) AS item_count, (SELECT COUNT(*) FROM order_tickets t WHERE t.order_id = orders.id AND t.seat_key IS NOT NULL) AS seated",
                &[b.partner_id.into(), (&b.external_ref).into(), b.now_ms.into(), b.paid.into()],
            )
            .await?;
        let Some(r) = claimed else {
            tx.rollback().await?;
            drop(tx);
            let mut conn = self.read().await?;
            let order = load_order(
                &mut *conn,
                "partner_id = $1 AND external_ref = $2",
                &[b.partner_id.into(), (&b.external_ref).into()],
            )
            .await?;
            return Ok(match order {
                Some(o) if o.state.is_open() && o.expires_ms.is_some_and(|e| e >= b.now_ms) => {
                    CompleteOutcome::TotalMismatch { expected: o.total }
                }
                _ => CompleteOutcome::NotOpen,
            });
        };
        let order_id = r.int("id")?;
        let item_count = r.int("item_count")?;
        if r.int("ticket_count")? + item_count == 0 {
            tx.rollback().await?;
            return Ok(CompleteOutcome::NotOpen);
        }
        let sold = tx.exec("UPDATE seat_claims SET sold = 1, expires_ms = NULL WHERE order_id = $1 AND sold = 0", &[order_id.into()]).await?;
        if i64::try_from(sold).ok() != Some(r.int("seated")?) {
            tx.rollback().await?;
            drop(tx);
            self.fail(order_id, b.now_ms).await?;
            let mut conn = self.read().await?;
            let sessions = tickets_of(&mut *conn, order_id)
                .await?
                .iter()
                .map(|t| t.session_id)
                .collect();
            return Ok(CompleteOutcome::HoldLost(sessions));
        }
        let venue_id = r.int("venue_id")?;
        // Numbers: PostgreSQL sequences; on SQLite (one writer) the next value after the highest.
        let insert = match self.dialect() {
            Dialect::Postgres => "INSERT INTO bookings (order_id, venue_id, number, trans_number, history_id, code, created_ms, state, collected, customer_name, customer_phone, customer_email, pickup_code, fingerprint, sales) VALUES ($1, $2, nextval('booking_number'), nextval('trans_number'), nextval('history_id'), $3, $4, 'paid', 0, $5, $6, $7, $8, $9, $10) RETURNING id, number, trans_number, history_id",
            Dialect::Sqlite => "INSERT INTO bookings (order_id, venue_id, number, trans_number, history_id, code, created_ms, state, collected, customer_name, customer_phone, customer_email, pickup_code, fingerprint, sales) VALUES ($1, $2, (SELECT COALESCE(MAX(number), 100000) + 1 FROM bookings), (SELECT COALESCE(MAX(trans_number), 300000) + 1 FROM bookings), (SELECT COALESCE(MAX(history_id), 1900000) + 1 FROM bookings), $3, $4, 'paid', 0, $5, $6, $7, $8, $9, $10) RETURNING id, number, trans_number, history_id",
        };
        let row = tx
            .one(
                insert,
                &[
                    order_id.into(),
                    venue_id.into(),
                    code.into(),
                    b.now_ms.into(),
                    (&b.customer.name).into(),
                    (&b.customer.phone).into(),
                    (&b.customer.email).into(),
                    pickup_code.as_str().into(),
                    b.fingerprint.clone().into(),
                    serde_json::to_string(&b.sales).map_err(corrupt)?.into(),
                ],
            )
            .await?;
        let id = row.int("id")?;
        if !b.payments.is_empty() {
            let sql = format!(
                "INSERT INTO booking_payments (booking_id, seq, card_masked, card_type, tender_category, value) VALUES {}",
                row_placeholders(b.payments.len(), 5, 2, "$1, ")
            );
            let mut params: Vec<Val> = vec![id.into()];
            for p in &b.payments {
                params.extend([
                    p.seq.into(),
                    (&p.card_masked).into(),
                    (&p.card_type).into(),
                    (&p.tender_category).into(),
                    p.value.into(),
                ]);
            }
            tx.exec(&sql, &params).await?;
        }
        tx.commit().await?;
        drop(tx);
        let mut conn = self.read().await?;
        let tickets = tickets_of(&mut *conn, order_id).await?;
        let items = if item_count > 0 {
            items_of(&mut *conn, order_id).await?
        } else {
            Vec::new()
        };
        let order = Order {
            id: order_id,
            partner_id: b.partner_id,
            external_ref: b.external_ref.clone(),
            venue_id,
            state: OrderState::Completed,
            client: ClientRef {
                class: r.text("client_class")?,
                id: r.text("client_id")?,
                name: r.text("client_name")?,
            },
            tickets,
            items,
            booking_fee: r.int("booking_fee")?,
            total: r.int("total")?,
            created_ms: r.int("created_ms")?,
            updated_ms: b.now_ms,
            expires_ms: None,
            first_attempt_ms: r.opt_int("first_attempt_ms")?,
        };
        Ok(CompleteOutcome::Completed(Box::new(Booking {
            id,
            order,
            number: row.int("number")?,
            trans_number: row.int("trans_number")?,
            history_id: row.int("history_id")?,
            code: code.to_string(),
            pickup_code,
            fingerprint: b.fingerprint.clone(),
            sales: b.sales.clone(),
            created_ms: b.now_ms,
            state: BookingState::Paid,
            collected: false,
            payments: b.payments.clone(),
            customer: b.customer.clone(),
            refunded_ms: None,
            refund_reason: None,
        })))
    }
}

#[async_trait]
impl Store for SqlStore {
    async fn load_catalog(&self) -> Result<(Vec<Venue>, Vec<Session>, Vec<Partner>), StoreError> {
        let mut conn = self.read().await?;
        let mut venues = Vec::new();
        for r in conn
            .rows("SELECT id, doc FROM venues ORDER BY code", &[])
            .await?
        {
            let mut v: Venue = serde_json::from_str(&r.text("doc")?).map_err(corrupt)?;
            v.id = r.int("id")?;
            venues.push(v);
        }
        let mut sessions = Vec::new();
        for r in conn
            .rows("SELECT id, venue_id, doc FROM sessions", &[])
            .await?
        {
            let mut s: Session = serde_json::from_str(&r.text("doc")?).map_err(corrupt)?;
            s.id = r.int("id")?;
            s.venue_id = r.int("venue_id")?;
            sessions.push(s);
        }
        let mut partners = Vec::new();
        for r in conn
            .rows("SELECT id, doc FROM partners ORDER BY code", &[])
            .await?
        {
            let mut p: Partner = serde_json::from_str(&r.text("doc")?).map_err(corrupt)?;
            p.id = r.int("id")?;
            partners.push(p);
        }
        Ok((venues, sessions, partners))
    }

    async fn apply_catalog(
        &self,
        venues: &[Venue],
        sessions: &[(String, Session)],
        partners: &[Partner],
        now_ms: Millis,
    ) -> Result<usize, StoreError> {
        let mut tx = self.write().await?;
        let mut changed = 0;
        for v in venues {
            let mut v = v.clone();
            v.id = 0;
            let doc = serde_json::to_string(&v).map_err(corrupt)?;
            changed +=
                usize::from(upsert_doc(&mut *tx, "venues", &v.code, None, &doc, now_ms).await?);
        }
        for (venue_code, s) in sessions {
            let venue_id = tx
                .opt(
                    "SELECT id FROM venues WHERE code = $1",
                    &[venue_code.into()],
                )
                .await?
                .ok_or_else(|| {
                    corrupt(format!(
                        "session {} names unknown venue {venue_code}",
                        s.code
                    ))
                })?
                .int("id")?;
            let mut s = s.clone();
            s.id = 0;
            s.venue_id = 0;
            let doc = serde_json::to_string(&s).map_err(corrupt)?;
            changed += usize::from(
                upsert_doc(&mut *tx, "sessions", &s.code, Some(venue_id), &doc, now_ms).await?,
            );
        }
        for p in partners {
            let mut p = p.clone();
            p.id = 0;
            let doc = serde_json::to_string(&p).map_err(corrupt)?;
            changed +=
                usize::from(upsert_doc(&mut *tx, "partners", &p.code, None, &doc, now_ms).await?);
            if !p.accounts.is_empty() {
                let id = tx
                    .one(
                        "SELECT id FROM partners WHERE code = $1",
                        &[(&p.code).into()],
                    )
                    .await?
                    .int("id")?;
                SqlStore::open_accounts(&mut *tx, id, &p.accounts, now_ms).await?;
            }
        }
        tx.commit().await?;
        Ok(changed)
    }

    async fn seat_claims(&self, session: SessionId) -> Result<Vec<SeatClaim>, StoreError> {
        let mut conn = self.read().await?;
        conn.rows(
            "SELECT seat_key, order_id, sold, expires_ms FROM seat_claims WHERE session_id = $1",
            &[session.into()],
        )
        .await?
        .iter()
        .map(|r| {
            let key = r.text("seat_key")?;
            Ok(SeatClaim {
                seat: SeatKey::decode(&key).ok_or_else(|| corrupt(format!("seat key {key}")))?,
                order_id: r.int("order_id")?,
                sold: r.int("sold")? != 0,
                expires_ms: r.opt_int("expires_ms")?,
            })
        })
        .collect()
    }

    async fn hold(&self, h: NewHold) -> Result<HoldOutcome, StoreError> {
        let mut tx = self.write().await?;
        let new_total: i64 = h.tickets.iter().map(|t| t.price).sum();
        // A new order key (the common case) is created in one statement.
        let inserted = tx
            .opt(
                "INSERT INTO orders (partner_id, external_ref, venue_id, state, client_class, client_id, client_name, booking_fee, total, created_ms, updated_ms, expires_ms) VALUES ($1, $2, $3, 'in_progress', $4, $5, $6, $7, $8, $9, $9, $10) ON CONFLICT (partner_id, external_ref) DO NOTHING RETURNING id",
                &[
                    h.partner_id.into(),
                    (&h.external_ref).into(),
                    h.venue_id.into(),
                    (&h.client.class).into(),
                    (&h.client.id).into(),
                    (&h.client.name).into(),
                    h.booking_fee.into(),
                    (h.booking_fee + new_total).into(),
                    h.now_ms.into(),
                    h.expires_ms.into(),
                ],
            )
            .await?;
        let (order_id, kept, items, created_ms) = match inserted {
            Some(r) => (r.int("id")?, Vec::new(), Vec::new(), h.now_ms),
            None => {
                let r = tx
                    .one(
                        "SELECT id, state, venue_id, expires_ms, created_ms FROM orders WHERE partner_id = $1 AND external_ref = $2",
                        &[h.partner_id.into(), (&h.external_ref).into()],
                    )
                    .await?;
                let id = r.int("id")?;
                let state = order_state(&r)?;
                match state {
                    OrderState::Completed | OrderState::Failed => {
                        return Ok(HoldOutcome::OrderClosed)
                    }
                    OrderState::PaymentStarted => return Ok(HoldOutcome::OrderLocked),
                    _ => {}
                }
                let live = state == OrderState::InProgress
                    && r.opt_int("expires_ms")?.is_some_and(|e| e >= h.now_ms);
                if live && r.int("venue_id")? != h.venue_id {
                    return Ok(HoldOutcome::VenueMismatch);
                }
                let kept = if live {
                    // Replace this session's tickets; keep the rest, which live as long as the order.
                    tx.exec("DELETE FROM seat_claims WHERE order_id = $1 AND session_id = $2 AND sold = 0", &[id.into(), h.session_id.into()]).await?;
                    tx.exec(
                        "DELETE FROM order_tickets WHERE order_id = $1 AND session_id = $2",
                        &[id.into(), h.session_id.into()],
                    )
                    .await?;
                    tx.exec(
                        "UPDATE seat_claims SET expires_ms = $2 WHERE order_id = $1 AND sold = 0",
                        &[id.into(), h.expires_ms.into()],
                    )
                    .await?;
                    tickets_of(&mut *tx, id).await?
                } else {
                    // Expired or cancelled: start afresh under the same key.
                    release_holds(&mut *tx, id).await?;
                    tx.exec(
                        "DELETE FROM order_tickets WHERE order_id = $1",
                        &[id.into()],
                    )
                    .await?;
                    Vec::new()
                };
                let items = items_of(&mut *tx, id).await?;
                let total = h.booking_fee
                    + new_total
                    + kept.iter().map(|t| t.price).sum::<i64>()
                    + items.iter().map(|i| i.count * i.unit_price).sum::<i64>();
                tx.exec(
                    "UPDATE orders SET state = 'in_progress', venue_id = $2, client_class = $3, client_id = $4, client_name = $5, updated_ms = $6, expires_ms = $7, booking_fee = $8, total = $9 WHERE id = $1",
                    &[
                        id.into(),
                        h.venue_id.into(),
                        (&h.client.class).into(),
                        (&h.client.id).into(),
                        (&h.client.name).into(),
                        h.now_ms.into(),
                        h.expires_ms.into(),
                        h.booking_fee.into(),
                        total.into(),
                    ],
                )
                .await?;
                (id, kept, items, r.int("created_ms")?)
            }
        };
        // Claim every seat in one conditional upsert: a seat is taken over only if nobody holds
        // it (no row), its hold ran out, or this order holds it already.
        let seats: Vec<String> = h
            .tickets
            .iter()
            .filter_map(|t| t.seat.map(|k| k.encode()))
            .collect();
        if !seats.is_empty() {
            let values: Vec<String> = (0..seats.len())
                .map(|i| format!("($1, ${}, $2, 0, $3)", i + 5))
                .collect();
            let sql = format!(
                "INSERT INTO seat_claims (session_id, seat_key, order_id, sold, expires_ms) VALUES {} \
                 ON CONFLICT (session_id, seat_key) DO UPDATE SET order_id = excluded.order_id, sold = 0, expires_ms = excluded.expires_ms \
                 WHERE seat_claims.sold = 0 AND (seat_claims.expires_ms < $4 OR seat_claims.order_id = excluded.order_id)",
                values.join(", ")
            );
            let mut params: Vec<Val> = vec![
                h.session_id.into(),
                order_id.into(),
                h.expires_ms.into(),
                h.now_ms.into(),
            ];
            params.extend(seats.iter().map(Val::from));
            let claimed = tx.exec(&sql, &params).await?;
            if usize::try_from(claimed).ok() != Some(seats.len()) {
                tx.rollback().await?;
                return Ok(HoldOutcome::SeatsTaken);
            }
        }
        let first_seq = kept.iter().map(|t| t.seq).max().unwrap_or(0) + 1;
        let mut tickets = kept;
        for (i, t) in h.tickets.iter().enumerate() {
            let mut t = t.clone();
            t.seq = first_seq + i32::try_from(i).map_err(corrupt)?;
            tickets.push(t);
        }
        let new = &tickets[tickets.len() - h.tickets.len()..];
        if !new.is_empty() {
            let sql = format!(
                "INSERT INTO order_tickets (order_id, seq, session_id, ticket_type, area_category, price, seat_key, row_name, seat_name) VALUES {}",
                row_placeholders(new.len(), 8, 2, "$1, ")
            );
            let mut params: Vec<Val> = vec![order_id.into()];
            for t in new {
                params.extend([
                    t.seq.into(),
                    t.session_id.into(),
                    (&t.ticket_type).into(),
                    (&t.area_category).into(),
                    t.price.into(),
                    t.seat.map(|k| k.encode()).into(),
                    (&t.row_name).into(),
                    (&t.seat_name).into(),
                ]);
            }
            tx.exec(&sql, &params).await?;
        }
        tx.commit().await?;
        let total = h.booking_fee
            + tickets.iter().map(|t| t.price).sum::<i64>()
            + items.iter().map(|i| i.count * i.unit_price).sum::<i64>();
        Ok(HoldOutcome::Held(Box::new(Order {
            id: order_id,
            partner_id: h.partner_id,
            external_ref: h.external_ref,
            venue_id: h.venue_id,
            state: OrderState::InProgress,
            client: h.client,
            tickets,
            items,
            booking_fee: h.booking_fee,
            total,
            created_ms,
            updated_ms: h.now_ms,
            expires_ms: Some(h.expires_ms),
            first_attempt_ms: None,
        })))
    }

    async fn claim_quotas(&self, claims: &[QuotaClaim]) -> Result<bool, StoreError> {
        // One lock order for every transaction, so concurrent multi-quota claims cannot deadlock.
        let mut claims: Vec<&QuotaClaim> = claims.iter().collect();
        claims.sort_by(|a, b| {
            (a.key.venue_id, &a.key.product, &a.key.date, a.key.segment).cmp(&(
                b.key.venue_id,
                &b.key.product,
                &b.key.date,
                b.key.segment,
            ))
        });
        let mut tx = self.write().await?;
        for c in claims {
            // One statement claims the units if they fit, whether the row exists yet or not.
            if !visit::claim_one(&mut *tx, c).await? {
                tx.rollback().await?;
                return Ok(false);
            }
        }
        tx.commit().await?;
        Ok(true)
    }

    async fn release_quotas(&self, claims: &[QuotaClaim]) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        for c in claims {
            tx.exec(
                "UPDATE day_quotas SET used = CASE WHEN used > $5 THEN used - $5 ELSE 0 END WHERE venue_id = $1 AND product = $2 AND visit_date = $3 AND segment = $4",
                &[c.key.venue_id.into(), (&c.key.product).into(), (&c.key.date).into(), c.key.segment.into(), c.units.into()],
            )
            .await?;
        }
        tx.commit().await
    }

    async fn quota_used(&self, key: &QuotaKey) -> Result<i64, StoreError> {
        let mut conn = self.read().await?;
        Ok(conn
            .opt(
                "SELECT used FROM day_quotas WHERE venue_id = $1 AND product = $2 AND visit_date = $3 AND segment = $4",
                &[key.venue_id.into(), (&key.product).into(), (&key.date).into(), key.segment.into()],
            )
            .await?
            .map(|r| r.int("used"))
            .transpose()?
            .unwrap_or(0))
    }

    async fn add_items(&self, n: NewItems) -> Result<HoldOutcome, StoreError> {
        let mut tx = self.write().await?;
        let added: i64 = n.items.iter().map(|i| i.count * i.unit_price).sum();
        let inserted = tx
            .opt(
                "INSERT INTO orders (partner_id, external_ref, venue_id, state, client_class, client_id, client_name, booking_fee, total, created_ms, updated_ms, expires_ms) VALUES ($1, $2, $3, 'in_progress', $4, $5, $6, 0, 0, $7, $7, $8) ON CONFLICT (partner_id, external_ref) DO NOTHING RETURNING id",
                &[
                    n.partner_id.into(),
                    (&n.external_ref).into(),
                    n.venue_id.into(),
                    (&n.client.class).into(),
                    (&n.client.id).into(),
                    (&n.client.name).into(),
                    n.now_ms.into(),
                    n.expires_ms.into(),
                ],
            )
            .await?;
        let order_id = match inserted {
            Some(r) => r.int("id")?,
            None => {
                let r = tx
                    .one(
                        "SELECT id, state, venue_id, expires_ms FROM orders WHERE partner_id = $1 AND external_ref = $2",
                        &[n.partner_id.into(), (&n.external_ref).into()],
                    )
                    .await?;
                match order_state(&r)? {
                    OrderState::Completed
                    | OrderState::Failed
                    | OrderState::Cancelled
                    | OrderState::Expired => return Ok(HoldOutcome::OrderClosed),
                    OrderState::PaymentStarted => return Ok(HoldOutcome::OrderLocked),
                    OrderState::InProgress => {}
                }
                if r.opt_int("expires_ms")?.is_none_or(|e| e < n.now_ms) {
                    return Ok(HoldOutcome::OrderClosed);
                }
                if r.int("venue_id")? != n.venue_id {
                    return Ok(HoldOutcome::VenueMismatch);
                }
                r.int("id")?
            }
        };
        let next: i64 = tx
            .one(
                "SELECT COALESCE(MAX(seq), 0) AS n FROM order_items WHERE order_id = $1",
                &[order_id.into()],
            )
            .await?
            .int("n")?;
        let sql = format!(
            "INSERT INTO order_items (order_id, seq, code, name, count, unit_price, is_package) VALUES {}",
            row_placeholders(n.items.len(), 6, 2, "$1, ")
        );
        let mut params: Vec<Val> = vec![order_id.into()];
        for (i, item) in n.items.iter().enumerate() {
            params.extend([
                (next + 1 + i as i64).into(),
                (&item.code).into(),
                (&item.name).into(),
                item.count.into(),
                item.unit_price.into(),
                i64::from(item.is_package).into(),
            ]);
        }
        tx.exec(&sql, &params).await?;
        tx.exec(
            "UPDATE orders SET total = total + $2, updated_ms = $3 WHERE id = $1",
            &[order_id.into(), added.into(), n.now_ms.into()],
        )
        .await?;
        let order = load_order(&mut *tx, "id = $1", &[order_id.into()])
            .await?
            .ok_or_else(|| corrupt("order vanished"))?;
        tx.commit().await?;
        Ok(HoldOutcome::Held(Box::new(order)))
    }

    async fn order_ref(
        &self,
        partner: PartnerId,
        external_ref: &str,
    ) -> Result<Option<(OrderId, OrderState)>, StoreError> {
        let mut conn = self.read().await?;
        match conn
            .opt(
                "SELECT id, state FROM orders WHERE partner_id = $1 AND external_ref = $2",
                &[partner.into(), external_ref.into()],
            )
            .await?
        {
            None => Ok(None),
            Some(r) => Ok(Some((r.int("id")?, order_state(&r)?))),
        }
    }

    async fn order_by_id(&self, id: OrderId) -> Result<Option<Order>, StoreError> {
        let mut conn = self.read().await?;
        load_order(&mut *conn, "id = $1", &[id.into()]).await
    }

    async fn order(
        &self,
        partner: PartnerId,
        external_ref: &str,
    ) -> Result<Option<Order>, StoreError> {
        let mut conn = self.read().await?;
        load_order(
            &mut *conn,
            "partner_id = $1 AND external_ref = $2",
            &[partner.into(), external_ref.into()],
        )
        .await
    }

    async fn note_attempt(&self, order: OrderId, now_ms: Millis) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        tx.exec(
            "UPDATE orders SET first_attempt_ms = $2 WHERE id = $1 AND first_attempt_ms IS NULL",
            &[order.into(), now_ms.into()],
        )
        .await?;
        tx.commit().await
    }

    async fn start_payment(
        &self,
        order: OrderId,
        now_ms: Millis,
        expires_ms: Millis,
    ) -> Result<bool, StoreError> {
        let mut tx = self.write().await?;
        let n = tx
            .exec(
                "UPDATE orders SET state = 'payment_started', updated_ms = $2, expires_ms = $3 WHERE id = $1 AND state IN ('in_progress', 'payment_started') AND expires_ms >= $2",
                &[order.into(), now_ms.into(), expires_ms.into()],
            )
            .await?;
        if n == 1 {
            tx.exec(
                "UPDATE seat_claims SET expires_ms = $2 WHERE order_id = $1 AND sold = 0",
                &[order.into(), expires_ms.into()],
            )
            .await?;
        }
        tx.commit().await?;
        Ok(n == 1)
    }

    async fn cancel(&self, order: OrderId, now_ms: Millis) -> Result<CancelOutcome, StoreError> {
        let mut tx = self.write().await?;
        let state = match tx
            .opt("SELECT state FROM orders WHERE id = $1", &[order.into()])
            .await?
        {
            Some(r) => Some(order_state(&r)?),
            None => None,
        };
        let outcome = match state {
            Some(OrderState::Completed) => CancelOutcome::AlreadyCompleted,
            Some(s) if s.is_open() => {
                tx.exec(
                    "UPDATE orders SET state = 'cancelled', updated_ms = $2, expires_ms = NULL WHERE id = $1 AND state IN ('in_progress', 'payment_started')",
                    &[order.into(), now_ms.into()],
                )
                .await?;
                release_holds(&mut *tx, order).await?;
                CancelOutcome::Cancelled
            }
            _ => CancelOutcome::NothingToCancel,
        };
        tx.commit().await?;
        Ok(outcome)
    }

    async fn fail(&self, order: OrderId, now_ms: Millis) -> Result<bool, StoreError> {
        let mut tx = self.write().await?;
        let n = tx
            .exec(
                "UPDATE orders SET state = 'failed', updated_ms = $2, expires_ms = NULL WHERE id = $1 AND state IN ('in_progress', 'payment_started')",
                &[order.into(), now_ms.into()],
            )
            .await?;
        release_holds(&mut *tx, order).await?;
        tx.commit().await?;
        Ok(n == 1)
    }

    async fn complete(&self, b: NewBooking) -> Result<CompleteOutcome, StoreError> {
        // A confirmation code collision (one in ~10^9) aborts the transaction; try a new code.
        let mut last = None;
        for _ in 0..5 {
            match self.try_complete(&b, &new_code()).await {
                Err(StoreError::Duplicate(e)) => last = Some(e),
                other => return other,
            }
        }
        Err(StoreError::Duplicate(last.unwrap_or_default()))
    }

    async fn booking_by_number(
        &self,
        venue: VenueId,
        number: i64,
    ) -> Result<Option<Booking>, StoreError> {
        let mut conn = self.read().await?;
        Ok(load_bookings(
            &mut *conn,
            "b.venue_id = $1 AND b.number = $2",
            &[venue.into(), number.into()],
        )
        .await?
        .pop())
    }

    async fn booking_by_pickup_code(&self, code: &str) -> Result<Option<Booking>, StoreError> {
        let mut conn = self.read().await?;
        Ok(
            load_bookings(&mut *conn, "b.pickup_code = $1", &[code.into()])
                .await?
                .pop(),
        )
    }

    async fn refunds_in_session(
        &self,
        session: SessionId,
        except_reason: &str,
    ) -> Result<i64, StoreError> {
        let mut conn = self.read().await?;
        conn.one(
            "SELECT COUNT(*) AS n FROM bookings b WHERE b.state = 'refunded' AND COALESCE(b.refund_reason, '') <> $2 AND EXISTS (SELECT 1 FROM order_tickets t WHERE t.order_id = b.order_id AND t.session_id = $1)",
            &[session.into(), except_reason.into()],
        )
        .await?
        .int("n")
    }

    async fn booking_by_code(&self, code: &str) -> Result<Option<Booking>, StoreError> {
        let mut conn = self.read().await?;
        Ok(load_bookings(&mut *conn, "b.code = $1", &[code.into()])
            .await?
            .pop())
    }

    async fn bookings_by_order_ref(
        &self,
        partner: PartnerId,
        external_ref: &str,
    ) -> Result<Vec<Booking>, StoreError> {
        let mut conn = self.read().await?;
        load_bookings(
            &mut *conn,
            "o.partner_id = $1 AND o.external_ref = $2",
            &[partner.into(), external_ref.into()],
        )
        .await
    }

    async fn refund(
        &self,
        booking: BookingId,
        reason: &str,
        now_ms: Millis,
    ) -> Result<RefundOutcome, StoreError> {
        let mut tx = self.write().await?;
        let n = tx
            .exec(
                "UPDATE bookings SET state = 'refunded', refunded_ms = $2, refund_reason = $3 WHERE id = $1 AND state = 'paid' AND collected = 0",
                &[booking.into(), now_ms.into(), reason.into()],
            )
            .await?;
        let b = load_bookings(&mut *tx, "b.id = $1", &[booking.into()])
            .await?
            .pop()
            .ok_or_else(|| corrupt("booking vanished"))?;
        if n != 1 {
            tx.rollback().await?;
            return Ok(if b.state == BookingState::Refunded {
                RefundOutcome::AlreadyRefunded
            } else {
                RefundOutcome::Collected
            });
        }
        tx.exec(
            "DELETE FROM seat_claims WHERE order_id = $1",
            &[b.order.id.into()],
        )
        .await?;
        tx.commit().await?;
        Ok(RefundOutcome::Refunded(Box::new(b)))
    }

    async fn collect(
        &self,
        booking: BookingId,
        _now_ms: Millis,
    ) -> Result<CollectOutcome, StoreError> {
        let mut tx = self.write().await?;
        tx.exec(
            "UPDATE bookings SET collected = 1 WHERE id = $1 AND state = 'paid'",
            &[booking.into()],
        )
        .await?;
        let b = load_bookings(&mut *tx, "b.id = $1", &[booking.into()])
            .await?
            .pop()
            .ok_or_else(|| corrupt("booking vanished"))?;
        tx.commit().await?;
        Ok(if b.state == BookingState::Refunded {
            CollectOutcome::Refunded
        } else {
            CollectOutcome::Collected(Box::new(b))
        })
    }

    async fn expire_orders(&self, now_ms: Millis) -> Result<Vec<SessionId>, StoreError> {
        let mut tx = self.write().await?;
        let ids: Vec<i64> = tx
            .rows("UPDATE orders SET state = 'expired', updated_ms = $1 WHERE state = 'in_progress' AND expires_ms < $1 RETURNING id", &[now_ms.into()])
            .await?
            .iter()
            .map(|r| r.int("id"))
            .collect::<Result<_, _>>()?;
        let mut sessions = Vec::new();
        for id in ids {
            sessions.extend(release_holds(&mut *tx, id).await?);
        }
        tx.commit().await?;
        sessions.sort_unstable();
        sessions.dedup();
        Ok(sessions)
    }

    async fn quota_usage(
        &self,
        venue: VenueId,
        from: &str,
        to: &str,
    ) -> Result<Vec<(QuotaKey, i64)>, StoreError> {
        self.quota_usage_of(venue, from, to).await
    }

    async fn create_visit_order(&self, order: NewVisitOrder) -> Result<VisitOutcome, StoreError> {
        self.create_visit(order).await
    }

    async fn change_visit_order(&self, change: VisitChange) -> Result<VisitOutcome, StoreError> {
        self.change_visit(change).await
    }

    async fn visit_order(&self, id: VisitOrderId) -> Result<Option<VisitOrder>, StoreError> {
        Ok(self
            .visit_where("id = $1", &[id.into()])
            .await?
            .into_iter()
            .next())
    }

    async fn visit_order_by_number(&self, number: &str) -> Result<Option<VisitOrder>, StoreError> {
        Ok(self
            .visit_where("number = $1", &[number.into()])
            .await?
            .into_iter()
            .next())
    }

    async fn visit_order_by_ref(
        &self,
        partner: PartnerId,
        external_ref: &str,
    ) -> Result<Option<VisitOrder>, StoreError> {
        Ok(self
            .visit_where(
                "partner_id = $1 AND external_ref = $2",
                &[partner.into(), external_ref.into()],
            )
            .await?
            .into_iter()
            .next())
    }

    async fn visit_orders(
        &self,
        partner: PartnerId,
        range: VisitOrderRange,
    ) -> Result<Vec<VisitOrder>, StoreError> {
        self.visit_range(partner, range).await
    }

    async fn due_visit_orders(
        &self,
        now_ms: Millis,
        limit: i64,
    ) -> Result<Vec<VisitOrder>, StoreError> {
        self.visit_where(
            "expires_ms IS NOT NULL AND expires_ms <= $1 AND state IN ('booked', 'deposit_authorized', 'rebate_authorized', 'paid') ORDER BY expires_ms, id LIMIT $2",
            &[now_ms.into(), limit.into()],
        )
        .await
    }

    async fn accounts(&self, partner: PartnerId) -> Result<Vec<AccountBalance>, StoreError> {
        self.accounts_of(partner).await
    }

    async fn move_account(
        &self,
        partner: PartnerId,
        change: AccountMove,
        actor: &str,
        now_ms: Millis,
    ) -> Result<Option<LedgerEntry>, StoreError> {
        self.move_account_of(partner, change, actor, now_ms).await
    }

    async fn ledger(
        &self,
        partner: PartnerId,
        account: Option<&str>,
    ) -> Result<Vec<LedgerEntry>, StoreError> {
        self.ledger_of(partner, account).await
    }

    async fn partner_settings(
        &self,
        partner: PartnerId,
        protocol: &str,
    ) -> Result<serde_json::Map<String, serde_json::Value>, StoreError> {
        self.settings_of(partner, protocol).await
    }

    async fn update_partner_settings(
        &self,
        partner: PartnerId,
        protocol: &str,
        patch: serde_json::Map<String, serde_json::Value>,
        now_ms: Millis,
    ) -> Result<serde_json::Map<String, serde_json::Value>, StoreError> {
        self.update_settings(partner, protocol, patch, now_ms).await
    }

    async fn outbox(
        &self,
        partner: Option<PartnerId>,
        order: Option<VisitOrderId>,
    ) -> Result<Vec<OutboxRow>, StoreError> {
        self.outbox_of(partner, order).await
    }

    async fn messages(
        &self,
        phone: Option<&str>,
        order: Option<VisitOrderId>,
    ) -> Result<Vec<StoredMessage>, StoreError> {
        self.messages_of(phone, order).await
    }

    async fn visit_ticket(
        &self,
        code: &str,
    ) -> Result<Option<(VisitOrderId, VisitTicket)>, StoreError> {
        self.visit_ticket_of(code).await
    }

    async fn issue_code(
        &self,
        code: VerifyCode,
        min_interval_ms: i64,
        max_per_day: i64,
        day_start_ms: Millis,
        venue: VenueId,
        message: Message,
    ) -> Result<IssueOutcome, StoreError> {
        self.issue_code_of(
            code,
            min_interval_ms,
            max_per_day,
            day_start_ms,
            venue,
            message,
        )
        .await
    }

    async fn verify_code(
        &self,
        partner: PartnerId,
        purpose: &str,
        subject: &str,
    ) -> Result<Option<VerifyCode>, StoreError> {
        self.verify_code_of(partner, purpose, subject).await
    }

    async fn code_wrong_try(
        &self,
        partner: PartnerId,
        purpose: &str,
        subject: &str,
        max_wrong: i64,
    ) -> Result<i64, StoreError> {
        self.code_wrong_try_of(partner, purpose, subject, max_wrong)
            .await
    }

    async fn use_code(
        &self,
        partner: PartnerId,
        code: &CodeUse,
        now_ms: Millis,
    ) -> Result<bool, StoreError> {
        self.use_code_of(partner, code, now_ms).await
    }

    async fn add_message(
        &self,
        venue: VenueId,
        partner: Option<PartnerId>,
        order: Option<VisitOrderId>,
        message: Message,
        now_ms: Millis,
    ) -> Result<(), StoreError> {
        self.add_message_of(venue, partner, order, message, now_ms)
            .await
    }

    async fn lease_outbox(
        &self,
        protocol: &str,
        now_ms: Millis,
        lease_until: Millis,
        limit: i64,
    ) -> Result<Vec<OutboxRow>, StoreError> {
        self.lease_outbox_of(protocol, now_ms, lease_until, limit)
            .await
    }

    async fn finish_outbox(
        &self,
        id: i64,
        state: &str,
        next_ms: Millis,
        error: &str,
    ) -> Result<(), StoreError> {
        self.finish_outbox_of(id, state, next_ms, error).await
    }

    async fn lease_messages(
        &self,
        now_ms: Millis,
        lease_until: Millis,
        limit: i64,
    ) -> Result<Vec<StoredMessage>, StoreError> {
        self.lease_messages_of(now_ms, lease_until, limit).await
    }

    async fn mark_message_sent(&self, id: i64, now_ms: Millis) -> Result<(), StoreError> {
        self.mark_message_sent_of(id, now_ms).await
    }

    async fn add_visit_payment(&self, payment: VisitPayment) -> Result<(), StoreError> {
        self.add_visit_payment_of(payment).await
    }

    async fn visit_payment(&self, out_trade_no: &str) -> Result<Option<VisitPayment>, StoreError> {
        Ok(self
            .visit_payments_where("out_trade_no = $1", &[out_trade_no.into()])
            .await?
            .into_iter()
            .next())
    }

    async fn visit_payments(&self, order: VisitOrderId) -> Result<Vec<VisitPayment>, StoreError> {
        self.visit_payments_where("order_id = $1", &[order.into()])
            .await
    }

    async fn settle_visit_payment(
        &self,
        out_trade_no: &str,
        state: &str,
        platform_no: &str,
        now_ms: Millis,
    ) -> Result<bool, StoreError> {
        self.settle_visit_payment_of(out_trade_no, state, platform_no, now_ms)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_understood_and_redacted() {
        assert_eq!(sqlite_path("sqlite:///tmp/a.db?mode=rwc"), "/tmp/a.db");
        assert_eq!(sqlite_path("sqlite:rel.db"), "rel.db");
        assert_eq!(Dialect::of_url("postgresql://x/y"), Some(Dialect::Postgres));
        assert_eq!(Dialect::of_url("mysql://x"), None);
        assert_eq!(redact("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
    }

    #[test]
    fn placeholders_for_multi_row_inserts() {
        assert_eq!(
            row_placeholders(2, 2, 2, "$1, "),
            "($1, $2, $3), ($1, $4, $5)"
        );
    }
}
